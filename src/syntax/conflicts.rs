//! Merge-conflict markers: git's `<<<<<<<`, `|||||||` (diff3), `=======` and `>>>>>>>` lines
//! left in a file by an unresolved merge.
//!
//! Owns: recognising the blocks such markers delimit, and the `conflict-marker` note at each
//! block's `<<<<<<<` line. A marker is exactly seven of its character at the start of a line,
//! followed by a space or tab (a label) or the end of the line (`=======` takes no label):
//! eight `<` or a `<<<<<<<x` are not markers.
//!
//! The markers are not host code, so the grammar sees broken code there; the comments on both
//! sides are still read (see [`super::comments`], "Broken host code"), and the note says why
//! the model may then hold both versions of an annotation.
//!
//! Must never: change or skip any line (both sides are read), or do I/O.

use super::SyntaxError;
use crate::diagnostic::Code;
use crate::text::TextRange;

/// The marker every block opens with.
const OPEN: &[u8] = b"<<<<<<<";

/// One `conflict-marker` note per conflict block of `text`, at its `<<<<<<<` line.
pub fn conflict_notes(text: &str) -> Vec<SyntaxError> {
    let bytes = text.as_bytes();
    let mut notes = Vec::new();
    // One searcher for the process: `memmem::find` built one on every call (~370 instructions,
    // a fifth of this scan of an annotated file of a few KB).
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(OPEN));
    let mut from = 0;
    while let Some(found) = FINDER.find(&bytes[from..]) {
        let at = from + found;
        from = at + OPEN.len();
        if !is_marker_line(bytes, at, b'<') {
            continue;
        }
        let open_line = line_number(bytes, at);
        let open_end = line_end(bytes, at);
        // The block ends at the next `>>>>>>>` line; a later `<<<<<<<` starts the next block.
        let mut close = None;
        let mut line = next_line(bytes, open_end);
        while line < bytes.len() {
            if is_marker_line(bytes, line, b'>') {
                close = Some(line);
                break;
            }
            if is_marker_line(bytes, line, b'<') {
                break;
            }
            line = next_line(bytes, line_end(bytes, line));
        }
        let message = match close {
            Some(close) => format!(
                "unresolved merge conflict (lines {}-{}): the annotations on both sides are read, \
                 so the threat model may hold both versions until the conflict is resolved",
                open_line + 1,
                line_number(bytes, close) + 1
            ),
            None => format!(
                "unresolved merge conflict from line {} with no closing `>>>>>>>` line: the \
                 annotations on both sides are read, so the threat model may hold both versions \
                 until the conflict is resolved",
                open_line + 1
            ),
        };
        notes.push(SyntaxError {
            code: Code::ConflictMarker,
            range: TextRange::new(at, open_end),
            message,
            fix: None,
        });
        if let Some(close) = close {
            from = from.max(close);
        }
    }
    notes
}

/// Whether a conflict marker of `mark` (`<`, `|`, `=` or `>`) starts the line at `at`.
fn is_marker_line(bytes: &[u8], at: usize, mark: u8) -> bool {
    let at_line_start = at == 0 || matches!(bytes[at - 1], b'\n' | b'\r');
    let run = bytes[at..].iter().take(8).take_while(|&&b| b == mark).count();
    let after = bytes.get(at + 7).copied();
    let label_ok = match mark {
        b'=' => matches!(after, None | Some(b'\n' | b'\r' | b' ' | b'\t')),
        _ => matches!(after, None | Some(b'\n' | b'\r' | b' ' | b'\t')),
    };
    at_line_start && run == 7 && label_ok
}

fn line_end(bytes: &[u8], at: usize) -> usize {
    memchr::memchr2(b'\n', b'\r', &bytes[at..]).map_or(bytes.len(), |p| at + p)
}

fn next_line(bytes: &[u8], line_end: usize) -> usize {
    match bytes.get(line_end) {
        Some(b'\r') if bytes.get(line_end + 1) == Some(&b'\n') => line_end + 2,
        Some(_) => line_end + 1,
        None => bytes.len(),
    }
}

/// 0-based line of byte `at` (`\n`, `\r\n` or a lone `\r` end a line).
fn line_number(bytes: &[u8], at: usize) -> usize {
    let before = &bytes[..at];
    let lf = memchr::memchr_iter(b'\n', before).count();
    let lone_cr = memchr::memchr_iter(b'\r', before).filter(|&i| before.get(i + 1) != Some(&b'\n')).count();
    lf + lone_cr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_note_per_block_at_its_opening_line() {
        let text = "a\n<<<<<<< HEAD\n# x\n||||||| base\n=======\n# y\n>>>>>>> 129f425\n<<<<<<<\nz\n";
        let notes = conflict_notes(text);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert_eq!(notes[0].range.slice(text), "<<<<<<< HEAD");
        assert!(notes[0].message.contains("lines 2-7"), "{}", notes[0].message);
        assert_eq!(notes[1].range.slice(text), "<<<<<<<");
        assert!(notes[1].message.contains("no closing"), "{}", notes[1].message);
    }

    #[test]
    fn only_seven_characters_at_line_start_are_markers() {
        for text in ["<<<<<<<< eight\n", " <<<<<<< indented\n", "x <<<<<<< HEAD\n", "<<<<<<<x\n"] {
            assert!(conflict_notes(text).is_empty(), "{text:?}");
        }
        assert_eq!(conflict_notes("<<<<<<< a\r\n=======\r\n>>>>>>> b").len(), 1);
    }
}
