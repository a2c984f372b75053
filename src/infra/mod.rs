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
//! Also owns which files the extractors read ([`reads`]), the asset id the baseline proposes for
//! an element ([`asset_id`]) and the drawn resources handed to the `unmodelled-resource` check
//! ([`resources`]).
//!
//! Sits above `analysis` (rules name STRIDE categories with [`crate::analysis::stride`]; the
//! `unmodelled-resource` rule takes [`crate::analysis::unmodelled::Resource`]s) and below
//! `render`. Not to be confused with the findings baseline of `check --baseline`
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

use crate::analysis::unmodelled::Resource;
use crate::file_id::FileId;
use crate::syntax::Language;
use crate::text::TextRange;

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
    add_internet(&mut model);
    rules::evaluate(&mut model);
    model.finish();
    model
}

/// The fixed Internet entity ([`model::INTERNET`]), added once whatever the formats when a flow
/// names it (every extractor writes ingress from `0.0.0.0/0`, a published port or a public
/// server as a flow from it). It comes from no file: its origin is empty (no path, line 0),
/// which the outputs leave out. Its format is that of the first element it reaches (flows in
/// order; Terraform when it reaches none).
fn add_internet(model: &mut InfraModel) {
    use model::{Element, ElementKind, INTERNET, Origin};
    if model.element(INTERNET).is_some() {
        return;
    }
    let mut named: Vec<&model::Flow> =
        model.flows.iter().filter(|f| f.from == INTERNET || f.to == INTERNET).collect();
    named.sort();
    if named.is_empty() {
        return;
    }
    let format = named
        .iter()
        .find_map(|f| model.element(if f.from == INTERNET { &f.to } else { &f.from }))
        .map_or(model::Format::Terraform, |e| e.format);
    model.elements.push(Element {
        key: INTERNET.to_string(),
        kind: ElementKind::ExternalEntity,
        format,
        resource_type: "internet".to_string(),
        name: "Internet".to_string(),
        boundaries: Vec::new(),
        origin: Origin::default(),
        attributes: std::collections::BTreeMap::new(),
    });
}

/// Whether some extractor reads a file of this path and language: Terraform's `.tf` files, and
/// every YAML and JSON document (the CloudFormation, Kubernetes, Compose and OpenAPI readers
/// detect their formats). The shells hand [`derive()`] exactly these.
pub fn reads(path: &str, language: Language) -> bool {
    match language {
        Language::Hcl => path.ends_with(".tf"),
        Language::Yaml | Language::Json => true,
        _ => false,
    }
}

/// An element key as a GAL asset id: letters, digits and `_` only
/// (`module.db.aws_db_instance.main` is `module_db_aws_db_instance_main`), so no template name
/// can change the annotation.
pub fn asset_id(key: &str) -> String {
    let mut id: String = key.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        id.insert(0, 'r');
    }
    id
}

/// The drawn resources of `model` (data stores, processes, external entities declared in one
/// of `files`; not configuration resources, not the fixed Internet entity), for the
/// `unmodelled-resource` check; `file_id` gives the project's key of a [`SourceFile::path`].
pub fn resources(
    model: &InfraModel,
    files: &[SourceFile],
    file_id: impl Fn(&str) -> FileId,
) -> Vec<Resource> {
    let texts: std::collections::HashMap<&str, &str> =
        files.iter().map(|f| (f.path.as_str(), &*f.text)).collect();
    model
        .elements
        .iter()
        .filter(|e| e.kind.is_diagram() && e.key != model::INTERNET)
        .filter_map(|e| {
            let text = texts.get(e.origin.path.as_str())?;
            let start = e.origin.start.min(text.len());
            let end = e.origin.end.clamp(start, text.len());
            // The definition's first line, without its indentation and line break.
            let line_end = text[start..].find(['\r', '\n']).map_or(text.len(), |i| start + i);
            let first = text[start..line_end].trim_end();
            Some(Resource {
                address: e.key.clone(),
                resource_type: e.resource_type.clone(),
                kind: e.kind.name(),
                asset_id: asset_id(&e.key),
                file: file_id(&e.origin.path),
                range: TextRange::new(start, start + first.len()),
                span: TextRange::new(start, end),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{ElementKind, INTERNET};

    fn file(path: &str, text: &str) -> SourceFile {
        let language = Language::from_path(std::path::Path::new(path)).expect("a known language");
        SourceFile { path: path.into(), language, text: text.into() }
    }

    const COMPOSE: &str = "services:\n  web:\n    image: nginx:1.27\n    ports: [\"80:80\"]\n";
    const TERRAFORM: &str = "resource \"aws_security_group\" \"web\" {\n  ingress {\n    from_port = 443\n    \
                             to_port = 443\n    protocol = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n\
                             resource \"aws_instance\" \"web\" { vpc_security_group_ids = [aws_security_group.web.id] }\n";

    /// The Internet element: once, with no origin, whenever a flow names it, whichever
    /// extractors wrote the flows.
    #[test]
    fn the_internet_is_an_element_once_whenever_a_flow_names_it() {
        let internet = |model: &InfraModel| -> Vec<(ElementKind, model::Format, String)> {
            model
                .elements
                .iter()
                .filter(|e| e.key == INTERNET)
                .map(|e| (e.kind, e.format, e.origin.display()))
                .collect()
        };
        let compose = derive(&[file("compose.yaml", COMPOSE)]);
        assert!(compose.flows.iter().any(|f| f.from == INTERNET), "{:?}", compose.flows);
        assert_eq!(internet(&compose), [(ElementKind::ExternalEntity, model::Format::Compose, ":0".into())]);
        let both = derive(&[file("compose.yaml", COMPOSE), file("main.tf", TERRAFORM)]);
        assert_eq!(both.flows.iter().filter(|f| f.from == INTERNET).count(), 2, "{:?}", both.flows);
        assert_eq!(internet(&both).len(), 1);
        let none = derive(&[file("compose.yaml", "services:\n  db:\n    image: postgres:16\n")]);
        assert!(internet(&none).is_empty() && none.flows.is_empty(), "{none:?}");
    }
}
