//! The diagram layout's work budget (issue 12, item 5): a diagram within the limits (2,000
//! elements, 10,000 flows) whose flows cross thousands of columns — a chain of elements plus
//! flows between its two ends — once took 10 GB and 70–90 s in `dfd --format svg` and the HTML
//! report. The layout now counts a route's dummies (one per column crossed) before making
//! any and draws the routes over [`MAX_LAYOUT_DUMMIES`] in lanes below the diagram.
//!
//! Every test runs capped (`RLIMIT_AS` in a child process: the CLI, or this test binary
//! running one test), so a regression fails the test instead of taking the machine down; the
//! layout's own runs assert its work counter.

#[path = "support/cli.rs"]
mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::{Run, bin, finish, tempdir, write};
use threat_analyzer::limits::{MAX_DIAGRAM_EDGES, MAX_DIAGRAM_NODES, MAX_LAYOUT_DUMMIES};
use threat_analyzer::render::dfd::{BoundaryGroup, Dfd, Edge, ElementKind, Node, ThreatStatus};
use threat_analyzer::render::layout::{self, Layout};

/// Address space allowed to a capped run: the fixed binary peaks at about 200 MB resident on
/// the repro; without the budget the layout asks for 10 GB.
const MEMORY_CAP: u64 = 768 << 20;

/// Set in the child that [`in_capped_child`] starts.
const CHILD: &str = "THREAT_ANALYZER_LAYOUT_TEST_CHILD";

/// Runs the binary in `dir` with its address space capped at [`MEMORY_CAP`].
fn run_capped(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(args).current_dir(dir);
    let run = capped(cmd, &format!("{args:?}"));
    // Killed by a signal (an abort when an allocation fails) gives no code.
    let code = run.code.unwrap_or_else(|| panic!("{args:?} ended by a signal:\n{}", run.stderr));
    Run { code, stdout: run.stdout, stderr: run.stderr }
}

/// In the test process: runs test `name` of this binary again in a child capped at
/// [`MEMORY_CAP`], asserts that it passed, and returns false. In that child: returns true
/// (run the test's body).
fn in_capped_child(name: &str) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"]).env(CHILD, "1");
    let run = capped(cmd, name);
    assert!(run.code == Some(0), "{name} under a {MEMORY_CAP}-byte cap: {:?}\n{}", run.code, run.stderr);
    assert!(run.stdout.contains("1 passed"), "{name} did not run in the child:\n{}", run.stdout);
    false
}

/// Runs `cmd` with its address space capped at [`MEMORY_CAP`]; a run still going after 300 s
/// (a debug build, on a shared machine) is killed and fails the test.
fn capped(mut cmd: Command, what: &str) -> Capped {
    // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: MEMORY_CAP, rlim_max: MEMORY_CAP };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let (status, stdout, stderr) = finish(cmd, what, Duration::from_secs(300));
    Capped { code: status.code(), stdout, stderr }
}

struct Capped {
    /// `None` when a signal ended it (an abort when an allocation fails).
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// The issue's shape as a project: `elements` components in a chain, plus flows from each of
/// the first `ends` to each of the last `ends` (`ends` as large as the flow limit allows).
/// Three files, so none passes the annotations-per-file limit.
fn chain_project(dir: &Path, elements: usize) -> usize {
    let ends = ends_within_limit(elements);
    let mut defs = String::new();
    let mut chain = String::new();
    let mut long = String::new();
    for i in 0..elements {
        let _ = writeln!(defs, "# @component Chain.C{i:04}");
        if i + 1 < elements {
            let _ = writeln!(chain, "# @flows Chain.C{i:04} -> Chain.C{:04}", i + 1);
        }
    }
    for a in 0..ends {
        for b in elements - ends..elements {
            let _ = writeln!(long, "# @flows Chain.C{a:04} -> Chain.C{b:04} via HTTPS");
        }
    }
    write(dir, "src/elements.py", defs);
    write(dir, "src/chain.py", chain);
    write(dir, "src/long.py", long);
    elements - 1 + ends * ends
}

/// The most `ends` with `elements - 1 + ends²` flows within the limit.
fn ends_within_limit(elements: usize) -> usize {
    let spare = MAX_DIAGRAM_EDGES - (elements - 1);
    (spare as f64).sqrt() as usize
}

fn assert_budget_note(svg: &str) {
    assert!(svg.contains("drawn in lanes below (layout budget)"), "no note in the legend");
}

#[test]
fn chain_with_flows_between_its_ends_renders_svg_and_html_under_a_memory_cap() {
    let dir = tempdir();
    let flows = chain_project(dir.path(), MAX_DIAGRAM_NODES);
    assert!(flows > 9_900 && flows <= MAX_DIAGRAM_EDGES, "{flows} flows");

    let svg = run_capped(dir.path(), &["dfd", "--no-cache", "--format", "svg", "."]);
    assert_eq!(svg.code, 0, "{}", svg.stderr);
    assert!(svg.stdout.contains(&format!("{MAX_DIAGRAM_NODES} elements, {flows} flows")), "wrong title");
    assert_budget_note(&svg.stdout);
    let doc = roxmltree::Document::parse(&svg.stdout).expect("well-formed SVG");
    let drawn = doc.descendants().filter(|n| n.attribute("data-flows").is_some()).count();
    assert_eq!(drawn, flows, "every flow (all between distinct pairs) has its route");

    let html =
        run_capped(dir.path(), &["report", "--no-cache", "--format", "html", "-o", "report.html", "."]);
    assert_eq!(html.code, 0, "{}", html.stderr);
    let page = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(page.contains("<svg "), "the report has no diagram");
    assert_budget_note(&page);
}

#[test]
fn one_boundary_around_the_chain_renders_under_a_memory_cap() {
    // The long flows' dummies belong to the boundary: another path through the ordering.
    let dir = tempdir();
    // The boundary brings two elements of its own (`Internet` and `Chain`).
    chain_project(dir.path(), MAX_DIAGRAM_NODES - 2);
    write(dir.path(), "src/boundary.py", "# @boundary between Internet and Chain (#all)\n");
    let svg = run_capped(dir.path(), &["dfd", "--no-cache", "--format", "svg", "."]);
    assert_eq!(svg.code, 0, "{}", svg.stderr);
    assert!(svg.stdout.contains("data-kind=\"boundary\""), "the boundary is drawn");
    assert_budget_note(&svg.stdout);
}

fn node(id: String, boundary: Option<&str>) -> Node {
    Node {
        key: id.clone(),
        label: id.clone(),
        id,
        kind: ElementKind::Process,
        boundary: boundary.map(Into::into),
        status: ThreatStatus::default(),
        ..Default::default()
    }
}

fn flow(from: usize, to: usize, label: Option<&str>, two_way: bool) -> Edge {
    Edge {
        from: format!("n{from:04}"),
        to: format!("n{to:04}"),
        label: label.map(Into::into),
        two_way,
        proposed: false,
    }
}

/// `elements` nodes `n0000`… in a chain, and flows between the two ends (each end as large
/// as the flow limit allows); `backward` makes the long flows close cycles.
fn chain_dfd(elements: usize, backward: bool) -> Dfd {
    let ends = ends_within_limit(elements);
    let mut dfd =
        Dfd { nodes: (0..elements).map(|i| node(format!("n{i:04}"), None)).collect(), ..Dfd::default() };
    dfd.edges = (0..elements - 1).map(|i| flow(i, i + 1, None, false)).collect();
    for a in 0..ends {
        for b in elements - ends..elements {
            let (from, to) = if backward { (b, a) } else { (a, b) };
            dfd.edges.push(flow(from, to, Some("HTTPS"), a % 7 == 0));
        }
    }
    dfd
}

/// Puts nodes into boundaries: node `i` into boundary `of(i)` (none for `None`).
fn with_boundaries(mut dfd: Dfd, of: impl Fn(usize) -> Option<usize>) -> Dfd {
    let mut members: Vec<Vec<String>> = Vec::new();
    for (i, node) in dfd.nodes.iter_mut().enumerate() {
        if let Some(c) = of(i) {
            if members.len() <= c {
                members.resize(c + 1, Vec::new());
            }
            members[c].push(node.id.clone());
            node.boundary = Some(format!("b_{c}"));
        }
    }
    dfd.boundaries = members
        .into_iter()
        .enumerate()
        .map(|(c, members)| BoundaryGroup {
            id: format!("b_{c}"),
            key: format!("b{c}"),
            title: format!("Boundary {c}"),
            members,
            legacy: false,
            ..BoundaryGroup::default()
        })
        .collect();
    dfd
}

/// The budget holds, the guarantees hold, and every pair of nodes with a flow has a route
/// from one node box to the other.
fn assert_bounded_and_complete(dfd: &Dfd, placed: &Layout, what: &str) {
    let work = placed.work;
    assert!(work.dummies <= MAX_LAYOUT_DUMMIES, "{what}: {work:?}");
    assert!(work.routed_below > 0, "{what}: the shape should pass the budget: {work:?}");
    assert_eq!(placed.violations(dfd), Vec::<String>::new(), "{what}");
    let pairs: BTreeSet<(&str, &str)> =
        dfd.edges.iter().map(|e| (e.from.as_str().min(&e.to), e.from.as_str().max(&e.to))).collect();
    assert_eq!(placed.routes.len(), pairs.len(), "{what}: one route per pair");
    let flows: usize = placed.routes.iter().map(|r| r.flows).sum();
    assert_eq!(flows, dfd.edges.len(), "{what}: every flow drawn");
    for route in &placed.routes {
        let (a, b) = (placed.nodes[route.from].rect, placed.nodes[route.to].rect);
        let (first, last) = (route.points[0], *route.points.last().unwrap());
        let on = |r: layout::Rect, p: layout::Point| {
            (p.x == r.x || p.x == r.right()) && p.y > r.y && p.y < r.bottom()
        };
        assert!(on(a, first) && on(b, last), "{what}: {route:?}");
    }
    assert!(placed.legend.note.is_some(), "{what}: the legend says what the budget changed");
}

#[test]
fn the_issue_shape_stays_within_the_dummy_budget() {
    if !in_capped_child("the_issue_shape_stays_within_the_dummy_budget") {
        return;
    }
    let dfd = chain_dfd(MAX_DIAGRAM_NODES, false);
    let placed = layout::layout(&dfd);
    assert_bounded_and_complete(&dfd, &placed, "chain with flows between its ends");
    // Deterministic, also past the budget.
    assert_eq!(placed, layout::layout(&dfd.clone()));
}

#[test]
fn worst_shapes_at_the_limits_stay_within_the_dummy_budget() {
    if !in_capped_child("worst_shapes_at_the_limits_stay_within_the_dummy_budget") {
        return;
    }
    let n = MAX_DIAGRAM_NODES;
    let shapes = [
        ("long flows closing cycles", chain_dfd(n, true)),
        ("the chain in one boundary", with_boundaries(chain_dfd(n, false), |_| Some(0))),
        // A chain through 1,000 boundaries of two: cluster slots in thousands of columns.
        ("a chain through 1,000 boundaries", with_boundaries(chain_dfd(n, false), |i| Some(i / 2))),
        (
            "both ends in boundaries",
            with_boundaries(chain_dfd(n, true), |i| (i < 100 || i >= n - 100).then_some(i / 100)),
        ),
    ];
    for (what, dfd) in &shapes {
        assert!(dfd.edges.len() <= MAX_DIAGRAM_EDGES && dfd.nodes.len() <= MAX_DIAGRAM_NODES);
        assert_bounded_and_complete(dfd, &layout::layout(dfd), what);
    }
}
