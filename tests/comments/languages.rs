//! Comment extraction per language: which comment text becomes a candidate line, with its exact
//! position (`line:col`, 1-based, byte columns), its block, and its content.

use expect_test::{Expect, expect};
use threat_analyzer::syntax::comments;
use threat_analyzer::syntax::{Language, candidate_lines};
use threat_analyzer::text::LineIndex;

fn render(language: Language, text: &str) -> String {
    let index = LineIndex::new(text);
    let mut out = String::new();
    for line in candidate_lines(language, text) {
        let lc = index.line_col(line.range.start());
        out.push_str(&format!("{}:{} {}: {}\n", lc.line + 1, lc.col + 1, line.block, line.range.slice(text)));
    }
    out
}

fn check(language: Language, text: &str, expect: Expect) {
    expect.assert_eq(&render(language, text));
}

#[test]
fn python() {
    check(
        Language::Python,
        r##"#!/usr/bin/env python3
# @asset App.Api (#api)
#   -- "more text"
#@exposes App.Api to #sqli
x = 1  # @audit App.X
s = "# @exposes A to #b"
def f():
    """@mitigates App against #xss using #esc"""
    ## @control Escaping (#esc)

    # @threat SQLi (#sqli)
"##,
        expect![[r#"
            1:2 0: !/usr/bin/env python3
            2:3 0: @asset App.Api (#api)
            3:5 0: -- "more text"
            4:2 0: @exposes App.Api to #sqli
            5:10 1: @audit App.X
            9:8 2: @control Escaping (#esc)
            11:7 3: @threat SQLi (#sqli)
        "#]],
    );
}

#[test]
fn rust() {
    check(
        Language::Rust,
        r##"//! @asset App.Core (#core)
/// @exposes App.Core to #dos [P2] cwe:CWE-400
/// -- "unbounded input"
fn f() -> &'static str { "// @audit not.a.comment" } // @audit App.Core
/* @threat DoS (#dos) */
/**
 * @control RateLimit (#rl)
 *   -- "per client"
 */
/*! @mitigates App.Core against #dos using #rl */
// first
// @flows App.Core -> App.Db
let r = r#"/* @asset Fake */"#;
"##,
        expect![[r#"
            1:5 0: @asset App.Core (#core)
            2:5 0: @exposes App.Core to #dos [P2] cwe:CWE-400
            3:5 0: -- "unbounded input"
            4:57 1: @audit App.Core
            5:4 2: @threat DoS (#dos)
            7:4 3: @control RateLimit (#rl)
            8:6 3: -- "per client"
            10:5 4: @mitigates App.Core against #dos using #rl
            11:4 5: first
            12:4 5: @flows App.Core -> App.Db
        "#]],
    );
}

#[test]
fn javascript() {
    check(
        Language::JavaScript,
        r##"// @asset Web.Client (#client)
const re = /@mitigates X against Y/; // @audit Web.Client
const s = '// @exposes Fake to #x';
const t = `/* @exposes Fake to #y */`;
/**
 * @exposes Web.Client to #xss
 */
const el = <div>{/* @flows Web.Client -> Web.Api */}</div>;
"##,
        expect![[r#"
            1:4 0: @asset Web.Client (#client)
            2:41 1: @audit Web.Client
            6:4 2: @exposes Web.Client to #xss
            8:21 3: @flows Web.Client -> Web.Api
        "#]],
    );
}

#[test]
fn typescript_and_tsx() {
    let text = r##"// @asset Api (#api)
/* @threat Injection (#inj) */
const q: string = "// @exposes Fake to #x"; // @exposes Api to #inj
"##;
    let ts = render(Language::TypeScript, text);
    expect![[r#"
        1:4 0: @asset Api (#api)
        2:4 1: @threat Injection (#inj)
        3:48 2: @exposes Api to #inj
    "#]]
    .assert_eq(&ts);
    assert_eq!(render(Language::Tsx, text), ts);
    check(
        Language::Tsx,
        "const a = <A>{/* @audit Ui.A */}</A>;\n",
        expect![[r#"
            1:18 0: @audit Ui.A
        "#]],
    );
}

#[test]
fn go() {
    check(
        Language::Go,
        r##"// Package api serves users.
//
// @asset Api.Users (#users)
package api

/* @exposes Api.Users to #idor */
var s = "// @exposes Fake to #x" // @audit Api.Users
var r = `/* @exposes Fake to #y */`
"##,
        expect![[r#"
            1:4 0: Package api serves users.
            3:4 0: @asset Api.Users (#users)
            6:4 1: @exposes Api.Users to #idor
            7:37 2: @audit Api.Users
        "#]],
    );
}

#[test]
fn java_kotlin_scala_swift() {
    let java = r##"/**
 * @mitigates Shop:Cart against CSRF with token
 */
class Cart { // @audit Shop:Cart
  String s = "/* @exposes Fake to #x */";
  // @connects Shop:Cart to Shop:Db with JDBC
}
"##;
    check(
        Language::Java,
        java,
        expect![[r#"
        2:4 0: @mitigates Shop:Cart against CSRF with token
        4:17 1: @audit Shop:Cart
        6:6 2: @connects Shop:Cart to Shop:Db with JDBC
    "#]],
    );
    let kotlin = r##"/** @asset App.K (#k) */
// @exposes App.K to #t
val s = "// @exposes Fake to #x" // @audit App.K
val t = """/* @exposes Fake to #y */"""
"##;
    check(
        Language::Kotlin,
        kotlin,
        expect![[r#"
        1:5 0: @asset App.K (#k)
        2:4 1: @exposes App.K to #t
        3:37 2: @audit App.K
    "#]],
    );
    let scala = r##"/* @asset App.S (#s)
 * @threat T (#t) */
// @exposes App.S to #t
val s = "// @exposes Fake to #x" // @audit App.S
"##;
    check(
        Language::Scala,
        scala,
        expect![[r#"
        1:4 0: @asset App.S (#s)
        2:4 0: @threat T (#t)
        3:4 1: @exposes App.S to #t
        4:37 2: @audit App.S
    "#]],
    );
    let swift = r##"/* outer /* @asset Nested.Inner */ still outer
 @exposes App.Sw to #t */
/// @audit App.Sw
let s = "// @exposes Fake to #x" // @owns team for App.Sw
"##;
    check(
        Language::Swift,
        swift,
        expect![[r#"
        1:4 0: outer /* @asset Nested.Inner */ still outer
        2:2 0: @exposes App.Sw to #t
        3:5 1: @audit App.Sw
        4:37 2: @owns team for App.Sw
    "#]],
    );
}

#[test]
fn c_cpp_csharp() {
    let c = r##"/*
 * @asset Fw.Parser (#parser)
 ** @threat Overflow (#ovf)
 */
#include <stdio.h>
char *s = "/* @exposes Fake to #x */"; // @exposes Fw.Parser to #ovf
"##;
    check(
        Language::C,
        c,
        expect![[r#"
        2:4 0: @asset Fw.Parser (#parser)
        3:5 0: @threat Overflow (#ovf)
        6:43 1: @exposes Fw.Parser to #ovf
    "#]],
    );
    let cpp = r##"// @asset Fw.Cpp
auto s = R"(// @exposes Fake to #x)"; /* @audit Fw.Cpp */
"##;
    check(
        Language::Cpp,
        cpp,
        expect![[r#"
        1:4 0: @asset Fw.Cpp
        2:42 1: @audit Fw.Cpp
    "#]],
    );
    let cs = r##"/// <summary>@asset Svc.Cs (#cs)</summary>
/// @exposes Svc.Cs to #t
class A { string s = "// @exposes Fake to #x"; } // @audit Svc.Cs
"##;
    check(
        Language::CSharp,
        cs,
        expect![[r#"
        1:5 0: <summary>@asset Svc.Cs (#cs)</summary>
        2:5 0: @exposes Svc.Cs to #t
        3:53 1: @audit Svc.Cs
    "#]],
    );
}

#[test]
fn ruby_php_bash() {
    let ruby = r##"# @asset Rails.App (#app)
=begin
@exposes Rails.App to #xss
  -- "user html"
=end
s = "# @exposes Fake to #x" # @audit Rails.App
r = /# @mitigates Fake/
"##;
    check(
        Language::Ruby,
        ruby,
        expect![[r#"
        1:3 0: @asset Rails.App (#app)
        3:1 1: @exposes Rails.App to #xss
        4:3 1: -- "user html"
        6:31 2: @audit Rails.App
    "#]],
    );
    let php = r##"<?php
# @asset Php.App (#php)
// @exposes Php.App to #sqli
/* @threat SQLi (#sqli) */
#[Attribute]
$s = "# @exposes Fake to #x"; #@audit Php.App
?>
<p>// @exposes Html.Text to #x</p>
"##;
    check(
        Language::Php,
        php,
        expect![[r#"
        2:3 0: @asset Php.App (#php)
        3:4 0: @exposes Php.App to #sqli
        4:4 1: @threat SQLi (#sqli)
        6:32 2: @audit Php.App
    "#]],
    );
    let bash = r##"#!/bin/bash
# @asset Ops.Deploy (#deploy)
echo "# @exposes Fake to #x" # @audit Ops.Deploy
cat <<EOF
# @exposes Heredoc to #y
EOF
"##;
    check(
        Language::Bash,
        bash,
        expect![[r#"
        1:2 0: !/bin/bash
        2:3 0: @asset Ops.Deploy (#deploy)
        3:32 1: @audit Ops.Deploy
    "#]],
    );
}

#[test]
fn config_languages() {
    let yaml = r##"# @asset Infra.Cfg (#cfg)
key: "# @exposes Fake to #x" # @audit Infra.Cfg
block: |
  # @exposes Block to #y
"##;
    check(
        Language::Yaml,
        yaml,
        expect![[r#"
        1:3 0: @asset Infra.Cfg (#cfg)
        2:32 1: @audit Infra.Cfg
    "#]],
    );
    let hcl = r##"# @asset Infra.Bucket (#bucket)
// @exposes Infra.Bucket to #public [P1]
/* @mitigates Infra.Bucket against #public
   using #acl */
resource "aws_s3_bucket" "b" {
  name = "# @exposes Fake to #x" # @audit Infra.Bucket
}
"##;
    check(
        Language::Hcl,
        hcl,
        expect![[r#"
        1:3 0: @asset Infra.Bucket (#bucket)
        2:4 0: @exposes Infra.Bucket to #public [P1]
        3:4 1: @mitigates Infra.Bucket against #public
        4:4 1: using #acl
        6:36 2: @audit Infra.Bucket
    "#]],
    );
    let toml = r##"# @asset Cfg.Toml
k = "# @exposes Fake to #x" # @audit Cfg.Toml
"##;
    check(
        Language::Toml,
        toml,
        expect![[r#"
        1:3 0: @asset Cfg.Toml
        2:31 1: @audit Cfg.Toml
    "#]],
    );
    let json = r##"// @asset Cfg.Json
{"k": "// @exposes Fake to #x" /* @audit Cfg.Json */}
"##;
    check(
        Language::Json,
        json,
        expect![[r#"
        1:4 0: @asset Cfg.Json
        2:35 1: @audit Cfg.Json
    "#]],
    );
    let docker = r##"# syntax=docker/dockerfile:1
# @asset Img.Base (#base)
FROM debian
RUN echo "# @exposes Fake to #x" # @exposes Shell.Comment to #y
    # @audit Img.Base
"##;
    check(
        Language::Dockerfile,
        docker,
        expect![[r#"
        1:3 0: syntax=docker/dockerfile:1
        2:3 0: @asset Img.Base (#base)
        4:36 1: @exposes Shell.Comment to #y
        5:7 1: @audit Img.Base
    "#]],
    );
}

#[test]
fn lua() {
    check(
        Language::Lua,
        r##"-- @asset Game.Script (#script)
-- -- "continued"
---@exposes Game.Script to #inject
--[[ @threat Inject (#inject)
  @control Sandbox (#sb) ]]
--[==[
@mitigates Game.Script against #inject using #sb
]==]
local s = "-- @exposes Fake to #x" -- @audit Game.Script
local t = [[-- @exposes Fake to #y]]
"##,
        expect![[r#"
            1:4 0: @asset Game.Script (#script)
            2:4 0: -- "continued"
            3:4 0: @exposes Game.Script to #inject
            4:6 1: @threat Inject (#inject)
            5:3 1: @control Sandbox (#sb)
            7:1 2: @mitigates Game.Script against #inject using #sb
            9:39 3: @audit Game.Script
        "#]],
    );
}

#[test]
fn line_based_kinds() {
    let gal = "\u{feff}@asset App (#app)\n  -- \"desc\"\n\n@exposes App to #t\r\n\r\n# not stripped\n";
    check(
        Language::Gal,
        gal,
        expect![[r#"
        1:4 0: @asset App (#app)
        2:3 0: -- "desc"
        4:1 1: @exposes App to #t
        6:1 2: # not stripped
    "#]],
    );
    check(
        Language::ThreatSpecDoc,
        "@component External:User (#user)\n@mitigates A against B with C\n",
        expect![[r#"
            1:1 0: @component External:User (#user)
            2:1 0: @mitigates A against B with C
        "#]],
    );
    let txt = "Design notes\n# @asset Notes.App\n// @exposes Notes.App to #t\n- @audit bullet kept\n\n  ## @threat T (#t)\n";
    check(
        Language::PlainText,
        txt,
        expect![[r#"
        1:1 0: Design notes
        2:3 0: @asset Notes.App
        3:4 0: @exposes Notes.App to #t
        4:1 0: - @audit bullet kept
        6:6 1: @threat T (#t)
    "#]],
    );
}

#[test]
fn line_endings_crlf_and_lone_cr() {
    check(
        Language::Python,
        "# @asset A\r\n# @asset B\r\nx = 1 # @audit A\r\r# @audit B\r",
        expect![[r#"
            1:3 0: @asset A
            2:3 0: @asset B
            3:9 1: @audit A
            5:3 1: @audit B
        "#]],
    );
    check(
        Language::C,
        "/* @asset A\r\n * @asset B\r\n */\rint x; // @audit A\r\n",
        expect![[r#"
            1:4 0: @asset A
            2:4 0: @asset B
            4:11 1: @audit A
        "#]],
    );
}

#[test]
fn blocks_merge_only_adjacent_line_comments() {
    check(
        Language::Rust,
        r##"// a1
// a2

// b1
fn f() {} // c1
// c2
/* d */
/* e */
// f1
    // f2
"##,
        expect![[r#"
            1:4 0: a1
            2:4 0: a2
            4:4 1: b1
            5:14 2: c1
            6:4 2: c2
            7:4 3: d
            8:4 4: e
            9:4 5: f1
            10:8 5: f2
        "#]],
    );
}

#[test]
fn parse_tree_then_lines_equals_candidate_lines() {
    let text = "# @asset A\nx = 1 # @audit A\n";
    let tree = comments::parse_tree(Language::Python, text, None).expect("parses");
    assert_eq!(
        comments::candidate_lines_in_tree(Language::Python, &tree, text),
        comments::candidate_lines(Language::Python, text)
    );
}

#[test]
fn incremental_reparse_sees_the_edit() {
    let old_text = "x = 1\n";
    let new_text = "x = 1 # @audit A\n";
    let mut tree = comments::parse_tree(Language::Python, old_text, None).expect("parses");
    tree.edit(&tree_sitter::InputEdit {
        start_byte: 5,
        old_end_byte: 5,
        new_end_byte: 16,
        start_position: tree_sitter::Point::new(0, 5),
        old_end_position: tree_sitter::Point::new(0, 5),
        new_end_position: tree_sitter::Point::new(0, 16),
    });
    let tree = comments::parse_tree(Language::Python, new_text, Some(&tree)).expect("reparses");
    let lines = comments::candidate_lines_in_tree(Language::Python, &tree, new_text);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].range.slice(new_text), "@audit A");
}
