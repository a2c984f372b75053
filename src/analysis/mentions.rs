//! Mentions: which annotations name each entity, built once per analysis, on first use.
//!
//! Owns: [`Mentions`], the index the per-entity IDE queries (hover's status and risks, the
//! risk lenses) read instead of walking every annotation of the project for each request.
//! It is a superset filter: every annotation with an argument that resolves to the entity
//! (defined here or external), and every `@boundary` whose id is the boundary's key, in
//! project order (files in index order, annotations in file order), each annotation once.
//! Callers apply their own conditions to each annotation, exactly as a walk over the project
//! would. Must never: decide what a mention means (that is the caller's rule), or be built
//! from an index other than the analysis's own.

use super::Analysis;
use crate::model::{EntityKey, FileFacts, ProjectIndex, Resolved};
use crate::syntax::{Body, EntityKind};
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

/// Every entity's mentions (see the module docs).
#[derive(Debug, Default)]
pub struct Mentions {
    /// The index's files in index order: a mention names its file by position here.
    files: Vec<Arc<FileFacts>>,
    /// Entity -> `(file position, annotation index)`, in project order.
    by_entity: HashMap<EntityKey, Vec<(u32, u32)>>,
}

impl Mentions {
    pub(super) fn new(index: &ProjectIndex, analysis: &Analysis) -> Mentions {
        let files: Vec<Arc<FileFacts>> = index.files().cloned().collect();
        let mut by_entity: HashMap<EntityKey, Vec<(u32, u32)>> = HashMap::default();
        for (file_no, facts) in files.iter().enumerate() {
            // A file this analysis did not resolve (or resolved from other facts) is resolved
            // here, as the queries that read it would.
            let computed: Vec<Vec<Resolved>>;
            let resolved: &[Vec<Resolved>] = match analysis.resolved.get(&facts.path) {
                Some(all) if all.len() == facts.refs.len() => all,
                _ => {
                    computed = facts
                        .refs
                        .iter()
                        .map(|refs| refs.iter().map(|f| index.resolve(f)).collect())
                        .collect();
                    &computed
                }
            };
            for (i, results) in resolved.iter().enumerate() {
                let at = (file_no as u32, i as u32);
                let mut push = |entity: &EntityKey| {
                    let list = by_entity.entry(entity.clone()).or_default();
                    // Each annotation once, however often it names the entity.
                    if list.last() != Some(&at) {
                        list.push(at);
                    }
                };
                for entity in results.iter().filter_map(|r| r.entity()) {
                    push(entity);
                }
                if let Some(Body::Boundary { id: Some(id), .. }) = facts.annotations().get(i).map(|a| &a.body)
                {
                    push(&EntityKey { kind: EntityKind::Boundary, key: id.value.clone() });
                }
            }
        }
        Mentions { files, by_entity }
    }

    /// The annotations that mention `entity`, in project order: each as its file's position in
    /// index order, the file's facts and the annotation's index.
    pub fn of<'m>(&'m self, entity: &EntityKey) -> impl Iterator<Item = (usize, &'m Arc<FileFacts>, usize)> {
        self.by_entity
            .get(entity)
            .into_iter()
            .flatten()
            .map(|&(file_no, i)| (file_no as usize, &self.files[file_no as usize], i as usize))
    }
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
}
