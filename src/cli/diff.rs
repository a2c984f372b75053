//! The `diff` command: what a change did to the threat model, between a git revision (the
//! base) and the working tree or another revision (the head).
//!
//! `threat-analyzer diff [BASE] [--head REF] [--path PATH] [--format human|markdown|json|sarif]
//! [-o FILE] [--fail-on LEVEL] [--link-base URL] [--no-cache] [--coverage-scope SCOPE]`.
//!
//! Both sides are scanned with `check`'s walk ([`crate::walk::scan_from`]): the working tree at
//! the repository's root, a revision through [`crate::revision_scan`] (its tree written into a
//! temporary directory, each side's `threatspec.yaml` and `.guardlink/config.json` applying;
//! against the working tree only the files that differ are written and read, the working
//! tree's scan standing in for the rest). File ids are relative to the repository's root on
//! both sides (what links and SARIF need). Only the working tree uses the index cache: a
//! snapshot's temporary directory would leave a cache file behind per run. The comparison is [`crate::analysis::diff`]'s and the outputs
//! [`render::diff`]'s.
//!
//! Exit status: 0 when no change reaches `--fail-on`, 1 when one does, 2 on usage, git and
//! I/O errors (not a repository, an unknown revision, a shallow clone without the base).

use super::{CacheArgs, CoverageArgs, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, OutputPolicyArgs};
use crate::analysis::diff::{Class, ModelDiff};
use crate::paths::normalize;
use crate::render;
use crate::revision_scan;
use crate::sides;
use crate::vcs::{self, GitRepository};
use crate::walk::{self, WalkOptions};
use anstream::ColorChoice;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const DIFF_AFTER_HELP: &str = "\
BASE is a git revision: a branch, tag, commit id, `HEAD~3` or `origin/main`. Without it the base
is the merge base of HEAD with the default branch (origin/HEAD's target, else main or master,
local or origin/), or HEAD when there is none. The head is the working tree, or --head REF.
git is read in-process: no program is run. In a shallow clone (CI's default checkout) the base
must have been fetched: actions/checkout needs `fetch-depth: 0`.

Changes, most severe first: new unmitigated exposures, defences removed (an exposure covered on
the base is open on the head), new confirmed findings, raised severities, new flows crossing a
trust boundary (risk increases); acceptances and transfers added, mitigations replaced by an
acceptance, lowered severities, trust boundaries removed, new diagnostics (to review); resolved
exposures (mitigated, accepted, transferred or removed), and entities, flows and mitigations
added or removed. Entities match by id, then by name: moving an annotation to another file, or
renaming an id everywhere, is not a removal plus an addition.

--fail-on levels include the ones before them: new-unmitigated (a new unmitigated exposure or
confirmed finding), defence-removed (also a defence removed; the default), any-risk-increase
(also a raised severity of an open exposure, a new flow crossing a trust boundary), never.

Examples:
  threat-analyzer diff                       Working tree against the merge base with main
  threat-analyzer diff main --format markdown -o comment.md
                                             A pull-request comment
  threat-analyzer diff HEAD~1 --head HEAD --fail-on any-risk-increase
                                             What the last commit did, failing on any increase
  threat-analyzer diff origin/main --format sarif -o diff.sarif
                                             SARIF with baselineState for code scanning
  threat-analyzer diff v1.2 --format json --path services/api

Exit status: 0 no change reaches --fail-on, 1 one does, 2 usage, git or I/O error.";

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The base revision (default: the merge base with the default branch).
    #[arg(value_name = "BASE")]
    pub base: Option<String>,

    /// The head revision (default: the working tree).
    #[arg(long, value_name = "REF")]
    pub head: Option<String>,

    /// The directory (or file) to compare, inside the repository.
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human, value_name = "FORMAT")]
    pub format: DiffFormat,

    /// Write the output to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit with status 1 when a change of this kind (or one listed before it) is found.
    #[arg(long, value_enum, default_value_t = DiffFailOn::DefenceRemoved, value_name = "LEVEL")]
    pub fail_on: DiffFailOn,

    /// Markdown: link each place to URL + path + `#L<line>`, e.g.
    /// https://github.com/OWNER/REPO/blob/SHA/ (places on the base link to the base commit
    /// when URL holds a 40-hex commit id).
    #[arg(long, value_name = "URL", value_parser = parse_link_base)]
    pub link_base: Option<String>,

    /// Never colour the output (colour is used only on a terminal and when NO_COLOR is unset).
    #[arg(long)]
    pub no_color: bool,

    #[command(flatten)]
    pub output_policy: OutputPolicyArgs,

    #[command(flatten)]
    pub cache: CacheArgs,

    #[command(flatten)]
    pub coverage: CoverageArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Readable text, grouped by impact.
    Human,
    /// A pull-request comment (GitHub-flavoured Markdown).
    Markdown,
    /// One JSON object (schema: README, "Pull requests").
    Json,
    /// SARIF 2.1.0 of the head's findings and the base's that are gone, with baselineState.
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFailOn {
    /// A new unmitigated exposure or confirmed finding.
    NewUnmitigated,
    /// Those, or a defence removed.
    DefenceRemoved,
    /// Any risk increase.
    AnyRiskIncrease,
    Never,
}

impl DiffFailOn {
    /// Whether `diff` holds a change at this level or one before it.
    pub fn fails(self, diff: &ModelDiff) -> bool {
        let has = |class: Class| diff.of_class(class).any(|c| c.is_risk_increase());
        let new_unmitigated = || has(Class::NewUnmitigatedExposure) || has(Class::NewConfirmedFinding);
        match self {
            DiffFailOn::NewUnmitigated => new_unmitigated(),
            DiffFailOn::DefenceRemoved => new_unmitigated() || has(Class::DefenceRemoved),
            DiffFailOn::AnyRiskIncrease => diff.has_risk_increase(),
            DiffFailOn::Never => false,
        }
    }
}

/// A link base is an `http(s)` URL with nothing a Markdown link target could break on; a `/`
/// is added at its end when missing.
fn parse_link_base(text: &str) -> Result<String, String> {
    if !(text.starts_with("https://") || text.starts_with("http://")) {
        return Err("must start with https:// or http://".into());
    }
    if let Some(c) = text.chars().find(|c| c.is_whitespace() || c.is_control() || "()<>\"'`\\[]".contains(*c))
    {
        return Err(format!("must not contain {c:?}"));
    }
    Ok(if text.ends_with('/') { text.to_string() } else { format!("{text}/") })
}

/// The working tree's walk of `rel` (ids relative to the repository's root `workdir`).
fn scan_working_tree(workdir: &Path, rel: &Path, cache: Option<PathBuf>) -> Result<walk::Scan, i32> {
    let options = WalkOptions { cache_dir: cache, ..WalkOptions::default() };
    let mut scan = walk::scan_from(workdir, &[rel.to_path_buf()], &options).map_err(|err| {
        say!("threat-analyzer: error: {err}");
        EXIT_ERROR
    })?;
    let _ = scan.finish_cache();
    super::report_unread(&scan, false)?;
    Ok(scan)
}

/// `revision`'s walk of `rel` (ids relative to the repository's root), reusing the working
/// tree's scan for the files it has unchanged when there is one; and whether the index was
/// derived from the working tree's (so its analysis can be updated from the working tree's).
fn scan_revision(
    repo: &GitRepository,
    revision: &vcs::Revision,
    rel: &Path,
    working: Option<&walk::Scan>,
) -> Result<(crate::model::ProjectIndex, bool), i32> {
    let working = working.map(|scan| revision_scan::WorkingTree { scan });
    let scanned = revision_scan::scan_revision(
        repo,
        revision,
        Path::new(""),
        &[rel.to_path_buf()],
        &WalkOptions::default(),
        working,
    )
    .map_err(|err| {
        say!("threat-analyzer: error: {err}");
        EXIT_ERROR
    })?;
    report_skipped(&scanned.snapshot);
    if let Some(scan) = &scanned.scan {
        super::report_unread(scan, false)?;
    }
    let derived = matches!(scanned.way, revision_scan::Way::ChangesOnly { .. });
    Ok((scanned.index, derived))
}

fn vcs_error(err: vcs::VcsError) -> i32 {
    say!("threat-analyzer: error: {err}");
    EXIT_ERROR
}

/// Says which tree entries a snapshot left out (links, submodules, ...), if any.
fn report_skipped(snapshot: &vcs::Snapshot) {
    let skipped = snapshot.skipped();
    if let Some((path, why)) = skipped.first() {
        let more = if skipped.len() > 1 { format!(" and {} more", skipped.len() - 1) } else { String::new() };
        say!(
            "threat-analyzer: note: {}: {} not compared ({why}){more}",
            snapshot.revision().spec,
            path.display()
        );
    }
}

/// Runs `diff`; returns the exit status.
pub fn run(args: &DiffArgs) -> i32 {
    match compare(args) {
        Ok(status) | Err(status) => status,
    }
}

fn compare(args: &DiffArgs) -> Result<i32, i32> {
    let cwd = std::env::current_dir().map_err(|e| {
        say!("threat-analyzer: error: the current directory: {e}");
        EXIT_ERROR
    })?;
    let target = normalize(&cwd.join(&args.path));
    let repo = GitRepository::discover(&target).map_err(vcs_error)?;
    let workdir = repo.real_workdir();
    let rel = match repo.path_in_workdir(&target) {
        Some(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
        Some(rel) => rel,
        None => {
            say!(
                "threat-analyzer: error: {} is outside the git repository {}",
                args.path.display(),
                workdir.display()
            );
            return Err(EXIT_ERROR);
        }
    };

    let base_revision = match &args.base {
        Some(spec) => repo.resolve(spec),
        None => repo.default_base(),
    }
    .map_err(vcs_error)?;
    let head_revision = args.head.as_deref().map(|spec| repo.resolve(spec)).transpose().map_err(vcs_error)?;
    let (head, base) = match &head_revision {
        Some(head_revision) => (
            scan_revision(&repo, head_revision, &rel, None)?.0,
            scan_revision(&repo, &base_revision, &rel, None)?,
        ),
        // A PATH the working tree does not have (a directory the change removes) holds nothing.
        None if std::fs::symlink_metadata(workdir.join(&rel)).is_err() => {
            (crate::model::ProjectIndex::default(), scan_revision(&repo, &base_revision, &rel, None)?)
        }
        None => {
            let working = scan_working_tree(&workdir, &rel, args.cache.dir())?;
            let base = scan_revision(&repo, &base_revision, &rel, Some(&working))?;
            (working.index, base)
        }
    };
    let head_analysis = args.coverage.analysis(&head);
    let head = render::diff::Analysed::new(head, head_analysis);
    // A base derived from the head's index re-resolves only what the change can alter.
    let (base, derived) = base;
    let base_analysis = args.coverage.update(derived.then_some(&head.analysis), &base);
    let base = render::diff::Analysed::new(base, base_analysis);
    let sides = sides::sides(&base_revision, head_revision.as_ref(), "working tree");

    let diff = render::diff::compare(base.input(), head.input());

    let to_terminal = args.output.is_none() && !args.no_color;
    let text = match args.format {
        DiffFormat::Human => render::diff::human(&diff, &sides, to_terminal),
        DiffFormat::Markdown => render::diff::markdown(&diff, &sides, args.link_base.as_deref()),
        DiffFormat::Json => render::diff::json(&diff, &sides, &workdir),
        DiffFormat::Sarif => render::diff::sarif(
            (&base.index, &base.diagnostics),
            (&head.index, &head.diagnostics),
            &workdir,
            &sides,
        ),
    };
    write_output(args, &cwd, &text)?;
    let status = if args.fail_on.fails(&diff) { EXIT_FINDINGS } else { EXIT_OK };
    // The process ends right after this (as `check`'s does): freeing both sides' facts one by
    // one would only cost time, so leave that to the OS.
    std::mem::forget((base, head, diff, text));
    Ok(status)
}

/// Writes `text` to `-o FILE` (by the output rule, with the current directory as the project
/// root) or standard output.
fn write_output(args: &DiffArgs, cwd: &Path, text: &str) -> Result<(), i32> {
    let written = match &args.output {
        Some(path) => super::output::write(path, cwd, args.output_policy.requested(true), text.as_bytes()),
        None => {
            let choice = if args.no_color { ColorChoice::Never } else { ColorChoice::Auto };
            let mut out = anstream::AutoStream::new(std::io::stdout().lock(), choice);
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => Ok(()),
                // A closed pipe (`| head`) is the reader's choice, not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(format!("cannot write standard output: {e}")),
            }
        }
    };
    written.map_err(|message| {
        say!("threat-analyzer: error: {message}");
        EXIT_ERROR
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_bases_are_http_urls_a_link_cannot_break_on() {
        assert_eq!(
            parse_link_base("https://github.com/o/r/blob/abc").unwrap(),
            "https://github.com/o/r/blob/abc/"
        );
        assert_eq!(parse_link_base("http://h/x/").unwrap(), "http://h/x/");
        for bad in [
            "javascript:alert(1)",
            "ftp://h/",
            "https://h/a b",
            "https://h/a)b",
            "https://h/<x>",
            "https://h/\n",
        ] {
            assert!(parse_link_base(bad).is_err(), "{bad:?}");
        }
    }
}
