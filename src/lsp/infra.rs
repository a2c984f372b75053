//! The infrastructure model of each workspace folder, for `unmodelled-resource`
//! ([`crate::analysis::unmodelled`]).
//!
//! Owns: per folder, the templates its walk found (Terraform, YAML, JSON: [`infra::reads`]),
//! the level its configuration gives the code, and the drawn resources derived from them
//! ([`infra::resources`]); deriving them again, debounced ([`DEBOUNCE`]) and on a blocking
//! thread, when a template changes (an open buffer's edits, a change on disk, a file created
//! or deleted) or the settings change; and handing them to the findings ([`State::findings`]).
//! The texts of templates without annotations go into the index beside the anchored files'
//! (`ProjectIndex::set_anchor_text`), so notes there are located like any other.
//! Must never: derive (or read a template) for a folder where the code is off, read a file
//! that `walk::WalkRules` does not admit, put anything into `FileFacts` or the index cache, or
//! hold a lock across an `.await`.

use super::state::State;
use crate::analysis::unmodelled::{Resource, Resources};
use crate::diagnostic::{Code, Level};
use crate::diagnostic::{Diagnostic, Edit, Fix};
use crate::file_id::FileId;
use crate::infra::{self, InfraModel, SourceFile};
use crate::model::ProjectIndex;
use crate::model::anchors::AnchorText;
use crate::render::infra_apply;
use crate::syntax::Language;
use crate::text::TextRange;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// How long the task waits for more template changes before deriving again.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// One workspace folder's templates and resources.
#[derive(Default)]
struct Folder {
    /// The level the folder's configuration enables the code at (`None`: off).
    configured: Option<Level>,
    /// The templates the walk found (and changes since), by absolute path.
    files: BTreeSet<PathBuf>,
    /// The resources last derived, at the level they are reported at (`None`: off).
    resources: Option<Resources>,
    /// The model they were derived from and each template's text then (by file key), for the
    /// code action's plan.
    derived: Option<Derived>,
}

/// A folder's model and each template's text it was derived from.
type Derived = (Arc<InfraModel>, HashMap<FileId, Arc<str>>);

/// Every folder's infrastructure model, and the folders waiting to be derived again.
#[derive(Default)]
pub(super) struct Infra {
    folders: Mutex<HashMap<PathBuf, Folder>>,
    dirty: Mutex<BTreeSet<PathBuf>>,
    wake: Notify,
}

impl Infra {
    /// The resources of every folder where the code is on, for the findings.
    pub(super) fn resources(&self) -> Vec<Resources> {
        let folders = self.folders.lock().unwrap_or_else(|e| e.into_inner());
        folders.values().filter_map(|f| f.resources.clone()).collect()
    }

    /// Marks the folder holding `key` to be derived again when `key` is a template.
    pub(super) fn touched(&self, key: &FileId) {
        let path = Path::new(key.as_str());
        let Some(language) = Language::from_path(path) else { return };
        if !infra::reads(key.as_str(), language) {
            return;
        }
        let root = {
            let mut folders = self.folders.lock().unwrap_or_else(|e| e.into_inner());
            let Some((root, folder)) = folders
                .iter_mut()
                .filter(|(root, _)| path.starts_with(root))
                .max_by_key(|(root, _)| root.as_os_str().len())
            else {
                return;
            };
            folder.files.insert(path.to_path_buf());
            root.clone()
        };
        self.dirty.lock().unwrap_or_else(|e| e.into_inner()).insert(root);
        self.wake.notify_one();
    }

    /// Marks every folder to be derived again (the `severity` setting may have turned the code
    /// on or off).
    pub(super) fn settings_changed(&self) {
        let roots: Vec<PathBuf> =
            self.folders.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        self.dirty.lock().unwrap_or_else(|e| e.into_inner()).extend(roots);
        self.wake.notify_one();
    }

    /// `diagnostics` with the fix of each `unmodelled-resource` note of `file`: "Insert
    /// baseline annotations for ADDRESS", the lines the baseline proposes for its resource above
    /// its definition ([`infra_apply::plan_resource`]) and, when the index holds the folder's
    /// `.guardlink/baseline.gal`, the threat and control definitions they use that are missing
    /// there ([`infra_apply::plan_definitions`]). Only while the template's text is the one the
    /// resources were derived from (else the next derivation offers it).
    pub(super) fn with_fixes(
        &self,
        index: &ProjectIndex,
        mut diagnostics: Vec<Diagnostic>,
        file: &str,
    ) -> Vec<Diagnostic> {
        let folders = self.folders.lock().unwrap_or_else(|e| e.into_inner());
        for d in
            diagnostics.iter_mut().filter(|d| d.code == Code::UnmodelledResource && d.file.as_str() == file)
        {
            let found = folders.iter().find_map(|(root, f)| {
                let r = f
                    .resources
                    .as_ref()?
                    .resources
                    .iter()
                    .find(|r| r.file == d.file && r.range == d.range)?;
                Some((root, r, f.derived.as_ref()?))
            });
            let Some((root, resource, (model, texts))) = found else { continue };
            let Some((text, _)) = index.text_of(file) else { continue };
            if texts.get(&d.file).is_none_or(|derived| **derived != *text) {
                continue;
            }
            let Some(insert) = infra_apply::plan_resource(model, &resource.address, text) else { continue };
            let mut edits = vec![Edit {
                file: d.file.clone(),
                range: TextRange::empty(insert.offset),
                new_text: insert.text,
            }];
            let definitions = FileId::absolute(&root.join(crate::render::infra::DEFINITIONS_FILE));
            if let Some((gal, _)) = index.text_of(definitions.as_str()) {
                let known = infra_apply::Known::from_index(index);
                if let Some(add) = infra_apply::plan_definitions(model, &[&resource.address], gal, &known) {
                    edits.push(Edit {
                        file: definitions,
                        range: TextRange::empty(add.offset),
                        new_text: add.text,
                    });
                }
            }
            d.fix =
                Some(Fix { label: format!("Insert baseline annotations for {}", resource.address), edits });
        }
        diagnostics
    }

    /// Forgets a folder that left the workspace.
    pub(super) fn remove(&self, root: &Path) {
        self.folders.lock().unwrap_or_else(|e| e.into_inner()).remove(root);
    }
}

/// After an indexing run scanned `root`: its templates and configured level, then derives.
/// Blocking; runs on the indexing thread.
pub(super) fn after_scan(state: &State, root: &Path, scan: &crate::walk::Scan) {
    let files = scan
        .scanned
        .iter()
        .filter(|(key, language)| infra::reads(key.as_str(), *language))
        .map(|(key, _)| PathBuf::from(key.as_str()))
        .collect();
    {
        let mut folders = state.infra.folders.lock().unwrap_or_else(|e| e.into_inner());
        let folder = folders.entry(root.to_path_buf()).or_default();
        folder.configured = scan.unmodelled_resource;
        folder.files = files;
    }
    derive(state, root);
}

/// Derives again the folders whose templates changed, [`DEBOUNCE`] after the first change.
pub(super) async fn infra_task(state: Arc<State>) {
    loop {
        state.infra.wake.notified().await;
        tokio::time::sleep(DEBOUNCE).await;
        if state.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        let roots = std::mem::take(&mut *state.infra.dirty.lock().unwrap_or_else(|e| e.into_inner()));
        if roots.is_empty() {
            continue;
        }
        let deriving = state.clone();
        let changed = tokio::task::spawn_blocking(move || {
            // Every root is derived (no short circuit).
            roots.iter().map(|root| derive(&deriving, root)).collect::<Vec<_>>().contains(&true)
        })
        .await;
        if changed.unwrap_or(true) {
            state.changed.notify_one();
        }
    }
}

/// Derives `root`'s resources when the code is on for it (else forgets them): each template
/// from its open buffer, else from disk by the walk's rules. Blocking. Whether the findings
/// must be computed again (the resources were derived, or forgotten).
fn derive(state: &State, root: &Path) -> bool {
    let overrides = state.settings.read().map(|s| s.overrides.clone()).unwrap_or_default();
    let (level, files) = {
        let folders = state.infra.folders.lock().unwrap_or_else(|e| e.into_inner());
        let Some(folder) = folders.get(root) else { return false };
        (overrides.enabled(Code::UnmodelledResource, folder.configured), folder.files.clone())
    };
    let Some(level) = level else {
        if let Some(folder) = state.infra.folders.lock().unwrap_or_else(|e| e.into_inner()).get_mut(root) {
            folder.derived = None;
        }
        return set(state, root, None, None);
    };
    let mut rules = state.walk_rules();
    let max_size = state.max_file_size();
    let mut sources = Vec::new();
    let mut kept = BTreeSet::new();
    for path in files {
        let key = FileId::absolute(&path);
        let Ok(rel) = path.strip_prefix(root) else { continue };
        let Some(rel) = rel.to_str().map(|r| r.replace('\\', "/")) else { continue };
        let open = state.docs.get(&key).map(|doc| (doc.rope.to_string(), doc.language));
        let (text, language) = match open {
            Some(open) => open,
            None => {
                let Ok(language) = rules.check(&path) else { continue };
                let read = crate::walk::read_source(&path, max_size, crate::read::Links::Refuse)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok());
                let Some(text) = read else { continue };
                (text, language)
            }
        };
        if !infra::reads(&rel, language) {
            continue;
        }
        kept.insert(path);
        let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
        sources.push(SourceFile { path: rel, language, text: Arc::from(text) });
    }
    let model = infra::derive(&sources);
    let resources: Vec<Resource> =
        infra::resources(&model, &sources, |rel| FileId::absolute(&root.join(rel)));
    // The texts of templates the index does not hold, so their notes are located.
    {
        let mut index = state.index_write();
        for source in &sources {
            let key = FileId::absolute(&root.join(&source.path));
            if index.file(key.as_str()).is_none() && resources.iter().any(|r| r.file == key) {
                index.set_anchor_text(key, AnchorText::read(source.text.clone()));
            }
        }
    }
    let texts = sources.iter().map(|s| (FileId::absolute(&root.join(&s.path)), s.text.clone())).collect();
    if let Some(folder) = state.infra.folders.lock().unwrap_or_else(|e| e.into_inner()).get_mut(root) {
        folder.derived = Some((Arc::new(model), texts));
    }
    set(state, root, Some(Resources { level, resources }), Some(kept));
    // Even the same resources may sit at other offsets of an edited text than the ones a
    // diagnostics round since the edit located: always publish again.
    true
}

/// Stores what [`derive`] found; whether the resources changed.
fn set(state: &State, root: &Path, resources: Option<Resources>, files: Option<BTreeSet<PathBuf>>) -> bool {
    let mut folders = state.infra.folders.lock().unwrap_or_else(|e| e.into_inner());
    let Some(folder) = folders.get_mut(root) else { return false };
    if let Some(files) = files {
        folder.files = files;
    }
    let changed = folder.resources != resources;
    folder.resources = resources;
    changed
}
