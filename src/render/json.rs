//! JSON output: one object `{"provenance": "...", "summary": {...}, "diagnostics": [...]}`.
//!
//! `provenance` is [`super::PROVENANCE`]: `message`, `related[].message` and `fix.label` are
//! threat-analyzer's sentences quoting repository names in backticks; `file` and
//! `fix.edits[].new_text` hold repository text.
//!
//! `summary` is [`Summary`] serialised as is (its field names are the keys). Each diagnostic:
//! `code`, `severity` (`error|warning|note`), `message`, `file` (relative, `/`-separated),
//! `line`, `column`, `end_line`, `end_column` (1-based, character columns, exclusive end),
//! `related` (`[{file, line, column, end_line, end_column, message}]`), for a finding about an
//! annotation of a `.gal` sidecar reported at the source location its `@source` anchors to,
//! `sidecar` (`{file, line, ...}` of the `.gal` line, also the first of `related`) and, when
//! there is one, `fix` (`{label, edits: [{file, line, column, end_line, end_column, new_text}]}`).
//! Diagnostics are in [`sorted`] order.
//!
//! With a baseline (`check --baseline`), each diagnostic also has `baseline` (`"new"` or
//! `"unchanged"`), and the document a top-level `baseline` object: `new`, `unchanged` and `fixed`
//! counts and `fixed_findings`, the baseline entries no finding matched (`{fingerprint, code,
//! path, line, message}`, as in the baseline file). Every string goes through
//! [`text::for_machine`] (no control or bidi character; line feeds, tabs and CR-LF stay).

use super::{Pieces, locate, sorted};
use crate::analysis::Summary;
use crate::analysis::baseline::{Comparison, Entry, State};
use crate::diagnostic::{Diagnostic, Related};
use crate::file_id::FileId;
use crate::model::ProjectIndex;
use crate::text;
use crate::text::TextRange;
use serde::Serialize;

#[derive(Serialize)]
struct JsonBaseline<'a> {
    new: usize,
    unchanged: usize,
    fixed: usize,
    fixed_findings: &'a [Entry],
}

/// Renders the JSON document (pretty-printed, with a trailing newline).
pub fn render(index: &ProjectIndex, diagnostics: &[Diagnostic], summary: &Summary) -> String {
    render_compared(index, diagnostics, summary, None).into_string()
}

/// [`render`], with each diagnostic's state against a baseline when there is one.
///
/// The document is written straight into strings ([`Pieces`]), field by field, as
/// `serde_json`'s pretty printer lays it out (two-space indents, `[]` for an empty list):
/// thousands of findings cost no tree of values and no string per field. The summary and
/// the baseline object, a few dozen fields, go through `serde_json`.
pub fn render_compared(
    index: &ProjectIndex,
    diagnostics: &[Diagnostic],
    summary: &Summary,
    comparison: Option<&Comparison>,
) -> Pieces {
    let states = super::baseline_states(diagnostics, comparison);
    let mut report = Pieces::default();
    let out = report.tail();
    out.reserve(4096);
    out.push_str("{\n  \"provenance\": ");
    string(out, super::PROVENANCE);
    out.push_str(",\n  \"summary\": ");
    nested_pretty(out, summary, 1);
    out.push_str(",\n  \"diagnostics\": [");
    let diagnostics_in_order: Vec<(&Diagnostic, Option<State>)> =
        sorted(diagnostics).into_iter().zip(states).collect();
    super::write_in_parts(&mut report, &diagnostics_in_order, |out, at, (d, state)| {
        diagnostic(out, index, d, *state, at == 0);
    });
    let out = report.tail();
    if diagnostics.is_empty() {
        out.push(']');
    } else {
        close(out, 1, ']');
    }
    if let Some(c) = comparison {
        let fixed: Vec<Entry> = c.fixed.iter().map(super::baseline::cleaned).collect();
        out.push_str(",\n  \"baseline\": ");
        let baseline = JsonBaseline {
            new: c.new_count(),
            unchanged: c.unchanged_count(),
            fixed: c.fixed.len(),
            fixed_findings: &fixed,
        };
        nested_pretty(out, &baseline, 1);
    }
    out.push_str("\n}\n");
    report
}

/// One element of the `diagnostics` array, with the separator before it.
fn diagnostic(out: &mut String, index: &ProjectIndex, d: &Diagnostic, state: Option<State>, first: bool) {
    out.push_str(if first { "\n    {" } else { ",\n    {" });
    key(out, 3, "code", false);
    string(out, d.code.as_str());
    key(out, 3, "severity", true);
    string(out, d.level.as_str());
    key(out, 3, "message", true);
    string(out, &d.message);
    at(out, 3, index, &d.file, d.range);
    key(out, 3, "related", true);
    list(out, 3, &d.related, |out, r| related(out, 5, index, r));
    if let Some(r) = &d.sidecar {
        key(out, 3, "sidecar", true);
        out.push('{');
        related(out, 4, index, r);
        close(out, 3, '}');
    }
    if let Some(fix) = &d.fix {
        key(out, 3, "fix", true);
        out.push('{');
        key(out, 4, "label", false);
        string(out, &fix.label);
        key(out, 4, "edits", true);
        list(out, 4, &fix.edits, |out, e| {
            at_fields(out, 6, index, &e.file, e.range, false);
            key(out, 6, "new_text", true);
            string(out, &e.new_text);
        });
        close(out, 3, '}');
    }
    if let Some(state) = state {
        key(out, 3, "baseline", true);
        string(out, State::as_str(state));
    }
    close(out, 2, '}');
}

/// `"message"` and the location fields of one related location, at `depth`, inside its braces.
fn related(out: &mut String, depth: usize, index: &ProjectIndex, r: &Related) {
    at_fields(out, depth, index, &r.file, r.range, false);
    key(out, depth, "message", true);
    string(out, &r.message);
}

/// The location fields every location writes (`file`, `line`, `column`, `end_line`,
/// `end_column`), the first preceded by a comma when `comma`.
fn at_fields(
    out: &mut String,
    depth: usize,
    index: &ProjectIndex,
    file: &FileId,
    range: TextRange,
    comma: bool,
) {
    let loc = locate(index, file, range);
    key(out, depth, "file", comma);
    string(out, file.as_str());
    for (name, value) in [
        ("line", loc.line),
        ("column", loc.column),
        ("end_line", loc.end_line),
        ("end_column", loc.end_column),
    ] {
        key(out, depth, name, true);
        number(out, value);
    }
}

fn at(out: &mut String, depth: usize, index: &ProjectIndex, file: &FileId, range: TextRange) {
    at_fields(out, depth, index, file, range, true);
}

/// A list of objects at `depth` (its key's): `[]` when empty, else each item's braces on lines
/// of their own around what `item` writes (at `depth + 2`).
fn list<T>(out: &mut String, depth: usize, items: &[T], item: impl Fn(&mut String, &T)) {
    if items.is_empty() {
        out.push_str("[]");
        return;
    }
    out.push('[');
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        newline(out, depth + 1);
        out.push('{');
        item(out, it);
        close(out, depth + 1, '}');
    }
    close(out, depth, ']');
}

/// `,` (when `comma`), a line break, the indent of `depth` and `"name": `.
fn key(out: &mut String, depth: usize, name: &str, comma: bool) {
    if comma {
        out.push(',');
    }
    newline(out, depth);
    out.push('"');
    out.push_str(name);
    out.push_str("\": ");
}

pub(super) fn newline(out: &mut String, depth: usize) {
    // A line break and the indents of the usual depths, copied at once.
    const BREAKS: &str = "\n                ";
    match BREAKS.get(..1 + 2 * depth) {
        Some(indented) => out.push_str(indented),
        None => {
            out.push('\n');
            for _ in 0..depth {
                out.push_str("  ");
            }
        }
    }
}

pub(super) fn close(out: &mut String, depth: usize, bracket: char) {
    newline(out, depth);
    out.push(bracket);
}

fn number(out: &mut String, value: u32) {
    let mut digits = [0u8; 10];
    let mut n = value;
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Pushed one by one: a number is a digit or three, and checking them as UTF-8 cost more
    // than writing them (a line and column per location, tens of thousands per report).
    digits[at..].iter().for_each(|&digit| out.push(char::from(digit)));
}

/// `value` pretty-printed by `serde_json` as if it stood at `depth` in the document (its
/// inner lines indented by `depth` more levels; strings hold no raw line break, so each line
/// break is one of the layout's).
fn nested_pretty(out: &mut String, value: &impl Serialize, depth: usize) {
    let pretty = serde_json::to_string_pretty(value).expect("plain structs serialise");
    let indent = "  ".repeat(depth);
    for (i, line) in pretty.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&indent);
        }
        out.push_str(line);
    }
}

/// `value` as `serde_json`'s pretty printer lays it out, as if it stood at `depth` in the
/// document, every string and key through [`string`] (so [`text::for_machine`] on each, as
/// [`super::clean_machine_strings`] would have done): the documents built as values (SARIF)
/// are written without a second tree or a cleaning pass.
pub(super) fn value(out: &mut String, value: &serde_json::Value, depth: usize) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(small) => number(out, small),
            None => out.push_str(&n.to_string()),
        },
        Value::String(s) => string(out, s),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                self::value(out, item, depth + 1);
            }
            close(out, depth, ']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            // A key that cleaning changes moves (the map is ordered) or merges with another:
            // such an object is written as the cleaned map it becomes. Keys are the tool's own
            // words in every document written, so this is never the fast path.
            if map.keys().any(|k| matches!(text::for_machine(k), std::borrow::Cow::Owned(_))) {
                let cleaned: serde_json::Map<String, Value> =
                    map.iter().map(|(k, v)| (text::for_machine(k).into_owned(), v.clone())).collect();
                return object(out, &cleaned, depth);
            }
            object(out, map, depth);
        }
    }
}

fn object(out: &mut String, map: &serde_json::Map<String, serde_json::Value>, depth: usize) {
    out.push('{');
    for (i, (name, item)) in map.iter().enumerate() {
        member(out, depth + 1, name, i > 0);
        value(out, item, depth + 1);
    }
    close(out, depth, '}');
}

/// Like [`key`], for a key that may hold any text (escaped and cleaned as a string is).
pub(super) fn member(out: &mut String, depth: usize, name: &str, comma: bool) {
    if comma {
        out.push(',');
    }
    newline(out, depth);
    string(out, name);
    out.push_str(": ");
}

/// A JSON string holding `text` after [`text::for_machine`], escaped as `serde_json` escapes
/// (`\"`, `\\`, `\b`, `\t`, `\n`, `\f`, `\r`, other control characters as `\u00XX`;
/// everything else as it is).
/// Whether every byte is printable ASCII other than a quote or a backslash: [`string`] copies such a
/// text as it is. Tested 16 bytes at a time without an early exit inside each, which the
/// compiler turns into vector compares (byte by byte it was most of a large report's strings).
fn is_plain(bytes: &[u8]) -> bool {
    let escaped = |b: u8| !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\';
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |any, &b| any | escaped(b)) {
            return false;
        }
    }
    !chunks.remainder().iter().any(|&b| escaped(b))
}

pub(super) fn string(out: &mut String, text: &str) {
    out.push('"');
    // Nearly every string is printable ASCII without a quote or backslash: copied as it is.
    if is_plain(text.as_bytes()) {
        out.push_str(text);
    } else {
        for c in text::for_machine(text).chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{8}' => out.push_str("\\b"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\u{c}' => out.push_str("\\f"),
                '\r' => out.push_str("\\r"),
                c if u32::from(c) < 0x20 => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.push_str("\\u00");
                    out.push(char::from(HEX[(u32::from(c) >> 4) as usize]));
                    out.push(char::from(HEX[(u32::from(c) & 0xf) as usize]));
                }
                c => out.push(c),
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn strings_escape_as_serde_json_does() {
        let mut all: String = (0u32..0x80).filter_map(char::from_u32).collect();
        all.push_str("é😀\u{202E}\u{7f}\r\n\u{2028}\u{fffd}");
        for text in [all.as_str(), "plain", "", "a\"b\\c", "\r", "x\u{1b}[31m"] {
            let mut out = String::new();
            string(&mut out, text);
            assert_eq!(out, serde_json::to_string(&text::for_machine(text)).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn values_are_written_as_serde_json_pretty_prints_them_cleaned() {
        let mut hostile: String = (0u32..0x80).filter_map(char::from_u32).collect();
        hostile.push_str("é😀\u{202E}\u{7f}\r\n\u{2028}\u{fffd}\u{200b}");
        let documents = [
            json!(null),
            json!([]),
            json!({}),
            json!("x\u{1b}[31m"),
            json!({
                "a": [1, -2, 3.5, 1e300, u64::MAX, i64::MIN, 0.1, true, false, null],
                "empty": { "list": [], "object": {} },
                "nested": [[[]], [{}], [{ "k": [{ "deep": "v" }] }]],
                (hostile.clone()): hostile,
                "z\u{202E}key": { "\u{1b}": 4_294_967_296u64 },
            }),
        ];
        for document in documents {
            let mut cleaned = document.clone();
            crate::render::clean_machine_strings(&mut cleaned);
            let mut out = String::new();
            value(&mut out, &document, 0);
            assert_eq!(out, serde_json::to_string_pretty(&cleaned).unwrap(), "{document}");
        }
    }

    #[test]
    fn numbers_are_decimal() {
        for n in [0, 7, 10, 99, 100, 123_456, u32::MAX] {
            let mut out = String::new();
            number(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn shape_positions_and_order() {
        let (index, diagnostics) = sample();
        let summary = summary(&index, &diagnostics);
        let v: Value = serde_json::from_str(&render(&index, &diagnostics, &summary)).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["diagnostics", "provenance", "summary"]);
        assert_eq!(v["provenance"], super::super::PROVENANCE);
        assert_eq!(v["summary"], serde_json::to_value(&summary).unwrap());
        let ds = v["diagnostics"].as_array().unwrap();
        assert_eq!(ds.len(), 3);
        assert_eq!(ds[0]["code"], "prose-like-annotation");
        assert_eq!(ds[1]["code"], "unused-definition");
        assert!(ds[1].get("fix").is_none());
        assert_eq!(
            ds[2],
            json!({
                "code": "unmitigated-exposure",
                "severity": "error",
                "message": "App is exposed to SQL Injection (#sqli) [high] and nothing mitigates it",
                "file": "src/app.py",
                "line": 3, "column": 14, "end_line": 3, "end_column": 35,
                "related": [{
                    "file": "src/app.py", "line": 2, "column": 3, "end_line": 2, "end_column": 39,
                    "message": "threat defined here"
                }],
                "fix": {
                    "label": "accept the exposure",
                    "edits": [{
                        "file": "src/app.py", "line": 3, "column": 35, "end_line": 3,
                        "end_column": 35, "new_text": "\n# @accepts #sqli on App"
                    }]
                }
            })
        );
        // Character columns, not bytes.
        assert_eq!((ds[1]["column"].as_u64(), ds[1]["end_column"].as_u64()), (Some(22), Some(26)));
    }

    #[test]
    fn empty_run_is_still_a_full_document() {
        let index = index(&[]);
        let out = render(&index, &[], &Summary::default());
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["diagnostics"], json!([]));
        assert_eq!(v["summary"]["files_scanned"], 0);
    }
}
