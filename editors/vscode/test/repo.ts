// Paths of the repository around the extension, for tests that compare the extension with the
// server's sources (so the two cannot drift apart).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** editors/vscode (tests run from out/test). */
export const extensionDir = path.resolve(__dirname, '..', '..');
export const repoDir = path.resolve(extensionDir, '..', '..');

export function readRepo(relative: string): string {
  return fs.readFileSync(path.join(repoDir, relative), 'utf8');
}

/**
 * A table the server's tests write from its own values (`editors/vscode/generated/NAME`, by
 * tests/editors_settings.rs; `UPDATE_GENERATED=1 cargo test --test editors_settings` rewrites
 * them), so these tests compare the extension with the server without parsing Rust.
 */
export function generated(name: 'settings.json' | 'languages.json'): any {
  return JSON.parse(fs.readFileSync(path.join(extensionDir, 'generated', name), 'utf8'));
}

export function manifest(): any {
  return JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8'));
}

/**
 * The body of the first `fn NAME` in a Rust source, up to the next top-level `}`. Only for the
 * setting keys of `Settings::from_json` (src/lsp/server.rs), which no generated table holds yet.
 */
export function rustFunction(source: string, name: string): string {
  const start = source.indexOf(`fn ${name}(`);
  if (start < 0) {
    throw new Error(`no fn ${name}`);
  }
  const end = source.indexOf('\n    }\n', start);
  return source.slice(start, end < 0 ? undefined : end);
}
