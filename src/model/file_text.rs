//! One file's text as the index keeps it: [`FileText`].
//!
//! A file the language server edits, or that the reading layer hands over whole, keeps its
//! whole text. A file `check` scanned from disk keeps only the lines that hold its annotations
//! and syntax errors (whole lines, with their line numbers: what the analysis slices, the
//! fingerprints' line text and every reported line and column need), since the rest of a
//! source file is never read again: on the 20,000-file benchmark that was 47 MiB of the live
//! heap. A reader that needs more (a report's code line elsewhere, the symbol scope's parse,
//! an anchored `.gal` source) gets the whole text read again by the reading layer
//! ([`Reread`]: the model reads no files), checked to be the bytes that were scanned; when the
//! file changed since, it gets the kept lines at their places and blanks elsewhere, and
//! [`FileText::is_stale`] says so for the caller to report.

use crate::text::{ColumnUnit, LineCol, LineIndex, TextRange};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// Reads a scanned file again for [`FileText::all`] (the reading layer's: the model does no
/// I/O).
pub trait Reread: Send + Sync {
    /// The file's text, when its bytes are still the ones that were scanned.
    fn reread(&self) -> Option<String>;
    /// Whether `text` is the text that was scanned.
    fn is_scanned(&self, text: &str) -> bool;
}

/// A file's text: whole, or its kept lines (see the module docs).
pub struct FileText(Repr);

enum Repr {
    Whole(Whole),
    Kept(Box<Kept>),
}

struct Whole {
    text: Arc<str>,
    /// Made on first use: `check` turns offsets into lines only for the files it reports
    /// something in.
    lines: OnceLock<LineIndex>,
}

impl Whole {
    fn new(text: Arc<str>) -> Whole {
        Whole { text, lines: OnceLock::new() }
    }

    fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.text))
    }
}

struct Kept {
    len: u32,
    /// The kept blocks of whole lines, one after the other.
    text: Box<str>,
    blocks: Box<[Block]>,
    source: Box<dyn Reread>,
    /// The whole text once read again, and whether it had changed (then blanks stand for
    /// what was not kept).
    whole: OnceLock<(Whole, bool)>,
}

/// A run of whole lines: from byte `start` of the file, at byte `at` of [`Kept::text`],
/// starting 0-based line `line`.
#[derive(Clone, Copy)]
struct Block {
    start: u32,
    at: u32,
    line: u32,
}

impl fmt::Debug for FileText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Whole(w) => f.debug_tuple("Whole").field(&w.text.len()).finish(),
            Repr::Kept(k) => {
                f.debug_struct("Kept").field("len", &k.len).field("kept", &k.text.len()).finish()
            }
        }
    }
}

impl FileText {
    pub fn whole(text: Arc<str>) -> FileText {
        FileText(Repr::Whole(Whole::new(text)))
    }

    /// The lines of `text` that `ranges` touch, when they are worth keeping apart (else the
    /// whole text); `source` reads the file again when a reader needs the rest.
    pub fn keep(text: &str, ranges: &mut [TextRange], source: impl FnOnce() -> Box<dyn Reread>) -> FileText {
        // Less than a quarter saved: not worth a read again.
        Self::keep_if(text, ranges, source, |kept, blocks| kept + blocks * 12 < text.len() / 4 * 3)
    }

    /// [`FileText::keep`] however little it leaves out (for tests that compare the answers
    /// of kept lines with the whole text's).
    pub fn keep_lines(
        text: &str,
        ranges: &mut [TextRange],
        source: impl FnOnce() -> Box<dyn Reread>,
    ) -> FileText {
        Self::keep_if(text, ranges, source, |_, _| true)
    }

    /// Kept lines when `worth(kept bytes, blocks)`, else the whole text.
    fn keep_if(
        text: &str,
        ranges: &mut [TextRange],
        source: impl FnOnce() -> Box<dyn Reread>,
        worth: impl FnOnce(usize, usize) -> bool,
    ) -> FileText {
        match kept_lines(text, ranges) {
            Some((kept, blocks)) if worth(kept.len(), blocks.len()) => FileText(Repr::Kept(Box::new(Kept {
                len: text.len() as u32,
                text: kept.into_boxed_str(),
                blocks: blocks.into_boxed_slice(),
                source: source(),
                whole: OnceLock::new(),
            }))),
            _ => FileText::whole(Arc::from(text)),
        }
    }

    /// The length of the whole text in bytes.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Whole(w) => w.text.len(),
            Repr::Kept(k) => k.len as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The heap bytes this text holds, about (for `examples/heap.rs`; the reader of a kept
    /// text counted as a path of 64 bytes).
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Whole(w) => w.text.len() + 16,
            Repr::Kept(k) => {
                std::mem::size_of::<Kept>() + k.text.len() + std::mem::size_of_val(&*k.blocks) + 64
            }
        }
    }

    /// Whether only some lines are kept.
    pub fn is_partial(&self) -> bool {
        matches!(self.0, Repr::Kept(_))
    }

    /// Whether the whole text was needed and the file had changed since it was scanned.
    pub fn is_stale(&self) -> bool {
        match &self.0 {
            Repr::Whole(_) => false,
            Repr::Kept(k) => k.whole.get().is_some_and(|(_, stale)| *stale),
        }
    }

    /// Whether `text` is this text (for a kept text: the text that was scanned).
    pub fn is(&self, text: &str) -> bool {
        match &self.0 {
            Repr::Whole(w) => *w.text == *text,
            Repr::Kept(k) => k.len as usize == text.len() && k.source.is_scanned(text),
        }
    }

    fn whole_text(&self) -> &Whole {
        match &self.0 {
            Repr::Whole(w) => w,
            Repr::Kept(k) => &k.whole.get_or_init(|| k.read_again()).0,
        }
    }

    /// The whole text (read again for a kept text: see the module docs).
    pub fn all(&self) -> &str {
        &self.whole_text().text
    }

    /// The whole text, shared.
    pub fn shared(&self) -> Arc<str> {
        Arc::clone(&self.whole_text().text)
    }

    /// The whole text's line starts.
    pub fn line_index(&self) -> &LineIndex {
        self.whole_text().lines()
    }

    pub fn slice(&self, range: TextRange) -> &str {
        if let Repr::Kept(k) = &self.0
            && let Some((b, at)) = k.block_of(range.start())
            && range.end() <= k.block_end(b)
        {
            return &k.text[at..at + range.len()];
        }
        range.slice(self.all())
    }

    /// 0-based line and column (in `unit`) of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: usize, unit: ColumnUnit) -> LineCol {
        if let Repr::Kept(k) = &self.0
            && let Some((line, start, at)) = k.line_col(offset)
        {
            return LineCol { line, col: unit.count(&k.text[start..at]) };
        }
        let whole = self.whole_text();
        whole.lines().line_col_in(&whole.text, offset, unit)
    }

    /// [`FileText::line_col`] of both ends of `range`. A range within one line of the text at
    /// hand (nearly every location a report shows) costs one: its end's column is counted on
    /// from its start's.
    pub fn line_cols(&self, range: TextRange, unit: ColumnUnit) -> (LineCol, LineCol) {
        let start = self.line_col(range.start(), unit);
        let held = match &self.0 {
            Repr::Whole(w) => w.text.get(range.start()..range.end()),
            Repr::Kept(k) => k
                .block_of(range.start())
                .filter(|&(b, _)| range.end() <= k.block_end(b))
                .and_then(|(_, at)| k.text.get(at..at + range.len())),
        };
        let end = match held {
            Some(text) if !text.contains(['\n', '\r']) => {
                LineCol { line: start.line, col: start.col + unit.count(text) }
            }
            _ => self.line_col(range.end(), unit),
        };
        (start, end)
    }

    /// The 0-based line of a byte offset (clamped to the text).
    pub fn line_of(&self, offset: usize) -> usize {
        if let Repr::Kept(k) = &self.0
            && let Some((line, _, _)) = k.line_col(offset)
        {
            return line as usize;
        }
        self.line_index().line_col(offset).line as usize
    }

    /// Byte offset where 0-based `line` starts (the text length past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        if let Repr::Kept(k) = &self.0
            && let Some((b, start)) = k.line_in_block(line)
        {
            return k.blocks[b].start as usize + start;
        }
        self.line_index().line_start(line)
    }

    /// Byte range of `line` without its line terminator.
    pub fn line_range(&self, line: usize) -> TextRange {
        if let Repr::Kept(k) = &self.0
            && let Some((b, start)) = k.line_in_block(line)
        {
            let bytes = &k.text.as_bytes()[k.block_at(b)..k.block_at(b + 1)];
            let first = k.blocks[b].start as usize;
            if start < bytes.len() {
                let mut end = break_ends(&bytes[start..]).next().map_or(bytes.len(), |e| start + e);
                while end > start && matches!(bytes[end - 1], b'\n' | b'\r') {
                    end -= 1;
                }
                return TextRange::new(first + start, first + end);
            }
            if first + start == k.len as usize {
                return TextRange::empty(first + start);
            }
        }
        self.line_index().line_range(line, self.all())
    }

    /// The text of `line` without its terminator.
    pub fn line_text(&self, line: usize) -> &str {
        self.slice(self.line_range(line))
    }

    /// Whether the text's last character is `c`.
    pub fn ends_with(&self, c: char) -> bool {
        if let Repr::Kept(k) = &self.0
            && k.blocks
                .last()
                .is_some_and(|b| b.start as usize + k.text.len() - b.at as usize == k.len as usize)
        {
            return k.text.ends_with(c);
        }
        self.all().ends_with(c)
    }
}

impl Kept {
    fn block_at(&self, b: usize) -> usize {
        self.blocks.get(b).map_or(self.text.len(), |block| block.at as usize)
    }

    /// Where block `b` ends in the file.
    fn block_end(&self, b: usize) -> usize {
        self.blocks[b].start as usize + self.block_at(b + 1) - self.block_at(b)
    }

    /// The block holding `offset` (its end included), and where `offset` is in the kept text.
    fn block_of(&self, offset: usize) -> Option<(usize, usize)> {
        let b = self.blocks.partition_point(|block| block.start as usize <= offset).checked_sub(1)?;
        (offset <= self.block_end(b))
            .then(|| (b, self.blocks[b].at as usize + offset - self.blocks[b].start as usize))
    }

    /// The line of `offset` (clamped to the text) when a block holds it, with where that
    /// line and `offset` are in the kept text.
    fn line_col(&self, offset: usize) -> Option<(u32, usize, usize)> {
        let (b, at) = self.block_of(offset.min(self.len as usize))?;
        let first = self.block_at(b);
        // Over the whole block: a `\r\n` around `offset` is one break, after it.
        let bytes = &self.text.as_bytes()[first..self.block_at(b + 1)];
        let (breaks, start) = if memchr::memchr(b'\r', bytes).is_none() {
            // Only `\n` breaks (nearly every text): counted and found with `memchr`'s vector
            // loops, not one call per line (a report's locations in a long `.gal` block).
            let before = &bytes[..at - first];
            let breaks = memchr::memchr_iter(b'\n', before).count();
            (breaks as u32, memchr::memrchr(b'\n', before).map_or(0, |n| n + 1))
        } else {
            break_ends(bytes).take_while(|&end| end <= at - first).fold((0, 0), |(n, _), end| (n + 1, end))
        };
        Some((self.blocks[b].line + breaks, first + start, at))
    }

    /// The block where `line` starts, and where it starts in the block.
    fn line_in_block(&self, line: usize) -> Option<(usize, usize)> {
        let b = self.blocks.partition_point(|block| block.line as usize <= line).checked_sub(1)?;
        let nth = line - self.blocks[b].line as usize;
        if nth == 0 {
            return Some((b, 0));
        }
        break_ends(&self.text.as_bytes()[self.block_at(b)..self.block_at(b + 1)])
            .nth(nth - 1)
            .map(|start| (b, start))
    }

    /// The whole text read again; when it changed, the kept lines at their places with
    /// spaces elsewhere (line feeds where lines broke, so lines keep their numbers).
    fn read_again(&self) -> (Whole, bool) {
        if let Some(text) = self.source.reread().filter(|text| text.len() == self.len as usize) {
            return (Whole::new(Arc::from(text)), false);
        }
        let mut out = String::with_capacity(self.len as usize);
        let mut line = 0;
        for (b, block) in self.blocks.iter().enumerate() {
            let gap = block.start as usize - out.len();
            let breaks = (block.line - line) as usize;
            out.extend(std::iter::repeat_n(' ', gap - breaks.min(gap)));
            out.extend(std::iter::repeat_n('\n', breaks.min(gap)));
            let kept = &self.text[block.at as usize..self.block_at(b + 1)];
            out.push_str(kept);
            line = block.line + break_ends(kept.as_bytes()).count() as u32;
        }
        out.extend(std::iter::repeat_n(' ', self.len as usize - out.len()));
        (Whole::new(Arc::from(out)), true)
    }
}

/// Where each line after the first starts in `bytes` ([`LineIndex`]'s rule: `\r\n`, `\r` or
/// `\n` ends a line).
fn break_ends(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let at = i + memchr::memchr2(b'\n', b'\r', bytes.get(i..)?)?;
        i = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') { at + 2 } else { at + 1 };
        Some(i)
    })
}

/// Where the line holding `offset` starts, `floor` (a line start) at the earliest. A byte loop:
/// the `@` of an annotation is a few bytes into its line, and the caller's floors rise, so
/// no byte is looked at twice.
fn line_start_at(bytes: &[u8], floor: usize, offset: usize) -> usize {
    let mut at = offset;
    while at > floor {
        match bytes[at - 1] {
            b'\n' => return at,
            // The `\r` of a `\r\n` whose `\n` is at `offset` does not end `offset`'s line.
            b'\r' if !(at == offset && bytes.get(at) == Some(&b'\n')) => return at,
            _ => at -= 1,
        }
    }
    floor
}

/// Where the line after the one holding `offset` starts (the text's end for the last line).
fn line_end_at(bytes: &[u8], offset: usize) -> usize {
    let mut at = offset;
    while at < bytes.len() {
        match bytes[at] {
            b'\r' if bytes.get(at + 1) == Some(&b'\n') => return at + 2,
            b'\n' | b'\r' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// Lines breaks in `bytes`, which starts and ends at line starts.
fn count_breaks(bytes: &[u8], has_cr: bool) -> usize {
    if has_cr {
        return break_ends(bytes).count();
    }
    memchr::memchr_iter(b'\n', bytes).count()
}

/// The whole lines of `text` that `ranges` touch (a range's end offset included), merged
/// into blocks: the kept text and its blocks. `None` when a range is outside the text or
/// the file is too large for 32-bit offsets.
fn kept_lines(text: &str, ranges: &mut [TextRange]) -> Option<(String, Vec<Block>)> {
    let bytes = text.as_bytes();
    if u32::try_from(bytes.len()).is_err() || ranges.iter().any(|r| r.end() > bytes.len()) {
        return None;
    }
    ranges.sort_unstable();
    let has_cr = memchr::memchr(b'\r', bytes).is_some();
    // At most one span a range (most ranges are lines of their own).
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for r in ranges.iter() {
        // In order: a range that starts in the last span only extends it (each line is looked
        // at once, however many ranges it holds).
        let floor = match spans.last_mut() {
            Some(last) if r.start() < last.1 => {
                if r.end() >= last.1 {
                    last.1 = line_end_at(bytes, r.end());
                }
                continue;
            }
            last => last.map_or(0, |last| last.1),
        };
        let (start, end) = (line_start_at(bytes, floor, r.start()), line_end_at(bytes, r.end()));
        match spans.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => spans.push((start, end)),
        }
    }
    let mut kept = String::with_capacity(spans.iter().map(|(s, e)| e - s).sum());
    let mut blocks = Vec::with_capacity(spans.len());
    let (mut line, mut counted) = (0, 0);
    for (start, end) in spans {
        line += count_breaks(&bytes[counted..start], has_cr);
        counted = start;
        blocks.push(Block { start: start as u32, at: kept.len() as u32, line: line as u32 });
        kept.push_str(&text[start..end]);
    }
    Some((kept, blocks))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file as scanned, and as it is now (`None`: gone), read again as the walk does.
    struct Source {
        scanned: String,
        now: Option<String>,
    }

    impl Reread for Source {
        fn reread(&self) -> Option<String> {
            self.now.clone().filter(|now| self.is_scanned(now))
        }
        fn is_scanned(&self, text: &str) -> bool {
            self.scanned == text
        }
    }

    fn kept(text: &str, ranges: &[(usize, usize)], now: Option<&str>) -> FileText {
        let mut ranges: Vec<TextRange> = ranges.iter().map(|&(s, e)| TextRange::new(s, e)).collect();
        let source = Source { scanned: text.to_string(), now: now.map(str::to_string) };
        FileText::keep(text, &mut ranges, || Box::new(source))
    }

    /// Every query a kept text answers about the lines of `ranges`, against the whole text's
    /// answers, at every offset of those lines.
    fn agrees(text: &str, ranges: &[(usize, usize)]) {
        let whole = FileText::whole(Arc::from(text));
        let mut kept: Vec<TextRange> = ranges.iter().map(|&(s, e)| TextRange::new(s, e)).collect();
        // A file that changed: any answer read from the rest would be wrong.
        let source = Source { scanned: text.to_string(), now: None };
        let part = FileText::keep_lines(text, &mut kept, || Box::new(source));
        assert!(part.is_partial(), "{text:?} {ranges:?}");
        for &(s, e) in ranges {
            assert_eq!(part.slice(TextRange::new(s, e)), whole.slice(TextRange::new(s, e)));
            let lines = whole.line_of(s)..=whole.line_of(e);
            let (from, to) = (whole.line_start(*lines.start()), whole.line_start(lines.end() + 1));
            for offset in (from..=to).filter(|&at| text.is_char_boundary(at)) {
                for unit in [ColumnUnit::Utf8, ColumnUnit::Char, ColumnUnit::Utf16] {
                    let at = (text, ranges, offset, unit);
                    assert_eq!(part.line_col(offset, unit), whole.line_col(offset, unit), "{at:?}");
                }
            }
            for line in lines {
                let at = (text, ranges, line);
                assert_eq!(part.line_range(line), whole.line_range(line), "{at:?}");
                assert_eq!(part.line_start(line), whole.line_start(line), "{at:?}");
                assert_eq!(part.line_text(line), whole.line_text(line), "{at:?}");
            }
        }
        assert!(!part.is_stale(), "{text:?} {ranges:?}: read again");
    }

    /// Every range of a short text that breaks lines every way, and pairs of them; and of
    /// texts with `\n` breaks only (counted another way).
    #[test]
    fn kept_lines_of_any_ranges() {
        for text in
            ["ab\r\ncd\ré𝄞\n\nx\r\n\r\ny z\nlast", "a\rb\r\n\r\n", "ab\ncd\né𝄞\n\nx\n\ny z\nlast", "a\nb\n\n"]
        {
            let at: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
            let ranges: Vec<(usize, usize)> =
                at.iter().flat_map(|&s| at.iter().filter(move |&&e| e >= s).map(move |&e| (s, e))).collect();
            for &r in &ranges {
                agrees(text, &[r]);
            }
            for (i, &a) in ranges.iter().enumerate().step_by(7) {
                for &b in ranges.iter().skip(i % 5).step_by(3) {
                    agrees(text, &[a, b]);
                }
            }
        }
    }

    #[test]
    fn kept_lines_answer_as_the_whole_text() {
        let long = "x".repeat(200);
        let text = format!("{long}\n// @a b\n{long}\n// @c é\r\n// 𝄞 @d\r{long}\n// @e\n{long}");
        let at = |s: &str| text.find(s).unwrap();
        let ranges = [
            (at("@a"), at("@a") + 5),
            (at("@c"), at("@c") + 5),
            (at("@d"), at("@d") + 2),
            (at("@e"), at("@e") + 2),
        ];
        agrees(&text, &ranges);
        // The last line, without a terminator, and an empty range at the text's end.
        let end = format!("{long}\n{long}\n// @z");
        agrees(&end, &[(end.len() - 2, end.len()), (end.len(), end.len())]);
        let ends = format!("{long}\n// @z\n");
        agrees(&ends, &[(ends.len() - 3, ends.len() - 1)]);
        assert!(kept(&ends, &[(ends.len() - 3, ends.len() - 1)], None).ends_with('\n'));
    }

    #[test]
    fn the_rest_is_read_again_and_checked() {
        let text = format!("{}\n// @a\n{}\n", "x".repeat(100), "y".repeat(100));
        let at = text.find("@a").unwrap();
        let part = kept(&text, &[(at, at + 2)], Some(&text));
        assert_eq!(part.line_text(0), "x".repeat(100));
        assert_eq!(part.all(), text);
        assert!(!part.is_stale());
        assert!(part.is(&text));

        // Changed since: blanks in place of what was not kept, lines where they were; said.
        let changed = text.replace('y', "z");
        let part = kept(&text, &[(at, at + 2)], Some(&changed));
        assert_eq!(part.line_text(0), " ".repeat(100));
        assert_eq!(part.line_text(1), "// @a");
        assert_eq!(part.line_of(at), 1);
        assert_eq!(part.all().len(), text.len());
        assert!(part.is_stale());
        assert!(part.is(&text) && !part.is(&changed));
    }

    /// A whole text's line starts are made when first asked for, not with the text.
    #[test]
    fn line_index_on_first_use() {
        let text = FileText::whole(Arc::from("x = 1\n# @threat T\n"));
        let Repr::Whole(whole) = &text.0 else { unreachable!() };
        assert!(whole.lines.get().is_none());
        assert_eq!(text.line_index().line_count(), 3);
    }

    #[test]
    fn little_to_leave_out_keeps_the_whole_text() {
        let text = "// @a\n// @b\ncode\n";
        assert!(!kept(text, &[(3, 5), (9, 11)], None).is_partial());
        assert_eq!(kept(text, &[(3, 5), (9, 11)], None).all(), text);
    }
}
