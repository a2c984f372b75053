//! Fast comment scanner for TOML, modelled on tree-sitter-toml-ng 0.7: `#` comments outside
//! the four string kinds (basic `"..."` with escapes, literal `'...'`, and their multi-line
//! forms `"""..."""` and `'''...'''`, whose closing run of quotes may be longer than three:
//! the string ends where the run does).
//!
//! Owns: the TOML half of [`super::comment_ranges`].
//!
//! Must never: guess. It declines (returns `None`) on a control character other than tab and
//! line breaks (the grammar ends a comment there), a `\r` outside a CRLF, a byte-order mark, a
//! string that never closes or a one-line string that meets a line break, and an escape the
//! grammar does not know (`\x`, a backslash followed by blanks before the line break);
//! tree-sitter reads those files.

/// Comment byte ranges of a TOML text, or `None` to leave it to tree-sitter.
pub(super) fn comment_ranges(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    if bytes.starts_with("\u{feff}".as_bytes()) {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                let start = i;
                i += 1;
                while i < bytes.len() && !is_control(bytes[i]) {
                    i += 1;
                }
                out.push((start, i));
            }
            q @ (b'"' | b'\'') => {
                i = if bytes[i..].starts_with(&[q, q, q]) {
                    multi_line(bytes, i, q)?
                } else {
                    one_line(bytes, i, q)?
                };
            }
            b'\n' | b'\t' => i += 1,
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b if is_control(b) => return None,
            _ => i += 1,
        }
    }
    Some(out)
}

/// The bytes the grammar's comment and string contents exclude: controls but tab, and DEL.
fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// End (exclusive) of the one-line string whose quote is at `open`.
fn one_line(bytes: &[u8], open: usize, quote: u8) -> Option<usize> {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i = escape_end(bytes, i)?,
            b if b == quote => return Some(i + 1),
            b if is_control(b) => return None,
            _ => i += 1,
        }
    }
    None
}

/// End (exclusive) of the multi-line string whose three quotes start at `open`: after the
/// first run of three or more quotes.
fn multi_line(bytes: &[u8], open: usize, quote: u8) -> Option<usize> {
    let mut i = open + 3;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => {
                i = match bytes.get(i + 1) {
                    Some(b'\n') => i + 2,
                    Some(b'\r') if bytes.get(i + 2) == Some(&b'\n') => i + 3,
                    _ => escape_end(bytes, i)?,
                }
            }
            b if b == quote => {
                let run = bytes[i..].iter().take_while(|&&c| c == quote).count();
                if run >= 3 {
                    return Some(i + run);
                }
                i += run;
            }
            b'\n' | b'\t' => i += 1,
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b if is_control(b) => return None,
            _ => i += 1,
        }
    }
    None
}

/// End of the escape sequence whose backslash is at `i`: `\b \t \n \f \r \" \\`, `\uXXXX`,
/// `\UXXXXXXXX`; `None` for anything else.
fn escape_end(bytes: &[u8], i: usize) -> Option<usize> {
    super::escape_end(bytes, i, b"btnfr\"\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str) -> Option<Vec<&str>> {
        super::super::slices(text, comment_ranges(text.as_bytes()))
    }

    #[test]
    fn comments_outside_strings() {
        let text = "# a\n[t] # b\nk = \"# no \\\" # no\" # c\nl = '# no \\' # d\nm = \"\"\"\n# no\n\"\"\"\" # e\nn = '''\n# no'''' # f\r\narr = [\n  1, # g\n]\n";
        assert_eq!(comments(text).unwrap(), ["# a", "# b", "# c", "# d", "# e", "# f", "# g"]);
    }

    #[test]
    fn declines_what_it_does_not_model() {
        assert_eq!(comments("k = \"open\n# c\n"), None);
        assert_eq!(comments("k = '''open\n"), None);
        assert_eq!(comments("k = \"\\x\" # c\n"), None);
        assert_eq!(comments("# a\u{1}b\n"), None);
        assert_eq!(comments("# a\rb\n"), None);
        assert_eq!(comments("k = \"\"\"a\\ \n\"\"\"\n"), None);
    }
}
