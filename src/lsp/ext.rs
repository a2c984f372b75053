//! The server's own protocol: the `workspace/executeCommand` commands, each with its name, its
//! typed argument and its typed result (README, "Commands", whose table a test checks against
//! [`COMMANDS`]).
//!
//! Owns: the command names, which commands wait for indexing, how a command's first argument
//! is read (leniently: an argument that is not an object, or a key of another type, counts as
//! absent; only a value that cannot mean anything is refused, with a message), and the shape
//! of each result. Must never: run a command (that is `handlers::commands`), or read the index.

use super::convert;
use crate::render::dfd::Scope;
use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::str::FromStr;
use tower_lsp_server::ls_types::Uri;

/// One `workspace/executeCommand` command.
pub(super) trait Command {
    /// Its name, as the client sends it and `initialize` advertises it.
    const NAME: &'static str;
    /// Whether it reads the whole project, and so first waits for an indexing run that fills
    /// the index (see `State::wait_for_index`).
    const WAITS_FOR_INDEX: bool;
    /// Its first argument (absent: JSON `null`).
    type Params: serde::de::DeserializeOwned;
    type Result: Serialize;
}

/// Every command, in the order `initialize` advertises them.
pub(super) const COMMANDS: &[&str] = &[Status::NAME, Reindex::NAME, Dfd::NAME, ShowDfd::NAME, Diff::NAME];

/// `threat-analyzer.status`: what the index holds. Arguments are ignored.
pub(super) struct Status;

impl Command for Status {
    const NAME: &'static str = "threat-analyzer.status";
    const WAITS_FOR_INDEX: bool = true;
    type Params = serde::de::IgnoredAny;
    type Result = StatusResult;
}

#[derive(Debug, Default, Serialize)]
pub(super) struct StatusResult {
    /// Files the last indexing of each workspace folder scanned, summed (as `check` counts).
    pub(super) files_scanned: usize,
    pub(super) files_with_annotations: usize,
    pub(super) annotations: usize,
    pub(super) open_documents: usize,
    /// The index revision.
    pub(super) revision: u64,
    /// How many times open documents' facts were derived.
    pub(super) documents_derived: u64,
    /// The "did you mean" work of this revision, done once and reused by every request.
    pub(super) suggestion_work: usize,
    /// Exposures whose asset and threat resolve.
    pub(super) exposures: usize,
    /// Those of them the coverage rule calls open (as `unmitigated-exposure` does).
    pub(super) open_exposures: usize,
    /// The `coverage.scope` the analysis ran with: `file` or `symbol`.
    pub(super) coverage_scope: &'static str,
}

/// `threat-analyzer.reindex`: indexes every workspace folder again, in the background (the
/// index keeps answering meanwhile). Arguments are ignored; the result is `null`.
pub(super) struct Reindex;

impl Command for Reindex {
    const NAME: &'static str = "threat-analyzer.reindex";
    const WAITS_FOR_INDEX: bool = false;
    type Params = serde::de::IgnoredAny;
    type Result = ();
}

/// `threat-analyzer.dfd`: the data-flow diagram of a scope as text.
pub(super) struct Dfd;

impl Command for Dfd {
    const NAME: &'static str = "threat-analyzer.dfd";
    const WAITS_FOR_INDEX: bool = true;
    type Params = DfdParams;
    type Result = DfdResult;
}

/// `{"format": "mermaid" | "dot" | "svg", "scope": ...}`, both optional.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct DfdParams {
    pub(super) format: DfdFormat,
    pub(super) scope: Scope,
}

impl<'de> Deserialize<'de> for DfdParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DfdParams, D::Error> {
        let args = Value::deserialize(deserializer)?;
        // Not a string: the default.
        let format = match args.get("format").and_then(|f| f.as_str()) {
            None | Some("mermaid") => DfdFormat::Mermaid,
            Some("dot") => DfdFormat::Dot,
            Some("svg") => DfdFormat::Svg,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "unknown format `{other}`; use `mermaid`, `dot` or `svg`"
                )));
            }
        };
        let scope = scope_argument(&args).map_err(D::Error::custom)?;
        Ok(DfdParams { format, scope })
    }
}

/// The text format of `threat-analyzer.dfd`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum DfdFormat {
    #[default]
    Mermaid,
    Dot,
    Svg,
}

#[derive(Debug, Default, Serialize)]
pub(super) struct DfdResult {
    pub(super) format: DfdFormat,
    pub(super) text: String,
}

/// `threat-analyzer.showDfd`: the diagram of a scope as an HTML page in the preview cache
/// (`lsp::preview`), opened by the client when it supports `window/showDocument`.
pub(super) struct ShowDfd;

impl Command for ShowDfd {
    const NAME: &'static str = "threat-analyzer.showDfd";
    const WAITS_FOR_INDEX: bool = true;
    type Params = ShowDfdParams;
    type Result = ShowDfdResult;
}

/// `{"scope": ...}`, optional (other keys are ignored).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ShowDfdParams {
    pub(super) scope: Scope,
}

impl<'de> Deserialize<'de> for ShowDfdParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ShowDfdParams, D::Error> {
        let args = Value::deserialize(deserializer)?;
        Ok(ShowDfdParams { scope: scope_argument(&args).map_err(D::Error::custom)? })
    }
}

#[derive(Debug, Default, Serialize)]
pub(super) struct ShowDfdResult {
    /// The page's `file:` URI.
    pub(super) uri: String,
    pub(super) path: String,
    /// Whether the server asked the client to open it.
    pub(super) shown: bool,
}

/// `threat-analyzer.diff`: the model diff between a git revision and the workspace as the
/// server holds it (open documents' unsaved text included), as `threat-analyzer diff --format
/// json` writes it.
pub(super) struct Diff;

impl Command for Diff {
    const NAME: &'static str = "threat-analyzer.diff";
    const WAITS_FOR_INDEX: bool = true;
    type Params = DiffParams;
    type Result = DiffResult;
}

/// `{"base": "main"}`, optional: the git revision to compare with (default: the merge base
/// with the default branch, as on the command line).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct DiffParams {
    pub(super) base: Option<String>,
}

impl<'de> Deserialize<'de> for DiffParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DiffParams, D::Error> {
        let args = Value::deserialize(deserializer)?;
        let base = args.get("base").and_then(|b| b.as_str()).map(str::to_string);
        Ok(DiffParams { base })
    }
}

/// The keys of `threat-analyzer diff --format json` (README, "Pull requests").
#[derive(Debug, Default, Serialize)]
pub(super) struct DiffResult {
    pub(super) provenance: Value,
    /// The repository's working-tree root (absolute), when it is UTF-8.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub(super) root: Value,
    pub(super) base: Value,
    pub(super) head: Value,
    pub(super) verdict: Value,
    pub(super) summary: Value,
    pub(super) changes: Value,
}

/// The `scope` key of a diagram command's argument: absent or `"project"`,
/// `{"boundary": "dmz"}`, `{"component": "Shop.Api"}` or `{"file": "<uri>"}`.
fn scope_argument(args: &Value) -> Result<Scope, String> {
    let scope = args.get("scope").cloned().unwrap_or(Value::Null);
    if scope.is_null() || scope == "project" {
        return Ok(Scope::Project);
    }
    if let Some(b) = scope.get("boundary").and_then(|v| v.as_str()) {
        return Ok(Scope::Boundary(b.to_string()));
    }
    if let Some(c) = scope.get("component").and_then(|v| v.as_str()) {
        return Ok(Scope::Component(c.to_string()));
    }
    if let Some(f) = scope.get("file").and_then(|v| v.as_str()) {
        let uri = Uri::from_str(f).map_err(|_| format!("scope.file `{f}` is not a URI"))?;
        return Ok(Scope::File(convert::key_of(&uri)));
    }
    Err(format!(
        "unknown scope {scope}: use \"project\", {{\"boundary\": ...}}, {{\"component\": ...}} or {{\"file\": <uri>}}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of README's "Commands" table: each row's cells.
    fn readme_command_rows() -> Vec<Vec<&'static str>> {
        let readme = include_str!("../../README.md");
        let section = readme.split("\n### Commands\n").nth(1).expect("README has a `### Commands` section");
        let section = section.split("\n#").next().unwrap_or_default();
        section
            .lines()
            .filter(|line| line.starts_with("| `threat-analyzer."))
            .map(|line| line.trim_matches('|').split(" | ").map(str::trim).collect())
            .collect()
    }

    /// The keys of a result's JSON object (none for `null`).
    fn keys<T: Serialize>(result: T) -> Vec<String> {
        match serde_json::to_value(result).unwrap() {
            Value::Object(map) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn the_readme_command_table_lists_exactly_these_commands_and_their_results() {
        let rows = readme_command_rows();
        let named: Vec<&str> = rows.iter().map(|row| row[0].trim_matches('`')).collect();
        assert_eq!(named, COMMANDS, "README's command table, first column");
        let results = [
            (Status::NAME, keys(StatusResult::default())),
            (Reindex::NAME, keys(())),
            (Dfd::NAME, keys(DfdResult::default())),
            (ShowDfd::NAME, keys(ShowDfdResult::default())),
            (Diff::NAME, keys(DiffResult::default())),
        ];
        for (row, (name, keys)) in rows.iter().zip(results) {
            let result = row.last().copied().unwrap_or_default();
            for key in &keys {
                assert!(
                    result.contains(&format!("\"{key}\"")),
                    "README: {name}'s result lacks `{key}`: {result}"
                );
            }
            if keys.is_empty() {
                assert_eq!(result, "`null`", "README: {name}'s result");
            }
        }
    }

    fn dfd(args: Value) -> Result<DfdParams, String> {
        serde_json::from_value(args).map_err(|e| e.to_string())
    }

    #[test]
    fn arguments_of_another_type_count_as_absent() {
        for args in [Value::Null, serde_json::json!(5), serde_json::json!({"format": 7, "other": 1})] {
            let default = DfdParams { format: DfdFormat::Mermaid, scope: Scope::Project };
            assert_eq!(dfd(args.clone()), Ok(default), "{args}");
        }
        let boundary = dfd(serde_json::json!({"format": "svg", "scope": {"boundary": "dmz"}})).unwrap();
        assert_eq!(boundary, DfdParams { format: DfdFormat::Svg, scope: Scope::Boundary("dmz".into()) });
    }

    #[test]
    fn meaningless_arguments_are_refused_with_the_message_the_client_sees() {
        let png = dfd(serde_json::json!({"format": "png"}));
        assert_eq!(png, Err("unknown format `png`; use `mermaid`, `dot` or `svg`".to_string()));
        let scope = dfd(serde_json::json!({"scope": 12})).unwrap_err();
        assert!(scope.starts_with("unknown scope 12: use \"project\""), "{scope}");
        let file =
            serde_json::from_value::<ShowDfdParams>(serde_json::json!({"scope": {"file": "not a uri"}}));
        assert_eq!(file.unwrap_err().to_string(), "scope.file `not a uri` is not a URI");
    }
}
