//! End-to-end results that depend on the annotation parser and the analysis: annotated fixture
//! trees in tests/fixtures/cli/ and temporary directories, checked through the binary.
//!
//! These describe the real expected behaviour; they fail while parsing is a stub and pass once
//! the parser and analysis are merged.

use crate::support;
use serde_json::Value;
use support::*;

fn codes(v: &Value) -> Vec<String> {
    v["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_string()).collect()
}

fn json_of(dir: &std::path::Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let r = run(dir, &args);
    (r.code, r.json())
}

#[test]
fn unmitigated_high_exposure_is_an_error_and_fails() {
    let r = run(&fixture("findings"), &["check"]);
    assert_eq!(r.code, 1, "{r:?}");
    let header = r.stdout.lines().next().unwrap_or_default();
    assert!(header.starts_with("app.py:2:"), "{}", r.stdout);
    assert!(header.contains(": error[unmitigated-exposure]: "), "{}", r.stdout);
    assert!(r.stdout.contains("2 | # @exposes App to #sqli\n"), "{}", r.stdout);
    assert!(r.stdout.lines().any(|l| l.trim_start().starts_with("| ") && l.contains('^')), "{}", r.stdout);
    assert!(r.stdout.ends_with("in 1 file (2 annotations)\n"), "{}", r.stdout);
    assert!(r.stdout.contains("1 error"), "{}", r.stdout);
}

#[test]
fn fail_on_decides_the_exit_code() {
    let high = fixture("findings");
    assert_eq!(run(&high, &["check", "--fail-on", "error"]).code, 1);
    assert_eq!(run(&high, &["check", "--fail-on", "never"]).code, 0);
    // A low-severity unmitigated exposure stays a warning.
    let low = fixture("low");
    let (code, v) = json_of(&low, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(codes(&v), ["unmitigated-exposure"]);
    assert_eq!(v["diagnostics"][0]["severity"], "warning");
    assert_eq!(run(&low, &["check", "--fail-on", "warning"]).code, 1);
    assert_eq!(run(&low, &["check", "--fail-on", "note"]).code, 1);
    assert_eq!(run(&low, &["check", "--fail-on", "never"]).code, 0);
}

#[test]
fn mitigated_exposure_passes() {
    let (code, v) = json_of(&fixture("mitigated"), &[]);
    assert_eq!(code, 0, "{v}");
    assert!(!codes(&v).contains(&"unmitigated-exposure".to_string()), "{v}");
    assert_eq!(v["summary"]["mitigations"], 1);
    assert_eq!(v["summary"]["exposures"], 1);
    assert_eq!(v["summary"]["controls"], 1);
}

#[test]
fn confirmed_finding_is_an_error() {
    let (code, v) = json_of(&fixture("confirmed"), &[]);
    assert_eq!(code, 1, "{v}");
    let d = v["diagnostics"].as_array().unwrap().iter().find(|d| d["code"] == "confirmed-finding");
    let d = d.unwrap_or_else(|| panic!("{v}"));
    assert_eq!(d["severity"], "error");
    assert_eq!((d["file"].as_str(), d["line"].as_u64()), (Some("app.py"), Some(2)));
}

#[test]
fn json_diagnostic_shape_and_summary_counts() {
    let (code, v) = json_of(&fixture("findings"), &[]);
    assert_eq!(code, 1);
    let s = &v["summary"];
    for (key, n) in [
        ("files_scanned", 1),
        ("files_with_annotations", 1),
        ("annotations", 2),
        ("threats", 1),
        ("exposures", 1),
        ("errors", 1),
        ("warnings", 0),
    ] {
        assert_eq!(s[key], n, "summary.{key}: {s}");
    }
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "unmitigated-exposure");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "app.py");
    assert_eq!((d["line"].as_u64(), d["end_line"].as_u64()), (Some(2), Some(2)));
    assert!(
        d["column"].as_u64().unwrap() >= 3
            && d["end_column"].as_u64().unwrap() > d["column"].as_u64().unwrap()
    );
    assert!(d["related"].is_array() && d["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[test]
fn sarif_results_for_findings_are_valid() {
    let r = run(&fixture("findings"), &["check", "--format", "sarif"]);
    assert_eq!(r.code, 1, "{r:?}");
    let log = r.json();
    assert_valid_sarif(&log);
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "unmitigated-exposure");
    assert_eq!(result["ruleIndex"], 0);
    assert_eq!(result["level"], "error");
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "app.py");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 2);
    let fp = result["partialFingerprints"]["primaryLocationLineHash"].as_str().unwrap();
    assert!(fp.ends_with(":1") && fp.len() == 18, "{fp}");
}

#[test]
fn guardlink_definitions_are_read_and_other_hidden_ones_are_not() {
    // The threat is defined in .guardlink/threats.gal: the exposure resolves to it.
    let (code, v) = json_of(&fixture("guardlink"), &[]);
    assert_eq!(code, 1, "{v}");
    assert!(codes(&v).contains(&"unmitigated-exposure".to_string()), "{v}");
    assert!(!codes(&v).contains(&"dangling-reference".to_string()), "{v}");
    assert_eq!(v["diagnostics"][0]["file"], "src/app.py");
    // The same definition in .config/ (hidden) is not read: the reference dangles.
    let (_, v) = json_of(&fixture("hidden"), &[]);
    assert!(codes(&v).contains(&"dangling-reference".to_string()), "{v}");
}

#[test]
fn gitignored_annotations_are_not_reported() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "ok.py", "x = 1\n");
    write(d, "secret.py", "# @threat SQL Injection (#sqli) [high]\n# @confirmed #sqli on App\n");
    assert_eq!(run(d, &["check"]).code, 1, "the finding is seen without the ignore rule");
    write(d, ".gitignore", "secret.py\n");
    let (code, v) = json_of(d, &[]);
    assert_eq!((code, codes(&v).len()), (0, 0), "{v}");
}

#[test]
fn positions_ignore_a_bom_and_count_characters() {
    let dir = tempdir();
    let d = dir.path();
    let body = "# @exposes App to #sqli\n# @threat SQL Injection (#sqli) [high]\n";
    write(d, "plain/app.py", body);
    write(d, "bom/app.py", format!("\u{feff}{body}"));
    // The annotation starts a comment after code holding 2 characters of 2 and 6 bytes.
    write(d, "ascii/app.py", format!("s = \"ee\"  {body}"));
    write(d, "wide/app.py", format!("s = \"é😀\"  {body}"));
    let pos = |sub: &str| {
        let (_, v) = json_of(&d.join(sub), &[]);
        let d = &v["diagnostics"][0];
        assert_eq!(d["code"], "unmitigated-exposure", "{v}");
        (d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap(), d["end_column"].as_u64().unwrap())
    };
    assert_eq!(pos("bom"), pos("plain"));
    assert_eq!(pos("wide"), pos("ascii"), "columns count characters, not bytes");
}

#[test]
fn paths_are_relative_to_the_current_directory() {
    let (_, v) = json_of(manifest_dir(), &["tests/fixtures/cli/findings"]);
    assert_eq!(v["diagnostics"][0]["file"], "tests/fixtures/cli/findings/app.py", "{v}");
}

#[test]
fn colour_only_when_forced_or_on_a_terminal() {
    let dir = fixture("findings");
    let piped = run(&dir, &["check"]);
    assert!(!piped.stdout.contains('\u{1b}'), "{piped:?}");
    let forced = run_env(&dir, &["check"], &[("CLICOLOR_FORCE", "1")]);
    assert!(forced.stdout.contains("\u{1b}["), "{forced:?}");
    let no_color = run_env(&dir, &["check", "--no-color"], &[("CLICOLOR_FORCE", "1")]);
    assert!(!no_color.stdout.contains('\u{1b}'), "{no_color:?}");
    assert_eq!(no_color.stdout, piped.stdout);
}

#[test]
fn severity_overrides_change_levels_and_silence_codes() {
    let high = fixture("findings");
    let (code, v) = json_of(&high, &["--severity", "unmitigated-exposure=warning"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["diagnostics"][0]["severity"], "warning");
    assert_eq!(v["summary"]["warnings"], 1);
    let (code, v) = json_of(&high, &["--severity", "unmitigated-exposure=off"]);
    assert_eq!(code, 0, "{v}");
    assert!(!codes(&v).contains(&"unmitigated-exposure".to_string()), "{v}");
    let r = run(&high, &["check", "--severity", "no-such-code=off"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("unknown diagnostic code"), "{r:?}");
}

#[test]
fn misspelt_verbs_are_reported_in_files_without_a_correctly_spelt_verb() {
    let dir = tempdir();
    // No file holds a correctly spelt verb: the prefilter must still let the typos through.
    write(dir.path(), "typo.py", "# @migitates Shop.Api against #sqli\n");
    write(dir.path(), "flows.js", "// @flow Shop.Web -> Shop.Api\n");
    write(dir.path(), "named.ts", "/* @flwos, as the old docs spelt it */\n");
    // Flow's pragma and documentation tags are not typos.
    write(dir.path(), "pragma.js", "// @flow\n// @flow strict\n/** @param x */\nconst x = 1;\n");
    let (code, v) = json_of(dir.path(), &[]);
    assert_eq!(code, 0, "warnings do not fail by default: {v}");
    let found: Vec<(&str, &str, &str)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap(),
                d["code"].as_str().unwrap(),
                d["fix"]["edits"][0]["new_text"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("flows.js", "unknown-verb", "@flows"),
            ("named.ts", "unknown-verb", "@flows"),
            ("typo.py", "unknown-verb", "@mitigates")
        ],
        "{v}"
    );
}

#[test]
fn sarif_security_severity_is_the_exposures_own() {
    // Issue 14 §2: GitHub code scanning buckets `security-severity` (over 9.0 critical, up to
    // 3.9 low); a `[low]` exposure of a critical threat is low, a `[critical]` one critical,
    // and the ruleId stays `unmitigated-exposure` for both.
    let dir = tempdir();
    let d = dir.path();
    write(
        d,
        "app.py",
        "# @threat SQL Injection (#sqli) [critical]\n# @threat Log Forging (#logs)\n\
         # @exposes App.Admin to #sqli [low]\n# @exposes App.Search to #sqli\n\
         # @exposes App.Audit to #logs\n",
    );
    let r = run(d, &["check", "--format", "sarif"]);
    let log = r.json();
    assert_valid_sarif(&log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let score = |line: u64| {
        let r = results
            .iter()
            .find(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"] == line)
            .unwrap_or_else(|| panic!("no result on line {line}: {log}"));
        assert_eq!(r["ruleId"], "unmitigated-exposure");
        r["properties"]["security-severity"].as_str().unwrap().parse::<f64>().unwrap()
    };
    assert!(score(3) <= 3.9, "[low] must be Low: {}", score(3));
    assert!(score(4) > 9.0, "inherited [critical] must be Critical: {}", score(4));
    let unstated = score(5);
    assert!((7.0..9.0).contains(&unstated), "no stated severity stays High: {unstated}");
    // No rule-level score that a consumer would prefer to the result's.
    let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules[0]["properties"].get("security-severity").is_none(), "{}", rules[0]);
}

/// `code` and `path:line` of each diagnostic.
fn located(v: &Value) -> Vec<(String, String)> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let code = d["code"].as_str().unwrap().to_string();
            let at = format!("{}:{}", d["file"].as_str().unwrap(), d["line"]);
            (code, at)
        })
        .collect()
}

#[test]
fn risk_owner_and_due_date_checks_follow_the_configured_policy_and_today() {
    let dir = tempdir();
    write(
        dir.path(),
        "app.py",
        "# @asset Api (#api)\n\
         # @threat T (#t)\n\
         # @threat U (#u)\n\
         # @mitigates #api against #t\n\
         # @exposes #api to #u risk:L2xI3 audited:2026-01-01\n\
         # @exposes #api to #u risk:L4xI3 owner:sec due:2026-03-01\n\
         # @exposes #api to #u risk:L0xI3\n",
    );
    let (_, v) = json_of(dir.path(), &["--today", "2026-03-01", "--severity", "unmitigated-exposure=off"]);
    // Medium (6): 28 days from 2026-01-01 is 2026-01-29. The high one is owned and due today.
    let lines: Vec<_> = located(&v).into_iter().map(|(c, at)| format!("{c} {at}")).collect();
    assert_eq!(lines, ["overdue-risk app.py:5", "invalid-risk app.py:7"], "{v:#}");
    // The configuration moves medium's SLA and requires owners from medium up.
    write(
        dir.path(),
        "threatspec.yaml",
        "threat-analyzer:\n  risk:\n    sla-days: {medium: 90}\n    owner-required-from: medium\n    bands: {high: 30}\n",
    );
    let (_, v) = json_of(dir.path(), &["--today", "2026-03-01", "--severity", "unmitigated-exposure=off"]);
    let lines: Vec<_> = located(&v).into_iter().map(|(c, at)| format!("{c} {at}")).collect();
    assert_eq!(
        lines,
        ["unowned-risk app.py:5", "invalid-risk app.py:7", "invalid-config threatspec.yaml:5"],
        "{v:#}"
    );
    let config_error = &v["diagnostics"][2]["message"];
    assert!(config_error.as_str().unwrap().contains("must rise from low to critical"), "{config_error}");
    // The same block in GuardLink's configuration, without threatspec.yaml.
    std::fs::remove_file(dir.path().join("threatspec.yaml")).unwrap();
    write(
        dir.path(),
        ".guardlink/config.json",
        r#"{"threat-analyzer": {"risk": {"owner-required-from": "none", "sla-days": {"medium": "none"}}}}"#,
    );
    let (_, v) = json_of(dir.path(), &["--today", "2030-01-01", "--severity", "unmitigated-exposure=off"]);
    let lines: Vec<_> = located(&v).into_iter().map(|(c, at)| format!("{c} {at}")).collect();
    assert_eq!(lines, ["overdue-risk app.py:6", "invalid-risk app.py:7"], "{v:#}");
    assert_eq!(
        run(dir.path(), &["check", "--today", "2026-13-01"]).code,
        2,
        "a bad --today is a usage error"
    );
}
