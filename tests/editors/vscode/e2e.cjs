// End-to-end test of the VS Code extension in a real workbench (code-server), driven with
// playwright-core and Debian's Chromium. Started by tests/editors/run-vscode.sh, which installs
// the .vsix, configures threatAnalyzer.server.path and opens a copy of examples/webshop.
//
// Every check prints `PASS name` or `FAIL name: reason`; the checks run in order because each
// leaves the workbench where the next one starts (a failed check does not stop the others,
// except when the workbench itself did not load). Screenshots go to $TA_ARTIFACTS. Waits are
// generous and never asserted on: speed is not what this tests.
//
// Environment: TA_URL (workbench URL), TA_WORKSPACE (the webshop copy), TA_SERVER (the server
// binary, to compute expectations from the same model), TA_ARTIFACTS, CHROMIUM, PLAYWRIGHT
// (directory with node_modules/playwright-core), TA_EXPECT_LINE (self-check: a wrong line must
// fail), TA_ONLY (comma-separated check names).
//
// TA_HOSTILE=trusted|restricted runs the hostile-workspace checks instead: the workspace's own
// .vscode/settings.json names its planted script `tools/ta-helper` as the server (which would
// create TA_MARKER, then run the real server) and turns the exposure off; the folder is
// trusted through the Workspace Trust dialog, or left in Restricted Mode.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { chromium } = require(path.join(process.env.PLAYWRIGHT, 'node_modules', 'playwright-core'));

const TIMEOUT = 60_000;
const ws = process.env.TA_WORKSPACE;
const artifacts = process.env.TA_ARTIFACTS;
const only = process.env.TA_ONLY ? new Set(process.env.TA_ONLY.split(',')) : undefined;
const mod = process.platform === 'darwin' ? 'Meta' : 'Control';

// Expectations, read from the workspace itself (expected-findings.tsv is the example's contract).
const ordersText = fs.readFileSync(path.join(ws, 'api', 'orders.py'), 'utf8').split('\n');
const exposureLine = 1 + ordersText.findIndex((l) => l.includes('@exposes Shop.Api.Orders to #idor'));
const EXPECT_LINE = Number(process.env.TA_EXPECT_LINE || exposureLine);
const EXPECT_COL = 1 + ordersText[exposureLine - 1].indexOf('@exposes');
const idorColumn = 1 + ordersText[exposureLine - 1].indexOf('#idor') + 2; // inside `idor`
const definitions = fs.readFileSync(path.join(ws, '.guardlink', 'definitions.gal'), 'utf8').split('\n');
const idorDefinitionLine = 1 + definitions.findIndex((l) => l.includes('(#idor)'));
const threatIds = [...definitions.join('\n').matchAll(/^@threat .*?\(#([\w-]+)\)/gm)].map((m) => m[1]);

function out(line) {
  process.stdout.write(line + '\n');
}

async function screenshot(page, name) {
  const file = path.join(artifacts, name);
  await page.screenshot({ path: file });
  out(`  screenshot: ${file}`);
}

async function runCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: TIMEOUT });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.keyboard.press('Enter');
}

/** Moves the cursor of the active editor (Go to Line through the command palette's `:` mode). */
async function goToLine(page, line, column) {
  const input = page.locator('.quick-input-widget input');
  // On a loaded machine the workbench can drop the quick input just after opening it (focus
  // returning to the editor): open it again rather than wait on a box that is gone.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: TIMEOUT });
      await input.fill(`:${line}:${column}`, { timeout: TIMEOUT / 4 });
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.keyboard.press('Escape');
    }
  }
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: `${line}` }).first().waitFor({ timeout: TIMEOUT });
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: TIMEOUT });
}

/** `Ln L, Col C` from the status bar. */
async function cursor(page) {
  const text = await page.locator('#status\\.editor\\.selection').innerText({ timeout: TIMEOUT });
  const m = /Ln (\d+), Col (\d+)/.exec(text);
  return m ? { line: Number(m[1]), col: Number(m[2]) } : undefined;
}

async function activeTab(page) {
  return (await page.locator('.tabs-container .tab.active').first().getAttribute('aria-label', { timeout: TIMEOUT })) ?? '';
}

/** Activates the file's tab if it is open, else opens it from the Explorer. */
async function openInExplorer(page, segments) {
  const tab = page.locator(`.tabs-container .tab[aria-label^="${segments.at(-1)}"]`).first();
  if ((await tab.count()) > 0) {
    await tab.click();
    await page.locator(`.tabs-container .tab.active[aria-label^="${segments.at(-1)}"]`).waitFor({ timeout: TIMEOUT });
    return;
  }
  for (const [i, name] of segments.entries()) {
    const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${name}"]`).first();
    await row.waitFor({ state: 'visible', timeout: TIMEOUT });
    const expanded = await row.getAttribute('aria-expanded');
    if (i < segments.length - 1) {
      if (expanded !== 'true') await row.click();
    } else {
      await row.click();
    }
  }
  await page.locator(`.tabs-container .tab.active[aria-label^="${segments.at(-1)}"]`).waitFor({ timeout: TIMEOUT });
}

/** Console lines of the page and its frames that report a Content-Security-Policy refusal. */
const cspReports = [];

const hostile = process.env.TA_HOSTILE;
const checks = [];
/** A check of the normal run (or, with `group` 'hostile', of a TA_HOSTILE run). */
function check(name, fn, group = 'main') {
  checks.push({ name, fn, group });
}

check('workbench', async (page) => {
  await page.goto(process.env.TA_URL, { timeout: TIMEOUT });
  await page.locator('.monaco-workbench .explorer-folders-view').waitFor({ timeout: TIMEOUT });
  await openInExplorer(page, ['api', 'orders.py']);
});

check('status-bar', async (page) => {
  // Indexing progress first, then the exposure count (the example has one open exposure).
  const item = page.locator('.statusbar-item', { hasText: /open exposure|none open/ }).first();
  await item.waitFor({ state: 'visible', timeout: TIMEOUT });
  const text = (await item.innerText()).trim();
  if (!/\b1 open exposure\b/.test(text)) throw new Error(`status bar says "${text}", want "1 open exposure"`);
  await item.click(); // opens the Problems view
  await page.locator('.markers-panel').waitFor({ state: 'visible', timeout: TIMEOUT });
});

check('diagnostics', async (page) => {
  const panel = page.locator('.markers-panel');
  if (!(await panel.isVisible())) await page.keyboard.press(`${mod}+Shift+M`);
  const row = panel.locator('.monaco-list-row', { hasText: 'unmitigated-exposure' }).first();
  await row.waitFor({ state: 'visible', timeout: TIMEOUT });
  const text = (await row.innerText()).replace(/\s+/g, ' ');
  const m = /\[Ln (\d+), Col (\d+)\]/.exec(text);
  if (!m) throw new Error(`no position in the Problems row: ${text}`);
  if (!text.includes('threat-analyzer')) throw new Error(`the Problems row does not name the source: ${text}`);
  if (!text.includes('idor')) throw new Error(`the Problems row does not name #idor: ${text}`);
  const [line, col] = [Number(m[1]), Number(m[2])];
  if (line !== EXPECT_LINE || col !== EXPECT_COL) {
    throw new Error(`unmitigated-exposure at ${line}:${col}, want ${EXPECT_LINE}:${EXPECT_COL}`);
  }
  await goToLine(page, exposureLine, EXPECT_COL);
  // The squiggle is drawn once the line is on screen.
  await page.locator('.monaco-editor .squiggly-error, .monaco-editor .squiggly-warning').first().waitFor({ timeout: TIMEOUT });
  await screenshot(page, 'vscode-diagnostics.png');
});

check('definition', async (page) => {
  await openInExplorer(page, ['api', 'orders.py']);
  await goToLine(page, exposureLine, idorColumn);
  await page.keyboard.press('F12');
  await page.locator('.tabs-container .tab.active[aria-label^="definitions.gal"]').waitFor({ timeout: TIMEOUT });
  let at;
  for (let i = 0; i < 50; i++) {
    at = await cursor(page);
    if (at && at.line === idorDefinitionLine) break;
    await page.waitForTimeout(200);
  }
  if (!at || at.line !== idorDefinitionLine) {
    throw new Error(`definition of #idor opened at ${JSON.stringify(at)}, want line ${idorDefinitionLine} of definitions.gal`);
  }
  // .gal files are the extension's language (its grammar is unit-tested in editors/vscode).
  const mode = (await page.locator('#status\\.editor\\.mode').innerText({ timeout: TIMEOUT })).trim();
  if (mode !== 'GuardLink Annotations') throw new Error(`definitions.gal is in language mode "${mode}"`);
  await screenshot(page, 'vscode-definition.png');
  await page.keyboard.press(`${mod}+w`);
  await page.locator('.tabs-container .tab.active[aria-label^="orders.py"]').waitFor({ timeout: TIMEOUT });
});

check('completion', async (page) => {
  await openInExplorer(page, ['api', 'orders.py']);
  await goToLine(page, exposureLine + 1, 1);
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+Home'); // drop any auto-indent
  await page.keyboard.type('    # @mitigates Shop.Api.Orders against ', { delay: 15 });
  await page.keyboard.press('Escape');
  await page.keyboard.type('#');
  const widget = page.locator('.editor-widget.suggest-widget.visible');
  await widget.waitFor({ state: 'visible', timeout: TIMEOUT });
  let labels = [];
  for (let i = 0; i < 50; i++) {
    labels = await widget.locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? r.textContent ?? ''));
    if (labels.some((l) => l.includes('idor'))) break;
    await page.waitForTimeout(200);
  }
  await screenshot(page, 'vscode-completion.png');
  const missing = ['idor', 'sqli'].filter((id) => !labels.some((l) => l.includes(id)));
  if (missing.length > 0) throw new Error(`completion after # lacks ${missing.join(', ')}; got ${JSON.stringify(labels.slice(0, 12))}`);
  const threatsShown = threatIds.filter((id) => labels.some((l) => l.includes(id)));
  if (threatsShown.length < 2) throw new Error(`completion shows ${threatsShown.length} threat ids`);
  await page.keyboard.press('Escape');
  // Drop the typing so the model is the example again (the diagram check expects it).
  await runCommand(page, 'File: Revert File');
  const typed = page.locator('.monaco-editor .view-line', { hasText: '@mitigates Shop.Api.Orders against' });
  for (let i = 0; i < 50 && (await typed.count()) > 0; i++) await page.waitForTimeout(100);
  if ((await typed.count()) > 0) throw new Error('File: Revert File left the typed line in orders.py');
});

check('diagram', async (page) => {
  await runCommand(page, 'Threat Analyzer: Show Data-Flow Diagram');
  const pick = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Whole project' }).first();
  await pick.waitFor({ state: 'visible', timeout: TIMEOUT });
  await pick.click();
  const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await frame.locator('#canvas svg g[data-kind]').first().waitFor({ timeout: TIMEOUT });
  const shown = await frame.locator('#canvas svg g[data-key]:not([data-kind="boundary"])').count();
  // The same diagram from the CLI: the panel must show every element of it.
  const cli = execFileSync(process.env.TA_SERVER, ['dfd', '--format', 'svg', ws], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const expected = (cli.match(/<g id="dfd-[^"]*" data-key="[^"]*" data-kind="(?!boundary)/g) ?? []).length;
  if (expected === 0) throw new Error('the CLI diagram has no nodes');
  if (shown !== expected) throw new Error(`the panel shows ${shown} elements, the CLI diagram has ${expected}`);
  for (const id of ['zoom-in', 'zoom-out', 'zoom-fit', 'legend-toggle']) {
    await frame.locator(`#${id}`).waitFor({ timeout: TIMEOUT });
  }
  const zoomBefore = Number(await frame.locator('body').getAttribute('data-zoom'));
  await frame.locator('#zoom-in').click();
  const zoomAfter = Number(await frame.locator('body').getAttribute('data-zoom'));
  if (!(zoomAfter > zoomBefore)) throw new Error(`zoom in: ${zoomBefore} -> ${zoomAfter}`);
  await frame.locator('#zoom-fit').click();
  await page.waitForTimeout(300);
  await screenshot(page, 'vscode-dfd.png');
  // The panel runs under its policy without a single refusal. (The probe shows that console
  // lines from inside the webview's nested frames do reach this listener.)
  await frame.locator('body').evaluate(() => console.warn('Refused to probe: e2e listener check'));
  for (let i = 0; i < 20 && !cspReports.some((r) => r.includes('e2e listener check')); i++) await page.waitForTimeout(100);
  if (!cspReports.some((r) => r.includes('e2e listener check'))) throw new Error('console lines of the webview do not reach the test');
  const refusals = cspReports.filter((r) => !r.includes('e2e listener check'));
  if (refusals.length > 0) throw new Error(`CSP refusals: ${refusals.join(' | ')}`);
  // And the policy is in force: an inline script does not run.
  const ran = await frame.locator('body').evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inlineScriptRan = true';
    document.body.appendChild(s);
    return window.__inlineScriptRan === true;
  });
  if (ran) throw new Error('an inline script ran inside the diagram panel: no Content-Security-Policy?');
  cspReports.length = 0;
});

check('diagram-reveal', async (page) => {
  const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await frame.locator('#canvas svg g[data-key="n_shop__db"]').click();
  await page.locator('.tabs-container .tab.active[aria-label^="main.tf"]').waitFor({ timeout: TIMEOUT });
  const mainTf = fs.readFileSync(path.join(ws, 'infra', 'main.tf'), 'utf8').split('\n');
  const want = 1 + mainTf.findIndex((l) => l.includes('@asset Shop.Db'));
  let at;
  for (let i = 0; i < 50; i++) {
    at = await cursor(page);
    if (at && at.line === want) break;
    await page.waitForTimeout(200);
  }
  if (!at || at.line !== want) throw new Error(`clicking Shop.Db opened main.tf at ${JSON.stringify(at)}, want line ${want}`);
});

// The payloads of tests/support/html.rs (the diagrams issue's hostile-name corpus): each
// changes the page if a browser ever runs it (the title becomes PWNED, or an element #pwned
// appears).
const PAYLOADS = [
  "<img src=x onerror=document.title='PWNED'>",
  "\"><script>document.title='PWNED'</script>",
  "'><svg/onload=document.title='PWNED'>",
  "<iframe srcdoc='<b id=pwned>'></iframe>",
  '<b id=pwned>bold</b>',
  "</style><script>document.title='PWNED'</script>",
  "</title><script>document.title='PWNED'</script>",
  "]]><script>document.title='PWNED'</script>",
  "--><script>document.title='PWNED'</script><!--",
];

/** What a payload would have changed in the diagram panel's page (runs inside the webview). */
function inspectPanel() {
  return {
    title: document.title,
    pwned: document.querySelectorAll('#pwned').length,
    injected: document.querySelectorAll('#canvas img, #canvas script, #canvas iframe, #canvas foreignObject, #canvas b, #canvas style').length,
    text: document.getElementById('canvas').textContent,
  };
}

/** Asks the panel to refresh until `done(text of the diagram)` holds; false after ~60 s. */
async function refreshUntil(page, done) {
  const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  for (let i = 0; i < 60; i++) {
    await frame.locator('#refresh').click();
    await page.waitForTimeout(1000);
    if (done((await frame.locator('#canvas').textContent()) ?? '')) return true;
  }
  return false;
}

check('diagram-hostile', async (page) => {
  // A file of hostile names appears in the workspace (no exposures, so the counts the later
  // checks expect stay as they are); the panel shows them as text and runs nothing.
  const file = path.join(ws, 'hostile_names.py');
  const lines = [];
  PAYLOADS.forEach((p, i) => {
    // A payload with a `"` is written as a quoted name (GAL 2.0; `\"` and `\\` are undone), as
    // an unquoted `"` at the start of a word opens a quoted reference that never closes.
    const name = p.includes('"') ? `"Evil${i} ${p.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : `Evil${i} ${p}`;
    lines.push(`# @component ${name} (#evil${i}) -- "component ${p}"`);
    lines.push(`# @flows #evil${i} -> Shop.Db via ${p}`);
  });
  lines.push(`# @boundary between #evil2 and #evil3 (#evil-boundary) -- "${PAYLOADS[0]}"`);
  const dialogs = [];
  const onDialog = (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  };
  page.on('dialog', onDialog);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  try {
    if (!(await refreshUntil(page, (t) => PAYLOADS.every((_, i) => t.includes(`Evil${i}`))))) {
      throw new Error('the diagram panel never showed the hostile components');
    }
    await screenshot(page, 'vscode-dfd-hostile.png');
    const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    // The probe itself can fail: an element planted by hand is seen.
    await frame.locator('body').evaluate(() => {
      const b = document.createElement('b');
      b.id = 'pwned';
      document.getElementById('canvas').appendChild(b);
    });
    const planted = await frame.locator('body').evaluate(inspectPanel);
    await frame.locator('body').evaluate(() => document.getElementById('pwned').remove());
    if (planted.pwned !== 1 || planted.injected !== 1) throw new Error(`the probe misses a planted element: ${JSON.stringify(planted)}`);
    const seen = await frame.locator('body').evaluate(inspectPanel);
    if (/PWNED/.test(seen.title) || /PWNED/.test(await page.title())) throw new Error(`a payload ran: title ${seen.title}`);
    if (seen.pwned > 0) throw new Error('an element #pwned appeared in the panel');
    if (seen.injected > 0) throw new Error(`${seen.injected} injected element(s) in the diagram`);
    if (dialogs.length > 0) throw new Error(`dialogs opened: ${dialogs.join(' | ')}`);
    // The payloads are there, as text (labels may be shortened; the via-labels of the flows
    // show the start of each).
    for (const needle of ['<script>', '<img src=x', "<iframe srcdoc='<b id=pwned>'>"]) {
      if (!seen.text.includes(needle)) throw new Error(`the diagram text lacks ${JSON.stringify(needle)}`);
    }
    const refusals = cspReports.filter((r) => !r.includes('e2e listener check'));
    if (refusals.length > 0) throw new Error(`CSP refusals (something tried to load or run): ${refusals.join(' | ')}`);
  } finally {
    page.off('dialog', onDialog);
    fs.rmSync(file, { force: true });
    await refreshUntil(page, (t) => !t.includes('Evil0'));
  }
});

check('report', async (page) => {
  // Export Report… through code-server's save dialog (a quick input holding the path); the
  // .html name asks for the HTML report.
  const target = path.join(ws, 'out', 'threat-model.html');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  await runCommand(page, 'Threat Analyzer: Export Report…');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.waitForFunction(() => {
    const i = document.querySelector('.quick-input-widget input');
    return i && i.value.endsWith('threat-model-report.html');
  }, undefined, { timeout: TIMEOUT });
  await input.fill(target);
  await page.waitForTimeout(500); // the dialog validates the typed path asynchronously
  await page.locator('.quick-input-widget .monaco-button', { hasText: /^OK$/ }).click();
  await page.locator('.notifications-toasts', { hasText: 'Report written to' }).waitFor({ timeout: TIMEOUT });
  const text = fs.readFileSync(target, 'utf8');
  if (!/^<!DOCTYPE html>/i.test(text)) throw new Error(`${target} is not an HTML document`);
  if (!text.includes('Insecure Direct Object Reference')) throw new Error(`the report at ${target} does not mention #idor`);
  await page.keyboard.press('Escape');
});

check('overview', async (page) => {
  // The README picture: the exposure in orders.py, the Problems view, and the diagram beside it.
  await page.keyboard.press(`${mod}+1`);
  await openInExplorer(page, ['api', 'orders.py']);
  await runCommand(page, 'View: Close Other Editors in Group');
  await runCommand(page, 'View: Toggle Primary Side Bar Visibility');
  await page.locator('.explorer-folders-view').waitFor({ state: 'hidden', timeout: TIMEOUT });
  await goToLine(page, exposureLine + 12, 1);
  await goToLine(page, exposureLine, EXPECT_COL + 16);
  const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await frame.locator('#zoom-fit').click();
  await page.waitForTimeout(500);
  await screenshot(page, 'vscode-overview.png');
  await runCommand(page, 'View: Toggle Primary Side Bar Visibility');
});

check('missing-server', async (page) => {
  // A wrong threatAnalyzer.server.path (typed in the Settings editor) restarts the client,
  // which says what is wrong with a button to the setting; the right path brings it back.
  await openInExplorer(page, ['api', 'orders.py']); // the keyboard focus leaves the diagram's iframe
  await runCommand(page, 'Preferences: Open User Settings');
  await page.locator('.settings-editor .settings-header').waitFor({ timeout: TIMEOUT });
  await page.waitForTimeout(500);
  await page.keyboard.type('threatAnalyzer.server.path', { delay: 10 }); // the search box has the focus
  // In a remote window (code-server) machine-scoped settings are edited on the Remote tab.
  await page.locator('.settings-editor .settings-tabs-widget .action-label', { hasText: /^Remote/ }).click();
  const field = page.locator('.settings-editor .setting-item-text', { hasText: 'binary' }).locator('input').first();
  await field.waitFor({ state: 'visible', timeout: TIMEOUT });
  const good = process.env.TA_SERVER;
  await field.fill(path.join(ws, 'no-such-server'));
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'threatAnalyzer.server.path' });
  await toast.waitFor({ state: 'visible', timeout: TIMEOUT });
  if ((await toast.locator('.monaco-button', { hasText: 'Open Settings' }).count()) === 0) {
    throw new Error('the missing-server notification has no Open Settings button');
  }
  await page.locator('.statusbar-item', { hasText: 'server stopped' }).first().waitFor({ timeout: TIMEOUT });
  await screenshot(page, 'vscode-missing-server.png');
  await field.fill(good);
  await page.locator('.statusbar-item', { hasText: /\b1 open exposure\b/ }).first().waitFor({ timeout: TIMEOUT });
});

// The hostile workspace (issue 12, item 1): whatever the trust, the repository's script never
// runs as the server, and the user's server (threatAnalyzer.server.path in the user settings)
// does.
check(
  'hostile-trust',
  async (page) => {
    await page.goto(process.env.TA_URL, { timeout: TIMEOUT });
    await page.locator('.monaco-workbench').waitFor({ timeout: TIMEOUT });
    if (hostile === 'trusted') {
      const trust = page.locator('.monaco-dialog-box .monaco-button', { hasText: /Yes, I trust/ }).first();
      await trust.waitFor({ state: 'visible', timeout: TIMEOUT });
      await trust.click();
      await page.locator('.monaco-dialog-box').waitFor({ state: 'hidden', timeout: TIMEOUT });
    } else if (hostile === 'restricted') {
      await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: TIMEOUT });
    } else {
      throw new Error(`TA_HOSTILE is "${hostile}", want trusted or restricted`);
    }
    await page.locator('.monaco-workbench .explorer-folders-view').waitFor({ timeout: TIMEOUT });
    await openInExplorer(page, ['api', 'orders.py']);
    await screenshot(page, `vscode-hostile-${hostile}.png`);
  },
  'hostile',
);

check(
  'hostile-server',
  async (page) => {
    const marker = process.env.TA_MARKER;
    // Indexing done and the exposure counted (whatever its level): a server has answered.
    const item = page.locator('.statusbar-item', { hasText: /\b1 open exposure\b/ }).first();
    await item.waitFor({ state: 'visible', timeout: TIMEOUT });
    // It is the user's: the planted script leaves the marker before starting any server.
    if (fs.existsSync(marker)) throw new Error(`the workspace's planted script ran: ${fs.readFileSync(marker, 'utf8').trim()}`);
    // The settings file is live: a trusted workspace may set levels (the exposure is a note),
    // Restricted Mode ignores them (it keeps its default level).
    await item.click();
    const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'unmitigated-exposure' }).first();
    await row.waitFor({ state: 'visible', timeout: TIMEOUT });
    const icon = (await row.locator('.codicon-info, .codicon-warning, .codicon-error').first().getAttribute('class')) ?? '';
    const level = /codicon-(info|warning|error)/.exec(icon)?.[1];
    await screenshot(page, `vscode-hostile-${hostile}-problems.png`);
    if (hostile === 'restricted' ? level === 'info' || level === undefined : level !== 'info') {
      throw new Error(`the exposure is shown as ${level ?? `"${icon}"`}: the workspace's level was ${hostile === 'restricted' ? 'applied in Restricted Mode' : 'not applied'}`);
    }
  },
  'hostile',
);

(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  let failed = 0;
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) {
        cspReports.push(m.text().split('\n')[0]);
        out(`  console: ${cspReports.at(-1)}`);
      }
    });
    for (const { name, fn, group } of checks) {
      if (group !== (hostile ? 'hostile' : 'main')) continue;
      if (only && !only.has(name) && name !== 'workbench') continue;
      try {
        await fn(page);
        out(`PASS ${name}`);
      } catch (e) {
        failed += 1;
        out(`FAIL ${name}: ${(e && e.message ? e.message : String(e)).split('\n')[0]}`);
        await screenshot(page, `vscode-failed-${name}.png`).catch(() => {});
        if (name === 'workbench' || name === 'hostile-trust') break;
      }
    }
  } finally {
    await browser.close();
  }
  process.exit(failed === 0 ? 0 : 1);
})().catch((e) => {
  out(`FAIL driver: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
