//! Diagnostic codes, levels and the diagnostic value every layer produces.
//!
//! Owns: the stable list of codes (their names are public API: users silence them by name and
//! SARIF rules are keyed by them), default levels, and the [`Diagnostic`] record. Must never:
//! format for a terminal or a protocol (that is `render`'s and `lsp`'s job).

use crate::text::TextRange;
use std::sync::Arc;

/// A file's path relative to the scanned root, `/`-separated (`src/app.py`).
pub type FilePath = Arc<str>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }
    pub fn parse(text: &str) -> Option<Level> {
        Some(match text {
            "error" => Level::Error,
            "warning" => Level::Warning,
            "note" => Level::Note,
            _ => return None,
        })
    }
}

/// Stable diagnostic codes. See the README section of the same name for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    UnmitigatedExposure,
    ConfirmedFinding,
    DanglingReference,
    DuplicateDefinition,
    MalformedAnnotation,
    ProseLikeAnnotation,
    UnknownVerb,
    UnusedDefinition,
}

impl Code {
    pub const ALL: [Code; 8] = [
        Code::UnmitigatedExposure,
        Code::ConfirmedFinding,
        Code::DanglingReference,
        Code::DuplicateDefinition,
        Code::MalformedAnnotation,
        Code::ProseLikeAnnotation,
        Code::UnknownVerb,
        Code::UnusedDefinition,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::UnmitigatedExposure => "unmitigated-exposure",
            Code::ConfirmedFinding => "confirmed-finding",
            Code::DanglingReference => "dangling-reference",
            Code::DuplicateDefinition => "duplicate-definition",
            Code::MalformedAnnotation => "malformed-annotation",
            Code::ProseLikeAnnotation => "prose-like-annotation",
            Code::UnknownVerb => "unknown-verb",
            Code::UnusedDefinition => "unused-definition",
        }
    }

    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Level before escalation (an unmitigated high-severity exposure is raised to an error).
    pub fn default_level(self) -> Level {
        match self {
            Code::UnmitigatedExposure | Code::ProseLikeAnnotation | Code::UnknownVerb => Level::Warning,
            Code::UnusedDefinition => Level::Note,
            Code::ConfirmedFinding
            | Code::DanglingReference
            | Code::DuplicateDefinition
            | Code::MalformedAnnotation => Level::Error,
        }
    }

    /// One-line summary, used as the SARIF rule's short description.
    pub fn summary(self) -> &'static str {
        match self {
            Code::UnmitigatedExposure => {
                "An asset is exposed to a threat that nothing mitigates, accepts or transfers"
            }
            Code::ConfirmedFinding => "A threat is confirmed on an asset (a verified finding)",
            Code::DanglingReference => "A #id or @id reference names nothing defined in the project",
            Code::DuplicateDefinition => "The same id or name is defined more than once",
            Code::MalformedAnnotation => "An annotation starts with a known verb but does not parse",
            Code::ProseLikeAnnotation => "A comment line starts with an annotation verb but reads as prose",
            Code::UnknownVerb => "An annotation verb is not known (probably misspelt)",
            Code::UnusedDefinition => "A threat or control is defined but never referenced",
        }
    }
}

/// A text replacement in one file, offered as a fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub file: FilePath,
    pub range: TextRange,
    pub new_text: String,
}

/// A suggested fix: a label and the edits that carry it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub label: String,
    pub edits: Vec<Edit>,
}

/// Another location that explains a diagnostic (where the threat is defined, the first
/// definition of a duplicate, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub file: FilePath,
    pub range: TextRange,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub level: Level,
    pub message: String,
    pub file: FilePath,
    pub range: TextRange,
    pub related: Vec<Related>,
    pub fix: Option<Fix>,
    /// The diagnostic marks something unused (editors fade it out).
    pub unnecessary: bool,
}
