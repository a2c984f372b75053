#!/usr/bin/env python3
"""Rates a generated corpus in place for the risk and threat-library benchmark (issue 19).

    gen_corpus.py dense-gal OUT && rated_corpus.py OUT

Every GAL `@exposes` gets a likelihood and impact (`risk:L<1-5>xI<1-5>`, cycling through all
25 ratings), and every fifth exposure of a threat by `#id` names a built-in threat-library
entry instead (`#lib.cwe-89`, `#lib.cwe-79`, `#lib.owasp-a01`, `#lib.stride-tampering`, in
turn). Deterministic: files are visited in path order. Prints one JSON line with the counts.
ThreatSpec 0.5 lines (the `dense` corpus) carry no rating (threat-analyzer reads `risk:` among
GAL refs only), so the benchmark uses `dense-gal`, the same model in GAL syntax.
"""
import json
import os
import re
import sys

LIBRARY = ["#lib.cwe-89", "#lib.cwe-79", "#lib.owasp-a01", "#lib.stride-tampering"]
EXPOSES = re.compile(r"^(\s*// @exposes \S+ to )(#[\w-]+|.+?)( -- \".*)$")


def main(root):
    rated = library = n = 0
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, "src")):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8") as fh:
                lines = fh.read().split("\n")
            for i, line in enumerate(lines):
                m = EXPOSES.match(line)
                if not m:
                    continue
                head, threat, tail = m.groups()
                if threat.startswith("#") and n % 5 == 0:
                    threat = LIBRARY[(n // 5) % len(LIBRARY)]
                    library += 1
                rating = "risk:L%dxI%d" % (n % 5 + 1, (n // 5) % 5 + 1)
                lines[i] = "%s%s %s%s" % (head, threat.rstrip(), rating, tail)
                rated += 1
                n += 1
            with open(path, "w", encoding="utf-8") as fh:
                fh.write("\n".join(lines))
    print(json.dumps({"exposures_rated": rated, "library_references": library}))


if __name__ == "__main__":
    main(sys.argv[1])
