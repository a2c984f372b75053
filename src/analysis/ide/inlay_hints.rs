//! Inlay hints: after each `@exposes`, whether anything covers it.
//!
//! The coverage rule is the analysis' own (`unmitigated-exposure`): `@mitigates A' against T`,
//! `@accepts T on A'` or `@transfers T from A'` (ThreatSpec 0.1: `@transfers T to A'`) where A'
//! is the exposed asset or one of its ancestors, threats compared as resolved entities. The
//! hint names what covers it: `mitigated by #control`, `mitigated` (no control named),
//! `accepted`, `transferred`, else `unmitigated`. Controls on the asset itself come first, then
//! those on its ancestors, nearest first.

use crate::analysis::Analysis;
use crate::model::names::ancestors;
use crate::model::{EntityKey, ProjectIndex, Resolved};
use crate::syntax::{Body, RefForm};
use rustc_hash::FxHashMap;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InlayHint {
    /// Byte offset the hint is shown at (the end of the annotation); editors should pad it.
    pub offset: usize,
    pub label: String,
}

#[derive(Default)]
struct Cover {
    /// Controls named by mitigations, as written (`#id` or name), in project order.
    controls: Vec<String>,
    mitigated: bool,
    accepted: bool,
    transferred: bool,
}

/// One hint after every `@exposes` of `file` whose asset and threat resolve.
pub fn inlay_hints(index: &ProjectIndex, analysis: &Analysis, file: &str) -> Vec<InlayHint> {
    let Some(facts) = index.file(file) else { return Vec::new() };
    let Some(resolved) = analysis.resolved.get(&facts.path) else { return Vec::new() };
    let covers = coverage(index, analysis);
    let mut out = Vec::new();
    for (i, ann) in facts.annotations().iter().enumerate() {
        if !matches!(ann.body, Body::Exposes { .. }) {
            continue;
        }
        let (Some(Resolved::Entity(asset)), Some(Resolved::Entity(threat))) =
            (resolved[i].first(), resolved[i].get(1))
        else {
            continue;
        };
        let mut controls: Vec<&str> = Vec::new();
        let (mut mitigated, mut accepted, mut transferred) = (false, false, false);
        for key in std::iter::once(asset.key.as_str()).chain(ancestors(&asset.key)) {
            if let Some(c) = covers.get(&(key.to_string(), threat.clone())) {
                for control in &c.controls {
                    if !controls.contains(&control.as_str()) {
                        controls.push(control);
                    }
                }
                mitigated |= c.mitigated;
                accepted |= c.accepted;
                transferred |= c.transferred;
            }
        }
        let label = if !controls.is_empty() {
            format!("mitigated by {}", controls.join(", "))
        } else if mitigated {
            "mitigated".to_string()
        } else if accepted {
            "accepted".to_string()
        } else if transferred {
            "transferred".to_string()
        } else {
            "unmitigated".to_string()
        };
        out.push(InlayHint { offset: ann.range.end(), label });
    }
    out
}

/// What covers each `(asset key, threat)` pair.
fn coverage(index: &ProjectIndex, analysis: &Analysis) -> FxHashMap<(String, EntityKey), Cover> {
    let mut covers: FxHashMap<(String, EntityKey), Cover> = FxHashMap::default();
    for facts in index.files() {
        let Some(resolved) = analysis.resolved.get(&facts.path) else { continue };
        for (i, ann) in facts.annotations().iter().enumerate() {
            let r = &resolved[i];
            let (threat, asset) = match &ann.body {
                Body::Mitigates { .. } => (r.get(1), r.first()),
                Body::Accepts { .. } | Body::Transfers { .. } => (r.first(), r.get(1)),
                _ => continue,
            };
            let (Some(Resolved::Entity(t)), Some(Resolved::Entity(a))) = (threat, asset) else { continue };
            let cover = covers.entry((a.key.clone(), t.clone())).or_default();
            match &ann.body {
                Body::Mitigates { control, .. } => {
                    cover.mitigated = true;
                    if let Some(c) = control {
                        let label = match &c.form {
                            RefForm::Id(id) => format!("#{}", id.value),
                            RefForm::Name { id: Some(id), .. } => format!("#{}", id.value),
                            _ => facts.slice(c.range).to_string(),
                        };
                        if !cover.controls.contains(&label) {
                            cover.controls.push(label);
                        }
                    }
                }
                Body::Accepts { .. } => cover.accepted = true,
                _ => cover.transferred = true,
            }
        }
    }
    covers
}
