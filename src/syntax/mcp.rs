//! The repository's MCP surface: the MCP client configurations it commits and the MCP tools its
//! code defines, read from one file's text, and the checks that need nothing but that text.
//!
//! Owns: which paths are MCP client configurations ([`config_format`], by name; the walk asks
//! [`admits_hidden`] before descending into a client's hidden directory), reading one
//! ([`read_config`]: servers with their command, arguments, environment, URL and headers, each
//! with its range), the byte prefilter for tool definitions ([`may_define_tool`]), reading tool
//! definitions with tree-sitter queries (`queries/<language>/mcp_tools.scm`: Python
//! `@x.tool(...)` decorators, TypeScript/JavaScript `x.tool("name", "description", ...)` and
//! `x.registerTool("name", { description })`, Rust rmcp `#[tool(description = "...")]`), and
//! the file-local checks ([`surface_warnings`]): hidden instructions in a tool description
//! (the [`super::agent_instructions`] rules, not a copy), servers started through a shell,
//! unpinned packages, plain-http URLs and literal secrets. Checks that need the whole project
//! (shadowing, the pin file) are `analysis::mcp_surface`'s.
//!
//! Must never: do I/O, run or resolve anything a configuration names, or quote a secret (a
//! message names the key, never its value).
//!
//! # Supported configuration files
//!
//! | file | client | servers under |
//! |---|---|---|
//! | `.mcp.json` | Claude Code, Copilot (portable format) | `mcpServers` |
//! | `.vscode/mcp.json` | VS Code | `servers` |
//! | `.cursor/mcp.json` | Cursor | `mcpServers` |
//! | `claude_desktop_config.json` | Claude Desktop | `mcpServers` |
//! | `.kiro/settings/mcp.json` | Kiro | `mcpServers` |
//! | `.gemini/settings.json` | Gemini CLI | `mcpServers` |
//! | `.windsurf/mcp_config.json`, `mcp_config.json` | Windsurf | `mcpServers` |
//! | `.roo/mcp.json` | Roo Code | `mcpServers` |
//! | `cline_mcp_settings.json` | Cline | `mcpServers` |
//!
//! A server is stdio (`command`, `args`, `env`) or remote (`url`; Windsurf's `serverUrl`,
//! Gemini's `httpUrl`; `headers`; `type`/`transportType`). JSON with comments (VS Code's
//! JSONC) is read; a file that is not JSON, or whose servers entry is not an object, is an
//! `invalid-config` error at the place and none of its servers is read.

use super::embedded::unescape_double as unescape;
use super::{Language, Spanned, SyntaxError};
use crate::diagnostic::Code;
use crate::text::TextRange;
use std::sync::OnceLock;
use tree_sitter::{Node, Query, QueryCursor, StreamingIterator};

/// Where a configuration keeps its servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigFormat {
    /// `{"mcpServers": {...}}`: every client but VS Code.
    McpServers,
    /// `{"servers": {...}}`: VS Code's `.vscode/mcp.json`.
    Servers,
}

impl ConfigFormat {
    fn key(self) -> &'static str {
        match self {
            ConfigFormat::McpServers => "mcpServers",
            ConfigFormat::Servers => "servers",
        }
    }
}

/// The hidden directories MCP clients keep their configuration in.
const CLIENT_DIRS: &[&str] = &[".vscode", ".cursor", ".kiro", ".gemini", ".windsurf", ".roo"];

/// The MCP client configuration format of `path` (`/`- or `\`-separated, relative or
/// absolute), by its name and parent directories; `None` for every other file.
pub fn config_format(path: &str) -> Option<ConfigFormat> {
    // Every name below ends in `.json`: the one test most paths need (the walk asks this of
    // every file it parses; splitting the path first cost ~350 instructions a file).
    if !path.ends_with(".json") {
        return None;
    }
    let mut parts = path.rsplit(['/', '\\']);
    let name = parts.next()?;
    let parent = parts.next().unwrap_or("");
    let grandparent = parts.next().unwrap_or("");
    Some(match (grandparent, parent, name) {
        (_, ".vscode", "mcp.json") => ConfigFormat::Servers,
        (_, ".cursor" | ".roo", "mcp.json") | (".kiro", "settings", "mcp.json") => ConfigFormat::McpServers,
        (_, ".gemini", "settings.json") => ConfigFormat::McpServers,
        (
            _,
            _,
            ".mcp.json" | "claude_desktop_config.json" | "mcp_config.json" | "cline_mcp_settings.json",
        ) => ConfigFormat::McpServers,
        _ => return None,
    })
}

/// Whether the walk reads the hidden entry `name` (a file or directory name starting with `.`)
/// for the MCP surface: `.mcp.json` and the clients' directories.
pub fn admits_hidden(name: &[u8]) -> bool {
    name == b".mcp.json" || CLIENT_DIRS.iter().any(|d| d.as_bytes() == name)
}

/// Everything a file contributes to the MCP surface.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct McpSurface {
    pub servers: Vec<Server>,
    pub tools: Vec<Tool>,
}

impl McpSurface {
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty() && self.tools.is_empty()
    }
}

/// One server entry of a client configuration.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Server {
    /// The entry's key, its range the key's text (without quotes).
    pub name: Spanned<String>,
    /// The whole entry (key and value).
    pub range: TextRange,
    pub command: Option<Spanned<String>>,
    pub args: Vec<Spanned<String>>,
    pub env: Vec<(Spanned<String>, Spanned<String>)>,
    pub url: Option<Spanned<String>>,
    pub headers: Vec<(Spanned<String>, Spanned<String>)>,
    /// `type` or `transportType` (`stdio`, `http`, `sse`, ...), when given.
    pub transport: Option<String>,
}

impl Server {
    /// The text a client runs (`command` and `args`, space-separated), or the URL it connects to.
    pub fn launch(&self) -> String {
        match (&self.command, &self.url) {
            (Some(c), _) => std::iter::once(c.value.as_str())
                .chain(self.args.iter().map(|a| a.value.as_str()))
                .collect::<Vec<_>>()
                .join(" "),
            (None, Some(u)) => u.value.clone(),
            (None, None) => String::new(),
        }
    }
}

/// The host language a tool is defined in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ToolHost {
    Python,
    JavaScript,
    Rust,
}

/// One MCP tool defined in code.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tool {
    /// The tool's name (`name=` or the function's name), its range the text it came from.
    pub name: Spanned<String>,
    /// Its description (`description=`, the docstring or doc comments), as the server sends it.
    pub description: Option<Spanned<String>>,
    /// The whole definition (decorated function, call, attribute and fn).
    pub range: TextRange,
    pub host: ToolHost,
}

/// True when `bytes` may define an MCP tool in `language` (false positives are fine, false
/// negatives are bugs): for Python a `tool` attribute where a decorator can hold it
/// (`python_tool_attribute`), `.tool(`/`.registerTool(` for JavaScript/TypeScript calls,
/// `#[tool` for Rust.
pub fn may_define_tool(language: Language, bytes: &[u8]) -> bool {
    use memchr::memmem::Finder;
    use std::sync::LazyLock;
    // Searchers built once per process: `memmem::find` builds one on every call, and the walk
    // asks this of every file of these languages.
    static TOOL: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"tool"));
    static CALL: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b".tool("));
    static REGISTER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b".registerTool("));
    static ATTRIBUTE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"#[tool"));
    match language {
        // Every decorator starts with `@`, before its attribute: a file without one is not
        // searched further, and the rest only from its first `@` on (in the sparse benchmark a
        // fifth of the bytes of the Python files with an `@` come before the first).
        Language::Python => memchr::memchr(b'@', bytes).is_some_and(|first| {
            TOOL.find_iter(&bytes[first..]).any(|at| python_tool_attribute(bytes, first + at))
        }),
        Language::JavaScript | Language::TypeScript | Language::Tsx => {
            CALL.find(bytes).is_some() || REGISTER.find(bytes).is_some()
        }
        Language::Rust => ATTRIBUTE.find(bytes).is_some(),
        _ => false,
    }
}

/// Whether the `tool` at `at` can be the attribute of the Python query's decorator
/// (`@<object>.tool` or `@<object>.tool(...)`, `queries/python/mcp_tools.scm`).
///
/// The query matches the identifier `tool` itself, so an ASCII identifier character after it
/// (`.tools`, `.toolbar`, `.tool_x`) rules it out, and it must follow a `.` with nothing
/// between but what tree-sitter-python skips between tokens (whitespace, line continuations;
/// any non-ASCII byte is taken for a Unicode space). In a decorator the attribute or its call
/// is the whole expression: the next token is the call's `(` or the decorator's end (a
/// newline or a comment), so `tool` followed by anything else (`.tool.x`, `"json.tool"`,
/// `x.tool = 1`, `libcst.tool codemod`) is no decorator, unless the line starts with `@` or
/// the object is written right after an `@` (`@mcp.tool est`), where it is taken whatever
/// follows (a decorator that tree-sitter's error recovery reads despite junk after it). Files that mention `json.tool` or `libcst.tool` were otherwise
/// parsed with tree-sitter for nothing: in the sparse benchmark (the Python standard library
/// with site-packages) 12 files, one of them a 270 KB generated validator, 696M instructions of
/// a cold `check`.
fn python_tool_attribute(bytes: &[u8], at: usize) -> bool {
    let identifier = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let between_tokens = |b: u8| b.is_ascii_whitespace() || b == 0x0b || b == b'\\' || !b.is_ascii();
    if bytes.get(at + 4).is_some_and(|&b| identifier(b)) {
        return false;
    }
    let Some(dot) = bytes[..at].iter().rposition(|&b| !between_tokens(b)).filter(|&i| bytes[i] == b'.')
    else {
        return false;
    };
    let next = bytes[at + 4..].iter().find(|&&b| !(between_tokens(b) && b != b'\n' && b != b'\r'));
    if next.is_none_or(|b| matches!(b, b'(' | b'#' | b'\n' | b'\r')) {
        return true;
    }
    // `@mcp.tool` itself, wherever it stands: tree-sitter's error recovery can read a
    // decorator in the middle of a line (after a `#` it took for string text: found by the
    // parser fuzz target).
    let object = bytes[..dot].iter().rposition(|&b| !(identifier(b) || b == b'.')).map_or(0, |i| i + 1);
    if object < dot && object > 0 && bytes[object - 1] == b'@' {
        return true;
    }
    let line_start = memchr::memrchr(b'\n', &bytes[..dot]).map_or(0, |n| n + 1);
    bytes[line_start..dot].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'@')
}

/// The MCP surface of one file and the problems found in it: a configuration's servers when
/// `format` is given, else the tool definitions of `language`'s code (only when
/// [`may_define_tool`]). The checks of [`surface_warnings`] are included.
pub fn read_surface(
    language: Language,
    format: Option<ConfigFormat>,
    text: &str,
) -> (McpSurface, Vec<SyntaxError>) {
    let (surface, mut errors) = match format {
        Some(format) => read_config(format, text),
        None if may_define_tool(language, text.as_bytes()) => (read_tools(language, text), Vec::new()),
        None => return Default::default(),
    };
    errors.extend(surface_warnings(&surface));
    (surface, errors)
}

// ---------------------------------------------------------------------------------------------
// Configurations

fn invalid(range: TextRange, message: String) -> SyntaxError {
    SyntaxError { code: Code::InvalidConfig, range, message, fix: None }
}

fn range_of(node: Node<'_>) -> TextRange {
    TextRange::new(node.start_byte(), node.end_byte())
}

/// Parses `text` with `language`'s grammar and hands the tree to `f`; `None` when the grammar
/// is missing, the parse ran out of time, or the text is one a grammar's scanner could not
/// survive. The one guarded parse ([`super::comments::parse_tree`]): a hostile file that
/// looks like it defines a tool must not abort or stall the run here either.
fn with_tree<T>(language: Language, text: &str, f: impl FnOnce(&tree_sitter::Tree) -> T) -> Option<T> {
    let tree = super::comments::parse_tree(language, text, None)?;
    Some(f(&tree))
}

/// Reads a client configuration's servers.
pub fn read_config(format: ConfigFormat, text: &str) -> (McpSurface, Vec<SyntaxError>) {
    let mut surface = McpSurface::default();
    let mut errors = Vec::new();
    with_tree(Language::Json, text, |tree| {
        let root = tree.root_node();
        if root.has_error() {
            let at = first_error(root).map_or(TextRange::new(0, 0), range_of);
            errors.push(invalid(
                at,
                "this MCP client configuration is not valid JSON here; none of its servers is read".into(),
            ));
            return;
        }
        let Some(top) = named_children(root).find(|n| n.kind() != "comment") else { return };
        if top.kind() != "object" {
            errors.push(invalid(range_of(top), "an MCP client configuration must be a JSON object".into()));
            return;
        }
        let Some(servers) = member(top, text, format.key()) else { return };
        if servers.kind() != "object" {
            errors.push(invalid(
                range_of(servers),
                format!("`{}` must be an object of named servers; none is read", format.key()),
            ));
            return;
        }
        for pair in named_children(servers).filter(|n| n.kind() == "pair") {
            let (Some(key), Some(value)) =
                (pair.child_by_field_name("key"), pair.child_by_field_name("value"))
            else {
                continue;
            };
            let Some(name) = json_string(key, text) else { continue };
            if value.kind() != "object" {
                errors.push(invalid(
                    range_of(value),
                    "a server entry must be an object (`command` and `args`, or `url`); it is not read"
                        .into(),
                ));
                continue;
            }
            let string_at = |k: &str| member(value, text, k).and_then(|v| json_string(v, text));
            let command = string_at("command");
            let url = string_at("url").or_else(|| string_at("serverUrl")).or_else(|| string_at("httpUrl"));
            let transport = string_at("type").or_else(|| string_at("transportType")).map(|t| t.value);
            let args = member(value, text, "args")
                .filter(|a| a.kind() == "array")
                .map(|a| named_children(a).filter_map(|v| json_string(v, text)).collect())
                .unwrap_or_default();
            surface.servers.push(Server {
                name,
                range: range_of(pair),
                command,
                args,
                env: string_map(member(value, text, "env"), text),
                url,
                headers: string_map(member(value, text, "headers"), text),
                transport,
            });
        }
    });
    (surface, errors)
}

fn first_error(node: Node<'_>) -> Option<Node<'_>> {
    if node.is_error() || node.is_missing() {
        return Some(node);
    }
    let mut cursor = node.walk();
    let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
    children.into_iter().filter(|c| c.has_error() || c.is_missing()).find_map(first_error)
}

fn named_children(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    (0..node.named_child_count()).filter_map(move |i| node.named_child(i as u32))
}

/// The value of `object`'s member `key` (the last one, as JSON parsers keep it).
fn member<'t>(object: Node<'t>, text: &str, key: &str) -> Option<Node<'t>> {
    named_children(object)
        .filter(|n| n.kind() == "pair")
        .filter(|p| {
            p.child_by_field_name("key").and_then(|k| json_string(k, text)).is_some_and(|k| k.value == key)
        })
        .filter_map(|p| p.child_by_field_name("value"))
        .last()
}

/// A JSON object of strings (`env`, `headers`); other values are left out.
fn string_map(node: Option<Node<'_>>, text: &str) -> Vec<(Spanned<String>, Spanned<String>)> {
    let Some(node) = node.filter(|n| n.kind() == "object") else { return Vec::new() };
    named_children(node)
        .filter(|n| n.kind() == "pair")
        .filter_map(|p| {
            let key = json_string(p.child_by_field_name("key")?, text)?;
            let value = json_string(p.child_by_field_name("value")?, text)?;
            Some((key, value))
        })
        .collect()
}

/// A JSON string node's decoded value and the range inside its quotes.
fn json_string(node: Node<'_>, text: &str) -> Option<Spanned<String>> {
    if node.kind() != "string" {
        return None;
    }
    let (start, end) = (node.start_byte() + 1, node.end_byte().saturating_sub(1).max(node.start_byte() + 1));
    let raw = text.get(start..end)?;
    Some(Spanned::new(unescape(raw), TextRange::new(start, end)))
}

// ---------------------------------------------------------------------------------------------
// Tool definitions in code

fn tools_query(language: Language) -> Option<&'static Query> {
    static PYTHON: OnceLock<Option<Query>> = OnceLock::new();
    static JS: OnceLock<Option<Query>> = OnceLock::new();
    static TS: OnceLock<Option<Query>> = OnceLock::new();
    static TSX: OnceLock<Option<Query>> = OnceLock::new();
    static RUST: OnceLock<Option<Query>> = OnceLock::new();
    let js = include_str!("../../queries/javascript/mcp_tools.scm");
    let (cell, source) = match language {
        Language::Python => (&PYTHON, include_str!("../../queries/python/mcp_tools.scm")),
        Language::JavaScript => (&JS, js),
        Language::TypeScript => (&TS, js),
        Language::Tsx => (&TSX, js),
        Language::Rust => (&RUST, include_str!("../../queries/rust/mcp_tools.scm")),
        _ => return None,
    };
    cell.get_or_init(|| Query::new(&language.grammar()?, source).ok()).as_ref()
}

/// The tool definitions of a file's code.
pub fn read_tools(language: Language, text: &str) -> McpSurface {
    let Some(query) = tools_query(language) else { return McpSurface::default() };
    let tools = with_tree(language, text, |tree| {
        let mut tools = Vec::new();
        let mut cursor = QueryCursor::new();
        let mut matches = cursor.matches(query, tree.root_node(), text.as_bytes());
        while let Some(m) = matches.next() {
            let capture = |name: &str| {
                let index = query.capture_index_for_name(name)?;
                m.captures.iter().find(|c| c.index == index).map(|c| c.node)
            };
            let tool = match language {
                Language::Python => python_tool(capture("decorator"), capture("function"), text),
                Language::Rust => rust_tool(capture("attribute"), text),
                _ => js_tool(capture("call"), capture("method"), capture("arguments"), text),
            };
            tools.extend(tool);
        }
        tools
    })
    .unwrap_or_default();
    McpSurface { servers: Vec::new(), tools }
}

fn node_text<'t>(node: Node<'_>, text: &'t str) -> &'t str {
    text.get(node.start_byte()..node.end_byte()).unwrap_or("")
}

/// A Python string literal's content (without prefix and quotes, escapes decoded) and its range.
fn python_string(node: Node<'_>, text: &str) -> Option<Spanned<String>> {
    if node.kind() != "string" {
        return None;
    }
    let content: Vec<Node<'_>> = named_children(node)
        .filter(|c| c.kind() == "string_content" || c.kind() == "escape_sequence")
        .collect();
    let (Some(first), Some(last)) = (content.first(), content.last()) else {
        let start = named_children(node).next().map_or(node.start_byte(), |s| s.end_byte());
        return Some(Spanned::new(String::new(), TextRange::new(start, start)));
    };
    let range = TextRange::new(first.start_byte(), last.end_byte());
    let raw = range.slice(text);
    let raw_string = named_children(node)
        .next()
        .is_some_and(|start| node_text(start, text).bytes().any(|b| b == b'r' || b == b'R'));
    Some(Spanned::new(if raw_string { raw.to_string() } else { unescape(raw) }, range))
}

/// The description as the server sends it: a docstring cleaned as `inspect.cleandoc` does
/// (first line stripped, the common indentation of the others removed, blank ends dropped).
fn cleandoc(doc: &str) -> String {
    let mut lines = doc.lines();
    let first = lines.next().unwrap_or("").trim();
    let rest: Vec<&str> = lines.collect();
    let indent = rest
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<&str> = std::iter::once(first)
        .chain(rest.iter().map(|l| l.get(indent..).unwrap_or(l.trim_start())))
        .collect();
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    out.iter().map(|l| l.trim_end()).collect::<Vec<_>>().join("\n")
}

fn python_tool(decorator: Option<Node<'_>>, function: Option<Node<'_>>, text: &str) -> Option<Tool> {
    let (decorator, function) = (decorator?, function?);
    let fn_name = function.child_by_field_name("name")?;
    let mut name = Spanned::new(node_text(fn_name, text).to_string(), range_of(fn_name));
    let mut description = None;
    if let Some(args) = decorator.child_by_field_name("arguments") {
        for arg in named_children(args).filter(|a| a.kind() == "keyword_argument") {
            let key = arg.child_by_field_name("name").map(|k| node_text(k, text));
            let value = arg.child_by_field_name("value").and_then(|v| python_string(v, text));
            match (key, value) {
                (Some("name"), Some(v)) => name = v,
                (Some("description"), Some(v)) => description = Some(v),
                _ => {}
            }
        }
    }
    if description.is_none() {
        let body = function.child_by_field_name("body")?;
        description = named_children(body)
            .next()
            .filter(|s| s.kind() == "expression_statement")
            .and_then(|s| s.named_child(0))
            .and_then(|s| python_string(s, text))
            .map(|d| Spanned::new(cleandoc(&d.value), d.range));
    }
    let range = TextRange::new(decorator.start_byte().saturating_sub(1), function.end_byte());
    Some(Tool { name, description, range, host: ToolHost::Python })
}

/// A JavaScript/TypeScript string literal (quotes, or a template without substitutions).
fn js_string(node: Node<'_>, text: &str) -> Option<Spanned<String>> {
    match node.kind() {
        "string" => {
            let start = node.start_byte() + 1;
            let end = node.end_byte().saturating_sub(1).max(start);
            Some(Spanned::new(unescape(text.get(start..end)?), TextRange::new(start, end)))
        }
        "template_string" if named_children(node).all(|c| c.kind() != "template_substitution") => {
            let start = node.start_byte() + 1;
            let end = node.end_byte().saturating_sub(1).max(start);
            Some(Spanned::new(unescape(text.get(start..end)?), TextRange::new(start, end)))
        }
        _ => None,
    }
}

fn js_tool(
    call: Option<Node<'_>>,
    method: Option<Node<'_>>,
    arguments: Option<Node<'_>>,
    text: &str,
) -> Option<Tool> {
    let (call, method, arguments) = (call?, method?, arguments?);
    let mut args = named_children(arguments).filter(|a| a.kind() != "comment");
    let name = js_string(args.next()?, text)?;
    let second = args.next();
    let description = match node_text(method, text) {
        "registerTool" => second.filter(|o| o.kind() == "object").and_then(|o| {
            named_children(o)
                .filter(|p| p.kind() == "pair")
                .find(|p| {
                    p.child_by_field_name("key").is_some_and(|k| {
                        matches!(node_text(k, text), "description" | "\"description\"" | "'description'")
                    })
                })
                .and_then(|p| js_string(p.child_by_field_name("value")?, text))
        }),
        _ => second.and_then(|d| js_string(d, text)),
    };
    Some(Tool { name, description, range: range_of(call), host: ToolHost::JavaScript })
}

fn rust_tool(attribute: Option<Node<'_>>, text: &str) -> Option<Tool> {
    let attribute = attribute?;
    let item = attribute.parent()?;
    // The fn this attribute belongs to: the next sibling that is not an attribute or comment.
    let mut next = item.next_named_sibling();
    let mut docs = Vec::new();
    while let Some(n) = next {
        match n.kind() {
            "attribute_item" => {}
            "line_comment" | "block_comment" => {
                let t = node_text(n, text);
                if let Some(doc) = t.strip_prefix("///").filter(|d| !d.starts_with('/')) {
                    docs.push((n, doc.strip_prefix(' ').unwrap_or(doc).trim_end().to_string()));
                }
            }
            _ => break,
        }
        next = n.next_named_sibling();
    }
    let function = next.filter(|n| n.kind() == "function_item")?;
    // Doc comments may come before the attribute too.
    let mut prev = item.prev_named_sibling();
    while let Some(p) = prev {
        let t = node_text(p, text);
        match p.kind() {
            "attribute_item" => {}
            "line_comment" if t.starts_with("///") && !t.starts_with("////") => {
                let doc = &t[3..];
                docs.insert(0, (p, doc.strip_prefix(' ').unwrap_or(doc).trim_end().to_string()));
            }
            _ => break,
        }
        prev = p.prev_named_sibling();
    }
    let fn_name = function.child_by_field_name("name")?;
    let mut name = Spanned::new(node_text(fn_name, text).to_string(), range_of(fn_name));
    let mut description = None;
    // `#[tool(name = "...", description = "...")]`: identifier `=` string literal in the token tree.
    if let Some(tokens) = attribute.child_by_field_name("arguments") {
        let children: Vec<Node<'_>> = named_children(tokens).collect();
        for w in children.windows(2) {
            if w[0].kind() == "identifier" && w[1].kind() == "string_literal" {
                let between = text.get(w[0].end_byte()..w[1].start_byte()).unwrap_or("");
                if between.trim() != "=" {
                    continue;
                }
                let literal = w[1];
                let start = literal.start_byte() + 1;
                let end = literal.end_byte().saturating_sub(1).max(start);
                let value =
                    Spanned::new(unescape(text.get(start..end).unwrap_or("")), TextRange::new(start, end));
                match node_text(w[0], text) {
                    "name" => name = value,
                    "description" => description = Some(value),
                    _ => {}
                }
            }
        }
    }
    if description.is_none() && !docs.is_empty() {
        let range = TextRange::new(docs[0].0.start_byte(), docs[docs.len() - 1].0.end_byte());
        let joined = docs.iter().map(|(_, d)| d.as_str()).collect::<Vec<_>>().join("\n");
        description = Some(Spanned::new(joined.trim().to_string(), range));
    }
    let range = TextRange::new(item.start_byte(), function.end_byte());
    Some(Tool { name, description, range, host: ToolHost::Rust })
}

// ---------------------------------------------------------------------------------------------
// Checks

fn warning(code: Code, range: TextRange, message: String) -> SyntaxError {
    SyntaxError { code, range, message, fix: None }
}

/// The file-local checks of a surface: `mcp-tool-instruction`, `mcp-server-shell`,
/// `mcp-unpinned-package`, `mcp-plain-http`, `mcp-config-secret`.
pub fn surface_warnings(surface: &McpSurface) -> Vec<SyntaxError> {
    let mut out = Vec::new();
    for tool in &surface.tools {
        let Some(d) = &tool.description else { continue };
        let mut findings = Vec::new();
        super::agent_instructions::scan(&d.value, 0, &mut findings);
        for f in findings {
            // Decoded text (escapes, docstring indentation) need not line up with the file: the
            // warning sits on the description.
            let message = super::agent_instructions::finding_message(
                "the description of this MCP tool",
                "description",
                &f,
            );
            out.push(warning(Code::McpToolInstruction, d.range, message));
        }
    }
    for server in &surface.servers {
        server_warnings(server, &mut out);
    }
    out
}

const SHELLS: &[&str] = &["sh", "bash", "zsh", "dash", "ksh", "fish", "cmd", "powershell", "pwsh"];

/// A program's name without its directory and a Windows `.exe`/`.cmd`, lower-cased.
fn program(command: &str) -> String {
    let base = command.rsplit(['/', '\\']).next().unwrap_or(command).to_ascii_lowercase();
    for ext in [".exe", ".cmd", ".bat"] {
        if let Some(stem) = base.strip_suffix(ext) {
            return stem.to_string();
        }
    }
    base
}

fn server_warnings(server: &Server, out: &mut Vec<SyntaxError>) {
    if let Some(command) = &server.command {
        let words: Vec<&str> = command.value.split_whitespace().collect();
        let prog = program(words.first().copied().unwrap_or(""));
        let shell_flag =
            server.args.iter().map(|a| a.value.as_str()).chain(words.iter().skip(1).copied()).any(|a| {
                matches!(a.to_ascii_lowercase().as_str(), "-c" | "/c" | "/k" | "-command" | "-lc" | "-ic")
            });
        let operators = [";", "&&", "||", "|", "`", "$("];
        if SHELLS.contains(&prog.as_str()) && shell_flag {
            out.push(warning(
                Code::McpServerShell,
                command.range,
                format!(
                    "MCP server `{}` is started through a shell ({prog} with a command string): what runs is whatever the string says, hidden from the client's review of a command and its arguments",
                    server.name.value
                ),
            ));
        } else if words.len() > 1 && operators.iter().any(|o| command.value.contains(o)) {
            out.push(warning(
                Code::McpServerShell,
                command.range,
                format!(
                    "MCP server `{}` has a command line with shell operators (`;`, `&&`, `|`, ...) in its `command`: it runs more than one program or only works through a shell",
                    server.name.value
                ),
            ));
        }
        let mut args: Vec<&Spanned<String>> = server.args.iter().collect();
        let split: Vec<Spanned<String>> =
            words.iter().skip(1).map(|w| Spanned::new(w.to_string(), command.range)).collect();
        if args.is_empty() {
            args = split.iter().collect();
        }
        if let Some((package, why)) = unpinned_package(&prog, &args) {
            out.push(warning(
                Code::McpUnpinnedPackage,
                package.map_or(command.range, |p| p.range),
                format!("MCP server `{}` {why}", server.name.value),
            ));
        }
    }
    if let Some(url) = &server.url
        && let Some(rest) =
            url.value.get(..7).filter(|s| s.eq_ignore_ascii_case("http://")).map(|_| &url.value[7..])
    {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let name = if host.starts_with('[') {
            host.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
        } else {
            host.split(':').next().unwrap_or("").to_ascii_lowercase()
        };
        if !matches!(name.as_str(), "localhost" | "127.0.0.1" | "[::1]") {
            out.push(warning(
                Code::McpPlainHttp,
                url.range,
                format!(
                    "MCP server `{}` is reached over plain http: its tool descriptions and results can be read and changed on the way",
                    server.name.value
                ),
            ));
        }
    }
    for (kind, pairs) in [("env", &server.env), ("headers", &server.headers)] {
        for (key, value) in pairs {
            if looks_like_secret(&key.value, &value.value) {
                out.push(warning(
                    Code::McpConfigSecret,
                    value.range,
                    format!(
                        "MCP server `{}` has a literal secret in `{kind}.{}` of a committed configuration: use a reference (`${{input:...}}`, `${{env:...}}`) and rotate the value",
                        server.name.value, key.value
                    ),
                ));
            }
        }
    }
}

/// The package argument of a launcher that fetches and runs a package (`npx`, `bunx`,
/// `pnpx`, `uvx`, `pipx run`, `pnpm dlx`, `yarn dlx`, `npm exec`, `docker run`/`podman run`)
/// when it is not pinned to a version or digest, with why.
fn unpinned_package<'a>(
    prog: &str,
    args: &[&'a Spanned<String>],
) -> Option<(Option<&'a Spanned<String>>, String)> {
    let mut rest = args.iter().copied().peekable();
    let kind = match prog {
        "npx" | "bunx" | "pnpx" => "npm",
        "uvx" => "python",
        "pipx" | "pnpm" | "yarn" | "npm" | "bun" | "uv" => {
            let sub = rest.next()?;
            match (prog, sub.value.as_str()) {
                ("pipx", "run") => "python",
                ("pnpm" | "yarn", "dlx") | ("npm", "exec") | ("bun", "x") => "npm",
                ("uv", "tool") if rest.next().is_some_and(|a| a.value == "run") => "python",
                _ => return None,
            }
        }
        "docker" | "podman" => {
            let sub = rest.next()?;
            if sub.value != "run" {
                return None;
            }
            "image"
        }
        _ => return None,
    };
    // Flags that take a value, per launcher (the value is not the package).
    let with_value: &[&str] = match kind {
        "npm" => &["-p", "--package", "-c", "--call"],
        "python" => &["--from", "--spec", "--python", "-p", "--with", "--index-url", "--index"],
        _ => &[
            "-e",
            "--env",
            "-v",
            "--volume",
            "-p",
            "--publish",
            "--name",
            "--network",
            "-w",
            "--workdir",
            "--user",
            "-u",
            "--mount",
            "--entrypoint",
            "--env-file",
            "--platform",
            "-l",
            "--label",
        ],
    };
    let mut package = None;
    while let Some(arg) = rest.next() {
        let a = arg.value.as_str();
        if let Some(flag) = with_value.iter().find(|f| a == **f || a.starts_with(&format!("{f}="))) {
            let value = if a.len() > flag.len() { Some(arg) } else { rest.next() };
            // `--from pkg==1.0`, `--spec`, `--package`: this names the package.
            let names_package = match kind {
                "npm" => matches!(*flag, "-p" | "--package"),
                "python" => matches!(*flag, "--from" | "--spec"),
                _ => false,
            };
            if names_package {
                package = value.map(|v| {
                    let text = v
                        .value
                        .split_once('=')
                        .filter(|_| v.value.starts_with('-'))
                        .map_or(v.value.as_str(), |(_, p)| p);
                    (v, text.to_string())
                });
                if package.is_some() {
                    break;
                }
            }
            continue;
        }
        if a.starts_with('-') {
            continue;
        }
        package = Some((arg, a.to_string()));
        break;
    }
    let (arg, name) = package?;
    let unpinned = |what: &str| {
        Some((
            Some(arg),
            format!(
                "runs {what} that is not pinned ({}): what it runs can change under the same configuration",
                if kind == "image" { "no `@sha256:` digest" } else { "no exact version" }
            ),
        ))
    };
    if name.contains("://") || name.starts_with("git+") || name.starts_with("github:") {
        let pinned = name
            .rsplit_once('@')
            .is_some_and(|(_, r)| r.len() >= 40 && r.bytes().all(|b| b.is_ascii_hexdigit()))
            || name
                .rsplit_once('#')
                .is_some_and(|(_, r)| r.len() >= 40 && r.bytes().all(|b| b.is_ascii_hexdigit()));
        return if pinned { None } else { unpinned("a package from a URL") };
    }
    let pinned = match kind {
        "npm" => {
            // `@scope/name@1.2.3`, `name@1.2.3`: a version that starts with a digit (not a
            // tag such as `latest`, not a range).
            let body = name.strip_prefix('@').unwrap_or(&name);
            body.split_once('@').is_some_and(|(_, v)| exact_version(v))
        }
        "python" => name
            .split_once("==")
            .or_else(|| name.split_once('@'))
            .is_some_and(|(_, v)| exact_version(v.trim())),
        _ => name.contains("@sha256:"),
    };
    if pinned {
        None
    } else {
        unpinned(match kind {
            "image" => "a container image",
            _ => "a package",
        })
    }
}

/// `1.2.3`, `v1.2.3`, `1.2.3-beta.1`: starts with a digit, no range operators or wildcards.
fn exact_version(v: &str) -> bool {
    let v = v.strip_prefix('v').unwrap_or(v);
    v.starts_with(|c: char| c.is_ascii_digit())
        && !v.contains(['^', '~', '*', '>', '<', ' ', '|'])
        && !v.ends_with(".x")
}

/// A literal value that looks like a credential: a known token prefix, or a long opaque value
/// under a key that names a secret. References (`${input:...}`, `${env:...}`, `${VAR}`,
/// `$VAR`) and placeholders (`<token>`, `your-api-key`, `xxxx`) are not.
fn looks_like_secret(key: &str, value: &str) -> bool {
    let v = value.trim();
    let v = v
        .strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))
        .or_else(|| v.strip_prefix("token "))
        .unwrap_or(v)
        .trim();
    if v.len() < 8 || v.contains("${") || v.starts_with('$') || v.contains(['<', '>', '{', '}', ' ']) {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if lower.starts_with("your")
        || lower.contains("example")
        || lower.contains("placeholder")
        || lower.contains("xxxx")
        || lower.contains("changeme")
        || lower.contains("here")
    {
        return false;
    }
    const PREFIXES: &[&str] = &[
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
        "glpat-",
        "sk-",
        "sk_live_",
        "rk_live_",
        "xoxb-",
        "xoxp-",
        "xoxa-",
        "xapp-",
        "akia",
        "asia",
        "aiza",
        "npm_",
        "hf_",
        "pypi-",
        "shpat_",
        "sg.",
        "dop_v1_",
        "lin_api_",
    ];
    if PREFIXES.iter().any(|p| lower.starts_with(p)) && v.len() >= 16 {
        return true;
    }
    let key = key.to_ascii_lowercase();
    let secret_key = [
        "token",
        "secret",
        "password",
        "passwd",
        "api_key",
        "apikey",
        "api-key",
        "authorization",
        "credential",
        "private_key",
        "access_key",
        "_pat",
        "auth",
    ]
    .iter()
    .any(|k| key.contains(k));
    let opaque = v.len() >= 16
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.=+/:".contains(&b))
        && v.bytes().any(|b| b.is_ascii_digit())
        && v.bytes().any(|b| b.is_ascii_alphabetic());
    secret_key && opaque
}

#[cfg(test)]
mod tests;
