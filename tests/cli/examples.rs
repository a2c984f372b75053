//! The shipped examples, checked through the binary: the webshop's exact findings (its
//! `expected-findings.tsv`), summary counts, SARIF validity, and the dialect samples.

use crate::support;
use serde_json::Value;
use support::*;

fn webshop() -> std::path::PathBuf {
    manifest_dir().join("examples/webshop")
}

#[test]
fn webshop_reports_exactly_the_documented_findings() {
    let r = run(&webshop(), &["check", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let v = r.json();
    let actual: Vec<String> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}\t{}\t{}\t{}\t{}",
                d["file"].as_str().unwrap(),
                d["line"],
                d["column"],
                d["code"].as_str().unwrap(),
                d["severity"].as_str().unwrap()
            )
        })
        .collect();
    let tsv = std::fs::read_to_string(webshop().join("expected-findings.tsv")).unwrap();
    let expected: Vec<String> =
        tsv.lines().skip(1).filter(|l| !l.trim().is_empty()).map(str::to_string).collect();
    assert_eq!(actual, expected);
}

#[test]
fn webshop_summary_counts() {
    let v = run(&webshop(), &["check", "--format", "json"]).json();
    let s = &v["summary"];
    let got: Vec<(String, u64)> =
        s.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect();
    // Checked against a grep of the sources that excludes the string literal in api/app.py
    // and the shield region in web/checkout.ts (see examples/webshop/README.md).
    let want = [
        ("files_scanned", 15),
        ("files_with_annotations", 13),
        ("annotations", 109),
        ("assets", 12),
        ("threats", 16),
        ("controls", 14),
        ("mitigations", 14),
        ("exposures", 14),
        ("confirmed", 0),
        ("acceptances", 1),
        ("transfers", 1),
        ("flows", 9),
        ("boundaries", 4),
        ("reviews", 6),
        ("tests", 3),
        ("assumptions", 1),
        ("errors", 2),
        ("warnings", 0),
        ("notes", 1),
    ];
    for (key, value) in want {
        assert_eq!(s[key].as_u64(), Some(value), "{key} in {got:?}");
    }
    assert_eq!(got.len(), SUMMARY_KEYS.len());
}

#[test]
fn webshop_sarif_is_valid_and_carries_the_findings() {
    let r = run(&webshop(), &["check", "--format", "sarif"]);
    assert_eq!(r.code, 1, "{r:?}");
    let log = r.json();
    assert_valid_sarif(&log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let rule_ids: Vec<&str> = results.iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    assert_eq!(rule_ids, ["unused-definition", "unmitigated-exposure", "dangling-reference"]);
    let exposure = &results[1];
    assert_eq!(exposure["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "api/orders.py");
    assert_eq!(exposure["locations"][0]["physicalLocation"]["region"]["startLine"], 49);
    assert!(exposure["partialFingerprints"]["primaryLocationLineHash"].is_string());
    assert!(!exposure["relatedLocations"].as_array().unwrap().is_empty());
}

#[test]
fn dialect_samples_parse_without_syntax_errors() {
    let dir = manifest_dir().join("examples/dialects");
    let v: Value = run(&dir, &["check", "--format", "json", "--fail-on", "never"]).json();
    let syntax: Vec<&Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            matches!(
                d["code"].as_str(),
                Some("malformed-annotation" | "prose-like-annotation" | "unknown-verb")
            )
        })
        .collect();
    // threatspec.js keeps one deliberate `@connects` without `with` (real repositories have
    // it); it must parse, not error.
    assert!(syntax.is_empty(), "{syntax:#?}");
    assert_eq!(v["summary"]["files_with_annotations"], 3);
    assert!(v["summary"]["annotations"].as_u64().unwrap() >= 40, "{}", v["summary"]);
}

#[test]
fn include_and_exclude_globs_choose_the_files() {
    let all = run(&webshop(), &["check", "--format", "json"]).json();
    let without_legacy = run(&webshop(), &["check", "--format", "json", "--exclude", "legacy/"]).json();
    assert_eq!(
        without_legacy["summary"]["files_scanned"],
        all["summary"]["files_scanned"].as_u64().unwrap() - 1
    );
    let python_only = run(&webshop(), &["check", "--format", "json", "--include", "*.py"]).json();
    let files: Vec<&str> =
        python_only["diagnostics"].as_array().unwrap().iter().map(|d| d["file"].as_str().unwrap()).collect();
    assert!(files.iter().all(|f| f.ends_with(".py")), "{files:?}");
    assert_eq!(python_only["summary"]["files_scanned"], 6, "{}", python_only["summary"]);
    let bad = run(&webshop(), &["check", "--exclude", "a{"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("glob"), "{bad:?}");
}
