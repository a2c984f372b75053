//! Sidecar anchors: where the annotations of a `.gal` file say they belong.
//!
//! GuardLink's external mode keeps annotations out of the code, in `.gal` sidecar files whose
//! `@source file:<path> line:<n> symbol:<name>` lines say which code the following annotations
//! describe. Owns: turning what a `@source` line says into a project file key
//! ([`anchor_key`]), the text of anchored files that the reading layer provides
//! ([`AnchorText`]), and the rule that finds a symbol in that text ([`symbol_lines`]). Must
//! never: read a file (the walk and the language server read anchored files and hand their
//! text to [`super::ProjectIndex::set_anchor_text`]).
//!
//! # Rules
//! - Only annotations in files whose name ends in `.gal` are anchored (an `@source` elsewhere,
//!   such as LuaLS's `---@source file:///x.lua:3`, locates nothing).
//! - `file:` is relative to the project root: the directory that holds the `.guardlink`
//!   directory the `.gal` file is in, else the `.gal` file's own directory. An absolute path,
//!   a URL or a path that climbs out with `..` is refused (a `stale-anchor` diagnostic): a
//!   repository's sidecar may only make the tool read the repository.
//! - The symbol is found textually, in every language alike (a deliberate choice over a
//!   tree-sitter query per language: anchors name functions, methods and classes, and a
//!   definition line names them recognisably in all 22 languages): the last segment of the
//!   symbol (`Orders.create` -> `create`) as a whole identifier on a line where a definition
//!   keyword (`def`, `class`, `fn`, `func`, `function`, `struct`, `interface`, `const`, ...)
//!   comes before it. When no line has that, lines where it is followed by `(`, `=` or `:`
//!   (a method signature in Java or C, an assignment, an object key).
//! - An anchor is *at or near* its line when such a line lies within [`NEAR_LINES`] lines of
//!   `line:` (decorators and doc comments sit between a recorded line and a definition).

use crate::file_id::FileId;
use crate::text::LineIndex;
use std::sync::Arc;

/// How far (in lines) a symbol may be from its recorded line and still count as there.
pub const NEAR_LINES: u32 = 3;

/// The text of a file some `@source` names, as the reading layer found it.
#[derive(Debug)]
pub enum AnchorText {
    Read {
        text: Arc<str>,
        line_index: LineIndex,
    },
    /// Missing or refused; the reason, for the diagnostic.
    Unreadable(String),
}

impl AnchorText {
    pub fn read(text: Arc<str>) -> AnchorText {
        let line_index = LineIndex::new(&text);
        AnchorText::Read { text, line_index }
    }
}

/// Whether annotations of the file `key` are anchored by their `@source` lines.
pub fn is_sidecar(key: &str) -> bool {
    key.ends_with(".gal")
}

/// The project key of the file that `written` (a `@source file:` value) names, for
/// annotations in the sidecar `gal` (see the module rules).
pub fn anchor_key(gal: &str, written: &str) -> Result<FileId, String> {
    if written.starts_with('/')
        || written.starts_with('\\')
        || written.contains("://")
        || written.contains(":\\")
    {
        return Err(format!(
            "`{written}` is not a path relative to the project root: `@source` paths are relative \
             (the directory that holds `.guardlink`)"
        ));
    }
    let base = match gal.rfind("/.guardlink/") {
        Some(at) => &gal[..at],
        None if gal.starts_with(".guardlink/") => "",
        None => gal.rfind('/').map_or("", |at| &gal[..at]),
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in written.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "`{written}` climbs out of the project with `..`: `@source` may only name files inside it"
                ));
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return Err(format!("`{written}` names no file"));
    }
    Ok(FileId::under(base, &parts.join("/")))
}

/// Words that introduce a definition in the supported languages.
const DEFINITION_KEYWORDS: &[&str] = &[
    "def",
    "class",
    "fn",
    "func",
    "function",
    "struct",
    "enum",
    "trait",
    "interface",
    "impl",
    "type",
    "module",
    "object",
    "sub",
    "proc",
    "const",
    "let",
    "var",
    "val",
    "resource",
    "data",
    "message",
    "service",
    "record",
];

/// The 1-based lines where `symbol` is defined in `text`, by the module's textual rule.
pub fn symbol_lines(text: &str, symbol: &str) -> Vec<u32> {
    let name = symbol.rsplit(['.', ':', '#', '/']).find(|s| !s.is_empty()).unwrap_or(symbol);
    if name.is_empty() {
        return Vec::new();
    }
    let (mut defined, mut shaped) = (Vec::new(), Vec::new());
    for (n, line) in text.lines().enumerate() {
        // Cheap rejection first: most lines do not mention the name at all.
        if !line.contains(name) {
            continue;
        }
        let mut kind = None;
        for at in whole_word_positions(line, name) {
            let before = &line[..at];
            if before.split(|c: char| !is_ident(c)).any(|w| DEFINITION_KEYWORDS.contains(&w)) {
                kind = Some(true);
                break;
            }
            let after = line[at + name.len()..].trim_start();
            let shape = after.starts_with('(')
                || (after.starts_with('=') && !after.starts_with("=="))
                || (after.starts_with(':') && !after.starts_with("::"));
            if shape {
                kind = kind.or(Some(false));
            }
        }
        match kind {
            Some(true) => defined.push(n as u32 + 1),
            Some(false) => shaped.push(n as u32 + 1),
            None => {}
        }
    }
    if defined.is_empty() { shaped } else { defined }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

fn whole_word_positions<'a>(line: &'a str, name: &'a str) -> impl Iterator<Item = usize> + 'a {
    line.match_indices(name).map(|(at, _)| at).filter(move |&at| {
        let before_ok = !line[..at].chars().next_back().is_some_and(is_ident);
        let after_ok = !line[at + name.len()..].chars().next().is_some_and(is_ident);
        before_ok && after_ok
    })
}

/// Whether `symbol` names the anchored file's module itself rather than something defined in
/// it: GuardLink anchors module-level annotations to the module's name (`symbol:app` for
/// `app/__init__.py`, `symbol:ledger` for `app/ledger.py`). The module's name is the file's stem,
/// or its directory's name for a package file (`__init__.py`, `index.*`, `mod.rs`, `main.go`'s
/// package is not guessed).
pub fn names_the_module(key: &str, symbol: &str) -> bool {
    let mut parts = key.rsplit('/');
    let file = parts.next().unwrap_or(key);
    let stem = file.split_once('.').map_or(file, |(stem, _)| stem);
    let module = match stem {
        "__init__" | "index" | "mod" => parts.next().unwrap_or(stem),
        _ => stem,
    };
    !module.is_empty() && symbol == module
}

/// The candidate nearest to `line` (the earlier one on a tie).
pub fn nearest(candidates: &[u32], line: u32) -> Option<u32> {
    candidates.iter().copied().min_by_key(|c| (c.abs_diff(line), *c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_relative_to_the_guardlink_root() {
        let key = |gal, written| anchor_key(gal, written).map(|k| k.to_string());
        assert_eq!(
            key("shop/.guardlink/annotations/app/db.py.gal", "app/db.py"),
            Ok("shop/app/db.py".into())
        );
        assert_eq!(key(".guardlink/annotations/db.py.gal", "./app/db.py"), Ok("app/db.py".into()));
        assert_eq!(key("/ws/p/.guardlink/x.gal", "src/a.ts"), Ok("/ws/p/src/a.ts".into()));
        assert_eq!(key("docs/model.gal", "src/a.ts"), Ok("docs/src/a.ts".into()));
        assert!(key(".guardlink/x.gal", "../secret").unwrap_err().contains("climbs out"));
        assert!(key(".guardlink/x.gal", "/etc/passwd").unwrap_err().contains("not a path relative"));
        assert!(key(".guardlink/x.gal", "file:///x.lua").is_err());
    }

    #[test]
    fn a_symbol_may_name_the_module_itself() {
        assert!(names_the_module("app/__init__.py", "app"));
        assert!(names_the_module("app/ledger.py", "ledger"));
        assert!(names_the_module("web/src/index.ts", "src"));
        assert!(names_the_module("src/lsp/mod.rs", "lsp"));
        assert!(!names_the_module("app/ledger.py", "app"));
        assert!(!names_the_module("app/__init__.py", "__init__"));
        assert!(!names_the_module("app/ledger.py", "search_entries"));
    }

    #[test]
    fn symbols_are_found_on_definition_lines_first() {
        let py = "def connect():\n    pass\n\n\ndef find(user):\n    conn = connect()\n";
        assert_eq!(symbol_lines(py, "connect"), [1]);
        assert_eq!(symbol_lines(py, "find"), [5]);
        assert_eq!(symbol_lines(py, "db.find"), [5]);
        assert_eq!(symbol_lines(py, "missing"), Vec::<u32>::new());
        // No keyword (a Java method): the signature shape.
        let java = "class A {\n  public int total(int a) {\n    return sub(a);\n  }\n}";
        assert_eq!(symbol_lines(java, "total"), [2,]);
        let go = "func (s *Server) Handle(w http.ResponseWriter) {}\n";
        assert_eq!(symbol_lines(go, "Handle"), [1]);
        // A longer identifier is not the symbol.
        assert_eq!(symbol_lines("def connector():\n", "connect"), Vec::<u32>::new());
        assert_eq!(nearest(&[3, 10, 17], 12), Some(10));
    }
}
