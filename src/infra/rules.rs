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
    /// The CWE number, where one fits.
    pub cwe: Option<u32>,
    pub severity: Severity,
    /// The threat's id in the proposed annotations (`#unencrypted-storage`): rules that name
    /// the same weakness in different formats share it.
    pub threat: &'static str,
    /// The threat's display name.
    pub title: &'static str,
    /// The control's id when the template shows it (`#encryption-at-rest`).
    pub control: &'static str,
    /// One line, naming the attribute.
    pub rationale: &'static str,
    pub remediation: &'static str,
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
