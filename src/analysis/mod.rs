//! Analysis (stub).
use crate::diagnostic::Diagnostic;
use crate::model::ProjectIndex;
use serde::Serialize;

/// Counts for `check`'s summary. Field names are public (the JSON output's `summary`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files_scanned: usize,
    pub files_with_annotations: usize,
    pub annotations: usize,
    pub assets: usize,
    pub threats: usize,
    pub controls: usize,
    pub mitigations: usize,
    pub exposures: usize,
    pub confirmed: usize,
    pub acceptances: usize,
    pub transfers: usize,
    pub flows: usize,
    pub boundaries: usize,
    pub reviews: usize,
    pub tests: usize,
    pub assumptions: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

/// All diagnostics of the project, sorted by file and position.
pub fn diagnostics(_index: &ProjectIndex) -> Vec<Diagnostic> {
    Vec::new()
}

/// Summary counts; `files_scanned` is the walker's count (the index holds annotated files only).
pub fn summary(_index: &ProjectIndex, _diagnostics: &[Diagnostic], files_scanned: usize) -> Summary {
    Summary { files_scanned, ..Summary::default() }
}
