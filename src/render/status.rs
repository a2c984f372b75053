//! `status` output: the project's coverage status ([`Status`]) as plain text or JSON.
//!
//! Owns: both layouts and the JSON keys (README, "Status"). Must never: count anything (that is
//! [`crate::analysis::status`]), or let repository text reach a terminal raw: names and paths
//! go through [`text::for_terminal`] in plain text and [`text::for_machine`] in JSON.
//!
//! JSON: `{"provenance", "status": {...}}` where `status` is [`Status`] serialised as is (its
//! field names are the keys), plus `unannotated_files` (paths) when the list was asked for.

use crate::analysis::status::{BySeverity, Status};
use crate::text;
use serde::Serialize;
use std::fmt::Write;

/// `status` as plain text; with `list_unannotated`, only the unannotated source files, one
/// path a line (for piping).
pub fn human(status: &Status, list_unannotated: bool) -> String {
    let mut out = String::new();
    if list_unannotated {
        for file in &status.unannotated_files {
            let _ = writeln!(out, "{}", text::for_terminal(file.as_str()));
        }
        return out;
    }
    let f = &status.files;
    let _ = writeln!(
        out,
        "Files: {} scanned, {} annotated, {} unannotated",
        f.scanned, f.annotated, f.unannotated
    );
    for (language, c) in &status.languages {
        let _ = writeln!(
            out,
            "  {language:<12} {:>6} scanned {:>6} annotated {:>6} unannotated",
            c.scanned, c.annotated, c.unannotated
        );
    }
    let verbs: Vec<String> = status.annotations_by_verb.iter().map(|(v, n)| format!("@{v} {n}")).collect();
    let _ = writeln!(out, "Annotations: {}{}", status.annotations, parenthesised(&verbs.join(", ")));
    let e = &status.exposures;
    let unresolved = if e.unresolved > 0 { format!(" ({} unresolved)", e.unresolved) } else { String::new() };
    let _ = writeln!(out, "Exposures: {}{unresolved}", e.total);
    let s = &e.by_state;
    let _ = writeln!(
        out,
        "  by state: {} open, {} mitigated, {} accepted, {} transferred",
        s.open, s.mitigated, s.accepted, s.transferred
    );
    let _ = writeln!(out, "  by severity: {}", severities(&e.by_severity));
    let _ = writeln!(out, "  open by severity: {}", severities(&e.open_by_severity));
    names(&mut out, "Assets with no threat recorded", &status.assets_without_threats);
    names(&mut out, "Threats with no mitigation anywhere", &status.threats_without_mitigation);
    let o = &status.ownership;
    let _ = writeln!(out, "Ownership: {} of {} assets owned (@owns)", o.owned, o.assets);
    names(&mut out, "  unowned", &o.unowned);
    out
}

fn parenthesised(text: &str) -> String {
    if text.is_empty() { String::new() } else { format!(" ({text})") }
}

fn severities(s: &BySeverity) -> String {
    format!(
        "{} critical, {} high, {} medium, {} low, {} unstated",
        s.critical, s.high, s.medium, s.low, s.unstated
    )
}

/// `label: 2` and the names, quoted in backticks, on one line.
fn names(out: &mut String, label: &str, names: &[String]) {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{}`", text::for_terminal(n))).collect();
    let _ = writeln!(
        out,
        "{label}: {}{}",
        names.len(),
        if quoted.is_empty() { String::new() } else { format!(" ({})", quoted.join(", ")) }
    );
}

#[derive(Serialize)]
struct Output<'a> {
    provenance: &'static str,
    status: &'a Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    unannotated_files: Option<Vec<String>>,
}

/// `status` as one JSON object; `unannotated_files` only with `list_unannotated`.
pub fn json(status: &Status, list_unannotated: bool) -> String {
    let unannotated_files =
        list_unannotated.then(|| status.unannotated_files.iter().map(|f| f.as_str().to_string()).collect());
    let output = Output { provenance: super::PROVENANCE, status, unannotated_files };
    let mut value = serde_json::to_value(&output).unwrap_or_default();
    super::clean_machine_strings(&mut value);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
