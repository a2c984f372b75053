//! Fast comment scanner for YAML, modelled on tree-sitter-yaml 0.7 and written for the common
//! shapes of configuration files: block mappings and sequences whose scalars are plain, quoted
//! or aliases and each fit on one line, with `#` comments on their own lines or after a value;
//! flow collections (`[a, b]`, `{k: v}`) that close on their line.
//!
//! Owns: the YAML half of [`super::comment_ranges`].
//!
//! Must never: guess. A `#` starts a comment only at the start of a line or after a space or tab,
//! outside quoted scalars; everything that makes the meaning of a `#` depend on more than the
//! line it is on is declined (returns `None`): block scalars (`|`, `>`), a quoted scalar or a
//! flow collection that does not close on its line, a comment inside a flow collection, a line
//! that could continue a multi-line plain scalar (a line more indented than the key or item whose
//! scalar value ended the previous line, or a line that is neither a key, an item nor a document
//! marker), explicit keys (`?`), directives (`%`), reserved indicators (`@`, `` ` ``) starting a
//! scalar, two mapping values on one line, tabs in indentation, lone carriage returns and a
//! byte-order mark. tree-sitter reads those files.

/// Comment byte ranges of a YAML text, or `None` to leave it to tree-sitter.
pub(super) fn comment_ranges(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    scan(bytes, None)
}

/// [`comment_ranges`], also pushing to `bodies` the byte range of every block scalar's lines
/// (after its header line): text there is the scalar's, never a key (`syntax::embedded` reads
/// `x-threatspec` keys without a tree only where this scan decides).
pub(super) fn scan(
    bytes: &[u8],
    mut bodies: Option<&mut Vec<(usize, usize)>>,
) -> Option<Vec<(usize, usize)>> {
    if bytes.starts_with("\u{feff}".as_bytes()) {
        return None;
    }
    let mut out = Vec::new();
    // The column a scalar value on the last content line belongs to (its key's or its item's
    // column): a later line indented deeper would continue that scalar.
    let mut open_scalar: Option<usize> = None;
    // The column of the key or item whose block scalar ended right before this line.
    let mut block_owner: Option<usize> = None;
    let mut start = 0;
    while start < bytes.len() {
        let (end, next) = super::line_at(bytes, start)?;
        let line = &bytes[start..end];
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        if let Some(owner) = block_owner.take() {
            // The line after a block scalar: only at or left of the scalar's key or item
            // (more indented, it would be a trailing comment or an error).
            if line.len() > indent && indent > owner {
                return None;
            }
        }
        match line.get(indent) {
            // A tab after the indentation: a blank line if nothing but blanks follow.
            None => {}
            Some(b'\t') if line[indent..].iter().all(|&b| b == b' ' || b == b'\t') => {}
            Some(b'\t') => return None,
            Some(b'#') => out.push((start + indent, end)),
            Some(_) => {
                if open_scalar.is_some_and(|column| indent > column) {
                    return None;
                }
                let scanned = content_line(line, indent)?;
                if let Some(comment) = scanned.comment {
                    out.push((start + comment, end));
                }
                open_scalar = scanned.open_scalar;
                if let Some(owner) = scanned.block_scalar {
                    start = block_scalar_end(bytes, next, owner)?;
                    if let Some(bodies) = bodies.as_deref_mut() {
                        bodies.push((next.min(start), start));
                    }
                    block_owner = Some(owner);
                    continue;
                }
            }
        }
        start = next;
    }
    Some(out)
}

/// Where the lines of a block scalar (`|`, `>`) starting at `start` end: at the first line
/// that is not blank and is indented less than the scalar's first non-blank line (which must be
/// indented deeper than `owner`, the column of the scalar's key or item, or the scalar is
/// empty). `None` for a line break the scanner does not model, or a leading blank line longer
/// than the indentation found after it.
fn block_scalar_end(bytes: &[u8], mut start: usize, owner: usize) -> Option<usize> {
    let mut content_indent: Option<usize> = None;
    let mut leading_blank = 0;
    while start < bytes.len() {
        let (end, next) = super::line_at(bytes, start)?;
        let line = &bytes[start..end];
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        if indent == line.len() {
            if content_indent.is_none() {
                leading_blank = leading_blank.max(indent);
            }
        } else {
            let content = *content_indent.get_or_insert(indent);
            if indent < content || content <= owner {
                break;
            }
            if leading_blank > content {
                return None;
            }
        }
        start = next;
    }
    Some(start.min(bytes.len()))
}

/// What [`content_line`] found on a line that holds more than a comment.
struct Line {
    /// Where its trailing comment starts.
    comment: Option<usize>,
    /// The column of the key or item owning a scalar value that ends the line, if one does.
    open_scalar: Option<usize>,
    /// The column of the key or item owning a block scalar (`|`, `>`) whose header ends the
    /// line: the lines after it are the scalar's.
    block_scalar: Option<usize>,
}

/// Scans one content line (no line break; `indent` spaces first); `None` to decline.
fn content_line(line: &[u8], indent: usize) -> Option<Line> {
    let at = |i: usize| line.get(i).copied();
    let blank_or_end = |i: usize| matches!(at(i), None | Some(b' ' | b'\t'));
    let mut i = indent;
    // Document markers start at column 0.
    if indent == 0 && (line.starts_with(b"---") || line.starts_with(b"...")) && blank_or_end(3) {
        i = 3;
    }
    // Leading sequence-item dashes: `- `, `- - `.
    let mut owner = indent;
    // A sequence item's dash opened the node (`- |` is a block scalar item).
    let mut item = false;
    let mut structural = i > indent || indent == 0 && i == 3;
    loop {
        while blank_or_end(i) && i < line.len() {
            i += 1;
        }
        if at(i) == Some(b'-') && blank_or_end(i + 1) {
            owner = i;
            structural = true;
            item = true;
            i += 1;
        } else {
            break;
        }
    }
    let mut seen_key = false;
    // `Some(column)` once a scalar value has been read (until a key indicator follows it).
    let mut value: Option<usize> = None;
    // The column where the current node started.
    let mut node_start = i;
    let mut comment = None;
    while i < line.len() {
        match line[i] {
            b' ' | b'\t' => i += 1,
            b'#' => {
                // Only reached at a node boundary or after a blank (see the plain scalar loop).
                comment = Some(i);
                break;
            }
            b'|' | b'>' if value.is_none() && (seen_key || item) => {
                // A block scalar header: `|` or `>`, then an optional chomping indicator (`-`,
                // `+`; explicit indentation digits are declined), then blanks or a comment.
                let mut j = i + 1;
                if matches!(at(j), Some(b'-' | b'+')) {
                    j += 1;
                }
                if !blank_or_end(j) {
                    return None;
                }
                while matches!(at(j), Some(b' ' | b'\t')) {
                    j += 1;
                }
                let comment = match at(j) {
                    None => None,
                    Some(b'#') => Some(j),
                    Some(_) => return None,
                };
                return Some(Line { comment, open_scalar: None, block_scalar: Some(owner) });
            }
            b'?' | b'%' | b'@' | b'`' | b'|' | b'>' => return None,
            b'-' if blank_or_end(i + 1) => return None,
            b':' if blank_or_end(i + 1) => {
                // A key indicator: the node before it was a key (or an empty key).
                if seen_key {
                    return None;
                }
                seen_key = true;
                structural = true;
                owner = node_start;
                value = None;
                i += 1;
            }
            b'&' | b'!' => {
                // Anchor or tag: a property of the node that follows, not a value itself.
                while i < line.len() && !matches!(line[i], b' ' | b'\t') {
                    if matches!(line[i], b'#' | b'"' | b'\'' | b'[' | b'{' | b']' | b'}' | b',') {
                        return None;
                    }
                    i += 1;
                }
            }
            b'"' | b'\'' => {
                if value.is_some() {
                    return None;
                }
                node_start = i;
                i = quoted(line, i)?;
                value = Some(i);
            }
            b'[' | b'{' => {
                if value.is_some() {
                    return None;
                }
                node_start = i;
                i = flow(line, i)?;
                value = Some(i);
            }
            b']' | b'}' | b',' => return None,
            _ => {
                if value.is_some() {
                    return None;
                }
                node_start = i;
                // A plain scalar: runs to a key indicator (`: ` or `:` at the end) or a
                // comment (` #`); keeps a trailing blank out.
                while i < line.len() {
                    match line[i] {
                        b':' if blank_or_end(i + 1) => break,
                        b' ' | b'\t' if at(i + 1) == Some(b'#') => break,
                        _ => i += 1,
                    }
                }
                value = Some(i);
            }
        }
    }
    if !structural {
        // A bare scalar line: a document that is one scalar, or the continuation of a
        // multi-line one.
        return None;
    }
    let open_scalar = value.map(|_| owner);
    Some(Line { comment, open_scalar, block_scalar: None })
}

/// End (exclusive) of the quoted scalar opening at `open`, closed on this line; `None` when
/// it is not.
fn quoted(line: &[u8], open: usize) -> Option<usize> {
    let quote = line[open];
    let mut i = open + 1;
    while i < line.len() {
        match line[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && line.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => {
                // A quoted scalar ends the node: what follows is a blank, an indicator or the
                // end of the line.
                return matches!(line.get(i + 1), None | Some(b' ' | b'\t' | b':' | b',' | b']' | b'}'))
                    .then_some(i + 1);
            }
            _ => i += 1,
        }
    }
    None
}

/// End (exclusive) of the flow collection opening at `open`, closed on this line without a
/// comment inside; `None` otherwise.
fn flow(line: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    // At the start of a node: a quote opens a quoted scalar there.
    let mut node_start = true;
    while i < line.len() {
        match line[i] {
            b'[' | b'{' => {
                depth += 1;
                node_start = true;
                i += 1;
            }
            b']' | b'}' => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return matches!(line.get(i), None | Some(b' ' | b'\t' | b':' | b',')).then_some(i);
                }
                node_start = false;
            }
            b',' => {
                node_start = true;
                i += 1;
            }
            b':' => {
                node_start = true;
                i += 1;
            }
            b' ' | b'\t' => {
                if line.get(i + 1) == Some(&b'#') {
                    return None;
                }
                i += 1;
            }
            b'"' | b'\'' if node_start => {
                i = quoted(line, i)?;
                node_start = false;
            }
            b'#' if node_start => return None,
            b'?' | b'%' | b'@' | b'`' | b'|' | b'>' | b'&' | b'!' | b'*' if node_start => return None,
            _ => {
                node_start = false;
                i += 1;
            }
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
    fn comments_after_values_and_on_their_own_lines() {
        let text = "# a\nkey: value # b\nq: \"x # no\" # c\ns: 'it''s # no'\nu: http://x#no\nl:\n  - a # d\n  - {k: v, l: [1, 2]} # e\n  - name: n\n    v: 1\n--- # f\n";
        assert_eq!(comments(text).unwrap(), ["# a", "# b", "# c", "# d", "# e", "# f"]);
        assert_eq!(comments("a: it's # x\n").unwrap(), ["# x"]);
        assert_eq!(comments("a: &x\n  b: *x # y\n").unwrap(), ["# y"]);
    }

    #[test]
    fn block_scalars_hold_no_comments() {
        let text = "a: | # h\n  # no\n\n   # no\nb: >-\n    x\n# c\nl:\n  - |+\n    # no\n  - k: >\n      # no\n    n: 1 # d\ne: |\nf: 1 # g\n";
        assert_eq!(comments(text).unwrap(), ["# h", "# c", "# d", "# g"]);
    }

    #[test]
    fn declines_what_it_does_not_model() {
        assert_eq!(comments("a: |2\n  # no\n"), None);
        assert_eq!(comments("a: |\n    x\n  # trailing\n"), None);
        assert_eq!(comments("a: |\n      \n  x\n"), None);
        assert_eq!(comments("--- |\n# no\n"), None);
        assert_eq!(comments("a: | x\n"), None);
        assert_eq!(comments("a: \"open\n  # no\"\n"), None);
        assert_eq!(comments("a: [1,\n  2] # c\n"), None);
        assert_eq!(comments("a: plain\n  more # c\n"), None);
        assert_eq!(comments("- a\n  - b\n"), None);
        assert_eq!(comments("just a scalar # c\n"), None);
        assert_eq!(comments("? key\n: v\n"), None);
        assert_eq!(comments("%YAML 1.2\n---\n"), None);
        assert_eq!(comments("a: b: c\n"), None);
        assert_eq!(comments("a: @x\n"), None);
        assert_eq!(comments("a: [1, #c\n 2]\n"), None);
        assert_eq!(comments("a:\n\tb: 1\n"), None);
    }
}
