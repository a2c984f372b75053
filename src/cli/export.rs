//! The `export` command: writes the threat model in another tool's format.
//!
//! `threat-analyzer export [PATH] --format
//! threatspec|threat-dragon|threat-composer|json|csv|stride-worksheet [-o DIR|FILE]`. `threatspec` writes a directory (`threatmodel.json`, `threats.json`,
//! `controls.json`, `components.json`); the others write one file. With no `-o`, output goes to
//! `.threatmodel/` in the project root (PATH when it is a directory, else the scan's root),
//! created on demand: `.threatmodel/threatspec/`, `.threatmodel/risk-register.csv`,
//! `.threatmodel/stride-worksheet.yaml` or `.threatmodel/<format>.json`.
//!
//! Exit status: 0 when written, 2 on usage and I/O errors (the message names the path).

use super::output;
use super::{EXIT_ERROR, EXIT_OK};
use crate::render::export::{self, ExportOptions, Model};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Directory (or file) to read annotations from.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// Export format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: ExportFormat,

    /// Where to write: a directory for `threatspec`, a file otherwise. Default:
    /// `.threatmodel/threatspec/` or `.threatmodel/<FORMAT>.json` in the project root.
    #[arg(short, long, value_name = "DIR|FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub output_policy: super::OutputPolicyArgs,

    #[command(flatten)]
    pub cache: super::CacheArgs,

    #[command(flatten)]
    pub coverage: super::CoverageArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// ThreatSpec 0.5 `threatmodel/` files (a directory).
    Threatspec,
    /// OWASP Threat Dragon v2 model.
    ThreatDragon,
    /// AWS Threat Composer (schema 1).
    ThreatComposer,
    /// threat-analyzer's own canonical model.
    Json,
    /// The risk register as CSV (RFC 4180; formula-like cells neutralised).
    Csv,
    /// STRIDE worksheets: one YAML document per component and per trust-boundary crossing.
    StrideWorksheet,
}

impl ExportFormat {
    fn name(self) -> &'static str {
        match self {
            ExportFormat::Threatspec => "threatspec",
            ExportFormat::ThreatDragon => "threat-dragon",
            ExportFormat::ThreatComposer => "threat-composer",
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::StrideWorksheet => "stride-worksheet",
        }
    }
}

/// Runs `export`; returns the exit status.
pub fn run(args: &ExportArgs) -> i32 {
    let super::Project { scan, root: project_root, name } = match super::scan_project(&args.path, args.cache)
    {
        Ok(project) => project,
        Err(status) => return status,
    };
    let title = name.unwrap_or_else(|| "Threat model".to_string());
    let options = ExportOptions { title };
    let analysis = args.coverage.analysis(&scan.index);
    let model = Model::new(&scan.index, &analysis);

    let default_dir = project_root.join(".threatmodel");
    let files: Vec<(PathBuf, String)> = match args.format {
        ExportFormat::Threatspec => {
            let dir = args.output.clone().unwrap_or_else(|| default_dir.join("threatspec"));
            export::threatspec::render(&model)
                .into_iter()
                .map(|(name, value)| (dir.join(name), export::to_pretty(value)))
                .collect()
        }
        ExportFormat::Csv => {
            let file = args.output.clone().unwrap_or_else(|| default_dir.join("risk-register.csv"));
            let table = crate::render::report::risk_register(&scan.index, &analysis, &scan.risk);
            vec![(file, crate::render::report_csv::write(&table))]
        }
        ExportFormat::StrideWorksheet => {
            let file = args.output.clone().unwrap_or_else(|| default_dir.join("stride-worksheet.yaml"));
            vec![(file, export::stride_worksheet::render(&model, &scan.risk))]
        }
        format => {
            let file =
                args.output.clone().unwrap_or_else(|| default_dir.join(format!("{}.json", format.name())));
            let value = match format {
                ExportFormat::ThreatDragon => {
                    export::threat_dragon::render_with_risk(&model, &options, &scan.risk)
                }
                ExportFormat::ThreatComposer => export::threat_composer::render(&model, &options),
                _ => export::json::render(&model),
            };
            vec![(file, export::to_pretty(value))]
        }
    };
    let requested = args.output_policy.requested(args.output.is_some());
    // Every file is checked before any is written.
    let checked = files.iter().try_for_each(|(path, _)| output::check(path, &project_root, requested));
    let written = checked.and_then(|()| {
        files.iter().try_for_each(|(path, text)| {
            output::prepare(path, &project_root, requested)?;
            output::write(path, &project_root, requested, text.as_bytes())
        })
    });
    if let Err(message) = written {
        say!("threat-analyzer: error: {message}");
        return EXIT_ERROR;
    }
    let shown = match args.format {
        ExportFormat::Threatspec => files.first().and_then(|(p, _)| p.parent()).map(Path::to_path_buf),
        _ => files.first().map(|(p, _)| p.clone()),
    };
    if let Some(p) = shown {
        say!("threat-analyzer: wrote {} export to {}", args.format.name(), p.display());
    }
    super::say_stale(&scan.index);
    EXIT_OK
}
