//! Fast comment scanner for PHP files that are all code, modelled on tree-sitter-php 0.25:
//! `//` and `#` line comments with the grammar's exact ends (before a line break; a `?` right
//! before the line break and the break itself belong to the comment), `/* */` block comments,
//! and `'` and `"` strings, which may span lines.
//!
//! Owns: the PHP half of [`super::comment_ranges`].
//!
//! Must never: guess. It declines (returns `None`) unless the text starts with `<?php` and
//! never leaves PHP (a `?>` anywhere: comments end there, and HTML follows), and on what it
//! does not model: heredocs and nowdocs (`<<<`), a `$` inside a double-quoted string
//! (interpolation nests code), backtick shell strings, `#[` attributes and `#?`, a `?` that
//! ends a line comment without a line break after it, `__halt_compiler`, and any unterminated
//! string or block comment; tree-sitter reads those files.

/// Comment byte ranges of a PHP text, or `None` to leave it to tree-sitter.
pub(super) fn comment_ranges(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    let opens_php = bytes.starts_with(b"<?php") && bytes.get(5).is_some_and(u8::is_ascii_whitespace);
    let find = |needle: &[u8]| memchr::memmem::find(bytes, needle).is_some();
    if !opens_php || find(b"?>") || find(b"<<<") || find(b"__halt_compiler") || find(b"__HALT_COMPILER") {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 5;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = i + 2 + memchr::memmem::find(&bytes[i + 2..], b"*/")? + 2;
                out.push((i, end));
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = line_comment_end(bytes, i + 2)?;
                out.push((i, end));
                i = end;
            }
            b'#' => {
                let end = match bytes.get(i + 1) {
                    Some(b'[' | b'?') => return None,
                    // A lone `#` is a comment of its own.
                    None | Some(b'\r' | b'\n') => i + 1,
                    Some(_) => line_comment_end(bytes, i + 2)?,
                };
                out.push((i, end));
                i = end;
            }
            b'\'' => i = string_end(bytes, i, false)?,
            b'"' => i = string_end(bytes, i, true)?,
            b'`' => return None,
            _ => i += 1,
        }
    }
    Some(out)
}

/// End of a line comment whose body starts at `from`: before the next `\r` or `\n`, except that
/// a `?` right before `\n` or `\r\n` takes the line break into the comment (the grammar's
/// `optional(/\?\r?\n/)`). `None` for a `?` before a lone `\r` or at the end of the text.
fn line_comment_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        match bytes.get(i) {
            None | Some(b'\r' | b'\n') => return Some(i),
            Some(b'?') => match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(b'\n'), _) => return Some(i + 2),
                (Some(b'\r'), Some(b'\n')) => return Some(i + 3),
                (None | Some(b'\r'), _) => return None,
                _ => i += 2,
            },
            Some(_) => i += 1,
        }
    }
}

/// End of the string whose quote is at `open`; `None` when it never closes, or when a
/// double-quoted (`double`) string holds a `$` (interpolation).
fn string_end(bytes: &[u8], open: usize, double: bool) -> Option<usize> {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'$' if double => return None,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
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
    fn comments_and_strings() {
        let text =
            "<?php\n// a\n$x = '# no \\' // no'; # b\n$y = \"/* no\n \\\" */\"; /* c */\n#\n// why?\n$z = 1;";
        assert_eq!(comments(text).unwrap(), ["// a", "# b", "/* c */", "#", "// why?\n"]);
    }

    #[test]
    fn declines_what_it_does_not_model() {
        for text in [
            "<html><?php // a\n",
            "<?php // a ?> <b>",
            "<?php $s = <<<EOT\n# no\nEOT;\n",
            "<?php $s = \"{$a['x']} # no\";",
            "<?php #[Attr]\nfunction f() {}",
            "<?php $x = `ls # no`;",
            "<?php // open?",
            "<?php /* open",
            "<?php $s = 'open",
        ] {
            assert_eq!(comments(text), None, "{text:?}");
        }
    }
}
