//! Human output, ruff-like: a header per diagnostic, the source line with a caret underline,
//! related locations as notes, the fix as help, and a summary line.
//!
//! ```text
//! src/app.py:3:14: error[unmitigated-exposure]: App is exposed to SQL Injection (#sqli)
//!   |
//! 3 | def q(s):  # @exposes App to #sqli
//!   |             ^^^^^^^^^^^^^^^^^^^^^
//!   = note: threat defined here at src/app.py:2:3
//!   = help: accept the exposure
//!
//! 1 error, 0 warnings, 0 notes in 14 files (120 annotations)
//! ```
//!
//! With a baseline (`check --baseline`), the new findings are shown in full as above, then the
//! findings in the baseline one line each, then the baseline entries no finding matched
//! (fixed), then the summary line and [`baseline_line`]:
//!
//! ```text
//! In the baseline (1):
//! src/old.py:7:3: error[unmitigated-exposure]: App is exposed to XSS (#xss)
//!
//! Fixed since the baseline (1):
//! src/gone.py:2: dangling-reference: `#nope` is not defined
//!
//! 1 error, 0 warnings, 0 notes in 14 files (120 annotations)
//! 0 new, 1 in baseline, 1 fixed since baseline
//! ```
//!
//! With `color` the text carries ANSI styles; `check` asks for them only when standard output
//! is a terminal that shows them (`NO_COLOR` unset, ...), and writes them through `anstream`.
//! Untrusted text (messages, source lines, paths) goes through [`text::for_terminal`] (source lines character by
//! character, by the same rule), so an annotation cannot drive the terminal or reorder what is
//! shown.

use super::{Location, Pieces, line_text, locate, sorted};
use crate::analysis::Summary;
use crate::analysis::baseline::{Comparison, State};
use crate::diagnostic::{Diagnostic, Level};
use crate::model::ProjectIndex;
use crate::text;
use anstyle::{AnsiColor, Style};
use std::fmt::Write;
use unicode_width::UnicodeWidthChar;

/// The width source lines are fitted to when the output is not a terminal.
pub const DEFAULT_COLUMNS: usize = 120;

/// Renders diagnostics and the summary line. `color` adds ANSI styles; `columns` is the
/// terminal's width ([`DEFAULT_COLUMNS`] when it is not a terminal): a source line wider than
/// it is shown as a window around the diagnostic's range, with `…` where it is cut.
pub fn render(
    index: &ProjectIndex,
    diagnostics: &[Diagnostic],
    summary: &Summary,
    color: bool,
    columns: usize,
) -> String {
    render_compared(index, diagnostics, summary, color, columns, None).into_string()
}

/// [`render`], with the findings in a baseline listed apart when there is one (see the module
/// docs).
pub fn render_compared(
    index: &ProjectIndex,
    diagnostics: &[Diagnostic],
    summary: &Summary,
    color: bool,
    columns: usize,
    comparison: Option<&Comparison>,
) -> Pieces {
    let p = Painter { color };
    let mut report = Pieces::default();
    let (in_baseline, shown): (Vec<_>, Vec<_>) = sorted(diagnostics)
        .into_iter()
        .zip(super::baseline_states(diagnostics, comparison))
        .partition(|(_, state)| *state == Some(State::Unchanged));
    super::write_in_parts(&mut report, &shown, |out, _, (d, _)| {
        render_one(out, &p, index, d, columns);
        out.push('\n');
    });
    let out = report.tail();
    let bold = Style::new().bold();
    if !in_baseline.is_empty() {
        let _ = writeln!(out, "{}", p.paint(bold, &format!("In the baseline ({}):", in_baseline.len())));
        for (d, _) in in_baseline {
            header(out, &p, &locate(index, &d.file, d.range), d);
        }
        out.push('\n');
    }
    if let Some(fixed) = comparison.map(|c| &c.fixed).filter(|f| !f.is_empty()) {
        let _ = writeln!(out, "{}", p.paint(bold, &format!("Fixed since the baseline ({}):", fixed.len())));
        for entry in fixed {
            let _ = writeln!(
                out,
                "{}: {}: {}",
                p.paint(bold, &format!("{}:{}", text::for_terminal(&entry.path), entry.line)),
                text::for_terminal(&entry.code),
                text::for_terminal(&entry.message)
            );
        }
        out.push('\n');
    }
    out.push_str(&summary_line(summary));
    out.push('\n');
    if let Some(comparison) = comparison {
        out.push_str(&baseline_line(comparison));
        out.push('\n');
    }
    report
}

/// `2 new, 5 in baseline, 1 fixed since baseline`.
pub fn baseline_line(c: &Comparison) -> String {
    format!(
        "{} new, {} in baseline, {} fixed since baseline",
        c.new_count(),
        c.unchanged_count(),
        c.fixed.len()
    )
}

/// `3 errors, 2 warnings, 1 note in 14 files (120 annotations)`.
pub fn summary_line(s: &Summary) -> String {
    format!(
        "{}, {}, {} in {} ({})",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.notes, "note"),
        plural(s.files_scanned, "file"),
        plural(s.annotations, "annotation"),
    )
}

pub(super) fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") }
}

/// Styles text when colour is on (shared with the diff's human output).
pub(super) struct Painter {
    pub(super) color: bool,
}

impl Painter {
    /// `text` in `style` (plain without colour), written where it is formatted: no string of
    /// its own.
    pub(super) fn paint<'a>(&self, style: Style, text: &'a str) -> Painted<'a> {
        Painted { style: self.color.then_some(style), text }
    }
}

/// Text and the style it is written in, if any ([`Painter::paint`]).
pub(super) struct Painted<'a> {
    style: Option<Style>,
    text: &'a str,
}

impl std::fmt::Display for Painted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.style {
            Some(style) => write!(f, "{style}{}{style:#}", self.text),
            None => f.write_str(self.text),
        }
    }
}

fn level_style(level: Level) -> Style {
    let color = match level {
        Level::Error => AnsiColor::Red,
        Level::Warning => AnsiColor::Yellow,
        Level::Note => AnsiColor::Cyan,
    };
    Style::new().bold().fg_color(Some(color.into()))
}

fn gutter_style() -> Style {
    Style::new().bold().fg_color(Some(AnsiColor::Blue.into()))
}

fn position(loc: &Location) -> String {
    format!("{}:{}:{}", text::for_terminal(loc.file.as_str()), loc.line, loc.column)
}

/// `src/app.py:3:14: error[unmitigated-exposure]: message`.
fn header(out: &mut String, p: &Painter, loc: &Location, d: &Diagnostic) {
    let _ = writeln!(
        out,
        "{}: {}: {}",
        p.paint(Style::new().bold(), &position(loc)),
        p.paint(level_style(d.level), &format!("{}[{}]", d.level.as_str(), d.code.as_str())),
        text::for_terminal(&d.message),
    );
}

fn render_one(out: &mut String, p: &Painter, index: &ProjectIndex, d: &Diagnostic, columns: usize) {
    let loc = locate(index, &d.file, d.range);
    let bold = Style::new().bold();
    header(out, p, &loc, d);

    let gutter = loc.line.to_string().len();
    let pad = " ".repeat(gutter);
    if let Some((line, line_start)) = line_text(index, d.file.as_str(), d.range.start()) {
        let start = d.range.start() - line_start;
        let end = d.range.end().clamp(d.range.start(), line_start + line.len()) - line_start;
        let masked;
        let line = if d.code.conceals_range() {
            masked = mask(line, start, end);
            masked.as_str()
        } else {
            line
        };
        // `N | ` takes the gutter and three columns.
        let (from, to) = snippet_window(line, start, end, columns.saturating_sub(gutter + 3));
        let (mut shown, mut indent, carets) = underline(&line[from..to], start - from, end.min(to) - from);
        if from > 0 {
            shown.insert(0, '…');
            indent.insert(0, ' ');
        }
        if to < line.len() {
            shown.push('…');
        }
        let bar = p.paint(gutter_style(), "|");
        let _ = writeln!(out, "{pad} {bar}");
        let _ = writeln!(out, "{} {bar} {shown}", p.paint(gutter_style(), &loc.line.to_string()));
        let _ = writeln!(out, "{pad} {bar} {indent}{}", p.paint(level_style(d.level), &"^".repeat(carets)));
    }
    let eq = p.paint(gutter_style(), "=");
    for related in &d.related {
        let rloc = locate(index, &related.file, related.range);
        let _ = writeln!(
            out,
            "{pad} {eq} {}: {} at {}",
            p.paint(bold, "note"),
            text::for_terminal(&related.message),
            position(&rloc)
        );
    }
    if let Some(fix) = &d.fix {
        let _ = writeln!(out, "{pad} {eq} {}: {}", p.paint(bold, "help"), text::for_terminal(&fix.label));
    }
}

/// `line` with bytes `start..end` (char boundaries) shown as `*`, one per byte so that every
/// offset into the line still holds: a secret's diagnostic points at it without printing it.
fn mask(line: &str, start: usize, end: usize) -> String {
    format!("{}{}{}", &line[..start], "*".repeat(end - start), &line[end..])
}

/// The fewest columns a cut snippet keeps, however narrow the terminal.
const SNIPPET_MIN_COLUMNS: usize = 20;

/// Columns a character of a source line takes (as [`underline`] counts them).
fn columns_of(c: char) -> usize {
    let c = clean_char(c);
    if c == '\t' { 4 } else { c.width().unwrap_or(0) }
}

/// The byte range of `line` to show, in at most `columns` columns, for a diagnostic over bytes
/// `start..end` (char boundaries): the whole line when it fits, else a window (two columns
/// fewer, for the `…` on each side) that centres the range, or starts just before it when
/// the range itself is wider. Only the bytes near the range are measured, so a 2 MB line
/// costs what a short one does.
fn snippet_window(line: &str, start: usize, end: usize, columns: usize) -> (usize, usize) {
    let columns = columns.max(SNIPPET_MIN_COLUMNS);
    let floor = |mut at: usize| {
        while !line.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    // Every character but a zero-width one takes a column and at most 4 bytes, so a window
    // never reaches further than this; zero-width runs past it are cut like the line's ends.
    let reach = 4 * columns;
    let lo = floor(start.saturating_sub(reach));
    let hi = floor(end.max(start).saturating_add(reach).min(line.len()));
    let mut cols = Vec::new(); // (byte offset, column) of each char of line[lo..hi]
    let mut width = 0;
    for (i, c) in line[lo..hi].char_indices() {
        cols.push((lo + i, width));
        width += columns_of(c);
    }
    if lo == 0 && hi == line.len() && width <= columns {
        return (0, line.len());
    }
    let col_at = |byte: usize| cols.iter().find(|(b, _)| *b >= byte).map_or(width, |(_, c)| *c);
    let (range_start, range_end) = (col_at(start), col_at(end.max(start)).max(col_at(start) + 1));
    let window = columns - 2;
    let left = match range_end - range_start {
        span if span <= window => range_start.saturating_sub((window - span) / 2),
        _ => range_start.saturating_sub(window / 8),
    };
    let left = left.min(width.saturating_sub(window));
    let from = cols.iter().find(|(_, c)| *c >= left).map_or(hi, |(b, _)| *b);
    let to = cols
        .iter()
        .zip(line[lo..hi].chars())
        .find(|((_, c), ch)| c + columns_of(*ch) > left + window)
        .map_or(hi, |((b, _), _)| *b);
    (from, to.max(from))
}

/// The cleaned line, the whitespace that puts the carets under byte range `start..end`, and the
/// number of carets (at least one). Tabs in the indent stay tabs so the terminal aligns both
/// lines alike; wide characters (CJK, emoji) count two columns.
fn underline(line: &str, start: usize, end: usize) -> (String, String, usize) {
    let mut shown = String::with_capacity(line.len());
    let mut indent = String::new();
    let mut carets = 0;
    for (i, c) in line.char_indices() {
        let c = clean_char(c);
        shown.push(c);
        let width = if c == '\t' { 4 } else { c.width().unwrap_or(0) };
        if i < start {
            if c == '\t' {
                indent.push('\t');
            } else {
                indent.extend(std::iter::repeat_n(' ', width));
            }
        } else if i < end {
            carets += width;
        }
    }
    (shown, indent, carets.max(1))
}

/// A source line's character as shown: [`text::for_terminal`]'s rule, except that a tab stays a
/// tab (the caret line indents with the same tabs). Lines hold no line breaks.
fn clean_char(c: char) -> char {
    if c == '\t' || text::is_inert(c) { c } else { text::REPLACEMENT }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::diagnostic::Code;
    use crate::file_id::FileId;
    use expect_test::expect;

    #[test]
    fn long_lines_are_cut_to_a_window_around_the_diagnostic() {
        let line = format!("{}é@audit X{}", "a".repeat(5000), "b".repeat(5000));
        let at = line.find('@').unwrap();
        let (from, to) = snippet_window(&line, at, at + 6, 100);
        assert!(from < at && at + 6 < to && line[from..to].chars().count() <= 98, "{from}..{to}");
        assert!(line.is_char_boundary(from) && line.is_char_boundary(to));
        assert_eq!(snippet_window("short", 1, 2, 100), (0, 5));
        // Near the end of the line the window still ends at the line's end.
        let (from, to) = snippet_window(&line, line.len() - 1, line.len(), 100);
        assert_eq!(to, line.len());
        assert_eq!(line[from..to].chars().count(), 98);
    }

    /// Issue 14 §6: a line wider than the terminal (120 columns when not a terminal) is a
    /// window around the range with `…`, and the carets stay within it.
    #[test]
    fn lines_wider_than_the_terminal_are_windowed_like_rustc() {
        let text = format!("x = [{}]  # @exposes App to #sqli {}\n", "1, ".repeat(60), "y".repeat(100));
        let index = index(&[("a.py", &text)]);
        let d = Diagnostic {
            code: Code::UnknownVerb,
            level: Level::Warning,
            message: "m".into(),
            file: FileId::relative("a.py"),
            range: range_of(&text, "@exposes App to #sqli"),
            related: vec![],
            fix: None,
            unnecessary: false,
            sidecar: None,
            finding_severity: None,
        };
        for columns in [DEFAULT_COLUMNS, 60] {
            let out = render(&index, std::slice::from_ref(&d), &Summary::default(), false, columns);
            let lines: Vec<&str> = out.lines().collect();
            let (source, carets) = (lines[2], lines[3]);
            assert!(source.starts_with("1 | …") && source.ends_with('…'), "{out}");
            assert!(source.chars().count() <= columns, "{columns}: {source}");
            assert!(source.contains("@exposes App to #sqli"), "{source}");
            let col = |s: &str, c: char| s.chars().position(|x| x == c).unwrap();
            assert_eq!(col(carets, '^'), col(source, '@'), "{out}");
            assert_eq!(carets.matches('^').count(), "@exposes App to #sqli".len());
        }
        // A range wider than the window: carets up to the window's edge, not past it.
        let wide = Diagnostic { range: crate::text::TextRange::new(0, text.len() - 1), ..d };
        let out = render(&index, &[wide], &Summary::default(), false, 80);
        let carets = out.lines().nth(3).unwrap();
        assert!(carets.chars().count() <= 80, "{out}");
        assert!(out.lines().nth(2).unwrap().starts_with("1 | x = ["), "{out}");
    }

    #[test]
    fn renders_header_snippet_notes_help_and_summary() {
        let (index, diagnostics) = sample();
        let summary = summary(&index, &diagnostics);
        let out = render(&index, &diagnostics, &summary, false, DEFAULT_COLUMNS);
        expect![[r#"
            docs/notes.py:1:13: warning[prose-like-annotation]: reads as prose
              |
            1 | # Ünïcødé 😀 @exposes Café to #xss
              |              ^^^^^^^^^^^^^^^^^^^^^

            docs/notes.py:1:22: note[unused-definition]: threat `#xss` is never referenced
              |
            1 | # Ünïcødé 😀 @exposes Café to #xss
              |                       ^^^^

            src/app.py:3:14: error[unmitigated-exposure]: App is exposed to SQL Injection (#sqli) [high] and nothing mitigates it
              |
            3 | def q(s):  # @exposes App to #sqli
              |              ^^^^^^^^^^^^^^^^^^^^^
              = note: threat defined here at src/app.py:2:3
              = help: accept the exposure

            1 error, 1 warning, 1 note in 14 files (120 annotations)
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn baselined_findings_are_one_line_each_after_the_new_ones() {
        use crate::analysis::baseline::{Comparison, Entry, State};
        let (index, diagnostics) = sample();
        let summary = summary(&index, &diagnostics);
        let fixed = Entry {
            fingerprint: "f:1".into(),
            code: "dangling-reference".into(),
            path: "gone.py".into(),
            line: 7,
            message: "`#x` is not defined".into(),
        };
        // In sorted order: the prose-like line, the unused definition, the exposure.
        let comparison =
            Comparison { states: vec![State::Unchanged, State::New, State::Unchanged], fixed: vec![fixed] };
        let out = render_compared(&index, &diagnostics, &summary, false, DEFAULT_COLUMNS, Some(&comparison))
            .into_string();
        expect![[r#"
            docs/notes.py:1:22: note[unused-definition]: threat `#xss` is never referenced
              |
            1 | # Ünïcødé 😀 @exposes Café to #xss
              |                       ^^^^

            In the baseline (2):
            docs/notes.py:1:13: warning[prose-like-annotation]: reads as prose
            src/app.py:3:14: error[unmitigated-exposure]: App is exposed to SQL Injection (#sqli) [high] and nothing mitigates it

            Fixed since the baseline (1):
            gone.py:7: dangling-reference: `#x` is not defined

            1 error, 1 warning, 1 note in 14 files (120 annotations)
            1 new, 2 in baseline, 1 fixed since baseline
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn caret_sits_under_the_range_with_wide_chars_and_tabs() {
        // The emoji is two columns wide; "Café" starts 21 characters but 22 columns in.
        let (shown, indent, carets) =
            underline(NOTES.trim_end(), NOTES.find("Café").unwrap(), NOTES.find(" to").unwrap());
        assert_eq!(shown, NOTES.trim_end());
        assert_eq!(indent.len(), 22);
        assert_eq!(carets, 4);
        let (_, indent, carets) = underline("\tx = 1 # @audit App", 10, 10);
        assert_eq!(indent, "\t         ");
        assert_eq!(carets, 1, "an empty range still gets one caret");
    }

    #[test]
    fn multi_line_range_is_clamped_to_its_first_line() {
        let text = "# @threat A -- \"x\"\n# -- \"more\"\n";
        let index = index(&[("a.py", text)]);
        let d = Diagnostic {
            code: Code::MalformedAnnotation,
            level: Level::Error,
            message: "m".into(),
            file: FileId::relative("a.py"),
            range: crate::text::TextRange::new(2, text.len() - 1),
            related: vec![],
            fix: None,
            unnecessary: false,
            sidecar: None,
            finding_severity: None,
        };
        let out = render(&index, &[d], &Summary::default(), false, DEFAULT_COLUMNS);
        let caret_line = out.lines().nth(3).unwrap();
        assert_eq!(caret_line, format!("  |   {}", "^".repeat(16)));
    }

    #[test]
    fn control_and_bidi_characters_never_reach_the_terminal() {
        let text = "# @threat \u{1b}[31mEvil\u{202E}x\n";
        let index = index(&[("a.py", text)]);
        let d = Diagnostic {
            code: Code::UnknownVerb,
            level: Level::Warning,
            message: "bad \u{1b}]0;title\u{7}".into(),
            file: FileId::relative("a.py"),
            range: range_of(text, "@threat"),
            related: vec![],
            fix: None,
            unnecessary: false,
            sidecar: None,
            finding_severity: None,
        };
        let out = render(&index, &[d], &Summary::default(), false, DEFAULT_COLUMNS);
        assert!(!out.contains('\u{1b}') && !out.contains('\u{202E}') && !out.contains('\u{7}'));
        assert!(out.contains("\u{FFFD}[31mEvil\u{FFFD}x"), "{out}");
    }

    #[test]
    fn color_adds_ansi_styles_only_when_asked() {
        let (index, diagnostics) = sample();
        let summary = summary(&index, &diagnostics);
        let plain = render(&index, &diagnostics, &summary, false, DEFAULT_COLUMNS);
        let colored = render(&index, &diagnostics, &summary, true, DEFAULT_COLUMNS);
        assert!(!plain.contains('\u{1b}'));
        assert!(colored.contains("\u{1b}["));
        let stripped: String = anstream::adapter::strip_str(&colored).to_string();
        assert_eq!(stripped, plain);
    }

    #[test]
    fn summary_line_pluralises() {
        let s = Summary {
            errors: 3,
            warnings: 2,
            notes: 1,
            files_scanned: 14,
            annotations: 120,
            ..Summary::default()
        };
        assert_eq!(summary_line(&s), "3 errors, 2 warnings, 1 note in 14 files (120 annotations)");
        assert_eq!(
            summary_line(&Summary { files_scanned: 1, annotations: 1, ..Summary::default() }),
            "0 errors, 0 warnings, 0 notes in 1 file (1 annotation)"
        );
    }
}
