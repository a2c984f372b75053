//! The STRIDE worksheet (`export --format stride-worksheet`): one YAML document per component
//! with risks and per data flow that crosses a trust boundary, in the worksheet layout of the
//! STRIDE practice (threat id, STRIDE categories, description, attack vector, likelihood,
//! impact, risk score, existing controls, gaps, recommended mitigations, status, owner).
//! `schemas/stride-worksheet.schema.json` describes one document; the tests validate every
//! document against it.
//!
//! - A **component** document lists the risks of the element ([`crate::analysis::risk`]: each
//!   exposure and confirmed finding of it, register order).
//! - A **boundary crossing** document (a flow whose two ends sit in different trust
//!   boundaries, or one inside and one outside) lists the risks of both ends whose threat has
//!   a STRIDE category a data flow can suffer (tampering, information disclosure, denial of
//!   service: the STRIDE-per-element table), since annotations put threats on elements, not
//!   on flows.
//! - `existing_controls`: the controls of the mitigations that cover the exposure (the
//!   coverage rule); `gaps`: what is missing (nothing covers it, or it is accepted or
//!   transferred rather than mitigated, or it has no rating or owner); `recommended_mitigations`:
//!   the controls the project uses against the same threat elsewhere and not here.
//!
//! Must never: invent a rating (no likelihood and impact: `null`), or let annotation text
//! reach the YAML other than as a string scalar of the emitter (cleaned by
//! [`crate::text::for_machine`] first).

use super::{Model, Stride};
use crate::analysis::risk::{self, Risk};
use crate::analysis::{CoverKind, Relation};
use crate::model::EntityKey;
use crate::model::risk::RiskPolicy;
use crate::render::dfd::{self, Scope};
use std::collections::{BTreeMap, BTreeSet};
use yaml_rust2::Yaml;
use yaml_rust2::yaml::Hash;

/// The worksheets as a YAML stream (one `---` document each), components first (by name),
/// then boundary crossings (by their ends).
pub fn render(model: &Model, policy: &RiskPolicy) -> String {
    let mut risks = risk::risks(model.index, model.analysis, policy);
    risks.sort_by(risk::by_score);
    // The controls that mitigate each threat anywhere, for recommendations.
    let mut controls_of: BTreeMap<&EntityKey, BTreeSet<String>> = BTreeMap::new();
    for rel in &model.relations {
        if let Relation::Mitigation { threat, control: Some(control), .. } = rel.meaning
            && let (Some(t), Some(c)) = (threat.entity(), control.entity())
        {
            controls_of.entry(t).or_default().insert(model.name(c));
        }
    }
    let dfd = dfd::build(model.index, model.analysis, &Scope::Project);
    let mut by_node: BTreeMap<String, Vec<&Risk<'_>>> = BTreeMap::new();
    for r in &risks {
        if let Some(node) = r.asset.entity().and_then(|a| model.node_key(a)) {
            by_node.entry(node).or_default().push(r);
        }
    }
    let entry = |r: &Risk<'_>| threat_entry(model, r, &controls_of);
    let mut docs = Vec::new();
    let mut nodes: Vec<&dfd::Node> = dfd.nodes.iter().filter(|n| by_node.contains_key(&n.key)).collect();
    nodes.sort_by(|a, b| (&a.label, &a.key).cmp(&(&b.label, &b.key)));
    for node in nodes {
        let threats = by_node[&node.key].iter().map(|r| entry(r)).collect();
        docs.push(doc(&[
            ("worksheet", s("component")),
            ("element", s(&node.label)),
            ("element_kind", s(node.kind.as_str())),
            ("threats", Yaml::Array(threats)),
        ]));
    }
    // Trust boundary of each node id (component groups are not trust boundaries).
    let mut boundary_of: BTreeMap<&str, &dfd::BoundaryGroup> = BTreeMap::new();
    for b in dfd.boundaries.iter().filter(|b| !b.component) {
        for m in &b.members {
            boundary_of.entry(m.as_str()).or_insert(b);
        }
    }
    let node_by_id: BTreeMap<&str, &dfd::Node> = dfd.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let mut crossings = Vec::new();
    for edge in &dfd.edges {
        let (Some(from), Some(to)) = (node_by_id.get(edge.from.as_str()), node_by_id.get(edge.to.as_str()))
        else {
            continue;
        };
        let (bf, bt) = (boundary_of.get(edge.from.as_str()), boundary_of.get(edge.to.as_str()));
        if bf.map(|b| &b.id) == bt.map(|b| &b.id) {
            continue;
        }
        let flow_stride = |r: &&&Risk<'_>| {
            r.threat.entity().is_some_and(|t| {
                model.stride(t).iter().any(|s| {
                    matches!(s, Stride::Tampering | Stride::InformationDisclosure | Stride::DenialOfService)
                })
            })
        };
        let threats: Vec<Yaml> = [&from.key, &to.key]
            .into_iter()
            .flat_map(|k| by_node.get(k).into_iter().flatten())
            .filter(flow_stride)
            .map(|r| entry(r))
            .collect();
        let title = |b: Option<&&dfd::BoundaryGroup>| {
            b.map_or_else(|| s("(outside every trust boundary)"), |b| s(&b.title))
        };
        crossings.push((
            (from.label.clone(), to.label.clone()),
            doc(&[
                ("worksheet", s("boundary-crossing")),
                ("element", s(&format!("{} -> {}", from.label, to.label))),
                ("element_kind", s("data-flow")),
                ("from", s(&from.label)),
                ("to", s(&to.label)),
                ("from_boundary", title(bf)),
                ("to_boundary", title(bt)),
                ("mechanism", edge.label.as_deref().map_or(Yaml::Null, s)),
                ("threats", Yaml::Array(threats)),
            ]),
        ));
    }
    crossings.sort_by(|a, b| a.0.cmp(&b.0));
    docs.extend(crossings.into_iter().map(|(_, d)| d));
    let mut out = String::new();
    for d in &docs {
        let mut emitter = yaml_rust2::YamlEmitter::new(&mut out);
        emitter.dump(d).expect("writing YAML to a string cannot fail");
        out.push('\n');
    }
    out
}

/// One threat row of a worksheet.
fn threat_entry(model: &Model, r: &Risk<'_>, controls_of: &BTreeMap<&EntityKey, BTreeSet<String>>) -> Yaml {
    let facts = model.index.file(r.file.as_str());
    let ann = facts.and_then(|f| f.annotations().get(r.annotation));
    let threat = r.threat.entity();
    let info = threat.and_then(|t| model.info(t));
    let name = threat.map_or_else(
        || facts.map_or(String::new(), |f| f.slice(r.threat.range()).to_string()),
        |t| model.name(t),
    );
    let stride: Vec<Yaml> =
        threat.map(|t| model.stride(t)).unwrap_or_default().iter().map(|c| s(c.name())).collect();
    let coverage = if r.confirmed { None } else { model.analysis.coverage(r.file.as_str(), r.annotation) };
    // The covering mitigations' controls, by name (as the recommendations name them).
    let mut existing: Vec<String> = Vec::new();
    for cover in coverage.iter().flat_map(|c| c.covers.iter()) {
        let Some(cover_facts) = model.index.file(cover.file.as_str()) else { continue };
        if let Some(Relation::Mitigation { control: Some(control), .. }) =
            model.analysis.relation(cover_facts, cover.annotation)
        {
            let name = control
                .entity()
                .map_or_else(|| cover_facts.slice(control.range()).to_string(), |c| model.name(c));
            if !existing.contains(&name) {
                existing.push(name);
            }
        }
    }
    let mut gaps = Vec::new();
    match (r.confirmed, r.state) {
        (true, _) => gaps.push("confirmed finding: exploitable as written"),
        (false, None) => gaps.push("nothing mitigates, accepts or transfers it"),
        (false, Some(CoverKind::Accepts)) => gaps.push("accepted, not mitigated"),
        (false, Some(CoverKind::Transfers)) => gaps.push("transferred, not mitigated"),
        (false, Some(CoverKind::Mitigates)) => {}
    }
    if r.rating.is_none() {
        gaps.push("no likelihood and impact rating");
    }
    if r.owner.is_none() {
        gaps.push("no owner");
    }
    let here: BTreeSet<&str> = existing.iter().map(String::as_str).collect();
    let recommended: Vec<Yaml> = threat
        .and_then(|t| controls_of.get(t))
        .into_iter()
        .flatten()
        .filter(|c| !here.contains(c.as_str()))
        .map(|c| s(c))
        .collect();
    let attack_vector = ann.and_then(|a| a.description.as_ref().or(a.details.as_ref())).map(|d| &*d.value);
    let num = |n: Option<u8>| n.map_or(Yaml::Null, |n| Yaml::Integer(i64::from(n)));
    let line = facts.map_or(0, |f| f.text.line_of(r.range.start()) as u32 + 1);
    doc(&[
        ("threat_id", s(&threat.map_or_else(|| name.clone(), |t| t.key.to_string()))),
        ("threat", s(&name)),
        ("stride", Yaml::Array(stride)),
        ("description", info.and_then(|i| i.description.as_deref()).map_or(Yaml::Null, s)),
        ("attack_vector", attack_vector.map_or(Yaml::Null, s)),
        ("likelihood", num(r.rating.map(|x| x.likelihood))),
        ("impact", num(r.rating.map(|x| x.impact))),
        ("risk_score", num(r.score())),
        ("band", r.band.map_or(Yaml::Null, |b| s(b.as_str()))),
        ("existing_controls", Yaml::Array(existing.iter().map(|c| s(c)).collect())),
        ("gaps", Yaml::Array(gaps.into_iter().map(s).collect())),
        ("recommended_mitigations", Yaml::Array(recommended)),
        ("status", s(r.status())),
        ("owner", r.owner.map_or(Yaml::Null, s)),
        ("treatment_due", r.due.map_or(Yaml::Null, |d| s(&d.date.to_string()))),
        ("location", s(&format!("{}:{line}", r.file))),
    ])
}

/// A string scalar of repository text, cleaned for a machine-readable output.
fn s(text: &str) -> Yaml {
    Yaml::String(crate::text::for_machine(text).into_owned())
}

/// A mapping in the given key order.
fn doc(pairs: &[(&str, Yaml)]) -> Yaml {
    let mut map = Hash::new();
    for (k, v) in pairs {
        map.insert(Yaml::String((*k).to_string()), v.clone());
    }
    Yaml::Hash(map)
}
