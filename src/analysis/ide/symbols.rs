//! Document and workspace symbols.
//!
//! Owns: the outline of one file and the project-wide symbol search. Must never: know LSP types
//! or do I/O.
//!
//! - [`document_symbols`]: one symbol per definition annotation (`@asset`/`@component`,
//!   `@threat`, `@control`, `@actor`, legacy `@alias`, `@boundary`) and one per relation
//!   (`@mitigates`, `@exposes`, `@flows`, `@validates`, ...; not `@comment`, `@shield`,
//!   `@source`). `range` is the annotation, `selection_range` the defined name (the id of a
//!   `@boundary`, the verb of a relation). Asset definitions nest under the nearest ancestor
//!   component defined in the same file (`Shop.Api.Orders` under `Shop.Api` or `Shop`), so the
//!   outline shows the component tree; everything else is top level, in file order. A relation
//!   is named by its text up to its last argument (`@mitigates Shop.Orders against #sqli`,
//!   whitespace collapsed, at most [`MAX_NAME`] characters); its detail is the dialect.
//! - [`workspace_symbols`]: every declared definition site in the project (aliases included),
//!   matched against the query case-insensitively (space, `-` and `_` alike) on the name and on
//!   the id: exact, then prefix, then substring, then subsequence matches; shorter names first
//!   within a tier; at most [`MAX_WORKSPACE_SYMBOLS`].

use crate::analysis::Relation;
use crate::file_id::FileId;
use crate::model::names::ancestors;
use crate::model::{FileFacts, ProjectIndex};
use crate::syntax::{Annotation, Body, EntityKind, RefForm};
use crate::text::TextRange;
use rustc_hash::FxHashMap;

/// Most symbols [`workspace_symbols`] returns.
pub const MAX_WORKSPACE_SYMBOLS: usize = 200;
/// Longest relation name, in characters.
pub const MAX_NAME: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymbolKind {
    Asset,
    Threat,
    Control,
    Actor,
    Boundary,
    Relation,
}

impl SymbolKind {
    fn of(kind: EntityKind) -> SymbolKind {
        match kind {
            EntityKind::Asset => SymbolKind::Asset,
            EntityKind::Threat => SymbolKind::Threat,
            EntityKind::Control => SymbolKind::Control,
            EntityKind::Actor => SymbolKind::Actor,
            EntityKind::Boundary => SymbolKind::Boundary,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole annotation.
    pub range: TextRange,
    /// The name (or id, or verb) inside `range`.
    pub selection_range: TextRange,
    pub children: Vec<Symbol>,
}

/// The outline of one file (see the module docs). Empty for a file not in the project.
pub fn document_symbols(index: &ProjectIndex, file: &str) -> Vec<Symbol> {
    let Some(facts) = index.file(file) else { return Vec::new() };
    let mut flat: Vec<(Symbol, Option<String>)> = Vec::new();
    for (i, ann) in facts.annotations().iter().enumerate() {
        if let Some(s) = annotation_symbol(facts, i, ann) {
            flat.push(s);
        }
    }
    // Nest assets under the nearest ancestor defined in this file.
    let mut first_of: FxHashMap<&str, usize> = FxHashMap::default();
    for (i, (_, key)) in flat.iter().enumerate() {
        if let Some(key) = key {
            first_of.entry(key.as_str()).or_insert(i);
        }
    }
    let parent: Vec<Option<usize>> = flat
        .iter()
        .map(|(_, key)| key.as_deref().and_then(|k| ancestors(k).find_map(|a| first_of.get(a).copied())))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); flat.len()];
    let mut roots = Vec::new();
    for (i, p) in parent.iter().enumerate() {
        match p {
            Some(p) => children[*p].push(i),
            None => roots.push(i),
        }
    }
    let mut slots: Vec<Option<Symbol>> = flat.into_iter().map(|(s, _)| Some(s)).collect();
    fn build(i: usize, slots: &mut [Option<Symbol>], children: &[Vec<usize>]) -> Symbol {
        let mut s = slots[i].take().expect("each symbol is placed once");
        s.children = children[i].iter().map(|&c| build(c, slots, children)).collect();
        s
    }
    roots.into_iter().map(|r| build(r, &mut slots, &children)).collect()
}

/// The symbol of one annotation and, for asset definitions, the asset's path key.
fn annotation_symbol(facts: &FileFacts, i: usize, ann: &Annotation) -> Option<(Symbol, Option<String>)> {
    let refs = &facts.refs[i];
    let symbol = |name: String, detail: Option<String>, kind: SymbolKind, selection: TextRange| Symbol {
        name,
        detail,
        kind,
        range: ann.range,
        selection_range: selection,
        children: Vec::new(),
    };
    match &ann.body {
        Body::Define { kind, target } => {
            let Relation::Definition { entity: fact, .. } = Relation::of_facts(facts, i)? else {
                return None;
            };
            let name = match &target.form {
                RefForm::Name { name, .. } => name.value.to_string(),
                _ => facts.slice(target.range).to_string(),
            };
            let mut detail = Vec::new();
            if let Some(id) = target.explicit_id() {
                detail.push(format!("#{}", id.value));
            }
            if let Some(sev) = &ann.severity {
                detail.push(format!("[{}]", sev.value.as_str()));
            }
            let detail = (!detail.is_empty()).then(|| detail.join(" "));
            let key = match (fact.lookup(), kind) {
                (crate::model::Lookup::Name(n), EntityKind::Asset) => Some(n.path.to_string()),
                (crate::model::Lookup::Legacy(path), EntityKind::Asset) => Some(path.to_string()),
                _ => None,
            };
            Some((symbol(name, detail, SymbolKind::of(*kind), fact.name_range), key))
        }
        Body::Alias { kind, target, name } => {
            let key = match (Relation::of_facts(facts, i), kind) {
                (Some(Relation::Alias { target: fact, .. }), EntityKind::Asset) => match fact.lookup() {
                    crate::model::Lookup::Legacy(path) => Some(path.to_string()),
                    _ => None,
                },
                _ => None,
            };
            let detail = Some(facts.slice(target.range).to_string());
            Some((symbol(name.value.clone(), detail, SymbolKind::of(*kind), name.range), key))
        }
        Body::Boundary { a, b, id, directed } => {
            let (a, b) = (collapse(facts.slice(a.range)), collapse(facts.slice(b.range)));
            let name = crate::analysis::boundary_sides(a, b, *directed);
            let detail = id.as_ref().map(|id| format!("#{}", id.value));
            let selection = id.as_ref().map_or(ann.verb_range(), |id| id.range);
            Some((symbol(name, detail, SymbolKind::Boundary, selection), None))
        }
        // One symbol per hop of a multi-hop `@flows A -> B -> C`, named by its own two ends.
        Body::Flows { from, to, .. } => {
            let between = TextRange::new(from.range.end(), to.range.start().max(from.range.end()));
            let name = collapse(&format!(
                "{} {} {} {}",
                facts.slice(ann.verb_range()),
                facts.slice(from.range),
                facts.slice(between),
                facts.slice(to.range)
            ));
            let detail = Some(ann.dialect.as_str().to_string());
            Some((symbol(clipped(name), detail, SymbolKind::Relation, ann.verb_range()), None))
        }
        Body::Comment { .. } | Body::Shield(_) => None,
        _ if ann.verb == crate::syntax::Verb::Source => None,
        _ => {
            let end = refs.iter().map(|f| f.range.end()).max().unwrap_or_else(|| {
                let line = facts.line_col(ann.range.start(), crate::text::ColumnUnit::Utf8).line as usize;
                facts.line_index().line_range(line, facts.text()).end().min(ann.range.end())
            });
            let name = collapse(&facts.text()[ann.verb_range().start()..end.max(ann.verb_range().end())]);
            let detail = Some(ann.dialect.as_str().to_string());
            Some((symbol(clipped(name), detail, SymbolKind::Relation, ann.verb_range()), None))
        }
    }
}

/// A relation's name cut to [`MAX_NAME`] characters.
fn clipped(name: String) -> String {
    if name.chars().count() > MAX_NAME {
        name.chars().take(MAX_NAME - 1).collect::<String>() + "…"
    } else {
        name
    }
}

/// Whitespace runs (line breaks too) as one space.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Folds text for matching: lowercase, whitespace and `-` as `_`.
fn fold(text: &str) -> Vec<char> {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_whitespace() || c == '-' { '_' } else { c })
        .collect()
}

/// Match tier of `candidate` for `query` (lower is better): exact, prefix, substring,
/// subsequence; `None` when it does not match.
fn tier(query: &[char], candidate: &[char]) -> Option<u8> {
    if query == candidate {
        return Some(0);
    }
    if candidate.starts_with(query) {
        return Some(1);
    }
    if query.is_empty() || candidate.windows(query.len()).any(|w| w == query) {
        return Some(2);
    }
    let mut rest = candidate.iter();
    query.iter().all(|q| rest.any(|c| c == q)).then_some(3)
}

/// Declared definitions matching `query` (see the module docs), best first.
pub fn workspace_symbols(index: &ProjectIndex, query: &str) -> Vec<(FileId, Symbol)> {
    let query = fold(query.trim().trim_start_matches(['#', '@']));
    let mut hits: Vec<((u8, usize), FileId, Symbol)> = Vec::new();
    for facts in index.files() {
        for def in facts.defs.iter().filter(|d| d.declared) {
            let id = def.explicit_id.as_ref().map(|id| id.value.as_str());
            let name = match (&def.name, id) {
                (Some(name), _) => name.clone(),
                (None, Some(id)) => format!("#{id}"),
                (None, None) => facts.slice(def.range).to_string(),
            };
            let folded = fold(&name);
            let by_name = tier(&query, &folded).map(|t| (t, folded.len()));
            let by_id = id.and_then(|id| {
                let f = fold(id);
                tier(&query, &f).map(|t| (t, f.len()))
            });
            let Some(score) = by_name.into_iter().chain(by_id).min() else { continue };
            let Some(ann) = facts.annotations().get(def.annotation) else { continue };
            let symbol = Symbol {
                name,
                detail: id.map(|id| format!("#{id}")),
                kind: SymbolKind::of(def.entity.kind),
                range: ann.range,
                selection_range: def.range,
                children: Vec::new(),
            };
            hits.push((score, facts.path.clone(), symbol));
        }
    }
    hits.sort_by(|a, b| {
        (a.0, &a.2.name, &a.1, a.2.range.start).cmp(&(b.0, &b.2.name, &b.1, b.2.range.start))
    });
    hits.truncate(MAX_WORKSPACE_SYMBOLS);
    hits.into_iter().map(|(_, file, symbol)| (file, symbol)).collect()
}
