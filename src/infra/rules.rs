//! The rule table that proposes threats from the infrastructure model, and its engine.
//!
//! Owns: [`Rule`] (one row: id, formats, resource pattern, condition, STRIDE category, CWE,
//! severity, rationale naming the attribute, remediation, the threat and control it proposes),
//! [`Verdict`] (what a condition returns), [`table`] (every format's rows, in one order) and
//! [`evaluate`] (each rule over each element it matches). The rows themselves live beside
//! their format's extractor (`terraform::rules` here) so that one format's rules are written
//! against one format's attribute names; a rule whose meaning is the same in two formats lists
//! both and reads both spellings. Must never: propose a threat without the attribute (or the
//! missing attribute) that caused it, or read anything but the model.

use crate::analysis::stride::Stride;
use crate::syntax::Severity;

use super::model::{Element, Format, InfraModel, Origin, Outcome, Proposal};

/// One row of the table.
pub struct Rule {
    /// Stable id, `TF-S3-ENCRYPTION`-style: the format's prefix, the service, the weakness.
    pub id: &'static str,
    pub formats: &'static [Format],
    /// Resource types the rule reads: exact names, or a prefix ending in `*` (`aws_lb*`).
    pub resources: &'static [&'static str],
    /// The condition: over the element and the whole model (a database's subnets, a bucket's
    /// separate public-access block).
    pub check: fn(&Element, &InfraModel) -> Verdict,
    pub stride: Stride,
    /// The CWE number of the weakness the condition shows, where one fits (it may be more
    /// specific than the threat's own, [`Threat::cwe`]).
    pub cwe: Option<u32>,
    pub severity: Severity,
    /// The threat's id in the proposed annotations (`#unencrypted-storage`), a key of
    /// [`THREATS`] (which gives its title): rules that name the same weakness in different
    /// formats share it.
    pub threat: &'static str,
    /// The control's id when the template shows it (`#encryption-at-rest`).
    pub control: &'static str,
    /// One line, naming the attribute.
    pub rationale: &'static str,
    pub remediation: &'static str,
}

/// A threat the rules propose: one title and one CWE per id, whatever the rules and formats
/// that propose it (each row names its threat by id).
pub struct Threat {
    /// The id in the proposed annotations (`#unencrypted-storage`).
    pub id: &'static str,
    /// The display name, in the `@threat` definition.
    pub title: &'static str,
    /// The CWE that names the threat as a whole, in the `@threat` definition.
    pub cwe: Option<u32>,
}

impl Threat {
    /// `CWE-311`, when the threat has one.
    pub fn cwe_ref(&self) -> Option<String> {
        self.cwe.map(|n| format!("CWE-{n}"))
    }
}

/// Every threat a rule row names, by id (sorted: a test checks it, and that every row's id is
/// here and every entry is used).
pub static THREATS: &[Threat] = &[
    Threat { id: "accidental-deletion", title: "Resource deleted by mistake or by an attacker", cwe: None },
    Threat {
        id: "admin-port-exposed",
        title: "Administration or database port open to the Internet",
        cwe: Some(284),
    },
    Threat { id: "cleartext-transmission", title: "Data sent in cleartext", cwe: Some(319) },
    Threat { id: "cleartext-transport", title: "Traffic in clear text", cwe: Some(319) },
    Threat { id: "container-escape", title: "A compromised container controls its host", cwe: Some(269) },
    Threat {
        id: "container-tampering",
        title: "An attacker can modify the running container",
        cwe: Some(732),
    },
    Threat { id: "data-loss", title: "Data lost with no backup", cwe: None },
    Threat { id: "excessive-privilege", title: "Permissions broader than needed", cwe: Some(269) },
    Threat { id: "hardcoded-secret", title: "A secret written in the configuration", cwe: Some(798) },
    Threat {
        id: "internet-admin-access",
        title: "Administrative or database port open to the Internet",
        cwe: Some(284),
    },
    Threat { id: "internet-open-ports", title: "Every port open to the Internet", cwe: Some(284) },
    Threat {
        id: "lateral-movement",
        title: "A compromised workload can reach every other one",
        cwe: Some(923),
    },
    Threat { id: "log-tampering", title: "Audit logs altered without detection", cwe: Some(354) },
    Threat {
        id: "metadata-credential-theft",
        title: "Instance credentials stolen through the metadata service",
        cwe: Some(918),
    },
    Threat { id: "missing-audit-trail", title: "Actions leave no audit trail", cwe: Some(778) },
    Threat {
        id: "missing-authentication",
        title: "Endpoint callable without authentication",
        cwe: Some(306),
    },
    Threat { id: "over-privileged-identity", title: "Identity allowed more than it needs", cwe: Some(269) },
    Threat { id: "public-bucket", title: "Bucket readable or writable by anyone", cwe: Some(732) },
    Threat { id: "public-compute", title: "Instance reachable from the Internet", cwe: Some(284) },
    Threat { id: "public-database", title: "Database reachable from the Internet", cwe: Some(284) },
    Threat { id: "public-storage", title: "Storage readable by anyone", cwe: Some(732) },
    Threat { id: "resource-exhaustion", title: "One workload can starve the others", cwe: Some(770) },
    Threat { id: "stale-key", title: "A key used for too long", cwe: Some(320) },
    Threat {
        id: "unauthenticated-api",
        title: "API operation callable without authentication",
        cwe: Some(306),
    },
    Threat { id: "unencrypted-storage", title: "Data at rest without encryption", cwe: Some(311) },
    Threat {
        id: "unfiltered-web-traffic",
        title: "Internet traffic reaches the application unfiltered",
        cwe: Some(20),
    },
    Threat { id: "unlogged-access", title: "Access to the store is not logged", cwe: Some(778) },
    Threat {
        id: "unpinned-image",
        title: "The image that runs can change without a change here",
        cwe: Some(494),
    },
    Threat {
        id: "unrecoverable-overwrite",
        title: "Objects overwritten or deleted without a way back",
        cwe: None,
    },
    Threat {
        id: "weak-credentials-transport",
        title: "Credentials exposed in transit or in logs",
        cwe: Some(522),
    },
    Threat { id: "web-attack", title: "Web attacks reach the application unfiltered", cwe: Some(693) },
];

/// The threat with `id`.
pub fn threat(id: &str) -> Option<&'static Threat> {
    THREATS.binary_search_by(|t| t.id.cmp(id)).ok().map(|i| &THREATS[i])
}

/// What a rule's condition says about one element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The rule does not apply (the element lacks the feature, or an attribute it needs is not
    /// statically known: nothing is guessed).
    Skip,
    /// The weakness is there: why, and where (the attribute, or the resource when it is
    /// missing).
    Exposed(String, Origin),
    /// The control is there: which, and where.
    Mitigated(String, Origin),
}

impl Rule {
    /// Whether the rule reads elements of `format` and `resource_type`.
    pub fn matches(&self, format: Format, resource_type: &str) -> bool {
        self.formats.contains(&format)
            && self.resources.iter().any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => resource_type.starts_with(prefix),
                None => *pattern == resource_type,
            })
    }

    /// The threat's title ([`THREATS`]); its id should a row name an unknown one (a test
    /// forbids it).
    pub fn title(&self) -> &'static str {
        threat(self.threat).map_or(self.threat, |t| t.title)
    }

    /// `CWE-311`, when the rule has one.
    pub fn cwe_ref(&self) -> Option<String> {
        self.cwe.map(|n| format!("CWE-{n}"))
    }
}

/// Every rule of every format, in table order (Terraform first).
pub fn table() -> impl Iterator<Item = &'static Rule> {
    super::terraform::rules::RULES
        .iter()
        .chain(super::cloudformation::rules::RULES)
        .chain(super::kubernetes::rules::RULES)
        .chain(super::compose::rules::RULES)
        .chain(super::openapi::rules::RULES)
}

/// The rule with `id`.
pub fn rule(id: &str) -> Option<&'static Rule> {
    table().find(|r| r.id == id)
}

/// Runs every rule over every element it matches and adds the proposals to the model.
pub fn evaluate(model: &mut InfraModel) {
    let mut proposals = Vec::new();
    for element in &model.elements {
        for rule in table().filter(|r| r.matches(element.format, &element.resource_type)) {
            let (outcome, detail, origin) = match (rule.check)(element, model) {
                Verdict::Skip => continue,
                Verdict::Exposed(detail, origin) => (Outcome::Exposure, detail, origin),
                Verdict::Mitigated(detail, origin) => (Outcome::Mitigation, detail, origin),
            };
            proposals.push(Proposal {
                rule: rule.id,
                element: element.key.clone(),
                outcome,
                stride: rule.stride,
                severity: rule.severity,
                detail,
                origin,
            });
        }
    }
    model.proposals.extend(proposals);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_row_names_a_threat_of_the_table_and_every_threat_is_used() {
        let ids: Vec<&str> = THREATS.iter().map(|t| t.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted, "THREATS is sorted by id, each id once");
        let used: BTreeSet<&str> = table().map(|r| r.threat).collect();
        for rule in table() {
            assert!(threat(rule.threat).is_some(), "{} names the unknown threat {}", rule.id, rule.threat);
        }
        for t in THREATS {
            assert!(used.contains(t.id), "no rule proposes {}", t.id);
            // The threat's CWE is one a rule proposing it shows.
            if let Some(cwe) = t.cwe {
                assert!(
                    table().any(|r| r.threat == t.id && r.cwe == Some(cwe)),
                    "no rule of {} shows CWE-{cwe}",
                    t.id
                );
            }
        }
        let rule_ids: BTreeSet<&str> = table().map(|r| r.id).collect();
        assert_eq!(rule_ids.len(), table().count(), "rule ids are unique");
    }
}
