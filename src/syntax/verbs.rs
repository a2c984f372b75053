//! The verb table: every spelling of every verb in the three dialects.
//!
//! Owns: spelling -> canonical [`Verb`] (case-insensitive), the dialect a spelling implies,
//! and the literals the prefilter searches for. Must never: parse arguments.

use super::ast::{Dialect, Verb};

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
    SPELLINGS.iter().find(|(s, _, _)| s.eq_ignore_ascii_case(word)).map(|&(_, v, d)| (v, d))
}

/// The canonical spelling used in messages and completions (GAL's).
pub fn canonical_spelling(verb: Verb) -> &'static str {
    SPELLINGS.iter().find(|(_, v, _)| *v == verb).map(|(s, _, _)| *s).unwrap_or("?")
}

/// The known spelling closest to a misspelt `word`, if it is close enough to be a typo.
pub fn suggest(word: &str) -> Option<&'static str> {
    let lower = word.to_ascii_lowercase();
    SPELLINGS
        .iter()
        .map(|(s, _, _)| (*s, strsim::damerau_levenshtein(&lower, s)))
        .filter(|&(s, d)| d <= if s.len() <= 5 { 1 } else { 2 })
        .min_by_key(|&(_, d)| d)
        .map(|(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_knows_singulars() {
        assert_eq!(lookup("MITIGATES").unwrap().0, Verb::Mitigates);
        assert_eq!(lookup("connect").unwrap().0, Verb::Flows);
        assert_eq!(lookup("Shield:Begin").unwrap().0, Verb::ShieldBegin);
        assert!(lookup("mitgates").is_none());
    }

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(suggest("mitgates"), Some("mitigates"));
        assert_eq!(suggest("expoeses"), Some("exposes"));
        assert_eq!(suggest("param"), None);
        assert_eq!(suggest("returns"), None);
    }
}
