//! File changes on disk, for the two servers that keep a project in memory: the language server
//! (when its client cannot watch files, as Neovim on Linux, or sends events only for files it
//! saved itself, as Helix; a change seen both ways is simply re-read twice) and the MCP server.
//!
//! Owns: the servers' own `notify` watcher, which never follows a symbolic link (no watch is
//! added through one, so a link to `/usr` or `/` costs nothing), and turning its events into
//! batches of changed paths. Every changed path then goes through the walk's rules
//! (`walk::WalkRules`) in the server before anything is read. Must never: read a file itself,
//! or know either protocol (a batch goes to the caller's function).
//!
//! An edit to an ignore file changes what later events admit, but files it newly ignores stay
//! in a server's index until its next full indexing.
//!
//! Events can be lost: when the kernel's event queue overflows (inotify's `IN_Q_OVERFLOW`, as
//! when ten thousand files appear at once) or the watcher reports an error, the batch holds
//! the watched roots themselves, meaning "anything under here may have changed". A directory
//! in a batch may also hold files created before its own watch was added (a new directory's
//! first files): a server that must not miss them reads the directory's subtree again (both
//! servers do, by the walk's rules; a root in a batch is indexed again whole).

use notify::{RecursiveMode, Watcher};
use std::path::PathBuf;
use std::time::Duration;

/// A path that changed on disk: a file, a directory, or what used to be one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed(pub PathBuf);

/// Starts a recursive watcher on every root (links not followed); each batch of changed paths
/// goes to `deliver`, on a thread of the watcher's, until it returns `false`. Returns the
/// watcher (dropping it stops watching) or `None` when the platform refuses.
pub fn start(
    roots: &[PathBuf],
    mut deliver: impl FnMut(Vec<Changed>) -> bool + Send + 'static,
) -> Option<notify::RecommendedWatcher> {
    let (raw_tx, raw_rx) = std::sync::mpsc::channel::<notify::Result<notify::Event>>();
    // @mitigates ThreatAnalyzer.Server against #path-traversal using #confined-workspace
    let config = notify::Config::default().with_follow_symlinks(false);
    let mut watcher = notify::RecommendedWatcher::new(raw_tx, config).ok()?;
    for root in roots {
        if watcher.watch(root, RecursiveMode::Recursive).is_err() {
            return None;
        }
    }
    let roots = roots.to_vec();
    // Batch events for 100 ms so a branch switch becomes one update, not thousands.
    std::thread::spawn(move || {
        while let Ok(first) = raw_rx.recv() {
            let mut paths: Vec<PathBuf> = Vec::new();
            let mut take = |event: notify::Result<notify::Event>| match event {
                Ok(event) if matches!(event.kind, notify::EventKind::Access(_)) => {}
                // The kernel's queue overflowed (inotify's IN_Q_OVERFLOW) or an error lost
                // events: everything may have changed.
                Ok(event) if event.need_rescan() => paths.extend(roots.iter().cloned()),
                Err(_) => paths.extend(roots.iter().cloned()),
                Ok(event) => paths.extend(event.paths),
            };
            take(first);
            while let Ok(event) = raw_rx.recv_timeout(Duration::from_millis(100)) {
                take(event);
            }
            paths.sort();
            paths.dedup();
            if !paths.is_empty() && !deliver(paths.into_iter().map(Changed).collect()) {
                return;
            }
        }
    });
    Some(watcher)
}
