//! The one annotation AST shared by all three dialects.
//!
//! Owns: the typed shape of a parsed annotation ([`Annotation`], [`Body`], [`Ref`]). Every node
//! carries an exact byte range into its file. Must never: resolve references (that is the model's
//! job) or know which file it came from.

pub use super::small_str::SmallStr;
use crate::text::TextRange;

/// A value and the exact range of the text it came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Spanned<T> {
    pub value: T,
    pub range: TextRange,
}

impl<T> Spanned<T> {
    pub fn new(value: T, range: TextRange) -> Self {
        Self { value, range }
    }

    /// The same range with `f` of the value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned { value: f(self.value), range: self.range }
    }
}

/// The dialect an annotation is written in, judged from its verb spelling and argument forms.
/// Informative only: all dialects mean the same thing once parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Dialect {
    /// GuardLink GAL 1.0 and 2.0.
    Gal,
    /// ThreatSpec 0.5 (`@component`, colon paths, `with` details).
    ThreatSpec,
    /// ThreatSpec 0.1 (`@alias`, `@describe`, `@boundary:@component`).
    LegacyThreatSpec,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Gal => "gal",
            Dialect::ThreatSpec => "threatspec",
            Dialect::LegacyThreatSpec => "threatspec-0.1",
        }
    }
}

/// Canonical verbs. Dialect spellings map onto these (`@component` -> `Asset`,
/// `@connects` -> `Flows`, `@review` -> `Audit`, `@tests` -> `Validates`, singular forms too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Verb {
    Asset,
    Threat,
    Control,
    Actor,
    Mitigates,
    Exposes,
    Confirmed,
    Accepts,
    Transfers,
    Flows,
    Boundary,
    Entitles,
    Feature,
    Validates,
    Audit,
    Owns,
    Handles,
    Assumes,
    Comment,
    /// `@source file:<path> line:<n> [symbol:<name>]` in `.gal` files: the logical location of
    /// what follows.
    Source,
    Shield,
    ShieldBegin,
    ShieldEnd,
    Alias,
    Describe,
}

/// A set of [`Verb`]s: which verbs a file's annotations use ([`VerbSet::of`]), so that a pass
/// over the whole project skips a file that holds none of the verbs it looks for without
/// reading its annotations (on the 20,000-file benchmark they are ~55 MB of memory, read
/// from main memory again by each such pass).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VerbSet(u32);

const _: () = assert!((Verb::Describe as u32) < u32::BITS, "one bit per verb");

impl VerbSet {
    /// The verbs of `annotations`.
    pub fn of<'a>(annotations: impl IntoIterator<Item = &'a Annotation>) -> VerbSet {
        let mut set = VerbSet::default();
        for a in annotations {
            set.insert(a.verb);
        }
        set
    }

    pub fn insert(&mut self, verb: Verb) {
        self.0 |= 1 << verb as u32;
    }

    pub fn contains(self, verb: Verb) -> bool {
        self.0 & (1 << verb as u32) != 0
    }

    /// Whether any of `verbs` is in the set.
    pub fn any(self, verbs: &[Verb]) -> bool {
        verbs.iter().any(|&v| self.contains(v))
    }
}

/// What kind of entity a definition or reference names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum EntityKind {
    /// GAL asset / ThreatSpec component (a node of the data-flow diagram).
    Asset,
    Threat,
    Control,
    Actor,
    /// A trust boundary (GAL `@boundary ... (#id)`, legacy `@alias boundary @b`).
    Boundary,
}

impl EntityKind {
    pub const ALL: [EntityKind; 5] =
        [EntityKind::Asset, EntityKind::Threat, EntityKind::Control, EntityKind::Actor, EntityKind::Boundary];

    /// Position in [`EntityKind::ALL`] (for per-kind tables).
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Asset => "asset",
            EntityKind::Threat => "threat",
            EntityKind::Control => "control",
            EntityKind::Actor => "actor",
            EntityKind::Boundary => "boundary",
        }
    }
}

/// GAL severity. `P0`..`P3` are the same levels as `critical`..`low`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn parse(text: &str) -> Option<Severity> {
        Some(match text.to_ascii_lowercase().as_str() {
            "critical" | "p0" => Severity::Critical,
            "high" | "p1" => Severity::High,
            "medium" | "p2" => Severity::Medium,
            "low" | "p3" => Severity::Low,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
    /// High and critical findings are errors in `unmitigated-exposure`.
    pub fn is_serious(self) -> bool {
        self >= Severity::High
    }
}

/// An argument that names an entity: by id, by name or path, or by a legacy `@b:@c` pair.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Ref {
    /// The whole argument as written (name, `(#id)` and alias groups included).
    pub range: TextRange,
    pub form: RefForm,
}

/// Encoded (the index cache) as the enum it was before `id` and `alias` shared one box
/// (`ref_wire::RefForm`): the stored format did not change.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(from = "ref_wire::RefForm")]
pub enum RefForm {
    /// `#id` (GAL, ThreatSpec 0.5) or `@id` (ThreatSpec 0.1): a pure reference by identifier,
    /// or a qualified cross-repository tag `#repo.id` (GAL 2.0; `value` then contains `.`).
    /// `value` excludes the sigil (and the quotes of `"#repo.id"`); `range` covers the
    /// identifier only.
    Id(Spanned<SmallStr>),
    /// A free-text name or a component path (`App.Auth`, `WebApp:Api`, `SQL Injection`), or a
    /// quoted one (`"User Browser"`: `value` unquoted and unescaped, `range` between the quotes).
    Name {
        name: Spanned<SmallStr>,
        /// The `(#id)` and the alias, if any ([`RefForm::name_parts`]): one box for both, as
        /// most names have neither and every annotation holds two or three `Ref`s (two boxes
        /// made every `Ref` 8 bytes larger: 56 -> 48, and `Body` 168 -> 144).
        more: Option<Box<NameMore>>,
    },
    /// ThreatSpec 0.1 `@boundary:@component`: component `component` in trust boundary `boundary`
    /// (boxed: the rarest form, and unboxed the largest, it sized every [`Ref`]).
    Legacy { boundary: Box<Spanned<String>>, component: Box<Spanned<String>> },
}

/// What a [`RefForm::Name`] may carry besides the name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NameMore {
    /// `(#id)` written after the name: defines that id for this entity.
    pub id: Option<Spanned<SmallStr>>,
    /// ThreatSpec `Alias (Path)` on a component: `name` is the path, `alias` the other name.
    pub alias: Option<Spanned<SmallStr>>,
}

impl RefForm {
    /// A name with its `(#id)` and alias, if any (the box only when there is one).
    pub fn name(
        name: Spanned<SmallStr>,
        id: Option<Spanned<SmallStr>>,
        alias: Option<Spanned<SmallStr>>,
    ) -> RefForm {
        let more = (id.is_some() || alias.is_some()).then(|| Box::new(NameMore { id, alias }));
        RefForm::Name { name, more }
    }

    /// A name's parts: the name, its `(#id)` and its alias; `None` for the other forms.
    #[allow(clippy::type_complexity)]
    pub fn name_parts(
        &self,
    ) -> Option<(&Spanned<SmallStr>, Option<&Spanned<SmallStr>>, Option<&Spanned<SmallStr>>)> {
        match self {
            RefForm::Name { name, more } => {
                let more = more.as_deref();
                Some((name, more.and_then(|m| m.id.as_ref()), more.and_then(|m| m.alias.as_ref())))
            }
            _ => None,
        }
    }
}

impl Ref {
    /// The id this argument defines or references by sigil, if any.
    pub fn explicit_id(&self) -> Option<&Spanned<SmallStr>> {
        match &self.form {
            RefForm::Id(id) => Some(id),
            RefForm::Name { more, .. } => more.as_ref().and_then(|m| m.id.as_ref()),
            RefForm::Legacy { .. } => None,
        }
    }
    /// Human-readable text of the argument (name, `#id`, or `@b:@c`).
    pub fn display(&self) -> String {
        match &self.form {
            RefForm::Id(id) => format!("#{}", id.value),
            RefForm::Name { name, .. } => name.value.to_string(),
            RefForm::Legacy { boundary, component } => {
                format!("@{}:@{}", boundary.value, component.value)
            }
        }
    }
}

impl serde::Serialize for RefForm {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&ref_wire::RefFormRef::from(self), serializer)
    }
}

/// The encoded shape of a [`RefForm`] (see its docs): `Name` as `{ name, id, alias }`.
mod ref_wire {
    use super::{NameMore, SmallStr, Spanned};

    #[derive(serde::Deserialize)]
    pub(super) enum RefForm {
        Id(Spanned<SmallStr>),
        Name { name: Spanned<SmallStr>, id: Option<Spanned<SmallStr>>, alias: Option<Spanned<SmallStr>> },
        Legacy { boundary: Box<Spanned<String>>, component: Box<Spanned<String>> },
    }

    #[derive(serde::Serialize)]
    #[serde(rename = "RefForm")]
    pub(super) enum RefFormRef<'a> {
        Id(&'a Spanned<SmallStr>),
        Name {
            name: &'a Spanned<SmallStr>,
            id: Option<&'a Spanned<SmallStr>>,
            alias: Option<&'a Spanned<SmallStr>>,
        },
        Legacy {
            boundary: &'a Spanned<String>,
            component: &'a Spanned<String>,
        },
    }

    impl From<RefForm> for super::RefForm {
        fn from(form: RefForm) -> super::RefForm {
            match form {
                RefForm::Id(id) => super::RefForm::Id(id),
                RefForm::Name { name, id, alias } => super::RefForm::name(name, id, alias),
                RefForm::Legacy { boundary, component } => super::RefForm::Legacy { boundary, component },
            }
        }
    }

    impl<'a> From<&'a super::RefForm> for RefFormRef<'a> {
        fn from(form: &'a super::RefForm) -> RefFormRef<'a> {
            match form {
                super::RefForm::Id(id) => RefFormRef::Id(id),
                super::RefForm::Name { name, more } => {
                    let more: Option<&NameMore> = more.as_deref();
                    RefFormRef::Name {
                        name,
                        id: more.and_then(|m| m.id.as_ref()),
                        alias: more.and_then(|m| m.alias.as_ref()),
                    }
                }
                super::RefForm::Legacy { boundary, component } => RefFormRef::Legacy { boundary, component },
            }
        }
    }
}

/// Shield markers: text inside `@shield:begin` .. `@shield:end` is never parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ShieldKind {
    /// `@shield`: the rest of this comment is skipped.
    Line,
    Begin,
    End,
}

/// The verb-specific part of an annotation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Body {
    /// `@asset`/`@component`, `@threat`, `@control`, `@actor`.
    Define {
        kind: EntityKind,
        target: Ref,
    },
    Mitigates {
        asset: Ref,
        threat: Ref,
        control: Option<Ref>,
    },
    Exposes {
        asset: Ref,
        threat: Ref,
    },
    Confirmed {
        threat: Ref,
        asset: Ref,
    },
    Accepts {
        threat: Ref,
        asset: Ref,
    },
    /// `from` is absent in the ThreatSpec 0.1 form `@transfers T to @b:@c`.
    Transfers {
        threat: Ref,
        from: Option<Ref>,
        to: Ref,
    },
    /// GAL `@flows A -> B [via M]`, ThreatSpec `@connects A to|with B [with details] [as name]`.
    /// A multi-hop `@flows A -> B -> C` is one annotation per arrow. The mechanism and the
    /// name are boxed: inline, these two made `Flows` the largest variant, which sizes every
    /// [`Annotation`] (boxed, an `Option` encodes the same).
    Flows {
        from: Ref,
        to: Ref,
        two_way: bool,
        mechanism: Option<Box<Spanned<String>>>,
        name: Option<Box<Spanned<String>>>,
    },
    /// GAL `@boundary [between] A and B (#id)` / `@boundary A | B (#id)`.
    /// Undirected (`[between] A and B`, `A | B`), or directed (GAL 2.0 `from A to B`:
    /// `a` the outer side, `b` the inner).
    Boundary {
        a: Ref,
        b: Ref,
        id: Option<Spanned<String>>,
        directed: bool,
    },
    /// The optional arguments boxed: unboxed, this rare verb sized every [`Annotation`].
    Entitles {
        actor: Ref,
        capability: Spanned<String>,
        asset: Option<Box<Ref>>,
        threat: Option<Box<Ref>>,
    },
    Feature {
        name: Spanned<String>,
    },
    /// GAL `@validates C for A`, ThreatSpec `@tests C for A`.
    Validates {
        control: Ref,
        asset: Ref,
    },
    /// GAL `@audit A`, ThreatSpec `@review A note`.
    Audit {
        asset: Ref,
        note: Option<Spanned<String>>,
    },
    Owns {
        owner: Spanned<String>,
        asset: Ref,
    },
    Handles {
        class: Spanned<String>,
        asset: Ref,
    },
    Assumes {
        asset: Ref,
        note: Option<Spanned<String>>,
    },
    Comment {
        text: Option<Spanned<String>>,
    },
    /// ThreatSpec 0.1 `@alias boundary|component|threat @id[:@id] to Name`.
    Alias {
        kind: EntityKind,
        target: Ref,
        name: Spanned<String>,
    },
    /// ThreatSpec 0.1 `@describe boundary|component|threat @id[:@id] as text`.
    Describe {
        kind: EntityKind,
        target: Ref,
        text: Spanned<String>,
    },
    Shield(ShieldKind),
}

/// One parsed annotation.
///
/// Encoded (the index cache) field by field in the order of `wire::Annotation`, the layout
/// it had before the rare fields moved into one box (`Rare`): the stored format did not change.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(try_from = "wire::Annotation")]
pub struct Annotation {
    pub verb: Verb,
    pub dialect: Dialect,
    /// The length of the verb as written, `@` included ([`Annotation::verb_range`]): it starts
    /// where the annotation does, and a length fits where a range took 8 more bytes.
    verb_len: u8,
    /// From the `@` to the end of the annotation, continuation lines included.
    pub range: TextRange,
    pub body: Body,
    pub severity: Option<Spanned<Severity>>,
    /// `-- "text"` (escapes resolved, continuation lines joined with a space), or the
    /// `description` key of a ThreatSpec extended block. A `Box<str>`, not a `String`: 8
    /// bytes less in every annotation, and the text is never grown once parsed.
    pub description: Option<Spanned<Box<str>>>,
    /// ThreatSpec free-text details (`with <details>` on exposes/accepts/transfers/connects).
    pub details: Option<Spanned<Box<str>>>,
    /// The risk fields, the origin, external references and extended-block keys
    /// ([`Annotation::risk`], [`Annotation::origin`], [`Annotation::external_refs`],
    /// [`Annotation::fields`]): one box, `None` when all are empty. Most annotations have none
    /// of them, and three boxes of their own were 16 more of every annotation's bytes (the
    /// 20,000-file benchmark holds 200,000 annotations).
    rare: Option<Box<Rare>>,
}

/// The rare fields of an [`Annotation`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Rare {
    /// `risk:L4xI5`, `owner:<id>`, `due:<YYYY-MM-DD>`, `audited:<YYYY-MM-DD>` on
    /// `@threat`/`@exposes`/`@confirmed`.
    risk: Option<RiskFields>,
    /// The logical location set by a preceding `@source file:<path> line:<n> symbol:<name>`
    /// (GAL sidecar files describe code elsewhere); the annotation's own range stays exact to
    /// its file.
    origin: Option<Origin>,
    external_refs: Vec<Spanned<String>>,
    fields: Vec<(String, String)>,
}

impl Rare {
    fn is_empty(&self) -> bool {
        self.risk.is_none()
            && self.origin.is_none()
            && self.external_refs.is_empty()
            && self.fields.is_empty()
    }
}

impl Annotation {
    /// An annotation of `verb` over `range` with a placeholder body and no metadata: what the
    /// parser fills in.
    ///
    /// `verb_range` starts where `range` does and is at most 255 bytes long (every verb's
    /// spelling is much shorter): the parser's only call makes both from the same offset.
    pub fn new(verb: Verb, dialect: Dialect, range: TextRange, verb_range: TextRange) -> Annotation {
        debug_assert!(verb_range.start() == range.start() && verb_range.len() <= 255, "{verb_range:?}");
        Annotation {
            verb,
            dialect,
            verb_len: u8::try_from(verb_range.len()).unwrap_or(u8::MAX),
            range,
            body: Body::Comment { text: None },
            severity: None,
            description: None,
            details: None,
            rare: None,
        }
    }

    /// The verb as written, `@` included.
    pub fn verb_range(&self) -> TextRange {
        TextRange::new(self.range.start(), self.range.start() + usize::from(self.verb_len))
    }

    /// The risk fields, when any is written.
    pub fn risk(&self) -> Option<&RiskFields> {
        self.rare.as_ref()?.risk.as_ref()
    }

    /// The logical location of a `.gal` sidecar's annotation (see [`Origin`]).
    pub fn origin(&self) -> Option<&Origin> {
        self.rare.as_ref()?.origin.as_ref()
    }

    /// External references such as `cwe:CWE-89`, `owasp:A03:2021`, kept verbatim (the risk
    /// keys of [`crate::syntax::grammar::RISK_KEYS`] are not among them: they are read into
    /// [`Annotation::risk`]).
    pub fn external_refs(&self) -> &[Spanned<String>] {
        self.rare.as_ref().map_or(&[], |r| &r.external_refs)
    }

    /// Other keys of a ThreatSpec extended YAML block or `x-threatspec` map, in source order.
    pub fn fields(&self) -> &[(String, String)] {
        self.rare.as_ref().map_or(&[], |r| &r.fields)
    }

    /// Sets the risk fields (no box is made for `None`).
    pub fn set_risk(&mut self, risk: Option<RiskFields>) {
        if risk.is_some() || self.rare.is_some() {
            self.rare_mut().risk = risk;
            self.fit_rare();
        }
    }

    /// Sets the origin (no box is made for `None`).
    pub fn set_origin(&mut self, origin: Option<Origin>) {
        if origin.is_some() || self.rare.is_some() {
            self.rare_mut().origin = origin;
            self.fit_rare();
        }
    }

    /// The external references, to change (the box is made on first use: call
    /// [`Annotation::fit_rare`] when done).
    pub fn external_refs_mut(&mut self) -> &mut Vec<Spanned<String>> {
        &mut self.rare_mut().external_refs
    }

    /// The extended-block keys, to change (see [`Annotation::external_refs_mut`]).
    pub fn fields_mut(&mut self) -> &mut Vec<(String, String)> {
        &mut self.rare_mut().fields
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Drops the box of the rare fields when all are empty.
    pub fn fit_rare(&mut self) {
        if self.rare.as_ref().is_some_and(|r| r.is_empty()) {
            self.rare = None;
        }
    }
}

impl serde::Serialize for Annotation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Annotation", 12)?;
        s.serialize_field("verb", &self.verb)?;
        s.serialize_field("dialect", &self.dialect)?;
        s.serialize_field("range", &self.range)?;
        s.serialize_field("verb_range", &self.verb_range())?;
        s.serialize_field("body", &self.body)?;
        s.serialize_field("severity", &self.severity)?;
        s.serialize_field("external_refs", self.external_refs())?;
        s.serialize_field("risk", &self.risk())?;
        s.serialize_field("description", &self.description)?;
        s.serialize_field("details", &self.details)?;
        s.serialize_field("fields", self.fields())?;
        s.serialize_field("origin", &self.origin())?;
        s.end()
    }
}

/// The encoded shape of an [`Annotation`] (see its docs).
mod wire {
    use super::*;

    #[derive(serde::Deserialize)]
    pub(super) struct Annotation {
        verb: Verb,
        dialect: Dialect,
        range: TextRange,
        verb_range: TextRange,
        body: Body,
        severity: Option<Spanned<Severity>>,
        external_refs: Vec<Spanned<String>>,
        risk: Option<RiskFields>,
        description: Option<Spanned<Box<str>>>,
        details: Option<Spanned<Box<str>>>,
        fields: Vec<(String, String)>,
        origin: Option<Origin>,
    }

    impl TryFrom<Annotation> for super::Annotation {
        type Error = &'static str;

        /// Fails on a verb range that the parser never makes (one that does not start the
        /// annotation, or longer than a verb): a record that does not decode to what was
        /// stored is refused, and the file is read again.
        fn try_from(a: Annotation) -> Result<super::Annotation, &'static str> {
            let verb_len = u8::try_from(a.verb_range.len())
                .ok()
                .filter(|_| a.verb_range.start() == a.range.start())
                .ok_or("a verb range that does not start its annotation")?;
            let rare =
                Rare { risk: a.risk, origin: a.origin, external_refs: a.external_refs, fields: a.fields };
            Ok(super::Annotation {
                verb: a.verb,
                dialect: a.dialect,
                verb_len,
                range: a.range,
                body: a.body,
                severity: a.severity,
                description: a.description,
                details: a.details,
                rare: (!rare.is_empty()).then(|| Box::new(rare)),
            })
        }
    }
}

/// The risk fields written on a threat, exposure or confirmed finding: each present when
/// written and valid (an invalid one is a syntax error at its token, never dropped silently).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RiskFields {
    /// `risk:L<likelihood>xI<impact>`, both 1..=5.
    pub rating: Option<Spanned<Rating>>,
    /// `owner:<id>`: who owns the treatment.
    pub owner: Option<Spanned<String>>,
    /// `due:<YYYY-MM-DD>`: when the treatment is due.
    pub due: Option<Spanned<Date>>,
    /// `audited:<YYYY-MM-DD>`: when the risk was last audited (starts its treatment SLA).
    pub audited: Option<Spanned<Date>>,
}

/// Likelihood and impact, each 1..=5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Rating {
    pub likelihood: u8,
    pub impact: u8,
}

impl Rating {
    /// Likelihood × impact (1..=25).
    pub fn score(self) -> u8 {
        self.likelihood * self.impact
    }
}

/// A calendar date (proleptic Gregorian), as written `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// `YYYY-MM-DD` with a real day of a real month (`2026-02-29` is not one), years 1..=9999.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u16> {
            let part = &text[r];
            if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if year == 0 || day == 0 || day > days_in_month {
            return None;
        }
        Some(Date { year, month: month as u8, day: day as u8 })
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date (UTC) of an instant, as the shells read today's date from the clock (the core
    /// never reads it: the date the risk checks compare with is passed in). `None` before 1970.
    pub fn of_instant(instant: std::time::SystemTime) -> Option<Date> {
        let secs = instant.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
        Some(Date::from_days(i64::try_from(secs / 86_400).ok()?))
    }

    /// The date `days` after 1970-01-01 (clamped to years 1..=9999).
    pub fn from_days(days: i64) -> Date {
        let z = days.clamp(-719_162, 2_932_896) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A logical source location from `@source file:<path> [line:<n>] [symbol:<name>]` (GuardLink's
/// external mode: a `.gal` sidecar describes code in another file).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    /// The path as written (relative to the project root; the model resolves it).
    pub file: Spanned<String>,
    /// 1-based line, when given; the range is the number's.
    pub line: Option<Spanned<u32>>,
    /// The function, method or class the annotations describe, when given.
    pub symbol: Option<Spanned<String>>,
    /// The whole `@source` line.
    pub directive: TextRange,
}

impl Annotation {
    /// Every entity argument of the annotation, in source order.
    pub fn refs(&self) -> Refs<'_> {
        use EntityKind::*;
        let mut out = Refs::default();
        match &self.body {
            Body::Define { kind, target } => out.push((*kind, target)),
            Body::Mitigates { asset, threat, control } => {
                out.push((Asset, asset));
                out.push((Threat, threat));
                out.extend(control.iter().map(|c| (Control, c)));
            }
            Body::Exposes { asset, threat } => out.extend([(Asset, asset), (Threat, threat)]),
            Body::Confirmed { threat, asset } | Body::Accepts { threat, asset } => {
                out.extend([(Threat, threat), (Asset, asset)])
            }
            Body::Transfers { threat, from, to } => {
                out.push((Threat, threat));
                out.extend(from.iter().map(|f| (Asset, f)));
                out.push((Asset, to));
            }
            Body::Flows { from, to, .. } => out.extend([(Asset, from), (Asset, to)]),
            Body::Boundary { a, b, .. } => out.extend([(Asset, a), (Asset, b)]),
            Body::Entitles { actor, asset, threat, .. } => {
                out.push((Actor, actor));
                out.extend(asset.as_deref().map(|a| (Asset, a)));
                out.extend(threat.as_deref().map(|t| (Threat, t)));
            }
            Body::Validates { control, asset } => out.extend([(Control, control), (Asset, asset)]),
            Body::Audit { asset, .. }
            | Body::Owns { asset, .. }
            | Body::Handles { asset, .. }
            | Body::Assumes { asset, .. } => out.push((Asset, asset)),
            Body::Alias { kind, target, .. } | Body::Describe { kind, target, .. } => {
                out.push((*kind, target))
            }
            Body::Feature { .. } | Body::Comment { .. } | Body::Shield(_) => {}
        }
        out
    }
}

/// The entity arguments of one annotation ([`Annotation::refs`]), in source order: at most
/// three, held inline (a `Vec` cost an allocation per call, and reading a file asks for each
/// annotation's arguments several times). Used as a slice.
#[derive(Clone, Copy, Debug)]
pub struct Refs<'a> {
    items: [(EntityKind, &'a Ref); 3],
    len: u8,
}

/// What fills the unused places of [`Refs`] (never shown: only the first `len` are).
static NO_REF: Ref = Ref {
    range: TextRange { start: 0, end: 0 },
    form: RefForm::Id(Spanned { value: SmallStr::EMPTY, range: TextRange { start: 0, end: 0 } }),
};

impl Default for Refs<'_> {
    fn default() -> Self {
        Refs { items: [(EntityKind::Asset, &NO_REF); 3], len: 0 }
    }
}

impl<'a> Refs<'a> {
    fn push(&mut self, item: (EntityKind, &'a Ref)) {
        self.items[usize::from(self.len)] = item;
        self.len += 1;
    }
}

impl<'a> Extend<(EntityKind, &'a Ref)> for Refs<'a> {
    fn extend<I: IntoIterator<Item = (EntityKind, &'a Ref)>>(&mut self, items: I) {
        items.into_iter().for_each(|item| self.push(item));
    }
}

impl<'a> std::ops::Deref for Refs<'a> {
    type Target = [(EntityKind, &'a Ref)];
    fn deref(&self) -> &Self::Target {
        &self.items[..usize::from(self.len)]
    }
}

impl<'a> IntoIterator for Refs<'a> {
    type Item = (EntityKind, &'a Ref);
    type IntoIter = std::iter::Take<std::array::IntoIter<(EntityKind, &'a Ref), 3>>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter().take(usize::from(self.len))
    }
}

impl<'r, 'a> IntoIterator for &'r Refs<'a> {
    type Item = &'r (EntityKind, &'a Ref);
    type IntoIter = std::slice::Iter<'r, (EntityKind, &'a Ref)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`RefForm`] as it was declared before `id` and `alias` shared a box: the index cache
    /// and JSON must see the same bytes.
    #[derive(serde::Serialize)]
    #[serde(rename = "RefForm")]
    enum Before {
        Id(Spanned<String>),
        Name { name: Spanned<String>, id: Option<Box<Spanned<String>>>, alias: Option<Box<Spanned<String>>> },
        Legacy { boundary: Box<Spanned<String>>, component: Box<Spanned<String>> },
    }

    /// The sizes the 20,000-file benchmark's memory was measured with (benches/README.md,
    /// thirty-third sitting): a field added inline grows every annotation, 200,000 of them
    /// there. An upper bound, on 64-bit targets: a change that needs more says so here.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn an_annotation_stays_small() {
        assert!(std::mem::size_of::<Annotation>() <= 232, "{}", std::mem::size_of::<Annotation>());
        assert!(std::mem::size_of::<Ref>() <= 48, "{}", std::mem::size_of::<Ref>());
    }

    #[test]
    fn ref_forms_encode_as_before() {
        // The same text as a `String` (as before) or as the `SmallStr` references hold now.
        fn s<T: for<'a> From<&'a str>>(v: &str, at: u32) -> Spanned<T> {
            Spanned::new(T::from(v), TextRange::new(at as usize, at as usize + v.len()))
        }
        let long = "a name longer than the inline room of a SmallStr";
        for (id, alias) in [
            (None, None),
            (Some("sqli"), None),
            (None, Some("Web")),
            (Some("x"), Some("y")),
            (Some(long), Some(long)),
        ] {
            let (id_now, alias_now) = (id.map(|v| s::<SmallStr>(v, 9)), alias.map(|v| s::<SmallStr>(v, 2)));
            let (id_before, alias_before) = (id.map(|v| s::<String>(v, 9)), alias.map(|v| s::<String>(v, 2)));
            let now = RefForm::name(s("App.Api", 3), id_now, alias_now);
            let before = Before::Name {
                name: s("App.Api", 3),
                id: id_before.map(Box::new),
                alias: alias_before.map(Box::new),
            };
            assert_eq!(postcard::to_allocvec(&now).unwrap(), postcard::to_allocvec(&before).unwrap());
            assert_eq!(serde_json::to_string(&now).unwrap(), serde_json::to_string(&before).unwrap());
            let back: RefForm = postcard::from_bytes(&postcard::to_allocvec(&before).unwrap()).unwrap();
            assert_eq!(back, now);
        }
        for v in ["sqli", long] {
            let id = RefForm::Id(s(v, 1));
            assert_eq!(
                postcard::to_allocvec(&id).unwrap(),
                postcard::to_allocvec(&Before::Id(s(v, 1))).unwrap()
            );
        }
        let (b, c) = (Box::new(s("b", 1)), Box::new(s("c", 4)));
        let legacy = RefForm::Legacy { boundary: b.clone(), component: c.clone() };
        let before = Before::Legacy { boundary: b, component: c };
        assert_eq!(postcard::to_allocvec(&legacy).unwrap(), postcard::to_allocvec(&before).unwrap());
        assert_eq!(serde_json::to_string(&legacy).unwrap(), serde_json::to_string(&before).unwrap());
    }

    /// The verb's range is kept as a length from the annotation's start: a stored record whose
    /// verb range does not start the annotation (or is longer than a length can say) would
    /// not decode to itself, so it does not decode.
    #[test]
    fn a_verb_range_that_does_not_start_its_annotation_does_not_decode() {
        let range = |a: usize, b: usize| TextRange::new(a, b);
        let ann = Annotation::new(Verb::Threat, Dialect::Gal, range(4, 30), range(4, 11));
        assert_eq!(ann.verb_range(), range(4, 11));
        let json = serde_json::to_value(&ann).unwrap();
        let back: Annotation = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, ann);
        assert_eq!(postcard::from_bytes::<Annotation>(&postcard::to_allocvec(&ann).unwrap()).unwrap(), ann);
        for verb_range in [range(5, 11), range(4, 4 + 256)] {
            let mut bad = json.clone();
            bad["verb_range"] = serde_json::to_value(verb_range).unwrap();
            assert!(serde_json::from_value::<Annotation>(bad).is_err(), "{verb_range:?}");
        }
    }
}
