#!/usr/bin/env python3
"""Runs GuardLink's conformance corpus through threat-analyzer and prints where they differ.

GuardLink publishes machine-readable cases for anything that reads its annotations
(`conformance/flows.json` and `conformance/boundaries.json` in Bugb-Technologies/guardlink,
shipped in the `guardlink` npm package; see its `conformance/README.md`). This is not part of
`cargo test`: the corpus is GuardLink's and is not vendored here. Fetch a released version,
then:

    python3 tests/conformance/guardlink.py target/release/threat-analyzer DIR

where DIR holds `flows.json` and `boundaries.json`. Each case's files are written to a fresh
temporary directory and read with `export --format json` and `check --format json`. Checked:

- `parse` (both corpora): the flow or boundary records (sides, mechanism, description,
  `directed`, file and line) and the lines reported as malformed (`malformed-annotation`,
  `prose-like-annotation`, `unread-annotation`). Names are compared as threat-analyzer keys
  (`#Id` -> `id`, `Name With Spaces` -> `name_with_spaces`).
- `validation` (boundaries): the directed boundaries reported as errors.
- `sides` (boundaries): each boundary's outside and inside and their basis, from the JSON
  export's `sides` (`declared`, `undeclared-endpoint`, `unknown`).
- `mitigation_scope` (flows), under `--coverage-scope file` and `symbol`, with every `#id`
  the case uses defined in an extra `.gal` file (the corpus leaves them undefined, which
  threat-analyzer reports as `dangling-reference` and then rates no coverage).

Known differences, by choice (see the README's GAL section): `@flows #a->#b` and
`@flows #a to #b` are read as flows; a prose `@boundary` line is `prose-like-annotation`, a
warning, where the corpus expects nothing; the default `file` coverage scope does not narrow
inline annotations to their function (2 of the 7 `mitigation_scope` cases; `symbol` agrees on
all 7).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

MALFORMED = ('malformed-annotation', 'prose-like-annotation', 'unread-annotation')


def norm(ref):
    if ref is None:
        return None
    r = ref.strip()
    return r[1:].lower() if r.startswith('#') else re.sub(r'\s+', '_', r.lower())


def arg_key(a):
    return (a.get('key') or a.get('dangling') or '').lstrip('#').lower()


def write(files, extra=None):
    d = tempfile.mkdtemp(prefix='guardlink-conformance-')
    for path, text in list(files.items()) + list((extra or {}).items()):
        os.makedirs(os.path.join(d, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(d, path), 'w') as f:
            f.write(text)
    return d


def check(binary, d, *args):
    run = subprocess.run([binary, 'check', '--no-cache', '--format', 'json', '--fail-on', 'never', *args, '.'],
                         cwd=d, capture_output=True, text=True)
    return json.loads(run.stdout)['diagnostics']


def export(binary, d):
    out = os.path.join(d, '.threat-analyzer-export.json')
    subprocess.run([binary, 'export', '--format', 'json', '--no-cache', '-o', out, '.'], cwd=d, capture_output=True)
    with open(out) as f:
        return json.load(f)


def parse_cases(binary, corpus, data):
    kind = 'flows' if corpus == 'flows' else 'boundary'
    agree = 0
    for case in data['parse']:
        d = write(case['files'])
        model, diags = export(binary, d), check(binary, d)
        got = []
        for r in (r for r in model['relations'] if r['kind'] == kind):
            a, b = (arg_key(x) for x in r['args'][:2])
            # A sidecar's relation is located at its `@source` (its `origin`), as the corpus does.
            at = r.get('origin') or r
            rec = {'a': a, 'b': b, 'file': at['file'], 'line': at.get('line'), 'desc': r.get('description')}
            rec.update({'via': r.get('via')} if kind == 'flows' else {'directed': r.get('directed', False)})
            got.append(json.dumps(rec, sort_keys=True))
        want = []
        for e in case['expect'][corpus]:
            if kind == 'flows':
                rec = {'a': norm(e['source']), 'b': norm(e['target']), 'via': e['mechanism']}
            else:
                rec = {'a': norm(e['asset_a']), 'b': norm(e['asset_b']), 'directed': e['directed']}
            rec.update({'file': e['location']['file'], 'line': e['location']['line'], 'desc': e['description']})
            want.append(json.dumps(rec, sort_keys=True))
        mal_got = sorted({(x['file'], x['line']) for x in diags if x['code'] in MALFORMED})
        mal_want = sorted({(m['file'], m['line']) for m in case['expect']['malformed']})
        if sorted(got) == sorted(want) and mal_got == mal_want:
            agree += 1
            continue
        print(f"--- {corpus} parse {case['id']}")
        if sorted(got) != sorted(want):
            print('    records want', sorted(want), '\n            got ', sorted(got))
        if mal_got != mal_want:
            print('    malformed want', mal_want, 'got', mal_got)
    print(f"{corpus} parse: {agree}/{len(data['parse'])} agree")


def validation_cases(binary, data):
    agree = 0
    for case in data['validation']:
        diags = check(binary, write(case['files']))
        want = sorted((u['file'], u['line']) for u in case['expect']['unresolved'])
        got = sorted({(x['file'], x['line']) for x in diags if x['severity'] == 'error'})
        if want == got:
            agree += 1
        else:
            print(f"--- boundaries validation {case['id']}: errors want {want} got {got}")
    print(f"boundaries validation: {agree}/{len(data['validation'])} agree")


def sides_cases(binary, data):
    agree = 0
    for case in data['sides']:
        relations = export(binary, write(case['files']))['relations']
        # `#web` is the asset `@asset Shop.Web (#web)`, whose key is its path `shop.web`.
        by_id = {m.group(2).lower(): m.group(1).lower()
                 for text in case['files'].values()
                 for m in re.finditer(r'@asset\s+([\w.]+)\s+\(#([\w-]+)\)', text)}
        problems = []
        for e in case['expect']:
            at = (e['boundary']['file'], e['boundary']['line'])
            found = [r for r in relations if r['kind'] == 'boundary' and (r['file'], r['line']) == at]
            if not found:
                problems.append(f'no boundary at {at}')
                continue
            sides, args = found[0].get('sides', {}), [arg_key(a) for a in found[0]['args']]
            want = {'basis': e['side']['basis']}
            got = {'basis': sides.get('basis')}
            if 'outer' in e['side']:
                side = lambda written: by_id.get(norm(written), norm(written))
                want.update(outer=side(e['side']['outer']), inner=side(e['side']['inner']))
                got.update({k: args[sides[k]] for k in ('outer', 'inner') if k in sides})
            if want != got:
                problems.append(f'{at}: want {want} got {got}')
        if problems:
            print(f"--- boundaries sides {case['id']}: {'; '.join(problems)}")
        else:
            agree += 1
    print(f"boundaries sides: {agree}/{len(data['sides'])} agree")


def scope_cases(binary, data):
    for scope in ('file', 'symbol'):
        agree = 0
        for case in data['mitigation_scope']:
            ids = set()
            for text in case['files'].values():
                pattern = r'@(exposes|mitigates)\s+#([\w-]+)\s+(?:to|against)\s+#([\w-]+)(?:\s+using\s+#([\w-]+))?'
                for m in re.finditer(pattern, text):
                    ids.update({('asset', m.group(2)), ('threat', m.group(3))})
                    if m.group(4):
                        ids.add(('control', m.group(4)))
            defs = ''.join(f'@{kind} {name.title()} (#{name})\n' for kind, name in sorted(ids))
            diags = check(binary, write(case['files'], {'zz-conformance-ids.gal': defs}), '--coverage-scope', scope)
            opened = {(x['file'], x['line']) for x in diags if x['code'] == 'unmitigated-exposure'}
            called_covered = {(u['file'], u['line']) for u in case['expect']['open']} - opened
            called_open = {(u['file'], u['line']) for u in case['expect']['covered']} & opened
            if not called_covered and not called_open:
                agree += 1
                continue
            print(f"--- flows mitigation_scope {case['id']} (--coverage-scope {scope}): "
                  f"covered here, open there {sorted(called_covered)}; open here, covered there {sorted(called_open)}")
        print(f"flows mitigation_scope, --coverage-scope {scope}: {agree}/{len(data['mitigation_scope'])} agree")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, corpus_dir = os.path.abspath(sys.argv[1]), sys.argv[2]
    with open(os.path.join(corpus_dir, 'flows.json')) as f:
        flows = json.load(f)
    with open(os.path.join(corpus_dir, 'boundaries.json')) as f:
        boundaries = json.load(f)
    parse_cases(binary, 'flows', flows)
    parse_cases(binary, 'boundaries', boundaries)
    validation_cases(binary, boundaries)
    sides_cases(binary, boundaries)
    scope_cases(binary, flows)


if __name__ == '__main__':
    main()
