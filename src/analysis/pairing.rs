//! Pairing findings of two runs: which finding of an earlier run (a baseline, the diff's base)
//! each current finding is.
//!
//! Owns: the one pairing rule, used by baselines ([`super::baseline::compare`]: `unchanged` or
//! `new`, and the fixed entries) and by the diff's SARIF (`render::diff::sarif`:
//! `baselineState`). Must never: compute fingerprints (that is [`super::fingerprint`]) or name
//! states (`new`, `unchanged`, `updated`, `absent` are the callers' words).
//!
//! The rule, in passes; each pass goes over the current findings still unpaired, in their
//! order, and gives each the first earlier finding (in the earlier run's order) of the pass's
//! key that no current finding has taken yet, so every earlier finding pairs at most once and
//! multiplicity counts (two equal earlier findings excuse two current ones, not three):
//!
//! 1. the same fingerprint and the same path ([`How::Same`]);
//! 2. the same fingerprint from another path ([`How::Elsewhere`]: a renamed file, a line moved
//!    to another file). Pass 1 runs first for every finding, so when a file gains a copy of a
//!    line another file already had, the copy is the one left unpaired;
//! 3. only where the caller asks ([`Pairs::then_by`]), a key of its own ([`How::Fallback`]): the
//!    diff's SARIF pairs what is left by rule and message, so an annotation edited in a way the
//!    message does not show is `updated`, not `absent` plus `new`. Baselines stop at pass 2: a
//!    changed annotation is a new finding there.
//!
//! Earlier findings no pass paired are gone ([`Pairs::unpaired_earlier`]).

use std::collections::HashMap;
use std::hash::Hash;

/// A finding as the rule reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finding<'a> {
    /// [`super::fingerprint`]'s (it holds the code).
    pub fingerprint: &'a str,
    /// The file, as both runs spell paths (relative to the same directory).
    pub path: &'a str,
}

/// Which pass paired a current finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// The same fingerprint and path.
    Same,
    /// The same fingerprint, another path.
    Elsewhere,
    /// The caller's own key ([`Pairs::then_by`]).
    Fallback,
}

/// The pairs of one comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pairs {
    /// For each current finding, in order: the earlier finding it is (its index) and the pass
    /// that found it, or `None` (new).
    pub of_current: Vec<Option<(usize, How)>>,
    taken: Vec<bool>,
}

impl Pairs {
    /// Passes 1 and 2 of the rule (see the module docs).
    pub fn by_fingerprint(current: &[Finding], earlier: &[Finding]) -> Pairs {
        let mut pairs = Pairs { of_current: vec![None; current.len()], taken: vec![false; earlier.len()] };
        let mut by_fingerprint: HashMap<&str, Vec<usize>> = HashMap::new();
        for (at, finding) in earlier.iter().enumerate() {
            by_fingerprint.entry(finding.fingerprint).or_default().push(at);
        }
        for how in [How::Same, How::Elsewhere] {
            for (at, finding) in current.iter().enumerate() {
                if pairs.of_current[at].is_some() {
                    continue;
                }
                let Some(candidates) = by_fingerprint.get(finding.fingerprint) else { continue };
                let found = candidates
                    .iter()
                    .copied()
                    .find(|&e| !pairs.taken[e] && (how == How::Elsewhere || earlier[e].path == finding.path));
                if let Some(e) = found {
                    pairs.taken[e] = true;
                    pairs.of_current[at] = Some((e, how));
                }
            }
        }
        pairs
    }

    /// Pass 3: pairs the findings still unpaired on both sides by the caller's key (one per
    /// finding, in each run's order), the same way.
    pub fn then_by<K: Eq + Hash>(&mut self, current: &[K], earlier: &[K]) {
        let mut by_key: HashMap<&K, Vec<usize>> = HashMap::new();
        for (at, key) in earlier.iter().enumerate() {
            if !self.taken.get(at).copied().unwrap_or(true) {
                by_key.entry(key).or_default().push(at);
            }
        }
        for (pair, key) in self.of_current.iter_mut().zip(current) {
            if pair.is_some() {
                continue;
            }
            let Some(candidates) = by_key.get(key) else { continue };
            if let Some(e) = candidates.iter().copied().find(|&e| !self.taken[e]) {
                self.taken[e] = true;
                *pair = Some((e, How::Fallback));
            }
        }
    }

    /// The earlier findings no current one took, in the earlier run's order.
    pub fn unpaired_earlier(&self) -> impl Iterator<Item = usize> + '_ {
        self.taken.iter().enumerate().filter(|(_, taken)| !**taken).map(|(at, _)| at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f<'a>(fingerprint: &'a str, path: &'a str) -> Finding<'a> {
        Finding { fingerprint, path }
    }

    #[test]
    fn multiplicity_counts_and_the_rest_is_new_or_gone() {
        let earlier = [f("x:1", "a"), f("x:1", "a"), f("y:1", "a")];
        let current = [f("x:1", "a"), f("x:1", "a"), f("x:1", "a"), f("z:1", "a")];
        let pairs = Pairs::by_fingerprint(&current, &earlier);
        assert_eq!(pairs.of_current, [Some((0, How::Same)), Some((1, How::Same)), None, None]);
        assert_eq!(pairs.unpaired_earlier().collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn the_same_path_goes_first_for_every_finding_then_any_path() {
        // `b` gained a copy of `a`'s line and comes first: `a`'s finding still takes its own.
        let pairs = Pairs::by_fingerprint(&[f("x:1", "b"), f("x:1", "a")], &[f("x:1", "a")]);
        assert_eq!(pairs.of_current, [None, Some((0, How::Same))]);
        let renamed = Pairs::by_fingerprint(&[f("x:1", "new")], &[f("x:1", "old")]);
        assert_eq!(renamed.of_current, [Some((0, How::Elsewhere))]);
        assert_eq!(renamed.unpaired_earlier().count(), 0);
    }

    #[test]
    fn the_fallback_pairs_only_what_is_left_on_both_sides() {
        let earlier = [f("x:1", "a"), f("y:1", "a"), f("w:1", "a")];
        let current = [f("x:1", "a"), f("z:1", "b"), f("v:1", "c")];
        let mut pairs = Pairs::by_fingerprint(&current, &earlier);
        // Earlier 0 is taken by fingerprint, so the same key does not pair it again.
        pairs.then_by(&["m", "m", "other"], &["m", "m", "n"]);
        assert_eq!(pairs.of_current, [Some((0, How::Same)), Some((1, How::Fallback)), None]);
        assert_eq!(pairs.unpaired_earlier().collect::<Vec<_>>(), [2]);
    }
}
