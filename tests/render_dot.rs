//! The Graphviz DOT text of the data-flow diagram (`render::dot`).
//!
//! The hostile-label and webshop tests run Graphviz (`dot -Tsvg`). `.ci/run` installs it, and
//! under CI (`CI` set) a missing `dot` fails the tests; on a developer machine without it
//! that part is skipped with a note on standard error, and only the structural check runs.

mod support;

use expect_test::expect;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use threat_analyzer::analysis::Analysis;
use threat_analyzer::model::ProjectIndex;
use threat_analyzer::render::dfd::{self, BoundaryGroup, Dfd, Edge, ElementKind, Node, Scope, ThreatStatus};
use threat_analyzer::render::dot;
use threat_analyzer::walk::{WalkOptions, scan_from};

fn webshop() -> ProjectIndex {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/webshop");
    scan_from(&dir, std::slice::from_ref(&dir), &WalkOptions::default()).expect("webshop scans").index
}

fn diagram(index: &ProjectIndex, scope: &Scope) -> Dfd {
    dfd::build(index, &Analysis::new(index), scope)
}

#[test]
fn webshop_dot() {
    let index = webshop();
    let text = dot::render(&diagram(&index, &Scope::Project));
    expect![[r##"
        digraph dfd {
          rankdir=LR;
          node [fontname="Helvetica", fontsize=11];
          edge [fontname="Helvetica", fontsize=10];
          subgraph "cluster_b_dmz" {
            label="DMZ";
            style=dashed;
            "n_dmz__legacy_admin" [label="Legacy Admin Panel\n✓ 1 mitigated", shape=box, style="rounded,filled", color="#2e7d32", fillcolor="#e8f5e9", class="clean", tooltip="Legacy Admin Panel\n✓ 1 mitigated"];
          }
          subgraph "cluster_b_internet" {
            label="Internet";
            style=dashed;
            "n_internet__staff_browser" [label="Staff Browser", shape=box];
          }
          subgraph "cluster_bh_data_tier_bfde10aecdb5fb8c" {
            label="Shop.Api | Shop.Db (#data-tier)";
            style=dashed;
            "n_shop__db" [label="Shop.Db\n✓ 1 mitigated\ndata: pii", shape=cylinder, style="filled", color="#2e7d32", fillcolor="#e8f5e9", class="clean", tooltip="Shop.Db\n✓ 1 mitigated\ndata: pii"];
          }
          subgraph "cluster_bh_internet_edge_fc597708b86b646e" {
            label="Shop.Web | Shop.Api (#internet-edge)";
            style=dashed;
            "n_shop__api" [label="Shop.Api\n✓ 4 mitigated\ndata: secrets", shape=box, style="rounded,filled", color="#2e7d32", fillcolor="#e8f5e9", class="clean", tooltip="Shop.Api\n✓ 4 mitigated\ndata: secrets"];
            "n_shop__api__auth" [label="Shop.Api.Auth\n✓ 2 mitigated · 1 accepted\ndata: pii", shape=box, style="rounded,filled", color="#2e7d32", fillcolor="#e8f5e9", class="clean", tooltip="Shop.Api.Auth\n✓ 2 mitigated · 1 accepted\ndata: pii"];
            "n_shop__api__orders" [label="Shop.Api.Orders\n⚠ 1 open · ✓ 1 mitigated\n⚠ Insecure Direct Object Reference [P1]\ndata: pii, financial", shape=box, style="rounded,filled", penwidth=3, color="#c2410c", fillcolor="#ffedd5", class="high", tooltip="Shop.Api.Orders\n⚠ 1 open · ✓ 1 mitigated\n⚠ Insecure Direct Object Reference [P1]\ndata: pii, financial"];
          }
          subgraph "cluster_g_webshop" {
            label="Webshop";
            style=solid;
            color="#9aa5b1";
            penwidth=1;
            subgraph "cluster_g_webshop__worker" {
              label="Webshop:Worker";
              style=solid;
              color="#9aa5b1";
              penwidth=1;
              "n_webshop__worker" [label="Webshop:Worker\n✓ 2 mitigated", shape=box, style="rounded,filled", color="#2e7d32", fillcolor="#e8f5e9", class="clean", tooltip="Webshop:Worker\n✓ 2 mitigated"];
              "n_webshop__worker__payments" [label="Webshop:Worker:Payments\n✓ 1 mitigated\ndata: financial", shape=box, style="rounded,filled", color="#2e7d32", fillcolor="#e8f5e9", class="clean", tooltip="Webshop:Worker:Payments\n✓ 1 mitigated\ndata: financial"];
            }
          }
          "n_customer" [label="Customer", shape=box];
          "n_shop__psp" [label="Shop.Psp", shape=box, style="rounded"];
          "n_shop__queue" [label="Shop.Queue", shape=cylinder];
          "n_shop__web" [label="Shop.Web", shape=box, style="rounded"];
          "n_shop__web__checkout" [label="Shop.Web.Checkout\n✓ 1 mitigated · 1 transferred", shape=box, style="rounded,filled", color="#2e7d32", fillcolor="#e8f5e9", class="clean", tooltip="Shop.Web.Checkout\n✓ 1 mitigated · 1 transferred"];
          "n_support_agent" [label="Support Agent", shape=box];
          "n_internet__staff_browser" -> "n_dmz__legacy_admin" [label="order export"];
          "n_shop__api" -> "n_shop__db" [label="TLS"];
          "n_shop__api__orders" -> "n_shop__queue" [label="AMQP"];
          "n_shop__queue" -> "n_webshop__worker" [label="AMQP 0-9-1 over TLS, manual acks after the database commit"];
          "n_shop__web" -> "n_shop__api" [label="HTTPS"];
          "n_shop__web" -> "n_shop__api" [label="HTTPS JSON, session cookie and X-CSRF-Token header"];
          "n_shop__web__checkout" -> "n_shop__api__orders" [label="HTTPS"];
          "n_shop__web__checkout" -> "n_shop__psp" [label="HTTPS"];
          "n_webshop__worker__payments" -> "n_shop__psp" [label="HTTPS to the Stripe API using a restricted key"];
          subgraph "cluster_legend" {
            label="Legend";
            style=solid;
            "legend_actor" [label="Actor / external entity", shape=box];
            "legend_process" [label="Process", shape=box, style="rounded"];
            "legend_store" [label="Data store", shape=cylinder];
            "legend_badge" [label="⚠ open exposure · ✗ confirmed finding, named with [severity]; ✓ N mitigated · N accepted · N transferred\lborder by worst open severity: critical (dark red, 4 px) · high (orange, 3 px) · medium / low / unrated (2 px) · green: nothing open\ldata: classifications from @handles\ldashed box: trust boundary\lthin grey box: component (ThreatSpec path A:B:C)\l", shape=note];
          }
        }
    "##]].assert_eq(&text);
}

#[test]
fn output_is_deterministic() {
    let a = dot::render(&diagram(&webshop(), &Scope::Project));
    let b = dot::render(&diagram(&webshop(), &Scope::Project));
    assert_eq!(a, b);
    let scoped = diagram(&webshop(), &Scope::Boundary("internet-edge".into()));
    assert_eq!(dot::render(&scoped), dot::render(&scoped.clone()));
}

const HOSTILE: [&str; 10] = [
    "Say \"hi\"",
    "back\\slash \\n \\N \\G \\l",
    "close } brace {",
    "<b>bold</b>",
    "a --> b -> c",
    "x\"]; evil -> y [label=\"z",
    "&lt;entity&amp; & done",
    "trailing\\",
    "// comment /* c */ # hash",
    "subgraph cluster_x { node }",
];

fn hostile_dfd() -> Dfd {
    let open = ThreatStatus { open: 1, mitigated: 2, ..Default::default() };
    let finding = ThreatStatus { confirmed: 1, ..Default::default() };
    let clean = ThreatStatus { mitigated: 1, accepted: 1, ..Default::default() };
    let kinds = [ElementKind::Actor, ElementKind::Process, ElementKind::DataStore];
    let statuses = [open, finding, clean, ThreatStatus::default()];
    let mut nodes: Vec<Node> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let boundary = (i % 3 == 0).then_some("b_zone");
            support::diagram_node(
                &format!("n_{i:02}"),
                label,
                kinds[i % 3],
                boundary,
                statuses[i % 4].clone(),
            )
        })
        .collect();
    // A hand-built id that is not the model's: it must be replaced, not written.
    nodes.push(support::diagram_node(
        "x\"] -> \"y",
        "odd id",
        ElementKind::Process,
        None,
        ThreatStatus::default(),
    ));
    let edges = (0..HOSTILE.len())
        .map(|i| Edge {
            from: format!("n_{i:02}"),
            to: format!("n_{:02}", (i + 1) % HOSTILE.len()),
            label: Some(HOSTILE[HOSTILE.len() - 1 - i].into()),
            two_way: i % 2 == 0,
            proposed: false,
        })
        .collect();
    let boundaries = vec![BoundaryGroup {
        id: "b_zone".into(),
        key: "zone".into(),
        title: "Zone \"}\"; <i>x</i> \\".into(),
        members: (0..HOSTILE.len()).step_by(3).map(|i| format!("n_{i:02}")).collect(),
        legacy: false,
        ..BoundaryGroup::default()
    }];
    Dfd { nodes, edges, boundaries }
}

/// A small DOT lexer: every quoted string ends, braces and brackets balance outside strings,
/// and only the expected words appear outside strings (so no label text leaked).
fn assert_dot_structure(text: &str) {
    let mut depth: Vec<char> = Vec::new();
    let mut chars = text.chars().peekable();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        match c {
            '"' => loop {
                match chars.next() {
                    Some('\\') => {
                        let next = chars.next();
                        assert!(next.is_some(), "string ends in a backslash");
                    }
                    Some('"') => break,
                    Some('\n') => panic!("raw newline in a string:\n{text}"),
                    Some(_) => {}
                    None => panic!("unterminated string:\n{text}"),
                }
            },
            '{' | '[' => depth.push(c),
            '}' => assert_eq!(depth.pop(), Some('{'), "unbalanced }}:\n{text}"),
            ']' => assert_eq!(depth.pop(), Some('['), "unbalanced ]:\n{text}"),
            ' ' | '\n' | ';' | ',' | '=' => {}
            '-' => assert_eq!(chars.next(), Some('>'), "stray - outside a string:\n{text}"),
            '#' => panic!("# outside a string:\n{text}"),
            other => panic!("unexpected {other:?} outside a string:\n{text}"),
        }
    }
    assert!(depth.is_empty(), "unclosed {depth:?}");
    let allowed = [
        "digraph",
        "dfd",
        "rankdir",
        "LR",
        "node",
        "edge",
        "fontname",
        "fontsize",
        "subgraph",
        "label",
        "style",
        "dashed",
        "solid",
        "shape",
        "box",
        "cylinder",
        "note",
        "penwidth",
        "color",
        "fillcolor",
        "dir",
        "both",
        "class",
        "tooltip",
    ];
    for w in &words {
        assert!(allowed.contains(&w.as_str()) || w.parse::<f64>().is_ok(), "word {w:?} outside a string");
    }
}

fn graphviz() -> Option<PathBuf> {
    let found = Command::new("sh").args(["-c", "command -v dot"]).output().ok().and_then(|out| {
        let path = String::from_utf8(out.stdout).ok()?;
        (out.status.success() && !path.trim().is_empty()).then(|| PathBuf::from(path.trim()))
    });
    assert!(found.is_some() || std::env::var_os("CI").is_none(), "CI must install Graphviz (.ci/run does)");
    found
}

/// `dot -Tsvg`; panics with Graphviz's message when it rejects the input.
fn to_svg(dot_bin: &PathBuf, text: &str) -> String {
    let mut child = Command::new(dot_bin)
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dot");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "dot rejected the text: {stderr}\n{text}");
    assert!(!stderr.contains("syntax error"), "{stderr}\n{text}");
    String::from_utf8(out.stdout).expect("SVG is UTF-8")
}

/// The visible text of an SVG: the contents of its `<text>` elements, XML entities decoded.
fn svg_texts(svg: &str) -> Vec<String> {
    let mut texts = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find("<text") {
        let after = &rest[start..];
        let open_end = after.find('>').unwrap() + 1;
        let close = after.find("</text>").unwrap();
        texts.push(decode_xml(&after[open_end..close]));
        rest = &after[close..];
    }
    texts
}

fn decode_xml(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').expect("entity ends") + i;
        let entity = &rest[i + 1..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            e if e.starts_with("#x") => char::from_u32(u32::from_str_radix(&e[2..], 16).unwrap()).unwrap(),
            e if e.starts_with('#') => char::from_u32(e[1..].parse().unwrap()).unwrap(),
            e => panic!("unknown entity {e}"),
        };
        out.push(if c == '\u{a0}' { ' ' } else { c });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn hostile_labels_stay_text() {
    let dfd = hostile_dfd();
    let text = dot::render(&dfd);
    assert!(text.starts_with("digraph dfd {\n  rankdir=LR;\n"), "{text}");
    assert!(!text.contains("x\"] -> \"y"), "a hand-built id was written as text:\n{text}");
    assert_dot_structure(&text);

    let Some(dot_bin) = graphviz() else {
        eprintln!("note: Graphviz `dot` is not on PATH; skipping the dot -Tsvg check");
        return;
    };
    let svg = to_svg(&dot_bin, &text);
    let texts = svg_texts(&svg);
    // Graphviz writes each label line as one <text>; a node's first line is its label.
    for label in HOSTILE {
        assert!(texts.iter().any(|t| t == label), "label {label:?} not drawn as text; texts: {texts:#?}");
    }
    assert!(texts.iter().any(|t| t == "Zone \"}\"; <i>x</i> \\"), "{texts:#?}");
    assert!(texts.iter().any(|t| t == "⚠ 1 open · ✓ 2 mitigated"), "{texts:#?}");
    assert!(texts.iter().any(|t| t == "✗ 1 confirmed"), "{texts:#?}");
    // Exactly the declared nodes (11 + 4 legend entries), edges and clusters exist: no label
    // text opened a node, edge or cluster of its own.
    assert_eq!(svg.matches("class=\"node").count(), dfd.nodes.len() + 4, "{svg}");
    assert_eq!(svg.matches("class=\"edge\"").count(), dfd.edges.len(), "{svg}");
    assert_eq!(svg.matches("class=\"cluster\"").count(), 2, "{svg}");
}

#[test]
fn webshop_dot_renders_with_graphviz() {
    let text = dot::render(&diagram(&webshop(), &Scope::Project));
    assert_dot_structure(&text);
    let Some(dot_bin) = graphviz() else {
        eprintln!("note: Graphviz `dot` is not on PATH; skipping the dot -Tsvg check");
        return;
    };
    let svg = to_svg(&dot_bin, &text);
    let texts = svg_texts(&svg);
    for want in [
        "Shop.Api.Orders",
        "⚠ 1 open · ✓ 1 mitigated",
        "Shop.Web | Shop.Api (#internet-edge)",
        "Legend",
        "TLS",
    ] {
        assert!(texts.iter().any(|t| t == want), "{want:?} missing: {texts:#?}");
    }
}

#[test]
fn shapes_and_cues_by_kind_and_status() {
    let dfd = hostile_dfd();
    let text = dot::render(&dfd);
    // Actor with open exposures: box, thick border; process with a finding: rounded, thicker;
    // store, clean: cylinder, no extra border.
    assert!(text.contains("\"n_00\" [label=\"Say \\\"hi\\\"\\n⚠ 1 open · ✓ 2 mitigated\", shape=box, style=\"filled\", penwidth=2,"), "{text}");
    assert!(text.contains("\"n_01\" [label=\"back\\\\slash \\\\n \\\\N \\\\G \\\\l\\n✗ 1 confirmed\", shape=box, style=\"rounded,filled\", penwidth=3,"), "{text}");
    assert!(text.contains("\"n_02\" [label=\"close } brace {\\n✓ 1 mitigated · 1 accepted\", shape=cylinder, style=\"filled\", color="), "{text}");
    assert!(text.contains("    \"n_03\" [label=\"<b>bold</b>\", shape=box];\n"), "{text}");
    assert!(text.contains("  subgraph \"cluster_b_zone\" {\n    label=\"Zone \\\"}\\\"; <i>x</i> \\\\\";\n    style=dashed;\n"), "{text}");
    assert!(
        text.contains("\"n_00\" -> \"n_01\" [label=\"subgraph cluster_x { node }\", dir=both];"),
        "{text}"
    );
}
