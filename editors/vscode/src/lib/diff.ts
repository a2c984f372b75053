/**
 * "Compare Threat Model with…": asks the server for `threat-analyzer.diff` (through a request
 * function the extension passes in, so tests hand it a fake client) and turns the JSON it
 * returns (README, "Pull requests"; src/render/diff.rs) into quick-pick entries, most severe
 * first as the server orders them. Pure apart from that request and the file-system probe
 * `locateChange` is given; no `vscode` import.
 *
 * Everything in the result is repository text (names, messages, paths): the quick pick shows
 * it as plain text, with `$(icon)` sequences escaped so a name cannot draw an icon, and a path
 * is only ever joined under the repository's root, never taken as absolute or with `..`. The
 * root is the result's `root` (the server's working-tree root) when it is an absolute path,
 * else the first of the workspace folder and its parents that holds `.git`.
 */
import * as path from 'node:path';

/** The server's command and the base the input box proposes. */
export const DIFF_COMMAND = 'threat-analyzer.diff';
export const DEFAULT_BASE = 'main';

export type Impact = 'risk-increase' | 'review' | 'risk-decrease' | 'neutral';

/** The codicon before each change, by impact. */
export const IMPACT_ICONS: Record<Impact, string> = {
  'risk-increase': '$(error)',
  review: '$(warning)',
  'risk-decrease': '$(pass)',
  neutral: '$(circle-small)',
};

/** The separator above each impact's changes. */
export const IMPACT_TITLES: Record<Impact, string> = {
  'risk-increase': 'Risk increases',
  review: 'To review',
  'risk-decrease': 'Risk decreases',
  neutral: 'Other changes',
};

/** Where a change is: `head` (the workspace) or `base` (the revision; gone from the workspace). */
export interface ChangePlace {
  side: 'head' | 'base';
  /** Relative to the repository's root, `/`-separated. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based; 1 when the server gave none. */
  column: number;
}

/** One row of the quick pick: a change, or the separator above a group of changes. */
export type DiffEntry =
  | { kind: 'separator'; label: string }
  | {
      kind: 'change';
      impact: Impact | 'unknown';
      /** `$(icon) message`. */
      label: string;
      /** `file:line`, with `(base)` for a place on the base; '' without a place. */
      description: string;
      /** The class and severity, e.g. `new-unmitigated-exposure · high`. */
      detail: string;
      place?: ChangePlace;
    };

/** What the quick pick shows: a title for the two sides and verdict, and the entries. */
export interface DiffView {
  title: string;
  /** The repository's working-tree root the places are relative to, as the server gave it. */
  root?: string;
  /** The number of changes (separators not counted). */
  changes: number;
  entries: DiffEntry[];
}

/** What the extension does with a request's outcome. */
export type DiffOutcome = { kind: 'view'; view: DiffView } | { kind: 'error'; message: string };

/** Sends `workspace/executeCommand` with `{command, arguments}` and resolves to its result. */
export type ExecuteCommand = (params: { command: string; arguments: unknown[] }) => Promise<unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : undefined;
}

/**
 * Plain text for a quick-pick label, description or detail: VS Code draws `$(name)` there as
 * an icon unless it is written `\$(name)`, and one line only.
 */
export function plainText(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(/\$\((?=[A-Za-z0-9-]+(?:~[A-Za-z-]+)?\))/g, '\\$(');
}

function impactOf(value: unknown): Impact | 'unknown' {
  return value === 'risk-increase' || value === 'review' || value === 'risk-decrease' || value === 'neutral'
    ? value
    : 'unknown';
}

function placeOf(change: Record<string, unknown>): ChangePlace | undefined {
  const file = str(change.file);
  const line = positive(change.line);
  const side = change.side === 'base' ? 'base' : change.side === 'head' ? 'head' : undefined;
  if (file === undefined || file === '' || line === undefined || side === undefined) {
    return undefined;
  }
  return { side, file, line, column: positive(change.column) ?? 1 };
}

/** `app/db.py:12`, and ` (base)` after a place that exists only on the base. */
export function placeLabel(place: ChangePlace): string {
  return `${place.file}:${place.line}${place.side === 'base' ? ' (base)' : ''}`;
}

function changeEntry(change: Record<string, unknown>): DiffEntry {
  const impact = impactOf(change.impact);
  const icon = impact === 'unknown' ? '$(question)' : IMPACT_ICONS[impact];
  const place = placeOf(change);
  const severity = str(change.severity_word) ?? str(change.severity);
  const detail = [str(change.class) ?? 'change', severity].filter((s) => s !== undefined && s !== '').join(' · ');
  return {
    kind: 'change',
    impact,
    label: `${icon} ${plainText(str(change.message) ?? '(no message)')}`,
    description: place ? plainText(placeLabel(place)) : '',
    detail: plainText(detail),
    place,
  };
}

function sideLabel(side: unknown, fallback: string): string {
  if (!isRecord(side)) {
    return fallback;
  }
  const label = str(side.label) ?? fallback;
  const commit = str(side.commit);
  return commit ? `${label} (${commit.slice(0, 8)})` : label;
}

const VERDICTS: Record<string, string> = {
  'risk-increase': 'risk increase',
  review: 'changes to review',
  'no-risk-increase': 'no risk increase',
  'no-change': 'no change',
};

/**
 * The quick pick for a `threat-analyzer.diff` result: the changes in the server's order (most
 * severe first), a separator where the impact changes. Undefined when the result is not a diff.
 */
export function diffView(result: unknown): DiffView | undefined {
  if (!isRecord(result) || !Array.isArray(result.changes)) {
    return undefined;
  }
  const entries: DiffEntry[] = [];
  let group: string | undefined;
  let changes = 0;
  for (const change of result.changes) {
    if (!isRecord(change)) {
      continue;
    }
    const entry = changeEntry(change);
    if (entry.kind === 'change' && entry.impact !== group) {
      group = entry.impact;
      entries.push({ kind: 'separator', label: entry.impact === 'unknown' ? 'Other' : IMPACT_TITLES[entry.impact] });
    }
    entries.push(entry);
    changes += 1;
  }
  const verdict = VERDICTS[str(result.verdict) ?? ''] ?? str(result.verdict) ?? 'unknown verdict';
  const title = `Threat model: ${sideLabel(result.base, 'base')} → ${sideLabel(result.head, 'workspace')}: ${verdict}, ${changes} ${changes === 1 ? 'change' : 'changes'}`;
  const root = str(result.root);
  const view: DiffView = { title: plainText(title), changes, entries };
  if (root !== undefined && isAbsolutePath(root)) {
    view.root = root;
  }
  return view;
}

/** The message of a failed request (a JSON-RPC error carries the server's reason). */
function errorMessage(e: unknown): string {
  if (e instanceof Error && e.message !== '') {
    return e.message;
  }
  if (isRecord(e) && typeof e.message === 'string' && e.message !== '') {
    return e.message;
  }
  return String(e);
}

/** Runs `threat-analyzer.diff` against `base` (trimmed; empty: the default base) and maps the result. */
export async function requestDiff(execute: ExecuteCommand, base: string): Promise<DiffOutcome> {
  const ref = base.trim();
  let result: unknown;
  try {
    result = await execute({ command: DIFF_COMMAND, arguments: [{ base: ref === '' ? DEFAULT_BASE : ref }] });
  } catch (e) {
    return { kind: 'error', message: errorMessage(e) };
  }
  const view = diffView(result);
  return view ? { kind: 'view', view } : { kind: 'error', message: `${DIFF_COMMAND} returned no diff` };
}

/** What choosing a change does: open `file` at the place, or say why not. */
export type ChangeTarget =
  | { kind: 'open'; file: string; line: number; column: number }
  | { kind: 'message'; message: string };

function isAbsolutePath(p: string): boolean {
  return path.posix.isAbsolute(p) || path.win32.isAbsolute(p);
}

/**
 * The file to open for a chosen change. Paths are relative to the repository's root: `root`
 * (the result's, see {@link DiffView.root}) when given, else the first of `folder` and its
 * parents that holds `.git` (the server compares the first workspace folder's repository; the
 * folder may be a subdirectory). A place on the base, a change without a place, or a path that
 * would leave the root is not opened.
 */
export function locateChange(
  entry: Extract<DiffEntry, { kind: 'change' }>,
  folder: string,
  exists: (p: string) => boolean,
  root?: string,
): ChangeTarget {
  const place = entry.place;
  if (!place) {
    return { kind: 'message', message: 'This change has no place in a file.' };
  }
  if (place.side === 'base') {
    return {
      kind: 'message',
      message: `${placeLabel(place)}: this place exists only in the base revision, not in the workspace, so it is not opened.`,
    };
  }
  const segments = place.file.split('/');
  if (isAbsolutePath(place.file) || segments.some((s) => s === '..' || s === '')) {
    return { kind: 'message', message: `${place.file} is not a path inside the repository; not opened.` };
  }
  const base = root !== undefined && isAbsolutePath(root) ? root : gitRoot(folder, exists);
  return { kind: 'open', file: path.join(base, ...segments), line: place.line, column: place.column };
}

/** The first of `folder` and its parents holding `.git`, else `folder` (servers before `root`). */
function gitRoot(folder: string, exists: (p: string) => boolean): string {
  for (let dir = folder; ; ) {
    if (exists(path.join(dir, '.git'))) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      return folder;
    }
    dir = parent;
  }
}
