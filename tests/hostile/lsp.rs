//! Hostile and broken protocol input, over the in-memory connection: malformed frames and
//! JSON, wrong parameter types, unknown methods, requests before `initialize`, duplicate ids,
//! edits to documents never opened, out-of-range positions, versions going backwards,
//! non-`file:` URIs, cancellation, and a workspace full of hostile files. After each, the
//! server answers the next valid request correctly, and nothing on disk has changed.

use crate::hostile;
use crate::lsp_support;

use hostile::*;
use lsp_support::*;
use serde_json::{Value, json};

const GOOD: &str = "# @threat SQL Injection (#sqli) [high]\n# @exposes Shop.Api to #sqli\n";

/// A workspace with `good.py`, a started server with `good.py` open, and the tree's digest.
struct Session {
    dir: tempfile::TempDir,
    client: TestClient,
    good: String,
    before: Digest,
}

impl Session {
    async fn start() -> Session {
        Session::start_in(tempfile::tempdir().unwrap()).await
    }

    async fn start_in(dir: tempfile::TempDir) -> Session {
        std::fs::write(dir.path().join("good.py"), GOOD).unwrap();
        let before = digest(dir.path());
        let (mut client, _) = TestClient::start(dir.path(), json!({}), Value::Null).await;
        let good = file_uri(&dir.path().join("good.py"));
        client.open(&good, "python", GOOD).await;
        client.diagnostics_for(&good, |d| !d.is_empty()).await;
        Session { dir, client, good, before }
    }

    /// The server still answers correctly: hover on `#sqli` names the threat.
    async fn assert_alive(&mut self, after: &str) {
        let hover = self
            .client
            .request_raw(
                "textDocument/hover",
                json!({"textDocument": {"uri": self.good}, "position": {"line": 1, "character": 25}}),
            )
            .await;
        let text = hover["result"]["contents"]["value"].as_str().unwrap_or_default();
        assert!(text.contains("SQL Injection"), "after {after}: {hover}");
    }

    fn assert_disk_unchanged(&self) {
        assert_unchanged(&self.before, &digest(self.dir.path()), "the language server");
    }

    /// Sends a request and returns its error code (`None` for a result).
    async fn error_code(&mut self, method: &str, params: Value) -> Option<i64> {
        let response = self.client.request_raw(method, params).await;
        response.get("error").map(|e| e["code"].as_i64().unwrap())
    }

    /// Waits for the end of the workspace indexing (its summary in `window/logMessage`).
    async fn wait_indexed(&mut self) {
        self.client
            .wait_for(|m| {
                m["method"] == "window/logMessage"
                    && m["params"]["message"].as_str().is_some_and(|t| t.contains("threat-analyzer: indexed"))
            })
            .await;
    }

    fn uri(&self, rel: &str) -> String {
        file_uri(&self.dir.path().join(rel))
    }
}

fn frame(body: &[u8]) -> Vec<u8> {
    [format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(), body].concat()
}

/// JSON-RPC error codes.
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const SERVER_NOT_INITIALIZED: i64 = -32002;
const REQUEST_CANCELLED: i64 = -32800;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_and_json() {
    let mut s = Session::start().await;
    let garbage: &[(&str, Vec<u8>)] = &[
        ("truncated JSON", frame(b"{oops")),
        ("invalid UTF-8", frame(b"\xff\xfe\xfd")),
        ("not a message", frame(br#"{"foo": 1}"#)),
        ("a batch", frame(br#"[{"jsonrpc": "2.0", "id": 99, "method": "shutdown"}]"#)),
        ("JSON-RPC 1.0", frame(br#"{"jsonrpc": "1.0", "id": 98, "method": "workspace/symbol", "params": {"query": ""}}"#)),
        ("an object id", frame(br#"{"jsonrpc": "2.0", "id": {"x": 1}, "method": "workspace/symbol", "params": {"query": ""}}"#)),
        ("a bad length", b"Content-Length: twelve\r\n\r\n{}".to_vec()),
        ("no length", b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}".to_vec()),
        ("a bad charset", b"Content-Length: 2\r\nContent-Type: text/plain; charset=latin1\r\n\r\n{}".to_vec()),
        ("a response nobody asked for", frame(br#"{"jsonrpc": "2.0", "id": 12345, "result": null}"#)),
        ("a lone surrogate", frame(br#"{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file:///x.py", "languageId": "python", "version": 1, "text": "\ud800"}}}"#)),
        ("deeply nested JSON", frame(format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).as_bytes())),
    ];
    for (what, bytes) in garbage {
        s.client.send_raw(bytes).await;
        s.assert_alive(what).await;
    }
    // A malformed request that names an id is answered under it, so no client waits forever;
    // what has no id (unparseable frames) is dropped with a warning in the log.
    let answered: Vec<(Value, i64)> = s
        .client
        .notifications
        .iter()
        .filter(|m| m.get("error").is_some())
        .map(|m| (m["id"].clone(), m["error"]["code"].as_i64().unwrap()))
        .collect();
    assert_eq!(answered, [(json!(98), INVALID_REQUEST)]);
    s.assert_disk_unchanged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_parameter_types() {
    let mut s = Session::start().await;
    let good = s.good.clone();
    let requests = [
        ("textDocument/hover", json!({"textDocument": 5, "position": "here"})),
        (
            "textDocument/hover",
            json!({"textDocument": {"uri": good}, "position": {"line": -1, "character": 0}}),
        ),
        (
            "textDocument/hover",
            json!({"textDocument": {"uri": "not a uri"}, "position": {"line": 0, "character": 0}}),
        ),
        ("textDocument/completion", Value::Null),
        ("textDocument/definition", json!([1, 2, 3])),
        (
            "textDocument/rename",
            json!({"textDocument": {"uri": good}, "position": {"line": 1, "character": 25}, "newName": 7}),
        ),
        ("textDocument/codeAction", json!({"textDocument": {"uri": good}, "range": "all", "context": {}})),
        ("workspace/symbol", json!({"query": ["x"]})),
    ];
    for (method, params) in requests {
        assert_eq!(s.error_code(method, params.clone()).await, Some(INVALID_PARAMS), "{method} {params}");
        s.assert_alive(method).await;
    }
    // Wrong arguments to our own commands: refused with a message.
    for args in [
        json!([5]),
        json!([{"format": 7}]),
        json!([{"format": "svg+xml"}]),
        json!([{"scope": {"file": 3}}]),
        json!([{"scope": {"file": "not a uri"}}]),
        json!([{"scope": {"boundary": ["x"]}}]),
        json!([{"scope": 12}]),
    ] {
        let code = s
            .error_code(
                "workspace/executeCommand",
                json!({"command": "threat-analyzer.dfd", "arguments": args}),
            )
            .await;
        assert!(code.is_none() || code == Some(INVALID_PARAMS), "{args}: {code:?}");
        s.assert_alive("dfd arguments").await;
    }
    // Notifications with wrong types are dropped.
    let notifications = [
        (
            "textDocument/didOpen",
            json!({"textDocument": {"uri": good, "languageId": "python", "version": "one", "text": 3}}),
        ),
        (
            "textDocument/didChange",
            json!({"textDocument": {"uri": good, "version": 2}, "contentChanges": "all"}),
        ),
        (
            "textDocument/didChange",
            json!({"textDocument": {"uri": good, "version": 2}, "contentChanges": [{"range": {"start": 0}, "text": "x"}]}),
        ),
        ("textDocument/didClose", json!({"textDocument": {}})),
        (
            "workspace/didChangeConfiguration",
            json!({"settings": {"threatAnalyzer": {"maxFileSize": "big", "severity": 3, "include": [1, 2], "exclude": "x"}}}),
        ),
        ("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": 5, "type": "deleted"}]})),
        (
            "workspace/didChangeWorkspaceFolders",
            json!({"event": {"added": [{"uri": "file:///nonexistent/dir", "name": 1}], "removed": []}}),
        ),
    ];
    for (method, params) in notifications {
        s.client.notify(method, params).await;
        s.assert_alive(method).await;
    }
    s.assert_disk_unchanged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_methods() {
    let mut s = Session::start().await;
    assert_eq!(s.error_code("threat-analyzer/unknown", json!({})).await, Some(METHOD_NOT_FOUND));
    assert_eq!(s.error_code("textDocument/notAThing", Value::Null).await, Some(METHOD_NOT_FOUND));
    s.client.notify("threat-analyzer/unknown", json!({"x": 1})).await;
    s.client.notify("$/unknownNotification", json!({})).await;
    s.client
        .send(json!({"jsonrpc": "2.0", "id": "dollar", "method": "$/unknownRequest", "params": {}}))
        .await;
    s.assert_alive("unknown methods").await;
    let code =
        s.error_code("workspace/executeCommand", json!({"command": "rm -rf /", "arguments": []})).await;
    assert_eq!(code, Some(INVALID_PARAMS));
    s.assert_alive("an unknown command").await;
    s.assert_disk_unchanged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_before_initialize_and_a_second_initialize() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.py"), GOOD).unwrap();
    let mut client = TestClient::connect();
    let good = file_uri(&dir.path().join("good.py"));
    let hover = client
        .request_raw(
            "textDocument/hover",
            json!({"textDocument": {"uri": good}, "position": {"line": 1, "character": 25}}),
        )
        .await;
    assert_eq!(hover["error"]["code"], SERVER_NOT_INITIALIZED, "{hover}");
    // Notifications before `initialize` are dropped, `shutdown` is refused.
    client.open(&good, "python", "# @exposes Shop.Early to #early\n").await;
    client.notify("initialized", json!({})).await;
    let shutdown = client.request_raw("shutdown", Value::Null).await;
    assert_eq!(shutdown["error"]["code"], SERVER_NOT_INITIALIZED, "{shutdown}");
    let before = digest(dir.path());
    let result = client.initialize(dir.path(), json!({}), Value::Null).await;
    assert!(result["capabilities"].is_object());
    let mut s = Session { dir, client, good: good.clone(), before };
    s.client.open(&good, "python", GOOD).await;
    s.assert_alive("initialize").await;
    let again = s.client.request_raw("initialize", json!({"capabilities": {}})).await;
    assert_eq!(again["error"]["code"], INVALID_REQUEST, "{again}");
    s.assert_alive("a second initialize").await;
    s.assert_disk_unchanged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_request_ids() {
    let mut s = Session::start().await;
    let hover = json!({"textDocument": {"uri": s.good}, "position": {"line": 1, "character": 25}});
    for _ in 0..3 {
        s.client
            .send(json!({"jsonrpc": "2.0", "id": 7, "method": "textDocument/hover", "params": hover}))
            .await;
    }
    s.client
        .send(json!({"jsonrpc": "2.0", "id": 7, "method": "workspace/symbol", "params": {"query": "sql"}}))
        .await;
    // Whatever the server makes of the reuse, it answers with that id and keeps serving.
    let first = s.client.response(json!(7)).await;
    assert!(first.get("result").is_some() || first.get("error").is_some(), "{first}");
    s.assert_alive("duplicate ids").await;
    s.assert_disk_unchanged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_to_documents_never_opened() {
    let mut s = Session::start().await;
    let never = s.uri("never.py");
    let change = |uri: &str, version: i64| {
        json!({"textDocument": {"uri": uri, "version": version},
               "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                                   "text": "# @asset Shop.Never\n"}]})
    };
    s.client.notify("textDocument/didChange", change(&never, 2)).await;
    s.client.notify("textDocument/didSave", json!({"textDocument": {"uri": never}})).await;
    s.client.notify("textDocument/didClose", json!({"textDocument": {"uri": never}})).await;
    s.assert_alive("didChange of a document never opened").await;
    // Nothing was made of them: the project knows one exposure (good.py's).
    let symbols = s.client.request("workspace/symbol", json!({"query": "Never"})).await;
    assert_eq!(symbols, json!([]), "{symbols}");
    // Closing, then editing, a document that was open: the edit is dropped too.
    s.client.notify("textDocument/didClose", json!({"textDocument": {"uri": s.good}})).await;
    let good = s.good.clone();
    s.client.notify("textDocument/didChange", change(&good, 3)).await;
    let symbols = s.client.request("workspace/symbol", json!({"query": "Never"})).await;
    assert_eq!(symbols, json!([]), "{symbols}");
    s.assert_alive("didChange after didClose").await;
    s.assert_disk_unchanged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_positions_and_ranges() {
    let mut s = Session::start().await;
    let good = s.good.clone();
    let far = json!({"line": u32::MAX, "character": u32::MAX});
    let past_line = json!({"line": 1, "character": 100_000});
    let reversed = json!({"start": {"line": 1, "character": 20}, "end": {"line": 0, "character": 0}});
    let huge = json!({"start": {"line": 0, "character": 0}, "end": far});
    for position in [far.clone(), past_line.clone()] {
        let at = json!({"textDocument": {"uri": good}, "position": position});
        for method in [
            "textDocument/hover",
            "textDocument/completion",
            "textDocument/definition",
            "textDocument/declaration",
            "textDocument/references",
            "textDocument/documentHighlight",
            "textDocument/prepareRename",
        ] {
            let mut params = at.clone();
            params["context"] = json!({"includeDeclaration": true});
            let response = s.client.request_raw(method, params).await;
            assert!(
                response.get("error").is_none() || response["error"]["code"] != -32603,
                "{method}: {response}"
            );
        }
        let mut rename = at.clone();
        rename["newName"] = json!("other");
        s.client.request_raw("textDocument/rename", rename).await;
        s.assert_alive("requests at out-of-range positions").await;
    }
    for range in [reversed.clone(), huge.clone()] {
        let doc = json!({"uri": good});
        for (method, params) in [
            (
                "textDocument/codeAction",
                json!({"textDocument": doc, "range": range, "context": {"diagnostics": []}}),
            ),
            ("textDocument/semanticTokens/range", json!({"textDocument": doc, "range": range})),
            ("textDocument/inlayHint", json!({"textDocument": doc, "range": range})),
        ] {
            let response = s.client.request_raw(method, params).await;
            assert!(response.get("result").is_some(), "{method}: {response}");
        }
    }
    // Edits with out-of-range and reversed ranges clamp into the text, as the protocol's
    // "past the end of the line means the end of the line" rule says.
    let edits = [
        (
            json!({"start": {"line": 50, "character": 0}, "end": {"line": 60, "character": 9}}),
            "# @asset Shop.Tail\n",
        ),
        (json!({"start": {"line": 0, "character": 500}, "end": {"line": 0, "character": 600}}), " [P0]"),
        (reversed, ""),
    ];
    let mut version = 1;
    for (range, text) in edits {
        version += 1;
        s.client
            .notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": good, "version": version}, "contentChanges": [{"range": range, "text": text}]}),
            )
            .await;
    }
    // The text is now: line 0 with " [P0]" appended; line 1 cut after column 20 (the reversed
    // range covers 0:0..1:20 reversed, treated as empty at 1:20); the tail appended.
    let published = s
        .client
        .wait_for(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version)
        .await;
    assert!(published["params"]["diagnostics"].is_array(), "{published}");
    let symbols = s.client.request("workspace/symbol", json!({"query": "Tail"})).await;
    assert_eq!(symbols.as_array().map(Vec::len), Some(1), "{symbols}");
    s.client.notify("textDocument/didClose", json!({"textDocument": {"uri": good}})).await;
    s.client.open(&good, "python", GOOD).await;
    s.assert_alive("edits with out-of-range ranges").await;
    s.assert_disk_unchanged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_going_backwards_still_apply_in_arrival_order() {
    let mut s = Session::start().await;
    let good = s.good.clone();
    let replace = |version: i64, text: &str| json!({"textDocument": {"uri": good, "version": version}, "contentChanges": [{"text": text}]});
    s.client.notify("textDocument/didChange", replace(9, &format!("{GOOD}# @asset Shop.Nine\n"))).await;
    let three = GOOD.replace("Shop.Api", "Shop.Three");
    s.client.notify("textDocument/didChange", replace(3, &three)).await;
    // The text the client sent last is the text; diagnostics carry the version it came with.
    let published = s
        .client
        .wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == good
                && m["params"]["version"] == 3
        })
        .await;
    let message = published["params"]["diagnostics"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Shop.Three"), "{published}");
    let nine = s.client.request("workspace/symbol", json!({"query": "Nine"})).await;
    assert_eq!(nine, json!([]));
    s.client.notify("textDocument/didChange", replace(4, GOOD)).await;
    s.assert_alive("a version going backwards").await;
    s.assert_disk_unchanged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_file_uris_are_documents_without_a_disk() {
    let mut s = Session::start().await;
    let text = "# @exposes Shop.Remote to #sqli\n# @mitigates Shop.Remote against #sqlx\n";
    for uri in [
        "untitled:Untitled-1",
        "https://example.com/remote.py",
        "git:/repo/app.py?ref=main",
        "data:text/plain,x",
    ] {
        s.client
            .notify(
                "textDocument/didOpen",
                json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
            )
            .await;
        let diags = s.client.diagnostics_for(uri, |d| !d.is_empty()).await;
        assert!(codes(&diags).contains(&"dangling-reference".to_string()), "{uri}: {diags:?}");
        let hover = s
            .client
            .request_raw(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 28}}),
            )
            .await;
        assert!(
            hover["result"]["contents"]["value"].as_str().unwrap_or_default().contains("SQL Injection"),
            "{uri}: {hover}"
        );
        s.client.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}})).await;
        // Closed: nothing to read back from a disk, so its diagnostics are cleared.
        s.client.diagnostics_for(uri, |d| d.is_empty()).await;
        s.assert_alive(uri).await;
    }
    s.assert_disk_unchanged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_long_requests() {
    let dir = tempfile::tempdir().unwrap();
    // A project big enough that a diagram and a symbol search take a while.
    write_lines(&dir.path().join("many.gal"), 20_000, |i| {
        format!("@asset Shop.Part{i}\n@flows Shop.Part{i} -> Shop.Part{} via https\n", i + 1)
    });
    let mut s = Session::start_in(dir).await;
    s.wait_indexed().await;
    let status =
        s.client.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"})).await;
    assert_eq!(status["files_with_annotations"], 2, "{status}");
    for (method, params) in [
        (
            "workspace/executeCommand",
            json!({"command": "threat-analyzer.dfd", "arguments": [{"format": "dot"}]}),
        ),
        ("workspace/symbol", json!({"query": "part"})),
        ("workspace/executeCommand", json!({"command": "threat-analyzer.reindex"})),
    ] {
        let id = json!(format!("long-{method}"));
        s.client.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await;
        s.client.notify("$/cancelRequest", json!({"id": id})).await;
        // Cancelled before it ran (RequestCancelled), or answered (a result, or for the diagram
        // of 20,000 flows the size-limit error): either way one response.
        let response = s.client.response(id.clone()).await;
        let cancelled = response["error"]["code"] == REQUEST_CANCELLED;
        let refused = response["error"]["message"].as_str().is_some_and(|m| m.contains("over the limits"));
        assert!(cancelled || refused || response.get("result").is_some(), "{response}");
        s.assert_alive(method).await;
    }
    // Cancelling what is already answered, or was never asked, is harmless.
    s.client.notify("$/cancelRequest", json!({"id": 424242})).await;
    s.client.notify("$/cancelRequest", json!({"id": {"not": "an id"}})).await;
    s.assert_alive("stray cancellations").await;
    s.assert_disk_unchanged();
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_of_hostile_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let put = |rel: &str, bytes: &[u8]| {
        let p = d.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    put("latin1.py", b"# @exposes Shop.Latin to #caf\xe9\n");
    put("nul.py", b"# @exposes Shop.Nul to #x\0\n");
    write_big(&d.join("huge.py"), 50_000_000);
    put("long.py", format!("# @asset Shop.Long -- \"{}\"\n", "x".repeat(2_000_000)).as_bytes());
    write_lines(&d.join("many.gal"), 100_000, |i| format!("@asset M{i}\n"));
    put("parens.js", format!("{}\n// @asset Shop.Js\n", "(".repeat(100_000)).as_bytes());
    put("deep.yaml", format!("{}x\n# @asset Shop.Yaml\n", "- ".repeat(5000)).as_bytes());
    put("crlf.py", b"x = 1\r\n# @asset Shop.Crlf\r\n");
    put("cr.py", b"x = 1\r# @asset Shop.Cr\r");
    put("bom.py", b"\xef\xbb\xbf# @asset Shop.Bom\n");
    std::os::unix::fs::symlink(".", d.join("self")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join("Dockerfile")).unwrap();
    mkfifo(&d.join("pipe.py"));
    put("locked.py", b"# @asset Shop.Locked\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.join("locked.py"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let locked_readable = permissions_do_not_bind(d);
    let mut s = Session::start_in(dir).await;
    s.wait_indexed().await;
    let status =
        s.client.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"})).await;
    // good, long, many, parens, deep.yaml, crlf, cr, bom (+ locked when permissions do not bind).
    let expected = 8 + u64::from(locked_readable);
    assert_eq!(status["files_with_annotations"], expected, "{status}");
    for name in ["Shop.Crlf", "Shop.Cr", "Shop.Bom", "Shop.Js", "Shop.Yaml", "M9999"] {
        let found = s.client.request("workspace/symbol", json!({"query": name})).await;
        assert!(!found.as_array().unwrap().is_empty(), "{name}: {found}");
    }
    // Past the limits: the 2 MB line and the annotations after the 10,000th are not read,
    // and each file says so.
    for name in ["Shop.Long", "M10000"] {
        let found = s.client.request("workspace/symbol", json!({"query": name})).await;
        assert_eq!(found, json!([]), "{name}");
    }
    for rel in ["long.py", "many.gal"] {
        let uri = s.uri(rel);
        let diags = s.client.diagnostics_for(&uri, |d| !d.is_empty()).await;
        assert_eq!(codes(&diags), ["resource-limit"], "{rel}");
    }
    s.assert_alive("indexing hostile files").await;
    // Opening them (as an editor would, with the text it decoded) works too.
    for (rel, text) in [
        ("parens.js", format!("{}\n// @audit Shop.Js\n", "(".repeat(100_000))),
        ("crlf.py", "x\r\n# @audit A\r\n".into()),
    ] {
        let uri = s.uri(rel);
        let language = if rel.ends_with(".js") { "javascript" } else { "python" };
        s.client.open(&uri, language, &text).await;
        s.assert_alive(rel).await;
    }
    s.assert_disk_unchanged();
}

/// Files created, deleted and replaced (by directories, named pipes, invalid text) while the
/// server indexes the workspace and watches it: it keeps answering, and once the churn stops a
/// reindex sees exactly what is on disk.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_changing_while_indexed_and_watched() {
    let dir = tempfile::tempdir().unwrap();
    let churn_dir = dir.path().join("churn");
    let churn = Churn::start(&churn_dir, 200, |i| format!("# @asset Churn.F{i}\n"));
    let std_dir = tempfile::tempdir().unwrap();
    let mut s = Session::start_in(std_dir).await;
    // The session's own workspace is elsewhere; add the churning one as a second folder.
    let folder = file_uri(dir.path());
    s.client
        .notify(
            "workspace/didChangeWorkspaceFolders",
            json!({"event": {"added": [{"uri": folder, "name": "churn"}], "removed": []}}),
        )
        .await;
    for round in 0..5 {
        s.client.request("workspace/executeCommand", json!({"command": "threat-analyzer.reindex"})).await;
        s.assert_alive(&format!("reindex {round} during the churn")).await;
    }
    drop(churn);
    // Settle: remove what is not a regular file, then reindex and compare with the disk.
    let mut on_disk = 0;
    for entry in std::fs::read_dir(&churn_dir).unwrap().flatten() {
        let kind = entry.file_type().unwrap();
        if kind.is_file() && std::fs::read_to_string(entry.path()).is_ok() {
            on_disk += 1;
        } else if kind.is_dir() {
            std::fs::remove_dir(entry.path()).unwrap();
        } else if !kind.is_file() {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    // Indexing runs one at a time, so a reindex asked for now merges last; earlier runs may
    // still be queued, so ask until the index agrees (the hang guard bounds the wait).
    let mut found = json!([]);
    for _ in 0..10 {
        s.client.notifications.clear();
        s.client.request("workspace/executeCommand", json!({"command": "threat-analyzer.reindex"})).await;
        s.wait_indexed().await;
        found = s.client.request("workspace/symbol", json!({"query": "Churn.F"})).await;
        if found.as_array().unwrap().len() == on_disk {
            break;
        }
    }
    assert_eq!(found.as_array().unwrap().len(), on_disk, "{found}");
    s.assert_alive("the churn").await;
}

/// `threat-analyzer.reindex` makes the index what is on disk: files deleted without a file
/// event (a client that registered for them but never sent one) are forgotten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_forgets_files_deleted_without_an_event() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gone.py"), "# @asset Gone.Asset\n").unwrap();
    std::fs::write(dir.path().join("kept.py"), "# @asset Kept.Asset\n").unwrap();
    // Dynamic registration: the server leaves file events to the client (which sends none).
    let caps = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let (mut client, _) = TestClient::start(dir.path(), caps, Value::Null).await;
    let indexed = |m: &Value| {
        m["method"] == "window/logMessage"
            && m["params"]["message"].as_str().is_some_and(|t| t.contains("threat-analyzer: indexed"))
    };
    client.wait_for(indexed).await;
    assert_eq!(
        client.request("workspace/symbol", json!({"query": "Gone"})).await.as_array().unwrap().len(),
        1
    );
    std::fs::remove_file(dir.path().join("gone.py")).unwrap();
    client.request("workspace/executeCommand", json!({"command": "threat-analyzer.reindex"})).await;
    client.wait_for(indexed).await;
    assert_eq!(client.request("workspace/symbol", json!({"query": "Gone"})).await, json!([]));
    assert_eq!(
        client.request("workspace/symbol", json!({"query": "Kept"})).await.as_array().unwrap().len(),
        1
    );
}

/// Texts a grammar's C scanner cannot survive are read without a tree by the language server
/// too, on disk and open: whole-line annotations are read, and each file's diagnostics hold a
/// `no-syntax-tree` note (severity 3, information) at the cause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_a_grammar_scanner_cannot_survive_get_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let breakers = scanner_breakers();
    for (name, text, _) in &breakers {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let mut session = Session::start_in(dir).await;
    let check = |name: &str, text: &str, cause: Option<&str>, diags: &[Value]| {
        assert_eq!(codes(diags), ["unmitigated-exposure", "no-syntax-tree"], "{name}: {diags:?}");
        let note = &diags[1];
        let start = &note["range"]["start"];
        let (line, column) =
            (start["line"].as_u64().unwrap() as usize, start["character"].as_u64().unwrap() as usize);
        assert!(is_scanner_cause(text, line, column, cause), "{name}: {note}");
        assert_eq!(note["severity"], 3, "{note}");
    };
    for (name, text, cause) in &breakers {
        let uri = session.uri(name);
        let diags = session.client.diagnostics_for(&uri, |d| d.len() == 2).await;
        check(name, text, *cause, &diags);
    }
    // A document open only in the editor (not on disk) is read by the editor's own path, with
    // the same note.
    let (name, text, cause) = &breakers[3];
    let text = text.replace("kt", "unsaved");
    let uri = session.uri("unsaved.kt");
    session.client.open(&uri, "kotlin", &text).await;
    let diags = session.client.diagnostics_for(&uri, |d| !d.is_empty()).await;
    check(name, &text, *cause, &diags);
    session.assert_alive("files a scanner cannot survive").await;
    session.assert_disk_unchanged();
}
