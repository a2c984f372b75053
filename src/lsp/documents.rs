//! Open documents: text in a rope, the client's version, and the tree-sitter tree that each
//! edit updates incrementally (`Tree::edit` + reparse).
//!
//! Owns: applying `didChange` content changes exactly (UTF-8 or UTF-16 positions) and turning
//! a document into [`FileFacts`]. Must never: await, or touch the project index (the server
//! decides when facts replace the index's).

use crate::diagnostic::FilePath;
use crate::model::FileFacts;
use crate::syntax::{self, Language, comments, parser};
use crate::text::ColumnUnit;
use ropey::Rope;
use std::sync::Arc;
use tower_lsp_server::ls_types::{Position, TextDocumentContentChangeEvent};
use tree_sitter::{InputEdit, Point, Tree};

pub struct Document {
    pub rope: Rope,
    pub version: i32,
    pub language: Language,
    tree: Option<Tree>,
}

impl Document {
    pub fn new(text: &str, version: i32, language: Language) -> Document {
        let mut doc = Document { rope: Rope::from_str(text), version, language, tree: None };
        doc.tree = doc.parse_tree(text, None);
        doc
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
        let Some(range) = change.range else {
            self.rope = Rope::from_str(&change.text);
            self.tree = None;
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

    /// Reparses (incrementally when a tree is kept) and derives the document's facts.
    pub fn facts(&mut self, key: FilePath) -> FileFacts {
        let text: Arc<str> = self.rope.to_string().into();
        let old = self.tree.take();
        self.tree = self.parse_tree(&text, old.as_ref());
        let lines = match &self.tree {
            Some(tree) => comments::candidate_lines_in_tree(self.language, tree, &text),
            None => syntax::candidate_lines(self.language, &text),
        };
        let parsed = parser::parse_lines(&text, &lines);
        FileFacts::from_parsed(key, self.language, text, parsed)
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
        let mut doc = Document::new("# 😀 @audit A\n# @audit B\n", 1, Language::Python);
        // "😀" is two UTF-16 code units: column 5 is the `@`.
        doc.apply(&change(0, 5, 0, 11, "@review"), ColumnUnit::Utf16);
        assert_eq!(doc.rope.to_string(), "# 😀 @review A\n# @audit B\n");
        doc.apply(&change(1, 2, 1, 2, "x"), ColumnUnit::Utf8);
        assert_eq!(doc.rope.to_string(), "# 😀 @review A\n# x@audit B\n");
        // Out-of-range positions clamp instead of panicking.
        doc.apply(&change(0, 99, 9, 99, "!"), ColumnUnit::Utf16);
        assert_eq!(doc.rope.to_string(), "# 😀 @review A!");
    }

    #[test]
    fn incremental_reparse_matches_a_fresh_parse() {
        let mut doc = Document::new("x = 1\n# @exposes App to #a\n", 1, Language::Python);
        doc.facts("/a.py".into());
        doc.apply(&change(1, 19, 1, 20, "sqli"), ColumnUnit::Utf16);
        doc.apply(&change(0, 0, 0, 0, "s = \"# @audit Fake\"\n"), ColumnUnit::Utf16);
        let facts = doc.facts("/a.py".into());
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
