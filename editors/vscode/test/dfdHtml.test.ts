import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentSecurityPolicy, dfdHtml, escapeHtml, makeNonce, MAX_SVG_BYTES, svgElementText } from '../src/lib/dfdHtml';

const nonce = makeNonce(() => new Uint8Array(16).map((_, i) => i * 17));
const options = {
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  nonce,
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
  styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/dfd.css',
  title: 'Data-Flow Diagram',
};

test('the CSP allows nothing by default, scripts only with the nonce', () => {
  const csp = contentSecurityPolicy(options.cspSource, nonce);
  const directives = new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
  assert.equal(directives.get('default-src'), "'none'");
  assert.equal(directives.get('script-src'), `'nonce-${nonce}'`);
  assert.equal(directives.get('style-src'), `${options.cspSource} 'nonce-${nonce}'`);
  assert.ok(!csp.includes('unsafe'), csp);
  assert.throws(() => contentSecurityPolicy(options.cspSource, "x' 'unsafe-inline"));
  assert.throws(() => contentSecurityPolicy('https://a; script-src *', nonce));
});

test('the page loads one script, local and with the nonce, and nothing remote', () => {
  const html = dfdHtml(options);
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.deepEqual(scripts, [`<script nonce="${nonce}" src="${options.scriptUri}">`]);
  assert.match(html, new RegExp(`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;`));
  const urls = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(urls.sort(), [options.scriptUri, options.styleUri].sort());
  assert.ok(!/\son\w+=/.test(html), 'no inline event handlers');
  assert.ok(!/style="/.test(html), 'no inline style attributes');
  for (const id of ['zoom-in', 'zoom-out', 'zoom-fit', 'legend', 'scope-project', 'scope-file', 'canvas']) {
    assert.ok(html.includes(`id="${id}"`), id);
  }
});

test('escapes what it writes into the page', () => {
  const html = dfdHtml({ ...options, title: '</title><script>alert(1)</script>', scriptUri: 'x" onload="y' });
  assert.ok(!html.includes('<script>alert(1)'));
  assert.ok(html.includes('&lt;/title&gt;&lt;script&gt;'));
  assert.ok(html.includes('src="x&quot; onload=&quot;y"'));
  assert.equal(escapeHtml(`<a href='x'>&"`), '&lt;a href=&#39;x&#39;&gt;&amp;&quot;');
});

test('nonces are base64 of 16 bytes and differ with the bytes', () => {
  assert.match(nonce, /^[A-Za-z0-9+/]{22}$/);
  assert.notEqual(makeNonce(() => new Uint8Array(16)), makeNonce(() => new Uint8Array(16).fill(1)));
});

test('svgElementText keeps the <svg> element of a standalone document', () => {
  const doc = '<?xml version="1.0" encoding="UTF-8"?>\n<!-- generated -->\n<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>\n';
  assert.equal(svgElementText(doc), '<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>');
  assert.equal(svgElementText('\uFEFF<svg><g/></svg>'), '<svg><g/></svg>');
});

test('svgElementText refuses what is not an SVG document', () => {
  assert.equal(svgElementText('flowchart LR\n  a --> b'), undefined);
  assert.equal(svgElementText('<html><svg></svg></html>'), undefined);
  assert.equal(svgElementText('<!DOCTYPE svg [<!ENTITY x "y">]><svg>&x;</svg>'), undefined);
  assert.equal(svgElementText('<?xml version="1.0"'), undefined);
  assert.equal(svgElementText('<svgfoo/>'), undefined);
  assert.equal(svgElementText(`<svg>${' '.repeat(MAX_SVG_BYTES)}</svg>`), undefined);
});
