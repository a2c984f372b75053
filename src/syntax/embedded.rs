//! ThreatSpec annotations embedded in YAML and JSON documents under `x-threatspec` keys.
//!
//! Owns: finding every mapping key named `x-threatspec` (at any depth, in block or flow
//! style, OpenAPI documents included) and turning its value into [`CandidateLine`]s:
//!
//! - a string: one annotation;
//! - a list: one annotation per string item (a map item is read like the map form; numbers,
//!   booleans, nulls, aliases and nested lists are ignored);
//! - a map: every key is an annotation string; when its value is a map, that map's scalar
//!   entries become the line's `fields` (`description: ...`), values stringified (quoted
//!   scalars unescaped, block scalars joined, numbers and booleans as written); list and map
//!   values are skipped.
//!
//! Ranges: a quoted string's range is its content inside the quotes (escapes left as written,
//! so the range is exact text of the file), a plain scalar's range is the scalar; a string that
//! spans lines (block scalars `|`/`>`, folded flow scalars) yields one candidate per non-empty
//! line. Every range is trimmed of surrounding whitespace. Each annotation string gets its own
//! block number, counting from 0 (the caller renumbers after the comment blocks).
//!
//! The tree is the reference; YAML files whose values take the block shapes OpenAPI documents
//! use are read without one ([`yaml_lines_without_tree`], `embedded/yaml_scan.rs`), for the
//! same lines.
//!
//! Must never: panic on odd shapes, read anything but string values, or look inside the value
//! of an `x-threatspec` key for further `x-threatspec` keys.

mod yaml_scan;

use tree_sitter::{Node, Tree};

use super::{CandidateLine, Language, comments};
use crate::text::TextRange;

/// The key that holds embedded ThreatSpec annotations.
pub const KEY: &str = "x-threatspec";

/// Whether `bytes` hold [`KEY`] anywhere: `memmem::find` with a searcher built once per
/// process (`memmem::find` builds one on every call: ~370 instructions for
/// [`super::conflicts`]' marker).
pub fn mentions_key(bytes: &[u8]) -> bool {
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(KEY.as_bytes()));
    FINDER.find(bytes).is_some()
}

/// Candidate lines from `x-threatspec` values in a YAML or JSON `text`; empty for other
/// languages and for texts that do not mention the key (checked before parsing).
pub fn x_threatspec_lines(language: Language, text: &str) -> Vec<CandidateLine> {
    if !language.has_embedded_annotations() || !mentions_key(text.as_bytes()) {
        return Vec::new();
    }
    match comments::parse_tree(language, text, None) {
        Some(tree) => x_threatspec_lines_in_tree(language, &tree, text),
        None => Vec::new(),
    }
}

/// A text's comment byte ranges and its `x-threatspec` candidate lines.
pub type CommentsAndLines = (Vec<(usize, usize)>, Vec<CandidateLine>);

/// The comment ranges of a YAML `text` ([`super::lexer::comment_ranges`]) and its candidate
/// lines from `x-threatspec` values, exactly as [`x_threatspec_lines_in_tree`] reads them,
/// found without a tree (`embedded/yaml_scan.rs`); `None` when the text holds a shape that
/// reader leaves to the tree.
pub fn yaml_lines_without_tree(text: &str) -> Option<CommentsAndLines> {
    yaml_scan::lines_without_tree(text)
}

/// Candidate lines from `x-threatspec` values in an already parsed `tree` of `text`.
pub fn x_threatspec_lines_in_tree(language: Language, tree: &Tree, text: &str) -> Vec<CandidateLine> {
    let doc = match language {
        Language::Yaml => Doc::Yaml,
        Language::Json => Doc::Json,
        _ => return Vec::new(),
    };
    let mut out = Out { text, doc, lines: Vec::new(), block: 0 };
    super::comments::walk_tree(tree, |node| {
        if doc.is_pair(node.kind())
            && node.end_byte() <= text.len()
            && let Some(key) = node.child_by_field_name("key")
            && out.scalar_value(key).as_deref() == Some(KEY)
        {
            if let Some(value) = node.child_by_field_name("value") {
                out.annotations(value);
            }
            return super::comments::WalkStep::Skip;
        }
        super::comments::WalkStep::Descend
    });
    out.lines
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Doc {
    Yaml,
    Json,
}

impl Doc {
    fn is_pair(self, kind: &str) -> bool {
        match self {
            Doc::Yaml => matches!(kind, "block_mapping_pair" | "flow_pair"),
            Doc::Json => kind == "pair",
        }
    }
}

/// What a value node holds, with YAML's `flow_node`/`block_node` wrappers, tags and anchors
/// looked through.
enum Value<'t> {
    Scalar(Node<'t>),
    Sequence(Node<'t>),
    Mapping(Node<'t>),
    Other,
}

struct Out<'a> {
    text: &'a str,
    doc: Doc,
    lines: Vec<CandidateLine>,
    block: u32,
}

impl<'a> Out<'a> {
    fn classify<'t>(&self, node: Node<'t>) -> Value<'t> {
        let mut node = node;
        // Look through wrappers; bounded by the tree's depth.
        loop {
            match node.kind() {
                "flow_node" | "block_node" | "block_sequence_item" => {
                    let mut cursor = node.walk();
                    let inner = node
                        .named_children(&mut cursor)
                        .filter(|c| !matches!(c.kind(), "tag" | "anchor" | "comment"))
                        .last();
                    match inner {
                        Some(inner) => node = inner,
                        None => return Value::Other,
                    }
                }
                "plain_scalar" => {
                    let is_string = node.named_child(0).is_some_and(|c| c.kind() == "string_scalar");
                    return if is_string { Value::Scalar(node) } else { Value::Other };
                }
                "double_quote_scalar" | "single_quote_scalar" | "block_scalar" | "string" => {
                    return Value::Scalar(node);
                }
                "block_sequence" | "flow_sequence" | "array" => return Value::Sequence(node),
                "block_mapping" | "flow_mapping" | "object" => return Value::Mapping(node),
                _ => return Value::Other,
            }
        }
    }

    /// Reads the value of an `x-threatspec` key.
    fn annotations(&mut self, value: Node<'_>) {
        match self.classify(value) {
            Value::Scalar(s) => self.annotation(s, Vec::new()),
            Value::Sequence(seq) => {
                let mut cursor = seq.walk();
                for item in seq.named_children(&mut cursor) {
                    match self.classify(item) {
                        Value::Scalar(s) => self.annotation(s, Vec::new()),
                        Value::Mapping(m) => self.annotation_map(m),
                        Value::Sequence(_) | Value::Other => {}
                    }
                }
            }
            Value::Mapping(m) => self.annotation_map(m),
            Value::Other => {}
        }
    }

    /// `annotation: {fields}` entries.
    fn annotation_map(&mut self, map: Node<'_>) {
        let mut cursor = map.walk();
        for pair in map.named_children(&mut cursor) {
            if !self.doc.is_pair(pair.kind()) {
                continue;
            }
            let Some(key) = pair.child_by_field_name("key") else {
                continue;
            };
            let Value::Scalar(key) = self.classify(key) else {
                continue;
            };
            let fields = match pair.child_by_field_name("value").map(|v| self.classify(v)) {
                Some(Value::Mapping(fields)) => self.fields(fields),
                _ => Vec::new(),
            };
            self.annotation(key, fields);
        }
    }

    /// Scalar key/values of a field map, stringified.
    fn fields(&self, map: Node<'_>) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        let mut cursor = map.walk();
        for pair in map.named_children(&mut cursor) {
            if !self.doc.is_pair(pair.kind()) {
                continue;
            }
            let (Some(key), Some(value)) =
                (pair.child_by_field_name("key"), pair.child_by_field_name("value"))
            else {
                continue;
            };
            let Some(key) = self.scalar_value(key) else {
                continue;
            };
            if let Some(value) = self.scalar_value(value) {
                fields.push((key, value));
            }
        }
        fields
    }

    /// One annotation string: one candidate per non-empty line, all in a new block.
    fn annotation(&mut self, scalar: Node<'_>, fields: Vec<(String, String)>) {
        let Some(content) = self.content_range(scalar) else {
            return;
        };
        push_annotation(self.text, content, fields, &mut self.lines, &mut self.block);
    }

    /// Byte range of a scalar's content: inside the quotes, or after a block scalar's header.
    fn content_range(&self, node: Node<'_>) -> Option<(usize, usize)> {
        let (start, end) = (node.start_byte(), node.end_byte());
        let text = self.text;
        if end > text.len() || start > end {
            return None;
        }
        let raw = &text[start..end];
        let (s, e) = match node.kind() {
            "double_quote_scalar" | "single_quote_scalar" | "string" => {
                let q = raw.as_bytes().first().copied()?;
                let close = usize::from(raw.len() >= 2 && raw.as_bytes()[raw.len() - 1] == q);
                (start + 1, end - close)
            }
            "block_scalar" => {
                let header = raw.find(['\n', '\r'])?;
                (start + header + 1, end)
            }
            _ => (start, end),
        };
        (s <= e && text.is_char_boundary(s) && text.is_char_boundary(e)).then_some((s, e))
    }

    /// A scalar's value as a string: quoted scalars unescaped, plain scalars and numbers as
    /// written, block scalars joined by newlines (`|`) or spaces (`>`). `None` for non-scalars.
    fn scalar_value(&self, node: Node<'_>) -> Option<String> {
        let node = match self.classify(node) {
            Value::Scalar(n) => n,
            Value::Other => scalar_leaf(node)?,
            _ => return None,
        };
        let (s, e) = self.content_range(node)?;
        let raw = &self.text[s..e];
        Some(match node.kind() {
            "double_quote_scalar" | "string" => unescape_double(&fold(raw, " ")),
            "single_quote_scalar" => fold(raw, " ").replace("''", "'"),
            "block_scalar" => {
                let folded = self.text[node.start_byte()..].trim_start().starts_with('>');
                fold(raw, if folded { " " } else { "\n" })
            }
            _ => fold(raw, " "),
        })
    }
}

/// One annotation string whose content is `start..end` of `text`: one candidate per non-empty
/// line, all in block `*block`, which then counts up (when a line was pushed); `fields` go to
/// the first line.
fn push_annotation(
    text: &str,
    (start, end): (usize, usize),
    fields: Vec<(String, String)>,
    lines: &mut Vec<CandidateLine>,
    block: &mut u32,
) {
    let first = lines.len();
    let bytes = text.as_bytes();
    let mut line_start = start;
    while line_start <= end {
        let line_end = memchr::memchr2(b'\n', b'\r', &bytes[line_start..end]).map_or(end, |i| line_start + i);
        let slice = &text[line_start..line_end];
        let trimmed = slice.trim_start();
        let s = line_start + (slice.len() - trimmed.len());
        let e = s + trimmed.trim_end().len();
        if s < e {
            lines.push(CandidateLine { range: TextRange::new(s, e), block: *block, fields: Vec::new() });
        }
        line_start = line_end + 1;
    }
    if lines.len() > first {
        lines[first].fields = fields;
        *block += 1;
    }
}

/// A non-string scalar (number, boolean, null) behind YAML wrappers, or JSON's literal nodes.
fn scalar_leaf(node: Node<'_>) -> Option<Node<'_>> {
    let mut node = node;
    loop {
        match node.kind() {
            "flow_node" | "block_node" => {
                let mut cursor = node.walk();
                node = node
                    .named_children(&mut cursor)
                    .filter(|c| !matches!(c.kind(), "tag" | "anchor" | "comment"))
                    .last()?;
            }
            "plain_scalar" | "number" | "true" | "false" | "null" => return Some(node),
            _ => return None,
        }
    }
}

/// Joins the trimmed non-empty lines of `raw` with `sep`.
fn fold(raw: &str, sep: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for line in raw.split(['\n', '\r']) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str(sep);
        }
        out.push_str(line);
    }
    out
}

/// Resolves the backslash escapes of JSON and YAML double-quoted strings (and of the string
/// literals of code that `syntax::mcp` reads): `\n \t \r \b \f \0`, `\uXXXX` with surrogate
/// pairs, any other escaped character as itself; a malformed `\u` stays as written.
pub fn unescape_double(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('0') => out.push('\0'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16) {
                    Ok(unit) if hex.len() == 4 => {
                        chars.nth(3);
                        let unit = if (0xD800..0xDC00).contains(&unit) {
                            // A surrogate pair: `\uD83D\uDE00`.
                            let rest = chars.as_str();
                            match rest
                                .strip_prefix("\\u")
                                .and_then(|r| u32::from_str_radix(r.get(..4)?, 16).ok())
                            {
                                Some(low) if (0xDC00..0xE000).contains(&low) => {
                                    chars.nth(5);
                                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                                }
                                _ => unit,
                            }
                        } else {
                            unit
                        };
                        out.push(char::from_u32(unit).unwrap_or('\u{FFFD}'));
                    }
                    _ => out.push_str("\\u"),
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes() {
        assert_eq!(unescape_double(r#"a \"b\" \\ \u00e9 \uZZ"#), "a \"b\" \\ é \\uZZ");
        assert_eq!(unescape_double(r#"\uD83D\uDE00 \b\f\0"#), "😀 \u{8}\u{c}\0");
        assert_eq!(fold("  a\n\n  b  ", " "), "a b");
    }

    #[test]
    fn other_languages_yield_nothing() {
        assert!(x_threatspec_lines(Language::Python, "x-threatspec = 1").is_empty());
    }
}
