//! Incremental reparsing of one text that is edited in place (an editor's open document).
//!
//! Owns: the tree-sitter tree kept between versions of a text, `Tree::edit` for each edit, and
//! re-reading only the comments that changed. Must never: know about editor positions or
//! protocols (edits arrive as byte offsets with row/column points), hold the text itself (the
//! caller owns it and passes each version in), or give a different answer from reading the
//! text afresh with [`super::parse_file`]'s tree-sitter path.
//!
//! Only the changed comments are re-read: the comment ranges of the previous version are
//! mapped through the edits, and the new tree is queried only over the *dirty* region — the
//! edited ranges, the full extent of every comment an edit touched, and the ranges tree-sitter
//! reports as structurally changed (`Tree::changed_ranges`: a typed `"""` that turns the rest
//! of a Python file into a string, a `/*` that swallows later comments). Comments outside it
//! are kept, shifted. Broken code is different: a text whose tree has errors is parsed afresh
//! (tree-sitter's recovery from an edited tree can differ from a fresh parse's) and a tree
//! with errors before or after the edits is re-read whole, so the comments found by
//! re-scanning its error regions are exactly those `check` finds.

use super::{Language, ParsedFile, comments};
use tree_sitter::{InputEdit, Point, Tree};

/// One replacement in a text: bytes `start..old_end` of the old text became
/// `start..new_end` of the new one. Each `*_point` is the (row, byte column) of that offset,
/// in the old text for `start` and `old_end`, in the new text for `new_end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteEdit {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
    pub start_point: (usize, usize),
    pub old_end_point: (usize, usize),
    pub new_end_point: (usize, usize),
}

/// The parse state of one text between its versions (see the module docs).
pub struct IncrementalParse {
    language: Language,
    tree: Option<Tree>,
    /// Comment ranges of the text `tree` was last parsed from (`None`: read them all).
    comments: Option<Vec<(usize, usize)>>,
    /// Edits since then, as (start, old end, new end) byte offsets, in the order applied.
    edits: Vec<(usize, usize, usize)>,
    /// That text was broken code ([`comments::is_broken`]): its comments were read whole.
    broken: bool,
}

impl IncrementalParse {
    /// The state for `language`, with `text` parsed at once when given (else on the first
    /// [`IncrementalParse::reparse`]).
    pub fn new(language: Language, text: Option<&str>) -> IncrementalParse {
        let mut parse =
            IncrementalParse { language, tree: None, comments: None, edits: Vec::new(), broken: false };
        if let Some(text) = text {
            parse.tree = parse.parse_tree(text, None);
        }
        parse
    }

    /// Forgets everything: the next [`IncrementalParse::reparse`] reads its text whole (the
    /// text was replaced, or is not to be parsed at all).
    pub fn reset(&mut self) {
        self.tree = None;
        self.comments = None;
        self.edits.clear();
    }

    /// Records one edit of the text (call it for each edit, in the order applied).
    pub fn edit(&mut self, edit: &ByteEdit) {
        self.edits.push((edit.start, edit.old_end, edit.new_end));
        if let Some(tree) = &mut self.tree {
            let point = |(row, column): (usize, usize)| Point { row, column };
            tree.edit(&InputEdit {
                start_byte: edit.start,
                old_end_byte: edit.old_end,
                new_end_byte: edit.new_end,
                start_position: point(edit.start_point),
                old_end_position: point(edit.old_end_point),
                new_end_position: point(edit.new_end_point),
            });
        }
    }

    /// Reparses `text` (the current version: the last one with every edit since applied),
    /// incrementally when a tree is kept, and reads its annotations.
    pub fn reparse(&mut self, text: &str) -> ParsedFile {
        let old = self.tree.take();
        self.tree = self.parse_tree(text, old.as_ref());
        if old.is_some() && self.tree.as_ref().is_some_and(|t| comments::is_broken(t, text)) {
            // tree-sitter's error recovery from an edited tree can differ from a fresh parse's
            // (found with Bash heredocs): broken code is parsed afresh, so that the editor reads
            // what `check` reads.
            self.tree = self.parse_tree(text, None);
        }
        let edits = std::mem::take(&mut self.edits);
        let previous = self.comments.take();
        let lines = match &self.tree {
            Some(tree) => {
                // Broken code (either version) is re-read whole: the comments of its error
                // regions are found by re-scanning them, and an edit far away can move a
                // region's bounds without changing the tree there.
                let broken = comments::is_broken(tree, text);
                let was_broken = std::mem::replace(&mut self.broken, broken);
                let nodes = match (old.as_ref(), previous) {
                    (Some(old), Some(previous)) if !broken && !was_broken => {
                        self.reread_changed(text, tree, old, previous, &edits)
                    }
                    _ => comments::comment_nodes(self.language, tree, text, None),
                };
                match nodes {
                    Some(nodes) => {
                        let lines = comments::lines_from_comments(self.language, text, nodes.clone());
                        self.comments = Some(nodes);
                        lines
                    }
                    None => comments::candidate_lines_in_tree(self.language, tree, text),
                }
            }
            None => super::candidate_lines(self.language, text),
        };
        super::parse_candidate_lines(text, &lines)
    }

    fn parse_tree(&self, text: &str, old: Option<&Tree>) -> Option<Tree> {
        // YAML/JSON are re-read whole (their `x-threatspec` strings need the full tree walk).
        if self.language.grammar().is_none() || self.language.has_embedded_annotations() {
            return None;
        }
        comments::parse_tree(self.language, text, old)
    }

    /// The comment ranges of the new text: `previous` mapped through `edits`, with the dirty
    /// region queried again from `tree` (see the module docs).
    fn reread_changed(
        &self,
        text: &str,
        tree: &Tree,
        old: &Tree,
        previous: Vec<(usize, usize)>,
        edits: &[(usize, usize, usize)],
    ) -> Option<Vec<(usize, usize)>> {
        let mut dirty: Vec<(usize, usize)> = Vec::new();
        let mut kept = previous;
        for &(start, old_end, new_end) in edits {
            let delta = new_end as isize - old_end as isize;
            let shift = |at: usize| (at as isize + delta).max(0) as usize;
            // Ranges (kept or dirty) before the edit stay, those after it shift, and those it
            // touches grow to cover it; touched kept comments become dirty.
            let map = |(s, e): (usize, usize)| -> (usize, usize) {
                if e < start {
                    (s, e)
                } else if s > old_end {
                    (shift(s), shift(e))
                } else {
                    (s.min(start), shift(e.max(old_end)).max(new_end))
                }
            };
            dirty = dirty.into_iter().map(map).collect();
            let mut next = Vec::with_capacity(kept.len());
            for range in kept {
                let touched = range.1 >= start && range.0 <= old_end;
                if touched { dirty.push(map(range)) } else { next.push(map(range)) }
            }
            kept = next;
            dirty.push((start, new_end));
        }
        dirty.extend(old.changed_ranges(tree).map(|r| (r.start_byte, r.end_byte)));
        let len = text.len();
        let mut found = Vec::new();
        for &(s, e) in &dirty {
            // One byte of slack each side: a comment that merely touches the edit is re-read.
            let range = s.saturating_sub(1).min(len)..(e + 1).min(len);
            found.extend(comments::comment_nodes(self.language, tree, text, Some(range))?);
        }
        // A kept comment that a re-read one overlaps is stale (a `/*` swallowed it).
        kept.retain(|&(s, e)| !found.iter().any(|&(fs, fe)| s < fe && fs < e));
        kept.retain(|&(s, e)| !dirty.iter().any(|&(ds, de)| s <= de && ds <= e));
        kept.extend(found);
        kept.sort_unstable();
        kept.dedup();
        Some(kept)
    }
}

/// What the incremental tests of this module and of the language server's documents share:
/// the edit scripts and the fresh read that an incremental one must equal.
#[cfg(test)]
pub(crate) mod test_support {
    use super::super::{Language, ParsedFile, comments};

    /// A deterministic pseudo-random sequence.
    pub(crate) struct Lcg(pub(crate) u64);
    impl Lcg {
        pub(crate) fn next(&mut self, bound: usize) -> usize {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % bound.max(1)
        }
    }

    /// Texts and the pieces random edits insert into them: strings, comment delimiters and
    /// annotations that move comment boundaries, and broken code (error regions whose
    /// swallowed comments are found by re-scanning).
    pub(crate) const EDIT_CASES: [(Language, &str, &[&str]); 5] = [
        (
            Language::Python,
            "x = 1  # @audit A\n# @threat T (#t)\ns = '# no'\n# @exposes A to #t\n",
            &["\"\"\"", "#", "'", "\n", "@audit B", "x", " "],
        ),
        (
            Language::Rust,
            "// @threat T (#t)\nfn f() {}\n/* @exposes A to #t */\nlet s = \"// no\";\n/// @audit A\n",
            &["/*", "*/", "//", "\"", "\n", "@audit B", "x"],
        ),
        (
            Language::C,
            "int a; // @audit A\n/* @threat T (#t)\n * @exposes A to #t */\nchar *s = \"/* no\";\n",
            &["/*", "*/", "//", "\"", "'", "\n", "\\", "@audit B"],
        ),
        (
            Language::Hcl,
            "# @threat T (#t)\nresource \"a\" \"b\" {\n  x = 1\n  # @exposes A to #t\n}\n# @audit A\n",
            &["<<<<<<< HEAD\n", "=======\n", "{", "}", "<<", "oops\n", "\n", "# @audit B"],
        ),
        (
            Language::Bash,
            "f() {\n  echo \"$1\"\n}\n# @threat T (#t)\n# @exposes A to #t\nx=1 # @audit A\n",
            &["<<<<<<< HEAD\n", "((", "{", "}", "'", "oops ;;\n", "\n", "# @audit B"],
        ),
    ];

    /// One random replacement of `text`, at char boundaries: `(start, end, insert)`.
    pub(crate) fn random_edit(
        rng: &mut Lcg,
        text: &str,
        pieces: &[&'static str],
    ) -> (usize, usize, &'static str) {
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        let start = boundaries[rng.next(boundaries.len())];
        let end = if rng.next(3) == 0 {
            let after: Vec<usize> = boundaries.iter().copied().filter(|&b| b >= start).take(4).collect();
            after[rng.next(after.len())]
        } else {
            start
        };
        (start, end, pieces[rng.next(pieces.len())])
    }

    /// `text` read afresh from a new tree: what an incremental read must equal.
    pub(crate) fn fresh(language: Language, text: &str) -> ParsedFile {
        let lines = comments::parse_tree(language, text, None)
            .map(|tree| comments::candidate_lines_in_tree(language, &tree, text))
            .unwrap();
        super::super::parse_candidate_lines(text, &lines)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{EDIT_CASES, Lcg, fresh, random_edit};
    use super::*;

    /// The (row, byte column) of `offset` in `text`.
    fn point(text: &str, offset: usize) -> (usize, usize) {
        let before = &text[..offset];
        let row = before.matches('\n').count();
        (row, offset - before.rfind('\n').map_or(0, |p| p + 1))
    }

    /// Replaces `start..end` of `text` with `insert`, returning the edit.
    fn replace(text: &mut String, start: usize, end: usize, insert: &str) -> ByteEdit {
        let (start_point, old_end_point) = (point(text, start), point(text, end));
        text.replace_range(start..end, insert);
        let new_end = start + insert.len();
        ByteEdit {
            start,
            old_end: end,
            new_end,
            start_point,
            old_end_point,
            new_end_point: point(text, new_end),
        }
    }

    #[test]
    fn rereading_only_changed_comments_equals_reading_all() {
        for (seed, (language, initial, pieces)) in EDIT_CASES.iter().enumerate() {
            let mut rng = Lcg(seed as u64 + 11);
            let mut text = initial.to_string();
            let mut parse = IncrementalParse::new(*language, Some(&text));
            parse.reparse(&text);
            for step in 0..1000 {
                let (start, end, insert) = random_edit(&mut rng, &text, pieces);
                parse.edit(&replace(&mut text, start, end, insert));
                // Several edits per reparse, as when keystrokes arrive between facts.
                if rng.next(3) != 0 {
                    continue;
                }
                assert_eq!(
                    parse.reparse(&text),
                    fresh(*language, &text),
                    "{language:?} step {step}: {text:?}"
                );
            }
        }
    }

    #[test]
    fn reset_reads_a_replaced_text_whole() {
        let mut text = "x = 1\n# @audit A\n".to_string();
        let mut parse = IncrementalParse::new(Language::Python, Some(&text));
        parse.reparse(&text);
        // An edit that is never recorded: only `reset` keeps the next reparse exact.
        text.insert_str(0, "# @audit B\n");
        parse.reset();
        assert_eq!(parse.reparse(&text), fresh(Language::Python, &text));
        assert_eq!(parse.reparse(&text).annotations.len(), 2);
    }
}
