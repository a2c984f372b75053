//! Syntax: from a file's text to annotations, with exact ranges. Pure functions of text.
//!
//! Owns: the language registry ([`language`]), tree-sitter comment extraction ([`comments`]),
//! `x-threatspec` keys in YAML/JSON ([`embedded`]), the literal prefilter ([`prefilter`]), the
//! verb table ([`verbs`]) and the one parser for all three dialects ([`parser`]).
//!
//! Must never: do I/O, resolve references across files, or fail. Parsing returns what it
//! understood plus [`SyntaxError`]s; a broken line never hides the lines after it.
//!
//! Pipeline for one file: prefilter -> candidate lines (comment text with delimiters stripped,
//! each a byte range into the file) -> annotation parser.

pub mod ast;
pub mod comments;
pub mod embedded;
pub mod language;
pub mod parser;
pub mod prefilter;
pub mod verbs;

use crate::diagnostic::Code;
use crate::text::TextRange;
pub use ast::*;
pub use language::Language;

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub code: Code,
    pub range: TextRange,
    pub message: String,
    /// A replacement that fixes the problem (e.g. the suggested verb), with its label.
    pub fix: Option<(String, TextRange, String)>,
}

/// Everything the syntax layer learns from one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedFile {
    pub annotations: Vec<Annotation>,
    pub errors: Vec<SyntaxError>,
}

/// Parses one file: prefilter, candidate lines for its language, then the annotation parser.
pub fn parse_file(language: Language, text: &str) -> ParsedFile {
    if !prefilter::may_contain_annotation(text.as_bytes()) {
        return ParsedFile::default();
    }
    let lines = candidate_lines(language, text);
    parser::parse_lines(text, &lines)
}

/// Candidate lines of `text` for `language`: comments, whole-document lines, and `x-threatspec`.
pub fn candidate_lines(language: Language, text: &str) -> Vec<CandidateLine> {
    let mut lines = comments::candidate_lines(language, text);
    if language.has_embedded_annotations() {
        let mut embedded = embedded::x_threatspec_lines(language, text);
        if !embedded.is_empty() {
            let base = lines.last().map_or(0, |l| l.block + 1);
            for l in &mut embedded {
                l.block += base;
            }
            lines.extend(embedded);
            lines.sort_by_key(|l| l.range.start);
        }
    }
    lines
}
