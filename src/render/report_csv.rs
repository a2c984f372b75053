//! The risk register as CSV (`export --format csv`): one header row and one row per risk,
//! the columns and order of the report's register ([`super::report::risk_register`]).
//!
//! Owns: CSV quoting (RFC 4180: every field in double quotes, a `"` doubled, records ended by
//! CR LF) and spreadsheet formula neutralisation: a cell that starts with `=`, `+`, `-`, `@`, a
//! tab or a carriage return gets a leading `'`, so a spreadsheet shows it as text instead of
//! running it (OWASP's CSV injection advice). Must never: let annotation text reach the file
//! other than through [`cell`] (one line by [`crate::text::for_terminal`], then neutralised,
//! then quoted).

use super::report::{Inline, Table};
use std::fmt::Write as _;

/// The table as CSV.
pub fn write(table: &Table) -> String {
    let mut out = String::new();
    let header: Vec<String> = table.header.iter().map(|h| cell(h)).collect();
    let _ = write!(out, "{}\r\n", header.join(","));
    for row in &table.rows {
        let fields: Vec<String> = row.iter().map(|c| cell(&plain(c))).collect();
        let _ = write!(out, "{}\r\n", fields.join(","));
    }
    out
}

/// A cell's inlines as plain text (locations as `path:line`).
fn plain(items: &[Inline]) -> String {
    let mut out = String::new();
    for item in items {
        match item {
            Inline::Text(t) => out.push_str(t),
            Inline::Fixed(t) | Inline::Strong(t) | Inline::Code(t) | Inline::Flag { text: t, .. } => {
                out.push_str(t)
            }
            Inline::Location { file, line } => {
                let _ = write!(out, "{file}:{line}");
            }
        }
    }
    out
}

/// One field: one line, neutralised, quoted.
pub fn cell(text: &str) -> String {
    let line = crate::text::for_terminal(text);
    let neutral = if line.starts_with(['=', '+', '-', '@', '\t', '\r']) { "'" } else { "" };
    format!("\"{neutral}{}\"", line.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(cell("plain"), "\"plain\"");
        assert_eq!(cell("a,b \"q\""), "\"a,b \"\"q\"\"\"");
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)", "=cmd|' /C calc'!A0"] {
            let c = cell(formula);
            assert!(c.starts_with("\"'"), "{formula}: {c}");
        }
        // A tab or a line break never survives: one line per record.
        assert_eq!(cell("\tx"), "\" x\"");
        assert_eq!(cell("a\r\nb"), "\"a\\r\\nb\"");
        // An en dash (no value) is not a minus.
        assert_eq!(cell("–"), "\"–\"");
    }

    #[test]
    fn a_table_is_one_record_per_row_with_crlf() {
        let table = Table {
            title: "t",
            intro: vec![],
            header: vec!["Id", "Where"],
            rows: vec![vec![
                vec![Inline::Text("=HYPERLINK(\"x\")".into())],
                vec![Inline::Location { file: "a,b.py".into(), line: 3 }],
            ]],
        };
        assert_eq!(write(&table), "\"Id\",\"Where\"\r\n\"'=HYPERLINK(\"\"x\"\")\",\"a,b.py:3\"\r\n");
    }
}
