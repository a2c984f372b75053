#!/usr/bin/env python3
"""Render-speed benchmark: every diagram, report and export format on one large model.

    benches/formats.py [--binary PATH] [--runs N] [--work DIR]

Generates (deterministically, python3 standard library only) the corpus the diagrams issue
names: 200 components in 20 trust boundaries, 4,000 flows and 20,000 relations in total, in GAL
syntax spread over 400 Python files, then times `threat-analyzer` rendering it in every format
(median wall time of N runs, default 5, plus the output size) and prints a Markdown table.
Budget: every format under 2 s.

Corpus (relations = annotations that relate two things):
  definitions  200 `@asset`, 100 `@threat`, 60 `@control`, 20 `@boundary` (one per service)
  relations    4,000 `@flows`  +  8,000 `@exposes`  +  7,000 `@mitigates`
               + 500 `@accepts`  +  500 `@transfers`  = 20,000
Every tenth exposure is left open, so the diagram has badges of every kind.
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

SERVICES = 20
PER_SERVICE = 10
THREATS = 100
CONTROLS = 60
FILES = 400
FLOWS = 4000
EXPOSURES = 8000
MITIGATIONS = 7000
ACCEPTANCES = 500
TRANSFERS = 500
MECHANISMS = ["HTTPS", "gRPC over mTLS", "AMQP", "SQL over TLS", "Redis protocol", "S3 API"]
NOUNS = ["Api", "Worker", "Db", "Cache", "Queue", "Auth", "Search", "Billing", "Store", "Gateway"]


def component(service, index):
    return f"App.Svc{service:02d}.{NOUNS[index]}"


def generate(root):
    """Writes the corpus under root/src and returns the number of relations written."""
    rng = random.Random(20261121)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "src"))
    components = [component(s, i) for s in range(SERVICES) for i in range(PER_SERVICE)]
    definitions = ["# @asset Internet (#internet)"]
    for name in components:
        definitions.append(f"# @asset {name}")
    for t in range(THREATS):
        definitions.append(f"# @threat Threat number {t} (#t{t}) [P{t % 4}] cwe:CWE-{79 + t}")
    for c in range(CONTROLS):
        definitions.append(f"# @control Control number {c} (#c{c})")
    for s in range(SERVICES):
        definitions.append(f"# @boundary between Internet and App.Svc{s:02d} (#zone-{s:02d})")

    relations = []
    for _ in range(FLOWS):
        a, b = rng.sample(components, 2)
        relations.append(f"# @flows {a} -> {b} via {rng.choice(MECHANISMS)}")
    exposures = []
    for n in range(EXPOSURES):
        pair = (rng.choice(components), rng.randrange(THREATS))
        exposures.append(pair)
        relations.append(f'# @exposes {pair[0]} to #t{pair[1]} -- "exposure {n}"')
    covered = [e for n, e in enumerate(exposures) if n % 10 != 0]
    for n in range(MITIGATIONS):
        asset, threat = covered[n % len(covered)]
        relations.append(f"# @mitigates {asset} against #t{threat} using #c{rng.randrange(CONTROLS)}")
    for n in range(ACCEPTANCES):
        asset, threat = covered[(MITIGATIONS + n) % len(covered)]
        relations.append(f'# @accepts #t{threat} on {asset} -- "accepted risk {n}"')
    for n in range(TRANSFERS):
        asset, threat = covered[(MITIGATIONS + ACCEPTANCES + n) % len(covered)]
        relations.append(f"# @transfers #t{threat} from {asset} to Internet")

    rng.shuffle(relations)
    with open(os.path.join(root, "src", "catalog.py"), "w") as f:
        f.write("\n".join(definitions) + "\n")
    per_file = len(relations) // FILES
    for i in range(FILES):
        chunk = relations[i * per_file:(i + 1) * per_file]
        body = []
        for n, line in enumerate(chunk):
            body.append(line)
            if n % 5 == 4:
                body.append(f"def handler_{i}_{n}(request):\n    return request\n")
        with open(os.path.join(root, "src", f"module_{i:03d}.py"), "w") as f:
            f.write("\n".join(body) + "\n")
    return len(relations)


FORMATS = [
    ("dfd --format mermaid", ["dfd", "--format", "mermaid"], "dfd.mmd"),
    ("dfd --format dot", ["dfd", "--format", "dot"], "dfd.dot"),
    ("dfd --format svg", ["dfd", "--format", "svg"], "dfd.svg"),
    ("report --format markdown", ["report", "--format", "markdown"], "report.md"),
    ("report --format html", ["report", "--format", "html"], "report.html"),
    ("export --format json", ["export", "--format", "json"], "model.json"),
    ("export --format threatspec", ["export", "--format", "threatspec"], "threatspec"),
    ("export --format threat-dragon", ["export", "--format", "threat-dragon"], "dragon.json"),
    ("export --format threat-composer", ["export", "--format", "threat-composer"], "composer.json"),
]


def size_of(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
    return os.path.getsize(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="target/release/threat-analyzer")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", default="bench-out/formats")
    args = parser.parse_args()

    corpus = os.path.join(args.work, "corpus")
    out_dir = os.path.abspath(os.path.join(args.work, "out"))
    relations = generate(corpus)
    os.makedirs(out_dir, exist_ok=True)
    binary = os.path.abspath(args.binary)
    print(f"corpus: {corpus} ({relations} relations, {FLOWS} flows, "
          f"{SERVICES * PER_SERVICE} components, {FILES + 1} files)\n", file=sys.stderr)

    print("| format | median wall s | min s | max s | output |")
    print("|---|---:|---:|---:|---:|")
    worst = 0.0
    for title, argv, name in FORMATS:
        target = os.path.join(out_dir, name)
        times = []
        for _ in range(args.runs + 1):  # the first run warms the page cache and is not counted
            start = time.perf_counter()
            result = subprocess.run([binary, *argv, "-o", target, "--allow-outside-output", "."], cwd=corpus,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            elapsed = time.perf_counter() - start
            if result.returncode != 0:
                sys.exit(f"{title} failed ({result.returncode}): {result.stderr.decode()}")
            times.append(elapsed)
        times = times[1:]
        median = statistics.median(times)
        worst = max(worst, median)
        print(f"| `{title}` | {median:.3f} | {min(times):.3f} | {max(times):.3f} | "
              f"{size_of(target) / 1e6:.2f} MB |")
    print(f"\nslowest format: {worst:.3f} s (budget 2 s)", file=sys.stderr)
    return 0 if worst < 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
