//! `unmodelled-resource`: the resources of the project's infrastructure code that no
//! annotation names.
//!
//! Owns: the one rule that decides whether a resource is modelled, and the note for each one
//! that is not. The shells derive the infrastructure model ([`crate::infra`], which sits above
//! this layer) only when the code is enabled, and hand its drawn resources in as plain
//! [`Resource`]s. Must never: read a file, know a template format, or derive the model itself.
//!
//! A resource is **modelled** when any of these holds:
//! - the asset the baseline proposes for it (`@asset module_db_aws_db_instance_main`, see
//!   [`Resource::asset_id`]) is defined or referenced by some annotation of the project (by
//!   that name or as an explicit `#id`), so the annotations `baseline --apply` writes, in the
//!   template or in a `.gal` sidecar, count wherever they are;
//! - an annotation is written *in* its definition: from the definition's first line to its end
//!   as the extractor records it (a Terraform block, a Kubernetes document; the key line of a
//!   CloudFormation resource, a Compose service, an OpenAPI operation);
//! - an annotation is written *directly above* it: in the run of comment lines that ends on the
//!   line before the definition (no blank line and no code in between), whatever it names.
//!   A user who wrote `# @asset Shop.Orders` over an `aws_db_instance` modelled it;
//! - a `.gal` sidecar annotation's `@source` anchor points at one of those lines.
//!
//! Only drawn elements are resources here: data stores, processes and external entities, not
//! configuration resources (rules, policies, listeners) and not the fixed Internet entity.

use super::Analysis;
use crate::diagnostic::{Code, Diagnostic, Level};
use crate::file_id::FileId;
use crate::model::names::path_key;
use crate::model::{EntityKey, ProjectIndex, Resolved};
use crate::syntax::EntityKind;
use crate::text::TextRange;
use rustc_hash::{FxHashMap, FxHashSet};

/// One drawn resource of the infrastructure model, as the rule needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The model's stable key (`module.db.aws_db_instance.main`, `cfn:LogsBucket`).
    pub address: String,
    /// The template's resource type (`aws_db_instance`, `AWS::S3::Bucket`, `Deployment`).
    pub resource_type: String,
    /// The diagram kind's name (`data store`, `process`, `external entity`).
    pub kind: &'static str,
    /// The GAL asset id the baseline proposes for it (`module_db_aws_db_instance_main`).
    pub asset_id: String,
    pub file: FileId,
    /// The definition's first line, where the note is reported.
    pub range: TextRange,
    /// The whole definition as the extractor records it (starts on `range`'s line).
    pub span: TextRange,
}

/// The resources of one project (or workspace folder) and the level their notes take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resources {
    pub level: Level,
    pub resources: Vec<Resource>,
}

/// The notes for every resource no annotation names (see the module docs), at each set's level.
pub(super) fn diagnostics(index: &ProjectIndex, analysis: &Analysis, sets: &[Resources]) -> Vec<Diagnostic> {
    if sets.iter().all(|s| s.resources.is_empty()) {
        return Vec::new();
    }
    let named = named_assets(analysis);
    let anchored = anchored_lines(index);
    let mut out = Vec::new();
    for set in sets {
        for r in &set.resources {
            if modelled(index, &named, &anchored, r) {
                continue;
            }
            let mut d = super::diagnostics::diag(
                Code::UnmodelledResource,
                &r.file,
                r.range,
                format!(
                    "{} `{}` ({}) is named by no annotation: annotate it, e.g. with the baseline's \
                     `@asset {}`",
                    r.resource_type, r.address, r.kind, r.asset_id
                ),
            );
            d.level = set.level;
            out.push(d);
        }
    }
    out
}

/// Every asset some annotation defines or references.
fn named_assets(analysis: &Analysis) -> FxHashSet<&EntityKey> {
    analysis
        .resolved
        .iter()
        .flat_map(|(_, file)| file.iter().flatten())
        .filter_map(|r| match r {
            Resolved::Entity(e) if e.kind == EntityKind::Asset => Some(e),
            _ => None,
        })
        .collect()
}

/// The 1-based lines `.gal` sidecar annotations are anchored to, by file.
fn anchored_lines(index: &ProjectIndex) -> FxHashMap<FileId, Vec<u32>> {
    let mut out: FxHashMap<FileId, Vec<u32>> = FxHashMap::default();
    for facts in index.files().filter(|f| !f.anchors.is_empty()) {
        for i in 0..facts.annotations().len() {
            if let Some(anchor) = facts.anchor_of(i)
                && let Some((file, line)) = super::anchors::anchored_at(index, anchor)
            {
                out.entry(file).or_default().push(line);
            }
        }
    }
    out
}

/// The rule of the module docs.
fn modelled(
    index: &ProjectIndex,
    named: &FxHashSet<&EntityKey>,
    anchored: &FxHashMap<FileId, Vec<u32>>,
    r: &Resource,
) -> bool {
    let asset = EntityKey::new(EntityKind::Asset, path_key(&r.asset_id));
    if named.contains(&asset)
        || index.definitions_by_id(&r.asset_id).iter().any(|(_, d)| d.entity.kind == EntityKind::Asset)
    {
        return true;
    }
    let Some((text, line_index)) = index.text_of(r.file.as_str()) else { return false };
    let first = line_index.line_col(r.range.start().min(text.len())).line as usize;
    let last = line_index.line_col(r.span.end().max(r.range.end()).min(text.len())).line as usize;
    // The run of comment lines directly above the definition.
    let markers = index.file(r.file.as_str()).map_or(&[][..], |f| f.language.line_comment_markers());
    let mut top = first;
    while top > 0 {
        let line = line_index.line_range(top - 1, text).slice(text).trim_start();
        let comment = markers.iter().any(|m| line.starts_with(m))
            || ["/*", "*", "<!--"].iter().any(|m| line.starts_with(m));
        if !comment {
            break;
        }
        top -= 1;
    }
    if let Some(lines) = anchored.get(&r.file)
        && lines.iter().any(|&l| (top + 1..=last + 1).contains(&(l as usize)))
    {
        return true;
    }
    let Some(facts) = index.file(r.file.as_str()) else { return false };
    let (from, to) = (line_index.line_start(top), line_index.line_range(last, text).end());
    let annotations = facts.annotations();
    let i = annotations.partition_point(|a| a.range.start() < from);
    annotations.get(i).is_some_and(|a| a.range.start() <= to)
}
