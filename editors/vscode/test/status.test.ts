import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countFindings, statusView } from '../src/lib/status';

test('counts exposures and findings of threat-analyzer only, whatever the code shape', () => {
  const counts = countFindings([
    { source: 'threat-analyzer', code: 'unmitigated-exposure' },
    { source: 'threat-analyzer', code: { value: 'unmitigated-exposure' } },
    { source: 'threat-analyzer', code: { value: 'confirmed-finding' } },
    { source: 'threat-analyzer', code: 'dangling-reference' },
    { source: 'pylint', code: 'unmitigated-exposure' },
    { source: 'threat-analyzer' },
    { code: 'unmitigated-exposure' },
  ]);
  assert.deepEqual(counts, { exposures: 2, findings: 1 });
});

test('indexing shows the percentage, clamped and rounded', () => {
  assert.equal(statusView({ kind: 'indexing', percentage: 42.4 }).text, '$(sync~spin) Threats: indexing 42%');
  assert.equal(statusView({ kind: 'indexing', percentage: 140 }).text, '$(sync~spin) Threats: indexing 100%');
  assert.equal(statusView({ kind: 'indexing' }).text, '$(sync~spin) Threats: indexing');
  assert.match(statusView({ kind: 'indexing', message: '3/10 files' }).tooltip, /3\/10 files/);
});

test('ready: counts with plurals and emphasis', () => {
  const one = statusView({ kind: 'ready', exposures: 1, findings: 0 });
  assert.equal(one.text, '$(shield) 1 open exposure');
  assert.equal(one.emphasis, 'warning');
  const many = statusView({ kind: 'ready', exposures: 3, findings: 2 });
  assert.equal(many.text, '$(shield) 3 open exposures, 2 confirmed findings');
  assert.equal(many.emphasis, 'error');
  const none = statusView({ kind: 'ready', exposures: 0, findings: 0 });
  assert.equal(none.text, '$(shield) Threats: none open');
  assert.equal(none.emphasis, undefined);
});

test('stopped says why', () => {
  const v = statusView({ kind: 'stopped', reason: 'threat-analyzer not found' });
  assert.equal(v.emphasis, 'error');
  assert.match(v.tooltip, /not found/);
});
