//! Text positions, and the one rule for showing repository text.
//!
//! Owns: [`TextRange`] (byte offsets into one file's text, the only position type the core
//! stores), [`LineIndex`] (offset -> 0-based line and column in bytes, characters or UTF-16
//! code units), and which characters repository text may not carry into an output
//! ([`is_inert`], applied by [`for_terminal`] to terminals and logs and by [`for_machine`] to
//! JSON, SARIF and exports; [`for_agent`] also hides no [`is_invisible`] character from an AI
//! agent). Must never: do I/O, or know which file a range belongs to.

use std::borrow::Cow;
use std::fmt;

/// A half-open byte range `start..end` into a file's text. Always on `char` boundaries.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize,
)]
pub struct TextRange {
    pub start: u32,
    pub end: u32,
}

impl TextRange {
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end, "range {start}..{end}");
        Self { start: start as u32, end: end as u32 }
    }
    pub fn empty(at: usize) -> Self {
        Self::new(at, at)
    }
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
    pub fn start(self) -> usize {
        self.start as usize
    }
    pub fn end(self) -> usize {
        self.end as usize
    }
    pub fn contains(self, offset: usize) -> bool {
        self.start() <= offset && offset < self.end()
    }
    /// True when `offset` lies in the range or at its end (a cursor just after a word).
    pub fn touches(self, offset: usize) -> bool {
        self.start() <= offset && offset <= self.end()
    }
    pub fn cover(self, other: TextRange) -> TextRange {
        TextRange { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
    pub fn shift(self, by: usize) -> TextRange {
        TextRange::new(self.start() + by, self.end() + by)
    }
    pub fn slice(self, text: &str) -> &str {
        &text[self.start()..self.end()]
    }
}

impl fmt::Debug for TextRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A 0-based line and a 0-based column in some unit (see [`LineIndex`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

/// Unit in which a column is counted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ColumnUnit {
    Utf8,
    Utf16,
    Char,
}

impl ColumnUnit {
    /// The columns `text` takes, counted in this unit.
    pub fn count(self, text: &str) -> u32 {
        match self {
            ColumnUnit::Utf8 => text.len() as u32,
            ColumnUnit::Char => text.chars().count() as u32,
            ColumnUnit::Utf16 => text.encode_utf16().count() as u32,
        }
    }
}

/// Offsets of line starts for one text. Lines end at `\n`, `\r\n` or a lone `\r`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineIndex {
    line_starts: Vec<u32>,
    len: u32,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0u32];
        if memchr::memchr(b'\r', bytes).is_none() {
            // Only `\n` breaks lines: 32 bytes at a time, as a bit mask of line feeds (the
            // loop per line of a `memchr` call cost more than the search on short lines).
            let mut chunks = bytes.chunks_exact(32);
            let mut base = 0u32;
            for chunk in &mut chunks {
                let mut mask =
                    chunk.iter().enumerate().fold(0u32, |m, (i, &b)| m | (u32::from(b == b'\n') << i));
                while mask != 0 {
                    line_starts.push(base + mask.trailing_zeros() + 1);
                    mask &= mask - 1;
                }
                base += 32;
            }
            let rest = chunks.remainder();
            line_starts.extend(memchr::memchr_iter(b'\n', rest).map(|at| base + at as u32 + 1));
            return Self { line_starts, len: text.len() as u32 };
        }
        let mut i = 0;
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', &bytes[i..]) {
            let at = i + pos;
            let next = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') { at + 2 } else { at + 1 };
            line_starts.push(next as u32);
            i = next;
        }
        Self { line_starts, len: text.len() as u32 }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The length of the text this index was built for, in bytes.
    pub fn text_len(&self) -> usize {
        self.len as usize
    }

    /// Byte offset where 0-based `line` starts (the text length past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).map_or(self.len as usize, |&s| s as usize)
    }

    /// Byte range of `line` without its line terminator.
    pub fn line_range(&self, line: usize, text: &str) -> TextRange {
        let start = self.line_start(line);
        let mut end = self.line_start(line + 1).min(text.len());
        let b = text.as_bytes();
        while end > start && (b[end - 1] == b'\n' || b[end - 1] == b'\r') {
            end -= 1;
        }
        TextRange::new(start, end)
    }

    /// 0-based line and byte column of `offset` (clamped to the text).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.len as usize) as u32;
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        LineCol { line: line as u32, col: offset - self.line_starts[line] }
    }

    /// Line and column of `offset` with the column counted in `unit`.
    pub fn line_col_in(&self, text: &str, offset: usize, unit: ColumnUnit) -> LineCol {
        let lc = self.line_col(offset);
        let start = self.line_starts[lc.line as usize] as usize;
        let prefix = &text[start..start + lc.col as usize];
        LineCol { line: lc.line, col: unit.count(prefix) }
    }

    /// Byte offset of a line and column counted in `unit`; positions past the end of a line
    /// clamp to the line end, lines past the end clamp to the text end.
    pub fn offset_of(&self, text: &str, pos: LineCol, unit: ColumnUnit) -> usize {
        let line = pos.line as usize;
        if line >= self.line_starts.len() {
            return text.len();
        }
        let range = self.line_range(line, text);
        let line_text = range.slice(text);
        let mut counted = 0u32;
        for (i, c) in line_text.char_indices() {
            if counted >= pos.col {
                return range.start() + i;
            }
            counted += match unit {
                ColumnUnit::Utf8 => c.len_utf8() as u32,
                ColumnUnit::Utf16 => c.len_utf16() as u32,
                ColumnUnit::Char => 1,
            };
        }
        range.end()
    }
}

/// Where the last whitespace-separated word of `text` starts: just after its last whitespace
/// character, whatever that character's width (U+0085 and U+00A0 take two bytes), or 0.
pub fn last_word_start(text: &str) -> usize {
    text.char_indices().rev().find(|(_, c)| c.is_whitespace()).map_or(0, |(at, c)| at + c.len_utf8())
}

/// Whether `c` only shows as itself: not a C0 or C1 control character or DEL (escape
/// sequences, bell, backspace, carriage return: they drive terminals and log viewers), not a
/// bidirectional formatting character (U+061C, U+200E/F, U+202A-202E, U+2066-2069: they
/// reorder what is shown, as in "Trojan Source"), not the line or paragraph separator
/// (U+2028/9: line breaks to some viewers), and not a character that shows as nothing while
/// a program (an AI agent reading the output) still reads it: zero-width characters
/// (U+200B-200D, U+2060-2064, U+FEFF) and Unicode tag characters (U+E0000-E007F, ASCII
/// spelt invisibly). An emoji joined by U+200D therefore shows as its parts. Tab, line feed
/// and CR-LF are decided by each caller. Every renderer's escaping uses this one rule.
pub fn is_inert(c: char) -> bool {
    !(c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{FEFF}'
                | '\u{E0000}'..='\u{E007F}'
        ))
}

/// What stands for a character that is not [`is_inert`].
pub const REPLACEMENT: char = '\u{FFFD}';

// @exposes ThreatAnalyzer.Cli to #terminal-injection -- "file names and link targets on standard error"
// @mitigates ThreatAnalyzer.Cli against #terminal-injection using #inert-text
// @exposes ThreatAnalyzer.Server to #terminal-injection -- "paths and setting values in the log"
// @mitigates ThreatAnalyzer.Server against #terminal-injection using #inert-text
/// Repository text (a path, a name, a message quoting either) made safe for one line of a
/// terminal or a log: a tab becomes a space, a line feed or carriage return the two
/// characters `\n` or `\r` (so no name can start a line of its own, such as a GitHub Actions
/// `::error` command), and every other character that is not [`is_inert`] U+FFFD.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    // Printable ASCII (nearly every string) needs no decoding to tell.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) || text.chars().all(is_inert) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push(' '),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_inert(c) => out.push(c),
            _ => out.push(REPLACEMENT),
        }
    }
    Cow::Owned(out)
}

/// Repository text made safe for a machine-readable output (JSON, SARIF, exports), whose
/// strings a viewer, a terminal or an agent may show decoded: tabs, line feeds and CR-LF line
/// endings stay (fixes insert whole lines), every other character that is not [`is_inert`]
/// becomes U+FFFD.
pub fn for_machine(text: &str) -> Cow<'_, str> {
    // Printable ASCII, tabs and line feeds (nearly every string) need no decoding to tell.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\t' || b == b'\n')
        || text.chars().all(|c| is_inert(c) || c == '\t' || c == '\n')
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let kept = is_inert(c) || c == '\t' || c == '\n' || (c == '\r' && chars.peek() == Some(&'\n'));
        out.push(if kept { c } else { REPLACEMENT });
    }
    Cow::Owned(out)
}

/// Whether `c` shows as nothing at all while a language model still reads it: zero-width
/// spaces and joiners, word joiners and invisible operators, the byte-order mark, soft hyphen,
/// Hangul fillers, variation selectors, and the Unicode tag characters (U+E0000-E007F, which
/// spell hidden ASCII). Text for an agent ([`for_agent`]) shows them as U+FFFD.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// Repository text for an AI agent (the MCP server's answers): [`for_machine`], and every
/// [`is_invisible`] character U+FFFD, so nothing a reader cannot see reaches the model.
pub fn for_agent(text: &str) -> Cow<'_, str> {
    let text = for_machine(text);
    if !text.chars().any(is_invisible) {
        return text;
    }
    Cow::Owned(text.chars().map(|c| if is_invisible(c) { REPLACEMENT } else { c }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line starts as the general loop finds them (`\r\n`, `\r` and `\n` each end a line).
    fn reference_line_starts(text: &str) -> Vec<u32> {
        let bytes = text.as_bytes();
        let mut starts = vec![0u32];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
                b'\r' | b'\n' => i += 1,
                _ => {
                    i += 1;
                    continue;
                }
            }
            starts.push(i as u32);
        }
        starts
    }

    proptest::proptest! {
        /// The line-feed-only fast path (32-byte masks) and the general loop agree with the
        /// reference on every length around the chunk size, line breaks first and last.
        #[test]
        fn line_starts_match_the_reference(text in "[a\n]{0,100}|[ab\r\n]{0,70}|(\\PC{0,3}\n){0,20}") {
            let index = LineIndex::new(&text);
            proptest::prop_assert_eq!(&index.line_starts, &reference_line_starts(&text));
            proptest::prop_assert_eq!(index.text_len(), text.len());
        }
    }

    #[test]
    fn text_for_an_agent_shows_invisible_characters() {
        assert_eq!(for_agent("a\u{200b}b\u{e0049}\u{feff}c\td\n"), "a\u{fffd}b\u{fffd}\u{fffd}c\td\n");
        assert_eq!(for_agent("x\u{202e}y"), "x\u{fffd}y");
        assert!(matches!(for_agent("plain é"), Cow::Borrowed(_)));
    }

    #[test]
    fn terminal_text_has_no_controls_and_no_line_breaks() {
        let name = "a\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\n::error file=x::All clear\r\u{9b}\u{202E}\tz";
        assert_eq!(
            for_terminal(name),
            "a\u{FFFD}]52;c;ZXZpbA==\u{FFFD}\u{FFFD}[2J\\n::error file=x::All clear\\r\u{FFFD}\u{FFFD} z"
        );
        assert!(matches!(for_terminal("src/app.py: ünï 😀"), Cow::Borrowed(_)));
    }

    #[test]
    fn machine_text_keeps_line_structure_only() {
        assert_eq!(for_machine("a\tb\nc\r\nd"), "a\tb\nc\r\nd");
        assert_eq!(
            for_machine("x\ry\u{1b}[31m\u{7}\u{85}\u{9b}\u{202E}\u{2066}\u{200F}\u{061C}\u{7f}\u{2028}"),
            "x\u{FFFD}y\u{FFFD}[31m\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        // Invisible characters an agent still reads: zero-width and tag characters.
        assert_eq!(
            for_machine("a\u{200B}b\u{200D}c\u{2060}d\u{FEFF}e\u{E0041}\u{E007F}f\u{200E}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e\u{FFFD}\u{FFFD}f\u{FFFD}"
        );
        assert!(matches!(for_machine("ünï 😀 \u{2010}\u{206A}"), Cow::Borrowed(_)));
        assert_eq!(for_machine("ends in\r"), "ends in\u{FFFD}");
    }

    #[test]
    fn line_col_handles_all_line_endings() {
        let text = "a\nb\r\nc\rd";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_count(), 4);
        assert_eq!(idx.line_col(0), LineCol { line: 0, col: 0 });
        assert_eq!(idx.line_col(2), LineCol { line: 1, col: 0 });
        assert_eq!(idx.line_col(5), LineCol { line: 2, col: 0 });
        assert_eq!(idx.line_col(7), LineCol { line: 3, col: 0 });
        assert_eq!(idx.line_range(1, text).slice(text), "b");
    }

    #[test]
    fn columns_in_every_unit_round_trip() {
        let text = "x = \"é😀\" # @audit App";
        let idx = LineIndex::new(text);
        let at = text.find('@').unwrap();
        for unit in [ColumnUnit::Utf8, ColumnUnit::Utf16, ColumnUnit::Char] {
            let lc = idx.line_col_in(text, at, unit);
            assert_eq!(idx.offset_of(text, lc, unit), at, "{unit:?}");
        }
        assert_eq!(idx.line_col_in(text, at, ColumnUnit::Char).col, 11);
        assert_eq!(idx.line_col_in(text, at, ColumnUnit::Utf16).col, 12);
        assert_eq!(idx.line_col_in(text, at, ColumnUnit::Utf8).col, 15);
    }
}
