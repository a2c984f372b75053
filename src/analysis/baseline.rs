//! Baselines: the findings a project had at some point, and which of today's are new.
//!
//! Owns: the baseline file format (reading it; `render::baseline` writes it), the baseline
//! entries of a run's diagnostics, and the matching rule. Must never: do I/O (the `cli` reads
//! the file or scans a git revision and hands the text or the entries over), or decide exit
//! statuses.
//!
//! Format (version 1), one JSON object:
//!
//! ```json
//! {
//!   "version": 1,
//!   "tool": "threat-analyzer",
//!   "provenance": "...",
//!   "findings": [
//!     { "fingerprint": "0123456789abcdef:1", "code": "unmitigated-exposure",
//!       "path": "src/app.py", "line": 3, "message": "..." }
//!   ]
//! }
//! ```
//!
//! `fingerprint` is [`super::fingerprint`]'s, the SARIF `primaryLocationLineHash`. `code`,
//! `path` (relative to the scan's base directory, `/`-separated), `line` (1-based) and `message`
//! are there for people reading the file and the "fixed" list; matching never reads `code`,
//! `line` or `message`. Other keys are ignored; any other `version` is refused.
//!
//! Matching is [`super::pairing`]'s rule by fingerprint (the diff's SARIF pairs by it too):
//! every current finding whose fingerprint is in the baseline is `unchanged`, with multiplicity
//! (two identical entries excuse two findings, not three); the rest are `new`, and the baseline
//! entries no finding took are fixed. Among entries of equal fingerprint a finding first takes
//! one with its own path, so that when a file gains a copy of a line another file already had,
//! the copy is the new one; only then one from another path (a renamed file).

use super::fingerprint::fingerprints;
use super::pairing::{Finding, Pairs};
use crate::diagnostic::Diagnostic;
use crate::model::ProjectIndex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u64 = 1;
/// The `tool` every baseline file names.
pub const TOOL: &str = "threat-analyzer";

/// One finding of a baseline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub fingerprint: String,
    pub code: String,
    pub path: String,
    pub line: u32,
    pub message: String,
}

/// The baseline entries of `diagnostics`, in [`crate::diagnostic::sorted`] order.
pub fn entries(index: &ProjectIndex, diagnostics: &[Diagnostic]) -> Vec<Entry> {
    fingerprints(index, diagnostics)
        .into_iter()
        .map(|(d, fingerprint)| Entry {
            fingerprint,
            code: d.code.as_str().to_string(),
            path: d.file.as_str().to_string(),
            line: index
                .line_col_of(d.file.as_str(), d.range.start(), crate::text::ColumnUnit::Utf8)
                .map_or(1, |at| at.line + 1),
            message: d.message.clone(),
        })
        .collect()
}

/// Reads a baseline file's text; the error says what is wrong with it, and where.
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let document: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Some(object) = document.as_object() else {
        return Err("not a baseline: the document is not a JSON object".into());
    };
    match object.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(FORMAT_VERSION) => {}
        Some(other) => {
            return Err(format!(
                "unsupported baseline version {other} (this threat-analyzer reads version {FORMAT_VERSION}; \
                 write the baseline again with --write-baseline)"
            ));
        }
        None => return Err("not a baseline: no \"version\"".into()),
    }
    match object.get("tool") {
        Some(Value::String(tool)) if tool == TOOL => {}
        Some(other) => return Err(format!("not a threat-analyzer baseline (\"tool\" is {other})")),
        None => return Err("not a baseline: no \"tool\"".into()),
    }
    let Some(Value::Array(findings)) = object.get("findings") else {
        return Err("not a baseline: \"findings\" is missing or not an array".into());
    };
    findings
        .iter()
        .enumerate()
        .map(|(i, finding)| {
            Entry::deserialize(finding).map_err(|e| format!("findings[{i}]: {e}")).and_then(|entry| {
                if entry.fingerprint.is_empty() {
                    Err(format!("findings[{i}]: empty fingerprint"))
                } else {
                    Ok(entry)
                }
            })
        })
        .collect()
}

/// Whether a finding was in the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    New,
    Unchanged,
}

impl State {
    /// The name JSON (`"baseline"`) and SARIF (`baselineState`) use.
    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Unchanged => "unchanged",
        }
    }
}

/// A run's findings against a baseline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// One per current finding, in [`crate::diagnostic::sorted`] order.
    pub states: Vec<State>,
    /// The baseline's entries that no current finding took.
    pub fixed: Vec<Entry>,
}

impl Comparison {
    pub fn new_count(&self) -> usize {
        self.states.iter().filter(|s| **s == State::New).count()
    }

    pub fn unchanged_count(&self) -> usize {
        self.states.iter().filter(|s| **s == State::Unchanged).count()
    }
}

/// Matches `current` (a run's [`entries`]) against `baseline` by [`super::pairing`]'s rule
/// (see the module docs).
pub fn compare(current: &[Entry], baseline: &[Entry]) -> Comparison {
    fn finding(e: &Entry) -> Finding<'_> {
        Finding { fingerprint: &e.fingerprint, path: &e.path }
    }
    let current_findings: Vec<Finding> = current.iter().map(finding).collect();
    let baseline_findings: Vec<Finding> = baseline.iter().map(finding).collect();
    let pairs = Pairs::by_fingerprint(&current_findings, &baseline_findings);
    let states =
        pairs.of_current.iter().map(|p| if p.is_some() { State::Unchanged } else { State::New }).collect();
    Comparison { states, fixed: pairs.unpaired_earlier().map(|at| baseline[at].clone()).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::{New, Unchanged};

    fn entry(fingerprint: &str, path: &str) -> Entry {
        Entry {
            fingerprint: fingerprint.into(),
            code: "c".into(),
            path: path.into(),
            line: 1,
            message: "m".into(),
        }
    }

    #[test]
    fn multiplicity_counts() {
        let baseline = [entry("f:1", "a"), entry("f:1", "a"), entry("g:1", "a")];
        let current = [entry("f:1", "a"), entry("f:1", "a"), entry("f:1", "a"), entry("h:1", "a")];
        let c = compare(&current, &baseline);
        assert_eq!(c.states, [Unchanged, Unchanged, New, New]);
        assert_eq!(c.fixed, [entry("g:1", "a")]);
        assert_eq!((c.new_count(), c.unchanged_count()), (2, 2));
    }

    #[test]
    fn the_same_path_is_taken_first_then_any() {
        // `b` gained a copy of `a`'s line (listed first): the copy is new, `a`'s stays.
        let c = compare(&[entry("f:1", "b"), entry("f:1", "a")], &[entry("f:1", "a")]);
        assert_eq!(c.states, [New, Unchanged]);
        // A renamed file keeps its findings.
        let c = compare(&[entry("f:1", "renamed")], &[entry("f:1", "a")]);
        assert_eq!(c.states, [Unchanged]);
        assert!(c.fixed.is_empty());
    }

    #[test]
    fn parse_reads_what_it_should_and_refuses_the_rest() {
        let good = r#"{"version": 1, "tool": "threat-analyzer", "extra": true,
            "findings": [{"fingerprint": "f:1", "code": "c", "path": "a", "line": 1, "message": "m"}]}"#;
        assert_eq!(parse(good), Ok(vec![entry("f:1", "a")]));
        for (text, says) in [
            ("{", "not JSON"),
            ("[]", "not a JSON object"),
            (
                r#"{"version": 2, "tool": "threat-analyzer", "findings": []}"#,
                "unsupported baseline version 2",
            ),
            (
                r#"{"version": "1", "tool": "threat-analyzer", "findings": []}"#,
                "unsupported baseline version \"1\"",
            ),
            (r#"{"tool": "threat-analyzer", "findings": []}"#, "no \"version\""),
            (r#"{"version": 1, "tool": "ruff", "findings": []}"#, "not a threat-analyzer baseline"),
            (r#"{"version": 1, "tool": "threat-analyzer"}"#, "\"findings\" is missing"),
            (
                r#"{"version": 1, "tool": "threat-analyzer", "findings": [{"code": "c"}]}"#,
                "findings[0]: missing field",
            ),
            (
                r#"{"version": 1, "tool": "threat-analyzer", "findings": [{"fingerprint": "", "code": "c", "path": "a", "line": 1, "message": "m"}]}"#,
                "empty fingerprint",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
