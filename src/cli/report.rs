//! The `report` command: writes the threat-model report.
//!
//! `threat-analyzer report [PATH] --format markdown|html [-o FILE]`. With no `-o`, the report
//! goes to `.threatmodel/report.md` (or `report.html`) in the project root (PATH when it is a
//! directory, else the scan's root), created on demand. File links in the report are relative to the report's own
//! directory when it can tell (so they work from `.threatmodel/`), else to the project root.
//!
//! Exit status: 0 when written, 2 on usage and I/O errors (the message names the path).

use super::output;
use super::{EXIT_ERROR, EXIT_OK};
use crate::render::report::{self, ReportOptions};
use crate::render::{report_html, report_md};
use clap::{Args, ValueEnum};
use std::path::{Component, Path, PathBuf};

pub const REPORT_AFTER_HELP: &str = "\
Formats:
  markdown   GitHub-flavoured Markdown; the data-flow diagram as a ```mermaid block
  html       one self-contained HTML file: the same sections, the diagram as inline SVG, no
             script, no network resources, a strict Content-Security-Policy, and a print
             stylesheet (print it to PDF from any browser)

Examples:
  threat-analyzer report                     .threatmodel/report.md
  threat-analyzer report --format html       .threatmodel/report.html
  threat-analyzer report src --format html -o threat-model.html

Exit status: 0 report written, 2 usage or I/O error.";

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Directory (or file) to read annotations from.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// Report format.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,

    /// Where to write. Default: `.threatmodel/report.md` (`report.html` for HTML) in the
    /// project root.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub output_policy: super::OutputPolicyArgs,

    #[command(flatten)]
    pub cache: super::CacheArgs,

    #[command(flatten)]
    pub coverage: super::CoverageArgs,

    /// The date `overdue-risk` compares treatment due dates with (YYYY-MM-DD; default: today,
    /// UTC), as for `check`.
    #[arg(long, value_name = "DATE", value_parser = super::parse_date)]
    pub today: Option<crate::syntax::Date>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// GitHub-flavoured Markdown with a Mermaid data-flow diagram.
    Markdown,
    /// One self-contained HTML page (inline SVG diagram, no script, strict
    /// Content-Security-Policy, print stylesheet).
    Html,
}

impl ReportFormat {
    fn file_name(self) -> &'static str {
        match self {
            ReportFormat::Markdown => "report.md",
            ReportFormat::Html => "report.html",
        }
    }
    fn name(self) -> &'static str {
        match self {
            ReportFormat::Markdown => "markdown",
            ReportFormat::Html => "html",
        }
    }
}

/// Runs `report`; returns the exit status.
pub fn run(args: &ReportArgs) -> i32 {
    let super::Project { mut scan, root: project_root, name } =
        match super::scan_project(&args.path, args.cache) {
            Ok(project) => project,
            Err(status) => return status,
        };
    let root_label = name.unwrap_or_else(|| "project".to_string());
    let (file, requested) = match &args.output {
        Some(file) => (file.clone(), args.output_policy.requested(true)),
        None => (
            project_root.join(".threatmodel").join(args.format.file_name()),
            args.output_policy.requested(false),
        ),
    };
    // Refused before rendering; the directory exists afterwards, for the links' prefix.
    if let Err(message) = output::prepare(&file, &project_root, requested) {
        say!("threat-analyzer: error: {message}");
        return EXIT_ERROR;
    }
    // The findings `check` reports for the same project and date (`unmodelled-resource` when
    // the configuration enables it).
    let infra = super::infra::unmodelled_resources(
        &mut scan,
        &crate::diagnostic::LevelOverrides::default(),
        crate::walk::DEFAULT_MAX_FILE_SIZE,
    );
    let analysis = args.coverage.analysis(&scan.index);
    let policies = crate::model::risk::Policies::one(scan.risk.clone());
    let diagnostics =
        analysis.diagnostics_with_risk_once(&scan.index, &policies, args.today.or_else(super::today), &infra);
    let summary = analysis.summary(&scan.index, &diagnostics, scan.files_scanned);
    let options = ReportOptions { link_prefix: link_prefix(&file, &scan.root) };
    let report =
        report::build_with_risk(&scan.index, &analysis, &diagnostics, &summary, &root_label, &scan.risk);
    let text = match args.format {
        ReportFormat::Markdown => report_md::write(&report, &options),
        ReportFormat::Html => report_html::write(&report, &options),
    };
    if let Err(message) = output::write(&file, &project_root, requested, text.as_bytes()) {
        say!("threat-analyzer: error: {message}");
        return EXIT_ERROR;
    }
    say!("threat-analyzer: wrote {} report to {}", args.format.name(), file.display());
    super::say_stale(&scan.index);
    EXIT_OK
}

/// The relative path from the report's directory to `root` (what the report's file paths are
/// relative to), as a link prefix ending in `/`; empty when they are the same directory or the
/// relation cannot be worked out.
fn link_prefix(report: &Path, root: &Path) -> String {
    let dir = report.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let (Ok(dir), Ok(root)) = (std::fs::canonicalize(dir), std::fs::canonicalize(root)) else {
        return String::new();
    };
    let d: Vec<Component> = dir.components().collect();
    let r: Vec<Component> = root.components().collect();
    let common = d.iter().zip(&r).take_while(|(a, b)| a == b).count();
    let mut out = String::new();
    for _ in common..d.len() {
        out.push_str("../");
    }
    for c in &r[common..] {
        let Some(s) = c.as_os_str().to_str() else { return String::new() };
        out.push_str(&report_md::encode_path(s));
        out.push('/');
    }
    out
}
