// The .gal/.threatspec TextMate grammar, tokenized by the same engine VS Code uses
// (vscode-textmate + the Oniguruma WebAssembly build).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';
import { extensionDir } from './repo';

let grammar: textmate.IGrammar;

before(async () => {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName: string) => {
      if (scopeName !== 'source.gal') return null;
      const file = path.join(extensionDir, 'syntaxes', 'gal.tmLanguage.json');
      return textmate.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
    },
  });
  const loaded = await registry.loadGrammar('source.gal');
  assert.ok(loaded);
  grammar = loaded;
});

/** [text, innermost scope] pairs of a line (whitespace-only tokens dropped). */
function tokens(line: string): [string, string][] {
  const r = grammar.tokenizeLine(line, textmate.INITIAL);
  return r.tokens
    .map((t): [string, string] => [line.slice(t.startIndex, t.endIndex), t.scopes[t.scopes.length - 1]])
    .filter(([text]) => text.trim() !== '');
}

function scopeOf(line: string, text: string): string | undefined {
  return tokens(line).find(([t]) => t === text)?.[1];
}

test('a threat definition: verb, id, severity, references, description', () => {
  const line = '@threat SQL Injection (#sqli) [P0] cwe:CWE-89 owasp:A03:2021 -- "untrusted \\"input\\""';
  assert.equal(scopeOf(line, '@'), 'punctuation.definition.verb.gal');
  assert.equal(scopeOf(line, 'threat'), 'keyword.control.verb.gal');
  assert.equal(scopeOf(line, 'sqli'), 'entity.name.type.id.definition.gal');
  assert.equal(scopeOf(line, 'P0'), 'constant.language.severity.gal');
  assert.equal(scopeOf(line, 'cwe'), 'support.type.reference.gal');
  assert.equal(scopeOf(line, 'CWE-89'), 'constant.other.reference.gal');
  assert.equal(scopeOf(line, 'A03:2021'), 'constant.other.reference.gal');
  assert.equal(scopeOf(line, '--'), 'punctuation.separator.description.gal');
  assert.equal(scopeOf(line, '\\"'), 'constant.character.escape.gal');
  assert.equal(scopeOf(line, ' SQL Injection '), 'source.gal'); // the name is plain text
});

test('a relation: keywords, #id references and flow arrows', () => {
  const line = '@mitigates Shop.Api against #sqli using #parameterised-queries';
  assert.equal(scopeOf(line, 'mitigates'), 'keyword.control.verb.gal');
  assert.equal(scopeOf(line, 'against'), 'keyword.other.gal');
  assert.equal(scopeOf(line, 'using'), 'keyword.other.gal');
  assert.equal(scopeOf(line, 'sqli'), 'variable.other.id.reference.gal');
  assert.equal(scopeOf(line, 'parameterised-queries'), 'variable.other.id.reference.gal');
  const flow = '@flows Shop.Web -> Shop.Api via HTTPS';
  assert.equal(scopeOf(flow, '->'), 'keyword.operator.flow.gal');
  assert.equal(scopeOf(flow, 'via'), 'keyword.other.gal');
});

test('names of definitions are free text: no keywords inside them', () => {
  assert.equal(scopeOf('@control Secrets from the Environment (#env-secrets)', 'from'), undefined);
});

test('ThreatSpec and legacy forms, case-insensitive verbs', () => {
  assert.equal(scopeOf('@Mitigates WebApp:Api against x with y', 'Mitigates'), 'keyword.control.verb.gal');
  assert.equal(scopeOf('@exposes @dmz:@admin to @xss with z', 'dmz'), 'variable.other.id.reference.legacy.gal');
});

test('comments, continuation lines and text that is no annotation', () => {
  assert.equal(tokens('# a note about #sqli')[0][1], 'comment.line.gal');
  assert.equal(tokens('// another')[0][1], 'comment.line.gal');
  assert.equal(scopeOf('-- "more text"', '--'), 'punctuation.separator.description.gal');
  assert.deepEqual(tokens('@unknownverb x'), [['@unknownverb x', 'source.gal']]);
  assert.equal(scopeOf('plain against text', 'against'), undefined);
});
