//! Tests of the diff outputs: Markdown escaping and size budget, the JSON shape, SARIF
//! validity and `baselineState`, the human layout, and trust-boundary crossings found with the
//! diagram's rule.

use super::*;
use crate::analysis::Analysis;
use crate::analysis::diff::tests::project;

use crate::render::sarif::schemas;

/// Both sides analysed, as the command does: the diff, and each side's index and diagnostics.
struct Compared {
    diff: ModelDiff,
    base: (ProjectIndex, Vec<Diagnostic>),
    head: (ProjectIndex, Vec<Diagnostic>),
}

impl Compared {
    /// The diff's SARIF log, parsed.
    fn sarif(&self, root: &str) -> Value {
        let text =
            sarif((&self.base.0, &self.base.1), (&self.head.0, &self.head.1), Path::new(root), &sides());
        serde_json::from_str(&text).unwrap()
    }
}

fn compare(base: &[(&str, &str)], head: &[(&str, &str)]) -> Compared {
    let (bi, hi) = (project(base), project(head));
    let (ba, ha) = (Analysis::new(&bi), Analysis::new(&hi));
    let (bd, hd) = (ba.diagnostics(&bi), ha.diagnostics(&hi));
    let diff = super::compare(
        Input { index: &bi, analysis: &ba, diagnostics: &bd, root: "" },
        Input { index: &hi, analysis: &ha, diagnostics: &hd, root: "" },
    );
    Compared { diff, base: (bi, bd), head: (hi, hd) }
}

fn sides() -> Sides {
    Sides {
        base: Revision {
            label: "main".into(),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            summary: Some("base commit".into()),
        },
        head: Revision { label: "working tree".into(), commit: None, summary: None },
    }
}

const DEFS: &str =
    "# @asset App.Db (#db)\n# @threat SQL injection (#sqli) [high]\n# @control Prepared statements (#ps)\n";

fn typical() -> Compared {
    let base = [
        ("defs.py", DEFS),
        (
            "app.py",
            "# @exposes #db to #sqli\n# @mitigates #db against #sqli using #ps\n# @flows App.Web -> #db\n",
        ),
    ];
    let head = [
        ("defs.py", DEFS),
        (
            "app.py",
            "# @exposes #db to #sqli\n# @exposes #db to XSS [critical]\n# @accepts CSRF on #db -- \"internal only\"\n",
        ),
    ];
    compare(&base, &head)
}

#[test]
fn crossings_use_the_diagrams_trust_boundaries() {
    let defs = "# @boundary between Internet and App.Web (#edge) -- \"Public edge\"\n";
    let base = [("a.py", defs)];
    let head = [(
        "a.py",
        &*format!("{defs}# @flows Internet -> App.Web.Login\n# @flows App.Web -> App.Web.Login\n"),
    )];
    let c = compare(&base, &head);
    let flows: Vec<(&str, bool)> =
        c.diff.of_class(Class::FlowAdded).map(|f| (f.to.as_deref().unwrap(), f.is_risk_increase())).collect();
    assert_eq!(flows, [("App.Web.Login", true), ("App.Web.Login", false)]);
    let crossing = c.diff.of_class(Class::FlowAdded).next().unwrap();
    assert_eq!(crossing.crosses, Some((None, Some("Public edge (#edge)".to_string()))));
    assert!(crossing.message.plain().ends_with("crossing trust boundary `Public edge (#edge)`"));
}

#[test]
fn human_groups_by_impact_most_severe_first() {
    let c = typical();
    let out = human(&c.diff, &sides(), false);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Threat model changes: main (0123456) -> working tree");
    let pos = |needle: &str| out.find(needle).unwrap_or_else(|| panic!("{needle:?} missing:\n{out}"));
    assert!(
        pos("Risk increases (") < pos("To review (") && pos("To review (") < pos("Other changes ("),
        "{out}"
    );
    assert!(pos("[critical] new unmitigated exposure") < pos("defence removed"), "{out}");
    assert!(
        out.contains(
            "app.py:1: [high] defence removed: `App.Db` exposed to `SQL injection` was `mitigated`, now open"
        ),
        "{out}"
    );
    assert!(out.contains("      app.py:2 (base): was mitigated here by `#ps`"), "{out}");
    assert!(out.contains("      reason: internal only"), "{out}");
    assert!(
        lines.last().unwrap().starts_with("Risk increased: 1 new unmitigated exposure, 1 defence removed"),
        "{out}"
    );
    let colored = human(&c.diff, &sides(), true);
    assert!(colored.contains("\u{1b}["));
    assert_eq!(anstream::adapter::strip_str(&colored).to_string(), out);
}

#[test]
fn human_output_cleans_names() {
    let c = compare(&[], &[("a.py", "# @exposes App to Evil\u{1b}[31m\u{202E}x\n")]);
    let out = human(&c.diff, &sides(), false);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{202E}'), "{out:?}");
}

#[test]
fn markdown_escapes_hostile_names_and_keeps_the_table_whole() {
    let hostile = "Evil <img src=x onerror=alert(1)> | [click](javascript:alert(1)) **b** `c` @here";
    let text = format!(
        "# @exposes App to {hostile} [high]\n# @accepts {hostile} on Other -- \"<script>alert(1)</script> | x\"\n"
    );
    let c = compare(&[], &[("a.py", &text)]);
    let out = markdown(
        &c.diff,
        &sides(),
        Some("https://github.com/o/r/blob/89abcdef0123456789abcdef0123456789abcdef/"),
    );
    assert!(!out.contains("<img") && !out.contains("<script"), "{out}");
    assert!(!out.contains("](javascript"), "{out}");
    assert!(!out.contains("**b**") && !out.contains("`c`"), "{out}");
    // Every table row has exactly the five pipes of its four cells.
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 3, "{out}");
    for row in rows {
        assert_eq!(row.matches('|').count(), 5, "{row}");
    }
    assert!(
        out.contains(
            "[a.py:1](https://github.com/o/r/blob/89abcdef0123456789abcdef0123456789abcdef/a.py#L1)"
        ),
        "{out}"
    );
    assert!(
        out.starts_with("### 🔴 Threat model: Risk increased: 1 new unmitigated exposure; 1 to review\n"),
        "{out}"
    );
}

#[test]
fn markdown_links_base_places_to_the_base_commit() {
    let c = typical();
    let head_sha = "89abcdef0123456789abcdef0123456789abcdef";
    let out = markdown(&c.diff, &sides(), Some(&format!("https://github.com/o/r/blob/{head_sha}/")));
    assert!(
        out.contains("[app.py:2](https://github.com/o/r/blob/0123456789abcdef0123456789abcdef01234567/app.py#L2) (base)"),
        "{out}"
    );
    assert!(out.contains(&format!("[app.py:1](https://github.com/o/r/blob/{head_sha}/app.py#L1)")), "{out}");
    // Without a link base, places are plain text.
    let plain = markdown(&c.diff, &sides(), None);
    assert!(!plain.contains("](") && plain.contains("app.py:2 (base)"), "{plain}");
    assert!(plain.contains("<details><summary>"), "{plain}");
}

#[test]
fn markdown_stays_under_the_size_limit_by_summarising() {
    let long = "x".repeat(500);
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!("# @exposes App.C{i} to Threat {long} {i}\n# @flows App.A{i} -> App.B{i}\n"));
    }
    let c = compare(&[], &[("a.py", &text)]);
    let out = markdown(
        &c.diff,
        &sides(),
        Some("https://github.com/o/r/blob/89abcdef0123456789abcdef0123456789abcdef/"),
    );
    let chars = out.chars().count();
    assert!(chars <= MARKDOWN_BUDGET, "{chars}");
    assert!(chars > MARKDOWN_BUDGET - 5_000, "the budget is used: {chars}");
    assert!(
        out.contains(" not shown to keep this comment under GitHub's size limit"),
        "{}",
        &out[out.len() - 500..]
    );
    assert!(
        out.contains(&format!("{}…</code>", "x".repeat(MAX_NAME_CHARS - "Threat ".len()))),
        "names are cut"
    );
    assert!(out.trim_end().ends_with("run `threat-analyzer diff --format json` for all."));
    // A small diff is not cut.
    assert!(!markdown(&typical().diff, &sides(), None).contains("not shown"));
}

#[test]
fn json_has_the_documented_shape() {
    let c = typical();
    let v: Value = serde_json::from_str(&json(&c.diff, &sides(), Path::new("/repo"))).unwrap();
    assert!(v["provenance"].is_string());
    assert_eq!(v["root"], "/repo");
    assert_eq!(
        v["base"],
        json!({"label": "main", "commit": "0123456789abcdef0123456789abcdef01234567", "summary": "base commit"})
    );
    assert_eq!(v["head"], json!({"label": "working tree"}));
    assert_eq!(v["verdict"], "risk-increase");
    assert_eq!(v["summary"]["changes"], c.diff.changes.len());
    assert_eq!(v["summary"]["by_class"]["new-unmitigated-exposure"], 1);
    assert_eq!(v["summary"]["open_exposures_base"], 0);
    assert_eq!(v["summary"]["open_exposures_head"], 2);
    let changes = v["changes"].as_array().unwrap();
    let first = &changes[0];
    assert_eq!(
        first,
        &json!({
            "class": "new-unmitigated-exposure", "impact": "risk-increase", "rank": 187,
            "message": "`App.Db` exposed to `XSS`, nothing covers it",
            "side": "head", "file": "app.py", "line": 2, "column": 3, "end_line": 2, "end_column": 33,
            "severity": "critical", "severity_word": "critical", "asset": "App.Db", "threat": "XSS",
        })
    );
    let removed = changes.iter().find(|c| c["class"] == "defence-removed").unwrap();
    assert_eq!(removed["resolution"], "mitigated");
    assert_eq!(removed["related"][0]["side"], "base");
    assert_eq!(removed["related"][0]["message"], "was mitigated here by `#ps`");
    let accepted = changes.iter().find(|c| c["class"] == "acceptance-added").unwrap();
    assert_eq!(
        (accepted["impact"].as_str(), accepted["note"].as_str()),
        (Some("review"), Some("internal only"))
    );
    let flow = changes.iter().find(|c| c["class"] == "flow-removed").unwrap();
    assert_eq!((flow["from"].as_str(), flow["to"].as_str()), (Some("App.Web"), Some("App.Db")));
    let ranks: Vec<u64> = changes.iter().map(|c| c["rank"].as_u64().unwrap()).collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");
    let empty: Value =
        serde_json::from_str(&json(&ModelDiff::default(), &sides(), Path::new("relative"))).unwrap();
    assert!(empty.get("root").is_none(), "only an absolute root is written: {empty}");
    assert_eq!(
        (empty["verdict"].as_str(), empty["changes"].as_array().map(Vec::len)),
        (Some("no-change"), Some(0))
    );
}

/// A SARIF result's `baselineState` and file.
fn state_and_file(r: &Value) -> (&str, &str) {
    (
        r["baselineState"].as_str().unwrap(),
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap(),
    )
}

#[test]
fn sarif_is_valid_and_marks_every_baseline_state() {
    let base = [
        ("defs.py", DEFS),
        // unchanged: the same line in the same file.
        ("a.py", "# @exposes #db to Spoofing\n"),
        // updated: moved to another file.
        ("b.py", "# @exposes #db to Tampering\n"),
        // absent: gone from the head.
        ("c.py", "# @exposes #db to Repudiation\n"),
    ];
    let head = [
        ("defs.py", DEFS),
        ("a.py", "# @exposes #db to Spoofing\n"),
        ("moved/b.py", "\n# @exposes #db to Tampering\n"),
        // new.
        ("d.py", "# @exposes #db to Elevation\n"),
    ];
    let c = compare(&base, &head);
    let log: Value = c.sarif("/repo");
    schemas::assert_valid("sarif-2.1.0.schema.json", &log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let state_of = |needle: &str| -> Vec<(&str, &str)> {
        results
            .iter()
            .filter(|r| r["message"]["text"].as_str().unwrap().contains(needle))
            .map(state_and_file)
            .collect()
    };
    assert_eq!(state_of("Spoofing"), [("unchanged", "a.py")]);
    assert_eq!(state_of("Tampering"), [("updated", "moved/b.py")]);
    assert_eq!(state_of("Repudiation"), [("absent", "c.py")]);
    assert_eq!(state_of("Elevation"), [("new", "d.py")]);
    assert!(results.iter().all(|r| r["baselineState"].is_string()));
    assert_eq!(log["runs"][0]["properties"]["base"]["label"], "main");
    // The rule table and fingerprints are check's.
    let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), crate::diagnostic::Code::ALL.len());
    assert!(results[0]["partialFingerprints"]["primaryLocationLineHash"].as_str().unwrap().ends_with(":1"));
}

/// One pairing rule: a finding of a renamed file whose message changed (its threat's severity
/// was raised elsewhere) keeps its fingerprint, so the baseline calls it unchanged and the diff's
/// SARIF pairs it too (`updated`) instead of `absent` plus `new`.
#[test]
fn sarif_pairs_a_renamed_files_findings_as_baselines_do() {
    let defs =
        |severity: &str| format!("# @asset App.Db (#db)\n# @threat SQL injection (#sqli) [{severity}]\n");
    let (base_defs, head_defs) = (defs("high"), defs("low"));
    let line = "# @exposes #db to #sqli\n";
    let c =
        compare(&[("defs.py", &base_defs), ("old.py", line)], &[("defs.py", &head_defs), ("new.py", line)]);
    let baseline = crate::analysis::baseline::compare(
        &crate::analysis::baseline::entries(&c.head.0, &c.head.1),
        &crate::analysis::baseline::entries(&c.base.0, &c.base.1),
    );
    assert_eq!((baseline.new_count(), baseline.fixed.len()), (0, 0), "{baseline:?}");
    let log: Value = c.sarif("/r");
    let states: Vec<(&str, &str)> =
        log["runs"][0]["results"].as_array().unwrap().iter().map(state_and_file).collect();
    assert_eq!(states, [("updated", "new.py")]);
    assert_ne!(c.base.1[0].message, c.head.1[0].message, "the message changed");
}

#[test]
fn sarif_schema_check_can_fail() {
    let c = typical();
    let mut log: Value = c.sarif("/r");
    log["runs"][0]["results"][0]["baselineState"] = json!("moved");
    schemas::assert_invalid("sarif-2.1.0.schema.json", &log);
}

#[test]
fn verdicts() {
    assert_eq!(verdict_line(&ModelDiff::default()), "No change to the threat model");
    let resolved = compare(
        &[("a.py", "# @exposes App to X\n")],
        &[("a.py", "# @exposes App to X\n# @mitigates App against X\n")],
    );
    assert_eq!(Verdict::of(&resolved.diff), Verdict::NoRiskIncrease);
    assert_eq!(verdict_line(&resolved.diff), "No risk increase: 2 changes, 1 lowering risk");
    let accepted = compare(
        &[("a.py", "# @exposes App to X\n# @mitigates App against X\n")],
        &[("a.py", "# @exposes App to X\n# @accepts X on App\n")],
    );
    assert_eq!(verdict_line(&accepted.diff), "No risk increase; 2 changes to review");
    let two = compare(&[], &[("a.py", "# @exposes App to X\n# @exposes App to Y\n")]);
    assert_eq!(verdict_line(&two.diff), "Risk increased: 2 new unmitigated exposures");
}
