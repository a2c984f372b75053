//! Command line: argument parsing (clap derive), the `check` command (its `--baseline` source in
//! `baseline`), and the `dfd`, `diff`, `report`, `export`, `status` and `init` commands (in
//! their own files); with no command, `lsp` or `--stdio` it hands over to the language server.
//!
//! Owns: flags, exit codes, where output goes, and `--verbose` reporting. Must never: analyse
//! or format anything itself (that is `analysis` and `render`), or write to standard error
//! other than through `say!` (messages name repository paths, link targets and
//! configuration text, which must not reach a terminal or a CI log raw).
//!
//! Exit codes: 0 when no diagnostic reaches `--fail-on`, 1 when one does, 2 on usage errors,
//! I/O errors and internal errors. Messages for status 2 name the path involved. With
//! `--baseline`, only the diagnostics the baseline does not hold count; `--write-baseline` alone
//! exits 0 once the file is written.

// `eprintln!` would bypass the cleaning of `say!`.
#![deny(clippy::print_stderr)]

/// Writes one line to standard error through [`text::for_terminal`]: a file name can hold
/// escape sequences (clipboard writes, screen clears) or a line break followed by a CI
/// workflow command (`::error ...`).
macro_rules! say {
    ($($arg:tt)*) => { $crate::cli::say_line(&format!($($arg)*)) };
}

mod baseline;
mod dfd;
mod diff;
mod export;
mod infra;
mod init;
mod mcp_pin;
mod output;
mod report;
pub mod result_cache;
mod status;

use crate::analysis;
use crate::analysis::baseline::State::New;
use crate::cache;
use crate::diagnostic::{Diagnostic, Level, LevelOverrides};
use crate::render;
use crate::text;
use crate::walk::{self, WalkOptions};
use anstream::ColorChoice;
use clap::{Args, Parser, Subcommand, ValueEnum};
use result_cache::Results;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Status when no diagnostic reaches `--fail-on`.
pub const EXIT_OK: i32 = 0;
/// Status when a diagnostic reaches `--fail-on`.
pub const EXIT_FINDINGS: i32 = 1;
/// Status on usage, I/O and internal errors.
pub const EXIT_ERROR: i32 = 2;

const ABOUT: &str = "Checks threat-model annotations (GuardLink GAL, ThreatSpec) in source comments.";

const LONG_ABOUT: &str = "\
Checks threat-model annotations (GuardLink GAL, ThreatSpec) in source comments.

threat-analyzer reads annotations such as `# @exposes App to #sqli` from the comments of source
files in many languages, merges them into one threat model, and reports unmitigated exposures,
confirmed findings, dangling references and malformed annotations.";

const AFTER_HELP: &str = "\
With no command (or `lsp`, or `--stdio`) threat-analyzer serves the Language Server Protocol on
standard input/output: that is what editors run.

Examples:
  threat-analyzer check                      Check the current directory
  threat-analyzer check src lib              Check two directories
  threat-analyzer check --format sarif -o threat-analyzer.sarif
                                             Write SARIF for GitHub code scanning
  threat-analyzer check --fail-on never --format json
                                             Report as JSON; never fail the build
  threat-analyzer init                       Scaffold GAL definitions and a GitHub workflow

Exit status: 0 no diagnostic reaches --fail-on, 1 one does, 2 usage or I/O error.";

#[derive(Debug, Parser)]
#[command(
    name = "threat-analyzer",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Serve the language server over standard input/output (what editors run; the same as
    /// `lsp`, or no arguments at all). Accepted after any command (vscode-languageclient
    /// appends it to whatever command it runs) but listed in no help: the top-level help
    /// and `lsp` name it where it means something.
    #[arg(long, global = true, hide = true)]
    pub stdio: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check annotations under PATHs and report diagnostics.
    #[command(after_help = CHECK_AFTER_HELP)]
    Check(CheckArgs),
    /// Draw the data-flow diagram of the annotations under PATH (Mermaid, Graphviz DOT or SVG).
    #[command(after_help = dfd::DFD_AFTER_HELP)]
    Dfd(dfd::DfdArgs),
    /// Compare the threat model with a git revision: what a change added, removed or left open.
    #[command(after_help = diff::DIFF_AFTER_HELP)]
    Diff(diff::DiffArgs),
    /// Export the threat model (ThreatSpec, Threat Dragon, Threat Composer, JSON).
    Export(export::ExportArgs),
    /// Write a threat-model report (Markdown or self-contained HTML) of the annotations under PATH.
    #[command(after_help = report::REPORT_AFTER_HELP)]
    Report(report::ReportArgs),
    /// Summarise how much of the code under PATH is modelled (files, verbs, exposures, owners).
    #[command(after_help = status::STATUS_AFTER_HELP)]
    Status(status::StatusArgs),
    /// Scaffold a project: GAL definitions or threatspec.yaml, and a CI workflow (GitHub or GitLab).
    #[command(after_help = init::INIT_AFTER_HELP)]
    Init(init::InitArgs),
    /// Pin the description of every MCP tool the code defines (mcp-tools.lock), for `check`'s
    /// rug-pull check.
    #[command(after_help = mcp_pin::MCP_PIN_AFTER_HELP)]
    McpPin(mcp_pin::McpPinArgs),
    /// Derive a baseline threat model from infrastructure code (Terraform): elements, flows,
    /// boundaries and proposed threats, or the annotations to add (`--format gal`).
    #[command(after_help = infra::BASELINE_AFTER_HELP)]
    Baseline(infra::InfraArgs),
    /// Serve the language server over standard input/output (also: no arguments, `--stdio`).
    Lsp,
}

const CHECK_AFTER_HELP: &str = "\
Files: .gitignore, .ignore and git excludes are honoured (also outside git); hidden files and
directories are skipped except .guardlink/; symbolic links are not followed; binary, non-UTF-8,
oversized and unknown-language files are skipped (see --verbose), and so are .txt files that no
PATH, threatspec.yaml `paths:` entry or --include glob names. A threatspec.yaml at the top of
a directory PATH restricts that directory to its `paths:`. Files named directly are always read.
Ignore files and threatspec.yaml are read only when they are regular files (not symbolic links)
of at most 1 MiB; a note names any that is not, and the walk goes on without it.

Paths in the output are relative to the current directory when every PATH is inside it (run from
the repository root for SARIF), otherwise to the deepest directory containing every PATH.

Examples:
  threat-analyzer check
  threat-analyzer check --format sarif --output results.sarif
  threat-analyzer check --fail-on warning src/
  threat-analyzer check --write-baseline threat-analyzer-baseline.json
  threat-analyzer check --baseline threat-analyzer-baseline.json
  threat-analyzer check --baseline origin/main

Baseline: --write-baseline FILE records every finding of the run (any level) by fingerprint;
--baseline FILE (or a git revision, whose findings are computed the same way) reports the
findings it holds as in the baseline, and only new ones count toward --fail-on. A finding keeps
its fingerprint when its line moves, is re-indented or the file changes elsewhere.

Exit status: 0 no diagnostic reaches --fail-on, 1 one does, 2 usage or I/O error.";

#[derive(Clone, Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human, value_name = "FORMAT")]
    pub format: Format,

    /// Exit with status 1 when a diagnostic of this level or more severe is reported.
    #[arg(long, value_enum, default_value_t = FailOn::Error, value_name = "LEVEL")]
    pub fail_on: FailOn,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Skip files larger than this (bytes, or with a suffix: K, KiB, KB, M, MiB, MB, G, GiB, GB).
    #[arg(long, value_name = "SIZE", default_value = "2MiB", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Read only files matching GLOB (gitignore syntax, relative to each directory PATH).
    /// Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,

    /// Skip files and directories matching GLOB (gitignore syntax). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Change a diagnostic code's level, or turn it off: CODE=error|warning|note|off.
    /// Repeatable, e.g. `--severity unused-definition=off`.
    #[arg(long = "severity", value_name = "CODE=LEVEL", value_parser = parse_override)]
    pub severity: Vec<String>,

    /// The date `overdue-risk` compares treatment due dates with (YYYY-MM-DD; default: today,
    /// UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub today: Option<crate::syntax::Date>,

    /// Report every skipped file and why, on standard error.
    #[arg(short, long)]
    pub verbose: bool,

    /// Never colour the output (colour is used only on a terminal and when NO_COLOR is unset).
    #[arg(long)]
    pub no_color: bool,

    /// Write every finding of this run (any level) to FILE as a baseline (JSON), for a later
    /// --baseline; exits 0 once written, unless --baseline is also given. The same rules as -o
    /// decide where it may be written.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Report the findings that FILE (written by --write-baseline) or the git revision REF (a
    /// branch, tag or commit, scanned the same way) already has as in the baseline: only new
    /// findings count toward --fail-on.
    #[arg(long, value_name = "FILE|REF")]
    pub baseline: Option<PathBuf>,

    #[command(flatten)]
    pub output_policy: OutputPolicyArgs,

    #[command(flatten)]
    pub cache: CacheArgs,

    #[command(flatten)]
    pub coverage: CoverageArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable report with source snippets.
    Human,
    /// One JSON object: {"summary": ..., "diagnostics": [...]}.
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    /// The least severe level that fails, or `None` for `never`.
    pub fn threshold(self) -> Option<Level> {
        match self {
            FailOn::Error => Some(Level::Error),
            FailOn::Warning => Some(Level::Warning),
            FailOn::Note => Some(Level::Note),
            FailOn::Never => None,
        }
    }

    pub fn fails<'d>(self, diagnostics: impl IntoIterator<Item = &'d Diagnostic>) -> bool {
        self.threshold().is_some_and(|t| diagnostics.into_iter().any(|d| d.level >= t))
    }
}

/// Validates one `--severity` value (clap reports the error and exits 2).
fn parse_override(text: &str) -> Result<String, String> {
    LevelOverrides::default().set(text).map(|()| text.to_string())
}

/// Parses `--today`'s `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Result<crate::syntax::Date, String> {
    crate::syntax::Date::parse(text).ok_or_else(|| format!("{text:?} is not a date YYYY-MM-DD"))
}

/// Today's date (UTC) from the system clock: the one date the core's risk checks compare with.
pub fn today() -> Option<crate::syntax::Date> {
    crate::syntax::Date::of_instant(std::time::SystemTime::now())
}

/// Parses `2097152`, `2MiB`, `512K`, `1.5MB`-style sizes (K/KiB = 1024, KB = 1000).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    let multiplier: u64 = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "kb" => 1_000,
        "m" | "mib" => 1 << 20,
        "mb" => 1_000_000,
        "g" | "gib" => 1 << 30,
        "gb" => 1_000_000_000,
        other => {
            return Err(format!("unknown size suffix {other:?} (use K, KiB, KB, M, MiB, MB, G, GiB or GB)"));
        }
    };
    let value: f64 = num.parse().map_err(|_| format!("{text:?} is not a size (e.g. 2097152 or 2MiB)"))?;
    let bytes = value * multiplier as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(bytes as u64)
}

/// Parses arguments and runs; returns the process exit status. Clap's own exits (help,
/// version, usage errors: status 2) happen inside.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check(args)) if !cli.stdio => check(&args),
        Some(Command::Dfd(args)) if !cli.stdio => dfd::run(&args),
        Some(Command::Diff(args)) if !cli.stdio => diff::run(&args),
        Some(Command::Export(args)) if !cli.stdio => export::run(&args),
        Some(Command::Report(args)) if !cli.stdio => report::run(&args),
        Some(Command::Status(args)) if !cli.stdio => status::run(&args),
        Some(Command::Init(args)) if !cli.stdio => init::run(&args),
        Some(Command::McpPin(args)) if !cli.stdio => mcp_pin::run(&args),
        Some(Command::Baseline(args)) if !cli.stdio => infra::run(&args),
        // vscode-languageclient appends `--stdio` to whatever command it runs.
        Some(
            Command::Check(_)
            | Command::Dfd(_)
            | Command::Diff(_)
            | Command::Export(_)
            | Command::Report(_)
            | Command::Status(_)
            | Command::Init(_)
            | Command::McpPin(_)
            | Command::Baseline(_)
            | Command::Lsp,
        )
        | None => crate::lsp::run_stdio(),
    }
}

/// A project scanned for `dfd`, `report` and `export`: the scan, the project root (PATH when
/// it is a directory, else the scan's base directory) and its name (a `threatspec.yaml`'s
/// `project: name:`, else `.guardlink/config.json`'s `project`, else the root directory's name).
pub(crate) struct Project {
    pub scan: walk::Scan,
    pub root: PathBuf,
    pub name: Option<String>,
}

/// The `--allow-outside-output` flag of every command with `-o`.
#[derive(Clone, Copy, Debug, Args)]
pub struct OutputPolicyArgs {
    /// Let -o name a file outside the project, the current directory and the cache directory
    /// (refused otherwise).
    #[arg(long)]
    pub allow_outside_output: bool,
}

impl OutputPolicyArgs {
    /// Who chose the output path: the user with `-o` (`named`), else the command's default.
    pub fn requested(self, named: bool) -> output::Requested {
        if named {
            output::Requested::OnCommandLine { anywhere: self.allow_outside_output }
        } else {
            output::Requested::ByDefault
        }
    }
}

/// The `--no-cache` flag of every command that scans a project.
#[derive(Clone, Copy, Debug, Args)]
pub struct CacheArgs {
    /// Neither read nor write the index cache (kept in $XDG_CACHE_HOME/threat-analyzer or
    /// ~/.cache/threat-analyzer; $THREAT_ANALYZER_CACHE_DIR overrides the place).
    #[arg(long)]
    pub no_cache: bool,
}

impl CacheArgs {
    /// The cache directory to use, `None` for no cache.
    pub fn dir(self) -> Option<PathBuf> {
        if self.no_cache { None } else { cache::default_dir() }
    }
}

/// The `--coverage-scope` option of every command that analyses a project.
#[derive(Clone, Copy, Debug, Args)]
pub struct CoverageArgs {
    /// What an inline annotation's site is for the coverage rule: `file` (only `.gal`
    /// `symbol:` anchors narrow coverage) or `symbol` (an inline `@mitigates` in one function
    /// does not cover an `@exposes` in another function of the same file).
    #[arg(long, value_enum, default_value_t = CoverageScopeArg::File, value_name = "SCOPE")]
    pub coverage_scope: CoverageScopeArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CoverageScopeArg {
    File,
    Symbol,
}

impl CoverageArgs {
    /// The analysis of `index` with this scope.
    pub fn analysis(self, index: &crate::model::ProjectIndex) -> analysis::Analysis {
        self.update(None, index)
    }

    /// [`analysis::Analysis::update_with_scope`] with this scope: the analysis of `index`,
    /// reusing what `previous` (made with this scope) resolved where it still holds.
    pub fn update(
        self,
        previous: Option<&analysis::Analysis>,
        index: &crate::model::ProjectIndex,
    ) -> analysis::Analysis {
        let scope = match self.coverage_scope {
            CoverageScopeArg::File => analysis::CoverageScope::File,
            CoverageScopeArg::Symbol => analysis::CoverageScope::Symbol,
        };
        analysis::Analysis::update_with_scope(previous, index, scope)
    }
}

/// Scans PATH with the default walk options; on failure prints the error and returns the exit
/// status to use.
pub(crate) fn scan_project(path: &std::path::Path, cache: CacheArgs) -> Result<Project, i32> {
    let options = WalkOptions { cache_dir: cache.dir(), ..WalkOptions::default() };
    let mut scan = walk::scan(std::slice::from_ref(&path.to_path_buf()), &options).map_err(|err| {
        say!("threat-analyzer: error: {err}");
        EXIT_ERROR
    })?;
    // These commands end soon after: write the cache now rather than lose it at exit. A cache
    // that cannot be written only costs time next run.
    let _ = scan.finish_cache();
    report_unread(&scan, false)?;
    let root = if path.is_dir() { path.to_path_buf() } else { scan.root.clone() };
    // The name a threatspec.yaml gives the project, else its directory's.
    let name = walk::project_name(&root).or_else(|| {
        std::fs::canonicalize(&root)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    });
    Ok(Project { scan, root, name })
}

/// Says what the walk left out that changes the result, on standard error: configuration and
/// ignore files it refused and a cache file it refused (notes), files over the size limit (a
/// note, unless `--verbose` listed every skipped file already), and files past the project
/// limits (an error: the model would be incomplete, so the run fails with status 2).
fn report_unread(scan: &walk::Scan, verbose: bool) -> Result<(), i32> {
    let (notes, outcome) = unread_notes(scan, verbose);
    for note in &notes {
        say!("threat-analyzer: {}", note.text);
    }
    outcome
}

/// A line [`report_unread`] prints (after `threat-analyzer: `).
struct Note {
    text: String,
    /// About the index cache, not the project: not part of a run's result.
    about_cache: bool,
}

/// What [`report_unread`] prints, in order, and its outcome.
fn unread_notes(scan: &walk::Scan, verbose: bool) -> (Vec<Note>, Result<(), i32>) {
    let mut notes = Vec::new();
    let mut say = |text: String| notes.push(Note { text, about_cache: false });
    if let Some(note) = read_without_tree_note(scan) {
        say(note);
    }
    for not_applied in &scan.not_applied {
        say(format!("note: {not_applied}"));
    }
    // A cache that was refused or did not validate (corrupt, truncated, another format or
    // build) was not trusted: said once, and the rebuilt one is used from the next run on.
    if let Some(walk::CacheUse {
        file,
        load_error: Some(why @ (cache::CacheError::Refused(_) | cache::CacheError::Invalid(_))),
        ..
    }) = &scan.cache
    {
        notes.push(Note {
            text: format!("note: index cache {}: {why} (rebuilt)", file.display()),
            about_cache: true,
        });
    }
    let mut say = |text: String| notes.push(Note { text, about_cache: false });
    let names = |wanted: fn(&walk::SkipReason) -> bool| -> Vec<String> {
        scan.skipped.iter().filter(|(_, r)| wanted(r)).map(|(p, _)| p.display().to_string()).collect()
    };
    let too_large = names(|r| matches!(r, walk::SkipReason::TooLarge { .. }));
    if !too_large.is_empty() && !verbose {
        let shown = too_large.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        let more = if too_large.len() > 3 { ", ..." } else { "" };
        say(format!(
            "note: {} over the size limit not read ({shown}{more}); --max-file-size \
             raises the limit, --verbose lists every skipped file",
            if too_large.len() == 1 { "1 file".to_string() } else { format!("{} files", too_large.len()) }
        ));
    }
    if !verbose && let Some(note) = walk::unnamed_annotation_like_note(&scan.skipped, "an --include glob") {
        say(format!("note: {note}"));
    }
    let unread = names(|r| *r == walk::SkipReason::ProjectLimit);
    if let Some(first) = unread.first() {
        say(format!(
            "error: the project is larger than the limits ({}): {} files were not read, \
             from {first} on; check part of it (a PATH, --include or --exclude)",
            walk::ProjectLimits::default(),
            unread.len()
        ));
        return (notes, Err(EXIT_ERROR));
    }
    (notes, Ok(()))
}

/// The note on how many files were read with the line-comment fallback because parsing them ran
/// out of time: annotations after code or in block comments may be missing from them.
fn read_without_tree_note(scan: &walk::Scan) -> Option<String> {
    let count = scan.read_without_tree;
    (count > 0).then(|| {
        format!(
            "note: {} read without a syntax tree, because parsing ran out of time (5 s plus \
             2 s per MiB for a file, {} s for the project): only their whole-line comments were read",
            if count == 1 { "1 file was".to_string() } else { format!("{count} files were") },
            crate::limits::MAX_PROJECT_PARSE_TIME.as_secs()
        )
    })
}

/// Says which files changed on disk after the scan, before a reader needed their whole text
/// ([`crate::model::file_text`]): what the output shows of them outside their annotated lines
/// is blank.
pub(crate) fn say_stale(index: &crate::model::ProjectIndex) {
    for file in index.stale_files() {
        say!(
            "threat-analyzer: {file} changed while it was checked: what the output shows of it outside its annotations is blank; run again"
        );
    }
}

/// The one writer of standard error for [`say!`]. A standard error that cannot be written
/// (closed) is not worth failing the run.
pub(crate) fn say_line(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", text::for_terminal(line));
}

/// The walk options `check` and `status` take on the command line.
pub(crate) struct WalkFilter<'a> {
    pub max_file_size: u64,
    pub include: &'a [String],
    pub exclude: &'a [String],
}

impl WalkFilter<'_> {
    /// The walk options these stand for, with the index cache in `cache_dir`.
    pub(crate) fn options(&self, cache_dir: Option<PathBuf>) -> WalkOptions {
        WalkOptions {
            max_file_size: self.max_file_size,
            include: self.include.to_vec(),
            exclude: self.exclude.to_vec(),
            cache_dir,
            ..WalkOptions::default()
        }
    }

    /// Scans `paths` with these options; on failure prints the error and returns the exit
    /// status to use.
    pub(crate) fn scan(&self, paths: &[PathBuf], cache: CacheArgs) -> Result<walk::Scan, i32> {
        walk::scan(paths, &self.options(cache.dir())).map_err(|err| {
            say!("threat-analyzer: error: {err}");
            EXIT_ERROR
        })
    }
}

/// Runs `check`; returns the exit status.
pub fn check(args: &CheckArgs) -> i32 {
    // One date for the whole run (and the result cache's key), even across midnight.
    let args = &CheckArgs { today: args.today.or_else(today), ..args.clone() };
    // A baseline file that cannot be used fails the run before any work (a revision is read
    // after the working tree, whose scan stands in for its unchanged files).
    let baseline_file = match args.baseline.as_deref().map(|value| baseline::source(value, args)).transpose()
    {
        Ok(source) => source,
        Err(status) => return status,
    };
    let to_terminal = styles_shown(args);
    // The terminal's width on standard output; a file, pipe or CI log gets the default.
    let columns = (args.format == Format::Human)
        .then(|| args.output.is_none().then(terminal_size::terminal_size).flatten())
        .flatten()
        .map_or(render::human::DEFAULT_COLUMNS, |(w, _)| usize::from(w.0));
    let results = Results::new(args, to_terminal, columns);
    let filter =
        WalkFilter { max_file_size: args.max_file_size, include: &args.include, exclude: &args.exclude };
    let mut options = filter.options(args.cache.dir());
    options.found = results.as_ref().map(Results::hook);
    let scanned = walk::scan(&args.paths, &options);
    if matches!(scanned, Err(walk::WalkError::Stopped))
        && let Some(stored) = results.as_ref().and_then(Results::replay)
    {
        crate::read::take_recorded();
        for note in &stored.notes {
            say!("threat-analyzer: {note}");
        }
        let status = match emit(args, Path::new("."), &[&stored.report]) {
            Ok(()) => stored.status,
            Err(status) => status,
        };
        if let Some(results) = &results {
            results.refresh();
        }
        return status;
    }
    let mut scan = match scanned {
        Ok(scan) => scan,
        Err(err) => {
            say!("threat-analyzer: error: {err}");
            return EXIT_ERROR;
        }
    };
    if args.verbose {
        for (path, reason) in &scan.skipped {
            say!("skipped {}: {reason}", path.display());
        }
    }
    let (notes, unread) = unread_notes(&scan, args.verbose);
    for note in &notes {
        say!("threat-analyzer: {}", note.text);
    }
    if let Err(status) = unread {
        return status;
    }
    let baseline = match baseline_file.map(|source| baseline::load(source, args, &scan)).transpose() {
        Ok(baseline) => baseline,
        Err(status) => return status,
    };
    let pin_findings = mcp_pin::pin_findings(&scan);
    let overrides = severity_overrides(args);
    let infra = infra::unmodelled_resources(&mut scan, &overrides, args.max_file_size);
    // Stored only when a later run can replay it exactly; everything the run read (the walk,
    // the pin file, anchored files) is an input, stated while the analysis runs.
    let storing = results
        .filter(|_| infra.is_empty() && scan.read_without_tree == 0 && scan.parses_refused == 0)
        .map(|results| {
            let notes = notes.into_iter().filter(|n| !n.about_cache).map(|n| n.text).collect();
            let scanned = scan.cache.as_ref().map(walk::CacheUse::entries);
            let read_lstats = std::mem::take(&mut scan.read_lstats);
            results.start_store(crate::read::drain_recorded(), scanned, read_lstats, notes)
        });
    let analysis = args.coverage.analysis(&scan.index);
    // The model's counts do not depend on the diagnostics: counted on the other core.
    let (diagnostics, mut summary) = rayon::join(
        || findings(args, &scan.index, &analysis, pin_findings, &scan.risk, &infra),
        || analysis.model_summary(&scan.index, scan.files_scanned),
    );
    summary.count_levels(&diagnostics);

    let entries = (baseline.is_some() || args.write_baseline.is_some())
        .then(|| analysis::baseline::entries(&scan.index, &diagnostics));
    if let (Some(path), Some(entries)) = (&args.write_baseline, &entries) {
        let written = output::write(
            path,
            &scan.root,
            args.output_policy.requested(true),
            render::baseline::render(entries).as_bytes(),
        );
        if let Err(message) = written {
            say!("threat-analyzer: error: {message}");
            return EXIT_ERROR;
        }
        say!("threat-analyzer: wrote a baseline of {} to {}", count_findings(entries.len()), path.display());
    }
    let comparison = baseline.zip(entries.as_ref()).map(|(old, new)| analysis::baseline::compare(new, &old));
    let comparison = comparison.as_ref();

    let report = match args.format {
        Format::Human => render::human::render_compared(
            &scan.index,
            &diagnostics,
            &summary,
            to_terminal,
            columns,
            comparison,
        ),
        Format::Json => render::json::render_compared(&scan.index, &diagnostics, &summary, comparison),
        Format::Sarif => {
            render::sarif::render_compared(&scan.index, &diagnostics, &summary, &scan.root, comparison)
        }
    };
    let fails = match comparison {
        // Only the findings the baseline does not hold count.
        Some(comparison) => {
            let states = comparison.states.iter();
            let new = render::sorted(&diagnostics).into_iter().zip(states).filter(|(_, s)| **s == New);
            args.fail_on.fails(new.map(|(d, _)| d))
        }
        // Every finding was just written to the baseline.
        None if args.write_baseline.is_some() => false,
        None => args.fail_on.fails(&diagnostics),
    };
    let status = if fails { EXIT_FINDINGS } else { EXIT_OK };
    // Shared with the result cache's writer, not copied.
    let report = std::sync::Arc::new(report);
    let recorded = crate::read::take_recorded();
    // A report with blanks for what changed on disk is not one to replay: dropped, nothing is
    // stored.
    let storing = storing
        .filter(|_| scan.index.stale_files().next().is_none())
        .map(|storing| storing.finish(recorded, status, report.clone()));

    if let Err(status) = emit(args, &scan.root, &report.iter().collect::<Vec<_>>()) {
        return status;
    }
    say_stale(&scan.index);

    // The cache is written while the analysis runs; wait for it before exiting.
    let saved = scan.finish_cache();
    if args.verbose {
        report_cache(&scan, saved);
    }
    if let Some(comparison) = comparison
        && (args.format != Format::Human || args.output.is_some())
    {
        say!("threat-analyzer: {}", render::human::baseline_line(comparison));
    }
    if let Some(storing) = storing {
        let _ = storing.join();
    }
    // The process ends right after this: freeing every file's facts (and every finding) one
    // by one would only cost time (a few percent of a large run), so leave that to the OS.
    std::mem::forget(analysis);
    std::mem::forget(scan);
    std::mem::forget(diagnostics);
    status
}

/// Whether `check`'s human report is styled: written to standard output, colour not turned
/// off, and standard output a terminal that shows styles (`anstream`'s choice: `NO_COLOR`,
/// `CLICOLOR`, `TERM`). A report styled where styles do not show was stripped of them again
/// on its way out, byte by byte: most of the cost of a large human report.
fn styles_shown(args: &CheckArgs) -> bool {
    args.output.is_none()
        && !args.no_color
        && anstream::AutoStream::choice(&std::io::stdout()) != ColorChoice::Never
}

/// Writes `check`'s report to `-o` (checked against `root`) or standard output; the exit
/// status on failure.
fn emit(args: &CheckArgs, root: &Path, report: &[&str]) -> Result<(), i32> {
    if let Some(path) = &args.output
        && let Err(message) =
            output::write(path, root, args.output_policy.requested(true), report.concat().as_bytes())
    {
        say!("threat-analyzer: error: {message}");
        return Err(EXIT_ERROR);
    }
    let written = match &args.output {
        Some(_) => Ok(()),
        None => {
            let stdout = std::io::stdout().lock();
            if args.format == Format::Human && styles_shown(args) {
                let mut out = anstream::AutoStream::new(stdout, ColorChoice::Auto);
                // Each piece ends after a whole finding: no style is cut in two.
                report.iter().try_for_each(|piece| out.write_all(piece.as_bytes())).and_then(|()| out.flush())
            } else {
                // JSON and SARIF carry no styles (their strings escape every control
                // character), nor does a human report where styles do not show: written as
                // they are, not scanned byte by byte for escapes.
                let mut out = stdout;
                report.iter().try_for_each(|piece| out.write_all(piece.as_bytes())).and_then(|()| out.flush())
            }
        }
    };
    match written {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => {
            say!("threat-analyzer: error: cannot write standard output: {e}");
            Err(EXIT_ERROR)
        }
    }
}

/// The analysis of a scan and the diagnostics `check` reports from it (`--severity` applied).
/// `extra`: findings from outside the analysis (the pin file's, [`mcp_pin::pin_findings`]);
/// `infra`: the resources `unmodelled-resource` checks ([`infra::unmodelled_resources`]).
fn check_findings(
    args: &CheckArgs,
    index: &crate::model::ProjectIndex,
    extra: Vec<Diagnostic>,
    risk: &crate::model::risk::RiskPolicy,
    infra: &[analysis::unmodelled::Resources],
) -> (analysis::Analysis, Vec<Diagnostic>) {
    let analysis = args.coverage.analysis(index);
    let diagnostics = findings(args, index, &analysis, extra, risk, infra);
    (analysis, diagnostics)
}

/// [`check_findings`] of an analysis already made (of `index`).
fn findings(
    args: &CheckArgs,
    index: &crate::model::ProjectIndex,
    analysis: &analysis::Analysis,
    extra: Vec<Diagnostic>,
    risk: &crate::model::risk::RiskPolicy,
    infra: &[analysis::unmodelled::Resources],
) -> Vec<Diagnostic> {
    let overrides = severity_overrides(args);
    let today = args.today.or_else(today);
    let policies = crate::model::risk::Policies::one(risk.clone());
    let mut diagnostics = analysis.diagnostics_with_risk_once(index, &policies, today, infra);
    diagnostics.extend(extra);
    overrides.apply(diagnostics)
}

/// `check`'s `--severity` settings.
fn severity_overrides(args: &CheckArgs) -> LevelOverrides {
    let mut overrides = LevelOverrides::default();
    for spec in &args.severity {
        // Already validated by clap's value parser.
        let _ = overrides.set(spec);
    }
    overrides
}

/// `1 finding`, `3 findings`.
fn count_findings(n: usize) -> String {
    if n == 1 { "1 finding".to_string() } else { format!("{n} findings") }
}

/// `--verbose`: what the index cache did.
fn report_cache(scan: &walk::Scan, saved: Option<Result<(), cache::CacheError>>) {
    let Some(used) = &scan.cache else {
        say!("cache: off");
        return;
    };
    let file = used.file.display();
    match &used.load_error {
        None => {
            say!("cache: {file}: reused {} of {} files ({} not read)", used.reused, used.files, used.not_read)
        }
        Some(cache::CacheError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            say!("cache: {file}: none yet")
        }
        Some(e) => say!("cache: {file}: {e}"),
    }
    match saved {
        None => say!("cache: unchanged"),
        Some(Ok(())) => say!("cache: written"),
        Some(Err(e)) => say!("cache: not written: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::file_id::FileId;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2097152"), Ok(2 * 1024 * 1024));
        assert_eq!(parse_size("2MiB"), Ok(2 * 1024 * 1024));
        assert_eq!(parse_size("2M"), Ok(2 * 1024 * 1024));
        assert_eq!(parse_size("10 KB"), Ok(10_000));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert!(parse_size("two").is_err());
        assert!(parse_size("3 parsecs").is_err());
        assert!(parse_size("-1").is_err());
    }

    #[test]
    fn fail_on_thresholds() {
        let d = |level| Diagnostic {
            code: Code::UnusedDefinition,
            level,
            message: String::new(),
            file: FileId::relative("a.py"),
            range: Default::default(),
            related: vec![],
            fix: None,
            unnecessary: false,
            sidecar: None,
            finding_severity: None,
        };
        let warn = [d(Level::Note), d(Level::Warning)];
        assert!(!FailOn::Error.fails(&warn));
        assert!(FailOn::Warning.fails(&warn));
        assert!(FailOn::Note.fails(&warn));
        assert!(!FailOn::Never.fails(&[d(Level::Error)]));
        assert!(FailOn::Error.fails(&[d(Level::Error)]));
        assert!(!FailOn::Note.fails(&[]));
    }
}
