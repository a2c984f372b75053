/**
 * Messages between the extension and the diagram webview, and their validation. Everything the
 * webview posts is untrusted input to the extension: it is checked field by field, and anything
 * else is dropped.
 */

export type DiagramScope = 'project' | 'file';

/** Webview -> extension. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'refresh' }
  | { type: 'scope'; scope: DiagramScope }
  /** A click on a node or boundary: its `data-key` id and the first line of its title. */
  | { type: 'reveal'; id: string; kind: 'node' | 'boundary'; label: string };

/** Extension -> webview. */
export type HostMessage =
  | { type: 'loading'; scopeLabel: string; scope: DiagramScope }
  | { type: 'diagram'; svg: string; scopeLabel: string; scope: DiagramScope }
  | { type: 'error'; message: string; scopeLabel: string; scope: DiagramScope; text?: string };

/** Ids the server writes into `data-key` (`safe_id` in src/render/dfd.rs). */
const ID = /^[A-Za-z0-9_]{1,200}$/;
const MAX_LABEL = 500;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The message if it is one the webview may send, else undefined. */
export function parseWebviewMessage(raw: unknown): WebviewMessage | undefined {
  if (!isRecord(raw) || typeof raw.type !== 'string') {
    return undefined;
  }
  switch (raw.type) {
    case 'ready':
    case 'refresh':
      return { type: raw.type };
    case 'scope':
      return raw.scope === 'project' || raw.scope === 'file' ? { type: 'scope', scope: raw.scope } : undefined;
    case 'reveal': {
      const { id, kind, label } = raw;
      if (typeof id !== 'string' || !ID.test(id)) {
        return undefined;
      }
      if (kind !== 'node' && kind !== 'boundary') {
        return undefined;
      }
      if (typeof label !== 'string' || label.length > MAX_LABEL) {
        return undefined;
      }
      return { type: 'reveal', id, kind, label: label.trim() };
    }
    default:
      return undefined;
  }
}
