//! Code lenses on definitions: how often an entity is referenced and, for threats and assets,
//! how many of its exposures are still open ("3 references · 1 open exposure"; open is
//! [`Analysis::coverage`]'s answer, the one coverage rule).
//!
//! One pass over the project's resolved references per request, so the cost is linear in the
//! project however many definitions the file holds.

use crate::analysis::{Analysis, Relation};
use crate::model::{EntityKey, ProjectIndex, Resolved};
use crate::syntax::EntityKind;
use crate::text::TextRange;
use rustc_hash::FxHashMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lens {
    /// The definition's name (or id) range.
    pub range: TextRange,
    pub title: String,
}

#[derive(Default)]
struct Counts {
    references: usize,
    open_exposures: usize,
}

/// Lenses for every declared definition in `file`.
pub fn code_lenses(index: &ProjectIndex, analysis: &Analysis, file: &str) -> Vec<Lens> {
    let Some(facts) = index.file(file) else { return Vec::new() };
    let mut counts: FxHashMap<&EntityKey, Counts> = FxHashMap::default();
    for other in index.files() {
        let Some(resolved) = analysis.resolved.get(&other.path) else { continue };
        for (i, ((ann, refs), results)) in
            other.annotations().iter().zip(&other.refs).zip(resolved.iter()).enumerate()
        {
            for (fact, r) in refs.iter().zip(results) {
                if let Resolved::Entity(e) = r
                    && !fact.defines
                {
                    counts.entry(e).or_default().references += 1;
                }
            }
            if let Some(Relation::Exposure { asset, threat }) = Relation::resolved(ann, refs, results)
                && let (Resolved::Entity(asset), Resolved::Entity(threat)) = (asset.resolved, threat.resolved)
                && analysis.coverage(other.path.as_str(), i).is_some_and(|c| c.is_open())
            {
                counts.entry(asset).or_default().open_exposures += 1;
                counts.entry(threat).or_default().open_exposures += 1;
            }
        }
    }
    let mut out = Vec::new();
    for def in facts.defs.iter().filter(|d| d.declared) {
        let c = counts.get(&def.entity);
        let references = c.map_or(0, |c| c.references);
        let mut title = match references {
            1 => "1 reference".to_string(),
            n => format!("{n} references"),
        };
        if matches!(def.entity.kind, EntityKind::Threat | EntityKind::Asset) {
            match c.map_or(0, |c| c.open_exposures) {
                0 => {}
                1 => title.push_str(" · 1 open exposure"),
                n => title.push_str(&format!(" · {n} open exposures")),
            }
        }
        if out.last().is_some_and(|l: &Lens| l.range == def.range) {
            continue;
        }
        out.push(Lens { range: def.range, title });
    }
    out
}
