//! [`SmallStr`]: the text of a name or an id in a reference, kept inside the value when it is
//! short (nearly every one is) and on the heap when it is not.
//!
//! Owns: that one string type and its conversions. Must never: change what a string compares,
//! hashes, prints or encodes as: every one of those is the `str`'s.
//!
//! Why: the parser made one heap string per name and id, a third of a cold run's allocations
//! (1.41 M on the 20,000-file benchmark, 0.35 M of them names of references).

use std::fmt;

/// The longest text kept inline.
const INLINE: usize = 22;

/// A string of up to 22 bytes (`INLINE`) kept in the value, longer ones boxed: as large as a
/// `String` (24 bytes, an `Option` of it too).
#[derive(Clone)]
pub struct SmallStr(Repr);

#[derive(Clone)]
enum Repr {
    /// `bytes[..len]` is the text, valid UTF-8 (copied from a `str`; `len` <= `INLINE`).
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap(Box<str>),
}

impl SmallStr {
    /// The empty text.
    pub const EMPTY: SmallStr = SmallStr(Repr::Inline { len: 0, bytes: [0; INLINE] });

    pub fn new(text: &str) -> SmallStr {
        if text.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            SmallStr(Repr::Inline { len: text.len() as u8, bytes })
        } else {
            SmallStr(Repr::Heap(text.into()))
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, bytes } => {
                let bytes = &bytes[..usize::from(*len)];
                // SAFETY: `bytes` is a copy of a whole `str` (an `Inline` is made only by
                // `SmallStr::new`, from a `str`, and as `EMPTY`, empty), so valid UTF-8.
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            Repr::Heap(text) => text,
        }
    }
}

impl std::ops::Deref for SmallStr {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SmallStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for SmallStr {
    fn from(text: &str) -> SmallStr {
        SmallStr::new(text)
    }
}

impl From<String> for SmallStr {
    fn from(text: String) -> SmallStr {
        if text.len() <= INLINE { SmallStr::new(&text) } else { SmallStr(Repr::Heap(text.into_boxed_str())) }
    }
}

impl PartialEq for SmallStr {
    fn eq(&self, other: &SmallStr) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SmallStr {}

impl PartialEq<str> for SmallStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SmallStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::hash::Hash for SmallStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for SmallStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SmallStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for SmallStr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for SmallStr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<SmallStr, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = SmallStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<SmallStr, E> {
                Ok(SmallStr::new(text))
            }
            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<SmallStr, E> {
                Ok(SmallStr::from(text))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_text_and_behaves_as_its_str() {
        let hash = |value: &dyn Fn(&mut std::collections::hash_map::DefaultHasher)| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            value(&mut hasher);
            std::hash::Hasher::finish(&hasher)
        };
        let inline_max = "a".repeat(INLINE);
        let one_more = "a".repeat(INLINE + 1);
        let texts = [
            "",
            "a",
            "App:Svc337:Session6",
            "é",
            &inline_max,
            &one_more,
            "ünïcödé names that run long past the inline room",
        ];
        for text in texts {
            let small = SmallStr::new(text);
            assert_eq!(small.as_str(), text);
            assert_eq!(&*small, text);
            assert_eq!(SmallStr::from(text.to_owned()), small);
            assert_eq!(small, *text);
            assert_eq!(format!("{small}"), text);
            assert_eq!(format!("{small:?}"), format!("{text:?}"));
            assert_eq!(
                hash(&|h| std::hash::Hash::hash(&small, h)),
                hash(&|h| std::hash::Hash::hash(text, h))
            );
            let json = serde_json::to_string(&small).unwrap();
            assert_eq!(json, serde_json::to_string(text).unwrap());
            assert_eq!(serde_json::from_str::<SmallStr>(&json).unwrap(), small);
            let bytes = postcard::to_allocvec(&small).unwrap();
            assert_eq!(bytes, postcard::to_allocvec(text).unwrap());
            assert_eq!(postcard::from_bytes::<SmallStr>(&bytes).unwrap(), small);
        }
        assert!(matches!(SmallStr::new(&inline_max).0, Repr::Inline { .. }));
        assert!(matches!(SmallStr::new(&one_more).0, Repr::Heap(_)));
        assert_eq!(SmallStr::EMPTY, SmallStr::new(""));
        assert_eq!(std::mem::size_of::<SmallStr>(), std::mem::size_of::<String>());
        assert_eq!(std::mem::size_of::<Option<SmallStr>>(), std::mem::size_of::<String>());
    }
}
