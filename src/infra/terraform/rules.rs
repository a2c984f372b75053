//! The Terraform rows of the rule table ([`crate::infra::rules`]).
//!
//! Owns: each Terraform rule's condition over the attribute names of the AWS, Azure and
//! Google providers. Must never: read anything but the element and the model.

use crate::infra::rules::Rule;

/// The Terraform rules, in table order.
pub static RULES: &[Rule] = &[];
