//! `baseline` (issue 20): the threat model derived from the three-tier Terraform fixture
//! (`tests/fixtures/infra/three-tier`, with modules) as snapshots, and the `--format gal`
//! annotations written into a copy of the project and read back by `check` as the same model.
//! `UPDATE_EXPECT=1` rewrites the snapshots.

use crate::support;
use expect_test::expect_file;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use support::*;

pub(super) fn three_tier() -> std::path::PathBuf {
    manifest_dir().join("tests/fixtures/infra/three-tier")
}

#[test]
fn three_tier_snapshots() {
    let dir = three_tier();
    for (format, file) in [
        ("human", "infra_three_tier.txt"),
        ("json", "infra_three_tier.json"),
        ("markdown", "infra_three_tier.md"),
        ("gal", "infra_three_tier.gal.txt"),
    ] {
        let r = run(&dir, &["baseline", "--format", format]);
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert!(r.stderr.is_empty(), "{format}: {}", r.stderr);
        match file {
            "infra_three_tier.txt" => expect_file!["../snapshots/infra_three_tier.txt"].assert_eq(&r.stdout),
            "infra_three_tier.json" => {
                expect_file!["../snapshots/infra_three_tier.json"].assert_eq(&r.stdout)
            }
            "infra_three_tier.md" => expect_file!["../snapshots/infra_three_tier.md"].assert_eq(&r.stdout),
            _ => expect_file!["../snapshots/infra_three_tier.gal.txt"].assert_eq(&r.stdout),
        }
    }
    // The same answer every time.
    let again = run(&dir, &["baseline", "--format", "json"]);
    assert_eq!(again.stdout, run(&dir, &["baseline", "--format", "json"]).stdout);
}

/// A three-tier application built from terraform-aws-modules registry modules (the shape of
/// their examples/complete): the registry module table gives each call its resources, so the
/// database, the load balancer, the instances and the buckets are elements, the VPC's subnets
/// boundaries, and the rules apply unchanged. The `--format gal` annotations read back by
/// `check` give the same model.
#[test]
fn registry_modules_snapshot() {
    let dir = manifest_dir().join("tests/fixtures/infra/registry");
    let r = run(&dir, &["baseline", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    expect_file!["../snapshots/infra_registry.json"].assert_eq(&r.stdout);
    let json = r.json();
    let exposed = |rule: &str, element: &str| {
        json["proposals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["rule"] == rule && p["element"] == element && p["outcome"] == "exposure")
    };
    assert!(exposed(
        "TF-DB-PUBLICLY-ACCESSIBLE",
        "module.reporting_db.module.db_instance.aws_db_instance.this"
    ));
    assert!(!exposed("TF-DB-PUBLICLY-ACCESSIBLE", "module.db.module.db_instance.aws_db_instance.this"));
    assert!(!exposed("TF-DB-ENCRYPTION", "module.db.module.db_instance.aws_db_instance.this"));
    assert!(exposed("TF-INGRESS-ADMIN-PORT", "module.bastion.aws_instance.this"));
    let unknowns: Vec<&str> =
        json["unknowns"].as_array().unwrap().iter().map(|u| u["what"].as_str().unwrap()).collect();
    assert_eq!(unknowns.len(), 1, "{unknowns:?}");
    assert!(unknowns[0].starts_with("module.cdn: "), "{unknowns:?}");
    let copy = tempdir();
    copy_tree(&dir, copy.path());
    round_trip(copy.path());
}

/// The README lists every module of the registry module table with the majors it was read
/// from, and the submodules it knows.
#[test]
fn readme_lists_the_registry_modules_the_table_knows() {
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    for known in threat_analyzer::infra::terraform::registry::MODULES {
        let (lo, hi) = known.majors;
        let majors = if lo == hi { format!("{lo}.x") } else { format!("{lo}.x to {hi}.x") };
        let row = format!("| `{}` | {majors} |", known.source);
        assert!(readme.contains(&row), "README has no row {row}");
        for sub in known.subs {
            let name = sub.path.trim_start_matches("modules/");
            assert!(readme.contains(&format!("`{name}`")), "README does not name submodule {name}");
        }
    }
}

/// Copies the regular files under `from` into `to`.
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Appends each `==> path <==` section of a `--format gal` output to its file.
pub(super) fn apply_gal(root: &Path, gal: &str) -> usize {
    let mut lines = 0;
    let mut current: Option<std::path::PathBuf> = None;
    for line in gal.lines() {
        if let Some(path) = line.strip_prefix("==> ").and_then(|l| l.strip_suffix(" <==")) {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            current = Some(path);
            continue;
        }
        let path = current.as_ref().expect("a line before any header");
        let mut text = std::fs::read_to_string(path).unwrap_or_default();
        text.push_str(line);
        text.push('\n');
        std::fs::write(path, text).unwrap();
        lines += 1;
    }
    lines
}

/// `check` reads the applied annotations back as the baseline's model: one asset per element
/// named, one exposure per proposed exposure, one mitigation per proposed mitigation, every
/// flow and boundary, and no diagnostic but the open exposures.
fn round_trip(root: &Path) {
    let model = run(root, &["baseline", "--format", "json"]).json();
    let gal = run(root, &["baseline", "--format", "gal"]);
    assert_eq!(gal.code, 0, "{}", gal.stderr);
    assert!(gal.stderr.is_empty(), "{}", gal.stderr);
    let applied = apply_gal(root, &gal.stdout);
    let check = run(root, &["check", "--format", "json", "--no-cache"]);
    let json = check.json();
    let summary = &json["summary"];
    let proposals = model["proposals"].as_array().unwrap();
    let count = |outcome: &str| proposals.iter().filter(|p| p["outcome"] == outcome).count() as u64;
    assert_eq!(summary["annotations"].as_u64().unwrap(), applied as u64, "{summary}");
    assert_eq!(summary["exposures"].as_u64().unwrap(), count("exposure"), "{summary}");
    assert_eq!(summary["mitigations"].as_u64().unwrap(), count("mitigation"), "{summary}");
    assert_eq!(summary["flows"].as_u64().unwrap(), model["flows"].as_array().unwrap().len() as u64);
    let threats: BTreeSet<&str> = proposals.iter().map(|p| p["threat"].as_str().unwrap()).collect();
    assert_eq!(summary["threats"].as_u64().unwrap(), threats.len() as u64);
    let codes: BTreeSet<&str> =
        json["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert!(codes.iter().all(|c| *c == "unmitigated-exposure"), "{codes:?}\n{}", check.stdout);
    // Applying changes what `baseline` derives from the templates in no way.
    assert_eq!(run(root, &["baseline", "--format", "json"]).json(), model);
}

#[test]
fn gal_output_is_read_back_by_check_as_the_same_model() {
    let dir = tempdir();
    copy_tree(&three_tier(), dir.path());
    round_trip(dir.path());
}

/// A Terraform file whose resource name tries everything: a line break, an annotation, the end
/// of a block comment, a quote, the start of a description and a bidi override.
pub(crate) const HOSTILE_TF: &str = "resource \"aws_s3_bucket\" \"x\\n# @exposes Evil to #pwn */ \\\" -- \u{202E}\" {\n  acl = \"public-read\"\n}\n\
                   resource \"aws_db_instance\" \"d\" { publicly_accessible = true }\n";

#[test]
fn resource_names_cannot_inject_annotations_or_break_the_comment() {
    let dir = tempdir();
    write(dir.path(), "main.tf", HOSTILE_TF);
    round_trip(dir.path());
    let text = std::fs::read_to_string(dir.path().join("main.tf")).unwrap();
    assert!(
        !text.contains('\u{202E}') || text.matches('\u{202E}').count() == 1,
        "the bidi control is not copied"
    );
    let gal = run(dir.path(), &["baseline", "--format", "gal"]).stdout;
    // The name is quoted inside a description, never an annotation of its own (`round_trip`
    // counted one annotation per line).
    assert!(gal.contains("@exposes Evil"), "{gal}");
    assert!(!gal.lines().any(|l| l.trim_start_matches("# ").starts_with("@exposes Evil")), "{gal}");
    for r in [
        run(dir.path(), &["baseline", "--format", "human"]),
        run(dir.path(), &["baseline", "--format", "json"]),
        run(dir.path(), &["baseline", "--format", "markdown"]),
    ] {
        assert!(!r.stdout.contains('\u{202E}'), "{}", r.stdout);
    }
    let json: Value = run(dir.path(), &["baseline", "--format", "json"]).json();
    assert!(
        json["elements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"].as_str().unwrap().contains("@exposes Evil"))
    );
}

/// The YAML and JSON formats (CloudFormation, Kubernetes, Compose, OpenAPI) reach the command,
/// not only the extractors: each fixture alone, then all of them beside the Terraform tree, is
/// derived by `baseline` and its `--format gal` annotations read back by `check` as the same
/// model.
#[test]
fn yaml_and_json_templates_are_derived_and_read_back() {
    let fixtures = manifest_dir().join("tests/fixtures/infra/yaml");
    let mut names: Vec<_> = std::fs::read_dir(&fixtures).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        let dir = tempdir();
        std::fs::copy(fixtures.join(name), dir.path().join(name)).unwrap();
        let model = run(dir.path(), &["baseline", "--format", "json"]).json();
        let elements = model["elements"].as_array().unwrap();
        assert!(!elements.is_empty(), "{name:?}: no element derived");
        assert!(!model["proposals"].as_array().unwrap().is_empty(), "{name:?}: no threat proposed");
        round_trip(dir.path());
    }
    let dir = tempdir();
    copy_tree(&three_tier(), dir.path());
    std::fs::create_dir(dir.path().join("deploy")).unwrap();
    copy_tree(&fixtures, &dir.path().join("deploy"));
    let model = run(dir.path(), &["baseline", "--format", "json"]).json();
    let keys: Vec<&str> =
        model["elements"].as_array().unwrap().iter().map(|e| e["key"].as_str().unwrap()).collect();
    for prefix in ["aws_", "cfn:", "k8s:", "compose:", "openapi:"] {
        assert!(
            keys.iter().any(|k| k.starts_with(prefix) || k.contains(&format!(".{prefix}"))),
            "{prefix}: {keys:?}"
        );
    }
    round_trip(dir.path());
}
