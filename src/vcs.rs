//! Git: a commit's files, read in-process, for commands that compare two versions of a project.
//!
//! Owns: every byte read from a git repository (refs, packed refs, loose objects, packfiles,
//! linked worktrees, shallow clones, the working tree's index: [`WorktreeIndex`]), through
//! gitoxide's plumbing crates (`gix-discover`, `gix-ref`, `gix-odb`, `gix-object`,
//! `gix-revision`, `gix-index`), and the temporary
//! directory a revision's tree is written into ([`Snapshot`]). It sits beside [`crate::walk`]
//! (an I/O edge used only by the shells): a command scans the snapshot with the same walk as
//! the working tree. Must never: run `git` or any other program, touch the network, follow or
//! create a symbolic link, write outside the snapshot directory, or analyse what it reads.
//!
//! # Which repository
//!
//! [`GitRepository::discover`] looks upwards from a path for a repository with a working tree
//! (a normal checkout, a linked worktree made by `git worktree add`, detached HEAD or not). No
//! configuration is read to find anything (none changes how refs and objects are found;
//! repositories with SHA-256 object ids are not supported; configuration files are only
//! searched for words that could mean a conversion: [`GitRepository::conversion_ruled_out`]),
//! no environment variable names what is read (`GIT_DIR` and friends), and
//! never the `git` program: gitoxide's `gix` front end is not used because opening a repository
//! with it can ask `git` where its installation keeps its configuration. A [`GitRepository`]
//! is not `Send` (gitoxide's handles are single-threaded without its `parallel` feature): open
//! it on the thread that uses it (`tokio::task::spawn_blocking` in the language server).
//!
//! # Revisions
//!
//! [`GitRepository::resolve`] accepts the part of `git rev-parse`'s syntax that names one
//! commit: a ref as git looks it up (`HEAD`, `@`, a branch, tag, remote branch such as
//! `origin/main`, `refs/...`), a full or abbreviated (4+ digits) commit id, followed by any
//! number of `~N`, `^N`, `^{commit}` and `^{}`. Tags are peeled to their commit. A spec naming
//! nothing (or using other syntax: `@{...}`, `:/text`, ranges) is
//! [`VcsError::UnknownRevision`]; in a shallow clone, a commit cut off by the clone's depth (a
//! parent of a shallow commit, an id whose object was not fetched) is
//! [`VcsError::ShallowHistory`], whose message says how to fetch the history.
//!
//! [`GitRepository::default_base`] is what a pull request is compared with: the merge base of
//! `HEAD` and the default branch. The default branch is the target of `refs/remotes/origin/HEAD`
//! when that exists, else the first of `main`, `master`, `origin/main`, `origin/master` that
//! exists. With none of them the base is `HEAD` itself, except in a shallow clone (CI's usual
//! checkout of a pull request), where a missing default branch more likely means history that
//! was not fetched, so that is [`VcsError::ShallowHistory`] rather than a comparison with
//! nothing. The returned [`Revision::spec`] is `BRANCH...HEAD` (`origin/main...HEAD`), or
//! `HEAD`.
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
//! case and as Windows and macOS read it: `.git.`, `git~1`), names the file system cannot hold
//! (too long, or a second entry of the same name in a crafted tree: the first is written), and
//! files over [`crate::limits::MAX_FILE_SIZE`] (their size is read from the object header, so
//! they are never inflated). A tree with more than [`crate::limits::MAX_SNAPSHOT_FILES`] files
//! or [`crate::limits::MAX_SNAPSHOT_BYTES`] bytes (a small repository can repeat one subtree
//! millions of times) is refused before anything is written: it is measured first, each
//! distinct tree once.
//!
//! The tree is written into a directory named like the working tree's (the walk names a
//! repository after its directory, for `#name.id` tags), beside a `.git` directory holding
//! only the repository's `info/exclude`, so that ignore rules apply as in the working tree
//! (git's rules of the directories above stop there). `GitRepository::snapshot_omitting`
//! leaves out the files a caller already has (compared by `BlobId`, git's object id of the
//! content) and may create only the directories it needs: `crate::revision_scan` uses it to
//! read a revision from what differs from the working tree.

use gix_hash::ObjectId;
use gix_object::bstr::{BStr, BString, ByteSlice};
use gix_object::tree::EntryKind;
use gix_object::{Find, Kind};
use gix_odb::Header;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A git repository with a working tree, opened for reading.
pub struct GitRepository {
    refs: gix_ref::file::Store,
    objects: gix_odb::Handle,
    /// Commits whose parents a shallow clone does not have (its `shallow` file); empty for a
    /// full clone.
    shallow: HashSet<ObjectId>,
    workdir: PathBuf,
    /// The git directory shared by all worktrees (`info/exclude` lives there).
    common_dir: PathBuf,
    /// This working tree's own git directory (its `index` lives there).
    git_dir: PathBuf,
}

/// One commit, as named by the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// What was asked for (`main`, `HEAD~1`), or for [`GitRepository::default_base`]
    /// `DEFAULT...HEAD` (git's spelling of "the merge base of DEFAULT and HEAD"), or `HEAD`.
    pub spec: String,
    /// The commit's full hexadecimal id.
    pub commit: String,
    /// The first line of the commit message (repository text, lossily UTF-8: show it through
    /// [`crate::text::for_terminal`] or [`crate::text::for_machine`]).
    pub summary: String,
}

/// A revision's files, written into a temporary directory that is removed on drop.
pub struct Snapshot {
    // Removed (with everything in it) when the snapshot is dropped.
    _dir: tempfile::TempDir,
    /// Inside `dir`, named like the working tree (the walk names a repository after its
    /// directory: `#name.id` tags must resolve on both sides alike).
    root: PathBuf,
    revision: Revision,
    skipped: Vec<(PathBuf, String)>,
    omitted: Vec<PathBuf>,
}

/// What a revision's tree holds at a path ([`GitRepository::path_kind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathKind {
    Absent,
    /// A regular file (executable or not), with its blob id.
    File(BlobId),
    Dir,
    /// A symbolic link or a submodule.
    Other,
}

/// A blob's git object id: what a file's content hashes to as git stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlobId(ObjectId);

impl BlobId {
    /// The id git gives a file holding `content` (`git hash-object`); `None` for content
    /// crafted to collide with another's SHA-1 (detected, never equal to anything).
    pub fn of(content: &[u8]) -> Option<BlobId> {
        gix_object::compute_hash(HASH, Kind::Blob, content).ok().map(BlobId)
    }
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
            VcsError::Io { path, error } => write!(f, "{}: {error}", shown(path)),
        }
    }
}

impl std::error::Error for VcsError {}

/// The branches tried, in order, when `refs/remotes/origin/HEAD` does not name the default one.
const DEFAULT_BRANCHES: &[&str] = &["main", "master", "origin/main", "origin/master"];

/// Most symbolic refs followed, and tags peeled, in a row (git stops at 5 symbolic refs).
const MAX_INDIRECTIONS: usize = 16;

/// The only object hash supported.
const HASH: gix_hash::Kind = gix_hash::Kind::Sha1;

/// The name of git's attributes files (which choose filters and line-ending conversion).
pub const ATTRIBUTES: &str = ".gitattributes";

impl GitRepository {
    /// The repository containing `path` (normal checkout, linked worktree, detached HEAD).
    pub fn discover(path: &Path) -> Result<GitRepository, VcsError> {
        let not_a_repository = || VcsError::NotARepository { path: path.to_path_buf() };
        // No configuration is read, so whoever owns the directories cannot change what is read.
        let options = gix_discover::upwards::Options {
            trust: gix_discover::upwards::TrustPolicy::Assume(gix_sec::Trust::Reduced),
            ..Default::default()
        };
        let (location, _) = gix_discover::upwards_opts(path, options).map_err(|_| not_a_repository())?;
        let (git_dir, workdir) = location.into_repository_and_work_tree_directories();
        let Some(workdir) = workdir else {
            return Err(VcsError::Bare { path: git_dir });
        };
        // A linked worktree's git directory names the repository's common directory (objects,
        // branches, packed refs) in its `commondir` file.
        let common_dir = match gix_discover::path::from_plain_file(&git_dir.join("commondir")) {
            Some(Ok(dir)) => Some(git_dir.join(dir)),
            Some(Err(error)) => {
                return Err(VcsError::Git(format!("{}: {error}", git_dir.join("commondir").display())));
            }
            None => None,
        };
        let shared = common_dir.clone().unwrap_or_else(|| git_dir.clone());
        let refs = match common_dir {
            Some(common) => gix_ref::file::Store::for_linked_worktree(git_dir.clone(), common, HASH),
            None => gix_ref::file::Store::at(git_dir.clone(), HASH),
        };
        let mut objects = gix_odb::at(shared.join("objects"), HASH)
            .map_err(|error| VcsError::Git(format!("{}: {error}", shared.join("objects").display())))?;
        // Deltas in a pack share bases: keep the last few inflated (a fixed 64 entries).
        objects.set_pack_cache(|| Box::new(gix_pack::cache::lru::StaticLinkedList::<64>::default()));
        let shallow = read_shallow(&shared.join("shallow"))?;
        Ok(GitRepository { refs, objects, shallow, workdir, common_dir: shared, git_dir })
    }

    /// Root of the working tree.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The root of the working tree with symbolic links resolved (as is when it cannot be).
    pub fn real_workdir(&self) -> PathBuf {
        real_path(&self.workdir)
    }

    /// Where `path` (absolute) lies in the working tree: its path relative to the root, empty
    /// for the root itself, `None` outside. Links are resolved on both sides, so a working tree
    /// reached through a link still holds its files.
    pub fn path_in_workdir(&self, path: &Path) -> Option<PathBuf> {
        real_path(path).strip_prefix(self.real_workdir()).ok().map(Path::to_path_buf)
    }

    /// Resolves a revision spec (branch, tag, full/short commit id, `HEAD~3`, `origin/main`).
    pub fn resolve(&self, spec: &str) -> Result<Revision, VcsError> {
        let unknown = || VcsError::UnknownRevision { spec: spec.to_string() };
        let (name, mut steps) = split_spec(spec);
        let mut commit = match self.find_name(name, spec)? {
            Some(id) => self.peel_to_commit(spec, id)?,
            None => return Err(unknown()),
        };
        while !steps.is_empty() {
            let (step, rest) = parse_step(steps).ok_or_else(unknown)?;
            steps = rest;
            commit = match step {
                Step::Peel => commit,
                Step::Ancestor(generations) => {
                    for _ in 0..generations {
                        commit = self.parent(spec, commit, 1)?;
                    }
                    commit
                }
                Step::Parent(0) => commit,
                Step::Parent(n) => self.parent(spec, commit, n)?,
            };
        }
        self.revision(spec, commit)
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
        let mut graph = gix_revwalk::Graph::new(&self.objects, None);
        match gix_revision::merge_base(one, &[two], &mut graph) {
            Ok(Some(bases)) => self.revision(&spec, *bases.first()),
            Ok(None) | Err(_) if self.is_shallow() => Err(VcsError::ShallowHistory { spec }),
            Ok(None) => Err(VcsError::Git(format!("HEAD and {branch} have no common ancestor"))),
            Err(error) => Err(VcsError::Git(format!("the merge base of HEAD and {branch}: {error}"))),
        }
    }

    /// The working tree's git index (`index` in its git directory), to tell unchanged files
    /// from their stat data as `git status` does; why not when it cannot serve (no index, an
    /// unreadable or corrupt one, a split or sparse index, another object hash).
    pub fn worktree_index(&self) -> Result<WorktreeIndex, String> {
        let path = self.git_dir.join("index");
        let (bytes, modified) = fs::File::open(&path)
            .and_then(|mut file| {
                // The racy-git rule compares entries with the time the index was written: take
                // it from the file read.
                let modified = file.metadata()?.modified()?;
                let mut bytes = Vec::new();
                io::Read::read_to_end(&mut file, &mut bytes)?;
                Ok((bytes, modified))
            })
            .map_err(|error| format!("the git index: {error}"))?;
        let trailer = bytes.len().checked_sub(HASH.len_in_bytes()).ok_or("the git index is truncated")?;
        let stored = ObjectId::from_bytes_or_panic(&bytes[trailer..]);
        // A null trailer is `index.skipHash`; any other must be the hash of what precedes it.
        if !stored.is_null() {
            let mut hasher = gix_hash::hasher(HASH);
            hasher.update(&bytes[..trailer]);
            if hasher.try_finalize().ok() != Some(stored) {
                return Err("the git index's checksum does not match".into());
            }
        }
        let options = gix_index::decode::Options { thread_limit: Some(1), ..Default::default() };
        let (state, _) = gix_index::State::from_bytes(
            &bytes,
            filetime::FileTime::from_system_time(modified),
            HASH,
            options,
        )
        .map_err(|e| format!("the git index: {e}"))?;
        if state.link().is_some() {
            return Err("the git index is split".into());
        }
        if state.is_sparse() {
            return Err("the git index is sparse".into());
        }
        Ok(WorktreeIndex { state })
    }

    /// Writes the regular files of `revision`'s tree into a fresh temporary directory.
    pub fn snapshot(&self, revision: &Revision) -> Result<Snapshot, VcsError> {
        self.snapshot_omitting(revision, &mut |_, _, _| false, None)
    }

    /// [`GitRepository::snapshot_told`] without sizes told.
    pub fn snapshot_omitting(
        &self,
        revision: &Revision,
        omit: &mut dyn FnMut(&Path, BlobId, u64) -> bool,
        only_dirs: Option<&[PathBuf]>,
    ) -> Result<Snapshot, VcsError> {
        self.snapshot_told(revision, omit, only_dirs, &HashMap::new())
    }

    /// [`GitRepository::snapshot`] without the files `omit` says the caller already has (asked
    /// with each file's path relative to the root, its blob id and size, after the name and size
    /// rules): they are listed in [`Snapshot::omitted`] and not inflated. With `only_dirs`,
    /// the directories written are those holding a written file and those listed (when the
    /// tree has them); without, every directory (creating a directory costs as much as a small
    /// file).
    ///
    /// `told` holds blob sizes the caller knows without the object database (from git's index:
    /// [`WorktreeIndex::staged`]); they stand in for the object headers (a deltified pack
    /// entry's size costs an inflate) only when no conversion can make a file's bytes differ
    /// from its blob's: [`GitRepository::conversion_ruled_out`], and no `.gitattributes` in the
    /// revision's tree. Else every size is read from its header.
    pub fn snapshot_told(
        &self,
        revision: &Revision,
        omit: &mut dyn FnMut(&Path, BlobId, u64) -> bool,
        only_dirs: Option<&[PathBuf]>,
        told: &HashMap<BlobId, u64>,
    ) -> Result<Snapshot, VcsError> {
        let commit = parse_id(&revision.commit)?;
        let mut buf = Vec::new();
        let tree = self.commit(&revision.spec, commit, &mut buf)?.tree();
        let mut writer = TreeWriter {
            objects: &self.objects,
            root: PathBuf::new(),
            skipped: Vec::new(),
            omitted: Vec::new(),
            omit,
            lazy_dirs: only_dirs.map(|_| LazyDirs::default()),
            sizes: HashMap::new(),
            files: 0,
            bytes: 0,
        };
        // Before anything is written: a tree over the limits leaves no files behind.
        let told = match told.is_empty() || self.conversion_ruled_out().is_err() {
            true => None,
            false => Some(told),
        };
        let (files, bytes) = writer.measure(tree, told)?;
        if files > crate::limits::MAX_SNAPSHOT_FILES as u64 || bytes > crate::limits::MAX_SNAPSHOT_BYTES {
            return Err(over_limits(&revision.spec, files, bytes));
        }
        let dir = tempfile::Builder::new()
            .prefix("threat-analyzer-git-")
            .tempdir()
            .map_err(|error| VcsError::Io { path: std::env::temp_dir(), error })?;
        let name = self
            .workdir
            .file_name()
            .filter(|name| name.to_str().is_some_and(|n| unsafe_name(n.as_bytes().as_bstr()).is_none()))
            .unwrap_or("repository".as_ref());
        let root = dir.path().join(name);
        self.mark_as_repository(&root)?;
        writer.root = root.clone();
        writer.write_tree(tree)?;
        for dir in only_dirs.unwrap_or_default() {
            let dir = crate::paths::normalize(dir);
            if writer.lazy_dirs.as_ref().is_some_and(|lazy| lazy.dirs.contains(&dir)) {
                writer.ensure_dir(&dir)?;
            }
        }
        let TreeWriter { skipped, omitted, .. } = writer;
        Ok(Snapshot { _dir: dir, root, revision: revision.clone(), skipped, omitted })
    }

    /// The blob id of the regular file at `rel` (relative to the root) in `revision`'s tree;
    /// `None` when the tree holds no regular file there.
    pub fn file_id(&self, revision: &Revision, rel: &Path) -> Result<Option<BlobId>, VcsError> {
        Ok(match self.path_kind(revision, rel)? {
            PathKind::File(id) => Some(id),
            _ => None,
        })
    }

    /// What `revision`'s tree holds at `rel` (relative to the root; `.` components are
    /// ignored, a `..` or absolute path is [`PathKind::Absent`]).
    pub fn path_kind(&self, revision: &Revision, rel: &Path) -> Result<PathKind, VcsError> {
        let commit = parse_id(&revision.commit)?;
        let mut buf = Vec::new();
        let mut id = self.commit(&revision.spec, commit, &mut buf)?.tree();
        let names: Option<Vec<&std::ffi::OsStr>> = rel
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(name) => Some(Some(name)),
                std::path::Component::CurDir => None,
                _ => Some(None),
            })
            .collect();
        let Some(names) = names else { return Ok(PathKind::Absent) };
        let mut at = PathBuf::new();
        let mut kind = EntryKind::Tree;
        for name in names {
            if kind != EntryKind::Tree {
                return Ok(PathKind::Absent);
            }
            let wanted = name.as_encoded_bytes();
            let entries = tree_entries(&self.objects, id, Some(&at), &mut buf)?;
            let Some((found, _, oid)) = entries.into_iter().find(|(_, entry, _)| entry.as_slice() == wanted)
            else {
                return Ok(PathKind::Absent);
            };
            (kind, id) = (found, oid);
            at.push(name);
        }
        Ok(match kind {
            EntryKind::Tree => PathKind::Dir,
            EntryKind::Blob | EntryKind::BlobExecutable => PathKind::File(BlobId(id)),
            EntryKind::Link | EntryKind::Commit => PathKind::Other,
        })
    }

    /// Makes `root` a directory whose ignore rules are the working tree's: a `.git` directory
    /// (git's ignore rules of the directories above a repository do not apply in it) holding
    /// the repository's `info/exclude`, read by the rule for configuration files.
    fn mark_as_repository(&self, root: &Path) -> Result<(), VcsError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |error| VcsError::Io { path, error }
        };
        let info = root.join(".git").join("info");
        fs::create_dir_all(&info).map_err(io(&info))?;
        let exclude = self.common_dir.join("info").join("exclude");
        // One the working tree's walk refuses (a link, too large) is refused there with a note.
        if let Ok(bytes) = crate::read::read_bounded(
            &exclude,
            crate::limits::MAX_CONFIG_FILE_SIZE,
            crate::read::Links::Refuse,
        ) {
            let target = info.join("exclude");
            fs::write(&target, bytes).map_err(io(&target))?;
        }
        Ok(())
    }

    /// Whether git can be told to convert files between the object database and the working
    /// tree (line endings, `ident`, filters, encodings) by anything but a `.gitattributes` file
    /// of the tree (which the caller looks for): `Ok` when no attributes file applies (the
    /// repository's `info/attributes`, the user's and the system's) and no configuration file
    /// mentions `autocrlf`, `eol`, `attributesFile` or `include` (in any case, anywhere: a
    /// word in a comment also counts) nor can come from the environment (`GIT_CONFIG_*`,
    /// `GIT_ATTR_SOURCE`); the first reason to doubt when not. Configuration is only searched
    /// for those words, never interpreted (so it cannot change what is read). The files are
    /// the repository's `config` and `config.worktree`, `~/.gitconfig`, the XDG `git/config`,
    /// and the system's `gitconfig` and `gitattributes` under `/etc`, `/usr/local/etc` and
    /// `/opt/homebrew/etc`; a git installed under another prefix with a system configuration
    /// that converts files is not seen.
    pub fn conversion_ruled_out(&self) -> Result<(), String> {
        const WORDS: &[&str] = &["autocrlf", "eol", "attributesfile", "include"];
        const FROM_ENVIRONMENT: &[&str] = &[
            "GIT_CONFIG_PARAMETERS",
            "GIT_CONFIG_COUNT",
            "GIT_CONFIG_GLOBAL",
            "GIT_CONFIG_SYSTEM",
            "GIT_CONFIG",
            "GIT_ATTR_SOURCE",
        ];
        if let Some(name) = FROM_ENVIRONMENT.iter().find(|name| std::env::var_os(name).is_some()) {
            return Err(format!("{name} is set"));
        }
        let home = std::env::var_os("HOME").map(PathBuf::from).ok_or("HOME is not set")?;
        let xdg = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
            .unwrap_or_else(|| home.join(".config"))
            .join("git");
        let prefixes = ["/etc", "/usr/local/etc", "/opt/homebrew/etc"].map(PathBuf::from);
        let mut attributes = vec![self.common_dir.join("info").join("attributes"), xdg.join("attributes")];
        attributes.extend(prefixes.iter().map(|dir| dir.join("gitattributes")));
        for path in attributes {
            if fs::symlink_metadata(&path).is_ok() {
                return Err(format!("{} exists", path.display()));
            }
        }
        let mut configs = vec![
            self.common_dir.join("config"),
            self.common_dir.join("config.worktree"),
            self.git_dir.join("config"),
            self.git_dir.join("config.worktree"),
            home.join(".gitconfig"),
            xdg.join("config"),
        ];
        configs.extend(prefixes.iter().map(|dir| dir.join("gitconfig")));
        for path in configs {
            let text = match crate::read::read_bounded(
                &path,
                crate::limits::MAX_CONFIG_FILE_SIZE,
                crate::read::Links::Follow,
            ) {
                Ok(bytes) => bytes.to_ascii_lowercase(),
                Err(refusal) if refusal.is_missing() => continue,
                Err(_) => return Err(format!("{} cannot be read", path.display())),
            };
            if let Some(word) = WORDS.iter().find(|word| text.find(word.as_bytes()).is_some()) {
                return Err(format!("{} mentions {word}", path.display()));
            }
        }
        Ok(())
    }

    /// The default branch's name as `resolve` accepts it, when one exists.
    fn default_branch(&self) -> Option<String> {
        let origin_head = self.refs.try_find("refs/remotes/origin/HEAD").ok().flatten();
        if let Some(gix_ref::Target::Symbolic(target)) = origin_head.map(|reference| reference.target) {
            let name = target.as_bstr().to_str_lossy().into_owned();
            if self.find_name(&name, &name).ok().flatten().is_some() {
                return Some(name.strip_prefix("refs/remotes/").unwrap_or(&name).to_string());
            }
        }
        DEFAULT_BRANCHES
            .iter()
            .find(|name| self.find_name(name, name).ok().flatten().is_some())
            .map(|name| name.to_string())
    }

    fn is_shallow(&self) -> bool {
        !self.shallow.is_empty()
    }

    /// The object a ref name or (abbreviated) object id names, if it names one (`spec`, the
    /// whole revision spec, is for errors).
    fn find_name(&self, name: &str, spec: &str) -> Result<Option<ObjectId>, VcsError> {
        if let Some(id) = self.find_ref(name)? {
            return Ok(Some(id));
        }
        if name.len() < 4 || name.len() > HASH.len_in_hex() || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let prefix =
            gix_hash::Prefix::from_hex(name).map_err(|error| VcsError::Git(format!("{name}: {error}")))?;
        let found = self
            .objects
            .lookup_prefix(prefix, None)
            .map_err(|error| VcsError::Git(format!("{name}: {error}")))?;
        match found {
            Some(Ok(id)) => Ok(Some(id)),
            Some(Err(())) => {
                Err(VcsError::Git(format!("the abbreviated id '{name}' names more than one object")))
            }
            // An id from elsewhere (a pull request's base commit) that a shallow clone lacks.
            None if self.is_shallow() => Err(VcsError::ShallowHistory { spec: spec.to_string() }),
            None => Ok(None),
        }
    }

    /// The object a ref points to, following symbolic refs, if `name` names a ref (looked up as
    /// git does: `NAME`, `refs/NAME`, `refs/tags/NAME`, `refs/heads/NAME`, `refs/remotes/NAME`,
    /// `refs/remotes/NAME/HEAD`).
    fn find_ref(&self, name: &str) -> Result<Option<ObjectId>, VcsError> {
        let Ok(partial) = <&gix_ref::PartialNameRef>::try_from(name) else {
            return Ok(None);
        };
        let Some(mut reference) =
            self.refs.try_find(partial).map_err(|error| VcsError::Git(format!("{name}: {error}")))?
        else {
            return Ok(None);
        };
        for _ in 0..MAX_INDIRECTIONS {
            match reference.target {
                gix_ref::Target::Object(id) => return Ok(Some(id)),
                gix_ref::Target::Symbolic(target) => {
                    match self
                        .refs
                        .try_find(target.as_ref())
                        .map_err(|error| VcsError::Git(format!("{name}: {error}")))?
                    {
                        Some(next) => reference = next,
                        // A symbolic ref to a branch without commits (HEAD of an empty repository).
                        None => return Ok(None),
                    }
                }
            }
        }
        Err(VcsError::Git(format!("{name}: more than {MAX_INDIRECTIONS} symbolic refs in a row")))
    }

    /// `id` with tags peeled, which must be a commit.
    fn peel_to_commit(&self, spec: &str, mut id: ObjectId) -> Result<ObjectId, VcsError> {
        let mut buf = Vec::new();
        for _ in 0..MAX_INDIRECTIONS {
            let object = self.object(spec, id, &mut buf)?;
            match object.kind {
                Kind::Commit => return Ok(id),
                Kind::Tag => {
                    id = gix_object::TagRef::from_bytes(object.data, HASH)
                        .map_err(|error| VcsError::Git(format!("the tag {id}: {error}")))?
                        .target();
                }
                Kind::Tree | Kind::Blob => {
                    return Err(VcsError::Git(format!("'{spec}' names a {}, not a commit", object.kind)));
                }
            }
        }
        Err(VcsError::Git(format!("'{spec}': more than {MAX_INDIRECTIONS} tags in a row")))
    }

    /// The `n`th parent (from 1) of `commit`.
    fn parent(&self, spec: &str, commit: ObjectId, n: u64) -> Result<ObjectId, VcsError> {
        if self.shallow.contains(&commit) {
            return Err(VcsError::ShallowHistory { spec: spec.to_string() });
        }
        let mut buf = Vec::new();
        let parent = usize::try_from(n - 1).ok().and_then(|index| {
            self.commit(spec, commit, &mut buf).map(|c| c.parents().nth(index)).transpose()
        });
        match parent {
            Some(parent) => parent,
            None => Err(VcsError::UnknownRevision { spec: spec.to_string() }),
        }
    }

    /// The object `id`; a missing one in a shallow clone is history the clone cut off.
    fn object<'buf>(
        &self,
        spec: &str,
        id: ObjectId,
        buf: &'buf mut Vec<u8>,
    ) -> Result<gix_object::Data<'buf>, VcsError> {
        match self.objects.try_find(&id, buf) {
            Ok(Some(object)) => Ok(object),
            Ok(None) if self.is_shallow() => Err(VcsError::ShallowHistory { spec: spec.to_string() }),
            Ok(None) => Err(VcsError::Git(format!("the object {id} ('{spec}') is missing"))),
            Err(error) => Err(VcsError::Git(format!("the object {id} ('{spec}'): {error}"))),
        }
    }

    /// The commit `id`, decoded.
    fn commit<'buf>(
        &self,
        spec: &str,
        id: ObjectId,
        buf: &'buf mut Vec<u8>,
    ) -> Result<gix_object::CommitRef<'buf>, VcsError> {
        let object = self.object(spec, id, buf)?;
        if object.kind != Kind::Commit {
            return Err(VcsError::Git(format!("{id} ('{spec}') is a {}, not a commit", object.kind)));
        }
        gix_object::CommitRef::from_bytes(object.data, HASH)
            .map_err(|error| VcsError::Git(format!("the commit {id}: {error}")))
    }

    /// The commit `id` as a [`Revision`] named `spec`.
    fn revision(&self, spec: &str, id: ObjectId) -> Result<Revision, VcsError> {
        let mut buf = Vec::new();
        let commit = self.commit(spec, id, &mut buf)?;
        let summary = commit
            .message
            .lines()
            .next()
            .map(|line| line.to_str_lossy().trim_end().to_string())
            .unwrap_or_default();
        Ok(Revision { spec: spec.to_string(), commit: id.to_string(), summary })
    }
}

/// A revision spec's name (`@` is `HEAD`) and the steps after it (from the first `~` or `^`).
fn split_spec(spec: &str) -> (&str, &str) {
    let (name, steps) = spec.split_at(spec.find(['~', '^']).unwrap_or(spec.len()));
    (if name == "@" { "HEAD" } else { name }, steps)
}

/// One navigation step after the name in a revision spec.
enum Step {
    /// `~N` (`~` alone is 1).
    Ancestor(u64),
    /// `^N` (`^` alone is 1, `^0` the commit itself).
    Parent(u64),
    /// `^{commit}` or `^{}`: already a commit.
    Peel,
}

/// The first step of `steps` and the rest, or `None` when it is not one [`Step`] knows.
fn parse_step(steps: &str) -> Option<(Step, &str)> {
    let number = |rest: &str| -> Option<(u64, usize)> {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 { Some((1, 0)) } else { rest[..digits].parse().ok().map(|n| (n, digits)) }
    };
    if let Some(rest) = steps.strip_prefix('~') {
        let (n, len) = number(rest)?;
        return Some((Step::Ancestor(n), &rest[len..]));
    }
    let rest = steps.strip_prefix('^')?;
    for peel in ["{commit}", "{}"] {
        if let Some(rest) = rest.strip_prefix(peel) {
            return Some((Step::Peel, rest));
        }
    }
    let (n, len) = number(rest)?;
    Some((Step::Parent(n), &rest[len..]))
}

/// The commits listed in a shallow clone's `shallow` file (none when it does not exist).
fn read_shallow(path: &Path) -> Result<HashSet<ObjectId>, VcsError> {
    let text = match fs::read(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(error) => return Err(VcsError::Io { path: path.to_path_buf(), error }),
    };
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            ObjectId::from_hex(line.trim())
                .map_err(|error| VcsError::Git(format!("{}: {error}", path.display())))
        })
        .collect()
}

fn parse_id(hex: &str) -> Result<ObjectId, VcsError> {
    ObjectId::from_hex(hex.as_bytes()).map_err(|error| VcsError::Git(format!("commit id {hex}: {error}")))
}

/// Writes one tree into the snapshot directory, depth first, counting against the limits.
struct TreeWriter<'repo> {
    objects: &'repo gix_odb::Handle,
    root: PathBuf,
    skipped: Vec<(PathBuf, String)>,
    /// Files not written because the caller has them.
    omitted: Vec<PathBuf>,
    omit: &'repo mut dyn FnMut(&Path, BlobId, u64) -> bool,
    /// When only the directories that hold a written file are created: which.
    lazy_dirs: Option<LazyDirs>,
    /// Blob sizes read by [`TreeWriter::measure`], so that writing does not read a header
    /// again (a deltified pack entry's size costs an inflate).
    sizes: HashMap<ObjectId, u64>,
    /// Files and bytes written so far.
    files: u64,
    bytes: u64,
}

/// Why the second entry of a name in one tree is not written.
const TWICE: &str = "the tree holds this name twice";

/// The directories of a snapshot that writes only those it needs.
#[derive(Default)]
struct LazyDirs {
    /// Every directory and file path of the tree met so far (the file system cannot say
    /// "this name twice" for directories not created).
    in_tree: HashSet<PathBuf>,
    /// The directories of the tree (those of `in_tree` that are).
    dirs: HashSet<PathBuf>,
    created: HashSet<PathBuf>,
}

/// The error for a tree over [`crate::limits::MAX_SNAPSHOT_FILES`] or
/// [`crate::limits::MAX_SNAPSHOT_BYTES`].
fn over_limits(what: &str, files: u64, bytes: u64) -> VcsError {
    VcsError::Git(format!(
        "'{what}' holds {files} files of {bytes} bytes within the size limit, more than threat-analyzer \
         reads from one revision ({} files, {} bytes)",
        crate::limits::MAX_SNAPSHOT_FILES,
        crate::limits::MAX_SNAPSHOT_BYTES
    ))
}

impl TreeWriter<'_> {
    /// How many files, and bytes, `tree` would write at most (every blob within the size
    /// limit, whatever its name). Each distinct tree is counted once, so a tree that repeats
    /// a subtree a million times costs what the repository holds, not what it expands to. The
    /// sizes `told` are taken for the blobs they name when no tree holds a `.gitattributes`
    /// (in any case): every tree is read before any size is.
    fn measure(
        &mut self,
        tree: ObjectId,
        told: Option<&HashMap<BlobId, u64>>,
    ) -> Result<(u64, u64), VcsError> {
        // Every distinct tree's entries, and the trees in an order that puts each after its
        // subtrees (trees are named by their content, so none holds itself).
        let mut entries_of: HashMap<ObjectId, Vec<(EntryKind, ObjectId)>> = HashMap::new();
        let mut order = Vec::new();
        let mut attributes = false;
        let mut pending = vec![(tree, false)];
        let mut buf = Vec::new();
        while let Some((id, done)) = pending.pop() {
            if done {
                order.push(id);
                continue;
            }
            if entries_of.contains_key(&id) {
                continue;
            }
            let entries = self.entries(id, None, &mut buf)?;
            attributes |= entries.iter().any(|(_, name, _)| name.eq_ignore_ascii_case(ATTRIBUTES.as_bytes()));
            let entries: Vec<_> = entries.into_iter().map(|(kind, _, oid)| (kind, oid)).collect();
            pending.push((id, true));
            pending.extend(
                entries
                    .iter()
                    .filter(|(kind, oid)| *kind == EntryKind::Tree && !entries_of.contains_key(oid))
                    .map(|(_, oid)| (*oid, false)),
            );
            entries_of.insert(id, entries);
        }
        if let Some(told) = told.filter(|_| !attributes) {
            self.sizes.extend(told.iter().map(|(id, size)| (id.0, *size)));
        }
        let mut totals: HashMap<ObjectId, (u64, u64)> = HashMap::new();
        for id in order {
            let (mut files, mut bytes) = (0u64, 0u64);
            for &(kind, oid) in entries_of.get(&id).map(Vec::as_slice).unwrap_or_default() {
                let (entry_files, entry_bytes) = match kind {
                    EntryKind::Tree => totals.get(&oid).copied().unwrap_or_default(),
                    EntryKind::Blob | EntryKind::BlobExecutable => {
                        match self.blob_size(oid, Path::new("a file"))? {
                            size if size > crate::limits::MAX_FILE_SIZE => (0, 0),
                            size => (1, size),
                        }
                    }
                    EntryKind::Link | EntryKind::Commit => (0, 0),
                };
                files = files.saturating_add(entry_files);
                bytes = bytes.saturating_add(entry_bytes);
            }
            totals.insert(id, (files, bytes));
        }
        Ok(totals.get(&tree).copied().unwrap_or_default())
    }

    fn write_tree(&mut self, tree: ObjectId) -> Result<(), VcsError> {
        // (tree id, its path relative to the root); an explicit stack, as trees nest without
        // bound.
        let mut pending = vec![(tree, PathBuf::new())];
        let mut buf = Vec::new();
        while let Some((tree, dir)) = pending.pop() {
            let entries = self.entries(tree, Some(&dir), &mut buf)?;
            for (kind, name, id) in entries {
                let name = name.as_bstr();
                if let Some(why) = unsafe_name(name) {
                    self.skipped.push((dir.join(lossy_path(name)), why.to_string()));
                    continue;
                }
                let Ok(fs_name) = gix_path_from_bytes(name) else {
                    self.skipped
                        .push((dir.join(lossy_path(name)), "name is not valid on this system".to_string()));
                    continue;
                };
                let rel = dir.join(fs_name);
                if let Some(lazy) = &mut self.lazy_dirs
                    && !lazy.in_tree.insert(rel.clone())
                {
                    self.skipped.push((rel, TWICE.to_string()));
                    continue;
                }
                match kind {
                    EntryKind::Tree if let Some(lazy) = &mut self.lazy_dirs => {
                        lazy.dirs.insert(rel.clone());
                        pending.push((id, rel));
                    }
                    EntryKind::Tree => match fs::create_dir(self.root.join(&rel)) {
                        Ok(()) => pending.push((id, rel)),
                        Err(error) => self.skip_or_fail(rel, error)?,
                    },
                    EntryKind::Blob | EntryKind::BlobExecutable => self.write_blob(id, rel, &mut buf)?,
                    EntryKind::Link => self.skipped.push((rel, "symbolic link".to_string())),
                    EntryKind::Commit => self.skipped.push((rel, "submodule".to_string())),
                }
            }
        }
        Ok(())
    }

    fn entries(
        &self,
        id: ObjectId,
        dir: Option<&Path>,
        buf: &mut Vec<u8>,
    ) -> Result<Vec<(EntryKind, BString, ObjectId)>, VcsError> {
        tree_entries(self.objects, id, dir, buf)
    }

    fn write_blob(&mut self, id: ObjectId, rel: PathBuf, buf: &mut Vec<u8>) -> Result<(), VcsError> {
        let size = self.blob_size(id, &rel)?;
        if size > crate::limits::MAX_FILE_SIZE {
            self.skipped.push((rel, format!("larger than {} bytes", crate::limits::MAX_FILE_SIZE)));
            return Ok(());
        }
        // `measure` checked the totals; this guards against a repository changing meanwhile.
        self.files += 1;
        self.bytes += size;
        if self.files > crate::limits::MAX_SNAPSHOT_FILES as u64
            || self.bytes > crate::limits::MAX_SNAPSHOT_BYTES
        {
            return Err(over_limits(&shown(&rel), self.files, self.bytes));
        }
        if (self.omit)(&rel, BlobId(id), size) {
            self.omitted.push(rel);
            return Ok(());
        }
        let data = match self.objects.try_find(&id, buf) {
            Ok(Some(object)) if object.kind == Kind::Blob => object.data,
            Ok(_) => return Err(VcsError::Git(format!("the blob {id} ({}) is missing", shown(&rel)))),
            Err(error) => return Err(VcsError::Git(format!("the blob {id} ({}): {error}", shown(&rel)))),
        };
        if let Some(dir) = rel.parent() {
            self.ensure_dir(&dir.to_path_buf())?;
        }
        let path = self.root.join(&rel);
        // `create_new` never opens an existing file (nor follows a link: none are created).
        let written = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| file.write_all(data));
        match written {
            Ok(()) => Ok(()),
            Err(error) => self.skip_or_fail(rel, error),
        }
    }

    /// The size of the blob `id` from its object header (read once per blob): a large blob is
    /// never inflated.
    fn blob_size(&mut self, id: ObjectId, rel: &Path) -> Result<u64, VcsError> {
        if let Some(&size) = self.sizes.get(&id) {
            return Ok(size);
        }
        match self.objects.try_header(&id) {
            Ok(Some(header)) => {
                self.sizes.insert(id, header.size());
                Ok(header.size())
            }
            Ok(None) => Err(VcsError::Git(format!("the blob {id} ({}) is missing", shown(rel)))),
            Err(error) => Err(VcsError::Git(format!("the blob {id} ({}): {error}", shown(rel)))),
        }
    }

    /// Creates `dir` (relative) and the directories above it when only the needed ones are.
    fn ensure_dir(&mut self, dir: &PathBuf) -> Result<(), VcsError> {
        let Some(lazy) = &mut self.lazy_dirs else { return Ok(()) };
        if dir.as_os_str().is_empty() || lazy.created.contains(dir) {
            return Ok(());
        }
        let path = self.root.join(dir);
        fs::create_dir_all(&path).map_err(|error| VcsError::Io { path, error })?;
        lazy.created.extend(dir.ancestors().map(Path::to_path_buf));
        Ok(())
    }

    /// A name the file system refuses (a duplicate in a crafted tree, too long) is skipped; any
    /// other failure (a full disk) stops the snapshot.
    fn skip_or_fail(&mut self, rel: PathBuf, error: io::Error) -> Result<(), VcsError> {
        match error.kind() {
            io::ErrorKind::AlreadyExists => {
                self.skipped.push((rel, TWICE.to_string()));
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

/// The entries of the tree `id` at `dir` (`None` while measuring: a tree can be at many
/// places then).
fn tree_entries(
    objects: &gix_odb::Handle,
    id: ObjectId,
    dir: Option<&Path>,
    buf: &mut Vec<u8>,
) -> Result<Vec<(EntryKind, BString, ObjectId)>, VcsError> {
    let at = || match dir {
        Some(dir) if dir.as_os_str().is_empty() => "the root".to_string(),
        Some(dir) => shown(dir),
        None => "some path".to_string(),
    };
    let object = match objects.try_find(&id, buf) {
        Ok(Some(object)) if object.kind == Kind::Tree => object,
        Ok(Some(object)) => {
            return Err(VcsError::Git(format!("{} is a {}, not a tree", at(), object.kind)));
        }
        Ok(None) => return Err(VcsError::Git(format!("the tree {id} at {} is missing", at()))),
        Err(error) => return Err(VcsError::Git(format!("the tree {id} at {}: {error}", at()))),
    };
    gix_object::TreeRefIter::from_bytes(object.data, HASH)
        .map(|entry| entry.map(|entry| (entry.mode.kind(), entry.filename.to_owned(), entry.oid.to_owned())))
        .collect::<Result<_, _>>()
        .map_err(|error| VcsError::Git(format!("the tree {id} at {}: {error}", at())))
}

/// The working tree's git index ([`GitRepository::worktree_index`]).
pub struct WorktreeIndex {
    state: gix_index::State,
}

impl WorktreeIndex {
    /// The blob the working tree's file at `rel` (relative to the root; `meta` its
    /// `symlink_metadata`) holds as far as git's index tells without reading it, as git's
    /// status tells an unchanged file: a regular file, staged without conflict as a regular
    /// file, not marked assume-unchanged, skip-worktree or intent-to-add, its stat data
    /// (modification and change times to the nanosecond, size, inode, owner) the index's, and
    /// the entry not racy (modified in or after the second the index was written: git's "racy
    /// git" rule). `None` means "read it to know". The blob is what git stores, which a filter
    /// (line-ending conversion) may make differ from the file's bytes.
    pub fn staged(&self, rel: &Path, meta: &fs::Metadata) -> Option<BlobId> {
        use gix_index::entry::{Flags, Mode, Stage, stat::Options};
        let path = rel.to_str()?.replace('\\', "/");
        let entry = self.state.entry_by_path_and_stage(path.as_bytes().as_bstr(), Stage::Unconflicted)?;
        let refused = Flags::ASSUME_VALID | Flags::SKIP_WORKTREE | Flags::INTENT_TO_ADD;
        let strict = Options { trust_ctime: true, check_stat: true, use_nsec: true, use_stdev: false };
        // Racy to the second, whatever the nanoseconds say (stricter than git built with
        // USE_NSEC).
        let racy = Options { use_nsec: false, ..strict };
        let fresh = meta.file_type().is_file()
            && !entry.flags.intersects(refused)
            && (entry.mode == Mode::FILE || entry.mode == Mode::FILE_EXECUTABLE)
            && !entry.stat.is_racy(self.state.timestamp(), racy)
            && entry.stat.matches(&stat_of(meta)?, strict);
        fresh.then_some(BlobId(entry.id))
    }
}

impl WorktreeIndex {
    /// Whether the index holds a `.gitattributes` file (in any case) anywhere: what `git add`
    /// stored may then have been converted.
    pub fn has_attributes(&self) -> bool {
        self.state.entries().iter().any(|entry| {
            let path = entry.path(&self.state);
            let name = path.rsplit_str("/").next().unwrap_or(path);
            name.eq_ignore_ascii_case(ATTRIBUTES.as_bytes())
        })
    }
}

/// A file's stat data as git's index records it (truncated to 32 bits as git does).
#[cfg(unix)]
fn stat_of(meta: &fs::Metadata) -> Option<gix_index::entry::Stat> {
    use gix_index::entry::stat::Time;
    use std::os::unix::fs::MetadataExt;
    let time = |secs: i64, nsecs: i64| Time { secs: secs as u32, nsecs: nsecs as u32 };
    Some(gix_index::entry::Stat {
        mtime: time(meta.mtime(), meta.mtime_nsec()),
        ctime: time(meta.ctime(), meta.ctime_nsec()),
        dev: meta.dev() as u32,
        ino: meta.ino() as u32,
        uid: meta.uid(),
        gid: meta.gid(),
        size: meta.len() as u32,
    })
}

/// Elsewhere the stat data git records is not all at hand: every file is read.
#[cfg(not(unix))]
fn stat_of(_meta: &fs::Metadata) -> Option<gix_index::entry::Stat> {
    None
}

/// A path inside the snapshot for an error message: tree entry names are repository text, and
/// reach a terminal only through [`crate::text::for_terminal`].
fn shown(path: &Path) -> String {
    crate::text::for_terminal(&path.display().to_string()).into_owned()
}

/// A tree entry's name as a path component (any bytes on Unix; UTF-8 elsewhere).
fn gix_path_from_bytes(name: &BStr) -> Result<PathBuf, ()> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(name)))
    }
    #[cfg(not(unix))]
    {
        name.to_str().map(PathBuf::from).map_err(|_| ())
    }
}

impl Snapshot {
    /// The directory holding the tree (same layout as the working tree).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Files left out because the caller has them ([`GitRepository::snapshot_omitting`]),
    /// relative to [`Snapshot::root`], in tree order.
    pub fn omitted(&self) -> &[PathBuf] {
        &self.omitted
    }

    /// The revision written.
    pub fn revision(&self) -> &Revision {
        &self.revision
    }

    /// Tree entries not written, relative to [`Snapshot::root`], with why (symbolic link,
    /// submodule, too large, unsafe name), in tree order. The paths are repository text (an
    /// unsafe name with `/`, `\\` or NUL replaced by `_`): show them through [`crate::text`]'s
    /// rule.
    pub fn skipped(&self) -> &[(PathBuf, String)] {
        &self.skipped
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

/// The pure rules of this module, for the `revisions` fuzz target
/// (`fuzz/fuzz_targets/revisions.rs`, properties in `tests/support/invariants.rs`): no
/// repository needed. Not an API.
#[doc(hidden)]
pub mod fuzz {
    /// A revision spec as [`super::GitRepository::resolve`] reads it: the name it looks up, and
    /// its steps (`~N`, `^N`, `^{}` for a peel), or `None` when it refuses a step.
    pub fn revision_steps(spec: &str) -> (&str, Option<Vec<String>>) {
        let (name, mut text) = super::split_spec(spec);
        let mut steps = Vec::new();
        while !text.is_empty() {
            let Some((step, rest)) = super::parse_step(text) else { return (name, None) };
            steps.push(match step {
                super::Step::Ancestor(n) => format!("~{n}"),
                super::Step::Parent(n) => format!("^{n}"),
                super::Step::Peel => "^{}".to_string(),
            });
            text = rest;
        }
        (name, Some(steps))
    }

    /// Why a snapshot does not write a tree entry of this name (`None`: it writes it).
    pub fn unsafe_tree_name(name: &[u8]) -> Option<&'static str> {
        super::unsafe_name(name.into())
    }
}

/// `name` for messages (invalid UTF-8 replaced).
fn lossy_path(name: &BStr) -> PathBuf {
    PathBuf::from(name.to_str_lossy().replace(['/', '\\', '\0'], "_"))
}

/// `path` with symbolic links resolved when it exists, else as is.
fn real_path(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_are_refused_and_ordinary_ones_kept() {
        for name in
            ["", ".", "..", "a/b", "a\\b", "a\0b", ".git", ".GIT", ".Git.", ".git ", ".git. .", "GIT~1"]
        {
            assert!(unsafe_name(name.into()).is_some(), "{name:?}");
        }
        for name in ["...", ".gitignore", ".github", "git", ".git~1", "x.git", ".guardlink", "a b", "ü.py"] {
            assert_eq!(unsafe_name(name.into()), None, "{name:?}");
        }
    }

    #[test]
    fn revision_steps_parse_as_git_reads_them() {
        let steps = |spec: &str| fuzz::revision_steps(spec).1.map(|steps| steps.join(" "));
        assert_eq!(steps("main~"), Some("~1".into()));
        assert_eq!(steps("HEAD~3^2"), Some("~3 ^2".into()));
        assert_eq!(steps("x^^"), Some("^1 ^1".into()));
        assert_eq!(steps("v1^0~12^{commit}^{}"), Some("^0 ~12 ^{} ^{}".into()));
        // `^{tree}` is not a commit: the rest does not parse, so `resolve` refuses the spec.
        assert_eq!(steps("main^{tree}"), None);
        assert_eq!(steps("main~99999999999999999999999"), None);
        assert_eq!(steps("main"), Some(String::new()));
        assert_eq!(fuzz::revision_steps("@~2"), ("HEAD", Some(vec!["~2".to_string()])));
        assert_eq!(fuzz::revision_steps("origin/main^2").0, "origin/main");
        assert!(parse_step("x").is_none(), "steps start with `~` or `^`");
    }
}
