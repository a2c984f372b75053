#!/usr/bin/env bash
# Speed comparison: `threat-analyzer check` vs `threatspec run` (PyPI threatspec 0.5.0) vs `rg`,
# on the same trees, in the same run.
#
#   benches/compare.sh [WORK_DIR]          (default: bench-out/ at the repository root, gitignored)
#
# Corpora (generated deterministically by benches/gen_corpus.py, python3 stdlib only):
#   dense   2,000 C files x 10 ThreatSpec 0.5 relations in `//` comments (20,000 relations) plus
#           src/catalog.c with 100 definitions
#   sparse  a copy of this machine's Python standard library (site-packages and __pycache__
#           excluded), ThreatSpec annotations injected as `#` comments into every 100th .py file
#
# Targets (from the issue): dense: threat-analyzer >= 20x faster than threatspec;
#                           sparse: threat-analyzer within 3x of rg.
#
# Environment:
#   THREAT_ANALYZER  path of the binary to measure (default: cargo build --release, then
#                    target/release/threat-analyzer). If it has no working `check`, its rows
#                    say "n/a" and everything else is still measured.
#   RUNS             timed runs per tool and corpus (default 5; the median is reported)
#   TS_RUNS          timed runs of threatspec (default: RUNS)
#   SKIP_THREATSPEC=1  do not install or run threatspec
#   SKIP_BUILD=1       do not run cargo build
#   CORPORA          which corpora, default "dense sparse"
#
# Needs: python3 (with venv), /usr/bin/time (Debian package `time`), rg (`ripgrep`), and for
# threatspec's python-magic dependency the C library libmagic (`libmagic1`). Missing Debian
# packages are installed with apt-get when running as root.
#
# threatspec 0.5.0 quirks this script works around (see benches/README.md):
#   - needs `setuptools<81` (it imports pkg_resources);
#   - `threatspec run` loads the threatmodel/*.json of the previous run and does not create the
#     threatmodel/ folder: the folder is emptied and recreated before every run (untimed);
#   - one undecodable file aborts the whole run: the sparse threatspec.yaml ignores the
#     standard library's non-UTF-8 / un-tokenizable .txt test files;
#   - files are chosen by libmagic: .py files that libmagic calls text/plain are skipped, so
#     threatspec finds fewer annotations than were injected into the sparse corpus.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(realpath -m "${1:-$ROOT/bench-out}")
RUNS=${RUNS:-5}
TS_RUNS=${TS_RUNS:-$RUNS}
CORPORA=${CORPORA:-dense sparse}
VENV="$ROOT/.venv-bench"
RG_PATTERN='@(mitigates|exposes|accepts|transfers|connects|component|threat|control|review|tests)\b'

log() { printf '== %s\n' "$*" >&2; }

# --- tools -----------------------------------------------------------------------------------
need_pkgs=()
[ -x /usr/bin/time ] || need_pkgs+=(time)
command -v rg >/dev/null 2>&1 || need_pkgs+=(ripgrep)
if [ "${SKIP_THREATSPEC:-0}" != 1 ] && ! ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1'; then
    need_pkgs+=(libmagic1)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing ${need_pkgs[*]}"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
    else
        echo "missing: ${need_pkgs[*]} (install them, e.g. apt-get install ${need_pkgs[*]})" >&2
        exit 2
    fi
fi
RG=$(command -v rg)

TS_OK=0
if [ "${SKIP_THREATSPEC:-0}" != 1 ]; then
    if [ ! -x "$VENV/bin/threatspec" ]; then
        log "creating $VENV with threatspec 0.5.0"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q 'threatspec==0.5.0' 'setuptools<81'
    fi
    if "$VENV/bin/threatspec" --help >/dev/null 2>&1; then
        TS_OK=1
    else
        log "threatspec does not start; its rows will say n/a:"
        "$VENV/bin/threatspec" --help 2>&1 | tail -3 >&2 || true
    fi
fi

TA=${THREAT_ANALYZER:-}
if [ -z "$TA" ]; then
    TA="$ROOT/target/release/threat-analyzer"
    if [ "${SKIP_BUILD:-0}" != 1 ]; then
        log "cargo build --release"
        (cd "$ROOT" && cargo build --release --quiet) || log "cargo build failed; threat-analyzer rows will say n/a"
    fi
fi
TA_OK=0
# A stub binary (the scaffold's `fn main() {}`) exits 0 for anything: require real help text.
if [ -x "$TA" ] && "$TA" check --help 2>&1 | grep -q -- '--format'; then
    TA_OK=1
else
    log "no working '$TA check'; threat-analyzer rows will say n/a"
fi

# --- corpora ---------------------------------------------------------------------------------
mkdir -p "$WORK"
for c in $CORPORA; do
    log "generating $c corpus in $WORK/$c"
    python3 "$ROOT/benches/gen_corpus.py" "$c" "$WORK/$c" > "$WORK/$c.gen.json"
done

# --- measuring -------------------------------------------------------------------------------
cut -d' ' -f1-3 /proc/loadavg > "$WORK/loadavg.before"
RESULTS="$WORK/results.tsv"
printf 'corpus\ttool\trun\texit\twall\tuser\tsys\tmaxrss_kb\n' > "$RESULTS"

# measure CORPUS TOOL RUNS OK_EXIT_CODES PREP -- CMD...
#   One untimed warm-up run, then RUNS timed runs in $WORK/CORPUS. PREP (a shell snippet) runs
#   untimed before each run. Exit codes outside OK_EXIT_CODES (space-separated) are recorded and
#   reported but do not stop the script.
measure() {
    local corpus=$1 tool=$2 runs=$3 ok=$4 prep=$5
    shift 6
    local dir="$WORK/$corpus" logs="$WORK/logs/$corpus-$tool"
    mkdir -p "$logs"
    log "$corpus: $tool x $runs (+1 warm-up)"
    local i rc
    for i in $(seq 0 "$runs"); do
        (cd "$dir" && eval "$prep")
        set +e
        t0=$EPOCHREALTIME
        (cd "$dir" && /usr/bin/time -f '%e %U %S %M' -o "$logs/time.$i" "$@" \
            > "$logs/stdout.$i" 2> "$logs/stderr.$i")
        rc=$?
        t1=$EPOCHREALTIME
        set -e
        if ! [[ " $ok " == *" $rc "* ]]; then
            log "$corpus/$tool run $i exited $rc (see $logs/stderr.$i)"
        fi
        [ "$i" = 0 ] && continue
        # Wall time from bash's microsecond clock (GNU time's %e has 10 ms resolution, too coarse
        # for rg); CPU and peak RSS from GNU time.
        read -r _ user sys rss < <(grep -E '^[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+$' "$logs/time.$i" | tail -1)
        wall=$(python3 -c "print('%.4f' % ($t1 - $t0))")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$corpus" "$tool" "$i" "$rc" "$wall" "$user" "$sys" "$rss" >> "$RESULTS"
    done
}

for c in $CORPORA; do
    measure "$c" rg "$RUNS" "0 1" ":" -- "$RG" -c "$RG_PATTERN" src
    (cd "$WORK/$c" && "$RG" --files src | wc -l) > "$WORK/$c.rg-files"
    if [ "$TA_OK" = 1 ]; then
        measure "$c" threat-analyzer "$RUNS" "0 1" ":" -- "$TA" check --format json src
    fi
    if [ "$TS_OK" = 1 ]; then
        measure "$c" threatspec "$TS_RUNS" "0" "rm -rf threatmodel && mkdir threatmodel" -- "$VENV/bin/threatspec" run
    fi
done

cut -d' ' -f1-3 /proc/loadavg > "$WORK/loadavg.after"

# --- report ----------------------------------------------------------------------------------
python3 - "$WORK" "$CORPORA" "$TA_OK" "$TS_OK" "$RUNS" "$TS_RUNS" <<'PY' | tee "$WORK/results.md"
import json, os, statistics, sys

work, corpora, ta_ok, ts_ok, runs, ts_runs = sys.argv[1:7]
corpora = corpora.split()
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(work, "results.tsv"))][1:]
TOOLS = ["threat-analyzer", "threatspec", "rg"]


def stats(corpus, tool):
    rs = [r for r in rows if r[0] == corpus and r[1] == tool]
    if not rs:
        return None
    wall = statistics.median(float(r[4]) for r in rs)
    cpu = statistics.median(float(r[5]) + float(r[6]) for r in rs)
    rss = max(int(r[7]) for r in rs) / 1024
    bad = sorted({r[3] for r in rs if r[3] not in ("0", "1")})
    return {"wall": wall, "cpu": cpu, "rss": rss, "runs": len(rs), "bad_exit": bad,
            "exits": sorted({r[3] for r in rs})}


def last_stdout(corpus, tool):
    d = os.path.join(work, "logs", "%s-%s" % (corpus, tool))
    runs_ = sorted((int(f.split(".")[1]) for f in os.listdir(d) if f.startswith("stdout.")), reverse=True)
    return open(os.path.join(d, "stdout.%d" % runs_[0]), encoding="utf-8", errors="replace").read()


def counts_rg(corpus):
    out = last_stdout(corpus, "rg")
    per_file = [int(l.rsplit(":", 1)[1]) for l in out.splitlines() if ":" in l]
    files = int(open(os.path.join(work, corpus + ".rg-files")).read().strip() or 0)
    return {"files scanned": files, "files with annotations": len(per_file),
            "annotation lines": sum(per_file)}


RELATIONS = ["mitigations", "exposures", "acceptances", "transfers", "flows", "reviews", "tests"]


def counts_ta(corpus):
    try:
        doc = json.loads(last_stdout(corpus, "threat-analyzer"))
    except Exception as e:  # noqa: BLE001 - report, do not fail
        return {"error": "output is not JSON (%s)" % e}
    s = doc.get("summary", {}) if isinstance(doc, dict) else {}
    out = {"files scanned": s.get("files_scanned"), "files with annotations": s.get("files_with_annotations"),
           "annotations": s.get("annotations")}
    if all(k in s for k in RELATIONS):
        out["relations"] = sum(s[k] for k in RELATIONS)
    out["definitions (threats+controls+assets)"] = sum(s.get(k, 0) for k in ("threats", "controls", "assets"))
    out["diagnostics (errors/warnings/notes)"] = "%s/%s/%s" % (s.get("errors"), s.get("warnings"), s.get("notes"))
    return out


def counts_ts(corpus):
    d = os.path.join(work, corpus, "threatmodel")
    try:
        tm = json.load(open(os.path.join(d, "threatmodel.json")))
    except Exception as e:  # noqa: BLE001
        return {"error": "no threatmodel.json (%s)" % e}
    rel = {k: len(v) for k, v in tm.items() if isinstance(v, list)}
    files = {x["source"]["filename"] for v in tm.values() if isinstance(v, list) for x in v}
    out = {"files with annotations": len(files), "relations": sum(rel.values())}
    for lib in ("threats", "controls", "components"):
        try:
            out[lib] = len(json.load(open(os.path.join(d, lib + ".json")))[lib])
        except Exception:  # noqa: BLE001
            pass
    out["by kind"] = ", ".join("%s %d" % kv for kv in rel.items())
    return out


def fmt(x, digits=3):
    return "n/a" if x is None else ("%.*f" % (digits, x))


def ratio(a, b):
    if a is None or b is None or b["wall"] <= 0:
        return "n/a"
    return "%.3g" % (a["wall"] / b["wall"])


load = [open(os.path.join(work, "loadavg." + w)).read().strip() for w in ("before", "after")]
print("## threat-analyzer vs threatspec vs rg (%d cores)\n" % os.cpu_count())
print("Load average (1/5/15 min) before: %s, after: %s. Wall times are noisy when other work "
      "runs on the machine; CPU times much less so.\n" % tuple(load))
print("Median of %s timed runs (threatspec: %s) after one warm-up run; CPU = median user+sys; "
      "peak RSS = max over runs. Ratios are this row's wall time divided by the reference's "
      "(below 1 = faster than the reference).\n" % (runs, ts_runs))
print("| corpus | tool | median wall s | CPU s | peak RSS MB | ratio vs rg | ratio vs threatspec |")
print("|---|---|---:|---:|---:|---:|---:|")
summary = {}
for c in corpora:
    st = {t: stats(c, t) for t in TOOLS}
    summary[c] = st
    for t in TOOLS:
        s = st[t]
        if s is None:
            print("| %s | %s | n/a | n/a | n/a | n/a | n/a |" % (c, t))
            continue
        note = "" if not s["bad_exit"] else " (exit %s!)" % ",".join(s["bad_exit"])
        print("| %s | %s%s | %s | %s | %.1f | %s | %s |" % (
            c, t, note, fmt(s["wall"]), fmt(s["cpu"]), s["rss"], ratio(s, st["rg"]), ratio(s, st["threatspec"])))
print()
print("### Targets\n")
d = summary.get("dense", {})
if d.get("threat-analyzer") and d.get("threatspec"):
    sp = d["threatspec"]["wall"] / d["threat-analyzer"]["wall"]
    print("- dense: threatspec / threat-analyzer = %.1fx (target >= 20x): %s" % (sp, "PASS" if sp >= 20 else "FAIL"))
else:
    print("- dense: threatspec / threat-analyzer: n/a")
s_ = summary.get("sparse", {})
if s_.get("threat-analyzer") and s_.get("rg"):
    r = s_["threat-analyzer"]["wall"] / s_["rg"]["wall"]
    print("- sparse: threat-analyzer / rg = %.2fx (target <= 3x): %s" % (r, "PASS" if r <= 3 else "FAIL"))
else:
    print("- sparse: threat-analyzer / rg: n/a")
print()
print("### What each tool found\n")
for c in corpora:
    gen = json.load(open(os.path.join(work, c + ".gen.json")))
    print("- **%s** generated: %s" % (c, ", ".join("%s %s" % (k, v) for k, v in sorted(gen.items()) if k != "corpus")))
    print("  - rg: %s" % ", ".join("%s %s" % kv for kv in counts_rg(c).items()))
    if summary[c].get("threat-analyzer"):
        print("  - threat-analyzer: %s" % ", ".join("%s %s" % kv for kv in counts_ta(c).items()))
    if summary[c].get("threatspec"):
        print("  - threatspec: %s" % ", ".join("%s %s" % kv for kv in counts_ts(c).items()))
dt, ds = counts_ta("dense") if summary.get("dense", {}).get("threat-analyzer") else {}, \
    counts_ts("dense") if summary.get("dense", {}).get("threatspec") else {}
if dt.get("relations") is not None and ds.get("relations") is not None:
    same = dt["relations"] == ds["relations"]
    print("\nSanity (dense): relations threat-analyzer %s, threatspec %s: %s" % (
        dt["relations"], ds["relations"], "same" if same else "DIFFERENT"))
PY
log "results: $WORK/results.md (raw: $WORK/results.tsv, logs: $WORK/logs/)"
