//! OpenAPI 3 documents to the infrastructure model.
//!
//! Owns: the API as a process (`openapi:path`, with its `servers`, `securitySchemes` and
//! global `security`), each operation as a process (`openapi:METHOD /route`; with the file's
//! path, `openapi:path#METHOD /route`, when another document already has that operation), the
//! flows from the Internet to the API (one per server, its scheme and port as the mechanism;
//! relative server URLs give no port) and from the API to each operation. An operation's
//! `security` attribute is its own, or the document's (then located there) when it has none.
//! Must never: do I/O, or follow `$ref` into other files.

pub mod rules;

use super::doc::Node;
use super::documents::Source;
use super::model::{Attr, Element, ElementKind, Flow, INTERNET, InfraModel, Mechanism};

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The mechanism of a server URL: its scheme and port (the scheme's default when none).
pub fn server_mechanism(url: &str) -> Mechanism {
    let Some((scheme, rest)) = url.split_once("://") else { return Mechanism::default() };
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split('/').next().unwrap_or(rest);
    let port =
        authority.rsplit_once(':').and_then(|(_, p)| p.parse::<u64>().ok()).or(match scheme.as_str() {
            "https" | "wss" => Some(443),
            "http" | "ws" => Some(80),
            _ => None,
        });
    Mechanism { protocol: Some(scheme), ports: port.map(|p| (p, p)) }
}

/// Reads an OpenAPI document into `model`.
pub fn extract(source: &Source, documents: &[Node], model: &mut InfraModel) {
    let Some(document) = documents.first() else { return };
    let api_key = format!("openapi:{}", source.path);
    let mut attributes = std::collections::BTreeMap::new();
    for (name, path) in [
        ("servers", &["servers"][..]),
        ("securitySchemes", &["components", "securitySchemes"][..]),
        ("security", &["security"][..]),
    ] {
        if let Some(node) = document.path(path) {
            attributes.insert(name.to_string(), source.attr(node));
        }
    }
    let global_security = document.get("security");
    let title = document.path(&["info", "title"]).and_then(Node::str).unwrap_or(source.path);
    model.elements.push(Element {
        key: api_key.clone(),
        kind: ElementKind::Process,
        format: source.format,
        resource_type: "api".into(),
        name: title.to_string(),
        boundaries: Vec::new(),
        origin: source.origin(document.span),
        attributes,
    });
    for server in document.get("servers").map(Node::items).unwrap_or_default() {
        let Some(url) = server.get("url").and_then(Node::str) else { continue };
        model.flows.push(Flow {
            from: INTERNET.into(),
            to: api_key.clone(),
            mechanism: server_mechanism(url),
            origin: source.origin(server.span),
            also: Vec::new(),
        });
    }
    for path in document.get("paths").map(Node::entries).unwrap_or_default() {
        for operation in path.value.entries() {
            if !METHODS.contains(&&*operation.key) {
                continue;
            }
            let name = format!("{} {}", operation.key.to_ascii_uppercase(), path.key);
            let mut key = format!("openapi:{name}");
            if model.element(&key).is_some() {
                key = format!("openapi:{}#{name}", source.path);
            }
            let mut attributes = source.attributes(&operation.value, &mut |_| None);
            if !attributes.contains_key("security")
                && let Some(global) = global_security
            {
                let mut inherited: Attr = source.attr(global);
                inherited.origin = source.origin(global.span);
                attributes.insert("security".into(), inherited);
            }
            model.flows.push(Flow {
                from: api_key.clone(),
                to: key.clone(),
                mechanism: Mechanism { protocol: Some(operation.key.to_ascii_uppercase()), ports: None },
                origin: source.origin(operation.key_span),
                also: Vec::new(),
            });
            model.elements.push(Element {
                key,
                kind: ElementKind::Process,
                format: source.format,
                resource_type: "operation".into(),
                name,
                boundaries: Vec::new(),
                origin: source.origin(operation.key_span),
                attributes,
            });
        }
    }
}
