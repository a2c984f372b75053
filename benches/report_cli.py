#!/usr/bin/env python3
"""The Markdown report of benches/compare.sh (python3 standard library only).

    report_cli.py WORK_DIR "CORPUS ..."

Reads WORK_DIR/results.tsv (one line per timed run: corpus, tool, run, exit, wall s, user s,
sys s, max RSS KiB, and for an rg run the row whose runs it alternated with),
WORK_DIR/<corpus>.gen.json and the runs' stdout in WORK_DIR/logs/, and
prints one table (median wall time, median CPU, peak RSS, ratios to rg and threatspec), the
budgets with PASS/MISS, how cost grows from dense to huge, and what each tool found.
"""
import json
import os
import statistics
import sys

TOOLS = [
    ("ta-cold", "threat-analyzer check, cold (empty cache)"),
    ("ta-warm", "threat-analyzer check, warm (cache present)"),
    ("ta-touch", "threat-analyzer check, warm, 1% of files touched (mtime)"),
    ("ta-edit", "threat-analyzer check, warm, 1% of files edited (facts changed)"),
    ("ta-nocache", "threat-analyzer check --no-cache"),
    ("threatspec", "threatspec 0.5.0 run"),
    ("rg", "rg (the I/O floor)"),
]
RELATIONS = ["mitigations", "exposures", "acceptances", "transfers", "flows", "reviews", "tests"]


def load_rows(work):
    with open(os.path.join(work, "results.tsv")) as fh:
        return [line.rstrip("\n").split("\t") for line in fh][1:]


def stats(rows, corpus, tool, beside=None):
    """The runs of TOOL on CORPUS; with BESIDE, only those timed alternately with BESIDE's."""
    rs = [r for r in rows if r[0] == corpus and r[1] == tool
          and (beside is None or (len(r) > 8 and r[8] == beside))]
    if not rs:
        return None
    return {
        "wall": statistics.median(float(r[4]) for r in rs),
        "cpu": statistics.median(float(r[5]) + float(r[6]) for r in rs),
        "rss": max(int(r[7]) for r in rs) / 1024,
        "runs": len(rs),
        # check exits 1 on findings; threatspec's only success is 0.
        "bad_exit": sorted({r[3] for r in rs if r[3] not in (("0",) if tool == "threatspec" else ("0", "1"))}),
    }


def last_stdout(work, corpus, tool):
    d = os.path.join(work, "logs", "%s-%s" % (corpus, tool))
    runs = sorted((int(f.split(".")[1]) for f in os.listdir(d) if f.startswith("stdout.")), reverse=True)
    with open(os.path.join(d, "stdout.%d" % runs[0]), encoding="utf-8", errors="replace") as fh:
        return fh.read()


def last_stderr_line(work, corpus, tool):
    d = os.path.join(work, "logs", "%s-%s" % (corpus, tool))
    runs = sorted((int(f.split(".")[1]) for f in os.listdir(d) if f.startswith("stderr.")), reverse=True)
    with open(os.path.join(d, "stderr.%d" % runs[0]), encoding="utf-8", errors="replace") as fh:
        lines = [line.strip() for line in fh if line.strip()]
    return "`%s`" % " / ".join(lines[-3:]).replace("`", "'")[:300] if lines else "(no output)"


def found_rg(work, corpus):
    out = last_stdout(work, corpus, "rg")
    per_file = [int(line.rsplit(":", 1)[1]) for line in out.splitlines() if ":" in line]
    return "%d files with annotation lines, %d lines" % (len(per_file), sum(per_file))


def found_ta(work, corpus, tool):
    try:
        doc = json.loads(last_stdout(work, corpus, tool))
        s = doc["summary"]
    except Exception as e:  # noqa: BLE001 - report, do not fail
        return "output is not check JSON (%s)" % e
    relations = sum(s.get(k, 0) for k in RELATIONS)
    return "%s files, %s annotated, %s annotations, %d relations, %s/%s/%s errors/warnings/notes" % (
        s.get("files_scanned"), s.get("files_with_annotations"), s.get("annotations"), relations,
        s.get("errors"), s.get("warnings"), s.get("notes"))


def found_ts(work, corpus):
    d = os.path.join(work, corpus, "threatmodel")
    try:
        with open(os.path.join(d, "threatmodel.json")) as fh:
            tm = json.load(fh)
    except Exception as e:  # noqa: BLE001
        return "no threatmodel.json (%s)" % e
    lists = [v for v in tm.values() if isinstance(v, list)]
    files = {x["source"]["filename"] for v in lists for x in v}
    return "%d files with annotations, %d relations" % (len(files), sum(len(v) for v in lists))


def fmt(x, digits=3):
    return "n/a" if x is None else "%.*f" % (digits, x)


def ratio(a, b):
    """a's wall time / b's; `None` when either is missing or failed."""
    if a is None or b is None or a["bad_exit"] or b["bad_exit"] or b["wall"] <= 0:
        return None
    return a["wall"] / b["wall"]


def fmt_ratio(x):
    return "n/a" if x is None else ("%.2fx" % x if x < 10 else "{:,.0f}x".format(x))


def main():
    work, corpora = sys.argv[1], sys.argv[2].split()
    rows = load_rows(work)
    table = {c: {t: stats(rows, c, t) for t, _ in TOOLS} for c in corpora}
    # The rg runs each row is compared with: those timed alternately with it, run by run, when
    # compare.sh took them so (every threat-analyzer row); all of rg's otherwise.
    rg_beside = {c: {t: stats(rows, c, "rg", beside=t) or table[c]["rg"] for t, _ in TOOLS}
                 for c in corpora}
    gen = {}
    for c in corpora:
        try:
            with open(os.path.join(work, c + ".gen.json")) as fh:
                gen[c] = json.load(fh)
        except (OSError, ValueError):
            gen[c] = {}
    load = []
    for when in ("before", "after"):
        try:
            with open(os.path.join(work, "loadavg." + when)) as fh:
                load.append(fh.read().strip())
        except OSError:
            load.append("?")

    print("## threat-analyzer vs threatspec vs rg (%d cores)\n" % os.cpu_count())
    print("Load average (1/5/15 min) before: %s, after: %s. Wall time = median of the timed runs "
          "(after one untimed warm-up run); CPU = median user+sys; RSS = peak over the runs. "
          "\"vs rg\" = this wall time / the median of the rg runs timed alternately with this "
          "row's, run by run (the rg row: all of them); \"threatspec / this\" = how many times "
          "faster than threatspec.\n" % tuple(load))
    print("| corpus | tool | runs | median wall s | CPU s | peak RSS MB | rg beside s | vs rg | threatspec / this |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for c in corpora:
        st = table[c]
        for tool, label in TOOLS:
            s = st[tool]
            if s is None:
                if tool == "threatspec" and c == "dense-gal":
                    print("| %s | %s | | | | | | | (reads no GAL) |" % (c, label))
                continue
            note = "" if not s["bad_exit"] else " (**failed**: exit %s)" % ",".join(s["bad_exit"])
            rg = rg_beside[c][tool]
            print("| %s | %s%s | %d | %s | %s | %.1f | %s | %s | %s |" % (
                c, label, note, s["runs"], fmt(s["wall"]), fmt(s["cpu"]), s["rss"],
                fmt(rg["wall"] if rg else None),
                fmt_ratio(ratio(s, rg_beside[c][tool])), fmt_ratio(ratio(st["threatspec"], s))))
    print()

    print("### Budgets\n")

    def pair_ratios(c, tool):
        """Each run of TOOL on C over the rg run timed just before it, in run order: how far
        single pairs spread around the verdict (which is taken from the medians)."""
        ours = [float(r[4]) for r in rows if r[0] == c and r[1] == tool]
        beside = [float(r[4]) for r in rows if r[0] == c and r[1] == "rg" and len(r) > 8 and r[8] == tool]
        if len(ours) != len(beside) or not ours:
            return ""
        ratios = sorted(a / b for a, b in zip(ours, beside) if b > 0)
        return " (run by run %.2f-%.2fx)" % (ratios[0], ratios[-1]) if ratios else ""

    def check(name, value, ok, budget, spread=""):
        if value is None:
            print("- %s: n/a (budget %s)" % (name, budget))
        else:
            print("- %s: %s%s (budget %s): **%s**" % (name, fmt_ratio(value), spread, budget,
                                                     "PASS" if ok(value) else "MISS"))

    def rss_check(name, s, limit):
        if s is None or s["bad_exit"]:
            print("- %s: n/a (budget <= %d MB)" % (name, limit))
        else:
            print("- %s: %.1f MB (budget <= %d MB): **%s**" % (name, s["rss"], limit,
                                                             "PASS" if s["rss"] <= limit else "MISS"))

    # Issue 17's goals, then issue 1's threatspec ratio.
    for c in corpora:
        limit = 1.5 if c == "sparse" else 3
        check("%s cold vs rg" % c, ratio(table[c]["ta-cold"], rg_beside[c]["ta-cold"]), lambda v, l=limit: v <= l,
              "<= %gx" % limit, pair_ratios(c, "ta-cold"))
    for c in corpora:
        check("%s warm vs rg" % c, ratio(table[c]["ta-warm"], rg_beside[c]["ta-warm"]), lambda v: v <= 1.5, "<= 1.5x",
              pair_ratios(c, "ta-warm"))
    for c in corpora:
        check("%s touched 1%% vs rg" % c, ratio(table[c]["ta-touch"], rg_beside[c]["ta-touch"]), lambda v: v <= 2, "<= 2x")
    for c in corpora:
        check("%s edited 1%% vs rg (the stricter reading of \"touched\")" % c,
              ratio(table[c]["ta-edit"], rg_beside[c]["ta-edit"]), lambda v: v <= 2, "<= 2x")
    if "dense" in table:
        rss_check("dense cold peak RSS", table["dense"]["ta-cold"], 60)
    if "huge" in table:
        rss_check("huge cold peak RSS", table["huge"]["ta-cold"], 250)
    for c in corpora:
        if table[c]["ta-cold"] and table[c]["ta-warm"]:
            same = last_stdout(work, c, "ta-warm") == last_stdout(work, c, "ta-cold")
            print("- %s warm output identical to cold: **%s**" % (c, "PASS" if same else "MISS"))
    d = table.get("dense", {})
    if d:
        check("dense: threatspec / cold", ratio(d["threatspec"], d["ta-cold"]), lambda v: v >= 30, ">= 30x")
    print()

    if "dense" in table and "huge" in table:
        print("### Growth: dense -> huge\n")
        work_ratio = None
        if gen["dense"].get("relations") and gen["huge"].get("relations"):
            work_ratio = gen["huge"]["relations"] / gen["dense"]["relations"]
        print("Work: %s the files and relations. Ratios huge / dense:\n" % (
            "%.0fx" % work_ratio if work_ratio else "n/a"))
        print("| tool | wall time | CPU | peak RSS |")
        print("|---|---:|---:|---:|")
        for tool, label in TOOLS:
            a, b = table["dense"][tool], table["huge"][tool]
            if a is None or b is None:
                continue
            def grow(key):
                # GNU time's CPU has 10 ms resolution: a replayed warm run can measure 0.
                return "%.1fx" % (b[key] / a[key]) if a[key] > 0 else "n/a"
            print("| %s | %s | %s | %s |" % (label, grow("wall"), grow("cpu"), grow("rss")))
        print()

    print("### What each tool found\n")
    for c in corpora:
        print("- **%s** generated: %s" % (c, ", ".join(
            "%s %s" % (k, v) for k, v in sorted(gen[c].items()) if k != "corpus")))
        if table[c]["rg"]:
            print("  - rg: %s" % found_rg(work, c))
        for tool in ("ta-cold", "ta-warm"):
            if table[c][tool]:
                print("  - %s: %s" % (tool, found_ta(work, c, tool)))
        if table[c]["threatspec"]:
            ts = table[c]["threatspec"]
            if ts["bad_exit"]:
                err = last_stderr_line(work, c, "threatspec")
                print("  - threatspec: failed (exit %s): %s" % (",".join(ts["bad_exit"]), err))
            else:
                print("  - threatspec: %s" % found_ts(work, c))
        same = [t for t in ("ta-warm", "ta-nocache") if table[c][t] and table[c]["ta-cold"]
                and last_stdout(work, c, t) == last_stdout(work, c, "ta-cold")]
        if table[c]["ta-cold"]:
            print("  - output identical to cold: %s" % (", ".join(same) or "NONE"))


if __name__ == "__main__":
    main()
