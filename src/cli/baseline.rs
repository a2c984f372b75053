//! `check --baseline FILE|REF`: finding the baseline a value names.
//!
//! Owns: deciding what the value is (an existing path is a baseline file; anything else must
//! resolve as a git revision of the repository holding the first PATH), reading the file with
//! the configuration-file rules of [`crate::read`] (a regular file, not a link, at most
//! [`crate::limits::MAX_BASELINE_FILE_SIZE`]), and a revision's findings: the revision
//! scanned by [`crate::revision_scan`] (the working tree's scan standing in for the files it
//! has unchanged) with `check`'s own walk options, analysis and `--severity`, the PATHs mapped
//! into it. A file is read before the working tree is scanned, a revision after. Must never:
//! match findings (that is [`crate::analysis::baseline`]) or write anything.

use super::{CheckArgs, EXIT_ERROR, WalkFilter, check_findings};
use crate::analysis::baseline::{self, Entry};
use crate::paths::normalize;
use crate::read::{Links, read_bounded};
use crate::revision_scan;
use crate::vcs::{GitRepository, Revision, VcsError};
use crate::walk;
use std::path::{Path, PathBuf};

/// Where a `--baseline` value points.
pub(super) enum Source {
    /// A baseline file, read.
    File(Vec<Entry>),
    /// A git revision, to be scanned once the working tree is.
    Revision { repo: Box<GitRepository>, revision: Revision },
}

/// What `value` names: a baseline file (read now) or a git revision; on failure prints why
/// (naming the value) and returns the exit status to use.
pub(super) fn source(value: &Path, args: &CheckArgs) -> Result<Source, i32> {
    if std::fs::symlink_metadata(value).is_ok() {
        return read_file(value).map(Source::File).map_err(failed);
    }
    let Some(spec) = value.to_str() else {
        return Err(failed(format!("--baseline {}: no such file", value.display())));
    };
    let neither = |why: VcsError| format!("--baseline {spec}: no such file, and not a git revision ({why})");
    let cwd = current_dir()?;
    let first = normalize(&cwd.join(args.paths.first().map_or(Path::new("."), PathBuf::as_path)));
    let inside = if first.is_dir() { first.as_path() } else { first.parent().unwrap_or(&first) };
    let repo = GitRepository::discover(inside).map_err(|e| failed(neither(e)))?;
    let revision = repo.resolve(spec).map_err(|e| match e {
        VcsError::UnknownRevision { .. } => failed(neither(e)),
        other => failed(format!("--baseline {spec}: {other}")),
    })?;
    Ok(Source::Revision { repo: Box::new(repo), revision })
}

/// The baseline entries of `source`; a revision is scanned with the working tree's `scan`
/// standing in for the files it has unchanged ([`crate::revision_scan`]).
pub(super) fn load(source: Source, args: &CheckArgs, scan: &walk::Scan) -> Result<Vec<Entry>, i32> {
    let (repo, revision) = match source {
        Source::File(entries) => return Ok(entries),
        Source::Revision { repo, revision } => (repo, revision),
    };
    let spec = &revision.spec;
    say!(
        "threat-analyzer: baseline: the findings of {spec} (commit {}: {})",
        &revision.commit[..12.min(revision.commit.len())],
        revision.summary
    );
    revision_findings(&repo, &revision, args, scan).inspect_err(|_| {
        say!("threat-analyzer: error: --baseline {spec}: the revision could not be checked");
    })
}

fn failed(message: String) -> i32 {
    say!("threat-analyzer: error: {message}");
    EXIT_ERROR
}

fn current_dir() -> Result<PathBuf, i32> {
    std::env::current_dir().map_err(|e| failed(format!("cannot determine the current directory: {e}")))
}

// @exposes ThreatAnalyzer.Cli to #symlink-following -- "a repository can plant a link as its baseline file"
// @mitigates ThreatAnalyzer.Cli against #symlink-following using #bounded-reads
/// Reads and parses a baseline file.
fn read_file(path: &Path) -> Result<Vec<Entry>, String> {
    let why = |what: String| format!("baseline {}: {what}", path.display());
    let bytes = read_bounded(path, crate::limits::MAX_BASELINE_FILE_SIZE, Links::Refuse)
        .map_err(|refusal| why(format!("not read: {refusal}")))?;
    let text = String::from_utf8(bytes).map_err(|_| why("not UTF-8".into()))?;
    baseline::parse(&text).map_err(why)
}

/// The findings `check` reports for `revision`: each PATH mapped from the working tree into
/// the revision (a PATH the revision does not have holds no findings), the same walk options
/// (without the index cache), the same analysis and `--severity`.
fn revision_findings(
    repo: &GitRepository,
    revision: &Revision,
    args: &CheckArgs,
    scan: &walk::Scan,
) -> Result<Vec<Entry>, i32> {
    let cwd = current_dir()?;
    let given = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let mut paths = Vec::new();
    for path in &given {
        match repo.path_in_workdir(&normalize(&cwd.join(path))) {
            Some(relative) => paths.push(relative),
            None => {
                return Err(failed(format!(
                    "{} is outside the git repository at {}, so --baseline cannot name a revision of it",
                    path.display(),
                    repo.real_workdir().display()
                )));
            }
        }
    }
    // The current directory's place in the revision, so paths are relative to the same base
    // directory as the working tree's; outside the repository, a directory that holds no
    // PATH, so the base is their deepest common directory as it is there.
    let revision_cwd = repo
        .path_in_workdir(&cwd)
        .unwrap_or_else(|| PathBuf::from(".threat-analyzer-outside-the-repository"));
    let filter =
        WalkFilter { max_file_size: args.max_file_size, include: &args.include, exclude: &args.exclude };
    let working = Some(revision_scan::WorkingTree { scan });
    let scanned =
        revision_scan::scan_revision(repo, revision, &revision_cwd, &paths, &filter.options(None), working)
            .map_err(|err| failed(err.to_string()))?;
    if args.verbose {
        for (path, why) in scanned.snapshot.skipped() {
            say!("baseline {}: not written from git: {}: {why}", revision.spec, path.display());
        }
    }
    if let Some(scan) = &scanned.scan {
        super::report_unread(scan, args.verbose)?;
    }
    // A revision's pin file is not read: its findings are never in a revision's baseline. Nor
    // are its templates: `unmodelled-resource` notes are never in it either.
    let risk = scanned.scan.as_ref().map(|s| s.risk.clone()).unwrap_or_default();
    let (_, diagnostics) = check_findings(args, &scanned.index, Vec::new(), &risk, &[]);
    Ok(baseline::entries(&scanned.index, &diagnostics))
}
