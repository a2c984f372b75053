//! The infrastructure baseline ([`crate::infra`]) on a data-flow diagram: `dfd --with-baseline`
//! (the annotated diagram and what the baseline adds to it) and `dfd --baseline-only` (the
//! baseline alone, which is the same merge into an empty diagram).
//!
//! Owns: the merge rule, below, in one place. Must never: change what the annotations say
//! (annotated elements, flows and boundaries keep their kind, label, status and cluster), decide
//! how a proposed part looks ([`super::look`]) or write output syntax.
//!
//! # Matching
//!
//! - **Elements.** A baseline element the diagram draws (a data store, a process or an external
//!   entity; configuration resources are not drawn) matches the annotated node whose key is the
//!   asset the baseline would write for it: [`super::infra::asset_id`] of its address, as a path
//!   key (`module.db.aws_db_instance.main` -> `@asset module_db_aws_db_instance_main`, the node
//!   `module_db_aws_db_instance_main`; the Internet -> `internet`, so an annotated `@actor
//!   Internet` is it). A match is annotated: the annotated node wins and nothing of the baseline
//!   is added to it. Any other element is *proposed*: a node of its own (label: its address, or
//!   `Internet`; kind: data store, process, or actor for an external entity), carrying its
//!   resource type, template location and the number of exposures and mitigations the baseline's
//!   rules propose for it ([`Proposed`]).
//! - **Flows.** A baseline flow between two drawn elements (annotated or proposed) matches when
//!   the annotated diagram already has a flow between the same two nodes in that direction (or
//!   a two-way one); its mechanism plays no part (annotated wins). Any other is a proposed flow,
//!   labelled `proposed: <mechanism>` (`proposed` when the templates state none). Flows stated several times in the templates are one flow
//!   already ([`crate::infra::model::Flow::also`]).
//! - **Boundaries.** A baseline boundary matches the annotated trust boundary whose key is the
//!   id the baseline would write for it ([`super::infra::boundary_id`]: `@boundary ...
//!   (#module-network-aws-subnet-public)`). Proposed nodes are placed in one *zone*: of the
//!   network boundaries they lie in (subnets, VPCs, Kubernetes namespaces, Compose networks;
//!   security groups, which wrap single resources, are not drawn), the innermost one, or the
//!   common enclosing one when they lie in several (an auto scaling group in two subnets of a
//!   VPC is drawn in the VPC), or none. A zone that matches an annotated boundary puts the
//!   proposed node in that boundary's cluster; any other zone is a proposed cluster (titled
//!   `proposed <kind>: <address>`), nested in the proposed cluster of its enclosing zone (a
//!   subnet in its VPC) when that one is drawn too. Annotated nodes stay in their clusters.
//!
//! # Ids and order
//!
//! Proposed nodes get [`node_id`] of their key (so they can never collide with an annotated
//! node: the same key is a match), proposed clusters [`proposed_boundary_id`] of the baseline's
//! key. Two baseline elements whose asset ids are the same (`a.b_c`, `a_b.c`) are one node, the
//! first in the baseline's order. The result is sorted as [`super::dfd`] sorts: the same
//! diagram and baseline give the same [`Dfd`].

use std::collections::{BTreeMap, BTreeSet};

use super::dfd::{BoundaryGroup, Dfd, Edge, ElementKind, Node, Proposed, node_id, proposed_boundary_id};
use super::infra::{asset_id, boundary_id as gal_boundary_id};
use super::look;
use crate::infra::model::{self, BoundaryKind, INTERNET, InfraModel, Outcome};
use crate::model::names::path_key;

/// The node key the baseline's asset for `element_key` has in an annotated diagram.
pub fn node_key(element_key: &str) -> String {
    path_key(&asset_id(element_key))
}

/// `dfd` with the parts of `baseline` it lacks added as proposed (see the module docs).
pub fn merge(mut dfd: Dfd, baseline: &InfraModel) -> Dfd {
    let annotated: BTreeMap<&str, &str> = dfd.nodes.iter().map(|n| (n.key.as_str(), n.id.as_str())).collect();
    // Element key -> node id, for every drawn element (annotated or proposed).
    let mut drawn: BTreeMap<&str, String> = BTreeMap::new();
    let mut proposed: Vec<(Node, &model::Element)> = Vec::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for e in baseline.elements.iter().filter(|e| e.kind.is_diagram()) {
        let key = node_key(&e.key);
        if key.is_empty() {
            continue;
        }
        if let Some(id) = annotated.get(key.as_str()) {
            drawn.insert(&e.key, (*id).to_string());
            continue;
        }
        let id = node_id(&key);
        drawn.insert(&e.key, id.clone());
        if !taken.insert(id.clone()) {
            continue;
        }
        let count = |outcome: Outcome| {
            baseline.proposals.iter().filter(|p| p.element == e.key && p.outcome == outcome).count()
        };
        let node = Node {
            id,
            key,
            label: if e.key == INTERNET { e.name.clone() } else { e.key.clone() },
            kind: match e.kind {
                model::ElementKind::DataStore => ElementKind::DataStore,
                model::ElementKind::ExternalEntity => ElementKind::Actor,
                model::ElementKind::Process | model::ElementKind::Configuration => ElementKind::Process,
            },
            proposed: Some(Proposed {
                resource_type: e.resource_type.clone(),
                origin: (!e.origin.path.is_empty()).then(|| e.origin.display()),
                exposures: count(Outcome::Exposure),
                mitigations: count(Outcome::Mitigation),
            }),
            ..Node::default()
        };
        proposed.push((node, e));
    }

    // Zones: an annotated boundary's cluster, or a proposed cluster.
    let matched: BTreeMap<String, String> = dfd
        .boundaries
        .iter()
        .filter(|b| !b.component && !b.proposed)
        .map(|b| (b.key.clone(), b.id.clone()))
        .collect();
    let cluster_of = |zone: &str| -> (String, bool) {
        match matched.get(&gal_boundary_id(zone)) {
            Some(id) => (id.clone(), false),
            None => (proposed_boundary_id(zone), true),
        }
    };
    let mut clusters: BTreeMap<String, BoundaryGroup> = BTreeMap::new();
    for (node, e) in &mut proposed {
        let Some(zone) = zone(e, baseline) else { continue };
        let (id, new) = cluster_of(zone);
        node.boundary = Some(id.clone());
        if new {
            add_proposed_cluster(zone, baseline, &cluster_of, &mut clusters);
            if let Some(cluster) = clusters.get_mut(&id) {
                cluster.members.push(node.id.clone());
            }
        } else if let Some(group) = dfd.boundaries.iter_mut().find(|b| b.id == id) {
            group.members.push(node.id.clone());
        }
    }

    // Flows.
    let ways: BTreeSet<(&str, &str)> = dfd
        .edges
        .iter()
        .flat_map(|e| {
            let back = e.two_way.then_some((e.to.as_str(), e.from.as_str()));
            std::iter::once((e.from.as_str(), e.to.as_str())).chain(back)
        })
        .collect();
    let mut edges: BTreeSet<Edge> = BTreeSet::new();
    for f in &baseline.flows {
        let (Some(from), Some(to)) = (drawn.get(f.from.as_str()), drawn.get(f.to.as_str())) else { continue };
        if ways.contains(&(from.as_str(), to.as_str())) {
            continue;
        }
        let stated = f.mechanism.protocol.is_some() || f.mechanism.ports.is_some();
        edges.insert(Edge {
            from: from.clone(),
            to: to.clone(),
            label: Some(look::proposed_flow_label(stated.then(|| f.mechanism.display()).as_deref())),
            two_way: false,
            proposed: true,
        });
    }

    dfd.nodes.extend(proposed.into_iter().map(|(node, _)| node));
    dfd.nodes.sort_by(|a, b| a.id.cmp(&b.id));
    dfd.edges.extend(edges);
    dfd.edges.sort();
    dfd.edges.dedup();
    dfd.boundaries.extend(clusters.into_values());
    dfd.boundaries.sort_by(|a, b| a.id.cmp(&b.id));
    for group in &mut dfd.boundaries {
        group.members.sort();
        group.members.dedup();
    }
    dfd
}

/// The drawn network boundary of an element (see the module docs): the innermost of its zones,
/// or their common enclosing one, or none.
fn zone<'m>(e: &model::Element, baseline: &'m InfraModel) -> Option<&'m str> {
    let zones: Vec<&model::Boundary> = e
        .boundaries
        .iter()
        .filter_map(|key| baseline.boundary(key))
        .filter(|b| b.kind != BoundaryKind::SecurityGroup)
        .collect();
    // Leave out a zone that encloses another of the element's zones.
    let inner: Vec<&model::Boundary> = zones
        .iter()
        .copied()
        .filter(|z| !zones.iter().any(|other| other.parent.as_deref() == Some(z.key.as_str())))
        .collect();
    match inner.as_slice() {
        [] => None,
        [one] => Some(one.key.as_str()),
        [first, rest @ ..] => {
            let parent = first.parent.as_deref()?;
            let common = rest.iter().all(|z| z.parent.as_deref() == Some(parent));
            common.then(|| baseline.boundary(parent).map(|b| b.key.as_str())).flatten()
        }
    }
}

/// Adds the proposed cluster of `zone` and, while they are not annotated, those of its
/// enclosing zones, each nested in the next.
fn add_proposed_cluster(
    zone: &str,
    baseline: &InfraModel,
    cluster_of: &dyn Fn(&str) -> (String, bool),
    clusters: &mut BTreeMap<String, BoundaryGroup>,
) {
    let mut at = baseline.boundary(zone);
    // A parent chain is at most as long as the boundaries (a loop stops there).
    for _ in 0..=baseline.boundaries.len() {
        let Some(b) = at else { return };
        let (id, new) = cluster_of(&b.key);
        if !new || clusters.contains_key(&id) {
            return;
        }
        let parent = b.parent.as_deref().and_then(|p| baseline.boundary(p));
        let parent_id = parent.map(|p| cluster_of(&p.key)).filter(|(_, new)| *new).map(|(id, _)| id);
        clusters.insert(
            id.clone(),
            BoundaryGroup {
                id,
                key: b.key.clone(),
                title: look::proposed_boundary_title(b.kind.name(), &b.key),
                parent: parent_id,
                proposed: true,
                ..BoundaryGroup::default()
            },
        );
        at = parent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::{SourceFile, derive};
    use crate::syntax::Language;

    const TERRAFORM: &str = r#"
resource "aws_vpc" "main" { cidr_block = "10.0.0.0/16" }
resource "aws_subnet" "a" {
  vpc_id = aws_vpc.main.id
  map_public_ip_on_launch = true
}
resource "aws_subnet" "b" {
  vpc_id = aws_vpc.main.id
  map_public_ip_on_launch = true
}
resource "aws_security_group" "web" {
  vpc_id = aws_vpc.main.id
  ingress {
    from_port = 443
    to_port = 443
    protocol = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
resource "aws_instance" "one" {
  subnet_id = aws_subnet.a.id
  vpc_security_group_ids = [aws_security_group.web.id]
}
resource "aws_instance" "both" {
  subnet_id = aws_subnet.b.id
  vpc_security_group_ids = [aws_security_group.web.id]
  user_data = aws_s3_bucket.data.id
}
resource "aws_s3_bucket" "data" { bucket = "data" }
"#;

    fn baseline() -> InfraModel {
        derive(&[SourceFile { path: "main.tf".into(), language: Language::Hcl, text: TERRAFORM.into() }])
    }

    fn node(key: &str, label: &str) -> Node {
        Node { id: node_id(key), key: key.into(), label: label.into(), ..Node::default() }
    }

    fn lines(dfd: &Dfd) -> Vec<String> {
        let mut out: Vec<String> = dfd
            .nodes
            .iter()
            .map(|n| {
                let mark = if n.proposed.is_some() { "proposed " } else { "" };
                format!("{mark}node {} {:?} in {:?}", n.id, n.label, n.boundary)
            })
            .collect();
        out.extend(
            dfd.edges.iter().map(|e| format!("edge {} -> {} {:?} {}", e.from, e.to, e.label, e.proposed)),
        );
        out.extend(dfd.boundaries.iter().map(|b| {
            format!(
                "cluster {} {:?} parent {:?} proposed {}: {}",
                b.id,
                b.title,
                b.parent,
                b.proposed,
                b.members.join(" ")
            )
        }));
        out
    }

    #[test]
    fn the_baseline_alone_is_all_proposed_in_its_zones() {
        let dfd = merge(Dfd::default(), &baseline());
        expect_test::expect![[r#"
            proposed node n_aws_instance_both "aws_instance.both" in Some("pb_aws_subnet__b")
            proposed node n_aws_instance_one "aws_instance.one" in Some("pb_aws_subnet__a")
            proposed node n_aws_s3_bucket_data "aws_s3_bucket.data" in None
            proposed node n_internet "Internet" in None
            edge n_aws_instance_both -> n_aws_s3_bucket_data Some("proposed") true
            edge n_internet -> n_aws_instance_both Some("proposed: tcp/443") true
            edge n_internet -> n_aws_instance_one Some("proposed: tcp/443") true
            cluster pb_aws_subnet__a "proposed public subnet: aws_subnet.a" parent Some("pb_aws_vpc__main") proposed true: n_aws_instance_one
            cluster pb_aws_subnet__b "proposed public subnet: aws_subnet.b" parent Some("pb_aws_vpc__main") proposed true: n_aws_instance_both
            cluster pb_aws_vpc__main "proposed vpc: aws_vpc.main" parent None proposed true: "#]]
        .assert_eq(&lines(&dfd).join("\n"));
        assert!(dfd.nodes.iter().all(|n| look::detail_lines(n, 3)[0].starts_with("proposed · ")));
        // The same answer every time.
        assert_eq!(merge(Dfd::default(), &baseline()), dfd);
    }

    #[test]
    fn annotated_elements_flows_and_boundaries_win() {
        let mut annotated = Dfd {
            nodes: vec![node("aws_instance_one", "Web server"), node("internet", "The Internet")],
            boundaries: vec![BoundaryGroup {
                id: "b_aws_subnet_b".into(),
                key: "aws-subnet-b".into(),
                title: "Web tier (#aws-subnet-b)".into(),
                ..BoundaryGroup::default()
            }],
            ..Dfd::default()
        };
        annotated.nodes[0].kind = ElementKind::DataStore;
        annotated.edges.push(Edge {
            from: node_id("internet"),
            to: node_id("aws_instance_one"),
            label: Some("HTTPS".into()),
            two_way: false,
            proposed: false,
        });
        let dfd = merge(annotated.clone(), &baseline());
        expect_test::expect![[r#"
            proposed node n_aws_instance_both "aws_instance.both" in Some("b_aws_subnet_b")
            node n_aws_instance_one "Web server" in None
            proposed node n_aws_s3_bucket_data "aws_s3_bucket.data" in None
            node n_internet "The Internet" in None
            edge n_aws_instance_both -> n_aws_s3_bucket_data Some("proposed") true
            edge n_internet -> n_aws_instance_both Some("proposed: tcp/443") true
            edge n_internet -> n_aws_instance_one Some("HTTPS") false
            cluster b_aws_subnet_b "Web tier (#aws-subnet-b)" parent None proposed false: n_aws_instance_both"#]]
        .assert_eq(&lines(&dfd).join("\n"));
        // The annotated node keeps its kind; nothing proposed is attached to it.
        let web = dfd.node(&node_id("aws_instance_one")).unwrap();
        assert_eq!((web.kind, &web.proposed), (ElementKind::DataStore, &None));
        assert!(dfd.has_proposed() && !annotated.has_proposed());
    }

    #[test]
    fn an_element_in_several_zones_is_drawn_in_the_one_around_them() {
        let boundary = |key: &str, kind: BoundaryKind, parent: Option<&str>| model::Boundary {
            key: key.into(),
            kind,
            name: key.into(),
            parent: parent.map(Into::into),
            origin: model::Origin::default(),
        };
        let public = BoundaryKind::Subnet(model::Exposure::Public);
        let baseline = InfraModel {
            boundaries: vec![
                boundary("vpc", BoundaryKind::Vpc, None),
                boundary("a", public, Some("vpc")),
                boundary("b", public, Some("vpc")),
                boundary("sg", BoundaryKind::SecurityGroup, Some("vpc")),
                boundary("other", BoundaryKind::Vpc, None),
                boundary("c", public, Some("other")),
            ],
            ..InfraModel::default()
        };
        let element = |boundaries: &[&str]| model::Element {
            key: "aws_autoscaling_group.app".into(),
            kind: model::ElementKind::Process,
            format: model::Format::Terraform,
            resource_type: "aws_autoscaling_group".into(),
            name: "app".into(),
            boundaries: boundaries.iter().map(|b| b.to_string()).collect(),
            origin: model::Origin::default(),
            attributes: BTreeMap::new(),
        };
        assert_eq!(zone(&element(&["a", "sg", "vpc"]), &baseline), Some("a"), "the innermost");
        assert_eq!(zone(&element(&["a", "b", "sg"]), &baseline), Some("vpc"), "the one around both");
        assert_eq!(zone(&element(&["a", "c"]), &baseline), None, "nothing around both");
        assert_eq!(zone(&element(&["sg"]), &baseline), None, "security groups are not drawn");
    }

    #[test]
    fn a_hostile_resource_name_stays_a_label_and_never_an_id() {
        let text = "resource \"aws_s3_bucket\" \"x\\\"]; end\\n<img src=x onerror=alert(1)>\" {}\n";
        let model =
            derive(&[SourceFile { path: "main.tf".into(), language: Language::Hcl, text: text.into() }]);
        let dfd = merge(Dfd::default(), &model);
        let bucket = dfd.nodes.iter().find(|n| n.label.contains("onerror")).expect("the bucket");
        assert!(bucket.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{}", bucket.id);
    }
}
