//! Fast comment scanner for Kotlin, modelled on tree-sitter-kotlin-ng 1.1: `//` line comments,
//! `/* */` block comments (one holding a nested `/*` is declined: see below), `"` strings
//! and `"""` strings with `${...}` interpolations
//! scanned as code (comments in them are comments), character literals and backtick
//! identifiers.
//!
//! Owns: the Kotlin half of [`super::comment_ranges`].
//!
//! Must never: guess. It declines (returns `None`) on a line break in a `"` string (Kotlin
//! allows none; the grammar reads one differently by context), an unterminated string, interpolation,
//! block comment or backtick identifier, a backtick identifier holding `//` or `/*` (read as a
//! comment where the grammar expects no name), a `'` that forms no character literal the grammar
//! reads, a `"""` string closed by more than four quotes, a `$` before a backtick or a
//! non-ASCII character in code or in a string (the grammar's identifier and its scanner's `iswalpha`
//! part ways there), a `#` anywhere but a first-line shebang, an ASCII control character
//! other than whitespace (the grammar silently stops reading there), and a `/*` right after a lone
//! `i`, a `!` or a `?` (the grammar's external scanner has already consumed those looking for
//! `in`, `!is` or `?.` when it finds the comment, and reads them as part of it), and a block
//! comment holding a nested `/*` (the grammar nests it, but where tree-sitter silently stops
//! reading, the rest of the text is read as its error recovery reads it, which does not nest).

use super::{is_ident, nested_block_comment_end, utf8_len};

/// Comment byte ranges of a Kotlin text, or `None` to leave it to tree-sitter.
pub(super) fn comment_ranges(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    // `a\x0f/* c */`: after a control character, in code or in a string, the grammar reads
    // no further (no error, no comment: found by the `comments` fuzz target).
    if bytes.iter().any(|&b| stops_the_grammar(b)) {
        return None;
    }
    let mut out = Vec::new();
    // `#!...` on the first line is the grammar's shebang, no comment.
    let start = if bytes.starts_with(b"#!") {
        memchr::memchr(b'\n', bytes).map_or(bytes.len(), |p| p + 1)
    } else {
        0
    };
    code(bytes, start, false, &mut out)?;
    Some(out)
}

/// An ASCII control character other than whitespace, where tree-sitter-kotlin-ng reads no
/// further (no error, no comment after it) and its error recovery can then take seconds.
pub(crate) fn stops_the_grammar(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)) || b == 0x7f
}

/// Scans code from `i` to the end of the text, or (`interpolation`) to just after the `}`
/// that closes a `${`; pushes the comments it passes. `None` when it declines.
fn code(bytes: &[u8], mut i: usize, interpolation: bool, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    let mut depth = 0usize;
    // The last code before `i` is a `?`, with only whitespace after it (the scanner's
    // `iswspace`: a vertical tab, and perhaps a non-ASCII space, count too).
    let mut after_question = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() || b == b'\x0b' || (after_question && b >= 0x80) {
            i += 1;
            continue;
        }
        let question = std::mem::replace(&mut after_question, b == b'?');
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |p| i + p);
                out.push((i, end));
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                if question || consumed_before_comment(bytes, i) {
                    return None;
                }
                let end = nested_block_comment_end(bytes, i)?;
                // Where tree-sitter-kotlin-ng silently stops reading (`a 0 /* x */`, a backslash
                // in code), the text after it is re-scanned as its error recovery reads it,
                // ending a block comment at its first `*/`: a nested comment is read there
                // otherwise than the grammar nests it (found by the `comments` fuzz target on
                // `J`, a backslash, `u{(/*u{(/**/*///**`). Nested comments are rare: tree-sitter
                // decides them.
                if bytes[i + 2..end].windows(2).any(|w| w == b"/*") {
                    return None;
                }
                out.push((i, end));
                i = end;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => i = multiline_string_end(bytes, i, out)?,
            b'"' => i = string_end(bytes, i, out)?,
            b'\'' => i = character_end(bytes, i)?,
            b'`' => {
                let close = bytes[i + 1..].iter().position(|&b| matches!(b, b'`' | b'\n' | b'\r'))?;
                if close == 0 || bytes[i + 1 + close] != b'`' {
                    return None;
                }
                // Where the grammar does not expect a name, tree-sitter reads a `/*` or `//`
                // inside the backticks as a comment (found by the `comments` fuzz target).
                let name = &bytes[i + 1..i + 1 + close];
                if name.windows(2).any(|w| matches!(w, [b'/', b'/' | b'*'])) {
                    return None;
                }
                i += close + 2;
            }
            b'#' => return None,
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                i += 1;
                if depth == 0 && interpolation {
                    return Some(i);
                }
                depth = depth.saturating_sub(1);
            }
            // `e/1\u{2066}z/*/`: a character the grammar has no token for puts it in error
            // recovery, where a block comment ends at its first `*/`, nesting or not (found by the
            // `comments` fuzz target); letters too, rather than guess its identifier class.
            c if c >= 0x80 => return None,
            c if is_ident(c) => {
                while i < bytes.len() && is_ident(bytes[i]) {
                    if bytes[i] >= 0x80 {
                        return None;
                    }
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    (!interpolation).then_some(i)
}

/// Whether the grammar's external scanner, on its way to the `/*` at `at`, has consumed a
/// character it then reads as the start of the comment: a `!` (looking for `!is`) or an
/// identifier `i` (looking for `in`) right before it. (A `?` and whitespace, looking for `?.`,
/// is the caller's to see: only it knows whether the `?` is code.)
fn consumed_before_comment(bytes: &[u8], at: usize) -> bool {
    match &bytes[..at] {
        [.., b'!'] => true,
        [.., c, b'i'] => !is_ident(*c),
        [b'i'] => true,
        _ => false,
    }
}

/// After a `$` at `dollar` in a string: where the string's scan resumes (past the `}` of a
/// `${...}`, whose code may hold comments), or `None` to decline.
fn dollar(bytes: &[u8], dollar: usize, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    match bytes.get(dollar + 1) {
        Some(b'{') => code(bytes, dollar + 2, true, out),
        Some(b'`') => None,
        Some(&c) if c >= 0x80 => None,
        _ => Some(dollar + 1),
    }
}

/// End of the `"` string opening at `open`: a backslash escapes the next character, `${`
/// opens an interpolation. A line break declines: the grammar reads one as content only in
/// some places (after another expression on the line, `"s" "\n/* c */"`, its scanner finds
/// the comment: found by the `comments` fuzz target), and Kotlin allows none there.
fn string_end(bytes: &[u8], open: usize, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    let mut i = open + 1;
    loop {
        match *bytes.get(i)? {
            b'\n' | b'\r' => return None,
            b'\\' if matches!(bytes.get(i + 1), Some(b'\n' | b'\r')) => return None,
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            b'$' => i = dollar(bytes, i, out)?,
            _ => i += 1,
        }
    }
}

/// End of the `"""` string opening at `open`: no escapes; it closes at the first run of three
/// or four quotes (a longer run the grammar reads differently from the compiler: declined).
fn multiline_string_end(bytes: &[u8], open: usize, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    let mut i = open + 3;
    loop {
        match *bytes.get(i)? {
            b'"' => {
                let run = bytes[i..].iter().take_while(|&&b| b == b'"').count();
                match run {
                    1 | 2 => i += run,
                    3 | 4 => return Some(i + run),
                    _ => return None,
                }
            }
            b'$' => i = dollar(bytes, i, out)?,
            _ => i += 1,
        }
    }
}

/// End of the character literal opening at `open`: one character other than a quote,
/// backslash or line break, or an escape (`\` and one character other than `x`, `u` and
/// octal digits, or `\u` and four hex digits), then `'`. `None` for anything else.
fn character_end(bytes: &[u8], open: usize) -> Option<usize> {
    let close = match *bytes.get(open + 1)? {
        b'\'' | b'\r' | b'\n' => return None,
        b'\\' => match *bytes.get(open + 2)? {
            b'u' => {
                let digits = bytes.get(open + 3..open + 7)?;
                if !digits.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                open + 7
            }
            b'x' | b'0'..=b'7' => return None,
            c => open + 2 + utf8_len(c),
        },
        c => open + 1 + utf8_len(c),
    };
    (bytes.get(close) == Some(&b'\'')).then_some(close + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str) -> Option<Vec<&str>> {
        super::super::slices(text, comment_ranges(text.as_bytes()))
    }

    #[test]
    fn comments_strings_and_characters() {
        let text = "#!/usr/bin/env kotlin\n// a\nval s = \"// no \\\" /* no $x ${f(\"}\") /* in */}\" // yes\nval t = \"\"\"\n// no \"\" ${ '}' }\"\"\"\" /* b */\nval c = '\"'; val d = '\\''; val `odd name` = '\\u0041' // c\n";
        assert_eq!(comments(text).unwrap(), ["// a", "/* in */", "// yes", "/* b */", "// c"]);
    }

    #[test]
    fn block_comments_and_question_marks() {
        assert_eq!(
            comments("a // why?\n/* b */ x?.y // c\nfor (ii/* d */ in l) {}").unwrap(),
            ["// why?", "/* b */", "// c", "/* d */"]
        );
        assert_eq!(
            comments("/* a */ x /**/ /***/ /*/ b */ y").unwrap(),
            ["/* a */", "/**/", "/***/", "/*/ b */"]
        );
    }

    #[test]
    fn declines_what_it_cannot_decide() {
        for text in [
            "val s = \"open",
            "val s = \"${open\"",
            "/* open /* nested */",
            "/* a /* b */ c */",
            "x /* //* */ */",
            "J\\u{(/*u{(/**/*///**",
            "a 0 /*a/*b*/c*/ // d",
            "val c = '\\x41'",
            "val c = ''",
            "val s = \"\"\"a\"\"\"\"\"",
            "val s = \"$`x`\"",
            "val `open = 1",
            "val `odd // name` = 1",
            "x: `a-/**b` c",
            "#[x]",
            "@file:A\x0f/* c */",
            "val s = \"\x13\" // c",
            "x = \"s\" \"\n/* a */\"",
            "val s = \"a\\\n/* b */\"",
            "x = !/* c */y",
            "a ? /* c */ .b",
            "a ?/* c */.b",
            "a ?\x0b/* c */.b",
            "for (i/* c */in x) {}",
        ] {
            assert_eq!(comments(text), None, "{text:?}");
        }
    }
}
