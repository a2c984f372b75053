/**
 * The status-bar item's text: indexing progress while the server walks the workspace, then the
 * number of open exposures (unmitigated-exposure diagnostics) and confirmed findings. Pure: the
 * extension feeds it `$/progress` values and the current diagnostics.
 */

export const SOURCE = 'threat-analyzer';
export const EXPOSURE_CODE = 'unmitigated-exposure';
export const FINDING_CODE = 'confirmed-finding';

export type StatusState =
  | { kind: 'starting' }
  | { kind: 'indexing'; percentage?: number; message?: string }
  | { kind: 'ready'; exposures: number; findings: number }
  | { kind: 'stopped'; reason?: string };

export interface StatusView {
  /** Status-bar text (with `$(icon)` codicons). */
  text: string;
  tooltip: string;
  /** Background: `warning` for open exposures, `error` for findings or a stopped server. */
  emphasis?: 'warning' | 'error';
}

/** A diagnostic as far as counting goes (VS Code's `code` may be `{ value, target }`). */
export interface CountedDiagnostic {
  source?: string;
  code?: string | number | { value: string | number } | null;
}

function codeOf(d: CountedDiagnostic): string | undefined {
  const c = d.code;
  if (c === undefined || c === null) {
    return undefined;
  }
  return typeof c === 'object' ? String(c.value) : String(c);
}

/** Open exposures and confirmed findings among the server's diagnostics. */
export function countFindings(diagnostics: Iterable<CountedDiagnostic>): { exposures: number; findings: number } {
  let exposures = 0;
  let findings = 0;
  for (const d of diagnostics) {
    if (d.source !== SOURCE) {
      continue;
    }
    const code = codeOf(d);
    if (code === EXPOSURE_CODE) {
      exposures += 1;
    } else if (code === FINDING_CODE) {
      findings += 1;
    }
  }
  return { exposures, findings };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function statusView(state: StatusState): StatusView {
  switch (state.kind) {
    case 'starting':
      return { text: '$(loading~spin) Threats', tooltip: 'Threat Analyzer: starting the language server' };
    case 'indexing': {
      const pct = state.percentage === undefined ? '' : ` ${Math.max(0, Math.min(100, Math.round(state.percentage)))}%`;
      const detail = state.message ? ` (${state.message})` : '';
      return {
        text: `$(sync~spin) Threats: indexing${pct}`,
        tooltip: `Threat Analyzer: indexing the workspace${detail}`,
      };
    }
    case 'ready': {
      const parts = [plural(state.exposures, 'open exposure', 'open exposures')];
      if (state.findings > 0) {
        parts.push(plural(state.findings, 'confirmed finding', 'confirmed findings'));
      }
      const clean = state.exposures === 0 && state.findings === 0;
      return {
        text: clean ? '$(shield) Threats: none open' : `$(shield) ${parts.join(', ')}`,
        tooltip: `Threat Analyzer: ${parts.join(', ')}. Click to show them in the Problems view.`,
        emphasis: state.findings > 0 ? 'error' : state.exposures > 0 ? 'warning' : undefined,
      };
    }
    case 'stopped':
      return {
        text: '$(error) Threats: server stopped',
        tooltip: `Threat Analyzer: the language server is not running${state.reason ? ` (${state.reason})` : ''}. Click for the output.`,
        emphasis: 'error',
      };
  }
}
