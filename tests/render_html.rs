//! The HTML report (`render::report_html`) and `report --format html`: the webshop snapshot,
//! the page's structure (CSP with the right style hash, nothing that loads or runs, every
//! diagram element and table present), hostile annotation text, the CLI's default location.
//! Rendering in a real browser is tests/render_html_chromium.rs.

#[path = "support/html.rs"]
mod html_support;
use expect_test::expect_file;
use html_support::*;
use std::process::Command;
use threat_analyzer::analysis::Analysis;
use threat_analyzer::render::{dfd, report_html};

const BIN: &str = env!("CARGO_BIN_EXE_threat-analyzer");

#[test]
fn webshop_snapshot() {
    expect_file!["snapshots/webshop_report.html"].assert_eq(&webshop());
}

#[test]
fn webshop_page_is_inert_and_complete() {
    let html = webshop();
    assert_eq!(html, webshop(), "same model, same bytes");
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"), "{}", &html[..60]);
    assert_page_is_inert(&html);
    // The CSP has nothing but what it needs.
    let csp = csp_of(&html);
    let names: Vec<&str> = csp.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["default-src", "style-src", "base-uri", "form-action"], "{csp:?}");
    assert_eq!(element_texts(&html, "style").len(), 1 + element_texts(&svg_of(&html), "style").len());
    // Every element of the diagram is named, in the STRIDE table and in the SVG.
    let (index, _) = webshop_index();
    let analysis = Analysis::new(&index);
    let diagram = dfd::build(&index, &analysis, &dfd::Scope::Project);
    assert!(diagram.nodes.len() >= 10);
    let svg = svg_of(&html);
    let unbroken = html.replace("<wbr>", "");
    for node in &diagram.nodes {
        let label = report_html::escape(&node.label);
        assert!(unbroken.matches(&label).count() >= 2, "{} not in the page", node.label);
        assert!(svg.contains(&label) || svg.contains(&node.label), "{} not in the SVG", node.label);
    }
    // The sections, in the Markdown report's order, as tables where there are rows.
    let order = [
        "Summary",
        "Open exposures and confirmed findings",
        "Data-flow diagram",
        "Mitigations",
        "Acceptances",
        "Transfers",
        "Data flows",
        "Trust boundaries",
        "Assumptions",
        "Audits and reviews",
        "Ownership",
        "Data handling",
        "STRIDE per element",
        "Diagnostics",
    ];
    let positions: Vec<usize> =
        order.iter().map(|t| html.find(&format!("<h2>{t}")).unwrap_or_else(|| panic!("no {t}"))).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(html.matches("<table").count() >= 10, "tables");
    assert!(html.contains("<th scope=\"col\">Risk</th>"));
    // The band in words (the register's), the author's severity word kept, locations as text
    // and relative links.
    assert!(
        html.contains("<span class=\"flag bad\">high</span> (severity P1)"),
        "band as text, the author's word kept"
    );
    assert!(html.contains("<a href=\"../api/orders.py\">api/orders.py:49</a>"), "location link");
    assert!(html.contains("<dt>Files scanned</dt><dd>15</dd>"), "summary counts");
    assert!(html.contains("@media print"), "print stylesheet");
}

/// The SVG part of a page.
fn svg_of(html: &str) -> String {
    let start = html.find("<svg").expect("inline SVG");
    let end = html.rfind("</svg>").expect("SVG closes") + 6;
    html[start..end].to_string()
}

#[test]
fn hostile_text_stays_text() {
    let html = hostile();
    assert_page_is_inert(&html);
    assert_eq!(html, hostile());
    let (_, text) = tokenize(&html);
    for (i, payload) in PAYLOADS.iter().chain(ODDITIES).enumerate() {
        // Every payload made it into the page whole, escaped, as a component's name.
        let name = format!("Evil{i} {}", report_html::escape(payload));
        assert!(text.contains(&name), "{payload:?} missing as text");
    }
    for raw in ["<script", "<img", "<iframe", "<svg/", "<b id", "</title><script", "</style><script"] {
        // Only the report's own `<svg` element and nothing of the payloads appears as markup.
        let at = html.find(raw).map(|i| &html[i.saturating_sub(200)..(i + 200).min(html.len())]);
        assert!(at.is_none(), "raw {raw} in the page: {at:?}");
    }
    // The hostile project name is the page's title, as text.
    let title = &element_texts(&html, "title")[0];
    assert!(title.starts_with("Threat model report: &lt;/title&gt;&lt;script&gt;"), "{title}");
    // The hostile file names are shown as text and linked only percent-encoded.
    assert!(text.contains("api/&lt;img src=x onerror=document.title=&#39;PWNED&#39;&gt;.py:"), "path text");
    assert!(html.contains("href=\"../api/%3Cimg%20src%3Dx"), "encoded href");
    assert!(!html.contains("href=\"javascript") && !html.contains("href=\"../javascript:"), "no scheme");
    // Markdown's escapes do not leak into HTML.
    assert!(text.contains("pipe | bar [x] (y)"), "plain text, not Markdown escapes");
}

#[test]
fn hand_built_diagram_with_hostile_labels_renders_inert() {
    let mut diagram = dfd::Dfd::default();
    for (i, label) in PAYLOADS.iter().chain(ODDITIES).enumerate() {
        diagram.nodes.push(dfd::Node {
            id: format!("n_{i:02}"),
            key: format!("k{i}"),
            label: label.to_string(),
            kind: [dfd::ElementKind::Actor, dfd::ElementKind::Process, dfd::ElementKind::DataStore][i % 3],
            boundary: None,
            status: dfd::ThreatStatus { open: i % 2, ..Default::default() },
            ..Default::default()
        });
        diagram.edges.push(dfd::Edge {
            from: format!("n_{i:02}"),
            to: "n_00".into(),
            label: Some(label.to_string()),
            two_way: false,
            proposed: false,
        });
    }
    let page = report_html::dfd_page(&diagram, HOSTILE_PROJECT, PAYLOADS[0]);
    assert_page_is_inert(&page);
    assert!(!page.contains("<script") && !page.contains("<img") && !page.contains("<b id"), "{page}");
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("api")).unwrap();
    std::fs::write(
        dir.path().join("api/app.py"),
        "# @threat SQL Injection (#sqli) [high] cwe:CWE-89\n\
         # @flows Customer -> App.Api via HTTPS\n\
         # @exposes App.Api to #sqli -- \"raw <b>query</b>\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn cli_writes_html_to_the_default_location() {
    let dir = project();
    let out =
        Command::new(BIN).args(["report", "--format", "html"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(dir.path().join(".threatmodel/report.html")).unwrap();
    assert_page_is_inert(&html);
    assert!(html.contains("raw &lt;b&gt;query&lt;/b&gt;"), "{html}");
    // Links work from the report's directory.
    assert!(html.contains("<a href=\"../api/app.py\">api/app.py:3</a>"), "{html}");
    // The Markdown report is a different file.
    assert!(!dir.path().join(".threatmodel/report.md").exists());
    let out = Command::new(BIN)
        .args(["report", ".", "--format", "html", "-o", "out/r.html"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let other = std::fs::read_to_string(dir.path().join("out/r.html")).unwrap();
    assert!(other.contains("<a href=\"../api/app.py\">"), "{other}");
}

/// One small project drawn in Mermaid, DOT, SVG, the HTML report and the editor panel's page:
/// each says the same facts — the open threats by name with their severity, the worst
/// severity's tone, one arrow per direction, the data classifications, the boundary's name.
#[test]
fn every_diagram_format_shows_the_same_facts() {
    use threat_analyzer::render::{dot, mermaid, svg};
    let index = index_of(&[(
        "app.py",
        "# @asset Expense.Api (#api)\n\
         # @asset Expense.Db (#db)\n\
         # @threat SQL Injection (#sqli) [critical]\n\
         # @threat Tamper & Replay (#replay)\n\
         # @threat Verbose Errors (#verbose) [high]\n\
         # @exposes #db to #sqli\n\
         # @exposes #db to #replay [P3]\n\
         # @exposes #api to #verbose [medium]\n\
         # @handles pii on #db\n\
         # @handles financial on #db\n\
         # @flows #api -> #db via SQL\n\
         # @flows #db -> #api via rows\n\
         # @boundary between Expense.Api and Expense.Db (#data-tier) -- \"Database network\"\n",
    )]);
    let analysis = Analysis::new(&index);
    let diagram = dfd::build(&index, &analysis, &dfd::Scope::Project);

    let mmd = mermaid::render(&diagram);
    for want in [
        "n_expense__db[(\"Expense.Db<br/>⚠ 2 open<br/>⚠ SQL Injection #91;critical#93;<br/>⚠ Tamper #amp; Replay #91;P3#93;<br/>data: pii, financial\")]",
        "n_expense__api(\"Expense.Api<br/>⚠ 1 open<br/>⚠ Verbose Errors #91;medium#93;\")",
        "  class n_expense__db critical\n",
        "  class n_expense__api medium\n",
        "  n_expense__api -->|\"SQL\"| n_expense__db\n",
        "  n_expense__db -->|\"rows\"| n_expense__api\n",
        "[\"Database network #40;#35;data-tier#41;\"]",
    ] {
        assert!(mmd.contains(want), "Mermaid lacks {want:?}:\n{mmd}");
    }

    let gv = dot::render(&diagram);
    for want in [
        "label=\"Expense.Db\\n⚠ 2 open\\n⚠ SQL Injection [critical]\\n⚠ Tamper &amp; Replay [P3]\\ndata: pii, financial\"",
        "penwidth=4, color=\"#7f1d1d\", fillcolor=\"#fca5a5\", class=\"critical\"",
        "class=\"medium\"",
        "\"n_expense__api\" -> \"n_expense__db\" [label=\"SQL\"];",
        "\"n_expense__db\" -> \"n_expense__api\" [label=\"rows\"];",
        "label=\"Database network (#data-tier)\";",
    ] {
        assert!(gv.contains(want), "DOT lacks {want:?}:\n{gv}");
    }

    // The SVG, and the same drawing inside the HTML report and the editor panel's page.
    let drawing = svg::render(&diagram);
    let report = report_of(&index, 1, "expense", "../");
    let panel = report_html::dfd_page(&diagram, "expense", "project");
    for (name, text) in [("SVG", drawing.as_str()), ("report", &svg_of(&report)), ("panel", &svg_of(&panel))]
    {
        for want in [
            "data-key=\"n_expense__db\" data-kind=\"data-store\" data-status=\"open\" data-severity=\"critical\"",
            "data-key=\"n_expense__api\" data-kind=\"process\" data-status=\"open\" data-severity=\"medium\"",
            // The tooltip and the drawn lines.
            "<title>Expense.Db\ndata store\n⚠ 2 open\n⚠ SQL Injection [critical]\n⚠ Tamper &amp; Replay [P3]\ndata: pii, financial</title>",
            ">⚠ SQL Injection [critical]</text>",
            ">data: pii, financial</text>",
            "stroke=\"#7f1d1d\" stroke-width=\"4\"",
            "<g data-from=\"n_expense__api\" data-to=\"n_expense__db\" data-flows=\"1\"><title>Expense.Api → Expense.Db\nSQL</title>",
            "<g data-from=\"n_expense__db\" data-to=\"n_expense__api\" data-flows=\"1\"><title>Expense.Db → Expense.Api\nrows</title>",
            "<title>Trust boundary: Database network (#data-tier)</title>",
        ] {
            assert!(text.contains(want), "{name} lacks {want:?}:\n{text}");
        }
        assert!(!text.contains('↔') && !text.contains("marker-start"), "{name}: a two-headed arrow");
    }
}
