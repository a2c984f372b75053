//! Risk in the editor: the rating, band and treatment of the risk register
//! ([`crate::analysis::risk`]) where the code is: on hover over an exposure or confirmed
//! finding (its own risk) and over a threat or asset (its risks), as an inlay hint after an
//! exposure (its band), and as a code lens on an asset's definition ("3 risks: 1 critical,
//! 2 medium").
//!
//! Owns: how a risk reads in these three places. Must never: decide anything about a risk
//! (rating, band, owner, due date, status, and which risks an asset has all come from
//! [`risk::risks`], the register rule), know LSP types, or do I/O. Annotation text (owners)
//! is escaped ([`escape_markdown`]); bands and numbers are the tool's own words.

use super::hover::{HoverInfo, MAX_ITEMS, escape_markdown, hover as entity_hover};
use super::navigation::target_at;
use crate::analysis::Analysis;
use crate::analysis::risk::{self, Risk};
use crate::model::risk::{Band, Policies};
use crate::model::{EntityKey, ProjectIndex, Resolved};
use crate::syntax::EntityKind;
use crate::text::TextRange;
use std::fmt::Write as _;
use std::sync::Arc;

/// The hover at `offset`: the entity's ([`super::hover::hover`]) followed by its risks for a
/// threat or an asset, and by the risk of the exposure or confirmed finding the cursor is in
/// (alone when the cursor is on no entity, as on the `@exposes` verb).
pub fn hover(
    index: &ProjectIndex,
    analysis: &Analysis,
    policies: &Policies,
    file: &str,
    offset: usize,
) -> Option<HoverInfo> {
    // Only the risks that can show: this file's, and the entity's (its mentions).
    let facts = index.file(file)?;
    let in_file =
        risk::risks_of(index, analysis, policies, (0..facts.annotations().len()).map(|i| (&**facts, i)));
    let here = in_file.iter().find(|r| r.range.touches(offset));
    let mut sections = Vec::new();
    if let Some(r) = here {
        let what = if r.confirmed { "confirmed finding" } else { "exposure" };
        sections.push(format!("**risk** of this {what}: {}", describe(r)));
    }
    let entity = target_at(index, file, offset).and_then(|t| t.resolved.entity().cloned());
    if let Some(entity) = entity {
        sections.extend(risks_section(index, analysis, policies, &entity).map(|s| s.to_string()));
    }
    match entity_hover(index, analysis, file, offset) {
        Some(mut info) => {
            for section in sections {
                let _ = write!(info.markdown, "\n\n---\n\n{section}");
            }
            Some(info)
        }
        None => here.map(|r| HoverInfo { markdown: sections.join("\n\n---\n\n"), range: r.range }),
    }
}

/// The risks section of a threat's or an asset's hover (`None` for other entities and for one
/// with no risks), made once per analysis or taken over from an earlier one
/// ([`super::hover::EntityHovers`]).
fn risks_section(
    index: &ProjectIndex,
    analysis: &Analysis,
    policies: &Policies,
    entity: &EntityKey,
) -> Option<Arc<str>> {
    if !matches!(entity.kind, EntityKind::Threat | EntityKind::Asset) {
        return None;
    }
    let mentions = analysis.mentions(index);
    let read_from = (mentions.list(entity), analysis.shared_risk_tables(index));
    analysis.entity_hovers.risks(policies, entity, read_from, || {
        let mentioned = mentions.of(entity).map(|(_, facts, i)| (&**facts, i));
        // Only the lines shown need each risk's state (the coverage rule).
        let risks = risk::risks_of_unstated(index, analysis, policies, mentioned);
        entity_risks(index, analysis, risks, entity)
    })
}

/// Makes `entity`'s hover (its text and risks section under `policies`) if this analysis has
/// not yet, so that the first hover on it costs what a repeated one does: a language server
/// does this for the entities its open documents name ([`named_entities`]) after an analysis,
/// before the user asks.
pub fn prepare_hover(index: &ProjectIndex, analysis: &Analysis, policies: &Policies, entity: &EntityKey) {
    super::hover::entity_text(index, analysis, entity);
    risks_section(index, analysis, policies, entity);
}

/// The entities the annotations of `file` name (defined in the project), each once, in file
/// order.
pub fn named_entities(analysis: &Analysis, file: &str) -> Vec<EntityKey> {
    let mut seen = rustc_hash::FxHashSet::default();
    let Some(resolved) = analysis.resolved.get(file) else { return Vec::new() };
    resolved
        .flat()
        .iter()
        .filter_map(|r| match r {
            Resolved::Entity(e) if seen.insert(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// A threat's or an asset's risks, highest first ([`risk::by_score`]), one line each.
/// `risks` may be unstated ([`risk::risks_of_unstated`]): the lines shown ask for their state.
fn entity_risks(
    index: &ProjectIndex,
    analysis: &Analysis,
    risks: Vec<Risk<'_>>,
    entity: &EntityKey,
) -> Option<String> {
    let mine = |r: &Risk<'_>| match entity.kind {
        EntityKind::Threat => r.threat.entity() == Some(entity),
        _ => r.asset.entity() == Some(entity),
    };
    let mut mine: Vec<Risk<'_>> = risks.into_iter().filter(mine).collect();
    if mine.is_empty() {
        return None;
    }
    mine.sort_by(risk::by_score);
    let mut md = format!("**risks** ({}): {}\n", mine.len(), band_counts(mine.iter()));
    for r in mine.iter_mut().take(MAX_ITEMS) {
        r.state_from(analysis);
        let Some(facts) = index.file(r.file.as_str()) else { continue };
        let other = match entity.kind {
            EntityKind::Threat => format!("on {}", shown(facts.slice(r.asset.range()))),
            _ => format!("to {}", shown(facts.slice(r.threat.range()))),
        };
        let place = escape_markdown(&index.place(r.file.as_str(), r.range.start()));
        let _ = write!(md, "\n- {other}: {} at {place}", describe(r));
    }
    if mine.len() > MAX_ITEMS {
        let _ = write!(md, "\n- and {} more", mine.len() - MAX_ITEMS);
    }
    Some(md)
}

/// An argument as written: an id as code, anything else escaped.
fn shown(text: &str) -> String {
    let id_like = text.starts_with(['#', '@'])
        && text[1..].chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '@'));
    if id_like { format!("`{text}`") } else { escape_markdown(text) }
}

/// One risk in a line: rating, score and band (or the severity-derived band, or none), then
/// its treatment: owner, due date (and how it was reached), status.
pub fn describe(r: &Risk<'_>) -> String {
    let mut parts = vec![rating(r)];
    parts.push(match r.owner {
        Some(owner) => format!("owner {}", escape_markdown(owner)),
        None => "no owner".to_string(),
    });
    if let Some(due) = r.due {
        parts.push(match due.sla {
            None => format!("due {}", due.date),
            Some((audited, days)) => format!("due {} (audited {audited} + {days}-day SLA)", due.date),
        });
    }
    parts.push(format!("**{}**", r.status()));
    parts.join(" · ")
}

/// `likelihood 4 × impact 5 = score 20, **critical**`; `**high** (severity-derived, no
/// score)`; `not rated`.
fn rating(r: &Risk<'_>) -> String {
    match (r.rating, r.band) {
        (Some(x), Some(band)) => format!(
            "likelihood {} × impact {} = score {}, **{}**",
            x.likelihood,
            x.impact,
            x.score(),
            band.as_str()
        ),
        (None, Some(band)) => format!("**{}** (severity-derived, no score)", band.as_str()),
        _ => "not rated (no `risk:` rating and no severity)".to_string(),
    }
}

/// A hint after a risk: its band, with the score, or `severity-derived` where there is none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BandHint {
    /// Byte offset the hint is shown at (the end of the annotation).
    pub offset: usize,
    pub label: String,
}

/// One hint after every exposure and confirmed finding of `file` that has a band.
pub fn band_hints(
    index: &ProjectIndex,
    analysis: &Analysis,
    policies: &Policies,
    file: &str,
) -> Vec<BandHint> {
    let Some(facts) = index.file(file) else { return Vec::new() };
    risk::risks_of(index, analysis, policies, (0..facts.annotations().len()).map(|i| (&**facts, i)))
        .iter()
        .filter_map(|r| {
            let band = r.band?.as_str();
            let label = match r.score() {
                Some(score) => format!("risk {band} ({score})"),
                None => format!("risk {band} (severity-derived)"),
            };
            Some(BandHint { offset: r.range.end(), label })
        })
        .collect()
}

/// A lens on an asset's definition: how many risks the register gives it, by band.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskLens {
    /// The definition's name (or id) range.
    pub range: TextRange,
    pub title: String,
}

/// One lens on every asset declared in `file` that has risks.
pub fn asset_lenses(
    index: &ProjectIndex,
    analysis: &Analysis,
    policies: &Policies,
    file: &str,
) -> Vec<RiskLens> {
    let Some(facts) = index.file(file) else { return Vec::new() };
    let mut out: Vec<RiskLens> = Vec::new();
    for def in facts.defs.iter().filter(|d| d.declared && d.entity.kind == EntityKind::Asset) {
        if out.iter().any(|l| l.range == def.range) {
            continue;
        }
        let mentioned = analysis.mentions(index).of(&def.entity).map(|(_, facts, i)| (&**facts, i));
        let risks = risk::risks_of(index, analysis, policies, mentioned);
        let mine: Vec<&Risk<'_>> = risks.iter().filter(|r| r.asset.entity() == Some(&def.entity)).collect();
        if mine.is_empty() {
            continue;
        }
        let noun = if mine.len() == 1 { "risk" } else { "risks" };
        let title = format!("{} {noun}: {}", mine.len(), band_counts(mine.into_iter()));
        out.push(RiskLens { range: def.range, title });
    }
    out
}

/// `1 critical, 2 medium, 1 unrated`: counts by band, highest first.
fn band_counts<'r, 'a: 'r>(risks: impl Iterator<Item = &'r Risk<'a>>) -> String {
    let mut counts = [0usize; 5];
    let mut unrated = 0;
    for r in risks {
        match r.band {
            Some(band) => counts[band.index()] += 1,
            None => unrated += 1,
        }
    }
    let mut parts: Vec<String> = Band::ALL
        .iter()
        .rev()
        .filter(|b| counts[b.index()] > 0)
        .map(|b| format!("{} {}", counts[b.index()], b.as_str()))
        .collect();
    if unrated > 0 {
        parts.push(format!("{unrated} unrated"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file_id::FileId;
    use crate::model::FileFacts;
    use crate::model::risk::RiskPolicy;
    use crate::syntax::Language;

    fn set(index: &mut ProjectIndex, path: &str, text: &str) {
        let language = if path.ends_with(".gal") { Language::Gal } else { Language::Python };
        index.set_file(Arc::new(FileFacts::new(FileId::relative(path), language, Arc::from(text))));
    }

    /// Each entity's text and risks section.
    fn parts(
        index: &ProjectIndex,
        analysis: &Analysis,
        entities: &[&EntityKey],
    ) -> Vec<(Arc<str>, Arc<str>)> {
        let policies = Policies::one(RiskPolicy::default());
        entities
            .iter()
            .map(|e| {
                let text = super::super::hover::entity_text(index, analysis, e);
                (text, risks_section(index, analysis, &policies, e).expect("a risks section"))
            })
            .collect()
    }

    /// An edit that keeps the resolution tables and the coverage answers: the hover of an
    /// entity no edited file names is taken over (the same text, not made again), the others
    /// are made again with the edit's numbers; all equal a fresh analysis's.
    #[test]
    fn an_edit_keeps_the_hovers_of_the_entities_it_does_not_name() {
        let mut index = ProjectIndex::default();
        set(&mut index, "defs.gal", "@threat SQL Injection (#sqli) [high]\n@threat XSS (#xss)\n");
        set(&mut index, "a.py", "# @exposes Shop.Orders to #sqli\n# @exposes Shop.Orders to #xss\n");
        set(&mut index, "b.py", "# @exposes Shop.Users to #sqli\n# @exposes Shop to #xss\n");
        let first = Analysis::new(&index);
        let a = FileId::relative("a.py");
        let (orders, sqli) =
            (first.resolved[&a][0][0].entity().unwrap(), first.resolved[&a][0][1].entity().unwrap());
        let before = parts(&index, &first, &[orders, sqli]);
        // As a language server does after each analysis: the risk findings, whose tables the
        // next analysis keeps.
        first.diagnostics_with_risk(&index, &Policies::one(RiskPolicy::default()), None, &[]);
        let tables = index.tables_revision();
        set(
            &mut index,
            "b.py",
            "# @exposes Shop.Users to #sqli\n# @exposes Shop to #xss\n# @exposes Shop.Users to #sqli\n",
        );
        assert_eq!(index.tables_revision(), tables, "the edit keeps the tables");
        let second = Analysis::update(Some(&first), &index);
        let after = parts(&index, &second, &[orders, sqli]);
        let fresh = parts(&index, &Analysis::new(&index), &[orders, sqli]);
        assert_eq!(after, fresh);
        // Shop.Orders: only a.py names it.
        assert!(Arc::ptr_eq(&before[0].0, &after[0].0), "the text is taken over");
        assert!(Arc::ptr_eq(&before[0].1, &after[0].1), "the risks section is taken over");
        // #sqli: b.py names it, now twice.
        assert!(before[1].0.contains("exposed in 2 places"), "{}", before[1].0);
        assert!(after[1].0.contains("exposed in 3 places"), "{}", after[1].0);
        assert!(after[1].1.starts_with("**risks** (3)"), "{}", after[1].1);
    }
}
