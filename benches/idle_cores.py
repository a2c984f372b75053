#!/usr/bin/env python3
"""Where a run leaves a core idle: one command under `perf sched record`, then per 10 ms of
the run the idle core-ms, their total, and every stretch of 1 ms or more in which one core
was idle while the other ran the command (the serial parts worth overlapping).

    python3 benches/idle_cores.py [--cwd DIR] [--env K=V ...] -- CMD ARG...

Needs `perf` (the sched tracepoints: root, or kernel.perf_event_paranoid <= -1) on an idle
machine; the figures are of one run, so take a few. Wall-clock budgets and ratios come from
run-all.sh and interleaved.py; this says why a run is longer than its CPU time over the
cores. The twenty-fifth sitting found the chunk and window meetings and the serial stretches
of a cold `check` on huge with it (benches/README.md).
"""

import argparse
import collections
import os
import subprocess
import sys
import tempfile


def timehist(data):
    """(end ms, cpu, task, run ms) of every switch `perf sched timehist` prints."""
    out = subprocess.run(
        ["perf", "sched", "timehist", "-i", data], capture_output=True, text=True, check=True
    ).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 6 or not parts[0][0].isdigit():
            continue
        try:
            end, run = float(parts[0]) * 1000, float(parts[-1])
        except ValueError:
            continue
        rows.append((end, parts[1], parts[2], run))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cwd", default=".")
    ap.add_argument("--env", action="append", default=[], help="K=V for the command")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")
    env = dict(os.environ)
    env.update(kv.split("=", 1) for kv in a.env)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "sched.data")
        subprocess.run(
            ["perf", "sched", "record", "-q", "-o", data, "--"] + cmd,
            cwd=a.cwd, env=env, stdout=subprocess.DEVNULL, check=True,
        )
        rows = timehist(data)
    # perf names a task by its command (truncated to 15 bytes) and [tid/pid].
    name = os.path.basename(cmd[0])[:15]
    ours = [r for r in rows if r[2].startswith(name + "[")]
    if not ours:
        sys.exit(f"no switches of {name} recorded")
    start = min(end - run for end, _, _, run in ours)
    stop = max(end for end, _, _, _ in ours)
    idle = collections.Counter()
    stretches = []
    for end, cpu, task, run in rows:
        if task != "<idle>":
            continue
        begin = end - run
        lo, hi = max(begin, start), min(end, stop)
        if hi <= lo:
            continue
        if hi - lo >= 1.0:
            stretches.append((lo - start, hi - start, cpu))
        ms = int(lo - start)
        while start + ms < hi:
            a_, b_ = max(lo, start + ms), min(hi, start + ms + 1)
            idle[ms // 10] += max(0.0, b_ - a_)
            ms += 1
    total = sum(idle.values())
    cores = len({cpu for _, cpu, _, _ in rows})
    span = stop - start
    print(f"span {span:.1f} ms on {cores} cores; idle {total:.1f} core-ms "
          f"({100 * total / (span * cores):.1f}% of the span's core time)")
    print("idle core-ms per 10 ms:", " ".join(f"{idle[k]:.0f}" for k in range(int(span // 10) + 1)))
    print("stretches of 1 ms or more with a core idle (ms from the start):")
    for lo, hi, cpu in sorted(stretches):
        print(f"  {lo:7.1f} - {hi:7.1f}  {hi - lo:5.1f} ms  cpu {cpu}")


if __name__ == "__main__":
    main()
