//! A layered (Sugiyama-style) left-to-right layout of a [`Dfd`], in pixels: node boxes, cluster
//! rectangles (trust boundaries, and component groups nested in each other), edge routes with
//! label boxes, and a legend box. Pure and
//! deterministic: the same diagram gives the same layout, bit for bit (no hashing, no clocks,
//! ties broken by index). Used by the SVG renderer ([`super::svg`]); usable by any output that
//! needs positions (the Threat Dragon export, for one).
//!
//! Owns: geometry — text measurement (approximate per-character widths of a Helvetica-like
//! font), label wrapping, and every coordinate. Must never: decide what the diagram contains
//! (that is [`super::dfd`]), or write any output syntax (no escaping here: the lines it
//! returns are display text, which each renderer escapes for its format).
//!
//! No crate served: `layout-rs` has no clusters (nested graphs), and the layered crates
//! (`rust-sugiyama`, `dagre`) either lack clusters or bring a graph library and still give no
//! guarantee that a cluster's rectangle holds only its members.
//!
//! # Steps
//!
//! 1. **Flows.** Flows between the same two nodes in the same direction (and all annotated, or
//!    all proposed by the infrastructure baseline) are merged into one
//!    route (`a -> b`, `b -> a` and `a <-> b` are up to three routes, each with its own arrows
//!    and label), labelled with each distinct label (wrapped onto two
//!    lines, three for a lone label; at most [`LABELS_SHOWN`], then `+N more`) under an
//!    `N flows` line when there are several.
//! 2. **Ranks**, two levels deep so a boundary stays a compact block rather than a stripe
//!    across the drawing: members are ranked by the flows inside their boundary, then
//!    boundaries and free nodes are ranked as units by the flows between them. (For nested
//!    component groups the unit is the outermost cluster; a nested cluster spans the columns
//!    of the members inside it.) At each level a
//!    depth-first search in index order reverses the edges that close a cycle (for ranking
//!    only: arrows keep their direction), ranks are longest paths from the sources, and each
//!    source is then moved next to its nearest successor. A rank with more than
//!    `max(8, ⌈√(2.5·n)⌉)` nodes is wrapped onto several columns (nodes of one boundary kept
//!    together), so 200 unconnected components form a grid rather than one very tall column.
//!    Ranks are then doubled: nodes sit in even columns, and every edge passes through at
//!    least one odd column holding its label, so labels never overlap nodes or each other.
//!    Long edges get a dummy point in every column they cross.
//! 3. **Order.** Four down-and-up barycenter sweeps. In every column a boundary's members (and
//!    the dummies of flows inside it) stay contiguous, a boundary keeps one slot in every
//!    column of its span (even where it has no member), and boundaries keep one global
//!    top-to-bottom order, so their rectangles can never cross. Inside a cluster the same
//!    holds for the clusters nested in it (`Nest::arrange`): their items stay contiguous,
//!    each keeps a slot in every column of its span, and siblings keep one order.
//! 4. **Coordinates.** Columns are as wide as their widest box, separated by [`GAP_X`]. In
//!    each column the slots are stacked top to bottom with a minimum gap; a boundary's slot has
//!    the same top and height in every column of its span. These separation constraints form
//!    a DAG; a longest-path pass packs it, then alternating down/up relaxation passes pull
//!    every box toward the mean of its neighbours without ever breaking a constraint (a box
//!    without neighbours packs against the next one). A cluster's band is computed innermost
//!    first: a cluster without nested ones centres each column's stack in its band; one with
//!    nested clusters stacks its own items and its nested bands in every column as high as
//!    the columns' order allows (`Packing`), so a nested band has one top in all the columns
//!    it spans. A nested cluster is [`NEST_INSET`] narrower on each side than its parent.
//! 5. **Routes.** A route runs horizontally through each column at its own slot's height
//!    (which no other box of that column shares) and crosses the gaps between columns; the
//!    renderer draws the gap crossings as curves.
//!
//! # Work budget
//!
//! Ordering and coordinates are a fixed number of passes (4 sweeps, 8 relaxations), each
//! linear (or `n log n`) in the slots of the columns: the nodes, one dummy per column a route
//! crosses, and a boundary's slot in each column of its span. A route's dummies are known as
//! soon as the ranks are. A chain
//! of 2,000 elements with flows between its two ends, within the diagram limits, would need
//! 30 million dummies (10 GB). So the dummies are counted before any is made: routes are
//! kept in the columns shortest first, all routes of one length or none, while the total
//! stays within [`MAX_LAYOUT_DUMMIES`] (a route crossing a single column always is). Longer
//! routes are drawn *below*: out of their upper node's column to the middle of the gap after
//! it, down to a lane under everything else, along it to the gap before the lower node's
//! column, and up into it, the label box on the lane. Lanes are shared by routes whose
//! extents do not meet (interval partitioning: as few lanes as possible). Gap middles hold
//! no box, and lanes lie under every box, so the guarantees below hold as before, every flow
//! is still drawn, and the legend says how many were routed below ([`Work`]).
//!
//! # Guarantees (checked by [`Layout::violations`] and the tests)
//!
//! No two node boxes overlap; no node box overlaps a boundary rectangle it is not in; boundary
//! rectangles do not overlap each other, except that a nested cluster lies inside its
//! parent's (below its title); every member lies inside its boundary's rectangle (below its
//! title), and inside every cluster around that one. Label boxes never overlap node boxes. A node belongs to the first
//! boundary listing it (as in the DOT output).

use super::dfd::{Dfd, ElementKind, Nesting};
use super::look::{self, LEGEND_LINES, LEGEND_SHAPES};
use crate::limits::MAX_LAYOUT_DUMMIES;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use unicode_width::UnicodeWidthChar;

/// Font sizes (px) the sizes are computed for; renderers must draw with the same.
pub const NODE_FONT: f64 = 13.0;
pub const BADGE_FONT: f64 = 11.0;
pub const EDGE_FONT: f64 = 11.0;
pub const TITLE_FONT: f64 = 12.0;
pub const LEGEND_FONT: f64 = 11.0;
/// Line height as a multiple of the font size.
pub const LINE_HEIGHT: f64 = 1.3;
/// Vertical radius of a data store's cylinder ends.
pub const CYLINDER_RY: f64 = 6.0;
/// Horizontal gap between columns (more than twice [`CLUSTER_PAD_X`]).
pub const GAP_X: f64 = 40.0;
/// Space between a boundary's rectangle and its members, left and right.
pub const CLUSTER_PAD_X: f64 = 14.0;
/// At most this many distinct labels are shown on a route (the rest as `+N more`).
pub const LABELS_SHOWN: usize = 3;
/// How much narrower, left and right, a nested cluster is than the one around it, for the
/// first [`NEST_INSETS`] levels (deeper ones share the last outline's sides, still inside it).
pub const NEST_INSET: f64 = 4.0;
pub const NEST_INSETS: usize = 3;

const NODE_PAD_X: f64 = 12.0;
const NODE_PAD_Y: f64 = 8.0;
const NODE_MIN_WIDTH: f64 = 96.0;
const NODE_TEXT_WIDTH: f64 = 170.0;
const NODE_LINES: usize = 3;
/// Width a detail line (badge, threat, data) may take before it is cut with an ellipsis.
const DETAIL_TEXT_WIDTH: f64 = 240.0;
const LABEL_TEXT_WIDTH: f64 = 150.0;
const LABEL_LINES: usize = 2;
const LABEL_PAD: f64 = 3.0;
const TITLE_LINES: usize = 2;
const CLUSTER_PAD_TOP: f64 = 6.0;
const CLUSTER_PAD_BOTTOM: f64 = 12.0;
const MARGIN: f64 = 20.0;
const SWEEPS: usize = 4;
const RELAXATIONS: usize = 8;
/// Vertical space between lanes below the drawing, and around it.
const LANE_GAP: f64 = 6.0;
/// Least horizontal space between two routes sharing a lane.
const LANE_SPACING: f64 = 8.0;

/// An axis-aligned rectangle: top-left corner and size, in pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.width
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.height
    }
    pub fn center_x(&self) -> f64 {
        self.x + self.width / 2.0
    }
    pub fn center_y(&self) -> f64 {
        self.y + self.height / 2.0
    }
    /// The interiors intersect (touching edges do not count).
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right() && other.x < self.right() && self.y < other.bottom() && other.y < self.bottom()
    }
    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x
            && other.right() <= self.right()
            && other.y >= self.y
            && other.bottom() <= self.bottom()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// A node's box and the text drawn in it.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeBox {
    pub rect: Rect,
    /// The label wrapped into lines (display text: control characters are spaces).
    pub lines: Vec<String>,
    /// The lines under the label ([`super::look::detail_lines`]: badge, named threats, data
    /// classifications), each cut to the box's width (display text).
    pub details: Vec<String>,
}

/// A trust boundary's rectangle (dashed in the drawing), its title on top inside it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterBox {
    pub rect: Rect,
    pub title_lines: Vec<String>,
    /// Height of the title band at the top of `rect`.
    pub title_height: f64,
}

/// One drawn arrow: every flow between two nodes, merged.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// Index in `dfd.nodes` of the node the points start at.
    pub from: usize,
    /// Index in `dfd.nodes` of the node the points end at.
    pub to: usize,
    /// Some flow enters `from` (an arrowhead at the first point).
    pub arrow_start: bool,
    /// Some flow enters `to` (an arrowhead at the last point).
    pub arrow_end: bool,
    /// How many flows of the model this route draws.
    pub flows: usize,
    /// The flows are proposed by the infrastructure baseline (a route never mixes proposed and
    /// annotated flows).
    pub proposed: bool,
    /// Every distinct label of those flows, in model order (display text, unwrapped).
    pub labels: Vec<String>,
    /// What is drawn in the label box.
    pub label_lines: Vec<String>,
    pub label_box: Option<Rect>,
    /// Waypoints: horizontal runs inside columns, gap crossings between them (a renderer
    /// draws a segment that changes height as a curve). Starts and ends on node borders.
    pub points: Vec<Point>,
}

/// The legend: a title, three shape samples with captions, and text lines.
#[derive(Clone, Debug, PartialEq)]
pub struct LegendBox {
    pub rect: Rect,
    /// Baseline-left of the title.
    pub title: Point,
    /// Shape sample box and caption baseline-left.
    pub shapes: Vec<(ElementKind, &'static str, Rect, Point)>,
    /// Text lines and their baseline-left.
    pub lines: Vec<(&'static str, Point)>,
    /// What the work budget changed (see [`Work`]), and its baseline-left; `None` when nothing.
    pub note: Option<(String, Point)>,
}

/// What the layout spent: a deterministic measure of its work and memory (see the module
/// docs' *Work budget*).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// Dummies placed: one per column a route crosses, for the routes drawn through them.
    pub dummies: usize,
    /// Routes drawn in lanes below the diagram because their dummies would have passed the
    /// budget.
    pub routed_below: usize,
    /// Routes drawn through the columns cross at most this many columns (0 with no routes).
    pub longest_kept: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// One per `dfd.nodes`, same order.
    pub nodes: Vec<NodeBox>,
    /// One per `dfd.boundaries`, same order; `None` for a boundary with no member drawn.
    pub clusters: Vec<Option<ClusterBox>>,
    pub routes: Vec<Route>,
    pub legend: LegendBox,
    pub work: Work,
}

impl Layout {
    /// Breaches of the guarantees in the module docs (empty when there are none).
    pub fn violations(&self, dfd: &Dfd) -> Vec<String> {
        let mut out = Vec::new();
        let member = memberships(dfd);
        let nesting = Nesting::of(dfd);
        let within = |i: usize, c: usize| member[i].is_some_and(|m| nesting.chain(m).any(|x| x == c));
        let body = |cluster: &ClusterBox| {
            let mut body = cluster.rect;
            body.y += cluster.title_height;
            body.height -= cluster.title_height;
            body
        };
        let name = |i: usize| dfd.nodes[i].id.as_str();
        // Sweep by x so large diagrams stay cheap: only boxes whose x-ranges meet are compared.
        let mut by_x: Vec<usize> = (0..self.nodes.len()).collect();
        by_x.sort_by(|&a, &b| self.nodes[a].rect.x.total_cmp(&self.nodes[b].rect.x).then(a.cmp(&b)));
        for (k, &a) in by_x.iter().enumerate() {
            for &b in &by_x[k + 1..] {
                if self.nodes[b].rect.x >= self.nodes[a].rect.right() {
                    break;
                }
                if self.nodes[a].rect.overlaps(&self.nodes[b].rect) {
                    out.push(format!("nodes {} and {} overlap", name(a), name(b)));
                }
            }
        }
        for (c, cluster) in self.clusters.iter().enumerate() {
            let Some(cluster) = cluster else { continue };
            for (i, node) in self.nodes.iter().enumerate() {
                if within(i, c) {
                    if !body(cluster).contains(&node.rect) {
                        out.push(format!("node {} is not inside its boundary {}", name(i), c));
                    }
                } else if cluster.rect.overlaps(&node.rect) {
                    out.push(format!("node {} overlaps boundary {} it is not in", name(i), c));
                }
            }
            for (d, other) in self.clusters.iter().enumerate().skip(c + 1) {
                let Some(other) = other else { continue };
                // A nested cluster lies inside the body of every cluster around it.
                let nested = if nesting.chain(d).any(|x| x == c) {
                    Some((d, other, c, cluster))
                } else if nesting.chain(c).any(|x| x == d) {
                    Some((c, cluster, d, other))
                } else {
                    None
                };
                match nested {
                    Some((inner, inner_box, outer, outer_box))
                        if !body(outer_box).contains(&inner_box.rect) =>
                    {
                        out.push(format!("boundary {inner} is not inside its parent {outer}"));
                    }
                    Some(_) => {}
                    None if other.rect.overlaps(&cluster.rect) => {
                        out.push(format!("boundaries {c} and {d} overlap"));
                    }
                    None => {}
                }
            }
        }
        for (c, cluster) in self.clusters.iter().enumerate() {
            if cluster.is_none() && member.contains(&Some(c)) {
                out.push(format!("boundary {c} has members but no rectangle"));
            }
        }
        for route in &self.routes {
            let Some(label) = &route.label_box else { continue };
            for (i, node) in self.nodes.iter().enumerate() {
                if node.rect.overlaps(label) {
                    out.push(format!("a label box overlaps node {}", name(i)));
                }
            }
        }
        let everything = Rect { x: 0.0, y: 0.0, width: self.width, height: self.height };
        let rects = self.nodes.iter().map(|n| n.rect).chain(self.clusters.iter().flatten().map(|c| c.rect));
        if rects.chain(std::iter::once(self.legend.rect)).any(|r| !everything.contains(&r)) {
            out.push("a box lies outside the canvas".into());
        }
        out
    }
}

/// The boundary (index in `dfd.boundaries`) of each node: the first one listing it.
fn memberships(dfd: &Dfd) -> Vec<Option<usize>> {
    let index: BTreeMap<&str, usize> =
        dfd.nodes.iter().enumerate().rev().map(|(i, n)| (n.id.as_str(), i)).collect();
    let mut member = vec![None; dfd.nodes.len()];
    for (c, group) in dfd.boundaries.iter().enumerate() {
        for id in &group.members {
            if let Some(&i) = index.get(id.as_str())
                && member[i].is_none()
            {
                member[i] = Some(c);
            }
        }
    }
    member
}

// ---------------------------------------------------------------------------------------------
// Text

/// What a character becomes in display text: `None` for characters XML 1.0 forbids (C0
/// controls other than tab, line feed and carriage return; U+FFFE, U+FFFF), a space for other
/// control, line-separator and bidi-control characters (they would break lines or reorder
/// text), else itself.
pub fn display_char(c: char) -> Option<char> {
    let forbidden = (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}');
    if forbidden {
        None
    } else if !crate::text::is_inert(c) {
        Some(' ')
    } else {
        Some(c)
    }
}

/// `text` as display text (see [`display_char`]).
pub fn display_text(text: &str) -> String {
    text.chars().filter_map(display_char).collect()
}

/// Approximate advance width of `c` in em, for a Helvetica-like sans-serif font; generous, so
/// text fits the boxes computed from it.
fn char_em(c: char) -> f64 {
    match c {
        ' ' => 0.28,
        'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' => 0.27,
        'f' | 't' | 'r' | 'I' => 0.36,
        '(' | ')' | '[' | ']' | '{' | '}' | '-' | '/' | '\\' | '"' | '`' => 0.38,
        'm' | 'w' | 'M' | 'W' | '@' | '%' => 0.88,
        'A'..='Z' => 0.70,
        '0'..='9' => 0.57,
        'a'..='z' => 0.56,
        c if c.is_ascii() => 0.60,
        c => match c.width() {
            Some(0) => 0.0,
            Some(2) => 1.05,
            _ => 0.70,
        },
    }
}

/// Approximate width in pixels of `text` at `size` px.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().map(char_em).sum::<f64>() * size
}

/// Greedy wrapping of display text into lines at most `max_width` wide (breaking after spaces
/// and after `.`, `:`, `/`, `-`, `_`, `,`; inside a word only when it alone is too wide), at
/// most `max_lines` lines, the last ending in `…` when text was cut.
pub fn wrap(text: &str, size: f64, max_width: f64, max_lines: usize) -> Vec<String> {
    let text = display_text(text);
    let text = text.trim();
    // Pieces that end at a break opportunity.
    let mut pieces: Vec<String> = Vec::new();
    let mut piece = String::new();
    for c in text.chars() {
        piece.push(c);
        if matches!(c, ' ' | '.' | ':' | '/' | '-' | '_' | ',') {
            pieces.push(std::mem::take(&mut piece));
        }
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for piece in pieces {
        let candidate = format!("{line}{piece}");
        if text_width(candidate.trim_end(), size) <= max_width {
            line = candidate;
            continue;
        }
        if !line.trim().is_empty() {
            lines.push(line.trim_end().to_string());
        }
        line = String::new();
        // A piece too wide on its own is split by characters.
        for c in piece.chars() {
            if !line.is_empty() && text_width(&format!("{line}{c}"), size) > max_width {
                lines.push(std::mem::take(&mut line));
            }
            if !(line.is_empty() && c == ' ') {
                line.push(c);
            }
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        let last = lines.last_mut().expect("max_lines > 0");
        while !last.is_empty() && text_width(&format!("{last}…"), size) > max_width {
            last.pop();
        }
        let trimmed = last.trim_end().to_string();
        *last = format!("{trimmed}…");
    }
    lines
}

fn line_height(size: f64) -> f64 {
    size * LINE_HEIGHT
}

// ---------------------------------------------------------------------------------------------
// Layout

/// One merged route before layout.
struct Group {
    from: usize,
    to: usize,
    arrow_start: bool,
    arrow_end: bool,
    flows: usize,
    proposed: bool,
    labels: Vec<String>,
}

/// Something that occupies a slot in a column: a node, or a point of a long edge (a dummy),
/// possibly carrying the edge's label.
struct Item {
    rank: usize,
    /// The outermost cluster holding the item.
    cluster: Option<usize>,
    /// The innermost cluster holding the item.
    group: Option<usize>,
    width: f64,
    height: f64,
    dummy: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Item(usize),
    Cluster(usize),
}

/// How a merged route is drawn. `upper` is the end in the lower-numbered column; `flip` says
/// the route's `from` is the other end.
enum Plan {
    SelfLoop,
    /// Through the columns: its items in column order, and the one carrying the label.
    Through {
        chain: Vec<usize>,
        label_item: usize,
        flip: bool,
    },
    /// In a lane below the drawing (over the work budget).
    Below {
        upper: usize,
        lower: usize,
        flip: bool,
    },
}

/// Lays out `dfd` (see the module docs) within the work budget [`MAX_LAYOUT_DUMMIES`].
pub fn layout(dfd: &Dfd) -> Layout {
    layout_within(dfd, MAX_LAYOUT_DUMMIES)
}

/// [`layout`] with a budget of `max_dummies` dummies instead (the tests and the `layout` fuzz
/// target reach the routes below the drawing with small diagrams this way).
pub fn layout_within(dfd: &Dfd, max_dummies: usize) -> Layout {
    let n = dfd.nodes.len();
    let member = memberships(dfd);
    let nesting = Nesting::of(dfd);
    let top: Vec<Option<usize>> = member.iter().map(|m| m.map(|c| nesting.top(c))).collect();
    let nodes: Vec<NodeBox> = dfd
        .nodes
        .iter()
        .map(|node| {
            let lines = wrap(&node.label, NODE_FONT, NODE_TEXT_WIDTH, NODE_LINES);
            let details: Vec<String> = look::detail_lines(node, look::THREATS_SHOWN)
                .iter()
                .flat_map(|l| wrap(l, BADGE_FONT, DETAIL_TEXT_WIDTH, 1))
                .collect();
            let mut width = lines.iter().map(|l| text_width(l, NODE_FONT)).fold(0.0, f64::max);
            let mut height = lines.len().max(1) as f64 * line_height(NODE_FONT);
            if !details.is_empty() {
                width = details.iter().map(|l| text_width(l, BADGE_FONT)).fold(width, f64::max);
                height += details.len() as f64 * line_height(BADGE_FONT) + 2.0;
            }
            height += 2.0 * NODE_PAD_Y;
            if node.kind == ElementKind::DataStore {
                height += 2.0 * CYLINDER_RY;
            }
            let width = (width + 2.0 * NODE_PAD_X).max(NODE_MIN_WIDTH).ceil();
            NodeBox { rect: Rect { x: 0.0, y: 0.0, width, height: height.ceil() }, lines, details }
        })
        .collect();
    let groups = merge_flows(dfd);

    // Ranks (edges of self-loops play no part).
    let ranked: Vec<(usize, usize)> =
        groups.iter().filter(|g| g.from != g.to).map(|g| (g.from, g.to)).collect();
    let node_rank = ranks(n, &ranked, &top, dfd.boundaries.len());
    let node_rank = wrap_ranks(&node_rank, &top, &member);
    let node_rank: Vec<usize> = node_rank.iter().map(|r| 2 * r).collect();
    let columns_crossed = |g: &Group| node_rank[g.from].abs_diff(node_rank[g.to]) - 1;
    let longest_kept =
        longest_within_budget(groups.iter().filter(|g| g.from != g.to).map(columns_crossed), max_dummies);

    // Items: nodes first, then the dummies of every long edge.
    let mut items: Vec<Item> = (0..n)
        .map(|i| Item {
            rank: node_rank[i],
            cluster: top[i],
            group: member[i],
            width: nodes[i].rect.width,
            height: nodes[i].rect.height,
            dummy: false,
        })
        .collect();
    // Chain links (upper item, lower item), in the order they are made.
    let mut links: Vec<(usize, usize)> = Vec::new();
    // Per group: how it is drawn, and its label text.
    let mut plans: Vec<Plan> = Vec::with_capacity(groups.len());
    let mut label_lines: Vec<Vec<String>> = Vec::with_capacity(groups.len());
    for g in &groups {
        let lines = route_label(g);
        let (lw, lh) = label_size(&lines);
        label_lines.push(lines);
        if g.from == g.to {
            plans.push(Plan::SelfLoop);
            continue;
        }
        let flip = node_rank[g.from] > node_rank[g.to];
        let (a, b) = if flip { (g.to, g.from) } else { (g.from, g.to) };
        if columns_crossed(g) > longest_kept {
            plans.push(Plan::Below { upper: a, lower: b, flip });
            continue;
        }
        let (ra, rb) = (node_rank[a], node_rank[b]);
        let shared = top[a].filter(|c| top[b] == Some(*c));
        // The innermost cluster holding both ends (their outermost one at least).
        let common = member[a].zip(member[b]).and_then(|(ma, mb)| {
            let around_b: Vec<usize> = nesting.chain(mb).collect();
            nesting.chain(ma).find(|x| around_b.contains(x))
        });
        let mid = {
            let m = (ra + rb) / 2;
            if m % 2 == 1 { m } else { m - 1 }
        };
        let mut chain = vec![a];
        let mut label_item = a;
        for r in ra + 1..rb {
            let carries = r == mid;
            items.push(Item {
                rank: r,
                cluster: shared,
                group: common,
                width: if carries { lw } else { 0.0 },
                height: if carries { lh } else { 2.0 },
                dummy: true,
            });
            let id = items.len() - 1;
            if carries {
                label_item = id;
            }
            chain.push(id);
        }
        chain.push(b);
        links.extend(chain.windows(2).map(|w| (w[0], w[1])));
        plans.push(Plan::Through { chain, label_item, flip });
    }
    let work = Work {
        dummies: items.len() - n,
        routed_below: plans.iter().filter(|p| matches!(p, Plan::Below { .. })).count(),
        longest_kept: if plans.iter().any(|p| matches!(p, Plan::Through { .. })) { longest_kept } else { 0 },
    };
    let up = Csr::new(items.len(), links.iter().map(|&(a, b)| (b, a)));
    let down = Csr::new(items.len(), links.iter().copied());
    drop(links);
    let ranks_count = items.iter().map(|it| it.rank + 1).max().unwrap_or(0);
    let clusters_count = dfd.boundaries.len();
    let mut span: Vec<Option<(usize, usize)>> = vec![None; clusters_count];
    for (i, m) in member.iter().enumerate() {
        if let Some(m) = *m {
            let r = node_rank[i];
            for c in nesting.chain(m) {
                span[c] = Some(span[c].map_or((r, r), |(lo, hi)| (lo.min(r), hi.max(r))));
            }
        }
    }

    // Order.
    let mut order: Vec<Vec<Slot>> = vec![Vec::new(); ranks_count];
    let mut inside: Vec<BTreeMap<usize, Vec<usize>>> = vec![BTreeMap::new(); ranks_count];
    for (c, s) in span.iter().enumerate() {
        if let Some((lo, hi)) = *s
            && nesting.parent[c].is_none()
        {
            for r in lo..=hi {
                inside[r].insert(c, Vec::new());
                order[r].push(Slot::Cluster(c));
            }
        }
    }
    for (i, item) in items.iter().enumerate() {
        match item.cluster {
            Some(c) => inside[item.rank].entry(c).or_default().push(i),
            None => order[item.rank].push(Slot::Item(i)),
        }
    }
    let mut pos = vec![0.0; items.len()];
    let mut cluster_order: Vec<usize> = (0..clusters_count).collect();
    // Nested clusters contiguous from the start (a one-column diagram is never swept).
    Nest { nesting: &nesting, items: &items, order: &cluster_order }.arrange_all(
        &order,
        &mut inside,
        &mut pos,
    );
    for _ in 0..SWEEPS {
        for r in 1..ranks_count {
            let nest = Nest { nesting: &nesting, items: &items, order: &cluster_order };
            reorder(r, &up, &mut order, &mut inside, &mut pos, &nest);
        }
        for r in (0..ranks_count.saturating_sub(1)).rev() {
            let nest = Nest { nesting: &nesting, items: &items, order: &cluster_order };
            reorder(r, &down, &mut order, &mut inside, &mut pos, &nest);
        }
        cluster_order = rank_clusters(&items, &nesting, &order, &inside, &pos, clusters_count);
    }
    // Nested clusters in the final global order in every column, the order the packing reads.
    Nest { nesting: &nesting, items: &items, order: &cluster_order }.arrange_all(
        &order,
        &mut inside,
        &mut pos,
    );

    // Columns.
    let mut col_w = vec![0.0f64; ranks_count];
    for item in &items {
        col_w[item.rank] = col_w[item.rank].max(item.width);
    }
    let mut col_x = vec![0.0f64; ranks_count];
    let mut x = MARGIN + CLUSTER_PAD_X;
    for r in 0..ranks_count {
        col_x[r] = x;
        x += col_w[r] + GAP_X;
    }

    // Boundary titles and bands.
    let mut cluster_rect_x: Vec<(f64, f64)> = vec![(0.0, 0.0); clusters_count];
    let mut titles: Vec<(Vec<String>, f64)> = vec![(Vec::new(), 0.0); clusters_count];
    for c in 0..clusters_count {
        if let Some((lo, hi)) = span[c] {
            let inset = NEST_INSET * nesting.depth[c].min(NEST_INSETS) as f64;
            let left = col_x[lo] - CLUSTER_PAD_X + inset;
            let right = col_x[hi] + col_w[hi] + CLUSTER_PAD_X - inset;
            cluster_rect_x[c] = (left, right);
            let lines = wrap(&dfd.boundaries[c].title, TITLE_FONT, right - left - 12.0, TITLE_LINES);
            let height = lines.len() as f64 * line_height(TITLE_FONT) + 2.0;
            titles[c] = (lines, height);
        }
    }
    let gap = |a: Slot, b: Slot| {
        let small = |s: Slot| matches!(s, Slot::Item(i) if items[i].dummy);
        match (small(a), small(b)) {
            (true, true) => 6.0,
            (false, false) => 20.0,
            _ => 10.0,
        }
    };
    // Stack offsets: each item from the top of its innermost cluster, each nested cluster from
    // its parent's top; innermost clusters first, so a parent stacks its children's bands.
    let mut offset = vec![0.0f64; items.len()];
    let mut band = vec![0.0f64; clusters_count];
    let mut nested_at = vec![0.0f64; clusters_count];
    let mut direct: Vec<BTreeMap<usize, Vec<usize>>> = vec![BTreeMap::new(); ranks_count];
    for (r, map) in inside.iter().enumerate() {
        for (&c, list) in map {
            direct[r].entry(c).or_default();
            for &i in list {
                direct[r].entry(items[i].group.unwrap_or(c)).or_default().push(i);
            }
        }
    }
    let mut innermost_first: Vec<usize> = (0..clusters_count).filter(|&c| span[c].is_some()).collect();
    innermost_first.sort_by_key(|&c| (Reverse(nesting.depth[c]), c));
    for c in innermost_first {
        let head = CLUSTER_PAD_TOP + titles[c].1;
        let Some((lo, hi)) = span[c] else { continue };
        if nesting.children[c].is_empty() {
            // Each column's stack, centred in the band.
            let mut stacks: Vec<(usize, f64)> = Vec::new();
            for (r, column) in direct.iter().enumerate().take(hi + 1).skip(lo) {
                let Some(list) = column.get(&c) else { continue };
                let mut y = 0.0;
                for (k, &i) in list.iter().enumerate() {
                    if k > 0 {
                        y += gap(Slot::Item(list[k - 1]), Slot::Item(i));
                    }
                    offset[i] = y;
                    y += items[i].height;
                }
                band[c] = band[c].max(y);
                stacks.push((r, y));
            }
            for (r, stack) in stacks {
                let top = head + (band[c] - stack) / 2.0;
                for &i in &direct[r][&c] {
                    offset[i] += top;
                }
            }
            band[c] += head + CLUSTER_PAD_BOTTOM;
        } else {
            let mut packed = Packing::default();
            for (r, column) in inside.iter().enumerate().take(hi + 1).skip(lo) {
                let top_list = column.get(&nesting.top(c)).map_or(&[][..], Vec::as_slice);
                let column = nested_column(c, r, top_list, &items, &nesting, &span, &cluster_order);
                packed.column(
                    &column,
                    |s| match s {
                        Slot::Item(i) => items[i].height,
                        Slot::Cluster(d) => band[d],
                    },
                    gap,
                );
            }
            let (at, bottom) = packed.pack(head);
            for (slot, y) in at {
                match slot {
                    Slot::Item(i) => offset[i] = y,
                    Slot::Cluster(d) => nested_at[d] = y,
                }
            }
            band[c] = bottom.max(head) + CLUSTER_PAD_BOTTOM;
        }
    }
    // Every item's offset from the top of its outermost cluster, for the pulls below.
    let from_top = |c: usize| nesting.chain(c).map(|x| nested_at[x]).sum::<f64>();
    let in_top: Vec<f64> =
        items.iter().zip(&offset).map(|(it, o)| it.group.map_or(0.0, from_top) + o).collect();

    // Vertical coordinates: variables are items (free ones) and clusters (n_items + c).
    let nv = items.len() + clusters_count;
    let var = |s: Slot| match s {
        Slot::Item(i) => i,
        Slot::Cluster(c) => items.len() + c,
    };
    let height = |v: usize| if v < items.len() { items[v].height } else { band[v - items.len()] };
    // Separation constraints: (upper variable, lower variable, least distance between tops).
    let mut constraints: Vec<(usize, usize, f64)> = Vec::new();
    let mut active = vec![false; nv];
    for slots in &order {
        for (k, &s) in slots.iter().enumerate() {
            active[var(s)] = true;
            if k > 0 {
                let a = slots[k - 1];
                constraints.push((var(a), var(s), height(var(a)) + gap(a, s)));
            }
        }
    }
    let topo = {
        let succ = Csr::new(nv, constraints.iter().map(|&(a, b, _)| (a, b)));
        topological(&succ, &active)
    };
    // The relaxation below reads and writes every variable many times: it works on arrays in
    // topological order (`at[v]` is variable `v`'s place), so it walks memory front to back.
    let mut at = vec![usize::MAX; nv];
    for (k, &v) in topo.iter().enumerate() {
        at[v] = k;
    }
    let above = Csr::new(topo.len(), constraints.iter().map(|&(a, b, sep)| (at[b], (at[a], sep))));
    let below = Csr::new(topo.len(), constraints.iter().map(|&(a, b, sep)| (at[a], (at[b], sep))));
    drop(constraints);
    // What pulls each variable: the centres of the neighbours of an item; for a boundary, those
    // of its members' neighbours outside it, one wish per member (see `Wish`).
    let pull = |o: usize| match items[o].cluster {
        Some(c) => Pull { at: at[items.len() + c], offset: in_top[o], half: items[o].height / 2.0 },
        None => Pull { at: at[o], offset: 0.0, half: items[o].height / 2.0 },
    };
    let mut cluster_items: Vec<Vec<usize>> = vec![Vec::new(); clusters_count];
    for (i, item) in items.iter().enumerate() {
        if let Some(c) = item.cluster {
            cluster_items[c].push(i);
        }
    }
    let mut wishes: Csr<Wish> = Csr::default();
    let mut pulls: Csr<Pull> = Csr::default();
    for &v in &topo {
        if v < items.len() {
            wishes.push_list([Wish { offset: 0.0, half: items[v].height / 2.0 }]);
            pulls.push_list(up.of(v).iter().chain(down.of(v)).map(|&m| pull(m)));
        } else {
            let c = v - items.len();
            let members = &cluster_items[c];
            wishes
                .push_list(members.iter().map(|&m| Wish { offset: in_top[m], half: items[m].height / 2.0 }));
            for &m in members {
                let outside = up.of(m).iter().chain(down.of(m)).filter(|&&o| items[o].cluster != Some(c));
                pulls.push_list(outside.map(|&o| pull(o)));
            }
        }
    }
    let desired = |y: &[f64], k: usize| -> Option<f64> {
        let (mut sum, mut count) = (0.0, 0usize);
        for w in wishes.range(k) {
            let wish = wishes.list[w];
            let centres = pulls.of(w).iter().map(|p| y[p.at] + p.offset + p.half);
            let (s, n) = centres.fold((0.0, 0usize), |(s, n), centre| (s + centre, n + 1));
            if n > 0 {
                sum += s / n as f64 - wish.offset - wish.half;
                count += 1;
            }
        }
        (count > 0).then(|| sum / count as f64)
    };
    let mut placed = vec![0.0f64; topo.len()];
    for k in 0..topo.len() {
        placed[k] = above.of(k).iter().map(|&(p, sep)| placed[p] + sep).fold(0.0, f64::max);
    }
    // A box without neighbours has no wish of its own: it packs against the box before it
    // (down pass) or after it (up pass), so it leaves no gap.
    for _ in 0..RELAXATIONS {
        for k in 0..placed.len() {
            let lower = above.of(k).iter().map(|&(p, sep)| placed[p] + sep).fold(f64::NEG_INFINITY, f64::max);
            let want = match desired(&placed, k) {
                Some(d) => placed[k].max(d),
                None if lower.is_finite() => lower,
                None => placed[k],
            };
            placed[k] = want.max(lower);
        }
        for k in (0..placed.len()).rev() {
            let upper = below.of(k).iter().map(|&(s, sep)| placed[s] - sep).fold(f64::INFINITY, f64::min);
            let want = match desired(&placed, k) {
                Some(d) => placed[k].min(d),
                None if upper.is_finite() => upper,
                None => placed[k],
            };
            placed[k] = want.min(upper);
        }
    }
    let mut y = vec![0.0f64; nv];
    for (k, &v) in topo.iter().enumerate() {
        y[v] = placed[k];
    }
    let top = topo.iter().map(|&v| y[v]).fold(f64::INFINITY, f64::min);
    let shift = if top.is_finite() { MARGIN - top } else { 0.0 };
    for v in &mut y {
        *v = (*v + shift).round();
    }

    // Boxes. Each cluster's top is its parent's top plus its offset, outermost first, and a box
    // is placed from its innermost cluster's top: each sum then rounds the way the test of its
    // containment does, so a box is inside its cluster exactly.
    let mut outer_first: Vec<usize> = (0..clusters_count).collect();
    outer_first.sort_by_key(|&c| nesting.depth[c]);
    let mut cluster_top = vec![0.0f64; clusters_count];
    for c in outer_first {
        cluster_top[c] = match nesting.parent[c] {
            None => y[items.len() + c],
            Some(p) => cluster_top[p] + nested_at[c],
        };
    }
    let item_rect = |i: usize| {
        let it = &items[i];
        let top = match it.cluster {
            Some(c) => cluster_top[it.group.unwrap_or(c)] + offset[i],
            None => y[i],
        };
        Rect {
            x: col_x[it.rank] + (col_w[it.rank] - it.width) / 2.0,
            y: top,
            width: it.width,
            height: it.height,
        }
    };
    let mut nodes = nodes;
    for (i, node) in nodes.iter_mut().enumerate() {
        node.rect = item_rect(i);
    }
    let clusters: Vec<Option<ClusterBox>> = (0..clusters_count)
        .map(|c| {
            span[c]?;
            let (left, right) = cluster_rect_x[c];
            let (title_lines, title_height) = titles[c].clone();
            let rect = Rect { x: left, y: cluster_top[c], width: right - left, height: band[c] };
            Some(ClusterBox { rect, title_lines, title_height: CLUSTER_PAD_TOP + title_height })
        })
        .collect();

    // Routes (those below the drawing get their points once the rest is placed).
    let mut routes = Vec::with_capacity(groups.len());
    for ((g, plan), lines) in groups.iter().zip(&plans).zip(label_lines) {
        let (points, label_box) = match plan {
            Plan::Below { .. } => (Vec::new(), None),
            Plan::SelfLoop => {
                let r = nodes[g.from].rect;
                let (x0, x1, cy) = (r.right(), r.right() + 16.0, r.center_y());
                let points = vec![
                    Point { x: x0, y: cy - 6.0 },
                    Point { x: x1, y: cy - 6.0 },
                    Point { x: x1, y: cy + 6.0 },
                    Point { x: x0, y: cy + 6.0 },
                ];
                (points, None)
            }
            Plan::Through { chain, label_item, flip } => {
                let mut points: Vec<Point> = Vec::with_capacity(chain.len() * 2);
                for (k, &i) in chain.iter().enumerate() {
                    let rect = item_rect(i);
                    let cy = rect.center_y();
                    let r = items[i].rank;
                    let (left, right) = (col_x[r], col_x[r] + col_w[r]);
                    let (enter, leave) = if k == 0 {
                        (rect.right(), right)
                    } else if k + 1 == chain.len() {
                        (left, rect.x)
                    } else {
                        (left, right)
                    };
                    for x in [enter, leave] {
                        let p = Point { x, y: cy };
                        if points.last() != Some(&p) {
                            points.push(p);
                        }
                    }
                }
                if *flip {
                    points.reverse();
                }
                let label_box = (!lines.is_empty()).then(|| item_rect(*label_item));
                (points, label_box)
            }
        };
        routes.push(Route {
            from: g.from,
            to: g.to,
            arrow_start: g.arrow_start,
            arrow_end: g.arrow_end,
            flows: g.flows,
            proposed: g.proposed,
            labels: g.labels.clone(),
            label_lines: lines,
            label_box,
            points,
        });
    }

    // Canvas and legend.
    let (_, bottom) = extent(&nodes, &clusters, &routes);
    let columns = Columns { x: &col_x, width: &col_w, rank: &node_rank };
    route_below(&plans, &mut routes, &nodes, &columns, bottom + LANE_GAP);
    let (right, bottom) = extent(&nodes, &clusters, &routes);
    let note = (work.routed_below > 0).then(|| {
        format!(
            "{} of {} flow routes cross more than {} column{}: drawn in lanes below (layout budget); \
             a scope draws them in place",
            work.routed_below,
            routes.len(),
            work.longest_kept,
            if work.longest_kept == 1 { "" } else { "s" }
        )
    });
    let groups = dfd.boundaries.iter().any(|b| b.component);
    let extra = [groups.then_some(look::LEGEND_GROUP), dfd.has_proposed().then_some(look::LEGEND_PROPOSED)];
    let legend = legend_box(MARGIN, if n == 0 { MARGIN } else { bottom + 28.0 }, note, extra);
    let width = (right.max(legend.rect.right()) + MARGIN).ceil();
    let height = (legend.rect.bottom() + MARGIN).ceil();
    Layout { width, height, nodes, clusters, routes, legend, work }
}

/// The right and bottom edges of everything placed (at least [`MARGIN`]).
fn extent(nodes: &[NodeBox], clusters: &[Option<ClusterBox>], routes: &[Route]) -> (f64, f64) {
    let mut right = MARGIN;
    let mut bottom = MARGIN;
    for rect in nodes.iter().map(|n| n.rect).chain(clusters.iter().flatten().map(|c| c.rect)) {
        right = right.max(rect.right());
        bottom = bottom.max(rect.bottom());
    }
    for route in routes {
        for p in &route.points {
            right = right.max(p.x);
            bottom = bottom.max(p.y);
        }
        if let Some(b) = route.label_box {
            right = right.max(b.right());
            bottom = bottom.max(b.bottom());
        }
    }
    (right, bottom)
}

/// The most columns a route may cross and still be drawn through them: routes are kept
/// shortest first, all of one length or none, while their dummies (one per column crossed)
/// total at most `budget`; routes crossing a single column are always kept.
fn longest_within_budget(crossed: impl Iterator<Item = usize>, budget: usize) -> usize {
    let mut crossed: Vec<usize> = crossed.collect();
    crossed.sort_unstable();
    let (mut total, mut longest) = (0usize, 1usize);
    for same in crossed.chunk_by(|a, b| a == b) {
        let length = same[0];
        let cost = length.saturating_mul(same.len());
        if length > 1 && total.saturating_add(cost) > budget {
            break;
        }
        total += cost;
        longest = length;
    }
    longest
}

/// Where the columns are: left edge and width per column, and each node's column.
struct Columns<'a> {
    x: &'a [f64],
    width: &'a [f64],
    rank: &'a [usize],
}

/// Draws the routes planned [`Plan::Below`] in lanes starting at `top` (see the module docs'
/// *Work budget*): fewest lanes by interval partitioning, each as high as its tallest label.
fn route_below(plans: &[Plan], routes: &mut [Route], nodes: &[NodeBox], columns: &Columns<'_>, top: f64) {
    // Per route below: its index, the gap middles it runs between, its label box size, and
    // the horizontal extent it takes on its lane.
    struct Run {
        route: usize,
        out_x: f64,
        in_x: f64,
        label: (f64, f64),
        extent: (f64, f64),
    }
    let mut runs: Vec<Run> = Vec::new();
    for (k, plan) in plans.iter().enumerate() {
        let Plan::Below { upper, lower, .. } = *plan else { continue };
        let (ru, rl) = (columns.rank[upper], columns.rank[lower]);
        let out_x = columns.x[ru] + columns.width[ru] + GAP_X / 2.0;
        let in_x = columns.x[rl] - GAP_X / 2.0;
        let label = label_size(&routes[k].label_lines);
        let left = (out_x + in_x - label.0) / 2.0;
        let extent = (out_x.min(left), in_x.max(left + label.0) + LANE_SPACING);
        runs.push(Run { route: k, out_x, in_x, label, extent });
    }
    // Extents are finite and not negative: their bit patterns order as they do.
    runs.sort_unstable_by_key(|r| (r.extent.0.to_bits(), r.route));
    let mut lane_of = Vec::with_capacity(runs.len());
    let mut lane_height: Vec<f64> = Vec::new();
    let mut free_from: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    for run in &runs {
        let lane = match free_from.peek() {
            Some(&Reverse((end, lane))) if f64::from_bits(end) <= run.extent.0 => {
                free_from.pop();
                lane
            }
            _ => {
                lane_height.push(0.0);
                lane_height.len() - 1
            }
        };
        lane_height[lane] = lane_height[lane].max(run.label.1);
        free_from.push(Reverse((run.extent.1.to_bits(), lane)));
        lane_of.push(lane);
    }
    let mut lane_middle = Vec::with_capacity(lane_height.len());
    let mut y = top;
    for h in &lane_height {
        lane_middle.push((y + h / 2.0).round());
        y += h + LANE_GAP;
    }
    for (run, lane) in runs.iter().zip(lane_of) {
        let Plan::Below { upper, lower, flip } = plans[run.route] else {
            unreachable!("runs are built from Below plans")
        };
        let (from, to) = (nodes[upper].rect, nodes[lower].rect);
        let middle = lane_middle[lane];
        let corners = [
            (from.right(), from.center_y()),
            (run.out_x, from.center_y()),
            (run.out_x, middle),
            (run.in_x, middle),
            (run.in_x, to.center_y()),
            (to.x, to.center_y()),
        ];
        let route = &mut routes[run.route];
        route.points = corners.into_iter().map(|(x, y)| Point { x, y }).collect();
        if flip {
            route.points.reverse();
        }
        let (width, height) = run.label;
        route.label_box = (!route.label_lines.is_empty()).then(|| Rect {
            x: (run.out_x + run.in_x - width) / 2.0,
            y: middle - height / 2.0,
            width,
            height,
        });
    }
}

/// Width and height of the box holding a route's label lines (a 2 px sliver when empty).
fn label_size(lines: &[String]) -> (f64, f64) {
    if lines.is_empty() {
        return (0.0, 2.0);
    }
    let w = lines.iter().map(|l| text_width(l, EDGE_FONT)).fold(0.0, f64::max);
    ((w + 2.0 * LABEL_PAD).ceil(), (lines.len() as f64 * line_height(EDGE_FONT) + 2.0 * LABEL_PAD).ceil())
}

/// Flows merged per direction, in model order of their first flow: `a -> b` flows make one
/// route, `b -> a` flows another, and two-way flows between the two a third, so a reader sees
/// which way each flow goes.
fn merge_flows(dfd: &Dfd) -> Vec<Group> {
    let index: BTreeMap<&str, usize> =
        dfd.nodes.iter().enumerate().rev().map(|(i, n)| (n.id.as_str(), i)).collect();
    let mut groups: Vec<Group> = Vec::new();
    let mut by_way: BTreeMap<(usize, usize, bool, bool), usize> = BTreeMap::new();
    // Labels already on a route: 10,000 distinct long labels on one pair must not be compared
    // with each other one by one.
    let mut labelled: BTreeSet<(usize, String)> = BTreeSet::new();
    for edge in &dfd.edges {
        let (Some(&a), Some(&b)) = (index.get(edge.from.as_str()), index.get(edge.to.as_str())) else {
            continue;
        };
        let way = if edge.two_way {
            (a.min(b), a.max(b), true, edge.proposed)
        } else {
            (a, b, false, edge.proposed)
        };
        let k = *by_way.entry(way).or_insert_with(|| {
            groups.push(Group {
                from: a,
                to: b,
                arrow_start: edge.two_way,
                arrow_end: true,
                flows: 0,
                proposed: edge.proposed,
                labels: vec![],
            });
            groups.len() - 1
        });
        let g = &mut groups[k];
        g.flows += 1;
        if let Some(label) = &edge.label {
            let label = display_text(label).trim().to_string();
            if !label.is_empty() && labelled.insert((k, label.clone())) {
                g.labels.push(label);
            }
        }
    }
    groups
}

/// The label box text of a route (empty when there is nothing to show).
fn route_label(g: &Group) -> Vec<String> {
    let mut lines = Vec::new();
    if g.flows > 1 {
        lines.push(format!("{} flows", g.flows));
    }
    // A lone label may take one more line.
    let per_label = if g.labels.len() == 1 { LABEL_LINES + 1 } else { LABEL_LINES };
    for label in g.labels.iter().take(LABELS_SHOWN) {
        lines.extend(wrap(label, EDGE_FONT, LABEL_TEXT_WIDTH, per_label));
    }
    if g.labels.len() > LABELS_SHOWN {
        lines.push(format!("+{} more", g.labels.len() - LABELS_SHOWN));
    }
    lines
}

/// Node ranks, two levels deep so a boundary stays a compact block: members are ranked by the
/// flows inside their boundary; then boundaries and free nodes are ranked as units, a flow
/// from a member at local rank `la` to one at `lb` asking the second unit to start at least
/// `la + 1 - lb` ranks after the first. Every flow ends up between different ranks; the ones
/// pointing right to left are the ones that closed a cycle.
fn ranks(n: usize, edges: &[(usize, usize)], member: &[Option<usize>], clusters: usize) -> Vec<usize> {
    let inner: Vec<(usize, usize, i64, i64)> = edges
        .iter()
        .filter(|&&(a, b)| member[a].is_some() && member[a] == member[b])
        .map(|&(a, b)| (a, b, 1, 1))
        .collect();
    let local = longest_path(n, &inner);
    let unit = |v: usize| member[v].unwrap_or(clusters + v);
    let outer: Vec<(usize, usize, i64, i64)> = edges
        .iter()
        .filter(|&&(a, b)| unit(a) != unit(b))
        .map(|&(a, b)| {
            let (la, lb) = (local[a] as i64, local[b] as i64);
            (unit(a), unit(b), la + 1 - lb, lb + 1 - la)
        })
        .collect();
    let start = longest_path(clusters + n, &outer);
    let rank: Vec<usize> = (0..n).map(|v| start[unit(v)] + local[v]).collect();
    debug_assert!(edges.iter().all(|&(a, b)| rank[a] != rank[b]), "a flow within one rank");
    rank
}

/// Longest-path ranks of a weighted digraph, from 0: an edge `(a, b, forward, backward)` asks
/// `rank[b] >= rank[a] + forward`, or, when a depth-first search in index order reversed it
/// because it closes a cycle, `rank[a] >= rank[b] + backward`. Sources are then pulled as far
/// right as their successors allow.
fn longest_path(n: usize, edges: &[(usize, usize, i64, i64)]) -> Vec<usize> {
    let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (e, &(a, b, _, _)) in edges.iter().enumerate() {
        out[a].push((b, e));
    }
    let mut state = vec![0u8; n];
    let mut reversed = vec![false; edges.len()];
    for root in 0..n {
        if state[root] != 0 || out[root].is_empty() {
            continue;
        }
        state[root] = 1;
        let mut stack = vec![(root, 0usize)];
        while let Some((v, next)) = stack.last_mut() {
            let v = *v;
            if let Some(&(w, e)) = out[v].get(*next) {
                *next += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => reversed[e] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    let mut succ: Vec<Vec<(usize, i64)>> = vec![Vec::new(); n];
    let mut pred: Vec<Vec<(usize, i64)>> = vec![Vec::new(); n];
    for (e, &(a, b, forward, backward)) in edges.iter().enumerate() {
        let (a, b, w) = if reversed[e] { (b, a, backward) } else { (a, b, forward) };
        succ[a].push((b, w));
        pred[b].push((a, w));
    }
    let mut indeg: Vec<usize> = pred.iter().map(Vec::len).collect();
    let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    let mut topo = Vec::with_capacity(n);
    let mut rank = vec![0i64; n];
    while let Some(v) = queue.pop_front() {
        topo.push(v);
        for &(w, weight) in &succ[v] {
            rank[w] = rank[w].max(rank[v] + weight);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                queue.push_back(w);
            }
        }
    }
    for &v in topo.iter().rev() {
        if pred[v].is_empty()
            && let Some(nearest) = succ[v].iter().map(|&(w, weight)| rank[w] - weight).min()
        {
            rank[v] = rank[v].max(nearest);
        }
    }
    rank.into_iter().map(|r| r.max(0) as usize).collect()
}

/// Wraps crowded ranks onto several columns (see the module docs); returns the new ranks.
fn wrap_ranks(rank: &[usize], top: &[Option<usize>], member: &[Option<usize>]) -> Vec<usize> {
    let n = rank.len();
    let limit = ((2.5 * n as f64).sqrt().ceil() as usize).max(8);
    let mut by_rank: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (v, &r) in rank.iter().enumerate() {
        by_rank.entry(r).or_default().push(v);
    }
    let mut out = vec![0usize; n];
    let mut next = 0;
    for (_, mut vs) in by_rank {
        // Clusters kept together, and nested ones inside them.
        vs.sort_by_key(|&v| (top[v].map_or(usize::MAX, |c| c), member[v].map_or(usize::MAX, |c| c), v));
        let columns = vs.len().div_ceil(limit);
        let per = vs.len().div_ceil(columns);
        for (k, &v) in vs.iter().enumerate() {
            out[v] = next + k / per;
        }
        next += columns;
    }
    out
}

/// Writes the flattened position of every item of one column.
fn flatten(slots: &[Slot], inside: &BTreeMap<usize, Vec<usize>>, pos: &mut [f64]) {
    let mut k = 0.0;
    for s in slots {
        match *s {
            Slot::Item(i) => {
                pos[i] = k;
                k += 1.0;
            }
            Slot::Cluster(c) => {
                for &i in &inside[&c] {
                    pos[i] = k;
                    k += 1.0;
                }
            }
        }
    }
}

/// One barycenter step on column `r` against the neighbours in `adjacent`.
fn reorder(
    r: usize,
    adjacent: &Csr<usize>,
    order: &mut [Vec<Slot>],
    inside: &mut [BTreeMap<usize, Vec<usize>>],
    pos: &mut [f64],
    nest: &Nest<'_>,
) {
    let key = |i: usize| {
        let ns = adjacent.of(i);
        if ns.is_empty() { pos[i] } else { ns.iter().map(|&m| pos[m]).sum::<f64>() / ns.len() as f64 }
    };
    // Keys and positions are finite and not negative, so their bit patterns sort as they do;
    // positions in a column are distinct, so there are no ties and an unstable sort is
    // deterministic.
    let by_key = |k: &(f64, f64, usize)| (k.0.to_bits(), k.1.to_bits());
    // Where each (possibly empty) cluster slot is now.
    let mut slot_at: BTreeMap<usize, f64> = BTreeMap::new();
    let mut k = 0.0;
    for s in &order[r] {
        match *s {
            Slot::Item(_) => k += 1.0,
            Slot::Cluster(c) => {
                slot_at.insert(c, k);
                k += inside[r][&c].len() as f64;
            }
        }
    }
    let mut clusters: Vec<(usize, f64)> = Vec::new();
    for (&c, list) in inside[r].iter_mut() {
        let mut keyed: Vec<(f64, f64, usize)> = list.iter().map(|&i| (key(i), pos[i], i)).collect();
        keyed.sort_unstable_by_key(by_key);
        let ckey = if keyed.is_empty() {
            slot_at[&c] - 0.5
        } else {
            keyed.iter().map(|k| k.0).sum::<f64>() / keyed.len() as f64
        };
        *list = nest.arrange(c, &keyed);
        clusters.push((c, ckey));
    }
    clusters.sort_by_key(|&(c, _)| nest.order[c]);
    let mut free: Vec<(f64, f64, usize)> = order[r]
        .iter()
        .filter_map(|s| match *s {
            Slot::Item(i) => Some((key(i), pos[i], i)),
            Slot::Cluster(_) => None,
        })
        .collect();
    free.sort_unstable_by_key(by_key);
    let mut merged = Vec::with_capacity(order[r].len());
    let (mut a, mut b) = (0, 0);
    while a < free.len() || b < clusters.len() {
        if b == clusters.len() || (a < free.len() && free[a].0 < clusters[b].1) {
            merged.push(Slot::Item(free[a].2));
            a += 1;
        } else {
            merged.push(Slot::Cluster(clusters[b].0));
            b += 1;
        }
    }
    order[r] = merged;
    flatten(&order[r], &inside[r], pos);
}

/// What [`reorder`] needs to keep nested clusters contiguous: how clusters nest, the items'
/// innermost clusters, and the global order of clusters.
struct Nest<'a> {
    nesting: &'a Nesting,
    items: &'a [Item],
    order: &'a [usize],
}

impl Nest<'_> {
    /// [`Nest::arrange`] on every column, keeping each item's place otherwise.
    fn arrange_all(&self, order: &[Vec<Slot>], inside: &mut [BTreeMap<usize, Vec<usize>>], pos: &mut [f64]) {
        for (r, map) in inside.iter_mut().enumerate() {
            for (&c, list) in map.iter_mut() {
                let keyed: Vec<(f64, f64, usize)> =
                    list.iter().enumerate().map(|(k, &i)| (k as f64, k as f64, i)).collect();
                *list = self.arrange(c, &keyed);
            }
            flatten(&order[r], map, pos);
        }
    }

    /// The items of cluster `c` in one column, `keyed` sorted by barycenter, rearranged so that
    /// every nested cluster's items are contiguous: `c`'s own items keep their order, each
    /// nested cluster is one block placed by the mean key of its items, and the blocks keep
    /// the global cluster order (so nested rectangles never cross).
    fn arrange(&self, c: usize, keyed: &[(f64, f64, usize)]) -> Vec<usize> {
        if self.nesting.children[c].is_empty() {
            return keyed.iter().map(|k| k.2).collect();
        }
        let mut own: Vec<(f64, f64, usize)> = Vec::new();
        let mut nested: BTreeMap<usize, Vec<(f64, f64, usize)>> = BTreeMap::new();
        for &k in keyed {
            let group = self.items[k.2].group.unwrap_or(c);
            match self.nesting.chain(group).find(|&x| self.nesting.parent[x] == Some(c)) {
                Some(d) => nested.entry(d).or_default().push(k),
                None => own.push(k),
            }
        }
        let mut blocks: Vec<(usize, f64, Vec<usize>)> = nested
            .into_iter()
            .map(|(d, ks)| {
                let key = ks.iter().map(|k| k.0).sum::<f64>() / ks.len() as f64;
                (self.order[d], key, self.arrange(d, &ks))
            })
            .collect();
        blocks.sort_by_key(|b| b.0);
        let mut out = Vec::with_capacity(keyed.len());
        let (mut a, mut b) = (0, 0);
        while a < own.len() || b < blocks.len() {
            if b == blocks.len() || (a < own.len() && own[a].0 < blocks[b].1) {
                out.push(own[a].2);
                a += 1;
            } else {
                out.extend_from_slice(&blocks[b].2);
                b += 1;
            }
        }
        out
    }
}

/// Cluster `c`'s column `r`, top to bottom: its own items and its nested clusters (one slot
/// each, also where a nested cluster has no item in this column but spans it), read from the
/// column of its outermost cluster (`top_list`, arranged by [`Nest::arrange`]).
fn nested_column(
    c: usize,
    r: usize,
    top_list: &[usize],
    items: &[Item],
    nesting: &Nesting,
    span: &[Option<(usize, usize)>],
    cluster_order: &[usize],
) -> Vec<Slot> {
    let mut column: Vec<Slot> = Vec::new();
    for &i in top_list {
        let Some(group) = items[i].group else { continue };
        if !nesting.chain(group).any(|x| x == c) {
            continue;
        }
        match nesting.chain(group).find(|&x| nesting.parent[x] == Some(c)) {
            None => column.push(Slot::Item(i)),
            // Contiguous after `Nest::arrange`; a cluster is one slot even if it were not.
            Some(d) => {
                if !column.contains(&Slot::Cluster(d)) {
                    column.push(Slot::Cluster(d));
                }
            }
        }
    }
    for &d in &nesting.children[c] {
        let spans = span[d].is_some_and(|(lo, hi)| (lo..=hi).contains(&r));
        if !spans || column.contains(&Slot::Cluster(d)) {
            continue;
        }
        let before =
            column.iter().position(|s| matches!(*s, Slot::Cluster(e) if cluster_order[e] > cluster_order[d]));
        column.insert(before.unwrap_or(column.len()), Slot::Cluster(d));
    }
    column
}

/// Stacks the slots of a cluster holding nested clusters: every column's slots in order, each
/// at least its predecessor's height and gap below it, as high as that allows (a longest
/// path over these separation constraints, which form a DAG because nested clusters keep one
/// order in every column).
#[derive(Default)]
struct Packing {
    /// (upper slot, lower slot, least distance between their tops).
    constraints: Vec<(Slot, Slot, f64)>,
    /// Every slot and its height.
    heights: BTreeMap<SlotKey, (Slot, f64)>,
}

/// A [`Slot`] as an ordered map key.
type SlotKey = (bool, usize);

fn slot_key(s: Slot) -> SlotKey {
    match s {
        Slot::Item(i) => (false, i),
        Slot::Cluster(c) => (true, c),
    }
}

impl Packing {
    fn column(&mut self, column: &[Slot], height: impl Fn(Slot) -> f64, gap: impl Fn(Slot, Slot) -> f64) {
        for (k, &s) in column.iter().enumerate() {
            self.heights.insert(slot_key(s), (s, height(s)));
            if k > 0 {
                let a = column[k - 1];
                self.constraints.push((a, s, height(a) + gap(a, s)));
            }
        }
    }

    /// Each slot's top (from `start`) and the lowest bottom.
    fn pack(&self, start: f64) -> (Vec<(Slot, f64)>, f64) {
        let mut top: BTreeMap<SlotKey, f64> = self.heights.keys().map(|&k| (k, start)).collect();
        let mut indeg: BTreeMap<SlotKey, usize> = self.heights.keys().map(|&k| (k, 0)).collect();
        let mut succ: BTreeMap<SlotKey, Vec<(SlotKey, f64)>> = BTreeMap::new();
        for &(a, b, sep) in &self.constraints {
            succ.entry(slot_key(a)).or_default().push((slot_key(b), sep));
            *indeg.entry(slot_key(b)).or_default() += 1;
        }
        let mut queue: std::collections::VecDeque<SlotKey> =
            indeg.iter().filter(|&(_, &d)| d == 0).map(|(&k, _)| k).collect();
        while let Some(k) = queue.pop_front() {
            for &(w, sep) in succ.get(&k).map_or(&[][..], Vec::as_slice) {
                let at = top[&k] + sep;
                let entry = top.entry(w).or_insert(start);
                *entry = entry.max(at);
                let d = indeg.entry(w).or_default();
                *d -= 1;
                if *d == 0 {
                    queue.push_back(w);
                }
            }
        }
        let bottom = self.heights.iter().map(|(k, &(_, h))| top[k] + h).fold(start, f64::max);
        (self.heights.iter().map(|(k, &(s, _))| (s, top[k])).collect(), bottom)
    }
}

/// The global top-to-bottom order of clusters: by the mean relative position of their items.
fn rank_clusters(
    items: &[Item],
    nesting: &Nesting,
    order: &[Vec<Slot>],
    inside: &[BTreeMap<usize, Vec<usize>>],
    pos: &[f64],
    clusters_count: usize,
) -> Vec<usize> {
    let mut score = vec![(0.0f64, 0usize); clusters_count];
    for (r, map) in inside.iter().enumerate() {
        let size = order[r].len().max(1) as f64 + map.values().map(Vec::len).sum::<usize>() as f64;
        for (&c, list) in map {
            for &i in list {
                debug_assert_eq!(items[i].rank, r);
                // The item counts for its cluster and every cluster around it.
                for x in nesting.chain(items[i].group.unwrap_or(c)) {
                    score[x].0 += pos[i] / size;
                    score[x].1 += 1;
                }
            }
        }
    }
    let mut by_score: Vec<usize> = (0..clusters_count).collect();
    let mean = |c: usize| if score[c].1 == 0 { 0.0 } else { score[c].0 / score[c].1 as f64 };
    by_score.sort_by(|&a, &b| mean(a).total_cmp(&mean(b)).then(a.cmp(&b)));
    let mut rank = vec![0usize; clusters_count];
    for (k, &c) in by_score.iter().enumerate() {
        rank[c] = k;
    }
    rank
}

/// Kahn's algorithm over the separation constraints (a DAG by construction).
fn topological(succ: &Csr<usize>, active: &[bool]) -> Vec<usize> {
    let mut indeg = vec![0usize; active.len()];
    for &w in &succ.list {
        indeg[w] += 1;
    }
    let mut queue: std::collections::VecDeque<usize> =
        (0..active.len()).filter(|&v| active[v] && indeg[v] == 0).collect();
    let mut topo = Vec::new();
    while let Some(v) = queue.pop_front() {
        topo.push(v);
        for &w in succ.of(v) {
            indeg[w] -= 1;
            if indeg[w] == 0 {
                queue.push_back(w);
            }
        }
    }
    debug_assert_eq!(topo.len(), active.iter().filter(|&&a| a).count(), "separation constraints form a DAG");
    topo
}

/// Lists of values per index, in one flat array (compressed sparse rows), each list in the
/// order its values were given. Much cheaper than a `Vec` per index when there are hundreds of
/// thousands of short lists (the dummies of a large diagram).
struct Csr<T> {
    /// List `k` is `list[start[k]..start[k + 1]]`.
    start: Vec<usize>,
    list: Vec<T>,
}

impl<T> Default for Csr<T> {
    fn default() -> Self {
        Csr { start: vec![0], list: Vec::new() }
    }
}

impl<T: Copy + Default> Csr<T> {
    /// `n` lists from `(index, value)` entries (a stable counting sort).
    fn new(n: usize, entries: impl Iterator<Item = (usize, T)> + Clone) -> Csr<T> {
        let mut start = vec![0usize; n + 1];
        for (k, _) in entries.clone() {
            start[k + 1] += 1;
        }
        for k in 0..n {
            start[k + 1] += start[k];
        }
        let mut next = start.clone();
        let mut list = vec![T::default(); start[n]];
        for (k, value) in entries {
            list[next[k]] = value;
            next[k] += 1;
        }
        Csr { start, list }
    }

    /// Appends the next list.
    fn push_list(&mut self, values: impl IntoIterator<Item = T>) {
        self.list.extend(values);
        self.start.push(self.list.len());
    }

    fn range(&self, k: usize) -> std::ops::Range<usize> {
        self.start[k]..self.start[k + 1]
    }

    fn of(&self, k: usize) -> &[T] {
        &self.list[self.range(k)]
    }
}

/// The centre of a box a variable is pulled toward: `y[at] + offset + half`.
#[derive(Clone, Copy, Default)]
struct Pull {
    at: usize,
    offset: f64,
    half: f64,
}

/// One wish of a variable: the mean of its pulls (a list of the same index in `pulls`) is
/// where the centre of a box lying `offset` below the variable's top and `half` high should be.
/// A variable's desired top is the mean over its wishes that have pulls.
#[derive(Clone, Copy, Default)]
struct Wish {
    offset: f64,
    half: f64,
}

/// The legend at (`x`, `y`): title, shape samples in a row, then the text lines.
fn legend_box(x: f64, y: f64, note: Option<String>, extra: [Option<&'static str>; 2]) -> LegendBox {
    let pad = 10.0;
    let row = line_height(LEGEND_FONT);
    let title = Point { x: x + pad, y: y + pad + LEGEND_FONT };
    let mut shapes = Vec::new();
    let sample_y = y + pad + row + 8.0;
    let mut cx = x + pad;
    for (kind, caption) in LEGEND_SHAPES {
        let sample = Rect { x: cx, y: sample_y, width: 34.0, height: 24.0 };
        let text = Point { x: cx + 40.0, y: sample_y + 12.0 + LEGEND_FONT * 0.35 };
        shapes.push((kind, caption, sample, text));
        cx += 40.0 + text_width(caption, LEGEND_FONT) + 18.0;
    }
    let mut lines = Vec::new();
    let mut ly = sample_y + 24.0 + 8.0;
    let mut widest = cx - x - 18.0 + pad;
    for line in LEGEND_LINES.into_iter().chain(extra.into_iter().flatten()) {
        ly += row;
        lines.push((line, Point { x: x + pad, y: ly }));
        widest = widest.max(text_width(line, LEGEND_FONT) + 2.0 * pad);
    }
    let note = note.map(|text| {
        ly += row;
        widest = widest.max(text_width(&text, LEGEND_FONT) + 2.0 * pad);
        (text, Point { x: x + pad, y: ly })
    });
    let rect = Rect { x, y, width: widest.ceil(), height: (ly - y + pad).ceil() };
    LegendBox { rect, title, shapes, lines, note }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::dfd::{BoundaryGroup, Edge, Node, ThreatStatus};

    fn node(id: &str, label: &str, boundary: Option<&str>) -> Node {
        Node {
            id: id.into(),
            key: id.into(),
            label: label.into(),
            kind: ElementKind::Process,
            boundary: boundary.map(Into::into),
            status: ThreatStatus::default(),
            ..Default::default()
        }
    }

    fn edge(from: &str, to: &str, label: Option<&str>, two_way: bool) -> Edge {
        Edge { from: from.into(), to: to.into(), label: label.map(Into::into), two_way, proposed: false }
    }

    /// a -> b -> c -> a (a cycle), b and c in one boundary, d alone, a self-loop on d.
    fn small() -> Dfd {
        Dfd {
            nodes: vec![
                node("n_a", "A", None),
                node("n_b", "B", Some("b_x")),
                node("n_c", "C with a rather long label that must wrap onto lines", Some("b_x")),
                node("n_d", "D", None),
            ],
            edges: vec![
                edge("n_a", "n_b", Some("HTTPS"), false),
                edge("n_b", "n_c", None, false),
                edge("n_c", "n_a", Some("TLS"), false),
                edge("n_d", "n_d", Some("loop"), false),
            ],
            boundaries: vec![BoundaryGroup {
                id: "b_x".into(),
                key: "x".into(),
                title: "X".into(),
                members: vec!["n_b".into(), "n_c".into()],
                legacy: false,
                ..BoundaryGroup::default()
            }],
        }
    }

    #[test]
    fn small_diagram_keeps_the_guarantees() {
        let dfd = small();
        let l = layout(&dfd);
        assert_eq!(l.violations(&dfd), Vec::<String>::new());
        assert_eq!(l.nodes.len(), 4);
        assert_eq!(l.routes.len(), 4);
        // Flows run left to right inside the boundary: B before C.
        assert!(l.nodes[1].rect.right() < l.nodes[2].rect.x, "{:?}", l.nodes);
        // Exactly one flow of the cycle runs right to left, and it still ends on its target.
        let leftward: Vec<&Route> =
            l.routes[..3].iter().filter(|r| r.points[0].x > r.points.last().unwrap().x).collect();
        assert_eq!(leftward.len(), 1, "{:?}", l.routes);
        let back = leftward[0];
        let last = back.points.last().unwrap();
        assert!((last.x - l.nodes[back.to].rect.right()).abs() < 1e-9, "{back:?}");
        assert!(l.nodes[2].lines.len() > 1, "{:?}", l.nodes[2].lines);
        // Self-loop: drawn beside the node, no label box.
        assert_eq!(l.routes[3].from, 3);
        assert!(l.routes[3].label_box.is_none());
    }

    #[test]
    fn parallel_flows_merge_per_direction() {
        let dfd = Dfd {
            nodes: vec![node("n_a", "A", None), node("n_b", "B", None)],
            edges: vec![
                edge("n_a", "n_b", Some("HTTPS"), false),
                edge("n_a", "n_b", Some("gRPC"), false),
                edge("n_b", "n_a", Some("HTTPS"), false),
                edge("n_a", "n_b", Some("sync"), true),
                edge("n_b", "n_a", None, true),
            ],
            boundaries: vec![],
        };
        let l = layout(&dfd);
        assert!(l.violations(&dfd).is_empty(), "{:?}", l.violations(&dfd));
        let got: Vec<_> = l
            .routes
            .iter()
            .map(|r| (r.from, r.to, r.flows, r.arrow_start, r.arrow_end, r.label_lines.clone()))
            .collect();
        let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            got,
            [
                (0, 1, 2, false, true, lines(&["2 flows", "HTTPS", "gRPC"])),
                (1, 0, 1, false, true, lines(&["HTTPS"])),
                (0, 1, 2, true, true, lines(&["2 flows", "sync"])),
            ]
        );
    }

    #[test]
    fn wrapping_breaks_at_separators_and_cuts_with_an_ellipsis() {
        assert_eq!(wrap("Webshop:Worker:Payments", 13.0, 110.0, 3), ["Webshop:Worker:", "Payments"]);
        let long = wrap(&"word ".repeat(40), 11.0, 100.0, 2);
        assert_eq!(long.len(), 2);
        assert!(long[1].ends_with('…'), "{long:?}");
        assert!(long.iter().all(|l| text_width(l, 11.0) <= 100.0), "{long:?}");
        assert_eq!(wrap("a\u{0}b\nc\u{202e}d", 13.0, 500.0, 1), ["ab c d"]);
        // A single unbreakable word is split by characters.
        let split = wrap(&"x".repeat(60), 13.0, 100.0, 5);
        assert!(split.len() > 1 && split.iter().all(|l| text_width(l, 13.0) <= 100.0), "{split:?}");
    }

    #[test]
    fn layout_is_deterministic_and_empty_diagrams_work() {
        let dfd = small();
        assert_eq!(layout(&dfd), layout(&dfd.clone()));
        let empty = layout(&Dfd::default());
        assert!(empty.nodes.is_empty() && empty.width > 0.0 && empty.height > 0.0);
        assert!(empty.violations(&Dfd::default()).is_empty());
    }

    #[test]
    fn crowded_ranks_wrap_into_columns() {
        let nodes: Vec<Node> = (0..200).map(|i| node(&format!("n_{i:03}"), "Component", None)).collect();
        let dfd = Dfd { nodes, edges: vec![], boundaries: vec![] };
        let l = layout(&dfd);
        assert!(l.violations(&dfd).is_empty());
        let columns: std::collections::BTreeSet<i64> = l.nodes.iter().map(|n| n.rect.x as i64).collect();
        assert!(columns.len() >= 8, "{} columns", columns.len());
        assert!(l.height < 2.0 * l.width, "{} x {}", l.width, l.height);
    }

    #[test]
    fn the_budget_keeps_the_shortest_routes_one_length_at_a_time() {
        let crossed = [1, 1, 1, 3, 3, 5, 9];
        assert_eq!(longest_within_budget(crossed.into_iter(), 100), 9);
        assert_eq!(longest_within_budget(crossed.into_iter(), 14), 5);
        assert_eq!(longest_within_budget(crossed.into_iter(), 13), 3);
        // Both routes of length 3 or neither.
        assert_eq!(longest_within_budget(crossed.into_iter(), 8), 1);
        // Routes crossing one column stay, whatever the budget.
        assert_eq!(longest_within_budget(crossed.into_iter(), 0), 1);
        assert_eq!(longest_within_budget([usize::MAX, usize::MAX].into_iter(), usize::MAX - 1), 1);
    }

    #[test]
    fn routes_over_the_budget_run_in_lanes_below() {
        // A chain a -> b -> c -> d -> e and three flows from a to the far end.
        let mut dfd = Dfd {
            nodes: ["a", "b", "c", "d", "e"].map(|id| node(&format!("n_{id}"), id, None)).to_vec(),
            ..Dfd::default()
        };
        for (from, to) in [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("a", "e"), ("a", "d")] {
            dfd.edges.push(edge(&format!("n_{from}"), &format!("n_{to}"), Some("HTTPS"), false));
        }
        dfd.edges.push(edge("n_e", "n_b", Some("back"), false));
        let whole = layout(&dfd);
        assert_eq!(whole.work, Work { dummies: 4 + 7 + 5 + 5, routed_below: 0, longest_kept: 7 });
        assert!(whole.legend.note.is_none());
        let l = layout_within(&dfd, 4);
        assert_eq!(l.work, Work { dummies: 4, routed_below: 3, longest_kept: 1 });
        assert_eq!(l.violations(&dfd), Vec::<String>::new());
        let lowest_node = l.nodes.iter().map(|n| n.rect.bottom()).fold(0.0, f64::max);
        for route in &l.routes[4..] {
            // Out of the first node, down to a lane under every node, along it and up.
            assert_eq!(route.points.len(), 6, "{route:?}");
            let lane = route.points[2].y;
            assert!(lane > lowest_node && route.points[3].y == lane, "{route:?}");
            let label = route.label_box.expect("labelled");
            assert!(label.y > lowest_node && label.center_y() == lane, "{route:?}");
        }
        // The route from e back to b starts on e's left side.
        let back = &l.routes[6];
        assert_eq!((back.from, back.points[0].x), (4, l.nodes[4].rect.x));
        // The three overlap, so each has its lane and no label boxes overlap.
        let boxes: Vec<Rect> = l.routes[4..].iter().filter_map(|r| r.label_box).collect();
        assert!(
            !boxes[0].overlaps(&boxes[1]) && !boxes[1].overlaps(&boxes[2]) && !boxes[0].overlaps(&boxes[2])
        );
        let note = &l.legend.note.as_ref().expect("a note").0;
        assert!(note.starts_with("3 of 7 flow routes cross more than 1 column:"), "{note}");
        assert_eq!(l, layout_within(&dfd.clone(), 4));
    }

    #[test]
    fn violations_are_reported() {
        let dfd = small();
        let mut l = layout(&dfd);
        l.nodes[3].rect = l.nodes[1].rect;
        let found = l.violations(&dfd);
        assert!(
            found.iter().any(|v| v.contains("n_b and n_d overlap") || v.contains("n_d and n_b")),
            "{found:?}"
        );
        assert!(found.iter().any(|v| v.contains("n_d overlaps boundary")), "{found:?}");
    }
}
