//! Literal prefilter: decides cheaply whether a file can hold an annotation at all.
//!
//! Owns: one Aho-Corasick automaton over `@<verb>` for every verb spelling plus `x-threatspec`,
//! matched ASCII-case-insensitively; and, for files without any of those, a scan of their
//! `@word`s for a misspelt verb (the parser's own typo rule, [`verbs::misspelt_verb`]), so that
//! a file whose only annotation is `@migitates ...` is parsed and the typo reported. Must
//! never: report positions or parse (a hit only means "worth parsing"; false positives are
//! fine, false negatives are bugs).

use super::verbs::{self, SPELLINGS};
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

/// True when `bytes` contains an annotation verb literal, an `x-threatspec` key, or a `@word`
/// that is a misspelt verb.
pub fn may_contain_annotation(bytes: &[u8]) -> bool {
    automaton().is_match(bytes) || has_misspelt_verb(bytes)
}

/// A `@word` that starts a word (not `user@host`) and is a typo of a verb.
fn has_misspelt_verb(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'@', bytes).any(|at| {
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            return false;
        }
        let rest = &bytes[at + 1..];
        let len = rest.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
        if len < 3 {
            return false;
        }
        let line_end = memchr::memchr(b'\n', &rest[len..]).map_or(rest.len(), |n| len + n);
        verbs::misspelt_verb(&rest[..len], &rest[len..line_end]).is_some()
    })
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

    #[test]
    fn lets_misspelt_verbs_through_and_nothing_else() {
        // No correctly spelt verb: only the typo rule can let these files through.
        assert!(may_contain_annotation(b"# @migitates Shop against #sqli\n"));
        assert!(may_contain_annotation(b"/* @flwos, */"));
        assert!(may_contain_annotation(b"// @flow Web -> Api\n"));
        assert!(may_contain_annotation(b"// @FLOW #web to #api\n"));
        // Flow's pragma, documentation tags and decorators are not typos.
        assert!(!may_contain_annotation(b"// @flow\n// a -> b\nconst x = 1;\n"));
        assert!(!may_contain_annotation(b"// @flow strict\n"));
        assert!(!may_contain_annotation(b"/** @param x\n * @access private */\n@property\ndef f(): pass"));
        assert!(!may_contain_annotation(b"mail admin@migitates.example"));
    }
}
