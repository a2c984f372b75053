#!/bin/bash
# Differential check of `diff`: two builds' output, standard error and exit status on random
# edit sets of examples/webshop and examples/dialects must be byte-identical.
#
#   benches/diff_differential.sh OLD_BINARY NEW_BINARY [SEEDS]    (default 60 seeds: 960 runs)
#
# Per seed and example: a fresh repository, every file settled older than git's index (so the
# index path is taken), 1-6 random edits (annotations removed, duplicated, moved between
# files, verbs, severities and references changed, same-size case swaps); on even seeds two
# edited files staged and settled (the index tells a blob other than the base's). Then four
# formats, against the working tree and with `--head HEAD` after committing. Each build gets
# its own index cache directory (a cache written by another build is rebuilt, with a note on
# standard error), and runs without GIT_CONFIG_GLOBAL so the user's configuration decides, as
# in normal use, whether git's index may tell blob sizes.
set -u
OLD=$1; NEW=$2; N=${3:-60}
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/diff-differential.XXXX)
fails=0; runs=0; nonempty=0
for seed in $(seq 1 "$N"); do
  for src in "$here/examples/webshop" "$here/examples/dialects"; do
    d=$(mktemp -d /tmp/diff-differential-repo.XXXX)
    cp -r "$src/." "$d/"
    cd "$d" || exit 2
    export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@b GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@b
    git init -q -b main && git add -A && git commit -qm base
    git ls-files -z | xargs -0 touch -d '-100 sec'; git update-index -q --refresh
    python3 - "$seed" <<'PY'
import os, random, sys, re
random.seed(int(sys.argv[1]))
files=[os.path.join(r,f) for r,_,fs in os.walk('.') if '.git' not in r for f in fs]
files=[f for f in files if open(f,'rb').read().count(b'@')]
lines={f:open(f,encoding='utf-8',errors='surrogateescape').read().split('\n') for f in files}
ann=[(f,i) for f in files for i,l in enumerate(lines[f]) if '@' in l]
for _ in range(random.randint(1,6)):
    if not ann: break
    f,i=random.choice(ann); op=random.randrange(7)
    L=lines[f]
    if i>=len(L): continue
    if op==0: L[i]=''
    elif op==1: L.insert(i, L[i])
    elif op==2:
        g=random.choice(files); lines[g].append(L[i]); L[i]=''
    elif op==3: L[i]=L[i].replace('mitigates','accepts',1) if 'mitigates' in L[i] else L[i].replace('exposes','confirmed',1)
    elif op==4: L[i]=re.sub(r'\[(\w+)\]', lambda m: random.choice(['[low]','[critical]','[P1]','']), L[i]) if '[' in L[i] else L[i]+' [high]'
    elif op==5: L[i]=L[i].replace('#', '#x', 1)
    else: L[i]=L[i].swapcase()
for f in files: open(f,'w',encoding='utf-8',errors='surrogateescape').write('\n'.join(lines[f]))
PY
    if [ $((seed % 2)) = 0 ]; then
      git diff --name-only -z | head -z -n 2 | xargs -0 -r git add
      git ls-files -z | xargs -0 touch -d '-50 sec'; git update-index -q --refresh >/dev/null
    fi
    for head in "" "--head HEAD"; do
      if [ -n "$head" ]; then git commit -qam edit; base=HEAD~1; else base=HEAD; fi
      for fmt in human markdown json sarif; do
        runs=$((runs+1))
        # $head is empty or two words: split on purpose.
        # shellcheck disable=SC2086
        env -u GIT_CONFIG_GLOBAL XDG_CACHE_HOME="$out/cache-old" "$OLD" diff $base $head --format $fmt --no-color >"$out/o.out" 2>"$out/o.err"; a=$?
        # shellcheck disable=SC2086
        env -u GIT_CONFIG_GLOBAL XDG_CACHE_HOME="$out/cache-new" "$NEW" diff $base $head --format $fmt --no-color >"$out/n.out" 2>"$out/n.err"; b=$?
        [ $fmt = json ] && ! grep -q '"changes": *\[\]' "$out/n.out" && nonempty=$((nonempty+1))
        if ! cmp -s "$out/o.out" "$out/n.out" || ! cmp -s "$out/o.err" "$out/n.err" || [ $a != $b ]; then
          fails=$((fails+1)); echo "DIFFERS: seed $seed $src $fmt $head ($a/$b)"
          diff "$out/o.out" "$out/n.out" | head -5; diff "$out/o.err" "$out/n.err" | head -5
        fi
      done
    done
    cd / && rm -rf "$d"
  done
done
rm -rf "$out"
echo "runs $runs differing $fails; json outputs with changes: $nonempty"
[ "$fails" = 0 ]
