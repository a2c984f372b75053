//! What a diagram element says about its threats and how that looks, the same in Mermaid, DOT
//! and SVG (and so in the HTML report and the editor panel, which embed the SVG).
//!
//! Owns: the text lines under an element's label (the status badge, the named open threats
//! and confirmed findings with their severity, the `@handles` classifications), the tone a
//! node's worst severity gives it, each tone's colours and border width, how a cluster's
//! outline looks ([`ClusterLook`]: trust boundary, component group or proposed boundary), what
//! marks the parts the infrastructure baseline proposes (the word [`PROPOSED`], grey, dashed),
//! and the legend's shape
//! samples and lines shared by DOT and SVG. Must never: write
//! output syntax or escape (each renderer escapes these lines for its format), or decide what
//! is open (that is [`super::dfd`]).
//!
//! # Lines
//!
//! - The badge: `✗ 1 confirmed · ⚠ 2 open · ✓ 3 mitigated · 1 accepted · 1 transferred` (zero
//!   counts left out).
//! - One line per named threat, worst first: `⚠ SQL Injection [critical]` for an open
//!   exposure, `✗ IDOR [high]` for a confirmed finding, the severity in the author's word and
//!   left out when none is stated. In a label at most [`THREATS_SHOWN`], then `+N more`; a
//!   tooltip (SVG `<title>`, DOT `tooltip`) lists them all.
//! - The data classifications: `data: pii, financial`.
//! - On an element the infrastructure baseline proposes ([`super::dfd_baseline`]), first:
//!   `proposed · aws_db_instance · modules/db/main.tf:21` and
//!   `baseline: ⚠ 1 exposure · ✓ 4 mitigations`. Its tone is `proposed`: a grey fill and a grey
//!   dashed outline ([`PROPOSED_DASH`]); a proposed flow is dashed grey and labelled
//!   `proposed: tcp/5432`, a proposed boundary dotted grey ([`PROPOSED_LOOK`]) and titled
//!   `proposed vpc: aws_vpc.main`, so the word, not only the grey, says it.
//!
//! # Tones
//!
//! The worst severity of the named threats (an unrated confirmed finding counts as high)
//! picks the tone; without one, an open exposure is `open` (unrated), threat information with
//! nothing open is `clean`. The severity is always written in the threat lines, and the border
//! width steps with it (critical 4 px, high 3 px, medium, low and unrated 2 px, clean and
//! plain 1.3 px), so no tone is told by colour alone. Critical (dark red) and high (orange)
//! differ from each other in lightness as well as hue (critical's fill is the most saturated,
//! so it stands out even in a diagram scaled to a page), and from medium (amber) and low
//! (slate); all fills are light, so the dark text keeps a contrast of at least 7:1.

use super::dfd::{BoundaryGroup, ElementKind, NamedThreat, Node, ThreatStatus};
use crate::syntax::Severity;

/// At most this many threats are named inside an element's label (the rest as `+N more`).
pub const THREATS_SHOWN: usize = 3;

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

/// `⚠ SQL Injection [critical]` / `✗ IDOR [P1]` / `⚠ XSS`.
pub fn threat_line(t: &NamedThreat) -> String {
    let mark = if t.confirmed { '✗' } else { '⚠' };
    match &t.word {
        Some(word) => format!("{mark} {} [{word}]", t.name),
        None => format!("{mark} {}", t.name),
    }
}

/// The threat lines of a label: at most `shown`, then `+N more`.
pub fn threat_lines(node: &Node, shown: usize) -> Vec<String> {
    let mut lines: Vec<String> = node.threats.iter().take(shown).map(threat_line).collect();
    if node.threats.len() > shown {
        lines.push(format!("+{} more", node.threats.len() - shown));
    }
    lines
}

/// `data: pii, financial`, or `None` without `@handles`.
pub fn handles_line(node: &Node) -> Option<String> {
    (!node.handles.is_empty()).then(|| format!("data: {}", node.handles.join(", ")))
}

/// The lines of a node the infrastructure baseline proposes:
/// `proposed · aws_db_instance · modules/db/main.tf:21`, then
/// `baseline: ⚠ 2 exposures · ✓ 5 mitigations` when its rules propose any (empty for an
/// annotated node).
pub fn proposed_lines(node: &Node) -> Vec<String> {
    let Some(p) = &node.proposed else { return Vec::new() };
    let mut first = format!("{PROPOSED} · {}", p.resource_type);
    if let Some(origin) = &p.origin {
        first.push_str(" · ");
        first.push_str(origin);
    }
    let mut lines = vec![first];
    let mut counts = Vec::new();
    if p.exposures > 0 {
        counts.push(format!("⚠ {} {}", p.exposures, if p.exposures == 1 { "exposure" } else { "exposures" }));
    }
    if p.mitigations > 0 {
        let word = if p.mitigations == 1 { "mitigation" } else { "mitigations" };
        counts.push(format!("✓ {} {word}", p.mitigations));
    }
    if !counts.is_empty() {
        lines.push(format!("baseline: {}", counts.join(" · ")));
    }
    lines
}

/// The word every format writes on what the infrastructure baseline proposes (so a proposed
/// element, flow or boundary is never told by its grey dashes alone).
pub const PROPOSED: &str = "proposed";

/// The label of a flow the baseline proposes: `proposed: tcp/5432`, or `proposed` without a
/// mechanism.
pub fn proposed_flow_label(mechanism: Option<&str>) -> String {
    match mechanism {
        Some(m) => format!("{PROPOSED}: {m}"),
        None => PROPOSED.to_string(),
    }
}

/// The title of a boundary the baseline proposes:
/// `proposed public subnet: module.network.aws_subnet.public`.
pub fn proposed_boundary_title(kind: &str, key: &str) -> String {
    format!("{PROPOSED} {kind}: {key}")
}

/// Every line shown under a label, in order: what the baseline proposes (for a proposed node),
/// badge, threats (at most `shown`), data.
pub fn detail_lines(node: &Node, shown: usize) -> Vec<String> {
    let mut lines = proposed_lines(node);
    let badge = badge(&node.status);
    if !badge.is_empty() {
        lines.push(badge);
    }
    lines.extend(threat_lines(node, shown));
    lines.extend(handles_line(node));
    lines
}

/// The class a node's status gives it (`finding`, `open`, `clean`), if any.
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

/// How a node looks (see the module docs), worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tone {
    Critical,
    High,
    Medium,
    Low,
    /// Open exposures, none with a stated severity.
    Unrated,
    Clean,
    Plain,
    /// Proposed by the infrastructure baseline: grey, dashed outline.
    Proposed,
}

/// Every tone, in the order the legend and the Mermaid class definitions list them.
pub const TONES: [Tone; 8] = [
    Tone::Critical,
    Tone::High,
    Tone::Medium,
    Tone::Low,
    Tone::Unrated,
    Tone::Clean,
    Tone::Plain,
    Tone::Proposed,
];

impl Tone {
    pub fn of(node: &Node) -> Tone {
        if node.proposed.is_some() {
            return Tone::Proposed;
        }
        match node.worst() {
            Some(Severity::Critical) => Tone::Critical,
            Some(Severity::High) => Tone::High,
            Some(Severity::Medium) => Tone::Medium,
            Some(Severity::Low) => Tone::Low,
            None => match status_class(&node.status) {
                Some("finding") => Tone::High,
                Some("open") => Tone::Unrated,
                Some(_) => Tone::Clean,
                None => Tone::Plain,
            },
        }
    }

    /// The class name (Mermaid `class`, SVG `data-severity`).
    pub fn name(self) -> &'static str {
        match self {
            Tone::Critical => "critical",
            Tone::High => "high",
            Tone::Medium => "medium",
            Tone::Low => "low",
            Tone::Unrated => "unrated",
            Tone::Clean => "clean",
            Tone::Plain => "plain",
            Tone::Proposed => "proposed",
        }
    }

    /// The outline's dash pattern (SVG `stroke-dasharray`), for the tones drawn dashed.
    pub fn dash(self) -> Option<&'static str> {
        (self == Tone::Proposed).then_some(PROPOSED_DASH)
    }

    /// Border colour, fill colour and border width (px).
    pub fn paint(self) -> (&'static str, &'static str, f64) {
        match self {
            Tone::Critical => ("#7f1d1d", "#fca5a5", 4.0),
            Tone::High => ("#c2410c", "#ffedd5", 3.0),
            Tone::Medium => ("#a16207", "#fef9c3", 2.0),
            Tone::Low => ("#475569", "#e2e8f0", 2.0),
            Tone::Unrated => ("#b35c00", "#fff4e5", 2.0),
            Tone::Clean => ("#2e7d32", "#e8f5e9", 1.3),
            Tone::Plain => ("#1f2933", "#ffffff", 1.3),
            Tone::Proposed => (PROPOSED_STROKE, "#f0f2f5", 1.3),
        }
    }
}

/// The grey of what the infrastructure baseline proposes (outlines and flows).
pub const PROPOSED_STROKE: &str = "#7b8794";
/// The dash pattern of proposed elements and flows (SVG `stroke-dasharray`).
pub const PROPOSED_DASH: &str = "5 3";

/// The legend's line for what the infrastructure baseline proposes, in every format, shown
/// only when the diagram has something proposed.
pub const LEGEND_PROPOSED: &str =
    "grey dashed, marked proposed: from the infrastructure baseline, not annotated yet";

/// The legend's words for the tones, the same in every format.
pub const LEGEND_TONES: &str = "border by worst open severity: critical (dark red, 4 px) · high (orange, 3 px) · medium / low / unrated (2 px) · green: nothing open";

/// The legend's shape samples, in DOT and SVG.
pub const LEGEND_SHAPES: [(ElementKind, &str); 3] = [
    (ElementKind::Actor, "Actor / external entity"),
    (ElementKind::Process, "Process"),
    (ElementKind::DataStore, "Data store"),
];

/// The legend's text lines (the badge and the boundary), in DOT and SVG.
pub const LEGEND_LINES: [&str; 4] = [
    "⚠ open exposure · ✗ confirmed finding, named with [severity]; ✓ N mitigated · N accepted · N transferred",
    LEGEND_TONES,
    "data: classifications from @handles",
    "dashed box: trust boundary",
];

/// The legend's line for component groups, in every format, shown only when the diagram has
/// one (so diagrams without colon paths are drawn as before).
pub const LEGEND_GROUP: &str = "thin grey box: component (ThreatSpec path A:B:C)";

/// How a cluster's outline is drawn, the same in every format: a trust boundary dashed on a
/// tinted fill, a component group thin, grey and solid on white, so the two never read alike
/// (nested component groups are told apart by their titles and insets).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClusterLook {
    pub stroke: &'static str,
    pub fill: &'static str,
    /// Outline width (px).
    pub width: f64,
    /// SVG dash pattern; `None` for a solid outline.
    pub dash: Option<&'static str>,
    /// What the cluster is, for tooltips (`Trust boundary: …`, `Component: …`).
    pub what: &'static str,
    /// The title's colour and SVG `font-weight`.
    pub title_ink: &'static str,
    pub title_weight: &'static str,
}

pub const BOUNDARY_LOOK: ClusterLook = ClusterLook {
    stroke: "#616e7c",
    fill: "#f5f7fa",
    width: 1.5,
    dash: Some("7 4"),
    what: "Trust boundary",
    title_ink: "#3e4c59",
    title_weight: "bold",
};
pub const GROUP_LOOK: ClusterLook = ClusterLook {
    stroke: "#9aa5b1",
    fill: "#ffffff",
    width: 1.0,
    dash: None,
    what: "Component",
    title_ink: "#52606d",
    title_weight: "normal",
};

/// A network boundary the infrastructure baseline proposes: grey, dotted, on white, its title
/// starting with "proposed".
pub const PROPOSED_LOOK: ClusterLook = ClusterLook {
    stroke: "#9aa5b1",
    fill: "#ffffff",
    width: 1.2,
    dash: Some("2 3"),
    what: "Proposed boundary (infrastructure baseline)",
    title_ink: "#52606d",
    title_weight: "normal",
};

impl ClusterLook {
    pub fn of(group: &BoundaryGroup) -> ClusterLook {
        if group.proposed {
            PROPOSED_LOOK
        } else if group.component {
            GROUP_LOOK
        } else {
            BOUNDARY_LOOK
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threat(name: &str, severity: Option<Severity>, confirmed: bool) -> NamedThreat {
        NamedThreat { name: name.into(), severity, word: severity.map(|s| s.as_str().into()), confirmed }
    }

    #[test]
    fn lines_name_the_worst_threats_first_then_count_the_rest() {
        let node = Node {
            kind: ElementKind::DataStore,
            status: ThreatStatus { open: 4, mitigated: 1, ..Default::default() },
            threats: vec![
                threat("SQL Injection", Some(Severity::Critical), false),
                threat("IDOR", Some(Severity::High), true),
                threat("XSS", None, false),
                threat("DoS", None, false),
            ],
            handles: vec!["pii".into(), "financial".into()],
            ..Default::default()
        };
        assert_eq!(
            detail_lines(&node, 2),
            [
                "⚠ 4 open · ✓ 1 mitigated",
                "⚠ SQL Injection [critical]",
                "✗ IDOR [high]",
                "+2 more",
                "data: pii, financial"
            ]
        );
        assert_eq!(Tone::of(&node), Tone::Critical);
        let unrated = Node { threats: vec![threat("XSS", None, false)], ..node.clone() };
        assert_eq!(Tone::of(&unrated), Tone::Unrated);
        let finding = Node { threats: vec![threat("XSS", None, true)], ..node };
        assert_eq!(Tone::of(&finding), Tone::High);
        // Critical and high never differ by colour alone.
        assert!(
            Tone::Critical.paint().2 > Tone::High.paint().2 && Tone::High.paint().2 > Tone::Medium.paint().2
        );
    }
}
