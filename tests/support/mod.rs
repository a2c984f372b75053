//! Fixture support, rust-analyzer style: a multi-file workspace written inline.
//!
//! @shield:begin (the example quotes an annotation; threat-analyzer's own check skips it)
//! ```text
//! //- /api/app.py
//! # @exposes Shop.Orders to #sqli
//!   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning unmitigated-exposure
//! ```
//! @shield:end
//!
//! `//- /path` starts a file. `$0` marks the cursor (at most one per fixture). A line whose first non-blank character is `^` is not part of
//! the file: it marks an expected diagnostic under the line above (the carets span its first
//! line), followed by the level and the code.
#![allow(dead_code)]

use std::sync::Arc;
use threat_analyzer::analysis;
use threat_analyzer::diagnostic::Diagnostic;
use threat_analyzer::file_id::FileId;
use threat_analyzer::model::{FileFacts, ProjectIndex};
use threat_analyzer::render::dfd::{ElementKind, Node, ThreatStatus};
use threat_analyzer::syntax::Language;
use threat_analyzer::text::ColumnUnit;

pub struct Fixture {
    pub files: Vec<(String, String)>,
    /// `$0` in the fixture: the file and byte offset of the cursor (removed from the text).
    pub cursor: Option<(String, usize)>,
    /// `(file, line, start col, end col, "level code")`, 0-based, char columns.
    pub expected: Vec<(String, u32, u32, u32, String)>,
}

pub fn parse_fixture(fixture: &str) -> Fixture {
    let fixture = trim_indent(fixture);
    let mut files: Vec<(String, String)> = Vec::new();
    let mut expected = Vec::new();
    let mut cursor = None;
    for line in fixture.lines() {
        if let Some(path) = line.strip_prefix("//- /") {
            files.push((path.trim().to_string(), String::new()));
            continue;
        }
        let (path, text) = files.last_mut().expect("fixture must start with `//- /path`");
        let trimmed = line.trim_start();
        if trimmed.starts_with('^') {
            let start = (line.len() - trimmed.len()) as u32;
            let carets = trimmed.chars().take_while(|c| *c == '^').count() as u32;
            let label = trimmed[carets as usize..].trim().to_string();
            let line_no = text.lines().count() as u32 - 1;
            expected.push((path.clone(), line_no, start, start + carets, label));
            continue;
        }
        match line.find("$0") {
            Some(at) => {
                cursor = Some((path.clone(), text.len() + at));
                text.push_str(&line.replacen("$0", "", 1));
            }
            None => text.push_str(line),
        }
        text.push('\n');
    }
    Fixture { files, cursor, expected }
}

pub fn index_of(files: &[(String, String)]) -> ProjectIndex {
    let mut index = ProjectIndex::new();
    for (path, text) in files {
        let language = Language::from_path(std::path::Path::new(path))
            .unwrap_or_else(|| panic!("no language for {path}"));
        index.set_file(Arc::new(FileFacts::new(
            FileId::relative(path.as_str()),
            language,
            text.as_str().into(),
        )));
    }
    index
}

/// Diagnostics as `(file, line, start col, end col (first line), "level code")`.
pub fn rendered(index: &ProjectIndex, diagnostics: &[Diagnostic]) -> Vec<(String, u32, u32, u32, String)> {
    diagnostics
        .iter()
        .map(|d| {
            let facts = index.file(d.file.as_str()).unwrap();
            let start = facts.line_col(d.range.start(), ColumnUnit::Char);
            let end = facts.line_col(d.range.end(), ColumnUnit::Char);
            let end_col = if end.line == start.line {
                end.col
            } else {
                let line = facts.text.line_range(start.line as usize);
                facts.line_col(line.end(), ColumnUnit::Char).col
            };
            (
                d.file.to_string(),
                start.line,
                start.col,
                end_col,
                format!("{} {}", d.level.as_str(), d.code.as_str()),
            )
        })
        .collect()
}

/// Checks that exactly the marked diagnostics are produced; returns them for further checks.
pub fn check_diagnostics(fixture: &str) -> Vec<Diagnostic> {
    let f = parse_fixture(fixture);
    let index = index_of(&f.files);
    let diagnostics = analysis::diagnostics(&index);
    let mut actual = rendered(&index, &diagnostics);
    let mut expected = f.expected.clone();
    actual.sort();
    expected.sort();
    if actual != expected {
        let messages: Vec<_> =
            diagnostics.iter().map(|d| format!("{}: {}", d.code.as_str(), d.message)).collect();
        panic!("diagnostics differ\nexpected: {expected:#?}\nactual:   {actual:#?}\nmessages: {messages:#?}");
    }
    diagnostics
}

/// The model dump of a fixture (for `expect!` snapshots).
pub fn model_dump(fixture: &str) -> String {
    let f = parse_fixture(fixture);
    index_of(&f.files).dump()
}

fn trim_indent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| if l.len() >= indent { &l[indent..] } else { l.trim_start() })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The index of a fixture and its `$0` cursor (file, byte offset); panics without a cursor.
pub fn index_with_cursor(fixture: &str) -> (ProjectIndex, String, usize) {
    let f = parse_fixture(fixture);
    let (file, offset) = f.cursor.clone().expect("fixture needs a $0 cursor");
    (index_of(&f.files), file, offset)
}

/// Names that try to break out of a diagram's syntax or inject markup or script: every
/// renderer must show them as literal text (Mermaid, SVG).
pub const HOSTILE_LABELS: &[&str] = &[
    "Evil\"]; click A call x()",
    "<img src=x onerror=alert(1)>",
    "a --> b",
    "close } brace",
    "%%{init: {\"theme\":\"dark\"}}%%",
    "back `tick` `",
    "<script>alert(1)</script>",
    "pipe | bar [x] (y)",
    "click A call alert(1)",
    "#quot; &amp; #35;",
    "end",
    "subgraph x",
    "line\nbreak\r\u{2028}and\u{202e}bidi\u{0}",
    "\\\"",
];

/// A hand-built diagram node whose key is its id.
pub fn diagram_node(
    id: &str,
    label: &str,
    kind: ElementKind,
    boundary: Option<&str>,
    status: ThreatStatus,
) -> Node {
    Node {
        id: id.into(),
        key: id.into(),
        label: label.into(),
        kind,
        boundary: boundary.map(Into::into),
        status,
        ..Default::default()
    }
}

/// `files` with `edits` applied back to front (the edits of one file must be sorted and must
/// not overlap, as a rename's are).
pub fn apply_edits(
    files: &[(String, String)],
    edits: &[threat_analyzer::diagnostic::Edit],
) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(path, text)| {
            let mut text = text.clone();
            for e in edits.iter().rev().filter(|e| e.file.as_str() == path) {
                text.replace_range(e.range.start()..e.range.end(), &e.new_text);
            }
            (path.clone(), text)
        })
        .collect()
}
