//! Open documents: text in a rope, the client's version, and the incremental parse state that
//! each edit updates.
//!
//! Owns: applying `didChange` content changes exactly (UTF-8 or UTF-16 positions, turned into
//! byte edits here) and turning a document into [`FileFacts`]. Must never: await, touch the
//! project index (the server decides when facts replace the index's), or parse by itself (that
//! is `syntax`'s).
//!
//! Reparsing is incremental ([`crate::syntax::incremental`]): each edit is handed on as byte offsets
//! with row/column points, and only the comments that changed are re-read.
//!
//! A document larger than the size limit (the `maxFileSize` setting, 2 MiB by default) keeps
//! its text, so later edits still apply exactly, but is not parsed: its facts are one
//! `resource-limit` diagnostic, and it is parsed again once edits bring it under the limit.
//!
//! A document whose text came in a protocol message over the message limit was never read
//! (see `lsp::input`): it is held as *unread*, with no text and a `resource-limit` diagnostic,
//! until a change sends its whole text again (range edits cannot apply to text never seen).

use crate::diagnostic::Code;
use crate::file_id::FileId;
use crate::model::FileFacts;
use crate::syntax::incremental::{ByteEdit, IncrementalParse};
use crate::syntax::{Language, ParsedFile, SyntaxError};
use crate::text::ColumnUnit;
use crate::text::TextRange;
use ropey::Rope;
use std::sync::Arc;
use tower_lsp_server::ls_types::{Position, TextDocumentContentChangeEvent};

pub struct Document {
    pub rope: Rope,
    pub version: i32,
    pub language: Language,
    /// Edits were applied since the facts were last derived (the server derives them when the
    /// index is next read).
    pub facts_pending: bool,
    parse: IncrementalParse,
    /// The size of the message with this document's text, when it was over the protocol's
    /// message limit and so never read.
    unread: Option<usize>,
}

impl Document {
    /// A document of `text`; parsed at once unless it is larger than `max_size` bytes.
    pub fn new(text: &str, version: i32, language: Language, max_size: u64) -> Document {
        let parsed_now = (text.len() as u64 <= max_size).then_some(text);
        Document {
            rope: Rope::from_str(text),
            version,
            language,
            facts_pending: false,
            parse: IncrementalParse::new(language, parsed_now),
            unread: None,
        }
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

    /// The (row, byte column) of a char index.
    fn point(&self, char_idx: usize) -> (usize, usize) {
        let line = self.rope.char_to_line(char_idx);
        (line, self.rope.char_to_byte(char_idx) - self.rope.line_to_byte(line))
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
            self.parse.reset();
            return;
        };
        let start = self.char_at(range.start, unit);
        let end = self.char_at(range.end, unit).max(start);
        let (start_byte, old_end) = (self.rope.char_to_byte(start), self.rope.char_to_byte(end));
        let (start_point, old_end_point) = (self.point(start), self.point(end));
        self.rope.remove(start..end);
        self.rope.insert(start, &change.text);
        let new_end = start + change.text.chars().count();
        self.parse.edit(&ByteEdit {
            start: start_byte,
            old_end,
            new_end: self.rope.char_to_byte(new_end),
            start_point,
            old_end_point,
            new_end_point: self.point(new_end),
        });
    }

    /// Reparses (incrementally when a tree is kept) and derives the document's facts; a
    /// document over `max_size` bytes gets only the `resource-limit` diagnostic.
    pub fn facts(&mut self, key: FileId, max_size: u64) -> FileFacts {
        if self.is_oversized(max_size) {
            self.parse.reset();
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
            let parsed = ParsedFile { errors: vec![error], ..Default::default() };
            return FileFacts::from_parsed(key, self.language, Arc::from(""), parsed);
        }
        let text: Arc<str> = self.rope.to_string().into();
        let mut parsed = self.parse.reparse(&text);
        crate::syntax::add_mcp_surface(key.as_str(), self.language, &text, &mut parsed);
        FileFacts::from_parsed(key, self.language, text, parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax;
    use crate::syntax::incremental::test_support::{EDIT_CASES, Lcg, fresh, random_edit};
    use std::path::Path;
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

    fn position(text: &str, offset: usize) -> Position {
        let before = &text[..offset];
        let line = before.matches('\n').count() as u32;
        let start = before.rfind('\n').map_or(0, |p| p + 1);
        Position::new(line, text[start..offset].encode_utf16().count() as u32)
    }

    /// The reparsing property of [`syntax::incremental`], through the editor's side: UTF-16
    /// positions turned into byte edits of the rope.
    #[test]
    fn rereading_only_changed_comments_equals_reading_all() {
        for (seed, (language, initial, pieces)) in EDIT_CASES.iter().enumerate() {
            let mut rng = Lcg(seed as u64 + 11);
            let mut doc = Document::new(initial, 1, *language, u64::MAX);
            let mut text = initial.to_string();
            doc.facts(FileId::absolute(Path::new("/f")), u64::MAX);
            for step in 0..1000 {
                let (start, end, insert) = random_edit(&mut rng, &text, pieces);
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
                let facts = doc.facts(FileId::absolute(Path::new("/f")), u64::MAX);
                assert_eq!(facts.text(), text.as_str());
                assert_eq!(facts.parsed, fresh(*language, &text), "{language:?} step {step}: {text:?}");
            }
        }
    }

    #[test]
    fn oversized_documents_are_not_parsed_until_they_shrink() {
        let big = format!("# @audit A\n{}", "#\n".repeat(100));
        let mut doc = Document::new(&big, 1, Language::Python, 64);
        let facts = doc.facts(FileId::absolute(Path::new("/a.py")), 64);
        assert!(facts.annotations().is_empty());
        assert_eq!(facts.parsed.errors.len(), 1);
        assert_eq!(facts.parsed.errors[0].code, Code::ResourceLimit);
        assert!(facts.parsed.errors[0].message.contains("211 bytes long"), "{:?}", facts.parsed.errors);
        // Edits still apply exactly; under the limit again, it is parsed in full.
        doc.apply(&change(1, 0, 101, 0, ""), ColumnUnit::Utf16);
        assert_eq!(doc.rope.to_string(), "# @audit A\n");
        let facts = doc.facts(FileId::absolute(Path::new("/a.py")), 64);
        assert!(facts.parsed.errors.is_empty());
        assert_eq!(facts.annotations().len(), 1);
    }

    #[test]
    fn unread_documents_take_only_a_whole_new_text() {
        let mut doc = Document::unread(40 << 20, 3, Language::Python);
        let facts = doc.facts(FileId::absolute(Path::new("/a.py")), u64::MAX);
        assert_eq!(facts.parsed.errors[0].code, Code::ResourceLimit);
        assert!(facts.parsed.errors[0].message.contains("protocol message of 41943040 bytes"));
        // A range edit cannot apply to text never read; the whole text can.
        doc.apply(&change(0, 0, 0, 0, "# @audit A\n"), ColumnUnit::Utf16);
        assert_eq!(
            doc.facts(FileId::absolute(Path::new("/a.py")), u64::MAX).parsed.errors[0].code,
            Code::ResourceLimit
        );
        let whole =
            TextDocumentContentChangeEvent { range: None, range_length: None, text: "# @audit A\n".into() };
        doc.apply(&whole, ColumnUnit::Utf16);
        let facts = doc.facts(FileId::absolute(Path::new("/a.py")), u64::MAX);
        assert!(facts.parsed.errors.is_empty());
        assert_eq!(facts.annotations().len(), 1);
    }

    #[test]
    fn incremental_reparse_matches_a_fresh_parse() {
        let mut doc = Document::new("x = 1\n# @exposes App to #a\n", 1, Language::Python, u64::MAX);
        doc.facts(FileId::absolute(Path::new("/a.py")), u64::MAX);
        doc.apply(&change(1, 19, 1, 20, "sqli"), ColumnUnit::Utf16);
        doc.apply(&change(0, 0, 0, 0, "s = \"# @audit Fake\"\n"), ColumnUnit::Utf16);
        let facts = doc.facts(FileId::absolute(Path::new("/a.py")), u64::MAX);
        let fresh = FileFacts::from_parsed(
            FileId::absolute(Path::new("/a.py")),
            Language::Python,
            doc.rope.to_string().into(),
            syntax::parse_file(Language::Python, &doc.rope.to_string()),
        );
        assert_eq!(facts.parsed, fresh.parsed);
        assert_eq!(facts.annotations().len(), 1);
        assert_eq!(facts.slice(facts.annotations()[0].range), "@exposes App to #sqli");
    }
}
