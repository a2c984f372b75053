//! Helpers for the tests that run `threat-analyzer mcp` over standard input/output with raw
//! JSON-RPC lines (included with `#[path]` as `mcp`, beside `support/stdio.rs` as `stdio`; no
//! tests of its own).
#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The hang guard for one answer (not a timing assertion: a loaded machine is slow, a hung
/// server never answers).
const HANG_GUARD: Duration = Duration::from_secs(60);

/// An MCP server process, its input, and its output lines as JSON.
pub struct McpServer {
    pub child: Child,
    stdin: Option<ChildStdin>,
    rx: mpsc::Receiver<Value>,
    stderr: super::stdio::Collected,
    next_id: i64,
    /// The initialize result.
    pub initialized: Value,
}

impl McpServer {
    /// Starts `threat-analyzer mcp --no-cache` in `root` (run by `wrapper`, e.g. `strace -o
    /// LOG`, when not empty) and initializes it.
    pub fn start(root: &Path, wrapper: &[String]) -> McpServer {
        McpServer::start_with(root, wrapper, &["--no-cache"], "2025-06-18", &[])
    }

    /// [`McpServer::start`] with other arguments and environment, asking for protocol version
    /// `version`.
    pub fn start_with(
        root: &Path,
        wrapper: &[String],
        args: &[&str],
        version: &str,
        env: &[(&str, &str)],
    ) -> McpServer {
        let bin = std::env::var("THREAT_ANALYZER_TEST_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_threat-analyzer").to_string());
        let mut command = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        command
            .arg("mcp")
            .args(args)
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let value: Value =
                    serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        let stderr = super::stdio::collect(child.stderr.take().unwrap());
        let mut server = McpServer { child, stdin, rx, stderr, next_id: 1, initialized: Value::Null };
        let init = server.request(
            "initialize",
            json!({"protocolVersion": version, "capabilities": {},
                   "clientInfo": {"name": "threat-analyzer-tests", "version": "1"}}),
        );
        server.initialized = init["result"].clone();
        assert!(server.initialized["capabilities"]["tools"].is_object(), "{init}");
        server.notify("notifications/initialized", json!({}));
        server
    }

    pub fn send_line(&mut self, message: &Value) {
        let stdin = self.stdin.as_mut().expect("standard input is open");
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send_line(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its response (result or error); notifications on the way
    /// are collected in `seen`.
    pub fn request_seeing(&mut self, method: &str, params: Value, seen: &mut Vec<Value>) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send_line(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + HANG_GUARD;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self.rx.recv_timeout(left).unwrap_or_else(|_| {
                panic!("no answer to {method} within the hang guard; stderr: {}", self.stderr())
            });
            if message["id"] == id && message.get("method").is_none() {
                return message;
            }
            seen.push(message);
        }
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.request_seeing(method, params, &mut Vec::new())
    }

    /// Calls a tool; returns its structured content (failing on a protocol or tool error).
    pub fn tool(&mut self, name: &str, arguments: Value) -> Value {
        let response = self.request("tools/call", json!({"name": name, "arguments": arguments}));
        let result = &response["result"];
        assert_eq!(result["isError"], json!(false), "{response}");
        // The text content is the same JSON, for clients without structured output.
        let text = result["content"][0]["text"].as_str().unwrap_or_else(|| panic!("{response}"));
        assert_eq!(serde_json::from_str::<Value>(text).unwrap(), result["structuredContent"]);
        result["structuredContent"].clone()
    }

    /// Closes standard input and waits for the process to end.
    pub fn close(mut self) -> (std::process::ExitStatus, String) {
        drop(self.stdin.take());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, self.stderr.all());
            }
            assert!(start.elapsed() < HANG_GUARD, "the server did not end after end of input");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.so_far()
    }
}

impl Drop for McpServer {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A copy of `examples/webshop` in a new temporary directory.
pub fn webshop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/webshop"), dir.path());
    dir
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every string of `value` that is not inside an object marked `"source": "repository"`, with
/// its object keys.
pub fn strings_outside_data(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings_outside_data(v, out)),
        Value::Object(map) => {
            if map.get("source") == Some(&json!("repository")) {
                return;
            }
            for (k, v) in map {
                out.push(k.clone());
                strings_outside_data(v, out);
            }
        }
        _ => {}
    }
}
