//! `unmodelled-resource` in the editor (issue 20 §3): each workspace folder's templates are
//! derived when the code is on (by the folder's configuration or the `severity` setting), the
//! notes are published at the resources' definition lines, and they follow the templates'
//! edits: a resource annotated or removed loses its note.
use crate::lsp_support;
use lsp_support::*;
use serde_json::{Value, json};
use std::fs;

const MAIN_TF: &str = "\
resource \"aws_s3_bucket\" \"uploads\" {
  bucket = \"shop-uploads\"
}

resource \"aws_db_instance\" \"main\" {
  engine = \"postgres\"
}
";

/// `(line, message)` of the `unmodelled-resource` notes among `diags`.
fn notes(diags: &[Value]) -> Vec<(u64, String)> {
    diags
        .iter()
        .filter(|d| d["code"] == "unmodelled-resource")
        .map(|d| (d["range"]["start"]["line"].as_u64().unwrap(), d["message"].as_str().unwrap().to_string()))
        .collect()
}

fn lines(diags: &[Value]) -> Vec<u64> {
    notes(diags).into_iter().map(|(line, _)| line).collect()
}

/// Replaces the open document's text; what was published before it is forgotten, so the next
/// wait sees only publishes that follow this edit.
async fn change(client: &mut TestClient, uri: &str, version: i32, text: &str) {
    client.notifications.clear();
    client
        .notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        )
        .await;
}

/// A folder with `MAIN_TF` whose configuration turns the check on.
fn configured_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("main.tf"), MAIN_TF).unwrap();
    let config = "threat-analyzer:\n  infra:\n    unmodelled-resource: note\n";
    fs::write(dir.path().join("threatspec.yaml"), config).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_are_published_by_the_configuration_and_follow_the_templates_edits() {
    let dir = configured_project();
    let (mut client, _) = TestClient::start(dir.path(), json!({}), Value::Null).await;
    let uri = file_uri(&dir.path().join("main.tf"));
    let diags = client.diagnostics_for(&uri, |d| lines(d) == [0, 4]).await;
    let found = notes(&diags);
    assert!(found[1].1.contains("aws_db_instance `aws_db_instance.main` (data store)"), "{found:?}");
    assert!(diags.iter().all(|d| d["severity"] == 3), "information: {diags:?}");

    // Annotated by hand above its definition: the bucket's note goes.
    client.open(&uri, "terraform", MAIN_TF).await;
    let annotated = format!("# @asset Shop.Uploads -- \"user uploads\"\n{MAIN_TF}");
    change(&mut client, &uri, 2, &annotated).await;
    client.diagnostics_for(&uri, |d| lines(d) == [5]).await;
    // The database removed from the template: its stale note goes too.
    let without_db = annotated.split("resource \"aws_db_instance\"").next().unwrap().to_string();
    change(&mut client, &uri, 3, &without_db).await;
    client.diagnostics_for(&uri, |d| lines(d).is_empty()).await;
    // Back again: noted again.
    change(&mut client, &uri, 4, &annotated).await;
    client.diagnostics_for(&uri, |d| lines(d) == [5]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_severity_setting_turns_the_check_on_and_off() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("main.tf"), MAIN_TF).unwrap();
    // A file with an annotation, so that the first publish can be waited for.
    fs::write(dir.path().join("app.py"), "# @asset Shop.App\n").unwrap();
    let options = json!({"severity": {"unmodelled-resource": "warning"}});
    let (mut client, _) = TestClient::start(dir.path(), json!({}), options).await;
    let uri = file_uri(&dir.path().join("main.tf"));
    let diags = client.diagnostics_for(&uri, |d| lines(d) == [0, 4]).await;
    assert!(diags.iter().all(|d| d["severity"] == 2), "warnings: {diags:?}");
    client.notify("workspace/didChangeConfiguration", json!({"settings": {"severity": {}}})).await;
    client.diagnostics_for(&uri, |d| d.is_empty()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_action_inserts_the_baseline_annotations_and_the_note_goes() {
    let dir = configured_project();
    // The definitions file exists: the action adds the definitions the lines use to it.
    fs::create_dir(dir.path().join(".guardlink")).unwrap();
    let gal_text = "@asset Shop -- \"the shop\"\n";
    fs::write(dir.path().join(".guardlink/baseline.gal"), gal_text).unwrap();
    let caps = json!({"workspace": {"workspaceEdit": {"documentChanges": true}}});
    let (mut client, _) = TestClient::start(dir.path(), caps, Value::Null).await;
    let uri = file_uri(&dir.path().join("main.tf"));
    let gal = file_uri(&dir.path().join(".guardlink/baseline.gal"));
    client.diagnostics_for(&uri, |d| lines(d) == [0, 4]).await;
    client.open(&uri, "terraform", MAIN_TF).await;
    let range = json!({"start": {"line": 4, "character": 0}, "end": {"line": 4, "character": 5}});
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range, "context": {"diagnostics": []}}),
        )
        .await;
    let action = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Insert baseline annotations for aws_db_instance.main")
        .unwrap_or_else(|| panic!("no insert action: {actions}"));
    assert_eq!(action["kind"], "quickfix");
    let edits_of = |file: &str| -> Vec<Value> {
        let changes = action["edit"]["documentChanges"].as_array().unwrap();
        changes
            .iter()
            .filter(|c| c["textDocument"]["uri"] == file)
            .flat_map(|c| c["edits"].as_array().unwrap().clone())
            .collect()
    };
    let fixed = crate::features::apply(MAIN_TF, &edits_of(&uri));
    assert!(fixed.contains("# @asset aws_db_instance_main"), "{fixed}");
    assert!(
        fixed.ends_with(&MAIN_TF[MAIN_TF.find("resource \"aws_db_instance\"").unwrap()..]),
        "inserted above: {fixed}"
    );
    let defined = crate::features::apply(gal_text, &edits_of(&gal));
    assert!(defined.starts_with(gal_text) && defined.contains("@threat"), "{defined}");

    // Applied as an editor would: the database's note goes, the bucket's stays, and the
    // threats the new lines name are defined.
    client.open(&gal, "gal", gal_text).await;
    change(&mut client, &gal, 2, &defined).await;
    change(&mut client, &uri, 2, &fixed).await;
    let diags = client
        .diagnostics_for(&uri, |d| lines(d) == [0] && codes(d).iter().all(|c| c != "dangling-reference"))
        .await;
    assert!(
        codes(&diags).iter().all(|c| c == "unmodelled-resource" || c == "unmitigated-exposure"),
        "{diags:?}"
    );
}
