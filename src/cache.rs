//! On-disk index cache: what the last scan learnt about each file, so that an unchanged file
//! is not parsed again (or, when it holds no annotation, not even read).
//!
//! Owns: the cache file of one project root (its location, format, validation, and atomic
//! replacement) and the rule for when a cached entry may be trusted. Shared by `check` (and
//! `dfd`, `report`, `export`) and the language server's initial index, both through
//! [`crate::walk`]. Must never: be trusted when anything about it is doubtful (a cache that does
//! not validate is ignored and rebuilt, never a panic, never a wrong result), write inside the
//! workspace, or hold anything the scan could not recompute from the files themselves.
//!
//! # Where
//!
//! One file per project root (the scan's base directory, canonicalised), named after a hash of
//! that path, in `$THREAT_ANALYZER_CACHE_DIR` if set, else `$XDG_CACHE_HOME/threat-analyzer`,
//! else `~/.cache/threat-analyzer`. `check --no-cache` (and the server setting `cache: false`)
//! neither read nor write it. The directory is created 0700 and the files 0600 (they hold every
//! checked project's paths and annotations); see `create_private_dir` for directories that
//! exist. The file is read by [`crate::read`]'s rule: never through a link, regular files
//! only, at most [`crate::limits::MAX_CACHE_FILE_SIZE`] (a larger cache is not written).
//!
//! # What an entry holds
//!
//! Per file, keyed by its absolute path: size, modification time (ns), the time the entry's
//! content was last read and verified, an XXH3-128 hash of the file's bytes (none for a file the
//! walk's prefilters turned away, see below), and the outcome: no annotations (the prefilter
//! found no verb, or parsing found nothing), binary, not UTF-8, annotated and parsed again
//! ([`Outcome::ParseAgain`]), or the file's facts ([`StoredFacts`], postcard-encoded): the
//! parsed annotations and syntax errors with their exact ranges, and the text's length.
//!
//! A first scan stores facts only for a file whose comments took a syntax tree to find (the
//! byte-level lexer declined, `x-threatspec` values, MCP tool definitions:
//! [`crate::syntax::comments::trees_built`]), which costs ~100 times what lexing does. A file
//! the lexer read (almost every file) gets a [`Outcome::ParseAgain`] entry: the next scan that
//! reads it unchanged parses it again and stores its facts then, to be decoded from the scan
//! after on. Encoding every file's facts cost a first run ~5% of its CPU and wall time on the
//! 20,000-file benchmark (a 25 MB cache file instead of 1.7 MB), and a first run is all a CI
//! machine ever makes; decoding them saves a later run ~0.25 us an annotation over parsing
//! (the language server's warm start, `dfd`, `report`, `export`; benches/README.md,
//! twenty-fourth sitting).
//!
//! A warm run does not parse an unchanged file whose facts are stored; what the model derives
//! from the parse result (each reference's lookup keys, the definition sites, the implicit ids,
//! a `.gal` sidecar's anchors, and a line index on first use) is derived again, as for a parsed
//! file: stored, it was half of the file, and deriving it costs less than decoding it did (see
//! [`StoredFacts`]). Each file's facts are decoded only when that file is used, straight from
//! the loaded bytes (the blob region is not copied), by `cache::wire`: a decoder of postcard's
//! wire format that checks an all-ASCII string word by word instead of through `from_utf8`,
//! and an encoder that writes a small varint as one byte instead of through postcard's scratch
//! buffer. The facts themselves are written by `cache::facts`, by
//! hand, field by field, without serde's traversal (the rare parts through `cache::wire`). Both
//! write postcard's own encoding, byte for byte, so the format did not change.
//!
//! # When an entry is trusted
//!
//! - An entry whose outcome needs the text (`Parsed`, `ParseAgain`) is used only after the file is
//!   read and its hash matches: the text is needed anyway, so the content is always verified.
//!   Its size, mtime and verification time vouch for nothing, so a matching file keeps its
//!   entry as stored: a file touched without a change (a checkout, `touch`) rewrites no cache.
//! - An entry for a file that is not read again (no annotations, binary, not UTF-8) is trusted
//!   on size and modification time alone only when the file was at least [`RACY_WINDOW`] old
//!   when its content was last verified. Otherwise (the racy-git problem: a file rewritten
//!   within the timestamp granularity of the last read keeps its size and mtime) it is read,
//!   hashed and compared; on a match the entry is re-verified and trusted from then on. A file
//!   whose mtime is in the future is never trusted on stat alone.
//! - An entry without a hash is of a file the walk's prefilters turned away (binary, or neither
//!   an annotation literal nor an MCP surface: [`crate::walk`]'s `turned_away`): when its stat
//!   does not vouch for it, the bytes are read and the prefilters decide again, which costs
//!   what hashing them would. On a cold run most files are such files (the sparse benchmark:
//!   11,659 files, 165 MB, almost none annotated), and hashing every byte read was most of what
//!   a cold run paid over `--no-cache` (85M of 152M instructions there). Only a file whose
//!   outcome took parsing is hashed.
//!
//! # Format
//!
//! `TACACHE\0`, format version (u32), build id (crate version plus the running executable's
//! size and mtime, so a rebuilt binary never reads a cache of different code), the canonical
//! root, payload length and XXH3-64 checksum of the payload, then the payload: the encoded
//! [`StoredFacts`] of every parsed file, the postcard-encoded entry table (pointing into them),
//! and the table's length (u64). Any mismatch (magic, version, build, root, length, checksum,
//! decoding) means "no cache". Bump [`FORMAT_VERSION`] when a stored type changes (a test fails
//! on any change of the encoding).
//!
//! # Writing
//!
//! Only when something changed. The file is streamed piece by piece (header, each blob: new
//! ones encoded from the scan's facts one at a time into one reused buffer, unchanged ones
//! straight from the loaded file; then the entry table, record by record, which is why it follows the blobs: each is
//! encoded once, and its length is known only then), its length and checksum computed while
//! writing and written into the header last, so no copy of the whole file, of every file's
//! encoded facts, or of the table is built in memory (measuring each blob first, to put the table in front, was half of the
//! writer's time). A scan writes it while it runs ([`Stream`]): the blobs of each chunk of
//! files as it is merged, from the first chunk that changes the cache on, so that encoding
//! shares the cores with parsing instead of running after it. The new file is written beside the old one under a unique
//! temporary name and renamed over it, so readers see the old or the new file, never a mix,
//! and concurrent writers (two editors on one repository) cannot corrupt it: the last rename
//! wins, and either result is a valid cache. It is not `fsync`ed: the cache is a cache, and
//! what a crash could leave (a truncated or empty file) fails the checksum and is ignored,
//! while `fsync` made a cold `check` of the dense benchmark wait for the disk (its 5 MB took
//! 30-110 ms on a loaded machine, as long as the rest of the run).

mod facts;
pub(crate) mod wire;

use crate::limits::MAX_CACHE_FILE_SIZE;
use crate::model::{FileFacts, StoredFacts};
use crate::read::{Links, Refusal, read_bounded};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bumped whenever the encoding of the header, [`Record`] or [`StoredFacts`] changes, or what
/// stored facts hold (3: the `agent-instruction-in-annotation` warnings; 4: the MCP surface,
/// [`crate::syntax::mcp`]; 5: the derived facts and line index next to the parse result; 6: the
/// annotations' risk fields; 7: a name's path key only for assets; 8: the text's length instead
/// of its line index; 9: the entry table after the blobs; 10: no hash for a file turned away
/// before parsing; 11: the derived facts no longer stored, see [`StoredFacts`]; 12:
/// [`Outcome::ParseAgain`], a file whose facts are stored the second time it is read; 13: a
/// `@boundary`'s `directed`).
pub const FORMAT_VERSION: u32 = 13;

const MAGIC: &[u8; 8] = b"TACACHE\0";

/// How old a file must have been when its content was verified for its size and mtime alone to
/// vouch for it later. Two seconds covers coarse timestamps (FAT: 2 s, HFS+ and ext3: 1 s).
pub const RACY_WINDOW: Duration = Duration::from_secs(2);

/// The environment variable that overrides the cache directory (tests, CI, shared runners).
pub const DIR_ENV: &str = "THREAT_ANALYZER_CACHE_DIR";

/// The cache directory: `$THREAT_ANALYZER_CACHE_DIR`, else `$XDG_CACHE_HOME/threat-analyzer`,
/// else `$HOME/.cache/threat-analyzer`; `None` when none of them is set.
pub fn default_dir() -> Option<PathBuf> {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = env(DIR_ENV) {
        return Some(dir);
    }
    let xdg = env("XDG_CACHE_HOME").filter(|p| p.is_absolute());
    let base = xdg.or_else(|| env("HOME").map(|home| home.join(".cache")))?;
    Some(base.join("threat-analyzer"))
}

/// The cache file for the project rooted at `root` (canonicalised when possible).
pub fn file_for(dir: &Path, root: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(root_key(root).as_bytes());
    let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{name}.idx"))
}

fn root_key(root: &Path) -> String {
    std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()).to_string_lossy().into_owned()
}

/// Why a cache file was not used.
#[derive(Debug)]
pub enum CacheError {
    /// Reading or writing failed (a missing file on load is `NotFound`).
    Io(io::Error),
    /// The file exists but cannot be trusted: wrong magic, version, build or root, truncated,
    /// checksum mismatch, undecodable.
    Invalid(&'static str),
    /// Not read: a symbolic link, not a regular file, or over [`MAX_CACHE_FILE_SIZE`] (a
    /// planted file in a shared cache directory, such as a link to `/dev/zero`).
    Refused(Refusal),
}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheError::Io(e) => write!(f, "{e}"),
            CacheError::Invalid(why) => write!(f, "ignored ({why})"),
            CacheError::Refused(why) => write!(f, "not read: {why}"),
        }
    }
}

impl From<io::Error> for CacheError {
    fn from(e: io::Error) -> Self {
        CacheError::Io(e)
    }
}

/// A file's stat identity: size and modification time in nanoseconds since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub size: u64,
    pub mtime_ns: i64,
}

impl Stat {
    pub fn from_metadata(meta: &std::fs::Metadata) -> Option<Stat> {
        Some(Stat { size: meta.len(), mtime_ns: system_time_ns(meta.modified().ok()?)? })
    }
}

/// Nanoseconds since the epoch (negative before it); `None` outside +-292 years.
pub fn system_time_ns(t: SystemTime) -> Option<i64> {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).ok(),
        Err(e) => i64::try_from(e.duration().as_nanos()).ok().map(|n| -n),
    }
}

/// The content hash stored per file.
pub fn content_hash(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

/// What a scan learnt about a file from its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// No annotation and no syntax error: the prefilter found no verb, or parsing found none.
    NoAnnotations,
    /// A NUL byte in the first 8 KiB.
    Binary,
    /// Holds an annotation literal but is not valid UTF-8 (first invalid byte).
    InvalidUtf8 { offset: u64 },
    /// The file's facts ([`StoredFacts`]): `len` bytes at `start` of the blob region.
    Parsed { start: u64, len: u64 },
    /// Holds annotations, syntax errors or an MCP surface that were found without a syntax
    /// tree, on a first scan: no facts stored; the next scan that finds the same bytes parses
    /// them again and stores their facts (see *What an entry holds*).
    ParseAgain,
}

/// One file's entry as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub path: String,
    pub size: u64,
    pub mtime_ns: i64,
    /// When the content was last read and found to hash to `hash` (or, without one, to be
    /// turned away as `outcome` says) (ns since the epoch).
    pub verified_ns: i64,
    /// [`content_hash`] of the bytes; `None` when the walk's prefilters turned them away
    /// (`outcome` is then `NoAnnotations` or `Binary`, derived again from the bytes instead).
    pub hash: Option<u128>,
    pub outcome: Outcome,
}

impl Record {
    /// Whether the entry may stand for the file without reading it (see the module docs).
    pub fn trusted_by_stat(&self, stat: Stat) -> bool {
        self.size == stat.size
            && self.mtime_ns == stat.mtime_ns
            && stat.mtime_ns.saturating_add(RACY_WINDOW.as_nanos() as i64) <= self.verified_ns
    }
}

/// A loaded cache file: the entry table and the encoded facts it points into (the file's
/// bytes as read, the blob region at `blobs`).
#[derive(Debug, Default)]
pub struct Loaded {
    records: FxHashMap<String, Record>,
    bytes: Vec<u8>,
    blobs: std::ops::Range<usize>,
}

impl Loaded {
    pub fn get(&self, path: &str) -> Option<&Record> {
        self.records.get(path)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The encoded facts of a `Parsed` record.
    pub fn blob(&self, record: &Record) -> Option<&[u8]> {
        self.blob_at(&record.outcome)
    }

    /// The encoded facts at a `Parsed` outcome of this cache.
    fn blob_at(&self, outcome: &Outcome) -> Option<&[u8]> {
        match *outcome {
            Outcome::Parsed { start, len } => {
                let start = usize::try_from(start).ok()?;
                let end = start.checked_add(usize::try_from(len).ok()?)?;
                self.bytes.get(self.blobs.clone())?.get(start..end)
            }
            _ => None,
        }
    }

    /// Every record, in no particular order.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.records.values()
    }
}

/// Decodes facts stored by [`encode_facts`]; `None` if they do not decode (or leave bytes over).
pub fn decode_facts(blob: &[u8]) -> Option<StoredFacts> {
    wire::from_bytes(blob)
}

/// Encodes a file's facts as the cache stores them (what [`Blob::Facts`] becomes).
pub fn encode_facts(facts: &FileFacts) -> Vec<u8> {
    let mut out = Vec::new();
    match encode_facts_into(facts, &mut out) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

/// [`encode_facts`] into `buffer` (emptied first), reusing its allocation.
fn encode_facts_into(facts: &FileFacts, buffer: &mut Vec<u8>) -> Result<(), wire::Error> {
    buffer.clear();
    facts::encode(&facts.to_store(), buffer)
}

/// Identifies the code that wrote a cache: the crate version, the cache format, and the
/// running executable's size and modification time (a rebuilt binary may parse differently).
pub(crate) fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let exe = std::env::current_exe().and_then(std::fs::metadata).ok();
        let (size, mtime) =
            exe.map(|m| (m.len(), m.modified().ok().and_then(system_time_ns).unwrap_or(0))).unwrap_or((0, 0));
        format!("{} f{FORMAT_VERSION} exe:{size}:{mtime}", env!("CARGO_PKG_VERSION"))
    })
}

/// Loads the cache of `root` from `dir`. A missing file is `Io(NotFound)`; anything doubtful is
/// `Invalid`.
// @exposes ThreatAnalyzer.Walk to #stale-cache -- "reuses what an earlier run parsed"
// @mitigates ThreatAnalyzer.Walk against #stale-cache using #validated-cache
// @exposes Host.IndexCache to #cache-poisoning -- "a shared cache directory may hold planted files"
// @mitigates Host.IndexCache against #cache-poisoning using #bounded-reads
pub fn load(dir: &Path, root: &Path) -> Result<Loaded, CacheError> {
    let bytes = match read_bounded(&file_for(dir, root), MAX_CACHE_FILE_SIZE, Links::Refuse) {
        Ok(bytes) => bytes,
        Err(why) if why.is_missing() => return Err(CacheError::Io(io::ErrorKind::NotFound.into())),
        Err(why) => return Err(CacheError::Refused(why)),
    };
    decode_file(bytes, &root_key(root), build_id())
}

/// Reads `n` bytes at `*at`, advancing it.
fn take<'a>(bytes: &'a [u8], at: &mut usize, n: usize) -> Result<&'a [u8], CacheError> {
    let end = at.checked_add(n).ok_or(CacheError::Invalid("truncated"))?;
    let out = bytes.get(*at..end).ok_or(CacheError::Invalid("truncated"))?;
    *at = end;
    Ok(out)
}

fn take_u32(bytes: &[u8], at: &mut usize) -> Result<u32, CacheError> {
    Ok(u32::from_le_bytes(take(bytes, at, 4)?.try_into().expect("4 bytes")))
}

fn take_u64(bytes: &[u8], at: &mut usize) -> Result<u64, CacheError> {
    Ok(u64::from_le_bytes(take(bytes, at, 8)?.try_into().expect("8 bytes")))
}

fn decode_file(file: Vec<u8>, root: &str, build: &str) -> Result<Loaded, CacheError> {
    let bytes = &file[..];
    let mut at = 0;
    if take(bytes, &mut at, MAGIC.len())? != MAGIC {
        return Err(CacheError::Invalid("not a threat-analyzer cache"));
    }
    if take_u32(bytes, &mut at)? != FORMAT_VERSION {
        return Err(CacheError::Invalid("other format version"));
    }
    let build_len = take_u32(bytes, &mut at)? as usize;
    if take(bytes, &mut at, build_len)? != build.as_bytes() {
        return Err(CacheError::Invalid("written by another build"));
    }
    let root_len = take_u32(bytes, &mut at)? as usize;
    if take(bytes, &mut at, root_len)? != root.as_bytes() {
        return Err(CacheError::Invalid("for another project root"));
    }
    let payload_len = take_u64(bytes, &mut at)?;
    let checksum = take_u64(bytes, &mut at)?;
    let payload_at = at;
    let payload = &bytes[at..];
    if payload.len() as u64 != payload_len {
        return Err(CacheError::Invalid("truncated"));
    }
    if xxhash_rust::xxh3::xxh3_64(payload) != checksum {
        return Err(CacheError::Invalid("checksum mismatch"));
    }
    // The blobs, then the table, then the table's length.
    let mut at = payload.len().checked_sub(8).ok_or(CacheError::Invalid("truncated"))?;
    let table_len = take_u64(payload, &mut at)?;
    let blobs_len = usize::try_from(table_len)
        .ok()
        .and_then(|len| (payload.len() - 8).checked_sub(len))
        .ok_or(CacheError::Invalid("truncated"))?;
    let table = &payload[blobs_len..payload.len() - 8];
    let records: Vec<Record> = wire::from_bytes(table).ok_or(CacheError::Invalid("undecodable"))?;
    let blobs = payload_at..payload_at + blobs_len;
    let mut loaded = Loaded { records: FxHashMap::default(), bytes: file, blobs };
    loaded.records.reserve(records.len());
    for record in records {
        if let Outcome::Parsed { .. } = record.outcome
            && loaded.blob(&record).is_none()
        {
            return Err(CacheError::Invalid("entry points outside the file"));
        }
        loaded.records.insert(record.path.clone(), record);
    }
    Ok(loaded)
}

/// A file's entry for the next cache: its record and, for parsed files, the encoded result
/// (new bytes, or the old record's bytes in the loaded cache).
#[derive(Debug)]
pub struct Entry {
    pub record: Record,
    pub parsed: Option<Blob>,
}

/// Where a parsed entry's bytes come from.
#[derive(Debug)]
pub enum Blob {
    /// Freshly parsed facts, encoded one at a time as the writer writes them (the same
    /// bytes as [`encode_facts`]): a cold run holds no second, encoded copy of every file's
    /// facts (~55 MB on the 20,000-file benchmark) until the writer has taken them all.
    Facts(std::sync::Arc<FileFacts>),
    /// Unchanged: the bytes of this record in the loaded cache.
    Old,
}

/// A [`Record`] as the table stores it, borrowed: the same fields in the same order, so the
/// same bytes.
#[derive(Serialize)]
struct RecordRef<'a> {
    path: &'a str,
    size: u64,
    mtime_ns: i64,
    verified_ns: i64,
    hash: Option<u128>,
    outcome: &'a Outcome,
}

/// The header before the payload; its last 16 bytes, the payload's length and checksum, are
/// zero here: [`write_file`] fills them in once the payload is written.
fn header(root: &str, build: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(40 + root.len() + build.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(build.len() as u32).to_le_bytes());
    out.extend_from_slice(build.as_bytes());
    out.extend_from_slice(&(root.len() as u32).to_le_bytes());
    out.extend_from_slice(root.as_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out
}

/// The payload as it is written: hashed and counted on the way, refused past `limit` bytes.
struct Payload<'w, W> {
    out: &'w mut W,
    hasher: xxhash_rust::xxh3::Xxh3,
    /// The header's length (for the size refused).
    header: u64,
    written: u64,
    limit: u64,
}

impl<W: Write> Payload<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.written += bytes.len() as u64;
        if self.written > self.limit {
            return Err(io::Error::other(TooLarge(self.header + self.written)));
        }
        self.hasher.update(bytes);
        self.out.write_all(bytes)
    }
}

/// The cache file would exceed its limit: the size it had reached.
#[derive(Debug)]
struct TooLarge(u64);

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the cache file would be too large")
    }
}

impl std::error::Error for TooLarge {}

/// An encoding buffer grown past this (a large file's facts) is not kept for the next file.
/// The writer encodes each file's facts itself: handing batches to the thread pool (so that the
/// core the analysis leaves idle would help) made a cold `check` of the huge benchmark ~20 ms
/// slower, its analysis queued behind the encoding (twelfth sitting, interleaved runs).
const KEPT_BUFFER: usize = 1 << 16;

/// Where one entry's blob comes from, as the writer needs it ([`piece`]): what the scan hands
/// over while it runs, without the entry's record (which the table, written last, takes from
/// the entries themselves).
pub(crate) enum Piece {
    /// No blob: the record's outcome needs no text.
    Record,
    /// Freshly parsed facts, encoded as they are written.
    Facts(std::sync::Arc<FileFacts>),
    /// Unchanged: the old record's bytes in the loaded cache.
    Old(Outcome),
    /// A parsed entry whose bytes are gone: not stored.
    Dropped,
}

/// What [`Piece`] `entry` gives the writer.
fn piece(entry: &Entry) -> Piece {
    match &entry.parsed {
        Some(Blob::Facts(facts)) => Piece::Facts(facts.clone()),
        Some(Blob::Old) => Piece::Old(entry.record.outcome.clone()),
        None if matches!(entry.record.outcome, Outcome::Parsed { .. }) => Piece::Dropped,
        None => Piece::Record,
    }
}

/// Where an entry's blob went.
enum Placed {
    /// Nowhere: the record is stored as it is.
    Record,
    At(Outcome),
    /// The entry is dropped.
    Dropped,
}

/// A cache file being written: the header, then the blobs as the pieces come ([`Writing::blobs`]),
/// then the table ([`Writing::finish`]).
struct Writing<'w, 'o, W> {
    payload: Payload<'w, W>,
    header_len: u64,
    old: Option<&'o Loaded>,
    /// Where each entry's blob went, in entry order.
    placed: Vec<Placed>,
    /// One buffer, reused from file to file.
    buffer: Vec<u8>,
}

impl<'w, 'o, W: Write + Seek> Writing<'w, 'o, W> {
    /// Writes the header (length and checksum zero until [`Writing::finish`]); the whole file is
    /// limited to `limit` bytes.
    fn start(
        root: &str,
        build: &str,
        old: Option<&'o Loaded>,
        limit: u64,
        out: &'w mut W,
    ) -> io::Result<Self> {
        let header = header(root, build);
        out.write_all(&header)?;
        let (hasher, header_len) = (xxhash_rust::xxh3::Xxh3::new(), header.len() as u64);
        let limit = limit.saturating_sub(header_len);
        let payload = Payload { out, hasher, header: header_len, written: 0, limit };
        Ok(Writing { payload, header_len, old, placed: Vec::new(), buffer: Vec::new() })
    }

    /// Writes the next entries' blobs (new facts encoded one at a time into one reused buffer,
    /// so no encoded copy of every file's facts is held, and each encoded once: the table,
    /// which records where each blob went, follows them). A parsed entry whose bytes are gone
    /// (or whose facts do not encode) is dropped rather than stored wrong.
    fn blobs(&mut self, pieces: impl IntoIterator<Item = Piece>) -> io::Result<()> {
        for piece in pieces {
            let start = self.payload.written;
            let written = match &piece {
                Piece::Facts(facts) => {
                    if self.buffer.capacity() > KEPT_BUFFER {
                        self.buffer = Vec::new();
                    }
                    encode_facts_into(facts, &mut self.buffer).is_ok().then_some(&self.buffer[..])
                }
                Piece::Old(outcome) => self.old.and_then(|old| old.blob_at(outcome)),
                Piece::Dropped => None,
                Piece::Record => {
                    self.placed.push(Placed::Record);
                    continue;
                }
            };
            self.placed.push(match written {
                Some(bytes) => {
                    self.payload.write(bytes)?;
                    Placed::At(Outcome::Parsed { start, len: self.payload.written - start })
                }
                None => Placed::Dropped,
            });
        }
        Ok(())
    }

    /// Writes the blobs of the entries not written yet, the table (each record encoded as it is
    /// written) and its length; then the payload's length and checksum into the header.
    /// `entries`: every entry, in the order their pieces came. Returns the file's size.
    fn finish(mut self, entries: &[Entry]) -> io::Result<u64> {
        let done = self.placed.len();
        self.blobs(entries.get(done..).unwrap_or_default().iter().map(piece))?;
        let Writing { mut payload, header_len, placed, mut buffer, .. } = self;
        // The table, `Vec<Record>` as postcard writes it (the count, then each record), written
        // as it is encoded: no copy of every record, nor of the whole table, is held.
        let table_start = payload.written;
        buffer.clear();
        let invalid = |e: wire::Error| io::Error::new(io::ErrorKind::InvalidData, e);
        let kept = placed.iter().filter(|p| !matches!(p, Placed::Dropped)).count();
        wire::encode(&kept, &mut buffer).map_err(invalid)?;
        for (entry, placed) in entries.iter().zip(&placed) {
            let r = &entry.record;
            let outcome = match placed {
                Placed::Record => &r.outcome,
                Placed::At(outcome) => outcome,
                Placed::Dropped => continue,
            };
            let record = RecordRef {
                path: &r.path,
                size: r.size,
                mtime_ns: r.mtime_ns,
                verified_ns: r.verified_ns,
                hash: r.hash,
                outcome,
            };
            wire::encode(&record, &mut buffer).map_err(invalid)?;
            if buffer.len() >= 1 << 16 {
                payload.write(&buffer)?;
                buffer.clear();
            }
        }
        payload.write(&buffer)?;
        let table_len = payload.written - table_start;
        payload.write(&table_len.to_le_bytes())?;
        let (written, checksum) = (payload.written, payload.hasher.digest());
        let out = payload.out;
        out.seek(io::SeekFrom::Start(header_len - 16))?;
        out.write_all(&written.to_le_bytes())?;
        out.write_all(&checksum.to_le_bytes())?;
        Ok(header_len + written)
    }
}

/// Writes the cache file of `entries` to `out` (at its start), taking unchanged blobs from
/// `old` ([`Writing`]: the header, each parsed entry's blob, the table). The whole file is
/// limited to `limit` bytes; returns its size.
fn write_file(
    root: &str,
    build: &str,
    entries: &[Entry],
    old: Option<&Loaded>,
    limit: u64,
    out: &mut (impl Write + Seek),
) -> io::Result<u64> {
    Writing::start(root, build, old, limit, out)?.finish(entries)
}

/// Encodes the cache file for `root` from `entries`, taking unchanged blobs from `old`, into
/// one buffer (tests; [`save`] streams the same bytes to the file).
#[cfg(test)]
fn encode_file(root: &str, build: &str, entries: &[Entry], old: Option<&Loaded>) -> Vec<u8> {
    let mut out = io::Cursor::new(Vec::new());
    write_file(root, build, entries, old, u64::MAX, &mut out).expect("writing to a Vec");
    out.into_inner()
}

/// Writes the cache of `root` atomically (see the module docs): temporary file in `dir`,
/// renamed over the old file.
// @mitigates Host.IndexCache against #cache-poisoning using #atomic-cache-writes
pub fn save(dir: &Path, root: &Path, entries: &[Entry], old: Option<&Loaded>) -> Result<(), CacheError> {
    save_limited(dir, root, entries, old, MAX_CACHE_FILE_SIZE)
}

/// [`save`] of a file of at most `limit` bytes. One that would be larger (and so refused on
/// load) is not written, and the old one is not kept either.
fn save_limited(
    dir: &Path,
    root: &Path,
    entries: &[Entry],
    old: Option<&Loaded>,
    limit: u64,
) -> Result<(), CacheError> {
    let file = file_for(dir, root);
    let (root, build) = (root_key(root), build_id());
    write_limited(&file, limit, |out| write_file(&root, build, entries, old, limit, out).map(drop))
}

/// [`write_atomically`] of a file `write` refuses past `limit` bytes ([`TooLarge`]): then
/// nothing is written, and the old file (now stale) is removed.
fn write_limited(
    file: &Path,
    limit: u64,
    write: impl FnOnce(&mut io::BufWriter<std::fs::File>) -> io::Result<()>,
) -> Result<(), CacheError> {
    let written = write_atomically(file, write);
    let too_large = |e: &io::Error| e.get_ref().and_then(|e| e.downcast_ref::<TooLarge>()).map(|t| t.0);
    match written {
        Err(CacheError::Io(e)) if let Some(size) = too_large(&e) => {
            let _ = std::fs::remove_file(file);
            Err(CacheError::Refused(Refusal::TooLarge { size, limit }))
        }
        written => written,
    }
}

/// What the scan hands a [`Stream`]'s writer.
enum Batch {
    /// The pieces of the next entries, in order.
    Pieces(Vec<Piece>),
    /// Every entry, the ones already handed over first: write the rest and the table.
    Finish(std::sync::Arc<Vec<Entry>>),
}

/// The cache of a root written while the scan runs, on a thread of its own: the blobs of each
/// batch of files as the scan merges it ([`Stream::send`]), the rest and the table when the
/// scan ends ([`Stream::finish`]); the same bytes as [`save`] of the same entries.
///
/// Why: written all at the end, the writer ran after the last file was parsed, while one core
/// analysed and the other encoded every file's facts; on a small project (the dense
/// benchmark) the writer was the last to finish (~40M instructions of encoding and writing
/// after the walk, against ~25M of analysis and rendering). Streamed, the encoding shares the
/// cores with parsing, and what is left at the end is the last batch and the table. Memory is
/// what it was: the facts are the index's, and each blob goes to the file as it is encoded.
pub struct Stream {
    send: std::sync::mpsc::Sender<Batch>,
    thread: std::thread::JoinHandle<Result<(), CacheError>>,
    /// How many entries were handed over.
    sent: usize,
}

impl Stream {
    /// Starts writing the cache file of `root` in `dir`, taking unchanged blobs from `old`.
    pub fn start(dir: &Path, root: &Path, old: Option<std::sync::Arc<Loaded>>) -> Stream {
        Stream::start_limited(dir, root, old, MAX_CACHE_FILE_SIZE)
    }

    fn start_limited(dir: &Path, root: &Path, old: Option<std::sync::Arc<Loaded>>, limit: u64) -> Stream {
        let (send, receive) = std::sync::mpsc::channel::<Batch>();
        let file = file_for(dir, root);
        let root = root_key(root);
        let thread = std::thread::spawn(move || {
            write_limited(&file, limit, |out| {
                let mut writing = Writing::start(&root, build_id(), old.as_deref(), limit, out)?;
                for batch in receive {
                    match batch {
                        Batch::Pieces(pieces) => writing.blobs(pieces)?,
                        Batch::Finish(entries) => return writing.finish(&entries).map(drop),
                    }
                }
                // The scan dropped the stream without finishing it: no file.
                Err(io::Error::other("the scan ended before the cache was complete"))
            })
        });
        Stream { send, thread, sent: 0 }
    }

    /// Hands over the entries of `entries` not handed over yet (`entries` grows from call to
    /// call: the scan's entries so far, in order).
    pub fn send(&mut self, entries: &[Entry]) {
        let Some(new) = entries.get(self.sent..).filter(|new| !new.is_empty()) else { return };
        self.sent = entries.len();
        // A writer that stopped (an error) says why when it is joined.
        let _ = self.send.send(Batch::Pieces(new.iter().map(piece).collect()));
    }

    /// Finishes the file with `entries`, every entry (those handed over first, in the same
    /// order); the write to wait for.
    pub fn finish(
        self,
        entries: std::sync::Arc<Vec<Entry>>,
    ) -> std::thread::JoinHandle<Result<(), CacheError>> {
        debug_assert!(entries.len() >= self.sent);
        let _ = self.send.send(Batch::Finish(entries));
        self.thread
    }
}

/// Temporary files older than this are leftovers of a writer that died.
const STALE_TEMP: Duration = Duration::from_secs(600);

/// Writes `target` through `write` (given a buffered writer on the temporary file).
pub(crate) fn write_atomically(
    target: &Path,
    write: impl FnOnce(&mut io::BufWriter<std::fs::File>) -> io::Result<()>,
) -> Result<(), CacheError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = target.parent().ok_or(CacheError::Invalid("no cache directory"))?;
    create_private_dir(dir)?;
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let unique =
        format!(".{name}.{}.{nanos}.{}.tmp", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let temp = dir.join(unique);
    let written = (|| -> io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = io::BufWriter::with_capacity(1 << 16, options.open(&temp)?);
        write(&mut file)?;
        // Not fsynced (see the module docs): a crash leaves at worst a file the checksum refuses.
        drop(file.into_inner().map_err(io::IntoInnerError::into_error)?);
        std::fs::rename(&temp, target)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e.into());
    }
    remove_stale_temps(dir, &name);
    Ok(())
}

/// Creates the cache directory (and missing parents) readable by the owner only: the cache
/// holds the paths and annotations of every project checked. A directory that exists is left
/// as it is (it may be a shared directory set on purpose), except that the default directory
/// ([`default_dir`] without [`DIR_ENV`]), which only this tool uses, is tightened to 0700 when
/// it is the user's and open to others (as versions before 0.1 created it); permissions are
/// never loosened.
// @exposes Host.IndexCache to #cache-disclosure -- "holds every checked project's paths and annotations"
// @mitigates Host.IndexCache against #cache-disclosure using #private-cache
fn create_private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let ours =
            std::env::var_os(DIR_ENV).is_none_or(|v| v.is_empty()) && default_dir().as_deref() == Some(dir);
        let meta = std::fs::symlink_metadata(dir)?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let uid = unsafe { libc::geteuid() };
        if ours && meta.is_dir() && meta.uid() == uid && meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(meta.mode() & 0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Removes temporary files of this cache file left by writers that died mid-write.
fn remove_stale_temps(dir: &Path, name: &str) {
    let Ok(read) = std::fs::read_dir(dir) else { return };
    let prefix = format!(".{name}.");
    for entry in read.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        if !(file_name.starts_with(&prefix) && file_name.ends_with(".tmp")) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file_id::FileId;
    use crate::syntax::Language;

    const SAMPLE: &str = "# @threat SQL injection (#sqli) [high] cwe:CWE-89 -- \"quoted\"\n\
                          # @exposes App.Api to #sqli with user input\n\
                          # @mitigates App.Api against #sqli using Prepared statements\n\
                          # @flows User -> App.Api via HTTPS\n\
                          # @boundary between App and DB (#dmz)\n\
                          # @boundary from User to App.Api\n\
                          # @alias component @web:@api to Web API\n\
                          # @exposez App to #x\n";

    use crate::model::file_text::FileText;

    fn whole(text: std::sync::Arc<str>) -> FileText {
        FileText::whole(text)
    }

    fn sample_facts() -> FileFacts {
        FileFacts::new(FileId::relative("a.py"), Language::Python, SAMPLE.into())
    }

    fn sample_blob() -> Vec<u8> {
        encode_facts(&sample_facts())
    }

    /// Facts as text, to compare (the model's types have no equality of their own).
    fn shown(facts: &FileFacts) -> String {
        format!(
            "{:?} {:?} {:?} {:?} {:?} {:?}",
            facts.parsed,
            facts.line_index(),
            facts.refs,
            facts.defs,
            facts.implicit_ids,
            facts.anchors
        )
    }

    #[test]
    fn facts_round_trip() {
        let facts = sample_facts();
        assert!(facts.annotations().len() >= 6 && !facts.parsed.errors.is_empty(), "{facts:?}");
        assert!(!facts.defs.is_empty() && !facts.implicit_ids.is_empty(), "{facts:?}");
        let stored = decode_facts(&encode_facts(&facts)).unwrap();
        let back =
            FileFacts::from_stored(facts.path.clone(), facts.language, whole(facts.text.shared()), stored)
                .unwrap();
        assert_eq!(shown(&back), shown(&facts));
    }

    #[test]
    fn facts_that_do_not_fit_are_refused() {
        let blob = sample_blob();
        // Another text (another length): the stored facts do not fit.
        let stored = decode_facts(&blob).unwrap();
        let other: std::sync::Arc<str> = format!("{SAMPLE}# more\n").into();
        assert!(
            FileFacts::from_stored(FileId::relative("a.py"), Language::Python, whole(other), stored)
                .is_none()
        );
        // Trailing bytes and truncations are not facts.
        let mut longer = blob.clone();
        longer.push(0);
        assert!(decode_facts(&longer).is_none());
        for len in 0..blob.len() {
            assert!(decode_facts(&blob[..len]).is_none(), "truncated to {len} bytes was accepted");
        }
    }

    #[test]
    fn sidecar_anchors_follow_the_key_not_the_cache() {
        let text: std::sync::Arc<str> = "@source file:src/app.py line:3\n@exposes App to #x\n".into();
        let relative = FileFacts::new(FileId::relative(".guardlink/a.gal"), Language::Gal, text.clone());
        assert!(!relative.anchors.is_empty(), "{relative:?}");
        let stored = decode_facts(&encode_facts(&relative)).unwrap();
        let abs = FileId::absolute(std::path::Path::new("/p/.guardlink/a.gal"));
        let absolute =
            FileFacts::from_stored(abs.clone(), Language::Gal, whole(text.clone()), stored).unwrap();
        let fresh = FileFacts::new(abs, Language::Gal, text);
        assert_eq!(format!("{:?}", absolute.anchors), format!("{:?}", fresh.anchors));
    }

    /// Lines of generated files: every annotation kind of both dialects, risk fields, sidecar
    /// anchors, syntax errors, non-ASCII names and plain code (repeated, offsets need two
    /// and three varint bytes).
    const LINES: &[&str] = &[
        "# @threat SQL injection (#sqli) [high] cwe:CWE-89 -- \"quoted\"",
        "# @control Prepared statements (#prep)",
        "# @exposes App.Api to #sqli with user input",
        "# @mitigates App.Api against #sqli using #prep",
        "# @accepts #xss on App.Web -- \"later\"",
        "# @transfers #dos from App.Api to Cloud.Cdn",
        "# @flows User -> App.Api via HTTPS",
        "# @boundary between App and DB (#dmz)",
        "# @alias component @web:@api to Web API",
        "# @asset Zoë.Café (#cafe) -- \"naïve 名前\"",
        "# @component App:Api",
        "# @exposes App:Api to SQL injection with user input",
        "# @mitigates App:Api against #sqli with #prep",
        "# @exposez App to #x",
        "# @mitigates",
        "@source file:src/app.py line:3",
        "def handler(): return 1  # @exposes App.Web to #xss",
        "x = 42",
        "",
        // Every other verb, the rare fields (risk, severity, external references, an extended
        // block's keys, empty strings) and an MCP tool: the hand-written encoder
        // (`cache::facts`) writes each of them itself or hands it to serde.
        "# @confirmed #idor on Shop.Orders",
        "# @entitles #support to issue refunds on Shop.Api",
        "# @entitles #customer to place-order",
        "# @feature \"Checkout\"",
        "# @validates #prep for App.Api",
        "# @tests #csp for #web",
        "# @audit App.Api -- \"reviewed\"",
        "# @review #a added",
        "# @owns team-orders for Shop.Api.Orders",
        "# @handles pii on Shop.Api.Orders",
        "# @assumes Shop.Web -- \"behind the proxy\"",
        "# @comment -- \"a note\"",
        "# @describe component @dmz:@web as Apache with mod_php",
        "# @shield -- \"generated\"\nx = 0",
        "# @shield:begin\n# @exposes Hidden to #x\n# @shield:end\nx = 0",
        "# @threat Leak (#leak) [P1] risk:L2xI3 owner:sec due:2026-01-31 audited:2025-12-01",
        "# @exposes App to #leak [critical] cwe:CWE-200 owasp:A01 -- \"\"",
        "# @connects App:Api to App:Db with TLS as db-link",
        "# @flows A <-> B via \"\"",
        "# @transfers #t to @b:@c",
        "# @boundary App | Ünïcode (#zone)",
        "# @mitigates WebApp:Api against #xss with #csp:\n# description: Strict CSP\n# ticket: SEC-12",
        "# @component Web API (WebApp:Api)",
        "# @exposes \"\" to #x",
        "@source file:src/other.py line:7 symbol:handler\n@exposes A to #b",
    ];

    /// Which of the rare parts and `Body` variants the facts of `lines` hold, as text.
    fn kinds_of(facts: &FileFacts) -> std::collections::BTreeSet<String> {
        let mut seen = std::collections::BTreeSet::new();
        for a in facts.annotations() {
            let body = format!("{:?}", a.body);
            seen.insert(body[..body.find([' ', '(']).unwrap_or(body.len())].to_string());
            for (present, part) in [
                (a.severity.is_some(), "severity"),
                (a.risk().is_some(), "risk"),
                (!a.external_refs().is_empty(), "external_refs"),
                (!a.fields().is_empty(), "fields"),
                (a.origin().is_some(), "origin"),
                (a.description.as_ref().is_some_and(|d| d.value.is_empty()), "empty description"),
                (a.details.is_some(), "details"),
            ] {
                if present {
                    seen.insert(part.to_string());
                }
            }
        }
        if !facts.parsed.errors.is_empty() {
            seen.insert("errors".into());
        }
        if facts.parsed.mcp.is_some() {
            seen.insert("mcp".into());
        }
        seen
    }

    /// The lines the encoder is tested on hold every `Body` variant and every rare part (a
    /// line that stops parsing as it did would leave one untested).
    #[test]
    fn lines_hold_every_kind_of_fact() {
        let body: String = LINES.iter().map(|l| format!("{l}\n")).collect();
        let mut seen =
            kinds_of(&FileFacts::new(FileId::relative("a.py"), Language::Python, body.clone().into()));
        let gal = FileFacts::new(FileId::relative(".guardlink/a.gal"), Language::Gal, body.into());
        seen.extend(kinds_of(&gal));
        // An MCP tool is read from a Python file that parses: on its own.
        let tool = "from mcp.server.fastmcp import FastMCP\nmcp = FastMCP(\"d\")\n\n@mcp.tool()\n\
                    def add(a: int) -> int:\n    \"\"\"Adds.\"\"\"\n    return a  # @exposes App to #x\n";
        let (parsed, _) = crate::syntax::parse_source("t.py", Language::Python, tool, None);
        let mcp = FileFacts::from_parsed(FileId::relative("t.py"), Language::Python, tool.into(), parsed);
        assert_eq!(encode_facts(&mcp), postcard::to_allocvec(&mcp.to_store()).unwrap());
        seen.extend(kinds_of(&mcp));
        expect_test::expect![[r#"{"Accepts", "Alias", "Assumes", "Audit", "Boundary", "Comment", "Confirmed", "Define", "Describe", "Entitles", "Exposes", "Feature", "Flows", "Handles", "Mitigates", "Owns", "Transfers", "Validates", "details", "empty description", "errors", "external_refs", "fields", "mcp", "origin", "risk", "severity"}"#]].assert_eq(&format!("{seen:?}"));
    }

    proptest::proptest! {
        /// The cache's encoder writes what postcard writes for the same facts, whatever the
        /// file holds: the format is postcard's, as the decoder and older caches read it.
        #[test]
        fn facts_encode_as_postcard_encodes(
            lines in proptest::collection::vec(0..LINES.len(), 0..40),
            repeat in 1usize..60,
            gal in proptest::prelude::any::<bool>(),
        ) {
            let body: String = lines.iter().map(|&i| format!("{}\n", LINES[i])).collect();
            let (path, language) =
                if gal { (".guardlink/a.gal", Language::Gal) } else { ("a.py", Language::Python) };
            let facts = FileFacts::new(FileId::relative(path), language, body.repeat(repeat).into());
            let postcard = postcard::to_allocvec(&facts.to_store()).unwrap();
            proptest::prop_assert_eq!(encode_facts(&facts), postcard);
        }

        /// Random names (non-ASCII, empty, with spaces) in every argument position, after a
        /// random amount of code (offsets of one to three varint bytes and beyond): the
        /// encoder writes postcard's bytes, and they decode to the same facts.
        #[test]
        fn random_facts_encode_as_postcard_and_round_trip(
            names in proptest::collection::vec("[a-zA-Z0-9 ._:é名ü-]{0,12}", 1..8),
            picks in proptest::collection::vec((0usize..6, 0..LINES.len(), 0usize..8, 0usize..8), 0..30),
            pad in 0usize..300_000,
            gal in proptest::prelude::any::<bool>(),
        ) {
            let name = |i: usize| names[i % names.len()].as_str();
            let mut body = "x = 1\n".repeat(pad / 6);
            for (template, line, a, b) in picks {
                body.push_str(&match template {
                    0 => format!("# @exposes {} to #{} with {}\n", name(a), name(b).replace(' ', "_"), name(b)),
                    1 => format!("# @mitigates {} against {} using {}\n", name(a), name(b), name(a + 1)),
                    2 => format!("# @threat {} (#{}) -- \"{}\"\n", name(a), name(b).replace(' ', ""), name(a + b)),
                    3 => format!("# @flows {} -> {} via {}\n", name(a), name(b), name(a + 2)),
                    4 => format!("# @component {}:{}\n", name(a), name(b)),
                    _ => format!("{}\n", LINES[line]),
                });
            }
            let (path, language) =
                if gal { (".guardlink/a.gal", Language::Gal) } else { ("a.py", Language::Python) };
            let facts = FileFacts::new(FileId::relative(path), language, body.into());
            let encoded = encode_facts(&facts);
            proptest::prop_assert_eq!(&encoded, &postcard::to_allocvec(&facts.to_store()).unwrap());
            let stored = decode_facts(&encoded).unwrap();
            let back =
                FileFacts::from_stored(facts.path.clone(), facts.language, whole(facts.text.shared()), stored)
                    .unwrap();
            proptest::prop_assert_eq!(shown(&back), shown(&facts));
        }
    }

    /// Fails whenever the stored encoding changes: then bump FORMAT_VERSION and update both.
    #[test]
    fn encoding_is_pinned_to_the_format_version() {
        let hash = xxhash_rust::xxh3::xxh3_64(&sample_blob());
        expect_test::expect!["(13, 0xf9cbb363517d499f)"].assert_eq(&format!("({FORMAT_VERSION}, {hash:#x})"));
    }

    fn record(path: &str, outcome: Outcome) -> Record {
        Record {
            path: path.into(),
            size: 3,
            mtime_ns: 10,
            verified_ns: 5_000_000_000,
            hash: Some(7),
            outcome,
        }
    }

    fn sample_entries() -> Vec<Entry> {
        vec![
            // Turned away by the prefilters: no hash.
            Entry {
                record: Record { hash: None, ..record("/r/a.py", Outcome::NoAnnotations) },
                parsed: None,
            },
            Entry { record: record("/r/b.bin", Outcome::Binary), parsed: None },
            Entry { record: record("/r/c.py", Outcome::InvalidUtf8 { offset: 4 }), parsed: None },
            Entry {
                record: record("/r/d.py", Outcome::Parsed { start: 0, len: 0 }),
                parsed: Some(Blob::Facts(std::sync::Arc::new(sample_facts()))),
            },
            Entry { record: record("/r/e.py", Outcome::ParseAgain), parsed: None },
        ]
    }

    #[test]
    fn files_round_trip_and_keep_old_blobs() {
        let bytes = encode_file("/r", "b1", &sample_entries(), None);
        let loaded = decode_file(bytes.clone(), "/r", "b1").unwrap();
        assert_eq!(loaded.len(), 5);
        assert_eq!(loaded.get("/r/a.py").unwrap().outcome, Outcome::NoAnnotations);
        let e = loaded.get("/r/e.py").unwrap();
        assert_eq!((&e.outcome, loaded.blob(e)), (&Outcome::ParseAgain, None));
        assert_eq!(loaded.get("/r/c.py").unwrap().outcome, Outcome::InvalidUtf8 { offset: 4 });
        assert_eq!(
            (loaded.get("/r/a.py").unwrap().hash, loaded.get("/r/b.bin").unwrap().hash),
            (None, Some(7))
        );
        let d = loaded.get("/r/d.py").unwrap();
        assert_eq!(loaded.blob(d).unwrap(), sample_blob());

        // Re-encoding with the old blob reference keeps the bytes.
        let again = [Entry { record: d.clone(), parsed: Some(Blob::Old) }];
        let bytes2 = encode_file("/r", "b1", &again, Some(&loaded));
        let loaded2 = decode_file(bytes2, "/r", "b1").unwrap();
        let d2 = loaded2.get("/r/d.py").unwrap();
        assert_eq!(loaded2.blob(d2).unwrap(), sample_blob());
        // Without the old cache the entry cannot be written and is dropped.
        let orphan = decode_file(encode_file("/r", "b1", &again, None), "/r", "b1").unwrap();
        assert!(orphan.is_empty());
    }

    /// The file is the header, the blobs, postcard's `Vec<Record>` and its length, built here
    /// from postcard itself: the streamed writer cannot drift from the format the loader
    /// reads (a table of over 64 KiB, written in pieces, included).
    #[test]
    fn files_are_postcards_encoding() {
        let mut entries = sample_entries();
        for k in 0..3000 {
            entries.push(Entry { record: record(&format!("/r/many/{k}.py"), Outcome::Binary), parsed: None });
        }
        let blob = postcard::to_allocvec(&sample_facts().to_store()).unwrap();
        let records: Vec<Record> = entries
            .iter()
            .map(|e| match e.parsed {
                Some(_) => Record {
                    outcome: Outcome::Parsed { start: 0, len: blob.len() as u64 },
                    ..e.record.clone()
                },
                None => e.record.clone(),
            })
            .collect();
        let table = postcard::to_allocvec(&records).unwrap();
        assert!(table.len() > 1 << 16, "{}", table.len());
        let payload = [&blob[..], &table, &(table.len() as u64).to_le_bytes()].concat();
        let mut expected = header("/r", "b1");
        let n = expected.len();
        expected[n - 16..n - 8].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        expected[n - 8..].copy_from_slice(&xxhash_rust::xxh3::xxh3_64(&payload).to_le_bytes());
        expected.extend_from_slice(&payload);
        assert!(encode_file("/r", "b1", &entries, None) == expected);
    }

    /// A temporary directory holding a project root and a cache directory (not created).
    fn project_and_cache_dir() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("project");
        std::fs::create_dir(&root).unwrap();
        let cache_dir = dir.path().join("cache");
        (dir, root, cache_dir)
    }

    /// `save` streams the file piece by piece; the bytes are those of the one-buffer encoding,
    /// and a second save from the loaded cache (every blob `Old`) reproduces them.
    /// The entries of a scan that found every file of `loaded` unchanged: each parsed file's
    /// blob is the stored one (`Old`), in path order.
    fn entries_kept_from(loaded: &Loaded) -> Vec<Entry> {
        let mut again: Vec<Entry> = loaded
            .records()
            .map(|r| {
                let parsed = matches!(r.outcome, Outcome::Parsed { .. }).then_some(Blob::Old);
                Entry { record: r.clone(), parsed }
            })
            .collect();
        again.sort_by(|a, b| a.record.path.cmp(&b.record.path));
        again
    }

    #[test]
    fn saved_files_are_the_encoding() {
        let (_dir, root, cache_dir) = project_and_cache_dir();
        save(&cache_dir, &root, &sample_entries(), None).unwrap();
        let written = std::fs::read(file_for(&cache_dir, &root)).unwrap();
        assert_eq!(written, encode_file(&root_key(&root), build_id(), &sample_entries(), None));
        let loaded = load(&cache_dir, &root).unwrap();
        let again = entries_kept_from(&loaded);
        save(&cache_dir, &root, &again, Some(&loaded)).unwrap();
        assert_eq!(std::fs::read(file_for(&cache_dir, &root)).unwrap(), written);
    }

    /// A streamed write, handed the entries a few at a time as a scan merges them (and the
    /// rest, with the old cache's blobs, at the end), writes the bytes of the one-buffer
    /// encoding; one dropped before it is finished leaves no file behind.
    #[test]
    fn streamed_files_are_the_encoding() {
        let (_dir, root, cache_dir) = project_and_cache_dir();
        let mut entries = sample_entries();
        for k in 0..40 {
            let parsed = Some(Blob::Facts(std::sync::Arc::new(sample_facts())));
            let outcome = Outcome::Parsed { start: 0, len: 0 };
            entries.push(Entry { record: record(&format!("/r/many/{k}.py"), outcome), parsed });
        }
        let expected = encode_file(&root_key(&root), build_id(), &entries, None);
        for step in [1, 3, 7, entries.len()] {
            let mut stream = Stream::start(&cache_dir, &root, None);
            for end in (0..entries.len()).step_by(step) {
                stream.send(&entries[..end]);
            }
            let written = stream.finish(std::sync::Arc::new(entries.clone_entries()));
            written.join().unwrap().unwrap();
            assert!(std::fs::read(file_for(&cache_dir, &root)).unwrap() == expected, "step {step}");
        }
        // Again from the loaded cache: every parsed blob `Old`, half of them handed over early.
        let loaded = std::sync::Arc::new(load(&cache_dir, &root).unwrap());
        let again = entries_kept_from(&loaded);
        let expected = encode_file(&root_key(&root), build_id(), &again, Some(&loaded));
        let mut stream = Stream::start(&cache_dir, &root, Some(loaded.clone()));
        stream.send(&again[..again.len() / 2]);
        stream.finish(std::sync::Arc::new(again.clone_entries())).join().unwrap().unwrap();
        assert!(std::fs::read(file_for(&cache_dir, &root)).unwrap() == expected);
        assert_eq!(load(&cache_dir, &root).unwrap().len(), again.len());

        // Unfinished: an error, and neither a new file nor a temporary one.
        std::fs::remove_file(file_for(&cache_dir, &root)).unwrap();
        let mut stream = Stream::start(&cache_dir, &root, None);
        stream.send(&entries[..5]);
        let Stream { send, thread, .. } = stream;
        drop(send);
        assert!(thread.join().unwrap().is_err());
        assert_eq!(std::fs::read_dir(&cache_dir).unwrap().count(), 0);
    }

    /// Entries as the tests build them, again (an entry holds no `Clone`: a scan never copies
    /// one).
    trait CloneEntries {
        fn clone_entries(&self) -> Vec<Entry>;
    }

    impl CloneEntries for [Entry] {
        fn clone_entries(&self) -> Vec<Entry> {
            self.iter()
                .map(|e| Entry {
                    record: e.record.clone(),
                    parsed: match &e.parsed {
                        Some(Blob::Facts(facts)) => Some(Blob::Facts(facts.clone())),
                        Some(Blob::Old) => Some(Blob::Old),
                        None => None,
                    },
                })
                .collect()
        }
    }

    /// A streamed write over the limit is refused like a saved one: no file, the old removed.
    #[test]
    fn streamed_caches_over_the_limit_are_not_written() {
        let (_dir, root, cache_dir) = project_and_cache_dir();
        save(&cache_dir, &root, &sample_entries(), None).unwrap();
        let file = file_for(&cache_dir, &root);
        let size = std::fs::metadata(&file).unwrap().len();
        let mut stream = Stream::start_limited(&cache_dir, &root, None, size - 1);
        let entries = sample_entries();
        stream.send(&entries[..3]);
        let saved = stream.finish(std::sync::Arc::new(entries)).join().unwrap();
        assert!(matches!(saved, Err(CacheError::Refused(Refusal::TooLarge { .. }))), "{saved:?}");
        assert!(!file.exists());
    }

    /// Facts from the cache are the parsed file's, with what it implies derived again
    /// ([`facts_round_trip`]: the same facts as parsing gives), their keys the same
    /// interned texts across the files a thread restores, as a parsed file's are.
    #[test]
    fn restored_facts_share_their_keys() {
        use crate::model::Lookup;
        let facts = sample_facts();
        let restore = || {
            let stored = decode_facts(&sample_blob()).unwrap();
            FileFacts::from_stored(facts.path.clone(), facts.language, whole(facts.text.shared()), stored)
                .unwrap()
        };
        let (a, b) = (restore(), restore());
        assert_eq!(shown(&a), shown(&facts));
        let mut shared = 0;
        for (x, y) in a.refs.iter().flatten().zip(b.refs.iter().flatten()) {
            match (x.lookup(), y.lookup()) {
                (Lookup::Name(n1), Lookup::Name(n2)) => {
                    assert_eq!(n1, n2, "{x:?}");
                    shared += 1;
                }
                (Lookup::Id(i1), Lookup::Id(i2)) => {
                    assert_eq!(i1.address(), i2.address(), "{x:?}");
                    shared += 1;
                }
                _ => {}
            }
        }
        assert!(shared >= 4, "{shared}");
        assert!(!a.implicit_ids.is_empty() && a.implicit_ids.len() == b.implicit_ids.len());
        for ((_, s1, k1), (_, s2, k2)) in a.implicit_ids.iter().zip(&b.implicit_ids) {
            assert!(s1 == s2 && k1 == k2);
        }
    }

    /// A file over the limit is not written, and the old one (now stale) is removed; the limit
    /// counts the whole file, and one of exactly that size is written.
    #[test]
    fn caches_over_the_limit_are_not_written() {
        let (_dir, root, cache_dir) = project_and_cache_dir();
        save(&cache_dir, &root, &sample_entries(), None).unwrap();
        let file = file_for(&cache_dir, &root);
        let size = std::fs::metadata(&file).unwrap().len();
        let saved = save_limited(&cache_dir, &root, &sample_entries(), None, size - 1);
        assert!(
            matches!(saved, Err(CacheError::Refused(Refusal::TooLarge { size: s, limit })) if s > limit && limit == size - 1),
            "{saved:?}"
        );
        assert!(!file.exists());
        save_limited(&cache_dir, &root, &sample_entries(), None, size).unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().len(), size);
        assert_eq!(load(&cache_dir, &root).unwrap().len(), 5);
    }

    #[test]
    fn other_builds_roots_and_versions_are_rejected() {
        let bytes = encode_file("/r", "b1", &sample_entries(), None);
        assert!(matches!(decode_file(bytes.clone(), "/r", "b2"), Err(CacheError::Invalid(_))));
        assert!(matches!(decode_file(bytes.clone(), "/other", "b1"), Err(CacheError::Invalid(_))));
        let mut other_version = bytes.clone();
        other_version[8] ^= 0xff;
        assert!(matches!(decode_file(other_version, "/r", "b1"), Err(CacheError::Invalid(_))));
    }

    #[test]
    fn every_truncation_is_rejected() {
        let bytes = encode_file("/r", "b1", &sample_entries(), None);
        for len in 0..bytes.len() {
            assert!(
                decode_file(bytes[..len].to_vec(), "/r", "b1").is_err(),
                "truncated to {len} bytes was accepted"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_file(longer, "/r", "b1").is_err());
    }

    #[test]
    fn every_single_bit_flip_is_rejected() {
        let bytes = encode_file("/r", "b1", &sample_entries(), None);
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[i] ^= 1 << bit;
                assert!(
                    decode_file(flipped, "/r", "b1").is_err(),
                    "flipping bit {bit} of byte {i} was accepted"
                );
            }
        }
    }

    #[test]
    fn racy_entries_are_not_trusted_by_stat() {
        let second = 1_000_000_000;
        let r = Record {
            path: "/r/a".into(),
            size: 3,
            mtime_ns: 10 * second,
            verified_ns: 12 * second,
            hash: None,
            outcome: Outcome::NoAnnotations,
        };
        assert!(r.trusted_by_stat(Stat { size: 3, mtime_ns: 10 * second }));
        assert!(!r.trusted_by_stat(Stat { size: 4, mtime_ns: 10 * second }));
        assert!(!r.trusted_by_stat(Stat { size: 3, mtime_ns: 10 * second + 1 }));
        let racy = Record { verified_ns: 11 * second, ..r };
        assert!(!racy.trusted_by_stat(Stat { size: 3, mtime_ns: 10 * second }));
    }

    #[test]
    fn concurrent_writers_never_leave_a_broken_file() {
        let (_dir, root, cache_dir) = project_and_cache_dir();
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (cache_dir, root) = (cache_dir.clone(), root.clone());
                std::thread::spawn(move || {
                    for i in 0..25 {
                        let mut entries = sample_entries();
                        // Every writer writes its own, differently sized content.
                        for k in 0..(w * 10 + i) {
                            entries.push(Entry {
                                record: record(&format!("/r/w{w}/{k}.py"), Outcome::NoAnnotations),
                                parsed: None,
                            });
                        }
                        save(&cache_dir, &root, &entries, None).unwrap();
                    }
                })
            })
            .collect();
        let reader = {
            let (cache_dir, root) = (cache_dir.clone(), root.clone());
            std::thread::spawn(move || {
                let mut seen = 0;
                for _ in 0..200 {
                    match load(&cache_dir, &root) {
                        Ok(loaded) => {
                            assert!(loaded.len() >= 4);
                            seen += 1;
                        }
                        Err(CacheError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => panic!("a reader saw a broken cache: {e}"),
                    }
                }
                seen
            })
        };
        for w in writers {
            w.join().unwrap();
        }
        reader.join().unwrap();
        let loaded = load(&cache_dir, &root).unwrap();
        assert!(loaded.len() >= 4);
        let leftovers: Vec<_> = std::fs::read_dir(&cache_dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn one_cache_file_per_project_root() {
        let dir = file_for(Path::new("/c"), Path::new("/no/such/root"));
        assert!(dir.starts_with("/c") && dir.extension().is_some_and(|e| e == "idx"), "{dir:?}");
        assert_ne!(dir, file_for(Path::new("/c"), Path::new("/no/such/other")));
    }
}
