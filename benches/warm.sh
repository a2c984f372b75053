#!/usr/bin/env bash
# Warm-cache benchmark (issue 17): cold, warm and "warm after touching 1% of the files" runs of
# `check --format json src` next to `rg -c PATTERN src`, per corpus, plus a byte-for-byte
# comparison of cold and warm output in every format (human, json, sarif).
#
#   benches/warm.sh BIN CORPUS_DIR...      # each CORPUS_DIR holds src/ (benches/gen_corpus.py)
#   RUNS=7 benches/warm.sh target/release/threat-analyzer /tmp/fc-dense /tmp/fc-mixed
#
# Per row: median wall (ms), median CPU (user+sys, ms, GNU time), peak RSS (MB), ratio to rg's
# median wall. "touch 1%": before every timed run, the mtime of every 100th file (sorted
# order) is moved, so each run re-reads and re-verifies those files (content unchanged) and
# rewrites the cache when one of them is trusted by stat alone (a file without annotations;
# an annotated file is read and verified on every run, so its entry is kept as it is). Prints
# the load average before and after: wall times on a shared machine are inflated by waiting
# for a core, CPU times much less.
set -euo pipefail
BIN=$(realpath "$1"); shift
RUNS=${RUNS:-7}
PATTERN='@(mitigates|exposes|accepts|transfers|connects|component|threat|control|review|tests|asset|flows|boundary|validates|audit)\b'
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| corpus | run | median wall ms | median CPU ms | peak RSS MB | vs rg (wall) | vs rg (CPU) |"
echo "|---|---|---:|---:|---:|---:|---:|"

# measure NAME PREP -- CMD...: RUNS timed runs (after one untimed), PREP run before each.
measure() {
    local prep=$1; shift
    "$@" >/dev/null 2>&1 || true
    : > "$TMP/times"
    for _ in $(seq "$RUNS"); do
        eval "$prep"
        /usr/bin/time -f '%e %U %S %M' -o "$TMP/t" "$@" >/dev/null 2>&1 || true
        cat "$TMP/t" >> "$TMP/times"
    done
    python3 - "$TMP/times" <<'EOF'
import sys, statistics
# GNU time also writes "Command exited with non-zero status 1" (check found findings).
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l[:1].isdigit()]
wall = statistics.median(r[0] for r in rows) * 1000
cpu = statistics.median(r[1] + r[2] for r in rows) * 1000
rss = max(r[3] for r in rows) / 1024
print(f"{wall:.0f} {cpu:.0f} {rss:.1f}")
EOF
}

for dir in "$@"; do
    name=$(basename "$dir")
    cd "$dir"
    export THREAT_ANALYZER_CACHE_DIR="$TMP/cache-$name"
    rm -rf "$THREAT_ANALYZER_CACHE_DIR"
    # Byte-identical output: cold (no cache file) vs warm, every format.
    for format in human json sarif; do
        rm -rf "$THREAT_ANALYZER_CACHE_DIR"
        "$BIN" check --format "$format" --no-color src > "$TMP/cold.$format" 2>/dev/null || true
        "$BIN" check --format "$format" --no-color src > "$TMP/warm.$format" 2>/dev/null || true
        if ! cmp -s "$TMP/cold.$format" "$TMP/warm.$format"; then
            echo "$name: warm $format output differs from cold" >&2
            exit 1
        fi
    done
    find src -type f | sort | awk 'NR % 100 == 1' > "$TMP/touch-$name"
    read -r rg_wall rg_cpu rg_rss < <(measure : rg -c "$PATTERN" src)
    row() {
        read -r wall cpu rss
        python3 -c "print(f'| $name | $1 | $wall | $cpu | $rss | {$wall/$rg_wall:.2f}x | {$cpu/max($rg_cpu,1):.2f}x |')"
    }
    measure "rm -rf '$THREAT_ANALYZER_CACHE_DIR'" "$BIN" check --format json src | row "cold (empty cache)"
    "$BIN" check --format json src >/dev/null 2>&1 || true
    measure : "$BIN" check --format json src | row "warm (unchanged)"
    measure "xargs touch < '$TMP/touch-$name'" "$BIN" check --format json src | row "warm, 1% touched"
    echo "$rg_wall $rg_cpu $rg_rss" | row "rg"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cold and warm output byte-identical in human, json and sarif on every corpus"
