//! Risk in the editor (issue 19 §3) through the protocol: hover on an exposure and on a threat
//! shows the register's rating, band and treatment; an inlay hint after an exposure shows its
//! band; a code lens on an asset counts its risks by band. The workspace folder's own risk
//! policy (here a critical band from 16, not 20) decides the bands.
use crate::lsp_support;
use lsp_support::*;
use serde_json::{Value, json};
use std::fs;

const MODEL: &str = "\
# @asset Shop.Api (#api)
# @asset Shop.Db (#db)
# @asset Shop.Cache (#cache)
# @threat SQL Injection (#sqli) [high] risk:L3xI4 owner:team_db
# @threat XSS (#xss) [medium]
# @threat IDOR (#idor) risk:L4xI4 audited:2026-11-01
# @threat Noise (#noise)
";

const API: &str = "\
# @exposes #api to #sqli risk:L4xI5 due:2026-12-01
# @exposes #api to #xss
# @exposes #api to #idor
# @exposes #db to #sqli
# @exposes #cache to #noise
";

const CONFIG: &str = r#"{"threat-analyzer": {"risk": {"bands": {"critical": 16}}}}"#;

async fn setup() -> (tempfile::TempDir, TestClient, String, String) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("model.py"), MODEL).unwrap();
    fs::write(dir.path().join("api.py"), API).unwrap();
    fs::create_dir(dir.path().join(".guardlink")).unwrap();
    fs::write(dir.path().join(".guardlink/config.json"), CONFIG).unwrap();
    let (mut client, _) = TestClient::start(dir.path(), json!({}), Value::Null).await;
    let model = file_uri(&dir.path().join("model.py"));
    let api = file_uri(&dir.path().join("api.py"));
    client.diagnostics_for(&api, |d| !d.is_empty()).await;
    (dir, client, model, api)
}

async fn hover(client: &mut TestClient, uri: &str, line: u32, character: u32) -> String {
    let params = json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
    let hover = client.request("textDocument/hover", params).await;
    hover["contents"]["value"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_shows_the_rating_band_and_treatment_of_an_exposure_and_a_threats_risks() {
    let (_dir, mut client, model, api) = setup().await;
    // On the `@exposes` verb: the exposure's own risk alone (own rating and due date, the
    // threat's owner, escaped).
    let md = hover(&mut client, &api, 0, 4).await;
    assert_eq!(
        md,
        "**risk** of this exposure: likelihood 4 × impact 5 = score 20, **critical** · owner team\\_db · \
         due 2026-12-01 · **open**"
    );
    // On the threat of a rated exposure: the entity's hover, then this exposure's risk (the
    // threat's rating, 16: critical by this folder's bands; due by the critical SLA), then
    // the threat's risks.
    let md = hover(&mut client, &api, 2, 22).await;
    assert!(md.starts_with("**threat** IDOR `#idor`"), "{md}");
    assert!(
        md.contains(
            "**risk** of this exposure: likelihood 4 × impact 4 = score 16, **critical** · no owner · \
             due 2026-11-02 (audited 2026-11-01 + 1-day SLA) · **open**"
        ),
        "{md}"
    );
    assert!(md.contains("**risks** (1): 1 critical"), "{md}");
    // A severity without a rating: the band is said to come from it, no score invented.
    let md = hover(&mut client, &api, 1, 20).await;
    assert!(md.contains("**medium** (severity-derived, no score)"), "{md}");
    // On the threat's definition: its risks, highest first, with their places.
    let md = hover(&mut client, &model, 3, 27).await;
    assert!(md.contains("**risks** (2): 1 critical, 1 high"), "{md}");
    let first = md.find("- on `#api`: likelihood 4 × impact 5").expect(&md);
    let second = md.find("- on `#db`: likelihood 3 × impact 4 = score 12, **high**").expect(&md);
    assert!(first < second, "{md}");
    assert!(md.contains("at api.py:4"), "{md}");
    // Neither rating nor severity: not rated.
    let md = hover(&mut client, &api, 4, 4).await;
    assert!(md.contains("not rated"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inlay_hints_show_each_exposures_band_after_its_coverage() {
    let (_dir, mut client, _, api) = setup().await;
    let range = json!({"start": {"line": 0, "character": 0}, "end": {"line": 5, "character": 0}});
    let hints =
        client.request("textDocument/inlayHint", json!({"textDocument": {"uri": api}, "range": range})).await;
    let shown: Vec<(u64, &str)> = hints
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["position"]["line"].as_u64().unwrap(), h["label"].as_str().unwrap()))
        .collect();
    assert_eq!(
        shown,
        [
            (0, "unmitigated"),
            (0, "risk critical (20)"),
            (1, "unmitigated"),
            (1, "risk medium (severity-derived)"),
            (2, "unmitigated"),
            (2, "risk critical (16)"),
            (3, "unmitigated"),
            (3, "risk high (12)"),
            // No rating and no severity: no band hint.
            (4, "unmitigated"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_lenses_count_an_assets_risks_by_band() {
    let (_dir, mut client, model, _) = setup().await;
    let titles = |lenses: &Value| -> Vec<(u64, String)> {
        lenses
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["range"]["start"]["line"].as_u64().unwrap(),
                    l["command"]["title"].as_str().unwrap().into(),
                )
            })
            .filter(|(_, t): &(u64, String)| t.contains("risk"))
            .collect()
    };
    let lenses = client.request("textDocument/codeLens", json!({"textDocument": {"uri": model}})).await;
    assert_eq!(
        titles(&lenses),
        [
            (0, "3 risks: 2 critical, 1 medium".to_string()),
            (1, "1 risk: 1 high".to_string()),
            (2, "1 risk: 1 unrated".to_string()),
        ],
        "{lenses}"
    );
}

/// Issue 19: the risk findings `check` reports (the folder's policy, today's date) are the
/// language server's diagnostics too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_findings_are_diagnostics_as_check_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".guardlink")).unwrap();
    fs::write(
        dir.path().join(".guardlink/config.json"),
        r#"{"threat-analyzer": {"risk": {"owner-required-from": "high"}}}"#,
    )
    .unwrap();
    fs::write(
        dir.path().join("model.py"),
        "# @asset Shop.Api (#api)\n# @threat SQLi (#sqli) [high]\n# @threat XSS (#xss) risk:L2xI3\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("api.py"),
        "# @exposes #api to #sqli\n# @exposes #api to #xss due:2001-01-01\n",
    )
    .unwrap();
    let (mut client, _) = TestClient::start(dir.path(), json!({}), Value::Null).await;
    let api = file_uri(&dir.path().join("api.py"));
    let diags = client.diagnostics_for(&api, |d| codes(d).iter().any(|c| c.ends_with("-risk"))).await;
    let found: Vec<(String, u64)> = diags
        .iter()
        .map(|d| (d["code"].as_str().unwrap().to_string(), d["range"]["start"]["line"].as_u64().unwrap()))
        .collect();
    assert!(found.contains(&("unowned-risk".to_string(), 0)), "{found:?}");
    assert!(found.contains(&("overdue-risk".to_string(), 1)), "{found:?}");
}
