//! Hover: what an entity is and where it stands in the project, as Markdown.
//!
//! Owns: the hover text of an entity argument (or a definition's `(#id)`). Must never: know LSP
//! types or do I/O.
//!
//! The text is: a header (`**threat** SQL Injection `#sqli``), the description (from the
//! definition annotations, then legacy `@describe`), severity and external references, where it
//! is defined (`file:line`, 1-based, the path relative to its workspace folder:
//! [`ProjectIndex::place`]; "implicitly" when only named inline; "built-in" for the
//! legacy CWE library; for a threat-library entry (`#lib.cwe-89`) what the library says: its
//! description, STRIDE categories, element kinds, typical mitigations, which library and, for
//! the built-in one, a link to its documentation), then its status in the project:
//! - threat: how many exposures; each mitigation (asset, control), acceptance, transfer and
//!   confirmed finding with its place; each exposure nothing covers as **open** (coverage is
//!   [`Analysis::coverage`], the one rule);
//! - asset: its exposures (open or covered), mitigations, acceptances, transfers, confirmed
//!   findings and the controls validated on it;
//! - control: what it mitigates where, and where it is validated (or that it is not);
//! - actor: its entitlements; boundary: what it separates.
//!
//! An entity's text depends on the analysis and the entity alone: it is made once per analysis
//! and shared by later hovers ([`EntityHovers`]), as is its risks section (`super::risk`).
//!
//! Annotation text is untrusted: every piece of it is escaped ([`escape_markdown`]) and never
//! put inside a code span; only ids (`#id`, `@id`, `@b:@c` of `[A-Za-z0-9_.-]`) are shown as code. Lists stop after
//! [`MAX_ITEMS`] entries with a count of the rest.

use super::navigation::{declaration_sites, display_name, target_at};
use crate::analysis::risk::Tables as RiskTables;
use crate::analysis::{Analysis, Arg, Relation};
use crate::model::risk::Policies;
use crate::model::{EntityKey, FileFacts, Jagged, Lookup, ProjectIndex, RefFact, Resolved};
use crate::syntax::{Body, EntityKind};
use crate::text::{self, TextRange};
use rustc_hash::FxHashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// Entries shown per status list.
pub const MAX_ITEMS: usize = 20;

/// Hover text and the range it describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoverInfo {
    pub markdown: String,
    pub range: TextRange,
}

/// The hover for the entity under the cursor, `None` when the cursor is on no entity.
pub fn hover(index: &ProjectIndex, analysis: &Analysis, file: &str, offset: usize) -> Option<HoverInfo> {
    let target = target_at(index, file, offset)?;
    let markdown = match &target.resolved {
        Resolved::Dangling(id) => {
            format!("`#{id}` is not defined: no definition in the project has this id")
        }
        Resolved::Entity(entity) => entity_text(index, analysis, entity).to_string(),
        Resolved::External(entity) => format!(
            "{} `{}`: an external entity, defined in repository `{}`, which is not part of this \
             project (open its folder in the workspace to resolve it)",
            entity.kind.as_str(),
            entity.key,
            entity.key[1..].split('.').next().unwrap_or_default()
        ),
    };
    Some(HoverInfo { markdown, range: target.range })
}

/// `entity`'s text, made once per analysis or taken over from an earlier one ([`EntityHovers`]).
pub(super) fn entity_text(index: &ProjectIndex, analysis: &Analysis, entity: &EntityKey) -> Arc<str> {
    let mentions = analysis.mentions(index).list(entity);
    analysis.entity_hovers.text(entity, mentions, || entity_markdown(index, analysis, entity))
}

/// The entity hovers of one analysis: each entity's text ([`hover`] on it) and its risks
/// section (`super::risk`, under one set of risk policies), made by the first hover that shows
/// them and shared by the later ones (a language server asks again and again about the few
/// entities under the cursor). Neither depends on where the cursor is: the text on the
/// analysis (and its index) and the entity, the risks section on those and the policies.
///
/// An analysis derived from an earlier one ([`Analysis::update`]) under the same resolution
/// tables, with the same coverage answers and stated severities, starts from the earlier
/// one's hovers (`EntityHovers::carried`) and takes over each entity's that was read from
/// the mention list the entity still has (the same list: no edited file names or defines
/// the entity, so every annotation the hover read is unchanged), and for a risks section the
/// same risk tables and policies; any other is made again.
#[derive(Debug, Default)]
pub struct EntityHovers {
    texts: Mutex<FxHashMap<EntityKey, Made<Arc<str>>>>,
    /// The policies the sections were made under, and each entity's (`None`: it has none).
    risks: Mutex<Option<(Policies, RiskSections)>>,
    /// The earlier analyses' hovers this one may take over (see above).
    carried: Carried,
}

/// An entity's list of mentions ([`crate::analysis::mentions::Mentions`]).
type MentionList = Arc<Vec<(u32, u32)>>;

/// Each entity's risks section (`None`: it has none).
type RiskSections = FxHashMap<EntityKey, Made<Option<Arc<str>>>>;

/// Hovers of earlier analyses, for [`EntityHovers::carried`].
#[derive(Clone, Debug, Default)]
pub(in crate::analysis) struct Carried {
    texts: FxHashMap<EntityKey, Made<Arc<str>>>,
    risks: Option<(Policies, RiskSections)>,
}

/// A part of an entity's hover and what it was read from that a later analysis compares: the
/// entity's mention list and, for a risks section, the risk tables. Holding them keeps them
/// alive, so the same address is the same list.
#[derive(Clone, Debug)]
struct Made<T> {
    value: T,
    mentions: MentionList,
    tables: Option<Arc<RiskTables>>,
}

impl<T> Made<T> {
    fn held_elsewhere(&self) -> bool {
        Arc::strong_count(&self.mentions) > 1 && self.tables.as_ref().is_none_or(|t| Arc::strong_count(t) > 1)
    }

    fn read_from(&self, mentions: &MentionList, tables: Option<&Arc<RiskTables>>) -> bool {
        Arc::ptr_eq(&self.mentions, mentions)
            && match (&self.tables, tables) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

impl EntityHovers {
    /// The hovers a later analysis may take over: these and the ones these took theirs from.
    /// The caller checks what holds for every entity (tables, coverage answers, severities).
    /// One read from a list or tables nothing else holds any more is left out: no later
    /// analysis can have them.
    pub(in crate::analysis) fn carried(&self) -> Carried {
        let mut carried = self.carried.clone();
        carried.texts.extend(lock(&self.texts).iter().map(|(e, made)| (e.clone(), made.clone())));
        if let Some((policies, sections)) = &*lock(&self.risks) {
            match &mut carried.risks {
                Some((under, kept)) if under == policies => {
                    kept.extend(sections.iter().map(|(e, made)| (e.clone(), made.clone())))
                }
                _ => carried.risks = Some((policies.clone(), sections.clone())),
            }
        }
        carried.texts.retain(|_, made| made.held_elsewhere());
        if let Some((_, sections)) = &mut carried.risks {
            sections.retain(|_, made| made.held_elsewhere());
        }
        carried
    }

    /// Starts from `carried` ([`EntityHovers::carried`] of an earlier analysis).
    pub(in crate::analysis) fn from_carried(carried: Carried) -> EntityHovers {
        EntityHovers { carried, ..EntityHovers::default() }
    }

    /// `entity`'s text, made by `make` the first time or taken over from an earlier analysis
    /// when read from the same `mentions` (the entity's list; `None`: it has none, and a text
    /// is never taken over).
    fn text(
        &self,
        entity: &EntityKey,
        mentions: Option<&MentionList>,
        make: impl FnOnce() -> String,
    ) -> Arc<str> {
        if let Some(made) = lock(&self.texts).get(entity) {
            return made.value.clone();
        }
        let kept = self.carried.texts.get(entity).zip(mentions).filter(|(made, m)| made.read_from(m, None));
        // Made without the lock: hovers on other entities do not wait.
        let value: Arc<str> = match kept {
            Some((made, _)) => made.value.clone(),
            None => make().into(),
        };
        // With no list a fresh one: never the same as a later analysis's.
        let made = Made { value, mentions: mentions.cloned().unwrap_or_default(), tables: None };
        lock(&self.texts).entry(entity.clone()).or_insert(made).value.clone()
    }

    /// `entity`'s risks section under `policies`, made by `make` the first time or taken over
    /// like a text (read from the same mention list and risk `tables`).
    pub(super) fn risks(
        &self,
        policies: &Policies,
        entity: &EntityKey,
        (mentions, tables): (Option<&MentionList>, &Arc<RiskTables>),
        make: impl FnOnce() -> Option<String>,
    ) -> Option<Arc<str>> {
        if let Some((made_under, sections)) = &*lock(&self.risks)
            && made_under == policies
            && let Some(made) = sections.get(entity)
        {
            return made.value.clone();
        }
        let kept = match &self.carried.risks {
            Some((under, sections)) if under == policies => {
                sections.get(entity).zip(mentions).filter(|(made, m)| made.read_from(m, Some(tables)))
            }
            _ => None,
        };
        let value: Option<Arc<str>> = match kept {
            Some((made, _)) => made.value.clone(),
            None => make().map(Arc::from),
        };
        let mentions = mentions.cloned().unwrap_or_default();
        let made = Made { value: value.clone(), mentions, tables: Some(tables.clone()) };
        let mut slot = lock(&self.risks);
        match &mut *slot {
            Some((made_under, sections)) if made_under == policies => {
                sections.entry(entity.clone()).or_insert(made).value.clone()
            }
            _ => {
                *slot = Some((policies.clone(), [(entity.clone(), made)].into_iter().collect()));
                value
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Escapes annotation text for Markdown (hover and completion documentation): backslash
/// before every character Markdown or HTML could read as syntax, whitespace runs (newlines
/// too) collapsed to one space, a leading list, heading or numbered-list marker neutralised,
/// and control and bidi characters replaced by [`text::REPLACEMENT`] (the rule of
/// [`text::is_inert`]).
pub fn escape_markdown(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(collapsed.len() + 8);
    let digits = collapsed.bytes().take_while(u8::is_ascii_digit).count();
    for (i, c) in collapsed.char_indices() {
        let special = matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '['
                | ']'
                | '('
                | ')'
                | '<'
                | '>'
                | '#'
                | '|'
                | '~'
                | '&'
                | '!'
                | '{'
                | '}'
        );
        let leading =
            (i == 0 && matches!(c, '-' | '+' | '=')) || (digits > 0 && i == digits && matches!(c, '.' | ')'));
        if special || leading {
            out.push('\\');
        }
        out.push(if text::is_inert(c) { c } else { text::REPLACEMENT });
    }
    out
}

fn entity_markdown(index: &ProjectIndex, analysis: &Analysis, entity: &EntityKey) -> String {
    let defs = index.definitions(entity);
    let mut md = String::new();

    // Header: kind, name, ids.
    let mut ids: Vec<&str> =
        defs.iter().filter_map(|(_, d)| d.explicit_id.as_ref().map(|i| i.value.as_str())).collect();
    ids.dedup();
    let builtin = defs.is_empty() && entity.kind == EntityKind::Threat && entity.key.starts_with("cwe_");
    if builtin {
        ids.push(&entity.key);
    }
    let library = index.library_entry(entity).filter(|_| defs.is_empty());
    let library_tag = library.map(|e| format!("{}.{}", crate::model::library::LIB_TAG, e.id));
    ids.extend(library_tag.as_deref());
    let name = Some(display_name(index, entity)).filter(|n| !(ids.contains(&n.as_str()) || builtin));
    let _ = write!(md, "**{}**", entity.kind.as_str());
    if let Some(name) = name {
        let _ = write!(md, " {}", escape_markdown(&name));
    }
    for id in &ids {
        let _ = write!(md, " `#{id}`");
    }
    md.push_str("\n\n");

    // Description, severity and references from the definitions.
    let mut descriptions: Vec<String> = Vec::new();
    let mut external: Vec<String> = Vec::new();
    for (file, d) in defs.iter().filter(|(_, d)| d.declared) {
        let Some(ann) = index.file(file.as_str()).and_then(|f| f.annotations().get(d.annotation)) else {
            continue;
        };
        if let Some(desc) = &ann.description {
            push_unique(&mut descriptions, desc.value.to_string());
        }
        for r in ann.external_refs() {
            push_unique(&mut external, r.value.clone());
        }
    }

    // Status: one pass over the annotations that mention the entity.
    let status = Status::collect(index, analysis, entity, &mut descriptions);

    for desc in &descriptions {
        let _ = write!(md, "{}\n\n", escape_markdown(desc));
    }
    let mut facts_line: Vec<String> = Vec::new();
    if let Some(sev) = analysis.threat_severity.get(entity) {
        facts_line.push(format!("severity **{}**", escape_markdown(&sev.word)));
    }
    facts_line.extend(external.iter().map(|r| escape_markdown(r)));
    if !facts_line.is_empty() {
        let _ = write!(md, "{}\n\n", facts_line.join(" · "));
    }

    // Where it is defined.
    if let Some(entry) = library {
        library_markdown(index, entry, &mut md);
    } else if builtin {
        md.push_str("built-in ThreatSpec 0.1 CWE threat\n\n");
    } else if defs.iter().any(|(_, d)| d.declared) {
        let places: Vec<String> = declaration_sites(index, entity)
            .iter()
            .map(|loc| place(index, loc.file.as_str(), loc.range.start()))
            .collect();
        let _ = write!(md, "defined at {}\n\n", places.join(", "));
    } else if let Some(loc) = declaration_sites(index, entity).first() {
        let how = if defs.is_empty() { "defined implicitly: first named" } else { "id defined inline" };
        let _ = write!(md, "{how} at {}\n\n", place(index, loc.file.as_str(), loc.range.start()));
    }

    if !status.summary.is_empty() || !status.items.is_empty() {
        md.push_str("---\n\n");
        if !status.summary.is_empty() {
            let _ = write!(md, "{}\n\n", status.summary.join(", "));
        }
        let extra = status.item_count.saturating_sub(MAX_ITEMS);
        for item in &status.items {
            let _ = writeln!(md, "- {item}");
        }
        if extra > 0 {
            let _ = writeln!(md, "- and {extra} more");
        }
    }
    md.trim_end().to_string()
}

/// What a threat library says about one of its entries: description, STRIDE categories (of
/// its references, by [`crate::analysis::stride`]), the elements it applies to, typical
/// mitigations, where it comes from and, for the built-in library, its documentation link.
fn library_markdown(index: &ProjectIndex, entry: &crate::model::library::LibraryEntry, md: &mut String) {
    if !entry.description.is_empty() {
        let _ = write!(md, "{}\n\n", escape_markdown(&entry.description));
    }
    let stride = crate::analysis::stride::stride_of(entry.refs.iter().map(String::as_str));
    let mut facts: Vec<String> = Vec::new();
    if !stride.is_empty() {
        let names: Vec<&str> = stride.iter().map(|s| s.name()).collect();
        facts.push(format!("STRIDE: {}", names.join(", ")));
    }
    if !entry.applies_to.is_empty() {
        let kinds: Vec<&str> = entry.applies_to.iter().map(|k| k.as_str()).collect();
        facts.push(format!("applies to: {}", kinds.join(", ")));
    }
    facts.extend(entry.refs.iter().map(|r| escape_markdown(r)));
    if !facts.is_empty() {
        let _ = write!(md, "{}\n\n", facts.join(" · "));
    }
    if !entry.mitigations.is_empty() {
        md.push_str("Typical mitigations:\n");
        for m in &entry.mitigations {
            let _ = writeln!(md, "- {}", escape_markdown(m));
        }
        md.push('\n');
    }
    match (index.project_library().get(&entry.id), &entry.url) {
        (Some(_), _) => md.push_str("from the project's threat library\n\n"),
        // Only the compiled-in data has links: a project library's text is never made one.
        (None, Some(url)) => {
            let _ = write!(md, "from the built-in threat library · [documentation]({url})\n\n");
        }
        (None, None) => md.push_str("from the built-in threat library\n\n"),
    }
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// `path:line` (1-based, the path as [`ProjectIndex::shown_path`] shows it), escaped.
fn place(index: &ProjectIndex, file: &str, offset: usize) -> String {
    escape_markdown(&index.place(file, offset))
}

/// An argument as written: ids (`#id`, `@id`, `@b:@c`) as code, names escaped.
fn written(facts: &FileFacts, fact: &RefFact) -> String {
    let text = facts.slice(fact.range);
    let id_like = matches!(fact.lookup(), Lookup::Id(_) | Lookup::Legacy(_))
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '#' | '@' | '_' | '-' | '.' | ':'));
    if id_like { format!("`{text}`") } else { escape_markdown(text) }
}

/// One annotation that mentions the entity: its file, the file's resolution under the
/// analysis, and its index in the file.
type Mention<'a> = (&'a FileFacts, &'a Jagged<Resolved>, usize);

struct Status {
    summary: Vec<String>,
    /// The first [`MAX_ITEMS`] status lines in order, and how many there are in all.
    items: Vec<String>,
    item_count: usize,
}

/// The counts of a status summary.
#[derive(Default)]
struct Counts {
    exposures: usize,
    open: usize,
    mitigations: usize,
    validations: usize,
}

/// `path:line` of an annotation, formatted ([`place`]) only when shown.
struct Place<'a>(&'a ProjectIndex, &'a str, usize);

impl std::fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&place(self.0, self.1, self.2))
    }
}

/// What annotation `i` of `facts` adds to `entity`'s status: its counts and descriptions, and
/// `Some` when it is a status line (its text when `render`, else empty: the line is only
/// written for the lines shown).
#[allow(clippy::too_many_arguments)]
fn visit(
    index: &ProjectIndex,
    analysis: &Analysis,
    entity: &EntityKey,
    target: &Resolved,
    (facts, resolved, i): Mention<'_>,
    render: bool,
    counts: &mut Counts,
    descriptions: &mut Vec<String>,
) -> Option<String> {
    let ann = &facts.annotations()[i];
    let r = resolved.get(i).unwrap_or(&[]);
    let bounded = matches!(&ann.body, Body::Boundary { id: Some(id), .. }
        if entity.kind == EntityKind::Boundary && *id.value == *entity.key);
    if !bounded && !r.iter().any(|x| x == target) {
        return None;
    }
    let relation = Relation::resolved(ann, &facts.refs[i], r)?;
    let is = |a: Arg| a.resolved == target;
    let here = Place(index, facts.path.as_str(), ann.range.start());
    let arg = |a: Arg| written(facts, a.fact);
    let mut item = None;
    let mut push = |text: &dyn Fn() -> String| item = Some(if render { text() } else { String::new() });
    let by = |control: Option<Arg>| control.map_or_else(String::new, |c| format!(" by {}", arg(c)));
    let covered = |asset: Arg, threat: Arg| match (asset.entity(), threat.entity()) {
        (Some(asset), Some(threat)) => analysis.exposure_covered(facts, i, asset, threat),
        // One whose asset or threat does not resolve is open, as it always was here.
        _ => false,
    };
    match (relation, entity.kind) {
        (Relation::Description { text, .. }, _) => push_unique(descriptions, text.value.clone()),
        (Relation::Exposure { asset, threat }, EntityKind::Threat) if is(threat) => {
            counts.exposures += 1;
            if !covered(asset, threat) {
                counts.open += 1;
                push(&|| format!("**open** on {} (unmitigated) at {here}", arg(asset)));
            }
        }
        (Relation::Exposure { asset, threat }, EntityKind::Asset) if is(asset) => {
            counts.exposures += 1;
            if covered(asset, threat) {
                push(&|| format!("exposed to {} (covered) at {here}", arg(threat)));
            } else {
                counts.open += 1;
                push(&|| format!("**open**: exposed to {} (unmitigated) at {here}", arg(threat)));
            }
        }
        (Relation::Confirmation { threat, asset }, EntityKind::Threat) if is(threat) => {
            push(&|| format!("**confirmed** on {} at {here}", arg(asset)))
        }
        (Relation::Confirmation { threat, asset }, EntityKind::Asset) if is(asset) => {
            push(&|| format!("**confirmed** {} at {here}", arg(threat)))
        }
        (Relation::Mitigation { asset, threat, control }, EntityKind::Threat) if is(threat) => {
            counts.mitigations += 1;
            push(&|| format!("mitigated on {}{} at {here}", arg(asset), by(control)))
        }
        (Relation::Mitigation { asset, threat, control }, EntityKind::Asset) if is(asset) => {
            counts.mitigations += 1;
            push(&|| format!("mitigated against {}{} at {here}", arg(threat), by(control)))
        }
        (Relation::Mitigation { asset, threat, control: Some(control) }, EntityKind::Control)
            if is(control) =>
        {
            counts.mitigations += 1;
            push(&|| format!("mitigates {} on {} at {here}", arg(threat), arg(asset)))
        }
        (Relation::Acceptance { threat, asset }, EntityKind::Threat) if is(threat) => {
            push(&|| format!("accepted on {} at {here}", arg(asset)))
        }
        (Relation::Acceptance { threat, asset }, EntityKind::Asset) if is(asset) => {
            push(&|| format!("accepts {} at {here}", arg(threat)))
        }
        (Relation::Transfer { threat, from, to }, EntityKind::Threat) if is(threat) => push(&|| match from {
            Some(from) => format!("transferred from {} to {} at {here}", arg(from), arg(to)),
            None => format!("transferred to {} at {here}", arg(to)),
        }),
        (Relation::Transfer { threat, from, to }, EntityKind::Asset) if from.is_some_and(is) || is(to) => {
            push(&|| format!("transfer of {} at {here}", arg(threat)))
        }
        (Relation::Validation { control, asset }, EntityKind::Control) if is(control) => {
            counts.validations += 1;
            push(&|| format!("validated for {} at {here}", arg(asset)))
        }
        (Relation::Validation { control, asset }, EntityKind::Asset) if is(asset) => {
            push(&|| format!("control {} validated at {here}", arg(control)))
        }
        (Relation::Entitlement { actor, capability, asset, .. }, EntityKind::Actor) if is(actor) => {
            push(&|| {
                let on = asset.map_or_else(String::new, |a| format!(" on {}", arg(a)));
                format!("entitled to {}{on} at {here}", escape_markdown(&capability.value))
            })
        }
        (Relation::Boundary { a, b, directed, .. }, _) if bounded => push(&|| match directed {
            true => format!("from {} (outer) to {} (inner) at {here}", arg(a), arg(b)),
            false => format!("between {} and {} at {here}", arg(a), arg(b)),
        }),
        _ => {}
    }
    item
}

impl Status {
    /// The status of `entity`: every annotation mentioning it is counted, and only the status
    /// lines shown are written.
    fn collect(
        index: &ProjectIndex,
        analysis: &Analysis,
        entity: &EntityKey,
        descriptions: &mut Vec<String>,
    ) -> Status {
        let target = Resolved::Entity(entity.clone());
        let mentions = analysis.mentions(index);
        let mut counts = Counts::default();
        let mut lines = Vec::new();
        for (file_no, facts, i) in mentions.of(entity) {
            // The mentions are positions in this analysis's files.
            let mention = (&**facts, &**analysis.resolved.at(file_no).1, i);
            let seen = visit(index, analysis, entity, &target, mention, false, &mut counts, descriptions);
            if seen.is_some() {
                lines.push(((file_no, facts.annotations()[i].range.start()), mention));
            }
        }
        lines.sort_by_key(|(at, _)| *at);
        let items = lines
            .iter()
            .take(MAX_ITEMS)
            .filter_map(|(_, mention)| {
                let (mut unused, mut none) = (Counts::default(), Vec::new());
                visit(index, analysis, entity, &target, *mention, true, &mut unused, &mut none)
            })
            .collect();
        let Counts { exposures, open, mitigations, validations } = counts;
        let mut summary = Vec::new();
        match entity.kind {
            EntityKind::Threat | EntityKind::Asset => {
                summary.push(format!("exposed in {exposures} {}", plural(exposures, "place", "places")));
                if exposures > 0 {
                    summary.push(format!("{open} open"));
                }
                summary.push(format!("{mitigations} {}", plural(mitigations, "mitigation", "mitigations")));
            }
            EntityKind::Control => {
                summary
                    .push(format!("mitigates in {mitigations} {}", plural(mitigations, "place", "places")));
                if validations == 0 {
                    summary.push("not validated (no `@validates`)".to_string());
                } else {
                    summary.push(format!(
                        "validated in {validations} {}",
                        plural(validations, "place", "places")
                    ));
                }
            }
            EntityKind::Actor | EntityKind::Boundary => {}
        }
        Status { summary, items, item_count: lines.len() }
    }
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}
