//! The MCP server's answers as JSON values: the structured content of each tool's result.
//!
//! Owns: the shape of every answer (summary, query, file context, entity, check, validation,
//! diff, proposed edit), the marking
//! of repository text and the bounds on answer sizes. Must never: compute what the answers say
//! (that is `analysis`), or know the protocol (the `mcp` shell wraps these values).
//!
//! # Repository text is data
//!
//! Every string that comes from the scanned repository (names, ids, descriptions, notes,
//! owners, paths, severities as written, diagnostic messages quoting them) is a field of an
//! object marked `"source": "repository"` (`{"source": "repository", "text": ...}`, a
//! location `{"source": "repository", "file": ..., "line": ...}`), never concatenated into a
//! sentence of ours, and each answer carries [`super::PROVENANCE`]. Strings pass through
//! [`clean_agent_strings`] (no control, bidi or invisible character: [`crate::text::for_agent`]) and a
//! repository text longer than [`MAX_TEXT_CHARS`] is cut, with `"truncated": true`.
//!
//! # Bounds
//!
//! A hostile repository can hold 100,000 annotations: every list is cut at [`MAX_ITEMS`] and
//! says so (`{"items": [...], "total": N, "omitted": M}`).

use super::dfd::Dfd;
use super::diff::Sides;
use super::{PROVENANCE, locate};
use crate::analysis::diff::ModelDiff;
use crate::analysis::query::{Answer, EntityInfo, FORMS, FileContext, Hit, QueryError, Validation};
use crate::analysis::status::{BySeverity, Status};
use crate::diagnostic::Diagnostic;
use crate::file_id::FileId;
use crate::model::ProjectIndex;
use crate::text::TextRange;
use serde_json::{Value, json};
use std::path::Path;

/// The most items any list of an answer holds.
pub const MAX_ITEMS: usize = 200;

/// The most characters of one repository text an answer holds.
pub const MAX_TEXT_CHARS: usize = 500;

/// A piece of repository text, marked as data.
pub fn repository_text(text: &str) -> Value {
    let mut chars = text.char_indices();
    match chars.nth(MAX_TEXT_CHARS) {
        Some((cut, _)) => json!({"source": "repository", "text": &text[..cut], "truncated": true}),
        None => json!({"source": "repository", "text": text}),
    }
}

/// Where something is written: the file as the index shows it, 1-based line and column.
pub fn location(index: &ProjectIndex, file: &FileId, range: TextRange) -> Value {
    let at = locate(index, file, range);
    let shown = index.shown_path(file.as_str());
    let mut value = repository_text(shown);
    let object = value.as_object_mut().expect("an object");
    let path = object.remove("text").unwrap_or_default();
    object.insert("file".into(), path);
    object.insert("line".into(), json!(at.line));
    object.insert("column".into(), json!(at.column));
    value
}

/// At most [`MAX_ITEMS`] of `items`, with how many there were.
pub fn bounded<T>(items: impl IntoIterator<Item = T>, mut show: impl FnMut(T) -> Value) -> Value {
    let mut total = 0;
    let mut shown = Vec::new();
    for item in items {
        if total < MAX_ITEMS {
            shown.push(show(item));
        }
        total += 1;
    }
    json!({"items": shown, "total": total, "omitted": total - shown.len()})
}

/// One relation: its verb, location, arguments by role, an exposure's state and severity, and
/// the annotation's description.
pub fn hit(index: &ProjectIndex, hit: &Hit) -> Value {
    let args: Vec<Value> = hit
        .args
        .iter()
        .map(|(role, text)| {
            let mut value = repository_text(text);
            value.as_object_mut().expect("an object").insert("role".into(), json!(role));
            value
        })
        .collect();
    let mut value =
        json!({"verb": hit.verb, "location": location(index, &hit.file, hit.range), "args": args});
    let object = value.as_object_mut().expect("an object");
    if let Some(state) = hit.state {
        object.insert("state".into(), json!(state));
    }
    if let Some(severity) = &hit.severity {
        object.insert("severity".into(), repository_text(severity));
    }
    if let Some(description) = &hit.description {
        object.insert("description".into(), repository_text(description));
    }
    value
}

/// Wraps an answer: its provenance, every string cleaned for an agent
/// ([`crate::text::for_agent`]).
fn finish(mut value: Value) -> Value {
    if let Some(object) = value.as_object_mut() {
        object.insert("provenance".into(), json!(PROVENANCE));
    }
    clean_agent_strings(&mut value);
    value
}

/// [`crate::text::for_agent`] on every string (keys included) of `value`.
pub fn clean_agent_strings(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(clean) = crate::text::for_agent(s) {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(clean_agent_strings),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut v) in entries {
                clean_agent_strings(&mut v);
                map.insert(crate::text::for_agent(&key).into_owned(), v);
            }
        }
        _ => {}
    }
}

fn by_severity(counts: &BySeverity) -> Value {
    json!({
        "critical": counts.critical,
        "high": counts.high,
        "medium": counts.medium,
        "low": counts.low,
        "unstated": counts.unstated,
    })
}

/// Diagnostic counts by level.
fn levels<D: std::borrow::Borrow<Diagnostic>>(diagnostics: &[D]) -> Value {
    let count = |level: &str| diagnostics.iter().filter(|d| d.borrow().level.as_str() == level).count();
    json!({"error": count("error"), "warning": count("warning"), "note": count("note")})
}

/// The `summary` tool: counts of the model and what is left open, and `notes`: what the walk
/// could not apply or read (refused configuration files, project limits; they name paths).
pub fn summary(status: &Status, diagnostics: &[Diagnostic], notes: &[String]) -> Value {
    let e = &status.exposures;
    let names = |list: &[String]| bounded(list.iter(), |n| repository_text(n));
    finish(json!({
        "files": {"scanned": status.files.scanned, "annotated": status.files.annotated},
        "annotations": status.annotations,
        "annotations_by_verb": status.annotations_by_verb,
        "exposures": {
            "total": e.total,
            "unresolved": e.unresolved,
            "open": e.by_state.open,
            "mitigated": e.by_state.mitigated,
            "accepted": e.by_state.accepted,
            "transferred": e.by_state.transferred,
        },
        "open_exposures_by_severity": by_severity(&e.open_by_severity),
        "assets_without_threats": names(&status.assets_without_threats),
        "threats_without_mitigation": names(&status.threats_without_mitigation),
        "ownership": {"assets": status.ownership.assets, "owned": status.ownership.owned},
        "diagnostics": levels(diagnostics),
        "notes": names(notes),
    }))
}

/// The `query` tool: what the query named and found, or the supported forms.
pub fn query(index: &ProjectIndex, asked: &str, answer: Result<&Answer, &QueryError>) -> Value {
    finish(match answer {
        Err(error) => json!({
            "query": repository_text(asked),
            "error": error.message,
            "supported_forms": FORMS,
        }),
        Ok(answer) => json!({
            "query": repository_text(asked),
            "named": answer.named.iter().map(|(written, name, known)| {
                json!({"as_written": repository_text(written), "name": repository_text(name), "known": known})
            }).collect::<Vec<_>>(),
            "results": bounded(&answer.hits, |h| hit(index, h)),
        }),
    })
}

/// The `entity` tool: `None` when the project neither defines nor references the entity.
pub fn entity(index: &ProjectIndex, asked: &str, info: Option<&EntityInfo>) -> Value {
    finish(match info {
        None => json!({"entity": repository_text(asked), "found": false}),
        Some(info) => json!({
            "entity": repository_text(asked),
            "found": true,
            "kind": info.key.kind.as_str(),
            "name": repository_text(&info.name),
            "defined": !info.definitions.is_empty(),
            "definitions": bounded(&info.definitions, |(file, range)| location(index, file, *range)),
            "references": bounded(&info.references, |(file, range)| location(index, file, *range)),
            "relations": bounded(&info.relations, |h| hit(index, h)),
            "open_exposures": info.relations.iter().filter(|h| h.state == Some("open")).count(),
        }),
    })
}

/// What the server knows of a path a tool was asked about.
pub enum FileState<'a> {
    /// No such file.
    NotFound,
    /// The file exists but the walk does not read it; why (threat-analyzer's words).
    NotScanned(String),
    /// Read, and it holds no annotation.
    NoAnnotations,
    /// Read, with annotations: their context.
    Annotated(&'a FileContext),
}

/// The `file_context` tool.
pub fn file_context(index: &ProjectIndex, asked: &str, state: FileState) -> Value {
    let path = repository_text(asked);
    finish(match state {
        FileState::NotFound => json!({"path": path, "status": "not found"}),
        FileState::NotScanned(why) => {
            json!({"path": path, "status": "not scanned", "reason": repository_text(&why)})
        }
        FileState::NoAnnotations => json!({"path": path, "status": "no annotations"}),
        FileState::Annotated(context) => json!({
            "path": path,
            "status": "annotated",
            "annotations": bounded(&context.annotations, |h| hit(index, h)),
            "entities": bounded(&context.entities, |(kind, name)| {
                json!({"kind": kind.as_str(), "name": repository_text(name)})
            }),
            "open_exposures": bounded(
                context.annotations.iter().filter(|h| h.state == Some("open")),
                |h| hit(index, h),
            ),
            "neighbours": bounded(&context.neighbours, |h| hit(index, h)),
        }),
    })
}

/// The `check` tool: diagnostics (already filtered to the path asked about, if any), in the
/// order given.
pub fn check(index: &ProjectIndex, diagnostics: &[&Diagnostic]) -> Value {
    finish(json!({
        "counts": levels(diagnostics),
        "diagnostics": bounded(diagnostics, |d| diagnostic(index, d)),
    }))
}

/// One diagnostic: code, level, location, and its message (which quotes repository text).
fn diagnostic(index: &ProjectIndex, d: &Diagnostic) -> Value {
    json!({
        "code": d.code.as_str(),
        "level": d.level.as_str(),
        "location": location(index, &d.file, d.range),
        "message": repository_text(&d.message),
    })
}

/// The `validate_annotation` tool: each proposed annotation as it would be read (with its
/// verb's canonical spelling and the whole line's canonical GAL spelling, `null` when GAL
/// cannot say the same thing) and the diagnostics the lines would get; `valid` when no error.
pub fn validation(index: &ProjectIndex, asked: &str, validation: &Validation) -> Value {
    let errors = validation.diagnostics.iter().filter(|d| d.level.as_str() == "error").count();
    finish(json!({
        "path": repository_text(asked),
        "valid": errors == 0 && !validation.annotations.is_empty(),
        "annotations": bounded(&validation.annotations, |(h, written, canonical, line)| {
            let mut value = hit(index, h);
            let object = value.as_object_mut().expect("an object");
            object.insert("verb_as_written".into(), repository_text(written));
            object.insert("canonical_verb".into(), json!(canonical));
            object.insert("canonical".into(), line.as_deref().map_or(Value::Null, repository_text));
            value
        }),
        "diagnostics": bounded(&validation.diagnostics, |d| diagnostic(index, d)),
    }))
}

/// An edit `propose_annotation_edit` made or would make: the file as asked for, the 1-based
/// line the text goes above (column 1), the text, and the checks beyond the diagnostics.
pub struct ProposedEdit<'a> {
    pub file: &'a str,
    pub line: usize,
    pub text: &'a str,
    /// Every proposed line was read as an annotation.
    pub every_line_read: bool,
    /// The file's other annotations are all still read.
    pub others_kept: bool,
    /// Every check passed (the caller's rule: which diagnostics block an edit).
    pub valid: bool,
    /// The edit was written.
    pub applied: bool,
}

/// The `propose_annotation_edit` tool: the edit, whether it is valid and was written, and the
/// proposed annotations and their diagnostics (as `validate_annotation` answers them). The
/// text is the agent's own, echoed.
pub fn proposed_edit(index: &ProjectIndex, edit: &ProposedEdit, checked: &Validation) -> Value {
    let mut value = validation(index, edit.file, checked);
    let object = value.as_object_mut().expect("an object");
    let at = json!({"line": edit.line, "column": 1});
    object.insert("valid".into(), json!(edit.valid));
    object.insert("applied".into(), json!(edit.applied));
    object.insert(
        "edit".into(),
        json!({"file": repository_text(edit.file), "range": {"start": at, "end": at}, "text": edit.text}),
    );
    if !edit.every_line_read {
        object.insert("not_read".into(), json!("some proposed lines would not be read as annotations there"));
    }
    if !edit.others_kept {
        object.insert(
            "disturbs".into(),
            json!("the edit would change how the file's other annotations are read"),
        );
    }
    finish(value)
}

/// The keys of a `diff` change (and of its `related` places) whose values are repository text.
const DIFF_REPOSITORY_KEYS: &[&str] = &[
    "file",
    "message",
    "severity_word",
    "previous_severity_word",
    "asset",
    "threat",
    "control",
    "from",
    "to",
    "name",
    "previous_name",
    "note",
];

/// Marks the repository text of one change or related place: each string of
/// [`DIFF_REPOSITORY_KEYS`] becomes a [`repository_text`] (the message too: it quotes names).
fn mark_diff_fields(value: &mut Value) {
    let Some(object) = value.as_object_mut() else { return };
    for (key, field) in object.iter_mut() {
        match field {
            Value::String(text) if DIFF_REPOSITORY_KEYS.contains(&key.as_str()) => {
                *field = repository_text(text);
            }
            // A flow's boundaries: their titles, or null outside any.
            Value::Object(crosses) if key == "crosses" => {
                for end in crosses.values_mut() {
                    if let Value::String(text) = end {
                        *end = repository_text(text);
                    }
                }
            }
            Value::Array(related) if key == "related" => related.iter_mut().for_each(mark_diff_fields),
            _ => {}
        }
    }
}

/// The `diff` tool: the document `threat-analyzer diff --format json` writes
/// ([`super::diff::json`]: provenance, root, base, head, verdict, summary, changes) with every
/// repository text marked: a side's label and commit summary, and each change's file, names,
/// notes and message; `changes` bounded like every list here.
pub fn diff(diff: &ModelDiff, sides: &Sides, root: &Path) -> Value {
    let mut doc: Value = serde_json::from_str(&super::diff::json(diff, sides, root)).unwrap_or_default();
    let Some(object) = doc.as_object_mut() else { return finish(json!({})) };
    if let Some(Value::String(root)) = object.get("root") {
        let root = repository_text(root);
        object.insert("root".into(), root);
    }
    for side in ["base", "head"] {
        if let Some(Value::Object(side)) = object.get_mut(side) {
            for key in ["label", "summary"] {
                if let Some(Value::String(text)) = side.get(key) {
                    let text = repository_text(text);
                    side.insert(key.into(), text);
                }
            }
        }
    }
    if let Some(Value::Array(changes)) = object.remove("changes") {
        let changes = bounded(changes, |mut change| {
            mark_diff_fields(&mut change);
            change
        });
        object.insert("changes".into(), changes);
    }
    finish(doc)
}

/// A threat-modelling phase: its prompt name, what it asks of the model, the verbs that count
/// as its evidence, and the annotation syntax that adds it.
pub struct Phase {
    pub name: &'static str,
    pub title: &'static str,
    pub verbs: &'static [&'static str],
    pub syntax: &'static [&'static str],
}

/// The nine phases of a threat model (AWS's threat-modelling guidance), each read from the
/// annotations that record it.
pub const PHASES: &[Phase] = &[
    Phase {
        name: "business-context",
        title: "Business context: who owns each asset and what data it handles",
        verbs: &["owns", "handles", "assumes"],
        syntax: &[
            "@owns <team> for <asset>",
            "@handles <pii|financial|secrets|...> on <asset>",
            "@assumes <asset> -- \"<assumption>\"",
        ],
    },
    Phase {
        name: "architecture",
        title: "Architecture: the assets and components of the system",
        verbs: &["asset", "describe", "alias"],
        syntax: &["@asset <Dotted.Path> (#id) -- \"<what it is>\""],
    },
    Phase {
        name: "threat-actors",
        title: "Threat actors: who can act on the system",
        verbs: &["actor", "entitles"],
        syntax: &["@actor <Name> (#id) -- \"<who>\"", "@entitles <actor> to <capability> on <asset>"],
    },
    Phase {
        name: "trust-boundaries",
        title: "Trust boundaries: where trust changes between assets",
        verbs: &["boundary"],
        syntax: &["@boundary between <asset> and <asset> (#id)"],
    },
    Phase {
        name: "asset-flows",
        title: "Asset flows: how data moves between assets",
        verbs: &["flows"],
        syntax: &["@flows <asset> -> <asset> via <mechanism>"],
    },
    Phase {
        name: "threats",
        title: "Threats: what can go wrong, and where",
        verbs: &["threat", "exposes", "confirmed"],
        syntax: &[
            "@threat <Name> (#id) [low|medium|high|critical]",
            "@exposes <asset> to #<threat> -- \"<why>\"",
        ],
    },
    Phase {
        name: "mitigations",
        title: "Mitigations: the controls that answer each threat",
        verbs: &["control", "mitigates"],
        syntax: &["@control <Name> (#id)", "@mitigates <asset> against #<threat> using #<control>"],
    },
    Phase {
        name: "code-validation",
        title: "Code validation: tests and checks that prove the controls",
        verbs: &["validates", "tests"],
        syntax: &["@validates #<control> for <asset>"],
    },
    Phase {
        name: "residual-risk",
        title: "Residual risk: what is accepted, transferred or left open, and its review",
        verbs: &["accepts", "transfers", "audit"],
        syntax: &[
            "@transfers #<threat> from <asset> to <asset>",
            "@audit <asset> -- \"<what to review>\"",
            "@accepts #<threat> on <asset> (a human decision: never written by an agent)",
        ],
    },
];

/// What the model holds and lacks for one phase: the data a phase prompt carries.
pub fn phase(status: &Status, phase: &Phase) -> Value {
    let names = |list: &[String]| bounded(list.iter(), |n| repository_text(n));
    let present: serde_json::Map<String, Value> = phase
        .verbs
        .iter()
        .map(|v| (v.to_string(), json!(status.annotations_by_verb.get(v).copied().unwrap_or(0))))
        .collect();
    let e = &status.exposures;
    let missing = match phase.name {
        "business-context" => json!({"assets_without_owner": names(&status.ownership.unowned)}),
        "threats" => json!({"assets_without_threats": names(&status.assets_without_threats)}),
        "mitigations" => json!({
            "threats_without_mitigation": names(&status.threats_without_mitigation),
            "open_exposures": e.by_state.open,
        }),
        "residual-risk" => json!({"open_exposures_by_severity": by_severity(&e.open_by_severity)}),
        _ => json!({}),
    };
    finish(json!({
        "phase": phase.name,
        "title": phase.title,
        "annotations_present": present,
        "missing": missing,
        "annotation_syntax": phase.syntax,
    }))
}

/// The `dfd` tool: the diagram in Mermaid ([`super::mermaid`], which escapes its labels),
/// marked as repository text, or why it is too large to draw.
pub fn dfd(dfd: &Dfd) -> Value {
    let mut value = json!({"format": "mermaid", "nodes": dfd.nodes.len(), "flows": dfd.edges.len()});
    let object = value.as_object_mut().expect("an object");
    match dfd.too_large() {
        Some(why) => {
            object.insert("too_large".into(), json!(why));
        }
        // Not cut at MAX_TEXT_CHARS: the diagram's size is bounded by its own limits.
        None => {
            object.insert(
                "diagram".into(),
                json!({"source": "repository", "text": super::mermaid::render(dfd)}),
            );
        }
    }
    finish(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_repository_text_is_cut_and_says_so() {
        let long = "é".repeat(MAX_TEXT_CHARS + 10);
        let value = repository_text(&long);
        assert_eq!(value["text"].as_str().unwrap().chars().count(), MAX_TEXT_CHARS);
        assert_eq!(value["truncated"], json!(true));
        assert_eq!(repository_text("short"), json!({"source": "repository", "text": "short"}));
    }

    #[test]
    fn answers_hide_nothing_invisible_from_an_agent() {
        let value = finish(json!({"a\u{200b}": repository_text("x\u{e0041}\u{202e}y\u{1b}[2J")}));
        let text = value.to_string();
        for c in ['\u{200b}', '\u{e0041}', '\u{202e}', '\u{1b}'] {
            assert!(!text.contains(c), "{c:?} in {text}");
        }
        assert_eq!(value["a\u{fffd}"]["text"], json!("x\u{fffd}\u{fffd}y\u{fffd}[2J"));
    }

    #[test]
    fn lists_are_bounded_and_count_what_they_leave_out() {
        let value = bounded(0..MAX_ITEMS + 5, |i| json!(i));
        assert_eq!(value["items"].as_array().unwrap().len(), MAX_ITEMS);
        assert_eq!(value["total"], json!(MAX_ITEMS + 5));
        assert_eq!(value["omitted"], json!(5));
    }
}
