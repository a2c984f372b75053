//! `unmodelled-resource` (issue 20): `check` notes the resources of the infrastructure code
//! that no annotation names, only when enabled (the configuration's `threat-analyzer: infra:`
//! block or `--severity`), at the resource's definition line.

use super::infra::{apply_gal, copy_tree, three_tier};
use crate::support;
use serde_json::Value;
use std::path::Path;
use support::*;

/// `(file:line, level)` of every `unmodelled-resource` finding of `check --format json`.
fn notes(dir: &Path, extra: &[&str]) -> Vec<(String, String)> {
    let mut args = vec!["check", "--format", "json", "--no-cache"];
    args.extend_from_slice(extra);
    let r = run(dir, &args);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let json: Value = r.json();
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "unmodelled-resource")
        .map(|d| {
            (
                format!("{}:{}", d["file"].as_str().unwrap(), d["line"]),
                d["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn places(notes: &[(String, String)]) -> Vec<&str> {
    notes.iter().map(|(at, _)| at.as_str()).collect()
}

const THREE_TIER: [&str; 4] =
    ["main.tf:31", "modules/db/main.tf:21", "modules/web/main.tf:41", "modules/web/main.tf:87"];

fn three_tier_copy() -> tempfile::TempDir {
    let dir = tempdir();
    copy_tree(&three_tier(), dir.path());
    dir
}

#[test]
fn off_by_default_and_on_by_severity_or_configuration() {
    let dir = three_tier_copy();
    assert_eq!(notes(dir.path(), &[]), Vec::<(String, String)>::new());
    let on = notes(dir.path(), &["--severity", "unmodelled-resource=note"]);
    assert_eq!(places(&on), THREE_TIER);
    assert!(on.iter().all(|(_, level)| level == "note"), "{on:?}");
    let r = run(dir.path(), &["check", "--no-cache", "--severity", "unmodelled-resource=note"]);
    assert!(
        r.stdout.contains("aws_db_instance `module.db.aws_db_instance.main` (data store)"),
        "the message names the type and the address: {}",
        r.stdout
    );
    // Notes fail the run only when asked.
    assert_eq!(r.code, 0, "{}", r.stderr);
    let failing = run(
        dir.path(),
        &["check", "--no-cache", "--severity", "unmodelled-resource=note", "--fail-on", "note"],
    );
    assert_eq!(failing.code, 1, "{}", failing.stdout);

    // The configuration enables it (at its level); `--severity` wins over it.
    write(dir.path(), "threatspec.yaml", "threat-analyzer:\n  infra:\n    unmodelled-resource: warning\n");
    let configured = notes(dir.path(), &[]);
    assert_eq!(places(&configured), THREE_TIER);
    assert!(configured.iter().all(|(_, level)| level == "warning"), "{configured:?}");
    assert_eq!(notes(dir.path(), &["--severity", "unmodelled-resource=off"]), Vec::<(String, String)>::new());
    let noted = notes(dir.path(), &["--severity", "unmodelled-resource=note"]);
    assert!(noted.iter().all(|(_, level)| level == "note"), "{noted:?}");
    std::fs::remove_file(dir.path().join("threatspec.yaml")).unwrap();
    write(
        dir.path(),
        ".guardlink/config.json",
        r#"{"project": "shop", "threat-analyzer": {"infra": {"unmodelled-resource": "note"}}}"#,
    );
    assert_eq!(places(&notes(dir.path(), &[])), THREE_TIER);
}

#[test]
fn yaml_templates_are_noted_at_their_definitions() {
    let dir = tempdir();
    copy_tree(&manifest_dir().join("tests/fixtures/infra/yaml"), dir.path());
    write(dir.path(), "threatspec.yaml", "threat-analyzer:\n  infra:\n    unmodelled-resource: note\n");
    let found = notes(dir.path(), &[]);
    let found = places(&found);
    for expected in [
        "compose.yaml:31",         // the `db:` service
        "shop.k8s.yaml:63",        // the StatefulSet document
        "three-tier.cfn.yaml:166", // the `Database:` resource
        "orders.openapi.yaml:19",  // `GET /orders`
    ] {
        assert!(found.contains(&expected), "{expected} not in {found:?}");
    }
    // Configuration resources (security groups, policies) are not drawn, so not noted.
    let r = run(dir.path(), &["check", "--no-cache"]);
    assert!(!r.stdout.contains("AWS::EC2::SecurityGroup"), "{}", r.stdout);
    // SARIF: the rule says it is off by default, and the results are there.
    let sarif = run(dir.path(), &["check", "--no-cache", "--format", "sarif"]).json();
    assert_valid_sarif(&sarif);
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = rules.iter().find(|r| r["id"] == "unmodelled-resource").unwrap();
    assert_eq!(rule["defaultConfiguration"]["enabled"], false);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.iter().filter(|r| r["ruleId"] == "unmodelled-resource").count(), found.len());
}

#[test]
fn a_resource_annotated_by_hand_is_not_noted() {
    let dir = three_tier_copy();
    let db = dir.path().join("modules/db/main.tf");
    let text = std::fs::read_to_string(&db).unwrap();
    // Any annotation in the comment lines right above the definition models it.
    let annotated = text.replace(
        "resource \"aws_db_instance\" \"main\" {",
        "# The orders database.\n# @asset Shop.Orders -- \"the orders\"\n# Postgres.\nresource \"aws_db_instance\" \"main\" {",
    );
    std::fs::write(&db, annotated).unwrap();
    // So does one inside the definition.
    let web = dir.path().join("modules/web/main.tf");
    let text = std::fs::read_to_string(&web).unwrap();
    let annotated = text.replace(
        "resource \"aws_lb\" \"web\" {",
        "resource \"aws_lb\" \"web\" {\n  # @asset Shop.Web -- \"the load balancer\"",
    );
    std::fs::write(&web, annotated).unwrap();
    // And the baseline's asset id, wherever it is defined.
    write(dir.path(), "model.gal", "@asset aws_s3_bucket_uploads -- \"uploads\"\n");
    // A blank line in between: the comment is not the resource's.
    let text = std::fs::read_to_string(&web).unwrap();
    let apart = text.replace(
        "resource \"aws_autoscaling_group\" \"app\" {",
        "# @asset Shop.Somewhere\n\nresource \"aws_autoscaling_group\" \"app\" {",
    );
    std::fs::write(&web, apart).unwrap();
    let found = notes(dir.path(), &["--severity", "unmodelled-resource=note"]);
    // Line 87, two lines down (one line added in `aws_lb`, two here).
    assert_eq!(places(&found), ["modules/web/main.tf:90"], "{found:?}");
}

#[test]
fn the_applied_baseline_leaves_nothing_unmodelled() {
    let dir = three_tier_copy();
    let gal = run(dir.path(), &["baseline", "--format", "gal"]);
    assert_eq!(gal.code, 0, "{}", gal.stderr);
    apply_gal(dir.path(), &gal.stdout);
    assert_eq!(
        notes(dir.path(), &["--severity", "unmodelled-resource=note"]),
        Vec::<(String, String)>::new()
    );
}

#[test]
fn configuration_mistakes_are_invalid_config() {
    let dir = three_tier_copy();
    for (config, line) in [
        // A misspelt key: reported at its line, and the check stays off.
        ("threat-analyzer:\n  infra:\n    unmodeled-resource: note\n", 3),
        ("threat-analyzer:\n  infra:\n    unmodelled-resource: loud\n", 3),
        ("threat-analyzer:\n  infra: note\n", 2),
        ("threat-analyzer:\n  infrastructure:\n    unmodelled-resource: note\n", 2),
    ] {
        write(dir.path(), "threatspec.yaml", config);
        let json = run(dir.path(), &["check", "--format", "json", "--no-cache"]).json();
        let diagnostics = json["diagnostics"].as_array().unwrap();
        let invalid: Vec<_> = diagnostics
            .iter()
            .filter(|d| d["code"] == "invalid-config")
            .map(|d| (d["file"].as_str().unwrap(), d["line"].as_u64().unwrap()))
            .collect();
        assert_eq!(invalid, [("threatspec.yaml", line)], "{config}: {diagnostics:#?}");
        assert!(!diagnostics.iter().any(|d| d["code"] == "unmodelled-resource"), "{config}");
    }
}
