//! Threat libraries (issue 19 §1): the built-in library referenced as `#lib.<id>` without a
//! local definition — in the model, the diagnostics, the exports' STRIDE, the IDE features
//! (completion, hover, definition) and the language server.
#[path = "support/cli.rs"]
mod cli;
#[path = "support/lsp.rs"]
mod lsp_support;
mod support;

use lsp_support::{TestClient, codes, file_uri};
use serde_json::{Value, json};
use std::fs;
use threat_analyzer::analysis::ide::completion::completion;
use threat_analyzer::analysis::ide::navigation::{definition_url, goto_definition, hover};
use threat_analyzer::analysis::{self, Analysis};
use threat_analyzer::model::ProjectIndex;

fn index(text: &str) -> (String, ProjectIndex) {
    let file = "app.py".to_string();
    (file.clone(), support::index_of(&[(file, text.to_string())]))
}

fn codes_of(index: &ProjectIndex) -> Vec<String> {
    analysis::diagnostics(index).iter().map(|d| format!("{} {}", d.code.as_str(), d.message)).collect()
}

const APP: &str = "# @asset Shop.Db (#db)\n\
# @exposes #db to #lib.cwe-89 [high] -- \"raw SQL\"\n\
# @mitigates #db against #lib.CWE-89 using #prepared\n\
# @control Prepared statements (#prepared)\n\
# @exposes #db to #lib.stride-tampering\n";

#[test]
fn library_tags_resolve_without_a_definition_in_any_case() {
    let (_, index) = index(APP);
    let dump = index.dump();
    assert_eq!(dump.matches("threat=threat:lib:cwe-89@").count(), 2, "{dump}");
    assert!(dump.contains("threat=threat:lib:stride-tampering@"), "{dump}");
    let codes = codes_of(&index);
    // The SQL injection is mitigated; the tampering exposure is open; nothing dangles.
    assert_eq!(
        codes,
        [
            "unmitigated-exposure `#db` is exposed to `#lib.stride-tampering` (Tampering) and nothing mitigates, \
          accepts or transfers it"
        ]
    );
}

#[test]
fn an_unknown_library_id_dangles_and_says_where_it_looked() {
    let (_, index) = index("# @exposes Shop.Db to #lib.cwe-99999\n");
    let codes = codes_of(&index);
    assert!(
        codes
            .iter()
            .any(|c| c.starts_with("dangling-reference `#lib.cwe-99999` is not defined: no threat library")),
        "{codes:?}"
    );
}

#[test]
fn exports_take_the_entry_name_description_and_stride_from_the_library() {
    let tmp = cli::tempdir();
    cli::write(tmp.path(), "app.py", APP);
    let out = tmp.path().join("model.json");
    let run = cli::run(tmp.path(), &["export", "--format", "json", "-o", out.to_str().unwrap(), "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    let threats = model["threats"].as_array().unwrap();
    let sqli = threats.iter().find(|t| t["key"] == "lib:cwe-89").expect("the library threat");
    assert_eq!(
        sqli["name"],
        "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"
    );
    // STRIDE comes from analysis::stride's mapping of the entry's `cwe:CWE-89`.
    assert_eq!(sqli["stride"], json!(["T", "I"]));
    assert_eq!(sqli["refs"], json!(["cwe:CWE-89"]));
    let tampering = threats.iter().find(|t| t["key"] == "lib:stride-tampering").unwrap();
    assert_eq!(tampering["stride"], json!(["T"]));
}

#[test]
fn completion_offers_library_entries_after_the_project_ids() {
    let text = "# @threat Local (#local)\n# @exposes Shop.Db to #lib.cw\n# @exposes Shop.Db to #\n";
    let (file, index) = index(text);
    let after_lib = completion(&index, &file, text.find("#lib.cw").unwrap() + "#lib.cw".len());
    let labels: Vec<&str> = after_lib.iter().map(|i| i.label.as_str()).collect();
    assert!(labels.contains(&"#lib.cwe-89") && labels.contains(&"#lib.owasp-a03"), "{labels:?}");
    assert!(!labels.contains(&"#local"), "only library entries after `#lib.`: {labels:?}");
    let item = after_lib.iter().find(|i| i.label == "#lib.cwe-89").unwrap();
    assert_eq!(item.insert_text, "cwe-89");
    assert_eq!(&text[item.replace.start()..item.replace.end()], "cw");
    let after_hash = completion(&index, &file, text.rfind('#').unwrap() + 1);
    let labels: Vec<&str> = after_hash.iter().map(|i| i.label.as_str()).collect();
    // After `#`: the project's ids, then one `#lib.` item (not every entry).
    assert_eq!(labels, ["#local", "#lib."]);
    assert_eq!(after_hash[1].insert_text, "lib.");
    assert!(after_hash[0].sort_text < after_hash[1].sort_text);
}

#[test]
fn hover_and_definition_of_a_library_threat() {
    let (file, index) = index(APP);
    let analysis = Analysis::new(&index);
    let at = APP.find("#lib.cwe-89").unwrap() + 6;
    let md = hover(&index, &analysis, &file, at).expect("a hover").markdown;
    assert!(md.starts_with("**threat** Improper Neutralization"), "{md}");
    assert!(md.contains("`#lib.cwe-89`"), "{md}");
    assert!(md.contains("STRIDE: Tampering, Information disclosure"), "{md}");
    assert!(md.contains("Typical mitigations:\n- Use parameterised queries"), "{md}");
    assert!(md.contains("[documentation](https://cwe.mitre.org/data/definitions/89.html)"), "{md}");
    assert!(md.contains("1 mitigation") || md.contains("mitigated"), "the project status follows: {md}");
    assert!(goto_definition(&index, &file, at).is_empty(), "no place in the project");
    assert_eq!(
        definition_url(&index, &file, at).as_deref(),
        Some("https://cwe.mitre.org/data/definitions/89.html")
    );
    // A local entity has no URL.
    assert_eq!(definition_url(&index, &file, APP.find("#prepared").unwrap() + 2), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_server_completes_hovers_and_opens_library_threats() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("app.py"), APP).unwrap();
    let (mut client, _) = TestClient::start(tmp.path(), json!({}), Value::Null).await;
    let uri = file_uri(&tmp.path().join("app.py"));
    client.wait_for(|m| m["method"] == "window/logMessage").await;
    let diags = client.diagnostics_for(&uri, |d| !d.is_empty()).await;
    assert_eq!(codes(&diags), ["unmitigated-exposure"], "{diags:?}");
    let at = json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 25}});
    let hover = client.request("textDocument/hover", at.clone()).await;
    assert!(hover.to_string().contains("SQL Injection"), "{hover}");
    let found = client.request("textDocument/definition", at).await;
    let target = found.as_array().and_then(|a| a.first()).cloned().unwrap_or(found.clone());
    assert_eq!(target["uri"], "https://cwe.mitre.org/data/definitions/89.html", "{found}");
    let line4 = json!({"textDocument": {"uri": uri}, "position": {"line": 4, "character": 27}});
    let items = client.request("textDocument/completion", line4).await;
    assert!(items.to_string().contains("\"#lib.stride-tampering\""), "{items}");
}
