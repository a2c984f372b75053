//! Project diagnostics: every code in [`crate::diagnostic::Code`] is produced here (`stale-anchor`
//! and the relocation of sidecar findings by `super::anchors`, called last).
//!
//! Owns: the semantic checks over a [`ProjectIndex`] (dangling references, duplicates,
//! unmitigated exposures, confirmed findings, unused definitions) and lifting syntax errors
//! into file diagnostics. Must never: do I/O or format output.
//!
//! `unmitigated-exposure` is an exposure that [`Analysis::coverage`] calls open (the rule is
//! `super::coverage`'s).

use super::coverage::CoverIndex;
use super::suggest::{Suggester, Suggestion};
use super::{Analysis, Relation, Resolutions, StatedSeverity};
use crate::diagnostic::{Code, Diagnostic, Edit, Fix, Level, Related};
use crate::file_id::FileId;
use crate::model::names::normalize_name;
use crate::model::{DefRef, EntityKey, FileFacts, Jagged, Lookup, ProjectIndex, Resolved};
use crate::syntax::{Body, EntityKind, Verb};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub(super) fn collect(index: &ProjectIndex, analysis: &Analysis) -> Vec<Diagnostic> {
    collect_with(index, analysis, analysis.local_diagnostics(index).cloned_diagnostics())
}

/// [`collect`] with each file's own diagnostics given (`own`, in index order).
pub(super) fn collect_with(
    index: &ProjectIndex,
    analysis: &Analysis,
    mut out: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    dangling(index, analysis, &mut out);
    duplicates(index, &mut out);
    library_duplicates(index, &mut out);
    unused(index, analysis, &mut out);
    unplaced_boundary_sides(index, analysis, &mut out);
    super::mcp_surface::shadowing(index, &mut out);
    finish(index, out)
}

/// Each file's own diagnostics: its syntax errors and its exposures' and confirmed findings'
/// (before the anchor pass), with what they were computed under. A file's own diagnostics
/// depend on its facts and resolution, the coverage index, the threats' stated severities,
/// the resolution tables and the definitions' names and places; the next analysis keeps those
/// of the files it did not resolve again when none of these changed ([`Local::new`]). Every
/// other check reads the whole project and runs every time.
#[derive(Debug)]
pub(super) struct Local {
    tables_revision: u64,
    covers: Arc<CoverIndex>,
    threat_severity: Arc<HashMap<EntityKey, StatedSeverity>>,
    /// The files in index order, as they were, and their resolution.
    files: Resolutions,
    /// `(position in files, its diagnostics)` for the files that have any, in index order.
    diagnostics: Vec<(u32, Vec<Diagnostic>)>,
}

impl Local {
    /// The own diagnostics of every file of `index`: kept from `carried` for each file whose
    /// facts are the ones it was computed from when nothing else they depend on changed
    /// ([`Local::holds`]), computed for the others.
    pub(super) fn new(index: &ProjectIndex, analysis: &Analysis, carried: Option<&Local>) -> Local {
        let files = analysis.resolved.clone();
        let carried = carried.and_then(|c| Some((&c.diagnostics[..], c.holds(index, analysis)?)));
        let diagnostics = per_file(&files, carried, |facts, resolved, own| {
            syntax_errors(facts, own);
            exposures(index, analysis, facts, resolved, own);
        });
        Local {
            tables_revision: index.tables_revision(),
            covers: analysis.covers.clone(),
            threat_severity: analysis.threat_severity.clone(),
            files,
            diagnostics,
        }
    }

    /// Every file's own diagnostics, in index order, copied.
    pub(super) fn cloned_diagnostics(&self) -> Vec<Diagnostic> {
        self.diagnostics.iter().flat_map(|(_, d)| d.iter().cloned()).collect()
    }

    /// Every file's own diagnostics, in index order.
    pub(super) fn into_diagnostics(self) -> Vec<Diagnostic> {
        let mut out = Vec::with_capacity(self.diagnostics.iter().map(|(_, d)| d.len()).sum());
        for (_, own) in self.diagnostics {
            out.extend(own);
        }
        out
    }

    /// The positions of the files edited since these diagnostics were computed, when the
    /// files that are still the same (the same facts) still have them in `index` under
    /// `analysis`: the same resolution tables (so the same files, resolved as before), the
    /// same `coverage.scope`, the same stated severities, and every edited file shows other
    /// files what it showed them: its definitions ([`same_definitions`]) and its covering
    /// relations (`CoverIndex::same_but_places`). Edits that move an edited file's other
    /// annotations (typing above them) keep the rest of the project's diagnostics.
    fn holds(&self, index: &ProjectIndex, analysis: &Analysis) -> Option<Vec<usize>> {
        let same = self.tables_revision == index.tables_revision()
            && self.covers.scope() == analysis.covers.scope()
            && self.threat_severity == analysis.threat_severity;
        let edited = self.files.edited(&analysis.resolved).filter(|_| same)?;
        edited
            .iter()
            .all(|&k| {
                let ((old, old_resolved), (new, new_resolved)) = (self.files.at(k), analysis.resolved.at(k));
                old.path == new.path
                    && same_definitions(old, new)
                    && self.covers.same_but_places((old, old_resolved), &analysis.covers, (new, new_resolved))
            })
            .then_some(edited)
    }
}

/// One file's results: its position in index order and the results.
pub(super) type PerFile = (u32, Vec<Diagnostic>);

/// Each file's own results, `(position in files, results)` for the files that have any, in
/// index order: with `carried` (the results computed for the same files in the same order,
/// and the positions edited since, ascending), kept for every other file and computed by
/// `compute` (given each file's facts and resolution) for the edited ones; with nothing
/// carried, computed for every file, on every core. The caller has checked that nothing else
/// they depend on changed.
pub(super) fn per_file(
    files: &Resolutions,
    carried: Option<(&[PerFile], Vec<usize>)>,
    compute: impl Fn(&FileFacts, &Jagged<Resolved>, &mut Vec<Diagnostic>) + Sync,
) -> Vec<PerFile> {
    let Some((kept, edited)) = carried else {
        // Nothing to keep (a first analysis): every file's, on every core.
        use rayon::prelude::*;
        let all: Vec<(&Arc<FileFacts>, &super::Resolution)> = files.iter().collect();
        return all
            .par_iter()
            .enumerate()
            .map(|(k, (facts, resolved))| {
                let mut own = Vec::new();
                compute(facts, resolved, &mut own);
                (k as u32, own)
            })
            .filter(|(_, own)| !own.is_empty())
            .collect();
    };
    // The edited files' results, then merged with the kept ones (both in index order).
    let computed = edited.iter().filter_map(|&k| {
        let mut own = Vec::new();
        let (facts, resolved) = files.at(k);
        compute(facts, resolved, &mut own);
        (!own.is_empty()).then_some((k as u32, own))
    });
    let mut kept = kept.iter().filter(|(at, _)| edited.binary_search(&(*at as usize)).is_err()).peekable();
    let mut out = Vec::with_capacity(kept.size_hint().0 + edited.len());
    for (at, own) in computed {
        while let Some(before) = kept.next_if(|(before, _)| *before < at) {
            out.push(before.clone());
        }
        out.push((at, own));
    }
    out.extend(kept.cloned());
    out
}

/// The same definitions as other files' diagnostics read them: each site's entity, names and
/// id, and the place of each declaration (threat labels and "defined here" notes name it);
/// an inline site's place is read only by the whole-project checks, which run every time.
fn same_definitions(old: &FileFacts, new: &FileFacts) -> bool {
    old.defs.len() == new.defs.len()
        && old.defs.iter().zip(&new.defs).all(|(a, b)| {
            a.entity == b.entity
                && a.name == b.name
                && a.norm_name == b.norm_name
                && a.explicit_id.as_ref().map(|i| &i.value) == b.explicit_id.as_ref().map(|i| &i.value)
                && a.declared == b.declared
                && (!a.declared || (a.range == b.range && a.explicit_id == b.explicit_id))
        })
}

/// Moves sidecar findings to their anchors and puts diagnostics in reporting order (file,
/// position, code, message).
pub(super) fn finish(index: &ProjectIndex, mut out: Vec<Diagnostic>) -> Vec<Diagnostic> {
    super::anchors::apply(index, &mut out);
    order(&mut out);
    out
}

/// From how many diagnostics [`order`] sorts on every core.
const PARALLEL_ORDER: usize = 1024;

/// Reporting order: file, position, code, message (a stable sort).
pub(super) fn order(out: &mut [Diagnostic]) {
    fn key(d: &Diagnostic) -> (&FileId, u32, Code, &str) {
        (&d.file, d.range.start, d.code, &d.message)
    }
    if out.is_sorted_by(|a, b| key(a) <= key(b)) {
        return;
    }
    // Positions are sorted, then each diagnostic moved once: a diagnostic is ~200 bytes, and
    // sorting the diagnostics themselves moved each of thousands a dozen times.
    let mut from: Vec<usize> = (0..out.len()).collect();
    let items = &*out;
    let by_key = |&a: &usize, &b: &usize| key(&items[a]).cmp(&key(&items[b]));
    // On every core when there are thousands (a stable sort either way: the same order).
    if items.len() >= PARALLEL_ORDER {
        rayon::slice::ParallelSliceMut::par_sort_by(&mut from[..], by_key);
    } else {
        from.sort_by(by_key);
    }
    permute(out, &mut from);
}

/// Puts at each position `k` of `items` the item that was at `from[k]` (`from` is a
/// permutation, consumed), following each cycle of the permutation with swaps.
fn permute<T>(items: &mut [T], from: &mut [usize]) {
    for start in 0..items.len() {
        let mut at = start;
        // Each position is settled once: marked by pointing at itself.
        while from[at] != start && from[at] != at {
            let next = from[at];
            items.swap(at, next);
            from[at] = at;
            at = next;
        }
        from[at] = at;
    }
}

/// A diagnostic of `code` at its default level, with nothing related and no fix.
pub(super) fn diag(code: Code, file: &FileId, range: crate::text::TextRange, message: String) -> Diagnostic {
    Diagnostic {
        code,
        level: code.default_level(),
        message,
        file: file.clone(),
        range,
        related: Vec::new(),
        fix: None,
        unnecessary: false,
        sidecar: None,
        finding_severity: None,
    }
}

fn syntax_errors(facts: &FileFacts, out: &mut Vec<Diagnostic>) {
    for e in &facts.parsed.errors {
        let mut d = diag(e.code, &facts.path, e.range, e.message.clone());
        if let Some((label, range, text)) = &e.fix {
            d.fix = Some(Fix {
                label: label.clone(),
                edits: vec![Edit { file: facts.path.clone(), range: *range, new_text: text.clone() }],
            });
        }
        out.push(d);
    }
}

fn dangling(index: &ProjectIndex, analysis: &Analysis, out: &mut Vec<Diagnostic>) {
    let mut suggester = Suggester::new(index);
    for (file, fact, id) in &analysis.dangling {
        // A qualified `#repo.id` dangles inside its repository: suggest for the id there.
        let (repo, id) = match index.split_tag(id) {
            Some((repo, local)) if matches!(fact.lookup(), Lookup::Tag(_)) => {
                (Some(repo.name.as_str()), local)
            }
            _ => (None, &**id),
        };
        let suggestion = suggester.suggest(fact.kind, id);
        let written = index.file(file.as_str()).map_or(String::new(), |f| f.slice(fact.range).to_string());
        let library = crate::model::library::id_of_tag(id).filter(|_| repo.is_none());
        let mut message = match (repo, library) {
            (None, Some(entry)) => format!(
                "`{written}` is not defined: no threat library (the project's or the built-in one) has \
                 the id `{entry}`"
            ),
            (Some(repo), _) => format!(
                "`{written}` is not defined: repository `{repo}` has no {} with the id `{id}`",
                fact.kind.as_str()
            ),
            (None, None) => {
                format!("`{written}` is not defined: no {} has the id `{id}`", fact.kind.as_str())
            }
        };
        let mut d = diag(Code::DanglingReference, file, fact.name_range, String::new());
        if let Some(reason) = suggestion.not_searched_reason() {
            message.push_str(&format!(" ({reason})"));
        }
        if let Suggestion::Found(ids) = &suggestion {
            let qualified = |id: &str| repo.map_or_else(|| id.to_string(), |repo| format!("{repo}.{id}"));
            message.push_str(&format!("; did you mean {}?", one_of(ids.iter().map(|id| qualified(id)))));
            if let Some(best) = suggestion.fix() {
                let new_text = qualified(best);
                d.fix = Some(Fix {
                    label: format!("Change to `{new_text}`"),
                    edits: vec![Edit { file: file.clone(), range: fact.name_range, new_text }],
                });
            }
            for id in ids.iter().take(SUGGESTIONS_NAMED) {
                if let Some((file, def)) = index.definition_sites_by_id(id).next() {
                    d.related.push(Related {
                        file: file.clone(),
                        range: def.range,
                        message: format!("`{id}` is defined here"),
                    });
                }
            }
        }
        d.message = message;
        out.push(d);
    }
    analysis.suggestion_work.fetch_add(suggester.work(), Ordering::Relaxed);
}

/// Most ids a "did you mean" names (the rest are counted).
const SUGGESTIONS_NAMED: usize = 3;

/// "`a`", "`a` or `b`", "`a`, `b` or `c`", "one of `a`, `b`, `c` (and 2 more)".
fn one_of(ids: impl ExactSizeIterator<Item = String>) -> String {
    let count = ids.len();
    let named: Vec<String> = ids.take(SUGGESTIONS_NAMED).map(|id| format!("`{id}`")).collect();
    match named.split_last() {
        _ if count > SUGGESTIONS_NAMED => {
            format!("one of {} (and {} more)", named.join(", "), count - SUGGESTIONS_NAMED)
        }
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => named.concat(),
    }
}

fn duplicates(index: &ProjectIndex, out: &mut Vec<Diagnostic>) {
    use rayon::prelude::*;
    // Each id's findings read its own sites alone: found on every core, kept in id order.
    let ids: Vec<(&str, &[DefRef])> = index.explicit_ids().collect();
    let by_id: Vec<Vec<(&DefRef, Diagnostic)>> =
        ids.par_iter().map(|&(id, sites)| duplicate_ids(index, id, sites)).collect();
    let found = by_id.iter().map(Vec::len).sum();
    out.reserve(found);
    let mut flagged: HashSet<(&FileId, u32)> = HashSet::with_capacity_and_hasher(found, Default::default());
    for (at, d) in by_id.into_iter().flatten() {
        flagged.insert((&at.file, at.def));
        out.push(d);
    }
    // Each name's findings read its own sites alone: found on every core, kept in name order
    // (a project copied 200 times names each threat 200 times: thousands of findings).
    let names: Vec<((EntityKind, &str), &[DefRef])> = index
        .declared_names()
        .filter(|((kind, _), _)| matches!(kind, EntityKind::Threat | EntityKind::Control | EntityKind::Actor))
        .collect();
    let by_name: Vec<Vec<Diagnostic>> =
        names.par_iter().map(|&((kind, _), sites)| duplicate_names(index, kind, sites, &flagged)).collect();
    out.extend(by_name.into_iter().flatten());
}

/// The `duplicate-definition` findings of one declared name of `kind`, defined at `sites`,
/// but those at the sites already `flagged` for their id.
fn duplicate_names(
    index: &ProjectIndex,
    kind: EntityKind,
    sites: &[DefRef],
    flagged: &HashSet<(&FileId, u32)>,
) -> Vec<Diagnostic> {
    let defs: Vec<_> = sites
        .iter()
        .filter_map(|s| Some((s, index.def(s)?)))
        .filter(|(_, d)| d.declared)
        .filter(|(s, d)| is_definition_annotation(index, s.file.as_str(), d.annotation))
        .collect();
    let Some(&(first_at, first)) = defs.first() else { return Vec::new() };
    let mut found = Vec::new();
    for &(at, def) in &defs[1..] {
        if flagged.contains(&(&at.file, at.def))
            || (def.explicit_id.is_some() && def.explicit_id == first.explicit_id)
        {
            continue;
        }
        let name = def.name.as_deref().unwrap_or_default();
        let mut d = diag(
            Code::DuplicateDefinition,
            &at.file,
            def.range,
            format!("{} `{name}` is defined more than once", kind.as_str()),
        );
        d.related.push(Related {
            file: first_at.file.clone(),
            range: first.range,
            message: "first definition".into(),
        });
        found.push(d);
    }
    found
}

/// The `duplicate-definition` findings of explicit id `id` defined at `sites`, each with the
/// site it is about.
fn duplicate_ids<'i>(index: &ProjectIndex, id: &str, sites: &'i [DefRef]) -> Vec<(&'i DefRef, Diagnostic)> {
    let mut found = Vec::new();
    let defs: Vec<_> = sites.iter().filter_map(|s| Some((s, index.def(s)?))).collect();
    let Some(&(first_at, first)) = defs.iter().find(|(_, d)| d.declared).or(defs.first()) else {
        return found;
    };
    let mut declared_seen = 0;
    for &(at, def) in &defs {
        if def.declared {
            declared_seen += 1;
        }
        let same_site = at == first_at;
        let second_declaration = def.declared && declared_seen > 1;
        let other_name =
            def.norm_name.is_some() && first.norm_name.is_some() && def.norm_name != first.norm_name;
        let other_kind = def.entity.kind != first.entity.kind;
        if same_site || !(second_declaration || other_name || other_kind) {
            continue;
        }
        let what = match (&first.name, other_name || other_kind) {
            (Some(name), true) => format!(" for {} `{name}`", first.entity.kind.as_str()),
            _ => String::new(),
        };
        let range = def.explicit_id.as_ref().map_or(def.range, |i| i.range);
        let first_range = first.explicit_id.as_ref().map_or(first.range, |i| i.range);
        let mut d = diag(
            Code::DuplicateDefinition,
            &at.file,
            range,
            format!("`#{id}` is defined more than once: it is already defined{what}"),
        );
        d.related.push(Related {
            file: first_at.file.clone(),
            range: first_range,
            message: format!("first definition of `#{id}`"),
        });
        found.push((at, d));
    }
    found
}

/// A project library entry whose id an annotation also defines, or another library entry
/// already took: `duplicate-definition` at the later one, naming both (the annotation's
/// definition wins for `#id`; `#lib.<id>` is the library's).
fn library_duplicates(index: &ProjectIndex, out: &mut Vec<Diagnostic>) {
    let mut first: rustc_hash::FxHashMap<String, &crate::model::library::LibraryEntry> = Default::default();
    for entry in index.project_library().entries() {
        let Some((lib_file, lib_range)) = &entry.source else { continue };
        let id = &entry.id;
        let shown = index.place(lib_file.as_str(), lib_range.start());
        for (file, def) in index.definitions_by_id(id) {
            let range = def.explicit_id.as_ref().map_or(def.range, |i| i.range);
            let name = def.name.as_deref().map(|n| format!(" (`{n}`)")).unwrap_or_default();
            let mut d = diag(
                Code::DuplicateDefinition,
                &file,
                range,
                format!(
                    "`#{id}`{name} is also defined by the threat library at {shown} ({} `{}`); `#{id}` names \
                     this definition, `#lib.{id}` the library's",
                    entry.kind.as_str(),
                    entry.name
                ),
            );
            d.related.push(Related {
                file: lib_file.clone(),
                range: *lib_range,
                message: format!("library entry `{id}`"),
            });
            out.push(d);
        }
        match first.get(&id.to_ascii_lowercase()) {
            Some(earlier) => {
                let Some((earlier_file, earlier_range)) = &earlier.source else { continue };
                let mut d = diag(
                    Code::DuplicateDefinition,
                    lib_file,
                    *lib_range,
                    format!(
                        "library entry `{id}` ({}) is defined more than once: {} already defines it ({}); the \
                         first is used",
                        entry.name,
                        index.place(earlier_file.as_str(), earlier_range.start()),
                        earlier.name
                    ),
                );
                d.related.push(Related {
                    file: earlier_file.clone(),
                    range: *earlier_range,
                    message: "first definition".into(),
                });
                out.push(d);
            }
            None => {
                first.insert(id.to_ascii_lowercase(), entry);
            }
        }
    }
}

fn is_definition_annotation(index: &ProjectIndex, file: &str, annotation: usize) -> bool {
    index
        .file(file)
        .and_then(|f| f.annotations().get(annotation))
        .is_some_and(|a| matches!(a.body, Body::Define { .. }))
}

/// The exposures nothing covers and the confirmed findings of one file (`resolved`: its
/// resolution in `analysis`).
fn exposures(
    index: &ProjectIndex,
    analysis: &Analysis,
    facts: &FileFacts,
    resolved: &Jagged<Resolved>,
    out: &mut Vec<Diagnostic>,
) {
    for (i, ann) in facts.annotations().iter().enumerate() {
        // Most annotations are neither: skipped before their relation is looked up.
        if !matches!(ann.body, Body::Exposes { .. } | Body::Confirmed { .. }) {
            continue;
        }
        match Relation::of_file(facts, resolved, i) {
            Some(Relation::Exposure { asset, threat: threat_arg }) => {
                // What `Analysis::coverage` answers, asked only of the exposures it can open:
                // most are covered, and saying so lists nothing.
                let (Some(asset_key), Some(threat)) = (asset.entity(), threat_arg.entity()) else { continue };
                if analysis.exposure_covered(facts, i, asset_key, threat) {
                    continue;
                }
                let Some(coverage) = analysis.coverage(facts.path.as_str(), i).filter(|c| c.is_open()) else {
                    continue;
                };
                let severity = analysis.exposure_severity(facts, ann, Some(threat));
                let mut d = diag(
                    Code::UnmitigatedExposure,
                    &facts.path,
                    ann.range,
                    format!(
                        "`{}` is exposed to {}{} and nothing mitigates, accepts or transfers it",
                        facts.slice(asset.range()),
                        threat_label(index, threat, facts.slice(threat_arg.range())),
                        severity.as_ref().map_or(String::new(), |s| format!(" [{s}]")),
                    ),
                );
                if severity.as_ref().is_some_and(|s| s.value.is_serious()) {
                    d.level = Level::Error;
                }
                d.finding_severity = severity.map(|s| s.value);
                add_definition_notes(index, threat, &mut d);
                // What would cover it but is anchored to another symbol (the anchor rule).
                for c in coverage.contradicted.iter().take(3) {
                    let message = format!(
                        "anchored to `{}`, not `{}`: this does not cover the exposure",
                        c.symbol().unwrap_or_default(),
                        coverage.symbol.unwrap_or_default()
                    );
                    d.related.push(Related { file: c.file.clone(), range: c.range, message });
                }
                out.push(d);
            }
            Some(Relation::Confirmation { threat, asset }) => {
                let threat_text = facts.slice(threat.range());
                let asset_text = facts.slice(asset.range());
                let label = threat
                    .entity()
                    .map_or_else(|| format!("`{threat_text}`"), |t| threat_label(index, t, threat_text));
                let mut d = diag(
                    Code::ConfirmedFinding,
                    &facts.path,
                    ann.range,
                    format!("confirmed finding: {label} on `{asset_text}`"),
                );
                if let Some(t) = threat.entity() {
                    add_definition_notes(index, t, &mut d);
                }
                out.push(d);
            }
            _ => {}
        }
    }
}

/// "`#sqli` (SQL Injection)" or just "`SQL Injection`".
fn threat_label(index: &ProjectIndex, threat: &EntityKey, written: &str) -> String {
    let name = index.display_name(threat);
    let bare = written.trim_start_matches(['#', '@']);
    if name == written || normalize_name(&name) == normalize_name(bare) {
        format!("`{written}`")
    } else {
        format!("`{written}` ({name})")
    }
}

fn add_definition_notes(index: &ProjectIndex, threat: &EntityKey, d: &mut Diagnostic) {
    for (file, def) in index.definition_sites(threat).filter(|(_, def)| def.declared).take(3) {
        d.related.push(Related {
            file: file.clone(),
            range: def.range,
            message: "the threat is defined here".into(),
        });
    }
}

fn unused(index: &ProjectIndex, analysis: &Analysis, out: &mut Vec<Diagnostic>) {
    let mut reported: BTreeSet<&EntityKey> = BTreeSet::new();
    for facts in index.files() {
        for def in &facts.defs {
            let kind = def.entity.kind;
            if !def.declared || !matches!(kind, EntityKind::Threat | EntityKind::Control) {
                continue;
            }
            if analysis.used.contains(&def.entity) || !reported.insert(&def.entity) {
                continue;
            }
            let name = def.name.clone().unwrap_or_else(|| def.entity.key.to_string());
            let mut d = diag(
                Code::UnusedDefinition,
                &facts.path,
                def.range,
                format!("{} `{name}` is defined but no annotation references it", kind.as_str()),
            );
            d.unnecessary = true;
            out.push(d);
        }
    }
}

/// `unplaced-boundary-side`: a directed `@boundary from <outer> to <inner>` states which side
/// is outside, so each side must place a component: a side written as a plain name (an
/// undefined `#id` is a `dangling-reference` already; a qualified `#repo.id` belongs to another
/// repository) that no `@asset` declares and no `@flows` names points the direction at
/// nothing (a typo, a renamed asset). Undirected boundaries claim no side and are not checked.
fn unplaced_boundary_sides(index: &ProjectIndex, analysis: &Analysis, out: &mut Vec<Diagnostic>) {
    let directed: Vec<(&Arc<FileFacts>, usize)> = index
        .files()
        .filter(|facts| facts.verbs.contains(Verb::Boundary))
        .flat_map(|facts| {
            let annotations = facts.annotations().iter().enumerate();
            annotations
                .filter(|(_, a)| matches!(a.body, Body::Boundary { directed: true, .. }))
                .map(move |(i, _)| (facts, i))
        })
        .collect();
    if directed.is_empty() {
        return;
    }
    let mut endpoints: HashSet<&EntityKey> = HashSet::default();
    for (facts, resolved) in analysis.resolved.iter().filter(|(facts, _)| facts.verbs.contains(Verb::Flows)) {
        for (i, annotation) in facts.annotations().iter().enumerate() {
            if matches!(annotation.body, Body::Flows { .. })
                && let Some(Relation::Flow { from, to, .. }) = Relation::of_file(facts, resolved, i)
            {
                endpoints.extend(from.entity().into_iter().chain(to.entity()));
            }
        }
    }
    for (facts, i) in directed {
        let Some(Relation::Boundary { a, b, .. }) = analysis.relation(facts, i) else { continue };
        for (side, which) in [(a, "outer"), (b, "inner")] {
            let Some(entity) = side.entity() else { continue };
            let placed = !matches!(side.fact.lookup(), Lookup::Name(_))
                || !index.definitions(entity).is_empty()
                || endpoints.contains(entity);
            if placed {
                continue;
            }
            let written = facts.slice(side.fact.name_range);
            let message = format!(
                "the {which} side `{written}` of this directed boundary places nothing: no `@asset` \
                 declares it and no `@flows` names it, so the direction points at no component"
            );
            out.push(diag(Code::UnplacedBoundarySide, &facts.path, side.fact.name_range, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `order` sorts by file, position, code and message, keeping the given order of equal
    /// keys, on one core and on every core alike: diagnostics in a scrambled order with many
    /// ties (told apart by their range's end), against a stable sort of the same.
    #[test]
    fn order_is_a_stable_sort_on_one_core_and_on_every_core() {
        let files: Vec<FileId> =
            ["b.py", "a.py", "a/b.py", "c.py"].into_iter().map(FileId::relative).collect();
        let codes = [Code::DuplicateDefinition, Code::DanglingReference, Code::UnmitigatedExposure];
        for n in [7, 40, PARALLEL_ORDER - 1, PARALLEL_ORDER, 3 * PARALLEL_ORDER + 5] {
            let diagnostics: Vec<Diagnostic> = (0..n)
                .map(|k| {
                    let scrambled = (k * 7919) % 13;
                    let range = crate::text::TextRange::new(scrambled % 5, 100 + k);
                    let message = format!("m{}", scrambled % 2);
                    diag(codes[scrambled % 3], &files[(k * 31) % files.len()], range, message)
                })
                .collect();
            let mut expected = diagnostics.clone();
            expected.sort_by(|a, b| {
                (&a.file, a.range.start, a.code, &a.message).cmp(&(
                    &b.file,
                    b.range.start,
                    b.code,
                    &b.message,
                ))
            });
            let mut ordered = diagnostics;
            order(&mut ordered);
            let ends = |d: &[Diagnostic]| d.iter().map(|d| (d.file.clone(), d.range)).collect::<Vec<_>>();
            assert_eq!(ends(&ordered), ends(&expected), "{n} diagnostics");
        }
    }

    #[test]
    fn permute_moves_each_item_to_its_place() {
        // Every permutation of up to six items (one cycle, several, fixed points).
        fn each_permutation(n: usize, prefix: &mut Vec<usize>, check: &mut impl FnMut(&[usize])) {
            if prefix.len() == n {
                return check(prefix);
            }
            for k in 0..n {
                if !prefix.contains(&k) {
                    prefix.push(k);
                    each_permutation(n, prefix, check);
                    prefix.pop();
                }
            }
        }
        for n in 0..=6 {
            each_permutation(n, &mut Vec::new(), &mut |from| {
                let mut items: Vec<String> = (0..n).map(|k| format!("item {k}")).collect();
                permute(&mut items, &mut from.to_vec());
                let wanted: Vec<String> = from.iter().map(|k| format!("item {k}")).collect();
                assert_eq!(items, wanted, "from {from:?}");
            });
        }
    }

    #[test]
    fn order_is_a_stable_sort_by_file_position_code_and_message() {
        let at = |file: &str, start: usize, code: Code, message: &str, tag: &str| {
            let mut d = diag(
                code,
                &FileId::relative(file),
                crate::text::TextRange::new(start, start + 1),
                message.into(),
            );
            // Not part of the key: tells equal keys apart.
            d.related.push(Related {
                file: FileId::relative(tag),
                range: Default::default(),
                message: String::new(),
            });
            d
        };
        let mut out = vec![
            at("b.py", 3, Code::DanglingReference, "m", "1"),
            at("a.py", 9, Code::DanglingReference, "m", "2"),
            at("b.py", 3, Code::DanglingReference, "m", "3"),
            at("a.py", 9, Code::DuplicateDefinition, "m", "4"),
            at("a.py", 2, Code::DanglingReference, "z", "5"),
            at("a.py", 2, Code::DanglingReference, "a", "6"),
            at("b.py", 3, Code::DanglingReference, "m", "7"),
        ];
        let tags = |out: &[Diagnostic]| -> Vec<String> {
            out.iter().map(|d| d.related[0].file.as_str().to_string()).collect()
        };
        order(&mut out);
        assert_eq!(tags(&out), ["6", "5", "2", "4", "1", "3", "7"]);
        order(&mut out);
        assert_eq!(tags(&out), ["6", "5", "2", "4", "1", "3", "7"], "sorted already: left as it is");
    }
}
