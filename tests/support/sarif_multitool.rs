//! Microsoft's SARIF multitool (npm `@microsoft/sarif-multitool`): the format owners'
//! validator, which checks what the JSON schema cannot (URIs, regions, rule metadata) and, with
//! the `Gh` rule kind, GitHub code scanning's ingestion rules.
//!
//! Owns: finding the tool and running `validate` on one SARIF log. The tool is not part of the
//! repository: `.ci/install-sarif-multitool.sh` installs it into a cache directory and `.ci/run`
//! names its binary in `SARIF_MULTITOOL`; without that variable the script's default cache
//! locations are tried. When it is absent, a test under CI (see [`super::schemas::under_ci`])
//! fails; anywhere else the validation is skipped with the reason on standard error, as for the
//! schemas.
//!
//! Must never: pass a validation it did not run under CI.
//!
//! Included by `tests/support/cli.rs` (it uses that file's [`super::finish`]).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The version `.ci/install-sarif-multitool.sh` installs (its cache directory's name).
const VERSION: &str = "5.7.0";

/// The multitool binary, if there is one.
pub fn tool() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SARIF_MULTITOOL").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let caches = [
        std::env::var_os("THREAT_ANALYZER_CI_CACHE").map(PathBuf::from),
        Some(PathBuf::from("/var/cache/threat-analyzer-ci")),
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/threat-analyzer-ci")),
    ];
    caches
        .into_iter()
        .flatten()
        .map(|cache| {
            cache
                .join(format!("sarif-multitool-{VERSION}"))
                .join("node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool")
        })
        .find(|p| p.is_file())
}

/// The errors and warnings the multitool finds in `log` (SARIF text), with GitHub's rules
/// (`--rule-kind Gh;Sarif --level Error;Warning`): one line each, as the tool prints them.
/// `None` after saying on standard error why the validation is skipped; panics under CI when
/// the tool is missing.
pub fn problems(log: &str) -> Option<Vec<String>> {
    let Some(tool) = tool() else {
        assert!(
            !super::schemas::under_ci(),
            "the SARIF multitool is missing: CI validates every SARIF output with it \
             (.ci/install-sarif-multitool.sh installs it; SARIF_MULTITOOL names its binary)"
        );
        eprintln!(
            "skipping the SARIF multitool validation: no SARIF_MULTITOOL and none installed by \
             .ci/install-sarif-multitool.sh (CI=true makes this a failure)"
        );
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.sarif");
    let output = dir.path().join("out.sarif");
    std::fs::write(&input, log).unwrap();
    let mut cmd = Command::new(&tool);
    cmd.args(["validate", "--rule-kind", "Gh;Sarif", "--level", "Error;Warning", "-o"])
        .arg(&output)
        .arg(&input)
        .current_dir(dir.path());
    let what = format!("{} validate", tool.display());
    let (status, stdout, stderr) = super::finish(cmd, &what, Duration::from_secs(120));
    assert!(status.success(), "{what} failed ({status}):\n{stdout}\n{stderr}");
    // The tool's own log of its findings: every result is an error or a warning (`--level`).
    let text =
        std::fs::read_to_string(&output).unwrap_or_else(|e| panic!("{what} wrote no log ({e}):\n{stdout}"));
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let results = report["runs"][0]["results"].as_array().map_or(0, Vec::len);
    let mut lines: Vec<String> = stdout
        .lines()
        .filter(|l| l.contains(": error ") || l.contains(": warning "))
        .map(String::from)
        .collect();
    if lines.len() != results {
        // The log decides; the printed lines are for reading.
        lines.push(format!("{results} results in the tool's log; it printed:\n{stdout}"));
    }
    Some(lines)
}

/// Asserts the multitool finds no error or warning in `log` (skipped without the tool, see
/// [`problems`]); `what` names the log in the failure message.
pub fn assert_clean(what: &str, log: &str) {
    if let Some(problems) = problems(log) {
        assert!(problems.is_empty(), "the SARIF multitool rejects {what}:\n{}", problems.join("\n"));
    }
}
