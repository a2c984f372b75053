//! GAL 2.0 references (issue 13 §3): multi-hop flows, quoted references, qualified
//! cross-repository tags `#repo.id`, `@boundary A and B` without `between` — in the model, in
//! the IDE features (definition, references, rename), in the CLI's JSON and in the language
//! server with several workspace folders.
#[path = "support/lsp.rs"]
mod lsp_support;
mod support;

use lsp_support::{TestClient, codes, file_uri};
use serde_json::{Value, json};
use std::fs;
use std::path::Path;
use std::process::Command;
use threat_analyzer::analysis;
use threat_analyzer::analysis::ide::navigation::{
    document_symbols, goto_definition, prepare_rename, references, rename,
};
use threat_analyzer::model::{ProjectIndex, Repository};

/// A fixture's index with each top-level directory as a repository of that name.
fn index_with_repositories(files: &[(String, String)], repositories: &[&str]) -> ProjectIndex {
    let mut index = support::index_of(files);
    index.set_repositories(
        repositories.iter().map(|r| Repository { name: r.to_string(), root: r.to_string() }).collect(),
    );
    index
}

fn codes_of(index: &ProjectIndex) -> Vec<String> {
    analysis::diagnostics(index).iter().map(|d| format!("{} {}", d.code.as_str(), d.message)).collect()
}

#[test]
fn quoted_references_join_their_unquoted_spellings() {
    let dump = support::model_dump(
        r#"
        //- /a.py
        # @threat SQL Injection (#sqli)
        # @component User Browser
        # @exposes "User Browser" to "SQL Injection"
        # @mitigates User_Browser against "sql-injection" using "He said \"hi\""
        # @audit "/api/v1/users"
        # @audit /api/v1/users
        "#,
    );
    let lines: Vec<&str> = dump.lines().collect();
    assert_eq!(
        lines[3].split_once(" asset=").unwrap().1,
        "asset:user_browser@3:13 threat=threat:sqli@3:31",
        "{dump}"
    );
    assert!(lines[4].contains("asset=asset:user_browser@4:14 threat=threat:sqli@4:36"), "{dump}");
    assert!(lines[4].contains("control=control:he_said_\"hi\"@4:58"), "{dump}");
    assert_eq!(lines[5].split_once(" asset=").unwrap().1, "asset:/api/v1/users@5:11");
    assert_eq!(lines[6].split_once(" asset=").unwrap().1, "asset:/api/v1/users@6:10");
}

#[test]
fn multi_hop_flows_and_boundaries_without_between_in_the_model() {
    let dump = support::model_dump(
        r#"
        //- /a.py
        # @flows "User Browser" -> Shop.Web -> #api -> Shop.Db via HTTPS -- "checkout"
        # @asset Shop.Api (#api)
        # @boundary Shop.Web and Shop.Api (#dmz) -- "edge"
        "#,
    );
    let flows: Vec<&str> = dump.lines().filter(|l| l.contains("@flows")).collect();
    assert_eq!(
        flows,
        [
            "  1:3 @flows [gal] asset=asset:user_browser@1:11 asset=asset:shop.web@1:28 desc=\"checkout\" two_way=false via=\"HTTPS\"",
            "  1:3 @flows [gal] asset=asset:shop.web@1:28 asset=asset:shop.api@1:41 desc=\"checkout\" two_way=false via=\"HTTPS\"",
            "  1:3 @flows [gal] asset=asset:shop.api@1:41 asset=asset:shop.db@1:48 desc=\"checkout\" two_way=false via=\"HTTPS\"",
        ],
        "{dump}"
    );
    assert!(
        dump.contains(
            "@boundary [gal] asset=asset:shop.web@3:13 asset=asset:shop.api@3:26 desc=\"edge\" id=\"dmz\""
        ),
        "{dump}"
    );
    assert!(!dump.contains("malformed") && !dump.contains("b_>_c"), "{dump}");
}

const SHOP: &str = "# @exposes #shop.api to #authlib.token-forgery [high]\n\
                    # @mitigates #shop.api against #authlib.token-forgery using #authlib.jwt-verify\n\
                    # @asset Shop.Api (#api)\n";
const AUTHLIB: &str = "@threat Token forgery (#token-forgery)\n@control JWT verify (#jwt-verify)\n";

#[test]
fn qualified_tags_resolve_in_their_repository_and_are_external_otherwise() {
    let files = vec![
        ("shop/app.py".to_string(), SHOP.to_string()),
        ("authlib/defs.gal".to_string(), AUTHLIB.to_string()),
    ];
    // Only the shop is a known repository: authlib's tags are external, never dangling.
    let index = index_with_repositories(&files[..1], &["shop"]);
    let dump = index.dump();
    assert!(
        dump.contains("asset=asset:shop.api@1:13 threat=threat:EXTERNAL #authlib.token-forgery@1:26"),
        "{dump}"
    );
    assert!(dump.contains("control=control:EXTERNAL #authlib.jwt-verify@2:62"), "{dump}");
    assert_eq!(codes_of(&index), Vec::<String>::new(), "the mitigation covers the external threat");
    // Both repositories known: the tags resolve to authlib's definitions.
    let index = index_with_repositories(&files, &["shop", "authlib"]);
    let dump = index.dump();
    assert!(dump.contains("threat=threat:token-forgery@1:26"), "{dump}");
    assert!(dump.contains("control=control:jwt-verify@2:62"), "{dump}");
    assert_eq!(codes_of(&index), Vec::<String>::new());
    // A known repository that does not define the id: dangling, with the repository named.
    let files = vec![
        (
            "shop/app.py".to_string(),
            "# @exposes #shop.api to #authlib.token-forgry\n# @asset Shop.Api (#api)\n".to_string(),
        ),
        ("authlib/defs.gal".to_string(), AUTHLIB.to_string()),
    ];
    let index = index_with_repositories(&files, &["shop", "authlib"]);
    let diagnostics = analysis::diagnostics(&index);
    let dangling: Vec<_> = diagnostics.iter().filter(|d| d.code.as_str() == "dangling-reference").collect();
    assert_eq!(dangling.len(), 1, "{:?}", codes_of(&index));
    assert!(
        dangling[0].message.contains("repository `authlib` has no threat with the id `token-forgry`"),
        "{}",
        dangling[0].message
    );
    assert_eq!(dangling[0].fix.as_ref().unwrap().edits[0].new_text, "authlib.token-forgery");
}

#[test]
fn definition_references_and_rename_through_qualified_tags() {
    let fixture = support::parse_fixture(&format!(
        "//- /shop/app.py\n{}//- /authlib/defs.gal\n{AUTHLIB}",
        SHOP.replace("#authlib.token-forgery [high]", "#authlib.token-for$0gery [high]")
    ));
    let index = index_with_repositories(&fixture.files, &["shop", "authlib"]);
    let (file, offset) = fixture.cursor.clone().unwrap();
    let defs = goto_definition(&index, &file, offset);
    assert_eq!(defs.len(), 1, "{defs:?}");
    assert_eq!(defs[0].file.as_str(), "authlib/defs.gal");
    assert_eq!(defs[0].range.slice(&fixture.files[1].1), "Token forgery");
    assert_eq!(references(&index, &file, offset, false).len(), 2, "both qualified uses");
    let (range, text) = prepare_rename(&index, &file, offset).unwrap();
    assert_eq!(
        (range.slice(&fixture.files[0].1), text.as_str()),
        ("authlib.token-forgery", "authlib.token-forgery")
    );
    let edits = rename(&index, &file, offset, "forged-token").unwrap();
    let renamed = support::apply_edits(&fixture.files, &edits);
    assert!(renamed[0].1.contains("to #authlib.forged-token [high]"), "{}", renamed[0].1);
    assert!(renamed[0].1.contains("against #authlib.forged-token using"), "{}", renamed[0].1);
    assert!(renamed[1].1.contains("(#forged-token)"), "{}", renamed[1].1);
    // An external tag has no definition and is not renamed.
    let index = index_with_repositories(&fixture.files[..1], &["shop"]);
    assert!(goto_definition(&index, &file, offset).is_empty());
    let refused = rename(&index, &file, offset, "x").unwrap_err();
    assert!(refused.contains("another repository"), "{refused}");
}

#[test]
fn definition_and_rename_on_quoted_names() {
    let text = "# @threat SQL Injection\n# @exposes Shop to \"SQL In$0jection\"\n# @mitigates Shop against \"sql injection\" using #x\n";
    let fixture = support::parse_fixture(&format!("//- /a.py\n{text}"));
    let index = support::index_of(&fixture.files);
    let (file, offset) = fixture.cursor.clone().unwrap();
    let source = &fixture.files[0].1;
    let defs = goto_definition(&index, &file, offset);
    assert_eq!(defs.iter().map(|d| d.range.slice(source)).collect::<Vec<_>>(), ["SQL Injection"]);
    assert_eq!(defs[0].range.start(), source.find("SQL").unwrap());
    let (range, current) = prepare_rename(&index, &file, offset).unwrap();
    assert_eq!(
        (range.slice(source), current.as_str()),
        ("SQL Injection", "SQL Injection"),
        "inside the quotes"
    );
    let edits = rename(&index, &file, offset, "Query Injection").unwrap();
    let renamed = support::apply_edits(&fixture.files, &edits);
    assert_eq!(
        renamed[0].1,
        "# @threat Query Injection\n# @exposes Shop to \"Query Injection\"\n# @mitigates Shop against \"Query Injection\" using #x\n"
    );
    // The renamed text still reads as the same annotations.
    let again = support::index_of(&renamed);
    assert_eq!(again.dump().matches("threat=threat:query_injection").count(), 3, "{}", again.dump());
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
}

fn json_export(dirs: &[&Path], out: &Path) -> Value {
    let status = Command::new(env!("CARGO_BIN_EXE_threat-analyzer"))
        .args(["export", "--format", "json", "-o"])
        .arg(out)
        .args(dirs)
        .status()
        .unwrap();
    assert!(status.success());
    serde_json::from_str(&fs::read_to_string(out).unwrap()).unwrap()
}

#[test]
fn cli_json_has_one_flow_per_hop_and_external_entities() {
    let tmp = tempfile::tempdir().unwrap();
    let shop = tmp.path().join("shop");
    write(
        &shop,
        &[("app.py", "# @flows \"User Browser\" -> Shop.Web -> #authlib.login via HTTPS -- \"sign in\"\n")],
    );
    let model = json_export(&[&shop], &shop.join("model.json"));
    let flows: Vec<&Value> =
        model["relations"].as_array().unwrap().iter().filter(|r| r["kind"] == "flows").collect();
    assert_eq!(flows.len(), 2, "{model:#}");
    assert_eq!(
        flows[0]["args"],
        json!([{"kind": "asset", "key": "user_browser"}, {"kind": "asset", "key": "shop.web"}])
    );
    assert_eq!(
        flows[1]["args"],
        json!([{"kind": "asset", "key": "shop.web"}, {"kind": "asset", "key": "#authlib.login", "external": true}])
    );
    for flow in &flows {
        assert_eq!((flow["via"].as_str(), flow["description"].as_str()), (Some("HTTPS"), Some("sign in")));
    }
    let external: Vec<&Value> =
        model["assets"].as_array().unwrap().iter().filter(|a| a["external"] == true).collect();
    assert_eq!(external.len(), 1);
    assert_eq!(external[0]["key"], "#authlib.login");
    assert_eq!(model["diagnostics"]["errors"], 0, "{model:#}");
}

#[test]
fn cli_check_resolves_tags_between_the_directories_it_is_given() {
    let tmp = tempfile::tempdir().unwrap();
    let (shop, authlib) = (tmp.path().join("shop"), tmp.path().join("authlib"));
    write(&shop, &[("app.py", "# @exposes Shop.Api to #authlib.token-forgry [high]\n")]);
    write(&authlib, &[("defs.gal", AUTHLIB)]);
    let run = |dirs: &[&Path]| {
        let out =
            Command::new(env!("CARGO_BIN_EXE_threat-analyzer")).arg("check").args(dirs).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Alone, the shop cannot know authlib: an external threat, nothing dangles.
    let alone = run(&[&shop]);
    assert!(!alone.contains("dangling-reference"), "{alone}");
    assert!(alone.contains("unmitigated-exposure"), "{alone}");
    // Together, the misspelt id dangles inside authlib.
    let together = run(&[&shop, &authlib]);
    assert!(together.contains("repository `authlib` has no threat with the id `token-forgry`"), "{together}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_server_resolves_tags_in_other_workspace_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let (shop, authlib) = (tmp.path().join("shop"), tmp.path().join("authlib"));
    let app = "# @exposes Shop.Api to #authlib.token-forgery [high]\n# @mitigates Shop.Api against #authlib.token-forgery using #authlib.nope\n";
    write(&shop, &[("app.py", app)]);
    write(&authlib, &[("defs.gal", AUTHLIB)]);
    let (mut client, _) = TestClient::start(&shop, json!({}), Value::Null).await;
    let app_uri = file_uri(&shop.join("app.py"));
    client.wait_for(|m| m["method"] == "window/logMessage").await;
    let definition = json!({"textDocument": {"uri": app_uri}, "position": {"line": 0, "character": 30}});
    let hover = client.request("textDocument/hover", definition.clone()).await;
    assert!(hover.to_string().contains("an external entity"), "not dangling: {hover}");
    assert_eq!(
        client.request("textDocument/definition", definition.clone()).await,
        Value::Null,
        "authlib is not open: an external entity"
    );
    client
        .notify(
            "workspace/didChangeWorkspaceFolders",
            json!({"event": {"added": [{"uri": file_uri(&authlib), "name": "authlib"}], "removed": []}}),
        )
        .await;
    // Once authlib is open, its unknown `#authlib.nope` dangles and the threat resolves.
    let diags = client.diagnostics_for(&app_uri, |d| !d.is_empty()).await;
    assert_eq!(codes(&diags), ["dangling-reference"], "{diags:?}");
    let found = client.request("textDocument/definition", definition).await;
    let target = found.as_array().and_then(|a| a.first()).cloned().unwrap_or(found.clone());
    assert_eq!(target["uri"], file_uri(&authlib.join("defs.gal")), "{found}");
}

#[test]
fn each_hop_of_a_flow_is_its_own_symbol() {
    let files =
        vec![("a.py".to_string(), "# @flows \"User Browser\" -> Shop.Web <-> #api via HTTPS\n".to_string())];
    let index = support::index_of(&files);
    let names: Vec<String> = document_symbols(&index, "a.py").into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["@flows \"User Browser\" -> Shop.Web", "@flows Shop.Web <-> #api"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_server_renames_a_quoted_name_inside_its_quotes() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "# @threat SQL Injection\n# @exposes Shop to \"SQL Injection\"\n";
    write(tmp.path(), &[("a.py", text)]);
    let (mut client, _) = TestClient::start(tmp.path(), json!({}), Value::Null).await;
    let uri = file_uri(&tmp.path().join("a.py"));
    client.wait_for(|m| m["method"] == "window/logMessage").await;
    let at = json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 25}});
    let prepared = client.request("textDocument/prepareRename", at.clone()).await;
    assert_eq!(prepared["range"]["start"], json!({"line": 1, "character": 20}), "{prepared}");
    assert_eq!(prepared["range"]["end"], json!({"line": 1, "character": 33}), "{prepared}");
    let mut params = at;
    params["newName"] = json!("Query Injection");
    let edit = client.request("textDocument/rename", params).await;
    let mut edits: Vec<(u64, u64, String)> = edit["changes"][&uri]
        .as_array()
        .unwrap_or_else(|| panic!("{edit}"))
        .iter()
        .map(|e| {
            let start = &e["range"]["start"];
            (
                start["line"].as_u64().unwrap(),
                start["character"].as_u64().unwrap(),
                e["newText"].as_str().unwrap().into(),
            )
        })
        .collect();
    edits.sort();
    assert_eq!(edits, [(0, 10, "Query Injection".to_string()), (1, 20, "Query Injection".to_string())]);
}

#[test]
fn cli_report_shows_external_entities_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), &[("a.py", "# @exposes Shop.Api to #authlib.token-forgery [high]\n")]);
    let out = tmp.path().join("report.md");
    let status = Command::new(env!("CARGO_BIN_EXE_threat-analyzer"))
        .arg("report")
        .arg(tmp.path())
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let report = fs::read_to_string(out).unwrap();
    assert!(report.contains("| \\#authlib.token-forgery (external) |"), "{report}");
    assert!(!report.contains("dangling-reference") && !report.contains("malformed-annotation"), "{report}");
}

/// GAL 2.0's directed `@boundary from <outer> to <inner>`: read with its sides in order, kept
/// apart from the undirected form wherever it is shown, and a turned direction is a change.
#[test]
fn directed_boundaries_keep_their_sides_in_the_model_the_export_and_the_diff() {
    let dump = support::model_dump(
        r#"
        //- /a.py
        # @boundary from Internet to Shop.Web (#edge) -- "nothing outside is trusted"
        # @boundary Shop.Web and Shop.Db
        "#,
    );
    assert!(
        dump.contains(
            "@boundary [gal] asset=asset:internet@1:18 asset=asset:shop.web@1:30 desc=\"nothing outside is trusted\" directed id=\"edge\""
        ),
        "{dump}"
    );
    assert!(dump.contains("@boundary [gal] asset=asset:shop.web@2:13 asset=asset:shop.db@2:26\n"), "{dump}");
    assert!(!dump.contains("malformed"), "{dump}");

    let tmp = tempfile::tempdir().unwrap();
    let app = "# @boundary from \"Mobile app\" to #api\n# @asset Shop.Api (#api)\n# @flows \"Mobile app\" -> #api\n";
    write(tmp.path(), &[("app.py", app)]);
    let model = json_export(&[tmp.path()], &tmp.path().join("model.json"));
    let boundaries: Vec<&Value> =
        model["relations"].as_array().unwrap().iter().filter(|r| r["kind"] == "boundary").collect();
    assert_eq!(boundaries.len(), 1, "{model:#}");
    assert_eq!(boundaries[0]["directed"], true);
    assert_eq!(
        boundaries[0]["args"],
        json!([{"kind": "asset", "key": "mobile_app"}, {"kind": "asset", "key": "shop.api"}]),
        "outer side first"
    );
    assert_eq!(model["diagnostics"]["errors"], 0, "{model:#}");

    // The diff: turning the direction, giving one or taking it away is a change (the removed
    // boundary first: most severe first); the same boundary written again is none.
    let changes = |base: &str, head: &str| -> Vec<String> {
        let side = |text: &str| {
            let index = support::index_of(&[("net.py".to_string(), text.to_string())]);
            let analysis = analysis::Analysis::new(&index);
            threat_analyzer::render::diff::Analysed::new(index, analysis)
        };
        let (base, head) = (side(base), side(head));
        let diff = threat_analyzer::render::diff::compare(base.input(), head.input());
        diff.changes.iter().filter_map(|c| c.name.clone()).collect()
    };
    let directed = "# @boundary from Internet to Shop.Web\n";
    assert!(changes(directed, directed).is_empty());
    assert_eq!(
        changes(directed, "# @boundary from Shop.Web to Internet\n"),
        ["from Internet to Shop.Web", "from Shop.Web to Internet"]
    );
    assert_eq!(
        changes("# @boundary between Internet and Shop.Web\n", directed),
        ["Internet | Shop.Web", "from Internet to Shop.Web"]
    );
}

/// A directed boundary's side must place a component: a plain name no `@asset` declares and no
/// `@flows` names is `unplaced-boundary-side` (an error); an undefined `#id` stays a
/// `dangling-reference`, and an undirected boundary is never checked.
#[test]
fn a_directed_boundary_side_that_places_nothing_is_an_error() {
    let findings = |text: &str| -> Vec<(String, usize, String)> {
        let index = support::index_of(&[
            ("defs.gal".to_string(), "@asset Shop.Web (#web)\n@asset Shop.Db (#db)\n".to_string()),
            ("app.py".to_string(), text.to_string()),
        ]);
        analysis::diagnostics(&index)
            .into_iter()
            .map(|d| (d.code.as_str().to_string(), d.range.start(), d.message))
            .collect()
    };
    // Declared paths and ids, and an endpoint only a flow names (`Client`), all place.
    let placed =
        "# @flows Client -> #web\n# @boundary from Client to #web\n# @boundary from Shop.Web to #db\n";
    assert_eq!(findings(placed), []);
    // A misspelt name on either side, and both.
    let typo = "# @flows Client -> #web\n# @boundary from Clinet to #web\n";
    let got = findings(typo);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "unplaced-boundary-side");
    assert_eq!(got[0].1, typo.find("Clinet").unwrap());
    assert!(got[0].2.contains("the outer side `Clinet`"), "{got:?}");
    let both: Vec<String> = findings("# @boundary from Nowhere to Nothing\n")
        .into_iter()
        .map(|(code, _, m)| format!("{code}: {m}"))
        .collect();
    assert_eq!(both.len(), 2, "{both:?}");
    assert!(both[1].contains("the inner side `Nothing`"), "{both:?}");
    // An undefined id is a dangling reference, not this; undirected boundaries are not checked.
    let codes = |text: &str| findings(text).into_iter().map(|(code, ..)| code).collect::<Vec<_>>();
    assert_eq!(codes("# @boundary from #web to #cache\n"), ["dangling-reference"]);
    assert!(codes("# @boundary between Nowhere and Nothing\n").is_empty());
}

/// A `.gal` sidecar's relation in the JSON export says where it is written (`file`, `line`)
/// and what it describes (`origin`: its `@source` file, line and symbol), marked as
/// repository text.
#[test]
fn the_json_export_gives_a_sidecar_relation_its_origin() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            ("app/pay.py", "def charge(card):\n    return card\n"),
            (
                ".guardlink/annotations/app/pay.py.gal",
                "@source file:app/pay.py line:1 symbol:charge\n@flows #client -> #billing via card_token\n",
            ),
            ("defs.gal", "@asset Client (#client)\n@asset Billing (#billing)\n"),
        ],
    );
    let model = json_export(&[tmp.path()], &tmp.path().join("model.json"));
    let flows: Vec<&Value> =
        model["relations"].as_array().unwrap().iter().filter(|r| r["kind"] == "flows").collect();
    assert_eq!(flows.len(), 1, "{model:#}");
    assert_eq!(
        (&flows[0]["file"], &flows[0]["line"]),
        (&json!(".guardlink/annotations/app/pay.py.gal"), &json!(2))
    );
    assert_eq!(flows[0]["origin"], json!({"file": "app/pay.py", "line": 1, "symbol": "charge"}));
    assert!(flows[0]["source"]["repository"].as_array().unwrap().contains(&json!("origin")), "{model:#}");
    // An inline annotation has none.
    let inline = model["relations"].as_array().unwrap().iter().filter(|r| r["kind"] != "flows");
    assert!(inline.clone().count() > 0 && inline.into_iter().all(|r| r.get("origin").is_none()), "{model:#}");
}

/// Which side of a boundary is outside (GuardLink's conformance `sides` cases): a directed
/// boundary says so; an undirected one whose sides are one declared asset and one name nothing
/// declares has the undeclared side outside, in the JSON export's `sides` and in the diagram
/// (the declared side is the boundary's member); otherwise the basis is unknown and the second
/// side as written is drawn inside.
#[test]
fn a_boundarys_outside_is_declared_inferred_from_an_undeclared_side_or_unknown() {
    let defs = "@asset Shop.Web (#web)\n@asset Shop.Orders (#orders)\n@asset Shop.Store (#store)\n";
    let cases: [(&str, Value, &[&str]); 6] = [
        (
            "# @boundary from Client to #web (#edge)",
            json!({"basis": "declared", "outer": 0, "inner": 1}),
            &["shop.web"],
        ),
        (
            "# @boundary from #orders to #store (#data)",
            json!({"basis": "declared", "outer": 0, "inner": 1}),
            &["shop.store"],
        ),
        (
            "# @boundary from #web to Client (#egress)",
            json!({"basis": "declared", "outer": 0, "inner": 1}),
            &["client"],
        ),
        (
            "# @boundary between #web and Client (#edge)",
            json!({"basis": "undeclared-endpoint", "outer": 1, "inner": 0}),
            &["shop.web"],
        ),
        ("# @boundary between #orders and #store (#data)", json!({"basis": "unknown"}), &["shop.store"]),
        ("# @boundary between Client and Backup", json!({"basis": "unknown"}), &["backup"]),
    ];
    for (line, sides, members) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let app = format!(
            "{line}\n# @flows Client -> #web\n# @flows Backup -> #store\n# @flows #orders -> #store\n"
        );
        write(tmp.path(), &[("defs.gal", defs), ("app.py", &app)]);
        let model = json_export(&[tmp.path()], &tmp.path().join("model.json"));
        let relations = model["relations"].as_array().unwrap();
        let boundary = relations.iter().find(|r| r["kind"] == "boundary").expect("the boundary");
        assert_eq!(boundary["sides"], sides, "{line}");
        let drawn = model["boundaries"].as_array().unwrap();
        assert_eq!(drawn.len(), 1, "{line}: {model:#}");
        assert_eq!(drawn[0]["members"], json!(members), "{line}");
    }
}
