//! Tidy checks over the sources (rust-analyzer's `xtask/src/tidy.rs` is the model): the layer
//! rules of `src/lib.rs` and `docs/architecture.md`, checked on the text of every `src/**.rs`.
//!
//! - Every file starts with a `//!` module doc (which says what the module owns and must never
//!   do).
//! - A module names another top-level module (`crate::X`, also inside `crate::{...}`) only
//!   along an edge of [`ALLOWED`]; the edges that break the layering today are listed in
//!   [`KNOWN_VIOLATIONS`] with the reason, and each must still exist (fixing one means deleting
//!   its line).
//! - Protocol types ([`PROTOCOL`]) appear only in their server (`lsp`, `mcp`); I/O ([`IO`]) never in the modules
//!   below the shells and the reading modules ([`NO_IO`]).
//!
//! Comments are left out (`//` to the end of the line); strings are not, so a string that
//! spells a forbidden path fails (rename it).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What each shell (`lsp`, `cli`, `mcp`) may use: every layer below it.
const SHELL_EDGES: &[&str] = &[
    "watch",
    "render",
    "infra",
    "walk",
    "sides",
    "vcs",
    "revision_scan",
    "paths",
    "cache",
    "ignore_files",
    "read",
    "config",
    "analysis",
    "model",
    "syntax",
    "diagnostic",
    "file_id",
    "text",
    "limits",
];

/// Every top-level module and the top-level modules it may name (`crate::X`), lowest layer
/// first. Layers: syntax -> model -> analysis -> render -> (lsp | cli), over the small shared
/// modules (`limits`, `text`, `file_id`, `diagnostic`); `config` (configuration text, no I/O)
/// sits beside `syntax`; the reading modules (`read`, `ignore_files`, `cache`, `walk`) and the
/// path utilities (`paths`) sit beside `analysis`/`render`, used only by the shells.
const ALLOWED: &[(&str, &[&str])] = &[
    ("limits", &[]),
    ("text", &[]),
    ("file_id", &[]),
    ("diagnostic", &["file_id", "text", "limits"]),
    ("syntax", &["diagnostic", "file_id", "text", "limits"]),
    ("config", &["diagnostic", "file_id", "text", "limits"]),
    ("model", &["syntax", "diagnostic", "file_id", "text", "limits"]),
    ("analysis", &["model", "syntax", "diagnostic", "file_id", "text", "limits"]),
    // The baseline from infrastructure code: rules name STRIDE categories (analysis::stride).
    ("infra", &["analysis", "syntax", "diagnostic", "file_id", "text", "limits"]),
    ("render", &["infra", "analysis", "model", "syntax", "diagnostic", "file_id", "text", "limits"]),
    ("paths", &[]),
    ("read", &["limits"]),
    ("vcs", &["read", "paths", "text", "limits"]),
    ("revision_scan", &["vcs", "walk", "read", "paths", "config", "model", "file_id", "limits"]),
    // The shells' bridge: render must not name vcs, and the shells must not name each other.
    ("sides", &["render", "vcs"]),
    ("ignore_files", &["read", "limits"]),
    ("cache", &["read", "model", "syntax", "file_id", "text", "limits"]),
    (
        "walk",
        &[
            "cache",
            "ignore_files",
            "read",
            "paths",
            "config",
            "model",
            "syntax",
            "diagnostic",
            "file_id",
            "text",
            "limits",
        ],
    ),
    // The file watcher the two servers share (lsp, mcp): notify's events as changed paths.
    ("watch", &[]),
    ("lsp", SHELL_EDGES),
    ("cli", SHELL_EDGES),
    ("mcp", SHELL_EDGES),
];

/// Edges that break the layering today, each with where it is and why it is wrong. Reported to
/// be fixed, not allowed: the test fails on any other edge outside [`ALLOWED`] and on any entry
/// here that no longer exists.
const KNOWN_VIOLATIONS: &[(&str, &str, &str)] = &[
    (
        "diagnostic",
        "syntax",
        "Diagnostic::finding_severity holds a syntax::Severity while syntax builds diagnostics \
         (diagnostic::Code): a cycle between the lowest shared module and syntax",
    ),
    (
        "cli",
        "lsp",
        "cli::main starts the language server (lsp::run_stdio) for no command, `lsp` or `--stdio`: \
         the two shells are peers, the binary (src/main.rs) should choose between them",
    ),
];

/// Protocol crates and the modules that may name them: the language server's in `lsp`, the MCP
/// SDK in `mcp`, the async runtime in both servers.
const PROTOCOL: &[(&str, &[&str])] = &[
    ("tower_lsp_server", &["lsp"]),
    ("tower_lsp", &["lsp"]),
    ("ls_types", &["lsp"]),
    ("lsp_types", &["lsp"]),
    ("rmcp", &["mcp"]),
    ("tokio", &["lsp", "mcp"]),
];

/// I/O: standard library modules and crates (`ignore` is the walker); see [`NO_IO`].
const IO: &[&str] =
    &["std::fs", "std::io", "std::net", "std::process", "std::env", "std::os", "libc", "notify", "ignore"];

/// Modules that do no I/O (the core and `render`; `config` parses text others read).
const NO_IO: &[&str] =
    &["limits", "text", "file_id", "diagnostic", "syntax", "config", "model", "analysis", "infra", "render"];

/// `(path relative to src, text)` of every `.rs` file under `src`, sorted.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The top-level module a file belongs to (`syntax/parser.rs` -> `syntax`); `None` for the
/// crate root and the binary.
fn top_module(rel: &str) -> Option<&str> {
    match rel {
        "lib.rs" | "main.rs" => None,
        _ => Some(rel.split('/').next().unwrap().trim_end_matches(".rs")),
    }
}

/// The text without `//` comments.
fn code(text: &str) -> String {
    text.lines().map(|line| line.find("//").map_or(line, |i| &line[..i])).collect::<Vec<_>>().join("\n")
}

/// The first segments of every path after `prefix::` in `code`, including each item of a
/// `prefix::{a, b::c}` group (`crate::` -> `["a", "b"]`).
fn named_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let mut names = BTreeSet::new();
    let needle = format!("{prefix}::");
    let mut rest = code;
    while let Some(i) = rest.find(&needle) {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + needle.len()..];
        // `mycrate::` is not `crate::`; `$crate::` is.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            names.extend(group[..end].split(',').map(|item| ident(item.trim())).filter(|s| !s.is_empty()));
        } else {
            names.insert(ident(rest));
        }
    }
    names
}

/// Whether `code` names `path` (`std::fs`, a crate `tokio`) as a path of its own: `std::fs` is
/// found in `std::fs::read` and in `use std::{fs, io}`, not in `my_std::fs`; a crate in
/// `tokio::spawn` and `use tokio;`, not in a variable or field called `tokio`.
fn names_path(code: &str, path: &str) -> bool {
    if let Some((root, item)) = path.split_once("::") {
        return named_after(code, root).contains(item);
    }
    let bytes = code.as_bytes();
    let as_root = code.match_indices(&format!("{path}::")).any(|(i, _)| {
        !i.checked_sub(1).is_some_and(|j| bytes[j].is_ascii_alphanumeric() || b"_.:".contains(&bytes[j]))
    });
    as_root || code.contains(&format!("use {path};")) || code.contains(&format!("use {path} as"))
}

fn allowed(module: &str) -> &'static [&'static str] {
    ALLOWED
        .iter()
        .find(|(m, _)| *m == module)
        .unwrap_or_else(|| panic!("module `{module}` is not in tidy.rs's ALLOWED table: give it a layer"))
        .1
}

/// Every `(from, to, file)` edge between different top-level modules.
fn edges() -> Vec<(String, String, String)> {
    let modules: BTreeSet<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    let mut edges = Vec::new();
    for (rel, text) in sources() {
        let Some(from) = top_module(&rel) else { continue };
        for to in named_after(&code(&text), "crate") {
            if to != from && modules.contains(to.as_str()) {
                edges.push((from.to_string(), to, rel.clone()));
            }
        }
    }
    edges
}

#[test]
fn every_source_file_starts_with_a_module_doc() {
    let missing: Vec<String> =
        sources().into_iter().filter(|(_, text)| !text.starts_with("//!")).map(|(rel, _)| rel).collect();
    assert!(missing.is_empty(), "src files without a `//!` module doc on their first line: {missing:?}");
}

#[test]
fn every_top_level_module_has_a_layer() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let declared: BTreeSet<&str> =
        lib.lines().filter_map(|l| l.strip_prefix("pub mod ").and_then(|m| m.strip_suffix(';'))).collect();
    let tabled: BTreeSet<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    assert_eq!(declared, tabled, "src/lib.rs's modules and tidy.rs's ALLOWED table differ");
}

#[test]
fn modules_name_only_the_layers_below_them() {
    let mut wrong = Vec::new();
    let mut seen_known = BTreeSet::new();
    for (from, to, file) in edges() {
        if allowed(&from).contains(&to.as_str()) {
            continue;
        }
        if KNOWN_VIOLATIONS.iter().any(|(f, t, _)| *f == from && *t == to) {
            seen_known.insert((from, to));
            continue;
        }
        wrong.push(format!("src/{file}: `{from}` names `crate::{to}`, which is not below it"));
    }
    assert!(
        wrong.is_empty(),
        "edges against the layering (src/lib.rs, docs/architecture.md; the table is tidy.rs's ALLOWED):\n{}",
        wrong.join("\n")
    );
    let fixed: Vec<_> = KNOWN_VIOLATIONS
        .iter()
        .filter(|(f, t, _)| !seen_known.contains(&(f.to_string(), t.to_string())))
        .map(|(f, t, _)| format!("{f} -> {t}"))
        .collect();
    assert!(fixed.is_empty(), "fixed, so delete from KNOWN_VIOLATIONS: {fixed:?}");
}

#[test]
fn protocol_types_stay_in_lsp_and_io_out_of_the_core() {
    let mut wrong = Vec::new();
    for (rel, text) in sources() {
        let Some(module) = top_module(&rel) else { continue };
        let code = code(&text);
        wrong.extend(
            PROTOCOL
                .iter()
                .filter(|(p, owners)| !owners.contains(&module) && names_path(&code, p))
                .map(|(p, _)| format!("src/{rel}: {p}")),
        );
        if NO_IO.contains(&module) {
            wrong.extend(IO.iter().filter(|p| names_path(&code, p)).map(|p| format!("src/{rel}: {p}")));
        }
    }
    assert!(
        wrong.is_empty(),
        "protocol outside its server, or I/O in a module that does none:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_path_finder_sees_grouped_and_nested_paths() {
    // The checks above are only as good as this.
    let code = code(
        "use crate::{model::X, syntax};\nlet a = crate::walk::f(); // crate::lsp\nuse std::{fs, io::Write};",
    );
    assert_eq!(named_after(&code, "crate"), ["model", "syntax", "walk"].map(String::from).into());
    assert!(names_path(&code, "std::fs") && names_path(&code, "std::io") && !names_path(&code, "std::net"));
    assert!(names_path("tokio::spawn(x)", "tokio") && !names_path("self.tokio", "tokio"));
    assert!(!names_path("notify_all()", "notify") && names_path("use notify::Watcher;", "notify"));
    assert!(
        names_path("ignore::WalkBuilder", "ignore")
            && !names_path("let ignore = x.ignore::<u8>();", "ignore")
    );
}
