//! The data-flow diagram *model*: which elements, flows and trust boundaries a diagram shows,
//! built from the project index and its analysis. Pure: no I/O, no output syntax (the Mermaid
//! text is [`super::mermaid`]'s job, and any other format can render the same [`Dfd`]).
//!
//! Owns: the rules below (what becomes a node, its element kind, its trust boundary, its threat
//! status, and what a [`Scope`] keeps). Must never: trust the text of a label (renderers escape
//! it), or put annotation text into an id.
//!
//! # Nodes
//!
//! A node is one *node key*: an asset's path key, or for an actor `path_key(display name)`
//! (`@actor Support Agent (#support-agent)` -> `support_agent`), so an actor and an asset of the
//! same name (`@actor Customer` and `@flows Customer -> Shop.Web`) are one node. Nodes are:
//! - every asset named by a definition (`@asset`/`@component`, legacy `@alias component`), a
//!   flow (`@flows`/`@connects`), `@exposes`, `@mitigates`, `@confirmed`, `@accepts`,
//!   `@transfers` (both sides) or a `@boundary` side. Assets named only by lifecycle verbs
//!   (`@audit`, `@owns`, `@handles`, `@validates`, `@assumes`, `@entitles ... on`) are not
//!   nodes by themselves;
//! - every actor the project names (definition or reference).
//!
//! Arguments that resolve to nothing (dangling `#id`) or to a threat/control/boundary are
//! skipped, and so is a flow with such an end.
//!
//! The label is [`ProjectIndex::display_name`] of the asset (else of the actor); for an asset
//! nobody declares (which would show its normalised key) it is the first spelling written in
//! the project, in file-path order (for legacy `@b:@c`, the `c`: the cluster shows `b`).
//!
//! The repository's MCP surface adds its own elements (`mcp_elements`): the agent (an actor,
//! "AI agent (MCP client)"), each configured MCP server and each file that defines MCP tools
//! (processes inside the `agent (MCP)` trust boundary), and a flow from the agent to each,
//! labelled with its transport and tool names ([`crate::analysis::mcp_surface::processes`]).
//!
//! # Element kind (Actor, Process, DataStore)
//!
//! Read from the *label's last path segment* (after the last `.` or `:`), split into words at
//! every non-alphanumeric character and at lower/digit-to-upper camel-case steps (`OrdersDb` ->
//! `orders`, `db`), lowercased; a keyword also matches its plural in `s` (`Buckets`).
//! Whole words are compared, never substrings (`Bookstore` and `Feedback` are processes).
//! 1. **Actor** when the node is an actor (`@actor`, also when merged with an asset) or an
//!    external entity (a qualified `#repo.id` of a repository outside the project), or it
//!    lies in a legacy boundary (`@b:@c`, first segment `b`) one of whose words is `internet`,
//!    `external` or `user`, or its *last* word (the head noun) is one of `user`, `customer`,
//!    `browser`, `client`, `admin`, `administrator`, `staff`, `attacker`, `external`,
//!    `internet` (the far side of `@boundary between Internet and Shop.Web`). Only the
//!    head noun counts, so `Legacy Admin Panel` and `User Service` stay processes while
//!    `Staff Browser` is an actor.
//! 2. **DataStore** when *any* word is one of `db`, `database`, `store`, `storage`, `bucket`,
//!    `queue`, `cache`, `redis`, `postgres`, `postgresql`, `mysql`, `s3`, `table`, `disk`,
//!    `filesystem`, `vault`, `ledger` (`Shop.Db`, `Redis Sessions`, `S3 Exports`).
//! 3. **Process** otherwise. Data classification (`@handles`) plays no part.
//!
//! # Trust boundaries
//!
//! A node is in at most one trust boundary (boundaries do not nest; component groups, below,
//! nest inside each other but never inside or around a boundary):
//! 1. **Legacy boundaries.** A node key with at least two segments whose first segment is a
//!    legacy boundary (the `b` of any `@b:@c` reference, or an `@alias boundary @b` /
//!    `@describe boundary @b`, compared as normalised names) is in boundary `b`, titled with
//!    the alias name (`@alias boundary @dmz to DMZ` -> "DMZ") or else `b`. This also puts
//!    ThreatSpec colon paths such as `Dmz:Admin` in `dmz` once `dmz` is a legacy boundary.
//! 2. **GAL boundaries.** `@boundary between A and B (#id)`, `@boundary A | B (#id)` and
//!    `@boundary from A to B (#id)` draw a cluster `id` around **the inner side**, and every
//!    descendant of it (`Shop.Api.Orders` is inside a boundary drawn around `Shop.Api`); the
//!    outer side stays outside. The inner side is B when directed; when undirected, the only
//!    side an `@asset` declares if exactly one is (the undeclared one, an outside client, is
//!    outside), else B, the second as written ([`crate::analysis::boundary_orientation`]). The
//!    nearest side wins: a node that is itself an inner side uses its own boundary before an
//!    ancestor's; if several boundaries have the same inner side, the smallest id wins. Without an
//!    `(#id)` the boundary's key is `<A key>|<B key>`. The title is the boundary's
//!    description (`-- "Database network"`) else its sides as written (`A | B`), followed by
//!    ` (#id)` when it has an id: `Database network (#data-tier)`, `Shop.Web | Shop.Api
//!    (#internet-edge)`, so a reader sees what the boundary separates, not only its id.
//!
//! Boundaries without a member in the diagram are left out.
//!
//! # Component groups (ThreatSpec colon paths)
//!
//! A ThreatSpec component path names its parents: `CalcApp:Web:Server` is `Server` inside
//! `Web` inside `CalcApp`. Every node of the diagram written somewhere as a colon path (a name
//! containing `:`, not a legacy `@b:@c`) and placed in no trust boundary makes a *component
//! group* of each proper prefix of its path (`calcapp`, `calcapp.web`), titled with the prefix
//! as first written (`CalcApp:Web`) and nested like the paths ([`BoundaryGroup::parent`]). A
//! node no trust boundary places lies in the deepest group that is its own path or a prefix of
//! it, so `CalcApp:Web` itself is drawn inside the `CalcApp:Web` group next to its parts.
//!
//! **A trust boundary wins.** A node a boundary places (rules 1 and 2 above) stays in that
//! boundary and in no group, and makes no group: a boundary is a statement about trust, a path
//! only about naming. Groups are never drawn inside or around a boundary.
//!
//! GAL dotted paths (`Shop.Api.Orders`) make no groups: a GAL project draws its zones with
//! `@boundary`, GuardLink's own diagrams group by boundary only, and on `examples/webshop` a
//! `Shop` box would cut across the `#internet-edge` and `#data-tier` boundaries, reading as a
//! trust zone that nobody declared. (A dotted node still joins a group a colon path made:
//! `Shop.Api` and `Shop:Api` are one component.)
//!
//! # Edges
//!
//! One per `@flows A -> B` / `@connects A to B` (`<->` and `with` are two-way), labelled with
//! the GAL mechanism (`via HTTPS`), else the ThreatSpec details (`with ...`), else the legacy
//! name (`as ...`). Identical edges (same ends, label and direction) are drawn once.
//!
//! # Threat status
//!
//! Per node, counted as *distinct threats* (two `@exposes` of one asset to one threat count
//! once): `open` exposures (an `@exposes A to T` that no `@mitigates`, `@accepts` or
//! `@transfers ... from` on A or an ancestor of A covers: [`Analysis::coverage`], the one rule), `confirmed`
//! findings, `mitigated`, `accepted` and `transferred` (from the node; legacy `@transfers T to
//! @b:@c` counts on `b.c`, as in the analysis). Dangling threats are not counted.
//!
//! "Open" is the analysis' one coverage rule (`Analysis::coverage`), asked once per exposure.
//!
//! The open exposures and confirmed findings are also listed by name ([`Node::threats`]):
//! the threat's display name and its effective severity
//! ([`Analysis::exposure_severity`]: the exposure's own `[severity]`, else the threat's), the
//! highest of the node's annotations on that threat, in the author's word (`P0` stays `P0`).
//! Sorted worst first: severity (unrated last), findings before exposures, then name.
//!
//! # Data classification
//!
//! `@handles <class> on A` lists `class` on A's node ([`Node::handles`]; the asset's own
//! annotations only, not an ancestor's), each class once (compared ignoring ASCII case), in
//! file-path order. It does not make A a node by itself.
//!
//! # Scopes
//!
//! - [`Scope::Project`]: every node and edge.
//! - [`Scope::Boundary`]: the boundary's members (matched by key, `#key`, or normalised key or
//!   title) plus the nodes one flow away from them, and the flows touching a member (so the
//!   flows crossing the boundary show). An unknown boundary gives an empty diagram.
//! - [`Scope::Component`]: the component (a path, or `#id`), its sub-components (`Shop.Api`
//!   includes `Shop.Api.Orders`), their direct neighbours, and the flows touching the component
//!   or a sub-component.
//! - [`Scope::File`]: the nodes the file's annotations name and the flows the file declares.
//!
//! In every scope statuses and boundaries are computed from the whole project.
//!
//! # Ids and order
//!
//! Node ids are `n_` + the key with `.` written as `__` when the key is plain (segments of
//! `[a-z0-9_]`, as normalised names usually are): `shop.api.orders` -> `n_shop__api__orders`,
//! which is one-to-one. Any other key gets `nh_` + a lossy ASCII form (`_` runs collapsed, at
//! most 32 characters) + `_` + a 64-bit FNV-1a hash of the key. Boundary ids are the same with
//! `b_` / `bh_`, component group ids with `g_` / `gh_` (from the group's path key), boundaries the
//! infrastructure baseline proposes `pb_` / `pbh_` (from the baseline's key). No annotation text
//! ever reaches an id unescaped. Nodes are sorted by id, edges
//! by (from, to, label, direction), boundaries by id and their members by id: the
//! same `Dfd` whatever order its files were read in.

use crate::analysis::StatedSeverity;
use crate::analysis::{Analysis, Arg, Relation, boundary_orientation, boundary_sides};
use crate::file_id::FileId;
use crate::model::names::{ancestors, normalize_name, path_key};
use crate::model::{EntityKey, FileFacts, Lookup, ProjectIndex, Resolved};
use crate::syntax::{Body, EntityKind, RefForm, Severity};
use std::collections::{BTreeMap, BTreeSet};

/// The element kinds of a data-flow diagram (STRIDE per element).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ElementKind {
    /// An external entity or actor.
    Actor,
    #[default]
    Process,
    DataStore,
}

impl ElementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ElementKind::Actor => "actor",
            ElementKind::Process => "process",
            ElementKind::DataStore => "data-store",
        }
    }
}

/// Threat counts of one node (distinct threats each).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ThreatStatus {
    /// Exposures nothing covers.
    pub open: usize,
    /// `@confirmed` findings.
    pub confirmed: usize,
    pub mitigated: usize,
    pub accepted: usize,
    pub transferred: usize,
}

impl ThreatStatus {
    /// True when the node carries any threat information at all.
    pub fn is_empty(&self) -> bool {
        *self == ThreatStatus::default()
    }
    /// Nothing open and nothing confirmed.
    pub fn is_clean(&self) -> bool {
        self.open == 0 && self.confirmed == 0
    }
}

/// One element of the diagram.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Node {
    /// Sanitised, unique, deterministic (see the module docs).
    pub id: String,
    /// The node key (asset path key, or an actor's name as a path key).
    pub key: String,
    /// Untrusted text: renderers must escape it.
    pub label: String,
    pub kind: ElementKind,
    /// Id of the innermost [`BoundaryGroup`] holding the node (a trust boundary or a
    /// component group).
    pub boundary: Option<String>,
    pub status: ThreatStatus,
    /// The open exposures and confirmed findings of the node, by name, worst first (see the
    /// module docs).
    pub threats: Vec<NamedThreat>,
    /// Data classifications from `@handles ... on` the node (untrusted text), first
    /// spelling of each in file-path order.
    pub handles: Vec<String>,
    /// Set when the node is not in the annotated model but proposed by the infrastructure
    /// baseline ([`super::dfd_baseline`]): drawn dashed and grey, labelled "proposed".
    pub proposed: Option<Proposed>,
}

/// What the infrastructure baseline says about a node it proposes ([`super::dfd_baseline`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Proposed {
    /// The template's resource type (`aws_db_instance`). Untrusted text.
    pub resource_type: String,
    /// Where the resource is declared (`modules/db/main.tf:21`); `None` for the fixed Internet.
    /// Untrusted text.
    pub origin: Option<String>,
    /// The exposures and mitigations the baseline's rules propose for it.
    pub exposures: usize,
    pub mitigations: usize,
}

/// One open exposure or confirmed finding of a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NamedThreat {
    /// The threat's display name. Untrusted text: renderers must escape it.
    pub name: String,
    /// The effective severity ([`Analysis::exposure_severity`]), the highest of the node's
    /// annotations on this threat; `None` when none is stated.
    pub severity: Option<Severity>,
    /// The severity in the author's word (`P0`, `critical`). Untrusted text.
    pub word: Option<String>,
    /// A `@confirmed` finding rather than an open exposure.
    pub confirmed: bool,
}

impl Node {
    /// The worst severity among [`Node::threats`]; an unrated confirmed finding counts as
    /// high (it was verified exploitable).
    pub fn worst(&self) -> Option<Severity> {
        self.threats.iter().filter_map(|t| t.severity.or(t.confirmed.then_some(Severity::High))).max()
    }
}

/// A data flow between two nodes (by id).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    pub from: String,
    pub to: String,
    /// Untrusted text: renderers must escape it.
    pub label: Option<String>,
    pub two_way: bool,
    /// Proposed by the infrastructure baseline, not annotated ([`super::dfd_baseline`]).
    pub proposed: bool,
}

/// A cluster: a trust boundary, or a component group of ThreatSpec colon paths (see the
/// module docs' *Component groups*).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct BoundaryGroup {
    /// Sanitised, unique, deterministic.
    pub id: String,
    /// The boundary's key: a GAL id, a normalised legacy boundary name, or `A|B`; for a
    /// component group, the path key of its component (`calcapp.web`).
    pub key: String,
    /// Untrusted text: renderers must escape it.
    pub title: String,
    /// Node ids directly in this cluster (not those of a nested one), sorted.
    pub members: Vec<String>,
    /// Declared the ThreatSpec 0.1 way (`@b:@c` references, `@alias`/`@describe boundary`),
    /// not by a GAL `@boundary` annotation.
    pub legacy: bool,
    /// A component group (`CalcApp:Web`), not a trust boundary: drawn differently.
    pub component: bool,
    /// Id of the cluster this one is nested in (component groups, and proposed boundaries in
    /// a proposed one; trust boundaries of the annotations are outermost).
    pub parent: Option<String>,
    /// A network boundary the infrastructure baseline proposes ([`super::dfd_baseline`]), not
    /// an annotated one: drawn grey and dotted, titled "proposed".
    pub proposed: bool,
}

/// A data-flow diagram: nodes by id, edges by (from, to, label), boundaries by id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Dfd {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub boundaries: Vec<BoundaryGroup>,
}

impl Dfd {
    /// Why the diagram is too big to draw ([`crate::limits`]), or `None`.
    pub fn too_large(&self) -> Option<String> {
        use crate::limits::{MAX_DIAGRAM_EDGES, MAX_DIAGRAM_NODES};
        (self.nodes.len() > MAX_DIAGRAM_NODES || self.edges.len() > MAX_DIAGRAM_EDGES).then(|| {
            format!(
                "the diagram has {} elements and {} flows, over the limits ({MAX_DIAGRAM_NODES} elements, \
                 {MAX_DIAGRAM_EDGES} flows): draw part of it with a scope (a trust boundary, a component \
                 or a file)",
                self.nodes.len(),
                self.edges.len()
            )
        })
    }

    /// Whether anything in the diagram is proposed by the infrastructure baseline (the legends
    /// then explain the proposed look).
    pub fn has_proposed(&self) -> bool {
        self.nodes.iter().any(|n| n.proposed.is_some())
            || self.edges.iter().any(|e| e.proposed)
            || self.boundaries.iter().any(|b| b.proposed)
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.binary_search_by(|n| n.id.as_str().cmp(id)).ok().map(|i| &self.nodes[i])
    }
    /// The node with this key (an asset path key such as `shop.api`).
    pub fn node_by_key(&self, key: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.key == key)
    }

    /// The trust boundaries, without the component groups (which say nothing about trust:
    /// exports and counts of boundaries read these).
    pub fn trust_boundaries(&self) -> impl Iterator<Item = &BoundaryGroup> {
        self.boundaries.iter().filter(|b| !b.component)
    }
}

/// How the clusters of a [`Dfd`] nest, by index in [`Dfd::boundaries`]: the one reading of
/// [`BoundaryGroup::parent`] every renderer shares. A parent that is not in the diagram, or a
/// chain of parents that loops (only a hand-built model can have either), makes a cluster
/// outermost, so every renderer terminates and draws each cluster once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Nesting {
    /// The parent of each cluster.
    pub parent: Vec<Option<usize>>,
    /// The clusters nested directly in each cluster, in diagram order.
    pub children: Vec<Vec<usize>>,
    /// The outermost clusters, in diagram order.
    pub tops: Vec<usize>,
    /// How deep each cluster is (0 for the outermost).
    pub depth: Vec<usize>,
}

impl Nesting {
    pub fn of(dfd: &Dfd) -> Nesting {
        let n = dfd.boundaries.len();
        let index: BTreeMap<&str, usize> =
            dfd.boundaries.iter().enumerate().rev().map(|(c, b)| (b.id.as_str(), c)).collect();
        let mut parent: Vec<Option<usize>> = dfd
            .boundaries
            .iter()
            .enumerate()
            .map(|(c, b)| b.parent.as_deref().and_then(|p| index.get(p).copied()).filter(|&p| p != c))
            .collect();
        // Depth by walking up; a walk longer than the number of clusters is a loop.
        let walk = |parent: &[Option<usize>], c: usize| -> Option<usize> {
            let (mut at, mut steps) = (c, 0);
            while let Some(p) = parent[at] {
                at = p;
                steps += 1;
                if steps > n {
                    return None;
                }
            }
            Some(steps)
        };
        let looping: Vec<usize> = (0..n).filter(|&c| walk(&parent, c).is_none()).collect();
        for c in looping {
            parent[c] = None;
        }
        let depth: Vec<usize> = (0..n).map(|c| walk(&parent, c).unwrap_or(0)).collect();
        let mut children = vec![Vec::new(); n];
        let mut tops = Vec::new();
        for (c, up) in parent.iter().enumerate() {
            match *up {
                Some(p) => children[p].push(c),
                None => tops.push(c),
            }
        }
        Nesting { parent, children, tops, depth }
    }

    /// How a text format writes the clusters: each outermost cluster in diagram order, opened,
    /// its members (each node only in the first cluster listing it), its nested clusters the
    /// same way, closed. Depths start at 1. Mermaid and DOT both write this sequence.
    pub fn steps<'a>(&self, dfd: &'a Dfd) -> Vec<ClusterStep<'a>> {
        let by_id: BTreeMap<&str, &Node> = dfd.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        let mut declared: BTreeSet<&str> = BTreeSet::new();
        let mut steps = Vec::new();
        // Depth-first without recursion: (cluster, depth, opened).
        let mut stack: Vec<(usize, usize, bool)> = self.tops.iter().rev().map(|&c| (c, 1, false)).collect();
        while let Some((c, depth, opened)) = stack.pop() {
            if opened {
                steps.push(ClusterStep::Close(depth));
                continue;
            }
            let group = &dfd.boundaries[c];
            steps.push(ClusterStep::Open(group, depth));
            for id in &group.members {
                if let Some(&node) = by_id.get(id.as_str())
                    && declared.insert(node.id.as_str())
                {
                    steps.push(ClusterStep::Node(node, depth));
                }
            }
            stack.push((c, depth, true));
            stack.extend(self.children[c].iter().rev().map(|&d| (d, depth + 1, false)));
        }
        steps
    }

    /// `c` and the clusters around it, innermost first.
    pub fn chain(&self, c: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(c), |&at| self.parent[at])
    }

    /// The outermost cluster around `c` (itself when outermost).
    pub fn top(&self, c: usize) -> usize {
        self.chain(c).last().unwrap_or(c)
    }
}

/// One step of [`Nesting::steps`], with its nesting depth (1 for an outermost cluster).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterStep<'a> {
    Open(&'a BoundaryGroup, usize),
    /// A node declared inside the cluster opened last.
    Node(&'a Node, usize),
    Close(usize),
}

/// The depth of a [`ClusterStep`].
pub fn step_depth(step: ClusterStep<'_>) -> usize {
    match step {
        ClusterStep::Open(_, d) | ClusterStep::Node(_, d) | ClusterStep::Close(d) => d,
    }
}

/// What part of the project a diagram shows (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Project,
    /// A trust boundary by key, `#key`, or name.
    Boundary(String),
    /// A component by path (`Shop.Api`, `shop:api`) or `#id`, with its direct neighbours.
    Component(String),
    File(FileId),
}

/// The node id of a node key.
pub fn node_id(key: &str) -> String {
    make_id("n", key)
}

/// The cluster id of a boundary key.
pub fn boundary_id(key: &str) -> String {
    make_id("b", key)
}

/// The cluster id of a boundary the infrastructure baseline proposes (its key in the
/// baseline: `module.network.aws_subnet.public`).
pub fn proposed_boundary_id(key: &str) -> String {
    make_id("pb", key)
}

/// The cluster id of a component group (its path key).
pub fn group_id(key: &str) -> String {
    make_id("g", key)
}

/// An id as a renderer writes it: the model's ids pass unchanged; anything else (a hand-built
/// model with a keyword such as `end`, or text) is replaced by a hashed id, so no text reaches
/// a diagram's structure. Shared by the Mermaid and DOT renderers.
pub fn safe_id(id: &str) -> std::borrow::Cow<'_, str> {
    let ok = id.contains('_')
        && !id.starts_with("legend")
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok { std::borrow::Cow::Borrowed(id) } else { std::borrow::Cow::Owned(node_id(&format!("{id}\u{0}"))) }
}

fn make_id(prefix: &str, key: &str) -> String {
    let plain = key.split('.').all(|s| {
        !s.is_empty()
            && !s.starts_with('_')
            && !s.ends_with('_')
            && !s.contains("__")
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    });
    let body: Vec<String> = key
        .split('.')
        .map(|s| {
            s.chars()
                .map(|c| {
                    let c = c.to_ascii_lowercase();
                    if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '_' }
                })
                .collect()
        })
        .collect();
    let body = body.join("__");
    if plain {
        format!("{prefix}_{body}")
    } else {
        // Lossy and readable: runs of `_` collapsed, at most 32 characters; the hash keeps it
        // unique.
        let mut short = String::new();
        for c in body.chars() {
            if !(c == '_' && (short.is_empty() || short.ends_with('_'))) && short.len() < 32 {
                short.push(c);
            }
        }
        let short = short.trim_end_matches('_');
        let sep = if short.is_empty() { "" } else { "_" };
        format!("{prefix}h_{short}{sep}{:016x}", fnv1a(key.as_bytes()))
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Words of the label's last path segment, for the kind rule: split at non-alphanumerics and
/// camel-case steps, lowercased.
pub fn label_words(label: &str) -> Vec<String> {
    let last = label.rsplit(['.', ':']).next().unwrap_or(label);
    let mut words = Vec::new();
    for chunk in last.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let mut word = String::new();
        let mut prev: Option<char> = None;
        for c in chunk.chars() {
            if c.is_uppercase() && prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit()) {
                words.push(std::mem::take(&mut word));
            }
            word.extend(c.to_lowercase());
            prev = Some(c);
        }
        words.push(word);
    }
    words
}

/// A word matches a keyword, or its plural with `s`.
fn matches(word: &str, keywords: &[&str]) -> bool {
    keywords.iter().any(|k| word == *k || word.strip_suffix('s') == Some(*k))
}

const ACTOR_WORDS: &[&str] = &[
    "user",
    "customer",
    "browser",
    "client",
    "admin",
    "administrator",
    "staff",
    "attacker",
    "external",
    "internet",
];
const ACTOR_BOUNDARY_WORDS: &[&str] = &["internet", "external", "user"];
const STORE_WORDS: &[&str] = &[
    "db",
    "database",
    "store",
    "storage",
    "bucket",
    "queue",
    "cache",
    "redis",
    "postgres",
    "postgresql",
    "mysql",
    "s3",
    "table",
    "disk",
    "filesystem",
    "vault",
    "ledger",
];

/// The element-kind rule of the module docs. `legacy_boundary` is the legacy boundary the node
/// lies in, if any.
pub fn classify(is_actor: bool, legacy_boundary: Option<&str>, label: &str) -> ElementKind {
    let words = label_words(label);
    let in_outside_boundary =
        legacy_boundary.is_some_and(|b| label_words(b).iter().any(|w| matches(w, ACTOR_BOUNDARY_WORDS)));
    if is_actor || in_outside_boundary || words.last().is_some_and(|w| matches(w, ACTOR_WORDS)) {
        ElementKind::Actor
    } else if words.iter().any(|w| matches(w, STORE_WORDS)) {
        ElementKind::DataStore
    } else {
        ElementKind::Process
    }
}

#[derive(Default)]
struct NodeInfo {
    asset: bool,
    actors: BTreeSet<EntityKey>,
    /// First spelling written in the project (file-path order).
    spelling: Option<String>,
    /// First spelling written as a colon path (`CalcApp:Web:Server`), if any.
    colon: Option<String>,
    /// Open exposures and confirmed findings, with the highest severity stated on them.
    exposed_open: BTreeMap<EntityKey, Option<StatedSeverity>>,
    confirmed: BTreeMap<EntityKey, Option<StatedSeverity>>,
    mitigated: BTreeSet<EntityKey>,
    accepted: BTreeSet<EntityKey>,
    transferred: BTreeSet<EntityKey>,
}

struct RawFlow {
    file: FileId,
    from: String,
    to: String,
    label: Option<String>,
    two_way: bool,
}

struct GalBoundary {
    key: String,
    title: String,
    inner: String,
}

/// Everything the project says, before scoping.
struct Model {
    nodes: BTreeMap<String, NodeInfo>,
    flows: Vec<RawFlow>,
    /// Normalised legacy boundary name -> title.
    legacy: BTreeMap<String, String>,
    gal: Vec<GalBoundary>,
    /// Node keys each file names.
    per_file: BTreeMap<FileId, BTreeSet<String>>,
    /// `@handles` classifications per node key.
    handles: BTreeMap<String, Vec<String>>,
}

fn entity(r: &Resolved) -> Option<&EntityKey> {
    r.entity()
}

/// The node key of an entity that can be a node (asset or actor).
fn node_key(index: &ProjectIndex, e: &EntityKey) -> Option<String> {
    let key = match e.kind {
        EntityKind::Asset => e.key.to_string(),
        EntityKind::Actor => path_key(&index.display_name(e)),
        _ => return None,
    };
    (!key.is_empty()).then_some(key)
}

/// Keeps the higher of two stated severities (the first on a tie).
fn keep_worst(slot: &mut Option<StatedSeverity>, new: Option<StatedSeverity>) {
    if let Some(new) = new
        && slot.as_ref().is_none_or(|old| new.value > old.value)
    {
        *slot = Some(new);
    }
}

impl Model {
    fn new(index: &ProjectIndex, analysis: &Analysis) -> Model {
        let mut m = Model {
            nodes: BTreeMap::new(),
            flows: Vec::new(),
            legacy: BTreeMap::new(),
            gal: Vec::new(),
            per_file: BTreeMap::new(),
            handles: BTreeMap::new(),
        };
        let resolved_of = |facts: &FileFacts, i: usize| -> &[Resolved] {
            analysis.resolved.get(&facts.path).and_then(|f| f.get(i)).unwrap_or(&[])
        };
        for facts in index.files() {
            for (i, ann) in facts.annotations().iter().enumerate() {
                let r = resolved_of(facts, i);
                let refs = &facts.refs[i];
                let relation = Relation::resolved(ann, refs, r);
                // Legacy boundaries: `@b:@c` references and `@alias`/`@describe boundary`.
                for fact in refs {
                    if let Lookup::Legacy(path) = fact.lookup()
                        && let Some(b) = path.split('.').next()
                    {
                        m.legacy.entry(b.to_string()).or_insert_with(|| b.to_string());
                    }
                }
                if let Some(
                    Relation::Alias { kind: EntityKind::Boundary, target, .. }
                    | Relation::Description { kind: EntityKind::Boundary, target, .. },
                ) = relation
                    && let Some(e) = target.entity()
                {
                    let norm = normalize_name(&e.key);
                    let title = index.display_name(e);
                    let slot = m.legacy.entry(norm.clone()).or_insert_with(|| title.clone());
                    if *slot == norm {
                        *slot = title;
                    }
                }
                // Actors, wherever they are named.
                for e in r.iter().filter_map(entity).filter(|e| e.kind == EntityKind::Actor) {
                    if let Some(key) = node_key(index, e) {
                        m.nodes.entry(key.clone()).or_default().actors.insert(e.clone());
                        m.per_file.entry(facts.path.clone()).or_default().insert(key);
                    }
                }
                if let Some(Relation::Handling { class, asset }) = relation
                    && let Some(e) = asset.entity().filter(|e| e.kind == EntityKind::Asset)
                    && let Some(key) = node_key(index, e)
                {
                    let class = class.value.trim();
                    let list = m.handles.entry(key).or_default();
                    if !class.is_empty() && !list.iter().any(|c| c.eq_ignore_ascii_case(class)) {
                        list.push(class.to_string());
                    }
                }
                let eligible = match &ann.body {
                    Body::Define { kind, .. } | Body::Alias { kind, .. } => *kind == EntityKind::Asset,
                    Body::Flows { .. }
                    | Body::Exposes { .. }
                    | Body::Mitigates { .. }
                    | Body::Confirmed { .. }
                    | Body::Accepts { .. }
                    | Body::Transfers { .. }
                    | Body::Boundary { .. } => true,
                    _ => false,
                };
                if !eligible {
                    continue;
                }
                // Asset arguments -> nodes (an asset argument may resolve to an actor by id).
                for ((fact, res), (_, written)) in refs.iter().zip(r).zip(ann.refs()) {
                    let key = entity(res)
                        .filter(|_| fact.kind == EntityKind::Asset)
                        .and_then(|e| Some((e, node_key(index, e)?)));
                    let Some((e, key)) = key else { continue };
                    let info = m.nodes.entry(key.clone()).or_default();
                    match e.kind {
                        EntityKind::Asset => info.asset = true,
                        _ => {
                            info.actors.insert(e.clone());
                        }
                    }
                    let shown = match &written.form {
                        RefForm::Name { name, .. } => Some((name.value.to_string(), true)),
                        RefForm::Legacy { component, .. } => Some((component.value.clone(), false)),
                        RefForm::Id(_) => None,
                    };
                    if let Some((text, plain)) = shown {
                        if info.colon.is_none() && plain && text.contains(':') {
                            info.colon = Some(text.clone());
                        }
                        info.spelling.get_or_insert(text);
                    }
                    m.per_file.entry(facts.path.clone()).or_default().insert(key);
                }
                // The node of an asset argument (as the loop above keyed it).
                let key_of = |a: Arg| {
                    a.entity().filter(|_| a.fact.kind == EntityKind::Asset).and_then(|e| node_key(index, e))
                };
                // The node and the threat of a relation that puts a threat on an asset.
                let on_node = relation.and_then(|rel| {
                    let (asset, threat) = rel.asset_and_threat()?;
                    Some((key_of(asset)?, threat.entity()?))
                });
                let mut note = |pick: fn(&mut NodeInfo) -> &mut BTreeSet<EntityKey>| {
                    if let Some((k, t)) = on_node.clone() {
                        pick(m.nodes.entry(k).or_default()).insert(t.clone());
                    }
                };
                // The node, the threat and the effective severity of an exposure or finding.
                let rated = || {
                    let (k, t) = on_node.clone()?;
                    Some((k, t.clone(), analysis.exposure_severity(facts, ann, Some(t))))
                };
                match relation {
                    Some(Relation::Exposure { .. }) => {
                        // Open or not is the analysis' one coverage rule.
                        if analysis.coverage(facts.path.as_str(), i).is_some_and(|c| c.is_open())
                            && let Some((k, t, sev)) = rated()
                        {
                            keep_worst(m.nodes.entry(k).or_default().exposed_open.entry(t).or_default(), sev);
                        }
                    }
                    Some(Relation::Confirmation { .. }) => {
                        if let Some((k, t, sev)) = rated() {
                            keep_worst(m.nodes.entry(k).or_default().confirmed.entry(t).or_default(), sev);
                        }
                    }
                    Some(Relation::Mitigation { .. }) => note(|n| &mut n.mitigated),
                    Some(Relation::Acceptance { .. }) => note(|n| &mut n.accepted),
                    Some(Relation::Transfer { .. }) => note(|n| &mut n.transferred),
                    Some(Relation::Flow { from, to, two_way, mechanism, name }) => {
                        if let (Some(from), Some(to)) = (key_of(from), key_of(to)) {
                            let label = mechanism
                                .map(|m| m.value.as_str())
                                .or(ann.details.as_ref().map(|d| &*d.value))
                                .or(name.map(|n| n.value.as_str()))
                                .map(|s| s.trim().to_string())
                                .filter(|s| !s.is_empty());
                            m.flows.push(RawFlow { file: facts.path.clone(), from, to, label, two_way });
                        }
                    }
                    Some(Relation::Boundary { a: side_a, b: side_b, id, directed }) => {
                        let (_, inner, _) = boundary_orientation(side_a, side_b, directed, |side: Arg| {
                            side.is_declared(index)
                        });
                        if let (Some(a), Some(b), Some(inner)) =
                            (key_of(side_a), key_of(side_b), key_of(inner))
                            && let Body::Boundary { a: written_a, b: written_b, .. } = &ann.body
                        {
                            let sides = boundary_sides(written_a.display(), written_b.display(), directed);
                            let described =
                                ann.description.as_ref().map(|d| d.value.trim()).filter(|d| !d.is_empty());
                            let (key, title) = match (id, described) {
                                (Some(id), Some(d)) => (id.value.clone(), format!("{d} (#{})", id.value)),
                                (Some(id), None) => (id.value.clone(), format!("{sides} (#{})", id.value)),
                                (None, Some(d)) => (format!("{a}|{b}"), d.to_string()),
                                (None, None) => (format!("{a}|{b}"), sides),
                            };
                            m.gal.push(GalBoundary { key, title, inner });
                        }
                    }
                    _ => {}
                }
            }
        }
        m
    }

    fn label(&self, index: &ProjectIndex, key: &str, info: &NodeInfo) -> String {
        if info.asset {
            let e = EntityKey::new(EntityKind::Asset, key);
            let declared = index.definitions(&e).iter().find_map(|(_, d)| d.name.clone());
            if let Some(name) = declared {
                return name;
            }
        }
        if let Some(actor) = info.actors.first() {
            return index.display_name(actor);
        }
        info.spelling.clone().unwrap_or_else(|| key.to_string())
    }

    /// The legacy boundary a node key lies in.
    fn legacy_boundary(&self, key: &str) -> Option<&str> {
        let (first, _) = key.split_once('.')?;
        self.legacy.get_key_value(first).map(|(k, _)| k.as_str())
    }

    /// The boundary key of a node key, by the rule in the module docs.
    fn boundary_of(&self, key: &str) -> Option<String> {
        if let Some(b) = self.legacy_boundary(key) {
            return Some(b.to_string());
        }
        std::iter::once(key)
            .chain(ancestors(key))
            .find_map(|k| self.gal.iter().filter(|g| g.inner == k).map(|g| g.key.clone()).min())
    }
}

/// The trust boundary each asset or actor lies in, by the rules of *Trust boundaries* above:
/// what the model diff asks to tell whether a flow crosses a boundary
/// ([`crate::analysis::diff::Side::zone`]).
/// The diagram's model is built on the first question only: most changes involve no flow.
pub struct TrustZones<'a> {
    index: &'a ProjectIndex,
    analysis: &'a Analysis,
    model: std::cell::OnceCell<Model>,
}

impl<'a> TrustZones<'a> {
    pub fn new(index: &'a ProjectIndex, analysis: &'a Analysis) -> TrustZones<'a> {
        TrustZones { index, analysis, model: std::cell::OnceCell::new() }
    }

    /// The title of the trust boundary `entity` lies in (as the diagram titles its cluster),
    /// `None` outside every boundary or for an entity that is no node.
    pub fn of(&self, entity: &EntityKey) -> Option<String> {
        let key = node_key(self.index, entity)?;
        let model = self.model.get_or_init(|| Model::new(self.index, self.analysis));
        let boundary = model.boundary_of(&key)?;
        let title = model.legacy.get(&boundary).cloned();
        title.or_else(|| model.gal.iter().find(|g| g.key == boundary).map(|g| g.title.clone()))
    }
}

/// Builds the diagram of `scope` (see the module docs for every rule).
pub fn build(index: &ProjectIndex, analysis: &Analysis, scope: &Scope) -> Dfd {
    let m = Model::new(index, analysis);

    // All nodes, keyed by node key.
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    for (key, info) in &m.nodes {
        let label = m.label(index, key, info);
        // A `#repo.id` of a repository outside the project is an external entity.
        let external = key.starts_with('#'); // the key of an `EntityKey::is_external` asset
        let kind = classify(external || !info.actors.is_empty(), m.legacy_boundary(key), &label);
        let status = ThreatStatus {
            open: info.exposed_open.len(),
            confirmed: info.confirmed.len(),
            mitigated: info.mitigated.len(),
            accepted: info.accepted.len(),
            transferred: info.transferred.len(),
        };
        let boundary = m.boundary_of(key);
        let named = |set: &BTreeMap<EntityKey, Option<StatedSeverity>>, confirmed: bool| {
            set.iter()
                .map(|(t, sev)| NamedThreat {
                    name: index.display_name(t),
                    severity: sev.as_ref().map(|s| s.value),
                    word: sev.as_ref().map(|s| s.word.clone()),
                    confirmed,
                })
                .collect::<Vec<_>>()
        };
        let mut threats = named(&info.confirmed, true);
        threats.extend(named(&info.exposed_open, false));
        // Worst first: severity (unrated last), findings before exposures, then by name.
        threats.sort_by(|a, b| {
            (std::cmp::Reverse(a.severity), !a.confirmed, &a.name).cmp(&(
                std::cmp::Reverse(b.severity),
                !b.confirmed,
                &b.name,
            ))
        });
        nodes.insert(
            key.clone(),
            Node {
                id: node_id(key),
                key: key.clone(),
                label,
                kind,
                boundary: boundary.as_deref().map(boundary_id),
                status,
                threats,
                handles: m.handles.get(key).cloned().unwrap_or_default(),
                proposed: None,
            },
        );
    }

    // Scoping: the core keys, whether neighbours join, and which flows count.
    let all_flows = || m.flows.iter();
    let (core, flows, neighbours): (BTreeSet<String>, Vec<&RawFlow>, bool) = match scope {
        Scope::Project => (nodes.keys().cloned().collect(), all_flows().collect(), false),
        Scope::Boundary(name) => {
            let wanted = find_boundary(&m, name);
            let core =
                nodes.keys().filter(|k| wanted.is_some() && m.boundary_of(k) == wanted).cloned().collect();
            (core, all_flows().collect(), true)
        }
        Scope::Component(path) => {
            let key = component_key(index, path);
            let core = nodes
                .keys()
                .filter(|k| {
                    key.as_deref().is_some_and(|c| {
                        *k == c || k.strip_prefix(c).is_some_and(|rest| rest.starts_with('.'))
                    })
                })
                .cloned()
                .collect();
            (core, all_flows().collect(), true)
        }
        Scope::File(file) => (
            m.per_file.get(file).cloned().unwrap_or_default(),
            all_flows().filter(|f| f.file == *file).collect(),
            false,
        ),
    };
    let flows: Vec<&RawFlow> = if neighbours {
        flows.into_iter().filter(|f| core.contains(&f.from) || core.contains(&f.to)).collect()
    } else {
        flows.into_iter().filter(|f| core.contains(&f.from) && core.contains(&f.to)).collect()
    };
    let mut included = core;
    for f in &flows {
        included.insert(f.from.clone());
        included.insert(f.to.clone());
    }

    let mut edges: BTreeSet<Edge> = BTreeSet::new();
    for f in flows {
        edges.insert(Edge {
            from: node_id(&f.from),
            to: node_id(&f.to),
            label: f.label.clone(),
            two_way: f.two_way,
            proposed: false,
        });
    }

    let mut out_nodes: Vec<Node> =
        nodes.into_iter().filter(|(k, _)| included.contains(k)).map(|(_, n)| n).collect();
    out_nodes.sort_by(|a, b| a.id.cmp(&b.id));

    // Boundary clusters with at least one member in the diagram.
    let mut titles: BTreeMap<String, String> = BTreeMap::new();
    for (k, t) in &m.legacy {
        titles.insert(k.clone(), t.clone());
    }
    for g in &m.gal {
        titles.entry(g.key.clone()).or_insert_with(|| g.title.clone());
    }
    let mut groups = component_groups(&m, &mut out_nodes);
    for node in &out_nodes {
        let Some(bid) = &node.boundary else { continue };
        let group = groups.entry(bid.clone()).or_insert_with(|| {
            let key = titles.keys().find(|k| boundary_id(k) == *bid).cloned().unwrap_or_default();
            BoundaryGroup {
                id: bid.clone(),
                title: titles.get(&key).cloned().unwrap_or_default(),
                legacy: m.legacy.contains_key(&key),
                key,
                ..BoundaryGroup::default()
            }
        });
        group.members.push(node.id.clone());
    }
    mcp_elements(index, scope, &mut out_nodes, &mut edges, &mut groups);
    let boundaries = groups.into_values().collect();

    Dfd { nodes: out_nodes, edges: edges.into_iter().collect(), boundaries }
}

/// The repository's MCP surface ([`crate::analysis::mcp_surface::processes`]): the agent an
/// actor outside the `agent (MCP)` trust boundary, each server a process inside it, and a flow
/// from the agent to each server labelled with its transport and the tools it offers (at most
/// five named). Drawn for the whole project, the boundary's own scope, and a file that declares
/// a server or defines tools.
fn mcp_elements(
    index: &ProjectIndex,
    scope: &Scope,
    nodes: &mut Vec<Node>,
    edges: &mut BTreeSet<Edge>,
    groups: &mut BTreeMap<String, BoundaryGroup>,
) {
    use crate::analysis::mcp_surface::{
        AGENT_BOUNDARY_KEY, AGENT_BOUNDARY_TITLE, AGENT_KEY, AGENT_LABEL, processes,
    };
    let processes: Vec<_> = processes(index)
        .into_iter()
        .filter(|p| match scope {
            Scope::Project => true,
            Scope::Boundary(name) => {
                let name = name.trim_start_matches('#').to_ascii_lowercase();
                name == "agent" || name == AGENT_BOUNDARY_TITLE || name == AGENT_BOUNDARY_KEY
            }
            Scope::File(file) => p.file == file,
            Scope::Component(_) => false,
        })
        .collect();
    if processes.is_empty() {
        return;
    }
    let boundary = boundary_id(AGENT_BOUNDARY_KEY);
    let agent = node_id(AGENT_KEY);
    nodes.push(Node {
        id: agent.clone(),
        key: AGENT_KEY.to_string(),
        label: AGENT_LABEL.to_string(),
        kind: ElementKind::Actor,
        ..Node::default()
    });
    let mut members = Vec::new();
    for p in processes {
        let id = node_id(&p.key);
        if nodes.iter().any(|n| n.id == id) {
            continue;
        }
        let names: Vec<&str> = p.entry_points.iter().take(5).map(|t| t.name.value.as_str()).collect();
        let more = p.entry_points.len().saturating_sub(names.len());
        let label = match (names.is_empty(), more) {
            (true, _) => format!("MCP ({})", p.transport),
            (false, 0) => format!("MCP ({}): {}", p.transport, names.join(", ")),
            (false, n) => format!("MCP ({}): {}, +{n} more", p.transport, names.join(", ")),
        };
        edges.insert(Edge {
            from: agent.clone(),
            to: id.clone(),
            label: Some(label),
            two_way: false,
            proposed: false,
        });
        members.push(id.clone());
        nodes.push(Node {
            id,
            key: p.key,
            label: p.label,
            kind: ElementKind::Process,
            boundary: Some(boundary.clone()),
            ..Node::default()
        });
    }
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    members.sort();
    groups.insert(
        boundary.clone(),
        BoundaryGroup {
            id: boundary,
            key: AGENT_BOUNDARY_KEY.to_string(),
            title: AGENT_BOUNDARY_TITLE.to_string(),
            members,
            ..BoundaryGroup::default()
        },
    );
}

/// The component groups of the diagram's colon-path nodes (see the module docs), without
/// members; sets [`Node::boundary`] of each node a group holds.
fn component_groups(m: &Model, nodes: &mut [Node]) -> BTreeMap<String, BoundaryGroup> {
    // Path key of each group -> its title (the path as first written, with colons).
    let mut titles: BTreeMap<String, String> = BTreeMap::new();
    for node in nodes.iter().filter(|n| n.boundary.is_none()) {
        let Some(written) = m.nodes.get(&node.key).and_then(|i| i.colon.as_deref()) else { continue };
        let segments: Vec<&str> = node.key.split('.').collect();
        let shown: Vec<&str> =
            written.split([':', '.']).map(str::trim).filter(|s| !path_key(s).is_empty()).collect();
        let shown = if shown.len() == segments.len() { shown } else { segments.clone() };
        for depth in 1..segments.len() {
            titles.entry(segments[..depth].join(".")).or_insert_with(|| shown[..depth].join(":"));
        }
    }
    let deepest = |key: &str| -> Option<String> {
        std::iter::once(key).chain(ancestors(key)).find(|k| titles.contains_key(*k)).map(str::to_string)
    };
    for node in nodes.iter_mut().filter(|n| n.boundary.is_none()) {
        node.boundary = deepest(&node.key).map(|k| group_id(&k));
    }
    titles
        .iter()
        .map(|(key, title)| {
            let parent = ancestors(key).find(|k| titles.contains_key(*k)).map(group_id);
            let group = BoundaryGroup {
                id: group_id(key),
                key: key.clone(),
                title: title.clone(),
                component: true,
                parent,
                ..BoundaryGroup::default()
            };
            (group.id.clone(), group)
        })
        .collect()
}

/// The boundary key `name` designates: exact key, `#key`/`@key`, or normalised key or title.
fn find_boundary(m: &Model, name: &str) -> Option<String> {
    let bare = name.trim().trim_start_matches(['#', '@']);
    let keys = m.legacy.iter().chain(m.gal.iter().map(|g| (&g.key, &g.title)));
    let keys: Vec<(&String, &String)> = keys.collect();
    if let Some((k, _)) = keys.iter().find(|(k, _)| k.as_str() == bare) {
        return Some((*k).clone());
    }
    let norm = normalize_name(bare);
    keys.iter()
        .filter(|(k, t)| normalize_name(k) == norm || normalize_name(t) == norm)
        .map(|(k, _)| (*k).clone())
        .min()
}

/// The node key a component argument designates: `#id` through the index, else its path key.
fn component_key(index: &ProjectIndex, path: &str) -> Option<String> {
    let path = path.trim();
    if let Some(id) = path.strip_prefix('#') {
        let defs = index.definitions_by_id(id);
        let (_, def) = defs.first()?;
        return node_key(index, &def.entity);
    }
    let key = path_key(path);
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Language;
    use std::sync::Arc;

    /// The project diagram of `files` (`(path, text)`).
    fn diagram(files: &[(&str, &str)]) -> Dfd {
        let mut index = ProjectIndex::new();
        for (path, text) in files {
            let language = Language::from_path(std::path::Path::new(path)).expect("a known language");
            index.set_file(Arc::new(FileFacts::new(FileId::relative(*path), language, (*text).into())));
        }
        build(&index, &Analysis::new(&index), &Scope::Project)
    }

    /// `id "title" (parent): members` per cluster, `*` marking component groups.
    fn clusters(dfd: &Dfd) -> Vec<String> {
        dfd.boundaries
            .iter()
            .map(|b| {
                let mark = if b.component { "*" } else { "" };
                let parent = b.parent.as_deref().unwrap_or("-");
                format!("{mark}{} {:?} ({parent}): {}", b.id, b.title, b.members.join(" "))
            })
            .collect()
    }

    #[test]
    fn colon_paths_nest_into_component_groups() {
        let dfd = diagram(&[(
            "calc.py",
            "# @component CalcApp:Web:Server\n\
             # @connects CalcApp:Web:Server to CalcApp:Web:Static with HTTP\n\
             # @connects CalcApp:Web with CalcApp:Db:Store with SQL\n\
             # @exposes CalcApp:Web:Server to XSS with echo\n\
             # @connects User to CalcApp:Web:Server\n",
        )]);
        assert_eq!(
            clusters(&dfd),
            [
                "*g_calcapp \"CalcApp\" (-): ",
                "*g_calcapp__db \"CalcApp:Db\" (g_calcapp): n_calcapp__db__store",
                "*g_calcapp__web \"CalcApp:Web\" (g_calcapp): n_calcapp__web n_calcapp__web__server n_calcapp__web__static",
            ]
        );
        let boundary_of = |key: &str| dfd.node_by_key(key).and_then(|n| n.boundary.clone());
        // A node whose path is itself a group sits in that group, next to its parts.
        assert_eq!(boundary_of("calcapp.web"), Some(group_id("calcapp.web")));
        assert_eq!(boundary_of("user"), None);
    }

    #[test]
    fn a_trust_boundary_wins_over_a_path() {
        let dfd = diagram(&[(
            "calc.py",
            "# @alias boundary @dmz to DMZ\n\
             # @component Dmz:Admin:Export\n\
             # @component Shop:Api:Orders\n\
             # @boundary between Internet and Shop:Api:Orders (#edge)\n\
             # @component Shop:Api:Search\n",
        )]);
        assert_eq!(
            clusters(&dfd),
            [
                "b_dmz \"DMZ\" (-): n_dmz__admin__export",
                "b_edge \"Internet | Shop:Api:Orders (#edge)\" (-): n_shop__api__orders",
                "*g_shop \"Shop\" (-): ",
                "*g_shop__api \"Shop:Api\" (g_shop): n_shop__api__search",
            ]
        );
    }

    #[test]
    fn dotted_gal_paths_make_no_group_but_join_a_colon_one() {
        let dfd = diagram(&[(
            "shop.ts",
            "// @asset Shop.Api.Orders (#orders)\n\
             // @flows Shop.Web -> Shop.Api.Orders via HTTPS\n",
        )]);
        assert!(dfd.boundaries.is_empty(), "{:?}", clusters(&dfd));
        let mixed = diagram(&[(
            "shop.ts",
            "// @flows Shop.Web -> Shop.Api.Orders via HTTPS\n\
             // @component Shop:Api:Search\n",
        )]);
        assert_eq!(
            clusters(&mixed),
            [
                "*g_shop \"Shop\" (-): n_shop__web",
                "*g_shop__api \"Shop:Api\" (g_shop): n_shop__api__orders n_shop__api__search"
            ]
        );
    }

    #[test]
    fn group_titles_are_the_first_spelling_and_ids_do_not_depend_on_file_order() {
        let a = ("a.py", "# @component Calc App:Web Tier:Server\n");
        let b = ("b.py", "# @component calc_app:web_tier:Static\n");
        let forward = diagram(&[a, b]);
        let backward = diagram(&[b, a]);
        assert_eq!(forward, backward);
        assert_eq!(
            clusters(&forward),
            [
                "*g_calc_app \"Calc App\" (-): ",
                "*g_calc_app__web_tier \"Calc App:Web Tier\" (g_calc_app): n_calc_app__web_tier__server n_calc_app__web_tier__static",
            ]
        );
    }

    #[test]
    fn untrusted_group_titles_stay_text_and_ids_stay_plain() {
        let dfd = diagram(&[("x.py", "# @component <b>\"]; end:Web`%%:Server\n")]);
        let titles: Vec<&str> = dfd.boundaries.iter().map(|b| b.title.as_str()).collect();
        assert!(titles.contains(&"<b>\"]; end"), "{titles:?}");
        for b in &dfd.boundaries {
            assert!(b.id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'), "{}", b.id);
        }
    }

    #[test]
    fn ids_are_plain_or_hashed() {
        assert_eq!(node_id("shop.api.orders"), "n_shop__api__orders");
        assert_eq!(node_id("shop_api"), "n_shop_api");
        assert_ne!(node_id("shop.api"), node_id("shop_api"));
        let odd = node_id("usuário.x\"]");
        assert!(odd.starts_with("nh_usu_rio_x_"), "{odd}");
        assert!(odd.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        assert_ne!(boundary_id("internet-edge"), boundary_id("internet_edge"));
    }

    #[test]
    fn words_split_camel_case_and_plurals() {
        assert_eq!(label_words("Shop.OrdersDb"), ["orders", "db"]);
        assert_eq!(label_words("S3Buckets"), ["s3", "buckets"]);
        assert_eq!(label_words("Legacy Admin Panel"), ["legacy", "admin", "panel"]);
        assert_eq!(label_words("Webshop:Worker:Payments"), ["payments"]);
        assert!(matches("redis", STORE_WORDS) && matches("queues", STORE_WORDS));
        assert!(!matches("bookstore", STORE_WORDS) && !matches("feedback", STORE_WORDS));
    }
}
