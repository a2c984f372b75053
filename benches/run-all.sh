#!/usr/bin/env bash
# Every benchmark in one run, one Markdown report:
#
#   benches/run-all.sh [WORK_DIR]          (default: bench-out/ at the repository root, gitignored)
#
# 1. benches/compare.sh: threat-analyzer check (cold, warm, --no-cache) vs threatspec 0.5.0 vs rg
#    on the dense, dense-gal, sparse, huge and mixed corpora, with budgets and growth;
# 2. benches/lsp_replay.py on the dense and the huge corpus (cold and warm start, request
#    latencies, typing, memory);
# 3. with MICRO=1, the micro-benchmarks (`cargo bench --bench micro`).
#
# The report goes to standard output and WORK_DIR/report.md. The environment variables of
# compare.sh apply (THREAT_ANALYZER, RUNS, TS_RUNS, TS_SLOW_RUNS, SKIP_THREATSPEC, CORPORA), plus
# LSP_CORPORA (default "dense huge") and LSP_ARGS (extra lsp_replay.py arguments).
#
# Timings on a busy machine are not worth publishing: the script prints the load average before
# and after, and warns when the 1-minute load is above 1.5 before it starts.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(realpath -m "${1:-$ROOT/bench-out}")
LSP_CORPORA=${LSP_CORPORA:-dense huge}
mkdir -p "$WORK"
log() { printf '== %s\n' "$*" >&2; }

load=$(cut -d' ' -f1 /proc/loadavg)
if python3 -c "import sys; sys.exit(0 if float('$load') > 1.5 else 1)"; then
    log "warning: load average $load > 1.5: other work will inflate wall times"
fi

TA=${THREAT_ANALYZER:-}
if [ -z "$TA" ]; then
    log "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet)
    TA="${CARGO_TARGET_DIR:-$ROOT/target}/release/threat-analyzer"
fi
TA=$(realpath "$TA")

THREAT_ANALYZER="$TA" "$ROOT/benches/compare.sh" "$WORK" > /dev/null

for c in $LSP_CORPORA; do
    log "LSP replay on the $c corpus"
    # shellcheck disable=SC2086 # LSP_ARGS is a list of arguments
    python3 "$ROOT/benches/lsp_replay.py" --server "$TA" --corpus-kind "$c" --work "$WORK/lsp-$c" \
        ${LSP_ARGS:-} > /dev/null || log "LSP replay on $c failed (see $WORK/lsp-$c/)"
done

if [ "${MICRO:-0}" = 1 ]; then
    log "micro-benchmarks (cargo bench --bench micro)"
    (cd "$ROOT" && cargo bench --quiet --bench micro) > "$WORK/micro.txt" 2>&1 || log "cargo bench failed"
fi

{
    echo "# threat-analyzer benchmarks"
    echo
    printf -- '- date: %s\n' "$(date -Iseconds)"
    printf -- '- machine: %s cores (%s), %s memory, Linux %s\n' "$(nproc)" \
        "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
        "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)" "$(uname -r)"
    printf -- '- binary: %s (%s)\n' "$TA" "$("$TA" --version)"
    printf -- '- commit: %s\n' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    printf -- '- command: benches/run-all.sh (RUNS=%s TS_RUNS=%s TS_SLOW_RUNS=%s)\n' \
        "${RUNS:-5}" "${TS_RUNS:-${RUNS:-5}}" "${TS_SLOW_RUNS:-1}"
    echo
    cat "$WORK/results.md"
    for c in $LSP_CORPORA; do
        echo
        cat "$WORK/lsp-$c/results.md" 2>/dev/null || echo "(LSP replay on $c: no results)"
    done
    if [ -f "$WORK/micro.txt" ]; then
        echo
        echo "## Micro-benchmarks (cargo bench --bench micro)"
        echo
        echo '```text'
        grep -v '^\s*$' "$WORK/micro.txt"
        echo '```'
    fi
} | tee "$WORK/report.md"
