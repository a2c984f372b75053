//! The coverage status of a project: how much of the code is modelled, and what the model
//! leaves open (`threat-analyzer status`, and the language server's `threat-analyzer.status`).
//!
//! Owns: [`Status`], its counting rules, and [`Analysis::status`]. Exposure states come from
//! the coverage rule ([`Analysis::coverage`]) and severities from the severity rule
//! ([`Analysis::exposure_severity`]); nothing here restates either. Must never: do I/O (the
//! walk's list of scanned files is given), or know how the numbers are shown.
//!
//! Counting rules:
//! - A scanned file is *annotated* when it holds at least one annotation. A file the walk's
//!   prefilter passed over (no annotation literal in it) was scanned and is unannotated; files
//!   the walk skipped (ignored, unknown language, binary, over the size limit, `.txt` not named)
//!   are not scanned and not counted. [`Status::unannotated_files`] lists only source files
//!   ([`Language::is_source`]): an annotation document without annotations is not unread code.
//! - Entities are those some annotation resolves to (as `check`'s summary counts them).
//! - An asset has *a threat recorded* when an exposure, finding, mitigation, acceptance or
//!   transfer names it with a threat; a threat is *mitigated somewhere* when any `@mitigates`
//!   names it; an asset is *owned* when an `@owns` names it.

use super::{Analysis, CoverKind, Relation};
use crate::file_id::FileId;
use crate::model::{EntityKey, ProjectIndex, Resolved};
use crate::syntax::verbs::canonical_spelling;
use crate::syntax::{EntityKind, Language, Severity};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Files by language: scanned, annotated, unannotated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileCounts {
    pub scanned: usize,
    pub annotated: usize,
    pub unannotated: usize,
}

/// Exposures whose asset and threat resolve, by coverage state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ByState {
    pub open: usize,
    pub mitigated: usize,
    pub accepted: usize,
    pub transferred: usize,
}

/// Exposures by effective severity; `unstated` when neither the exposure nor its threat says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BySeverity {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub unstated: usize,
}

impl BySeverity {
    fn add(&mut self, severity: Option<Severity>) {
        *match severity {
            Some(Severity::Critical) => &mut self.critical,
            Some(Severity::High) => &mut self.high,
            Some(Severity::Medium) => &mut self.medium,
            Some(Severity::Low) => &mut self.low,
            None => &mut self.unstated,
        } += 1;
    }
}

/// Exposures (`@exposes`) by state and severity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Exposures {
    /// Every `@exposes`.
    pub total: usize,
    /// Those whose asset or threat does not resolve: they have no state.
    pub unresolved: usize,
    pub by_state: ByState,
    /// Resolved exposures by severity.
    pub by_severity: BySeverity,
    /// Open exposures by severity: what is left to do.
    pub open_by_severity: BySeverity,
}

/// Assets named by an `@owns`, out of all assets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ownership {
    pub assets: usize,
    pub owned: usize,
    /// The names of the assets no `@owns` names, sorted.
    pub unowned: Vec<String>,
}

/// The coverage status of a project. Field names are the JSON output's keys (README, "Status").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    /// All scanned files.
    pub files: FileCounts,
    /// Scanned files by [`Language::name`].
    pub languages: BTreeMap<&'static str, FileCounts>,
    /// Source files with no annotation, in path order (JSON: `unannotated_files`, only when
    /// asked for).
    #[serde(skip)]
    pub unannotated_files: Vec<FileId>,
    pub annotations: usize,
    /// Annotations by verb (its canonical GAL spelling, [`canonical_spelling`]).
    pub annotations_by_verb: BTreeMap<&'static str, usize>,
    /// Assets no threat is recorded on (names, sorted).
    pub assets_without_threats: Vec<String>,
    /// Threats no `@mitigates` names anywhere (names, sorted).
    pub threats_without_mitigation: Vec<String>,
    pub exposures: Exposures,
    pub ownership: Ownership,
}

impl Analysis {
    /// The status of `index` (which this analysis was made from); `scanned` is every file the
    /// walk scanned with its language (annotated or not).
    pub fn status(&self, index: &ProjectIndex, scanned: &[(FileId, Language)]) -> Status {
        let mut status = Status::default();
        for (file, language) in scanned {
            let annotated = index.file(file.as_str()).is_some_and(|f| !f.annotations().is_empty());
            for counts in [&mut status.files, status.languages.entry(language.name()).or_default()] {
                counts.scanned += 1;
                if annotated {
                    counts.annotated += 1;
                } else {
                    counts.unannotated += 1;
                }
            }
            if !annotated && language.is_source() {
                status.unannotated_files.push(file.clone());
            }
        }

        let mut entities: BTreeSet<&EntityKey> = BTreeSet::new();
        let mut threatened: BTreeSet<&EntityKey> = BTreeSet::new();
        let mut mitigated: BTreeSet<&EntityKey> = BTreeSet::new();
        let mut owned: BTreeSet<&EntityKey> = BTreeSet::new();
        for facts in index.files() {
            let Some(resolved) = self.resolved.get(&facts.path) else { continue };
            for (i, ann) in facts.annotations().iter().enumerate() {
                status.annotations += 1;
                *status.annotations_by_verb.entry(canonical_spelling(ann.verb)).or_default() += 1;
                entities.extend(resolved[i].iter().filter_map(|r| match r {
                    Resolved::Entity(e) => Some(e),
                    _ => None,
                }));
                let Some(relation) = self.relation(facts, i) else { continue };
                if let Some((asset, threat)) = relation.asset_and_threat()
                    && let (Some(asset), Some(threat)) = (asset.entity(), threat.entity())
                {
                    threatened.insert(asset);
                    if matches!(relation, Relation::Mitigation { .. }) {
                        mitigated.insert(threat);
                    }
                }
                match relation {
                    Relation::Ownership { asset, .. } => owned.extend(asset.entity()),
                    Relation::Exposure { threat, .. } => {
                        status.exposures.total += 1;
                        let Some(coverage) = self.coverage(facts.path.as_str(), i) else {
                            status.exposures.unresolved += 1;
                            continue;
                        };
                        let state = &mut status.exposures.by_state;
                        *match coverage.state() {
                            None => &mut state.open,
                            Some(CoverKind::Mitigates) => &mut state.mitigated,
                            Some(CoverKind::Accepts) => &mut state.accepted,
                            Some(CoverKind::Transfers) => &mut state.transferred,
                        } += 1;
                        let severity = self.exposure_severity(facts, ann, threat.entity()).map(|s| s.value);
                        status.exposures.by_severity.add(severity);
                        if coverage.is_open() {
                            status.exposures.open_by_severity.add(severity);
                        }
                    }
                    _ => {}
                }
            }
        }

        let names = |kind: EntityKind, covered: &BTreeSet<&EntityKey>| -> Vec<String> {
            let mut out: Vec<String> = entities
                .iter()
                .filter(|e| e.kind == kind && !covered.contains(*e))
                .map(|e| index.display_name(e))
                .collect();
            out.sort();
            out
        };
        status.assets_without_threats = names(EntityKind::Asset, &threatened);
        status.threats_without_mitigation = names(EntityKind::Threat, &mitigated);
        let unowned = names(EntityKind::Asset, &owned);
        let assets = entities.iter().filter(|e| e.kind == EntityKind::Asset).count();
        status.ownership = Ownership { assets, owned: assets - unowned.len(), unowned };
        status
    }
}
