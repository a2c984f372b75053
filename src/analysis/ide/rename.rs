//! Rename an entity across the project.
//!
//! Owns: which spelling under the cursor is renamed and the edits that rename it everywhere.
//! Must never: know LSP types or do I/O.
//!
//! What is renamed is what the cursor is on:
//! - **an id** (`#id`, `(#id)`, legacy `@id`, `@boundary ... (#id)`): the explicit id, in every
//!   reference and every definition of it. The new text must be an id (`[A-Za-z0-9_-]+`; a
//!   leading `#` or `@` typed by the user is dropped) that no definition or reference in the
//!   project uses yet. ThreatSpec implicit ids (`#nonprivileged_port`) cannot be renamed (rename
//!   the name they derive from), nor built-in `@cwe_...` ids or dangling ids.
//! - **a name** of a threat, control or actor, or an alias name of a component: every place that
//!   spells that name (compared normalised) for this entity, definitions and legacy
//!   `@alias ... to Name` included. When the entity is keyed by its name, ThreatSpec implicit-id
//!   references to it (`#sql_injection`) are rewritten to the new name's implicit id. Renaming
//!   to a name another entity of the same kind already has is refused (it would merge them).
//! - **a component path** (`Shop.Orders`, `shop:orders`, legacy `@shop:@orders`): every spelling
//!   of the component, and the same prefix of every descendant (`Shop.Orders.Search`), so the
//!   hierarchy stays intact. Each site keeps its own separator (`.` or `:`; a one-segment site
//!   takes the separator typed in the new name). Legacy `@b:@c` sites are rewritten in their own
//!   form, which needs the new path to have as many segments as the part being replaced (and
//!   legacy-id characters); otherwise the rename is refused. Renaming onto an existing component
//!   (or into its subtree) is refused. Implicit-id references (`#app_api`) follow the new path.
//!   Legacy trust-boundary ids (`@alias boundary @b`) are separate entities and are not renamed
//!   with the components inside them.
//!
//! Every file touched is re-parsed with the edits applied; if any annotation would parse
//! differently (a name containing ` to ` splitting an `@exposes`), the rename is refused. Edits
//! are sorted by file and position, without duplicates, and never overlap.

use super::navigation::{Spelling, Target, display_name, target_at};
use crate::diagnostic::Edit;
use crate::file_id::FileId;
use crate::model::names::{normalize_name, path_key, threatspec_slug};
use crate::model::{EntityKey, Lookup, ProjectIndex, Resolved};
use crate::syntax::parser::is_id;
use crate::syntax::{Body, EntityKind};
use crate::text::TextRange;
use rustc_hash::FxHashMap;

/// The range to edit under the cursor and its current text, or why it cannot be renamed.
pub fn prepare_rename(
    index: &ProjectIndex,
    file: &str,
    offset: usize,
) -> Result<(TextRange, String), String> {
    let target = target_at(index, file, offset).ok_or("no threat-model entity under the cursor")?;
    mode(index, &target)?;
    let facts = index.file(file).ok_or("file not in the project")?;
    Ok((target.range, facts.slice(target.range).to_string()))
}

/// The edits that rename the entity under the cursor to `new_name` (see the module docs).
pub fn rename(index: &ProjectIndex, file: &str, offset: usize, new_name: &str) -> Result<Vec<Edit>, String> {
    let target = target_at(index, file, offset).ok_or("no threat-model entity under the cursor")?;
    let edits = match mode(index, &target)? {
        Mode::Id { entity, old } => rename_id(index, &entity, &old, new_name)?,
        Mode::Name { entity, norm } => rename_name(index, &entity, &norm, new_name)?,
        Mode::Path { entity } => rename_path(index, &entity, new_name)?,
    };
    finish(index, edits, new_name)
}

enum Mode {
    Id { entity: EntityKey, old: String },
    Name { entity: EntityKey, norm: String },
    Path { entity: EntityKey },
}

fn mode(index: &ProjectIndex, target: &Target) -> Result<Mode, String> {
    let entity = match &target.resolved {
        Resolved::Entity(e) => e.clone(),
        Resolved::Dangling(id) => {
            return Err(format!("`#{id}` is not defined anywhere: correct or define it instead of renaming"));
        }
        Resolved::External(e) => {
            return Err(format!(
                "`{}` is defined in another repository, which is not part of this project: open its \
                 folder in the workspace to rename it",
                e.key
            ));
        }
    };
    if index.library_entry(&entity).is_some() && index.definitions(&entity).is_empty() {
        return Err(format!(
            "`{}` is a threat-library entry: it is renamed in its library, not here",
            target.text
        ));
    }
    let text = &target.text;
    match target.spelling {
        Spelling::Id => {
            // `#repo.id` renames the id it names in its repository.
            let id = index.split_tag(text).map_or(text.as_str(), |(_, id)| id);
            if !index.definitions_by_id(id).is_empty() {
                return Ok(Mode::Id { entity, old: id.to_string() });
            }
            if index.definitions(&entity).is_empty()
                && entity.kind == EntityKind::Threat
                && &*entity.key == text.as_str()
            {
                return Err(format!(
                    "`{text}` is a built-in ThreatSpec 0.1 CWE threat id and cannot be renamed"
                ));
            }
            Err(format!(
                "`#{text}` is ThreatSpec's implicit id of `{}`; rename that name instead",
                display_name(index, &entity)
            ))
        }
        Spelling::Legacy => Ok(Mode::Path { entity }),
        Spelling::Name if entity.kind == EntityKind::Asset && path_key(text) == *entity.key => {
            Ok(Mode::Path { entity })
        }
        Spelling::Name | Spelling::Alias => Ok(Mode::Name { norm: normalize_name(text), entity }),
    }
}

fn edit(file: &FileId, range: TextRange, new_text: &str) -> Edit {
    Edit { file: file.clone(), range, new_text: new_text.to_string() }
}

fn rename_id(
    index: &ProjectIndex,
    entity: &EntityKey,
    old: &str,
    new_name: &str,
) -> Result<Vec<Edit>, String> {
    let new = new_name.trim();
    let new = new.strip_prefix(['#', '@']).unwrap_or(new);
    if !is_id(new) {
        return Err(format!("`{new}` is not a valid id: use letters, digits, `_` and `-`"));
    }
    if new == old {
        return Ok(Vec::new());
    }
    if let Some((file, def)) = index.definitions_by_id(new).first() {
        return Err(format!(
            "`#{new}` is already defined at {}",
            index.place(file.as_str(), def.range.start())
        ));
    }
    if index.known_ids(entity.kind).binary_search(&new).is_ok() {
        return Err(format!("`#{new}` is already the implicit id of another {}", entity.kind.as_str()));
    }
    let target = Resolved::Entity(entity.clone());
    let mut edits = Vec::new();
    for facts in index.files() {
        for fact in facts.refs.iter().flatten() {
            let id = match fact.lookup() {
                Lookup::Id(id) | Lookup::InlineId(id) => id,
                _ => continue,
            };
            if *id == *new {
                return Err(format!(
                    "`#{new}` is already used at {}; it would then name this entity",
                    index.place(facts.path.as_str(), fact.name_range.start())
                ));
            }
            if *id == *old && matches!(fact.lookup(), Lookup::Id(_)) && index.resolve(fact) == target {
                edits.push(edit(&facts.path, fact.name_range, new));
            }
        }
        // Qualified `#repo.id` tags naming the entity: only the part after the repository.
        for fact in facts.refs.iter().flatten() {
            if let Lookup::Tag(tag) = fact.lookup()
                && index.split_tag(&tag).is_some_and(|(_, id)| id == old)
                && index.resolve(fact) == target
            {
                let range = TextRange::new(fact.name_range.end() - old.len(), fact.name_range.end());
                edits.push(edit(&facts.path, range, new));
            }
        }
        for def in &facts.defs {
            if let Some(id) = def.explicit_id.as_ref().filter(|id| id.value == old && def.entity == *entity) {
                edits.push(edit(&facts.path, id.range, new));
            }
        }
    }
    Ok(edits)
}

/// Characters a name or path may not contain (they are annotation syntax).
fn check_text(new: &str, what: &str, parens: bool) -> Result<(), String> {
    let bad = |c: char| {
        c.is_control()
            || matches!(c, '#' | '"' | '|' | '[' | ']' | '`')
            || (!parens && matches!(c, '(' | ')'))
    };
    if new.is_empty() || normalize_name(new).is_empty() {
        return Err(format!("the new {what} is empty"));
    }
    if let Some(c) = new.chars().find(|c| bad(*c)) {
        return Err(format!("a {what} cannot contain `{}`", c.escape_debug()));
    }
    if new.starts_with('@') || new.contains("--") || new.contains("->") || new.contains("(#") {
        return Err(format!("`{new}` is not a valid {what}: it reads as annotation syntax"));
    }
    Ok(())
}

fn rename_name(
    index: &ProjectIndex,
    entity: &EntityKey,
    norm: &str,
    new_name: &str,
) -> Result<Vec<Edit>, String> {
    let new = new_name.trim();
    check_text(new, "name", entity.kind != EntityKind::Asset)?;
    let new_norm = normalize_name(new);
    let target = Resolved::Entity(entity.clone());
    let name_keyed =
        entity.kind != EntityKind::Asset && *entity.key == *norm && index.definitions_by_id(norm).is_empty();
    let new_slug = threatspec_slug(new);
    let mut edits = Vec::new();
    for facts in index.files() {
        for (i, refs) in facts.refs.iter().enumerate() {
            let ann = &facts.annotations()[i];
            for fact in refs {
                let resolved = index.resolve(fact);
                let same = resolved == target;
                match fact.lookup() {
                    Lookup::Name(n)
                        if fact.kind == entity.kind && *n.norm == *new_norm && new_norm != norm && !same =>
                    {
                        return Err(format!(
                            "another {} is already named `{new}` (at {})",
                            entity.kind.as_str(),
                            index.place(facts.path.as_str(), fact.name_range.start())
                        ));
                    }
                    Lookup::Name(_) | Lookup::InlineId(_)
                        if same && normalize_name(facts.slice(fact.name_range)) == norm =>
                    {
                        edits.push(edit(&facts.path, fact.name_range, new));
                    }
                    Lookup::Id(id) if same && name_keyed && index.definitions_by_id(&id).is_empty() => {
                        if new_slug.is_empty() {
                            return Err(format!(
                                "`{new}` has no ThreatSpec implicit id for `#{id}` to become"
                            ));
                        }
                        edits.push(edit(&facts.path, fact.name_range, &new_slug));
                    }
                    _ => {}
                }
                if let Body::Alias { name, .. } = &ann.body
                    && same
                    && normalize_name(&name.value) == norm
                {
                    edits.push(edit(&facts.path, name.range, new));
                }
            }
        }
        for def in &facts.defs {
            let is_alias_annotation = matches!(facts.annotations()[def.annotation].body, Body::Alias { .. });
            if def.entity != *entity
                && def.declared
                && def.norm_name.as_deref() == Some(&new_norm)
                && new_norm != norm
            {
                return Err(format!(
                    "another {} is already named `{new}` (at {})",
                    entity.kind.as_str(),
                    index.place(facts.path.as_str(), def.range.start())
                ));
            }
            // Alias names (`Alias (Path)`) are the only name sites that are not arguments; an
            // inline `(#id)` site's range is its id, which a name rename leaves alone.
            let is_id_site = def.explicit_id.as_ref().is_some_and(|id| id.range == def.range);
            if def.entity == *entity
                && !is_alias_annotation
                && !is_id_site
                && normalize_name(facts.slice(def.range)) == norm
            {
                edits.push(edit(&facts.path, def.range, new));
            }
        }
    }
    if name_keyed && new_slug != threatspec_slug(norm) && !index.definitions_by_id(&new_slug).is_empty() {
        return Err(format!("the implicit id `#{new_slug}` of `{new}` is already defined"));
    }
    Ok(edits)
}

/// The segments of a new path (`.` or `:` separated, a legacy `@` dropped) and the separator
/// typed first.
fn new_path(new: &str) -> Result<(Vec<String>, Option<char>), String> {
    let segments: Vec<String> =
        new.split(['.', ':']).map(|s| s.trim().trim_start_matches('@').trim().to_string()).collect();
    for s in &segments {
        check_text(s, "path segment", false)?;
    }
    Ok((segments, new.chars().find(|c| matches!(c, '.' | ':'))))
}

/// Byte end of the first `n` segments of a written path (empty segments do not count).
fn prefix_end(written: &str, n: usize) -> Option<usize> {
    let mut count = 0;
    let mut start = 0;
    let ends = written.match_indices(['.', ':']).map(|(i, _)| i).chain(std::iter::once(written.len()));
    for end in ends {
        if !normalize_name(&written[start..end]).is_empty() {
            count += 1;
            if count == n {
                return Some(start + written[start..end].trim_end().len());
            }
        }
        start = end + 1;
    }
    None
}

fn rename_path(index: &ProjectIndex, entity: &EntityKey, new_name: &str) -> Result<Vec<Edit>, String> {
    let (segments, typed_sep) = new_path(new_name.trim())?;
    let new_key = path_key(&segments.join("."));
    let n = entity.key.split('.').count();
    let in_subtree =
        |key: &str| key == &*entity.key || key.strip_prefix(&*entity.key).is_some_and(|r| r.starts_with('.'));
    let mut edits = Vec::new();
    // First new spelling of each renamed component (for implicit ids).
    let mut spelled: FxHashMap<String, String> = FxHashMap::default();
    let mut implicit = Vec::new();
    for facts in index.files() {
        for fact in facts.refs.iter().flatten() {
            let Resolved::Entity(e) = index.resolve(fact) else { continue };
            if e.kind != EntityKind::Asset {
                continue;
            }
            if !in_subtree(&e.key) {
                if *e.key == *new_key
                    || e.key.strip_prefix(new_key.as_str()).is_some_and(|r| r.starts_with('.'))
                {
                    return Err(format!(
                        "the component `{}` already exists (at {}); renaming would merge them",
                        facts.slice(fact.name_range),
                        index.place(facts.path.as_str(), fact.name_range.start())
                    ));
                }
                continue;
            }
            let written = facts.slice(fact.name_range);
            match fact.lookup() {
                Lookup::Name(name) if name.path == e.key => {
                    let end = prefix_end(written, n).ok_or("internal error: path shorter than its key")?;
                    let sep = written.chars().find(|c| matches!(c, '.' | ':')).or(typed_sep).unwrap_or('.');
                    let replacement = segments.join(&sep.to_string());
                    let range = TextRange::new(fact.name_range.start(), fact.name_range.start() + end);
                    spelled
                        .entry(e.key.to_string())
                        .or_insert_with(|| format!("{replacement}{}", &written[end..]));
                    edits.push(edit(&facts.path, range, &replacement));
                }
                Lookup::Legacy(_) => {
                    let here = index.place(facts.path.as_str(), fact.name_range.start());
                    if segments.len() != n || !segments.iter().all(|s| is_id(s)) {
                        return Err(format!(
                            "`@{written}` at {here} is a ThreatSpec 0.1 `@boundary:@component` pair: the new path \
                             must have {n} segment(s) of letters, digits, `_` and `-`"
                        ));
                    }
                    let (replacement, len) = if n == 1 {
                        (segments[0].clone(), written.find(":@").unwrap_or(written.len()))
                    } else {
                        (segments.join(":@"), written.len())
                    };
                    let range = TextRange::new(fact.name_range.start(), fact.name_range.start() + len);
                    edits.push(edit(&facts.path, range, &replacement));
                }
                Lookup::Id(id) if index.definitions_by_id(&id).is_empty() => {
                    implicit.push((facts.path.clone(), fact.name_range, e.key));
                }
                _ => {}
            }
        }
    }
    for (file, range, key) in implicit {
        if let Some(spelling) = spelled.get(&*key) {
            edits.push(edit(&file, range, &threatspec_slug(spelling)));
        }
    }
    Ok(edits)
}

/// Sorts and deduplicates edits, drops no-ops, refuses overlaps, and re-parses every touched
/// file to make sure each annotation keeps its shape and each argument reads as intended.
fn finish(index: &ProjectIndex, mut edits: Vec<Edit>, new_name: &str) -> Result<Vec<Edit>, String> {
    edits.retain(|e| index.file(e.file.as_str()).is_some_and(|f| f.slice(e.range) != e.new_text));
    edits.sort_by(|a, b| (&a.file, a.range.start, a.range.end).cmp(&(&b.file, b.range.start, b.range.end)));
    edits.dedup();
    for pair in edits.windows(2) {
        if pair[0].file == pair[1].file && pair[0].range.end > pair[1].range.start {
            return Err(format!("internal error: overlapping edits in {}", pair[0].file));
        }
    }
    let mut start = 0;
    while start < edits.len() {
        let end = start + edits[start..].iter().take_while(|e| e.file == edits[start].file).count();
        verify_file(index, &edits[start..end], new_name)?;
        start = end;
    }
    Ok(edits)
}

/// `text` with the edits that lie inside `range` applied, restricted to `range`.
fn apply_within(text: &str, edits: &[Edit], range: TextRange) -> String {
    let mut out = String::new();
    let mut at = range.start();
    let first = edits.partition_point(|e| e.range.start() < range.start());
    for e in edits[first..].iter().take_while(|e| e.range.end() <= range.end()) {
        out.push_str(&text[at..e.range.start()]);
        out.push_str(&e.new_text);
        at = e.range.end();
    }
    out.push_str(&text[at..range.end()]);
    out
}

fn verify_file(index: &ProjectIndex, edits: &[Edit], new_name: &str) -> Result<(), String> {
    let facts = index.file(edits[0].file.as_str()).ok_or("internal error: edit outside the project")?;
    let new_text = apply_within(facts.text(), edits, TextRange::new(0, facts.text.len()));
    let parsed = crate::syntax::parse_file(facts.language, &new_text);
    let old = facts.annotations();
    let refused = |offset: usize| {
        Err(format!(
            "renaming to `{}` would change how the annotation at {} reads",
            new_name.trim(),
            index.place(facts.path.as_str(), offset)
        ))
    };
    if parsed.annotations.len() != old.len() {
        // A rename never adds or removes a line: the first annotation whose verb or line no
        // longer matches is the one the new name stops from parsing.
        let line_of =
            |text: &str, offset: usize| text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count();
        let lost = old.iter().enumerate().find(|(i, a)| {
            parsed.annotations.get(*i).is_none_or(|n| {
                n.verb != a.verb
                    || line_of(&new_text, n.range.start()) != line_of(facts.text(), a.range.start())
            })
        });
        return refused(lost.map_or(edits[0].range.start(), |(_, a)| a.range.start()));
    }
    for (before, after) in old.iter().zip(&parsed.annotations) {
        let (b, a) = (before.refs(), after.refs());
        let same = before.verb == after.verb
            && b.len() == a.len()
            && b.iter().zip(&a).all(|((bk, br), (ak, ar))| {
                bk == ak && apply_within(facts.text(), edits, br.range) == ar.range.slice(&new_text)
            });
        if !same {
            return refused(before.range.start());
        }
    }
    if parsed.errors.len() > facts.parsed.errors.len() {
        return refused(edits[0].range.start());
    }
    Ok(())
}
