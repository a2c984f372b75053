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

use super::{Analysis, Arg, CoverKind, Relation};
use crate::diagnostic::{Code, Diagnostic};
use crate::file_id::FileId;
use crate::model::names::ancestors;
use crate::model::risk::{Band, Policies, RiskPolicy};
use crate::model::{EntityKey, FileFacts, ProjectIndex};
use crate::syntax::{Date, EntityKind, Rating, RiskFields, Severity};
use crate::text::TextRange;
use rustc_hash::FxHashMap as HashMap;

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
}

impl Tables {
    fn new(index: &ProjectIndex, analysis: &Analysis) -> Tables {
        let mut tables = Tables::default();
        for facts in index.files() {
            for (i, ann) in facts.annotations().iter().enumerate() {
                match analysis.relation(facts, i) {
                    Some(Relation::Definition { kind: EntityKind::Threat, entity }) => {
                        let (Some(key), Some(fields)) = (entity.entity(), ann.risk.as_deref()) else {
                            continue;
                        };
                        tables.threats.entry(key.clone()).or_default().fill(fields, Box::from);
                    }
                    Some(Relation::Ownership { owner, asset }) => {
                        if let Some(key) = asset.entity() {
                            tables
                                .owners
                                .entry(key.key.clone())
                                .or_insert_with(|| owner.value.as_str().into());
                        }
                    }
                    _ => {}
                }
            }
        }
        tables
    }
}

impl Analysis {
    /// The risk register's tables ([`Tables`]). `index` must be the index this analysis was
    /// made from: they are built once, on the first call.
    pub fn risk_tables(&self, index: &ProjectIndex) -> &Tables {
        self.risk_tables.get_or_init(|| Tables::new(index, self))
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
    let tables = analysis.risk_tables(index);
    annotations
        .into_iter()
        .filter_map(|(facts, i)| rate(tables, analysis, policies.of(facts.path.as_str()), facts, i, true))
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

/// The risk of annotation `i` of `facts` (`None`: it is no exposure or confirmed finding).
fn rate<'a>(
    tables: &'a Tables,
    analysis: &'a Analysis,
    policy: &RiskPolicy,
    facts: &'a FileFacts,
    i: usize,
    with_state: bool,
) -> Option<Risk<'a>> {
    let ann = facts.annotations().get(i)?;
    let (asset, threat, confirmed) = match analysis.relation(facts, i) {
        Some(Relation::Exposure { asset, threat }) => (asset, threat, false),
        Some(Relation::Confirmation { threat, asset }) => (asset, threat, true),
        _ => return None,
    };
    let mut own: ThreatRisk<&'a str> = ThreatRisk::default();
    if let Some(fields) = ann.risk.as_deref() {
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
        let key = asset.entity()?.key.as_str();
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
    let state = if confirmed || !with_state {
        None
    } else {
        analysis.coverage(facts.path.as_str(), i).and_then(|c| c.state())
    };
    Some(Risk {
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
        state,
    })
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
    let mut out = Vec::new();
    for risk in collect(index, analysis, policies, false) {
        let policy = policies.of(risk.file.as_str());
        let Some(facts) = index.file(risk.file.as_str()) else { continue };
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
    // Not `diagnostics::finish`: the anchor pass adds the project's `stale-anchor` findings,
    // which `Analysis::diagnostics` already holds. A risk finding on a `.gal` sidecar line is
    // reported at that line.
    super::diagnostics::order(&mut out);
    out
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
}
