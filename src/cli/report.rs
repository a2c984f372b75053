//! The `report` command: writes the threat-model report.
//!
//! `threat-analyzer report [PATH] --format markdown [-o FILE]`. With no `-o`, the report goes
//! to `.threatmodel/report.md` in the project root (PATH when it is a directory, else the
//! scan's root), created on demand. File links in the report are relative to the report's own
//! directory when it can tell (so they work from `.threatmodel/`), else to the project root.
//!
//! Exit status: 0 when written, 2 on usage and I/O errors (the message names the path).

use super::{EXIT_ERROR, EXIT_OK};
use crate::analysis::Analysis;
use crate::render::report_md::{self, ReportOptions};
use clap::{Args, ValueEnum};
use std::path::{Component, Path, PathBuf};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Directory (or file) to read annotations from.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// Report format.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,

    /// Where to write. Default: `.threatmodel/report.md` in the project root.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub cache: super::CacheArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// GitHub-flavoured Markdown with a Mermaid data-flow diagram.
    Markdown,
}

/// Runs `report`; returns the exit status.
pub fn run(args: &ReportArgs) -> i32 {
    let super::Project { scan, root: project_root, name } = match super::scan_project(&args.path, args.cache)
    {
        Ok(project) => project,
        Err(status) => return status,
    };
    let root_label = name.unwrap_or_else(|| "project".to_string());
    let file = args.output.clone().unwrap_or_else(|| project_root.join(".threatmodel").join("report.md"));
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        eprintln!("threat-analyzer: error: cannot write {}: {e}", file.display());
        return EXIT_ERROR;
    }
    let analysis = Analysis::new(&scan.index);
    let diagnostics = analysis.diagnostics(&scan.index);
    let summary = analysis.summary(&scan.index, &diagnostics, scan.files_scanned);
    let options = ReportOptions { link_prefix: link_prefix(&file, &scan.root) };
    let text = match args.format {
        ReportFormat::Markdown => {
            report_md::render_with(&scan.index, &analysis, &diagnostics, &summary, &root_label, &options)
        }
    };
    if let Err(e) = std::fs::write(&file, text.as_bytes()) {
        eprintln!("threat-analyzer: error: cannot write {}: {e}", file.display());
        return EXIT_ERROR;
    }
    eprintln!("threat-analyzer: wrote markdown report to {}", file.display());
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
