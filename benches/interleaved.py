#!/usr/bin/env python3
"""Interleaved wall-time comparison of threat-analyzer binaries, with rg in every round.

    benches/interleaved.py [--rounds N] [--mode cold|warm|nocache] [--corpora DIR]
                           [--only dense,huge,...] BIN [BIN ...]

Every round runs, per corpus, `rg -c PATTERN src` (the same patterns as compare.sh) and then
each binary's `check --format json src` once (taking turns at going first), so a change in the
machine's load touches every contender alike; the medians and each binary's ratio to rg's
median are printed, and each binary's median difference from the first within a round (with
the number of rounds it was faster in). On this
project's 2-core VM two run-all.sh runs of one binary differ by up to 20% and rg's own times
by up to 25%: compare binaries with this, not with two run-all.sh runs.

cold: an empty cache directory for every run (THREAT_ANALYZER_CACHE_DIR); warm: the cache of
a run made before the first round (the same tree, so the stored result replays); nocache:
--no-cache. Corpora are benches/gen_corpus.py's trees under --corpora (default
/tmp/corpora: DIR/KIND/src). Runs nothing else; output goes to /dev/null.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def patterns():
    """compare.sh's rg patterns: ThreatSpec, GAL, and both for mixed."""
    text = open(os.path.join(HERE, "compare.sh")).read()
    spec = re.search(r"^RG_PATTERN='([^']*)'", text, re.M).group(1)
    gal = re.search(r"^RG_PATTERN_GAL='([^']*)'", text, re.M).group(1)
    return {"dense-gal": gal, "mixed": spec + "|" + gal}, spec


def timed(args, cwd, env=None):
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--mode", choices=["cold", "warm", "nocache"], default="cold")
    ap.add_argument("--corpora", default="/tmp/corpora")
    ap.add_argument("--only", default="dense,dense-gal,sparse,huge,mixed")
    ap.add_argument("binaries", nargs="+")
    a = ap.parse_args()
    special, default = patterns()
    corpora = a.only.split(",")
    scratch = tempfile.mkdtemp(prefix="interleaved-")
    times = {}
    try:
        def check(binary, corpus, k):
            cache = os.path.join(scratch, f"{k}-{corpus}")
            args = [binary, "check", "--format", "json", "src"]
            if a.mode == "nocache":
                args.insert(2, "--no-cache")
            if a.mode == "cold":
                shutil.rmtree(cache, ignore_errors=True)
            env = dict(os.environ, THREAT_ANALYZER_CACHE_DIR=cache)
            return timed(args, os.path.join(a.corpora, corpus), env)

        if a.mode == "warm":
            for corpus in corpora:
                for k, binary in enumerate(a.binaries):
                    check(binary, corpus, k)
        for r in range(a.rounds):
            for corpus in corpora:
                cwd = os.path.join(a.corpora, corpus)
                rg = ["rg", "-c", special.get(corpus, default), "src"]
                times.setdefault((corpus, "rg"), []).append(timed(rg, cwd))
                # The binaries take turns at going first: the one run right after rg (or
                # after another) is not always the same.
                n = len(a.binaries)
                for k in [(r + i) % n for i in range(n)]:
                    times.setdefault((corpus, k), []).append(check(a.binaries[k], corpus, k))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"{a.mode}, medians of {a.rounds} interleaved rounds (ms, x rg)")
    for corpus in corpora:
        rg = statistics.median(times[(corpus, "rg")])
        cells = [f"rg {1000 * rg:.1f}"]
        for k, binary in enumerate(a.binaries):
            t = statistics.median(times[(corpus, k)])
            cells.append(f"{os.path.basename(binary)} {1000 * t:.1f} ({t / rg:.2f}x)")
        print(f"{corpus}: " + "  ".join(cells))
        # Each binary against the first, round by round: the machine's drift between rounds
        # cancels out of a difference taken within one.
        for k, binary in enumerate(a.binaries[1:], start=1):
            pairs = list(zip(times[(corpus, 0)], times[(corpus, k)]))
            diffs = [1000 * (t - t0) for t0, t in pairs]
            faster = sum(1 for d in diffs if d < 0)
            print(
                f"  {os.path.basename(binary)} - {os.path.basename(a.binaries[0])}: median "
                f"{statistics.median(diffs):+.1f} ms a round, faster in {faster} of {len(diffs)}"
            )


if __name__ == "__main__":
    main()
