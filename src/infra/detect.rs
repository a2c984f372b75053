//! Which infrastructure format a YAML or JSON document is: CloudFormation, Kubernetes,
//! Compose or OpenAPI 3.
//!
//! Owns: the detection rules, from the file's name and its documents' top-level keys:
//! - OpenAPI 3: `openapi: 3.x` at the top (Swagger 2 is not read);
//! - CloudFormation: `AWSTemplateFormatVersion`, or `Resources` with an entry whose `Type` starts
//!   with `AWS::`;
//! - Kubernetes: a document with `apiVersion` and `kind` (any document of a stream);
//! - Compose: named `compose.y(a)ml`, `compose.*.y(a)ml` or `docker-compose*.y(a)ml`, or a
//!   top-level `services` map with a service that has an `image` or a `build`.
//!
//! Must never: do I/O (the name is a string), or look deeper than the top level and its
//! direct children.

use super::doc::Node;
use super::model::Format;

/// The format of a file named `file_name` (its last path component) with `documents`, or
/// `None` when it is none of the four (Terraform is read from `.tf` files, not detected here).
pub fn detect(file_name: &str, documents: &[Node]) -> Option<Format> {
    let first = documents.first();
    if first
        .and_then(|d| d.get("openapi"))
        .and_then(Node::str)
        .is_some_and(|v| v.starts_with("3.") || v == "3")
    {
        return Some(Format::OpenApi);
    }
    if documents.iter().any(is_cloudformation) {
        return Some(Format::CloudFormation);
    }
    if documents.iter().any(|d| {
        d.get("apiVersion").and_then(Node::str).is_some() && d.get("kind").and_then(Node::str).is_some()
    }) {
        return Some(Format::Kubernetes);
    }
    if is_compose_name(file_name) || documents.iter().any(has_compose_services) {
        return Some(Format::Compose);
    }
    None
}

fn is_cloudformation(doc: &Node) -> bool {
    doc.get("AWSTemplateFormatVersion").is_some()
        || doc.get("Resources").is_some_and(|resources| {
            resources
                .entries()
                .iter()
                .any(|e| e.value.get("Type").and_then(Node::str).is_some_and(|t| t.starts_with("AWS::")))
        })
}

fn has_compose_services(doc: &Node) -> bool {
    doc.get("services").is_some_and(|services| {
        services.entries().iter().any(|e| e.value.get("image").is_some() || e.value.get("build").is_some())
    })
}

/// `compose.yaml`, `compose.override.yml`, `docker-compose.yml`, `docker-compose.prod.yaml`...
pub fn is_compose_name(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    let Some(stem) = lower.strip_suffix(".yaml").or_else(|| lower.strip_suffix(".yml")) else {
        return false;
    };
    stem == "compose" || stem.starts_with("compose.") || stem.starts_with("docker-compose")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::doc::{read_json, read_yaml};

    fn yaml(name: &str, text: &str) -> Option<Format> {
        detect(name, &read_yaml(text).documents)
    }

    #[test]
    fn detects_each_format() {
        assert_eq!(yaml("api.yaml", "openapi: 3.0.3\ninfo: {title: x}\n"), Some(Format::OpenApi));
        assert_eq!(yaml("api.yaml", "openapi: '3.1.0'\n"), Some(Format::OpenApi));
        assert_eq!(yaml("api.yaml", "swagger: '2.0'\n"), None);
        assert_eq!(yaml("t.yaml", "AWSTemplateFormatVersion: '2010-09-09'\n"), Some(Format::CloudFormation));
        assert_eq!(
            yaml("t.yaml", "Resources:\n  B:\n    Type: AWS::S3::Bucket\n"),
            Some(Format::CloudFormation)
        );
        assert_eq!(yaml("t.yaml", "Resources:\n  B:\n    Type: Custom::Thing\n"), None);
        let cfn_json = r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#;
        assert_eq!(detect("t.json", &read_json(cfn_json).documents), Some(Format::CloudFormation));
        assert_eq!(
            yaml(
                "app.yaml",
                "# c\n---\napiVersion: v1\nkind: Service\n---\napiVersion: apps/v1\nkind: Deployment\n"
            ),
            Some(Format::Kubernetes)
        );
        assert_eq!(yaml("app.yaml", "kind: Service\n"), None);
        assert_eq!(yaml("docker-compose.yml", "services: {}\n"), Some(Format::Compose));
        assert_eq!(yaml("compose.yaml", "version: '3'\n"), Some(Format::Compose));
        assert_eq!(yaml("stack.yml", "services:\n  web:\n    image: nginx\n"), Some(Format::Compose));
        assert_eq!(yaml("stack.yml", "services:\n  - web\n"), None);
        assert_eq!(yaml("ci.yml", "jobs:\n  build: {}\n"), None);
    }

    #[test]
    fn compose_names() {
        for name in [
            "compose.yaml",
            "compose.yml",
            "Docker-Compose.YML",
            "docker-compose.prod.yaml",
            "compose.override.yml",
        ] {
            assert!(is_compose_name(name), "{name}");
        }
        for name in ["compose.json", "mycompose.yaml", "compose", "docker-compose.txt"] {
            assert!(!is_compose_name(name), "{name}");
        }
    }
}
