//! The built binary as editors run it: LSP over stdio, with `--stdio` appended as
//! vscode-languageclient does, `shutdown` with `params: null` as eglot sends it, and `exit`
//! while stdin stays open (as Helix and test harnesses keep it).
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_threat-analyzer");

fn send(stdin: &mut ChildStdin, message: &Value) {
    let body = message.to_string();
    write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    stdin.flush().unwrap();
}

/// Reads frames on a thread so the test can wait with a hang guard.
fn reader(stdout: ChildStdout) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        loop {
            let mut length = 0;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.strip_prefix("Content-Length: ") {
                    length = v.parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            if r.read_exact(&mut body).is_err() {
                return;
            }
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        }
    });
    rx
}

fn wait_for(rx: &mpsc::Receiver<Value>, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let m = rx.recv_timeout(left).expect("message within the hang guard");
        if pred(&m) {
            return m;
        }
    }
}

fn wait_exit(child: &mut Child) -> (std::process::ExitStatus, Duration) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, start.elapsed());
        }
        assert!(start.elapsed() < Duration::from_secs(20), "server did not exit after `exit`");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn stdio_session_with_stdin_left_open() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.py"), "# @threat T (#t) [high]\n# @exposes App to #t\n").unwrap();
    let mut child = Command::new(BIN)
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
        let mut child = Command::new(BIN)
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
