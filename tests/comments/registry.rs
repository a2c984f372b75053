//! The language registry: every comment query compiles against its grammar and finds comments,
//! and paths map to languages by extension and well-known file name (never by content).

use std::path::Path;

use threat_analyzer::syntax::Language;
use tree_sitter::{Parser, Query, QueryCursor, StreamingIterator};

/// A small sample per language with exactly two comments (one line-style, one block-style or a
/// second line comment), to prove that each query captures the comment nodes of its grammar.
fn sample(language: Language) -> &'static str {
    match language {
        Language::Python => "# a\nx = 1 # b\n",
        Language::Rust => "// a\nfn f() {} /* b */\n",
        Language::JavaScript | Language::TypeScript | Language::Tsx => "// a\nlet x = 1; /* b */\n",
        Language::Go => "// a\npackage x /* b */\n",
        Language::Java => "// a\nclass A { /* b */ }\n",
        Language::C | Language::Cpp => "// a\nint x; /* b */\n",
        Language::CSharp => "// a\nclass A { /* b */ }\n",
        Language::Ruby => "# a\nx = 1 # b\n",
        Language::Php => "<?php\n# a\n/* b */\n",
        Language::Bash => "# a\necho hi # b\n",
        Language::Yaml => "# a\nk: v # b\n",
        Language::Hcl => "# a\nx = 1 /* b */\n",
        Language::Toml => "# a\nk = 1 # b\n",
        Language::Kotlin => "// a\nval x = 1 /* b */\n",
        Language::Swift => "// a\nlet x = 1 /* b */\n",
        Language::Scala => "// a\nval x = 1 /* b */\n",
        Language::Lua => "-- a\nlocal x = 1 --[[ b ]]\n",
        Language::Json => "// a\n{\"k\": 1 /* b */}\n",
        Language::Dockerfile => "# a\nFROM x\n# b\n",
        Language::Gal | Language::ThreatSpecDoc | Language::PlainText => "",
    }
}

#[test]
fn every_comment_query_compiles_and_captures_comments() {
    let mut checked = 0;
    for &language in Language::all() {
        let (Some(grammar), Some(source)) = (language.grammar(), language.comment_query()) else {
            assert!(
                language.grammar().is_none() && language.comment_query().is_none(),
                "{language:?}: grammar and query must come together"
            );
            continue;
        };
        let query = Query::new(&grammar, source)
            .unwrap_or_else(|e| panic!("{}: query does not compile: {e}", language.name()));
        assert_eq!(query.capture_names(), &["comment"], "{}", language.name());

        let mut parser = Parser::new();
        parser.set_language(&grammar).unwrap();
        let text = sample(language);
        let tree = parser.parse(text, None).unwrap();
        assert!(!tree.root_node().has_error(), "{}: sample has errors", language.name());
        let mut cursor = QueryCursor::new();
        let mut matches = cursor.matches(&query, tree.root_node(), text.as_bytes());
        let mut found = Vec::new();
        while let Some(m) = matches.next() {
            for c in m.captures {
                found.push(&text[c.node.byte_range()]);
            }
        }
        assert_eq!(found.len(), 2, "{}: captured {found:?}", language.name());
        checked += 1;
    }
    assert_eq!(checked, 22);
}

#[test]
fn names_are_unique_and_round_trip() {
    let mut names: Vec<_> = Language::all().iter().map(|l| l.name()).collect();
    for &l in Language::all() {
        assert_eq!(Language::from_name(l.name()), Some(l));
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), Language::all().len());
}

#[test]
fn only_yaml_and_json_have_embedded_annotations() {
    let embedded: Vec<_> = Language::all().iter().filter(|l| l.has_embedded_annotations()).collect();
    assert_eq!(embedded, [&Language::Yaml, &Language::Json]);
}

fn lang(path: &str) -> Option<Language> {
    Language::from_path(Path::new(path))
}

#[test]
fn from_path_by_extension() {
    use Language::*;
    let cases: &[(&str, Language)] = &[
        ("a.py", Python),
        ("stubs/a.pyi", Python),
        ("src/lib.rs", Rust),
        ("a.js", JavaScript),
        ("a.mjs", JavaScript),
        ("a.cjs", JavaScript),
        ("a.jsx", JavaScript),
        ("a.ts", TypeScript),
        ("a.mts", TypeScript),
        ("a.cts", TypeScript),
        ("a.tsx", Tsx),
        ("main.go", Go),
        ("A.java", Java),
        ("a.c", C),
        ("a.h", C),
        ("a.cpp", Cpp),
        ("a.cc", Cpp),
        ("a.cxx", Cpp),
        ("a.hpp", Cpp),
        ("a.hh", Cpp),
        ("a.C", Cpp),
        ("A.cs", CSharp),
        ("a.rb", Ruby),
        ("tasks/db.rake", Ruby),
        ("x.gemspec", Ruby),
        ("index.php", Php),
        ("run.sh", Bash),
        ("run.bash", Bash),
        ("run.zsh", Bash),
        ("ci.yml", Yaml),
        ("openapi.yaml", Yaml),
        ("main.tf", Hcl),
        ("prod.tfvars", Hcl),
        ("job.hcl", Hcl),
        ("Cargo.toml", Toml),
        ("A.kt", Kotlin),
        ("build.gradle.kts", Kotlin),
        ("A.swift", Swift),
        ("A.scala", Scala),
        ("script.sc", Scala),
        ("build.sbt", Scala),
        ("init.lua", Lua),
        ("package.json", Json),
        ("settings.jsonc", Json),
        ("app.dockerfile", Dockerfile),
        ("dev.Dockerfile", Dockerfile),
        ("model.gal", Gal),
        ("model.threatspec", ThreatSpecDoc),
        ("notes/design.txt", PlainText),
        ("UPPER.PY", Python),
    ];
    for &(path, expected) in cases {
        assert_eq!(lang(path), Some(expected), "{path}");
    }
}

#[test]
fn from_path_by_file_name() {
    use Language::*;
    let cases: &[(&str, Language)] = &[
        ("Dockerfile", Dockerfile),
        ("docker/Dockerfile", Dockerfile),
        ("Containerfile", Dockerfile),
        ("Dockerfile.prod", Dockerfile),
        ("Dockerfile.dev.arm64", Dockerfile),
        ("Containerfile.ci", Dockerfile),
        ("Rakefile", Ruby),
        ("Gemfile", Ruby),
        ("Vagrantfile", Ruby),
        ("config.ru", Ruby),
        (".bashrc", Bash),
        (".bash_profile", Bash),
        (".zshrc", Bash),
        (".profile", Bash),
        ("PKGBUILD", Bash),
        ("SConstruct", Python),
        ("Pipfile", Toml),
    ];
    for &(path, expected) in cases {
        assert_eq!(lang(path), Some(expected), "{path}");
    }
}

#[test]
fn from_path_rejects_unknown_and_never_sniffs() {
    for path in [
        "README",
        "Makefile",
        "CMakeLists.txt",
        "a.md",
        "a.png",
        "a.",
        "",
        "dir/",
        ".gitignore",
        "script", // a shebang-less script: no extension, no known name
        "Gemfile.lock",
        "a.tar.gz",
    ] {
        assert_eq!(lang(path), None, "{path}");
    }
}

/// `comments::comment_nodes` walks the tree instead of running the query (the query cursor is
/// quadratic on wide error nodes): it must find exactly the nodes the query captures, for the
/// whole file and for any byte range. In broken code it also finds the comments tree-sitter's
/// error recovery swallowed: there every captured node is still found (or held by a longer
/// re-scanned comment), each extra comment lies in a subtree with an error or after the tree,
/// and any byte range gets exactly the whole file's comments that overlap it.
#[test]
fn the_comment_walk_finds_what_the_query_captures() {
    for &language in Language::all() {
        let (Some(grammar), Some(source)) = (language.grammar(), language.comment_query()) else {
            continue;
        };
        let query = Query::new(&grammar, source).unwrap();
        let one = sample(language);
        // Nested and broken code between the comments, so error nodes and depth are covered.
        let broken = format!("{one}(((\n{one}{{ [ /* x\n{one}\n");
        for text in [format!("{one}{one}"), broken] {
            walk_matches_query(language, &query, &text);
        }
    }
}

fn walk_matches_query(language: Language, query: &Query, text: &str) {
    use threat_analyzer::syntax::comments;
    let tree = comments::parse_tree(language, text, None).unwrap();
    let has_error = tree.root_node().has_error();
    let by_query = |range: std::ops::Range<usize>| {
        let mut cursor = QueryCursor::new();
        cursor.set_byte_range(range);
        let mut matches = cursor.matches(query, tree.root_node(), text.as_bytes());
        let mut found = Vec::new();
        while let Some(m) = matches.next() {
            for c in m.captures {
                found.push((c.node.start_byte(), c.node.end_byte()));
            }
        }
        found.sort_unstable();
        found
    };
    let by_walk = |range: Option<std::ops::Range<usize>>| {
        let mut found = comments::comment_nodes(language, &tree, text, range).unwrap();
        found.sort_unstable();
        found
    };
    let all = by_query(0..text.len());
    assert!(all.len() >= 2, "{}: {all:?}", language.name());
    let walked = by_walk(None);
    if !has_error {
        assert_eq!(walked, all, "{}", language.name());
    } else {
        for &(s, e) in &all {
            assert!(walked.iter().any(|&(ws, we)| ws <= s && e <= we), "{}: {s}..{e} lost", language.name());
        }
        for &(s, e) in walked.iter().filter(|r| !all.contains(r)) {
            let _ = e;
            let root = tree.root_node();
            // The node where it starts, or one of its ancestors (the root only if it is an
            // ERROR node itself), has an error.
            let mut node = root.descendant_for_byte_range(s, s + 1);
            let mut in_error = s >= root.end_byte();
            while let Some(n) = node {
                in_error |= n.is_error() || (n.id() != root.id() && n.has_error());
                node = n.parent();
            }
            assert!(in_error, "{}: {:?} read outside broken code", language.name(), &text[s..e]);
        }
    }
    for start in (0..text.len()).step_by(3) {
        for end in [start, start + 1, start + 7, start + 40] {
            let end = end.min(text.len());
            // The query also reports comments that merely touch an empty range's position;
            // the editor always asks with one byte of slack, so compare on non-empty ranges.
            if end > start {
                let want = if has_error {
                    let overlapping = |&&(s, e): &&(usize, usize)| !(s >= end && s > start) && e > start;
                    walked.iter().filter(overlapping).copied().collect()
                } else {
                    by_query(start..end)
                };
                assert_eq!(by_walk(Some(start..end)), want, "{} {start}..{end}", language.name());
            }
        }
    }
}
