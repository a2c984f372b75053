//! Terraform (HCL) to the infrastructure model.
//!
//! Owns: reading `.tf` texts with the tree-sitter HCL grammar into elements, boundaries, flows
//! and unknowns. Must never: do I/O or guess an unresolvable value.

pub mod rules;

use super::SourceFile;
use super::model::InfraModel;

/// Reads the Terraform files (a directory is a module) into `model`.
pub fn extract(files: &[&SourceFile], model: &mut InfraModel) {
    let _ = (files, model);
}
