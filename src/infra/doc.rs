//! A located document reader: YAML (every document of a stream) and JSON text, through the
//! project's tree-sitter grammars, into a small value tree whose every node keeps its byte
//! range and line.
//!
//! Owns: turning block and flow styles, plain, quoted and block scalars, anchors and aliases
//! (and `<<` merge keys), and CloudFormation's short-form tags (`!Ref`, `!GetAtt`, `!Sub`,
//! `!If`, ...) into one shape: a short-form tag becomes the long form's one-entry map (`!Ref
//! X` reads as `{Ref: X}`, `!Sub s` as `{"Fn::Sub": s}`, `!GetAtt A.B` as `{"Fn::GetAtt": [A,
//! B]}`), so that extractors read one spelling. Plain scalars are typed by the grammar (YAML
//! 1.2 core schema: `true`, `null`, numbers); the standard tag `!!str` makes one a string.
//!
//! Bounds (a template is untrusted): aliases are expanded by copying, at most
//! [`MAX_TEMPLATE_ALIAS_NODES`] nodes per text, counting the copy the anchor table keeps of each anchored
//! value (an alias bomb costs that much, then each further alias reads as [`Value::Cut`]; the
//! size of a value is counted once, when it is anchored, and never past what is left); nesting deeper than [`MAX_TEMPLATE_DEPTH`] reads as [`Value::Cut`]; every
//! cut, syntax error and unknown alias is a [`Problem`] at its location (at most
//! [`MAX_TEMPLATE_PROBLEMS`] kept, the rest counted). Tree-sitter's own time budget applies to the
//! parse (`syntax::comments::parse_tree`); a text it refuses is one problem.
//!
//! Must never: do I/O, panic on any text, guess a value (what it cannot read is
//! [`Value::Cut`] with a problem, never silently dropped), or escape text: values are the
//! template's untrusted text, and every output escapes them.
//!
//! Known gaps: YAML-only escapes of double-quoted scalars (`\x41`, `\U0001F600`, `\N`, `\_`)
//! read as the escaped character (the shared JSON decoder, `syntax::embedded::unescape_double`);
//! complex mapping keys (a list or map as a key) read as a problem; tags other than
//! CloudFormation's and `!!str` are ignored.

use rustc_hash::FxHashMap;
use tree_sitter::Node as TsNode;

use crate::limits::{MAX_TEMPLATE_ALIAS_NODES, MAX_TEMPLATE_DEPTH, MAX_TEMPLATE_PROBLEMS};
use crate::syntax::Language;
use crate::syntax::comments::parse_tree;
use crate::syntax::embedded::unescape_double;

/// Where a node is: its byte range in the text and the line (1-based) it starts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: u32,
}

impl Span {
    fn of(node: TsNode<'_>) -> Span {
        Span { start: node.start_byte(), end: node.end_byte(), line: node.start_position().row as u32 + 1 }
    }
}

/// One value with its location.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// What it is.
    pub value: Value,
    /// Where it is (for an alias: where the alias is, not the anchor).
    pub span: Span,
}

/// A value of the tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A scalar, decoded (quotes, escapes, folding and block indentation removed).
    Scalar(Scalar),
    /// A sequence.
    List(Vec<Node>),
    /// A mapping, in the text's order, merge keys (`<<`) resolved.
    Map(Vec<Entry>),
    /// What was not read: the reason is a [`Problem`] at this node's span.
    Cut(Cut),
}

/// Why a value was not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// An alias past [`MAX_TEMPLATE_ALIAS_NODES`].
    AliasBudget,
    /// An alias with no anchor before it.
    UnknownAlias,
    /// Nesting past [`MAX_TEMPLATE_DEPTH`].
    Depth,
    /// A syntax error, or a shape the reader does not take (a complex key).
    Unreadable,
}

/// A decoded scalar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scalar {
    /// The decoded text (for a number or boolean, as written).
    pub text: Box<str>,
    /// Its type.
    pub kind: ScalarKind,
}

/// A scalar's type, as the grammar resolved it (quoted and block scalars are strings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    /// A string.
    Str,
    /// `true` / `false`.
    Bool(bool),
    /// An integer as written.
    Int,
    /// A float as written.
    Float,
    /// `null`, `~` or nothing.
    Null,
}

/// One mapping entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key, decoded.
    pub key: Box<str>,
    /// Where the key is.
    pub key_span: Span,
    /// Its value.
    pub value: Node,
}

/// Something the reader could not read, at its location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub span: Span,
    /// What, in a sentence (no template text).
    pub message: String,
}

/// A text read into documents.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parsed {
    /// The documents, in order (a JSON text has one; an empty YAML document is a null scalar).
    pub documents: Vec<Node>,
    /// What could not be read.
    pub problems: Vec<Problem>,
    /// Problems past [`MAX_TEMPLATE_PROBLEMS`], not kept.
    pub problems_dropped: usize,
}

impl Node {
    /// The entries of a map, empty for anything else.
    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// The items of a list, empty for anything else.
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::List(items) => items,
            _ => &[],
        }
    }

    /// The value of `key` in a map (the first entry with that key).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries().iter().find(|e| &*e.key == key).map(|e| &e.value)
    }

    /// The value at a path of keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// A scalar's text (strings, numbers and booleans as written); `None` for null and the rest.
    pub fn str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(Scalar { kind: ScalarKind::Null, .. }) => None,
            Value::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }

    /// A boolean: `true`/`false`, or the strings `"true"`/`"false"` (CloudFormation and
    /// Kubernetes accept both spellings).
    pub fn bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar(Scalar { kind: ScalarKind::Bool(b), .. }) => Some(*b),
            Value::Scalar(Scalar { kind: ScalarKind::Str, text }) => match text.to_ascii_lowercase().as_str()
            {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether this is a null scalar (written or empty).
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Scalar(Scalar { kind: ScalarKind::Null, .. }))
    }

    /// A CloudFormation intrinsic function: a map of exactly one entry whose key is `Ref`,
    /// `Condition` or starts with `Fn::`; its name and argument.
    pub fn intrinsic(&self) -> Option<(&str, &Node)> {
        match self.entries() {
            [e] if &*e.key == "Ref" || &*e.key == "Condition" || e.key.starts_with("Fn::") => {
                Some((&e.key, &e.value))
            }
            _ => None,
        }
    }

    /// [`Node::size`] when it is at most `limit`, counting no further than that.
    pub fn size_within(&self, limit: usize) -> Option<usize> {
        let mut count = 0usize;
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            count += 1;
            if count > limit {
                return None;
            }
            stack.extend(node.items());
            stack.extend(node.entries().iter().map(|e| &e.value));
        }
        Some(count)
    }

    /// Number of nodes in this value (itself included).
    pub fn size(&self) -> usize {
        1 + match &self.value {
            Value::List(items) => items.iter().map(Node::size).sum(),
            Value::Map(entries) => entries.iter().map(|e| e.value.size()).sum(),
            _ => 0,
        }
    }
}

/// Reads a YAML stream (every document).
pub fn read_yaml(text: &str) -> Parsed {
    read(Language::Yaml, text)
}

/// Reads a JSON text.
pub fn read_json(text: &str) -> Parsed {
    read(Language::Json, text)
}

fn read(language: Language, text: &str) -> Parsed {
    let mut reader = Reader {
        text,
        json: language == Language::Json,
        anchors: FxHashMap::default(),
        copied: 0,
        out: Parsed::default(),
    };
    let Some(tree) = parse_tree(language, text, None) else {
        reader.problem(
            Span { start: 0, end: text.len(), line: 1 },
            "the text was not parsed (too deep or too slow for the grammar)".into(),
        );
        return reader.out;
    };
    let root = tree.root_node();
    if reader.json {
        let mut cursor = root.walk();
        for child in root.named_children(&mut cursor) {
            if child.kind() == "comment" {
                continue;
            }
            let node = reader.node(child, 0);
            reader.out.documents.push(node);
        }
    } else {
        let mut cursor = root.walk();
        for document in root.named_children(&mut cursor) {
            if document.kind() == "comment" {
                continue;
            }
            if document.kind() != "document" {
                let node = reader.node(document, 0);
                reader.out.documents.push(node);
                continue;
            }
            // Anchors are scoped to their document.
            reader.anchors.clear();
            let mut inner = document.walk();
            let body = document
                .named_children(&mut inner)
                .find(|c| matches!(c.kind(), "block_node" | "flow_node" | "ERROR"));
            let node = match body {
                Some(body) => reader.node(body, 0),
                None => Node { value: null(), span: Span::of(document) },
            };
            reader.out.documents.push(node);
        }
    }
    reader.errors(root);
    reader.out
}

fn null() -> Value {
    Value::Scalar(Scalar { text: "".into(), kind: ScalarKind::Null })
}

fn string(text: String) -> Value {
    Value::Scalar(Scalar { text: text.into(), kind: ScalarKind::Str })
}

/// The CloudFormation short-form tags and the long-form keys they stand for.
fn short_form(tag: &str) -> Option<String> {
    const FN: &[&str] = &[
        "Base64",
        "Cidr",
        "FindInMap",
        "GetAtt",
        "GetAZs",
        "ImportValue",
        "Join",
        "Select",
        "Split",
        "Sub",
        "Transform",
        "And",
        "Equals",
        "If",
        "Not",
        "Or",
        "ToJsonString",
        "Length",
        "ForEach",
    ];
    let name = tag.strip_prefix('!')?;
    match name {
        "Ref" | "Condition" => Some(name.to_string()),
        _ if FN.contains(&name) => Some(format!("Fn::{name}")),
        _ => None,
    }
}

struct Reader<'t> {
    text: &'t str,
    json: bool,
    /// Each anchor's node and its size (counted once, so that an alias past the budget costs
    /// nothing to refuse); `None` for an anchor whose copy did not fit the budget.
    anchors: FxHashMap<String, Option<(Node, usize)>>,
    copied: usize,
    out: Parsed,
}

/// What every template reader says at a part of a file tree-sitter could not read.
pub const SYNTAX_ERROR: &str = "syntax error: this part was not read";

/// The syntax errors of a tree (its ERROR and missing nodes, outermost only), in document
/// order: the one rule for where a template reader says "this part was not read" (the YAML/JSON
/// reader here, the Terraform reader in `terraform::extract`).
pub fn syntax_errors(root: TsNode<'_>) -> Vec<TsNode<'_>> {
    let mut out = Vec::new();
    if !root.has_error() {
        return out;
    }
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            out.push(node);
            continue;
        }
        if node.has_error() {
            let mut cursor = node.walk();
            let children: Vec<_> = node.children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
    }
    out
}

impl Reader<'_> {
    fn problem(&mut self, span: Span, message: String) {
        if self.out.problems.len() < MAX_TEMPLATE_PROBLEMS {
            self.out.problems.push(Problem { span, message });
        } else {
            self.out.problems_dropped += 1;
        }
    }

    fn src(&self, node: TsNode<'_>) -> &str {
        self.text.get(node.byte_range()).unwrap_or_default()
    }

    fn cut(&mut self, node: TsNode<'_>, cut: Cut, message: &str) -> Node {
        let span = Span::of(node);
        self.problem(span, message.to_string());
        Node { value: Value::Cut(cut), span }
    }

    /// One problem per syntax error (ERROR or missing node) in the tree.
    fn errors(&mut self, root: TsNode<'_>) {
        for node in syntax_errors(root) {
            self.problem(Span::of(node), SYNTAX_ERROR.into());
        }
    }

    fn node(&mut self, node: TsNode<'_>, depth: usize) -> Node {
        if depth > MAX_TEMPLATE_DEPTH {
            return self.cut(node, Cut::Depth, "nested too deeply: this value was not read");
        }
        let span = Span::of(node);
        match node.kind() {
            // YAML wrappers: properties (anchor, tag) then the content.
            "block_node" | "flow_node" => self.wrapped(node, depth),
            "block_mapping" | "flow_mapping" | "object" => self.mapping(node, depth),
            "block_sequence" | "flow_sequence" | "array" => {
                let mut items = Vec::new();
                let mut cursor = node.walk();
                let children: Vec<_> = node.named_children(&mut cursor).collect();
                for child in children {
                    match child.kind() {
                        "comment" => {}
                        "block_sequence_item" => {
                            let mut inner = child.walk();
                            let value = child.named_children(&mut inner).find(|c| c.kind() != "comment");
                            items.push(match value {
                                Some(value) => self.node(value, depth + 1),
                                None => Node { value: null(), span: Span::of(child) },
                            });
                        }
                        // `[a: 1]`: a single-pair map inside a flow sequence.
                        "flow_pair" => {
                            let entries = self.pairs(&[child], depth + 1);
                            items.push(Node { value: Value::Map(entries), span: Span::of(child) });
                        }
                        _ => items.push(self.node(child, depth + 1)),
                    }
                }
                Node { value: Value::List(items), span }
            }
            "plain_scalar" => Node { value: self.plain(node), span },
            "double_quote_scalar" => {
                let raw = self.src(node);
                let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or_default();
                Node { value: string(unescape_double(&fold_quoted(inner, true))), span }
            }
            "single_quote_scalar" => {
                let raw = self.src(node);
                let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or_default();
                Node { value: string(fold_quoted(inner, false).replace("''", "'")), span }
            }
            "block_scalar" => Node { value: string(block_scalar(self.src(node))), span },
            "alias" => self.alias(node),
            "string" => {
                let raw = self.src(node);
                let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or_default();
                Node { value: string(unescape_double(inner)), span }
            }
            "number" => Node {
                value: Value::Scalar(Scalar {
                    text: self.src(node).into(),
                    kind: if self.src(node).contains(['.', 'e', 'E']) {
                        ScalarKind::Float
                    } else {
                        ScalarKind::Int
                    },
                }),
                span,
            },
            "true" => Node {
                value: Value::Scalar(Scalar { text: "true".into(), kind: ScalarKind::Bool(true) }),
                span,
            },
            "false" => Node {
                value: Value::Scalar(Scalar { text: "false".into(), kind: ScalarKind::Bool(false) }),
                span,
            },
            "null" => Node { value: null(), span },
            _ => self.cut(node, Cut::Unreadable, "syntax error: this value was not read"),
        }
    }

    /// A `block_node`/`flow_node`: its tag and anchor, then its content.
    fn wrapped(&mut self, node: TsNode<'_>, depth: usize) -> Node {
        let span = Span::of(node);
        let mut tag = None;
        let mut anchor = None;
        let mut content = None;
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "tag" => tag = Some(self.src(child).to_string()),
                "anchor" => anchor = Some(self.src(child).trim_start_matches('&').to_string()),
                "comment" => {}
                _ if content.is_none() => content = Some(child),
                _ => {}
            }
        }
        let mut value = match content {
            Some(content) => {
                // The wrapper and its content are one level of nesting.
                let mut inner = self.node(content, depth);
                inner.span = span;
                inner
            }
            None => Node { value: null(), span },
        };
        if let Some(tag) = tag {
            if let Some(key) = short_form(&tag) {
                if key == "Fn::GetAtt"
                    && let Some(text) = value.str()
                    && let Some((resource, attribute)) = text.split_once('.')
                {
                    let part = |s: &str| Node { value: string(s.to_string()), span };
                    value = Node { value: Value::List(vec![part(resource), part(attribute)]), span };
                }
                value =
                    Node { value: Value::Map(vec![Entry { key: key.into(), key_span: span, value }]), span };
            } else if tag == "!!str"
                && let Value::Scalar(scalar) = &mut value.value
            {
                scalar.kind = ScalarKind::Str;
            }
        }
        if let Some(name) = anchor {
            // The anchor table holds a copy, charged like an alias's: nested anchors over a
            // large value would otherwise copy it once per level.
            let left = MAX_TEMPLATE_ALIAS_NODES - self.copied;
            match value.size_within(left) {
                Some(size) => {
                    self.copied += size;
                    self.anchors.insert(name, Some((value.clone(), size)));
                }
                None => {
                    self.anchors.insert(name, None);
                }
            }
        }
        value
    }

    fn alias(&mut self, node: TsNode<'_>) -> Node {
        let name = self.src(node).trim_start_matches('*').to_string();
        let (target, size) = match self.anchors.get(&name) {
            None => return self.cut(node, Cut::UnknownAlias, "an alias with no anchor before it: not read"),
            Some(None) => (None, usize::MAX),
            Some(Some((target, size))) => (Some(target), *size),
        };
        if size > MAX_TEMPLATE_ALIAS_NODES - self.copied {
            let message = format!(
                "alias not expanded: aliases in this text already copied {} nodes (limit {MAX_TEMPLATE_ALIAS_NODES})",
                self.copied
            );
            return self.cut(node, Cut::AliasBudget, &message);
        }
        self.copied += size;
        let mut copy =
            target.cloned().unwrap_or(Node { value: Value::Cut(Cut::AliasBudget), span: Span::of(node) });
        copy.span = Span::of(node);
        copy
    }

    fn plain(&self, node: TsNode<'_>) -> Value {
        let raw = self.src(node);
        let kind = match node.named_child(0).map(|c| c.kind()) {
            Some("boolean_scalar") => ScalarKind::Bool(raw.eq_ignore_ascii_case("true")),
            Some("integer_scalar") => ScalarKind::Int,
            Some("float_scalar") => ScalarKind::Float,
            Some("null_scalar") => ScalarKind::Null,
            _ => ScalarKind::Str,
        };
        let text = if raw.contains(['\n', '\r']) { fold_quoted(raw, false) } else { raw.to_string() };
        Value::Scalar(Scalar { text: text.into(), kind })
    }

    fn mapping(&mut self, node: TsNode<'_>, depth: usize) -> Node {
        let span = Span::of(node);
        let mut cursor = node.walk();
        let pairs: Vec<_> = node
            .named_children(&mut cursor)
            .filter(|c| matches!(c.kind(), "block_mapping_pair" | "flow_pair" | "pair" | "flow_node"))
            .collect();
        let entries = self.pairs(&pairs, depth + 1);
        Node { value: Value::Map(entries), span }
    }

    /// Entries from pair nodes, with `<<` merge keys resolved (explicit keys win).
    fn pairs(&mut self, pairs: &[TsNode<'_>], depth: usize) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::with_capacity(pairs.len());
        let mut merged: Vec<Node> = Vec::new();
        for &pair in pairs {
            // `{a}` in a flow mapping: a key with a null value.
            let (key, value) = if pair.kind() == "flow_node" {
                (Some(pair), None)
            } else {
                (pair.child_by_field_name("key"), pair.child_by_field_name("value"))
            };
            let value = match value {
                Some(value) => self.node(value, depth),
                None => Node { value: null(), span: Span::of(pair) },
            };
            let Some(key) = key else {
                entries.push(Entry { key: "".into(), key_span: Span::of(pair), value });
                continue;
            };
            let key_node = self.node(key, depth);
            let key_span = key_node.span;
            let text = match &key_node.value {
                Value::Scalar(s) => s.text.clone(),
                _ => {
                    self.problem(key_span, "a key that is not a scalar: this entry was not read".into());
                    continue;
                }
            };
            if !self.json
                && &*text == "<<"
                && matches!(&key_node.value, Value::Scalar(s) if s.kind == ScalarKind::Str)
            {
                merged.push(value);
                continue;
            }
            entries.push(Entry { key: text, key_span, value });
        }
        for source in merged {
            let maps: Vec<&Node> = match &source.value {
                Value::Map(_) => vec![&source],
                Value::List(items) => items.iter().collect(),
                _ => Vec::new(),
            };
            for map in maps {
                for entry in map.entries() {
                    if !entries.iter().any(|e| e.key == entry.key) {
                        entries.push(entry.clone());
                    }
                }
            }
        }
        entries
    }
}

/// Folds the line breaks of a flow scalar (plain or quoted): each break with the whitespace
/// around it becomes one space, an empty line a newline; in a double-quoted scalar, a line
/// ending in an odd backslash joins the next without a space.
fn fold_quoted(raw: &str, double: bool) -> String {
    if !raw.contains(['\n', '\r']) {
        return raw.to_string();
    }
    let lines: Vec<&str> = raw.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let mut out = String::with_capacity(raw.len());
    let last = lines.len() - 1;
    let mut pending_breaks = 0usize;
    let mut joined = false;
    for (i, line) in lines.iter().enumerate() {
        let mut line = *line;
        if i > 0 {
            line = line.trim_start_matches([' ', '\t']);
        }
        if i < last {
            line = line.trim_end_matches([' ', '\t']);
        }
        if i > 0 && line.is_empty() && i < last {
            pending_breaks += 1;
            continue;
        }
        if i > 0 && !joined {
            if pending_breaks > 0 {
                out.extend(std::iter::repeat_n('\n', pending_breaks));
            } else {
                out.push(' ');
            }
        }
        pending_breaks = 0;
        joined = false;
        let trailing_backslashes = line.bytes().rev().take_while(|&b| b == b'\\').count();
        if double && i < last && trailing_backslashes % 2 == 1 {
            out.push_str(&line[..line.len() - 1]);
            joined = true;
        } else {
            out.push_str(line);
        }
    }
    out
}

/// The content of a block scalar (`|` literal or `>` folded, with its chomping `-`/`+` and
/// indentation indicators), from its full text (header included).
fn block_scalar(raw: &str) -> String {
    let (header, body) = raw.split_once('\n').unwrap_or((raw, ""));
    let header = header.split(" #").next().unwrap_or_default().trim();
    let folded = header.starts_with('>');
    let chomp = if header.contains('-') {
        '-'
    } else if header.contains('+') {
        '+'
    } else {
        ' '
    };
    let explicit: Option<usize> = header.chars().find_map(|c| c.to_digit(10)).map(|d| d as usize);
    let lines: Vec<&str> = body.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let indent = explicit.map_or_else(
        || {
            lines
                .iter()
                .find(|l| !l.trim().is_empty())
                .map_or(0, |l| l.len() - l.trim_start_matches(' ').len())
        },
        |d| {
            // The indicator is relative to the parent's indentation; tree-sitter's node ends
            // where the content does, so take the least indentation of the content lines.
            let least = lines
                .iter()
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.len() - l.trim_start_matches(' ').len())
                .min()
                .unwrap_or(0);
            least.min(d.max(least))
        },
    );
    let content: Vec<&str> = lines.iter().map(|l| l.get(indent..).unwrap_or("")).collect();
    let mut out = String::new();
    if folded {
        // A break between two lines of text folds to a space; empty lines stay as newlines
        // (the break before them is dropped); more-indented lines keep their breaks.
        let mut previous: Option<&str> = None;
        let mut empties = 0usize;
        for line in &content {
            if line.is_empty() {
                empties += 1;
                continue;
            }
            if let Some(previous) = previous {
                let kept = previous.starts_with([' ', '\t']) || line.starts_with([' ', '\t']);
                if empties == 0 {
                    out.push(if kept { '\n' } else { ' ' });
                } else {
                    out.extend(std::iter::repeat_n('\n', empties + usize::from(kept)));
                }
            } else {
                out.extend(std::iter::repeat_n('\n', empties));
            }
            empties = 0;
            out.push_str(line);
            previous = Some(line);
        }
        out.extend(std::iter::repeat_n('\n', empties));
    } else {
        out = content.join("\n");
    }
    let body = out.trim_end_matches('\n');
    match chomp {
        '-' => body.to_string(),
        '+' => {
            let mut kept = out;
            if !kept.ends_with('\n') && !kept.is_empty() {
                kept.push('\n');
            }
            kept
        }
        _ if body.is_empty() => String::new(),
        _ => format!("{body}\n"),
    }
}

#[cfg(test)]
mod tests;
