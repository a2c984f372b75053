//! Project-wide resource limits, with small limits so the tests stay fast: the walk stops
//! before the file that takes the project past them, always the same files, and says so; and
//! diagrams over the size limit are refused (CLI, language server) or left out of reports.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/lsp.rs"]
mod lsp_support;

use serde_json::{Value, json};
use std::path::PathBuf;
use threat_analyzer::limits::MAX_DIAGRAM_NODES;
use threat_analyzer::walk::{self, ProjectLimits, SkipReason, WalkOptions};

fn project(files: usize, annotations_each: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in 0..files {
        let text: String = (0..annotations_each).map(|i| format!("@asset F{f}.A{i}\n")).collect();
        std::fs::write(dir.path().join(format!("f{f:02}.gal")), text).unwrap();
    }
    dir
}

fn scan(dir: &tempfile::TempDir, limits: ProjectLimits) -> walk::Scan {
    let options = WalkOptions { limits, ..WalkOptions::default() };
    walk::scan_from(dir.path(), &[PathBuf::from(".")], &options).unwrap()
}

fn cut(scan: &walk::Scan) -> Vec<String> {
    scan.skipped
        .iter()
        .filter(|(_, r)| *r == SkipReason::ProjectLimit)
        .map(|(p, _)| p.display().to_string())
        .collect()
}

#[test]
fn the_walk_stops_before_the_file_that_crosses_the_annotation_limit() {
    let dir = project(30, 5);
    let limits = ProjectLimits { annotations: 52, ..ProjectLimits::default() };
    for _ in 0..3 {
        let scan = scan(&dir, limits);
        let read: usize = scan.index.files().map(|f| f.annotations().len()).sum();
        assert_eq!(read, 50, "ten whole files");
        assert_eq!(scan.files_scanned, 10);
        let expected: Vec<String> = (10..30).map(|f| format!("f{f:02}.gal")).collect();
        assert_eq!(cut(&scan), expected, "the same files, in path order, on every run");
    }
    assert!(cut(&scan(&dir, ProjectLimits::default())).is_empty());
}

/// Enough files for several of the walk's chunks (each merged while the next is read), with
/// the index cache on: the cut is the same with and without the cache, and a warm scan
/// decodes every file's own facts (each newly parsed file's entry encoded from its facts).
#[test]
fn the_cut_and_the_cache_hold_across_chunks() {
    let dir = tempfile::tempdir().unwrap();
    for f in 0..1200 {
        std::fs::write(dir.path().join(format!("f{f:04}.gal")), format!("@asset F{f}.A{}\n", f * 7)).unwrap();
    }
    let cache = tempfile::tempdir().unwrap();
    let limits = ProjectLimits { annotations: 700, ..ProjectLimits::default() };
    let options = |cache_dir: Option<PathBuf>| WalkOptions { limits, cache_dir, ..WalkOptions::default() };
    let names = |scan: &walk::Scan| -> Vec<(String, String)> {
        scan.index
            .files()
            .flat_map(|f| f.defs.iter().map(|d| (f.path.as_str().to_string(), d.entity.key.to_string())))
            .collect()
    };
    let expected_cut: Vec<String> = (700..1200).map(|f| format!("f{f:04}.gal")).collect();
    let expected_names: Vec<(String, String)> =
        (0..700).map(|f| (format!("f{f:04}.gal"), format!("f{f}.a{}", f * 7))).collect();
    let mut reused = Vec::new();
    for cache_dir in [None, Some(cache.path().to_path_buf()), Some(cache.path().to_path_buf())] {
        let mut scan = walk::scan_from(dir.path(), &[PathBuf::from(".")], &options(cache_dir)).unwrap();
        assert_eq!(cut(&scan), expected_cut);
        assert_eq!(names(&scan), expected_names);
        if let Some(saved) = scan.finish_cache() {
            saved.unwrap();
        }
        reused.push(scan.cache.as_ref().map(|c| c.reused));
    }
    assert_eq!(reused[..2], [None, Some(0)]);
    // Every file read before the cut (and those read while it was reached) from the cache.
    assert!(reused[2].is_some_and(|n| (700..=1200).contains(&n)), "{reused:?}");
}

#[test]
fn the_walk_stops_at_the_text_limit() {
    let dir = project(4, 100);
    let size = std::fs::metadata(dir.path().join("f00.gal")).unwrap().len();
    let limits = ProjectLimits { text: 2 * size + 1, ..ProjectLimits::default() };
    let scan = scan(&dir, limits);
    assert_eq!(scan.index.files().count(), 2);
    assert_eq!(cut(&scan), ["f02.gal", "f03.gal"]);
    assert_eq!(SkipReason::ProjectLimit.to_string(), "not read: the project reached its size limit");
}

/// A project whose diagram has one element more than the limit: a chain of flows.
fn big_diagram() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let flows: String =
        (0..MAX_DIAGRAM_NODES).map(|i| format!("@flows Big.N{i} -> Big.N{}\n", i + 1)).collect();
    std::fs::write(dir.path().join("flows.gal"), flows).unwrap();
    dir
}

#[test]
fn diagrams_over_the_limit_are_refused_by_dfd_and_left_out_of_reports() {
    let dir = big_diagram();
    let d = dir.path();
    for format in ["mermaid", "dot", "svg"] {
        let r = cli::run(d, &["dfd", "--format", format]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stdout.is_empty());
        assert!(
            r.stderr.contains(&format!(
                "the diagram has {} elements and {} flows",
                MAX_DIAGRAM_NODES + 1,
                MAX_DIAGRAM_NODES
            )) && r.stderr.contains("--scope"),
            "{r:?}"
        );
    }
    // A scope draws a part.
    let r = cli::run(d, &["dfd", "--scope", "component:Big.N7"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("N7"), "{r:?}");
    for (format, file) in [("markdown", "report.md"), ("html", "report.html")] {
        let r = cli::run(d, &["report", "--format", format]);
        assert_eq!(r.code, 0, "{r:?}");
        let text = std::fs::read_to_string(d.join(".threatmodel").join(file)).unwrap();
        assert!(text.contains("Not drawn: the diagram has 2001 elements"), "{format}");
        // (The HTML report's risk matrix is an SVG of its own: the diagram's figure is `dfd`.)
        let drawn = text.contains("```mermaid") || text.contains("<figure class=\"dfd\">");
        assert!(!drawn, "{format}: a diagram was drawn");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_server_refuses_diagrams_over_the_limit() {
    let dir = big_diagram();
    let (mut client, _) = lsp_support::TestClient::start(dir.path(), json!({}), Value::Null).await;
    client
        .wait_for(|m| {
            m["method"] == "window/logMessage"
                && m["params"]["message"].as_str().is_some_and(|t| t.contains("threat-analyzer: indexed"))
        })
        .await;
    for command in ["threat-analyzer.dfd", "threat-analyzer.showDfd"] {
        let response = client
            .request_raw(
                "workspace/executeCommand",
                json!({"command": command, "arguments": [{"format": "svg"}]}),
            )
            .await;
        let message = response["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("the diagram has 2001 elements"), "{command}: {response}");
    }
    let part = client
        .request(
            "workspace/executeCommand",
            json!({"command": "threat-analyzer.dfd", "arguments": [{"scope": {"component": "Big.N7"}}]}),
        )
        .await;
    assert!(part["text"].as_str().unwrap().contains("N7"), "{part}");
}
