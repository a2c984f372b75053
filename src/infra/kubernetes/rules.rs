//! The Kubernetes rows of the rule table ([`crate::infra::rules`]).
//!
//! Owns: each Kubernetes rule's condition over a workload's pod `spec` (containers and their
//! `securityContext`, the pod's), a Secret's or ConfigMap's `data`, an Ingress's `spec`, a
//! role's `rules`. A container's setting overrides the pod's, as in Kubernetes. Must never:
//! read anything but the element and the model, or decide on a value that is not statically
//! known (the rule skips).

use super::WORKLOADS;
use crate::analysis::stride::Stride;
use crate::infra::documents::{control_or_skip, is_secret_name, sensitive_port_from_internet};
use crate::infra::model::{Attr, Element, Format, InfraModel, Origin, Value};
use crate::infra::rules::{Rule, Verdict};
use crate::syntax::Severity;

const K8S: &[Format] = &[Format::Kubernetes];

fn containers(e: &Element) -> Vec<&Attr> {
    let Some(spec) = e.attr("spec") else { return Vec::new() };
    ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| spec.get(k).map(Attr::as_list).unwrap_or_default())
        .collect()
}

fn name(container: &Attr) -> &str {
    container.get("name").and_then(Attr::as_str).unwrap_or("?")
}

/// A container's security setting, else the pod's (`securityContext.<field>`).
fn setting<'a>(e: &'a Element, container: &'a Attr, field: &str) -> Option<&'a Attr> {
    container
        .get("securityContext")
        .and_then(|s| s.get(field))
        .or_else(|| e.path(&format!("spec.securityContext.{field}")))
}

/// A container's own `securityContext.<field>`.
fn security<'a>(container: &'a Attr, field: &str) -> Option<&'a Attr> {
    container.get("securityContext").and_then(|s| s.get(field))
}

/// A boolean setting of a container: `good` is the control, the other value the weakness; a
/// missing setting is the weakness `missing` says, or not known (`None`).
fn boolean(
    container: &Attr,
    field: &str,
    setting: Option<&Attr>,
    good: bool,
    missing: Option<&str>,
) -> Option<Result<String, (String, Origin)>> {
    match setting {
        Some(attr) => match attr.as_bool()? {
            value if value == good => Some(Ok(format!("{}: {field} = {value}", name(container)))),
            value => Some(Err((format!("{field} = {value}"), attr.origin.clone()))),
        },
        None => missing.map(|m| Err((m.to_string(), container.origin.clone()))),
    }
}

/// Per container: `Some(Err(..))` exposes, `Some(Ok(..))` is a control, `None` is not known.
fn per_container(
    e: &Element,
    mut check: impl FnMut(&Attr) -> Option<Result<String, (String, Origin)>>,
) -> Verdict {
    let containers = containers(e);
    if containers.is_empty() {
        return Verdict::Skip;
    }
    let mut controls = Vec::new();
    for container in &containers {
        match check(container) {
            Some(Err((detail, origin))) => {
                return Verdict::Exposed(format!("container {}: {detail}", name(container)), origin);
            }
            Some(Ok(detail)) => controls.push(detail),
            None => return Verdict::Skip,
        }
    }
    Verdict::Mitigated(controls.join("; "), e.origin.clone())
}

fn privileged(e: &Element, _: &InfraModel) -> Verdict {
    per_container(e, |c| boolean(c, "privileged", security(c, "privileged"), false, None))
}

fn run_as_root(e: &Element, _: &InfraModel) -> Verdict {
    per_container(e, |c| {
        if let Some(user) = setting(e, c, "runAsUser")
            && let Some(uid) = user.as_u64()
        {
            return Some(if uid == 0 {
                Err(("runAsUser = 0".into(), user.origin.clone()))
            } else {
                Ok(format!("{}: runAsUser = {uid}", name(c)))
            });
        }
        let missing = "neither runAsNonRoot nor runAsUser is set: the image decides, often root";
        boolean(c, "runAsNonRoot", setting(e, c, "runAsNonRoot"), true, Some(missing))
    })
}

fn host_namespaces(e: &Element, _: &InfraModel) -> Verdict {
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if let Some(attr) = e.path(&format!("spec.{field}"))
            && attr.as_bool() == Some(true)
        {
            return Verdict::Exposed(format!("{field} = true"), attr.origin.clone());
        }
    }
    Verdict::Skip
}

fn resource_limits(e: &Element, _: &InfraModel) -> Verdict {
    per_container(e, |c| {
        let limits = c.get("resources").and_then(|r| r.get("limits"));
        match (limits.and_then(|l| l.get("memory")), limits.and_then(|l| l.get("cpu"))) {
            (Some(_), Some(_)) => Some(Ok(format!("{}: cpu and memory limits", name(c)))),
            (None, _) => Some(Err(("no resources.limits.memory".into(), c.origin.clone()))),
            (_, None) => Some(Err(("no resources.limits.cpu".into(), c.origin.clone()))),
        }
    })
}

fn secret_in_env(e: &Element, _: &InfraModel) -> Verdict {
    let mut control = None;
    for container in containers(e) {
        for env in container.get("env").map(Attr::as_list).unwrap_or_default() {
            let Some(var) = env.get("name").and_then(Attr::as_str) else { continue };
            if !is_secret_name(var) {
                continue;
            }
            if let Some(value) = env.get("value")
                && value.as_str().is_some_and(|v| !v.is_empty())
            {
                return Verdict::Exposed(
                    format!("container {}: env {var} has a literal value", name(container)),
                    value.origin.clone(),
                );
            }
            if env.get("valueFrom").and_then(|v| v.get("secretKeyRef")).is_some() {
                control.get_or_insert((
                    format!("env {var} comes from a Secret (secretKeyRef)"),
                    env.origin.clone(),
                ));
            }
        }
    }
    control_or_skip(control)
}

fn secret_in_configmap(e: &Element, _: &InfraModel) -> Verdict {
    for field in ["data", "binaryData"] {
        if let Some(Value::Map(data)) = e.attr(field).map(|a| &a.value)
            && let Some((key, value)) = data.iter().find(|(k, _)| is_secret_name(k))
        {
            return Verdict::Exposed(
                format!("ConfigMap key {key} holds a secret in plain text"),
                value.origin.clone(),
            );
        }
    }
    Verdict::Skip
}

fn privilege_escalation(e: &Element, _: &InfraModel) -> Verdict {
    let missing = "allowPrivilegeEscalation is not false (the default allows setuid binaries)";
    per_container(e, |c| {
        boolean(c, "allowPrivilegeEscalation", security(c, "allowPrivilegeEscalation"), false, Some(missing))
    })
}

fn read_only_root(e: &Element, _: &InfraModel) -> Verdict {
    let missing = "readOnlyRootFilesystem is not true";
    per_container(e, |c| {
        boolean(c, "readOnlyRootFilesystem", security(c, "readOnlyRootFilesystem"), true, Some(missing))
    })
}

fn ingress_tls(e: &Element, _: &InfraModel) -> Verdict {
    match e.path("spec.tls") {
        Some(tls) if !tls.as_list().is_empty() => {
            Verdict::Mitigated("spec.tls is set".into(), tls.origin.clone())
        }
        _ => Verdict::Exposed("no spec.tls: the Ingress serves plain HTTP".into(), e.origin.clone()),
    }
}

fn network_policy(e: &Element, _: &InfraModel) -> Verdict {
    match e.attr("NetworkPolicies") {
        Some(policies) if !policies.as_list().is_empty() => Verdict::Mitigated(
            format!("selected by NetworkPolicy {}", policies.strings().join(", ")),
            policies.origin.clone(),
        ),
        Some(_) => Verdict::Exposed(
            "no NetworkPolicy selects its pods: any pod in the cluster can reach them".into(),
            e.origin.clone(),
        ),
        None => Verdict::Skip,
    }
}

fn rbac_wildcard(e: &Element, _: &InfraModel) -> Verdict {
    let Some(rules) = e.attr("rules") else { return Verdict::Skip };
    for rule in rules.as_list() {
        // `apiGroups: ["*"]` with named resources is common and narrower: not read.
        for field in ["verbs", "resources"] {
            if let Some(values) = rule.get(field)
                && values.strings().contains(&"*")
            {
                return Verdict::Exposed(format!("a rule with {field}: [\"*\"]"), values.origin.clone());
            }
        }
        if let Some(resources) = rule.get("resources")
            && resources.strings().contains(&"secrets")
            && rule
                .get("verbs")
                .is_some_and(|v| v.strings().iter().any(|v| matches!(*v, "get" | "list" | "watch")))
        {
            return Verdict::Exposed("reads secrets".into(), resources.origin.clone());
        }
    }
    Verdict::Mitigated("every rule names its verbs and resources".into(), rules.origin.clone())
}

fn host_path(e: &Element, _: &InfraModel) -> Verdict {
    for volume in e.path("spec.volumes").map(Attr::as_list).unwrap_or_default() {
        if let Some(path) = volume.get("hostPath").and_then(|h| h.get("path")) {
            return Verdict::Exposed(
                format!("a hostPath volume ({})", path.as_str().unwrap_or("?")),
                path.origin.clone(),
            );
        }
    }
    Verdict::Skip
}

fn image_pinning(e: &Element, _: &InfraModel) -> Verdict {
    per_container(e, |c| {
        let image = c.get("image")?;
        let text = image.as_str()?;
        if text.contains("@sha256:") {
            return Some(Ok(format!("{}: pinned by digest", name(c))));
        }
        let last = text.rsplit('/').next().unwrap_or(text);
        match last.split_once(':') {
            None => Some(Err((format!("image {text} has no tag (latest)"), image.origin.clone()))),
            Some((_, "latest")) => {
                Some(Err((format!("image {text} uses the latest tag"), image.origin.clone())))
            }
            Some(_) => None,
        }
    })
}

/// The Kubernetes rules, in table order.
pub static RULES: &[Rule] = &[
    Rule {
        id: "K8S-PRIVILEGED",
        formats: K8S,
        resources: WORKLOADS,
        check: privileged,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(250),
        severity: Severity::High,
        threat: "container-escape",
        control: "container-hardening",
        rationale: "`securityContext.privileged: true` gives the container every capability and the host's devices",
        remediation: "Remove `privileged`; add only the capabilities the process needs",
    },
    Rule {
        id: "K8S-RUN-AS-ROOT",
        formats: K8S,
        resources: WORKLOADS,
        check: run_as_root,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(250),
        severity: Severity::Medium,
        threat: "container-escape",
        control: "container-hardening",
        rationale: "`runAsNonRoot` is not true and `runAsUser` is not a non-zero id (container or pod `securityContext`)",
        remediation: "Set `securityContext.runAsNonRoot: true` and a non-zero `runAsUser`",
    },
    Rule {
        id: "K8S-HOST-NAMESPACES",
        formats: K8S,
        resources: WORKLOADS,
        check: host_namespaces,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(668),
        severity: Severity::High,
        threat: "container-escape",
        control: "container-hardening",
        rationale: "`hostNetwork`, `hostPID` or `hostIPC` is true: the pod shares the node's network or processes",
        remediation: "Remove the host namespace settings",
    },
    Rule {
        id: "K8S-NO-RESOURCE-LIMITS",
        formats: K8S,
        resources: WORKLOADS,
        check: resource_limits,
        stride: Stride::DenialOfService,
        cwe: Some(770),
        severity: Severity::Medium,
        threat: "resource-exhaustion",
        control: "resource-limits",
        rationale: "a container has no `resources.limits.memory` or `resources.limits.cpu`",
        remediation: "Set CPU and memory requests and limits on every container",
    },
    Rule {
        id: "K8S-SECRET-IN-ENV",
        formats: K8S,
        resources: WORKLOADS,
        check: secret_in_env,
        stride: Stride::InformationDisclosure,
        cwe: Some(798),
        severity: Severity::High,
        threat: "hardcoded-secret",
        control: "secret-store",
        rationale: "an `env` entry with a secret-looking name (`*_PASSWORD`, `*_TOKEN`, `API_KEY`...) has a literal `value`",
        remediation: "Move the value to a Secret and use `valueFrom.secretKeyRef`",
    },
    Rule {
        id: "K8S-SECRET-IN-CONFIGMAP",
        formats: K8S,
        resources: &["ConfigMap"],
        check: secret_in_configmap,
        stride: Stride::InformationDisclosure,
        cwe: Some(312),
        severity: Severity::High,
        threat: "hardcoded-secret",
        control: "secret-store",
        rationale: "a ConfigMap `data` key has a secret-looking name: ConfigMaps are neither encrypted nor access-restricted like Secrets",
        remediation: "Move the value to a Secret (or an external secret store)",
    },
    Rule {
        id: "K8S-PRIVILEGE-ESCALATION",
        formats: K8S,
        resources: WORKLOADS,
        check: privilege_escalation,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(269),
        severity: Severity::Medium,
        threat: "container-escape",
        control: "container-hardening",
        rationale: "`allowPrivilegeEscalation` is not false: setuid binaries can gain privileges",
        remediation: "Set `securityContext.allowPrivilegeEscalation: false`",
    },
    Rule {
        id: "K8S-WRITABLE-ROOT-FS",
        formats: K8S,
        resources: WORKLOADS,
        check: read_only_root,
        stride: Stride::Tampering,
        cwe: Some(732),
        severity: Severity::Low,
        threat: "container-tampering",
        control: "read-only-root",
        rationale: "`readOnlyRootFilesystem` is not true: an attacker can write binaries into the container",
        remediation: "Set `securityContext.readOnlyRootFilesystem: true` and mount writable volumes where needed",
    },
    Rule {
        id: "K8S-INGRESS-NO-TLS",
        formats: K8S,
        resources: &["Ingress"],
        check: ingress_tls,
        stride: Stride::InformationDisclosure,
        cwe: Some(319),
        severity: Severity::Medium,
        threat: "cleartext-transport",
        control: "tls",
        rationale: "the Ingress has no `spec.tls`",
        remediation: "Add `spec.tls` with a certificate Secret (cert-manager) for every host",
    },
    Rule {
        id: "K8S-NO-NETWORK-POLICY",
        formats: K8S,
        resources: WORKLOADS,
        check: network_policy,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(923),
        severity: Severity::Medium,
        threat: "lateral-movement",
        control: "network-policy",
        rationale: "no NetworkPolicy in the namespace has a `podSelector` matching the pods' labels",
        remediation: "Add a default-deny NetworkPolicy and allow the flows the application needs",
    },
    Rule {
        id: "K8S-RBAC-WILDCARD",
        formats: K8S,
        resources: &["Role", "ClusterRole"],
        check: rbac_wildcard,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(269),
        severity: Severity::High,
        threat: "over-privileged-identity",
        control: "least-privilege",
        rationale: "a rule grants `verbs: [\"*\"]` or `resources: [\"*\"]`, or read access to `secrets`",
        remediation: "List the verbs and resources the service account needs",
    },
    Rule {
        id: "K8S-HOST-PATH",
        formats: K8S,
        resources: WORKLOADS,
        check: host_path,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(668),
        severity: Severity::High,
        threat: "container-escape",
        control: "container-hardening",
        rationale: "a `hostPath` volume mounts the node's file system into the pod",
        remediation: "Use a PersistentVolumeClaim, ConfigMap or emptyDir instead",
    },
    Rule {
        id: "K8S-IMAGE-NOT-PINNED",
        formats: K8S,
        resources: WORKLOADS,
        check: image_pinning,
        stride: Stride::Tampering,
        cwe: Some(494),
        severity: Severity::Low,
        threat: "unpinned-image",
        control: "pinned-image",
        rationale: "a container `image` has no tag or the `latest` tag (a digest pins it)",
        remediation: "Pin images by digest (`image@sha256:...`) or at least a version tag",
    },
    Rule {
        id: "K8S-SENSITIVE-PORT-INTERNET",
        formats: K8S,
        resources: WORKLOADS,
        check: sensitive_port_from_internet,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(284),
        severity: Severity::High,
        threat: "admin-port-exposed",
        control: "restricted-ingress",
        rationale: "a `LoadBalancer` or `NodePort` Service (or a NetworkPolicy `ipBlock` of `0.0.0.0/0`) exposes SSH, RDP or a database/cache port of the pods it selects",
        remediation: "Use a `ClusterIP` Service for the port and reach it from inside the cluster",
    },
];
