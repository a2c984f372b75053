//! A baseline threat model derived from infrastructure code (issue 20): Terraform here, the
//! YAML/JSON formats (CloudFormation, Kubernetes, Compose, OpenAPI) beside it.
//!
//! Owns: the infrastructure model ([`model`]: elements, boundaries, flows, proposals, unknowns,
//! the generic attribute [`model::Value`] the extractors fill), the rule table and its engine
//! ([`rules`]), the extractors ([`terraform`]; [`documents`] for CloudFormation, Kubernetes,
//! Compose and OpenAPI over the located YAML/JSON reader [`doc`] and [`detect`]), and [`derive()`], which runs them all over a set
//! of files and returns one model in a deterministic order. Must never: do I/O (the shells read
//! the files through `walk` and hand the texts in), guess a value it cannot resolve statically
//! (it becomes a [`model::Unknown`]), or print (the outputs are `render::infra`'s).
//!
//! Sits above `analysis` (rules name STRIDE categories with [`crate::analysis::stride`]) and
//! below `render`. Not to be confused with the findings baseline of `check --baseline`
//! (`analysis::baseline`): the CLI command is called `baseline` as the issue asks, its code is
//! `cli::infra`.

pub mod cloudformation;
pub mod compose;
pub mod detect;
pub mod doc;
pub mod documents;
pub mod kubernetes;
pub mod model;
pub mod openapi;
pub mod rules;
pub mod terraform;

use std::sync::Arc;

use crate::syntax::Language;

pub use model::InfraModel;

/// One file handed to the extractors: its project-relative path (`/`-separated, the key every
/// [`model::Origin`] names), its language (by the project's rule, [`Language::from_path`]) and
/// its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: String,
    pub language: Language,
    pub text: Arc<str>,
}

/// The baseline of a set of files: every extractor that knows a file's format reads it, the
/// rule table is evaluated over the result, and everything is sorted (the same files give the
/// same model, byte for byte, whatever their order).
pub fn derive(files: &[SourceFile]) -> InfraModel {
    let mut files: Vec<&SourceFile> = files.iter().collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut model = InfraModel::default();
    let hcl: Vec<&SourceFile> =
        files.iter().copied().filter(|f| f.language == Language::Hcl && f.path.ends_with(".tf")).collect();
    terraform::extract(&hcl, &mut model);
    documents::extract(&files, &mut model);
    rules::evaluate(&mut model);
    model.finish();
    model
}
