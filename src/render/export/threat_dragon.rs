//! OWASP Threat Dragon v2 model: one STRIDE diagram of the whole project, built from the
//! data-flow diagram model ([`crate::render::dfd`], [`Scope::Project`]).
//!
//! - Nodes become `tm.Actor` (`actor`), `tm.Process` (`process`) or `tm.Store` (`store`) cells;
//!   flows become `tm.Flow` cells whose `source.cell`/`target.cell` are node cell ids (two-way
//!   flows are bidirectional); each trust boundary becomes a `tm.BoundaryBox` cell enclosing its
//!   members.
//! - Layout: one column block per boundary (nodes outside every boundary first), members in a
//!   grid of at most [`COLUMNS`] columns on a fixed pitch, blocks side by side with a gap; so
//!   no two nodes overlap and every box holds exactly its members.
//! - Threats sit under `data.threats` of the node they concern (Threat Dragon reads them there,
//!   whatever the schema says), one per distinct threat: `type` is the first STRIDE category
//!   (see [`super`]; empty, no category chosen, when the threat is unclassified), `status` Open/Mitigated/Accepted/Transferred (see [`super`]), `severity`
//!   the highest effective severity of the node's exposures of it (the analysis' rule: the
//!   exposure's own, else the threat's), else the threat's, else the band of its highest rated
//!   risk (info as low), else `TBD`; `score` the highest likelihood × impact score of the
//!   node's rated exposures and findings of it (empty when none is rated: no score is
//!   invented from a severity), `description` the threat's description and where
//!   it is exposed, `mitigation` the controls and notes of the `@mitigates`/`@accepts`/
//!   `@transfers` annotations that cover it. `data.hasOpenThreats` is true when one is Open.
//! - Cell and threat ids are UUIDs derived from node keys and (node, threat) keys. Nullable
//!   properties are left out rather than written as `null`.

use super::{
    ExportOptions, Model, ThreatState, entity_text, export_description, object, severity_title, uuid_for,
};
use crate::analysis::Relation;
use crate::model::EntityKey;
use crate::model::risk::{Band, RiskPolicy};
use crate::render::dfd::{self, ElementKind, Scope};
use crate::syntax::{EntityKind, Severity};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Nodes per row inside one block.
pub const COLUMNS: usize = 3;
/// Horizontal and vertical distance between node slots.
pub const PITCH_X: f64 = 220.0;
pub const PITCH_Y: f64 = 160.0;
/// Space between a boundary box and its members.
pub const PADDING: f64 = 40.0;
/// Space between blocks.
pub const GAP: f64 = 120.0;

const VERSION: &str = "2.6.2";

fn size(kind: ElementKind) -> (f64, f64) {
    match kind {
        ElementKind::Actor => (160.0, 80.0),
        ElementKind::Process => (100.0, 100.0),
        ElementKind::DataStore => (160.0, 75.0),
    }
}

pub fn render(model: &Model, options: &ExportOptions) -> Value {
    render_with_risk(model, options, &RiskPolicy::default())
}

/// [`render`] with the project's risk policy (for the bands of rated threats).
pub fn render_with_risk(model: &Model, options: &ExportOptions, policy: &RiskPolicy) -> Value {
    let dfd = dfd::build(model.index, model.analysis, &Scope::Project);
    let mut threats = threats_by_node(model, policy);

    let cell_id = |node_key: &str| uuid_for("td-node", node_key);
    let mut by_id: BTreeMap<&str, &dfd::Node> = BTreeMap::new();
    for n in &dfd.nodes {
        by_id.insert(n.id.as_str(), n);
    }

    // Blocks: nodes outside any trust boundary, then each trust boundary in id order
    // (component groups of ThreatSpec paths are not trust boundaries: their nodes are outside).
    let mut blocks: Vec<(Option<&dfd::BoundaryGroup>, Vec<&dfd::Node>)> = Vec::new();
    let bounded: BTreeSet<&str> =
        dfd.trust_boundaries().flat_map(|b| b.members.iter().map(String::as_str)).collect();
    let outside: Vec<&dfd::Node> = dfd.nodes.iter().filter(|n| !bounded.contains(n.id.as_str())).collect();
    if !outside.is_empty() {
        blocks.push((None, outside));
    }
    for b in dfd.trust_boundaries() {
        let members: Vec<&dfd::Node> =
            b.members.iter().filter_map(|m| by_id.get(m.as_str()).copied()).collect();
        blocks.push((Some(b), members));
    }

    let mut cells = Vec::new();
    let mut number = 0u64;
    let mut x0 = 40.0;
    for (boundary, members) in &blocks {
        let y0 = 40.0 + PADDING;
        let bx = x0;
        let inner_x = x0 + PADDING;
        let cols = members.len().clamp(1, COLUMNS);
        let rows = members.len().div_ceil(COLUMNS).max(1);
        for (i, n) in members.iter().enumerate() {
            let (w, h) = size(n.kind);
            let x = inner_x + (i % COLUMNS) as f64 * PITCH_X;
            let y = y0 + (i / COLUMNS) as f64 * PITCH_Y;
            let node_threats = threats.remove(&n.key).unwrap_or_default();
            let open = node_threats.iter().any(|(state, _)| *state == ThreatState::Open);
            let threat_values: Vec<Value> = node_threats
                .into_iter()
                .map(|(_, mut t)| {
                    number += 1;
                    t["number"] = json!(number);
                    t
                })
                .collect();
            let (shape, ty) = match n.kind {
                ElementKind::Actor => ("actor", "tm.Actor"),
                ElementKind::Process => ("process", "tm.Process"),
                ElementKind::DataStore => ("store", "tm.Store"),
            };
            let mut data = json!({
                "type": ty,
                "name": n.label,
                "description": "",
                "outOfScope": false,
                "reasonOutOfScope": "",
                "isTrustBoundary": false,
                "hasOpenThreats": open,
                "threats": null,
            });
            data["threats"] = Value::Array(threat_values);
            match n.kind {
                ElementKind::Actor => data["providesAuthentication"] = json!(false),
                ElementKind::Process => data["privilegeLevel"] = json!(""),
                ElementKind::DataStore => {
                    for k in ["isALog", "isEncrypted", "isSigned", "storesCredentials", "storesInventory"] {
                        data[k] = json!(false);
                    }
                }
            }
            let mut cell = json!({
                "id": cell_id(&n.key),
                "shape": shape,
                "zIndex": 1,
                "position": {"x": x, "y": y},
                "size": {"width": w, "height": h},
                "attrs": {"text": {"text": n.label}},
                "data": null,
            });
            cell["data"] = data;
            cells.push(cell);
        }
        let width = (cols as f64 - 1.0) * PITCH_X + 160.0 + 2.0 * PADDING;
        let height = (rows as f64 - 1.0) * PITCH_Y + 100.0 + 2.0 * PADDING;
        if let Some(b) = boundary {
            cells.push(json!({
                "id": uuid_for("td-boundary", &b.key),
                "shape": "trust-boundary-box",
                "zIndex": -1,
                "position": {"x": bx, "y": 40.0},
                "size": {"width": width, "height": height},
                "attrs": {"label": {"text": b.title}},
                "data": {
                    "type": "tm.BoundaryBox",
                    "name": b.title,
                    "description": "",
                    "isTrustBoundary": true,
                    "hasOpenThreats": false,
                },
            }));
        }
        x0 += width + GAP;
    }

    for e in &dfd.edges {
        let (Some(from), Some(to)) = (by_id.get(e.from.as_str()), by_id.get(e.to.as_str())) else { continue };
        let label = e.label.clone().unwrap_or_default();
        let key = format!("{}\n{}\n{}\n{}", from.key, to.key, label, e.two_way);
        let source_marker = if e.two_way { "block" } else { "" };
        let mut cell = json!({
            "id": uuid_for("td-flow", &key),
            "shape": "flow",
            "zIndex": 10,
            "source": {"cell": cell_id(&from.key)},
            "target": {"cell": cell_id(&to.key)},
            "attrs": {"line": {
                "stroke": "#333333",
                "strokeWidth": 1.5,
                "targetMarker": {"name": "block"},
                "sourceMarker": {"name": source_marker},
            }},
            "data": {
                "type": "tm.Flow",
                "name": label,
                "description": "",
                "outOfScope": false,
                "reasonOutOfScope": "",
                "isTrustBoundary": false,
                "isBidirectional": e.two_way,
                "isEncrypted": false,
                "isPublicNetwork": false,
                "protocol": label,
                "hasOpenThreats": false,
                "threats": [],
            },
        });
        if !label.is_empty() {
            cell["labels"] = json!([label]);
        }
        cells.push(cell);
    }

    let mut diagram = json!({
        "id": 0,
        "title": "Data-flow diagram",
        "diagramType": "STRIDE",
        "version": VERSION,
        "thumbnail": "./public/content/images/thumbnail.stride.jpg",
        "description": "",
        "cells": null,
    });
    diagram["cells"] = Value::Array(cells);
    object([
        ("version", json!(VERSION)),
        (
            "summary",
            json!({
                "title": options.title,
                "owner": "",
                "description": export_description(),
                "id": 0,
            }),
        ),
        (
            "detail",
            object([
                ("contributors", json!([])),
                ("reviewer", json!("")),
                ("diagramTop", json!(1)),
                ("threatTop", json!(number)),
                ("diagrams", Value::Array(vec![diagram])),
            ]),
        ),
    ])
}

/// The severity Threat Dragon shows for a rated threat without a written severity: its band's
/// (info counts as low: Threat Dragon has no lower level).
fn band_severity(band: Band) -> Severity {
    match band {
        Band::Critical => Severity::Critical,
        Band::High => Severity::High,
        Band::Medium => Severity::Medium,
        Band::Low | Band::Info => Severity::Low,
    }
}

/// Node key -> its threats (state, JSON without `number`), in threat key order.
fn threats_by_node(model: &Model, policy: &RiskPolicy) -> BTreeMap<String, Vec<(ThreatState, Value)>> {
    // The highest likelihood × impact score of the pair's rated exposures and findings, and
    // its band (the risk register's rule).
    let mut scores: BTreeMap<(String, EntityKey), (u8, Band)> = BTreeMap::new();
    for r in crate::analysis::risk::risks(model.index, model.analysis, policy) {
        let (Some(asset), Some(threat), Some(score), Some(band)) =
            (r.asset.entity(), r.threat.entity(), r.score(), r.band)
        else {
            continue;
        };
        let slot = scores.entry((asset.key.to_string(), threat.clone())).or_insert((score, band));
        *slot = (*slot).max((score, band));
    }
    // Mitigation text per (asset key, threat), and exposure places per (asset, threat).
    let mut notes: BTreeMap<(String, EntityKey), Vec<String>> = BTreeMap::new();
    let mut places: BTreeMap<(String, EntityKey), Vec<String>> = BTreeMap::new();
    // The highest effective severity of the pair's exposures and findings (the analysis' rule).
    let mut severities: BTreeMap<(String, EntityKey), Severity> = BTreeMap::new();
    for rel in &model.relations {
        let at = format!("{}:{}", rel.file(), rel.line());
        let Some((asset, threat)) = rel.asset_and_threat() else { continue };
        let key = (asset.key.to_string(), threat.clone());
        if matches!(rel.meaning, Relation::Exposure { .. } | Relation::Confirmation { .. })
            && let Some(sev) = model.analysis.exposure_severity(rel.facts, rel.ann, Some(threat))
        {
            let slot = severities.entry(key.clone()).or_insert(sev.value);
            *slot = (*slot).max(sev.value);
        }
        let desc = rel.description().map(|d| format!(": {d}")).unwrap_or_default();
        match rel.meaning {
            Relation::Exposure { .. } => {
                places.entry(key).or_default().push(format!("exposed at {at}{desc}"))
            }
            Relation::Confirmation { .. } => {
                places.entry(key).or_default().push(format!("confirmed at {at}{desc}"))
            }
            Relation::Mitigation { control, .. } => {
                let by = control
                    .and_then(|c| c.entity())
                    .map(|c| format!("mitigated by {}", model.name(c)))
                    .unwrap_or_else(|| "mitigated".to_string());
                notes.entry(key).or_default().push(format!("{by} ({at}){desc}"));
            }
            Relation::Acceptance { .. } => {
                notes.entry(key).or_default().push(format!("accepted ({at}){desc}"))
            }
            Relation::Transfer { to, .. } => {
                let to = to.entity().map(|e| model.name(e)).unwrap_or_default();
                notes.entry(key).or_default().push(format!("transferred to {to} ({at}){desc}"));
            }
            _ => {}
        }
    }
    let mut out: BTreeMap<String, Vec<(ThreatState, Value)>> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for ((asset, threat), state) in model.threat_status() {
        let Some(node) = model.node_key(&asset) else { continue };
        // An asset and an actor of one name are one node: its first (most severe) entry wins.
        if !seen.insert((node.clone(), threat.clone())) {
            continue;
        }
        let info = model.info(&threat);
        let mut description = info.and_then(|i| i.description.clone()).unwrap_or_default();
        for p in places.get(&(asset.key.to_string(), threat.clone())).into_iter().flatten() {
            if !description.is_empty() {
                description.push('\n');
            }
            description.push_str(p);
        }
        let mitigation =
            notes.get(&(asset.key.to_string(), threat.clone())).map(|n| n.join("\n")).unwrap_or_default();
        let rated = scores.get(&(asset.key.to_string(), threat.clone())).copied();
        let stride = model.stride(&threat);
        // No category chosen (Threat Dragon's empty type) when nothing classifies the threat.
        let ty = stride.iter().next().map_or("", |s| s.name());
        let value = json!({
            "id": uuid_for("td-threat", &format!("{node}\n{}", entity_text(&threat))),
            "title": model.name(&threat),
            "type": ty,
            "modelType": "STRIDE",
            "status": state.as_str(),
            "severity": severity_title(
                severities
                    .get(&(asset.key.to_string(), threat.clone()))
                    .copied()
                    .or(info.and_then(|i| i.severity))
                    .or_else(|| rated.map(|(_, band)| band_severity(band)))
            ),
            "score": rated.map_or(String::new(), |(score, _)| score.to_string()),
            "description": description,
            "mitigation": mitigation,
        });
        debug_assert!(threat.kind == EntityKind::Threat);
        out.entry(node).or_default().push((state, value));
    }
    out
}
