//! Issue 13: the language server and project configuration files. A `threatspec.yaml` or
//! `.guardlink/config.json` that does not match the disk, or does not parse, gets the same
//! diagnostics `check` gives, in that file; the rest of the folder is indexed; and editing the
//! file (saving it, or a change on disk) indexes the folder again.

use crate::lsp_support;

use lsp_support::{TestClient, codes, file_uri};
use serde_json::{Value, json};
use std::path::Path;

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The client reports file changes itself, so the server does not watch the disk: every
/// re-index in these tests comes from the notification the test sends.
fn caps() -> Value {
    json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}})
}

async fn start(dir: &Path) -> TestClient {
    let (mut client, _) = TestClient::start(dir, caps(), Value::Null).await;
    client
        .wait_for(|m| {
            m["method"] == "window/logMessage"
                && m["params"]["message"].as_str().is_some_and(|t| t.contains("threat-analyzer: indexed"))
        })
        .await;
    client
}

/// Names of the workspace symbols matching `query`.
async fn symbols(client: &mut TestClient, query: &str) -> Vec<String> {
    let found = client.request("workspace/symbol", json!({"query": query})).await;
    let mut names: Vec<String> =
        found.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

/// (code, 0-based line) of each diagnostic.
fn at_lines(diags: &[Value]) -> Vec<(String, u64)> {
    diags
        .iter()
        .map(|d| (d["code"].as_str().unwrap().to_string(), d["range"]["start"]["line"].as_u64().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_threatspec_yaml_is_a_warning_in_it_and_the_rest_is_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "threatspec.yaml",
        "project:\n  name: Shop\npaths:\n  - './terraform-infra'\n  - '*.java'\n  - src\n",
    );
    write(d, "Top.java", "// @asset Shop.Top\n");
    write(d, "src/app.py", "# @asset Shop.App\n");
    write(d, "other/x.py", "# @asset Shop.Other\n");
    let mut client = start(d).await;
    let config = file_uri(&d.join("threatspec.yaml"));
    let diags = client.diagnostics_for(&config, |d| !d.is_empty()).await;
    assert_eq!(at_lines(&diags), [("config-path-missing".to_string(), 3)], "{diags:?}");
    assert_eq!(diags[0]["severity"], 2, "a warning: {diags:?}");
    assert_eq!(symbols(&mut client, "Shop").await, ["Shop.App", "Shop.Top"]);

    // Opening the file keeps its diagnostic.
    let text = std::fs::read_to_string(d.join("threatspec.yaml")).unwrap();
    client.open(&config, "yaml", &text).await;
    let pulled = client.request("textDocument/diagnostic", json!({"textDocument": {"uri": config}})).await;
    let items = pulled["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(codes(&items), ["config-path-missing"], "{pulled}");

    // Fixing it and saving indexes the folder again with the new paths.
    let fixed = "project:\n  name: Shop\npaths:\n  - src\n  - other\n";
    write(d, "threatspec.yaml", fixed);
    client
        .notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": config, "version": 2}, "contentChanges": [{"text": fixed}]}),
        )
        .await;
    client.notify("textDocument/didSave", json!({"textDocument": {"uri": config}})).await;
    let diags = client.diagnostics_for(&config, |d| d.is_empty()).await;
    assert!(diags.is_empty());
    let mut names = Vec::new();
    for _ in 0..200 {
        names = symbols(&mut client, "Shop").await;
        if names.contains(&"Shop.Other".to_string()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(names, ["Shop.App", "Shop.Other"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_threatspec_yaml_that_does_not_parse_is_an_error_and_the_folder_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "threatspec.yaml", "project:\n  name: Shop\npaths: [src\n");
    write(d, "src/app.py", "# @asset Shop.App\n");
    write(d, "other/x.py", "# @asset Shop.Other\n");
    let mut client = start(d).await;
    let config = file_uri(&d.join("threatspec.yaml"));
    let diags = client.diagnostics_for(&config, |d| !d.is_empty()).await;
    assert_eq!(codes(&diags), ["invalid-config"], "{diags:?}");
    assert_eq!(diags[0]["severity"], 1, "an error: {diags:?}");
    assert_eq!(symbols(&mut client, "Shop").await, ["Shop.App", "Shop.Other"]);
    // No pop-up: the problem is where it is written.
    assert!(
        !client.notifications.iter().any(|m| m["method"] == "window/showMessage"),
        "{:?}",
        client.notifications
    );

    // A change on disk (the client's file event) indexes the folder again.
    write(d, "threatspec.yaml", "project:\n  name: Shop\npaths: [src]\n");
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": config, "type": 2}]})).await;
    client.diagnostics_for(&config, |d| d.is_empty()).await;
    let mut names = Vec::new();
    for _ in 0..200 {
        names = symbols(&mut client, "Shop").await;
        if names.len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(names, ["Shop.App"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guardlink_config_problems_are_diagnostics_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        ".guardlink/config.json",
        "{\n  \"project\": \"Shop\",\n  \"definitions\": \"definitions.ts\",\n  \"include\": [\"**/*.ts\"],\n  \"exclude\": [\"tests\"]\n}\n",
    );
    write(d, "src/app.ts", "// @asset Shop.App\n");
    write(d, "src/app.py", "# @asset Shop.Py\n");
    write(d, "tests/t.ts", "// @asset Shop.Test\n");
    let mut client = start(d).await;
    let config = file_uri(&d.join(".guardlink/config.json"));
    let diags = client.diagnostics_for(&config, |d| !d.is_empty()).await;
    assert_eq!(at_lines(&diags), [("config-path-missing".to_string(), 2)], "{diags:?}");
    assert_eq!(symbols(&mut client, "Shop").await, ["Shop.App"]);
}

/// Threat libraries in the server: each workspace folder's are used together (before, the
/// last folder scanned replaced the others'), a library changed or deleted on disk indexes its
/// folder again (before, the server kept the old entries until restarted), and a removed
/// folder's library is forgotten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_folders_threat_library_is_used_and_a_changed_one_is_read_again() {
    let library = |id: &str| format!("threats:\n  - id: {id}\n    name: Library threat {id}\n");
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    write(first.path(), "threat-library.yaml", &library("TL-1"));
    write(first.path(), "uses.py", "# @exposes Shop to #TL-1\n# @exposes Shop to #TL-2\n");
    write(second.path(), "threat-library.yaml", &library("TL-2"));
    let uses = file_uri(&first.path().join("uses.py"));
    let messages = |diags: &[Value]| -> Vec<String> {
        diags
            .iter()
            .map(|d| format!("{} {}", d["code"].as_str().unwrap(), d["range"]["start"]["line"]))
            .collect()
    };
    let mut client = start(first.path()).await;
    let diags = client.diagnostics_for(&uses, |d| d.len() == 2).await;
    assert_eq!(messages(&diags), ["unmitigated-exposure 0", "dangling-reference 1"], "{diags:?}");

    // The second folder's library joins the first's: both references resolve.
    let second_uri = file_uri(second.path());
    let folders = |added: &[&str], removed: &[&str]| {
        let list = |uris: &[&str]| uris.iter().map(|u| json!({"uri": u, "name": "f"})).collect::<Vec<_>>();
        json!({"event": {"added": list(added), "removed": list(removed)}})
    };
    client.notify("workspace/didChangeWorkspaceFolders", folders(&[&second_uri], &[])).await;
    let both_resolved = |d: &[Value]| d.len() == 2 && d.iter().all(|d| d["code"] == "unmitigated-exposure");
    client.diagnostics_for(&uses, both_resolved).await;

    // The first folder's library changed on disk: TL-1 is gone from it.
    write(first.path(), "threat-library.yaml", &library("TL-9"));
    let changed = file_uri(&first.path().join("threat-library.yaml"));
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": changed, "type": 2}]})).await;
    let diags = client.diagnostics_for(&uses, |d| d.iter().any(|d| d["code"] == "dangling-reference")).await;
    assert_eq!(messages(&diags), ["dangling-reference 0", "unmitigated-exposure 1"], "{diags:?}");

    // The second folder removed: its library goes with it.
    client.notify("workspace/didChangeWorkspaceFolders", folders(&[], &[&second_uri])).await;
    let diags = client
        .diagnostics_for(&uses, |d| d.len() == 2 && d.iter().all(|d| d["code"] == "dangling-reference"))
        .await;
    assert_eq!(messages(&diags), ["dangling-reference 0", "dangling-reference 1"], "{diags:?}");

    // A library file created where the walk looks for one is read.
    std::fs::remove_file(first.path().join("threat-library.yaml")).unwrap();
    write(first.path(), "threat-library.yml", &library("TL-2"));
    let created = file_uri(&first.path().join("threat-library.yml"));
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": created, "type": 1}]})).await;
    let diags =
        client.diagnostics_for(&uses, |d| d.iter().any(|d| d["code"] == "unmitigated-exposure")).await;
    assert_eq!(messages(&diags), ["dangling-reference 0", "unmitigated-exposure 1"], "{diags:?}");
}
