//! `x-threatspec` values of a YAML text read without a tree ([`lines_without_tree`]): the
//! block shapes OpenAPI documents use, in texts whose comments the YAML lexer already decides
//! ([`crate::syntax::lexer::yaml_scan`]: every scalar but a block scalar on one line, flow
//! collections closed on their line, no tabs in indentation). A YAML tree costs ~1,000
//! instructions per byte (tree-sitter-yaml's scanner); this reads the same lines as
//! [`super::x_threatspec_lines_in_tree`] for a few per byte (the mixed benchmark's 200 OpenAPI
//! files were 44% of its cold `check`).
//!
//! Must never: guess. It declines (`None`: the caller parses the tree) unless the block
//! structure is one tree-sitter reads without error (every line's indentation opens a
//! collection where a key or item left one open, or continues one of the same kind), and every
//! `x-threatspec` in the text outside comments and block scalars is a plain key whose value is
//! a one-line string, or a block sequence or mapping of such strings with maps of one-line
//! scalar fields. Anchors, tags, aliases, flow collections and block scalars in a value, a
//! compact sequence (`key:` then `- ` at the key's column), nested item dashes (`- - `), and
//! plain scalars that the core schema could read as a number, boolean or null are declined.
//! `tests/lexer_differential.rs` and the `comments` fuzz target hold it to the tree's lines.

use super::{CommentsAndLines, KEY, fold, push_annotation, unescape_double};
use crate::syntax::{CandidateLine, Language, comments, lexer};

/// One node on a content line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Node {
    /// Nothing: the line ends, or a comment follows.
    Empty,
    /// A quoted scalar, `start..end` with its quotes.
    Quoted(usize, usize),
    /// A plain scalar, `start..end` without trailing blanks.
    Plain(usize, usize),
    /// A flow collection, an alias or a block scalar header.
    Other,
}

/// One content line: not blank, not only a comment, not in a block scalar.
#[derive(Debug)]
struct Line {
    /// Its indentation: the column of its item dash, or of its key.
    col: usize,
    /// Whether it starts with an item dash.
    item: bool,
    /// The key and its column, on a `key:` line.
    key: Option<(Node, usize)>,
    /// The node after the key (or after the dash).
    value: Node,
    /// An anchor or tag was seen on it.
    props: bool,
    /// A document marker (`---`, `...`): the lines before and after do not nest.
    marker: bool,
}

/// The comment ranges of a YAML `text` and its `x-threatspec` lines as
/// [`super::x_threatspec_lines_in_tree`] reads them, or `None` to leave both to the tree.
pub(crate) fn lines_without_tree(text: &str) -> Option<CommentsAndLines> {
    if text.len() > u32::MAX as usize || comments::scanner_hazard(Language::Yaml, text).is_some() {
        return None;
    }
    let (comment_ranges, bodies) = lexer::yaml_scan(text)?;
    let lines = content_lines(text.as_bytes(), &bodies)?;
    check_structure(&lines)?;
    let mut reader = Reader { text, lines: &lines, out: Vec::new(), block: 0 };
    let mut keys = Vec::new();
    for (i, (_, line)) in lines.iter().enumerate() {
        if let Some((Node::Plain(s, e), _)) = line.key
            && &text.as_bytes()[s..e] == KEY.as_bytes()
        {
            keys.push(s);
            reader.pair(i)?;
        }
    }
    // Every `x-threatspec` outside comments and block scalars must be one of the keys read.
    let outside = |ranges: &[(usize, usize)], at: usize| {
        let i = ranges.partition_point(|&(_, end)| end <= at);
        ranges.get(i).is_none_or(|&(start, _)| at < start)
    };
    for at in memchr::memmem::find_iter(text.as_bytes(), KEY.as_bytes()) {
        if outside(&comment_ranges, at) && outside(&bodies, at) && keys.binary_search(&at).is_err() {
            return None;
        }
    }
    Some((comment_ranges, reader.out))
}

const fn blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The content lines of `bytes` with their start offsets, skipping `bodies` (block scalars'
/// lines); `None` for a line it does not model.
fn content_lines(bytes: &[u8], bodies: &[(usize, usize)]) -> Option<Vec<(usize, Line)>> {
    let mut out = Vec::new();
    let mut body = bodies.iter().peekable();
    let mut start = 0;
    while start < bytes.len() {
        let newline = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |p| start + p);
        let end = if newline > start && bytes[newline - 1] == b'\r' { newline - 1 } else { newline };
        let line_start = start;
        start = newline + 1;
        while body.peek().is_some_and(|&&(_, e)| e <= line_start) {
            body.next();
        }
        if body.peek().is_some_and(|&&(s, _)| s <= line_start) {
            continue;
        }
        let indent = bytes[line_start..end].iter().take_while(|&&b| b == b' ').count();
        let content = &bytes[line_start + indent..end];
        if content.first().is_none_or(|&b| b == b'#') || content.iter().all(|&b| blank(b)) {
            continue;
        }
        if indent == 0
            && (content.starts_with(b"---") || content.starts_with(b"..."))
            && content.get(3).is_none_or(|&b| blank(b))
        {
            let rest = content[3..].iter().position(|&b| !blank(b));
            if rest.is_some_and(|r| content[3 + r] != b'#') {
                return None;
            }
            let marker =
                Line { col: 0, item: false, key: None, value: Node::Empty, props: false, marker: true };
            out.push((line_start, marker));
            continue;
        }
        out.push((line_start, content_line(bytes, line_start, indent, end)?));
    }
    Some(out)
}

/// One content line `start..end` indented by `indent` spaces.
fn content_line(bytes: &[u8], start: usize, indent: usize, end: usize) -> Option<Line> {
    let at = |i: usize| (i < end).then(|| bytes[i]);
    let blank_or_end = |i: usize| at(i).is_none_or(blank);
    let skip_blanks = |mut i: usize| {
        while at(i).is_some_and(blank) {
            i += 1;
        }
        i
    };
    let mut i = start + indent;
    let item = at(i) == Some(b'-') && blank_or_end(i + 1);
    if item {
        i += 1;
        while at(i) == Some(b' ') {
            i += 1;
        }
        // A tab after the dash, or a nested item: declined.
        if at(i) == Some(b'\t') || at(i) == Some(b'-') && blank_or_end(i + 1) {
            return None;
        }
    }
    let node_col = i - start;
    let mut props = false;
    let (first, after) = node(bytes, i, end, &mut props)?;
    let j = skip_blanks(after);
    let line = if first != Node::Empty && at(j) == Some(b':') && blank_or_end(j + 1) {
        let (value, after) = node(bytes, skip_blanks(j + 1), end, &mut props)?;
        let rest = skip_blanks(after);
        if at(rest).is_some_and(|b| b != b'#') {
            return None;
        }
        Line { col: indent, item, key: Some((first, node_col)), value, props, marker: false }
    } else {
        if !item || at(j).is_some_and(|b| b != b'#') {
            return None;
        }
        Line { col: indent, item, key: None, value: first, props, marker: false }
    };
    Some(line)
}

/// The node at `i` (after blanks) and where it ends; anchors and tags before it are skipped
/// and noted in `props`.
fn node(bytes: &[u8], mut i: usize, end: usize, props: &mut bool) -> Option<(Node, usize)> {
    let at = |i: usize| (i < end).then(|| bytes[i]);
    loop {
        match at(i) {
            None | Some(b'#') => return Some((Node::Empty, i)),
            Some(b'&' | b'!') => {
                *props = true;
                while at(i).is_some_and(|b| !blank(b)) {
                    i += 1;
                }
                while at(i).is_some_and(blank) {
                    i += 1;
                }
            }
            Some(b'"' | b'\'') => {
                let close = quoted_end(bytes, i, end)?;
                return Some((Node::Quoted(i, close), close));
            }
            // A flow collection or a block scalar header: the line's last node (the lexer
            // declines anything after a flow collection but a comment or a key indicator,
            // which `content_line` then declines).
            Some(b'[' | b'{') => return Some((Node::Other, flow_end(bytes, i, end)?)),
            Some(b'|' | b'>') => return Some((Node::Other, end)),
            Some(b'*') => {
                while at(i).is_some_and(|b| !blank(b)) {
                    i += 1;
                }
                return Some((Node::Other, i));
            }
            Some(_) => {
                let s = i;
                while let Some(b) = at(i) {
                    if b == b':' && at(i + 1).is_none_or(blank) || blank(b) && at(i + 1) == Some(b'#') {
                        break;
                    }
                    i += 1;
                }
                let mut e = i;
                while e > s && blank(bytes[e - 1]) {
                    e -= 1;
                }
                return Some((Node::Plain(s, e), i));
            }
        }
    }
}

/// End (exclusive) of the quoted scalar opening at `open`, closed before `end`.
fn quoted_end(bytes: &[u8], open: usize, end: usize) -> Option<usize> {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < end {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && i + 1 < end && bytes[i + 1] == b'\'' => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// End (exclusive) of the flow collection opening at `open`, closed before `end`.
fn flow_end(bytes: &[u8], open: usize, end: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    let mut node_start = true;
    while i < end {
        match bytes[i] {
            b'[' | b'{' => {
                depth += 1;
                node_start = true;
            }
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
                node_start = false;
            }
            b',' | b':' => node_start = true,
            b'"' | b'\'' if node_start => {
                i = quoted_end(bytes, i, end)?;
                node_start = false;
                continue;
            }
            b' ' | b'\t' => {}
            _ => node_start = false,
        }
        i += 1;
    }
    None
}

/// Whether the block structure is one tree-sitter reads without error: each line continues
/// a collection of its kind at its column, or opens one deeper where the line before left a
/// key or an item without a value.
fn check_structure(lines: &[(usize, Line)]) -> Option<()> {
    // Open collections: (column, is a sequence).
    let mut stack: Vec<(usize, bool)> = Vec::new();
    // Where the previous line left a value open: the key's or dash's column, and whether a key.
    let mut open: Option<(usize, bool)> = None;
    for (_, line) in lines {
        if line.marker {
            stack.clear();
            open = None;
            continue;
        }
        let (col, seq) = (line.col, line.item);
        match open.take() {
            Some((parent, _)) if col > parent => stack.push((col, seq)),
            // A compact sequence as a key's value: declined.
            Some((parent, true)) if col == parent && seq => return None,
            _ if stack.is_empty() => stack.push((col, seq)),
            _ => {
                while stack.last().is_some_and(|&(c, _)| c > col) {
                    stack.pop();
                }
                if stack.last() != Some(&(col, seq)) {
                    return None;
                }
            }
        }
        if let Some((_, key_col)) = line.key {
            if line.item {
                stack.push((key_col, false));
            }
            if line.value == Node::Empty {
                open = Some((key_col, true));
            }
        } else if line.value == Node::Empty {
            open = Some((col, false));
        }
    }
    Some(())
}

/// Reads `x-threatspec` values as [`super::Out`] reads them from a tree.
struct Reader<'a> {
    text: &'a str,
    lines: &'a [(usize, Line)],
    out: Vec<CandidateLine>,
    block: u32,
}

impl Reader<'_> {
    /// The value of the `x-threatspec` key on line `i`.
    fn pair(&mut self, i: usize) -> Option<()> {
        let (_, line) = &self.lines[i];
        let (_, key_col) = line.key?;
        if line.props {
            return None;
        }
        match line.value {
            Node::Empty => {
                let end = self.nested_end(i, key_col);
                let Some((_, first)) = self.lines.get(i + 1).filter(|_| i + 1 < end) else {
                    return Some(());
                };
                if self.lines[i + 1..end].iter().any(|(_, l)| l.props || l.value == Node::Other) {
                    return None;
                }
                if first.item { self.sequence(i + 1, end) } else { self.mapping(i + 1, end) }
            }
            value => self.string(value, Vec::new()),
        }
    }

    /// The end (exclusive line index) of what nests under the key or item at `col` on line `i`.
    fn nested_end(&self, i: usize, col: usize) -> usize {
        let after = &self.lines[i + 1..];
        i + 1 + after.iter().position(|(_, l)| l.marker || l.col <= col).unwrap_or(after.len())
    }

    /// A block sequence of annotation strings (or maps) on lines `first..end`.
    fn sequence(&mut self, first: usize, end: usize) -> Option<()> {
        let col = self.lines[first].1.col;
        for i in first..end {
            let (_, line) = &self.lines[i];
            if line.col != col {
                continue;
            }
            match line.key {
                Some(_) => self.mapping(i, self.nested_end(i, col))?,
                None if line.value == Node::Empty => {
                    if self.nested_end(i, col) > i + 1 {
                        return None;
                    }
                }
                None => self.string(line.value, Vec::new())?,
            }
        }
        Some(())
    }

    /// A block mapping of annotation keys on lines `first..end` (the first may be an item's).
    fn mapping(&mut self, first: usize, end: usize) -> Option<()> {
        let (_, col) = self.lines[first].1.key?;
        for i in first..end {
            let (_, line) = &self.lines[i];
            let Some((key, key_col)) = line.key else { continue };
            if key_col != col || (i > first && line.item) {
                continue;
            }
            let fields = match line.value {
                Node::Empty => {
                    let nested = self.nested_end(i, col);
                    match self.lines.get(i + 1).filter(|_| i + 1 < nested) {
                        Some((_, l)) if !l.item => self.fields(i + 1, nested)?,
                        _ => Vec::new(),
                    }
                }
                _ => Vec::new(),
            };
            self.string(key, fields)?;
        }
        Some(())
    }

    /// The scalar entries of the field map on lines `first..end`.
    fn fields(&self, first: usize, end: usize) -> Option<Vec<(String, String)>> {
        let (_, col) = self.lines[first].1.key?;
        let mut fields = Vec::new();
        for (_, line) in &self.lines[first..end] {
            let Some((key, key_col)) = line.key else { continue };
            if key_col != col {
                continue;
            }
            let key = self.scalar_value(key)?;
            if line.value != Node::Empty {
                fields.push((key, self.scalar_value(line.value)?));
            }
        }
        Some(fields)
    }

    /// A field's key or value as [`super::Out::scalar_value`] stringifies it.
    fn scalar_value(&self, node: Node) -> Option<String> {
        let text = self.text;
        match node {
            Node::Quoted(s, e) => {
                let raw = fold(&text[s + 1..e - 1], " ");
                Some(if text.as_bytes()[s] == b'"' { unescape_double(&raw) } else { raw.replace("''", "'") })
            }
            Node::Plain(s, e) if s < e => Some(fold(&text[s..e], " ")),
            _ => None,
        }
    }

    /// One annotation string (a quoted scalar, or a plain one the core schema reads as a
    /// string) with its fields.
    fn string(&mut self, node: Node, fields: Vec<(String, String)>) -> Option<()> {
        let content = match node {
            Node::Quoted(s, e) => (s + 1, e - 1),
            Node::Plain(s, e) if plain_string(&self.text.as_bytes()[s..e]) => (s, e),
            _ => return None,
        };
        push_annotation(self.text, content, fields, &mut self.out, &mut self.block);
        Some(())
    }
}

/// Whether tree-sitter-yaml's core schema surely reads the plain scalar `s` as a string (not a
/// number, boolean or null); `false` decides nothing, it only declines.
fn plain_string(s: &[u8]) -> bool {
    let Some(&first) = s.first() else { return false };
    let number_like = first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.' | b'~');
    !number_like && !["true", "false", "null"].iter().any(|w| s.eq_ignore_ascii_case(w.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Option<Vec<String>> {
        let (_, lines) = lines_without_tree(text)?;
        Some(lines.iter().map(|l| format!("{} {:?} {:?}", l.block, l.range.slice(text), l.fields)).collect())
    }

    #[test]
    fn strings_lists_and_maps() {
        let text = "openapi: 3.0.3\nx-threatspec:\n  - \"@a\" # c\n  - 'b'\npaths:\n  /x:\n    get:\n      \
                    x-threatspec:\n        \"@t\":\n          description: \"d \\u00e9\"\n          n: 1\n        \
                    plain key: v\n      x-threatspec: \"@r\"\n";
        assert_eq!(
            read(text).unwrap(),
            [
                "0 \"@a\" []",
                "1 \"b\" []",
                "2 \"@t\" [(\"description\", \"d é\"), (\"n\", \"1\")]",
                "3 \"plain key\" []",
                "4 \"@r\" []"
            ]
        );
        // Keys in comments and block scalars are not keys.
        assert_eq!(
            read("# x-threatspec: \"@a\"\nd: |\n  x-threatspec: \"@b\"\ne: 1\n").unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn declines_what_it_does_not_model() {
        for text in [
            "x-threatspec: [\"@a\"]\n",
            "x-threatspec: &a \"@a\"\n",
            "x-threatspec: true\n",
            "x-threatspec:\n- \"@a\"\n",
            "x-threatspec:\n  - - \"@a\"\n",
            "x-threatspec:\n  \"@a\": |\n    x\n",
            "\"x-threatspec\": \"@a\"\n",
            "a: see x-threatspec\n",
            "a:\n    b: 1\n  x-threatspec: \"@a\"\n",
            "x-threatspec:\n  - 12\n",
        ] {
            assert_eq!(read(text), None, "{text:?}");
        }
    }
}
