//! Code actions: applied to the fixture text, the result is checked.

use crate::support;

use threat_analyzer::analysis::Analysis;
use threat_analyzer::analysis::ide::code_actions::{ActionKind, CodeAction, code_actions};
use threat_analyzer::diagnostic::{Code, Edit};
use threat_analyzer::model::ProjectIndex;
use threat_analyzer::text::TextRange;

/// Actions at the `$0` cursor, with the index they were computed on.
fn actions(fixture: &str) -> (Vec<CodeAction>, ProjectIndex, String) {
    let (index, file, offset) = support::index_with_cursor(fixture);
    let analysis = Analysis::new(&index);
    let diagnostics = analysis.diagnostics(&index);
    let actions = code_actions(&index, &analysis, &diagnostics, &file, TextRange::empty(offset));
    (actions, index, file)
}

/// Applies edits to one file's text (edits must not overlap).
fn apply(text: &str, edits: &[Edit]) -> String {
    let mut edits = edits.to_vec();
    edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
    let mut out = text.to_string();
    for e in edits {
        out.replace_range(e.range.start()..e.range.end(), &e.new_text);
    }
    out
}

/// The file after applying the action titled `title`.
fn check_action(fixture: &str, title: &str, expected: &str) -> CodeAction {
    let (actions, index, file) = actions(fixture);
    let action = actions
        .iter()
        .find(|a| a.title == title)
        .unwrap_or_else(|| {
            panic!("no action `{title}` in {:#?}", actions.iter().map(|a| &a.title).collect::<Vec<_>>())
        })
        .clone();
    assert!(action.edits.iter().all(|e| e.file.as_str() == file), "edits stay in the file");
    let text = index.file(&file).unwrap().text().to_string();
    let after = apply(&text, &action.edits);
    assert_eq!(after, expected.trim_start_matches('\n'), "after `{title}`");
    action
}

#[test]
fn unknown_verb_fix_is_a_preferred_quick_fix() {
    let a = check_action(
        "//- /a.py\n# @threat X (#x)\n# @mitg$0ates Shop against #x\n",
        "Replace with `@mitigates`",
        "# @threat X (#x)\n# @mitigates Shop against #x\n",
    );
    assert_eq!(a.kind, ActionKind::QuickFix);
    assert!(a.preferred);
    assert_eq!(a.diagnostics.len(), 1);
}

#[test]
fn dangling_reference_change_to_closest_and_define() {
    let fixture = r#"
//- /defs.gal
@threat Cross-Site Request Forgery (#csrf)
@control CSRF Token (#csrf-token)
//- /web/checkout.ts
function f() {
    // @mitigates Shop.Web against #cs$0fr using #csrf-token
}
"#;
    let a = check_action(
        fixture,
        "Change to `csrf`",
        "function f() {\n    // @mitigates Shop.Web against #csrf using #csrf-token\n}\n",
    );
    assert!(a.preferred);
    let a = check_action(
        fixture,
        "Define threat #csfr",
        "function f() {\n    // @threat Csfr (#csfr)\n    // @mitigates Shop.Web against #csfr using #csrf-token\n}\n",
    );
    assert!(!a.preferred);
    assert_eq!(a.kind, ActionKind::QuickFix);
}

/// Issue 14 §3: the quick fix only when exactly one id is closest; no fix for an id of
/// another kind.
#[test]
fn dangling_reference_change_to_only_for_a_single_candidate_of_the_kind() {
    let titles = |fixture: &str| -> Vec<String> { actions(fixture).0.into_iter().map(|a| a.title).collect() };
    let defs = "//- /defs.gal\n@threat A (#order-read)\n@threat B (#order-real)\n@asset Orders DB (#db)\n";
    let tie = titles(&format!("{defs}//- /a.py\n# @exposes Shop to #order-re$0az\n"));
    assert_eq!(tie, ["Define threat #order-reaz"]);
    let other_kind = titles(&format!("{defs}//- /a.py\n# @exposes Shop to #d$0bs\n"));
    assert_eq!(other_kind, ["Define threat #dbs"]);
    let one = titles(&format!("{defs}//- /a.py\n# @exposes Shop to #order-re$0d\n"));
    assert_eq!(one, ["Change to `order-read`", "Define threat #order-red"]);
}

#[test]
fn define_follows_the_argument_kind_and_comment_style() {
    check_action(
        "//- /a.py\nclass A:\n    # @mitigates Shop against #sqli using #param$0-queries\n",
        "Define control #param-queries",
        "class A:\n    # @control Param Queries (#param-queries)\n    # @mitigates Shop against #sqli using #param-queries\n",
    );
    check_action(
        "//- /A.java\n/**\n * @exposes Shop to #sq$0li\n */\nclass A {}\n",
        "Define threat #sqli",
        "/**\n * @threat Sqli (#sqli)\n * @exposes Shop to #sqli\n */\nclass A {}\n",
    );
    check_action(
        "//- /a.c\nint x; /* @exposes Shop to #sq$0li */\n",
        "Define threat #sqli",
        "/* @threat Sqli (#sqli) */\nint x; /* @exposes Shop to #sqli */\n",
    );
    check_action(
        "//- /a.py\nx = 1  # @exposes Shop to #sq$0li\n",
        "Define threat #sqli",
        "# @threat Sqli (#sqli)\nx = 1  # @exposes Shop to #sqli\n",
    );
}

#[test]
fn unmitigated_exposure_add_mitigation_or_accept() {
    let fixture = r#"
//- /defs.gal
@threat IDOR (#idor)
//- /api/orders.py
def get():
    # @exposes Shop.Orders to #idor [P1] -- "any user$0 can read any order"
    pass
"#;
    let a = check_action(
        fixture,
        "Add @mitigates Shop.Orders against #idor using …",
        "def get():\n    # @exposes Shop.Orders to #idor [P1] -- \"any user can read any order\"\n    # @mitigates Shop.Orders against #idor using #TODO-control\n    pass\n",
    );
    assert!(a.preferred);
    check_action(
        fixture,
        "Accept the risk (@accepts #idor on Shop.Orders -- \"reason\")",
        "def get():\n    # @exposes Shop.Orders to #idor [P1] -- \"any user can read any order\"\n    # @accepts #idor on Shop.Orders -- \"TODO: reason\"\n    pass\n",
    );
}

#[test]
fn the_added_mitigation_silences_the_diagnostic() {
    let fixture = "//- /d.gal\n@threat X (#x)\n//- /a.rs\n// @exposes Shop to #x$0\nfn main() {}\n";
    let (actions, index, file) = actions(fixture);
    let add = actions.iter().find(|a| a.title.starts_with("Add @mitigates")).unwrap();
    let text = apply(index.file(&file).unwrap().text(), &add.edits);
    assert_eq!(
        text,
        "// @exposes Shop to #x\n// @mitigates Shop against #x using #TODO-control\nfn main() {}\n"
    );
    let after = support::index_of(&[("d.gal".into(), "@threat X (#x)\n".into()), (file.clone(), text)]);
    let codes: Vec<Code> = threat_analyzer::analysis::diagnostics(&after).iter().map(|d| d.code).collect();
    assert!(!codes.contains(&Code::UnmitigatedExposure), "{codes:?}");
}

#[test]
fn crlf_files_keep_crlf() {
    let fixture = "//- /a.gal\n@threat X (#x)\n@exposes Shop to #x$0\n";
    let (index, file, offset) = support::index_with_cursor(fixture);
    let text = index.file(&file).unwrap().text().replace('\n', "\r\n");
    let index = support::index_of(&[(file.clone(), text.clone())]);
    let analysis = Analysis::new(&index);
    let diagnostics = analysis.diagnostics(&index);
    let actions = code_actions(&index, &analysis, &diagnostics, &file, TextRange::empty(offset));
    let accept = actions.iter().find(|a| a.title.starts_with("Accept")).unwrap();
    assert_eq!(
        apply(&text, &accept.edits),
        "@threat X (#x)\r\n@exposes Shop to #x\r\n@accepts #x on Shop -- \"TODO: reason\"\r\n"
    );
}

#[test]
fn no_actions_away_from_diagnostics() {
    let fixture = "//- /a.py\n# @exposes Shop to #x\nx = 1$0\n";
    let (actions, _, _) = actions(fixture);
    assert!(actions.is_empty(), "{actions:#?}");
}

#[test]
fn legacy_comments_convert_to_gal() {
    let convert = "Convert this comment to GAL syntax";
    let a = check_action("//- /a.py\n# @connects @b:@c to @d:@e$0\n", convert, "# @flows B.C -> D.E\n");
    assert_eq!(a.kind, ActionKind::RefactorRewrite);
    check_action(
        "//- /a.py\n# @connects @web_app:@api with @db:@orders as $0queries\n",
        convert,
        "# @flows Web_App.Api <-> Db.Orders -- \"queries\"\n",
    );
    check_action(
        "//- /a.py\n# @alias threat @sqli to SQL Injection\n# @exposes @b:@c to @sqli with unescaped \"input\"$0\n",
        convert,
        "# @alias threat @sqli to SQL Injection\n# @exposes B.C to #sqli -- \"unescaped \\\"input\\\"\"\n",
    );
    check_action(
        "//- /a.py\n# @mitigates @b:@c aga$0inst @sqli with Prepared Statements\n# @alias threat @sqli to SQL\n",
        convert,
        "# @mitigates B.C against #sqli using Prepared Statements\n# @alias threat @sqli to SQL\n",
    );
    check_action(
        "//- /a.py\n# @accepts @sqli to @b:@c with low$0 risk\n# @alias threat @sqli to SQL\n",
        convert,
        "# @accepts #sqli on B.C -- \"low risk\"\n# @alias threat @sqli to SQL\n",
    );
    check_action(
        "//- /a.py\n# @alias threat @sqli to SQL Inj$0ection\n",
        convert,
        "# @threat SQL Injection (#sqli)\n",
    );
    check_action(
        "//- /a.py\n# @review @b:@c check$0 the pool\n",
        convert,
        "# @audit B.C -- \"check the pool\"\n",
    );
    // GAL annotations are not offered a conversion.
    let (actions, _, _) = actions("//- /a.py\n# @flows B.C -> D$0.E\n");
    assert!(actions.iter().all(|a| a.title != convert));
}

#[test]
fn converted_legacy_means_the_same() {
    let before = "# @alias threat @sqli to SQL Injection\n# @exposes @web:@app to @sqli with raw sql\n# @mitigates @web:@app against @sqli with Params\n";
    let index = support::index_of(&[("a.py".to_string(), before.to_string())]);
    let analysis = Analysis::new(&index);
    let all = TextRange::new(0, before.len());
    let edits: Vec<Edit> = code_actions(&index, &analysis, &[], "a.py", all)
        .into_iter()
        .filter(|a| a.kind == ActionKind::RefactorRewrite)
        .flat_map(|a| a.edits)
        .collect();
    assert_eq!(edits.len(), 3);
    let after = apply(before, &edits);
    assert_eq!(
        after,
        "# @threat SQL Injection (#sqli)\n# @exposes Web.App to #sqli -- \"raw sql\"\n# @mitigates Web.App against #sqli using Params\n"
    );
    let after_index = support::index_of(&[("a.py".to_string(), after)]);
    assert!(threat_analyzer::analysis::diagnostics(&after_index).is_empty());
    // Every annotation resolves to the same entities as before (`@alias threat` became `@threat`).
    let meaning = |index: &ProjectIndex| -> Vec<Vec<String>> {
        let facts = index.file("a.py").unwrap();
        facts
            .refs
            .iter()
            .map(|refs| refs.iter().map(|r| format!("{:?}", index.resolve(r))).collect())
            .collect()
    };
    assert_eq!(meaning(&index), meaning(&after_index));
}
