import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  changedKeys,
  CODE_ACTION_DIALECTS,
  DIAGNOSTIC_CODES,
  PROCESS_SETTING_KEYS,
  RESTRICTED_SETTING_KEYS,
  SERVER_SETTING_KEYS,
  serverEnvironment,
  serverSettings,
  SEVERITY_LEVELS,
  WORKSPACE_SETTING_KEYS,
} from '../src/lib/settings';
import { generated, manifest } from './repo';

const getter = (values: Record<string, unknown>) => (key: string) => values[key];

test('maps the settings under threatAnalyzer, as the server reads them', () => {
  const s = serverSettings(
    getter({
      severity: { 'unused-definition': 'off', 'unknown-verb': 'error' },
      maxFileSize: 1048576,
      include: ['src/**'],
      exclude: ['vendor/', '**/testdata/**'],
      codeActionDialect: 'gal',
      cache: false,
      'server.path': '/x',
    }),
  );
  assert.deepEqual(s, {
    threatAnalyzer: {
      severity: { 'unused-definition': 'off', 'unknown-verb': 'error' },
      maxFileSize: 1048576,
      include: ['src/**'],
      exclude: ['vendor/', '**/testdata/**'],
      codeActionDialect: 'gal',
      cache: false,
    },
  });
});

test('drops values of the wrong type instead of sending them', () => {
  const s = serverSettings(
    getter({ severity: ['off'], maxFileSize: -3, include: 'src', exclude: ['a', 3, null], codeActionDialect: 7, cache: 'no' }),
  );
  assert.deepEqual(s, { threatAnalyzer: { exclude: ['a'] } });
  assert.deepEqual(serverSettings(getter({ maxFileSize: 1.5, severity: { a: 1, b: 'note' } })), {
    threatAnalyzer: { severity: { b: 'note' } },
  });
});

test('every key the server reads is contributed, with the server default', () => {
  // The keys the server's `Settings::from_json` reads and the dialects it takes
  // (`SETTING_KEYS`, `CODE_ACTION_DIALECTS` in src/lsp/settings.rs, via the generated table).
  const server = generated('settings.json');
  const props = manifest().contributes.configuration.properties;
  for (const key of SERVER_SETTING_KEYS) {
    assert.ok(props[`threatAnalyzer.${key}`], `package.json lacks threatAnalyzer.${key}`);
    assert.ok(props[`threatAnalyzer.${key}`].description || props[`threatAnalyzer.${key}`].markdownDescription, key);
  }
  assert.deepEqual([...server.serverSettingKeys].sort(), [...SERVER_SETTING_KEYS].sort());
  // The walk's default (walk::DEFAULT_MAX_FILE_SIZE, the resource limit).
  assert.equal(props['threatAnalyzer.maxFileSize'].default, server.maxFileSize);
  assert.deepEqual(props['threatAnalyzer.codeActionDialect'].enum, [...CODE_ACTION_DIALECTS]);
  assert.deepEqual(server.codeActionDialects, [...CODE_ACTION_DIALECTS]);
  assert.equal(props['threatAnalyzer.codeActionDialect'].default, server.codeActionDialects[0]);
});

test('severity: one property per diagnostic code of the server, each with every level', () => {
  const server = generated('settings.json');
  const codes: string[] = server.diagnosticCodes.map((c: any) => c.code);
  assert.deepEqual([...codes].sort(), [...DIAGNOSTIC_CODES].sort());
  assert.deepEqual(server.severityLevels, [...SEVERITY_LEVELS]);
  const severity = manifest().contributes.configuration.properties['threatAnalyzer.severity'];
  assert.deepEqual(Object.keys(severity.properties).sort(), [...DIAGNOSTIC_CODES].sort());
  for (const { code, defaultLevel } of server.diagnosticCodes) {
    assert.deepEqual(severity.properties[code].enum, [...SEVERITY_LEVELS]);
    assert.ok(severity.properties[code].markdownDescription.includes(`(default: ${defaultLevel}`), code);
  }
});

test('server.log becomes THREAT_ANALYZER_LOG; empty keeps the environment', () => {
  assert.equal(serverEnvironment(getter({ 'server.log': ' debug ' }), { A: '1' }).THREAT_ANALYZER_LOG, 'debug');
  assert.deepEqual(serverEnvironment(getter({ 'server.log': '' }), { A: '1' }), { A: '1' });
});

test('changedKeys names the touched settings', () => {
  const touched = new Set(['threatAnalyzer.exclude', 'threatAnalyzer.server.path']);
  assert.deepEqual(changedKeys((s) => touched.has(s), SERVER_SETTING_KEYS), ['exclude']);
  assert.deepEqual(changedKeys((s) => touched.has(s), ['server.path', 'server.log']), ['server.path']);
});

test('settings that choose the program are machine-scoped: never read from a workspace', () => {
  const props = manifest().contributes.configuration.properties;
  for (const key of PROCESS_SETTING_KEYS) {
    assert.equal(props[`threatAnalyzer.${key}`].scope, 'machine', key);
  }
});

test('Restricted Mode: a workspace cannot set what runs or what is reported', () => {
  const untrusted = manifest().capabilities.untrustedWorkspaces;
  assert.equal(untrusted.supported, 'limited');
  assert.ok(untrusted.description);
  assert.deepEqual(
    [...untrusted.restrictedConfigurations].sort(),
    RESTRICTED_SETTING_KEYS.map((k) => `threatAnalyzer.${k}`).sort(),
  );
  // Every server setting and every process setting is restricted.
  for (const key of [...SERVER_SETTING_KEYS, ...PROCESS_SETTING_KEYS]) {
    if (!(key in WORKSPACE_SETTING_KEYS)) {
      assert.ok((RESTRICTED_SETTING_KEYS as readonly string[]).includes(key), key);
    }
  }
});

test('every contributed setting is either restricted or says why a workspace may set it', () => {
  const contributed = Object.keys(manifest().contributes.configuration.properties).map((k) =>
    k.replace(/^threatAnalyzer\./, ''),
  );
  const restricted = new Set<string>(RESTRICTED_SETTING_KEYS);
  const allowed = new Set(Object.keys(WORKSPACE_SETTING_KEYS));
  for (const key of contributed) {
    assert.ok(restricted.has(key) !== allowed.has(key), `${key}: in exactly one of the two lists`);
  }
  assert.deepEqual([...restricted, ...allowed].sort(), [...contributed].sort());
});
