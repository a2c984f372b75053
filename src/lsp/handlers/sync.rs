//! Document synchronisation: `didOpen`, `didChange`, `didClose`, and a `didOpen`/`didChange`
//! too large to read.
//!
//! The rule this module exists for: tower-lsp-server runs up to four handlers at a time, so an
//! edit must be applied *before the handler's first `.await`*; then edits apply in the order
//! they arrived, whichever handler finishes first. Every function here is therefore a plain
//! `fn` (no `async`: it cannot await), and the `LanguageServer` methods in `server.rs` call it
//! first. The test below checks that each sync notification is done on its handler's first
//! poll; `tests/lsp/in_memory.rs` (`a_thousand_rapid_edits_apply_in_order`) and `tests/load.rs` check the
//! order end to end.
//!
//! Owns: open documents (their text, version, language, whether they are analysed) and the
//! facts they put into the index. `didOpen` and `didClose` replace the file's facts at once;
//! `didChange` only marks the document, and whatever reads the index next derives its facts
//! (`State::derive_pending`). Must never: await, read a file from disk that
//! `walk::WalkRules` does not admit (a client must not make the server read a path of its
//! choosing), or let a derivation of an old text land after the document was replaced.

use crate::lsp::convert;
use crate::lsp::documents::Document;
use crate::lsp::indexing;
use crate::lsp::state::State;
use crate::syntax::Language;
use std::path::Path;
use std::sync::atomic::Ordering;
use tower_lsp_server::ls_types::*;

pub(in crate::lsp) fn did_open(state: &State, params: DidOpenTextDocumentParams) {
    let doc = params.text_document;
    let key = convert::key_of(&doc.uri);
    let language = Language::from_path(Path::new(key.as_str())).or_else(|| language_of_id(&doc.language_id));
    let Some(language) = language else { return };
    // A `.txt` file is analysed only when the walk would read it (the configuration names
    // it), so that an open `requirements.txt` adds nothing `check` would not.
    if language.read_only_when_named()
        && key.as_str().starts_with('/')
        && let Err(why) = state.walk_rules().check(Path::new(key.as_str()))
    {
        tracing::info!(path = %key, "open document not analysed: {why}");
        state.not_analysed.insert(key);
        return;
    }
    state.not_analysed.remove(&key);
    let max_size = state.max_file_size();
    let mut document = Document::new(&doc.text, doc.version, language, max_size);
    let facts = document.facts(key.clone(), max_size);
    state.documents_derived.fetch_add(1, Ordering::Relaxed);
    let _deriving = state.deriving.lock().unwrap_or_else(|e| e.into_inner());
    state.docs.insert(key.clone(), document);
    state.set_facts_at(&key, Some(facts), Some(doc.version));
}

pub(in crate::lsp) fn did_change(state: &State, params: DidChangeTextDocumentParams) {
    let key = convert::key_of(&params.text_document.uri);
    let unit = state.unit();
    // The facts are derived when the index is next read (`State::derive_pending`).
    {
        let Some(mut doc) = state.docs.get_mut(&key) else {
            if !state.not_analysed.contains(&key) {
                tracing::warn!("didChange for a document that is not open: ignored");
            }
            return;
        };
        for change in &params.content_changes {
            doc.apply(change, unit);
        }
        // The protocol says versions increase; a client that breaks that rule still sent
        // the edits in the order it made them, so they apply (and diagnostics carry the
        // version it sent).
        if params.text_document.version < doc.version {
            tracing::warn!(
                from = doc.version,
                to = params.text_document.version,
                "document version went backwards; edits applied in arrival order"
            );
        }
        doc.version = params.text_document.version;
        doc.facts_pending = true;
        // Set while the document is still locked: a request that reads the index after
        // the new text is visible must find the edit pending (and derive it), never answer
        // from the old text's facts.
        state.edits_pending.store(true, Ordering::Release);
    }
    state.changed.notify_one();
}

pub(in crate::lsp) fn did_close(state: &State, params: DidCloseTextDocumentParams) {
    let key = convert::key_of(&params.text_document.uri);
    if state.not_analysed.remove(&key).is_some() {
        return;
    }
    let _deriving = state.deriving.lock().unwrap_or_else(|e| e.into_inner());
    if state.docs.remove(&key).is_none() {
        // Never opened (or closed twice): nothing to give back to the disk, and a client
        // must not make the server read a path of its choosing.
        tracing::warn!("didClose for a document that is not open: ignored");
        return;
    }
    // The file on disk is the truth again when the walk would index it; otherwise the
    // buffer's facts go (an unsaved buffer, a file outside the folders or behind a link).
    let facts = state.facts_from_disk(&mut state.walk_rules(), &key).unwrap_or_else(|why| {
        if key.as_str().starts_with('/') {
            indexing::log_not_read(Path::new(key.as_str()), &why);
        }
        None
    });
    state.set_facts(&key, facts);
}

/// A `didOpen`/`didChange` over the protocol's message limit (see `lsp::input`): the
/// document is held as unread, with a diagnostic saying why.
pub(in crate::lsp) fn document_too_large(state: &State, params: serde_json::Value) {
    let Some(uri) = params["uri"].as_str().and_then(|uri| uri.parse::<Uri>().ok()) else { return };
    let key = convert::key_of(&uri);
    let open = state.docs.get(&key).map(|doc| (doc.language, doc.version));
    let language = match (params["method"].as_str(), open) {
        // As a `didChange` that fits: only for a document that is open.
        (Some("textDocument/didChange"), None) => {
            tracing::warn!("didChange for a document that is not open: ignored");
            return;
        }
        (Some("textDocument/didChange"), Some((language, _))) => Some(language),
        // As `didOpen` decides: the path, else the client's language id.
        _ => Language::from_path(Path::new(key.as_str()))
            .or_else(|| params["languageId"].as_str().and_then(language_of_id)),
    };
    let Some(language) = language else { return };
    let bytes = params["bytes"].as_u64().unwrap_or(0) as usize;
    let version = params["version"]
        .as_i64()
        .and_then(|v| i32::try_from(v).ok())
        .or(open.map(|(_, version)| version))
        .unwrap_or(0);
    let mut document = Document::unread(bytes, version, language);
    let facts = document.facts(key.clone(), state.max_file_size());
    // As in `didOpen`: a derivation of the old text running now must not land after this.
    let _deriving = state.deriving.lock().unwrap_or_else(|e| e.into_inner());
    state.docs.insert(key.clone(), document);
    state.set_facts_at(&key, Some(facts), Some(version));
}

/// Fallback for documents whose path has no known extension (`untitled:` buffers).
fn language_of_id(id: &str) -> Option<Language> {
    Language::from_name(id).or_else(|| match id {
        "shellscript" | "sh" => Language::from_name("bash"),
        "typescriptreact" => Language::from_name("tsx"),
        "javascriptreact" => Language::from_name("javascript"),
        "terraform" => Language::from_name("hcl"),
        "csharp" => Language::from_name("csharp"),
        "cpp" | "c" => Language::from_name(id),
        "plaintext" => Language::from_name("text"),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use crate::lsp::Backend;
    use serde_json::json;
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    use tower_lsp_server::LanguageServer;

    /// Polls `handler` once: `true` when it finished without ever waiting.
    fn done_on_first_poll(handler: impl Future<Output = ()>) -> bool {
        let mut handler = std::pin::pin!(handler);
        handler.as_mut().poll(&mut Context::from_waker(Waker::noop())) == Poll::Ready(())
    }

    fn params<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
        serde_json::from_value(value).unwrap()
    }

    /// The arrival-order rule: each document sync handler applies its edit before it could
    /// yield, so four handlers running at once still apply edits in the order they arrived.
    #[tokio::test]
    async fn document_sync_handlers_are_done_on_their_first_poll() {
        let (service, _socket) = tower_lsp_server::LspService::new(Backend::new);
        let server = service.inner();
        let uri = "untitled:Untitled-1";
        let open =
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "# a\n"}});
        assert!(done_on_first_poll(server.did_open(params(open))), "didOpen");
        for (version, text) in [(2, "# b\n"), (3, "# c\n")] {
            let change =
                json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]});
            assert!(done_on_first_poll(server.did_change(params(change))), "didChange {version}");
            let applied = server.state.docs.get(uri).map(|doc| doc.rope.to_string());
            assert_eq!(applied.as_deref(), Some(text), "applied on the first poll");
        }
        let close = json!({"textDocument": {"uri": uri}});
        assert!(done_on_first_poll(server.did_close(params(close))), "didClose");
        assert!(server.state.docs.get(uri).is_none());
        let too_large =
            json!({"method": "textDocument/didOpen", "uri": uri, "languageId": "python", "bytes": 1});
        assert!(done_on_first_poll(server.document_too_large(too_large)), "a document too large");
    }
}
