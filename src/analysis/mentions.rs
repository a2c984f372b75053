//! Mentions: which annotations name each entity, built once per analysis, on first use, from
//! the latest earlier analysis's when only some files' facts changed since (their entries are
//! moved, the rest kept: a keystroke's hover does not walk the project again).
//!
//! Owns: [`Mentions`], the index the per-entity IDE queries (hover's status and risks, the
//! risk lenses) read instead of walking every annotation of the project for each request.
//! It is a superset filter: every annotation with an argument that resolves to the entity
//! (defined here or external), and every `@boundary` whose id is the boundary's key, in
//! project order (files in index order, annotations in file order), each annotation once.
//! Callers apply their own conditions to each annotation, exactly as a walk over the project
//! would. Must never: decide what a mention means (that is the caller's rule), or be built
//! from an index other than the analysis's own.

use super::{Analysis, Resolutions};
use crate::model::{EntityKey, FileFacts, Jagged, ProjectIndex, Resolved};
use crate::syntax::{Body, EntityKind};
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

/// Every entity's mentions (see the module docs).
#[derive(Debug, Default)]
pub struct Mentions {
    /// The index's tables revision these were resolved under: a later analysis under the same
    /// tables resolves every unedited file as these did, so [`Mentions::new`] may start from
    /// these.
    tables_revision: u64,
    /// The index's files in index order (the analysis's): a mention names its file by
    /// position here.
    files: Resolutions,
    /// Entity -> `(file position, annotation index)`, in project order; never empty. A list is
    /// shared with the next analysis's until one of its files is edited.
    by_entity: HashMap<EntityKey, Arc<Vec<(u32, u32)>>>,
}

impl Mentions {
    /// The mentions of `index` under `analysis`. With `carried` (an earlier analysis's) made
    /// under the same resolution tables from the same files in the same order, only the
    /// files whose facts changed are read again: their entries are taken out of every list
    /// and their new ones put in at their place. Equal to building afresh (a test checks it).
    pub(super) fn new(index: &ProjectIndex, analysis: &Analysis, carried: Option<&Mentions>) -> Mentions {
        let files = analysis.resolved.clone();
        let carried = carried
            .filter(|c| c.tables_revision == index.tables_revision())
            .and_then(|c| Some((c, c.files.edited(&files)?)));
        let Some((carried, edited)) = carried else {
            let mut by_entity: HashMap<EntityKey, Vec<(u32, u32)>> = HashMap::default();
            for (file_no, (facts, _)) in files.iter().enumerate() {
                for (entity, at) in of_file(index, analysis, file_no, facts) {
                    let list = by_entity.entry(entity).or_default();
                    // Each annotation once, however often it names the entity.
                    if list.last() != Some(&at) {
                        list.push(at);
                    }
                }
            }
            let by_entity = by_entity.into_iter().map(|(e, list)| (e, Arc::new(list))).collect();
            return Mentions { tables_revision: index.tables_revision(), files, by_entity };
        };
        let mut by_entity = carried.by_entity.clone();
        for file_no in edited {
            let new = files.at(file_no).0;
            let (from, to) = ((file_no as u32, 0), (file_no as u32 + 1, 0));
            // This file's entries are a contiguous run of each list (lists are in project
            // order): take them out where there are any.
            by_entity.retain(|_, list| {
                let start = list.partition_point(|at| *at < from);
                let end = list.partition_point(|at| *at < to);
                if start < end {
                    Arc::make_mut(list).drain(start..end);
                }
                !list.is_empty()
            });
            let mut added: HashMap<EntityKey, Vec<(u32, u32)>> = HashMap::default();
            for (entity, at) in of_file(index, analysis, file_no, new) {
                let list = added.entry(entity).or_default();
                if list.last() != Some(&at) {
                    list.push(at);
                }
            }
            for (entity, run) in added {
                let list = Arc::make_mut(by_entity.entry(entity).or_default());
                let start = list.partition_point(|at| *at < from);
                list.splice(start..start, run);
            }
        }
        Mentions { tables_revision: index.tables_revision(), files, by_entity }
    }

    /// Every entity with at least one mention, in no particular order.
    pub fn entities(&self) -> impl Iterator<Item = &EntityKey> {
        self.by_entity.keys()
    }

    /// `entity`'s list: shared with the next analysis's while none of its files is edited,
    /// so the same list (`Arc::ptr_eq`) means the same annotations in unedited files.
    pub(super) fn list(&self, entity: &EntityKey) -> Option<&Arc<Vec<(u32, u32)>>> {
        self.by_entity.get(entity)
    }

    /// The annotations that mention `entity`, in project order: each as its file's position in
    /// index order, the file's facts and the annotation's index.
    pub fn of<'m>(&'m self, entity: &EntityKey) -> impl Iterator<Item = (usize, &'m Arc<FileFacts>, usize)> {
        self.by_entity
            .get(entity)
            .into_iter()
            .flat_map(|list| list.iter())
            .map(|&(file_no, i)| (file_no as usize, self.files.at(file_no as usize).0, i as usize))
    }
}

/// The entities each annotation of one file mentions, as `(entity, (file position,
/// annotation index))` in annotation order (an annotation naming an entity twice gives it
/// twice; callers keep one).
fn of_file(
    index: &ProjectIndex,
    analysis: &Analysis,
    file_no: usize,
    facts: &FileFacts,
) -> Vec<(EntityKey, (u32, u32))> {
    // A file this analysis did not resolve (or resolved from other facts) is resolved here,
    // as the queries that read it would.
    let computed: Jagged<Resolved>;
    let resolved: &Jagged<Resolved> = match analysis.resolved.get(&facts.path) {
        Some(all) if all.len() == facts.refs.len() => all,
        _ => {
            computed = facts.refs.iter().map(|refs| refs.iter().map(|f| index.resolve(f))).collect();
            &computed
        }
    };
    let mut out = Vec::new();
    for (i, results) in resolved.iter().enumerate() {
        let at = (file_no as u32, i as u32);
        out.extend(results.iter().filter_map(|r| r.entity()).map(|entity| (entity.clone(), at)));
        if let Some(Body::Boundary { id: Some(id), .. }) = facts.annotations().get(i).map(|a| &a.body) {
            out.push((EntityKey::new(EntityKind::Boundary, id.value.as_str()), at));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file_id::FileId;
    use crate::syntax::Language;

    #[test]
    fn every_annotation_naming_an_entity_once_in_project_order_and_boundaries_by_id() {
        let mut index = ProjectIndex::default();
        for (path, text) in [
            (
                "b.py",
                "# @exposes Shop.Web to #xss
# @threat XSS (#xss)
",
            ),
            (
                "a.py",
                "# @flows Shop.Web -> Shop.Web via HTTP
# @exposes Shop.Api to #xss
",
            ),
            (
                "c.py",
                "# @boundary between Shop.Web and Shop.Api (#edge)
",
            ),
        ] {
            index.set_file(Arc::new(FileFacts::new(
                FileId::relative(path),
                Language::Python,
                Arc::from(text),
            )));
        }
        let analysis = Analysis::new(&index);
        let mentions = analysis.mentions(&index);
        let listed = |entity: &EntityKey| -> Vec<(String, usize)> {
            mentions.of(entity).map(|(_, facts, i)| (facts.path.to_string(), i)).collect()
        };
        let at = |file: &str, i: usize| (file.to_string(), i);
        // The asset of b.py's exposure: a.py's flow names it twice, listed once; files in
        // index order.
        let web = analysis.resolved[&FileId::relative("b.py")][0][0].entity().unwrap().clone();
        assert_eq!(listed(&web), [at("a.py", 0), at("b.py", 0), at("c.py", 0)]);
        let xss = analysis.resolved[&FileId::relative("b.py")][0][1].entity().unwrap().clone();
        assert_eq!(listed(&xss), [at("a.py", 1), at("b.py", 0), at("b.py", 1)]);
        let edge = EntityKey { kind: EntityKind::Boundary, key: "edge".into() };
        assert_eq!(listed(&edge), [at("c.py", 0)]);
        assert!(listed(&EntityKey { kind: EntityKind::Threat, key: "nothing".into() }).is_empty());
    }

    #[test]
    fn an_edit_moves_only_its_files_mentions_and_equals_a_fresh_build() {
        let mut index = ProjectIndex::default();
        let set = |index: &mut ProjectIndex, path: &str, text: &str| {
            index.set_file(Arc::new(FileFacts::new(
                FileId::relative(path),
                Language::Python,
                Arc::from(text),
            )));
        };
        set(&mut index, "a.py", "# @threat XSS (#xss)\n# @threat SQLi (#sqli)\n");
        set(&mut index, "b.py", "# @exposes Shop.Web to #xss\n");
        set(&mut index, "c.py", "# @exposes Shop.Api to #sqli\n# @exposes Shop.Web to #xss\n");
        let first = Analysis::new(&index);
        let before = first.mentions(&index);
        let tables = index.tables_revision();
        // b.py now names the other threat first: the resolution tables stay.
        set(&mut index, "b.py", "# @exposes Shop.Web to #sqli\n# @exposes Shop.Web to #xss\n");
        assert_eq!(index.tables_revision(), tables);
        let second = Analysis::update(Some(&first), &index);
        let after = second.mentions(&index);
        let fresh = Mentions::new(&index, &second, None);
        let listing = |m: &Mentions| -> std::collections::BTreeMap<EntityKey, Vec<(String, usize)>> {
            m.entities()
                .map(|e| (e.clone(), m.of(e).map(|(_, f, i)| (f.path.to_string(), i)).collect()))
                .collect()
        };
        assert_eq!(listing(after), listing(&fresh));
        let c = FileId::relative("c.py");
        let xss = second.resolved[&c][1][1].entity().unwrap().clone();
        let sqli = second.resolved[&c][0][1].entity().unwrap().clone();
        let listed: Vec<(String, usize)> = after.of(&xss).map(|(_, f, i)| (f.path.to_string(), i)).collect();
        assert_eq!(listed, [("a.py".to_string(), 0), ("b.py".to_string(), 1), ("c.py".to_string(), 1)]);
        assert_eq!(after.of(&sqli).count(), 3);
        // Carried, not rebuilt: a list b.py never touched is the earlier analysis's.
        assert!(before.by_entity.values().any(|l| after.by_entity.values().any(|m| Arc::ptr_eq(l, m))));
    }
}
