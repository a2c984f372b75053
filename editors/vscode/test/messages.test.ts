import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWebviewMessage } from '../src/lib/messages';

test('accepts the messages the page sends', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseWebviewMessage({ type: 'refresh', extra: 1 }), { type: 'refresh' });
  assert.deepEqual(parseWebviewMessage({ type: 'scope', scope: 'file' }), { type: 'scope', scope: 'file' });
  assert.deepEqual(parseWebviewMessage({ type: 'reveal', id: 'n_shop__api', kind: 'node', label: ' Shop.Api ' }), {
    type: 'reveal',
    id: 'n_shop__api',
    kind: 'node',
    label: 'Shop.Api',
  });
});

test('drops anything else', () => {
  for (const bad of [
    null,
    'reveal',
    [],
    {},
    { type: 'eval', code: 'x' },
    { type: 'scope', scope: 'boundary' },
    { type: 'reveal', id: 'n_a"; x', kind: 'node', label: 'a' },
    { type: 'reveal', id: '', kind: 'node', label: 'a' },
    { type: 'reveal', id: 'n_a', kind: 'flow', label: 'a' },
    { type: 'reveal', id: 'n_a', kind: 'node', label: 3 },
    { type: 'reveal', id: 'n_a', kind: 'node', label: 'x'.repeat(501) },
    { type: 'reveal', id: 'n_' + 'a'.repeat(300), kind: 'node', label: 'a' },
  ]) {
    assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
  }
});
