//! An in-process LSP client over `tokio::io::duplex`: real JSON-RPC framing against the real
//! server, without a process. Server-to-client requests (`window/workDoneProgress/create`,
//! `client/registerCapability`) are answered with `null`; notifications are kept in order.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf};

pub struct TestClient {
    reader: BufReader<ReadHalf<DuplexStream>>,
    writer: WriteHalf<DuplexStream>,
    next_id: i64,
    pub notifications: Vec<Value>,
}

/// Generous guard against a hang (not a timing assertion).
const HANG_GUARD: Duration = Duration::from_secs(30);

impl TestClient {
    /// Starts a server and completes `initialize`/`initialized` with `root` as the workspace.
    pub async fn start(root: &Path, capabilities: Value, options: Value) -> (TestClient, Value) {
        let mut client = TestClient::connect();
        let result = client.initialize(root, capabilities, options).await;
        (client, result)
    }

    /// Starts a server without initializing it.
    pub fn connect() -> TestClient {
        let (client_io, server_io) = tokio::io::duplex(1 << 20);
        let (server_read, server_write) = tokio::io::split(server_io);
        tokio::spawn(threat_analyzer::lsp::serve(server_read, server_write));
        let (read, write) = tokio::io::split(client_io);
        TestClient { reader: BufReader::new(read), writer: write, next_id: 1, notifications: Vec::new() }
    }

    /// Sends `initialize` (with `root` as the workspace) and `initialized`; returns the result.
    pub async fn initialize(&mut self, root: &Path, capabilities: Value, options: Value) -> Value {
        let uri = file_uri(root);
        let result = self
            .request(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": uri,
                    "workspaceFolders": [{"uri": uri, "name": "root"}],
                    "capabilities": capabilities,
                    "initializationOptions": options,
                }),
            )
            .await;
        self.notify("initialized", json!({})).await;
        result
    }

    /// Writes raw bytes (a frame of the test's own making, well-formed or not).
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
        self.writer.flush().await.unwrap();
    }

    /// Reads messages until the response with `id` arrives (other messages are kept).
    pub async fn response(&mut self, id: Value) -> Value {
        loop {
            let message = self.read().await;
            if message.get("id") == Some(&id) && message.get("method").is_none() {
                return message;
            }
            self.handle(message).await;
        }
    }

    pub async fn send(&mut self, message: Value) {
        let body = serde_json::to_string(&message).unwrap();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.writer.write_all(frame.as_bytes()).await.unwrap();
        self.writer.flush().await.unwrap();
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params})).await;
    }

    /// Sends a request and returns its `result` (panics on an error response).
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params).await;
        if let Some(error) = response.get("error") {
            panic!("{method} failed: {error}");
        }
        response["result"].clone()
    }

    /// Sends a request and returns the whole response (result or error).
    pub async fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await;
        self.response(json!(id)).await
    }

    async fn handle(&mut self, message: Value) {
        if message.get("method").is_some() && message.get("id").is_some() {
            // A request from the server: acknowledge it.
            let id = message["id"].clone();
            self.send(json!({"jsonrpc": "2.0", "id": id, "result": null})).await;
            self.notifications.push(message);
        } else {
            self.notifications.push(message);
        }
    }

    async fn read(&mut self) -> Value {
        tokio::time::timeout(HANG_GUARD, self.read_frame())
            .await
            .expect("the server answered within the hang guard")
    }

    async fn read_frame(&mut self) -> Value {
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = v.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await.unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    /// Reads messages until a notification or server request satisfies `pred` (requests are
    /// acknowledged); returns it. Earlier matching messages already received come first.
    pub async fn wait_for(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(pos) = self.notifications.iter().position(&pred) {
            return self.notifications.remove(pos);
        }
        loop {
            let message = self.read().await;
            let is_server_request = message.get("method").is_some() && message.get("id").is_some();
            if is_server_request {
                let id = message["id"].clone();
                self.send(json!({"jsonrpc": "2.0", "id": id, "result": null})).await;
            }
            if message.get("method").is_some() && pred(&message) {
                return message;
            }
            self.notifications.push(message);
        }
    }

    /// The next `publishDiagnostics` for `uri` that satisfies `pred`.
    pub async fn diagnostics_for(&mut self, uri: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let message = self
            .wait_for(|m| {
                m["method"] == "textDocument/publishDiagnostics"
                    && m["params"]["uri"] == uri
                    && pred(m["params"]["diagnostics"].as_array().map(Vec::as_slice).unwrap_or_default())
            })
            .await;
        message["params"]["diagnostics"].as_array().cloned().unwrap_or_default()
    }

    pub async fn open(&mut self, uri: &str, language: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
        )
        .await;
    }
}

pub fn file_uri(path: &Path) -> String {
    tower_lsp_server::ls_types::Uri::from_file_path(path).unwrap().as_str().to_string()
}

pub fn codes(diags: &[Value]) -> Vec<String> {
    diags.iter().map(|d| d["code"].as_str().unwrap_or_default().to_string()).collect()
}

/// Removes the `$0` cursor marker from `text`; returns the text and the cursor's LSP position
/// (UTF-16 columns).
pub fn cursor(text: &str) -> (String, Value) {
    let at = text.find("$0").expect("fixture needs a $0 cursor");
    let before = &text[..at];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let character = text[line_start..at].encode_utf16().count();
    (text.replacen("$0", "", 1), json!({"line": line, "character": character}))
}
