//! Fast comment scanner for HCL (Terraform `.tf`/`.tfvars`, `.hcl`), modelled on
//! tree-sitter-hcl 1.1: `#` and `//` line comments, `/* */` block comments, and quoted
//! templates whose `${ }` interpolations and `%{ }` directives hold code again (strings
//! included), nested to any depth.
//!
//! Owns: the HCL half of [`super::comment_ranges`].
//!
//! Must never: guess. It declines (returns `None`) on a heredoc (`<<` anywhere in code: the
//! grammar's heredoc rules are its scanner's, not the spec's), a comment inside an
//! interpolation or directive, a string that spans lines or never closes, an escape the
//! grammar rejects, and an unclosed block comment; tree-sitter reads those files.

/// Where the scanner is: HCL code (the file, or the inside of a `${ }` / `%{ }`), or the
/// literal text of a quoted template.
enum Context {
    /// Code; `braces` counts the `{` opened inside an interpolation, whose `}` is not its end.
    Code {
        braces: usize,
    },
    Quoted,
}

/// Comment byte ranges of an HCL text, or `None` to leave it to tree-sitter.
pub(super) fn comment_ranges(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    // The bottom entry is the file's own code; every other `Code` is an interpolation.
    let mut stack = vec![Context::Code { braces: 0 }];
    let mut i = 0;
    while i < bytes.len() {
        let nested = stack.len() > 1;
        let top = stack.last_mut()?;
        match top {
            Context::Code { braces } => match bytes[i] {
                b'#' | b'/' if is_comment_start(bytes, i) => {
                    if nested {
                        return None;
                    }
                    let end = if bytes[i] == b'/' && bytes[i + 1] == b'*' {
                        i + 2 + memchr::memmem::find(&bytes[i + 2..], b"*/")? + 2
                    } else {
                        memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |p| i + p)
                    };
                    out.push((i, end));
                    i = end;
                }
                b'"' => {
                    stack.push(Context::Quoted);
                    i += 1;
                }
                b'<' if bytes.get(i + 1) == Some(&b'<') => return None,
                b'{' => {
                    *braces += 1;
                    i += 1;
                }
                b'}' => {
                    if *braces == 0 && nested {
                        stack.pop();
                    } else {
                        *braces = braces.saturating_sub(1);
                    }
                    i += 1;
                }
                _ => i += 1,
            },
            Context::Quoted => match bytes[i] {
                b'"' => {
                    stack.pop();
                    i += 1;
                }
                b'\\' => i = escape_end(bytes, i)?,
                // The grammar lets a quoted template run over lines; HCL itself does not.
                b'\n' | b'\r' => return None,
                b'$' | b'%' => {
                    let sign = bytes[i];
                    match (bytes.get(i + 1), bytes.get(i + 2)) {
                        (Some(b'{'), _) => {
                            stack.push(Context::Code { braces: 0 });
                            i += 2;
                        }
                        // `$${` and `%%{` are literal text.
                        (Some(&s), Some(b'{')) if s == sign => i += 3,
                        _ => i += 1,
                    }
                }
                _ => i += 1,
            },
        }
    }
    // A string or interpolation still open at the end of the text.
    (stack.len() == 1).then_some(out)
}

/// Whether a `#`, `//` or `/*` comment starts at `i` (a `#` or `/`).
fn is_comment_start(bytes: &[u8], i: usize) -> bool {
    bytes[i] == b'#' || matches!(bytes.get(i + 1), Some(b'/' | b'*'))
}

/// End of the escape sequence whose backslash is at `i`: `\"`, `\\`, `\n`, `\r`, `\t`,
/// `\uXXXX`, `\UXXXXXXXX`; `None` for anything else (the grammar's scanner rejects it).
fn escape_end(bytes: &[u8], i: usize) -> Option<usize> {
    super::escape_end(bytes, i, b"\"\\nrt")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str) -> Option<Vec<&str>> {
        super::super::slices(text, comment_ranges(text.as_bytes()))
    }

    #[test]
    fn comments_strings_and_interpolations() {
        let text = "# a\n// b\nx = \"# not ${var.y[\"// no\"]} %{ if z }/* no */%{ endif }\" /* c */\ny = \"$${# no}\" # d\n";
        assert_eq!(comments(text).unwrap(), ["# a", "// b", "/* c */", "# d"]);
        assert_eq!(comments("m = { for k, v in x : k => \"${v}\" } // e").unwrap(), ["// e"]);
        // A `#` that ends the text (the `comments` fuzz target: `*\u{1a}(#` read past the end).
        assert_eq!(comments("*\u{1a}(#").unwrap(), ["#"]);
    }

    #[test]
    fn declines_what_it_does_not_model() {
        assert_eq!(comments("x = <<EOF\n# no\nEOF\n"), None);
        assert_eq!(comments("x = \"${a # c\n}\""), None);
        assert_eq!(comments("x = \"open\n# c"), None);
        assert_eq!(comments("x = \"\\q\""), None);
        assert_eq!(comments("x = \"\\u12\""), None);
        assert_eq!(comments("/* open"), None);
        assert_eq!(comments("x = \"${a\""), None);
    }
}
