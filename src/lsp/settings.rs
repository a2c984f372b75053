//! The server's settings: what the client sends in `initializationOptions` and
//! `workspace/didChangeConfiguration`, at the top level or under a `threatAnalyzer` key
//! (README, "Settings").
//!
//! Owns: which keys are read, what each value means, the problems a value has (returned to the
//! caller, which logs them and tells the client), and the walk options the settings ask for.
//! Must never: read the disk, talk to the client, or hold state: the current settings live in
//! `state::State`.

use crate::analysis::{CoverageScope, ide};
use crate::diagnostic::LevelOverrides;
use crate::walk::{self, WalkOptions};
use std::path::PathBuf;

/// Server settings, from `initializationOptions` and `workspace/didChangeConfiguration`
/// (either at the top level or under a `threatAnalyzer` key).
#[derive(Clone, Debug, Default)]
pub(super) struct Settings {
    pub(super) overrides: LevelOverrides,
    pub(super) max_file_size: Option<u64>,
    /// Globs (gitignore syntax, relative to each workspace folder) of files to read / skip.
    pub(super) include: Vec<String>,
    pub(super) exclude: Vec<String>,
    /// The dialect code actions write new annotations in.
    pub(super) dialect: ide::code_actions::WriteDialect,
    /// `cache: false`: neither read nor write the on-disk index cache.
    pub(super) no_cache: bool,
    /// `coverage.scope`: what an inline annotation's site is for the coverage rule.
    pub(super) coverage_scope: CoverageScope,
}

impl Settings {
    /// Where the index cache lives, `None` when it is turned off.
    pub(super) fn cache_dir(&self) -> Option<PathBuf> {
        if self.no_cache { None } else { crate::cache::default_dir() }
    }

    /// How workspace folders are walked.
    pub(super) fn walk_options(&self) -> WalkOptions {
        WalkOptions {
            max_file_size: self.max_file_size.unwrap_or(walk::DEFAULT_MAX_FILE_SIZE),
            absolute_paths: true,
            progress: None,
            include: self.include.clone(),
            exclude: self.exclude.clone(),
            cache_dir: self.cache_dir(),
            limits: walk::ProjectLimits::default(),
            parse_budget: crate::limits::MAX_PROJECT_PARSE_TIME,
        }
    }

    /// Whether going from these settings to `new` changes which files belong to the project
    /// (`include`, `exclude`, `maxFileSize`): the workspace is then indexed again.
    pub(super) fn selects_other_files(&self, new: &Settings) -> bool {
        self.include != new.include || self.exclude != new.exclude || self.max_file_size != new.max_file_size
    }

    /// The settings in `value`, and the problems of the values that were not taken.
    pub(super) fn from_json(value: &serde_json::Value) -> (Settings, Vec<String>) {
        let value = value.get("threatAnalyzer").unwrap_or(value);
        let mut settings = Settings::default();
        let mut problems = Vec::new();
        if let Some(map) = value.get("severity").and_then(|v| v.as_object()) {
            for (code, level) in map {
                let spec = format!("{code}={}", level.as_str().unwrap_or_default());
                if let Err(e) = settings.overrides.set(&spec) {
                    problems.push(e);
                }
            }
        }
        settings.max_file_size = value.get("maxFileSize").and_then(|v| v.as_u64());
        let globs = |key: &str| -> Vec<String> {
            value
                .get(key)
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
                .filter_map(|g| g.as_str().map(String::from))
                .collect()
        };
        settings.no_cache = value.get("cache").and_then(|v| v.as_bool()) == Some(false);
        settings.include = globs("include");
        settings.exclude = globs("exclude");
        settings.dialect = match value.get("codeActionDialect").and_then(|v| v.as_str()) {
            None | Some("auto") => ide::code_actions::WriteDialect::Auto,
            Some("gal") => ide::code_actions::WriteDialect::Gal,
            Some("threatspec") => ide::code_actions::WriteDialect::ThreatSpec,
            Some(other) => {
                problems.push(format!("codeActionDialect `{other}`: use auto, gal or threatspec"));
                ide::code_actions::WriteDialect::Auto
            }
        };
        // `{"coverage": {"scope": ..}}`, or the dotted key as a flat settings object has it.
        let scope =
            value.get("coverage").and_then(|c| c.get("scope")).or_else(|| value.get("coverage.scope"));
        settings.coverage_scope = match scope.and_then(|v| v.as_str()) {
            None => CoverageScope::default(),
            Some(text) => CoverageScope::parse(text).unwrap_or_else(|| {
                problems.push(format!("coverage.scope `{text}`: use file or symbol"));
                CoverageScope::default()
            }),
        };
        (settings, problems)
    }
}
