//! A git revision's project, scanned as `check` scans a directory: the base side of `diff`
//! and of `check --baseline REF`.
//!
//! Owns: choosing how a revision is scanned, and putting the result together. The revision's
//! tree is written by [`crate::vcs::GitRepository::snapshot_omitting`] and read by [`walk::scan_from`]
//! (so a revision is read by every rule of the walk), in one of two ways:
//!
//! - **Whole**: every file of the tree is written and walked. Always correct; what costs is the
//!   file system (writing two thousand files takes seconds on a slow disk).
//! - **Changes only**, when the caller passes the scan of the working tree ([`WorkingTree`]):
//!   a file whose working-tree copy is the same blob (same git object id, a regular file, no
//!   symbolic link on the way) is not written, and its facts are the working tree scan's (the
//!   walk's verdict on a file depends only on its path, its bytes and the rules, and the rules
//!   are checked to be the same). Only the files the change touched, and the ignore files, are
//!   written and walked. A working tree file is compared by what git's index says of it when
//!   git's status would trust that (its stat data the index's, not racy, not marked
//!   assume-unchanged or skip-worktree: [`crate::vcs::WorktreeIndex::staged`]) and its size is
//!   the blob's; else (no index, a split or sparse one) by hashing its bytes. Used only when the outcome is provably the one the whole scan gives:
//!   the working tree scan used the same options and base directory, hit no project limit and
//!   no parse budget, a `threatspec.yaml` or `.guardlink/config.json` at a scanned directory
//!   is the same on both sides, names the same kinds of things and sees the same set of files
//!   (what they make the walk read depends on which files exist),
//!   every `.gitignore` and `.ignore` of the revision's directories is the same file in the
//!   working tree, and so is every threat library file the walk would read (found by name at a
//!   scanned directory, named by a configuration, or an import's `threatmodel/`; they decide
//!   what references resolve to in every file); when one is not, the revision is scanned whole. `tests/revision_scan.rs`
//!   holds both ways to the same index.
//!
//!   The index is then the working tree's, cloned, with the walked files swapped in and the
//!   files the revision does not have taken out ([`crate::model::ProjectIndex`] updates only
//!   those files' table entries), so an analysis of the working tree can be updated to it
//!   ([`crate::analysis::Analysis::update`] re-resolves only what the swap can change). While
//!   the snapshot is written, the sizes of the blobs git's index tells the working tree holds
//!   stand in for their object headers when no conversion can apply
//!   ([`crate::vcs::GitRepository::snapshot_told`]; none when a `.gitattributes` is in the
//!   index or the working tree).
//!
//! Must never: write anywhere but the snapshot directory, read the working tree except to
//! compare a file with the revision's copy (by the bounded reader's rule, never through a
//! link), or analyse.

use crate::file_id::FileId;
use crate::model::ProjectIndex;
use crate::paths::normalize;
use crate::read::{Links, read_bounded};
use crate::vcs::{ATTRIBUTES, BlobId, GitRepository, PathKind, Revision, Snapshot, VcsError, WorktreeIndex};
use crate::walk::{self, Scan, SkipReason, WalkError, WalkOptions};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The ignore files whose rules must be the same on both sides for the working tree to stand
/// in for unchanged files (`.git/info/exclude` and the global excludes are the same file on
/// both sides).
const IGNORE_FILES: &[&str] = &[".gitignore", ".ignore"];

/// Configuration that makes what the walk reads depend on which files exist.
const CONFIG_FILES: &[&str] = &[walk::THREATSPEC_CONFIG, ".guardlink/config.json"];

/// The working tree's scan, offered to stand in for the revision's unchanged files.
pub struct WorkingTree<'a> {
    /// What the walk built from the working tree, with the options given to [`scan_revision`].
    pub scan: &'a Scan,
}

/// A revision scanned.
pub struct RevisionScan {
    /// The revision's project, as [`walk::scan_from`] would build it from the whole tree.
    pub index: ProjectIndex,
    /// What the walk of the written files found (skipped files, refused configuration); its
    /// index is moved to [`RevisionScan::index`]. `None` when the revision has none of the
    /// paths (a directory the change adds): an empty project.
    pub scan: Option<Scan>,
    /// The written tree (removed on drop).
    pub snapshot: Snapshot,
    /// How it was scanned.
    pub way: Way,
}

/// How [`scan_revision`] scanned a revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Way {
    /// Every file written and walked, and why the working tree could not stand in.
    Whole(String),
    /// Only what differs from the working tree; `reused` files were the working tree's;
    /// `read` working tree files were read to compare them (the others git's index told).
    ChangesOnly { reused: usize, read: usize },
}

/// Why a revision could not be scanned.
#[derive(Debug)]
pub enum RevisionScanError {
    Vcs(VcsError),
    Walk(WalkError),
}

impl fmt::Display for RevisionScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevisionScanError::Vcs(e) => e.fmt(f),
            RevisionScanError::Walk(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RevisionScanError {}

/// Scans `revision` as [`walk::scan_from`] scans the working tree with `cwd` and `paths`
/// (each relative to the repository's root, as [`GitRepository::path_in_workdir`] gives them;
/// one the revision does not have holds nothing), reusing `working` where it can (module
/// docs).
pub fn scan_revision(
    repo: &GitRepository,
    revision: &Revision,
    cwd: &Path,
    paths: &[PathBuf],
    options: &WalkOptions,
    working: Option<WorkingTree<'_>>,
) -> Result<RevisionScan, RevisionScanError> {
    let options = WalkOptions { cache_dir: None, progress: None, ..options.clone() };
    let whole = |why: String| -> Result<RevisionScan, RevisionScanError> {
        let snapshot = repo.snapshot(revision).map_err(RevisionScanError::Vcs)?;
        let mut scan = walk_snapshot(&snapshot, cwd, paths, &options)?;
        let index = scan.as_mut().map(|s| std::mem::take(&mut s.index)).unwrap_or_default();
        Ok(RevisionScan { index, scan, snapshot, way: Way::Whole(why) })
    };
    let Some(working) = working else {
        return whole("no working tree scan was offered".into());
    };
    if let Err(why) = can_stand_in(&options, working.scan) {
        return whole(why);
    }

    let workdir = repo.real_workdir();
    let configs = configurations(repo, revision, paths, &workdir).map_err(RevisionScanError::Vcs)?;
    // The walk is given the scanned paths, reads the configurations and the files they name:
    // those are always written.
    let mut written: Vec<PathBuf> = paths.to_vec();
    for config in &configs {
        written.push(config.path.clone());
        written.extend(config.text.as_deref().map(|text| named_by(&config.path, text)).unwrap_or_default());
    }
    // A file git's index knows unchanged since it was staged is not read to compare it (no
    // usable index: every file is read).
    let mut comparison = Comparison::new(&workdir, &written, repo.worktree_index().ok());
    // Most of the revision's files are the ones the working tree's walk read.
    let base = repo.path_in_workdir(&working.scan.root).unwrap_or_default();
    comparison
        .prehash(working.scan.scanned.iter().map(|(key, _)| normalize(&base.join(key.as_str()))).collect());
    let told = comparison.told_sizes();
    let snapshot = repo
        .snapshot_told(revision, &mut |rel, id, size| comparison.omit(rel, id, size), Some(&written), &told)
        .map_err(RevisionScanError::Vcs)?;
    let same_rules = comparison.same_ignore_files().and_then(|()| match configs.is_empty() {
        true => Ok(()),
        false => comparison.same_files_for(&configs, working.scan, repo, revision),
    });
    if let Err(why) = same_rules {
        return whole(why);
    }
    // A threat library decides what references resolve to in every file: the working tree's
    // stands in only when it is the revision's.
    if let Err(why) = same_libraries(repo, revision, paths, &configs, &workdir) {
        return whole(why);
    }
    let Some(mut scan) = walk_snapshot(&snapshot, cwd, paths, &options)? else {
        return Ok(RevisionScan {
            index: ProjectIndex::default(),
            scan: None,
            snapshot,
            way: Way::ChangesOnly { reused: 0, read: comparison.read },
        });
    };
    // Keys are relative to the scan's base directory: the same place on both sides, or the
    // working tree's keys mean other files.
    let base = scan.root.strip_prefix(snapshot.root()).map(normalize).ok();
    if base != repo.path_in_workdir(&working.scan.root).map(|p| normalize(&p)) {
        return whole("the working tree was scanned from another directory".into());
    }
    let changed = std::mem::take(&mut scan.index);
    let omitted: FxHashSet<&Path> = snapshot.omitted().iter().map(PathBuf::as_path).collect();
    let base = base.unwrap_or_default();
    let in_repository = |key: &FileId| normalize(&base.join(key.as_str()));
    // What a configuration says about the files it names depends on which files exist: the
    // partial walk saw only some; the working tree's walk saw the same set as the whole
    // revision (checked above), and the same configuration text. So a configuration's facts
    // are the working tree's (none when it has none).
    let config_keys: FxHashSet<String> = configs
        .iter()
        .filter_map(|config| config.path.strip_prefix(&base).ok())
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    // The working tree's index, its files made the revision's: those it has unchanged (the
    // snapshot omitted them) and the configurations stay, the walked files replace theirs,
    // the rest go. Its tables change only where those files' entries do, so the analysis of
    // the working tree can be reused for every file whose resolution cannot change.
    let mut index = working.scan.index.clone();
    let mut reused = 0;
    let mut gone = Vec::new();
    for facts in working.scan.index.files() {
        if config_keys.contains(facts.path.as_str()) {
            continue;
        }
        if omitted.contains(in_repository(&facts.path).as_path()) {
            reused += 1;
        } else if changed.file(facts.path.as_str()).is_none() {
            gone.push(facts.path.clone());
        }
    }
    for key in gone {
        index.remove_file(key.as_str());
    }
    for facts in changed.files().filter(|facts| !config_keys.contains(facts.path.as_str())) {
        index.set_file(Arc::clone(facts));
    }
    index.set_repositories(changed.repositories().to_vec());
    index.clear_anchor_texts();
    index.copy_anchor_texts(&changed);
    // `.gal` anchors name files by path: an unchanged file the index does not hold is read
    // from the working tree (the snapshot does not have it), any other from the snapshot.
    let anchored: Vec<FileId> =
        index.anchored_keys().into_iter().filter(|k| index.file(k.as_str()).is_none()).collect();
    for key in anchored {
        let root = match omitted.contains(in_repository(&key).as_path()) {
            true => working.scan.root.clone(),
            false => scan.root.clone(),
        };
        let text = walk::read_anchor_text(&root, &root.join(key.as_str()), options.max_file_size);
        index.set_anchor_text(key, text);
    }
    let read = comparison.read;
    Ok(RevisionScan { index, scan: Some(scan), snapshot, way: Way::ChangesOnly { reused, read } })
}

/// The walk of `paths` from `cwd`, both mapped into the snapshot; `None` when the revision
/// has none of the paths (directories and the files named are always written).
fn walk_snapshot(
    snapshot: &Snapshot,
    cwd: &Path,
    paths: &[PathBuf],
    options: &WalkOptions,
) -> Result<Option<Scan>, RevisionScanError> {
    let root = snapshot.root();
    let paths: Vec<PathBuf> =
        paths.iter().map(|p| root.join(p)).filter(|p| std::fs::symlink_metadata(p).is_ok()).collect();
    if paths.is_empty() {
        return Ok(None);
    }
    walk::scan_from(&root.join(cwd), &paths, options).map(Some).map_err(RevisionScanError::Walk)
}

/// Whether the working tree's scan may stand in for the revision's unchanged files, as far as
/// can be told before the revision is read; the reason when not.
fn can_stand_in(options: &WalkOptions, scan: &Scan) -> Result<(), String> {
    if options.absolute_paths {
        return Err("file keys are absolute".into());
    }
    if scan.read_without_tree > 0 || scan.parses_refused > 0 {
        return Err("the working tree ran out of parse time".into());
    }
    if scan.skipped.iter().any(|(_, reason)| *reason == SkipReason::ProjectLimit) {
        return Err("the working tree is over the project limits".into());
    }
    Ok(())
}

/// The blob id of the working tree's file `rel`: `Ok(None)` when it cannot be compared (a link,
/// not a regular file, over the size limit: never the same), `Err` when it is not there. Read
/// by the bounded reader's rule, never through a link (the snapshot leaves out files over the
/// size limit).
fn working_tree_blob(workdir: &Path, rel: &Path) -> Result<Option<BlobId>, ()> {
    match read_bounded(&workdir.join(rel), crate::limits::MAX_FILE_SIZE, Links::Refuse) {
        Ok(bytes) => Ok(BlobId::of(&bytes)),
        Err(refusal) if refusal.is_missing() || std::fs::symlink_metadata(workdir.join(rel)).is_err() => {
            Err(())
        }
        Err(_) => Ok(None),
    }
}

/// What is known of a working tree file before the snapshot asks about it.
enum Seen {
    /// Git's index tells it holds this blob (as git stores it), and its size.
    Staged(BlobId, u64),
    /// Read: as [`working_tree_blob`] says.
    Read(Result<Option<BlobId>, ()>),
}

/// What `rel` (relative) in the working tree holds: told by git's `index` when it can, else
/// read.
fn look(workdir: &Path, index: Option<&WorktreeIndex>, rel: &Path) -> Seen {
    if let Some(index) = index
        && let Ok(meta) = std::fs::symlink_metadata(workdir.join(rel))
        && let Some(blob) = index.staged(rel, &meta)
    {
        return Seen::Staged(blob, meta.len());
    }
    Seen::Read(working_tree_blob(workdir, rel))
}

/// A configuration file at a scanned directory of either side.
struct Configuration {
    /// Relative to the repository's root.
    path: PathBuf,
    /// Its text when the revision and the working tree hold the same file (else `None`).
    text: Option<String>,
}

/// The configuration files at the scanned directories (`paths`) of the revision or the working
/// tree.
fn configurations(
    repo: &GitRepository,
    revision: &Revision,
    paths: &[PathBuf],
    workdir: &Path,
) -> Result<Vec<Configuration>, VcsError> {
    let mut out = Vec::new();
    for dir in paths {
        // The walk reads configuration at the top of the directories it is given only.
        let is_dir = |kind: Result<PathKind, VcsError>| matches!(kind, Ok(PathKind::Dir));
        if !workdir.join(dir).is_dir() && !is_dir(repo.path_kind(revision, dir)) {
            continue;
        }
        for name in CONFIG_FILES {
            let path = normalize(&dir.join(name));
            let in_revision = repo.file_id(revision, &path)?;
            let here = read_bounded(&workdir.join(&path), crate::limits::MAX_CONFIG_FILE_SIZE, Links::Refuse);
            if in_revision.is_none() && here.as_ref().is_err_and(|e| e.is_missing()) {
                continue;
            }
            let text = match here {
                Ok(bytes) if in_revision.is_some() && BlobId::of(&bytes) == in_revision => {
                    String::from_utf8(bytes).ok()
                }
                _ => None,
            };
            out.push(Configuration { path, text });
        }
    }
    Ok(out)
}

/// The paths (relative to the repository's root) a configuration file at `config` names: the
/// literal part of each `threatspec.yaml` `paths:` entry and each `imports:` entry, the
/// `.guardlink/config.json` `definitions` file; those leaving the repository are left out (the
/// walk refuses them by their spelling on both sides).
fn named_by(config: &Path, text: &str) -> Vec<PathBuf> {
    let dir = match config.ends_with(walk::THREATSPEC_CONFIG) {
        true => config.parent(),
        false => config.parent().and_then(Path::parent),
    }
    .unwrap_or(Path::new(""));
    let mut named: Vec<PathBuf> = Vec::new();
    if config.ends_with(walk::THREATSPEC_CONFIG) {
        if let Ok(ts) = crate::config::parse_threatspec(text) {
            for entry in &ts.paths {
                let value = entry.path.value.as_str();
                let literal = match crate::config::is_glob(value) {
                    true => crate::config::split_glob(value).0,
                    false => value,
                };
                named.push(dir.join(literal));
            }
            named.extend(ts.imports.iter().map(|import| dir.join(&import.value)));
        }
    } else if let Ok(gl) = crate::config::parse_guardlink(text)
        && let Some(defs) = &gl.definitions
    {
        named.push(dir.join(".guardlink").join(&defs.value));
    }
    named.iter().map(|p| normalize(p)).filter(|p| !p.is_absolute() && !p.starts_with("..")).collect()
}

/// The threat library files the walk would read for the scanned directories `dirs` (relative
/// to the repository's root) with `configs` (the same text on both sides by now):
/// [`walk::LIBRARY_FILES`] at each scanned directory, each configuration's `threat-analyzer:
/// libraries:` entries and the `threatmodel/threats.json` and `controls.json` of each
/// `threatspec.yaml` import (as the walk reads them).
fn library_files(dirs: &[PathBuf], configs: &[Configuration]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        dirs.iter().flat_map(|dir| walk::LIBRARY_FILES.iter().map(move |name| dir.join(name))).collect();
    for config in configs {
        let Some(text) = &config.text else { continue };
        let is_threatspec = config.path.ends_with(walk::THREATSPEC_CONFIG);
        let dir = match is_threatspec {
            true => config.path.parent(),
            false => config.path.parent().and_then(Path::parent),
        }
        .unwrap_or(Path::new(""));
        if is_threatspec {
            if let Ok(ts) = crate::config::parse_threatspec(text) {
                files.extend(ts.libraries.files.iter().map(|entry| dir.join(&entry.value)));
                for import in &ts.imports {
                    let model = dir.join(&import.value).join("threatmodel");
                    files.extend(["threats.json", "controls.json"].map(|name| model.join(name)));
                }
            }
        } else if let Ok(gl) = crate::config::parse_guardlink(text) {
            files.extend(gl.libraries.files.iter().map(|entry| dir.join(&entry.value)));
        }
    }
    let mut files: Vec<PathBuf> =
        files.iter().map(|p| normalize(p)).filter(|p| !p.is_absolute() && !p.starts_with("..")).collect();
    files.sort();
    files.dedup();
    files
}

/// Whether every threat library file of [`library_files`] is the same in the revision and the
/// working tree (the same bytes, or absent on both sides); the first difference when not.
fn same_libraries(
    repo: &GitRepository,
    revision: &Revision,
    paths: &[PathBuf],
    configs: &[Configuration],
    workdir: &Path,
) -> Result<(), String> {
    // Library files are found at the top of scanned directories only (a path may name a file).
    let is_dir = |dir: &PathBuf| {
        workdir.join(dir).is_dir() || matches!(repo.path_kind(revision, dir), Ok(PathKind::Dir))
    };
    let dirs: Vec<PathBuf> = paths.iter().filter(|dir| is_dir(dir)).cloned().collect();
    for path in library_files(&dirs, configs) {
        let in_revision = repo.file_id(revision, &path).map_err(|e| e.to_string())?;
        let here = read_bounded(&workdir.join(&path), crate::limits::MAX_CONFIG_FILE_SIZE, Links::Refuse);
        let same = match (&in_revision, here) {
            (None, Err(refusal)) => refusal.is_missing(),
            (Some(id), Ok(bytes)) => BlobId::of(&bytes).as_ref() == Some(id),
            _ => false,
        };
        if !same {
            return Err(format!("the threat library {} differs", path.display()));
        }
    }
    Ok(())
}

/// The comparison of the revision's files with the working tree's, made while the snapshot is
/// written.
struct Comparison<'a> {
    workdir: &'a Path,
    /// Files always written (the walk is given them, or reads them by name).
    named: Vec<PathBuf>,
    /// Directories of the working tree known to be real directories (no link on the way).
    real_dirs: FxHashMap<PathBuf, bool>,
    /// Every directory of the revision that holds a file (and their ancestors).
    dirs: FxHashSet<PathBuf>,
    /// The revision's ignore files, and whether the working tree's copy is the same.
    ignore_files: FxHashMap<PathBuf, bool>,
    /// Every file of the revision the snapshot asked about.
    files: FxHashSet<PathBuf>,
    /// The first of them the working tree does not hold as a regular file, if any.
    missing: Option<PathBuf>,
    /// The working tree's git index, when it can tell unchanged files.
    index: Option<WorktreeIndex>,
    /// Working tree files looked at ahead ([`Comparison::prehash`]).
    seen: FxHashMap<PathBuf, Seen>,
    /// How many working tree files were read (hashed) to compare them.
    read: usize,
}

impl<'a> Comparison<'a> {
    fn new(workdir: &'a Path, paths: &[PathBuf], index: Option<WorktreeIndex>) -> Self {
        Comparison {
            workdir,
            named: paths.iter().map(|p| normalize(p)).collect(),
            real_dirs: FxHashMap::default(),
            dirs: FxHashSet::default(),
            ignore_files: FxHashMap::default(),
            files: FxHashSet::default(),
            missing: None,
            index,
            seen: FxHashMap::default(),
            read: 0,
        }
    }

    /// Whether the revision's file `rel` (blob `id` of `size` bytes) need not be written: the
    /// working tree holds the same bytes at the same place. Ignore files are always written.
    fn omit(&mut self, rel: &Path, id: BlobId, size: u64) -> bool {
        let mut dir = rel.parent();
        while let Some(d) = dir {
            if !self.dirs.insert(d.to_path_buf()) {
                break;
            }
            dir = d.parent();
        }
        self.files.insert(rel.to_path_buf());
        let same = self.same_in_working_tree(rel, id, size);
        let is_ignore_file = rel.file_name().is_some_and(|n| IGNORE_FILES.iter().any(|i| n == *i));
        if is_ignore_file {
            self.ignore_files.insert(rel.to_path_buf(), same);
            return false;
        }
        same && !self.named.iter().any(|n| n == rel)
    }

    /// Whether the working tree holds the blob `id` (of `size` bytes) at `rel`. A file git's
    /// index tells holds another blob is taken as different, though a filter could make its
    /// bytes the revision's: writing it costs time, never a wrong answer (the walk reads the
    /// same bytes from the snapshot). A file it tells holds `id` is the same when its size is
    /// the blob's (no filter changed it); else it is read.
    fn same_in_working_tree(&mut self, rel: &Path, id: BlobId, size: u64) -> bool {
        if !rel.parent().is_none_or(|dir| self.is_real_dir(dir)) {
            self.missing.get_or_insert_with(|| rel.to_path_buf());
            return false;
        }
        let seen = match self.seen.remove(rel) {
            Some(seen) => seen,
            None => look(self.workdir, self.index.as_ref(), rel),
        };
        let hashed = match seen {
            Seen::Staged(blob, _) if blob != id => return false,
            Seen::Staged(_, len) if len == size => return true,
            Seen::Staged(..) => working_tree_blob(self.workdir, rel),
            Seen::Read(hashed) => hashed,
        };
        self.read += 1;
        match hashed {
            Ok(blob) => blob == Some(id),
            Err(()) => {
                self.missing.get_or_insert_with(|| rel.to_path_buf());
                false
            }
        }
    }

    /// Looks at the working tree's copies of `files` (relative), in parallel, before the
    /// snapshot asks about them one at a time.
    fn prehash(&mut self, files: Vec<PathBuf>) {
        use rayon::prelude::*;
        let (workdir, index) = (self.workdir, self.index.as_ref());
        self.seen = files
            .into_par_iter()
            .map(|rel| {
                let seen = look(workdir, index, &rel);
                (rel, seen)
            })
            .collect();
    }

    /// The sizes of the blobs git's index tells the working tree's files hold (looked at by
    /// [`Comparison::prehash`]), for the snapshot to take instead of reading object headers
    /// where no conversion applies ([`GitRepository::snapshot_told`]): without a conversion
    /// a file's bytes are its blob's. Empty when the index holds a `.gitattributes`, or one is
    /// in the working tree at a directory of those files (what `git add` stored may then have
    /// been converted).
    fn told_sizes(&self) -> HashMap<BlobId, u64> {
        let mut told = HashMap::new();
        if self.index.as_ref().is_none_or(WorktreeIndex::has_attributes) {
            return told;
        }
        let mut dirs: FxHashSet<&Path> = FxHashSet::default();
        for (rel, seen) in &self.seen {
            let Seen::Staged(blob, len) = seen else { continue };
            for dir in rel.ancestors().skip(1) {
                if dirs.insert(dir)
                    && std::fs::symlink_metadata(self.workdir.join(dir).join(ATTRIBUTES)).is_ok()
                {
                    return HashMap::new();
                }
            }
            told.insert(*blob, *len);
        }
        told
    }

    /// Whether `dir` (relative) is a directory in the working tree with no link on the way.
    fn is_real_dir(&mut self, dir: &Path) -> bool {
        if dir.as_os_str().is_empty() {
            return true;
        }
        if let Some(&known) = self.real_dirs.get(dir) {
            return known;
        }
        let parent_real = dir.parent().is_none_or(|parent| self.is_real_dir(parent));
        let real = parent_real
            && std::fs::symlink_metadata(self.workdir.join(dir)).is_ok_and(|m| m.file_type().is_dir());
        self.real_dirs.insert(dir.to_path_buf(), real);
        real
    }

    /// With a configuration at a scanned directory, whether what it makes the walk read is the
    /// same on both sides: the configuration files are the same, the revision's files are all
    /// in the working tree and every file the working tree's walk met is in the revision (so
    /// its globs match the same files), and what each path it names is (a file, a directory,
    /// nothing) is the same. The first difference when not.
    fn same_files_for(
        &mut self,
        configs: &[Configuration],
        working: &Scan,
        repo: &GitRepository,
        revision: &Revision,
    ) -> Result<(), String> {
        for config in configs {
            let Some(text) = &config.text else {
                return Err(format!("{} differs", config.path.display()));
            };
            for target in named_by(&config.path, text) {
                let in_revision = repo.path_kind(revision, &target).map_err(|e| e.to_string())?;
                let here = match target.parent().is_none_or(|dir| self.is_real_dir(dir)) {
                    true => std::fs::symlink_metadata(self.workdir.join(&target)).ok(),
                    false => None,
                };
                let same = match (in_revision, here) {
                    (PathKind::Absent, None) => true,
                    (PathKind::File(_), Some(m)) => m.file_type().is_file(),
                    (PathKind::Dir, Some(m)) => m.file_type().is_dir(),
                    _ => false,
                };
                if !same {
                    return Err(format!(
                        "{} names {}, which differs",
                        config.path.display(),
                        target.display()
                    ));
                }
            }
        }
        if let Some(missing) = &self.missing {
            return Err(format!("{} is gone and a configuration decides what is read", missing.display()));
        }
        let base = repo.path_in_workdir(&working.root).unwrap_or_default();
        let met = working
            .scanned
            .iter()
            .map(|(key, _)| PathBuf::from(key.as_str()))
            .chain(working.skipped.iter().map(|(path, _)| path.clone()));
        for path in met {
            let rel = normalize(&base.join(path));
            // The snapshot holds a `.git` too (vcs: its ignore rules), met as the working tree's.
            if !self.files.contains(&rel) && !self.dirs.contains(&rel) && rel != Path::new(".git") {
                return Err(format!("{} is new and a configuration decides what is read", rel.display()));
            }
        }
        Ok(())
    }

    /// Whether every directory of the revision has the same ignore files in the working tree
    /// (the same bytes, or none on both sides); the first difference when not.
    fn same_ignore_files(&self) -> Result<(), String> {
        let top = PathBuf::new();
        let mut dirs: Vec<&PathBuf> = self.dirs.iter().collect();
        dirs.push(&top);
        dirs.sort();
        for dir in dirs {
            for name in IGNORE_FILES {
                let rel = dir.join(name);
                let same = match self.ignore_files.get(&rel) {
                    Some(&same) => same,
                    None => std::fs::symlink_metadata(self.workdir.join(&rel)).is_err(),
                };
                if !same {
                    return Err(format!("{} differs", rel.display()));
                }
            }
        }
        Ok(())
    }
}
