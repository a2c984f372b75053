//! Graphviz DOT text of a [`Dfd`] (`dot -Tsvg`, `dot -Tpng`). Pure and deterministic: the same
//! diagram gives byte-identical text.
//!
//! Owns: the DOT syntax and the escaping of untrusted text. Must never: decide what the diagram
//! contains (that is [`super::dfd`]), or write annotation text anywhere but inside a
//! double-quoted label.
//!
//! # Output
//!
//! - `digraph dfd { rankdir=LR; ... }`.
//! - One `subgraph "cluster_<id>"` per trust boundary, `style=dashed`, labelled with its title;
//!   its members are declared inside it.
//! - Shapes carry the element kind (never colour alone): actor / external entity `shape=box`,
//!   process `shape=box, style="rounded"`, data store `shape=cylinder`.
//! - A status line under the label, as text (the same badge as Mermaid's:
//!   `✗ 1 confirmed · ⚠ 2 open · ✓ 3 mitigated · 1 accepted · 1 transferred`). A confirmed
//!   finding also gets `penwidth=3`, open exposures `penwidth=2` (readable in black and
//!   white); colour (`color`, `fillcolor`) comes on top.
//! - Flows: `"a" -> "b" [label="..."]`, two-way flows with `dir=both`.
//! - A `cluster_legend` explains the shapes, the badge and the dashed boundary.
//!
//! # Escaping
//!
//! Every id, label and title is written inside double quotes. [`escape`] writes `\` as `\\`
//! (so Graphviz's `\n`, `\l`, `\N`, `\G` ... escapes cannot be formed from text) and `"` as
//! `\"`, and `&` as `&amp;` (Graphviz decodes HTML entities in ordinary labels, so `&lt;`
//! must stay literal text). Control, line-separator and bidi characters become a space. Inside
//! a quoted string `}`, `];`, `->`, `<b>` or `//` are plain text. Ids come from [`super::dfd`]
//! and are `[A-Za-z0-9_]` only; an id that is not (a hand-built model) is replaced by a hashed
//! one. Each node is declared once, in the first boundary listing it.

use super::dfd::{Dfd, ElementKind, Node, ThreatStatus, safe_id};
use super::mermaid::{badge, status_class};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::fmt::Write as _;

/// The DOT text of `dfd`.
pub fn render(dfd: &Dfd) -> String {
    let by_id: HashMap<&str, &Node> = dfd.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let mut declared: HashSet<&str> = HashSet::default();
    let mut out = String::from("digraph dfd {\n");
    out.push_str("  rankdir=LR;\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for group in &dfd.boundaries {
        let _ = writeln!(out, "  subgraph \"cluster_{}\" {{", safe_id(&group.id));
        let _ = writeln!(out, "    label=\"{}\";", escape(&group.title));
        out.push_str("    style=dashed;\n");
        for id in &group.members {
            if let Some(node) = by_id.get(id.as_str())
                && declared.insert(node.id.as_str())
            {
                let _ = writeln!(out, "    {}", node_decl(node));
            }
        }
        out.push_str("  }\n");
    }
    for node in &dfd.nodes {
        if declared.insert(node.id.as_str()) {
            let _ = writeln!(out, "  {}", node_decl(node));
        }
    }
    for edge in &dfd.edges {
        let mut attrs = Vec::new();
        if let Some(label) = &edge.label {
            attrs.push(format!("label=\"{}\"", escape(label)));
        }
        if edge.two_way {
            attrs.push("dir=both".to_string());
        }
        let (from, to) = (safe_id(&edge.from), safe_id(&edge.to));
        if attrs.is_empty() {
            let _ = writeln!(out, "  \"{from}\" -> \"{to}\";");
        } else {
            let _ = writeln!(out, "  \"{from}\" -> \"{to}\" [{}];", attrs.join(", "));
        }
    }
    legend(&mut out);
    out.push_str("}\n");
    out
}

/// `"id" [label="...", shape=..., ...];` with the status line and the status cues.
fn node_decl(node: &Node) -> String {
    let mut label = escape(&node.label);
    let badge = badge(&node.status);
    if !badge.is_empty() {
        label.push_str("\\n");
        label.push_str(&escape(&badge));
    }
    decl(&safe_id(&node.id), node.kind, &label, &node.status)
}

fn decl(id: &str, kind: ElementKind, escaped: &str, status: &ThreatStatus) -> String {
    let mut styles: Vec<&str> = Vec::new();
    let shape = match kind {
        ElementKind::Actor => "box",
        ElementKind::Process => {
            styles.push("rounded");
            "box"
        }
        ElementKind::DataStore => "cylinder",
    };
    let (penwidth, colours) = status_look(status);
    if colours.is_some() {
        styles.push("filled");
    }
    let mut attrs = vec![format!("label=\"{escaped}\""), format!("shape={shape}")];
    if !styles.is_empty() {
        attrs.push(format!("style=\"{}\"", styles.join(",")));
    }
    if let Some(w) = penwidth {
        attrs.push(format!("penwidth={w}"));
    }
    if let Some((color, fill)) = colours {
        attrs.push(format!("color=\"{color}\""));
        attrs.push(format!("fillcolor=\"{fill}\""));
    }
    format!("\"{id}\" [{}];", attrs.join(", "))
}

/// Border width (none: the default) and colours (stroke, fill) a node's status gives it, in
/// DOT and SVG alike: the border width carries the status without colour.
pub fn status_look(status: &ThreatStatus) -> (Option<u8>, Option<(&'static str, &'static str)>) {
    match status_class(status) {
        Some("finding") => (Some(3), Some(("#b00020", "#fde8e8"))),
        Some("open") => (Some(2), Some(("#b35c00", "#fff4e5"))),
        Some(_) => (None, Some(("#2e7d32", "#e8f5e9"))),
        None => (None, None),
    }
}

/// The legend's shape samples, in DOT and SVG.
pub const LEGEND_SHAPES: [(ElementKind, &str); 3] = [
    (ElementKind::Actor, "Actor / external entity"),
    (ElementKind::Process, "Process"),
    (ElementKind::DataStore, "Data store"),
];

/// The legend's text lines (the badge and the boundary), in DOT and SVG.
pub const LEGEND_LINES: [&str; 4] = [
    "✗ N confirmed: verified findings (thickest border)",
    "⚠ N open: exposures not mitigated, accepted or transferred (thick border)",
    "✓ N mitigated · N accepted · N transferred",
    "dashed box: trust boundary",
];

fn legend(out: &mut String) {
    let text: String = LEGEND_LINES.iter().map(|l| format!("{}\\l", escape(l))).collect();
    let none = ThreatStatus::default();
    out.push_str("  subgraph \"cluster_legend\" {\n");
    out.push_str("    label=\"Legend\";\n");
    out.push_str("    style=solid;\n");
    let ids = ["legend_actor", "legend_process", "legend_store"];
    for (id, (kind, label)) in ids.into_iter().zip(LEGEND_SHAPES) {
        let _ = writeln!(out, "    {}", decl(id, kind, &escape(label), &none));
    }
    let _ = writeln!(out, "    \"legend_badge\" [label=\"{text}\", shape=note];");
    out.push_str("  }\n");
}

/// Escapes untrusted text for use inside a double-quoted DOT label (see the module docs).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '&' => out.push_str("&amp;"),
            c if !crate::text::is_inert(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_quotes_backslashes_and_line_breaks() {
        assert_eq!(escape("a\"b"), "a\\\"b");
        assert_eq!(escape("a\\nb\\"), "a\\\\nb\\\\");
        assert_eq!(escape("x\ny\r\u{2028}z\u{202e}"), "x y  z ");
        assert_eq!(escape("&lt;b&gt; -> }];"), "&amp;lt;b&amp;gt; -> }];");
        assert_eq!(escape("Café"), "Café");
    }

    #[test]
    fn odd_ids_are_replaced() {
        assert_eq!(safe_id("n_shop__api"), "n_shop__api");
        let odd = safe_id("x\" -> y");
        assert!(odd.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{odd}");
        assert_ne!(safe_id("legend_actor"), "legend_actor");
    }
}
