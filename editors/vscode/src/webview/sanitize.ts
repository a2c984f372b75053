/**
 * Defence in depth for the diagram SVG before it joins the webview's page. The server already
 * escapes every text and writes no script, style or external reference (src/render/svg.rs);
 * this keeps the page safe even if it one day did: only drawing elements survive, event
 * attributes, `style` attributes and any reference that is not a fragment (`#id`, `url(#id)`)
 * are removed. Works on a DOM-like interface so it is unit-tested without a browser.
 */

export interface AttrLike {
  readonly name: string;
  readonly value: string;
}

export interface ElementLike {
  readonly localName: string;
  readonly namespaceURI: string | null;
  readonly attributes: ArrayLike<AttrLike>;
  readonly children: ArrayLike<ElementLike>;
  removeAttribute(name: string): void;
  remove(): void;
}

export const SVG_NS = 'http://www.w3.org/2000/svg';

/** Elements a drawing needs; everything else (script, foreignObject, image, use, a, style, animate...) goes. */
const ALLOWED_ELEMENTS = new Set([
  'svg',
  'g',
  'title',
  'desc',
  'defs',
  'marker',
  'path',
  'rect',
  'circle',
  'ellipse',
  'line',
  'polyline',
  'polygon',
  'text',
  'tspan',
]);

/** True when an attribute may stay. */
export function attributeAllowed(name: string, value: string): boolean {
  const n = name.toLowerCase();
  if (n.startsWith('on') || n === 'style') {
    return false;
  }
  if (n === 'href' || n.endsWith(':href')) {
    return /^#[A-Za-z0-9_-]+$/.test(value.trim());
  }
  // Any url(...) must be a local fragment (marker-end="url(#dfd-arrow-end)").
  const urls = value.match(/url\s*\(([^)]*)\)/gi) ?? [];
  if (urls.some((u) => !/^url\s*\(\s*['"]?#[A-Za-z0-9_-]+['"]?\s*\)$/i.test(u))) {
    return false;
  }
  return !/javascript:|data:|@import|expression\s*\(/i.test(value);
}

export interface SanitizeReport {
  removedElements: number;
  removedAttributes: number;
}

// @mitigates Editor against #script-injection using #svg-sanitizer
/** Sanitises `root` in place; throws if it is not an SVG `<svg>` element. */
export function sanitizeSvg(root: ElementLike): SanitizeReport {
  if (root.localName !== 'svg' || root.namespaceURI !== SVG_NS) {
    throw new Error('not an SVG document');
  }
  const report: SanitizeReport = { removedElements: 0, removedAttributes: 0 };
  const visit = (el: ElementLike): void => {
    for (const attr of Array.from(el.attributes)) {
      if (!attributeAllowed(attr.name, attr.value)) {
        el.removeAttribute(attr.name);
        report.removedAttributes += 1;
      }
    }
    for (const child of Array.from(el.children)) {
      if (child.namespaceURI !== SVG_NS || !ALLOWED_ELEMENTS.has(child.localName)) {
        child.remove();
        report.removedElements += 1;
      } else {
        visit(child);
      }
    }
  };
  visit(root);
  return report;
}
