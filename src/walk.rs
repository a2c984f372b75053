//! File-system walk: from the `check` command's PATH arguments to a [`ProjectIndex`].
//!
//! Owns: every byte `check` reads from disk (each file through [`crate::read`]). Finds files
//! with the `ignore` crate (the walker behind ripgrep), decides which to skip and why, reads
//! them, and parses the candidates in parallel into [`FileFacts`]. Must never: analyse (that is
//! `analysis`'s job) or print (the CLI decides what to show; every skipped file comes back with
//! a [`SkipReason`], every refused configuration or ignore file as a [`NotApplied`]).
//!
//! # Which files are read
//!
//! - `.gitignore`, `.ignore`, `.git/info/exclude` and global git excludes are honoured, also
//!   outside a git repository ([`crate::ignore_files`]: the walker crate's own loader, which
//!   follows links and reads without a limit, is off).
//! - Ignore files and `threatspec.yaml` are read by [`crate::read`]'s rule for configuration:
//!   regular files only, never through a symbolic link, at most
//!   [`crate::limits::MAX_CONFIG_FILE_SIZE`]. One that is refused comes back in
//!   [`Scan::not_applied`] and the walk goes on without it (without its `threatspec.yaml`, a
//!   directory is walked whole: a refusal reads more, never less).
//! - Hidden files and directories (names starting with `.`) are skipped, except `.guardlink/`,
//!   where GuardLink keeps its definitions and `.gal` sidecar files.
//! - Symbolic links are never followed (so link loops cannot hang the walk); each one is
//!   reported as skipped, as is each hidden file or directory.
//! - A file is skipped, with a reason, when its language is unknown, it is larger than the size
//!   limit, it looks binary (a NUL byte in its first 8 KiB), it cannot be read, it is not a
//!   regular file (a named pipe, socket or device: opening one could block forever or never
//!   end), or it holds an annotation literal but is not valid UTF-8 (it is never converted
//!   lossily). Files are opened without blocking and read up to the size limit only, so a
//!   file replaced while the walk runs cannot make it hang or read without end.
//! - A PATH argument or a `threatspec.yaml` `paths:` entry that is neither a directory nor a
//!   regular file is an error.
//! - A file named directly on the command line is read even when an ignore rule matches it.
//! - `threatspec.yaml` at the top of a directory argument restricts that directory's walk to the
//!   config's `paths:` (each with optional `ignore:` globs, gitignore syntax, relative to the
//!   entry's path). A config that does not parse (or holds YAML aliases, which could expand to
//!   gigabytes) is an error, and so is a `paths:` entry outside
//!   the directory, lexically (`../x`, `/etc`) or through a symbolic link: a repository's
//!   configuration may only make the tool read the repository.
//!
//! # Reported paths
//!
//! Every file gets a path relative to one *base directory*, `/`-separated: the current
//! directory when every PATH lies inside it (the usual `check .` or `check src tests`, run from
//! the repository root, which is what SARIF consumers expect); otherwise the deepest directory
//! that contains every PATH (for a single directory argument, that directory itself). The base
//! is [`Scan::root`]. Paths are compared lexically (`..` is resolved, symlinks are not).
//!
//! # Project limits
//!
//! Files are read in path order, a chunk at a time, and the walk stops before the file that
//! takes the project past [`ProjectLimits`] (500,000 annotations, 256 MiB of annotated text:
//! [`crate::limits`]): the rest are skipped with [`SkipReason::ProjectLimit`], the same files
//! on every run. Files that past runs cached still go through the same count.
//! Callers decide what that means (`check` fails with status 2).
//!
//! Pipeline per file: metadata (size) -> read -> binary check -> literal prefilter -> UTF-8
//! validation -> BOM strip -> parse. Files that pass the prefilter but hold neither annotations
//! nor syntax errors are counted as scanned and left out of the index.
//!
//! # The index cache
//!
//! With [`WalkOptions::cache_dir`] set, the per-file outcome of the last scan (see
//! [`crate::cache`] for the format and when an entry is trusted) stands in for the pipeline:
//! a file known to hold no annotation (or to be binary, or not UTF-8) is not read at all while
//! its size and mtime vouch for it; an annotated file is read, and when its content hash
//! matches, its stored parse result is used instead of parsing. The cache file is loaded while
//! the walk runs, and written (only when something changed) on a thread of its own while the
//! caller analyses: [`Scan::finish_cache`] waits for it.

use crate::cache::{self, CacheError, Stat};
use crate::diagnostic::FilePath;
use crate::ignore_files::IgnoreRules;
use crate::model::{FileFacts, ProjectIndex};
use crate::read::{Links, Refusal, read_bounded};
use crate::syntax::Language;
use crate::syntax::prefilter::may_contain_annotation;
use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkState};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Default `--max-file-size`: 2 MiB ([`crate::limits::MAX_FILE_SIZE`]).
pub const DEFAULT_MAX_FILE_SIZE: u64 = crate::limits::MAX_FILE_SIZE;

/// How many leading bytes are searched for a NUL byte to call a file binary.
const BINARY_SNIFF_LEN: usize = 8 * 1024;

/// The project configuration file of ThreatSpec, read at the top of each directory argument.
pub const THREATSPEC_CONFIG: &str = "threatspec.yaml";

#[derive(Clone, Debug)]
pub struct WalkOptions {
    /// Files larger than this many bytes are skipped.
    pub max_file_size: u64,
    /// Key files by their absolute path instead of the path relative to [`Scan::root`] (the
    /// language server's choice: it converts keys to `file:` URIs).
    pub absolute_paths: bool,
    /// Called after each candidate file is read, with (files done, files to read).
    pub progress: Option<Progress>,
    /// Only files matching one of these globs are read (gitignore syntax, relative to each
    /// walked directory); empty = every file.
    pub include: Vec<String>,
    /// Files and directories matching these globs are skipped (gitignore syntax).
    pub exclude: Vec<String>,
    /// How much the project may hold.
    pub limits: ProjectLimits,
    /// Where the index cache lives ([`crate::cache::default_dir`]); `None` = no cache.
    pub cache_dir: Option<PathBuf>,
}

impl Default for WalkOptions {
    fn default() -> Self {
        Self {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            absolute_paths: false,
            progress: None,
            include: Vec::new(),
            exclude: Vec::new(),
            limits: ProjectLimits::default(),
            cache_dir: None,
        }
    }
}

/// A progress callback for [`WalkOptions::progress`].
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(usize, usize) + Send + Sync>);

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Progress(..)")
    }
}

/// Why a file was not scanned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// No language is known for the file's name.
    UnknownLanguage,
    /// Larger than the size limit.
    TooLarge { size: u64, limit: u64 },
    /// A NUL byte in the first 8 KiB.
    Binary,
    /// Not valid UTF-8; `offset` is the first invalid byte.
    InvalidUtf8 { offset: usize },
    /// A symbolic link (links are never followed).
    Symlink,
    /// A hidden file or directory (name starting with `.`, other than `.guardlink`).
    Hidden,
    /// Reading failed (permissions, a walk error, ...).
    Unreadable(String),
    /// A named pipe, socket or device: opening one could block or never end.
    NotRegular,
    /// Not read: the project reached its limits ([`ProjectLimits`]) before this file.
    ProjectLimit,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::UnknownLanguage => f.write_str("unknown language"),
            SkipReason::TooLarge { size, limit } => {
                write!(f, "too large ({size} bytes, limit {limit})")
            }
            SkipReason::Binary => f.write_str("binary file (NUL byte in the first 8 KiB)"),
            SkipReason::InvalidUtf8 { offset } => {
                write!(f, "not valid UTF-8 (first invalid byte at offset {offset})")
            }
            SkipReason::Symlink => f.write_str("symbolic link (links are not followed)"),
            SkipReason::Hidden => f.write_str("hidden (name starts with a dot)"),
            SkipReason::Unreadable(err) => write!(f, "unreadable: {err}"),
            SkipReason::NotRegular => f.write_str("not a regular file"),
            SkipReason::ProjectLimit => f.write_str("not read: the project reached its size limit"),
        }
    }
}

/// The result of a walk: the index of annotated files and what was left out.
#[derive(Debug)]
pub struct Scan {
    /// Facts of every file that holds annotations or syntax errors.
    pub index: ProjectIndex,
    /// Files read and prefiltered/parsed (annotated or not); skipped files are not counted.
    pub files_scanned: usize,
    /// Skipped files and directories, by path relative to [`Scan::root`] (like reported
    /// paths), sorted. Files excluded by ignore rules are not listed: the walker never sees
    /// them.
    pub skipped: Vec<(PathBuf, SkipReason)>,
    /// Configuration and ignore files that were refused (a link, not a regular file, over
    /// [`crate::limits::MAX_CONFIG_FILE_SIZE`], unreadable), sorted by path: the walk went on
    /// without them, and callers say so.
    pub not_applied: Vec<NotApplied>,
    /// The absolute base directory every [`FilePath`] is relative to.
    pub root: PathBuf,
    /// What the index cache did, when one was used.
    pub cache: Option<CacheUse>,
}

impl Scan {
    /// Waits until the updated cache is written; `None` when there was nothing to write (or no
    /// cache), else whether writing worked. A process that exits without waiting may leave the
    /// old cache in place (never a broken one).
    pub fn finish_cache(&mut self) -> Option<Result<(), CacheError>> {
        self.take_cache_save().map(CacheSave::wait)
    }

    /// The cache write still running, to wait for elsewhere.
    pub fn take_cache_save(&mut self) -> Option<CacheSave> {
        self.cache.as_mut()?.save.take().map(CacheSave)
    }
}

/// A cache write running on its own thread.
#[derive(Debug)]
pub struct CacheSave(std::thread::JoinHandle<Result<(), CacheError>>);

impl CacheSave {
    pub fn wait(self) -> Result<(), CacheError> {
        self.0.join().unwrap_or(Err(CacheError::Invalid("the writer panicked")))
    }
}

/// How a scan used the index cache.
#[derive(Debug)]
pub struct CacheUse {
    /// The cache file of this scan's root.
    pub file: PathBuf,
    /// Why the existing cache file was not used; `None` when it was.
    pub load_error: Option<CacheError>,
    /// Files the scan considered (found, of a known language).
    pub files: usize,
    /// Files whose stored outcome was used instead of reading (or parsing) them.
    pub reused: usize,
    /// Of those, files that were not even read.
    pub not_read: usize,
    save: Option<std::thread::JoinHandle<Result<(), CacheError>>>,
}

/// A configuration or ignore file the walk did not use (or, for an ignore file with lines that
/// are not globs, used without those lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotApplied {
    /// Relative to [`Scan::root`] like [`Scan::skipped`] (absolute outside it).
    pub path: PathBuf,
    pub why: Refusal,
    pub kind: ConfigKind,
}

/// Which kind of file a [`NotApplied`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigKind {
    /// `threatspec.yaml`: its directory was walked whole.
    Threatspec,
    /// `.gitignore`, `.ignore`, `.git/info/exclude` (or the `.git` naming it).
    Ignore,
}

impl fmt::Display for NotApplied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let consequence = match self.kind {
            ConfigKind::Threatspec => "the whole directory is read instead of its `paths:`",
            ConfigKind::Ignore => "its rules are not applied",
        };
        write!(f, "{}: not read: {} ({consequence})", self.path.display(), self.why)
    }
}

/// A walk that cannot start or cannot be trusted: `check` exits with status 2.
#[derive(Debug)]
pub enum WalkError {
    /// A PATH argument (or a `paths:` entry of a config) does not exist or cannot be read.
    Path { path: PathBuf, error: io::Error },
    /// A `threatspec.yaml` that does not parse or has the wrong shape.
    Config { path: PathBuf, message: String },
    /// The current directory cannot be determined.
    CurrentDir(io::Error),
    /// An `--include`/`--exclude` glob (or the server's setting) does not parse.
    Glob { message: String },
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalkError::Path { path, error } => write!(f, "{}: {error}", path.display()),
            WalkError::Config { path, message } => {
                write!(f, "{}: invalid configuration: {message}", path.display())
            }
            WalkError::CurrentDir(error) => {
                write!(f, "cannot determine the current directory: {error}")
            }
            WalkError::Glob { message } => write!(f, "invalid glob: {message}"),
        }
    }
}

impl std::error::Error for WalkError {}

/// Walks `paths` (directories or files) and parses every candidate file.
pub fn scan(paths: &[PathBuf], options: &WalkOptions) -> Result<Scan, WalkError> {
    let cwd = std::env::current_dir().map_err(WalkError::CurrentDir)?;
    scan_from(&cwd, paths, options)
}

/// [`scan`] with an explicit current directory (relative PATHs are resolved against it).
pub fn scan_from(cwd: &Path, paths: &[PathBuf], options: &WalkOptions) -> Result<Scan, WalkError> {
    let cwd = normalize(cwd);
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() { &default[..] } else { paths };

    // Resolve and check every root before walking anything.
    let mut roots = Vec::new();
    for given in paths {
        let abs = normalize(&cwd.join(given));
        let meta = std::fs::metadata(&abs).map_err(|error| WalkError::Path { path: given.clone(), error })?;
        if !meta.is_dir() && !meta.is_file() {
            return Err(WalkError::Path { path: given.clone(), error: not_regular() });
        }
        if meta.is_dir() {
            // An unreadable directory is an error too, not an empty project.
            std::fs::read_dir(&abs).map_err(|error| WalkError::Path { path: given.clone(), error })?;
        }
        roots.push((abs, meta.is_dir()));
    }
    let base = base_dir(&cwd, &roots);

    // Load the cache while the walk runs; content verified from now on counts as verified at
    // this moment (taken before any file is read).
    let scan_started_ns = cache::system_time_ns(std::time::SystemTime::now()).unwrap_or(0);
    let cache_loader = options.cache_dir.clone().map(|dir| {
        let root = base.clone();
        std::thread::spawn(move || {
            let loaded = cache::load(&dir, &root);
            (dir, loaded)
        })
    });

    let found = Found::default();
    let mut not_applied = Vec::new();
    for (root, is_dir) in &roots {
        if !is_dir {
            found.add_direct_file(root);
            continue;
        }
        let config = root.join(THREATSPEC_CONFIG);
        let entries = match read_bounded(&config, crate::limits::MAX_CONFIG_FILE_SIZE, Links::Refuse) {
            Ok(bytes) => Some(threatspec_config_from_bytes(&config, bytes)?),
            Err(why) if why.is_missing() => None,
            // Refused: the whole directory is walked, which reads more, never less.
            Err(why) => {
                not_applied.push(NotApplied { path: config.clone(), why, kind: ConfigKind::Threatspec });
                None
            }
        };
        if let Some(entries) = entries {
            for entry in entries {
                let target = normalize(&root.join(&entry.path));
                confine_to_project(root, &target).map_err(|why| WalkError::Config {
                    path: config.clone(),
                    message: format!("paths entry {:?} {why}", entry.path),
                })?;
                let meta = std::fs::metadata(&target).map_err(|error| WalkError::Config {
                    path: config.clone(),
                    message: format!("paths entry {:?}: {}: {error}", entry.path, target.display()),
                })?;
                if !meta.is_dir() && !meta.is_file() {
                    return Err(WalkError::Config {
                        path: config.clone(),
                        message: format!(
                            "paths entry {:?}: {}: {}",
                            entry.path,
                            target.display(),
                            not_regular()
                        ),
                    });
                }
                if meta.is_dir() {
                    let mut ignore = entry.ignore.clone();
                    ignore.extend(options.exclude.iter().cloned());
                    let overrides = file_filter(&target, &options.include, &ignore)
                        .map_err(|message| WalkError::Config { path: config.clone(), message })?;
                    found.walk_dir(&target, overrides);
                } else {
                    found.add_direct_file(&target);
                }
            }
        } else {
            let overrides = file_filter(root, &options.include, &options.exclude)
                .map_err(|message| WalkError::Glob { message })?;
            found.walk_dir(root, overrides);
        }
    }

    let Found { files, skipped, ignore_rules } = found;
    not_applied.extend(ignore_rules.take_refused().into_iter().map(|(path, why)| NotApplied {
        path,
        why,
        kind: ConfigKind::Ignore,
    }));
    for note in &mut not_applied {
        note.path = PathBuf::from(relative_path(&base, &note.path));
    }
    not_applied.sort_by(|a, b| a.path.cmp(&b.path));
    let mut skipped = skipped.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut files = files.into_inner().unwrap_or_else(|e| e.into_inner());
    // Deduplicate (overlapping PATH arguments) and order by reported path.
    let mut by_path: BTreeMap<String, FoundFile> = BTreeMap::new();
    for file in files.drain(..) {
        let rel = relative_path(&base, &file.path);
        by_path.entry(rel).or_insert(file);
    }

    let (cache_file, old_cache, load_error) = match cache_loader.map(|h| h.join()) {
        None => (None, None, None),
        Some(Ok((dir, Ok(loaded)))) => (Some(dir), Some(Arc::new(loaded)), None),
        Some(Ok((dir, Err(e)))) => (Some(dir), None, Some(e)),
        Some(Err(_)) => (None, None, None),
    };
    let cache_on = cache_file.is_some();
    let context = LoadContext { options, cache: old_cache.as_deref(), cache_on, now_ns: scan_started_ns };

    let total = by_path.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let load_one = |(rel, file): (String, FoundFile)| {
        let key = if options.absolute_paths { file.path.to_string_lossy().into_owned() } else { rel };
        let loaded = load(&file, Arc::from(key), &context);
        if let Some(Progress(report)) = &options.progress {
            report(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1, total);
        }
        (file.path, loaded)
    };

    // Files are read in parallel, a chunk at a time in path order, and merged in that order
    // until the project limits are reached: the files after that are skipped, the same ones
    // on every run, and no more than one chunk is ever held beyond the limits.
    // @mitigates ThreatAnalyzer.Walk against #resource-exhaustion using #resource-limits
    let mut index = ProjectIndex::new();
    let mut files_scanned = 0;
    let mut entries = Vec::new();
    let (mut reused, mut not_read, mut changed) = (0, 0, false);
    let (mut annotations, mut text) = (0usize, 0u64);
    let mut limit_reached = false;
    let mut pending = by_path.into_iter().peekable();
    while pending.peek().is_some() {
        let mut chunk = Vec::new();
        let mut chunk_bytes = 0;
        while let Some(entry) = pending.next_if(|_| chunk.len() < CHUNK_FILES && chunk_bytes < CHUNK_BYTES) {
            chunk_bytes += entry.1.size;
            chunk.push(entry);
        }
        if limit_reached {
            skipped.extend(chunk.into_iter().map(|(_, file)| (file.path, SkipReason::ProjectLimit)));
            continue;
        }
        let loaded: Vec<(PathBuf, FileLoad)> = chunk.into_par_iter().map(load_one).collect();
        for (abs, FileLoad { outcome, entry, from_cache }) in loaded {
            match from_cache {
                FromCache::No => changed |= entry.is_some(),
                FromCache::Verified => reused += 1,
                FromCache::Refreshed => {
                    reused += 1;
                    changed = true;
                }
                FromCache::Trusted => {
                    reused += 1;
                    not_read += 1;
                }
            }
            // A file past the limits keeps its entry: what it holds did not change.
            entries.extend(entry);
            match outcome {
                _ if limit_reached => skipped.push((abs, SkipReason::ProjectLimit)),
                Outcome::Skipped(reason) => skipped.push((abs, reason)),
                Outcome::Scanned(facts) => {
                    if let Some(facts) = facts {
                        annotations += facts.annotations().len();
                        text += facts.text.len() as u64;
                        if annotations > options.limits.annotations || text > options.limits.text {
                            limit_reached = true;
                            skipped.push((abs, SkipReason::ProjectLimit));
                            continue;
                        }
                        index.set_file(Arc::new(facts));
                    }
                    files_scanned += 1;
                }
            }
        }
    }
    let mut skipped: Vec<(PathBuf, SkipReason)> = skipped
        .into_iter()
        .map(|(abs, reason)| (PathBuf::from(relative_path(&base, &abs)), reason))
        .collect();
    skipped.sort_by(|a, b| a.0.cmp(&b.0));
    skipped.dedup_by(|a, b| a.0 == b.0);

    let cache = cache_file.map(|dir| {
        let file = cache::file_for(&dir, &base);
        let save = save_cache(dir, &base, &roots, entries, old_cache, changed || load_error.is_some());
        CacheUse { file, load_error, files: total, reused, not_read, save }
    });
    Ok(Scan { index, files_scanned, skipped, not_applied, root: base, cache })
}

/// Most files read in parallel between two checks of the project limits.
const CHUNK_FILES: usize = 1024;
/// Most bytes (by the files' sizes) read in parallel between two checks of the project limits.
const CHUNK_BYTES: u64 = 64 << 20;

/// How much one project may hold ([`crate::limits`]): the walk stops before the file that
/// would take it past either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectLimits {
    /// Annotations in all files.
    pub annotations: usize,
    /// Bytes of the text of annotated files (the index keeps their text).
    pub text: u64,
}

impl fmt::Display for ProjectLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} annotations, {} MiB of annotated files", self.annotations, self.text >> 20)
    }
}

impl Default for ProjectLimits {
    fn default() -> Self {
        ProjectLimits {
            annotations: crate::limits::MAX_PROJECT_ANNOTATIONS,
            text: crate::limits::MAX_PROJECT_TEXT,
        }
    }
}

/// Starts writing the cache when it changed: this scan's entries, plus the old cache's entries
/// for files outside this scan's roots (another `check` of a sibling directory with the same
/// base keeps its entries). Entries of files under the roots that the scan did not see (deleted,
/// now ignored) are dropped.
fn save_cache(
    dir: PathBuf,
    base: &Path,
    roots: &[(PathBuf, bool)],
    mut entries: Vec<cache::Entry>,
    old: Option<Arc<cache::Loaded>>,
    mut changed: bool,
) -> Option<std::thread::JoinHandle<Result<(), CacheError>>> {
    if let Some(old) = &old {
        let seen: rustc_hash::FxHashSet<&str> = entries.iter().map(|e| e.record.path.as_str()).collect();
        let covered = |path: &str| {
            let path = Path::new(path);
            roots.iter().any(|(root, is_dir)| if *is_dir { path.starts_with(root) } else { path == root })
        };
        let mut kept = Vec::new();
        for record in old.records() {
            if seen.contains(record.path.as_str()) {
                continue;
            }
            if covered(&record.path) {
                changed = true;
                continue;
            }
            let parsed = matches!(record.outcome, cache::Outcome::Parsed { .. }).then_some(cache::Blob::Old);
            kept.push(cache::Entry { record: record.clone(), parsed });
        }
        entries.extend(kept);
    } else {
        changed |= !entries.is_empty();
    }
    if !changed {
        return None;
    }
    let base = base.to_path_buf();
    Some(std::thread::spawn(move || cache::save(&dir, &base, &entries, old.as_deref())))
}

/// A file found by the walkers.
struct FoundFile {
    path: PathBuf,
    language: Language,
    /// From the walk's metadata (0 when it could not be read).
    size: u64,
    /// Size and mtime, when the metadata had them (needed to use the cache).
    stat: Option<Stat>,
}

/// Files found by the walkers and the skipped.
#[derive(Default)]
struct Found {
    files: Mutex<Vec<FoundFile>>,
    skipped: Mutex<Vec<(PathBuf, SkipReason)>>,
    ignore_rules: Arc<IgnoreRules>,
}

impl Found {
    fn skip(&self, path: PathBuf, reason: SkipReason) {
        lock(&self.skipped).push((path, reason));
    }

    fn consider(&self, path: &Path, meta: Option<std::fs::Metadata>) {
        match Language::from_path(path) {
            None => self.skip(path.to_path_buf(), SkipReason::UnknownLanguage),
            Some(language) => lock(&self.files).push(FoundFile {
                path: path.to_path_buf(),
                language,
                size: meta.as_ref().map_or(0, |m| m.len()),
                stat: meta.as_ref().and_then(Stat::from_metadata),
            }),
        }
    }

    /// A file named directly: read even if ignored.
    fn add_direct_file(&self, path: &Path) {
        self.consider(path, std::fs::metadata(path).ok());
    }

    fn walk_dir(&self, dir: &Path, overrides: Option<ignore::overrides::Override>) {
        let mut builder = WalkBuilder::new(dir);
        builder.hidden(false).require_git(false).follow_links(false);
        // The crate's own ignore-file loading reads through links and without a limit: ours
        // reads by the bounded reader's rule and applies the same precedence.
        builder.parents(false).ignore(false).git_ignore(false).git_exclude(false).git_global(false);
        let rules = self.ignore_rules.clone();
        let decided_by_overrides = overrides.clone();
        builder.filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            // A path an `--include`/`--exclude` glob matches is decided by it (the crate gives
            // overrides precedence over every ignore file).
            decided_by_overrides.as_ref().is_some_and(|o| !o.matched(entry.path(), is_dir).is_none())
                || !rules.is_ignored(entry.path(), is_dir)
        });
        if let Some(overrides) = overrides {
            builder.overrides(overrides);
        }
        builder.build_parallel().run(|| {
            Box::new(|result| {
                match result {
                    Ok(entry) => {
                        let Some(file_type) = entry.file_type() else {
                            return WalkState::Continue;
                        };
                        if entry.depth() > 0 && is_hidden_name(entry.file_name().as_encoded_bytes()) {
                            self.skip(entry.path().to_path_buf(), SkipReason::Hidden);
                            return if file_type.is_dir() { WalkState::Skip } else { WalkState::Continue };
                        }
                        if file_type.is_symlink() {
                            self.skip(entry.path().to_path_buf(), SkipReason::Symlink);
                        } else if file_type.is_file() {
                            self.consider(entry.path(), entry.metadata().ok());
                        } else if !file_type.is_dir() {
                            self.skip(entry.path().to_path_buf(), SkipReason::NotRegular);
                        }
                    }
                    Err(err) => {
                        let path = error_path(&err).unwrap_or_else(|| dir.to_path_buf());
                        self.skip(path, SkipReason::Unreadable(err.to_string()));
                    }
                }
                WalkState::Continue
            })
        });
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

/// Names starting with `.` are hidden, except `.guardlink`.
fn is_hidden_name(name: &[u8]) -> bool {
    name.first() == Some(&b'.') && name != b".guardlink"
}

enum Outcome {
    Skipped(SkipReason),
    /// Scanned; `Some` when the file holds annotations or syntax errors.
    Scanned(Option<FileFacts>),
}

/// One file's outcome and its entry for the next cache.
struct FileLoad {
    outcome: Outcome,
    /// `None` when the file cannot be cached (no cache, too large, unreadable, no mtime, a
    /// path that is not UTF-8).
    entry: Option<cache::Entry>,
    from_cache: FromCache,
}

/// Whether the cached outcome was used.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FromCache {
    No,
    /// After reading the file and matching its hash; the entry is unchanged.
    Verified,
    /// After reading the file and matching its hash; the entry changed (a new mtime, or newly
    /// verified outside the racy window).
    Refreshed,
    /// On size and mtime alone, without reading the file.
    Trusted,
}

/// What every file's load shares.
struct LoadContext<'a> {
    options: &'a WalkOptions,
    /// The loaded cache, if there is one.
    cache: Option<&'a cache::Loaded>,
    /// Whether to build entries for the next cache.
    cache_on: bool,
    /// When this scan started (ns since the epoch): the verification time of what it reads.
    now_ns: i64,
}

fn load(file: &FoundFile, rel: FilePath, context: &LoadContext<'_>) -> FileLoad {
    let options = context.options;
    let uncached = |outcome| FileLoad { outcome, entry: None, from_cache: FromCache::No };
    if file.size > options.max_file_size {
        return uncached(Outcome::Skipped(SkipReason::TooLarge {
            size: file.size,
            limit: options.max_file_size,
        }));
    }
    let key = file.path.to_str().filter(|_| context.cache_on).zip(file.stat);
    let old = key.and_then(|(path, _)| context.cache?.get(path));
    if let (Some(old), Some((_, stat))) = (old, key)
        && old.trusted_by_stat(stat)
        && let Some(outcome) = outcome_without_text(&old.outcome)
    {
        let entry = cache::Entry { record: old.clone(), parsed: None };
        return FileLoad { outcome, entry: Some(entry), from_cache: FromCache::Trusted };
    }
    let bytes = match read_source(&file.path, options.max_file_size) {
        Ok(bytes) => bytes,
        Err(reason) => return uncached(Outcome::Skipped(reason)),
    };
    let Some((path, stat)) = key else {
        return uncached(parse(bytes, rel, file.language, false).0);
    };
    let record = |hash, outcome| cache::Record {
        path: path.to_string(),
        size: stat.size,
        mtime_ns: stat.mtime_ns,
        verified_ns: context.now_ns,
        hash,
        outcome,
    };
    let hash = cache::content_hash(&bytes);
    let reused = match old.filter(|old| old.hash == hash && old.size == stat.size) {
        Some(old) => reuse(old, bytes, &rel, file.language, context).map(|r| (old, r)),
        None => Err(bytes),
    };
    let bytes = match reused {
        Err(bytes) => bytes,
        Ok((old, (outcome, parsed))) => {
            let mut verified = record(hash, old.outcome.clone());
            if parsed.is_some() {
                // Parsed files are verified on every read; keeping the old time keeps the entry
                // unchanged, so an unchanged tree rewrites nothing.
                verified.verified_ns = old.verified_ns;
            }
            let from_cache = if verified == *old { FromCache::Verified } else { FromCache::Refreshed };
            let entry = cache::Entry { record: verified, parsed };
            return FileLoad { outcome, entry: Some(entry), from_cache };
        }
    };
    let (outcome, parsed) = parse(bytes, rel, file.language, true);
    let stored = match (&outcome, parsed) {
        (_, Some(blob)) => Some((cache::Outcome::Parsed { start: 0, len: 0 }, Some(cache::Blob::New(blob)))),
        (Outcome::Scanned(None), None) => Some((cache::Outcome::NoAnnotations, None)),
        (Outcome::Skipped(SkipReason::Binary), None) => Some((cache::Outcome::Binary, None)),
        (Outcome::Skipped(SkipReason::InvalidUtf8 { offset }), None) => {
            Some((cache::Outcome::InvalidUtf8 { offset: *offset as u64 }, None))
        }
        _ => None,
    };
    let entry = stored.map(|(stored, parsed)| cache::Entry { record: record(hash, stored), parsed });
    FileLoad { outcome, entry, from_cache: FromCache::No }
}

/// The outcome a stored entry gives without the file's text; `None` when the text is needed.
fn outcome_without_text(stored: &cache::Outcome) -> Option<Outcome> {
    Some(match stored {
        cache::Outcome::NoAnnotations => Outcome::Scanned(None),
        cache::Outcome::Binary => Outcome::Skipped(SkipReason::Binary),
        cache::Outcome::InvalidUtf8 { offset } => {
            Outcome::Skipped(SkipReason::InvalidUtf8 { offset: *offset as usize })
        }
        cache::Outcome::Parsed { .. } => return None,
    })
}

/// The stored outcome of a file whose bytes hash as recorded; the bytes back when it cannot
/// be used (then the file is parsed as if there were no entry).
fn reuse(
    old: &cache::Record,
    bytes: Vec<u8>,
    rel: &FilePath,
    language: Language,
    context: &LoadContext<'_>,
) -> Result<(Outcome, Option<cache::Blob>), Vec<u8>> {
    if let Some(outcome) = outcome_without_text(&old.outcome) {
        return Ok((outcome, None));
    }
    let Some(parsed) = context.cache.and_then(|c| c.blob(old)).and_then(cache::decode_parsed) else {
        return Err(bytes);
    };
    // Bytes that hash as when they parsed are valid UTF-8; if not, the file is skipped as
    // usual, and the entry (parsed, without a result) is not stored again.
    Ok(match into_text(bytes) {
        Ok(text) => {
            let facts = FileFacts::from_parsed(rel.clone(), language, text, parsed);
            (Outcome::Scanned(Some(facts)), Some(cache::Blob::Old))
        }
        Err(reason) => (Outcome::Skipped(reason), None),
    })
}

/// Parses a file's bytes; for an annotated file also its encoded parse result for the cache.
fn parse(bytes: Vec<u8>, rel: FilePath, language: Language, encode: bool) -> (Outcome, Option<Vec<u8>>) {
    let text = match decode(bytes) {
        Err(reason) => return (Outcome::Skipped(reason), None),
        Ok(None) => return (Outcome::Scanned(None), None),
        Ok(Some(text)) => text,
    };
    let facts = FileFacts::new(rel, language, text);
    if facts.is_empty() {
        (Outcome::Scanned(None), None)
    } else {
        let blob = encode.then(|| cache::encode_parsed(&facts.parsed));
        (Outcome::Scanned(Some(facts)), blob)
    }
}

/// Reads and parses one file by the walk's rules (size limit, regular files only, binary and
/// UTF-8 checks, prefilter, BOM): `Ok(None)` when it holds neither annotations nor syntax
/// errors. The language server reads single files with it too, so both apply one rule.
pub fn read_file_facts(
    abs: &Path,
    key: FilePath,
    language: Language,
    max_file_size: u64,
) -> Result<Option<FileFacts>, SkipReason> {
    let bytes = read_source(abs, max_file_size)?;
    let Some(text) = decode(bytes)? else { return Ok(None) };
    let facts = FileFacts::new(key, language, text);
    Ok((!facts.parsed.annotations.is_empty() || !facts.parsed.errors.is_empty()).then_some(facts))
}

/// Checks that a path a project's configuration names lies inside the project `root`, also
/// once symbolic links are resolved: a repository's configuration may only make the tool read
/// the repository (a `paths: [/home/me/.aws]` would otherwise be walked and parsed).
// @exposes ThreatAnalyzer.Walk to #path-traversal -- "threatspec.yaml names the paths to read"
// @mitigates ThreatAnalyzer.Walk against #path-traversal using #confined-config
fn confine_to_project(root: &Path, target: &Path) -> Result<(), String> {
    if !target.starts_with(root) {
        return Err(format!("is outside the project ({})", root.display()));
    }
    match (std::fs::canonicalize(root), std::fs::canonicalize(target)) {
        (Ok(root), Ok(real)) if !real.starts_with(&root) => {
            Err(format!("leads out of the project through a symbolic link (to {})", real.display()))
        }
        // A missing target is reported where it is read.
        _ => Ok(()),
    }
}

fn not_regular() -> io::Error {
    io::Error::other("not a regular file")
}

/// Reads a source file of at most `limit` bytes, whatever happened to it since the walk saw
/// it: a file replaced by a named pipe is opened without blocking and refused, a file that
/// grew is read only up to the limit (and refused), a file that vanished is unreadable. The
/// rule is [`crate::read`]'s; a source file may be a link only when named directly.
pub fn read_source(path: &Path, limit: u64) -> Result<Vec<u8>, SkipReason> {
    read_bounded(path, limit, Links::Follow).map_err(SkipReason::from)
}

impl From<Refusal> for SkipReason {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Symlink => SkipReason::Symlink,
            Refusal::NotRegular => SkipReason::NotRegular,
            Refusal::TooLarge { size, limit } => SkipReason::TooLarge { size, limit },
            Refusal::Unreadable { message, .. } => SkipReason::Unreadable(message),
        }
    }
}

/// A file's bytes to parseable text: `Ok(None)` when the prefilter finds no annotation literal
/// (nothing to parse, not an error), an error reason for files that must be skipped. A UTF-8
/// byte order mark is removed.
fn decode(bytes: Vec<u8>) -> Result<Option<Arc<str>>, SkipReason> {
    if memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF_LEN)]).is_some() {
        return Err(SkipReason::Binary);
    }
    if !may_contain_annotation(&bytes) {
        return Ok(None);
    }
    into_text(bytes).map(Some)
}

/// Validated UTF-8 without a byte order mark.
fn into_text(bytes: Vec<u8>) -> Result<Arc<str>, SkipReason> {
    let text = String::from_utf8(bytes)
        .map_err(|err| SkipReason::InvalidUtf8 { offset: err.utf8_error().valid_up_to() })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => Arc::from(rest),
        None => Arc::from(text),
    })
}

/// Lexically normalised absolute path: `.` dropped, `..` pops a component (never past the root).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(component);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The directory reported paths are relative to (see the module docs).
fn base_dir(cwd: &Path, roots: &[(PathBuf, bool)]) -> PathBuf {
    if roots.iter().all(|(root, _)| root.starts_with(cwd)) {
        return cwd.to_path_buf();
    }
    let dir_of = |(root, is_dir): &(PathBuf, bool)| -> PathBuf {
        if *is_dir { root.clone() } else { root.parent().map_or_else(|| root.clone(), Path::to_path_buf) }
    };
    let mut base = dir_of(&roots[0]);
    for root in &roots[1..] {
        let dir = dir_of(root);
        while !dir.starts_with(&base) {
            if !base.pop() {
                break;
            }
        }
    }
    base
}

/// `abs` relative to `base`, `/`-separated; falls back to the whole path outside `base`.
fn relative_path(base: &Path, abs: &Path) -> String {
    let rel = abs.strip_prefix(base).unwrap_or(abs);
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::RootDir | Component::Prefix(_) => None,
            Component::CurDir => None,
            Component::ParentDir => Some("..".to_string()),
        })
        .collect();
    if parts.is_empty() {
        // A file given directly as the base itself cannot happen (base is a directory), but
        // never return an empty path.
        return abs
            .file_name()
            .map_or_else(|| abs.to_string_lossy().into_owned(), |n| n.to_string_lossy().into_owned());
    }
    parts.join("/")
}

/// One `paths:` entry of `threatspec.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigPath {
    pub path: String,
    pub ignore: Vec<String>,
}

/// Reads the `paths:` of a ThreatSpec 0.5 `threatspec.yaml` by the bounded reader's rule (a
/// link, a file that is not regular or one over [`crate::limits::MAX_CONFIG_FILE_SIZE`] is an
/// error here; the walk skips such a file with a note). A missing `paths:` key means the whole
/// directory (`[.]`).
pub fn read_threatspec_config(path: &Path) -> Result<Vec<ConfigPath>, WalkError> {
    match read_bounded(path, crate::limits::MAX_CONFIG_FILE_SIZE, Links::Refuse) {
        Ok(bytes) => threatspec_config_from_bytes(path, bytes),
        Err(why) => Err(WalkError::Config { path: path.to_path_buf(), message: format!("not read: {why}") }),
    }
}

fn threatspec_config_from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Vec<ConfigPath>, WalkError> {
    let config_err = |message: String| WalkError::Config { path: path.to_path_buf(), message };
    let text = String::from_utf8(bytes).map_err(|_| config_err("not valid UTF-8".into()))?;
    parse_threatspec_config(&text).map_err(config_err)
}

/// The `project: name:` of the `threatspec.yaml` in `dir`, when there is one that says (read
/// by the same rule as for the walk: never through a link).
pub fn threatspec_project_name(dir: &Path) -> Option<String> {
    use yaml_rust2::Yaml;
    let config = dir.join(THREATSPEC_CONFIG);
    let bytes = read_bounded(&config, crate::limits::MAX_CONFIG_FILE_SIZE, Links::Refuse).ok()?;
    let docs = load_yaml(std::str::from_utf8(&bytes).ok()?).ok()?;
    match &docs.first()?["project"]["name"] {
        Yaml::String(name) if !name.trim().is_empty() => Some(name.trim().to_string()),
        _ => None,
    }
}

/// Loads YAML, refusing aliases: a few hundred bytes of nested aliases expand to gigabytes
/// when loaded ("billion laughs"), and a `threatspec.yaml` needs none. The check reads the
/// event stream, in time and memory linear in the text.
fn load_yaml(text: &str) -> Result<Vec<yaml_rust2::Yaml>, String> {
    use yaml_rust2::parser::{Event, Parser};
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((Event::Alias(_), mark)) => {
                return Err(format!("line {}: aliases (`*name`) are not supported", mark.line()));
            }
            Ok(_) => {}
            Err(err) => return Err(err.to_string()),
        }
    }
    yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| e.to_string())
}

/// Parses the text of a `threatspec.yaml` (see [`read_threatspec_config`]).
pub fn parse_threatspec_config(text: &str) -> Result<Vec<ConfigPath>, String> {
    use yaml_rust2::Yaml;
    let docs = load_yaml(text)?;
    let doc = match docs.into_iter().next() {
        None | Some(Yaml::Null) => return Ok(vec![whole_dir()]),
        Some(doc) => doc,
    };
    let Yaml::Hash(map) = doc else {
        return Err("expected a mapping at the top level".into());
    };
    let paths = match map.get(&Yaml::String("paths".into())) {
        None | Some(Yaml::Null) => return Ok(vec![whole_dir()]),
        Some(Yaml::Array(items)) => items,
        Some(_) => return Err("`paths` must be a list".into()),
    };
    let mut out = Vec::new();
    for (i, item) in paths.iter().enumerate() {
        let entry = match item {
            Yaml::String(s) => ConfigPath { path: s.clone(), ignore: Vec::new() },
            Yaml::Hash(entry) => {
                let path = match entry.get(&Yaml::String("path".into())) {
                    Some(Yaml::String(s)) => s.clone(),
                    _ => return Err(format!("`paths[{i}]` needs a string `path`")),
                };
                let ignore = match entry.get(&Yaml::String("ignore".into())) {
                    None | Some(Yaml::Null) => Vec::new(),
                    Some(Yaml::String(s)) => vec![s.clone()],
                    Some(Yaml::Array(globs)) => globs
                        .iter()
                        .map(|g| match g {
                            Yaml::String(s) => Ok(s.clone()),
                            _ => Err(format!("`paths[{i}].ignore` must list strings")),
                        })
                        .collect::<Result<_, _>>()?,
                    Some(_) => {
                        return Err(format!("`paths[{i}].ignore` must be a string or a list of strings"));
                    }
                };
                ConfigPath { path, ignore }
            }
            _ => return Err(format!("`paths[{i}]` must be a string or a mapping")),
        };
        if entry.path.trim().is_empty() {
            return Err(format!("`paths[{i}]` is empty"));
        }
        out.push(entry);
    }
    Ok(out)
}

fn whole_dir() -> ConfigPath {
    ConfigPath { path: ".".into(), ignore: Vec::new() }
}

/// `ignore:` globs as walker overrides rooted at the entry's directory (gitignore syntax).
/// The include/exclude filter for files under `dir` (gitignore-syntax globs relative to it);
/// `None` when there is nothing to filter. Directories are still descended into.
pub fn file_filter(
    dir: &Path,
    include: &[String],
    exclude: &[String],
) -> Result<Option<ignore::overrides::Override>, String> {
    if include.is_empty() && exclude.is_empty() {
        return Ok(None);
    }
    let mut builder = OverrideBuilder::new(dir);
    for glob in include {
        let glob = glob.trim_start_matches("./");
        builder.add(glob).map_err(|e| format!("include glob {glob:?}: {e}"))?;
    }
    for glob in exclude {
        let glob = glob.trim_start_matches("./");
        builder.add(&format!("!{glob}")).map_err(|e| format!("ignore glob {glob:?}: {e}"))?;
    }
    builder.build().map(Some).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_strips_bom_and_rejects_binary_and_invalid() {
        let text = decode(b"\xef\xbb\xbf# @audit App\n".to_vec()).unwrap();
        assert_eq!(text.as_deref(), Some("# @audit App\n"));
        assert_eq!(decode(b"no annotation here \xff".to_vec()), Ok(None));
        assert_eq!(decode(b"# @audit \xffApp".to_vec()), Err(SkipReason::InvalidUtf8 { offset: 9 }));
        assert_eq!(decode(b"@audit\0".to_vec()), Err(SkipReason::Binary));
    }

    #[test]
    fn read_source_refuses_what_changed_under_it() {
        let dir = std::env::temp_dir().join(format!("ta-read-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.py");
        std::fs::write(&file, vec![b' '; 65]).unwrap();
        // Grown past the limit since the walk measured it.
        assert_eq!(read_source(&file, 64), Err(SkipReason::TooLarge { size: 65, limit: 64 }));
        assert_eq!(read_source(&file, 65).map(|b| b.len()), Ok(65));
        // Deleted, or replaced by a directory.
        std::fs::remove_file(&file).unwrap();
        assert!(matches!(read_source(&file, 64), Err(SkipReason::Unreadable(_))));
        std::fs::create_dir(&file).unwrap();
        assert!(matches!(read_source(&file, 64), Err(SkipReason::NotRegular | SkipReason::Unreadable(_))));
        std::fs::remove_dir(&file).unwrap();
        // Replaced by a named pipe with no writer: refused at once instead of blocking.
        #[cfg(unix)]
        if std::process::Command::new("mkfifo").arg(&file).status().is_ok_and(|s| s.success()) {
            assert_eq!(read_source(&file, 64), Err(SkipReason::NotRegular));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn base_dir_is_cwd_when_every_root_is_inside_it() {
        let cwd = Path::new("/repo");
        let roots = [(PathBuf::from("/repo/src"), true), (PathBuf::from("/repo/a.py"), false)];
        assert_eq!(base_dir(cwd, &roots), PathBuf::from("/repo"));
    }

    #[test]
    fn base_dir_is_common_ancestor_outside_cwd() {
        let cwd = Path::new("/home/me");
        let one = [(PathBuf::from("/srv/repo"), true)];
        assert_eq!(base_dir(cwd, &one), PathBuf::from("/srv/repo"));
        let file = [(PathBuf::from("/srv/repo/app.py"), false)];
        assert_eq!(base_dir(cwd, &file), PathBuf::from("/srv/repo"));
        let two = [(PathBuf::from("/srv/repo/a"), true), (PathBuf::from("/srv/repo/b/c"), true)];
        assert_eq!(base_dir(cwd, &two), PathBuf::from("/srv/repo"));
    }

    #[test]
    fn relative_paths_use_slashes_and_normalize() {
        assert_eq!(relative_path(Path::new("/r"), &normalize(Path::new("/r/./a/../b/c.py"))), "b/c.py");
    }

    #[test]
    fn hidden_names_except_guardlink() {
        assert!(is_hidden_name(b".git"));
        assert!(is_hidden_name(b".hidden.py"));
        assert!(!is_hidden_name(b".guardlink"));
        assert!(!is_hidden_name(b"src"));
    }

    #[test]
    fn threatspec_project_names() {
        let dir = std::env::temp_dir().join(format!("ta-project-name-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(threatspec_project_name(&dir), None);
        std::fs::write(dir.join(THREATSPEC_CONFIG), "project:\n  name: \" Shop \"\npaths: [src]\n").unwrap();
        assert_eq!(threatspec_project_name(&dir).as_deref(), Some("Shop"));
        std::fs::write(dir.join(THREATSPEC_CONFIG), "paths: [src]\n").unwrap();
        assert_eq!(threatspec_project_name(&dir), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn threatspec_config_forms() {
        let text = "project:\n  name: x\n  description: y\npaths:\n  - src\n  - path: lib\n    ignore: vendor\n  - path: app\n    ignore: ['*.min.js', tests]\n";
        let paths = parse_threatspec_config(text).unwrap();
        assert_eq!(
            paths,
            vec![
                ConfigPath { path: "src".into(), ignore: vec![] },
                ConfigPath { path: "lib".into(), ignore: vec!["vendor".into()] },
                ConfigPath { path: "app".into(), ignore: vec!["*.min.js".into(), "tests".into()] },
            ]
        );
        assert_eq!(parse_threatspec_config("").unwrap(), vec![whole_dir()]);
        assert!(parse_threatspec_config("paths: src").is_err());
        assert!(parse_threatspec_config("paths:\n  - [1, 2]").is_err());
        assert!(parse_threatspec_config("paths:\n  - path: 3").is_err());
        assert!(parse_threatspec_config("paths: [src\n").is_err());
        assert!(parse_threatspec_config("- a\n- b\n").is_err());
        // Aliases are refused before they are expanded (nine levels would be 10^9 strings).
        let mut laughs = vec!["a0: &a0 [x, x, x, x, x, x, x, x, x, x]".to_string()];
        laughs
            .extend((1..9).map(|i| format!("a{i}: &a{i} [{}]", vec![format!("*a{}", i - 1); 10].join(", "))));
        let refused = parse_threatspec_config(&(laughs.join("\n") + "\npaths: [.]\n"));
        assert_eq!(refused, Err("line 2: aliases (`*name`) are not supported".to_string()));
    }
}
