//! Bounded file reads: the one place that opens a file and reads it into memory.
//!
//! Owns: the rule every read of a file follows (source files, `threatspec.yaml`, ignore files,
//! the index cache): only a regular file is read, it is opened without blocking (a named pipe
//! or device cannot stall the caller), and at most `limit` bytes are read, whatever its size
//! claims (`/proc` files report 0, a file may grow while it is read). Configuration and cache
//! files are also opened with `O_NOFOLLOW` and checked to be regular files: a repository (or
//! whoever shares a cache directory) cannot make the tool read `/dev/zero`, `/proc/self/...` or
//! a file outside the repository through a planted link. Must never: read without a limit,
//! or decide what a refusal means (callers skip the file with a note or a diagnostic).

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static RECORDING: AtomicBool = AtomicBool::new(false);
static RECORDED: Mutex<Vec<Recorded>> = Mutex::new(Vec::new());

/// One [`read_bounded`] call recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The path as the caller gave it.
    pub path: PathBuf,
    /// Opening it without following a link ([`Links::Refuse`]) found nothing there: an
    /// `lstat` at that moment would have found nothing either.
    pub absent: bool,
}

/// Starts recording the path of every [`read_bounded`] call of this process (read or refused,
/// found or missing), for [`take_recorded`]: `check`'s result cache learns every file a run
/// depended on this way, whoever read it.
pub fn start_recording() {
    RECORDING.store(true, Ordering::SeqCst);
}

/// Stops recording and returns the reads recorded since [`start_recording`] or the last
/// [`drain_recorded`] (unsorted, with repeats).
pub fn take_recorded() -> Vec<Recorded> {
    RECORDING.store(false, Ordering::SeqCst);
    std::mem::take(&mut *RECORDED.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The reads recorded since [`start_recording`] (or the last drain), recording on: a later
/// [`take_recorded`] returns only those after.
pub fn drain_recorded() -> Vec<Recorded> {
    std::mem::take(&mut *RECORDED.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The paths the reads recorded so far found absent ([`Recorded::absent`]), as bytes, sorted;
/// recording goes on and nothing is drained. A walk's every directory has its absent ignore
/// files among them: `check`'s result cache takes them as absent without an `lstat` each
/// (mixed benchmark, warm: 3,610 of the run's 8,845 `statx`).
pub fn recorded_absent() -> Vec<Vec<u8>> {
    let recorded = RECORDED.lock().unwrap_or_else(|e| e.into_inner());
    let mut absent: Vec<Vec<u8>> = recorded
        .iter()
        .filter(|r| r.absent)
        .map(|r| r.path.as_os_str().as_encoded_bytes().to_vec())
        .collect();
    drop(recorded);
    absent.sort_unstable();
    absent.dedup();
    absent
}

/// Whether a symbolic link as the file itself may be followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// Source files: the walker never yields a link, but a file named on the command line may
    /// be one (the user chose it).
    Follow,
    /// Configuration and cache files: refused (`O_NOFOLLOW`).
    Refuse,
}

/// Why a file was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A symbolic link, with [`Links::Refuse`].
    Symlink,
    /// A directory, named pipe, socket or device: opening one could block or never end.
    NotRegular,
    /// Larger than the limit (`size` as measured: the reported size, or what was read).
    TooLarge { size: u64, limit: u64 },
    /// Opening or reading failed; `missing` when the file does not exist.
    Unreadable { message: String, missing: bool },
}

impl Refusal {
    /// The file does not exist (for optional files: nothing to report).
    pub fn is_missing(&self) -> bool {
        matches!(self, Refusal::Unreadable { missing: true, .. })
    }

    fn io(err: &io::Error) -> Refusal {
        // Most refusals are of optional files that do not exist (an ignore file per
        // directory): that one message is formatted once.
        static MISSING: std::sync::OnceLock<(i32, String)> = std::sync::OnceLock::new();
        let message = match err.raw_os_error() {
            Some(code) if err.kind() == io::ErrorKind::NotFound => {
                let (known, message) = MISSING.get_or_init(|| (code, err.to_string()));
                if *known == code { message.clone() } else { err.to_string() }
            }
            _ => err.to_string(),
        };
        Refusal::Unreadable { message, missing: err.kind() == io::ErrorKind::NotFound }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Symlink => f.write_str("symbolic link (not followed)"),
            Refusal::NotRegular => f.write_str("not a regular file"),
            Refusal::TooLarge { size, limit } => write!(f, "too large ({size} bytes, limit {limit})"),
            Refusal::Unreadable { message, .. } => write!(f, "unreadable: {message}"),
        }
    }
}

/// Reads the regular file at `path`, at most `limit` bytes (see the module docs).
// @exposes ThreatAnalyzer.Walk to #hostile-content -- "reads every file of an untrusted repository"
// @mitigates ThreatAnalyzer.Walk against #hostile-content using #bounded-reads
// @mitigates ThreatAnalyzer.Walk against #resource-exhaustion using #bounded-reads
// @exposes ThreatAnalyzer.Walk to #symlink-following -- "links planted as configuration, ignore or cache files"
// @mitigates ThreatAnalyzer.Walk against #symlink-following using #bounded-reads
pub fn read_bounded(path: &Path, limit: u64, links: Links) -> Result<Vec<u8>, Refusal> {
    let mut absent = false;
    let read = read_unrecorded(path, limit, links, &mut absent);
    if RECORDING.load(Ordering::Relaxed) {
        let recorded = Recorded { path: path.to_path_buf(), absent };
        RECORDED.lock().unwrap_or_else(|e| e.into_inner()).push(recorded);
    }
    read
}

/// [`read_bounded`] for a file a walk found, not recorded (those are a run's inputs already:
/// `check`'s result cache has them from the walk, and a walk reads thousands), into `scratch`:
/// its first bytes, up to the length returned, are the file's; what follows is left over.
/// The walk reuses one `scratch` per thread, so its pages are not faulted in anew for every
/// file.
pub fn read_found(path: &Path, limit: u64, links: Links, scratch: &mut Vec<u8>) -> Result<usize, Refusal> {
    open_found(path, limit, links)?.read(limit, scratch)
}

/// A regular file within the limit, opened by [`open_found`] and not read yet.
pub struct Opened {
    file: std::fs::File,
    meta: std::fs::Metadata,
}

impl Opened {
    /// The opened file's metadata (`fstat`: with [`Links::Refuse`], what an `lstat` of the
    /// path would have said at the moment it was opened, and of the very file that is read).
    pub fn metadata(&self) -> &std::fs::Metadata {
        &self.meta
    }

    /// Reads it as [`read_found`] does.
    pub fn read(self, limit: u64, scratch: &mut Vec<u8>) -> Result<usize, Refusal> {
        read_open(self.file, self.meta.len(), limit, scratch)
    }
}

/// The first half of [`read_found`]: opens the file by the same rule (regular, not blocking,
/// no larger than `limit` by its size), so that the caller can look at its metadata before
/// it decides to read it (the walk's files: no `lstat` was taken before).
pub fn open_found(path: &Path, limit: u64, links: Links) -> Result<Opened, Refusal> {
    let (file, meta) = open_regular(path, limit, links, &mut false)?;
    Ok(Opened { file, meta })
}

/// [`read_bounded`] without recording; `absent`: set when opening it without following a
/// link found nothing there.
fn read_unrecorded(path: &Path, limit: u64, links: Links, absent: &mut bool) -> Result<Vec<u8>, Refusal> {
    let (file, meta) = open_regular(path, limit, links, absent)?;
    let mut bytes = Vec::new();
    let len = read_open(file, meta.len(), limit, &mut bytes)?;
    bytes.truncate(len);
    Ok(bytes)
}

/// Opens the regular file at `path` that claims at most `limit` bytes; with its metadata.
fn open_regular(
    path: &Path,
    limit: u64,
    links: Links,
    absent: &mut bool,
) -> Result<(std::fs::File, std::fs::Metadata), Refusal> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        let no_follow = if links == Links::Refuse { libc::O_NOFOLLOW } else { 0 };
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK | no_follow);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        Err(err) if links == Links::Refuse && may_be_link(&err) && is_link(path) => {
            return Err(Refusal::Symlink);
        }
        Err(err) => {
            *absent = links == Links::Refuse && err.kind() == io::ErrorKind::NotFound;
            return Err(Refusal::io(&err));
        }
    };
    let meta = file.metadata().map_err(|e| Refusal::io(&e))?;
    // Without O_NOFOLLOW (other platforms) the opened file's type is what counts; a link
    // followed there is still a regular file within the limit.
    if !meta.is_file() {
        return Err(Refusal::NotRegular);
    }
    if meta.len() > limit {
        return Err(Refusal::TooLarge { size: meta.len(), limit });
    }
    Ok((file, meta))
}

/// Reads `file` (claiming `size` bytes) to its end into `scratch`, refused past `limit`
/// bytes; the length read. The first read asks for one byte more than the size claimed: a
/// regular file's read comes back short of what was asked only at the file's end, so one that
/// stops exactly at the claimed size found the file as claimed, and that one read is all (a
/// second would only return 0; on the sparse benchmark it was 11,659 of the run's 21,256
/// reads). A file that grew, shrank, claims 0 (`/proc`) or comes in shorter pieces is read on,
/// in growing steps, until a read returns nothing.
fn read_open(mut file: impl Read, size: u64, limit: u64, scratch: &mut Vec<u8>) -> Result<usize, Refusal> {
    let window = |len: usize, want: u64| len.saturating_add(usize::try_from(want).unwrap_or(usize::MAX));
    let mut len = 0;
    let mut end = window(0, size.min(limit).saturating_add(1));
    loop {
        if len == end {
            let grow = (len as u64).max(8192).min(limit.saturating_add(1) - len as u64);
            end = window(len, grow);
        }
        if scratch.len() < end {
            scratch.resize(end, 0);
        }
        let asked = end - len;
        let got = match file.read(&mut scratch[len..end]) {
            Ok(0) => return Ok(len),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Refusal::io(&e)),
        };
        len += got;
        if len as u64 > limit {
            return Err(Refusal::TooLarge { size: len as u64, limit });
        }
        if got < asked && len as u64 == size {
            return Ok(len);
        }
    }
}

/// Whether opening with [`Links::Refuse`] may have failed on a link: with `O_NOFOLLOW` a link
/// fails with `ELOOP` (`EMLINK` on some BSDs), never "not found", so the common miss (an ignore
/// file a directory does not have) costs no `lstat`; elsewhere a dangling link reads as missing.
fn may_be_link(err: &io::Error) -> bool {
    !cfg!(unix) || err.kind() != io::ErrorKind::NotFound
}

/// Whether `path` itself is a symbolic link (`O_NOFOLLOW` fails with `ELOOP` on one; other
/// platforms have no such flag, so they ask).
fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_links_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        std::fs::write(&file, "paths: [src]\n").unwrap();
        let link = dir.path().join("link.yaml");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert_eq!(read_bounded(&link, 64, Links::Refuse), Err(Refusal::Symlink));
            assert_eq!(read_bounded(&link, 64, Links::Follow).map(|b| b.len()), Ok(13));
            std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
            assert_eq!(read_bounded(&dir.path().join("zero"), 64, Links::Refuse), Err(Refusal::Symlink));
            assert_eq!(read_bounded(&dir.path().join("zero"), 64, Links::Follow), Err(Refusal::NotRegular));
        }
        assert_eq!(read_bounded(&file, 13, Links::Refuse).map(|b| b.len()), Ok(13));
        assert_eq!(read_bounded(&file, 12, Links::Refuse), Err(Refusal::TooLarge { size: 13, limit: 12 }));
        assert_eq!(read_bounded(dir.path(), 64, Links::Refuse), Err(Refusal::NotRegular));
        assert!(read_bounded(&dir.path().join("none"), 64, Links::Refuse).unwrap_err().is_missing());
    }

    /// One buffer serves file after file: each read returns exactly its file's bytes, whatever
    /// an earlier, longer file left behind, and the limit holds as in [`read_bounded`].
    #[test]
    fn a_reused_buffer_returns_each_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (long, short, empty) =
            (dir.path().join("long"), dir.path().join("short"), dir.path().join("empty"));
        let long_text: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&long, &long_text).unwrap();
        std::fs::write(&short, "# @threat X\n").unwrap();
        std::fs::write(&empty, "").unwrap();
        let mut scratch = Vec::new();
        let read = |path: &Path, limit: u64, scratch: &mut Vec<u8>| {
            read_found(path, limit, Links::Refuse, scratch).map(|len| scratch[..len].to_vec())
        };
        assert_eq!(read(&long, 1 << 20, &mut scratch), Ok(long_text.clone()));
        assert_eq!(read(&short, 1 << 20, &mut scratch), Ok(b"# @threat X\n".to_vec()));
        assert_eq!(read(&empty, 1 << 20, &mut scratch), Ok(Vec::new()));
        assert_eq!(read(&long, 20_000, &mut scratch), Ok(long_text));
        assert_eq!(read(&long, 19_999, &mut scratch), Err(Refusal::TooLarge { size: 20_000, limit: 19_999 }));
        #[cfg(target_os = "linux")]
        {
            // Claims size 0: read on in steps, and cut one byte past the limit.
            let maps = read(Path::new("/proc/self/maps"), 1 << 20, &mut scratch).unwrap();
            assert!(maps.len() > 100 && maps.ends_with(b"\n"), "{}", maps.len());
            let cut = read(Path::new("/proc/self/maps"), 16, &mut scratch);
            assert_eq!(cut, Err(Refusal::TooLarge { size: 17, limit: 16 }));
        }
    }

    /// Hands out `text` in pieces of at most `piece` bytes, counting the reads.
    struct Pieces<'a> {
        text: &'a [u8],
        piece: usize,
        reads: usize,
    }

    impl Read for Pieces<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            let n = buf.len().min(self.piece).min(self.text.len());
            buf[..n].copy_from_slice(&self.text[..n]);
            self.text = &self.text[n..];
            Ok(n)
        }
    }

    /// A file that kept the size it claimed takes one read; one that grew, shrank or comes in
    /// pieces is read to its end, and what it holds is what is returned.
    #[test]
    fn a_file_that_kept_its_size_takes_one_read() {
        let (text, grown) = (&b"# @threat X\n"[..], &b"# @threat X\nmore\n"[..]);
        let mut scratch = Vec::new();
        let mut read = |text: &[u8], piece: usize, size: u64, limit: u64| {
            let mut file = Pieces { text, piece, reads: 0 };
            let read = read_open(&mut file, size, limit, &mut scratch).map(|len| scratch[..len].to_vec());
            (read, file.reads)
        };
        assert_eq!(read(text, usize::MAX, 12, 1 << 20), (Ok(text.to_vec()), 1), "kept its size");
        assert_eq!(read(grown, usize::MAX, 12, 1 << 20), (Ok(grown.to_vec()), 3), "grew");
        assert_eq!(read(&text[..10], usize::MAX, 12, 1 << 20), (Ok(text[..10].to_vec()), 2), "shrank");
        assert_eq!(read(text, 5, 12, 1 << 20), (Ok(text.to_vec()), 3), "in pieces of 5 bytes");
        assert_eq!(read(b"", usize::MAX, 0, 1 << 20), (Ok(Vec::new()), 1), "empty");
        assert_eq!(
            read(grown, usize::MAX, 12, 12).0,
            Err(Refusal::TooLarge { size: 13, limit: 12 }),
            "limit"
        );
    }

    /// `/proc` files claim size 0 and may never end (pagemap): the limit holds while reading.
    #[cfg(target_os = "linux")]
    #[test]
    fn files_that_lie_about_their_size_are_cut_at_the_limit() {
        let maps = Path::new("/proc/self/maps");
        assert_eq!(std::fs::metadata(maps).unwrap().len(), 0);
        assert_eq!(read_bounded(maps, 16, Links::Refuse), Err(Refusal::TooLarge { size: 17, limit: 16 }));
        // pagemap only answers reads of whole 8-byte entries: refused either way.
        let pagemap = read_bounded(Path::new("/proc/self/pagemap"), 4096, Links::Refuse);
        assert!(matches!(pagemap, Err(Refusal::TooLarge { .. } | Refusal::Unreadable { .. })), "{pagemap:?}");
    }
}
