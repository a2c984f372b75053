//! Git: a commit's files, read in-process, for commands that compare two versions of a project.
//!
//! Owns: every byte read from a git repository (refs, packed refs, loose objects, packfiles,
//! linked worktrees, shallow clones), through gitoxide's `gix` crate, and the temporary
//! directory a revision's tree is written into ([`Snapshot`]). It sits beside [`crate::walk`]
//! (an I/O edge used only by the shells): a command scans the snapshot with the same walk as
//! the working tree. Must never: run `git` or any other program, touch the network, follow or
//! create a symbolic link, write outside the snapshot directory, or analyse what it reads.
//!
//! # Which repository
//!
//! [`GitRepository::discover`] looks upwards from a path for a repository with a working tree
//! (a normal checkout, a linked worktree made by `git worktree add`, detached HEAD or not). Only
//! the repository's own configuration is read: no system or global configuration, no
//! environment variables (`GIT_DIR` and friends), and never the `git` program (which `gix`
//! can ask where its installation keeps its configuration).
//!
//! # Revisions
//!
//! [`GitRepository::resolve`] accepts what `git rev-parse` does for one commit: a branch, tag,
//! remote branch (`origin/main`), full or abbreviated commit id, `HEAD~3`, `HEAD^2`. Tags are
//! peeled to their commit. A spec naming nothing is [`VcsError::UnknownRevision`]; in a shallow
//! clone, a commit cut off by the clone's depth is [`VcsError::ShallowHistory`], whose message
//! says how to fetch the history.
//!
//! [`GitRepository::default_base`] is what a pull request is compared with: the merge base of
//! `HEAD` and the default branch. The default branch is the target of `refs/remotes/origin/HEAD`
//! when that exists, else the first of `main`, `master`, `origin/main`, `origin/master` that
//! exists. With none of them the base is `HEAD` itself, except in a shallow clone (CI's usual
//! checkout of a pull request), where a missing default branch more likely means history that
//! was not fetched, so that is [`VcsError::ShallowHistory`] rather than a comparison with
//! nothing.
//!
//! # Snapshots
//!
//! [`GitRepository::snapshot`] writes a commit's tree into a fresh temporary directory (removed
//! when the [`Snapshot`] is dropped), in the working tree's layout, so the walk reads it as it
//! reads the working tree. The tree is untrusted (it may be anyone's pull request), so only
//! what the walk could read is written: regular files (executables as plain files) and
//! directories. Every other entry is left out and listed in [`Snapshot::skipped`] with why:
//! symbolic links (never created, so nothing can point outside), submodules, names that could
//! escape or confuse the directory (`.`, `..`, empty, holding `/`, `\` or NUL, `.git` in any
//! case), names the file system cannot hold, and files over
//! [`crate::limits::MAX_FILE_SIZE`] (their size is read from the object header, so they are
//! never inflated). A tree with more than [`crate::limits::MAX_SNAPSHOT_FILES`] files or
//! [`crate::limits::MAX_SNAPSHOT_BYTES`] bytes (a small repository can repeat one subtree
//! millions of times) is an error, not a full disk.

use gix::bstr::{BStr, ByteSlice};
use gix::objs::tree::EntryKind;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A git repository with a working tree, opened for reading.
pub struct GitRepository {
    repo: gix::Repository,
    workdir: PathBuf,
}

/// One commit, as named by the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// What was asked for (`main`, `HEAD~1`), or for [`GitRepository::default_base`]
    /// `DEFAULT...HEAD` (git's spelling of "the merge base of DEFAULT and HEAD"), or `HEAD`.
    pub spec: String,
    /// The commit's full hexadecimal id.
    pub commit: String,
    /// The first line of the commit message.
    pub summary: String,
}

/// A revision's files, written into a temporary directory that is removed on drop.
pub struct Snapshot {
    dir: tempfile::TempDir,
    revision: Revision,
    skipped: Vec<(PathBuf, String)>,
}

/// Why a repository or revision could not be read.
#[derive(Debug)]
pub enum VcsError {
    /// No git repository contains `path`.
    NotARepository { path: PathBuf },
    /// The repository at `path` has no working tree.
    Bare { path: PathBuf },
    /// `spec` names no commit.
    UnknownRevision { spec: String },
    /// `spec` (or the merge base it needs) is older than a shallow clone's history.
    ShallowHistory { spec: String },
    /// The repository could not be read (corrupt objects, unreadable files, a tree over the
    /// limits).
    Git(String),
    /// The snapshot directory could not be written.
    Io { path: PathBuf, error: io::Error },
}

impl fmt::Display for VcsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VcsError::NotARepository { path } => {
                write!(f, "not a git repository (nor any parent directory): {}", path.display())
            }
            VcsError::Bare { path } => {
                write!(f, "{} is a bare git repository: there is no working tree to compare", path.display())
            }
            VcsError::UnknownRevision { spec } => write!(f, "unknown git revision '{spec}'"),
            VcsError::ShallowHistory { spec } => write!(
                f,
                "'{spec}' is not in this shallow clone's history: fetch the full history \
                 (`fetch-depth: 0` for actions/checkout, or `git fetch --unshallow`)"
            ),
            VcsError::Git(message) => write!(f, "reading the git repository failed: {message}"),
            VcsError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for VcsError {}

/// The branches tried, in order, when `refs/remotes/origin/HEAD` does not name the default one.
const DEFAULT_BRANCHES: &[&str] = &["main", "master", "origin/main", "origin/master"];

impl GitRepository {
    /// The repository containing `path` (normal checkout, linked worktree, detached HEAD).
    pub fn discover(path: &Path) -> Result<GitRepository, VcsError> {
        // Only the repository's own configuration, for any trust level: the system and global
        // files, the environment and the `git` program have no say.
        let isolated = gix::open::Options::isolated();
        let trust = gix::sec::trust::Mapping { full: isolated.clone(), reduced: isolated };
        let repo = gix::ThreadSafeRepository::discover_opts(path, Default::default(), trust)
            .map_err(|_| VcsError::NotARepository { path: path.to_path_buf() })?
            .to_thread_local();
        let workdir = match repo.workdir() {
            Some(dir) => dir.to_path_buf(),
            None => return Err(VcsError::Bare { path: repo.git_dir().to_path_buf() }),
        };
        Ok(GitRepository { repo, workdir })
    }

    /// Root of the working tree.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// Resolves a revision spec (branch, tag, full/short commit id, `HEAD~3`, `origin/main`).
    pub fn resolve(&self, spec: &str) -> Result<Revision, VcsError> {
        let id = match self.repo.rev_parse_single(spec) {
            Ok(id) => id.detach(),
            Err(error) => return Err(self.resolve_error(spec, &error.to_string())),
        };
        self.revision(spec, id)
    }

    /// The default base: the merge base of HEAD with the default branch (`origin/HEAD`'s
    /// target, else `main`, else `master`, local or `origin/`), else HEAD (see the module doc).
    pub fn default_base(&self) -> Result<Revision, VcsError> {
        let head = self.resolve("HEAD")?;
        let Some(branch) = self.default_branch() else {
            if self.is_shallow() {
                return Err(VcsError::ShallowHistory { spec: "the default branch".to_string() });
            }
            return Ok(head);
        };
        let branch_commit = self.resolve(&branch)?;
        let spec = format!("{branch}...HEAD");
        if branch_commit.commit == head.commit {
            return Ok(Revision { spec, ..head });
        }
        let one = parse_id(&head.commit)?;
        let two = parse_id(&branch_commit.commit)?;
        match self.repo.merge_base(one, two) {
            Ok(Some(base)) => self.revision(&spec, base.detach()),
            Ok(None) | Err(_) if self.is_shallow() => Err(VcsError::ShallowHistory { spec }),
            Ok(None) => Err(VcsError::Git(format!("HEAD and {branch} have no common ancestor"))),
            Err(error) => Err(VcsError::Git(format!("the merge base of HEAD and {branch}: {error}"))),
        }
    }

    /// Writes the regular files of `revision`'s tree into a fresh temporary directory.
    pub fn snapshot(&self, revision: &Revision) -> Result<Snapshot, VcsError> {
        let dir = tempfile::Builder::new()
            .prefix("threat-analyzer-git-")
            .tempdir()
            .map_err(|error| VcsError::Io { path: std::env::temp_dir(), error })?;
        let commit = parse_id(&revision.commit)?;
        let tree = self
            .repo
            .find_commit(commit)
            .and_then(|commit| commit.tree_id())
            .map_err(|error| VcsError::Git(format!("the tree of commit {}: {error}", revision.commit)))?;
        let mut writer = TreeWriter {
            repo: &self.repo,
            root: dir.path().to_path_buf(),
            skipped: Vec::new(),
            files: 0,
            bytes: 0,
        };
        writer.write_tree(tree.detach())?;
        let TreeWriter { skipped, .. } = writer;
        Ok(Snapshot { dir, revision: revision.clone(), skipped })
    }

    /// The default branch's name as `resolve` accepts it, when one exists.
    fn default_branch(&self) -> Option<String> {
        let origin_head = self
            .repo
            .try_find_reference("refs/remotes/origin/HEAD")
            .ok()
            .flatten()
            .and_then(|reference| reference.target().try_name().map(|name| name.as_bstr().to_string()));
        if let Some(name) = origin_head
            && self.repo.rev_parse_single(name.as_str()).is_ok()
        {
            return Some(name.strip_prefix("refs/remotes/").unwrap_or(&name).to_string());
        }
        DEFAULT_BRANCHES
            .iter()
            .find(|name| self.repo.rev_parse_single(**name).is_ok())
            .map(|name| name.to_string())
    }

    fn is_shallow(&self) -> bool {
        self.repo.is_shallow().unwrap_or(false)
    }

    /// What a failed `rev_parse` means: a commit beyond a shallow clone's depth, or a name that
    /// names nothing.
    fn resolve_error(&self, spec: &str, _message: &str) -> VcsError {
        if self.is_shallow() {
            return VcsError::ShallowHistory { spec: spec.to_string() };
        }
        VcsError::UnknownRevision { spec: spec.to_string() }
    }

    /// The commit `id` (peeling tags) as a [`Revision`] named `spec`.
    fn revision(&self, spec: &str, id: gix::ObjectId) -> Result<Revision, VcsError> {
        let object = self.repo.find_object(id).map_err(|error| VcsError::Git(format!("{spec}: {error}")))?;
        let commit =
            object.peel_to_commit().map_err(|_| VcsError::Git(format!("'{spec}' does not name a commit")))?;
        let summary = commit
            .message_raw_sloppy()
            .lines()
            .next()
            .map(|line| line.to_str_lossy().trim_end().to_string())
            .unwrap_or_default();
        Ok(Revision { spec: spec.to_string(), commit: commit.id.to_string(), summary })
    }
}

impl Snapshot {
    /// The directory holding the tree (same layout as the working tree).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The revision written.
    pub fn revision(&self) -> &Revision {
        &self.revision
    }

    /// Tree entries not written, relative to [`Snapshot::root`], with why (symbolic link,
    /// submodule, too large, unsafe name).
    pub fn skipped(&self) -> &[(PathBuf, String)] {
        &self.skipped
    }
}

fn parse_id(hex: &str) -> Result<gix::ObjectId, VcsError> {
    gix::ObjectId::from_hex(hex.as_bytes())
        .map_err(|error| VcsError::Git(format!("commit id {hex}: {error}")))
}

/// Writes one tree into the snapshot directory, depth first, counting against the limits.
struct TreeWriter<'repo> {
    repo: &'repo gix::Repository,
    root: PathBuf,
    skipped: Vec<(PathBuf, String)>,
    files: usize,
    bytes: u64,
}

impl TreeWriter<'_> {
    fn write_tree(&mut self, tree: gix::ObjectId) -> Result<(), VcsError> {
        // (tree id, its path relative to the root); an explicit stack, as trees nest without
        // bound.
        let mut pending = vec![(tree, PathBuf::new())];
        while let Some((tree, dir)) = pending.pop() {
            let tree = self
                .repo
                .find_tree(tree)
                .map_err(|error| VcsError::Git(format!("tree {tree} at {}: {error}", display_dir(&dir))))?;
            for entry in tree.iter() {
                let entry = entry
                    .map_err(|error| VcsError::Git(format!("a tree at {}: {error}", display_dir(&dir))))?;
                let name = entry.filename();
                let rel = dir.join(lossy_path(name));
                if let Some(why) = unsafe_name(name) {
                    self.skipped.push((rel, why.to_string()));
                    continue;
                }
                let Ok(fs_name) = gix::path::from_bstr(name) else {
                    self.skipped.push((rel, "name is not valid on this system".to_string()));
                    continue;
                };
                let rel = dir.join(fs_name.as_ref());
                match entry.mode().kind() {
                    EntryKind::Tree => {
                        let path = self.root.join(&rel);
                        match fs::create_dir(&path) {
                            Ok(()) => pending.push((entry.oid().to_owned(), rel)),
                            Err(error) => self.skip_or_fail(rel, error)?,
                        }
                    }
                    EntryKind::Blob | EntryKind::BlobExecutable => {
                        self.write_blob(entry.oid().to_owned(), rel)?
                    }
                    EntryKind::Link => self.skipped.push((rel, "symbolic link".to_string())),
                    EntryKind::Commit => self.skipped.push((rel, "submodule".to_string())),
                }
            }
        }
        Ok(())
    }

    fn write_blob(&mut self, id: gix::ObjectId, rel: PathBuf) -> Result<(), VcsError> {
        let header = self
            .repo
            .find_header(id)
            .map_err(|error| VcsError::Git(format!("{}: {error}", rel.display())))?;
        let size = header.size();
        if size > crate::limits::MAX_FILE_SIZE {
            self.skipped.push((rel, format!("larger than {} bytes", crate::limits::MAX_FILE_SIZE)));
            return Ok(());
        }
        self.files += 1;
        self.bytes += size;
        if self.files > crate::limits::MAX_SNAPSHOT_FILES || self.bytes > crate::limits::MAX_SNAPSHOT_BYTES {
            return Err(VcsError::Git(format!(
                "the tree holds more than {} files or {} bytes (threat-analyzer's limit for a revision)",
                crate::limits::MAX_SNAPSHOT_FILES,
                crate::limits::MAX_SNAPSHOT_BYTES
            )));
        }
        let blob =
            self.repo.find_blob(id).map_err(|error| VcsError::Git(format!("{}: {error}", rel.display())))?;
        let path = self.root.join(&rel);
        // `create_new` never opens an existing file (nor follows a link: none are created).
        let written = fs::OpenOptions::new().write(true).create_new(true).open(&path).and_then(|mut file| {
            file.write_all(&blob.data)?;
            Ok(())
        });
        match written {
            Ok(()) => Ok(()),
            Err(error) => self.skip_or_fail(rel, error),
        }
    }

    /// A name the file system refuses (a duplicate in a crafted tree, too long) is skipped; any
    /// other failure (a full disk) stops the snapshot.
    fn skip_or_fail(&mut self, rel: PathBuf, error: io::Error) -> Result<(), VcsError> {
        match error.kind() {
            io::ErrorKind::AlreadyExists => {
                self.skipped.push((rel, "the tree holds this name twice".to_string()));
                Ok(())
            }
            io::ErrorKind::InvalidFilename | io::ErrorKind::InvalidInput => {
                self.skipped.push((rel, format!("the file system refuses the name: {error}")));
                Ok(())
            }
            _ => Err(VcsError::Io { path: self.root.join(rel), error }),
        }
    }
}

/// Why a tree entry's name must not be written, if it must not.
fn unsafe_name(name: &BStr) -> Option<&'static str> {
    if name.is_empty() || name == "." || name == ".." {
        return Some("unsafe name (empty, `.` or `..`)");
    }
    if name.contains(&b'/') || name.contains(&b'\\') || name.contains(&0) {
        return Some("unsafe name (holds `/`, `\\` or NUL)");
    }
    // `.git` in any case, also as Windows and macOS file systems read it (`.git.`, `.git `,
    // `git~1`).
    let trimmed = name.trim_end_with(|c| c == '.' || c == ' ');
    if trimmed.eq_ignore_ascii_case(b".git") || name.eq_ignore_ascii_case(b"git~1") {
        return Some("unsafe name (`.git`)");
    }
    None
}

/// `name` for messages (invalid UTF-8 replaced).
fn lossy_path(name: &BStr) -> PathBuf {
    PathBuf::from(name.to_str_lossy().replace(['/', '\\', '\0'], "_"))
}

fn display_dir(dir: &Path) -> String {
    if dir.as_os_str().is_empty() { "the root".to_string() } else { dir.display().to_string() }
}
