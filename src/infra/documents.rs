//! The YAML and JSON formats of the baseline (CloudFormation, Kubernetes, Compose, OpenAPI 3):
//! each file read with [`super::doc`], its format found by [`super::detect`], and handed to its
//! extractor; plus what the four extractors share: a located value ([`Attr`]) from a document
//! node, origins, and the Internet-facing ports and secret-looking names their rules read.
//!
//! Owns: the dispatch and the shared conversions. Must never: do I/O, or drop what the reader
//! could not read (every reader problem becomes a [`Unknown`] at its location).

use std::collections::BTreeMap;

use super::SourceFile;
use super::detect::detect;
use super::doc::{self, Node, ScalarKind};
use super::model::{Attr, Element, Format, INTERNET, InfraModel, Origin, Unknown, Value};
use super::rules::Verdict;
use super::{cloudformation, compose, kubernetes, openapi};
use crate::syntax::Language;

/// Reads every YAML and JSON file whose format is one of the four into `model` (files in the
/// order given: the caller sorts them).
pub fn extract(files: &[&SourceFile], model: &mut InfraModel) {
    for file in files {
        let parsed = match file.language {
            Language::Yaml => doc::read_yaml(&file.text),
            Language::Json => doc::read_json(&file.text),
            _ => continue,
        };
        let name = file.path.rsplit('/').next().unwrap_or_default();
        let Some(format) = detect(name, &parsed.documents) else {
            continue;
        };
        let source = Source { path: &file.path, format };
        for problem in &parsed.problems {
            model
                .unknowns
                .push(Unknown { what: problem.message.clone(), origin: source.origin(problem.span) });
        }
        if parsed.problems_dropped > 0 {
            model.unknowns.push(Unknown {
                what: format!("{} more problems reading this file", parsed.problems_dropped),
                origin: source.origin(doc::Span { start: 0, end: 0, line: 1 }),
            });
        }
        match format {
            Format::CloudFormation => cloudformation::extract(&source, &parsed.documents, model),
            Format::Kubernetes => kubernetes::extract(&source, &parsed.documents, model),
            Format::Compose => compose::extract(&source, &parsed.documents, model),
            Format::OpenApi => openapi::extract(&source, &parsed.documents, model),
            Format::Terraform => {}
        }
    }
}

/// The file an extractor reads.
pub struct Source<'a> {
    /// Project-relative path.
    pub path: &'a str,
    /// Its detected format.
    pub format: Format,
}

impl Source<'_> {
    /// The origin of a span of this file.
    pub fn origin(&self, span: doc::Span) -> Origin {
        Origin { path: self.path.to_string(), line: span.line, start: span.start, end: span.end }
    }

    /// A located value from a document node, every part converted as written.
    pub fn attr(&self, node: &Node) -> Attr {
        self.attr_with(node, &mut |_| None)
    }

    /// [`Source::attr`] where `special` may convert a node first (CloudFormation's intrinsic
    /// functions); it is asked for every node, outermost first.
    pub fn attr_with(&self, node: &Node, special: &mut dyn FnMut(&Node) -> Option<Attr>) -> Attr {
        if let Some(attr) = special(node) {
            return attr;
        }
        let value = match &node.value {
            doc::Value::Scalar(s) => match s.kind {
                ScalarKind::Str => Value::Str(s.text.to_string()),
                ScalarKind::Int | ScalarKind::Float => Value::Number(s.text.to_string()),
                ScalarKind::Bool(b) => Value::Bool(b),
                ScalarKind::Null => Value::Null,
            },
            doc::Value::List(items) => {
                Value::List(items.iter().map(|i| self.attr_with(i, special)).collect())
            }
            doc::Value::Map(entries) => {
                let mut map = BTreeMap::new();
                for entry in entries {
                    map.entry(entry.key.to_string()).or_insert_with(|| self.attr_with(&entry.value, special));
                }
                Value::Map(map)
            }
            doc::Value::Cut(cut) => Value::Unknown(format!("not read ({cut:?})")),
        };
        Attr { value, origin: self.origin(node.span) }
    }

    /// The attributes of a map node (its entries converted), empty for anything else.
    pub fn attributes(
        &self,
        node: &Node,
        special: &mut dyn FnMut(&Node) -> Option<Attr>,
    ) -> BTreeMap<String, Attr> {
        match self.attr_with(node, special).value {
            Value::Map(map) => map,
            _ => BTreeMap::new(),
        }
    }
}

/// A rule's verdict when it found no weakness: the control it saw (detail, where), or nothing.
pub fn control_or_skip(control: Option<(String, Origin)>) -> Verdict {
    match control {
        Some((detail, origin)) => Verdict::Mitigated(detail, origin),
        None => Verdict::Skip,
    }
}

/// Ports of services that should never face the Internet: remote administration and
/// databases, caches, search engines and brokers (SSH, Telnet, RDP, WinRM, VNC; PostgreSQL,
/// MySQL, SQL Server, Oracle, MongoDB, Redis, Memcached, Elasticsearch, Cassandra, CouchDB,
/// RabbitMQ, Kafka, ZooKeeper, etcd, the Docker daemon, the Kubernetes API and kubelet).
pub const SENSITIVE_PORTS: &[(u64, &str)] = &[
    (22, "SSH"),
    (23, "Telnet"),
    (3389, "RDP"),
    (5985, "WinRM"),
    (5986, "WinRM"),
    (5900, "VNC"),
    (5432, "PostgreSQL"),
    (3306, "MySQL"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (27017, "MongoDB"),
    (6379, "Redis"),
    (11211, "Memcached"),
    (9200, "Elasticsearch"),
    (9300, "Elasticsearch"),
    (9042, "Cassandra"),
    (5984, "CouchDB"),
    (5672, "RabbitMQ"),
    (9092, "Kafka"),
    (2181, "ZooKeeper"),
    (2379, "etcd"),
    (2375, "Docker"),
    (2376, "Docker"),
    (6443, "Kubernetes API"),
    (10250, "kubelet"),
];

/// A rule's check shared by the formats whose flows carry ports: exposed when a flow from the
/// Internet reaches `e` on one of the [`SENSITIVE_PORTS`], mitigated when such a port is reached
/// only from inside.
pub fn sensitive_port_from_internet(e: &Element, model: &InfraModel) -> Verdict {
    let to_e = model.flows.iter().filter(|f| f.to == e.key);
    let mut restricted = None;
    for flow in to_e {
        let Some((from, to)) = flow.mechanism.ports else { continue };
        let Some((port, service)) = sensitive_port(from, to) else { continue };
        if flow.from == INTERNET {
            let detail =
                format!("{service} (port {port}) open to the Internet ({})", flow.mechanism.display());
            return Verdict::Exposed(detail, flow.origin.clone());
        }
        restricted.get_or_insert((port, service, flow.origin.clone()));
    }
    match restricted {
        Some((port, service, origin)) => {
            Verdict::Mitigated(format!("{service} (port {port}) only from inside the network"), origin)
        }
        None => Verdict::Skip,
    }
}

/// The first sensitive port within `from..=to`, with its service.
pub fn sensitive_port(from: u64, to: u64) -> Option<(u64, &'static str)> {
    SENSITIVE_PORTS.iter().copied().find(|&(port, _)| from <= port && port <= to)
}

/// Whether an environment variable or configuration key names a secret (`DB_PASSWORD`,
/// `api-key`, `JWT_SECRET`, `AWS_SECRET_ACCESS_KEY`, `GITHUB_TOKEN`), not a reference to one
/// (`PASSWORD_FILE`, `SECRET_NAME`, `..._ARN`, `..._PATH`).
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase().replace('-', "_");
    let words: Vec<&str> = upper.split(['_', '.']).filter(|w| !w.is_empty()).collect();
    const REFERENCE: &[&str] =
        &["FILE", "PATH", "NAME", "ARN", "ID", "REF", "URL", "HOST", "USER", "USERNAME"];
    if words.last().is_some_and(|w| REFERENCE.contains(w)) {
        return false;
    }
    const SECRET: &[&str] =
        &["PASSWORD", "PASSWD", "PWD", "SECRET", "TOKEN", "APIKEY", "PRIVATE", "CREDENTIALS"];
    words.iter().any(|w| SECRET.contains(w))
        || words
            .windows(2)
            .any(|pair| matches!(pair, ["API" | "ACCESS" | "SECRET" | "PRIVATE" | "ENCRYPTION", "KEY"]))
}

/// Images of data stores (a container running one is drawn as a store).
const STORE_IMAGES: &[&str] = &[
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "mongo",
    "mongodb",
    "redis",
    "valkey",
    "memcached",
    "elasticsearch",
    "opensearch",
    "cassandra",
    "couchdb",
    "rabbitmq",
    "kafka",
    "minio",
    "etcd",
    "neo4j",
    "clickhouse",
    "influxdb",
];

/// Whether an image reference names a store's image (`postgres:16`, `bitnami/redis`,
/// `docker.io/library/mysql@sha256:...`).
pub fn is_store_image(image: &str) -> bool {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    let repository = last.split(':').next().unwrap_or(last);
    STORE_IMAGES.contains(&repository.to_ascii_lowercase().as_str())
}

/// Whether a CIDR is the whole Internet (`0.0.0.0/0`, `::/0`).
pub fn is_internet_cidr(cidr: &str) -> bool {
    matches!(cidr.trim(), "0.0.0.0/0" | "::/0" | "0::0/0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for name in [
            "DB_PASSWORD",
            "password",
            "api-key",
            "API_KEY",
            "JWT_SECRET",
            "AWS_SECRET_ACCESS_KEY",
            "GITHUB_TOKEN",
            "stripe.apikey",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "PASSWORD_FILE",
            "SECRET_NAME",
            "DB_HOST",
            "TOKEN_URL",
            "KEYBOARD",
            "SECRETARY",
            "DB_USER",
            "LOG_LEVEL",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn ports_and_cidrs() {
        assert_eq!(sensitive_port(22, 22), Some((22, "SSH")));
        assert_eq!(sensitive_port(0, 65535), Some((22, "SSH")));
        assert_eq!(sensitive_port(80, 443), None);
        assert!(is_internet_cidr("0.0.0.0/0") && is_internet_cidr("::/0"));
        assert!(!is_internet_cidr("10.0.0.0/8"));
        assert!(
            is_store_image("postgres:16")
                && is_store_image("bitnami/redis")
                && is_store_image("docker.io/library/mysql@sha256:ab")
        );
        assert!(!is_store_image("nginx:1.27") && !is_store_image("myorg/postgres-exporter"));
    }
}
