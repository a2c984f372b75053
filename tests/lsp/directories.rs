//! Directories changing on disk: a directory created, moved or copied in (or checked out) is
//! read again whole by the walk's rules, whether our own watcher or the client's file events
//! report it; a deleted directory is forgotten; a change naming the workspace folder itself
//! (our watcher's queue overflowed) indexes the folder again.
use crate::lsp_support;
use lsp_support::*;
use serde_json::{Value, json};
use std::fs;
use std::path::Path;
use std::time::Duration;

const DEFS: &str = "# @threat SQL Injection (#sqli) [high]\n# @control Prepared statements (#prepared)\n";
const EXPOSED: &str = "def search(q):\n    # @exposes Shop.Orders to #sqli\n    return q\n";

/// Generous guard against a hang while waiting for the index to reach a count (not a timing
/// assertion: under load it may take seconds).
const COUNT_GUARD: Duration = Duration::from_secs(60);

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

async fn indexed_files(client: &mut TestClient) -> u64 {
    let status =
        client.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"})).await;
    status["files_with_annotations"].as_u64().unwrap()
}

/// Asks for the status until the index holds `n` annotated files; panics with the last count
/// after [`COUNT_GUARD`].
async fn until_indexed(client: &mut TestClient, n: u64) {
    let started = std::time::Instant::now();
    loop {
        let count = indexed_files(client).await;
        if count == n {
            return;
        }
        assert!(started.elapsed() < COUNT_GUARD, "the index holds {count} annotated files, not {n}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A directory's worth of files the walk must not read, next to two it must: a directory an
/// ignore file of the folder names, a hidden directory, a file an ignore file inside the new
/// directory names, a link to a file outside, and a plain-text file nothing names.
fn populate(dir: &Path, outside: &Path) {
    write(&dir.join("api/a.py"), EXPOSED);
    write(&dir.join("api/deep/b.py"), EXPOSED);
    write(&dir.join("generated/g.py"), EXPOSED);
    write(&dir.join(".hidden/h.py"), EXPOSED);
    write(&dir.join("api/.gitignore"), "skip.py\n");
    write(&dir.join("api/skip.py"), EXPOSED);
    write(&dir.join("notes.txt"), "@exposes Shop.Orders to #sqli\n");
    write(&outside.join("target.py"), EXPOSED);
    std::os::unix::fs::symlink(outside.join("target.py"), dir.join("api/link.py")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_moved_in_is_read_whole_by_the_walks_rules_and_forgotten_when_deleted() {
    let ws = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir_in(ws.path().parent().unwrap()).unwrap();
    write(&ws.path().join("defs.py"), DEFS);
    write(&ws.path().join(".gitignore"), "generated/\n");
    // No client file events: the server watches the disk itself (Neovim on Linux).
    let (mut client, _) = TestClient::start(ws.path(), json!({}), Value::Null).await;
    until_indexed(&mut client, 1).await;

    // A rename into the folder is one event for the directory: no file in it is named.
    let staged = elsewhere.path().join("new");
    populate(&staged, &elsewhere.path().join("outside"));
    fs::rename(&staged, ws.path().join("new")).unwrap();
    until_indexed(&mut client, 3).await;
    let a = file_uri(&ws.path().join("new/api/a.py"));
    assert_eq!(codes(&client.diagnostics_for(&a, |d| !d.is_empty()).await), ["unmitigated-exposure"]);

    // Batches are applied in order: once a later directory is in, nothing the walk leaves out
    // of the first came in after the count was reached.
    let later = elsewhere.path().join("later");
    write(&later.join("last.py"), EXPOSED);
    fs::rename(&later, ws.path().join("later")).unwrap();
    until_indexed(&mut client, 4).await;
    let published: Vec<&str> = client
        .notifications
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics")
        .filter_map(|m| m["params"]["uri"].as_str())
        .collect();
    for left_out in ["generated/g.py", ".hidden/h.py", "api/skip.py", "api/link.py", "notes.txt"] {
        let uri = file_uri(&ws.path().join("new").join(left_out));
        assert!(!published.contains(&uri.as_str()), "{left_out} was read");
    }

    fs::remove_dir_all(ws.path().join("new")).unwrap();
    until_indexed(&mut client, 2).await;
    assert!(client.diagnostics_for(&a, |d| d.is_empty()).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_files_in_new_directories_is_indexed_by_our_own_watcher() {
    let ws = tempfile::tempdir().unwrap();
    write(&ws.path().join("defs.py"), DEFS);
    let (mut client, _) = TestClient::start(ws.path(), json!({}), Value::Null).await;
    until_indexed(&mut client, 1).await;
    // Created in place, as fast as the disk allows: most files exist before the watch on
    // their new directory does.
    for d in 0..50 {
        for f in 0..20 {
            write(&ws.path().join(format!("pkg{d}/sub/m{f}.py")), EXPOSED);
        }
    }
    until_indexed(&mut client, 1001).await;
}

fn changes(events: &[(&Path, u8)]) -> Value {
    let changes: Vec<Value> =
        events.iter().map(|(p, kind)| json!({"uri": file_uri(p), "type": kind})).collect();
    json!({"changes": changes})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_events_for_directories_read_their_subtrees_and_the_folder_reads_everything() {
    let ws = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    write(&ws.path().join("defs.py"), DEFS);
    write(&ws.path().join(".gitignore"), "generated/\n");
    // The client reports file changes (VS Code): the server does not watch the disk.
    let caps = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let (mut client, _) = TestClient::start(ws.path(), caps, Value::Null).await;
    until_indexed(&mut client, 1).await;

    // A folder copied in: the client names the folder only.
    let new = ws.path().join("new");
    populate(&new, &elsewhere.path().join("outside"));
    client.notify("workspace/didChangeWatchedFiles", changes(&[(&new, 1)])).await;
    until_indexed(&mut client, 3).await;

    // A burst: a thousand files in forty new directories, named by their directories and
    // some by themselves too (both arrive in one batch; each file is read once).
    let mut events = Vec::new();
    for d in 0..40 {
        let dir = ws.path().join(format!("burst/pkg{d}"));
        for f in 0..25 {
            write(&dir.join(format!("m{f}.py")), EXPOSED);
        }
        events.push((dir.clone(), 1));
        events.push((dir.join("m0.py"), 1));
    }
    let events: Vec<(&Path, u8)> = events.iter().map(|(p, k)| (p.as_path(), *k)).collect();
    client.notify("workspace/didChangeWatchedFiles", changes(&events)).await;
    until_indexed(&mut client, 1003).await;

    // A deleted directory: everything under it goes.
    fs::remove_dir_all(ws.path().join("burst/pkg3")).unwrap();
    client.notify("workspace/didChangeWatchedFiles", changes(&[(&ws.path().join("burst/pkg3"), 3)])).await;
    until_indexed(&mut client, 978).await;

    // A change naming the folder itself (as our watcher reports a lost event queue): the
    // folder is indexed again, and a file nothing named is found.
    write(&ws.path().join("unnamed/u.py"), EXPOSED);
    write(&ws.path().join("generated/g.py"), EXPOSED);
    client.notify("workspace/didChangeWatchedFiles", changes(&[(ws.path(), 2)])).await;
    until_indexed(&mut client, 979).await;
    let u = file_uri(&ws.path().join("unnamed/u.py"));
    assert_eq!(codes(&client.diagnostics_for(&u, |d| !d.is_empty()).await), ["unmitigated-exposure"]);
}
