//! The server's settings: what the client sends in `initializationOptions` and
//! `workspace/didChangeConfiguration`, at the top level or under a `threatAnalyzer` key
//! (README, "Settings").
//!
//! Owns: which keys are read ([`SETTING_KEYS`], which the VS Code extension's settings are
//! checked against through `editors/vscode/generated/settings.json`), what each value means, the problems a value has (returned to the
//! caller, which logs them and tells the client), and the walk options the settings ask for.
//! Must never: read the disk, talk to the client, or hold state: the current settings live in
//! `state::State`.

use crate::analysis::{CoverageScope, ide};
use crate::diagnostic::LevelOverrides;
use crate::walk::{self, WalkOptions};
use std::path::PathBuf;

/// Every key `Settings::from_json` reads, under `threatAnalyzer` or at the top level; a dotted
/// key is read nested (`{"coverage": {"scope": ..}}`) or flat (`{"coverage.scope": ..}`).
pub const SETTING_KEYS: &[&str] =
    &["severity", "maxFileSize", "include", "exclude", "codeActionDialect", "cache", "coverage.scope"];

/// The values of `codeActionDialect`, the default first.
pub const CODE_ACTION_DIALECTS: &[&str] = &["auto", "gal", "threatspec"];

/// The value of `key` (one of [`SETTING_KEYS`]) in `value`: a dotted key nested, else flat.
fn setting<'a>(value: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    debug_assert!(SETTING_KEYS.contains(&key), "`{key}` is not in SETTING_KEYS");
    key.split('.').try_fold(value, |v, part| v.get(part)).or_else(|| value.get(key))
}

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
            // Every feature reads the files' texts, any line of them.
            whole_texts: true,
            found: None,
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
        if let Some(map) = setting(value, "severity").and_then(|v| v.as_object()) {
            for (code, level) in map {
                let spec = format!("{code}={}", level.as_str().unwrap_or_default());
                if let Err(e) = settings.overrides.set(&spec) {
                    problems.push(e);
                }
            }
        }
        settings.max_file_size = setting(value, "maxFileSize").and_then(|v| v.as_u64());
        let globs = |key: &str| -> Vec<String> {
            setting(value, key)
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
                .filter_map(|g| g.as_str().map(String::from))
                .collect()
        };
        settings.no_cache = setting(value, "cache").and_then(|v| v.as_bool()) == Some(false);
        settings.include = globs("include");
        settings.exclude = globs("exclude");
        settings.dialect = match setting(value, "codeActionDialect").and_then(|v| v.as_str()) {
            None | Some("auto") => ide::code_actions::WriteDialect::Auto,
            Some("gal") => ide::code_actions::WriteDialect::Gal,
            Some("threatspec") => ide::code_actions::WriteDialect::ThreatSpec,
            Some(other) => {
                problems.push(format!("codeActionDialect `{other}`: use auto, gal or threatspec"));
                ide::code_actions::WriteDialect::Auto
            }
        };
        // `{"coverage": {"scope": ..}}`, or the dotted key as a flat settings object has it.
        settings.coverage_scope = match setting(value, "coverage.scope").and_then(|v| v.as_str()) {
            None => CoverageScope::default(),
            Some(text) => CoverageScope::parse(text).unwrap_or_else(|| {
                problems.push(format!("coverage.scope `{text}`: use file or symbol"));
                CoverageScope::default()
            }),
        };
        (settings, problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A value of each key that differs from the default, so that reading it shows.
    fn samples() -> Vec<(&'static str, serde_json::Value)> {
        vec![
            ("severity", json!({ "unused-definition": "off" })),
            ("maxFileSize", json!(1)),
            ("include", json!(["src/**"])),
            ("exclude", json!(["vendor/"])),
            ("codeActionDialect", json!("gal")),
            ("cache", json!(false)),
            ("coverage.scope", json!("symbol")),
        ]
    }

    #[test]
    fn every_listed_key_is_read_and_taken() {
        let keys: Vec<&str> = samples().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, SETTING_KEYS, "one sample per key");
        let default = format!("{:?}", Settings::default());
        for (key, sample) in samples() {
            let mut forms =
                vec![json!({ key: sample.clone() }), json!({ "threatAnalyzer": { key: sample.clone() } })];
            if let Some((outer, inner)) = key.split_once('.') {
                forms.push(json!({ outer: { inner: sample.clone() } }));
            }
            for form in forms {
                let (settings, problems) = Settings::from_json(&form);
                assert_eq!(problems, Vec::<String>::new(), "{form}");
                assert_ne!(format!("{settings:?}"), default, "{form} was not read");
            }
        }
    }

    #[test]
    fn every_listed_dialect_is_taken_and_others_are_refused() {
        for dialect in CODE_ACTION_DIALECTS {
            let (_, problems) = Settings::from_json(&json!({ "codeActionDialect": dialect }));
            assert_eq!(problems, Vec::<String>::new(), "{dialect}");
        }
        let (_, problems) = Settings::from_json(&json!({ "codeActionDialect": "yaml" }));
        assert_eq!(problems, ["codeActionDialect `yaml`: use auto, gal or threatspec"]);
    }
}
