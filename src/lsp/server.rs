//! The `LanguageServer` implementation: one method per message, each delegating to its
//! handler (`handlers`), and the three messages `lsp::input` makes of frames it refuses.
//!
//! Owns: [`Backend`] (the client and the shared state) and starting the diagnostics task.
//! Must never: do a handler's work here; a handler that is not `async` is called before
//! anything is awaited (document sync relies on it: `handlers::sync`).

use super::diagnostics;
use super::handlers::{commands, lifecycle, requests, sync, workspace};
use super::input;
use super::state::State;
use std::sync::Arc;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::request::{GotoDeclarationParams, GotoDeclarationResponse};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

pub struct Backend {
    client: Client,
    pub(super) state: Arc<State>,
}

impl Backend {
    pub fn new(client: Client) -> Backend {
        let state = Arc::new(State::new());
        tokio::spawn(diagnostics::diagnostics_task(client.clone(), state.clone()));
        tokio::spawn(super::infra::infra_task(state.clone()));
        Backend { client, state }
    }

    /// The answer to a request whose frame was not a JSON-RPC message (see [`super::input`]).
    pub(super) async fn invalid_request(&self) -> Result<()> {
        Err(Error::invalid_request())
    }

    /// A request over the protocol's message limit (see `lsp::input`): answered with an error.
    pub(super) async fn message_too_large(&self, params: serde_json::Value) -> Result<()> {
        let mut error = Error::invalid_request();
        error.message = format!(
            "the {} request was {} bytes long: messages over {} bytes are not read (a resource limit)",
            params["method"].as_str().unwrap_or("?"),
            params["bytes"],
            input::MAX_MESSAGE_SIZE
        )
        .into();
        Err(error)
    }

    /// A `didOpen`/`didChange` over the protocol's message limit (see `lsp::input`).
    pub(super) async fn document_too_large(&self, params: serde_json::Value) {
        sync::document_too_large(&self.state, params);
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        lifecycle::initialize(&self.state, params)
    }

    async fn initialized(&self, _: InitializedParams) {
        lifecycle::initialized(&self.client, &self.state);
    }

    async fn shutdown(&self) -> Result<()> {
        lifecycle::shutdown(&self.state).await
    }

    // Document sync: each edit is applied here, before anything is awaited (`handlers::sync`).

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        sync::did_open(&self.state, params);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        sync::did_change(&self.state, params);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        sync::did_close(&self.state, params);
    }

    // The workspace.

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        workspace::did_save(&self.client, &self.state, params);
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        workspace::did_change_watched_files(&self.client, &self.state, params).await;
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        workspace::did_change_workspace_folders(&self.client, &self.state, params);
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        workspace::did_change_configuration(&self.client, &self.state, params).await;
    }

    // Requests.

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        requests::completion(&self.state, params)
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        requests::goto_definition(&self.state, params)
    }

    async fn goto_declaration(
        &self,
        params: GotoDeclarationParams,
    ) -> Result<Option<GotoDeclarationResponse>> {
        requests::goto_declaration(&self.state, params)
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        requests::references(&self.state, params).await
    }

    async fn document_highlight(
        &self,
        params: DocumentHighlightParams,
    ) -> Result<Option<Vec<DocumentHighlight>>> {
        requests::document_highlight(&self.state, params)
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        requests::hover(&self.state, params)
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        requests::prepare_rename(&self.state, params)
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        requests::rename(&self.state, params).await
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        requests::document_symbol(&self.state, params)
    }

    async fn symbol(&self, params: WorkspaceSymbolParams) -> Result<Option<WorkspaceSymbolResponse>> {
        requests::symbol(&self.state, params).await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        requests::code_action(&self.state, params)
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        requests::code_lens(&self.state, params)
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        requests::semantic_tokens_full(&self.state, params)
    }

    async fn semantic_tokens_range(
        &self,
        params: SemanticTokensRangeParams,
    ) -> Result<Option<SemanticTokensRangeResult>> {
        requests::semantic_tokens_range(&self.state, params)
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        requests::inlay_hint(&self.state, params)
    }

    // Diagnostics, for clients that pull them.

    async fn diagnostic(&self, params: DocumentDiagnosticParams) -> Result<DocumentDiagnosticReportResult> {
        diagnostics::document_report(&self.state, params)
    }

    async fn workspace_diagnostic(
        &self,
        params: WorkspaceDiagnosticParams,
    ) -> Result<WorkspaceDiagnosticReportResult> {
        diagnostics::workspace_report(&self.state, params).await
    }

    // `workspace/executeCommand`: the commands of `ext`.

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        commands::execute_command(&self.client, &self.state, params).await
    }
}
