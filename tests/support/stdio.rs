//! Helpers for tests that run the built binary as a language server over standard
//! input/output (included with `#[path]`; no tests of its own).
#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The binary under test: `CARGO_BIN_EXE_threat-analyzer`, or the copy named by
/// `THREAT_ANALYZER_TEST_BIN` (see `support/cli.rs`, `bin`).
pub fn bin() -> String {
    std::env::var("THREAT_ANALYZER_TEST_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_threat-analyzer").to_string())
}

pub fn send(stdin: &mut ChildStdin, message: &Value) {
    let body = message.to_string();
    write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    stdin.flush().unwrap();
}

/// Reads frames on a thread so the test can wait with a hang guard.
pub fn reader(stdout: ChildStdout) -> mpsc::Receiver<Value> {
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

pub fn wait_for(rx: &mpsc::Receiver<Value>, mut pred: impl FnMut(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let m = rx.recv_timeout(left).expect("message within the hang guard");
        if pred(&m) {
            return m;
        }
    }
}

pub fn wait_exit(child: &mut Child) -> (std::process::ExitStatus, Duration) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, start.elapsed());
        }
        assert!(start.elapsed() < Duration::from_secs(20), "server did not exit after `exit`");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// What a child's standard error wrote, collected on a thread of its own.
pub struct Collected {
    text: std::sync::Arc<std::sync::Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Collected {
    /// What was read so far (the process may still be writing).
    pub fn so_far(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// Everything, once the process has exited: waits for the reader to reach the end of the
    /// pipe, since it may still be reading the last lines after the exit was seen.
    pub fn all(&mut self) -> String {
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        self.so_far()
    }
}

/// Collects what `stream` (a child's standard error) writes, on a thread of its own.
pub fn collect(mut stream: impl Read + Send + 'static) -> Collected {
    let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = text.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    Collected { text, reader: Some(reader) }
}

/// A language server process with its input, its messages, and its standard error.
pub struct StdioServer {
    pub child: Child,
    pub stdin: ChildStdin,
    pub rx: mpsc::Receiver<Value>,
    stderr: Collected,
    next_id: i64,
}

impl StdioServer {
    /// Starts `threat-analyzer --stdio` in `cwd` with `env`, and initializes it with `root`
    /// as the workspace (`rootUri` null when `None`).
    pub fn start(cwd: &std::path::Path, root: Option<&std::path::Path>, env: &[(&str, &str)]) -> StdioServer {
        StdioServer::start_wrapped(cwd, root, env, &[])
    }

    /// [`StdioServer::start`] with the server run by `wrapper` (a program and its arguments,
    /// e.g. `strace -o LOG`), when not empty.
    pub fn start_wrapped(
        cwd: &std::path::Path,
        root: Option<&std::path::Path>,
        env: &[(&str, &str)],
        wrapper: &[String],
    ) -> StdioServer {
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(bin());
                c
            }
            None => Command::new(bin()),
        };
        command
            .arg("--stdio")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let rx = reader(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        let mut server = StdioServer { child, stdin, rx, stderr, next_id: 1 };
        let uri =
            root.map(|r| tower_lsp_server::ls_types::Uri::from_file_path(r).unwrap().as_str().to_string());
        let folders = uri.as_ref().map(|u| json!([{"uri": u, "name": "root"}])).unwrap_or(Value::Null);
        let init = server.request(
            "initialize",
            json!({"processId": null, "rootUri": uri, "workspaceFolders": folders, "capabilities": {}}),
        );
        assert!(init["result"]["capabilities"].is_object(), "{init}");
        server.notify("initialized", json!({}));
        server
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        send(&mut self.stdin, &json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its response (result or error).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        send(&mut self.stdin, &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        wait_for(&self.rx, |m| m["id"] == id && m.get("method").is_none())
    }

    /// Writes raw bytes to the server's input.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next notification (or server request) satisfying `pred`.
    pub fn wait_for(&self, pred: impl Fn(&Value) -> bool) -> Value {
        wait_for(&self.rx, pred)
    }

    /// A field of `/proc/<pid>/status` in KiB (`VmRSS`: resident now, `VmHWM`: peak).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line =
            status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("{field} in {status}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// What the server wrote to standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr.so_far()
    }

    /// Standard error once `pred` holds of it: the server writes a log line before the answer
    /// it goes with, but the thread that collects standard error may read it after the answer
    /// arrived. Fails at the hang guard (30 s) with what was written.
    pub fn stderr_when(&self, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = self.stderr();
            if pred(&log) {
                return log;
            }
            assert!(Instant::now() < deadline, "standard error never got there: {log}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `shutdown` and `exit`; waits for the process to end and returns its standard error.
    pub fn stop(mut self) -> String {
        let response = self.request("shutdown", Value::Null);
        assert!(response.get("error").is_none(), "{response}");
        self.notify("exit", Value::Null);
        let (status, _) = wait_exit(&mut self.child);
        assert!(status.success(), "{status:?}");
        self.stderr.all()
    }
}
