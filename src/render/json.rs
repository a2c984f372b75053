//! JSON output: one object `{"provenance": "...", "summary": {...}, "diagnostics": [...]}`.
//!
//! `provenance` is [`super::PROVENANCE`]: `message`, `related[].message` and `fix.label` are
//! threat-analyzer's sentences quoting repository names in backticks; `file` and
//! `fix.edits[].new_text` hold repository text.
//!
//! `summary` is [`Summary`] serialised as is (its field names are the keys). Each diagnostic:
//! `code`, `severity` (`error|warning|note`), `message`, `file` (relative, `/`-separated),
//! `line`, `column`, `end_line`, `end_column` (1-based, character columns, exclusive end),
//! `related` (`[{file, line, column, end_line, end_column, message}]`), for a finding about an
//! annotation of a `.gal` sidecar reported at the source location its `@source` anchors to,
//! `sidecar` (`{file, line, ...}` of the `.gal` line, also the first of `related`) and, when
//! there is one, `fix` (`{label, edits: [{file, line, column, end_line, end_column, new_text}]}`).
//! Diagnostics are in [`sorted`] order.
//!
//! With a baseline (`check --baseline`), each diagnostic also has `baseline` (`"new"` or
//! `"unchanged"`), and the document a top-level `baseline` object: `new`, `unchanged` and `fixed`
//! counts and `fixed_findings`, the baseline entries no finding matched (`{fingerprint, code,
//! path, line, message}`, as in the baseline file). Every string goes through
//! [`text::for_machine`] (no control or bidi character; line feeds, tabs and CR-LF stay).

use super::{locate, sorted};
use crate::analysis::Summary;
use crate::analysis::baseline::{Comparison, Entry, State};
use crate::diagnostic::{Diagnostic, Related};
use crate::file_id::FileId;
use crate::model::ProjectIndex;
use crate::text;
use crate::text::TextRange;
use serde::Serialize;
use std::borrow::Cow;

#[derive(Serialize)]
struct Output<'a> {
    provenance: &'static str,
    summary: &'a Summary,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<JsonBaseline>,
}

#[derive(Serialize)]
struct JsonBaseline {
    new: usize,
    unchanged: usize,
    fixed: usize,
    fixed_findings: Vec<Entry>,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    message: Cow<'a, str>,
    file: Cow<'a, str>,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    related: Vec<JsonRelated<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sidecar: Option<JsonRelated<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<JsonFix<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'static str>,
}

/// A file and range, as every location of the document writes them.
#[derive(Serialize)]
struct JsonAt<'a> {
    file: Cow<'a, str>,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
}

fn json_at<'a>(index: &ProjectIndex, file: &'a FileId, range: TextRange) -> JsonAt<'a> {
    let loc = locate(index, file, range);
    JsonAt {
        file: text::for_machine(file.as_str()),
        line: loc.line,
        column: loc.column,
        end_line: loc.end_line,
        end_column: loc.end_column,
    }
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    #[serde(flatten)]
    at: JsonAt<'a>,
    message: Cow<'a, str>,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    label: Cow<'a, str>,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    #[serde(flatten)]
    at: JsonAt<'a>,
    new_text: Cow<'a, str>,
}

fn json_related<'a>(index: &ProjectIndex, r: &'a Related) -> JsonRelated<'a> {
    JsonRelated { at: json_at(index, &r.file, r.range), message: text::for_machine(&r.message) }
}

/// Renders the JSON document (pretty-printed, with a trailing newline).
pub fn render(index: &ProjectIndex, diagnostics: &[Diagnostic], summary: &Summary) -> String {
    render_compared(index, diagnostics, summary, None)
}

/// [`render`], with each diagnostic's state against a baseline when there is one.
pub fn render_compared(
    index: &ProjectIndex,
    diagnostics: &[Diagnostic],
    summary: &Summary,
    comparison: Option<&Comparison>,
) -> String {
    let states = super::baseline_states(diagnostics, comparison);
    let diagnostics = sorted(diagnostics)
        .into_iter()
        .zip(states)
        .map(|(d, state)| {
            let loc = locate(index, &d.file, d.range);
            JsonDiagnostic {
                code: d.code.as_str(),
                severity: d.level.as_str(),
                message: text::for_machine(&d.message),
                file: text::for_machine(d.file.as_str()),
                line: loc.line,
                column: loc.column,
                end_line: loc.end_line,
                end_column: loc.end_column,
                related: d.related.iter().map(|r| json_related(index, r)).collect(),
                sidecar: d.sidecar.as_ref().map(|r| json_related(index, r)),
                fix: d.fix.as_ref().map(|fix| JsonFix {
                    label: text::for_machine(&fix.label),
                    edits: fix
                        .edits
                        .iter()
                        .map(|e| JsonEdit {
                            at: json_at(index, &e.file, e.range),
                            new_text: text::for_machine(&e.new_text),
                        })
                        .collect(),
                }),
                baseline: state.map(State::as_str),
            }
        })
        .collect();
    let baseline = comparison.map(|c| JsonBaseline {
        new: c.new_count(),
        unchanged: c.unchanged_count(),
        fixed: c.fixed.len(),
        fixed_findings: c.fixed.iter().map(super::baseline::cleaned).collect(),
    });
    let mut out = serde_json::to_string_pretty(&Output {
        provenance: super::PROVENANCE,
        summary,
        diagnostics,
        baseline,
    })
    .expect("plain structs serialise");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn shape_positions_and_order() {
        let (index, diagnostics) = sample();
        let summary = summary(&index, &diagnostics);
        let v: Value = serde_json::from_str(&render(&index, &diagnostics, &summary)).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["diagnostics", "provenance", "summary"]);
        assert_eq!(v["provenance"], super::super::PROVENANCE);
        assert_eq!(v["summary"], serde_json::to_value(&summary).unwrap());
        let ds = v["diagnostics"].as_array().unwrap();
        assert_eq!(ds.len(), 3);
        assert_eq!(ds[0]["code"], "prose-like-annotation");
        assert_eq!(ds[1]["code"], "unused-definition");
        assert!(ds[1].get("fix").is_none());
        assert_eq!(
            ds[2],
            json!({
                "code": "unmitigated-exposure",
                "severity": "error",
                "message": "App is exposed to SQL Injection (#sqli) [high] and nothing mitigates it",
                "file": "src/app.py",
                "line": 3, "column": 14, "end_line": 3, "end_column": 35,
                "related": [{
                    "file": "src/app.py", "line": 2, "column": 3, "end_line": 2, "end_column": 39,
                    "message": "threat defined here"
                }],
                "fix": {
                    "label": "accept the exposure",
                    "edits": [{
                        "file": "src/app.py", "line": 3, "column": 35, "end_line": 3,
                        "end_column": 35, "new_text": "\n# @accepts #sqli on App"
                    }]
                }
            })
        );
        // Character columns, not bytes.
        assert_eq!((ds[1]["column"].as_u64(), ds[1]["end_column"].as_u64()), (Some(22), Some(26)));
    }

    #[test]
    fn empty_run_is_still_a_full_document() {
        let index = index(&[]);
        let out = render(&index, &[], &Summary::default());
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["diagnostics"], json!([]));
        assert_eq!(v["summary"]["files_scanned"], 0);
    }
}
