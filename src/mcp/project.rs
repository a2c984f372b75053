//! The MCP server's project: indexed once (through the index cache), held in memory, and kept
//! current with changes on disk.
//!
//! Owns: the index of the one workspace folder, its analysis and diagnostics (recomputed only
//! when the index moved), the files the walk scanned (for the summary), and applying changed
//! paths: the watcher's batches ([`crate::watch`]) wait in [`Pending`] and are applied before
//! the next answer, and a path a tool names is read again first when its size or modification
//! time changed, so an edit on disk is in the next answer about that file even before the
//! watcher reports it. A changed directory is read again as a subtree (its first files may
//! predate its watch), and the folder itself in a batch (the watcher lost events) reads the
//! whole folder again. Must never: read a path the walk's rules (`walk::WalkRules`) do not
//! admit, or answer from a half-applied change (everything happens under the project's lock).
//!
//! File ids are paths relative to the folder, `/`-separated (`src/app.py`), as the CLI shows
//! them.

use crate::analysis::Analysis;
use crate::analysis::query::Validation;
use crate::diagnostic::Diagnostic;
use crate::file_id::FileId;
use crate::model::ProjectIndex;
use crate::model::risk::{Policies, RiskPolicy};
use crate::syntax::{Date, Language};
use crate::walk::{self, NotIndexed, WalkOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Changed paths the watcher reported and no answer has applied yet; past
/// [`MAX_PENDING`] paths (a branch switch while no one asks), only that the whole folder must
/// be read again.
#[derive(Clone, Default)]
pub struct Pending(Arc<Mutex<(Vec<PathBuf>, bool)>>);

/// The most changed paths kept one by one.
const MAX_PENDING: usize = 10_000;

impl Pending {
    pub fn push(&self, paths: impl IntoIterator<Item = PathBuf>) {
        let mut pending = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !pending.1 {
            pending.0.extend(paths);
            if pending.0.len() > MAX_PENDING {
                *pending = (Vec::new(), true);
            }
        }
    }

    /// The changed paths, or `None` when there were too many to keep.
    fn take(&self) -> Option<Vec<PathBuf>> {
        let (paths, overflowed) = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        (!overflowed).then_some(paths)
    }
}

/// Names whose change can change which files the walk reads: the folder is scanned again.
const RULE_FILES: &[&str] = &[walk::THREATSPEC_CONFIG, ".gitignore", ".ignore", "config.json", "exclude"];

/// What is known of a file the walk read: its language and the size and modification time it
/// had.
#[derive(Clone, Debug)]
struct Seen {
    language: Language,
    stamp: Option<(u64, SystemTime)>,
}

fn stamp(path: &Path) -> Option<(u64, SystemTime)> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// The index revision and the date findings were computed for.
type Computed = (u64, Option<Date>);

/// One workspace folder, analysed.
pub struct Project {
    pub root: PathBuf,
    options: WalkOptions,
    pub index: ProjectIndex,
    pub analysis: Analysis,
    /// Every file the walk scanned (annotated or not).
    scanned: BTreeMap<FileId, Seen>,
    /// The folder's risk policy, as its last full read found it.
    risk: RiskPolicy,
    /// Diagnostics of the index revision and the date they were computed at.
    diagnostics: Option<(Computed, Arc<Vec<Diagnostic>>)>,
    pending: Pending,
    /// Walk warnings (refused configuration files, project limits), threat-analyzer's words.
    pub notes: Vec<String>,
}

impl Project {
    /// Scans `root` (absolute) with `options` (the index cache is written back on a thread of
    /// its own); `pending` is where the watcher puts changed paths.
    pub fn scan(root: PathBuf, options: WalkOptions, pending: Pending) -> Result<Project, walk::WalkError> {
        let mut project = Project {
            root,
            options,
            index: ProjectIndex::default(),
            analysis: Analysis::new(&ProjectIndex::default()),
            scanned: BTreeMap::new(),
            risk: RiskPolicy::default(),
            diagnostics: None,
            pending,
            notes: Vec::new(),
        };
        project.rescan()?;
        Ok(project)
    }

    /// Reads the whole folder again (at start, and when a configuration or ignore file changed).
    fn rescan(&mut self) -> Result<(), walk::WalkError> {
        let mut scan = walk::scan_from(&self.root, std::slice::from_ref(&self.root), &self.options)?;
        self.notes = scan.not_applied.iter().map(|n| n.to_string()).collect();
        let unread = scan.skipped.iter().filter(|(_, r)| *r == walk::SkipReason::ProjectLimit).count();
        if unread > 0 {
            self.notes.push(format!(
                "the folder is larger than the project limits ({}): {unread} files were not read",
                walk::ProjectLimits::default()
            ));
        }
        self.scanned = scan
            .scanned
            .iter()
            .map(|(file, language)| {
                (file.clone(), Seen { language: *language, stamp: stamp(&self.root.join(file.as_str())) })
            })
            .collect();
        // The cache is written on a thread of the walk's; the answer does not wait for it.
        drop(scan.take_cache_save());
        self.index = std::mem::take(&mut scan.index);
        self.risk = scan.risk.clone();
        self.analysis = Analysis::new(&self.index);
        self.diagnostics = None;
        Ok(())
    }

    /// The scanned files with their languages (for the status counts).
    pub fn scanned(&self) -> Vec<(FileId, Language)> {
        self.scanned.iter().map(|(f, s)| (f.clone(), s.language)).collect()
    }

    /// The project's findings as `check` reports them today (UTC), with the folder's risk
    /// policy ([`Analysis::diagnostics_with_risk`]), computed once per index revision and date.
    pub fn diagnostics(&mut self) -> Arc<Vec<Diagnostic>> {
        let at = (self.index.revision(), Date::of_instant(SystemTime::now()));
        match &self.diagnostics {
            Some((computed, diagnostics)) if *computed == at => diagnostics.clone(),
            _ => {
                let policies = Policies::one(self.risk.clone());
                let diagnostics =
                    Arc::new(self.analysis.diagnostics_with_risk(&self.index, &policies, at.1, &[]));
                self.diagnostics = Some((at, diagnostics.clone()));
                diagnostics
            }
        }
    }

    /// The file id of a path a client named: relative to the folder (or absolute inside it),
    /// normalised; `None` outside the folder.
    pub fn file_id(&self, asked: &str) -> Option<(FileId, PathBuf)> {
        let asked = Path::new(asked);
        let abs = crate::paths::normalize(&if asked.is_absolute() {
            asked.to_path_buf()
        } else {
            self.root.join(asked)
        });
        let rel = abs.strip_prefix(&self.root).ok()?;
        let key = rel.to_str()?.replace('\\', "/");
        (!key.is_empty()).then(|| (FileId::relative(key), abs))
    }

    /// Applies what the watcher reported, and re-reads `also` (a path a tool names) when its
    /// size or modification time differs from what was read. Re-analyses if anything moved.
    pub fn refresh(&mut self, also: Option<&Path>) {
        let Some(mut changed) = self.pending.take() else {
            if let Err(e) = self.rescan() {
                self.notes.push(format!("cannot scan the folder again: {e}"));
            }
            return;
        };
        if let Some(path) = also {
            let key = self.file_id(&path.to_string_lossy()).map(|(k, _)| k);
            let known = key.as_ref().and_then(|k| self.scanned.get(k)).map(|s| s.stamp);
            if known.is_none_or(|was| was != stamp(path)) {
                changed.push(path.to_path_buf());
            }
        }
        if changed.is_empty() {
            return;
        }
        changed.sort();
        changed.dedup();
        let rules_changed = changed
            .iter()
            .any(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| RULE_FILES.contains(&n)));
        // The folder itself: the watcher lost events (a queue overflow), anything may have changed.
        if rules_changed || changed.contains(&self.root) {
            if let Err(e) = self.rescan() {
                self.notes.push(format!("cannot scan the folder again: {e}"));
            }
            return;
        }
        let before = self.index.revision();
        let mut rules = walk::WalkRules::new(std::slice::from_ref(&self.root), &self.options);
        for path in changed {
            self.apply(&mut rules, &path);
        }
        if self.index.revision() != before {
            self.analysis = Analysis::update(Some(&self.analysis), &self.index);
        }
    }

    /// Reads one changed path by the walk's rules, or forgets it (and what was under it).
    fn apply(&mut self, rules: &mut walk::WalkRules, path: &Path) {
        let Some((key, abs)) = self.file_id(&path.to_string_lossy()) else { return };
        match rules.check(&abs) {
            Ok(language) => {
                let facts = walk::read_file_facts(&abs, key.clone(), language, self.options.max_file_size);
                match facts {
                    Ok(facts) => {
                        self.scanned.insert(key.clone(), Seen { language, stamp: stamp(&abs) });
                        match facts {
                            Some(facts) => self.index.set_file(Arc::new(facts)),
                            None => self.index.remove_file(key.as_str()),
                        }
                    }
                    Err(_) => self.forget(&key),
                }
            }
            // A new directory's first files may predate its watch: its subtree is read again.
            Err(NotIndexed::Directory) => self.read_directory(&key, &abs),
            Err(_) => self.forget(&key),
        }
    }

    /// Reads the directory `abs` (file id `key`) again with the walk, as the folder's walk
    /// would read it (without the cache: a subtree's scan is not the folder's).
    fn read_directory(&mut self, key: &FileId, abs: &Path) {
        let options = WalkOptions { cache_dir: None, progress: None, ..self.options.clone() };
        let Ok(mut scan) = walk::scan_from(&self.root, &[abs.to_path_buf()], &options) else { return };
        self.forget(key);
        for (file, language) in &scan.scanned {
            let seen = Seen { language: *language, stamp: stamp(&self.root.join(file.as_str())) };
            self.scanned.insert(file.clone(), seen);
        }
        for facts in std::mem::take(&mut scan.index).files() {
            self.index.set_file(facts.clone());
        }
    }

    /// Forgets a file, or every file under a directory.
    fn forget(&mut self, key: &FileId) {
        let prefix = format!("{key}/");
        let under = |f: &FileId| f == key || f.as_str().starts_with(&prefix);
        let gone: Vec<FileId> = self.scanned.keys().filter(|f| under(f)).cloned().collect();
        for file in gone {
            self.scanned.remove(&file);
            self.index.remove_file(file.as_str());
        }
    }

    /// Whether the walk scanned the file, and why not when it did not (for `file_context`).
    pub fn why_not_scanned(&self, abs: &Path) -> Option<String> {
        let mut rules = walk::WalkRules::new(std::slice::from_ref(&self.root), &self.options);
        match rules.check(abs) {
            Ok(_) => None,
            Err(why) => Some(why.to_string()),
        }
    }

    /// What `lines` (annotation comments in the file's language) would be if appended to the
    /// file `key` (which may not exist yet): read with the rest of the project, then the index
    /// is put back as it was. `language` is the file's, from the walk's rules or its name.
    pub fn validate(&mut self, key: &FileId, language: Language, lines: &str) -> Validation {
        let mut text = self.index.file(key.as_str()).map_or_else(String::new, |f| f.text().to_string());
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        let from = text.len();
        text.push_str(lines);
        text.push('\n');
        let to = text.len();
        self.validate_text(key, language, text, from..to).0
    }

    /// What the file `key` would be with `text` (in which the byte range `lines` is proposed):
    /// the proposed annotations and their diagnostics, and how many annotations the file
    /// would hold in all. The index is put back as it was.
    pub fn validate_text(
        &mut self,
        key: &FileId,
        language: Language,
        text: String,
        lines: std::ops::Range<usize>,
    ) -> (Validation, usize) {
        let old = self.index.file(key.as_str()).cloned();
        let facts = Arc::new(crate::model::FileFacts::new(key.clone(), language, Arc::from(text)));
        self.index.set_file(facts.clone());
        let analysis = Analysis::update(Some(&self.analysis), &self.index);
        let validation = analysis.validation(&self.index, &facts, lines);
        match old {
            Some(old) => self.index.set_file(old),
            None => self.index.remove_file(key.as_str()),
        }
        (validation, facts.annotations().len())
    }

    /// The largest file the walk reads.
    pub fn max_file_size(&self) -> u64 {
        self.options.max_file_size
    }

    /// The language of a file: the walk's, or by its name.
    pub fn language_of(&self, key: &FileId, abs: &Path) -> Option<Language> {
        self.scanned.get(key).map(|s| s.language).or_else(|| Language::from_path(abs))
    }

    /// Whether the walk scanned `key`.
    pub fn is_scanned(&self, key: &FileId) -> bool {
        self.scanned.contains_key(key)
    }
}
