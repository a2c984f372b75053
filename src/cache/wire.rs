//! Postcard's wire format for stored facts: a serde deserializer (the format `encode_facts`
//! writes), written for the warm path's cost, and a serde serializer ([`encode`]), written for
//! the cold path's (the entry table, the facts' rare parts that `cache::facts` hands it, and
//! `check`'s result cache's file), with its varint ([`varint`]) for encoders written by hand.
//!
//! Owns: reading one blob's bytes into a value, and writing a value's bytes, exactly as
//! postcard 1.x would (varints for lengths, integers above 8 bits and enum variants; zig-zag
//! for signed integers; `0`/`1` for booleans and options; a length and the bytes for strings;
//! no field names, no tags). Must never: accept what postcard would reject in a way that
//! yields a wrong value, write a byte postcard would not, panic on any input, or allocate
//! before a length has been checked against the bytes left.
//!
//! Why not postcard's own deserializer: a warm run decodes every annotated file's facts, and
//! most of that cost was per string and per varint: `core::str::from_utf8` on every short
//! string (its loop is per byte below a word's alignment; 19M of the 97M instructions that
//! decoding took on the dense corpus) and a fallible byte-by-byte `pop` per varint byte. Here a
//! string that is all ASCII (nearly all of them: names, ids, keys) is checked word by word by
//! `is_ascii` and used as it is; any other string is checked by `from_utf8`. A one-byte
//! varint, the common case, is one comparison. Why not its serializer: see [`encode`].

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize};
use std::fmt;

/// Appends the encoding of `value` to `out`, byte for byte what `postcard::to_allocvec` makes
/// of it; `Err` for what postcard refuses too (a sequence or map of unknown length), or a
/// value's own serialization error. `out` may hold partial output then.
///
/// Why not postcard's serializer: it encodes every varint into a scratch array and hands that
/// to its output (a call and a copy per integer, however small), and its `Vec` output appends
/// byte by byte through `Extend`: encoding was 40M of the cache writer's 47M instructions on
/// a cold run of the dense benchmark. Here a varint below 128, most of them (offsets within a
/// comment, lengths, enum variants), is one `push`.
pub fn encode<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<()> {
    value.serialize(&mut Encoder { out })
}

/// Appends `value` as postcard writes an unsigned integer of up to 64 bits (a varint, see
/// [`Encoder::varint`]): for encoders written by hand (`cache::facts`).
#[inline]
pub(super) fn varint(out: &mut Vec<u8>, value: u64) {
    Encoder { out }.varint(value);
}

/// Postcard's serializer, appending to a `Vec`.
struct Encoder<'a> {
    out: &'a mut Vec<u8>,
}

impl Encoder<'_> {
    /// An unsigned LEB128 varint: seven bits a byte, least significant first, a set top bit
    /// on every byte but the last (postcard's for every unsigned width up to 64 bits). Only
    /// the one-byte case is inlined: fixed-size stores for two and three bytes, inlined
    /// everywhere, measured slower than this loop.
    #[inline]
    fn varint(&mut self, value: u64) {
        if value < 0x80 {
            self.out.push(value as u8);
        } else {
            self.varint_long(value);
        }
    }

    /// Two bytes or more: the bytes are put together in a register and appended as one
    /// 8-byte word, cut to length (a push per byte checked the capacity and stored the
    /// length each time; a text offset past 127, most of them, is two bytes).
    fn varint_long(&mut self, mut value: u64) {
        if value >= 1 << 56 {
            return self.varint_u128(u128::from(value));
        }
        // At most 8 bytes: 7 bits each.
        let (mut word, mut shift) = (0u64, 0);
        while value >= 0x80 {
            word |= (value & 0x7f | 0x80) << shift;
            value >>= 7;
            shift += 8;
        }
        word |= value << shift;
        let len = self.out.len();
        self.out.extend_from_slice(&word.to_le_bytes());
        self.out.truncate(len + shift / 8 + 1);
    }

    /// Eight bytes at a time, as [`Encoder::varint_long`] (a stored content hash is 19).
    fn varint_u128(&mut self, mut value: u128) {
        while value >= 1 << 56 {
            let mut word = 0u64;
            for byte in 0..8 {
                word |= (value as u64 & 0x7f | 0x80) << (8 * byte);
                value >>= 7;
            }
            self.out.extend_from_slice(&word.to_le_bytes());
        }
        self.varint_long(value as u64);
    }

    #[inline]
    fn bytes(&mut self, bytes: &[u8]) {
        self.varint(bytes.len() as u64);
        self.out.extend_from_slice(bytes);
    }
}

impl<'a> ser::Serializer for &mut Encoder<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.out.push(u8::from(v));
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<()> {
        self.out.push(v as u8);
        Ok(())
    }

    // Zig-zag: the sign in the lowest bit, so small magnitudes stay short.
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.varint(((v << 1) ^ (v >> 15)) as u16 as u64);
        Ok(())
    }

    fn serialize_i32(self, v: i32) -> Result<()> {
        self.varint(((v << 1) ^ (v >> 31)) as u32 as u64);
        Ok(())
    }

    fn serialize_i64(self, v: i64) -> Result<()> {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<()> {
        self.varint_u128(((v << 1) ^ (v >> 127)) as u128);
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<()> {
        self.out.push(v);
        Ok(())
    }

    fn serialize_u16(self, v: u16) -> Result<()> {
        self.varint(u64::from(v));
        Ok(())
    }

    // Text offsets (every range's two ends): past 127 and below 16,384 in most files, so
    // the two-byte case is inlined here, and only here.
    fn serialize_u32(self, v: u32) -> Result<()> {
        if (0x80..0x4000).contains(&v) {
            self.out.extend_from_slice(&[v as u8 | 0x80, (v >> 7) as u8]);
        } else {
            self.varint(u64::from(v));
        }
        Ok(())
    }

    fn serialize_u64(self, v: u64) -> Result<()> {
        self.varint(v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<()> {
        self.varint_u128(v);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<()> {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<()> {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<()> {
        self.bytes(v.encode_utf8(&mut [0; 4]).as_bytes());
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<()> {
        self.bytes(v.as_bytes());
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.bytes(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<()> {
        self.out.push(0);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        self.out.push(1);
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<()> {
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        Ok(())
    }

    fn serialize_unit_variant(self, _name: &'static str, index: u32, _variant: &'static str) -> Result<()> {
        self.varint(u64::from(index));
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.varint(u64::from(index));
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self> {
        self.varint(len.ok_or(Error("sequence of unknown length"))? as u64);
        Ok(self)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self> {
        Ok(self)
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self> {
        Ok(self)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self> {
        self.varint(u64::from(index));
        Ok(self)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self> {
        self.varint(len.ok_or(Error("map of unknown length"))? as u64);
        Ok(self)
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self> {
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self> {
        // The variant's index, then its fields: as a tuple variant.
        self.serialize_tuple_variant(name, index, variant, len)
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<()> {
        self.serialize_str(&value.to_string())
    }
}

/// Every compound is its elements one after the other (lengths and variants come first).
macro_rules! elements {
    ($($trait:ident :: $method:ident ($($key:ident: $key_ty:ty),*)),* $(,)?) => {$(
        impl ser::$trait for &mut Encoder<'_> {
            type Ok = ();
            type Error = Error;

            // A forwarder: inlined, the caller calls the value's `serialize` directly.
            #[inline(always)]
            fn $method<T: Serialize + ?Sized>(&mut self, $($key: $key_ty,)* value: &T) -> Result<()> {
                value.serialize(&mut **self)
            }

            fn end(self) -> Result<()> {
                Ok(())
            }
        }
    )*};
}

elements! {
    SerializeSeq::serialize_element(),
    SerializeTuple::serialize_element(),
    SerializeTupleStruct::serialize_field(),
    SerializeTupleVariant::serialize_field(),
    SerializeStruct::serialize_field(_key: &'static str),
    SerializeStructVariant::serialize_field(_key: &'static str),
}

impl ser::SerializeMap for &mut Encoder<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        key.serialize(&mut **self)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}

/// Why bytes did not decode (never shown: any error means "no cache entry").
#[derive(Debug)]
pub struct Error(&'static str);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Error("invalid value")
    }
}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Error("not encodable")
    }
}

type Result<T> = std::result::Result<T, Error>;

/// Decodes a `T` from the whole of `bytes`; `None` if it does not decode or leaves bytes over.
pub fn from_bytes<'de, T: de::Deserialize<'de>>(bytes: &'de [u8]) -> Option<T> {
    let mut wire = Wire { bytes };
    let value = T::deserialize(&mut wire).ok()?;
    wire.bytes.is_empty().then_some(value)
}

/// The bytes not yet read.
struct Wire<'de> {
    bytes: &'de [u8],
}

impl<'de> Wire<'de> {
    #[inline]
    fn byte(&mut self) -> Result<u8> {
        let (&first, rest) = self.bytes.split_first().ok_or(Error("truncated"))?;
        self.bytes = rest;
        Ok(first)
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'de [u8]> {
        if n > self.bytes.len() {
            return Err(Error("truncated"));
        }
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(taken)
    }

    /// An unsigned LEB128 varint of at most `bits` bits, as postcard writes it: at most
    /// `ceil(bits / 7)` bytes, and the last byte holds no bits beyond `bits`.
    #[inline]
    fn varint(&mut self, bits: u32) -> Result<u64> {
        let first = self.byte()?;
        if first < 0x80 {
            return Ok(u64::from(first));
        }
        let max_bytes = bits.div_ceil(7);
        let mut out = u64::from(first & 0x7f);
        for i in 1..max_bytes {
            let b = self.byte()?;
            out |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                let last = i == max_bytes - 1;
                let extra = bits % 7;
                if last && extra != 0 && b > (1u8 << extra) - 1 {
                    return Err(Error("bad varint"));
                }
                return Ok(out);
            }
        }
        Err(Error("bad varint"))
    }

    #[inline]
    fn len(&mut self) -> Result<usize> {
        usize::try_from(self.varint(64)?).map_err(|_| Error("bad length"))
    }

    #[inline]
    fn str(&mut self) -> Result<&'de str> {
        let len = self.len()?;
        let bytes = self.take(len)?;
        if bytes.is_ascii() {
            // SAFETY: every byte is ASCII, so the bytes are valid UTF-8.
            Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
        } else {
            std::str::from_utf8(bytes).map_err(|_| Error("not UTF-8"))
        }
    }
}

/// A sequence, tuple or struct of `len` elements.
struct Seq<'a, 'de> {
    wire: &'a mut Wire<'de>,
    len: usize,
}

impl<'de> de::SeqAccess<'de> for Seq<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.len == 0 {
            return Ok(None);
        }
        self.len -= 1;
        seed.deserialize(&mut *self.wire).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        // Every element takes at least one byte except units: a length beyond the bytes left
        // is no reason to reserve (serde caps the reservation too).
        Some(self.len.min(self.wire.bytes.len()))
    }
}

impl<'de> de::MapAccess<'de> for Seq<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.len == 0 {
            return Ok(None);
        }
        self.len -= 1;
        seed.deserialize(&mut *self.wire).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.wire)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len.min(self.wire.bytes.len()))
    }
}

fn zigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

impl<'de> de::Deserializer<'de> for &mut Wire<'de> {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        Err(Error("self-describing types are not stored"))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.byte()? {
            0 => visitor.visit_bool(false),
            1 => visitor.visit_bool(true),
            _ => Err(Error("bad bool")),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_i8(self.byte()? as i8)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_i16(zigzag(self.varint(16)?) as i16)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_i32(zigzag(self.varint(32)?) as i32)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_i64(zigzag(self.varint(64)?))
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_u8(self.byte()?)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_u16(self.varint(16)? as u16)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_u32(self.varint(32)? as u32)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_u64(self.varint(64)?)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let (mut out, mut shift) = (0u128, 0);
        // 19 bytes carry 133 bits; the last may carry only the 2 that fit in 128.
        for i in 0..19 {
            let b = self.byte()?;
            out |= u128::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                if i == 18 && b > 0b11 {
                    break;
                }
                return visitor.visit_u128(out);
            }
        }
        Err(Error("bad varint"))
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let bytes = self.take(4)?.try_into().expect("4 bytes");
        visitor.visit_f32(f32::from_le_bytes(bytes))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let bytes = self.take(8)?.try_into().expect("8 bytes");
        visitor.visit_f64(f64::from_le_bytes(bytes))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // As postcard: at most four bytes of UTF-8, the first character read.
        let len = self.len()?;
        if len > 4 {
            return Err(Error("bad char"));
        }
        let bytes = self.take(len)?;
        let c = std::str::from_utf8(bytes).ok().and_then(|s| s.chars().next()).ok_or(Error("bad char"))?;
        visitor.visit_char(c)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(self.str()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_str(self.str()?)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let len = self.len()?;
        visitor.visit_borrowed_bytes(self.take(len)?)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let len = self.len()?;
        visitor.visit_bytes(self.take(len)?)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.byte()? {
            0 => visitor.visit_none(),
            1 => visitor.visit_some(self),
            _ => Err(Error("bad option")),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let len = self.len()?;
        visitor.visit_seq(Seq { wire: self, len })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        visitor.visit_seq(Seq { wire: self, len })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_seq(Seq { wire: self, len })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let len = self.len()?;
        visitor.visit_map(Seq { wire: self, len })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_seq(Seq { wire: self, len: fields.len() })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_enum(self)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        Err(Error("identifiers are not stored"))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        Err(Error("nothing is skipped"))
    }
}

impl<'de> de::EnumAccess<'de> for &mut Wire<'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        let index = self.varint(32)? as u32;
        let value = seed.deserialize(IntoDeserializer::<Error>::into_deserializer(index))?;
        Ok((value, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Wire<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        visitor.visit_seq(Seq { wire: self, len })
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_seq(Seq { wire: self, len: fields.len() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Unit,
        New(i64),
        Tuple(u16, i16),
        Named { a: Option<String>, b: Vec<(u8, char)> },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Every {
        flag: bool,
        small: u8,
        signed: i8,
        word: u32,
        long: u64,
        wide: u128,
        negative: i32,
        float: f64,
        text: String,
        other: String,
        shapes: Vec<Shape>,
        nested: Option<Box<Every>>,
        map: std::collections::BTreeMap<String, u32>,
        unit: (),
    }

    fn sample(depth: u32) -> Every {
        Every {
            flag: depth.is_multiple_of(2),
            small: 200,
            signed: -5,
            word: u32::MAX,
            long: u64::MAX - depth as u64,
            wide: u128::MAX,
            negative: i32::MIN,
            float: -1.5,
            text: "App.Api #sqli".into(),
            other: "naïve 名前 \u{1F600}".into(),
            shapes: vec![
                Shape::Unit,
                Shape::New(-300),
                Shape::Tuple(65535, -32768),
                Shape::Named { a: Some(String::new()), b: vec![(1, 'é'), (0, 'x')] },
                Shape::Named { a: None, b: Vec::new() },
            ],
            nested: (depth > 0).then(|| Box::new(sample(depth - 1))),
            map: [("k".to_string(), 1), ("ä".to_string(), 1 << 30)].into_iter().collect(),
            unit: (),
        }
    }

    /// The same values postcard decodes, from the bytes postcard encodes.
    #[test]
    fn decodes_what_postcard_encodes() {
        let value = sample(2);
        let bytes = postcard::to_allocvec(&value).unwrap();
        assert_eq!(from_bytes::<Every>(&bytes).unwrap(), value);
        assert_eq!(postcard::from_bytes::<Every>(&bytes).unwrap(), value);
    }

    /// The encoder writes postcard's bytes, after what the buffer held before.
    #[test]
    fn encodes_as_postcard_encodes() {
        for n in 0..4 {
            let bytes = postcard::to_allocvec(&sample(n)).unwrap();
            let mut written = vec![7];
            encode(&sample(n), &mut written).unwrap();
            assert_eq!(written[0], 7);
            assert_eq!(written[1..], bytes[..]);
        }
    }

    /// Serializes through `collect_str`.
    struct Shown(i64);

    impl Serialize for Shown {
        fn serialize<S: ser::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
            serializer.collect_str(&format_args!("<{}>", self.0))
        }
    }

    /// A sequence that does not tell its length, which postcard cannot write.
    struct Unsized;

    impl Serialize for Unsized {
        fn serialize<S: ser::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
            use ser::SerializeSeq;
            let mut seq = serializer.serialize_seq(None)?;
            seq.serialize_element(&1u8)?;
            seq.end()
        }
    }

    #[test]
    fn collected_strings_and_unknown_lengths_as_postcard() {
        let mut out = Vec::new();
        encode(&Shown(-12), &mut out).unwrap();
        assert_eq!(out, postcard::to_allocvec(&Shown(-12)).unwrap());
        assert!(postcard::to_allocvec(&Unsized).is_err());
        assert!(encode(&Unsized, &mut Vec::new()).is_err());
    }

    /// Every scalar of serde's data model at any value (varint widths, zig-zag signs, floats'
    /// bits, multi-byte characters), in compounds of every kind.
    #[derive(Debug, Serialize)]
    struct Scalars {
        ints: (u8, i8, u16, i16, u32, i32, u64, i64, u128, i128),
        floats: (f32, f64),
        text: (bool, char, String, Option<u32>, ()),
        shapes: Vec<Shape>,
        map: std::collections::BTreeMap<String, i64>,
        /// Of every magnitude (any width of varint, from one byte to ten).
        sizes: Vec<(u64, i64, u16, u32, u128)>,
    }

    /// A value of `bits` significant bits at most, for every width to be as likely.
    fn magnitude() -> impl proptest::strategy::Strategy<Value = (u64, i64, u16, u32, u128)> {
        use proptest::prelude::*;
        (any::<(u64, i64, u16, u32, u128)>(), 0u32..64).prop_map(|((u, i, h, w, x), shift)| {
            (u >> shift, i >> shift, h >> (shift % 16), w >> (shift % 32), x >> (2 * shift))
        })
    }

    fn shape() -> impl proptest::strategy::Strategy<Value = Shape> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Shape::Unit),
            any::<i64>().prop_map(Shape::New),
            any::<(u16, i16)>().prop_map(|(a, b)| Shape::Tuple(a, b)),
            (any::<Option<String>>(), proptest::collection::vec(any::<(u8, char)>(), 0..4))
                .prop_map(|(a, b)| Shape::Named { a, b }),
        ]
    }

    proptest::proptest! {
        /// Byte for byte postcard's encoding, whatever the values.
        #[test]
        fn encodes_any_value_as_postcard(
            ints in proptest::prelude::any::<(u8, i8, u16, i16, u32, i32, u64, i64, u128, i128)>(),
            floats in proptest::prelude::any::<(f32, f64)>(),
            text in proptest::prelude::any::<(bool, char, String, Option<u32>)>(),
            shapes in proptest::collection::vec(shape(), 0..6),
            map in proptest::collection::btree_map(".{0,3}", proptest::prelude::any::<i64>(), 0..4),
            sizes in proptest::collection::vec(magnitude(), 0..20),
        ) {
            let (flag, c, string, option) = text;
            let value = Scalars { ints, floats, text: (flag, c, string, option, ()), shapes, map, sizes };
            let mut out = Vec::new();
            encode(&value, &mut out).unwrap();
            proptest::prop_assert_eq!(out, postcard::to_allocvec(&value).unwrap());
        }
    }

    /// Every truncation, every extension and every single-byte change: never a panic, and
    /// whenever postcard decodes the bytes, the same value (and the reverse).
    #[test]
    fn agrees_with_postcard_on_damaged_bytes() {
        let bytes = postcard::to_allocvec(&sample(1)).unwrap();
        let same = |bytes: &[u8]| {
            let ours = from_bytes::<Every>(bytes);
            let theirs = match postcard::take_from_bytes::<Every>(bytes) {
                Ok((value, [])) => Some(value),
                _ => None,
            };
            // As text: a damaged float may be NaN, which equals nothing.
            assert_eq!(format!("{ours:?}"), format!("{theirs:?}"), "{bytes:?}");
        };
        for len in 0..bytes.len() {
            same(&bytes[..len]);
        }
        let mut longer = bytes.clone();
        longer.push(0);
        same(&longer);
        for i in 0..bytes.len() {
            for value in [0x00, 0x01, 0x02, 0x7f, 0x80, 0xc3, 0xff] {
                let mut changed = bytes.clone();
                changed[i] = value;
                same(&changed);
            }
        }
    }

    /// Varints at the edge of each width: the longest valid encodings decode, one bit more
    /// (or one byte more) is refused, as postcard refuses it.
    #[test]
    fn varint_limits() {
        let decode = |bytes: &[u8]| from_bytes::<u32>(bytes);
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xff, 0x0f]), Some(u32::MAX));
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xff, 0x1f]), None);
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xff, 0x8f, 0x00]), None);
        assert_eq!(from_bytes::<u16>(&[0xff, 0xff, 0x03]), Some(u16::MAX));
        assert_eq!(from_bytes::<u16>(&[0xff, 0xff, 0x07]), None);
        let max64 = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(from_bytes::<u64>(&max64), Some(u64::MAX));
        let mut over = max64;
        over[9] = 0x02;
        assert_eq!(from_bytes::<u64>(&over), None);
        // A length beyond the bytes left is refused before anything is reserved.
        assert_eq!(from_bytes::<Vec<u8>>(&max64), None);
        assert_eq!(from_bytes::<String>(&[0x05, b'a']), None);
    }
}
