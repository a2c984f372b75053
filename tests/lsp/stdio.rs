//! The built binary as editors run it: LSP over stdio, with `--stdio` appended as
//! vscode-languageclient does, `shutdown` with `params: null` as eglot sends it, `shutdown` and
//! `exit` without `params` as Helix sends them, and `exit` while stdin stays open (as Helix and
//! test harnesses keep it).
use crate::stdio_support as stdio;
use serde_json::{Value, json};
use std::io::Read;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
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

/// The index cache file in `dir`, which must be there: the server writes it on a thread of its
/// own after indexing, and `shutdown` waits for that write (a server stopped right after its
/// first index used to exit first under load, leaving no cache).
fn cache_file(dir: &std::path::Path) -> std::path::PathBuf {
    let files = cache_files(dir);
    files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "idx"))
        .cloned()
        .unwrap_or_else(|| panic!("no index cache written to {}: {files:?}", dir.display()))
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
    let file = cache_file(&cache);

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

/// A project of `files` Python files, each defining threat `Threat <i>` (`#t<i>`) and exposing
/// `App` to `#shared`, which `shared.py` defines.
fn many_file_workspace(files: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("shared.py"), "# @threat Shared (#shared) [high]\n").unwrap();
    for i in 0..files {
        std::fs::write(
            dir.path().join(format!("f{i:02}.py")),
            format!("# @threat Threat {i} (#t{i}) [low]\n# @exposes App to #shared -- \"f{i}\"\n"),
        )
        .unwrap();
    }
    dir
}

/// `workspace/symbol` and references sent right after `initialized` wait for the first index
/// (here held back by the debug-build delay hook) and answer from the whole project, while a
/// per-document request on an open document is answered without waiting for it.
#[test]
fn whole_project_requests_sent_right_after_initialized_wait_for_the_first_index() {
    const FILES: usize = 20;
    let dir = many_file_workspace(FILES);
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let env = [("THREAT_ANALYZER_TEST_INDEX_DELAY_MS", "1500"), ("THREAT_ANALYZER_CACHE_DIR", cache_dir)];
    let mut server = StdioServer::start(dir.path(), Some(dir.path()), &env);
    let shared = dir.path().join("shared.py");
    let uri = tower_lsp_server::ls_types::Uri::from_file_path(&shared).unwrap().as_str().to_string();
    let text = std::fs::read_to_string(&shared).unwrap();
    let request = |server: &mut StdioServer, id: i64, method: &str, params: Value| {
        send(&mut server.stdin, &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
    };
    request(&mut server, 101, "workspace/symbol", json!({"query": "Threat"}));
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
    );
    // On `#shared` in `(#shared)`.
    let at_shared = json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 20},
                           "context": {"includeDeclaration": true}});
    request(&mut server, 102, "textDocument/references", at_shared);
    request(&mut server, 103, "textDocument/documentSymbol", json!({"textDocument": {"uri": uri}}));
    let mut answered = Vec::new();
    let mut results = std::collections::HashMap::new();
    while answered.len() < 3 {
        let m = server.wait_for(|m| m.get("method").is_none() && m["id"].as_i64().is_some_and(|id| id > 100));
        let id = m["id"].as_i64().unwrap();
        answered.push(id);
        results.insert(id, m["result"].clone());
    }
    let symbols = results[&101].as_array().unwrap_or_else(|| panic!("{:?}", results[&101]));
    let mut names: Vec<&str> = symbols.iter().filter_map(|s| s["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names.len(), FILES, "every file's threat, not what was indexed so far: {names:?}");
    let references = results[&102].as_array().unwrap_or_else(|| panic!("{:?}", results[&102]));
    assert_eq!(references.len(), FILES + 1, "the definition and every file's use: {references:?}");
    assert!(results[&103].as_array().is_some_and(|s| !s.is_empty()), "{:?}", results[&103]);
    // The open document's own request did not wait behind the whole-project ones.
    assert_eq!(answered.first(), Some(&103), "answer order: {answered:?}");
    let status = server.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"}));
    assert_eq!(status["result"]["files_scanned"], FILES + 1, "{status}");
    // A settings change that selects other files forgets the disk files and indexes again:
    // whole-project requests wait for that run too.
    server.notify("workspace/didChangeConfiguration", json!({"settings": {"exclude": ["f00.py"]}}));
    let symbols = server.request("workspace/symbol", json!({"query": "Threat"}));
    let symbols = symbols["result"].as_array().unwrap_or_else(|| panic!("{symbols}"));
    assert_eq!(symbols.len(), FILES - 1, "every file but the excluded one: {symbols:?}");
    server.stop();
}

/// The wait is bounded: while the first index is held back past the bound, whole-project
/// requests are answered from what is indexed so far, and the log says why; a request past the
/// number allowed to wait at once is answered without waiting, so requests waiting for the
/// index never take every one of the server's handler slots.
#[test]
fn whole_project_requests_stop_waiting_at_the_bound_and_say_why() {
    let dir = many_file_workspace(2);
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let env = [("THREAT_ANALYZER_TEST_INDEX_DELAY_MS", "60000"), ("THREAT_ANALYZER_CACHE_DIR", cache_dir)];
    let mut server = StdioServer::start(dir.path(), Some(dir.path()), &env);
    for id in 201..=203 {
        send(
            &mut server.stdin,
            &json!({"jsonrpc": "2.0", "id": id, "method": "workspace/symbol", "params": {"query": ""}}),
        );
    }
    let mut answered = Vec::new();
    while answered.len() < 3 {
        let m = server.wait_for(|m| m.get("method").is_none() && m["id"].as_i64().is_some_and(|id| id > 200));
        assert_eq!(m["result"], json!([]), "nothing is indexed yet: {m}");
        answered.push(m["id"].as_i64().unwrap());
    }
    assert_eq!(answered[0], 203, "the third request does not wait: {answered:?}");
    // Both waiting requests were answered, so both log lines were written (before their
    // answers); the collector may still be reading them.
    let log = server.stderr_when(|log| log.matches("workspace indexing still runs after 5 s").count() >= 2);
    assert!(log.contains("2 requests already wait for indexing"), "{log}");
    assert_eq!(log.matches("workspace indexing still runs after 5 s").count(), 2, "{log}");
    server.notify("exit", Value::Null);
    let (status, _) = wait_exit(&mut server.child);
    assert!(status.success(), "{status:?}");
}

/// The server counts and reads the files `check` does: `.txt` files found by the walk alone
/// (`requirements.txt`, design notes no configuration names) are not annotation documents, in
/// the status command's `files_scanned` as in `check`'s summary, and not when opened either.
#[test]
fn plain_text_files_are_counted_and_read_as_check_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("app.py"), "# @threat T (#t) [high]\n# @exposes App to #t\n").unwrap();
    std::fs::write(d.join("requirements.txt"), "flask==3.0\n").unwrap();
    std::fs::create_dir(d.join("docs")).unwrap();
    let notes = d.join("docs/design.txt");
    let notes_text = "@threat Spoofing (#spoof) [high]\n";
    std::fs::write(&notes, notes_text).unwrap();
    let cli =
        Command::new(bin()).args(["check", "--format", "json", "--no-cache", "."]).current_dir(d).output();
    let cli: Value = serde_json::from_slice(&cli.unwrap().stdout).unwrap();
    assert_eq!(cli["summary"]["files_scanned"], 1, "{cli}");
    let cache = tempfile::tempdir().unwrap();
    let mut server =
        StdioServer::start(d, Some(d), &[("THREAT_ANALYZER_CACHE_DIR", cache.path().to_str().unwrap())]);
    let status = server.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"}));
    assert_eq!(status["result"]["files_scanned"], cli["summary"]["files_scanned"], "{status}");
    assert_eq!(
        status["result"]["files_with_annotations"], cli["summary"]["files_with_annotations"],
        "{status}"
    );
    let uri = tower_lsp_server::ls_types::Uri::from_file_path(&notes).unwrap().as_str().to_string();
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "plaintext", "version": 1, "text": notes_text}}),
    );
    let symbols = server.request("workspace/symbol", json!({"query": "Spoofing"}));
    assert_eq!(symbols["result"], json!([]), "{symbols}");
    let log = server.stop();
    assert!(log.contains("open document not analysed"), "{log}");
    // The notes the walk left out hold annotation-like text: the user is told (a warning).
    assert!(log.contains("1 plain-text file holds annotation-like text but not read"), "{log}");
}
