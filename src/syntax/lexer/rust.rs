//! Fast comment scanner for Rust, modelled on tree-sitter-rust 0.24: `//` line comments (a
//! `///` or `//!` doc comment takes its line break, a `////` does not), block comments nested
//! exactly as the grammar's external scanner nests them, `"` strings with escapes (also `b"`
//! and `c"`), raw strings `r#"..."#` (also `br` and `cr`), and character literals told from
//! lifetimes and labels (`'a'` is a character, `'a` a lifetime).
//!
//! Owns: the Rust half of [`super::comment_ranges`].
//!
//! Must never: guess. It declines (returns `None`) on a first line `#!` that is no inner
//! attribute `#![` (the grammar's shebang), an unterminated string, raw string or block
//! comment, a raw string with more than 255 `#` (the grammar counts them in a byte), a `'\`
//! that does not form a character literal, and a block comment holding a character whose
//! code point's low byte is `*` or `/` (the grammar's scanner compares code points truncated
//! to a byte: `Ī`, U+012A, counts as `*`); tree-sitter reads those files.

use super::{is_ident, utf8_len};

/// Comment byte ranges of a Rust text, or `None` to leave it to tree-sitter.
pub(super) fn comment_ranges(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    if bytes.starts_with(b"#!") && bytes.get(2) != Some(&b'[') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let newline = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |p| i + p);
                // `///x` and `//!x` are doc comments, whose content takes the line break;
                // `////` is an ordinary comment again.
                let doc = match bytes.get(i + 2) {
                    Some(b'!') => true,
                    Some(b'/') => bytes.get(i + 3) != Some(&b'/'),
                    _ => false,
                };
                let end = if doc { (newline + 1).min(bytes.len()) } else { newline };
                out.push((i, end));
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = block_comment_end(bytes, i)?;
                out.push((i, end));
                i = end;
            }
            b'"' => i = string_end(bytes, i)?,
            b'\'' => i = quote_end(bytes, i)?,
            c if is_ident(c) => {
                let start = i;
                while i < bytes.len() && is_ident(bytes[i]) {
                    i += 1;
                }
                if matches!(&bytes[start..i], b"r" | b"br" | b"cr")
                    && let Some(end) = raw_string_end(bytes, i)?
                {
                    i = end;
                }
            }
            _ => i += 1,
        }
    }
    Some(out)
}

/// End of the `"` string opening at `open`: a backslash escapes the next character, line
/// breaks are content. `None` when it never closes.
fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        match *bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// After a raw-string prefix ending at `at` (`r`, `br`, `cr`): `Some(Some(end))` for the raw
/// string `#...#"..."#...#` there, `Some(None)` when none opens (a raw identifier `r#name`, or
/// the word alone), `None` when one opens but never closes or has more `#` than the grammar
/// counts.
fn raw_string_end(bytes: &[u8], at: usize) -> Option<Option<usize>> {
    let hashes = bytes[at..].iter().take_while(|&&b| b == b'#').count();
    if bytes.get(at + hashes) != Some(&b'"') {
        return Some(None);
    }
    if hashes > usize::from(u8::MAX) {
        return None;
    }
    let body = at + hashes + 1;
    let mut from = body;
    loop {
        let quote = from + memchr::memchr(b'"', &bytes[from..])?;
        let closing = bytes[quote + 1..].iter().take(hashes).take_while(|&&b| b == b'#').count();
        if closing == hashes {
            return Some(Some(quote + 1 + hashes));
        }
        from = quote + 1;
    }
}

/// End of what a `'` at `open` starts: a character literal (`'a'`, `'\n'`, `'\u{1F600}'`, `''`)
/// or just the quote of a lifetime or label (`'a`), which is scanned on as a word. `None` for
/// a `'\` that forms no character literal.
fn quote_end(bytes: &[u8], open: usize) -> Option<usize> {
    let Some(&next) = bytes.get(open + 1) else { return Some(open + 1) };
    let close = match next {
        b'\'' => return Some(open + 2),
        b'\\' => escape_end(bytes, open + 1)?,
        // One character (of however many UTF-8 bytes) then the closing quote.
        c => open + 1 + utf8_len(c),
    };
    if bytes.get(close) == Some(&b'\'') {
        Some(close + 1)
    } else if next == b'\\' {
        None
    } else {
        Some(open + 1)
    }
}

/// End of the character escape whose backslash is at `i` (the grammar's `\[^xu]`, `\xHH`,
/// `\uHHHH`, `\u{H...}`); `None` when it is none of them.
fn escape_end(bytes: &[u8], i: usize) -> Option<usize> {
    let hex = |from: usize, n: usize| {
        bytes.get(from..from + n).is_some_and(|d| d.iter().all(u8::is_ascii_hexdigit))
    };
    match *bytes.get(i + 1)? {
        b'x' => hex(i + 2, 2).then_some(i + 4),
        b'u' if bytes.get(i + 2) == Some(&b'{') => {
            let digits = bytes[i + 3..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
            (digits > 0 && bytes.get(i + 3 + digits) == Some(&b'}')).then_some(i + 4 + digits)
        }
        b'u' => hex(i + 2, 4).then_some(i + 6),
        c => Some(i + 1 + utf8_len(c)),
    }
}

/// The grammar's block-comment scanner, state for state: where it stands after the last
/// character it compared.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Slash,
    Star,
    Continuing,
}

/// End of the block comment opening with the `/*` at `open`, as tree-sitter-rust's external
/// scanner finds it: a `/` then `*` opens a nested comment unless that `/` followed another
/// `/` (`//*` does not nest), and a `*` then `/` closes one. `None` when it never closes, or
/// when a character that is no ASCII `*` or `/` would act as one (see the module docs).
fn block_comment_end(bytes: &[u8], open: usize) -> Option<usize> {
    // `/**/` is empty; `/**x` and `/*!` are doc comments whose content starts after the
    // marker; otherwise the content starts right after `/*`.
    let content = match (bytes.get(open + 2), bytes.get(open + 3)) {
        (Some(b'*'), Some(b'/')) => return Some(open + 4),
        (Some(b'*'), Some(b'*')) => open + 2,
        (Some(b'*' | b'!'), _) => open + 3,
        _ => open + 2,
    };
    let mut state = Block::Continuing;
    let mut depth = 1usize;
    let mut i = content;
    while i < bytes.len() {
        let lead = bytes[i];
        let c = if lead < 0x80 {
            lead
        } else {
            let len = utf8_len(lead);
            // The code point's low byte: its last UTF-8 byte's six bits and two of the one before.
            let last = bytes[i + len - 1] & 0x3f;
            let low = last | ((bytes[i + len - 2] & 0x03) << 6);
            if matches!(low, b'*' | b'/') {
                return None;
            }
            i += len;
            state = Block::Continuing;
            continue;
        };
        i += 1;
        state = match (state, c) {
            (Block::Slash, b'*') => {
                depth += 1;
                Block::Continuing
            }
            (Block::Star, b'/') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
                Block::Continuing
            }
            (Block::Star, b'*') | (Block::Continuing, b'*') => Block::Star,
            (Block::Continuing, b'/') => Block::Slash,
            _ => Block::Continuing,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str) -> Option<Vec<&str>> {
        super::super::slices(text, comment_ranges(text.as_bytes()))
    }

    #[test]
    fn comments_strings_and_characters() {
        let text = "#![allow(x)]\n/// doc\n//! inner\r\n//// plain\n// a\r b\nfn f<'a>(x: &'a str) -> char {\n    let s = \"// no \\\" /* no\";\n    let r = r#\"// \"no\" \"#; // yes\n    let c = '\"'; let d = '\\''; let e = b'/'; let u = '\\u{1F600}'; /* b */\n    'outer: loop { break 'outer; } // c\n}\n///";
        assert_eq!(
            comments(text).unwrap(),
            ["/// doc\n", "//! inner\r\n", "//// plain", "// a\r b", "// yes", "/* b */", "// c", "///"]
        );
    }

    #[test]
    fn block_comments_nest_as_the_grammar_nests_them() {
        assert_eq!(comments("/* a /* b */ c */ x").unwrap(), ["/* a /* b */ c */"]);
        assert_eq!(
            comments("/* //* */ x /**/ /***/ /*!*/ /** d */").unwrap(),
            ["/* //* */", "/**/", "/***/", "/*!*/", "/** d */"]
        );
        assert_eq!(comments("/*/*/ */"), None);
    }

    #[test]
    fn declines_what_it_cannot_decide() {
        for text in [
            "#!/usr/bin/env run\nfn f() {}",
            "let s = \"open",
            "let r = r##\"open\"#;",
            "/* open /* nested */",
            "/* \u{12a}/ */",
            "let c = '\\q0';",
        ] {
            assert_eq!(comments(text), None, "{text:?}");
        }
    }
}
