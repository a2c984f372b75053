//! `threat-analyzer status`: exact counts in JSON, the `--unannotated` listing, exposures by
//! state and severity, STRIDE per element kind, and the human layout.

use crate::support::{run, tempdir, write};
use serde_json::{Value, json};
use std::path::Path;

/// Five languages, every covering verb, one ignored file, a `.txt` no PATH names, and an
/// annotation document with no annotation.
fn project(d: &Path) {
    write(
        d,
        "app/db.py",
        "# @asset App.Db (#db)\n# @threat SQL injection (#sqli) [high] stride:T\n# @exposes #db to #sqli\n\
         # @mitigates #db against #sqli using #ps\n",
    );
    write(d, "app/plain.py", "def g():\n    return 1\n");
    write(
        d,
        "api/api.go",
        "// @asset App.Api (#api)\n// @threat Spoofing (#spoof) stride:S\n// @exposes #api to #spoof [critical]\n\
         // @owns team-a for #api\npackage api\n",
    );
    write(
        d,
        "web/app.ts",
        "// @asset App.Web (#web)\n// @threat Cross-site scripting (#xss) [medium]\n\
         // @exposes #web to #xss\n// @accepts #xss on #web -- \"internal tool\"\n\
         // @exposes #web to #spoof [low]\n// @transfers #spoof from #web to #api -- \"gateway\"\n\
         // @exposes #web to #csrf\n// @exposes #web to #nope\n",
    );
    write(d, "src/lib.rs", "pub fn main() {}\n");
    write(
        d,
        ".guardlink/definitions.gal",
        "@asset App.Log (#log)\n@control Prepared statements (#ps)\n@threat CSRF (#csrf)\n",
    );
    write(d, "docs/empty.gal", "\n");
    write(d, ".gitignore", "ignored.py\n");
    write(d, "ignored.py", "def h():\n    pass\n");
    write(d, "notes.txt", "nothing modelled here\n");
}

fn status_json(d: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["status", "--no-cache", "--format", "json"];
    args.extend_from_slice(extra);
    let r = run(d, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

#[test]
fn counts_files_languages_verbs_and_entities_exactly() {
    let dir = tempdir();
    project(dir.path());
    let out = status_json(dir.path(), &[]);
    let s = &out["status"];
    let counts = |scanned: u64, annotated: u64, unannotated: u64| json!({"scanned": scanned, "annotated": annotated, "unannotated": unannotated});
    assert_eq!(s["files"], counts(7, 4, 3));
    assert_eq!(
        s["languages"],
        json!({
            "gal": counts(2, 1, 1),
            "go": counts(1, 1, 0),
            "python": counts(2, 1, 1),
            "rust": counts(1, 0, 1),
            "typescript": counts(1, 1, 0),
        })
    );
    assert_eq!(s["annotations"], 19);
    assert_eq!(
        s["annotations_by_verb"],
        json!({"accepts": 1, "asset": 4, "control": 1, "exposes": 6, "mitigates": 1, "owns": 1,
               "threat": 4, "transfers": 1})
    );
    assert_eq!(s["assets_without_threats"], json!(["App.Log"]));
    assert_eq!(s["threats_without_mitigation"], json!(["CSRF", "Cross-site scripting", "Spoofing"]));
    assert_eq!(s["ownership"], json!({"assets": 4, "owned": 1, "unowned": ["App.Db", "App.Log", "App.Web"]}));
    assert!(out.get("unannotated_files").is_none(), "listed only when asked: {out}");
    assert!(out["provenance"].is_string());
}

#[test]
fn exposures_by_state_and_severity() {
    let dir = tempdir();
    project(dir.path());
    let e = &status_json(dir.path(), &[])["status"]["exposures"];
    // db/sqli mitigated (high, from its threat), api/spoof open (critical), web/xss accepted
    // (medium), web/spoof transferred (low), web/csrf open (unstated), web/nope unresolved.
    assert_eq!(e["total"], 6);
    assert_eq!(e["unresolved"], 1);
    assert_eq!(e["by_state"], json!({"open": 2, "mitigated": 1, "accepted": 1, "transferred": 1}));
    assert_eq!(e["by_severity"], json!({"critical": 1, "high": 1, "medium": 1, "low": 1, "unstated": 1}));
    assert_eq!(
        e["open_by_severity"],
        json!({"critical": 1, "high": 0, "medium": 0, "low": 0, "unstated": 1})
    );

    // Mitigating the open critical moves it from open to mitigated.
    let d = dir.path();
    write(d, "api/guard.go", "// @mitigates #api against #spoof using #ps\npackage api\n");
    let e = &status_json(d, &[])["status"]["exposures"];
    assert_eq!(e["by_state"], json!({"open": 1, "mitigated": 2, "accepted": 1, "transferred": 1}));
    assert_eq!(e["open_by_severity"]["critical"], 0);
}

#[test]
fn unannotated_lists_source_files_only() {
    let dir = tempdir();
    project(dir.path());
    // Neither the ignored file, the `.txt` nobody named, nor the empty `.gal` document.
    let out = status_json(dir.path(), &["--unannotated"]);
    assert_eq!(out["unannotated_files"], json!(["app/plain.py", "src/lib.rs"]));
    let r = run(dir.path(), &["status", "--no-cache", "--unannotated"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().collect::<Vec<_>>(), ["app/plain.py", "src/lib.rs"]);
    // --exclude takes a file out of the walk, and so out of the list.
    let r = run(dir.path(), &["status", "--no-cache", "--unannotated", "--exclude", "src/"]);
    assert_eq!(r.stdout.lines().collect::<Vec<_>>(), ["app/plain.py"]);
}

#[test]
fn human_summary_and_escaped_names() {
    let dir = tempdir();
    let d = dir.path();
    project(d);
    write(d, "app/evil.py", "# @threat Evil\u{1b}]52;c;eA==\u{7} name (#evil)\n");
    let r = run(d, &["status", "--no-cache"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Files: 8 scanned, 5 annotated, 3 unannotated"), "{}", r.stdout);
    assert!(r.stdout.contains("by state: 2 open, 1 mitigated, 1 accepted, 1 transferred"), "{}", r.stdout);
    assert!(r.stdout.contains("Ownership: 1 of 4 assets owned"), "{}", r.stdout);
    assert!(r.stdout.contains("Threats with no mitigation anywhere: 4"), "{}", r.stdout);
    assert!(!r.stdout.contains('\u{1b}'), "an escape sequence reached the terminal: {:?}", r.stdout);
}

#[test]
fn a_missing_path_is_an_error() {
    let dir = tempdir();
    let r = run(dir.path(), &["status", "does-not-exist"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("does-not-exist"), "{}", r.stderr);
}

#[test]
fn stride_coverage_per_element_kind() {
    let dir = tempdir();
    project(dir.path());
    let stride = &status_json(dir.path(), &[])["status"]["stride_per_element_kind"];
    // App.Db is a data store (`db`); App.Api, App.Web and App.Log are processes (`log` is no
    // data-store word). #sqli (stride:T) is
    // recorded on App.Db; #spoof (stride:S) on App.Api and, by the exposure and the transfer,
    // App.Web; #xss has no category. Only the categories that apply to a kind are listed.
    assert_eq!(
        stride["data-store"],
        json!({"elements": 1, "recorded": {"tampering": 1, "repudiation": 0, "information_disclosure": 0,
                                            "denial_of_service": 0}})
    );
    assert_eq!(
        stride["process"],
        json!({"elements": 3, "recorded": {"spoofing": 2, "tampering": 0, "repudiation": 0,
               "information_disclosure": 0, "denial_of_service": 0, "elevation_of_privilege": 0}})
    );
    assert!(stride.get("actor").is_none(), "{stride}");
}
