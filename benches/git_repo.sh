#!/bin/bash
# Builds a git repository for timing `vcs::GitRepository::snapshot` (examples/snapshot.rs): the
# dense corpus (gen_corpus.py) committed, then 49 commits that each append a line to 10 of its
# files (50 commits), packed with `git gc` as a clone is (LOOSE=1 keeps every object loose).
#
#   benches/git_repo.sh [OUT]    (default /tmp/threat-analyzer-git-bench)
#   cargo build --release --example snapshot
#   /usr/bin/time -v target/release/examples/snapshot OUT HEAD~1
set -euo pipefail
out=${1:-/tmp/threat-analyzer-git-bench}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out"
mkdir -p "$out"
python3 "$here/gen_corpus.py" dense "$out" >/dev/null
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 HOME="$out"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_AUTHOR_DATE='@1767225600 +0000'
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com GIT_COMMITTER_DATE='@1767225600 +0000'
cd "$out"
git init --quiet --initial-branch=main
git add --all
git commit --quiet --message "dense corpus"
mapfile -t sources < <(find src -name '*.c' | sort)
for i in $(seq 2 50); do
  for f in "${sources[@]:$((i * 10)):10}"; do
    echo "// edit $i" >>"$f"
  done
  git commit --quiet --all --message "edit $i"
done
[ "${LOOSE:-0}" = 1 ] || git gc --quiet
echo "$out: $(git rev-list --count HEAD) commits, $(git ls-files | wc -l) files"
