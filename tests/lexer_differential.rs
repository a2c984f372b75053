//! The fast comment lexer must find exactly the comment lines tree-sitter finds. Checked on
//! real files (the machine's Python standard library, C headers, npm's JavaScript and JSON, this
//! repository's sources) and on generated programs. A file the lexer declines (`None`) is tree-sitter's anyway.
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use threat_analyzer::syntax::{CandidateLine, Language, comments, embedded, lexer};

/// Lines from the lexer and from tree-sitter; `None` when the lexer declines.
fn both(language: Language, text: &str) -> Option<(Vec<CandidateLine>, Vec<CandidateLine>)> {
    let ranges = lexer::comment_ranges(language, text)?;
    let fast = comments::lines_from_comments(language, text, ranges);
    let Some(tree) = comments::parse_tree(language, text, None) else {
        // A Ruby `<<` followed by a long word (or a backtick with no other for a while) is read
        // without a tree, for fear of overflowing the grammar's heredoc state
        // (`comments::RUBY_MAX_HEREDOC_WORD`): there is nothing to compare with.
        assert!(language == Language::Ruby && text.contains("<<"), "tree-sitter parses");
        return None;
    };
    Some((fast, comments::candidate_lines_in_tree(language, &tree, text)))
}

fn render(text: &str, lines: &[CandidateLine]) -> Vec<String> {
    lines.iter().map(|l| format!("{} {:?}", l.block, l.range.slice(text))).collect()
}

fn assert_agree(path: &Path, language: Language, text: &str) -> bool {
    match both(language, text) {
        Some((fast, tree)) => {
            assert_eq!(render(text, &fast), render(text, &tree), "{} ({language:?})", path.display());
            true
        }
        None => false,
    }
}

/// Every `step`-th file under `root` with one of `exts` (extensions, or whole file names such
/// as `Dockerfile`), sorted, at most `limit`, of at most [`MAX_SAMPLE_BYTES`] each.
///
/// Generated files of several MiB (Unicode tables, big headers) can outlast tree-sitter's
/// time budget in a debug build on a loaded machine, where the parse is then cancelled and the
/// comparison fails for want of a tree (seen at a load average of 22); hand-written sources
/// are far smaller.
const MAX_SAMPLE_BYTES: u64 = 200 * 1024;

fn sample(root: &Path, exts: &[&str], step: usize, limit: usize) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file()
                && entry.metadata().is_ok_and(|m| m.len() <= MAX_SAMPLE_BYTES)
                && (path.extension().and_then(|e| e.to_str()).is_some_and(|e| exts.contains(&e))
                    || path.file_name().and_then(|n| n.to_str()).is_some_and(|n| exts.contains(&n)))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files.into_iter().step_by(step).take(limit).collect()
}

fn check_files(files: &[PathBuf]) -> (usize, usize) {
    let (mut agreed, mut declined) = (0, 0);
    for path in files {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        let Some(language) = Language::from_path(path) else { continue };
        if assert_agree(path, language, &text) {
            agreed += 1;
        } else {
            declined += 1;
        }
    }
    eprintln!("{} files: the lexer agreed on {agreed}, declined {declined}", files.len());
    (agreed, declined)
}

fn python_stdlib() -> Option<PathBuf> {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    path.is_dir().then_some(path)
}

#[test]
fn agrees_on_the_python_standard_library() {
    // CPython 3 is on every machine of this project's kind (and CI's).
    let root = python_stdlib().expect("python3 and its standard library");
    let files = sample(&root, &["py"], 23, 400);
    assert!(files.len() >= 200, "only {} files sampled", files.len());
    let (agreed, declined) = check_files(&files);
    // The lexer must actually take the fast path on ordinary code.
    assert!(agreed * 10 >= (agreed + declined) * 9, "agreed {agreed}, declined {declined}");
}

/// The MCP tool prefilter before the decorator-shape test (a `.tool` literal that no
/// identifier character continues): the reference the next test compares with.
fn literal_dot_tool(bytes: &[u8]) -> bool {
    memchr::memmem::find_iter(bytes, b".tool")
        .any(|at| bytes.get(at + 5).is_none_or(|next| !(next.is_ascii_alphanumeric() || *next == b'_')))
}

/// Differential for the MCP tool prefilter (`syntax::mcp::may_define_tool`): over the Python
/// standard library (and site-packages where it is there) and this repository's Python files,
/// every file the decorator-shape test turns away but the `.tool` literal let through defines
/// no tool by the full detector (the tree-sitter query).
#[test]
fn the_mcp_tool_prefilter_turns_away_no_file_the_query_reads_a_tool_from() {
    use threat_analyzer::syntax::mcp::{may_define_tool, read_tools};
    let root = python_stdlib().expect("python3 and its standard library");
    let mut files = sample(&root, &["py"], 1, usize::MAX);
    files.extend(sample(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches").as_path(),
        &["py"],
        1,
        usize::MAX,
    ));
    assert!(files.len() >= 200, "only {} files", files.len());
    let mut turned_away = 0;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        if may_define_tool(Language::Python, text.as_bytes()) || !literal_dot_tool(text.as_bytes()) {
            continue;
        }
        turned_away += 1;
        assert_eq!(read_tools(Language::Python, &text).tools, [], "{}", path.display());
    }
    eprintln!(
        "{} Python files, {turned_away} turned away by the decorator-shape test and parsed",
        files.len()
    );
}

#[test]
fn agrees_on_c_headers() {
    let files = sample(Path::new("/usr/include"), &["h"], 7, 300);
    assert!(files.len() >= 100, "only {} headers sampled", files.len());
    let (agreed, declined) = check_files(&files);
    assert!(agreed * 10 >= (agreed + declined) * 8, "agreed {agreed}, declined {declined}");
}

/// The extensions of every language with a fast lexer.
const LEXED: &[&str] = &[
    "py",
    "go",
    "c",
    "h",
    "java",
    "cs",
    "cpp",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "tf",
    "hcl",
    "php",
    "rs",
    "lua",
    "yaml",
    "yml",
    "toml",
    "Dockerfile",
    "Containerfile",
    "kt",
    "kts",
    "json",
];

#[test]
fn agrees_on_this_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = sample(&root.join("examples"), LEXED, 1, 1000);
    files.extend(sample(&root.join("tests"), LEXED, 1, 1000));
    files.extend(sample(&root.join("editors"), LEXED, 1, 1000));
    files.extend(sample(&root.join("src"), LEXED, 1, 1000));
    assert!(!files.is_empty());
    check_files(&files);
}

#[test]
fn agrees_on_typescript_and_terraform_in_this_repository() {
    // The VS Code extension's TypeScript and the example projects' TypeScript and Terraform.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = sample(&root.join("editors"), &["ts"], 1, 1000);
    files.extend(sample(&root.join("examples"), &["ts", "tf"], 1, 1000));
    assert!(files.len() >= 20, "only {} files", files.len());
    let (agreed, declined) = check_files(&files);
    assert!(agreed * 10 >= (agreed + declined) * 7, "agreed {agreed}, declined {declined}");
}

#[test]
fn agrees_on_the_google_cloud_sdks_php() {
    // The Google Cloud SDK ships with the machine image of this project's kind (and CI's).
    let files = sample(Path::new("/usr/lib/google-cloud-sdk"), &["php"], 1, 2000);
    assert!(files.len() >= 100, "only {} files sampled", files.len());
    let (agreed, declined) = check_files(&files);
    assert!(agreed * 10 >= (agreed + declined) * 6, "agreed {agreed}, declined {declined}");
}

#[test]
fn agrees_on_npms_javascript() {
    // Node.js and npm are on every machine of this project's kind (and CI's).
    let files = sample(Path::new("/usr/lib/node_modules"), &["js"], 1, 3000);
    assert!(files.len() >= 100, "only {} files sampled", files.len());
    let (agreed, declined) = check_files(&files);
    assert!(agreed * 10 >= (agreed + declined) * 6, "agreed {agreed}, declined {declined}");
}

/// Cargo's registry sources: the crates this project builds from, so present wherever it builds.
fn cargo_registry() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    home.join("registry").join("src")
}

#[test]
fn agrees_on_yaml_files() {
    // The Google Cloud SDK's YAML (schemas, command definitions) and the CI workflows and
    // configuration files of the crates in Cargo's registry.
    let mut files = sample(Path::new("/usr/lib/google-cloud-sdk"), &["yaml", "yml"], 5, 800);
    files.extend(sample(&cargo_registry(), &["yaml", "yml"], 1, 400));
    assert!(files.len() >= 200, "only {} files sampled", files.len());
    let (agreed, declined) = check_files(&files);
    // Block scalars, quoted keys, flow values and comments after values take the fast path.
    assert!(agreed * 10 >= (agreed + declined) * 9, "agreed {agreed}, declined {declined}");
}

/// Whether the `x-threatspec` reader without a tree decides on the YAML `text`; when it does,
/// its comment ranges and lines (ranges, blocks, fields) must be the tree's, unless the tree
/// holds an error (then tree-sitter's recovery decides what it reads, as for the lexers).
fn embedded_agree(text: &str) -> bool {
    let Some((mut fast_ranges, fast)) = embedded::yaml_lines_without_tree(text) else { return false };
    let tree = comments::parse_tree(Language::Yaml, text, None).expect("tree-sitter parses");
    if !tree.root_node().has_error() {
        let mut tree_ranges =
            comments::comment_nodes(Language::Yaml, &tree, text, None).expect("a comment query");
        fast_ranges.sort_unstable();
        tree_ranges.sort_unstable();
        assert_eq!(fast_ranges, tree_ranges, "comments of {text:?}");
        let exact = embedded::x_threatspec_lines_in_tree(Language::Yaml, &tree, text);
        let with_fields = |lines: &[CandidateLine]| -> Vec<String> {
            lines.iter().map(|l| format!("{} {:?} {:?}", l.block, l.range.slice(text), l.fields)).collect()
        };
        assert_eq!(with_fields(&fast), with_fields(&exact), "x-threatspec of {text:?}");
    }
    true
}

#[test]
fn x_threatspec_without_a_tree_agrees_on_yaml_files() {
    // The example OpenAPI file, and every sampled YAML file with an `x-threatspec` of each
    // shape added at its end. About half take the reader (2026-12-04: 306 of 660); the rest
    // decline for their own shapes (compact sequences in CI workflows, a top-level list that an
    // appended key cannot continue, flow values).
    let openapi = std::fs::read_to_string("examples/webshop/api/openapi.yaml").unwrap();
    assert!(embedded_agree(&openapi), "the reader takes the example OpenAPI file");
    let mut files = sample(Path::new("/usr/lib/google-cloud-sdk"), &["yaml", "yml"], 25, 160);
    files.extend(sample(&cargo_registry(), &["yaml", "yml"], 4, 100));
    let (mut taken, mut tried) = (0, 0);
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        for tail in [
            "x-threatspec: \"@review #a added\"\n",
            "x-threatspec:\n  - \"@review #a one\" # c\n  - 'two'\n",
            "x-threatspec:\n  \"@tests #t for #a\":\n    description: d\n    n: 1\n  plain: v\n",
        ] {
            let text =
                format!("{}{}{tail}", text, if text.ends_with('\n') || text.is_empty() { "" } else { "\n" });
            tried += 1;
            taken += usize::from(embedded_agree(&text));
        }
    }
    eprintln!("{tried} texts: the reader took {taken}");
    assert!(taken * 3 >= tried, "took {taken} of {tried}");
}

#[test]
fn agrees_on_toml_in_the_cargo_registry() {
    let files = sample(&cargo_registry(), &["toml"], 1, 1500);
    assert!(files.len() >= 50, "only {} files sampled", files.len());
    let (agreed, declined) = check_files(&files);
    assert!(agreed * 10 >= (agreed + declined) * 9, "agreed {agreed}, declined {declined}");
}

#[test]
fn agrees_on_rust_in_the_cargo_registry() {
    let files = sample(&cargo_registry(), &["rs"], 11, 800);
    assert!(files.len() >= 200, "only {} files sampled", files.len());
    let (agreed, declined) = check_files(&files);
    assert!(agreed * 10 >= (agreed + declined) * 9, "agreed {agreed}, declined {declined}");
}

#[test]
fn agrees_on_dockerfiles() {
    // The registry's crates ship a few (mimalloc's build images); the webshop example has one.
    let mut files = sample(&cargo_registry(), &["Dockerfile", "Containerfile", "dockerfile"], 1, 200);
    files.extend(sample(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"), &["Dockerfile"], 1, 100));
    assert!(files.len() >= 2, "only {} files sampled", files.len());
    let (agreed, _) = check_files(&files);
    assert!(agreed >= 1, "the lexer declined every Dockerfile");
}

/// Real files of the languages no package on this machine ships: a few committed fixtures
/// (`tests/fixtures/lexers/`, each directory's README says where they come from) and, when
/// `LEXER_FILES` names a directory (Debian's Ruby library unpacked with `dpkg -x`, say),
/// every file there.
fn fixture_files(exts: &[&str]) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lexers");
    let mut files = sample(&root, exts, 1, 10_000);
    if let Some(dir) = std::env::var_os("LEXER_FILES") {
        files.extend(sample(Path::new(&dir), exts, 1, 100_000));
    }
    files
}

#[test]
fn agrees_on_ruby_files() {
    let files = fixture_files(&["rb"]);
    assert!(files.len() >= 10, "only {} files", files.len());
    let (agreed, declined) = check_files(&files);
    assert!(agreed * 10 >= (agreed + declined) * 3, "agreed {agreed}, declined {declined}");
}

#[test]
fn agrees_on_kotlin_files() {
    let files = fixture_files(&["kt", "kts"]);
    assert!(files.len() >= 10, "only {} files", files.len());
    let (agreed, declined) = check_files(&files);
    // Nested comments, templates and raw strings take the fast path (on all 570 files of
    // Debian's kotlinx-coroutines and kotlinx-atomicfu sources it declined 4).
    assert!(agreed * 10 >= (agreed + declined) * 9, "agreed {agreed}, declined {declined}");
}

#[test]
fn agrees_on_swift_files() {
    let files = fixture_files(&["swift"]);
    assert!(files.len() >= 10, "only {} files", files.len());
    let (agreed, declined) = check_files(&files);
    assert!(agreed * 10 >= (agreed + declined) * 8, "agreed {agreed}, declined {declined}");
}

#[test]
fn agrees_on_scala_files() {
    let files = fixture_files(&["scala"]);
    assert!(files.len() >= 10, "only {} files", files.len());
    let (agreed, declined) = check_files(&files);
    // Interpolations, symbols, quotes and nested comments take the fast path; the fixtures with
    // XML literals, and those with a block comment that starts its line and has code after it
    // (tree-sitter's comment then ends after the blank), are declined (on all 6,828 files of
    // Debian's Scala 2.11.12 sources it declined 117 and agreed on the rest).
    assert!(agreed * 10 >= (agreed + declined) * 7, "agreed {agreed}, declined {declined}");
}

#[test]
fn agrees_on_json_files() {
    // npm's package manifests and data and the JSON of the crates in Cargo's registry (test
    // vectors, `.cargo_vcs_info.json`), the fixtures and this repository's.
    let mut files = sample(Path::new("/usr/lib/node_modules"), &["json"], 3, 600);
    files.extend(sample(&cargo_registry(), &["json"], 3, 300));
    files.extend(fixture_files(&["json"]));
    assert!(files.len() >= 100, "only {} files sampled", files.len());
    let (agreed, declined) = check_files(&files);
    assert!(agreed * 10 >= (agreed + declined) * 9, "agreed {agreed}, declined {declined}");
}

#[test]
fn agrees_on_shell_scripts() {
    // The machine's own scripts (maintainer tools in /usr/bin, init scripts in /etc) and the
    // fixtures.
    let mut files = fixture_files(&["sh"]);
    for dir in ["/etc/init.d", "/usr/bin", "/usr/sbin"] {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut scripts: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                std::fs::read(p).is_ok_and(|b| {
                    b.len() as u64 <= MAX_SAMPLE_BYTES
                        && (b.starts_with(b"#!/bin/sh")
                            || b.starts_with(b"#!/bin/bash")
                            || b.starts_with(b"#!/usr/bin/env bash"))
                })
            })
            .collect();
        scripts.sort();
        files.extend(scripts);
    }
    assert!(files.len() >= 20, "only {} files", files.len());
    let (mut agreed, mut declined) = (0, 0);
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        if assert_agree(path, Language::Bash, &text) {
            agreed += 1;
        } else {
            declined += 1;
        }
    }
    eprintln!("{} files: the lexer agreed on {agreed}, declined {declined}", files.len());
    assert!(agreed * 10 >= (agreed + declined) * 2, "agreed {agreed}, declined {declined}");
}

/// Statement-shaped C-family code mixing every literal kind with comments.
fn c_program() -> impl Strategy<Value = String> {
    let literal = prop_oneof![
        Just("\"plain\"".to_string()),
        Just("\"has // and /* inside\"".to_string()),
        Just("\"esc \\\" quote // x\"".to_string()),
        Just("'\"'".to_string()),
        Just("'\\''".to_string()),
        Just("'/'".to_string()),
        Just("1'000'000".to_string()),
        Just("0x1Fp-3".to_string()),
        Just("a / b".to_string()),
        Just("x".to_string()),
    ];
    let comment = prop_oneof![
        Just("// @exposes App to #x".to_string()),
        Just("// quote \" and ' inside".to_string()),
        Just("/* block @mitigates A against #b */".to_string()),
        Just("/**\n * @threat T (#t)\n */".to_string()),
        Just("// continued \\\n still comment".to_string()),
        Just("/* a */ /* b */".to_string()),
    ];
    let stmt = prop_oneof![
        (literal.clone(), proptest::option::of(comment.clone()))
            .prop_map(|(l, c)| format!("    v = {l};{}\n", c.map(|c| format!(" {c}")).unwrap_or_default())),
        comment.prop_map(|c| format!("    {c}\n")),
        Just("\n".to_string()),
        Just("    if (a) { b(); }\n".to_string()),
    ];
    proptest::collection::vec(stmt, 0..30)
        .prop_map(|s| format!("int f(void) {{\n{}    return 0;\n}}\n", s.concat()))
}

/// Python code mixing string kinds, prefixes and comments.
fn python_program() -> impl Strategy<Value = String> {
    let literal = prop_oneof![
        Just("'# not'".to_string()),
        Just("\"# not\"".to_string()),
        Just("r'\\'#'".to_string()),
        Just("b\"x\"".to_string()),
        Just("f'{a}#'".to_string()),
        Just("'''\n# not\n'''".to_string()),
        Just("\"\"\"doc \\\"\"\" # x\n\"\"\"".to_string()),
        Just("''".to_string()),
        Just("1_000".to_string()),
        Just("name".to_string()),
    ];
    let comment = prop_oneof![
        Just("# @exposes App to #x".to_string()),
        Just("#@mitigates A against #b".to_string()),
        Just("# quote ' \" inside".to_string()),
    ];
    let stmt = prop_oneof![
        (literal, proptest::option::of(comment.clone()))
            .prop_map(|(l, c)| format!("v = {l}{}\n", c.map(|c| format!("  {c}")).unwrap_or_default())),
        comment.prop_map(|c| format!("{c}\n")),
        Just("\n".to_string()),
        Just("def f(x):\n    return x\n".to_string()),
    ];
    proptest::collection::vec(stmt, 0..30).prop_map(|s| s.concat())
}

/// JavaScript-family code mixing strings, template literals with nested substitutions,
/// regexes, divisions and comments (`typescript`: type annotations; otherwise JSX-free
/// JavaScript that TSX and JavaScript read alike).
fn js_program(typescript: bool) -> impl Strategy<Value = String> {
    let literal = prop_oneof![
        Just("'// not'".to_string()),
        Just("\"/* not */\"".to_string()),
        Just("'esc \\' // x'".to_string()),
        Just("`tpl // ${a + `in ${b /* c */}`} /* no`".to_string()),
        Just("`${ { k: '}' }.k } // no`".to_string()),
        Just("/[/]\\/ \"'/gi".to_string()),
        Just("/=+$/".to_string()),
        Just("a / b / c".to_string()),
        Just("(a + b) / 2".to_string()),
        Just("x.length / 3".to_string()),
        Just("typeof /x/".to_string()),
        Just("!/y'/.test(s)".to_string()),
        // After `)`, a `<` could open JSX in JavaScript and TSX (the lexer declines).
        Just(if typescript { "f(a) < b" } else { "a < f(b)" }.to_string()),
        Just("0x1F / 1e-3".to_string()),
        Just("n".to_string()),
    ];
    let comment = prop_oneof![
        Just("// @exposes App to #x".to_string()),
        Just("/* block @mitigates A against #b */".to_string()),
        Just("/**\n * @threat T (#t)\n */".to_string()),
        Just("// quote ' \" ` inside".to_string()),
    ];
    let declare = if typescript { "let v: string | number = " } else { "let v = " };
    let stmt = prop_oneof![
        (literal.clone(), proptest::option::of(comment.clone())).prop_map(move |(l, c)| format!(
            "  {declare}{l};{}\n",
            c.map(|c| format!(" {c}")).unwrap_or_default()
        )),
        literal.prop_map(|l| format!("  return {l};\n")),
        comment.prop_map(|c| format!("  {c}\n")),
        Just("\n".to_string()),
        Just("  if (a) { b(); }\n".to_string()),
        Just("  const g = (x) => x / 2;\n".to_string()),
    ];
    proptest::collection::vec(stmt, 0..30).prop_map(|s| format!("function f(a, b) {{\n{}}}\n", s.concat()))
}

/// HCL (Terraform) mixing quoted templates with nested interpolations and directives,
/// escapes and all three comment forms.
fn hcl_program() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("\"# not // not\"".to_string()),
        Just("\"esc \\\" /* not */\"".to_string()),
        Just("\"${var.a[\"# no\"]}-${local.b}\"".to_string()),
        Just("\"%{ if x }/* no */%{ else }${y}%{ endif }\"".to_string()),
        Just("\"$${literal} %%{literal} \\u00e9\"".to_string()),
        Just("{ k = \"v\", n = 1 }".to_string()),
        Just("[for s in var.l : \"${s}\" if s != \"\"]".to_string()),
        Just("a / b".to_string()),
        Just("true".to_string()),
    ];
    let comment = prop_oneof![
        Just("# @exposes App to #x".to_string()),
        Just("// @mitigates A against #b".to_string()),
        Just("/* block @threat T (#t) */".to_string()),
        Just("/*\n * @control C (#c)\n */".to_string()),
    ];
    let stmt = prop_oneof![
        (value, proptest::option::of(comment.clone()))
            .prop_map(|(v, c)| format!("  k = {v}{}\n", c.map(|c| format!(" {c}")).unwrap_or_default())),
        comment.prop_map(|c| format!("  {c}\n")),
        Just("\n".to_string()),
        Just("  nested {\n    x = 1\n  }\n".to_string()),
    ];
    proptest::collection::vec(stmt, 0..30)
        .prop_map(|s| format!("resource \"a\" \"b\" {{\n{}}}\n", s.concat()))
}

/// PHP code mixing strings (single-quoted with escapes, double-quoted without interpolation,
/// both across lines) with all comment forms, `?` inside and at the end of line comments.
fn php_program() -> impl Strategy<Value = String> {
    let literal = prop_oneof![
        Just("'# not // not'".to_string()),
        Just("'esc \\' /* not'".to_string()),
        Just("\"dq \\\" # not\"".to_string()),
        Just("'multi\n// line'".to_string()),
        Just("$a ?? $b".to_string()),
        Just("$o?->p".to_string()),
        Just("$a ? 1 : 2".to_string()),
        Just("10 / 2".to_string()),
        Just("$x".to_string()),
    ];
    let comment = prop_oneof![
        Just("// @exposes App to #x".to_string()),
        Just("# @mitigates A against #b".to_string()),
        Just("// why?".to_string()),
        Just("# what ? now".to_string()),
        Just("#".to_string()),
        Just("/* block @threat T (#t) */".to_string()),
        Just("/**\n * @control C (#c)\n */".to_string()),
    ];
    let stmt = prop_oneof![
        (literal, proptest::option::of(comment.clone()))
            .prop_map(|(l, c)| format!("    $v = {l};{}\n", c.map(|c| format!(" {c}")).unwrap_or_default())),
        comment.prop_map(|c| format!("    {c}\n")),
        Just("\n".to_string()),
        Just("    if ($a) { f($b); }\n".to_string()),
    ];
    (proptest::collection::vec(stmt, 0..30), any::<bool>()).prop_map(|(s, crlf)| {
        let program = format!("<?php\nfunction f($a, $b)\n{{\n{}}}\n", s.concat());
        if crlf { program.replace('\n', "\r\n") } else { program }
    })
}

/// YAML configuration shapes: block mappings and sequences, plain, quoted and flow values,
/// anchors, aliases and tags, document markers, with comments on their own lines and after
/// values (CRLF line breaks too).
fn yaml_program() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("plain value".to_string()),
        Just("http://host:80/#frag".to_string()),
        Just("it's a#b".to_string()),
        Just("\"# not ' \\\" # not\"".to_string()),
        Just("'# not '' # not'".to_string()),
        Just("[a, \"# no\", {k: v}]".to_string()),
        Just("{k: 'v # no', n: 1}".to_string()),
        Just("*anchor".to_string()),
        Just("!!str 42".to_string()),
        Just("-1".to_string()),
        Just("".to_string()),
    ];
    let comment = prop_oneof![
        Just("# @exposes App to #x".to_string()),
        Just("#@mitigates A against #b".to_string()),
        Just("# quote ' \" inside: yes".to_string()),
        Just("#".to_string()),
    ];
    let tail = |c: Option<String>| c.map(|c| format!(" {c}")).unwrap_or_default();
    let mapping_entry = prop_oneof![
        (value.clone(), proptest::option::of(comment.clone()))
            .prop_map(move |(v, c)| format!("key: {v}{}\n", tail(c))),
        comment.clone().prop_map(|c| format!("{c}\n")),
        Just("\n".to_string()),
        Just("\"quoted key\": &anchor\n  inner: 1\n".to_string()),
    ];
    let sequence_entry = prop_oneof![
        (value.clone(), proptest::option::of(comment.clone()))
            .prop_map(move |(v, c)| format!("- {v}{}\n", tail(c))),
        (value, proptest::option::of(comment.clone()))
            .prop_map(move |(v, c)| format!("- k: {v}{}\n  n: 1\n", tail(c))),
        comment.clone().prop_map(|c| format!("{c}\n")),
        Just("\n".to_string()),
    ];
    let entries = prop_oneof![
        proptest::collection::vec(mapping_entry, 0..8),
        proptest::collection::vec(sequence_entry, 0..8)
    ];
    let section = (entries, proptest::option::of(comment)).prop_map(|(entries, c)| {
        let body: String = entries
            .concat()
            .lines()
            .map(|l| if l.is_empty() { "\n".to_string() } else { format!("  {l}\n") })
            .collect();
        format!("section:{}\n{body}", c.map(|c| format!(" {c}")).unwrap_or_default())
    });
    (proptest::collection::vec(section, 0..6), any::<bool>(), any::<bool>()).prop_map(
        |(s, document, crlf)| {
            let program = format!("{}{}", if document { "--- # doc\n" } else { "" }, s.concat());
            if crlf { program.replace('\n', "\r\n") } else { program }
        },
    )
}

/// OpenAPI-like YAML with `x-threatspec` keys at several depths and every value shape: strings,
/// lists of strings and maps, maps with field maps, and the shapes the reader without a tree
/// declines (flow, anchors, block scalars, numbers, a compact sequence).
fn openapi_program() -> impl Strategy<Value = String> {
    let string = prop_oneof![
        Just("\"@review #a it\\\"s \\u00e9\"".to_string()),
        Just("'@review #b it''s'".to_string()),
        Just("plain text # c".to_string()),
        Just("\"  spaced  \"".to_string()),
        Just("\"\"".to_string()),
        Just("12".to_string()),
        Just("null".to_string()),
        Just("[\"@a\", b]".to_string()),
        Just("&x \"@a\"".to_string()),
        Just("*x".to_string()),
    ];
    let field = prop_oneof![
        Just("description: \"d \\\" e\"".to_string()),
        Just("n: 1".to_string()),
        Just("q: 'it''s'".to_string()),
        Just("empty:".to_string()),
        Just("list:\n  - a".to_string()),
        Just("map:\n  k: v".to_string()),
        Just("# comment".to_string()),
        Just("text: |\n  x-threatspec: no".to_string()),
    ];
    let indent = |text: &str, by: usize| -> String {
        text.lines()
            .map(|l| if l.is_empty() { "\n".to_string() } else { format!("{}{l}\n", " ".repeat(by)) })
            .collect()
    };
    let pair = (string.clone(), proptest::collection::vec(field, 0..3), any::<bool>()).prop_map(
        move |(key, fields, inline)| {
            if inline || fields.is_empty() {
                format!("{key}: v\n")
            } else {
                format!("{key}:\n{}", indent(&fields.join("\n"), 2))
            }
        },
    );
    let value = prop_oneof![
        string.clone().prop_map(|s| format!(" {s}\n")),
        proptest::collection::vec(string.clone(), 0..4).prop_map(move |items| format!(
            "\n{}",
            items.iter().map(|i| format!("  - {i}\n")).collect::<String>()
        )),
        proptest::collection::vec(pair.clone(), 1..4)
            .prop_map(move |pairs| format!("\n{}", indent(&pairs.concat(), 2))),
        pair.prop_map(move |p| format!("\n  - {}", indent(&p, 4).trim_start())),
        Just("\n- \"@compact\"\n".to_string()),
        Just(" |\n  @block\n".to_string()),
        Just("\n".to_string()),
    ];
    let place = (value, 0usize..4).prop_map(move |(value, depth)| {
        let entry = format!("x-threatspec:{value}");
        match depth {
            0 => entry,
            1 => format!("paths:\n  /x:\n    get:\n{}      summary: s # x-threatspec\n", indent(&entry, 6)),
            2 => format!("tags:\n  - name: t\n{}", indent(&entry, 4)),
            _ => format!("info:\n  title: \"x-threatspec: no\"\n{}", indent(&entry, 2)),
        }
    });
    (proptest::collection::vec(place, 1..4), any::<bool>()).prop_map(|(places, crlf)| {
        let program = format!("openapi: 3.0.3\n{}", places.concat());
        if crlf { program.replace('\n', "\r\n") } else { program }
    })
}

/// TOML with every string kind (escapes, multi-line forms with longer closing quote runs),
/// tables, arrays over lines and comments everywhere comments may stand.
fn toml_program() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("\"# not \\\" # not \\u00e9\"".to_string()),
        Just("'# not \\'".to_string()),
        Just("\"\"\"\n# not\n\\\n  x \"\" \"\"\"\"".to_string()),
        Just("'''\n# not '' ''''".to_string()),
        Just("[\n  1, # in array\n  \"a#\",\n]".to_string()),
        Just("{ a = 1, b = \"#\" }".to_string()),
        Just("1979-05-27T07:32:00Z".to_string()),
        Just("0x1F".to_string()),
        Just("true".to_string()),
    ];
    let comment = prop_oneof![
        Just("# @exposes App to #x".to_string()),
        Just("#@mitigates A against #b".to_string()),
        Just("# quote ' \" inside".to_string()),
        Just("#".to_string()),
    ];
    let line = prop_oneof![
        (value, proptest::option::of(comment.clone()))
            .prop_map(|(v, c)| format!("key = {v}{}\n", c.map(|c| format!(" {c}")).unwrap_or_default())),
        comment.clone().prop_map(|c| format!("{c}\n")),
        Just("\n".to_string()),
        Just("\"quoted.key\" = 1\n".to_string()),
        Just("'lit' = 2\n".to_string()),
    ];
    let table = (proptest::collection::vec(line, 0..8), proptest::option::of(comment), any::<bool>())
        .prop_map(|(lines, c, array)| {
            let header = if array { "[[t.arr]]" } else { "[t.\"sub\"]" };
            format!("{header}{}\n{}", c.map(|c| format!(" {c}")).unwrap_or_default(), lines.concat())
        });
    (proptest::collection::vec(table, 0..5), any::<bool>()).prop_map(|(t, crlf)| {
        let program = t.concat();
        if crlf { program.replace('\n', "\r\n") } else { program }
    })
}

/// Dockerfiles: instructions with continuations, indented comment lines, parser directives.
fn dockerfile_program() -> impl Strategy<Value = String> {
    let comment = prop_oneof![
        Just("# @exposes App to #x".to_string()),
        Just("#@mitigates A against #b".to_string()),
        Just("  # indented: quote ' \" inside".to_string()),
        Just("#".to_string()),
    ];
    let line = prop_oneof![
        Just("FROM alpine:3.20 AS build\n".to_string()),
        Just("RUN apk add --no-cache curl \\\n    && echo \"done\"\n".to_string()),
        comment.clone().prop_map(|c| format!("RUN a \\\n{c}\n    b\n")),
        Just("ENV A=1 B=\"two words\"\n".to_string()),
        Just("COPY --chown=app:app . /app\n".to_string()),
        Just("CMD [\"sh\", \"-c\", \"x\"]\n".to_string()),
        Just("\n".to_string()),
        comment.prop_map(|c| format!("{c}\n")),
    ];
    (proptest::collection::vec(line, 0..20), any::<bool>(), any::<bool>()).prop_map(
        |(lines, directive, crlf)| {
            let program = format!(
                "{}{}",
                if directive { "# syntax=docker/dockerfile:1\n" } else { "" },
                lines.concat()
            );
            if crlf { program.replace('\n', "\r\n") } else { program }
        },
    )
}

/// Rust mixing every literal kind (escapes, raw strings with hashes, byte and C strings,
/// characters beside lifetimes and labels) with line, doc and nested block comments.
fn rust_program() -> impl Strategy<Value = String> {
    let literal = prop_oneof![
        Just("\"// not /* not\"".to_string()),
        Just("\"esc \\\" // x\\\\\"".to_string()),
        Just("\"multi\n// line\"".to_string()),
        Just("r\"// raw \\\"".to_string()),
        Just("r#\"// \"q\" /* \"#".to_string()),
        Just("br##\"#\"# // \"##".to_string()),
        Just("b\"/* no\"".to_string()),
        Just("c\"// no\"".to_string()),
        Just("'\"'".to_string()),
        Just("'\\''".to_string()),
        Just("b'/'".to_string()),
        Just("'\\u{1F600}'".to_string()),
        Just("'\\x2F'".to_string()),
        Just("'é'".to_string()),
        Just("r#type".to_string()),
        Just("a / b".to_string()),
        Just("1.0e-3 / 2".to_string()),
    ];
    let comment = prop_oneof![
        Just("// @exposes App to #x".to_string()),
        Just("/// doc @threat T (#t)".to_string()),
        Just("//! inner doc".to_string()),
        Just("//// four".to_string()),
        Just("/* block @mitigates A against #b */".to_string()),
        Just("/* outer /* nested */ still */".to_string()),
        Just("/**\n * @control C (#c)\n */".to_string()),
        Just("/*! inner */".to_string()),
        Just("/**/".to_string()),
        Just("/* //* not nested */".to_string()),
        Just("// quote ' \" inside".to_string()),
    ];
    let stmt = prop_oneof![
        (literal.clone(), proptest::option::of(comment.clone())).prop_map(|(l, c)| format!(
            "    let v = {l};{}\n",
            c.map(|c| format!(" {c}")).unwrap_or_default()
        )),
        comment.clone().prop_map(|c| format!("    {c}\n")),
        Just("\n".to_string()),
        Just("    'outer: loop { break 'outer; }\n".to_string()),
        Just("    if a { b(); }\n".to_string()),
    ];
    (proptest::collection::vec(stmt, 0..30), any::<bool>()).prop_map(|(s, crlf)| {
        let program = format!("//! Module.\nfn f<'a>(x: &'a str) -> u8 {{\n{}    0\n}}\n", s.concat());
        if crlf { program.replace('\n', "\r\n") } else { program }
    })
}

/// Lua mixing quoted strings (escapes, a line break inside), long strings of several levels
/// and line and long comments, with `-` and `#` operators between.
fn lua_program() -> impl Strategy<Value = String> {
    let literal = prop_oneof![
        Just("'-- not'".to_string()),
        Just("\"esc \\\" -- not\"".to_string()),
        Just("'multi\n-- line'".to_string()),
        Just("[[-- not ]=] ]]".to_string()),
        Just("[==[\n--[[ not ]] ]=]\n]==]".to_string()),
        Just("#t - 1".to_string()),
        Just("a - -b".to_string()),
        Just("t[ [=[k]=] ]".to_string()),
        Just("{ 1, 'x', [\"k\"] = 2 }".to_string()),
        Just("1e-3".to_string()),
        Just("n".to_string()),
    ];
    let comment = prop_oneof![
        Just("-- @exposes App to #x".to_string()),
        Just("--[[ block @mitigates A against #b ]]".to_string()),
        Just("--[==[\n @threat T (#t)\n ]] ]=]\n]==]".to_string()),
        Just("--[ not long".to_string()),
        Just("---[[ line".to_string()),
        Just("-- quote ' \" inside".to_string()),
        // An empty comment (not before a long comment: the lexer declines that).
        Just("--\n  -- after an empty one".to_string()),
    ];
    let stmt = prop_oneof![
        (literal, proptest::option::of(comment.clone())).prop_map(|(l, c)| format!(
            "  local v = {l}{}\n",
            c.map(|c| format!(" {c}")).unwrap_or_default()
        )),
        comment.prop_map(|c| format!("  {c}\n")),
        Just("\n".to_string()),
        Just("  if a then b() end\n".to_string()),
    ];
    (proptest::collection::vec(stmt, 0..30), any::<bool>()).prop_map(|(s, crlf)| {
        let program = format!("local function f(a, b, t)\n{}  return 0\nend\n", s.concat());
        if crlf { program.replace('\n', "\r\n") } else { program }
    })
}

/// Ruby mixing strings with interpolation (nested braces and strings), regexes and percent
/// literals where an operand is expected, division and modulo after values, symbols, global
/// variables and `=begin` blocks, with line comments between.
fn ruby_program() -> impl Strategy<Value = String> {
    let literal = prop_oneof![
        Just("'# not \\' # not'".to_string()),
        Just("\"a #{b} # not\"".to_string()),
        Just("\"#{ {k: \"}#\"}[:k] } # not\"".to_string()),
        Just("\"multi\n# line\"".to_string()),
        Just("x =~ /# not\\/ #{y}/i".to_string()),
        Just("%w[a # [b] c]".to_string()),
        Just("%q(# (not))".to_string()),
        Just("%r{# not}x".to_string()),
        Just("%i<a b>".to_string()),
        Just("n / 2 % 3".to_string()),
        Just("n/2".to_string()),
        Just(":\"# sym\"".to_string()),
        Just("$' + $\"[0]".to_string()),
        Just("a.empty? ? 1 : 2".to_string()),
        Just("[1, 2].map { |v| v * 2 }".to_string()),
        Just("@x.size".to_string()),
    ];
    let comment = prop_oneof![
        Just("# @exposes App to #x".to_string()),
        Just("#!not a shebang here".to_string()),
        Just("# quote ' \" inside".to_string()),
        Just("#".to_string()),
    ];
    let stmt = prop_oneof![
        (literal, proptest::option::of(comment.clone()))
            .prop_map(|(l, c)| format!("  v = {l}{}\n", c.map(|c| format!(" {c}")).unwrap_or_default())),
        comment.prop_map(|c| format!("  {c}\n")),
        Just("=begin\n@threat T (#t)\n==end not yet\n=end here\n".to_string()),
        Just("\n".to_string()),
        Just("  if a then b end\n".to_string()),
    ];
    (proptest::collection::vec(stmt, 0..30), any::<bool>()).prop_map(|(s, crlf)| {
        let program =
            format!("# frozen_string_literal: true\ndef f(a, b, n, x, y)\n{}  0\nend\n", s.concat());
        if crlf { program.replace('\n', "\r\n") } else { program }
    })
}

/// Bash mixing words with `#` inside, raw, ANSI-C and double-quoted strings, command
/// substitutions holding comments, special parameters and `${...}` expansions.
fn bash_program() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("a/#b.#c".to_string()),
        Just("'# not'".to_string()),
        Just("$'\\'# not'".to_string()),
        Just("\"# $x ${#y} ${z#*/} ${w%%.*}\"".to_string()),
        Just("\"$(echo '#' # inner\n)\"".to_string()),
        Just("$(f \"#\")".to_string()),
        Just("$# $? $@ ${1}".to_string()),
        Just("\\#not".to_string()),
        Just("x=1".to_string()),
        Just("<<< \"#\"".to_string()),
        Just("| tr a b".to_string()),
        Just("&& true".to_string()),
    ];
    let comment = prop_oneof![
        Just("# @exposes App to #x".to_string()),
        Just("#".to_string()),
        Just("# quote ' \" inside".to_string()),
    ];
    let stmt = prop_oneof![
        (word.clone(), word, proptest::option::of(comment.clone())).prop_map(|(a, b, c)| format!(
            "  echo {a} {b}{}\n",
            c.map(|c| format!(" {c}")).unwrap_or_default()
        )),
        comment.prop_map(|c| format!("  {c}\n")),
        Just("  if [ -n \"$x\" ]; then y; fi # t\n".to_string()),
        Just("  g() { h; } # f\n".to_string()),
        Just("\n".to_string()),
    ];
    (proptest::collection::vec(stmt, 0..30), any::<bool>()).prop_map(|(s, crlf)| {
        let program = format!("#!/bin/bash\nf() {{\n{}  :\n}}\n", s.concat());
        if crlf { program.replace('\n', "\r\n") } else { program }
    })
}

/// Kotlin mixing strings with `$name` and `${...}` templates (nested braces, strings and
/// comments inside), `"""` strings closed by three or four quotes, character literals,
/// backtick names and nested block comments, with `?.`, `!is`, `in` and `!!` near comments.
fn kotlin_program() -> impl Strategy<Value = String> {
    let literal = prop_oneof![
        Just("\"// not /* not\"".to_string()),
        Just("\"esc \\\" // x \\$y\"".to_string()),
        Just("\"a $b // not ${c + d} /* not\"".to_string()),
        Just("\"${ listOf(1).map { \"}\" + it } /* in */ } // not\"".to_string()),
        Just("\"\"\"\n// not \"\" ${ '}' } $x\n\"\"\"".to_string()),
        Just("\"\"\"a\"\"\"\"".to_string()),
        Just("'\"'".to_string()),
        Just("'\\''".to_string()),
        Just("'/'".to_string()),
        Just("'\\u002F'".to_string()),
        Just("`name with spaces`".to_string()),
        Just("a?.b ?: c".to_string()),
        Just("x !is String".to_string()),
        Just("i in 0 until n".to_string()),
        Just("y!! / 2".to_string()),
        Just("1_000L / 3.0f".to_string()),
    ];
    let comment = prop_oneof![
        Just("// @exposes App to #x".to_string()),
        Just("/* block @mitigates A against #b */".to_string()),
        Just("/**\n * @threat T (#t)\n */".to_string()),
        Just("/**/".to_string()),
        Just("// quote ' \" ` $ inside".to_string()),
    ];
    let stmt = prop_oneof![
        (literal.clone(), proptest::option::of(comment.clone())).prop_map(|(l, c)| format!(
            "    val v = {l}{}\n",
            c.map(|c| format!(" {c}")).unwrap_or_default()
        )),
        comment.clone().prop_map(|c| format!("    {c}\n")),
        Just("\n".to_string()),
        Just("    if (a) { b() }\n".to_string()),
        Just("    for (i in list) println(\"$i\")\n".to_string()),
    ];
    (proptest::collection::vec(stmt, 0..30), any::<bool>()).prop_map(|(s, crlf)| {
        let program = format!("package a.b\n\nfun f(a: Boolean, x: Any?) {{\n{}}}\n", s.concat());
        if crlf { program.replace('\n', "\r\n") } else { program }
    })
}

fn swift_program() -> impl Strategy<Value = String> {
    let literal = prop_oneof![
        Just("\"// not /* not\"".to_string()),
        Just("\"esc \\\" // x \\\\ \\t \\u{1F600}\"".to_string()),
        Just("\"a \\(b) // not \\(c + d) /* not\"".to_string()),
        Just("\"\\( xs.map { \")\" + $0 } /* in */ ) // not\"".to_string()),
        Just("\"\"\"\n    // not \"\" \\( f(x) // in\n    )\n    \"\"\"".to_string()),
        Just("`class`".to_string()),
        Just("a?.b ?? c".to_string()),
        Just("x as? String".to_string()),
        Just("try! f()".to_string()),
        Just("y! * 2".to_string()),
        Just("1_000 - 3.0e2".to_string()),
        Just("#selector(f)".to_string()),
        Just("[1, 2].map { $0 + 1 }".to_string()),
        Just("a..<b".to_string()),
    ];
    let comment = prop_oneof![
        Just("// @exposes App to #x".to_string()),
        Just("/* block @mitigates A against #b */".to_string()),
        Just("/* outer /* nested */ still */".to_string()),
        Just("/**\n * @threat T (#t)\n */".to_string()),
        Just("/* //* nests too */ */".to_string()),
        Just("/**/".to_string()),
        Just("/// doc ' \" ` $ # inside".to_string()),
    ];
    let stmt = prop_oneof![
        (literal.clone(), proptest::option::of(comment.clone())).prop_map(|(l, c)| format!(
            "    let v = {l}{}\n",
            c.map(|c| format!(" {c}")).unwrap_or_default()
        )),
        comment.clone().prop_map(|c| format!("    {c}\n")),
        Just("\n".to_string()),
        Just("    if a { b() } else { c() }\n".to_string()),
        Just("    }\n    // before else\n    else {\n".to_string()),
        Just("    for i in list where i > 0 { print(\"\\(i)\") }\n".to_string()),
        Just("    #if DEBUG // flag\n    f()\n    #endif\n".to_string()),
        Just("    do { try g() } catch { h() } // after\n".to_string()),
    ];
    (proptest::collection::vec(stmt, 0..30), any::<bool>()).prop_map(|(s, crlf)| {
        let program = format!(
            "import Foundation\n\nfunc f(a: Bool, x: Any?) {{\n    if a {{\n{}    }}\n}}\n",
            s.concat()
        );
        if crlf { program.replace('\n', "\r\n") } else { program }
    })
}

/// Scala 2 and 3 mixing plain, interpolated (`s`, `f`, `raw`, custom), escaped and `"""`
/// strings (closed by runs of three to five quotes) with `$name`, `$$`, `$"` and `${...}`
/// blocks holding braces, strings and comments; character literals, symbols and quotes;
/// backquoted names; operators right before `//` and `/*`; nested and doc block comments,
/// at the start of lines and after code; Scala 3 indentation syntax.
fn scala_program() -> impl Strategy<Value = String> {
    let literal = prop_oneof![
        Just("\"// not /* not\"".to_string()),
        Just("\"esc \\\" // x \\\\ \\t \\u0041 \\101 $x ${y}\"".to_string()),
        Just("s\"a $b // not ${c + d} /* not $$ $\" \"".to_string()),
        Just("s\"${ xs.map { x => \"}\" + x } /* in */ } // not\"".to_string()),
        Just("f\"$x%2.2f // not\"".to_string()),
        Just("raw\"\\d+ \\\" // not \\\\\" ".to_string()),
        Just("\"\"\"\n  |// not \"\" ${x} \\\n  |\"\"\".stripMargin".to_string()),
        Just("s\"\"\"\n// not \"\" ${ '}' } $x\n/* not */\"\"\"".to_string()),
        Just("\"\"\"a\"\"\"\"".to_string()),
        Just("\"\"\"b\"\"\"\"\"".to_string()),
        Just("\"\"".to_string()),
        Just("q\"def $name(..$params) = $body\"".to_string()),
        Just("'\"'".to_string()),
        Just("'\\''".to_string()),
        Just("'/'".to_string()),
        Just("'\\u002F' + '\\n' + '*'".to_string()),
        Just("'sym".to_string()),
        Just("Symbol(\"s\")".to_string()),
        Just("`name with spaces`".to_string()),
        Just("a ++: b :+ c".to_string()),
        Just("x_+ 1".to_string()),
        Just("xs.map(_ * 2).filter(_ > 1)".to_string()),
        Just("a +// op then comment\n      b".to_string()),
        Just("a +/* op then comment */ b".to_string()),
        Just("1_000L / 3.0f".to_string()),
        Just("{ case (a, b) => a <:< b }".to_string()),
    ];
    let comment = prop_oneof![
        Just("// @exposes App to #x".to_string()),
        Just("/* block @mitigates A against #b */".to_string()),
        Just("/* outer /* nested */ still */".to_string()),
        Just("/**\n   * @threat T (#t)\n   */".to_string()),
        Just("/* //* nests too */ */".to_string()),
        Just("/**/".to_string()),
        Just("// quote ' \" ` $ < inside".to_string()),
        Just("// /* not a block".to_string()),
    ];
    let stmt = prop_oneof![
        (literal.clone(), proptest::option::of(comment.clone())).prop_map(|(l, c)| format!(
            "    val v = {l}{}\n",
            c.map(|c| format!(" {c}")).unwrap_or_default()
        )),
        comment.clone().prop_map(|c| format!("    {c}\n")),
        comment.clone().prop_map(|c| format!("  {c}\n")),
        Just("\n".to_string()),
        Just("    /* lead */f(1)\n".to_string()),
        Just("    if (a) { b() } else { c() } /* tail */\n".to_string()),
        Just("    if a then\n      b()\n    // between\n    else\n      c()\n".to_string()),
        Just("    x match {\n      case 1 => // one\n        a\n      case _ => b\n    }\n".to_string()),
        Just("    for (i <- list if i > 0) println(s\"$i\")\n".to_string()),
        Just("    val q = '{ $x + 1 } // quote\n".to_string()),
        Just("    try f() catch { case e: Exception => g() } finally h() // done\n".to_string()),
    ];
    (proptest::collection::vec(stmt, 0..30), any::<bool>()).prop_map(|(s, crlf)| {
        let program = format!(
            "package a.b\n\nobject O {{\n  def f(a: Boolean, x: Any): Unit = {{\n{}  }}\n}}\n",
            s.concat()
        );
        if crlf { program.replace('\n', "\r\n") } else { program }
    })
}

/// JSON with comments (JSONC): values of every kind, escapes and comment-like strings, line
/// and block comments between members and elements.
fn json_program() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("\"// not /* not */\"".to_string()),
        Just("\"esc \\\" \\\\ \\/ \\u00e9 \\n\"".to_string()),
        Just("\"http://host/#a\"".to_string()),
        Just("-1.5e+3".to_string()),
        Just("0".to_string()),
        Just("true".to_string()),
        Just("null".to_string()),
        Just("[1, \"two\", {\"k\": false}]".to_string()),
        Just("{}".to_string()),
    ];
    let comment = prop_oneof![
        Just("// @exposes App to #x".to_string()),
        Just("/* block @mitigates A against #b */".to_string()),
        Just("/**\n * @threat T (#t)\n */".to_string()),
        Just("/* a */ /* b */".to_string()),
        Just("// quote \" inside".to_string()),
    ];
    let member = (value, proptest::option::of(comment.clone()), proptest::option::of(comment));
    (proptest::collection::vec(member, 0..12), any::<bool>()).prop_map(|(members, crlf)| {
        let last = members.len().saturating_sub(1);
        let body: String = members
            .into_iter()
            .enumerate()
            .map(|(k, (v, before, after))| {
                format!(
                    "{}  \"key{k}\": {v}{}{}\n",
                    before.map(|c| format!("  {c}\n")).unwrap_or_default(),
                    if k < last { "," } else { "" },
                    after.map(|c| format!(" {c}")).unwrap_or_default()
                )
            })
            .collect();
        let program = format!("{{\n{body}}}\n");
        if crlf { program.replace('\n', "\r\n") } else { program }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn agrees_on_generated_c_family_code(program in c_program(), flavour in 0usize..5) {
        let (language, program) = match flavour {
            0 => (Language::C, program),
            1 => (Language::Cpp, program),
            2 => (Language::Java, program.replace("1'000'000", "1_000_000").replace("0x1Fp-3", "0x1F")),
            3 => (Language::CSharp, program.replace("1'000'000", "1_000_000").replace("0x1Fp-3", "0x1F")),
            _ => (Language::Go, program.replace("int f(void)", "func f() int").replace("1'000'000", "1_000_000")),
        };
        let (fast, tree) = both(language, &program).expect("lexer takes generated code");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{:?}\n{}", language, program);
    }

    #[test]
    fn agrees_on_generated_python(program in python_program()) {
        let (fast, tree) = both(Language::Python, &program).expect("lexer takes generated code");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }

    #[test]
    fn agrees_on_generated_javascript_family_code(typescript: bool, tsx: bool, program in js_program(false), typed in js_program(true)) {
        let (language, program) = match (typescript, tsx) {
            (true, _) => (Language::TypeScript, typed),
            (false, true) => (Language::Tsx, program),
            (false, false) => (Language::JavaScript, program),
        };
        let (fast, tree) = both(language, &program).expect("lexer takes generated code");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{:?}\n{}", language, program);
    }

    #[test]
    fn agrees_on_generated_hcl(program in hcl_program()) {
        let (fast, tree) = both(Language::Hcl, &program).expect("lexer takes generated code");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }

    #[test]
    fn agrees_on_generated_php(program in php_program()) {
        let (fast, tree) = both(Language::Php, &program).expect("lexer takes generated code");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }

    #[test]
    fn agrees_on_generated_yaml(program in yaml_program()) {
        let (fast, tree) = both(Language::Yaml, &program).expect("lexer takes generated YAML");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }

    #[test]
    fn x_threatspec_without_a_tree_agrees_on_generated_openapi(program in openapi_program()) {
        embedded_agree(&program);
    }

    #[test]
    fn agrees_on_generated_toml(program in toml_program()) {
        let (fast, tree) = both(Language::Toml, &program).expect("lexer takes generated TOML");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }

    #[test]
    fn agrees_on_generated_rust(program in rust_program()) {
        let (fast, tree) = both(Language::Rust, &program).expect("lexer takes generated Rust");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }

    #[test]
    fn agrees_on_generated_lua(program in lua_program()) {
        let (fast, tree) = both(Language::Lua, &program).expect("lexer takes generated Lua");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }

    #[test]
    fn agrees_on_generated_ruby(program in ruby_program()) {
        let (fast, tree) = both(Language::Ruby, &program).expect("lexer takes generated Ruby");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }

    #[test]
    fn agrees_on_generated_bash(program in bash_program()) {
        let (fast, tree) = both(Language::Bash, &program).expect("lexer takes generated Bash");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }

    #[test]
    fn agrees_on_generated_swift(program in swift_program()) {
        let (fast, tree) = both(Language::Swift, &program).expect("lexer takes generated Swift");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }

    #[test]
    fn agrees_on_generated_kotlin(program in kotlin_program()) {
        let (fast, tree) = both(Language::Kotlin, &program).expect("lexer takes generated Kotlin");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }

    #[test]
    fn agrees_on_generated_scala(program in scala_program()) {
        let (fast, tree) = both(Language::Scala, &program).expect("lexer takes generated Scala");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }

    #[test]
    fn agrees_on_generated_json(program in json_program()) {
        let (fast, tree) = both(Language::Json, &program).expect("lexer takes generated JSON");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }

    #[test]
    fn agrees_on_generated_dockerfiles(program in dockerfile_program()) {
        let (fast, tree) = both(Language::Dockerfile, &program).expect("lexer takes generated Dockerfiles");
        prop_assert_eq!(render(&program, &fast), render(&program, &tree), "{}", program);
    }
}
