//! The project model: per-file facts merged into one project index. Pure: no I/O.
//!
//! Owns: [`FileFacts`] (everything learnt from one file's text alone, including the lookup keys
//! of every reference, derived when the file is parsed or its parse result is restored from
//! the index cache; each thread remembers the keys
//! of the names it has seen, a bounded memo, since projects repeat a few hundred names
//! thousands of times), [`ProjectIndex`] (the merge:
//! files plus the id, name and implicit-id tables built from their definitions, and the texts
//! of files that `.gal` sidecars anchor to, as the reading layer provides them: [`anchors`]),
//! each file's text as it is kept (whole, or its annotated lines: [`file_text`]),
//! the risk bands and policy ([`risk`]), the threat libraries ([`library`]), the process-wide
//! table of key texts every key is a handle into ([`interned`]), and the resolution rule below
//! (asked once per lookup key by a [`Resolver`]). Must never: read files,
//! know about LSP or terminals, or re-analyse a file other than the one being replaced:
//! [`ProjectIndex::set_file`] removes that file's contributions from the tables and adds the
//! new ones, nothing else.
//!
//! # Resolution rule (one rule for all three dialects)
//!
//! Every entity has a kind (asset, threat, control, actor, boundary) and a key:
//! - **Assets/components** are keyed by their *path key*: the path split at `.` or `:`, each
//!   segment normalised like a GAL name, joined with `.`. So `Shop.Api`, `shop:api` and
//!   `Shop:API` are one component (dotted vs colon paths are the same thing). Legacy
//!   `@b:@c` is the component `b.c`: component `c` inside trust boundary `b`.
//! - **Threats, controls, actors** are keyed by their explicit id when a definition gives one
//!   (`(#sqli)`), otherwise by their GAL-normalised name (`SQL Injection` -> `sql_injection`).
//! - **Boundaries** are keyed by their id (`@boundary ... (#dmz)`, legacy `@alias boundary @b`).
//!
//! A reference resolves as follows:
//! 1. `#id` / `@id`: an explicit id defined anywhere in the project (`(#id)` on a definition or
//!    inline on a relation, a legacy `@alias ... @id`); else ThreatSpec's implicit id of any
//!    named entity of the expected kind (`#nonprivileged_port` for `non-privileged port`,
//!    `#app_api` for `App:Api`); else an entry of the project's threat libraries
//!    ([`library`]); else, for threats, the built-in legacy `@cwe_<n>_...` library; else it is
//!    **dangling** (`dangling-reference`).
//! 2. A name with an inline `(#id)` is the entity with that id (and defines the id).
//! 3. A plain name: a declared entity of the expected kind with the same normalised name (or
//!    an asset alias: ThreatSpec `Alias (Path)`, legacy `@alias component @b:@c to Name`);
//!    else, for assets, the path key; for other kinds an *implicit definition* keyed by the
//!    normalised name. Names never dangle: naming a threat inline defines it (ThreatSpec).
//! 4. `@b:@c` is the asset `b.c`.
//! 5. A qualified tag `#repo.id` ([`Lookup::Tag`]) resolves like `#id` among the files of the
//!    [`Repository`] named `repo` (see [`ProjectIndex::set_repositories`]), and is dangling when
//!    that repository does not define it. When no known repository has that name it is
//!    [`Resolved::External`]: an entity keyed by the tag itself (`#repo.id`), never dangling.
//! 6. A library tag `#lib.id` ([`library`]) is the entry `id` of the project's libraries, else
//!    of the built-in library, keyed `lib:id` ([`library::entity_key`]); an id neither holds
//!    resolves as in step 5 when a repository is named `lib`, else it is dangling.
//!
//! A quoted name is a name like any other (the parser removed the quotes).

pub mod anchors;
pub mod file_text;
pub mod interned;
pub mod jagged;
pub mod library;
pub mod names;
pub mod risk;

use crate::file_id::FileId;
use crate::syntax::{
    Annotation, Body, EntityKind, Language, Origin, ParsedFile, Ref, RefForm, Spanned, VerbSet,
};
use crate::text::{ColumnUnit, LineCol, LineIndex, TextRange};
use file_text::{FileText, Reread};
pub use interned::Interned;
pub use jagged::Jagged;
use names::{normalize_name, path_key};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

/// The identity of an entity in the project. The key is interned text ([`Interned`]): a
/// project names a few hundred entities hundreds of thousands of times, and every reference's
/// lookup key, implicit id and resolution copies one of the few keys.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityKey {
    pub kind: EntityKind,
    pub key: Interned,
}

impl EntityKey {
    pub fn new(kind: EntityKind, key: impl Into<Interned>) -> EntityKey {
        EntityKey { kind, key: key.into() }
    }

    /// An external entity: a `#repo.id` of a repository outside the project (see
    /// [`Resolved::External`]).
    pub fn is_external(&self) -> bool {
        self.key.starts_with('#')
    }
}

/// How a reference is looked up, precomputed from the file alone. The texts are interned
/// (see [`EntityKey`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// `#id` or `@id`.
    Id(Interned),
    /// A qualified cross-repository tag `#repo.id` (`#org.repo.module`), without the `#`.
    Tag(Interned),
    /// A name with an inline `(#id)`.
    InlineId(Interned),
    /// A plain name or path: its keys (see [`NameLookup`]).
    Name(NameLookup),
    /// Legacy `@b:@c`: the path key `b.c`.
    Legacy(Interned),
}

/// The keys of a plain name or path: its normalised name and, for assets, its path key (empty
/// for the other kinds, which never use it: one string less to derive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameLookup {
    pub norm: Interned,
    pub path: Interned,
}

impl Lookup {
    /// The lookup of a plain name, from its keys.
    pub fn name(norm: Interned, path: Interned) -> Lookup {
        Lookup::Name(NameLookup { norm, path })
    }
}

/// One entity argument of an annotation, with its lookup key ([`RefFact::lookup`]).
///
/// The lookup is kept as its keys and a one-byte tag beside the other small fields, not as a
/// [`Lookup`]: the enum's tag took a word of its own, and a fact was 48 bytes instead of 40
/// (the 20,000-file benchmark holds 450,000 of them).
#[derive(Clone)]
pub struct RefFact {
    pub kind: EntityKind,
    /// The argument's whole range.
    pub range: TextRange,
    /// The range naming the entity (the id for `#id`, the name for names).
    pub name_range: TextRange,
    /// True for the argument a definition annotation defines (`@threat X`, `@alias ...`).
    pub defines: bool,
    form: LookupForm,
    /// The lookup's key; a name's normalised name.
    key: Interned,
    /// A name's path key; `key` again for the other forms.
    path: Interned,
}

/// Which [`Lookup`] variant a [`RefFact`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LookupForm {
    Id,
    Tag,
    InlineId,
    Name,
    Legacy,
}

impl RefFact {
    pub fn new(
        kind: EntityKind,
        range: TextRange,
        name_range: TextRange,
        lookup: Lookup,
        defines: bool,
    ) -> RefFact {
        let (form, key, path) = match lookup {
            Lookup::Id(id) => (LookupForm::Id, id, id),
            Lookup::Tag(tag) => (LookupForm::Tag, tag, tag),
            Lookup::InlineId(id) => (LookupForm::InlineId, id, id),
            Lookup::Name(NameLookup { norm, path }) => (LookupForm::Name, norm, path),
            Lookup::Legacy(path) => (LookupForm::Legacy, path, path),
        };
        RefFact { kind, range, name_range, defines, form, key, path }
    }

    /// How the reference is looked up.
    pub fn lookup(&self) -> Lookup {
        match self.form {
            LookupForm::Id => Lookup::Id(self.key),
            LookupForm::Tag => Lookup::Tag(self.key),
            LookupForm::InlineId => Lookup::InlineId(self.key),
            LookupForm::Name => Lookup::Name(NameLookup { norm: self.key, path: self.path }),
            LookupForm::Legacy => Lookup::Legacy(self.key),
        }
    }
}

impl fmt::Debug for RefFact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefFact")
            .field("kind", &self.kind)
            .field("range", &self.range)
            .field("name_range", &self.name_range)
            .field("lookup", &self.lookup())
            .field("defines", &self.defines)
            .finish()
    }
}

/// A place where an entity is declared: a definition annotation, an inline `(#id)`, a legacy
/// `@alias`, or a boundary id.
#[derive(Clone, Debug)]
pub struct DefSite {
    pub entity: EntityKey,
    /// The name as written, if the site names one.
    pub name: Option<String>,
    pub norm_name: Option<String>,
    /// The id the site defines, with the range of its text (without `#`).
    pub explicit_id: Option<Spanned<String>>,
    /// Where to jump to: the name (or id) of the definition.
    pub range: TextRange,
    /// Index of the annotation in [`FileFacts::annotations`].
    pub annotation: usize,
    /// A definition annotation (`@threat`, `@asset`, `@alias`, `@boundary (#id)`), as opposed to
    /// an inline `(#id)` on a relation.
    pub declared: bool,
}

/// One `@source` line of a `.gal` sidecar and the project file it names (see [`anchors`]).
#[derive(Clone, Debug)]
pub struct Anchor {
    pub origin: Origin,
    /// The file's project key, or why the path is refused.
    pub key: Result<FileId, String>,
}

/// What the index cache ([`crate::cache`]) keeps of a file's [`FileFacts`]: the parse
/// result and the text's length. The rest (each reference's lookup keys, the definition
/// sites, the implicit ids, the anchors and the line index) is derived again when the facts
/// are used, as for a file just parsed ([`FileFacts::from_stored`]). Encoded from
/// [`StoredFactsRef`]; both must list the same fields in the same order.
///
/// Why not the derived facts too (stored from format 5 to 10): they were half of the cache
/// file (24.8 of 48.0 MB on the 20,000-file benchmark), which a cold `check` encodes and
/// writes on the cores that parse (5-24 ms less CPU without them, in two measurements), and
/// deriving them again costs less than decoding them did (1% of that benchmark's files
/// edited: 480 -> 428 ms).
#[derive(Debug, Deserialize)]
pub struct StoredFacts {
    pub parsed: ParsedFile,
    /// The length of the text the facts were derived from (facts that do not fit the text
    /// read now are not used).
    pub text_len: u64,
}

/// [`StoredFacts`] borrowed from a [`FileFacts`], for encoding without a copy.
#[derive(Debug, Serialize)]
pub struct StoredFactsRef<'a> {
    pub parsed: &'a ParsedFile,
    pub text_len: u64,
}

/// Everything known about one file, computed from its text alone.
#[derive(Debug)]
pub struct FileFacts {
    pub path: FileId,
    pub language: Language,
    /// Whole, or only its annotated lines when `check` scanned it ([`file_text`]).
    pub text: FileText,
    pub parsed: ParsedFile,
    /// `refs[i]`: the entity arguments of annotation `i`, in [`Annotation::refs`] order.
    pub refs: Jagged<RefFact>,
    pub defs: Vec<DefSite>,
    /// `(kind, implicit id, entity key)` for every named entity this file mentions.
    pub implicit_ids: Vec<(EntityKind, Interned, Interned)>,
    /// The `@source` anchors of a `.gal` sidecar that annotations use, in file order (empty
    /// for other files).
    pub anchors: Vec<Anchor>,
    /// The verbs the annotations use: a project-wide pass skips a file with none of its verbs
    /// without reading the annotations (see [`VerbSet`]).
    pub verbs: VerbSet,
    /// Whether an annotation holds a `due:` or `audited:` date (the risk pass skips a file
    /// without one when nothing else can make its risks a finding).
    pub risk_dates: bool,
}

impl FileFacts {
    /// Parses `text` and derives the file's facts.
    pub fn new(path: FileId, language: Language, text: Arc<str>) -> FileFacts {
        let parsed = crate::syntax::parse_file(language, &text);
        Self::from_parsed(path, language, text, parsed)
    }

    /// Derives facts from an already parsed file.
    pub fn from_parsed(path: FileId, language: Language, text: Arc<str>, parsed: ParsedFile) -> FileFacts {
        Self::from_parsed_text(path, language, FileText::whole(text), parsed)
    }

    /// [`FileFacts::from_parsed`] for a text kept as the reading layer chose
    /// ([`FileFacts::kept_text`]).
    pub fn from_parsed_text(
        path: FileId,
        language: Language,
        text: FileText,
        parsed: ParsedFile,
    ) -> FileFacts {
        let mut facts = FileFacts {
            path,
            language,
            text,
            parsed,
            refs: Jagged::default(),
            defs: Vec::new(),
            implicit_ids: Vec::new(),
            anchors: Vec::new(),
            verbs: VerbSet::default(),
            risk_dates: false,
        };
        facts.derive();
        facts
    }

    /// Facts kept by the index cache ([`StoredFacts`], decoded) for `text`, without parsing
    /// again (what the parse result implies is derived as for a parsed file); `None` when they
    /// do not fit the text (then the caller parses).
    pub fn from_stored(
        path: FileId,
        language: Language,
        text: FileText,
        stored: StoredFacts,
    ) -> Option<FileFacts> {
        let StoredFacts { parsed, text_len } = stored;
        (text_len == text.len() as u64).then(|| Self::from_parsed_text(path, language, text, parsed))
    }

    /// What `text` keeps of a file scanned from disk for `parsed`: the lines of its
    /// annotations, their `@source` anchors and its syntax errors ([`FileText::keep`]); the
    /// whole text for a file with an MCP surface. `source` reads it again.
    pub fn kept_text(text: &str, parsed: &ParsedFile, source: impl FnOnce() -> Box<dyn Reread>) -> FileText {
        if parsed.mcp.is_some() {
            return FileText::whole(Arc::from(text));
        }
        FileText::keep(text, &mut Self::kept_ranges(parsed), source)
    }

    /// The ranges whose lines [`FileFacts::kept_text`] keeps.
    pub fn kept_ranges(parsed: &ParsedFile) -> Vec<TextRange> {
        let origins = parsed.annotations.iter().filter_map(|a| a.origin()).map(|o| o.directive);
        (parsed.annotations.iter().map(|a| a.range))
            .chain(origins)
            .chain(parsed.errors.iter().map(|e| e.range))
            .collect()
    }

    /// The whole text (read again when only some lines are kept: [`file_text`]).
    pub fn text(&self) -> &str {
        self.text.all()
    }

    /// The whole text's line starts.
    pub fn line_index(&self) -> &LineIndex {
        self.text.line_index()
    }

    /// What the index cache keeps of these facts (see [`StoredFacts`]), borrowed for encoding.
    pub fn to_store(&self) -> StoredFactsRef<'_> {
        StoredFactsRef { parsed: &self.parsed, text_len: self.text.len() as u64 }
    }

    pub fn annotations(&self) -> &[Annotation] {
        &self.parsed.annotations
    }

    /// The anchor of annotation `i` of a `.gal` sidecar: the `@source` line before it.
    pub fn anchor_of(&self, i: usize) -> Option<&Anchor> {
        let directive = self.parsed.annotations.get(i)?.origin()?.directive;
        let at = self.anchors.partition_point(|a| a.origin.directive.start() < directive.start());
        self.anchors.get(at).filter(|a| a.origin.directive == directive)
    }

    /// True when the file holds neither annotations, nor syntax errors, nor an MCP surface.
    pub fn is_empty(&self) -> bool {
        self.parsed.annotations.is_empty() && self.parsed.errors.is_empty() && self.parsed.mcp().is_empty()
    }

    /// 0-based line and column (in `unit`) of a byte offset.
    pub fn line_col(&self, offset: usize, unit: ColumnUnit) -> LineCol {
        self.text.line_col(offset, unit)
    }

    pub fn slice(&self, range: TextRange) -> &str {
        self.text.slice(range)
    }

    /// Whether two versions of a file contribute the same entries to the resolution tables
    /// (same definitions and implicit ids in the same order; ranges may differ).
    pub fn table_contributions_eq(&self, other: &FileFacts) -> bool {
        self.implicit_ids == other.implicit_ids
            && self.defs.len() == other.defs.len()
            && self.defs.iter().zip(&other.defs).all(|(a, b)| {
                a.entity == b.entity
                    && a.norm_name == b.norm_name
                    && a.declared == b.declared
                    && a.explicit_id.as_ref().map(|i| &i.value) == b.explicit_id.as_ref().map(|i| &i.value)
            })
    }

    fn derive(&mut self) {
        let annotations = std::mem::take(&mut self.parsed.annotations);
        NAME_KEYS.with_borrow_mut(|cache| {
            cache.file += 1;
            // The per-file lists are built in the thread's scratch vectors, which keep their
            // room from file to file, and copied out once at their final length: built in
            // place they grew two or three times a file (the facts sized for three arguments an
            // annotation) and were then copied to their length anyway (`fit_exactly`): ~66,000
            // growths and 20,000 copies on the 20,000-file benchmark.
            let mut facts = std::mem::take(&mut cache.facts);
            debug_assert!(
                self.defs.is_empty() && self.implicit_ids.is_empty() && self.refs.is_empty(),
                "derived once"
            );
            let mut scratch = std::mem::take(&mut cache.scratch);
            std::mem::swap(&mut self.defs, &mut scratch.defs);
            std::mem::swap(&mut self.implicit_ids, &mut scratch.implicit_ids);
            std::mem::swap(&mut self.refs, &mut scratch.refs);
            for (i, ann) in annotations.iter().enumerate() {
                // Noted here, where the annotations are in the cache anyway.
                self.verbs.insert(ann.verb);
                self.risk_dates |= ann.risk().is_some_and(|r| r.due.is_some() || r.audited.is_some());
                let defining = matches!(ann.body, Body::Define { .. } | Body::Alias { .. });
                let refs = ann.refs();
                facts.clear();
                for &(kind, r) in &refs {
                    let fact = match &r.form {
                        RefForm::Name { name, .. }
                            if kind == EntityKind::Asset || r.explicit_id().is_none() =>
                        {
                            let file = cache.file;
                            let keys = cache.keys(kind, &name.value);
                            // Names recur within a file: its implicit ids list each once.
                            if keys.listed[kind.index()] != file {
                                keys.listed[kind.index()] = file;
                                let key = if kind == EntityKind::Asset {
                                    keys.lookup.path
                                } else {
                                    keys.lookup.norm
                                };
                                self.implicit_ids.push((kind, keys.slug, key));
                            }
                            RefFact::new(kind, r.range, name.range, Lookup::Name(keys.lookup), defining)
                        }
                        // Ids recur like names: each interned once per thread's memo.
                        RefForm::Id(id) if !id.value.contains('.') => {
                            RefFact::new(kind, r.range, id.range, Lookup::Id(cache.id(&id.value)), defining)
                        }
                        _ => ref_fact(kind, r, defining),
                    };
                    facts.push(fact);
                }
                self.add_defs(i, ann, &refs, &facts);
                self.refs.push(facts.drain(..));
            }
            self.implicit_ids.sort_unstable();
            self.implicit_ids.dedup();
            std::mem::swap(&mut self.defs, &mut scratch.defs);
            std::mem::swap(&mut self.implicit_ids, &mut scratch.implicit_ids);
            std::mem::swap(&mut self.refs, &mut scratch.refs);
            self.refs = scratch.refs.take_exact();
            self.defs = crate::syntax::take_exactly(&mut scratch.defs);
            self.implicit_ids = crate::syntax::take_exactly(&mut scratch.implicit_ids);
            cache.facts = facts;
            cache.scratch = scratch.emptied();
        });
        self.parsed.annotations = annotations;
        self.derive_anchors();
    }

    /// The `@source` anchors of a `.gal` sidecar: the one derived fact that depends on the
    /// file's key (relative or absolute), so never stored.
    fn derive_anchors(&mut self) {
        if anchors::is_sidecar(self.path.as_str()) {
            for origin in self.parsed.annotations.iter().filter_map(|a| a.origin()) {
                if self.anchors.last().is_none_or(|a| a.origin.directive != origin.directive) {
                    let key = anchors::anchor_key(self.path.as_str(), &origin.file.value);
                    self.anchors.push(Anchor { origin: Origin::clone(origin), key });
                }
            }
        }
    }

    /// The definition sites of annotation `index`, whose arguments are `refs` ([`Annotation::refs`])
    /// and their `facts`.
    fn add_defs(&mut self, index: usize, ann: &Annotation, refs: &[(EntityKind, &Ref)], facts: &[RefFact]) {
        // A site's name and id as their texts (a reference's are `SmallStr`s, an alias's name
        // and a boundary's id `String`s).
        let mut push =
            |entity: EntityKey, name: Option<&str>, id: Option<(&str, TextRange)>, range, declared| {
                self.defs.push(DefSite {
                    entity,
                    name: name.map(str::to_owned),
                    norm_name: name.map(normalize_name),
                    explicit_id: id.map(|(id, range)| Spanned::new(id.to_owned(), range)),
                    range,
                    annotation: index,
                    declared,
                });
            };
        match &ann.body {
            Body::Define { kind, target } => {
                let fact = &facts[0];
                if let Some((name, id, alias)) = target.form.name_parts() {
                    let key = own_key(*kind, fact);
                    let id = id.map(|id| (id.value.as_str(), id.range));
                    push(EntityKey { kind: *kind, key }, Some(&name.value), id, fact.name_range, true);
                    if let Some(alias) = alias {
                        push(EntityKey { kind: *kind, key }, Some(&alias.value), None, alias.range, true);
                    }
                } else if let RefForm::Legacy { .. } = &target.form {
                    push(
                        EntityKey { kind: *kind, key: own_key(*kind, fact) },
                        None,
                        None,
                        fact.name_range,
                        true,
                    );
                }
            }
            Body::Alias { kind, target, name } => {
                let fact = &facts[0];
                let id = match &target.form {
                    RefForm::Id(id) => Some((id.value.as_str(), id.range)),
                    _ => None,
                };
                let key = own_key(*kind, fact);
                push(EntityKey { kind: *kind, key }, Some(&name.value), id, fact.name_range, true);
            }
            Body::Boundary { id: Some(id), .. } => {
                let explicit = Some((id.value.as_str(), id.range));
                push(EntityKey::new(EntityKind::Boundary, id.value.as_str()), None, explicit, id.range, true);
            }
            _ => {}
        }
        // Inline `(#id)` on relation arguments (and aliases on components) define too.
        if !matches!(ann.body, Body::Define { .. } | Body::Alias { .. }) {
            for (&(kind, r), fact) in refs.iter().zip(facts) {
                if let Some((name, id, alias)) = r.form.name_parts() {
                    if let Some(id) = id {
                        let key = own_key(kind, fact);
                        let explicit = Some((id.value.as_str(), id.range));
                        push(EntityKey { kind, key }, Some(&name.value), explicit, id.range, false);
                    }
                    if let Some(alias) = alias {
                        push(
                            EntityKey { kind, key: own_key(kind, fact) },
                            Some(&alias.value),
                            None,
                            alias.range,
                            false,
                        );
                    }
                }
            }
        }
    }
}

/// The keys facts derive from one written name ([`normalize_name`], for an asset
/// [`path_key`], and [`names::threatspec_slug`]): pure functions of the name. A project repeats the
/// same few hundred names thousands of times, so each thread computes them once per name
/// ([`NameKeyCache`]), and every fact of the name shares them.
struct NameKeys {
    /// The normalised name and the path key (empty for the kinds other than assets), copied
    /// into every [`Lookup::Name`] of the name.
    lookup: NameLookup,
    slug: Interned,
    /// Per kind, the latest [`NameKeyCache::file`] whose implicit ids list this name.
    listed: [u64; 5],
}

/// A bounded per-thread memo of [`NameKeys`], asset names (which have a path key) apart
/// from the other kinds' names, and of `#id`s: a name or id seen before by this thread is
/// neither normalised nor interned again (interning locks a shard of the process's
/// [`interned`] table). Emptied when it holds too many names or bytes: a language server
/// parses files for hours, and one file may hold thousands of long distinct names.
#[derive(Default)]
struct NameKeyCache {
    /// Per map, a name's place in `keys`: a name seen before is found with one lookup (the
    /// index is copied out, so the entry can be handed out mutably without a second search).
    maps: [FxHashMap<Box<str>, usize>; 2],
    keys: Vec<NameKeys>,
    ids: rustc_hash::FxHashMap<Box<str>, Interned>,
    /// The one empty key every non-asset name's `path` shares.
    empty: Option<Interned>,
    bytes: usize,
    /// Counts the files whose facts this thread derived (stamps [`NameKeys::listed`]).
    file: u64,
    /// Scratch room for one annotation's facts ([`FileFacts::derive`]), kept between files.
    facts: Vec<RefFact>,
    /// Where a new name's keys are written before they are interned ([`names::interned_keys`]).
    buffer: String,
    /// Scratch room for a file's lists ([`Scratch`]), kept between files.
    scratch: Scratch,
}

/// The lists [`FileFacts::derive`] builds for one file before copying them out at their
/// length; empty between files (only their room is kept).
#[derive(Default)]
struct Scratch {
    refs: Jagged<RefFact>,
    defs: Vec<DefSite>,
    implicit_ids: Vec<(EntityKind, Interned, Interned)>,
}

impl Scratch {
    /// More room than this is not kept for the next file (a file of thousands of
    /// definitions would hold its room for as long as the thread lives).
    const MAX_KEPT: usize = 1024;

    /// The room for the next file: emptied, and dropped when it grew past [`Scratch::MAX_KEPT`].
    fn emptied(mut self) -> Scratch {
        self.defs.clear();
        self.implicit_ids.clear();
        if self.refs.capacity() > Self::MAX_KEPT {
            self.refs = Jagged::default();
        }
        if self.defs.capacity() > Self::MAX_KEPT {
            self.defs = Vec::new();
        }
        if self.implicit_ids.capacity() > Self::MAX_KEPT {
            self.implicit_ids = Vec::new();
        }
        self
    }
}

impl NameKeyCache {
    const MAX_NAMES: usize = 4096;
    const MAX_BYTES: usize = 1 << 20;

    fn keys(&mut self, kind: EntityKind, name: &str) -> &mut NameKeys {
        let is_asset = kind == EntityKind::Asset;
        let map = usize::from(is_asset);
        if let Some(&at) = self.maps[map].get(name) {
            return &mut self.keys[at];
        }
        self.make_room();
        let empty = *self.empty.get_or_insert_with(|| Interned::new(""));
        let (norm, path, slug) = names::interned_keys(&mut self.buffer, name, is_asset);
        let lookup = NameLookup { norm, path: path.unwrap_or(empty) };
        let keys = NameKeys { lookup, slug, listed: [0; 5] };
        self.bytes += name.len() + keys.lookup.norm.len() + keys.lookup.path.len() + keys.slug.len();
        self.maps[map].insert(name.into(), self.keys.len());
        self.keys.push(keys);
        self.keys.last_mut().expect("just pushed")
    }

    /// The interned copy of an `#id`'s text.
    fn id(&mut self, id: &str) -> Interned {
        if let Some(&interned) = self.ids.get(id) {
            return interned;
        }
        self.make_room();
        self.bytes += id.len();
        let interned = Interned::new(id);
        self.ids.insert(id.into(), interned);
        interned
    }

    /// Empties the memo when it is full (the facts made so far keep their keys).
    fn make_room(&mut self) {
        let names = self.keys.len() + self.ids.len();
        if names >= Self::MAX_NAMES || self.bytes >= Self::MAX_BYTES {
            self.maps.iter_mut().for_each(FxHashMap::clear);
            self.keys.clear();
            self.ids.clear();
            self.bytes = 0;
        }
    }
}

thread_local! {
    static NAME_KEYS: std::cell::RefCell<NameKeyCache> = std::cell::RefCell::default();
}

/// The key an argument gives the entity it defines.
fn own_key(kind: EntityKind, fact: &RefFact) -> Interned {
    match (fact.lookup(), kind) {
        (Lookup::Name(name), EntityKind::Asset) => name.path,
        (Lookup::Name(name), _) => name.norm,
        (Lookup::InlineId(id), _) | (Lookup::Id(id), _) | (Lookup::Tag(id), _) => id,
        (Lookup::Legacy(path), _) => path,
    }
}

fn ref_fact(kind: EntityKind, r: &Ref, defines: bool) -> RefFact {
    let (lookup, name_range) = match &r.form {
        // Ids never contain `.`: a dotted one is a tag qualified by its repository.
        RefForm::Id(id) if id.value.contains('.') => (Lookup::Tag(id.value.as_str().into()), id.range),
        RefForm::Id(id) => (Lookup::Id(id.value.as_str().into()), id.range),
        RefForm::Name { name, .. } => {
            let lookup = match r.explicit_id() {
                // An asset's inline id names the component; the key stays its path.
                Some(id) if kind != EntityKind::Asset => Lookup::InlineId(id.value.as_str().into()),
                _ => {
                    let path = if kind == EntityKind::Asset { path_key(&name.value) } else { String::new() };
                    Lookup::name(normalize_name(&name.value).into(), path.into())
                }
            };
            (lookup, name.range)
        }
        RefForm::Legacy { boundary, component } => {
            let path = path_key(&format!("{}.{}", boundary.value, component.value));
            (Lookup::Legacy(path.into()), boundary.range.cover(component.range))
        }
    };
    RefFact::new(kind, r.range, name_range, lookup, defines)
}

/// Where a definition lives: file and index into its [`FileFacts::defs`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DefRef {
    pub file: FileId,
    pub def: u32,
}

/// The result of resolving a reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Resolved {
    Entity(EntityKey),
    /// An `#id`/`@id` that names nothing, or a `#repo.id` whose repository is known but does
    /// not define `id` (the value is the id or tag as written, without `#`).
    Dangling(Interned),
    /// A `#repo.id` tag of a repository that is not part of this project: an external entity,
    /// neither defined here nor dangling. Its key is the tag as written, `#` included, which no
    /// name or id key can be (names cannot start with `#`, ids contain no `.`). Boxed: the
    /// rarest result, and inline it made every `Resolved` 24 bytes instead of 16 (two
    /// variants of the largest size leave the compiler no room for the tag in `EntityKind`'s
    /// spare values; the 20,000-file benchmark resolves 450,000 references).
    External(Box<EntityKey>),
}

/// A repository whose files the index holds: qualified tags `#name.id` resolve inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    /// The repository's name as tags spell it (see [`ProjectIndex::set_repositories`]).
    pub name: String,
    /// The directory its files' paths start with (empty: every file of the index).
    pub root: String,
}

/// All files' facts and the tables merged from them. A clone shares the files' facts (each
/// an `Arc`) and copies the tables; [`crate::analysis::Analysis::update`] reuses an analysis
/// of the original for the clone's files left as they were.
#[derive(Clone, Debug, Default)]
pub struct ProjectIndex {
    /// Every file, in path order (what [`ProjectIndex::files`] walks). A vector, not a tree:
    /// the walk adds files in path order, each one pushed at the end (a tree insert compared
    /// ~15 long shared path prefixes per file: 36M instructions on 20,000 files); a file added
    /// or removed elsewhere moves the pointers after it (20,000 pointers: 160 KB), which only
    /// a language server's new or deleted file does.
    files: Vec<Arc<FileFacts>>,
    /// The same files by path, for lookups: a search of `files` compares long shared path
    /// prefixes (~1,000 instructions on 3,400 files), and every location a report shows and
    /// every definition site a check reads is looked up by its path.
    by_path: FxHashMap<FileId, Arc<FileFacts>>,
    /// Explicit id -> its definition sites.
    ids: FxHashMap<String, Vec<DefRef>>,
    /// `(kind, normalised name)` -> declared sites with that name.
    names: KindMap<Vec<DefRef>>,
    /// Entity -> every site that declares it (definitions, inline ids, aliases).
    by_entity: FxHashMap<EntityKey, Vec<DefRef>>,
    /// `(kind, ThreatSpec implicit id)` -> `(file, entity key)`. Keyed by the files' own
    /// interned slugs ([`FileFacts::implicit_ids`]): adding one is a single probe that copies
    /// no text.
    implicit: KindMap<Vec<(FileId, Interned)>, Interned>,
    /// Texts of files that `.gal` anchors name, as the reading layer provided them.
    anchor_texts: BTreeMap<FileId, Arc<anchors::AnchorText>>,
    /// The repositories the files belong to, for qualified `#repo.id` tags.
    repositories: Vec<Repository>,
    /// The project's own threat libraries (the built-in one is [`library::Library::builtin`]).
    library: Arc<library::Library>,
    revision: u64,
    /// Moves only when some file's contributions to the resolution tables change (its
    /// definitions or implicit ids, not their ranges): while it stays, every other file's
    /// references resolve exactly as before, which lets analysis re-resolve one file.
    tables_revision: u64,
}

impl Resolved {
    /// The entity named, defined here or external; `None` when dangling.
    pub fn entity(&self) -> Option<&EntityKey> {
        match self {
            Resolved::Entity(e) => Some(e),
            Resolved::External(e) => Some(e),
            Resolved::Dangling(_) => None,
        }
    }
}

impl ProjectIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Incremented by every change; lets readers drop stale results.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Incremented when a change can alter how references resolve (see the field's docs).
    pub fn tables_revision(&self) -> u64 {
        self.tables_revision
    }

    /// Adds or replaces one file. Only that file's table entries are touched.
    pub fn set_file(&mut self, facts: Arc<FileFacts>) {
        // The walk adds files in key order: a key past the last one held is new, known from
        // one comparison instead of a search of the files (~1,700 instructions on 20,000
        // files: the search compares long shared path prefixes).
        let past_last = self.files.last().is_none_or(|last| last.path < facts.path);
        let at = if past_last { Err(self.files.len()) } else { self.position(facts.path.as_str()) };
        let same_tables = at.is_ok_and(|k| self.files[k].table_contributions_eq(&facts));
        let tables_revision = self.tables_revision;
        if let Ok(k) = at {
            // What `remove_file` does, but the file keeps its place.
            let old = Arc::clone(&self.files[k]);
            self.remove_tables(&old);
            self.revision += 1;
        }
        if same_tables {
            self.tables_revision = tables_revision;
        } else {
            self.tables_revision = tables_revision + 1;
        }
        let path = facts.path.clone();
        for (i, def) in facts.defs.iter().enumerate() {
            let at = DefRef { file: path.clone(), def: i as u32 };
            insert_sorted(self.by_entity.entry(def.entity.clone()).or_default(), at.clone());
            if let Some(id) = &def.explicit_id {
                insert_sorted(self.ids.entry(id.value.clone()).or_default(), at.clone());
            }
            if let (Some(norm), true) = (&def.norm_name, def.declared || def.entity.kind == EntityKind::Asset)
            {
                insert_sorted(self.names.entry(def.entity.kind, norm), at);
            }
        }
        for (kind, slug, key) in &facts.implicit_ids {
            let entries = self.implicit.entry_owned(*kind, *slug);
            let item = (path.clone(), *key);
            // Files usually arrive in path order: then the entry goes last.
            if entries.last().is_none_or(|last| *last < item) {
                entries.push(item);
            } else {
                let pos = entries.partition_point(|x| *x < item);
                entries.insert(pos, item);
            }
        }
        self.by_path.insert(path, Arc::clone(&facts));
        match at {
            Ok(k) => self.files[k] = facts,
            Err(k) => self.files.insert(k, facts),
        }
        self.revision += 1;
    }

    /// Makes room for `additional` more files (the walk knows how many it found): the file
    /// tables are allocated once instead of growing (and rehashing every path) as they fill.
    pub fn reserve_files(&mut self, additional: usize) {
        self.files.reserve(additional);
        self.by_path.reserve(additional);
    }

    /// Where the file with this path is in `files`, or where it would go.
    fn position(&self, path: &str) -> Result<usize, usize> {
        self.files.binary_search_by(|f| f.path.as_str().cmp(path))
    }

    /// Sets the repositories whose qualified tags resolve here: the CLI's project, the
    /// language server's workspace folders. A tag `#name.id` whose `name` is none of them is
    /// an external entity.
    pub fn set_repositories(&mut self, repositories: Vec<Repository>) {
        if self.repositories != repositories {
            self.repositories = repositories;
            self.revision += 1;
            self.tables_revision += 1;
        }
    }

    pub fn repositories(&self) -> &[Repository] {
        &self.repositories
    }

    /// Sets the project's threat libraries (what the reading layer read from the files the
    /// configuration names); their entries resolve before the built-in library's.
    pub fn set_library(&mut self, library: Arc<library::Library>) {
        self.library = library;
        self.revision += 1;
        self.tables_revision += 1;
    }

    /// The project's threat libraries (without the built-in one).
    pub fn project_library(&self) -> &library::Library {
        &self.library
    }

    /// [`ProjectIndex::project_library`], shared (to give another index the same libraries).
    pub fn library_arc(&self) -> Arc<library::Library> {
        Arc::clone(&self.library)
    }

    /// The library entry with this id: the project's libraries first, then the built-in one.
    pub fn library_lookup(&self, id: &str) -> Option<&library::LibraryEntry> {
        self.library.get(id).or_else(|| library::Library::builtin().get(id))
    }

    /// The library entry an entity is (an entity keyed by [`library::entity_key`]).
    pub fn library_entry(&self, entity: &EntityKey) -> Option<&library::LibraryEntry> {
        let id = library::id_of_key(&entity.key)?;
        self.library_lookup(id).filter(|e| e.kind == entity.kind)
    }

    /// The known repository a qualified tag names and the id it names there: the repository
    /// whose name is the longest `.`-ended prefix of the tag (`#org.repo.id` may name `org.repo`).
    pub fn split_tag<'t>(&self, tag: &'t str) -> Option<(&Repository, &'t str)> {
        self.repositories
            .iter()
            .filter_map(|repo| {
                let rest = tag.strip_prefix(repo.name.as_str())?.strip_prefix('.')?;
                Some((repo, rest))
            })
            .max_by_key(|(repo, _)| repo.name.len())
    }

    /// A file's path as messages and hovers show it: relative to the root of the deepest
    /// repository (workspace folder) that holds it, else as stored. The language server keys
    /// files by absolute path; a reader wants `api/orders.py`, not `/home/me/shop/api/orders.py`.
    pub fn shown_path<'p>(&self, file: &'p str) -> &'p str {
        let path = std::path::Path::new(file);
        self.repositories
            .iter()
            .filter(|repo| !repo.root.is_empty() && path.starts_with(&repo.root))
            .max_by_key(|repo| repo.root.len())
            .and_then(|repo| path.strip_prefix(&repo.root).ok()?.to_str())
            .filter(|rest| !rest.is_empty())
            .unwrap_or(file)
    }

    /// `path:line` (1-based) of an offset in a file, the path as [`Self::shown_path`] shows
    /// it: how hovers and messages name a place.
    pub fn place(&self, file: &str, offset: usize) -> String {
        let line = self.file(file).map_or(0, |f| f.line_col(offset, ColumnUnit::Char).line + 1);
        format!("{}:{line}", self.shown_path(file))
    }

    /// Resolves a qualified tag (see [`Lookup::Tag`]): inside its repository like an `#id`,
    /// external when the repository is not known.
    fn resolve_tag(&self, kind: EntityKind, tag: Interned) -> Resolved {
        let Some((repo, id)) = self.split_tag(&tag) else {
            return Resolved::External(Box::new(EntityKey::new(kind, format!("#{tag}"))));
        };
        let in_repo = |file: &str| std::path::Path::new(file).starts_with(&repo.root);
        let explicit = self.ids.get(id).into_iter().flatten().filter(|d| in_repo(d.file.as_str()));
        if let Some(def) = explicit.filter_map(|d| self.def(d)).next() {
            return Resolved::Entity(def.entity.clone());
        }
        let implicit = self.implicit.get(kind, id).into_iter().flatten();
        if let Some((_, key)) = implicit.into_iter().find(|(file, _)| in_repo(file.as_str())) {
            return Resolved::Entity(EntityKey { kind, key: *key });
        }
        Resolved::Dangling(tag)
    }

    /// Removes one file and its table entries.
    pub fn remove_file(&mut self, path: &str) {
        let Ok(k) = self.position(path) else { return };
        let old = self.files.remove(k);
        self.by_path.remove(path);
        self.remove_tables(&old);
        self.revision += 1;
        self.tables_revision += 1;
    }

    /// Removes one file's entries from the resolution tables (not the file itself).
    fn remove_tables(&mut self, old: &FileFacts) {
        let path = old.path.as_str();
        for def in &old.defs {
            remove_from(&mut self.by_entity, &def.entity, |d| d.file.as_str() != path);
            if let Some(id) = &def.explicit_id {
                remove_from(&mut self.ids, &id.value, |d| d.file.as_str() != path);
            }
            if let Some(norm) = &def.norm_name {
                remove_from(self.names.map_mut(def.entity.kind), norm.as_str(), |d| d.file.as_str() != path);
            }
        }
        for (kind, slug, _) in &old.implicit_ids {
            remove_from(self.implicit.map_mut(*kind), &**slug, |(f, _)| f.as_str() != path);
        }
    }

    pub fn file(&self, path: &str) -> Option<&Arc<FileFacts>> {
        self.by_path.get(path)
    }

    /// A file's text and line index: an indexed file's, else the text provided for an anchor.
    /// Every location is resolved through this, so findings reported at an anchored source
    /// file that holds no annotation still get their lines and columns.
    /// The whole text: an indexed file whose text is kept in part is read again
    /// ([`file_text`]); what is located in annotated lines is better asked of
    /// [`ProjectIndex::line_col_of`], [`ProjectIndex::line_text_of`] or
    /// [`ProjectIndex::slice_of`].
    pub fn text_of(&self, path: &str) -> Option<(&str, &LineIndex)> {
        if let Some(facts) = self.by_path.get(path) {
            return Some((facts.text(), facts.line_index()));
        }
        self.anchor_text_read(path)
    }

    fn anchor_text_read(&self, path: &str) -> Option<(&str, &LineIndex)> {
        match self.anchor_texts.get(path).map(|t| &**t) {
            Some(anchors::AnchorText::Read { text, line_index }) => Some((text, line_index)),
            _ => None,
        }
    }

    /// Whether [`ProjectIndex::text_of`] has a text for `path` (without reading it again).
    pub fn has_text(&self, path: &str) -> bool {
        self.by_path.contains_key(path) || self.anchor_text_read(path).is_some()
    }

    /// The line and column (in `unit`) of `offset` in `path`'s text ([`ProjectIndex::text_of`]).
    pub fn line_col_of(&self, path: &str, offset: usize, unit: ColumnUnit) -> Option<LineCol> {
        if let Some(facts) = self.by_path.get(path) {
            return Some(facts.line_col(offset, unit));
        }
        self.anchor_text_read(path).map(|(text, lines)| lines.line_col_in(text, offset, unit))
    }

    /// [`ProjectIndex::line_col_of`] of both ends of `range`, the file looked up once
    /// ([`FileText::line_cols`]).
    pub fn line_cols_of(&self, path: &str, range: TextRange, unit: ColumnUnit) -> Option<(LineCol, LineCol)> {
        if let Some(facts) = self.by_path.get(path) {
            return Some(facts.text.line_cols(range, unit));
        }
        let (text, lines) = self.anchor_text_read(path)?;
        Some((lines.line_col_in(text, range.start(), unit), lines.line_col_in(text, range.end(), unit)))
    }

    /// The text of the (0-based) line holding `offset` in `path`, without its terminator, and
    /// where it starts.
    pub fn line_text_of(&self, path: &str, offset: usize) -> Option<(&str, usize)> {
        if let Some(facts) = self.by_path.get(path) {
            let range = facts.text.line_range(facts.text.line_of(offset));
            return Some((facts.slice(range), range.start()));
        }
        let (text, lines) = self.anchor_text_read(path)?;
        let range = lines.line_range(lines.line_col(offset).line as usize, text);
        Some((range.slice(text), range.start()))
    }

    /// `range` of `path`'s text; `None` past its end.
    pub fn slice_of(&self, path: &str, range: TextRange) -> Option<&str> {
        if let Some(facts) = self.by_path.get(path) {
            return (range.end() <= facts.text.len()).then(|| facts.slice(range));
        }
        let (text, _) = self.anchor_text_read(path)?;
        (range.end() <= text.len()).then(|| range.slice(text))
    }

    /// The files whose whole text a reader needed after they had changed on disk (see
    /// [`file_text`]): what was shown of their unannotated lines is blank.
    pub fn stale_files(&self) -> impl Iterator<Item = &FileId> {
        self.files.iter().filter(|f| f.text.is_stale()).map(|f| &f.path)
    }

    /// Every file key that some `.gal` anchor of the project names (the files whose text the
    /// reading layer provides with [`ProjectIndex::set_anchor_text`]).
    pub fn anchored_keys(&self) -> std::collections::BTreeSet<FileId> {
        self.files
            .iter()
            .flat_map(|f| f.anchors.iter().filter_map(|a| a.key.as_ref().ok().cloned()))
            .collect()
    }

    /// Sets what the reading layer found at an anchored file key.
    pub fn set_anchor_text(&mut self, key: FileId, text: anchors::AnchorText) {
        self.anchor_texts.insert(key, Arc::new(text));
        self.revision += 1;
    }

    /// Takes what `from`'s reading layer found at `key` (a part of a project built from another's
    /// files keeps their anchors' texts).
    pub fn copy_anchor_text(&mut self, from: &ProjectIndex, key: &FileId) {
        if let Some(text) = from.anchor_texts.get(key) {
            self.anchor_texts.insert(key.clone(), Arc::clone(text));
            self.revision += 1;
        }
    }

    /// Forgets every anchored key's text (a project derived from another's reads its own).
    pub fn clear_anchor_texts(&mut self) {
        self.anchor_texts.clear();
        self.revision += 1;
    }

    /// Takes every anchored key's text `from` holds.
    pub fn copy_anchor_texts(&mut self, from: &ProjectIndex) {
        self.anchor_texts.extend(from.anchor_texts.iter().map(|(key, text)| (key.clone(), Arc::clone(text))));
        self.revision += 1;
    }

    /// What the reading layer found at an anchored key, if it was asked.
    pub fn anchor_text(&self, key: &str) -> Option<&anchors::AnchorText> {
        self.anchor_texts.get(key).map(|t| &**t)
    }

    /// Files in path order.
    pub fn files(&self) -> impl Iterator<Item = &Arc<FileFacts>> {
        self.files.iter()
    }

    pub fn def(&self, at: &DefRef) -> Option<&DefSite> {
        self.by_path.get(&at.file)?.defs.get(at.def as usize)
    }

    /// Every explicit id and its definition sites, in id order.
    pub fn explicit_ids(&self) -> impl Iterator<Item = (&str, &[DefRef])> {
        let mut ids: Vec<_> = self.ids.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect();
        ids.sort_by_key(|(k, _)| *k);
        ids.into_iter()
    }

    /// Declared sites per `(kind, normalised name)`, in key order.
    pub fn declared_names(&self) -> impl Iterator<Item = ((EntityKind, &str), &[DefRef])> {
        let mut names: Vec<_> = self.names.iter().map(|(k, v)| (k, v.as_slice())).collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        names.into_iter()
    }

    /// A [`Resolver`] of references of this index's files.
    pub fn resolver(&self) -> Resolver<'_> {
        Resolver { index: self, memo: Vec::new() }
    }

    /// Resolves one reference by the rule in the module docs.
    pub fn resolve(&self, fact: &RefFact) -> Resolved {
        let kind = fact.kind;
        match fact.lookup() {
            Lookup::Id(id) => {
                if let Some(entity) = self.explicit_entity(&id) {
                    return Resolved::Entity(entity.clone());
                }
                if let Some((_, key)) = self.implicit.get(kind, &id).and_then(|v| v.first()) {
                    return Resolved::Entity(EntityKey { kind, key: *key });
                }
                if let Some(entry) = self.library.get(&id) {
                    return Resolved::Entity(EntityKey::new(entry.kind, library::entity_key(&entry.id)));
                }
                if kind == EntityKind::Threat && is_builtin_legacy_threat(&id) {
                    return Resolved::Entity(EntityKey { kind, key: id });
                }
                Resolved::Dangling(id)
            }
            Lookup::InlineId(id) => {
                let kind = self
                    .ids
                    .get(&*id)
                    .and_then(|s| s.first())
                    .and_then(|d| self.def(d))
                    .map_or(kind, |d| d.entity.kind);
                Resolved::Entity(EntityKey { kind, key: id })
            }
            Lookup::Name(NameLookup { norm, path }) => {
                if let Some(def) =
                    self.names.get(kind, &norm).and_then(|s| s.first()).and_then(|d| self.def(d))
                {
                    return Resolved::Entity(def.entity.clone());
                }
                let key = if kind == EntityKind::Asset { path } else { norm };
                Resolved::Entity(EntityKey { kind, key })
            }
            Lookup::Legacy(path) => Resolved::Entity(EntityKey { kind: EntityKind::Asset, key: path }),
            Lookup::Tag(tag) => {
                if let Some(id) = library::id_of_tag(&tag) {
                    if let Some(entry) = self.library_lookup(id) {
                        let key = library::entity_key(&entry.id);
                        return Resolved::Entity(EntityKey::new(entry.kind, key));
                    }
                    if self.split_tag(&tag).is_none() {
                        return Resolved::Dangling(tag);
                    }
                }
                self.resolve_tag(kind, tag)
            }
        }
    }

    /// Every id a reference of `kind` could use: explicit ids and implicit ids, sorted.
    pub fn known_ids(&self, kind: EntityKind) -> Vec<&str> {
        let mut out: Vec<&str> = self.ids.keys().map(String::as_str).collect();
        out.extend(self.implicit.map(kind).keys().map(|k| &**k));
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every id that a reference of `kind` resolves to an entity of that kind (step 1 of the
    /// resolution rule): explicit ids first defined as that kind, and implicit ids of that
    /// kind that no explicit id takes first; sorted. What "did you mean" and completion offer.
    pub fn ids_of_kind(&self, kind: EntityKind) -> Vec<&str> {
        let explicit = self
            .ids
            .keys()
            .map(String::as_str)
            .filter(|id| self.explicit_entity(id).is_some_and(|e| e.kind == kind));
        let implicit =
            self.implicit.map(kind).keys().map(|k| &**k).filter(|id| self.explicit_entity(id).is_none());
        let mut out: Vec<&str> = explicit.chain(implicit).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The entity an explicit id names: its first definition's.
    fn explicit_entity(&self, id: &str) -> Option<&EntityKey> {
        let def = self.ids.get(id).and_then(|sites| sites.first()).and_then(|d| self.def(d))?;
        Some(&def.entity)
    }

    /// Declared sites of an entity, in path order.
    pub fn definitions(&self, entity: &EntityKey) -> Vec<(FileId, &DefSite)> {
        self.definition_sites(entity).map(|(file, def)| (file.clone(), def)).collect()
    }

    /// [`ProjectIndex::definitions`] one at a time: a caller that needs the first few sites of
    /// an entity defined in thousands of files looks up only those.
    pub fn definition_sites(&self, entity: &EntityKey) -> impl Iterator<Item = (&FileId, &DefSite)> {
        self.sites(self.by_entity.get(entity).map_or(&[][..], Vec::as_slice))
    }

    /// Definition sites of an explicit id, in path order.
    pub fn definitions_by_id(&self, id: &str) -> Vec<(FileId, &DefSite)> {
        self.definition_sites_by_id(id).map(|(file, def)| (file.clone(), def)).collect()
    }

    /// [`ProjectIndex::definitions_by_id`] one at a time.
    pub fn definition_sites_by_id(&self, id: &str) -> impl Iterator<Item = (&FileId, &DefSite)> {
        self.sites(self.ids.get(id).map_or(&[][..], Vec::as_slice))
    }

    fn sites<'a>(&'a self, at: &'a [DefRef]) -> impl Iterator<Item = (&'a FileId, &'a DefSite)> {
        at.iter().filter_map(|at| Some((&at.file, self.def(at)?)))
    }

    /// A readable name for an entity: its first declared name, else its key.
    pub fn display_name(&self, entity: &EntityKey) -> String {
        self.definition_sites(entity)
            .find_map(|(_, d)| d.name.clone())
            .or_else(|| self.library_entry(entity).map(|e| e.name.clone()))
            .unwrap_or_else(|| entity.key.to_string())
    }

    /// A stable, human-readable dump of the whole model (for snapshot tests and debugging):
    /// every annotation with its position, dialect, and each argument's resolution.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        for facts in &self.files {
            let _ = writeln!(out, "{} ({})", facts.path, facts.language.name());
            for (i, ann) in facts.annotations().iter().enumerate() {
                let lc = facts.line_col(ann.range.start(), ColumnUnit::Char);
                let verb = crate::syntax::verbs::canonical_spelling(ann.verb);
                let _ = write!(out, "  {}:{} @{verb} [{}]", lc.line + 1, lc.col + 1, ann.dialect.as_str());
                for fact in &facts.refs[i] {
                    let shown = match self.resolve(fact) {
                        Resolved::Entity(e) => format!("{}:{}", e.kind.as_str(), e.key),
                        Resolved::Dangling(id) => format!("DANGLING #{id}"),
                        Resolved::External(e) => format!("{}:EXTERNAL {}", e.kind.as_str(), e.key),
                    };
                    let at = facts.line_col(fact.name_range.start(), ColumnUnit::Char);
                    let _ = write!(out, " {}={shown}@{}:{}", fact.kind.as_str(), at.line + 1, at.col + 1);
                }
                if let Some(sev) = &ann.severity {
                    let _ = write!(out, " severity={}", sev.value.as_str());
                }
                if !ann.external_refs().is_empty() {
                    let refs: Vec<_> = ann.external_refs().iter().map(|r| r.value.as_str()).collect();
                    let _ = write!(out, " refs={}", refs.join(","));
                }
                if let Some(d) = &ann.description {
                    let _ = write!(out, " desc={:?}", d.value);
                }
                if let Some(d) = &ann.details {
                    let _ = write!(out, " details={:?}", d.value);
                }
                match &ann.body {
                    Body::Flows { two_way, mechanism, name, .. } => {
                        let _ = write!(out, " two_way={two_way}");
                        if let Some(m) = mechanism {
                            let _ = write!(out, " via={:?}", m.value);
                        }
                        if let Some(n) = name {
                            let _ = write!(out, " as={:?}", n.value);
                        }
                    }
                    Body::Alias { name, .. } => {
                        let _ = write!(out, " name={:?}", name.value);
                    }
                    Body::Describe { text, .. } => {
                        let _ = write!(out, " text={:?}", text.value);
                    }
                    Body::Audit { note: Some(n), .. } | Body::Assumes { note: Some(n), .. } => {
                        let _ = write!(out, " note={:?}", n.value);
                    }
                    Body::Owns { owner: v, .. }
                    | Body::Handles { class: v, .. }
                    | Body::Feature { name: v } => {
                        let _ = write!(out, " value={:?}", v.value);
                    }
                    Body::Comment { text: Some(t) } => {
                        let _ = write!(out, " text={:?}", t.value);
                    }
                    Body::Boundary { id, directed, .. } => {
                        if *directed {
                            let _ = write!(out, " directed");
                        }
                        if let Some(id) = id {
                            let _ = write!(out, " id={:?}", id.value);
                        }
                    }
                    Body::Entitles { capability, .. } => {
                        let _ = write!(out, " capability={:?}", capability.value);
                    }
                    _ => {}
                }
                for (k, v) in ann.fields() {
                    let _ = write!(out, " {k}={v:?}");
                }
                if let Some(origin) = ann.origin() {
                    let line = origin.line.as_ref().map_or(0, |l| l.value);
                    let _ = write!(out, " origin={}:{line}", origin.file.value);
                    if let Some(symbol) = &origin.symbol {
                        let _ = write!(out, " symbol={}", symbol.value);
                    }
                }
                out.push('\n');
            }
            for e in &facts.parsed.errors {
                let lc = facts.line_col(e.range.start(), ColumnUnit::Char);
                let _ = writeln!(out, "  {}:{} {}: {}", lc.line + 1, lc.col + 1, e.code.as_str(), e.message);
            }
        }
        out
    }
}

/// [`ProjectIndex::resolve`] for many references of the index's files, each answer given
/// once per lookup key while it stays in a small memo. What a reference resolves to depends
/// on its kind and its [`Lookup`] alone (and on the tables, which the borrow keeps as they
/// are), and a lookup's keys are [`Interned`]: so the answer is remembered by the kind, the
/// lookup's form and its keys' addresses, found without reading or hashing the text (on the
/// 20,000-file benchmark, 440,000 references resolve with about 50,000 calls of the rule).
/// The memo is direct-mapped (a slot per address hash, the latest key kept): a miss or an
/// evicted key only means the rule is asked again.
pub struct Resolver<'i> {
    index: &'i ProjectIndex,
    /// `(tag, path key's address, answer)` by slot; tag 0: empty (see [`Resolver::resolve`]).
    memo: Vec<(u64, usize, Option<Resolved>)>,
}

impl Resolver<'_> {
    /// Slots of the memo (a power of two): the references of a few hundred files name fewer
    /// entities than this.
    const SLOTS: usize = 1024;

    /// What [`ProjectIndex::resolve`] answers for `fact`.
    pub fn resolve(&mut self, fact: &RefFact) -> Resolved {
        let (form, address, path) = match fact.lookup() {
            Lookup::Id(key) => (0, key.address(), 0),
            Lookup::Tag(key) => (1, key.address(), 0),
            Lookup::InlineId(key) => (2, key.address(), 0),
            // An asset's name resolves by both keys: they are the slot's tag and its check.
            Lookup::Name(name) => (3, name.norm.address(), name.path.address()),
            Lookup::Legacy(key) => (4, key.address(), 0),
        };
        // Form and kind in the low 5 bits (each below 5), above them the address (a user-space
        // address has its top bits clear, and is never 0: no tag is the empty slot's).
        let tag = ((address as u64) << 5) | (form * 5 + fact.kind.index()) as u64;
        if self.memo.is_empty() {
            self.memo.resize(Self::SLOTS, (0, 0, None));
        }
        let slot = (tag.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - Self::SLOTS.trailing_zeros())) as usize;
        let slot = &mut self.memo[slot];
        if slot.0 == tag
            && slot.1 == path
            && let Some(known) = &slot.2
        {
            return known.clone();
        }
        let resolved = self.index.resolve(fact);
        *slot = (tag, path, Some(resolved.clone()));
        resolved
    }
}

/// One string-keyed table per entity kind: lookups borrow the key instead of building a
/// `(kind, String)` tuple. `K`: the key's owned form (`String`, or an [`Interned`] text).
#[derive(Clone, Debug)]
struct KindMap<V, K = String> {
    maps: [FxHashMap<K, V>; 5],
}

impl<V, K> Default for KindMap<V, K> {
    fn default() -> Self {
        Self { maps: std::array::from_fn(|_| FxHashMap::default()) }
    }
}

impl<V: Default, K: std::borrow::Borrow<str> + std::hash::Hash + Eq> KindMap<V, K> {
    fn get(&self, kind: EntityKind, key: &str) -> Option<&V> {
        self.maps[kind.index()].get(key)
    }
    fn entry(&mut self, kind: EntityKind, key: &str) -> &mut V
    where
        K: for<'k> From<&'k str>,
    {
        let map = &mut self.maps[kind.index()];
        if !map.contains_key(key) {
            map.insert(K::from(key), V::default());
        }
        map.get_mut(key).expect("just inserted")
    }
    /// [`KindMap::entry`] with the key already owned: one probe.
    fn entry_owned(&mut self, kind: EntityKind, key: K) -> &mut V {
        self.maps[kind.index()].entry(key).or_default()
    }
    fn map(&self, kind: EntityKind) -> &FxHashMap<K, V> {
        &self.maps[kind.index()]
    }
    fn map_mut(&mut self, kind: EntityKind) -> &mut FxHashMap<K, V> {
        &mut self.maps[kind.index()]
    }
    fn iter(&self) -> impl Iterator<Item = ((EntityKind, &str), &V)> {
        EntityKind::ALL
            .into_iter()
            .flat_map(move |k| self.maps[k.index()].iter().map(move |(s, v)| ((k, s.borrow()), v)))
    }
}

/// ThreatSpec 0.1 shipped a library of `@cwe_<n>_<slug>` threat ids; they resolve without a
/// definition.
fn is_builtin_legacy_threat(id: &str) -> bool {
    id.strip_prefix("cwe_").is_some_and(|rest| {
        rest.split('_').next().is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

fn insert_sorted(v: &mut Vec<DefRef>, at: DefRef) {
    // Files usually arrive in path order: then the site goes last.
    if v.last().is_none_or(|last| *last < at) {
        v.push(at);
    } else {
        let pos = v.partition_point(|x| *x < at);
        v.insert(pos, at);
    }
}

fn remove_from<K, V, Q>(map: &mut FxHashMap<K, Vec<V>>, key: &Q, keep: impl FnMut(&V) -> bool)
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
{
    if let Some(v) = map.get_mut(key) {
        v.retain(keep);
        if v.is_empty() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fact keeps its lookup as keys and a form: every form comes back as it went in.
    #[test]
    fn a_fact_gives_back_its_lookup() {
        let (a, b): (Interned, Interned) = ("app.api".into(), "app api".into());
        let range = TextRange::new(3, 10);
        for lookup in [
            Lookup::Id(a),
            Lookup::Tag(a),
            Lookup::InlineId(a),
            Lookup::name(b, a),
            Lookup::name(a, b),
            Lookup::Legacy(a),
        ] {
            let fact = RefFact::new(EntityKind::Asset, range, range, lookup, true);
            assert_eq!(fact.lookup(), lookup);
        }
    }

    /// Upper bounds on the sizes, as `syntax::ast`'s `an_annotation_stays_small` for the syntax
    /// tree: the 20,000-file benchmark holds 450,000 facts and as many resolutions.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn facts_and_resolutions_stay_small() {
        assert!(std::mem::size_of::<RefFact>() <= 40, "{}", std::mem::size_of::<RefFact>());
        assert!(std::mem::size_of::<Resolved>() <= 16, "{}", std::mem::size_of::<Resolved>());
    }
    use crate::syntax::Verb;

    /// The verbs a file's facts note are its annotations' verbs, and each body a project-wide
    /// pass looks for comes only with the verb it skips files by ([`VerbSet`]); the due and
    /// audited dates are noted as written.
    #[test]
    fn a_files_verbs_are_its_annotations_verbs() {
        let every = "# @boundary from App.Web to App.Db (#edge)\n# @flows App.Web -> App.Db -> App.Cache\n\
            # @owns team-a for App.Web\n# @confirmed #sqli on App.Web\n# @exposes App.Web to #sqli\n\
            # @threat SQL injection (#sqli) risk:L2xI3 due:2026-01-01\n";
        let samples = [
            (Language::Python, include_str!("../../examples/dialects/gal.py")),
            (Language::Php, include_str!("../../examples/dialects/legacy.php")),
            (Language::JavaScript, include_str!("../../examples/dialects/threatspec.js")),
            (Language::Python, "# @exposes App.Web to #sqli\n# @threat SQL injection (#sqli) risk:L2xI3\n"),
            (Language::Python, every),
        ];
        for (language, text) in samples {
            let parsed = crate::syntax::parse_file(language, text);
            let facts = FileFacts::from_parsed(FileId::relative("f"), language, text.into(), parsed);
            assert!(!facts.annotations().is_empty(), "{text}");
            assert_eq!(facts.verbs, VerbSet::of(facts.annotations()));
            let dated = |a: &Annotation| a.risk().is_some_and(|r| r.due.is_some() || r.audited.is_some());
            assert_eq!(facts.risk_dates, facts.annotations().iter().any(dated), "{text}");
            for a in facts.annotations() {
                let verb = match a.body {
                    Body::Boundary { .. } => Verb::Boundary,
                    Body::Flows { .. } => Verb::Flows,
                    Body::Exposes { .. } => Verb::Exposes,
                    Body::Confirmed { .. } => Verb::Confirmed,
                    Body::Owns { .. } => Verb::Owns,
                    Body::Define { kind: EntityKind::Threat, .. } => Verb::Threat,
                    _ => continue,
                };
                assert_eq!(a.verb, verb, "{a:?}");
            }
        }
        let parsed = crate::syntax::parse_file(Language::Python, every);
        let facts = FileFacts::from_parsed(FileId::relative("f"), Language::Python, every.into(), parsed);
        let verbs = [Verb::Boundary, Verb::Flows, Verb::Owns, Verb::Confirmed, Verb::Exposes, Verb::Threat];
        assert!(verbs.iter().all(|&v| facts.verbs.contains(v)), "{:?}", facts.verbs);
        assert!(!facts.verbs.any(&[Verb::Mitigates, Verb::Asset]));
        assert!(facts.risk_dates);
    }

    /// Facts derived with the per-thread name cache ([`NameKeyCache`]) equal the keys computed
    /// afresh for every reference: names repeated within and across files, one name used as
    /// an asset and as a threat, inline ids, and more distinct names than the cache keeps (it
    /// is emptied in the middle of the file).
    #[test]
    fn cached_name_keys_equal_fresh_ones() {
        let mut text = String::new();
        for i in 0..2_500 {
            let _ = writeln!(text, "# @exposes App:Web{} to Threat {i} with x", i % 7);
            let _ = writeln!(text, "# @mitigates App:Web{} against #threat_{i} with Filter-{i} Ctl", i % 7);
        }
        text.push_str("# @mitigates App.Web1 (#web) against Web 1 (#w1) with Shop:App\n");
        text.push_str("# @exposes Threat 3 to App:Web1 with x\n# @threat Threat 3\n");
        const { assert!(2 * 2_500 > NameKeyCache::MAX_NAMES) };
        let text: Arc<str> = text.into();
        // Twice on one thread: the second file finds every name cached.
        for _ in 0..2 {
            let facts = FileFacts::new(FileId::relative("a.py"), Language::Python, text.clone());
            assert_eq!(facts.annotations().len(), 5_003);
            let mut implicit = Vec::new();
            for (ann, refs) in facts.annotations().iter().zip(&facts.refs) {
                let written = ann.refs();
                assert_eq!(written.len(), refs.len());
                let defining = matches!(ann.body, Body::Define { .. } | Body::Alias { .. });
                for ((kind, r), fact) in written.into_iter().zip(refs) {
                    let fresh = ref_fact(kind, r, defining);
                    assert_eq!(fact.lookup(), fresh.lookup());
                    assert_eq!(
                        (fact.kind, fact.range, fact.name_range, fact.defines),
                        (kind, r.range, fresh.name_range, defining)
                    );
                    if let (Lookup::Name(keys), RefForm::Name { name, .. }) = (fresh.lookup(), &r.form) {
                        let key = if kind == EntityKind::Asset { &keys.path } else { &keys.norm };
                        implicit.push((kind, Interned::from(names::threatspec_slug(&name.value)), *key));
                    }
                }
            }
            implicit.sort_unstable();
            implicit.dedup();
            assert_eq!(facts.implicit_ids, implicit);
            assert!(
                facts.implicit_ids.iter().any(|(k, s, _)| *k == EntityKind::Threat && &**s == "threat_3")
            );
        }
    }

    /// A [`Resolver`] answers what [`ProjectIndex::resolve`] does for every reference, asked
    /// in any order and again: one key named as a threat and as a control (a shared lookup
    /// resolving to different entities by kind), ids defined, dangling, inline and qualified,
    /// legacy paths, and more distinct keys than the memo has slots (so answers are evicted
    /// and asked again).
    #[test]
    fn a_resolver_answers_what_the_rule_does() {
        let mut index = ProjectIndex::new();
        for f in 0..4 {
            let mut text = String::from(
                "# @control Filter (#flt)\n# @mitigates App:Web against Filter with Filter\n\
                 # @exposes App:Web to #flt with x\n# @exposes App:Web to #nothing with x\n\
                 # @mitigates App:Web against #other.repo.id with #lib.sql_injection\n",
            );
            for i in 0..700 {
                let _ = writeln!(text, "# @exposes App:Svc{i}:Part{f} to Threat {i} (#t{i}) with x");
                let _ = writeln!(text, "# @mitigates App:Svc{i} against #t{} with Control {i}", i + 1);
            }
            text.push_str("# @exposes @b:@c to @t1\n");
            index.set_file(Arc::new(FileFacts::new(
                FileId::relative(format!("f{f}.py")),
                Language::Python,
                text.into(),
            )));
        }
        let facts: Vec<&RefFact> = index.files().flat_map(|f| f.refs.flat()).collect();
        assert!(facts.len() > 4 * 2 * 700 * 2);
        let mut resolver = index.resolver();
        let mut answers = 0;
        for fact in facts.iter().chain(facts.iter().rev()).chain(facts.iter()) {
            assert_eq!(resolver.resolve(fact), index.resolve(fact), "{fact:?}");
            answers += 1;
        }
        assert_eq!(answers, 3 * facts.len());
        // The one lookup of `Filter` is a threat in one place and the control `#flt` in the other.
        let filter: Vec<Resolved> = index
            .files()
            .next()
            .unwrap()
            .refs
            .flat()
            .iter()
            .filter(|f| matches!(f.lookup(), Lookup::Name(n) if &*n.norm == "filter"))
            .map(|f| resolver.resolve(f))
            .collect();
        assert!(
            filter.contains(&Resolved::Entity(EntityKey::new(EntityKind::Threat, "filter"))),
            "{filter:?}"
        );
        assert!(filter.contains(&Resolved::Entity(EntityKey::new(EntityKind::Control, "flt"))), "{filter:?}");
    }

    /// A file's lists are built in the thread's scratch vectors ([`Scratch`]): facts derived
    /// after a larger file on the same thread are those derived on a fresh thread, and hold
    /// allocations of exactly their length (the scratch room is not handed out with them).
    #[test]
    fn facts_after_a_larger_file_are_exact_and_the_same() {
        let mut large = String::new();
        // Under `Scratch::MAX_KEPT` items a list, so that its room is kept for the next file.
        for i in 0..150 {
            let _ = writeln!(large, "# @component Shop:Part{i} (Alias {i})\n# @threat T{i} (#t{i})");
            let _ = writeln!(large, "# @mitigates Shop:Part{i} (#p{i}) against #t{i} with Ctl {i}");
        }
        let small: Arc<str> = "# @component Shop:Web (Store Front)\n# @threat SQL injection (#sqli)\n\
            # @exposes Shop:Web to #sqli with input\n# @boundary Shop:Web and Shop:Db (#edge)\n"
            .into();
        let derive =
            |text: &Arc<str>| FileFacts::new(FileId::relative("a.py"), Language::Python, text.clone());
        let encoded = |facts: &FileFacts| postcard::to_allocvec(&facts.to_store()).unwrap();
        let fresh = std::thread::spawn({
            let small = small.clone();
            move || encoded(&derive(&small))
        })
        .join()
        .unwrap();
        let large = derive(&large.into());
        assert!(large.defs.len() > 150 && large.refs.flat().len() > 450, "{}", large.defs.len());
        assert!(large.refs.flat().len() < Scratch::MAX_KEPT && large.defs.len() < Scratch::MAX_KEPT);
        let after = derive(&small);
        assert_eq!(encoded(&after), fresh);
        assert!(after.defs.len() < large.defs.len() && !after.implicit_ids.is_empty());
        assert_eq!(after.defs.capacity(), after.defs.len());
        assert_eq!(after.implicit_ids.capacity(), after.implicit_ids.len());
        assert_eq!(after.refs.capacity(), after.refs.flat().len());
    }

    /// The keys of one name, one id and one entity are one interned text however many files
    /// and references name them, and a resolution is the definition's or the lookup's key.
    #[test]
    fn keys_are_shared_not_copied() {
        let text: Arc<str> = "# @component Shop:Web API\n# @threat SQL injection (#sqli)\n\
            # @exposes Shop:Web API to #sqli with input\n# @exposes Shop:Web API to XSS with input\n"
            .into();
        let mut index = ProjectIndex::new();
        for name in ["a.py", "b.py"] {
            index.set_file(Arc::new(FileFacts::new(FileId::relative(name), Language::Python, text.clone())));
        }
        let (a, b) = (index.file("a.py").unwrap(), index.file("b.py").unwrap());
        let lookups =
            |f: &FileFacts| -> Vec<Lookup> { f.refs.iter().flatten().map(|r| r.lookup()).collect() };
        let mut shared = 0;
        for (x, y) in lookups(a).iter().zip(&lookups(b)) {
            match (x, y) {
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
        assert_eq!(shared, 5);
        for ((_, s1, k1), (_, s2, k2)) in a.implicit_ids.iter().zip(&b.implicit_ids) {
            assert!(s1 == s2 && k1 == k2);
        }
        // `#sqli` resolves to its definition's key; the component to the lookup's path key.
        let exposure = &a.refs[2];
        let Resolved::Entity(threat) = index.resolve(&exposure[1]) else { panic!() };
        let defined = &index.definitions_by_id("sqli")[0].1.entity;
        assert_eq!(threat.key.address(), defined.key.address());
        let Resolved::Entity(asset) = index.resolve(&exposure[0]) else { panic!() };
        let Lookup::Name(name) = &exposure[0].lookup() else { panic!() };
        assert!(asset.key == name.path && &*asset.key == "shop.web_api");
    }

    /// Files added in key order take `set_file`'s shortcut (a key past the last is new: no
    /// search for an old entry); the index is the same as when they come in any other order,
    /// and a file replaced afterwards (the last one too) leaves none of its old entries.
    #[test]
    fn files_in_key_order_index_as_in_any_order() {
        let file = |name: &str, text: &str| {
            Arc::new(FileFacts::new(FileId::relative(name), Language::Python, text.into()))
        };
        let a = file("a.py", "# @threat Spoofing (#spoof)\n# @exposes App:Web to #spoof\n");
        let b = file("b.py", "# @control Tokens (#tok)\n# @mitigates App:Web against #spoof with #tok\n");
        let b2 = file("b.py", "# @threat Tampering (#tamper)\n");
        let c = file("c.py", "# @mitigates App:Api against #spoof with #tok\n# @control Keys (#key)\n");
        let c2 = file("c.py", "# @exposes App:Api to #tamper\n");
        let index = |files: &[&Arc<FileFacts>]| {
            let mut index = ProjectIndex::new();
            for f in files {
                index.set_file(Arc::clone(f));
            }
            format!("{}{:?}", index.dump(), index.explicit_ids().collect::<Vec<_>>())
        };
        let in_order = index(&[&a, &b, &c]);
        assert!(in_order.contains("control:tok"), "{in_order}");
        assert_eq!(in_order, index(&[&c, &b, &a]));
        assert_eq!(in_order, index(&[&b, &a, &c]));
        assert_eq!(index(&[&a, &b2, &c]), index(&[&a, &b, &c, &b2]));
        assert_eq!(index(&[&a, &b, &c2]), index(&[&a, &b, &c, &c2]));
        assert_ne!(index(&[&a, &b, &c2]), in_order);
    }

    /// The files are held in a vector in path order: a file added before others (a language
    /// server's new file), replaced in the middle or removed from anywhere leaves the files in
    /// path order and the tables (explicit and implicit ids, names) as a fresh index of the
    /// same files has them; removing an absent file changes nothing, and replacing a file by
    /// one with the same definitions keeps the tables' revision.
    #[test]
    fn files_added_replaced_and_removed_anywhere_stay_in_path_order() {
        let file = |name: &str, text: &str| {
            Arc::new(FileFacts::new(FileId::relative(name), Language::Python, text.into()))
        };
        let a = file("a.py", "# @threat Spoofing (#spoof)\n# @exposes App:Web to Tampering\n");
        let b = file("b.py", "# @exposes App:Web to #tampering\n# @mitigates App:Web against #spoof\n");
        let b2 = file("b.py", "# @exposes App:Api to #app_web\n");
        let c = file("c.py", "# @exposes App:Api to Repudiation\n# @control Keys (#key)\n");
        let fresh = |files: &[&Arc<FileFacts>]| {
            let mut index = ProjectIndex::new();
            for f in files {
                index.set_file(Arc::clone(f));
            }
            index
        };
        let shown = |index: &ProjectIndex| {
            let paths: Vec<&str> = index.files().map(|f| f.path.as_str()).collect();
            let ids = index.known_ids(EntityKind::Threat);
            format!("{paths:?} {ids:?}\n{}{:?}", index.dump(), index.explicit_ids().collect::<Vec<_>>())
        };
        let mut index = fresh(&[&c, &a]);
        index.set_file(Arc::clone(&b));
        assert_eq!(shown(&index), shown(&fresh(&[&a, &b, &c])));
        assert!(shown(&index).contains("[\"a.py\", \"b.py\", \"c.py\"]"), "{}", shown(&index));
        assert!(shown(&index).contains("\"tampering\""), "{}", shown(&index));
        index.set_file(Arc::clone(&b2));
        assert_eq!(shown(&index), shown(&fresh(&[&a, &b2, &c])));
        let revision = index.revision();
        index.remove_file("b");
        assert_eq!(index.revision(), revision);
        index.remove_file("b.py");
        assert_eq!(shown(&index), shown(&fresh(&[&a, &c])));
        index.remove_file("a.py");
        assert_eq!(shown(&index), shown(&fresh(&[&c])));
        assert!(!shown(&index).contains("\"tampering\""), "{}", shown(&index));
        index.remove_file("c.py");
        assert_eq!(shown(&index), shown(&ProjectIndex::new()));
        // Same definitions, other ranges: the tables did not change.
        let mut index = fresh(&[&a, &c]);
        let tables = index.tables_revision();
        index.set_file(file("c.py", "\n# @exposes App:Api to Repudiation\n# @control Keys (#key)\n"));
        assert_eq!(index.tables_revision(), tables);
        index.set_file(Arc::clone(&b));
        assert_ne!(index.tables_revision(), tables);
    }

    #[test]
    fn line_index_on_first_use() {
        let facts = FileFacts::new(FileId::relative("a.py"), Language::Python, "x = 1\n# @threat T\n".into());
        assert_eq!(facts.line_col(8, ColumnUnit::Char), LineCol { line: 1, col: 2 });
        assert_eq!(facts.line_index().line_count(), 3);
    }
}
