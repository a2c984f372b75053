//! The `LanguageServer` implementation: lifecycle, document sync, indexing and diagnostics.

use super::convert;
use super::documents::Document;
use super::features::{self, Text};
use super::input;
use crate::analysis::{Analysis, CoverageScope, ide};
use crate::diagnostic::{Code, Diagnostic as CoreDiagnostic, FilePath, Level, LevelOverrides};
use crate::model::anchors::AnchorText;
use crate::model::{FileFacts, ProjectIndex, Repository};
use crate::syntax::{Language, SyntaxError};
use crate::text::{self, ColumnUnit};
use crate::walk::{self, WalkOptions};
use dashmap::DashMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::Notify;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::notification::Progress as ProgressNotification;
use tower_lsp_server::ls_types::request::{GotoDeclarationParams, GotoDeclarationResponse};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

/// Commands for `workspace/executeCommand`.
const COMMANDS: &[&str] =
    &["threat-analyzer.status", "threat-analyzer.reindex", "threat-analyzer.dfd", "threat-analyzer.showDfd"];

/// Clients (by `clientInfo.name`) that register `workspace/didChangeWatchedFiles` but send
/// events only for files they saved themselves, so the server also watches the disk for them:
/// Helix 25.07 has no file system watcher.
const CLIENTS_FORWARDING_ONLY_OWN_WRITES: &[&str] = &["helix"];

/// How long the diagnostics task waits for more edits before computing.
const DEBOUNCE: Duration = Duration::from_millis(50);

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

/// Debug and test builds only: milliseconds each workspace folder's indexing sleeps before it
/// scans, so that a test can send requests while the first index is surely still running.
/// Release builds never read it.
#[cfg(debug_assertions)]
const TEST_INDEX_DELAY_ENV: &str = "THREAT_ANALYZER_TEST_INDEX_DELAY_MS";

/// Where each diagnostic code is documented.
const DOCS_URL: &str = "https://github.com/threat-analyzer/threat-analyzer/blob/main/README.md";

/// Server settings, from `initializationOptions` and `workspace/didChangeConfiguration`
/// (either at the top level or under a `threatAnalyzer` key).
#[derive(Clone, Debug, Default)]
struct Settings {
    overrides: LevelOverrides,
    max_file_size: Option<u64>,
    /// Globs (gitignore syntax, relative to each workspace folder) of files to read / skip.
    include: Vec<String>,
    exclude: Vec<String>,
    /// The dialect code actions write new annotations in.
    dialect: ide::code_actions::WriteDialect,
    /// `cache: false`: neither read nor write the on-disk index cache.
    no_cache: bool,
    /// `coverage.scope`: what an inline annotation's site is for the coverage rule.
    coverage_scope: CoverageScope,
}

impl Settings {
    /// Where the index cache lives, `None` when it is turned off.
    fn cache_dir(&self) -> Option<PathBuf> {
        if self.no_cache { None } else { crate::cache::default_dir() }
    }

    /// How workspace folders are walked.
    fn walk_options(&self) -> WalkOptions {
        WalkOptions {
            max_file_size: self.max_file_size.unwrap_or(walk::DEFAULT_MAX_FILE_SIZE),
            absolute_paths: true,
            progress: None,
            include: self.include.clone(),
            exclude: self.exclude.clone(),
            cache_dir: self.cache_dir(),
            limits: walk::ProjectLimits::default(),
            parse_budget: crate::limits::MAX_PROJECT_PARSE_TIME,
        }
    }

    fn from_json(value: &serde_json::Value) -> (Settings, Vec<String>) {
        let value = value.get("threatAnalyzer").unwrap_or(value);
        let mut settings = Settings::default();
        let mut problems = Vec::new();
        if let Some(map) = value.get("severity").and_then(|v| v.as_object()) {
            for (code, level) in map {
                let spec = format!("{code}={}", level.as_str().unwrap_or_default());
                if let Err(e) = settings.overrides.set(&spec) {
                    problems.push(e);
                }
            }
        }
        settings.max_file_size = value.get("maxFileSize").and_then(|v| v.as_u64());
        let globs = |key: &str| -> Vec<String> {
            value
                .get(key)
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
                .filter_map(|g| g.as_str().map(String::from))
                .collect()
        };
        settings.no_cache = value.get("cache").and_then(|v| v.as_bool()) == Some(false);
        settings.include = globs("include");
        settings.exclude = globs("exclude");
        settings.dialect = match value.get("codeActionDialect").and_then(|v| v.as_str()) {
            None | Some("auto") => ide::code_actions::WriteDialect::Auto,
            Some("gal") => ide::code_actions::WriteDialect::Gal,
            Some("threatspec") => ide::code_actions::WriteDialect::ThreatSpec,
            Some(other) => {
                problems.push(format!("codeActionDialect `{other}`: use auto, gal or threatspec"));
                ide::code_actions::WriteDialect::Auto
            }
        };
        // `{"coverage": {"scope": ..}}`, or the dotted key as a flat settings object has it.
        let scope =
            value.get("coverage").and_then(|c| c.get("scope")).or_else(|| value.get("coverage.scope"));
        settings.coverage_scope = match scope.and_then(|v| v.as_str()) {
            None => CoverageScope::default(),
            Some(text) => CoverageScope::parse(text).unwrap_or_else(|| {
                problems.push(format!("coverage.scope `{text}`: use file or symbol"));
                CoverageScope::default()
            }),
        };
        (settings, problems)
    }
}

pub struct Backend {
    client: Client,
    state: Arc<State>,
}

struct State {
    /// 0 = UTF-16 (the default), 1 = UTF-8.
    encoding: AtomicU8,
    docs: DashMap<FilePath, Document>,
    /// Open documents that are not analysed: `.txt` files the configuration does not name.
    not_analysed: dashmap::DashSet<FilePath>,
    index: RwLock<ProjectIndex>,
    roots: RwLock<Vec<PathBuf>>,
    settings: RwLock<Settings>,
    /// Set by every change; the diagnostics task waits on it.
    changed: Notify,
    /// Last diagnostics published per file (to republish only what changed).
    published: Mutex<HashMap<FilePath, Vec<tower_lsp_server::ls_types::Diagnostic>>>,
    work_done_progress: AtomicBool,
    /// The client applies versioned `documentChanges` in workspace edits.
    document_changes: AtomicBool,
    /// The client pulls diagnostics (`textDocument/diagnostic`): publish nothing, refresh.
    pull_diagnostics: AtomicBool,
    /// The client honours `workspace/diagnostic/refresh`.
    pull_refresh: AtomicBool,
    /// The client registers `workspace/didChangeWatchedFiles` dynamically.
    dynamic_watch: AtomicBool,
    /// The server watches the disk itself: the client sends no file events, or only for files
    /// it wrote (Helix registers the watcher but forwards nothing else).
    watch_disk: AtomicBool,
    /// The client handles `window/showDocument`.
    show_document: AtomicBool,
    /// Our own file watcher, when the client sends no file events (kept alive here).
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
    /// Project-wide completion facts for one index revision.
    completion: Mutex<Option<(u64, Arc<ide::completion::CompletionIndex>)>>,
    /// The document version whose facts are in the index, per open file. Written under the
    /// index's write lock, read under its read lock, so a publish names the version its
    /// diagnostics were computed from.
    indexed_versions: Mutex<HashMap<FilePath, i32>>,
    /// The project's resolved analysis for one index revision, shared by requests.
    analysis: Mutex<Option<(u64, Arc<Analysis>)>>,
    /// Held by a workspace indexing run while it scans and merges one folder.
    indexing: Mutex<()>,
    /// Some open document has edits whose facts are not in the index yet.
    edits_pending: AtomicBool,
    /// Held while open documents' facts are derived and stored, and by `didOpen`/`didClose`
    /// while they replace a document, so a derivation never lands after its document closed.
    deriving: Mutex<()>,
    /// Facts derived from open documents so far (`threat-analyzer.status` reports it).
    documents_derived: AtomicU64,
    shutting_down: AtomicBool,
    /// Files changed on disk since the index cache was last written.
    cache_stale: AtomicBool,
    /// How many indexing runs that whole-project requests wait for are running (or, for the
    /// first index, due: counted from `initialize` on). See [`INDEX_WAIT`].
    awaited_indexing: tokio::sync::watch::Sender<usize>,
    /// The first index's count, from `initialize` until `initialized` starts the run.
    first_index: Mutex<Option<AwaitedIndexing>>,
    /// Requests waiting for indexing now (at most [`MAX_WAITING_REQUESTS`]).
    waiting_requests: std::sync::atomic::AtomicUsize,
    /// Files the last indexing of each workspace folder scanned (`threat-analyzer.status`
    /// reports their sum: `check` on the same folder counts the same files).
    files_scanned: Mutex<HashMap<PathBuf, usize>>,
    /// Problems the last indexing run found in each folder's configuration files
    /// (`threatspec.yaml`, `.guardlink/config.json`), with the text they were found in: they
    /// stay on the file while its facts come from an open buffer of the same text.
    config_problems: Mutex<HashMap<FilePath, ConfigProblems>>,
}

/// One indexing run that whole-project requests wait for, counted in
/// [`State::awaited_indexing`] while this value lives (also when its task panics).
struct AwaitedIndexing(tokio::sync::watch::Sender<usize>);

impl AwaitedIndexing {
    fn new(state: &State) -> AwaitedIndexing {
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
struct WaitingSlot<'a>(&'a std::sync::atomic::AtomicUsize);

impl WaitingSlot<'_> {
    fn take(waiting: &std::sync::atomic::AtomicUsize) -> Option<WaitingSlot<'_>> {
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
async fn awaited(run: AwaitedIndexing, indexing: impl std::future::Future<Output = ()>) {
    indexing.await;
    drop(run);
}

/// A configuration file's text as indexed and the problems found in it.
type ConfigProblems = (Arc<str>, Vec<SyntaxError>);

impl State {
    fn unit(&self) -> ColumnUnit {
        if self.encoding.load(Ordering::Relaxed) == 1 { ColumnUnit::Utf8 } else { ColumnUnit::Utf16 }
    }

    fn index_read(&self) -> std::sync::RwLockReadGuard<'_, ProjectIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn index_write(&self) -> std::sync::RwLockWriteGuard<'_, ProjectIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The analysis of the current revision and `coverage.scope` (computed at most once per
    /// revision and scope).
    fn analysis(&self, index: &ProjectIndex) -> Arc<Analysis> {
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
    fn completion_index(&self, index: &ProjectIndex) -> Arc<ide::completion::CompletionIndex> {
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
    fn edit_style(&self) -> features::EditStyle {
        features::EditStyle {
            versions: self.docs.iter().map(|d| (d.key().to_string(), d.version)).collect(),
            document_changes: self.document_changes.load(Ordering::Relaxed),
            dialect: self.settings.read().map(|s| s.dialect).unwrap_or_default(),
            roots: self.roots.read().map(|r| r.clone()).unwrap_or_default(),
        }
    }

    /// Replaces one file's facts (or removes the file when it holds nothing) and wakes the
    /// diagnostics task. Synchronous: callers run it before their first `.await`.
    fn set_facts(&self, key: &FilePath, facts: Option<FileFacts>) {
        self.set_facts_at(key, facts, None);
    }

    /// [`State::set_facts`] for an open document's `version`.
    fn set_facts_at(&self, key: &FilePath, facts: Option<FileFacts>, version: Option<i32>) {
        let facts = self.with_config_problems(key, facts);
        {
            let mut index = self.index_write();
            match facts {
                Some(f) if !f.is_empty() => index.set_file(Arc::new(f)),
                _ => index.remove_file(key),
            }
            let mut versions = self.indexed_versions.lock().unwrap_or_else(|e| e.into_inner());
            match version {
                Some(v) => versions.insert(key.clone(), v),
                None => versions.remove(key),
            };
        }
        self.refresh_anchor_texts(Some(key));
        self.changed.notify_one();
    }

    /// A configuration file's facts with the problems the last indexing run found in it: added
    /// to facts of the same text (an open buffer as saved), kept when the file is otherwise
    /// not indexed, left out of a buffer with unsaved edits (saving re-indexes its folder).
    fn with_config_problems(&self, key: &FilePath, facts: Option<FileFacts>) -> Option<FileFacts> {
        let problems = self.config_problems.lock().unwrap_or_else(|e| e.into_inner());
        let Some((text, errors)) = problems.get(key) else { return facts };
        match facts {
            Some(mut facts) if facts.text == *text => {
                facts.parsed.errors.extend(errors.iter().cloned());
                Some(facts)
            }
            Some(facts) => Some(facts),
            None => Language::from_path(Path::new(&**key)).map(|language| {
                let parsed = crate::syntax::ParsedFile { annotations: Vec::new(), errors: errors.clone() };
                FileFacts::from_parsed(key.clone(), language, text.clone(), parsed)
            }),
        }
    }

    /// The workspace folder whose configuration file `path` is, if it is one.
    fn config_root(&self, path: &Path) -> Option<PathBuf> {
        let roots = self.roots.read().map(|r| r.clone()).unwrap_or_default();
        roots.into_iter().find(|root| walk::CONFIG_FILES.iter().any(|name| root.join(name) == path))
    }

    /// Keeps the configuration problems a scan of `root` found, and gives open configuration
    /// documents of `root` their new problems (or none).
    fn update_config_problems(&self, root: &Path, scan: &ProjectIndex) {
        let is_config = |code| matches!(code, Code::ConfigPathMissing | Code::InvalidConfig);
        let keys: Vec<FilePath> = walk::CONFIG_FILES
            .iter()
            .map(|name| FilePath::from(root.join(name).to_string_lossy().as_ref()))
            .collect();
        {
            let mut problems = self.config_problems.lock().unwrap_or_else(|e| e.into_inner());
            for key in &keys {
                problems.remove(key);
                if let Some(facts) = scan.file(key) {
                    let errors: Vec<SyntaxError> =
                        facts.parsed.errors.iter().filter(|e| is_config(e.code)).cloned().collect();
                    if !errors.is_empty() {
                        problems.insert(key.clone(), (facts.text.clone(), errors));
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
    fn refresh_anchor_texts(&self, changed: Option<&FilePath>) {
        let wanted: Vec<FilePath> = {
            let index = self.index_read();
            index
                .anchored_keys()
                .into_iter()
                .filter(|k| index.file(k).is_none() && (Some(k) == changed || index.anchor_text(k).is_none()))
                .collect()
        };
        if wanted.is_empty() {
            return;
        }
        let roots = self.roots.read().map(|r| r.clone()).unwrap_or_default();
        let max_size = self.max_file_size();
        let texts: Vec<(FilePath, AnchorText)> = wanted
            .into_iter()
            .map(|key| {
                let open = self.docs.get(&key).map(|doc| doc.rope.to_string());
                let text = match (open, roots.iter().find(|root| Path::new(&*key).starts_with(root))) {
                    (Some(text), _) => AnchorText::read(text.into()),
                    (None, Some(root)) => walk::read_anchor_text(root, Path::new(&*key), max_size),
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
    fn walk_rules(&self) -> walk::WalkRules {
        let roots = self.roots.read().map(|r| r.clone()).unwrap_or_default();
        let options = self.settings.read().map(|s| s.walk_options()).unwrap_or_default();
        walk::WalkRules::new(&roots, &options)
    }

    /// Facts for `key` from disk, when the walk would index it (`Ok(None)`: it holds no
    /// annotation). `untitled:` and other schemes have no absolute key, so nothing to read
    /// (and their key is never taken for a path relative to our directory).
    // @mitigates ThreatAnalyzer.Server against #path-traversal using #confined-workspace
    fn facts_from_disk(
        &self,
        rules: &mut walk::WalkRules,
        key: &FilePath,
    ) -> std::result::Result<Option<FileFacts>, walk::NotIndexed> {
        let path = Path::new(&**key);
        let language = rules.check(path)?;
        walk::read_file_facts(path, key.clone(), language, self.max_file_size())
            .map_err(walk::NotIndexed::Skipped)
    }

    /// Derives the facts of every open document with edits not yet in the index and stores
    /// them. `didChange` only applies its edits; whatever reads the index next (a request, the
    /// diagnostics task) calls this first, so a burst of keystrokes costs one derivation of
    /// the document, not one per keystroke.
    // @mitigates ThreatAnalyzer.Server against #resource-exhaustion using #coalesced-edits
    fn derive_pending(&self) {
        if !self.edits_pending.load(Ordering::Acquire) {
            return;
        }
        let _deriving = self.deriving.lock().unwrap_or_else(|e| e.into_inner());
        // Cleared before looking: an edit applied from now on sets it again.
        self.edits_pending.store(false, Ordering::Release);
        let max_size = self.max_file_size();
        let pending: Vec<FilePath> =
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
    fn max_file_size(&self) -> u64 {
        self.settings.read().ok().and_then(|s| s.max_file_size).unwrap_or(walk::DEFAULT_MAX_FILE_SIZE)
    }
}

/// Applies changes on disk, whoever reported them (our watcher or the client): re-reads the
/// files the walk would index, and forgets what the index held at (or under) any other path:
/// deleted, ignored, replaced by a link, outside the folders. Open documents are left alone:
/// the buffer wins. Returns the folders whose configuration file changed: they are indexed
/// again.
fn apply_disk_changes(state: &State, changes: Vec<super::watch::Changed>) -> Vec<PathBuf> {
    tracing::debug!(count = changes.len(), "files changed on disk");
    let mut rules = state.walk_rules();
    state.cache_stale.store(true, Ordering::Relaxed);
    let mut reindex = Vec::new();
    for super::watch::Changed(path) in changes {
        if let Some(root) = state.config_root(&path)
            && !reindex.contains(&root)
        {
            reindex.push(root);
        }
        let key: FilePath = path.to_string_lossy().as_ref().into();
        if state.docs.contains_key(&key) {
            continue;
        }
        match state.facts_from_disk(&mut rules, &key) {
            Ok(facts) => state.set_facts(&key, facts),
            // Its files come with events of their own.
            Err(walk::NotIndexed::Directory) => {}
            Err(why) => {
                log_not_read(&path, &why);
                forget_under(state, &key);
                // A deleted anchored source file: its anchors become stale.
                state.refresh_anchor_texts(Some(&key));
            }
        }
    }
    reindex
}

/// Applies changes on disk, then indexes again the folders whose configuration changed.
async fn apply_disk_changes_and_reindex(
    client: Client,
    state: Arc<State>,
    changes: Vec<super::watch::Changed>,
) {
    let applying = state.clone();
    let reindex =
        tokio::task::spawn_blocking(move || apply_disk_changes(&applying, changes)).await.unwrap_or_default();
    if !reindex.is_empty() {
        tracing::info!(folders = reindex.len(), "configuration changed: indexing again");
        index_roots(client, state, reindex).await;
    }
}

/// Says why a path (changed on disk, or a closed document) is not read: at `info` when the
/// walk would report it as skipped (a link, a pipe, a file too large, outside the folders), at
/// `debug` for what is simply not part of the project (deleted, ignored, hidden, another
/// language).
fn log_not_read(path: &Path, why: &walk::NotIndexed) {
    use walk::{NotIndexed, SkipReason};
    match why {
        NotIndexed::Missing
        | NotIndexed::Ignored
        | NotIndexed::Directory
        | NotIndexed::Skipped(
            SkipReason::Hidden | SkipReason::UnknownLanguage | SkipReason::NotNamed { .. },
        ) => {
            tracing::debug!(path = %path.display(), "not read: {why}");
        }
        _ => tracing::info!(path = %path.display(), "not read from disk: {why}"),
    }
}

/// Forgets the indexed file `key` and every indexed file under the directory `key` (open
/// documents excepted).
fn forget_under(state: &State, key: &FilePath) {
    let prefix = format!("{key}/");
    let gone: Vec<FilePath> = {
        let index = state.index_read();
        index.files().map(|f| f.path.clone()).filter(|p| *p == *key || p.starts_with(&prefix)).collect()
    };
    for p in gone {
        if !state.docs.contains_key(&p) {
            state.set_facts(&p, None);
        }
    }
}

/// Watches the workspace when the client will not tell us about every change on disk.
fn watch_workspace(client: Client, state: Arc<State>) {
    let roots = state.roots.read().map(|r| r.clone()).unwrap_or_default();
    if roots.is_empty() {
        return;
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let Some(watcher) = super::watch::start(&roots, tx) else {
        tracing::warn!("cannot watch the workspace folders; changes on disk are seen after a reindex");
        return;
    };
    tracing::info!("watching {} workspace folder(s) for changes on disk", roots.len());
    *state.watcher.lock().unwrap_or_else(|e| e.into_inner()) = Some(watcher);
    tokio::spawn(async move {
        while let Some(batch) = rx.recv().await {
            apply_disk_changes_and_reindex(client.clone(), state.clone(), batch).await;
        }
    });
}

impl Backend {
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

    /// A `didOpen`/`didChange` over the protocol's message limit (see `lsp::input`): the
    /// document is held as unread, with a diagnostic saying why.
    pub(super) async fn document_too_large(&self, params: serde_json::Value) {
        let Some(uri) = params["uri"].as_str().and_then(|uri| uri.parse::<Uri>().ok()) else { return };
        let key = convert::key_of(&uri);
        let open = self.state.docs.get(&key).map(|doc| (doc.language, doc.version));
        let language = match (params["method"].as_str(), open) {
            // As a `didChange` that fits: only for a document that is open.
            (Some("textDocument/didChange"), None) => {
                tracing::warn!("didChange for a document that is not open: ignored");
                return;
            }
            (Some("textDocument/didChange"), Some((language, _))) => Some(language),
            // As `didOpen` decides: the path, else the client's language id.
            _ => Language::from_path(Path::new(&*key))
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
        let facts = document.facts(key.clone(), self.state.max_file_size());
        // As in `didOpen`: a derivation of the old text running now must not land after this.
        let _deriving = self.state.deriving.lock().unwrap_or_else(|e| e.into_inner());
        self.state.docs.insert(key.clone(), document);
        self.state.set_facts_at(&key, Some(facts), Some(version));
    }

    pub fn new(client: Client) -> Backend {
        let state = Arc::new(State {
            encoding: AtomicU8::new(0),
            docs: DashMap::new(),
            not_analysed: dashmap::DashSet::new(),
            index: RwLock::new(ProjectIndex::new()),
            roots: RwLock::new(Vec::new()),
            settings: RwLock::new(Settings::default()),
            changed: Notify::new(),
            published: Mutex::new(HashMap::new()),
            work_done_progress: AtomicBool::new(false),
            document_changes: AtomicBool::new(false),
            pull_diagnostics: AtomicBool::new(false),
            pull_refresh: AtomicBool::new(false),
            dynamic_watch: AtomicBool::new(false),
            watch_disk: AtomicBool::new(true),
            show_document: AtomicBool::new(false),
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
            awaited_indexing: tokio::sync::watch::Sender::new(0),
            first_index: Mutex::new(None),
            waiting_requests: std::sync::atomic::AtomicUsize::new(0),
            files_scanned: Mutex::new(HashMap::new()),
            config_problems: Mutex::new(HashMap::new()),
        });
        tokio::spawn(diagnostics_task(client.clone(), state.clone()));
        Backend { client, state }
    }

    /// Runs `f` for a document position: with the index read-locked, the document's key and
    /// language, and its current text (the open buffer, else the indexed text). Unknown
    /// documents answer `default`.
    fn at<T>(
        &self,
        uri: &Uri,
        default: T,
        f: impl FnOnce(&ProjectIndex, &str, Language, &Text<'_>, ColumnUnit) -> T,
    ) -> Result<T> {
        let key = convert::key_of(uri);
        let max_size = self.state.max_file_size();
        if self.state.docs.get(&key).is_some_and(|d| d.is_oversized(max_size)) {
            // Not analysed: nothing to answer, and no copy of a huge text per request.
            return Ok(default);
        }
        let open = self.state.docs.get(&key).map(|d| (d.rope.to_string(), d.language));
        self.read(|index, unit| {
            if let Some((text, language)) = &open {
                let line_index = crate::text::LineIndex::new(text);
                return f(index, &key, *language, &Text { text, line_index: &line_index }, unit);
            }
            match index.file(&key) {
                Some(facts) => f(
                    index,
                    &key,
                    facts.language,
                    &Text { text: &facts.text, line_index: &facts.line_index },
                    unit,
                ),
                None => default,
            }
        })
    }

    /// Current diagnostics of the files `want` selects (every indexed file is listed, with an
    /// empty list when it has none), for the pull model.
    fn pulled(
        &self,
        want: impl Fn(&FilePath) -> bool,
    ) -> Result<Vec<(FilePath, Vec<tower_lsp_server::ls_types::Diagnostic>)>> {
        let overrides = self.state.settings.read().map(|s| s.overrides.clone()).unwrap_or_default();
        let state = self.state.clone();
        self.read(|index, unit| {
            let analysis = state.analysis(index);
            let diagnostics = overrides.apply(analysis.diagnostics(index));
            // Anchored source files too: sidecar findings are reported there.
            let anchored = index.anchored_keys().into_iter().filter(|k| index.text_of(k).is_some());
            let mut by_file: std::collections::BTreeMap<FilePath, Vec<_>> = index
                .files()
                .map(|f| f.path.clone())
                .chain(anchored)
                .filter(|p| want(p))
                .map(|p| (p, Vec::new()))
                .collect();
            for d in diagnostics.iter().flat_map(published_as) {
                if let Some(list) = by_file.get_mut(&d.file)
                    && let Some(lsp) = to_lsp(index, &d, unit)
                {
                    list.push(lsp);
                }
            }
            by_file.into_iter().collect()
        })
    }

    /// Waits (asynchronously, at most [`INDEX_WAIT`]) until no awaited indexing run is filling
    /// the index, so that `request`, which reads the whole project, does not answer from half
    /// an index. Other requests are served meanwhile.
    async fn wait_for_index(&self, request: &str) {
        let mut runs = self.state.awaited_indexing.subscribe();
        if *runs.borrow_and_update() == 0 {
            return;
        }
        let Some(_slot) = WaitingSlot::take(&self.state.waiting_requests) else {
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
    /// Runs `f` with the index read-locked; a panic becomes an error response.
    fn read<T>(&self, f: impl FnOnce(&ProjectIndex, ColumnUnit) -> T) -> Result<T> {
        self.state.derive_pending();
        let unit = self.state.unit();
        let index = self.state.index_read();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&index, unit))).map_err(|_| {
            tracing::error!("a request handler panicked; answered with an error and kept serving");
            let mut e = Error::internal_error();
            e.message = "threat-analyzer: internal error while answering (see the server log)".into();
            e
        })
    }
}

/// Indexes every workspace root in the background, reporting `$/progress` when the client
/// supports it. Open documents keep their editor text. Then keeps the index cache current.
async fn index_workspace(client: Client, state: Arc<State>) {
    let roots = state.roots.read().map(|r| r.clone()).unwrap_or_default();
    index_roots(client, state.clone(), roots).await;
    tokio::spawn(refresh_cache_periodically(state));
}

/// How often the index cache is brought up to date with changes seen on disk.
const CACHE_REFRESH: Duration = Duration::from_secs(300);

/// Every [`CACHE_REFRESH`], if files changed on disk, rewrites the index cache (see
/// [`refresh_cache`]), so that the next start finds them cached.
async fn refresh_cache_periodically(state: Arc<State>) {
    loop {
        tokio::time::sleep(CACHE_REFRESH).await;
        if state.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        if state.cache_stale.swap(false, Ordering::Relaxed) {
            let state = state.clone();
            let _ = tokio::task::spawn_blocking(move || refresh_cache(&state)).await;
        }
    }
}

/// Rewrites the index cache of every workspace folder from disk: a scan that reads only the
/// files whose size or mtime changed (the index itself is not touched: it follows the
/// editor's buffers and the file watcher). Blocking; runs off the async runtime.
fn refresh_cache(state: &State) {
    let roots = state.roots.read().map(|r| r.clone()).unwrap_or_default();
    let options = state.settings.read().map(|s| s.walk_options()).unwrap_or_default();
    if options.cache_dir.is_none() {
        return;
    }
    for root in roots {
        if let Ok(mut scan) = walk::scan_from(&root, std::slice::from_ref(&root), &options)
            && let Some(Err(e)) = scan.finish_cache()
        {
            tracing::warn!(root = %root.display(), "index cache not written: {e}");
        }
    }
}

/// How long `shutdown` waits for a last cache refresh.
const SHUTDOWN_CACHE_WAIT: Duration = Duration::from_secs(3);

/// Indexes the given workspace folders (see [`index_workspace`]).
/// Tells the index which repositories the workspace folders are, so that a qualified tag
/// `#repo.id` resolves in the folder named `repo` ([`walk::repository_names`]). A folder still
/// being indexed is left out until its files are in: its tags stay external meanwhile rather
/// than dangle.
fn sync_repositories(state: &State, still_indexing: &[PathBuf]) {
    let roots = state.roots.read().map(|r| r.clone()).unwrap_or_default();
    let repositories = roots
        .iter()
        .filter(|root| !still_indexing.contains(root))
        .flat_map(|root| {
            let key = root.to_string_lossy().into_owned();
            walk::repository_names(root).into_iter().map(move |name| Repository { name, root: key.clone() })
        })
        .collect();
    state.index_write().set_repositories(repositories);
}

async fn index_roots(client: Client, state: Arc<State>, roots: Vec<PathBuf>) {
    sync_repositories(&state, &roots);
    if roots.is_empty() {
        return;
    }
    let token = NumberOrString::String("threat-analyzer/index".into());
    let progress = state.work_done_progress.load(Ordering::Relaxed)
        && client.create_work_done_progress(token.clone()).await.is_ok();
    if progress {
        send_progress(
            &client,
            &token,
            WorkDoneProgress::Begin(WorkDoneProgressBegin {
                title: "Indexing threat model".into(),
                cancellable: Some(false),
                message: Some(format!("{} folder(s)", roots.len())),
                percentage: Some(0),
            }),
        )
        .await;
    }
    let started = std::time::Instant::now();
    tracing::info!(roots = roots.len(), "indexing workspace");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, usize)>();
    let settings = state.settings.read().map(|s| s.clone()).unwrap_or_default();
    let worker_state = state.clone();
    let worker = tokio::task::spawn_blocking(move || {
        let mut files = 0;
        let mut annotated = 0;
        let mut limited = Vec::new();
        let mut warnings = Vec::new();
        let mut from_cache = 0;
        let mut read_without_tree = 0;
        let mut cache_saves = Vec::new();
        for (done, root) in roots.iter().enumerate() {
            let root = root.clone();
            // One indexing run at a time, so the last to merge is the last to have scanned.
            let _indexing = worker_state.indexing.lock().unwrap_or_else(|e| e.into_inner());
            #[cfg(debug_assertions)]
            if let Some(ms) = std::env::var(TEST_INDEX_DELAY_ENV).ok().and_then(|v| v.parse().ok()) {
                std::thread::sleep(Duration::from_millis(ms));
            }
            let tx = tx.clone();
            let options = WalkOptions {
                progress: Some(walk::Progress(Arc::new(move |done, total| {
                    let _ = tx.send((done, total));
                }))),
                ..settings.walk_options()
            };
            let mut scan = match walk::scan_from(&root, std::slice::from_ref(&root), &options) {
                Ok(scan) => scan,
                Err(e) => {
                    tracing::warn!(root = %root.display(), "cannot index: {e}");
                    warnings.push(format!("threat-analyzer: cannot index {}: {e}", root.display()));
                    continue;
                }
            };
            // Refused configuration and ignore files: the folder is indexed without them.
            for not_applied in &scan.not_applied {
                tracing::warn!(root = %root.display(), "{not_applied}");
                warnings.push(format!("threat-analyzer: {}: {not_applied}", root.display()));
            }
            files += scan.files_scanned;
            worker_state
                .files_scanned
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(root.clone(), scan.files_scanned);
            let unread = scan.skipped.iter().filter(|(_, r)| *r == walk::SkipReason::ProjectLimit).count();
            if let Some(note) = walk::unnamed_annotation_like_note(&scan.skipped, "the `include` setting") {
                tracing::warn!(root = %root.display(), "{note}");
                warnings.push(format!("threat-analyzer: {}: {note}", root.display()));
            }
            if unread > 0 {
                limited.push((root.clone(), unread));
            }
            from_cache += scan.cache.as_ref().map_or(0, |c| c.reused);
            read_without_tree += scan.read_without_tree;
            // Merge file by file so requests see what is known so far.
            for facts in scan.index.files() {
                annotated += 1;
                // Checked under the write lock: a didOpen in between must not be overwritten by
                // the disk version (didOpen sets its facts after inserting the document), and a
                // file deleted since the scan read it (its deletion already applied) stays out.
                let mut index = worker_state.index_write();
                if !worker_state.docs.contains_key(&facts.path) && Path::new(&*facts.path).is_file() {
                    index.set_file(facts.clone());
                }
            }
            // What the index holds under this root and the scan did not find is gone from disk
            // (or no longer selected): forget it, open documents excepted.
            let gone: Vec<FilePath> = worker_state
                .index_read()
                .files()
                .map(|f| f.path.clone())
                .filter(|p| Path::new(&**p).starts_with(&root) && scan.index.file(p).is_none())
                .collect();
            for key in gone {
                let mut index = worker_state.index_write();
                if !worker_state.docs.contains_key(&key) {
                    index.remove_file(&key);
                }
            }
            worker_state.update_config_problems(&root, &scan.index);
            worker_state.refresh_anchor_texts(None);
            sync_repositories(&worker_state, &roots[done + 1..]);
            worker_state.changed.notify_one();
            cache_saves.extend(scan.take_cache_save());
        }
        (files, annotated, from_cache, read_without_tree, cache_saves, limited, warnings)
    });
    let mut last = 0;
    while let Some((done, total)) = rx.recv().await {
        let pct = (done * 100 / total.max(1)) as u32;
        if progress && (pct >= last + 5 || done == total) {
            last = pct;
            send_progress(
                &client,
                &token,
                WorkDoneProgress::Report(WorkDoneProgressReport {
                    cancellable: Some(false),
                    message: Some(format!("{done}/{total} files")),
                    percentage: Some(pct.min(100)),
                }),
            )
            .await;
        }
    }
    let (files, annotated, from_cache, read_without_tree, cache_saves, limited, warnings) =
        worker.await.unwrap_or_default();
    // The cache is written on threads of its own; only the outcome is waited for, off the
    // async runtime.
    tokio::task::spawn_blocking(move || {
        for save in cache_saves {
            if let Err(e) = save.wait() {
                tracing::warn!("index cache not written: {e}");
            }
        }
    });
    for message in warnings {
        client.show_message(MessageType::WARNING, text::for_terminal(&message)).await;
    }
    for (root, unread) in limited {
        let warning = format!(
            "threat-analyzer: {} is larger than the project limits ({}): {unread} files were not read, so \
             the threat model is incomplete (exclude generated or vendored directories with the `exclude` \
             setting)",
            root.display(),
            walk::ProjectLimits::default()
        );
        tracing::warn!("{warning}");
        client.show_message(MessageType::WARNING, text::for_terminal(&warning)).await;
    }
    let mut message = format!(
        "indexed {files} files ({annotated} with annotations, {from_cache} answered by the index cache) in {} ms",
        started.elapsed().as_millis()
    );
    if read_without_tree > 0 {
        message.push_str(&format!(
            "; {read_without_tree} files were read without a syntax tree, because parsing ran out of time \
             ({} s for the workspace folder): only their whole-line comments were read",
            crate::limits::MAX_PROJECT_PARSE_TIME.as_secs()
        ));
    }
    tracing::info!("{message}");
    client.log_message(MessageType::INFO, text::for_terminal(&format!("threat-analyzer: {message}"))).await;
    if progress {
        send_progress(
            &client,
            &token,
            WorkDoneProgress::End(WorkDoneProgressEnd {
                message: Some(format!("{files} files, {annotated} with annotations")),
            }),
        )
        .await;
    }
    state.changed.notify_one();
}

async fn send_progress(client: &Client, token: &ProgressToken, value: WorkDoneProgress) {
    client
        .send_notification::<ProgressNotification>(ProgressParams {
            token: token.clone(),
            value: ProgressParamsValue::WorkDone(value),
        })
        .await;
}

/// The result id of a pulled diagnostic report: a hash of what it holds, so a client that
/// sends it back learns whether anything changed without receiving the report again, and no
/// state is kept per client.
fn diagnostics_result_id(items: &[Diagnostic]) -> String {
    let bytes = serde_json::to_vec(items).unwrap_or_default();
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes))
}

/// Converts one core diagnostic for the protocol; `None` when its file's text is not known.
pub(super) fn to_lsp(
    index: &ProjectIndex,
    d: &CoreDiagnostic,
    unit: ColumnUnit,
) -> Option<tower_lsp_server::ls_types::Diagnostic> {
    let (text, line_index) = index.text_of(&d.file)?;
    let related: Vec<DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|r| {
            let (text, line_index) = index.text_of(&r.file)?;
            Some(DiagnosticRelatedInformation {
                location: Location {
                    uri: convert::uri_of(&r.file)?,
                    range: convert::range(text, line_index, r.range, unit),
                },
                message: r.message.clone(),
            })
        })
        .collect();
    Some(tower_lsp_server::ls_types::Diagnostic {
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

/// Debounces changes, computes diagnostics for one index revision and republishes the files
/// whose diagnostics changed. Results computed from an older revision are dropped.
async fn diagnostics_task(client: Client, state: Arc<State>) {
    // After a round is dropped as stale, the next one starts at once: the edits that
    // overtook it were already coalesced while it ran, so waiting again only adds latency.
    let mut debounce = true;
    loop {
        state.changed.notified().await;
        if debounce {
            tokio::time::sleep(DEBOUNCE).await;
        }
        if state.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        let unit = state.unit();
        let overrides = state.settings.read().map(|s| s.overrides.clone()).unwrap_or_default();
        state.derive_pending();
        let computed = {
            let index = state.index_read();
            let revision = index.revision();
            let versions = state.indexed_versions.lock().map(|v| v.clone()).unwrap_or_default();
            let diagnostics = overrides.apply(state.analysis(&index).diagnostics(&index));
            let mut by_file: HashMap<FilePath, Vec<tower_lsp_server::ls_types::Diagnostic>> = HashMap::new();
            for facts in index.files() {
                by_file.entry(facts.path.clone()).or_default();
            }
            for d in diagnostics.iter().flat_map(published_as) {
                if let Some(lsp) = to_lsp(&index, &d, unit) {
                    by_file.entry(d.file.clone()).or_default().push(lsp);
                }
            }
            (revision, by_file, versions)
        };
        let (revision, by_file, versions) = computed;
        if state.index_read().revision() != revision {
            debounce = false;
            continue; // a newer edit arrived: its notification recomputes
        }
        debounce = true;
        let mut to_send = Vec::new();
        {
            let mut published = state.published.lock().unwrap_or_else(|e| e.into_inner());
            for (file, diags) in &by_file {
                // A file never published (or cleared) counts as published empty.
                let unchanged = published.get(file).map_or(diags.is_empty(), |p| p == diags);
                if !unchanged {
                    to_send.push((file.clone(), diags.clone()));
                }
            }
            // Files that left the index (deleted, emptied) get their diagnostics cleared.
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
        }
        if state.pull_diagnostics.load(Ordering::Relaxed) {
            // The client pulls: ask it to pull again when anything changed.
            if !to_send.is_empty() && state.pull_refresh.load(Ordering::Relaxed) {
                let _ = client.workspace_diagnostic_refresh().await;
            }
            continue;
        }
        for (file, diags) in to_send {
            let version = versions.get(&file).copied();
            if let Some(uri) = convert::uri_of(&file) {
                client.publish_diagnostics(uri, diags, version).await;
            }
        }
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let caps = &params.capabilities;
        let utf8 = caps
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref())
            .is_some_and(|encs| encs.contains(&PositionEncodingKind::UTF8));
        self.state.encoding.store(u8::from(utf8), Ordering::Relaxed);
        let progress = caps.window.as_ref().and_then(|w| w.work_done_progress).unwrap_or(false);
        let document_changes = caps
            .workspace
            .as_ref()
            .and_then(|w| w.workspace_edit.as_ref())
            .and_then(|e| e.document_changes)
            .unwrap_or(false);
        self.state.document_changes.store(document_changes, Ordering::Relaxed);
        let dynamic_watch = caps
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        self.state.dynamic_watch.store(dynamic_watch, Ordering::Relaxed);
        let forwards_only_own_writes = params
            .client_info
            .as_ref()
            .is_some_and(|info| CLIENTS_FORWARDING_ONLY_OWN_WRITES.contains(&info.name.as_str()));
        self.state.watch_disk.store(!dynamic_watch || forwards_only_own_writes, Ordering::Relaxed);
        let show_document =
            caps.window.as_ref().and_then(|w| w.show_document.as_ref()).is_some_and(|s| s.support);
        self.state.show_document.store(show_document, Ordering::Relaxed);
        // Pull only when the server can also tell the client to pull again: a cross-file
        // change (a mitigation added elsewhere) must reach open buffers. Neovim 0.11 pulls but
        // has no refresh support, so it gets pushed diagnostics.
        let refresh = caps
            .workspace
            .as_ref()
            .and_then(|w| w.diagnostics.as_ref())
            .and_then(|d| d.refresh_support)
            .unwrap_or(false);
        let pull = refresh && caps.text_document.as_ref().and_then(|t| t.diagnostic.as_ref()).is_some();
        self.state.pull_diagnostics.store(pull, Ordering::Relaxed);
        self.state.pull_refresh.store(refresh, Ordering::Relaxed);
        self.state.work_done_progress.store(progress, Ordering::Relaxed);

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
        if let Ok(mut r) = self.state.roots.write() {
            *r = roots;
        }
        // Counted before the response: a request the client sends once `initialized` is out
        // cannot be handled before the count, whatever order the handlers run in.
        *self.state.first_index.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(AwaitedIndexing::new(&self.state));
        if let Some(options) = &params.initialization_options {
            let (settings, _) = Settings::from_json(options);
            if let Ok(mut s) = self.state.settings.write() {
                *s = settings;
            }
        }

        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "threat-analyzer".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                position_encoding: Some(if utf8 {
                    PositionEncodingKind::UTF8
                } else {
                    PositionEncodingKind::UTF16
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
                diagnostic_provider: pull.then(|| {
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
                    commands: COMMANDS.iter().map(|c| c.to_string()).collect(),
                    ..Default::default()
                }),
                ..ServerCapabilities::default()
            },
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        // Watch first, so that nothing changed on disk while indexing runs goes unseen.
        if self.state.watch_disk.load(Ordering::Relaxed) {
            watch_workspace(self.client.clone(), self.state.clone());
        }
        // Never await a client request inside a handler: indexing (and its progress token
        // request) runs in its own task.
        let first = self.state.first_index.lock().unwrap_or_else(|e| e.into_inner()).take();
        let run = first.unwrap_or_else(|| AwaitedIndexing::new(&self.state));
        tokio::spawn(awaited(run, index_workspace(self.client.clone(), self.state.clone())));
        if self.state.dynamic_watch.load(Ordering::Relaxed) {
            let client = self.client.clone();
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

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let changes: Vec<super::watch::Changed> = params
            .changes
            .iter()
            .filter_map(|c| c.uri.to_file_path().map(|p| super::watch::Changed(p.into_owned())))
            .collect();
        apply_disk_changes_and_reindex(self.client.clone(), self.state.clone(), changes).await;
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        // A saved configuration file decides what its folder holds: index the folder again.
        let key = convert::key_of(&params.text_document.uri);
        if let Some(root) = self.state.config_root(Path::new(&*key)) {
            tokio::spawn(index_roots(self.client.clone(), self.state.clone(), vec![root]));
        }
    }

    async fn shutdown(&self) -> Result<()> {
        self.state.shutting_down.store(true, Ordering::Relaxed);
        self.state.changed.notify_one();
        if self.state.cache_stale.swap(false, Ordering::Relaxed) {
            let state = self.state.clone();
            let refresh = tokio::task::spawn_blocking(move || refresh_cache(&state));
            // A refresh that takes too long is abandoned: the old cache stays valid.
            let _ = tokio::time::timeout(SHUTDOWN_CACHE_WAIT, refresh).await;
        }
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let key = convert::key_of(&doc.uri);
        let language = Language::from_path(Path::new(&*key)).or_else(|| language_of_id(&doc.language_id));
        let Some(language) = language else { return };
        // A `.txt` file is analysed only when the walk would read it (the configuration names
        // it), so that an open `requirements.txt` adds nothing `check` would not.
        if language.read_only_when_named()
            && key.starts_with('/')
            && let Err(why) = self.state.walk_rules().check(Path::new(&*key))
        {
            tracing::info!(path = %key, "open document not analysed: {why}");
            self.state.not_analysed.insert(key);
            return;
        }
        self.state.not_analysed.remove(&key);
        let max_size = self.state.max_file_size();
        let mut document = Document::new(&doc.text, doc.version, language, max_size);
        let facts = document.facts(key.clone(), max_size);
        self.state.documents_derived.fetch_add(1, Ordering::Relaxed);
        let _deriving = self.state.deriving.lock().unwrap_or_else(|e| e.into_inner());
        self.state.docs.insert(key.clone(), document);
        self.state.set_facts_at(&key, Some(facts), Some(doc.version));
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let key = convert::key_of(&params.text_document.uri);
        let unit = self.state.unit();
        // Applied synchronously, before any await, so edits keep their arrival order; the
        // facts are derived when the index is next read (`State::derive_pending`).
        {
            let Some(mut doc) = self.state.docs.get_mut(&key) else {
                if !self.state.not_analysed.contains(&key) {
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
            self.state.edits_pending.store(true, Ordering::Release);
        }
        self.state.changed.notify_one();
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let key = convert::key_of(&params.text_document.uri);
        if self.state.not_analysed.remove(&key).is_some() {
            return;
        }
        let _deriving = self.state.deriving.lock().unwrap_or_else(|e| e.into_inner());
        if self.state.docs.remove(&key).is_none() {
            // Never opened (or closed twice): nothing to give back to the disk, and a client
            // must not make the server read a path of its choosing.
            tracing::warn!("didClose for a document that is not open: ignored");
            return;
        }
        // The file on disk is the truth again when the walk would index it; otherwise the
        // buffer's facts go (an unsaved buffer, a file outside the folders or behind a link).
        let facts = self.state.facts_from_disk(&mut self.state.walk_rules(), &key).unwrap_or_else(|why| {
            if key.starts_with('/') {
                log_not_read(Path::new(&*key), &why);
            }
            None
        });
        self.state.set_facts(&key, facts);
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        let state = self.state.clone();
        let items = self.at(&p.text_document.uri, Vec::new(), |index, key, language, text, unit| {
            let shared = state.completion_index(index);
            features::completion(index, &shared, key, language, text, p.position, unit)
        })?;
        Ok(Some(CompletionResponse::Array(items)))
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        let locs = self.at(&p.text_document.uri, Vec::new(), |index, key, _, text, unit| {
            features::locations(
                index,
                &ide::navigation::goto_definition(index, key, text.offset(p.position, unit)),
                unit,
            )
        })?;
        Ok((!locs.is_empty()).then_some(GotoDefinitionResponse::Array(locs)))
    }

    async fn goto_declaration(
        &self,
        params: GotoDeclarationParams,
    ) -> Result<Option<GotoDeclarationResponse>> {
        let p = params.text_document_position_params;
        let locs = self.at(&p.text_document.uri, Vec::new(), |index, key, _, text, unit| {
            features::locations(
                index,
                &ide::navigation::goto_declaration(index, key, text.offset(p.position, unit)),
                unit,
            )
        })?;
        Ok((!locs.is_empty()).then_some(GotoDeclarationResponse::Array(locs)))
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        self.wait_for_index("textDocument/references").await;
        let p = params.text_document_position;
        let include = params.context.include_declaration;
        let locs = self.at(&p.text_document.uri, Vec::new(), |index, key, _, text, unit| {
            let found = ide::navigation::references(index, key, text.offset(p.position, unit), include);
            features::locations(index, &found, unit)
        })?;
        Ok(Some(locs))
    }

    async fn document_highlight(
        &self,
        params: DocumentHighlightParams,
    ) -> Result<Option<Vec<DocumentHighlight>>> {
        let p = params.text_document_position_params;
        let found = self.at(&p.text_document.uri, Vec::new(), |index, key, _, text, unit| {
            features::highlights(index, key, text, p.position, unit)
        })?;
        Ok(Some(found))
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        let state = self.state.clone();
        self.at(&p.text_document.uri, None, |index, key, _, text, unit| {
            let analysis = state.analysis(index);
            features::hover(index, &analysis, key, text, p.position, unit)
        })
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let prepared =
            self.at(&params.text_document.uri, Err(String::new()), |index, key, _, text, unit| {
                ide::navigation::prepare_rename(index, key, text.offset(params.position, unit)).map(
                    |(r, placeholder)| (convert::range(text.text, text.line_index, r, unit), placeholder),
                )
            })?;
        match prepared {
            Ok((range, placeholder)) => {
                Ok(Some(PrepareRenameResponse::RangeWithPlaceholder { range, placeholder }))
            }
            Err(reason) if reason.is_empty() => Ok(None),
            Err(reason) => Err(Error::invalid_params(reason)),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        self.wait_for_index("textDocument/rename").await;
        let p = params.text_document_position;
        let style = self.state.edit_style();
        let result = self.at(&p.text_document.uri, Err(String::new()), |index, key, _, text, unit| {
            ide::navigation::rename(index, key, text.offset(p.position, unit), &params.new_name)
                .and_then(|edits| features::workspace_edit(index, &edits, &style, unit))
        })?;
        match result {
            Ok(edit) => Ok(Some(edit)),
            Err(reason) if reason.is_empty() => Ok(None),
            Err(reason) => Err(Error::invalid_params(reason)),
        }
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        let key = convert::key_of(&params.text_document.uri);
        let symbols = self.read(|index, unit| features::document_symbols(index, &key, unit))?;
        Ok(Some(DocumentSymbolResponse::Nested(symbols)))
    }

    async fn symbol(&self, params: WorkspaceSymbolParams) -> Result<Option<WorkspaceSymbolResponse>> {
        self.wait_for_index("workspace/symbol").await;
        let symbols = self.read(|index, unit| features::workspace_symbols(index, &params.query, unit))?;
        Ok(Some(WorkspaceSymbolResponse::Flat(symbols)))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let key = convert::key_of(&params.text_document.uri);
        let style = self.state.edit_style();
        let overrides = self.state.settings.read().map(|s| s.overrides.clone()).unwrap_or_default();
        let state = self.state.clone();
        let actions = self.read(|index, unit| {
            let analysis = state.analysis(index);
            let diagnostics = overrides.apply(analysis.diagnostics(index));
            features::code_actions(index, &analysis, &diagnostics, &key, params.range, &style, unit)
        })?;
        Ok(Some(actions))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let key = convert::key_of(&params.text_document.uri);
        let state = self.state.clone();
        let lenses = self.read(|index, unit| {
            let analysis = state.analysis(index);
            features::code_lenses(index, &analysis, &key, unit)
        })?;
        Ok(Some(lenses))
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        let key = convert::key_of(&params.text_document.uri);
        let data = self.read(|index, unit| features::semantic_tokens(index, &key, None, unit))?;
        Ok(Some(SemanticTokensResult::Tokens(SemanticTokens { result_id: None, data })))
    }

    async fn semantic_tokens_range(
        &self,
        params: SemanticTokensRangeParams,
    ) -> Result<Option<SemanticTokensRangeResult>> {
        let key = convert::key_of(&params.text_document.uri);
        let data =
            self.read(|index, unit| features::semantic_tokens(index, &key, Some(params.range), unit))?;
        Ok(Some(SemanticTokensRangeResult::Tokens(SemanticTokens { result_id: None, data })))
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let key = convert::key_of(&params.text_document.uri);
        let state = self.state.clone();
        let hints = self.read(|index, unit| {
            let analysis = state.analysis(index);
            features::inlay_hints(index, &analysis, &key, params.range, unit)
        })?;
        Ok(Some(hints))
    }

    async fn diagnostic(&self, params: DocumentDiagnosticParams) -> Result<DocumentDiagnosticReportResult> {
        let key = convert::key_of(&params.text_document.uri);
        let items: Vec<_> =
            self.pulled(|file| **file == *key)?.into_iter().flat_map(|(_, items)| items).collect();
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

    async fn workspace_diagnostic(
        &self,
        params: WorkspaceDiagnosticParams,
    ) -> Result<WorkspaceDiagnosticReportResult> {
        self.wait_for_index("workspace/diagnostic").await;
        let versions = self.state.edit_style().versions;
        let previous: HashMap<String, String> =
            params.previous_result_ids.into_iter().map(|p| (p.uri.as_str().to_string(), p.value)).collect();
        let items = self
            .pulled(|_| true)?
            .into_iter()
            .filter_map(|(file, items)| {
                let uri = convert::uri_of(&file)?;
                let version = versions.get(&*file).map(|v| i64::from(*v));
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

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        if COMMANDS.contains(&params.command.as_str()) && params.command != "threat-analyzer.reindex" {
            self.wait_for_index(&params.command).await;
        }
        match params.command.as_str() {
            "threat-analyzer.status" => self
                .read(|index, _| {
                    let files = index.files().count();
                    let files_scanned: usize =
                        self.state.files_scanned.lock().unwrap_or_else(|e| e.into_inner()).values().sum();
                    let annotations: usize = index.files().map(|f| f.annotations().len()).sum();
                    // Work done for this revision so far: requests reuse it rather than repeat it.
                    let analysis = self.state.analysis(index);
                    let suggestion_work = analysis.suggestion_work();
                    // Exposures whose asset and threat resolve, and those the coverage rule
                    // calls open (as `unmitigated-exposure` does).
                    let (mut exposures, mut open_exposures) = (0usize, 0usize);
                    for facts in index.files() {
                        for i in 0..facts.annotations().len() {
                            if let Some(c) = analysis.coverage(&facts.path, i) {
                                exposures += 1;
                                open_exposures += usize::from(c.is_open());
                            }
                        }
                    }
                    serde_json::json!({
                        "files_scanned": files_scanned,
                        "files_with_annotations": files,
                        "annotations": annotations,
                        "open_documents": self.state.docs.len(),
                        "revision": index.revision(),
                        "documents_derived": self.state.documents_derived.load(Ordering::Relaxed),
                        "suggestion_work": suggestion_work,
                        "exposures": exposures,
                        "open_exposures": open_exposures,
                        "coverage_scope": analysis.coverage_scope().as_str(),
                    })
                })
                .map(Some),
            "threat-analyzer.reindex" => {
                // Not awaited: the index keeps its files while they are read again.
                tokio::spawn(index_workspace(self.client.clone(), self.state.clone()));
                Ok(None)
            }
            "threat-analyzer.dfd" => {
                let args = params.arguments.first().cloned().unwrap_or(serde_json::Value::Null);
                let format = args.get("format").and_then(|f| f.as_str()).unwrap_or("mermaid").to_string();
                if !matches!(format.as_str(), "mermaid" | "dot" | "svg") {
                    return Err(Error::invalid_params(format!(
                        "unknown format `{format}`; use `mermaid`, `dot` or `svg`"
                    )));
                }
                let scope = match parse_scope(&args) {
                    Ok(scope) => scope,
                    Err(message) => return Err(Error::invalid_params(message)),
                };
                let state = self.state.clone();
                self.read(|index, _| {
                    let analysis = state.analysis(index);
                    let dfd = crate::render::dfd::build(index, &analysis, &scope);
                    if let Some(reason) = dfd.too_large() {
                        return Err(Error::invalid_params(format!("threat-analyzer.dfd: {reason}")));
                    }
                    let text = match format.as_str() {
                        "dot" => crate::render::dot::render(&dfd),
                        "svg" => crate::render::svg::render(&dfd),
                        _ => crate::render::mermaid::render(&dfd),
                    };
                    Ok(serde_json::json!({ "format": format, "text": text }))
                })?
                .map(Some)
            }
            "threat-analyzer.showDfd" => self.show_dfd(params.arguments.first()),
            other => Err(Error::invalid_params(format!("unknown command `{other}`"))),
        }
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        let to_path = |f: &WorkspaceFolder| f.uri.to_file_path().map(|p| p.into_owned());
        let added: Vec<PathBuf> = params.event.added.iter().filter_map(to_path).collect();
        let removed: Vec<PathBuf> = params.event.removed.iter().filter_map(to_path).collect();
        if let Ok(mut roots) = self.state.roots.write() {
            roots.retain(|r| !removed.contains(r));
            roots.extend(added.iter().cloned());
        }
        self.state
            .files_scanned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|r, _| !removed.contains(r));
        // Forget what the removed folders contributed (open buffers stay).
        let gone: Vec<FilePath> = {
            let index = self.state.index_read();
            index
                .files()
                .map(|f| f.path.clone())
                .filter(|p| removed.iter().any(|r| Path::new(&**p).starts_with(r)))
                .collect()
        };
        for key in gone {
            if !self.state.docs.contains_key(&key) {
                self.state.set_facts(&key, None);
            }
        }
        tracing::info!(added = added.len(), removed = removed.len(), "workspace folders changed");
        if self.state.watch_disk.load(Ordering::Relaxed) {
            watch_workspace(self.client.clone(), self.state.clone());
        }
        let run = AwaitedIndexing::new(&self.state);
        tokio::spawn(awaited(run, index_roots(self.client.clone(), self.state.clone(), added)));
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let (settings, problems) = Settings::from_json(&params.settings);
        let reindex = match self.state.settings.write() {
            Ok(mut s) => {
                let files_changed = s.include != settings.include
                    || s.exclude != settings.exclude
                    || s.max_file_size != settings.max_file_size;
                *s = settings;
                files_changed
            }
            Err(_) => false,
        };
        if reindex {
            // Which files belong to the project changed: forget the disk files, index again.
            let keys: Vec<FilePath> = self.state.index_read().files().map(|f| f.path.clone()).collect();
            for key in keys.iter().filter(|k| !self.state.docs.contains_key(*k)) {
                self.state.set_facts(key, None);
            }
            // The index was just emptied of disk files: whole-project requests wait for it.
            let run = AwaitedIndexing::new(&self.state);
            tokio::spawn(awaited(run, index_workspace(self.client.clone(), self.state.clone())));
        }
        self.state.changed.notify_one();
        for p in problems {
            tracing::warn!("settings: {p}");
            let message = format!("threat-analyzer settings: {p}");
            self.client.log_message(MessageType::WARNING, text::for_terminal(&message)).await;
        }
    }
}

impl Backend {
    /// `threat-analyzer.showDfd`: renders the diagram of the scope as a self-contained HTML
    /// page, writes it to the preview cache (outside the workspace, see `lsp::preview`), asks
    /// the client to open it when the client supports `window/showDocument`, and answers
    /// `{"uri", "path", "shown"}` (`shown`: the server asked the client to open it).
    fn show_dfd(&self, args: Option<&serde_json::Value>) -> Result<Option<LSPAny>> {
        let args = args.cloned().unwrap_or(serde_json::Value::Null);
        let scope = parse_scope(&args).map_err(Error::invalid_params)?;
        let roots: Vec<PathBuf> = self.state.roots.read().map(|r| r.clone()).unwrap_or_default();
        let heading = roots
            .first()
            .and_then(|r| r.file_name())
            .map_or_else(|| "workspace".to_string(), |n| n.to_string_lossy().into_owned());
        let what = describe_scope(&scope);
        let state = self.state.clone();
        let failed = |message: String| Error {
            code: tower_lsp_server::jsonrpc::ErrorCode::ServerError(REQUEST_FAILED),
            message: format!("threat-analyzer.showDfd: {message}").into(),
            data: None,
        };
        let html = self.read(|index, _| {
            let analysis = state.analysis(index);
            let dfd = crate::render::dfd::build(index, &analysis, &scope);
            match dfd.too_large() {
                Some(reason) => Err(failed(reason)),
                None => Ok(crate::render::report_html::dfd_page(&dfd, &heading, &what)),
            }
        })??;
        let dir = super::preview::preview_dir(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))
            .map_err(failed)?;
        let path = super::preview::write(&dir, &roots, &html).map_err(failed)?;
        let uri = Uri::from_file_path(&path)
            .ok_or_else(|| failed(format!("{} has no file URI", path.display())))?;
        let shown = self.state.show_document.load(Ordering::Relaxed);
        if shown {
            // Never await a client request inside a handler.
            let client = self.client.clone();
            let params = ShowDocumentParams {
                uri: uri.clone(),
                external: Some(true),
                take_focus: None,
                selection: None,
            };
            tokio::spawn(async move {
                if let Err(e) = client.show_document(params).await {
                    tracing::warn!("window/showDocument for the diagram preview failed: {e}");
                }
            });
        }
        tracing::info!(path = %path.display(), shown, "wrote the diagram preview");
        Ok(Some(serde_json::json!({
            "uri": uri.as_str(),
            "path": path.to_string_lossy(),
            "shown": shown,
        })))
    }
}

/// LSP's `RequestFailed`: the request was valid but could not be carried out.
const REQUEST_FAILED: i64 = -32803;

/// What a diagram of `scope` shows, in words (for the preview's page).
fn describe_scope(scope: &crate::render::dfd::Scope) -> String {
    use crate::render::dfd::Scope;
    match scope {
        Scope::Project => "The whole project".to_string(),
        Scope::Boundary(b) => format!("Trust boundary {b}, with its direct neighbours"),
        Scope::Component(c) => format!("Component {c}, its sub-components and direct neighbours"),
        Scope::File(f) => format!("What {f} names"),
    }
}

/// The `scope` argument of `threat-analyzer.dfd`: absent or `"project"`, `{"boundary": "dmz"}`,
/// `{"component": "Shop.Api"}` or `{"file": "<uri>"}`.
fn parse_scope(args: &serde_json::Value) -> std::result::Result<crate::render::dfd::Scope, String> {
    use crate::render::dfd::Scope;
    let scope = args.get("scope").cloned().unwrap_or(serde_json::Value::Null);
    if scope.is_null() || scope == "project" {
        return Ok(Scope::Project);
    }
    if let Some(b) = scope.get("boundary").and_then(|v| v.as_str()) {
        return Ok(Scope::Boundary(b.to_string()));
    }
    if let Some(c) = scope.get("component").and_then(|v| v.as_str()) {
        return Ok(Scope::Component(c.to_string()));
    }
    if let Some(f) = scope.get("file").and_then(|v| v.as_str()) {
        let uri = Uri::from_str(f).map_err(|_| format!("scope.file `{f}` is not a URI"))?;
        return Ok(Scope::File(convert::key_of(&uri)));
    }
    Err(format!(
        "unknown scope {scope}: use \"project\", {{\"boundary\": ...}}, {{\"component\": ...}} or {{\"file\": <uri>}}"
    ))
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
