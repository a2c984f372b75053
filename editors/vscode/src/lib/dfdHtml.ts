/**
 * The diagram webview's HTML shell and its Content-Security-Policy. The page holds no diagram
 * text: the SVG arrives later by `postMessage` and the page script (src/webview/main.ts, a local
 * file loaded with a per-page nonce) parses and sanitises it. Nothing remote is ever loaded.
 */

/** HTML text and attribute escaping. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A nonce from 16 random bytes (base64 without padding, `[A-Za-z0-9+/]`). */
export function makeNonce(randomBytes: (n: number) => Uint8Array): string {
  return Buffer.from(randomBytes(16)).toString('base64').replace(/=+$/, '');
}

const NONCE = /^[A-Za-z0-9+/]{16,}$/;

/** The policy: nothing by default; styles from the extension or with the nonce; scripts only with the nonce. */
// @exposes Editor to #script-injection -- "the diagram webview shows annotation text"
// @mitigates Editor against #script-injection using #strict-csp
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  if (!NONCE.test(nonce)) {
    throw new Error('invalid nonce');
  }
  if (/[;,\r\n]/.test(cspSource) || cspSource.trim() === '') {
    throw new Error(`invalid CSP source: ${cspSource}`);
  }
  return [
    "default-src 'none'",
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    "img-src 'none'",
    "font-src 'none'",
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export interface DfdPageOptions {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  title: string;
}

/** The page: toolbar (scope, zoom, legend, refresh), a status line, the canvas and a legend. */
export function dfdHtml(o: DfdPageOptions): string {
  const csp = contentSecurityPolicy(o.cspSource, o.nonce);
  const nonce = escapeHtml(o.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}" nonce="${nonce}">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
<div class="toolbar" role="toolbar" aria-label="Diagram">
  <div class="group" role="radiogroup" aria-label="Scope">
    <button type="button" id="scope-project" data-scope="project" role="radio" aria-checked="true">Project</button>
    <button type="button" id="scope-file" data-scope="file" role="radio" aria-checked="false">Current file</button>
  </div>
  <div class="group">
    <button type="button" id="zoom-out" title="Zoom out (-)" aria-label="Zoom out">&minus;</button>
    <button type="button" id="zoom-reset" title="Actual size (0)" aria-label="Actual size">100%</button>
    <button type="button" id="zoom-in" title="Zoom in (+)" aria-label="Zoom in">+</button>
    <button type="button" id="zoom-fit" title="Fit to window (F)" aria-label="Fit to window">Fit</button>
  </div>
  <div class="group">
    <button type="button" id="legend-toggle" aria-pressed="false" aria-controls="legend">Legend</button>
    <button type="button" id="refresh" title="Ask the server again">Refresh</button>
  </div>
  <span id="status" class="status" role="status" aria-live="polite">Loading…</span>
</div>
<aside id="legend" class="legend" hidden>
  <h2>Legend</h2>
  <ul>
    <li><span class="swatch shape-actor"></span>Actor / external entity (rectangle)</li>
    <li><span class="swatch shape-process"></span>Process (rounded rectangle)</li>
    <li><span class="swatch shape-store"></span>Data store (cylinder)</li>
    <li><span class="swatch shape-boundary"></span>Trust boundary (dashed box)</li>
    <li><span class="swatch shape-component"></span>Component of a ThreatSpec path <code>A:B:C</code> (thin grey box, nested)</li>
    <li>⚠ open exposure (not mitigated, accepted or transferred) · ✗ confirmed finding, each named with its [severity]; the tooltip lists them all</li>
    <li><span class="swatch tone-critical"></span>worst is critical (dark red, 4 px border)</li>
    <li><span class="swatch tone-high"></span>worst is high, or an unrated finding (orange, 3 px)</li>
    <li><span class="swatch tone-medium"></span>medium · <span class="swatch tone-low"></span>low · <span class="swatch tone-unrated"></span>unrated (2 px)</li>
    <li><span class="swatch tone-clean"></span>✓ nothing open: mitigated · accepted · transferred</li>
    <li>data: classifications from <code>@handles</code></li>
  </ul>
  <p>Click an element to open the annotation that defines it. Scroll with Ctrl (or pinch) to zoom.</p>
</aside>
<main id="canvas" class="canvas" tabindex="0" aria-label="Data-flow diagram"></main>
<pre id="fallback" class="fallback" hidden></pre>
<script nonce="${nonce}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}

/** Largest diagram the panel shows (the server's SVG for 10,000 elements is a few MB). */
export const MAX_SVG_BYTES = 32 * 1024 * 1024;

/**
 * The `<svg>` element of the server's standalone SVG document: the XML declaration and comments
 * before it are dropped. Undefined when the text is not an SVG document (a DOCTYPE, which
 * could declare entities, is refused).
 */
export function svgElementText(text: string): string | undefined {
  if (text.length > MAX_SVG_BYTES) {
    return undefined;
  }
  let rest = text.replace(/^\uFEFF/, '');
  for (;;) {
    rest = rest.trimStart();
    if (rest.startsWith('<?xml')) {
      const end = rest.indexOf('?>');
      if (end < 0) return undefined;
      rest = rest.slice(end + 2);
    } else if (rest.startsWith('<!--')) {
      const end = rest.indexOf('-->');
      if (end < 0) return undefined;
      rest = rest.slice(end + 3);
    } else {
      break;
    }
  }
  return /^<svg[\s>]/.test(rest) ? rest.trimEnd() : undefined;
}
