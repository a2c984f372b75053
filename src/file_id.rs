//! File identity: the key by which every layer names one file of the project.
//!
//! Owns: [`FileId`], an opaque, cheaply cloned text that is equal for the same file within one
//! index, and the constructors that say where that text comes from. Must never: do I/O, or
//! resolve, normalise or compare paths as paths (that is `walk`'s and `lsp`'s job); the core
//! only compares, orders and shows identities.
//!
//! # What the text is
//!
//! It depends on the front end that built the index, and never mixes within one index:
//!
//! - **CLI** (`check`, `dfd`, `report`, `export`): the path relative to the scan's base
//!   directory (`walk::Scan::root`), `/`-separated (`src/app.py`, `.guardlink/defs.gal`,
//!   `threatspec.yaml`), made by the walk ([`FileId::relative`]). Files a `.gal` sidecar's
//!   `@source` names are relative the same way (`model::anchors::anchor_key` puts them under
//!   the sidecar's project directory: [`FileId::under`]), and `dfd --file` looks its file up under the same key.
//!   This is the path every output shows.
//! - **Language server**: a file on disk by its absolute path, as lossy UTF-8 text
//!   (`/work/shop/src/app.py`; [`FileId::absolute`]): files of the workspace index (the walk with
//!   `absolute_paths`), open `file:` documents, files changed on disk, configuration files and
//!   the files sidecars anchor to. An open document of another URI scheme is keyed by its URI
//!   text (`untitled:Untitled-1`; [`FileId::from_uri_text`]). `lsp::convert::uri_of` turns an
//!   identity back into a URI: text starting with `/` is a path, anything else a URI.
//!
//! Identities order and hash exactly as their text does (outputs are sorted by them), and
//! [`FileId`] borrows as `str` so that maps keyed by it are looked up with a `&str`.

use std::borrow::Borrow;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// One file of the project, by the text its front end keys it with (see the module docs).
/// Ordered, compared and hashed as that text.
#[derive(Clone, Eq)]
pub struct FileId(Arc<str>);

// The clones of one identity share its text: they compare equal without reading it (sorting
// thousands of findings compares mostly findings of the same file, whose paths share long
// prefixes with every other).
impl PartialEq for FileId {
    fn eq(&self, other: &FileId) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Ord for FileId {
    fn cmp(&self, other: &FileId) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) { std::cmp::Ordering::Equal } else { self.0.cmp(&other.0) }
    }
}

impl std::hash::Hash for FileId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As the text (maps keyed by identities are looked up with a `&str`).
        self.0.hash(state);
    }
}

impl PartialOrd for FileId {
    fn partial_cmp(&self, other: &FileId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl FileId {
    /// A file by its path relative to the scanned base directory, `/`-separated
    /// (`src/app.py`): the CLI's identity, made by the walk.
    pub fn relative(path: impl Into<Arc<str>>) -> FileId {
        FileId(path.into())
    }

    /// A file on disk by its absolute path, as lossy UTF-8 text: the language server's identity
    /// of every file it reads or is sent as a `file:` URI.
    pub fn absolute(path: &Path) -> FileId {
        FileId(path.to_string_lossy().into())
    }

    /// An open document whose URI is not a `file:` path (`untitled:Untitled-1`), by the URI's
    /// text: the language server's identity of buffers that have no file.
    pub fn from_uri_text(uri: &str) -> FileId {
        FileId(uri.into())
    }

    /// The file at `rel` (`/`-separated, already checked to stay inside) under `dir`, the
    /// directory part of another identity's text (empty: the top of the scan): an identity of
    /// the same kind as that one, relative in the CLI, absolute in the language server. A
    /// `.gal` sidecar's `@source` names its files this way.
    pub fn under(dir: &str, rel: &str) -> FileId {
        if dir.is_empty() { FileId(rel.into()) } else { FileId(format!("{dir}/{rel}").into()) }
    }

    /// The identity's text, to show or to look up by.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for FileId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// As the text alone (`"src/app.py"`), as the identity printed before it had a type of its own.
impl fmt::Debug for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    #[test]
    fn orders_and_shows_as_its_text() {
        let mut ids = [FileId::relative("src/b.py"), FileId::relative("a.py"), FileId::relative("src/a.py")];
        ids.sort();
        let texts: Vec<&str> = ids.iter().map(FileId::as_str).collect();
        assert_eq!(texts, ["a.py", "src/a.py", "src/b.py"]);
        assert_eq!(FileId::relative("src/a.py").to_string(), "src/a.py");
        assert_eq!(format!("{:?}", FileId::relative("src/a.py")), "\"src/a.py\"");
    }

    #[test]
    fn clones_and_copies_of_a_text_are_the_same_identity() {
        let a = FileId::relative("src/a.py");
        let copy = FileId::relative(String::from("src/a.py"));
        let b = FileId::relative("src/b.py");
        for same in [a.clone(), copy] {
            assert_eq!(a, same);
            assert_eq!(a.cmp(&same), std::cmp::Ordering::Equal);
        }
        assert_ne!(a, b);
        assert_eq!(a.cmp(&b), std::cmp::Ordering::Less);
        assert_eq!(b.cmp(&a.clone()), std::cmp::Ordering::Greater);
    }

    #[test]
    fn maps_keyed_by_identity_are_looked_up_by_text() {
        let by_tree: BTreeMap<FileId, u8> = [(FileId::absolute(Path::new("/w/app.py")), 1)].into();
        let by_hash: HashMap<FileId, u8> = [(FileId::from_uri_text("untitled:Untitled-1"), 2)].into();
        assert_eq!(by_tree.get("/w/app.py"), Some(&1));
        assert_eq!(by_hash.get("untitled:Untitled-1"), Some(&2));
        assert_eq!(by_tree.get("w/app.py"), None);
    }
}
