//! Analysis: what the project's annotations mean, in editor-neutral terms.
//!
//! Owns: resolving every reference of the project once ([`Analysis`]) and reading each
//! annotation's resolved arguments by role ([`relations`]: [`Relation`]), the diagnostics
//! ([`diagnostics`], computed once per analysis, with the bounded "did you mean" search of
//! `suggest`), the summary counts ([`Summary`]) and the IDE features ([`ide`]:
//! completion, definition, references, rename, hover, symbols, code actions, semantic tokens,
//! inlay hints), the coverage rule ([`coverage`]: is an exposure covered, and by what; every
//! surface asks it), the severity rule (`severity`), the project's coverage status
//! ([`status`]), the model diff between two analysed projects ([`diff`]), the STRIDE mapping
//! ([`stride`]), finding fingerprints ([`fingerprint`]), the rule pairing the findings of two
//! runs ([`pairing`]), baselines ([`baseline`]: which findings are new) and the query
//! language the MCP server answers ([`query`]), the repository's own MCP surface
//! ([`mcp_surface`]: its servers and tools, shadowing, the pin file) and the risk register
//! ([`risk`]: rating, band, owner, status and due date of each exposure; `unowned-risk` and
//! `overdue-risk`), the resources of the infrastructure code no annotation names
//! ([`unmodelled`]: `unmodelled-resource`, from resources the shells hand in), and the indexes
//! the per-entity IDE queries read ([`mentions`]), all as plain data. [`Analysis::update`] is
//! the incremental path: edited files are resolved again, in a table of every file's
//! resolution that shares all but the edited files' chunks with the previous analysis
//! ([`resolutions`]); the project-wide facts (used entities, stated severities, dangling
//! references), the coverage index, the risk tables and each unedited file's own diagnostics
//! and risk findings are kept when the edits cannot have changed them (found without walking
//! every file), and everything else a revision needs is rebuilt (or built lazily).
//! Must never: do I/O, know LSP, JSON-RPC or terminal types, or ask for an analysis's parts
//! computed once (`OnceLock`, `Mutex`: the diagnostics, the risk findings and tables, the
//! mentions) from inside a rayon job: a pool thread waiting there can hold, lower on its
//! stack, a piece of the very computation it waits for (see [`Analysis::diagnostics_with_risk`]).

mod anchors;
pub mod baseline;
pub mod coverage;
mod diagnostics;
pub mod diff;
pub mod fingerprint;
pub mod ide;
pub mod mcp_surface;
pub mod mentions;
pub mod pairing;
pub mod query;
pub mod relations;
pub mod resolutions;
pub mod risk;
mod severity;
pub mod status;
pub mod stride;
mod suggest;
pub mod unmodelled;

pub use coverage::{Cover, CoverKind, Coverage, CoverageScope};
pub use relations::{Arg, Relation, SidesBasis, boundary_orientation, boundary_sides};
pub use resolutions::{Resolution, Resolutions};
pub use severity::StatedSeverity;

use crate::diagnostic::{Diagnostic, Level};
use crate::file_id::FileId;
use crate::model::FileFacts;
use crate::model::{EntityKey, Interned, Jagged, ProjectIndex, Resolved};
use crate::syntax::{Body, EntityKind};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// Counts for `check`'s summary. Field names are public (the JSON output's `summary`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files_scanned: usize,
    pub files_with_annotations: usize,
    pub annotations: usize,
    pub assets: usize,
    pub threats: usize,
    pub controls: usize,
    pub mitigations: usize,
    pub exposures: usize,
    pub confirmed: usize,
    pub acceptances: usize,
    pub transfers: usize,
    pub flows: usize,
    pub boundaries: usize,
    pub reviews: usize,
    pub tests: usize,
    pub assumptions: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

/// Whether [`Analysis::diagnostics_with_risk`] keeps the project's diagnostics for a later
/// call (the language server's and MCP server's analyses answer many requests) or hands
/// them over (`check` asks once).
#[derive(Clone, Copy)]
enum Keep {
    ForLater,
    Nothing,
}

/// Every reference of the project resolved once, plus the facts the checks share.
#[derive(Debug, Default)]
pub struct Analysis {
    /// `resolved[file][annotation][argument]`, parallel to `FileFacts::refs`, with the facts
    /// each file was resolved from (shared with the previous analysis but for the edited
    /// files: [`Resolutions`]). Read an annotation's arguments by role through
    /// [`Analysis::relation`], never by position.
    pub resolved: Resolutions,
    /// Dangling references: file, the argument, the id.
    pub dangling: Vec<(FileId, crate::model::RefFact, Interned)>,
    /// Entities referenced by at least one annotation other than their own definition
    /// (shared with the previous analysis when no edit changed a file's share).
    pub used: Arc<HashSet<EntityKey>>,
    /// Severity given on a threat's definition (the highest if several), as written (shared
    /// like `used`).
    pub threat_severity: Arc<HashMap<EntityKey, StatedSeverity>>,
    /// The covering relations by `(asset key, threat)`: the coverage rule's index (shared with
    /// the previous analysis when no edit changed a covering relation).
    covers: Arc<coverage::CoverIndex>,
    /// The index's tables revision, so [`Analysis::update`] can tell what it may reuse.
    tables_revision: u64,
    /// The project's diagnostics, computed on first use: their "did you mean" searches are
    /// the costly part, and pulled reports and every code action would otherwise repeat them.
    diagnostics: OnceLock<Vec<Diagnostic>>,
    /// Work done for "did you mean" suggestions by this analysis (see `suggest`).
    suggestion_work: AtomicUsize,
    /// Each file's own diagnostics and what they were computed under
    /// ([`diagnostics::Local`]), on first use; `carried` is the latest earlier analysis's,
    /// which the files left as they were take theirs from when nothing they depend on changed.
    local: OnceLock<Arc<diagnostics::Local>>,
    carried: Option<Arc<diagnostics::Local>>,
    /// Which annotations name each entity, built on first use ([`mentions::Mentions`]) from
    /// the latest earlier analysis's (`carried_mentions`, taken when used) where it can be.
    mentions: OnceLock<Arc<mentions::Mentions>>,
    carried_mentions: std::sync::Mutex<Option<Arc<mentions::Mentions>>>,
    /// The risk register's per-threat and ownership tables, built on first use or kept from
    /// `carried_risk`'s.
    risk_tables: OnceLock<Arc<risk::Tables>>,
    /// Each file's risk findings for the latest policies and date asked ([`risk::Local`]);
    /// `carried_risk` is the latest earlier analysis's, which unedited files take theirs from.
    risk_local: std::sync::Mutex<Option<Arc<risk::Local>>>,
    carried_risk: Option<Arc<risk::Local>>,
    /// The entity hovers made from this analysis so far, and the earlier analyses' it may take
    /// over ([`ide::hover::EntityHovers`]).
    entity_hovers: ide::hover::EntityHovers,
    /// The model summary's counts ([`ModelCounts`]) when [`ProjectFacts::of`] walked every
    /// file for this analysis; `None` when the project-wide facts were kept from the previous
    /// analysis ([`Analysis::model_summary`] then counts them itself).
    model_counts: Option<Summary>,
}

impl Analysis {
    pub fn new(index: &ProjectIndex) -> Analysis {
        Self::update(None, index)
    }

    /// [`Analysis::new`] with a `coverage.scope` other than the default.
    pub fn with_scope(index: &ProjectIndex, scope: CoverageScope) -> Analysis {
        Self::update_with_scope(None, index, scope)
    }

    /// The analysis of `index`, reusing `previous` where it is still valid: when no file's
    /// contributions to the resolution tables changed since `previous` was made, every file
    /// whose facts are the same `Arc` keeps its resolved references and only the edited files
    /// are resolved again. The result equals [`Analysis::new`] (a property test checks it).
    pub fn update(previous: Option<&Analysis>, index: &ProjectIndex) -> Analysis {
        Self::update_with_scope(previous, index, CoverageScope::default())
    }

    /// [`Analysis::update`] with the given `coverage.scope`.
    pub fn update_with_scope(
        previous: Option<&Analysis>,
        index: &ProjectIndex,
        scope: CoverageScope,
    ) -> Analysis {
        use rayon::prelude::*;
        let reusable = previous.filter(|p| p.tables_revision == index.tables_revision());
        let files: Vec<&Arc<FileFacts>> = index.files().collect();
        // Each worker resolves with its own memo of the keys it has resolved (`Resolver`).
        fn resolve<'i>(resolver: &mut crate::model::Resolver<'i>, facts: &'i FileFacts) -> Resolution {
            let mut resolved = crate::model::Jagged::with_capacity(facts.refs.len(), facts.refs.flat().len());
            for refs in &facts.refs {
                resolved.push(refs.iter().map(|fact| resolver.resolve(fact)));
            }
            Arc::new(resolved)
        }
        let mut analysis =
            Analysis {
                tables_revision: index.tables_revision(),
                carried: previous.and_then(|p| p.local.get().or(p.carried.as_ref()).cloned()),
                carried_risk: previous
                    .and_then(|p| p.risk_local.lock().ok()?.clone().or_else(|| p.carried_risk.clone())),
                carried_mentions: std::sync::Mutex::new(previous.and_then(|p| {
                    p.mentions.get().cloned().or_else(|| p.carried_mentions.lock().ok()?.clone())
                })),
                ..Analysis::default()
            };
        // The same files in the same order under the same tables: only the edited ones are
        // resolved again, and the rest of `previous` is kept where the edits allow.
        if let Some(prev) = reusable
            && let Some(edited) = prev.resolved.edited_in(&files)
        {
            let new: Vec<(usize, Resolution)> =
                edited.par_iter().map_init(|| index.resolver(), |r, &k| (k, resolve(r, files[k]))).collect();
            analysis.resolved =
                prev.resolved.with_replaced(new.iter().map(|(k, r)| (*k, files[*k].clone(), r.clone())));
            // Each edited file as it was and as it is, with its resolutions.
            let changed: Vec<Edited<'_>> = new
                .iter()
                .map(|(k, new_resolved)| {
                    let (old, old_resolved) = prev.resolved.at(*k);
                    (&**old, &**old_resolved, &**files[*k], &**new_resolved)
                })
                .collect();
            // Every edited file shows the project what it showed it: the project-wide facts
            // are kept, with each edited file's dangling references replaced.
            if changed.iter().all(|(old, old_r, new, new_r)| Share::of(old, old_r) == Share::of(new, new_r)) {
                analysis.used = prev.used.clone();
                analysis.threat_severity = prev.threat_severity.clone();
                analysis.dangling = prev.dangling.clone();
                for (_, _, facts, per_file) in &changed {
                    // `dangling` is in index order (by file): replace the file's run.
                    let from = analysis.dangling.partition_point(|(f, _, _)| *f < facts.path);
                    let to = from
                        + analysis.dangling[from..].iter().take_while(|(f, _, _)| *f == facts.path).count();
                    let mut now = Vec::new();
                    visit_share(
                        facts,
                        per_file,
                        |fact, id| now.push((facts.path.clone(), fact.clone(), *id)),
                        |_| {},
                        |_, _| {},
                    );
                    analysis.dangling.splice(from..to, now);
                }
            } else {
                analysis.project_facts();
            }
            analysis.covers = match prev.covers.updated(scope, changed.into_iter()) {
                Some(covers) => covers,
                None => Arc::new(coverage::CoverIndex::new(index, &analysis.resolved, scope)),
            };
            // The same tables, coverage answers and stated severities: each entity's hover is
            // taken over where it read what is still there (`ide::hover::EntityHovers`).
            if prev.covers.same_answers(&analysis.covers)
                && Arc::ptr_eq(&prev.threat_severity, &analysis.threat_severity)
            {
                analysis.entity_hovers = ide::hover::EntityHovers::from_carried(prev.entity_hovers.carried());
            }
            return analysis;
        }
        // Resolution is read-only per file: resolve (what cannot be reused) in parallel, and
        // in the same job, while the file's facts and resolution are in the cache, add its
        // share of the project-wide facts and make its covering relations. One pass over the
        // files instead of three (resolve, the project-wide facts, the coverage index), a
        // window of files at a time so few relations are in flight; the windows' relations go
        // to the coverage index in index order.
        //
        // Each pool thread keeps its resolver (and its memo), its controls' texts and the
        // facts whose order does not matter (sets and counts: `ProjectFacts::add_apart`)
        // across every part it runs, in its own `Worker` (locked by that thread only, and never
        // while it could wait for another job); the facts that depend on the files' order
        // (dangling references, stated severities) go to each part's own, joined in order.
        let workers: Vec<std::sync::Mutex<Worker<'_>>> = (0..rayon::current_num_threads().max(1))
            .map(|_| {
                std::sync::Mutex::new(Worker {
                    resolver: index.resolver(),
                    controls: coverage::Controls::default(),
                    facts: ProjectFacts::default(),
                })
            })
            .collect();
        let mut covers = coverage::CoverIndex::builder(index, scope);
        let (making, added) = covers.parts();
        // The window of `files` from `start`.
        let pass = |start: usize| -> Vec<PassPart> {
            files[start..files.len().min(start + coverage::WINDOW)]
                .par_chunks(PASS_PART)
                .map(|chunk| {
                    let slot = rayon::current_thread_index().unwrap_or(0) % workers.len();
                    let mut worker = workers[slot].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let Worker { resolver, controls, facts: unordered } = &mut *worker;
                    let mut done = PassPart {
                        files: Vec::with_capacity(chunk.len()),
                        covers: Vec::with_capacity(chunk.len()),
                        facts: ProjectFacts::default(),
                    };
                    for facts in chunk {
                        let kept = reusable.and_then(|prev| {
                            let k = prev.resolved.position(&facts.path)?;
                            let (old, r) = prev.resolved.at(k);
                            Arc::ptr_eq(old, facts).then(|| r.clone())
                        });
                        let per_file = kept.unwrap_or_else(|| resolve(resolver, facts));
                        unordered.add_apart(&mut done.facts, facts, &per_file);
                        done.covers.push(making.file_covers(facts, &per_file, controls));
                        done.files.push(((*facts).clone(), per_file));
                    }
                    done
                })
                .collect()
        };
        let mut resolved: Vec<(Arc<FileFacts>, Resolution)> = Vec::with_capacity(files.len());
        let mut in_order = ProjectFacts::default();
        // A window's parts are taken in, in index order, while the next window is resolved:
        // taken in after it, alone, they left the other core waiting at every window.
        let mut take_in = |done: Vec<PassPart>| {
            let mut window_covers = Vec::with_capacity(done.iter().map(|d| d.covers.len()).sum());
            for done in done {
                resolved.extend(done.files);
                window_covers.extend(done.covers);
                in_order = std::mem::take(&mut in_order).then(done.facts);
            }
            added.add(window_covers);
        };
        let resolve_all = || {
            let mut windows = (0..files.len()).step_by(coverage::WINDOW);
            let mut last: Option<Vec<PassPart>> = None;
            loop {
                let window = windows.next();
                if window.is_none() && last.is_none() {
                    break;
                }
                let (done, ()) = rayon::join(|| window.map(pass), || last.take().map_or((), &mut take_in));
                last = done;
            }
        };
        // The files' position table is made meanwhile (made after, it was 2-3 ms on one core
        // of the 20,000-file benchmark).
        let like = previous.map(|p| &p.resolved);
        let (positions, ()) =
            rayon::join(|| Resolutions::positions_of(files.iter().copied(), files.len(), like), resolve_all);
        analysis.resolved = Resolutions::with_positions(resolved, positions);
        // The threads' sets and counts hold no dangling reference or severity: joined in any
        // order after the parts' ones.
        let facts = workers
            .into_iter()
            .map(|w| w.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner).facts)
            .fold(in_order, ProjectFacts::then);
        analysis.set_project_facts(facts);
        analysis.covers = Arc::new(covers.finish());
        analysis
    }

    /// The project-wide facts (dangling references, used entities, stated severities) from
    /// every file's resolution.
    fn project_facts(&mut self) {
        self.set_project_facts(ProjectFacts::of(&self.resolved));
    }

    fn set_project_facts(&mut self, facts: ProjectFacts) {
        self.dangling = facts.dangling;
        // Gathered from every file's resolution in this analysis: the summary's counts.
        self.model_counts = Some(facts.model.finish(&facts.used));
        self.used = Arc::new(facts.used);
        self.threat_severity = Arc::new(facts.threat_severity);
    }
}

/// The project-wide facts of some consecutive files (in index order): what
/// [`Analysis::project_facts`] gathers, in parts on every core and then joined in order.
#[derive(Debug, Default)]
struct ProjectFacts {
    dangling: Vec<(FileId, crate::model::RefFact, Interned)>,
    used: HashSet<EntityKey>,
    threat_severity: HashMap<EntityKey, StatedSeverity>,
    /// The keys of `used` as added ([`SeenKeys`]).
    seen: SeenKeys,
    /// What the model summary counts, gathered in the same walk over the files.
    model: ModelCounts,
}

/// Some of the entity keys already put in a set, by their kind and the address of their
/// interned text (`model::Interned`: one address per text): a project names a few thousand
/// entities hundreds of thousands of times, and finding the address in a small direct-mapped
/// table (a slot per address hash, the latest key kept) is cheaper than hashing the text. A
/// key found here is in the set already; one not found may be too (evicted): the set is asked.
#[derive(Debug, Default)]
struct SeenKeys(Vec<u64>);

impl SeenKeys {
    /// Slots (a power of two).
    const SLOTS: usize = 1024;

    /// Whether `e` is known to be in the set; when not, it is remembered (the caller puts it
    /// in the set).
    fn known(&mut self, e: &EntityKey) -> bool {
        if self.0.is_empty() {
            self.0.resize(Self::SLOTS, 0);
        }
        // The kind in the low 3 bits (it is below 5), above them the address (never 0: no
        // tag is the empty slot's).
        let tag = ((e.key.address() as u64) << 3) | e.kind.index() as u64;
        let slot = (tag.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - Self::SLOTS.trailing_zeros())) as usize;
        std::mem::replace(&mut self.0[slot], tag) == tag
    }
}

/// Files per part of [`ProjectFacts::of`] at least: fewer, larger parts to join.
const FACTS_PART: usize = 256;

/// Files per part of the resolving pass of [`Analysis::update_with_scope`]: small, so the
/// parts of a window keep both cores busy (a part holds only its files' dangling references
/// and stated severities besides their resolutions and covering relations).
const PASS_PART: usize = 32;

/// What one pool thread keeps across the parts of the resolving pass of
/// [`Analysis::update_with_scope`] it runs: its resolver, the controls' texts of the covering
/// relations it made, and the project-wide facts of its files whose order does not matter.
struct Worker<'i> {
    resolver: crate::model::Resolver<'i>,
    controls: coverage::Controls,
    facts: ProjectFacts,
}

/// What one part of the resolving pass of [`Analysis::update_with_scope`] made of its files
/// (consecutive, in index order): each file with its resolution, its covering relations, and
/// the part's project-wide facts that depend on the files' order (`ProjectFacts::add_apart`).
struct PassPart {
    files: Vec<(Arc<FileFacts>, Resolution)>,
    covers: Vec<coverage::FileCovers>,
    facts: ProjectFacts,
}

/// Every file's facts and resolution added into parts of `T` on every core ([`FACTS_PART`]
/// files at least each), the parts joined in index order by `then`.
fn fold_files<T: Default + Send>(
    resolved: &Resolutions,
    add: impl Fn(&mut T, &FileFacts, &Resolution) + Sync + Send,
    then: impl Fn(T, T) -> T + Sync + Send,
) -> T {
    use rayon::prelude::*;
    let files: Vec<(&Arc<FileFacts>, &Resolution)> = resolved.iter().collect();
    files
        .par_iter()
        .with_min_len(FACTS_PART)
        .fold(T::default, |mut part, (facts, per_file)| {
            add(&mut part, facts, per_file);
            part
        })
        .reduce(T::default, then)
}

impl ProjectFacts {
    /// Every file's facts, in parts on every core; equal to adding the files one by one
    /// ([`ProjectFacts::add`]) in index order.
    fn of(resolved: &Resolutions) -> ProjectFacts {
        fold_files(
            resolved,
            |part: &mut ProjectFacts, facts, per_file| part.add(facts, per_file),
            ProjectFacts::then,
        )
    }

    /// One more file's facts: those that depend on the files' order (its dangling references
    /// and stated severities) added to `in_order`, after those already there, and the rest
    /// (entities used, the model counts: sets and sums) to these facts, which may have
    /// gathered any other files'.
    fn add_apart(&mut self, in_order: &mut ProjectFacts, facts: &FileFacts, per_file: &Jagged<Resolved>) {
        let ProjectFacts { dangling, threat_severity, .. } = in_order;
        self.add_to(dangling, threat_severity, facts, per_file);
    }

    /// One more file's facts, after those already added.
    fn add(&mut self, facts: &FileFacts, per_file: &Jagged<Resolved>) {
        let (mut dangling, mut severities) =
            (std::mem::take(&mut self.dangling), std::mem::take(&mut self.threat_severity));
        self.add_to(&mut dangling, &mut severities, facts, per_file);
        (self.dangling, self.threat_severity) = (dangling, severities);
    }

    /// One more file's facts: its dangling references and stated severities to `dangling`
    /// and `severities`, the entities it uses and its counts to these facts.
    fn add_to(
        &mut self,
        dangling: &mut Vec<(FileId, crate::model::RefFact, Interned)>,
        severities: &mut HashMap<EntityKey, StatedSeverity>,
        facts: &FileFacts,
        per_file: &Jagged<Resolved>,
    ) {
        visit_share(
            facts,
            per_file,
            |fact, id| dangling.push((facts.path.clone(), fact.clone(), *id)),
            |e| {
                if !self.seen.known(e) && !self.used.contains(e) {
                    self.used.insert(e.clone());
                }
            },
            |e, sev| stated(severities, e, sev),
        );
        self.model.add(facts, per_file);
    }

    /// These facts followed by `later`'s (of the files right after these): the same as
    /// adding `later`'s files after these ones.
    fn then(mut self, later: ProjectFacts) -> ProjectFacts {
        self.dangling.extend(later.dangling);
        // A union: the larger set takes the smaller one's entities.
        let (mut used, other) = if self.used.len() >= later.used.len() {
            (std::mem::take(&mut self.used), later.used)
        } else {
            (later.used, std::mem::take(&mut self.used))
        };
        used.extend(other);
        self.used = used;
        for (e, sev) in later.threat_severity {
            stated(&mut self.threat_severity, &e, sev);
        }
        self.model = std::mem::take(&mut self.model).then(later.model);
        self
    }
}

/// What [`Analysis::model_summary`] counts of some consecutive files: the files with
/// annotations, the annotations by kind, and what the distinct entities the references
/// resolve to need besides the project's `used` set, which holds most of them: gathered in
/// parts on every core and joined ([`ModelCounts::then`]), like [`ProjectFacts`], whose walk
/// over every file's resolution gathers it on a full analysis.
///
/// The entities counted are those some reference resolves to (`Resolved::Entity`; an
/// external entity is not counted). `used` holds those of every reference but a definition's
/// own and a description's, external ones included: so the counted entities are `used`
/// without the external ones, plus the entities of definitions and descriptions (`named`).
/// An external entity's key is its tag with its `#` (`ProjectIndex::resolve`): an entity of
/// the project whose key starts with `#` is in `named` too, so one that an external
/// reference also names is still counted.
#[derive(Debug, Default)]
struct ModelCounts {
    /// The counts of the annotations (`files_scanned` and the levels are not known here).
    summary: Summary,
    /// The entities of references that `used` leaves out (a definition's own, a
    /// description's), and those whose key starts with `#`.
    named: HashSet<EntityKey>,
    /// The keys of `named` as added ([`SeenKeys`]).
    seen: SeenKeys,
    /// The external entities that `used` holds.
    external: HashSet<EntityKey>,
}

impl ModelCounts {
    /// One more file's counts.
    fn add(&mut self, facts: &FileFacts, per_file: &Jagged<Resolved>) {
        let s = &mut self.summary;
        if !facts.annotations().is_empty() {
            s.files_with_annotations += 1;
        }
        for ann in facts.annotations() {
            s.annotations += 1;
            match &ann.body {
                Body::Mitigates { .. } => s.mitigations += 1,
                Body::Exposes { .. } => s.exposures += 1,
                Body::Confirmed { .. } => s.confirmed += 1,
                Body::Accepts { .. } => s.acceptances += 1,
                Body::Transfers { .. } => s.transfers += 1,
                Body::Flows { .. } => s.flows += 1,
                Body::Boundary { .. } | Body::Alias { kind: EntityKind::Boundary, .. } => s.boundaries += 1,
                Body::Audit { .. } => s.reviews += 1,
                Body::Validates { .. } => s.tests += 1,
                Body::Assumes { .. } => s.assumptions += 1,
                _ => {}
            }
        }
        for (i, (refs, results)) in facts.refs.iter().zip(per_file).enumerate() {
            let describes = matches!(facts.annotations()[i].body, Body::Describe { .. });
            for (fact, r) in refs.iter().zip(results) {
                // `visit_share`'s rule of what `used` holds.
                let in_used = !fact.defines && !describes;
                match r {
                    Resolved::Entity(e) if !in_used || e.key.starts_with('#') => self.name(e),
                    Resolved::External(e) if in_used && !self.external.contains(&**e) => {
                        self.external.insert((**e).clone());
                    }
                    _ => {}
                }
            }
        }
    }

    /// Puts `e` in `named` (if it is not there yet).
    fn name(&mut self, e: &EntityKey) {
        if !self.seen.known(e) && !self.named.contains(e) {
            self.named.insert(e.clone());
        }
    }

    /// These counts followed by `later`'s (the files right after these).
    fn then(mut self, later: ModelCounts) -> ModelCounts {
        let (a, b) = (&mut self.summary, &later.summary);
        a.files_with_annotations += b.files_with_annotations;
        a.annotations += b.annotations;
        a.mitigations += b.mitigations;
        a.exposures += b.exposures;
        a.confirmed += b.confirmed;
        a.acceptances += b.acceptances;
        a.transfers += b.transfers;
        a.flows += b.flows;
        a.boundaries += b.boundaries;
        a.reviews += b.reviews;
        a.tests += b.tests;
        a.assumptions += b.assumptions;
        // Unions: the larger set takes the smaller one's entities.
        fn union(a: &mut HashSet<EntityKey>, b: HashSet<EntityKey>) {
            let (mut larger, smaller) =
                if a.len() >= b.len() { (std::mem::take(a), b) } else { (b, std::mem::take(a)) };
            larger.extend(smaller);
            *a = larger;
        }
        union(&mut self.named, later.named);
        union(&mut self.external, later.external);
        self
    }

    /// The summary's model counts (`files_scanned` 0, no levels counted), with `used` the
    /// project's (`ProjectFacts::used`) of the same files.
    fn finish(self, used: &HashSet<EntityKey>) -> Summary {
        let mut s = self.summary;
        let counted = used.iter().filter(|e| !self.external.contains(*e) && !self.named.contains(*e));
        for e in counted.chain(&self.named) {
            match e.kind {
                EntityKind::Asset => s.assets += 1,
                EntityKind::Threat => s.threats += 1,
                EntityKind::Control => s.controls += 1,
                EntityKind::Actor | EntityKind::Boundary => {}
            }
        }
        s
    }

    /// Every file's counts, in parts on every core.
    fn of(resolved: &Resolutions) -> ModelCounts {
        fold_files(
            resolved,
            |part: &mut ModelCounts, facts, per_file| part.add(facts, per_file),
            ModelCounts::then,
        )
    }
}

/// A severity stated on threat `e` after those already in `severities`: the highest stays,
/// the first of equals.
fn stated(severities: &mut HashMap<EntityKey, StatedSeverity>, e: &EntityKey, sev: StatedSeverity) {
    match severities.get_mut(e) {
        Some(slot) if slot.value >= sev.value => {}
        Some(slot) => *slot = sev,
        None => {
            severities.insert(e.clone(), sev);
        }
    }
}

/// One edited file as it was and as it is, each with its resolution.
type Edited<'a> = (&'a FileFacts, &'a Jagged<Resolved>, &'a FileFacts, &'a Jagged<Resolved>);

/// What one file shows the rest of the project besides its resolution: the entities it
/// uses and the severities its threat definitions state, in file order. When an edit leaves
/// a file's share as it was, [`Analysis::update`] keeps `used` and `threat_severity`.
#[derive(Debug, Default, PartialEq)]
struct Share {
    used: Vec<EntityKey>,
    severities: Vec<(EntityKey, StatedSeverity)>,
}

impl Share {
    fn of(facts: &FileFacts, resolved: &Jagged<Resolved>) -> Share {
        let mut share = Share::default();
        visit_share(
            facts,
            resolved,
            |_, _| {},
            |e| share.used.push(e.clone()),
            |e, sev| share.severities.push((e.clone(), sev)),
        );
        share.used.sort_unstable();
        share.used.dedup();
        share
    }
}

/// The rule of a file's contributions to the project-wide facts: each dangling reference
/// (`dangling`), each entity an annotation other than its own definition or a description
/// references (`used`), and each severity stated on a threat's definition (`severity`).
fn visit_share(
    facts: &FileFacts,
    resolved: &Jagged<Resolved>,
    mut dangling: impl FnMut(&crate::model::RefFact, &Interned),
    mut used: impl FnMut(&EntityKey),
    mut severity: impl FnMut(&EntityKey, StatedSeverity),
) {
    for (i, (refs, results)) in facts.refs.iter().zip(resolved).enumerate() {
        let ann = &facts.annotations()[i];
        for (fact, r) in refs.iter().zip(results) {
            let e = match r {
                Resolved::Dangling(id) => {
                    dangling(fact, id);
                    continue;
                }
                Resolved::Entity(e) => e,
                Resolved::External(e) => &**e,
            };
            if !fact.defines && !matches!(ann.body, Body::Describe { .. }) {
                used(e);
            }
            if let Body::Define { kind: EntityKind::Threat, .. } = &ann.body
                && let Some(sev) = StatedSeverity::of(facts, ann)
            {
                severity(e, sev);
            }
        }
    }
}

impl Analysis {
    /// All diagnostics of the project, sorted by file and position. `index` must be the index
    /// this analysis was made from: they are computed once, on the first call.
    pub fn diagnostics(&self, index: &ProjectIndex) -> Vec<Diagnostic> {
        self.diagnostics.get_or_init(|| diagnostics::collect(index, self)).clone()
    }

    /// The project's findings: [`Analysis::diagnostics`], the risk checks
    /// ([`risk::diagnostics_by`]: `unowned-risk`, and `overdue-risk` against `today`, each
    /// risk by its file's policy) and, when the shell derived the infrastructure model because
    /// `unmodelled-resource` is enabled, that check over its resources ([`unmodelled`]; an
    /// empty `infra` costs nothing), in the same order. Every surface that reports findings
    /// (`check`, the language server's diagnostics, the MCP server's summary and findings,
    /// the report, the diff) takes them from here, so the same project and date give the same
    /// findings everywhere; [`Analysis::diagnostics`] alone is what no date or policy changes
    /// (the incremental analysis caches it).
    pub fn diagnostics_with_risk(
        &self,
        index: &ProjectIndex,
        policies: &crate::model::risk::Policies,
        today: Option<crate::syntax::Date>,
        infra: &[unmodelled::Resources],
    ) -> Vec<Diagnostic> {
        // One after the other on the caller's thread, though independent: each is computed
        // once per analysis behind a `OnceLock` or a `Mutex`, and each is parallel inside. Run
        // as the two halves of a `rayon::join`, a pool thread could wait on the `OnceLock`
        // of the diagnostics while it initialised that very lock lower on its own stack (it
        // stole another caller's half while it waited for a piece of the initialisation): the
        // language server hung so, answering nothing, when two requests asked for one
        // analysis's findings at once (gdb, the seventeenth sitting). A pool thread must never
        // wait on these locks; a caller's own thread may.
        self.findings(index, policies, today, infra, Keep::ForLater)
    }

    /// [`Analysis::diagnostics_with_risk`] for a caller that asks once (`check`, `report`):
    /// nothing is kept for a later call, so no finding is copied out of a cache (each was
    /// copied twice, its message and related locations with it: 3.4 ms of the 3,400-file
    /// mixed benchmark's ~86 ms, its findings step 12.1 -> 8.7 ms).
    pub fn diagnostics_with_risk_once(
        &self,
        index: &ProjectIndex,
        policies: &crate::model::risk::Policies,
        today: Option<crate::syntax::Date>,
        infra: &[unmodelled::Resources],
    ) -> Vec<Diagnostic> {
        self.findings(index, policies, today, infra, Keep::Nothing)
    }

    /// The body of [`Analysis::diagnostics_with_risk`] and its `_once` variant.
    fn findings(
        &self,
        index: &ProjectIndex,
        policies: &crate::model::risk::Policies,
        today: Option<crate::syntax::Date>,
        infra: &[unmodelled::Resources],
        keep: Keep,
    ) -> Vec<Diagnostic> {
        let mut out = match (keep, self.diagnostics.get()) {
            (Keep::ForLater, _) => self.diagnostics(index),
            (Keep::Nothing, Some(kept)) => kept.clone(),
            (Keep::Nothing, None) => {
                let own = match self.local.get() {
                    Some(local) => local.cloned_diagnostics(),
                    None => diagnostics::Local::new(index, self, self.carried.as_deref()).into_diagnostics(),
                };
                diagnostics::collect_with(index, self, own)
            }
        };
        out.extend(self.risk_findings(index, policies, today));
        out.extend(unmodelled::diagnostics(index, self, infra));
        diagnostics::order(&mut out);
        out
    }

    /// Each file's own diagnostics ([`diagnostics::Local`]), computed once, on the first call.
    fn local_diagnostics(&self, index: &ProjectIndex) -> &diagnostics::Local {
        self.local.get_or_init(|| Arc::new(diagnostics::Local::new(index, self, self.carried.as_deref())))
    }

    /// Which annotations name each entity. `index` must be the index this analysis was made
    /// from: the index is built once, on the first call.
    pub fn mentions(&self, index: &ProjectIndex) -> &mentions::Mentions {
        self.mentions.get_or_init(|| {
            let carried = self.carried_mentions.lock().ok().and_then(|mut c| c.take());
            Arc::new(mentions::Mentions::new(index, self, carried.as_deref()))
        })
    }

    /// Work done so far to find "did you mean" suggestions for dangling references, in
    /// character comparisons: at most [`crate::limits::MAX_SUGGESTION_WORK`] each time the
    /// diagnostics are computed, which is once per analysis.
    pub fn suggestion_work(&self) -> usize {
        self.suggestion_work.load(Ordering::Relaxed)
    }

    /// Summary counts; `files_scanned` is the walker's count (the index holds annotated files
    /// only); `diagnostics` are counted as given (after any level overrides).
    pub fn summary(&self, index: &ProjectIndex, diagnostics: &[Diagnostic], files_scanned: usize) -> Summary {
        let mut summary = self.model_summary(index, files_scanned);
        summary.count_levels(diagnostics);
        summary
    }

    /// [`Analysis::summary`] without the diagnostics' counts (add them with
    /// [`Summary::count_levels`]): what the model holds, which a caller can count while the
    /// diagnostics are computed.
    pub fn model_summary(&self, index: &ProjectIndex, files_scanned: usize) -> Summary {
        // Counted from the resolutions, which hold the index's files in index order.
        debug_assert!(self.resolved.iter().map(|(f, _)| &f.path).eq(index.files().map(|f| &f.path)));
        summarize(self, files_scanned)
    }
}

/// All diagnostics of the project, sorted by file and position.
pub fn diagnostics(index: &ProjectIndex) -> Vec<Diagnostic> {
    Analysis::new(index).diagnostics(index)
}

/// Summary counts; `files_scanned` is the walker's count (the index holds annotated files only).
pub fn summary(index: &ProjectIndex, diagnostics: &[Diagnostic], files_scanned: usize) -> Summary {
    Analysis::new(index).summary(index, diagnostics, files_scanned)
}

fn summarize(analysis: &Analysis, files_scanned: usize) -> Summary {
    let counts = match &analysis.model_counts {
        Some(counts) => counts.clone(),
        None => ModelCounts::of(&analysis.resolved).finish(&analysis.used),
    };
    Summary { files_scanned, ..counts }
}

impl Summary {
    /// Counts `diagnostics` by level (as given: after any level overrides).
    pub fn count_levels(&mut self, diagnostics: &[Diagnostic]) {
        for d in diagnostics {
            match d.level {
                Level::Error => self.errors += 1,
                Level::Warning => self.warnings += 1,
                Level::Note => self.notes += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Language;
    use crate::text::TextRange;

    /// `n` Python files: threats defined again and again with severities of equal and of
    /// different levels in other words (so which statement wins depends on project order),
    /// exposures and mitigations naming them, and references that dangle.
    pub(super) fn generated(n: usize) -> ProjectIndex {
        const WORDS: [&str; 6] = ["low", "critical", "P1", "Critical", "medium", "CRITICAL"];
        let mut index = ProjectIndex::default();
        for k in 0..n {
            let (t, a) = (k % 7, k % 50);
            let text = format!(
                "# @threat Threat {t} (#t{t}) [{}]\n\
                 # @control Control {c} (#c{c})\n\
                 # @exposes App.S{a} to #t{t}\n\
                 # @exposes App.S{a}.Part{k} to #t{u}\n\
                 # @mitigates App.S{a} against #t{t} using #c{c}\n\
                 # @mitigates App.S{a} against #missing{m} using #c{d}\n\
                 # @accepts #t{u} on App.S{a}\n",
                WORDS[(k / 7 + k / 300) % WORDS.len()],
                c = k % 5,
                d = k % 9,
                u = (k + 3) % 11,
                m = k % 13,
            );
            index.set_file(Arc::new(FileFacts::new(
                FileId::relative(format!("svc{a}/f{k:05}.py")),
                Language::Python,
                Arc::from(text),
            )));
        }
        index
    }

    /// `check`'s findings, computed without keeping anything ([`Analysis::diagnostics_with_risk_once`]),
    /// are the ones a caller that keeps them gets, in the same order, whether or not the
    /// analysis already holds them; with a policy that makes risk findings too.
    #[test]
    fn findings_asked_once_equal_the_kept_ones() {
        let mut index = generated(300);
        index.set_file(Arc::new(FileFacts::new(
            FileId::relative("risks.py"),
            Language::Python,
            Arc::from("# @threat Old (#old) due:2020-01-01\n# @exposes App.S1 to #old risk:L4xI4\n"),
        )));
        let policy = crate::model::risk::RiskPolicy {
            owner_required_from: Some(crate::model::risk::Band::Medium),
            ..Default::default()
        };
        let policies = crate::model::risk::Policies::one(policy);
        let today = crate::syntax::Date::parse("2026-06-01");
        let shown = |d: Vec<Diagnostic>| d.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>();
        let once = shown(Analysis::new(&index).diagnostics_with_risk_once(&index, &policies, today, &[]));
        let kept = Analysis::new(&index);
        let first = shown(kept.diagnostics_with_risk(&index, &policies, today, &[]));
        assert_eq!(once, first);
        assert_eq!(shown(kept.diagnostics_with_risk_once(&index, &policies, today, &[])), first);
        let codes: HashSet<String> =
            once.iter().map(|d| d.split(',').next().unwrap_or_default().to_string()).collect();
        for code in
            ["UnmitigatedExposure", "DanglingReference", "DuplicateDefinition", "UnownedRisk", "OverdueRisk"]
        {
            assert!(codes.iter().any(|c| c.contains(code)), "{code} among {codes:?}");
        }
    }

    /// A key is known once it was remembered with its kind (the same text interned again is
    /// the same key); with another kind it is not; and past as many keys as there are slots, a
    /// remembered key may be forgotten but no other is ever taken for it.
    #[test]
    fn seen_keys_know_only_the_keys_remembered() {
        let mut seen = SeenKeys::default();
        let a = EntityKey::new(EntityKind::Threat, "seen-keys-sqli");
        let again = EntityKey::new(EntityKind::Threat, String::from("seen-keys-sqli"));
        let other_kind = EntityKey { kind: EntityKind::Control, key: a.key };
        let other_text = EntityKey::new(EntityKind::Threat, "seen-keys-xss");
        assert!(!seen.known(&a));
        assert!(seen.known(&a) && seen.known(&a.clone()) && seen.known(&again));
        assert!(!seen.known(&other_kind) && !seen.known(&other_text));
        let many: Vec<EntityKey> =
            (0..4 * SeenKeys::SLOTS).map(|k| EntityKey::new(EntityKind::Asset, format!("a{k}"))).collect();
        let mut remembered = HashSet::default();
        for round in 0..2 {
            for e in &many {
                if seen.known(e) {
                    assert!(round == 1 && remembered.contains(&e.key.address()), "{e:?}");
                }
                remembered.insert(e.key.address());
            }
        }
    }

    #[test]
    fn project_facts_in_parts_equal_the_files_one_by_one() {
        let index = generated(12 * FACTS_PART + 7);
        let analysis = Analysis::new(&index);
        let mut serial = ProjectFacts::default();
        for (facts, per_file) in analysis.resolved.iter() {
            serial.add(facts, per_file);
        }
        let parallel = ProjectFacts::of(&analysis.resolved);
        let dangling = |f: &ProjectFacts| -> Vec<(FileId, TextRange, Interned)> {
            f.dangling.iter().map(|(file, fact, id)| (file.clone(), fact.range, *id)).collect()
        };
        // Something of each kind, so the comparison says something.
        assert!(!serial.dangling.is_empty() && !serial.used.is_empty() && serial.threat_severity.len() > 3);
        assert_eq!(dangling(&parallel), dangling(&serial));
        assert_eq!(parallel.used, serial.used);
        assert_eq!(parallel.threat_severity, serial.threat_severity);
        // And what the analysis keeps is the same.
        assert_eq!(*analysis.used, serial.used);
        assert_eq!(*analysis.threat_severity, serial.threat_severity);
        assert_eq!(
            dangling(&ProjectFacts { dangling: analysis.dangling.clone(), ..Default::default() }),
            dangling(&serial)
        );
    }

    /// An edit that leaves every project-wide fact as it was (a comment annotation added)
    /// still counts in the summary: the counts gathered with the facts are not kept with
    /// them. Then a file removed, a threat gone and another appearing: the counts are the
    /// fresh analysis's.
    #[test]
    fn the_summary_after_edits_equals_a_fresh_one() {
        let mut index = generated(40);
        let edit = |index: &mut ProjectIndex, text: &str| {
            index.set_file(Arc::new(FileFacts::new(
                FileId::relative("svc3/f00003.py"),
                Language::Python,
                Arc::from(text),
            )))
        };
        let first = Analysis::new(&index);
        let old = index.files().find(|f| f.path.as_str() == "svc3/f00003.py").unwrap().text().to_string();
        edit(&mut index, &format!("{old}# @comment later\n"));
        let second = Analysis::update(Some(&first), &index);
        assert!(Arc::ptr_eq(&first.used, &second.used), "the project-wide facts were kept");
        let fresh = Analysis::new(&index).model_summary(&index, 40);
        assert_eq!(second.model_summary(&index, 40), fresh);
        assert_eq!(fresh.annotations, first.model_summary(&index, 40).annotations + 1);
        // A file removed, then a threat no file named before and another gone.
        index.remove_file("svc3/f00003.py");
        let third = Analysis::update(Some(&second), &index);
        assert_eq!(third.model_summary(&index, 39), Analysis::new(&index).model_summary(&index, 39));
        edit(&mut index, &old.replace("#t3", "#t-new").replace("Threat 3 ", "Threat New "));
        let fourth = Analysis::update(Some(&third), &index);
        assert_eq!(fourth.model_summary(&index, 40), Analysis::new(&index).model_summary(&index, 40));
    }

    /// The entities counted are those resolved references name, however they name them: a
    /// definition's own, a description's (neither is in `used`), never an external tag's.
    #[test]
    fn the_summary_counts_defined_and_described_entities_and_no_external_one() {
        let mut index = generated(30);
        let text = "# @exposes #other.db to #other.sqli\n\
                    # @mitigates #other.db against #t1 using #other.prepared\n\
                    # @control Unused control (#unused-control)\n\
                    # @describe threat @xss as reflected in search\n";
        index.set_file(Arc::new(FileFacts::new(
            FileId::relative("ext/x.py"),
            Language::Python,
            Arc::from(text),
        )));
        let analysis = Analysis::new(&index);
        let all: Vec<&Resolved> = analysis.resolved.iter().flat_map(|(_, r)| r.flat()).collect();
        assert!(all.iter().any(|r| matches!(r, Resolved::External(_))), "an external entity");
        let entities: HashSet<&EntityKey> =
            all.iter().filter_map(|r| if let Resolved::Entity(e) = r { Some(e) } else { None }).collect();
        let count = |kind| entities.iter().filter(|e| e.kind == kind).count();
        // `#unused-control` is defined and named by nothing else: not in `used`, counted.
        assert!(entities.iter().any(|e| !analysis.used.contains(*e)), "an entity only defined");
        let summary = analysis.model_summary(&index, 31);
        assert_eq!(
            (summary.assets, summary.threats, summary.controls),
            (count(EntityKind::Asset), count(EntityKind::Threat), count(EntityKind::Control))
        );
        // And counted in one walk over the resolutions, as when the project-wide facts are kept.
        assert_eq!(summary, summarize_walking(&analysis, 31));
    }

    /// The summary as [`ModelCounts::of`] counts it (what an analysis that kept the
    /// project-wide facts does).
    fn summarize_walking(analysis: &Analysis, files_scanned: usize) -> Summary {
        Summary { files_scanned, ..ModelCounts::of(&analysis.resolved).finish(&analysis.used) }
    }

    #[test]
    fn the_summary_counts_every_entity_named() {
        let index = generated(12 * FACTS_PART + 7);
        let analysis = Analysis::new(&index);
        let mut entities: HashSet<&EntityKey> = HashSet::default();
        for (_, per_file) in analysis.resolved.iter() {
            entities.extend(per_file.flat().iter().filter_map(|r| match r {
                Resolved::Entity(e) => Some(e),
                _ => None,
            }));
        }
        let count = |kind| entities.iter().filter(|e| e.kind == kind).count();
        let summary = analysis.model_summary(&index, 1);
        assert_eq!(
            (summary.assets, summary.threats, summary.controls),
            (count(EntityKind::Asset), count(EntityKind::Threat), count(EntityKind::Control))
        );
        assert!(summary.assets > 50 && summary.threats == 7 && summary.controls == 5, "{summary:?}");
    }
}
