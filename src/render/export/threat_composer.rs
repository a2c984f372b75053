//! AWS Threat Composer (schema 1) export.
//!
//! - `threats`: one per threat the project relates to an asset (exposures, confirmed findings,
//!   mitigations, acceptances, transfers), in key order. The statement follows Threat
//!   Composer's grammar: "A(n) \[threatSource\] \[prerequisites\] can \[threatAction\], which leads
//!   to \[threatImpact\], negatively impacting \[impactedAssets\]": the source is the actor
//!   `@entitles` ties to the threat if any, else "threat actor"; the action is "exploit
//!   `<threat name>`"; the impact is the threat's description, else "a compromise of the
//!   impacted assets"; the
//!   impacted assets are the display names of the assets it concerns. `status` is
//!   `threatIdentified` while any of its assets is Open (see [`super`]), else `threatResolved`.
//!   `metadata` holds `STRIDE` (letters, see [`super`]; no entry for an unclassified threat) and, when a severity is known,
//!   `Priority` (critical/high -> High, medium -> Medium, low -> Low); `tags` hold its external
//!   references (those of 1..30 characters).
//! - `mitigations`: one per control named by a `@mitigates`, plus one per `@mitigates` without
//!   a control; status `mitigationResolved` (it is in the code). `mitigationLinks` tie each to
//!   the threats it mitigates.
//! - `assumptions`: one per `@assumes` (`"<asset>: <note>"`), linked (`assumptionLinks`) to the
//!   threats concerning that asset.
//!
//! Ids are UUIDs derived from entity keys (or file and line for annotations); text is cut to
//! the schema's length limits.

use super::{ExportOptions, Model, ThreatState, entity_text, object, truncate, uuid_for};
use crate::analysis::Relation;
use crate::model::EntityKey;
use crate::syntax::{EntityKind, Severity};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub fn render(model: &Model, options: &ExportOptions) -> Value {
    // Threat -> (assets, open?)
    let mut threats: BTreeMap<EntityKey, (BTreeSet<EntityKey>, bool)> = BTreeMap::new();
    for ((asset, threat), state) in model.threat_status() {
        let slot = threats.entry(threat).or_default();
        slot.0.insert(asset);
        slot.1 |= state == ThreatState::Open;
    }
    // Threat -> actors entitled around it.
    let mut actors: BTreeMap<EntityKey, BTreeSet<String>> = BTreeMap::new();
    for rel in &model.relations {
        if let Relation::Entitlement { actor, threat: Some(threat), .. } = rel.meaning
            && let (Some(actor), Some(threat)) = (actor.entity(), threat.entity())
            && threat.kind == EntityKind::Threat
        {
            actors.entry(threat.clone()).or_default().insert(model.name(actor));
        }
    }

    let threat_id = |t: &EntityKey| uuid_for("tc-threat", &entity_text(t));
    let mut out_threats = Vec::new();
    for (n, (threat, (assets, open))) in threats.iter().enumerate() {
        let info = model.info(threat);
        let name = model.name(threat);
        let source = actors
            .get(threat)
            .map(|a| a.iter().cloned().collect::<Vec<_>>().join(" or "))
            .unwrap_or_else(|| "threat actor".to_string());
        let source = truncate(&source, 200);
        let action = truncate(&format!("exploit {name}"), 200);
        let impact = match info.and_then(|i| i.description.as_deref()) {
            Some(d) => truncate(d, 200),
            None => "a compromise of the impacted assets".to_string(),
        };
        let asset_names: Vec<String> = assets.iter().map(|a| truncate(&model.name(a), 200)).collect();
        let article =
            if source.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) { "An" } else { "A" };
        let statement = truncate(
            &format!(
                "{article} {source} can {action}, which leads to {impact}, negatively impacting {}",
                asset_names.join(", ")
            ),
            1400,
        );
        let letters: Vec<&str> = model.stride(threat).iter().map(|s| s.letter()).collect();
        // An unclassified threat carries no STRIDE entry rather than a guessed one.
        let mut metadata = Vec::new();
        if !letters.is_empty() {
            metadata.push(json!({"key": "STRIDE", "value": letters}));
        }
        if let Some(sev) = info.and_then(|i| i.severity) {
            let p = match sev {
                Severity::Critical | Severity::High => "High",
                Severity::Medium => "Medium",
                Severity::Low => "Low",
            };
            metadata.push(json!({"key": "Priority", "value": p}));
        }
        let tags: Vec<&str> = info
            .map(|i| {
                i.refs.iter().map(String::as_str).filter(|r| (1..=30).contains(&r.chars().count())).collect()
            })
            .unwrap_or_default();
        out_threats.push(json!({
            "id": threat_id(threat),
            "numericId": n + 1,
            "displayOrder": n + 1,
            "threatSource": source,
            "threatAction": action,
            "threatImpact": impact,
            "impactedAssets": asset_names,
            "statement": statement,
            "status": if *open { "threatIdentified" } else { "threatResolved" },
            "metadata": metadata,
            "tags": tags,
        }));
    }

    // Mitigations: per control, or per control-less annotation.
    let mut mitigations: BTreeMap<String, String> = BTreeMap::new();
    let mut links: BTreeSet<(String, String)> = BTreeSet::new();
    let mut assumptions = Vec::new();
    let mut assumption_links: BTreeSet<(String, String)> = BTreeSet::new();
    for rel in &model.relations {
        match rel.meaning {
            Relation::Mitigation { threat, control, .. } => {
                let Some(threat) = threat.entity() else { continue };
                let (id, content) = match control.and_then(|c| c.entity()) {
                    Some(c) => {
                        let name = model.name(c);
                        let content = match model.info(c).and_then(|i| i.description.as_deref()) {
                            Some(d) => format!("{name}: {d}"),
                            None => name,
                        };
                        (uuid_for("tc-mitigation", &entity_text(c)), content)
                    }
                    None => {
                        let at = format!("{}:{}", rel.file(), rel.line());
                        let content = match rel.description() {
                            Some(d) => format!("{d} ({at})"),
                            None => format!("mitigation at {at}"),
                        };
                        (uuid_for("tc-mitigation-at", &at), content)
                    }
                };
                mitigations.entry(id.clone()).or_insert_with(|| truncate(&content, 1000));
                if threats.contains_key(threat) {
                    links.insert((id, threat_id(threat)));
                }
            }
            Relation::Assumption { asset, note } => {
                let Some(asset) = asset.entity() else { continue };
                let at = format!("{}:{}", rel.file(), rel.line());
                let note =
                    note.as_ref().map(|n| n.value.as_str()).or(rel.description()).unwrap_or("(no note)");
                let id = uuid_for("tc-assumption", &at);
                assumptions.push(json!({
                    "id": id,
                    "numericId": assumptions.len() + 1,
                    "content": truncate(&format!("{}: {note}", model.name(asset)), 1000),
                }));
                for (t, (assets, _)) in &threats {
                    if assets
                        .iter()
                        .any(|a| a.key == asset.key || a.key.starts_with(&format!("{}.", asset.key)))
                    {
                        assumption_links.insert((id.clone(), threat_id(t)));
                    }
                }
            }
            _ => {}
        }
    }
    let mitigations: Vec<Value> = mitigations
        .into_iter()
        .enumerate()
        .map(|(n, (id, content))| {
            json!({"id": id, "numericId": n + 1, "content": content, "status": "mitigationResolved"})
        })
        .collect();
    let links: Vec<Value> =
        links.into_iter().map(|(m, t)| json!({"mitigationId": m, "linkedId": t})).collect();
    let assumption_links: Vec<Value> = assumption_links
        .into_iter()
        .map(|(a, t)| json!({"type": "Threat", "assumptionId": a, "linkedId": t}))
        .collect();

    object([
        ("schema", json!(1)),
        (
            "applicationInfo",
            json!({
                "name": truncate(&options.title, 200),
                "description": super::export_description(),
            }),
        ),
        ("threats", Value::Array(out_threats)),
        ("mitigations", Value::Array(mitigations)),
        ("mitigationLinks", Value::Array(links)),
        ("assumptions", Value::Array(assumptions)),
        ("assumptionLinks", Value::Array(assumption_links)),
    ])
}
