//! Load on the real server process: a burst of 10,000 `didChange` notifications at full speed
//! with 50 requests interleaved, and a generated corpus indexed while a document is edited
//! continuously. Every request is answered, edits apply in order (the final text and
//! diagnostics are exactly what the client sent, and no request sees an edit older than one
//! sent before it), and resident memory stays bounded.
//!
//! The corpus test is scaled down for `cargo test` (2,000 files, 20,000 relations); with
//! `THREAT_ANALYZER_LOAD=full` it runs on 20,000 files and 200,000 relations, the benchmark's
//! huge corpus (run it with a release build: `THREAT_ANALYZER_LOAD=full cargo test --release
//! --test load -- --nocapture`).

#[path = "support/stdio.rs"]
mod stdio;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};
use stdio::*;

fn uri_of(path: &std::path::Path) -> String {
    tower_lsp_server::ls_types::Uri::from_file_path(path).unwrap().as_str().to_string()
}

/// The document after `n` edits: the exposed asset names the edit count, and the string
/// before the Tail asset's comment grew by one `x` per edit.
fn text_after(n: usize) -> String {
    format!(
        "# @threat T (#t) [high]\n# @exposes Load.V{n:05} to #t\nx = \"{}\"  # @asset Load.Tail\n",
        "x".repeat(n)
    )
}

/// The two edits that take the text from `text_after(n - 1)` to `text_after(n)`.
fn edit(n: usize, version: i64, uri: &str) -> Value {
    json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
    "textDocument": {"uri": uri, "version": version},
    "contentChanges": [
        {"range": {"start": {"line": 1, "character": 17}, "end": {"line": 1, "character": 22}},
         "text": format!("{n:05}")},
        {"range": {"start": {"line": 2, "character": 5}, "end": {"line": 2, "character": 5}}, "text": "x"},
    ]}})
}

fn write_frame(server: &mut StdioServer, message: &Value) {
    let body = message.to_string();
    write!(server.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
}

/// Where the Tail annotation starts after `n` edits (after a string of `n` x's).
fn tail_start(n: usize) -> usize {
    "x = \"\"  # ".len() + n
}

/// The Tail asset in a `documentSymbol` answer (at any depth).
fn tail_symbol(symbols: &Value) -> Option<Value> {
    symbols.as_array()?.iter().find_map(|s| {
        if s["name"].as_str().is_some_and(|n| n.ends_with("Tail")) {
            Some(s.clone())
        } else {
            tail_symbol(&s["children"])
        }
    })
}

/// Hover on the exposed asset, whose name holds the edit count.
fn hover_counter(uri: &str) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 14}})
}

#[test]
fn ten_thousand_edits_with_fifty_requests_interleaved() {
    const EDITS: usize = 10_000;
    const REQUESTS: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let mut server = StdioServer::start(dir.path(), Some(dir.path()), &[]);
    let uri = uri_of(&dir.path().join("load.py"));
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 0, "text": text_after(0)}}),
    );
    let started = Instant::now();
    let mut asked: HashMap<i64, (usize, &str)> = HashMap::new();
    for n in 1..=EDITS {
        write_frame(&mut server, &edit(n, n as i64, &uri));
        if n % (EDITS / REQUESTS) == 0 {
            let id = 1000 + n as i64;
            let (method, params) = match (n / (EDITS / REQUESTS)) % 3 {
                0 => ("workspace/symbol", json!({"query": "Load.Tail"})),
                1 => ("textDocument/documentSymbol", json!({"textDocument": {"uri": uri}})),
                _ => ("textDocument/hover", hover_counter(&uri)),
            };
            write_frame(
                &mut server,
                &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
            );
            asked.insert(id, (n, method));
        }
    }
    server.stdin.flush().unwrap();
    let sent = started.elapsed();
    // Every request answered; none saw a text older than the edits sent before it.
    let mut answered = 0;
    let mut final_diagnostics = None;
    while answered < REQUESTS || final_diagnostics.is_none() {
        let m = server.wait_for(|_| true);
        if let Some(&(n, method)) = m["id"].as_i64().and_then(|id| asked.get(&id)) {
            assert!(m.get("result").is_some(), "{m}");
            answered += 1;
            if method == "textDocument/documentSymbol" {
                // The Tail asset sits after a string of at least `n` x's.
                let tail = tail_symbol(&m["result"]).unwrap_or_else(|| panic!("{m}"));
                let start = tail["range"]["start"]["character"].as_u64().unwrap() as usize;
                assert!(start >= tail_start(n), "request after edit {n} saw the Tail asset at {start}: {m}");
            }
            if method == "textDocument/hover" {
                let c = m["result"]["contents"]["value"].as_str().unwrap_or_else(|| panic!("{m}"));
                let shown: usize = c
                    .split("Load.V")
                    .nth(1)
                    .and_then(|t| t.get(..5))
                    .and_then(|t| t.parse().ok())
                    .unwrap_or_else(|| panic!("{c}"));
                assert!(shown >= n, "hover after edit {n} saw Load.V{shown:05}: {c}");
            }
        } else if m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == EDITS as i64 {
            final_diagnostics = Some(m);
        }
    }
    let handled = started.elapsed();
    // The final text is exactly the client's: the last version's diagnostic names its asset.
    let diagnostics = final_diagnostics.unwrap();
    let message = diagnostics["params"]["diagnostics"][0]["message"].as_str().unwrap();
    assert!(message.contains(&format!("Load.V{EDITS:05}")), "{diagnostics}");
    let outline = server.request("textDocument/documentSymbol", json!({"textDocument": {"uri": uri}}));
    let tail = tail_symbol(&outline["result"]).unwrap_or_else(|| panic!("{outline}"));
    assert_eq!(tail["range"]["start"]["character"], tail_start(EDITS), "{tail}");
    let rss = server.memory_kib("VmRSS:");
    let peak = server.memory_kib("VmHWM:");
    eprintln!(
        "{EDITS} edits + {REQUESTS} requests: sent in {sent:?}, all handled in {handled:?}; resident {rss} KiB, peak {peak} KiB"
    );
    assert!(peak < 400_000, "peak resident memory {peak} KiB");
    server.stop();
}

/// Writes a corpus like the benchmark's dense one: `files` C files of 10 ThreatSpec 0.5
/// relations each, plus one catalogue of definitions.
fn corpus(dir: &std::path::Path, files: usize) {
    let threats = 30;
    let mut catalog = String::new();
    for t in 0..threats {
        catalog.push_str(&format!("// @threat Threat {t} (#t{t})\n// @control Control {t} (#c{t})\n"));
    }
    std::fs::write(dir.join("catalog.c"), catalog).unwrap();
    for f in 0..files {
        let sub = dir.join(format!("svc{:02}", f % 20));
        std::fs::create_dir_all(&sub).unwrap();
        let c = format!("App:Svc{}:Mod{f}", f % 20);
        let (a, b) = (f % threats, (f + 7) % threats);
        let text = format!(
            "/* module {f} */\n#include <stdint.h>\n\
             // @exposes {c} to #t{a} with input parsing\n// @mitigates {c} against #t{a} with #c{a}\n\
             int decode_{f}(const uint8_t *p, int n) {{ return n > 0 ? p[0] : -1; }}\n\
             // @exposes {c} to #t{b} with a shared cache\n// @accepts #t{b} to {c} with internal only\n\
             // @connects {c} to App:Svc{}:Mod{} with HTTPS\n// @review {c} bounds checked\n\
             // @tests #c{a} for {c}\n// @transfers #t{b} from {c} to App:Gateway with the gateway\n\
             // @mitigates {c} against #t{b} with #c{b}\n// @exposes {c} to #t{} with logs\n\
             static int state_{f};\n",
            (f + 1) % 20,
            f + 1,
            (f + 3) % threats
        );
        std::fs::write(sub.join(format!("mod_{f:05}.c")), text).unwrap();
    }
}

#[test]
fn a_corpus_indexed_while_a_document_is_edited() {
    let full = std::env::var("THREAT_ANALYZER_LOAD").is_ok_and(|v| v == "full");
    let files = if full { 20_000 } else { 2_000 };
    let dir = tempfile::tempdir().unwrap();
    let generated = Instant::now();
    corpus(dir.path(), files);
    eprintln!("generated {files} files ({} relations) in {:?}", files * 10, generated.elapsed());
    let mut server = StdioServer::start(dir.path(), Some(dir.path()), &[]);
    let started = Instant::now();
    let uri = uri_of(&dir.path().join("edited.py"));
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 0, "text": text_after(0)}}),
    );
    // Edit continuously until indexing has finished, then 200 more edits.
    let mut n = 0;
    let mut indexed: Option<Duration> = None;
    let mut after = 0;
    while after < 200 {
        n += 1;
        write_frame(&mut server, &edit(n, n as i64, &uri));
        server.stdin.flush().unwrap();
        if indexed.is_some() {
            after += 1;
        }
        // (Every file with a diagnostic gets a publish: read them all as they come.)
        while indexed.is_none()
            && let Ok(m) = server.rx.try_recv()
        {
            if m["method"] == "window/logMessage"
                && m["params"]["message"].as_str().is_some_and(|t| t.contains("threat-analyzer: indexed"))
            {
                indexed = Some(started.elapsed());
                eprintln!("{}", m["params"]["message"]);
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // The last edit's diagnostics first: a request's answer is awaited by skipping every other
    // message, so a publish that arrived before the status answer (the debounce ran out while
    // a loaded machine computed the status) would be skipped and never seen.
    let diagnostics = server.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri.as_str()
            && m["params"]["version"] == n as i64
    });
    let message = diagnostics["params"]["diagnostics"][0]["message"].as_str().unwrap();
    assert!(message.contains(&format!("Load.V{n:05}")), "{diagnostics}");
    let status = server.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"}));
    // Every generated file, the catalogue and the edited document.
    assert_eq!(status["result"]["files_with_annotations"], files + 2, "{status}");
    assert_eq!(status["result"]["annotations"], files * 10 + 60 + 3, "{status}");
    let hover = server.request("textDocument/hover", hover_counter(&uri));
    assert!(
        hover["result"]["contents"]["value"].as_str().is_some_and(|v| v.contains(&format!("Load.V{n:05}"))),
        "{hover}"
    );
    let peak = server.memory_kib("VmHWM:");
    let rss = server.memory_kib("VmRSS:");
    eprintln!(
        "{files} files indexed in {:?} while {n} edits were made; resident {rss} KiB, peak {peak} KiB",
        indexed.unwrap()
    );
    assert!(peak < if full { 2_000_000 } else { 500_000 }, "peak resident memory {peak} KiB");
    server.stop();
}
