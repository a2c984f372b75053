//! Where the CLI writes, and what a repository's configuration may make it read (the rule and
//! its threat model are in `cli::output`'s and `walk`'s module docs): symbolic links planted
//! by a repository never redirect an output out of the project, `-o` stays in the project, the
//! current directory or the cache directory unless `--allow-outside-output` is given, and
//! `threatspec.yaml` may only name paths inside the project.

#[path = "support/hostile.rs"]
mod hostile;
#[path = "support/lsp.rs"]
mod lsp_support;
#[path = "support/cli.rs"]
mod support;

use hostile::{assert_unchanged, digest};
use serde_json::{Value, json};
use std::os::unix::fs::symlink;
use support::*;

const ANNOTATED: &str = "# @threat SQL Injection (#sqli) [high]\n# @exposes Shop.Api to #sqli\n";

/// A project, and a directory outside it holding a file a hostile link could aim at.
fn project_and_outside() -> (tempfile::TempDir, tempfile::TempDir) {
    let project = tempdir();
    write(project.path(), "app.py", ANNOTATED);
    let outside = tempdir();
    write(outside.path(), "victim.txt", "precious\n");
    (project, outside)
}

fn assert_refused(r: &Run, names: &[&str]) {
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("threat-analyzer: error: refusing to write "), "{r:?}");
    for name in names {
        assert!(r.stderr.contains(name), "{name} not named: {r:?}");
    }
}

#[test]
fn default_outputs_never_follow_a_planted_link() {
    let (project, outside) = project_and_outside();
    let (p, o) = (project.path(), outside.path());
    let before = digest(o);
    // `.threatmodel` itself is a link out of the project.
    symlink(o, p.join(".threatmodel")).unwrap();
    for args in [
        &["report"][..],
        &["report", "--format", "html"],
        &["export", "--format", "json"],
        &["export", "--format", "threatspec"],
    ] {
        let r = run(p, args);
        assert_refused(&r, &[".threatmodel", "symbolic link", "leads out of the project"]);
    }
    assert_unchanged(&before, &digest(o), "refused default outputs");
    // The report file is a link (to a file outside, or inside).
    std::fs::remove_file(p.join(".threatmodel")).unwrap();
    std::fs::create_dir(p.join(".threatmodel")).unwrap();
    symlink(o.join("victim.txt"), p.join(".threatmodel/report.md")).unwrap();
    let r = run(p, &["report"]);
    assert_refused(&r, &["report.md", "is a symbolic link"]);
    assert_eq!(std::fs::read_to_string(o.join("victim.txt")).unwrap(), "precious\n");
    // A subdirectory of the export is a link.
    symlink(o, p.join(".threatmodel/threatspec")).unwrap();
    let r = run(p, &["export", "--format", "threatspec"]);
    assert_refused(&r, &["threatspec", "symbolic link"]);
    assert_unchanged(&before, &digest(o), "refused default outputs");
    // Without links, the defaults are written.
    std::fs::remove_dir_all(p.join(".threatmodel")).unwrap();
    for args in [&["report"][..], &["export", "--format", "threatspec"]] {
        let r = run(p, args);
        assert_eq!(r.code, 0, "{r:?}");
    }
    assert!(p.join(".threatmodel/report.md").is_file());
    assert!(p.join(".threatmodel/threatspec/threatmodel.json").is_file());
}

#[test]
fn outputs_named_on_the_command_line() {
    let (project, outside) = project_and_outside();
    let (p, o) = (project.path(), outside.path());
    // Outside the project, the current directory and the cache directory: refused, absolute
    // or through `..`, and nothing is written ...
    let abs = o.join("out.sarif");
    let up = format!("../{}/dfd.svg", o.file_name().unwrap().to_str().unwrap());
    let before = digest(o);
    let r = run(p, &["check", "--format", "sarif", "-o", abs.to_str().unwrap()]);
    assert_refused(&r, &["out.sarif", "outside the project", "--allow-outside-output"]);
    let r = run(p, &["dfd", "--format", "svg", "-o", &up]);
    assert_refused(&r, &["dfd.svg", "outside the project"]);
    for command in [&["report"][..], &["export", "--format", "json"]] {
        let target = o.join("elsewhere").join("x");
        let r = run(p, &[command, &["-o", target.to_str().unwrap()]].concat());
        assert_refused(&r, &["elsewhere", "outside the project"]);
    }
    assert_unchanged(&before, &digest(o), "outputs outside the project");
    assert!(!o.join("elsewhere").exists(), "a refused output created its directory");
    // ... unless the user says so.
    let r = run(p, &["check", "--format", "sarif", "-o", abs.to_str().unwrap(), "--allow-outside-output"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(abs.is_file());
    let r = run(p, &["dfd", "--format", "svg", "--allow-outside-output", "-o", &up]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(o.join("dfd.svg").is_file());
    std::fs::remove_file(o.join("dfd.svg")).unwrap();
    std::fs::remove_file(&abs).unwrap();
    // The cache directory is allowed.
    let cache = o.join("cache");
    let in_cache = cache.join("dfd.svg");
    let env = [("THREAT_ANALYZER_CACHE_DIR", cache.to_str().unwrap())];
    let r = run_env(p, &["dfd", "--format", "svg", "-o", in_cache.to_str().unwrap()], &env);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(in_cache.is_file());
    std::fs::remove_dir_all(&cache).unwrap();
    // So is the current directory, when the project is below it.
    std::fs::create_dir(p.join("sub")).unwrap();
    write(&p.join("sub"), "app.py", ANNOTATED);
    let r = run(p, &["report", "sub", "-o", "sub-report.md"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(p.join("sub-report.md").is_file());
    // A link inside the project that stays inside is followed.
    std::fs::create_dir(p.join("site")).unwrap();
    symlink("site", p.join("public")).unwrap();
    let r = run(p, &["report", "-o", "public/report.html", "--format", "html"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(p.join("site/report.html").is_file());

    let before = digest(o);
    // The file named is a link: refused, whatever it points to.
    symlink(o.join("victim.txt"), p.join("results.sarif")).unwrap();
    let r = run(p, &["check", "--format", "sarif", "-o", "results.sarif"]);
    assert_refused(&r, &["results.sarif", "is a symbolic link"]);
    // A place in the project that a link sends out of it: refused.
    symlink(o, p.join("out")).unwrap();
    for args in [
        &["dfd", "-o", "out/dfd.mmd"][..],
        &["report", "-o", "out/report.md"],
        &["export", "--format", "threatspec", "-o", "out/ts"],
        &["check", "-o", "out/check.txt"],
    ] {
        let r = run(p, args);
        assert_refused(&r, &["out", "leads out of the project"]);
    }
    assert_unchanged(&before, &digest(o), "refused outputs");
    // Named by its real path (and allowed outside), the same directory is written.
    let real = o.join("dfd.mmd");
    let r = run(p, &["dfd", "--allow-outside-output", "-o", real.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn threatspec_config_may_only_name_paths_inside_the_project() {
    let (project, outside) = project_and_outside();
    let (p, o) = (project.path(), outside.path());
    write(o, "secret.py", "# @asset Outside.Secret\n");
    symlink(o, p.join("linked")).unwrap();
    std::fs::create_dir(p.join("src")).unwrap();
    symlink("src", p.join("alias")).unwrap();
    let outside_name = o.file_name().unwrap().to_str().unwrap();
    for entry in [format!("../{outside_name}"), o.display().to_string(), "linked".into(), "src/../..".into()]
    {
        write(p, "threatspec.yaml", format!("paths:\n  - app.py\n  - '{entry}'\n"));
        // An `invalid-config` error at the entry; the entry is not read, the rest is.
        let r = run(p, &["check"]);
        assert_eq!(r.code, 1, "{entry}: {r:?}");
        assert!(
            r.stdout.contains("threatspec.yaml:3:6: error[invalid-config]")
                && r.stdout.contains(&format!("{entry:?}"))
                && (r.stdout.contains("is outside the project")
                    || r.stdout.contains("leads out of the project")),
            "{entry}: {r:?}"
        );
        assert!(r.stdout.contains("app.py:2:") && !r.stdout.contains("Outside.Secret"), "{entry}: {r:?}");
    }
    // Links that stay inside are fine.
    write(p, "src/x.py", ANNOTATED);
    write(p, "threatspec.yaml", "paths:\n  - app.py\n  - alias\n");
    let r = run(p, &["check", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.json()["summary"]["files_scanned"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_server_never_indexes_what_a_config_names_outside() {
    let (project, outside) = project_and_outside();
    let (p, o) = (project.path(), outside.path());
    write(o, "secret.py", "# @asset Outside.Secret\n");
    write(p, "threatspec.yaml", format!("paths:\n  - app.py\n  - '{}'\n", o.display()));
    let (mut client, _) = lsp_support::TestClient::start(p, json!({}), Value::Null).await;
    client
        .wait_for(|m| {
            m["method"] == "window/logMessage"
                && m["params"]["message"].as_str().is_some_and(|t| t.contains("threat-analyzer: indexed"))
        })
        .await;
    let found = client.request("workspace/symbol", json!({"query": "Secret"})).await;
    assert_eq!(found, json!([]));
    // The rest of the folder is indexed, and the entry has an error where it is written.
    let found = client.request("workspace/symbol", json!({"query": "SQL"})).await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    let config = lsp_support::file_uri(&p.join("threatspec.yaml"));
    let diags = client.diagnostics_for(&config, |d| !d.is_empty()).await;
    assert_eq!(lsp_support::codes(&diags), ["invalid-config"], "{diags:?}");
    assert_eq!(diags[0]["range"]["start"]["line"], 2, "{diags:?}");
    let text = diags[0]["message"].as_str().unwrap();
    assert!(text.contains("is outside the project"), "{text}");
}
