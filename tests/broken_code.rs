//! Annotations survive host code that does not parse (issue 13, section 1): in every language
//! with a grammar, code broken before, between and after annotations (unclosed brackets, stray
//! tokens, a merge-conflict block) gives the same annotations as the unbroken file, on the path
//! `check` takes (fast lexer or tree-sitter), on the language server's (a tree, re-read after
//! incremental edits), and through the real binary and server end to end.

#[path = "support/cli.rs"]
mod cli_support;
#[path = "support/lsp.rs"]
mod lsp_support;

use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use threat_analyzer::diagnostic::Code;
use threat_analyzer::file_id::FileId;
use threat_analyzer::lsp::documents::Document;
use threat_analyzer::syntax::{self, Language, ParsedFile, comments};
use threat_analyzer::text::ColumnUnit;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};

/// One language's unbroken file, as chunks between which broken code can go.
struct Host {
    file: &'static str,
    /// The line-comment marker the annotations are written with.
    comment: &'static str,
    /// A block comment holding one annotation (`{}` is the annotation), where the language has one.
    block: Option<&'static str>,
    /// Code before the annotations, in the middle, after them; `trailing` holds `{}` where a
    /// comment after code goes.
    head: &'static str,
    middle: &'static str,
    trailing: &'static str,
    tail: &'static str,
}

const HOSTS: &[Host] = &[
    Host {
        file: "a.py",
        comment: "#",
        block: None,
        head: "import os",
        middle: "def handler(req):\n    return req",
        trailing: "TIMEOUT = 30  {}",
        tail: "print(handler(1))",
    },
    Host {
        file: "a.rs",
        comment: "//",
        block: Some("/* {} */"),
        head: "use std::fs;",
        middle: "fn handler(req: u32) -> u32 {\n    req\n}",
        trailing: "const TIMEOUT: u32 = 30; {}",
        tail: "fn main() {}",
    },
    Host {
        file: "a.js",
        comment: "//",
        block: Some("/* {} */"),
        head: "const fs = require(\"fs\");",
        middle: "function handler(req) {\n  return req;\n}",
        trailing: "const TIMEOUT = 30; {}",
        tail: "handler(1);",
    },
    Host {
        file: "a.ts",
        comment: "//",
        block: Some("/** {} */"),
        head: "import * as fs from \"fs\";",
        middle: "function handler(req: number): number {\n  return req;\n}",
        trailing: "const TIMEOUT: number = 30; {}",
        tail: "handler(1);",
    },
    Host {
        file: "a.tsx",
        comment: "//",
        block: Some("/* {} */"),
        head: "import * as React from \"react\";",
        middle: "const View = () => <div>{\"ok\"}</div>;",
        trailing: "const TIMEOUT = 30; {}",
        tail: "export default View;",
    },
    Host {
        file: "a.go",
        comment: "//",
        block: Some("/* {} */"),
        head: "package main",
        middle: "func handler(req int) int {\n\treturn req\n}",
        trailing: "var timeout = 30 {}",
        tail: "func main() {}",
    },
    Host {
        file: "a.java",
        comment: "//",
        block: Some("/** {} */"),
        head: "class Store {",
        middle: "  int handler(int req) {\n    return req;\n  }",
        trailing: "  int timeout = 30; {}",
        tail: "}",
    },
    Host {
        file: "a.c",
        comment: "//",
        block: Some("/* {} */"),
        head: "#include <stdio.h>",
        middle: "int handler(int req) {\n  return req;\n}",
        trailing: "int timeout = 30; {}",
        tail: "int main(void) { return 0; }",
    },
    Host {
        file: "a.cpp",
        comment: "//",
        block: Some("/* {} */"),
        head: "#include <string>",
        middle: "namespace app {\nint handler(int req) { return req; }\n}",
        trailing: "int timeout = 30; {}",
        tail: "int main() { return 0; }",
    },
    Host {
        file: "a.cs",
        comment: "//",
        block: Some("/* {} */"),
        head: "class Store {",
        middle: "  int Handler(int req) { return req; }",
        trailing: "  int timeout = 30; {}",
        tail: "}",
    },
    Host {
        file: "a.rb",
        comment: "#",
        block: None,
        head: "require \"json\"",
        middle: "def handler(req)\n  req\nend",
        trailing: "TIMEOUT = 30 {}",
        tail: "handler(1)",
    },
    Host {
        file: "a.php",
        comment: "//",
        block: Some("/* {} */"),
        head: "<?php",
        middle: "function handler($req) {\n  return $req;\n}",
        trailing: "$timeout = 30; {}",
        tail: "handler(1);",
    },
    Host {
        file: "a.sh",
        comment: "#",
        block: None,
        head: "set -e",
        middle: "handler() {\n  echo \"$1\"\n}",
        trailing: "TIMEOUT=30 {}",
        tail: "handler 1",
    },
    Host {
        file: "a.yaml",
        comment: "#",
        block: None,
        head: "store:\n  name: orders",
        middle: "  replicas: 2",
        trailing: "timeout: 30 {}",
        tail: "debug: false",
    },
    Host {
        file: "a.tf",
        comment: "#",
        block: Some("/* {} */"),
        head: "resource \"aws_s3_bucket\" \"store\" {\n  bucket = \"orders\"",
        middle: "  acl = \"private\"",
        trailing: "  force_destroy = true {}",
        tail: "}",
    },
    Host {
        file: "a.toml",
        comment: "#",
        block: None,
        head: "[store]\nname = \"orders\"",
        middle: "replicas = 2",
        trailing: "timeout = 30 {}",
        tail: "debug = false",
    },
    Host {
        file: "a.kt",
        comment: "//",
        block: Some("/* {} */"),
        head: "import java.io.File",
        middle: "fun handler(req: Int): Int {\n    return req\n}",
        trailing: "val timeout = 30 {}",
        tail: "fun main() {}",
    },
    Host {
        file: "a.swift",
        comment: "//",
        block: Some("/* {} */"),
        head: "import Foundation",
        middle: "func handler(req: Int) -> Int {\n    return req\n}",
        trailing: "let timeout = 30 {}",
        tail: "print(handler(req: 1))",
    },
    Host {
        file: "a.scala",
        comment: "//",
        block: Some("/* {} */"),
        head: "object Store {",
        middle: "  def handler(req: Int): Int = req",
        trailing: "  val timeout = 30 {}",
        tail: "}",
    },
    Host {
        file: "a.lua",
        comment: "--",
        block: Some("--[[ {} ]]"),
        head: "local json = require(\"json\")",
        middle: "function handler(req)\n  return req\nend",
        trailing: "local timeout = 30 {}",
        tail: "handler(1)",
    },
    Host {
        file: "a.json",
        comment: "//",
        block: Some("/* {} */"),
        head: "{\n  \"name\": \"orders\",",
        middle: "  \"replicas\": 2,",
        trailing: "  \"timeout\": 30 {}",
        tail: "}",
    },
    Host {
        file: "Dockerfile",
        comment: "#",
        block: None,
        head: "FROM alpine:3.20",
        middle: "RUN apk add curl",
        trailing: "USER app",
        tail: "CMD [\"/app\"]",
    },
];

/// The annotations, each a chunk of comment lines.
const ASSET: &str = "@asset App.Store (#store)";
const THREAT: [&str; 2] = ["@threat Tampering (#tamper)", "  -- \"records are changed\""];
const TRAILING: &str = "@audit #store -- \"timeout\"";
const CONTROL: &str = "@control Signing (#sign)";
const EXPOSES: &str = "@exposes #store to #tamper -- \"no integrity check\"";
const MITIGATES: &str = "@mitigates #store against #tamper using #sign";

/// Broken code: an unclosed bracket, stray tokens.
const UNCLOSED: &str = "broken(( [ { ,";
const STRAY: &str = "oops ?? ;; ) ]";
const CONFLICT_OPEN: &str = "<<<<<<< HEAD";
const CONFLICT_BASE: &str = "||||||| 3f2a1b0";
const CONFLICT_SPLIT: &str = "=======";
const CONFLICT_CLOSE: &str = ">>>>>>> 129f425 (sign the records)";

impl Host {
    fn language(&self) -> Language {
        Language::from_path(std::path::Path::new(self.file)).unwrap()
    }

    fn line(&self, annotation: &str) -> String {
        format!("{} {annotation}", self.comment)
    }

    fn trailing(&self) -> String {
        // Dockerfile comments are whole lines only.
        if self.file == "Dockerfile" {
            format!("{}\n{}", self.trailing, self.line(TRAILING))
        } else {
            self.trailing.replace("{}", &self.line(TRAILING))
        }
    }

    fn control(&self) -> String {
        match self.block {
            Some(block) => block.replace("{}", CONTROL),
            None => self.line(CONTROL),
        }
    }

    /// The chunks of the unbroken file, in order.
    fn chunks(&self) -> Vec<String> {
        vec![
            self.head.to_string(),
            self.line(ASSET),
            self.middle.to_string(),
            format!("{}\n{}", self.line(THREAT[0]), self.line(THREAT[1])),
            self.trailing(),
            self.control(),
            self.line(EXPOSES),
            self.line(MITIGATES),
            self.tail.to_string(),
        ]
    }

    fn clean(&self) -> String {
        self.chunks().join("\n") + "\n"
    }

    /// Broken before the first annotation, between annotations, inside a conflict block (both
    /// sides annotated, with a diff3 base) and after the last one.
    fn broken(&self) -> String {
        let c = self.chunks();
        [
            &c[0],
            UNCLOSED,
            &c[1],
            &c[2],
            STRAY,
            &c[3],
            &c[4],
            CONFLICT_OPEN,
            &c[5],
            &c[6],
            CONFLICT_BASE,
            STRAY,
            CONFLICT_SPLIT,
            &c[7],
            CONFLICT_CLOSE,
            UNCLOSED,
            STRAY,
            &c[8],
        ]
        .join("\n")
            + "\n"
    }
}

/// Each annotation as its verb and text (ranges move when lines are inserted).
fn annotations(text: &str, parsed: &ParsedFile) -> Vec<String> {
    parsed.annotations.iter().map(|a| a.range.slice(text).to_string()).collect()
}

fn errors(text: &str, parsed: &ParsedFile) -> Vec<(Code, String)> {
    parsed.errors.iter().map(|e| (e.code, e.range.slice(text).to_string())).collect()
}

/// What a language-server document reads from `text` (a fresh tree, never the fast lexer).
fn lsp_read(host: &Host, text: &str) -> ParsedFile {
    let mut doc = Document::new(text, 1, host.language(), u64::MAX);
    doc.facts(FileId::absolute(std::path::Path::new("/f")), u64::MAX).parsed
}

#[test]
fn every_language_reads_the_same_annotations_from_broken_code() {
    let mut failures = Vec::new();
    for host in HOSTS {
        let language = host.language();
        let (clean, broken) = (host.clean(), host.broken());
        let tree = comments::parse_tree(language, &clean, None).unwrap();
        assert!(!tree.root_node().has_error(), "{}: the unbroken file must parse:\n{clean}", host.file);
        let tree = comments::parse_tree(language, &broken, None).unwrap();
        assert!(tree.root_node().has_error(), "{}: the broken file must not parse", host.file);
        let want = annotations(&clean, &syntax::parse_file(language, &clean));
        assert_eq!(want.len(), 6, "{}: {want:#?}", host.file);
        for (path, parsed) in
            [("check", syntax::parse_file(language, &broken)), ("language server", lsp_read(host, &broken))]
        {
            let got = annotations(&broken, &parsed);
            if got != want {
                failures.push(format!("{} ({path}): got {got:#?}\nwant {want:#?}", host.file));
            }
            let notes = errors(&broken, &parsed);
            if notes != [(Code::ConflictMarker, CONFLICT_OPEN.to_string())] {
                failures.push(format!("{} ({path}): diagnostics {notes:?}", host.file));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The language server's incremental path: the unbroken file, broken one inserted line at a
/// time (each edit re-read from the edited tree), reads what a fresh read of each version does.
#[test]
fn incremental_edits_into_broken_code_read_what_a_fresh_read_does() {
    for host in HOSTS {
        let language = host.language();
        let clean = host.clean();
        let mut doc = Document::new(&clean, 1, language, u64::MAX);
        doc.facts(FileId::absolute(std::path::Path::new("/f")), u64::MAX);
        let mut text = clean.clone();
        let breakers = [UNCLOSED, CONFLICT_OPEN, STRAY, CONFLICT_SPLIT, CONFLICT_CLOSE, UNCLOSED];
        let lines = text.lines().count() as u32;
        for (step, breaker) in breakers.iter().enumerate() {
            // Spread the insertions over the file, each at a line start.
            let line = (step as u32 * 3 + 1) % lines;
            let offset = text.split_inclusive('\n').take(line as usize).map(str::len).sum::<usize>();
            let inserted = format!("{breaker}\n");
            text.insert_str(offset, &inserted);
            let at = Position::new(line, 0);
            let change = TextDocumentContentChangeEvent {
                range: Some(Range { start: at, end: at }),
                range_length: None,
                text: inserted,
            };
            doc.apply(&change, ColumnUnit::Utf16);
            let incremental = doc.facts(FileId::absolute(std::path::Path::new("/f")), u64::MAX).parsed;
            let fresh = lsp_read(host, &text);
            assert_eq!(incremental, fresh, "{} step {step}:\n{text}", host.file);
            assert_eq!(
                annotations(&text, &incremental),
                annotations(&text, &syntax::parse_file(language, &text)),
                "{} step {step}: language server and check differ on\n{text}",
                host.file
            );
        }
    }
}

/// Garbage lines: brackets, operators and words, never a quote, comment or string opener (a
/// garbage line that opened a string or comment a later one closed would rightly hide what
/// lies between; a YAML `|` or `>` line opens a block scalar that rightly holds the lines
/// after it).
fn garbage_line() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        ";",
        ",",
        ".",
        ":",
        "<",
        "=",
        "+",
        "!",
        "?",
        "&",
        "oops",
        "if",
        "end",
        "fn",
        "def",
        "class",
        "do",
        "then",
        "let",
        "1",
        "x",
        "<<<<<<< HEAD",
        "=======",
    ]);
    prop::collection::vec(token, 1..6).prop_map(|tokens| tokens.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random garbage lines between the chunks of an annotated file of any language: no
    /// annotation outside the garbage disappears, on either path.
    #[test]
    fn garbage_lines_never_hide_an_annotation(
        host in 0..HOSTS.len(),
        insertions in prop::collection::vec((0usize..9, garbage_line()), 1..5),
    ) {
        let host = &HOSTS[host];
        let language = host.language();
        let mut chunks = host.chunks();
        let clean = host.clean();
        let want = annotations(&clean, &syntax::parse_file(language, &clean));
        for (at, garbage) in insertions.iter().rev() {
            chunks.insert((*at).min(chunks.len()), garbage.clone());
        }
        let text = chunks.join("\n") + "\n";
        let check = annotations(&text, &syntax::parse_file(language, &text));
        let server = annotations(&text, &lsp_read(host, &text));
        prop_assert_eq!(&check, &want, "check on {}:\n{}", host.file, text);
        prop_assert_eq!(&server, &want, "language server on {}:\n{}", host.file, text);
    }
}

/// `check --format json` (the binary) and the language server over the same broken files:
/// the same annotations counted, the same diagnostics at the same lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_the_language_server_agree_on_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    for host in HOSTS {
        std::fs::write(dir.path().join(host.file), host.broken()).unwrap();
    }
    let output = std::process::Command::new(cli_support::bin())
        .args(["check", "--format", "json", "--fail-on", "never", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let summary = &report["summary"];
    assert_eq!(summary["files_with_annotations"], HOSTS.len());
    assert_eq!(summary["annotations"], 6 * HOSTS.len(), "{summary}");
    assert_eq!(summary["notes"], HOSTS.len(), "one conflict-marker note per file: {summary}");
    let mut from_check: BTreeMap<String, Vec<(u64, String, String)>> = BTreeMap::new();
    for d in report["diagnostics"].as_array().unwrap() {
        let file = d["file"].as_str().unwrap().trim_start_matches("./").to_string();
        // 1-based in the report, 0-based in the protocol.
        let line = d["line"].as_u64().unwrap() - 1;
        let entry =
            (line, d["code"].as_str().unwrap().to_string(), d["message"].as_str().unwrap().to_string());
        from_check.entry(file).or_default().push(entry);
    }

    let (mut client, _) = lsp_support::TestClient::start(dir.path(), json!({}), Value::Null).await;
    for host in HOSTS {
        let uri = lsp_support::file_uri(&dir.path().join(host.file));
        let diags = client.diagnostics_for(&uri, |d| !d.is_empty()).await;
        let mut from_server: Vec<(u64, String, String)> = diags
            .iter()
            .map(|d| {
                let line = d["range"]["start"]["line"].as_u64().unwrap();
                (line, d["code"].as_str().unwrap().to_string(), d["message"].as_str().unwrap().to_string())
            })
            .collect();
        from_server.sort();
        let mut want = from_check.remove(host.file).unwrap_or_default();
        want.sort();
        assert_eq!(from_server, want, "{}", host.file);
    }
    // The status command counts what the server indexed (it has the annotation counts).
    let status =
        client.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"})).await;
    for key in ["annotations", "files_with_annotations"] {
        assert_eq!(status[key], summary[key], "{key}: status {status} vs check {summary}");
    }
}

/// tree-sitter-kotlin-ng stops after `oops |` (or `end !`) and reports no error: the text no
/// node covers is broken code too (found by the garbage-line property).
#[test]
fn text_a_silent_parse_left_out_is_read() {
    for garbage in ["oops |", "end !"] {
        let text = format!(
            "{garbage}\nimport java.io.File\n// @asset App.Store (#store)\nval x = 1 // @audit #store\n"
        );
        let tree = comments::parse_tree(Language::Kotlin, &text, None).unwrap();
        assert!(!tree.root_node().has_error(), "the grammar reports no error for {garbage:?}");
        assert!(comments::is_broken(&tree, &text));
        let parsed = syntax::parse_file(Language::Kotlin, &text);
        assert_eq!(
            annotations(&text, &parsed),
            ["@asset App.Store (#store)", "@audit #store"],
            "{garbage:?}"
        );
    }
}

/// tree-sitter-kotlin-ng reads nothing after an ASCII control character and reports no error:
/// `check` said "0 annotations" and exited 0 on this file, whose high threat nothing mitigates.
/// Kotlin is parsed with its control characters read as spaces, so the finding is reported.
#[test]
fn a_control_character_in_kotlin_hides_no_finding() {
    let dir = cli_support::tempdir();
    cli_support::write(
        dir.path(),
        "x.kt",
        "@file:JvmMul\u{f}\nval x = 1 // @threat Lost (#lost) [high]\n// @exposes App to #lost\n",
    );
    assert_one_unmitigated_exposure_of_two_annotations(dir.path());
}

/// tree-sitter-swift reads `+/*` (an operator character, then a comment) as one custom
/// operator, without an error: the comment's annotation was lost and `check` reported the
/// exposure's threat as undefined instead of unmitigated (the division keeps the Swift lexer
/// out, so the tree reads the file; the language server reads every open document from its
/// tree).
#[test]
fn a_swift_comment_right_after_an_operator_is_read() {
    let dir = cli_support::tempdir();
    cli_support::write(
        dir.path(),
        "x.swift",
        "let half = total / 2 +/* @threat Lost (#lost) [high] */ 0\n// @exposes App to #lost\n",
    );
    assert_one_unmitigated_exposure_of_two_annotations(dir.path());
}

/// `check` of `dir` reads two annotations and reports one unmitigated exposure (exit 1).
fn assert_one_unmitigated_exposure_of_two_annotations(dir: &std::path::Path) {
    let run = cli_support::run(dir, &["check", "--no-cache", "--format", "json", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["summary"]["annotations"], 2, "{}", report["summary"]);
    let codes: Vec<&str> =
        report["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["unmitigated-exposure"]);
}

/// A quoted name holding a `'` (Kotlin, Scala and Swift allow `` `it's` ``) in code the grammar
/// gave up on: the re-scan of that text took the `'` for a character literal and ran it over
/// the `/*` after it, so the block comment's threat was lost on the language server's path
/// (the `comments` fuzz target found the Kotlin case).
#[test]
fn a_quoted_name_in_broken_code_hides_no_comment() {
    let comment = "/* it's\n * @threat Lost (#lost) [high]\n */\n// @exposes App to #lost\n";
    for (file, code) in
        [("x.kt", "oops | `it's` "), ("x.scala", "val x = ) `it's` "), ("x.swift", "let x = ) `it's` ")]
    {
        let language = Language::from_path(std::path::Path::new(file)).unwrap();
        let text = format!("{code}{comment}");
        let tree = comments::parse_tree(language, &text, None).unwrap();
        assert!(comments::is_broken(&tree, &text), "{file}: the code must be broken");
        let want = ["@threat Lost (#lost) [high]", "@exposes App to #lost"];
        assert_eq!(annotations(&text, &syntax::parse_file(language, &text)), want, "{file}: check");
        let mut doc = Document::new(&text, 1, language, u64::MAX);
        let parsed = doc.facts(FileId::absolute(std::path::Path::new("/f")), u64::MAX).parsed;
        assert_eq!(annotations(&text, &parsed), want, "{file}: the language server");
    }
}

/// tree-sitter-rust lets a block comment follow `////` inside the line comment (`/////*`),
/// so the line comment ran on to that block comment's `*/` lines later, without an error:
/// the `// @threat` after code on a line in between was no comment of its own, and the
/// language server lost the threat. A Rust line comment ends with its line.
#[test]
fn a_rust_line_comment_ends_with_its_line() {
    let text = "/////*\nfn f() {} // @threat Lost (#lost) [high]\n// banner */\n// @exposes App to #lost\n";
    let tree = comments::parse_tree(Language::Rust, text, None).unwrap();
    assert!(!tree.root_node().has_error(), "the grammar reports no error");
    let want = ["@threat Lost (#lost) [high]", "@exposes App to #lost"];
    assert_eq!(annotations(text, &syntax::parse_file(Language::Rust, text)), want, "check");
    let mut doc = Document::new(text, 1, Language::Rust, u64::MAX);
    let parsed = doc.facts(FileId::absolute(std::path::Path::new("/f")), u64::MAX).parsed;
    assert_eq!(annotations(text, &parsed), want, "the language server");
}
