//! Comment extraction: from a file's text to [`CandidateLine`]s, each an exact byte range into
//! the file.
//!
//! Owns: parsing with tree-sitter (one cached `Parser` per language and thread, and a count of
//! the parses each thread ran, [`trees_built`]; the node kinds each language's comment query
//! names, resolved once per process), turning comment nodes into lines with their delimiters
//! stripped, grouping lines into blocks, and the line-based reading of the kinds without a
//! grammar, and where broken code is re-scanned.
//!
//! Must never: read annotation text outside comments (string literals, regexes and docstrings
//! are not comments, so they never produce lines), panic, or do I/O.
//!
//! # Comments inside preprocessor directives
//!
//! The C, C++ and C# grammars keep a trailing `// ...` of `#define X 1 // c`, `#pragma once
//! // c` or `#error x // c` inside the directive's `preproc_arg` token. Compilers see a
//! comment there, and so does the fast lexer, so the argument is scanned with
//! [`super::lexer::comments_in_directive`] and its comments count like any other.
//!
//! # Lines
//!
//! Each comment node is split into lines at `\n`, `\r\n` or a lone `\r`. From each line this
//! strips, in order: the closer on the comment's last line (`*/`, Lua `]]`/`]==]`, `-->`); the
//! surrounding whitespace; the opener (`///`, `//!`, `//`, `/**`, `/*!`, `/*`, a run of `#`,
//! Lua `--[[`/`--[==[`/`---`/`--`, Ruby `=begin`, `<!--`) on the comment's first line (and on
//! every line of a line comment); a run of `*` on the lines of a `/* */` comment (Javadoc
//! continuation); then whitespace again. A Ruby `=end` line is dropped. Lines empty after
//! stripping produce nothing. A `--` is only a comment marker in Lua, and only once at the
//! start of the comment, so `#   -- "more text"` yields `-- "more text"` (a GAL description
//! continuation).
//!
//! # Blocks
//!
//! All lines of one comment share a block number. Line comments on consecutive lines (`// a`
//! then `// b`, `# a` then `# b`) form one block, because multi-line annotations are written that
//! way; a comment that follows code on its line starts a new block, but a line comment alone on
//! the next line continues it. Block comments are never merged. Block numbers count from 0 in
//! file order, without gaps.
//!
//! # Files without a grammar
//!
//! [`Language::Gal`] and [`Language::ThreatSpecDoc`]: every non-blank line is a candidate,
//! trimmed. [`Language::PlainText`]: the same after stripping a leading run of `#` or a `//`.
//! A block is a run of non-blank lines.
//!
//! # Broken host code
//!
//! tree-sitter's error recovery can swallow comments: an HCL `<<<<<<< HEAD` opens a heredoc
//! that runs to the end of the file, a YAML or Kotlin parse stops at the break (Kotlin's
//! without reporting an error), Bash reads `# @x (#y)` as words up to a comment `#y)`. So
//! when the tree is broken ([`is_broken`]), [`comment_nodes`] re-scans each error region (an
//! ERROR node, the node around a MISSING token, text no top-level node covers) with
//! [`super::lexer::comments_in_broken_code`]. Its comments join the tree's; one that holds
//! tree comments replaces them (it read more of the line). Parsed code outside the regions is
//! never re-scanned, so its string literals never yield comments, and a tree that is not
//! broken costs only a look at the whitespace between its top-level nodes.
//!
//! Some grammars misread comments without any error, and their comment nodes are corrected:
//! tree-sitter-scala merges a block comment and a comment after it on its line into one node
//! (split where the compiler ends each); tree-sitter-swift reads `+/*` as one operator (its
//! comment is cut out of the operator); tree-sitter-rust reads a block comment after `////`
//! into the line comment (`/////*`), running it over later lines (the comment is cut at its
//! line's end). What such a grammar read past the real comment is re-scanned as broken code.
//!
//! # When tree-sitter gives up
//!
//! Parsing is cancelled after a generous time budget (5 s plus 2 s per MiB), so a pathological
//! input cannot stall a run; a walk also gives the whole project a [`ParseBudget`], so that
//! many pathological files cannot either: once it is spent, parses in progress are cancelled
//! and later files are not given to tree-sitter. Some texts are never handed to tree-sitter
//! because a grammar's C scanner could not survive them ([`scanner_hazard`]). The YAML and
//! Python scanners save their indentation stacks in tree-sitter's 1 KiB serialization buffer
//! without checking the last entry's fit, and the parser then aborts the whole process
//! (`length <= 1024`): so YAML whose block indentation (leading spaces and `- `/`? `/`: `
//! indicators) reaches [`YAML_MAX_BLOCK_COLUMN`] columns, and Python indented
//! [`PYTHON_MAX_INDENT`] columns or more (lines continued with a `\` counting together), are
//! read without a tree. The Ruby scanner saves each open heredoc's word length in one byte and
//! asserts on restore, and tests a heredoc's fit two bytes short of what it writes, so Ruby
//! with a heredoc word of [`RUBY_MAX_HEREDOC_WORD`] bytes or more, or with heredocs and `#{`
//! interpolations that could fill [`RUBY_MAX_STATE`] bytes of state together, is read without
//! a tree too, and so is Kotlin whose last line holds an `@` with no line break after it: the
//! Kotlin scanner skips ahead from an `@` without testing for the end of the text and would
//! never return. When the parse fails (cancelled, refused, or the grammar cannot be loaded),
//! the file is scanned for whole-line comments that start with the language's line-comment
//! markers ([`Language::line_comment_markers`]); comments after code and block comments are
//! then not read, because without a tree a marker inside a string cannot be told apart. A file
//! refused for its scanner's sake says so: [`super::add_mcp_surface`] gives it a
//! `no-syntax-tree` note at the cause when it may hold what the fallback cannot read.
//!
//! tree-sitter-kotlin-ng reads no further than an ASCII control character (other than
//! whitespace), and its error recovery after one took 5 s and 320 MB on 471 bytes. Kotlin is
//! therefore parsed with those characters read as spaces (one byte for one, so node ranges
//! stay ranges of the text): the tree goes on past them, and so does the reading.

use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tree_sitter::{ParseOptions, ParseState, Parser, Tree};

use super::language::LANGUAGE_COUNT;
use super::{CandidateLine, Language};
use crate::text::TextRange;

/// Candidate lines of `text`: comment lines for tree-sitter languages, document lines for the
/// line-based kinds. Never fails; an empty result means nothing to read.
pub fn candidate_lines(language: Language, text: &str) -> Vec<CandidateLine> {
    candidate_lines_in(language, text, None).0
}

/// [`candidate_lines`], drawing tree-sitter time from `project`'s budget too; `true` when the
/// lines come from the line-comment fallback because parsing ran out of time.
pub(crate) fn candidate_lines_in(
    language: Language,
    text: &str,
    project: Option<&ParseBudget>,
) -> (Vec<CandidateLine>, bool) {
    candidate_lines_within(language, text, parse_budget(text), project)
}

/// [`candidate_lines_in`] with an explicit parse time budget for this file.
fn candidate_lines_within(
    language: Language,
    text: &str,
    budget: Duration,
    project: Option<&ParseBudget>,
) -> (Vec<CandidateLine>, bool) {
    if text.len() > u32::MAX as usize {
        return (Vec::new(), false);
    }
    if language.grammar().is_none() {
        return (document_lines(language, text), false);
    }
    if let Some(comments) = super::lexer::comment_ranges(language, text) {
        return (lines_from_comments(language, text, comments), false);
    }
    match parse_tree_within(language, text, None, budget, project) {
        Ok(tree) => (candidate_lines_in_tree(language, &tree, text), false),
        Err(why) => (fallback_lines(language, text), why == NoTree::OutOfTime),
    }
}

/// Parses `text` with the language's grammar, reusing `old` (already edited with
/// `Tree::edit`) for an incremental reparse. `None` for the line-based kinds, texts over 4 GiB,
/// or when the parse was cancelled (see the module docs).
pub fn parse_tree(language: Language, text: &str, old: Option<&Tree>) -> Option<Tree> {
    parse_tree_within(language, text, old, parse_budget(text), None).ok()
}

/// [`parse_tree`] of a whole text, drawing time from `project`'s budget too.
pub(crate) fn parse_tree_in(
    language: Language,
    text: &str,
    project: Option<&ParseBudget>,
) -> Result<Tree, NoTree> {
    parse_tree_within(language, text, None, parse_budget(text), project)
}

/// Why a text has no tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NoTree {
    /// The parse ran out of time: its own budget, or its project's.
    OutOfTime,
    /// Never parsed: no grammar, a text over 4 GiB, or one that could overflow a scanner.
    Refused,
}

/// Tree-sitter time that all the files of one project may take together, shared by the
/// threads that read them. Each parse still has its own budget too; past this one, parses in
/// progress are cancelled and later files are not parsed (both are read with the line-comment
/// fallback), so a repository of many slow files costs this much, not 5 s per file.
#[derive(Debug)]
pub struct ParseBudget {
    limit_ns: u64,
    spent_ns: AtomicU64,
    refused: AtomicUsize,
}

impl ParseBudget {
    pub fn new(limit: Duration) -> Self {
        ParseBudget {
            limit_ns: u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX),
            spent_ns: AtomicU64::new(0),
            refused: AtomicUsize::new(0),
        }
    }

    /// Parses not started because the budget was spent.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::Relaxed)
    }

    /// Whether the budget is spent.
    pub fn is_spent(&self) -> bool {
        self.spent_ns.load(Ordering::Relaxed) >= self.limit_ns
    }

    /// Counts `time` as spent; whether any budget is left.
    fn spend(&self, time: Duration) -> bool {
        let ns = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
        self.spent_ns.fetch_add(ns, Ordering::Relaxed).saturating_add(ns) < self.limit_ns
    }
}

/// Time allowed for one parse: 5 s plus 2 s per MiB. Normal code parses at 3-4 MB/s in a
/// release build (about 4x slower in a debug build), so only pathological inputs reach it
/// (tree-sitter's error recovery is quadratic in the nesting depth of unclosed brackets:
/// 10,000 `[` take most of a second).
fn parse_budget(text: &str) -> Duration {
    Duration::from_secs(5) + Duration::from_millis(2000 * (text.len() as u64 >> 20))
}

/// YAML block indentation (in columns) from which the grammar's scanner could overflow: it
/// keeps 4 bytes per indentation level after a 10-byte header, and each level is at least
/// one column deeper than the last.
pub const YAML_MAX_BLOCK_COLUMN: usize = 240;

/// Python indentation (in columns, a tab counting 8) from which the grammar's scanner could
/// overflow: 2 bytes per level after up to 257 bytes of string delimiters.
pub const PYTHON_MAX_INDENT: usize = 360;

/// Why a grammar's external scanner could not survive a text ([`scanner_hazard`]), and where:
/// such a text is read without a tree, with the line-comment fallback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScannerHazard {
    /// Byte offset of the cause: the start of the line, or the token, that reaches the limit.
    pub at: usize,
    /// Why, worded to follow "read without a syntax tree, because".
    pub why: String,
}

/// Whether `text` could drive `language`'s external scanner past its state buffer, or into a
/// loop that never ends (see the module docs); such a text is read without a tree.
fn breaks_scanner(language: Language, text: &str) -> bool {
    scanner_hazard(language, text).is_some()
}

/// The first place where `text` could drive `language`'s external scanner past its state
/// buffer (tree-sitter then aborts the whole process) or into a loop that never ends (no parse
/// budget stops a scanner), with why. Each test is a cheap byte-level superset of the texts
/// that reach the C code's failure, derived in the doc comment of the test.
// @exposes ThreatAnalyzer.Parser to #parser-crash -- "grammars are C code; three abort the process on deep indentation or heredocs, one loops forever at the end of a text"
// @mitigates ThreatAnalyzer.Parser against #parser-crash using #scanner-guard
pub fn scanner_hazard(language: Language, text: &str) -> Option<ScannerHazard> {
    let bytes = text.as_bytes();
    let hazard = |at, why| Some(ScannerHazard { at, why });
    match language {
        Language::Yaml => yaml_deep_line(text).and_then(|at| {
            hazard(
                at,
                format!(
                    "its block indentation reaches {YAML_MAX_BLOCK_COLUMN} columns here, where the \
                     YAML grammar's scanner could overflow its saved state (which aborts the process)"
                ),
            )
        }),
        Language::Python => python_deep_line(text).and_then(|at| {
            hazard(
                at,
                format!(
                    "its indentation (lines continued with a `\\` counted together) reaches \
                     {PYTHON_MAX_INDENT} columns here, where the Python grammar's scanner could \
                     overflow its saved state (which aborts the process)"
                ),
            )
        }),
        Language::Ruby => ruby_heredoc_hazard(bytes),
        Language::Kotlin => kotlin_scanner_may_not_end(bytes).and_then(|at| {
            hazard(
                at,
                "its last line holds an `@` with no line break after it, where the Kotlin \
                 grammar's scanner would never return"
                    .to_string(),
            )
        }),
        _ => None,
    }
}

/// Start of the first line of a YAML text whose block indentation (leading spaces, tabs and
/// `- `/`? `/`: ` indicators) reaches [`YAML_MAX_BLOCK_COLUMN`] columns.
fn yaml_deep_line(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    lines(text).find_map(|(start, end)| {
        let indent =
            bytes[start..end].iter().take_while(|&&b| matches!(b, b' ' | b'\t' | b'-' | b'?' | b':'));
        (indent.count() >= YAML_MAX_BLOCK_COLUMN).then_some(start)
    })
}

/// Start of the first line of a Python text where tree-sitter-python's scanner could count an
/// indentation of [`PYTHON_MAX_INDENT`] columns or more. The scanner counts blanks from a line
/// break (a space 1, a tab 8; a `\r` or `\f` starts again from 0), and a `\` right before a
/// line break continues the count on the next line without starting again: so `" \\\n"`
/// repeated adds a column per line, and 600 such levels inside an f-string aborted `check`
/// although no line was indented more than 8 columns. So each line counts its leading blanks
/// plus those carried from the lines before it that hold only blanks and a `\` (a form feed
/// counts 1 instead of starting again: a larger count only refuses more).
fn python_deep_line(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut carried = 0;
    lines(text).find_map(|(start, end)| {
        let line = &bytes[start..end];
        let blanks = line.iter().take_while(|&&b| matches!(b, b' ' | b'\t' | b'\x0c')).count();
        let width = carried + line[..blanks].iter().map(|&b| if b == b'\t' { 8 } else { 1 }).sum::<usize>();
        carried = if line[blanks..] == *b"\\" { width } else { 0 };
        (width >= PYTHON_MAX_INDENT).then_some(start)
    })
}

/// Offset of the first `@` on the last line of a Kotlin text, if any: where
/// tree-sitter-kotlin-ng's scanner could loop forever. At an `@` where a `constructor` or a
/// property accessor may follow, it skips ahead to the next blank (or, once it has seen a `(`,
/// to the next `\n`) without testing for the end of the text, where the lookahead is 0 for
/// ever (`@Deprecated("For binary compati` ending a file hung `check`; found by the lexers5
/// branch). A `\n` after the `@` ends both loops, so only an `@` on the last line, with no
/// line break after it, can reach the end.
fn kotlin_scanner_may_not_end(bytes: &[u8]) -> Option<usize> {
    let line_start = memchr::memrchr(b'\n', bytes).map_or(0, |at| at + 1);
    memchr::memchr(b'@', &bytes[line_start..]).map(|at| line_start + at)
}

/// Heredoc delimiter length (bytes) from which tree-sitter-ruby's scanner could abort: it
/// stores each open heredoc's word length in one byte, so a word of 256 bytes or more (a quoted
/// `<<'...` that never closes runs on to the end of the text) is restored shorter than it was
/// saved and its `assert(size == length)` fails (found by the `parser` fuzz target).
pub const RUBY_MAX_HEREDOC_WORD: usize = 250;

/// Bytes of saved state from which tree-sitter-ruby's scanner could write past tree-sitter's
/// 1 KiB buffer (see [`scanner_hazard`]); the exact bound is 1025, less a margin.
pub const RUBY_MAX_STATE: usize = 1000;

/// The first Ruby heredoc opener that could make tree-sitter-ruby's scanner abort the process.
///
/// A word of [`RUBY_MAX_HEREDOC_WORD`] bytes or more, see there. Short words can too: the
/// scanner saves 2 bytes, 5 per open literal (a string, symbol, regex ... whose content is
/// being read) and 3 plus a length byte plus the word per open heredoc, but tests each
/// heredoc's fit as `size + 2 + word < 1024` before writing `size + 4 + word` bytes; when
/// that is exactly 1025 tree-sitter's `length <= 1024` assertion aborts. Both
/// `x = "#{"#{ ... <<ABCD}"}"` (203 literals open inside one another) and 100 heredocs opened
/// on one line (`f(<<A000, <<A001, ...)`) did (found by the scanners branch). A literal opens
/// inside another one only in an interpolation, so at most one more literal is open than the
/// text has `#{`, and at most the heredocs the text opens are open: a text is refused when
/// `2 + 5 * (#{ count + 1)` plus `4 + word` for each opener so far reaches [`RUBY_MAX_STATE`].
fn ruby_heredoc_hazard(bytes: &[u8]) -> Option<ScannerHazard> {
    let mut openers = ruby_heredoc_openers(bytes).peekable();
    openers.peek()?;
    let literals = memchr::memmem::find_iter(bytes, b"#{").count() + 1;
    let mut state = 2usize.saturating_add(literals.saturating_mul(5));
    for (at, word) in openers {
        if word >= RUBY_MAX_HEREDOC_WORD {
            let why = format!(
                "this heredoc's word is {RUBY_MAX_HEREDOC_WORD} bytes or longer, more than the Ruby \
                 grammar's scanner can save (which aborts the process)"
            );
            return Some(ScannerHazard { at, why });
        }
        state = state.saturating_add(4 + word);
        if state >= RUBY_MAX_STATE {
            let why = "its heredocs and `#{` interpolations, if open together, could overflow the \
                       Ruby grammar's saved scanner state (which aborts the process)"
                .to_string();
            return Some(ScannerHazard { at, why });
        }
    }
    None
}

/// The heredoc openers of a Ruby text, as (offset of the `<<`, word length in bytes): `<<ID`,
/// `<<~ID`, `<<-ID` (a word of letters, digits, `_` and non-ASCII bytes, which counts at least
/// the scanner's characters) or a quoted `<<'ID'`, `<<"ID"`, `` <<`ID` `` (up to the closing
/// quote, or the end of the text). Every `<<` is tried, overlapping ones too; `x << 'a'` (a
/// space after `<<`) is the append operator and opens nothing, and neither does an empty word.
fn ruby_heredoc_openers(bytes: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    memchr::memchr_iter(b'<', bytes).filter(|&at| bytes.get(at + 1) == Some(&b'<')).filter_map(|at| {
        let mut i = at + 2;
        if matches!(bytes.get(i), Some(b'~' | b'-')) {
            i += 1;
        }
        let rest = bytes.get(i..).unwrap_or_default();
        let word = match rest.first() {
            Some(&quote @ (b'\'' | b'"' | b'`')) => {
                memchr::memchr(quote, &rest[1..]).unwrap_or(rest.len() - 1)
            }
            _ => rest.iter().take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80).count(),
        };
        (word > 0).then_some((at, word))
    })
}

fn parse_tree_within(
    language: Language,
    text: &str,
    old: Option<&Tree>,
    budget: Duration,
    project: Option<&ParseBudget>,
) -> Result<Tree, NoTree> {
    if text.len() > u32::MAX as usize || breaks_scanner(language, text) {
        return Err(NoTree::Refused);
    }
    let grammar = language.grammar().ok_or(NoTree::Refused)?;
    if let Some(project) = project
        && project.is_spent()
    {
        project.refused.fetch_add(1, Ordering::Relaxed);
        return Err(NoTree::OutOfTime);
    }
    PARSERS.with(|cell| {
        let mut parsers = cell.try_borrow_mut().map_err(|_| NoTree::Refused)?;
        let slot = &mut parsers[language.index()];
        if slot.is_none() {
            let mut parser = Parser::new();
            parser.set_language(&grammar).map_err(|_| NoTree::Refused)?;
            *slot = Some(parser);
        }
        let parser = slot.as_mut().ok_or(NoTree::Refused)?;
        let deadline = Instant::now() + budget;
        // The project's budget is charged as the parse goes, so that every thread sees it run
        // out while its own parse is still running.
        let charged_until = Cell::new(Instant::now());
        let charge = |project: &ParseBudget| {
            let now = Instant::now();
            project.spend(now - charged_until.replace(now))
        };
        let mut progress = |_: &ParseState| {
            let project_left = project.is_none_or(charge);
            if !project_left || Instant::now() > deadline {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let bytes = grammar_input(language, text);
        let mut input = |offset: usize, _| bytes.get(offset..).unwrap_or_default();
        let options = ParseOptions::new().progress_callback(&mut progress);
        TREES_BUILT.set(TREES_BUILT.get() + 1);
        let tree = parser.parse_with_options(&mut input, old, Some(options));
        if let Some(project) = project {
            charge(project);
        }
        if tree.is_none() {
            // A cancelled parse would otherwise resume on the next call.
            parser.reset();
        }
        tree.ok_or(NoTree::OutOfTime)
    })
}

/// The bytes tree-sitter parses for `text`: the text itself, except that Kotlin's control
/// characters (where tree-sitter-kotlin-ng reads no further, and its error recovery took
/// 5 s and 320 MB on 471 bytes found by the `comments` fuzz target) are read as spaces. Each
/// replaces one byte with one, so every node's range is a range of `text`; comments after
/// one are read from the tree instead of re-scanned.
fn grammar_input(language: Language, text: &str) -> std::borrow::Cow<'_, [u8]> {
    let bytes = text.as_bytes();
    let stops = super::lexer::stops_the_kotlin_grammar;
    if language != Language::Kotlin || !bytes.iter().any(|&b| stops(b)) {
        return bytes.into();
    }
    bytes.iter().map(|&b| if stops(b) { b' ' } else { b }).collect::<Vec<u8>>().into()
}

/// Candidate lines from the comments of an already parsed `tree` of `text`.
pub fn candidate_lines_in_tree(language: Language, tree: &Tree, text: &str) -> Vec<CandidateLine> {
    if text.len() > u32::MAX as usize {
        return Vec::new();
    }
    match comment_nodes(language, tree, text, None) {
        Some(nodes) => lines_from_comments(language, text, nodes),
        None if language.grammar().is_none() => document_lines(language, text),
        None => fallback_lines(language, text),
    }
}

/// Byte ranges of the comment nodes of `tree` (only those overlapping `within`, when given),
/// in no particular order; `None` when the language has no comment query. Editors use the
/// `within` form to re-read only the comments an edit can have changed.
///
/// The nodes are the ones the language's comment query names, found by walking the tree
/// with a cursor rather than by running the query: tree-sitter's query cursor computes each
/// node's sibling status by scanning its later siblings, which is quadratic in the width of
/// an error node (100,000 `(` in a JavaScript file took 12 s), while this walk is linear and
/// skips every subtree outside `within`.
///
/// A tree with errors also yields the comments re-scanned from its error regions (see the
/// module docs, "Broken host code"); then the whole tree is read and the result filtered to
/// `within`, because a region outside `within` can hold a comment that reaches into it.
// @mitigates ThreatAnalyzer.Parser against #resource-exhaustion using #linear-walk
pub fn comment_nodes(
    language: Language,
    tree: &Tree,
    text: &str,
    within: Option<std::ops::Range<usize>>,
) -> Option<Vec<(usize, usize)>> {
    let kinds = comment_kinds(language)?;
    let directive_argument = directive_argument_kind(language);
    let string = string_kind(language);
    let range = within.clone().unwrap_or(0..text.len().max(1));
    let overlaps = |start: usize, end: usize| end > range.start || (start == end && end == range.start);
    let after = |start: usize| start >= range.end && start > range.start;
    // Only a broken tree has regions to re-scan: an error-free parse costs nothing more.
    let broken = is_broken(tree, text);
    if broken && within.is_some() {
        let mut nodes = comment_nodes(language, tree, text, None)?;
        nodes.retain(|&(s, e)| !after(s) && overlaps(s, e));
        return Some(nodes);
    }
    let operator = operator_kind(language);
    let mut nodes: Vec<(usize, usize)> = Vec::new();
    let mut regions: Vec<(usize, usize)> = Vec::new();
    // The end of a comment read from an operator: the grammar's nodes before it are
    // commented-out code, not comments.
    let mut commented_out = 0;
    // Code the grammar read across such a comment's end (a `"` in `///*"` opened a string
    // that ran on into the next line): where Swift reads on after the comment, the tree's
    // nodes say nothing, so that text is re-scanned as broken code is.
    let mut read_across = Vec::new();
    walk_tree_with_parents(tree, |node, parent| {
        let (start, end) = (node.start_byte(), node.end_byte());
        if start < commented_out {
            if end > commented_out && !kinds.contains(&node.kind_id()) {
                read_across.push((commented_out, end));
            }
            return WalkStep::Skip;
        }
        if broken {
            if node.is_error() {
                regions.push((start, end));
            } else if node.is_missing() {
                // The node around a missing token holds what the recovery swallowed (the
                // rest of an HCL file in an unclosed heredoc).
                let around = parent.unwrap_or(node);
                regions.push((around.start_byte(), around.end_byte()));
            }
        }
        if after(start) {
            // This node and its later siblings lie after the range.
            WalkStep::SkipSiblings
        } else if operator == Some(node.kind_id()) {
            // Read even outside `within`: what the grammar read across its comment's end can
            // reach into it.
            if let Some((s, e)) = comment_in_operator(text, start, end) {
                if !after(s) && overlaps(s, e) {
                    nodes.push((s, e));
                }
                commented_out = e;
            }
            WalkStep::Skip
        } else if !overlaps(start, end) {
            WalkStep::Skip
        } else if kinds.contains(&node.kind_id()) {
            if language == Language::Scala {
                split_merged_comments(text, start, end, &mut nodes);
            } else if let Some(line_end) = line_comment_run_across_lines(language, text, start, end) {
                // What the grammar read into the comment past its line is re-scanned.
                nodes.push((start, line_end));
                read_across.push((line_end, end));
            } else {
                nodes.push((start, end));
            }
            WalkStep::Skip
        } else if string == Some(node.kind_id()) {
            WalkStep::Skip
        } else if directive_argument == Some(node.kind_id()) {
            // `#define X 1 // c`: the grammar keeps `// c` inside the argument token.
            let found =
                text.get(start..end).and_then(|arg| super::lexer::comments_in_directive(language, arg));
            nodes.extend(
                found
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(s, e)| (start + s, start + e))
                    .filter(|&(s, e)| !after(s) && overlaps(s, e)),
            );
            WalkStep::Skip
        } else {
            WalkStep::Descend
        }
    });
    if broken {
        // Text no node covers was never read into the tree.
        regions.extend(unparsed_text(tree, text));
    }
    regions.extend(read_across.iter().copied());
    if !regions.is_empty() {
        comments_in_error_regions(language, text, regions, &mut nodes);
    }
    if !read_across.is_empty() {
        // A re-scanned comment may lie outside `within`.
        nodes.retain(|&(s, e)| !after(s) && overlaps(s, e));
    }
    Some(nodes)
}

/// Whether `tree` of `text` is broken code: it has errors, or text other than whitespace lies
/// outside its root (tree-sitter-kotlin-ng stops after `end !` without an error). Comments in
/// a broken tree's error regions are re-scanned (see the module docs).
pub fn is_broken(tree: &Tree, text: &str) -> bool {
    tree.root_node().has_error() || !unparsed_text(tree, text).is_empty()
}

/// Text other than whitespace that no top-level node covers: before, between or after the
/// root's children (a YAML parse that gave up; tree-sitter-kotlin-ng stops after `oops |`
/// without an error). Only a few gaps of whitespace between top-level nodes are looked at.
fn unparsed_text(tree: &Tree, text: &str) -> Vec<(usize, usize)> {
    let mut gaps = Vec::new();
    let mut gap = |start: usize, end: usize| {
        if text.get(start..end).is_some_and(|t| !t.trim().is_empty()) {
            gaps.push((start, end));
        }
    };
    let mut covered = 0;
    let mut cursor = tree.walk();
    if cursor.goto_first_child() {
        loop {
            let node = cursor.node();
            gap(covered, node.start_byte());
            covered = covered.max(node.end_byte());
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }
    gap(covered, text.len());
    gaps
}

/// Adds to `comments` (the tree's, sorted here) those that tree-sitter's error recovery
/// swallowed inside `regions` of broken code (see the module docs, "Broken host code"): each
/// region, merged with those it overlaps, is re-scanned with
/// [`super::lexer::comments_in_broken_code`]. A re-scanned comment that overlaps tree comments
/// replaces them when it holds them all (the recovery lexed `# @threat X (#x)` as code up to
/// a comment `#x)`); otherwise the tree's stand.
fn comments_in_error_regions(
    language: Language,
    text: &str,
    mut regions: Vec<(usize, usize)>,
    comments: &mut Vec<(usize, usize)>,
) {
    regions.sort_unstable();
    comments.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(regions.len());
    for (s, e) in regions.into_iter().filter(|&(s, e)| s < e) {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let mut superseded = vec![false; comments.len()];
    let mut found = Vec::new();
    for (s, e) in merged {
        for (rs, re) in super::lexer::comments_in_broken_code(language, text, s, e) {
            // The tree comments are sorted and do not overlap, so those overlapping `rs..re`
            // are one run.
            let first = comments.partition_point(|&(_, ce)| ce <= rs);
            let last = comments.partition_point(|&(cs, _)| cs < re);
            let overlapped = &comments[first..last.max(first)];
            if overlapped.iter().all(|&(cs, ce)| rs <= cs && ce <= re) {
                superseded[first..last.max(first)].fill(true);
                found.push((rs, re));
            }
        }
    }
    let mut superseded = superseded.into_iter();
    comments.retain(|_| !superseded.next().unwrap_or(false));
    // Two regions on one line can each re-scan the same comment (the `comments` fuzz target:
    // Kotlin `ɚ;W$//`); it is one comment.
    comments.extend(found);
    comments.sort_unstable();
    comments.dedup();
}

/// What [`walk_tree`] does after visiting a node.
pub(crate) enum WalkStep {
    /// Visit the node's children next.
    Descend,
    /// Go on with the node's next sibling.
    Skip,
    /// Go on after the node's parent (skip the node's later siblings).
    SkipSiblings,
}

/// Visits the nodes of `tree` in document order with a cursor (no recursion, so no depth
/// limit, and linear time: `goto_first_child_for_byte` would skip faster but misses children
/// of error nodes). [`walk_tree_with_parents`] also hands over each node's parent.
pub(crate) fn walk_tree(tree: &Tree, mut visit: impl FnMut(tree_sitter::Node<'_>) -> WalkStep) {
    walk_tree_with_parents(tree, |node, _| visit(node));
}

/// [`walk_tree`], handing each node's parent along (the root's is `None`) from a stack the walk
/// keeps: `Node::parent` searches down from the root each time, and a deep tree made that
/// quadratic (13.8 s for 743 bytes of `+` in a broken file, found by the `comments` fuzz
/// target).
pub(crate) fn walk_tree_with_parents(
    tree: &Tree,
    mut visit: impl FnMut(tree_sitter::Node<'_>, Option<tree_sitter::Node<'_>>) -> WalkStep,
) {
    let mut cursor = tree.walk();
    let mut parents: Vec<tree_sitter::Node<'_>> = Vec::new();
    'walk: loop {
        let node = cursor.node();
        match visit(node, parents.last().copied()) {
            WalkStep::Descend if cursor.goto_first_child() => {
                parents.push(node);
                continue;
            }
            WalkStep::SkipSiblings => {
                if !cursor.goto_parent() {
                    break;
                }
                parents.pop();
            }
            _ => {}
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
            parents.pop();
        }
    }
}

/// Candidate lines from comment byte ranges (tree-sitter's comment nodes, or the equivalent
/// ranges from [`super::lexer`]): splitting, stripping and block grouping, as the module docs
/// describe.
pub fn lines_from_comments(
    language: Language,
    text: &str,
    mut nodes: Vec<(usize, usize)>,
) -> Vec<CandidateLine> {
    if !nodes.is_sorted() {
        nodes.sort_unstable();
    }
    nodes.dedup();

    let mut out = LineSink::with_capacity(nodes.len());
    let mut prev: Option<(usize, bool)> = None; // (end of previous comment, was a line comment)
    for (start, end) in nodes {
        if start >= end
            || end > text.len()
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
            || prev.is_some_and(|(prev_end, _)| start < prev_end)
        {
            continue;
        }
        // Rust doc comments and Dockerfile comments include their line break.
        let end = start + trim_line_breaks_end(&text[start..end]);
        let style = Style::detect(language, &text[start..end]);
        let first_break = super::bytes::find_byte2(b'\n', b'\r', &text.as_bytes()[start..end]);
        let is_line = style.is_line() && first_break.is_none();
        // Whitespace and one line break since the previous line comment also means that
        // nothing but whitespace precedes this one on its line.
        let continues = matches!(prev, Some((prev_end, true))
            if is_line && on_next_line(text, prev_end, start));
        if !continues {
            out.new_block();
        }
        comment_lines(text, start, end, first_break, style, &mut out);
        prev = Some((end, is_line));
    }
    out.lines
}

thread_local! {
    static PARSERS: RefCell<Vec<Option<Parser>>> =
        RefCell::new((0..LANGUAGE_COUNT).map(|_| None).collect());
    static TREES_BUILT: Cell<u64> = const { Cell::new(0) };
}

/// How many times this thread has run a tree-sitter parse (finished or not). A caller compares
/// it before and after reading a file to learn whether finding the file's comments took a
/// syntax tree, which costs ~100 times what the byte-level lexers do: a first scan stores the
/// parse result only of such files in the index cache (see `crate::cache`'s *What an entry
/// holds*).
pub fn trees_built() -> u64 {
    TREES_BUILT.get()
}

static KINDS: [OnceLock<Option<Vec<u16>>>; LANGUAGE_COUNT] = [const { OnceLock::new() }; LANGUAGE_COUNT];

/// The node kind holding a preprocessor directive's argument (C, C++, C#), whose trailing
/// `//` comment the grammar does not split off: see [`super::lexer::comments_in_directive`].
fn directive_argument_kind(language: Language) -> Option<u16> {
    static KIND: [OnceLock<Option<u16>>; LANGUAGE_COUNT] = [const { OnceLock::new() }; LANGUAGE_COUNT];
    *KIND[language.index()].get_or_init(|| {
        if !matches!(language, Language::C | Language::Cpp | Language::CSharp) {
            return None;
        }
        let id = language.grammar()?.id_for_node_kind("preproc_arg", true);
        (id != 0).then_some(id)
    })
}

/// The node kind whose descendants are never comments, though the grammar may put one there:
/// tree-sitter-lua's scanner reads a long comment that opens a `'` or `"` string's content
/// (`'--[[x]]'`) as a comment inside the string node. Lua strings have no interpolation, so it
/// is string text, as the compiler and the Lua lexer read it.
fn string_kind(language: Language) -> Option<u16> {
    static KIND: [OnceLock<Option<u16>>; LANGUAGE_COUNT] = [const { OnceLock::new() }; LANGUAGE_COUNT];
    *KIND[language.index()].get_or_init(|| {
        if language != Language::Lua {
            return None;
        }
        let id = language.grammar()?.id_for_node_kind("string", true);
        (id != 0).then_some(id)
    })
}

/// The node kind of an operator that may hold the start of a comment: tree-sitter-swift reads
/// `//*` (and `+//`, `+/*`) as a custom operator, so `x = 1 //* @threat ...` parsed without an
/// error and without a comment. Swift's own lexer ends an operator at `//` or `/*`, where a
/// comment starts; [`comment_in_operator`] reads it. Code the grammar read on across that
/// comment's end (a string a `"` in the comment opened) is re-scanned as broken code is.
fn operator_kind(language: Language) -> Option<u16> {
    static KIND: [OnceLock<Option<u16>>; LANGUAGE_COUNT] = [const { OnceLock::new() }; LANGUAGE_COUNT];
    *KIND[language.index()].get_or_init(|| {
        if language != Language::Swift {
            return None;
        }
        let id = language.grammar()?.id_for_node_kind("custom_operator", true);
        (id != 0).then_some(id)
    })
}

/// The comment that starts inside the operator node `start..end` of `text`, as Swift reads
/// it: from the first `//` to the end of the line, or from the first `/*` to its nested close
/// (the end of the text when it never closes).
fn comment_in_operator(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let at = start + bytes[start..end].windows(2).position(|w| matches!(w, [b'/', b'/' | b'*']))?;
    let comment_end = if bytes[at + 1] == b'/' {
        memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |p| at + p)
    } else {
        super::lexer::nested_block_comment_end(bytes, at).unwrap_or(bytes.len())
    };
    Some((at, comment_end))
}

/// Where the Rust line comment `start..end` really ends, when tree-sitter-rust read it across
/// lines: after `////` its grammar lets a block comment follow as an extra inside the line
/// comment (`/////* a` ... `*/`), which ran on over the lines up to that comment's `*/` and
/// hid their code and comments. A Rust line comment ends at its line's end. (Only a `////`
/// comment can be misread so; a doc comment's node rightly ends after its line break.)
fn line_comment_run_across_lines(language: Language, text: &str, start: usize, end: usize) -> Option<usize> {
    if language != Language::Rust {
        return None;
    }
    let comment = text.as_bytes().get(start..end)?;
    let line_end = start + memchr::memchr(b'\n', comment)?;
    comment.starts_with(b"////").then_some(line_end)
}

/// Pushes the comments of the Scala comment node `start..end` of `text`: tree-sitter-scala's
/// layout scanner ends a block comment that starts its line at the blanks after it and takes a
/// comment that follows on that line into the same token (`/* x */ // @threat ...` is one
/// node), which read as one comment would hide the second one's annotation. The node is cut
/// where the compiler ends each comment (block comments nest); what follows the last one
/// (blanks) is not comment text.
fn split_merged_comments(text: &str, mut start: usize, end: usize, nodes: &mut Vec<(usize, usize)>) {
    let bytes = &text.as_bytes()[..end];
    loop {
        let comment_end = match bytes.get(start..start + 2) {
            Some(b"/*") => super::lexer::nested_block_comment_end(bytes, start).unwrap_or(end),
            Some(b"//") => memchr::memchr(b'\n', &bytes[start..]).map_or(end, |p| start + p),
            _ => end,
        };
        nodes.push((start, comment_end));
        let next =
            comment_end + bytes[comment_end..].iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
        if !matches!(bytes.get(next..next + 2), Some(b"//" | b"/*")) {
            return;
        }
        start = next;
    }
}

/// The node kind ids that `language`'s comment query names (`(comment)`, `[(line_comment)
/// (block_comment)]`): every named symbol of the grammar with one of those names, computed
/// once per process. `None` when the language has no grammar or query, or the query names no
/// node of the grammar.
fn comment_kinds(language: Language) -> Option<&'static [u16]> {
    KINDS[language.index()]
        .get_or_init(|| {
            let grammar = language.grammar()?;
            let source = language.comment_query()?;
            // Not compiled here (tree-sitter-scala's query took 81M instructions, once per
            // process): tests/comments/registry.rs compiles every query and holds this walk to
            // its captures.
            let names = query_node_names(source);
            let ids: Vec<u16> = (0..grammar.node_kind_count() as u16)
                .filter(|&id| grammar.node_kind_is_named(id))
                .filter(|&id| grammar.node_kind_for_id(id).is_some_and(|kind| names.contains(&kind)))
                .collect();
            (!ids.is_empty()).then_some(ids)
        })
        .as_deref()
}

/// The node names of a comment query: each `(name)`, skipping `;` comments.
fn query_node_names(source: &str) -> Vec<&str> {
    let mut names = Vec::new();
    for line in source.lines() {
        let line = line.split(';').next().unwrap_or_default();
        for part in line.split('(').skip(1) {
            let name = part.split(')').next().unwrap_or_default().trim();
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                names.push(name);
            }
        }
    }
    names
}

/// Collects lines and hands out dense block numbers.
struct LineSink {
    lines: Vec<CandidateLine>,
    /// Block number of the current group.
    block: u32,
    /// Whether the current group has produced a line (then a new group takes the next number).
    used: bool,
}

impl LineSink {
    fn new() -> Self {
        Self::with_capacity(0)
    }
    /// A sink for about `lines` lines (one per comment is the common case: sized once, the
    /// vector does not grow a few times per file).
    fn with_capacity(lines: usize) -> Self {
        LineSink { lines: Vec::with_capacity(lines), block: 0, used: false }
    }
    fn new_block(&mut self) {
        if self.used {
            self.block += 1;
            self.used = false;
        }
    }
    fn push(&mut self, start: usize, end: usize) {
        if start < end {
            self.used = true;
            self.lines.push(CandidateLine {
                range: TextRange::new(start, end),
                block: self.block,
                fields: Vec::new(),
            });
        }
    }
}

/// How one comment's delimiters look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// `//`, `///`, `//!`.
    Slashes,
    /// A run of `#`.
    Hash,
    /// Lua `--` / `---`.
    LuaLine,
    /// `/* ... */` (and `/** */`, `/*! */`).
    CBlock,
    /// Lua `--[[ ... ]]` with `level` `=` signs.
    LuaBlock { level: usize },
    /// Ruby `=begin ... =end`.
    RubyBlock,
    /// JavaScript `<!-- ...` (optionally closed by `-->`) or `--> ...`.
    Html,
    /// Anything else: only whitespace is stripped.
    Plain,
}

impl Style {
    fn detect(language: Language, comment: &str) -> Style {
        let b = comment.as_bytes();
        if b.starts_with(b"/*") {
            Style::CBlock
        } else if b.starts_with(b"//") {
            Style::Slashes
        } else if b.starts_with(b"#") {
            Style::Hash
        } else if language == Language::Lua && b.starts_with(b"--") {
            match lua_long_bracket(&b[2..]) {
                Some(level) => Style::LuaBlock { level },
                None => Style::LuaLine,
            }
        } else if language == Language::Ruby && b.starts_with(b"=begin") {
            Style::RubyBlock
        } else if b.starts_with(b"<!--") || b.starts_with(b"-->") {
            Style::Html
        } else {
            Style::Plain
        }
    }

    fn is_line(self) -> bool {
        matches!(self, Style::Slashes | Style::Hash | Style::LuaLine)
    }

    /// Length of the opener at the start of `s` (the first line, leading whitespace skipped).
    fn opener_len(self, s: &[u8]) -> usize {
        let prefix = |p: &[u8]| if s.starts_with(p) { p.len() } else { 0 };
        match self {
            Style::Slashes => {
                [b"///" as &[u8], b"//!", b"//"].iter().map(|p| prefix(p)).find(|&n| n > 0).unwrap_or(0)
            }
            Style::Hash => s.iter().take_while(|&&c| c == b'#').count(),
            Style::LuaLine => {
                if s.starts_with(b"---") {
                    3
                } else {
                    prefix(b"--")
                }
            }
            Style::CBlock => {
                if s.starts_with(b"/**") || s.starts_with(b"/*!") {
                    3
                } else {
                    prefix(b"/*")
                }
            }
            Style::LuaBlock { level } => {
                if s.starts_with(b"--") && lua_long_bracket(&s[2..]) == Some(level) {
                    4 + level
                } else {
                    0
                }
            }
            Style::RubyBlock => prefix(b"=begin"),
            Style::Html => prefix(b"<!--").max(prefix(b"-->")),
            Style::Plain => 0,
        }
    }

    /// Length of the closer at the end of `s` (the comment's last line).
    fn closer_len(self, s: &[u8]) -> usize {
        match self {
            Style::CBlock if s.ends_with(b"*/") => 2,
            Style::LuaBlock { level } => {
                let n = level + 2;
                if s.len() >= n
                    && s[s.len() - n] == b']'
                    && s[s.len() - 1] == b']'
                    && s[s.len() - n + 1..s.len() - 1].iter().all(|&c| c == b'=')
                {
                    n
                } else {
                    0
                }
            }
            Style::Html if s.ends_with(b"-->") => 3,
            _ => 0,
        }
    }
}

/// `[[`, `[=[`, `[==[` ... at the start of `s`: the number of `=`.
fn lua_long_bracket(s: &[u8]) -> Option<usize> {
    let rest = s.strip_prefix(b"[")?;
    let level = rest.iter().take_while(|&&c| c == b'=').count();
    (rest.get(level) == Some(&b'[')).then_some(level)
}

/// Emits the lines of the comment `text[start..end]`, whose first line break (`\n` or `\r`) is
/// at `first_break` from `start` (searched once per comment: most have none).
fn comment_lines(
    text: &str,
    start: usize,
    end: usize,
    first_break: Option<usize>,
    style: Style,
    out: &mut LineSink,
) {
    let bytes = text.as_bytes();
    let mut line_start = start;
    let mut first = true;
    loop {
        let line_break =
            if first { first_break } else { memchr::memchr2(b'\n', b'\r', &bytes[line_start..end]) };
        let (line_end, next) = match line_break {
            Some(i) => {
                let at = line_start + i;
                let next =
                    if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') { at + 2 } else { at + 1 };
                (at, next.min(end))
            }
            None => (end, end),
        };
        let last = line_end == end;
        let (s, e) = strip_comment_line(bytes, line_start, line_end, style, first, last);
        push_trimmed(text, s, e, out);
        if last {
            break;
        }
        first = false;
        line_start = next;
    }
}

/// Strips delimiters from one comment line `bytes[s..e]`; returns the remaining range.
fn strip_comment_line(
    bytes: &[u8],
    mut s: usize,
    mut e: usize,
    style: Style,
    first: bool,
    last: bool,
) -> (usize, usize) {
    if last {
        e -= style.closer_len(&bytes[s..e]);
    }
    s = skip_ws(bytes, s, e);
    if style == Style::RubyBlock && !first && bytes[s..e].starts_with(b"=end") {
        return (s, s);
    }
    if first || style.is_line() {
        s += style.opener_len(&bytes[s..e]);
    }
    if style == Style::CBlock {
        s = skip_ws(bytes, s, e);
        while s < e && bytes[s] == b'*' {
            s += 1;
        }
    }
    (s, e)
}

fn skip_ws(bytes: &[u8], mut s: usize, e: usize) -> usize {
    while s < e && matches!(bytes[s], b' ' | b'\t' | b'\x0b' | b'\x0c') {
        s += 1;
    }
    s
}

/// Trims (Unicode) whitespace off `text[s..e]` and pushes what is left.
fn push_trimmed(text: &str, s: usize, e: usize, out: &mut LineSink) {
    if s >= e || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
        return;
    }
    let (start, end) = super::trim_bounds(&text[s..e]);
    out.push(s + start, s + end);
}

/// Length of `s` without trailing `\n`/`\r`.
fn trim_line_breaks_end(s: &str) -> usize {
    let bytes = s.as_bytes();
    bytes.iter().rposition(|&b| b != b'\n' && b != b'\r').map_or(0, |last| last + 1)
}

/// True when `text[prev_end..start]` is whitespace with exactly one line break.
fn on_next_line(text: &str, prev_end: usize, start: usize) -> bool {
    let gap = &text.as_bytes()[prev_end..start];
    let mut breaks = 0;
    let mut i = 0;
    while i < gap.len() {
        match gap[i] {
            b'\r' if gap.get(i + 1) == Some(&b'\n') => {
                breaks += 1;
                i += 1;
            }
            b'\n' | b'\r' => breaks += 1,
            b' ' | b'\t' | b'\x0b' | b'\x0c' => {}
            _ => return false,
        }
        if breaks > 1 {
            return false;
        }
        i += 1;
    }
    breaks == 1
}

/// Iterates the lines of `text` as `(start, end)` byte ranges without terminators.
fn lines(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        match memchr::memchr2(b'\n', b'\r', &bytes[pos..]) {
            Some(i) => {
                let at = pos + i;
                let next =
                    if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') { at + 2 } else { at + 1 };
                let line = (pos, at);
                pos = next;
                Some(line)
            }
            None => {
                done = true;
                Some((pos, bytes.len()))
            }
        }
    })
}

/// Whole-document lines for Gal, ThreatSpecDoc and PlainText (see the module docs).
fn document_lines(language: Language, text: &str) -> Vec<CandidateLine> {
    let bytes = text.as_bytes();
    let mut out = LineSink::new();
    let mut in_block = false;
    for (mut s, e) in lines(text) {
        if s == 0 && text.starts_with('\u{feff}') {
            s = 3.min(e);
        }
        if text[s..e].trim().is_empty() {
            in_block = false;
            continue;
        }
        if !in_block {
            out.new_block();
            in_block = true;
        }
        if language == Language::PlainText {
            s = skip_ws(bytes, s, e);
            if bytes[s..e].starts_with(b"#") {
                s += Style::Hash.opener_len(&bytes[s..e]);
            } else if bytes[s..e].starts_with(b"//") {
                s += 2;
            }
        }
        push_trimmed(text, s, e, &mut out);
    }
    out.lines
}

/// Whole-line comments found by their markers, for files tree-sitter could not parse.
fn fallback_lines(language: Language, text: &str) -> Vec<CandidateLine> {
    let markers = language.line_comment_markers();
    if markers.is_empty() {
        return document_lines(language, text);
    }
    let bytes = text.as_bytes();
    let mut out = LineSink::new();
    let mut in_block = false;
    for (s, e) in lines(text) {
        let mut s = skip_ws(bytes, s, e);
        if s == 0 && text.starts_with('\u{feff}') {
            s = skip_ws(bytes, 3.min(e), e);
        }
        let rest = &bytes[s..e];
        if !markers.iter().any(|m| rest.starts_with(m.as_bytes())) {
            in_block = false;
            continue;
        }
        if !in_block {
            out.new_block();
            in_block = true;
        }
        let style = Style::detect(language, &text[s..e]);
        let style = if style.is_line() { style } else { Style::Plain };
        let (s, e) = strip_comment_line(bytes, s, e, style, true, false);
        push_trimmed(text, s, e, &mut out);
    }
    out.lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(language: Language, text: &str) -> Vec<(u32, &str)> {
        candidate_lines(language, text).into_iter().map(|l| (l.block, l.range.slice(text))).collect()
    }

    #[test]
    fn fallback_reads_whole_line_comments_only() {
        let text = "x = '# @exposes A to #b'\n  # @audit App.X\n#   -- \"more\"\n\ny = 1 # @no\n";
        let lines: Vec<_> = fallback_lines(Language::Python, text)
            .into_iter()
            .map(|l| (l.block, l.range.slice(text)))
            .collect();
        assert_eq!(lines, vec![(0, "@audit App.X"), (0, "-- \"more\"")]);
    }

    #[test]
    fn scala_comments_merged_into_one_token_are_read_apart() {
        // tree-sitter-scala reads `/* x */ // @threat ...` at the start of a line as one block
        // comment; the Scala lexer declines such texts, so this goes through the tree.
        let text = "object A {\n/* x */ // @threat Lost One (#lost)\n  val a = 1\n/* y /* z */ */\t/* @audit A.B */ // @audit C\n}\n";
        assert!(super::super::lexer::comment_ranges(Language::Scala, text).is_none());
        assert_eq!(
            contents(Language::Scala, text),
            [(0, "x"), (1, "@threat Lost One (#lost)"), (2, "y /* z */"), (3, "@audit A.B"), (4, "@audit C")]
        );
    }

    #[test]
    fn fallback_lua_strips_dashes_once() {
        let text = "-- -- \"d\"\n--- @audit A\n";
        let lines: Vec<_> =
            fallback_lines(Language::Lua, text).into_iter().map(|l| l.range.slice(text)).collect();
        assert_eq!(lines, vec!["-- \"d\"", "@audit A"]);
    }

    #[test]
    fn a_spent_project_budget_stops_parsing() {
        // The Scala lexer leaves XML literals to tree-sitter: a trailing comment is only found
        // with a tree.
        let text = "val x = <a/>  // @audit Trailing\n";
        let spent = ParseBudget::new(Duration::ZERO);
        assert!(spent.is_spent());
        assert_eq!(candidate_lines_in(Language::Scala, text, Some(&spent)), (Vec::new(), true));
        assert_eq!(spent.refused(), 1);
        let generous = ParseBudget::new(Duration::from_secs(3600));
        let (lines, out_of_time) = candidate_lines_in(Language::Scala, text, Some(&generous));
        assert!(!out_of_time);
        assert_eq!(lines.len(), 1);
        assert!(generous.spent_ns.load(Ordering::Relaxed) > 0, "the parse was charged");
        assert!(!generous.is_spent());
    }

    /// The parent the walk hands each node is `Node::parent`'s, in broken and whole trees
    /// (the walk keeps them on a stack, which a deep broken tree needs).
    #[test]
    fn the_walk_hands_each_node_its_parent() {
        let deep = format!("\"\"{}\0\u{6}0%+++#\"B#\nom\n#\u{17}&#\n", "+".repeat(60));
        let texts = [
            (Language::Hcl, deep.as_str()),
            (Language::Hcl, "a = <<EOT\nb\n"),
            (Language::Python, "def f(:\n  # c\n  return [1, (2\n"),
            (Language::JavaScript, "if (a) { b(/re/, `x${y}`) } // c\n"),
        ];
        for (language, text) in texts {
            let tree = parse_tree(language, text, None).unwrap();
            // Every way out of a node: into it, past it, past its later siblings.
            for (skip, skip_siblings) in [(0, 0), (3, 0), (0, 5), (4, 7)] {
                let mut seen = 0;
                walk_tree_with_parents(&tree, |node, parent| {
                    assert_eq!(parent, node.parent(), "{language:?} {text:?} at {node:?}");
                    seen += 1;
                    match seen {
                        n if skip > 0 && n % skip == 0 => WalkStep::Skip,
                        n if skip_siblings > 0 && n % skip_siblings == 0 => WalkStep::SkipSiblings,
                        _ => WalkStep::Descend,
                    }
                });
                assert!(seen > 3 || skip + skip_siblings > 0, "{text:?}");
            }
        }
    }

    #[test]
    fn cancelled_parse_falls_back_and_parser_recovers() {
        // Scala with an XML literal, which its lexer declines: every path here goes through
        // tree-sitter.
        let mut text = String::from("val x = <a/>\n");
        for i in 0..20_000 {
            text.push_str(&format!("val s{i} = \"// @audit Fake\"  // trailing\n// @audit A{i}\n"));
        }
        assert_eq!(
            parse_tree_within(Language::Scala, &text, None, Duration::ZERO, None).err(),
            Some(NoTree::OutOfTime)
        );
        let (lines, out_of_time) = candidate_lines_within(Language::Scala, &text, Duration::ZERO, None);
        assert!(out_of_time);
        assert_eq!(lines, fallback_lines(Language::Scala, &text));
        assert_eq!(lines.len(), 20_000);
        assert_eq!(lines[1].range.slice(&text), "@audit A1");
        // The cancelled parse is not resumed: the next parse reads the new text from scratch.
        assert_eq!(contents(Language::Scala, "<a/> // @audit B\n"), vec![(0, "@audit B")]);
        // With time enough whatever the machine's load (the default budget, 5 s + 2 s per MiB,
        // ran out once for this 1.3 MB text in a debug build at a load of ~7: a timed test).
        let (lines, out_of_time) =
            candidate_lines_within(Language::Scala, &text, Duration::from_secs(3600), None);
        assert!(!out_of_time);
        assert_eq!(lines.len(), 40_000);
    }

    #[test]
    fn trailing_comments_of_preprocessor_directives_are_read_on_both_paths() {
        // tree-sitter keeps `// ...` inside the directive's argument; the fast lexer and
        // compilers see a comment. Both paths must read it (found by the comments fuzz target).
        let text =
            "#define TIMEOUT 30 // @audit App.Timeout\n#error stop \"//\" // @audit App.Error\nint x;\n";
        for language in [Language::C, Language::Cpp, Language::CSharp] {
            let tree = parse_tree(language, text, None).unwrap();
            let slow: Vec<_> = candidate_lines_in_tree(language, &tree, text)
                .into_iter()
                .map(|l| l.range.slice(text))
                .collect();
            let fast: Vec<_> = contents(language, text).into_iter().map(|(_, l)| l).collect();
            assert_eq!(slow, ["@audit App.Timeout", "@audit App.Error"], "{language:?}");
            assert_eq!(fast, slow, "{language:?}");
        }
    }

    #[test]
    fn comment_in_string_is_not_read() {
        assert!(contents(Language::Python, "s = \"# @exposes A to #b\"\n").is_empty());
    }

    /// Without the guard these texts abort the process inside tree-sitter (the YAML scanner
    /// overflows at 254 levels, the Python one at 512 inside an f-string).
    #[test]
    fn texts_that_would_overflow_a_scanner_are_read_without_a_tree() {
        let yaml = format!("{}x\n# @audit Deep.Yaml\n", "- ".repeat(300));
        let mapping: String = (0..300).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
        let python: String = std::iter::once("f'{".to_string())
            .chain((0..600).map(|i| format!("\n{}if x:", " ".repeat(i))))
            .chain(["\n# @audit Deep.Py\n".to_string()])
            .collect();
        for (language, text) in
            [(Language::Yaml, &yaml), (Language::Yaml, &mapping), (Language::Python, &python)]
        {
            assert!(parse_tree(language, text, None).is_none(), "{language:?}");
            let lines = candidate_lines(language, text);
            assert!(lines.iter().all(|l| l.range.end() <= text.len()), "{language:?}");
        }
        let found = |language, text: &str| {
            candidate_lines(language, text).iter().any(|l| l.range.slice(text).starts_with("@audit Deep"))
        };
        assert!(found(Language::Yaml, &yaml));
        assert!(found(Language::Python, &python));
        // Below the limits nothing changes.
        assert!(parse_tree(Language::Yaml, &format!("{}x\n", "- ".repeat(100)), None).is_some());
        let shallow: String = (0..100).map(|i| format!("{}if x:\n", " ".repeat(i))).collect();
        assert!(parse_tree(Language::Python, &shallow, None).is_some());
    }

    /// Without the guard each of these texts aborts the whole test process inside tree-sitter
    /// (`length <= 1024`), each in a way the earlier guards let through (found by the scanners
    /// branch): Python indentation carried over lines that hold only blanks and a `\` (no line
    /// is indented more than 8 columns), and Ruby heredocs whose saved state is 1025 bytes.
    #[test]
    fn continued_indentation_and_many_heredocs_are_read_without_a_tree() {
        let continued = |line_break: &str| -> String {
            std::iter::once("f'{".to_string())
                .chain((0..600).map(|i| {
                    format!("\n{}{}if x:", format!("\t\\{line_break}").repeat(i / 8), " ".repeat(i % 8))
                }))
                .chain(["\n# @audit Deep.Py\n".to_string()])
                .collect()
        };
        let nested =
            format!("# @audit Deep.Rb\nx = {}<<ABCD{}\nABCD\n", "\"#{".repeat(203), "}\"".repeat(203));
        let words: Vec<String> = (0..100).map(|i| format!("A{i:03}")).collect();
        let many = format!(
            "# @audit Deep.Rb\nf({}, <<{})\n{}{}\n",
            words.iter().map(|w| format!("<<{w}")).collect::<Vec<_>>().join(", "),
            "B".repeat(219),
            words.iter().map(|w| format!("{w}\n")).collect::<String>(),
            "B".repeat(219)
        );
        for (language, text) in [
            (Language::Python, continued("\n")),
            (Language::Python, continued("\r\n")),
            (Language::Ruby, nested),
            (Language::Ruby, many),
        ] {
            assert!(breaks_scanner(language, &text), "{language:?}");
            assert!(parse_tree(language, &text, None).is_none(), "{language:?}");
            assert!(
                candidate_lines(language, &text)
                    .iter()
                    .any(|l| l.range.slice(&text).starts_with("@audit Deep")),
                "{language:?}"
            );
        }
        // Below the limits such texts are parsed as before.
        let shallow: String =
            (0..40).map(|i| format!("{}if x:\n", "\t\\\n".repeat(i / 8) + &" ".repeat(i % 8))).collect();
        assert!(parse_tree(Language::Python, &shallow, None).is_some());
        let few = format!(
            "x = {}<<ABCD{}\nABCD\nputs <<~A, <<-B\na\nA\nb\nB\n",
            "\"#{".repeat(20),
            "}\"".repeat(20)
        );
        assert!(parse_tree(Language::Ruby, &few, None).is_some());
    }

    /// A comment that two re-scanned regions both reach is reported once (found by the
    /// `comments` fuzz target from an empty corpus).
    #[test]
    fn a_comment_two_regions_reach_is_reported_once() {
        let text = "\u{25a};W$//";
        let tree = parse_tree(Language::Kotlin, text, None).expect("a tree");
        let nodes = comment_nodes(Language::Kotlin, &tree, text, None).expect("Kotlin has comments");
        assert_eq!(nodes, vec![(5, 7)], "{text:?}");
    }

    /// Kotlin's control characters are read as spaces: the tree runs past one to the end of
    /// the text and holds the comments after it, and the text the `comments` fuzz target found
    /// (tree-sitter's error recovery after a control character took 5 s and 320 MB on it)
    /// parses well within the budget.
    #[test]
    fn kotlin_is_parsed_past_control_characters() {
        let text = "@file:JvmMul\u{f}/* a */\nval x = 1 // b\n";
        let tree = parse_tree(Language::Kotlin, text, None).expect("a tree");
        assert_eq!(tree.root_node().end_byte(), text.len());
        assert!(!tree.root_node().has_error(), "{}", tree.root_node().to_sexp());
        let mut nodes = comment_nodes(Language::Kotlin, &tree, text, None).expect("Kotlin has comments");
        nodes.sort_unstable();
        assert_eq!(nodes, vec![(13, 20), (31, 35)]);
        let found = "=/**xxxxxxxx%r{xxxx///'?=1//'////r\n1/da1///////\n/\n\n//,\n//\nxxxxxxxxxx///'?=1//'////r\n1/da1/./////\n/\n\n//,\n//\n//\n//,/\n//\n///\n/\n//\n///\n//\n1/da1// on \n\n//,\n/\n/\n\n//,\n//\n//\n//,/\n//\n///\n/\n//\n///\n//\n1/da1// on \n\n//,\n///\n//\n//,/\n//\n///\n/\n//\n///\n/r%//\n//,/\n\u{2}       \n//\n///\n//\n1/da1// on \n\n//,\n/\n/\n\n//,\n//\n//\n//,/\n//\n///\n/\n//\n///\n1//\n1/da1// on \n\n//,\n/*/\n//\n//,/\n//\n///\n/\n//\n/a1// on \n\n//,\n/\n/\n\n/'4O',,,`[,,b'~ ',b'~ '3' '~ '4 01 #\n\t\t\t\t'4O'4 '4O',,,,,,`[,,b'~ ',b'~/\n//\n////\n/r%////";
        assert!(parse_tree(Language::Kotlin, found, None).is_some());
    }

    /// tree-sitter-lua's scanner reads a long comment that opens a `'` or `"` string's
    /// content as a comment; Lua strings hold no code, so it is string text (found by the
    /// `comments` fuzz target: the lexer, which reads a string, disagreed).
    #[test]
    fn lua_strings_hold_no_comments() {
        for text in ["x = '--[[ @threat X (#x) ]]'", "x = \" --[==[ y ]==]\" -- z", "print('a', '--[[b]]')"] {
            let tree = parse_tree(Language::Lua, text, None).expect("a tree");
            let nodes = comment_nodes(Language::Lua, &tree, text, None).expect("Lua has comments");
            let want: Vec<(usize, usize)> =
                text.find("-- z").map(|at| (at, text.len())).into_iter().collect();
            assert_eq!(nodes, want, "{text:?}");
        }
    }

    /// tree-sitter-swift reads `//*`, `+//` and `+/*` as custom operators, without an error;
    /// Swift ends an operator where a comment starts, and so does the tree's reading.
    #[test]
    fn swift_comments_that_open_inside_an_operator_are_read() {
        let text = "let a = 1 //* @threat X (#x) // y\n//* @exposes A to #x\nlet b = 2 +/* c\n d */ 3\nlet e = f /* g */\n";
        let tree = parse_tree(Language::Swift, text, None).expect("a tree");
        let nodes = comment_nodes(Language::Swift, &tree, text, None).expect("Swift has comments");
        let found: Vec<&str> = nodes.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(found, ["//* @threat X (#x) // y", "//* @exposes A to #x", "/* c\n d */", "/* g */"]);
        let lines = candidate_lines_in_tree(Language::Swift, &tree, text);
        assert!(lines.iter().any(|l| l.range.slice(text).contains("@threat X")), "{lines:?}");

        // After `//*"` the grammar reads a string on into the next line (no error): that
        // line's comment is read all the same, and so by an edit's re-read of that line alone.
        let text = "let a = 1 //*\"\n// @threat X (#x) \"\nlet b = 2\n";
        let tree = parse_tree(Language::Swift, text, None).expect("a tree");
        assert!(!is_broken(&tree, text));
        let found = |within| -> Vec<&str> {
            let nodes = comment_nodes(Language::Swift, &tree, text, within).expect("Swift has comments");
            nodes.iter().map(|&(s, e)| &text[s..e]).collect()
        };
        assert_eq!(found(None), ["//*\"", "// @threat X (#x) \""]);
        let second = text.find("// @threat").expect("the second comment");
        assert_eq!(found(Some(second + 3..second + 4)), ["// @threat X (#x) \""]);
    }

    /// Where each guard places the cause, for the `no-syntax-tree` note.
    #[test]
    fn scanner_hazards_point_at_their_cause() {
        let at = |language, text: &str| scanner_hazard(language, text).map(|h| h.at);
        let yaml = format!("a: 1\n{}x\n", "- ".repeat(130));
        assert_eq!(at(Language::Yaml, &yaml), Some(5));
        let python = format!("x = 1\n{}y\n", " \\\n".repeat(400));
        assert_eq!(at(Language::Python, &python), Some(6 + 3 * 359));
        assert_eq!(at(Language::Kotlin, "val x = 1\nfun f() @A"), Some(18));
        let word = format!("x = 1\ny = <<'{}", "w".repeat(300));
        assert_eq!(at(Language::Ruby, &word), Some(10));
        assert_eq!(at(Language::Ruby, "x << 'a'\ny = <<A\nA\n"), None);
        assert_eq!(at(Language::Python, "if x:\n    y = 1\n"), None);
    }

    /// Without the guard tree-sitter-kotlin-ng's scanner never returns on these texts (the
    /// parse's progress callback is not called inside a scanner, so no time budget stops it).
    /// Each parse runs on its own thread so that a regression fails here instead of hanging.
    #[test]
    fn kotlin_texts_whose_scanner_would_not_end_are_read_without_a_tree() {
        let hangs = [
            "// @audit Kt.Hang\nclass A\n    @Deprecated(\"x",
            "// @audit Kt.Hang\nclass A {\n    val x = 1\n        @Suppress(\"a",
        ];
        for text in hangs {
            let (done, result) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let parsed = parse_tree(Language::Kotlin, text, None).is_some();
                let found = candidate_lines(Language::Kotlin, text)
                    .iter()
                    .any(|l| l.range.slice(text) == "@audit Kt.Hang");
                let _ = done.send((parsed, found));
            });
            let outcome = result.recv_timeout(Duration::from_secs(60));
            assert_eq!(outcome, Ok((false, true)), "{text:?}");
        }
        // With a line break after the last `@` the text is parsed as before.
        for text in hangs {
            assert!(parse_tree(Language::Kotlin, &format!("{text}\n"), None).is_some(), "{text:?}");
        }
    }

    #[test]
    fn parse_tree_none_for_line_based_kinds() {
        assert!(parse_tree(Language::Gal, "@audit A", None).is_none());
        assert!(parse_tree(Language::Python, "x = 1", None).is_some());
    }
}
