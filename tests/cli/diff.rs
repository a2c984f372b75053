//! `threat-analyzer diff` on real git repositories (built with the `git` program by
//! `tests/support/git.rs`; the product reads them in-process): each change class end to end,
//! renamed and deleted files, moved annotations, a configuration file on one side only, the
//! default base, `--head`, `--path`, `--fail-on` exit statuses, every format, and the errors
//! (unknown revision, not a repository, shallow clone) with status 2.

use crate::git::GitRepo;
use crate::support::{assert_valid_sarif, run, run_env, sarif_multitool, tempdir, write};
use serde_json::Value;
use std::path::Path;

const DEFS: &str = "# @asset App.Db (#db)\n# @threat SQL injection (#sqli) [high]\n# @control Prepared statements (#ps)\n\
                    # @boundary between Internet and App.Web (#edge) -- \"Public edge\"\n";

/// `diff --format json --no-cache ARGS` in `dir`: the exit status and the document.
fn diff_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["diff", "--format", "json", "--no-cache"];
    all.extend_from_slice(args);
    let r = run(dir, &all);
    assert!(r.code == 0 || r.code == 1, "{r:?}");
    (r.code, r.json())
}

/// `class: message` of every change, in output order.
fn changes(doc: &Value) -> Vec<String> {
    doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{}: {}", c["class"].as_str().unwrap(), c["message"].as_str().unwrap()))
        .collect()
}

/// A repository on `main` with the definitions and one covered exposure.
fn base_repo() -> GitRepo {
    let repo = GitRepo::new();
    repo.commit(
        "base",
        &[
            ("app/defs.py", DEFS),
            ("app/db.py", "# @exposes #db to #sqli\n# @mitigates #db against #sqli using #ps\n"),
            ("app/web.py", "# @exposes App.Web to CSRF [medium]\n# @confirmed XSS on App.Web [high]\n"),
        ],
    );
    repo
}

#[test]
fn every_change_class_end_to_end() {
    let repo = base_repo();
    let d = repo.path();
    // The working tree: the mitigation goes, a critical exposure and a finding come, CSRF is
    // accepted, a flow crosses the public edge, XSS is fixed, a reference dangles.
    write(
        d,
        "app/db.py",
        "# @exposes #db to #sqli\n# @exposes #db to Spoofing [critical]\n# @flows Internet -> App.Web via HTTP\n",
    );
    write(
        d,
        "app/web.py",
        "# @exposes App.Web to CSRF [high]\n# @accepts CSRF on App.Web -- \"same-site cookies\"\n\
         # @confirmed Tampering on App.Web [low]\n# @audit #nope\n",
    );
    let (code, doc) = diff_json(d, &["main"]);
    assert_eq!(code, 1, "a defence removed fails by default");
    let got = changes(&doc);
    for want in [
        "new-confirmed-finding: `Tampering` on `App.Web`",
        "new-unmitigated-exposure: `App.Db` exposed to `Spoofing`, nothing covers it",
        "defence-removed: `App.Db` exposed to `SQL injection` was `mitigated`, now open",
        "flow-added: `Internet` -> `App.Web` via `HTTP`, crossing trust boundary `Public edge (#edge)`",
        "acceptance-added: `CSRF` on `App.Web`",
        "exposure-resolved: `App.Web` exposed to `CSRF` is now `accepted`",
        "severity-raised: `App.Web` exposed to `CSRF`: severity `medium` -> `high`",
        "finding-resolved: `XSS` on `App.Web`",
        "mitigation-removed: `SQL injection` on `App.Db` using `Prepared statements`",
        "entity-added: threat `Spoofing`",
        "entity-removed: threat `XSS`",
    ] {
        assert!(got.iter().any(|g| g == want), "{want:?} missing from {got:#?}");
    }
    assert!(got.iter().any(|g| g.starts_with("diagnostic-added: `dangling-reference`")), "{got:#?}");
    // Most severe first: the critical exposure, then the high defence removed.
    assert!(got[0].starts_with("new-unmitigated-exposure: `App.Db` exposed to `Spoofing`"), "{got:#?}");
    assert_eq!(doc["verdict"], "risk-increase");
    assert_eq!(doc["base"]["label"], "main");
    assert_eq!(doc["base"]["commit"].as_str().unwrap().len(), 40);
    assert_eq!(doc["head"]["label"], "working tree");
    let first = &doc["changes"][0];
    assert_eq!((first["file"].as_str(), first["line"].as_u64()), (Some("app/db.py"), Some(2)));
    // Places are relative to `root`, the repository's working tree.
    let root = Path::new(doc["root"].as_str().unwrap());
    assert_eq!(root, repo.path().canonicalize().unwrap());
    assert!(root.join(first["file"].as_str().unwrap()).is_file());
    let removed =
        doc["changes"].as_array().unwrap().iter().find(|c| c["class"] == "defence-removed").unwrap();
    assert_eq!(removed["related"][0]["side"], "base");
    assert_eq!(
        (removed["related"][0]["file"].as_str(), removed["related"][0]["line"].as_u64()),
        (Some("app/db.py"), Some(2))
    );
}

#[test]
fn renamed_files_and_moved_annotations_change_nothing() {
    let repo = base_repo();
    std::fs::create_dir(repo.path().join("app/storage")).unwrap();
    repo.git(&["mv", "app/db.py", "app/storage/database.py"]);
    // The mitigation moves to another file, below other lines.
    write(repo.path(), "app/storage/database.py", "# @exposes #db to #sqli\n");
    write(repo.path(), "app/guard.py", "import x\n\n\n# @mitigates #db against #sqli using #ps\n");
    let (code, doc) = diff_json(repo.path(), &["main"]);
    assert_eq!((code, changes(&doc)), (0, Vec::<String>::new()));
    assert_eq!(doc["verdict"], "no-change");
}

#[test]
fn a_deleted_file_resolves_what_it_held() {
    let repo = base_repo();
    std::fs::remove_file(repo.path().join("app/web.py")).unwrap();
    let (code, doc) = diff_json(repo.path(), &["main"]);
    assert_eq!(code, 0);
    let got = changes(&doc);
    assert!(
        got.contains(&"exposure-resolved: `App.Web` exposed to `CSRF`: the exposure is gone".to_string()),
        "{got:#?}"
    );
    assert!(got.contains(&"finding-resolved: `XSS` on `App.Web`".to_string()), "{got:#?}");
    let gone = doc["changes"].as_array().unwrap().iter().find(|c| c["class"] == "exposure-resolved").unwrap();
    assert_eq!(
        (gone["side"].as_str(), gone["file"].as_str(), gone["resolution"].as_str()),
        (Some("base"), Some("app/web.py"), Some("removed"))
    );
    assert_eq!(doc["verdict"], "no-risk-increase");
}

#[test]
fn each_side_reads_its_own_threatspec_yaml() {
    let repo = base_repo();
    repo.commit("legacy notes", &[("legacy/old.py", "# @exposes Legacy.Box to Rot\n")]);
    repo.branch("before-config");
    // The head adds a threatspec.yaml that reads only `app`: the legacy exposure leaves the model.
    write(repo.path(), "threatspec.yaml", "paths:\n  - app\n");
    let (_, doc) = diff_json(repo.path(), &["before-config"]);
    let got = changes(&doc);
    assert!(
        got.contains(&"exposure-resolved: `Legacy.Box` exposed to `Rot`: the exposure is gone".to_string()),
        "{got:#?}"
    );
    // The other way round: the base has the file, the head does not.
    repo.commit("config", &[("threatspec.yaml", "paths:\n  - app\n")]);
    std::fs::remove_file(repo.path().join("threatspec.yaml")).unwrap();
    let (code, doc) = diff_json(repo.path(), &["HEAD"]);
    assert_eq!(code, 1, "a new unmitigated exposure fails by default");
    assert!(
        changes(&doc).contains(
            &"new-unmitigated-exposure: `Legacy.Box` exposed to `Rot`, nothing covers it".to_string()
        )
    );
}

#[test]
fn fail_on_levels_and_exit_statuses() {
    let repo = base_repo();
    let d = repo.path();
    let status = |args: &[&str]| {
        let mut all = vec!["diff", "main", "--no-cache", "--format", "json"];
        all.extend_from_slice(args);
        let r = run(d, &all);
        assert!(r.stderr.is_empty(), "{}", r.stderr);
        r.code
    };
    // No change.
    assert_eq!(status(&[]), 0);
    // A new flow across the public edge: a risk increase, but neither new-unmitigated nor a
    // defence removed.
    write(d, "app/flow.py", "# @flows Internet -> App.Web\n");
    assert_eq!(status(&["--fail-on", "new-unmitigated"]), 0);
    assert_eq!(status(&["--fail-on", "defence-removed"]), 0);
    assert_eq!(status(&["--fail-on", "any-risk-increase"]), 1);
    // A defence removed.
    write(d, "app/db.py", "# @exposes #db to #sqli\n");
    assert_eq!(status(&["--fail-on", "new-unmitigated"]), 0);
    assert_eq!(status(&[]), 1, "defence-removed is the default");
    assert_eq!(status(&["--fail-on", "never"]), 0);
    // A new unmitigated exposure fails every level but never.
    write(d, "app/new.py", "# @exposes App.New to Spoofing\n");
    assert_eq!(status(&["--fail-on", "new-unmitigated"]), 1);
    assert_eq!(status(&["--fail-on", "never"]), 0);
}

#[test]
fn head_revision_default_base_and_path() {
    let repo = base_repo();
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["checkout", "--quiet", "-b", "feature"]);
    repo.commit(
        "feature",
        &[("app/db.py", "# @exposes #db to #sqli\n"), ("svc/api.py", "# @exposes Svc.Api to DoS\n")],
    );
    // Uncommitted changes are not part of `--head HEAD`.
    write(repo.path(), "app/extra.py", "# @exposes App.Extra to Spoofing\n");
    let (_, doc) = diff_json(repo.path(), &["--head", "HEAD"]);
    assert_eq!(doc["base"]["commit"], base.as_str(), "the merge base with main");
    assert_eq!(doc["base"]["label"], "main...HEAD");
    assert_eq!(doc["head"]["label"], "HEAD");
    assert_eq!(doc["head"]["summary"], "feature");
    let got = changes(&doc);
    assert!(got.iter().any(|c| c.starts_with("defence-removed")), "{got:#?}");
    assert!(got.iter().any(|c| c.contains("Svc.Api")), "{got:#?}");
    assert!(!got.iter().any(|c| c.contains("App.Extra")), "{got:#?}");
    // --path limits both sides to a directory; paths stay relative to the repository.
    let (_, doc) = diff_json(repo.path(), &["--path", "svc"]);
    let got = changes(&doc);
    assert!(got.iter().all(|c| !c.contains("SQL injection")), "{got:#?}");
    let new =
        doc["changes"].as_array().unwrap().iter().find(|c| c["class"] == "new-unmitigated-exposure").unwrap();
    assert_eq!(new["file"], "svc/api.py");
    // Run from a subdirectory, PATH relative to it.
    let (_, from_sub) = diff_json(&repo.path().join("svc"), &["main", "--path", "."]);
    assert_eq!(changes(&from_sub), got);
    assert_eq!(from_sub["root"], doc["root"], "the repository's root, not the directory");
}

#[test]
fn errors_exit_2_with_a_clear_message() {
    let repo = base_repo();
    let r = run(repo.path(), &["diff", "no-such-branch", "--no-cache"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stderr.trim(), "threat-analyzer: error: unknown git revision 'no-such-branch'");
    assert!(r.stdout.is_empty());
    let r = run(repo.path(), &["diff", "main", "--head", "nope~3", "--no-cache"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("'nope~3'"), "{}", r.stderr);
    let outside = tempdir();
    let r = run(outside.path(), &["diff", "--no-cache"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not a git repository"), "{}", r.stderr);
    let r = run(repo.path(), &["diff", "main", "--link-base", "javascript:alert(1)"]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn a_shallow_clone_without_the_base_names_the_fetch_depth() {
    let repo = base_repo();
    repo.commit("two", &[("app/two.py", "# @exposes App.Two to X\n")]);
    repo.commit("three", &[("app/three.py", "# @exposes App.Three to X\n")]);
    let clone = repo.shallow_clone(1);
    let r = run(&clone, &["diff", "HEAD~2", "--no-cache"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("fetch-depth: 0"), "{}", r.stderr);
    // With the history there it works.
    let (_, doc) = diff_json(repo.path(), &["HEAD~2"]);
    assert_eq!(doc["summary"]["by_class"]["new-unmitigated-exposure"], 2);
}

#[test]
fn markdown_human_and_sarif_formats() {
    let repo = base_repo();
    let head_sha = "89abcdef0123456789abcdef0123456789abcdef";
    write(
        repo.path(),
        "app/db.py",
        "# @exposes #db to #sqli\n# @exposes #db to <img src=x onerror=alert(1)>\n",
    );
    let link = format!("https://github.com/o/r/blob/{head_sha}");
    let r = run(repo.path(), &["diff", "main", "--no-cache", "--format", "markdown", "--link-base", &link]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.starts_with(
            "### 🔴 Threat model: Risk increased: 1 new unmitigated exposure, 1 defence removed"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&format!("[app/db.py:2]({link}/app/db.py#L2)")), "{}", r.stdout);
    assert!(!r.stdout.contains("<img"), "{}", r.stdout);
    let base_sha = repo.git(&["rev-parse", "main"]);
    assert!(
        r.stdout.contains(&format!("https://github.com/o/r/blob/{base_sha}/app/db.py#L2) (base)")),
        "{}",
        r.stdout
    );

    let r = run(repo.path(), &["diff", "main", "--no-cache", "--no-color"]);
    assert!(r.stdout.starts_with("Threat model changes: main ("), "{}", r.stdout);
    assert!(r.stdout.contains("Risk increases (2)"), "{}", r.stdout);
    assert!(!r.stdout.contains('\u{1b}'));

    let r = run(repo.path(), &["diff", "main", "--no-cache", "--format", "sarif"]);
    let log: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_valid_sarif(&log);
    let states: Vec<(&str, &str)> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["ruleId"].as_str().unwrap(), r["baselineState"].as_str().unwrap()))
        .collect();
    assert!(states.contains(&("unmitigated-exposure", "new")), "{states:?}");
    assert!(states.contains(&("confirmed-finding", "unchanged")), "{states:?}");
    let root = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert!(root.ends_with("/repo/"), "paths are relative to the repository: {root}");
    if let Some(problems) = sarif_multitool::problems(&r.stdout) {
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

#[test]
fn output_file_and_the_cache_holds_only_the_working_tree() {
    let repo = base_repo();
    write(repo.path(), "app/new.py", "# @exposes App.New to Spoofing\n");
    let cache = tempdir();
    let cache_dir = cache.path().to_str().unwrap();
    let r = run_env(
        repo.path(),
        &["diff", "main", "--format", "markdown", "-o", "comment.md"],
        &[("THREAT_ANALYZER_CACHE_DIR", cache_dir)],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.is_empty());
    let comment = std::fs::read_to_string(repo.path().join("comment.md")).unwrap();
    assert!(comment.contains("new unmitigated exposure"), "{comment}");
    let cached: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(cached.len(), 1, "one cache file, the working tree's: {cached:?}");
}
