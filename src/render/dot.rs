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
//!   its members are declared inside it. Component groups (ThreatSpec colon paths) are
//!   clusters nested like their paths ([`Nesting::steps`]), thin, grey and solid; the legend
//!   then says so in one more line.
//! - Shapes carry the element kind (never colour alone): actor / external entity `shape=box`,
//!   process `shape=box, style="rounded"`, data store `shape=cylinder`.
//! - Under the label the lines of [`super::look`] (the same as Mermaid's): the badge, the
//!   named open threats and findings with severity (at most [`look::THREATS_SHOWN`], then
//!   `+N more`) and the data classifications; the `tooltip` lists every threat. The tone of the
//!   worst severity sets `penwidth` (readable in black and white), `color`, `fillcolor` and
//!   `class`.
//! - Flows: `"a" -> "b" [label="..."]`, two-way flows with `dir=both`.
//! - A `cluster_legend` explains the shapes, the badge and the dashed boundary.
//! - What the infrastructure baseline proposes ([`super::dfd_baseline`]): elements filled grey
//!   with a dashed outline and the `proposed · <type>` line of [`super::look`], flows dashed and
//!   grey labelled `proposed: <mechanism>`, boundaries dotted and grey titled
//!   `proposed <kind>: <address>`; the legend says so in one more line.
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

use super::dfd::{ClusterStep, Dfd, ElementKind, Nesting, Node, safe_id, step_depth};
use super::look::{self, Tone};
use rustc_hash::FxHashSet as HashSet;
use std::fmt::Write as _;

/// The DOT text of `dfd`.
pub fn render(dfd: &Dfd) -> String {
    let mut declared: HashSet<&str> = HashSet::default();
    let mut out = String::from("digraph dfd {\n");
    out.push_str("  rankdir=LR;\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for step in Nesting::of(dfd).steps(dfd) {
        let indent = "  ".repeat(step_depth(step));
        match step {
            ClusterStep::Open(group, _) => {
                let _ = writeln!(out, "{indent}subgraph \"cluster_{}\" {{", safe_id(&group.id));
                let _ = writeln!(out, "{indent}  label=\"{}\";", escape(&group.title));
                let look = look::ClusterLook::of(group);
                if group.proposed {
                    let _ = writeln!(out, "{indent}  style=dotted;");
                    let _ = writeln!(out, "{indent}  color=\"{}\";", look.stroke);
                    let _ = writeln!(out, "{indent}  fontcolor=\"{}\";", look.title_ink);
                } else if look.dash.is_some() {
                    let _ = writeln!(out, "{indent}  style=dashed;");
                } else {
                    let _ = writeln!(out, "{indent}  style=solid;");
                    let _ = writeln!(out, "{indent}  color=\"{}\";", look.stroke);
                    let _ = writeln!(out, "{indent}  penwidth={};", look.width);
                }
            }
            ClusterStep::Node(node, _) => {
                declared.insert(node.id.as_str());
                let _ = writeln!(out, "{indent}  {}", node_decl(node));
            }
            ClusterStep::Close(_) => {
                let _ = writeln!(out, "{indent}}}");
            }
        }
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
        if edge.proposed {
            attrs.push(format!("style=dashed, color=\"{0}\", fontcolor=\"{0}\"", look::PROPOSED_STROKE));
        }
        let (from, to) = (safe_id(&edge.from), safe_id(&edge.to));
        if attrs.is_empty() {
            let _ = writeln!(out, "  \"{from}\" -> \"{to}\";");
        } else {
            let _ = writeln!(out, "  \"{from}\" -> \"{to}\" [{}];", attrs.join(", "));
        }
    }
    legend(&mut out, dfd.boundaries.iter().any(|b| b.component), dfd.has_proposed());
    out.push_str("}\n");
    out
}

/// `"id" [label="...", shape=..., tooltip="...", ...];` with the detail lines, the tone's cues,
/// and every named threat in the tooltip.
fn node_decl(node: &Node) -> String {
    let mut label = escape(&node.label);
    for line in look::detail_lines(node, look::THREATS_SHOWN) {
        label.push_str("\\n");
        label.push_str(&escape(&line));
    }
    let mut decl = decl(&safe_id(&node.id), node.kind, &label, Tone::of(node));
    let all = look::detail_lines(node, usize::MAX);
    if !all.is_empty() {
        let mut tip = escape(&node.label);
        for line in all {
            tip.push_str("\\n");
            tip.push_str(&escape(&line));
        }
        decl.truncate(decl.len() - 2);
        let _ = write!(decl, ", tooltip=\"{tip}\"];");
    }
    decl
}

fn decl(id: &str, kind: ElementKind, escaped: &str, tone: Tone) -> String {
    let mut styles: Vec<&str> = Vec::new();
    let shape = match kind {
        ElementKind::Actor => "box",
        ElementKind::Process => {
            styles.push("rounded");
            "box"
        }
        ElementKind::DataStore => "cylinder",
    };
    if tone != Tone::Plain {
        styles.push("filled");
    }
    if tone.dash().is_some() {
        styles.push("dashed");
    }
    let mut attrs = vec![format!("label=\"{escaped}\""), format!("shape={shape}")];
    if !styles.is_empty() {
        attrs.push(format!("style=\"{}\"", styles.join(",")));
    }
    if tone != Tone::Plain {
        let (color, fill, width) = tone.paint();
        if width > 1.5 {
            attrs.push(format!("penwidth={width}"));
        }
        attrs.push(format!("color=\"{color}\""));
        attrs.push(format!("fillcolor=\"{fill}\""));
        attrs.push(format!("class=\"{}\"", tone.name()));
    }
    format!("\"{id}\" [{}];", attrs.join(", "))
}

fn legend(out: &mut String, groups: bool, proposed: bool) {
    let group_line = groups.then_some(look::LEGEND_GROUP);
    let proposed_line = proposed.then_some(look::LEGEND_PROPOSED);
    let text: String = look::LEGEND_LINES
        .iter()
        .copied()
        .chain(group_line)
        .chain(proposed_line)
        .map(|l| format!("{}\\l", escape(l)))
        .collect();
    out.push_str("  subgraph \"cluster_legend\" {\n");
    out.push_str("    label=\"Legend\";\n");
    out.push_str("    style=solid;\n");
    let ids = ["legend_actor", "legend_process", "legend_store"];
    for (id, (kind, label)) in ids.into_iter().zip(look::LEGEND_SHAPES) {
        let _ = writeln!(out, "    {}", decl(id, kind, &escape(label), Tone::Plain));
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
