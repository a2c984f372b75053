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
//!   stroke-dasharray: 5 5`); its members are declared inside it.
//! - Shapes carry the element kind (never colour alone): actor / external entity `id["label"]`
//!   (rectangle), process `id("label")` (rounded), data store `id[("label")]` (cylinder).
//! - Flows: `a -->|"label"| b`, two-way `a <-->|"label"| b`, unlabelled `a --> b`.
//! - A status line under the label, as text: `✗ 1 confirmed · ⚠ 2 open · ✓ 3 mitigated ·
//!   1 accepted · 1 transferred` (zero counts are left out; no line when all are zero). The
//!   classes `finding` (a confirmed finding), `open` (open exposures) and `clean` (threat
//!   information, nothing open) add colour and border width on top.
//! - A `Legend` subgraph explains the shapes, the badge and the dashed boundary.
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

use super::dfd::{Dfd, ElementKind, Node, ThreatStatus, safe_id};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::borrow::Cow;
use std::fmt::Write as _;

/// The Mermaid text of `dfd`.
pub fn render(dfd: &Dfd) -> String {
    let by_id: HashMap<&str, &Node> = dfd.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let mut declared: HashSet<&str> = HashSet::default();
    let mut out = String::from("flowchart LR\n");
    for group in &dfd.boundaries {
        let _ = writeln!(out, "  subgraph {}[\"{}\"]", safe_id(&group.id), escape(&group.title));
        for id in &group.members {
            if let Some(node) = by_id.get(id.as_str())
                && declared.insert(node.id.as_str())
            {
                let _ = writeln!(out, "    {}", node_decl(node));
            }
        }
        out.push_str("  end\n");
    }
    for node in &dfd.nodes {
        if declared.insert(node.id.as_str()) {
            let _ = writeln!(out, "  {}", node_decl(node));
        }
    }
    for edge in &dfd.edges {
        let arrow = if edge.two_way { "<-->" } else { "-->" };
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
    legend(&mut out);
    out.push_str("  classDef finding fill:#fde8e8,stroke:#b00020,stroke-width:3px\n");
    out.push_str("  classDef open fill:#fff4e5,stroke:#b35c00,stroke-width:2px\n");
    out.push_str("  classDef clean fill:#e8f5e9,stroke:#2e7d32\n");
    for class in ["finding", "open", "clean"] {
        let ids: Vec<Cow<'_, str>> = dfd
            .nodes
            .iter()
            .filter(|n| status_class(&n.status) == Some(class))
            .map(|n| safe_id(&n.id))
            .collect();
        if !ids.is_empty() {
            let _ = writeln!(out, "  class {} {class}", ids.join(","));
        }
    }
    for group in &dfd.boundaries {
        let _ = writeln!(out, "  style {} stroke-dasharray: 5 5", safe_id(&group.id));
    }
    out
}

/// `id["label"]`, `id("label")` or `id[("label")]`, with the status line.
fn node_decl(node: &Node) -> String {
    let mut label = escape(&node.label);
    let badge = badge(&node.status);
    if !badge.is_empty() {
        label.push_str("<br/>");
        label.push_str(&escape(&badge));
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

/// The status line as plain text (empty when there is nothing to say).
pub fn badge(status: &ThreatStatus) -> String {
    let mut parts = Vec::new();
    if status.confirmed > 0 {
        parts.push(format!("✗ {} confirmed", status.confirmed));
    }
    if status.open > 0 {
        parts.push(format!("⚠ {} open", status.open));
    }
    if status.mitigated > 0 {
        parts.push(format!("✓ {} mitigated", status.mitigated));
    }
    if status.accepted > 0 {
        parts.push(format!("{} accepted", status.accepted));
    }
    if status.transferred > 0 {
        parts.push(format!("{} transferred", status.transferred));
    }
    parts.join(" · ")
}

/// The class a node's status gives it, if any.
pub fn status_class(status: &ThreatStatus) -> Option<&'static str> {
    if status.confirmed > 0 {
        Some("finding")
    } else if status.open > 0 {
        Some("open")
    } else if !status.is_empty() {
        Some("clean")
    } else {
        None
    }
}

fn legend(out: &mut String) {
    let lines = [
        "✗ N confirmed: verified findings",
        "⚠ N open: exposures not mitigated, accepted or transferred",
        "✓ N mitigated · N accepted · N transferred",
        "dashed box: trust boundary",
    ];
    let badge: Vec<String> = lines.iter().map(|l| escape(l)).collect();
    out.push_str("  subgraph legend[\"Legend\"]\n");
    let _ = writeln!(
        out,
        "    {}",
        shape("legend_actor", ElementKind::Actor, &escape("Actor / external entity"))
    );
    let _ = writeln!(out, "    {}", shape("legend_process", ElementKind::Process, &escape("Process")));
    let _ = writeln!(out, "    {}", shape("legend_store", ElementKind::DataStore, &escape("Data store")));
    let _ = writeln!(out, "    {}", shape("legend_badge", ElementKind::Actor, &badge.join("<br/>")));
    out.push_str("  end\n");
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
