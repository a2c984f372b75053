//! Literal prefilter: decides cheaply whether a file can hold an annotation at all.
//!
//! Owns: the search for `@<verb>` for every verb spelling plus `x-threatspec`, matched
//! ASCII-case-insensitively anywhere (a spelling need only start what follows the `@`); and a
//! scan of the `@word`s for a misspelt verb (the parser's own typo rule,
//! [`verbs::misspelt_verb`]), so that a file whose only annotation is `@migitates ...` is
//! parsed and the typo reported. Must never: report positions or parse (a hit only means
//! "worth parsing"; false positives are fine, false negatives are bugs).
//!
//! Every file the walk reads goes through here, so the cost per byte counts: one `memchr` pass
//! over the `@`s answers for the verbs and the typos (most code has few `@`s), and
//! `x-threatspec` is searched by its `-` (a second `memchr` pass), each `x-` then compared
//! whole.

use super::verbs::{self, SPELLINGS};
use std::sync::OnceLock;

/// The key of ThreatSpec annotations embedded in YAML and JSON ([`super::embedded`]).
const X_THREATSPEC: &[u8] = b"x-threatspec";

/// The verb spellings that no shorter spelling starts (`test` for `tests`, `shield` for
/// `shield:begin`), by first letter: a `@` followed by any spelling is followed by one of these.
fn verb_prefixes() -> &'static [Vec<&'static [u8]>; 26] {
    static TABLE: OnceLock<[Vec<&'static [u8]>; 26]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: [Vec<&'static [u8]>; 26] = Default::default();
        for (spelling, _, _) in SPELLINGS {
            let spelling = spelling.as_bytes();
            let starts_another = |(shorter, _, _): &&(&str, _, _)| {
                shorter.len() < spelling.len() && spelling.starts_with(shorter.as_bytes())
            };
            if !SPELLINGS.iter().any(|s| starts_another(&s)) {
                // Spellings are lowercase ASCII (a test holds them to it).
                table[usize::from(spelling[0] - b'a')].push(spelling);
            }
        }
        table
    })
}

/// Whether `rest` starts with a verb spelling, ASCII case ignored.
fn starts_with_verb(rest: &[u8]) -> bool {
    let Some(first) = rest.first().map(u8::to_ascii_lowercase).filter(u8::is_ascii_lowercase) else {
        return false;
    };
    verb_prefixes()[usize::from(first - b'a')]
        .iter()
        .any(|spelling| rest.get(..spelling.len()).is_some_and(|r| r.eq_ignore_ascii_case(spelling)))
}

/// Whether `bytes` holds `x-threatspec` in any case: by its `-`, the one byte of the key that
/// has no case (one `memchr` pass; in source code a `-` comes every ~200 bytes, and the byte
/// before it rules out nearly all of them), each `x-` then compared whole.
fn has_x_threatspec(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'-', bytes).any(|dash| {
        dash > 0
            && bytes[dash - 1] | 0x20 == b'x'
            && bytes
                .get(dash - 1..dash - 1 + X_THREATSPEC.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(X_THREATSPEC))
    })
}

/// True when `bytes` contains an annotation verb literal, an `x-threatspec` key, or a `@word`
/// that is a misspelt verb.
pub fn may_contain_annotation(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'@', bytes)
        .any(|at| starts_with_verb(&bytes[at + 1..]) || misspelt_verb_at(bytes, at))
        || has_x_threatspec(bytes)
}

/// Whether the `@` at `at` starts a word (not `user@host`) that is a typo of a verb.
fn misspelt_verb_at(bytes: &[u8], at: usize) -> bool {
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

    #[test]
    fn finds_x_threatspec_in_any_case_anywhere() {
        assert!(may_contain_annotation(b"X-ThreatSpec: 1"));
        assert!(may_contain_annotation(b"{\"a\": {\"x-THREATSPEC\": []}}"));
        assert!(!may_contain_annotation(b"x-threatspe: 1 x-th x-threat"));
        // Many `x-` that are not the key; the hit at the very end is compared whole.
        let mut long = "x-thread = 0x7f; ".repeat(200).into_bytes();
        assert!(!may_contain_annotation(&long));
        long.extend_from_slice(b"x-threatSpec");
        assert!(may_contain_annotation(&long));
        assert!(!may_contain_annotation(&long[..long.len() - 1]));
        // The `-` is what is searched: at either end of the text, or with no `x` before it.
        assert!(may_contain_annotation(b"-x-THREATSPEC"));
        assert!(!may_contain_annotation(b"- threatspec -x- y-threatspec x-"));
        assert!(!may_contain_annotation(b"-"));
        assert!(may_contain_annotation(b"a--x-x-threatspec-"));
    }

    #[test]
    fn spellings_are_lowercase_ascii_with_a_letter_first() {
        for (spelling, _, _) in SPELLINGS {
            assert!(spelling.as_bytes()[0].is_ascii_lowercase(), "{spelling}");
            assert!(!spelling.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()), "{spelling}");
        }
    }

    /// The search as it was: one Aho-Corasick automaton over every spelling (those with a
    /// `:` left out: a shorter one starts them) and `x-threatspec`, plus the typo scan.
    fn automaton_oracle(bytes: &[u8]) -> bool {
        let mut patterns: Vec<String> =
            SPELLINGS.iter().filter(|(s, _, _)| !s.contains(':')).map(|(s, _, _)| format!("@{s}")).collect();
        patterns.push("x-threatspec".to_string());
        let automaton =
            aho_corasick::AhoCorasick::builder().ascii_case_insensitive(true).build(patterns).unwrap();
        automaton.is_match(bytes) || memchr::memchr_iter(b'@', bytes).any(|at| misspelt_verb_at(bytes, at))
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        /// Texts made of pieces of verbs, `x-threatspec` and the bytes around them, in any
        /// case: the one-pass search agrees with the automaton.
        #[test]
        fn agrees_with_the_automaton(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(SPELLINGS.iter().map(|(s, _, _)| s.to_string()).collect::<Vec<_>>())
                        .prop_flat_map(|s| {
                            let len = s.len();
                            (proptest::strategy::Just(s), 1..=len)
                        })
                        .prop_map(|(s, cut)| s[..cut].to_string()),
                    proptest::sample::select(vec!["@", "x-", "threatspec", "x-threatspec", "-", "x", "x-th", "-threatspec", " ", "\n", "a", "_", "é", "#", "->", "\0"])
                        .prop_map(str::to_string),
                    "[a-zA-Z@_ -]{0,4}",
                ],
                0..24,
            ),
            upper in proptest::collection::vec(proptest::bool::ANY, 0..64),
        ) {
            let mut bytes = pieces.concat().into_bytes();
            for (byte, upper) in bytes.iter_mut().zip(upper) {
                if upper {
                    byte.make_ascii_uppercase();
                }
            }
            proptest::prop_assert_eq!(may_contain_annotation(&bytes), automaton_oracle(&bytes));
        }
    }
}
