//! The in-process SVG data-flow diagram (`render::svg`) and its layout (`render::layout`):
//! well-formed XML, every label drawn as text, hostile labels inert, and the layout's
//! guarantees (no overlaps, boundaries hold exactly their members) on the webshop, on random
//! diagrams and on a generated 200-component project.
#[path = "support/invariants.rs"]
mod invariants;
mod support;

use expect_test::expect_file;
use invariants::check_layout;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use threat_analyzer::analysis::Analysis;
use threat_analyzer::limits::MAX_LAYOUT_DUMMIES;
use threat_analyzer::model::ProjectIndex;
use threat_analyzer::render::dfd::{
    self, BoundaryGroup, Dfd, Edge, ElementKind, Node, Scope, ThreatStatus, safe_id,
};
use threat_analyzer::render::layout::{self, display_text};
use threat_analyzer::render::svg;
use threat_analyzer::walk::{WalkOptions, scan_from};

fn webshop() -> Dfd {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/webshop");
    let index =
        scan_from(&dir, std::slice::from_ref(&dir), &WalkOptions::default()).expect("webshop scans").index;
    dfd::build(&index, &Analysis::new(&index), &Scope::Project)
}

/// Parses `text` as XML and checks what the module docs promise about its structure: an SVG
/// root with a viewBox, only drawing elements, only presentation attributes, ids from safe
/// ids, no script, no style, no reference outside the document.
fn checked(text: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{text}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
    assert_eq!(root.attribute("version"), Some("1.1"));
    let (w, h) = (root.attribute("width").unwrap(), root.attribute("height").unwrap());
    assert_eq!(root.attribute("viewBox"), Some(format!("0 0 {w} {h}").as_str()));
    let elements = ["svg", "title", "defs", "marker", "path", "rect", "text", "g"];
    let attributes = [
        "xmlns",
        "version",
        "width",
        "height",
        "viewBox",
        "font-family",
        "role",
        "id",
        "data-key",
        "data-kind",
        "data-status",
        "data-severity",
        "data-from",
        "data-to",
        "data-flows",
        "refX",
        "refY",
        "markerWidth",
        "markerHeight",
        "markerUnits",
        "orient",
        "d",
        "fill",
        "fill-opacity",
        "stroke",
        "stroke-width",
        "stroke-dasharray",
        "x",
        "y",
        "rx",
        "ry",
        "font-size",
        "font-weight",
        "font-style",
        "text-anchor",
        "marker-start",
        "marker-end",
    ];
    let lower = text.to_ascii_lowercase();
    for banned in ["<script", "<style", "href", "@import", "<foreignobject", "javascript:", "<!entity"] {
        assert!(!lower.contains(banned), "{banned} in the SVG");
    }
    let safe =
        |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        assert!(elements.contains(&name), "unexpected element <{name}>");
        for a in node.attributes() {
            assert!(
                attributes.contains(&a.name()),
                "unexpected attribute {}={:?} on <{name}>",
                a.name(),
                a.value()
            );
            match a.name() {
                "id" | "data-key" | "data-from" | "data-to" => {
                    assert!(safe(a.value()), "{}={:?}", a.name(), a.value())
                }
                "marker-start" | "marker-end" => {
                    assert!(
                        ["url(#dfd-arrow-start)", "url(#dfd-arrow-end)"].contains(&a.value()),
                        "{:?}",
                        a.value()
                    )
                }
                _ => {}
            }
        }
    }
    doc
}

/// The `<g>` whose `data-key` is `key`.
fn group<'a, 'i>(doc: &'a roxmltree::Document<'i>, key: &str) -> roxmltree::Node<'a, 'i> {
    doc.descendants()
        .find(|n| n.attribute("data-key") == Some(key))
        .unwrap_or_else(|| panic!("no group with data-key {key}"))
}

fn title_of(g: roxmltree::Node<'_, '_>) -> String {
    g.children().find(|c| c.has_tag_name("title")).and_then(|t| t.text()).unwrap_or_default().to_string()
}

/// The visible lines of a node, joined without separators (wrapping drops the spaces it breaks
/// at, so they are compared without spaces).
fn visible(g: roxmltree::Node<'_, '_>) -> String {
    g.children().filter(|c| c.has_tag_name("text")).filter_map(|t| t.text()).collect::<Vec<_>>().join("")
}

/// Every node of `dfd` is drawn: its group carries its safe id, its tooltip starts with its
/// full label, and its visible lines spell the label (unless it was cut with an ellipsis).
fn assert_every_label_drawn(dfd: &Dfd, doc: &roxmltree::Document<'_>) {
    for node in &dfd.nodes {
        let g = group(doc, &safe_id(&node.id));
        assert_eq!(g.attribute("id"), Some(format!("dfd-{}", safe_id(&node.id)).as_str()));
        let label = display_text(&node.label);
        assert!(title_of(g).starts_with(&format!("{label}\n")), "{:?} vs {label:?}", title_of(g));
        let shown = visible(g).replace(' ', "");
        let want = label.replace(' ', "");
        assert!(shown.starts_with(&want) || shown.contains('…'), "{shown:?} does not spell {want:?}");
    }
}

#[test]
fn webshop_svg() {
    let dfd = webshop();
    let text = svg::render(&dfd);
    expect_file!["snapshots/webshop.svg"].assert_eq(&text);
    let doc = checked(&text);
    assert_every_label_drawn(&dfd, &doc);
    assert!(layout::layout(&dfd).violations(&dfd).is_empty());
    // Shapes by kind, the badge, the thick border of open exposures, dashed boundaries.
    let orders = group(&doc, "n_shop__api__orders");
    assert_eq!(orders.attribute("data-kind"), Some("process"));
    assert_eq!(orders.attribute("data-status"), Some("open"));
    assert_eq!(orders.attribute("data-severity"), Some("high"));
    let outline = orders.children().find(|c| c.has_tag_name("rect")).expect("process outline");
    assert!(outline.attribute("rx").is_some());
    assert_eq!(outline.attribute("stroke-width"), Some("3"));
    assert!(visible(orders).contains("⚠ 1 open · ✓ 1 mitigated"));
    assert!(visible(orders).contains("⚠ Insecure Direct Object Reference [P1]"));
    assert!(visible(orders).contains("data: pii, financial"));
    let db = group(&doc, "n_shop__db");
    assert_eq!(db.children().filter(|c| c.has_tag_name("path")).count(), 2, "cylinder body and rim");
    let customer = group(&doc, "n_customer");
    let rect = customer.children().find(|c| c.has_tag_name("rect")).unwrap();
    assert!(rect.attribute("rx").is_none(), "an actor is a plain rectangle");
    let edge = group(&doc, "bh_internet_edge_fc597708b86b646e");
    assert_eq!(title_of(edge), "Trust boundary: Shop.Web | Shop.Api (#internet-edge)");
    assert!(edge.children().any(|c| c.attribute("stroke-dasharray").is_some()));
    // Every flow label is drawn; the two Shop.Web -> Shop.Api flows share one arrow.
    let texts: Vec<&str> =
        doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).collect();
    for want in ["TLS", "AMQP", "order export", "2 flows", "Legend", "Shop.Web | Shop.Api (#internet-edge)"] {
        assert!(texts.contains(&want), "{want:?} missing");
    }
    let merged: Vec<_> =
        doc.descendants().filter(|n| n.attribute("data-from") == Some("n_shop__web")).collect();
    assert_eq!(merged.len(), 1);
    assert_eq!(merged[0].attribute("data-flows"), Some("2"));
    // Output is byte-identical for the same model.
    assert_eq!(svg::render(&webshop()), text);
}

/// Characters that matter to XML in particular, on top of the shared corpus.
const XML_HOSTILE: &[&str] = &[
    "]]> <![CDATA[ x",
    "&amp; &lt; &#x3c; &unknown;",
    "'single' \"double\"",
    "<?xml-stylesheet x?>",
    "\u{fffe}\u{ffff}\u{1}\u{1b}[31m red",
];

#[test]
fn hostile_labels_stay_text() {
    let labels: Vec<&str> = support::HOSTILE_LABELS.iter().chain(XML_HOSTILE).copied().collect();
    let kinds = [ElementKind::Actor, ElementKind::Process, ElementKind::DataStore];
    let statuses =
        [ThreatStatus { open: 1, ..Default::default() }, ThreatStatus { confirmed: 2, ..Default::default() }];
    let mut dfd = Dfd::default();
    for (i, label) in labels.iter().enumerate() {
        let boundary = (i % 3 == 0).then_some("b_zone");
        dfd.nodes.push(support::diagram_node(
            &format!("n_{i:02}"),
            label,
            kinds[i % 3],
            boundary,
            statuses[i % 2].clone(),
        ));
        dfd.edges.push(Edge {
            from: format!("n_{i:02}"),
            to: format!("n_{:02}", (i + 1) % labels.len()),
            label: Some(labels[labels.len() - 1 - i].into()),
            two_way: i % 2 == 0,
            proposed: false,
        });
    }
    // Ids the model never makes are replaced, not written.
    dfd.nodes.push(support::diagram_node(
        "x\" onload=\"alert(1)",
        "odd id",
        ElementKind::Process,
        None,
        ThreatStatus::default(),
    ));
    dfd.boundaries.push(BoundaryGroup {
        id: "b_zone".into(),
        key: "zone".into(),
        title: labels.join(" "),
        members: (0..labels.len()).step_by(3).map(|i| format!("n_{i:02}")).collect(),
        legacy: false,
        ..BoundaryGroup::default()
    });
    let text = svg::render(&dfd);
    let doc = checked(&text);
    assert!(!text.contains("<img") && !text.contains("<![CDATA[") && !text.contains("\" onload"), "{text}");
    assert_every_label_drawn(&dfd, &doc);
    // The literal label (as display text) is a text node: the tooltip's first line.
    let text_nodes: Vec<&str> = doc.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
    for label in &labels {
        let shown = display_text(label);
        assert!(
            text_nodes.iter().any(|t| t.lines().next() == Some(shown.as_str())),
            "{shown:?} not a text node"
        );
        assert!(
            text_nodes.iter().any(|t| t.lines().any(|l| l == shown)),
            "flow label {shown:?} not in a tooltip"
        );
    }
    assert!(text_nodes.iter().any(|t| *t == format!("Trust boundary: {}", display_text(&labels.join(" ")))));
    // Exactly the model's nodes, boundaries and flows became groups.
    let keyed = doc.descendants().filter(|n| n.attribute("data-key").is_some()).count();
    assert_eq!(keyed, dfd.nodes.len() + dfd.boundaries.len());
    assert_eq!(doc.descendants().filter(|n| n.attribute("data-from").is_some()).count(), dfd.edges.len());
    assert!(layout::layout(&dfd).violations(&dfd).is_empty());
    assert_eq!(svg::render(&dfd), text);
}

/// A project of 20 services, each a trust boundary around 9 components, 20 partners calling
/// gateways, flows inside services and across them, and some threat status.
fn two_hundred_components() -> String {
    let parts = ["Gateway", "Api", "Auth", "Db", "Cache", "Queue", "Worker", "Search", "Export"];
    let inner = [
        ("Gateway", "Api", "HTTPS"),
        ("Api", "Auth", "gRPC"),
        ("Api", "Db", "SQL over TLS"),
        ("Api", "Cache", "RESP"),
        ("Api", "Queue", "AMQP"),
        ("Queue", "Worker", "AMQP"),
        ("Worker", "Db", "SQL over TLS"),
        ("Worker", "Export", "SFTP"),
        ("Api", "Search", "HTTPS"),
    ];
    // A small linear congruential generator: the same project every run.
    let mut state: u64 = 7;
    let mut next = |m: u64| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) % m
    };
    let mut text = String::from("//- /model.py\n# @threat Injection (#inj)\n# @control Escaping (#esc)\n");
    for s in 0..20 {
        let _ = writeln!(text, "# @boundary between Internet and Svc{s:02} (#svc-{s:02})");
        for p in parts {
            let _ = writeln!(text, "# @component Svc{s:02}.{p}");
        }
        for (a, b, via) in inner {
            if next(10) < 9 {
                let _ = writeln!(text, "# @flows Svc{s:02}.{a} -> Svc{s:02}.{b} via {via}");
            }
        }
        for _ in 0..2 {
            let t = next(20);
            let arrow = if next(5) == 0 { "<->" } else { "->" };
            let _ = writeln!(
                text,
                "# @flows Svc{s:02}.Api {arrow} Svc{t:02}.Gateway via HTTPS with mTLS client certificates"
            );
        }
        let p = parts[next(9) as usize];
        let _ = writeln!(text, "# @exposes Svc{s:02}.{p} to #inj");
        if s % 3 == 0 {
            let _ = writeln!(text, "# @mitigates Svc{s:02}.{p} against #inj with #esc");
        }
    }
    for k in 0..20 {
        let _ = writeln!(text, "# @actor Partner {k:02}");
        let _ = writeln!(text, "# @flows Partner {k:02} -> Svc{:02}.Gateway via HTTPS", next(20));
    }
    text
}

fn index_of_fixture(fixture: &str) -> ProjectIndex {
    support::index_of(&support::parse_fixture(fixture).files)
}

#[test]
fn two_hundred_components_keep_the_guarantees() {
    let index = index_of_fixture(&two_hundred_components());
    let dfd = dfd::build(&index, &Analysis::new(&index), &Scope::Project);
    assert!(dfd.nodes.len() >= 200, "{} nodes", dfd.nodes.len());
    assert_eq!(dfd.boundaries.len(), 20);
    let placed = layout::layout(&dfd);
    assert_eq!(placed.violations(&dfd), Vec::<String>::new());
    // Boundaries are compact blocks, not stripes across the drawing.
    for cluster in placed.clusters.iter().flatten() {
        assert!(cluster.rect.width < placed.width / 2.0, "{:?} in {}", cluster.rect, placed.width);
    }
    let text = svg::render(&dfd);
    let doc = checked(&text);
    assert_every_label_drawn(&dfd, &doc);
    assert_eq!(svg::render(&dfd), text);
}

/// A random diagram: up to 60 nodes of random kinds and label lengths, up to 6 boundaries
/// (each node in at most one), up to 120 flows (self-loops and parallel flows included).
fn arbitrary_dfd() -> impl Strategy<Value = Dfd> {
    (1usize..60, 0usize..7).prop_flat_map(|(n, clusters)| {
        let nodes = prop::collection::vec((0usize..3, prop::option::of(0..clusters.max(1)), 1usize..40), n);
        let edges = prop::collection::vec((0..n, 0..n, prop::option::of(0usize..4), any::<bool>()), 0..120);
        (nodes, edges).prop_map(move |(nodes, edges)| {
            let kinds = [ElementKind::Actor, ElementKind::Process, ElementKind::DataStore];
            let labels =
                ["HTTPS", "gRPC over mTLS", "a very long mechanism label that needs wrapping", "AMQP"];
            let mut dfd = Dfd::default();
            let mut members: Vec<Vec<String>> = vec![Vec::new(); clusters];
            for (i, (kind, cluster, len)) in nodes.into_iter().enumerate() {
                let id = format!("n_{i:02}");
                let cluster = cluster.filter(|_| clusters > 0);
                if let Some(c) = cluster {
                    members[c].push(id.clone());
                }
                let label: String = "Component x.".chars().cycle().take(len).collect();
                let status = ThreatStatus { open: i % 3, mitigated: i % 2, ..Default::default() };
                dfd.nodes.push(Node {
                    id: id.clone(),
                    key: id,
                    label,
                    kind: kinds[kind],
                    boundary: cluster.map(|c| format!("b_{c}")),
                    status,
                    ..Default::default()
                });
            }
            for (c, members) in members.into_iter().enumerate().filter(|(_, m)| !m.is_empty()) {
                let title = format!("Boundary {c} with a title long enough to wrap inside a narrow cluster");
                dfd.boundaries.push(BoundaryGroup {
                    id: format!("b_{c}"),
                    key: format!("b{c}"),
                    title,
                    members,
                    legacy: false,
                    ..BoundaryGroup::default()
                });
            }
            let mut set = BTreeSet::new();
            for (a, b, label, two_way) in edges {
                set.insert(Edge {
                    from: format!("n_{a:02}"),
                    to: format!("n_{b:02}"),
                    label: label.map(|l| labels[l].to_string()),
                    two_way,
                    proposed: false,
                });
            }
            dfd.edges = set.into_iter().collect();
            dfd
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_diagrams_keep_the_guarantees(dfd in arbitrary_dfd()) {
        check_layout(&dfd, MAX_LAYOUT_DUMMIES);
        checked(&svg::render(&dfd));
    }

    /// Small budgets send the longer routes below the drawing (what `layout` does past
    /// `MAX_LAYOUT_DUMMIES` on large diagrams).
    #[test]
    fn random_diagrams_past_the_work_budget_keep_the_guarantees(dfd in arbitrary_dfd(), budget in 0usize..40) {
        check_layout(&dfd, budget);
    }
}
