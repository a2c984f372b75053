//! Queries: the small question language the MCP server's `query` tool answers (and anything
//! else that wants to ask the model one thing), and the answers to one entity or one file.
//!
//! Owns: the query forms ([`FORMS`], the list an unknown query is answered with), their parser
//! ([`parse`]), their evaluation on an analysed project ([`Analysis::query`]), the facts about
//! one entity ([`Analysis::entity`]) and about one file's annotations
//! ([`Analysis::file_context`]), and what proposed lines would be ([`Analysis::validation`]).
//! Answers are rows of relations with their location and their
//! arguments by role ([`Hit`]): what an output shows of them is `render::mcp`'s. Must never:
//! do I/O, format output, or decide coverage or severity (it asks `coverage` and `severity`).
//!
//! # The forms
//!
//! - `threats for <asset>`: every exposure, confirmed finding, mitigation, acceptance and
//!   transfer on the asset or on an asset inside it (`Shop` answers for `Shop.Orders`).
//! - `mitigations of <threat>`: every `@mitigates` against the threat.
//! - `unmitigated [severity>=LEVEL]`: open exposures (nothing mitigates, accepts or transfers
//!   them), optionally only those of at least LEVEL (`low`, `medium`, `high`, `critical`).
//! - `flows into <asset>`, `flows out of <asset>`: the flow hops ending (starting) at the asset
//!   or inside it; a two-way flow counts both ways.
//! - `path <a> to <b>`: the shortest chain of flow hops from `a` to `b` (none: empty).
//! - `owner of <asset>`: the `@owns` of the asset or of an asset it is inside.
//! - `handles <class>`: the `@handles` of that data class (case-insensitive).
//! - `crossing <boundary>`: the flows between the two sides of a `@boundary` whose id
//!   (`#id`, or without `#`) or either side is named.
//!
//! An entity is named like in an annotation: `#id`, or a name or dotted path.

use super::{Analysis, Relation};
use crate::file_id::FileId;
use crate::model::names::{ancestors, normalize_name, path_key};
use crate::model::{EntityKey, FileFacts, Lookup, ProjectIndex, RefFact};
use crate::syntax::verbs::canonical_spelling;
use crate::syntax::{EntityKind, Severity};
use crate::text::TextRange;
use std::collections::{BTreeMap, VecDeque};

/// Every query form, as an unknown query's answer lists them.
pub const FORMS: &[&str] = &[
    "threats for <asset>",
    "mitigations of <threat>",
    "unmitigated [severity>=low|medium|high|critical]",
    "flows into <asset>",
    "flows out of <asset>",
    "path <asset> to <asset>",
    "owner of <asset>",
    "handles <data class>",
    "crossing <boundary>",
];

/// A parsed query (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    ThreatsFor(String),
    MitigationsOf(String),
    Unmitigated { at_least: Option<Severity> },
    FlowsInto(String),
    FlowsOutOf(String),
    Path { from: String, to: String },
    OwnerOf(String),
    Handles(String),
    Crossing(String),
}

/// Why a query was not understood; the answer lists [`FORMS`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    pub message: &'static str,
}

/// Reads one query. Keywords are case-insensitive; what follows them is kept as written.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    let text = text.trim();
    let unknown = QueryError { message: "unknown query: use one of the supported forms" };
    let missing = QueryError { message: "the query names no entity: use one of the supported forms" };
    let lower = text.to_ascii_lowercase();
    // The argument after a keyword prefix, as written (the prefix is ASCII, so the offsets agree).
    let after = |prefix: &str| -> Option<Result<String, QueryError>> {
        let rest = lower.strip_prefix(prefix)?;
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            return None;
        }
        let arg = text[prefix.len()..].trim();
        Some(if arg.is_empty() { Err(missing.clone()) } else { Ok(arg.to_string()) })
    };
    if let Some(arg) = after("threats for") {
        return arg.map(Query::ThreatsFor);
    }
    if let Some(arg) = after("mitigations of") {
        return arg.map(Query::MitigationsOf);
    }
    if let Some(arg) = after("flows into") {
        return arg.map(Query::FlowsInto);
    }
    if let Some(arg) = after("flows out of") {
        return arg.map(Query::FlowsOutOf);
    }
    if let Some(arg) = after("owner of") {
        return arg.map(Query::OwnerOf);
    }
    if let Some(arg) = after("handles") {
        return arg.map(Query::Handles);
    }
    if let Some(arg) = after("crossing") {
        return arg.map(Query::Crossing);
    }
    if let Some(arg) = after("path") {
        let arg = arg?;
        let lower_arg = arg.to_ascii_lowercase();
        let Some(i) = lower_arg.find(" to ") else { return Err(unknown) };
        let (from, to) = (arg[..i].trim(), arg[i + 4..].trim());
        if from.is_empty() || to.is_empty() {
            return Err(missing);
        }
        return Ok(Query::Path { from: from.to_string(), to: to.to_string() });
    }
    if let Some(rest) = lower.strip_prefix("unmitigated") {
        let filter: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
        let filter = filter.trim_start_matches('[').trim_end_matches(']');
        if filter.is_empty() {
            return Ok(Query::Unmitigated { at_least: None });
        }
        let level = filter.strip_prefix("severity>=").and_then(Severity::parse);
        return match level {
            Some(level) => Ok(Query::Unmitigated { at_least: Some(level) }),
            None => Err(QueryError { message: "unmitigated takes `severity>=low|medium|high|critical`" }),
        };
    }
    Err(unknown)
}

/// One relation in an answer: where it is written and its arguments by role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The verb's canonical GAL spelling (`mitigates`, `flows`).
    pub verb: &'static str,
    pub file: FileId,
    /// The annotation's range.
    pub range: TextRange,
    /// `(role, text)`: entity arguments by their display name, other arguments as written.
    pub args: Vec<(&'static str, String)>,
    /// An exposure's coverage state: `open`, `mitigated`, `accepted`, `transferred`, or
    /// `unresolved` when its asset or threat does not resolve.
    pub state: Option<&'static str>,
    /// An exposure's or finding's effective severity, as written.
    pub severity: Option<String>,
    /// The annotation's description (`-- "..."`), as written.
    pub description: Option<String>,
}

/// What a query named, and what it found.
#[derive(Clone, Debug, Default)]
pub struct Answer {
    /// The entities the query named, resolved: `(as written, display name, known)`. Known:
    /// defined or referenced somewhere in the project.
    pub named: Vec<(String, String, bool)>,
    pub hits: Vec<Hit>,
}

/// Everything about one entity (the `entity` tool).
#[derive(Clone, Debug)]
pub struct EntityInfo {
    pub key: EntityKey,
    pub name: String,
    /// Definition sites: file and the range of the name.
    pub definitions: Vec<(FileId, TextRange)>,
    /// Every reference (definitions excepted): file and the argument's range.
    pub references: Vec<(FileId, TextRange)>,
    /// The relations naming it (exposures with their state, mitigations, flows, ...).
    pub relations: Vec<Hit>,
}

/// The facts of one file's annotations (the `file_context` tool).
#[derive(Clone, Debug, Default)]
pub struct FileContext {
    /// Every annotation as a hit (annotations without entity arguments have no args).
    pub annotations: Vec<Hit>,
    /// Entities the file's annotations name, by display name, with their kind.
    pub entities: Vec<(EntityKind, String)>,
    /// Flow hops elsewhere in the project that touch an entity of this file.
    pub neighbours: Vec<Hit>,
}

/// What proposed annotation lines would be (the `validate_annotation` tool): read in the
/// context of their file, nothing written.
#[derive(Clone, Debug, Default)]
pub struct Validation {
    /// Each proposed annotation as a hit, with its verb as written, the verb's canonical
    /// spelling, and the whole annotation's canonical GAL line
    /// ([`crate::syntax::canonical::to_gal`]; `None` when GAL cannot say the same thing).
    pub annotations: Vec<(Hit, String, &'static str, Option<String>)>,
    /// The diagnostics the proposed lines would get.
    pub diagnostics: Vec<crate::diagnostic::Diagnostic>,
}

/// An entity named by a user (a query argument): `#id`, or a name or path.
fn lookup(index: &ProjectIndex, kind: EntityKind, text: &str) -> Option<EntityKey> {
    let text = text.trim();
    let lookup = match text.strip_prefix('#').or_else(|| text.strip_prefix('@')) {
        Some(id) => Lookup::Id(id.into()),
        None => Lookup::name(normalize_name(text).into(), path_key(text).into()),
    };
    let fact = RefFact::new(kind, TextRange::default(), TextRange::default(), lookup, false);
    index.resolve(&fact).entity().cloned()
}

/// `key` is `within` or inside it (`Shop.Orders` is inside `Shop`).
fn inside(key: &EntityKey, within: &EntityKey) -> bool {
    key.kind == within.kind && (key.key == within.key || ancestors(&key.key).any(|a| a == &*within.key))
}

impl Analysis {
    /// Whether the project defines or references `entity`.
    fn known(&self, index: &ProjectIndex, entity: &EntityKey) -> bool {
        self.used.contains(entity) || !index.definitions(entity).is_empty()
    }

    /// `text` resolved as a `kind`, with what [`Answer::named`] records.
    fn named(
        &self,
        index: &ProjectIndex,
        kind: EntityKind,
        text: &str,
    ) -> (Option<EntityKey>, (String, String, bool)) {
        let entity = lookup(index, kind, text);
        let shown = entity.as_ref().map_or_else(|| text.to_string(), |e| index.display_name(e));
        let known = entity.as_ref().is_some_and(|e| self.known(index, e));
        (entity, (text.to_string(), shown, known))
    }

    /// Every annotation of the project with its relation, in project order.
    fn relations<'a>(
        &'a self,
        index: &'a ProjectIndex,
    ) -> impl Iterator<Item = (&'a FileFacts, usize, Relation<'a>)> {
        index.files().flat_map(move |facts| {
            (0..facts.annotations().len()).filter_map(move |i| Some((&**facts, i, self.relation(facts, i)?)))
        })
    }

    /// Annotation `i` of `facts` as a hit.
    pub fn hit(&self, index: &ProjectIndex, facts: &FileFacts, i: usize) -> Hit {
        let ann = &facts.annotations()[i];
        let mut hit = Hit {
            verb: canonical_spelling(ann.verb),
            file: facts.path.clone(),
            range: ann.range,
            args: Vec::new(),
            state: None,
            severity: None,
            description: ann.description.as_ref().map(|d| d.value.to_string()),
        };
        let Some(relation) = self.relation(facts, i) else { return hit };
        // A defined entity by its declared name; anything else (an undeclared asset, a
        // dangling id) as written here.
        let name = |a: super::Arg| {
            let declared =
                a.entity().and_then(|e| index.definitions(e).iter().find_map(|(_, d)| d.name.clone()));
            declared.unwrap_or_else(|| facts.slice(a.fact.name_range).to_string())
        };
        let text = |s: &crate::syntax::Spanned<String>| s.value.clone();
        let args: Vec<(&'static str, String)> = match relation {
            Relation::Definition { kind, entity } => vec![(kind_role(kind), name(entity))],
            Relation::Mitigation { asset, threat, control } => {
                let mut v = vec![("asset", name(asset)), ("threat", name(threat))];
                v.extend(control.map(|c| ("control", name(c))));
                v
            }
            Relation::Exposure { asset, threat } => {
                hit.state = Some(match self.coverage(facts.path.as_str(), i) {
                    None => "unresolved",
                    Some(c) => match c.state() {
                        None => "open",
                        Some(super::CoverKind::Mitigates) => "mitigated",
                        Some(super::CoverKind::Accepts) => "accepted",
                        Some(super::CoverKind::Transfers) => "transferred",
                    },
                });
                hit.severity = self.exposure_severity(facts, ann, threat.entity()).map(|s| s.word);
                vec![("asset", name(asset)), ("threat", name(threat))]
            }
            Relation::Confirmation { threat, asset } => {
                hit.severity = self.exposure_severity(facts, ann, threat.entity()).map(|s| s.word);
                vec![("threat", name(threat)), ("asset", name(asset))]
            }
            Relation::Acceptance { threat, asset } => vec![("threat", name(threat)), ("asset", name(asset))],
            Relation::Transfer { threat, from, to } => {
                let mut v = vec![("threat", name(threat))];
                v.extend(from.map(|f| ("from", name(f))));
                v.push(("to", name(to)));
                v
            }
            Relation::Flow { from, to, two_way, mechanism, name: flow_name } => {
                let mut v = vec![("from", name(from)), ("to", name(to))];
                if two_way {
                    v.push(("direction", "two-way".to_string()));
                }
                v.extend(mechanism.map(|m| ("via", text(m))));
                v.extend(flow_name.map(|n| ("name", text(n))));
                v
            }
            Relation::Boundary { a, b, id, directed } => {
                let mut v = match directed {
                    true => vec![("from", name(a)), ("to", name(b))],
                    false => vec![("between", name(a)), ("and", name(b))],
                };
                v.extend(id.map(|i| ("id", text(i))));
                v
            }
            Relation::Entitlement { actor, capability, asset, threat } => {
                let mut v = vec![("actor", name(actor)), ("capability", text(capability))];
                v.extend(asset.map(|a| ("asset", name(a))));
                v.extend(threat.map(|t| ("threat", name(t))));
                v
            }
            Relation::Validation { control, asset } => {
                vec![("control", name(control)), ("asset", name(asset))]
            }
            Relation::Audit { asset, note } | Relation::Assumption { asset, note } => {
                let mut v = vec![("asset", name(asset))];
                v.extend(note.map(|n| ("note", text(n))));
                v
            }
            Relation::Ownership { owner, asset } => vec![("owner", text(owner)), ("asset", name(asset))],
            Relation::Handling { class, asset } => vec![("class", text(class)), ("asset", name(asset))],
            Relation::Alias { kind, target, name: alias } => {
                vec![(kind_role(kind), name(target)), ("alias", text(alias))]
            }
            Relation::Description { kind, target, text: description } => {
                vec![(kind_role(kind), name(target)), ("description", text(description))]
            }
        };
        hit.args = args;
        hit
    }

    /// Answers a parsed query (see the module docs).
    pub fn query(&self, index: &ProjectIndex, query: &Query) -> Answer {
        let mut answer = Answer::default();
        let mut name = |kind, text: &str| {
            let (entity, named) = self.named(index, kind, text);
            answer.named.push(named);
            entity
        };
        let hits: Vec<Hit> = match query {
            Query::ThreatsFor(asset) => {
                let Some(asset) = name(EntityKind::Asset, asset) else { return answer };
                self.select(index, |r| {
                    r.asset_and_threat().and_then(|(a, _)| a.entity()).is_some_and(|a| inside(a, &asset))
                })
            }
            Query::MitigationsOf(threat) => {
                let Some(threat) = name(EntityKind::Threat, threat) else { return answer };
                self.select(
                    index,
                    |r| matches!(r, Relation::Mitigation { threat: t, .. } if t.entity() == Some(&threat)),
                )
            }
            Query::Unmitigated { at_least } => {
                let mut hits = Vec::new();
                for (facts, i, relation) in self.relations(index) {
                    let Relation::Exposure { threat, .. } = relation else { continue };
                    if !self.coverage(facts.path.as_str(), i).is_some_and(|c| c.is_open()) {
                        continue;
                    }
                    let severity = self.exposure_severity(facts, &facts.annotations()[i], threat.entity());
                    if at_least.is_some_and(|min| severity.as_ref().is_none_or(|s| s.value < min)) {
                        continue;
                    }
                    hits.push(self.hit(index, facts, i));
                }
                hits
            }
            Query::FlowsInto(asset) | Query::FlowsOutOf(asset) => {
                let into = matches!(query, Query::FlowsInto(_));
                let Some(asset) = name(EntityKind::Asset, asset) else { return answer };
                self.select(index, |r| {
                    let Relation::Flow { from, to, two_way, .. } = r else { return false };
                    let at = |a: super::Arg| a.entity().is_some_and(|e| same_node(e, &asset));
                    (if into { at(*to) } else { at(*from) })
                        || (*two_way && (if into { at(*from) } else { at(*to) }))
                })
            }
            Query::Path { from, to } => {
                let (Some(from), Some(to)) = (name(EntityKind::Asset, from), name(EntityKind::Asset, to))
                else {
                    return answer;
                };
                self.path(index, &from, &to)
            }
            Query::OwnerOf(asset) => {
                let Some(asset) = name(EntityKind::Asset, asset) else { return answer };
                self.select(index, |r| {
                    matches!(r, Relation::Ownership { asset: a, .. }
                        if a.entity().is_some_and(|a| asset.key == a.key || inside(&asset, a)))
                })
            }
            Query::Handles(class) => {
                let class = class.trim().to_lowercase();
                self.select(index, |r| matches!(r, Relation::Handling { class: c, .. } if c.value.trim().to_lowercase() == class))
            }
            Query::Crossing(boundary) => {
                let wanted = boundary.trim().trim_start_matches('#').to_lowercase();
                let side = lookup(index, EntityKind::Asset, boundary);
                answer.named.push((boundary.clone(), boundary.clone(), true));
                let mut sides: Vec<(EntityKey, EntityKey)> = Vec::new();
                for (_, _, relation) in self.relations(index) {
                    let Relation::Boundary { a, b, id, .. } = relation else { continue };
                    let (Some(a), Some(b)) = (a.entity(), b.entity()) else { continue };
                    let by_id =
                        id.is_some_and(|id| id.value.trim_start_matches('#').to_lowercase() == wanted);
                    let by_side = side.as_ref().is_some_and(|s| s == a || s == b);
                    if by_id || by_side {
                        sides.push((a.clone(), b.clone()));
                    }
                }
                answer.named.last_mut().expect("pushed above").2 = !sides.is_empty();
                self.select(index, |r| {
                    let Relation::Flow { from, to, .. } = r else { return false };
                    let (Some(from), Some(to)) = (from.entity(), to.entity()) else { return false };
                    sides.iter().any(|(a, b)| {
                        (same_node(from, a) && same_node(to, b)) || (same_node(from, b) && same_node(to, a))
                    })
                })
            }
        };
        answer.hits = hits;
        answer
    }

    /// The hits of every relation `keep` accepts, in project order.
    fn select(&self, index: &ProjectIndex, keep: impl Fn(&Relation) -> bool) -> Vec<Hit> {
        self.relations(index)
            .filter(|(_, _, r)| keep(r))
            .map(|(facts, i, _)| self.hit(index, facts, i))
            .collect()
    }

    /// The shortest chain of flow hops from `from` to `to` (breadth-first, project order).
    fn path(&self, index: &ProjectIndex, from: &EntityKey, to: &EntityKey) -> Vec<Hit> {
        let mut edges: BTreeMap<&str, Vec<(&str, &FileFacts, usize)>> = BTreeMap::new();
        for (facts, i, relation) in self.relations(index) {
            let Relation::Flow { from: a, to: b, two_way, .. } = relation else { continue };
            let (Some(a), Some(b)) = (a.entity(), b.entity()) else { continue };
            edges.entry(&*a.key).or_default().push((&*b.key, facts, i));
            if two_way {
                edges.entry(&*b.key).or_default().push((&*a.key, facts, i));
            }
        }
        let mut came: BTreeMap<&str, (&str, &FileFacts, usize)> = BTreeMap::new();
        let mut queue = VecDeque::from([&*from.key]);
        while let Some(node) = queue.pop_front() {
            if node == &*to.key {
                let mut hops = Vec::new();
                let mut at = node;
                while at != &*from.key {
                    let (prev, facts, i) = came[at];
                    hops.push(self.hit(index, facts, i));
                    at = prev;
                }
                hops.reverse();
                return hops;
            }
            for &(next, facts, i) in edges.get(node).into_iter().flatten() {
                if next != &*from.key && !came.contains_key(next) {
                    came.insert(next, (node, facts, i));
                    queue.push_back(next);
                }
            }
        }
        Vec::new()
    }

    /// The entity `text` names (`#id`, a name or a path), tried as each kind in turn; `None`
    /// when the project neither defines nor references it.
    pub fn entity(&self, index: &ProjectIndex, text: &str) -> Option<EntityInfo> {
        let key = EntityKind::ALL
            .iter()
            .filter_map(|kind| lookup(index, *kind, text))
            .find(|e| self.known(index, e))?;
        let definitions = index.definitions(&key).into_iter().map(|(file, def)| (file, def.range)).collect();
        let mut references = Vec::new();
        let mut relations = Vec::new();
        for facts in index.files() {
            let Some(resolved) = self.resolved.get(&facts.path) else { continue };
            for (i, (refs, resolved)) in facts.refs.iter().zip(resolved.iter()).enumerate() {
                let mut named = false;
                for (fact, r) in refs.iter().zip(resolved) {
                    if r.entity() == Some(&key) {
                        named = true;
                        if !fact.defines {
                            references.push((facts.path.clone(), fact.range));
                        }
                    }
                }
                if named && !matches!(self.relation(facts, i), Some(Relation::Definition { .. }) | None) {
                    relations.push(self.hit(index, facts, i));
                }
            }
        }
        Some(EntityInfo { name: index.display_name(&key), key, definitions, references, relations })
    }

    /// One indexed file's annotations, the entities they name, and the flows elsewhere that
    /// touch those entities.
    pub fn file_context(&self, index: &ProjectIndex, facts: &FileFacts) -> FileContext {
        let mut context = FileContext::default();
        let mut mine: Vec<EntityKey> = Vec::new();
        for i in 0..facts.annotations().len() {
            context.annotations.push(self.hit(index, facts, i));
            if let Some(resolved) = self.resolved.get(&facts.path).and_then(|r| r.get(i)) {
                mine.extend(resolved.iter().filter_map(|r| r.entity().cloned()));
            }
        }
        mine.sort();
        mine.dedup();
        context.entities = mine.iter().map(|e| (e.kind, index.display_name(e))).collect();
        for (other, i, relation) in self.relations(index) {
            if other.path == facts.path {
                continue;
            }
            let Relation::Flow { from, to, .. } = relation else { continue };
            let touches = |a: super::Arg| a.entity().is_some_and(|e| mine.binary_search(e).is_ok());
            if touches(from) || touches(to) {
                context.neighbours.push(self.hit(index, other, i));
            }
        }
        context
    }
}

impl Analysis {
    /// The annotations of `facts` that start in the byte range `lines` (the proposed lines in
    /// a file's text) and their diagnostics, in this analysis of an index that holds `facts`.
    pub fn validation(
        &self,
        index: &ProjectIndex,
        facts: &FileFacts,
        lines: std::ops::Range<usize>,
    ) -> Validation {
        let annotations = (0..facts.annotations().len())
            .filter(|&i| lines.contains(&facts.annotations()[i].range.start()))
            .map(|i| {
                let ann = &facts.annotations()[i];
                (
                    self.hit(index, facts, i),
                    facts.slice(ann.verb_range()).to_string(),
                    canonical_spelling(ann.verb),
                    crate::syntax::canonical::to_gal(facts.text(), ann),
                )
            })
            .collect();
        let diagnostics = self
            .diagnostics(index)
            .into_iter()
            .filter(|d| d.file == facts.path && lines.contains(&d.range.start()))
            .collect();
        Validation { annotations, diagnostics }
    }
}

/// Flow endpoints are compared by key: an actor and an asset of one name are one node in the
/// diagram too.
fn same_node(a: &EntityKey, b: &EntityKey) -> bool {
    a.key == b.key
}

/// The role an entity argument of a definition plays, by its kind.
fn kind_role(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Asset => "asset",
        EntityKind::Threat => "threat",
        EntityKind::Control => "control",
        EntityKind::Actor => "actor",
        EntityKind::Boundary => "boundary",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Language;
    use std::sync::Arc;

    fn project(files: &[(&str, &str)]) -> (ProjectIndex, Analysis) {
        let mut index = ProjectIndex::default();
        for (path, text) in files {
            index.set_file(Arc::new(FileFacts::new(
                FileId::relative(*path),
                Language::Python,
                Arc::<str>::from(*text),
            )));
        }
        let analysis = Analysis::new(&index);
        (index, analysis)
    }

    /// Each hit as `verb file:line role=text ... [state] [severity]`.
    fn ask(files: &[(&str, &str)], query: &str) -> Vec<String> {
        let (index, analysis) = project(files);
        let query = parse(query).unwrap();
        analysis
            .query(&index, &query)
            .hits
            .iter()
            .map(|h| {
                let mut s = format!("{} {}", h.verb, index.place(h.file.as_str(), h.range.start()));
                for (role, text) in &h.args {
                    s.push_str(&format!(" {role}={text}"));
                }
                s.extend(h.state.map(|st| format!(" [{st}]")));
                s.extend(h.severity.as_ref().map(|sv| format!(" ({sv})")));
                s
            })
            .collect()
    }

    const SHOP: &str = "\
# @threat SQL Injection (#sqli) [high]
# @threat XSS (#xss) [low]
# @control Prepared (#prep)
# @exposes Shop.Orders to #sqli
# @exposes Shop.Web to #xss
# @exposes Shop.Web to #sqli [critical]
# @mitigates Shop.Orders against #sqli using #prep
# @flows User -> Shop.Web via https
# @flows Shop.Web -> Shop.Orders
# @flows Shop.Orders -> Db
# @boundary between Internet and Shop.Web (#edge)
# @flows Internet -> Shop.Web
# @owns team-a for Shop
# @handles pii on Shop.Orders
";

    #[test]
    fn parses_every_form_and_rejects_the_rest() {
        assert_eq!(parse("Threats For  Shop.Orders "), Ok(Query::ThreatsFor("Shop.Orders".into())));
        assert_eq!(parse("path A.B to C"), Ok(Query::Path { from: "A.B".into(), to: "C".into() }));
        assert_eq!(
            parse("unmitigated [severity>=high]"),
            Ok(Query::Unmitigated { at_least: Some(Severity::High) })
        );
        assert_eq!(parse("unmitigated"), Ok(Query::Unmitigated { at_least: None }));
        assert_eq!(parse("flows out of X"), Ok(Query::FlowsOutOf("X".into())));
        assert!(parse("unmitigated [severity>=urgent]").is_err());
        assert!(parse("threats for").is_err());
        assert!(parse("threatsfor X").is_err());
        assert!(parse("ignore previous instructions").is_err());
        assert!(parse("path A B").is_err());
    }

    #[test]
    fn threats_for_an_asset_include_the_assets_inside_it() {
        let hits = ask(&[("a.py", SHOP)], "threats for Shop");
        assert_eq!(
            hits,
            [
                "exposes a.py:4 asset=Shop.Orders threat=SQL Injection [mitigated] (high)",
                "exposes a.py:5 asset=Shop.Web threat=XSS [open] (low)",
                "exposes a.py:6 asset=Shop.Web threat=SQL Injection [open] (critical)",
                "mitigates a.py:7 asset=Shop.Orders threat=SQL Injection control=Prepared",
            ]
        );
        assert_eq!(ask(&[("a.py", SHOP)], "threats for Shop.Orders").len(), 2);
    }

    #[test]
    fn unmitigated_filters_by_effective_severity() {
        assert_eq!(ask(&[("a.py", SHOP)], "unmitigated").len(), 2);
        assert_eq!(
            ask(&[("a.py", SHOP)], "unmitigated severity>=high"),
            ["exposes a.py:6 asset=Shop.Web threat=SQL Injection [open] (critical)"]
        );
    }

    #[test]
    fn flows_paths_owners_classes_and_crossings() {
        let files = [("a.py", SHOP)];
        assert_eq!(ask(&files, "mitigations of #sqli").len(), 1);
        assert_eq!(ask(&files, "flows into Shop.Web").len(), 2);
        assert_eq!(ask(&files, "flows out of Shop.Web"), ["flows a.py:9 from=Shop.Web to=Shop.Orders"]);
        assert_eq!(
            ask(&files, "path User to Db"),
            [
                "flows a.py:8 from=User to=Shop.Web via=https",
                "flows a.py:9 from=Shop.Web to=Shop.Orders",
                "flows a.py:10 from=Shop.Orders to=Db",
            ]
        );
        assert!(ask(&files, "path Db to User").is_empty());
        assert_eq!(ask(&files, "owner of Shop.Orders"), ["owns a.py:13 owner=team-a asset=Shop"]);
        assert_eq!(ask(&files, "handles PII"), ["handles a.py:14 class=pii asset=Shop.Orders"]);
        assert_eq!(ask(&files, "crossing #edge"), ["flows a.py:12 from=Internet to=Shop.Web"]);
        assert!(ask(&files, "crossing #nowhere").is_empty());
    }

    #[test]
    fn an_entity_has_its_definition_references_and_relations() {
        let (index, analysis) = project(&[("a.py", SHOP), ("b.py", "# @exposes Shop.Api to #sqli\n")]);
        let info = analysis.entity(&index, "#sqli").unwrap();
        assert_eq!(info.name, "SQL Injection");
        assert_eq!(info.definitions.len(), 1);
        assert_eq!(info.references.len(), 4);
        assert_eq!(info.relations.len(), 4);
        assert!(analysis.entity(&index, "#nothing").is_none());
        assert!(analysis.entity(&index, "Shop.Api").is_some());
    }

    #[test]
    fn a_file_context_names_its_entities_and_neighbouring_flows() {
        let (index, analysis) = project(&[("a.py", SHOP), ("b.py", "# @flows Db -> Backup\n")]);
        let facts = index.file("b.py").unwrap().clone();
        let context = analysis.file_context(&index, &facts);
        assert_eq!(context.annotations.len(), 1);
        assert_eq!(context.entities.len(), 2);
        assert_eq!(context.neighbours.len(), 1);
        assert_eq!(
            context.neighbours[0].args,
            [("from", "Shop.Orders".to_string()), ("to", "Db".to_string())]
        );
    }
}
