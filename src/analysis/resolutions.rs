//! Each indexed file's facts and resolved references for one analysis, in index order.
//!
//! Owns: [`Resolutions`] (what [`Analysis::resolved`](super::Analysis::resolved) is) and
//! what lets the next analysis share it: a file is found by path through a position table
//! shared by every analysis of the same files in the same order, and the files are held in
//! chunks of `CHUNK` (64), so an analysis that re-resolves a few files copies one chunk per
//! edited file and shares the others. Copying, comparing (`Resolutions::edited`) or
//! dropping one costs O(files / `CHUNK`) plus the edited files: a keystroke does not walk
//! the project's files here. Must never: resolve a reference (that is
//! `model::ProjectIndex::resolve`) or decide what an analysis may reuse (that is
//! [`Analysis::update`](super::Analysis::update)'s rule).

use crate::file_id::FileId;
use crate::model::{FileFacts, Resolved};
use rustc_hash::FxHashMap;
use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::Arc;

/// One file's resolved references, `[annotation][argument]`, parallel to `FileFacts::refs`.
pub type Resolution = Arc<crate::model::Jagged<Resolved>>;

/// Files per chunk: an edit copies this many entries (two `Arc`s each).
const CHUNK: usize = 64;

/// One chunk of files in index order, each with its resolution.
type Chunk = Arc<Vec<(Arc<FileFacts>, Resolution)>>;

/// The position table of some files ([`Resolutions::positions_of`]).
pub(super) struct Positions(Arc<FxHashMap<FileId, u32>>);

/// Every file of one analysis with its resolution, in index order (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct Resolutions {
    /// Path -> position: shared by the analyses of the same files in the same order.
    positions: Arc<FxHashMap<FileId, u32>>,
    chunks: Vec<Chunk>,
    len: usize,
}

impl Resolutions {
    /// [`Resolutions::with_positions`] of `files` and their [`Resolutions::positions_of`].
    #[cfg(test)]
    pub(super) fn new(files: Vec<(Arc<FileFacts>, Resolution)>, like: Option<&Resolutions>) -> Resolutions {
        let positions = Self::positions_of(files.iter().map(|(f, _)| f), files.len(), like);
        Self::with_positions(files, positions)
    }

    /// The position table of `files` (`len` of them, in index order): `like`'s when `like`
    /// holds the same paths in the same order (so the two compare by
    /// [`Resolutions::edited`]). Made of the files alone, so while they are resolved
    /// ([`Analysis::update_with_scope`](super::Analysis::update_with_scope)).
    pub(super) fn positions_of<'f>(
        files: impl Iterator<Item = &'f Arc<FileFacts>> + Clone,
        len: usize,
        like: Option<&Resolutions>,
    ) -> Positions {
        let same_paths = like.filter(|like| {
            like.len == len
                && like.iter().zip(files.clone()).all(|((a, _), b)| Arc::ptr_eq(a, b) || a.path == b.path)
        });
        match same_paths {
            Some(like) => Positions(like.positions.clone()),
            None => Positions(Arc::new(files.enumerate().map(|(k, f)| (f.path.clone(), k as u32)).collect())),
        }
    }

    /// `files` (in index order) with their resolutions, found by `positions`
    /// ([`Resolutions::positions_of`] of the same files).
    pub(super) fn with_positions(
        files: Vec<(Arc<FileFacts>, Resolution)>,
        positions: Positions,
    ) -> Resolutions {
        debug_assert_eq!(positions.0.len(), files.len());
        let positions = positions.0;
        let len = files.len();
        let mut chunks = Vec::with_capacity(len.div_ceil(CHUNK));
        let mut files = files.into_iter().peekable();
        while files.peek().is_some() {
            chunks.push(Arc::new(files.by_ref().take(CHUNK).collect()));
        }
        Resolutions { positions, chunks, len }
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A file's position in index order.
    pub fn position<Q>(&self, path: &Q) -> Option<usize>
    where
        FileId: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.positions.get(path).map(|&k| k as usize)
    }

    /// A file's resolution.
    pub fn get<Q>(&self, path: &Q) -> Option<&Resolution>
    where
        FileId: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.position(path).map(|k| self.at(k).1)
    }

    /// The facts a file was resolved from.
    pub fn facts<Q>(&self, path: &Q) -> Option<&Arc<FileFacts>>
    where
        FileId: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.position(path).map(|k| self.at(k).0)
    }

    /// The file at position `k` (below [`Resolutions::len`]) and its resolution.
    pub fn at(&self, k: usize) -> (&Arc<FileFacts>, &Resolution) {
        let (facts, resolution) = &self.chunks[k / CHUNK][k % CHUNK];
        (facts, resolution)
    }

    /// Every file and its resolution, in index order.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<FileFacts>, &Resolution)> {
        self.chunks.iter().flat_map(|chunk| chunk.iter().map(|(f, r)| (f, r)))
    }

    /// The positions (ascending) whose facts are not the same `Arc` in `files` (the index's
    /// files in order), when `files` are the same paths in the same order; `None` otherwise.
    pub(super) fn edited_in(&self, files: &[&Arc<FileFacts>]) -> Option<Vec<usize>> {
        if files.len() != self.len {
            return None;
        }
        let mut edited = Vec::new();
        for (k, ((old, _), new)) in self.iter().zip(files).enumerate() {
            if Arc::ptr_eq(old, new) {
                continue;
            }
            if old.path != new.path {
                return None;
            }
            edited.push(k);
        }
        Some(edited)
    }

    /// The positions (ascending) whose facts differ (not the same `Arc`) between `self` and
    /// `other`, when both hold the same files in the same order (one position table); `None`
    /// otherwise. Chunks both share are skipped whole.
    pub(super) fn edited(&self, other: &Resolutions) -> Option<Vec<usize>> {
        if !Arc::ptr_eq(&self.positions, &other.positions) || self.len != other.len {
            return None;
        }
        let mut edited = Vec::new();
        for (c, (a, b)) in self.chunks.iter().zip(&other.chunks).enumerate() {
            if Arc::ptr_eq(a, b) {
                continue;
            }
            for (i, ((old, _), (new, _))) in a.iter().zip(b.iter()).enumerate() {
                if !Arc::ptr_eq(old, new) {
                    edited.push(c * CHUNK + i);
                }
            }
        }
        Some(edited)
    }

    /// These files with the ones at the given positions (each below [`Resolutions::len`])
    /// replaced: the same position table, the chunks no replacement touches shared.
    pub(super) fn with_replaced(
        &self,
        replaced: impl IntoIterator<Item = (usize, Arc<FileFacts>, Resolution)>,
    ) -> Resolutions {
        let mut out = self.clone();
        for (k, facts, resolution) in replaced {
            Arc::make_mut(&mut out.chunks[k / CHUNK])[k % CHUNK] = (facts, resolution);
        }
        out
    }
}

impl<Q> std::ops::Index<&Q> for Resolutions
where
    FileId: Borrow<Q>,
    Q: Hash + Eq + ?Sized,
{
    type Output = Resolution;

    /// A file's resolution; panics when the file was not analysed.
    fn index(&self, path: &Q) -> &Resolution {
        self.get(path).expect("a file the analysis resolved")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Language;

    fn file(path: &str, text: &str) -> (Arc<FileFacts>, Resolution) {
        let facts = Arc::new(FileFacts::new(FileId::relative(path), Language::Python, Arc::from(text)));
        let resolution = Arc::new(facts.annotations().iter().map(|_| []).collect());
        (facts, resolution)
    }

    fn files(n: usize) -> Vec<(Arc<FileFacts>, Resolution)> {
        (0..n).map(|k| file(&format!("f{k:04}.py"), "# @threat T (#t)\n")).collect()
    }

    #[test]
    fn finds_every_file_by_path_and_position_across_chunks() {
        let all = files(3 * CHUNK + 5);
        let r = Resolutions::new(all.clone(), None);
        assert_eq!(r.len(), all.len());
        for (k, (facts, resolution)) in all.iter().enumerate() {
            assert_eq!(r.position(&facts.path), Some(k));
            assert!(Arc::ptr_eq(r.at(k).0, facts));
            assert!(Arc::ptr_eq(r.get(facts.path.as_str()).unwrap(), resolution));
            assert!(Arc::ptr_eq(r.facts(&facts.path).unwrap(), facts));
        }
        assert!(r.get("nothing.py").is_none());
        let listed: Vec<&FileId> = r.iter().map(|(f, _)| &f.path).collect();
        assert_eq!(listed, all.iter().map(|(f, _)| &f.path).collect::<Vec<_>>());
    }

    #[test]
    fn a_replacement_shares_the_other_chunks_and_is_found_as_edited() {
        let all = files(3 * CHUNK + 5);
        let before = Resolutions::new(all.clone(), None);
        let (k1, k2) = (CHUNK + 3, 3 * CHUNK + 1);
        let new1 = file(&all[k1].0.path.to_string(), "# @threat U (#u)\n");
        let new2 = file(&all[k2].0.path.to_string(), "# @threat V (#v)\n");
        let after =
            before.with_replaced([(k2, new2.0.clone(), new2.1.clone()), (k1, new1.0.clone(), new1.1)]);
        assert!(Arc::ptr_eq(after.at(k1).0, &new1.0) && Arc::ptr_eq(after.at(k2).0, &new2.0));
        // The earlier table is left as it was.
        assert!(Arc::ptr_eq(before.at(k1).0, &all[k1].0));
        assert_eq!(before.edited(&after), Some(vec![k1, k2]));
        assert_eq!(after.edited(&after.clone()), Some(vec![]));
        assert!(Arc::ptr_eq(&before.chunks[0], &after.chunks[0]));
        assert!(!Arc::ptr_eq(&before.chunks[1], &after.chunks[1]));
        // Against the index's list: the same positions.
        let mut listed: Vec<&Arc<FileFacts>> = all.iter().map(|(f, _)| f).collect();
        listed[k1] = &new1.0;
        listed[k2] = &new2.0;
        assert_eq!(before.edited_in(&listed), Some(vec![k1, k2]));
        // Another list (a file missing, or another path at a position) is not comparable.
        assert_eq!(before.edited_in(&listed[1..]), None);
        let other = file("other.py", "");
        listed[0] = &other.0;
        assert_eq!(before.edited_in(&listed), None);
    }

    #[test]
    fn the_same_paths_share_the_position_table_and_others_do_not() {
        let all = files(CHUNK + 1);
        let first = Resolutions::new(all.clone(), None);
        let mut again = all.clone();
        again[2] = file(&all[2].0.path.to_string(), "");
        let same = Resolutions::new(again, Some(&first));
        assert_eq!(first.edited(&same), Some(vec![2]));
        let fewer = Resolutions::new(all[1..].to_vec(), Some(&first));
        assert_eq!(first.edited(&fewer), None);
        // Built without `like`: not comparable, though the files are the same.
        assert_eq!(first.edited(&Resolutions::new(all, None)), None);
    }
}
