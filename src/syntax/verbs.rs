//! The verb table: every spelling of every verb in the three dialects.
//!
//! Owns: spelling -> canonical [`Verb`] (case-insensitive), the dialect a spelling implies,
//! the literals the prefilter searches for, and the typo rule (which `@word`s are misspelt
//! verbs, [`misspelt_verb`]) that both the parser and the prefilter apply. Must never: parse
//! arguments.

use super::ast::{Dialect, Verb};
use super::edit_distance::osa_distance_within;

/// `(spelling, verb, dialect the spelling implies)`. Spellings are lowercase, without `@`.
pub const SPELLINGS: &[(&str, Verb, Option<Dialect>)] = &[
    ("asset", Verb::Asset, Some(Dialect::Gal)),
    ("component", Verb::Asset, Some(Dialect::ThreatSpec)),
    ("threat", Verb::Threat, None),
    ("control", Verb::Control, None),
    ("actor", Verb::Actor, Some(Dialect::Gal)),
    ("mitigates", Verb::Mitigates, None),
    ("mitigate", Verb::Mitigates, Some(Dialect::ThreatSpec)),
    ("exposes", Verb::Exposes, None),
    ("expose", Verb::Exposes, Some(Dialect::ThreatSpec)),
    ("confirmed", Verb::Confirmed, Some(Dialect::Gal)),
    ("accepts", Verb::Accepts, None),
    ("accept", Verb::Accepts, Some(Dialect::ThreatSpec)),
    ("transfers", Verb::Transfers, None),
    ("transfer", Verb::Transfers, Some(Dialect::ThreatSpec)),
    ("flows", Verb::Flows, Some(Dialect::Gal)),
    ("connects", Verb::Flows, Some(Dialect::ThreatSpec)),
    ("connect", Verb::Flows, Some(Dialect::ThreatSpec)),
    ("boundary", Verb::Boundary, Some(Dialect::Gal)),
    ("entitles", Verb::Entitles, Some(Dialect::Gal)),
    ("feature", Verb::Feature, Some(Dialect::Gal)),
    ("validates", Verb::Validates, Some(Dialect::Gal)),
    ("tests", Verb::Validates, Some(Dialect::ThreatSpec)),
    ("test", Verb::Validates, Some(Dialect::ThreatSpec)),
    ("audit", Verb::Audit, Some(Dialect::Gal)),
    ("review", Verb::Audit, Some(Dialect::ThreatSpec)),
    ("owns", Verb::Owns, Some(Dialect::Gal)),
    ("handles", Verb::Handles, Some(Dialect::Gal)),
    ("assumes", Verb::Assumes, Some(Dialect::Gal)),
    ("comment", Verb::Comment, Some(Dialect::Gal)),
    ("source", Verb::Source, Some(Dialect::Gal)),
    ("shield:begin", Verb::ShieldBegin, Some(Dialect::Gal)),
    ("shield:end", Verb::ShieldEnd, Some(Dialect::Gal)),
    ("shield", Verb::Shield, Some(Dialect::Gal)),
    ("alias", Verb::Alias, Some(Dialect::LegacyThreatSpec)),
    ("describe", Verb::Describe, Some(Dialect::LegacyThreatSpec)),
];

/// Looks a verb spelling up, ignoring ASCII case. `word` excludes the `@`.
pub fn lookup(word: &str) -> Option<(Verb, Option<Dialect>)> {
    // Every candidate line asks: the word is lower-cased once into a key and compared with
    // the keys of the spellings that start with its letter (comparing it with every spelling,
    // case-insensitively, cost ~200 instructions a line).
    let key = spelling_key(word.as_bytes())?;
    let bucket = by_first_letter().get(usize::from((key as u8).wrapping_sub(b'a')))?;
    bucket.iter().find(|(k, _)| *k == key).map(|&(_, i)| (SPELLINGS[i].1, SPELLINGS[i].2))
}

/// A word of at most 15 bytes as one number: its bytes lower-cased (ASCII), zero-padded, and
/// its length in the last byte. Two words have the same key exactly when they are equal
/// ignoring ASCII case.
fn spelling_key(word: &[u8]) -> Option<u128> {
    let mut buf = [0u8; 16];
    buf.get_mut(..word.len()).filter(|_| word.len() < 16)?.copy_from_slice(word);
    buf.make_ascii_lowercase();
    buf[15] = word.len() as u8;
    Some(u128::from_le_bytes(buf))
}

/// For each letter `a`..=`z`, the keys ([`spelling_key`]) and indices in [`SPELLINGS`] of the
/// spellings starting with it.
fn by_first_letter() -> &'static [Vec<(u128, usize)>] {
    static INDEX: std::sync::OnceLock<Vec<Vec<(u128, usize)>>> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        (b'a'..=b'z')
            .map(|letter| {
                (SPELLINGS.iter().enumerate())
                    .filter(|(_, (s, _, _))| s.as_bytes()[0] == letter)
                    .map(|(i, (s, _, _))| (spelling_key(s.as_bytes()).expect("spellings are short"), i))
                    .collect()
            })
            .collect()
    })
}

/// The canonical spelling used in messages and completions (GAL's).
pub fn canonical_spelling(verb: Verb) -> &'static str {
    SPELLINGS.iter().find(|(_, v, _)| *v == verb).map(|(s, _, _)| *s).unwrap_or("?")
}

/// Javadoc, JSDoc, Doxygen, PHPDoc and decorator words that are never threat annotations,
/// even when they are one edit away from a verb (`@access` ~ `@accepts`).
const FOREIGN_TAGS: &[&str] = &[
    "access",
    "author",
    "brief",
    "class",
    "code",
    "const",
    "constant",
    "constructor",
    "default",
    "deprecated",
    "event",
    "example",
    "exception",
    "exports",
    "extends",
    "file",
    "fires",
    "function",
    "global",
    "ignore",
    "implements",
    "inheritdoc",
    "inner",
    "instance",
    "interface",
    "internal",
    "link",
    "member",
    "memberof",
    "method",
    "mixes",
    "module",
    "name",
    "namespace",
    "override",
    "package",
    "param",
    "private",
    "property",
    "protected",
    "public",
    "readonly",
    "requires",
    "return",
    "returns",
    "see",
    "since",
    "static",
    "summary",
    "this",
    "throw",
    "throws",
    "todo",
    "type",
    "typedef",
    "var",
    "version",
    "covers",
    "group",
    "depends",
    "dataprovider",
    "before",
    "after",
    "note",
    "warning",
    "attention",
    "details",
    "retval",
    "tparam",
    "pre",
    "post",
    "test",
    "tests",
    "testcase",
    "tested",
    "testing",
    "control",
    "controls",
    "threat",
    "threats",
    "assert",
    "asset",
    "assets",
    "actors",
    "features",
    "owner",
    "owned",
    "handle",
    "handler",
];

/// Words longer than this are never typos of a verb (the longest spelling is 12 bytes).
const MAX_TYPO_LEN: usize = 16;
const _: () = assert!(MAX_TYPO_LEN == 16, "a word and its padding are one u128 (`misspelt_verb`)");

/// The verb a `@word` that is not a known spelling was probably meant to be: one edit away
/// (an adjacent transposition is one edit), two for words of 8 letters or more (GuardLink's
/// measured rule: `@migitates` is a typo, `@command` is click's decorator, not `@comment`).
/// `rest_of_line` is the text after
/// the word on its line. The one typo rule, shared by the parser (which reports it as
/// `unknown-verb`) and the prefilter (which must let such files through). Allocation-free:
/// the prefilter runs it on every `@word` of files that hold no verb.
///
/// Never a suggestion: documentation tags (`FOREIGN_TAGS`), and Flow's `@flow` pragma unless
/// the line carries a `->` or a `#ref`, which only a flow annotation has.
pub fn misspelt_verb(word: &[u8], rest_of_line: &[u8]) -> Option<&'static str> {
    if word.len() < 3 || word.len() > MAX_TYPO_LEN {
        return None;
    }
    let mut buf = [0u8; MAX_TYPO_LEN];
    let lower = &mut buf[..word.len()];
    lower.copy_from_slice(word);
    lower.make_ascii_lowercase();
    let lower = &*lower;
    if lower == b"flow" && !carries_flow_structure(rest_of_line) {
        return None;
    }
    // From here the answer depends on the lowercase word alone, and most files repeat a few
    // decorators (`@property`, `@classmethod`: 30,753 `@word`s, 1,271 distinct, in the
    // sparse benchmark): each thread remembers the words it judged.
    thread_local! {
        static JUDGED: std::cell::RefCell<rustc_hash::FxHashMap<(u128, usize), Option<&'static str>>> =
            std::cell::RefCell::default();
    }
    let key = (u128::from_le_bytes(buf), word.len());
    if let Some(known) = JUDGED.with_borrow(|judged| judged.get(&key).copied()) {
        return known;
    }
    let nearest = nearest_verb(&buf[..word.len()]);
    JUDGED.with_borrow_mut(|judged| {
        // Bounded: a file of random `@word`s cannot grow it without end.
        if judged.len() < MAX_JUDGED {
            judged.insert(key, nearest);
        }
    });
    nearest
}

/// The most words [`misspelt_verb`] remembers per thread.
const MAX_JUDGED: usize = 4096;

/// [`misspelt_verb`] of a lowercase word of 3 to [`MAX_TYPO_LEN`] bytes, past the `@flow` rule.
fn nearest_verb(lower: &[u8]) -> Option<&'static str> {
    let max = if lower.len() >= 8 { 2 } else { 1 };
    let word_letters = letter_set(lower);
    let table = typo_table();
    let mut near = table.near_in_length[lower.len()];
    let nearest = std::iter::from_fn(|| {
        // The spellings within `max` in length, in table order (ties go to the first).
        let i = near.trailing_zeros() as usize;
        near &= near.wrapping_sub(1);
        (i < 64).then_some(i)
    })
    .filter(|&i| {
        // Cheap necessary conditions first: each letter missing from the other word costs
        // an edit, and one edit cannot change both ends of a word.
        let s = SPELLINGS[i].0.as_bytes();
        letters_missing(lower, table.letters[i]) <= max
            && letters_missing(s, word_letters) <= max
            && (max > 1 || s[0] == lower[0] || s[s.len() - 1] == lower[lower.len() - 1])
    })
    .filter_map(|i| osa_distance_within(lower, SPELLINGS[i].0.as_bytes(), max).map(|d| (SPELLINGS[i].0, d)))
    .min_by_key(|&(_, d)| d)
    .map(|(s, _)| s)?;
    (!FOREIGN_TAGS.iter().any(|tag| tag.as_bytes() == lower)).then_some(nearest)
}

/// What [`misspelt_verb`] knows of the spellings before it sees a word (it runs on every
/// `@word` of every file the prefilter reads: `@property`, `@staticmethod`, e-mail addresses).
struct TypoTable {
    /// Per word length: the spellings (bit `i` = `SPELLINGS[i]`) whose length is within the
    /// edits allowed for that length.
    near_in_length: [u64; MAX_TYPO_LEN + 1],
    /// Per spelling: its [`letter_set`].
    letters: Vec<u64>,
}

fn typo_table() -> &'static TypoTable {
    static TABLE: std::sync::OnceLock<TypoTable> = std::sync::OnceLock::new();
    const _: () = assert!(SPELLINGS.len() <= 64, "one bit per spelling");
    TABLE.get_or_init(|| {
        let mut near_in_length = [0u64; MAX_TYPO_LEN + 1];
        for (len, near) in near_in_length.iter_mut().enumerate() {
            let max = if len >= 8 { 2 } else { 1 };
            for (i, (s, _, _)) in SPELLINGS.iter().enumerate() {
                if s.len().abs_diff(len) <= max {
                    *near |= 1 << i;
                }
            }
        }
        let letters = SPELLINGS.iter().map(|(s, _, _)| letter_set(s.as_bytes())).collect();
        TypoTable { near_in_length, letters }
    })
}

/// The bytes of a word as a set (a 64-bit filter: distinct bytes may share a bit, which only
/// makes [`letters_missing`] undercount, never overcount).
fn letter_set(word: &[u8]) -> u64 {
    word.iter().fold(0, |set, b| set | 1 << (b & 63))
}

/// How many bytes of `word` are not in `set`: each needs an edit.
fn letters_missing(word: &[u8], set: u64) -> usize {
    word.iter().filter(|b| set & (1 << (**b & 63)) == 0).count()
}

/// `->` or a `#ref`: structure that `@flow A -> B` (a typo) has and Flow's pragma does not.
fn carries_flow_structure(rest: &[u8]) -> bool {
    memchr::memmem::find(rest, b"->").is_some()
        || rest.windows(2).any(|w| w[0] == b'#' && (w[1].is_ascii_alphanumeric() || w[1] == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words a thread remembers never change an answer: `@flow` is judged by its line
    /// every time, case and length are part of the word, and a full memory still judges.
    #[test]
    fn remembered_words_keep_their_answers() {
        for _ in 0..2 {
            assert_eq!(misspelt_verb(b"flow", b" Web -> Api"), Some("flows"));
            assert_eq!(misspelt_verb(b"flow", b""), None);
            assert_eq!(misspelt_verb(b"Migitates", b""), Some("mitigates"));
            assert_eq!(misspelt_verb(b"migitates", b""), Some("mitigates"));
            assert_eq!(misspelt_verb(b"property", b""), None);
            assert_eq!(misspelt_verb(b"thret", b""), Some("threat"));
            assert_eq!(misspelt_verb(b"thret\0", b""), None);
        }
        for i in 0..2 * MAX_JUDGED {
            assert_eq!(misspelt_verb(format!("zq{i:05}").as_bytes(), b""), None);
        }
        assert_eq!(misspelt_verb(b"exposse", b""), Some("exposes"));
    }

    #[test]
    fn lookup_is_case_insensitive_and_knows_singulars() {
        assert_eq!(lookup("MITIGATES").unwrap().0, Verb::Mitigates);
        assert_eq!(lookup("connect").unwrap().0, Verb::Flows);
        assert_eq!(lookup("Shield:Begin").unwrap().0, Verb::ShieldBegin);
        assert!(lookup("mitgates").is_none());
    }

    /// The first-letter index finds exactly what comparing every spelling finds.
    #[test]
    fn lookup_agrees_with_the_whole_table() {
        let whole = |word: &str| {
            SPELLINGS.iter().find(|(s, _, _)| s.eq_ignore_ascii_case(word)).map(|&(_, v, d)| (v, d))
        };
        let mut words: Vec<String> = SPELLINGS.iter().map(|(s, _, _)| s.to_string()).collect();
        words.extend(SPELLINGS.iter().map(|(s, _, _)| s.to_ascii_uppercase()));
        words.extend(
            [
                "",
                "@",
                "{",
                "`",
                "zz",
                "Ätest",
                "tes",
                "shield:",
                "x",
                "1",
                "_a",
                "mitigates\0",
                "componentcomponent",
            ]
            .map(String::from),
        );
        for word in &words {
            assert_eq!(lookup(word), whole(word), "{word:?}");
        }
    }

    /// Every word one edit from a spelling, and, for the longer ones, a second edit on top.
    fn near_misses() -> Vec<Vec<u8>> {
        fn one_edit(word: &[u8], alphabet: &[u8], out: &mut Vec<Vec<u8>>) {
            for i in 0..=word.len() {
                for &c in alphabet {
                    let mut v = word.to_vec();
                    v.insert(i, c);
                    out.push(v);
                    if i < word.len() {
                        let mut v = word.to_vec();
                        v[i] = c;
                        out.push(v);
                    }
                }
                if i < word.len() {
                    let mut v = word.to_vec();
                    v.remove(i);
                    out.push(v);
                }
                if i + 1 < word.len() {
                    let mut v = word.to_vec();
                    v.swap(i, i + 1);
                    out.push(v);
                }
            }
        }
        let mut words = Vec::new();
        for (s, _, _) in SPELLINGS {
            one_edit(s.as_bytes(), b"abcdefghijklmnopqrstuvwxyz", &mut words);
            if s.len() >= 7 {
                let mut first = Vec::new();
                one_edit(s.as_bytes(), b"ex", &mut first);
                for w in &first {
                    one_edit(w, b"ax", &mut words);
                }
            }
        }
        words
    }

    #[test]
    fn cheap_filters_never_change_the_suggestion() {
        // The letter-set and word-end filters only skip spellings that cannot be near enough.
        let unfiltered = |w: &[u8]| {
            let max = if w.len() >= 8 { 2 } else { 1 };
            SPELLINGS
                .iter()
                .filter_map(|&(s, _, _)| osa_distance_within(w, s.as_bytes(), max).map(|d| (s, d)))
                .min_by_key(|&(_, d)| d)
                .map(|(s, _)| s)
                .filter(|_| !FOREIGN_TAGS.iter().any(|t| t.as_bytes() == w))
        };
        let words = near_misses();
        assert!(words.len() > 20_000, "{}", words.len());
        for w in words.iter().filter(|w| w.len() >= 3 && w.as_slice() != b"flow") {
            assert_eq!(misspelt_verb(w, b""), unfiltered(w), "{}", String::from_utf8_lossy(w));
        }
    }

    #[test]
    fn suggestions_catch_typos_only() {
        let suggest = |w: &str| misspelt_verb(w.as_bytes(), b"");
        assert_eq!(suggest("mitgates"), Some("mitigates"));
        assert_eq!(suggest("expoeses"), Some("exposes"));
        assert_eq!(suggest("migitates"), Some("mitigates"));
        assert_eq!(suggest("flwos"), Some("flows"));
        assert_eq!(suggest("command"), None, "two edits from `comment`, but only 7 letters");
        assert_eq!(suggest("threads"), None);
        assert_eq!(suggest("param"), None);
        assert_eq!(suggest("returns"), None);
    }
}
