import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attributeAllowed, type ElementLike, sanitizeSvg, SVG_NS } from '../src/webview/sanitize';

/** A minimal element tree (the browser's DOM is not available under node --test). */
class FakeElement implements ElementLike {
  parent: FakeElement | undefined;
  readonly childList: FakeElement[] = [];
  readonly attrs = new Map<string, string>();
  constructor(
    readonly localName: string,
    attrs: Record<string, string> = {},
    children: FakeElement[] = [],
    readonly namespaceURI: string | null = SVG_NS,
  ) {
    for (const [k, v] of Object.entries(attrs)) this.attrs.set(k, v);
    for (const c of children) {
      c.parent = this;
      this.childList.push(c);
    }
  }
  get attributes() {
    return [...this.attrs].map(([name, value]) => ({ name, value }));
  }
  get children() {
    return this.childList;
  }
  removeAttribute(name: string) {
    this.attrs.delete(name);
  }
  remove() {
    if (this.parent) this.parent.childList.splice(this.parent.childList.indexOf(this), 1);
  }
  names(): string[] {
    return [this.localName, ...this.childList.flatMap((c) => c.names())];
  }
}

const el = (name: string, attrs: Record<string, string> = {}, ...children: FakeElement[]) => new FakeElement(name, attrs, children);

test('keeps a diagram as the server draws it', () => {
  const svg = el(
    'svg',
    { xmlns: SVG_NS, viewBox: '0 0 10 10', 'font-family': 'Helvetica' },
    el('title'),
    el('defs', {}, el('marker', { id: 'dfd-arrow-end' }, el('path', { d: 'M0,0 L10,5 z' }))),
    el('g', { id: 'dfd-n_a', 'data-key': 'n_a', 'data-kind': 'process' }, el('rect', { fill: '#fff' }), el('text', {})),
    el('path', { 'marker-end': 'url(#dfd-arrow-end)', 'stroke-dasharray': '7 4' }),
  );
  const before = svg.names();
  assert.deepEqual(sanitizeSvg(svg), { removedElements: 0, removedAttributes: 0 });
  assert.deepEqual(svg.names(), before);
});

test('removes scripts, foreign content, handlers, styles and external references', () => {
  const foreign = new FakeElement('div', {}, [], 'http://www.w3.org/1999/xhtml');
  const svg = el(
    'svg',
    { onload: 'x()' },
    el('script', {}),
    el('foreignObject', {}, foreign),
    el('g', { onclick: 'x()', style: 'background:url(http://e)' }, el('image', { href: 'http://e/x.png' })),
    el('a', { href: 'javascript:alert(1)' }),
    el('use', { href: '#x' }),
    el('path', { fill: 'url(https://e/p#x)', 'marker-end': 'url(#ok)' }),
    el('g', {}, el('g')),
  );
  const report = sanitizeSvg(svg);
  assert.deepEqual(svg.names(), ['svg', 'g', 'path', 'g', 'g']);
  assert.equal(report.removedElements, 5);
  assert.ok(report.removedAttributes >= 4);
  assert.equal(svg.attrs.has('onload'), false);
  const path = svg.childList[1];
  assert.equal(path.attrs.has('fill'), false);
  assert.equal(path.attrs.get('marker-end'), 'url(#ok)');
});

test('refuses a root that is not an SVG <svg>', () => {
  assert.throws(() => sanitizeSvg(new FakeElement('html', {}, [], 'http://www.w3.org/1999/xhtml')));
  assert.throws(() => sanitizeSvg(new FakeElement('svg', {}, [], null)));
});

test('attribute rules', () => {
  assert.equal(attributeAllowed('data-key', 'n_data__tier'), true);
  assert.equal(attributeAllowed('xlink:href', '#a'), true);
  assert.equal(attributeAllowed('xlink:href', 'https://x'), false);
  assert.equal(attributeAllowed('ONCLICK', ''), false);
  assert.equal(attributeAllowed('fill', 'url( "#grad" )'), true);
  assert.equal(attributeAllowed('fill', "url('data:image/png;base64,AA')"), false);
  assert.equal(attributeAllowed('values', 'javascript:alert(1)'), false);
});
