//! Semantic tokens and inlay hints.

use crate::support;

use threat_analyzer::analysis::Analysis;
use threat_analyzer::analysis::ide::inlay_hints::inlay_hints;
use threat_analyzer::analysis::ide::semantic_tokens::{DEFINITION, TokenKind, UNRESOLVED, semantic_tokens};

/// Tokens of the fixture's first file as `text kind [d][u]`.
fn tokens(fixture: &str, file: &str) -> Vec<String> {
    let f = support::parse_fixture(fixture);
    let index = support::index_of(&f.files);
    let text = index.file(file).unwrap().text().to_string();
    let tokens = semantic_tokens(&index, file);
    for pair in tokens.windows(2) {
        assert!(pair[0].range.end <= pair[1].range.start, "sorted, non-overlapping: {pair:?}");
    }
    tokens
        .iter()
        .map(|t| {
            let s = t.range.slice(&text);
            assert!(!s.contains('\n') && !s.is_empty(), "one line each: {s:?}");
            let mut m = String::new();
            if t.modifiers & DEFINITION != 0 {
                m.push_str(" def");
            }
            if t.modifiers & UNRESOLVED != 0 {
                m.push_str(" unresolved");
            }
            format!("{s} {:?}{m}", t.kind)
        })
        .collect()
}

#[test]
fn gal_annotations() {
    let fixture = r#"
//- /a.py
# @threat SQL Injection (#sqli) [high] cwe:CWE-89 -- "bad"
# @mitigates Shop.Orders against #sqli using #nope
x = 1  # @flows Shop.Api -> Shop.Db via TLS to
"#;
    assert_eq!(
        tokens(fixture, "a.py"),
        [
            "@threat Verb",
            "SQL Injection Threat def",
            "#sqli Id def",
            "[high] Severity",
            "cwe:CWE-89 ExternalRef",
            "\"bad\" Description",
            "@mitigates Verb",
            "Shop.Orders Asset",
            "against Keyword",
            "#sqli Threat",
            "using Keyword",
            "#nope Control unresolved",
            "@flows Verb",
            "Shop.Api Asset",
            "-> Keyword",
            "Shop.Db Asset",
            "via Keyword",
        ]
    );
}

#[test]
fn legacy_and_multi_line_descriptions() {
    let fixture = r#"
//- /a.py
# @alias threat @sqli to SQL Injection
# @exposes @web:@app to @sqli with raw queries
# @accepts #x on Shop -- "first line"
#   -- "second line"
"#;
    let got = tokens(fixture, "a.py");
    assert_eq!(
        got[..10],
        [
            "@alias Verb",
            "threat Keyword",
            "@sqli Threat def",
            "to Keyword",
            "SQL Injection Description def",
            "@exposes Verb",
            "@web Asset",
            "@app Asset",
            "to Keyword",
            "@sqli Threat",
        ]
    );
    assert_eq!(got[10..12], ["with Keyword", "raw queries Description"]);
    // The description continues on the next comment line: one token per line, markers skipped.
    let desc: Vec<_> = got.iter().filter(|t| t.ends_with("Description") && t.contains("line")).collect();
    assert_eq!(desc.len(), 2, "{got:#?}");
    assert!(desc[1].starts_with('"'), "{desc:?}");
    assert!(got.contains(&"#x Threat unresolved".to_string()));
}

#[test]
fn token_kinds_cover_the_argument_kinds() {
    let fixture = "//- /a.gal\n@validates #c for App\n@control C (#c)\n";
    let f = support::parse_fixture(fixture);
    let index = support::index_of(&f.files);
    let kinds: Vec<TokenKind> = semantic_tokens(&index, "a.gal").iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        [
            TokenKind::Verb,
            TokenKind::Control,
            TokenKind::Keyword,
            TokenKind::Asset,
            TokenKind::Verb,
            TokenKind::Control,
            TokenKind::Id
        ]
    );
}

fn hints(fixture: &str, file: &str) -> Vec<(String, String)> {
    let f = support::parse_fixture(fixture);
    let index = support::index_of(&f.files);
    let analysis = Analysis::new(&index);
    let text = index.file(file).unwrap().text().to_string();
    inlay_hints(&index, &analysis, file)
        .into_iter()
        .map(|h| {
            let line_start = text[..h.offset].rfind('\n').map_or(0, |p| p + 1);
            (text[line_start..h.offset].to_string(), h.label)
        })
        .collect()
}

#[test]
fn inlay_hints_after_exposures() {
    let fixture = r#"
//- /defs.gal
@threat SQL Injection (#sqli)
@threat XSS (#xss)
@threat IDOR (#idor)
@threat DoS (#dos)
@control Prepared Statements (#prepared)
//- /fixes.py
# @mitigates Shop against #sqli using #prepared
# @mitigates Shop.Api against SQL Injection using Escaping
# @accepts #xss on Shop.Web -- "internal only"
# @transfers #dos from Shop.Api to CDN
# @mitigates Shop.Api against #idor
//- /app.py
# @exposes Shop.Api.Orders to #sqli
# @exposes Shop.Web to #xss -- "why"
# @exposes Shop.Api to #dos
# @exposes Shop.Api to #idor
# @exposes Shop.Web to #idor
# @exposes Shop.Web to #nope
"#;
    // Controls on the asset itself come before those on its ancestors.
    assert_eq!(
        hints(fixture, "app.py"),
        [
            (
                "# @exposes Shop.Api.Orders to #sqli".to_string(),
                "mitigated by Escaping, #prepared".to_string()
            ),
            ("# @exposes Shop.Web to #xss -- \"why\"".to_string(), "accepted".to_string()),
            ("# @exposes Shop.Api to #dos".to_string(), "transferred".to_string()),
            ("# @exposes Shop.Api to #idor".to_string(), "mitigated".to_string()),
            ("# @exposes Shop.Web to #idor".to_string(), "unmitigated".to_string()),
        ]
    );
    // Hints agree with the diagnostic: exactly the `unmitigated` one is reported.
    let f = support::parse_fixture(fixture);
    let index = support::index_of(&f.files);
    let unmitigated = threat_analyzer::analysis::diagnostics(&index)
        .iter()
        .filter(|d| d.code == threat_analyzer::diagnostic::Code::UnmitigatedExposure)
        .count();
    assert_eq!(unmitigated, 1);
}
