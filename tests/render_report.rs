//! The Markdown report (`render::report_md`) and the `report` command: the webshop snapshot,
//! hostile annotation text, determinism, default and `-o` locations.

use expect_test::expect_file;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use threat_analyzer::analysis::Analysis;
use threat_analyzer::file_id::FileId;
use threat_analyzer::model::{FileFacts, ProjectIndex};
use threat_analyzer::render::report_md;
use threat_analyzer::syntax::Language;
use threat_analyzer::walk::{WalkOptions, scan_from};

const BIN: &str = env!("CARGO_BIN_EXE_threat-analyzer");

fn report_of(index: &ProjectIndex, files_scanned: usize, label: &str) -> String {
    let analysis = Analysis::new(index);
    let diagnostics = analysis.diagnostics(index);
    let summary = analysis.summary(index, &diagnostics, files_scanned);
    report_md::render(index, &analysis, &diagnostics, &summary, label)
}

fn webshop() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/webshop");
    let scan = scan_from(&dir, std::slice::from_ref(&dir), &WalkOptions::default()).expect("webshop scans");
    report_of(&scan.index, scan.files_scanned, "webshop")
}

fn index_of(files: &[(&str, &str)]) -> ProjectIndex {
    let mut index = ProjectIndex::new();
    for (path, text) in files {
        let facts = FileFacts::new(FileId::relative(*path), Language::Python, Arc::from(*text));
        index.set_file(Arc::new(facts));
    }
    index
}

#[test]
fn webshop_snapshot() {
    expect_file!["snapshots/webshop_report.md"].assert_eq(&webshop());
}

#[test]
fn webshop_report_is_deterministic_and_ordered() {
    let a = webshop();
    assert_eq!(a, webshop());
    // Open exposures come before every other section.
    let open = a.find("## Open exposures").unwrap();
    assert!(open < a.find("## Mitigations").unwrap());
    assert!(a.contains("[api/orders.py:49](api/orders.py#L49)"), "link format");
    assert!(a.contains("```mermaid\nflowchart LR\n"));
}

/// Issue 14 §6: the diagram comes right after the summary and the open exposures, before
/// the long tables (it used to come last, after STRIDE per element).
#[test]
fn the_diagram_follows_the_open_exposures() {
    let md = webshop();
    let at = |heading: &str| md.find(&format!("\n## {heading}\n")).unwrap_or_else(|| panic!("{heading}"));
    assert!(at("Summary") < at("Open exposures and confirmed findings"));
    assert!(at("Open exposures and confirmed findings") < at("Data-flow diagram"));
    assert!(at("Data-flow diagram") < at("Mitigations"));
    assert!(at("Data-flow diagram") < at("STRIDE per element"));
}

/// Issue 14 §6: an asset nobody declares is named in the tables as the diagram labels it (the
/// first spelling, `Client`), not by its normalised key (`client`).
#[test]
fn tables_name_entities_as_the_diagram_does() {
    let text = "# @threat XSS (#xss)\n\
                # @flows Client -> Shop.Api via HTTPS\n\
                # @exposes client to #xss\n";
    let md = report_of(&index_of(&[("app.py", text)]), 1, "shop");
    let mermaid = &md[md.find("```mermaid").unwrap()..];
    assert!(mermaid.contains("Client"), "{mermaid}");
    // The open exposure, the risk register, the flow, STRIDE per element and the unanalysed
    // library threats name it as the picture does.
    assert_eq!(md.matches("| Client |").count(), 5, "{md}");
    assert!(!md.contains("| client |"), "{md}");
}

/// Every table row has as many `|` as its header (no cell text splits a cell).
fn assert_tables_well_formed(md: &str) {
    let mut header: Option<usize> = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = line.matches('|').count();
            match header {
                None => header = Some(n),
                Some(h) => assert_eq!(n, h, "row breaks its table: {line}"),
            }
        } else {
            header = None;
        }
    }
}

#[test]
fn hostile_names_are_escaped() {
    let text = "# @asset <img src=x onerror=alert(1)> (#evil) -- \"owned by `rm -rf` ](javascript:alert(1))\"\n\
                # @threat a|b (#pipe) -- \"x | y\"\n\
                # @exposes #evil to #pipe -- \"use `x` ](javascript:alert(1)) <script>alert(1)</script> \\\\ *b* _i_\"\n\
                # @flows #evil -> Shop.Db via <b>HTTPS|TLS</b>\n\
                # @accepts #pipe on Other -- \"[click](javascript:alert(1))\"\n\
                # @owns <svg/onload=alert(1)> for #evil\n\
                # @handles a|b|c on #evil\n";
    let index = index_of(&[("api/x y.py", text)]);
    let md = report_of(&index, 1, "<b>hostile</b>");
    assert!(!md.contains("<img"), "{md}");
    assert!(!md.contains("<script"), "{md}");
    assert!(!md.contains("<svg"), "{md}");
    assert!(!md.contains("<b>"), "{md}");
    assert!(!md.contains("](javascript:"), "{md}");
    assert!(md.contains("&lt;img src=x onerror=alert\\(1\\)&gt;"), "{md}");
    assert!(md.contains("a&#124;b"), "{md}");
    assert!(md.contains("[api/x y.py:3](api/x%20y.py#L3)"), "{md}");
    assert_tables_well_formed(&md);
    // Outside the mermaid block, no raw `<` at all.
    let outside: String = md.split("```").step_by(2).collect();
    assert!(!outside.contains('<'), "{outside}");
    assert_eq!(md, report_of(&index, 1, "<b>hostile</b>"));
}

#[test]
fn webshop_tables_are_well_formed() {
    assert_tables_well_formed(&webshop());
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("api")).unwrap();
    std::fs::write(
        dir.path().join("api/app.py"),
        "# @threat SQL Injection (#sqli) [high] cwe:CWE-89\n\
         # @flows Customer -> App.Api via HTTPS\n\
         # @exposes App.Api to #sqli -- \"raw query\"\n",
    )
    .unwrap();
    dir
}

fn run(cwd: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN).args(args).current_dir(cwd).output().expect("binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn cli_writes_default_and_output_file() {
    let dir = project();
    let (code, stderr) = run(dir.path(), &["report", "--format", "markdown"]);
    assert_eq!(code, 0, "{stderr}");
    let md = std::fs::read_to_string(dir.path().join(".threatmodel/report.md")).unwrap();
    assert!(md.contains("SQL Injection"), "{md}");
    // Links work from the report's directory.
    assert!(md.contains("[api/app.py:3](../api/app.py#L3)"), "{md}");
    // Same model, same bytes; the report is not read back as source.
    let (code, _) = run(dir.path(), &["report"]);
    assert_eq!(code, 0);
    assert_eq!(md, std::fs::read_to_string(dir.path().join(".threatmodel/report.md")).unwrap());

    let (code, stderr) = run(dir.path(), &["report", ".", "-o", "out/r.md"]);
    assert_eq!(code, 0, "{stderr}");
    let other = std::fs::read_to_string(dir.path().join("out/r.md")).unwrap();
    assert!(other.contains("](../api/app.py#L3)"), "{other}");

    let (code, _) = run(dir.path(), &["report", "--format", "pdf"]);
    assert_eq!(code, 2);
}

/// Issue 14 §6: the title is the configured project name (`threatspec.yaml` first, then
/// `.guardlink/config.json`), else the directory's name.
#[test]
fn report_title_is_the_configured_project_name() {
    let dir = project();
    let title = |dir: &Path| {
        let (code, stderr) = run(dir, &["report", "--format", "markdown"]);
        assert_eq!(code, 0, "{stderr}");
        let md = std::fs::read_to_string(dir.join(".threatmodel/report.md")).unwrap();
        md.lines().next().unwrap().to_string()
    };
    let dir_name = dir.path().file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(title(dir.path()), format!("# Threat model report: {dir_name}"));
    std::fs::create_dir_all(dir.path().join(".guardlink")).unwrap();
    std::fs::write(dir.path().join(".guardlink/config.json"), r#"{"project": "Guarded Shop"}"#).unwrap();
    assert_eq!(title(dir.path()), "# Threat model report: Guarded Shop");
    std::fs::write(dir.path().join("threatspec.yaml"), "project:\n  name: Web Shop\npaths:\n  - api\n")
        .unwrap();
    assert_eq!(title(dir.path()), "# Threat model report: Web Shop");
}

#[test]
fn open_exposures_show_their_own_severity_in_the_authors_word() {
    // Issue 14 §2: a `[low]` exposure of a critical threat is Low; `[P1]` is High, shown as P1.
    let text = "# @threat SQL Injection (#sqli) [critical]\n\
                # @exposes App.Admin to #sqli [low]\n\
                # @exposes App.Search to #sqli\n\
                # @exposes App.Audit to #sqli [P1]\n";
    let md = report_of(&index_of(&[("app.py", text)]), 1, "severity");
    // The open-exposures row of the annotation on `line` (its Where cell links it).
    let row = |line: u32| {
        let link = format!("| [app.py:{line}](app.py#L{line}) |");
        md.lines()
            .find(|l| l.contains(&link) && !l.contains("unmitigated-exposure"))
            .unwrap_or_else(|| panic!("no row for line {line}: {md}"))
            .to_string()
    };
    // With no likelihood and impact, the register's band is the severity's.
    assert!(row(2).starts_with("| low (severity) |"), "{}", row(2));
    assert!(row(3).starts_with("| critical (severity) |"), "{}", row(3));
    assert!(row(4).starts_with("| high (severity P1) |"), "{}", row(4));
}

#[test]
fn open_exposures_show_the_registers_band_where_a_rating_is_written() {
    // Issue 19: a rated exposure's row agrees with the register (its band and score), whatever
    // severity is written; one with neither has no band, not "TBD".
    let text = "# @threat SQL Injection (#sqli) [critical]\n\
                # @threat Noise (#noise)\n\
                # @exposes App.Admin to #sqli [low] risk:L5xI5\n\
                # @exposes App.Search to #sqli risk:L1xI2\n\
                # @exposes App.Audit to #noise\n";
    let md = report_of(&index_of(&[("app.py", text)]), 1, "rated");
    let row = |line: u32| {
        let link = format!("| [app.py:{line}](app.py#L{line}) |");
        md.lines()
            .find(|l| l.contains(&link) && !l.contains("unmitigated-exposure") && !l.contains("| R"))
            .unwrap_or_else(|| panic!("no row for line {line}: {md}"))
            .to_string()
    };
    assert!(row(3).starts_with("| critical (25) |"), "{}", row(3));
    assert!(row(4).starts_with("| low (2) |"), "{}", row(4));
    assert!(row(5).starts_with("| – |"), "{}", row(5));
    assert!(!md.contains("TBD"), "{md}");
    // Highest risk first.
    let at = |line: u32| md.find(&row(line)).unwrap();
    assert!(at(3) < at(4) && at(4) < at(5), "{md}");
}

#[test]
fn stride_per_element_lists_unclassified_threats_and_no_flow_rows() {
    // Issue 14 §4: no default category (SSRF is S and I, not T); a threat with no evidence is
    // named as unclassified on its element; flows, which cannot carry threats, get no rows.
    let text = "# @threat SSRF (#ssrf) cwe:CWE-918\n# @threat Odd Thing (#odd)\n\
                # @exposes Shop.Api to #ssrf\n# @exposes Shop.Api to #odd\n\
                # @flows Shop.Web -> Shop.Api via HTTPS\n";
    let md = report_of(&index_of(&[("app.py", text)]), 1, "stride");
    let section = &md[md.find("## STRIDE per element").unwrap()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    assert!(section.contains("| Unclassified threats |"), "{section}");
    let api = section.lines().find(|l| l.starts_with("| Shop.Api |")).unwrap_or_else(|| panic!("{section}"));
    assert_eq!(
        api,
        "| Shop.Api | process | ✓ recorded | ✗ none | ✗ none | ✓ recorded | ✗ none | ✗ none | Odd Thing |"
    );
    assert!(!section.contains("data flow"), "{section}");
    assert!(!section.contains("Shop.Web → Shop.Api"), "{section}");
}

const RISKS: &str = "\
# @asset Shop.Api (#api)
# @threat Injection <b>x</b> | y (#inj) risk:L3xI4 cwe:CWE-89
# @threat Leak (#leak) [P1]
# @owns team-a for Shop
# @exposes #api to #inj risk:L4xI5 due:2026-12-31
# @exposes #api to #inj
# @exposes #api to #leak
# @exposes #api to #inj risk:L1xI1
# @mitigates #api against #leak
";

/// Issue 19 §3: the register sorted by band and score, the matrix with a count, band and
/// score in every cell, untrusted names escaped in both writers.
#[test]
fn risk_register_and_matrix() {
    let index = index_of(&[("app.py", RISKS)]);
    let md = report_of(&index, 1, "risks");
    let section = |name: &str| {
        let start = md.find(&format!("\n## {name}\n")).unwrap_or_else(|| panic!("{name}"));
        let rest = &md[start + 1..];
        rest[..rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3)].to_string()
    };
    let register = section("Risk register");
    let rows: Vec<&str> = register.lines().filter(|l| l.starts_with("| R")).collect();
    assert_eq!(rows.len(), 4, "{register}");
    assert!(rows[0].starts_with("| R1 | Injection &lt;b&gt;x&lt;/b&gt; &#124; y | Shop.Api | T I | 4 | 5 | 20 | critical | open | team-a | 2026-12-31 |"), "{}", rows[0]);
    assert!(rows[1].starts_with("| R2 | Injection"), "{}", rows[1]);
    assert!(rows[1].contains("| 3 | 4 | 12 | high | open |"), "the threat's rating: {}", rows[1]);
    assert!(
        rows[2].contains("| Leak | Shop.Api | – | – | – | – | high (severity) | mitigated |"),
        "{}",
        rows[2]
    );
    assert!(rows[3].contains("| 1 | 1 | 1 | info | open |"), "{}", rows[3]);
    let matrix = section("Risk matrix");
    assert!(
        matrix.contains(
            "| **L4** | 0 · low (4) | 0 · medium (8) | 0 · high (12) | 0 · high (16) | 1 · critical (20) |"
        ),
        "{matrix}"
    );
    assert!(
        matrix.contains("| **L3** | 0 · low (3) | 0 · medium (6) | 0 · medium (9) | 1 · high (12) |"),
        "{matrix}"
    );
    assert!(matrix.contains("| **L1** | 1 · info (1) |"), "{matrix}");
    assert!(matrix.contains("3 rated risks") && matrix.contains("1 risk with a severity only"), "{matrix}");
    // The register comes right after the open exposures, the matrix after it.
    assert!(md.find("## Open exposures").unwrap() < md.find("## Risk register").unwrap());
    assert!(md.find("## Risk register").unwrap() < md.find("## Risk matrix").unwrap());

    let analysis = Analysis::new(&index);
    let diagnostics = analysis.diagnostics(&index);
    let summary = analysis.summary(&index, &diagnostics, 1);
    let html =
        threat_analyzer::render::report_html::render(&index, &analysis, &diagnostics, &summary, "risks");
    assert!(!html.contains("<b>x</b>"), "escaped in the HTML register");
    assert!(html.contains("Injection &lt;b&gt;x&lt;/b&gt; | y"));
    let svg_start = html.find("<figure class=\"risk-matrix\"><svg").expect("the matrix is an inline SVG");
    let svg = &html[svg_start..svg_start + html[svg_start..].find("</svg>").unwrap()];
    assert!(svg.contains("<title>Likelihood 4, impact 5: 1 risk, critical (score 20)</title>"), "{svg}");
    assert!(svg.contains(">critical · 20</text>"), "band names in the cells: {svg}");
    assert_eq!(svg.matches("<rect ").count(), 25);
}
