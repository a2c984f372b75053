//! The Compose rows of the rule table ([`crate::infra::rules`]).
//!
//! Owns: each Compose rule's condition over a service's keys as written (`ports`,
//! `privileged`, `network_mode`, `environment`, `secrets`, `volumes`, `deploy`). Must never:
//! read anything but the element and the model, or resolve `${VAR}` interpolation.

use super::published_ports;
use crate::analysis::stride::Stride;
use crate::infra::documents::{control_or_skip, is_secret_name, sensitive_port};
use crate::infra::model::{Attr, Element, Format, InfraModel, Value};
use crate::infra::rules::{Rule, Verdict};
use crate::syntax::Severity;

const COMPOSE: &[Format] = &[Format::Compose];
const SERVICE: &[&str] = &["service"];

fn database_port(e: &Element, _: &InfraModel) -> Verdict {
    let Some(ports) = e.attr("ports") else { return Verdict::Skip };
    if let Some(internal) = e.attr("internal_networks_only") {
        return Verdict::Mitigated(
            "only on internal networks: published ports are not reachable".into(),
            internal.origin.clone(),
        );
    }
    let mut loopback = None;
    for port in published_ports(ports) {
        let Some((number, service)) = sensitive_port(port.target.0, port.target.1) else { continue };
        if port.is_loopback() {
            loopback
                .get_or_insert((format!("{service} port {number} published on loopback only"), port.origin));
        } else {
            return Verdict::Exposed(
                format!("publishes {service} port {number} on every host address"),
                port.origin,
            );
        }
    }
    control_or_skip(loopback)
}

fn privileged(e: &Element, _: &InfraModel) -> Verdict {
    match e.attr("privileged") {
        Some(p) if p.as_bool() == Some(true) => Verdict::Exposed("privileged: true".into(), p.origin.clone()),
        _ => match e.attr("cap_add") {
            Some(caps)
                if caps.strings().iter().any(|c| matches!(*c, "ALL" | "SYS_ADMIN" | "CAP_SYS_ADMIN")) =>
            {
                Verdict::Exposed("cap_add grants ALL or SYS_ADMIN".into(), caps.origin.clone())
            }
            _ => Verdict::Skip,
        },
    }
}

fn host_mode(e: &Element, _: &InfraModel) -> Verdict {
    for field in ["network_mode", "pid", "ipc"] {
        if let Some(mode) = e.attr(field)
            && mode.as_str() == Some("host")
        {
            return Verdict::Exposed(format!("{field}: host"), mode.origin.clone());
        }
    }
    Verdict::Skip
}

/// `(name, literal value, where)` of each environment entry (map or `NAME=value` list).
fn environment(e: &Element) -> Vec<(String, Option<String>, &Attr)> {
    let Some(env) = e.attr("environment") else { return Vec::new() };
    match &env.value {
        Value::Map(map) => map
            .iter()
            .map(|(k, v)| {
                (k.clone(), v.as_str().map(str::to_string).or_else(|| v.as_u64().map(|n| n.to_string())), v)
            })
            .collect(),
        Value::List(items) => items
            .iter()
            .filter_map(|i| {
                let text = i.as_str()?;
                let (name, value) = match text.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (text, None),
                };
                Some((name.to_string(), value, i))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn secret_in_env(e: &Element, _: &InfraModel) -> Verdict {
    let mut control = e
        .attr("secrets")
        .map(|s| ("secrets: are mounted from Compose secrets".to_string(), s.origin.clone()));
    for (name, value, at) in environment(e) {
        if !is_secret_name(&name) {
            continue;
        }
        match value {
            Some(v) if !v.is_empty() && !v.contains("${") && !v.starts_with('$') => {
                return Verdict::Exposed(
                    format!("environment {name} has a literal value"),
                    at.origin.clone(),
                );
            }
            _ => {
                control.get_or_insert((
                    format!("environment {name} comes from the host environment"),
                    at.origin.clone(),
                ));
            }
        }
    }
    control_or_skip(control)
}

fn docker_socket(e: &Element, _: &InfraModel) -> Verdict {
    for volume in e.attr("volumes").map(Attr::as_list).unwrap_or_default() {
        let source = volume
            .as_str()
            .map(|t| t.split(':').next().unwrap_or(t))
            .or_else(|| volume.get("source").and_then(Attr::as_str));
        if source.is_some_and(|s| s.ends_with("/docker.sock")) {
            return Verdict::Exposed("mounts the Docker socket".into(), volume.origin.clone());
        }
    }
    Verdict::Skip
}

fn resource_limits(e: &Element, _: &InfraModel) -> Verdict {
    if let Some(limits) = e.path("deploy.resources.limits") {
        return Verdict::Mitigated("deploy.resources.limits is set".into(), limits.origin.clone());
    }
    if let Some(limit) = e.attr("mem_limit") {
        return Verdict::Mitigated("mem_limit is set".into(), limit.origin.clone());
    }
    Verdict::Exposed("no deploy.resources.limits or mem_limit".into(), e.origin.clone())
}

/// The Compose rules, in table order.
pub static RULES: &[Rule] = &[
    Rule {
        id: "COMPOSE-DATABASE-PORT-PUBLISHED",
        formats: COMPOSE,
        resources: SERVICE,
        check: database_port,
        stride: Stride::InformationDisclosure,
        cwe: Some(668),
        severity: Severity::High,
        threat: "admin-port-exposed",
        control: "restricted-ingress",
        rationale: "`ports` publishes a database, cache or administration port on every host address (no `127.0.0.1:` prefix)",
        remediation: "Do not publish the port (services reach it on the Compose network), or bind it to `127.0.0.1`",
    },
    Rule {
        id: "COMPOSE-PRIVILEGED",
        formats: COMPOSE,
        resources: SERVICE,
        check: privileged,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(250),
        severity: Severity::High,
        threat: "container-escape",
        control: "container-hardening",
        rationale: "`privileged: true`, or `cap_add` with ALL or SYS_ADMIN",
        remediation: "Remove `privileged`; add only the capabilities the process needs",
    },
    Rule {
        id: "COMPOSE-HOST-NAMESPACES",
        formats: COMPOSE,
        resources: SERVICE,
        check: host_mode,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(668),
        severity: Severity::Medium,
        threat: "container-escape",
        control: "container-hardening",
        rationale: "`network_mode: host`, `pid: host` or `ipc: host` shares the host's network or processes",
        remediation: "Use a Compose network and publish only the ports needed",
    },
    Rule {
        id: "COMPOSE-SECRET-IN-ENV",
        formats: COMPOSE,
        resources: SERVICE,
        check: secret_in_env,
        stride: Stride::InformationDisclosure,
        cwe: Some(798),
        severity: Severity::High,
        threat: "hardcoded-secret",
        control: "secret-store",
        rationale: "an `environment` entry with a secret-looking name has a literal value (not `${VAR}`)",
        remediation: "Use Compose `secrets:` (or `${VAR}` from an untracked `.env`)",
    },
    Rule {
        id: "COMPOSE-DOCKER-SOCKET",
        formats: COMPOSE,
        resources: SERVICE,
        check: docker_socket,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(250),
        severity: Severity::Critical,
        threat: "container-escape",
        control: "container-hardening",
        rationale: "a volume mounts `/var/run/docker.sock`: the container can start privileged containers on the host",
        remediation: "Do not mount the socket; use a socket proxy that allows only the calls needed",
    },
    Rule {
        id: "COMPOSE-NO-RESOURCE-LIMITS",
        formats: COMPOSE,
        resources: SERVICE,
        check: resource_limits,
        stride: Stride::DenialOfService,
        cwe: Some(770),
        severity: Severity::Low,
        threat: "resource-exhaustion",
        control: "resource-limits",
        rationale: "neither `deploy.resources.limits` nor `mem_limit` is set",
        remediation: "Set `deploy.resources.limits` (cpus, memory)",
    },
];
