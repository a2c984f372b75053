//! Diagnostic codes, levels and the diagnostic value every layer produces.
//!
//! Owns: the stable list of codes (their names are public API: users silence them by name and
//! SARIF rules are keyed by them), default levels, and the [`Diagnostic`] record. Must never:
//! format for a terminal or a protocol (that is `render`'s and `lsp`'s job).

use crate::file_id::FileId;
use crate::text::TextRange;
use std::cmp::Ordering;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Code {
    UnmitigatedExposure,
    ConfirmedFinding,
    DanglingReference,
    DuplicateDefinition,
    MalformedAnnotation,
    ProseLikeAnnotation,
    UnknownVerb,
    UnusedDefinition,
    ResourceLimit,
    ConfigPathMissing,
    InvalidConfig,
    StaleAnchor,
    ConflictMarker,
    AgentInstructionInAnnotation,
    McpToolInstruction,
    McpToolShadowing,
    McpServerShell,
    McpUnpinnedPackage,
    McpPlainHttp,
    McpConfigSecret,
    McpToolChanged,
    McpToolRemoved,
    McpToolUnpinned,
    InvalidRisk,
    UnownedRisk,
    OverdueRisk,
    UnmodelledResource,
    NoSyntaxTree,
    UnreadAnnotation,
    UnplacedBoundarySide,
}

impl Code {
    pub const ALL: [Code; 30] = [
        Code::UnmitigatedExposure,
        Code::ConfirmedFinding,
        Code::DanglingReference,
        Code::DuplicateDefinition,
        Code::MalformedAnnotation,
        Code::ProseLikeAnnotation,
        Code::UnknownVerb,
        Code::UnusedDefinition,
        Code::ResourceLimit,
        Code::ConfigPathMissing,
        Code::InvalidConfig,
        Code::StaleAnchor,
        Code::ConflictMarker,
        Code::AgentInstructionInAnnotation,
        Code::McpToolInstruction,
        Code::McpToolShadowing,
        Code::McpServerShell,
        Code::McpUnpinnedPackage,
        Code::McpPlainHttp,
        Code::McpConfigSecret,
        Code::McpToolChanged,
        Code::McpToolRemoved,
        Code::McpToolUnpinned,
        Code::InvalidRisk,
        Code::UnownedRisk,
        Code::OverdueRisk,
        Code::UnmodelledResource,
        Code::NoSyntaxTree,
        Code::UnreadAnnotation,
        Code::UnplacedBoundarySide,
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
            Code::ResourceLimit => "resource-limit",
            Code::ConfigPathMissing => "config-path-missing",
            Code::InvalidConfig => "invalid-config",
            Code::StaleAnchor => "stale-anchor",
            Code::ConflictMarker => "conflict-marker",
            Code::AgentInstructionInAnnotation => "agent-instruction-in-annotation",
            Code::McpToolInstruction => "mcp-tool-instruction",
            Code::McpToolShadowing => "mcp-tool-shadowing",
            Code::McpServerShell => "mcp-server-shell",
            Code::McpUnpinnedPackage => "mcp-unpinned-package",
            Code::McpPlainHttp => "mcp-plain-http",
            Code::McpConfigSecret => "mcp-config-secret",
            Code::McpToolChanged => "mcp-tool-changed",
            Code::McpToolRemoved => "mcp-tool-removed",
            Code::McpToolUnpinned => "mcp-tool-unpinned",
            Code::InvalidRisk => "invalid-risk",
            Code::UnownedRisk => "unowned-risk",
            Code::OverdueRisk => "overdue-risk",
            Code::UnmodelledResource => "unmodelled-resource",
            Code::NoSyntaxTree => "no-syntax-tree",
            Code::UnreadAnnotation => "unread-annotation",
            Code::UnplacedBoundarySide => "unplaced-boundary-side",
        }
    }

    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Level before escalation (an unmitigated high-severity exposure is raised to an error).
    /// Whether the text under the diagnostic's range must never be repeated in an output
    /// (a secret): renderers that quote source lines mask it, SARIF leaves out its snippet.
    pub fn conceals_range(self) -> bool {
        matches!(self, Code::McpConfigSecret)
    }

    pub fn default_level(self) -> Level {
        match self {
            Code::UnmitigatedExposure
            | Code::ProseLikeAnnotation
            | Code::UnreadAnnotation
            | Code::UnknownVerb
            | Code::ResourceLimit
            | Code::ConfigPathMissing
            | Code::StaleAnchor
            | Code::AgentInstructionInAnnotation
            | Code::McpToolInstruction
            | Code::McpToolShadowing
            | Code::McpServerShell
            | Code::McpUnpinnedPackage
            | Code::McpPlainHttp
            | Code::McpToolRemoved
            | Code::UnownedRisk
            | Code::OverdueRisk => Level::Warning,
            Code::UnusedDefinition
            | Code::ConflictMarker
            | Code::McpToolUnpinned
            | Code::UnmodelledResource
            | Code::NoSyntaxTree => Level::Note,
            Code::ConfirmedFinding
            | Code::DanglingReference
            | Code::DuplicateDefinition
            | Code::MalformedAnnotation
            | Code::InvalidConfig
            | Code::McpConfigSecret
            | Code::McpToolChanged
            | Code::InvalidRisk
            | Code::UnplacedBoundarySide => Level::Error,
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
            Code::ResourceLimit => "Part of a file was not read because it exceeds a resource limit",
            Code::ConfigPathMissing => {
                "A configured path does not exist or a configured glob matches no file"
            }
            Code::InvalidConfig => "A project configuration file or one of its entries cannot be used",
            Code::StaleAnchor => {
                "A .gal sidecar's @source anchor no longer matches its source file (moved symbol, missing file)"
            }
            Code::ConflictMarker => "An unresolved merge conflict: annotations on both sides are read",
            Code::AgentInstructionInAnnotation => {
                "Annotation text addresses an AI agent or hides content: prompt injection, invisible characters"
            }
            Code::McpToolInstruction => {
                "An MCP tool's description addresses an AI agent or hides content (tool poisoning)"
            }
            Code::McpToolShadowing => "An MCP tool's description mentions other tools or servers (shadowing)",
            Code::McpServerShell => "An MCP server is started through a shell command string",
            Code::McpUnpinnedPackage => {
                "An MCP server runs a package, image or URL that is not pinned to a version or digest"
            }
            Code::McpPlainHttp => "A remote MCP server is reached over plain http",
            Code::McpConfigSecret => {
                "A committed MCP client configuration holds a literal secret in env or headers"
            }
            Code::McpToolChanged => "An MCP tool's description changed since it was pinned (rug pull)",
            Code::McpToolRemoved => "A pinned MCP tool is no longer defined",
            Code::McpToolUnpinned => "An MCP tool is not in the pin file",
            Code::InvalidRisk => "A risk key (risk:, owner:, due:, audited:) has a value that cannot be read",
            Code::UnownedRisk => "A risk at or above the configured band has no owner",
            Code::OverdueRisk => "An open risk is past its treatment due date or its band's SLA",
            Code::UnmodelledResource => {
                "A resource of the infrastructure code is named by no annotation (off unless enabled)"
            }
            Code::NoSyntaxTree => {
                "A file was read without a syntax tree: only its whole-line comments were read"
            }
            Code::UnreadAnnotation => "An annotation behind stray comment marks (`//* @threat`) is not read",
            Code::UnplacedBoundarySide => {
                "A side of a directed @boundary names nothing: no @asset declares it, no @flows names it"
            }
        }
    }

    /// Whether the code is reported only when enabled: by the project's configuration
    /// (`threat-analyzer: infra: unmodelled-resource: note`) or a level override
    /// (`--severity unmodelled-resource=note`, the server's `severity` setting), see
    /// [`LevelOverrides::enabled`]. Its [`Code::default_level`] is the level it is reported
    /// at once enabled without a level of its own.
    pub fn off_by_default(self) -> bool {
        matches!(self, Code::UnmodelledResource)
    }
}

/// A text replacement in one file, offered as a fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub file: FileId,
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
    pub file: FileId,
    pub range: TextRange,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub level: Level,
    pub message: String,
    pub file: FileId,
    pub range: TextRange,
    pub related: Vec<Related>,
    pub fix: Option<Fix>,
    /// The diagnostic marks something unused (editors fade it out).
    pub unnecessary: bool,
    /// Where a finding about an annotation of a `.gal` sidecar was written, when it is reported
    /// at the source location that the annotation's `@source` anchors to (`file`/`range`).
    /// Also the first of `related`.
    pub sidecar: Option<Related>,
    /// The finding's effective severity (unmitigated exposures with a stated or inherited
    /// severity), from [`crate::analysis::Analysis::exposure_severity`]; SARIF's
    /// `security-severity` reads it.
    pub finding_severity: Option<crate::syntax::Severity>,
}

impl Diagnostic {
    /// The same finding as shown on the `.gal` line it was written on, for a diagnostic
    /// reported at an anchored source location ([`Diagnostic::sidecar`]): there, the related
    /// location that was the `.gal` line points to the source instead. The language server
    /// publishes both.
    pub fn at_sidecar(&self) -> Option<Diagnostic> {
        let sidecar = self.sidecar.as_ref()?;
        let mut copy = self.clone();
        copy.file = sidecar.file.clone();
        copy.range = sidecar.range;
        copy.sidecar = None;
        let source = Related {
            file: self.file.clone(),
            range: self.range,
            message: "reported here, at the code this annotation's `@source` anchors it to".into(),
        };
        match copy.related.iter_mut().find(|r| r == &sidecar) {
            Some(slot) => *slot = source,
            None => copy.related.insert(0, source),
        }
        Some(copy)
    }
}

/// The order every output lists diagnostics in: file, start, end, then code, level (most
/// severe first), message. Deterministic, so fingerprint counters
/// ([`crate::analysis::fingerprint`]) and baseline states line up with what each format shows.
pub fn sorted(diagnostics: &[Diagnostic]) -> Vec<&Diagnostic> {
    let mut out: Vec<&Diagnostic> = diagnostics.iter().collect();
    out.sort_by(|a, b| output_order(a, b));
    out
}

fn output_order(a: &Diagnostic, b: &Diagnostic) -> Ordering {
    a.file
        .cmp(&b.file)
        .then(a.range.start.cmp(&b.range.start))
        .then(a.range.end.cmp(&b.range.end))
        .then(a.code.cmp(&b.code))
        .then(b.level.cmp(&a.level))
        .then(a.message.cmp(&b.message))
}

/// Per-code level overrides: `code=error|warning|note|off` (the CLI's `--severity`, later the
/// server's configuration). `off` drops the code's diagnostics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LevelOverrides {
    levels: Vec<(Code, Option<Level>)>,
}

impl LevelOverrides {
    /// Adds one `code=level` setting; a later setting for the same code wins.
    pub fn set(&mut self, spec: &str) -> Result<(), String> {
        let (code, level) = spec.split_once('=').ok_or_else(|| format!("`{spec}`: expected CODE=LEVEL"))?;
        let code = Code::parse(code.trim()).ok_or_else(|| {
            let known: Vec<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
            format!("unknown diagnostic code `{}` (known: {})", code.trim(), known.join(", "))
        })?;
        let level = match level.trim() {
            "off" | "allow" | "none" => None,
            other => Some(
                Level::parse(other)
                    .ok_or_else(|| format!("unknown level `{other}` (use error, warning, note or off)"))?,
            ),
        };
        self.levels.retain(|(c, _)| *c != code);
        self.levels.push((code, level));
        Ok(())
    }

    /// The level a code that is [`Code::off_by_default`] is reported at: the override's when one
    /// is set for it (`None` for `off`), else `configured` (the project configuration's,
    /// `None` when it does not enable the code). `None`: the code is not computed at all.
    pub fn enabled(&self, code: Code, configured: Option<Level>) -> Option<Level> {
        match self.levels.iter().find(|(c, _)| *c == code) {
            Some((_, level)) => *level,
            None => configured,
        }
    }

    /// Applies the overrides: changes levels, drops diagnostics whose code is `off`.
    pub fn apply(&self, diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
        if self.levels.is_empty() {
            return diagnostics;
        }
        diagnostics
            .into_iter()
            .filter_map(|mut d| match self.levels.iter().find(|(c, _)| *c == d.code) {
                Some((_, None)) => None,
                Some((_, Some(level))) => {
                    d.level = *level;
                    Some(d)
                }
                None => Some(d),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(code: Code) -> Diagnostic {
        Diagnostic {
            code,
            level: code.default_level(),
            message: String::new(),
            file: FileId::relative("a"),
            range: TextRange::default(),
            related: vec![],
            fix: None,
            unnecessary: false,
            sidecar: None,
            finding_severity: None,
        }
    }

    #[test]
    fn overrides_change_levels_and_drop_codes() {
        let mut o = LevelOverrides::default();
        o.set("unused-definition=off").unwrap();
        o.set("unknown-verb = error").unwrap();
        let out = o.apply(vec![d(Code::UnusedDefinition), d(Code::UnknownVerb), d(Code::DanglingReference)]);
        let got: Vec<_> = out.iter().map(|d| (d.code, d.level)).collect();
        assert_eq!(got, [(Code::UnknownVerb, Level::Error), (Code::DanglingReference, Level::Error)]);
        assert!(o.set("no-such-code=off").unwrap_err().contains("unknown diagnostic code"));
        assert!(o.set("unknown-verb=loud").unwrap_err().contains("unknown level"));
        assert!(o.set("unknown-verb").is_err());
    }

    #[test]
    fn an_override_enables_or_disables_a_code_that_is_off_by_default() {
        let code = Code::UnmodelledResource;
        assert!(code.off_by_default() && !Code::UnusedDefinition.off_by_default());
        let none = LevelOverrides::default();
        assert_eq!(none.enabled(code, None), None);
        assert_eq!(none.enabled(code, Some(Level::Warning)), Some(Level::Warning));
        let mut on = LevelOverrides::default();
        on.set("unmodelled-resource=note").unwrap();
        assert_eq!(on.enabled(code, None), Some(Level::Note));
        assert_eq!(on.enabled(code, Some(Level::Error)), Some(Level::Note));
        let mut off = LevelOverrides::default();
        off.set("unmodelled-resource=off").unwrap();
        assert_eq!(off.enabled(code, Some(Level::Note)), None);
    }
}
