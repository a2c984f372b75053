//! Open documents: text in a rope, the client's version, and the tree-sitter tree that each
//! edit updates incrementally (`Tree::edit` + reparse).
//!
//! Owns: applying `didChange` content changes exactly (UTF-8 or UTF-16 positions) and turning
//! a document into [`FileFacts`]. Must never: await, or touch the project index (the server
//! decides when facts replace the index's).
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
//!
//! A document larger than the size limit (the `maxFileSize` setting, 2 MiB by default) keeps
//! its text, so later edits still apply exactly, but is not parsed: its facts are one
//! `resource-limit` diagnostic, and it is parsed again once edits bring it under the limit.
//!
//! A document whose text came in a protocol message over the message limit was never read
//! (see `lsp::input`): it is held as *unread*, with no text and a `resource-limit` diagnostic,
//! until a change sends its whole text again (range edits cannot apply to text never seen).

use crate::diagnostic::{Code, FilePath};
use crate::model::FileFacts;
use crate::syntax::{self, Language, ParsedFile, SyntaxError, comments};
use crate::text::ColumnUnit;
use crate::text::TextRange;
use ropey::Rope;
use std::sync::Arc;
use tower_lsp_server::ls_types::{Position, TextDocumentContentChangeEvent};
use tree_sitter::{InputEdit, Point, Tree};

pub struct Document {
    pub rope: Rope,
    pub version: i32,
    pub language: Language,
    /// Edits were applied since the facts were last derived (the server derives them when the
    /// index is next read).
    pub facts_pending: bool,
    tree: Option<Tree>,
    /// Comment ranges of the text `tree` was last parsed from (`None`: read them all).
    comments: Option<Vec<(usize, usize)>>,
    /// Edits since then, as (start, old end, new end) byte offsets, in the order applied.
    edits: Vec<(usize, usize, usize)>,
    /// That text was broken code ([`comments::is_broken`]): its comments were read whole.
    broken: bool,
    /// The size of the message with this document's text, when it was over the protocol's
    /// message limit and so never read.
    unread: Option<usize>,
}

impl Document {
    /// A document of `text`; parsed at once unless it is larger than `max_size` bytes.
    pub fn new(text: &str, version: i32, language: Language, max_size: u64) -> Document {
        let mut doc = Document {
            rope: Rope::from_str(text),
            version,
            language,
            facts_pending: false,
            tree: None,
            comments: None,
            edits: Vec::new(),
            broken: false,
            unread: None,
        };
        if text.len() as u64 <= max_size {
            doc.tree = doc.parse_tree(text, None);
        }
        doc
    }

    /// A document whose text came in a message of `message_bytes`, over the protocol's
    /// message limit, and so was never read.
    pub fn unread(message_bytes: usize, version: i32, language: Language) -> Document {
        let mut doc = Document::new("", version, language, 0);
        doc.unread = Some(message_bytes);
        doc
    }

    // @mitigates ThreatAnalyzer.Server against #resource-exhaustion using #resource-limits
    /// Whether the text is larger than `max_size` bytes, or was never read (then it is not
    /// analysed).
    pub fn is_oversized(&self, max_size: u64) -> bool {
        self.unread.is_some() || self.rope.len_bytes() as u64 > max_size
    }

    fn parse_tree(&self, text: &str, old: Option<&Tree>) -> Option<Tree> {
        // YAML/JSON are re-read whole (their `x-threatspec` strings need the full tree walk).
        if self.language.grammar().is_none() || self.language.has_embedded_annotations() {
            return None;
        }
        comments::parse_tree(self.language, text, old)
    }

    /// Char index of an LSP position, clamped to the line's end and the text's end.
    fn char_at(&self, pos: Position, unit: ColumnUnit) -> usize {
        let rope = &self.rope;
        let line = pos.line as usize;
        if line >= rope.len_lines() {
            return rope.len_chars();
        }
        let line_start = rope.line_to_char(line);
        let line_slice = rope.line(line);
        // The line's length without its terminator.
        let mut line_len = line_slice.len_chars();
        while line_len > 0 && matches!(line_slice.char(line_len - 1), '\n' | '\r') {
            line_len -= 1;
        }
        let col = pos.character as usize;
        let chars = match unit {
            ColumnUnit::Char => col.min(line_len),
            ColumnUnit::Utf8 => {
                let start_byte = rope.char_to_byte(line_start);
                let end_byte = rope.char_to_byte(line_start + line_len);
                rope.byte_to_char((start_byte + col).min(end_byte)) - line_start
            }
            ColumnUnit::Utf16 => {
                let start_cu = rope.char_to_utf16_cu(line_start);
                let end_cu = rope.char_to_utf16_cu(line_start + line_len);
                rope.utf16_cu_to_char((start_cu + col).min(end_cu)) - line_start
            }
        };
        line_start + chars
    }

    fn point(&self, char_idx: usize) -> Point {
        let line = self.rope.char_to_line(char_idx);
        let column = self.rope.char_to_byte(char_idx) - self.rope.line_to_byte(line);
        Point { row: line, column }
    }

    /// Applies one content change (a range edit, or the whole text when `range` is `None`).
    pub fn apply(&mut self, change: &TextDocumentContentChangeEvent, unit: ColumnUnit) {
        if self.unread.is_some() && change.range.is_some() {
            // The text it would edit was never read.
            return;
        }
        let Some(range) = change.range else {
            self.unread = None;
            self.rope = Rope::from_str(&change.text);
            self.tree = None;
            self.comments = None;
            self.edits.clear();
            return;
        };
        let start = self.char_at(range.start, unit);
        let end = self.char_at(range.end, unit).max(start);
        let start_byte = self.rope.char_to_byte(start);
        let old_end_byte = self.rope.char_to_byte(end);
        let start_position = self.point(start);
        let old_end_position = self.point(end);
        self.rope.remove(start..end);
        self.rope.insert(start, &change.text);
        let new_end = start + change.text.chars().count();
        let (new_end_byte, new_end_position) = (self.rope.char_to_byte(new_end), self.point(new_end));
        self.edits.push((start_byte, old_end_byte, new_end_byte));
        if let Some(tree) = &mut self.tree {
            tree.edit(&InputEdit {
                start_byte,
                old_end_byte,
                new_end_byte,
                start_position,
                old_end_position,
                new_end_position,
            });
        }
    }

    /// Reparses (incrementally when a tree is kept) and derives the document's facts; a
    /// document over `max_size` bytes gets only the `resource-limit` diagnostic.
    pub fn facts(&mut self, key: FilePath, max_size: u64) -> FileFacts {
        if self.is_oversized(max_size) {
            self.tree = None;
            self.comments = None;
            self.edits.clear();
            let message = match self.unread {
                Some(bytes) => format!(
                    "this document's text came in a protocol message of {bytes} bytes: messages over \
                     {} bytes are not read (a resource limit), so it is not analysed; close and \
                     reopen it once it is smaller",
                    super::input::MAX_MESSAGE_SIZE
                ),
                None => format!(
                    "this document is {} bytes long: documents over {max_size} bytes are not analysed \
                     (a resource limit; the `maxFileSize` setting raises it)",
                    self.rope.len_bytes()
                ),
            };
            let error =
                SyntaxError { code: Code::ResourceLimit, range: TextRange::empty(0), message, fix: None };
            let parsed = ParsedFile { annotations: Vec::new(), errors: vec![error] };
            return FileFacts::from_parsed(key, self.language, Arc::from(""), parsed);
        }
        let text: Arc<str> = self.rope.to_string().into();
        let old = self.tree.take();
        self.tree = self.parse_tree(&text, old.as_ref());
        if old.is_some() && self.tree.as_ref().is_some_and(|t| comments::is_broken(t, &text)) {
            // tree-sitter's error recovery from an edited tree can differ from a fresh parse's
            // (found with Bash heredocs): broken code is parsed afresh, so that the editor reads
            // what `check` reads.
            self.tree = self.parse_tree(&text, None);
        }
        let edits = std::mem::take(&mut self.edits);
        let previous = self.comments.take();
        let lines = match &self.tree {
            Some(tree) => {
                // Broken code (either version) is re-read whole: the comments of its error
                // regions are found by re-scanning them, and an edit far away can move a
                // region's bounds without changing the tree there.
                let broken = comments::is_broken(tree, &text);
                let was_broken = std::mem::replace(&mut self.broken, broken);
                let nodes = match (old.as_ref(), previous) {
                    (Some(old), Some(previous)) if !broken && !was_broken => {
                        self.reread_changed(&text, tree, old, previous, &edits)
                    }
                    _ => comments::comment_nodes(self.language, tree, &text, None),
                };
                match nodes {
                    Some(nodes) => {
                        let lines = comments::lines_from_comments(self.language, &text, nodes.clone());
                        self.comments = Some(nodes);
                        lines
                    }
                    None => comments::candidate_lines_in_tree(self.language, tree, &text),
                }
            }
            None => syntax::candidate_lines(self.language, &text),
        };
        let parsed = syntax::parse_candidate_lines(&text, &lines);
        FileFacts::from_parsed(key, self.language, text, parsed)
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

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::ls_types::Range;

    fn change(l1: u32, c1: u32, l2: u32, c2: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range { start: Position::new(l1, c1), end: Position::new(l2, c2) }),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn utf16_edits_after_astral_characters() {
        let mut doc = Document::new("# 😀 @audit A\n# @audit B\n", 1, Language::Python, u64::MAX);
        // "😀" is two UTF-16 code units: column 5 is the `@`.
        doc.apply(&change(0, 5, 0, 11, "@review"), ColumnUnit::Utf16);
        assert_eq!(doc.rope.to_string(), "# 😀 @review A\n# @audit B\n");
        doc.apply(&change(1, 2, 1, 2, "x"), ColumnUnit::Utf8);
        assert_eq!(doc.rope.to_string(), "# 😀 @review A\n# x@audit B\n");
        // Out-of-range positions clamp instead of panicking.
        doc.apply(&change(0, 99, 9, 99, "!"), ColumnUnit::Utf16);
        assert_eq!(doc.rope.to_string(), "# 😀 @review A!");
    }

    /// A deterministic pseudo-random sequence.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, bound: usize) -> usize {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % bound.max(1)
        }
    }

    fn position(text: &str, offset: usize) -> Position {
        let before = &text[..offset];
        let line = before.matches('\n').count() as u32;
        let start = before.rfind('\n').map_or(0, |p| p + 1);
        Position::new(line, text[start..offset].encode_utf16().count() as u32)
    }

    #[test]
    fn rereading_only_changed_comments_equals_reading_all() {
        let cases = [
            (
                Language::Python,
                "x = 1  # @audit A\n# @threat T (#t)\ns = '# no'\n# @exposes A to #t\n",
                &["\"\"\"", "#", "'", "\n", "@audit B", "x", " "][..],
            ),
            (
                Language::Rust,
                "// @threat T (#t)\nfn f() {}\n/* @exposes A to #t */\nlet s = \"// no\";\n/// @audit A\n",
                &["/*", "*/", "//", "\"", "\n", "@audit B", "x"][..],
            ),
            (
                Language::C,
                "int a; // @audit A\n/* @threat T (#t)\n * @exposes A to #t */\nchar *s = \"/* no\";\n",
                &["/*", "*/", "//", "\"", "'", "\n", "\\", "@audit B"][..],
            ),
            // Broken code: error regions whose swallowed comments are found by re-scanning.
            (
                Language::Hcl,
                "# @threat T (#t)\nresource \"a\" \"b\" {\n  x = 1\n  # @exposes A to #t\n}\n# @audit A\n",
                &["<<<<<<< HEAD\n", "=======\n", "{", "}", "<<", "oops\n", "\n", "# @audit B"][..],
            ),
            (
                Language::Bash,
                "f() {\n  echo \"$1\"\n}\n# @threat T (#t)\n# @exposes A to #t\nx=1 # @audit A\n",
                &["<<<<<<< HEAD\n", "((", "{", "}", "'", "oops ;;\n", "\n", "# @audit B"][..],
            ),
        ];
        for (seed, (language, initial, pieces)) in cases.iter().enumerate() {
            let mut rng = Lcg(seed as u64 + 11);
            let mut doc = Document::new(initial, 1, *language, u64::MAX);
            let mut text = initial.to_string();
            doc.facts("/f".into(), u64::MAX);
            for step in 0..1000 {
                let boundaries: Vec<usize> =
                    text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
                let start = boundaries[rng.next(boundaries.len())];
                let end = if rng.next(3) == 0 {
                    let after: Vec<usize> =
                        boundaries.iter().copied().filter(|&b| b >= start).take(4).collect();
                    after[rng.next(after.len())]
                } else {
                    start
                };
                let insert = pieces[rng.next(pieces.len())];
                let change = TextDocumentContentChangeEvent {
                    range: Some(Range { start: position(&text, start), end: position(&text, end) }),
                    range_length: None,
                    text: insert.to_string(),
                };
                text.replace_range(start..end, insert);
                doc.apply(&change, ColumnUnit::Utf16);
                // Several edits per reparse, as when keystrokes arrive between facts.
                if rng.next(3) != 0 {
                    continue;
                }
                let facts = doc.facts("/f".into(), u64::MAX);
                assert_eq!(facts.text.as_ref(), text.as_str());
                let fresh = comments::parse_tree(*language, &text, None)
                    .map(|tree| comments::candidate_lines_in_tree(*language, &tree, &text))
                    .unwrap();
                let want = syntax::parse_candidate_lines(&text, &fresh);
                assert_eq!(facts.parsed, want, "{language:?} step {step}: {text:?}");
            }
        }
    }

    #[test]
    fn oversized_documents_are_not_parsed_until_they_shrink() {
        let big = format!("# @audit A\n{}", "#\n".repeat(100));
        let mut doc = Document::new(&big, 1, Language::Python, 64);
        let facts = doc.facts("/a.py".into(), 64);
        assert!(facts.annotations().is_empty());
        assert_eq!(facts.parsed.errors.len(), 1);
        assert_eq!(facts.parsed.errors[0].code, Code::ResourceLimit);
        assert!(facts.parsed.errors[0].message.contains("211 bytes long"), "{:?}", facts.parsed.errors);
        // Edits still apply exactly; under the limit again, it is parsed in full.
        doc.apply(&change(1, 0, 101, 0, ""), ColumnUnit::Utf16);
        assert_eq!(doc.rope.to_string(), "# @audit A\n");
        let facts = doc.facts("/a.py".into(), 64);
        assert!(facts.parsed.errors.is_empty());
        assert_eq!(facts.annotations().len(), 1);
    }

    #[test]
    fn unread_documents_take_only_a_whole_new_text() {
        let mut doc = Document::unread(40 << 20, 3, Language::Python);
        let facts = doc.facts("/a.py".into(), u64::MAX);
        assert_eq!(facts.parsed.errors[0].code, Code::ResourceLimit);
        assert!(facts.parsed.errors[0].message.contains("protocol message of 41943040 bytes"));
        // A range edit cannot apply to text never read; the whole text can.
        doc.apply(&change(0, 0, 0, 0, "# @audit A\n"), ColumnUnit::Utf16);
        assert_eq!(doc.facts("/a.py".into(), u64::MAX).parsed.errors[0].code, Code::ResourceLimit);
        let whole =
            TextDocumentContentChangeEvent { range: None, range_length: None, text: "# @audit A\n".into() };
        doc.apply(&whole, ColumnUnit::Utf16);
        let facts = doc.facts("/a.py".into(), u64::MAX);
        assert!(facts.parsed.errors.is_empty());
        assert_eq!(facts.annotations().len(), 1);
    }

    #[test]
    fn incremental_reparse_matches_a_fresh_parse() {
        let mut doc = Document::new("x = 1\n# @exposes App to #a\n", 1, Language::Python, u64::MAX);
        doc.facts("/a.py".into(), u64::MAX);
        doc.apply(&change(1, 19, 1, 20, "sqli"), ColumnUnit::Utf16);
        doc.apply(&change(0, 0, 0, 0, "s = \"# @audit Fake\"\n"), ColumnUnit::Utf16);
        let facts = doc.facts("/a.py".into(), u64::MAX);
        let fresh = FileFacts::from_parsed(
            "/a.py".into(),
            Language::Python,
            doc.rope.to_string().into(),
            syntax::parse_file(Language::Python, &doc.rope.to_string()),
        );
        assert_eq!(facts.parsed, fresh.parsed);
        assert_eq!(facts.annotations().len(), 1);
        assert_eq!(facts.slice(facts.annotations()[0].range), "@exposes App to #sqli");
    }
}
