//! Code actions: quick fixes for diagnostics and rewrites of annotations, as text edits.
//!
//! Every action is a list of [`Edit`]s (file, byte range, new text); nothing touches disk.
//! New annotation lines copy the comment style of the annotation they sit next to: its
//! indentation and comment marker (`    # `, `// `, ` * `; a `/* ... */` line stays a closed
//! block comment), and the file's line ending.
//!
//! - every diagnostic's own `fix` in range becomes a quick fix (the misspelt verb, the closest
//!   id of a dangling reference, when only one id is closest);
//! - `dangling-reference`: define the missing id right above the annotation (`@threat X (#x)`,
//!   or `@alias threat @x to X` for a legacy `@x`);
//! - `unmitigated-exposure`: add a `@mitigates` with a placeholder control below the exposure,
//!   or accept the risk with `@accepts`;
//! - ThreatSpec 0.1 annotations (`@connects @b:@c to @d:@e`) can be rewritten to GAL
//!   (`@flows B.C -> D.E`).
//! - an MCP tool definition ([`crate::syntax::mcp`]) is offered its suggested threats (tool
//!   poisoning, prompt injection via tool results, excessive agency), each an `@exposes` line
//!   above the definition; never added without the user choosing it.

use super::super::{Analysis, Relation};
use crate::diagnostic::{Code, Diagnostic, Edit};
use crate::model::{FileFacts, ProjectIndex};
use crate::syntax::{Annotation, Dialect, EntityKind};
use crate::text::TextRange;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActionKind {
    QuickFix,
    Refactor,
    RefactorRewrite,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    pub kind: ActionKind,
    pub edits: Vec<Edit>,
    /// Indexes into the `diagnostics` given to [`code_actions`] that this action fixes.
    pub diagnostics: Vec<usize>,
    /// The one obvious fix (editors apply it with a single key).
    pub preferred: bool,
}

/// Which dialect new annotations from code actions are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WriteDialect {
    /// The dialect of the annotation the action starts from.
    #[default]
    Auto,
    Gal,
    ThreatSpec,
}

/// Actions for `range` of `file`: fixes for the given diagnostics that touch the range, and
/// rewrites of the annotations that touch it.
pub fn code_actions(
    index: &ProjectIndex,
    analysis: &Analysis,
    diagnostics: &[Diagnostic],
    file: &str,
    range: TextRange,
) -> Vec<CodeAction> {
    code_actions_in(index, analysis, diagnostics, file, range, WriteDialect::Auto)
}

/// [`code_actions`] writing new annotations in `dialect`.
pub fn code_actions_in(
    index: &ProjectIndex,
    analysis: &Analysis,
    diagnostics: &[Diagnostic],
    file: &str,
    range: TextRange,
    dialect: WriteDialect,
) -> Vec<CodeAction> {
    let _ = analysis; // the diagnostics already carry what the fixes need
    let mut out = Vec::new();
    // A file without annotations (a template with `unmodelled-resource` notes) has no facts:
    // only the diagnostics' own fixes.
    let facts = index.file(file);
    for (i, d) in diagnostics.iter().enumerate() {
        // A sidecar finding is fixed from its `.gal` line too (where its annotation is).
        let on_sidecar = d.at_sidecar().filter(|s| s.file.as_str() == file);
        let d = on_sidecar.as_ref().unwrap_or(d);
        if d.file.as_str() != file || !overlaps(d.range, range) {
            continue;
        }
        if let Some(fix) = &d.fix {
            out.push(CodeAction {
                title: fix.label.clone(),
                kind: ActionKind::QuickFix,
                edits: fix.edits.clone(),
                diagnostics: vec![i],
                preferred: true,
            });
        }
        if d.sidecar.is_some() {
            // Reported at the anchored source: the annotation to rewrite is in the `.gal` file.
            continue;
        }
        let Some(facts) = facts else { continue };
        match d.code {
            Code::DanglingReference => out.extend(define_missing(facts, d, i)),
            Code::UnmitigatedExposure => out.extend(cover_exposure(facts, d, i, dialect)),
            _ => {}
        }
    }
    let Some(facts) = facts else { return out };
    out.extend(mcp_tool_threats(facts, range, dialect));
    for ann in facts.annotations() {
        if ann.dialect == Dialect::LegacyThreatSpec
            && overlaps(ann.range, range)
            && !facts.slice(ann.range).contains(['\n', '\r'])
            && let Some(new_text) = crate::syntax::canonical::to_gal(facts.text(), ann)
        {
            out.push(CodeAction {
                title: "Convert this comment to GAL syntax".into(),
                kind: ActionKind::RefactorRewrite,
                edits: vec![Edit { file: facts.path.clone(), range: ann.range, new_text }],
                diagnostics: Vec::new(),
                preferred: false,
            });
        }
    }
    out
}

fn overlaps(a: TextRange, b: TextRange) -> bool {
    a.start <= b.end && b.start <= a.end
}

/// "Define threat #x": a definition line above the annotation holding the dangling reference.
fn define_missing(facts: &FileFacts, d: &Diagnostic, i: usize) -> Option<CodeAction> {
    let (ann, fact) = facts
        .refs
        .iter()
        .enumerate()
        .find_map(|(a, refs)| refs.iter().find(|f| f.name_range == d.range).map(|f| (a, f)))?;
    let ann = &facts.annotations()[ann];
    let id = facts.slice(fact.name_range);
    let name = name_from_id(id);
    let legacy = fact.name_range.start() > 0 && facts.text().as_bytes()[fact.name_range.start() - 1] == b'@';
    let line = match (legacy, fact.kind) {
        (true, EntityKind::Asset) => format!("@alias component @{id} to {name}"),
        (true, EntityKind::Boundary) => format!("@alias boundary @{id} to {name}"),
        (true, _) => format!("@alias threat @{id} to {name}"),
        (false, EntityKind::Boundary) => return None,
        (false, kind) => format!("@{} {name} (#{id})", kind.as_str()),
    };
    Some(CodeAction {
        title: format!("Define {} #{id}", fact.kind.as_str()),
        kind: ActionKind::QuickFix,
        edits: vec![insert_line(facts, ann, &line, Where::Above)],
        diagnostics: vec![i],
        preferred: false,
    })
}

/// `csrf-token` -> `Csrf Token`.
fn name_from_id(id: &str) -> String {
    id.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// "Add @mitigates ..." and "Accept the risk ..." for an unmitigated exposure.
fn cover_exposure(facts: &FileFacts, d: &Diagnostic, i: usize, dialect: WriteDialect) -> Vec<CodeAction> {
    let Some((a, ann)) = facts.annotations().iter().enumerate().find(|(_, a)| a.range == d.range) else {
        return Vec::new();
    };
    let Some(Relation::Exposure { asset, threat }) = Relation::of_facts(facts, a) else {
        return Vec::new();
    };
    let (asset, threat) = (facts.slice(asset.range), facts.slice(threat.range));
    let gal = match dialect {
        WriteDialect::Auto => ann.dialect == Dialect::Gal,
        WriteDialect::Gal => true,
        WriteDialect::ThreatSpec => false,
    };
    let mitigates = if gal {
        format!("@mitigates {asset} against {threat} using #TODO-control")
    } else {
        format!("@mitigates {asset} against {threat} with #TODO-control")
    };
    let accepts = if gal {
        format!("@accepts {threat} on {asset} -- \"TODO: reason\"")
    } else {
        format!("@accepts {threat} to {asset} with TODO: reason")
    };
    vec![
        CodeAction {
            title: format!("Add @mitigates {asset} against {threat} using …"),
            kind: ActionKind::QuickFix,
            edits: vec![insert_line(facts, ann, &mitigates, Where::Below)],
            diagnostics: vec![i],
            preferred: true,
        },
        CodeAction {
            title: format!("Accept the risk (@accepts {threat} on {asset} -- \"reason\")"),
            kind: ActionKind::QuickFix,
            edits: vec![insert_line(facts, ann, &accepts, Where::Below)],
            diagnostics: vec![i],
            preferred: false,
        },
    ]
}

/// The threats suggested for every MCP tool: the threat's name and why, as the `@exposes`
/// description says it.
pub const MCP_TOOL_THREATS: [(&str, &str); 3] = [
    ("Tool poisoning", "its description steers the agent; review it and pin it (threat-analyzer mcp-pin)"),
    ("Prompt injection via tool results", "what it returns reaches the agent as context"),
    ("Excessive agency", "the agent may call it without a human approving each call"),
];

/// The suggested threats of each MCP tool whose definition touches `range`: an `@exposes` of
/// the tool (asset `Mcp.<tool>`) to each of [`MCP_TOOL_THREATS`], on a new comment line above
/// the definition in the host language's comment style.
fn mcp_tool_threats(facts: &FileFacts, range: TextRange, dialect: WriteDialect) -> Vec<CodeAction> {
    let marker = match facts.language {
        crate::syntax::Language::Python => "#",
        _ => "//",
    };
    let mut out = Vec::new();
    for tool in &facts.parsed.mcp().tools {
        if !overlaps(tool.range, range) {
            continue;
        }
        let segment: String =
            tool.name.value.chars().map(|c| if c.is_alphanumeric() || c == '_' { c } else { '_' }).collect();
        let text = facts.text();
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let line_start = text[..tool.range.start()].rfind(['\n', '\r']).map_or(0, |p| p + 1);
        let line = &text[line_start..];
        let indent = &line[..line.len() - line.trim_start().len()];
        for (threat, why) in MCP_TOOL_THREATS {
            let annotation = match dialect {
                WriteDialect::ThreatSpec => format!("@exposes Mcp:{segment} to {threat} with {why}"),
                _ => format!("@exposes Mcp.{segment} to {threat} -- \"{why}\""),
            };
            out.push(CodeAction {
                title: format!("Add threat to MCP tool `{}`: {threat}", tool.name.value),
                kind: ActionKind::Refactor,
                edits: vec![Edit {
                    file: facts.path.clone(),
                    range: TextRange::empty(line_start),
                    new_text: format!("{indent}{marker} {annotation}{eol}"),
                }],
                diagnostics: Vec::new(),
                preferred: false,
            });
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Where {
    Above,
    Below,
}

/// An edit that inserts `annotation` as a new comment line above or below `ann`, in the same
/// comment style.
fn insert_line(facts: &FileFacts, ann: &Annotation, annotation: &str, at: Where) -> Edit {
    let text = facts.text();
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let (prefix, suffix) = comment_style(text, ann.range.start());
    let line = format!("{prefix}{annotation}{suffix}");
    let (offset, new_text) = match at {
        Where::Above => {
            let start = text[..ann.range.start()].rfind(['\n', '\r']).map_or(0, |p| p + 1);
            (start, format!("{line}{eol}"))
        }
        Where::Below => {
            let end = ann.range.end();
            let line_end = text[end..].find(['\n', '\r']).map_or(text.len(), |p| end + p);
            (line_end, format!("{eol}{line}"))
        }
    };
    Edit { file: facts.path.clone(), range: TextRange::empty(offset), new_text }
}

/// The start and end a new annotation line needs to sit in the same comment as the annotation
/// whose `@` is at `at`: the line's indentation and comment marker, and ` */` for a block
/// comment that closes on the same line.
fn comment_style(text: &str, at: usize) -> (String, &'static str) {
    let line_start = text[..at].rfind(['\n', '\r']).map_or(0, |p| p + 1);
    let before = &text[line_start..at];
    let indent = &before[..before.len() - before.trim_start().len()];
    let rest = before.trim();
    // The comment marker is the run of marker characters just before the annotation (code may
    // precede it: `x = 1  # @audit App`).
    let marker_start = rest
        .char_indices()
        .rev()
        .find(|(_, c)| !matches!(c, '/' | '#' | '*' | '-' | ';' | '!' | '%'))
        .map_or(0, |(p, c)| p + c.len_utf8());
    let marker = &rest[marker_start..];
    if marker.starts_with("/*") {
        return (format!("{indent}/* "), " */");
    }
    let space = if marker.is_empty() { "" } else { " " };
    (format!("{indent}{marker}{space}"), "")
}
