//! Hostile protocol input to the real server process over standard input/output: a 100 MB
//! message (and a 100 MB frame of garbage) with the memory it costs, logs that must never
//! hold file contents, `untitled:` documents that must never be read from the working
//! directory, and input that ends in the middle of a frame.

use crate::hostile;
use crate::stdio;

use hostile::*;
use serde_json::{Value, json};
use stdio::*;

const GOOD: &str = "# @threat SQL Injection (#sqli) [high]\n# @exposes Shop.Api to #sqli\n";

fn uri_of(path: &std::path::Path) -> String {
    tower_lsp_server::ls_types::Uri::from_file_path(path).unwrap().as_str().to_string()
}

/// Hover on `#sqli` in the open `good.py` names the threat.
fn assert_alive(server: &mut StdioServer, good: &str, after: &str) {
    let hover = server.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": good}, "position": {"line": 1, "character": 25}}),
    );
    let text = hover["result"]["contents"]["value"].as_str().unwrap_or_default();
    assert!(text.contains("SQL Injection"), "after {after}: {hover}");
}

fn open(server: &mut StdioServer, uri: &str, text: &str) {
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
    );
}

/// Frames `message` with its body padded by spaces to `bytes` (JSON allows trailing blanks
/// only inside the value, so the padding goes inside the last string: the message stays valid).
fn padded(message: &str, bytes: usize) -> Vec<u8> {
    let (head, tail) = message.rsplit_once("PAD").expect("a PAD marker");
    let mut body = head.as_bytes().to_vec();
    body.resize(bytes - tail.len(), b' ');
    body.extend_from_slice(tail.as_bytes());
    let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    framed.extend_from_slice(&body);
    framed
}

/// Messages over the protocol's message limit, each skipped unread: a 100 MB `didOpen` (its
/// document gets a `resource-limit` diagnostic saying why), a 100 MB request (answered with an
/// error under its id), a 100 MB frame that is not JSON (dropped); the server keeps serving.
fn big_messages(server: &mut StdioServer, good: &str, huge: &str, round: i64) {
    let open = format!(
        r##"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{{"uri":"{huge}","languageId":"python","version":{round},"text":"# @audit Shop.HugePAD"}}}}}}"##
    );
    server.send_raw(&padded(&open, 100_000_000));
    let published = server.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == huge
            && m["params"]["version"] == round
    });
    let diagnostic = &published["params"]["diagnostics"][0];
    assert_eq!(diagnostic["code"], "resource-limit", "{published}");
    assert!(
        diagnostic["message"].as_str().unwrap().contains("protocol message of 100000000 bytes"),
        "{published}"
    );
    assert_alive(server, good, "a 100 MB didOpen");
    // Requests on it answer at once with nothing, and range edits cannot apply to text never read.
    let hover = server.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": huge}, "position": {"line": 0, "character": 3}}),
    );
    assert_eq!(hover["result"], Value::Null, "{hover}");
    server.notify("textDocument/didClose", json!({"textDocument": {"uri": huge}}));
    let id = 1_000 + round;
    let request =
        format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"workspace/symbol","params":{{"query":"PAD"}}}}"#);
    server.send_raw(&padded(&request, 100_000_000));
    let answer = server.wait_for(|m| m["id"] == id);
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("100000000 bytes"), "{answer}");
    let mut garbage = format!("Content-Length: {}\r\n\r\n", 100_000_000).into_bytes();
    garbage.resize(garbage.len() + 100_000_000, b'{');
    server.send_raw(&garbage);
    drop(garbage);
    assert_alive(server, good, "a 100 MB frame of garbage");
}

#[test]
fn a_hundred_megabyte_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.py"), GOOD).unwrap();
    let before = digest(dir.path());
    let mut server = StdioServer::start(dir.path(), Some(dir.path()), &[]);
    let good = uri_of(&dir.path().join("good.py"));
    open(&mut server, &good, GOOD);
    assert_alive(&mut server, &good, "start");
    let start_peak = server.memory_kib("VmHWM:");
    let huge = uri_of(&dir.path().join("huge.py"));
    for round in 0..2 {
        big_messages(&mut server, &good, &huge, round);
    }
    let peak = server.memory_kib("VmHWM:");
    eprintln!("peak resident memory: {start_peak} KiB before the big messages, {peak} KiB after");
    // Deterministic: messages over the limit are never buffered (the reader holds 64 KiB
    // chunks and a 16 KiB prefix), so 600 MB of them leave the peak where it was, give or take
    // the allocator's slack.
    assert!(peak < start_peak + 32_000, "peak resident memory {start_peak} -> {peak} KiB");
    // A document at the file size limit's scale still arrives whole and gets the file size
    // diagnostic; edits to it apply.
    let text = "# @audit Shop.Big\n".repeat(3_000_000 / 18);
    open(&mut server, &huge, &text);
    let published = server.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == huge
            && m["params"]["version"] == 1
    });
    assert!(
        published["params"]["diagnostics"][0]["message"].as_str().unwrap().contains("documents over"),
        "{published}"
    );
    let stderr = server.stop();
    assert!(stderr.contains("dropped a message over the size limit"), "{stderr}");
    assert!(stderr.contains("answered a request over the size limit"), "{stderr}");
    assert_unchanged(&before, &digest(dir.path()), "the server");
}

#[test]
fn logs_never_hold_file_contents() {
    for filter in ["trace", "trace,tower_lsp_server=trace,tower_lsp_server::codec=trace"] {
        logs_never_hold_file_contents_at(filter);
    }
}

fn logs_never_hold_file_contents_at(filter: &str) {
    const SECRET: &str = "hunter2-SECRET-4c1d";
    let dir = tempfile::tempdir().unwrap();
    let disk =
        format!("password = '{SECRET}'  # @audit Shop.Disk\n# @exposes Shop.Disk to #sqli -- \"{SECRET}\"\n");
    std::fs::write(dir.path().join("disk.py"), &disk).unwrap();
    std::fs::write(dir.path().join("good.py"), GOOD).unwrap();
    let mut server = StdioServer::start(dir.path(), Some(dir.path()), &[("THREAT_ANALYZER_LOG", filter)]);
    let good = uri_of(&dir.path().join("good.py"));
    open(&mut server, &good, GOOD);
    let buffer = uri_of(&dir.path().join("buffer.py"));
    open(&mut server, &buffer, &format!("token = '{SECRET}'\n# @audit Shop.Buffer -- \"{SECRET}\"\n"));
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": buffer, "version": 2},
               "contentChanges": [{"text": format!("# @exposes Shop.Buffer to #{SECRET}\n")}]}),
    );
    server.send_raw(format!("Content-Length: 30\r\n\r\n{{\"text\": \"{SECRET}\"").as_bytes());
    server.send_raw(b"}}}\r\n\r\n");
    server.request(
        "workspace/executeCommand",
        json!({"command": "threat-analyzer.dfd", "arguments": [{"format": "dot"}]}),
    );
    server.request("workspace/symbol", json!({"query": SECRET}));
    assert_alive(&mut server, &good, "logging at trace level");
    let stderr = server.stop();
    assert!(stderr.contains("indexing workspace"), "the log is on: {stderr}");
    assert!(!stderr.contains(SECRET), "file contents in the log ({filter}):\n{stderr}");
}

#[test]
fn untitled_documents_are_never_read_from_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    // A file whose name is the untitled document's URI, in the server's working directory.
    std::fs::write(dir.path().join("untitled:notes.py"), "# @exposes Shop.Disk to #nothing\n").unwrap();
    let before = digest(dir.path());
    let mut server = StdioServer::start(dir.path(), None, &[]);
    let uri = "untitled:notes.py";
    open(&mut server, uri, "# @asset Shop.Notes\n");
    server.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
    let symbols = server.request("workspace/symbol", json!({"query": "Shop"}));
    assert_eq!(symbols["result"], json!([]), "{symbols}");
    // Had the server read `untitled:notes.py` from its directory, its dangling reference
    // would be published now.
    let status = server.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"}));
    assert_eq!(status["result"]["files_with_annotations"], 0, "{status}");
    server.stop();
    assert_unchanged(&before, &digest(dir.path()), "the server");
}

#[test]
fn input_ending_inside_a_frame_ends_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = StdioServer::start(dir.path(), Some(dir.path()), &[]);
    server.send_raw(b"Content-Length: 100\r\n\r\n{\"jsonrpc\": \"2.0\"");
    let StdioServer { mut child, stdin, .. } = server;
    drop(stdin);
    let (status, _) = wait_exit(&mut child);
    assert!(status.success(), "{status:?}");
}

/// Issue 12 items 2 and 3 in the language server: a workspace whose `.gitignore` and
/// `threatspec.yaml` link to `/dev/zero` (read without bound, the server took all memory two
/// seconds after `initialize`) is indexed without them, under a 1 GiB memory cap, and the
/// user is told which files were not read.
#[cfg(target_os = "linux")]
#[test]
fn linked_ignore_and_config_files_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.py"), GOOD).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join(".gitignore")).unwrap();
    std::os::unix::fs::symlink("/proc/self/pagemap", dir.path().join("threatspec.yaml")).unwrap();
    let wrapper = ["prlimit".to_string(), "--as=1073741824".to_string(), "--".to_string()];
    let server = StdioServer::start_wrapped(dir.path(), Some(dir.path()), &[], &wrapper);
    let good = uri_of(&dir.path().join("good.py"));
    // Indexed from disk (not opened): its finding is published; each refused file is named
    // in a warning.
    let mut published = false;
    let mut warned = std::collections::BTreeSet::new();
    wait_for(&server.rx, |m| {
        let params = &m["params"];
        if m["method"] == "textDocument/publishDiagnostics" && params["uri"] == good.as_str() {
            published |= params["diagnostics"][0]["code"] == "unmitigated-exposure";
        }
        if m["method"] == "window/showMessage" && params["type"] == 2 {
            let text = params["message"].as_str().unwrap_or_default();
            warned.extend(
                [".gitignore", "threatspec.yaml"]
                    .into_iter()
                    .filter(|n| text.contains(&format!(": {n}: not read: "))),
            );
        }
        published && warned.len() == 2
    });
    server.stop();
}
