//! The severity rule: what an exposure's severity is, in the words its author wrote.
//!
//! Owns: [`StatedSeverity`] (a severity with the word it was written as) and
//! [`Analysis::exposure_severity`], the one place that decides an exposure's effective
//! severity: its own `[severity]` when it states one, else its threat's (the highest stated
//! on the threat's definitions). A contextual `[low]` on an exposure of a critical threat is
//! low. Must never: raise an exposure's stated severity to its threat's, or print a word the
//! author did not write (`[P1]` stays `P1`; it counts as high).

use super::Analysis;
use crate::model::{EntityKey, FileFacts};
use crate::syntax::{Annotation, Severity};

/// A severity and the word it was written as (`P1`, `high`, `Critical`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatedSeverity {
    pub value: Severity,
    pub word: String,
}

impl StatedSeverity {
    /// The severity written on `ann`, if any.
    pub fn of(facts: &FileFacts, ann: &Annotation) -> Option<StatedSeverity> {
        let sev = ann.severity.as_ref()?;
        let written =
            facts.slice(sev.range).trim_matches(|c: char| c == '[' || c == ']' || c.is_whitespace());
        let word = if written.is_empty() { sev.value.as_str() } else { written };
        Some(StatedSeverity { value: sev.value, word: word.to_string() })
    }
}

impl std::fmt::Display for StatedSeverity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.word)
    }
}

impl Analysis {
    /// The effective severity of the exposure or finding `ann` of `facts` whose threat is
    /// `threat` (see the module docs).
    pub fn exposure_severity(
        &self,
        facts: &FileFacts,
        ann: &Annotation,
        threat: Option<&EntityKey>,
    ) -> Option<StatedSeverity> {
        StatedSeverity::of(facts, ann).or_else(|| threat.and_then(|t| self.threat_severity.get(t)).cloned())
    }

    /// The level of [`Analysis::exposure_severity`] without the word (nothing to allocate): the
    /// same rule, for comparing many exposures.
    pub fn exposure_severity_level(&self, ann: &Annotation, threat: Option<&EntityKey>) -> Option<Severity> {
        match &ann.severity {
            Some(stated) => Some(stated.value),
            None => threat.and_then(|t| self.threat_severity.get(t)).map(|s| s.value),
        }
    }
}
