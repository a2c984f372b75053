//! Fast comment scanner for Scala 2 and 3, modelled on tree-sitter-scala 0.26: `//` line
//! comments, `/* */` block comments nested as the grammar's external scanner nests them, `"`
//! and `"""` strings, interpolated strings (`s"..."`, `f"""..."""`, `raw"..."`, any
//! identifier right before the quote) whose `${...}` blocks are scanned as code (comments in
//! them are comments), character literals, quotes and symbols (`'a'`, `'{`, `'sym`) and
//! backquoted identifiers.
//!
//! Owns: the Scala half of [`super::comment_ranges`].
//!
//! Must never: guess. It declines (returns `None`) on an unterminated string, interpolation,
//! block comment or backquoted identifier; a line break in a `"` string or in its
//! interpolation; a `$` in an interpolated string before anything but `$`, `"`, `{` or an ASCII
//! letter or `_`; a keyword right before a quote (`yield"a"`: a string or an interpolation by
//! context), a quote right after a backquoted name, a quoted name (`'sym"a"`) or an operator
//! that a `_` joins to a name (`x_+"a"`); a `'` that opens neither a character literal the grammar reads nor a quote
//! of a name, block or type (`''`, `'\x'`, `' /`); a backquoted identifier holding `//` or `/*`;
//! a `<` before a letter, `_`, `!`, `?` or a non-ASCII character (a Scala 2 XML literal, whose
//! text holds no comments, may start there); `_//` and `_/*` (the grammar reads `x_/` as a
//! name); a `//>` (a Scala CLI `using` directive); a `#!` (a script header, a comment node
//! that may run over several lines); a block comment that starts its line and is followed on
//! that line by a blank or a `/` (the grammar's layout scanner then ends the comment token
//! after the blanks, or takes a following comment into it); a character outside ASCII in code
//! (Unicode operators, letters and spaces are read by context); and any ASCII control
//! character other than tab and line feed, or a carriage return outside a CRLF.

use super::nested_block_comment_end;

/// Comment byte ranges of a Scala text, or `None` to leave it to tree-sitter.
pub(super) fn comment_ranges(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    let controls = bytes.iter().enumerate().any(|(i, &b)| {
        (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
            || b == 0x7f
            || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
    });
    if controls {
        return None;
    }
    let mut out = Vec::new();
    code(bytes, 0, Nesting::File, &mut out)?;
    Some(out)
}

/// Where a stretch of code ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Nesting {
    /// At the end of the text.
    File,
    /// At the `}` that closes a `${` in a `"` string (a line break declines).
    LineInterpolation,
    /// At the `}` that closes a `${` in a `"""` string.
    Interpolation,
}

/// How a string's body reads `$` and `\`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `"..."`: `\` escapes, `$` is text.
    Simple,
    /// `id"..."`: `\` escapes, `$` interpolates.
    Interpolated,
    /// `raw"..."`: `\` escapes only `"` and `\`, `$` interpolates.
    Raw,
}

/// An ASCII letter, digit, `_` or `$`: the characters of a Scala name or number.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// The ASCII operator characters (SLS 1.1 opchar), `/` included.
fn is_operator(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'#'
            | b'%'
            | b'&'
            | b'*'
            | b'+'
            | b'-'
            | b'/'
            | b':'
            | b'<'
            | b'='
            | b'>'
            | b'?'
            | b'@'
            | b'\\'
            | b'^'
            | b'|'
            | b'~'
    )
}

/// The words tree-sitter-scala lexes as keywords (its grammar's word tokens: Scala 2 and 3's
/// reserved words and the soft ones it spells out, `using`, `as`, `derives` ...). One right
/// before a quote makes the quote a string or an interpolation by context.
const KEYWORDS: &[&[u8]] = &[
    b"_",
    b"abstract",
    b"as",
    b"cap",
    b"case",
    b"catch",
    b"class",
    b"def",
    b"derives",
    b"do",
    b"else",
    b"enum",
    b"except",
    b"export",
    b"extends",
    b"extension",
    b"false",
    b"final",
    b"finally",
    b"for",
    b"forSome",
    b"given",
    b"if",
    b"implicit",
    b"import",
    b"lazy",
    b"macro",
    b"match",
    b"new",
    b"null",
    b"object",
    b"only",
    b"override",
    b"package",
    b"private",
    b"protected",
    b"rd",
    b"return",
    b"sealed",
    b"super",
    b"then",
    b"this",
    b"throw",
    b"trait",
    b"true",
    b"try",
    b"type",
    b"uses",
    b"using",
    b"val",
    b"var",
    b"while",
    b"with",
    b"yield",
];

/// Whether only whitespace holding a line break, or only whitespace back to the start of the
/// text, lies before `at`: where the grammar's layout scanner reads a block comment.
fn starts_line(bytes: &[u8], at: usize) -> bool {
    let before = &bytes[..at];
    match before.iter().rposition(|&b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
        None => true,
        Some(p) => memchr::memchr(b'\n', &before[p..]).is_some(),
    }
}

/// Scans code from `i` to the end of the text, or (in an interpolation) to just after the `}`
/// that closes it; pushes the comments it passes. `None` when it declines.
fn code(bytes: &[u8], mut i: usize, nesting: Nesting, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    let mut depth = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' | b'\r' if nesting == Nesting::LineInterpolation => return None,
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                if bytes.get(i + 2) == Some(&b'>') {
                    return None;
                }
                let end = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |p| i + p);
                out.push((i, end));
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = nested_block_comment_end(bytes, i)?;
                if nesting == Nesting::LineInterpolation && memchr::memchr(b'\n', &bytes[i..end]).is_some() {
                    return None;
                }
                // At the start of a line the layout scanner lexes the comment: its token ends
                // after the blanks that follow it, and takes in a comment right after them.
                if matches!(bytes.get(end), Some(b' ' | b'\t' | b'/')) && starts_line(bytes, i) {
                    return None;
                }
                out.push((i, end));
                i = end;
            }
            b'"' => {
                // A quote right after an operator that a `_` joins to a name (`x_+"a"`) or
                // after a backquoted name opens an interpolation.
                let operators = bytes[..i].iter().rev().take_while(|&&c| is_operator(c)).count();
                if i > 0
                    && (bytes[i - 1] == b'`'
                        || (operators > 0 && i.checked_sub(operators + 1).is_some_and(|k| bytes[k] == b'_')))
                {
                    return None;
                }
                i = string_end(bytes, i, Mode::Simple, out)?;
            }
            b'\'' => i = quote_end(bytes, i)?,
            b'`' => {
                let close = bytes[i + 1..].iter().position(|&b| matches!(b, b'`' | b'\n'))?;
                let name = &bytes[i + 1..i + 1 + close];
                if close == 0
                    || bytes[i + 1 + close] != b'`'
                    || name.windows(2).any(|w| matches!(w, [b'/', b'/' | b'*']))
                {
                    return None;
                }
                i += close + 2;
            }
            b'<' if bytes.get(i + 1).is_some_and(|&c| {
                c.is_ascii_alphabetic() || matches!(c, b'_' | b'!' | b'?') || c >= 0x80
            }) =>
            {
                return None;
            }
            b'#' if bytes.get(i + 1) == Some(&b'!') => return None,
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                i += 1;
                if depth == 0 && nesting != Nesting::File {
                    return Some(i);
                }
                depth = depth.saturating_sub(1);
            }
            c if is_word(c) => {
                let start = i;
                while i < bytes.len() && is_word(bytes[i]) {
                    i += 1;
                }
                let word = &bytes[start..i];
                match bytes.get(i) {
                    // `x_/` is a name: `x_//c` holds no comment.
                    Some(b'/') if word.ends_with(b"_") && matches!(bytes.get(i + 1), Some(b'/' | b'*')) => {
                        return None;
                    }
                    Some(b'"') => {
                        if word[0].is_ascii_digit() || KEYWORDS.contains(&word) {
                            return None;
                        }
                        let mode = if word == b"raw" { Mode::Raw } else { Mode::Interpolated };
                        i = string_end(bytes, i, mode, out)?;
                    }
                    _ => {}
                }
            }
            0x80.. => return None,
            _ => i += 1,
        }
    }
    (nesting == Nesting::File).then_some(i)
}

/// End of the string whose first quote is at `open`, read as the grammar's external scanner
/// reads it: `"""` opens a multi-line string (no escapes, closed by the first run of three or
/// more quotes, which it ends), anything else a one-line string.
fn string_end(bytes: &[u8], open: usize, mode: Mode, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    if bytes[open..].starts_with(b"\"\"\"") {
        let mut i = open + 3;
        let mut quotes = 0;
        loop {
            match *bytes.get(i)? {
                b'"' => {
                    i += 1;
                    quotes += 1;
                    if quotes >= 3 && bytes.get(i) != Some(&b'"') {
                        return Some(i);
                    }
                }
                b'$' if mode != Mode::Simple => {
                    quotes = 0;
                    i = dollar(bytes, i, Nesting::Interpolation, out)?;
                }
                _ => {
                    quotes = 0;
                    i += 1;
                }
            }
        }
    }
    let mut i = open + 1;
    loop {
        match *bytes.get(i)? {
            b'"' => return Some(i + 1),
            b'\n' | b'\r' => return None,
            b'\\' if mode == Mode::Raw => {
                i += 1;
                if matches!(bytes.get(i), Some(b'"' | b'\\')) {
                    i += 1;
                }
            }
            // An escape is a backslash and one more character (longer escapes hold no quote).
            b'\\' => match *bytes.get(i + 1)? {
                b'\n' | b'\r' => return None,
                c => i += 1 + super::utf8_len(c),
            },
            b'$' if mode != Mode::Simple => i = dollar(bytes, i, Nesting::LineInterpolation, out)?,
            _ => i += 1,
        }
    }
}

/// After a `$` at `at` in an interpolated string: where the string's scan resumes (past the
/// `}` of a `${...}`, whose code may hold comments), or `None` for what the grammar reads
/// differently (`$ x`: it skips the blank) or not at all.
fn dollar(bytes: &[u8], at: usize, nesting: Nesting, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    match *bytes.get(at + 1)? {
        b'{' => code(bytes, at + 2, nesting, out),
        b'$' | b'"' => Some(at + 2),
        c if c.is_ascii_alphabetic() || c == b'_' => Some(at + 1),
        _ => None,
    }
}

/// End of what a `'` at `open` starts: a character literal (`'a'`, `'\n'`, `'\u0041'`,
/// `'\x41'`), or just the `'` of a quote or a Scala 2 symbol (`'sym`, `'{ ... }`, `'[T]`),
/// whose name or body is read on as code. `None` for anything else.
fn quote_end(bytes: &[u8], open: usize) -> Option<usize> {
    let at = |k: usize| bytes.get(open + k).copied();
    let literal_end = match at(1)? {
        b'\\' => match at(2)? {
            b'u' | b'U' => {
                let us = bytes[open + 2..].iter().take_while(|&&c| matches!(c, b'u' | b'U')).count();
                let digits = bytes.get(open + 2 + us..open + 6 + us);
                if digits.is_some_and(|d| d.iter().all(u8::is_ascii_hexdigit)) {
                    Some(open + 6 + us)
                } else if at(2) == Some(b'U') {
                    Some(open + 3)
                } else {
                    None
                }
            }
            b'x' => {
                let digits = bytes.get(open + 3..open + 5);
                digits.is_some_and(|d| d.iter().all(u8::is_ascii_hexdigit)).then_some(open + 5)
            }
            b'\n' => None,
            c => Some(open + 2 + super::utf8_len(c)),
        },
        b'\'' | b'\n' => None,
        c => Some(open + 1 + super::utf8_len(c)),
    };
    if let Some(end) = literal_end.filter(|&end| bytes.get(end) == Some(&b'\'')) {
        return Some(end + 1);
    }
    match at(1)? {
        b'{' | b'[' => Some(open + 1),
        // A quote right after the name (`'sym"a"`) would open an interpolation.
        c if c.is_ascii_alphabetic() || matches!(c, b'_' | b'$') => {
            let name = bytes[open + 1..].iter().take_while(|&&c| is_word(c)).count();
            (bytes.get(open + 1 + name) != Some(&b'"')).then_some(open + 1)
        }
        _ => None,
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
        let text = "// a\nval s = \"// no \\\" /* no $x\" // yes\nval t = s\"$x ${f(\"}\") /* in */} $$ $\" //no\" /* b */\nval u = raw\"\\\" // no\" // c\nval v = f\"\"\"\n// no \"\" ${ '}' }\"\"\"\" // d\nval w = \"\"\"$x // no\"\"\" // e\n";
        assert_eq!(
            comments(text).unwrap(),
            ["// a", "// yes", "/* in */", "/* b */", "// c", "// d", "// e"]
        );
    }

    #[test]
    fn characters_symbols_quotes_and_names() {
        let text = "val c = '\"' // a\nval d = '\\'' + '\\u0041' + '\\uuu0041' + '\\x41' + '/' // b\nval s = 'sym // c\nval q = '{ x } + '[T] // d\nval `odd name` = x_+ y // e\nval o = a +/* f */ b\n";
        assert_eq!(comments(text).unwrap(), ["// a", "// b", "// c", "// d", "// e", "/* f */"]);
    }

    #[test]
    fn block_comments_nest() {
        assert_eq!(
            comments("/* a /* b */ c */\nx /**/ /* //* */ */ y/* z */\n  /** doc */\n").unwrap(),
            ["/* a /* b */ c */", "/**/", "/* //* */ */", "/* z */", "/** doc */"]
        );
    }

    #[test]
    fn declines_what_it_cannot_decide() {
        for text in [
            "val s = \"open",
            "val s = s\"${open\"",
            "/* open /* nested */",
            "val s = \"a\nb\"",
            "val s = s\"${a\n}\"",
            "val s = s\"$ x\"",
            "val s = s\"$1\"",
            "val s = yield\"$x\"",
            "val s = `a`\"$x\"",
            "val s = x_+\"$x\"",
            "val s = 'sym\"$x\"",
            "val c = ''",
            "val c = '\\x4'",
            "val c = ' / 2",
            "val `open = 1",
            "val `odd // name` = 1",
            "val x = <a>// text</a>",
            "val x = a<b",
            "val x_// = 1",
            "//> using scala 3",
            "#!/usr/bin/env scala\n",
            "/* a */ // b\n",
            "x\n  /* a */ /* b */\n",
            "/* a */ x\n",
            "val é = 1",
            "val s = \"\x13\" // c",
            "val s = 1\r// c",
        ] {
            assert_eq!(comments(text), None, "{text:?}");
        }
    }
}
