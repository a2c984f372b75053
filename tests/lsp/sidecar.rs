//! GuardLink `.gal` sidecars in the language server: a finding from a sidecar annotation is
//! published on the source file its `@source` anchors to (and kept on the `.gal` line), and a
//! stale anchor's code action moves the line number.
use crate::lsp_support;
use lsp_support::*;
use serde_json::{Value, json};
use std::fs;
use std::path::Path;

const GAL: &str = ".guardlink/annotations/app/ledger.py.gal";

fn fixture_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli/sidecar");
    for rel in [".guardlink/definitions.gal", GAL, "app/ledger.py"] {
        let to = dir.path().join(rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(from.join(rel), to).unwrap();
    }
    dir
}

fn with_code<'a>(diags: &'a [Value], code: &str) -> Vec<&'a Value> {
    diags.iter().filter(|d| d["code"] == code).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sidecar_finding_is_published_on_the_source_file_and_on_the_gal_line() {
    let dir = fixture_copy();
    let (mut client, _) = TestClient::start(dir.path(), json!({}), Value::Null).await;
    let source = file_uri(&dir.path().join("app/ledger.py"));
    let gal = file_uri(&dir.path().join(GAL));

    // app/ledger.py holds no annotation: the exposure written in the sidecar is published there,
    // on `def search_entries(...)` (line 8), with the `.gal` line as related information.
    let diags = client.diagnostics_for(&source, |d| !d.is_empty()).await;
    assert_eq!(codes(&diags), ["unmitigated-exposure"], "{diags:#?}");
    assert_eq!(diags[0]["range"]["start"], json!({"line": 7, "character": 0}));
    let related = &diags[0]["relatedInformation"][0]["location"];
    assert_eq!(related["uri"], gal.as_str());
    assert_eq!(related["range"]["start"]["line"], 1);

    // The `.gal` file keeps it on the annotation's line, pointing back at the source.
    let diags = client.diagnostics_for(&gal, |d| d.iter().any(|d| d["code"] == "unmitigated-exposure")).await;
    let on_gal = with_code(&diags, "unmitigated-exposure");
    assert_eq!(on_gal[0]["range"]["start"], json!({"line": 1, "character": 0}));
    assert_eq!(on_gal[0]["relatedInformation"][0]["location"]["uri"], source.as_str());
    assert_eq!(on_gal[0]["relatedInformation"][0]["location"]["range"]["start"]["line"], 7);
    assert_eq!(with_code(&diags, "stale-anchor").len(), 2, "{diags:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stale_anchor_code_action_moves_the_line_and_the_warning_goes() {
    let dir = fixture_copy();
    let (mut client, _) = TestClient::start(dir.path(), json!({}), Value::Null).await;
    let gal = file_uri(&dir.path().join(GAL));
    let text = fs::read_to_string(dir.path().join(GAL)).unwrap();
    let diags = client.diagnostics_for(&gal, |d| d.iter().any(|d| d["code"] == "stale-anchor")).await;
    let stale = with_code(&diags, "stale-anchor")
        .into_iter()
        .find(|d| d["message"].as_str().unwrap().contains("add_entry"))
        .expect("the moved symbol's anchor")
        .clone();
    assert_eq!(stale["range"]["start"], json!({"line": 3, "character": 32}));
    client.open(&gal, "gal", &text).await;
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": gal}, "range": stale["range"], "context": {"diagnostics": [stale]}}),
        )
        .await;
    let action = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Move the anchor to line 13")
        .unwrap_or_else(|| panic!("{actions:#}"));
    let edits = action["edit"]["changes"][gal.as_str()].as_array().unwrap_or_else(|| panic!("{action:#}"));
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["newText"], "13");
    // Apply it as the editor does.
    client
        .notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": gal, "version": 2},
                   "contentChanges": [{"range": edits[0]["range"], "text": "13"}]}),
        )
        .await;
    let diags =
        client.diagnostics_for(&gal, |d| d.iter().filter(|d| d["code"] == "stale-anchor").count() == 1).await;
    let left = with_code(&diags, "stale-anchor");
    assert!(left[0]["message"].as_str().unwrap().contains("app/reports.py"), "{left:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_the_anchored_source_moves_the_finding_with_its_symbol() {
    let dir = fixture_copy();
    let (mut client, _) = TestClient::start(dir.path(), json!({}), Value::Null).await;
    let source = file_uri(&dir.path().join("app/ledger.py"));
    let text = fs::read_to_string(dir.path().join("app/ledger.py")).unwrap();
    client.diagnostics_for(&source, |d| !d.is_empty()).await;
    client.open(&source, "python", &text).await;
    client
        .notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": source, "version": 2},
                   "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                                       "text": "\"\"\"Ledger storage.\"\"\"\n\n"}]}),
        )
        .await;
    let diags = client.diagnostics_for(&source, |d| d.iter().any(|d| d["range"]["start"]["line"] == 9)).await;
    assert_eq!(codes(&diags), ["unmitigated-exposure"], "{diags:#?}");
}
