//! Where the CLI may write, and the one way it writes files.
//!
//! Owns: the output-path rule of `check -o`, `dfd -o`, `report [-o]`, `export [-o]` and the
//! files `init` creates, and writing the files. Must never: write through a symbolic link that a repository could have
//! planted, or follow one out of the project for an output the user did not name.
//!
//! # Threat model
//!
//! The files threat-analyzer reads come from a repository, which may be hostile (a pull request
//! checked out in CI, a project cloned to look at). The user and the command line are trusted.
//! A repository cannot choose what the CLI writes (always a report or an export), but it can
//! choose *where*, by planting symbolic links at the places the CLI writes to:
//!
//! - `.threatmodel` committed as a link to `~/.ssh`, or `.threatmodel/report.md` as a link to
//!   `~/.bashrc`: `threat-analyzer report` would overwrite a file outside the project;
//! - `results.sarif` committed as a link: `check --format sarif -o results.sarif` in CI
//!   would overwrite whatever it points to on the runner;
//! - `out` committed as a link to `/etc`: `dfd -o out/dfd.svg` would write there.
//!
//! So:
//!
//! 1. **No output is written through a symbolic link at the file itself**, whoever named it
//!    (checked, and enforced when opening with `O_NOFOLLOW`): the user named a file, not
//!    where a link in the repository sends it.
//! 2. **Default outputs** (`.threatmodel/...` when there is no `-o`, and the files `init`
//!    scaffolds, which it also never writes over: [`create_new`]) must lie in the project:
//!    every directory from the project root down is a real directory (created if missing,
//!    never followed when it is a link).
//! 3. **Paths given with `-o`** must lie in the project, the current directory or the cache
//!    directory ([`crate::cache::default_dir`]); `..` or an absolute path elsewhere is refused.
//!    A CI workflow is part of the repository too, so `-o` alone must not reach the rest of
//!    the machine. `--allow-outside-output` lifts this for one run: the user (or an editor,
//!    after a save dialog) named the place on purpose (`-o /tmp/dfd.svg`).
//!    Either way, a path that *names* a place inside the project, the current directory or the
//!    cache directory must also *resolve* there: a symbolic link on the way that leads out is
//!    refused, because the user asked for that place and the repository chose another.
//!
//! Refusals exit with status 2 and name the path and the link. The other direction, paths a
//! repository's own configuration asks the tool to *read* (`threatspec.yaml` `paths:`), must
//! stay inside the project: see the `walk` module.

use crate::paths::normalize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Who chose an output path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requested {
    /// The command's default (`.threatmodel/...` in the project root).
    ByDefault,
    /// The user, with `-o`; `anywhere` with `--allow-outside-output`.
    OnCommandLine { anywhere: bool },
}

/// Checks `path` against the output rule (see the module docs) and writes `bytes` to it (its
/// directory must exist: see [`prepare`]). The error names the path and why.
// @exposes Host.Outputs to #symlink-following -- "a repository can plant links where output goes"
// @mitigates Host.Outputs against #symlink-following using #no-follow-outputs
pub fn write(path: &Path, project_root: &Path, requested: Requested, bytes: &[u8]) -> Result<(), String> {
    check(path, project_root, requested)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    open_and_write(path, options, bytes).map_err(|e| cannot_write(path, e))
}

/// What [`create_new`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Created {
    Written,
    /// Something (a file, a directory, a link) is already at the path; it was left alone.
    AlreadyExists,
}

/// Like [`write`], but never replaces anything: the file is created only if nothing is at
/// `path` (`O_EXCL`, which also refuses a link, even a dangling one), so a file that appears
/// after the caller looked is still left alone.
pub fn create_new(
    path: &Path,
    project_root: &Path,
    requested: Requested,
    bytes: &[u8],
) -> Result<Created, String> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Ok(Created::AlreadyExists);
    }
    check(path, project_root, requested)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    match open_and_write(path, options, bytes) {
        Ok(()) => Ok(Created::Written),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Created::AlreadyExists),
        Err(e) => Err(cannot_write(path, e)),
    }
}

/// What [`replace`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replaced {
    Written,
    /// The file's bytes are no longer `expected` (changed since the caller read them): left
    /// alone.
    Changed,
}

/// Replaces the project file at `path` (a default output: inside `project_root`, no link on
/// the way or at the file, a regular file) by `bytes`, atomically: a temporary file in the same
/// directory, given the file's permissions, renamed over it. Only when the file still holds
/// `expected` (compared just before the rename; what changes in the instant between the two is
/// not seen). `baseline --apply` writes templates this way.
pub fn replace(path: &Path, project_root: &Path, expected: &[u8], bytes: &[u8]) -> Result<Replaced, String> {
    check(path, project_root, Requested::ByDefault)?;
    let meta = std::fs::symlink_metadata(path).map_err(|e| cannot_write(path, e))?;
    if !meta.file_type().is_file() {
        return Err(format!("refusing to write {}: not a regular file", path.display()));
    }
    let temp = temp_beside(path)?;
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        open_and_write(&temp, options, bytes)?;
        std::fs::set_permissions(&temp, meta.permissions())?;
        std::fs::File::open(&temp)?.sync_all()
    })();
    let outcome = match written {
        Err(e) => Err(cannot_write(path, e)),
        Ok(()) => match std::fs::read(path) {
            Ok(now) if now != expected => Ok(Replaced::Changed),
            Ok(_) => {
                std::fs::rename(&temp, path).map(|()| Replaced::Written).map_err(|e| cannot_write(path, e))
            }
            Err(e) => Err(cannot_write(path, e)),
        },
    };
    if outcome != Ok(Replaced::Written) {
        let _ = std::fs::remove_file(&temp);
    }
    outcome
}

/// Creates the project file at `path` (a default output; its directories are created: see
/// [`prepare`]) with `bytes`, atomically and without replacing anything: a temporary file in the
/// same directory, linked to `path` only if nothing is there (then removed).
pub fn create_atomically(path: &Path, project_root: &Path, bytes: &[u8]) -> Result<Created, String> {
    prepare(path, project_root, Requested::ByDefault)?;
    if std::fs::symlink_metadata(path).is_ok() {
        return Ok(Created::AlreadyExists);
    }
    let temp = temp_beside(path)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    let outcome =
        match open_and_write(&temp, options, bytes).and_then(|()| std::fs::File::open(&temp)?.sync_all()) {
            Err(e) => Err(cannot_write(path, e)),
            Ok(()) => match std::fs::hard_link(&temp, path) {
                Ok(()) => Ok(Created::Written),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Created::AlreadyExists),
                Err(e) => Err(cannot_write(path, e)),
            },
        };
    let _ = std::fs::remove_file(&temp);
    outcome
}

/// A temporary file's path in `path`'s directory (a hidden name with the process id).
fn temp_beside(path: &Path) -> Result<PathBuf, String> {
    let name = path.file_name().ok_or_else(|| format!("cannot write {}: no file name", path.display()))?;
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".threat-analyzer-{}.tmp", std::process::id()));
    Ok(path.with_file_name(temp))
}

/// Opens `path` with `options` and `O_NOFOLLOW` (a link at the file itself is never
/// followed) and writes `bytes`.
fn open_and_write(path: &Path, mut options: std::fs::OpenOptions, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    options.open(path)?.write_all(bytes)
}

fn cannot_write(path: &Path, e: std::io::Error) -> String {
    format!("cannot write {}: {e}", path.display())
}

/// Whether `path` may be written (see the module docs).
// @exposes Host.Outputs to #path-traversal -- "-o ../x or an absolute path from a CI workflow"
// @mitigates Host.Outputs against #path-traversal using #confined-outputs
pub fn check(path: &Path, project_root: &Path, requested: Requested) -> Result<(), String> {
    let cwd = std::env::current_dir().map_err(|e| format!("cannot determine the current directory: {e}"))?;
    let abs = normalize(&cwd.join(path));
    let root = normalize(&cwd.join(project_root));
    if std::fs::symlink_metadata(&abs).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!(
            "refusing to write {}: it is a symbolic link{} (a repository can plant one where output \
             goes; remove it or write elsewhere)",
            path.display(),
            link_target(&abs)
        ));
    }
    match requested {
        Requested::ByDefault => {
            if !abs.starts_with(&root) {
                return Err(format!(
                    "refusing to write {}: the default output must be inside {}",
                    path.display(),
                    root.display()
                ));
            }
            match first_link(&root, &abs) {
                Some(link) => Err(link_out(path, &link)),
                None => Ok(()),
            }
        }
        Requested::OnCommandLine { anywhere } => {
            let cache = crate::cache::default_dir().map(|dir| normalize(&cwd.join(dir)));
            let bases: Vec<&Path> =
                [Some(root.as_path()), Some(cwd.as_path()), cache.as_deref()].into_iter().flatten().collect();
            for base in &bases {
                if abs.starts_with(base) && !resolve(&abs).starts_with(resolve(base)) {
                    let link = first_link(base, &abs).unwrap_or_else(|| abs.clone());
                    return Err(link_out(path, &link));
                }
            }
            if !anywhere && !bases.iter().any(|base| abs.starts_with(base)) {
                let mut places = vec![
                    format!("the project ({})", root.display()),
                    format!("the current directory ({})", cwd.display()),
                ];
                places.extend(cache.map(|c| format!("the cache directory ({})", c.display())));
                let last = places.pop().unwrap_or_default();
                return Err(format!(
                    "refusing to write {}: it is outside {} and {last}; pass --allow-outside-output to write there",
                    path.display(),
                    places.join(", "),
                ));
            }
            Ok(())
        }
    }
}

fn link_out(path: &Path, link: &Path) -> String {
    format!(
        "refusing to write {}: {} is a symbolic link{} that leads out of the project (give the real \
         path to write there)",
        path.display(),
        link.display(),
        link_target(link)
    )
}

fn link_target(link: &Path) -> String {
    std::fs::read_link(link).map(|t| format!(" to {}", t.display())).unwrap_or_default()
}

/// Checks `path` against the output rule and creates its missing directories (checked again
/// afterwards, in case a link appeared meanwhile).
pub fn prepare(path: &Path, project_root: &Path, requested: Requested) -> Result<(), String> {
    check(path, project_root, requested)?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| cannot_write(path, e))?;
        check(path, project_root, requested)?;
    }
    Ok(())
}

/// The first symbolic link on the way from `base` down to `abs` (both absolute).
fn first_link(base: &Path, abs: &Path) -> Option<PathBuf> {
    let mut at = base.to_path_buf();
    for component in abs.strip_prefix(base).ok()?.components() {
        at.push(component);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return Some(at);
        }
    }
    None
}

/// `path` with symbolic links resolved as far as it exists (the rest appended as is).
fn resolve(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(&existing) {
            return rest.iter().rev().fold(real, |acc: PathBuf, part| acc.join(part));
        }
        match (existing.file_name().map(|n| n.to_os_string()), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}
