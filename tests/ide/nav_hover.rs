//! Hover: Markdown snapshots (expect-test) for each entity kind, and escaping.
use crate::support;

use expect_test::{Expect, expect};
use threat_analyzer::analysis::Analysis;
use threat_analyzer::analysis::ide::hover::escape_markdown;
use threat_analyzer::analysis::ide::navigation::hover;

fn check_hover(fixture: &str, expect: Expect) {
    let (index, file, offset) = support::index_with_cursor(fixture);
    let analysis = Analysis::new(&index);
    let info = hover(&index, &analysis, &file, offset).expect("a hover");
    let text = index.file(&file).unwrap().text();
    let shown = format!("range: {}\n{}", info.range.slice(text), info.markdown);
    expect.assert_eq(&shown);
}

const SHOP: &str = r#"
//- /defs.gal
@asset Shop.Orders (#orders) -- "order placement"
@threat SQL Injection (#sqli) [high] cwe:CWE-89 owasp:A03:2021 -- "attacker-controlled *SQL* via [links](x) <b>|`"
@control Prepared Statements (#prepared-stmts)
//- /src/db.py
# @exposes Shop.Orders to #sqli
# @mitigates Shop.Orders against #sqli using #prepared-stmts
# @validates #prepared-stmts for Shop.Orders
//- /src/admin.py
# @exposes Shop.Admin.Users to #sqli
# @accepts #sqli on Shop.Admin -- "internal only"
//- /src/search.py
# @exposes Shop.Search to #sqli
# @confirmed #sqli on Shop.Search
"#;

fn at(needle: &str) -> String {
    let i = SHOP.find(needle).expect("needle") + 1;
    format!("{}$0{}", &SHOP[..i], &SHOP[i..])
}

#[test]
fn hover_on_a_threat_shows_its_status_in_the_project() {
    check_hover(
        &at("#sqli\n# @confirmed"),
        expect![[r#"
            range: sqli
            **threat** SQL Injection `#sqli`

            attacker-controlled \*SQL\* via \[links\]\(x\) \<b\>\|\`

            severity **high** · cwe:CWE-89 · owasp:A03:2021

            defined at defs.gal:2

            ---

            exposed in 3 places, 1 open, 1 mitigation

            - accepted on Shop.Admin at src/admin.py:2
            - mitigated on Shop.Orders by `#prepared-stmts` at src/db.py:2
            - **open** on Shop.Search (unmitigated) at src/search.py:1
            - **confirmed** on Shop.Search at src/search.py:2"#]],
    );
}

#[test]
fn hover_on_an_asset_and_a_control() {
    check_hover(
        &at("Shop.Orders against"),
        expect![[r#"
            range: Shop.Orders
            **asset** Shop.Orders `#orders`

            order placement

            defined at defs.gal:1

            ---

            exposed in 1 place, 0 open, 1 mitigation

            - exposed to `#sqli` (covered) at src/db.py:1
            - mitigated against `#sqli` by `#prepared-stmts` at src/db.py:2
            - control `#prepared-stmts` validated at src/db.py:3"#]],
    );
    check_hover(
        &at("Prepared Statements"),
        expect![[r#"
            range: Prepared Statements
            **control** Prepared Statements `#prepared-stmts`

            defined at defs.gal:3

            ---

            mitigates in 1 place, validated in 1 place

            - mitigates `#sqli` on Shop.Orders at src/db.py:2
            - validated for Shop.Orders at src/db.py:3"#]],
    );
}

#[test]
fn hover_on_implicit_dangling_and_unvalidated_entities() {
    check_hover(
        r#"
        //- /a.py
        # @exposes App:Api to non-privileged port with details
        //- /b.py
        # @mitigates App:Api against #nonprivileged_p$0ort with Fire_wall
        "#,
        expect![[r#"
            range: nonprivileged_port
            **threat** non-privileged port

            defined implicitly: first named at a.py:1

            ---

            exposed in 1 place, 0 open, 1 mitigation

            - mitigated on App:Api by Fire\_wall at b.py:1"#]],
    );
    check_hover(
        r#"
        //- /a.py
        # @mitigates App against #nope$0
        "#,
        expect![[r#"
            range: nope
            `#nope` is not defined: no definition in the project has this id"#]],
    );
    check_hover(
        r#"
        //- /a.gal
        @control Rate <Limit$0ing>
        "#,
        expect![[r#"
            range: Rate <Limiting>
            **control** Rate \<Limiting\>

            defined at a.gal:1

            ---

            mitigates in 0 places, not validated (no `@validates`)"#]],
    );
}

#[test]
fn hover_on_a_boundary_id_and_no_hover_elsewhere() {
    check_hover(
        r#"
        //- /net.gal
        @boundary between Internet and Shop.Web (#e$0dge)
        "#,
        expect![[r#"
            range: edge
            **boundary** `#edge`

            defined at net.gal:1

            ---

            - between Internet and Shop.Web at net.gal:1"#]],
    );
    check_hover(
        r#"
        //- /net.gal
        @boundary from Internet to Shop.Web (#e$0dge)
        "#,
        expect![[r#"
            range: edge
            **boundary** `#edge`

            defined at net.gal:1

            ---

            - from Internet (outer) to Shop.Web (inner) at net.gal:1"#]],
    );
    let (index, file, offset) = support::index_with_cursor(
        r#"
        //- /a.py
        # @exp$0oses Shop to #x
        "#,
    );
    assert_eq!(hover(&index, &Analysis::new(&index), &file, offset), None);
}

#[test]
fn escaping_neutralises_markdown_and_html() {
    assert_eq!(
        escape_markdown("a*b_c [d](e) <img> `x` |t| #h ~s~ &amp; !"),
        r"a\*b\_c \[d\]\(e\) \<img\> \`x\` \|t\| \#h \~s\~ \&amp; \!"
    );
    assert_eq!(escape_markdown("- item\n\n# head"), r"\- item \# head");
    assert_eq!(escape_markdown("1. first"), r"1\. first");
    assert_eq!(escape_markdown(r"back\slash"), r"back\\slash");
    assert_eq!(escape_markdown("Shop.Orders"), "Shop.Orders");
    // Controls and bidi overrides never reach the rendered Markdown.
    assert_eq!(escape_markdown("a\u{1b}[2J\u{202E}b"), "a\u{FFFD}\\[2J\u{FFFD}b");
}

/// Hover after an edit that keeps the resolution tables (the incremental analysis carries the
/// earlier mentions and moves only the edited file's): it shows the edited status, as a fresh
/// analysis does.
#[test]
fn hover_after_an_edit_shows_the_edited_status() {
    use std::sync::Arc;
    use threat_analyzer::file_id::FileId;
    use threat_analyzer::model::FileFacts;
    use threat_analyzer::syntax::Language;
    let (mut index, file, offset) = support::index_with_cursor(&at("#sqli\n# @confirmed"));
    let first = Analysis::new(&index);
    let before = hover(&index, &first, &file, offset).expect("a hover").markdown;
    assert!(before.contains("- accepted on Shop.Admin at src/admin.py:2"), "{before}");
    let tables = index.tables_revision();
    let edited = "# @exposes Shop.Admin.Users to #sqli\n# @confirmed #sqli on Shop.Admin\n";
    index.set_file(Arc::new(FileFacts::new(
        FileId::relative("src/admin.py"),
        Language::Python,
        edited.into(),
    )));
    assert_eq!(index.tables_revision(), tables, "the edit keeps the tables: mentions are carried");
    let second = Analysis::update(Some(&first), &index);
    let after = hover(&index, &second, &file, offset).expect("a hover").markdown;
    let fresh = hover(&index, &Analysis::new(&index), &file, offset).expect("a hover").markdown;
    assert_eq!(after, fresh);
    assert!(after.contains("- **confirmed** on Shop.Admin at src/admin.py:2"), "{after}");
    assert!(!after.contains("accepted on"), "{after}");
}

/// More status lines than a hover lists: the first `MAX_ITEMS` in project order (files in
/// index order, annotations by position), then a count of the rest; all are counted.
#[test]
fn hover_lists_the_first_status_lines_in_order_and_counts_the_rest() {
    use threat_analyzer::analysis::ide::hover::MAX_ITEMS;
    let extra = 5;
    let mut fixture = String::from("//- /defs.gal\n@threat SQL Injection (#sqli)\n");
    // Files written in reverse order (the index orders them by path), two exposures each.
    for k in (0..(MAX_ITEMS + extra) / 2 + 1).rev() {
        fixture.push_str(&format!(
            "//- /src/f{k:02}.py\n# @exposes Shop.A{k}x to #sqli\n# @exposes Shop.A{k}y to #sqli\n"
        ));
    }
    let fixture = fixture.replacen("(#sqli)", "(#$0sqli)", 1);
    let (index, file, offset) = support::index_with_cursor(&fixture);
    let analysis = Analysis::new(&index);
    let md = hover(&index, &analysis, &file, offset).expect("a hover").markdown;
    let total = ((MAX_ITEMS + extra) / 2 + 1) * 2;
    assert!(md.contains(&format!("exposed in {total} places, {total} open, 0 mitigations")), "{md}");
    let lines: Vec<&str> = md.lines().filter(|l| l.starts_with("- ")).collect();
    let mut expected: Vec<String> = (0..MAX_ITEMS)
        .map(|n| {
            let (k, which, line) = (n / 2, if n % 2 == 0 { "x" } else { "y" }, n % 2 + 1);
            format!("- **open** on Shop.A{k}{which} (unmitigated) at src/f{k:02}.py:{line}")
        })
        .collect();
    expected.push(format!("- and {} more", total - MAX_ITEMS));
    assert_eq!(lines, expected);
}

/// A language server hovers the same few entities again and again on one analysis, which
/// shares each entity's text and risks section between hovers: every hover, repeated and
/// under either of two risk policies (which band a scored risk differently), equals the one
/// a fresh analysis gives.
#[test]
fn repeated_hovers_on_one_analysis_equal_fresh_ones_under_each_policy() {
    use threat_analyzer::analysis::ide::risk::hover as risk_hover;
    use threat_analyzer::model::risk::{Band, Policies, RiskPolicy};
    let fixture = "//- /defs.gal\n@asset Shop.Orders (#orders)\n@threat SQL Injection (#sqli) risk:L3xI4\n\
                   @threat XSS (#xss) [high]\n@control Prepared Statements (#ps)\n\
                   //- /src/db.py\n# @exposes #orders to #sqli\n# @mitigates #orders against #xss using #ps$0\n\
                   # @exposes Shop.Search to #xss risk:L2xI2\n# @exposes Shop.Search to #sqli\n";
    let (index, _, _) = support::index_with_cursor(fixture);
    let default = Policies::one(RiskPolicy::default());
    // Score 12 is high by default, critical here.
    let strict = Policies::one(RiskPolicy {
        from: [2, 3, 4, 5],
        owner_required_from: Some(Band::Low),
        ..RiskPolicy::default()
    });
    let places: Vec<(String, usize)> = index
        .files()
        .flat_map(|f| f.refs.iter().flatten().map(move |r| (f.path.to_string(), r.name_range.start() + 1)))
        .collect();
    let shared = Analysis::new(&index);
    let mut hovered = 0;
    for round in 0..2 {
        for policies in [&default, &strict] {
            for (file, offset) in &places {
                let fresh =
                    risk_hover(&index, &Analysis::new(&index), policies, file, *offset).map(|h| h.markdown);
                let again = risk_hover(&index, &shared, policies, file, *offset).map(|h| h.markdown);
                assert_eq!(again, fresh, "round {round}, {file}:{offset}");
                hovered += usize::from(fresh.is_some());
            }
        }
    }
    assert_eq!(hovered, places.len() * 4);
    // The definition of `#sqli` (no exposure there): only its risks section shows the band.
    let defs = index.files().find(|f| f.path.as_str().ends_with("defs.gal")).expect("defs.gal");
    let at = defs.text().find("SQL Injection").expect("the threat") + 1;
    let under =
        |p: &Policies| risk_hover(&index, &shared, p, defs.path.as_str(), at).expect("a hover").markdown;
    assert!(under(&default).contains("score 12, **high**"), "{}", under(&default));
    assert!(under(&strict).contains("score 12, **critical**"), "{}", under(&strict));
}

/// Hovers taken over from an earlier analysis never show what an edit changed: after an edit
/// of another file that keeps the resolution tables, the counts, status lines and risks of a
/// threat that file names and of an asset it does not name (whose exposure a mitigation of
/// its parent now covers) are the edited project's, as a fresh analysis shows them.
#[test]
fn hovers_after_an_edit_elsewhere_show_its_counts_status_and_risks() {
    use std::sync::Arc;
    use threat_analyzer::analysis::ide::risk::hover as risk_hover;
    use threat_analyzer::file_id::FileId;
    use threat_analyzer::model::FileFacts;
    use threat_analyzer::model::risk::{Policies, RiskPolicy};
    use threat_analyzer::syntax::Language;
    let fixture = "//- /defs.gal\n@threat SQL Injection (#sqli) [high]\n@threat XSS (#xss)\n\
                   //- /src/a.py\n# @exposes Shop.Orders to #sqli\n# @exposes Shop.Ord$0ers to #xss\n\
                   //- /src/b.py\n# @exposes Shop.Users to #sqli\n# @exposes Shop to #xss\n";
    let (mut index, file, orders) = support::index_with_cursor(fixture);
    let sqli = index.file(&file).expect("a.py").text().find("#sqli").expect("a.py's #sqli") + 1;
    let policies = Policies::one(RiskPolicy::default());
    let first = Analysis::new(&index);
    let shown = |index: &threat_analyzer::model::ProjectIndex, analysis: &Analysis| {
        [orders, sqli].map(|at| risk_hover(index, analysis, &policies, &file, at).expect("a hover").markdown)
    };
    let [orders_before, sqli_before] = shown(&index, &first);
    assert!(orders_before.contains("**open**: exposed to `#xss`"), "{orders_before}");
    assert!(sqli_before.contains("exposed in 2 places, 2 open"), "{sqli_before}");
    let tables = index.tables_revision();
    let mut analysis = first;
    // First an exposure more (the same coverage answers), then a mitigation of Shop.
    for (step, edited) in [
        "# @exposes Shop.Users to #sqli\n# @exposes Shop to #xss\n# @exposes Shop to #sqli\n",
        "# @exposes Shop.Users to #sqli\n# @mitigates Shop against #xss\n# @exposes Shop to #sqli\n",
    ]
    .into_iter()
    .enumerate()
    {
        // As a language server does after each analysis (the next one keeps its risk tables).
        analysis.diagnostics_with_risk(&index, &policies, None, &[]);
        index.set_file(Arc::new(FileFacts::new(
            FileId::relative("src/b.py"),
            Language::Python,
            edited.into(),
        )));
        assert_eq!(index.tables_revision(), tables, "the edit keeps the tables: hovers are carried");
        analysis = Analysis::update(Some(&analysis), &index);
        let [orders_after, sqli_after] = shown(&index, &analysis);
        assert_eq!([&orders_after, &sqli_after], shown(&index, &Analysis::new(&index)).each_ref());
        let xss = if step == 0 { "**open**: exposed to `#xss`" } else { "exposed to `#xss` (covered)" };
        assert!(orders_after.contains(xss), "{orders_after}");
        assert!(sqli_after.contains("exposed in 3 places, 3 open"), "{sqli_after}");
        assert!(sqli_after.contains("**risks** (3)"), "{sqli_after}");
        assert!(sqli_after.contains("- **open** on Shop (unmitigated) at src/b.py:3"), "{sqli_after}");
    }
}
