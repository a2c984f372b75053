/**
 * "Export Report…": the report format a file name asks for, and the argument vector of
 * `threat-analyzer report` (run with execFile, never through a shell).
 */

export type ReportFormat = 'html' | 'markdown';

/** `report.html`/`.htm` -> html; `.md`/`.markdown` -> markdown; anything else: undefined. */
export function reportFormatOf(file: string): ReportFormat | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.html') || lower.endsWith('.htm')) {
    return 'html';
  }
  if (lower.endsWith('.md') || lower.endsWith('.markdown')) {
    return 'markdown';
  }
  return undefined;
}

/**
 * Arguments of `threat-analyzer report --format F -o FILE ROOT`. The user picked FILE in a
 * save dialog, so it may lie outside the project (`--allow-outside-output`); the CLI still
 * refuses to write through a symbolic link.
 */
export function reportArgs(format: ReportFormat, output: string, root: string): string[] {
  return ['report', '--format', format, '--output', output, '--allow-outside-output', '--', root];
}
