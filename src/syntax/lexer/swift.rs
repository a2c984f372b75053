//! Fast comment scanner for Swift, modelled on tree-sitter-swift 0.7: `//` line comments,
//! `/* */` block comments nested as the grammar's external scanner nests them, `"` strings and
//! `"""` strings with `\(...)` interpolations scanned as code (comments in them are comments),
//! and backtick identifiers.
//!
//! Owns: the Swift half of [`super::comment_ranges`].
//!
//! Must never: guess. It declines (returns `None`) on a `/` that opens no comment (a division,
//! or a regex literal: the grammar tells them apart by context), a `#` anywhere but `#` and a
//! letter (a raw string `#"`, an extended delimiter `##`, an extended regex `#/`) or a
//! first-line shebang (one holding a carriage return outside a CRLF too), a `'` outside a string or comment (no Swift token), a `//` or `/*` right
//! after an operator character (the grammar's external scanner reads a custom operator such as
//! `+/*` there), a line break in a `"` string or in its interpolation, an escape the grammar
//! does not read (`\x`), a run of four or more quotes, an unterminated string, interpolation,
//! block comment or backtick identifier, a backtick identifier holding `//` or `/*`, a
//! character outside printable ASCII in code (Unicode operators, identifiers and spaces are
//! read by context), and an ASCII control character other than tab and line breaks anywhere.

use super::{is_ident, nested_block_comment_end, utf8_len};

/// Comment byte ranges of a Swift text, or `None` to leave it to tree-sitter.
pub(super) fn comment_ranges(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    if bytes.iter().any(|&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f) {
        return None;
    }
    let mut out = Vec::new();
    // `#!...` on the first line is the grammar's shebang, no comment.
    let start = if bytes.starts_with(b"#!") {
        let end = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |p| p + 1);
        // tree-sitter-swift ends the shebang at a carriage return too (`#!x\r// c` holds a
        // comment): a `\r` other than a CRLF's there is left to it.
        if memchr::memchr(b'\r', &bytes[..end]).is_some_and(|p| bytes.get(p + 1) != Some(&b'\n')) {
            return None;
        }
        end
    } else {
        0
    };
    code(bytes, start, Nesting::File, &mut out)?;
    Some(out)
}

/// Where a stretch of code ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Nesting {
    /// At the end of the text.
    File,
    /// At the `)` that closes a `\(` in a `"` string (a line break declines).
    LineInterpolation,
    /// At the `)` that closes a `\(` in a `"""` string.
    Interpolation,
}

/// Scans code from `i` to the end of the text, or (in an interpolation) to just after the `)`
/// that closes it; pushes the comments it passes. `None` when it declines.
fn code(bytes: &[u8], mut i: usize, nesting: Nesting, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    let mut depth = 0usize;
    // The byte before `i`: only an operator character there matters, so a comment's end
    // sets it to a space (`/* a *//* b */` is two comments).
    let mut previous = b' ';
    while i < bytes.len() {
        let b = bytes[i];
        let before = std::mem::replace(&mut previous, b);
        match b {
            b'\n' | b'\r' if nesting == Nesting::LineInterpolation => return None,
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' if matches!(bytes.get(i + 1), Some(b'/' | b'*')) => {
                if is_operator(before) {
                    return None;
                }
                let end = if bytes[i + 1] == b'/' {
                    memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |p| i + p)
                } else {
                    nested_block_comment_end(bytes, i)?
                };
                if nesting == Nesting::LineInterpolation
                    && memchr::memchr2(b'\n', b'\r', &bytes[i..end]).is_some()
                {
                    return None;
                }
                out.push((i, end));
                i = end;
                previous = b' ';
            }
            b'/' | b'\'' | 0x80.. => return None,
            b'#' if bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic) => i += 1,
            b'#' => return None,
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                if nesting == Nesting::LineInterpolation {
                    return None;
                }
                i = multiline_string_end(bytes, i, out)?;
            }
            b'"' => i = string_end(bytes, i, out)?,
            b'`' => {
                let close = bytes[i + 1..].iter().position(|&b| matches!(b, b'`' | b'\n' | b'\r'))?;
                let name = &bytes[i + 1..i + 1 + close];
                if close == 0
                    || bytes[i + 1 + close] != b'`'
                    || name.windows(2).any(|w| matches!(w, [b'/', b'/' | b'*']))
                {
                    return None;
                }
                i += close + 2;
            }
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                i += 1;
                if depth == 0 && nesting != Nesting::File {
                    return Some(i);
                }
                depth = depth.saturating_sub(1);
            }
            c if is_ident(c) => {
                while i < bytes.len() && bytes[i] < 0x80 && is_ident(bytes[i]) {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    (nesting == Nesting::File).then_some(i)
}

/// The ASCII characters a Swift operator is made of (a `//` or `/*` right after one may be
/// read as part of a custom operator).
fn is_operator(b: u8) -> bool {
    matches!(
        b,
        b'/' | b'='
            | b'-'
            | b'+'
            | b'!'
            | b'*'
            | b'%'
            | b'<'
            | b'>'
            | b'&'
            | b'|'
            | b'^'
            | b'~'
            | b'?'
            | b'.'
    )
}

/// After a backslash at `at` in a string: where the string's scan resumes (past the `)` of a
/// `\(...)`, whose code may hold comments), or `None` for an escape the grammar does not read.
fn escape(bytes: &[u8], at: usize, nesting: Nesting, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    match *bytes.get(at + 1)? {
        b'(' => code(bytes, at + 2, nesting, out),
        b'0' | b'\\' | b't' | b'n' | b'r' | b'"' | b'\'' => Some(at + 2),
        b'u' => {
            let digits = bytes[at + 2..].strip_prefix(b"{")?;
            let count = digits.iter().take_while(|b| b.is_ascii_hexdigit()).count();
            (count > 0 && digits.get(count) == Some(&b'}')).then_some(at + 3 + count + 1)
        }
        _ => None,
    }
}

/// End of the `"` string opening at `open`. A line break declines: the grammar reads one as
/// content, the compiler rejects it.
fn string_end(bytes: &[u8], open: usize, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    let mut i = open + 1;
    loop {
        match *bytes.get(i)? {
            b'\n' | b'\r' => return None,
            b'\\' => i = escape(bytes, i, Nesting::LineInterpolation, out)?,
            b'"' => return Some(i + 1),
            c => i += utf8_len(c),
        }
    }
}

/// End of the `"""` string opening at `open`: it closes at the first `"""` (a run of four or
/// more quotes is declined: the grammar and the compiler may split it differently).
fn multiline_string_end(bytes: &[u8], open: usize, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    let mut i = open + 3;
    loop {
        match *bytes.get(i)? {
            b'"' => {
                let run = bytes[i..].iter().take_while(|&&b| b == b'"').count();
                match run {
                    1 | 2 => i += run,
                    3 => return Some(i + 3),
                    _ => return None,
                }
            }
            // A backslash before a line break continues the line.
            b'\\' if matches!(bytes.get(i + 1), Some(b'\n' | b'\r')) => return None,
            b'\\' => i = escape(bytes, i, Nesting::Interpolation, out)?,
            c => i += utf8_len(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str) -> Option<Vec<&str>> {
        super::super::slices(text, comment_ranges(text.as_bytes()))
    }

    #[test]
    fn comments_strings_and_interpolations() {
        let text = "#!/usr/bin/env swift\n// a\nlet s = \"// no \\\" /* no \\(f(\")\") /* in */)\" // yes\nlet t = \"\"\"\n// no \"\" \\( g(x) // c2\n)\n\"\"\" /* b */\nlet `odd name` = \"\\u{41}\" // c\n#if DEBUG // d\n#endif\n";
        assert_eq!(
            comments(text).unwrap(),
            ["// a", "/* in */", "// yes", "// c2", "/* b */", "// c", "// d"]
        );
    }

    #[test]
    fn block_comments_nest() {
        assert_eq!(
            comments("/* a /* b */ c */ x /**/ /* //* */ */ y/* z */").unwrap(),
            ["/* a /* b */ c */", "/**/", "/* //* */ */", "/* z */"]
        );
    }

    #[test]
    fn declines_what_it_cannot_decide() {
        for text in [
            "let s = \"open",
            "let s = \"\\(open\"",
            "/* open /* nested */",
            "let x = a / b",
            "let r = /[a-z]+/",
            "let r = #/x/#",
            "let r = #\"raw\"#",
            "let c = 'a'",
            "let s = \"\\x41\"",
            "let s = \"a\nb\"",
            "let s = \"\\(a\n)\"",
            "let s = \"\"\"\na\"\"\"\"",
            "let `open = 1",
            "let `odd // name` = 1",
            "x = a +/* c */ b",
            "x = a!// c",
            "let é = 1",
            "let s = \"\x13\" // c",
            "#!x\n#!y",
        ] {
            assert_eq!(comments(text), None, "{text:?}");
        }
    }
}
