//! File-system walk: from the `check` command's PATH arguments to a [`ProjectIndex`].
//!
//! Owns: every byte `check` reads from disk (each file through [`crate::read`]). Finds files
//! with the `ignore` crate (the walker behind ripgrep), decides which to skip and why, reads
//! them, and parses the candidates in parallel into [`FileFacts`]. The same rules answer "would
//! the walk index this path?" for paths named one at a time ([`WalkRules`]: the language
//! server's file events and closed documents) and "may an edit go there?"
//! ([`crate::paths::within_folders`]). Must never: analyse (that is `analysis`'s job) or print (the CLI
//! decides what to show; every skipped file comes back with a [`SkipReason`], every refused
//! configuration or ignore file as a [`NotApplied`]).
//!
//! # Which files are read
//!
//! - `.gitignore`, `.ignore`, `.git/info/exclude` and global git excludes are honoured, also
//!   outside a git repository ([`crate::ignore_files`]: the walker crate's own loader, which
//!   follows links and reads without a limit, is off).
//! - Ignore files, `threatspec.yaml` and `.guardlink/config.json` are read by [`crate::read`]'s
//!   rule for configuration:
//!   regular files only, never through a symbolic link, at most
//!   [`crate::limits::MAX_CONFIG_FILE_SIZE`]. One that is refused comes back in
//!   [`Scan::not_applied`] and the walk goes on without it (without its `threatspec.yaml`, a
//!   directory is walked whole: a refusal reads more, never less).
//! - Threat library files (the `threat-analyzer: libraries:` list, the `threatmodel/*.json` of
//!   `threatspec.yaml` imports, [`LIBRARY_FILES`] by name) are read by the same rule and never
//!   outside the project; their entries become the index's project library
//!   ([`crate::model::library`]) and the files go into the index, so findings can point into
//!   them.
//! - Hidden files and directories (names starting with `.`) are skipped, except `.guardlink/`,
//!   where GuardLink keeps its definitions and `.gal` sidecar files, and the MCP client
//!   configurations a repository commits (`.mcp.json`, `.vscode/mcp.json`, `.cursor/mcp.json`,
//!   `.kiro/settings/mcp.json`, ...: [`crate::syntax::mcp`]; of a client's hidden directory only
//!   its configuration is read).
//! - Symbolic links are never followed (so link loops cannot hang the walk); each one is
//!   reported as skipped, as is each hidden file or directory.
//! - A file is skipped, with a reason, when its language is unknown, it is larger than the size
//!   limit, it looks binary (a NUL byte in its first 8 KiB), it cannot be read, it is not a
//!   regular file (a named pipe, socket or device: opening one could block forever or never
//!   end), or it holds an annotation literal but is not valid UTF-8 (it is never converted
//!   lossily). Files are opened without blocking and read up to the size limit only, so a
//!   file replaced while the walk runs cannot make it hang or read without end.
//! - Plain text (`.txt`) is read only when named: a PATH argument, a `threatspec.yaml` `paths:`
//!   entry, or an include glob ([`WalkOptions::include`]); met by the walk alone it is skipped
//!   with [`SkipReason::NotNamed`] and not counted in [`Scan::files_scanned`].
//! - A PATH argument that is neither a directory nor a regular file is an error.
//! - A file named directly on the command line is read even when an ignore rule matches it.
//! - After the walk, every file a `.gal` sidecar's `@source` names and the index does not hold
//!   is read for its text ([`read_anchor_text`], handed to
//!   [`ProjectIndex::set_anchor_text`]): inside the project only (links resolved), never
//!   through a link, a regular UTF-8 file within the size limit; a refusal is kept with its
//!   reason for the `stale-anchor` diagnostic.
//! - `threatspec.yaml` at the top of a directory argument restricts that directory's walk to the
//!   config's `paths:` (each with optional `ignore:` strings; globs as ThreatSpec 0.5 reads them,
//!   see [`crate::config`] and the README's *Configuration*); `.guardlink/config.json` there
//!   adds its `include`/`exclude` globs (when no `threatspec.yaml` decides) and its
//!   `definitions` file. Problems in either file never stop the walk: each becomes a
//!   diagnostic in that file, at its entry, carried by the index: an entry that
//!   does not exist or a glob that matches nothing is a `config-path-missing` warning and the
//!   rest is read; an entry outside the directory, lexically (`../x`, `/etc`) or through a
//!   symbolic link (a repository's configuration may only make the tool read the repository),
//!   or that is not a file or directory, is an `invalid-config` error and is not read; a file
//!   that does not parse (or holds YAML aliases, which could expand to gigabytes) is an
//!   `invalid-config` error at the parser's position and the directory is read as if the file
//!   did not exist.
//!
//! # Reported paths
//!
//! Every file gets a path relative to one *base directory*, `/`-separated: the current
//! directory when every PATH lies inside it (the usual `check .` or `check src tests`, run from
//! the repository root, which is what SARIF consumers expect); otherwise the deepest directory
//! that contains every PATH (for a single directory argument, that directory itself). The base
//! is [`Scan::root`]. Paths are compared lexically (`..` is resolved, symlinks are not; see
//! [`crate::paths`]).
//!
//! # Project limits
//!
//! Files are read in path order, a chunk at a time (each merged into the index while the next
//! is read; a chunk holds 256 to 2,048 files, about a sixteenth of the project, and at most
//! about 32 MiB by their sizes, a size the walk did not take being claimed when the file is
//! opened), and the walk stops before the file that takes the project past [`ProjectLimits`]
//! (500,000 annotations, 256 MiB of annotated text: [`crate::limits`]): the rest are skipped
//! with [`SkipReason::ProjectLimit`], the same files on every run. Files that past runs cached
//! still go through the same count. Callers decide what that means (`check` fails with
//! status 2).
//!
//! The files of one scan share one tree-sitter time budget ([`WalkOptions::parse_budget`],
//! [`crate::limits::MAX_PROJECT_PARSE_TIME`]): once it is spent, files are read with the
//! line-comment fallback, counted in [`Scan::read_without_tree`], and their outcome is not
//! cached (it depends on time, and the next run must say so again).
//!
//! Pipeline per file: metadata (size; the walk's `lstat` when an index cache or a stored
//! result will compare it before the file is opened, else the `fstat` of the file opened to
//! read it: [`FoundHook::compares_lstat`]) -> read -> binary check -> literal prefilter (an
//! annotation literal, or an MCP surface: [`crate::syntax::may_hold_mcp`]) -> UTF-8
//! validation -> BOM strip -> parse. Files that pass the prefilter but hold neither
//! annotations, nor syntax errors, nor an MCP surface are counted as scanned and left out of
//! the index. Of an indexed file the index keeps only the lines of its annotations and syntax
//! errors ([`crate::model::file_text`]; the whole text with [`WalkOptions::whole_texts`], the
//! language server's choice): a reader that needs the rest has the file read again by the
//! same rule, and used only if its bytes still hash as they did.
//!
//! # The index cache
//!
//! With [`WalkOptions::cache_dir`] set, the per-file outcome of the last scan (see
//! [`crate::cache`] for the format and when an entry is trusted) stands in for the pipeline:
//! a file known to hold no annotation (or to be binary, or not UTF-8) is not read at all while
//! its size and mtime vouch for it; an annotated file is read, and when its content hash
//! matches, its stored facts are used instead of parsing and deriving them. The cache file is
//! loaded while the walk runs, and written (only when something changed) on a thread of its
//! own ([`crate::cache::Stream`]) as the chunks of files are merged, from the first chunk that
//! changes it on, and finished while the caller analyses: that thread also encodes the facts
//! of the files parsed anew (the index shares them), so parsing does not wait for encoding.
//! [`Scan::finish_cache`] waits for it.
//!
//! # Before reading
//!
//! [`WalkOptions::found`] is shown what the walk found ([`Discovered`]) after every directory
//! is listed and every configuration and ignore file read, before any other file is read: it
//! may end the scan there ([`WalkError::Stopped`]; `check`'s result cache replays a stored
//! result then).

use crate::cache::{self, CacheError, Stat};
use crate::diagnostic::Code;
use crate::file_id::FileId;
use crate::ignore_files::IgnoreRules;
use crate::model::anchors::AnchorText;
use crate::model::file_text::{FileText, Reread};
use crate::model::risk::{Band, RiskPolicy};
use crate::model::{FileFacts, ProjectIndex, Repository};
use crate::paths::{base_dir, normalize, relative_path};
use crate::read::{Links, Refusal, read_bounded};
use crate::syntax::prefilter::may_contain_annotation;
use crate::syntax::{Language, ParseBudget, SyntaxError};
use crate::text::TextRange;
use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkState};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
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
    /// Tree-sitter time all files together may take ([`crate::limits::MAX_PROJECT_PARSE_TIME`];
    /// see [`ParseBudget`]).
    pub parse_budget: std::time::Duration,
    /// Keep every scanned file's whole text (the language server's choice), not only its
    /// annotated lines ([`crate::model::file_text`]).
    pub whole_texts: bool,
    /// Where the index cache lives ([`crate::cache::default_dir`]); `None` = no cache.
    pub cache_dir: Option<PathBuf>,
    /// Shown what the walk found before any file is read; may stop the scan there.
    pub found: Option<FoundHook>,
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
            parse_budget: crate::limits::MAX_PROJECT_PARSE_TIME,
            whole_texts: false,
            cache_dir: None,
            found: None,
        }
    }
}

/// A look at what the walk found before any file is read ([`WalkOptions::found`]): the
/// caller's result cache (`check`) decides there whether it needs the scan at all. `true`
/// goes on; `false` ends the scan with [`WalkError::Stopped`]. `defer_cache_load`: load the
/// index cache only after the hook said to go on (else it is loaded while the walk runs).
/// `compares_lstat`: `decide` compares the files' `lstat` ([`Discovered::files`]), so the walk
/// takes one of every file; otherwise a walk without an index cache to compare with takes
/// none, and the scan takes each file's from the file it opens ([`Scan::read_lstats`]).
#[derive(Clone)]
pub struct FoundHook {
    pub decide: Arc<dyn Fn(&Discovered<'_>) -> bool + Send + Sync>,
    pub defer_cache_load: bool,
    pub compares_lstat: bool,
}

impl fmt::Debug for FoundHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FoundHook(..)")
    }
}

/// What the walk found, before it reads a file ([`FoundHook`]).
pub struct Discovered<'a> {
    /// The base directory ([`Scan::root`]).
    pub base: &'a Path,
    /// Every file it will read: path relative to the base, absolute path, language and the
    /// walk's `lstat` (a walked file's, when it could be taken and the walk took one: see
    /// [`FoundHook::compares_lstat`]), in path order.
    pub files: Vec<(&'a str, &'a Path, Language, Option<Lstat>)>,
    /// Skipped files and directories (absolute paths, in no particular order; plain text left
    /// out is later searched for annotation literals).
    pub skipped: &'a [(PathBuf, SkipReason)],
    /// Refused configuration and ignore files.
    pub not_applied: &'a [NotApplied],
    /// [`Scan::library_files`].
    pub library_files: &'a [PathBuf],
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
    /// Plain text (`.txt`) that no PATH, `threatspec.yaml` `paths:` entry or include glob
    /// names: not an annotation document ([`Language::read_only_when_named`]).
    /// `annotation_like`: a full walk found an annotation literal in it (the prefilter's
    /// search), so callers say that annotations may be left out.
    NotNamed { annotation_like: bool },
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
            SkipReason::NotNamed { annotation_like } => write!(
                f,
                "plain text not named as an annotation document{} (name it as a PATH, in threatspec.yaml \
                 paths or with an include glob to read it)",
                if *annotation_like { ", though it holds annotation-like text" } else { "" }
            ),
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
    /// Every scanned file (the [`Scan::files_scanned`] of them), by key, with its language, in
    /// path order: `status` tells annotated files (in [`Scan::index`]) from unannotated ones.
    /// A file the prefilter passed over (no annotation literal) is here and not in the index.
    pub scanned: Vec<(FileId, Language)>,
    /// Skipped files and directories, by path relative to [`Scan::root`] (like reported
    /// paths), sorted. Files excluded by ignore rules are not listed: the walker never sees
    /// them.
    pub skipped: Vec<(PathBuf, SkipReason)>,
    /// Configuration and ignore files that were refused (a link, not a regular file, over
    /// [`crate::limits::MAX_CONFIG_FILE_SIZE`], unreadable), sorted by path: the walk went on
    /// without them, and callers say so.
    pub not_applied: Vec<NotApplied>,
    /// The absolute base directory every [`FileId::relative`] key is relative to.
    pub root: PathBuf,
    /// What the index cache did, when one was used.
    pub cache: Option<CacheUse>,
    /// Files read with the line-comment fallback because parsing them ran out of time (their
    /// own budget or the project's, [`WalkOptions::parse_budget`]): comments after code and
    /// block comments in them were not read.
    pub read_without_tree: usize,
    /// Parses not started because the project's budget was spent (one per such file; two for
    /// a YAML or JSON file that mentions `x-threatspec`).
    pub parses_refused: usize,
    /// The risk policy of the first directory argument whose configuration has a
    /// `threat-analyzer: risk:` block (what cannot be used in it is an `invalid-config` error
    /// there, and the default stands in); the default otherwise.
    pub risk: RiskPolicy,
    /// Every threat library file the walk looked for (found by name, named by a
    /// configuration, an import's `threatmodel/` files), found or not: a change to one changes
    /// what references resolve to.
    pub library_files: Vec<PathBuf>,
    /// The level the configuration of the first directory argument that has a
    /// `threat-analyzer: infra:` block enables `unmodelled-resource` at (`None`: off, the
    /// default; what cannot be used in the block is an `invalid-config` error there).
    pub unmodelled_resource: Option<crate::diagnostic::Level>,
    /// The `lstat` of walked files the walk took none of (see [`FoundHook::compares_lstat`]),
    /// as the scan took it from the file it opened (its `fstat`, after the scan started and
    /// before the file was read: the very file read, not followed through a link), by the
    /// file's place in [`Discovered::files`]. `check`'s result cache records these.
    pub read_lstats: Vec<(usize, Lstat)>,
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
    /// The entries of the cache as this scan left it (shared with the write).
    entries: ScannedEntries,
}

impl CacheUse {
    /// This scan's own cache entries: what `check`'s result cache stores as content digests.
    pub fn entries(&self) -> ScannedEntries {
        self.entries.clone()
    }
}

/// The cache entries of the files a scan read or trusted (each with the hash of the content
/// the scan used), shared with the cache write, whose entries of files outside the scan's
/// roots (kept from the old cache, possibly stale) are not among them.
#[derive(Clone, Debug)]
pub struct ScannedEntries {
    all: Arc<Vec<cache::Entry>>,
    own: usize,
}

impl ScannedEntries {
    /// The records of this scan's files.
    pub fn records(&self) -> impl Iterator<Item = &cache::Record> {
        self.all[..self.own].iter().map(|e| &e.record)
    }
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
    /// `.guardlink/config.json`: its include/exclude and definitions file were not applied.
    Guardlink,
    /// `.gitignore`, `.ignore`, `.git/info/exclude` (or the `.git` naming it).
    Ignore,
    /// A threat library file (README: Threat libraries).
    Library,
}

impl fmt::Display for NotApplied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let consequence = match self.kind {
            ConfigKind::Threatspec => "the whole directory is read instead of its `paths:`",
            ConfigKind::Guardlink => "its include, exclude and definitions are not applied",
            ConfigKind::Ignore => "its rules are not applied",
            ConfigKind::Library => "its threats are not known",
        };
        write!(f, "{}: not read: {} ({consequence})", self.path.display(), self.why)
    }
}

/// A walk that cannot start or cannot be trusted: `check` exits with status 2.
#[derive(Debug)]
pub enum WalkError {
    /// A PATH argument does not exist or cannot be read.
    Path { path: PathBuf, error: io::Error },
    /// A `threatspec.yaml` that does not parse or has the wrong shape ([`read_threatspec_config`]
    /// only: the walk reports that as a diagnostic in the file).
    Config { path: PathBuf, message: String },
    /// The current directory cannot be determined.
    CurrentDir(io::Error),
    /// An `--include`/`--exclude` glob (or the server's setting) does not parse.
    Glob { message: String },
    /// The [`WalkOptions::found`] hook ended the scan.
    Stopped,
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
            WalkError::Stopped => f.write_str("stopped before reading files"),
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
    let load_cache = || {
        options.cache_dir.clone().map(|dir| {
            let root = base.clone();
            std::thread::spawn(move || {
                let loaded = cache::load(&dir, &root);
                (dir, loaded)
            })
        })
    };
    let defer_cache_load = options.found.as_ref().is_some_and(|hook| hook.defer_cache_load);
    let mut cache_loader = if defer_cache_load { None } else { load_cache() };

    // The walk takes an `lstat` of every file only when something will compare it before the
    // file is opened: the result cache's stored run, or an index cache of this base (whose
    // entries it trusts by size and mtime, without opening the file). Otherwise (a cold run)
    // the scan opens every file anyway, and the opened file's `fstat` says the same: a system
    // call per file saved (11,659 on the sparse benchmark).
    let stat_files = options.found.as_ref().is_some_and(|hook| hook.compares_lstat)
        || options
            .cache_dir
            .as_ref()
            .is_some_and(|dir| cache::file_for(dir, &base).symlink_metadata().is_ok());
    let found = Found { stat_files, ..Found::default() };
    let mut not_applied = Vec::new();
    let mut config_files = Vec::new();
    let mut risk = None;
    let mut infra = None;
    let mut library = Vec::new();
    let mut library_files = Vec::new();
    for (root, is_dir) in &roots {
        if !is_dir {
            found.add_direct_file(root);
            continue;
        }
        let Plan {
            starts,
            not_applied: refused,
            mut configs,
            risk: planned_risk,
            infra: planned_infra,
            library: planned_library,
            library_files: looked_for,
        } = walk_starts(root, options)?;
        risk = risk.or(planned_risk);
        infra = infra.or(planned_infra);
        library.extend(planned_library);
        library_files.extend(looked_for);
        not_applied.extend(refused);
        for start in starts {
            match start {
                WalkStart::Dir { dir, overrides, selection, must_match } => {
                    let before = found.entries();
                    found.walk_dir(&dir, overrides, selection);
                    if let Some(MustMatch { config, range, entry }) = must_match
                        && found.entries() == before
                    {
                        configs[config].problems.push(SyntaxError {
                            code: Code::ConfigPathMissing,
                            range,
                            message: format!(
                                "paths entry {entry:?} matches no file; the rest of the project is read"
                            ),
                            fix: None,
                        });
                    }
                }
                WalkStart::File(file) => found.add_direct_file(&file),
            }
        }
        config_files.extend(configs.into_iter().filter(|c| c.keep || !c.problems.is_empty()));
    }

    let Found { files, skipped, ignore_rules, .. } = found;
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
    let files = files.into_inner().unwrap_or_else(|e| e.into_inner());
    // Deduplicate (overlapping PATH arguments: the first found is kept) and order by reported
    // path, with a parallel sort of (path, place found: list and index in it): a map filled on
    // this thread was ~20M instructions on 20,000 files while the other core waited.
    let base_ref = &base;
    let mut order: Vec<(String, (usize, usize))> = files
        .par_iter()
        .enumerate()
        .flat_map_iter(|(l, list)| {
            list.iter().enumerate().map(move |(k, file)| (relative_path(base_ref, &file.path), (l, k)))
        })
        .collect();
    order.par_sort_unstable();
    order.dedup_by(|later, first| later.0 == first.0);
    // Each found file at its place in `order` (taken from here when the chunks are planned:
    // moved into a vector in path order first, 3 MB on 20,000 files, it was copied once more
    // while the other core waited).
    let mut found_files: Vec<Vec<Option<FoundFile>>> =
        files.into_iter().map(|list| list.into_iter().map(Some).collect()).collect();
    let found_at =
        |(l, k): (usize, usize)| found_files[l][k].as_ref().expect("each file has one place in the order");
    // A file both named (read) and met by a walk (skipped: plain text the walk alone does not
    // read) is read: it is not reported as skipped.
    if !skipped.is_empty() {
        let read: rustc_hash::FxHashSet<&Path> =
            order.iter().map(|&(_, i)| found_at(i).path.as_path()).collect();
        skipped.retain(|(path, _)| !read.contains(path.as_path()));
    }
    if let Some(hook) = &options.found {
        let files = order
            .iter()
            .map(|(rel, i)| {
                let file = found_at(*i);
                (rel.as_str(), file.path.as_path(), file.language, file.lstat)
            })
            .collect();
        let found = Discovered {
            base: &base,
            files,
            skipped: &skipped,
            not_applied: &not_applied,
            library_files: &library_files,
        };
        if !(hook.decide)(&found) {
            return Err(WalkError::Stopped);
        }
        if defer_cache_load {
            cache_loader = load_cache();
        }
    }
    // Plain text left out is still searched for annotation literals (bounded, never through a
    // link), so that design notes nobody named are not lost without a word.
    skipped.par_iter_mut().for_each(|(path, reason)| {
        if let SkipReason::NotNamed { annotation_like } = reason {
            *annotation_like = read_bounded(path, options.max_file_size, Links::Refuse)
                .is_ok_and(|bytes| may_contain_annotation(&bytes));
        }
    });

    let (cache_file, old_cache, load_error) = match cache_loader.map(|h| h.join()) {
        None => (None, None, None),
        Some(Ok((dir, Ok(loaded)))) => (Some(dir), Some(Arc::new(loaded)), None),
        Some(Ok((dir, Err(e)))) => (Some(dir), None, Some(e)),
        Some(Err(_)) => (None, None, None),
    };
    let cache_on = cache_file.is_some();
    let parse_budget = ParseBudget::new(options.parse_budget);
    let context = LoadContext {
        options,
        cache: old_cache.as_deref(),
        cache_on,
        now_ns: scan_started_ns,
        parse_budget: &parse_budget,
    };

    let total = order.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    // `claim`: see `load`; a file it leaves unread comes back to be read with a later chunk.
    let load_one = |rel: String, file: FoundFile, claim: &dyn Fn(u64) -> bool| {
        let key = if options.absolute_paths { FileId::absolute(&file.path) } else { FileId::relative(rel) };
        let language = file.language;
        let Some(loaded) = load(&file, key.clone(), &context, claim) else {
            return Chunked::Found((relative_path(&base, &file.path), file));
        };
        if let Some(Progress(report)) = &options.progress {
            report(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1, total);
        }
        Chunked::Loaded((file.path, (key, language), loaded))
    };

    // Files are read in parallel, a chunk at a time in path order, and merged in that order
    // until the project limits are reached: the files after that are skipped, the same ones
    // on every run. A chunk is merged while the next one is read (the merge is serial, so
    // the other core would otherwise wait), so no more than two chunks are ever held beyond
    // the limits.
    // @mitigates ThreatAnalyzer.Walk against #resource-exhaustion using #resource-limits
    let mut merged = Merged { skipped, ..Merged::default() };
    // At most every file found is indexed: the file tables are sized once.
    merged.index.reserve_files(total);
    // The files in path order, cut into the chunks read one after another: each chunk's
    // entries are freed as it is read (one vector of them all, held to the end of the scan,
    // kept ~3 MB more on the 20,000-file benchmark).
    // A file the walk took no `lstat` of counts 0 bytes here; its size is claimed from the
    // chunk's bytes when it is opened (see `read_chunk`).
    let mut pending: std::collections::VecDeque<(Vec<(String, FoundFile)>, u64)> = Default::default();
    let chunk_files = chunk_files(total);
    for (place, (rel, (l, k))) in order.into_iter().enumerate() {
        let mut file = found_files[l][k].take().expect("each file has one place in the order");
        if pending.back().is_none_or(|(chunk, bytes)| chunk.len() >= chunk_files || *bytes >= CHUNK_BYTES) {
            pending.push_back((Vec::with_capacity(chunk_files), 0));
        }
        let (chunk, bytes) = pending.back_mut().expect("a chunk was just ensured");
        *bytes += file.size;
        file.place = place;
        chunk.push((rel, file));
    }
    // What the last chunk read left for the next (see `read_chunk`): usually nothing.
    let mut carried: Option<Vec<Pending>> = None;
    let read_chunk = |chunk: Vec<Pending>| {
        let planned = |(_, file): &(String, FoundFile)| file.size;
        read_chunk(chunk, CHUNK_BYTES, planned, |(rel, file), claim| load_one(rel, file, claim))
    };
    let carry = |rest: Vec<Pending>| Some(rest).filter(|rest| !rest.is_empty());
    let mut in_hand: Option<Vec<LoadedFile>> = None;
    // The cache file, written as the chunks are merged once it is known to change (a cold
    // run: from the first chunk; a warm one: from the first changed file; none at all when
    // nothing changed): see `cache::Stream`.
    let mut stream: Option<cache::Stream> = None;
    let mut stream_merged = |merged: &Merged| {
        let Some(dir) = &cache_file else { return };
        let changes =
            merged.changed || load_error.is_some() || (old_cache.is_none() && !merged.entries.is_empty());
        if stream.is_none() && changes {
            stream = Some(cache::Stream::start(dir, &base, old_cache.clone()));
        }
        if let Some(stream) = &mut stream {
            stream.send(&merged.entries);
        }
    };
    loop {
        // The next files in path order (none when all were taken). The planned chunks hold the
        // files alone (a `Pending` has room for a file read, twice the size).
        let chunk: Vec<Pending> = match carried.take() {
            Some(rest) => rest,
            None => pending
                .pop_front()
                .map_or_else(Vec::new, |(chunk, _)| chunk.into_iter().map(Chunked::Found).collect()),
        };
        if merged.limit_reached {
            if chunk.is_empty() {
                break;
            }
            for pending in chunk {
                match pending {
                    Chunked::Found((_, file)) => merged.skipped.push((file.path, SkipReason::ProjectLimit)),
                    // Read while the limit was reached: skipped like the rest (its entry kept).
                    Chunked::Loaded(loaded) => merged.add(vec![loaded], &options.limits),
                }
            }
            continue;
        }
        in_hand = match (in_hand.take(), chunk.is_empty()) {
            (None, true) => break,
            (Some(loaded), true) => {
                merged.add(loaded, &options.limits);
                break;
            }
            (None, false) => {
                let (next, rest) = read_chunk(chunk);
                carried = carry(rest);
                Some(next)
            }
            (Some(loaded), false) => {
                let ((), (next, rest)) =
                    rayon::join(|| merged.add(loaded, &options.limits), || read_chunk(chunk));
                carried = carry(rest);
                stream_merged(&merged);
                Some(next)
            }
        };
        if merged.limit_reached
            && let Some(loaded) = in_hand.take()
        {
            // Read while the limit was reached: skipped like the rest (their entries kept).
            merged.add(loaded, &options.limits);
        }
    }
    stream_merged(&merged);
    let Merged {
        mut index,
        files_scanned,
        scanned,
        skipped,
        entries,
        reused,
        not_read,
        changed,
        read_without_tree,
        read_lstats,
        ..
    } = merged;
    let mut skipped: Vec<(PathBuf, SkipReason)> = skipped
        .into_iter()
        .map(|(abs, reason)| (PathBuf::from(relative_path(&base, &abs)), reason))
        .collect();
    skipped.sort_by(|a, b| a.0.cmp(&b.0));
    skipped.dedup_by(|a, b| a.0 == b.0);

    let cache = cache_file.map(|dir| {
        let file = cache::file_for(&dir, &base);
        let (save, entries) =
            save_cache(dir, &base, &roots, entries, old_cache, changed || load_error.is_some(), stream);
        CacheUse { file, load_error, files: total, reused, not_read, save, entries }
    });
    let config_key = |path: &Path| {
        if options.absolute_paths {
            FileId::absolute(path)
        } else {
            FileId::relative(relative_path(&base, path))
        }
    };
    for config in config_files {
        let key = config_key(&config.path);
        index.set_file(Arc::new(config.into_facts(key, &index)));
    }
    if !library.is_empty() {
        let entries = library.into_iter().map(|planned| library_entry(planned, &config_key)).collect();
        index.set_library(Arc::new(crate::model::library::Library::new(entries)));
    }
    let parses_refused = parse_budget.refused();
    let anchored: Vec<FileId> =
        index.anchored_keys().into_iter().filter(|k| index.file(k.as_str()).is_none()).collect();
    for key in anchored {
        let text = read_anchor_text(&base, &base.join(key.as_str()), options.max_file_size);
        index.set_anchor_text(key, text);
    }
    index.set_repositories(repositories_of(&base, &roots, options.absolute_paths));
    Ok(Scan {
        index,
        files_scanned,
        scanned,
        skipped,
        not_applied,
        root: base,
        cache,
        read_without_tree,
        parses_refused,
        risk: risk.unwrap_or_default(),
        library_files,
        unmodelled_resource: infra.flatten(),
        read_lstats,
    })
}

/// Where the walk of the directory `root` starts: the directory itself with the include/exclude
/// filter, or, when `root` holds a `threatspec.yaml`, each of its `paths:`; plus GuardLink's
/// definitions file (see the module docs). One plan for [`scan_from`] and [`WalkRules`].
// A few per walk: boxing would save nothing worth the indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum WalkStart {
    Dir {
        dir: PathBuf,
        overrides: Option<ignore::overrides::Override>,
        /// Only files this glob matches are read (a glob entry of `paths:`).
        selection: Option<ignore::overrides::Override>,
        /// Warn when the walk finds nothing here.
        must_match: Option<MustMatch>,
    },
    File(PathBuf),
}

/// A glob entry that matches nothing gets a warning at `range` of `Plan::configs[config]`.
#[derive(Clone)]
struct MustMatch {
    config: usize,
    range: TextRange,
    entry: String,
}

/// How one directory argument is walked, and what its configuration files said.
#[derive(Default)]
struct Plan {
    starts: Vec<WalkStart>,
    /// Configuration files refused by the bounded reader.
    not_applied: Vec<NotApplied>,
    /// Configuration files read, with their problems.
    configs: Vec<ConfigFile>,
    /// The risk policy of the configuration's `threat-analyzer: risk:` block, if it has one.
    risk: Option<RiskPolicy>,
    /// The level the configuration's `threat-analyzer: infra:` block gives
    /// `unmodelled-resource`, if it has the block (`Some(None)`: off).
    infra: Option<Option<crate::diagnostic::Level>>,
    /// The entries of the project's threat library files (see [`plan_libraries`]).
    library: Vec<PlannedEntry>,
    /// Every threat library file [`plan_libraries`] looked for, found or not.
    library_files: Vec<PathBuf>,
}

/// One entry of a threat library file, read; its file's key is made with the other
/// configuration files' keys.
struct PlannedEntry {
    path: PathBuf,
    item: crate::config::LibraryItem,
    applies_to: Vec<crate::model::library::AppliesTo>,
}

/// A configuration file that was read, with the problems found in it: it goes into the index
/// as a file of its own (see [`ConfigFile::into_facts`]), so that `check`, every output and
/// the language server show its problems where they are.
struct ConfigFile {
    path: PathBuf,
    language: Language,
    text: Arc<str>,
    problems: Vec<SyntaxError>,
    /// Kept in the index even without problems (a threat library: findings point into it).
    keep: bool,
}

impl ConfigFile {
    fn problem(&mut self, code: Code, range: TextRange, message: String) {
        self.problems.push(SyntaxError { code, range, message, fix: None });
    }

    /// The file's facts: its problems, added to what the walk read from it (when it holds
    /// annotations too, and the text is the same).
    fn into_facts(mut self, key: FileId, index: &ProjectIndex) -> FileFacts {
        self.problems.sort_by_key(|p| p.range);
        let mut parsed = crate::syntax::ParsedFile::default();
        if let Some(walked) = index.file(key.as_str())
            && walked.text.is(&self.text)
        {
            parsed = walked.parsed.clone();
        }
        let text = self.text;
        parsed.errors.extend(self.problems);
        FileFacts::from_parsed(key, self.language, text, parsed)
    }
}

/// The risk policy a configuration's risk block asks for (README: Risk). What cannot be used
/// (an unknown band name, a band boundary out of order or outside 2..=25, a negative SLA) is
/// an `invalid-config` error at its entry, and the default stands in for that part.
fn risk_policy(block: crate::config::RiskEntries, file: &mut ConfigFile) -> RiskPolicy {
    let mut policy = RiskPolicy::default();
    for problem in block.problems {
        file.problem(Code::InvalidConfig, problem.range, problem.message);
    }
    let names = Band::ALL.map(Band::as_str).join(", ");
    let band_of = |entry: &crate::config::Entry, file: &mut ConfigFile| {
        let band = Band::parse(&entry.value);
        if band.is_none() {
            let message = format!("`{}` is not a risk band (one of {names}); it is ignored", entry.value);
            file.problem(Code::InvalidConfig, entry.range, message);
        }
        band
    };
    let mut from = policy.from;
    let mut bands_range = None;
    for (entry, score) in &block.bands {
        let Some(band) = band_of(entry, file) else { continue };
        bands_range.get_or_insert(entry.range);
        match band {
            Band::Info => file.problem(
                Code::InvalidConfig,
                entry.range,
                "`info` has no boundary: it is every score below `low`'s; it is ignored".into(),
            ),
            _ => from[band.index() - 1] = u8::try_from(*score).unwrap_or(0),
        }
    }
    if RiskPolicy::valid_from(&from) {
        policy.from = from;
    } else if let Some(range) = bands_range {
        let message = format!(
            "the bands' lowest scores must rise from low to critical within 2..=25 (read: low {}, medium {}, \
             high {}, critical {}); the default bands are used",
            from[0], from[1], from[2], from[3]
        );
        file.problem(Code::InvalidConfig, range, message);
    }
    for (entry, days) in &block.sla_days {
        let Some(band) = band_of(entry, file) else { continue };
        match days.map(u32::try_from) {
            None => policy.sla_days[band.index()] = None,
            Some(Ok(days)) => policy.sla_days[band.index()] = Some(days),
            Some(Err(_)) => file.problem(
                Code::InvalidConfig,
                entry.range,
                format!("the SLA of `{}` must be 0 or more days; the default is used", entry.value),
            ),
        }
    }
    if let Some(entry) = &block.owner_required_from {
        if entry.value == "none" {
            policy.owner_required_from = None;
        } else if let Some(band) = band_of(entry, file) {
            policy.owner_required_from = Some(band);
        }
    }
    policy
}

/// GuardLink's project configuration, relative to the project root.
pub const GUARDLINK_CONFIG: &str = ".guardlink/config.json";

/// The configuration files of a directory argument (or workspace folder), relative to it.
pub const CONFIG_FILES: [&str; 2] = [THREATSPEC_CONFIG, GUARDLINK_CONFIG];

/// Reads one configuration file of `root` by the bounded reader's rule; `None` when it is
/// missing, refused (a note) or unusable (an `invalid-config` error in it: the walk goes on
/// as if it did not exist). `Some` holds its index in `plan.configs`.
fn read_config<T>(
    root: &Path,
    name: &str,
    language: Language,
    kind: ConfigKind,
    parse: fn(&str) -> Result<T, crate::config::ConfigError>,
    plan: &mut Plan,
) -> Option<(usize, T)> {
    let path = root.join(name);
    let bytes = match read_config_bytes(root, name) {
        Ok(bytes) => bytes,
        Err(why) if why.is_missing() => return None,
        Err(why) => {
            plan.not_applied.push(NotApplied { path, why, kind });
            return None;
        }
    };
    let (text, parsed) = match String::from_utf8(bytes) {
        Ok(text) => {
            let parsed = parse(&text);
            (text, parsed)
        }
        Err(e) => {
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let range = TextRange::empty(0);
            (text, Err(crate::config::ConfigError { message: "not valid UTF-8".into(), range }))
        }
    };
    let mut file = ConfigFile { path, language, text: Arc::from(text), problems: Vec::new(), keep: false };
    let at = plan.configs.len();
    let parsed = match parsed {
        Ok(parsed) => Some((at, parsed)),
        Err(err) => {
            let message = format!(
                "invalid configuration: {}; the project is read as if {name} did not exist",
                err.message
            );
            file.problem(Code::InvalidConfig, err.range, message);
            None
        }
    };
    plan.configs.push(file);
    parsed
}

/// The bytes of the configuration file `name` of `root`, by the bounded reader's rule.
/// `O_NOFOLLOW` guards the last component only: a `.guardlink` that is a link is refused here
/// (the walk never enters it either).
fn read_config_bytes(root: &Path, name: &str) -> Result<Vec<u8>, Refusal> {
    let path = root.join(name);
    let linked_dir = path
        .parent()
        .filter(|dir| *dir != root)
        .is_some_and(|dir| std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()));
    if linked_dir {
        return Err(Refusal::Symlink);
    }
    read_bounded(&path, crate::limits::MAX_CONFIG_FILE_SIZE, Links::Refuse)
}

fn walk_starts(root: &Path, options: &WalkOptions) -> Result<Plan, WalkError> {
    use crate::config;
    let mut plan = Plan::default();
    let mut guardlink = read_config(
        root,
        GUARDLINK_CONFIG,
        Language::Json,
        ConfigKind::Guardlink,
        config::parse_guardlink,
        &mut plan,
    );
    let mut threatspec = read_config(
        root,
        THREATSPEC_CONFIG,
        Language::Yaml,
        ConfigKind::Threatspec,
        config::parse_threatspec,
        &mut plan,
    );
    // `threatspec.yaml`'s risk block wins over `.guardlink/config.json`'s, as its paths do.
    let from_threatspec = threatspec.as_mut().and_then(|(at, ts)| Some((*at, ts.risk.take()?)));
    let from_guardlink = guardlink.as_mut().and_then(|(at, gl)| Some((*at, gl.risk.take()?)));
    if let (Some(_), Some((at, block))) = (&from_threatspec, &from_guardlink) {
        let range = block.owner_required_from.as_ref().map_or(TextRange::empty(0), |e| e.range);
        let message =
            format!("`{}` is ignored: {THREATSPEC_CONFIG} has one, and it is used", config::OWN_KEY);
        plan.configs[*at].problem(Code::InvalidConfig, range, message);
    }
    if let Some((at, block)) = from_threatspec.or(from_guardlink) {
        plan.risk = Some(risk_policy(block, &mut plan.configs[at]));
    }
    // The same for the `infra` block: `threatspec.yaml`'s wins.
    let infra_ts = threatspec.as_mut().and_then(|(at, ts)| Some((*at, ts.infra.take()?)));
    let infra_gl = guardlink.as_mut().and_then(|(at, gl)| Some((*at, gl.infra.take()?)));
    if let (Some(_), Some((at, _))) = (&infra_ts, &infra_gl) {
        let message =
            format!("`{}.infra` is ignored: {THREATSPEC_CONFIG} has one, and it is used", config::OWN_KEY);
        plan.configs[*at].problem(Code::InvalidConfig, TextRange::empty(0), message);
    }
    if let Some((at, block)) = infra_ts.or(infra_gl) {
        for problem in block.problems {
            plan.configs[at].problem(Code::InvalidConfig, problem.range, problem.message);
        }
        plan.infra = Some(block.unmodelled_resource);
    }
    plan_libraries(root, threatspec.as_ref(), guardlink.as_ref(), &mut plan);
    // The user's globs first: a bad one is the user's error, not the project's.
    file_filter(root, &options.include, &options.exclude).map_err(|message| WalkError::Glob { message })?;
    let (mut include, mut exclude) = (options.include.clone(), options.exclude.clone());
    if let Some((at, gl)) = &guardlink {
        // `threatspec.yaml` decides what is read when both exist (README: Configuration).
        if threatspec.is_none() {
            let usable = |entry: &config::Entry, file: &mut ConfigFile, what: &str| {
                let glob = config::anchored_glob(&entry.value);
                match OverrideBuilder::new(root).add(&glob) {
                    Ok(_) => Some(glob),
                    Err(e) => {
                        let message =
                            format!("{what} glob {:?} does not parse ({e}); it is not applied", entry.value);
                        file.problem(Code::InvalidConfig, entry.range, message);
                        None
                    }
                }
            };
            let file = &mut plan.configs[*at];
            let globs: Vec<Option<String>> = gl.include.iter().map(|e| usable(e, file, "include")).collect();
            // `--include` wins; an include that does not parse drops the filter (reads more).
            if include.is_empty() && globs.iter().all(Option::is_some) {
                include = globs.into_iter().flatten().collect();
                // GuardLink reads its own files (definitions, `.gal` sidecars) whatever its
                // `include` says (`"**/*.py"` in external mode): so do we.
                if !include.is_empty() {
                    include.push(config::anchored_glob(".guardlink/**"));
                }
            }
            exclude.extend(gl.exclude.iter().filter_map(|e| usable(e, file, "exclude")));
        }
        if let Some(defs) = &gl.definitions {
            let target = normalize(&root.join(".guardlink").join(&defs.value));
            if let Some(file) = config_entry_target(
                root,
                &target,
                &defs.value,
                defs.range,
                "definitions",
                &mut plan.configs[*at],
            ) {
                plan.starts.push(file);
            }
        }
    }
    let Some((at, ts)) = threatspec else {
        let overrides =
            file_filter(root, &include, &exclude).map_err(|message| WalkError::Glob { message })?;
        plan.starts.push(WalkStart::Dir {
            dir: root.to_path_buf(),
            overrides,
            selection: None,
            must_match: None,
        });
        return Ok(plan);
    };
    for entry in &ts.paths {
        let value = &entry.path.value;
        let range = entry.path.range;
        let (literal, glob) = match config::is_glob(value) {
            true => {
                let (dir, pattern) = config::split_glob(value);
                (dir, Some(pattern))
            }
            false => (value.as_str(), None),
        };
        let target = normalize(&root.join(literal));
        let file = &mut plan.configs[at];
        let Some(start) = config_entry_target(root, &target, value, range, "paths", file) else { continue };
        let is_dir = std::fs::metadata(&target).is_ok_and(|m| m.is_dir());
        if !is_dir {
            match glob {
                // A glob's directory part names a file: it matches nothing.
                Some(_) => file.problem(
                    Code::ConfigPathMissing,
                    range,
                    format!("paths entry {value:?} matches no file; the rest of the project is read"),
                ),
                None => plan.starts.push(start),
            }
            continue;
        }
        let mut ignore: Vec<String> =
            entry.ignore.iter().map(|i| config::threatspec_ignore_glob(i)).collect();
        ignore.extend(exclude.iter().cloned());
        let overrides = match file_filter(&target, &include, &ignore) {
            Ok(overrides) => overrides,
            Err(message) => {
                file.problem(
                    Code::InvalidConfig,
                    range,
                    format!("paths entry {value:?}: {message}; the entry is read without its `ignore:`"),
                );
                file_filter(&target, &include, &exclude).map_err(|message| WalkError::Glob { message })?
            }
        };
        let selection = match glob {
            None => None,
            Some(pattern) => match file_filter(&target, &[config::anchored_glob(pattern)], &[]) {
                Ok(selection) => selection,
                Err(message) => {
                    file.problem(
                        Code::InvalidConfig,
                        range,
                        format!("paths entry {value:?}: {message}; not read"),
                    );
                    continue;
                }
            },
        };
        let must_match = glob.map(|_| MustMatch { config: at, range, entry: value.clone() });
        plan.starts.push(WalkStart::Dir { dir: target, overrides, selection, must_match });
    }
    // ThreatSpec loads imported projects' libraries; threat-analyzer reads none, but an import
    // inside the project that is gone is worth saying (one outside is not looked at).
    for import in &ts.imports {
        let target = normalize(&root.join(&import.value));
        if target.starts_with(root)
            && std::fs::symlink_metadata(&target).is_err_and(|e| e.kind() == io::ErrorKind::NotFound)
        {
            plan.configs[at].problem(
                Code::ConfigPathMissing,
                import.range,
                format!("imports entry {:?} does not exist", import.value),
            );
        }
    }
    Ok(plan)
}

/// Library files found by name at a project's root (README: Threat libraries).
pub const LIBRARY_FILES: [&str; 3] =
    ["threat-library.yaml", "threat-library.yml", "cwe_library.threatspec.json"];

/// Reads the project's threat library files into `plan.library`: those the `threat-analyzer:
/// libraries:` list of either configuration names, the `threatmodel/threats.json` and
/// `controls.json` of each `threatspec.yaml` import inside the project (ThreatSpec loads them;
/// an import of the project itself is its own output and is skipped, as ThreatSpec does), and
/// [`LIBRARY_FILES`] at the root. Every file is read by the bounded reader (no link, at most
/// [`crate::limits::MAX_CONFIG_FILE_SIZE`]) and never outside the project; what cannot be read
/// is an `invalid-config` (or `config-path-missing`) at the entry naming it, or, in the file,
/// at the place that does not read; a refused file found by name is a note.
fn plan_libraries(
    root: &Path,
    threatspec: Option<&(usize, crate::config::ThreatspecConfig)>,
    guardlink: Option<&(usize, crate::config::GuardlinkConfig)>,
    plan: &mut Plan,
) {
    // (file, the configuration entry naming it)
    let mut wanted: Vec<(PathBuf, Option<(usize, crate::config::Entry)>)> = Vec::new();
    let named =
        [threatspec.map(|(at, ts)| (*at, &ts.libraries)), guardlink.map(|(at, gl)| (*at, &gl.libraries))];
    for (at, libraries) in named.into_iter().flatten() {
        for problem in &libraries.problems {
            plan.configs[at].problem(Code::InvalidConfig, problem.range, problem.message.clone());
        }
        for entry in &libraries.files {
            let target = normalize(&root.join(&entry.value));
            if let Err(why) = confine_to_project(root, &target) {
                let message = format!("libraries entry {:?} {why}; it is not read", entry.value);
                plan.configs[at].problem(Code::InvalidConfig, entry.range, message);
                continue;
            }
            wanted.push((target, Some((at, entry.clone()))));
        }
    }
    if let Some((_, ts)) = threatspec {
        for import in &ts.imports {
            let dir = normalize(&root.join(&import.value));
            if dir == root || confine_to_project(root, &dir).is_err() {
                continue;
            }
            for name in ["threats.json", "controls.json"] {
                wanted.push((dir.join("threatmodel").join(name), None));
            }
        }
    }
    wanted.extend(LIBRARY_FILES.iter().map(|name| (root.join(name), None)));
    let mut seen = std::collections::BTreeSet::new();
    for (path, named_by) in wanted {
        if !seen.insert(path.clone()) {
            continue;
        }
        plan.library_files.push(path.clone());
        let bytes = match read_bounded(&path, crate::limits::MAX_CONFIG_FILE_SIZE, Links::Refuse) {
            Ok(bytes) => bytes,
            Err(why) => {
                match named_by {
                    Some((at, entry)) => {
                        let (code, message) = if why.is_missing() {
                            (
                                Code::ConfigPathMissing,
                                format!("libraries entry {:?} does not exist", entry.value),
                            )
                        } else {
                            (
                                Code::InvalidConfig,
                                format!("libraries entry {:?}: not read: {why}", entry.value),
                            )
                        };
                        plan.configs[at].problem(code, entry.range, message);
                    }
                    None if why.is_missing() => {}
                    None => plan.not_applied.push(NotApplied { path, why, kind: ConfigKind::Library }),
                }
                continue;
            }
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let language =
            if name.to_ascii_lowercase().ends_with(".json") { Language::Json } else { Language::Yaml };
        let text = String::from_utf8(bytes).map_err(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let parsed = match &text {
            Ok(text) => crate::config::parse_library(&name, text),
            Err(_) => Err(crate::config::ConfigError {
                message: "not valid UTF-8".into(),
                range: TextRange::empty(0),
            }),
        };
        let text = text.unwrap_or_else(|lossy| lossy);
        let mut file = ConfigFile {
            path: path.clone(),
            language,
            text: Arc::from(text),
            problems: Vec::new(),
            keep: true,
        };
        match parsed {
            Err(err) => {
                let message = format!("invalid threat library: {}; none of its entries is used", err.message);
                file.problem(Code::InvalidConfig, err.range, message);
            }
            Ok(library) => {
                for problem in library.problems {
                    file.problem(Code::InvalidConfig, problem.range, problem.message);
                }
                for item in library.items {
                    let tag_segment =
                        |id: &str| id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                    if !tag_segment(&item.id.value) {
                        let message = format!(
                            "library id {:?} is not usable in a reference (letters, digits, `_`, `-`); the entry is ignored",
                            item.id.value
                        );
                        file.problem(Code::InvalidConfig, item.id.range, message);
                        continue;
                    }
                    let mut applies_to = Vec::new();
                    for value in &item.applicable_to {
                        match crate::model::library::AppliesTo::parse(&value.value) {
                            Some(kind) => applies_to.push(kind),
                            None => file.problem(
                                Code::InvalidConfig,
                                value.range,
                                format!(
                                    "`applicable_to` {:?} is not an element kind (process, data store, external \
                                     entity, data flow); it is ignored",
                                    value.value
                                ),
                            ),
                        }
                    }
                    plan.library.push(PlannedEntry { path: path.clone(), item, applies_to });
                }
            }
        }
        plan.configs.push(file);
    }
}

/// A library entry of the model from what a library file says.
fn library_entry(
    planned: PlannedEntry,
    key: &impl Fn(&Path) -> FileId,
) -> crate::model::library::LibraryEntry {
    let PlannedEntry { path, item, applies_to } = planned;
    crate::model::library::LibraryEntry {
        id: item.id.value,
        kind: if item.control {
            crate::syntax::EntityKind::Control
        } else {
            crate::syntax::EntityKind::Threat
        },
        name: item.name,
        description: item.description,
        refs: item.refs,
        mitigations: item.mitigations,
        applies_to,
        url: None,
        source: Some((key(&path), item.id.range)),
    }
}

/// The walk start for a path a configuration file names (`target`, from the entry `value` at
/// `range` under `key`), or `None` after saying in `file` why it is not read: it must stay in
/// the project (also through links), exist, and be a regular file or a directory. A directory
/// comes back as a `File` start too; the caller decides how to walk it.
fn config_entry_target(
    root: &Path,
    target: &Path,
    value: &str,
    range: TextRange,
    key: &str,
    file: &mut ConfigFile,
) -> Option<WalkStart> {
    if let Err(why) = confine_to_project(root, target) {
        file.problem(Code::InvalidConfig, range, format!("{key} entry {value:?} {why}; it is not read"));
        return None;
    }
    match std::fs::metadata(target) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let message = format!("{key} entry {value:?} does not exist; the rest of the project is read");
            file.problem(Code::ConfigPathMissing, range, message);
            None
        }
        Err(error) => {
            file.problem(
                Code::InvalidConfig,
                range,
                format!("{key} entry {value:?}: {error}; it is not read"),
            );
            None
        }
        Ok(meta) if !meta.is_dir() && !meta.is_file() => {
            let message = format!("{key} entry {value:?}: {}; it is not read", not_regular());
            file.problem(Code::InvalidConfig, range, message);
            None
        }
        Ok(_) => Some(WalkStart::File(target.to_path_buf())),
    }
}

/// Why the walk would not index a path that something other than the walk names (the
/// language server's file events and closed documents).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotIndexed {
    /// Not inside any walked folder (lexically: an absolute path without `.` or `..`).
    Outside,
    /// Not there (deleted, or never created).
    Missing,
    /// Left out by an ignore file, the include/exclude globs or `threatspec.yaml`'s `paths:`
    /// (or below a directory that is).
    Ignored,
    /// The folder cannot be walked at all (an `include`/`exclude` setting does not parse).
    Unwalkable(String),
    /// Found and skipped, as the walk would skip it (or a directory on the way to it).
    Skipped(SkipReason),
    /// A directory the walk descends into (its files are checked one by one).
    Directory,
}

impl fmt::Display for NotIndexed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotIndexed::Outside => f.write_str("outside the workspace folders"),
            NotIndexed::Missing => f.write_str("not found"),
            NotIndexed::Ignored => {
                f.write_str("ignored (ignore files, include/exclude, threatspec.yaml paths)")
            }
            NotIndexed::Unwalkable(why) => write!(f, "its folder cannot be indexed: {why}"),
            NotIndexed::Skipped(reason) => reason.fmt(f),
            NotIndexed::Directory => f.write_str("a directory"),
        }
    }
}

/// "Would the walk of these folders index this path?": the walk's own rules, applied to paths
/// named one at a time. A path is indexed when it lies inside a folder, every directory on the
/// way to it is one the walk descends into (no symbolic link, no hidden name, not ignored), and
/// it is a regular file of a known language within the size limit that no ignore rule leaves
/// out. Each directory on the way is listed by the walk's own walker (so ignore files apply
/// exactly as in a full walk), once per [`WalkRules`]: check a batch of paths with one value.
pub struct WalkRules {
    roots: Vec<PathBuf>,
    options: WalkOptions,
    /// Walk starts per folder.
    starts: std::collections::HashMap<PathBuf, Result<Vec<WalkStart>, String>>,
    /// What the walker makes of each entry of a directory listed so far, by (start, directory).
    listed: std::collections::HashMap<(PathBuf, PathBuf), std::collections::HashMap<PathBuf, Listed>>,
    /// The ignore files read so far (by the walk's rule), shared by every listing.
    ignore_rules: Arc<IgnoreRules>,
}

/// A directory entry as the walker classified it, with its size for files.
#[derive(Clone)]
enum Listed {
    File(u64),
    Dir,
    Skipped(SkipReason),
}

impl WalkRules {
    /// The rules of a walk of `roots` (absolute folders) with `options`.
    pub fn new(roots: &[PathBuf], options: &WalkOptions) -> WalkRules {
        WalkRules {
            roots: roots.iter().map(|r| normalize(r)).collect(),
            options: options.clone(),
            starts: Default::default(),
            listed: Default::default(),
            ignore_rules: Arc::new(IgnoreRules::new()),
        }
    }

    /// The file's language when the walk would index `path`, else why not.
    pub fn check(&mut self, path: &Path) -> Result<Language, NotIndexed> {
        if !path.is_absolute() || normalize(path) != path {
            return Err(NotIndexed::Outside);
        }
        let roots: Vec<PathBuf> =
            self.roots.iter().filter(|r| path.starts_with(r) && path != *r).cloned().collect();
        let mut verdict = Err(NotIndexed::Outside);
        for root in roots {
            verdict = self.check_under(&root, path);
            if verdict.is_ok() {
                break;
            }
        }
        verdict
    }

    fn check_under(&mut self, root: &Path, path: &Path) -> Result<Language, NotIndexed> {
        let options = &self.options;
        let starts = self
            .starts
            .entry(root.to_path_buf())
            .or_insert_with(|| walk_starts(root, options).map(|plan| plan.starts).map_err(|e| e.to_string()));
        let starts = starts.as_ref().map_err(|why| NotIndexed::Unwalkable(why.clone()))?;
        let mut verdict = Err(NotIndexed::Ignored);
        let mut found = Vec::new();
        let mut named = false;
        for start in starts {
            match start {
                WalkStart::File(file) if file == path => {
                    // Named by a configuration: read like a file named directly, but never
                    // through a link.
                    verdict = match std::fs::symlink_metadata(path) {
                        Err(_) => Err(NotIndexed::Missing),
                        Ok(m) if m.file_type().is_symlink() => Err(NotIndexed::Skipped(SkipReason::Symlink)),
                        Ok(m) if !m.is_file() => Err(NotIndexed::Skipped(SkipReason::NotRegular)),
                        Ok(m) => Ok(m.len()),
                    };
                    named = true;
                    break;
                }
                WalkStart::Dir { dir, .. } if path == dir => return Err(NotIndexed::Directory),
                WalkStart::Dir { dir, overrides, selection, .. } if path.starts_with(dir) => {
                    found.push((dir.clone(), overrides.clone(), selection.clone()));
                }
                _ => {}
            }
        }
        if verdict.is_err() {
            // Starts may overlap (a glob entry's directory holds another entry): the first
            // that reads the path decides.
            for (dir, overrides, selection) in found {
                named = included(overrides.as_ref(), path) || included(selection.as_ref(), path);
                verdict = self.descend(&dir, overrides, selection, path);
                if verdict.is_ok() {
                    break;
                }
            }
        }
        let size = verdict?;
        let language = walked_language(path, || named).map_err(NotIndexed::Skipped)?;
        let limit = self.options.max_file_size;
        if size > limit {
            return Err(NotIndexed::Skipped(SkipReason::TooLarge { size, limit }));
        }
        Ok(language)
    }

    /// Every file under the directory `dir` (inside a folder, not a folder itself) that the
    /// walk of the folders would read, with its language, in path order: `dir` must be one the
    /// walk descends into ([`NotIndexed::Directory`] from [`WalkRules::check`]), and below it
    /// the same listings decide (ignore files of `dir`, its ancestors and its subdirectories,
    /// the include/exclude globs, `threatspec.yaml`'s `paths:`, hidden names, links never
    /// followed, the size limit). For a directory that appeared at once (created, moved or
    /// copied in, a branch switch adding it), whose files may have come before any event.
    /// The project limits are the caller's: these are the files the walk would try.
    pub fn files_under(&mut self, dir: &Path) -> Vec<(PathBuf, Language)> {
        if self.check(dir) != Err(NotIndexed::Directory) {
            return Vec::new();
        }
        let mut found: BTreeMap<PathBuf, Language> = BTreeMap::new();
        let roots: Vec<PathBuf> =
            self.roots.iter().filter(|r| dir.starts_with(r) && dir != *r).cloned().collect();
        for root in roots {
            let Some(Ok(starts)) = self.starts.get(&root) else { continue };
            let starts = starts.clone();
            for start in starts {
                match start {
                    WalkStart::File(file) if file.starts_with(dir) => {
                        if let Ok(language) = self.check(&file) {
                            found.entry(file).or_insert(language);
                        }
                    }
                    WalkStart::File(_) => {}
                    WalkStart::Dir { dir: start, overrides, selection, .. } => {
                        // The walk from `start` reaches `dir` (or begins inside it).
                        let from = if start.starts_with(dir) {
                            start.clone()
                        } else if dir.starts_with(&start)
                            && self.descend(&start, overrides.clone(), selection.clone(), dir)
                                == Err(NotIndexed::Directory)
                        {
                            dir.to_path_buf()
                        } else {
                            continue;
                        };
                        self.collect_files(&start, &from, &overrides, &selection, &mut found);
                    }
                }
            }
        }
        found.into_iter().collect()
    }

    /// Adds to `found` the files the walk from `start` reads below `dir` (listed as the
    /// walker lists them, depth first).
    fn collect_files(
        &mut self,
        start: &Path,
        dir: &Path,
        overrides: &Option<ignore::overrides::Override>,
        selection: &Option<ignore::overrides::Override>,
        found: &mut BTreeMap<PathBuf, Language>,
    ) {
        let mut pending = vec![dir.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let entries = self
                .listed
                .entry((start.to_path_buf(), dir.clone()))
                .or_insert_with(|| {
                    list_dir(&dir, overrides.clone(), selection.clone(), self.ignore_rules.clone())
                })
                .clone();
            for (path, listed) in entries {
                match listed {
                    Listed::Dir => pending.push(path),
                    Listed::File(size) if size <= self.options.max_file_size => {
                        let named =
                            || included(overrides.as_ref(), &path) || included(selection.as_ref(), &path);
                        if let Ok(language) = walked_language(&path, named) {
                            found.entry(path).or_insert(language);
                        }
                    }
                    Listed::File(_) | Listed::Skipped(_) => {}
                }
            }
        }
    }

    /// Follows `path` down from the walk start `start`, one listed directory at a time; the
    /// file's size when the walker would read it.
    fn descend(
        &mut self,
        start: &Path,
        overrides: Option<ignore::overrides::Override>,
        selection: Option<ignore::overrides::Override>,
        path: &Path,
    ) -> Result<u64, NotIndexed> {
        let rel = path.strip_prefix(start).map_err(|_| NotIndexed::Outside)?;
        let mut dir = start.to_path_buf();
        let count = rel.components().count();
        for (i, component) in rel.components().enumerate() {
            let child = dir.join(component);
            let entries = self.listed.entry((start.to_path_buf(), dir.clone())).or_insert_with(|| {
                list_dir(&dir, overrides.clone(), selection.clone(), self.ignore_rules.clone())
            });
            let last = i + 1 == count;
            match entries.get(&child) {
                None if std::fs::symlink_metadata(&child).is_err() => return Err(NotIndexed::Missing),
                None => return Err(NotIndexed::Ignored),
                Some(Listed::Skipped(reason)) => return Err(NotIndexed::Skipped(reason.clone())),
                Some(Listed::File(size)) if last => return Ok(*size),
                Some(Listed::Dir) if !last => {}
                Some(Listed::File(_)) => return Err(NotIndexed::Missing),
                Some(Listed::Dir) => return Err(NotIndexed::Directory),
            }
            dir = child;
        }
        Err(NotIndexed::Missing)
    }
}

/// The entries of `dir` that the walker (ignore rules included) lets through, classified.
fn list_dir(
    dir: &Path,
    overrides: Option<ignore::overrides::Override>,
    selection: Option<ignore::overrides::Override>,
    rules: Arc<IgnoreRules>,
) -> std::collections::HashMap<PathBuf, Listed> {
    let mut builder = walker(dir, overrides, selection, rules);
    builder.max_depth(Some(1));
    builder
        .build()
        .filter_map(Result::ok)
        .filter(|entry| entry.depth() == 1)
        .filter_map(|entry| {
            let listed = match classify(&entry)? {
                EntryKind::File => Listed::File(entry.metadata().map_or(0, |m| m.len())),
                EntryKind::Dir => Listed::Dir,
                EntryKind::Skipped(reason) => Listed::Skipped(reason),
            };
            Some((entry.into_path(), listed))
        })
        .collect()
}

/// Files read in parallel between two checks of the project limits: a project's files in
/// about [`CHUNKS`] chunks of 256 to 2,048 files. Each chunk ends with the two cores meeting
/// (the merge of one chunk and the read of the next), one of them waiting a little, while the
/// last chunk is merged alone once it is read: 256-file chunks were 79 meetings on the
/// 20,000-file benchmark, 2-3% of its wall time; 16 chunks leave a sixteenth of the merging
/// alone at the end.
fn chunk_files(files: usize) -> usize {
    files.div_ceil(CHUNKS).clamp(256, 2048)
}
/// See [`chunk_files`].
const CHUNKS: usize = 16;
/// Most bytes (by the files' sizes) read in parallel between two checks of the project limits
/// (two chunks are held at once: one merged, one read).
const CHUNK_BYTES: u64 = 32 << 20;

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

/// Finishes writing the cache when it changed: this scan's entries, plus the old cache's
/// entries for files outside this scan's roots (another `check` of a sibling directory with the
/// same base keeps its entries). Entries of files under the roots that the scan did not see
/// (deleted, now ignored) are dropped. `stream`: the write started while the scan ran, which
/// has the blobs of this scan's entries so far ([`cache::Stream`]); otherwise it starts here.
/// The facts of newly parsed files are encoded by the writer's thread as it writes them
/// ([`cache::Blob::Facts`]), beside the caller's analysis (not by the thread pool, where the
/// analysis' parallel work queued behind the encoding). Returns the write (`None`: nothing
/// changed) and the entries.
fn save_cache(
    dir: PathBuf,
    base: &Path,
    roots: &[(PathBuf, bool)],
    mut entries: Vec<cache::Entry>,
    old: Option<Arc<cache::Loaded>>,
    mut changed: bool,
    stream: Option<cache::Stream>,
) -> (Option<std::thread::JoinHandle<Result<(), CacheError>>>, ScannedEntries) {
    // A write under way was started because the cache changes.
    changed |= stream.is_some();
    let own = entries.len();
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
    let all = Arc::new(entries);
    let scanned = ScannedEntries { all: all.clone(), own };
    if !changed {
        return (None, scanned);
    }
    let stream = stream.unwrap_or_else(|| cache::Stream::start(&dir, base, old));
    (Some(stream.finish(all)), scanned)
}

/// A file's `lstat` as the walk took it (after the caller's run started, before the scan read
/// the file): `check`'s result cache records it as the file's state instead of asking again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lstat {
    pub mode: u32,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
    pub dev: u64,
}

impl Lstat {
    /// The fields of `meta` (which must not have followed a link); `None` where the platform
    /// has no change time (a rewrite within the timestamp granularity could not be told).
    #[cfg(unix)]
    pub fn from_metadata(meta: &std::fs::Metadata) -> Option<Lstat> {
        use std::os::unix::fs::MetadataExt;
        let ns = |secs: i64, nanos: i64| secs.saturating_mul(1_000_000_000).saturating_add(nanos);
        Some(Lstat {
            mode: meta.mode(),
            size: meta.size(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
            dev: meta.dev(),
        })
    }

    #[cfg(not(unix))]
    pub fn from_metadata(_: &std::fs::Metadata) -> Option<Lstat> {
        None
    }
}

/// A file found by the walkers.
struct FoundFile {
    path: PathBuf,
    language: Language,
    /// From the walk's metadata (0 when it could not be read).
    size: u64,
    /// Size and mtime, when the metadata had them (needed to use the cache).
    stat: Option<Stat>,
    /// The walk's `lstat` of a walked file (`None` for a file named directly, whose metadata
    /// follows a link, or when the metadata could not be read).
    lstat: Option<Lstat>,
    /// Whether it is read through a symbolic link: only when named directly (a walked file
    /// replaced by a link after the walk saw it is refused).
    links: Links,
    /// The walk took no `lstat` of it (nothing compares one before the file is opened): its
    /// size, stat and `lstat` are taken from the file when it is opened (`load`).
    stat_at_read: bool,
    /// Its place in path order ([`Discovered::files`]), once the files are sorted.
    place: usize,
}

/// A file of a chunk: still to read (with its path relative to the base), or read (and left
/// for the next chunk, as a file before it was not read yet).
type Pending = Chunked<(String, FoundFile), LoadedFile>;

/// A file of a chunk ([`read_chunk`]): `F` to read, or what reading it gave.
enum Chunked<F, L> {
    Found(F),
    Loaded(L),
}

/// Reads a chunk's files in parallel with `load`; returns those read, in path order, up to
/// the first one left unread, and the rest (read or not), which start the next chunk.
///
/// `planned` is a file's size as known when the chunk was planned (0 for a file the walk took
/// no `lstat` of). `load` asks the claim it is given with the size of such a file once it is
/// opened, before reading it, and leaves it unread (returns it as it was) when the claim says
/// no: the chunk's files together then claim at most `max_bytes` (but for the chunk's first
/// file to read, which always may, so that every chunk reads one): what a chunk holds stays
/// bounded as when every size was known, and the files are still merged in path order.
fn read_chunk<F: Send, L: Send>(
    chunk: Vec<Chunked<F, L>>,
    max_bytes: u64,
    planned: impl Fn(&F) -> u64,
    load: impl Fn(F, &dyn Fn(u64) -> bool) -> Chunked<F, L> + Sync + Send,
) -> (Vec<L>, Vec<Chunked<F, L>>) {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    let known: u64 = chunk.iter().map(|c| if let Chunked::Found(f) = c { planned(f) } else { 0 }).sum();
    let claimed = AtomicU64::new(known);
    let first = chunk.iter().position(|c| matches!(c, Chunked::Found(_)));
    let mut read: Vec<Chunked<F, L>> = chunk
        .into_par_iter()
        .enumerate()
        .map(|(at, item)| match item {
            Chunked::Found(file) => {
                let claim = |size: u64| {
                    let before = claimed.fetch_add(size, Relaxed);
                    let fits = Some(at) == first || before.saturating_add(size) <= max_bytes;
                    if !fits {
                        claimed.fetch_sub(size, Relaxed);
                    }
                    fits
                };
                load(file, &claim)
            }
            loaded @ Chunked::Loaded(_) => loaded,
        })
        .collect();
    let cut = read.iter().position(|c| matches!(c, Chunked::Found(_))).unwrap_or(read.len());
    let rest = read.split_off(cut);
    // Everything before the cut was read. Sized once: collected from `filter_map`, the vector
    // grew (and was copied) eight times a chunk, 3.3M instructions on the sparse benchmark.
    let mut loaded = Vec::with_capacity(read.len());
    loaded.extend(read.into_iter().filter_map(|c| if let Chunked::Loaded(l) = c { Some(l) } else { None }));
    (loaded, rest)
}

/// Files found by the walkers and the skipped.
#[derive(Default)]
struct Found {
    /// Each walker's (and each file named directly) finds: handed over whole, not appended to
    /// one list (which grew and was copied again as each walker ended, 3 MB on 20,000 files).
    files: Mutex<Vec<Vec<FoundFile>>>,
    skipped: Mutex<Vec<(PathBuf, SkipReason)>>,
    ignore_rules: Arc<IgnoreRules>,
    /// Whether the walk takes an `lstat` of every file it finds (else `load` takes the opened
    /// file's: see `scan_from`).
    stat_files: bool,
}

impl Found {
    /// The finds of one walker thread (or of one file named directly), added to the shared
    /// lists when it is dropped ([`Finds`]).
    fn finds(&self) -> Finds<'_> {
        Finds { found: self, files: Vec::new(), skipped: Vec::new() }
    }

    /// A file named directly: read even if ignored, and through a link.
    fn add_direct_file(&self, path: &Path) {
        self.finds().consider(path, std::fs::metadata(path).ok(), Links::Follow, || true);
    }

    /// Files found and skipped so far.
    fn entries(&self) -> usize {
        lock(&self.files).iter().map(Vec::len).sum::<usize>() + lock(&self.skipped).len()
    }

    fn walk_dir(
        &self,
        dir: &Path,
        overrides: Option<ignore::overrides::Override>,
        selection: Option<ignore::overrides::Override>,
    ) {
        // A plain-text file is named when an include glob or a `paths:` glob selects it.
        let (include, selected) = (overrides.clone(), selection.clone());
        let (include, selected) = (&include, &selected);
        // Each walker thread keeps its finds until it ends (`Finds`): the crate drops a
        // thread's visitor when the thread ends, before `run` returns.
        walker(dir, overrides, selection, self.ignore_rules.clone()).build_parallel().run(|| {
            let mut finds = self.finds();
            Box::new(move |result| {
                match result {
                    Ok(entry) => match classify(&entry) {
                        Some(EntryKind::File) if !self.stat_files => finds.consider_unstated(&entry, || {
                            included(include.as_ref(), entry.path())
                                || included(selected.as_ref(), entry.path())
                        }),
                        Some(EntryKind::File) => {
                            finds.consider(entry.path(), entry.metadata().ok(), Links::Refuse, || {
                                included(include.as_ref(), entry.path())
                                    || included(selected.as_ref(), entry.path())
                            })
                        }
                        Some(EntryKind::Dir) | None => {}
                        Some(EntryKind::Skipped(reason)) => {
                            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                            finds.skip(entry.path().to_path_buf(), reason);
                            if is_dir {
                                return WalkState::Skip;
                            }
                        }
                    },
                    Err(err) => {
                        let path = error_path(&err).unwrap_or_else(|| dir.to_path_buf());
                        finds.skip(path, SkipReason::Unreadable(err.to_string()));
                    }
                }
                WalkState::Continue
            })
        });
    }
}

/// What one walker thread found, kept on that thread and added to [`Found`]'s lists once,
/// when the thread ends (dropped). Pushed under the lists' locks file by file, the two walker
/// threads contended for them: on the 20,000-file benchmark the walk waited on the lock ~80
/// times a run, and its two threads together kept one core busy. The order of the lists does
/// not matter: the scan sorts the files by path, and what the walks of several starts found
/// is added start after start, as before (the first found of a path named twice is kept).
struct Finds<'a> {
    found: &'a Found,
    files: Vec<FoundFile>,
    skipped: Vec<(PathBuf, SkipReason)>,
}

impl Finds<'_> {
    fn skip(&mut self, path: PathBuf, reason: SkipReason) {
        self.skipped.push((path, reason));
    }

    /// A file found by a walker or named directly (`named`: whether the configuration names
    /// it, asked only for kinds read only when named). `meta` is an `lstat` when `links` is
    /// [`Links::Refuse`] (a walked file), else it followed a link; `None` when it could not be
    /// taken.
    fn consider(
        &mut self,
        path: &Path,
        meta: Option<std::fs::Metadata>,
        links: Links,
        named: impl FnOnce() -> bool,
    ) {
        match walked_language(path, named) {
            Err(reason) => self.skip(path.to_path_buf(), reason),
            Ok(language) => self.files.push(FoundFile {
                path: path.to_path_buf(),
                language,
                size: meta.as_ref().map_or(0, |m| m.len()),
                stat: meta.as_ref().and_then(Stat::from_metadata),
                lstat: meta.as_ref().filter(|_| links == Links::Refuse).and_then(Lstat::from_metadata),
                links,
                stat_at_read: false,
                place: 0,
            }),
        }
    }

    /// A walked file the walk takes no `lstat` of ([`Found::stat_files`]): its directory
    /// entry's type said it is a regular file (the `d_type` of the listing; where a file
    /// system leaves that unknown, the standard library asks `lstat`), and the scan decides
    /// again from the file it opens (never through a link, never blocking).
    fn consider_unstated(&mut self, entry: &ignore::DirEntry, named: impl FnOnce() -> bool) {
        match walked_language(entry.path(), named) {
            Err(reason) => self.skip(entry.path().to_path_buf(), reason),
            Ok(language) => self.files.push(FoundFile {
                path: entry.path().to_path_buf(),
                language,
                size: 0,
                stat: None,
                lstat: None,
                links: Links::Refuse,
                stat_at_read: true,
                place: 0,
            }),
        }
    }
}

impl Drop for Finds<'_> {
    fn drop(&mut self) {
        if !self.files.is_empty() {
            lock(&self.found.files).push(std::mem::take(&mut self.files));
        }
        if !self.skipped.is_empty() {
            lock(&self.found.skipped).append(&mut self.skipped);
        }
    }
}

/// What to tell the user about `.txt` files that hold annotation-like text but were left out
/// because nothing names them (`include`: how the caller spells the include option), or `None`.
pub fn unnamed_annotation_like_note(skipped: &[(PathBuf, SkipReason)], include: &str) -> Option<String> {
    let paths: Vec<String> = skipped
        .iter()
        .filter(|(_, r)| *r == SkipReason::NotNamed { annotation_like: true })
        .map(|(p, _)| p.display().to_string())
        .collect();
    let shown = paths.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    let more = if paths.len() > 3 { ", ..." } else { "" };
    (!paths.is_empty()).then(|| {
        format!(
            "{} annotation-like text but not read ({shown}{more}): a .txt file is an annotation \
             document only when named (as a PATH, in threatspec.yaml paths or by {include})",
            if paths.len() == 1 {
                "1 plain-text file holds".to_string()
            } else {
                format!("{} plain-text files hold", paths.len())
            }
        )
    })
}

/// The language a file found by the walk (or named directly) is read as, or why it is
/// skipped: no known language, or plain text that the configuration does not name. `named` is
/// asked only for kinds read only when named, so a walk pays for no glob match on other files.
fn walked_language(path: &Path, named: impl FnOnce() -> bool) -> Result<Language, SkipReason> {
    match Language::from_path(path) {
        None => Err(SkipReason::UnknownLanguage),
        Some(language) if language.read_only_when_named() && !named() => {
            Err(SkipReason::NotNamed { annotation_like: false })
        }
        Some(language) => Ok(language),
    }
}

/// Whether an include glob (`--include`, the `include` setting) selects the file `path`.
fn included(overrides: Option<&ignore::overrides::Override>, path: &Path) -> bool {
    overrides.is_some_and(|o| o.matched(path, false).is_whitelist())
}

/// The walker of `dir`: ignore files honoured (also outside a git repository) by `rules`,
/// hidden names and links left to [`classify`], links never followed; with a `selection`,
/// only the files it matches (directories are still descended into).
fn walker(
    dir: &Path,
    overrides: Option<ignore::overrides::Override>,
    selection: Option<ignore::overrides::Override>,
    rules: Arc<IgnoreRules>,
) -> WalkBuilder {
    let mut builder = WalkBuilder::new(dir);
    builder.hidden(false).require_git(false).follow_links(false);
    // The crate's own ignore-file loading reads through links and without a limit: ours
    // reads by the bounded reader's rule and applies the same precedence.
    builder.parents(false).ignore(false).git_ignore(false).git_exclude(false).git_global(false);
    let decided_by_overrides = overrides.clone();
    builder.filter_entry(move |entry| {
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        if !is_dir && selection.as_ref().is_some_and(|s| !s.matched(entry.path(), false).is_whitelist()) {
            return false;
        }
        // A path an `--include`/`--exclude` glob matches is decided by it (the crate gives
        // overrides precedence over every ignore file).
        decided_by_overrides.as_ref().is_some_and(|o| !o.matched(entry.path(), is_dir).is_none())
            || !rules.is_ignored(entry.path(), is_dir)
    });
    if let Some(overrides) = overrides {
        builder.overrides(overrides);
    }
    builder
}

/// What the walk makes of an entry its ignore rules let through.
enum EntryKind {
    /// A regular file: read when its language is known.
    File,
    /// A directory to descend into.
    Dir,
    /// Not read, for this reason (a skipped directory is not descended into).
    Skipped(SkipReason),
}

/// The walk's rule for one entry: hidden names (but `.guardlink`), symbolic links and what is
/// neither a regular file nor a directory are skipped. `None`: no file type (nothing to do).
fn classify(entry: &ignore::DirEntry) -> Option<EntryKind> {
    let file_type = entry.file_type()?;
    Some(if entry.depth() > 0 && is_hidden_name(entry.file_name().as_encoded_bytes()) && !mcp_entry(entry) {
        EntryKind::Skipped(SkipReason::Hidden)
    } else if entry.depth() > 1 && !file_type.is_dir() && in_mcp_client_dir(entry) && !mcp_entry(entry) {
        // Inside an MCP client's hidden directory only its configuration is read.
        EntryKind::Skipped(SkipReason::Hidden)
    } else if file_type.is_symlink() {
        EntryKind::Skipped(SkipReason::Symlink)
    } else if file_type.is_file() {
        EntryKind::File
    } else if file_type.is_dir() {
        EntryKind::Dir
    } else {
        EntryKind::Skipped(SkipReason::NotRegular)
    })
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

/// A hidden entry the walk reads for the MCP surface ([`crate::syntax::mcp`]): an MCP client's
/// directory, or a client configuration (`.mcp.json`, `.vscode/mcp.json`, ...).
fn mcp_entry(entry: &ignore::DirEntry) -> bool {
    let name = entry.file_name().as_encoded_bytes();
    if entry.file_type().is_some_and(|t| t.is_dir()) {
        return crate::syntax::mcp::admits_hidden(name) && name != b".mcp.json";
    }
    entry.path().to_str().is_some_and(|p| crate::syntax::mcp::config_format(p).is_some())
}

/// Whether a file lies below a hidden directory (which the walk entered only as an MCP
/// client's directory: [`mcp_entry`]).
fn in_mcp_client_dir(entry: &ignore::DirEntry) -> bool {
    // Most paths hold no `/.` at all: one search for the `.`s (usually just the extension's)
    // answers for them (a substring search set up its searcher on every entry).
    let path = entry.path().as_os_str().as_encoded_bytes();
    if !memchr::memchr_iter(b'.', path).any(|at| at > 0 && matches!(path[at - 1], b'/' | b'\\')) {
        return false;
    }
    let parents = entry.path().components().rev().skip(1).take(entry.depth() - 1);
    parents.into_iter().any(|c| is_hidden_name(c.as_os_str().as_encoded_bytes()))
}

/// Names starting with `.` are hidden, except `.guardlink`.
fn is_hidden_name(name: &[u8]) -> bool {
    name.first() == Some(&b'.') && name != b".guardlink"
}

enum Outcome {
    Skipped(SkipReason),
    /// Scanned; `Some` when the file holds annotations or syntax errors (shared with its cache
    /// entry, which the cache writer encodes).
    Scanned(Option<Arc<FileFacts>>),
}

/// One file's outcome and its entry for the next cache.
struct FileLoad {
    outcome: Outcome,
    /// `None` when the file cannot be cached (no cache, too large, unreadable, no mtime, a
    /// path that is not UTF-8).
    entry: Option<cache::Entry>,
    from_cache: FromCache,
    /// Read with the line-comment fallback because parsing ran out of time.
    out_of_time: bool,
    /// The `lstat` taken from the opened file, with the file's place (see
    /// [`Scan::read_lstats`]).
    read_lstat: Option<(usize, Lstat)>,
}

impl FileLoad {
    /// A file's outcome with nothing for the cache (skipped, refused, or read without an
    /// entry).
    fn uncached(outcome: Outcome) -> FileLoad {
        FileLoad { outcome, entry: None, from_cache: FromCache::No, out_of_time: false, read_lstat: None }
    }
}

/// One file read by [`scan_from`]: absolute path, key and language, and what loading it gave.
type LoadedFile = (PathBuf, (FileId, Language), FileLoad);

/// What [`scan_from`] merged so far, in path order.
#[derive(Default)]
struct Merged {
    index: ProjectIndex,
    files_scanned: usize,
    scanned: Vec<(FileId, Language)>,
    /// Absolute paths.
    skipped: Vec<(PathBuf, SkipReason)>,
    entries: Vec<cache::Entry>,
    reused: usize,
    not_read: usize,
    changed: bool,
    annotations: usize,
    text: u64,
    read_without_tree: usize,
    limit_reached: bool,
    read_lstats: Vec<(usize, Lstat)>,
}

impl Merged {
    /// Merges one chunk's files, in order; the files after the one that takes the project
    /// past `limits` are skipped ([`SkipReason::ProjectLimit`]).
    fn add(&mut self, loaded: Vec<LoadedFile>, limits: &ProjectLimits) {
        // A chunk read while the limit was being reached: none of it was counted before.
        let counted = !self.limit_reached;
        for (abs, scanned_file, FileLoad { outcome, entry, from_cache, out_of_time, read_lstat }) in loaded {
            self.read_without_tree += usize::from(out_of_time && counted);
            self.read_lstats.extend(read_lstat);
            match from_cache {
                FromCache::No => self.changed |= entry.is_some(),
                FromCache::Verified => self.reused += 1,
                FromCache::Refreshed => {
                    self.reused += 1;
                    self.changed = true;
                }
                FromCache::Trusted => {
                    self.reused += 1;
                    self.not_read += 1;
                }
            }
            // A file past the limits keeps its entry: what it holds did not change.
            self.entries.extend(entry);
            match outcome {
                _ if self.limit_reached => self.skipped.push((abs, SkipReason::ProjectLimit)),
                Outcome::Skipped(reason) => self.skipped.push((abs, reason)),
                Outcome::Scanned(facts) => {
                    if let Some(facts) = facts {
                        self.annotations += facts.annotations().len();
                        self.text += facts.text.len() as u64;
                        if self.annotations > limits.annotations || self.text > limits.text {
                            self.limit_reached = true;
                            self.skipped.push((abs, SkipReason::ProjectLimit));
                            continue;
                        }
                        self.index.set_file(facts);
                    }
                    self.files_scanned += 1;
                    self.scanned.push(scanned_file);
                }
            }
        }
    }
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
    /// The project's tree-sitter time.
    parse_budget: &'a ParseBudget,
}

/// Loads one file; `None` when `claim` (asked with the size of a file the walk took no
/// `lstat` of, once it is opened, before it is read) says to leave it for later.
fn load(
    file: &FoundFile,
    rel: FileId,
    context: &LoadContext<'_>,
    claim: &dyn Fn(u64) -> bool,
) -> Option<FileLoad> {
    let options = context.options;
    let uncached = FileLoad::uncached;
    if file.size > options.max_file_size {
        return Some(uncached(Outcome::Skipped(SkipReason::TooLarge {
            size: file.size,
            limit: options.max_file_size,
        })));
    }
    // Without the walk's `lstat`, the file is opened first (by the same rule as the read:
    // regular, not blocking, within the limit) and the opened file's `fstat` stands in for it:
    // taken after the scan started and before the file is read, like the walk's.
    let (opened, stat) = match file.stat {
        None if file.stat_at_read => {
            match crate::read::open_found(&file.path, options.max_file_size, file.links) {
                Ok(opened) => {
                    let stat = Stat::from_metadata(opened.metadata());
                    (Some(opened), stat)
                }
                Err(refusal) => {
                    let reason = unopened(&file.path, refusal, options.max_file_size);
                    return Some(uncached(Outcome::Skipped(reason)));
                }
            }
        }
        stat => (None, stat),
    };
    let read_lstat = opened
        .as_ref()
        .filter(|_| file.links == Links::Refuse)
        .and_then(|opened| Lstat::from_metadata(opened.metadata()))
        .map(|lstat| (file.place, lstat));
    let key = file.path.to_str().filter(|_| context.cache_on).zip(stat);
    let old = key.and_then(|(path, _)| context.cache?.get(path));
    if let (Some(old), Some((_, stat))) = (old, key)
        && old.trusted_by_stat(stat)
        && let Some(outcome) = outcome_without_text(&old.outcome)
    {
        let entry = cache::Entry { record: old.clone(), parsed: None };
        let from_cache = FromCache::Trusted;
        return Some(FileLoad { outcome, entry: Some(entry), from_cache, out_of_time: false, read_lstat });
    }
    if let Some(opened) = &opened
        && !claim(opened.metadata().len())
    {
        return None;
    }
    // Most files are read only to be hashed and turned away by the prefilter: one buffer per
    // thread holds them (a new one per file cost a page fault per 4 KiB read); a candidate's
    // text is copied out of it.
    thread_local! {
        static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let mut scratch = SCRATCH.take();
    let read = match opened {
        Some(opened) => opened.read(options.max_file_size, &mut scratch),
        None => crate::read::read_found(&file.path, options.max_file_size, file.links, &mut scratch),
    };
    let loaded = match read {
        Ok(len) => load_bytes(&scratch[..len], file, rel, key.zip(Some(old)), context),
        Err(refusal) => uncached(Outcome::Skipped(refusal.into())),
    };
    // A buffer grown for a large file is not kept.
    if scratch.len() <= KEPT_SCRATCH {
        SCRATCH.set(scratch);
    }
    Some(FileLoad { read_lstat, ..loaded })
}

/// Why a walked file the walk took no `lstat` of was not read, when opening it was refused:
/// the refusal, but a file larger than `limit` that cannot be opened (no permission) is too
/// large, as the walk's `lstat` said of it before it was opened.
fn unopened(path: &Path, refusal: Refusal, limit: u64) -> SkipReason {
    if let Refusal::Unreadable { missing: false, .. } = refusal
        && let Ok(meta) = std::fs::symlink_metadata(path)
        && meta.is_file()
        && meta.len() > limit
    {
        return SkipReason::TooLarge { size: meta.len(), limit };
    }
    refusal.into()
}

/// The largest read buffer a thread keeps for the next file ([`load`]).
const KEPT_SCRATCH: usize = 1 << 20;

/// [`load`] of a file read: its `bytes`, and its cache key (path and stat) with its old
/// entry when the cache is on.
fn load_bytes(
    bytes: &[u8],
    file: &FoundFile,
    rel: FileId,
    key: Option<((&str, Stat), Option<&cache::Record>)>,
    context: &LoadContext<'_>,
) -> FileLoad {
    let uncached = FileLoad::uncached;
    let Some(((path, stat), old)) = key else {
        let sniffed = sniff(bytes, rel.as_str(), file.language);
        let (outcome, out_of_time) = parse(bytes, sniffed, file, rel, context, None);
        return FileLoad { out_of_time, ..uncached(outcome) };
    };
    let record = |hash, outcome| cache::Record {
        path: path.to_string(),
        size: stat.size,
        mtime_ns: stat.mtime_ns,
        verified_ns: context.now_ns,
        hash,
        outcome,
    };
    // Same bytes, same outcome: a refreshed entry (new mtime, verified now) is trusted by stat
    // on later runs, which then need not read the file.
    let from_cache = |verified: &cache::Record, old: &cache::Record| {
        if verified == old { FromCache::Verified } else { FromCache::Refreshed }
    };
    let old = old.filter(|old| old.size == stat.size);
    // Only an entry whose outcome took parsing has a hash to compare the bytes with.
    let old_hashed = old.and_then(|old| Some((old, old.hash?)));
    let hash = old_hashed.map(|_| cache::content_hash(bytes));
    if let Some((old, old_hash)) = old_hashed
        && hash == Some(old_hash)
        && let Some((outcome, parsed)) = reuse(old, bytes, file, &rel, context, old_hash)
    {
        // A parsed file is read and its hash compared on every run: its entry's size, mtime
        // and verification time vouch for nothing, so the entry is kept as it is and a file
        // touched without a change (a checkout, `touch`) rewrites no cache. An entry trusted
        // by stat alone is refreshed so later runs need not read it.
        let verified = if parsed.is_some() { old.clone() } else { record(hash, old.outcome.clone()) };
        let from_cache = from_cache(&verified, old);
        let entry = cache::Entry { record: verified, parsed };
        return FileLoad { outcome, entry: Some(entry), from_cache, out_of_time: false, read_lstat: None };
    }
    // Turned away by the prefilters (most files): stored without a hash, decided again from
    // the bytes when the stat does not vouch for them.
    let sniffed = sniff(bytes, rel.as_str(), file.language);
    if let Sniff::Away(stored) = sniffed {
        let outcome = outcome_without_text(&stored).expect("a prefilter's outcome needs no text");
        let verified = record(None, stored);
        let from_cache = match old {
            Some(old) if old.hash.is_none() && old.outcome == verified.outcome => from_cache(&verified, old),
            _ => FromCache::No,
        };
        return FileLoad {
            outcome,
            entry: Some(cache::Entry { record: verified, parsed: None }),
            from_cache,
            out_of_time: false,
            read_lstat: None,
        };
    }
    let hash = hash.unwrap_or_else(|| cache::content_hash(bytes));
    let trees = crate::syntax::comments::trees_built();
    let (outcome, out_of_time) = parse(bytes, sniffed, file, rel, context, Some(hash));
    let took_a_tree = crate::syntax::comments::trees_built() != trees;
    // The same bytes as an entry without a parse result (`ParseAgain`) was made of: a file read
    // twice unchanged is likely to be read again, so its parse result is stored now and decoded
    // from then on (cheaper than parsing when nothing else is rewritten: the language server's
    // warm start, `dfd`, `report`).
    let read_again = old_hashed
        .is_some_and(|(old, old_hash)| old_hash == hash && old.outcome == cache::Outcome::ParseAgain);
    let stored = match &outcome {
        // What the fallback read depends on time: not kept, so the next run parses (and says so).
        _ if out_of_time => None,
        // Encoded by the cache writer (see `cache::Blob::Facts`).
        Outcome::Scanned(Some(facts)) if took_a_tree || read_again => {
            Some((cache::Outcome::Parsed { start: 0, len: 0 }, Some(cache::Blob::Facts(facts.clone()))))
        }
        // Found without a syntax tree, read for the first time: encoding every such file's
        // parse result cost a first run (CI's, on a fresh machine) ~5%.
        Outcome::Scanned(Some(_)) => Some((cache::Outcome::ParseAgain, None)),
        Outcome::Scanned(None) => Some((cache::Outcome::NoAnnotations, None)),
        Outcome::Skipped(SkipReason::Binary) => Some((cache::Outcome::Binary, None)),
        Outcome::Skipped(SkipReason::InvalidUtf8 { offset }) => {
            Some((cache::Outcome::InvalidUtf8 { offset: *offset as u64 }, None))
        }
        _ => None,
    };
    let entry = stored.map(|(stored, parsed)| cache::Entry { record: record(Some(hash), stored), parsed });
    let from_cache = if read_again && entry.is_some() { FromCache::Refreshed } else { FromCache::No };
    FileLoad { outcome, entry, from_cache, out_of_time, read_lstat: None }
}

/// The outcome a stored entry gives without the file's text; `None` when the text is needed.
fn outcome_without_text(stored: &cache::Outcome) -> Option<Outcome> {
    Some(match stored {
        cache::Outcome::NoAnnotations => Outcome::Scanned(None),
        cache::Outcome::Binary => Outcome::Skipped(SkipReason::Binary),
        cache::Outcome::InvalidUtf8 { offset } => {
            Outcome::Skipped(SkipReason::InvalidUtf8 { offset: *offset as usize })
        }
        cache::Outcome::Parsed { .. } | cache::Outcome::ParseAgain => return None,
    })
}

/// The stored outcome of a file whose bytes hash as recorded; `None` when it cannot be used
/// (then the file is parsed as if there were no entry).
fn reuse(
    old: &cache::Record,
    bytes: &[u8],
    file: &FoundFile,
    rel: &FileId,
    context: &LoadContext<'_>,
    hash: u128,
) -> Option<(Outcome, Option<cache::Blob>)> {
    if let Some(outcome) = outcome_without_text(&old.outcome) {
        return Some((outcome, None));
    }
    let stored = context.cache.and_then(|c| c.blob(old)).and_then(cache::decode_facts)?;
    // Bytes that hash as when they parsed are valid UTF-8; if not, the file is skipped as
    // usual, and the entry (parsed, without a result) is not stored again.
    let text = match as_text(bytes) {
        Ok(text) => text,
        Err(reason) => return Some((Outcome::Skipped(reason), None)),
    };
    // Facts that do not fit the text: `None`, parsed again.
    let text = kept_text(text, bytes, &stored.parsed, file, context, Some(hash));
    let facts = FileFacts::from_stored(rel.clone(), file.language, text, stored)?;
    Some((Outcome::Scanned(Some(Arc::new(facts))), Some(cache::Blob::Old)))
}

/// Parses a file's bytes within the project's parse budget; `true` when parsing ran out of
/// time. `sniffed`: what [`sniff`] made of the bytes; `hash`: their [`cache::content_hash`],
/// when known.
fn parse(
    bytes: &[u8],
    sniffed: Sniff,
    file: &FoundFile,
    rel: FileId,
    context: &LoadContext<'_>,
    hash: Option<u128>,
) -> (Outcome, bool) {
    let language = file.language;
    let (text, annotations) = match decode_sniffed(bytes, sniffed) {
        Err(reason) => return (Outcome::Skipped(reason), false),
        Ok(None) => return (Outcome::Scanned(None), false),
        Ok(Some(decoded)) => decoded,
    };
    let (parsed, out_of_time) = crate::syntax::parse_source_prefiltered(
        rel.as_str(),
        language,
        text,
        Some(context.parse_budget),
        annotations,
    );
    if parsed.annotations.is_empty() && parsed.errors.is_empty() && parsed.mcp().is_empty() {
        return (Outcome::Scanned(None), out_of_time);
    }
    let text = kept_text(text, bytes, &parsed, file, context, hash);
    let facts = FileFacts::from_parsed_text(rel, language, text, parsed);
    (Outcome::Scanned(Some(Arc::new(facts))), out_of_time)
}

/// What the index keeps of a scanned file's text: its annotated lines, read again on demand
/// ([`crate::model::file_text`]), unless [`WalkOptions::whole_texts`].
fn kept_text(
    text: &str,
    bytes: &[u8],
    parsed: &crate::syntax::ParsedFile,
    file: &FoundFile,
    context: &LoadContext<'_>,
    hash: Option<u128>,
) -> FileText {
    if context.options.whole_texts {
        return FileText::whole(Arc::from(text));
    }
    FileFacts::kept_text(text, parsed, || {
        Box::new(Rescan {
            path: file.path.clone().into_boxed_path(),
            limit: context.options.max_file_size,
            links: file.links,
            hash: hash.unwrap_or_else(|| cache::content_hash(bytes)),
        })
    })
}

/// A scanned file, read again by the walk's rule for the readers that need more than its
/// kept lines; refused unless its bytes still hash as they did.
struct Rescan {
    path: Box<Path>,
    limit: u64,
    links: Links,
    hash: u128,
}

impl Reread for Rescan {
    fn reread(&self) -> Option<String> {
        let mut bytes = Vec::new();
        let len = crate::read::read_found(&self.path, self.limit, self.links, &mut bytes).ok()?;
        bytes.truncate(len);
        if cache::content_hash(&bytes) != self.hash {
            return None;
        }
        let text = String::from_utf8(bytes).ok()?;
        Some(match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        })
    }

    fn is_scanned(&self, text: &str) -> bool {
        cache::content_hash(text.as_bytes()) == self.hash
            || cache::content_hash(format!("\u{feff}{text}").as_bytes()) == self.hash
    }
}

/// Reads and parses one file by the walk's rules (size limit, regular files only, binary and
/// UTF-8 checks, prefilter, BOM): `Ok(None)` when it holds neither annotations nor syntax
/// errors. The language server reads single files with it too (after [`WalkRules::check`]),
/// so both apply one rule; a last component that became a symbolic link is not followed.
pub fn read_file_facts(
    abs: &Path,
    key: FileId,
    language: Language,
    max_file_size: u64,
) -> Result<Option<FileFacts>, SkipReason> {
    // Never through a link: a file swapped for one after it was checked is not read.
    let bytes = read_bounded(abs, max_file_size, Links::Refuse).map_err(SkipReason::from)?;
    let sniffed = sniff(&bytes, key.as_str(), language);
    let Some((text, annotations)) = decode_sniffed(&bytes, sniffed)? else { return Ok(None) };
    let (parsed, _) =
        crate::syntax::parse_source_prefiltered(key.as_str(), language, text, None, annotations);
    let facts = FileFacts::from_parsed(key, language, Arc::from(text), parsed);
    Ok((!facts.is_empty()).then_some(facts))
}

/// Reads a file that a `.gal` sidecar's `@source` names (see [`crate::model::anchors`]), by
/// the walk's rules: inside `root` (links resolved), a regular file within the size limit, not
/// through a link, UTF-8 text. What is refused says why, for the `stale-anchor` diagnostic.
// @mitigates ThreatAnalyzer.Walk against #path-traversal using #confined-config
pub fn read_anchor_text(root: &Path, path: &Path, max_file_size: u64) -> AnchorText {
    let path = normalize(path);
    if let Err(why) = confine_to_project(root, &path) {
        return AnchorText::Unreadable(format!("it {why}"));
    }
    let bytes = match read_bounded(&path, max_file_size, Links::Refuse) {
        Ok(bytes) => bytes,
        Err(why) if why.is_missing() => return AnchorText::Unreadable("no such file".into()),
        Err(why) => return AnchorText::Unreadable(SkipReason::from(why).to_string()),
    };
    if memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF_LEN)]).is_some() {
        return AnchorText::Unreadable(SkipReason::Binary.to_string());
    }
    match into_text(&bytes) {
        Ok(text) => AnchorText::read(text),
        Err(why) => AnchorText::Unreadable(why.to_string()),
    }
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
/// rule is [`crate::read`]'s; a source file may be a link only when named directly (`links`).
pub fn read_source(path: &Path, limit: u64, links: Links) -> Result<Vec<u8>, SkipReason> {
    read_bounded(path, limit, links).map_err(SkipReason::from)
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

/// A file's bytes to parseable text: `Ok(None)` when the prefilters find neither an annotation
/// literal nor an MCP surface (nothing to parse, not an error), an error reason for files that
/// must be skipped. A UTF-8 byte order mark is removed.
#[cfg(test)]
fn decode<'b>(bytes: &'b [u8], path: &str, language: Language) -> Result<Option<&'b str>, SkipReason> {
    decode_sniffed(bytes, sniff(bytes, path, language)).map(|decoded| decoded.map(|(text, _)| text))
}

/// [`decode`] by what [`sniff`] made of `bytes`, with its verdict on annotation literals.
fn decode_sniffed(bytes: &[u8], sniffed: Sniff) -> Result<Option<(&str, bool)>, SkipReason> {
    match sniffed {
        Sniff::Away(cache::Outcome::Binary) => Err(SkipReason::Binary),
        Sniff::Away(_) => Ok(None),
        Sniff::Parse { annotations } => as_text(bytes).map(|text| Some((text, annotations))),
    }
}

/// What the prefilters make of a file's bytes ([`turned_away`]).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Sniff {
    /// Turned away, with the outcome to store.
    Away(cache::Outcome),
    /// To be decoded and parsed. `annotations`: the bytes may hold an annotation literal
    /// ([`may_contain_annotation`]; `false` when only an MCP surface brings the file in),
    /// handed to the parser so that it does not search them again. Taken of the bytes before
    /// a byte order mark is stripped, it is the text's verdict too: the prefilter looks at each
    /// `@` and `-` and the bytes after them, the byte before a `@` only for being a letter,
    /// digit or `_`, and a mark's bytes (EF BB BF) are none of these.
    Parse { annotations: bool },
}

/// [`turned_away`], or the prefilter's verdict on a file to parse.
fn sniff(bytes: &[u8], path: &str, language: Language) -> Sniff {
    if memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF_LEN)]).is_some() {
        return Sniff::Away(cache::Outcome::Binary);
    }
    let annotations = may_contain_annotation(bytes);
    if !annotations && !crate::syntax::may_hold_mcp(path, language, bytes) {
        return Sniff::Away(cache::Outcome::NoAnnotations);
    }
    Sniff::Parse { annotations }
}

/// What [`decode`]'s prefilters decide from a file's bytes alone: `Binary` (a NUL byte in the
/// first [`BINARY_SNIFF_LEN`]), `NoAnnotations` (neither an annotation literal nor an MCP
/// surface: nothing to parse), `None` for a file to decode and parse. Deciding it again costs
/// what hashing the bytes would, so the index cache stores such a file's outcome without a
/// content hash, and `check`'s result cache vouches for it by this verdict ([`crate::cache`]).
/// `path` counts only where an MCP client's configuration file is named (a file of such a name
/// is never turned away).
pub(crate) fn turned_away(bytes: &[u8], path: &str, language: Language) -> Option<cache::Outcome> {
    match sniff(bytes, path, language) {
        Sniff::Away(outcome) => Some(outcome),
        Sniff::Parse { .. } => None,
    }
}

/// Validated UTF-8 without a byte order mark.
fn as_text(bytes: &[u8]) -> Result<&str, SkipReason> {
    let text =
        std::str::from_utf8(bytes).map_err(|err| SkipReason::InvalidUtf8 { offset: err.valid_up_to() })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// [`as_text`], copied.
fn into_text(bytes: &[u8]) -> Result<Arc<str>, SkipReason> {
    as_text(bytes).map(Arc::from)
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
    let config_err = |message: String| WalkError::Config { path: path.to_path_buf(), message };
    match read_bounded(path, crate::limits::MAX_CONFIG_FILE_SIZE, Links::Refuse) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|_| config_err("not valid UTF-8".into()))?;
            parse_threatspec_config(&text).map_err(config_err)
        }
        Err(why) => Err(config_err(format!("not read: {why}"))),
    }
}

/// The repositories a scan's qualified tags (`#repo.id`) can name: each directory given (a file
/// given counts as its directory), by [`repository_names`], rooted where its files' keys start.
fn repositories_of(base: &Path, roots: &[(PathBuf, bool)], absolute: bool) -> Vec<Repository> {
    let mut out = Vec::new();
    for (root, is_dir) in roots {
        let dir = if *is_dir { root.as_path() } else { root.parent().unwrap_or(root) };
        let key = if absolute {
            dir.to_string_lossy().into_owned()
        } else {
            dir.strip_prefix(base).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()
        };
        for name in repository_names(dir) {
            let repo = Repository { name, root: key.clone() };
            if !out.contains(&repo) {
                out.push(repo);
            }
        }
    }
    out
}

/// The names by which qualified tags (`#name.id`) refer to the repository in `dir`: the
/// directory's own name, and its configured project name ([`project_name`]: `threatspec.yaml`'s
/// `project: name:`, else `.guardlink/config.json`'s `project`) when that is a tag segment too
/// (letters, digits, `_`, `-`).
pub fn repository_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        dir.file_name().map(|n| n.to_string_lossy().into_owned()).into_iter().collect();
    if let Some(project) = project_name(dir).filter(|n| crate::syntax::parser::is_id(n))
        && !names.contains(&project)
    {
        names.push(project);
    }
    names
}

/// The project's name for report titles: `threatspec.yaml`'s `project: name:`, else
/// `.guardlink/config.json`'s `project`, when `dir` holds one that says (read by the same rule
/// as for the walk: never through a link).
pub fn project_name(dir: &Path) -> Option<String> {
    let read = |name: &str| String::from_utf8(read_config_bytes(dir, name).ok()?).ok();
    let threatspec = read(THREATSPEC_CONFIG).and_then(|t| crate::config::parse_threatspec(&t).ok()?.name);
    threatspec
        .or_else(|| read(GUARDLINK_CONFIG).and_then(|t| crate::config::parse_guardlink(&t).ok()?.project))
}

/// Parses the text of a `threatspec.yaml` (see [`read_threatspec_config`]).
pub fn parse_threatspec_config(text: &str) -> Result<Vec<ConfigPath>, String> {
    let config = crate::config::parse_threatspec(text).map_err(|e| e.message)?;
    Ok(config.paths.into_iter().map(|p| ConfigPath { path: p.path.value, ignore: p.ignore }).collect())
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
        let text = decode(b"\xef\xbb\xbf# @audit App\n", "a.py", Language::Python).unwrap();
        assert_eq!(text, Some("# @audit App\n"));
        assert_eq!(decode(b"no annotation here \xff", "a.py", Language::Python), Ok(None));
        assert_eq!(
            decode(b"# @audit \xffApp", "a.py", Language::Python),
            Err(SkipReason::InvalidUtf8 { offset: 9 })
        );
        assert_eq!(decode(b"@audit\0", "a.py", Language::Python), Err(SkipReason::Binary));
    }

    /// The walk takes the prefilter's verdict of a file's bytes and hands it to the parser for
    /// the text without its byte order mark ([`Sniff::Parse`]): the mark changes no verdict.
    #[test]
    fn a_byte_order_mark_changes_no_prefilter_verdict() {
        let texts = [
            "@audit App",
            "@AUDIT App",
            "@migitates x",
            "@mitgates,",
            "x-threatspec: y",
            "X-ThreatSpec",
            "a@audit",
            "_@mitigates x",
            "@",
            "@x",
            "-",
            "x-",
            "plain text",
            "",
        ];
        for text in texts {
            let marked = format!("\u{feff}{text}");
            let verdict = may_contain_annotation(text.as_bytes());
            assert_eq!(may_contain_annotation(marked.as_bytes()), verdict, "{text:?}");
            let expected = match verdict {
                true => Sniff::Parse { annotations: true },
                false => Sniff::Away(cache::Outcome::NoAnnotations),
            };
            assert_eq!(sniff(marked.as_bytes(), "a.py", Language::Python), expected, "{text:?}");
        }
    }

    /// `check` keeps a scanned file's annotated lines; the rest is read again only while the
    /// file holds the bytes that were scanned (with or without the cache, byte order mark
    /// and all), and blanks say what changed.
    #[test]
    fn a_kept_text_is_read_again_only_unchanged() {
        let code = "x = 1\n".repeat(40);
        let text = format!("\u{feff}{code}# @threat Spoofing\n{code}");
        for cache in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let cache_dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("a.py"), &text).unwrap();
            let options = WalkOptions {
                cache_dir: cache.then(|| cache_dir.path().to_path_buf()),
                ..WalkOptions::default()
            };
            let scan = || {
                let mut scan = scan_from(dir.path(), &[dir.path().to_path_buf()], &options).unwrap();
                scan.finish_cache();
                scan
            };
            // Unchanged (with the cache, the second time from the stored facts).
            for scan in [scan(), scan()] {
                let facts = scan.index.files().next().unwrap();
                assert!(facts.text.is_partial(), "{:?}", facts.text);
                assert_eq!(facts.text.line_text(40), "# @threat Spoofing");
                assert_eq!(facts.text(), text.strip_prefix('\u{feff}').unwrap());
                assert!(!facts.text.is_stale());
            }
            // Changed since the scan: the code lines are blank, the annotation is where it was.
            let scan = scan();
            std::fs::write(dir.path().join("a.py"), text.replace('1', "2")).unwrap();
            let facts = scan.index.files().next().unwrap();
            assert!(facts.text.line_text(0).trim().is_empty());
            assert_eq!(facts.text.line_text(40), "# @threat Spoofing");
            assert_eq!(facts.text.line_of(facts.annotations()[0].range.start()), 40);
            assert!(facts.text.is_stale());
            assert_eq!(scan.index.stale_files().count(), 1);
        }
    }

    #[test]
    fn read_source_refuses_what_changed_under_it() {
        let dir = std::env::temp_dir().join(format!("ta-read-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.py");
        std::fs::write(&file, vec![b' '; 65]).unwrap();
        // Grown past the limit since the walk measured it.
        assert_eq!(read_source(&file, 64, Links::Refuse), Err(SkipReason::TooLarge { size: 65, limit: 64 }));
        assert_eq!(read_source(&file, 65, Links::Refuse).map(|b| b.len()), Ok(65));
        // Deleted, or replaced by a directory.
        std::fs::remove_file(&file).unwrap();
        assert!(matches!(read_source(&file, 64, Links::Refuse), Err(SkipReason::Unreadable(_))));
        std::fs::create_dir(&file).unwrap();
        assert!(matches!(
            read_source(&file, 64, Links::Refuse),
            Err(SkipReason::NotRegular | SkipReason::Unreadable(_))
        ));
        std::fs::remove_dir(&file).unwrap();
        // Replaced by a link: refused unless the file was named directly.
        let target = dir.join("target.py");
        std::fs::write(&target, "x").unwrap();
        std::os::unix::fs::symlink(&target, &file).unwrap();
        assert_eq!(read_source(&file, 64, Links::Refuse), Err(SkipReason::Symlink));
        assert_eq!(read_source(&file, 64, Links::Follow), Ok(b"x".to_vec()));
        std::fs::remove_file(&file).unwrap();
        // Replaced by a named pipe with no writer: refused at once instead of blocking.
        #[cfg(unix)]
        if std::process::Command::new("mkfifo").arg(&file).status().is_ok_and(|s| s.success()) {
            assert_eq!(read_source(&file, 64, Links::Refuse), Err(SkipReason::NotRegular));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A chunk of files whose sizes were not known when it was planned reads no more than its
    /// bytes (but its first file), leaves the rest for the next chunk, and over the chunks
    /// every file is read once and comes back in path order.
    #[test]
    fn a_chunk_of_unknown_sizes_reads_no_more_than_its_bytes() {
        let sizes = [5u64, 30, 10, 40, 1, 1, 100, 2, 2, 2];
        let mut pending: Vec<Chunked<(usize, u64), usize>> =
            sizes.iter().copied().enumerate().map(Chunked::Found).collect();
        let (mut merged, mut chunks, reads) = (Vec::new(), 0, std::sync::atomic::AtomicUsize::new(0));
        while !pending.is_empty() {
            chunks += 1;
            let first = pending
                .iter()
                .find_map(|c| if let Chunked::Found((_, size)) = c { Some(*size) } else { None });
            let read = Mutex::new(0u64);
            let (loaded, rest) = read_chunk(
                pending,
                50,
                |_| 0,
                |(place, size), claim| {
                    if claim(size) {
                        *read.lock().unwrap() += size;
                        reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        Chunked::Loaded(place)
                    } else {
                        Chunked::Found((place, size))
                    }
                },
            );
            let read = read.into_inner().unwrap();
            assert!(read <= 50 + first.unwrap_or(0), "chunk {chunks} read {read} bytes");
            merged.extend(loaded);
            pending = rest;
        }
        assert_eq!(merged, (0..sizes.len()).collect::<Vec<_>>());
        assert_eq!(reads.into_inner(), sizes.len(), "each file is read once");
        assert!(chunks > 1, "{chunks}");
    }

    #[test]
    fn hidden_names_except_guardlink() {
        assert!(is_hidden_name(b".git"));
        assert!(is_hidden_name(b".hidden.py"));
        assert!(!is_hidden_name(b".guardlink"));
        assert!(!is_hidden_name(b"src"));
    }

    #[test]
    fn project_names() {
        let dir = std::env::temp_dir().join(format!("ta-project-name-{}", std::process::id()));
        std::fs::create_dir_all(dir.join(".guardlink")).unwrap();
        assert_eq!(project_name(&dir), None);
        std::fs::write(dir.join(GUARDLINK_CONFIG), "{\"project\": \"Gl\"}").unwrap();
        assert_eq!(project_name(&dir).as_deref(), Some("Gl"));
        std::fs::write(dir.join(THREATSPEC_CONFIG), "project:\n  name: \" Shop \"\npaths: [src]\n").unwrap();
        assert_eq!(project_name(&dir).as_deref(), Some("Shop"));
        std::fs::remove_file(dir.join(GUARDLINK_CONFIG)).unwrap();
        std::fs::write(dir.join(THREATSPEC_CONFIG), "paths: [src]\n").unwrap();
        assert_eq!(project_name(&dir), None);
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
        assert_eq!(
            parse_threatspec_config("").unwrap(),
            vec![ConfigPath { path: ".".into(), ignore: vec![] }]
        );
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

    /// A tree with every kind of path the walk leaves out, plus files it reads.
    #[cfg(unix)]
    fn rules_fixture() -> (tempfile::TempDir, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let d = dir.path();
        let put = |rel: &str, text: &str| {
            let p = d.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        let annotated = "# @asset A\n";
        for rel in ["a.py", "src/b.py", "build/c.py", "src/gen/d.py", "src/e.py"] {
            put(rel, annotated);
        }
        put(".guardlink/defs.gal", "@asset A\n");
        put(".hidden/f.py", annotated);
        put("g.unknown", annotated);
        put("notes.txt", annotated);
        put("src/notes.txt", annotated);
        put("big.py", &format!("{annotated}{}", "#\n".repeat(100)));
        put(".gitignore", "build/\n/src/gen\n");
        put("src/.ignore", "e.py\n");
        std::fs::write(outside.path().join("o.py"), annotated).unwrap();
        std::os::unix::fs::symlink(outside.path(), d.join("linked")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("o.py"), d.join("link.py")).unwrap();
        (dir, outside)
    }

    #[cfg(unix)]
    #[test]
    fn walk_rules_refuse_what_the_walk_leaves_out() {
        let (dir, outside) = rules_fixture();
        let d = dir.path();
        let options =
            WalkOptions { max_file_size: 100, exclude: vec!["excluded.py".into()], ..WalkOptions::default() };
        std::fs::write(d.join("excluded.py"), "# @asset A\n").unwrap();
        let mut rules = WalkRules::new(&[d.to_path_buf()], &options);
        let mut check = |rel: &str| rules.check(&d.join(rel));
        assert_eq!(check("a.py"), Ok(Language::Python));
        assert_eq!(check("src/b.py"), Ok(Language::Python));
        assert!(check(".guardlink/defs.gal").is_ok());
        assert_eq!(check("build/c.py"), Err(NotIndexed::Ignored));
        assert_eq!(check("src/gen/d.py"), Err(NotIndexed::Ignored));
        assert_eq!(check("src/e.py"), Err(NotIndexed::Ignored));
        assert_eq!(check("excluded.py"), Err(NotIndexed::Ignored));
        assert_eq!(check(".hidden/f.py"), Err(NotIndexed::Skipped(SkipReason::Hidden)));
        assert_eq!(check("g.unknown"), Err(NotIndexed::Skipped(SkipReason::UnknownLanguage)));
        assert_eq!(
            check("notes.txt"),
            Err(NotIndexed::Skipped(SkipReason::NotNamed { annotation_like: false }))
        );
        assert_eq!(check("big.py"), Err(NotIndexed::Skipped(SkipReason::TooLarge { size: 211, limit: 100 })));
        assert_eq!(check("linked/o.py"), Err(NotIndexed::Skipped(SkipReason::Symlink)));
        assert_eq!(check("link.py"), Err(NotIndexed::Skipped(SkipReason::Symlink)));
        assert_eq!(check("missing.py"), Err(NotIndexed::Missing));
        assert_eq!(check("src"), Err(NotIndexed::Directory));
        assert_eq!(check("src/../a.py"), Err(NotIndexed::Outside));
        assert_eq!(rules.check(&outside.path().join("o.py")), Err(NotIndexed::Outside));
        assert_eq!(rules.check(Path::new("a.py")), Err(NotIndexed::Outside));
    }

    /// A walk over many directories (its threads each keep what they find until they end:
    /// `Finds`) reports every file once: each read or skipped, none lost, none twice; and a
    /// PATH named twice is walked once.
    #[test]
    fn a_wide_walk_finds_every_file_once() {
        let dir = tempfile::tempdir().unwrap();
        for d in 0..40 {
            let sub = dir.path().join(format!("d{d:02}"));
            std::fs::create_dir(&sub).unwrap();
            for f in 0..5 {
                std::fs::write(sub.join(format!("a{f}.py")), format!("# @asset A{d}x{f}\n")).unwrap();
            }
            for f in 0..3 {
                std::fs::write(sub.join(format!("b{f}.c")), "int x;\n").unwrap();
            }
            for f in 0..2 {
                std::fs::write(sub.join(format!("c{f}.unknownext")), "x\n").unwrap();
            }
        }
        let d = dir.path().to_path_buf();
        for paths in [vec![d.clone()], vec![d.clone(), d.join("d07")]] {
            let scan = scan_from(&d, &paths, &WalkOptions::default()).unwrap();
            assert_eq!(scan.files_scanned, 320, "every .py and .c file read once");
            assert_eq!(scan.index.files().count(), 200, "every annotated file indexed");
            let unknown = scan.skipped.iter().filter(|(_, r)| *r == SkipReason::UnknownLanguage).count();
            assert_eq!(unknown, 80, "every unknown file skipped once: {:?}", scan.skipped.first());
        }
    }

    /// The rules and a full walk agree on every path of the tree.
    #[cfg(unix)]
    #[test]
    fn walk_rules_agree_with_the_walk() {
        let (dir, _outside) = rules_fixture();
        let d = dir.path().to_path_buf();
        let options = WalkOptions { absolute_paths: true, ..WalkOptions::default() };
        let scan = scan_from(&d, std::slice::from_ref(&d), &options).unwrap();
        let mut rules = WalkRules::new(std::slice::from_ref(&d), &options);
        let mut stack = vec![d.clone()];
        let mut checked = 0;
        while let Some(at) = stack.pop() {
            for entry in std::fs::read_dir(&at).unwrap().flatten() {
                let path = entry.path();
                if entry.file_type().unwrap().is_dir() {
                    stack.push(path.clone());
                }
                let indexed = scan.index.file(&path.to_string_lossy()).is_some();
                assert_eq!(
                    rules.check(&path).is_ok(),
                    indexed,
                    "{}: {:?}",
                    path.display(),
                    rules.check(&path)
                );
                checked += 1;
            }
        }
        assert!(checked > 10, "{checked}");
        // A `threatspec.yaml` narrows both the same way.
        std::fs::write(d.join(THREATSPEC_CONFIG), "paths:\n  - src\n  - a.py\n  - notes.txt\n").unwrap();
        let scan = scan_from(&d, std::slice::from_ref(&d), &options).unwrap();
        let mut rules = WalkRules::new(std::slice::from_ref(&d), &options);
        for rel in
            ["a.py", "src/b.py", "build/c.py", "big.py", ".guardlink/defs.gal", "notes.txt", "src/notes.txt"]
        {
            let path = d.join(rel);
            let indexed = scan.index.file(&path.to_string_lossy()).is_some();
            assert_eq!(rules.check(&path).is_ok(), indexed, "{rel}: {:?}", rules.check(&path));
        }
        assert!(rules.check(&d.join("notes.txt")).is_ok(), "named by threatspec.yaml");
        // An include glob names plain text for both too.
        std::fs::remove_file(d.join(THREATSPEC_CONFIG)).unwrap();
        let including = WalkOptions { include: vec!["*.txt".into(), "*.py".into()], ..options.clone() };
        let scan = scan_from(&d, std::slice::from_ref(&d), &including).unwrap();
        let mut rules = WalkRules::new(std::slice::from_ref(&d), &including);
        for rel in ["a.py", "notes.txt", "src/notes.txt", "g.unknown"] {
            let path = d.join(rel);
            let indexed = scan.index.file(&path.to_string_lossy()).is_some();
            assert_eq!(rules.check(&path).is_ok(), indexed, "{rel}: {:?}", rules.check(&path));
        }
        assert_eq!(rules.check(&d.join("src/notes.txt")), Ok(Language::PlainText));
        // Glob entries select the same files for both, also where their directories overlap
        // another entry's.
        std::fs::create_dir_all(d.join("src/sub")).unwrap();
        std::fs::write(d.join("src/sub/deep.py"), "# @asset A\n").unwrap();
        std::fs::write(d.join("src/top.rb"), "# @asset A\n").unwrap();
        std::fs::write(d.join(THREATSPEC_CONFIG), "paths:\n  - '*.py'\n  - 'src/**/*.py'\n  - .guardlink\n")
            .unwrap();
        let scan = scan_from(&d, std::slice::from_ref(&d), &options).unwrap();
        let mut rules = WalkRules::new(std::slice::from_ref(&d), &options);
        let mut indexed_files = Vec::new();
        for rel in ["a.py", "src/b.py", "src/sub/deep.py", "src/top.rb", "build/c.py", ".guardlink/defs.gal"]
        {
            let path = d.join(rel);
            let indexed = scan.index.file(&path.to_string_lossy()).is_some();
            assert_eq!(rules.check(&path).is_ok(), indexed, "{rel}: {:?}", rules.check(&path));
            if indexed {
                indexed_files.push(rel);
            }
        }
        assert_eq!(indexed_files, ["a.py", "src/b.py", "src/sub/deep.py", ".guardlink/defs.gal"]);
        // A glob entry that selects plain text names it, as an include glob does.
        std::fs::write(d.join(THREATSPEC_CONFIG), "paths:\n  - '*.txt'\n").unwrap();
        let scan = scan_from(&d, std::slice::from_ref(&d), &options).unwrap();
        let mut rules = WalkRules::new(std::slice::from_ref(&d), &options);
        let notes = d.join("notes.txt");
        assert!(scan.index.file(&notes.to_string_lossy()).is_some(), "{:?}", scan.skipped);
        assert_eq!(rules.check(&notes), Ok(Language::PlainText));
    }
}
