//! Every IDE feature through the protocol, on a small workspace: what an editor would get.
use crate::lsp_support;
use lsp_support::*;
use serde_json::{Value, json};
use std::fs;

const DEFS: &str = "# @threat SQL Injection (#sqli) [high] -- \"hand-built SQL\"\n# @control Prepared statements (#prepared)\n";
const ORDERS: &str = "def search(q):\n    # @exposes Shop.Orders to #sqli\n    # @mitigates Shop.Orders against #sqlx using #prepared\n    return q\n";

async fn setup() -> (tempfile::TempDir, TestClient, String, String) {
    setup_with(ORDERS).await
}

/// A workspace with DEFS and `orders` (its `$0`, if any, removed), indexed.
async fn setup_with(orders: &str) -> (tempfile::TempDir, TestClient, String, String) {
    let orders = orders.replacen("$0", "", 1);
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("defs.py"), DEFS).unwrap();
    fs::write(dir.path().join("orders.py"), &orders).unwrap();
    let caps = json!({"workspace": {"workspaceEdit": {"documentChanges": true}}});
    let (mut client, _) = TestClient::start(dir.path(), caps, Value::Null).await;
    let defs = file_uri(&dir.path().join("defs.py"));
    let orders_uri = file_uri(&dir.path().join("orders.py"));
    client.diagnostics_for(&orders_uri, |d| !d.is_empty()).await;
    (dir, client, defs, orders_uri)
}

/// `textDocument` + `position` params for the `$0` of `fixture` in `uri`.
fn at(uri: &str, fixture: &str) -> Value {
    let (_, position) = cursor(fixture);
    json!({"textDocument": {"uri": uri}, "position": position})
}

/// Applies `TextEdit`s (LSP ranges, ASCII text) to `text`.
pub(crate) fn apply(text: &str, edits: &[Value]) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let offset = |p: &Value| -> usize {
        let line = p["line"].as_u64().unwrap() as usize;
        lines[..line].iter().map(|l| l.len()).sum::<usize>() + p["character"].as_u64().unwrap() as usize
    };
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (s, e, t) in spans {
        out.replace_range(s..e, &t);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_after_hash_offers_threat_ids() {
    let fixture = "def search(q):\n    # @exposes Shop.Orders to #sqli\n    # @mitigates Shop.Orders against #$0sqlx using #prepared\n    return q\n";
    let (_dir, mut client, _, orders) = setup_with(fixture).await;
    client.open(&orders, "python", &cursor(fixture).0).await;
    let items = client.request("textDocument/completion", at(&orders, fixture)).await;
    let labels: Vec<&str> = items.as_array().unwrap().iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(labels.iter().any(|l| l.trim_start_matches('#') == "sqli"), "{labels:?}");
    assert!(
        !labels.iter().any(|l| l.trim_start_matches('#') == "prepared"),
        "a control is not a threat: {labels:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definition_references_hover_and_highlights() {
    let fixture = "def search(q):\n    # @exposes Shop.Orders to #sq$0li\n    # @mitigates Shop.Orders against #sqlx using #prepared\n    return q\n";
    let (_dir, mut client, defs, orders) = setup_with(fixture).await;
    let def = client.request("textDocument/definition", at(&orders, fixture)).await;
    assert_eq!(def[0]["uri"], defs);
    assert_eq!(def[0]["range"]["start"]["line"], 0);
    let mut params = at(&orders, fixture);
    params["context"] = json!({"includeDeclaration": true});
    let refs = client.request("textDocument/references", params).await;
    assert_eq!(refs.as_array().unwrap().len(), 2, "{refs}");
    let hover = client.request("textDocument/hover", at(&orders, fixture)).await;
    let md = hover["contents"]["value"].as_str().unwrap();
    assert!(md.contains("SQL Injection") && md.contains("hand-built SQL"), "{md}");
    let hl = client.request("textDocument/documentHighlight", at(&orders, fixture)).await;
    assert_eq!(hl.as_array().unwrap().len(), 1);
}

/// Issue 14 §6: hover, completion details and rename errors name files relative to the
/// workspace folder (the server keys files by absolute path).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_completion_and_messages_use_workspace_relative_paths() {
    let fixture = "def search(q):\n    # @exposes Shop.Orders to #sq$0li\n    # @mitigates Shop.Orders against #sqlx using #prepared\n    return q\n";
    let (dir, mut client, _, orders) = setup_with(fixture).await;
    let root = dir.path().to_string_lossy().into_owned();
    let hover = client.request("textDocument/hover", at(&orders, fixture)).await;
    let md = hover["contents"]["value"].as_str().unwrap();
    assert!(md.contains("defined at defs.py:1"), "{md}");
    assert!(!md.contains(&root), "{md}");
    let mut params = at(&orders, fixture);
    params["newName"] = json!("prepared");
    let taken = client.request_raw("textDocument/rename", params).await;
    let message = taken["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("already defined at defs.py:2"), "{taken}");
    assert!(!message.contains(&root), "{taken}");
    let complete = "def search(q):\n    # @exposes Shop.Orders to #$0sqli\n    # @mitigates Shop.Orders against #sqlx using #prepared\n    return q\n";
    client.open(&orders, "python", &cursor(complete).0).await;
    let items = client.request("textDocument/completion", at(&orders, complete)).await;
    let sqli = items.as_array().unwrap().iter().find(|i| i["label"] == "#sqli").unwrap();
    assert_eq!(sqli["detail"], "threat SQL Injection — defs.py", "{sqli}");
    assert!(!sqli.to_string().contains(&root), "{sqli}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_edits_every_file_and_refuses_bad_ids() {
    let fixture = "def search(q):\n    # @exposes Shop.Orders to #s$0qli\n    # @mitigates Shop.Orders against #sqlx using #prepared\n    return q\n";
    let (_dir, mut client, defs, orders) = setup_with(fixture).await;
    let prepared = client.request("textDocument/prepareRename", at(&orders, fixture)).await;
    assert_eq!(prepared["placeholder"], "sqli");
    let mut params = at(&orders, fixture);
    params["newName"] = json!("sql-injection");
    let edit = client.request("textDocument/rename", params).await;
    let changes = edit["documentChanges"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{edit}");
    for change in changes {
        let uri = change["textDocument"]["uri"].as_str().unwrap();
        let original = if uri == defs { DEFS } else { ORDERS };
        let renamed = apply(original, change["edits"].as_array().unwrap());
        assert!(renamed.contains("#sql-injection") && !renamed.contains("#sqli "), "{renamed}");
    }
    let mut params = at(&orders, fixture);
    params["newName"] = json!("not an id");
    let bad = client.request_raw("textDocument/rename", params).await;
    assert!(bad.get("error").is_some(), "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_action_fixes_the_dangling_reference() {
    let fixture = "def search(q):\n    # @exposes Shop.Orders to #sqli\n    # @mitigates Shop.Orders against #$0sqlx using #prepared\n    return q\n";
    let (_dir, mut client, _, orders) = setup_with(fixture).await;
    let start = cursor(fixture).1;
    let end = json!({"line": start["line"], "character": start["character"].as_u64().unwrap() + 4});
    let range = json!({"start": start, "end": end});
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": orders}, "range": range, "context": {"diagnostics": []}}),
        )
        .await;
    let change = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().contains("sqli"))
        .unwrap_or_else(|| panic!("no change-to action: {actions}"));
    let edits = change["edit"]["documentChanges"][0]["edits"].as_array().unwrap();
    let fixed = apply(ORDERS, edits);
    assert!(fixed.contains("against #sqli using"), "{fixed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symbols_tokens_and_inlay_hints() {
    let (_dir, mut client, defs, orders) = setup().await;
    let symbols = client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": defs}})).await;
    let names: Vec<&str> = symbols.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(names.iter().any(|n| n.contains("SQL Injection")), "{names:?}");
    let found = client.request("workspace/symbol", json!({"query": "prep"})).await;
    assert!(found[0]["name"].as_str().unwrap().contains("Prepared"), "{found}");
    let tokens =
        client.request("textDocument/semanticTokens/full", json!({"textDocument": {"uri": orders}})).await;
    let data = tokens["data"].as_array().unwrap();
    assert_eq!(data.len() % 5, 0);
    // The first token is the `@exposes` verb on line 1, column 6, 8 units long, type 0 (decorator).
    assert_eq!(&data[..5], &[json!(1), json!(6), json!(8), json!(0), json!(0)]);
    let hints = client
        .request("textDocument/inlayHint", json!({"textDocument": {"uri": orders}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 4, "character": 0}}}))
        .await;
    assert_eq!(hints[0]["label"], "unmitigated", "{hints}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_lenses_count_references_and_open_exposures() {
    let (_dir, mut client, defs, _) = setup().await;
    let lenses = client.request("textDocument/codeLens", json!({"textDocument": {"uri": defs}})).await;
    let titles: Vec<&str> =
        lenses.as_array().unwrap().iter().map(|l| l["command"]["title"].as_str().unwrap()).collect();
    // #sqli: one reference (the exposure; the mitigation names #sqlx), its exposure is open.
    // #prepared: one reference (the mitigation).
    assert_eq!(titles, ["1 reference · 1 open exposure", "1 reference"], "{lenses}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dfd_command_returns_mermaid_dot_and_svg_for_a_scope() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("flows.py"),
        "# @flows Shop.Web -> Shop.Api via HTTPS\n# @flows Shop.Api -> Shop.Db via TLS\n# @flows Partner.Feed -> Partner.Store via SFTP\n",
    )
    .unwrap();
    let (mut client, init) = TestClient::start(dir.path(), json!({}), Value::Null).await;
    assert!(
        init["capabilities"]["executeCommandProvider"]["commands"]
            .as_array()
            .unwrap()
            .contains(&json!("threat-analyzer.dfd"))
    );
    client.wait_for(|m| m["method"] == "window/logMessage").await; // indexing done
    let whole = client
        .request(
            "workspace/executeCommand",
            json!({"command": "threat-analyzer.dfd", "arguments": [{"format": "mermaid"}]}),
        )
        .await;
    let text = whole["text"].as_str().unwrap();
    assert!(text.starts_with("flowchart LR"), "{text}");
    assert!(text.contains("-->|\"HTTPS\"|") && text.contains("Partner.Feed"), "{text}");
    let scoped = client
        .request(
            "workspace/executeCommand",
            json!({"command": "threat-analyzer.dfd", "arguments": [{"scope": {"component": "Shop.Api"}}]}),
        )
        .await;
    let text = scoped["text"].as_str().unwrap();
    assert!(text.contains("Shop.Db") && !text.contains("Partner.Feed"), "{text}");
    let dot = client
        .request(
            "workspace/executeCommand",
            json!({"command": "threat-analyzer.dfd", "arguments": [{"format": "dot"}]}),
        )
        .await;
    assert_eq!(dot["format"], "dot");
    assert!(dot["text"].as_str().unwrap().starts_with("digraph dfd {"), "{dot}");
    let svg = client
        .request(
            "workspace/executeCommand",
            json!({"command": "threat-analyzer.dfd", "arguments": [{"format": "svg", "scope": {"component": "Shop.Api"}}]}),
        )
        .await;
    assert_eq!(svg["format"], "svg");
    let text = svg["text"].as_str().unwrap();
    let doc = roxmltree::Document::parse(text).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(text.contains(">Shop.Db</text>") && !text.contains("Partner.Feed"), "{text}");
    let png = client
        .request_raw(
            "workspace/executeCommand",
            json!({"command": "threat-analyzer.dfd", "arguments": [{"format": "png"}]}),
        )
        .await;
    assert!(png["error"]["message"].as_str().unwrap().contains("unknown format `png`"), "{png}");
}

/// One coverage answer everywhere: on a project with anchored (`.gal` `symbol:`), unanchored,
/// cross-file, ancestor-asset, accepted and transferred cases, every exposure is open or covered
/// alike in the diagnostics, hover, inlay hints, code lenses, diagram badges, the report, the
/// JSON, Threat Dragon and Threat Composer exports and `threat-analyzer.status`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_surface_gives_the_same_coverage_answer() {
    use threat_analyzer::analysis::{Analysis, ide};
    use threat_analyzer::file_id::FileId;
    use threat_analyzer::model::{FileFacts, ProjectIndex};
    use threat_analyzer::render::export::{ExportOptions, Model, threat_composer, threat_dragon};
    use threat_analyzer::render::{dfd, report_md};
    use threat_analyzer::syntax::{Body, Language};

    // Each exposure has its own threat, so per-threat answers (lenses, exports) are per exposure.
    let files = [
        (
            ".guardlink/definitions.gal",
            "@asset Shop.Orders (#orders)\n@asset Shop.Db (#db)\n@threat Injection (#inj)\n@threat Scripting (#xss)\n\
             @threat Outage (#dos)\n@threat Leak (#leak)\n@threat Forgery (#csrf)\n@threat Tampering (#tamper)\n\
             @threat Replay (#replay)\n@control Escaping (#esc)\n@control Params (#params)\n@asset Vendor (#vendor)\n",
        ),
        (
            "app/orders.py",
            "def search(q):\n    # @exposes #orders to #inj\n    # @mitigates #orders against #inj using #esc\n    return q\n\n\n\
             def render(q):\n    # @exposes #orders to #xss\n    # @exposes #orders to #dos\n    # @exposes #orders to #leak\n\
             \x20   # @exposes #orders to #csrf\n    return q\n",
        ),
        (
            "app/shop.py",
            "# @mitigates Shop against #xss using #esc\n# @accepts #dos on #orders -- \"rate limited upstream\"\n\
             # @transfers #leak from #orders to #vendor\n",
        ),
        (
            ".guardlink/annotations/app/db.py.gal",
            "@source file:app/db.py line:1 symbol:find\n@exposes #db to #tamper\n@exposes #db to #replay\n\
             @mitigates #db against #replay using #params\n@source file:app/db.py line:4 symbol:insert\n\
             @mitigates #db against #tamper using #params\n",
        ),
        ("app/db.py", "def find(q):\n    return q\n\ndef insert(q):\n    return q\n"),
    ];
    // Threat id -> open?
    let expected = [
        ("inj", false),    // unanchored, same file
        ("xss", false),    // cross-file, on an ancestor
        ("dos", false),    // accepted
        ("leak", false),   // transferred
        ("csrf", true),    // nothing covers it
        ("tamper", true),  // anchored to another symbol of the same file
        ("replay", false), // anchored to the same symbol
    ];
    let open_of = |threat: &str| expected.iter().find(|(t, _)| *t == threat).unwrap().1;

    let mut index = ProjectIndex::new();
    for (path, text) in files {
        let language = Language::from_path(std::path::Path::new(path)).unwrap();
        index.set_file(std::sync::Arc::new(FileFacts::new(FileId::relative(path), language, text.into())));
    }
    let analysis = Analysis::new(&index);
    // Every exposure: (file, annotation, threat id, offset of its asset, end offset).
    let mut exposures = Vec::new();
    for facts in index.files() {
        for (i, ann) in facts.annotations().iter().enumerate() {
            if let Body::Exposes { asset, threat } = &ann.body {
                let id = facts.slice(threat.range).trim_start_matches('#').to_string();
                exposures.push((facts.path.clone(), i, id, asset.range.start(), ann.range.end()));
            }
        }
    }
    assert_eq!(exposures.len(), expected.len());

    // Diagnostics: `unmitigated-exposure` (sidecar findings are written in the `.gal` file).
    let diagnostics = analysis.diagnostics(&index);
    let mut open_diag: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.code.as_str() == "unmitigated-exposure")
        .map(|d| {
            let at = d.sidecar.as_ref().map_or((&d.file, d.range), |s| (&s.file, s.range));
            let facts = index.file(at.0.as_str()).unwrap();
            let ann = facts.annotations().iter().find(|a| a.range.contains(at.1.start())).unwrap();
            let Body::Exposes { threat, .. } = &ann.body else { panic!() };
            facts.slice(threat.range).trim_start_matches('#').to_string()
        })
        .collect();
    open_diag.sort();
    let mut want: Vec<String> = expected.iter().filter(|e| e.1).map(|e| e.0.to_string()).collect();
    want.sort();
    assert_eq!(open_diag, want, "diagnostics");

    let model = Model::new(&index, &analysis);
    let json = threat_analyzer::render::export::json::render(&model);
    let options = ExportOptions::default();
    let dragon = threat_dragon::render(&model, &options).to_string();
    let composer = threat_composer::render(&model, &options);
    let summary = analysis.summary(&index, &diagnostics, index.files().count());
    let report = report_md::render(&index, &analysis, &diagnostics, &summary, "shop");
    let open_section = report.split("\n## ").find(|s| s.starts_with("Open")).expect("open findings section");
    let diagram = dfd::build(&index, &analysis, &dfd::Scope::Project);
    for (file, i, threat, asset_at, end) in &exposures {
        let open = open_of(threat);
        let threat_key = analysis.resolved[file][*i][1].entity().unwrap().clone();
        let name = index.display_name(&threat_key);
        let facts = index.file(file.as_str()).unwrap();
        let line = facts
            .line_index()
            .line_col_in(
                facts.text(),
                facts.annotations()[*i].range.start(),
                threat_analyzer::text::ColumnUnit::Utf8,
            )
            .line
            + 1;
        // Hover on the asset: the exposure is listed open or covered.
        let hover = ide::hover::hover(&index, &analysis, file.as_str(), *asset_at).unwrap().markdown;
        let item = hover
            .lines()
            .find(|l| l.contains(&format!("`#{threat}`")) && l.contains(&format!(":{line}")))
            .unwrap_or_else(|| panic!("{threat}: {hover}"));
        assert_eq!(item.contains("**open**"), open, "hover {threat}: {item}");
        // Inlay hint after the exposure.
        let hints = ide::inlay_hints::inlay_hints(&index, &analysis, file.as_str());
        let hint = hints.iter().find(|h| h.offset == *end).unwrap();
        assert_eq!(hint.label == "unmitigated", open, "inlay {threat}: {}", hint.label);
        // Code lens on the threat's definition.
        let lenses = ide::code_lens::code_lenses(&index, &analysis, ".guardlink/definitions.gal");
        let (_, def) = index.definitions(&threat_key).into_iter().next().unwrap();
        let lens = lenses.iter().find(|l| l.range == def.range).unwrap();
        assert_eq!(lens.title.contains("1 open exposure"), open, "lens {threat}: {}", lens.title);
        // JSON export: the relation's status.
        let rel = json["relations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "exposes" && r["args"][1]["key"] == *threat_key.key)
            .unwrap();
        assert_eq!(rel["status"] == "open", open, "json {threat}: {rel}");
        // Threat Composer: identified (open) or resolved, per threat.
        let tc = composer["threats"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["statement"].as_str().unwrap_or_default().contains(&name))
            .unwrap_or_else(|| panic!("{name}: {composer}"));
        assert_eq!(tc["status"] == "threatIdentified", open, "composer {threat}");
        // Threat Dragon: the threat's status on the asset's element.
        let needle = format!("\"status\":\"Open\",\"title\":\"{name}\"");
        let other = format!("\"title\":\"{name}\"");
        assert!(dragon.contains(&other), "dragon {name}");
        assert_eq!(dragon.contains(&needle), open, "dragon {threat}");
        // Report: the open findings table lists the exposure's place.
        let place = format!("{}:{line}", file);
        assert_eq!(open_section.contains(&place), open, "report {threat} ({place})");
    }
    // Diagram badges: open threats per node.
    let open_on = |key: &str| {
        diagram
            .nodes
            .iter()
            .find(|n| n.key == key)
            .map(|n| n.status.open)
            .unwrap_or_else(|| panic!("{key}: {:?}", diagram.nodes))
    };
    assert_eq!(open_on("shop.orders"), 1);
    assert_eq!(open_on("shop.db"), 1);

    // `threat-analyzer.status` through the server: the same counts.
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    let (mut client, _) = TestClient::start(dir.path(), json!({}), Value::Null).await;
    let status =
        client.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"})).await;
    assert_eq!(status["exposures"], expected.len(), "{status}");
    assert_eq!(status["open_exposures"], want.len(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_command_compares_the_workspace_with_a_git_revision() {
    let repo = crate::git::GitRepo::new();
    let covered = "# @exposes Shop.Orders to #sqli\n# @mitigates Shop.Orders against #sqli using #prepared\n";
    repo.commit("base", &[("defs.py", DEFS), ("shop/orders.py", covered)]);
    let (mut client, init) = TestClient::start(repo.path(), json!({}), Value::Null).await;
    let commands = init["capabilities"]["executeCommandProvider"]["commands"].as_array().unwrap().clone();
    assert!(commands.contains(&json!("threat-analyzer.diff")), "{commands:?}");
    client.wait_for(|m| m["method"] == "window/logMessage").await; // indexing done
    let diff = |base: &str| json!({"command": "threat-analyzer.diff", "arguments": [{"base": base}]});
    let unchanged = client.request("workspace/executeCommand", diff("main")).await;
    assert_eq!(unchanged["verdict"], "no-change", "{unchanged}");
    // An unsaved edit removes the mitigation: the diff sees the buffer, not the disk.
    let uri = file_uri(&repo.path().join("shop/orders.py"));
    client.open(&uri, "python", "# @exposes Shop.Orders to #sqli\n").await;
    let result = client.request("workspace/executeCommand", diff("main")).await;
    assert_eq!(result["verdict"], "risk-increase", "{result}");
    assert_eq!(result["head"]["label"], "workspace");
    assert_eq!(result["base"]["label"], "main");
    let first = &result["changes"][0];
    assert_eq!(first["class"], "defence-removed", "{result}");
    assert_eq!((first["file"].as_str(), first["line"].as_u64()), (Some("shop/orders.py"), Some(1)));
    let root = std::path::Path::new(result["root"].as_str().unwrap());
    assert_eq!(root, repo.path().canonicalize().unwrap(), "{result}");
    assert_eq!(result["summary"]["by_class"]["mitigation-removed"], 1, "{result}");
    // A revision that does not exist is an error naming it.
    let error = client.request_raw("workspace/executeCommand", diff("no-such-branch")).await;
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("unknown git revision 'no-such-branch'"), "{error}");
}

/// The workspace as the server reads it on both sides: opened through a symbolic link, with the
/// `exclude` setting, and `.gal` anchors whose files hold no annotation (their text is read
/// for the head too): an unchanged repository is no change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_command_reads_the_base_as_the_server_reads_the_workspace() {
    let repo = crate::git::GitRepo::new();
    let exposed = "# @exposes Shop.Orders to #sqli\n";
    repo.commit(
        "base",
        &[
            ("defs.py", DEFS),
            ("shop/orders.py", exposed),
            ("shop/plain.py", "print('anchored')\n"),
            (
                ".guardlink/anchors.gal",
                "@source file:shop/plain.py line:1\n@mitigates Shop.Orders against #sqli using #prepared\n",
            ),
            ("vendor/lib.py", "# @exposes Shop.Db to #sqli\n"),
        ],
    );
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("workspace");
    std::os::unix::fs::symlink(repo.path(), &link).unwrap();
    let options = json!({"threatAnalyzer": {"exclude": ["vendor/"]}});
    let (mut client, _) = TestClient::start(&link, json!({}), options).await;
    client.wait_for(|m| m["method"] == "window/logMessage").await; // indexing done
    let diff = json!({"command": "threat-analyzer.diff", "arguments": [{"base": "HEAD"}]});
    let result = client.request("workspace/executeCommand", diff).await;
    assert_eq!(result["verdict"], "no-change", "{result}");
    assert_eq!(result["root"].as_str().map(std::path::Path::new), Some(link.as_path()), "{result}");
    // The head holds the files the server indexed: an edit shows, with its place.
    let uri = file_uri(&link.join("shop/orders.py"));
    client.open(&uri, "python", "# @exposes Shop.Orders to #sqli\n# @exposes Shop.Db to #sqli\n").await;
    let diff = json!({"command": "threat-analyzer.diff", "arguments": [{"base": "HEAD"}]});
    let result = client.request("workspace/executeCommand", diff).await;
    let first = &result["changes"][0];
    assert_eq!(first["class"], "new-unmitigated-exposure", "{result}");
    assert_eq!(
        (first["file"].as_str(), first["line"].as_u64()),
        (Some("shop/orders.py"), Some(2)),
        "{result}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_actions_offer_the_threats_of_an_mcp_tool_and_add_none_by_themselves() {
    let server = "from mcp.server.fastmcp import FastMCP\nmcp = FastMCP(\"notes\")\n\n@mcp.tool()\ndef read_notes() -> str:\n    \"\"\"Reads the notes.\"\"\"\n    return \"\"\n";
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("defs.py"), DEFS).unwrap();
    fs::write(dir.path().join("server.py"), server).unwrap();
    let (mut client, _) = TestClient::start(dir.path(), json!({}), Value::Null).await;
    let defs = file_uri(&dir.path().join("defs.py"));
    client.diagnostics_for(&defs, |_| true).await;
    let uri = file_uri(&dir.path().join("server.py"));
    let ask = |line: u64| json!({"textDocument": {"uri": uri}, "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 3}}, "context": {"diagnostics": []}});
    let actions = client.request("textDocument/codeAction", ask(4)).await;
    let titles: Vec<&str> =
        actions.as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "Add threat to MCP tool `read_notes`: Tool poisoning",
            "Add threat to MCP tool `read_notes`: Prompt injection via tool results",
            "Add threat to MCP tool `read_notes`: Excessive agency",
        ],
        "{actions}"
    );
    let edit = &actions[0]["edit"]["changes"][&uri];
    let edits = edit.as_array().unwrap_or_else(|| panic!("{actions}"));
    let applied = apply(server, edits);
    assert!(
        applied.contains("\n# @exposes Mcp.read_notes to Tool poisoning -- \"its description steers the agent; review it and pin it (threat-analyzer mcp-pin)\"\n@mcp.tool()"),
        "{applied}"
    );
    // Offered, never applied: the file on disk is unchanged, and away from the tool nothing is offered.
    assert_eq!(fs::read_to_string(dir.path().join("server.py")).unwrap(), server);
    let none = client.request("textDocument/codeAction", ask(1)).await;
    assert!(none.as_array().is_none_or(|a| a.is_empty()), "{none}");
}
