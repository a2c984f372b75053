//! "Did you mean": the known id closest to a dangling one, within a bounded amount of work.
//!
//! Owns: the similarity rule for ids (Jaro-Winkler at least 0.8, or a Damerau-Levenshtein
//! distance of at most 2; the highest Jaro-Winkler score wins, ties go to the id first in
//! sorted order), the cheap pre-tests that skip candidates which cannot pass it, and the work
//! bound. Must never: do I/O, or compare ids longer than [`MAX_SUGGESTION_ID_CHARS`].
//!
//! Both distances are quadratic in the ids' lengths and every dangling id meets every known id,
//! so a repository full of long dangling ids made this take minutes. Now:
//! - ids over [`MAX_SUGGESTION_ID_CHARS`] characters are never compared (on either side);
//! - each pair first meets a pre-test on lengths and character counts that only rejects pairs
//!   the rule would reject (see [`Candidate::may_match`]), so suggestions are unchanged;
//! - each distinct dangling id is looked up once per analysis;
//! - the work of one analysis is capped at [`MAX_SUGGESTION_WORK`] character comparisons (a
//!   pre-test counts 128, a distance the product of the two lengths); the search that would
//!   go past it, and every later one, offer no suggestion and say why.
//!
//! [`MAX_SUGGESTION_ID_CHARS`]: crate::limits::MAX_SUGGESTION_ID_CHARS
//! [`MAX_SUGGESTION_WORK`]: crate::limits::MAX_SUGGESTION_WORK

use crate::limits::{MAX_SUGGESTION_ID_CHARS, MAX_SUGGESTION_WORK};
use crate::model::ProjectIndex;
use crate::syntax::EntityKind;
use rustc_hash::FxHashMap as HashMap;

/// What the search found for one dangling id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Suggestion {
    /// The closest known id.
    Found(String),
    /// No known id is similar enough.
    None,
    /// Not searched: the id is longer than [`MAX_SUGGESTION_ID_CHARS`] characters.
    TooLong,
    /// Not searched (or not to the end): the analysis reached [`MAX_SUGGESTION_WORK`].
    OverBudget,
}

impl Suggestion {
    /// Why no id was looked for, as a clause for the diagnostic (`None` when one was).
    pub fn not_searched_reason(&self) -> Option<String> {
        match self {
            Suggestion::TooLong => Some(format!(
                "no similar id was looked for: ids longer than {MAX_SUGGESTION_ID_CHARS} characters are not compared"
            )),
            Suggestion::OverBudget => Some(format!(
                "no similar id is offered: the project's dangling ids used up the {MAX_SUGGESTION_WORK} character comparisons allowed for suggestions"
            )),
            Suggestion::Found(_) | Suggestion::None => None,
        }
    }
}

/// Character counts bucketed by code point (128 buckets: exact for ASCII). Merging code points
/// into one bucket only raises the shared count, so the pre-tests stay conservative.
type Histogram = [u8; 128];

fn count_chars(id: &str) -> (usize, Histogram) {
    let mut h = [0u8; 128];
    let mut len = 0;
    for c in id.chars() {
        len += 1;
        let slot = &mut h[c as usize % 128];
        *slot = slot.saturating_add(1);
    }
    (len, h)
}

/// A known id with what the pre-test needs.
struct Candidate<'a> {
    id: &'a str,
    chars: usize,
    histogram: Histogram,
}

impl Candidate<'_> {
    /// Whether `self` could pass the rule against an id of `chars` characters with
    /// `histogram`. A necessary condition, never a sufficient one:
    /// - Jaro-Winkler adds its prefix bonus only above a Jaro score of 0.7, so 0.8 needs
    ///   `(m/a + m/b + (m-t)/m) / 3 > 0.7`, hence `m/a + m/b > 1.1` for `m` matched characters,
    ///   and `m` is at most the characters the two ids share;
    /// - a Damerau-Levenshtein distance of at most 2 needs lengths within 2, and at most 2
    ///   characters of the longer id missing from the shorter (no edit fixes more than one).
    fn may_match(&self, chars: usize, histogram: &Histogram) -> bool {
        let shared: usize = self.histogram.iter().zip(histogram).map(|(a, b)| *a.min(b) as usize).sum();
        let (a, b) = (chars, self.chars);
        // Integers: 10·s·(a+b) < 11·a·b means s/a + s/b < 1.1 (a gap far above float error).
        let jaro_possible = 10 * shared * (a + b) >= 11 * a * b;
        let edit_possible = a.abs_diff(b) <= 2 && a.max(b) - shared <= 2;
        jaro_possible || edit_possible
    }
}

/// Finds suggestions for the dangling ids of one analysis, counting the pairs it examines.
pub struct Suggester<'a> {
    index: &'a ProjectIndex,
    candidates: HashMap<EntityKind, Vec<Candidate<'a>>>,
    found: HashMap<(EntityKind, &'a str), Suggestion>,
    /// Work done so far, in [`MAX_SUGGESTION_WORK`]'s units.
    work: usize,
    /// A search stopped at the limit: no more searches.
    exhausted: bool,
}

/// What a pre-test costs in [`MAX_SUGGESTION_WORK`]'s units (one per histogram bucket).
const PRE_TEST_COST: usize = 128;

impl<'a> Suggester<'a> {
    pub fn new(index: &'a ProjectIndex) -> Self {
        Suggester {
            index,
            candidates: HashMap::default(),
            found: HashMap::default(),
            work: 0,
            exhausted: false,
        }
    }

    /// Work done so far (see [`MAX_SUGGESTION_WORK`]): never more than the limit.
    pub fn work(&self) -> usize {
        self.work
    }

    /// The suggestion for a dangling reference of `kind` to `id`.
    pub fn suggest(&mut self, kind: EntityKind, id: &'a str) -> Suggestion {
        if let Some(known) = self.found.get(&(kind, id)) {
            return known.clone();
        }
        let result = self.search(kind, id);
        self.found.insert((kind, id), result.clone());
        result
    }

    fn search(&mut self, kind: EntityKind, id: &str) -> Suggestion {
        if id.chars().count() > MAX_SUGGESTION_ID_CHARS {
            return Suggestion::TooLong;
        }
        if self.exhausted {
            return Suggestion::OverBudget;
        }
        let index = self.index;
        let candidates = self.candidates.entry(kind).or_insert_with(|| {
            index
                .known_ids(kind)
                .into_iter()
                .map(Candidate::new)
                .filter(|c| c.chars <= MAX_SUGGESTION_ID_CHARS)
                .collect()
        });
        match closest(id, candidates, &mut self.work, MAX_SUGGESTION_WORK) {
            Some(Some(best)) => Suggestion::Found(best.to_string()),
            Some(None) => Suggestion::None,
            None => {
                self.exhausted = true;
                Suggestion::OverBudget
            }
        }
    }
}

impl<'a> Candidate<'a> {
    fn new(id: &'a str) -> Self {
        let (chars, histogram) = count_chars(id);
        Candidate { id, chars, histogram }
    }
}

/// The candidate most similar to `id` by the module's rule (`candidates` sorted by id), adding
/// the work done to `work`; `None` when the work would pass `limit` first. Each pre-test and
/// distance is paid for before it runs; a search cut short offers nothing, since what it found
/// so far may not be the best.
fn closest<'a>(
    id: &str,
    candidates: &[Candidate<'a>],
    work: &mut usize,
    limit: usize,
) -> Option<Option<&'a str>> {
    let (chars, histogram) = count_chars(id);
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        let distance_cost = chars * c.chars;
        if *work + PRE_TEST_COST + 2 * distance_cost > limit {
            return None;
        }
        *work += PRE_TEST_COST;
        if !c.may_match(chars, &histogram) {
            continue;
        }
        *work += distance_cost;
        let score = strsim::jaro_winkler(id, c.id);
        // Lengths further apart than 2 already rule out a distance of 2.
        let similar = score >= 0.8
            || (chars.abs_diff(c.chars) <= 2 && {
                *work += distance_cost;
                strsim::damerau_levenshtein(id, c.id) <= 2
            });
        // The highest score; on a tie, the id first in sorted order.
        if similar && best.is_none_or(|(_, s)| score > s) {
            best = Some((c.id, score));
        }
    }
    Some(best.map(|(c, _)| c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule without pre-tests or limits (what suggestions were before they were bounded).
    fn unbounded<'a>(id: &str, candidates: &[&'a str]) -> Option<&'a str> {
        candidates
            .iter()
            .map(|c| (*c, strsim::jaro_winkler(id, c)))
            .filter(|(c, score)| *score >= 0.8 || strsim::damerau_levenshtein(id, c) <= 2)
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(c, _)| c)
    }

    fn bounded<'a>(id: &str, candidates: &[&'a str]) -> Option<&'a str> {
        let candidates: Vec<Candidate> = candidates.iter().map(|c| Candidate::new(c)).collect();
        closest(id, &candidates, &mut 0, usize::MAX).expect("no limit")
    }

    /// A small deterministic generator (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, bound: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % bound as u64) as usize
        }
        /// An id over a small alphabet (so that near misses are common), or a typo of `base`.
        fn id(&mut self, base: Option<&str>) -> String {
            const ALPHABET: &[char] = &['a', 'b', 'c', 'd', 'e', '-', '_', '1', 'é', 'Z'];
            if let Some(base) = base {
                let mut chars: Vec<char> = base.chars().collect();
                for _ in 0..=self.next(3) {
                    let at = self.next(chars.len() + 1);
                    match self.next(4) {
                        0 if at < chars.len() => {
                            chars.remove(at);
                        }
                        1 if at + 1 < chars.len() => chars.swap(at, at + 1),
                        2 if at < chars.len() => chars[at] = ALPHABET[self.next(ALPHABET.len())],
                        _ => chars.insert(at, ALPHABET[self.next(ALPHABET.len())]),
                    }
                }
                return chars.into_iter().collect();
            }
            (0..1 + self.next(14)).map(|_| ALPHABET[self.next(ALPHABET.len())]).collect()
        }
    }

    #[test]
    fn pre_tests_never_change_the_suggestion() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut agreed_on_some = 0;
        for _ in 0..400 {
            let known: Vec<String> = (0..30).map(|_| rng.id(None)).collect();
            let mut known: Vec<&str> = known.iter().map(String::as_str).collect();
            known.sort_unstable();
            known.dedup();
            for _ in 0..10 {
                let base = known[rng.next(known.len())];
                let id = if rng.next(2) == 0 { rng.id(Some(base)) } else { rng.id(None) };
                let expected = unbounded(&id, &known);
                assert_eq!(bounded(&id, &known), expected, "{id:?} among {known:?}");
                agreed_on_some += usize::from(expected.is_some());
            }
        }
        assert!(agreed_on_some > 500, "the generator should produce near misses: {agreed_on_some}");
    }

    #[test]
    fn pre_test_rejects_unrelated_ids() {
        let (chars, h) = count_chars("sql-injection");
        assert!(!Candidate::new("xss").may_match(chars, &h));
        assert!(Candidate::new("sql-injections").may_match(chars, &h));
    }

    #[test]
    fn a_search_that_would_pass_the_limit_offers_nothing() {
        let candidates: Vec<Candidate> =
            ["csrf", "csrf-token", "xss"].iter().map(|c| Candidate::new(c)).collect();
        let mut work = 0;
        assert_eq!(closest("csfr", &candidates, &mut work, usize::MAX), Some(Some("csrf")));
        // Three pre-tests and a Jaro-Winkler distance for each of the two that pass (`xss`
        // shares one character); no Damerau-Levenshtein: `csrf` scores over 0.8, and
        // `csrf-token` is 6 characters longer.
        assert_eq!(work, 3 * PRE_TEST_COST + 4 * 4 + 4 * 10);
        let mut cut = 0;
        assert_eq!(closest("csfr", &candidates, &mut cut, work - 1), None);
        assert!(cut < work);
    }
}
