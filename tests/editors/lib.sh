# Shared by the real-editor tests (run-neovim.sh, run-emacs.sh), which source it after setting
# `repo` (the repository root, also the working directory) and `script` (their own name).

# parse_args "$@": sets self_check to 1 for --self-check, 0 for no argument; else usage.
parse_args() {
  self_check=0
  case "${1:-}" in
    --self-check) self_check=1 ;;
    "") ;;
    *) echo "usage: $script [--self-check]" >&2; exit 2 ;;
  esac
}

# build_server: builds the server binary (honouring CARGO_TARGET_DIR) and sets `server`.
build_server() {
  cargo build --quiet --bin threat-analyzer
  local target_dir=${CARGO_TARGET_DIR:-$repo/target}
  case "$target_dir" in /*) ;; *) target_dir="$repo/$target_dir" ;; esac
  server="$target_dir/debug/threat-analyzer"
  [ -x "$server" ] || { echo "$script: no server binary at $server" >&2; exit 1; }
}

# make_scratch: a scratch directory in `tmp`, removed on exit.
make_scratch() {
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
}

# new_workspace NAME: copies examples/webshop to $tmp/NAME/webshop with a `.git` (the project
# root marker of a real checkout) and prints the copy's path.
new_workspace() {
  local ws="$tmp/$1/webshop"
  mkdir -p "$tmp/$1"
  cp -R "$repo/examples/webshop" "$ws"
  mkdir "$ws/.git"
  echo "$ws"
}

# run_self_check RUNNER: proves the test can fail. RUNNER NAME [ENV=VALUE...] runs the editor
# test; with the exposure expected on line 50 (it is on 49) it must fail, and say so.
run_self_check() {
  local runner=$1
  echo "== self-check: expecting the exposure on line 50 (wrong) must fail"
  if "$runner" self-check TA_EXPECT_LINE=50 | tee "$tmp/self-check.out"; then
    echo "$script: self-check FAILED: the test passed with a wrong expected line" >&2
    exit 1
  fi
  if ! grep -q '^FAIL diagnostics: unmitigated-exposure at 49:7, want 50:7$' "$tmp/self-check.out"; then
    echo "$script: self-check FAILED: the diagnostics check did not report the wrong line" >&2
    exit 1
  fi
  echo "== self-check: OK (the test fails when the expectation is wrong)"
}
