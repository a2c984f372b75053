//! The real server process's own file watcher against a workspace holding a link to a big
//! directory outside it: the watcher adds no watch through the link (counted in the process's
//! `/proc/<pid>/fdinfo`, one `inotify wd:` line per watch). Linux only.
#![cfg(target_os = "linux")]

use crate::stdio;

use serde_json::json;
use stdio::*;

/// The inotify watches the process holds.
fn inotify_watches(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fdinfo"))
        .unwrap()
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
        .map(|info| info.lines().filter(|l| l.starts_with("inotify wd:")).count())
        .sum()
}

#[test]
fn the_watcher_adds_no_watch_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    // Outside: 60 directories (a scaled-down `/usr`), each with an annotated file.
    for i in 0..60 {
        let sub = outside.path().join(format!("d{i}"));
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("x.py"), "# @asset Outside.Thing\n").unwrap();
    }
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/good.py"), "# @asset Shop.Api\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("usr")).unwrap();
    let mut server = StdioServer::start(dir.path(), Some(dir.path()), &[]);
    // The watcher is set up before indexing starts; indexing ends with this log message.
    server.wait_for(|m| {
        m["method"] == "window/logMessage"
            && m["params"]["message"].as_str().is_some_and(|t| t.contains("threat-analyzer: indexed"))
    });
    let watches = inotify_watches(server.child.id());
    let status = server.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"}));
    let stderr = server.stop();
    assert!(stderr.contains("watching 1 workspace folder"), "the watcher runs: {stderr}");
    // The workspace folder and `src`; nothing behind the link.
    assert_eq!(watches, 2, "inotify watches");
    assert_eq!(status["result"]["files_with_annotations"], 1, "{status}");
}
