import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { expandConfiguredPath, INSTALL_COMMAND, isExecutableFile, resolveServer } from '../src/lib/serverPath';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ta-vscode-'));
}

function makeFile(dir: string, name: string, mode: number): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, '#!/bin/sh\n');
  fs.chmodSync(file, mode);
  return file;
}

const base = { platform: 'linux' as const, homedir: '/home/u', envPath: '' };

test('the setting wins when it names an executable', () => {
  const dir = tempDir();
  const server = makeFile(dir, 'threat-analyzer', 0o755);
  const onPath = tempDir();
  makeFile(onPath, 'threat-analyzer', 0o755);
  const r = resolveServer({ ...base, configured: server, envPath: onPath });
  assert.deepEqual(r, { kind: 'found', path: server, source: 'setting' });
});

test('a setting that is not executable is reported, not silently replaced by PATH', () => {
  const dir = tempDir();
  const notExec = makeFile(dir, 'threat-analyzer', 0o644);
  const onPath = tempDir();
  makeFile(onPath, 'threat-analyzer', 0o755);
  const r = resolveServer({ ...base, configured: notExec, envPath: onPath });
  assert.equal(r.kind, 'missing');
  assert.ok(r.kind === 'missing' && r.fromSetting && r.message.includes('threatAnalyzer.server.path'));
});

test('PATH: first executable entry; skips non-executables, directories and empty entries', () => {
  const a = tempDir();
  makeFile(a, 'threat-analyzer', 0o644);
  const b = tempDir();
  fs.mkdirSync(path.join(b, 'threat-analyzer'));
  const c = tempDir();
  const good = makeFile(c, 'threat-analyzer', 0o755);
  const d = tempDir();
  makeFile(d, 'threat-analyzer', 0o755);
  const r = resolveServer({ ...base, envPath: ['', a, b, c, d].join(':') });
  assert.deepEqual(r, { kind: 'found', path: good, source: 'PATH' });
});

test('nothing found: the message gives the install command', () => {
  const r = resolveServer({ ...base, envPath: tempDir(), configured: '  ' });
  assert.equal(r.kind, 'missing');
  assert.ok(r.kind === 'missing' && !r.fromSetting);
  assert.ok(r.kind === 'missing' && r.message.includes(INSTALL_COMMAND));
});

test('expands ~ and ${userHome}; absolute paths stay', () => {
  const l = { platform: 'linux' as const, homedir: '/home/u' };
  assert.deepEqual(expandConfiguredPath('~/bin/ta', l), { path: '/home/u/bin/ta' });
  assert.deepEqual(expandConfiguredPath('${userHome}/ta', l), { path: '/home/u/ta' });
  assert.deepEqual(expandConfiguredPath('/abs/ta', l), { path: '/abs/ta' });
});

// A repository's .vscode/settings.json once set "threatAnalyzer.server.path": "tools/ta-helper",
// which resolved against the workspace and ran the repository's own script.
test('a relative or ${workspaceFolder} server path is refused, never resolved against the workspace', () => {
  const ws = tempDir();
  const planted = makeFile(ws, 'ta-helper', 0o755);
  const onPath = tempDir();
  makeFile(onPath, 'threat-analyzer', 0o755);
  const previous = process.cwd();
  process.chdir(ws); // even where the extension host's directory is the workspace
  try {
    for (const configured of ['ta-helper', './ta-helper', '${workspaceFolder}/ta-helper', '${workspaceFolderBasename}/x']) {
      const r = resolveServer({ ...base, configured, envPath: onPath });
      assert.equal(r.kind, 'missing', configured);
      assert.ok(r.kind === 'missing' && r.fromSetting && r.message.includes(`"${configured}"`), configured);
      assert.ok(r.kind === 'missing' && !r.message.includes(planted), configured);
    }
  } finally {
    process.chdir(previous);
  }
});

test('PATH: relative entries (the current directory) are never searched', () => {
  const ws = tempDir();
  fs.mkdirSync(path.join(ws, 'bin'));
  makeFile(path.join(ws, 'bin'), 'threat-analyzer', 0o755);
  makeFile(ws, 'threat-analyzer', 0o755);
  const previous = process.cwd();
  process.chdir(ws);
  try {
    const r = resolveServer({ ...base, envPath: ['.', 'bin', ''].join(':') });
    assert.equal(r.kind, 'missing');
  } finally {
    process.chdir(previous);
  }
});

test('Windows: PATH entries are tried with each PATHEXT extension', () => {
  const seen: string[] = [];
  const r = resolveServer({
    platform: 'win32',
    homedir: 'C:\\Users\\u',
    envPath: 'C:\\a;C:\\b',
    pathExt: '.COM;.EXE',
    isExecutable: (f) => {
      seen.push(f);
      return f === 'C:\\b\\threat-analyzer.exe';
    },
  });
  assert.deepEqual(r, { kind: 'found', path: 'C:\\b\\threat-analyzer.exe', source: 'PATH' });
  assert.deepEqual(seen, ['C:\\a\\threat-analyzer.com', 'C:\\a\\threat-analyzer.exe', 'C:\\b\\threat-analyzer.com', 'C:\\b\\threat-analyzer.exe']);
});

test('isExecutableFile: regular executable files only', () => {
  const dir = tempDir();
  assert.equal(isExecutableFile(makeFile(dir, 'x', 0o755)), true);
  assert.equal(isExecutableFile(makeFile(dir, 'y', 0o600)), false);
  assert.equal(isExecutableFile(dir), false);
  assert.equal(isExecutableFile(path.join(dir, 'missing')), false);
});
