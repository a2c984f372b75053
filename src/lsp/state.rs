//! The server's global state, and the one way handlers read it: a snapshot of the index.
//!
//! Owns: [`State`] (open documents, the index and its revision-keyed analysis and completion
//! caches, workspace folders, settings, the client's capabilities, the counters the status
//! command reports, the bookkeeping of indexing runs that requests wait for), every change to
//! the index (`set_facts`: one file's facts, synchronous, then the diagnostics task is woken),
//! deriving open documents' pending edits before the index is read, and the snapshot
//! ([`State::read`], [`State::at`]): the index read-locked for one synchronous computation,
//! with a panic turned into an error response. Must never: hold a lock across an `.await`,
//! read a file from disk that `walk::WalkRules` does not admit, or talk to the client (the
//! handlers and tasks that hold a `Client` do).

use super::capabilities::ClientCapabilities;
use super::convert;
use super::documents::Document;
use super::features::{self, Text};
use super::settings::Settings;
use crate::analysis::{Analysis, ide};
use crate::diagnostic::Code;
use crate::file_id::FileId;
use crate::model::anchors::AnchorText;
use crate::model::library::Library;
use crate::model::risk::{Policies, RiskPolicy};
use crate::model::{FileFacts, ProjectIndex};
use crate::syntax::{Language, SyntaxError};
use crate::text::ColumnUnit;
use crate::walk;
use dashmap::DashMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::Notify;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::Uri;

/// How long a request that reads the whole project (`workspace/symbol`, references, rename,
/// workspace diagnostics, the status and diagram commands) waits for a workspace indexing run
/// that is still filling the index: the first index, a re-index after the file selection
/// changed, folders just added. Then it is answered with what is indexed so far, and the log
/// says so.
const INDEX_WAIT: Duration = Duration::from_secs(5);

/// How many requests may wait for indexing at once. tower-lsp-server handles at most four
/// messages at a time, notifications and `$/cancelRequest` included: two slots always stay
/// free for them, and a request past this many is answered at once from what is indexed.
const MAX_WAITING_REQUESTS: usize = 2;

pub(super) struct State {
    /// What the client can do: resolved by `initialize` (before it, a client that declared
    /// nothing).
    pub(super) client: RwLock<ClientCapabilities>,
    pub(super) docs: DashMap<FileId, Document>,
    /// Open documents that are not analysed: `.txt` files the configuration does not name.
    pub(super) not_analysed: dashmap::DashSet<FileId>,
    index: RwLock<ProjectIndex>,
    pub(super) roots: RwLock<Vec<PathBuf>>,
    pub(super) settings: RwLock<Settings>,
    /// Set by every change; the diagnostics task waits on it.
    pub(super) changed: Notify,
    /// Last diagnostics published per file (to republish only what changed).
    pub(super) published: Mutex<HashMap<FileId, Vec<tower_lsp_server::ls_types::Diagnostic>>>,
    /// Our own file watcher, when the client sends no file events (kept alive here).
    pub(super) watcher: Mutex<Option<notify::RecommendedWatcher>>,
    /// Project-wide completion facts for one index revision.
    completion: Mutex<Option<(u64, Arc<ide::completion::CompletionIndex>)>>,
    /// The document version whose facts are in the index, per open file. Written under the
    /// index's write lock, read under its read lock, so a publish names the version its
    /// diagnostics were computed from.
    pub(super) indexed_versions: Mutex<HashMap<FileId, i32>>,
    /// The project's resolved analysis for one index revision, shared by requests.
    analysis: Mutex<Option<(u64, Arc<Analysis>)>>,
    /// Held by a workspace indexing run while it scans and merges one folder.
    pub(super) indexing: Mutex<()>,
    /// Some open document has edits whose facts are not in the index yet.
    pub(super) edits_pending: AtomicBool,
    /// Held while open documents' facts are derived and stored, by `didOpen`/`didClose`
    /// while they replace a document, so a derivation never lands after its document closed,
    /// and briefly by every reader before it reads the index, so that no reader overtakes a
    /// derivation in progress.
    pub(super) deriving: Mutex<()>,
    /// Facts derived from open documents so far (`threat-analyzer.status` reports it).
    pub(super) documents_derived: AtomicU64,
    pub(super) shutting_down: AtomicBool,
    /// Files changed on disk since the index cache was last written.
    pub(super) cache_stale: AtomicBool,
    /// The tasks waiting for index-cache writes an indexing run started on threads of their
    /// own: `shutdown` waits for them (bounded), so that a server stopped right after its first
    /// index still leaves its cache behind.
    pub(super) cache_saves: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// How many indexing runs that whole-project requests wait for are running (or, for the
    /// first index, due: counted from `initialize` on). See [`INDEX_WAIT`].
    awaited_indexing: tokio::sync::watch::Sender<usize>,
    /// The first index's count, from `initialize` until `initialized` starts the run.
    pub(super) first_index: Mutex<Option<AwaitedIndexing>>,
    /// Requests waiting for indexing now (at most [`MAX_WAITING_REQUESTS`]).
    waiting_requests: AtomicUsize,
    /// Files the last indexing of each workspace folder scanned (`threat-analyzer.status`
    /// reports their sum: `check` on the same folder counts the same files).
    pub(super) files_scanned: Mutex<HashMap<PathBuf, usize>>,
    /// Problems the last indexing run found in each folder's configuration files
    /// (`threatspec.yaml`, `.guardlink/config.json`), with the text they were found in: they
    /// stay on the file while its facts come from an open buffer of the same text.
    config_problems: Mutex<HashMap<FileId, ConfigProblems>>,
    /// Each workspace folder's risk policy (its configuration's `risk` block, else the
    /// default), as its last indexing run read it.
    risk_policies: Mutex<HashMap<PathBuf, RiskPolicy>>,
    /// Each workspace folder's threat libraries, as its last indexing run read them (folders
    /// with none left out); the index holds their union ([`State::set_libraries`]).
    libraries: Mutex<std::collections::BTreeMap<PathBuf, Arc<Library>>>,
    /// Each workspace folder's threat library files, found or not, as its last indexing run
    /// looked for them: a change to one indexes the folder again.
    library_files: Mutex<HashMap<PathBuf, Vec<PathBuf>>>,
    /// Each workspace folder's infrastructure model, for `unmodelled-resource`.
    pub(super) infra: super::infra::Infra,
}

/// One indexing run that whole-project requests wait for, counted in
/// [`State::awaited_indexing`] while this value lives (also when its task panics).
pub(super) struct AwaitedIndexing(tokio::sync::watch::Sender<usize>);

impl AwaitedIndexing {
    pub(super) fn new(state: &State) -> AwaitedIndexing {
        state.awaited_indexing.send_modify(|runs| *runs += 1);
        AwaitedIndexing(state.awaited_indexing.clone())
    }
}

impl Drop for AwaitedIndexing {
    fn drop(&mut self) {
        self.0.send_modify(|runs| *runs = runs.saturating_sub(1));
    }
}

/// One of the [`MAX_WAITING_REQUESTS`] places for a request waiting for indexing, held until
/// the request stops waiting (or is cancelled).
struct WaitingSlot<'a>(&'a AtomicUsize);

impl WaitingSlot<'_> {
    fn take(waiting: &AtomicUsize) -> Option<WaitingSlot<'_>> {
        let taken = waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_WAITING_REQUESTS).then_some(n + 1)
            })
            .is_ok();
        taken.then_some(WaitingSlot(waiting))
    }
}

impl Drop for WaitingSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs `indexing`, counted as awaited while it runs.
pub(super) async fn awaited(run: AwaitedIndexing, indexing: impl std::future::Future<Output = ()>) {
    indexing.await;
    drop(run);
}

/// A configuration file's text as indexed and the problems found in it.
type ConfigProblems = (Arc<str>, Vec<SyntaxError>);

impl State {
    pub(super) fn new() -> State {
        State {
            client: RwLock::new(ClientCapabilities::default()),
            docs: DashMap::new(),
            not_analysed: dashmap::DashSet::new(),
            index: RwLock::new(ProjectIndex::new()),
            roots: RwLock::new(Vec::new()),
            settings: RwLock::new(Settings::default()),
            changed: Notify::new(),
            published: Mutex::new(HashMap::new()),
            watcher: Mutex::new(None),
            analysis: Mutex::new(None),
            completion: Mutex::new(None),
            indexed_versions: Mutex::new(HashMap::new()),
            indexing: Mutex::new(()),
            edits_pending: AtomicBool::new(false),
            deriving: Mutex::new(()),
            documents_derived: AtomicU64::new(0),
            shutting_down: AtomicBool::new(false),
            cache_stale: AtomicBool::new(false),
            cache_saves: Mutex::new(Vec::new()),
            awaited_indexing: tokio::sync::watch::Sender::new(0),
            first_index: Mutex::new(None),
            waiting_requests: AtomicUsize::new(0),
            files_scanned: Mutex::new(HashMap::new()),
            config_problems: Mutex::new(HashMap::new()),
            risk_policies: Mutex::new(HashMap::new()),
            libraries: Mutex::new(std::collections::BTreeMap::new()),
            library_files: Mutex::new(HashMap::new()),
            infra: super::infra::Infra::default(),
        }
    }

    /// What the client can do.
    pub(super) fn client(&self) -> ClientCapabilities {
        *self.client.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The column unit positions are exchanged in.
    pub(super) fn unit(&self) -> ColumnUnit {
        self.client().unit
    }

    /// The workspace folders.
    pub(super) fn roots(&self) -> Vec<PathBuf> {
        self.roots.read().map(|r| r.clone()).unwrap_or_default()
    }

    pub(super) fn index_read(&self) -> std::sync::RwLockReadGuard<'_, ProjectIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn index_write(&self) -> std::sync::RwLockWriteGuard<'_, ProjectIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The analysis of the current revision and `coverage.scope` (computed at most once per
    /// revision and scope).
    pub(super) fn analysis(&self, index: &ProjectIndex) -> Arc<Analysis> {
        let scope = self.settings.read().map(|s| s.coverage_scope).unwrap_or_default();
        let mut cache = self.analysis.lock().unwrap_or_else(|e| e.into_inner());
        match &*cache {
            Some((revision, analysis))
                if *revision == index.revision() && analysis.coverage_scope() == scope =>
            {
                analysis.clone()
            }
            _ => {
                // Re-resolve only what the changes since the cached analysis touched.
                let previous = cache.as_ref().map(|(_, a)| a.clone());
                let analysis = Arc::new(Analysis::update_with_scope(previous.as_deref(), index, scope));
                *cache = Some((index.revision(), analysis.clone()));
                analysis
            }
        }
    }

    /// The completion facts of the current revision (built at most once per revision).
    pub(super) fn completion_index(&self, index: &ProjectIndex) -> Arc<ide::completion::CompletionIndex> {
        let mut cache = self.completion.lock().unwrap_or_else(|e| e.into_inner());
        match &*cache {
            Some((revision, shared)) if *revision == index.revision() => shared.clone(),
            _ => {
                let shared = Arc::new(ide::completion::CompletionIndex::new(index));
                *cache = Some((index.revision(), shared.clone()));
                shared
            }
        }
    }

    /// How to shape workspace edits for this client (open documents' versions included).
    pub(super) fn edit_style(&self) -> features::EditStyle {
        features::EditStyle {
            versions: self.docs.iter().map(|d| (d.key().to_string(), d.version)).collect(),
            document_changes: self.client().document_changes,
            dialect: self.settings.read().map(|s| s.dialect).unwrap_or_default(),
            roots: self.roots(),
        }
    }

    /// Replaces one file's facts (or removes the file when it holds nothing) and wakes the
    /// diagnostics task. Synchronous: callers run it before their first `.await`.
    pub(super) fn set_facts(&self, key: &FileId, facts: Option<FileFacts>) {
        self.set_facts_at(key, facts, None);
    }

    /// [`State::set_facts`] for an open document's `version`.
    pub(super) fn set_facts_at(&self, key: &FileId, facts: Option<FileFacts>, version: Option<i32>) {
        let facts = self.with_config_problems(key, facts);
        // Only a file that leaves the index (an anchored one needs its text from elsewhere)
        // or names anchors can leave an anchored file without its text: every other change
        // (typing in a source file) skips the walk over every file's anchors.
        let anchors_to_check;
        {
            let mut index = self.index_write();
            anchors_to_check = match facts {
                Some(f) if !f.is_empty() => {
                    let names_anchors = !f.anchors.is_empty();
                    index.set_file(Arc::new(f));
                    names_anchors
                }
                _ => {
                    index.remove_file(key.as_str());
                    true
                }
            };
            let mut versions = self.indexed_versions.lock().unwrap_or_else(|e| e.into_inner());
            match version {
                Some(v) => versions.insert(key.clone(), v),
                None => versions.remove(key),
            };
        }
        if anchors_to_check {
            self.refresh_anchor_texts(Some(key));
        }
        self.infra.touched(key);
        self.changed.notify_one();
    }

    /// A configuration file's facts with the problems the last indexing run found in it: added
    /// to facts of the same text (an open buffer as saved), kept when the file is otherwise
    /// not indexed, left out of a buffer with unsaved edits (saving re-indexes its folder).
    fn with_config_problems(&self, key: &FileId, facts: Option<FileFacts>) -> Option<FileFacts> {
        let problems = self.config_problems.lock().unwrap_or_else(|e| e.into_inner());
        let Some((text, errors)) = problems.get(key) else { return facts };
        match facts {
            Some(mut facts) if facts.text.is(text) => {
                facts.parsed.errors.extend(errors.iter().cloned());
                Some(facts)
            }
            Some(facts) => Some(facts),
            None => Language::from_path(Path::new(key.as_str())).map(|language| {
                let parsed = crate::syntax::ParsedFile { errors: errors.clone(), ..Default::default() };
                FileFacts::from_parsed(key.clone(), language, text.clone(), parsed)
            }),
        }
    }

    /// The workspace folder whose configuration file `path` is, if it is one.
    pub(super) fn config_root(&self, path: &Path) -> Option<PathBuf> {
        self.roots().into_iter().find(|root| walk::CONFIG_FILES.iter().any(|name| root.join(name) == path))
    }

    /// The workspace folder to index again when `path` changes: the one whose configuration
    /// file or threat library file (found or looked for by its last indexing run) it is.
    pub(super) fn root_to_reindex(&self, path: &Path) -> Option<PathBuf> {
        self.config_root(path).or_else(|| {
            let files = self.library_files.lock().unwrap_or_else(|e| e.into_inner());
            let roots = self.roots();
            files
                .iter()
                .find(|(root, files)| roots.contains(root) && files.iter().any(|f| f == path))
                .map(|(root, _)| root.clone())
        })
    }

    /// Keeps the risk policy a scan of `root` read.
    pub(super) fn set_risk_policy(&self, root: &Path, policy: RiskPolicy) {
        self.risk_policies.lock().unwrap_or_else(|e| e.into_inner()).insert(root.to_path_buf(), policy);
    }

    /// Keeps the threat libraries a scan of `root` read (an empty one forgets the folder's: a
    /// library deleted or emptied is no longer used) and the files it looked for, and gives the
    /// index their union.
    pub(super) fn set_libraries(&self, root: &Path, library: Arc<Library>, files: Vec<PathBuf>) {
        self.library_files.lock().unwrap_or_else(|e| e.into_inner()).insert(root.to_path_buf(), files);
        let mut all = self.libraries.lock().unwrap_or_else(|e| e.into_inner());
        match library.is_empty() {
            true => all.remove(root),
            false => all.insert(root.to_path_buf(), library),
        };
        self.use_libraries(&all);
    }

    /// Forgets what removed workspace folders configured: their threat libraries and risk
    /// policies.
    pub(super) fn forget_folders(&self, removed: &[PathBuf]) {
        self.risk_policies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|root, _| !removed.contains(root));
        self.library_files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|root, _| !removed.contains(root));
        let mut all = self.libraries.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|root, _| !removed.contains(root));
        self.use_libraries(&all);
    }

    /// Gives the index the union of the folders' libraries, in folder order: with two folders
    /// defining one id, the first folder's entry is the one references resolve to (each
    /// folder's scan reports its own duplicates). Left alone when nothing changes from none to
    /// none (setting a library re-resolves every file).
    fn use_libraries(&self, all: &std::collections::BTreeMap<PathBuf, Arc<Library>>) {
        let union = match all.len() {
            0 => Arc::new(Library::default()),
            1 => all.values().next().map(Arc::clone).unwrap_or_default(),
            _ => Arc::new(Library::new(all.values().flat_map(|l| l.entries().iter().cloned()).collect())),
        };
        let mut index = self.index_write();
        if !(union.is_empty() && index.project_library().is_empty()) {
            index.set_library(union);
        }
    }

    /// Each workspace folder's risk policy, for the files in it.
    pub(super) fn risk_policies(&self) -> Policies {
        let policies = self.risk_policies.lock().unwrap_or_else(|e| e.into_inner());
        Policies::by_folder(policies.iter().map(|(root, policy)| (root.clone(), policy.clone())).collect())
    }

    /// The project's findings as `check` reports them for today's date (UTC), each risk by its
    /// folder's policy ([`Analysis::diagnostics_with_risk`]), with each folder's
    /// infrastructure resources where `unmodelled-resource` is on, the `severity` settings
    /// applied.
    pub(super) fn findings(
        &self,
        index: &ProjectIndex,
        analysis: &Analysis,
    ) -> Vec<crate::diagnostic::Diagnostic> {
        let overrides = self.settings.read().map(|s| s.overrides.clone()).unwrap_or_default();
        let today = crate::syntax::Date::of_instant(std::time::SystemTime::now());
        overrides.apply(analysis.diagnostics_with_risk(
            index,
            &self.risk_policies(),
            today,
            &self.infra.resources(),
        ))
    }

    /// Keeps the configuration problems a scan of `root` found, and gives open configuration
    /// documents of `root` their new problems (or none).
    pub(super) fn update_config_problems(&self, root: &Path, scan: &ProjectIndex) {
        let is_config = |code| matches!(code, Code::ConfigPathMissing | Code::InvalidConfig);
        let keys: Vec<FileId> =
            walk::CONFIG_FILES.iter().map(|name| FileId::absolute(&root.join(name))).collect();
        {
            let mut problems = self.config_problems.lock().unwrap_or_else(|e| e.into_inner());
            for key in &keys {
                problems.remove(key);
                if let Some(facts) = scan.file(key.as_str()) {
                    let errors: Vec<SyntaxError> =
                        facts.parsed.errors.iter().filter(|e| is_config(e.code)).cloned().collect();
                    if !errors.is_empty() {
                        problems.insert(key.clone(), (facts.text.shared(), errors));
                    }
                }
            }
        }
        let _deriving = self.deriving.lock().unwrap_or_else(|e| e.into_inner());
        let max_size = self.max_file_size();
        for key in keys {
            let derived =
                self.docs.get_mut(&key).map(|mut doc| (doc.facts(key.clone(), max_size), doc.version));
            if let Some((facts, version)) = derived {
                self.set_facts_at(&key, Some(facts), Some(version));
            }
        }
    }

    /// Gives the index the text of every file a `.gal` sidecar anchors to that it has no text
    /// for yet, and again for `changed` (edited, saved, deleted): from its open document, else
    /// from disk by the walk's rule, inside a workspace folder. Anchored files that hold
    /// annotations are in the index already and need nothing.
    // @mitigates ThreatAnalyzer.Server against #path-traversal using #confined-workspace
    pub(super) fn refresh_anchor_texts(&self, changed: Option<&FileId>) {
        let wanted: Vec<FileId> = {
            let index = self.index_read();
            index
                .anchored_keys()
                .into_iter()
                .filter(|k| {
                    index.file(k.as_str()).is_none()
                        && (Some(k) == changed || index.anchor_text(k.as_str()).is_none())
                })
                .collect()
        };
        if wanted.is_empty() {
            return;
        }
        let roots = self.roots();
        let max_size = self.max_file_size();
        let texts: Vec<(FileId, AnchorText)> = wanted
            .into_iter()
            .map(|key| {
                let open = self.docs.get(&key).map(|doc| doc.rope.to_string());
                let text = match (open, roots.iter().find(|root| Path::new(key.as_str()).starts_with(root))) {
                    (Some(text), _) => AnchorText::read(text.into()),
                    (None, Some(root)) => walk::read_anchor_text(root, Path::new(key.as_str()), max_size),
                    (None, None) => AnchorText::Unreadable("outside the workspace folders".into()),
                };
                (key, text)
            })
            .collect();
        let mut index = self.index_write();
        for (key, text) in texts {
            index.set_anchor_text(key, text);
        }
    }

    /// The walk's rules for the current workspace folders and settings: every file the server
    /// reads from disk outside a full walk passes [`walk::WalkRules::check`] first.
    pub(super) fn walk_rules(&self) -> walk::WalkRules {
        let options = self.settings.read().map(|s| s.walk_options()).unwrap_or_default();
        walk::WalkRules::new(&self.roots(), &options)
    }

    /// Facts for `key` from disk, when the walk would index it (`Ok(None)`: it holds no
    /// annotation). `untitled:` and other schemes have no absolute key, so nothing to read
    /// (and their key is never taken for a path relative to our directory).
    // @mitigates ThreatAnalyzer.Server against #path-traversal using #confined-workspace
    pub(super) fn facts_from_disk(
        &self,
        rules: &mut walk::WalkRules,
        key: &FileId,
    ) -> std::result::Result<Option<FileFacts>, walk::NotIndexed> {
        let path = Path::new(key.as_str());
        let language = rules.check(path)?;
        walk::read_file_facts(path, key.clone(), language, self.max_file_size())
            .map_err(walk::NotIndexed::Skipped)
    }

    /// Derives the facts of every open document with edits not yet in the index and stores
    /// them. `didChange` only applies its edits; whatever reads the index next (a request, the
    /// diagnostics task) calls this first, so a burst of keystrokes costs one derivation of
    /// the document, not one per keystroke.
    // @mitigates ThreatAnalyzer.Server against #resource-exhaustion using #coalesced-edits
    pub(super) fn derive_pending(&self) {
        // The lock comes first, even when nothing seems pending: a derivation that another
        // reader started may have taken (and cleared) the pending edits without storing their
        // facts yet, and reading the index before it has would answer from the text before
        // those edits (the load test's request after edit 6200 saw edit 6040's facts). An
        // uncontended lock costs nanoseconds.
        let _deriving = self.deriving.lock().unwrap_or_else(|e| e.into_inner());
        // Cleared before looking: an edit applied from now on sets it again.
        if !self.edits_pending.swap(false, Ordering::AcqRel) {
            return;
        }
        let max_size = self.max_file_size();
        let pending: Vec<FileId> =
            self.docs.iter().filter(|d| d.facts_pending).map(|d| d.key().clone()).collect();
        for key in pending {
            let derived = {
                let Some(mut doc) = self.docs.get_mut(&key) else { continue };
                if !doc.facts_pending {
                    continue;
                }
                doc.facts_pending = false;
                (doc.facts(key.clone(), max_size), doc.version)
            };
            self.documents_derived.fetch_add(1, Ordering::Relaxed);
            // The document's lock is released first: indexing takes the index's lock, then a
            // document's.
            self.set_facts_at(&key, Some(derived.0), Some(derived.1));
        }
    }

    /// The size limit for files and open documents (the `maxFileSize` setting).
    pub(super) fn max_file_size(&self) -> u64 {
        self.settings.read().ok().and_then(|s| s.max_file_size).unwrap_or(walk::DEFAULT_MAX_FILE_SIZE)
    }

    /// Waits (asynchronously, at most [`INDEX_WAIT`]) until no awaited indexing run is filling
    /// the index, so that `request`, which reads the whole project, does not answer from half
    /// an index. Other requests are served meanwhile.
    pub(super) async fn wait_for_index(&self, request: &str) {
        let mut runs = self.awaited_indexing.subscribe();
        if *runs.borrow_and_update() == 0 {
            return;
        }
        let Some(_slot) = WaitingSlot::take(&self.waiting_requests) else {
            tracing::info!(
                request,
                "answered from what is indexed so far: {MAX_WAITING_REQUESTS} requests already wait for indexing"
            );
            return;
        };
        let started = std::time::Instant::now();
        match tokio::time::timeout(INDEX_WAIT, runs.wait_for(|runs| *runs == 0)).await {
            Ok(_) => {
                tracing::debug!(request, waited_ms = started.elapsed().as_millis(), "waited for indexing")
            }
            Err(_) => tracing::info!(
                request,
                "answered from what is indexed so far: workspace indexing still runs after {} s",
                INDEX_WAIT.as_secs()
            ),
        }
    }

    // @mitigates ThreatAnalyzer.Server against #parser-crash using #panic-isolation
    /// The snapshot every request reads: runs `f` with the index read-locked (open documents'
    /// pending edits derived first); a panic becomes an error response.
    pub(super) fn read<T>(&self, f: impl FnOnce(&ProjectIndex, ColumnUnit) -> T) -> Result<T> {
        self.derive_pending();
        let unit = self.unit();
        let index = self.index_read();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&index, unit))).map_err(|_| {
            tracing::error!("a request handler panicked; answered with an error and kept serving");
            let mut e = Error::internal_error();
            e.message = "threat-analyzer: internal error while answering (see the server log)".into();
            e
        })
    }

    /// Runs `f` for a document position: with the index read-locked, the document's key and
    /// language, and its current text (the open buffer, else the indexed text). Unknown
    /// documents answer `default`.
    pub(super) fn at<T>(
        &self,
        uri: &Uri,
        default: T,
        f: impl FnOnce(&ProjectIndex, &str, Language, &Text<'_>, ColumnUnit) -> T,
    ) -> Result<T> {
        let key = convert::key_of(uri);
        let max_size = self.max_file_size();
        if self.docs.get(&key).is_some_and(|d| d.is_oversized(max_size)) {
            // Not analysed: nothing to answer, and no copy of a huge text per request.
            return Ok(default);
        }
        let open = self.docs.get(&key).map(|d| (d.rope.to_string(), d.language));
        self.read(|index, unit| {
            if let Some((text, language)) = &open {
                let line_index = crate::text::LineIndex::new(text);
                return f(index, key.as_str(), *language, &Text { text, line_index: &line_index }, unit);
            }
            match index.file(key.as_str()) {
                Some(facts) => f(
                    index,
                    key.as_str(),
                    facts.language,
                    &Text { text: facts.text(), line_index: facts.line_index() },
                    unit,
                ),
                None => default,
            }
        })
    }
}
