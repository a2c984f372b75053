//! The published JSON schemas the output tests validate against (SARIF 2.1.0, Threat Dragon v2,
//! Threat Composer v1, ThreatSpec 0.5).
//!
//! Owns: finding them and turning them into validators. They are not part of the repository:
//! they come from the directory named by `THREAT_ANALYZER_SCHEMAS`, else from `../shared/schemas`
//! beside the clone. When neither exists, a test under CI (`CI` set and not empty, `false` or
//! `0`) fails, because CI must validate; anywhere else the validation is skipped with the reason
//! on standard error and every other assertion of the test still runs, so a user's fresh clone
//! passes `cargo test` without them.
//!
//! Must never: pass a validation it did not run under CI.
//!
//! Used by integration tests (`mod support;` style `#[path]` include) and by the unit tests of
//! `src/render/sarif.rs`, so that there is one place that knows where the schemas are.
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;

/// Whether this run is CI, where a missing schema is a failure instead of a skip.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The schema directory, if there is one.
pub fn schema_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("THREAT_ANALYZER_SCHEMAS") {
        return Some(PathBuf::from(dir));
    }
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas");
    beside.is_dir().then_some(beside)
}

/// The schema `name` (a file name such as `sarif-2.1.0.schema.json`), or `None` after saying
/// on standard error why the validation is skipped. Panics under CI when it is missing, and
/// anywhere when it exists but is not JSON.
pub fn load(name: &str) -> Option<Value> {
    let Some(path) = schema_dir().map(|dir| dir.join(name)).filter(|p| p.is_file()) else {
        assert!(
            !under_ci(),
            "schema {name} is missing: CI validates every output (put the schemas in ../shared/schemas \
             or name their directory in THREAT_ANALYZER_SCHEMAS)"
        );
        eprintln!(
            "skipping validation against {name}: no ../shared/schemas and no THREAT_ANALYZER_SCHEMAS \
             (CI=true makes this a failure)"
        );
        return None;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display())))
}

/// A validator for the schema `name`, or `None` when it is skipped (see [`load`]).
pub fn validator(name: &str) -> Option<jsonschema::Validator> {
    load(name).map(|schema| jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// The schema errors of `instance` against `name` (empty when valid or skipped).
pub fn errors(name: &str, instance: &Value) -> Vec<String> {
    validator(name)
        .map(|v| v.iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path)).collect())
        .unwrap_or_default()
}

/// Asserts `instance` is valid against `name` (skipped without the schema, see [`load`]).
pub fn assert_valid(name: &str, instance: &Value) {
    let errors = errors(name, instance);
    assert!(errors.is_empty(), "invalid against {name}: {errors:#?}");
}

/// Asserts `instance` is rejected by `name`: the check that shows a validation can fail.
pub fn assert_invalid(name: &str, instance: &Value) {
    if let Some(v) = validator(name) {
        assert!(!v.is_valid(instance), "{name} accepted an instance it must reject: {instance}");
    }
}
