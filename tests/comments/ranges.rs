//! Every candidate range lies inside the text, on `char` boundaries, trimmed and non-empty,
//! whatever the input: CRLF and lone CR line ends, a byte-order mark, non-ASCII text, broken
//! syntax. Never a panic.

use proptest::prelude::*;
use threat_analyzer::syntax::{Language, candidate_lines, comments};

fn assert_ranges_ok(language: Language, text: &str) {
    let lines = candidate_lines(language, text);
    let mut prev_start = 0;
    for line in &lines {
        let (s, e) = (line.range.start(), line.range.end());
        assert!(s < e && e <= text.len(), "{language:?} {s}..{e} in {text:?}");
        assert!(text.is_char_boundary(s) && text.is_char_boundary(e), "{language:?} {s}..{e} in {text:?}");
        let content = &text[s..e];
        assert_eq!(content.trim(), content, "{language:?} untrimmed in {text:?}");
        assert!(!content.contains(['\n', '\r']), "{language:?} spans lines: {content:?}");
        assert!(s >= prev_start, "{language:?} out of order in {text:?}");
        prev_start = s;
    }
    // Comment blocks alone are numbered densely and in file order.
    let mut expected_next = 0;
    for line in comments::candidate_lines(language, text) {
        assert!(line.block <= expected_next, "{language:?} block gap in {text:?}");
        expected_next = expected_next.max(line.block + 1);
    }
}

#[test]
fn crlf_bom_and_non_ascii_in_every_language() {
    let samples = [
        "\u{feff}# @component Externo:Usuário (#usuario)\r\n# -- \"descrição\"\r\nx = 1 # @exposes Externo:Usuário to #ñ\r\n",
        "\u{feff}// @asset Ünïcode.Å (#å)\r\n/* @threat 脆弱性 (#v)\r\n * 🔒 @mitigates Ünïcode.Å against #v */\r\n",
        "-- @asset Über (#u)\r\n--[[ ü\r\n ö ]]\r\n",
        "=begin\r\n@asset Ruby.Ü\r\n=end\r\n",
        "x-threatspec: \"@component Externo:Usuário\"\r\nk:\r\n  x-threatspec:\r\n    - '@review Ωmega'\r\n",
        "{\"x-threatspec\": [\"@component Externo:Usuário\", \"é\"]} // ü\r\n",
        "\r\r\n\n\u{feff}\u{a0}#\u{a0}@audit A\u{a0}\r",
        "",
        "#",
        "/*",
        "//\r",
        "\u{feff}",
    ];
    for &language in Language::all() {
        for text in samples {
            assert_ranges_ok(language, text);
        }
    }
}

#[test]
fn non_ascii_content_is_exact() {
    let text = "\u{feff}# @component Externo:Usuário (#usuario)\r\n";
    let lines = candidate_lines(Language::Python, text);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].range.slice(text), "@component Externo:Usuário (#usuario)");
    let text = "x-threatspec: \"@component Externo:Usuário\"\r\n";
    let lines = candidate_lines(Language::Yaml, text);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].range.slice(text), "@component Externo:Usuário");
}

#[test]
fn deep_nesting_does_not_panic() {
    let deep = "[".repeat(3_000);
    for &language in Language::all() {
        assert_ranges_ok(language, &format!("{deep}// @audit A\n# @audit B\n"));
    }
}

fn fragment() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "#",
        "//",
        "///",
        "/*",
        "*/",
        "/**",
        " * ",
        "--",
        "--[[",
        "]]",
        "--[==[",
        "]==]",
        "<!--",
        "-->",
        "=begin\n",
        "=end\n",
        "\"",
        "'",
        "`",
        "\n",
        "\r\n",
        "\r",
        " ",
        "\t",
        "\u{feff}",
        "@audit A",
        "@exposes A to #b",
        "-- \"d\"",
        "ü",
        "Usuário",
        "🔒",
        "x = 1",
        "{",
        "}",
        "[",
        "]",
        ":",
        "- ",
        "x-threatspec",
        "x-threatspec: ",
        "|\n  ",
        "\\",
        "<?php ",
        "?>",
        "FROM x",
        "RUN ",
        "#!",
        "`",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn ranges_hold_on_random_inputs(parts in prop::collection::vec(fragment(), 0..60)) {
        let text: String = parts.concat();
        for &language in Language::all() {
            assert_ranges_ok(language, &text);
        }
    }
}
