//! Go to definition and declaration, find references, document highlights; re-exports hover,
//! rename and symbols so the `lsp` shell finds every navigation feature in one place.
//!
//! Owns: what "the entity under the cursor" means (`target_at`) and which places declare an
//! entity (`declaration_sites`). Must never: know LSP types or do I/O.
//!
//! Rules:
//! - The cursor may be on any entity argument (`#id`, a name, a component path, legacy `@id`
//!   and `@b:@c`), on the `(#id)` of a definition (including `@boundary ... (#id)`, which has no
//!   argument of its own), or on the `Name` of a legacy `@alias ... to Name`.
//! - The **declaring sites** of an entity are its definition annotations (`declared`); if it has
//!   none, the inline `(#id)` sites that define its id; if it has none of those either (a name
//!   used inline, ThreatSpec's implicit definition, or a built-in `@cwe_...` threat), its first
//!   occurrence in the project in file order. Several sites on one annotation (a component and
//!   its alias) count once. A threat-library entry (`#lib.cwe-89`) no annotation declares is
//!   declared where its project library file writes its id; a built-in entry has no site in
//!   the project: its definition is its documentation URL ([`definition_url`]).
//! - **References** are the name range of every argument resolving to the entity (the id without
//!   its sigil for `#id`, the name for names), plus declaring sites that are not arguments
//!   (boundary ids). Without the declaration, arguments that carry a definition of the entity
//!   (`@threat X`, `Name (#id)`, `@alias`) are left out; an implicit entity's first occurrence is
//!   kept (it is a use, not a declaration).
//! - A dangling `#id` has no definition; its references are the other uses of the same id.

pub use super::hover::{HoverInfo, hover};
pub use super::rename::{prepare_rename, rename};
pub use super::symbols::{Symbol, SymbolKind, document_symbols, workspace_symbols};

use super::{Location, occurrences, ref_at};
use crate::analysis::Relation;
use crate::model::{EntityKey, Lookup, ProjectIndex, Resolved};
use crate::syntax::{Body, RefForm};
use crate::text::TextRange;
use rustc_hash::{FxHashMap, FxHashSet};

/// Whether a highlighted occurrence reads or defines the entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HighlightKind {
    Read,
    Write,
}

/// How the entity under the cursor is spelt there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Spelling {
    /// `#id`, `@id`, or the id of `(#id)`.
    Id,
    /// A name or component path.
    Name,
    /// An alias name: ThreatSpec `Alias (Path)` or legacy `@alias ... to Alias`.
    Alias,
    /// Legacy `@b:@c`.
    Legacy,
}

/// The entity under a cursor.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub resolved: Resolved,
    /// The text naming the entity at the cursor (an id without its sigil, a name, a path).
    pub range: TextRange,
    /// The text of `range`.
    pub text: String,
    pub spelling: Spelling,
}

/// The entity named at `offset` in `file`, if any.
pub(crate) fn target_at(index: &ProjectIndex, file: &str, offset: usize) -> Option<Target> {
    let facts = index.file(file)?;
    if let Some(r) = ref_at(index, file, offset) {
        let ann = &facts.annotations()[r.annotation];
        let refs = ann.refs();
        let (_, arg) = refs.get(r.argument)?;
        let (spelling, range) = match &arg.form {
            RefForm::Id(id) => (Spelling::Id, id.range),
            RefForm::Name { name, more } => {
                let (id, alias) = more.as_deref().map_or((None, None), |m| (m.id.as_ref(), m.alias.as_ref()));
                if let Some(id) = id.filter(|id| offset + 2 >= id.range.start()) {
                    (Spelling::Id, id.range)
                } else if let Some(alias) = alias.filter(|a| a.range.touches(offset)) {
                    (Spelling::Alias, alias.range)
                } else {
                    (Spelling::Name, name.range)
                }
            }
            RefForm::Legacy { .. } => (Spelling::Legacy, r.fact.name_range),
        };
        return Some(Target { resolved: r.resolved, range, text: facts.slice(range).to_string(), spelling });
    }
    // Definitions that are not arguments: `@boundary ... (#id)` and legacy `@alias ... to Name`.
    for (i, ann) in facts.annotations().iter().enumerate() {
        if !ann.range.touches(offset) {
            continue;
        }
        match &ann.body {
            Body::Boundary { id: Some(id), .. } if with_sigil(id.range).touches(offset) => {
                let site = facts.defs.iter().find(|d| d.annotation == i && d.range == id.range)?;
                return Some(Target {
                    resolved: Resolved::Entity(site.entity.clone()),
                    range: id.range,
                    text: id.value.clone(),
                    spelling: Spelling::Id,
                });
            }
            Body::Alias { name, .. } if name.range.touches(offset) => {
                let Relation::Alias { target, .. } = Relation::of_facts(facts, i)? else { return None };
                return Some(Target {
                    resolved: index.resolve(target),
                    range: name.range,
                    text: facts.slice(name.range).to_string(),
                    spelling: Spelling::Alias,
                });
            }
            _ => {}
        }
    }
    None
}

/// `(#id)` around an id's range (the id's range alone when there is no room).
fn with_sigil(id: TextRange) -> TextRange {
    TextRange::new(id.start().saturating_sub(2), id.end() + 1)
}

/// The declaring sites of an entity (see the module docs), in file order.
pub(crate) fn declaration_sites(index: &ProjectIndex, entity: &EntityKey) -> Vec<Location> {
    let defs = index.definitions(entity);
    let mut seen = FxHashSet::default();
    let mut pick = |declared: bool| -> Vec<Location> {
        defs.iter()
            .filter(|(_, d)| d.declared == declared)
            .filter(|(file, d)| seen.insert((file.clone(), d.annotation)))
            .map(|(file, d)| Location { file: file.clone(), range: d.range })
            .collect()
    };
    let declared = pick(true);
    if !declared.is_empty() {
        return declared;
    }
    let inline = pick(false);
    if !inline.is_empty() {
        return inline;
    }
    first_occurrence(index, entity).into_iter().collect()
}

/// Every definition site of an entity (declared or inline), as `(file, annotation, range)`.
fn definition_ranges(index: &ProjectIndex, entity: &EntityKey) -> Vec<Location> {
    index.definitions(entity).into_iter().map(|(file, d)| Location { file, range: d.range }).collect()
}

/// A readable name: the first declared name, else the name as first written in the project
/// (for entities only named inline), else the key.
pub(crate) fn display_name(index: &ProjectIndex, entity: &EntityKey) -> String {
    if let Some(name) = index.definitions(entity).into_iter().find_map(|(_, d)| d.name.clone()) {
        return name;
    }
    if let Some(entry) = index.library_entry(entity) {
        return entry.name.clone();
    }
    let target = Resolved::Entity(entity.clone());
    for facts in index.files() {
        for fact in facts.refs.iter().flatten() {
            if matches!(fact.lookup(), Lookup::Name(_)) && index.resolve(fact) == target {
                return facts.slice(fact.name_range).to_string();
            }
        }
    }
    entity.key.to_string()
}

fn first_occurrence(index: &ProjectIndex, entity: &EntityKey) -> Option<Location> {
    let target = Resolved::Entity(entity.clone());
    for facts in index.files() {
        for fact in facts.refs.iter().flatten() {
            if index.resolve(fact) == target {
                return Some(Location { file: facts.path.clone(), range: fact.name_range });
            }
        }
    }
    None
}

/// Where the entity under the cursor is declared (see the module docs). Empty when the cursor
/// is on no entity or on a dangling `#id`.
pub fn goto_definition(index: &ProjectIndex, file: &str, offset: usize) -> Vec<Location> {
    match target_at(index, file, offset).map(|t| t.resolved) {
        // A project library's entry: its place in the library file; a built-in one has none
        // in the project ([`definition_url`]).
        Some(Resolved::Entity(entity)) if library_only(index, &entity) => index
            .library_entry(&entity)
            .and_then(|e| e.source.clone())
            .map(|(file, range)| Location { file, range })
            .into_iter()
            .collect(),
        Some(Resolved::Entity(entity)) => declaration_sites(index, &entity),
        _ => Vec::new(),
    }
}

/// A library entry no annotation of the project declares.
fn library_only(index: &ProjectIndex, entity: &EntityKey) -> bool {
    index.library_entry(entity).is_some() && index.definitions(entity).is_empty()
}

/// The definition of a built-in library entry under the cursor (`#lib.cwe-89`): its
/// documentation URL, which the shells offer where [`goto_definition`] finds no place in the
/// project. `None` for anything else.
pub fn definition_url(index: &ProjectIndex, file: &str, offset: usize) -> Option<String> {
    let Resolved::Entity(entity) = target_at(index, file, offset)?.resolved else { return None };
    if !library_only(index, &entity) {
        return None;
    }
    let entry = index.library_entry(&entity)?;
    // A project library's entry shadows the built-in one and has no link.
    if index.project_library().get(&entry.id).is_some() {
        return None;
    }
    entry.url.clone()
}

/// Same as [`goto_definition`]: annotations do not separate declaration from definition.
pub fn goto_declaration(index: &ProjectIndex, file: &str, offset: usize) -> Vec<Location> {
    goto_definition(index, file, offset)
}

/// Every occurrence of `resolved` with whether it defines the entity, sorted, without repeats.
pub(crate) fn all_occurrences(index: &ProjectIndex, resolved: &Resolved) -> Vec<(Location, bool)> {
    let defs = match resolved {
        Resolved::Entity(e) => definition_ranges(index, e),
        Resolved::Dangling(_) | Resolved::External(_) => Vec::new(),
    };
    let mut covered = vec![false; defs.len()];
    // Definition starts per file, sorted, so each occurrence finds its own in O(log n).
    let mut starts: FxHashMap<&str, Vec<(usize, usize)>> = FxHashMap::default();
    for (i, d) in defs.iter().enumerate() {
        starts.entry(d.file.as_str()).or_default().push((d.range.start(), i));
    }
    for v in starts.values_mut() {
        v.sort_unstable();
    }
    let mut out = Vec::new();
    for (loc, fact) in occurrences(index, resolved) {
        let mut defines = fact.defines;
        if let Some(v) = starts.get(loc.file.as_str()) {
            let first = v.partition_point(|(s, _)| *s < fact.range.start());
            for &(_, i) in v[first..].iter().take_while(|(s, _)| *s < fact.range.end()) {
                defines = true;
                covered[i] = true;
            }
        }
        out.push((loc, defines));
    }
    for (d, covered) in defs.into_iter().zip(covered) {
        if !covered {
            out.push((d, true));
        }
    }
    out.sort();
    out.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 |= later.1;
        }
        same
    });
    out
}

/// Every occurrence of the entity under the cursor, in file order. Without
/// `include_declaration`, arguments that define the entity are left out.
pub fn references(
    index: &ProjectIndex,
    file: &str,
    offset: usize,
    include_declaration: bool,
) -> Vec<Location> {
    let Some(target) = target_at(index, file, offset) else { return Vec::new() };
    all_occurrences(index, &target.resolved)
        .into_iter()
        .filter(|(_, defines)| include_declaration || !defines)
        .map(|(loc, _)| loc)
        .collect()
}

/// Occurrences of the entity under the cursor in the same file: `Write` where the entity is
/// defined, `Read` elsewhere.
pub fn highlights(index: &ProjectIndex, file: &str, offset: usize) -> Vec<(TextRange, HighlightKind)> {
    let Some(target) = target_at(index, file, offset) else { return Vec::new() };
    all_occurrences(index, &target.resolved)
        .into_iter()
        .filter(|(loc, _)| loc.file.as_str() == file)
        .map(|(loc, defines)| (loc.range, if defines { HighlightKind::Write } else { HighlightKind::Read }))
        .collect()
}
