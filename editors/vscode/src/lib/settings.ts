/**
 * The extension's settings (`threatAnalyzer.*`) and what of them reaches the server: the JSON
 * the server reads from `initializationOptions` and `workspace/didChangeConfiguration`
 * (`Settings::from_json` in src/lsp/settings.rs). Values are passed on as the user wrote them,
 * except where their type is wrong; the server reports unknown codes and levels itself.
 */

/** Diagnostic codes the server knows (`Code::as_str` in src/diagnostic.rs). */
export const DIAGNOSTIC_CODES = [
  'unmitigated-exposure',
  'confirmed-finding',
  'dangling-reference',
  'duplicate-definition',
  'malformed-annotation',
  'prose-like-annotation',
  'unknown-verb',
  'unused-definition',
  'resource-limit',
  'config-path-missing',
  'invalid-config',
  'stale-anchor',
  'conflict-marker',
  'agent-instruction-in-annotation',
  'mcp-tool-instruction',
  'mcp-tool-shadowing',
  'mcp-server-shell',
  'mcp-unpinned-package',
  'mcp-plain-http',
  'mcp-config-secret',
  'mcp-tool-changed',
  'mcp-tool-removed',
  'mcp-tool-unpinned',
  'invalid-risk',
  'unowned-risk',
  'overdue-risk',
  'unmodelled-resource',
  'no-syntax-tree',
  'unread-annotation',
  'unplaced-boundary-side',
] as const;

export const SEVERITY_LEVELS = ['error', 'warning', 'note', 'off'] as const;

export const CODE_ACTION_DIALECTS = ['auto', 'gal', 'threatspec'] as const;

/** Keys under `threatAnalyzer` that the server reads. */
export const SERVER_SETTING_KEYS = [
  'severity',
  'maxFileSize',
  'include',
  'exclude',
  'codeActionDialect',
  'cache',
  'coverage.scope',
] as const;

/**
 * Settings that change how the server process is started (a restart applies them). They are
 * machine-scoped: VS Code never reads them from a workspace, trusted or not.
 */
export const PROCESS_SETTING_KEYS = ['server.path', 'server.log'] as const;

/**
 * Settings that choose what runs or what is checked and reported: in Restricted Mode VS Code
 * ignores a workspace's value of each (`capabilities.untrustedWorkspaces.restrictedConfigurations`),
 * so an untrusted repository cannot turn findings off, hide files or lift the size limit.
 */
export const RESTRICTED_SETTING_KEYS = [
  ...PROCESS_SETTING_KEYS,
  'severity',
  'maxFileSize',
  'include',
  'exclude',
  'cache',
] as const;

/**
 * Settings a workspace may set even in Restricted Mode, and why that is harmless. Every
 * contributed setting is in exactly one of the two lists (a test checks the manifest).
 */
export const WORKSPACE_SETTING_KEYS = {
  'trace.server': 'only adds the protocol trace to the Threat Analyzer output',
  codeActionDialect: 'only chooses the dialect of edits the user applies',
  'coverage.scope': 'only narrows what counts as covered (symbol): it can open findings, never hide one',
} as const;

/** Reads one `threatAnalyzer.<key>` setting (VS Code: `getConfiguration('threatAnalyzer').get`). */
export type SettingGetter = (key: string) => unknown;

export interface ServerSettings {
  threatAnalyzer: {
    severity?: Record<string, string>;
    maxFileSize?: number;
    include?: string[];
    exclude?: string[];
    codeActionDialect?: string;
    cache?: boolean;
    coverage?: { scope: string };
  };
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

/** The settings object sent to the server, under `threatAnalyzer` as the server expects. */
export function serverSettings(get: SettingGetter): ServerSettings {
  const out: ServerSettings['threatAnalyzer'] = {};
  const severity = get('severity');
  if (severity !== null && typeof severity === 'object' && !Array.isArray(severity)) {
    const levels: Record<string, string> = {};
    for (const [code, level] of Object.entries(severity as Record<string, unknown>)) {
      if (typeof level === 'string') {
        levels[code] = level;
      }
    }
    out.severity = levels;
  }
  const maxFileSize = get('maxFileSize');
  if (typeof maxFileSize === 'number' && Number.isSafeInteger(maxFileSize) && maxFileSize > 0) {
    out.maxFileSize = maxFileSize;
  }
  const scope = get('coverage.scope');
  if (scope === 'file' || scope === 'symbol') {
    out.coverage = { scope };
  }
  const include = stringArray(get('include'));
  if (include) {
    out.include = include;
  }
  const exclude = stringArray(get('exclude'));
  if (exclude) {
    out.exclude = exclude;
  }
  const dialect = get('codeActionDialect');
  if (typeof dialect === 'string') {
    out.codeActionDialect = dialect;
  }
  const cache = get('cache');
  if (typeof cache === 'boolean') {
    out.cache = cache;
  }
  return { threatAnalyzer: out };
}

/** Environment for the server process: its log filter (`THREAT_ANALYZER_LOG`). */
export function serverEnvironment(get: SettingGetter, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const level = get('server.log');
  const env = { ...base };
  if (typeof level === 'string' && level.trim() !== '') {
    env.THREAT_ANALYZER_LOG = level.trim();
  }
  return env;
}

/** Which of the keys (`threatAnalyzer.` + key) a configuration change touched. */
export function changedKeys(affects: (section: string) => boolean, keys: readonly string[]): string[] {
  return keys.filter((k) => affects(`threatAnalyzer.${k}`));
}
