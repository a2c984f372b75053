//! Threat libraries: threats (and controls) a project may name without defining them.
//!
//! Owns: [`Library`] and [`LibraryEntry`], the built-in library ([`Library::builtin`]: the six
//! STRIDE categories, the OWASP Top 10 2021 categories and every CWE that
//! [`crate::analysis::stride`]'s mapping lists, the CWE Top 25 of 2024 among them), the
//! reference spelling [`LIB_TAG`] and the entity key of a library entry ([`entity_key`]). Must
//! never: read a file (the built-in data is compiled in, `data/threat-library.json`), restate
//! a STRIDE category (an entry's categories are those of its `refs`, by
//! [`crate::analysis::stride::stride_of`]), or parse the built-in data before a project asks
//! for it (it is parsed once, on the first lookup).
//!
//! # Spelling
//!
//! A library entry is referenced as the qualified tag `#lib.<id>`: `#lib.cwe-89`,
//! `#lib.owasp-a03`, `#lib.stride-spoofing`; ids compare without regard to case. It is GAL's
//! cross-repository tag form (`#repo.id`), so GuardLink's parser reads the line unchanged.
//! `lib` is reserved: `#lib.<id>` is looked up in the library first; only an id the library
//! lacks goes on to a repository named `lib`, and with none it is a `dangling-reference`.
//!
//! A project library's entry (ThreatSpec's `threats.json`, its 0.1 CWE library, a
//! `threat-library.yaml`: the reading layer builds [`LibraryEntry`]s from them) also resolves
//! as a plain `#id` (or legacy `@id`) when no annotation defines that id, as ThreatSpec's
//! imported libraries do.

use crate::file_id::FileId;
use crate::syntax::EntityKind;
use crate::text::TextRange;
use rustc_hash::FxHashMap;
use serde::Deserialize;
use std::sync::OnceLock;

/// The repository segment of a library reference: `#lib.cwe-89`.
pub const LIB_TAG: &str = "lib";

/// The kinds of data-flow-diagram element an entry applies to (its `applicable_to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppliesTo {
    Process,
    DataStore,
    ExternalEntity,
    /// A data flow crossing a trust boundary.
    DataFlow,
}

impl AppliesTo {
    pub const ALL: [AppliesTo; 4] =
        [AppliesTo::Process, AppliesTo::DataStore, AppliesTo::ExternalEntity, AppliesTo::DataFlow];

    /// An `applicable_to` value: `process`, `data store`/`data_store`/`datastore`/`store`,
    /// `external entity`/`external_entity`/`external`/`actor`, `data flow`/`data_flow`/`flow`
    /// (any case, `-`, `_` or a space between words).
    pub fn parse(value: &str) -> Option<AppliesTo> {
        let word: String =
            value.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        Some(match word.as_str() {
            "process" | "processes" | "service" => AppliesTo::Process,
            "datastore" | "store" | "datastores" | "database" => AppliesTo::DataStore,
            "externalentity" | "external" | "actor" | "externalentities" => AppliesTo::ExternalEntity,
            "dataflow" | "flow" | "dataflows" | "flows" => AppliesTo::DataFlow,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AppliesTo::Process => "process",
            AppliesTo::DataStore => "data store",
            AppliesTo::ExternalEntity => "external entity",
            AppliesTo::DataFlow => "data flow",
        }
    }
}

/// One threat or control of a library.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct LibraryEntry {
    /// The id references use after `#lib.` (lowercase in the built-in library).
    pub id: String,
    #[serde(default = "threat_kind", skip_deserializing)]
    pub kind: EntityKind,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// External references (`cwe:CWE-89`, `owasp:A03:2021`, `stride:S`): its STRIDE
    /// categories are what [`crate::analysis::stride::stride_of`] makes of them.
    #[serde(default)]
    pub refs: Vec<String>,
    #[serde(default)]
    pub mitigations: Vec<String>,
    #[serde(default)]
    pub applies_to: Vec<AppliesTo>,
    /// Documentation of the entry (go-to-definition of a built-in entry opens it).
    #[serde(default)]
    pub url: Option<String>,
    /// Where a project library writes the entry's id (`None` for the built-in library).
    #[serde(skip)]
    pub source: Option<(FileId, TextRange)>,
}

fn threat_kind() -> EntityKind {
    EntityKind::Threat
}

/// A set of entries with a case-insensitive id lookup.
#[derive(Debug, Default)]
pub struct Library {
    entries: Vec<LibraryEntry>,
    by_id: FxHashMap<String, usize>,
}

#[derive(Deserialize)]
struct BuiltinFile {
    entries: Vec<LibraryEntry>,
}

/// The built-in library's data, compiled into the binary.
const BUILTIN_JSON: &str = include_str!("../../data/threat-library.json");

impl Library {
    /// A library of `entries`; a later entry with an id already taken is left out of the id
    /// lookup (the reader that built the entries reports it).
    pub fn new(entries: Vec<LibraryEntry>) -> Library {
        let mut by_id = FxHashMap::default();
        for (i, e) in entries.iter().enumerate() {
            by_id.entry(e.id.to_ascii_lowercase()).or_insert(i);
        }
        Library { entries, by_id }
    }

    /// The built-in library, parsed on first use.
    pub fn builtin() -> &'static Library {
        static BUILTIN: OnceLock<Library> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let file: BuiltinFile = serde_json::from_str(BUILTIN_JSON)
                .expect("data/threat-library.json is valid (a test checks it)");
            Library::new(file.entries)
        })
    }

    /// The entry with this id (any case).
    pub fn get(&self, id: &str) -> Option<&LibraryEntry> {
        let i = match self.by_id.get(id) {
            Some(i) => *i,
            None => *self.by_id.get(&id.to_ascii_lowercase())?,
        };
        self.entries.get(i)
    }

    pub fn entries(&self) -> &[LibraryEntry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The entity key of a library entry: `lib:<id>`, lowercase. No other key has this form: a
/// normalised name never holds `-` and an id never holds `:`, and every built-in id holds a `-`.
pub fn entity_key(id: &str) -> String {
    format!("{LIB_TAG}:{}", id.to_ascii_lowercase())
}

/// The library id of an entity key made by [`entity_key`].
pub fn id_of_key(key: &str) -> Option<&str> {
    key.strip_prefix(LIB_TAG)?.strip_prefix(':')
}

/// The id a qualified tag (without `#`) names in the library: `lib.cwe-89` -> `cwe-89`.
pub fn id_of_tag(tag: &str) -> Option<&str> {
    tag.strip_prefix(LIB_TAG)?.strip_prefix('.').filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_and_looks_up_in_any_case() {
        let lib = Library::builtin();
        assert_eq!(lib.entries().len(), 6 + 10 + 65);
        assert_eq!(lib.get("cwe-89").map(|e| e.refs.as_slice()), Some(&["cwe:CWE-89".to_string()][..]));
        assert_eq!(lib.get("CWE-89").map(|e| e.id.as_str()), Some("cwe-89"));
        assert!(lib.get("cwe-99999").is_none());
        for e in lib.entries() {
            assert!(!e.name.is_empty() && !e.description.is_empty(), "{}", e.id);
            assert!(!e.mitigations.is_empty() && !e.applies_to.is_empty(), "{}", e.id);
            assert!(e.url.as_deref().is_some_and(|u| u.starts_with("https://")), "{}", e.id);
            assert!(e.description.len() < 200, "{}: a short description of our own", e.id);
            assert_eq!(e.id, e.id.to_ascii_lowercase());
            assert!(e.id.contains('-'), "{}: keys stay apart from normalised names", e.id);
            assert!(
                e.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
                "{}: a GAL tag segment",
                e.id
            );
            assert_eq!(lib.get(&e.id), Some(e), "ids are unique");
        }
    }

    #[test]
    fn tags_and_keys() {
        assert_eq!(id_of_tag("lib.cwe-89"), Some("cwe-89"));
        assert_eq!(id_of_tag("lib."), None);
        assert_eq!(id_of_tag("library.x"), None);
        assert_eq!(entity_key("CWE-89"), "lib:cwe-89");
        assert_eq!(id_of_key("lib:cwe-89"), Some("cwe-89"));
        assert_eq!(id_of_key("sqli"), None);
    }
}
