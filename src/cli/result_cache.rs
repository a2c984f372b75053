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
//!   size, mtime, ctime, inode, device and mode, or absent. Links are never followed.
//!
//! The racy-timestamp rule: a result is stored only when every input's mtime and ctime are at
//! least [`crate::cache::RACY_WINDOW`] older than the start of the run. A file changed while
//! (or just before) the run read it may keep its size and timestamps at the filesystem's
//! granularity; one whose ctime is older than the run's start did not change since, so what the
//! run read is what the stored state describes (ctime cannot be set back by `touch`, unlike
//! mtime). Any later change moves its ctime.
//!
//! Not stored (the run is simply not cached): `--verbose`, `-o`, `--baseline`,
//! `--write-baseline`, runs with `unmodelled-resource` enabled (its notes are printed while it
//! reads templates), runs where parsing ran out of time (the outcome depends on time), and runs
//! that end with an error status.
//!
//! # Where and format
//!
//! In the index cache's directory ([`crate::cache::default_dir`]), one file per current
//! directory, PATHs and format (`<hash>.res`): a few per project. `--no-cache` neither reads
//! nor writes it. `TARESLT\0`, format version (u32), payload length (u64), XXH3-64 of the
//! payload, then the postcard-encoded [`Stored`]. Read by [`crate::read`]'s rule for cache
//! files (never through a link, at most [`crate::limits::MAX_CACHE_FILE_SIZE`]); written
//! atomically by the index cache's writer (temporary file, rename; not fsynced: a crash leaves
//! at worst a file the checksum refuses).

use super::CheckArgs;
use crate::cache;
use crate::read::{Links, read_bounded};
use crate::walk::{Discovered, FoundHook};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Bumped whenever the encoding of [`Stored`] changes or what a key covers.
pub const FORMAT_VERSION: u32 = 1;

const MAGIC: &[u8; 8] = b"TARESLT\0";

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

    #[cfg(unix)]
    fn from_metadata(meta: &std::fs::Metadata) -> FileState {
        use std::os::unix::fs::MetadataExt;
        let ns = |secs: i64, nanos: i64| secs.saturating_mul(1_000_000_000).saturating_add(nanos);
        FileState::Present {
            mode: meta.mode(),
            size: meta.size(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
            dev: meta.dev(),
        }
    }

    #[cfg(not(unix))]
    fn from_metadata(_: &std::fs::Metadata) -> FileState {
        // Without a change time a rewrite within the timestamp granularity cannot be told.
        FileState::Unknown
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

/// One stored run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// The digest of everything but the input files' states (see the module docs).
    pub key: u128,
    /// Every input file (absolute path) and its state when the result was stored.
    pub inputs: Vec<(String, FileState)>,
    /// The exit status.
    pub status: i32,
    /// The notes printed on standard error before the report, without their prefix.
    pub notes: Vec<String>,
    /// The report as rendered (before a terminal's styles are applied or stripped).
    pub report: String,
}

impl Stored {
    /// Whether every input is as stored (`lstat` of each; nothing is read).
    pub fn inputs_unchanged(&self) -> bool {
        self.inputs
            .iter()
            .all(|(path, state)| *state != FileState::Unknown && FileState::of(Path::new(path)) == *state)
    }
}

/// Encodes a stored run as the result file holds it.
pub fn encode(stored: &Stored) -> Vec<u8> {
    frame(&postcard::to_allocvec(stored).unwrap_or_default())
}

/// A result file holding `payload` (an encoded [`Stored`], or any bytes: the readers fuzz
/// target reaches the decoder behind the checksum this way).
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 28);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Decodes a result file; `None` for anything that does not validate (magic, version, length,
/// checksum, decoding, bytes left over).
pub fn decode(bytes: &[u8]) -> Option<Stored> {
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
    match postcard::take_from_bytes::<Stored>(payload) {
        Ok((stored, [])) => Some(stored),
        _ => None,
    }
}

/// A digest being built from length-prefixed fields.
#[derive(Default)]
pub struct KeyBuilder(Vec<u8>);

impl KeyBuilder {
    pub fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    pub fn text(&mut self, value: impl std::fmt::Debug) -> &mut Self {
        self.field(format!("{value:?}").as_bytes())
    }

    pub fn path(&mut self, path: &Path) -> &mut Self {
        self.field(path.as_os_str().as_encoded_bytes())
    }

    pub fn finish(&self) -> u128 {
        xxhash_rust::xxh3::xxh3_128(&self.0)
    }
}

/// The digest of what the walk found (see the module docs), and the files it will read.
pub fn found_key(found: &Discovered<'_>) -> (u128, Vec<PathBuf>) {
    let mut key = KeyBuilder::default();
    key.path(found.base).text(found.files.len());
    for (rel, abs, language) in &found.files {
        key.field(rel.as_bytes()).path(abs).text(language);
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
    (key.finish(), found.files.iter().map(|(_, abs, _)| abs.to_path_buf()).collect())
}

/// The result file for `name` (the digest of the current directory, PATHs and format).
pub fn file_for(dir: &Path, name: u128) -> PathBuf {
    dir.join(format!("{name:032x}.res"))
}

/// The stored run in `file`, if one validates. Never through a link.
pub fn load(file: &Path) -> Option<Stored> {
    decode(&read_bounded(file, crate::limits::MAX_CACHE_FILE_SIZE, Links::Refuse).ok()?)
}

/// The stored run to write for a run that started at `started_ns` and depended on `inputs`;
/// `None` when one of them is not settled (the racy-timestamp rule) or cannot be stated.
pub fn to_store(
    key: u128,
    inputs: impl IntoIterator<Item = PathBuf>,
    started_ns: i64,
    status: i32,
    notes: Vec<String>,
    report: String,
) -> Option<Stored> {
    let mut paths: Vec<String> =
        inputs.into_iter().map(|p| p.into_os_string().into_string()).collect::<Result<_, _>>().ok()?;
    paths.sort_unstable();
    paths.dedup();
    let mut states = Vec::with_capacity(paths.len());
    for path in paths {
        let state = FileState::of(Path::new(&path));
        if !state.settled(started_ns) {
            return None;
        }
        states.push((path, state));
    }
    Some(Stored { key, inputs: states, status, notes, report })
}

/// Writes `stored` to `file` atomically; a larger one than a load accepts is not written.
pub fn save(file: &Path, stored: &Stored) -> Result<(), cache::CacheError> {
    let bytes = encode(stored);
    if bytes.len() as u64 > crate::limits::MAX_CACHE_FILE_SIZE {
        let _ = std::fs::remove_file(file);
        return Err(cache::CacheError::Invalid("result too large"));
    }
    cache::write_atomically(file, |out| std::io::Write::write_all(out, &bytes))
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
    stored: Option<Stored>,
    found: Arc<Mutex<Found>>,
}

/// What the walk's hook learnt.
#[derive(Default)]
struct Found {
    /// The full key of this run and the files the walk found.
    key: Option<(u128, Vec<PathBuf>)>,
    /// The stored result matched: replay it.
    replay: bool,
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
        let stored = load(&file);
        crate::read::start_recording();
        Some(Results { file, dir, cwd, options: options.finish(), started_ns, stored, found: Arc::default() })
    }

    /// The walk's hook: replays (stops the walk) when the stored result's key and inputs
    /// match; else notes this run's key.
    pub(super) fn hook(&self) -> FoundHook {
        let (options, stored, found) = (self.options, self.stored.clone(), self.found.clone());
        FoundHook {
            defer_cache_load: stored.is_some(),
            decide: Arc::new(move |discovered| {
                let (walk_key, files) = found_key(discovered);
                let key = KeyBuilder::default()
                    .field(&options.to_le_bytes())
                    .field(&walk_key.to_le_bytes())
                    .finish();
                let replay = stored.as_ref().is_some_and(|s| s.key == key && s.inputs_unchanged());
                let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
                found.replay = replay;
                found.key = Some((key, files));
                !replay
            }),
        }
    }

    /// The stored result, when the walk's hook chose to replay it.
    pub(super) fn replay(&self) -> Option<&Stored> {
        self.found.lock().unwrap_or_else(|e| e.into_inner()).replay.then_some(self.stored.as_ref()).flatten()
    }

    /// Stores this run's result on a thread of its own (nothing when an input is not settled):
    /// `recorded`, the paths read during the run ([`crate::read::take_recorded`]).
    pub(super) fn store(
        self,
        recorded: Vec<PathBuf>,
        status: i32,
        notes: Vec<String>,
        report: String,
    ) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            let Some((key, files)) = self.found.lock().unwrap_or_else(|e| e.into_inner()).key.take() else {
                return;
            };
            let recorded = recorded
                .into_iter()
                .map(|path| crate::paths::normalize(&self.cwd.join(path)))
                .filter(|path| !path.starts_with(&self.dir));
            let stored =
                to_store(key, files.into_iter().chain(recorded), self.started_ns, status, notes, report);
            match stored {
                Some(stored) => {
                    let _ = save(&self.file, &stored);
                }
                // A result that could not be replayed next time is no use: the old one goes.
                None => {
                    let _ = std::fs::remove_file(&self.file);
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Stored {
        Stored {
            key: 7,
            inputs: vec![("/a".into(), FileState::Absent)],
            status: 1,
            notes: vec!["n".into()],
            report: "r\n".into(),
        }
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
