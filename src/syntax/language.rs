//! Language registry (stub; filled in by the language work).
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    Python,
    Gal,
}

impl Language {
    pub fn from_path(path: &Path) -> Option<Language> {
        match path.extension()?.to_str()? {
            "py" => Some(Language::Python),
            "gal" => Some(Language::Gal),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Gal => "gal",
        }
    }
    pub fn has_embedded_annotations(self) -> bool {
        false
    }
}
