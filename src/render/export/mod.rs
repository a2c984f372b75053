//! Exports: the project's threat model in other tools' formats, as pure functions of the
//! [`ProjectIndex`] and its [`Analysis`] (no I/O: the `export` command writes the files).
//!
//! Owns: the shared view of the model every export reads ([`Model`]: annotations as
//! [`Relation`]s, entities with their names, descriptions, severities and external references),
//! deterministic identifiers ([`uuid_for`], [`Model::threatspec_id`]) and the per-threat status rule ([`Model::threat_status`]). Must never: trust
//! annotation text (it only ever reaches `serde_json` strings, cleaned by [`to_pretty`] and
//! escaped by serde, or the worksheet's YAML string scalars, cleaned by
//! [`crate::text::for_machine`] and quoted by yaml-rust2's emitter), or put anything into an id that does not come from an entity key.
//!
//! Formats: [`threatspec`] (ThreatSpec 0.5's `threatmodel/` files), [`threat_dragon`] (OWASP
//! Threat Dragon v2), [`threat_composer`] (AWS Threat Composer v1), [`json`] (the project's
//! own canonical model; its shape is documented there) and [`stride_worksheet`] (YAML
//! worksheets per component and boundary crossing).
//!
//! # Determinism
//!
//! Every list is sorted by entity key or by (file, position); every id is derived from an
//! entity key: UUIDs are the first 16 bytes of SHA-256 of `"<namespace>:<key>"` with the
//! version (4) and variant bits set, so exporting twice gives identical bytes.
//!
//! # STRIDE
//!
//! A threat's categories are [`crate::analysis::stride`]'s (an explicit `stride:` reference,
//! else the documented CWE/OWASP mapping, else none: *unclassified*). Exports that carry
//! several categories (Threat Composer, the JSON model) list them all and leave an
//! unclassified threat without one; Threat Dragon takes the first in S, T, R, I, D, E order,
//! and an empty `type` (no category chosen) for an unclassified threat.
//!
//! # Threat status (per asset and threat)
//!
//! `Open` when an `@exposes` of the asset to the threat is not covered ([`Analysis::coverage`],
//! the one coverage rule) or a `@confirmed` finding names them; else `Mitigated` when a
//! `@mitigates` covers an exposure or names the pair, else `Accepted`, else `Transferred` (the
//! first of these among the pair's exposures and relations).

pub mod json;
pub mod stride_worksheet;
pub mod threat_composer;
pub mod threat_dragon;
pub mod threatspec;

use crate::analysis::{self, Analysis, CoverKind};
use crate::file_id::FileId;
use crate::model::names::{path_key, threatspec_slug};
use crate::model::{EntityKey, FileFacts, ProjectIndex, Resolved};
use crate::syntax::{Annotation, EntityKind, Severity};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Options shared by the exports.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// The model's title (Threat Dragon summary, Threat Composer application name).
    pub title: String,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions { title: "Threat model".to_string() }
    }
}

/// A UUID-v4-shaped identifier derived from `namespace` and `key` (see the module docs).
pub fn uuid_for(namespace: &str, key: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(namespace.as_bytes());
    hasher.update(b":");
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The text key of an entity (`asset:shop.api`), for hashing into ids.
pub fn entity_text(e: &EntityKey) -> String {
    format!("{}:{}", e.kind.as_str(), e.key)
}

pub use crate::analysis::stride::{Stride, stride_of};

/// How an asset stands against a threat (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ThreatState {
    Open,
    Mitigated,
    Accepted,
    Transferred,
}

impl ThreatState {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreatState::Open => "Open",
            ThreatState::Mitigated => "Mitigated",
            ThreatState::Accepted => "Accepted",
            ThreatState::Transferred => "Transferred",
        }
    }
}

/// One annotation that relates entities, with its resolved arguments.
#[derive(Clone, Debug)]
pub struct Relation<'a> {
    pub facts: &'a FileFacts,
    pub ann: &'a Annotation,
    /// Index of the annotation in its file.
    pub index: usize,
    /// Every argument's resolution, in source order.
    pub resolved: &'a [Resolved],
    /// What the annotation says, each argument by its role.
    pub meaning: analysis::Relation<'a>,
}

impl<'a> Relation<'a> {
    pub fn file(&self) -> &'a FileId {
        &self.facts.path
    }
    /// 1-based line of the annotation's `@`.
    pub fn line(&self) -> u32 {
        self.facts.text.line_of(self.ann.range.start()) as u32 + 1
    }
    /// The annotation as written.
    pub fn annotation_text(&self) -> &'a str {
        self.facts.slice(self.ann.range)
    }
    /// The source line holding the annotation's `@`, without its terminator.
    pub fn code(&self) -> &'a str {
        self.facts.text.line_text(self.facts.text.line_of(self.ann.range.start()))
    }
    /// The arguments' facts, parallel to [`Relation::resolved`].
    pub fn ref_facts(&self) -> &'a [crate::model::RefFact] {
        self.facts.refs.get(self.index).unwrap_or(&[])
    }
    /// The asset and the threat of a relation that puts a threat on an asset, when both
    /// resolve ([`analysis::Relation::asset_and_threat`]).
    pub fn asset_and_threat(&self) -> Option<(&'a EntityKey, &'a EntityKey)> {
        let (asset, threat) = self.meaning.asset_and_threat()?;
        Some((asset.entity()?, threat.entity()?))
    }
    pub fn description(&self) -> Option<&'a str> {
        self.ann.description.as_ref().map(|d| &*d.value)
    }
    pub fn details(&self) -> Option<&'a str> {
        self.ann.details.as_ref().map(|d| &*d.value)
    }
    pub fn refs(&self) -> impl Iterator<Item = &'a str> {
        self.ann.external_refs().iter().map(|r| r.value.as_str())
    }
    /// The canonical verb (`exposes`, `mitigates`, ...).
    pub fn kind(&self) -> &'static str {
        crate::syntax::verbs::canonical_spelling(self.ann.verb)
    }
}

/// What the exports know about one entity.
#[derive(Clone, Debug, Default)]
pub struct EntityInfo {
    pub name: String,
    pub description: Option<String>,
    pub severity: Option<Severity>,
    /// External references on its definitions and on annotations naming it (threats), and
    /// a library entry's own, sorted.
    pub refs: BTreeSet<String>,
    /// First definition site: file and 1-based line.
    pub defined_at: Option<(FileId, u32)>,
}

/// The shared view of the project every export reads.
pub struct Model<'a> {
    pub index: &'a ProjectIndex,
    pub analysis: &'a Analysis,
    /// Every annotation with entity arguments, in (file, position) order.
    pub relations: Vec<Relation<'a>>,
    pub entities: BTreeMap<EntityKey, EntityInfo>,
    /// ThreatSpec ids, unique per entity (see [`Model::threatspec_id`]).
    ts_ids: BTreeMap<EntityKey, String>,
}

impl<'a> Model<'a> {
    pub fn new(index: &'a ProjectIndex, analysis: &'a Analysis) -> Model<'a> {
        let mut relations = Vec::new();
        let mut entities: BTreeMap<EntityKey, EntityInfo> = BTreeMap::new();
        for facts in index.files() {
            let Some(per_file) = analysis.resolved.get(&facts.path) else { continue };
            for (i, ann) in facts.annotations().iter().enumerate() {
                let resolved = per_file.get(i).unwrap_or(&[]);
                let Some(meaning) = analysis::Relation::resolved(ann, &facts.refs[i], resolved) else {
                    continue;
                };
                let rel = Relation { facts, ann, index: i, resolved, meaning };
                for e in resolved.iter().filter_map(Resolved::entity) {
                    let info = entities.entry(e.clone()).or_default();
                    if e.kind == EntityKind::Threat {
                        info.refs.extend(rel.refs().map(str::to_string));
                    }
                    if let analysis::Relation::Description { text, .. } = meaning
                        && info.description.is_none()
                    {
                        info.description = Some(text.value.clone());
                    }
                }
                // What a definition (or legacy alias) says about the entity it defines.
                if let analysis::Relation::Definition { entity: defined, .. }
                | analysis::Relation::Alias { target: defined, .. } = meaning
                    && let Some(e) = defined.entity()
                {
                    let info = entities.entry(e.clone()).or_default();
                    info.refs.extend(rel.refs().map(str::to_string));
                    if info.description.is_none() {
                        info.description = rel.description().map(str::to_string);
                    }
                    if info.severity.is_none() {
                        info.severity = ann.severity.as_ref().map(|s| s.value);
                    }
                    if info.defined_at.is_none() {
                        info.defined_at = Some((facts.path.clone(), rel.line()));
                    }
                }
                relations.push(rel);
            }
        }
        for (e, info) in &mut entities {
            info.name = index.display_name(e);
            if let Some(entry) = index.library_entry(e) {
                info.refs.extend(entry.refs.iter().cloned());
                if info.description.is_none() && !entry.description.is_empty() {
                    info.description = Some(entry.description.clone());
                }
            }
            if let Some(sev) = analysis.threat_severity.get(e) {
                info.severity = Some(sev.value);
            }
        }
        // ThreatSpec ids: the slug of the key (else of the name); a clash or an empty slug
        // gets a hash suffix. Entities are visited in key order, so this is deterministic.
        let mut ts_ids = BTreeMap::new();
        let mut taken: BTreeSet<String> = BTreeSet::new();
        for (e, info) in &entities {
            let mut slug = threatspec_slug(&e.key);
            if slug.is_empty() {
                slug = threatspec_slug(&info.name);
            }
            if slug.is_empty() || taken.contains(&slug) {
                let h = &uuid_for("threatspec", &entity_text(e))[..8];
                slug = if slug.is_empty() { format!("x_{h}") } else { format!("{slug}_{h}") };
            }
            taken.insert(slug.clone());
            ts_ids.insert(e.clone(), format!("#{slug}"));
        }
        Model { index, analysis, relations, entities, ts_ids }
    }

    pub fn info(&self, e: &EntityKey) -> Option<&EntityInfo> {
        self.entities.get(e)
    }

    pub fn name(&self, e: &EntityKey) -> String {
        self.entities.get(e).map_or_else(|| e.key.to_string(), |i| i.name.clone())
    }

    /// `#slug`, matching `^#[a-z0-9_]+$`, unique per entity.
    pub fn threatspec_id(&self, e: &EntityKey) -> String {
        self.ts_ids
            .get(e)
            .cloned()
            .unwrap_or_else(|| format!("#x_{}", &uuid_for("threatspec", &entity_text(e))[..8]))
    }

    /// Entities of one kind, in key order.
    pub fn of_kind(&self, kind: EntityKind) -> impl Iterator<Item = (&EntityKey, &EntityInfo)> {
        self.entities.iter().filter(move |(e, _)| e.kind == kind)
    }

    /// STRIDE categories of a threat (see the module docs).
    pub fn stride(&self, threat: &EntityKey) -> BTreeSet<Stride> {
        match self.entities.get(threat) {
            Some(info) => stride_of(info.refs.iter().map(String::as_str)),
            None => stride_of([]),
        }
    }

    /// The status of one exposure (a [`Relation`] of an `@exposes`): `Open` when
    /// [`Analysis::coverage`] says so, else the strongest kind that covers it; `None` when its
    /// asset or threat does not resolve.
    pub fn exposure_state(&self, rel: &Relation) -> Option<ThreatState> {
        let coverage = self.analysis.coverage(rel.facts.path.as_str(), rel.index)?;
        Some(match coverage.state() {
            None => ThreatState::Open,
            Some(CoverKind::Mitigates) => ThreatState::Mitigated,
            Some(CoverKind::Accepts) => ThreatState::Accepted,
            Some(CoverKind::Transfers) => ThreatState::Transferred,
        })
    }

    /// Every (asset, threat) pair the project relates, with its status: exposures, confirmed
    /// findings, mitigations, acceptances and transfers (from side), in key order.
    pub fn threat_status(&self) -> BTreeMap<(EntityKey, EntityKey), ThreatState> {
        let mut out: BTreeMap<(EntityKey, EntityKey), ThreatState> = BTreeMap::new();
        for rel in &self.relations {
            let Some((asset, threat)) = rel.asset_and_threat() else { continue };
            if threat.kind != EntityKind::Threat {
                continue;
            }
            let state = match rel.meaning {
                analysis::Relation::Confirmation { .. } => ThreatState::Open,
                analysis::Relation::Exposure { .. } => self.exposure_state(rel).unwrap_or(ThreatState::Open),
                analysis::Relation::Mitigation { .. } => ThreatState::Mitigated,
                analysis::Relation::Acceptance { .. } => ThreatState::Accepted,
                _ => ThreatState::Transferred,
            };
            let slot = out.entry((asset.clone(), threat.clone())).or_insert(state);
            *slot = (*slot).min(state);
        }
        out
    }

    /// The diagram node key of an asset or actor (as in [`crate::render::dfd`]).
    pub fn node_key(&self, e: &EntityKey) -> Option<String> {
        let key = match e.kind {
            EntityKind::Asset => e.key.to_string(),
            EntityKind::Actor => path_key(&self.index.display_name(e)),
            _ => return None,
        };
        (!key.is_empty()).then_some(key)
    }
}

/// Severity spelled as Threat Dragon does (`TBD` when unknown).
pub fn severity_title(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Critical) => "Critical",
        Some(Severity::High) => "High",
        Some(Severity::Medium) => "Medium",
        Some(Severity::Low) => "Low",
        None => "TBD",
    }
}

/// At most `max` characters of `text` (whole characters; an ellipsis marks a cut).
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A JSON object of `entries`, in that order, the values moved in: `json!` would copy every
/// value given as an expression, which for the big arrays of a large model costs more than
/// building them.
pub fn object(entries: impl IntoIterator<Item = (&'static str, serde_json::Value)>) -> serde_json::Value {
    serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// The model-level description of the exports that have one (Threat Dragon's summary, Threat
/// Composer's application): who exported it, and [`crate::render::PROVENANCE`].
pub fn export_description() -> String {
    format!(
        "Exported by threat-analyzer from threat-model annotations in source comments. {}",
        crate::render::PROVENANCE
    )
}

/// Pretty JSON with a final newline, every string cleaned: the bytes every export writes
/// ([`crate::render::machine_json`]).
pub fn to_pretty(value: serde_json::Value) -> String {
    crate::render::machine_json(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_v4_shaped_and_stable() {
        let a = uuid_for("x", "threat:sqli");
        assert_eq!(a, uuid_for("x", "threat:sqli"));
        assert_ne!(a, uuid_for("y", "threat:sqli"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("héllo", 10), "héllo");
        assert_eq!(truncate("héllo", 3), "hé…");
    }
}
