//! Notifications about the workspace: files changed on disk, a document saved, workspace
//! folders added or removed, settings changed.
//!
//! Owns: what each of them changes (the folders, the settings) and which indexing it starts;
//! indexing itself runs in a task of its own (`indexing`). Must never: await a client request
//! inside the handler, or read a file itself (changes on disk go through
//! `indexing::apply_disk_changes_and_reindex`, which admits only what the walk would read).

use crate::file_id::FileId;
use crate::lsp::convert;
use crate::lsp::indexing;
use crate::lsp::settings::Settings;
use crate::lsp::state::{AwaitedIndexing, State, awaited};
use crate::text;
use crate::watch;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::*;

pub(in crate::lsp) async fn did_change_watched_files(
    client: &Client,
    state: &Arc<State>,
    params: DidChangeWatchedFilesParams,
) {
    let changes: Vec<watch::Changed> = params
        .changes
        .iter()
        .filter_map(|c| c.uri.to_file_path().map(|p| watch::Changed(p.into_owned())))
        .collect();
    indexing::apply_disk_changes_and_reindex(client.clone(), state.clone(), changes).await;
}

pub(in crate::lsp) fn did_save(client: &Client, state: &Arc<State>, params: DidSaveTextDocumentParams) {
    // A saved configuration or threat library file decides what its folder holds and what
    // references resolve to: index the folder again.
    let key = convert::key_of(&params.text_document.uri);
    if let Some(root) = state.root_to_reindex(Path::new(key.as_str())) {
        tokio::spawn(indexing::index_roots(client.clone(), state.clone(), vec![root]));
    }
}

pub(in crate::lsp) fn did_change_workspace_folders(
    client: &Client,
    state: &Arc<State>,
    params: DidChangeWorkspaceFoldersParams,
) {
    let to_path = |f: &WorkspaceFolder| f.uri.to_file_path().map(|p| p.into_owned());
    let added: Vec<PathBuf> = params.event.added.iter().filter_map(to_path).collect();
    let removed: Vec<PathBuf> = params.event.removed.iter().filter_map(to_path).collect();
    if let Ok(mut roots) = state.roots.write() {
        roots.retain(|r| !removed.contains(r));
        roots.extend(added.iter().cloned());
    }
    state.files_scanned.lock().unwrap_or_else(|e| e.into_inner()).retain(|r, _| !removed.contains(r));
    state.forget_folders(&removed);
    for root in &removed {
        state.infra.remove(root);
    }
    // Forget what the removed folders contributed (open buffers stay).
    let gone: Vec<FileId> = {
        let index = state.index_read();
        index
            .files()
            .map(|f| f.path.clone())
            .filter(|p| removed.iter().any(|r| Path::new(p.as_str()).starts_with(r)))
            .collect()
    };
    for key in gone {
        if !state.docs.contains_key(&key) {
            state.set_facts(&key, None);
        }
    }
    tracing::info!(added = added.len(), removed = removed.len(), "workspace folders changed");
    if state.client().watch_disk {
        indexing::watch_workspace(client.clone(), state.clone());
    }
    let run = AwaitedIndexing::new(state);
    tokio::spawn(awaited(run, indexing::index_roots(client.clone(), state.clone(), added)));
}

pub(in crate::lsp) async fn did_change_configuration(
    client: &Client,
    state: &Arc<State>,
    params: DidChangeConfigurationParams,
) {
    let (settings, problems) = Settings::from_json(&params.settings);
    let reindex = match state.settings.write() {
        Ok(mut s) => {
            let files_changed = s.selects_other_files(&settings);
            *s = settings;
            files_changed
        }
        Err(_) => false,
    };
    if reindex {
        // Which files belong to the project changed: forget the disk files, index again.
        let keys: Vec<FileId> = state.index_read().files().map(|f| f.path.clone()).collect();
        for key in keys.iter().filter(|k| !state.docs.contains_key(*k)) {
            state.set_facts(key, None);
        }
        // The index was just emptied of disk files: whole-project requests wait for it.
        let run = AwaitedIndexing::new(state);
        tokio::spawn(awaited(run, indexing::index_workspace(client.clone(), state.clone())));
    }
    // The `severity` setting may turn `unmodelled-resource` on or off.
    state.infra.settings_changed();
    state.changed.notify_one();
    for p in problems {
        tracing::warn!("settings: {p}");
        let message = format!("threat-analyzer settings: {p}");
        client.log_message(MessageType::WARNING, text::for_terminal(&message)).await;
    }
}
