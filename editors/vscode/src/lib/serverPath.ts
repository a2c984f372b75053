/**
 * Where the `threat-analyzer` binary is: the `threatAnalyzer.server.path` setting, else the
 * first `threat-analyzer` on PATH. Pure apart from the file-system probe, which is passed in
 * (tests use a temporary directory). Never runs the binary.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const SERVER_NAME = 'threat-analyzer';

/** What a user without the server runs (shown in the notification). */
export const INSTALL_COMMAND = 'cargo install --locked --path .';

export interface ServerLookup {
  /** The `threatAnalyzer.server.path` setting ('' or undefined: not set). */
  configured?: string;
  /** The first workspace folder, for `${workspaceFolder}` and relative settings. */
  workspaceFolder?: string;
  /** The PATH environment variable. */
  envPath: string;
  /** PATHEXT (Windows only). */
  pathExt?: string;
  platform: NodeJS.Platform;
  homedir: string;
  isExecutable?: (file: string) => boolean;
}

export type ServerResolution =
  | { kind: 'found'; path: string; source: 'setting' | 'PATH' }
  | { kind: 'missing'; message: string; fromSetting: boolean };

/** True for an existing regular file this process may execute. */
export function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The setting with `~`, `${userHome}` and `${workspaceFolder}` expanded, made absolute. */
export function expandConfiguredPath(
  configured: string,
  lookup: Pick<ServerLookup, 'workspaceFolder' | 'homedir' | 'platform'>,
): string {
  const p = lookup.platform === 'win32' ? path.win32 : path.posix;
  let value = configured.trim();
  value = value.replace(/\$\{userHome\}/g, lookup.homedir);
  if (lookup.workspaceFolder !== undefined) {
    value = value.replace(/\$\{workspaceFolder\}/g, lookup.workspaceFolder);
  }
  if (value === '~' || value.startsWith('~/') || value.startsWith('~\\')) {
    value = p.join(lookup.homedir, value.slice(1));
  }
  if (!p.isAbsolute(value) && lookup.workspaceFolder !== undefined) {
    value = p.join(lookup.workspaceFolder, value);
  }
  return value;
}

/** Finds the server (see the module docs). */
export function resolveServer(lookup: ServerLookup): ServerResolution {
  const isExecutable = lookup.isExecutable ?? isExecutableFile;
  const configured = lookup.configured?.trim() ?? '';
  if (configured !== '') {
    const file = expandConfiguredPath(configured, lookup);
    if (isExecutable(file)) {
      return { kind: 'found', path: file, source: 'setting' };
    }
    return {
      kind: 'missing',
      fromSetting: true,
      message: `The setting threatAnalyzer.server.path is "${configured}", which is not an executable file.`,
    };
  }
  const p = lookup.platform === 'win32' ? path.win32 : path.posix;
  const delimiter = lookup.platform === 'win32' ? ';' : ':';
  const extensions =
    lookup.platform === 'win32'
      ? (lookup.pathExt ?? '.EXE;.CMD;.BAT;.COM').split(';').filter((e) => e !== '')
      : [''];
  for (const dir of lookup.envPath.split(delimiter)) {
    if (dir === '') {
      continue; // an empty entry means the current directory: never run a binary from there
    }
    for (const ext of extensions) {
      const file = p.join(dir, SERVER_NAME + ext.toLowerCase());
      if (isExecutable(file)) {
        return { kind: 'found', path: file, source: 'PATH' };
      }
    }
  }
  return {
    kind: 'missing',
    fromSetting: false,
    message: `The threat-analyzer language server was not found on PATH. Install it with \`${INSTALL_COMMAND}\` in a checkout of the threat-analyzer repository (or download a release binary), then set threatAnalyzer.server.path or restart VS Code.`,
  };
}
