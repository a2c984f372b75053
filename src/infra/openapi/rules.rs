//! The OpenAPI rows of the rule table ([`crate::infra::rules`]).
//!
//! Owns: each OpenAPI rule's condition over an operation's effective `security` or the API's
//! `servers` and `securitySchemes`. Must never: read anything but the element and the model.

use super::server_mechanism;
use crate::analysis::stride::Stride;
use crate::infra::documents::control_or_skip;
use crate::infra::model::{Attr, Element, Format, InfraModel, Value};
use crate::infra::rules::{Rule, Verdict};
use crate::syntax::Severity;

const OAS: &[Format] = &[Format::OpenApi];

fn operation_security(e: &Element, _: &InfraModel) -> Verdict {
    let Some(security) = e.attr("security") else {
        return Verdict::Exposed(
            "no security requirement (neither the operation's nor the document's)".into(),
            e.origin.clone(),
        );
    };
    let requirements = security.as_list();
    if requirements.is_empty() {
        return Verdict::Exposed(
            "security: [] (authentication explicitly off)".into(),
            security.origin.clone(),
        );
    }
    if let Some(optional) = requirements.iter().find(|r| r.as_map().is_some_and(|m| m.is_empty())) {
        return Verdict::Exposed(
            "security includes {} (authentication optional)".into(),
            optional.origin.clone(),
        );
    }
    let names: Vec<&str> =
        requirements.iter().filter_map(Attr::as_map).flat_map(|m| m.keys().map(String::as_str)).collect();
    Verdict::Mitigated(format!("security: {}", names.join(", ")), security.origin.clone())
}

fn cleartext_server(e: &Element, _: &InfraModel) -> Verdict {
    let Some(servers) = e.attr("servers") else { return Verdict::Skip };
    let mut any = false;
    for server in servers.as_list() {
        let Some(url) = server.get("url").and_then(Attr::as_str) else { continue };
        let mechanism = server_mechanism(url);
        let host = url.split_once("://").map(|(_, r)| r.split(['/', ':']).next().unwrap_or(r)).unwrap_or("");
        let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]") || host.ends_with(".localhost");
        match mechanism.protocol.as_deref() {
            Some("http" | "ws") if !local => {
                return Verdict::Exposed(format!("server {url} is plain HTTP"), server.origin.clone());
            }
            Some("https" | "wss") => any = true,
            _ => {}
        }
    }
    if any {
        Verdict::Mitigated("every non-local server uses HTTPS".into(), servers.origin.clone())
    } else {
        Verdict::Skip
    }
}

fn weak_scheme(e: &Element, _: &InfraModel) -> Verdict {
    let Some(Value::Map(schemes)) = e.attr("securitySchemes").map(|a| &a.value) else { return Verdict::Skip };
    for (name, scheme) in schemes {
        let kind = scheme.get("type").and_then(Attr::as_str);
        if kind == Some("http")
            && scheme.get("scheme").and_then(Attr::as_str).is_some_and(|s| s.eq_ignore_ascii_case("basic"))
        {
            return Verdict::Exposed(
                format!("security scheme {name} is HTTP basic (a reusable password on every request)"),
                scheme.origin.clone(),
            );
        }
        if kind == Some("apiKey") && scheme.get("in").and_then(Attr::as_str) == Some("query") {
            return Verdict::Exposed(
                format!("security scheme {name} sends the API key in the query string (logged by proxies)"),
                scheme.origin.clone(),
            );
        }
    }
    match schemes.iter().next() {
        Some((name, scheme)) => Verdict::Mitigated(
            format!("security scheme {name} is neither basic nor a query key"),
            scheme.origin.clone(),
        ),
        None => Verdict::Skip,
    }
}

fn oauth_flows(e: &Element, _: &InfraModel) -> Verdict {
    let Some(Value::Map(schemes)) = e.attr("securitySchemes").map(|a| &a.value) else { return Verdict::Skip };
    let mut control = None;
    for (name, scheme) in schemes {
        if scheme.get("type").and_then(Attr::as_str) != Some("oauth2") {
            continue;
        }
        let Some(flows) = scheme.get("flows") else { continue };
        for legacy in ["implicit", "password"] {
            if let Some(flow) = flows.get(legacy) {
                return Verdict::Exposed(
                    format!("OAuth2 scheme {name} allows the {legacy} flow"),
                    flow.origin.clone(),
                );
            }
        }
        control.get_or_insert((
            format!("OAuth2 scheme {name} uses neither the implicit nor the password flow"),
            flows.origin.clone(),
        ));
    }
    control_or_skip(control)
}

/// The OpenAPI rules, in table order.
pub static RULES: &[Rule] = &[
    Rule {
        id: "OAS-NO-SECURITY",
        formats: OAS,
        resources: &["operation"],
        check: operation_security,
        stride: Stride::Spoofing,
        cwe: Some(306),
        severity: Severity::High,
        threat: "unauthenticated-api",
        control: "api-authentication",
        rationale: "the operation has no `security` requirement (nor does the document), `security: []`, or an empty `{}` alternative",
        remediation: "Declare a `security` requirement (globally or on the operation); mark public operations deliberately",
    },
    Rule {
        id: "OAS-CLEARTEXT-SERVER",
        formats: OAS,
        resources: &["api"],
        check: cleartext_server,
        stride: Stride::InformationDisclosure,
        cwe: Some(319),
        severity: Severity::Medium,
        threat: "cleartext-transport",
        control: "tls",
        rationale: "a `servers` URL uses `http://` for a host that is not local",
        remediation: "Serve the API over HTTPS only",
    },
    Rule {
        id: "OAS-WEAK-AUTH-SCHEME",
        formats: OAS,
        resources: &["api"],
        check: weak_scheme,
        stride: Stride::Spoofing,
        cwe: Some(522),
        severity: Severity::Medium,
        threat: "weak-credentials-transport",
        control: "strong-authentication",
        rationale: "a security scheme is HTTP `basic`, or an `apiKey` sent `in: query`",
        remediation: "Use bearer tokens (OAuth2/OIDC) or an API key in a header",
    },
    Rule {
        id: "OAS-OAUTH-LEGACY-FLOW",
        formats: OAS,
        resources: &["api"],
        check: oauth_flows,
        stride: Stride::Spoofing,
        cwe: Some(287),
        severity: Severity::Medium,
        threat: "weak-credentials-transport",
        control: "strong-authentication",
        rationale: "an OAuth2 scheme offers the `implicit` or `password` flow (deprecated by the OAuth 2.0 Security BCP)",
        remediation: "Use the authorization code flow with PKCE (or client credentials between services)",
    },
];
