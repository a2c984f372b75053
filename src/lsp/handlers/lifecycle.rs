//! The session's lifecycle: `initialize`, `initialized`, `shutdown`.
//!
//! Owns: taking in what `initialize` tells (the client's capabilities, resolved once; the
//! workspace folders; the first settings), counting the first index as awaited from then on,
//! starting the watcher, the first indexing run and the file-event registration once the
//! client is `initialized`, and stopping the background work at `shutdown` (a last index
//! cache refresh, bounded in time). Must never: await a client request inside a handler (the
//! indexing run and the registration run in tasks of their own).

use crate::lsp::capabilities::{self, ClientCapabilities};
use crate::lsp::indexing;
use crate::lsp::settings::Settings;
use crate::lsp::state::{AwaitedIndexing, State, awaited};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tower_lsp_server::Client;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub(in crate::lsp) fn initialize(state: &State, params: InitializeParams) -> Result<InitializeResult> {
    let client = ClientCapabilities::resolve(&params);
    *state.client.write().unwrap_or_else(|e| e.into_inner()) = client;
    let mut roots: Vec<PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
        .collect();
    #[allow(deprecated)]
    if roots.is_empty()
        && let Some(path) = params.root_uri.as_ref().and_then(|u| u.to_file_path())
    {
        roots.push(path.into_owned());
    }
    if let Ok(mut r) = state.roots.write() {
        *r = roots;
    }
    // Counted before the response: a request the client sends once `initialized` is out
    // cannot be handled before the count, whatever order the handlers run in.
    *state.first_index.lock().unwrap_or_else(|e| e.into_inner()) = Some(AwaitedIndexing::new(state));
    if let Some(options) = &params.initialization_options {
        let (settings, _) = Settings::from_json(options);
        if let Ok(mut s) = state.settings.write() {
            *s = settings;
        }
    }
    Ok(InitializeResult {
        server_info: Some(ServerInfo {
            name: "threat-analyzer".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        capabilities: capabilities::server_capabilities(&client),
        offset_encoding: None,
    })
}

pub(in crate::lsp) fn initialized(client: &Client, state: &Arc<State>) {
    let client_caps = state.client();
    // Watch first, so that nothing changed on disk while indexing runs goes unseen.
    if client_caps.watch_disk {
        indexing::watch_workspace(client.clone(), state.clone());
    }
    // Never await a client request inside a handler: indexing (and its progress token
    // request) runs in its own task.
    let first = state.first_index.lock().unwrap_or_else(|e| e.into_inner()).take();
    let run = first.unwrap_or_else(|| AwaitedIndexing::new(state));
    tokio::spawn(awaited(run, indexing::index_workspace(client.clone(), state.clone())));
    if client_caps.dynamic_watch {
        let client = client.clone();
        tokio::spawn(async move {
            let options = DidChangeWatchedFilesRegistrationOptions {
                watchers: vec![FileSystemWatcher {
                    glob_pattern: GlobPattern::String("**/*".into()),
                    kind: None,
                }],
            };
            let registration = Registration {
                id: "threat-analyzer/watched-files".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: serde_json::to_value(options).ok(),
            };
            let _ = client.register_capability(vec![registration]).await;
        });
    }
}

pub(in crate::lsp) async fn shutdown(state: &Arc<State>) -> Result<()> {
    state.shutting_down.store(true, Ordering::Relaxed);
    state.changed.notify_one();
    indexing::refresh_cache_at_shutdown(state).await;
    Ok(())
}
