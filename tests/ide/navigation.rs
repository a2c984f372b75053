//! Go to definition, references and highlights on inline fixtures (`$0` is the cursor).
use crate::support;

use threat_analyzer::analysis::ide::Location;
use threat_analyzer::analysis::ide::navigation::{
    HighlightKind, goto_declaration, goto_definition, highlights, references,
};
use threat_analyzer::model::ProjectIndex;
use threat_analyzer::text::ColumnUnit;

/// `file:line:col text` (1-based, character columns) for each location.
fn shown(index: &ProjectIndex, locations: &[Location]) -> Vec<String> {
    locations
        .iter()
        .map(|l| {
            let facts = index.file(l.file.as_str()).unwrap();
            let lc = facts.line_col(l.range.start(), ColumnUnit::Char);
            format!("{}:{}:{} {}", l.file, lc.line + 1, lc.col + 1, facts.slice(l.range))
        })
        .collect()
}

fn check_definition(fixture: &str, expected: &[&str]) {
    let (index, file, offset) = support::index_with_cursor(fixture);
    let got = shown(&index, &goto_definition(&index, &file, offset));
    assert_eq!(got, expected);
    assert_eq!(goto_declaration(&index, &file, offset), goto_definition(&index, &file, offset));
}

fn check_references(fixture: &str, include_declaration: bool, expected: &[&str]) {
    let (index, file, offset) = support::index_with_cursor(fixture);
    let got = shown(&index, &references(&index, &file, offset, include_declaration));
    assert_eq!(got, expected);
}

const PROJECT: &str = r#"
//- /.guardlink/defs.gal
@asset Shop.Orders (#orders) -- "orders"
@threat SQL Injection (#sqli) [high] cwe:CWE-89
@control Prepared Statements (#prepared)
//- /src/db.py
# @exposes Shop.Orders to #sqli
# @mitigates shop:orders against SQL Injection using #prepared
# @accepts #sqli on #orders
"#;

fn with_cursor(needle: &str, nth: usize) -> String {
    // Put `$0` just inside the nth occurrence of `needle` in PROJECT.
    let mut at = 0;
    for _ in 0..=nth {
        at += PROJECT[at..].find(needle).expect("needle in PROJECT") + 1;
    }
    let cursor = at; // one past the start: inside the needle
    format!("{}$0{}", &PROJECT[..cursor], &PROJECT[cursor..])
}

#[test]
fn definition_of_an_id_reference_in_another_file() {
    check_definition(&with_cursor("#sqli", 1), &[".guardlink/defs.gal:2:9 SQL Injection"]);
}

#[test]
fn definition_of_a_name_and_of_a_colon_path() {
    check_definition(&with_cursor("SQL Injection using", 0), &[".guardlink/defs.gal:2:9 SQL Injection"]);
    check_definition(&with_cursor("shop:orders", 0), &[".guardlink/defs.gal:1:8 Shop.Orders"]);
    check_definition(&with_cursor("#orders", 1), &[".guardlink/defs.gal:1:8 Shop.Orders"]);
}

#[test]
fn definition_on_the_definition_itself() {
    // On the `(#sqli)` of the definition, and on its name.
    check_definition(&with_cursor("sqli)", 0), &[".guardlink/defs.gal:2:9 SQL Injection"]);
    check_definition(&with_cursor("SQL Injection (", 0), &[".guardlink/defs.gal:2:9 SQL Injection"]);
}

#[test]
fn definition_of_an_implicit_entity_is_its_first_occurrence() {
    check_definition(
        r#"
        //- /b.py
        # @mitigates WebApp:Api against Path Traversal with input validation
        //- /a.py
        # @exposes WebApp:Api to path-traversal with filenames from the request
        //- /c.py
        # @accepts path traversal$0 to WebApp:Api with low risk
        "#,
        &["a.py:1:26 path-traversal"],
    );
}

#[test]
fn definition_of_legacy_pairs_and_ids() {
    let fixture = r#"
        //- /aliases.threatspec
        @alias component @web:@app to Web Application
        @alias threat @xss to Cross-site Scripting
        //- /app.php
        <?php
        // @exposes @web:@a$0pp to @xss with templates
        "#;
    check_definition(fixture, &["aliases.threatspec:1:19 web:@app"]);
    check_definition(&fixture.replace("@a$0pp to @xss", "@app to @x$0ss"), &["aliases.threatspec:2:16 xss"]);
}

#[test]
fn definition_of_a_boundary_id_is_itself_and_dangling_has_none() {
    check_definition(
        r#"
        //- /net.gal
        @boundary between Internet and Shop.Web (#e$0dge)
        "#,
        &["net.gal:1:43 edge"],
    );
    check_definition(
        r#"
        //- /a.py
        # @exposes Shop to #nope$0
        "#,
        &[],
    );
    check_definition(
        r#"
        //- /a.py
        # plain comment $0 @exposes Shop to #x
        x = 1
        "#,
        &[],
    );
}

#[test]
fn duplicate_declarations_are_all_returned() {
    check_definition(
        r#"
        //- /a.gal
        @threat Spoofing (#spoof)
        //- /b.gal
        @threat Spoofing again (#spoof)
        //- /c.py
        # @exposes Shop to #spo$0of
        "#,
        &["a.gal:1:9 Spoofing", "b.gal:1:9 Spoofing again"],
    );
}

#[test]
fn references_with_and_without_the_declaration() {
    let all = [
        ".guardlink/defs.gal:2:9 SQL Injection",
        "src/db.py:1:28 sqli",
        "src/db.py:2:34 SQL Injection",
        "src/db.py:3:13 sqli",
    ];
    check_references(&with_cursor("#sqli", 2), true, &all);
    check_references(&with_cursor("#sqli", 2), false, &all[1..]);
    // From the definition itself.
    check_references(&with_cursor("SQL Injection (", 0), false, &all[1..]);
    // A component: dotted, colon and by id are one.
    check_references(
        &with_cursor("Shop.Orders to", 0),
        true,
        &[
            ".guardlink/defs.gal:1:8 Shop.Orders",
            "src/db.py:1:12 Shop.Orders",
            "src/db.py:2:14 shop:orders",
            "src/db.py:3:22 orders",
        ],
    );
}

#[test]
fn references_of_a_boundary_and_of_a_dangling_id() {
    check_references(
        r#"
        //- /a.py
        # @exposes Shop to #nope$0
        //- /b.py
        # @mitigates Shop against #nope
        "#,
        false,
        &["a.py:1:21 nope", "b.py:1:28 nope"],
    );
    check_references(
        r#"
        //- /net.gal
        @boundary between Internet and Shop.Web (#e$0dge)
        "#,
        true,
        &["net.gal:1:43 edge"],
    );
}

#[test]
fn highlights_mark_definitions_as_writes() {
    let (index, file, offset) = support::index_with_cursor(
        r#"
        //- /a.gal
        @threat Tampering (#tamper)
        @exposes Shop to #tamper
        @mitigates Shop against Data Tampering (#tamper) using #$0sig
        @control Signing (#sig)
        //- /b.py
        # @exposes Other to #tamper
        "#,
    );
    let got: Vec<_> = highlights(&index, &file, offset)
        .into_iter()
        .map(|(r, k)| (r.slice(index.file(&file).unwrap().text()).to_string(), k))
        .collect();
    assert_eq!(
        got,
        [("sig".to_string(), HighlightKind::Read), ("Signing".to_string(), HighlightKind::Write)]
    );

    let tamper = index.file("a.gal").unwrap().text().find("#tamper\n").unwrap() + 2;
    let got: Vec<_> = highlights(&index, "a.gal", tamper)
        .into_iter()
        .map(|(r, k)| (r.slice(index.file("a.gal").unwrap().text()).to_string(), k))
        .collect();
    // The inline `(#tamper)` restates the definition: a write; b.py is another file.
    assert_eq!(
        got,
        [
            ("Tampering".to_string(), HighlightKind::Write),
            ("tamper".to_string(), HighlightKind::Read),
            ("Data Tampering".to_string(), HighlightKind::Write),
        ]
    );
}
