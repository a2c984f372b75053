//! File changes on disk: from the client's `workspace/didChangeWatchedFiles` (registered
//! dynamically when the client can), and from the server's own `notify` watcher when the client
//! cannot (Neovim on Linux) or sends events only for files it saved itself (Helix registers the
//! watcher but has none); a change seen both ways is simply re-read twice.
//!
//! Owns: turning change events into "re-read this file" / "forget this file" for paths the
//! walker would index. Must never: touch an open document (the buffer wins over the disk).

use notify::{RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// A file to re-read (it exists) or forget (it does not, or it is a removed directory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed(pub PathBuf);

/// Whether a changed path is one the workspace index reads: a known language, and no hidden
/// component below its root except `.guardlink`. (Ignore files are applied by full indexing
/// and `threat-analyzer.reindex`, not per event.)
pub fn indexable(path: &Path, roots: &[PathBuf]) -> bool {
    if crate::syntax::Language::from_path(path).is_none() {
        return false;
    }
    let Some(root) = roots.iter().find(|r| path.starts_with(r)) else { return false };
    let Ok(rel) = path.strip_prefix(root) else { return false };
    rel.components().all(|c| {
        let name = c.as_os_str().to_string_lossy();
        !name.starts_with('.') || name == ".guardlink"
    })
}

/// Starts a recursive watcher on every root; batches of changed paths go to `tx`. Returns the
/// watcher (dropping it stops watching) or `None` when the platform refuses.
pub fn start(roots: &[PathBuf], tx: UnboundedSender<Vec<Changed>>) -> Option<notify::RecommendedWatcher> {
    let (raw_tx, raw_rx) = std::sync::mpsc::channel::<notify::Result<notify::Event>>();
    let mut watcher = notify::recommended_watcher(raw_tx).ok()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_indexable_paths_pass() {
        let roots = [PathBuf::from("/w")];
        assert!(indexable(Path::new("/w/api/app.py"), &roots));
        assert!(indexable(Path::new("/w/.guardlink/defs.gal"), &roots));
        assert!(!indexable(Path::new("/w/.git/HEAD"), &roots));
        assert!(!indexable(Path::new("/w/.venv/lib/x.py"), &roots));
        assert!(!indexable(Path::new("/w/image.png"), &roots));
        assert!(!indexable(Path::new("/elsewhere/a.py"), &roots));
    }
}
