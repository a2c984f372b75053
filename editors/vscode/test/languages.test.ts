import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activationEvents, documentSelector, SERVER_LANGUAGES, vscodeLanguageIds } from '../src/lib/languages';
import { generated, manifest } from './repo';

test('maps exactly the languages of the server registry (Language::name)', () => {
  const names: string[] = [...generated('languages.json').languages].sort();
  assert.ok(names.length >= 20, `only ${names.length} names in generated/languages.json`);
  assert.deepEqual(Object.keys(SERVER_LANGUAGES).sort(), names);
  for (const [name, ids] of Object.entries(SERVER_LANGUAGES)) {
    assert.ok(ids.length > 0, `${name} has no VS Code language id`);
  }
});

test('the manifest activates on every served language and on annotation files', () => {
  const m = manifest();
  assert.deepEqual(m.activationEvents, activationEvents());
  for (const id of vscodeLanguageIds()) {
    assert.ok(m.activationEvents.includes(`onLanguage:${id}`), id);
  }
  assert.ok(m.activationEvents.includes('workspaceContains:**/threatspec.yaml'));
  assert.ok(m.activationEvents.includes('workspaceContains:**/*.gal'));
});

test('the manifest contributes the gal and threatspec languages with a grammar', () => {
  const m = manifest();
  const langs = new Map(m.contributes.languages.map((l: any) => [l.id, l]));
  assert.deepEqual((langs.get('gal') as any).extensions, ['.gal']);
  assert.deepEqual((langs.get('threatspec') as any).extensions, ['.threatspec']);
  const grammars = m.contributes.grammars.map((g: any) => g.language).sort();
  assert.deepEqual(grammars, ['gal', 'threatspec']);
});

test('document selector: every id on disk and unsaved; plaintext only for .txt', () => {
  const selector = documentSelector();
  for (const id of vscodeLanguageIds()) {
    assert.ok(selector.some((f) => f.language === id && f.scheme === 'file'), id);
    assert.ok(selector.some((f) => f.language === id && f.scheme === 'untitled'), id);
  }
  const plain = selector.find((f) => f.language === 'plaintext' && f.scheme === 'file');
  assert.equal(plain?.pattern, '**/*.txt');
  assert.equal(selector.find((f) => f.language === 'python' && f.scheme === 'file')?.pattern, undefined);
});
