// The extension's manifest and the tables the server's tests generate, for tests that compare
// the extension with the server (so the two cannot drift apart) without parsing Rust sources.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** editors/vscode (tests run from out/test). */
export const extensionDir = path.resolve(__dirname, '..', '..');

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
