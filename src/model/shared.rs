//! Decoding the keys of stored facts shared, as parsing makes them: the index cache's facts
//! ([`super::StoredFacts`]) hold every reference's lookup keys, every implicit id and every
//! definition's entity key as text, and a project repeats the same few hundred names
//! thousands of times.
//!
//! Owns: the `deserialize_with` helpers of the stored key fields ([`str`], [`name`],
//! [`implicit_ids`]) and the bounded per-thread memo of the keys decoded last. Must never:
//! change what a key says (a memo hit is a key of the same text), hold more than
//! [`Decoded::MAX_KEYS`] keys or [`Decoded::MAX_BYTES`] of text per thread (a language server
//! decodes for hours), or know the cache's format (any serde deserializer reads through them).
//!
//! Why: serde's `Arc<str>` is decoded into a `String`, boxed, and copied into the `Arc` (two
//! or three allocations and a copy per key), and every key of every file got its own copy,
//! where parsing shares one per name per thread ([`super::NameKeys`]). On the dense benchmark
//! that was 37M of the 110M instructions that decoding every file's facts took after 1% of
//! the files were edited, and the decoded index held one copy of a key per mention. Here a key
//! is read from the bytes without a copy, found in the memo, and shared (a reference count);
//! only a key not seen lately is allocated, once.

use super::{EntityKind, NameLookup};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

/// The keys this thread decoded lately.
#[derive(Default)]
struct Decoded {
    texts: FxHashSet<Arc<str>>,
    /// Name lookups by their two keys' texts ([`Decoded::name_key`]): one search finds a name
    /// seen before (asking `texts` for each key, then for the pair, took three).
    names: FxHashMap<Box<[u8]>, Arc<NameLookup>>,
    /// The key of the name looked up last (reused: no allocation per search).
    key: Vec<u8>,
    bytes: usize,
}

impl Decoded {
    const MAX_KEYS: usize = 8192;
    const MAX_BYTES: usize = 1 << 20;

    fn text(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.texts.get(text) {
            return shared.clone();
        }
        self.make_room(text.len());
        let shared: Arc<str> = Arc::from(text);
        self.texts.insert(shared.clone());
        shared
    }

    fn name(&mut self, norm: &str, path: &str) -> Arc<NameLookup> {
        // The norm's length first: no two pairs of texts make the same key.
        self.key.clear();
        self.key.extend_from_slice(&(norm.len() as u64).to_le_bytes());
        self.key.extend_from_slice(norm.as_bytes());
        self.key.extend_from_slice(path.as_bytes());
        if let Some(shared) = self.names.get(&self.key[..]) {
            return shared.clone();
        }
        let lookup = Arc::new(NameLookup { norm: self.text(norm), path: self.text(path) });
        self.make_room(self.key.len());
        self.names.insert(self.key.as_slice().into(), lookup.clone());
        lookup
    }

    /// Empties the memo when it is full (the facts decoded so far keep their keys), and counts
    /// `bytes` more.
    fn make_room(&mut self, bytes: usize) {
        if self.texts.len() + self.names.len() >= Self::MAX_KEYS || self.bytes >= Self::MAX_BYTES {
            self.texts.clear();
            self.names.clear();
            self.bytes = 0;
        }
        self.bytes += bytes;
    }
}

thread_local! {
    static DECODED: RefCell<Decoded> = RefCell::default();
}

/// A key's text, shared with the keys this thread decoded lately.
pub fn str<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Arc<str>, D::Error> {
    deserializer.deserialize_str(Text)
}

struct Text;

impl<'de> Visitor<'de> for Text {
    type Value = Arc<str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Arc<str>, E> {
        Ok(DECODED.with_borrow_mut(|memo| memo.text(v)))
    }
}

/// A key's text as a value of its own (an element of a tuple or a sequence).
struct Shared(Arc<str>);

impl<'de> de::Deserialize<'de> for Shared {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Shared, D::Error> {
        str(deserializer).map(Shared)
    }
}

/// A plain name's lookup keys ([`NameLookup`]: `norm`, then `path`), shared.
pub fn name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Arc<NameLookup>, D::Error> {
    deserializer.deserialize_struct("NameLookup", &["norm", "path"], Name)
}

struct Name;

impl<'de> Visitor<'de> for Name {
    type Value = Arc<NameLookup>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a name's lookup keys")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Arc<NameLookup>, A::Error> {
        // Borrowed from the bytes where the deserializer can (the cache's does): no copy
        // before the memo is asked.
        let norm: std::borrow::Cow<'de, str> =
            seq.next_element::<Borrowed<'de>>()?.ok_or_else(|| de::Error::invalid_length(0, &self))?.0;
        let path = seq.next_element::<Borrowed<'de>>()?.ok_or_else(|| de::Error::invalid_length(1, &self))?.0;
        Ok(DECODED.with_borrow_mut(|memo| memo.name(&norm, &path)))
    }
}

/// A text borrowed from the deserializer's input when it can lend it, else owned.
struct Borrowed<'de>(std::borrow::Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Borrowed<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Borrowed<'de>, D::Error> {
        struct Lend;
        impl<'de> Visitor<'de> for Lend {
            type Value = Borrowed<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Borrowed<'de>, E> {
                Ok(Borrowed(std::borrow::Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Borrowed<'de>, E> {
                Ok(Borrowed(std::borrow::Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(Lend)
    }
}

/// `(kind, implicit id, entity key)`: one of [`super::StoredFacts::implicit_ids`].
type ImplicitId = (EntityKind, Arc<str>, Arc<str>);

/// A file's implicit ids, their texts shared.
pub fn implicit_ids<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<ImplicitId>, D::Error> {
    deserializer.deserialize_seq(Implicit)
}

struct Implicit;

impl<'de> Visitor<'de> for Implicit {
    type Value = Vec<ImplicitId>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("implicit ids")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Reserved for what the bytes can hold at most, as serde's own `Vec` (capped).
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some((kind, Shared(id), Shared(key))) =
            seq.next_element::<(EntityKind, Shared, Shared)>()?
        {
            out.push((kind, id, key));
        }
        Ok(out)
    }
}
