#!/usr/bin/env bash
# strace and nm (binutils) for tests/no_exec_no_network.rs: it traces runs for program starts
# and sockets, and lists the functions the binary imports. Idempotent.
set -euo pipefail
missing=()
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v nm >/dev/null 2>&1 || missing+=(binutils)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
