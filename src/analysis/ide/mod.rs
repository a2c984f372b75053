//! IDE features in editor-neutral terms: what is under the cursor, where it is defined and
//! used, what to complete, what to show on hover, how to rename, which symbols and fixes exist.
//!
//! Owns: pure functions of a [`ProjectIndex`] (plus the project's [`super::Analysis`] where a
//! feature needs resolved facts), a file path and byte offsets. Must never: know LSP types,
//! positions in UTF-16, URIs, or do I/O; the `lsp` module converts.

pub mod code_actions;
pub mod code_lens;
pub mod completion;
pub mod hover;
pub mod inlay_hints;
pub mod navigation;
pub mod rename;
pub mod risk;
pub mod semantic_tokens;
pub mod symbols;

use crate::file_id::FileId;
use crate::model::{ProjectIndex, RefFact, Resolved};
use crate::text::TextRange;

/// A range in a file of the project.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub file: FileId,
    pub range: TextRange,
}

/// The entity argument under a cursor.
#[derive(Clone, Debug)]
pub struct RefAt {
    /// Index of the annotation in the file.
    pub annotation: usize,
    /// Index of the argument in [`crate::model::FileFacts::refs`]`[annotation]`.
    pub argument: usize,
    pub fact: RefFact,
    pub resolved: Resolved,
}

/// The entity argument whose range touches `offset` (a cursor right after a word counts).
pub fn ref_at(index: &ProjectIndex, file: &str, offset: usize) -> Option<RefAt> {
    let facts = index.file(file)?;
    for (annotation, refs) in facts.refs.iter().enumerate() {
        let range = facts.annotations()[annotation].range;
        if !range.touches(offset) {
            continue;
        }
        for (argument, fact) in refs.iter().enumerate() {
            if fact.range.touches(offset) {
                return Some(RefAt {
                    annotation,
                    argument,
                    fact: fact.clone(),
                    resolved: index.resolve(fact),
                });
            }
        }
    }
    None
}

/// Every argument in the project that resolves to the same entity as `target`, in file order.
pub fn occurrences(index: &ProjectIndex, target: &Resolved) -> Vec<(Location, RefFact)> {
    let mut out = Vec::new();
    for facts in index.files() {
        for refs in &facts.refs {
            for fact in refs {
                if &index.resolve(fact) == target {
                    out.push((Location { file: facts.path.clone(), range: fact.name_range }, fact.clone()));
                }
            }
        }
    }
    out
}
