#!/usr/bin/env python3
"""Change 1% of a corpus between timed runs (benches/compare.sh's "touched" and "edited" rows).

    touch.py pick CORPUS_DIR          writes CORPUS_DIR/.bench-touch and CORPUS_DIR/.bench-edit
    touch.py touch CORPUS_DIR         moves the mtime of every file in .bench-touch (content kept)
    touch.py edit CORPUS_DIR          toggles every file in .bench-edit between its original text
                                      and the original with its first annotation line duplicated
                                      in place (so each run sees 1% of the files with changed facts)
    touch.py restore CORPUS_DIR       puts the edited files' original text back

"1%": every 100th file of the sorted file list under CORPUS_DIR/src for touch; for edit the same
number of files (at least one) taken evenly from the files that hold an annotation line. The
originals of edited files are kept in CORPUS_DIR/.bench-orig/ (python3 standard library only).
"""
import os
import re
import sys
import time

PATTERN = re.compile(rb"@(mitigates|exposes|accepts|transfers|connects|component|threat|control|review|tests"
                     rb"|asset|flows|boundary|validates|audit)\b")


def files(src):
    out = []
    for root, dirs, names in os.walk(src):
        dirs.sort()
        out.extend(os.path.join(root, n) for n in sorted(names))
    return sorted(out)


def pick(corpus):
    every = files(os.path.join(corpus, "src"))
    touched = every[::100]
    annotated = []
    for path in every:
        with open(path, "rb") as fh:
            if PATTERN.search(fh.read()):
                annotated.append(path)
    count = max(1, len(touched))
    step = max(1, len(annotated) // count)
    edited = annotated[::step][:count]
    with open(os.path.join(corpus, ".bench-touch"), "w") as fh:
        fh.write("".join(p + "\n" for p in touched))
    with open(os.path.join(corpus, ".bench-edit"), "w") as fh:
        fh.write("".join(p + "\n" for p in edited))
    orig = os.path.join(corpus, ".bench-orig")
    os.makedirs(orig, exist_ok=True)
    for i, path in enumerate(edited):
        with open(path, "rb") as src, open(os.path.join(orig, str(i)), "wb") as dst:
            dst.write(src.read())
    print("%d touched, %d edited of %d files" % (len(touched), len(edited), len(every)))


def listed(corpus, name):
    with open(os.path.join(corpus, name)) as fh:
        return [line.rstrip("\n") for line in fh if line.strip()]


def touch(corpus):
    now = time.time_ns()
    for path in listed(corpus, ".bench-touch"):
        os.utime(path, ns=(now, now))


def edit(corpus):
    orig = os.path.join(corpus, ".bench-orig")
    for i, path in enumerate(listed(corpus, ".bench-edit")):
        with open(os.path.join(orig, str(i)), "rb") as fh:
            original = fh.read()
        with open(path, "rb") as fh:
            current = fh.read()
        if current != original:
            new = original
        else:
            lines = original.splitlines(keepends=True)
            at = next(n for n, line in enumerate(lines) if PATTERN.search(line))
            first = lines[at] if lines[at].endswith(b"\n") else lines[at] + b"\n"
            new = b"".join(lines[:at] + [first, lines[at]] + lines[at + 1:])
        with open(path, "wb") as fh:
            fh.write(new)


def restore(corpus):
    orig = os.path.join(corpus, ".bench-orig")
    for i, path in enumerate(listed(corpus, ".bench-edit")):
        with open(os.path.join(orig, str(i)), "rb") as src, open(path, "wb") as dst:
            dst.write(src.read())


def main():
    action, corpus = sys.argv[1], sys.argv[2]
    {"pick": pick, "touch": touch, "edit": edit, "restore": restore}[action](corpus)


if __name__ == "__main__":
    main()
