//! GuardLink `.gal` sidecars (external mode) through the binary: findings about annotations
//! written under `@source file:PATH line:N symbol:NAME` are reported at the source location the
//! anchor points to, with the `.gal` line beside them; stale anchors are found and fixed.
//!
//! The fixture tests/fixtures/cli/sidecar has the shape of a GuardLink external-mode project:
//! `.guardlink/definitions.gal`, `.guardlink/annotations/app/ledger.py.gal` and `app/ledger.py`.

use crate::support;
use serde_json::Value;
use std::path::Path;
use support::*;

const GAL: &str = ".guardlink/annotations/app/ledger.py.gal";

fn check_json(dir: &Path) -> Value {
    run(dir, &["check", "--format", "json"]).json()
}

fn with_code<'a>(v: &'a Value, code: &str) -> Vec<&'a Value> {
    v["diagnostics"].as_array().unwrap().iter().filter(|d| d["code"] == code).collect()
}

/// A copy of the fixture in a temporary directory, to edit.
fn copy_fixture() -> tempfile::TempDir {
    let dir = tempdir();
    for rel in [".guardlink/definitions.gal", GAL, "app/ledger.py"] {
        write(dir.path(), rel, std::fs::read(fixture("sidecar").join(rel)).unwrap());
    }
    dir
}

#[test]
fn findings_from_a_sidecar_are_reported_at_the_anchored_source_in_json() {
    let v = check_json(&fixture("sidecar"));
    let exposure = with_code(&v, "unmitigated-exposure");
    assert_eq!(exposure.len(), 1, "{v:#}");
    let d = exposure[0];
    // `search_entries` is defined on line 8 of app/ledger.py: the finding is reported there.
    assert_eq!(
        (d["file"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
        (Some("app/ledger.py"), Some(8), Some(1))
    );
    assert_eq!(d["end_column"], 32, "the whole definition line: {d:#}");
    // ... with the `.gal` line it is written on as `sidecar` and as the first related location.
    assert_eq!((d["sidecar"]["file"].as_str(), d["sidecar"]["line"].as_u64()), (Some(GAL), Some(2)), "{d:#}");
    assert_eq!(d["related"][0]["file"], GAL);
    assert_eq!(d["related"][0]["line"], 2);
    // Diagnostics of the `.gal` file itself (here the stale anchors) have no `sidecar`.
    for d in with_code(&v, "stale-anchor") {
        assert_eq!(d["file"], GAL);
        assert!(d.get("sidecar").is_none(), "{d:#}");
    }
}

#[test]
fn sarif_locates_sidecar_findings_at_the_source_with_the_gal_line_related() {
    let r = run(&fixture("sidecar"), &["check", "--format", "sarif"]);
    let log = r.json();
    assert_valid_sarif(&log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let exposure = results.iter().find(|r| r["ruleId"] == "unmitigated-exposure").expect("the exposure");
    let primary = &exposure["locations"][0]["physicalLocation"];
    assert_eq!(primary["artifactLocation"]["uri"], "app/ledger.py");
    assert_eq!(primary["region"]["startLine"], 8);
    assert_eq!(primary["region"]["snippet"]["text"], "def search_entries(conn, term):");
    let related = &exposure["relatedLocations"][0]["physicalLocation"];
    assert_eq!(related["artifactLocation"]["uri"], GAL);
    assert_eq!(related["region"]["startLine"], 2);
    assert!(
        log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "stale-anchor")
    );
}

#[test]
fn a_moved_symbol_is_a_stale_anchor_whose_fix_moves_the_line() {
    let dir = copy_fixture();
    let v = check_json(dir.path());
    let stale: Vec<_> = with_code(&v, "stale-anchor")
        .into_iter()
        .filter(|d| d["message"].as_str().unwrap().contains("add_entry"))
        .collect();
    assert_eq!(stale.len(), 1, "{v:#}");
    let d = stale[0];
    assert_eq!(d["severity"], "warning");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(4), Some(33)),
        "on the `line:` value: {d:#}"
    );
    assert!(d["message"].as_str().unwrap().contains("at line 13 of `app/ledger.py` now"), "{d:#}");
    assert_eq!(
        (d["related"][0]["file"].as_str(), d["related"][0]["line"].as_u64()),
        (Some("app/ledger.py"), Some(13))
    );
    let edit = &d["fix"]["edits"][0];
    assert_eq!((edit["file"].as_str(), edit["new_text"].as_str()), (Some(GAL), Some("13")));

    // Apply the fix as an editor would: the warning goes, the other anchors stay as they were.
    let path = dir.path().join(GAL);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let row = edit["line"].as_u64().unwrap() as usize - 1;
    let (from, to) =
        (edit["column"].as_u64().unwrap() as usize - 1, edit["end_column"].as_u64().unwrap() as usize - 1);
    lines[row].replace_range(from..to, "13");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    assert!(lines[row].ends_with("line:13 symbol:add_entry"), "{}", lines[row]);
    let after = check_json(dir.path());
    let left: Vec<_> = with_code(&after, "stale-anchor")
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].contains("app/reports.py"), "{left:?}");
}

#[test]
fn a_missing_source_file_is_a_stale_anchor_at_its_path() {
    let v = check_json(&fixture("sidecar"));
    let missing: Vec<_> = with_code(&v, "stale-anchor")
        .into_iter()
        .filter(|d| d["message"].as_str().unwrap().contains("reports.py"))
        .collect();
    assert_eq!(missing.len(), 1, "{v:#}");
    assert_eq!((missing[0]["line"].as_u64(), missing[0]["column"].as_u64()), (Some(6), Some(14)));
    assert!(
        missing[0]["message"].as_str().unwrap().contains("cannot be read (no such file)"),
        "{:#}",
        missing[0]
    );
}

#[test]
fn findings_follow_the_symbol_when_code_above_it_grows() {
    let dir = copy_fixture();
    let source = dir.path().join("app/ledger.py");
    let text = std::fs::read_to_string(&source).unwrap();
    std::fs::write(&source, format!("\"\"\"Ledger storage.\"\"\"\n\n{text}")).unwrap();
    let v = check_json(dir.path());
    let exposure = with_code(&v, "unmitigated-exposure");
    // Two lines were added: `search_entries` is at 10, still near `line:8`, so not stale, and
    // the finding is reported where the symbol is now.
    assert_eq!(
        (exposure[0]["file"].as_str(), exposure[0]["line"].as_u64()),
        (Some("app/ledger.py"), Some(10)),
        "{v:#}"
    );
    assert!(
        with_code(&v, "stale-anchor")
            .iter()
            .all(|d| !d["message"].as_str().unwrap().contains("search_entries"))
    );
}

#[test]
fn an_anchor_may_not_leave_the_project() {
    let dir = copy_fixture();
    write(
        dir.path(),
        ".guardlink/annotations/escape.gal",
        "@source file:../outside.py line:1\n@audit #ledger\n",
    );
    let v = check_json(dir.path());
    let escape: Vec<_> = with_code(&v, "stale-anchor")
        .into_iter()
        .filter(|d| d["file"] == ".guardlink/annotations/escape.gal")
        .collect();
    assert_eq!(escape.len(), 1, "{v:#}");
    assert!(escape[0]["message"].as_str().unwrap().contains("climbs out of the project"), "{:#}", escape[0]);
}

#[cfg(unix)]
#[test]
fn an_anchor_may_not_follow_a_link_out() {
    let outside = tempdir();
    write(outside.path(), "secret.py", "def search_entries():\n    pass\n");
    let dir = copy_fixture();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.py"), dir.path().join("app/secret.py")).unwrap();
    write(
        dir.path(),
        ".guardlink/annotations/links.gal",
        "@source file:linked/secret.py line:1 symbol:search_entries\n@audit #ledger\n\
         @source file:app/secret.py line:1 symbol:search_entries\n@audit #ledger\n",
    );
    let v = check_json(dir.path());
    let refused: Vec<_> = with_code(&v, "stale-anchor")
        .into_iter()
        .filter(|d| d["file"] == ".guardlink/annotations/links.gal")
        .map(|d| d["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(refused.len(), 2, "{v:#}");
    assert!(refused[0].contains("leads out of the project through a symbolic link"), "{refused:?}");
    assert!(refused[1].contains("symbolic link"), "{refused:?}");
    // Nothing of the outside file reached the output.
    assert!(!v.to_string().contains("def search_entries():"), "{v:#}");
}

/// GuardLink anchors module-level annotations to the module's own name (expense-api's
/// `@source file:app/__init__.py line:1 symbol:app`): that is not a stale anchor, while a name
/// defined nowhere still is.
#[test]
fn an_anchor_to_the_module_itself_is_not_stale() {
    let dir = copy_fixture();
    let d = dir.path();
    std::fs::write(d.join("app/__init__.py"), "").unwrap();
    let gal = d.join(".guardlink/annotations/app/__init__.py.gal");
    std::fs::write(&gal, "@source file:app/__init__.py line:1 symbol:app\n@comment -- \"package marker\"\n")
        .unwrap();
    let stale_here = |v: &serde_json::Value| {
        with_code(v, "stale-anchor")
            .into_iter()
            .filter(|d| d["file"].as_str().unwrap().ends_with("__init__.py.gal"))
            .count()
    };
    assert_eq!(stale_here(&check_json(d)), 0);
    std::fs::write(&gal, "@source file:app/__init__.py line:1 symbol:application\n@comment -- \"x\"\n")
        .unwrap();
    assert_eq!(stale_here(&check_json(d)), 1);
}

/// GuardLink's expense-api case (its D36): `@exposes #db to #sqli [critical]` anchored to
/// `symbol:find_expenses` and `@mitigates #db against #sqli` anchored to `symbol:insert_expense`
/// in the same file. The author said they are different places: the exposure is open.
#[test]
fn a_mitigation_anchored_to_another_symbol_of_the_file_does_not_cover() {
    let v = check_json(&fixture("expense-api"));
    let open = with_code(&v, "unmitigated-exposure");
    assert_eq!(open.len(), 1, "{v:#}");
    let d = open[0];
    // Critical: an error, at `def find_expenses` (line 4 of app/db.py).
    assert_eq!(
        (d["severity"].as_str(), d["file"].as_str(), d["line"].as_u64()),
        (Some("error"), Some("app/db.py"), Some(4))
    );
    // The `.gal` line it is written on is related, and so is the mitigation that does not count.
    let gal = ".guardlink/annotations/app/db.py.gal";
    assert_eq!((d["sidecar"]["file"].as_str(), d["sidecar"]["line"].as_u64()), (Some(gal), Some(2)), "{d:#}");
    let related = d["related"].as_array().unwrap();
    assert!(
        related.iter().any(|r| r["file"] == gal
            && r["line"] == 4
            && r["message"].as_str().unwrap().contains("anchored to `insert_expense`, not `find_expenses`")),
        "{d:#}"
    );
    // Anchored to the same symbol, the mitigation covers.
    let dir = tempdir();
    for rel in [".guardlink/definitions.gal", "app/db.py"] {
        write(dir.path(), rel, std::fs::read(fixture("expense-api").join(rel)).unwrap());
    }
    let text = std::fs::read_to_string(fixture("expense-api").join(gal)).unwrap();
    write(dir.path(), gal, text.replace("line:9 symbol:insert_expense", "line:4 symbol:find_expenses"));
    assert!(with_code(&check_json(dir.path()), "unmitigated-exposure").is_empty());
}

/// The inline equivalent of expense-api: inline annotations carry no anchor, so by default the
/// mitigation covers (as in GuardLink); `--coverage-scope symbol` anchors each to the function
/// it documents, and then the exposure is open.
#[test]
fn the_inline_expense_api_is_open_only_with_the_symbol_scope() {
    let dir = fixture("expense-api-inline");
    assert!(with_code(&check_json(&dir), "unmitigated-exposure").is_empty());
    let v = run(&dir, &["check", "--format", "json", "--coverage-scope", "symbol"]).json();
    let open = with_code(&v, "unmitigated-exposure");
    assert_eq!(open.len(), 1, "{v:#}");
    assert_eq!((open[0]["file"].as_str(), open[0]["line"].as_u64()), (Some("app/db.py"), Some(8)));
    assert_eq!(open[0]["severity"], "error");
}

/// With `--coverage-scope symbol`, a class encloses its methods (GuardLink's SPEC 3.6.1): a
/// mitigation on the class covers an exposure on a method; one on a method covers neither the
/// class nor a sibling method, and the note names both symbols qualified.
#[test]
fn with_the_symbol_scope_a_class_covers_its_methods_and_a_method_covers_only_itself() {
    let defs = "@asset Orders (#orders)\n@threat IDOR (#idor) [high]\n@control Owner check (#owner-check)\n";
    let open_lines = |code: &str| -> Vec<u64> {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "defs.gal", defs);
        write(dir.path(), "app/orders.py", code);
        let v = run(dir.path(), &["check", "--format", "json", "--coverage-scope", "symbol"]).json();
        with_code(&v, "unmitigated-exposure").iter().map(|d| d["line"].as_u64().unwrap()).collect()
    };
    let class_level = "# @mitigates #orders against #idor using #owner-check\nclass OrderView:\n    \
                       # @exposes #orders to #idor\n    def get(self, order_id):\n        return order_id\n";
    assert_eq!(open_lines(class_level), Vec::<u64>::new());
    let method_level = "import db\n\n# @exposes #orders to #idor\nclass OrderView:\n    \
                        # @mitigates #orders against #idor using #owner-check\n    def get(self, order_id):\n        \
                        return order_id\n\n    # @exposes #orders to #idor\n    def delete(self, order_id):\n        \
                        return order_id\n";
    assert_eq!(open_lines(method_level), [3, 9]);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "defs.gal", defs);
    write(dir.path(), "app/orders.py", method_level);
    let v = run(dir.path(), &["check", "--format", "json", "--coverage-scope", "symbol"]).json();
    let notes: Vec<&str> = with_code(&v, "unmitigated-exposure")
        .iter()
        .flat_map(|d| d["related"].as_array().unwrap().iter().map(|r| r["message"].as_str().unwrap()))
        .collect();
    assert!(
        notes.contains(
            &"anchored to `OrderView.get`, not `OrderView.delete`: this does not cover the exposure"
        ),
        "{notes:#?}"
    );
}

/// A sidecar's `symbol:` (a bare name) against inline annotations of the same source file in
/// the symbol scope: it is the method whose qualified name ends with it, so an inline
/// mitigation inside that method covers the sidecar's exposure, and one in a sibling does not.
#[test]
fn a_sidecar_symbol_is_the_method_whose_qualified_name_ends_with_it() {
    let open = |mitigated_method: &str| -> usize {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            ".guardlink/definitions.gal",
            "@asset Db (#db)\n@threat SQL Injection (#sqli) [critical]\n@control Prepared statements (#ps)\n",
        );
        write(
            dir.path(),
            ".guardlink/annotations/app/db.py.gal",
            "@source file:app/db.py line:2 symbol:find_expenses\n@exposes #db to #sqli\n",
        );
        let mitigation = "        # @mitigates #db against #sqli using #ps\n";
        let method = |name: &str| {
            let inside = if name == mitigated_method { mitigation } else { "" };
            format!("    def {name}(self, owner):\n{inside}        return owner\n\n")
        };
        write(
            dir.path(),
            "app/db.py",
            format!("class Repo:\n{}{}", method("find_expenses"), method("insert")),
        );
        let v = run(dir.path(), &["check", "--format", "json", "--coverage-scope", "symbol"]).json();
        with_code(&v, "unmitigated-exposure").len()
    };
    assert_eq!(open("find_expenses"), 0);
    assert_eq!(open("insert"), 1);
}
