//! Indexing: the workspace folders read into the index in the background, changes on disk
//! applied to it, and the index cache kept current.
//!
//! Owns: indexing runs (one folder at a time, merged file by file so requests see what is
//! known so far, with `$/progress` when the client shows it and one summary in the log),
//! the workspace folders' repository names, applying changes on disk (from our watcher or the
//! client's file events: a file read again, a directory's subtree read again by the walk's
//! rules within the project limits, what is gone forgotten) and indexing a folder again when
//! its configuration file changed or the change names the folder itself (an overflow),
//! starting our own watcher, and rewriting the index cache (every [`CACHE_REFRESH`] and at
//! `shutdown`). Must never: replace an open document's facts with the disk's (the buffer
//! wins), read a file that `walk::WalkRules` does not admit, or block the async runtime (walks
//! and cache writes run on blocking threads).

use super::settings::Settings;
use super::state::State;
use crate::file_id::FileId;
use crate::model::Repository;
use crate::text;
use crate::walk::{self, WalkOptions};
use crate::watch;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::notification::Progress as ProgressNotification;
use tower_lsp_server::ls_types::*;

/// How often the index cache is brought up to date with changes seen on disk.
const CACHE_REFRESH: Duration = Duration::from_secs(300);

/// How long `shutdown` waits for a last cache refresh.
const SHUTDOWN_CACHE_WAIT: Duration = Duration::from_secs(3);

/// Debug and test builds only: milliseconds each workspace folder's indexing sleeps before it
/// scans, so that a test can send requests while the first index is surely still running.
/// Release builds never read it.
#[cfg(debug_assertions)]
const TEST_INDEX_DELAY_ENV: &str = "THREAT_ANALYZER_TEST_INDEX_DELAY_MS";

/// Indexes every workspace root in the background, reporting `$/progress` when the client
/// supports it. Open documents keep their editor text. Then keeps the index cache current.
pub(super) async fn index_workspace(client: Client, state: Arc<State>) {
    let roots = state.roots();
    index_roots(client, state.clone(), roots).await;
    tokio::spawn(refresh_cache_periodically(state));
}

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

/// At `shutdown`: waits for the cache writes indexing started, then rewrites the index cache
/// if files changed on disk since it was written; each step waits at most
/// [`SHUTDOWN_CACHE_WAIT`] (a write that takes longer is abandoned: the old cache stays valid).
pub(super) async fn refresh_cache_at_shutdown(state: &Arc<State>) {
    // First the writes the indexing runs started: exiting before them would leave no cache.
    let saves = state.cache_saves.lock().map(|mut saves| std::mem::take(&mut *saves)).unwrap_or_default();
    let deadline = tokio::time::Instant::now() + SHUTDOWN_CACHE_WAIT;
    for save in saves {
        let _ = tokio::time::timeout_at(deadline, save).await;
    }
    if state.cache_stale.swap(false, Ordering::Relaxed) {
        let state = state.clone();
        let refresh = tokio::task::spawn_blocking(move || refresh_cache(&state));
        let _ = tokio::time::timeout(SHUTDOWN_CACHE_WAIT, refresh).await;
    }
}

/// Rewrites the index cache of every workspace folder from disk: a scan that reads only the
/// files whose size or mtime changed (the index itself is not touched: it follows the
/// editor's buffers and the file watcher). Blocking; runs off the async runtime.
fn refresh_cache(state: &State) {
    let roots = state.roots();
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

/// Tells the index which repositories the workspace folders are, so that a qualified tag
/// `#repo.id` resolves in the folder named `repo` ([`walk::repository_names`]). A folder still
/// being indexed is left out until its files are in: its tags stay external meanwhile rather
/// than dangle.
fn sync_repositories(state: &State, still_indexing: &[PathBuf]) {
    let roots = state.roots();
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

/// What one indexing run read, for its summary.
#[derive(Default)]
struct Indexed {
    files: usize,
    annotated: usize,
    from_cache: usize,
    read_without_tree: usize,
    /// Index cache writes still running.
    cache_saves: Vec<walk::CacheSave>,
    /// Folders over the project limits, with how many files were not read.
    limited: Vec<(PathBuf, usize)>,
    /// Shown to the user (`window/showMessage`).
    warnings: Vec<String>,
}

/// Indexes the given workspace folders (see [`index_workspace`]).
pub(super) async fn index_roots(client: Client, state: Arc<State>, roots: Vec<PathBuf>) {
    sync_repositories(&state, &roots);
    if roots.is_empty() {
        return;
    }
    let token = NumberOrString::String("threat-analyzer/index".into());
    let progress =
        state.client().work_done_progress && client.create_work_done_progress(token.clone()).await.is_ok();
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
    let worker = tokio::task::spawn_blocking(move || scan_roots(&worker_state, &roots, &settings, tx));
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
    let indexed = worker.await.unwrap_or_default();
    let (files, annotated) = (indexed.files, indexed.annotated);
    report_indexed(&client, &state, indexed, started).await;
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

/// Scans `roots` one after the other, as `settings` select files, and merges each into the
/// index; `tx` receives the walk's progress. Blocking; runs off the async runtime.
fn scan_roots(
    state: &State,
    roots: &[PathBuf],
    settings: &Settings,
    tx: tokio::sync::mpsc::UnboundedSender<(usize, usize)>,
) -> Indexed {
    let mut indexed = Indexed::default();
    for (done, root) in roots.iter().enumerate() {
        let root = root.clone();
        // One indexing run at a time, so the last to merge is the last to have scanned.
        let _indexing = state.indexing.lock().unwrap_or_else(|e| e.into_inner());
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
                indexed.warnings.push(format!("threat-analyzer: cannot index {}: {e}", root.display()));
                continue;
            }
        };
        // Refused configuration and ignore files: the folder is indexed without them.
        for not_applied in &scan.not_applied {
            tracing::warn!(root = %root.display(), "{not_applied}");
            indexed.warnings.push(format!("threat-analyzer: {}: {not_applied}", root.display()));
        }
        indexed.files += scan.files_scanned;
        state
            .files_scanned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(root.clone(), scan.files_scanned);
        let unread = scan.skipped.iter().filter(|(_, r)| *r == walk::SkipReason::ProjectLimit).count();
        if let Some(note) = walk::unnamed_annotation_like_note(&scan.skipped, "the `include` setting") {
            tracing::warn!(root = %root.display(), "{note}");
            indexed.warnings.push(format!("threat-analyzer: {}: {note}", root.display()));
        }
        if unread > 0 {
            indexed.limited.push((root.clone(), unread));
        }
        indexed.from_cache += scan.cache.as_ref().map_or(0, |c| c.reused);
        indexed.read_without_tree += scan.read_without_tree;
        indexed.annotated += merge_scan(state, &root, &scan);
        state.update_config_problems(&root, &scan.index);
        state.set_risk_policy(&root, scan.risk.clone());
        state.refresh_anchor_texts(None);
        super::infra::after_scan(state, &root, &scan);
        sync_repositories(state, &roots[done + 1..]);
        state.changed.notify_one();
        indexed.cache_saves.extend(scan.take_cache_save());
    }
    indexed
}

/// Puts what a scan of `root` found into the index, file by file so requests see what is
/// known so far, and forgets what the index held under `root` that the scan did not find.
/// Open documents are left alone. Returns how many files the scan found.
fn merge_scan(state: &State, root: &Path, scan: &walk::Scan) -> usize {
    let mut annotated = 0;
    for facts in scan.index.files() {
        annotated += 1;
        // Checked under the write lock: a didOpen in between must not be overwritten by
        // the disk version (didOpen sets its facts after inserting the document), and a
        // file deleted since the scan read it (its deletion already applied) stays out.
        let mut index = state.index_write();
        if !state.docs.contains_key(&facts.path) && Path::new(facts.path.as_str()).is_file() {
            index.set_file(facts.clone());
        }
    }
    // The folder's threat libraries (none: a library deleted since is forgotten).
    state.set_libraries(root, scan.index.library_arc(), scan.library_files.clone());
    // What the index holds under this root and the scan did not find is gone from disk
    // (or no longer selected): forget it, open documents excepted.
    let gone: Vec<FileId> = state
        .index_read()
        .files()
        .map(|f| f.path.clone())
        .filter(|p| Path::new(p.as_str()).starts_with(root) && scan.index.file(p.as_str()).is_none())
        .collect();
    for key in gone {
        let mut index = state.index_write();
        if !state.docs.contains_key(&key) {
            index.remove_file(key.as_str());
        }
    }
    annotated
}

/// Tells the user what an indexing run read and what it could not: warnings as
/// `window/showMessage`, the summary in the log and as `window/logMessage`.
async fn report_indexed(client: &Client, state: &State, indexed: Indexed, started: std::time::Instant) {
    let Indexed { files, annotated, from_cache, read_without_tree, cache_saves, limited, warnings } = indexed;
    // The cache is written on threads of its own; only the outcome is waited for, off the
    // async runtime (and by `shutdown`, see `refresh_cache_at_shutdown`).
    let waiting = tokio::task::spawn_blocking(move || {
        for save in cache_saves {
            if let Err(e) = save.wait() {
                tracing::warn!("index cache not written: {e}");
            }
        }
    });
    if let Ok(mut saves) = state.cache_saves.lock() {
        saves.retain(|save| !save.is_finished());
        saves.push(waiting);
    }
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
}

async fn send_progress(client: &Client, token: &ProgressToken, value: WorkDoneProgress) {
    client
        .send_notification::<ProgressNotification>(ProgressParams {
            token: token.clone(),
            value: ProgressParamsValue::WorkDone(value),
        })
        .await;
}

/// What applying changes on disk found to do next.
#[derive(Default)]
struct Applied {
    /// Folders to index again: their configuration file changed, or the change names the
    /// folder itself (our watcher lost events, or the client says the folder changed).
    reindex: Vec<PathBuf>,
    /// Shown to the user (`window/showMessage`).
    warnings: Vec<String>,
}

/// Applies changes on disk, whoever reported them (our watcher or the client): re-reads the
/// files the walk would index, re-reads the subtree of a directory the walk descends into (a
/// directory created, moved or copied in, or checked out, may hold files that no event of
/// their own will name), and forgets what the index held at (or under) any other path:
/// deleted, ignored, replaced by a link, outside the folders. A workspace folder itself is
/// indexed again whole. Open documents are left alone: the buffer wins.
fn apply_disk_changes(state: &State, mut changes: Vec<watch::Changed>) -> Applied {
    tracing::debug!(count = changes.len(), "files changed on disk");
    let roots = state.roots();
    let mut rules = state.walk_rules();
    state.cache_stale.store(true, Ordering::Relaxed);
    let mut applied = Applied::default();
    // Parents before children, so a path under a directory re-read in this batch is skipped.
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    changes.dedup();
    let mut read_again: Vec<PathBuf> = Vec::new();
    let mut budget: Option<LimitBudget> = None;
    for watch::Changed(path) in changes {
        let is_root = roots.contains(&path);
        if let Some(root) = state.root_to_reindex(&path).or_else(|| is_root.then(|| path.clone()))
            && !applied.reindex.contains(&root)
        {
            applied.reindex.push(root);
        }
        if is_root {
            continue;
        }
        if read_again.iter().chain(&applied.reindex).any(|dir| path.starts_with(dir) && path != *dir) {
            continue;
        }
        let key = FileId::absolute(&path);
        if state.docs.contains_key(&key) {
            continue;
        }
        match state.facts_from_disk(&mut rules, &key) {
            Ok(facts) => state.set_facts(&key, facts),
            Err(walk::NotIndexed::Directory) => {
                let budget = budget.get_or_insert_with(|| LimitBudget::of(state));
                if let Some(warning) = read_directory(state, &mut rules, &path, budget) {
                    applied.warnings.push(warning);
                }
                read_again.push(path);
            }
            Err(why) => {
                log_not_read(&path, &why);
                forget_under(state, &key);
                // A deleted anchored source file: its anchors become stale.
                state.refresh_anchor_texts(Some(&key));
                // A deleted template: derived again without it.
                state.infra.touched(&key);
            }
        }
    }
    applied
}

/// What the project limits ([`walk::ProjectLimits`]) leave for files read from disk after
/// the workspace indexing: the index's annotations and text counted once per batch of
/// changes.
struct LimitBudget {
    limits: walk::ProjectLimits,
    annotations: usize,
    text: u64,
}

impl LimitBudget {
    fn of(state: &State) -> LimitBudget {
        let limits = state.settings.read().map(|s| s.walk_options().limits).unwrap_or_default();
        let index = state.index_read();
        let (annotations, text) =
            index.files().fold((0, 0), |(a, t), f| (a + f.annotations().len(), t + f.text.len() as u64));
        LimitBudget { limits, annotations, text }
    }

    /// Takes what `facts` need; `false` (and nothing taken) when that would pass a limit.
    fn take(&mut self, facts: &crate::model::FileFacts) -> bool {
        let annotations = self.annotations + facts.annotations().len();
        let text = self.text + facts.text.len() as u64;
        if annotations > self.limits.annotations || text > self.limits.text {
            return false;
        }
        (self.annotations, self.text) = (annotations, text);
        true
    }

    /// Gives back what the facts a file held took (it is read again or forgotten).
    fn give_back(&mut self, facts: &crate::model::FileFacts) {
        self.annotations = self.annotations.saturating_sub(facts.annotations().len());
        self.text = self.text.saturating_sub(facts.text.len() as u64);
    }
}

/// Reads the directory `dir` again, as the walk of the workspace folders would read it
/// ([`walk::WalkRules::files_under`]): its files in path order until the project limits are
/// reached, and forgets what the index held under it that the walk would not read now. Open
/// documents are left alone. Returns a warning when files were left unread by the limits.
fn read_directory(
    state: &State,
    rules: &mut walk::WalkRules,
    dir: &Path,
    budget: &mut LimitBudget,
) -> Option<String> {
    let files = rules.files_under(dir);
    tracing::debug!(dir = %dir.display(), files = files.len(), "directory changed: reading its files again");
    let wanted: std::collections::HashSet<FileId> = files.iter().map(|(p, _)| FileId::absolute(p)).collect();
    let prefix = format!("{}/", FileId::absolute(dir));
    let held: Vec<FileId> = state
        .index_read()
        .files()
        .map(|f| f.path.clone())
        .filter(|p| p.as_str().starts_with(&prefix))
        .collect();
    for key in held.into_iter().filter(|key| !state.docs.contains_key(key)) {
        if let Some(old) = state.index_read().file(key.as_str()).cloned() {
            budget.give_back(&old);
        }
        if !wanted.contains(&key) {
            state.set_facts(&key, None);
        }
    }
    let mut unread = 0;
    for (path, language) in files {
        let key = FileId::absolute(&path);
        if state.docs.contains_key(&key) {
            continue;
        }
        match walk::read_file_facts(&path, key.clone(), language, state.max_file_size()) {
            Ok(Some(facts)) if unread > 0 || !budget.take(&facts) => {
                unread += 1;
                state.set_facts(&key, None);
            }
            Ok(facts) => state.set_facts(&key, facts),
            Err(why) => {
                log_not_read(&path, &walk::NotIndexed::Skipped(why));
                state.set_facts(&key, None);
            }
        }
    }
    (unread > 0).then(|| {
        let warning = format!(
            "threat-analyzer: {} is past the project limits ({}): {unread} files were not read, so the \
             threat model is incomplete (exclude generated or vendored directories with the `exclude` setting)",
            dir.display(),
            budget.limits
        );
        tracing::warn!("{warning}");
        warning
    })
}

/// Applies changes on disk, then indexes again the folders that need it (see
/// [`apply_disk_changes`]).
pub(super) async fn apply_disk_changes_and_reindex(
    client: Client,
    state: Arc<State>,
    changes: Vec<watch::Changed>,
) {
    let applying = state.clone();
    let Applied { reindex, warnings } =
        tokio::task::spawn_blocking(move || apply_disk_changes(&applying, changes)).await.unwrap_or_default();
    for warning in warnings {
        client.show_message(MessageType::WARNING, text::for_terminal(&warning)).await;
    }
    if !reindex.is_empty() {
        tracing::info!(folders = reindex.len(), "configuration or folder changed: indexing again");
        index_roots(client, state, reindex).await;
    }
}

/// Says why a path (changed on disk, or a closed document) is not read: at `info` when the
/// walk would report it as skipped (a link, a pipe, a file too large, outside the folders), at
/// `debug` for what is simply not part of the project (deleted, ignored, hidden, another
/// language).
pub(super) fn log_not_read(path: &Path, why: &walk::NotIndexed) {
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
fn forget_under(state: &State, key: &FileId) {
    let prefix = format!("{key}/");
    let gone: Vec<FileId> = {
        let index = state.index_read();
        index
            .files()
            .map(|f| f.path.clone())
            .filter(|p| *p == *key || p.as_str().starts_with(&prefix))
            .collect()
    };
    for p in gone {
        if !state.docs.contains_key(&p) {
            state.set_facts(&p, None);
        }
    }
}

/// Watches the workspace when the client will not tell us about every change on disk.
pub(super) fn watch_workspace(client: Client, state: Arc<State>) {
    let roots = state.roots();
    if roots.is_empty() {
        return;
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let Some(watcher) = watch::start(&roots, move |batch| tx.send(batch).is_ok()) else {
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
