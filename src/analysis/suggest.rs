//! "Did you mean": the known ids closest to a dangling one, within a bounded amount of work.
//!
//! Owns: the similarity rule for ids, the cheap pre-tests that skip candidates which cannot
//! pass it, and the work bound. Must never: do I/O, or compare ids longer than
//! [`MAX_SUGGESTION_ID_CHARS`].
//!
//! # The rule
//! - Only ids of the kind the position expects are candidates (a threat after `to`, a control
//!   after `using`): [`ProjectIndex::ids_of_kind`]. An asset's id is never offered for a threat.
//! - A candidate must be within [`allowed_edits`] of the dangling id (the optimal string
//!   alignment distance of [`osa_distance_within`]: insertions, deletions, substitutions and
//!   swaps of two adjacent characters), a budget that grows with the dangling id's length in
//!   characters: 1 edit for 4-5 characters, 2 for 6-8, 3 from 9 on. Typos are a few edits;
//!   a larger budget for long ids would match different words (`data-exfiltration` and
//!   `data-tokenization`).
//!   Ids of one to three characters get a candidate only when a single swap of two adjacent
//!   characters gives it (`#dso` -> `dos`; `#app` is not `vpc`, `#dos` is not `db`).
//! - The suggestions are the candidates at the smallest distance, in sorted order. Only a
//!   single closest id is a fix ([`Suggestion::fix`]); several are named, none applied.
//!
//! # The work bound
//! Every dangling id meets every known id of its kind, and an unbounded string distance is
//! quadratic in the ids' lengths: a repository full of long dangling ids made this take
//! minutes. Now:
//! - ids over [`MAX_SUGGESTION_ID_CHARS`] characters are never compared (on either side);
//! - each pair first meets a pre-test on lengths and character counts that only rejects pairs
//!   the rule would reject (see [`Candidate::may_match`]), so suggestions are unchanged;
//! - each distinct dangling id is looked up once per analysis;
//! - the work of one analysis is capped at [`MAX_SUGGESTION_WORK`] character comparisons (a
//!   pre-test counts 128, a distance the cells it computes: the dangling id's length times
//!   `2 * edits + 1`, the band around the diagonal); the search that would
//!   go past it, and every later one, offer no suggestion and say why.
//!
//! [`MAX_SUGGESTION_ID_CHARS`]: crate::limits::MAX_SUGGESTION_ID_CHARS
//! [`MAX_SUGGESTION_WORK`]: crate::limits::MAX_SUGGESTION_WORK

use crate::limits::{MAX_SUGGESTION_ID_CHARS, MAX_SUGGESTION_WORK};
use crate::model::ProjectIndex;
use crate::syntax::EntityKind;
use crate::syntax::edit_distance::{cells, osa_distance_within};
use rustc_hash::FxHashMap as HashMap;

/// What the search found for one dangling id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Suggestion {
    /// The closest known ids (at the same distance), sorted; never empty.
    Found(Vec<String>),
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

    /// The id to change the reference to: the closest one, when it is the only one.
    pub fn fix(&self) -> Option<&str> {
        match self {
            Suggestion::Found(ids) if ids.len() == 1 => Some(&ids[0]),
            _ => None,
        }
    }
}

/// The most edits a candidate may be from a dangling id of `chars` characters (see the
/// module docs; ids of up to three characters also need the edit to be a transposition).
pub fn allowed_edits(chars: usize) -> usize {
    match chars {
        0..=5 => 1,
        6..=8 => 2,
        _ => 3,
    }
}

/// Whether `a` becomes `b` by swapping two adjacent characters.
fn is_one_transposition(a: &[char], b: &[char]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut differ = (0..a.len()).filter(|&i| a[i] != b[i]);
    match (differ.next(), differ.next(), differ.next()) {
        (Some(i), Some(j), None) => j == i + 1 && a[i] == b[j] && a[j] == b[i],
        _ => false,
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
    /// The id's characters (at most [`MAX_SUGGESTION_ID_CHARS`] are kept).
    text: Vec<char>,
}

impl Candidate<'_> {
    /// Whether `self` could be within `edits` of an id of `chars` characters with `histogram`.
    /// A necessary condition, never a sufficient one: lengths within `edits`, and at most
    /// `edits` characters of the longer id missing from the shorter (no edit fixes more than
    /// one).
    fn may_match(&self, chars: usize, histogram: &Histogram, edits: usize) -> bool {
        let shared: usize = self.histogram.iter().zip(histogram).map(|(a, b)| *a.min(b) as usize).sum();
        let (a, b) = (chars, self.chars);
        a.abs_diff(b) <= edits && a.max(b) - shared <= edits
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
                .ids_of_kind(kind)
                .into_iter()
                .map(Candidate::new)
                .filter(|c| c.chars <= MAX_SUGGESTION_ID_CHARS)
                .collect()
        });
        match closest(id, candidates, &mut self.work, MAX_SUGGESTION_WORK) {
            Some(best) if best.is_empty() => Suggestion::None,
            Some(best) => Suggestion::Found(best.into_iter().map(str::to_string).collect()),
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
        Candidate { id, chars, histogram, text: id.chars().take(MAX_SUGGESTION_ID_CHARS).collect() }
    }
}

/// The candidates closest to `id` by the module's rule, in the order of `candidates` (sorted
/// by id), adding the work done to `work`; `None` when the work would pass `limit` first.
/// Each pre-test and distance is paid for before it runs; a search cut short offers nothing,
/// since what it found so far may not be the best.
fn closest<'a>(
    id: &str,
    candidates: &[Candidate<'a>],
    work: &mut usize,
    limit: usize,
) -> Option<Vec<&'a str>> {
    let (chars, histogram) = count_chars(id);
    let text: Vec<char> = id.chars().collect();
    let edits = allowed_edits(chars);
    let distance_cost = cells(chars, edits);
    let mut best: Vec<&str> = Vec::new();
    let mut best_distance = usize::MAX;
    for c in candidates {
        if *work + PRE_TEST_COST + distance_cost > limit {
            return None;
        }
        *work += PRE_TEST_COST;
        if !c.may_match(chars, &histogram, edits) {
            continue;
        }
        *work += distance_cost;
        let Some(distance) = osa_distance_within(&text, &c.text, edits.min(best_distance)) else {
            continue;
        };
        if chars <= 3 && !is_one_transposition(&text, &c.text) {
            continue;
        }
        if distance < best_distance {
            best.clear();
            best_distance = distance;
        }
        best.push(c.id);
    }
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule without pre-tests, band or limits (`strsim`'s distance).
    fn unbounded<'a>(id: &str, candidates: &[&'a str]) -> Vec<&'a str> {
        let chars: Vec<char> = id.chars().collect();
        let within: Vec<(&str, usize)> = candidates
            .iter()
            .map(|c| (*c, strsim::osa_distance(id, c)))
            .filter(|(c, d)| {
                *d <= allowed_edits(chars.len())
                    && (chars.len() > 3 || is_one_transposition(&chars, &c.chars().collect::<Vec<_>>()))
            })
            .collect();
        let min = within.iter().map(|(_, d)| *d).min();
        within.into_iter().filter(|(_, d)| Some(*d) == min).map(|(c, _)| c).collect()
    }

    fn bounded<'a>(id: &str, candidates: &[&'a str]) -> Vec<&'a str> {
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
                agreed_on_some += usize::from(!expected.is_empty());
            }
        }
        assert!(agreed_on_some > 500, "the generator should produce near misses: {agreed_on_some}");
    }

    #[test]
    fn pre_test_rejects_unrelated_ids() {
        let (chars, h) = count_chars("sql-injection");
        assert!(!Candidate::new("xss").may_match(chars, &h, 3));
        assert!(Candidate::new("sql-injections").may_match(chars, &h, 3));
        assert!(!Candidate::new("sql-inj").may_match(chars, &h, 3));
    }

    #[test]
    fn the_edit_budget_grows_with_the_length_and_short_ids_need_a_transposition() {
        let known = ["api", "app", "db", "dos", "vpc", "xss", "csrf", "injection", "sessions"];
        let best = |id: &str| bounded(id, &known);
        assert_eq!(best("dso"), ["dos"], "one swap");
        assert_eq!(best("sxs"), ["xss"]);
        assert_eq!(best("ddos"), ["dos"], "four characters: one edit");
        assert!(best("do").is_empty(), "a deletion, not a swap");
        assert!(best("dbs").is_empty());
        assert!(best("apx").is_empty(), "a substitution, not a swap");
        assert_eq!(best("csfr"), ["csrf"]);
        assert!(best("ctsr").is_empty(), "four characters: one edit at most, `csrf` is 2 away");
        assert_eq!(best("sesions"), ["sessions"]);
        assert!(best("xesion").is_empty(), "six characters: two edits at most, `sessions` is 3 away");
        assert_eq!(best("injcetoin"), ["injection"], "nine characters: up to three edits");
        assert!(best("ijcetoinn").is_empty());
    }

    #[test]
    fn ties_are_all_returned_and_only_a_single_closest_id_is_a_fix() {
        let known = ["order-read", "order-real", "order-write"];
        assert_eq!(bounded("order-readd", &known), ["order-read"]);
        assert_eq!(bounded("order-rea", &known), ["order-read", "order-real"]);
        assert_eq!(Suggestion::Found(vec!["a".into()]).fix(), Some("a"));
        assert_eq!(Suggestion::Found(vec!["a".into(), "b".into()]).fix(), None);
    }

    #[test]
    fn a_search_that_would_pass_the_limit_offers_nothing() {
        let candidates: Vec<Candidate> =
            ["csrf", "csrf-token", "xss"].iter().map(|c| Candidate::new(c)).collect();
        let mut work = 0;
        assert_eq!(closest("csfr", &candidates, &mut work, usize::MAX), Some(vec!["csrf"]));
        // Three pre-tests and one distance (4 rows of a band of 3 cells for one edit):
        // `csrf-token` is 6 characters longer and `xss` shares one character, so only `csrf`
        // passes the pre-test.
        assert_eq!(work, 3 * PRE_TEST_COST + 4 * 3);
        let mut cut = 0;
        assert_eq!(closest("csfr", &candidates, &mut cut, work - 1), None);
        assert!(cut < work);
    }
}
