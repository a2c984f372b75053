//! `baseline --apply` and `--apply --sidecar` (issue 20 §3): the proposed annotations written
//! into a copy of each fixture project and read back by `check` as exactly the baseline; a
//! second run changes no byte; an annotated resource, a hostile resource name, a link out of
//! the project and CRLF files. `UPDATE_EXPECT=1` rewrites the snapshot of an applied file
//! (`.tf.txt`: a `.tf` snapshot would be read as annotations of this repository).

use crate::infra::{HOSTILE_TF, copy_tree};
use crate::support;
use expect_test::expect_file;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use support::*;

fn three_tier() -> std::path::PathBuf {
    manifest_dir().join("tests/fixtures/infra/three-tier")
}

fn yaml_fixtures() -> Vec<std::path::PathBuf> {
    let dir = manifest_dir().join("tests/fixtures/infra/yaml");
    let mut out: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    out.sort();
    assert!(out.len() >= 4, "{out:?}");
    out
}

/// Every file under `root` by relative path, with its bytes.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    out
}

/// The baseline without locations (the comments `--apply` writes move lines down).
fn without_locations(mut model: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("origin");
                map.remove("also");
                map.remove("detail");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut model);
    model
}

/// The proposed lines of `--format gal`, without comment markers.
fn gal_lines(gal: &str) -> impl Iterator<Item = &str> {
    gal.lines().map(|l| l.trim_start_matches(['#', '/', ' ']))
}

/// How many proposed lines of `--format gal` start with `verb`.
fn gal_count(gal: &str, verb: &str) -> u64 {
    gal_lines(gal).filter(|l| l.starts_with(verb)).count() as u64
}

/// The assets the proposed lines declare or connect (a flow from the Internet names it
/// whether or not a format declares it).
fn gal_assets(gal: &str) -> u64 {
    let mut assets = BTreeSet::new();
    for line in gal_lines(gal) {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["@asset", id, ..] => {
                assets.insert(id.to_string());
            }
            ["@flows", from, "->", to, ..] => {
                assets.insert(from.to_string());
                assets.insert(to.to_string());
            }
            _ => {}
        }
    }
    assets.len() as u64
}

/// Applies the baseline to `root` (`extra` arguments after `--apply`) and checks that `check`
/// reads exactly the baseline back: the assets, exposures, mitigations, flows, boundaries and
/// threats `baseline` proposes, and no diagnostic but the open exposures; that the templates
/// still derive the same baseline; and that a second run says 0 lines and changes no byte.
/// Returns the first run's output.
fn apply_and_read_back(root: &Path, extra: &[&str]) -> String {
    let model = run(root, &["baseline", "--format", "json"]).json();
    let gal = run(root, &["baseline", "--format", "gal"]).stdout;
    let mut args = vec!["baseline", "--apply"];
    args.extend_from_slice(extra);
    let applied = run(root, &args);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert!(applied.stderr.is_empty(), "{}", applied.stderr);
    let check = run(root, &["check", "--format", "json", "--no-cache"]);
    let json = check.json();
    let summary = &json["summary"];
    let proposals = model["proposals"].as_array().unwrap();
    let count = |outcome: &str| proposals.iter().filter(|p| p["outcome"] == outcome).count() as u64;
    assert_eq!(summary["exposures"], count("exposure"), "{summary}\n{}", applied.stdout);
    assert_eq!(summary["mitigations"], count("mitigation"), "{summary}");
    assert_eq!(summary["flows"], model["flows"].as_array().unwrap().len() as u64, "{summary}");
    assert_eq!(summary["assets"], gal_assets(&gal), "{summary}");
    assert_eq!(summary["boundaries"], gal_count(&gal, "@boundary "), "{summary}");
    let threats: BTreeSet<&str> = proposals.iter().map(|p| p["threat"].as_str().unwrap()).collect();
    assert_eq!(summary["threats"], threats.len() as u64, "{summary}");
    let lines: u64 =
        ["@asset ", "@exposes ", "@mitigates ", "@flows ", "@boundary ", "@threat ", "@control "]
            .iter()
            .map(|v| gal_count(&gal, v))
            .sum();
    assert_eq!(summary["annotations"], lines, "{summary}");
    assert!(
        applied.stdout.starts_with(&format!("baseline --apply: {lines} lines written")),
        "{}",
        applied.stdout
    );
    let codes: BTreeSet<&str> =
        json["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert!(codes.iter().all(|c| *c == "unmitigated-exposure"), "{codes:?}\n{}", check.stdout);
    let again = run(root, &["baseline", "--format", "json"]).json();
    assert_eq!(without_locations(again), without_locations(model));

    let before = tree(root);
    let second = run(root, &args);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    assert!(second.stdout.starts_with("baseline --apply: 0 lines written to 0 files\n"), "{}", second.stdout);
    assert_eq!(tree(root), before, "the second run changed the tree");
    applied.stdout
}

#[test]
fn applied_comments_are_read_back_as_the_baseline_and_a_second_run_changes_nothing() {
    let dir = tempdir();
    copy_tree(&three_tier(), dir.path());
    let out = apply_and_read_back(dir.path(), &[]);
    assert!(out.contains("  wrote modules/db/main.tf: 8 lines\n"), "{out}");
    assert!(out.contains("  created .guardlink/baseline.gal: "), "{out}");
    // A reader sees where the lines went.
    let db = std::fs::read_to_string(dir.path().join("modules/db/main.tf")).unwrap();
    expect_file!["../snapshots/infra_apply_db.tf.txt"].assert_eq(&db);
    for fixture in yaml_fixtures() {
        let dir = tempdir();
        let name = fixture.file_name().unwrap();
        std::fs::copy(&fixture, dir.path().join(name)).unwrap();
        let original = std::fs::read_to_string(&fixture).unwrap();
        apply_and_read_back(dir.path(), &[]);
        // Only whole comment lines were added.
        let applied = std::fs::read_to_string(dir.path().join(name)).unwrap();
        let kept: Vec<&str> = applied.lines().filter(|l| !l.trim_start().starts_with("# @")).collect();
        assert_eq!(kept, original.lines().collect::<Vec<_>>(), "{name:?}");
    }
}

#[test]
fn sidecars_are_read_back_as_the_baseline_and_leave_the_templates_alone() {
    let dir = tempdir();
    copy_tree(&three_tier(), dir.path());
    std::fs::create_dir(dir.path().join("deploy")).unwrap();
    for fixture in yaml_fixtures() {
        std::fs::copy(&fixture, dir.path().join("deploy").join(fixture.file_name().unwrap())).unwrap();
    }
    let templates = tree(dir.path());
    let out = apply_and_read_back(dir.path(), &["--sidecar"]);
    assert!(out.contains("  created .guardlink/baseline-modules-db-main.tf.gal: 8 lines\n"), "{out}");
    let after = tree(dir.path());
    for (path, bytes) in &templates {
        assert_eq!(&after[path], bytes, "{path} changed");
    }
    let sidecar = &after[".guardlink/baseline-modules-db-main.tf.gal"];
    let sidecar = String::from_utf8_lossy(sidecar);
    assert!(sidecar.contains("@source file:modules/db/main.tf line:21 symbol:main\n@asset "), "{sidecar}");
    // Findings are reported at the resource the anchor names.
    let check = run(dir.path(), &["check", "--format", "json", "--no-cache"]).json();
    let at_db =
        check["diagnostics"].as_array().unwrap().iter().any(|d| {
            d["file"] == "modules/db/main.tf" && d["message"].as_str().unwrap().contains("accidental")
        });
    assert!(at_db, "{check}");
}

#[test]
fn json_templates_get_a_sidecar_and_say_so() {
    let dir = tempdir();
    let cfn = "{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Resources\": {\n    \"Logs\": {\n      \"Type\": \"AWS::S3::Bucket\"\n    }\n  }\n}\n";
    write(dir.path(), "stack.json", cfn);
    let out = apply_and_read_back(dir.path(), &[]);
    assert!(
        out.contains(
            "  stack.json has no comments (JSON): its annotations are in .guardlink/baseline-stack.json.gal\n"
        ),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(dir.path().join("stack.json")).unwrap(), cfn);
}

#[test]
fn an_annotated_resource_keeps_its_annotation_and_gets_nothing_new() {
    let dir = tempdir();
    copy_tree(&three_tier(), dir.path());
    let db = dir.path().join("modules/db/main.tf");
    let text = std::fs::read_to_string(&db).unwrap();
    let mine = "# @asset module_db_aws_db_instance_main -- \"our database\"\n";
    let text = text.replace("resource \"aws_db_instance\"", &format!("{mine}resource \"aws_db_instance\""));
    std::fs::write(&db, &text).unwrap();
    let r = run(dir.path(), &["baseline", "--apply"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(
            "  skipped module.db.aws_db_instance.main: asset `module_db_aws_db_instance_main` is already declared in the project\n"
        ),
        "{}",
        r.stdout
    );
    let after = std::fs::read_to_string(&db).unwrap();
    assert!(after.contains(&format!("{mine}resource \"aws_db_instance\"")), "{after}");
    assert_eq!(after.matches("module_db_aws_db_instance_main --").count(), 1, "{after}");
    assert!(!after.contains("TF-DB-"), "{after}");
    // The security group's flow, written inside another resource, is still added.
    assert!(
        after.contains("# @flows module_web_aws_autoscaling_group_app -> module_db_aws_db_instance_main")
    );
    assert_eq!(
        run(dir.path(), &["baseline", "--apply"]).stdout.lines().next(),
        Some("baseline --apply: 0 lines written to 0 files")
    );
}

#[test]
fn a_hostile_resource_name_injects_nothing() {
    let dir = tempdir();
    write(dir.path(), "main.tf", HOSTILE_TF);
    apply_and_read_back(dir.path(), &[]);
    let text = std::fs::read_to_string(dir.path().join("main.tf")).unwrap();
    assert_eq!(text.matches('\u{202E}').count(), 1, "the bidi control is not copied: {text}");
    assert!(text.contains("@exposes Evil"), "{text}");
    for line in text.lines().filter(|l| l.starts_with('#')) {
        assert!(!line.trim_start_matches("# ").starts_with("@exposes Evil"), "{line}");
        assert!(!line.contains("*/"), "{line}");
    }
}

#[cfg(unix)]
#[test]
fn links_out_of_the_project_are_not_written() {
    let outside = tempdir();
    let victim = write(
        outside.path(),
        "victim.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n",
    );
    let dir = tempdir();
    std::os::unix::fs::symlink(&victim, dir.path().join("linked.tf")).unwrap();
    write(dir.path(), "main.tf", "resource \"aws_db_instance\" \"d\" {\n  publicly_accessible = true\n}\n");
    let r = run(dir.path(), &["baseline", "--apply"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n"
    );
    assert!(
        std::fs::read_to_string(dir.path().join("main.tf")).unwrap().contains("# @asset aws_db_instance_d")
    );
    assert!(!r.stdout.contains("linked.tf"), "{}", r.stdout);
    // A planted `.guardlink` link: the definitions are not written through it.
    let dir = tempdir();
    write(dir.path(), "main.tf", "resource \"aws_db_instance\" \"d\" {\n  publicly_accessible = true\n}\n");
    std::os::unix::fs::symlink(outside.path(), dir.path().join(".guardlink")).unwrap();
    let r = run(dir.path(), &["baseline", "--apply"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("refusing to write") && r.stderr.contains("nothing written"), "{}", r.stderr);
    assert!(!outside.path().join("baseline.gal").exists());
    assert!(!std::fs::read_to_string(dir.path().join("main.tf")).unwrap().contains('@'));
}

#[test]
fn crlf_files_stay_crlf_and_keep_a_missing_final_line_break() {
    let dir = tempdir();
    copy_tree(&three_tier(), dir.path());
    let main = dir.path().join("main.tf");
    let text = std::fs::read_to_string(&main).unwrap().replace('\n', "\r\n");
    std::fs::write(&main, text.trim_end()).unwrap();
    apply_and_read_back(dir.path(), &[]);
    let after = std::fs::read_to_string(&main).unwrap();
    assert!(after.contains("# @asset "), "{after}");
    assert_eq!(after.matches('\n').count(), after.matches("\r\n").count(), "{after:?}");
    assert!(!after.ends_with('\n'), "{after:?}");
}

/// A template tree-sitter reads only by error recovery (a broken line in a Compose file, found
/// by the `infra` fuzz target): with the planned comments the recovery reads less, so the
/// commented file would not derive the same baseline. `--apply` refuses and writes nothing,
/// where writing would have lost resources from the baseline without a word.
#[test]
fn a_template_whose_recovery_the_comments_would_change_is_not_written() {
    let dir = tempdir();
    copy_tree(&manifest_dir().join("tests/fixtures/infra_recovered"), dir.path());
    let before = tree(dir.path());
    let model = run(dir.path(), &["baseline", "--format", "json"]).json();
    assert!(!model["elements"].as_array().unwrap().is_empty(), "the broken file still derives a baseline");
    let applied = run(dir.path(), &["baseline", "--apply"]);
    assert_eq!(applied.code, 2, "{}\n{}", applied.stdout, applied.stderr);
    assert!(
        applied.stderr.contains("would not derive the same baseline: nothing written"),
        "{}",
        applied.stderr
    );
    assert_eq!(tree(dir.path()), before, "nothing written");
}
