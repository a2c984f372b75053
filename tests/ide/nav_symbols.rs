//! Document symbols (outline snapshots) and workspace symbol search.
use crate::support;

use expect_test::{Expect, expect};
use threat_analyzer::analysis::ide::navigation::{Symbol, SymbolKind, document_symbols, workspace_symbols};
use threat_analyzer::model::ProjectIndex;

fn outline(index: &ProjectIndex, file: &str) -> String {
    fn walk(text: &str, symbols: &[Symbol], depth: usize, out: &mut String) {
        for s in symbols {
            assert!(s.range.start <= s.selection_range.start && s.selection_range.end <= s.range.end);
            out.push_str(&format!(
                "{}{:?} {:?} detail={:?} selection={:?}\n",
                "  ".repeat(depth),
                s.kind,
                s.name,
                s.detail,
                s.selection_range.slice(text)
            ));
            walk(text, &s.children, depth + 1, out);
        }
    }
    let mut out = String::new();
    walk(index.file(file).unwrap().text(), &document_symbols(index, file), 0, &mut out);
    out
}

fn check_outline(fixture: &str, file: &str, expect: Expect) {
    let f = support::parse_fixture(fixture);
    let index = support::index_of(&f.files);
    expect.assert_eq(&outline(&index, file));
}

#[test]
fn outline_nests_components_and_lists_relations() {
    check_outline(
        r#"
        //- /model.gal
        @asset Shop.Api.Orders (#orders)
        @threat SQL Injection (#sqli) [P1]
        @asset Shop -- "the shop"
        @control Prepared Statements
        @actor Customer (#customer)
        @boundary between Internet and Shop.Web (#edge)
        @mitigates Shop.Api.Orders against #sqli using Prepared Statements -- "always"
        @comment nothing to see
        @asset Shop.Api
        @feature "Checkout"
        "#,
        "model.gal",
        expect![[r##"
            Threat "SQL Injection" detail=Some("#sqli [high]") selection="SQL Injection"
            Asset "Shop" detail=None selection="Shop"
              Asset "Shop.Api" detail=None selection="Shop.Api"
                Asset "Shop.Api.Orders" detail=Some("#orders") selection="Shop.Api.Orders"
            Control "Prepared Statements" detail=None selection="Prepared Statements"
            Actor "Customer" detail=Some("#customer") selection="Customer"
            Boundary "Internet | Shop.Web" detail=Some("#edge") selection="edge"
            Relation "@mitigates Shop.Api.Orders against #sqli using Prepared Statements" detail=Some("gal") selection="@mitigates"
            Relation "@feature \"Checkout\"" detail=Some("gal") selection="@feature"
        "##]],
    );
}

#[test]
fn outline_of_threatspec_and_legacy_files() {
    check_outline(
        r#"
        //- /app.php
        <?php
        // @alias component @web:@app to Web Application
        // @component WebApp:Api (#api)
        // @connects @web:@app with @db:@main
        /* @exposes WebApp:Api to XSS with templates */
        "#,
        "app.php",
        expect![[r##"
            Asset "Web Application" detail=Some("@web:@app") selection="Web Application"
            Asset "WebApp:Api" detail=Some("#api") selection="WebApp:Api"
            Relation "@connects @web:@app with @db:@main" detail=Some("threatspec-0.1") selection="@connects"
            Relation "@exposes WebApp:Api to XSS" detail=Some("threatspec") selection="@exposes"
        "##]],
    );
}

fn search(index: &ProjectIndex, query: &str) -> Vec<String> {
    workspace_symbols(index, query).into_iter().map(|(f, s)| format!("{f} {:?} {}", s.kind, s.name)).collect()
}

#[test]
fn workspace_symbols_rank_exact_prefix_substring_subsequence() {
    let f = support::parse_fixture(
        r#"
        //- /a.gal
        @threat Session Fixation (#fixation)
        @threat SQL Injection (#sqli)
        @control Input Sanitising
        @threat Fixation
        //- /b.gal
        @asset Shop.Sessions
        @threat Insecure Session (#sess)
        "#,
    );
    let index = support::index_of(&f.files);
    assert_eq!(
        search(&index, "fixation"),
        ["a.gal Threat Fixation", "a.gal Threat Session Fixation"],
        "exact name, then the exact id `#fixation`"
    );
    assert_eq!(
        search(&index, "sess"),
        ["b.gal Threat Insecure Session", "a.gal Threat Session Fixation", "b.gal Asset Shop.Sessions"],
        "exact id, prefix, substring"
    );
    assert_eq!(search(&index, "sqlinj"), ["a.gal Threat SQL Injection"], "subsequence");
    assert_eq!(search(&index, "sql_inj"), ["a.gal Threat SQL Injection"], "space and `_` alike");
    assert_eq!(search(&index, "zzz"), Vec::<String>::new());
    assert_eq!(search(&index, "").len(), 6);
}

#[test]
fn workspace_symbols_are_capped() {
    let text: String = (0..300).map(|i| format!("@threat Threat number {i}\n")).collect();
    let index = support::index_of(&[("many.gal".to_string(), text)]);
    let hits = workspace_symbols(&index, "threat");
    assert_eq!(hits.len(), 200);
    assert!(hits.iter().all(|(_, s)| s.kind == SymbolKind::Threat));
    // Shorter names rank first within a tier.
    assert_eq!(hits[0].1.name, "Threat number 0");
}
