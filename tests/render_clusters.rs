//! Component groups of ThreatSpec colon paths (issue 14 §5) in every diagram format: snapshots
//! of a small ThreatSpec project in Mermaid, DOT and SVG, and a check that the three show the
//! same clusters as the model (titles, nesting, members) — the SVG read back from its geometry.
#[path = "support/invariants.rs"]
mod invariants;
mod support;

use expect_test::{expect, expect_file};
use std::collections::BTreeMap;
use threat_analyzer::analysis::Analysis;
use threat_analyzer::render::dfd::{self, Dfd, Scope};
use threat_analyzer::render::{dot, layout, mermaid, svg};

/// A calculator written the ThreatSpec way: paths three deep, an external actor, a legacy
/// `@ops:@admin` boundary (which wins over any path), flows across and inside groups.
const CALC: &str = r#"
//- /calc/web.py
# @component CalcApp:Web:Server
# @component CalcApp:Web:Static
# @component CalcApp:Api:Calculator
# @component CalcApp:Api:History
# @component CalcApp:Data:Store
# @connects External:Browser to CalcApp:Web:Server with HTTPS
# @connects CalcApp:Web:Server to CalcApp:Web:Static
# @connects CalcApp:Web:Server to CalcApp:Api:Calculator with JSON
# @connects CalcApp:Api:Calculator to CalcApp:Api:History
# @connects CalcApp:Api:History to CalcApp:Data:Store with SQL
# @exposes CalcApp:Api:Calculator to Code Injection with eval of user input
# @mitigates CalcApp:Web:Server against XSS with output encoding
//- /ops/admin.php
<?php
// @alias boundary @ops to Operations
// @connects @ops:@admin to CalcApp:Api:History with SSH
"#;

fn calc() -> Dfd {
    let index = support::index_of(&support::parse_fixture(CALC).files);
    dfd::build(&index, &Analysis::new(&index), &Scope::Project)
}

#[test]
fn calc_mermaid() {
    expect![[r#"
        flowchart LR
          subgraph b_ops["Operations"]
            n_ops__admin["admin"]
          end
          subgraph g_calcapp["CalcApp"]
            subgraph g_calcapp__api["CalcApp:Api"]
              n_calcapp__api__calculator("CalcApp:Api:Calculator<br/>⚠ 1 open<br/>⚠ code_injection")
              n_calcapp__api__history("CalcApp:Api:History")
            end
            subgraph g_calcapp__data["CalcApp:Data"]
              n_calcapp__data__store[("CalcApp:Data:Store")]
            end
            subgraph g_calcapp__web["CalcApp:Web"]
              n_calcapp__web__server("CalcApp:Web:Server<br/>✓ 1 mitigated")
              n_calcapp__web__static("CalcApp:Web:Static")
            end
          end
          subgraph g_external["External"]
            n_external__browser["External:Browser"]
          end
          n_calcapp__api__calculator --> n_calcapp__api__history
          n_calcapp__api__history -->|"SQL"| n_calcapp__data__store
          n_calcapp__web__server -->|"JSON"| n_calcapp__api__calculator
          n_calcapp__web__server --> n_calcapp__web__static
          n_external__browser -->|"HTTPS"| n_calcapp__web__server
          n_ops__admin -->|"SSH"| n_calcapp__api__history
          legend_key["Key: box actor · rounded process · cylinder store · dashed boundary<br/>⚠ open · ✗ confirmed, with #91;severity#93; · ✓ mitigated<br/>border: critical 4px dark red · high 3px orange · green: none open"]
          style legend_key fill:#ffffff,stroke:#9aa5b1,color:#3e4c59
          classDef unrated fill:#fff4e5,stroke:#b35c00,stroke-width:2px
          class n_calcapp__api__calculator unrated
          classDef clean fill:#e8f5e9,stroke:#2e7d32,stroke-width:1.3px
          class n_calcapp__web__server clean
          classDef component fill:#ffffff,stroke:#9aa5b1,stroke-width:1px
          class g_calcapp,g_calcapp__api,g_calcapp__data,g_calcapp__web,g_external component
          style b_ops stroke-dasharray: 5 5
    "#]].assert_eq(&mermaid::render(&calc()));
}

#[test]
fn calc_dot() {
    expect![[r##"
        digraph dfd {
          rankdir=LR;
          node [fontname="Helvetica", fontsize=11];
          edge [fontname="Helvetica", fontsize=10];
          subgraph "cluster_b_ops" {
            label="Operations";
            style=dashed;
            "n_ops__admin" [label="admin", shape=box];
          }
          subgraph "cluster_g_calcapp" {
            label="CalcApp";
            style=solid;
            color="#9aa5b1";
            penwidth=1;
            subgraph "cluster_g_calcapp__api" {
              label="CalcApp:Api";
              style=solid;
              color="#9aa5b1";
              penwidth=1;
              "n_calcapp__api__calculator" [label="CalcApp:Api:Calculator\n⚠ 1 open\n⚠ code_injection", shape=box, style="rounded,filled", penwidth=2, color="#b35c00", fillcolor="#fff4e5", class="unrated", tooltip="CalcApp:Api:Calculator\n⚠ 1 open\n⚠ code_injection"];
              "n_calcapp__api__history" [label="CalcApp:Api:History", shape=box, style="rounded"];
            }
            subgraph "cluster_g_calcapp__data" {
              label="CalcApp:Data";
              style=solid;
              color="#9aa5b1";
              penwidth=1;
              "n_calcapp__data__store" [label="CalcApp:Data:Store", shape=cylinder];
            }
            subgraph "cluster_g_calcapp__web" {
              label="CalcApp:Web";
              style=solid;
              color="#9aa5b1";
              penwidth=1;
              "n_calcapp__web__server" [label="CalcApp:Web:Server\n✓ 1 mitigated", shape=box, style="rounded,filled", color="#2e7d32", fillcolor="#e8f5e9", class="clean", tooltip="CalcApp:Web:Server\n✓ 1 mitigated"];
              "n_calcapp__web__static" [label="CalcApp:Web:Static", shape=box, style="rounded"];
            }
          }
          subgraph "cluster_g_external" {
            label="External";
            style=solid;
            color="#9aa5b1";
            penwidth=1;
            "n_external__browser" [label="External:Browser", shape=box];
          }
          "n_calcapp__api__calculator" -> "n_calcapp__api__history";
          "n_calcapp__api__history" -> "n_calcapp__data__store" [label="SQL"];
          "n_calcapp__web__server" -> "n_calcapp__api__calculator" [label="JSON"];
          "n_calcapp__web__server" -> "n_calcapp__web__static";
          "n_external__browser" -> "n_calcapp__web__server" [label="HTTPS"];
          "n_ops__admin" -> "n_calcapp__api__history" [label="SSH"];
          subgraph "cluster_legend" {
            label="Legend";
            style=solid;
            "legend_actor" [label="Actor / external entity", shape=box];
            "legend_process" [label="Process", shape=box, style="rounded"];
            "legend_store" [label="Data store", shape=cylinder];
            "legend_badge" [label="⚠ open exposure · ✗ confirmed finding, named with [severity]; ✓ N mitigated · N accepted · N transferred\lborder by worst open severity: critical (dark red, 4 px) · high (orange, 3 px) · medium / low / unrated (2 px) · green: nothing open\ldata: classifications from @handles\ldashed box: trust boundary\lthin grey box: component (ThreatSpec path A:B:C)\l", shape=note];
          }
        }
    "##]].assert_eq(&dot::render(&calc()));
}

#[test]
fn calc_svg() {
    let dfd = calc();
    assert_eq!(layout::layout(&dfd).violations(&dfd), Vec::<String>::new());
    expect_file!["snapshots/calcapp.svg"].assert_eq(&svg::render(&dfd));
}

/// Per cluster id: its title, its parent's id, its direct members' ids (sorted).
type Clusters = BTreeMap<String, (String, Option<String>, Vec<String>)>;

fn from_model(dfd: &Dfd) -> Clusters {
    dfd.boundaries
        .iter()
        .map(|b| (b.id.clone(), (b.title.clone(), b.parent.clone(), b.members.clone())))
        .collect()
}

/// Clusters from text that opens and closes them in nesting order (Mermaid, DOT).
struct Nested {
    out: Clusters,
    open: Vec<String>,
}

impl Nested {
    fn new() -> Nested {
        Nested { out: Clusters::new(), open: Vec::new() }
    }
    fn open(&mut self, id: &str, title: &str) {
        let parent = self.open.last().cloned();
        self.out.insert(id.into(), (title.into(), parent, Vec::new()));
        self.open.push(id.into());
    }
    fn close(&mut self) {
        self.open.pop().expect("a cluster to close");
    }
    fn member(&mut self, id: &str) {
        if let Some(c) = self.open.last() {
            let members = &mut self.out.get_mut(c).unwrap().2;
            members.push(id.into());
            members.sort();
        }
    }
}

fn from_mermaid(text: &str) -> Clusters {
    let mut n = Nested::new();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("subgraph ") {
            let (id, title) = rest.split_once("[\"").unwrap();
            n.open(id, title.strip_suffix("\"]").unwrap());
        } else if line == "end" {
            n.close();
        } else if line.starts_with("n_") && !line.contains("--") {
            n.member(line.split(['[', '(']).next().unwrap());
        }
    }
    assert!(n.open.is_empty());
    n.out
}

fn from_dot(text: &str) -> Clusters {
    let mut n = Nested::new();
    let mut pending: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("subgraph \"cluster_") {
            pending = Some(rest.split('"').next().unwrap().to_string());
        } else if let (Some(id), Some(title)) = (&pending, line.strip_prefix("label=\"")) {
            n.open(&id.clone(), title.strip_suffix("\";").unwrap());
            pending = None;
        } else if line == "}" && !n.open.is_empty() {
            n.close();
        } else if line.starts_with("\"n_") && !line.contains("->") {
            n.member(line.split('"').nth(1).unwrap());
        }
    }
    n.out.remove("legend");
    n.out
}

/// Clusters from the SVG's geometry: a node is a member of the smallest cluster rectangle
/// around its label, a cluster nested in the smallest other one around its rectangle.
fn from_svg(text: &str) -> Clusters {
    fn attr(line: &str, name: &str) -> f64 {
        let at = line.find(&format!(" {name}=\"")).unwrap_or_else(|| panic!("no {name} in {line}"));
        let rest = &line[at + name.len() + 3..];
        rest[..rest.find('"').unwrap()].parse().unwrap()
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut rects: Vec<(String, String, [f64; 4])> = Vec::new();
    let mut points: Vec<(String, f64, f64)> = Vec::new();
    for (k, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix("<g id=\"dfd-") else { continue };
        let id = rest.split('"').next().unwrap().to_string();
        if line.contains("data-kind=\"boundary\"") || line.contains("data-kind=\"component\"") {
            let title = lines[k + 1].strip_prefix("<title>").unwrap().strip_suffix("</title>").unwrap();
            let title = title.split_once(": ").unwrap().1.to_string();
            let r = lines[k + 2];
            rects.push((id, title, [attr(r, "x"), attr(r, "y"), attr(r, "width"), attr(r, "height")]));
        } else if id.starts_with("n_") {
            let label = lines[k..].iter().find(|l| l.starts_with("<text ")).unwrap();
            points.push((id, attr(label, "x"), attr(label, "y")));
        }
    }
    let around = |x0: f64, y0: f64, x1: f64, y1: f64, not: &str| {
        rects
            .iter()
            .filter(|(id, _, [x, y, w, h])| id != not && *x <= x0 && *y <= y0 && x1 <= x + w && y1 <= y + h)
            .min_by(|a, b| (a.2[2] * a.2[3]).total_cmp(&(b.2[2] * b.2[3])))
            .map(|(id, _, _)| id.clone())
    };
    let mut out: Clusters = rects
        .iter()
        .map(|(id, title, [x, y, w, h])| {
            (id.clone(), (title.clone(), around(*x, *y, x + w, y + h, id), Vec::new()))
        })
        .collect();
    for (id, x, y) in points {
        if let Some(c) = around(x, y, x, y, "") {
            let members = &mut out.get_mut(&c).unwrap().2;
            members.push(id);
            members.sort();
        }
    }
    out
}

#[test]
fn every_format_shows_the_same_clusters() {
    let dfd = calc();
    let model = from_model(&dfd);
    // The model itself: nested groups, the boundary apart from them, the actor's own group.
    let shown: Vec<String> =
        model.iter().map(|(id, (t, p, m))| format!("{id} {t:?} in {p:?}: {}", m.join(" "))).collect();
    expect![[r#"
        b_ops "Operations" in None: n_ops__admin
        g_calcapp "CalcApp" in None: 
        g_calcapp__api "CalcApp:Api" in Some("g_calcapp"): n_calcapp__api__calculator n_calcapp__api__history
        g_calcapp__data "CalcApp:Data" in Some("g_calcapp"): n_calcapp__data__store
        g_calcapp__web "CalcApp:Web" in Some("g_calcapp"): n_calcapp__web__server n_calcapp__web__static
        g_external "External" in None: n_external__browser"#]]
    .assert_eq(&shown.join("\n"));
    assert_eq!(from_mermaid(&mermaid::render(&dfd)), model, "Mermaid");
    assert_eq!(from_dot(&dot::render(&dfd)), model, "DOT");
    assert_eq!(from_svg(&svg::render(&dfd)), model, "SVG");
}

/// Component groups `g_0`..`g_4` nested as `g_0 > g_1 > g_2`, `g_0 > g_3`, `g_4`, and a trust
/// boundary `b_5`; node `i` goes to cluster `place[i]` (6: none).
fn nested_dfd(place: &[usize], edges: &[(usize, usize, bool)]) -> Dfd {
    use threat_analyzer::render::dfd::{BoundaryGroup, Edge, Node};
    let parents = [None, Some(0), Some(1), Some(0), None, None];
    let id = |c: usize| if c == 5 { "b_5".to_string() } else { format!("g_{c}") };
    let mut dfd = Dfd::default();
    for (i, &c) in place.iter().enumerate() {
        let node_id = format!("n_{i:02}");
        dfd.nodes.push(Node {
            id: node_id.clone(),
            key: node_id,
            label: format!("Part {i} of a component"),
            boundary: (c < 6).then(|| id(c)),
            ..Node::default()
        });
    }
    for (c, parent) in parents.iter().enumerate() {
        let members =
            place.iter().enumerate().filter(|&(_, &p)| p == c).map(|(i, _)| format!("n_{i:02}")).collect();
        dfd.boundaries.push(BoundaryGroup {
            id: id(c),
            key: id(c),
            title: format!("Cluster {c}"),
            members,
            component: c < 5,
            parent: parent.map(id),
            ..BoundaryGroup::default()
        });
    }
    let mut set = std::collections::BTreeSet::new();
    for &(a, b, two_way) in edges {
        set.insert(Edge {
            from: format!("n_{a:02}"),
            to: format!("n_{b:02}"),
            label: None,
            two_way,
            proposed: false,
        });
    }
    dfd.edges = set.into_iter().collect();
    dfd
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 96, ..Default::default() })]

    /// Random diagrams with nested groups keep the layout's guarantees (members inside every
    /// cluster around them, nested rectangles inside their parents, no other overlaps), and
    /// every format still shows the model's clusters.
    #[test]
    fn nested_groups_keep_the_guarantees(
        place in proptest::collection::vec(0usize..7, 1..18),
        edges in proptest::collection::vec((0usize..18, 0usize..18, proptest::bool::ANY), 0..30),
        budget in 0usize..40,
    ) {
        let n = place.len();
        let edges: Vec<(usize, usize, bool)> = edges.into_iter().map(|(a, b, t)| (a % n, b % n, t)).collect();
        let dfd = nested_dfd(&place, &edges);
        let placed = layout::layout(&dfd);
        proptest::prop_assert_eq!(placed.violations(&dfd), Vec::<String>::new());
        // Also with routes drawn below the diagram (a small work budget).
        invariants::check_layout(&dfd, budget);
        // Clusters without a member anywhere inside are not drawn; compare the drawn ones.
        let drawn: Clusters = from_model(&dfd)
            .into_iter()
            .filter(|(id, _)| placed.clusters[dfd.boundaries.iter().position(|b| &b.id == id).unwrap()].is_some())
            .collect();
        proptest::prop_assert_eq!(from_svg(&svg::render(&dfd)), drawn);
    }
}
