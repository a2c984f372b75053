//! The built binary as editors run it: LSP over stdio, with `--stdio` appended as
//! vscode-languageclient does, `shutdown` with `params: null` as eglot sends it, `shutdown` and
//! `exit` without `params` as Helix sends them, and `exit` while stdin stays open (as Helix and
//! test harnesses keep it).
#[path = "stdio_support.rs"]
mod stdio;
use serde_json::{Value, json};
use std::io::Read;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use stdio::*;

/// [`wait_for`], answering every request the server makes with `null`, as an editor does.
fn wait_answering(
    stdin: &mut ChildStdin,
    rx: &mpsc::Receiver<Value>,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    wait_for(rx, |m| {
        if let (Some(_), Some(id)) = (m.get("method"), m.get("id")) {
            send(stdin, &json!({"jsonrpc": "2.0", "id": id, "result": null}));
        }
        pred(m)
    })
}

/// A project with one unmitigated exposure, in `a.py`.
fn exposed_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.py"), "# @threat T (#t) [high]\n# @exposes App to #t\n").unwrap();
    dir
}

/// The server with `args`, in `dir`: the process, its stdin, and its messages.
fn start(dir: &std::path::Path, args: &[&str]) -> (Child, ChildStdin, mpsc::Receiver<Value>) {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let rx = reader(child.stdout.take().unwrap());
    (child, stdin, rx)
}

#[test]
fn stdio_session_with_stdin_left_open() {
    let dir = exposed_workspace();
    let (mut child, mut stdin, rx) = start(dir.path(), &["--stdio"]);
    let uri = tower_lsp_server::ls_types::Uri::from_file_path(dir.path()).unwrap().as_str().to_string();
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"processId": null, "rootUri": uri, "capabilities": {}}}),
    );
    let init = wait_for(&rx, |m| m["id"] == 1);
    assert_eq!(init["result"]["serverInfo"]["name"], "threat-analyzer");
    send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    let diags = wait_for(&rx, |m| m["method"] == "textDocument/publishDiagnostics");
    assert_eq!(diags["params"]["diagnostics"][0]["code"], "unmitigated-exposure");
    send(&mut stdin, &json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}));
    let shutdown = wait_for(&rx, |m| m["id"] == 2);
    assert!(shutdown.get("error").is_none(), "{shutdown}");
    send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "exit"}));
    // stdin stays open (still held here) while the server must exit on its own.
    let (status, took) = wait_exit(&mut child);
    assert!(status.success(), "{status:?}");
    eprintln!("exited {took:?} after `exit` with stdin open");
    drop(stdin);
}

#[test]
fn lsp_subcommand_and_no_arguments_serve_lsp_and_end_on_eof() {
    for args in [&["lsp"][..], &[][..]] {
        let (mut child, mut stdin, rx) = start(&std::env::current_dir().unwrap(), args);
        send(
            &mut stdin,
            &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
        );
        let init = wait_for(&rx, |m| m["id"] == 1);
        assert!(init["result"]["capabilities"].is_object(), "{args:?}: {init}");
        drop(stdin); // EOF: the client is gone
        let (_, _) = wait_exit(&mut child);
    }
}

/// What Helix 25.07 offers in `initialize` (helix-lsp/src/client.rs), as far as the server reads
/// it: dynamic registration of file watching (which Helix then feeds only with its own saves),
/// progress, versioned workspace edits, UTF-8 first, and no pull diagnostics.
fn helix_initialize(root_uri: &str) -> Value {
    json!({
        "processId": std::process::id(),
        "rootUri": root_uri,
        "workspaceFolders": [{"uri": root_uri, "name": "root"}],
        "clientInfo": {"name": "helix", "version": "25.7.1"},
        "capabilities": {
            "workspace": {
                "configuration": true,
                "didChangeConfiguration": {"dynamicRegistration": false},
                "workspaceFolders": true,
                "applyEdit": true,
                "executeCommand": {"dynamicRegistration": false},
                "workspaceEdit": {"documentChanges": true},
                "didChangeWatchedFiles": {"dynamicRegistration": true, "relativePatternSupport": false}
            },
            "textDocument": {
                "publishDiagnostics": {"versionSupport": true, "tagSupport": {"valueSet": [1, 2]}},
                "rename": {"dynamicRegistration": false, "prepareSupport": true}
            },
            "window": {"workDoneProgress": true},
            "general": {"positionEncodings": ["utf-8", "utf-32", "utf-16"]}
        }
    })
}

#[test]
fn helix_session_sees_changes_on_disk_it_did_not_save_and_exits_with_stdin_open() {
    let dir = exposed_workspace();
    let (mut child, mut stdin, rx) = start(dir.path(), &[]);
    let a_uri = tower_lsp_server::ls_types::Uri::from_file_path(dir.path().join("a.py")).unwrap();
    let root_uri = tower_lsp_server::ls_types::Uri::from_file_path(dir.path()).unwrap();
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": helix_initialize(root_uri.as_str())}),
    );
    let init = wait_for(&rx, |m| m["id"] == 1);
    assert_eq!(init["result"]["capabilities"]["positionEncoding"], "utf-8");
    assert!(init["result"]["capabilities"].get("diagnosticProvider").is_none(), "{init}");
    send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    let is_a =
        |m: &Value| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == a_uri.as_str();
    let first = wait_answering(&mut stdin, &rx, is_a);
    assert_eq!(first["params"]["diagnostics"][0]["code"], "unmitigated-exposure");
    // Written by another program: Helix would send no didChangeWatchedFiles for it.
    std::fs::write(dir.path().join("b.py"), "# @control C (#c)\n# @mitigates App against #t using #c\n")
        .unwrap();
    let cleared = wait_answering(&mut stdin, &rx, |m| is_a(m) && m["params"]["diagnostics"] == json!([]));
    assert_eq!(cleared["params"]["uri"], a_uri.as_str());
    // Helix sends `shutdown` and `exit` without a `params` member.
    send(&mut stdin, &json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}));
    let shutdown = wait_answering(&mut stdin, &rx, |m| m["id"] == 2 && m.get("method").is_none());
    assert!(shutdown.get("error").is_none(), "{shutdown}");
    send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "exit"}));
    let (status, _) = wait_exit(&mut child);
    assert!(status.success(), "{status:?}");
    drop(stdin);
}

/// One server session over stdio in `root` with the index cache in `cache`: initialize (with
/// `options`), wait for `a.py`'s diagnostics, optionally change a file on disk and wait for the
/// server to see it, then shutdown and exit. Returns `a.py`'s diagnostics and the log.
fn cache_session(
    root: &std::path::Path,
    cache: &std::path::Path,
    options: Value,
    edit: bool,
) -> (Value, String) {
    let mut child = Command::new(bin())
        .current_dir(root)
        .env("THREAT_ANALYZER_CACHE_DIR", cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let rx = reader(child.stdout.take().unwrap());
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let uri = |p: &std::path::Path| {
        tower_lsp_server::ls_types::Uri::from_file_path(p).unwrap().as_str().to_string()
    };
    let root_uri = uri(root);
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null,
            "rootUri": root_uri, "capabilities": {}, "initializationOptions": options}}),
    );
    wait_for(&rx, |m| m["id"] == 1);
    send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    let a = uri(&root.join("a.py"));
    let diags =
        wait_for(&rx, |m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == a);
    if edit {
        // The server's own watcher sees this (the client registers no file events).
        std::fs::write(root.join("b.py"), "# @exposes Other to #t\n").unwrap();
        let b = uri(&root.join("b.py"));
        wait_for(&rx, |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == b
                && m["params"]["diagnostics"].as_array().is_some_and(|d| !d.is_empty())
        });
    }
    send(&mut stdin, &json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}));
    wait_for(&rx, |m| m["id"] == 2);
    send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "exit"}));
    let (status, _) = wait_exit(&mut child);
    assert!(status.success(), "{status:?}");
    drop(stdin);
    (diags["params"]["diagnostics"].clone(), log.join().unwrap())
}

fn cache_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default()
}

/// Waits (with a hang guard, not a timing assertion) until `dir` holds a cache file: the
/// server writes it on a thread of its own after indexing.
fn wait_for_cache_file(dir: &std::path::Path) -> std::path::PathBuf {
    let start = Instant::now();
    loop {
        if let Some(f) = cache_files(dir).into_iter().find(|f| f.extension().is_some_and(|e| e == "idx")) {
            return f;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no index cache written to {}", dir.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_server_writes_reuses_and_refreshes_the_index_cache() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("a.py"), "# @threat T (#t) [high]\n# @exposes App to #t\n").unwrap();
    std::fs::write(root.join("b.py"), "def plain():\n    return 1\n").unwrap();
    let cache = dir.path().join("cache");

    let (cold, log) = cache_session(&root, &cache, Value::Null, false);
    assert_eq!(cold[0]["code"], "unmitigated-exposure", "{cold}");
    assert!(log.contains("0 answered by the index cache"), "{log}");
    let file = wait_for_cache_file(&cache);

    let (warm, log) = cache_session(&root, &cache, Value::Null, false);
    assert_eq!(warm, cold);
    assert!(log.contains("2 answered by the index cache"), "{log}");

    // A change on disk while the server runs is written to the cache at shutdown.
    let before = std::fs::read(&file).unwrap();
    cache_session(&root, &cache, Value::Null, true);
    assert_ne!(std::fs::read(&file).unwrap(), before, "the cache was not refreshed at shutdown");
    let (_, log) = cache_session(&root, &cache, Value::Null, false);
    assert!(log.contains("2 answered by the index cache"), "{log}");

    // `cache: false`: neither read nor written.
    let off = dir.path().join("cache-off");
    let (diags, log) = cache_session(&root, &off, json!({"cache": false}), false);
    assert_eq!(diags, cold);
    assert!(log.contains("0 answered by the index cache"), "{log}");
    assert!(cache_files(&off).is_empty(), "{:?}", cache_files(&off));
}
