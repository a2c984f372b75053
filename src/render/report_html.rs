//! The HTML threat-model report (`threat-analyzer report --format html`) and the self-contained
//! HTML page shell it shares with the language server's diagram preview ([`dfd_page`]).
//!
//! Owns: the HTML of the report — the same sections in the same order as the Markdown report
//! (the format-neutral [`Report`] of [`super::report`]), with the data-flow diagram as inline SVG
//! from [`super::svg::render`] — its stylesheet (screen and print), HTML escaping, and the
//! Content-Security-Policy. Must never: load anything (no script, no network resource, no
//! external font or image: one file that works offline), trust annotation text (every
//! [`Inline::Text`] goes through [`escape`], in text and attribute contexts alike), put anything
//! into an `href` but a validated relative project file path, do I/O, or write anything time-
//! or machine-dependent (same model, same bytes).
//!
//! # Content-Security-Policy
//!
//! Every page carries, in a `<meta http-equiv>` before any style:
//! `default-src 'none'; style-src 'sha256-…' …; base-uri 'none'; form-action 'none'`. The
//! hashes are computed at render time over the page's own `<style>` block and over every
//! `<style>` element of the embedded SVG (as the browser sees its text: CDATA unwrapped,
//! character references decoded). Should the SVG carry `style="…"` attributes, their values
//! are hashed too, behind `'unsafe-hashes'`. Nothing else is allowed: no script source at all,
//! so even an escaping bug could not run script, and no image, font, frame or connection.
//!
//! # Links
//!
//! Locations are written as text (`api/orders.py:49`, relative to the project root) and link
//! to the file (`href` = the caller's [`ReportOptions::link_prefix`] + the percent-encoded
//! path, see [`super::report_md::encode_path`]) only when the path is relative, has no empty,
//! `.` or `..` segment, and the prefix is made of `../` steps and percent-encoded segments: no
//! scheme (`javascript:`, whose `:` would be encoded anyway), no `//host`, no query.

use super::dfd::Dfd;
use super::report::{self, Block, Inline, Report, ReportOptions, Table, Tone};
use super::report_md::encode_path;
use crate::analysis::{Analysis, Summary};
use crate::diagnostic::Diagnostic;
use crate::model::ProjectIndex;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// The page's stylesheet (screen and print).
const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1b1f23; --muted: #57606a; --line: #d0d7de; --head: #f3f5f7;
  --bad: #a40e26; --bad-bg: #ffebe9; --warn: #8a4b00; --warn-bg: #fff4e5; --good: #1a6b2f;
  --good-bg: #e6f4ea; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0 auto; padding: 1.5rem 2rem 3rem; max-width: 80rem; color: var(--ink);
  background: #fff; font: 1rem/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans",
  "Liberation Sans", sans-serif; }
h1 { font-size: 1.7rem; margin: 0 0 .4rem; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; padding-bottom: .2rem;
  border-bottom: 1px solid var(--line); }
h2 .n { color: var(--muted); font-weight: normal; font-size: 1rem; }
p { margin: .4rem 0 .8rem; max-width: 60rem; }
.intro, .none { color: var(--muted); }
code { font: .9em/1 ui-monospace, "DejaVu Sans Mono", monospace; background: var(--head);
  padding: .05em .3em; border-radius: 3px; }
nav.toc ol { margin: .6rem 0 0; padding: 0; list-style: none; display: flex; flex-wrap: wrap;
  gap: .3rem 1.2rem; font-size: .9rem; }
nav.toc a { color: #0550ae; }
.counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(10.5rem, 1fr));
  gap: .4rem; margin: .6rem 0; }
.counts div { border: 1px solid var(--line); border-radius: 6px; padding: .35rem .6rem; }
.counts dt { font-size: .8rem; color: var(--muted); }
.counts dd { margin: 0; font-size: 1.25rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.counts .alert { border-color: var(--bad); background: var(--bad-bg); }
.table-wrap { overflow-x: auto; margin: .4rem 0 1rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left;
  vertical-align: top; overflow-wrap: break-word; }
thead th { background: var(--head); font-weight: 600; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.loc { font: .85em/1.3 ui-monospace, "DejaVu Sans Mono", monospace; min-width: 9rem; }
td.loc a { color: #0550ae; }
.flag { white-space: nowrap; }
.flag.bad { color: var(--bad); }
.flag.good { color: var(--good); }
.flag.neutral { color: var(--muted); }
table.stride-per-element td:nth-child(n+3) { text-align: center; }
table.stride-per-element td:nth-child(2) { white-space: nowrap; }
figure.dfd { margin: .6rem 0; }
figure.dfd .canvas { overflow: auto; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
figure.dfd svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { margin: .4rem 0 0; font-size: .85rem; color: var(--muted); }
figcaption a { color: #0550ae; }
body.preview { max-width: none; }
body.preview figure.dfd .canvas { border: 0; padding: 0; }
body.preview figure.dfd svg { max-width: none; margin: 0; }
@page { margin: 14mm 12mm; }
@page diagram { size: landscape; }
@media print {
  html { font-size: 9pt; }
  body { max-width: none; padding: 0; }
  .counts { grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr)); gap: .25rem; }
  .counts div { padding: .15rem .4rem; }
  .counts dd { font-size: 1.1rem; }
  nav.toc { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; margin-top: 1.2rem; }
  p { max-width: none; }
  .table-wrap, figure.dfd .canvas { overflow: visible; }
  th, td { padding: .15rem .3rem; }
  thead { display: table-header-group; }
  tr, .counts div, figcaption { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .diagram-section { page: diagram; break-before: page; page-break-before: always; }
  figure.dfd .canvas { border: 0; padding: 0; }
  figure.dfd svg { width: 100%; max-height: 160mm; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

/// The HTML report, with file links relative to the project root.
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

/// Writes a gathered [`Report`] as one self-contained HTML page.
pub fn write(report: &Report, options: &ReportOptions) -> String {
    let prefix = valid_prefix(&options.link_prefix);
    let title = format!("Threat model report: {}", report.project);
    let svg = Embedded::of(super::svg::render(&report.dfd));
    let mut body = String::with_capacity(svg.markup.len() + (1 << 16));
    let _ = write!(
        body,
        "<header>\n<h1>Threat model report: <span class=\"project\">{}</span></h1>\n<p class=\"intro\">{}</p>\n",
        escape(&report.project),
        escape(report::INTRO)
    );
    body.push_str("<nav class=\"toc\" aria-label=\"Contents\"><ol>");
    for block in &report.blocks {
        let _ = write!(body, "<li><a href=\"#{}\">{}</a></li>", slug(block.title()), escape(block.title()));
    }
    body.push_str("</ol></nav>\n</header>\n<main>\n");
    for block in &report.blocks {
        let id = slug(block.title());
        match block {
            Block::Summary(counts) => {
                let _ = writeln!(body, "<section id=\"{id}\">\n<h2>Summary</h2>\n<dl class=\"counts\">");
                for (label, value) in counts {
                    let alert = *value > 0 && matches!(*label, "Confirmed findings" | "Errors");
                    let class = if alert { " class=\"alert\"" } else { "" };
                    let _ = writeln!(body, "<div{class}><dt>{}</dt><dd>{value}</dd></div>", escape(label));
                }
                body.push_str("</dl>\n</section>\n");
            }
            Block::Table(table) => write_table(&mut body, &id, table, prefix),
            Block::DiagramTooLarge(reason) => {
                let _ = writeln!(
                    body,
                    "<section id=\"{id}\">\n<h2>{}</h2>\n<p>{}</p>\n</section>",
                    escape(block.title()),
                    escape(reason)
                );
            }
            Block::RiskMatrix(m) => {
                let _ = writeln!(body, "<section id=\"{id}\">\n<h2>{}</h2>", escape(block.title()));
                body.push_str(&risk_matrix_svg(m));
                let _ = writeln!(body, "<p>{}</p>\n</section>", escape(&m.note()));
            }
            Block::Diagram => {
                let _ = writeln!(
                    body,
                    "<section id=\"{id}\" class=\"diagram-section\">\n<h2>{}</h2>",
                    escape(block.title())
                );
                let caption = "Shapes, badges and boundaries are explained in the diagram's legend. \
                               Every element and flow is also listed, as text, under \
                               <a href=\"#stride-per-element\">STRIDE per element</a>.";
                write_figure(&mut body, &svg.markup, Some(caption));
                body.push_str("</section>\n");
            }
        }
    }
    body.push_str("</main>\n");
    page(&title, "report", &body, &svg)
}

/// The risk matrix as an inline SVG: likelihood 5 at the top, impact 1 on the left; each cell
/// shows its count, band and score in words (colour is never the only cue) and names them in
/// its `<title>`. Only fixed words and numbers: nothing from the annotations.
fn risk_matrix_svg(m: &report::RiskMatrix) -> String {
    use crate::model::risk::Band;
    const CELL_W: usize = 132;
    const CELL_H: usize = 60;
    const LEFT: usize = 64;
    const TOP: usize = 8;
    let fill = |b: Band| match b {
        Band::Info => "#eef6ee",
        Band::Low => "#cfe8cf",
        Band::Medium => "#fbe7a6",
        Band::High => "#f7b96b",
        Band::Critical => "#ec8a84",
    };
    let (width, height) = (LEFT + 5 * CELL_W + 8, TOP + 5 * CELL_H + 52);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<figure class=\"risk-matrix\"><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\">\n\
         <title>Risk matrix: number of risks per likelihood (rows, 5 at the top) and impact (columns)</title>"
    );
    for l in 1..=5usize {
        let y = TOP + (5 - l) * CELL_H;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"14\" font-weight=\"bold\">L{l}</text>",
            LEFT - 10,
            y + CELL_H / 2 + 5
        );
        for i in 1..=5usize {
            let x = LEFT + (i - 1) * CELL_W;
            let band = m.bands[l - 1][i - 1];
            let count = m.counts[l - 1][i - 1];
            let score = l * i;
            let weight = if count > 0 { "bold" } else { "normal" };
            let _ = writeln!(
                out,
                "<g><title>Likelihood {l}, impact {i}: {count} risk{}, {} (score {score})</title>\
                 <rect x=\"{x}\" y=\"{y}\" width=\"{CELL_W}\" height=\"{CELL_H}\" fill=\"{}\" stroke=\"#444\"/>\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"20\" font-weight=\"{weight}\">{count}</text>\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">{} · {score}</text></g>",
                if count == 1 { "" } else { "s" },
                band.as_str(),
                fill(band),
                x + CELL_W / 2,
                y + 26,
                x + CELL_W / 2,
                y + 46,
                band.as_str(),
            );
        }
    }
    let axis_y = TOP + 5 * CELL_H;
    for i in 1..=5usize {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">I{i}</text>",
            LEFT + (i - 1) * CELL_W + CELL_W / 2,
            axis_y + 20
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\">Impact →   (rows: likelihood ↑)</text>\n</svg></figure>",
        LEFT + 5 * CELL_W / 2,
        axis_y + 42
    );
    out
}

/// A self-contained page showing one data-flow diagram: `heading` (untrusted: a project or
/// folder name), a line saying what it shows (`scope`, untrusted), and the SVG with its legend
/// at its natural size (the page scrolls), so large diagrams stay readable. Used by the
/// language server's `threat-analyzer.showDfd` preview.
pub fn dfd_page(dfd: &Dfd, heading: &str, scope: &str) -> String {
    let svg = Embedded::of(super::svg::render(dfd));
    let mut body = String::with_capacity(svg.markup.len() + 4096);
    let _ = writeln!(
        body,
        "<header>\n<h1>Data-flow diagram: <span class=\"project\">{}</span></h1>\n<p class=\"intro\">{} · {} \
         elements, {} flows, {} trust boundaries. Generated by threat-analyzer from the threat-model \
         annotations in the source comments.</p>\n</header>\n<main>",
        escape(heading),
        escape(scope),
        dfd.nodes.len(),
        dfd.edges.len(),
        dfd.trust_boundaries().count()
    );
    write_figure(&mut body, &svg.markup, None);
    body.push_str("</main>\n");
    page(&format!("Data-flow diagram: {heading}"), "preview", &body, &svg)
}

// @exposes ThreatAnalyzer.Renderers to #script-injection -- "annotation text goes into HTML pages"
// @mitigates ThreatAnalyzer.Renderers against #script-injection using #output-escaping
// @mitigates ThreatAnalyzer.Renderers against #script-injection using #strict-csp
/// Escapes untrusted text for HTML text and double- or single-quoted attribute values: `&`
/// `<` `>` `"` `'` become character references, and control, line-separator and bidi
/// characters become spaces ([`report::is_blank`]), so text can open no tag, end no attribute
/// and reorder nothing a reader sees.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            ' ' => out.push(' '),
            c if report::is_blank(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// [`escape`], plus a line-break opportunity (`<wbr>`) after each `/`, `.`, `:` or `_` between
/// two letters or digits in words of more than [`LONG_WORD`] characters, so long paths, dotted
/// component names and snake_case ids wrap inside their table column instead of widening the
/// table (short names stay whole).
fn breakable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let chars: Vec<char> = word.chars().collect();
        if chars.len() <= LONG_WORD {
            out.push_str(&escape(word));
            continue;
        }
        let mut start = 0;
        for j in 1..chars.len().saturating_sub(1) {
            if matches!(chars[j], '/' | '.' | ':' | '_')
                && chars[j - 1].is_alphanumeric()
                && chars[j + 1].is_alphanumeric()
            {
                out.push_str(&escape(&chars[start..=j].iter().collect::<String>()));
                out.push_str("<wbr>");
                start = j + 1;
            }
        }
        out.push_str(&escape(&chars[start..].iter().collect::<String>()));
    }
    out
}

/// Words up to this many characters never get a [`breakable`] break opportunity.
const LONG_WORD: usize = 18;

/// The whole document around `body`: doctype, CSP, title, the one stylesheet; `class` (fixed)
/// on `<body>` selects the report or preview layout.
fn page(title: &str, class: &str, body: &str, svg: &Embedded) -> String {
    let mut styles = vec![hash(STYLE)];
    styles.extend(svg.styles.iter().map(|s| hash(s)));
    styles.sort();
    styles.dedup();
    let mut attrs: Vec<String> = svg.style_attrs.iter().map(|s| hash(s)).collect();
    attrs.sort();
    attrs.dedup();
    let mut style_src = styles.iter().map(|h| format!("'sha256-{h}'")).collect::<Vec<_>>().join(" ");
    if !attrs.is_empty() {
        style_src.push_str(" 'unsafe-hashes'");
        for h in &attrs {
            let _ = write!(style_src, " 'sha256-{h}'");
        }
    }
    let mut page = String::with_capacity(body.len() + STYLE.len() + style_src.len() + title.len() * 2 + 1024);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src {style_src}; \
         base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"threat-analyzer\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body class=\"{class}\">\n{body}</body>\n</html>\n",
        escape(title)
    );
    page
}

/// The figure: the inline SVG (which draws its own legend and carries its own title for
/// assistive technology) and an optional caption (fixed text with markup).
fn write_figure(out: &mut String, svg_markup: &str, caption: Option<&str>) {
    let _ = writeln!(out, "<figure class=\"dfd\">\n<div class=\"canvas\">\n{svg_markup}\n</div>");
    if let Some(caption) = caption {
        let _ = writeln!(out, "<figcaption>{caption}</figcaption>");
    }
    out.push_str("</figure>\n");
}

fn write_table(out: &mut String, id: &str, table: &Table, prefix: Option<&str>) {
    let _ = write!(out, "<section id=\"{id}\">\n<h2>{}", escape(table.title));
    if !table.rows.is_empty() {
        let _ = write!(out, " <span class=\"n\">({})</span>", table.rows.len());
    }
    out.push_str("</h2>\n");
    if !table.intro.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", inlines(&table.intro, prefix));
    }
    if table.rows.is_empty() {
        out.push_str("<p class=\"none\">None recorded.</p>\n</section>\n");
        return;
    }
    let _ = write!(out, "<div class=\"table-wrap\"><table class=\"{id}\">\n<thead><tr>");
    for h in &table.header {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            let is_location = matches!(cell.as_slice(), [Inline::Location { .. }]);
            out.push_str(if is_location { "<td class=\"loc\">" } else { "<td>" });
            out.push_str(&inlines(cell, prefix));
            out.push_str("</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// The HTML of a run of inlines.
fn inlines(items: &[Inline], prefix: Option<&str>) -> String {
    let mut out = String::new();
    for item in items {
        match item {
            Inline::Text(t) => out.push_str(&breakable(t)),
            Inline::Fixed(t) => out.push_str(&escape(t)),
            Inline::Strong(t) => {
                let _ = write!(out, "<strong>{}</strong>", escape(t));
            }
            Inline::Code(t) => {
                let _ = write!(out, "<code>{}</code>", escape(t));
            }
            Inline::Flag { text, tone } => {
                let tone = match tone {
                    Tone::Good => "good",
                    Tone::Bad => "bad",
                    Tone::Neutral => "neutral",
                };
                let _ = write!(out, "<span class=\"flag {tone}\">{}</span>", escape(text));
            }
            Inline::Location { file, line } => {
                let text = format!("{}:{line}", breakable(file));
                match prefix.and_then(|p| file_href(p, file)) {
                    Some(href) => {
                        let _ = write!(out, "<a href=\"{}\">{text}</a>", escape(&href));
                    }
                    None => out.push_str(&text),
                }
            }
        }
    }
    out
}

/// The link prefix when it is only `../` steps and percent-encoded segments, each ending in `/`.
fn valid_prefix(prefix: &str) -> Option<&str> {
    let ok = prefix.is_empty()
        || (prefix.ends_with('/')
            && prefix[..prefix.len() - 1].split('/').all(|s| {
                s == ".."
                    || (!s.is_empty()
                        && s != "."
                        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)))
            }));
    ok.then_some(prefix)
}

/// `prefix` + the percent-encoded `file`, when `file` is a plain relative path.
fn file_href(prefix: &str, file: &str) -> Option<String> {
    let plain = !file.is_empty()
        && !file.starts_with('/')
        && !file.contains('\\')
        && file.split('/').all(|s| !s.is_empty() && s != "." && s != "..");
    plain.then(|| format!("{prefix}{}", encode_path(file)))
}

/// A section id from a (fixed) title: lowercase words joined by `-`.
fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Base64 of the SHA-256 of `text`, as a CSP hash source wants it.
fn hash(text: &str) -> String {
    base64(&Sha256::digest(text.as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An SVG document made ready to sit inside HTML: the markup from `<svg` on (no XML
/// declaration or doctype), and the style texts the CSP must allow, as the browser will see
/// them.
struct Embedded {
    markup: String,
    /// Text of each `<style>` element.
    styles: Vec<String>,
    /// Value of each `style` attribute.
    style_attrs: Vec<String>,
}

impl Embedded {
    fn of(svg: String) -> Embedded {
        // In place: the drawing of a large model is megabytes long.
        let mut markup = svg;
        let start = markup.find("<svg").unwrap_or(markup.len());
        markup.truncate(markup.trim_end().len().max(start));
        markup.drain(..start);
        let mut styles = Vec::new();
        let mut style_attrs = Vec::new();
        let mut rest = markup.as_str();
        while let Some(open) = rest.find('<') {
            rest = &rest[open..];
            if rest.starts_with("<![CDATA[") {
                rest = rest.find("]]>").map_or("", |end| &rest[end + 3..]);
                continue;
            }
            let Some(end) = tag_end(rest) else { break };
            let tag = &rest[..end];
            style_attrs.extend(style_attribute(tag));
            rest = &rest[end..];
            if tag.starts_with("<style") && !tag.ends_with("/>") {
                let close = rest.find("</style").unwrap_or(rest.len());
                styles.push(decode_text(&rest[..close]));
                rest = &rest[close..];
            }
        }
        Embedded { markup, styles, style_attrs }
    }
}

/// The length of the tag at the start of `s` (up to and including its `>`, quotes respected).
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, b) in s.bytes().enumerate() {
        match (quote, b) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// The decoded value of a tag's `style` attribute, if any.
fn style_attribute(tag: &str) -> Option<String> {
    let bytes = tag.as_bytes();
    let mut from = 0;
    while let Some(at) = tag[from..].find("style") {
        let at = from + at;
        from = at + 5;
        let before_ok = at > 0 && bytes[at - 1].is_ascii_whitespace();
        let after = tag[at + 5..].trim_start();
        if !before_ok || !after.starts_with('=') {
            continue;
        }
        let value = after[1..].trim_start();
        let quote = value.chars().next()?;
        if quote == '"' || quote == '\'' {
            let inner = &value[1..];
            let end = inner.find(quote)?;
            return Some(decode_text(&inner[..end]));
        }
    }
    None
}

/// Text as an HTML parser hands it over in SVG content: CDATA sections literal, the XML
/// character references decoded.
fn decode_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix("<![CDATA[") {
            let end = inner.find("]]>").unwrap_or(inner.len());
            out.push_str(&inner[..end]);
            rest = inner.get(end + 3..).unwrap_or("");
            continue;
        }
        if rest.starts_with('&')
            && let Some(semi) = rest.find(';')
            && let Some(c) = reference(&rest[1..semi])
        {
            out.push(c);
            rest = &rest[semi + 1..];
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn reference(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let n = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => name.strip_prefix('#')?.parse().ok()?,
            };
            char::from_u32(n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_text_and_attributes() {
        assert_eq!(
            escape("<img src=x onerror=\"a('1')\">&"),
            "&lt;img src=x onerror=&quot;a(&#39;1&#39;)&quot;&gt;&amp;"
        );
        assert_eq!(escape("a\nb\u{202e}c\u{0}d"), "a b c d");
        assert_eq!(escape("Café 😀"), "Café 😀");
    }

    #[test]
    fn breakable_text_wraps_at_joints_only() {
        assert_eq!(breakable("Shop.Api.Orders"), "Shop.Api.Orders");
        assert_eq!(breakable("Webshop:Worker:Payments x"), "Webshop:<wbr>Worker:<wbr>Payments x");
        assert_eq!(breakable("a_b <x>/y"), "a_b &lt;x&gt;/y");
        assert_eq!(breakable("<legacy>/admin/export.php"), "&lt;legacy&gt;/admin/<wbr>export.<wbr>php");
    }

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        // The CSP hash of the empty string.
        assert_eq!(hash(""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }

    #[test]
    fn hrefs_only_for_plain_relative_paths() {
        assert_eq!(file_href("../", "api/x y.py").as_deref(), Some("../api/x%20y.py"));
        assert_eq!(file_href("", "javascript:alert(1)").as_deref(), Some("javascript%3Aalert%281%29"));
        assert_eq!(file_href("", "/etc/passwd"), None);
        assert_eq!(file_href("", "//evil.example/x"), None);
        assert_eq!(file_href("", "a/../../x"), None);
        assert_eq!(file_href("", "C:\\x"), None);
        assert_eq!(valid_prefix("../../src%20x/"), Some("../../src%20x/"));
        assert_eq!(valid_prefix(""), Some(""));
        assert_eq!(valid_prefix("javascript:x/"), None);
        assert_eq!(valid_prefix("//host/"), None);
        assert_eq!(valid_prefix(".."), None);
    }

    #[test]
    fn embedded_svg_drops_the_prolog_and_finds_styles() {
        let svg = "<?xml version=\"1.0\"?>\n<!DOCTYPE svg>\n<svg viewBox=\"0 0 1 1\"><style><![CDATA[a>b{}]]></style>\
                   <style>.x &gt; .y{}</style><rect style=\"fill:&quot;red&quot;\" x='1'/><text>style=\"no\"</text></svg>\n";
        let e = Embedded::of(svg.to_string());
        assert!(e.markup.starts_with("<svg viewBox") && e.markup.ends_with("</svg>"), "{}", e.markup);
        assert_eq!(e.styles, ["a>b{}", ".x > .y{}"]);
        assert_eq!(e.style_attrs, ["fill:\"red\""]);
    }

    #[test]
    fn slugs_are_ids() {
        assert_eq!(slug("Open exposures and confirmed findings"), "open-exposures-and-confirmed-findings");
        assert_eq!(slug("Audits / reviews"), "audits-reviews");
    }
}
