//! Kubernetes manifests to the infrastructure model.
//!
//! Owns: workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod) as
//! processes (data stores when a container runs a database, cache or search image), Secrets and
//! ConfigMaps as data stores, Ingresses as processes, Roles and ClusterRoles (with their
//! bindings' subjects) as configuration elements the RBAC rule reads; namespaces as boundaries; flows from
//! Service selectors (a `LoadBalancer` or `NodePort` Service is reached from the Internet),
//! Ingress rules (Internet to the Ingress, the Ingress to the workloads behind each backend
//! Service), NetworkPolicy ingress rules between selected workloads, and Secrets a workload
//! reads (environment or volume). `kind: List` is read item by item. Must never: do I/O, or
//! guess a namespace (an object that names none has no namespace boundary and its key has no
//! namespace part).
//!
//! Keys: `k8s:namespace/Kind/name` (`k8s:Kind/name` without a namespace). A workload's
//! attributes: `spec` (its pod spec, whatever the kind nests it under), `labels` (the pod's),
//! `NetworkPolicies` (the policies that select it).

pub mod rules;

use std::collections::BTreeMap;

use super::doc::Node;
use super::documents::{Source, is_store_image};
use super::model::{
    Attr, Boundary, BoundaryKind, Element, ElementKind, Flow, INTERNET, InfraModel, Mechanism, Value,
};

/// The kinds that run pods.
pub(crate) const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
    "ReplicationController",
];

struct Object<'d> {
    kind: &'d str,
    name: &'d str,
    namespace: Option<&'d str>,
    node: &'d Node,
}

impl Object<'_> {
    fn key(&self) -> String {
        match self.namespace {
            Some(ns) => format!("k8s:{ns}/{}/{}", self.kind, self.name),
            None => format!("k8s:{}/{}", self.kind, self.name),
        }
    }

    /// The pod spec of a workload.
    fn pod_spec(&self) -> Option<&Node> {
        match self.kind {
            "Pod" => self.node.get("spec"),
            "CronJob" => self.node.path(&["spec", "jobTemplate", "spec", "template", "spec"]),
            _ => self.node.path(&["spec", "template", "spec"]),
        }
    }

    fn pod_labels(&self) -> Option<&Node> {
        match self.kind {
            "Pod" => self.node.path(&["metadata", "labels"]),
            "CronJob" => self.node.path(&["spec", "jobTemplate", "spec", "template", "metadata", "labels"]),
            _ => self.node.path(&["spec", "template", "metadata", "labels"]),
        }
    }
}

/// Whether `selector` (a label map) selects `labels`; an empty selector selects everything.
fn selects(selector: &Node, labels: Option<&Node>) -> bool {
    let match_labels = selector.get("matchLabels").unwrap_or(selector);
    match_labels
        .entries()
        .iter()
        .all(|e| labels.and_then(|l| l.get(&e.key)).and_then(Node::str) == e.value.str())
        && selector.get("matchExpressions").is_none_or(|x| x.items().is_empty())
}

/// Reads the Kubernetes objects of a file into `model`.
pub fn extract(source: &Source, documents: &[Node], model: &mut InfraModel) {
    let mut objects = Vec::new();
    let mut stack: Vec<&Node> = documents.iter().rev().collect();
    while let Some(node) = stack.pop() {
        let Some(kind) = node.get("kind").and_then(Node::str) else { continue };
        if kind == "List" || kind.ends_with("List") {
            stack.extend(node.get("items").map(Node::items).unwrap_or_default().iter().rev());
            continue;
        }
        let Some(name) = node.path(&["metadata", "name"]).and_then(Node::str) else { continue };
        let namespace = node.path(&["metadata", "namespace"]).and_then(Node::str);
        objects.push(Object { kind, name, namespace, node });
    }
    let origin = |node: &Node| source.origin(node.span);
    // Namespaces.
    for o in &objects {
        let (name, at) = match (o.kind, o.namespace) {
            ("Namespace", _) => (o.name, o.node),
            (_, Some(ns)) => (ns, o.node.path(&["metadata", "namespace"]).unwrap_or(o.node)),
            _ => continue,
        };
        model.boundaries.push(Boundary {
            key: format!("k8s:namespace/{name}"),
            kind: BoundaryKind::Namespace,
            name: name.to_string(),
            parent: None,
            origin: origin(at),
        });
    }
    let boundaries =
        |o: &Object| o.namespace.map(|ns| vec![format!("k8s:namespace/{ns}")]).unwrap_or_default();
    let same_namespace = |a: &Object, b: &Object| a.namespace == b.namespace;
    let workloads: Vec<&Object> = objects.iter().filter(|o| WORKLOADS.contains(&o.kind)).collect();
    let policies: Vec<&Object> = objects.iter().filter(|o| o.kind == "NetworkPolicy").collect();
    // Elements.
    for o in &objects {
        let mut attributes = BTreeMap::new();
        let kind = if WORKLOADS.contains(&o.kind) {
            let Some(spec) = o.pod_spec() else { continue };
            attributes.insert("spec".to_string(), source.attr(spec));
            if let Some(labels) = o.pod_labels() {
                attributes.insert("labels".to_string(), source.attr(labels));
            }
            let selecting: Vec<Attr> = policies
                .iter()
                .filter(|p| same_namespace(p, o))
                .filter(|p| p.node.path(&["spec", "podSelector"]).is_some_and(|s| selects(s, o.pod_labels())))
                .map(|p| Attr { value: Value::Str(p.name.to_string()), origin: origin(p.node) })
                .collect();
            attributes.insert(
                "NetworkPolicies".to_string(),
                Attr { value: Value::List(selecting), origin: origin(o.node) },
            );
            let images: Vec<&str> =
                containers(spec).filter_map(|c| c.get("image").and_then(Node::str)).collect();
            if images.iter().any(|i| is_store_image(i)) {
                ElementKind::DataStore
            } else {
                ElementKind::Process
            }
        } else {
            match o.kind {
                "Secret" | "ConfigMap" => {
                    for field in ["data", "stringData", "type"] {
                        if let Some(node) = o.node.get(field) {
                            attributes.insert(field.to_string(), source.attr(node));
                        }
                    }
                    ElementKind::DataStore
                }
                "Ingress" => {
                    if let Some(spec) = o.node.get("spec") {
                        attributes.insert("spec".to_string(), source.attr(spec));
                    }
                    ElementKind::Process
                }
                "Role" | "ClusterRole" => {
                    if let Some(rules) = o.node.get("rules") {
                        attributes.insert("rules".to_string(), source.attr(rules));
                    }
                    let bindings: Vec<Attr> = objects
                        .iter()
                        .filter(|b| matches!(b.kind, "RoleBinding" | "ClusterRoleBinding"))
                        .filter(|b| {
                            b.node.path(&["roleRef", "kind"]).and_then(Node::str) == Some(o.kind)
                                && b.node.path(&["roleRef", "name"]).and_then(Node::str) == Some(o.name)
                        })
                        .map(|b| source.attr(b.node))
                        .collect();
                    if !bindings.is_empty() {
                        attributes.insert(
                            "bindings".to_string(),
                            Attr { value: Value::List(bindings), origin: origin(o.node) },
                        );
                    }
                    ElementKind::Configuration
                }
                _ => continue,
            }
        };
        model.elements.push(Element {
            key: o.key(),
            kind,
            format: source.format,
            resource_type: o.kind.to_string(),
            name: o.name.to_string(),
            boundaries: boundaries(o),
            origin: origin(o.node),
            attributes,
        });
    }
    // Flows.
    let services: Vec<&Object> = objects.iter().filter(|o| o.kind == "Service").collect();
    let backends = |service: &Object| -> Vec<String> {
        let Some(selector) = service.node.path(&["spec", "selector"]) else { return Vec::new() };
        if selector.entries().is_empty() {
            return Vec::new(); // a Service without a selector (endpoints managed elsewhere)
        }
        workloads
            .iter()
            .filter(|w| same_namespace(w, service) && selects(selector, w.pod_labels()))
            .map(|w| w.key())
            .collect()
    };
    let port_of = |port: &Node| port.get("port").and_then(Node::str).and_then(|p| p.parse::<u64>().ok());
    for service in &services {
        let service_type = service.node.path(&["spec", "type"]).and_then(Node::str).unwrap_or("ClusterIP");
        if !matches!(service_type, "LoadBalancer" | "NodePort") {
            continue;
        }
        for port in service.node.path(&["spec", "ports"]).map(Node::items).unwrap_or_default() {
            let protocol = port.get("protocol").and_then(Node::str).unwrap_or("TCP").to_ascii_lowercase();
            let mechanism = Mechanism { protocol: Some(protocol), ports: port_of(port).map(|p| (p, p)) };
            for to in backends(service) {
                model.flows.push(Flow {
                    from: INTERNET.into(),
                    to,
                    mechanism: mechanism.clone(),
                    origin: origin(port),
                    also: Vec::new(),
                });
            }
        }
    }
    for ingress in objects.iter().filter(|o| o.kind == "Ingress") {
        let key = ingress.key();
        let tls_hosts: Vec<&str> = ingress
            .node
            .path(&["spec", "tls"])
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .flat_map(|t| t.get("hosts").map(Node::items).unwrap_or_default())
            .filter_map(Node::str)
            .collect();
        let has_tls = ingress.node.path(&["spec", "tls"]).is_some_and(|t| !t.items().is_empty());
        let mut rules: Vec<(&Node, Option<&str>)> = Vec::new();
        for rule in ingress.node.path(&["spec", "rules"]).map(Node::items).unwrap_or_default() {
            let host = rule.get("host").and_then(Node::str);
            for path in rule.path(&["http", "paths"]).map(Node::items).unwrap_or_default() {
                rules.push((path, host));
            }
        }
        if let Some(default) = ingress.node.path(&["spec", "defaultBackend"]) {
            rules.push((default, None));
        }
        let mut hosts_seen = Vec::new();
        for (path, host) in rules {
            let tls = has_tls && host.is_none_or(|h| tls_hosts.is_empty() || tls_hosts.contains(&h));
            if !hosts_seen.contains(&(host, tls)) {
                hosts_seen.push((host, tls));
                let mechanism = if tls {
                    Mechanism { protocol: Some("https".into()), ports: Some((443, 443)) }
                } else {
                    Mechanism { protocol: Some("http".into()), ports: Some((80, 80)) }
                };
                model.flows.push(Flow {
                    from: INTERNET.into(),
                    to: key.clone(),
                    mechanism,
                    origin: origin(path),
                    also: Vec::new(),
                });
            }
            let backend = path.get("backend").unwrap_or(path);
            let service_name =
                backend.path(&["service", "name"]).or_else(|| backend.get("serviceName")).and_then(Node::str);
            let Some(service) =
                services.iter().find(|s| Some(s.name) == service_name && same_namespace(s, ingress))
            else {
                continue;
            };
            let port = backend
                .path(&["service", "port", "number"])
                .or_else(|| backend.get("servicePort"))
                .and_then(Node::str)
                .and_then(|p| p.parse().ok());
            for to in backends(service) {
                let mechanism = Mechanism { protocol: Some("http".into()), ports: port.map(|p| (p, p)) };
                model.flows.push(Flow {
                    from: key.clone(),
                    to,
                    mechanism,
                    origin: origin(backend),
                    also: Vec::new(),
                });
            }
        }
    }
    // NetworkPolicy ingress rules: `from` pod selectors to the selected workloads.
    for policy in &policies {
        let Some(selector) = policy.node.path(&["spec", "podSelector"]) else { continue };
        let targets: Vec<&&Object> = workloads
            .iter()
            .filter(|w| same_namespace(w, policy) && selects(selector, w.pod_labels()))
            .collect();
        for rule in policy.node.path(&["spec", "ingress"]).map(Node::items).unwrap_or_default() {
            let ports: Vec<Option<u64>> = match rule.get("ports").map(Node::items) {
                Some(ports) if !ports.is_empty() => ports
                    .iter()
                    .map(|p| p.get("port").and_then(Node::str).and_then(|p| p.parse().ok()))
                    .collect(),
                _ => vec![None],
            };
            for peer in rule.get("from").map(Node::items).unwrap_or_default() {
                let sources: Vec<String> = if let Some(pods) = peer.get("podSelector") {
                    workloads
                        .iter()
                        .filter(|w| same_namespace(w, policy) && selects(pods, w.pod_labels()))
                        .map(|w| w.key())
                        .collect()
                } else if peer
                    .path(&["ipBlock", "cidr"])
                    .and_then(Node::str)
                    .is_some_and(super::documents::is_internet_cidr)
                {
                    vec![INTERNET.to_string()]
                } else {
                    Vec::new()
                };
                for from in &sources {
                    for to in &targets {
                        for port in &ports {
                            model.flows.push(Flow {
                                from: from.clone(),
                                to: to.key(),
                                mechanism: Mechanism {
                                    protocol: Some("tcp".into()),
                                    ports: port.map(|p| (p, p)),
                                },
                                origin: origin(peer),
                                also: Vec::new(),
                            });
                        }
                    }
                }
            }
        }
    }
    // Secrets a workload reads.
    for workload in &workloads {
        let Some(spec) = workload.pod_spec() else { continue };
        for (name, at) in secret_references(spec) {
            let Some(secret) =
                objects.iter().find(|o| o.kind == "Secret" && o.name == name && same_namespace(o, workload))
            else {
                continue;
            };
            model.flows.push(Flow {
                from: secret.key(),
                to: workload.key(),
                mechanism: Mechanism { protocol: Some("secret".into()), ports: None },
                origin: origin(at),
                also: Vec::new(),
            });
        }
    }
}

/// Every container of a pod spec (init and ephemeral containers included).
pub(crate) fn containers(spec: &Node) -> impl Iterator<Item = &Node> {
    ["containers", "initContainers", "ephemeralContainers"]
        .into_iter()
        .flat_map(|k| spec.get(k).map(Node::items).unwrap_or_default())
}

/// The Secrets a pod spec names, with where.
fn secret_references(spec: &Node) -> Vec<(&str, &Node)> {
    let mut out = Vec::new();
    for container in containers(spec) {
        for env in container.get("env").map(Node::items).unwrap_or_default() {
            if let Some(name) = env.path(&["valueFrom", "secretKeyRef", "name"]).and_then(Node::str) {
                out.push((name, env));
            }
        }
        for from in container.get("envFrom").map(Node::items).unwrap_or_default() {
            if let Some(name) = from.path(&["secretRef", "name"]).and_then(Node::str) {
                out.push((name, from));
            }
        }
    }
    for volume in spec.get("volumes").map(Node::items).unwrap_or_default() {
        if let Some(name) = volume.path(&["secret", "secretName"]).and_then(Node::str) {
            out.push((name, volume));
        }
    }
    out
}
