//! Diagnostics for the client: the task that pushes them, the reports clients pull, and the
//! conversion of the analysis's diagnostics into the protocol's.
//!
//! Owns: the one diagnostics task (debounced by [`DEBOUNCE`], one index revision per round, a
//! round dropped when the revision moved meanwhile and recomputed at once, only files whose
//! diagnostics changed republished, each labelled with the document version its facts came
//! from; for clients that pull, a `workspace/diagnostic/refresh` instead), the pulled reports
//! (`textDocument/diagnostic`, `workspace/diagnostic`) with their result ids, and [`to_lsp`].
//! Must never: compute a diagnostic itself (that is `analysis`), hold a lock across an
//! `.await`, or publish for a revision older than the index's.

use super::convert;
use super::state::State;
use crate::analysis::ide;
use crate::diagnostic::{Diagnostic as CoreDiagnostic, Level};
use crate::file_id::FileId;
use crate::model::ProjectIndex;
use crate::text::ColumnUnit;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tower_lsp_server::Client;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

/// How long the diagnostics task waits for more edits before computing.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// Where each diagnostic code is documented.
const DOCS_URL: &str = "https://github.com/threat-analyzer/threat-analyzer/blob/main/README.md";

/// Each file's diagnostics as the protocol carries them: only files that have any (a file
/// left out has none).
type ByFile = rustc_hash::FxHashMap<FileId, Vec<Diagnostic>>;

/// Debounces changes, computes diagnostics for one index revision and republishes the files
/// whose diagnostics changed. Results computed from an older revision are dropped.
pub(super) async fn diagnostics_task(client: Client, state: Arc<State>) {
    // After a round is dropped as stale, the next one starts at once: the edits that
    // overtook it were already coalesced while it ran, so waiting again only adds latency.
    let mut debounce = true;
    // A change arrived while the task waited to prepare hovers: its round is due.
    let mut changed = false;
    loop {
        if !std::mem::take(&mut changed) {
            state.changed.notified().await;
        }
        if debounce {
            tokio::time::sleep(DEBOUNCE).await;
        }
        if state.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        let (revision, by_file, versions) = compute_round(&state);
        if state.index_read().revision() != revision {
            debounce = false;
            continue; // a newer edit arrived: its notification recomputes
        }
        debounce = true;
        let to_send = changed_since_published(&state, &by_file);
        let client_caps = state.client();
        if client_caps.pull_diagnostics {
            // The client pulls: ask it to pull again when anything changed.
            if !to_send.is_empty() && client_caps.pull_refresh {
                let _ = client.workspace_diagnostic_refresh().await;
            }
        } else {
            for (file, diags) in to_send {
                let version = versions.get(&file).copied();
                if let Some(uri) = convert::uri_of(file.as_str()) {
                    client.publish_diagnostics(uri, diags, version).await;
                }
            }
        }
        // Hovers are prepared once the edits pause (none for a debounce interval): while the
        // user types, the next round comes first.
        changed = tokio::time::timeout(DEBOUNCE, state.changed.notified()).await.is_ok();
        if !changed {
            prepare_hovers(&state, revision);
        }
    }
}

/// After a round, while the user reads: the hovers of the entities the open documents name
/// ([`ide::risk::prepare_hover`]), so that the first hover on one costs what a repeated one
/// does. The index is read-locked for one entity at a time, and the work stops once an edit
/// arrived or moved the revision past `revision` (the next round starts over).
fn prepare_hovers(state: &State, revision: u64) {
    let open: Vec<FileId> = state.docs.iter().map(|d| d.key().clone()).collect();
    if open.is_empty() {
        return;
    }
    let policies = state.risk_policies();
    let analysis = {
        let index = state.index_read();
        if index.revision() != revision {
            return;
        }
        state.analysis(&index)
    };
    for file in &open {
        for entity in ide::risk::named_entities(&analysis, file.as_str()) {
            let index = state.index_read();
            if index.revision() != revision || state.edits_pending.load(Ordering::Acquire) {
                return;
            }
            ide::risk::prepare_hover(&index, &analysis, &policies, &entity);
        }
    }
}

/// One round's diagnostics: the index revision they were computed for, the diagnostics of the
/// files that have any (the other indexed files have none: a round costs what the project's
/// diagnostics cost, not a walk over every file), and the document versions behind them.
fn compute_round(state: &State) -> (u64, ByFile, HashMap<FileId, i32>) {
    let unit = state.unit();
    state.derive_pending();
    let index = state.index_read();
    let revision = index.revision();
    let versions = state.indexed_versions.lock().map(|v| v.clone()).unwrap_or_default();
    let diagnostics = state.findings(&index, &state.analysis(&index));
    let mut by_file = ByFile::default();
    for d in diagnostics.iter().flat_map(published_as) {
        if let Some(lsp) = to_lsp(&index, &d, unit) {
            by_file.entry(d.file.clone()).or_default().push(lsp);
        }
    }
    (revision, by_file, versions)
}

/// The files whose diagnostics differ from what was last published (files that have none now,
/// in the index or not: an empty list), recorded as published. `published` holds only files
/// published with diagnostics: a file never published (or cleared) counts as published empty.
fn changed_since_published(state: &State, by_file: &ByFile) -> Vec<(FileId, Vec<Diagnostic>)> {
    let mut to_send = Vec::new();
    let mut published = state.published.lock().unwrap_or_else(|e| e.into_inner());
    for (file, diags) in by_file {
        if published.get(file) != Some(diags) {
            to_send.push((file.clone(), diags.clone()));
        }
    }
    // Files with no diagnostics now (fixed, deleted, emptied) get theirs cleared.
    for file in published.keys() {
        if !by_file.contains_key(file) {
            to_send.push((file.clone(), Vec::new()));
        }
    }
    for (file, diags) in &to_send {
        if diags.is_empty() {
            published.remove(file);
        } else {
            published.insert(file.clone(), diags.clone());
        }
    }
    to_send
}

/// The result id of a pulled diagnostic report: a hash of what it holds, so a client that
/// sends it back learns whether anything changed without receiving the report again, and no
/// state is kept per client.
fn diagnostics_result_id(items: &[Diagnostic]) -> String {
    let bytes = serde_json::to_vec(items).unwrap_or_default();
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes))
}

/// Converts one core diagnostic for the protocol; `None` when its file's text is not known.
pub(super) fn to_lsp(index: &ProjectIndex, d: &CoreDiagnostic, unit: ColumnUnit) -> Option<Diagnostic> {
    let (text, line_index) = index.text_of(d.file.as_str())?;
    let related: Vec<DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|r| {
            let (text, line_index) = index.text_of(r.file.as_str())?;
            Some(DiagnosticRelatedInformation {
                location: Location {
                    uri: convert::uri_of(r.file.as_str())?,
                    range: convert::range(text, line_index, r.range, unit),
                },
                message: r.message.clone(),
            })
        })
        .collect();
    Some(Diagnostic {
        range: convert::range(text, line_index, d.range, unit),
        severity: Some(match d.level {
            Level::Error => DiagnosticSeverity::ERROR,
            Level::Warning => DiagnosticSeverity::WARNING,
            Level::Note => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.code.as_str().into())),
        code_description: Uri::from_str(&format!("{DOCS_URL}#{}", d.code.as_str()))
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some("threat-analyzer".into()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        tags: d.unnecessary.then(|| vec![DiagnosticTag::UNNECESSARY]),
        data: None,
    })
}

/// The diagnostics one core diagnostic is published as: itself and, for a finding from a
/// `.gal` sidecar reported at its anchored source, the same finding on the `.gal` line.
fn published_as(d: &CoreDiagnostic) -> impl Iterator<Item = std::borrow::Cow<'_, CoreDiagnostic>> {
    std::iter::once(std::borrow::Cow::Borrowed(d)).chain(d.at_sidecar().map(std::borrow::Cow::Owned))
}

/// Current diagnostics of the files `want` selects (every indexed file is listed, with an
/// empty list when it has none), for the pull model.
fn pulled(state: &State, want: impl Fn(&FileId) -> bool) -> Result<Vec<(FileId, Vec<Diagnostic>)>> {
    state.read(|index, unit| {
        let analysis = state.analysis(index);
        let diagnostics = state.findings(index, &analysis);
        // Anchored source files too: sidecar findings are reported there.
        let anchored = index.anchored_keys().into_iter().filter(|k| index.text_of(k.as_str()).is_some());
        let mut by_file: std::collections::BTreeMap<FileId, Vec<_>> = index
            .files()
            .map(|f| f.path.clone())
            .chain(anchored)
            .filter(|p| want(p))
            .map(|p| (p, Vec::new()))
            .collect();
        for d in diagnostics.iter().flat_map(published_as) {
            // Files with findings and no annotation (templates with `unmodelled-resource`
            // notes) too.
            if want(&d.file)
                && let Some(lsp) = to_lsp(index, &d, unit)
            {
                by_file.entry(d.file.clone()).or_default().push(lsp);
            }
        }
        by_file.into_iter().collect()
    })
}

/// `textDocument/diagnostic`: the document's report, or `unchanged` when the client already
/// has it.
pub(super) fn document_report(
    state: &State,
    params: DocumentDiagnosticParams,
) -> Result<DocumentDiagnosticReportResult> {
    let key = convert::key_of(&params.text_document.uri);
    let items: Vec<_> =
        pulled(state, |file| *file == key)?.into_iter().flat_map(|(_, items)| items).collect();
    let result_id = diagnostics_result_id(&items);
    // The same report as last time: say so instead of sending it again (clients pull often).
    if params.previous_result_id.as_deref() == Some(result_id.as_str()) {
        return Ok(DocumentDiagnosticReportResult::Report(DocumentDiagnosticReport::Unchanged(
            RelatedUnchangedDocumentDiagnosticReport {
                related_documents: None,
                unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport { result_id },
            },
        )));
    }
    Ok(DocumentDiagnosticReportResult::Report(DocumentDiagnosticReport::Full(
        RelatedFullDocumentDiagnosticReport {
            related_documents: None,
            full_document_diagnostic_report: FullDocumentDiagnosticReport {
                result_id: Some(result_id),
                items,
            },
        },
    )))
}

/// `workspace/diagnostic`: every file's report (`unchanged` for those the client already has),
/// once the index is filled.
pub(super) async fn workspace_report(
    state: &State,
    params: WorkspaceDiagnosticParams,
) -> Result<WorkspaceDiagnosticReportResult> {
    state.wait_for_index("workspace/diagnostic").await;
    let versions = state.edit_style().versions;
    let previous: HashMap<String, String> =
        params.previous_result_ids.into_iter().map(|p| (p.uri.as_str().to_string(), p.value)).collect();
    let items = pulled(state, |_| true)?
        .into_iter()
        .filter_map(|(file, items)| {
            let uri = convert::uri_of(file.as_str())?;
            let version = versions.get(file.as_str()).map(|v| i64::from(*v));
            let result_id = diagnostics_result_id(&items);
            Some(if previous.get(uri.as_str()) == Some(&result_id) {
                WorkspaceDocumentDiagnosticReport::Unchanged(WorkspaceUnchangedDocumentDiagnosticReport {
                    uri,
                    version,
                    unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport { result_id },
                })
            } else {
                WorkspaceDocumentDiagnosticReport::Full(WorkspaceFullDocumentDiagnosticReport {
                    uri,
                    version,
                    full_document_diagnostic_report: FullDocumentDiagnosticReport {
                        result_id: Some(result_id),
                        items,
                    },
                })
            })
        })
        .collect();
    Ok(WorkspaceDiagnosticReportResult::Report(WorkspaceDiagnosticReport { items }))
}
