//! Coverage: is an exposure covered, and by what. The one place the rule lives.
//!
//! Owns: the coverage rule, the index of covering relations it is answered from (built once
//! per analysis, or shared with the previous one when no edit changed a covering relation but
//! for its place in its file: `CoverIndex::updated`), and the [`Coverage`] every surface reads: the `unmitigated-exposure`
//! diagnostic, hover, inlay hints, code lenses, diagram badges, the report, every export and
//! the language server's `threat-analyzer.status`. Must never: do I/O, or be recomputed
//! anywhere else.
//!
//! # The rule
//!
//! An exposure of asset A to threat T (`@exposes A to T`) is covered by `@mitigates A' against
//! T`, `@accepts T on A'` or `@transfers T from A'` (ThreatSpec 0.1: `@transfers T to A'`)
//! where A' is A itself or one of its ancestors (`Shop` covers `Shop.Orders`) and threats are
//! compared as resolved entities (`#sqli`, `SQL Injection` and `sql-injection` are one threat),
//! **unless** the two are sited in the same file, both carry a symbol anchor, and the cover's
//! anchor is neither the exposure's nor a definition around it (GuardLink's handler scope, its
//! SPEC 3.6.1: a class's cover answers for its methods; a method's answers neither for its
//! class nor for a sibling). Then the author has said in the model that they are different
//! places, and the control at one does not answer for the other. Symbols are compared as
//! `.`-joined chains ([`crate::syntax::symbols::encloses`]): an inline symbol is qualified by
//! the definitions around it (`OrderView.get`); a sidecar's `symbol:` is taken as written.
//!
//! - The *site* of an annotation in a `.gal` sidecar is its `@source`: the file it names (so
//!   "same file" is the anchored source file, whichever sidecar says it) and its `symbol:`, if
//!   given. An `@source` without `symbol:` is an asset-level statement and is never narrowed.
//! - The site of an inline annotation is its own file. With [`CoverageScope::Symbol`] (the
//!   `coverage.scope` setting, opt-in) its symbol is the function, method or class tree-sitter
//!   finds around it or right after it, qualified by the definitions around that
//!   ([`crate::syntax::enclosing_symbols`]); with
//!   [`CoverageScope::File`] (the default) it has none, so inline projects are never narrowed.
//! - The rule only ever removes coverage: a cover in another file, or without an anchor,
//!   always covers. A cross-file control blanket-covers its asset and threat (knowing whether
//!   it reaches a site would need a call graph).
//!
//! An exposure whose asset or threat does not resolve has no [`Coverage`] (`None`): each
//! surface treats it as it always has (no diagnostic, listed open in the report).

use super::{Analysis, Relation};
use crate::file_id::FileId;
use crate::model::names::ancestors;
use crate::model::{EntityKey, FileFacts, Interned, Jagged, ProjectIndex, Resolved};
use crate::syntax::Body;
use crate::text::TextRange;
use rustc_hash::FxHashMap as HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

/// How many edited files an index derived by [`CoverIndex::updated`] may read at their new
/// places before it is built again.
const MAX_MOVED_FILES: usize = 256;

/// What an inline annotation's site is for the anchor rule (the `coverage.scope` setting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CoverageScope {
    /// Inline annotations carry no symbol: only `.gal` `symbol:` anchors narrow coverage.
    #[default]
    File,
    /// Inline annotations are anchored to the function, method or class around them.
    Symbol,
}

impl CoverageScope {
    /// `file` or `symbol`.
    pub fn parse(text: &str) -> Option<CoverageScope> {
        match text {
            "file" => Some(CoverageScope::File),
            "symbol" => Some(CoverageScope::Symbol),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CoverageScope::File => "file",
            CoverageScope::Symbol => "symbol",
        }
    }
}

/// The kind of a covering relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CoverKind {
    Mitigates,
    Accepts,
    Transfers,
}

/// Where a relation sits for the anchor rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Site {
    /// The anchored source file; `None`: the file the annotation is written in.
    file: Option<FileId>,
    /// The symbol anchor, if any.
    symbol: Option<Arc<str>>,
    /// `symbol` is an inline annotation's, qualified by the definitions around it
    /// (`OrderView.get`); else a sidecar's `symbol:` as written (usually a bare name).
    qualified: bool,
}

/// One `@mitigates`, `@accepts` or `@transfers` that may cover exposures.
#[derive(Clone, Debug, PartialEq)]
pub struct Cover {
    pub kind: CoverKind,
    /// The control of a mitigation, as an id (`#prepared-stmts`) or as written (interned: a
    /// project names a few controls thousands of times).
    pub control: Option<Interned>,
    /// Where the annotation is written (a `.gal` file for a sidecar annotation).
    pub file: FileId,
    /// Its index in the file's annotations, and its range.
    pub annotation: usize,
    pub range: TextRange,
    site: Site,
    /// Its position among its file's covering relations (`CoverIndex::covers_of`), which
    /// finds its current place when the file was edited (`CoverIndex::moved`).
    nth: u32,
}

impl Cover {
    /// The symbol the relation is anchored to, if any.
    pub fn symbol(&self) -> Option<&str> {
        self.site.symbol.as_deref()
    }
}

/// What covers one exposure: its covering relations, those on the asset itself first, then
/// those on its ancestors, nearest first; each group in project order. Empty: open.
#[derive(Clone, Debug, Default)]
pub struct Coverage<'a> {
    pub covers: Vec<&'a Cover>,
    /// Relations of the same asset (or an ancestor) and threat that do not cover it because
    /// their symbol anchor contradicts the exposure's, with the exposure's symbol.
    pub contradicted: Vec<&'a Cover>,
    pub symbol: Option<&'a str>,
}

impl Coverage<'_> {
    pub fn is_covered(&self) -> bool {
        !self.covers.is_empty()
    }

    pub fn is_open(&self) -> bool {
        self.covers.is_empty()
    }

    pub fn has(&self, kind: CoverKind) -> bool {
        self.covers.iter().any(|c| c.kind == kind)
    }

    /// The strongest kind that covers: a mitigation, else an acceptance, else a transfer.
    pub fn state(&self) -> Option<CoverKind> {
        self.covers.iter().map(|c| c.kind).min()
    }

    /// The controls of the covering mitigations, deduplicated, in the order of `covers`.
    pub fn controls(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in self.covers.iter().filter_map(|c| c.control.as_deref()) {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// A short statement of the answer: `mitigated by #a, #b`, `mitigated` (no control
    /// named), `accepted`, `transferred` or `unmitigated`.
    pub fn label(&self) -> String {
        let controls = self.controls();
        if !controls.is_empty() {
            return format!("mitigated by {}", controls.join(", "));
        }
        match self.state() {
            Some(CoverKind::Mitigates) => "mitigated".into(),
            Some(CoverKind::Accepts) => "accepted".into(),
            Some(CoverKind::Transfers) => "transferred".into(),
            None => "unmitigated".into(),
        }
    }
}

/// Parts of the covering relations (by threat) that [`CoverIndex::new`] indexes on every core.
const SHARDS: usize = 16;
const _: () = assert!(SHARDS <= 256, "a shard is numbered by a byte");

/// Files whose covering relations are made at once before they are added to the shards
/// ([`CoverIndex::new`], and the analysis's resolving pass).
pub(super) const WINDOW: usize = 1024;

/// One shard's covering relations while [`CoverIndex::new`] adds them: by threat, each
/// threat's table found by the address of its key's text where it can be.
#[derive(Debug, Default)]
struct Shard {
    /// Each threat's relations by asset key, in the order the threats came.
    threats: Vec<(EntityKey, ByAsset)>,
    /// The position in `threats` of each threat.
    position: HashMap<EntityKey, usize>,
    /// `(tag, position)` by slot, a small direct-mapped table like `analysis::SeenKeys`: a
    /// project names a few dozen threats in tens of thousands of relations, and finding the
    /// address of a key's interned text (one address per text, never reused) is cheaper than
    /// hashing the text. Tag 0: empty; a miss only means `position` is asked.
    seen: Vec<(u64, usize)>,
}

impl Shard {
    /// Slots of `seen` (a power of two).
    const SLOTS: usize = 64;

    /// The position of `threat`'s table in `threats` (added, empty, if it has none yet).
    fn threat(&mut self, threat: EntityKey) -> usize {
        if self.seen.is_empty() {
            self.seen.resize(Self::SLOTS, (0, 0));
        }
        // The kind in the low 3 bits (it is below 5), above them the address (never 0).
        let tag = ((threat.key.address() as u64) << 3) | threat.kind.index() as u64;
        let slot = (tag.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - Self::SLOTS.trailing_zeros())) as usize;
        let (seen, at) = self.seen[slot];
        if seen == tag {
            return at;
        }
        let at = match self.position.get(&threat) {
            Some(&at) => at,
            None => {
                self.position.insert(threat.clone(), self.threats.len());
                self.threats.push((threat, HashMap::default()));
                self.threats.len() - 1
            }
        };
        self.seen[slot] = (tag, at);
        at
    }
}

/// Adds `covers` to `shard`, each pair's after those it holds, in the order given.
fn add(shard: &mut Shard, covers: Vec<PairCover>) {
    for ((asset, threat), cover) in covers {
        let at = shard.threat(threat);
        let covers = shard.threats[at].1.entry(asset).or_default();
        // Most pairs have one or two relations: grown the usual way, each vector would hold
        // four (352 bytes). Exact growth while short, fitted at the end if longer.
        if covers.len() < 8 {
            covers.reserve_exact(1);
        }
        covers.push(cover);
    }
}

/// The controls' texts of the covering relations a worker made so far: a control seen before
/// is not interned again (which locks a shard of the process's table).
pub(super) type Controls = std::collections::HashSet<Interned, rustc_hash::FxBuildHasher>;

/// The interned `text`, from `controls` when it is there (added if it is not).
fn shared(controls: &mut Controls, text: &str) -> Interned {
    match controls.get(text) {
        Some(&interned) => interned,
        None => {
            let interned = Interned::new(text);
            controls.insert(interned);
            interned
        }
    }
}

/// A covering relation with its `(asset key, threat)`.
type PairCover = ((Interned, EntityKey), Cover);

/// Covering relations by threat, then by asset key.
type ByPair = HashMap<EntityKey, ByAsset>;

/// One threat's covering relations by asset key.
type ByAsset = HashMap<Interned, Vec<Cover>>;

/// The covering relations of a project by `(asset key, threat)`, and the symbols of inline
/// annotations when the scope is [`CoverageScope::Symbol`].
#[derive(Debug, Default)]
pub(super) struct CoverIndex {
    scope: CoverageScope,
    /// By threat, then by asset key (looked up without building a key); shared by the
    /// indexes [`CoverIndex::updated`] derives from this one.
    by_pair: Arc<ByPair>,
    /// `[file][annotation]`: the enclosing symbol of inline exposures and covers (symbol scope).
    inline_symbols: HashMap<FileId, Vec<Option<Arc<str>>>>,
    /// The files edited since `by_pair` was built that write the same covering relations but
    /// at other places (typing above them): their relations as they are now, in file order,
    /// so `by_pair`'s entry of such a file is read as `moved[file][nth]`.
    moved: HashMap<FileId, Arc<Vec<Cover>>>,
}

/// One file's covering relations, each with its `(asset key, threat)`, in file order, and the
/// shard of each (its threat's): what [`Builder::file_covers`] makes of one file on any core.
pub(super) struct FileCovers {
    covers: Vec<PairCover>,
    shards: Vec<u8>,
}

/// A [`CoverIndex`] being built: the files' covering relations are added a window of files
/// at a time, in index order ([`Added::add`]), and the index is had by [`Builder::finish`].
/// The analysis makes each file's relations in the job that resolves the file, while its
/// facts and resolution are in the cache, and adds one window's while the next one's are made
/// ([`super::Analysis::update_with_scope`], with [`Builder::parts`]).
pub(super) struct Builder {
    /// The index with its scope and inline symbols, and no relations yet.
    index: CoverIndex,
    added: Added,
}

/// The relations a [`Builder`] was given so far.
pub(super) struct Added {
    shards: Vec<Shard>,
}

impl Builder {
    /// The covering relations of one file (with its resolved references), with the shard of
    /// each; on any core, `controls` remembering the controls' texts that core interned.
    pub(super) fn file_covers(
        &self,
        facts: &FileFacts,
        resolved: &Jagged<Resolved>,
        controls: &mut Controls,
    ) -> FileCovers {
        Making(&self.index).file_covers(facts, resolved, controls)
    }

    /// What makes relations ([`Making::file_covers`]) and what they are added to, borrowed
    /// apart: one window's relations can be added while the next one's are made.
    pub(super) fn parts(&mut self) -> (Making<'_>, &mut Added) {
        (Making(&self.index), &mut self.added)
    }

    /// [`Added::add`].
    pub(super) fn add(&mut self, files: Vec<FileCovers>) {
        self.added.add(files);
    }

    /// The index of every relation added.
    pub(super) fn finish(self) -> CoverIndex {
        use rayon::prelude::*;
        let Builder { index: mut out, added: Added { mut shards, .. } } = self;
        shards
            .par_iter_mut()
            .flat_map_iter(|shard| shard.threats.iter_mut().flat_map(|(_, by_asset)| by_asset.values_mut()))
            .filter(|covers| covers.capacity() > covers.len())
            .for_each(crate::syntax::fit_exactly);
        // No two shards share a threat: their tables are joined by moving them.
        let mut by_pair = ByPair::default();
        by_pair.reserve(shards.iter().map(|shard| shard.threats.len()).sum());
        for shard in shards {
            by_pair.extend(shard.threats);
        }
        out.by_pair = Arc::new(by_pair);
        out
    }
}

/// The half of a [`Builder`] that makes each file's relations ([`Builder::parts`]).
#[derive(Clone, Copy)]
pub(super) struct Making<'b>(&'b CoverIndex);

impl Making<'_> {
    /// [`Builder::file_covers`].
    pub(super) fn file_covers(
        self,
        facts: &FileFacts,
        resolved: &Jagged<Resolved>,
        controls: &mut Controls,
    ) -> FileCovers {
        let covers = self.0.covers_of(facts, resolved, controls);
        let shards = covers
            .iter()
            .map(|(pair, _)| (rustc_hash::FxBuildHasher.hash_one(&pair.1) as usize % SHARDS) as u8)
            .collect();
        FileCovers { covers, shards }
    }
}

impl Added {
    /// The covering relations of the next files in index order (those right after the files
    /// added so far), parted by their threat's shard (in project order) and indexed in their
    /// shards on every core.
    pub(super) fn add(&mut self, files: Vec<FileCovers>) {
        use rayon::prelude::*;
        // Each part allocated once at its size (grown by pushing, the parts copied their
        // relations again and again).
        let mut sizes = [0usize; SHARDS];
        for file in &files {
            for &shard in &file.shards {
                sizes[shard as usize] += 1;
            }
        }
        let mut parted: Vec<Vec<PairCover>> = sizes.iter().map(|&n| Vec::with_capacity(n)).collect();
        for file in files {
            for (pair_cover, shard) in file.covers.into_iter().zip(file.shards) {
                parted[shard as usize].push(pair_cover);
            }
        }
        self.shards.par_iter_mut().zip(parted).for_each(|(shard, covers)| add(shard, covers));
    }
}

impl CoverIndex {
    /// The index of `resolved` (the resolutions of `index`'s files, in index order).
    pub(super) fn new(
        index: &ProjectIndex,
        resolved: &super::Resolutions,
        scope: CoverageScope,
    ) -> CoverIndex {
        use rayon::prelude::*;
        // A window of files at a time (so few relations are in flight): each file's covering
        // relations on every core, each part of the files sharing its controls' texts; then
        // added to the shards.
        let mut builder = CoverIndex::builder(index, scope);
        let files: Vec<(&Arc<FileFacts>, &super::Resolution)> = resolved.iter().collect();
        for window in files.chunks(WINDOW) {
            let per_file: Vec<FileCovers> = window
                .par_iter()
                .map_init(Controls::default, |controls, (facts, per_file)| {
                    builder.file_covers(facts, per_file, controls)
                })
                .collect();
            builder.add(per_file);
        }
        builder.finish()
    }

    /// A [`Builder`] of the index of `index`'s files under `scope`: with the symbols of inline
    /// annotations already found when the scope is [`CoverageScope::Symbol`] (they depend on
    /// each file's text only), so each file's relations can be made on any core.
    pub(super) fn builder(index: &ProjectIndex, scope: CoverageScope) -> Builder {
        use rayon::prelude::*;
        let mut out = CoverIndex { scope, ..CoverIndex::default() };
        if scope == CoverageScope::Symbol {
            // One tree-sitter parse per inline file with sited annotations, in parallel.
            let files: Vec<&Arc<FileFacts>> =
                index.files().filter(|f| !crate::model::anchors::is_sidecar(f.path.as_str())).collect();
            out.inline_symbols = files
                .par_iter()
                .filter_map(|facts| {
                    let sited: Vec<usize> = facts
                        .annotations()
                        .iter()
                        .map(|a| match a.body {
                            Body::Exposes { .. }
                            | Body::Mitigates { .. }
                            | Body::Accepts { .. }
                            | Body::Transfers { .. } => a.range.start(),
                            _ => usize::MAX,
                        })
                        .collect();
                    if sited.iter().all(|&s| s == usize::MAX) {
                        return None;
                    }
                    let symbols = crate::syntax::enclosing_symbols(facts.language, facts.text(), &sited);
                    Some((facts.path.clone(), symbols.into_iter().map(|s| s.map(Arc::from)).collect()))
                })
                .collect();
        }
        Builder { index: out, added: Added { shards: (0..SHARDS).map(|_| Shard::default()).collect() } }
    }

    /// The covering relations written in one file, each with its `(asset key, threat)`, in
    /// file order (`resolved`: the file's resolved references).
    fn covers_of(
        &self,
        facts: &FileFacts,
        resolved: &Jagged<Resolved>,
        controls: &mut Controls,
    ) -> Vec<PairCover> {
        let mut out = Vec::new();
        let mut text = String::new();
        for (i, ann) in facts.annotations().iter().enumerate() {
            let kind = match &ann.body {
                Body::Mitigates { .. } => CoverKind::Mitigates,
                Body::Accepts { .. } => CoverKind::Accepts,
                // `@transfers T from A to B` covers A; legacy `@transfers T to A` covers A.
                Body::Transfers { .. } => CoverKind::Transfers,
                _ => continue,
            };
            let Some(per_annotation) = resolved.get(i) else { continue };
            let relation = Relation::resolved(ann, &facts.refs[i], per_annotation);
            let Some((Some(a), Some(t))) =
                relation.and_then(|r| r.asset_and_threat()).map(|(a, t)| (a.entity(), t.entity()))
            else {
                continue;
            };
            let control = match &ann.body {
                Body::Mitigates { control: Some(c), .. } => {
                    text.clear();
                    match c.explicit_id() {
                        Some(id) => {
                            text.push('#');
                            text.push_str(&id.value);
                        }
                        // The control as written: an unquoted plain name spans the whole
                        // argument and is its text, read from the annotation at hand (slicing
                        // the file's kept lines, elsewhere in memory, was a tenth of the
                        // analysis on the 20,000-file benchmark).
                        None => match c.form.name_parts() {
                            Some((name, None, None)) if name.range == c.range => {
                                debug_assert_eq!(&*name.value, facts.slice(c.range));
                                text.push_str(&name.value);
                            }
                            _ => text.push_str(facts.slice(c.range)),
                        },
                    }
                    Some(shared(controls, &text))
                }
                _ => None,
            };
            let cover = Cover {
                kind,
                control,
                file: facts.path.clone(),
                annotation: i,
                range: ann.range,
                site: self.site(facts, i),
                nth: out.len() as u32,
            };
            out.push(((a.key, t.clone()), cover));
        }
        out
    }

    /// This index updated for a project where only the files of `changed` were edited
    /// (`(old facts, old resolution, new facts, new resolution)`), when the edits left every
    /// coverage answer as it was: the scope is `file` (no inline symbols, which depend on each
    /// file's text) and every edited file writes the covering relations it wrote before, in
    /// the same order (kind, pair, control, site), at the same places (this index itself) or
    /// at other places in its own file (an index sharing this one's relations, with the edited
    /// files' new places). `None`: the index must be built again.
    pub(super) fn updated<'c>(
        self: &Arc<Self>,
        scope: CoverageScope,
        changed: impl Iterator<Item = (&'c FileFacts, &'c Jagged<Resolved>, &'c FileFacts, &'c Jagged<Resolved>)>,
    ) -> Option<Arc<CoverIndex>> {
        if self.scope != CoverageScope::File || scope != CoverageScope::File {
            return None;
        }
        let mut moved: Vec<(FileId, Vec<Cover>)> = Vec::new();
        for (old, old_resolved, new, new_resolved) in changed {
            let mut controls = Controls::default();
            let before = self.covers_of(old, old_resolved, &mut controls);
            let after = self.covers_of(new, new_resolved, &mut controls);
            if before == after {
                continue;
            }
            let same_relations =
                before.len() == after.len() && before.iter().zip(&after).all(|(a, b)| same_but_place(a, b));
            if !same_relations || old.path != new.path {
                return None;
            }
            moved.push((new.path.clone(), after.into_iter().map(|(_, c)| c).collect()));
        }
        if moved.is_empty() {
            return Some(self.clone());
        }
        // Each moved file costs a lookup per answer: past a few hundred, build again.
        let mut all = self.moved.clone();
        all.extend(moved.into_iter().map(|(file, covers)| (file, Arc::new(covers))));
        (all.len() <= MAX_MOVED_FILES).then(|| {
            Arc::new(CoverIndex {
                scope: self.scope,
                by_pair: self.by_pair.clone(),
                inline_symbols: self.inline_symbols.clone(),
                moved: all,
            })
        })
    }

    /// Whether every exposure has the same coverage answer under `other` as under this
    /// index, but for the places of the relations (`other` was derived from this one by
    /// [`CoverIndex::updated`], or this from `other`, or both from a third).
    pub(super) fn same_answers(&self, other: &CoverIndex) -> bool {
        self.scope == other.scope
            && self.scope == CoverageScope::File
            && Arc::ptr_eq(&self.by_pair, &other.by_pair)
    }

    /// `cover` (an entry of `by_pair`) at its current place.
    fn current<'a>(&'a self, cover: &'a Cover) -> &'a Cover {
        match self.moved.get(&cover.file) {
            Some(now) => now.get(cover.nth as usize).unwrap_or(cover),
            None => cover,
        }
    }

    /// Whether a file's covering relations under this index (`old`, `old_resolved`) and under
    /// `other` (`new`, `new_resolved`) are the same but for their places in their own file
    /// (ranges, annotation indexes), and none is anchored to a symbol: then no other file's
    /// coverage answer differs, since only a relation contradicted by its symbol anchor shows
    /// its place in another file's diagnostics.
    pub(super) fn same_but_places(
        &self,
        (old, old_resolved): (&FileFacts, &Jagged<Resolved>),
        other: &CoverIndex,
        (new, new_resolved): (&FileFacts, &Jagged<Resolved>),
    ) -> bool {
        let mut controls = Controls::default();
        let before = self.covers_of(old, old_resolved, &mut controls);
        let after = other.covers_of(new, new_resolved, &mut controls);
        self.scope == other.scope
            && before.len() == after.len()
            && before.iter().zip(&after).all(|(a, b)| same_but_place(a, b) && a.1.site.symbol.is_none())
    }

    pub(super) fn scope(&self) -> CoverageScope {
        self.scope
    }

    /// The site of annotation `i` of `facts` (see the module rule).
    fn site(&self, facts: &FileFacts, i: usize) -> Site {
        if let Some(anchor) = facts.anchor_of(i) {
            return Site {
                file: anchor.key.as_ref().ok().cloned(),
                symbol: anchor.origin.symbol.as_ref().map(|s| Arc::from(s.value.as_str())),
                qualified: false,
            };
        }
        let symbol = self.inline_symbols.get(&facts.path).and_then(|s| s.get(i).cloned().flatten());
        Site { file: None, symbol, qualified: true }
    }

    fn coverage<'a>(
        &'a self,
        facts: &'a FileFacts,
        i: usize,
        asset: &'a EntityKey,
        threat: &EntityKey,
    ) -> Coverage<'a> {
        let mut out = Coverage::default();
        for (c, contradicted) in self.candidates(facts, i, asset, threat) {
            if contradicted {
                out.contradicted.push(c);
            } else {
                out.covers.push(c);
            }
        }
        if !out.contradicted.is_empty() {
            out.symbol = self.symbol_of(facts, i);
        }
        out
    }

    /// Whether anything covers the exposure: [`CoverIndex::coverage`]'s answer without
    /// listing what covers it (no allocation; stops at the first cover).
    fn is_covered(&self, facts: &FileFacts, i: usize, asset: &EntityKey, threat: &EntityKey) -> bool {
        self.candidates(facts, i, asset, threat).any(|(_, contradicted)| !contradicted)
    }

    /// Every covering relation of `threat` on `asset` or one of its ancestors (nearest first,
    /// each group in project order) for the exposure that is annotation `i` of `facts`, at its
    /// current place, with whether its symbol anchor contradicts the exposure's (the rule).
    fn candidates<'a>(
        &'a self,
        facts: &'a FileFacts,
        i: usize,
        asset: &'a EntityKey,
        threat: &EntityKey,
    ) -> impl Iterator<Item = (&'a Cover, bool)> + 'a {
        let by_asset = self.by_pair.get(threat);
        let site = by_asset.map(|_| self.site(facts, i)).unwrap_or_default();
        by_asset
            .into_iter()
            .flat_map(move |by_asset| {
                // The asset's own key by its handle: a match is then equal handles, compared by
                // address, where comparing texts read the stored key's from memory (a fifth of
                // the findings on the 20,000-file benchmark). Its ancestors are texts.
                let own = by_asset.get(&asset.key);
                own.into_iter().chain(ancestors(&asset.key).filter_map(|a| by_asset.get(a)))
            })
            .flat_map(|bucket| bucket.iter())
            .map(move |c| {
                let c = self.current(c);
                let site_file = site.file.as_ref().unwrap_or(&facts.path);
                (c, contradicts(c, &c.site, site_file, &site))
            })
    }

    /// The symbol annotation `i` of `facts` is anchored to (as [`Self::site`] finds it).
    fn symbol_of<'a>(&'a self, facts: &'a FileFacts, i: usize) -> Option<&'a str> {
        match facts.anchor_of(i) {
            Some(anchor) => anchor.origin.symbol.as_ref().map(|s| s.value.as_str()),
            None => self.inline_symbols.get(&facts.path)?.get(i)?.as_deref(),
        }
    }
}

/// Whether two covering relations with their pairs are the same but for their places in
/// their file (annotation index and range).
fn same_but_place((p, a): &PairCover, (q, b): &PairCover) -> bool {
    p == q && a.kind == b.kind && a.control == b.control && a.file == b.file && a.site == b.site
}

/// True when `cover`'s anchor contradicts the exposure's: same site file, both anchored to a
/// symbol, and the cover's symbol is neither the exposure's nor one around it (a class's
/// cover answers for its methods, a method's not for its class or its siblings).
///
/// A sidecar's `symbol:` names a definition as written, usually bare (`find_expenses`): against
/// an inline symbol it is that definition when the inline chain ends with it
/// (`Repo.find_expenses`); whether it is around or inside another is not known, so it answers
/// only for its own definition.
fn contradicts(cover: &Cover, cover_site: &Site, exposure_file: &FileId, exposure: &Site) -> bool {
    use crate::syntax::symbols::{encloses, ends_with};
    let cover_file = cover_site.file.as_ref().unwrap_or(&cover.file);
    let (Some(a), Some(b)) = (&cover_site.symbol, &exposure.symbol) else { return false };
    let agree = match (cover_site.qualified, exposure.qualified) {
        (true, false) => ends_with(a, b),
        (false, true) => ends_with(b, a),
        _ => encloses(a, b),
    };
    cover_file == exposure_file && !agree
}

impl Analysis {
    /// What covers the exposure that is annotation `annotation` of `file` (an `@exposes`),
    /// by the module's rule; `None` when it is not an exposure of the analysed project or its
    /// asset or threat does not resolve.
    pub fn coverage(&self, file: &str, annotation: usize) -> Option<Coverage<'_>> {
        let facts = self.resolved.facts(file)?;
        let Relation::Exposure { asset, threat } = self.relation(facts, annotation)? else { return None };
        let (asset, threat) = (asset.entity()?, threat.entity()?);
        Some(self.covers.coverage(facts, annotation, asset, threat))
    }

    /// Whether the exposure of `asset` to `threat` that is annotation `annotation` of `facts`
    /// (a file of the analysed project) is covered: [`Analysis::coverage`]'s answer, for a
    /// caller that has the exposure's relation already and needs only the answer.
    pub fn exposure_covered(
        &self,
        facts: &FileFacts,
        annotation: usize,
        asset: &EntityKey,
        threat: &EntityKey,
    ) -> bool {
        self.covers.is_covered(facts, annotation, asset, threat)
    }

    /// The `coverage.scope` this analysis was made with.
    pub fn coverage_scope(&self) -> CoverageScope {
        self.covers.scope()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProjectIndex;
    use crate::syntax::Language;

    const DEFINITIONS: &str = "@asset App.Db (#db)\n@threat SQL injection (#sqli)\n@control Prepared statements (#prepared-stmts)\n";

    /// The files, and GAL definitions of `#db`, `#sqli` and `#prepared-stmts`.
    fn project(files: &[(&str, Language, &str)]) -> ProjectIndex {
        let mut index = ProjectIndex::default();
        let definitions = (".guardlink/definitions.gal", Language::Gal, DEFINITIONS);
        for (path, language, text) in files.iter().chain([&definitions]) {
            index.set_file(Arc::new(FileFacts::new(FileId::relative(*path), *language, Arc::from(*text))));
        }
        index
    }

    /// The open/covered answer of every exposure, as `(file, line)` -> label.
    fn answers(index: &ProjectIndex, scope: CoverageScope) -> Vec<(String, u32, String)> {
        let analysis = Analysis::with_scope(index, scope);
        let mut out = Vec::new();
        for facts in index.files() {
            for (i, ann) in facts.annotations().iter().enumerate() {
                if let Some(c) = analysis.coverage(facts.path.as_str(), i) {
                    let line = facts.line_col(ann.range.start(), crate::text::ColumnUnit::Utf8);
                    out.push((facts.path.to_string(), line.line + 1, c.label()));
                }
            }
        }
        out
    }

    const SIDECAR: &str = "\
@source file:app/db.py line:1 symbol:find_expenses
@exposes #db to #sqli [critical] -- \"string-built SELECT\"
@source file:app/db.py line:5 symbol:insert_expense
@mitigates #db against #sqli using #prepared-stmts
";

    #[test]
    fn different_symbols_in_one_file_do_not_cover() {
        let index = project(&[(".guardlink/annotations/app/db.py.gal", Language::Gal, SIDECAR)]);
        let got = answers(&index, CoverageScope::File);
        assert_eq!(got, [(".guardlink/annotations/app/db.py.gal".into(), 2, "unmitigated".into())]);
    }

    #[test]
    fn same_symbol_other_file_or_unanchored_covers() {
        for mitigation in [
            // The same symbol.
            "@source file:app/db.py line:1 symbol:find_expenses\n",
            // Another file: a control upstream.
            "@source file:app/guard.py line:5 symbol:insert_expense\n",
            // No symbol: an asset-level statement.
            "@source file:app/db.py line:5\n",
        ] {
            let text = SIDECAR.replace("@source file:app/db.py line:5 symbol:insert_expense\n", mitigation);
            let index = project(&[(".guardlink/annotations/app/db.py.gal", Language::Gal, &text)]);
            let got = answers(&index, CoverageScope::File);
            assert_eq!(got[0].2, "mitigated by #prepared-stmts", "{mitigation}");
        }
        // Two sidecars naming one source file are the same file.
        let exposure = "@source file:app/db.py line:1 symbol:find_expenses\n@exposes #db to #sqli\n";
        let mitigation =
            "@source file:app/db.py line:5 symbol:insert_expense\n@mitigates #db against #sqli using #ps\n";
        let index = project(&[
            (".guardlink/annotations/a.gal", Language::Gal, exposure),
            (".guardlink/annotations/b.gal", Language::Gal, mitigation),
        ]);
        assert_eq!(answers(&index, CoverageScope::File)[0].2, "unmitigated");
    }

    const INLINE: &str = "\
def find_expenses(q):
    # @exposes #db to #sqli [critical]
    return run(\"SELECT \" + q)


# @mitigates #db against #sqli using #prepared-stmts
def insert_expense(e):
    return run(\"INSERT ?\", e)
";

    #[test]
    fn inline_annotations_are_narrowed_only_with_the_symbol_scope() {
        let index = project(&[("app/db.py", Language::Python, INLINE)]);
        assert_eq!(answers(&index, CoverageScope::File)[0].2, "mitigated by #prepared-stmts");
        assert_eq!(answers(&index, CoverageScope::Symbol)[0].2, "unmitigated");
        // An ancestor's mitigation in the same function covers under both scopes.
        let same = INLINE.replace(
            "    return run(\"SELECT \" + q)",
            "    # @accepts #sqli on App -- \"read-only replica\"\n    return run(\"SELECT \" + q)",
        );
        let index = project(&[("app/db.py", Language::Python, &same)]);
        assert_eq!(answers(&index, CoverageScope::Symbol)[0].2, "accepted");
    }

    /// A covering relation's control is its argument as written (the id for a control
    /// written with one): a plain name, read from the annotation, and a quoted one, with a
    /// path or an id, read from the file.
    #[test]
    fn a_covers_control_is_its_argument_as_written() {
        for (control, written) in [
            ("Input  validation", "Input  validation"),
            ("Shop.Filters", "Shop.Filters"),
            (r#""Input \"strict\" validation""#, r#""Input \"strict\" validation""#),
            ("Input validation (#iv)", "#iv"),
            ("#prepared-stmts", "#prepared-stmts"),
        ] {
            let text = format!("# @exposes #db to #sqli\n# @mitigates #db against #sqli using {control}\n");
            let index = project(&[("app/db.py", Language::Python, &text)]);
            let got = answers(&index, CoverageScope::File);
            assert_eq!(got, [("app/db.py".into(), 1, format!("mitigated by {written}"))], "{control}");
        }
    }

    /// A cover's file, annotation index and range.
    type CoverPlace = (FileId, usize, TextRange);

    /// Every exposure's covers with their places, for comparing an analysis with a fresh one.
    fn places(index: &ProjectIndex, analysis: &Analysis) -> Vec<(String, usize, Vec<CoverPlace>)> {
        let mut out = Vec::new();
        for facts in index.files() {
            for i in 0..facts.annotations().len() {
                if let Some(c) = analysis.coverage(facts.path.as_str(), i) {
                    let covers = c.covers.iter().map(|c| (c.file.clone(), c.annotation, c.range)).collect();
                    out.push((facts.path.to_string(), i, covers));
                }
            }
        }
        out
    }

    #[test]
    fn typing_above_covers_keeps_the_index_and_answers_at_the_new_places() {
        let exposure = ("app/api.py", Language::Python, "# @exposes #db to #sqli\n");
        let cover = "# @mitigates #db against #sqli using #prepared-stmts\n# @accepts #sqli on #db\n";
        let mut index = project(&[exposure, ("app/db.py", Language::Python, cover)]);
        let mut previous = Analysis::new(&index);
        let first = previous.covers.clone();
        // Typing a dangling id above the covers, one character at a time, then a comment line.
        for typed in ["# @exposes #db to #t\n", "# @exposes #db to #ta\n", "# note\n# x\n"] {
            let text = format!("{typed}{cover}");
            index.set_file(Arc::new(FileFacts::new(
                FileId::relative("app/db.py"),
                Language::Python,
                Arc::from(text),
            )));
            let next = Analysis::update(Some(&previous), &index);
            assert!(next.covers.same_answers(&first), "{typed:?}: the index was built again");
            assert_eq!(places(&index, &next), places(&index, &Analysis::new(&index)), "{typed:?}");
            previous = next;
        }
        // A cover that changes what it covers: the index is built again.
        index.set_file(Arc::new(FileFacts::new(
            FileId::relative("app/db.py"),
            Language::Python,
            Arc::from("# @accepts #sqli on #db\n"),
        )));
        let next = Analysis::update(Some(&previous), &index);
        assert!(!next.covers.same_answers(&first));
        assert_eq!(places(&index, &next), places(&index, &Analysis::new(&index)));
    }

    /// Under the symbol scope, an edit that moves a cover into the exposure's function (the
    /// annotations and their covers unchanged but for their places) changes the answer: the
    /// analysis updated from the previous one answers as a fresh one.
    #[test]
    fn a_cover_moved_into_the_exposures_function_covers_it_after_an_update() {
        let apart = "def a():\n    # @exposes #db to #sqli\n    pass\ndef b():\n    # @mitigates #db against #sqli using #prepared-stmts\n    pass\n";
        let together = "def a():\n    # @exposes #db to #sqli\n    pass\n    # @mitigates #db against #sqli using #prepared-stmts\n    pass\n";
        let mut index = project(&[("app/db.py", Language::Python, apart)]);
        let previous = Analysis::with_scope(&index, CoverageScope::Symbol);
        let label = |a: &Analysis, index: &ProjectIndex| {
            let facts = index.file("app/db.py").expect("the file");
            let i = facts.annotations().iter().position(|a| matches!(a.body, Body::Exposes { .. })).unwrap();
            a.coverage("app/db.py", i).expect("an exposure").label()
        };
        assert_eq!(label(&previous, &index), "unmitigated");
        index.set_file(Arc::new(FileFacts::new(
            FileId::relative("app/db.py"),
            Language::Python,
            Arc::from(together),
        )));
        let next = Analysis::update_with_scope(Some(&previous), &index, CoverageScope::Symbol);
        assert_eq!(
            label(&Analysis::with_scope(&index, CoverageScope::Symbol), &index),
            "mitigated by #prepared-stmts"
        );
        assert_eq!(label(&next, &index), "mitigated by #prepared-stmts");
    }

    /// A pair as `by_pair` keys it: by threat, then by asset key.
    type ByThreat = (EntityKey, Interned);

    /// The index an analysis makes in its resolving pass (each file's relations made in the
    /// job that resolves it, the windows added in index order) is the one built afterwards
    /// from the resolutions, under both scopes, over several windows of files.
    #[test]
    fn the_index_made_while_resolving_equals_the_one_built_from_the_resolutions() {
        let index = crate::analysis::tests::generated(2 * WINDOW + 300);
        for scope in [CoverageScope::File, CoverageScope::Symbol] {
            let analysis = Analysis::with_scope(&index, scope);
            let built = CoverIndex::new(&index, &analysis.resolved, scope);
            let pairs = |covers: &CoverIndex| {
                let mut out: Vec<(ByThreat, Vec<Cover>)> = Vec::new();
                for (threat, by_asset) in covers.by_pair.iter() {
                    for (asset, covers) in by_asset {
                        out.push(((threat.clone(), *asset), covers.clone()));
                    }
                }
                out.sort_by(|(a, _), (b, _)| Ord::cmp(a, b));
                out
            };
            let got = pairs(&analysis.covers);
            assert!(got.len() > 100 && got.iter().any(|(_, covers)| covers.len() > 3), "{scope:?}");
            assert_eq!(got, pairs(&built), "{scope:?}");
            assert_eq!(analysis.covers.inline_symbols, built.inline_symbols, "{scope:?}");
        }
    }

    #[test]
    fn the_index_built_in_parts_holds_every_cover_in_project_order_with_one_copy_per_control() {
        let index = crate::analysis::tests::generated(1500);
        let analysis = Analysis::new(&index);
        // The index as one pass over the files in index order builds it.
        let mut controls = Controls::default();
        type Pairs = Vec<((EntityKey, Interned), Vec<Cover>)>;
        let mut expected: Pairs = Vec::new();
        for facts in index.files() {
            let per_file = &analysis.resolved[&facts.path];
            for ((asset, threat), cover) in analysis.covers.covers_of(facts, per_file, &mut controls) {
                let pair = (threat, asset);
                match expected.iter_mut().find(|(p, _)| *p == pair) {
                    Some((_, covers)) => covers.push(cover),
                    None => expected.push((pair, vec![cover])),
                }
            }
        }
        let mut got: Pairs = Vec::new();
        for (threat, by_asset) in analysis.covers.by_pair.iter() {
            for (asset, covers) in by_asset {
                got.push(((threat.clone(), *asset), covers.clone()));
            }
        }
        let by_pair = |(a, _): &(_, _), (b, _): &(_, _)| Ord::cmp(a, b);
        expected.sort_by(by_pair);
        got.sort_by(by_pair);
        assert!(expected.len() > 100 && expected.iter().any(|(_, covers)| covers.len() > 3));
        assert_eq!(got, expected);
        let named = analysis.covers.by_pair.values().flat_map(|a| a.values()).flatten();
        let controls: std::collections::BTreeSet<&str> =
            named.filter_map(|cover| cover.control.as_deref()).collect();
        assert_eq!(controls.len(), 5, "{controls:?}");
    }
}
