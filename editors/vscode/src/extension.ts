/**
 * VS Code glue: starts the threat-analyzer language server over stdio, mirrors the settings to
 * it, and adds the status-bar item and the commands (diagram, report, diff, restart, output). The
 * decisions live in src/lib (no `vscode` import there, unit-tested with `node --test`); this
 * file only wires them to the editor.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  type ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import { DfdPanel } from './dfdPanel';
import { DEFAULT_BASE, type DiffEntry, locateChange, requestDiff } from './lib/diff';
import { documentSelector, vscodeLanguageIds } from './lib/languages';
import { reportArgs, reportFormatOf } from './lib/report';
import { INSTALL_COMMAND, resolveServer, type ServerResolution } from './lib/serverPath';
import {
  changedKeys,
  PROCESS_SETTING_KEYS,
  SERVER_SETTING_KEYS,
  serverEnvironment,
  serverSettings,
  type SettingGetter,
} from './lib/settings';
import { countFindings, type StatusState, statusView } from './lib/status';

/** The token the server reports workspace indexing under (src/lsp/indexing.rs). */
const INDEX_PROGRESS_TOKEN = 'threat-analyzer/index';

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let statusItem: vscode.StatusBarItem;
let statusState: StatusState = { kind: 'starting' };
let indexing = false;
let countTimer: NodeJS.Timeout | undefined;

function settingGetter(): SettingGetter {
  const cfg = vscode.workspace.getConfiguration('threatAnalyzer');
  return (key) => cfg.get(key);
}

function firstFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}

/**
 * A setting that chooses what runs (`server.path`, `server.log`), from the user's (or remote)
 * settings only. The manifest already makes them machine-scoped, which VS Code never reads
 * from a workspace; ignoring workspace values here as well keeps that true in editors that
 * do not honour scopes.
 */
function userSetting(key: string): unknown {
  const inspected = vscode.workspace.getConfiguration('threatAnalyzer').inspect(key);
  return inspected?.globalValue ?? inspected?.defaultValue;
}

function locateServer(): ServerResolution {
  const configured = userSetting('server.path');
  return resolveServer({
    configured: typeof configured === 'string' ? configured : undefined,
    envPath: process.env.PATH ?? '',
    pathExt: process.env.PATHEXT,
    platform: process.platform,
    homedir: os.homedir(),
  });
}

function setStatus(state: StatusState): void {
  statusState = state;
  const view = statusView(state);
  statusItem.text = view.text;
  statusItem.tooltip = view.tooltip;
  statusItem.backgroundColor =
    view.emphasis === undefined ? undefined : new vscode.ThemeColor(`statusBarItem.${view.emphasis}Background`);
  statusItem.command = state.kind === 'stopped' ? 'threatAnalyzer.showOutput' : 'threatAnalyzer.showProblems';
  statusItem.show();
}

/** Recounts open exposures from the diagnostics VS Code holds (after indexing). */
function scheduleCount(): void {
  if (countTimer) {
    clearTimeout(countTimer);
  }
  countTimer = setTimeout(() => {
    countTimer = undefined;
    if (indexing || client?.state !== State.Running) {
      return;
    }
    const all = vscode.languages.getDiagnostics().flatMap(([, diagnostics]) => diagnostics);
    setStatus({ kind: 'ready', ...countFindings(all) });
  }, 250);
}

async function notifyMissing(resolution: Extract<ServerResolution, { kind: 'missing' }>): Promise<void> {
  output.appendLine(resolution.message);
  const openSettings = 'Open Settings';
  const copy = 'Copy Install Command';
  const choice = await vscode.window.showErrorMessage(resolution.message, openSettings, copy);
  if (choice === openSettings) {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'threatAnalyzer.server.path');
  } else if (choice === copy) {
    await vscode.env.clipboard.writeText(INSTALL_COMMAND);
  }
}

async function startClient(): Promise<void> {
  const resolution = locateServer();
  if (resolution.kind === 'missing') {
    setStatus({ kind: 'stopped', reason: 'threat-analyzer not found' });
    void notifyMissing(resolution);
    return;
  }
  output.appendLine(`Starting ${resolution.path} (from ${resolution.source === 'setting' ? 'threatAnalyzer.server.path' : 'PATH'})`);
  const get = settingGetter();
  // TransportKind.stdio makes the client append `--stdio`, which the server accepts.
  const serverOptions: ServerOptions = {
    command: resolution.path,
    transport: TransportKind.stdio,
    options: { env: serverEnvironment(userSetting, process.env), cwd: firstFolder()?.uri.fsPath },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: documentSelector(),
    initializationOptions: serverSettings(get),
    outputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    markdown: { isTrusted: false, supportHtml: false },
    middleware: {
      handleWorkDoneProgress: (token, params, next) => {
        if (token === INDEX_PROGRESS_TOKEN) {
          if (params.kind === 'end') {
            indexing = false;
            scheduleCount();
          } else {
            indexing = true;
            setStatus({ kind: 'indexing', percentage: params.percentage, message: params.message });
          }
        }
        next(token, params);
      },
    },
  };
  const c = new LanguageClient('threatAnalyzer', 'Threat Analyzer', serverOptions, clientOptions);
  client = c;
  c.onDidChangeState((e) => {
    if (e.newState === State.Stopped) {
      indexing = false;
      setStatus({ kind: 'stopped' });
    } else if (e.newState === State.Running) {
      scheduleCount();
    }
  });
  setStatus({ kind: 'starting' });
  try {
    await c.start();
  } catch (e) {
    output.appendLine(`The language server did not start: ${e instanceof Error ? e.message : String(e)}`);
    setStatus({ kind: 'stopped', reason: 'failed to start' });
  }
}

async function stopClient(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) {
    try {
      await c.stop(5000);
    } catch (e) {
      output.appendLine(`Stopping the language server: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

async function restartServer(): Promise<void> {
  await stopClient();
  await startClient();
}

async function onConfigurationChanged(e: vscode.ConfigurationChangeEvent): Promise<void> {
  if (!e.affectsConfiguration('threatAnalyzer')) {
    return;
  }
  const affects = (s: string): boolean => e.affectsConfiguration(s);
  if (changedKeys(affects, PROCESS_SETTING_KEYS).length > 0) {
    await restartServer();
    return;
  }
  if (client?.state === State.Running && changedKeys(affects, SERVER_SETTING_KEYS).length > 0) {
    await client.sendNotification(DidChangeConfigurationNotification.type, { settings: serverSettings(settingGetter()) });
  }
}

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length <= 1) {
    return folders[0];
  }
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Report on which folder?' });
}

async function exportReport(): Promise<void> {
  const folder = await pickFolder();
  if (!folder || folder.uri.scheme !== 'file') {
    void vscode.window.showErrorMessage('Export Report needs a workspace folder on disk.');
    return;
  }
  const resolution = locateServer();
  if (resolution.kind === 'missing') {
    void notifyMissing(resolution);
    return;
  }
  const target = await vscode.window.showSaveDialog({
    title: 'Export Threat-Model Report',
    saveLabel: 'Export',
    defaultUri: vscode.Uri.joinPath(folder.uri, 'threat-model-report.html'),
    filters: { 'HTML report': ['html'], 'Markdown report': ['md'] },
  });
  if (!target) {
    return;
  }
  if (target.scheme !== 'file') {
    void vscode.window.showErrorMessage('The report can only be written to a file on disk.');
    return;
  }
  const format = reportFormatOf(target.fsPath) ?? 'html';
  const args = reportArgs(format, target.fsPath, folder.uri.fsPath);
  output.appendLine(`Running ${resolution.path} ${args.join(' ')}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Writing the ${format} report…` },
    () =>
      new Promise<{ error?: Error; stderr: string }>((resolve) => {
        // execFile with an argument vector: no shell ever sees the paths.
        execFile(
          resolution.path,
          args,
          { cwd: folder.uri.fsPath, timeout: 10 * 60 * 1000, maxBuffer: 16 * 1024 * 1024, windowsHide: true },
          (error, _stdout, stderr) => resolve({ error: error ?? undefined, stderr: String(stderr) }),
        );
      }),
  );
  if (result.stderr.trim() !== '') {
    output.appendLine(result.stderr.trimEnd());
  }
  if (result.error) {
    const detail = result.stderr.trim().split('\n').slice(-3).join(' ') || result.error.message;
    const show = 'Show Output';
    const choice = await vscode.window.showErrorMessage(`The report was not written: ${detail.slice(0, 400)}`, show);
    if (choice === show) {
      output.show(true);
    }
    return;
  }
  const open = 'Open';
  const choice = await vscode.window.showInformationMessage(`Report written to ${target.fsPath}`, open);
  if (choice === open) {
    if (format === 'markdown') {
      await vscode.commands.executeCommand('markdown.showPreview', target);
    } else {
      await vscode.commands.executeCommand('vscode.open', target);
    }
  }
}

async function showStatus(): Promise<void> {
  if (client?.state !== State.Running) {
    void vscode.window.showWarningMessage('The threat-analyzer language server is not running.');
    return;
  }
  const status = (await client.sendRequest(ExecuteCommandRequest.type, {
    command: 'threat-analyzer.status',
    arguments: [],
  })) as Record<string, unknown> | null;
  const counts = countFindings(vscode.languages.getDiagnostics().flatMap(([, d]) => d));
  void vscode.window.showInformationMessage(
    `Threat Analyzer: ${String(status?.annotations ?? '?')} annotations in ${String(status?.files_with_annotations ?? '?')} files; ${counts.exposures} open exposures, ${counts.findings} confirmed findings.`,
  );
}

async function reindex(): Promise<void> {
  if (client?.state !== State.Running) {
    void vscode.window.showWarningMessage('The threat-analyzer language server is not running.');
    return;
  }
  await client.sendRequest(ExecuteCommandRequest.type, { command: 'threat-analyzer.reindex', arguments: [] });
}

/** A quick-pick row for a change, with the entry it stands for. */
interface ChangePick extends vscode.QuickPickItem {
  entry?: Extract<DiffEntry, { kind: 'change' }>;
}

/**
 * "Compare Threat Model with…": asks for a base revision, runs the server's
 * `threat-analyzer.diff` and lists the changes in a quick pick; choosing one opens its place
 * in the workspace (a place on the base is only named).
 */
async function compareWithBase(): Promise<void> {
  const c = client;
  if (c?.state !== State.Running) {
    void vscode.window.showWarningMessage('The threat-analyzer language server is not running.');
    return;
  }
  const base = await vscode.window.showInputBox({
    title: 'Compare Threat Model with…',
    prompt: 'A git revision: branch, tag, commit, HEAD~3, origin/main',
    value: DEFAULT_BASE,
    validateInput: (v) => (v.trim() === '' ? 'Enter a git revision' : undefined),
  });
  if (base === undefined) {
    return;
  }
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Comparing the threat model with ${base.trim()}…` },
    () => requestDiff((params) => c.sendRequest(ExecuteCommandRequest.type, params), base),
  );
  if (outcome.kind === 'error') {
    void vscode.window.showErrorMessage(outcome.message);
    return;
  }
  const { view } = outcome;
  if (view.changes === 0) {
    void vscode.window.showInformationMessage(view.title);
    return;
  }
  const picks: ChangePick[] = view.entries.map((e) =>
    e.kind === 'separator'
      ? { label: e.label, kind: vscode.QuickPickItemKind.Separator }
      : { label: e.label, description: e.description, detail: e.detail, entry: e },
  );
  const chosen = await vscode.window.showQuickPick(picks, {
    title: view.title,
    placeHolder: 'Choose a change to open its place',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!chosen?.entry) {
    return;
  }
  const folder = firstFolder();
  if (!folder || folder.uri.scheme !== 'file') {
    void vscode.window.showErrorMessage('Opening a change needs a workspace folder on disk.');
    return;
  }
  const target = locateChange(chosen.entry, folder.uri.fsPath, fs.existsSync, view.root);
  if (target.kind === 'message') {
    void vscode.window.showInformationMessage(target.message);
    return;
  }
  const at = new vscode.Position(target.line - 1, target.column - 1);
  try {
    await vscode.window.showTextDocument(vscode.Uri.file(target.file), { selection: new vscode.Range(at, at) });
  } catch (e) {
    void vscode.window.showErrorMessage(`Cannot open ${target.file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('Threat Analyzer');
  statusItem = vscode.window.createStatusBarItem('threatAnalyzer.status', vscode.StatusBarAlignment.Left, 10);
  statusItem.name = 'Threat Analyzer';
  context.subscriptions.push(output, statusItem);
  setStatus({ kind: 'starting' });
  // For the editor-title diagram button (`resourceLangId in threatAnalyzer.languages`).
  void vscode.commands.executeCommand('setContext', 'threatAnalyzer.languages', vscodeLanguageIds());

  const getClient = (): LanguageClient | undefined => (client?.state === State.Running ? client : undefined);
  context.subscriptions.push(
    vscode.commands.registerCommand('threatAnalyzer.showDfd', (scope?: unknown) => DfdPanel.show(context, getClient, scope)),
    vscode.commands.registerCommand('threatAnalyzer.exportReport', exportReport),
    vscode.commands.registerCommand('threatAnalyzer.restartServer', restartServer),
    vscode.commands.registerCommand('threatAnalyzer.showOutput', () => output.show(true)),
    vscode.commands.registerCommand('threatAnalyzer.showStatus', showStatus),
    vscode.commands.registerCommand('threatAnalyzer.reindex', reindex),
    vscode.commands.registerCommand('threatAnalyzer.compareWithBase', compareWithBase),
    // VS Code has no API to type into the Problems filter: this opens the view; the
    // diagnostics carry the source `threat-analyzer` to filter on.
    vscode.commands.registerCommand('threatAnalyzer.showProblems', () =>
      vscode.commands.executeCommand('workbench.actions.view.problems'),
    ),
    vscode.workspace.onDidChangeConfiguration(onConfigurationChanged),
    vscode.languages.onDidChangeDiagnostics(() => {
      scheduleCount();
      DfdPanel.current?.scheduleRefresh();
    }),
    vscode.workspace.onDidSaveTextDocument(() => DfdPanel.current?.scheduleRefresh()),
    vscode.window.onDidChangeActiveTextEditor((editor) => DfdPanel.current?.followEditor(editor)),
    { dispose: () => void stopClient() },
  );
  await startClient();
}

export async function deactivate(): Promise<void> {
  await stopClient();
}
