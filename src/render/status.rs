//! `status` output: the project's coverage status ([`Status`]) as plain text or JSON.
//!
//! Owns: both layouts, the JSON keys (README, "Status") and the per-kind totals of the report's
//! STRIDE-per-element rows ([`stride_by_kind`]). Must never: count anything else (that is
//! [`crate::analysis::status`]), or let repository text reach a terminal raw: names and paths
//! go through [`text::for_terminal`] in plain text and [`text::for_machine`] in JSON.
//!
//! JSON: `{"provenance", "status": {...}}` where `status` is [`Status`] serialised as is (its
//! field names are the keys) plus `stride_per_element_kind` ([`StrideByKind`]), `unanalysed`
//! ([`UnanalysedElement`]s: `{"element", "kind", "threats": [[tag, name], ...]}`), and
//! `unannotated_files` (paths) beside it when the list was asked for.

use super::dfd::{self, Scope};
use super::export::{Model, Stride};
use super::report::{Applies, applies, stride_per_element, unanalysed_per_element};
use crate::analysis::Analysis;
use crate::analysis::status::{BySeverity, Status};
use crate::model::ProjectIndex;
use crate::text;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// STRIDE coverage of the elements of one kind (actor, process, data store) of the data-flow
/// diagram: how many there are and, for each category that applies to the kind, on how many
/// a threat of that category is recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KindStride {
    pub elements: usize,
    /// Category (`spoofing`, `tampering`, `repudiation`, `information_disclosure`,
    /// `denial_of_service`, `elevation_of_privilege`) -> elements with it recorded.
    pub recorded: BTreeMap<&'static str, usize>,
}

/// [`KindStride`] by element kind (`actor`, `process`, `data-store`).
pub type StrideByKind = BTreeMap<&'static str, KindStride>;

/// One element with library threats that apply to it and are not recorded
/// ([`unanalysed`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnanalysedElement {
    /// The element's label (repository text).
    pub element: String,
    /// `actor`, `process` or `data-store`.
    pub kind: &'static str,
    /// `(#lib.<id>, name)` of each unanalysed threat.
    pub threats: Vec<(String, String)>,
}

/// The elements with unanalysed library threats, from the report's computation (README,
/// Threat libraries: suggestions).
pub fn unanalysed(index: &ProjectIndex, analysis: &Analysis) -> Vec<UnanalysedElement> {
    let model = Model::new(index, analysis);
    let diagram = dfd::build(index, analysis, &Scope::Project);
    unanalysed_per_element(&model, &diagram)
        .into_iter()
        .map(|u| UnanalysedElement {
            element: u.node.label.clone(),
            kind: u.node.kind.as_str(),
            threats: u.entries.iter().map(|e| (format!("#lib.{}", e.id), e.name.clone())).collect(),
        })
        .collect()
}

/// STRIDE per element kind, from the report's STRIDE-per-element computation (the diagram's
/// element kinds are decided in [`dfd`], so this lives in `render`, not `analysis`).
pub fn stride_by_kind(index: &ProjectIndex, analysis: &Analysis) -> StrideByKind {
    let model = Model::new(index, analysis);
    let diagram = dfd::build(index, analysis, &Scope::Project);
    let mut out = StrideByKind::new();
    for element in stride_per_element(&model, &diagram) {
        let kind = element.node.kind;
        let counts = out.entry(kind.as_str()).or_default();
        counts.elements += 1;
        for category in Stride::ALL {
            if applies(kind, category) != Applies::No {
                *counts.recorded.entry(category_key(category)).or_default() +=
                    usize::from(element.recorded.contains(&category));
            }
        }
    }
    out
}

fn category_key(category: Stride) -> &'static str {
    match category {
        Stride::Spoofing => "spoofing",
        Stride::Tampering => "tampering",
        Stride::Repudiation => "repudiation",
        Stride::InformationDisclosure => "information_disclosure",
        Stride::DenialOfService => "denial_of_service",
        Stride::ElevationOfPrivilege => "elevation_of_privilege",
    }
}

/// `status` as plain text; with `list_unannotated`, only the unannotated source files, one
/// path a line (for piping).
pub fn human(
    status: &Status,
    stride: &StrideByKind,
    unanalysed: &[UnanalysedElement],
    list_unannotated: bool,
) -> String {
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
    let _ = writeln!(out, "STRIDE per element kind (elements with a threat of the category recorded):");
    for (kind, counts) in stride {
        let categories: Vec<String> = Stride::ALL
            .iter()
            .filter_map(|c| counts.recorded.get(category_key(*c)).map(|n| format!("{} {n}", c.letter())))
            .collect();
        let _ = writeln!(out, "  {kind:<12} {:>6} elements: {}", counts.elements, categories.join(", "));
    }
    let count: usize = unanalysed.iter().map(|u| u.threats.len()).sum();
    let _ = writeln!(
        out,
        "Unanalysed library threats: {count} on {} elements (suggestions, not in the model)",
        unanalysed.len()
    );
    for u in unanalysed {
        let threats: Vec<String> = u
            .threats
            .iter()
            .map(|(tag, name)| format!("{} ({})", text::for_terminal(name), text::for_terminal(tag)))
            .collect();
        let _ = writeln!(out, "  `{}` ({}): {}", text::for_terminal(&u.element), u.kind, threats.join(", "));
    }
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
    status: StatusOutput<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unannotated_files: Option<Vec<String>>,
}

#[derive(Serialize)]
struct StatusOutput<'a> {
    #[serde(flatten)]
    status: &'a Status,
    stride_per_element_kind: &'a StrideByKind,
    unanalysed: &'a [UnanalysedElement],
}

/// `status` as one JSON object; `unannotated_files` only with `list_unannotated`.
pub fn json(
    status: &Status,
    stride: &StrideByKind,
    unanalysed: &[UnanalysedElement],
    list_unannotated: bool,
) -> String {
    let unannotated_files =
        list_unannotated.then(|| status.unannotated_files.iter().map(|f| f.as_str().to_string()).collect());
    let output = Output {
        provenance: super::PROVENANCE,
        status: StatusOutput { status, stride_per_element_kind: stride, unanalysed },
        unannotated_files,
    };
    let mut value = serde_json::to_value(&output).unwrap_or_default();
    super::clean_machine_strings(&mut value);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
