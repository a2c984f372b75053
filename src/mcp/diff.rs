//! The `diff` tool's git side: the workspace folder at a base revision (and at a head
//! revision when one is asked for), read in-process and walked as `threat-analyzer diff` walks
//! a revision ([`crate::revision_scan::scan_revision`]), file ids relative to the workspace
//! folder as every other tool gives them.
//!
//! Owns: opening the repository that holds the folder, resolving the revisions (the base by
//! default as the command line chooses it: [`GitRepository::default_base`]) and scanning them.
//! Must never: run `git` or any other program, write outside the snapshot directory (the
//! revision scan's), or word an error otherwise than the command line does (its errors are
//! [`crate::vcs::VcsError`]'s and the walk's).
//!
//! Blocking work: a [`GitRepository`] is not `Send`, so the whole of [`scan`] runs on one
//! blocking thread.

use crate::model::ProjectIndex;

// @exposes ThreatAnalyzer.Mcp to #command-execution -- "diff reads git in a repository whose configuration the agent or the repository may have written"
// @mitigates ThreatAnalyzer.Mcp against #command-execution using #no-exec-no-network
use crate::vcs::{GitRepository, Revision};
use crate::walk::WalkOptions;
use std::path::{Path, PathBuf};

/// One side read from git: the folder's project at a revision.
pub struct Scanned {
    pub index: ProjectIndex,
    pub revision: Revision,
}

/// The revisions a `diff` call compares.
pub struct Revisions {
    pub base: Scanned,
    /// `None`: the head is the workspace as the server holds it.
    pub head: Option<Scanned>,
}

/// Reads `folder` (absolute, canonical) at `base` (default: the merge base with the default
/// branch) and at `head` when given. The error is the command line's sentence.
pub fn scan(
    folder: &Path,
    base: Option<&str>,
    head: Option<&str>,
    options: &WalkOptions,
) -> Result<Revisions, String> {
    let repo = GitRepository::discover(folder).map_err(|e| e.to_string())?;
    let Some(inside) = repo.path_in_workdir(folder) else {
        return Err(format!(
            "{} is outside the git repository {}",
            folder.display(),
            repo.real_workdir().display()
        ));
    };
    let base = match base {
        Some(spec) => repo.resolve(spec),
        None => repo.default_base(),
    }
    .map_err(|e| e.to_string())?;
    let head = head.map(|spec| repo.resolve(spec)).transpose().map_err(|e| e.to_string())?;
    let read = |revision: Revision| -> Result<Scanned, String> {
        let paths: [PathBuf; 1] = [inside.clone()];
        let options = WalkOptions { absolute_paths: false, ..options.clone() };
        let scanned = crate::revision_scan::scan_revision(&repo, &revision, &inside, &paths, &options, None)
            .map_err(|e| e.to_string())?;
        Ok(Scanned { index: scanned.index, revision })
    };
    let base = read(base)?;
    let head = head.map(read).transpose()?;
    Ok(Revisions { base, head })
}
