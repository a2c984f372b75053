//! `check --write-baseline FILE` and `check --baseline FILE|REF`: which findings are new, what
//! counts toward `--fail-on`, how matching survives edits, and the refusals (exit 2).

use crate::git::GitRepo;
use crate::support;
use serde_json::{Value, json};
use std::path::Path;
use support::*;

const BASELINE: &str = ".threat-analyzer-baseline.json";

const THREATS: &str =
    "# @threat SQL Injection (#sqli) [high]\n# @threat XSS (#xss) [high]\n# @threat CSRF (#csrf) [high]\n";
const APP: &str = "def q():  # @exposes App to #sqli\n    pass\n";

/// A project with one unmitigated exposure (an error) and two unused threats (notes).
fn project() -> tempfile::TempDir {
    let dir = tempdir();
    write(dir.path(), "threats.py", THREATS);
    write(dir.path(), "app.py", APP);
    dir
}

fn write_baseline(dir: &Path) -> Value {
    let r = run(dir, &["check", "--write-baseline", BASELINE]);
    assert_eq!(r.code, 0, "writing a baseline succeeds whatever it holds: {r:?}");
    assert!(r.stderr.contains("wrote a baseline of "), "{r:?}");
    serde_json::from_str(&std::fs::read_to_string(dir.join(BASELINE)).unwrap()).unwrap()
}

/// `check --format json --baseline BASELINE` plus `extra`.
fn against_baseline(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["check", "--format", "json", "--baseline", BASELINE];
    args.extend_from_slice(extra);
    run(dir, &args)
}

/// `(code, state)` of each diagnostic of a JSON run.
fn states(r: &Run) -> Vec<(String, String)> {
    r.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap().to_string(), d["baseline"].as_str().unwrap().to_string()))
        .collect()
}

fn counts(r: &Run) -> (u64, u64, u64) {
    let b = &r.json()["baseline"];
    (b["new"].as_u64().unwrap(), b["unchanged"].as_u64().unwrap(), b["fixed"].as_u64().unwrap())
}

#[test]
fn written_baseline_has_the_documented_shape() {
    let dir = project();
    let file = write_baseline(dir.path());
    assert_eq!(file["version"], 1);
    assert_eq!(file["tool"], "threat-analyzer");
    let findings = file["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    let exposure = findings.iter().find(|f| f["code"] == "unmitigated-exposure").unwrap();
    assert_eq!((&exposure["path"], &exposure["line"]), (&json!("app.py"), &json!(1)));
    assert!(exposure["message"].as_str().unwrap().contains("#sqli"), "{exposure}");
    // The fingerprint is the one SARIF shows for the same finding.
    let sarif = run(dir.path(), &["check", "--format", "sarif"]).json();
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "unmitigated-exposure")
        .unwrap()
        .clone();
    assert_eq!(result["partialFingerprints"]["primaryLocationLineHash"], exposure["fingerprint"]);
    // Without --baseline the run is the same as ever: it fails on the error.
    assert_eq!(run(dir.path(), &["check"]).code, 1);
}

#[test]
fn unchanged_project_passes_with_everything_baselined() {
    let dir = project();
    write_baseline(dir.path());
    let r = against_baseline(dir.path(), &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(counts(&r), (0, 3, 0));
    assert!(states(&r).iter().all(|(_, state)| state == "unchanged"), "{:?}", states(&r));
    assert!(r.stderr.contains("0 new, 3 in baseline, 0 fixed since baseline"), "{r:?}");
    // Human output lists them apart and ends with the baseline line.
    let r = run(dir.path(), &["check", "--baseline", BASELINE]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("In the baseline (3):\napp.py:1:13: error[unmitigated-exposure]"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(" | "), "no snippets for baselined findings:\n{}", r.stdout);
    assert!(r.stdout.ends_with("0 new, 3 in baseline, 0 fixed since baseline\n"), "{}", r.stdout);
}

#[test]
fn only_new_findings_count_toward_fail_on() {
    let dir = project();
    write_baseline(dir.path());
    write(dir.path(), "app.py", format!("{APP}# @exposes App to #xss\n"));
    let r = against_baseline(dir.path(), &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(counts(&r), (1, 2, 1), "the exposure is new; `#xss` is no longer unused");
    let new: Vec<Value> = r.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["baseline"] == "new")
        .cloned()
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert!(new[0]["message"].as_str().unwrap().contains("#xss"), "{new:?}");
    let fixed = &r.json()["baseline"]["fixed_findings"][0];
    assert_eq!((&fixed["code"], &fixed["path"]), (&json!("unused-definition"), &json!("threats.py")));
    // Human output shows the new finding in full and the fixed one by line.
    let r = run(dir.path(), &["check", "--baseline", BASELINE]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("app.py:3:3: error[unmitigated-exposure]"), "{}", r.stdout);
    assert!(
        r.stdout.contains("Fixed since the baseline (1):\nthreats.py:2: unused-definition:"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.ends_with("1 new, 2 in baseline, 1 fixed since baseline\n"), "{}", r.stdout);

    // A baselined error does not fail the run; a new note fails it only with --fail-on note.
    let dir = project();
    write_baseline(dir.path());
    write(dir.path(), "threats.py", format!("{THREATS}# @threat Spoofing (#spoof)\n"));
    let r = against_baseline(dir.path(), &[]);
    assert_eq!((r.code, counts(&r)), (0, (1, 3, 0)), "{r:?}");
    assert_eq!(against_baseline(dir.path(), &["--fail-on", "note"]).code, 1);
    assert_eq!(run(dir.path(), &["check", "--fail-on", "note"]).code, 1);
    assert_eq!(against_baseline(dir.path(), &["--fail-on", "warning"]).code, 0);
}

#[test]
fn line_moves_reindentation_renames_and_edits_elsewhere_keep_matching() {
    let dir = project();
    write_baseline(dir.path());
    // Lines above, re-indentation, a changed line below, and the threats' file renamed.
    write(
        dir.path(),
        "app.py",
        "import os\n\n\nclass C:\n    def q(self):    #   @exposes   App to #sqli\n        return 2\n",
    );
    std::fs::rename(dir.path().join("threats.py"), dir.path().join("defs.py")).unwrap();
    let r = against_baseline(dir.path(), &[]);
    assert_eq!((r.code, counts(&r)), (0, (0, 3, 0)), "{r:?}");
    // Changing the finding's own line makes it another finding.
    write(dir.path(), "app.py", "def q():  # @exposes Api to #sqli\n");
    let r = against_baseline(dir.path(), &[]);
    assert_eq!((r.code, counts(&r)), (1, (1, 2, 1)), "{r:?}");
}

#[test]
fn identical_findings_are_excused_as_many_times_as_the_baseline_holds_them() {
    let dir = project();
    let twice = "# @exposes App to #sqli\n# @exposes App to #sqli\n";
    write(dir.path(), "app.py", twice);
    let file = write_baseline(dir.path());
    let fps: Vec<&Value> = file["findings"].as_array().unwrap().iter().map(|f| &f["fingerprint"]).collect();
    assert_eq!(fps.len(), 4, "two exposures, XSS and CSRF unused: {file}");
    assert_eq!(fps.iter().filter(|fp| fp.as_str().unwrap().ends_with(":2")).count(), 1, "{file}");
    let r = against_baseline(dir.path(), &[]);
    assert_eq!((r.code, counts(&r)), (0, (0, 4, 0)), "{r:?}");
    write(dir.path(), "app.py", format!("{twice}\n# @exposes App to #sqli\n"));
    let r = against_baseline(dir.path(), &[]);
    assert_eq!((r.code, counts(&r)), (1, (1, 4, 0)), "the third copy is new: {r:?}");
    write(dir.path(), "app.py", "# @exposes App to #sqli\n");
    let r = against_baseline(dir.path(), &[]);
    assert_eq!((r.code, counts(&r)), (0, (0, 3, 1)), "one copy fixed: {r:?}");
}

/// The fingerprint rule's reason for hashing the part of the line pointed at: a second
/// dangling reference, earlier on a line that already had one, is the new finding.
#[test]
fn a_new_finding_on_a_baselined_line_is_the_one_reported_new() {
    let dir = tempdir();
    write(dir.path(), "defs.py", "# @threat B (#b)\n");
    write(dir.path(), "app.py", "# @mitigates App against #b using #a\n");
    let r = run(dir.path(), &["check", "--write-baseline", BASELINE]);
    assert_eq!(r.code, 0, "{r:?}");
    write(dir.path(), "defs.py", "x = 1\n");
    let r = against_baseline(dir.path(), &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let diagnostics = r.json()["diagnostics"].as_array().unwrap().clone();
    let dangling: Vec<(&str, &str)> = diagnostics
        .iter()
        .filter(|d| d["code"] == "dangling-reference")
        .map(|d| (d["message"].as_str().unwrap(), d["baseline"].as_str().unwrap()))
        .collect();
    assert_eq!(dangling.len(), 2, "{diagnostics:?}");
    for (message, state) in dangling {
        let expected = if message.contains("#b") { "new" } else { "unchanged" };
        assert_eq!(state, expected, "{message}");
    }
}

#[test]
fn sarif_carries_baseline_states_and_stays_valid() {
    let dir = project();
    write_baseline(dir.path());
    write(dir.path(), "app.py", format!("{APP}# @exposes App to #xss\n"));
    let r = run(dir.path(), &["check", "--format", "sarif", "--baseline", BASELINE]);
    assert_eq!(r.code, 1, "{r:?}");
    let mut log = r.json();
    assert_valid_sarif(&log);
    let run0 = &log["runs"][0];
    let states: Vec<&str> =
        run0["results"].as_array().unwrap().iter().map(|r| r["baselineState"].as_str().unwrap()).collect();
    assert_eq!(states.iter().filter(|s| **s == "new").count(), 1, "{states:?}");
    assert_eq!(states.iter().filter(|s| **s == "unchanged").count(), 2, "{states:?}");
    assert_eq!(run0["properties"]["baseline"], json!({"new": 1, "unchanged": 2, "absent": 1}));
    assert!(r.stderr.contains("1 new, 2 in baseline, 1 fixed since baseline"), "{r:?}");
    // The schema really checks the field.
    log["runs"][0]["results"][0]["baselineState"] = json!("forgotten");
    support::schemas::assert_invalid(SARIF_SCHEMA, &log);
    // Without --baseline there is no baselineState.
    let plain = run(dir.path(), &["check", "--format", "sarif"]).json();
    assert!(plain["runs"][0]["results"].as_array().unwrap().iter().all(|r| r.get("baselineState").is_none()));
}

#[test]
fn unusable_baseline_files_exit_2_with_a_clear_message() {
    let dir = project();
    for (text, says) in [
        ("{not json", "not JSON"),
        (r#"{"version": 2, "tool": "threat-analyzer", "findings": []}"#, "unsupported baseline version 2"),
        (
            r#"{"version": 1, "tool": "threat-analyzer", "findings": [{"code": "x"}]}"#,
            "findings[0]: missing field",
        ),
        ("\u{feff}\u{0}", "not JSON"),
    ] {
        write(dir.path(), "bad.json", text);
        let r = run(dir.path(), &["check", "--baseline", "bad.json"]);
        assert_eq!(r.code, 2, "{text}: {r:?}");
        assert!(r.stderr.contains("baseline bad.json: ") && r.stderr.contains(says), "{text}: {r:?}");
        assert!(r.stdout.is_empty(), "{r:?}");
    }
    let r = run(dir.path(), &["check", "--baseline", "."]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not a regular file"), "{r:?}");
    let r = run(dir.path(), &["check", "--baseline", "no-such-file.json"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--baseline no-such-file.json: no such file"), "{r:?}");
}

#[cfg(unix)]
#[test]
fn baseline_links_are_refused_both_ways() {
    let dir = project();
    let outside = tempdir();
    write_baseline(dir.path());
    std::fs::rename(dir.path().join(BASELINE), outside.path().join("real.json")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("real.json"), dir.path().join("link.json")).unwrap();
    let r = run(dir.path(), &["check", "--baseline", "link.json"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("baseline link.json: not read: symbolic link"), "{r:?}");
    // Writing follows -o's rules: no link, nothing outside the project without the flag.
    let r = run(dir.path(), &["check", "--write-baseline", "link.json"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("it is a symbolic link"), "{r:?}");
    let elsewhere = outside.path().join("new.json");
    let r = run(dir.path(), &["check", "--write-baseline", elsewhere.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--allow-outside-output") && !elsewhere.exists(), "{r:?}");
}

#[test]
fn writing_and_comparing_at_once_compares_with_the_old_one() {
    let dir = project();
    write_baseline(dir.path());
    write(dir.path(), "app.py", format!("{APP}# @exposes App to #xss\n"));
    let r = run(dir.path(), &["check", "--baseline", BASELINE, "--write-baseline", "next.json"]);
    assert_eq!(r.code, 1, "the old baseline decides: {r:?}");
    let r = run(dir.path(), &["check", "--baseline", "next.json"]);
    assert_eq!(r.code, 0, "the new one holds the new finding: {r:?}");
}

/// A repository whose `main` holds [`project`]'s files, committed.
fn repository() -> GitRepo {
    let repo = GitRepo::new();
    repo.commit("first", &[("threats.py", THREATS), ("app.py", APP)]);
    repo
}

#[test]
fn a_git_revision_is_a_baseline_computed_by_the_same_code() {
    let repo = repository();
    let dir = repo.path();
    for spec in ["HEAD", "main"] {
        let r = run(dir, &["check", "--format", "json", "--baseline", spec]);
        assert_eq!((r.code, counts(&r)), (0, (0, 3, 0)), "{spec}: {r:?}");
        assert!(r.stderr.contains(&format!("baseline: the findings of {spec} (commit ")), "{r:?}");
    }
    // A new finding in the working tree, a line moved: only the new one counts.
    write(dir, "app.py", format!("import os\n{APP}# @exposes App to #xss\n"));
    let r = run(dir, &["check", "--format", "json", "--baseline", "HEAD"]);
    assert_eq!((r.code, counts(&r)), (1, (1, 2, 1)), "{r:?}");
    // The same answer as the file written at that revision.
    let second = repo.commit("second", &[("app.py", &format!("import os\n{APP}# @exposes App to #xss\n"))]);
    repo.checkout("main~1");
    let written = run(dir, &["check", "--write-baseline", "../first.json", "--allow-outside-output"]);
    assert_eq!(written.code, 0, "{written:?}");
    repo.checkout(&second);
    let from_file = run(dir, &["check", "--format", "json", "--baseline", "../first.json"]);
    let from_ref = run(dir, &["check", "--format", "json", "--baseline", "HEAD~1"]);
    assert_eq!(from_file.code, 1, "{from_file:?}");
    assert_eq!(from_file.stdout, from_ref.stdout);
}

#[test]
fn a_revision_is_scanned_at_the_same_paths_from_a_subdirectory() {
    let repo = GitRepo::new();
    repo.commit(
        "first",
        &[("svc/threats.py", THREATS), ("svc/app.py", APP), ("other/x.py", "# @exposes X to #nope\n")],
    );
    write(repo.path(), "svc/app.py", format!("{APP}# @exposes App to #xss\n"));
    let svc = repo.path().join("svc");
    let r = run(&svc, &["check", "--format", "json", "--baseline", "HEAD"]);
    assert_eq!((r.code, counts(&r)), (1, (1, 2, 1)), "other/ is not part of either side: {r:?}");
    let fixed = &r.json()["baseline"]["fixed_findings"][0];
    assert_eq!(fixed["path"], "threats.py", "paths relative to the same base as the working tree's");
    // From the repository root, naming the directory.
    let r = run(repo.path(), &["check", "svc", "--format", "json", "--baseline", "HEAD"]);
    assert_eq!((r.code, counts(&r)), (1, (1, 2, 1)), "{r:?}");
    assert_eq!(r.json()["baseline"]["fixed_findings"][0]["path"], "svc/threats.py");
    // A directory the revision does not have: everything in it is new.
    write(repo.path(), "new/app.py", APP);
    let r = run(repo.path(), &["check", "new", "--format", "json", "--baseline", "HEAD"]);
    assert_eq!((r.code, counts(&r)), (1, (1, 0, 0)), "{r:?}");
}

#[test]
fn neither_a_file_nor_a_revision_exits_2() {
    let repo = repository();
    let r = run(repo.path(), &["check", "--baseline", "no-such-branch"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(
            "--baseline no-such-branch: no such file, and not a git revision (unknown git revision"
        ),
        "{r:?}"
    );
    assert!(r.stdout.is_empty(), "{r:?}");
    let dir = project();
    let r = run(dir.path(), &["check", "--baseline", "main"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("--baseline main: no such file, and not a git revision (not a git repository"),
        "{r:?}"
    );
}

#[test]
fn a_revision_cut_off_by_a_shallow_clone_says_which_fetch_depth_is_needed() {
    let repo = repository();
    repo.commit("second", &[("app.py", &format!("{APP}# @exposes App to #xss\n"))]);
    let clone = repo.shallow_clone(1);
    let r = run(&clone, &["check", "--baseline", "HEAD~1"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--baseline HEAD~1: ") && r.stderr.contains("fetch-depth: 0"), "{r:?}");
    // The commit the clone has is usable.
    let r = run(&clone, &["check", "--format", "json", "--baseline", "HEAD"]);
    assert_eq!((r.code, counts(&r)), (0, (0, 3, 0)), "{r:?}");
}
