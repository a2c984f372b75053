//! The Markdown threat-model report (`threat-analyzer report --format markdown`): writes the
//! format-neutral [`Report`] of [`super::report`] as GitHub-flavoured Markdown.
//!
//! Owns: the Markdown syntax of the report (headings, pipe tables, file links, the DFD as a
//! ```` ```mermaid ```` block from [`mermaid::render`]) and Markdown escaping. Must never: decide
//! what the report contains ([`super::report`] does), trust annotation text (every
//! [`Inline::Text`] goes through [`escape`]), put anything but a percent-encoded project file
//! path into a link target, or write anything time- or machine-dependent (same model, same
//! bytes).

use super::mermaid;
use super::report::{self, Block, Inline, Report};
use crate::analysis::{Analysis, Summary};
use crate::diagnostic::Diagnostic;
use crate::model::ProjectIndex;
use std::fmt::Write as _;

pub use super::report::ReportOptions;

/// The Markdown report, with file links relative to the project root.
pub fn render(
    index: &ProjectIndex,
    analysis: &Analysis,
    diagnostics: &[Diagnostic],
    summary: &Summary,
    root_label: &str,
) -> String {
    render_with(index, analysis, diagnostics, summary, root_label, &ReportOptions::default())
}

/// [`render`] with options.
pub fn render_with(
    index: &ProjectIndex,
    analysis: &Analysis,
    diagnostics: &[Diagnostic],
    summary: &Summary,
    root_label: &str,
    options: &ReportOptions,
) -> String {
    write(&report::build(index, analysis, diagnostics, summary, root_label), options)
}

/// Writes a gathered [`Report`] as Markdown.
pub fn write(report: &Report, options: &ReportOptions) -> String {
    let prefix = options.link_prefix.as_str();
    let mut out = String::new();
    let _ = writeln!(out, "# Threat model report: {}\n", escape(&report.project));
    let _ = writeln!(out, "{}\n", report::INTRO);
    for block in &report.blocks {
        let _ = writeln!(out, "## {}\n", block.title());
        match block {
            Block::Summary(counts) => {
                let rows: Vec<Vec<String>> =
                    counts.iter().map(|(k, v)| vec![k.to_string(), v.to_string()]).collect();
                table(&mut out, &["Count", "Value"], &rows);
            }
            Block::Table(t) => {
                if !t.intro.is_empty() {
                    let _ = writeln!(out, "{}\n", inlines(&t.intro, prefix));
                }
                let rows: Vec<Vec<String>> =
                    t.rows.iter().map(|row| row.iter().map(|cell| inlines(cell, prefix)).collect()).collect();
                table(&mut out, &t.header, &rows);
            }
            Block::DiagramTooLarge(reason) => {
                let _ = writeln!(out, "{}\n", escape(reason));
            }
            Block::RiskMatrix(m) => {
                // Likelihood 5 at the top, impact 1 on the left, as the matrix is drawn.
                let rows: Vec<Vec<String>> = (1..=5)
                    .rev()
                    .map(|l| {
                        std::iter::once(format!("**L{l}**"))
                            .chain((1..=5).map(|i| m.cell_text(l, i)))
                            .collect()
                    })
                    .collect();
                table(&mut out, &["Likelihood / impact", "I1", "I2", "I3", "I4", "I5"], &rows);
                let _ = writeln!(out, "{}\n", m.note());
            }
            Block::Diagram => {
                let diagram = mermaid::render(&report.dfd);
                let fence = fence_for(&diagram);
                let _ = writeln!(out, "{fence}mermaid\n{}\n{fence}\n", diagram.trim_end_matches('\n'));
            }
        }
    }
    out
}

/// The Markdown of a run of inlines.
fn inlines(items: &[Inline], prefix: &str) -> String {
    let mut out = String::new();
    for item in items {
        match item {
            Inline::Text(t) => out.push_str(&escape(t)),
            Inline::Fixed(t) | Inline::Flag { text: t, .. } => out.push_str(t),
            Inline::Strong(t) => {
                let _ = write!(out, "**{t}**");
            }
            Inline::Code(t) => {
                let _ = write!(out, "`{t}`");
            }
            Inline::Location { file, line } => {
                let _ = write!(out, "[{}:{line}]({prefix}{}#L{line})", escape(file), encode_path(file));
            }
        }
    }
    out
}

/// Escapes untrusted text for Markdown (table cells and list items): Markdown punctuation is
/// backslash-escaped, `|` `<` `>` `&` become entities, line breaks and other control or bidi
/// characters become spaces (runs collapse), so text can neither end a cell nor form a link,
/// an emphasis, code or HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if report::is_blank(c) {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
            continue;
        }
        space = false;
        match c {
            '|' => out.push_str("&#124;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '~' | '#' | '!' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Percent-encodes a relative file path for a link target (only `A-Za-z0-9-._~/` stay).
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A backtick fence longer than any backtick run in `text`.
fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    if rows.is_empty() {
        out.push_str("_None recorded._\n\n");
        return;
    }
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for row in rows {
        let cells: Vec<&str> = row.iter().map(|c| if c.is_empty() { " " } else { c.as_str() }).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markdown_and_html() {
        assert_eq!(escape("a|b"), "a&#124;b");
        assert_eq!(escape("<img src=x>"), "&lt;img src=x&gt;");
        assert_eq!(escape("[x](javascript:alert(1))"), "\\[x\\]\\(javascript:alert\\(1\\)\\)");
        assert_eq!(escape("a\n\n b\\`"), "a b\\\\\\`");
        assert_eq!(escape("&lt;"), "&amp;lt;");
    }

    #[test]
    fn paths_are_percent_encoded() {
        assert_eq!(encode_path("api/orders.py"), "api/orders.py");
        assert_eq!(encode_path("a b/javascript:x(1).py"), "a%20b/javascript%3Ax%281%29.py");
    }

    #[test]
    fn fences_outgrow_backtick_runs() {
        assert_eq!(fence_for("a"), "```");
        assert_eq!(fence_for("a````b"), "`````");
    }
}
