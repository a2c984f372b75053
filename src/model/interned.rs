//! Interned text: [`Interned`], one copy of each distinct key text for the whole process.
//!
//! Owns: the process-wide interner and the [`Interned`] handle. The model's keys (entity
//! keys, lookup keys, implicit ids) and the analysis's shared texts (control ids) are
//! interned: a project names a few hundred entities hundreds of thousands of times, and each
//! of those names is a copy of a pointer, not a reference count. Must never: free a text (a
//! handle is a `'static` borrow), or be used for text that is not a key (descriptions, file
//! texts, messages): what is interned stays for the life of the process.
//!
//! # Why not `Arc<str>`
//!
//! Keys were shared `Arc<str>`s until the twenty-eighth sitting. Every reference resolved,
//! every covering relation and every definition site cloned one, and the clones of the few
//! threats and controls every file names were counted by both cores at once: samples on the
//! instruction after an atomic increment or decrement were ~6% of a cold `check` of the
//! 20,000-file benchmark (`benches/README.md`), and a second core cost ~10% more CPU than it
//! saved in work. An [`Interned`] is one pointer (8 bytes against 16), copied, compared by
//! address and never counted.
//!
//! # What it costs
//!
//! Texts are never freed. A command-line run interns the names it reads (on the 20,000-file
//! benchmark 62,525 texts: its 20,000 component names are each in one file). A language
//! server interns each new name it parses, so a session grows by the distinct names it
//! reads: about 160 bytes a name (its keys and their table entries; measured with 40,000
//! names), a name typed one character at a time leaving each prefix's keys; files
//! regenerated with fresh random names add theirs each time. Nothing else grows: the same
//! text is interned once however often it is parsed.
//!
//! Handles order and hash as their text does (outputs sort by keys; maps keyed by handles
//! are looked up with a `&str`), and compare equal exactly when their texts are equal (one
//! copy per text, so by address).

use rustc_hash::FxBuildHasher;
use std::alloc::Layout;
use std::borrow::Borrow;
use std::fmt;
use std::hash::BuildHasher;
use std::ptr::NonNull;
use std::sync::{LazyLock, Mutex, PoisonError};

/// One interned text (see the module docs): a thin pointer, copied freely, equal when the
/// texts are equal.
#[derive(Clone, Copy)]
pub struct Interned(NonNull<Header>);

// SAFETY: a handle points to a header and bytes written once, before the handle was
// published through a shard's lock (`Interned::new`), and never written or freed after:
// reading them from any thread is reading immutable `'static` data.
unsafe impl Send for Interned {}
unsafe impl Sync for Interned {}

/// What a handle points to: this header, then `len` bytes of UTF-8 text, in memory that is
/// never freed. One pointer hop for the text (a `Box<str>` behind a pointer was two: hashing
/// and comparing keys cost a second cache miss).
#[repr(C)]
struct Header {
    len: usize,
}

/// Shards of the interner, each locked on its own: the parsing threads intern the names
/// their files hold at once (each thread asks only for names new to it, see
/// `model::NameKeyCache`).
const SHARDS: usize = 64;
const _: () = assert!(SHARDS.is_power_of_two() && SHARDS <= 1 << 6, "picked by six bits of the hash");

/// Room for texts is taken from chunks of this many bytes (a larger text gets its own).
const CHUNK: usize = 16 * 1024;

/// One shard: its texts, each with its hash. The hash is in the table so that a probe
/// compares the text only when the whole hash matches: reading a candidate's header was most
/// of the interner's cost (the text is in memory another core wrote). Aligned to two cache
/// lines so that no two shards share one (the two cores lock and grow different shards at
/// once).
#[repr(align(128))]
struct Shard(Mutex<hashbrown::HashTable<(u64, Interned)>>);

static INTERNER: LazyLock<[Shard; SHARDS]> =
    LazyLock::new(|| std::array::from_fn(|_| Shard(Mutex::new(hashbrown::HashTable::with_capacity(1024)))));

/// The free end of the chunk this thread writes new texts to, and the bytes left there: each
/// thread writes its own chunks, so storing a text moves no cache line between cores.
#[derive(Clone, Copy)]
struct Arena {
    free: *mut u8,
    left: usize,
}

thread_local! {
    static ARENA: std::cell::Cell<Arena> =
        const { std::cell::Cell::new(Arena { free: std::ptr::null_mut(), left: 0 }) };
}

/// Writes `text` with its header into memory that is never freed.
fn store(text: &str) -> Interned {
    const ALIGN: usize = std::mem::align_of::<Header>();
    let size = (std::mem::size_of::<Header>() + text.len()).next_multiple_of(ALIGN);
    let at = if size > CHUNK / 4 {
        leak(size)
    } else {
        ARENA.with(|arena| {
            let mut room = arena.get();
            if size > room.left {
                room = Arena { free: leak(CHUNK), left: CHUNK };
            }
            let at = room.free;
            // SAFETY: `size <= left`: the chunk holds `size` more bytes from `free`.
            arena.set(Arena { free: unsafe { room.free.add(size) }, left: room.left - size });
            at
        })
    };
    // SAFETY: `at` is aligned for a header (chunks and sizes are multiples of its alignment)
    // and holds `size` bytes no handle points to yet: the header, then the text.
    unsafe {
        let header = at.cast::<Header>();
        header.write(Header { len: text.len() });
        std::ptr::copy_nonoverlapping(text.as_ptr(), at.add(std::mem::size_of::<Header>()), text.len());
        Interned(NonNull::new_unchecked(header))
    }
}

/// `size` bytes aligned for a [`Header`], never freed.
fn leak(size: usize) -> *mut u8 {
    let layout = Layout::from_size_align(size, std::mem::align_of::<Header>()).expect("a text's size");
    // SAFETY: `size` is not zero (it holds a header).
    let at = unsafe { std::alloc::alloc(layout) };
    if at.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    at
}

impl Interned {
    /// The one handle of `text`, interned if it is new.
    pub fn new(text: &str) -> Interned {
        let hash = FxBuildHasher.hash_one(text);
        // Bits 16-21 pick the shard: the table probes from the low bits and filters by the
        // top 7, so bits those use would cluster a shard's texts (top bits: the filter would
        // see two values of 128; low bits: one 64th of the buckets). FxHash's well-mixed bits
        // are the low ones (the product's top bits, rotated down) and, less, the top ones.
        let shard = &INTERNER[((hash >> 16) as usize) & (SHARDS - 1)];
        let mut table = shard.0.lock().unwrap_or_else(PoisonError::into_inner);
        let same = |(known_hash, known): &(u64, Interned)| *known_hash == hash && known.as_str() == text;
        if let Some((_, known)) = table.find(hash, same) {
            return *known;
        }
        // Stored under the lock: no other thread can store the same text meanwhile.
        let interned = store(text);
        table.insert_unique(hash, (hash, interned), |(known_hash, _)| *known_hash);
        interned
    }

    fn header(self) -> &'static Header {
        // SAFETY: a handle points to a header that lives for the process (`store`).
        unsafe { self.0.as_ref() }
    }

    /// The text.
    pub fn as_str(self) -> &'static str {
        let len = self.header().len;
        // SAFETY: `len` bytes of UTF-8 follow the header, written before the handle existed
        // and never changed or freed (`store`).
        unsafe {
            let bytes = self.0.as_ptr().cast::<u8>().add(std::mem::size_of::<Header>());
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(bytes, len))
        }
    }

    /// The handle's address: equal exactly when the texts are equal, and stable for the life
    /// of the process (a key for memos that must not read the text).
    pub fn address(self) -> usize {
        self.0.as_ptr() as usize
    }
}

impl PartialEq for Interned {
    fn eq(&self, other: &Interned) -> bool {
        self.0 == other.0
    }
}

impl Eq for Interned {}

impl Ord for Interned {
    fn cmp(&self, other: &Interned) -> std::cmp::Ordering {
        if self == other { std::cmp::Ordering::Equal } else { self.as_str().cmp(other.as_str()) }
    }
}

impl PartialOrd for Interned {
    fn partial_cmp(&self, other: &Interned) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::hash::Hash for Interned {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As the text: maps keyed by handles are looked up with a `&str`.
        self.as_str().hash(state);
    }
}

impl std::ops::Deref for Interned {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Interned {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Interned {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Interned {
    fn from(text: &str) -> Interned {
        Interned::new(text)
    }
}

impl From<&String> for Interned {
    fn from(text: &String) -> Interned {
        Interned::new(text)
    }
}

impl From<String> for Interned {
    fn from(text: String) -> Interned {
        Interned::new(&text)
    }
}

impl PartialEq<str> for Interned {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Interned {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for Interned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// As the text (the JSON outputs write keys).
impl serde::Serialize for Interned {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// As the text alone (`"sqli"`), as the `Arc<str>` keys printed before.
impl fmt::Debug for Interned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_copy_per_text() {
        let a = Interned::new("interned-test-sqli");
        let b = Interned::new(&String::from("interned-test-sqli"));
        let c = Interned::new("interned-test-xss");
        assert_eq!(a, b);
        assert_eq!(a.address(), b.address());
        assert_ne!(a, c);
        assert_ne!(a.address(), c.address());
        assert_eq!(a.as_str(), "interned-test-sqli");
        assert_eq!(Interned::new(""), Interned::new(""));
        assert_eq!(&*Interned::new(""), "");
    }

    #[test]
    fn orders_and_hashes_as_the_text() {
        let mut keys: Vec<Interned> = ["b", "a", "c", "a"].into_iter().map(Interned::new).collect();
        keys.sort();
        let texts: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
        assert_eq!(texts, ["a", "a", "b", "c"]);
        let mut map: rustc_hash::FxHashMap<Interned, u32> = Default::default();
        map.insert(Interned::new("web_api"), 7);
        assert_eq!(map.get("web_api"), Some(&7));
        assert_eq!(map.get("web"), None);
        assert_eq!(format!("{:?} {}", Interned::new("x\"y"), Interned::new("x\"y")), "\"x\\\"y\" x\"y");
    }

    /// Texts of every size (past a chunk, and empty) and of any bytes read back as written,
    /// many to a chunk.
    #[test]
    fn texts_read_back_as_written() {
        let texts: Vec<String> = (0..3_000)
            .map(|i| match i % 4 {
                0 => format!("interned-test-read-{i}"),
                1 => "é".repeat(i % 50) + &i.to_string(),
                2 => "x".repeat(CHUNK / 4 + i),
                _ => format!("{i}\n\0\u{1F600}"),
            })
            .collect();
        let handles: Vec<Interned> = texts.iter().map(|t| Interned::new(t)).collect();
        for (text, handle) in texts.iter().zip(&handles) {
            assert_eq!(handle.as_str(), text);
            assert_eq!(Interned::new(text), *handle);
        }
    }

    /// Threads interning the same texts at once get the same handles.
    #[test]
    fn threads_share_one_copy() {
        let texts: Vec<String> = (0..500).map(|i| format!("interned-test-thread-{i}")).collect();
        let handles: Vec<Vec<usize>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| s.spawn(|| texts.iter().map(|t| Interned::new(t).address()).collect::<Vec<_>>()))
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        assert!(handles.windows(2).all(|w| w[0] == w[1]));
        let distinct: std::collections::HashSet<_> = handles[0].iter().collect();
        assert_eq!(distinct.len(), texts.len());
    }
}
