#!/usr/bin/env bash
# Real-editor test: Emacs in batch mode loads the shipped editors/emacs/threat-analyzer-eglot.el,
# starts the language server through Eglot on a copy of examples/webshop and checks that the
# unmitigated-exposure diagnostic reaches flymake, that completion after `#` lists threat ids,
# that go-to-definition (xref) jumps to the threat's definition, and that the server accepts
# Eglot's `shutdown` (params null) and exits (tests/editors/emacs/test.el).
#
#   tests/editors/run-emacs.sh                 build, then test
#   tests/editors/run-emacs.sh --self-check    also prove the test can fail (expects a wrong line)
#
# Emacs and Eglot come from Debian (emacs-nox: Emacs 28.2, elpa-eglot: Eglot 1.9), installed
# here with apt-get when missing (as root). Without them and without root, the test fails under
# CI=true and is skipped with a reason otherwise.
# Environment: CARGO_TARGET_DIR is honoured; EMACS=/path/to/emacs picks another Emacs.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
script=run-emacs.sh
cd "$repo"
. tests/editors/lib.sh
parse_args "$@"

EMACS=${EMACS:-emacs}
have_eglot() {
  command -v "$EMACS" >/dev/null 2>&1 &&
    "$EMACS" --batch --eval "(progn (package-initialize) (require 'eglot))" >/dev/null 2>&1
}

# 1. Emacs with Eglot.
if ! have_eglot; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing emacs-nox and elpa-eglot"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends emacs-nox elpa-eglot >/dev/null ||
      { apt-get update -qq && apt-get install -y -qq --no-install-recommends emacs-nox elpa-eglot >/dev/null; }
  fi
  if ! have_eglot; then
    reason="$EMACS with Eglot is not installed (apt-get install emacs-nox elpa-eglot, as root)"
    if [ "${CI:-}" = true ]; then
      echo "run-emacs.sh: FAIL: $reason" >&2
      exit 1
    fi
    echo "run-emacs.sh: SKIP: $reason"
    exit 0
  fi
fi

# 2. The server.
build_server

# 3. A scratch workspace (a copy of examples/webshop with a `.git`, so project.el finds its root)
#    and a scratch HOME and cache, so nothing of the user's is read or written.
make_scratch

# run_emacs NAME [ENV=VALUE...]: runs test.el; prints its PASS/FAIL lines; returns Emacs' status.
run_emacs() {
  local name=$1
  shift
  local ws
  ws=$(new_workspace "$name")
  mkdir -p "$tmp/$name/home" "$tmp/$name/cache"
  local status=0
  (
    cd "$ws"
    env "$@" HOME="$tmp/$name/home" XDG_CACHE_HOME="$tmp/$name/cache" \
      TA_REPO="$repo" TA_SERVER="$server" \
      timeout 300 "$EMACS" --batch -l "$repo/tests/editors/emacs/test.el" 2>"$tmp/$name/stderr"
  ) || status=$?
  return $status
}

print_stderr() {
  echo "---- Emacs messages ($1, last 100 lines) ----"
  tail -n 100 "$tmp/$1/stderr" || true
  echo "---- end of Emacs messages ----"
}

if [ "$self_check" = 1 ]; then
  run_self_check run_emacs
fi

echo "== emacs: $("$EMACS" --version | head -n 1), server: $server"
if run_emacs main; then
  echo "run-emacs.sh: PASS"
else
  status=$?
  print_stderr main
  echo "run-emacs.sh: FAIL (emacs exited with $status)" >&2
  exit 1
fi
