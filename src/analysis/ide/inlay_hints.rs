//! Inlay hints: after each `@exposes`, whether anything covers it.
//!
//! The answer is [`Analysis::coverage`]'s (the one coverage rule, `analysis::coverage`), and
//! the hint is its [`crate::analysis::Coverage::label`]: `mitigated by #control`, `mitigated`
//! (no control named), `accepted`, `transferred`, else `unmitigated`. Controls on the asset
//! itself come first, then those on its ancestors, nearest first.

use crate::analysis::Analysis;
use crate::model::ProjectIndex;
use crate::syntax::Body;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InlayHint {
    /// Byte offset the hint is shown at (the end of the annotation); editors should pad it.
    pub offset: usize,
    pub label: String,
}

/// One hint after every `@exposes` of `file` whose asset and threat resolve.
pub fn inlay_hints(index: &ProjectIndex, analysis: &Analysis, file: &str) -> Vec<InlayHint> {
    let Some(facts) = index.file(file) else { return Vec::new() };
    let mut out = Vec::new();
    for (i, ann) in facts.annotations().iter().enumerate() {
        if !matches!(ann.body, Body::Exposes { .. }) {
            continue;
        }
        let Some(coverage) = analysis.coverage(facts.path.as_str(), i) else { continue };
        out.push(InlayHint { offset: ann.range.end(), label: coverage.label() });
    }
    out
}
