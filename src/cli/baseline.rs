//! `check --baseline FILE|REF`: finding the baseline a value names.
//!
//! Owns: deciding what the value is (an existing path is a baseline file; anything else must
//! resolve as a git revision of the repository holding the first PATH), reading the file with
//! the configuration-file rules of [`crate::read`] (a regular file, not a link, at most
//! [`crate::limits::MAX_BASELINE_FILE_SIZE`]), and a revision's findings: its snapshot
//! ([`crate::vcs`]) scanned with `check`'s own walk options, analysis and `--severity`, the
//! PATHs mapped into it. Must never: match findings (that is [`crate::analysis::baseline`]) or
//! write anything.

use super::{CheckArgs, EXIT_ERROR, WalkFilter, check_findings};
use crate::analysis::baseline::{self, Entry};
use crate::paths::normalize;
use crate::read::{Links, read_bounded};
use crate::vcs::{GitRepository, VcsError};
use crate::walk;
use std::path::{Path, PathBuf};

/// The baseline entries `value` names; on failure prints why (naming the value) and returns
/// the exit status to use.
pub(super) fn load(value: &Path, args: &CheckArgs) -> Result<Vec<Entry>, i32> {
    let failed = |message: String| {
        say!("threat-analyzer: error: {message}");
        EXIT_ERROR
    };
    if std::fs::symlink_metadata(value).is_ok() {
        return read_file(value).map_err(failed);
    }
    let Some(spec) = value.to_str() else {
        return Err(failed(format!("--baseline {}: no such file", value.display())));
    };
    let neither = |why: VcsError| format!("--baseline {spec}: no such file, and not a git revision ({why})");
    let cwd = std::env::current_dir()
        .map_err(|e| failed(format!("cannot determine the current directory: {e}")))?;
    let first = normalize(&cwd.join(args.paths.first().map_or(Path::new("."), PathBuf::as_path)));
    let inside = if first.is_dir() { first.as_path() } else { first.parent().unwrap_or(&first) };
    let repo = GitRepository::discover(inside).map_err(|e| failed(neither(e)))?;
    let revision = repo.resolve(spec).map_err(|e| match e {
        VcsError::UnknownRevision { .. } => failed(neither(e)),
        other => failed(format!("--baseline {spec}: {other}")),
    })?;
    say!(
        "threat-analyzer: baseline: the findings of {spec} (commit {}: {})",
        &revision.commit[..12.min(revision.commit.len())],
        revision.summary
    );
    let snapshot = repo.snapshot(&revision).map_err(|e| failed(format!("--baseline {spec}: {e}")))?;
    if args.verbose {
        for (path, why) in snapshot.skipped() {
            say!("baseline {spec}: not written from git: {}: {why}", path.display());
        }
    }
    revision_findings(&repo, snapshot.root(), &cwd, args).inspect_err(|_| {
        say!("threat-analyzer: error: --baseline {spec}: the revision could not be checked");
    })
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

/// The findings `check` reports for the revision written at `root`: each PATH mapped from the
/// working tree into the snapshot (a PATH the revision does not have holds no findings), the
/// same walk options (without the index cache: a snapshot's directory is new every run), the
/// same analysis and `--severity`.
fn revision_findings(
    repo: &GitRepository,
    root: &Path,
    cwd: &Path,
    args: &CheckArgs,
) -> Result<Vec<Entry>, i32> {
    let into_snapshot = |path: &Path| -> Result<PathBuf, i32> {
        match repo.path_in_workdir(&normalize(&cwd.join(path))) {
            Some(relative) => Ok(root.join(relative)),
            None => {
                say!(
                    "threat-analyzer: error: {} is outside the git repository at {}, so --baseline cannot \
                     name a revision of it",
                    path.display(),
                    repo.real_workdir().display()
                );
                Err(EXIT_ERROR)
            }
        }
    };
    let given = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let mut paths = Vec::new();
    for path in &given {
        let mapped = into_snapshot(path)?;
        if std::fs::symlink_metadata(&mapped).is_ok() {
            paths.push(mapped);
        }
    }
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    // The current directory's place in the snapshot, so paths are relative to the same base
    // directory as the working tree's; outside the repository, a directory that holds no
    // PATH, so the base is their deepest common directory as it is there.
    let snapshot_cwd = match repo.path_in_workdir(cwd) {
        Some(relative) => root.join(relative),
        None => root.join(".threat-analyzer-outside-the-repository"),
    };
    let filter =
        WalkFilter { max_file_size: args.max_file_size, include: &args.include, exclude: &args.exclude };
    let scan = walk::scan_from(&snapshot_cwd, &paths, &filter.options(None)).map_err(|err| {
        say!("threat-analyzer: error: {err}");
        EXIT_ERROR
    })?;
    super::report_unread(&scan, args.verbose)?;
    let (_, diagnostics) = check_findings(args, &scan);
    Ok(baseline::entries(&scan.index, &diagnostics))
}
