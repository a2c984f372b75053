//! The risk register: each exposure's and confirmed finding's likelihood, impact, score,
//! band, owner, treatment state and due date, and the two risk diagnostics.
//!
//! Owns: which rating, owner and dates a risk takes ([`risks`]), and the `unowned-risk` and
//! `overdue-risk` checks ([`diagnostics`]). The band rule is [`RiskPolicy::band`]; coverage is
//! [`Analysis::coverage`]; severity is [`Analysis::exposure_severity_level`]. Must never: read
//! the clock (the caller passes today's date), or invent a score where only a severity is
//! written.
//!
//! # The rule
//!
//! - **Rating**: the exposure's own `risk:L<l>xI<i>`, else its threat definition's (the first in
//!   project order that has one). Score = likelihood × impact; the band comes from the score.
//!   Without a rating, the band comes from the effective severity (`[P1]`/`[high]`: high) and
//!   there is no score. Without either, no band.
//! - **Owner**: the exposure's own `owner:`, else its threat definition's, else the `@owns` of
//!   its asset or the nearest ancestor (`@owns team for Shop` owns `Shop.Orders`).
//! - **Due**: the exposure's own `due:`, else its threat definition's, else its `audited:`
//!   date (own, else the threat's) plus its band's SLA ([`RiskPolicy::sla_days`]).
//! - **State**: open, or what covers it (mitigated, accepted, transferred: the coverage rule).
//!   A confirmed finding is never covered.
//! - `unowned-risk` (warning): a risk whose band is at or above
//!   [`RiskPolicy::owner_required_from`] has no owner. `overdue-risk` (warning): an open risk
//!   whose due date is before today.

use super::coverage::CoverIndex;
use super::{Analysis, Arg, CoverKind, Relation, Resolutions, StatedSeverity};
use crate::diagnostic::{Code, Diagnostic};
use crate::file_id::FileId;
use crate::model::names::ancestors;
use crate::model::risk::{Band, Policies, RiskPolicy};
use crate::model::{EntityKey, FileFacts, Jagged, ProjectIndex, Resolved};
use crate::syntax::{Body, Date, EntityKind, Rating, RiskFields, Severity, Verb};
use crate::text::TextRange;
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

/// One risk: an `@exposes` or `@confirmed` annotation, rated.
#[derive(Clone, Debug)]
pub struct Risk<'a> {
    pub file: &'a FileId,
    /// Its index in the file's annotations, and its range.
    pub annotation: usize,
    pub range: TextRange,
    pub confirmed: bool,
    pub asset: Arg<'a>,
    pub threat: Arg<'a>,
    pub rating: Option<Rating>,
    /// From the rating's score, else from the severity.
    pub band: Option<Band>,
    pub severity: Option<Severity>,
    pub owner: Option<&'a str>,
    pub due: Option<Due>,
    /// `None`: open. Always `None` for a confirmed finding.
    pub state: Option<CoverKind>,
}

impl Risk<'_> {
    /// Likelihood × impact, when rated.
    pub fn score(&self) -> Option<u8> {
        self.rating.map(Rating::score)
    }

    /// `open`, `confirmed`, `mitigated`, `accepted` or `transferred`.
    pub fn status(&self) -> &'static str {
        match (self.confirmed, self.state) {
            (true, _) => "confirmed",
            (false, None) => "open",
            (false, Some(CoverKind::Mitigates)) => "mitigated",
            (false, Some(CoverKind::Accepts)) => "accepted",
            (false, Some(CoverKind::Transfers)) => "transferred",
        }
    }

    pub fn is_open(&self) -> bool {
        self.state.is_none()
    }

    /// Sets [`Risk::state`] by the coverage rule (a confirmed finding stays uncovered).
    pub fn state_from(&mut self, analysis: &Analysis) {
        if !self.confirmed {
            self.state = analysis.coverage(self.file.as_str(), self.annotation).and_then(|c| c.state());
        }
    }
}

/// When a risk's treatment is due, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    pub date: Date,
    /// `Some((audited, days))` when it is the audit date plus the band's SLA; `None` when
    /// written as `due:`.
    pub sla: Option<(Date, u32)>,
}

/// What the threat definitions say about risk, per threat (the first definition with each);
/// `S` is how an owner is held: borrowed from one annotation, or owned by [`Tables`].
#[derive(Debug)]
struct ThreatRisk<S> {
    rating: Option<Rating>,
    owner: Option<S>,
    due: Option<Date>,
    audited: Option<Date>,
}

impl<S> Default for ThreatRisk<S> {
    fn default() -> Self {
        ThreatRisk { rating: None, owner: None, due: None, audited: None }
    }
}

impl<S> ThreatRisk<S> {
    /// Takes from `fields` what is not set yet (the first definition with each field wins).
    fn fill<'f>(&mut self, fields: &'f RiskFields, owner: impl FnOnce(&'f str) -> S) {
        self.rating = self.rating.or(fields.rating.as_ref().map(|r| r.value));
        if self.owner.is_none() {
            self.owner = fields.owner.as_ref().map(|o| owner(o.value.as_str()));
        }
        self.due = self.due.or(fields.due.as_ref().map(|d| d.value));
        self.audited = self.audited.or(fields.audited.as_ref().map(|d| d.value));
    }
}

/// What every risk is rated from besides its own annotation: each threat's risk fields (the
/// first definition in project order with each) and each asset key's owner (the first
/// `@owns` in project order). Built once per analysis, on first use
/// ([`Analysis::risk_tables`]), so that rating one risk (a hover) does not walk the project.
#[derive(Debug, Default)]
pub struct Tables {
    threats: HashMap<EntityKey, ThreatRisk<Box<str>>>,
    owners: HashMap<String, Box<str>>,
    /// Some threat's fields hold a `due:` or `audited:` date (its risks may inherit a due
    /// date).
    dated: bool,
}

/// One file's contribution to [`Tables`]: a threat definition's risk fields, or an
/// ownership (`@owns owner for asset`: the asset's key and the owner).
#[derive(Debug, PartialEq)]
enum TableEntry<'a> {
    Threat(&'a EntityKey, &'a RiskFields),
    Owner(&'a str, &'a str),
}

/// The rule of what a file contributes to [`Tables`], in file order (`resolved`: the file's
/// resolution).
fn table_entries<'a>(
    facts: &'a FileFacts,
    resolved: &'a Jagged<Resolved>,
    mut entry: impl FnMut(TableEntry<'a>),
) {
    if !facts.verbs.any(&[Verb::Threat, Verb::Owns]) {
        return;
    }
    for (i, ann) in facts.annotations().iter().enumerate() {
        // Only a threat's definition or an ownership can be an entry: every other annotation
        // (nearly all of them) is passed over before its relation is looked up.
        if !matches!(ann.body, Body::Define { kind: EntityKind::Threat, .. } | Body::Owns { .. }) {
            continue;
        }
        let (Some(refs), Some(per_annotation)) = (facts.refs.get(i), resolved.get(i)) else { continue };
        match Relation::resolved(ann, refs, per_annotation) {
            Some(Relation::Definition { kind: EntityKind::Threat, entity }) => {
                if let (Some(key), Some(fields)) = (entity.entity(), ann.risk()) {
                    entry(TableEntry::Threat(key, fields));
                }
            }
            Some(Relation::Ownership { owner, asset }) => {
                if let Some(key) = asset.entity() {
                    entry(TableEntry::Owner(&key.key, owner.value.as_str()));
                }
            }
            _ => {}
        }
    }
}

impl Tables {
    fn new(index: &ProjectIndex, analysis: &Analysis) -> Tables {
        use rayon::prelude::*;
        let mut tables = Tables::default();
        // The resolutions hold the index's files in index order, each with its resolution:
        // read in turn, not looked up by path.
        debug_assert!(analysis.resolved.iter().map(|(f, _)| &f.path).eq(index.files().map(|f| &f.path)));
        // Each file's entries found on every core (a pass over the annotations of every file
        // with a `@threat` or `@owns`: over every annotation, 3-4.5 ms on one core for the
        // 20,000-file benchmark, 1.7-2.1 ms on two),
        // then taken in project order: the first definition with each field, and the first
        // owner, win.
        let files: Vec<_> = analysis.resolved.iter().collect();
        let entries: Vec<Vec<TableEntry<'_>>> = files
            .par_iter()
            .map(|(facts, resolved)| {
                let mut out = Vec::new();
                table_entries(facts, resolved, |entry| out.push(entry));
                out
            })
            .collect();
        for entry in entries.into_iter().flatten() {
            match entry {
                TableEntry::Threat(key, fields) => {
                    tables.dated |= fields.due.is_some() || fields.audited.is_some();
                    tables.threats.entry(key.clone()).or_default().fill(fields, Box::from);
                }
                TableEntry::Owner(key, owner) => {
                    if !tables.owners.contains_key(key) {
                        tables.owners.insert(key.to_string(), owner.into());
                    }
                }
            }
        }
        tables
    }

    /// Whether a file contributes the same to the tables in both versions.
    fn same_entries(old: (&FileFacts, &Jagged<Resolved>), new: (&FileFacts, &Jagged<Resolved>)) -> bool {
        let entries = |(facts, resolved)| {
            let mut out = Vec::new();
            table_entries(facts, resolved, |e| out.push(e));
            out
        };
        entries(old) == entries(new)
    }
}

impl Analysis {
    /// The risk register's tables ([`Tables`]). `index` must be the index this analysis was
    /// made from: they are built once, on the first call, or kept from the latest earlier
    /// analysis's risk findings (`Local`) when no edited file changed what it contributes.
    pub fn risk_tables(&self, index: &ProjectIndex) -> &Tables {
        self.shared_risk_tables(index)
    }

    pub(super) fn shared_risk_tables(&self, index: &ProjectIndex) -> &Arc<Tables> {
        self.risk_tables.get_or_init(|| {
            // The same files in the same order, each edited one adding the same entries.
            let carried = self.carried_risk.as_deref().filter(|c| {
                c.tables_revision == index.tables_revision()
                    && c.files.edited(&self.resolved).is_some_and(|edited| {
                        edited.iter().all(|&k| {
                            let ((old, old_resolved), (new, new_resolved)) =
                                (c.files.at(k), self.resolved.at(k));
                            old.path == new.path
                                && Tables::same_entries((old, old_resolved), (new, new_resolved))
                        })
                    })
            });
            match carried {
                Some(c) => c.tables.clone(),
                None => Arc::new(Tables::new(index, self)),
            }
        })
    }

    /// The risk findings ([`diagnostics_by`]) for `policies` and `today`, computed once per
    /// analysis for the same arguments, each unedited file's kept from the latest earlier
    /// analysis's where nothing they depend on changed ([`Local::new`]).
    pub(super) fn risk_findings(
        &self,
        index: &ProjectIndex,
        policies: &Policies,
        today: Option<Date>,
    ) -> Vec<Diagnostic> {
        let mut slot = self.risk_local.lock().unwrap_or_else(|e| e.into_inner());
        let local = match &*slot {
            Some(local) if local.policies == *policies && local.today == today => local.clone(),
            _ => {
                let carried = slot.clone().or_else(|| self.carried_risk.clone());
                let local = Arc::new(Local::new(index, self, policies, today, carried.as_deref()));
                *slot = Some(local.clone());
                local
            }
        };
        drop(slot);
        let mut out: Vec<Diagnostic> =
            local.diagnostics.iter().flat_map(|(_, d)| d.iter().cloned()).collect();
        super::diagnostics::order(&mut out);
        out
    }
}

/// Each file's risk findings and what they were computed under. A file's findings depend on
/// its facts and resolution, its policy and today's date, the [`Tables`], the threats'
/// stated severities and the coverage answers; the next analysis keeps those of the files it
/// did not resolve again when none of these changed.
#[derive(Debug)]
pub(super) struct Local {
    tables_revision: u64,
    policies: Policies,
    today: Option<Date>,
    covers: Arc<CoverIndex>,
    threat_severity: Arc<HashMap<EntityKey, StatedSeverity>>,
    tables: Arc<Tables>,
    /// The files in index order, as they were, and their resolution.
    files: Resolutions,
    /// `(position in files, its findings)` for the files that have any, in index order.
    diagnostics: Vec<(u32, Vec<Diagnostic>)>,
}

impl Local {
    fn new(
        index: &ProjectIndex,
        analysis: &Analysis,
        policies: &Policies,
        today: Option<Date>,
        carried: Option<&Local>,
    ) -> Local {
        let files = analysis.resolved.clone();
        let tables = analysis.shared_risk_tables(index);
        let carried = carried
            .filter(|c| {
                c.tables_revision == index.tables_revision()
                    && c.policies == *policies
                    && c.today == today
                    && Arc::ptr_eq(&c.tables, tables)
                    && c.threat_severity == analysis.threat_severity
                    && c.covers.same_answers(&analysis.covers)
            })
            .and_then(|c| Some((&c.diagnostics[..], c.files.edited(&files)?)));
        let diagnostics = super::diagnostics::per_file(&files, carried, |facts, resolved, own| {
            file_findings(tables, analysis, policies.of(facts.path.as_str()), facts, resolved, today, own)
        });
        Local {
            tables_revision: index.tables_revision(),
            policies: policies.clone(),
            today,
            covers: analysis.covers.clone(),
            threat_severity: analysis.threat_severity.clone(),
            tables: tables.clone(),
            files,
            diagnostics,
        }
    }
}

/// Every risk of the project, in project order (files in index order, annotations in file
/// order). Sorting for a register is the caller's (see [`by_score`]).
pub fn risks<'a>(index: &'a ProjectIndex, analysis: &'a Analysis, policy: &RiskPolicy) -> Vec<Risk<'a>> {
    risks_by(index, analysis, &Policies::one(policy.clone()))
}

/// [`risks`], each banded by its file's policy.
pub fn risks_by<'a>(index: &'a ProjectIndex, analysis: &'a Analysis, policies: &Policies) -> Vec<Risk<'a>> {
    collect(index, analysis, policies, true)
}

/// The risks of the given annotations (`(facts, index in the file)`), in the order given,
/// each as [`risks_by`] gives it: for the editor's queries about one file or one entity,
/// without rating the whole project. Annotations that are no risk are skipped.
pub fn risks_of<'a>(
    index: &'a ProjectIndex,
    analysis: &'a Analysis,
    policies: &Policies,
    annotations: impl IntoIterator<Item = (&'a FileFacts, usize)>,
) -> Vec<Risk<'a>> {
    let mut risks = risks_of_unstated(index, analysis, policies, annotations);
    for risk in &mut risks {
        risk.state_from(analysis);
    }
    risks
}

/// [`risks_of`] with every risk left open ([`Risk::state`] `None`) until
/// [`Risk::state_from`] asks the coverage rule: for a query that shows the state of only
/// some of the risks it rates.
pub fn risks_of_unstated<'a>(
    index: &'a ProjectIndex,
    analysis: &'a Analysis,
    policies: &Policies,
    annotations: impl IntoIterator<Item = (&'a FileFacts, usize)>,
) -> Vec<Risk<'a>> {
    let tables = analysis.risk_tables(index);
    // One policy lookup per file: callers give the annotations file by file.
    let mut last: Option<(&FileFacts, &RiskPolicy)> = None;
    annotations
        .into_iter()
        .filter_map(|(facts, i)| {
            // Most annotations naming an entity are no risk: skipped before any lookup.
            if !is_risk(facts, i) {
                return None;
            }
            let policy = match last {
                Some((file, policy)) if std::ptr::eq(file, facts) => policy,
                _ => last.insert((facts, policies.of(facts.path.as_str()))).1,
            };
            rate(tables, analysis, policy, facts, i, false)
        })
        .collect()
}

/// [`risks`]; without `with_state` every risk is left open ([`Risk::state`] `None`): the
/// checks ask the coverage rule only for the risks whose state matters to them.
fn collect<'a>(
    index: &'a ProjectIndex,
    analysis: &'a Analysis,
    policies: &Policies,
    with_state: bool,
) -> Vec<Risk<'a>> {
    let tables = analysis.risk_tables(index);
    let mut out = Vec::new();
    for facts in index.files() {
        let policy = policies.of(facts.path.as_str());
        for i in 0..facts.annotations().len() {
            out.extend(rate(tables, analysis, policy, facts, i, with_state));
        }
    }
    out
}

/// Whether annotation `i` of `facts` is an exposure or a confirmed finding (what [`rate`]
/// rates), from its kind alone.
fn is_risk(facts: &FileFacts, i: usize) -> bool {
    matches!(facts.annotations().get(i).map(|a| &a.body), Some(Body::Exposes { .. } | Body::Confirmed { .. }))
}

/// The risk of annotation `i` of `facts` (`None`: it is no exposure or confirmed finding).
fn rate<'a>(
    tables: &'a Tables,
    analysis: &'a Analysis,
    policy: &RiskPolicy,
    facts: &'a FileFacts,
    i: usize,
    with_state: bool,
) -> Option<Risk<'a>> {
    rate_resolved(tables, analysis, policy, facts, analysis.resolved.get(&facts.path)?, i, with_state)
}

/// [`rate`] for a caller that holds the file's resolution in `analysis` (`resolved`) already.
fn rate_resolved<'a>(
    tables: &'a Tables,
    analysis: &'a Analysis,
    policy: &RiskPolicy,
    facts: &'a FileFacts,
    resolved: &'a Jagged<Resolved>,
    i: usize,
    with_state: bool,
) -> Option<Risk<'a>> {
    let ann = facts.annotations().get(i)?;
    let (asset, threat, confirmed) = match Relation::of_file(facts, resolved, i) {
        Some(Relation::Exposure { asset, threat }) => (asset, threat, false),
        Some(Relation::Confirmation { threat, asset }) => (asset, threat, true),
        _ => return None,
    };
    let mut own: ThreatRisk<&'a str> = ThreatRisk::default();
    if let Some(fields) = ann.risk() {
        own.fill(fields, |owner| owner);
    }
    let inherited = threat.entity().and_then(|t| tables.threats.get(t));
    let rating = own.rating.or_else(|| inherited.and_then(|t| t.rating));
    let severity = analysis.exposure_severity_level(ann, threat.entity());
    let band = match rating {
        Some(r) => Some(policy.band(r.score())),
        None => severity.map(Band::of_severity),
    };
    let owner = own.owner.or_else(|| inherited.and_then(|t| t.owner.as_deref())).or_else(|| {
        // No `@owns` in the project: no ancestor keys to cut and look up.
        if tables.owners.is_empty() {
            return None;
        }
        let key = &*asset.entity()?.key;
        std::iter::once(key).chain(ancestors(key)).find_map(|k| tables.owners.get(k).map(|o| &**o))
    });
    let due = match own.due.or_else(|| inherited.and_then(|t| t.due)) {
        Some(date) => Some(Due { date, sla: None }),
        None => own.audited.or_else(|| inherited.and_then(|t| t.audited)).and_then(|audited| {
            let days = policy.sla_days[band?.index()]?;
            let date = Date::from_days(audited.days() + i64::from(days));
            Some(Due { date, sla: Some((audited, days)) })
        }),
    };
    let mut risk = Risk {
        file: &facts.path,
        annotation: i,
        range: ann.range,
        confirmed,
        asset,
        threat,
        rating,
        band,
        severity,
        owner,
        due,
        state: None,
    };
    if with_state {
        risk.state_from(analysis);
    }
    Some(risk)
}

/// The register's order: highest score first, then highest band (a severity-only risk after
/// the scored risks of its band), then project order.
pub fn by_score(a: &Risk<'_>, b: &Risk<'_>) -> std::cmp::Ordering {
    b.band
        .cmp(&a.band)
        .then_with(|| b.score().cmp(&a.score()))
        .then_with(|| a.file.cmp(b.file))
        .then_with(|| a.annotation.cmp(&b.annotation))
}

/// `unowned-risk` and `overdue-risk` for every risk (see the module docs); `today` is the date
/// the due dates are compared with (`None`: no `overdue-risk`).
pub fn diagnostics(
    index: &ProjectIndex,
    analysis: &Analysis,
    policy: &RiskPolicy,
    today: Option<Date>,
) -> Vec<Diagnostic> {
    diagnostics_by(index, analysis, &Policies::one(policy.clone()), today)
}

/// [`diagnostics`], each risk checked by its file's policy.
pub fn diagnostics_by(
    index: &ProjectIndex,
    analysis: &Analysis,
    policies: &Policies,
    today: Option<Date>,
) -> Vec<Diagnostic> {
    let tables = analysis.shared_risk_tables(index);
    let mut out = Vec::new();
    for facts in index.files() {
        let Some(resolved) = analysis.resolved.get(&facts.path) else { continue };
        file_findings(tables, analysis, policies.of(facts.path.as_str()), facts, resolved, today, &mut out);
    }
    // Not `diagnostics::finish`: the anchor pass adds the project's `stale-anchor` findings,
    // which `Analysis::diagnostics` already holds. A risk finding on a `.gal` sidecar line is
    // reported at that line.
    super::diagnostics::order(&mut out);
    out
}

/// `unowned-risk` and `overdue-risk` for the risks of one file (`resolved`: its resolution
/// in `analysis`), under its `policy`.
fn file_findings(
    tables: &Tables,
    analysis: &Analysis,
    policy: &RiskPolicy,
    facts: &FileFacts,
    resolved: &Jagged<Resolved>,
    today: Option<Date>,
    out: &mut Vec<Diagnostic>,
) {
    // A risk is a finding only when it lacks an owner the policy requires, or is past a due
    // date, which it has only from a `due:` or (with an SLA) an `audited:` date of its own or
    // of its threat's: with no owner required and no such date, rating it finds nothing (half
    // of the risk pass on the 20,000-file benchmark, ~5 ms for 100,000 exposures and no
    // finding).
    let owner_required = policy.owner_required_from.is_some();
    // A file without exposures or confirmed findings, or with no risk that can be a finding,
    // is passed over without reading its annotations.
    if !facts.verbs.any(&[Verb::Exposes, Verb::Confirmed])
        || !(owner_required || (today.is_some() && (tables.dated || facts.risk_dates)))
    {
        return;
    }
    let may_be_due = |i: usize| {
        today.is_some()
            && (tables.dated
                || facts.annotations()[i].risk().is_some_and(|r| r.due.is_some() || r.audited.is_some()))
    };
    // Most annotations are no risk: skipped before their relation is looked up.
    for i in
        (0..facts.annotations().len()).filter(|&i| is_risk(facts, i) && (owner_required || may_be_due(i)))
    {
        let Some(risk) = rate_resolved(tables, analysis, policy, facts, resolved, i, false) else { continue };
        let what =
            || format!("`{}` on `{}`", facts.slice(risk.threat.range()), facts.slice(risk.asset.range()));
        let band_text = |band: Band| match risk.score() {
            Some(score) => format!("{} (score {score})", band.as_str()),
            None => band.as_str().to_string(),
        };
        if let (Some(band), Some(from)) = (risk.band, policy.owner_required_from)
            && band >= from
            && risk.owner.is_none()
        {
            let message = format!(
                "{} is a {} risk without an owner: write `owner:<team>` on it or `@owns <team> for` its asset \
             (risks from {} up need one)",
                what(),
                band_text(band),
                from.as_str()
            );
            out.push(super::diagnostics::diag(Code::UnownedRisk, risk.file, risk.range, message));
        }
        // Only a risk past its date asks the coverage rule whether it is still open.
        let open = || {
            risk.confirmed
                || analysis.coverage(risk.file.as_str(), risk.annotation).and_then(|c| c.state()).is_none()
        };
        if let (Some(today), Some(due)) = (today, risk.due)
            && due.date < today
            && open()
        {
            let why = match due.sla {
                None => format!("due {}", due.date),
                Some((audited, days)) => {
                    format!("due {} (audited {audited}, {days}-day SLA of its band)", due.date)
                }
            };
            let band = risk.band.map_or(String::new(), |b| format!("{} ", band_text(b)));
            let message = format!(
                "{} is an untreated {band}risk past its treatment date: {why}; today is {today}",
                what()
            );
            out.push(super::diagnostics::diag(Code::OverdueRisk, risk.file, risk.range, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FileFacts;
    use crate::syntax::Language;
    use std::sync::Arc;

    fn index(text: &str) -> ProjectIndex {
        let mut index = ProjectIndex::default();
        index.set_file(Arc::new(FileFacts::new(
            FileId::relative("model.gal"),
            Language::Gal,
            Arc::from(text),
        )));
        index
    }

    fn date(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    /// `(threat as written, score, band, owner, due, status)`.
    type Row = (String, Option<u8>, Option<&'static str>, Option<String>, Option<String>, &'static str);

    /// A [`Row`] for every risk, register order.
    fn register(text: &str) -> Vec<Row> {
        let index = index(text);
        let analysis = Analysis::new(&index);
        let mut risks = risks(&index, &analysis, &RiskPolicy::default());
        risks.sort_by(by_score);
        let facts = index.files().next().unwrap().clone();
        risks
            .iter()
            .map(|r| {
                (
                    facts.slice(r.threat.range()).to_string(),
                    r.score(),
                    r.band.map(Band::as_str),
                    r.owner.map(str::to_string),
                    r.due.map(|d| d.date.to_string()),
                    r.status(),
                )
            })
            .collect()
    }

    #[test]
    fn ratings_owners_and_due_dates_follow_the_rule() {
        let text = "\
@asset Shop.Api (#api)
@threat SQLi (#sqli) [high] risk:L3xI4 owner:team-db
@threat XSS (#xss) [medium]
@threat DoS (#dos)
@threat IDOR (#idor) risk:L5xI5 audited:2026-11-01
@owns team-shop for Shop
@exposes #api to #sqli risk:L4xI5 due:2026-12-01
@exposes #api to #xss
@exposes #api to #dos
@exposes #api to #idor
@confirmed #sqli on #api
@exposes #api to #sqli [low]
@mitigates #api against #xss
";
        assert_eq!(
            register(text),
            [
                // The threat's rating; audited + the critical SLA (1 day); the asset's ancestor's owner.
                (
                    "#idor".into(),
                    Some(25),
                    Some("critical"),
                    Some("team-shop".into()),
                    Some("2026-11-02".into()),
                    "open"
                ),
                // Own rating and due date; the threat's owner.
                (
                    "#sqli".into(),
                    Some(20),
                    Some("critical"),
                    Some("team-db".into()),
                    Some("2026-12-01".into()),
                    "open"
                ),
                ("#sqli".into(), Some(12), Some("high"), Some("team-db".into()), None, "confirmed"),
                // A rating (here the threat's) decides the band over a written severity.
                ("#sqli".into(), Some(12), Some("high"), Some("team-db".into()), None, "open"),
                // Only a severity: its band, no score invented.
                ("#xss".into(), None, Some("medium"), Some("team-shop".into()), None, "mitigated"),
                ("#dos".into(), None, None, Some("team-shop".into()), None, "open"),
            ]
        );
    }

    fn codes(text: &str, today: &str) -> Vec<(Code, String)> {
        let index = index(text);
        let analysis = Analysis::new(&index);
        let facts = index.files().next().unwrap().clone();
        diagnostics(&index, &analysis, &RiskPolicy::default(), Some(date(today)))
            .into_iter()
            .map(|d| (d.code, facts.slice(d.range).to_string()))
            .collect()
    }

    #[test]
    fn unowned_risks_from_the_configured_band() {
        let text = "\
@asset Api (#api)
@threat T (#t)
@exposes #api to #t risk:L4xI3
@exposes #api to #t risk:L3xI3
@exposes #api to #t [P1]
@exposes #api to #t risk:L5xI4 owner:sec
";
        // Off by default.
        assert_eq!(codes(text, "2026-01-01"), []);
        let index = index(text);
        let analysis = Analysis::new(&index);
        let policy = RiskPolicy { owner_required_from: Some(Band::High), ..RiskPolicy::default() };
        let found: Vec<_> = diagnostics(&index, &analysis, &policy, None)
            .into_iter()
            .map(|d| (d.code, index.files().next().unwrap().slice(d.range).to_string()))
            .collect();
        assert_eq!(
            found,
            [
                (Code::UnownedRisk, "@exposes #api to #t risk:L4xI3".to_string()),
                (Code::UnownedRisk, "@exposes #api to #t [P1]".to_string()),
            ]
        );
        // From critical only: the score 12 and the [P1] pass.
        let policy = RiskPolicy { owner_required_from: Some(Band::Critical), ..RiskPolicy::default() };
        assert!(diagnostics(&index, &analysis, &policy, None).is_empty());
    }

    #[test]
    fn overdue_risks_by_due_date_or_sla_and_only_while_open() {
        let text = "\
@asset Api (#api)
@threat T (#t)
@threat U (#u)
@owns sec for Api
@exposes #api to #t risk:L2xI2 due:2026-03-01
@exposes #api to #t risk:L2xI3 audited:2026-02-01
@exposes #api to #u risk:L1xI1 audited:2020-01-01
@exposes #api to #u [low] audited:2026-01-01
@mitigates #api against #u
";
        // Medium (6): 28 days after 2026-02-01 is 2026-03-01. Info has no SLA; #u is mitigated.
        assert!(codes(text, "2026-03-01").is_empty(), "due today is not overdue");
        assert_eq!(
            codes(text, "2026-03-02"),
            [
                (Code::OverdueRisk, "@exposes #api to #t risk:L2xI2 due:2026-03-01".into()),
                (Code::OverdueRisk, "@exposes #api to #t risk:L2xI3 audited:2026-02-01".into()),
            ]
        );
    }

    /// A threat's fields and an asset's owner come from the first file in project order that
    /// states each, also when many files lie between (the tables are gathered on every core).
    #[test]
    fn the_first_statement_in_project_order_wins_across_files() {
        let mut index = ProjectIndex::default();
        let mut add = |path: String, text: String| {
            index.set_file(Arc::new(FileFacts::new(
                FileId::relative(path),
                Language::Python,
                Arc::from(text),
            )))
        };
        add("a.py".into(), "# @threat T (#t) risk:L1xI2\n# @threat U (#u)\n# @owns team-a for Api\n".into());
        for k in 0..300 {
            add(format!("m/f{k:03}.py"), format!("# @asset Other{k} (#o{k})\n"));
        }
        add(
            "z.py".into(),
            "# @threat T (#t) risk:L5xI5 owner:team-z due:2020-01-01\n# @owns team-z for Api\n\
             # @exposes Api to #t\n# @exposes Api to #u\n"
                .into(),
        );
        let analysis = Analysis::new(&index);
        let rows: Vec<_> = risks(&index, &analysis, &RiskPolicy::default())
            .iter()
            .map(|r| (r.score(), r.owner.map(str::to_string), r.due.map(|d| d.date.to_string())))
            .collect();
        assert_eq!(
            rows,
            [
                (Some(2), Some("team-z".to_string()), Some("2020-01-01".to_string())),
                (None, Some("team-a".to_string()), None),
            ]
        );
    }

    /// A risk with no date of its own is overdue by its threat's `due:`, or by its threat's
    /// `audited:` and its band's SLA, also when nothing else in the project has a date and no
    /// owner is required (what `file_findings` passes over must not include it).
    #[test]
    fn a_risk_without_dates_is_overdue_by_its_threats() {
        let text = "\
@asset Api (#api)
@threat T (#t) due:2026-03-01
@threat U (#u) risk:L2xI3 audited:2026-02-01
@exposes #api to #t
@exposes #api to #u
";
        assert!(codes(text, "2026-03-01").is_empty(), "due today is not overdue");
        assert_eq!(
            codes(text, "2026-03-02"),
            [
                (Code::OverdueRisk, "@exposes #api to #t".into()),
                (Code::OverdueRisk, "@exposes #api to #u".into()),
            ]
        );
        // Without a date to compare with, nothing is overdue.
        let index = index(text);
        assert!(diagnostics(&index, &Analysis::new(&index), &RiskPolicy::default(), None).is_empty());
    }

    #[test]
    fn band_boundaries_through_annotations() {
        for (rating, score, band) in [
            ("L1xI1", 1, "info"),
            ("L1xI2", 2, "low"),
            ("L1xI5", 5, "low"),
            ("L2xI3", 6, "medium"),
            ("L1xI11", 0, ""),
            ("L3xI4", 12, "high"),
            ("L4xI5", 20, "critical"),
            ("L5xI5", 25, "critical"),
        ] {
            let text = format!("@asset Api (#api)\n@threat T (#t)\n@exposes #api to #t risk:{rating}\n");
            let got = register(&text);
            if score == 0 {
                assert_eq!(got[0].1, None, "{rating} is not a rating");
            } else {
                assert_eq!((got[0].1, got[0].2), (Some(score), Some(band)), "{rating}");
            }
        }
    }

    #[test]
    fn unedited_files_keep_their_findings_only_while_what_they_read_is_the_same() {
        let exposures = "# @threat XSS (#xss)\n# @exposes Shop.Web to #xss risk:L4xI4 audited:2020-01-01\n# @exposes Shop.Orders to #inj [high]\n";
        // Each version of the other file changes only what the first file's findings read
        // from it (a threat's rating, an owner, what covers an overdue risk), or moves it.
        let versions = [
            "# @threat Injection (#inj) risk:L2xI3 owner:team-db due:2021-01-01\n# @owns team-web for Shop.Web\n# @accepts #xss on Shop.Api\n",
            "# @threat Injection (#inj) risk:L5xI5\n# @owns team-ops for Shop.Web\n# @accepts #xss on Shop.Api\n",
            "# @threat Injection (#inj) risk:L5xI5\n# @owns team-ops for Shop.Web\n# @transfers #xss from Shop.Web to Shop.Api\n",
            "# @exposes #typed-asset to #t\n# @threat Injection (#inj) risk:L5xI5\n# @owns team-ops for Shop.Web\n# @transfers #xss from Shop.Web to Shop.Api\n",
            "# @threat Injection (#inj) risk:L2xI3 owner:team-db due:2021-01-01\n# @owns team-web for Shop.Web\n# @accepts #xss on Shop.Api\n",
        ];
        let file = |path: &str, text: &str| {
            Arc::new(FileFacts::new(FileId::relative(path), Language::Python, Arc::from(text)))
        };
        let policies =
            Policies::one(RiskPolicy { owner_required_from: Some(Band::Low), ..RiskPolicy::default() });
        let today = Some(date("2026-06-01"));
        let mut index = ProjectIndex::default();
        index.set_file(file("a.py", exposures));
        let mut previous: Option<Analysis> = None;
        let mut seen = Vec::new();
        for (step, text) in versions.iter().enumerate() {
            index.set_file(file("b.py", text));
            let analysis = Analysis::update(previous.as_ref(), &index);
            let findings = |a: &Analysis| -> Vec<String> {
                a.diagnostics_with_risk(&index, &policies, today, &[])
                    .iter()
                    .map(|d| format!("{d:?}"))
                    .collect()
            };
            let got = findings(&analysis);
            assert_eq!(got, findings(&Analysis::new(&index)), "step {step}");
            seen.push(got);
            previous = Some(analysis);
        }
        // The versions do change the unedited file's findings.
        assert_ne!(seen[0], seen[1]);
        assert_ne!(seen[1], seen[2]);
    }
}
