//! The built binary as editors run it: LSP over stdio, with `--stdio` appended as
//! vscode-languageclient does, `shutdown` with `params: null` as eglot sends it, and `exit`
//! while stdin stays open (as Helix and test harnesses keep it).
#[path = "stdio_support.rs"]
mod stdio;
use serde_json::json;
use std::process::{Command, Stdio};
use stdio::*;

#[test]
fn stdio_session_with_stdin_left_open() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.py"), "# @threat T (#t) [high]\n# @exposes App to #t\n").unwrap();
    let mut child = Command::new(bin())
        .arg("--stdio")
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let rx = reader(child.stdout.take().unwrap());
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
        let mut child = Command::new(bin())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let rx = reader(child.stdout.take().unwrap());
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
