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
use crate::model::{EntityKey, ProjectIndex};
use crate::syntax::EntityKind;
use crate::text::TextRange;
use std::fmt::Write as _;

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
    if let Some(entity) = entity.filter(|e| matches!(e.kind, EntityKind::Threat | EntityKind::Asset)) {
        let section = analysis.entity_hovers.risks(policies, &entity, || {
            let mentioned = analysis.mentions(index).of(&entity).map(|(_, facts, i)| (&**facts, i));
            // Only the lines shown need each risk's state (the coverage rule).
            let risks = risk::risks_of_unstated(index, analysis, policies, mentioned);
            entity_risks(index, analysis, risks, &entity)
        });
        sections.extend(section.map(|s| s.to_string()));
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
