/**
 * The diagram webview's script (bundled to dist/webview.js, loaded with the page's nonce).
 * Receives the server's SVG by message, parses it as XML (never as HTML, never into a script),
 * sanitises it, and shows it with zoom; a click on an element posts its id back so the
 * extension can open the annotation that defines it.
 */
import type { DiagramScope, HostMessage, WebviewMessage } from '../lib/messages';
import { sanitizeSvg } from './sanitize';
import { clampZoom, fitZoom, naturalSize, ZOOM_STEP } from './zoom';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface State {
  zoom?: number;
  legend?: boolean;
}

const vscode = acquireVsCodeApi();
const saved = (vscode.getState() ?? {}) as State;
let zoom = clampZoom(saved.zoom ?? 1);
let fitted = saved.zoom !== undefined;
let natural: { width: number; height: number } | undefined;

const canvas = document.getElementById('canvas') as HTMLElement;
const status = document.getElementById('status') as HTMLElement;
const fallback = document.getElementById('fallback') as HTMLPreElement;
const legend = document.getElementById('legend') as HTMLElement;
const legendToggle = document.getElementById('legend-toggle') as HTMLButtonElement;

function post(message: WebviewMessage): void {
  vscode.postMessage(message);
}

function saveState(): void {
  vscode.setState({ zoom, legend: !legend.hidden } satisfies State);
}

function currentSvg(): SVGSVGElement | null {
  return canvas.querySelector(':scope > svg');
}

function applyZoom(): void {
  const svg = currentSvg();
  if (!svg || !natural) {
    return;
  }
  svg.setAttribute('width', String(Math.round(natural.width * zoom)));
  svg.setAttribute('height', String(Math.round(natural.height * zoom)));
  document.body.dataset.zoom = zoom.toFixed(3);
  (document.getElementById('zoom-reset') as HTMLButtonElement).textContent = `${Math.round(zoom * 100)}%`;
  saveState();
}

function setZoom(z: number): void {
  zoom = clampZoom(z);
  applyZoom();
}

function fit(): void {
  if (!natural) {
    return;
  }
  setZoom(fitZoom(natural.width, natural.height, canvas.clientWidth - 16, canvas.clientHeight - 16));
}

function setScope(scope: DiagramScope): void {
  for (const id of ['scope-project', 'scope-file']) {
    const b = document.getElementById(id) as HTMLButtonElement;
    b.setAttribute('aria-checked', String(b.dataset.scope === scope));
  }
}

/** The first line of an element's own `<title>` (its label). */
function titleOf(el: Element): string {
  const title = Array.from(el.children).find((c) => c.localName === 'title');
  return (title?.textContent ?? '').split('\n')[0].replace(/^(Trust boundary|Component): /, '');
}

function showDiagram(svgText: string): void {
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  if (doc.getElementsByTagName('parsererror').length > 0) {
    throw new Error('the server sent an SVG that does not parse');
  }
  const root = doc.documentElement;
  sanitizeSvg(root);
  const svg = document.importNode(root, true) as unknown as SVGSVGElement;
  natural = naturalSize(svg.getAttribute('viewBox'), svg.getAttribute('width'), svg.getAttribute('height'));
  for (const g of Array.from(svg.querySelectorAll('g[data-key]'))) {
    g.setAttribute('tabindex', '0');
    g.setAttribute('role', 'button');
    g.setAttribute('aria-label', `Open the annotation of ${titleOf(g)}`);
  }
  canvas.replaceChildren(svg);
  canvas.hidden = false;
  fallback.hidden = true;
  fallback.textContent = '';
  const nodes = svg.querySelectorAll('g[data-key]:not([data-kind="boundary"]):not([data-kind="component"])').length;
  document.body.dataset.nodes = String(nodes);
  if (fitted) {
    applyZoom();
  } else {
    fitted = true;
    fit();
  }
}

function reveal(target: EventTarget | null): void {
  const g = target instanceof Element ? target.closest('g[data-key]') : null;
  if (!g) {
    return;
  }
  const id = g.getAttribute('data-key') ?? '';
  // A component group is a cluster like a boundary; its id still names its component.
  const cluster = ['boundary', 'component'].includes(g.getAttribute('data-kind') ?? '');
  const kind = cluster ? 'boundary' : 'node';
  post({ type: 'reveal', id, kind, label: titleOf(g) });
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const m = event.data;
  if (!m || typeof m !== 'object') {
    return;
  }
  switch (m.type) {
    case 'loading':
      setScope(m.scope);
      status.textContent = `${m.scopeLabel}: loading…`;
      break;
    case 'diagram':
      setScope(m.scope);
      try {
        showDiagram(m.svg);
        status.textContent = `${m.scopeLabel} · ${document.body.dataset.nodes} elements`;
      } catch (e) {
        status.textContent = `${m.scopeLabel}: ${e instanceof Error ? e.message : String(e)}`;
      }
      break;
    case 'error':
      setScope(m.scope);
      status.textContent = `${m.scopeLabel}: ${m.message}`;
      canvas.replaceChildren();
      natural = undefined;
      fallback.textContent = m.text ?? '';
      fallback.hidden = !m.text;
      canvas.hidden = !fallback.hidden;
      break;
  }
});

canvas.addEventListener('click', (e) => reveal(e.target));
canvas.addEventListener('keydown', (e) => {
  if ((e.key === 'Enter' || e.key === ' ') && e.target instanceof Element && e.target.matches('g[data-key]')) {
    e.preventDefault();
    reveal(e.target);
  }
});
canvas.addEventListener(
  'wheel',
  (e) => {
    if (e.ctrlKey) {
      e.preventDefault();
      setZoom(zoom * (e.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP));
    }
  },
  { passive: false },
);
document.addEventListener('keydown', (e) => {
  if (e.target instanceof Element && e.target.closest('g[data-key]') && (e.key === 'Enter' || e.key === ' ')) {
    return;
  }
  if (e.key === '+' || e.key === '=') setZoom(zoom * ZOOM_STEP);
  else if (e.key === '-') setZoom(zoom / ZOOM_STEP);
  else if (e.key === '0') setZoom(1);
  else if (e.key === 'f' || e.key === 'F') fit();
});

document.getElementById('zoom-in')?.addEventListener('click', () => setZoom(zoom * ZOOM_STEP));
document.getElementById('zoom-out')?.addEventListener('click', () => setZoom(zoom / ZOOM_STEP));
document.getElementById('zoom-reset')?.addEventListener('click', () => setZoom(1));
document.getElementById('zoom-fit')?.addEventListener('click', fit);
document.getElementById('refresh')?.addEventListener('click', () => post({ type: 'refresh' }));
for (const id of ['scope-project', 'scope-file']) {
  const b = document.getElementById(id) as HTMLButtonElement;
  b.addEventListener('click', () => post({ type: 'scope', scope: b.dataset.scope as DiagramScope }));
}
legend.hidden = !saved.legend;
legendToggle.setAttribute('aria-pressed', String(!legend.hidden));
legendToggle.addEventListener('click', () => {
  legend.hidden = !legend.hidden;
  legendToggle.setAttribute('aria-pressed', String(!legend.hidden));
  saveState();
});

post({ type: 'ready' });
