//! The diagram layout of any diagram under any work budget (small budgets reach the routes
//! drawn below the diagram, which large diagrams reach at `MAX_LAYOUT_DUMMIES`): the
//! guarantees hold, the output is deterministic, every flow is drawn, the budget holds
//! (`tests/support/invariants.rs`, `check_layout`), also with nested component groups.
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use threat_analyzer::render::dfd::{BoundaryGroup, Dfd, Edge, ElementKind, Node, ThreatStatus};

#[derive(Arbitrary, Debug)]
struct Input {
    budget: u8,
    /// Per node: kind, boundary (`None` or one of eight), label length.
    nodes: Vec<(u8, Option<u8>, u8)>,
    /// From, to (indexes, wrapped), label (one of four, or none), two-way.
    edges: Vec<(u8, u8, Option<u8>, bool)>,
}

const LABELS: [&str; 4] = ["HTTPS", "gRPC over mTLS", "a long mechanism label that needs wrapping", "x"];

fuzz_target!(|input: Input| {
    let n = input.nodes.len().min(96);
    if n == 0 {
        return;
    }
    let kinds = [ElementKind::Actor, ElementKind::Process, ElementKind::DataStore];
    let mut dfd = Dfd::default();
    let mut members: Vec<Vec<String>> = vec![Vec::new(); 8];
    for (i, &(kind, boundary, len)) in input.nodes.iter().take(n).enumerate() {
        let id = format!("n_{i:02}");
        let boundary = boundary.map(|b| usize::from(b % 8));
        if let Some(c) = boundary {
            members[c].push(id.clone());
        }
        dfd.nodes.push(Node {
            key: id.clone(),
            label: "Component x.".chars().cycle().take(usize::from(len % 60)).collect(),
            id,
            kind: kinds[usize::from(kind % 3)],
            boundary: boundary.map(|c| format!("b_{c}")),
            status: ThreatStatus { open: usize::from(kind / 3 % 3), ..Default::default() },
            ..Default::default()
        });
    }
    for (c, members) in members.into_iter().enumerate().filter(|(_, m)| !m.is_empty()) {
        let title = format!("Boundary {c}");
        // Boundaries 4 to 7 are component groups nested as 4 > 5 > 6 and 4 > 7 (a parent
        // without members is left out, so its children are outermost).
        let parent = [None, None, None, None, None, Some(4), Some(5), Some(4)][c].map(|p| format!("b_{p}"));
        dfd.boundaries.push(BoundaryGroup {
            id: format!("b_{c}"),
            key: format!("b{c}"),
            title,
            members,
            component: c >= 4,
            parent,
            ..Default::default()
        });
    }
    for &(a, b, label, two_way) in input.edges.iter().take(400) {
        dfd.edges.push(Edge {
            from: format!("n_{:02}", usize::from(a) % n),
            to: format!("n_{:02}", usize::from(b) % n),
            label: label.map(|l| LABELS[usize::from(l % 4)].to_string()),
            two_way,
            // Some flows proposed by the infrastructure baseline: never merged with the others.
            proposed: a % 3 == 0,
        });
    }
    invariants::check_layout(&dfd, usize::from(input.budget));
});
