//! `workspace/executeCommand`: runs the commands `ext` defines.
//!
//! Owns: dispatching a command by name, waiting for indexing for those that read the whole
//! project, reading its typed argument (a refusal is an `InvalidParams` error with the
//! message), running it against the snapshot, and the diagram preview's write and
//! `window/showDocument`. Must never: await a client request inside the handler (showing the
//! preview runs in a task of its own), render anything itself (that is `render`), or write a
//! file anywhere but the preview cache (`lsp::preview`).

use crate::lsp::ext::{self, Command};
use crate::lsp::indexing;
use crate::lsp::preview;
use crate::lsp::state::State;
use crate::render::dfd::Scope;
use crate::walk::WalkOptions;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tower_lsp_server::Client;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;

/// LSP's `RequestFailed`: the request was valid but could not be carried out.
const REQUEST_FAILED: i64 = -32803;

pub(in crate::lsp) async fn execute_command(
    client: &Client,
    state: &Arc<State>,
    params: ExecuteCommandParams,
) -> Result<Option<LSPAny>> {
    let ExecuteCommandParams { command, arguments, .. } = params;
    match command.as_str() {
        ext::Status::NAME => run::<ext::Status>(state, arguments, |_| status(state)).await,
        ext::Reindex::NAME => {
            run::<ext::Reindex>(state, arguments, |_| {
                // Not awaited: the index keeps its files while they are read again.
                tokio::spawn(indexing::index_workspace(client.clone(), state.clone()));
                Ok(())
            })
            .await
        }
        ext::Dfd::NAME => run::<ext::Dfd>(state, arguments, |params| dfd(state, params)).await,
        ext::ShowDfd::NAME => {
            run::<ext::ShowDfd>(state, arguments, |params| show_dfd(client, state, params)).await
        }
        ext::Diff::NAME => {
            if ext::Diff::WAITS_FOR_INDEX {
                state.wait_for_index(ext::Diff::NAME).await;
            }
            let params = argument::<ext::Diff>(arguments)?;
            let result = diff(state, params).await?;
            Ok(serde_json::to_value(result).ok().filter(|value| !value.is_null()))
        }
        other => Err(Error::invalid_params(format!("unknown command `{other}`"))),
    }
}

/// Runs command `C` with its first argument: after waiting for indexing when `C` reads the
/// whole project, and before reading the argument.
async fn run<C: Command>(
    state: &State,
    arguments: Vec<Value>,
    command: impl FnOnce(C::Params) -> Result<C::Result>,
) -> Result<Option<LSPAny>> {
    if C::WAITS_FOR_INDEX {
        state.wait_for_index(C::NAME).await;
    }
    let params = argument::<C>(arguments)?;
    let result = command(params)?;
    Ok(serde_json::to_value(result).ok().filter(|value| !value.is_null()))
}

/// Command `C`'s typed argument (the first).
fn argument<C: Command>(arguments: Vec<Value>) -> Result<C::Params> {
    let argument = arguments.into_iter().next().unwrap_or(Value::Null);
    serde_json::from_value(argument).map_err(|e| Error::invalid_params(e.to_string()))
}

fn status(state: &State) -> Result<ext::StatusResult> {
    state.read(|index, _| {
        let files_scanned: usize =
            state.files_scanned.lock().unwrap_or_else(|e| e.into_inner()).values().sum();
        let analysis = state.analysis(index);
        // The language server keeps no list of scanned files: only the model's counts are used.
        let exposures = analysis.status(index, &[]).exposures;
        ext::StatusResult {
            files_scanned,
            files_with_annotations: index.files().count(),
            annotations: index.files().map(|f| f.annotations().len()).sum(),
            open_documents: state.docs.len(),
            revision: index.revision(),
            documents_derived: state.documents_derived.load(Ordering::Relaxed),
            // Work done for this revision so far: requests reuse it rather than repeat it.
            suggestion_work: analysis.suggestion_work(),
            // Exposures whose asset and threat resolve, and those the coverage rule calls open
            // (as `unmitigated-exposure` does).
            exposures: exposures.total - exposures.unresolved,
            open_exposures: exposures.by_state.open,
            coverage_scope: analysis.coverage_scope().as_str(),
        }
    })
}

fn dfd(state: &State, params: ext::DfdParams) -> Result<ext::DfdResult> {
    let ext::DfdParams { format, scope } = params;
    state.read(|index, _| {
        let analysis = state.analysis(index);
        let dfd = crate::render::dfd::build(index, &analysis, &scope);
        if let Some(reason) = dfd.too_large() {
            return Err(Error::invalid_params(format!("threat-analyzer.dfd: {reason}")));
        }
        let text = match format {
            ext::DfdFormat::Dot => crate::render::dot::render(&dfd),
            ext::DfdFormat::Svg => crate::render::svg::render(&dfd),
            ext::DfdFormat::Mermaid => crate::render::mermaid::render(&dfd),
        };
        Ok(ext::DfdResult { format, text })
    })?
}

/// `threat-analyzer.showDfd`: renders the diagram of the scope as a self-contained HTML page,
/// writes it to the preview cache (outside the workspace, see `lsp::preview`), and asks the
/// client to open it when the client supports `window/showDocument`.
fn show_dfd(client: &Client, state: &State, params: ext::ShowDfdParams) -> Result<ext::ShowDfdResult> {
    let scope = params.scope;
    let roots: Vec<PathBuf> = state.roots();
    let heading = roots
        .first()
        .and_then(|r| r.file_name())
        .map_or_else(|| "workspace".to_string(), |n| n.to_string_lossy().into_owned());
    let what = describe_scope(&scope);
    let failed = |message: String| Error {
        code: ErrorCode::ServerError(REQUEST_FAILED),
        message: format!("threat-analyzer.showDfd: {message}").into(),
        data: None,
    };
    let html = state.read(|index, _| {
        let analysis = state.analysis(index);
        let dfd = crate::render::dfd::build(index, &analysis, &scope);
        match dfd.too_large() {
            Some(reason) => Err(failed(reason)),
            None => Ok(crate::render::report_html::dfd_page(&dfd, &heading, &what)),
        }
    })??;
    let dir =
        preview::preview_dir(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME")).map_err(failed)?;
    let path = preview::write(&dir, &roots, &html).map_err(failed)?;
    let uri =
        Uri::from_file_path(&path).ok_or_else(|| failed(format!("{} has no file URI", path.display())))?;
    let shown = state.client().show_document;
    if shown {
        // Never await a client request inside a handler.
        let client = client.clone();
        let params =
            ShowDocumentParams { uri: uri.clone(), external: Some(true), take_focus: None, selection: None };
        tokio::spawn(async move {
            if let Err(e) = client.show_document(params).await {
                tracing::warn!("window/showDocument for the diagram preview failed: {e}");
            }
        });
    }
    tracing::info!(path = %path.display(), shown, "wrote the diagram preview");
    Ok(ext::ShowDfdResult { uri: uri.as_str().to_string(), path: path.to_string_lossy().into_owned(), shown })
}

/// `threat-analyzer.diff`: the first workspace folder at the `base` revision of its git
/// repository (read in-process and walked with the server's settings, on a blocking thread:
/// [`base_side`]) against the index's files in that folder, open documents as edited.
async fn diff(state: &Arc<State>, params: ext::DiffParams) -> Result<ext::DiffResult> {
    use crate::analysis::Analysis;
    use crate::model::ProjectIndex;
    let folder = state.roots().into_iter().next().ok_or_else(|| diff_failed("no workspace folder".into()))?;
    let options = {
        let settings = state.settings.read().unwrap_or_else(|e| e.into_inner());
        // Keys relative to the repository (as `diff` gives them), no cache for a temporary tree.
        WalkOptions { absolute_paths: false, cache_dir: None, progress: None, ..settings.walk_options() }
    };
    let base_folder = folder.clone();
    let base = tokio::task::spawn_blocking(move || base_side(&base_folder, params.base.as_deref(), &options))
        .await
        .map_err(|e| diff_failed(e.to_string()))?
        .map_err(diff_failed)?;
    // The repository's root as the server sees it (the folder may be reached through a link):
    // the head's absolute keys are made relative to it.
    let depth = base.folder_in_repository.components().count();
    let seen_root = folder.ancestors().nth(depth).unwrap_or(&folder).to_path_buf();
    let root = format!("{}/", seen_root.to_string_lossy().trim_end_matches('/'));
    let inside = format!("{}/", folder.to_string_lossy().trim_end_matches('/'));
    let text = state.read(|index, _| {
        let scope = state.analysis(index).coverage_scope();
        // The head: the indexed files in the folder, with their anchors' texts.
        let mut head_index = ProjectIndex::default();
        for facts in index.files().filter(|f| f.path.as_str().starts_with(&inside)) {
            head_index.set_file(facts.clone());
        }
        for key in head_index.anchored_keys() {
            head_index.copy_anchor_text(index, &key);
        }
        let base_index = &base.index;
        let (base_analysis, head) =
            (Analysis::with_scope(base_index, scope), Analysis::with_scope(&head_index, scope));
        let (base_diagnostics, head_diagnostics) =
            (base_analysis.diagnostics(base_index), head.diagnostics(&head_index));
        let diff = crate::render::diff::compare(
            crate::render::diff::Input {
                index: base_index,
                analysis: &base_analysis,
                diagnostics: &base_diagnostics,
                root: "",
            },
            crate::render::diff::Input {
                index: &head_index,
                analysis: &head,
                diagnostics: &head_diagnostics,
                root: &root,
            },
        );
        let sides = crate::sides::sides(&base.revision, None, "workspace");
        crate::render::diff::json(&diff, &sides, &seen_root)
    })?;
    let mut doc: Value = serde_json::from_str(&text).map_err(|e| diff_failed(e.to_string()))?;
    let mut take = |key: &str| doc.get_mut(key).map(Value::take).unwrap_or_default();
    Ok(ext::DiffResult {
        provenance: take("provenance"),
        root: take("root"),
        base: take("base"),
        head: take("head"),
        verdict: take("verdict"),
        summary: take("summary"),
        changes: take("changes"),
    })
}

fn diff_failed(message: String) -> Error {
    Error {
        code: ErrorCode::ServerError(REQUEST_FAILED),
        message: format!("threat-analyzer.diff: {message}").into(),
        data: None,
    }
}

/// The base side of a diff: the model of `folder` at `spec` (default: the merge base with the
/// default branch), file keys relative to the repository's root.
struct BaseSide {
    index: crate::model::ProjectIndex,
    revision: crate::vcs::Revision,
    /// Where the folder lies in the repository (empty at its root).
    folder_in_repository: PathBuf,
}

/// Reads git and walks the revision: blocking work, for `spawn_blocking` (a repository handle
/// is not `Send`, so it lives and dies on that thread).
fn base_side(
    folder: &std::path::Path,
    spec: Option<&str>,
    options: &WalkOptions,
) -> std::result::Result<BaseSide, String> {
    use crate::vcs::GitRepository;
    let repo = GitRepository::discover(folder).map_err(|e| e.to_string())?;
    let revision = match spec {
        Some(spec) => repo.resolve(spec),
        None => repo.default_base(),
    }
    .map_err(|e| e.to_string())?;
    let folder_in_repository = repo.path_in_workdir(folder).unwrap_or_default();
    let paths = [folder_in_repository.clone()];
    let scanned = crate::revision_scan::scan_revision(
        &repo,
        &revision,
        std::path::Path::new(""),
        &paths,
        options,
        None,
    )
    .map_err(|e| e.to_string())?;
    Ok(BaseSide { index: scanned.index, revision, folder_in_repository })
}

/// What a diagram of `scope` shows, in words (for the preview's page).
fn describe_scope(scope: &Scope) -> String {
    match scope {
        Scope::Project => "The whole project".to_string(),
        Scope::Boundary(b) => format!("Trust boundary {b}, with its direct neighbours"),
        Scope::Component(c) => format!("Component {c}, its sub-components and direct neighbours"),
        Scope::File(f) => format!("What {f} names"),
    }
}
