//! Model (stub: the real index lands with the parser).
use crate::diagnostic::FilePath;
use crate::syntax::{Language, ParsedFile};
use crate::text::{ColumnUnit, LineCol, LineIndex, TextRange};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Everything known about one file, computed from its text alone.
#[derive(Debug)]
pub struct FileFacts {
    pub path: FilePath,
    pub language: Language,
    pub text: Arc<str>,
    pub line_index: LineIndex,
    pub parsed: ParsedFile,
}

impl FileFacts {
    pub fn new(path: FilePath, language: Language, text: Arc<str>) -> FileFacts {
        let parsed = crate::syntax::parse_file(language, &text);
        let line_index = LineIndex::new(&text);
        FileFacts { path, language, text, line_index, parsed }
    }
    /// 0-based line and column (in `unit`) of a byte offset.
    pub fn line_col(&self, offset: usize, unit: ColumnUnit) -> LineCol {
        self.line_index.line_col_in(&self.text, offset, unit)
    }
    pub fn slice(&self, range: TextRange) -> &str {
        range.slice(&self.text)
    }
}

#[derive(Debug, Default)]
pub struct ProjectIndex {
    files: BTreeMap<FilePath, Arc<FileFacts>>,
}

impl ProjectIndex {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set_file(&mut self, facts: Arc<FileFacts>) {
        self.files.insert(facts.path.clone(), facts);
    }
    pub fn remove_file(&mut self, path: &str) {
        self.files.remove(path);
    }
    pub fn file(&self, path: &str) -> Option<&Arc<FileFacts>> {
        self.files.get(path)
    }
    pub fn files(&self) -> impl Iterator<Item = &Arc<FileFacts>> {
        self.files.values()
    }
}
