//! `check`'s result cache: the rendered output, notes and exit status of the last run, replayed
//! when every input of the run is provably the same, so that a warm run on an unchanged tree
//! neither reads nor analyses a file.
//!
//! Owns: the result file (its name, format, validation, atomic replacement), the key of a run
//! and the rule for when a stored result may be replayed. Must never: replay a result any input
//! of which may have changed (a stale replay is a false "all clear"), be trusted when it does
//! not validate (ignored and replaced, never a panic), follow a link, or hold anything but what
//! the run printed.
//!
//! # What a result stands for
//!
//! A stored result is replayed only when all of these are the same as when it was stored:
//!
//! - the key ([`Stored::key`]): the running binary ([`crate::cache`]'s build id: crate
//!   version, cache format, the executable's size and mtime), this format's version, the
//!   current directory, every option of the run that can change its output (PATHs as given,
//!   format, `--fail-on`, `--severity`, `--include`, `--exclude`, `--max-file-size`,
//!   `--coverage-scope`, whether output is styled for a terminal and, for the human format, the
//!   terminal's width), the date `overdue-risk` compares with (`--today` or the clock's), and
//!   what the walk found before reading a file ([`crate::walk::Discovered`]: the base
//!   directory, every file it will read with its language, every skipped path with the
//!   reason, refused configuration and ignore files, the threat library files it looked for).
//!   The walk itself (directory listings, ignore files, `threatspec.yaml` `paths:`, git's
//!   excludes) runs again on every warm run, so the file set is never assumed;
//! - every input file ([`Stored::inputs`]): each file the walk found, and every path the run
//!   read or tried to read through [`crate::read`] (configuration, ignore, library, pin and
//!   anchored files, plain text searched for annotation literals), as `lstat` sees it: type,
//!   size, mtime, ctime, inode, device and mode, or absent, and for a regular file the digest
//!   of its content ([`crate::cache::content_hash`], the index cache's hash: taken from the
//!   scan's cache entries, so a file the scan read is not read again) or, for a walked file
//!   the walk's prefilters turned away (binary, or nothing to parse: the index cache stores no
//!   hash for it), that verdict ([`Content`]). Links are never
//!   followed. The `lstat` of a walked file is the one the walk took
//!   ([`crate::walk::Lstat`]: after the run started, before the scan read the file) or, on a
//!   run with no stored result to compare (the walk then takes none), the `fstat` of the file
//!   the scan opened to read it ([`crate::walk::Scan::read_lstats`]: never through a link,
//!   after the run started, before the file was read: the same rule), so storing or checking
//!   a run costs no system call per walked file. A path a read of the run found nothing at
//!   (every directory's absent ignore files) is stored, and compared, as absent by that read
//!   ([`Seen::Absent`]): no `lstat` either.
//!
//! An input whose `lstat` differs only in its timestamps, inode or device (a `touch`, a
//! checkout, an editor's save by rename) is read and hashed: when its content is the stored
//! content (same type, mode and size, same digest; for a turned-away file, the same verdict
//! of the walk's prefilters on its bytes, under the key and language the walk found it with:
//! all the run took from such a file) it still stands for the same input, and the
//! result is replayed; the stored state is then refreshed to the new one (under the racy rule
//! below), so later runs need not read it again. Any other difference (absent, another type,
//! mode or size, another digest, a file that cannot be read) is a change: no replay.
//!
//! The racy-timestamp rule: a result (or a refreshed state) is stored only when every input's
//! mtime and ctime are at least [`crate::cache::RACY_WINDOW`] older than the start of the run. A file changed while
//! (or just before) the run read it may keep its size and timestamps at the filesystem's
//! granularity; one whose ctime is older than the run's start did not change since, so what the
//! run read is what the stored state describes (ctime cannot be set back by `touch`, unlike
//! mtime). Any later change moves its ctime. A digest stored with a state is of the content
//! the run used (what the scan read or the index cache entry it trusted holds; for a file the
//! scan did not use, a read just before the `lstat`), and every state is taken after the run
//! started: a change after the state was taken moves the ctime past the run's start, so past
//! the settled stored one, and the next run reads and hashes the file and compares it with
//! what this run used.
//!
//! Not stored (the run is simply not cached): `--verbose`, `-o`, `--baseline`,
//! `--write-baseline`, runs with `unmodelled-resource` enabled (its notes are printed while it
//! reads templates), runs where parsing ran out of time (the outcome depends on time), runs
//! that read a file named on the command line through a symbolic link (the link's `lstat`
//! does not move when its target changes), and runs that end with an error status.
//!
//! # Where and format
//!
//! In the index cache's directory ([`crate::cache::default_dir`]), one file per current
//! directory, PATHs and format (`<hash>.res`): a few per project. `--no-cache` neither reads
//! nor writes it. `TARESLT\0`, format version (u32), payload length (u64), XXH3-64 of the
//! payload, then the postcard-encoded [`Stored`]. Read by [`crate::read`]'s rule for cache
//! files (never through a link, at most [`crate::limits::MAX_CACHE_FILE_SIZE`]), on a thread
//! of its own while the walk runs (`StoredLoad`; the walk's hook waits for it); written
//! atomically by the index cache's writer (temporary file, rename; not fsynced: a crash leaves
//! at worst a file the checksum refuses).

use super::CheckArgs;
use crate::cache;
use crate::read::{Links, read_bounded};
use crate::walk::{Discovered, FoundHook, Lstat};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Bumped whenever the encoding of [`Stored`] changes or what a key covers (2: a content
/// digest per input; 3: the prefilters' verdict instead of a digest for turned-away files).
pub const FORMAT_VERSION: u32 = 3;

const MAGIC: &[u8; 8] = b"TARESLT\0";

/// The file type bits of an `lstat` mode, and those of a regular file and a symbolic link.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;

/// A file as `lstat` saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileState {
    Absent,
    Present {
        mode: u32,
        size: u64,
        mtime_ns: i64,
        ctime_ns: i64,
        ino: u64,
        dev: u64,
    },
    /// `lstat` failed for another reason: never the same as anything.
    Unknown,
}

impl FileState {
    /// The state of `path`, never following a link.
    pub fn of(path: &Path) -> FileState {
        match std::fs::symlink_metadata(path) {
            Ok(meta) => Self::from_metadata(&meta),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileState::Absent,
            Err(_) => FileState::Unknown,
        }
    }

    /// Without a change time ([`Lstat::from_metadata`]) a rewrite within the timestamp
    /// granularity cannot be told: unknown.
    fn from_metadata(meta: &std::fs::Metadata) -> FileState {
        Lstat::from_metadata(meta).map_or(FileState::Unknown, FileState::from)
    }

    /// Whether `now` may be the same file's content under another `lstat` (a touch, a
    /// checkout, a save by rename): both regular files of the same mode and size.
    fn may_hold_same_content(&self, now: &FileState) -> bool {
        match (*self, *now) {
            (
                FileState::Present { mode, size, .. },
                FileState::Present { mode: now_mode, size: now_size, .. },
            ) => mode & S_IFMT == S_IFREG && mode == now_mode && size == now_size,
            _ => false,
        }
    }

    /// Whether this is a symbolic link.
    fn is_link(&self) -> bool {
        matches!(*self, FileState::Present { mode, .. } if mode & S_IFMT == S_IFLNK)
    }

    /// Whether this state may vouch for the file's content from now on: known, and not
    /// changed within [`cache::RACY_WINDOW`] before `started_ns` (see the module docs).
    fn settled(&self, started_ns: i64) -> bool {
        let window = cache::RACY_WINDOW.as_nanos() as i64;
        match *self {
            FileState::Absent => true,
            FileState::Present { mtime_ns, ctime_ns, .. } => {
                mtime_ns.saturating_add(window) <= started_ns && ctime_ns.saturating_add(window) <= started_ns
            }
            FileState::Unknown => false,
        }
    }
}

impl From<Lstat> for FileState {
    fn from(Lstat { mode, size, mtime_ns, ctime_ns, ino, dev }: Lstat) -> FileState {
        FileState::Present { mode, size, mtime_ns, ctime_ns, ino, dev }
    }
}

/// One input of a stored run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// The absolute path.
    pub path: String,
    /// Its `lstat` when the result was stored (or last refreshed).
    pub state: FileState,
    /// What vouches for a regular file's content when its `lstat` moved.
    pub content: Content,
}

/// What vouches for an input's content (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Content {
    /// Nothing: only the same `lstat` does (not a regular file).
    Unknown,
    /// The content's [`cache::content_hash`] (little-endian).
    Digest([u8; 16]),
    /// A walked file the walk's prefilters turned away (`crate::walk`'s `turned_away`), as
    /// binary or as holding nothing to parse: any bytes they turn away alike give the run
    /// the same outcome for it.
    TurnedAway { binary: bool },
}

impl Content {
    /// How the content of a file of the scan, as its index cache entry holds it, is vouched for.
    fn of_record(record: &cache::Record) -> Content {
        match record.hash {
            Some(hash) => Content::Digest(hash.to_le_bytes()),
            None => Content::TurnedAway { binary: record.outcome == cache::Outcome::Binary },
        }
    }

    /// Whether `bytes` are this content; `walked`, the file as this run's walk found it.
    fn holds(&self, bytes: &[u8], walked: Option<&WalkedFile<'_>>) -> bool {
        match *self {
            Content::Unknown => false,
            Content::Digest(digest) => cache::content_hash(bytes).to_le_bytes() == digest,
            // The walk of the stored run gave the prefilters the same key and language (the
            // run's key holds both); only the key's last components (an MCP client's
            // configuration file name) count, and a file of such a name is never turned away.
            Content::TurnedAway { binary } => walked.is_some_and(|file| {
                crate::walk::turned_away(bytes, file.key, file.language)
                    .is_some_and(|outcome| (outcome == cache::Outcome::Binary) == binary)
            }),
        }
    }
}

/// A file this run's walk found: the key its prefilters are given, its language, and the
/// walk's `lstat` (when it could be taken).
#[derive(Clone, Copy, Debug)]
pub struct WalkedFile<'a> {
    pub key: &'a str,
    pub language: crate::syntax::Language,
    pub lstat: Option<Lstat>,
}

/// What this run already knows of an input's path, before its `lstat` would be taken.
#[derive(Clone, Copy, Debug)]
pub enum Seen<'a> {
    /// This run's walk found it.
    Walked(WalkedFile<'a>),
    /// A read of this run found nothing there ([`crate::read::Recorded::absent`]): an `lstat`
    /// then would have found nothing either, and it was taken after the run started, as the
    /// one taken now would be.
    Absent,
    /// Neither: its `lstat` is taken now.
    Unseen,
}

impl Input {
    /// Whether the file is still this input: the same `lstat` (the walk's or absent, as `seen`
    /// during this run; else taken now), or (read now) the same content.
    /// `Some(new state)` when only the `lstat` moved.
    fn matches(&self, seen: Seen<'_>) -> Option<Option<FileState>> {
        if self.state == FileState::Unknown {
            return None;
        }
        let (walked, now) = match seen {
            Seen::Walked(file) => (Some(file), file.lstat.map(FileState::from)),
            Seen::Absent => (None, Some(FileState::Absent)),
            Seen::Unseen => (None, None),
        };
        let now = now.unwrap_or_else(|| FileState::of(Path::new(&self.path)));
        if now == self.state {
            return Some(None);
        }
        let FileState::Present { size, .. } = now else { return None };
        if self.content == Content::Unknown || !self.state.may_hold_same_content(&now) {
            return None;
        }
        // Read after the `lstat`: a change after it moves the ctime past the state kept.
        let bytes = read_bounded(Path::new(&self.path), size, Links::Refuse).ok()?;
        (bytes.len() as u64 == size && self.content.holds(&bytes, walked.as_ref())).then_some(Some(now))
    }
}

/// One stored run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// The digest of everything but the input files' states (see the module docs).
    pub key: u128,
    /// Every input file, sorted by path.
    pub inputs: Vec<Input>,
    /// The exit status.
    pub status: i32,
    /// The notes printed on standard error before the report, without their prefix.
    pub notes: Vec<String>,
    /// The report as rendered (before a terminal's styles are applied or stripped).
    pub report: String,
}

impl Stored {
    /// Whether every input is the one stored (see the module docs): `None` when one changed,
    /// else the inputs whose `lstat` moved with their content kept (index, new state). Only
    /// those are read. `seen`: what this run knows of a path already (the `lstat` of the
    /// others is asked now).
    pub fn inputs_unchanged<'a>(
        &self,
        mut seen: impl FnMut(&str) -> Seen<'a>,
    ) -> Option<Vec<(usize, FileState)>> {
        let mut moved = Vec::new();
        for (at, input) in self.inputs.iter().enumerate() {
            if let Some(now) = input.matches(seen(&input.path))? {
                moved.push((at, now));
            }
        }
        Some(moved)
    }

    /// This result's inputs with the `lstat` of the `moved` ones replaced by their new states,
    /// those settled before `started_ns` only (the racy rule); `None` when none is. The inputs
    /// alone: the rest is stored again as it is, from where it is (`Results::refresh`; a
    /// copy of the whole result copied its report, megabytes on the mixed benchmark).
    pub fn refreshed_inputs(&self, moved: &[(usize, FileState)], started_ns: i64) -> Option<Vec<Input>> {
        let settled = |(at, now): &&(usize, FileState)| *at < self.inputs.len() && now.settled(started_ns);
        // Most often none is: a file touched just before the run (the benchmarks' touched runs).
        moved.iter().find(settled)?;
        let mut inputs = self.inputs.clone();
        for (at, now) in moved.iter().filter(settled) {
            inputs[*at].state = *now;
        }
        Some(inputs)
    }
}

/// Encodes a stored run as the result file holds it.
pub fn encode(stored: &Stored) -> Vec<u8> {
    frame(&postcard::to_allocvec(stored).unwrap_or_default())
}

/// A result file holding `payload` (an encoded [`Stored`], or any bytes: the readers fuzz
/// target reaches the decoder behind the checksum this way).
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + HEADER_LEN);
    out.extend_from_slice(&header(payload));
    out.extend_from_slice(payload);
    out
}

const HEADER_LEN: usize = 28;

/// What a result file holds before `payload`: magic, version, length, checksum.
fn header(payload: &[u8]) -> [u8; HEADER_LEN] {
    header_of(payload.len() as u64, xxhash_rust::xxh3::xxh3_64(payload))
}

/// [`header`] of a payload of `len` bytes with the XXH3-64 `checksum`.
fn header_of(len: u64, checksum: u64) -> [u8; HEADER_LEN] {
    let mut out = [0; HEADER_LEN];
    out[..8].copy_from_slice(MAGIC);
    out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[12..20].copy_from_slice(&len.to_le_bytes());
    out[20..].copy_from_slice(&checksum.to_le_bytes());
    out
}

/// Decodes a result file; `None` for anything that does not validate (magic, version, length,
/// checksum, decoding, bytes left over).
pub fn decode(bytes: &[u8]) -> Option<Stored> {
    let (head, report) = split(bytes)?;
    head.with_report(bytes[report].to_vec())
}

/// A result file's fields before the report, and where the report's bytes lie in `bytes`; `None`
/// for anything that does not validate (magic, version, length, checksum, decoding, bytes left
/// over), but the report's UTF-8, which [`StoredFields::with_report`] checks. The one reader
/// of the format: postcard's encoding of [`Stored`], whose last field, the report, is its
/// length (a varint, as postcard writes a string's) and its bytes up to the end.
fn split(bytes: &[u8]) -> Option<(StoredFields, std::ops::Range<usize>)> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (version, rest) = rest.split_first_chunk::<4>()?;
    let (len, rest) = rest.split_first_chunk::<8>()?;
    let (sum, payload) = rest.split_first_chunk::<8>()?;
    if u32::from_le_bytes(*version) != FORMAT_VERSION
        || u64::try_from(payload.len()).ok()? != u64::from_le_bytes(*len)
        || xxhash_rust::xxh3::xxh3_64(payload) != u64::from_le_bytes(*sum)
    {
        return None;
    }
    let (head, rest) = postcard::take_from_bytes::<StoredFields>(payload).ok()?;
    let (report_len, report) = postcard::take_from_bytes::<u64>(rest).ok()?;
    (u64::try_from(report.len()).ok()? == report_len)
        .then_some((head, bytes.len() - report.len()..bytes.len()))
}

/// A [`Stored`]'s fields before its report, decoded ([`encode_head`] and [`save_encoded`]
/// encode them).
#[derive(Deserialize)]
struct StoredFields {
    key: u128,
    inputs: Vec<Input>,
    status: i32,
    notes: Vec<String>,
}

impl StoredFields {
    /// The stored run with `report`; `None` when it is not UTF-8.
    fn with_report(self, report: Vec<u8>) -> Option<Stored> {
        let StoredFields { key, inputs, status, notes } = self;
        Some(Stored { key, inputs, status, notes, report: String::from_utf8(report).ok()? })
    }
}

/// A digest being built from length-prefixed fields: the XXH3-128 of their concatenation,
/// hashed as they come (a walk's key covers every path: no buffer of them all is built), a
/// few kilobytes at a time: two hasher calls per field (its length, its bytes) cost more than
/// hashing a path's bytes (a third of the walk's key).
#[derive(Default)]
pub struct KeyBuilder {
    hasher: xxhash_rust::xxh3::Xxh3Default,
    /// Fields not hashed yet, at most [`KEY_CHUNK`] bytes.
    pending: Vec<u8>,
}

/// How many bytes of fields [`KeyBuilder`] collects before hashing them.
const KEY_CHUNK: usize = 1 << 14;

impl KeyBuilder {
    pub fn field(&mut self, bytes: &[u8]) -> &mut Self {
        if self.pending.len() + 8 + bytes.len() > KEY_CHUNK {
            self.hasher.update(&self.pending);
            self.pending.clear();
        }
        self.pending.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        if bytes.len() > KEY_CHUNK / 2 {
            self.hasher.update(&self.pending);
            self.pending.clear();
            self.hasher.update(bytes);
        } else {
            self.pending.extend_from_slice(bytes);
        }
        self
    }

    pub fn text(&mut self, value: impl std::fmt::Debug) -> &mut Self {
        self.field(format!("{value:?}").as_bytes())
    }

    pub fn path(&mut self, path: &Path) -> &mut Self {
        self.field(path.as_os_str().as_encoded_bytes())
    }

    pub fn finish(&self) -> u128 {
        let mut hasher = self.hasher.clone();
        hasher.update(&self.pending);
        hasher.digest128()
    }
}

/// A file the walk found, with the walk's `lstat` of it.
pub type Walked = (PathBuf, Option<Lstat>);

/// The digest of what the walk found (see the module docs), and the files it will read with
/// the walk's `lstat` of each.
pub fn found_key(found: &Discovered<'_>) -> (u128, Vec<Walked>) {
    // The files' paths are copied on the other core while the key is made (the walk's
    // result waits for both: 20,000 copies on the largest benchmark).
    rayon::join(
        || walk_key(found),
        || found.files.par_iter().map(|(_, abs, _, lstat)| (abs.to_path_buf(), *lstat)).collect(),
    )
}

/// The digest of what the walk found ([`found_key`]).
fn walk_key(found: &Discovered<'_>) -> u128 {
    let mut key = KeyBuilder::default();
    key.path(found.base).text(found.files.len());
    for (rel, abs, language, _) in &found.files {
        // The language's stable name: formatting it (`text`) was a `String` per file.
        key.field(rel.as_bytes()).path(abs).field(language.name().as_bytes());
    }
    let mut skipped: Vec<_> = found.skipped.iter().map(|(path, why)| (path, why.to_string())).collect();
    skipped.sort();
    key.text(skipped.len());
    for (path, why) in skipped {
        key.path(path).field(why.as_bytes());
    }
    key.text(found.not_applied.len());
    for not_applied in found.not_applied {
        key.field(not_applied.to_string().as_bytes());
    }
    key.text(found.library_files.len());
    for library in found.library_files {
        key.path(library);
    }
    key.finish()
}

/// The result file for `name` (the digest of the current directory, PATHs and format).
pub fn file_for(dir: &Path, name: u128) -> PathBuf {
    dir.join(format!("{name:032x}.res"))
}

/// The stored run in `file`, if one validates. Never through a link.
pub fn load(file: &Path) -> Option<Stored> {
    let mut bytes = read_bounded(file, crate::limits::MAX_CACHE_FILE_SIZE, Links::Refuse).ok()?;
    let (head, report) = split(&bytes)?;
    // The report (megabytes for a run with many findings) stays in the buffer it was read
    // into, moved to its start, not copied into a new string: a copy touched as many fresh
    // pages again (mixed, warm: ~1,250 page faults of ~5,600).
    bytes.truncate(report.end);
    bytes.drain(..report.start);
    head.with_report(bytes)
}

/// The inputs to store for a run that started at `started_ns` and depended on `inputs` (each
/// with its state when the run already took it: the walk's `lstat`, or absent when a read
/// found nothing there), sorted by path, each once; `None` when one of them is not settled
/// (the racy-timestamp rule) or cannot be stated. `digests`: what vouches for the content the
/// scan read for a path (its hash, or the prefilters' verdict), if it read it (or trusted its
/// index cache entry).
///
/// A file with both the walk's `lstat` and the scan's digest is stated by them, and an absent
/// one as absent, without a system call: the state was taken after the run started, so when
/// it is settled the file did not change between its change time and then; a change after
/// it (before or while the scan read the file) moves the change time past the run's start,
/// and the next run hashes the file and compares it with the digest of what this run used (a
/// file that appeared is not the absent one). Any other file is stated now ([`state_input`]).
///
/// Run while the analysis runs, on every core: the paths are converted, sorted and stated in
/// parallel (on the sparse benchmark the storing thread ran 38M instructions alone, after
/// everything else, while the run waited for it).
fn stated_inputs(
    inputs: Vec<(PathBuf, Option<FileState>)>,
    digests: &Digests<'_>,
    started_ns: i64,
) -> Option<Vec<Input>> {
    // Collected in place on every core (a `Vec` of `Option`s: collecting a parallel
    // `Option<Vec>` gathers lists of pieces and copies them again), then checked in order.
    let converted: Vec<Option<(String, Option<FileState>)>> = inputs
        .into_par_iter()
        .map(|(path, known)| Some((path.into_os_string().into_string().ok()?, known)))
        .collect();
    let mut paths: Vec<(String, Option<FileState>)> = converted.into_iter().collect::<Option<_>>()?;
    // The walk's files come first, in path order: only the rest is sorted, then merged in.
    let (total, run) = (paths.len(), paths.windows(2).take_while(|w| w[0].0 <= w[1].0).count() + 1);
    let mut rest = paths.split_off(run.min(paths.len()));
    // Thousands on a large tree (every directory's absent ignore files).
    rest.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let (mut paths, mut rest) = (paths.into_iter().peekable(), rest.into_iter().peekable());
    let merged = std::iter::from_fn(|| match (paths.peek(), rest.peek()) {
        (Some(first), Some(other)) if other.0 < first.0 => rest.next(),
        (Some(_), _) => paths.next(),
        (None, _) => rest.next(),
    });
    let mut unique: Vec<(String, Option<FileState>)> = Vec::with_capacity(total);
    for (path, known) in merged {
        // A path read more than once: either state was taken after the run started.
        if unique.last().is_none_or(|last| last.0 != path) {
            unique.push((path, known));
        }
    }
    let scanned = digests.aligned(unique.iter().map(|(path, _)| path.as_str()));
    let stated: Vec<Option<Input>> = unique
        .into_par_iter()
        .zip(scanned)
        .map(|((path, known), scanned)| state_input(path, known, scanned, started_ns))
        .collect();
    stated.into_iter().collect()
}

/// What vouches for the content of each file the scan read or trusted (its index cache
/// records: the content's hash, or the prefilters' verdict), in path order. Found for the
/// inputs by one pass over both lists ([`Digests::aligned`]): a hash map of the 20,000 paths
/// of the largest benchmark cost ~2 ms to build and ~5 ms to look up, each lookup comparing
/// the path with a record's, somewhere in memory written long before.
struct Digests<'a>(Vec<(&'a str, Content)>);

impl<'a> Digests<'a> {
    /// The digests of `pairs` (a path once each), sorted here unless they come in path order,
    /// as a scan's records do.
    fn new(mut pairs: Vec<(&'a str, Content)>) -> Digests<'a> {
        if !pairs.is_sorted_by(|a, b| a.0 <= b.0) {
            pairs.par_sort_unstable_by(|a, b| a.0.cmp(b.0));
        }
        Digests(pairs)
    }

    /// The digest of each of `paths` (in path order), if there is one.
    fn aligned<'p>(&self, paths: impl Iterator<Item = &'p str>) -> Vec<Option<Content>> {
        let mut at = 0;
        paths
            .map(|path| {
                // Both lists in path order: the cursor only moves on.
                while self.0.get(at).is_some_and(|(known, _)| *known < path) {
                    at += 1;
                }
                self.0.get(at).filter(|(known, _)| *known == path).map(|&(_, content)| content)
            })
            .collect()
    }
}

/// One input of a run that started at `started_ns` (see [`stated_inputs`]): `known`, its state
/// when the run took it; `scanned`, what vouches for the content the scan used. Stated now
/// unless both are known or it was absent: a regular file (up to
/// [`crate::limits::MAX_FILE_SIZE`]; a larger one gets no digest) the scan did not read is read
/// and hashed here, before its `lstat` is taken. `None` when not settled, or read by the scan
/// through a link.
fn state_input(
    path: String,
    known: Option<FileState>,
    scanned: Option<Content>,
    started_ns: i64,
) -> Option<Input> {
    let (digest, state) = match (scanned, known) {
        (_, Some(FileState::Absent)) => (None, FileState::Absent),
        (Some(digest), Some(state)) => (Some(digest), state),
        (scanned, _) => {
            let read = || {
                let bytes =
                    read_bounded(Path::new(&path), crate::limits::MAX_FILE_SIZE, Links::Refuse).ok()?;
                Some(Content::Digest(cache::content_hash(&bytes).to_le_bytes()))
            };
            // Read before the `lstat`: a settled state says the content did not change since.
            let digest = scanned.or_else(|| {
                let before = FileState::of(Path::new(&path));
                before.may_hold_same_content(&before).then(read).flatten()
            });
            let state = FileState::of(Path::new(&path));
            // A file the scan read through a link (named directly): the link's `lstat` does
            // not move when the target changes, so nothing can vouch for it.
            if scanned.is_some() && state.is_link() {
                return None;
            }
            (digest, state)
        }
    };
    if !state.settled(started_ns) {
        return None;
    }
    let content = digest.filter(|_| state.may_hold_same_content(&state)).unwrap_or(Content::Unknown);
    Some(Input { path, state, content })
}

/// Adds to `inputs` ([`stated_inputs`]) the reads the run made after they were stated
/// ([`Read`], found against them): a path not among them is stated now and merged in; a walked
/// file that only the prefilters' verdict vouched for, read again, gave the run more than that
/// verdict, so it is stated again with a digest. Whether `inputs` changed; `None` when one of
/// those is not settled.
fn merge_late_reads(inputs: &mut Vec<Input>, late: Vec<Read>, started_ns: i64) -> Option<bool> {
    let mut changed = false;
    // Searched for among the inputs as stated (sorted); the new ones are merged in after.
    let mut added: Vec<Input> = Vec::new();
    for read in late {
        let (path, known) = match read {
            Read::Cache => continue,
            Read::Again(path) => (path, None),
            Read::Input(path, known) => (path, known),
        };
        let path = path.into_os_string().into_string().ok()?;
        match inputs.binary_search_by(|input| input.path.as_str().cmp(&path)) {
            Ok(place) if matches!(inputs[place].content, Content::TurnedAway { .. }) => {
                inputs[place] = state_input(path, None, None, started_ns)?;
                changed = true;
            }
            // Stated after the run started, as this read was: either state stands for it.
            Ok(_) => {}
            Err(_) => added.push(state_input(path, known, None, started_ns)?),
        }
    }
    if added.is_empty() {
        return Some(changed);
    }
    added.sort_by(|a, b| a.path.cmp(&b.path));
    added.dedup_by(|a, b| a.path == b.path);
    inputs.append(&mut added);
    // Two sorted runs, none of whose paths is in the other.
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    Some(true)
}

/// Writes `stored` to `file` atomically; a larger one than a load accepts is not written.
/// (Tests: a run's store and a replay's refresh write through [`save_encoded`].)
#[cfg(test)]
fn save(file: &Path, stored: &Stored) -> Result<(), cache::CacheError> {
    save_with_report(file, stored, &[&stored.report])
}

/// [`save`] of `stored` with `report` (its pieces, in order: [`crate::render::Pieces`]) in
/// place of its own: the report (megabytes for a run with many findings) is neither copied
/// into a `Stored` nor into the payload, but written from where the caller holds it.
#[cfg(test)]
fn save_with_report(file: &Path, stored: &Stored, report: &[&str]) -> Result<(), cache::CacheError> {
    let head = encode_head(stored.key, &stored.inputs)?;
    save_encoded(file, head, stored.status, &stored.notes, report)
}

/// The start of a stored run's payload: the postcard encoding of its key and inputs. Postcard
/// encodes a struct as its fields in order, with nothing around them: [`save_encoded`] appends
/// the rest. Encoded apart so that a run being stored encodes its inputs (megabytes on a
/// large tree) before its report is ready.
fn encode_head(key: u128, inputs: &[Input]) -> Result<Vec<u8>, cache::CacheError> {
    // Room for every input (its path, state and digest: ~50 bytes besides the path), so that
    // the buffer is not grown (and copied) on the way.
    let room: usize = inputs.iter().map(|input| input.path.len() + 64).sum();
    let mut payload = Vec::with_capacity(room + 64);
    cache::wire::encode(&key, &mut payload).map_err(|_| cache::CacheError::Invalid("unencodable"))?;
    cache::wire::encode(inputs, &mut payload).map_err(|_| cache::CacheError::Invalid("unencodable"))?;
    Ok(payload)
}

/// Writes a stored run to `file` atomically from its encoded key and inputs
/// ([`encode_head`]), status, notes and report (in pieces); a larger one than a load accepts is
/// not written (and the old one goes).
fn save_encoded(
    file: &Path,
    mut payload: Vec<u8>,
    status: i32,
    notes: &[String],
    report: &[&str],
) -> Result<(), cache::CacheError> {
    let report_len: usize = report.iter().map(|piece| piece.len()).sum();
    let too_large = |len: usize| (len + HEADER_LEN) as u64 > crate::limits::MAX_CACHE_FILE_SIZE;
    if too_large(report_len) {
        let _ = std::fs::remove_file(file);
        return Err(cache::CacheError::Invalid("result too large"));
    }
    // The payload is postcard's encoding of `Stored` (what `encode` frames), whose last field
    // is the report: everything before the report's bytes, then the report.
    let unencodable = |_| cache::CacheError::Invalid("unencodable");
    cache::wire::encode(&status, &mut payload).map_err(unencodable)?;
    cache::wire::encode(notes, &mut payload).map_err(unencodable)?;
    cache::wire::encode(&report_len, &mut payload).map_err(unencodable)?;
    if too_large(payload.len() + report_len) {
        let _ = std::fs::remove_file(file);
        return Err(cache::CacheError::Invalid("result too large"));
    }
    let mut checksum = xxhash_rust::xxh3::Xxh3Default::new();
    checksum.update(&payload);
    report.iter().for_each(|piece| checksum.update(piece.as_bytes()));
    let header = header_of((payload.len() + report_len) as u64, checksum.digest());
    cache::write_atomically(file, |out| {
        std::io::Write::write_all(out, &header)?;
        std::io::Write::write_all(out, &payload)?;
        report.iter().try_for_each(|piece| std::io::Write::write_all(out, piece.as_bytes()))
    })
}

/// Whether the normalised absolute `path` is `dir` (normalised) or lies under it: compared as
/// bytes (as components, `Path::starts_with`, it was a fifth of storing a run's thousands of
/// absent ignore files).
fn inside(path: &Path, dir: &Path) -> bool {
    let (path, dir) = (path.as_os_str().as_encoded_bytes(), dir.as_os_str().as_encoded_bytes());
    path.starts_with(dir) && (path.len() == dir.len() || path[dir.len()] == b'/' || dir.ends_with(b"/"))
}

/// What one read of a run is to the result it stores.
enum Read {
    /// A file the walk found, read again (the scan's prefilters' verdict does not vouch for it).
    Again(PathBuf),
    /// A file of the cache directory: no input.
    Cache,
    /// An input besides the walk's files, with its state when the read already took it.
    Input(PathBuf, Option<FileState>),
}

/// The result cache of one `check` run: what it may replay, and what it stores.
pub(super) struct Results {
    file: PathBuf,
    /// The cache directory (absolute): what the run reads there is not an input.
    dir: PathBuf,
    cwd: PathBuf,
    /// The digest of the binary, the options and the current directory.
    options: u128,
    /// When the run started (ns since the epoch), before any file was read.
    started_ns: i64,
    /// The stored run being read while the walk runs, when a result file is there; shared
    /// with the walk's hook (a copy held the report twice: megabytes).
    stored: Option<StoredLoad>,
    found: Arc<Mutex<Found>>,
}

/// A stored run read on a thread of its own while the walk runs: a warm run's result file is
/// megabytes (the report of every finding), and read and decoded first it held back the walk
/// (mixed benchmark, warm: ~4 ms of ~30). [`StoredLoad::get`] waits for it.
#[derive(Clone)]
struct StoredLoad(Arc<Loading>);

struct Loading {
    reading: Mutex<Option<std::thread::JoinHandle<Option<Stored>>>>,
    read: std::sync::OnceLock<Option<Arc<Stored>>>,
}

impl StoredLoad {
    /// Starts reading the stored run in `file`; `None` when nothing is there (no thread is
    /// started for a first run). A file that does not validate reads as no stored run.
    fn start(file: &Path) -> Option<StoredLoad> {
        std::fs::symlink_metadata(file).ok()?;
        let read = std::sync::OnceLock::new();
        let path = file.to_path_buf();
        // Its read may be recorded (recording starts meanwhile): a read of the cache
        // directory, no input of the run (`classify`).
        let reading = match std::thread::Builder::new().spawn(move || load(&path)) {
            Ok(handle) => Some(handle),
            // No thread to spare: read here.
            Err(_) => {
                let _ = read.set(load(file).map(Arc::new));
                None
            }
        };
        Some(StoredLoad(Arc::new(Loading { reading: Mutex::new(reading), read })))
    }

    /// The stored run, once read (waits for the reading thread the first time).
    fn get(&self) -> Option<&Arc<Stored>> {
        self.0
            .read
            .get_or_init(|| {
                let handle = self.0.reading.lock().unwrap_or_else(|e| e.into_inner()).take();
                handle.and_then(|h| h.join().ok()).flatten().map(Arc::new)
            })
            .as_ref()
    }
}

/// What the walk's hook learnt.
#[derive(Default)]
struct Found {
    /// The full key of this run and the files the walk found, with the walk's `lstat`.
    key: Option<(u128, Vec<Walked>)>,
    /// The stored result matched: replay it.
    replay: bool,
    /// The inputs of the replayed result whose `lstat` moved with their content kept.
    moved: Vec<(usize, FileState)>,
}

impl Results {
    /// The result cache for `args` (`to_terminal`, `columns`: how the human report is styled
    /// and wrapped), or `None` when the run is not cached (see the module docs). Starts
    /// recording reads ([`crate::read::start_recording`]).
    pub(super) fn new(args: &CheckArgs, to_terminal: bool, columns: usize) -> Option<Results> {
        if args.verbose || args.output.is_some() || args.baseline.is_some() || args.write_baseline.is_some() {
            return None;
        }
        let started_ns = cache::system_time_ns(std::time::SystemTime::now())?;
        let cwd = crate::paths::normalize(&std::env::current_dir().ok()?);
        let dir = crate::paths::normalize(&cwd.join(args.cache.dir()?));
        let mut name = KeyBuilder::default();
        name.path(&cwd).text(&args.paths).text(args.format);
        let file = file_for(&dir, name.finish());
        let mut options = KeyBuilder::default();
        // Every option (`today` resolved by the caller): a new option is covered as it comes.
        options.text(FORMAT_VERSION).field(cache::build_id().as_bytes()).path(&cwd).text(args);
        options.text(to_terminal).text(columns);
        let stored = StoredLoad::start(&file);
        crate::read::start_recording();
        Some(Results { file, dir, cwd, options: options.finish(), started_ns, stored, found: Arc::default() })
    }

    /// The walk's hook: replays (stops the walk) when the stored result's key and inputs
    /// match; else notes this run's key.
    pub(super) fn hook(&self) -> FoundHook {
        let (options, loading, found) = (self.options, self.stored.clone(), self.found.clone());
        let stored_there = loading.is_some();
        FoundHook {
            defer_cache_load: stored_there,
            // Only a stored run's inputs are compared with the walk's `lstat`; without one,
            // the scan's own (`Scan::read_lstats`) is what the run stores.
            compares_lstat: stored_there,
            decide: Arc::new(move |discovered| {
                let stored = loading.as_ref().and_then(StoredLoad::get);
                let (walk_key, files) = found_key(discovered);
                let key = KeyBuilder::default()
                    .field(&options.to_le_bytes())
                    .field(&walk_key.to_le_bytes())
                    .finish();
                let moved = stored.filter(|s| s.key == key).and_then(|stored| {
                    // The walk's files and the stored inputs are both in path order (the key
                    // holds the same files): one pass finds each walked input's `lstat`. A
                    // path it misses that the walk's reads found absent is absent; any other
                    // is asked now.
                    let (files, mut at) = (&discovered.files, 0);
                    // A stored path is absolute and normal: only a read of that very
                    // spelling matches it (one through `..` that found nothing never does).
                    let absent = crate::read::recorded_absent();
                    let seen_absent =
                        |path: &str| absent.binary_search_by(|a| a.as_slice().cmp(path.as_bytes())).is_ok();
                    let bytes =
                        |at: usize| files.get(at).map(|(_, abs, _, _)| abs.as_os_str().as_encoded_bytes());
                    stored.inputs_unchanged(|path| {
                        while bytes(at).is_some_and(|walked| walked < path.as_bytes()) {
                            at += 1;
                        }
                        match files.get(at).filter(|_| bytes(at) == Some(path.as_bytes())) {
                            Some(&(key, _, language, lstat)) => {
                                Seen::Walked(WalkedFile { key, language, lstat })
                            }
                            None if seen_absent(path) => Seen::Absent,
                            None => Seen::Unseen,
                        }
                    })
                });
                let replay = moved.is_some();
                let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
                found.replay = replay;
                found.moved = moved.unwrap_or_default();
                found.key = Some((key, files));
                !replay
            }),
        }
    }

    /// The stored result, when the walk's hook chose to replay it.
    pub(super) fn replay(&self) -> Option<&Stored> {
        self.found
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replay
            .then(|| self.stored.as_ref()?.get().map(|stored| &**stored))
            .flatten()
    }

    /// After a replay: stores the replayed result with the new `lstat` of the inputs that
    /// moved with their content kept (those settled), so later runs need not read them.
    pub(super) fn refresh(&self) {
        let found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        let stored = self.stored.as_ref().and_then(StoredLoad::get);
        let Some(stored) = stored.filter(|_| found.replay && !found.moved.is_empty()) else {
            return;
        };
        if let Some(inputs) = stored.refreshed_inputs(&found.moved, self.started_ns) {
            let _ = encode_head(stored.key, &inputs).and_then(|head| {
                save_encoded(&self.file, head, stored.status, &stored.notes, &[&stored.report])
            });
        }
    }

    /// Starts storing this run's result on a thread of its own, as soon as the scan is done:
    /// the inputs are stated while the analysis runs, and only what the analysis decides (the
    /// status and the report) and the reads made meanwhile are waited for ([`Storing`]).
    /// `recorded`, the reads of the run so far ([`crate::read::drain_recorded`]); `scanned`,
    /// the scan's own index cache entries (the content hash of every file it read or trusted;
    /// not the old cache's entries it kept for other roots, which may be stale); `read_lstats`,
    /// the `lstat` the scan took of walked files the walk took none of
    /// ([`crate::walk::Scan::read_lstats`]); `notes`, the notes printed before the report.
    pub(super) fn start_store(
        self,
        recorded: Vec<crate::read::Recorded>,
        scanned: Option<crate::walk::ScannedEntries>,
        read_lstats: Vec<(usize, Lstat)>,
        notes: Vec<String>,
    ) -> Storing {
        let (finish, finished) = std::sync::mpsc::sync_channel::<Finish>(1);
        let thread = std::thread::spawn(move || {
            let key_and_files = self.found.lock().unwrap_or_else(|e| e.into_inner()).key.take();
            let stated = key_and_files.and_then(|(key, files)| {
                let inputs = self.inputs(files, recorded, scanned, read_lstats)?;
                let head = encode_head(key, &inputs).ok()?;
                Some((key, inputs, head))
            });
            // Nothing comes when the run is not to be stored after all: nothing is written.
            let Ok(Finish { late, status, report }) = finished.recv() else { return };
            let late = late.into_iter().map(|read| classify(read, |_| false, &self.cwd, &self.dir)).collect();
            let head = stated.and_then(|(key, mut inputs, head)| {
                let changed = merge_late_reads(&mut inputs, late, self.started_ns)?;
                let head = if changed { encode_head(key, &inputs).ok()? } else { head };
                // The process ends when this thread does: freeing every input's path one by
                // one (20,000 on the largest benchmark) would only cost time.
                std::mem::forget(inputs);
                Some(head)
            });
            match head {
                // The report is shared with the caller, which prints it meanwhile.
                Some(head) => {
                    let _ =
                        save_encoded(&self.file, head, status, &notes, &report.iter().collect::<Vec<_>>());
                }
                // A result that could not be replayed next time is no use: the old one goes.
                None => {
                    let _ = std::fs::remove_file(&self.file);
                }
            }
        });
        Storing { finish, thread }
    }

    /// The inputs of this run ([`stated_inputs`]): the walk's `files` (with the walk's
    /// `lstat`), the `recorded` reads, the digests of what the scan read (`scanned`).
    fn inputs(
        &self,
        mut files: Vec<Walked>,
        recorded: Vec<crate::read::Recorded>,
        scanned: Option<crate::walk::ScannedEntries>,
        read_lstats: Vec<(usize, Lstat)>,
    ) -> Option<Vec<Input>> {
        // A walked file's state is the walk's `lstat`, or, when the walk took none, the one the
        // scan took from the file it opened (after the run started, before it read the file:
        // the same rule). A file neither took one of is stated in `stated_inputs`.
        for (place, lstat) in read_lstats {
            if let Some((_, walked @ None)) = files.get_mut(place) {
                *walked = Some(lstat);
            }
        }
        // Most reads are of files the walk found: those are inputs already (as they are).
        // Looked up in a set built while the scan's digests are gathered on the other core.
        let (found, mut digests) = rayon::join(
            || -> rustc_hash::FxHashSet<&[u8]> {
                files.iter().map(|(path, _)| path.as_os_str().as_encoded_bytes()).collect()
            },
            || {
                Digests::new(scanned.as_ref().map_or_else(Vec::new, |entries| {
                    entries.records().map(|r| (r.path.as_str(), Content::of_record(r))).collect()
                }))
            },
        );
        // What each read is to the stored run, found on every core (in the order read).
        let walked = |path: &[u8]| found.contains(path);
        let reads: Vec<Read> =
            recorded.into_par_iter().map(|read| classify(read, walked, &self.cwd, &self.dir)).collect();
        drop(found);
        // But one read again besides the scan (a sidecar's anchored file) gave the run more
        // than the prefilters' verdict: its content needs a digest.
        let mut reread: rustc_hash::FxHashSet<PathBuf> = Default::default();
        let mut recorded_inputs: Vec<(PathBuf, Option<FileState>)> = Vec::with_capacity(reads.len());
        for read in reads {
            match read {
                Read::Again(path) => {
                    reread.insert(path);
                }
                Read::Cache => {}
                Read::Input(path, known) => recorded_inputs.push((path, known)),
            }
        }
        if !reread.is_empty() {
            digests.0.retain(|(path, content)| {
                !matches!(content, Content::TurnedAway { .. }) || !reread.contains(Path::new(path))
            });
        }
        let mut inputs: Vec<(PathBuf, Option<FileState>)> =
            files.into_iter().map(|(path, lstat)| (path, lstat.map(FileState::from))).collect();
        inputs.append(&mut recorded_inputs);
        stated_inputs(inputs, &digests, self.started_ns)
    }
}

/// What a read of the run is to the result it stores; `walked`: whether a (normalised,
/// absolute) path is a file the walk found.
fn classify(read: crate::read::Recorded, walked: impl Fn(&[u8]) -> bool, cwd: &Path, dir: &Path) -> Read {
    if walked(read.path.as_os_str().as_encoded_bytes()) {
        return Read::Again(read.path);
    }
    // The walk's reads (ignore files of every directory) are absolute already.
    let absolute = read.path.is_absolute();
    let joined = if absolute { read.path } else { cwd.join(&read.path) };
    // Most are normal already: kept as they are, neither copied nor compared. (Compared as
    // bytes: as components, it was most of the cost of a run's absent reads.)
    let (path, normal) = if crate::paths::is_normal(&joined) {
        (joined, true)
    } else {
        let path = crate::paths::normalize(&joined);
        let normal = path.as_os_str() == joined.as_os_str();
        (path, normal)
    };
    if inside(&path, dir) {
        return Read::Cache;
    }
    // A path read as it is was looked up above.
    if !(absolute && normal) && walked(path.as_os_str().as_encoded_bytes()) {
        return Read::Again(path);
    }
    // Nothing was there when it was read (after the run started): unless the path named a
    // parent (`..`), its `lstat` then said the same.
    Read::Input(path, (read.absent && normal).then_some(FileState::Absent))
}

/// What the analysis decided for a run being stored, and the reads the run made since the
/// store started.
struct Finish {
    late: Vec<crate::read::Recorded>,
    status: i32,
    report: Arc<crate::render::Pieces>,
}

/// A result being stored ([`Results::start_store`]): dropped, nothing is written.
pub(super) struct Storing {
    finish: std::sync::mpsc::SyncSender<Finish>,
    thread: std::thread::JoinHandle<()>,
}

impl Storing {
    /// Stores the result with the run's exit `status` and `report`; `late`, the reads of the
    /// run since the store started ([`crate::read::take_recorded`]). Join the thread returned
    /// before the process ends.
    pub(super) fn finish(
        self,
        late: Vec<crate::read::Recorded>,
        status: i32,
        report: Arc<crate::render::Pieces>,
    ) -> std::thread::JoinHandle<()> {
        // A thread that ended (it panicked) stores nothing.
        let _ = self.finish.send(Finish { late, status, report });
        self.thread
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Stored {
        Stored {
            key: 7,
            inputs: vec![Input { path: "/a".into(), state: FileState::Absent, content: Content::Unknown }],
            status: 1,
            notes: vec!["n".into()],
            report: "r\n".into(),
        }
    }

    /// An absent input that a read of this run found absent is taken as absent without an
    /// `lstat`: here the path exists on disk when compared, so only the run's own observation
    /// can make it match; unseen, it is stated now and does not.
    #[test]
    fn an_input_this_runs_reads_found_absent_is_not_stated_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".gitignore");
        std::fs::write(&path, "*.log\n").unwrap();
        let input = Input {
            path: path.to_str().unwrap().to_string(),
            state: FileState::Absent,
            content: Content::Unknown,
        };
        assert_eq!(input.matches(Seen::Absent), Some(None), "this run's read is what counts");
        assert_eq!(input.matches(Seen::Unseen), None, "stated now, it is there");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(input.matches(Seen::Unseen), Some(None), "stated now, it is gone");
        let present = Input { state: FileState::of(dir.path()), ..input };
        assert_eq!(present.matches(Seen::Absent), None, "a present input seen absent changed");
    }

    /// The run's absent reads, as [`Results::hook`] looks them up: sorted bytes, each once,
    /// the ones that found something left out, recording going on.
    #[test]
    fn the_runs_absent_reads_are_listed_without_draining_them() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("b/.ignore"), dir.path().join("a/.ignore"));
        std::fs::write(dir.path().join("found"), "x").unwrap();
        crate::read::start_recording();
        for path in [&a, &b, &a, &dir.path().join("found")] {
            let _ = crate::read::read_bounded(path, 100, Links::Refuse);
        }
        let absent = crate::read::recorded_absent();
        let recorded = crate::read::take_recorded();
        let bytes = |p: &Path| p.as_os_str().as_encoded_bytes().to_vec();
        // Other tests of this process may record reads meanwhile: only these paths count.
        let ours: Vec<Vec<u8>> = absent.into_iter().filter(|p| p.starts_with(&bytes(dir.path()))).collect();
        assert_eq!(ours, [bytes(&b), bytes(&a)]);
        let ours = recorded.iter().filter(|r| r.path.starts_with(dir.path())).count();
        assert_eq!(ours, 4, "nothing was drained");
    }

    /// The stored run read on a thread of its own is the one `load` reads: none where no file
    /// is (and no thread started), none for a damaged file, and one copy however often asked.
    #[test]
    fn a_stored_run_read_meanwhile_is_the_loaded_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.res");
        assert!(StoredLoad::start(&file).is_none(), "nothing there");
        save(&file, &sample()).unwrap();
        let loading = StoredLoad::start(&file).expect("a file is there");
        let stored = loading.get().expect("it validates");
        assert_eq!(**stored, sample());
        assert!(Arc::ptr_eq(stored, loading.clone().get().unwrap()), "read once, shared");
        let mut bytes = std::fs::read(&file).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x20;
        std::fs::write(&file, &bytes).unwrap();
        let damaged = StoredLoad::start(&file).expect("a file is there");
        assert!(damaged.get().is_none(), "a damaged file is no stored run");
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let bytes = encode(&sample());
        assert_eq!(decode(&bytes), Some(sample()));
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), None, "cut at {cut}");
        }
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x20;
            assert_eq!(decode(&damaged), None, "flipped at {at}");
        }
    }

    /// The decoder reads exactly what postcard's decoding of a whole [`Stored`] reads, from
    /// memory ([`decode`]) and from a file ([`load`], which keeps the report in the buffer it
    /// read): every cut, every flipped byte (into and out of UTF-8, into the lengths) and
    /// every extra byte of the payloads of a few results, behind a valid header.
    #[test]
    fn decoding_agrees_with_postcard_on_any_payload() {
        let reference = |payload: &[u8]| match postcard::take_from_bytes::<Stored>(payload) {
            Ok((stored, [])) => Some(stored),
            _ => None,
        };
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.res");
        let samples = [
            sample(),
            Stored { report: String::new(), notes: vec![], inputs: vec![], ..sample() },
            Stored { report: "é😀 \"x\"\n".repeat(40), ..sample() },
        ];
        let (mut decoded, mut refused) = (0, 0);
        for stored in samples {
            let payload = postcard::to_allocvec(&stored).unwrap();
            let mut variants: Vec<Vec<u8>> = (0..payload.len()).map(|cut| payload[..cut].to_vec()).collect();
            for at in 0..payload.len() {
                for mask in [0x01, 0x20, 0x80, 0xff] {
                    let mut flipped = payload.clone();
                    flipped[at] ^= mask;
                    variants.push(flipped);
                }
            }
            variants.push([payload.as_slice(), b"x"].concat());
            variants.push(payload);
            for variant in variants {
                let expected = reference(&variant);
                let bytes = frame(&variant);
                assert_eq!(decode(&bytes), expected, "{variant:?}");
                std::fs::write(&file, &bytes).unwrap();
                assert_eq!(load(&file), expected, "{variant:?}");
                if expected.is_some() { decoded += 1 } else { refused += 1 }
            }
        }
        // Both outcomes are exercised (flips inside the report's text keep it decodable).
        assert!(decoded > 10 && refused > 10, "{decoded} decoded, {refused} refused");
    }

    #[test]
    fn keys_hash_the_length_prefixed_fields_and_saved_files_are_encoded() {
        let key = KeyBuilder::default().field(b"ab").path(Path::new("/c")).text(7).finish();
        let mut fields = Vec::new();
        for field in [&b"ab"[..], b"/c", b"7"] {
            fields.extend_from_slice(&(field.len() as u64).to_le_bytes());
            fields.extend_from_slice(field);
        }
        assert_eq!(key, xxhash_rust::xxh3::xxh3_128(&fields));
        // Many fields, and fields of every size around the chunk's, hashed a chunk at a time.
        let (mut many, mut fields) = (KeyBuilder::default(), Vec::new());
        for k in 0..3000usize {
            let field = vec![k as u8; if k % 500 == 7 { KEY_CHUNK / 2 + k % 3 } else { k % 97 }];
            many.field(&field);
            fields.extend_from_slice(&(field.len() as u64).to_le_bytes());
            fields.extend_from_slice(&field);
        }
        assert!(fields.len() > 8 * KEY_CHUNK);
        assert_eq!(many.finish(), xxhash_rust::xxh3::xxh3_128(&fields));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.res");
        save(&file, &sample()).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), encode(&sample()));
        assert_eq!(load(&file), Some(sample()));
    }

    /// A result saved with its report held apart (as a run saves it) is, byte for byte, the
    /// postcard encoding that `encode` frames: every kind of state, a digest, notes, and a
    /// report long enough for a two-byte length.
    #[test]
    fn results_saved_with_the_report_apart_are_their_encoding() {
        let present = FileState::Present {
            mode: 0o100_644,
            size: 300,
            mtime_ns: -7,
            ctime_ns: 1 << 40,
            ino: 9,
            dev: 2,
        };
        let stored = Stored {
            key: u128::MAX - 5,
            inputs: vec![
                Input { path: "/a".into(), state: FileState::Absent, content: Content::Unknown },
                Input { path: "/p/é.py".into(), state: present, content: Content::Digest([0xab; 16]) },
                Input { path: "/u".into(), state: FileState::Unknown, content: Content::Unknown },
                Input { path: "/v".into(), state: present, content: Content::TurnedAway { binary: false } },
                Input { path: "/w".into(), state: present, content: Content::TurnedAway { binary: true } },
            ],
            status: -1,
            notes: vec!["n".into(), "ü".into()],
            report: format!("{}名前\n", "x".repeat(300)),
        };
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.res");
        let without = Stored { report: String::new(), ..stored.clone() };
        // In pieces, as `check` hands its report over: the same bytes.
        let (a, b) = stored.report.split_at(150);
        save_with_report(&file, &without, &[a, "", b]).unwrap();
        assert!(std::fs::read(&file).unwrap() == encode(&stored));
        assert_eq!(load(&file), Some(stored.clone()));
        save(&file, &stored).unwrap();
        assert!(std::fs::read(&file).unwrap() == encode(&stored));
    }

    #[test]
    fn inside_is_by_components() {
        for (path, dir) in [("/c/ta", "/c/ta"), ("/c/ta/x.res", "/c/ta"), ("/c/ta/a/b", "/c"), ("/x", "/")] {
            assert!(inside(Path::new(path), Path::new(dir)), "{path} {dir}");
            assert!(Path::new(path).starts_with(dir));
        }
        for (path, dir) in [("/c/ta2/x", "/c/ta"), ("/c/t", "/c/ta"), ("/d/ta", "/c/ta"), ("/c", "/c/ta")] {
            assert!(!inside(Path::new(path), Path::new(dir)), "{path} {dir}");
            assert!(!Path::new(path).starts_with(dir));
        }
    }

    #[test]
    fn only_settled_states_are_refreshed() {
        let window = cache::RACY_WINDOW.as_nanos() as i64;
        let state =
            |t| FileState::Present { mode: 0o100_644, size: 1, mtime_ns: t, ctime_ns: t, ino: 1, dev: 1 };
        let input =
            |path: &str| Input { path: path.into(), state: state(0), content: Content::Digest([0; 16]) };
        let stored = Stored { inputs: vec![input("/a"), input("/b")], ..sample() };
        let started = 3 * window;
        assert_eq!(stored.refreshed_inputs(&[(0, state(2 * window + 1))], started), None, "recent");
        let refreshed =
            stored.refreshed_inputs(&[(0, state(2 * window + 1)), (1, state(window))], started).unwrap();
        assert_eq!(refreshed[0], stored.inputs[0], "a recent state is not stored");
        assert_eq!(refreshed[1].state, state(window), "a settled one is");
        assert_eq!(refreshed[1].content, stored.inputs[1].content, "its content is kept");
    }

    /// A file changed after the walk took its `lstat` and before the scan read it (here: in
    /// the walk's hook, keeping its size and mtime): the stored state is the walk's, the digest
    /// is of what the scan read, so a later run replays only while the file holds that.
    #[cfg(unix)]
    #[test]
    fn a_change_between_the_walk_and_the_read_is_seen() {
        use std::time::{Duration, SystemTime};
        let (dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let file = dir.path().join("a.py");
        let (before, after) = ("# @threat A (#a)\n", "# @threat B (#b)\n");
        std::fs::write(&file, before).unwrap();
        let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
        let rewrite = move |path: &Path, text: &str| {
            std::fs::write(path, text).unwrap();
            std::fs::File::options().write(true).open(path).unwrap().set_modified(mtime).unwrap();
        };
        std::thread::sleep(cache::RACY_WINDOW + Duration::from_millis(300));
        let started_ns = cache::system_time_ns(SystemTime::now()).unwrap();
        let found = Arc::new(Mutex::new(None));
        let decide = {
            let (found, file) = (found.clone(), file.clone());
            Arc::new(move |discovered: &Discovered<'_>| {
                *found.lock().unwrap() = Some(found_key(discovered));
                rewrite(&file, after);
                true
            })
        };
        let options = crate::walk::WalkOptions {
            cache_dir: Some(cache_dir.path().to_path_buf()),
            found: Some(FoundHook { decide, defer_cache_load: false, compares_lstat: true }),
            ..crate::walk::WalkOptions::default()
        };
        let mut scan = crate::walk::scan_from(dir.path(), &[], &options).unwrap();
        scan.finish_cache();
        let entries = scan.cache.as_ref().unwrap().entries();
        let digests =
            Digests::new(entries.records().map(|r| (r.path.as_str(), Content::of_record(r))).collect());
        let (key, files) = found.lock().unwrap().take().unwrap();
        let walked = FileState::from(files[0].1.unwrap());
        let files: Vec<_> =
            files.into_iter().map(|(path, lstat)| (path, lstat.map(FileState::from))).collect();
        let inputs = stated_inputs(files, &digests, started_ns).unwrap();
        let stored = Stored { key, inputs, status: 0, notes: vec![], report: String::new() };
        let [input] = &stored.inputs[..] else { panic!("{stored:?}") };
        assert_eq!(input.state, walked, "the walk's state");
        assert_ne!(input.state, FileState::of(&file), "taken before the change");
        assert_eq!(
            input.content,
            Content::Digest(cache::content_hash(after.as_bytes()).to_le_bytes()),
            "what was read"
        );
        let moved = stored.inputs_unchanged(|_| Seen::Unseen).expect("the content the run used is there");
        assert_eq!(moved, [(0, FileState::of(&file))]);
        rewrite(&file, before);
        assert_eq!(
            stored.inputs_unchanged(|_| Seen::Unseen),
            None,
            "the content the walk's state saw is not"
        );
    }

    /// The scan's digests are found for the inputs in one pass over both lists: each input gets
    /// its own path's digest (none when the scan has none), whatever order the digests came in,
    /// with paths that are prefixes of others and digests no input asks for.
    #[test]
    fn each_input_gets_its_own_paths_digest() {
        let digest = |n: u8| Content::Digest([n; 16]);
        let given = vec![
            ("/w/b/c", digest(3)),
            ("/w/a", digest(1)),
            ("/w/b", digest(2)),
            ("/w/b.c", digest(4)),
            ("/w/unasked", digest(9)),
            ("/w/c", Content::TurnedAway { binary: true }),
        ];
        let digests = Digests::new(given.clone());
        let asked = ["/v", "/w/a", "/w/a0", "/w/b", "/w/b.c", "/w/b/c", "/w/c", "/w/d", "/x"];
        let found = digests.aligned(asked.iter().copied());
        let expected: Vec<Option<Content>> =
            asked.iter().map(|p| given.iter().find(|(g, _)| g == p).map(|&(_, c)| c)).collect();
        assert_eq!(found, expected);
        assert_eq!(found.iter().flatten().count(), 5, "{found:?}");
    }

    /// Thousands of inputs, stated on every core: the walk's files and the other reads merged in
    /// path order, each path once (its first state), and none stored when one is not settled.
    #[test]
    fn many_inputs_are_merged_in_order_once_each() {
        let started = 100 * cache::RACY_WINDOW.as_nanos() as i64;
        let present =
            |n| FileState::Present { mode: S_IFREG, size: 1, mtime_ns: n, ctime_ns: n, ino: 1, dev: 1 };
        let walked: Vec<(PathBuf, Option<FileState>)> =
            (0..3000).map(|n| (PathBuf::from(format!("/w/{n:05}")), Some(present(n)))).collect();
        // Absent ignore files of the walk's directories, out of order, some read twice, and a
        // walked file read again (the walk's state comes first).
        let ignore = |n: i64| (PathBuf::from(format!("/w/{n:05}.ignore")), Some(FileState::Absent));
        let mut others: Vec<(PathBuf, Option<FileState>)> =
            (0..2000).rev().map(|n| ignore(n * 3 % 2000)).collect();
        others.extend((0..500).map(|n| ignore(n * 7 % 2000)));
        others.push((PathBuf::from("/w/00007"), Some(FileState::Absent)));
        // The scan's digests of the walked files, out of path order (sorted when gathered).
        let paths: Vec<String> = walked.iter().rev().map(|(p, _)| p.to_str().unwrap().to_owned()).collect();
        let digest = Digests::new(paths.iter().map(|p| (p.as_str(), Content::Digest([7; 16]))).collect());
        let inputs: Vec<_> = walked.iter().cloned().chain(others.iter().cloned()).collect();
        let stored = stated_inputs(inputs, &digest, started).unwrap();
        let mut expected = Vec::new();
        for n in 0..3000 {
            expected.push(Input {
                path: format!("/w/{n:05}"),
                state: present(n),
                content: Content::Digest([7; 16]),
            });
            if n < 2000 {
                let path = format!("/w/{n:05}.ignore");
                expected.push(Input { path, state: FileState::Absent, content: Content::Unknown });
            }
        }
        assert!(stored == expected, "{:?}", &stored[..10]);
        // A walked file changed within the racy window before the run started.
        let mut inputs: Vec<_> = walked.into_iter().chain(others).collect();
        inputs[1234].1 = Some(present(started));
        assert_eq!(stated_inputs(inputs, &digest, started), None);
    }

    /// Reads made while the inputs were stated (the analysis, the report) are inputs too: a
    /// new path is stated and merged in order, a turned-away walked file read again gets a
    /// digest, a cache file is none, and one not settled means nothing is stored.
    #[cfg(unix)]
    #[test]
    fn reads_after_the_inputs_were_stated_are_merged_in() {
        use std::time::{Duration, SystemTime};
        let (dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (walked, pinned, cached) =
            (dir.path().join("z.bin"), dir.path().join("a.pin"), cache_dir.path().join("x.idx"));
        std::fs::write(&walked, b"\0binary").unwrap();
        std::fs::write(&pinned, "pin").unwrap();
        std::fs::write(&cached, "cache").unwrap();
        std::thread::sleep(cache::RACY_WINDOW + Duration::from_millis(300));
        let started_ns = cache::system_time_ns(SystemTime::now()).unwrap();
        let absent = dir.path().join("c.missing");
        let path = |p: &Path| p.to_str().unwrap().to_string();
        let turned_away = Content::TurnedAway { binary: true };
        // Absent inputs before the walked file, which comes last.
        let gone = |n: usize| Input {
            path: path(&dir.path().join(format!("b{n}"))),
            state: FileState::Absent,
            content: Content::Unknown,
        };
        let mut stated: Vec<Input> = (0..6).map(gone).collect();
        stated.push(Input { path: path(&walked), state: FileState::of(&walked), content: turned_away });
        let recorded = |path: &Path, absent| crate::read::Recorded { path: path.to_path_buf(), absent };
        // New paths first: a search among the inputs must not meet them.
        let late = [
            recorded(&pinned, false),
            recorded(&absent, true),
            recorded(&walked, false),
            recorded(&pinned, false),
            recorded(&cached, false),
        ];
        let (cwd, cache_dir) = (dir.path(), cache_dir.path());
        let classified = |late: &[crate::read::Recorded]| {
            late.iter().cloned().map(|read| classify(read, |_| false, cwd, cache_dir)).collect::<Vec<_>>()
        };
        let mut inputs = stated.clone();
        assert_eq!(merge_late_reads(&mut inputs, classified(&late), started_ns), Some(true));
        let digest = |bytes: &[u8]| Content::Digest(cache::content_hash(bytes).to_le_bytes());
        let mut expected =
            vec![Input { path: path(&pinned), state: FileState::of(&pinned), content: digest(b"pin") }];
        expected.extend((0..6).map(gone));
        expected.push(Input { path: path(&absent), state: FileState::Absent, content: Content::Unknown });
        expected.push(Input {
            path: path(&walked),
            state: FileState::of(&walked),
            content: digest(b"\0binary"),
        });
        assert_eq!(inputs, expected);
        // Nothing read late, or only inputs already stated: the inputs as stated.
        let mut again = inputs.clone();
        assert_eq!(merge_late_reads(&mut again, classified(&late), started_ns), Some(false));
        assert_eq!(again, expected);
        // A file read late that changed since the run started.
        std::fs::write(&pinned, "new").unwrap();
        assert_eq!(merge_late_reads(&mut stated.clone(), classified(&late[..1]), started_ns), None);
    }

    #[test]
    fn recent_states_are_not_settled() {
        let present =
            |mtime_ns, ctime_ns| FileState::Present { mode: 0, size: 0, mtime_ns, ctime_ns, ino: 1, dev: 1 };
        let window = cache::RACY_WINDOW.as_nanos() as i64;
        assert!(present(0, 0).settled(window));
        assert!(!present(0, 1).settled(window), "a recent change time");
        assert!(!present(1, 0).settled(window), "a recent modification time");
        assert!(FileState::Absent.settled(0));
        assert!(!FileState::Unknown.settled(i64::MAX));
    }
}
