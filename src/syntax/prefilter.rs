//! Literal prefilter: decides cheaply whether a file can hold an annotation at all.
//!
//! Owns: one Aho-Corasick automaton over `@<verb>` for every verb spelling plus `x-threatspec`,
//! matched ASCII-case-insensitively. Must never: report positions or parse (a hit only means
//! "worth parsing"; false positives are fine, false negatives are bugs).

use super::verbs::SPELLINGS;
use aho_corasick::AhoCorasick;
use std::sync::OnceLock;

fn automaton() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        let mut patterns: Vec<String> =
            SPELLINGS.iter().filter(|(s, _, _)| !s.contains(':')).map(|(s, _, _)| format!("@{s}")).collect();
        patterns.push("x-threatspec".to_string());
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(patterns)
            .expect("static patterns build")
    })
}

/// True when `bytes` contains an annotation verb literal or an `x-threatspec` key.
pub fn may_contain_annotation(bytes: &[u8]) -> bool {
    automaton().is_match(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_verbs_in_any_case_and_nothing_else() {
        assert!(may_contain_annotation(b"x = 1 # @Mitigates App against #x"));
        assert!(may_contain_annotation(b"paths:\n  x-threatspec: '@threat X'"));
        assert!(may_contain_annotation(b"// @shield:begin"));
        assert!(!may_contain_annotation(b"@decorator\ndef f(): pass\n"));
        assert!(!may_contain_annotation(b"user@example.com"));
    }
}
