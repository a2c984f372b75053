//! Exit codes, help, version, usage errors, I/O errors and the panic guard of the binary.

use crate::support;
use support::*;

#[test]
fn help_names_the_commands_and_the_language_server() {
    let dir = tempdir();
    let r = run(dir.path(), &["--help"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("Usage: threat-analyzer [COMMAND]"), "{}", r.stdout);
    assert!(r.stdout.contains("check") && r.stdout.contains("lsp"), "{}", r.stdout);
}

#[test]
fn version_and_help() {
    let dir = tempdir();
    let r = run(dir.path(), &["--version"]);
    assert_eq!((r.code, r.stdout.trim()), (0, concat!("threat-analyzer ", env!("CARGO_PKG_VERSION"))));
    let r = run(dir.path(), &["check", "--help"]);
    assert_eq!(r.code, 0);
    for needle in [
        "--format",
        "--fail-on",
        "--output",
        "--max-file-size",
        "--verbose",
        "--no-color",
        "Examples:",
        "Exit status",
    ] {
        assert!(r.stdout.contains(needle), "help lacks {needle}:\n{}", r.stdout);
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempdir();
    for args in [
        &["check", "--bogus"][..],
        &["check", "--format", "xml"],
        &["check", "--fail-on", "fatal"],
        &["check", "--max-file-size", "lots"],
        &["frobnicate"],
    ] {
        let r = run(dir.path(), args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains("error"), "{args:?}: {r:?}");
        assert!(r.stdout.is_empty(), "{args:?}: {r:?}");
    }
}

#[test]
fn clean_tree_exits_0_with_a_summary() {
    let dir = tempdir();
    write(dir.path(), "app.py", "print('no annotations')\n");
    let r = run(dir.path(), &["check"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "0 errors, 0 warnings, 0 notes in 1 file (0 annotations)\n");
    assert!(r.stderr.is_empty(), "{r:?}");
}

#[test]
fn nonexistent_path_exits_2_naming_it() {
    let dir = tempdir();
    write(dir.path(), "app.py", "x = 1\n");
    let r = run(dir.path(), &["check", "app.py", "no/such/dir"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no/such/dir"), "{r:?}");
    assert!(r.stdout.is_empty(), "nothing is reported for a broken run: {r:?}");
}

/// Issue 13: a `threatspec.yaml` that does not parse is an `invalid-config` error in that file
/// (at the YAML error's line), and the project is read as if the file did not exist.
#[test]
fn malformed_threatspec_yaml_is_an_error_in_it_and_the_project_is_read_whole() {
    for (text, line) in [
        ("paths: [src\n", 2),
        ("paths: src\n", 1),
        ("project:\n  name: x\npaths:\n  - path: [1]\n", 4),
        ("- just\n- a list\n", 1),
    ] {
        let dir = tempdir();
        write(dir.path(), "threatspec.yaml", text);
        write(dir.path(), "src/app.py", "x = 1\n");
        write(dir.path(), "other/b.py", "# @asset Shop.B\n");
        let r = run(dir.path(), &["check", "--format", "json"]);
        assert_eq!(r.code, 1, "{text:?}: {r:?}");
        let json = r.json();
        let found: Vec<_> = json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                format!(
                    "{}:{} {} {}",
                    d["file"].as_str().unwrap(),
                    d["line"],
                    d["code"].as_str().unwrap(),
                    d["severity"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(found, [format!("threatspec.yaml:{line} invalid-config error")], "{text:?}: {r:?}");
        // `paths:` did not apply: `other/` was read.
        assert_eq!(json["summary"]["assets"], 1, "{text:?}: {r:?}");
    }
}

/// Issue 13: a `paths:` entry that no longer exists is a warning at its line; the rest of the
/// project is read and the exit status follows `--fail-on` like any other warning.
#[test]
fn threatspec_yaml_naming_a_missing_path_is_a_warning_at_its_line() {
    let dir = tempdir();
    write(dir.path(), "threatspec.yaml", "paths:\n  - src\n  - gone\n");
    write(dir.path(), "src/app.py", "x = 1\n");
    let r = run(dir.path(), &["check"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(
            "threatspec.yaml:3:5: warning[config-path-missing]: paths entry \"gone\" does not exist"
        ),
        "{r:?}"
    );
    assert_eq!(run(dir.path(), &["check", "--fail-on", "warning"]).code, 1);
    assert_eq!(
        run(dir.path(), &["check", "--fail-on", "warning", "--severity", "config-path-missing=off"]).code,
        0
    );
}

#[test]
fn output_file_receives_the_report() {
    let dir = tempdir();
    write(dir.path(), "app.py", "x = 1\n");
    let r = run(dir.path(), &["check", "--format", "json", "-o", "out/report.json"]);
    assert_eq!(r.code, 2, "a missing output directory is an I/O error: {r:?}");
    assert!(r.stderr.contains("out/report.json"), "{r:?}");

    let r = run(dir.path(), &["check", "--format", "json", "--output", "report.json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
    let written = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(v["summary"]["files_scanned"], 1);
}

#[test]
fn a_panic_is_one_line_and_exit_2() {
    let dir = tempdir();
    let r = run_env(
        dir.path(),
        &["check"],
        &[("THREAT_ANALYZER_INTERNAL_TEST_PANIC", "1"), ("RUST_BACKTRACE", "1")],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
    assert!(r.stderr.starts_with("threat-analyzer: internal error:"), "{r:?}");
    assert!(!r.stderr.contains("stack backtrace") && !r.stderr.contains("panicked at"), "{r:?}");
}
