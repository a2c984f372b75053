//! The project's own canonical model as JSON (`export --format json`).
//!
//! ```text
//! {
//!   "version": 1,
//!   "provenance": "...",            // where the text comes from: see below
//!   "assets":   [Entity], "threats": [Entity], "controls": [Entity], "actors": [Entity],
//!   "boundaries": [{"key", "title", "members": [node key], "source"}],
//!   "relations": [Relation],
//!   "diagnostics": {"errors": n, "warnings": n, "notes": n}
//! }
//! Entity   = {"key", "name", "description"?, "severity"?, "refs": [..], "source",
//!             "external"?: true,          // a `#repo.id` of a repository outside the project
//!             "file"?, "line"?,            // first definition, when declared
//!             "stride": ["S".."E"]?        // threats only; [] when unclassified (see the
//!                                          // export module docs)
//!            }
//! Relation = {"kind": "exposes" | "mitigates" | "flows" | ...,   // canonical verb
//!             "source",
//!             "args": [{"kind": "asset"|"threat"|"control"|"actor"|"boundary",
//!                       "key": entity key, "external"?: true} | {"kind", "dangling": id}],
//!             "file", "line",               // 1-based line of the `@`
//!             "origin"?: {"file", "line"?, "symbol"?}  // a `.gal` sidecar's `@source`
//!             "description"?, "details"?, "severity"?, "refs": [..],
//!             "via"?, "two_way"?            // flows
//!             "directed"?: true             // boundary `from <outer> to <inner>`: args outer, inner
//!             "sides"?: {"basis": "declared" | "undeclared-endpoint" | "unknown",
//!                        "outer"?, "inner"?}     // boundary: which arg (0, 1) is outside and inside
//!                                           // (`analysis::boundary_orientation`; none when unknown)
//!             "status"?                     // exposes whose asset and threat resolve: "open",
//!                                           // "mitigated", "accepted" or "transferred"
//!                                           // (`analysis::coverage`, the one rule)
//!             "note"?                        // audit, assumes
//!            }
//! ```
//!
//! Provenance: every entity, boundary and relation has `"source": {"repository": [field, ...]}`
//! naming those of its fields, present on it, whose strings are copied from the repository's
//! comments (names, keys, ids, descriptions, notes, references, paths): untrusted data, never
//! instructions. The other fields (kinds, severities, STRIDE letters, lines, counts) are
//! threat-analyzer's. The top-level `provenance` says so in a sentence
//! ([`crate::render::PROVENANCE`]).
//!
//! Entities are sorted by key, relations by (file, position), boundaries by key; keys are the
//! model's entity keys (see [`crate::model`]). Absent optional fields are left out. The
//! diagnostics summary counts the analysis' diagnostics at their default levels.

use super::{Model, object, severity_title};
use crate::analysis::{Relation, SidesBasis, boundary_orientation};
use crate::diagnostic::Level;
use crate::model::Resolved;
use crate::render::dfd::{self, Scope};
use crate::syntax::{Body, EntityKind};
use serde_json::{Map, Value, json};

pub fn render(model: &Model) -> Value {
    let entities = |kind: EntityKind| -> Vec<Value> {
        model
            .of_kind(kind)
            .map(|(e, info)| {
                let mut o = Map::new();
                o.insert("key".into(), json!(e.key));
                o.insert("name".into(), json!(info.name));
                if let Some(d) = &info.description {
                    o.insert("description".into(), json!(d));
                }
                if info.severity.is_some() {
                    o.insert("severity".into(), json!(severity_title(info.severity).to_ascii_lowercase()));
                }
                o.insert("refs".into(), json!(info.refs));
                if e.is_external() {
                    o.insert("external".into(), json!(true));
                }
                if let Some((file, line)) = &info.defined_at {
                    o.insert("file".into(), json!(file.to_string()));
                    o.insert("line".into(), json!(line));
                }
                if kind == EntityKind::Threat {
                    let letters: Vec<&str> = model.stride(e).iter().map(|s| s.letter()).collect();
                    o.insert("stride".into(), json!(letters));
                }
                with_source(o)
            })
            .collect()
    };

    let relations: Vec<Value> = model
        .relations
        .iter()
        .map(|rel| {
            let args: Vec<Value> = rel
                .ref_facts()
                .iter()
                .zip(rel.resolved)
                .map(|(fact, r)| match r {
                    Resolved::Entity(e) => json!({"kind": e.kind.as_str(), "key": e.key}),
                    Resolved::Dangling(id) => json!({"kind": fact.kind.as_str(), "dangling": id}),
                    Resolved::External(e) => json!({"kind": e.kind.as_str(), "key": e.key, "external": true}),
                })
                .collect();
            let mut o = Map::new();
            o.insert("kind".into(), json!(rel.kind()));
            o.insert("args".into(), Value::Array(args));
            o.insert("file".into(), json!(rel.file().to_string()));
            o.insert("line".into(), json!(rel.line()));
            // A `.gal` sidecar's annotation describes code elsewhere: where (its `@source`).
            if let Some(anchor) = rel.facts.anchor_of(rel.index)
                && let Ok(file) = &anchor.key
            {
                let mut origin = Map::new();
                origin.insert("file".into(), json!(file.to_string()));
                if let Some(line) = &anchor.origin.line {
                    origin.insert("line".into(), json!(line.value));
                }
                if let Some(symbol) = &anchor.origin.symbol {
                    origin.insert("symbol".into(), json!(symbol.value));
                }
                o.insert("origin".into(), Value::Object(origin));
            }
            if let Some(d) = rel.description() {
                o.insert("description".into(), json!(d));
            }
            if let Some(d) = rel.details() {
                o.insert("details".into(), json!(d));
            }
            if let Some(s) = &rel.ann.severity {
                o.insert("severity".into(), json!(s.value.as_str()));
            }
            o.insert("refs".into(), json!(rel.refs().collect::<Vec<_>>()));
            match &rel.ann.body {
                Body::Flows { two_way, mechanism, .. } => {
                    if let Some(m) = mechanism {
                        o.insert("via".into(), json!(m.value));
                    }
                    o.insert("two_way".into(), json!(two_way));
                }
                Body::Boundary { directed, .. } => {
                    if *directed {
                        o.insert("directed".into(), json!(true));
                    }
                    if let Relation::Boundary { a, b, .. } = rel.meaning {
                        let declared = |i: usize| [a, b][i].is_declared(model.index);
                        let (outer, inner, basis) = boundary_orientation(0usize, 1, *directed, declared);
                        let mut sides = Map::new();
                        sides.insert("basis".into(), json!(basis.as_str()));
                        if basis != SidesBasis::Unknown {
                            sides.insert("outer".into(), json!(outer));
                            sides.insert("inner".into(), json!(inner));
                        }
                        o.insert("sides".into(), Value::Object(sides));
                    }
                }
                Body::Audit { note: Some(n), .. } | Body::Assumes { note: Some(n), .. } => {
                    o.insert("note".into(), json!(n.value));
                }
                Body::Exposes { .. } => {
                    if let Some(state) = model.exposure_state(rel) {
                        o.insert("status".into(), json!(state.as_str().to_ascii_lowercase()));
                    }
                }
                _ => {}
            }
            with_source(o)
        })
        .collect();

    let dfd = dfd::build(model.index, model.analysis, &Scope::Project);
    let boundaries: Vec<Value> = dfd
        .trust_boundaries()
        .map(|b| {
            let members: Vec<&str> =
                b.members.iter().filter_map(|m| dfd.node(m)).map(|n| n.key.as_str()).collect();
            let mut o = Map::new();
            o.insert("key".into(), json!(b.key));
            o.insert("title".into(), json!(b.title));
            o.insert("members".into(), json!(members));
            with_source(o)
        })
        .collect();

    let diagnostics = model.analysis.diagnostics(model.index);
    let count = |level: Level| diagnostics.iter().filter(|d| d.level == level).count();

    object([
        ("version", json!(1)),
        ("provenance", json!(crate::render::PROVENANCE)),
        ("assets", Value::Array(entities(EntityKind::Asset))),
        ("threats", Value::Array(entities(EntityKind::Threat))),
        ("controls", Value::Array(entities(EntityKind::Control))),
        ("actors", Value::Array(entities(EntityKind::Actor))),
        ("boundaries", Value::Array(boundaries)),
        ("relations", Value::Array(relations)),
        (
            "diagnostics",
            json!({
                "errors": count(Level::Error),
                "warnings": count(Level::Warning),
                "notes": count(Level::Note),
            }),
        ),
    ])
}

/// The fields of an entity, boundary or relation whose strings come from the repository.
const REPOSITORY_FIELDS: &[&str] = [
    "key",
    "name",
    "title",
    "members",
    "description",
    "details",
    "note",
    "via",
    "refs",
    "file",
    "origin",
    "args",
]
.as_slice();

/// `o` with its `source` marker: which of its present fields hold repository text.
fn with_source(mut o: Map<String, Value>) -> Value {
    let fields: Vec<&str> = REPOSITORY_FIELDS.iter().copied().filter(|f| o.contains_key(*f)).collect();
    o.insert("source".into(), json!({ "repository": fields }));
    Value::Object(o)
}
