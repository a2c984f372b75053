//! The `status` command: how much of the code is modelled, and what the model leaves open.
//!
//! `threat-analyzer status [PATH] [--format human|json] [--unannotated]`, with `check`'s walk
//! options (`--include`, `--exclude`, `--max-file-size`, `--no-cache`) and `--coverage-scope`.
//! The numbers are [`crate::analysis::status`]'s; `--unannotated` lists the source files with
//! no annotation instead of the summary (human) or adds them (JSON `unannotated_files`).
//!
//! Exit status: 0 when the status was written, 2 on usage and I/O errors.

use super::{EXIT_ERROR, EXIT_OK};
use crate::render;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

pub const STATUS_AFTER_HELP: &str = "\
Counts: files scanned, annotated and unannotated per language (a file the walk skips, such as
an ignored, binary or unknown-language file, is not scanned; a file with no annotation literal
is scanned and unannotated), annotations per verb, assets with no threat recorded, threats with
no mitigation anywhere, exposures by state and severity, @owns coverage of assets, and STRIDE
coverage per element kind of the data-flow diagram.

Examples:
  threat-analyzer status
  threat-analyzer status --unannotated       Source files nobody has annotated yet
  threat-analyzer status src --format json

Exit status: 0 status written, 2 usage or I/O error.";

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Directory (or file) to read annotations from.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = StatusFormat::Human, value_name = "FORMAT")]
    pub format: StatusFormat,

    /// List the source files with no annotation (in a known language, not ignored).
    #[arg(long)]
    pub unannotated: bool,

    /// Skip files larger than this (bytes, or with a suffix: K, KiB, KB, M, MiB, MB, G, GiB, GB).
    #[arg(long, value_name = "SIZE", default_value = "2MiB", value_parser = super::parse_size)]
    pub max_file_size: u64,

    /// Read only files matching GLOB (gitignore syntax, relative to PATH). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,

    /// Skip files and directories matching GLOB (gitignore syntax). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    #[command(flatten)]
    pub cache: super::CacheArgs,

    #[command(flatten)]
    pub coverage: super::CoverageArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// Plain text.
    Human,
    /// One JSON object: {"provenance": ..., "status": {...}}.
    Json,
}

/// Runs `status`; returns the exit status.
pub fn run(args: &StatusArgs) -> i32 {
    let filter = super::WalkFilter {
        max_file_size: args.max_file_size,
        include: &args.include,
        exclude: &args.exclude,
    };
    let mut scan = match filter.scan(std::slice::from_ref(&args.path), args.cache) {
        Ok(scan) => scan,
        Err(status) => return status,
    };
    if let Err(status) = super::report_unread(&scan, false) {
        return status;
    }
    let analysis = args.coverage.analysis(&scan.index);
    let status = analysis.status(&scan.index, &scan.scanned);
    let stride = render::status::stride_by_kind(&scan.index, &analysis);
    let unanalysed = render::status::unanalysed(&scan.index, &analysis);
    let text = match args.format {
        StatusFormat::Human => render::status::human(&status, &stride, &unanalysed, args.unannotated),
        StatusFormat::Json => render::status::json(&status, &stride, &unanalysed, args.unannotated),
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => {}
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            say!("threat-analyzer: error: cannot write standard output: {e}");
            return EXIT_ERROR;
        }
    }
    let _ = scan.finish_cache();
    EXIT_OK
}
