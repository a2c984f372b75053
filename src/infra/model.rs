//! The infrastructure model: what a set of templates says about a system, as a data-flow
//! diagram's parts, with the location of every fact.
//!
//! Owns: [`InfraModel`] and its parts ([`Element`], [`Boundary`], [`Flow`], [`Proposal`],
//! [`Unknown`]), the generic attribute value [`Value`] (with its [`Origin`]) that every
//! extractor fills so that rules read one shape whatever the format, and the fixed Internet
//! entity ([`INTERNET`]). Must never: parse a format (the extractors do), decide a threat (the
//! rules do), or hold a value it guessed (what is not known statically is [`Value::Unknown`]).

use std::collections::BTreeMap;

use crate::analysis::stride::Stride;
use crate::syntax::Severity;

/// The key of the fixed external entity every ingress from `0.0.0.0/0` or `::/0` comes from.
pub const INTERNET: &str = "internet";

/// Where a fact comes from: a project-relative path, the 1-based line of the start and the
/// byte range in the file's text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    pub path: String,
    pub line: u32,
    pub start: usize,
    pub end: usize,
}

impl Origin {
    /// `path:line`, as every output shows it.
    pub fn display(&self) -> String {
        format!("{}:{}", self.path, self.line)
    }
}

/// The template format an element, boundary or flow comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Terraform,
    CloudFormation,
    Kubernetes,
    Compose,
    OpenApi,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Terraform => "terraform",
            Format::CloudFormation => "cloudformation",
            Format::Kubernetes => "kubernetes",
            Format::Compose => "compose",
            Format::OpenApi => "openapi",
        }
    }
}

/// A data-flow diagram element's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ElementKind {
    /// Buckets, databases, queues, caches, volumes, secrets.
    DataStore,
    /// Compute, functions, containers, load balancers, API gateways.
    Process,
    /// The Internet, third-party endpoints.
    ExternalEntity,
    /// A resource that configures others (a security group rule, a listener, a policy, a route
    /// table): rules read it, and propose threats on it when it has no diagram element to
    /// belong to (an IAM policy); diagrams do not draw it.
    Configuration,
}

impl ElementKind {
    pub fn name(self) -> &'static str {
        match self {
            ElementKind::DataStore => "data store",
            ElementKind::Process => "process",
            ElementKind::ExternalEntity => "external entity",
            ElementKind::Configuration => "configuration",
        }
    }
    /// Whether a data-flow diagram draws it.
    pub fn is_diagram(self) -> bool {
        self != ElementKind::Configuration
    }
}

/// An attribute's value as the template states it, each part with its location.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    /// A number as written (`443`, `1.5`): compared through [`Attr::as_u64`].
    Number(String),
    Bool(bool),
    Null,
    List(Vec<Attr>),
    /// An object or a nested block's attributes (HCL blocks are a [`Value::List`] of maps,
    /// one per block, since a block may repeat).
    Map(BTreeMap<String, Attr>),
    /// A reference to another resource or boundary (its key: `aws_vpc.main`,
    /// `module.db.aws_db_instance.main`, `cfn:Vpc`), resolved by the extractor.
    Reference(String),
    /// Not statically resolvable (a variable without a literal default, a function call, a
    /// data source's attribute): the text as written, never a guess.
    Unknown(String),
}

/// A value with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Attr {
    pub value: Value,
    pub origin: Origin,
}

impl Attr {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    /// A boolean, also when written as the string `"true"`/`"false"` (CloudFormation does).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            Value::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }
    /// A whole non-negative number, also when written as a string (`"22"`).
    pub fn as_u64(&self) -> Option<u64> {
        match &self.value {
            Value::Number(s) | Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    pub fn as_list(&self) -> &[Attr] {
        match &self.value {
            Value::List(items) => items,
            _ => &[],
        }
    }
    pub fn as_map(&self) -> Option<&BTreeMap<String, Attr>> {
        match &self.value {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self.value, Value::Unknown(_))
    }
    /// The attribute at `key` of a map value; of a list of maps (HCL blocks), the first
    /// block's.
    pub fn get(&self, key: &str) -> Option<&Attr> {
        match &self.value {
            Value::Map(map) => map.get(key),
            Value::List(items) => items.first().and_then(|i| i.get(key)),
            _ => None,
        }
    }
    /// The strings of this value: itself, or each string of a list.
    pub fn strings(&self) -> Vec<&str> {
        match &self.value {
            Value::Str(s) => vec![s.as_str()],
            Value::List(items) => items.iter().filter_map(Attr::as_str).collect(),
            _ => Vec::new(),
        }
    }
    /// The references of this value: itself, or each reference of a list (nested).
    pub fn references(&self) -> Vec<&str> {
        match &self.value {
            Value::Reference(r) => vec![r.as_str()],
            Value::List(items) => items.iter().flat_map(Attr::references).collect(),
            _ => Vec::new(),
        }
    }
}

/// A resource, a data-flow diagram element.
#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    /// Stable address: `aws_s3_bucket.logs`, `module.db.aws_db_instance.main`, `cfn:LogsBucket`,
    /// `k8s:shop/Deployment/web`, `compose:db`, `openapi:GET /orders`, [`INTERNET`].
    pub key: String,
    pub kind: ElementKind,
    pub format: Format,
    /// The template's resource type (`aws_s3_bucket`, `AWS::S3::Bucket`, `Deployment`).
    pub resource_type: String,
    /// The name the template gives it (`logs`).
    pub name: String,
    /// Keys of the boundaries it sits in, sorted.
    pub boundaries: Vec<String>,
    /// The resource's declaration.
    pub origin: Origin,
    /// Its attributes and nested blocks, by name.
    pub attributes: BTreeMap<String, Attr>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attributes.get(name)
    }
    /// The attribute at a dotted path through maps and blocks (`server_side_encryption.enabled`).
    pub fn path(&self, path: &str) -> Option<&Attr> {
        let mut parts = path.split('.');
        let mut at = self.attributes.get(parts.next()?)?;
        for part in parts {
            at = at.get(part)?;
        }
        Some(at)
    }
}

/// A network boundary's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BoundaryKind {
    Vpc,
    /// A subnet, public when a route table with a route to an internet gateway is associated
    /// with it (or it maps public addresses on launch), private when its associations are known
    /// and none is, unknown otherwise.
    Subnet(Exposure),
    SecurityGroup,
    /// A Kubernetes namespace.
    Namespace,
    /// A Compose network.
    Network,
}

/// Whether a subnet is reachable from the Internet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Exposure {
    Public,
    Private,
    Unknown,
}

impl BoundaryKind {
    pub fn name(self) -> &'static str {
        match self {
            BoundaryKind::Vpc => "vpc",
            BoundaryKind::Subnet(Exposure::Public) => "public subnet",
            BoundaryKind::Subnet(Exposure::Private) => "private subnet",
            BoundaryKind::Subnet(Exposure::Unknown) => "subnet",
            BoundaryKind::SecurityGroup => "security group",
            BoundaryKind::Namespace => "namespace",
            BoundaryKind::Network => "network",
        }
    }
}

/// A network boundary.
#[derive(Clone, Debug, PartialEq)]
pub struct Boundary {
    pub key: String,
    pub kind: BoundaryKind,
    pub name: String,
    /// The enclosing boundary (a subnet's VPC), when known.
    pub parent: Option<String>,
    pub origin: Origin,
}

/// How data moves: protocol and port as far as the template says (`None` = not stated or not
/// resolvable).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mechanism {
    pub protocol: Option<String>,
    /// A port or a range `from..=to`.
    pub ports: Option<(u64, u64)>,
}

impl Mechanism {
    /// `tcp/443`, `tcp/0-65535`, `https`, `unknown`.
    pub fn display(&self) -> String {
        let ports = match self.ports {
            Some((a, b)) if a == b => Some(a.to_string()),
            Some((a, b)) => Some(format!("{a}-{b}")),
            None => None,
        };
        match (&self.protocol, ports) {
            (Some(p), Some(ports)) => format!("{p}/{ports}"),
            (Some(p), None) => p.clone(),
            (None, Some(ports)) => format!("port {ports}"),
            (None, None) => "unknown".to_string(),
        }
    }
    /// Whether two statements of a flow between the same ends describe the same mechanism: the
    /// same ports (or both unstated) and the same protocol, or one the transport (`tcp`) of the
    /// other (`http`, `https`, `tls`: a security group rule opening `tcp/443` and the listener
    /// on `https/443` it lets through are one flow).
    pub fn agrees(&self, other: &Mechanism) -> bool {
        self.ports == other.ports
            && match (self.protocol.as_deref(), other.protocol.as_deref()) {
                (a, b) if a == b => true,
                (Some("tcp"), Some(app)) | (Some(app), Some("tcp")) => OVER_TCP.contains(&app),
                _ => false,
            }
    }

    /// Whether the port range includes `port` (an unstated range does not).
    pub fn includes(&self, port: u64) -> bool {
        self.ports.is_some_and(|(a, b)| a <= port && port <= b)
    }
}

/// Application protocols a listener or route names that run over TCP ([`Mechanism::agrees`]).
const OVER_TCP: &[&str] = &["http", "https", "tls", "grpc", "grpcs", "http2", "ws", "wss"];

/// A data flow between two elements (keys of [`InfraModel::elements`], or [`INTERNET`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Flow {
    pub from: String,
    pub to: String,
    pub mechanism: Mechanism,
    /// What says so (a security group rule, a listener, an integration).
    pub origin: Origin,
    /// Where else the same flow is stated, sorted (filled by [`InfraModel::finish`], which
    /// merges flows with the same ends and agreeing mechanisms: see [`Mechanism::agrees`]).
    /// Extractors leave it empty.
    pub also: Vec<Origin>,
}

impl Flow {
    /// Every place that states the flow, `path:line, path:line`.
    pub fn origins_display(&self) -> String {
        std::iter::once(&self.origin).chain(&self.also).map(Origin::display).collect::<Vec<_>>().join(", ")
    }
}

/// Whether a rule found the weakness or the control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    Exposure,
    Mitigation,
}

/// A threat a rule proposes for an element: an exposure, or the mitigation the template shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// The rule's id ([`crate::infra::rules::Rule::id`]).
    pub rule: &'static str,
    pub element: String,
    pub outcome: Outcome,
    pub stride: Stride,
    pub severity: Severity,
    /// Why, naming the attribute and its value (`publicly_accessible = true`).
    pub detail: String,
    /// The attribute (or the resource, when an attribute is missing) that decided.
    pub origin: Origin,
}

/// Something the extractors could not resolve statically, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unknown {
    pub what: String,
    pub origin: Origin,
}

/// The baseline model of a set of templates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InfraModel {
    pub elements: Vec<Element>,
    pub boundaries: Vec<Boundary>,
    pub flows: Vec<Flow>,
    pub proposals: Vec<Proposal>,
    pub unknowns: Vec<Unknown>,
}

impl InfraModel {
    pub fn element(&self, key: &str) -> Option<&Element> {
        self.elements.iter().find(|e| e.key == key)
    }
    pub fn boundary(&self, key: &str) -> Option<&Boundary> {
        self.boundaries.iter().find(|b| b.key == key)
    }
    /// Whether any flow reaches `key` from the Internet.
    pub fn reachable_from_internet(&self, key: &str) -> bool {
        self.flows.iter().any(|f| f.from == INTERNET && f.to == key)
    }
    /// Sorts every part by key and location and removes duplicates: the same templates give
    /// the same model whatever the order they were read in.
    pub fn finish(&mut self) {
        self.elements.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.origin.cmp(&b.origin)));
        self.elements.dedup_by(|a, b| a.key == b.key);
        for e in &mut self.elements {
            e.boundaries.sort();
            e.boundaries.dedup();
        }
        self.boundaries.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.origin.cmp(&b.origin)));
        self.boundaries.dedup_by(|a, b| a.key == b.key);
        self.flows.sort();
        self.flows.dedup();
        self.flows = merge_flows(std::mem::take(&mut self.flows));
        self.proposals.sort_by(|a, b| {
            (&a.element, a.rule, a.outcome, &a.origin).cmp(&(&b.element, b.rule, b.outcome, &b.origin))
        });
        self.proposals.dedup_by(|a, b| a.element == b.element && a.rule == b.rule && a.outcome == b.outcome);
        self.unknowns.sort();
        self.unknowns.dedup();
    }
}

/// One flow per ends and agreeing mechanism ([`Mechanism::agrees`]), every origin kept: the
/// application protocol wins over its transport (`https/443` over `tcp/443`), with the origin
/// that states it first and the others in [`Flow::also`]. `flows` is sorted; so is the result.
fn merge_flows(flows: Vec<Flow>) -> Vec<Flow> {
    let mut merged: Vec<Flow> = Vec::with_capacity(flows.len());
    let mut group_start = 0;
    for flow in flows {
        if merged.last().is_some_and(|last| last.from != flow.from || last.to != flow.to) {
            group_start = merged.len();
        }
        let same = merged[group_start..].iter_mut().find(|m| m.mechanism.agrees(&flow.mechanism));
        let Some(into) = same else {
            merged.push(flow);
            continue;
        };
        let Flow { mechanism, origin, also, .. } = flow;
        if into.mechanism.protocol.as_deref() == Some("tcp") && mechanism.protocol.as_deref() != Some("tcp") {
            into.mechanism = mechanism;
            into.also.push(std::mem::replace(&mut into.origin, origin));
        } else {
            into.also.push(origin);
        }
        into.also.extend(also);
        into.also.sort();
        into.also.dedup();
        into.also.retain(|o| *o != into.origin);
    }
    merged.sort();
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(to: &str, protocol: &str, port: u64, line: u32) -> Flow {
        Flow {
            from: INTERNET.into(),
            to: to.into(),
            mechanism: Mechanism { protocol: Some(protocol.into()), ports: Some((port, port)) },
            origin: Origin { path: "main.tf".into(), line, start: line as usize, end: line as usize + 1 },
            also: Vec::new(),
        }
    }

    #[test]
    fn flows_with_the_same_ends_and_agreeing_mechanisms_merge_keeping_every_origin() {
        let raw = vec![
            flow("lb", "tcp", 443, 9),
            flow("lb", "https", 443, 68),
            flow("lb", "tcp", 80, 16),
            flow("lb", "http", 80, 54),
            flow("lb", "tcp", 80, 16),
            flow("lb", "udp", 443, 3),
            flow("web", "https", 443, 70),
        ];
        let mut model = InfraModel { flows: raw.clone(), ..InfraModel::default() };
        model.finish();
        let shown: Vec<String> = model
            .flows
            .iter()
            .map(|f| format!("{} {} {}", f.to, f.mechanism.display(), f.origins_display()))
            .collect();
        assert_eq!(
            shown,
            [
                "lb http/80 main.tf:54, main.tf:16",
                "lb https/443 main.tf:68, main.tf:9",
                "lb udp/443 main.tf:3",
                "web https/443 main.tf:70",
            ]
        );
        // Merging is deterministic whatever the order the extractors pushed in.
        let mut reversed = InfraModel { flows: raw.into_iter().rev().collect(), ..InfraModel::default() };
        reversed.finish();
        assert_eq!(reversed.flows, model.flows);
    }

    #[test]
    fn mechanisms_agree_only_on_the_same_ports_and_a_compatible_protocol() {
        let m = |p: Option<&str>, ports: Option<(u64, u64)>| Mechanism { protocol: p.map(Into::into), ports };
        assert!(m(Some("tcp"), Some((443, 443))).agrees(&m(Some("https"), Some((443, 443)))));
        assert!(m(Some("https"), Some((443, 443))).agrees(&m(Some("tcp"), Some((443, 443)))));
        assert!(m(None, None).agrees(&m(None, None)));
        assert!(!m(Some("tcp"), Some((443, 443))).agrees(&m(Some("https"), Some((8443, 8443)))));
        assert!(!m(Some("http"), Some((80, 80))).agrees(&m(Some("https"), Some((80, 80)))));
        assert!(!m(Some("udp"), Some((443, 443))).agrees(&m(Some("https"), Some((443, 443)))));
        assert!(!m(Some("tcp"), None).agrees(&m(Some("event"), None)));
    }
}
