#!/bin/bash
# `diff HEAD~1` next to `check` (issue 16's target: under 2x `check`), on the repository
# benches/git_repo.sh builds: ROUNDS x 9 interleaved runs of `check` (warm cache), `diff HEAD~1`
# and, when given, another build's `diff HEAD~1`; `/usr/bin/time` wall, CPU (user + system)
# and peak RSS, min / median; the load average before and after each round. Each build has its
# own index cache directory (a cache written by another build is rebuilt cold).
#
#   benches/git_repo.sh /tmp/bench-git
#   benches/diff_vs_check.sh /tmp/bench-git NEW_BINARY [OLD_BINARY] [ROUNDS]
#
# Instructions, which do not depend on the load (run each command twice first to warm its cache):
#   valgrind --tool=callgrind --callgrind-out-file=/dev/null NEW_BINARY check
set -eu
repo=$1; new=$2; old=${3:-}; rounds=${4:-3}
raw=$(mktemp); cache=$(mktemp -d)
cd "$repo"
run() { env XDG_CACHE_HOME="$cache/$1" "$2" "${@:3}"; }
for _ in 1 2; do run new "$new" check >/dev/null 2>&1 || true; [ -z "$old" ] || run old "$old" check >/dev/null 2>&1 || true; done
for _ in $(seq "$rounds"); do
  uptime
  for _ in $(seq 9); do
    /usr/bin/time -f "check %e %U %S %M" env XDG_CACHE_HOME="$cache/new" "$new" check >/dev/null 2>>"$raw" || true
    /usr/bin/time -f "diff %e %U %S %M" env XDG_CACHE_HOME="$cache/new" "$new" diff HEAD~1 >/dev/null 2>>"$raw" || true
    [ -z "$old" ] || /usr/bin/time -f "diff-old %e %U %S %M" env XDG_CACHE_HOME="$cache/old" "$old" diff HEAD~1 >/dev/null 2>>"$raw" || true
  done
done
uptime
python3 - "$raw" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) == 5 and p[0] in ("check", "diff", "diff-old"):
        runs[p[0]].append(tuple(map(float, p[1:])))
for name, v in runs.items():
    wall = [x[0] for x in v]; cpu = [x[1] + x[2] for x in v]; rss = [x[3] / 1024 for x in v]
    print(f"{name:9} wall {min(wall):.2f} / {statistics.median(wall):.2f} s  "
          f"CPU {min(cpu):.2f} / {statistics.median(cpu):.2f} s  RSS {min(rss):.0f}-{max(rss):.0f} MB  n={len(v)}")
PY
rm -rf "$raw" "$cache"
