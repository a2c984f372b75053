/**
 * The "Data-Flow Diagram" webview panel: asks the server for the diagram
 * (`threat-analyzer.dfd` with `format: "svg"`) of the project or of the current file, sends it
 * to the page (src/webview/main.ts) by message, refreshes it (debounced) when diagnostics,
 * saved files or edited annotations change, and opens the annotation behind a clicked element.
 */
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  type LanguageClient,
  type SymbolInformation,
  type WorkspaceSymbol,
  WorkspaceSymbolRequest,
} from 'vscode-languageclient/node';
import { dfdHtml, makeNonce, svgElementText } from './lib/dfdHtml';
import { documentSelector } from './lib/languages';
import { type DiagramScope, type HostMessage, parseWebviewMessage } from './lib/messages';
import { pickSymbol, symbolQueries } from './lib/reveal';

const REFRESH_DELAY_MS = 600;

type ClientGetter = () => LanguageClient | undefined;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class DfdPanel {
  static current: DfdPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private scope: DiagramScope = 'project';
  private file: vscode.Uri | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stale = false;
  /** Increases with every request: answers to older requests are dropped. */
  private generation = 0;
  /** Index revision (`threat-analyzer.status`) and scope of the diagram on screen. */
  private shown: { revision: number; scope: string } | undefined;

  /** Opens (or reveals) the panel. `requested` is `'project'` / `'file'` from a keybinding, else a quick pick asks. */
  static async show(context: vscode.ExtensionContext, getClient: ClientGetter, requested?: unknown): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const file = editor && editor.document.uri.scheme === 'file' ? editor.document.uri : undefined;
    let scope: DiagramScope | undefined = requested === 'project' || requested === 'file' ? requested : undefined;
    if (scope === undefined) {
      if (file === undefined) {
        scope = 'project';
      } else {
        const items: (vscode.QuickPickItem & { scope: DiagramScope })[] = [
          { label: 'Whole project', description: 'every element, flow and trust boundary', scope: 'project' },
          {
            label: `Current file: ${path.basename(file.fsPath)}`,
            description: 'what its annotations name',
            scope: 'file',
          },
        ];
        const picked = await vscode.window.showQuickPick(items, { title: 'Data-Flow Diagram', placeHolder: 'Show the diagram of…' });
        if (!picked) {
          return;
        }
        scope = picked.scope;
      }
    }
    const panel = DfdPanel.current ?? new DfdPanel(context, getClient);
    DfdPanel.current = panel;
    panel.file = file ?? panel.file;
    panel.scope = scope === 'file' && panel.file === undefined ? 'project' : scope;
    panel.panel.reveal(undefined, true);
    void panel.refresh();
  }

  private readonly panel: vscode.WebviewPanel;

  private constructor(context: vscode.ExtensionContext, private readonly getClient: ClientGetter) {
    const dist = vscode.Uri.joinPath(context.extensionUri, 'dist');
    const media = vscode.Uri.joinPath(context.extensionUri, 'media');
    this.panel = vscode.window.createWebviewPanel(
      'threatAnalyzer.dfd',
      'Data-Flow Diagram',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, enableForms: false, localResourceRoots: [dist, media] },
    );
    this.panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'images', 'icon.png');
    const webview = this.panel.webview;
    webview.html = dfdHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce((n) => crypto.randomBytes(n)),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'dfd.css')).toString(),
      title: 'Data-Flow Diagram',
    });
    const selector = documentSelector();
    this.disposables.push(
      webview.onDidReceiveMessage((raw) => this.onMessage(raw)),
      this.panel.onDidChangeViewState(() => {
        if (this.panel.visible && this.stale) {
          void this.refresh(true);
        }
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0 && vscode.languages.match(selector, e.document) > 0) {
          this.scheduleRefresh();
        }
      }),
    );
    this.panel.onDidDispose(() => this.dispose(), null, this.disposables);
  }

  /** Asks for the diagram again after a quiet period (or when the panel is next shown). */
  scheduleRefresh(): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.panel.visible) {
        void this.refresh(true);
      } else {
        this.stale = true;
      }
    }, REFRESH_DELAY_MS);
  }

  /** In file scope the diagram follows the active editor (files on disk only). */
  followEditor(editor: vscode.TextEditor | undefined): void {
    if (this.scope !== 'file' || !editor || editor.document.uri.scheme !== 'file') {
      return;
    }
    if (editor.document.uri.toString() !== this.file?.toString()) {
      this.file = editor.document.uri;
      void this.refresh();
    }
  }

  private scopeLabel(): string {
    return this.scope === 'file' && this.file ? `File ${vscode.workspace.asRelativePath(this.file)}` : 'Project';
  }

  private post(message: HostMessage): void {
    void this.panel.webview.postMessage(message);
  }

  private async dfd(client: LanguageClient, format: string): Promise<{ format?: string; text?: string }> {
    const scope = this.scope === 'file' && this.file ? { file: client.code2ProtocolConverter.asUri(this.file) } : 'project';
    const result = await client.sendRequest(ExecuteCommandRequest.type, {
      command: 'threat-analyzer.dfd',
      arguments: [{ format, scope }],
    });
    return (result ?? {}) as { format?: string; text?: string };
  }

  /** The index revision, or undefined when the server does not say. */
  private async revision(client: LanguageClient): Promise<number | undefined> {
    try {
      const status = (await client.sendRequest(ExecuteCommandRequest.type, {
        command: 'threat-analyzer.status',
        arguments: [],
      })) as { revision?: unknown } | null;
      return typeof status?.revision === 'number' ? status.revision : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Asks for the diagram and shows it. `onlyIfChanged`: first asks for the index revision and
   * does nothing when the diagram on screen is of the same revision and scope (diagnostics are
   * re-delivered every few seconds by workspace pulls without any change).
   */
  async refresh(onlyIfChanged = false): Promise<void> {
    this.stale = false;
    const generation = ++this.generation;
    const scope = this.scope;
    const scopeLabel = this.scopeLabel();
    const scopeKey = `${scope}:${scope === 'file' ? this.file?.toString() : ''}`;
    const client = this.getClient();
    if (!client) {
      this.shown = undefined;
      this.post({ type: 'error', message: 'the threat-analyzer language server is not running', scope, scopeLabel });
      return;
    }
    const revision = await this.revision(client);
    if (generation !== this.generation) {
      return;
    }
    if (onlyIfChanged && revision !== undefined && this.shown?.revision === revision && this.shown.scope === scopeKey) {
      return;
    }
    this.post({ type: 'loading', scope, scopeLabel });
    try {
      const result = await this.dfd(client, 'svg');
      if (generation !== this.generation) {
        return;
      }
      const svg = svgElementText(result.text ?? '');
      if (svg === undefined) {
        this.shown = undefined;
        this.post({ type: 'error', message: 'the server did not send an SVG document', scope, scopeLabel });
        return;
      }
      this.shown = revision === undefined ? undefined : { revision, scope: scopeKey };
      this.post({ type: 'diagram', svg, scope, scopeLabel });
    } catch (e) {
      if (generation !== this.generation) {
        return;
      }
      this.shown = revision === undefined ? undefined : { revision, scope: scopeKey };
      // A server without SVG output (older than the DFD panel): show the Mermaid text instead.
      let text: string | undefined;
      try {
        text = (await this.dfd(client, 'mermaid')).text;
      } catch {
        text = undefined;
      }
      if (generation === this.generation) {
        this.post({ type: 'error', message: `no SVG diagram: ${errorText(e)}`, scope, scopeLabel, text });
      }
    }
  }

  private async onMessage(raw: unknown): Promise<void> {
    const message = parseWebviewMessage(raw);
    if (!message) {
      return;
    }
    switch (message.type) {
      case 'ready':
      case 'refresh':
        await this.refresh();
        break;
      case 'scope':
        if (message.scope === 'file' && this.file === undefined) {
          const editor = vscode.window.activeTextEditor;
          this.file = editor?.document.uri.scheme === 'file' ? editor.document.uri : undefined;
        }
        if (message.scope === 'file' && this.file === undefined) {
          void vscode.window.showInformationMessage('Open a file first to see its part of the diagram.');
          this.post({ type: 'error', message: 'no file is open', scope: 'file', scopeLabel: 'Current file' });
          this.scope = 'file';
          return;
        }
        this.scope = message.scope;
        await this.refresh();
        break;
      case 'reveal':
        await this.reveal(message.id, message.label);
        break;
    }
  }

  /** Opens the annotation defining a diagram element (via `workspace/symbol`), else searches for its name. */
  private async reveal(id: string, label: string): Promise<void> {
    const client = this.getClient();
    if (!client) {
      return;
    }
    const queries = symbolQueries(id, label);
    for (const query of queries) {
      let symbols: (SymbolInformation | WorkspaceSymbol)[] | null;
      try {
        symbols = await client.sendRequest(WorkspaceSymbolRequest.type, { query });
      } catch {
        continue;
      }
      const symbol = pickSymbol(symbols ?? [], queries);
      if (symbol && 'range' in symbol.location) {
        const location = client.protocol2CodeConverter.asLocation(symbol.location);
        const column = this.panel.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One;
        await vscode.window.showTextDocument(location.uri, { selection: location.range, viewColumn: column });
        return;
      }
    }
    // Elements only named by flows or exposures have no defining annotation: search instead.
    void vscode.window.showInformationMessage(`No annotation defines "${label}"; searching the workspace for it.`);
    await vscode.commands.executeCommand('workbench.action.findInFiles', {
      query: label,
      isRegex: false,
      triggerSearch: true,
    });
  }

  private dispose(): void {
    if (DfdPanel.current === this) {
      DfdPanel.current = undefined;
    }
    if (this.timer) {
      clearTimeout(this.timer);
    }
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
  }
}
