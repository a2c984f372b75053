//! Output formats of a real run that need no parsing: JSON shape and SARIF validity.

#[path = "cli_support.rs"]
mod support;
use serde_json::{Value, json};
use support::*;

#[test]
fn json_has_exactly_summary_and_diagnostics() {
    let dir = tempdir();
    write(dir.path(), "a.py", "x = 1\n");
    write(dir.path(), "b.py", "y = 2\n");
    let r = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    let top: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(top, ["diagnostics", "provenance", "summary"]);
    let mut keys: Vec<&str> = v["summary"].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, SUMMARY_KEYS);
    assert!(v["summary"].as_object().unwrap().values().all(Value::is_u64));
    assert_eq!(v["summary"]["files_scanned"], 2);
    assert_eq!(v["diagnostics"], json!([]));
}

#[test]
fn sarif_of_a_real_run_is_valid_and_complete() {
    let dir = tempdir();
    write(dir.path(), "src/a.py", "x = 1\n");
    let r = run(dir.path(), &["check", "--format", "sarif"]);
    assert_eq!(r.code, 0, "{r:?}");
    let log = r.json();
    assert_valid_sarif(&log);
    assert_eq!(log["version"], "2.1.0");
    let run0 = &log["runs"][0];
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["name"], "threat-analyzer");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let ids: Vec<&str> =
        driver["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "unmitigated-exposure",
            "confirmed-finding",
            "dangling-reference",
            "duplicate-definition",
            "malformed-annotation",
            "prose-like-annotation",
            "unknown-verb",
            "unused-definition",
            "resource-limit",
            "config-path-missing",
            "invalid-config",
            "stale-anchor",
            "conflict-marker"
        ]
    );
    assert_eq!(run0["columnKind"], "unicodeCodePoints");
    assert_eq!(run0["results"], json!([]));
    let base = run0["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert!(base.starts_with("file:///") && base.ends_with('/'), "{base}");
}

#[test]
fn sarif_validation_rejects_a_broken_log() {
    // The schema check used above can fail: drop a required property from a real log.
    let dir = tempdir();
    let mut log = run(dir.path(), &["check", "--format", "sarif"]).json();
    log["runs"][0]["tool"]["driver"].as_object_mut().unwrap().remove("name");
    schemas::assert_invalid(SARIF_SCHEMA, &log);
}

#[test]
fn human_is_the_default_format() {
    let dir = tempdir();
    write(dir.path(), "a.py", "x = 1\n");
    let default = run(dir.path(), &["check"]);
    let human = run(dir.path(), &["check", "--format", "human"]);
    assert_eq!(default.stdout, human.stdout);
    assert_eq!(default.stdout, "0 errors, 0 warnings, 0 notes in 1 file (0 annotations)\n");
}
