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

// ---- Project libraries (issue 19 §1, second part) ----

fn fixture(name: &str) -> std::path::PathBuf {
    cli::manifest_dir().join("tests/fixtures/threat-libraries").join(name)
}

/// `check --format json` of `dir`: (code, file, line, message) of every diagnostic.
fn check_json(dir: &std::path::Path) -> Vec<(String, String, u64, String)> {
    let run = cli::run(dir, &["check", "--no-cache", "--format", "json", "."]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
            (s("code"), s("file"), d["line"].as_u64().unwrap(), s("message"))
        })
        .collect()
}

fn export_threats(dir: &std::path::Path) -> Vec<Value> {
    let tmp = cli::tempdir();
    let out = tmp.path().join("model.json");
    let run = cli::run(
        dir,
        &[
            "export",
            "--no-cache",
            "--allow-outside-output",
            "--format",
            "json",
            "-o",
            out.to_str().unwrap(),
            ".",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    let mut all = model["threats"].as_array().unwrap().clone();
    all.extend(model["controls"].as_array().cloned().unwrap_or_default());
    all
}

#[test]
fn a_threat_library_yaml_found_by_name_resolves_and_conflicts_name_both() {
    let found = check_json(&fixture("yaml"));
    let codes: Vec<(&str, &str, u64)> =
        found.iter().map(|(c, f, l, _)| (c.as_str(), f.as_str(), *l)).collect();
    // `#TL-INJ-001` and `#lib.TL-INJ-001` are the library's SQL injection (mitigated);
    // `#lib.tl-inj-002` resolves in any case; nothing dangles.
    assert_eq!(
        codes,
        [
            ("unused-definition", "app.py", 5),
            ("duplicate-definition", "app.py", 5),
            ("unmitigated-exposure", "app.py", 6),
            ("invalid-config", "threat-library.yaml", 24),
        ],
        "{found:#?}"
    );
    let duplicate = &found[1].3;
    assert!(
        duplicate.contains(
            "`#TL-XSS-001` (`My XSS`) is also defined by the threat library at threat-library.yaml:22"
        ) && duplicate.contains("(threat `Reflected XSS`)"),
        "names both: {duplicate}"
    );
    assert!(found[3].3.contains("\"browser\" is not an element kind"), "{found:#?}");
    let threats = export_threats(&fixture("yaml"));
    let sqli = threats.iter().find(|t| t["key"] == "lib:tl-inj-001").expect("the library threat");
    assert_eq!(sqli["name"], "SQL injection");
    assert_eq!(sqli["stride"], json!(["T", "I"]), "from its `cwe: CWE-89`, by the STRIDE mapping");
}

#[test]
fn threatspec_imports_and_the_0_1_cwe_library_resolve() {
    let found = check_json(&fixture("threatspec05"));
    let codes: Vec<&str> = found.iter().map(|(c, ..)| c.as_str()).collect();
    assert_eq!(codes, ["unmitigated-exposure"], "{found:#?}");
    let entities = export_threats(&fixture("threatspec05"));
    let names: Vec<(&str, &str)> =
        entities.iter().map(|t| (t["key"].as_str().unwrap(), t["name"].as_str().unwrap())).collect();
    assert!(names.contains(&("lib:sql_injection", "SQL injection")), "{names:?}");
    assert!(names.contains(&("lib:session_hijacking", "Session hijacking")), "{names:?}");
    assert!(names.contains(&("lib:parameterised_queries", "Parameterised queries")), "a control: {names:?}");

    let found = check_json(&fixture("threatspec01"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].3.contains("(Missing Encryption of Sensitive Data)"), "{found:#?}");
    let threats = export_threats(&fixture("threatspec01"));
    let cwe311 = threats
        .iter()
        .find(|t| t["key"] == "lib:cwe_311_missing_encryption_of_sensitive_data")
        .expect("the library's entry, not the bare legacy id");
    assert_eq!(cwe311["stride"], json!(["I"]), "CWE-311 by the STRIDE mapping");
}

#[test]
fn configured_libraries_report_every_problem_where_it_is_and_go_on() {
    let found = check_json(&fixture("configured"));
    let shown: Vec<(&str, &str, u64)> =
        found.iter().map(|(c, f, l, _)| (c.as_str(), f.as_str(), *l)).collect();
    assert_eq!(
        shown,
        [
            ("invalid-config", ".guardlink/config.json", 4),
            ("invalid-config", ".guardlink/config.json", 4),
            ("config-path-missing", ".guardlink/config.json", 4),
            ("unmitigated-exposure", "app.ts", 1),
            ("invalid-config", "security/threats.yaml", 7),
            ("invalid-config", "security/threats.yaml", 8),
            ("duplicate-definition", "security/threats.yaml", 10),
        ],
        "{found:#?}"
    );
    let messages: Vec<&str> = found.iter().map(|(.., m)| m.as_str()).collect();
    assert!(messages[1].contains("\"../outside.yaml\" is outside the project"), "{messages:?}");
    assert!(messages[3].contains("(Credential stuffing)"), "the first entry is used: {messages:?}");
}

#[test]
fn hostile_library_files_are_refused_without_harm() {
    let tmp = cli::tempdir();
    let dir = tmp.path();
    cli::write(dir, "app.py", "# @exposes Shop to #lib.cwe-89\n# @exposes Shop to #TL-1\n");
    // Nested aliases ("billion laughs") are refused before they expand.
    let mut laughs =
        String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (i, c) in ('b'..='j').enumerate() {
        let prev = (b'a' + i as u8) as char;
        laughs.push_str(&format!(
            "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    laughs.push_str("threats:\n  - id: TL-1\n    name: x\n");
    cli::write(dir, "threat-library.yaml", &laughs);
    // Over the configuration size limit: not read, and said.
    cli::write(dir, "cwe_library.threatspec.json", vec![b' '; 1024 * 1024 + 1]);
    let run = cli::run(dir, &["check", "--no-cache", "--format", "json", "."]);
    assert!(run.stderr.contains("cwe_library.threatspec.json: not read"), "{}", run.stderr);
    let found = check_json(dir);
    let shown: Vec<(&str, &str)> = found.iter().map(|(c, f, ..)| (c.as_str(), f.as_str())).collect();
    assert!(shown.contains(&("invalid-config", "threat-library.yaml")), "{found:#?}");
    assert!(shown.contains(&("dangling-reference", "app.py")), "TL-1 was not read: {found:#?}");
    // The built-in library still works.
    assert_eq!(found.iter().filter(|(c, ..)| c == "unmitigated-exposure").count(), 1, "{found:#?}");
}

#[cfg(unix)]
#[test]
fn a_library_file_that_is_a_link_is_not_followed() {
    let tmp = cli::tempdir();
    let outside = cli::tempdir();
    cli::write(outside.path(), "secret.yaml", "threats:\n  - id: TL-1\n    name: Leaked\n");
    cli::write(tmp.path(), "app.py", "# @exposes Shop to #TL-1\n");
    std::os::unix::fs::symlink(outside.path().join("secret.yaml"), tmp.path().join("threat-library.yaml"))
        .unwrap();
    let found = check_json(tmp.path());
    assert!(found.iter().any(|(c, ..)| c == "dangling-reference"), "{found:#?}");
    assert!(!found.iter().any(|(.., m)| m.contains("Leaked")), "{found:#?}");
}

/// The `yaml` fixture copied into a temporary directory.
fn yaml_fixture_copy() -> tempfile::TempDir {
    let tmp = cli::tempdir();
    let src = fixture("yaml");
    for name in ["app.py", "threat-library.yaml"] {
        fs::copy(src.join(name), tmp.path().join(name)).unwrap();
    }
    tmp
}

/// A language server on a copy of the `yaml` fixture, indexed; the URI of its `app.py`.
async fn serve_yaml_fixture() -> (tempfile::TempDir, TestClient, String) {
    let tmp = yaml_fixture_copy();
    let (mut client, _) = TestClient::start(tmp.path(), json!({}), Value::Null).await;
    let uri = file_uri(&tmp.path().join("app.py"));
    client.wait_for(|m| m["method"] == "window/logMessage").await;
    (tmp, client, uri)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_server_goes_to_a_project_library_entry_and_completes_it() {
    let (tmp, mut client, uri) = serve_yaml_fixture().await;
    let at = json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 22}});
    let found = client.request("textDocument/definition", at.clone()).await;
    let target = found.as_array().and_then(|a| a.first()).cloned().unwrap_or(found.clone());
    assert_eq!(target["uri"], file_uri(&tmp.path().join("threat-library.yaml")), "{found}");
    assert_eq!(target["range"]["start"]["line"], 6, "the line of `id: TL-INJ-001`: {found}");
    let hover = client.request("textDocument/hover", at).await;
    assert!(hover.to_string().contains("from the project's threat library"), "{hover}");
    let line2 = json!({"textDocument": {"uri": uri}, "position": {"line": 2, "character": 33}});
    let items = client.request("textDocument/completion", line2).await;
    assert!(items.to_string().contains("\"#lib.TL-INJ-001\""), "{items}");
}

// ---- Suggestions: unanalysed library threats (issue 19 §1, third part) ----

#[test]
fn status_and_report_list_unanalysed_library_threats_per_element() {
    let dir = fixture("yaml");
    let run = cli::run(&dir, &["status", "--no-cache", "--format", "json", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    // Shop.Db is a data store: of the project library, only TL-INJ-001 applies (recorded);
    // of the STRIDE categories for a data store (T, R, I, D), SQL injection (CWE-89) records
    // T and I.
    assert_eq!(
        v["status"]["unanalysed"],
        json!([{"element": "Shop.Db", "kind": "data-store", "threats": [
            ["#lib.stride-repudiation", "Repudiation"],
            ["#lib.stride-denial-of-service", "Denial of service"]
        ]}]),
        "{:#}",
        v["status"]
    );
    let human = cli::run(&dir, &["status", "--no-cache", "."]);
    assert!(
        human.stdout.contains("Unanalysed library threats: 2 on 1 elements")
            && human.stdout.contains("`Shop.Db` (data-store): Repudiation (#lib.stride-repudiation)"),
        "{}",
        human.stdout
    );
    let tmp = cli::tempdir();
    let out = tmp.path().join("report.md");
    let run =
        cli::run(&dir, &["report", "--no-cache", "--allow-outside-output", "-o", out.to_str().unwrap(), "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let md = fs::read_to_string(&out).unwrap();
    let at = md.find("Unanalysed library threats").expect("the report's table");
    assert!(md[at..].contains("Denial of service (\\#lib.stride-denial-of-service)"), "{}", &md[at..]);
}

#[test]
fn recording_a_suggested_threat_removes_it_and_nothing_is_added_silently() {
    let tmp = yaml_fixture_copy();
    let before = check_json(tmp.path());
    let mut app = fs::read_to_string(tmp.path().join("app.py")).unwrap();
    app.push_str("# @accepts #lib.stride-repudiation on #db\n");
    fs::write(tmp.path().join("app.py"), app).unwrap();
    let run = cli::run(tmp.path(), &["status", "--no-cache", "--format", "json", "."]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["status"]["unanalysed"][0]["threats"],
        json!([["#lib.stride-denial-of-service", "Denial of service"]])
    );
    // `check` never reports a suggestion as a finding.
    assert!(!before.iter().any(|(.., m)| m.contains("stride-")), "{before:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_server_offers_each_unanalysed_threat_as_a_code_action() {
    let (_tmp, mut client, uri) = serve_yaml_fixture().await;
    let params = json!({
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 5}, "end": {"line": 0, "character": 5}},
        "context": {"diagnostics": []}
    });
    let actions = client.request("textDocument/codeAction", params).await;
    let titles: Vec<&str> = actions.as_array().unwrap().iter().filter_map(|a| a["title"].as_str()).collect();
    assert!(
        titles.contains(&"add threat from library: Denial of service (stride-denial-of-service)")
            && titles.contains(&"add threat from library: Repudiation (stride-repudiation)"),
        "{titles:?}"
    );
    let action = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "add threat from library: Denial of service (stride-denial-of-service)")
        .unwrap();
    let edits = &action["edit"]["changes"][&uri];
    assert_eq!(
        edits,
        &json!([{"range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}},
                 "newText": "# @exposes Shop.Db to #lib.stride-denial-of-service\n"}]),
        "{action:#}"
    );
}

#[test]
fn a_library_threat_is_not_renamed_here() {
    let (file, index) = index(APP);
    let at = APP.find("#lib.cwe-89").unwrap() + 6;
    let refused = threat_analyzer::analysis::ide::navigation::prepare_rename(&index, &file, at);
    assert!(matches!(&refused, Err(why) if why.contains("threat-library entry")), "{refused:?}");
}
