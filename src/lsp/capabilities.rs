//! Capabilities: what the client can do, resolved once from `initialize`, and what the server
//! offers in return.
//!
//! Owns: reading the client's capabilities (and the few client names whose behaviour their
//! capabilities do not tell) into one plain [`ClientCapabilities`] value, and the
//! [`server_capabilities`] the `initialize` response advertises. Must never: keep a
//! capability anywhere else (everything that depends on the client asks `State::client`), or
//! decide anything about the project.

use super::ext;
use super::features;
use crate::text::ColumnUnit;
use tower_lsp_server::ls_types::*;

/// Clients (by `clientInfo.name`) that register `workspace/didChangeWatchedFiles` but send
/// events only for files they saved themselves, so the server also watches the disk for them:
/// Helix 25.07 has no file system watcher.
const CLIENTS_FORWARDING_ONLY_OWN_WRITES: &[&str] = &["helix"];

/// What the client can do, as far as the server cares: read once from `initialize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ClientCapabilities {
    /// Position columns: UTF-8 when the client offers it, else UTF-16 (the protocol's default).
    pub(super) unit: ColumnUnit,
    /// The client shows `$/progress` for a token the server creates.
    pub(super) work_done_progress: bool,
    /// The client applies versioned `documentChanges` in workspace edits.
    pub(super) document_changes: bool,
    /// The client pulls diagnostics (`textDocument/diagnostic`): publish nothing, refresh.
    pub(super) pull_diagnostics: bool,
    /// The client honours `workspace/diagnostic/refresh`.
    pub(super) pull_refresh: bool,
    /// The client registers `workspace/didChangeWatchedFiles` dynamically.
    pub(super) dynamic_watch: bool,
    /// The server watches the disk itself: the client sends no file events, or only for files
    /// it wrote (Helix registers the watcher but forwards nothing else).
    pub(super) watch_disk: bool,
    /// The client handles `window/showDocument`.
    pub(super) show_document: bool,
}

impl Default for ClientCapabilities {
    /// Before `initialize`: a client that declared nothing.
    fn default() -> ClientCapabilities {
        ClientCapabilities::resolve(&InitializeParams::default())
    }
}

impl ClientCapabilities {
    /// Reads what the server needs from the `initialize` request.
    pub(super) fn resolve(params: &InitializeParams) -> ClientCapabilities {
        let caps = &params.capabilities;
        let utf8 = caps
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref())
            .is_some_and(|encs| encs.contains(&PositionEncodingKind::UTF8));
        let work_done_progress = caps.window.as_ref().and_then(|w| w.work_done_progress).unwrap_or(false);
        let document_changes = caps
            .workspace
            .as_ref()
            .and_then(|w| w.workspace_edit.as_ref())
            .and_then(|e| e.document_changes)
            .unwrap_or(false);
        let dynamic_watch = caps
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        let forwards_only_own_writes = params
            .client_info
            .as_ref()
            .is_some_and(|info| CLIENTS_FORWARDING_ONLY_OWN_WRITES.contains(&info.name.as_str()));
        let show_document =
            caps.window.as_ref().and_then(|w| w.show_document.as_ref()).is_some_and(|s| s.support);
        // Pull only when the server can also tell the client to pull again: a cross-file
        // change (a mitigation added elsewhere) must reach open buffers. Neovim 0.11 pulls but
        // has no refresh support, so it gets pushed diagnostics.
        let pull_refresh = caps
            .workspace
            .as_ref()
            .and_then(|w| w.diagnostics.as_ref())
            .and_then(|d| d.refresh_support)
            .unwrap_or(false);
        let pull_diagnostics =
            pull_refresh && caps.text_document.as_ref().and_then(|t| t.diagnostic.as_ref()).is_some();
        ClientCapabilities {
            unit: if utf8 { ColumnUnit::Utf8 } else { ColumnUnit::Utf16 },
            work_done_progress,
            document_changes,
            pull_diagnostics,
            pull_refresh,
            dynamic_watch,
            watch_disk: !dynamic_watch || forwards_only_own_writes,
            show_document,
        }
    }
}

/// What the server offers a client with `client`'s capabilities.
pub(super) fn server_capabilities(client: &ClientCapabilities) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match client.unit {
            ColumnUnit::Utf8 => PositionEncodingKind::UTF8,
            _ => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            save: Some(TextDocumentSyncSaveOptions::Supported(true)),
            ..Default::default()
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(["@", "#", ".", ":", "[", " "].map(String::from).to_vec()),
            ..CompletionOptions::default()
        }),
        definition_provider: Some(OneOf::Left(true)),
        declaration_provider: Some(DeclarationCapability::Simple(true)),
        references_provider: Some(OneOf::Left(true)),
        document_highlight_provider: Some(OneOf::Left(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, CodeActionKind::REFACTOR_REWRITE]),
            ..CodeActionOptions::default()
        })),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: SemanticTokensLegend {
                    token_types: features::TOKEN_TYPES.to_vec(),
                    token_modifiers: features::token_modifiers(),
                },
                range: Some(true),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                ..SemanticTokensOptions::default()
            },
        )),
        inlay_hint_provider: Some(OneOf::Left(true)),
        diagnostic_provider: client.pull_diagnostics.then(|| {
            DiagnosticServerCapabilities::Options(DiagnosticOptions {
                identifier: Some("threat-analyzer".into()),
                inter_file_dependencies: true,
                workspace_diagnostics: true,
                work_done_progress_options: WorkDoneProgressOptions::default(),
            })
        }),
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(false) }),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: ext::COMMANDS.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        }),
        ..ServerCapabilities::default()
    }
}
