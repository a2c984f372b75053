//! The cache's encoder of a file's stored facts ([`StoredFactsRef`]), written by hand: the
//! bytes postcard writes for them (the format `cache::wire` decodes), without serde's traversal.
//!
//! Owns: writing the facts' common parts (annotations and their arguments) field by field in
//! the order their serde derivations declare. Must never: write a byte other than postcard's for the same value (the tests
//! compare both on every kind of annotation), or know how the facts are decoded. The rare
//! parts (syntax errors, risk fields, `@source` origins, external references, extended-block
//! keys, MCP surfaces) go through [`wire::encode`], which writes postcard's bytes too.
//!
//! Why: on a cold `check` the cache writer shares the two cores with the parse workers, and
//! serde's traversal of every annotation was most of its cost: of the writer's 401.8M
//! instructions on the 20,000-file benchmark, 340.2M were `StoredFactsRef::serialize` (a call
//! and a `Result` per field, per `Option`, per string; `Annotation` 194M, and 110M for the
//! reference facts the cache no longer stores). Here each record is a straight run of pushes.

use super::wire;
use crate::model::StoredFactsRef;
use crate::syntax::{Annotation, Body, Ref, RefForm, Spanned};
use crate::text::TextRange;

/// Appends postcard's encoding of `facts` to `out` (as [`wire::encode`] of them would).
pub(super) fn encode(facts: &StoredFactsRef<'_>, out: &mut Vec<u8>) -> Result<(), wire::Error> {
    let mut o = Out { out };
    let parsed = facts.parsed;
    o.len(parsed.annotations.len());
    for annotation in &parsed.annotations {
        o.annotation(annotation)?;
    }
    o.rare(&parsed.errors)?;
    o.rare(&parsed.mcp)?;
    o.varint(facts.text_len);
    Ok(())
}

/// The output, with postcard's primitives.
struct Out<'a> {
    out: &'a mut Vec<u8>,
}

impl Out<'_> {
    #[inline]
    fn byte(&mut self, byte: u8) {
        self.out.push(byte);
    }

    #[inline]
    fn bool(&mut self, value: bool) {
        self.byte(u8::from(value));
    }

    /// An unsigned varint (see [`wire::varint`]).
    #[inline]
    fn varint(&mut self, value: u64) {
        wire::varint(self.out, value);
    }

    /// A sequence's length (a varint).
    #[inline]
    fn len(&mut self, len: usize) {
        self.varint(len as u64);
    }

    /// A `u32` (text offsets: most below 16,384, so one or two bytes).
    #[inline]
    fn u32(&mut self, value: u32) {
        if value < 0x80 {
            self.out.push(value as u8);
        } else if value < 0x4000 {
            self.out.extend_from_slice(&[value as u8 | 0x80, (value >> 7) as u8]);
        } else {
            self.varint(u64::from(value));
        }
    }

    #[inline]
    fn range(&mut self, range: TextRange) {
        self.u32(range.start);
        self.u32(range.end);
    }

    #[inline]
    fn str(&mut self, text: &str) {
        self.len(text.len());
        self.out.extend_from_slice(text.as_bytes());
    }

    #[inline]
    fn spanned<T: AsRef<str>>(&mut self, spanned: &Spanned<T>) {
        self.str(spanned.value.as_ref());
        self.range(spanned.range);
    }

    /// An `Option` of anything, as its `0` or `1` and the value.
    #[inline]
    fn option<T>(&mut self, value: Option<T>, mut some: impl FnMut(&mut Self, T)) {
        match value {
            None => self.byte(0),
            Some(value) => {
                self.byte(1);
                some(self, value);
            }
        }
    }

    /// A part most files do not have, through serde: an empty sequence or `None` is one `0`.
    #[inline]
    fn rare<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), wire::Error> {
        wire::encode(value, self.out)
    }

    fn annotation(&mut self, a: &Annotation) -> Result<(), wire::Error> {
        // As `Annotation`'s `Serialize` (its stored field order).
        self.byte(a.verb as u8);
        self.byte(a.dialect as u8);
        self.range(a.range);
        self.range(a.verb_range());
        self.body(&a.body);
        self.option(a.severity.as_ref(), |o, s| {
            o.byte(s.value as u8);
            o.range(s.range);
        });
        match a.external_refs() {
            [] => self.byte(0),
            refs => self.rare(refs)?,
        }
        match a.risk() {
            None => self.byte(0),
            risk => self.rare(&risk)?,
        }
        self.option(a.description.as_ref(), Self::spanned);
        self.option(a.details.as_ref(), Self::spanned);
        match a.fields() {
            [] => self.byte(0),
            fields => self.rare(fields)?,
        }
        match a.origin() {
            None => self.byte(0),
            origin => self.rare(&origin)?,
        }
        Ok(())
    }

    /// The variant's index, then its fields in declaration order (as `Body`'s derivation).
    fn body(&mut self, body: &Body) {
        let spanned = |o: &mut Self, s: &Spanned<String>| o.spanned(s);
        let arg = |o: &mut Self, r: &Ref| o.reference(r);
        match body {
            Body::Define { kind, target } => {
                self.byte(0);
                self.byte(*kind as u8);
                self.reference(target);
            }
            Body::Mitigates { asset, threat, control } => {
                self.byte(1);
                self.reference(asset);
                self.reference(threat);
                self.option(control.as_ref(), arg);
            }
            Body::Exposes { asset, threat } => {
                self.byte(2);
                self.reference(asset);
                self.reference(threat);
            }
            Body::Confirmed { threat, asset } => {
                self.byte(3);
                self.reference(threat);
                self.reference(asset);
            }
            Body::Accepts { threat, asset } => {
                self.byte(4);
                self.reference(threat);
                self.reference(asset);
            }
            Body::Transfers { threat, from, to } => {
                self.byte(5);
                self.reference(threat);
                self.option(from.as_ref(), arg);
                self.reference(to);
            }
            Body::Flows { from, to, two_way, mechanism, name } => {
                self.byte(6);
                self.reference(from);
                self.reference(to);
                self.bool(*two_way);
                self.option(mechanism.as_deref(), spanned);
                self.option(name.as_deref(), spanned);
            }
            Body::Boundary { a, b, id, directed } => {
                self.byte(7);
                self.reference(a);
                self.reference(b);
                self.option(id.as_ref(), spanned);
                self.bool(*directed);
            }
            Body::Entitles { actor, capability, asset, threat } => {
                self.byte(8);
                self.reference(actor);
                self.spanned(capability);
                self.option(asset.as_deref(), arg);
                self.option(threat.as_deref(), arg);
            }
            Body::Feature { name } => {
                self.byte(9);
                self.spanned(name);
            }
            Body::Validates { control, asset } => {
                self.byte(10);
                self.reference(control);
                self.reference(asset);
            }
            Body::Audit { asset, note } => {
                self.byte(11);
                self.reference(asset);
                self.option(note.as_ref(), spanned);
            }
            Body::Owns { owner, asset } => {
                self.byte(12);
                self.spanned(owner);
                self.reference(asset);
            }
            Body::Handles { class, asset } => {
                self.byte(13);
                self.spanned(class);
                self.reference(asset);
            }
            Body::Assumes { asset, note } => {
                self.byte(14);
                self.reference(asset);
                self.option(note.as_ref(), spanned);
            }
            Body::Comment { text } => {
                self.byte(15);
                self.option(text.as_ref(), spanned);
            }
            Body::Alias { kind, target, name } => {
                self.byte(16);
                self.byte(*kind as u8);
                self.reference(target);
                self.spanned(name);
            }
            Body::Describe { kind, target, text } => {
                self.byte(17);
                self.byte(*kind as u8);
                self.reference(target);
                self.spanned(text);
            }
            Body::Shield(kind) => {
                self.byte(18);
                self.byte(*kind as u8);
            }
        }
    }

    /// A [`Ref`]: its range, then its form as the enum it was stored as (`Name` with its
    /// `id` and `alias` as two options).
    fn reference(&mut self, r: &Ref) {
        self.range(r.range);
        match &r.form {
            RefForm::Id(id) => {
                self.byte(0);
                self.spanned(id);
            }
            RefForm::Name { name, more } => {
                self.byte(1);
                self.spanned(name);
                let more = more.as_deref();
                self.option(more.and_then(|m| m.id.as_ref()), Self::spanned);
                self.option(more.and_then(|m| m.alias.as_ref()), Self::spanned);
            }
            RefForm::Legacy { boundary, component } => {
                self.byte(2);
                self.spanned(boundary);
                self.spanned(component);
            }
        }
    }
}
