//! Completion inside annotation comments.
//!
//! Works from the raw text around the cursor, never from parsed annotations alone: while the
//! user types, the line under the cursor is usually incomplete (`# @mitigates Shop against #`)
//! and does not parse. The cursor must be on a candidate line (comment text with its
//! delimiters stripped, see [`crate::syntax::candidate_lines`]) that starts with `@`; the text
//! from that `@` to the cursor is tokenised and matched against the verb's grammar
//! (`grammar`) to learn what belongs at the cursor: a verb, a keyword, an `#id` of a given
//! kind, a component path segment, a legacy `@id`, a severity, an external reference.
//!
//! Entity items come from the project index (explicit ids and ThreatSpec implicit ids, the
//! asset paths as they are written) and the threat libraries (one `#lib.` item after the
//! project's own ids; the entries, `#lib.cwe-89`, once `#lib.` is typed), and are ranked: entities the current file mentions first,
//! then by how often the project references them, then by name.

use super::hover::escape_markdown;
use crate::model::names::{ancestors, path_key};
use crate::model::{EntityKey, Lookup, ProjectIndex, RefFact, Resolved};
use crate::syntax::grammar::{Need, Slot, legacy_kind};
use crate::syntax::verbs::{SPELLINGS, canonical_spelling, lookup};
use crate::syntax::{Dialect, EntityKind, Language, Verb};
use crate::text::TextRange;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;

/// What an item completes (editors pick an icon from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CompletionKind {
    Verb,
    Threat,
    Control,
    Asset,
    Actor,
    Boundary,
    Keyword,
    Severity,
    ExternalRef,
    /// A whole annotation template.
    Snippet,
    /// A fixed value of the grammar (`pii`, `boundary`, ...).
    Value,
}

impl CompletionKind {
    fn of(kind: EntityKind) -> CompletionKind {
        match kind {
            EntityKind::Asset => CompletionKind::Asset,
            EntityKind::Threat => CompletionKind::Threat,
            EntityKind::Control => CompletionKind::Control,
            EntityKind::Actor => CompletionKind::Actor,
            EntityKind::Boundary => CompletionKind::Boundary,
        }
    }
}

/// One completion proposal, in editor-neutral terms (byte offsets into the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    /// One line: the entity kind and name, where it is defined, or a verb's grammar.
    pub detail: Option<String>,
    /// Markdown: description, severity, references.
    pub documentation: Option<String>,
    /// The text that replaces [`CompletionItem::replace`]; a snippet (`${1:asset}`) when
    /// [`CompletionItem::is_snippet`].
    pub insert_text: String,
    pub is_snippet: bool,
    /// What the item replaces: the partial word at the cursor (possibly empty).
    pub replace: TextRange,
    /// Items sort by this, ascending.
    pub sort_text: String,
    /// Text the editor filters on against the text in `replace`, when it differs from `label`.
    pub filter_text: Option<String>,
}

/// Completions at `offset` in `file` of the index (empty when the cursor is not inside an
/// annotation comment, or the file is unknown).
pub fn completion(index: &ProjectIndex, file: &str, offset: usize) -> Vec<CompletionItem> {
    let Some(facts) = index.file(file) else { return Vec::new() };
    completion_in_text(index, file, facts.language, facts.text(), offset)
}

/// [`completion`] for a text the index may not hold yet (an unsaved buffer): `file` is only
/// used to rank entities the file mentions first.
pub fn completion_in_text(
    index: &ProjectIndex,
    file: &str,
    language: Language,
    text: &str,
    offset: usize,
) -> Vec<CompletionItem> {
    completion_in_text_with(index, &CompletionIndex::new(index), file, language, text, offset)
}

/// [`completion_in_text`] with project-wide facts computed once per index revision (the
/// language server caches them; building them walks every reference of the project).
pub fn completion_in_text_with(
    index: &ProjectIndex,
    shared: &CompletionIndex,
    file: &str,
    language: Language,
    text: &str,
    offset: usize,
) -> Vec<CompletionItem> {
    if offset > text.len() || !text.is_char_boundary(offset) {
        return Vec::new();
    }
    let Some(start) = annotation_start(language, text, offset) else { return Vec::new() };
    completion_with(index, shared, file, text, offset, start)
}

fn completion_with(
    index: &ProjectIndex,
    shared: &CompletionIndex,
    file: &str,
    text: &str,
    offset: usize,
    start: usize,
) -> Vec<CompletionItem> {
    let mut items = Completer { index, shared, file, text, offset, start, project: None }.complete();
    items.sort_by(|a, b| a.sort_text.cmp(&b.sort_text).then_with(|| a.label.cmp(&b.label)));
    items.dedup_by(|a, b| a.label == b.label && a.insert_text == b.insert_text);
    items
}

/// The offset of the `@` that starts the annotation on the cursor's line, when the cursor is
/// in a comment (candidate line) whose text starts with `@`.
fn annotation_start(language: Language, text: &str, offset: usize) -> Option<usize> {
    let line_start = text[..offset].rfind(['\n', '\r']).map_or(0, |p| p + 1);
    let lines = crate::syntax::candidate_lines(language, text);
    let line = lines.iter().find(|l| l.range.start() >= line_start && l.range.start() < offset)?;
    text[line.range.start()..].starts_with('@').then_some(line.range.start())
}

/// The slots of a verb as written ([`crate::syntax::grammar`]: ThreatSpec spellings take
/// ThreatSpec keywords, `@boundary from` the directed form), `first` the word after it.
pub(crate) fn grammar(verb: Verb, spelling: &str, first: Option<&str>) -> &'static [Slot] {
    crate::syntax::grammar::slots(verb, spelling, first)
}

/// Where the cursor is in a verb's grammar, from the tokens before it.
#[derive(Clone, Copy, Debug)]
struct GrammarState {
    /// The next slot to fill.
    next: usize,
    /// The slot the last token belonged to, when it was an argument (not a keyword).
    in_arg: Option<usize>,
}

fn grammar_state(slots: &[Slot], tokens: &[&str]) -> GrammarState {
    let mut state = GrammarState { next: 0, in_arg: None };
    for tok in tokens {
        // The first keyword at or after the next slot that the token spells (optional clauses
        // may be skipped).
        let kw = (state.next..slots.len()).find(
            |&q| matches!(slots[q], Slot::Kw(k) if k.words.iter().any(|w| w.eq_ignore_ascii_case(tok))),
        );
        if let Some(q) = kw {
            state.next = q + 1;
            state.in_arg = None;
            continue;
        }
        if state.in_arg.is_some() {
            continue; // more words of the same argument (`SQL Injection`)
        }
        if state.next < slots.len() && !matches!(slots[state.next], Slot::Kw(..)) {
            state.in_arg = Some(state.next);
            state.next += 1;
        }
    }
    state
}

/// Threat refs offered after `cwe:`/`owasp:` and where a threat's refs may go.
const CWES: &[(&str, &str)] = &[
    ("CWE-79", "Cross-site Scripting (XSS)"),
    ("CWE-89", "SQL Injection"),
    ("CWE-22", "Path Traversal"),
    ("CWE-78", "OS Command Injection"),
    ("CWE-352", "Cross-Site Request Forgery (CSRF)"),
    ("CWE-287", "Improper Authentication"),
    ("CWE-306", "Missing Authentication for Critical Function"),
    ("CWE-311", "Missing Encryption of Sensitive Data"),
    ("CWE-319", "Cleartext Transmission of Sensitive Information"),
    ("CWE-502", "Deserialization of Untrusted Data"),
    ("CWE-639", "Authorization Bypass Through User-Controlled Key (IDOR)"),
    ("CWE-918", "Server-Side Request Forgery (SSRF)"),
    ("CWE-200", "Exposure of Sensitive Information to an Unauthorized Actor"),
    ("CWE-400", "Uncontrolled Resource Consumption"),
    ("CWE-798", "Use of Hard-coded Credentials"),
];

const OWASP: &[(&str, &str)] = &[
    ("A01:2021", "Broken Access Control"),
    ("A02:2021", "Cryptographic Failures"),
    ("A03:2021", "Injection"),
    ("A04:2021", "Insecure Design"),
    ("A05:2021", "Security Misconfiguration"),
    ("A06:2021", "Vulnerable and Outdated Components"),
    ("A07:2021", "Identification and Authentication Failures"),
    ("A08:2021", "Software and Data Integrity Failures"),
    ("A09:2021", "Security Logging and Monitoring Failures"),
    ("A10:2021", "Server-Side Request Forgery (SSRF)"),
];

const SEVERITIES: &[(&str, &str)] = &[
    ("critical", "= P0"),
    ("high", "= P1"),
    ("medium", "= P2"),
    ("low", "= P3"),
    ("P0", "= critical"),
    ("P1", "= high"),
    ("P2", "= medium"),
    ("P3", "= low"),
];

/// The snippet inserted for a verb spelling (GAL grammar, ThreatSpec keywords for its
/// spellings).
fn verb_snippet(spelling: &str) -> String {
    let args = match spelling {
        "asset" => "${1:Component.Path}",
        "component" => "${1:Component:Path}",
        "threat" => "${1:name} (#${2:id})",
        "control" | "actor" => "${1:name} (#${2:id})",
        "mitigates" => "${1:asset} against ${2:#threat} using ${3:#control}",
        "mitigate" => "${1:component} against ${2:#threat} with ${3:#control}",
        "exposes" => "${1:asset} to ${2:#threat}",
        "expose" => "${1:component} to ${2:#threat} with ${3:details}",
        "confirmed" => "${1:#threat} on ${2:asset}",
        "accepts" => "${1:#threat} on ${2:asset} -- \"${3:reason}\"",
        "accept" => "${1:#threat} to ${2:component} with ${3:details}",
        "transfers" => "${1:#threat} from ${2:asset} to ${3:asset}",
        "transfer" => "${1:#threat} from ${2:component} to ${3:component} with ${4:details}",
        "flows" => "${1:asset} -> ${2:asset}",
        "connects" | "connect" => "${1:component} to ${2:component} with ${3:details}",
        "boundary" => "between ${1:asset} and ${2:asset} (#${3:id})",
        "entitles" => "${1:actor} to ${2:capability} on ${3:asset}",
        "feature" => "\"${1:name}\"",
        "validates" => "${1:#control} for ${2:asset}",
        "tests" | "test" => "${1:#control} for ${2:component}",
        "audit" | "assumes" => "${1:asset}",
        "review" => "${1:component} ${2:note}",
        "owns" => "${1:owner} for ${2:asset}",
        "handles" => "${1|pii,phi,financial,secrets,internal,public|} on ${2:asset}",
        "comment" => "${1:text}",
        "source" => "file:${1:path} line:${2:1}",
        "alias" => "${1|boundary,component,threat|} @${2:id} to ${3:Name}",
        "describe" => "${1|boundary,component,threat|} @${2:id} as ${3:description}",
        _ => "",
    };
    if args.is_empty() { format!("@{spelling}") } else { format!("@{spelling} {args}") }
}

/// `Shop.Api.Orders` as written, per asset path key (and every ancestor of one).
#[derive(Default)]
struct AssetPaths {
    /// Path key -> segments as first written (definitions first).
    written: BTreeMap<String, Vec<String>>,
    /// Keys of boundaries written in legacy `@b:@c` references (`b`).
    legacy_boundaries: BTreeMap<String, String>,
}

/// Project-wide facts completion ranks and offers by: how often each entity is referenced and
/// how component paths are written. Depends only on the index, so one value serves every
/// request of an index revision.
pub struct CompletionIndex {
    /// How many references (not definitions) resolve to each entity.
    usage: FxHashMap<EntityKey, usize>,
    paths: AssetPaths,
}

/// What one request needs: the shared facts and the entities the current file mentions.
struct Project<'a> {
    usage: &'a FxHashMap<EntityKey, usize>,
    in_file: FxHashSet<EntityKey>,
    paths: &'a AssetPaths,
}

struct Completer<'a> {
    index: &'a ProjectIndex,
    shared: &'a CompletionIndex,
    file: &'a str,
    text: &'a str,
    offset: usize,
    /// The `@` of the annotation.
    start: usize,
    project: Option<Project<'a>>,
}

fn is_id_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

impl<'a> Completer<'a> {
    /// End of the word the cursor is in (characters matching `pred` after the cursor).
    fn word_end(&self, pred: impl Fn(char) -> bool) -> usize {
        let rest = &self.text[self.offset..];
        self.offset + rest.find(|c: char| !pred(c)).unwrap_or(rest.len())
    }

    fn complete(&mut self) -> Vec<CompletionItem> {
        let prefix = &self.text[self.start..self.offset];
        let Some(ws) = prefix.find(char::is_whitespace) else {
            return self.verbs();
        };
        let spelling = &prefix[1..ws];
        let Some((verb, _)) = lookup(spelling) else { return Vec::new() };
        let spelling = spelling.to_ascii_lowercase();
        let args = &prefix[ws..];
        // Nothing to complete inside a description or a quoted string.
        if args.split_whitespace().any(|t| t == "--" || t.starts_with("--\""))
            || args.matches('"').count() % 2 == 1
        {
            return Vec::new();
        }
        let tok_start = crate::text::last_word_start(args);
        let tok = &args[tok_start..];
        let tok_offset = self.start + ws + tok_start;
        let tokens: Vec<&str> = args[..tok_start].split_whitespace().collect();
        let slots = grammar(verb, &spelling, tokens.first().copied());
        let state = grammar_state(slots, &tokens);
        // The kind of entity expected at the cursor's token.
        let expected = match state.in_arg {
            Some(_) if tok.is_empty() => None,
            Some(s) => slot_kind(slots, s, &tokens),
            None => slot_kind(slots, state.next, &tokens),
        };
        let lower = tok.to_ascii_lowercase();
        if let Some(rest) = tok.strip_prefix('[') {
            if !matches!(verb, Verb::Threat | Verb::Exposes | Verb::Confirmed) || rest.contains(']') {
                return Vec::new();
            }
            return self.severities(tok_offset + 1, false);
        }
        for (prefix, list) in [("cwe:", CWES), ("owasp:", OWASP)] {
            if lower.starts_with(prefix) {
                let from = tok_offset + prefix.len();
                let end = self.word_end(|c| !c.is_whitespace());
                return external_refs(&prefix[..prefix.len() - 1], list, TextRange::new(from, end), false);
            }
        }
        if let Some(id) = tok.strip_prefix('#') {
            let lib = crate::model::library::LIB_TAG;
            if let Some(rest) = id.get(..lib.len() + 1).filter(|p| p.eq_ignore_ascii_case(&format!("{lib}.")))
                && id[rest.len()..].chars().all(is_id_char)
                && let Some(kind) = expected
            {
                let replace = TextRange::new(tok_offset + 1 + rest.len(), self.word_end(is_id_char));
                return self.library(kind, replace);
            }
            if !id.chars().all(is_id_char) {
                return Vec::new();
            }
            let replace = TextRange::new(tok_offset + 1, self.word_end(is_id_char));
            // Elsewhere (a definition's new id, free text) there is nothing to complete.
            return expected.map_or_else(Vec::new, |kind| {
                let mut items = self.ids(kind, replace, "");
                items.extend(self.library_namespace(kind, replace, ""));
                items
            });
        }
        if tok.starts_with("(#") {
            return Vec::new();
        }
        if let Some(body) = tok.strip_prefix('@') {
            return self.legacy(body, tok_offset + 1, expected);
        }
        if let Some(sep) = tok.rfind(['.', ':']) {
            if !matches!(expected, Some(EntityKind::Asset)) {
                return Vec::new();
            }
            let parent = path_key(&tok[..sep]);
            let replace = TextRange::new(tok_offset + sep + 1, self.word_end(is_id_char));
            return self.path_children(&parent, replace);
        }
        if !tok.chars().all(is_id_char) && !matches!(tok, "-" | "<" | "<-") {
            return Vec::new();
        }
        let replace = TextRange::new(tok_offset, self.word_end(|c| is_id_char(c) || c == '>' || c == '<'));
        let mut items = self.keywords(slots, &state, replace);
        // Before the first word (the main form's slots), the alternative form's first keyword
        // too (`@boundary from`).
        if tokens.is_empty()
            && let Some(alternative) = crate::syntax::grammar::of(verb).alternative
        {
            items.extend(self.keywords(alternative, &GrammarState { next: 0, in_arg: None }, replace));
        }
        match (state.in_arg, slots.get(state.next)) {
            (None, Some(Slot::Arg(EntityKind::Asset, _))) => items.extend(self.asset_paths(replace)),
            (None, Some(Slot::Arg(kind, _))) => {
                items.extend(self.ids(*kind, replace, "#"));
                items.extend(self.library_namespace(*kind, replace, "#"));
            }
            (None, Some(Slot::Value(values) | Slot::Choice(values))) => {
                items.extend(values.iter().map(|v| CompletionItem {
                    label: v.to_string(),
                    kind: CompletionKind::Value,
                    detail: None,
                    documentation: None,
                    insert_text: v.to_string(),
                    is_snippet: false,
                    replace,
                    sort_text: format!("1{v}"),
                    filter_text: None,
                }))
            }
            _ => {}
        }
        // After a threat: its severity and references.
        let after_threat = match state.in_arg.map(|s| slots[s]) {
            Some(Slot::Name(_)) => verb == Verb::Threat,
            Some(Slot::Arg(EntityKind::Threat, _)) => matches!(verb, Verb::Exposes),
            Some(Slot::Arg(EntityKind::Asset, _)) => verb == Verb::Confirmed,
            _ => false,
        };
        if after_threat && state.next >= slots.len() {
            items.extend(self.severities(tok_offset, true));
            items.extend(external_refs("cwe", CWES, replace, true));
            items.extend(external_refs("owasp", OWASP, replace, true));
        }
        items
    }

    fn verbs(&self) -> Vec<CompletionItem> {
        let end = self.word_end(|c| c.is_ascii_alphabetic() || c == ':');
        let replace = TextRange::new(self.start, end);
        let line_end = self.text[end..].find(['\n', '\r']).map_or(self.text.len(), |p| end + p);
        let rest_of_line = &self.text[end..line_end];
        // Only a bare `@verb` gets the whole template; an edited verb keeps its arguments.
        let snippet = rest_of_line.trim().is_empty() || rest_of_line.trim_start().starts_with("*/");
        SPELLINGS
            .iter()
            .enumerate()
            .map(|(i, &(spelling, verb, dialect))| {
                let canonical = canonical_spelling(verb) == spelling;
                let (dialect_name, rank) = match dialect {
                    None => ("GAL, ThreatSpec", 0),
                    Some(Dialect::Gal) => ("GAL", 0),
                    Some(Dialect::ThreatSpec) => ("ThreatSpec 0.5", 1),
                    Some(Dialect::LegacyThreatSpec) => ("ThreatSpec 0.1", 2),
                };
                let mut detail = dialect_name.to_string();
                if !canonical {
                    detail.push_str(&format!(" (= @{})", canonical_spelling(verb)));
                }
                let template = verb_snippet(spelling);
                let (insert_text, is_snippet) = if snippet && template.contains('$') {
                    (template.clone(), true)
                } else {
                    (format!("@{spelling}"), false)
                };
                CompletionItem {
                    label: format!("@{spelling}"),
                    kind: if is_snippet { CompletionKind::Snippet } else { CompletionKind::Verb },
                    detail: Some(detail),
                    documentation: Some(format!("```\n{}\n```", strip_placeholders(&template))),
                    insert_text,
                    is_snippet,
                    replace,
                    sort_text: format!("{rank}{i:03}"),
                    filter_text: Some(format!("@{spelling}")),
                }
            })
            .collect()
    }

    fn severities(&self, from: usize, bracketed: bool) -> Vec<CompletionItem> {
        let end = self.word_end(|c| c.is_ascii_alphanumeric());
        let closed = self.text[end..].starts_with(']');
        let replace = TextRange::new(from, if closed && !bracketed { end + 1 } else { end });
        SEVERITIES
            .iter()
            .enumerate()
            .map(|(i, (s, doc))| {
                let insert = if bracketed { format!("[{s}]") } else { format!("{s}]") };
                CompletionItem {
                    label: if bracketed { format!("[{s}]") } else { s.to_string() },
                    kind: CompletionKind::Severity,
                    detail: Some(doc.to_string()),
                    documentation: None,
                    insert_text: insert,
                    is_snippet: false,
                    replace,
                    sort_text: format!("2{i}"),
                    filter_text: bracketed.then(|| s.to_string()),
                }
            })
            .collect()
    }

    fn keywords(&self, slots: &[Slot], state: &GrammarState, replace: TextRange) -> Vec<CompletionItem> {
        let mut out = Vec::new();
        // After an argument the next keyword(s); at a keyword slot, that keyword.
        for slot in &slots[state.next.min(slots.len())..] {
            match *slot {
                Slot::Kw(k) => {
                    out.extend(k.words.iter().map(|w| CompletionItem {
                        label: w.to_string(),
                        kind: CompletionKind::Keyword,
                        detail: None,
                        documentation: None,
                        insert_text: format!("{w} "),
                        is_snippet: false,
                        replace,
                        sort_text: format!("0{w}"),
                        filter_text: None,
                    }));
                    // Only an optional clause lets the keywords after it be offered too.
                    if k.need != Need::Clause {
                        break;
                    }
                }
                _ => break,
            }
        }
        out
    }

    fn project(&mut self) -> &Project<'a> {
        if self.project.is_none() {
            let mut in_file = FxHashSet::default();
            if let Some(facts) = self.index.file(self.file) {
                for fact in facts.refs.iter().flatten() {
                    if let Resolved::Entity(e) = self.index.resolve(fact) {
                        in_file.insert(e);
                    }
                }
            }
            self.project = Some(Project { usage: &self.shared.usage, in_file, paths: &self.shared.paths });
        }
        self.project.as_ref().expect("just set")
    }

    /// `#id` items for `kind`: explicit ids and implicit ids that resolve to an entity of that
    /// kind, one per entity (explicit ids win). `sigil` is prepended to the inserted text.
    fn ids(&mut self, kind: EntityKind, replace: TextRange, sigil: &str) -> Vec<CompletionItem> {
        let index = self.index;
        let mut by_entity: BTreeMap<EntityKey, (String, bool)> = BTreeMap::new();
        for id in index.ids_of_kind(kind).into_iter().filter(|id| !id.is_empty()) {
            let fact =
                RefFact::new(kind, TextRange::default(), TextRange::default(), Lookup::Id(id.into()), false);
            let Resolved::Entity(entity) = index.resolve(&fact) else { continue };
            let explicit = !index.definitions_by_id(id).is_empty();
            match by_entity.get(&entity) {
                Some((_, true)) => {}
                Some((_, false)) if !explicit => {}
                _ => {
                    by_entity.insert(entity, (id.to_string(), explicit));
                }
            }
        }
        let project = self.project();
        by_entity
            .into_iter()
            .map(|(entity, (id, _))| {
                let name = index.display_name(&entity);
                let (detail, documentation) = describe(index, &entity, &name);
                CompletionItem {
                    label: format!("#{id}"),
                    kind: CompletionKind::of(kind),
                    detail: Some(detail),
                    documentation,
                    insert_text: format!("{sigil}{id}"),
                    is_snippet: false,
                    replace,
                    sort_text: rank(project, &entity, &id),
                    filter_text: Some(id.clone()),
                }
            })
            .collect()
    }

    /// One `#lib.` item, after every project id, where a threat or control belongs: the entries
    /// themselves are offered once `#lib.` is typed (a list of every library entry at each `#`
    /// would bury the project's own ids). `sigil` is prepended to the inserted `lib.`.
    fn library_namespace(&self, kind: EntityKind, replace: TextRange, sigil: &str) -> Option<CompletionItem> {
        let lib = crate::model::library::LIB_TAG;
        let count = self.index.project_library().entries().iter().filter(|e| e.kind == kind).count()
            + crate::model::library::Library::builtin().entries().iter().filter(|e| e.kind == kind).count();
        (count > 0).then(|| CompletionItem {
            label: format!("#{lib}."),
            kind: CompletionKind::of(kind),
            detail: Some(format!("threat library: {count} {} entries (type `#{lib}.`)", kind.as_str())),
            documentation: None,
            insert_text: format!("{sigil}{lib}."),
            is_snippet: false,
            replace,
            sort_text: format!("8{lib}"),
            filter_text: Some(format!("{lib}.")),
        })
    }

    /// Threat-library entries of `kind` (the project's libraries, then the built-in one; an id
    /// the project's libraries take hides the built-in entry), replacing the id after `#lib.`.
    fn library(&self, kind: EntityKind, replace: TextRange) -> Vec<CompletionItem> {
        let index = self.index;
        let project = index.project_library().entries().iter();
        let builtin = crate::model::library::Library::builtin().entries().iter();
        let mut seen = FxHashSet::default();
        project
            .chain(builtin.filter(|e| index.project_library().get(&e.id).is_none()))
            .filter(|e| e.kind == kind && seen.insert(e.id.to_ascii_lowercase()))
            .map(|e| {
                let tag = format!("{}.{}", crate::model::library::LIB_TAG, e.id);
                let doc = format!(
                    "**{}** (library {})\n\n{}",
                    escape_markdown(&e.name),
                    kind.as_str(),
                    escape_markdown(&e.description)
                );
                CompletionItem {
                    label: format!("#{tag}"),
                    kind: CompletionKind::of(kind),
                    detail: Some(format!("{} {} — threat library", kind.as_str(), e.name)),
                    documentation: Some(doc),
                    insert_text: e.id.clone(),
                    is_snippet: false,
                    replace,
                    sort_text: format!("8{}", e.id),
                    filter_text: Some(e.id.clone()),
                }
            })
            .collect()
    }

    /// Whole asset paths as written (at an asset position, before any separator).
    fn asset_paths(&mut self, replace: TextRange) -> Vec<CompletionItem> {
        let index = self.index;
        let project = self.project();
        project
            .paths
            .written
            .iter()
            .map(|(key, segments)| {
                let written = segments.join(".");
                let entity = EntityKey::new(EntityKind::Asset, key.as_str());
                let (detail, documentation) = describe(index, &entity, &written);
                CompletionItem {
                    label: written.clone(),
                    kind: CompletionKind::Asset,
                    detail: Some(detail),
                    documentation,
                    insert_text: written.clone(),
                    is_snippet: false,
                    replace,
                    sort_text: rank(project, &entity, &written),
                    filter_text: None,
                }
            })
            .collect()
    }

    /// The next segment of known asset paths under `parent` (a path key).
    fn path_children(&mut self, parent: &str, replace: TextRange) -> Vec<CompletionItem> {
        let index = self.index;
        let project = self.project();
        let depth = if parent.is_empty() { 0 } else { parent.split('.').count() };
        project
            .paths
            .written
            .iter()
            .filter(|(key, segments)| {
                let key_parent = key.rfind('.').map_or("", |p| &key[..p]);
                segments.len() == depth + 1 && key_parent == parent
            })
            .map(|(key, segments)| {
                let segment = segments[depth].clone();
                let entity = EntityKey::new(EntityKind::Asset, key.as_str());
                let (detail, documentation) = describe(index, &entity, &segments.join("."));
                CompletionItem {
                    label: segment.clone(),
                    kind: CompletionKind::Asset,
                    detail: Some(detail),
                    documentation,
                    insert_text: segment.clone(),
                    is_snippet: false,
                    replace,
                    sort_text: rank(project, &entity, &segment),
                    filter_text: None,
                }
            })
            .collect()
    }

    /// `@id` (ThreatSpec 0.1) inside the arguments: boundaries and threats by id, `@b:@c`
    /// components.
    fn legacy(&mut self, body: &str, from: usize, expected: Option<EntityKind>) -> Vec<CompletionItem> {
        let end = self.word_end(is_id_char);
        if let Some((boundary, partial)) = body.split_once(":@") {
            if !partial.chars().all(is_id_char) {
                return Vec::new();
            }
            let replace = TextRange::new(from + boundary.len() + 2, end);
            return self.path_children(&path_key(boundary), replace);
        }
        if !body.chars().all(is_id_char) {
            return Vec::new();
        }
        let replace = TextRange::new(from, end);
        match expected {
            Some(EntityKind::Asset) => {
                let mut items = self.legacy_boundaries(replace);
                items.extend(self.ids(EntityKind::Boundary, replace, ""));
                items
            }
            Some(EntityKind::Boundary) => {
                let mut items = self.ids(EntityKind::Boundary, replace, "");
                items.extend(self.legacy_boundaries(replace));
                items
            }
            Some(kind) => self.ids(kind, replace, ""),
            None => Vec::new(),
        }
        .into_iter()
        .map(|mut item| {
            if let Some(id) = item.label.strip_prefix('#') {
                item.label = format!("@{id}");
            }
            item
        })
        .collect()
    }

    fn legacy_boundaries(&mut self, replace: TextRange) -> Vec<CompletionItem> {
        let project = self.project();
        project
            .paths
            .legacy_boundaries
            .iter()
            .map(|(key, written)| {
                let entity = EntityKey::new(EntityKind::Asset, key.as_str());
                CompletionItem {
                    label: format!("@{written}"),
                    kind: CompletionKind::Boundary,
                    detail: Some(format!("trust boundary `{written}`")),
                    documentation: None,
                    insert_text: written.clone(),
                    is_snippet: false,
                    replace,
                    sort_text: rank(project, &entity, written),
                    filter_text: Some(written.clone()),
                }
            })
            .collect()
    }
}

/// The entity kind a slot expects (`@alias`/`@describe` targets take the kind written before).
fn slot_kind(slots: &[Slot], slot: usize, tokens: &[&str]) -> Option<EntityKind> {
    match slots.get(slot)? {
        Slot::Arg(kind, _) => Some(*kind),
        Slot::LegacyTarget => tokens.first().and_then(|word| legacy_kind(word)),
        _ => None,
    }
}

fn external_refs(prefix: &str, list: &[(&str, &str)], replace: TextRange, full: bool) -> Vec<CompletionItem> {
    list.iter()
        .enumerate()
        .map(|(i, (id, title))| {
            let whole = format!("{prefix}:{id}");
            CompletionItem {
                label: whole.clone(),
                kind: CompletionKind::ExternalRef,
                detail: Some(title.to_string()),
                documentation: None,
                insert_text: if full { whole.clone() } else { id.to_string() },
                is_snippet: false,
                replace,
                sort_text: format!("3{prefix}{i:02}"),
                filter_text: Some(if full { whole } else { id.to_string() }),
            }
        })
        .collect()
}

/// Same file first, then the most referenced, then by name.
fn rank(project: &Project, entity: &EntityKey, name: &str) -> String {
    let here = if project.in_file.contains(entity) { 0 } else { 1 };
    let used = project.usage.get(entity).copied().unwrap_or(0).min(999_999);
    format!("1{here}{:06}{}", 999_999 - used, name.to_lowercase())
}

/// The detail line and markdown documentation of an entity. Every piece of annotation text
/// in the documentation goes through [`escape_markdown`], as in hover: editors render it, so a
/// name or description could otherwise load a remote image or show a `command:` link.
fn describe(index: &ProjectIndex, entity: &EntityKey, name: &str) -> (String, Option<String>) {
    let mut detail = format!("{} {name}", entity.kind.as_str());
    let mut doc = String::new();
    let defs = index.definitions(entity);
    let declared = defs.iter().find(|(_, d)| d.declared).or(defs.first());
    if let Some((file, def)) = declared {
        detail.push_str(&format!(" — {}", index.shown_path(file.as_str())));
        if let Some(facts) = index.file(file.as_str())
            && let Some(ann) = facts.annotations().get(def.annotation)
        {
            doc.push_str(&format!("**{}** ({})", escape_markdown(name), entity.kind.as_str()));
            if let Some(sev) = &ann.severity {
                doc.push_str(&format!(" `[{}]`", sev.value.as_str()));
            }
            if let Some(d) = ann.description.as_ref().or(ann.details.as_ref()) {
                doc.push_str(&format!("\n\n{}", escape_markdown(&d.value)));
            }
            if !ann.external_refs().is_empty() {
                let refs: Vec<_> = ann.external_refs().iter().map(|r| escape_markdown(&r.value)).collect();
                doc.push_str(&format!("\n\nReferences: {}", refs.join(", ")));
            }
            doc.push_str(&format!(
                "\n\nDefined in {}",
                escape_markdown(&index.place(file.as_str(), def.range.start()))
            ));
        }
    }
    (detail, (!doc.is_empty()).then_some(doc))
}

/// A snippet template shown as plain text: `${1:asset}` -> `asset`, `${1|a,b|}` -> `a|b`.
fn strip_placeholders(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let inner_end = rest[at..].find('}').map_or(rest.len(), |p| at + p);
        let inner = &rest[at + 2..inner_end];
        let body = inner.trim_start_matches(|c: char| c.is_ascii_digit());
        let body = body.strip_prefix(':').unwrap_or(body);
        let body = body.trim_matches('|').replace(',', "|");
        out.push_str(&body);
        rest = &rest[(inner_end + 1).min(rest.len())..];
    }
    out.push_str(rest);
    out
}

impl CompletionIndex {
    pub fn new(index: &ProjectIndex) -> CompletionIndex {
        gather(index)
    }
}

fn gather(index: &ProjectIndex) -> CompletionIndex {
    let mut usage: FxHashMap<EntityKey, usize> = FxHashMap::default();
    let mut paths = AssetPaths::default();
    let mut later: Vec<(String, Vec<String>)> = Vec::new();
    for facts in index.files() {
        for refs in &facts.refs {
            for fact in refs {
                let resolved = index.resolve(fact);
                if let Resolved::Entity(e) = &resolved
                    && !fact.defines
                {
                    *usage.entry(e.clone()).or_default() += 1;
                }
                if fact.kind != EntityKind::Asset {
                    continue;
                }
                let written = facts.slice(fact.name_range);
                let (key, segments): (String, Vec<String>) = match fact.lookup() {
                    Lookup::Name(n) => (
                        n.path.to_string(),
                        written
                            .split(['.', ':'])
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    ),
                    Lookup::Legacy(path) => {
                        let segments: Vec<String> = written.split(":@").map(str::to_string).collect();
                        if let Some(b) = segments.first() {
                            paths.legacy_boundaries.entry(path_key(b)).or_insert_with(|| b.clone());
                        }
                        (path.to_string(), segments)
                    }
                    _ => continue,
                };
                if key.is_empty() || key.split('.').count() != segments.len() {
                    continue;
                }
                if fact.defines {
                    paths.written.entry(key).or_insert(segments);
                } else {
                    later.push((key, segments));
                }
            }
        }
    }
    for (key, segments) in later {
        paths.written.entry(key).or_insert(segments);
    }
    // Every ancestor of a known path is a known path too.
    let keys: Vec<(String, Vec<String>)> =
        paths.written.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for (key, segments) in keys {
        for (depth, ancestor) in ancestors(&key).enumerate() {
            let len = segments.len() - depth - 1;
            paths.written.entry(ancestor.to_string()).or_insert_with(|| segments[..len].to_vec());
        }
    }
    CompletionIndex { usage, paths }
}
