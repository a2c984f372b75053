//! A hostile workspace and a hostile client against the language server's disk reads, over the
//! in-memory connection: a directory link out of the workspace (the server's own watcher, file
//! events from the client, closing documents never opened, rename), and a burst of keystrokes
//! in a large annotated file. Whatever reports a path, the server reads only what the walk
//! would index, and never makes the editor write outside the workspace folders.

use crate::lsp_support;

use lsp_support::*;
use serde_json::{Value, json};

const GOOD: &str = "# @threat SQL Injection (#sqli) [high]\n# @exposes Shop.Api to #sqli\n";
/// What lies outside the workspace: an entity to find, and a reference a rename would edit.
const OUTSIDE: &str = "# @asset Outside.Secret\n# @exposes Outside.Secret to #sqli\n";

/// A workspace holding `good.py` and `linked`, a link to a directory outside it that holds
/// `secret.py`; a server started on it with the client `capabilities` (`{}`: the server
/// watches the disk itself, as for Neovim) and indexed.
struct Linked {
    dir: tempfile::TempDir,
    outside: tempfile::TempDir,
    client: TestClient,
}

impl Linked {
    async fn start(capabilities: Value) -> Linked {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("good.py"), GOOD).unwrap();
        std::fs::write(outside.path().join("secret.py"), OUTSIDE).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
        let (mut client, _) = TestClient::start(dir.path(), capabilities, Value::Null).await;
        client
            .wait_for(|m| {
                m["method"] == "window/logMessage"
                    && m["params"]["message"].as_str().is_some_and(|t| t.contains("threat-analyzer: indexed"))
            })
            .await;
        Linked { dir, outside, client }
    }

    fn uri(&self, rel: &str) -> String {
        file_uri(&self.dir.path().join(rel))
    }

    async fn symbols(&mut self, query: &str) -> Vec<Value> {
        self.client.request("workspace/symbol", json!({"query": query})).await.as_array().unwrap().clone()
    }

    /// Waits until the index holds `marker` (an asset written to a file inside the workspace
    /// after the hostile change): every change reported before it was applied by then.
    async fn wait_for_symbol(&mut self, marker: &str) {
        for _ in 0..300 {
            if !self.symbols(marker).await.is_empty() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("{marker} never indexed");
    }

    /// Once the `Inside.Marker` written after the hostile change is indexed, nothing from
    /// outside the workspace is known.
    async fn assert_nothing_from_outside_once_marked(&mut self) {
        self.wait_for_symbol("Inside.Marker").await;
        let found = self.symbols("Outside").await;
        self.assert_nothing_from_outside(&found);
    }

    /// Nothing from outside the workspace is known: no symbol, no diagnostics for its files.
    fn assert_nothing_from_outside(&self, symbols: &[Value]) {
        assert_eq!(symbols, [] as [Value; 0], "outside content indexed: {symbols:?}");
        let outside = self.outside.path().to_string_lossy().into_owned();
        let published: Vec<&Value> = self
            .client
            .notifications
            .iter()
            .filter(|m| m["method"] == "textDocument/publishDiagnostics")
            .filter(|m| {
                let uri = m["params"]["uri"].as_str().unwrap_or_default();
                uri.contains("/linked/") || uri.contains(&outside)
            })
            .collect();
        assert!(published.is_empty(), "diagnostics for files outside the workspace: {published:?}");
    }
}

/// The server's own watcher (Neovim, Helix) never watches through the link: a file created in
/// the linked directory is never seen, while one created in the workspace is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_never_follows_a_link_out_of_the_workspace() {
    let mut s = Linked::start(json!({})).await;
    std::fs::write(s.outside.path().join("new.py"), "# @asset Outside.New\n").unwrap();
    std::fs::write(s.dir.path().join("inside.py"), "# @asset Inside.Marker\n").unwrap();
    s.assert_nothing_from_outside_once_marked().await;
}

/// `workspace/didChangeWatchedFiles` naming the link itself, a file through it and a file
/// outside the workspace: none is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_events_through_a_link_or_outside_are_not_read() {
    // The client watches (the server does not): the marker arrives with the events.
    let caps = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let mut s = Linked::start(caps).await;
    std::fs::write(s.dir.path().join("inside.py"), "# @asset Inside.Marker\n").unwrap();
    let changes: Vec<Value> = [
        s.uri("linked"),
        s.uri("linked/secret.py"),
        file_uri(&s.outside.path().join("secret.py")),
        s.uri("inside.py"),
    ]
    .into_iter()
    .map(|uri| json!({"uri": uri, "type": 1}))
    .collect();
    s.client.notify("workspace/didChangeWatchedFiles", json!({"changes": changes})).await;
    s.assert_nothing_from_outside_once_marked().await;
}

/// `didClose` of a document that was never opened (any absolute path, here one outside the
/// workspace and one through the link) reads nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_document_never_opened_reads_nothing() {
    let mut s = Linked::start(json!({})).await;
    for uri in [file_uri(&s.outside.path().join("secret.py")), s.uri("linked/secret.py")] {
        s.client.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}})).await;
    }
    let status =
        s.client.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"})).await;
    assert_eq!(status["files_with_annotations"], 1, "{status}");
    let found = s.symbols("Outside").await;
    s.assert_nothing_from_outside(&found);
    // A document that was open closes as before: the disk version of a workspace file is back.
    let good = s.uri("good.py");
    s.client.open(&good, "python", "# @asset Shop.Buffer\n").await;
    assert_eq!(s.symbols("Shop.Buffer").await.len(), 1);
    s.client.notify("textDocument/didClose", json!({"textDocument": {"uri": good}})).await;
    assert_eq!(s.symbols("Shop.Buffer").await, [] as [Value; 0]);
    assert_eq!(s.symbols("SQL Injection").await.len(), 1);
}

/// A rename never edits a file outside the workspace folders or behind a link, even one the
/// editor has open: the rename is refused and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_never_edits_files_outside_the_workspace() {
    let mut s = Linked::start(json!({})).await;
    let good = s.uri("good.py");
    let rename = json!({"textDocument": {"uri": good}, "position": {"line": 1, "character": 25}, "newName": "injection"});
    // Inside the workspace only: renamed.
    let edit = s.client.request("textDocument/rename", rename.clone()).await;
    assert_eq!(
        edit["changes"].as_object().map(|c| c.keys().cloned().collect::<Vec<_>>()),
        Some(vec![good.clone()])
    );
    for uri in [s.uri("linked/secret.py"), file_uri(&s.outside.path().join("secret.py"))] {
        s.client.open(&uri, "python", OUTSIDE).await;
        let response = s.client.request_raw("textDocument/rename", rename.clone()).await;
        let message = response["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("outside the workspace folders"), "{uri}: {response}");
        s.client.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}})).await;
    }
}

/// Twenty keystrokes in a 1.6 MB annotated file, then a hover: the edits are coalesced, so the
/// document's facts are derived far fewer times than there were edits (once per read of the
/// index, not once per keystroke), and the hover sees every edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keystrokes_in_a_large_file_are_coalesced() {
    let dir = tempfile::tempdir().unwrap();
    let (mut client, _) = TestClient::start(dir.path(), json!({}), Value::Null).await;
    let mut text = String::new();
    let mut count = 0;
    // Long descriptions: 1.6 MB within the 10,000 annotations a file may hold.
    let about = "what an attacker gains here, and how the team found out about it; ".repeat(2);
    while text.len() < 1_600_000 {
        text.push_str(&format!(
            "# @threat Threat number {count} (#t{count}) -- \"{about}\"\n\
             # @exposes Shop.Part{count} to #t{count} -- \"{about}\"\nx{count} = 1\n"
        ));
        count += 1;
    }
    let uri = file_uri(&dir.path().join("big.py"));
    client.open(&uri, "python", &text).await;
    let status = |m: &Value| m["documents_derived"].as_u64().unwrap();
    let before = status(
        &client.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"})).await,
    );
    // Type "Big" into the name of the threat in the middle, one character per change.
    let line = (count / 2) * 3;
    const EDITS: u64 = 20;
    let mut frames = Vec::new();
    for v in 0..EDITS {
        let at = json!({"line": line, "character": 17 + v});
        let body = json!({"jsonrpc": "2.0", "method": "textDocument/didChange",
            "params": {"textDocument": {"uri": uri, "version": v + 2},
                       "contentChanges": [{"range": {"start": at, "end": at}, "text": "B"}]}})
        .to_string();
        frames.extend(format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes());
    }
    client.send_raw(&frames).await;
    let hover = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": line + 1, "character": 30}}),
        )
        .await;
    let shown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(shown.contains(&format!("Threat {}number", "B".repeat(EDITS as usize))), "{hover}");
    let derived = status(
        &client.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"})).await,
    ) - before;
    eprintln!("{EDITS} edits: the document's facts were derived {derived} time(s)");
    // One derivation for the hover, plus one per diagnostics round that ran between edits
    // (rounds wait 50 ms for more edits; the edits arrive in one write, so on an idle machine
    // it is 1 or 2). Deriving once per edit is exactly EDITS; how many rounds fit between the
    // edits depends on the machine's load, so fewer is all that is asserted.
    assert!((1..EDITS).contains(&derived), "derived {derived} times for {EDITS} edits");
}
