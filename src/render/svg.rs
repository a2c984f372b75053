//! PLACEHOLDER for the in-process SVG data-flow diagram (being written on another branch; this
//! file is replaced by it on merge). Draws the nodes of a [`Dfd`] on a plain grid, with no
//! layout, no edges and no styling worth keeping; it exists only so the HTML report and the
//! LSP preview have an SVG to embed.
//!
//! Contract the HTML report relies on: `render` returns a standalone SVG document with a
//! `viewBox`, no script and no external references, and every piece of annotation text
//! escaped for XML.

use super::dfd::Dfd;
use std::fmt::Write as _;

/// A standalone SVG document of `dfd` (placeholder grid drawing).
pub fn render(dfd: &Dfd) -> String {
    const W: usize = 220;
    const H: usize = 70;
    let cols = 4usize;
    let rows = dfd.nodes.len().div_ceil(cols).max(1);
    let (width, height) = (cols * W + 20, rows * H + 20);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\">\n"
    );
    for (i, node) in dfd.nodes.iter().enumerate() {
        let (x, y) = (10 + (i % cols) * W, 10 + (i / cols) * H);
        let _ = writeln!(
            out,
            "<g><rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"#fff\" stroke=\"#333\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text></g>",
            W - 20,
            H - 20,
            x + 8,
            y + 28,
            xml_escape(&node.label)
        );
    }
    out.push_str("</svg>\n");
    out
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
