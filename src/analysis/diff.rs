//! The model diff: what a change did to the threat model, between two analysed projects (a
//! base and a head), classified by what it means for risk.
//!
//! Owns: [`ModelDiff::between`], the matching of entities and relations across the two sides,
//! the change classes ([`Class`]), each change's [`Impact`] and risk rank, and the diff's
//! [`DiffSummary`]. Every exposure's state comes from the coverage rule
//! ([`Analysis::coverage`]) and every severity from the severity rule
//! ([`Analysis::exposure_severity`]) of its own side; nothing here restates either. Must never:
//! do I/O or read git (the caller scans both sides), decide exit codes, format anything (the
//! renderers in `render::diff` do), or decide trust-boundary membership (the diagram's rule,
//! handed in as [`Side::zone`]).
//!
//! # Matching
//!
//! File paths are compared relative to each side's root ([`Side::root`] is stripped from every
//! file id), but nothing is matched by file: moving an annotation to another file changes
//! nothing.
//! - **Entities** (assets, threats, controls, actors, boundaries; defined or only named) match
//!   by key (kind and id, normalised name or asset path), then by an explicit id both sides
//!   declare, then by a normalised name both sides declare. So the language server's rename of
//!   `#sqli` to `#sql-inj` (which rewrites the id everywhere, the name stays) is one entity,
//!   reported as renamed. Everything below compares entities through this matching.
//! - **Exposures** (`@exposes`) and **findings** (`@confirmed`) match by asset and threat;
//!   several of one pair pair up by same file and same line text, then same file, then order.
//! - **Mitigations, acceptances, transfers** match by kind, asset, threat and control;
//!   **flows** by their two ends, direction and mechanism (compared ignoring case, so a flow
//!   whose mechanism changes is a removed flow and a new one); **`@boundary`s without an id** by
//!   their two sides and whether they are directed (`from <outer> to <inner>`: a direction
//!   given, taken away or turned is a removed boundary and a new one; an undirected
//!   boundary's sides are a set). A **`@boundary` with an id** is an entity; when it matches,
//!   its sides and direction are compared the same way, and a difference is
//!   [`Class::BoundaryChanged`].
//! - **Diagnostics** other than `unmitigated-exposure` and `confirmed-finding` (which are the
//!   exposure classes) match by code, file and the text of their line without whitespace (the
//!   SARIF fingerprint's content), as many times as they occur.
//!
//! # Classes and impact
//!
//! See [`Class`]. Risk increases: a new unmitigated exposure, a defence removed (an exposure
//! covered on the base is open on the head), a new confirmed finding, a raised severity of an
//! exposure that is open (or a finding), and a new flow that crosses a trust boundary. Changes
//! a reviewer should look at without being a risk increase ([`Impact::Review`]): an acceptance
//! or transfer added (a governance decision), an exposure whose mitigation gave way to an
//! acceptance or transfer, a lowered severity of an open exposure, a trust boundary removed or
//! changed, a new error or warning diagnostic.

use super::{Analysis, CoverKind, Relation, StatedSeverity};
use crate::diagnostic::{Code, Diagnostic, Level};
use crate::file_id::FileId;
use crate::model::{EntityKey, FileFacts, Lookup, ProjectIndex};
use crate::syntax::{Body, EntityKind, Severity};
use crate::text::{ColumnUnit, TextRange};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};

/// One side of the comparison: a project's index, its analysis and diagnostics.
pub struct Side<'a> {
    pub index: &'a ProjectIndex,
    pub analysis: &'a Analysis,
    /// The diagnostics to compare (the analysis' own, after any level overrides).
    pub diagnostics: &'a [Diagnostic],
    /// Stripped from the front of every file id to get the path compared with the other side
    /// and shown (empty when the ids are already relative to the project root).
    pub root: &'a str,
    /// The trust boundary an asset or actor lies in, by its title, if any: the data-flow
    /// diagram's rule (`render::dfd`), which this layer cannot name.
    pub zone: &'a dyn Fn(&EntityKey) -> Option<String>,
}

/// Which side a place is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Which {
    Base,
    Head,
}

/// A place on one side: the compared path, 1-based line and character column, exclusive end.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Place {
    pub side: Which,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

/// One piece of a change's message: threat-analyzer's words, or a name from the repository
/// (untrusted: each renderer quotes and escapes it its own way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Text(&'static str),
    Name(String),
}

/// A change's sentence, as parts (see [`Part`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message(pub Vec<Part>);

impl Message {
    fn text(mut self, text: &'static str) -> Message {
        self.0.push(Part::Text(text));
        self
    }
    fn name(mut self, name: impl Into<String>) -> Message {
        self.0.push(Part::Name(name.into()));
        self
    }
    /// The sentence with names in backticks (the JSON output's form; renderers for terminals
    /// and documents also clean or escape it).
    pub fn plain(&self) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Name(n) => {
                    out.push('`');
                    out.push_str(n);
                    out.push('`');
                }
            }
        }
        out
    }
}

fn say(text: &'static str) -> Message {
    Message::default().text(text)
}

/// What kind of change. Serialised in kebab case (`new-unmitigated-exposure`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// An exposure on the head that nothing covers and that the base did not have.
    NewUnmitigatedExposure,
    /// An exposure covered on the base is open on the head: its mitigation, acceptance or
    /// transfer (or the control it named) is gone. `related` holds the lost covers (base).
    DefenceRemoved,
    /// A `@confirmed` finding the base did not have.
    NewConfirmedFinding,
    /// The effective severity of an exposure or finding went up (`previous_severity`).
    SeverityRaised,
    /// The effective severity of an exposure or finding went down.
    SeverityLowered,
    /// An exposure open on the base is covered on the head, or gone ([`Resolution`]).
    ExposureResolved,
    /// An exposure covered on both sides, but differently: a mitigation gave way to an
    /// acceptance or transfer (or the reverse). `resolution` is the head's state.
    CoverageChanged,
    /// A new exposure that is already covered on the head.
    ExposureAdded,
    /// An exposure covered on the base and gone from the head.
    ExposureRemoved,
    /// A `@confirmed` finding of the base is gone.
    FindingResolved,
    /// A new `@accepts` (a governance decision reviewers should see; `note` is its reason).
    AcceptanceAdded,
    /// A new `@transfers` (a governance decision reviewers should see).
    TransferAdded,
    AcceptanceRemoved,
    TransferRemoved,
    MitigationAdded,
    MitigationRemoved,
    /// A new flow; `crosses` says which trust boundaries it crosses, if any.
    FlowAdded,
    FlowRemoved,
    /// A new asset, threat, control, actor or boundary (`entity_kind`).
    EntityAdded,
    EntityRemoved,
    /// The same entity under another key (a renamed id, or an id given to a named entity).
    EntityRenamed,
    /// A trust boundary with an id (the same entity on both sides) now separates other
    /// components, or its direction was given, taken away or turned.
    BoundaryChanged,
    /// A diagnostic the base did not have (`code`, `level`).
    DiagnosticAdded,
    /// A diagnostic of the base that the head no longer has.
    DiagnosticResolved,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::NewUnmitigatedExposure => "new-unmitigated-exposure",
            Class::DefenceRemoved => "defence-removed",
            Class::NewConfirmedFinding => "new-confirmed-finding",
            Class::SeverityRaised => "severity-raised",
            Class::SeverityLowered => "severity-lowered",
            Class::ExposureResolved => "exposure-resolved",
            Class::CoverageChanged => "coverage-changed",
            Class::ExposureAdded => "exposure-added",
            Class::ExposureRemoved => "exposure-removed",
            Class::FindingResolved => "finding-resolved",
            Class::AcceptanceAdded => "acceptance-added",
            Class::TransferAdded => "transfer-added",
            Class::AcceptanceRemoved => "acceptance-removed",
            Class::TransferRemoved => "transfer-removed",
            Class::MitigationAdded => "mitigation-added",
            Class::MitigationRemoved => "mitigation-removed",
            Class::FlowAdded => "flow-added",
            Class::FlowRemoved => "flow-removed",
            Class::EntityAdded => "entity-added",
            Class::EntityRemoved => "entity-removed",
            Class::EntityRenamed => "entity-renamed",
            Class::BoundaryChanged => "boundary-changed",
            Class::DiagnosticAdded => "diagnostic-added",
            Class::DiagnosticResolved => "diagnostic-resolved",
        }
    }

    /// A short title for groups of this class (`New unmitigated exposures`).
    pub fn title(self) -> &'static str {
        match self {
            Class::NewUnmitigatedExposure => "New unmitigated exposures",
            Class::DefenceRemoved => "Defences removed",
            Class::NewConfirmedFinding => "New confirmed findings",
            Class::SeverityRaised => "Severities raised",
            Class::SeverityLowered => "Severities lowered",
            Class::ExposureResolved => "Exposures resolved",
            Class::CoverageChanged => "Coverage changed",
            Class::ExposureAdded => "New covered exposures",
            Class::ExposureRemoved => "Covered exposures removed",
            Class::FindingResolved => "Findings resolved",
            Class::AcceptanceAdded => "Acceptances added",
            Class::TransferAdded => "Transfers added",
            Class::AcceptanceRemoved => "Acceptances removed",
            Class::TransferRemoved => "Transfers removed",
            Class::MitigationAdded => "Mitigations added",
            Class::MitigationRemoved => "Mitigations removed",
            Class::FlowAdded => "Flows added",
            Class::FlowRemoved => "Flows removed",
            Class::EntityAdded => "Entities added",
            Class::EntityRemoved => "Entities removed",
            Class::EntityRenamed => "Entities renamed",
            Class::BoundaryChanged => "Trust boundaries changed",
            Class::DiagnosticAdded => "New diagnostics",
            Class::DiagnosticResolved => "Diagnostics resolved",
        }
    }
}

/// What a change does to risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impact {
    /// The model says the risk is higher (see the module docs).
    RiskIncrease,
    /// Not a risk increase, but a decision or a loss of information a reviewer should see.
    Review,
    /// The model says the risk is lower.
    RiskDecrease,
    /// Bookkeeping: added or removed entities, covered exposures, mitigations added.
    Neutral,
}

impl Impact {
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::RiskIncrease => "risk-increase",
            Impact::Review => "review",
            Impact::RiskDecrease => "risk-decrease",
            Impact::Neutral => "neutral",
        }
    }
}

/// How an exposure stopped being open, or is covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Resolution {
    Mitigated,
    Accepted,
    Transferred,
    /// The exposure annotation is gone.
    Removed,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Mitigated => "mitigated",
            Resolution::Accepted => "accepted",
            Resolution::Transferred => "transferred",
            Resolution::Removed => "removed",
        }
    }

    fn of(kind: CoverKind) -> Resolution {
        match kind {
            CoverKind::Mitigates => Resolution::Mitigated,
            CoverKind::Accepts => Resolution::Accepted,
            CoverKind::Transfers => Resolution::Transferred,
        }
    }
}

/// A severity as written (`P1`) and what it counts as (`high`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rated {
    pub level: Severity,
    pub word: String,
}

impl From<StatedSeverity> for Rated {
    fn from(s: StatedSeverity) -> Rated {
        Rated { level: s.value, word: s.word }
    }
}

/// A related place with what it is (`was mitigated here`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub place: Place,
    pub message: Message,
}

/// One change of the threat model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub class: Class,
    pub impact: Impact,
    /// Higher is more severe: the order "most severe first" sorts by (see [`ModelDiff::changes`]).
    pub rank: u16,
    pub message: Message,
    /// Where the change is: on the head when the thing exists there, else on the base.
    pub place: Option<Place>,
    pub related: Vec<Related>,
    /// The effective severity (head's, or base's for what is gone).
    pub severity: Option<Rated>,
    /// For raised and lowered severities: the base's.
    pub previous_severity: Option<Rated>,
    pub resolution: Option<Resolution>,
    /// Display names of the relation's entities, when it has them.
    pub asset: Option<String>,
    pub threat: Option<String>,
    pub control: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// For flows: the trust boundaries it crosses (the `from` side's, then the `to` side's;
    /// `None` for outside any boundary). Absent when it crosses none.
    pub crosses: Option<(Option<String>, Option<String>)>,
    /// For entity changes: the kind, and the name (for renames, the head's; `previous_name`
    /// the base's).
    pub entity_kind: Option<EntityKind>,
    pub name: Option<String>,
    pub previous_name: Option<String>,
    /// For diagnostic changes.
    pub code: Option<Code>,
    pub level: Option<Level>,
    /// The annotation's own description (an acceptance's reason), untrusted.
    pub note: Option<String>,
}

impl Change {
    fn new(class: Class, impact: Impact, rank: u16, message: Message, place: Option<Place>) -> Change {
        Change {
            class,
            impact,
            rank,
            message,
            place,
            related: Vec::new(),
            severity: None,
            previous_severity: None,
            resolution: None,
            asset: None,
            threat: None,
            control: None,
            from: None,
            to: None,
            crosses: None,
            entity_kind: None,
            name: None,
            previous_name: None,
            code: None,
            level: None,
            note: None,
        }
    }

    pub fn is_risk_increase(&self) -> bool {
        self.impact == Impact::RiskIncrease
    }

    /// Risk increases and changes to review: what a pull-request comment lists first.
    pub fn is_notable(&self) -> bool {
        matches!(self.impact, Impact::RiskIncrease | Impact::Review)
    }
}

/// Counts of a diff. Field names are the JSON output's keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiffSummary {
    pub changes: usize,
    pub risk_increases: usize,
    pub reviews: usize,
    pub risk_decreases: usize,
    pub neutral: usize,
    /// Changes per class (`new-unmitigated-exposure` -> 2); classes without changes are absent.
    pub by_class: BTreeMap<&'static str, usize>,
    /// Open exposures (asset and threat resolved) on each side.
    pub open_exposures_base: usize,
    pub open_exposures_head: usize,
}

/// What changed between two threat models, most severe first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelDiff {
    pub changes: Vec<Change>,
    pub summary: DiffSummary,
}

impl ModelDiff {
    /// Compares `base` with `head` (see the module docs for every rule).
    pub fn between(base: &Side, head: &Side) -> ModelDiff {
        let b = Facts::collect(base, Which::Base);
        let h = Facts::collect(head, Which::Head);
        let matching = EntityMatching::new(&b, &h);
        let mut out = Vec::new();
        matching.changes(&b, &h, &mut out);
        exposures(&b, &h, &matching, &mut out);
        findings(&b, &h, &matching, &mut out);
        covers(&b, &h, &matching, &mut out);
        flows(&b, &h, &matching, &mut out);
        boundaries(&b, &h, &matching, &mut out);
        diagnostics(&b, &h, &mut out);
        out.sort_by(|x, y| {
            y.rank
                .cmp(&x.rank)
                .then(x.class.cmp(&y.class))
                .then(x.place.cmp(&y.place))
                .then_with(|| x.message.plain().cmp(&y.message.plain()))
        });
        let mut summary = DiffSummary {
            changes: out.len(),
            open_exposures_base: b.exposures.iter().filter(|e| e.open).count(),
            open_exposures_head: h.exposures.iter().filter(|e| e.open).count(),
            ..DiffSummary::default()
        };
        for c in &out {
            *match c.impact {
                Impact::RiskIncrease => &mut summary.risk_increases,
                Impact::Review => &mut summary.reviews,
                Impact::RiskDecrease => &mut summary.risk_decreases,
                Impact::Neutral => &mut summary.neutral,
            } += 1;
            *summary.by_class.entry(c.class.as_str()).or_default() += 1;
        }
        ModelDiff { changes: out, summary }
    }

    /// Changes of `class`.
    pub fn of_class(&self, class: Class) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(move |c| c.class == class)
    }

    pub fn has_risk_increase(&self) -> bool {
        self.changes.iter().any(Change::is_risk_increase)
    }
}

// ---- Ranks ------------------------------------------------------------------------------

/// Severity's share of a rank: 0..=8 (an unstated severity counts between medium and high, as
/// SARIF scores an unstated exposure high).
fn severity_points(s: Option<Severity>) -> u16 {
    match s {
        Some(Severity::Critical) => 8,
        Some(Severity::High) => 6,
        None => 5,
        Some(Severity::Medium) => 4,
        Some(Severity::Low) => 2,
    }
}

/// The rank of a risk increase: 100 and up, severity first (10 points a step), then the
/// class's `bonus` (0..=9: a confirmed finding 9, a defence removed 8, a new unmitigated
/// exposure 7, a raised severity 6, a flow crossing a boundary 5 at a medium severity). Changes
/// to review rank 50..=99, bookkeeping 10..=49, risk decreases 0..=9.
fn risk_rank(s: Option<Severity>, bonus: u16) -> u16 {
    100 + 10 * severity_points(s) + bonus
}

// ---- Facts of one side ------------------------------------------------------------------

/// Where an item is written, kept as the file and byte range: the [`Place`] (character
/// columns) is computed only for the items a change reports.
#[derive(Clone, Copy)]
struct At<'a> {
    file: &'a FileId,
    range: TextRange,
}

/// An `@exposes` or `@confirmed` with resolved asset and threat.
struct Exposure<'a> {
    asset: &'a EntityKey,
    threat: &'a EntityKey,
    at: At<'a>,
    file: &'a FileFacts,
    annotation: usize,
    /// The line's text without whitespace (pairs several exposures of one pair), computed
    /// when a pairing needs it.
    line: OnceCell<String>,
    /// The effective severity's level; the word is read when a change shows it.
    level: Option<Severity>,
    /// Exposures only: open by the coverage rule, and the strongest covering kind.
    open: bool,
    state: Option<CoverKind>,
}

struct CoverFact<'a> {
    kind: CoverKind,
    asset: &'a EntityKey,
    threat: &'a EntityKey,
    control: Option<&'a EntityKey>,
    at: At<'a>,
    note: Option<&'a str>,
}

struct FlowFact<'a> {
    from: &'a EntityKey,
    to: &'a EntityKey,
    two_way: bool,
    mechanism: Option<&'a str>,
    /// The mechanism in lower case (flows compare by it), `""` without one.
    mechanism_key: Cow<'a, str>,
    at: At<'a>,
}

struct BoundaryFact<'a> {
    a: &'a EntityKey,
    b: &'a EntityKey,
    /// `from a to b`: a direction given, taken away or turned is a change.
    directed: bool,
    /// The boundary's entity, when it has an id (`(#edge)`): then it is compared as that
    /// entity, by its sides, not added or removed by them.
    entity: Option<&'a EntityKey>,
    at: At<'a>,
}

impl<'a> BoundaryFact<'a> {
    /// What the boundary separates, its sides as `map` names them: in order when directed,
    /// as a set when not (`between A and B` is `between B and A`).
    fn sides(&self, map: impl Fn(&'a EntityKey) -> &'a EntityKey) -> (&'a str, &'a str, bool) {
        let (a, b) = (&*map(self.a).key, &*map(self.b).key);
        if self.directed || a <= b { (a, b, self.directed) } else { (b, a, false) }
    }
}

struct EntityFact<'a> {
    name: String,
    /// The first spelling written, for entities nobody declares a name for.
    spelling: Option<&'a str>,
    /// Explicit ids and normalised names the side declares for it.
    ids: BTreeSet<&'a str>,
    names: BTreeSet<&'a str>,
    /// The first declaration, else the first mention.
    at: Option<At<'a>>,
    declared: bool,
}

struct Facts<'a> {
    side: &'a Side<'a>,
    which: Which,
    entities: BTreeMap<&'a EntityKey, EntityFact<'a>>,
    exposures: Vec<Exposure<'a>>,
    findings: Vec<Exposure<'a>>,
    covers: Vec<CoverFact<'a>>,
    flows: Vec<FlowFact<'a>>,
    boundaries: Vec<BoundaryFact<'a>>,
}

impl<'a> Facts<'a> {
    fn collect(side: &'a Side<'a>, which: Which) -> Facts<'a> {
        let index = side.index;
        let analysis = side.analysis;
        // One pass to size the lists: growing them is most of what collecting would cost.
        let (mut exposures, mut findings, mut covers, mut flows, mut boundaries) = (0, 0, 0, 0, 0);
        for facts in index.files() {
            for ann in facts.annotations() {
                match &ann.body {
                    Body::Exposes { .. } => exposures += 1,
                    Body::Confirmed { .. } => findings += 1,
                    Body::Mitigates { .. } | Body::Accepts { .. } | Body::Transfers { .. } => covers += 1,
                    Body::Flows { .. } => flows += 1,
                    Body::Boundary { .. } => boundaries += 1,
                    _ => {}
                }
            }
        }
        let mut f = Facts {
            side,
            which,
            entities: BTreeMap::new(),
            exposures: Vec::with_capacity(exposures),
            findings: Vec::with_capacity(findings),
            covers: Vec::with_capacity(covers),
            flows: Vec::with_capacity(flows),
            boundaries: Vec::with_capacity(boundaries),
        };
        // Gathered in a hash map (a lookup per reference), ordered once at the end.
        let mut entities: FxHashMap<&'a EntityKey, EntityFact<'a>> = FxHashMap::default();
        for facts in index.files() {
            let path = &facts.path;
            for def in &facts.defs {
                let entry = entity(&mut entities, &def.entity);
                if let Some(id) = &def.explicit_id {
                    entry.ids.insert(id.value.as_str());
                }
                if let Some(norm) = &def.norm_name {
                    entry.names.insert(norm.as_str());
                }
                if !entry.declared && def.declared {
                    entry.at = Some(At { file: path, range: def.range });
                    entry.declared = true;
                }
            }
            let Some(resolved) = analysis.resolved.get(path) else { continue };
            for (i, ann) in facts.annotations().iter().enumerate() {
                for (fact, r) in facts.refs[i].iter().zip(&resolved[i]) {
                    if let Some(e) = r.entity() {
                        let entry = entity(&mut entities, e);
                        if entry.at.is_none() {
                            entry.at = Some(At { file: path, range: fact.name_range });
                        }
                        if entry.spelling.is_none() && matches!(fact.lookup(), Lookup::Name(_)) {
                            entry.spelling = Some(facts.slice(fact.name_range));
                        }
                    }
                }
                let Some(relation) = analysis.relation(facts, i) else { continue };
                let at = At { file: path, range: ann.range };
                match relation {
                    Relation::Exposure { asset, threat } | Relation::Confirmation { asset, threat } => {
                        let (Some(a), Some(t)) = (asset.entity(), threat.entity()) else { continue };
                        let exposure = matches!(relation, Relation::Exposure { .. });
                        let coverage = if exposure { analysis.coverage(path.as_str(), i) } else { None };
                        let item = Exposure {
                            asset: a,
                            threat: t,
                            at,
                            file: facts,
                            annotation: i,
                            line: OnceCell::new(),
                            level: analysis.exposure_severity_level(ann, Some(t)),
                            open: coverage.as_ref().is_some_and(|c| c.is_open()),
                            state: coverage.as_ref().and_then(|c| c.state()),
                        };
                        if exposure { f.exposures.push(item) } else { f.findings.push(item) }
                    }
                    Relation::Mitigation { .. } | Relation::Acceptance { .. } | Relation::Transfer { .. } => {
                        let kind = match relation {
                            Relation::Mitigation { .. } => CoverKind::Mitigates,
                            Relation::Acceptance { .. } => CoverKind::Accepts,
                            _ => CoverKind::Transfers,
                        };
                        let Some((asset, threat)) = relation.asset_and_threat() else { continue };
                        let (Some(a), Some(t)) = (asset.entity(), threat.entity()) else { continue };
                        let control = match relation {
                            Relation::Mitigation { control: Some(c), .. } => c.entity(),
                            _ => None,
                        };
                        let note = ann.description.as_ref().map(|d| &*d.value);
                        f.covers.push(CoverFact { kind, asset: a, threat: t, control, at, note });
                    }
                    Relation::Flow { from, to, two_way, mechanism, .. } => {
                        let (Some(from), Some(to)) = (from.entity(), to.entity()) else { continue };
                        let mechanism = mechanism
                            .map(|m| m.value.as_str())
                            .or(ann.details.as_ref().map(|d| &*d.value))
                            .map(str::trim)
                            .filter(|m| !m.is_empty());
                        let mechanism_key = lowercase(mechanism.unwrap_or(""));
                        f.flows.push(FlowFact { from, to, two_way, mechanism, mechanism_key, at });
                    }
                    Relation::Boundary { a, b, id, directed } => {
                        let (Some(a), Some(b)) = (a.entity(), b.entity()) else { continue };
                        let entity = id.and_then(|_| {
                            let def = facts
                                .defs
                                .iter()
                                .find(|d| d.annotation == i && d.entity.kind == EntityKind::Boundary);
                            def.map(|d| &d.entity)
                        });
                        if id.is_some() && entity.is_none() {
                            continue;
                        }
                        f.boundaries.push(BoundaryFact { a, b, directed, entity, at });
                    }
                    _ => {}
                }
            }
        }
        f.entities = entities.into_iter().collect();
        for (key, entry) in &mut f.entities {
            let declared = index.definitions(key).iter().find_map(|(_, d)| d.name.clone());
            let id = || entry.ids.contains(&*key.key).then(|| format!("#{}", key.key));
            entry.name = declared
                .or_else(|| entry.spelling.map(str::to_string))
                .or_else(id)
                .unwrap_or_else(|| key.key.to_string());
        }
        f
    }

    fn name(&self, e: &EntityKey) -> String {
        self.entities.get(e).map_or_else(|| e.key.to_string(), |f| f.name.clone())
    }

    fn path<'f>(&self, file: &'f FileId) -> &'f str {
        compared_path(self.side, file)
    }

    /// The place of `at` on this side.
    fn place(&self, at: At) -> Place {
        place(self.side, self.which, at.file, at.range)
    }

    /// The effective severity of an exposure or finding, with the word it was written as.
    fn severity(&self, e: &Exposure) -> Option<Rated> {
        let ann = &e.file.annotations()[e.annotation];
        self.side.analysis.exposure_severity(e.file, ann, Some(e.threat)).map(Rated::from)
    }

    /// An exposure's compared path and line text (without whitespace).
    fn file_line<'e>(&self, e: &'e Exposure) -> (&'e str, &'e str) {
        let line = e.line.get_or_init(|| line_key(self.side.index, e.at.file, e.at.range.start()));
        (compared_path(self.side, e.at.file), line.as_str())
    }
}

/// The entry of `e` in `entities`, made when missing.
fn entity<'a, 'm>(
    entities: &'m mut FxHashMap<&'a EntityKey, EntityFact<'a>>,
    e: &'a EntityKey,
) -> &'m mut EntityFact<'a> {
    entities.entry(e).or_insert_with(|| EntityFact {
        name: String::new(),
        spelling: None,
        declared: false,
        ids: BTreeSet::new(),
        names: BTreeSet::new(),
        at: None,
    })
}

/// `text` in lower case, borrowed when it already is (ASCII without capitals).
fn lowercase(text: &str) -> Cow<'_, str> {
    match text.is_ascii() && !text.bytes().any(|b| b.is_ascii_uppercase()) {
        true => Cow::Borrowed(text),
        false => Cow::Owned(text.to_lowercase()),
    }
}

fn compared_path<'f>(side: &Side, file: &'f FileId) -> &'f str {
    let path = file.as_str();
    if side.root.is_empty() {
        return path;
    }
    path.strip_prefix(side.root).map(|p| p.trim_start_matches('/')).unwrap_or(path)
}

/// The place of `range` in `file` (an indexed file, or a source file a `.gal` anchor names).
fn place(side: &Side, which: Which, file: &FileId, range: TextRange) -> Place {
    let path = compared_path(side, file).to_string();
    let at = |offset| side.index.line_col_of(file.as_str(), offset, ColumnUnit::Char);
    match at(range.start()).zip(at(range.end())) {
        Some((start, end)) => Place {
            side: which,
            file: path,
            line: start.line + 1,
            column: start.col + 1,
            end_line: end.line + 1,
            end_column: end.col + 1,
        },
        None => Place { side: which, file: path, line: 1, column: 1, end_line: 1, end_column: 1 },
    }
}

/// The text of the line holding `offset`, without whitespace.
fn line_key(index: &ProjectIndex, file: &FileId, offset: usize) -> String {
    let Some((line, _)) = index.line_text_of(file.as_str(), offset) else { return String::new() };
    line.chars().filter(|c| !c.is_whitespace()).collect()
}

// ---- Entities ---------------------------------------------------------------------------

/// The one-to-one matching of base entities with head entities.
struct EntityMatching<'a> {
    /// Base key -> head key, for matched entities.
    to_head: BTreeMap<&'a EntityKey, &'a EntityKey>,
}

impl<'a> EntityMatching<'a> {
    fn new(b: &Facts<'a>, h: &Facts<'a>) -> EntityMatching<'a> {
        let mut to_head = BTreeMap::new();
        let mut taken: BTreeSet<&EntityKey> = BTreeSet::new();
        for &key in b.entities.keys() {
            if let Some((&head, _)) = h.entities.get_key_value(key) {
                to_head.insert(key, head);
                taken.insert(head);
            }
        }
        // Then by an explicit id both declare, then by a declared normalised name.
        fn pick<'a, 'f>(
            b: &'f Facts<'a>,
            h: &'f Facts<'a>,
            by: fn(&'f EntityFact<'a>) -> &'f BTreeSet<&'a str>,
            to_head: &mut BTreeMap<&'a EntityKey, &'a EntityKey>,
            taken: &mut BTreeSet<&'a EntityKey>,
        ) {
            let mut wanted: BTreeMap<(EntityKind, &str), &'a EntityKey> = BTreeMap::new();
            for (&key, fact) in &h.entities {
                if taken.contains(key) {
                    continue;
                }
                for &n in by(fact) {
                    wanted.entry((key.kind, n)).or_insert(key);
                }
            }
            for (&key, fact) in &b.entities {
                if to_head.contains_key(key) {
                    continue;
                }
                let found = by(fact).iter().find_map(|&n| wanted.get(&(key.kind, n)).copied());
                if let Some(head) = found.filter(|head| !taken.contains(head)) {
                    to_head.insert(key, head);
                    taken.insert(head);
                }
            }
        }
        pick(b, h, |f| &f.ids, &mut to_head, &mut taken);
        pick(b, h, |f| &f.names, &mut to_head, &mut taken);
        EntityMatching { to_head }
    }

    /// A base entity as the head knows it (itself when unmatched).
    fn head_key(&self, base: &'a EntityKey) -> &'a EntityKey {
        self.to_head.get(base).copied().unwrap_or(base)
    }

    fn changes(&self, b: &Facts, h: &Facts, out: &mut Vec<Change>) {
        let matched_heads: BTreeSet<&EntityKey> = self.to_head.values().copied().collect();
        for (key, fact) in &h.entities {
            if matched_heads.contains(key) || key.kind == EntityKind::Boundary && key.key.is_empty() {
                continue;
            }
            let mut c = Change::new(
                Class::EntityAdded,
                Impact::Neutral,
                12,
                Message::default().text(kind_word(key.kind)).text(" ").name(&fact.name),
                fact.at.map(|at| h.place(at)),
            );
            c.entity_kind = Some(key.kind);
            c.name = Some(fact.name.clone());
            out.push(c);
        }
        for (key, fact) in &b.entities {
            match self.to_head.get(key) {
                None => {
                    let boundary = key.kind == EntityKind::Boundary;
                    let mut c = Change::new(
                        Class::EntityRemoved,
                        if boundary { Impact::Review } else { Impact::Neutral },
                        if boundary { 58 } else { 11 },
                        Message::default().text(kind_word(key.kind)).text(" ").name(&fact.name),
                        fact.at.map(|at| b.place(at)),
                    );
                    c.entity_kind = Some(key.kind);
                    c.name = Some(fact.name.clone());
                    out.push(c);
                }
                Some(head) if head != key => {
                    let head_fact = &h.entities[head];
                    let shown = |k: &EntityKey, f: &EntityFact| {
                        if f.ids.contains(&*k.key) { format!("#{}", k.key) } else { k.key.to_string() }
                    };
                    let (was, now) = (shown(key, fact), shown(head, head_fact));
                    let mut c = Change::new(
                        Class::EntityRenamed,
                        Impact::Neutral,
                        10,
                        Message::default()
                            .text(kind_word(key.kind))
                            .text(" ")
                            .name(&head_fact.name)
                            .text(" is now ")
                            .name(now)
                            .text(" (was ")
                            .name(was)
                            .text(")"),
                        head_fact.at.map(|at| h.place(at)),
                    );
                    c.entity_kind = Some(key.kind);
                    c.name = Some(head_fact.name.clone());
                    c.previous_name = Some(fact.name.clone());
                    out.push(c);
                }
                Some(_) => {}
            }
        }
    }
}

fn kind_word(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Asset => "asset",
        EntityKind::Threat => "threat",
        EntityKind::Control => "control",
        EntityKind::Actor => "actor",
        EntityKind::Boundary => "trust boundary",
    }
}

// ---- Exposures and findings -------------------------------------------------------------

/// Pairs the exposures (or findings) `bs` of `b` and `hs` of `h` of the same asset and threat
/// (in head terms): same file and line text first, then same file, then in order. Returns the
/// pairs and the unpaired items of each side.
#[allow(clippy::type_complexity)]
fn pair_up<'x, 'a>(
    b: &Facts<'a>,
    h: &Facts<'a>,
    bs: &'x [Exposure<'a>],
    hs: &'x [Exposure<'a>],
    m: &EntityMatching<'a>,
) -> (Vec<(&'x Exposure<'a>, &'x Exposure<'a>)>, Vec<&'x Exposure<'a>>, Vec<&'x Exposure<'a>>) {
    type Group<'x, 'a> = (Vec<&'x Exposure<'a>>, Vec<&'x Exposure<'a>>);
    let mut groups: BTreeMap<Joined<'a, 2>, Group<'x, 'a>> = BTreeMap::new();
    for x in bs {
        let key = Joined([&m.head_key(x.asset).key, &m.head_key(x.threat).key]);
        groups.entry(key).or_default().0.push(x);
    }
    for x in hs {
        groups.entry(Joined([&x.asset.key, &x.threat.key])).or_default().1.push(x);
    }
    let (mut pairs, mut only_b, mut only_h) = (Vec::new(), Vec::new(), Vec::new());
    for (_, (mut bs, mut hs)) in groups {
        // One on each side pair up whatever their places (the last round below).
        if let ([x], [y]) = (bs.as_slice(), hs.as_slice()) {
            pairs.push((*x, *y));
            continue;
        }
        // Round 0: same file and line text; 1: same file; 2: any.
        for round in 0..3 {
            let same = |x: &Exposure, y: &Exposure| match round {
                0 => b.file_line(x) == h.file_line(y),
                1 => b.path(x.at.file) == h.path(y.at.file),
                _ => true,
            };
            let mut i = 0;
            while i < bs.len() {
                if let Some(j) = hs.iter().position(|y| same(bs[i], y)) {
                    pairs.push((bs.remove(i), hs.remove(j)));
                } else {
                    i += 1;
                }
            }
        }
        only_b.extend(bs);
        only_h.extend(hs);
    }
    (pairs, only_b, only_h)
}

/// A key of several strings that compares as the strings joined with NUL separators compare
/// (the comparison's keys were such strings; this gives the same order without building them).
struct Joined<'k, const N: usize>([&'k str; N]);

impl<const N: usize> Joined<'_, N> {
    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.0.iter().enumerate().flat_map(|(i, part)| (i > 0).then_some(0).into_iter().chain(part.bytes()))
    }
}

impl<const N: usize> Ord for Joined<'_, N> {
    fn cmp(&self, other: &Self) -> Ordering {
        for (i, (x, y)) in self.0.iter().zip(&other.0).enumerate() {
            if x == y {
                continue;
            }
            let common = x.len().min(y.len());
            let order = x.as_bytes()[..common].cmp(&y.as_bytes()[..common]);
            if order != Ordering::Equal {
                return order;
            }
            // One part is a prefix of the other: the shorter string ends, or its separator
            // (NUL) meets the longer part's next byte.
            let longer_next = if x.len() > y.len() { x.as_bytes()[common] } else { y.as_bytes()[common] };
            if i + 1 == N || longer_next != 0 {
                return x.len().cmp(&y.len());
            }
            return self.bytes().cmp(other.bytes());
        }
        Ordering::Equal
    }
}

impl<const N: usize> PartialOrd for Joined<'_, N> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<const N: usize> PartialEq for Joined<'_, N> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<const N: usize> Eq for Joined<'_, N> {}

impl<const N: usize> Hash for Joined<'_, N> {
    /// Consistent with equality of the joined strings: parts without NUL are equal exactly
    /// when the joined strings are; keys with a NUL inside a part (only ever equal to other
    /// such keys, which have as many NULs) hash by their length alone.
    fn hash<H: Hasher>(&self, state: &mut H) {
        if self.0.iter().any(|part| part.as_bytes().contains(&0)) {
            state.write_usize(self.0.iter().map(|part| part.len()).sum::<usize>());
        } else {
            self.0.hash(state);
        }
    }
}

fn exposure_message(f: &Facts, e: &Exposure, lead: &'static str, tail: &'static str) -> Message {
    say(lead).name(f.name(e.asset)).text(" exposed to ").name(f.name(e.threat)).text(tail)
}

fn with_subject(mut c: Change, f: &Facts, e: &Exposure) -> Change {
    c.asset = Some(f.name(e.asset));
    c.threat = Some(f.name(e.threat));
    c.severity = f.severity(e);
    c
}

/// The covers of a base exposure, as related places: what was lost.
fn lost_covers(b: &Facts, e: &Exposure) -> Vec<Related> {
    let Some(coverage) = b.side.analysis.coverage(e.file.path.as_str(), e.annotation) else {
        return Vec::new();
    };
    coverage
        .covers
        .iter()
        .map(|c| {
            let what = match c.kind {
                CoverKind::Mitigates => "was mitigated here",
                CoverKind::Accepts => "was accepted here",
                CoverKind::Transfers => "was transferred here",
            };
            let mut message = say(what);
            if let Some(control) = &c.control {
                message = message.text(" by ").name(control.to_string());
            }
            Related { place: place(b.side, b.which, &c.file, c.range), message }
        })
        .collect()
}

fn covered_state(e: &Exposure) -> Option<Resolution> {
    if e.open { None } else { e.state.map(Resolution::of) }
}

fn exposures(b: &Facts, h: &Facts, m: &EntityMatching, out: &mut Vec<Change>) {
    let (pairs, gone, new) = pair_up(b, h, &b.exposures, &h.exposures, m);
    for e in new {
        let c = if e.open {
            Change::new(
                Class::NewUnmitigatedExposure,
                Impact::RiskIncrease,
                risk_rank(e.level, 7),
                exposure_message(h, e, "", ", nothing covers it"),
                Some(h.place(e.at)),
            )
        } else {
            let mut c = Change::new(
                Class::ExposureAdded,
                Impact::Neutral,
                14,
                exposure_message(h, e, "", ", already ")
                    .name(covered_state(e).map_or("covered", Resolution::as_str)),
                Some(h.place(e.at)),
            );
            c.resolution = covered_state(e);
            c
        };
        out.push(with_subject(c, h, e));
    }
    for e in gone {
        let c = if e.open {
            let mut c = Change::new(
                Class::ExposureResolved,
                Impact::RiskDecrease,
                severity_points(e.level),
                exposure_message(b, e, "", ": the exposure is gone"),
                Some(b.place(e.at)),
            );
            c.resolution = Some(Resolution::Removed);
            c
        } else {
            Change::new(
                Class::ExposureRemoved,
                Impact::Neutral,
                13,
                exposure_message(b, e, "", ": the exposure is gone (it was covered)"),
                Some(b.place(e.at)),
            )
        };
        out.push(with_subject(c, b, e));
    }
    for (was, now) in pairs {
        match (was.open, now.open) {
            (false, true) => {
                let mut c = Change::new(
                    Class::DefenceRemoved,
                    Impact::RiskIncrease,
                    risk_rank(now.level, 8),
                    exposure_message(h, now, "", " was ")
                        .name(covered_state(was).map_or("covered", Resolution::as_str))
                        .text(", now open"),
                    Some(h.place(now.at)),
                );
                c.related = lost_covers(b, was);
                c.resolution = covered_state(was);
                out.push(with_subject(c, h, now));
            }
            (true, false) => {
                let resolution = covered_state(now);
                let mut c = Change::new(
                    Class::ExposureResolved,
                    Impact::RiskDecrease,
                    severity_points(now.level),
                    exposure_message(h, now, "", " is now ")
                        .name(resolution.map_or("covered", |r| r.as_str())),
                    Some(h.place(now.at)),
                );
                c.resolution = resolution;
                out.push(with_subject(c, h, now));
            }
            (false, false) if was.state != now.state => {
                // A mitigation that gave way to an acceptance or transfer is a decision to
                // review; the reverse is an improvement.
                let weaker = was.state == Some(CoverKind::Mitigates);
                let mut c = Change::new(
                    Class::CoverageChanged,
                    if weaker { Impact::Review } else { Impact::RiskDecrease },
                    if weaker { 70 } else { 1 },
                    exposure_message(h, now, "", " was ")
                        .name(covered_state(was).map_or("covered", |r| r.as_str()))
                        .text(", now ")
                        .name(covered_state(now).map_or("covered", |r| r.as_str())),
                    Some(h.place(now.at)),
                );
                c.resolution = covered_state(now);
                if weaker {
                    c.related = lost_covers(b, was);
                }
                out.push(with_subject(c, h, now));
            }
            _ => {}
        }
        severity_change(b, h, was, now, now.open, out);
    }
}

/// A raised or lowered effective severity of a matched exposure or finding; `open` says
/// whether it is open (or a finding), which makes the change weigh more.
fn severity_change(b: &Facts, h: &Facts, was: &Exposure, now: &Exposure, open: bool, out: &mut Vec<Change>) {
    let (before, after) = (was.level, now.level);
    if before == after {
        return;
    }
    // An unstated severity counts as lower than any stated one.
    let raised = after > before;
    let (class, impact, rank) = match (raised, open) {
        (true, true) => (Class::SeverityRaised, Impact::RiskIncrease, risk_rank(now.level, 6)),
        (true, false) => (Class::SeverityRaised, Impact::Neutral, 25),
        (false, true) => (Class::SeverityLowered, Impact::Review, 60 + severity_points(was.level)),
        (false, false) => (Class::SeverityLowered, Impact::Neutral, 9),
    };
    let previous = b.severity(was);
    let word = |s: &Option<Rated>| s.as_ref().map_or("unstated".to_string(), |r| r.word.clone());
    let message = exposure_message(h, now, "", ": severity ")
        .name(word(&previous))
        .text(" -> ")
        .name(word(&h.severity(now)));
    let mut c = with_subject(Change::new(class, impact, rank, message, Some(h.place(now.at))), h, now);
    c.previous_severity = previous;
    out.push(c);
}

fn findings(b: &Facts, h: &Facts, m: &EntityMatching, out: &mut Vec<Change>) {
    let (pairs, gone, new) = pair_up(b, h, &b.findings, &h.findings, m);
    for e in new {
        let message = Message::default().name(h.name(e.threat)).text(" on ").name(h.name(e.asset));
        let c = Change::new(
            Class::NewConfirmedFinding,
            Impact::RiskIncrease,
            risk_rank(e.level, 9),
            message,
            Some(h.place(e.at)),
        );
        out.push(with_subject(c, h, e));
    }
    for e in gone {
        let message = Message::default().name(b.name(e.threat)).text(" on ").name(b.name(e.asset));
        let c = Change::new(Class::FindingResolved, Impact::RiskDecrease, 8, message, Some(b.place(e.at)));
        out.push(with_subject(c, b, e));
    }
    for (was, now) in pairs {
        severity_change(b, h, was, now, true, out);
    }
}

// ---- Covers, flows, boundaries ----------------------------------------------------------

/// Pairs equal keys as a multiset: returns the unpaired items of each side.
fn unpaired<'x, T, K: Hash + Eq>(
    b: &'x [T],
    h: &'x [T],
    key_b: impl Fn(&'x T) -> K,
    key_h: impl Fn(&'x T) -> K,
) -> (Vec<&'x T>, Vec<&'x T>) {
    let mut counts: FxHashMap<K, isize> = FxHashMap::default();
    counts.reserve(b.len());
    for x in b {
        *counts.entry(key_b(x)).or_default() += 1;
    }
    let mut new = Vec::new();
    for x in h {
        let n = counts.entry(key_h(x)).or_default();
        if *n > 0 {
            *n -= 1;
        } else {
            new.push(x);
        }
    }
    let mut gone = Vec::new();
    for x in b.iter().rev() {
        let n = counts.entry(key_b(x)).or_default();
        if *n > 0 {
            *n -= 1;
            gone.push(x);
        }
    }
    gone.reverse();
    (gone, new)
}

fn covers<'a>(b: &Facts<'a>, h: &Facts<'a>, m: &EntityMatching<'a>, out: &mut Vec<Change>) {
    let key = |c: &CoverFact<'a>, map: &dyn Fn(&'a EntityKey) -> &'a EntityKey| {
        let kind = match c.kind {
            CoverKind::Mitigates => "Mitigates",
            CoverKind::Accepts => "Accepts",
            CoverKind::Transfers => "Transfers",
        };
        let control = c.control.map_or("", |k| &*map(k).key);
        Joined([kind, &map(c.asset).key, &map(c.threat).key, control])
    };
    let (gone, new) = unpaired(&b.covers, &h.covers, |c| key(c, &|k| m.head_key(k)), |c| key(c, &|k| k));
    for (items, f, added) in [(new, h, true), (gone, b, false)] {
        for c in items {
            let (class, impact, rank) = match (c.kind, added) {
                (CoverKind::Accepts, true) => (Class::AcceptanceAdded, Impact::Review, 75),
                (CoverKind::Transfers, true) => (Class::TransferAdded, Impact::Review, 74),
                (CoverKind::Mitigates, true) => (Class::MitigationAdded, Impact::Neutral, 16),
                (CoverKind::Accepts, false) => (Class::AcceptanceRemoved, Impact::Neutral, 15),
                (CoverKind::Transfers, false) => (Class::TransferRemoved, Impact::Neutral, 15),
                (CoverKind::Mitigates, false) => (Class::MitigationRemoved, Impact::Neutral, 15),
            };
            let mut message = Message::default().name(f.name(c.threat)).text(" on ").name(f.name(c.asset));
            if let Some(control) = &c.control {
                message = message.text(" using ").name(f.name(control));
            }
            let mut change = Change::new(class, impact, rank, message, Some(f.place(c.at)));
            change.asset = Some(f.name(c.asset));
            change.threat = Some(f.name(c.threat));
            change.control = c.control.as_ref().map(|k| f.name(k));
            change.note = c.note.map(str::to_string);
            out.push(change);
        }
    }
}

fn flows<'a>(b: &'a Facts<'a>, h: &'a Facts<'a>, m: &EntityMatching<'a>, out: &mut Vec<Change>) {
    let key = |f: &'a FlowFact<'a>, map: &dyn Fn(&'a EntityKey) -> &'a EntityKey| {
        let two_way = if f.two_way { "true" } else { "false" };
        Joined([&map(f.from).key, &map(f.to).key, two_way, &f.mechanism_key])
    };
    let (gone, new) = unpaired(&b.flows, &h.flows, |f| key(f, &|k| m.head_key(k)), |f| key(f, &|k| k));
    for (items, side, added) in [(new, h, true), (gone, b, false)] {
        for f in items {
            let zones = ((side.side.zone)(f.from), (side.side.zone)(f.to));
            let crosses = (zones.0 != zones.1).then_some(zones);
            let (class, impact, rank) = match (added, crosses.is_some()) {
                (true, true) => {
                    (Class::FlowAdded, Impact::RiskIncrease, risk_rank(Some(Severity::Medium), 5))
                }
                (true, false) => (Class::FlowAdded, Impact::Neutral, 18),
                (false, _) => (Class::FlowRemoved, Impact::Neutral, 17),
            };
            let arrow = if f.two_way { " <-> " } else { " -> " };
            let mut message = Message::default().name(side.name(f.from)).text(arrow).name(side.name(f.to));
            if let Some(mechanism) = f.mechanism {
                message = message.text(" via ").name(mechanism);
            }
            if let Some((from_zone, to_zone)) = &crosses {
                message = message.text(", crossing trust boundar");
                message = match (from_zone, to_zone) {
                    (Some(a), Some(b)) => message.text("ies ").name(a).text(" and ").name(b),
                    (Some(z), None) | (None, Some(z)) => message.text("y ").name(z),
                    (None, None) => message,
                };
            }
            let mut c = Change::new(class, impact, rank, message, Some(side.place(f.at)));
            c.from = Some(side.name(f.from));
            c.to = Some(side.name(f.to));
            c.crosses = crosses;
            out.push(c);
        }
    }
}

/// `@boundary`s: those without an id are added or removed by their sides; those with one
/// are entities (added, removed and renamed with the others), whose sides or direction may
/// change.
fn boundaries<'a>(b: &Facts<'a>, h: &Facts<'a>, m: &EntityMatching<'a>, out: &mut Vec<Change>) {
    let key = |x: &BoundaryFact<'a>, map: &dyn Fn(&'a EntityKey) -> &'a EntityKey| {
        let (a, b, directed) = x.sides(map);
        Joined([a, b, if directed { "from-to" } else { "" }])
    };
    let bs: Vec<&BoundaryFact<'a>> = b.boundaries.iter().filter(|x| x.entity.is_none()).collect();
    let hs: Vec<&BoundaryFact<'a>> = h.boundaries.iter().filter(|x| x.entity.is_none()).collect();
    let (gone, new) = unpaired(&bs, &hs, |x| key(x, &|k| m.head_key(k)), |x| key(x, &|k| k));
    for (items, f, added) in [(new, h, true), (gone, b, false)] {
        for x in items {
            let name = super::boundary_sides(f.name(x.a), f.name(x.b), x.directed);
            let (class, impact, rank) = if added {
                (Class::EntityAdded, Impact::Neutral, 12)
            } else {
                (Class::EntityRemoved, Impact::Review, 58)
            };
            let message = say("trust boundary ").name(&name);
            let mut c = Change::new(class, impact, rank, message, Some(f.place(x.at)));
            c.entity_kind = Some(EntityKind::Boundary);
            c.name = Some(name);
            out.push(c);
        }
    }
    // The first annotation of each id on the head (a second one is a duplicate definition,
    // which the diagnostics report).
    let mut head_by_id: FxHashMap<&EntityKey, &BoundaryFact<'a>> = FxHashMap::default();
    for x in &h.boundaries {
        if let Some(e) = x.entity {
            head_by_id.entry(e).or_insert(x);
        }
    }
    let mut seen: FxHashSet<&EntityKey> = FxHashSet::default();
    for x in &b.boundaries {
        let Some(e) = x.entity.filter(|e| seen.insert(e)) else { continue };
        let Some(now) = head_by_id.get(m.head_key(e)) else { continue };
        if x.sides(|k| m.head_key(k)) == now.sides(|k| k) {
            continue;
        }
        let name = h.name(m.head_key(e));
        let (was, is) = (
            super::boundary_sides(b.name(x.a), b.name(x.b), x.directed),
            super::boundary_sides(h.name(now.a), h.name(now.b), now.directed),
        );
        let message =
            say("trust boundary ").name(&name).text(" is now ").name(is).text(" (was ").name(was).text(")");
        let mut c = Change::new(Class::BoundaryChanged, Impact::Review, 57, message, Some(h.place(now.at)));
        c.entity_kind = Some(EntityKind::Boundary);
        c.name = Some(name);
        out.push(c);
    }
}

// ---- Diagnostics ------------------------------------------------------------------------

fn diagnostics(b: &Facts, h: &Facts, out: &mut Vec<Change>) {
    let compared = |d: &&Diagnostic| !matches!(d.code, Code::UnmitigatedExposure | Code::ConfirmedFinding);
    let bs: Vec<&Diagnostic> = b.side.diagnostics.iter().filter(compared).collect();
    let hs: Vec<&Diagnostic> = h.side.diagnostics.iter().filter(compared).collect();
    let key = |f: &Facts, d: &&Diagnostic| {
        format!(
            "{}\u{0}{}\u{0}{}",
            d.code.as_str(),
            f.path(&d.file),
            line_key(f.side.index, &d.file, d.range.start())
        )
    };
    let (gone, new) = unpaired(&bs, &hs, |d| key(b, d), |d| key(h, d));
    for (items, f, added) in [(new, h, true), (gone, b, false)] {
        for d in items {
            let (class, impact, rank) = match (added, d.level) {
                (true, Level::Error) => (Class::DiagnosticAdded, Impact::Review, 55),
                (true, Level::Warning) => (Class::DiagnosticAdded, Impact::Review, 52),
                (true, Level::Note) => (Class::DiagnosticAdded, Impact::Neutral, 5),
                (false, _) => (Class::DiagnosticResolved, Impact::Neutral, 4),
            };
            // The diagnostic's message is threat-analyzer's sentence quoting repository text:
            // kept as one name, so renderers treat all of it as untrusted.
            let message = Message::default().name(d.code.as_str()).text(": ").name(&d.message);
            let mut c =
                Change::new(class, impact, rank, message, Some(place(f.side, f.which, &d.file, d.range)));
            c.code = Some(d.code);
            c.level = Some(d.level);
            out.push(c);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
