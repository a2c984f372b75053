//! ThreatSpec 0.5 output: the files of its `threatmodel/` directory.
//!
//! - `threatmodel.json`: `{mitigations, exposures, transfers, acceptances, connections,
//!   reviews, tests, run_id}`. `details` is the ThreatSpec `with` text, else the `-- "..."`
//!   description (for reviews: the note), else empty. Exposures include `@confirmed` findings (with
//!   `custom.confirmed: true`). Each item holds entity ids, `details`, `description`, `custom`
//!   (`{"verb": ..., "refs": [...]}` plus `severity` when given) and
//!   `source{annotation, code, filename, line}`: the annotation as written, the source line
//!   holding it, the file (relative, `/`-separated) and its 1-based line.
//! - `threats.json`, `controls.json`, `components.json`: `{"<kind>": {"#id": {id, run_id,
//!   name, description, custom}}}`; components (assets and actors) add `paths` (the name split
//!   at `.`/`:`).
//!
//! Ids are `#` + [`threatspec_slug`](crate::model::names::threatspec_slug) of the entity key,
//! made unique (see [`super::Model::threatspec_id`]). A `@mitigates` without a control uses the
//! control `#unspecified_control` (listed in `controls.json`). Annotations with a dangling
//! argument are left out. `run_id` is derived from the model's content, so it changes exactly
//! when the model does.

use super::{Model, Relation, entity_text, object, uuid_for};
use crate::analysis::{Arg, Relation as Meaning};
use crate::syntax::{Body, EntityKind};
use serde_json::{Map, Value, json};

/// File name -> contents, in name order.
pub fn render(model: &Model) -> Vec<(&'static str, Value)> {
    let run_id = run_id(model);
    let mut lists: [(&str, Vec<Value>); 7] = [
        ("mitigations", vec![]),
        ("exposures", vec![]),
        ("transfers", vec![]),
        ("acceptances", vec![]),
        ("connections", vec![]),
        ("reviews", vec![]),
        ("tests", vec![]),
    ];
    let mut unspecified_control = false;
    for rel in &model.relations {
        let id = |a: Arg| a.entity().map(|e| model.threatspec_id(e));
        let text = |s: Option<&str>| s.unwrap_or("").to_string();
        let details = text(rel.details().or(rel.description()));
        let item = match rel.meaning {
            Meaning::Mitigation { asset, threat, control } => {
                let control = match control {
                    Some(c) => id(c),
                    None => {
                        unspecified_control = true;
                        Some("#unspecified_control".to_string())
                    }
                };
                let (Some(c), Some(a), Some(t)) = (control, id(asset), id(threat)) else { continue };
                Some((0, json!({"control": c, "threat": t, "component": a})))
            }
            Meaning::Exposure { asset, threat } | Meaning::Confirmation { threat, asset } => {
                let (Some(a), Some(t)) = (id(asset), id(threat)) else { continue };
                Some((1, json!({"threat": t, "component": a, "details": details})))
            }
            Meaning::Transfer { threat, from, to } => {
                // ThreatSpec 0.1's `@transfers T to A` names one component for both ends.
                let (Some(t), Some(s), Some(d)) = (id(threat), id(from.unwrap_or(to)), id(to)) else {
                    continue;
                };
                Some((
                    2,
                    json!({"threat": t, "source_component": s, "destination_component": d, "details": details}),
                ))
            }
            Meaning::Acceptance { threat, asset } => {
                let (Some(t), Some(a)) = (id(threat), id(asset)) else { continue };
                Some((3, json!({"threat": t, "component": a, "details": details})))
            }
            Meaning::Flow { from, to, two_way, mechanism, name } => {
                let (Some(s), Some(d)) = (id(from), id(to)) else { continue };
                let details = rel
                    .details()
                    .or(mechanism.map(|m| m.value.as_str()))
                    .or(name.map(|m| m.value.as_str()))
                    .unwrap_or("");
                let direction = if two_way { "with" } else { "to" };
                Some((
                    4,
                    json!({"source_component": s, "destination_component": d, "direction": direction, "details": details}),
                ))
            }
            Meaning::Audit { asset, note } => {
                let Some(a) = id(asset) else { continue };
                let details = note.map(|n| n.value.clone()).unwrap_or(details);
                Some((5, json!({"component": a, "details": details})))
            }
            Meaning::Validation { control, asset } => {
                let (Some(c), Some(a)) = (id(control), id(asset)) else { continue };
                Some((6, json!({"component": a, "control": c})))
            }
            _ => None,
        };
        let Some((list, mut item)) = item else { continue };
        let obj = item.as_object_mut().expect("built as an object");
        obj.insert("description".into(), Value::String(text(rel.description())));
        obj.insert("custom".into(), custom(rel));
        obj.insert("source".into(), source(rel));
        lists[list].1.push(item);
    }
    let mut threatmodel = Map::new();
    for (name, items) in lists {
        threatmodel.insert(name.to_string(), Value::Array(items));
    }
    threatmodel.insert("run_id".into(), Value::String(run_id.clone()));

    let table = |kinds: &[EntityKind], paths: bool| {
        let mut out = Map::new();
        for (e, info) in model.entities.iter().filter(|(e, _)| kinds.contains(&e.kind)) {
            let id = model.threatspec_id(e);
            let mut item = json!({
                "id": id,
                "run_id": run_id,
                "name": info.name,
                "description": info.description.clone().unwrap_or_default(),
                "custom": {"kind": e.kind.as_str(), "key": e.key},
            });
            if paths {
                let segments: Vec<&str> =
                    info.name.split(['.', ':']).map(str::trim).filter(|s| !s.is_empty()).collect();
                item["paths"] = json!([segments]);
            }
            out.insert(id, item);
        }
        out
    };
    let threats = table(&[EntityKind::Threat], false);
    let mut controls = table(&[EntityKind::Control], false);
    if unspecified_control {
        controls.insert(
            "#unspecified_control".into(),
            json!({
                "id": "#unspecified_control",
                "run_id": run_id,
                "name": "(unspecified control)",
                "description": "a @mitigates annotation that names no control",
                "custom": {},
            }),
        );
    }
    let components = table(&[EntityKind::Asset, EntityKind::Actor], true);
    vec![
        ("components.json", object([("components", Value::Object(components))])),
        ("controls.json", object([("controls", Value::Object(controls))])),
        ("threatmodel.json", Value::Object(threatmodel)),
        ("threats.json", object([("threats", Value::Object(threats))])),
    ]
}

fn custom(rel: &Relation) -> Value {
    let mut custom = json!({"verb": rel.kind(), "refs": rel.refs().collect::<Vec<_>>()});
    if let Some(sev) = &rel.ann.severity {
        custom["severity"] = Value::String(sev.value.as_str().to_string());
    }
    if matches!(rel.ann.body, Body::Confirmed { .. }) {
        custom["confirmed"] = Value::Bool(true);
    }
    custom
}

fn source(rel: &Relation) -> Value {
    json!({
        "annotation": rel.annotation_text(),
        "code": rel.code(),
        "filename": rel.file().to_string(),
        "line": rel.line(),
    })
}

/// A 32-hex-digit id derived from every relation and entity of the model.
fn run_id(model: &Model) -> String {
    let mut text = String::new();
    for rel in &model.relations {
        text.push_str(rel.file().as_str());
        text.push('\n');
        text.push_str(&rel.line().to_string());
        text.push('\n');
        text.push_str(rel.annotation_text());
        text.push('\n');
    }
    for e in model.entities.keys() {
        text.push_str(&entity_text(e));
        text.push('\n');
    }
    uuid_for("run", &text).replace('-', "")
}
