//! Fast comment scanner for JSON, modelled on tree-sitter-json 0.24, which reads `//` line
//! comments and `/* */` block comments (JSONC, VS Code's settings) between values: strings
//! with the grammar's escapes, and the bytes of numbers, `true`, `false`, `null` and
//! punctuation between them. Most JSON holds no comment at all; the scan then only confirms it.
//!
//! Owns: the JSON half of [`super::comment_ranges`].
//!
//! Must never: guess. It declines (returns `None`) on a string that holds a line break or an
//! escape the grammar does not read, or never closes; an unterminated block comment; a `/`
//! that opens no comment; and any byte outside strings and comments that no JSON token holds
//! (single quotes, `#`, non-ASCII ...: JSON5 and other dialects, whose error recovery is
//! tree-sitter's to decide).

/// Comment byte ranges of a JSON text, or `None` to leave it to tree-sitter.
pub(super) fn comment_ranges(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(bytes, i)?,
            b'/' => match bytes.get(i + 1) {
                Some(b'/') => {
                    let end = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |p| i + p);
                    out.push((i, end));
                    i = end;
                }
                Some(b'*') => {
                    let end = i + 2 + memchr::memmem::find(&bytes[i + 2..], b"*/")? + 2;
                    out.push((i, end));
                    i = end;
                }
                _ => return None,
            },
            b' ' | b'\t' | b'\n' | b'\r' | b'{' | b'}' | b'[' | b']' | b',' | b':' => i += 1,
            b'-' | b'+' | b'.' => i += 1,
            c if c.is_ascii_alphanumeric() => i += 1,
            _ => return None,
        }
    }
    Some(out)
}

/// End of the string opening at `open`: escapes `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`
/// and `\u` (the grammar takes the four hex digits after it as content); `None` on any other
/// escape, a line break, or the end of the text.
fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        i += memchr::memchr3(b'"', b'\\', b'\n', &bytes[i..])?;
        match bytes[i] {
            b'"' => return Some(i + 1),
            b'\\'
                if matches!(
                    bytes.get(i + 1),
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' | b'u')
                ) =>
            {
                i += 2;
            }
            _ => return None,
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
    fn comments_between_values() {
        let text = "// a\n{\"k\": \"// no /* no \\\" \\u00e9\", /* b */ \"n\": -1.5e+3, \"t\": [true, false, null] // c\n}\n";
        assert_eq!(comments(text).unwrap(), ["// a", "/* b */", "// c"]);
        assert_eq!(comments("{\"a\": 1}").unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn declines_what_it_cannot_decide() {
        for text in ["\"open", "\"a\nb\"", "\"\\x41\"", "/* open", "1 / 2", "{'a': 1}", "# x", "{\"é\": é}"]
        {
            assert_eq!(comments(text), None, "{text:?}");
        }
    }
}
