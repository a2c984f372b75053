//! Fast comment scanner for Dockerfiles and Containerfiles, modelled on
//! tree-sitter-containerfile 0.9: a comment is a line whose first non-blank character is `#`
//! (parser directives such as `# syntax=...` included), and its node runs to the end of the
//! line, line break included.
//!
//! Owns: the Dockerfile half of [`super::comment_ranges`].
//!
//! Must never: guess. The grammar also takes a `#` between an instruction's arguments for a
//! comment (`EXPOSE 80 # web`) but not inside one (`RUN echo # x`), which depends on its tokens:
//! a text with a `#` anywhere but at the start of a line is declined (returns `None`), and so
//! are heredocs (`<<`: their lines are not comments), a `\r` that is not part of a CRLF, and
//! a backslash or backtick right before a comment line's line break, which the grammar may read
//! as a line continuation. tree-sitter reads those files.

/// Comment byte ranges of a Dockerfile, or `None` to leave it to tree-sitter.
pub(super) fn comment_ranges(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    if memchr::memmem::find(bytes, b"<<").is_some() {
        return None;
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let (end, next) = super::line_at(bytes, start)?;
        let line = &bytes[start..end];
        let blank = line.iter().take_while(|&&b| matches!(b, b' ' | b'\t' | b'\x0c')).count();
        if line.get(blank) == Some(&b'#') {
            if matches!(line.last(), Some(b'\\' | b'`')) {
                return None;
            }
            out.push((start + blank, next.min(bytes.len())));
        } else if memchr::memchr(b'#', line).is_some() {
            return None;
        }
        start = next;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str) -> Option<Vec<&str>> {
        super::super::slices(text, comment_ranges(text.as_bytes()))
    }

    #[test]
    fn whole_line_comments_with_their_line_breaks() {
        let text = "# syntax=docker/dockerfile:1\nFROM alpine\n  # a\r\nRUN a \\\n  # b\n  && c\n# end";
        assert_eq!(comments(text).unwrap(), ["# syntax=docker/dockerfile:1\n", "# a\r\n", "# b\n", "# end"]);
    }

    #[test]
    fn declines_what_it_does_not_model() {
        assert_eq!(comments("EXPOSE 80 # web\n"), None);
        assert_eq!(comments("RUN echo '#'\n"), None);
        assert_eq!(comments("RUN <<EOF\n# no\nEOF\n"), None);
        assert_eq!(comments("# a\rFROM x\n"), None);
        assert_eq!(comments("# a \\\nFROM x\n"), None);
    }
}
