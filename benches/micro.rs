//! Micro-benchmarks (divan): the stages of one `check` and of one keystroke, in isolation.
//!
//!     cargo bench --bench micro              # measure (release profile)
//!     cargo bench --bench micro -- comment   # only benchmarks whose name contains "comment"
//!
//! Under `cargo test --all-targets` every benchmark runs once, as a smoke test.
//!
//! - `annotation_parsing`: the annotation parser on one dense-corpus file's candidate lines.
//! - `comment_extraction`: candidate lines (fast lexer or tree-sitter) of real files, one per
//!   language, from `examples/webshop` (plus a generated C file and, for Rust, this repository's
//!   `src/syntax/comments.rs`; for Ruby `tests/fixtures/lexers/ruby/set.rb`, Ruby 3.1's `Set`;
//!   for Bash `tests/editors/vscode/prepare.sh`; for Kotlin kotlinx.coroutines' `Knit.kt`; for
//!   JSON a generated settings file with comments).
//! - `comment_extraction_tree_sitter`: the same files' candidate lines from a full tree-sitter
//!   parse, the path the fast lexer saves (and the one languages without a lexer take).
//! - `model_update_one_file`: parse one edited file and replace it in a 2,000-file index, then
//!   the incremental analysis update the language server runs after each keystroke.
//! - `project_diagnostics`: resolve and diagnose the whole 2,000-file project.

use std::sync::Arc;
use threat_analyzer::analysis::Analysis;
use threat_analyzer::file_id::FileId;
use threat_analyzer::model::{FileFacts, ProjectIndex};
use threat_analyzer::syntax::{self, Language};

fn main() {
    divan::main();
}

const THREATS: [&str; 6] = [
    "Buffer overflow",
    "Integer overflow",
    "Use after free",
    "Path traversal",
    "SQL injection",
    "Replay attack",
];
const CONTROLS: [&str; 6] = [
    "Bounds checks",
    "Checked arithmetic",
    "Ownership rules",
    "Canonical path prefix check",
    "Prepared statements",
    "Nonce cache",
];

fn slug(name: &str) -> String {
    name.to_lowercase().replace(' ', "_")
}

/// A C file shaped like the dense corpus's: 10 ThreatSpec relations in `//` comments between
/// functions.
fn dense_file(i: usize) -> String {
    let comp = format!("App:Svc{}:Handler{}", i % 40, i / 40);
    let peer = format!("App:Svc{}:Handler{}", (i + 1) % 40, i / 40);
    let (t, u) = (THREATS[i % 6], THREATS[(i + 1) % 6]);
    let (c, d) = (CONTROLS[i % 6], CONTROLS[(i + 1) % 6]);
    let mut out = String::from("#include <stdint.h>\n#include <string.h>\n\n");
    let lines = [
        format!("@exposes {comp} to #{} with length field comes straight from the wire", slug(t)),
        format!("@mitigates {comp} against {t} with {c}"),
        format!("@exposes {comp} to {u} with caller-controlled size"),
        format!("@accepts #{} to {comp} with only reachable from the admin network", slug(u)),
        format!("@exposes {comp} to {t} with handle is shared"),
        format!("@transfers {t} from {comp} to App:Svc{}:Gateway with the gateway re-validates", i % 40),
        format!("@connects {comp} to {peer} with HTTPS"),
        format!("@mitigates {comp} against {u} with {d}"),
        format!("@review {comp} buffer arithmetic checked by hand"),
        format!("@tests #{} for {comp}", slug(c)),
    ];
    for (k, line) in lines.iter().enumerate() {
        out.push_str(&format!("// {line}\n"));
        if k % 3 == 2 {
            out.push_str(&format!(
                "static int f{k}(const uint8_t *buf, size_t len)\n{{\n    if (len < 4) {{\n        return -1;\n    }}\n    /* copy */\n    return (int)buf[0];\n}}\n\n"
            ));
        }
    }
    out
}

fn catalog() -> String {
    let mut out = String::new();
    for t in THREATS {
        out.push_str(&format!("// @threat {t} (#{})\n", slug(t)));
    }
    for c in CONTROLS {
        out.push_str(&format!("// @control {c} (#{})\n", slug(c)));
    }
    out
}

const FILES: usize = 2000;

fn project() -> ProjectIndex {
    let mut index = ProjectIndex::new();
    index.set_file(Arc::new(FileFacts::new(
        FileId::relative("src/catalog.c"),
        Language::C,
        catalog().into(),
    )));
    for i in 0..FILES {
        let path = format!("src/svc{:02}/handler_{i:04}.c", i % 40);
        index.set_file(Arc::new(FileFacts::new(FileId::relative(path), Language::C, dense_file(i).into())));
    }
    index
}

#[divan::bench]
fn annotation_parsing(bencher: divan::Bencher) {
    let text = dense_file(7);
    let lines = syntax::candidate_lines(Language::C, &text);
    bencher.bench(|| syntax::parser::parse_lines(divan::black_box(&text), divan::black_box(&lines)));
}

const SAMPLES: &[(&str, Language)] = &[
    ("api/app.py", Language::Python),
    ("web/checkout.ts", Language::TypeScript),
    ("worker/main.go", Language::Go),
    ("legacy/admin/export.php", Language::Php),
    ("infra/main.tf", Language::Hcl),
    ("config/app.yaml", Language::Yaml),
    ("api/Dockerfile", Language::Dockerfile),
    ("generated.c", Language::C),
    ("src/syntax/comments.rs", Language::Rust),
    ("tests/fixtures/lexers/ruby/set.rb", Language::Ruby),
    ("tests/editors/vscode/prepare.sh", Language::Bash),
    ("tests/fixtures/lexers/kotlin/Knit.kt", Language::Kotlin),
    ("generated.json", Language::Json),
];

/// A JSON-with-comments settings file: 200 members, each after a `//` line and every fifth
/// with a `/* */` note after its value.
fn settings_json() -> String {
    let mut out = String::from("{\n");
    for i in 0..200 {
        out.push_str(&format!(
            "  // @exposes App:Svc{}:Setting{i} to #leak with the value is logged\n",
            i % 40
        ));
        let note = if i % 5 == 0 { " /* see docs/settings.md */" } else { "" };
        out.push_str(&format!(
            "  \"svc{i}.endpoint\": {{\"url\": \"https://svc{i}.example/api\", \"retries\": {}, \"tls\": true}}{note},\n",
            i % 7
        ));
    }
    out.push_str("  \"last\": null\n}\n");
    out
}

fn sample_text(path: &str) -> String {
    if path == "generated.c" {
        return dense_file(7);
    }
    if path == "generated.json" {
        return settings_json();
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // `src/...`, `tests/...`: this repository's own files; otherwise the webshop example's.
    let full = if path.starts_with("src/") || path.starts_with("tests/") {
        root.join(path)
    } else {
        root.join("examples/webshop").join(path)
    };
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

#[divan::bench(args = SAMPLES.iter().map(|(path, _)| *path))]
fn comment_extraction(bencher: divan::Bencher, path: &str) {
    let language = SAMPLES.iter().find(|(p, _)| *p == path).map(|(_, l)| *l).expect("a sample");
    let text = sample_text(path);
    bencher.counter(divan::counter::BytesCount::new(text.len())).bench(|| {
        let lines = syntax::candidate_lines(divan::black_box(language), divan::black_box(&text));
        assert!(!lines.is_empty(), "{path}: no candidate lines");
        lines
    });
}

#[divan::bench(args = SAMPLES.iter().map(|(path, _)| *path))]
fn comment_extraction_tree_sitter(bencher: divan::Bencher, path: &str) {
    let language = SAMPLES.iter().find(|(p, _)| *p == path).map(|(_, l)| *l).expect("a sample");
    let text = sample_text(path);
    bencher.counter(divan::counter::BytesCount::new(text.len())).bench(|| {
        let language = divan::black_box(language);
        let tree = syntax::comments::parse_tree(language, &text, None).expect("tree-sitter parses");
        let lines = syntax::comments::candidate_lines_in_tree(language, &tree, divan::black_box(&text));
        assert!(!lines.is_empty(), "{path}: no candidate lines");
        lines
    });
}

#[divan::bench(sample_count = 20)]
fn model_update_one_file(bencher: divan::Bencher) {
    let mut index = project();
    let analysis = Analysis::new(&index);
    let path = "src/svc07/handler_0007.c";
    let edited: Arc<str> = format!("{}// @exposes App:Svc7:Handler0 to #typo\n", dense_file(7)).into();
    bencher.bench_local(|| {
        let facts = FileFacts::new(FileId::relative(path), Language::C, edited.clone());
        index.set_file(Arc::new(facts));
        Analysis::update(Some(&analysis), &index)
    });
}

#[divan::bench(sample_count = 10)]
fn project_diagnostics(bencher: divan::Bencher) {
    let index = project();
    bencher.bench(|| {
        let analysis = Analysis::new(divan::black_box(&index));
        analysis.diagnostics(&index)
    });
}
