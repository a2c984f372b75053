//! A standalone SVG 1.1 drawing of a [`Dfd`], laid out in-process by [`super::layout`] (no
//! external program). Pure and deterministic: the same diagram gives byte-identical text.
//!
//! Owns: the SVG syntax, the drawing (shapes, colours, markers) and the escaping of untrusted
//! text for XML. Must never: decide what the diagram contains ([`super::dfd`]) or where things
//! go ([`super::layout`]); write a `<script>`, a `<style>`, a `style` attribute, an event
//! attribute or any reference outside the document (no `href`, no `@import`, no web fonts):
//! the drawing is embedded in an HTML report under a strict Content-Security-Policy and in
//! editor webviews. Only presentation attributes and local `url(#…)` marker references.
//!
//! # Output
//!
//! - `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width=… height=… viewBox=…>` with
//!   a `<title>`; generic font families only.
//! - Trust boundaries: dashed rectangles with their title inside, at the top. Component groups
//!   (ThreatSpec colon paths, nested): thin grey solid rectangles with a plain title
//!   ([`look::ClusterLook`]), `data-kind="component"`, outer ones painted first.
//! - Shapes carry the element kind (never colour alone): actor / external entity a plain
//!   rectangle, process a rounded rectangle, data store a cylinder (two paths).
//! - Under each label the lines of [`super::look`], the same wording as DOT and Mermaid: the
//!   badge (`✗ 1 confirmed · ⚠ 2 open · ✓ 3 mitigated · 1 accepted · 1 transferred`), the
//!   named threats with severity (`⚠ SQL Injection [critical]`, at most
//!   [`look::THREATS_SHOWN`], then `+N more`) and `data: pii, financial`. The tone of the
//!   worst severity gives the border width and colours and `data-severity`.
//! - Flows: one path per direction between two nodes (parallel flows of one direction merged,
//!   see [`super::layout`]) with the arrowhead at the end the flows enter (two-way: both), the
//!   label on a white box so it reads over other lines.
//! - What the infrastructure baseline proposes ([`super::dfd_baseline`]): elements grey with a
//!   dashed outline (`data-severity="proposed"`) and the `proposed · <type>` line of
//!   [`super::look`], flows dashed and grey (`data-proposed="true"`) labelled
//!   `proposed: <mechanism>`, boundaries grey and dotted (`data-kind="proposed-boundary"`)
//!   titled `proposed <kind>: <address>`; the legend says so in one more line.
//! - A legend explains the shapes, the badge and the dashed boundary, and says how many flows
//!   the layout's work budget drew in lanes below the diagram, if any.
//! - Every node, boundary and flow is a `<g>` with a `<title>` (the full text, shown as a
//!   tooltip; a node's names every open threat and finding) and `id="dfd-<id>"` / `data-key="<id>"` from [`safe_id`] (a flow:
//!   `data-from`/`data-to`), so a webview can map a click back to the model. Paint order:
//!   boundaries, flows, flow labels, nodes, legend.
//!
//! # Escaping
//!
//! All text (labels, titles, tooltips) is written by [`escape`], as element content or inside
//! a double-quoted attribute: `&` `&amp;`, `<` `&lt;`, `>` `&gt;`, `"` `&quot;`, `'` `&#39;`.
//! Characters XML 1.0 forbids (C0 controls but tab, line feed and carriage return; U+FFFE,
//! U+FFFF) are dropped, other control, line-separator and bidi-control characters become a
//! space ([`super::layout::display_char`]). So `<img src=x onerror=alert(1)>`, `]]>`, `-->`
//! or `"]; click A call x()` stay text and never form an element or attribute. Ids come from
//! the model and are `[A-Za-z0-9_]` only; an id that is not (a hand-built model) is replaced
//! by a hashed one. Numbers are written from floats (rounded to 0.1 px), never from text.

use super::dfd::{Dfd, ElementKind, Nesting, safe_id};
use super::layout::{
    self, BADGE_FONT, CYLINDER_RY, EDGE_FONT, LEGEND_FONT, LINE_HEIGHT, NODE_FONT, Point, Rect, TITLE_FONT,
};
use super::look::{self, ClusterLook, Tone};
use std::fmt::Write as _;

const INK: &str = "#1f2933";
const LINE: &str = "#52606d";

/// The SVG document of `dfd`.
pub fn render(dfd: &Dfd) -> String {
    let l = layout::layout(dfd);
    // Room for what is written below (a route's point takes some 30 bytes of path data), so
    // the many megabytes of a large diagram are not copied as the text grows.
    let points: usize = l.routes.iter().map(|r| r.points.len()).sum();
    let mut out = String::with_capacity(8192 + dfd.nodes.len() * 700 + l.routes.len() * 500 + points * 32);
    let (w, h) = (num(l.width), num(l.height));
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"Helvetica, Arial, sans-serif\" role=\"img\">"
    );
    let drawn = |component: bool| {
        dfd.boundaries
            .iter()
            .zip(&l.clusters)
            .filter(|(b, c)| b.component == component && c.is_some())
            .count()
    };
    let groups = match drawn(true) {
        0 => String::new(),
        k => format!(", {k} component groups"),
    };
    let _ = writeln!(
        out,
        "<title>Data-flow diagram: {} elements, {} flows, {} trust boundaries{groups}</title>",
        dfd.nodes.len(),
        dfd.edges.len(),
        drawn(false)
    );
    out.push_str("<defs>\n");
    let _ = writeln!(
        out,
        "<marker id=\"dfd-arrow-end\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"9\" \
         markerHeight=\"9\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" \
         fill=\"{LINE}\"/></marker>"
    );
    let _ = writeln!(
        out,
        "<marker id=\"dfd-arrow-start\" viewBox=\"0 0 10 10\" refX=\"1\" refY=\"5\" markerWidth=\"9\" \
         markerHeight=\"9\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M10,0 L0,5 L10,10 z\" \
         fill=\"{LINE}\"/></marker>"
    );
    out.push_str("</defs>\n");
    let _ = writeln!(out, "<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>");

    out.push_str("<g id=\"dfd-boundaries\">\n");
    // Outer clusters first, so nested ones are painted over them.
    let nesting = Nesting::of(dfd);
    let mut outer_first: Vec<usize> = (0..dfd.boundaries.len()).collect();
    outer_first.sort_by_key(|&c| nesting.depth[c]);
    for c in outer_first {
        let (group, Some(cluster)) = (&dfd.boundaries[c], &l.clusters[c]) else { continue };
        let id = safe_id(&group.id);
        let r = cluster.rect;
        let look = ClusterLook::of(group);
        let kind = match (group.proposed, group.component) {
            (true, _) => "proposed-boundary",
            (false, true) => "component",
            (false, false) => "boundary",
        };
        let _ = writeln!(out, "<g id=\"dfd-{id}\" data-key=\"{id}\" data-kind=\"{kind}\">");
        let _ = writeln!(out, "<title>{}: {}</title>", look.what, escape(&group.title));
        let dash = look.dash.map(|d| format!(" stroke-dasharray=\"{d}\"")).unwrap_or_default();
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"{}\" stroke=\"{}\" \
             stroke-width=\"{}\"{dash}/>",
            num(r.x),
            num(r.y),
            num(r.width),
            num(r.height),
            look.fill,
            look.stroke,
            num(look.width)
        );
        for (k, line) in cluster.title_lines.iter().enumerate() {
            let y = r.y + 6.0 + TITLE_FONT + k as f64 * TITLE_FONT * LINE_HEIGHT;
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"{}\" font-weight=\"{}\" fill=\"{}\">{}</text>",
                num(r.x + 8.0),
                num(y),
                num(TITLE_FONT),
                look.title_weight,
                look.title_ink,
                escape(line)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n");

    out.push_str("<g id=\"dfd-flows\" fill=\"none\">\n");
    for route in &l.routes {
        let (from, to) = (&dfd.nodes[route.from], &dfd.nodes[route.to]);
        let _ = write!(
            out,
            "<g data-from=\"{}\" data-to=\"{}\" data-flows=\"{}\"{}><title>{} {} {}",
            safe_id(&from.id),
            safe_id(&to.id),
            route.flows,
            if route.proposed { " data-proposed=\"true\"" } else { "" },
            escape(&from.label),
            match (route.arrow_start, route.arrow_end) {
                (true, true) => "↔",
                (true, false) => "←",
                _ => "→",
            },
            escape(&to.label)
        );
        for label in &route.labels {
            let _ = write!(out, "\n{}", escape(label));
        }
        let width = if route.flows > 1 { 2.0 } else { 1.3 };
        out.push_str("</title><path d=\"");
        path(&mut out, &route.points);
        if route.proposed {
            let _ = write!(
                out,
                "\" stroke=\"{}\" stroke-width=\"{width}\" stroke-dasharray=\"{}\"",
                look::PROPOSED_STROKE,
                look::PROPOSED_DASH
            );
        } else {
            let _ = write!(out, "\" stroke=\"{LINE}\" stroke-width=\"{width}\"");
        }
        if route.arrow_start {
            out.push_str(" marker-start=\"url(#dfd-arrow-start)\"");
        }
        if route.arrow_end {
            out.push_str(" marker-end=\"url(#dfd-arrow-end)\"");
        }
        out.push_str("/></g>\n");
    }
    out.push_str("</g>\n");

    out.push_str("<g id=\"dfd-flow-labels\">\n");
    for route in &l.routes {
        let Some(b) = route.label_box else { continue };
        let _ = writeln!(
            out,
            "<g><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.92\"/>",
            num(b.x),
            num(b.y),
            num(b.width),
            num(b.height)
        );
        let first = b.y + 3.0 + EDGE_FONT;
        for (k, line) in route.label_lines.iter().enumerate() {
            let italic = route.flows > 1 && k == 0;
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" fill=\"{INK}\"{}>{}</text>",
                num(b.center_x()),
                num(first + k as f64 * EDGE_FONT * LINE_HEIGHT),
                num(EDGE_FONT),
                if italic { " font-style=\"italic\"" } else { "" },
                escape(line)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n");

    out.push_str("<g id=\"dfd-nodes\">\n");
    for (node, placed) in dfd.nodes.iter().zip(&l.nodes) {
        let id = safe_id(&node.id);
        let status = look::status_class(&node.status).unwrap_or("none");
        let tone = Tone::of(node);
        let _ = writeln!(
            out,
            "<g id=\"dfd-{id}\" data-key=\"{id}\" data-kind=\"{}\" data-status=\"{status}\" \
             data-severity=\"{}\">",
            node.kind.as_str(),
            tone.name()
        );
        // The tooltip names every threat, however many the label had room for.
        let _ = write!(out, "<title>{}\n{}", escape(&node.label), kind_name(node.kind));
        for line in look::detail_lines(node, usize::MAX) {
            let _ = write!(out, "\n{}", escape(&line));
        }
        out.push_str("</title>\n");
        let (stroke, fill, width) = tone.paint();
        shape(&mut out, node.kind, placed.rect, Paint { fill, stroke, width, dash: tone.dash() });
        let r = placed.rect;
        let text_top = r.y + 8.0 + if node.kind == ElementKind::DataStore { 2.0 * CYLINDER_RY } else { 0.0 };
        let mut baseline = text_top + NODE_FONT;
        for line in &placed.lines {
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>",
                num(r.center_x()),
                num(baseline),
                num(NODE_FONT),
                escape(line)
            );
            baseline += NODE_FONT * LINE_HEIGHT;
        }
        let mut baseline = baseline - NODE_FONT + BADGE_FONT + 2.0;
        for line in &placed.details {
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>",
                num(r.center_x()),
                num(baseline),
                num(BADGE_FONT),
                escape(line)
            );
            baseline += BADGE_FONT * LINE_HEIGHT;
        }
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n");

    let legend = &l.legend;
    let r = legend.rect;
    out.push_str("<g id=\"dfd-legend\">\n");
    let _ = writeln!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\" fill=\"#ffffff\" stroke=\"#9aa5b1\"/>",
        num(r.x),
        num(r.y),
        num(r.width),
        num(r.height)
    );
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"{}\" font-weight=\"bold\" fill=\"{INK}\">Legend</text>",
        num(legend.title.x),
        num(legend.title.y),
        num(LEGEND_FONT)
    );
    for &(kind, caption, sample, at) in &legend.shapes {
        shape(&mut out, kind, sample, Paint { fill: "#ffffff", stroke: INK, width: 1.3, dash: None });
        legend_text(&mut out, at, caption);
    }
    for &(line, at) in &legend.lines {
        legend_text(&mut out, at, line);
    }
    if let Some((note, at)) = &legend.note {
        legend_text(&mut out, *at, note);
    }
    out.push_str("</g>\n</svg>\n");
    out
}

fn kind_name(kind: ElementKind) -> &'static str {
    match kind {
        ElementKind::Actor => "actor / external entity",
        ElementKind::Process => "process",
        ElementKind::DataStore => "data store",
    }
}

fn legend_text(out: &mut String, at: Point, text: &str) {
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{INK}\">{}</text>",
        num(at.x),
        num(at.y),
        num(LEGEND_FONT),
        escape(text)
    );
}

struct Paint {
    fill: &'static str,
    stroke: &'static str,
    width: f64,
    /// The outline's `stroke-dasharray`, for a dashed one.
    dash: Option<&'static str>,
}

/// The outline of an element kind in `r`: rectangle, rounded rectangle, or cylinder.
fn shape(out: &mut String, kind: ElementKind, r: Rect, paint: Paint) {
    let (x, y, w, h) = (num(r.x), num(r.y), num(r.width), num(r.height));
    let dash = paint.dash.map(|d| format!(" stroke-dasharray=\"{d}\"")).unwrap_or_default();
    let line = format!("stroke=\"{}\" stroke-width=\"{}\"{dash}", paint.stroke, num(paint.width));
    let paint = format!("fill=\"{}\" {line}", paint.fill);
    match kind {
        ElementKind::Actor => {
            let _ = writeln!(out, "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" {paint}/>");
        }
        ElementKind::Process => {
            let radius = num((r.height / 3.0).min(12.0));
            let _ = writeln!(
                out,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"{radius}\" ry=\"{radius}\" {paint}/>"
            );
        }
        ElementKind::DataStore => {
            let ry = CYLINDER_RY.min(r.height / 4.0);
            let (rx, right) = (num(r.width / 2.0), num(r.right()));
            let (top, bottom, ryn) = (num(r.y + ry), num(r.bottom() - ry), num(ry));
            let _ = writeln!(
                out,
                "<path d=\"M{x},{top} A{rx},{ryn} 0 0 1 {right},{top} L{right},{bottom} A{rx},{ryn} 0 0 1 \
                 {x},{bottom} Z\" {paint}/>"
            );
            // The front of the top rim.
            let _ = writeln!(
                out,
                "<path d=\"M{x},{top} A{rx},{ryn} 0 0 0 {right},{top}\" fill=\"none\" {line}/>"
            );
        }
    }
}

/// Writes the path data through the route's points: straight where the height stays, an
/// S-curve with horizontal tangents where it changes.
fn path(d: &mut String, points: &[Point]) {
    for (k, p) in points.iter().enumerate() {
        if k == 0 {
            let _ = write!(d, "M{},{}", num(p.x), num(p.y));
            continue;
        }
        let q = points[k - 1];
        if (p.y - q.y).abs() < 0.05 || (p.x - q.x).abs() < 0.05 {
            let _ = write!(d, " L{},{}", num(p.x), num(p.y));
        } else {
            let mx = num((q.x + p.x) / 2.0);
            let _ = write!(d, " C{mx},{} {mx},{} {},{}", num(q.y), num(p.y), num(p.x), num(p.y));
        }
    }
}

/// A coordinate with at most one decimal, without a trailing `.0` (written where it is
/// formatted: a large diagram has a million of them, too many for a `String` each).
fn num(v: f64) -> Num {
    Num(v)
}

#[derive(Clone, Copy)]
struct Num(f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tenths = (self.0 * 10.0).round();
        if !tenths.is_finite() || tenths.abs() >= 1e15 {
            // Not a coordinate (never from the layout); Rust's float formatting says what it is.
            return write!(f, "{}", tenths / 10.0);
        }
        let tenths = tenths as i64;
        let sign = if tenths < 0 { "-" } else { "" };
        let (whole, tenth) = (tenths.unsigned_abs() / 10, tenths.unsigned_abs() % 10);
        if tenth == 0 { write!(f, "{sign}{whole}") } else { write!(f, "{sign}{whole}.{tenth}") }
    }
}

// @mitigates ThreatAnalyzer.Renderers against #script-injection using #output-escaping
/// Escapes untrusted text for XML element content and double-quoted attributes (see the
/// module docs).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter_map(layout::display_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_illegal_characters() {
        assert_eq!(escape("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert(1)&gt;");
        assert_eq!(
            escape("a&amp;b \"q\" 'a' ]]> -->"),
            "a&amp;amp;b &quot;q&quot; &#39;a&#39; ]]&gt; --&gt;"
        );
        assert_eq!(escape("x\u{0}y\u{1b}z\u{fffe}\u{ffff}"), "xyz");
        assert_eq!(escape("line\nbreak\r\u{2028}\u{202e}\u{85}"), "line break    ");
        assert_eq!(escape("Café 😀"), "Café 😀");
    }

    #[test]
    fn numbers_have_one_decimal_at_most() {
        assert_eq!(num(12.0).to_string(), "12");
        assert_eq!(num(12.345).to_string(), "12.3");
        assert_eq!(num(-0.01).to_string(), "0");
        assert_eq!(num(-0.06).to_string(), "-0.1");
        assert_eq!(num(-12.96).to_string(), "-13");
        assert_eq!(num(1234567.25).to_string(), "1234567.3");
        // The same text as Rust's shortest float formatting of the value rounded to 0.1.
        for k in -20_000..20_000 {
            let v = f64::from(k) * 0.0137 + 0.004;
            let rounded = (v * 10.0).round() / 10.0;
            let rounded = if rounded == 0.0 { 0.0 } else { rounded };
            assert_eq!(num(v).to_string(), format!("{rounded}"), "{v}");
        }
    }

    #[test]
    fn paths_curve_only_where_the_height_changes() {
        let p = |x, y| Point { x, y };
        let mut d = String::new();
        path(&mut d, &[p(0.0, 0.0), p(10.0, 0.0), p(30.0, 20.0)]);
        assert_eq!(d, "M0,0 L10,0 C20,0 20,20 30,20");
    }
}
