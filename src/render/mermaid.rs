//! Mermaid `flowchart LR` text of a [`Dfd`] (renders on GitHub inside a ```` ```mermaid ````
//! block). Pure and deterministic: the same diagram gives byte-identical text.
//!
//! Owns: the Mermaid syntax and the escaping of untrusted text. Must never: decide what the
//! diagram contains (that is [`super::dfd`]), or write annotation text anywhere but inside a
//! double-quoted label.
//!
//! # Output
//!
//! - One `subgraph <id>["title"]` per trust boundary, drawn dashed (`style <id>
//!   stroke-dasharray: 5 5`); its members are declared inside it. Component groups (ThreatSpec
//!   colon paths) are `subgraph`s nested like their paths ([`Nesting::steps`]), styled thin,
//!   grey and solid by `classDef component`. The key keeps its three lines: a group's title is
//!   its path.
//! - Shapes carry the element kind (never colour alone): actor / external entity `id["label"]`
//!   (rectangle), process `id("label")` (rounded), data store `id[("label")]` (cylinder).
//! - Flows: `a -->|"label"| b`, two-way `a <-->|"label"| b`, unlabelled `a --> b`.
//! - Under the label the lines of [`super::look`]: the status badge, the open threats and
//!   confirmed findings by name with their severity (`⚠ SQL Injection [critical]`, at most
//!   [`look::THREATS_SHOWN`], then `+N more`) and the data classifications (`data: pii`). One
//!   class per tone (`critical`, `high`, `medium`, `low`, `unrated`, `clean`) adds colour and
//!   border width on top (Mermaid has no tooltips without scripts, so the label is all).
//! - A one-node key (`legend_key`, three short lines) explains the shapes, the marks and the
//!   borders.
//! - What the infrastructure baseline proposes ([`super::dfd_baseline`]): elements by the
//!   `proposed` class (grey fill, grey dashed outline) and the `proposed · <type>` line of
//!   [`super::look`], flows as dotted links (`-.->`) labelled `proposed: <mechanism>` and
//!   greyed by `linkStyle`, boundaries grey and dotted, titled `proposed <kind>: <address>`;
//!   the key gains a fourth line.
//!
//! # Escaping
//!
//! Every label, title and edge label is written inside double quotes, and [`escape`] replaces
//! every character that could end the string or mean something to Mermaid or to the HTML it
//! renders with a Mermaid entity code: `"` `#quot;`, `<` `#lt;`, `>` `#gt;`, `&` `#amp;`, `#`
//! `#35;`, `` ` `` `#96;`, `|` `#124;`, `[` `#91;`, `]` `#93;`, `{` `#123;`, `}` `#125;`, `(`
//! `#40;`, `)` `#41;`, `%` `#37;`, `;` `#59;`, `\` `#92;`. Control, line-separator and bidi
//! characters become a space. So `"]; click A call x()`, `<img src=x onerror=alert(1)>`,
//! `-->`, `%%{init}%%` or `}` stay literal text. Ids come from [`super::dfd`] and are
//! `[A-Za-z0-9_]` only; an id that is not (a hand-built model) is replaced by a hashed one.
//! Each node is declared once, in the first boundary listing it.

use super::dfd::{ClusterStep, Dfd, ElementKind, Nesting, Node, safe_id, step_depth};
use super::look::{self, TONES, Tone};
use rustc_hash::FxHashSet as HashSet;
use std::borrow::Cow;
use std::fmt::Write as _;

/// The Mermaid text of `dfd`.
pub fn render(dfd: &Dfd) -> String {
    let mut declared: HashSet<&str> = HashSet::default();
    let mut out = String::from("flowchart LR\n");
    for step in Nesting::of(dfd).steps(dfd) {
        let indent = "  ".repeat(step_depth(step));
        let _ = match step {
            ClusterStep::Open(group, _) => {
                writeln!(out, "{indent}subgraph {}[\"{}\"]", safe_id(&group.id), escape(&group.title))
            }
            ClusterStep::Node(node, _) => {
                declared.insert(node.id.as_str());
                writeln!(out, "{indent}  {}", node_decl(node))
            }
            ClusterStep::Close(_) => writeln!(out, "{indent}end"),
        };
    }
    for node in &dfd.nodes {
        if declared.insert(node.id.as_str()) {
            let _ = writeln!(out, "  {}", node_decl(node));
        }
    }
    for edge in &dfd.edges {
        let arrow = match (edge.two_way, edge.proposed) {
            (true, false) => "<-->",
            (true, true) => "<-.->",
            (false, false) => "-->",
            (false, true) => "-.->",
        };
        let (from, to) = (safe_id(&edge.from), safe_id(&edge.to));
        match &edge.label {
            Some(label) => {
                let _ = writeln!(out, "  {from} {arrow}|\"{}\"| {to}", escape(label));
            }
            None => {
                let _ = writeln!(out, "  {from} {arrow} {to}");
            }
        }
    }
    // Proposed flows grey (links are numbered in the order they were written).
    let proposed: Vec<String> =
        dfd.edges.iter().enumerate().filter(|(_, e)| e.proposed).map(|(k, _)| k.to_string()).collect();
    if !proposed.is_empty() {
        let _ = writeln!(out, "  linkStyle {} stroke:{}", proposed.join(","), look::PROPOSED_STROKE);
    }
    legend(&mut out, dfd.has_proposed());
    for tone in TONES.into_iter().filter(|t| *t != Tone::Plain) {
        let ids: Vec<Cow<'_, str>> =
            dfd.nodes.iter().filter(|n| Tone::of(n) == tone).map(|n| safe_id(&n.id)).collect();
        if !ids.is_empty() {
            let (stroke, fill, width) = tone.paint();
            let dash = tone.dash().map(|d| format!(",stroke-dasharray:{d}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  classDef {} fill:{fill},stroke:{stroke},stroke-width:{width}px{dash}",
                tone.name()
            );
            let _ = writeln!(out, "  class {} {}", ids.join(","), tone.name());
        }
    }
    // Component groups by class (thin, grey, solid), trust boundaries dashed.
    let groups: Vec<Cow<'_, str>> =
        dfd.boundaries.iter().filter(|b| b.component).map(|b| safe_id(&b.id)).collect();
    if !groups.is_empty() {
        let look = look::GROUP_LOOK;
        let _ = writeln!(
            out,
            "  classDef component fill:{},stroke:{},stroke-width:{}px",
            look.fill, look.stroke, look.width
        );
        let _ = writeln!(out, "  class {} component", groups.join(","));
    }
    for group in dfd.boundaries.iter().filter(|b| !b.component) {
        if group.proposed {
            let look = look::PROPOSED_LOOK;
            let _ = writeln!(
                out,
                "  style {} fill:{},stroke:{},stroke-width:{}px,stroke-dasharray: {}",
                safe_id(&group.id),
                look.fill,
                look.stroke,
                look.width,
                look.dash.unwrap_or("2 3")
            );
        } else {
            let _ = writeln!(out, "  style {} stroke-dasharray: 5 5", safe_id(&group.id));
        }
    }
    out
}

/// `id["label"]`, `id("label")` or `id[("label")]`, with the detail lines of [`look`].
fn node_decl(node: &Node) -> String {
    let mut label = escape(&node.label);
    for line in look::detail_lines(node, look::THREATS_SHOWN) {
        label.push_str("<br/>");
        label.push_str(&escape(&line));
    }
    shape(&safe_id(&node.id), node.kind, &label)
}

fn shape(id: &str, kind: ElementKind, escaped: &str) -> String {
    match kind {
        ElementKind::Actor => format!("{id}[\"{escaped}\"]"),
        ElementKind::Process => format!("{id}(\"{escaped}\")"),
        ElementKind::DataStore => format!("{id}[(\"{escaped}\")]"),
    }
}

/// The key: one small node of three short lines (the picture is about the model, not the key),
/// a fourth when something is proposed by the infrastructure baseline.
/// The same three lines with component groups too: their titles are the colon paths
/// themselves, and the key stays small.
fn legend(out: &mut String, proposed: bool) {
    let lines = [
        "Key: box actor · rounded process · cylinder store · dashed boundary",
        "⚠ open · ✗ confirmed, with [severity] · ✓ mitigated",
        "border: critical 4px dark red · high 3px orange · green: none open",
    ];
    let extra = proposed.then_some(look::LEGEND_PROPOSED);
    let text: Vec<String> = lines.iter().copied().chain(extra).map(escape).collect();
    let _ = writeln!(out, "  {}", shape("legend_key", ElementKind::Actor, &text.join("<br/>")));
    out.push_str("  style legend_key fill:#ffffff,stroke:#9aa5b1,color:#3e4c59\n");
}

/// Escapes untrusted text for use inside a double-quoted Mermaid label (see the module docs).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let code = match c {
            '"' => "#quot;",
            '<' => "#lt;",
            '>' => "#gt;",
            '&' => "#amp;",
            '#' => "#35;",
            '`' => "#96;",
            '|' => "#124;",
            '[' => "#91;",
            ']' => "#93;",
            '{' => "#123;",
            '}' => "#125;",
            '(' => "#40;",
            ')' => "#41;",
            '%' => "#37;",
            ';' => "#59;",
            '\\' => "#92;",
            c if !crate::text::is_inert(c) => " ",
            c => {
                out.push(c);
                continue;
            }
        };
        out.push_str(code);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_structural_characters() {
        assert_eq!(escape("a\"b"), "a#quot;b");
        assert_eq!(escape("<img src=x>"), "#lt;img src=x#gt;");
        assert_eq!(escape("#quot;"), "#35;quot#59;");
        assert_eq!(escape("x\ny\u{202e}"), "x y ");
        assert_eq!(escape("[(|)]{}`%;&\\"), "#91;#40;#124;#41;#93;#123;#125;#96;#37;#59;#amp;#92;");
        assert_eq!(escape("Café -> ok"), "Café -#gt; ok");
    }
}
