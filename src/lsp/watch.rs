//! File changes on disk: from the client's `workspace/didChangeWatchedFiles` (registered
//! dynamically when the client can), and from the server's own `notify` watcher when the client
//! cannot (Neovim on Linux) or sends events only for files it saved itself (Helix registers the
//! watcher but has none); a change seen both ways is simply re-read twice.
//!
//! Owns: the server's own watcher, which never follows a symbolic link (no watch is added
//! through one, so a link to `/usr` or `/` costs nothing), and turning its events into changed
//! paths. Every changed path, from here or from the client, then goes through the walk's rules
//! (`walk::WalkRules`) before anything is read. Must never: touch an open document (the buffer
//! wins over the disk), or read a file itself.
//!
//! An edit to an ignore file changes what later events admit, but files it newly ignores stay
//! in the index until the next full indexing (`threat-analyzer.reindex`).

use notify::{RecursiveMode, Watcher};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// A path that changed on disk: a file, a directory, or what used to be one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed(pub PathBuf);

/// Starts a recursive watcher on every root (links not followed); batches of changed paths go
/// to `tx`. Returns the watcher (dropping it stops watching) or `None` when the platform
/// refuses.
pub fn start(roots: &[PathBuf], tx: UnboundedSender<Vec<Changed>>) -> Option<notify::RecommendedWatcher> {
    let (raw_tx, raw_rx) = std::sync::mpsc::channel::<notify::Result<notify::Event>>();
    // @mitigates ThreatAnalyzer.Server against #path-traversal using #confined-workspace
    let config = notify::Config::default().with_follow_symlinks(false);
    let mut watcher = notify::RecommendedWatcher::new(raw_tx, config).ok()?;
    for root in roots {
        if watcher.watch(root, RecursiveMode::Recursive).is_err() {
            return None;
        }
    }
    // Batch events for 100 ms so a branch switch becomes one update, not thousands.
    std::thread::spawn(move || {
        while let Ok(first) = raw_rx.recv() {
            let mut paths: Vec<PathBuf> = Vec::new();
            let mut take = |event: notify::Result<notify::Event>| {
                if let Ok(event) = event {
                    if matches!(event.kind, notify::EventKind::Access(_)) {
                        return;
                    }
                    paths.extend(event.paths);
                }
            };
            take(first);
            while let Ok(event) = raw_rx.recv_timeout(Duration::from_millis(100)) {
                take(event);
            }
            paths.sort();
            paths.dedup();
            if !paths.is_empty() && tx.send(paths.into_iter().map(Changed).collect()).is_err() {
                return;
            }
        }
    });
    Some(watcher)
}
