import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { type DiffEntry, diffView, type ExecuteCommand, locateChange, plainText, requestDiff } from '../src/lib/diff';

/** A `threat-analyzer.diff` result as the server writes it (README, "Pull requests"), most severe first. */
const RESULT = {
  provenance: 'threat-analyzer 0.1.0',
  base: { label: 'main', commit: '3f2c1a0b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a', summary: 'first line' },
  head: { label: 'workspace' },
  verdict: 'risk-increase',
  summary: { changes: 4, risk_increases: 2, reviews: 0, risk_decreases: 1, neutral: 1 },
  changes: [
    {
      class: 'defence-removed',
      impact: 'risk-increase',
      rank: 168,
      message: '`App.Db` exposed to `SQL injection` was `mitigated`, now open',
      side: 'head',
      file: 'app/db.py',
      line: 12,
      column: 3,
      end_line: 12,
      end_column: 24,
      severity: 'high',
      severity_word: 'P1',
    },
    {
      class: 'new-unmitigated-exposure',
      impact: 'risk-increase',
      rank: 150,
      message: '`App.Api` newly exposed to `XSS $(alert)`',
      side: 'head',
      file: 'app/api.py',
      line: 4,
      severity: 'medium',
    },
    {
      class: 'exposure-resolved',
      impact: 'risk-decrease',
      rank: 40,
      message: '`App.Web` exposed to `CSRF` was removed',
      side: 'base',
      file: 'web/forms.py',
      line: 7,
      column: 5,
    },
    { class: 'entity-added', impact: 'neutral', rank: 1, message: 'asset `App.Cache` added' },
  ],
};

function changes(entries: DiffEntry[]): Extract<DiffEntry, { kind: 'change' }>[] {
  return entries.filter((e): e is Extract<DiffEntry, { kind: 'change' }> => e.kind === 'change');
}

test('maps the diff JSON to quick-pick rows in the server order, an icon per impact, file:line as description', () => {
  const view = diffView(RESULT);
  assert.ok(view);
  assert.equal(view.changes, 4);
  assert.equal(view.title, 'Threat model: main (3f2c1a0b) → workspace: risk increase, 4 changes');
  assert.deepEqual(
    view.entries.map((e) => (e.kind === 'separator' ? `-- ${e.label}` : `${e.label} | ${e.description} | ${e.detail}`)),
    [
      '-- Risk increases',
      '$(error) `App.Db` exposed to `SQL injection` was `mitigated`, now open | app/db.py:12 | defence-removed · P1',
      // Repository text never draws an icon.
      '$(error) `App.Api` newly exposed to `XSS \\$(alert)` | app/api.py:4 | new-unmitigated-exposure · medium',
      '-- Risk decreases',
      '$(pass) `App.Web` exposed to `CSRF` was removed | web/forms.py:7 (base) | exposure-resolved',
      '-- Other changes',
      '$(circle-small) asset `App.Cache` added |  | entity-added',
    ],
  );
  const [first, , third, fourth] = changes(view.entries);
  assert.deepEqual(first.place, { side: 'head', file: 'app/db.py', line: 12, column: 3 });
  assert.deepEqual(third.place, { side: 'base', file: 'web/forms.py', line: 7, column: 5 });
  assert.equal(fourth.place, undefined);
});

test('no changes, and results that are not a diff', () => {
  const view = diffView({ ...RESULT, verdict: 'no-change', changes: [] });
  assert.ok(view);
  assert.equal(view.changes, 0);
  assert.deepEqual(view.entries, []);
  assert.match(view.title, /: no change, 0 changes$/);
  assert.equal(diffView(null), undefined);
  assert.equal(diffView({ changes: 'none' }), undefined);
  // A change that is not an object is skipped; an unknown impact still shows.
  const odd = diffView({ changes: [7, { impact: 'later', message: 'm\nsecond line', file: 'a', line: 0, side: 'head' }] });
  assert.ok(odd);
  assert.deepEqual(
    odd.entries.map((e) => e.label),
    ['Other', '$(question) m second line'],
  );
  assert.equal(changes(odd.entries)[0].place, undefined, 'line 0 is no place');
});

test('plain text escapes icon syntax only', () => {
  assert.equal(plainText('$(x) and $(sync~spin) but not $5 or $(a b)'), '\\$(x) and \\$(sync~spin) but not $5 or $(a b)');
});

/** A fake language client: records what it was sent and answers with `answer`. */
function fakeClient(answer: () => Promise<unknown>): { execute: ExecuteCommand; sent: unknown[] } {
  const sent: unknown[] = [];
  return {
    sent,
    execute: (params) => {
      sent.push(params);
      return answer();
    },
  };
}

test('sends threat-analyzer.diff with the base and maps the answer', async () => {
  const client = fakeClient(async () => RESULT);
  const outcome = await requestDiff(client.execute, '  origin/main ');
  assert.deepEqual(client.sent, [{ command: 'threat-analyzer.diff', arguments: [{ base: 'origin/main' }] }]);
  assert.equal(outcome.kind, 'view');
  assert.equal(outcome.kind === 'view' && outcome.view.changes, 4);
  // An empty revision asks for the default, main.
  const again = fakeClient(async () => RESULT);
  await requestDiff(again.execute, ' ');
  assert.deepEqual(again.sent, [{ command: 'threat-analyzer.diff', arguments: [{ base: 'main' }] }]);
});

test('the server error message is what the user sees', async () => {
  // vscode-languageclient rejects with a ResponseError (an Error with the server's message).
  const failing = fakeClient(async () => {
    throw Object.assign(new Error('threat-analyzer.diff: unknown revision `nope`'), { code: -32803 });
  });
  assert.deepEqual(await requestDiff(failing.execute, 'nope'), {
    kind: 'error',
    message: 'threat-analyzer.diff: unknown revision `nope`',
  });
  const plain = fakeClient(() => Promise.reject({ code: -32603, message: 'no workspace folder' }));
  assert.deepEqual(await requestDiff(plain.execute, 'main'), { kind: 'error', message: 'no workspace folder' });
  const notADiff = fakeClient(async () => null);
  assert.deepEqual(await requestDiff(notADiff.execute, 'main'), {
    kind: 'error',
    message: 'threat-analyzer.diff returned no diff',
  });
});

test('a head change opens under the repository root, found above the workspace folder', () => {
  const [first] = changes(diffView(RESULT)!.entries);
  const repo = path.join(path.sep, 'src', 'repo');
  const folder = path.join(repo, 'services', 'shop');
  const exists = (p: string): boolean => p === path.join(repo, '.git');
  assert.deepEqual(locateChange(first, folder, exists), {
    kind: 'open',
    file: path.join(repo, 'app', 'db.py'),
    line: 12,
    column: 3,
  });
  // Without any .git above, the folder is the root.
  assert.deepEqual(locateChange(first, folder, () => false), {
    kind: 'open',
    file: path.join(folder, 'app', 'db.py'),
    line: 12,
    column: 3,
  });
});

test("the server's root, when the result has one, is used without looking for .git", () => {
  const repo = path.join(path.sep, 'srv', 'checkout');
  const view = diffView({ ...RESULT, root: repo });
  assert.ok(view);
  assert.equal(view.root, repo);
  const [first] = changes(view.entries);
  const probed: string[] = [];
  const exists = (p: string): boolean => {
    probed.push(p);
    return true;
  };
  assert.deepEqual(locateChange(first, path.join(path.sep, 'elsewhere'), exists, view.root), {
    kind: 'open',
    file: path.join(repo, 'app', 'db.py'),
    line: 12,
    column: 3,
  });
  assert.deepEqual(probed, [], 'no .git is looked for');
  // A relative or missing root is not one: the .git walk decides, as before.
  assert.equal(diffView({ ...RESULT, root: 'relative/dir' })?.root, undefined);
  assert.equal(diffView(RESULT)?.root, undefined);
  assert.deepEqual(locateChange(first, path.join(path.sep, 'w'), () => false, 'relative/dir'), {
    kind: 'open',
    file: path.join(path.sep, 'w', 'app', 'db.py'),
    line: 12,
    column: 3,
  });
});

test('a base-side place is named, not opened; so are changes without a place and escaping paths', () => {
  const [, , third, fourth] = changes(diffView(RESULT)!.entries);
  const probed: string[] = [];
  const base = locateChange(third, '/w', (p) => {
    probed.push(p);
    return true;
  });
  assert.equal(base.kind, 'message');
  assert.match(base.kind === 'message' ? base.message : '', /^web\/forms\.py:7 \(base\): this place exists only in the base revision/);
  assert.deepEqual(probed, [], 'nothing is looked up for a base-side place');
  assert.equal(locateChange(fourth, '/w', () => true).kind, 'message');
  for (const file of ['../etc/passwd', '/etc/passwd', 'a//b', 'C:\\x']) {
    const entry = changes(diffView({ changes: [{ impact: 'review', message: 'm', side: 'head', file, line: 1 }] })!.entries)[0];
    assert.equal(locateChange(entry, '/w', () => true).kind, 'message', file);
  }
});
