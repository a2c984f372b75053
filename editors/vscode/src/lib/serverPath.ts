/**
 * Where the `threat-analyzer` binary is: the `threatAnalyzer.server.path` setting, else the
 * first `threat-analyzer` on PATH. Pure apart from the file-system probe, which is passed in
 * (tests use a temporary directory). Never runs the binary.
 *
 * Nothing in the opened workspace may choose the program: the setting is machine-scoped (VS
 * Code never reads it from workspace settings), and a path that would resolve against the
 * workspace (relative, or through `${workspaceFolder}`) or a relative PATH entry is refused,
 * so a repository's own script is never what runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const SERVER_NAME = 'threat-analyzer';

/** What a user without the server runs (shown in the notification). */
export const INSTALL_COMMAND = 'cargo install --locked --path .';

export interface ServerLookup {
  /** The `threatAnalyzer.server.path` setting ('' or undefined: not set). */
  configured?: string;
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

/**
 * The setting with `~` and `${userHome}` expanded, or why it is refused: it must then be an
 * absolute path. A relative path or `${workspaceFolder}` would let whichever repository is
 * open pick the program.
 */
export function expandConfiguredPath(
  configured: string,
  lookup: Pick<ServerLookup, 'homedir' | 'platform'>,
): { path: string } | { refused: string } {
  const p = lookup.platform === 'win32' ? path.win32 : path.posix;
  let value = configured.trim();
  if (value.includes('${workspaceFolder')) {
    return { refused: 'names a file of the workspace (${workspaceFolder})' };
  }
  value = value.replace(/\$\{userHome\}/g, lookup.homedir);
  if (value === '~' || value.startsWith('~/') || value.startsWith('~\\')) {
    value = p.join(lookup.homedir, value.slice(1));
  }
  if (!p.isAbsolute(value)) {
    return { refused: 'is a relative path (it would resolve against the workspace)' };
  }
  return { path: value };
}

/** Finds the server (see the module docs). */
export function resolveServer(lookup: ServerLookup): ServerResolution {
  const isExecutable = lookup.isExecutable ?? isExecutableFile;
  const configured = lookup.configured?.trim() ?? '';
  if (configured !== '') {
    const expanded = expandConfiguredPath(configured, lookup);
    if ('refused' in expanded) {
      return {
        kind: 'missing',
        fromSetting: true,
        message: `The setting threatAnalyzer.server.path is "${configured}", which ${expanded.refused}: set the absolute path of the threat-analyzer binary (~ and \${userHome} expand).`,
      };
    }
    if (isExecutable(expanded.path)) {
      return { kind: 'found', path: expanded.path, source: 'setting' };
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
    if (!p.isAbsolute(dir)) {
      continue; // '' and relative entries mean the current directory: never run a binary from there
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
