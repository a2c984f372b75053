//! Syntax: from a file's text to annotations, with exact ranges. Pure functions of text.
//!
//! Owns: the language registry ([`language`]), tree-sitter comment extraction ([`comments`]),
//! merge-conflict markers ([`conflicts`]), annotation text that addresses an AI agent or hides
//! content ([`agent_instructions`]), the fast comment lexer that stands in for a full
//! parse where it provably agrees with tree-sitter ([`lexer`]), `x-threatspec` keys in
//! YAML/JSON ([`embedded`]), the literal prefilter ([`prefilter`]), the verb table
//! ([`verbs`]), the canonical GAL spelling of a parsed annotation ([`canonical`]), the verb grammar written once as data ([`grammar`]: slots, keywords, kinds),
//! the edit distance of every "did you mean" ([`edit_distance`]), the one parser for all three
//! dialects ([`parser`]) and the definition a comment sits in ([`symbols`], for the
//! `coverage.scope: symbol` setting), and reparsing a text edited in place ([`incremental`]: the
//! kept tree, and comment ranges mapped through byte edits). Also the inline string a reference's
//! name or id is kept in ([`small_str`]).
//!
//! Must never: do I/O, resolve references across files, or fail. Parsing returns what it
//! understood plus [`SyntaxError`]s; a broken line never hides the lines after it.
//!
//! Pipeline for one file: prefilter -> comment ranges (fast lexer, else tree-sitter) ->
//! candidate lines (comment text with delimiters stripped, each a byte range into the file) ->
//! annotation parser.

pub mod agent_instructions;
pub mod ast;
pub mod bytes;
pub mod canonical;
pub mod comments;
pub mod conflicts;
pub mod edit_distance;
pub mod embedded;
pub mod grammar;
pub mod incremental;
pub mod language;
pub mod lexer;
pub mod mcp;
pub mod parser;
pub mod prefilter;
pub mod small_str;
pub mod symbols;
pub mod verbs;

use crate::diagnostic::Code;
use crate::text::TextRange;
pub use ast::*;
pub use comments::ParseBudget;
pub use language::Language;
pub use symbols::enclosing_symbols;

/// One line of comment (or document) text that may hold an annotation.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CandidateLine {
    /// The line's content with comment delimiters and the leading `*`, `#`, `//`, `--` ... and
    /// surrounding whitespace stripped, as a byte range into the file text.
    pub range: TextRange,
    /// Lines of the same comment share a block number (continuation lines and ThreatSpec
    /// extended YAML blocks never cross comments). Increasing in file order.
    pub block: u32,
    /// Fields attached from outside the line (the value map of an `x-threatspec` key).
    pub fields: Vec<(String, String)>,
}

/// A problem found while parsing one file; the model attaches the file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyntaxError {
    pub code: Code,
    pub range: TextRange,
    pub message: String,
    /// A replacement that fixes the problem (e.g. the suggested verb), with its label.
    pub fix: Option<(String, TextRange, String)>,
}

/// Everything the syntax layer learns from one file.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParsedFile {
    pub annotations: Vec<Annotation>,
    pub errors: Vec<SyntaxError>,
    /// The MCP servers a client configuration names, or the MCP tools the code defines
    /// ([`mcp`]); `None` for the many files without (boxed: it keeps every file's facts small).
    pub mcp: Option<Box<mcp::McpSurface>>,
}

impl ParsedFile {
    /// The file's MCP surface (empty for most files).
    pub fn mcp(&self) -> &mcp::McpSurface {
        static EMPTY: mcp::McpSurface = mcp::McpSurface { servers: Vec::new(), tools: Vec::new() };
        self.mcp.as_deref().unwrap_or(&EMPTY)
    }
}

/// Gives back a vector's growth slack by moving its items into an allocation of exactly their
/// number. `Vec::shrink_to_fit` does not do it under the binary's allocator: mimalloc's
/// `realloc` keeps a block that is at most half unused, so 10 annotations in a vector grown to
/// 16 kept 2 KB of slack per file (~40 MB on the 20,000-file benchmark). For what lives as long
/// as the index (parse results, derived facts).
pub fn fit_exactly<T>(items: &mut Vec<T>) {
    if items.capacity() > items.len() {
        let mut exact = Vec::with_capacity(items.len());
        exact.append(items);
        *items = exact;
    }
}

/// The items of `items` moved into an allocation of exactly their number (one `memcpy`),
/// leaving `items` empty with its room: for a scratch vector reused from file to file whose
/// contents live as long as the index (see [`fit_exactly`]).
pub fn take_exactly<T>(items: &mut Vec<T>) -> Vec<T> {
    let mut exact = Vec::with_capacity(items.len());
    exact.append(items);
    exact
}

/// Parses one file: prefilter, candidate lines for its language, then the annotation parser.
pub fn parse_file(language: Language, text: &str) -> ParsedFile {
    parse_file_in(language, text, None).0
}

/// What the walk reads from a file at `path` (a [`crate::file_id::FileId`]'s text): its
/// annotations ([`parse_file_in`]) and its MCP surface ([`mcp::read_surface`]: a client
/// configuration by its name, tool definitions in code that passes [`mcp::may_define_tool`]),
/// with the problems of both. `true` when parsing ran out of time.
pub fn parse_source(
    path: &str,
    language: Language,
    text: &str,
    project: Option<&ParseBudget>,
) -> (ParsedFile, bool) {
    let annotations = prefilter::may_contain_annotation(text.as_bytes());
    parse_source_prefiltered(path, language, text, project, annotations)
}

/// [`parse_source`] for a caller that has already asked the prefilter about `text` (the walk
/// asks it of every file it reads, to decide whether to decode and parse it at all):
/// `annotations` is [`prefilter::may_contain_annotation`]'s answer, taken once (~5 instructions
/// a byte of every parsed file). `false` reads only the MCP surface.
pub fn parse_source_prefiltered(
    path: &str,
    language: Language,
    text: &str,
    project: Option<&ParseBudget>,
    annotations: bool,
) -> (ParsedFile, bool) {
    let (mut parsed, out_of_time) =
        if annotations { parse_prefiltered(language, text, project) } else { (ParsedFile::default(), false) };
    add_mcp_surface(path, language, text, &mut parsed);
    (parsed, out_of_time)
}

/// Adds the MCP surface of the file at `path` ([`mcp::read_surface`]) and its problems to
/// `parsed`, then the file's `no-syntax-tree` note ([`read_without_tree_note`]):
/// [`parse_source`]'s second half, for the language server's open documents too.
pub fn add_mcp_surface(path: &str, language: Language, text: &str, parsed: &mut ParsedFile) {
    let (surface, errors) = mcp::read_surface(language, mcp::config_format(path), text);
    parsed.mcp = (!surface.is_empty()).then(|| Box::new(surface));
    parsed.errors.extend(errors);
    parsed.errors.extend(read_without_tree_note(language, text));
}

/// The `no-syntax-tree` note of a text that was read without a tree because its grammar's
/// scanner could not survive it ([`comments::scanner_hazard`]), at the cause, when that lost
/// something: the text may hold an annotation (the prefilter passes) that needed the tree (the
/// fast lexer declines, or `x-threatspec` values are read from the tree), or may define an MCP
/// tool (always read from a tree). A pure function of the text, so it is cached with the file's
/// facts, and `check` and the language server give the same note.
pub fn read_without_tree_note(language: Language, text: &str) -> Option<SyntaxError> {
    let hazard = comments::scanner_hazard(language, text)?;
    let bytes = text.as_bytes();
    let comments_need_tree = prefilter::may_contain_annotation(bytes)
        && (lexer::comment_ranges(language, text).is_none()
            || (language.has_embedded_annotations() && embedded::mentions_key(bytes)));
    if !comments_need_tree && !mcp::may_define_tool(language, bytes) {
        return None;
    }
    let end = memchr::memchr2(b'\n', b'\r', &bytes[hazard.at..]).map_or(text.len(), |n| hazard.at + n);
    let message = format!(
        "this file was read without a syntax tree, because {}: only its whole-line comments were \
         read (annotations after code or in block comments, and MCP tool definitions, are not)",
        hazard.why
    );
    Some(SyntaxError { code: Code::NoSyntaxTree, range: TextRange::new(hazard.at, end), message, fix: None })
}

/// Whether the walk must parse a file at `path` whose bytes hold no annotation literal: an MCP
/// client configuration, or code that may define an MCP tool.
pub fn may_hold_mcp(path: &str, language: Language, bytes: &[u8]) -> bool {
    mcp::config_format(path).is_some() || mcp::may_define_tool(language, bytes)
}

/// [`parse_file`], drawing tree-sitter time from a project's budget too; `true` when the file
/// was read with the line-comment fallback because parsing ran out of time (so comments after
/// code and block comments were not read).
pub fn parse_file_in(language: Language, text: &str, project: Option<&ParseBudget>) -> (ParsedFile, bool) {
    if !prefilter::may_contain_annotation(text.as_bytes()) {
        return (ParsedFile::default(), false);
    }
    parse_prefiltered(language, text, project)
}

/// [`parse_file_in`] of a text the prefilter passed.
fn parse_prefiltered(language: Language, text: &str, project: Option<&ParseBudget>) -> (ParsedFile, bool) {
    let (lines, out_of_time) = candidate_lines_in(language, text, project);
    (parse_candidate_lines(text, &lines), out_of_time)
}

/// The bounds of `text.trim()` in `text` (start, end). Comment lines and annotation arguments
/// are trimmed often, mostly of a space or two: ASCII whitespace (the ASCII characters
/// `char::is_whitespace` holds for) is skipped a byte at a time, and `str::trim`, which decodes
/// characters, only asked on a non-ASCII byte (a Unicode space may follow). Text trimmed of
/// plain spaces to a visible ASCII byte at both ends (most arguments once split: `" Name "`)
/// is answered inline, without the call.
#[inline(always)]
pub(crate) fn trim_bounds(text: &str) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() && bytes[start] == b' ' {
        start += 1;
    }
    let mut end = bytes.len();
    while end > start && bytes[end - 1] == b' ' {
        end -= 1;
    }
    let visible = |b: u8| (b'!'..=b'~').contains(&b);
    if start == end || (visible(bytes[start]) && visible(bytes[end - 1])) {
        return (start, end);
    }
    trim_bounds_slow(text)
}

/// [`trim_bounds`] of text that may start or end with whitespace.
fn trim_bounds_slow(text: &str) -> (usize, usize) {
    let bytes = text.as_bytes();
    let space = |b: u8| matches!(b, b' ' | b'\t'..=b'\r');
    let mut start = 0;
    while start < bytes.len() && space(bytes[start]) {
        start += 1;
    }
    if start < bytes.len() && !bytes[start].is_ascii() {
        start = text.len() - text.trim_start().len();
    }
    let mut end = bytes.len();
    while end > start && space(bytes[end - 1]) {
        end -= 1;
    }
    if end > start && !bytes[end - 1].is_ascii() {
        end = start + text[start..end].trim_end().len();
    }
    (start, end)
}

/// The annotation parser over a file's candidate lines, plus the
/// `agent-instruction-in-annotation` warnings of its annotations ([`agent_instructions`]) and
/// one `conflict-marker` note per merge-conflict block ([`conflicts`]) when the file holds
/// annotations or syntax errors (a file that adds nothing to the model needs no word on which
/// version it holds). `check` and the language server both read a file through this.
pub fn parse_candidate_lines(text: &str, lines: &[CandidateLine]) -> ParsedFile {
    let mut parsed = parser::parse_lines(text, lines);
    let warnings = agent_instructions::annotation_warnings(text, &parsed.annotations);
    parsed.errors.extend(warnings);
    if !parsed.annotations.is_empty() || !parsed.errors.is_empty() {
        parsed.errors.extend(conflicts::conflict_notes(text));
    }
    parsed
}

/// Candidate lines of `text` for `language`: comments, whole-document lines, and
/// `x-threatspec` values. YAML/JSON files that hold `x-threatspec` are parsed once for both.
/// Blocks are numbered in file order.
pub fn candidate_lines(language: Language, text: &str) -> Vec<CandidateLine> {
    candidate_lines_in(language, text, None).0
}

/// [`candidate_lines`] drawing from `project`'s parse budget; `true` when parsing ran out of
/// time.
fn candidate_lines_in(
    language: Language,
    text: &str,
    project: Option<&ParseBudget>,
) -> (Vec<CandidateLine>, bool) {
    let embedded_possible = language.has_embedded_annotations() && embedded::mentions_key(text.as_bytes());
    if !embedded_possible {
        return comments::candidate_lines_in(language, text, project);
    }
    // A YAML tree costs ~1,000 instructions per byte: most OpenAPI files are read without one.
    if language == Language::Yaml
        && let Some((ranges, embedded)) = embedded::yaml_lines_without_tree(text)
    {
        return (with_embedded(comments::lines_from_comments(language, text, ranges), embedded), false);
    }
    let Ok(tree) = comments::parse_tree_in(language, text, project) else {
        return comments::candidate_lines_in(language, text, project);
    };
    let lines = comments::candidate_lines_in_tree(language, &tree, text);
    let embedded = embedded::x_threatspec_lines_in_tree(language, &tree, text);
    (with_embedded(lines, embedded), false)
}

/// A file's comment `lines` and its `x-threatspec` lines (`embedded`, blocks numbered from 0)
/// in file order, blocks renumbered in that order.
fn with_embedded(mut lines: Vec<CandidateLine>, embedded: Vec<CandidateLine>) -> Vec<CandidateLine> {
    if embedded.is_empty() {
        return lines;
    }
    // Embedded strings never share a block with a comment: give them their own numbers,
    // then renumber everything by first appearance so blocks increase in file order.
    let base = lines.iter().map(|l| l.block + 1).max().unwrap_or(0);
    lines.extend(embedded.into_iter().map(|mut l| {
        l.block += base;
        l
    }));
    lines.sort_by_key(|l| l.range.start);
    // A block's lines are contiguous in file order (comments and strings never interleave),
    // so a new number starts wherever the old one changes.
    let mut previous = None;
    let mut next = 0;
    for line in &mut lines {
        if previous != Some(line.block) {
            previous = Some(line.block);
            next += 1;
        }
        line.block = next - 1;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_blocks_increase_in_file_order_across_comments_and_embedded_strings() {
        let text = "# @threat A (#a)\nx-threatspec: \"@exposes App to #a\"\n# @mitigates App against #a\n";
        let lines = candidate_lines(Language::Yaml, text);
        let blocks: Vec<u32> = lines.iter().map(|l| l.block).collect();
        assert_eq!(blocks, [0, 1, 2], "{lines:?}");
        let parsed = parse_file(Language::Yaml, text);
        assert_eq!(parsed.annotations.len(), 3, "{parsed:?}");
    }

    /// A file refused a tree for its scanner's sake is never read short silently: a
    /// `no-syntax-tree` note at the cause, on the path `check` takes ([`parse_source`]) and the
    /// language server's ([`add_mcp_surface`] after its own reading), and only when something
    /// needed the tree.
    #[test]
    fn a_file_read_without_a_tree_gets_a_note_at_the_cause() {
        let notes = |path: &str, language, text: &str| -> Vec<(TextRange, String)> {
            let (parsed, out_of_time) = parse_source(path, language, text, None);
            assert!(!out_of_time);
            let mut document = parse_candidate_lines(text, &candidate_lines(language, text));
            add_mcp_surface(path, language, text, &mut document);
            let of_code = |parsed: &ParsedFile| -> Vec<(TextRange, String)> {
                let notes = parsed.errors.iter().filter(|e| e.code == Code::NoSyntaxTree);
                notes.map(|e| (e.range, e.message.clone())).collect()
            };
            assert_eq!(of_code(&parsed), of_code(&document), "{text:?}");
            of_code(&parsed)
        };
        // Kotlin whose last line holds an `@`, with an unterminated string the lexer declines.
        let kotlin = "// @audit Kt.A\nval s = \"x // @audit Kt.Lost\n@Deprecated(\"x";
        let found = notes("a.kt", Language::Kotlin, kotlin);
        assert_eq!(found.len(), 1, "{found:?}");
        let (range, message) = &found[0];
        assert_eq!(range.slice(kotlin), "@Deprecated(\"x");
        assert!(
            message.contains("read without a syntax tree, because its last line holds an `@`"),
            "{message}"
        );
        // Nothing needed a tree: no annotation literal, or the fast lexer read every comment.
        assert_eq!(notes("a.kt", Language::Kotlin, "val s = 1\n@Deprecated(\"x"), []);
        assert_eq!(notes("a.kt", Language::Kotlin, "// @audit Kt.A\nfun f() = 1 @A"), []);
        // A tool definition is always read from a tree: the note comes without any annotation.
        let deep: String = (0..400).map(|i| format!("{}if x:\n", " ".repeat(i))).collect();
        let tool = format!("@mcp.tool()\ndef f():\n    pass\n{deep}");
        let found = notes("t.py", Language::Python, &tool);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0.slice(&tool), format!("{}if x:", " ".repeat(360)));
    }
}
