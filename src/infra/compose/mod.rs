//! Docker Compose files to the infrastructure model.
//!
//! Owns: services as processes (data stores when they run a database, cache or search image),
//! named volumes as data stores, networks as boundaries (a service that names none, and has no
//! `network_mode`, is on Compose's `default` network), and flows: published ports from the
//! Internet (not a port bound to a loopback address, nor one of a service only on `internal:
//! true` networks: its attribute `internal_networks_only` says so), `depends_on` and `links` between
//! services, and named volumes a service mounts. Must never: do I/O, or resolve `${VAR}`
//! interpolation (the value comes from the environment at run time: it stays as written).
//!
//! Keys: `compose:service`, `compose:volume/name`, `compose:network/name`. A service's
//! attributes are its keys as written.

pub mod rules;

use super::doc::Node;
use super::documents::{Source, is_store_image};
use super::model::{
    Attr, Boundary, BoundaryKind, Element, ElementKind, Flow, INTERNET, InfraModel, Mechanism, Origin, Value,
};

/// One published port of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The host address it binds, when given (`127.0.0.1`).
    pub host_ip: Option<String>,
    /// The container port range.
    pub target: (u64, u64),
    /// `tcp` or `udp`.
    pub protocol: String,
    pub origin: Origin,
}

impl Published {
    /// Whether it binds only a loopback address.
    pub fn is_loopback(&self) -> bool {
        self.host_ip
            .as_deref()
            .is_some_and(|ip| ip.starts_with("127.") || ip == "::1" || ip == "[::1]" || ip == "localhost")
    }
}

fn range(text: &str) -> Option<(u64, u64)> {
    match text.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => text.trim().parse().ok().map(|p| (p, p)),
    }
}

/// The ports a service's `ports` attribute publishes (short `[HOST_IP:][HOST:]CONTAINER[/PROTO]`
/// and long `{target, published, host_ip, protocol}` syntax); entries with `${...}` or that do
/// not parse are left out (not guessed).
pub fn published_ports(ports: &Attr) -> Vec<Published> {
    let mut out = Vec::new();
    for port in ports.as_list() {
        let origin = port.origin.clone();
        if port.as_map().is_some() {
            let Some(target) = port.get("target").and_then(Attr::as_u64) else { continue };
            // Without `published`, a random host port: still published.
            out.push(Published {
                host_ip: port.get("host_ip").and_then(Attr::as_str).map(str::to_string),
                target: (target, target),
                protocol: port.get("protocol").and_then(Attr::as_str).unwrap_or("tcp").to_string(),
                origin,
            });
            continue;
        }
        let text = match &port.value {
            Value::Str(s) | Value::Number(s) => s.clone(),
            _ => continue,
        };
        if text.contains('$') {
            continue;
        }
        let (spec, protocol) = text.split_once('/').unwrap_or((&text, "tcp"));
        // IPv6 host addresses are bracketed: `[::1]:5432:5432`.
        let (host_ip, rest) = match spec.strip_prefix('[').and_then(|s| s.split_once("]:")) {
            Some((ip, rest)) => (Some(ip.to_string()), rest.to_string()),
            None => {
                let parts: Vec<&str> = spec.split(':').collect();
                match parts.as_slice() {
                    [ip, host, container] => (Some(ip.to_string()), format!("{host}:{container}")),
                    _ => (None, spec.to_string()),
                }
            }
        };
        let container = rest.rsplit(':').next().unwrap_or(&rest);
        let Some(target) = range(container) else { continue };
        out.push(Published { host_ip, target, protocol: protocol.to_string(), origin });
    }
    out
}

/// Reads a Compose file into `model`.
pub fn extract(source: &Source, documents: &[Node], model: &mut InfraModel) {
    for document in documents {
        extract_one(source, document, model);
    }
}

fn extract_one(source: &Source, document: &Node, model: &mut InfraModel) {
    let Some(services) = document.get("services") else { return };
    let network_key = |name: &str| format!("compose:network/{name}");
    let volume_key = |name: &str| format!("compose:volume/{name}");
    let mut uses_default = false;
    for network in document.get("networks").map(Node::entries).unwrap_or_default() {
        model.boundaries.push(Boundary {
            key: network_key(&network.key),
            kind: BoundaryKind::Network,
            name: network.key.to_string(),
            parent: None,
            origin: source.origin(network.key_span),
        });
    }
    let named_volumes: Vec<&str> =
        document.get("volumes").map(Node::entries).unwrap_or_default().iter().map(|e| &*e.key).collect();
    for volume in document.get("volumes").map(Node::entries).unwrap_or_default() {
        model.elements.push(Element {
            key: volume_key(&volume.key),
            kind: ElementKind::DataStore,
            format: source.format,
            resource_type: "volume".into(),
            name: volume.key.to_string(),
            boundaries: Vec::new(),
            origin: source.origin(volume.key_span),
            attributes: source.attributes(&volume.value, &mut |_| None),
        });
    }
    for service in services.entries() {
        let key = format!("compose:{}", service.key);
        let attributes = source.attributes(&service.value, &mut |_| None);
        let image = service.value.get("image").and_then(Node::str);
        let kind =
            if image.is_some_and(is_store_image) { ElementKind::DataStore } else { ElementKind::Process };
        let mut boundaries: Vec<String> = match service.value.get("networks") {
            Some(networks) if !networks.items().is_empty() => {
                networks.items().iter().filter_map(Node::str).map(network_key).collect()
            }
            Some(networks) if !networks.entries().is_empty() => {
                networks.entries().iter().map(|e| network_key(&e.key)).collect()
            }
            _ => Vec::new(),
        };
        if boundaries.is_empty() && service.value.get("network_mode").is_none() {
            uses_default = true;
            boundaries.push(network_key("default"));
        }
        // Published ports: flows from the Internet (unless bound to loopback, or the service is
        // only on `internal: true` networks, which Docker gives no route out or in).
        let internal_only = !boundaries.is_empty()
            && boundaries.iter().all(|b| {
                let name = b.strip_prefix("compose:network/").unwrap_or(b);
                document.path(&["networks", name, "internal"]).and_then(Node::bool) == Some(true)
            });
        let mut attributes = attributes;
        if internal_only {
            let origin = source.origin(service.key_span);
            attributes.insert("internal_networks_only".into(), Attr { value: Value::Bool(true), origin });
        }
        if let Some(ports) = attributes.get("ports").filter(|_| !internal_only) {
            for port in published_ports(ports).into_iter().filter(|p| !p.is_loopback()) {
                model.flows.push(Flow {
                    from: INTERNET.into(),
                    to: key.clone(),
                    mechanism: Mechanism { protocol: Some(port.protocol.clone()), ports: Some(port.target) },
                    origin: port.origin,
                    also: Vec::new(),
                });
            }
        }
        // depends_on (list or map) and links (`service` or `service:alias`).
        let mut dependencies: Vec<(&str, &Node)> = Vec::new();
        if let Some(depends) = service.value.get("depends_on") {
            dependencies.extend(depends.items().iter().filter_map(|n| Some((n.str()?, n))));
            dependencies.extend(depends.entries().iter().map(|e| (&*e.key, &e.value)));
        }
        for link in service.value.get("links").map(Node::items).unwrap_or_default() {
            if let Some(text) = link.str() {
                dependencies.push((text.split(':').next().unwrap_or(text), link));
            }
        }
        for (name, at) in dependencies {
            if services.get(name).is_none() {
                continue;
            }
            let target = services.get(name);
            let ports = target
                .and_then(|t| t.get("expose").map(Node::items))
                .and_then(|e| e.first())
                .and_then(Node::str)
                .and_then(range);
            model.flows.push(Flow {
                from: key.clone(),
                to: format!("compose:{name}"),
                mechanism: Mechanism { protocol: Some("tcp".into()), ports },
                origin: source.origin(at.span),
                also: Vec::new(),
            });
        }
        // Named volumes it mounts.
        for volume in service.value.get("volumes").map(Node::items).unwrap_or_default() {
            let name = volume
                .str()
                .map(|t| t.split(':').next().unwrap_or(t))
                .or_else(|| volume.get("source").and_then(Node::str));
            if let Some(name) = name
                && named_volumes.contains(&name)
            {
                model.flows.push(Flow {
                    from: key.clone(),
                    to: volume_key(name),
                    mechanism: Mechanism { protocol: Some("mount".into()), ports: None },
                    origin: source.origin(volume.span),
                    also: Vec::new(),
                });
            }
        }
        model.elements.push(Element {
            key,
            kind,
            format: source.format,
            resource_type: "service".into(),
            name: service.key.to_string(),
            boundaries,
            origin: source.origin(service.key_span),
            attributes,
        });
    }
    if uses_default && document.path(&["networks", "default"]).is_none() {
        model.boundaries.push(Boundary {
            key: network_key("default"),
            kind: BoundaryKind::Network,
            name: "default".into(),
            parent: None,
            origin: source.origin(services.span),
        });
    }
}
