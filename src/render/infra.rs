//! The outputs of `baseline` (the threat model derived from infrastructure code,
//! [`crate::infra`]): human text, JSON, Markdown, and the GAL annotations a user would add.
//!
//! Owns: how elements, flows, boundaries, proposals, unknowns and the STRIDE statistics (counts
//! per category and severity) are written, each item with its template location; and
//! [`gal`], the proposed annotations per file: `@asset`, `@exposes`, `@mitigates`, `@flows` and
//! `@boundary` in the comment syntax of the file the resource is declared in (the language's
//! line-comment marker), the `@threat` and `@control` definitions in `.guardlink/baseline.gal`.
//! Every line is built, parsed by the annotation parser and printed through
//! [`crate::syntax::canonical::to_gal`], so what is printed is what `check` reads. The lines
//! are built in one place, [`proposed_lines`], which `--format gal` and the planner of
//! `baseline --apply` ([`super::infra_apply`]) share.
//! Must never: write template text unescaped: names become identifier-safe asset ids, and
//! descriptions are quoted with `\"` `\\` escapes and control characters replaced, so no
//! resource name can start a line, end a comment or add an annotation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::analysis::stride::Stride;
use crate::infra::model::{Boundary, Flow, INTERNET, InfraModel, Origin, Outcome, Proposal};
use crate::infra::rules;
use crate::syntax::{Language, Severity};
use crate::text::for_terminal;

/// Where the threat and control definitions of `--format gal` go.
pub const DEFINITIONS_FILE: &str = ".guardlink/baseline.gal";

/// Counts per STRIDE category and severity, of exposures and of mitigations.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Statistics {
    /// (category, exposures, mitigations), in S T R I D E order.
    pub by_stride: Vec<(Stride, usize, usize)>,
    /// (severity, exposures), critical first.
    pub by_severity: Vec<(Severity, usize)>,
}

pub fn statistics(model: &InfraModel) -> Statistics {
    let count =
        |s: Stride, o: Outcome| model.proposals.iter().filter(|p| p.stride == s && p.outcome == o).count();
    let by_stride = Stride::ALL
        .iter()
        .map(|s| (*s, count(*s, Outcome::Exposure), count(*s, Outcome::Mitigation)))
        .collect();
    let by_severity = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low]
        .iter()
        .map(|sev| {
            (
                *sev,
                model
                    .proposals
                    .iter()
                    .filter(|p| p.severity == *sev && p.outcome == Outcome::Exposure)
                    .count(),
            )
        })
        .collect();
    Statistics { by_stride, by_severity }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
    }
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Exposure => "exposure",
        Outcome::Mitigation => "mitigation",
    }
}

/// Plain text for a terminal.
pub fn human(model: &InfraModel) -> String {
    let t = |s: &str| for_terminal(s).into_owned();
    let mut out = String::new();
    let diagram: Vec<_> = model.elements.iter().filter(|e| e.kind.is_diagram()).collect();
    let _ = writeln!(out, "Elements ({}):", diagram.len());
    for e in &diagram {
        let at = if e.key == INTERNET { String::new() } else { format!("  {}", t(&e.origin.display())) };
        let _ = writeln!(out, "  {:<15} {}{at}", e.kind.name(), t(&e.key));
    }
    let _ = writeln!(out, "Boundaries ({}):", model.boundaries.len());
    for b in &model.boundaries {
        let _ = writeln!(out, "  {:<15} {}  {}", b.kind.name(), t(&b.key), t(&b.origin.display()));
    }
    let _ = writeln!(out, "Flows ({}):", model.flows.len());
    for f in &model.flows {
        let _ = writeln!(
            out,
            "  {} -> {} via {}  {}",
            t(&f.from),
            t(&f.to),
            t(&f.mechanism.display()),
            t(&f.origins_display())
        );
    }
    let _ = writeln!(out, "Proposed threats ({}):", model.proposals.len());
    for p in &model.proposals {
        let _ = writeln!(
            out,
            "  {:<10} {:<8} {} {} [{}] {}  {}",
            outcome_name(p.outcome),
            severity_name(p.severity),
            p.rule,
            t(&p.element),
            p.stride.letter(),
            t(&p.detail),
            t(&p.origin.display())
        );
    }
    if !model.unknowns.is_empty() {
        let _ = writeln!(out, "Not resolvable statically ({}):", model.unknowns.len());
        for u in &model.unknowns {
            let _ = writeln!(out, "  {}  {}", t(&u.what), t(&u.origin.display()));
        }
    }
    let stats = statistics(model);
    let _ = writeln!(out, "STRIDE (exposures/mitigations):");
    for (s, e, m) in &stats.by_stride {
        let _ = writeln!(out, "  {:<24} {e}/{m}", s.name());
    }
    let sev: Vec<String> =
        stats.by_severity.iter().map(|(s, n)| format!("{} {n}", severity_name(*s))).collect();
    let _ = writeln!(out, "Exposures by severity: {}", sev.join(", "));
    out
}

/// One JSON object: elements, boundaries, flows, proposals (with each rule's STRIDE category,
/// CWE, rationale and remediation), unknowns and statistics.
pub fn json(model: &InfraModel) -> String {
    use serde_json::json;
    let origin = |o: &crate::infra::model::Origin| json!({"path": o.path, "line": o.line});
    let elements: Vec<_> = model
        .elements
        .iter()
        .map(|e| {
            json!({
                "key": e.key, "kind": e.kind.name(), "format": e.format.name(), "type": e.resource_type,
                "name": e.name, "boundaries": e.boundaries, "origin": origin(&e.origin),
            })
        })
        .collect();
    let boundaries: Vec<_> = model
        .boundaries
        .iter()
        .map(
            |b| json!({"key": b.key, "kind": b.kind.name(), "parent": b.parent, "origin": origin(&b.origin)}),
        )
        .collect();
    let flows: Vec<_> = model
        .flows
        .iter()
        .map(|f| {
            let also: Vec<_> = f.also.iter().map(origin).collect();
            json!({"from": f.from, "to": f.to, "mechanism": f.mechanism.display(), "origin": origin(&f.origin), "also": also})
        })
        .collect();
    let proposals: Vec<_> = model
        .proposals
        .iter()
        .map(|p| {
            let rule = rules::rule(p.rule);
            json!({
                "rule": p.rule, "element": p.element, "outcome": outcome_name(p.outcome),
                "stride": p.stride.name(), "severity": severity_name(p.severity),
                "cwe": rule.and_then(|r| r.cwe_ref()), "threat": rule.map(|r| r.threat),
                "control": rule.map(|r| r.control), "detail": p.detail,
                "rationale": rule.map(|r| r.rationale), "remediation": rule.map(|r| r.remediation),
                "origin": origin(&p.origin),
            })
        })
        .collect();
    let unknowns: Vec<_> =
        model.unknowns.iter().map(|u| json!({"what": u.what, "origin": origin(&u.origin)})).collect();
    let stats = statistics(model);
    let by_stride: serde_json::Map<String, serde_json::Value> = stats
        .by_stride
        .iter()
        .map(|(s, e, m)| (s.name().to_string(), json!({"exposures": e, "mitigations": m})))
        .collect();
    let by_severity: serde_json::Map<String, serde_json::Value> =
        stats.by_severity.iter().map(|(s, n)| (severity_name(*s).to_string(), json!(n))).collect();
    let doc = json!({
        "elements": elements, "boundaries": boundaries, "flows": flows, "proposals": proposals,
        "unknowns": unknowns, "statistics": {"stride": by_stride, "severity": by_severity},
    });
    super::machine_json(&doc)
}

/// A Markdown document: statistics, then a table of proposals and lists of the model.
pub fn markdown(model: &InfraModel) -> String {
    let e = |s: &str| super::report_md::escape(s);
    let mut out = String::from(
        "# Baseline threat model\n\n## STRIDE\n\n| Category | Exposures | Mitigations |\n|---|---|---|\n",
    );
    let stats = statistics(model);
    for (s, x, m) in &stats.by_stride {
        let _ = writeln!(out, "| {} | {x} | {m} |", s.name());
    }
    let sev: Vec<String> =
        stats.by_severity.iter().map(|(s, n)| format!("{} {n}", severity_name(*s))).collect();
    let _ = writeln!(out, "\nExposures by severity: {}.\n", sev.join(", "));
    out.push_str("## Proposed threats\n\n| Outcome | Severity | Rule | Element | STRIDE | Detail | Where |\n|---|---|---|---|---|---|---|\n");
    for p in &model.proposals {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            outcome_name(p.outcome),
            severity_name(p.severity),
            p.rule,
            e(&p.element),
            p.stride.letter(),
            e(&p.detail),
            e(&p.origin.display())
        );
    }
    out.push_str("\n## Elements\n\n");
    for el in model.elements.iter().filter(|el| el.kind.is_diagram()) {
        // The fixed Internet entity comes from no file, as in the human output.
        let at = if el.key == INTERNET { String::new() } else { format!(" {}", e(&el.origin.display())) };
        let _ = writeln!(out, "- {} ({}){at}", e(&el.key), el.kind.name());
    }
    out.push_str("\n## Boundaries\n\n");
    for b in &model.boundaries {
        let _ = writeln!(out, "- {} ({}) {}", e(&b.key), b.kind.name(), e(&b.origin.display()));
    }
    out.push_str("\n## Flows\n\n");
    for f in &model.flows {
        let _ = writeln!(
            out,
            "- {} -> {} via {} {}",
            e(&f.from),
            e(&f.to),
            e(&f.mechanism.display()),
            e(&f.origins_display())
        );
    }
    if !model.unknowns.is_empty() {
        out.push_str("\n## Not resolvable statically\n\n");
        for u in &model.unknowns {
            let _ = writeln!(out, "- {} {}", e(&u.what), e(&u.origin.display()));
        }
    }
    out
}

pub use crate::infra::asset_id;

/// A boundary key as a GAL id (letters, digits, `-`).
pub fn boundary_id(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

/// A description: `\` and `"` escaped, every character that could end the line or the comment
/// (line breaks, control and invisible characters) replaced.
fn quoted(text: &str) -> String {
    let safe: String = text
        .chars()
        .map(|c| if crate::text::is_inert(c) && !crate::text::is_invisible(c) { c } else { ' ' })
        .collect();
    // Block comments never hold these lines, but a `*/` would still read badly.
    let safe = safe.replace("*/", "* /");
    format!("\"{}\"", safe.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The canonical form of one built annotation line: parsed as GAL and printed by
/// [`crate::syntax::canonical::to_gal`]. `None` when the parser reads anything else than one
/// annotation without errors (a bug: the callers' tests check every kind of line). Prompt
/// markup copied from a template (`protocol = "t<<SYS>>cp"`) is no such error: the line is
/// kept, and `check` warns at it (`agent-instruction-in-annotation`), where dropping it would
/// lose the flow.
fn canonical(line: &str) -> Option<String> {
    let parsed = crate::syntax::parse_file(Language::Gal, line);
    let clean = parsed.errors.iter().all(|e| e.code == crate::diagnostic::Code::AgentInstructionInAnnotation);
    match (parsed.annotations.as_slice(), clean) {
        ([ann], true) => crate::syntax::canonical::to_gal(line, ann),
        _ => None,
    }
}

/// What a proposed annotation line is about, which decides where it goes: definitions in
/// [`DEFINITIONS_FILE`]; an element's lines in the file that declares it (in
/// [`DEFINITIONS_FILE`] when it comes from no file: the Internet); a flow's and a boundary's
/// in the file that says so.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum About<'m> {
    /// A `@threat` or `@control` definition.
    Definition,
    /// An element's `@asset`, or one of its proposals: the element's key.
    Element(&'m str),
    Flow(&'m Flow),
    Boundary(&'m Boundary),
}

/// One proposed annotation: its canonical GAL text (no comment marker) and what it is about.
#[derive(Clone, Debug, PartialEq)]
pub struct ProposedLine<'m> {
    pub about: About<'m>,
    pub text: String,
}

/// Every proposed annotation of the model, in `--format gal`'s order (definitions, assets,
/// proposals, flows, boundaries). `locate` writes a template location into the notes
/// (`path:line`; the planner of `baseline --apply` passes the lines the location has once its
/// insertions are made). Lines that GAL could not read back are left out and counted in the
/// second value (zero unless there is a bug).
pub fn proposed_lines<'m>(
    model: &'m InfraModel,
    locate: &dyn Fn(&Origin) -> String,
) -> (Vec<ProposedLine<'m>>, usize) {
    let mut out = Vec::new();
    let mut dropped = 0;
    let mut push = |about: About<'m>, line: String| match canonical(&line) {
        Some(text) => out.push(ProposedLine { about, text }),
        None => dropped += 1,
    };

    // Definitions of the threats and controls the proposals use.
    let mut threats: BTreeMap<&str, (&str, BTreeSet<String>, BTreeSet<&str>)> = BTreeMap::new();
    let mut controls: BTreeSet<&str> = BTreeSet::new();
    for p in &model.proposals {
        let Some(rule) = rules::rule(p.rule) else { continue };
        let Some(threat) = rules::threat(rule.threat) else { continue };
        let entry = threats.entry(rule.threat).or_insert((threat.title, BTreeSet::new(), BTreeSet::new()));
        entry.1.extend(threat.cwe_ref());
        entry.2.insert(rule.stride.letter());
        if p.outcome == Outcome::Mitigation {
            controls.insert(rule.control);
        }
    }
    for (id, (title, cwes, strides)) in &threats {
        let mut line = format!("@threat {} (#{id})", quoted(title));
        for cwe in cwes {
            let _ = write!(line, " cwe:{cwe}");
        }
        let _ = write!(line, " stride:{}", strides.iter().copied().collect::<String>());
        push(About::Definition, line);
    }
    for id in &controls {
        let name = id.replace('-', " ");
        push(About::Definition, format!("@control {} (#{id})", quoted(&name)));
    }

    // Assets: diagram elements and whatever a proposal or flow names.
    let mut named: BTreeSet<&str> =
        model.elements.iter().filter(|e| e.kind.is_diagram()).map(|e| e.key.as_str()).collect();
    named.extend(model.proposals.iter().map(|p| p.element.as_str()));
    named.extend(model.flows.iter().flat_map(|f| [f.from.as_str(), f.to.as_str()]));
    for key in &named {
        let Some(e) = model.element(key) else { continue };
        let desc = if e.key == INTERNET {
            "the Internet (baseline)".to_string()
        } else {
            format!("{} {} ({}, baseline)", e.resource_type, e.key, e.kind.name())
        };
        push(About::Element(&e.key), format!("@asset {} -- {}", asset_id(key), quoted(&desc)));
    }
    for p in &model.proposals {
        let Some(rule) = rules::rule(p.rule) else { continue };
        push(About::Element(&p.element), proposal_line(p, rule, locate));
    }
    for f in &model.flows {
        let line = format!(
            "@flows {} -> {} via {} -- {}",
            asset_id(&f.from),
            asset_id(&f.to),
            quoted(&f.mechanism.display()),
            quoted(&format!(
                "baseline: {}",
                std::iter::once(&f.origin).chain(&f.also).map(locate).collect::<Vec<_>>().join(", ")
            ))
        );
        push(About::Flow(f), line);
    }
    for b in &model.boundaries {
        let inside = |key: &str| model.element(key).is_some_and(|e| e.boundaries.contains(&b.key));
        let Some(f) = model.flows.iter().find(|f| inside(&f.to) != inside(&f.from)) else { continue };
        let (outer, inner) = if inside(&f.to) { (&f.from, &f.to) } else { (&f.to, &f.from) };
        let line = format!(
            "@boundary between {} and {} (#{})",
            asset_id(outer),
            asset_id(inner),
            boundary_id(&b.key)
        );
        push(About::Boundary(b), line);
    }
    (out, dropped)
}

/// The file a proposed line goes to by [`About`]'s rule (see there).
pub fn file_of(model: &InfraModel, about: About<'_>) -> String {
    match about {
        About::Definition => DEFINITIONS_FILE.to_string(),
        About::Element(key) => match model.element(key) {
            Some(e) if !e.origin.path.is_empty() => e.origin.path.clone(),
            _ => DEFINITIONS_FILE.to_string(),
        },
        About::Flow(f) => f.origin.path.clone(),
        About::Boundary(b) => b.origin.path.clone(),
    }
}

/// The line-comment marker annotations are written with in the file at `path`: `None` for
/// `.gal` files (annotations are their lines) and for files without line comments (JSON).
pub fn comment_marker(path: &str) -> Option<&'static str> {
    if path.ends_with(".gal") {
        return None;
    }
    Language::from_path(std::path::Path::new(path)).and_then(|l| l.line_comment_markers().first().copied())
}

/// The proposed annotations, by file: `(path, lines)` in path order, each line complete with
/// the file's comment marker (none in `.gal` files). Lines that GAL could not read back are
/// left out and counted in the second value (zero unless there is a bug).
pub fn gal(model: &InfraModel) -> (Vec<(String, Vec<String>)>, usize) {
    let (lines, dropped) = proposed_lines(model, &Origin::display);
    let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in lines {
        files.entry(file_of(model, line.about)).or_default().push(line.text);
    }
    let out = files
        .into_iter()
        .map(|(path, lines)| {
            let lines = match comment_marker(&path) {
                Some(m) => lines.into_iter().map(|l| format!("{m} {l}")).collect(),
                None => lines,
            };
            (path, lines)
        })
        .collect();
    (out, dropped)
}

fn proposal_line(p: &Proposal, rule: &rules::Rule, locate: &dyn Fn(&Origin) -> String) -> String {
    let asset = asset_id(&p.element);
    let note = quoted(&format!("{}: {} ({})", rule.id, p.detail, locate(&p.origin)));
    match p.outcome {
        Outcome::Exposure => {
            format!("@exposes {asset} to #{} [{}] -- {note}", rule.threat, severity_name(p.severity))
        }
        Outcome::Mitigation => {
            format!("@mitigates {asset} against #{} using #{} -- {note}", rule.threat, rule.control)
        }
    }
}

/// `--format gal` as text: each file's lines under a `==> path <==` header.
pub fn gal_text(model: &InfraModel) -> String {
    let (files, _) = gal(model);
    let mut out = String::new();
    for (path, lines) in files {
        let _ = writeln!(out, "==> {} <==", for_terminal(&path));
        for line in lines {
            out.push_str(&for_terminal(&line));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn prompt_markup_from_a_template_keeps_the_line_and_other_errors_drop_it() {
        // `check` warns at the markup (agent-instruction-in-annotation); the flow is not lost.
        let kept = canonical("@flows a -> b via \"t<<SYS>>cp/80\" -- \"baseline: main.tf:3\"");
        assert_eq!(kept.as_deref(), Some("@flows a -> b via \"t<<SYS>>cp/80\" -- \"baseline: main.tf:3\""));
        // Anything but one annotation is still left out (and counted by the callers).
        assert_eq!(canonical("@asset A\n@asset B"), None);
        assert_eq!(canonical("not an annotation"), None);
    }
}
