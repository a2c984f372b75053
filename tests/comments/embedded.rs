//! `x-threatspec` keys in YAML and JSON: every shape of value, at any depth, with exact ranges.

use expect_test::{Expect, expect};
use threat_analyzer::syntax::embedded::x_threatspec_lines;
use threat_analyzer::syntax::{Language, candidate_lines};
use threat_analyzer::text::LineIndex;

fn render(lines: &[threat_analyzer::syntax::CandidateLine], text: &str) -> String {
    let index = LineIndex::new(text);
    let mut out = String::new();
    for line in lines {
        let lc = index.line_col(line.range.start());
        out.push_str(&format!("{}:{} {}: {}", lc.line + 1, lc.col + 1, line.block, line.range.slice(text)));
        for (k, v) in &line.fields {
            out.push_str(&format!(" [{k}={v:?}]"));
        }
        out.push('\n');
    }
    out
}

fn check(language: Language, text: &str, expect: Expect) {
    expect.assert_eq(&render(&x_threatspec_lines(language, text), text));
}

#[test]
fn yaml_string_list_and_map() {
    check(
        Language::Yaml,
        r#"x-threatspec: "@component External:User (#user)"
paths:
  /users:
    get:
      x-threatspec:
        - '@exposes WebApp:Api to #idor with id in path'
        - "@mitigates WebApp:Api against #idor with ownership check"
        - plain @review WebApp:Api check auth
        - 42
        - true
        - [nested, list]
        - *alias
    post:
      x-threatspec:
        "@mitigates WebApp:Api against XSS with escaping":
          description: "Output is \"escaped\""
          reviewed: 2024
          owner: team-a
          tags: [a, b]
        '@accepts Spam to WebApp:Api with rate limits': {}
        "@transfers Fraud from WebApp:Api to Bank": note
"#,
        expect![[r#"
            1:16 0: @component External:User (#user)
            6:12 1: @exposes WebApp:Api to #idor with id in path
            7:12 2: @mitigates WebApp:Api against #idor with ownership check
            8:11 3: plain @review WebApp:Api check auth
            15:10 4: @mitigates WebApp:Api against XSS with escaping [description="Output is \"escaped\""] [reviewed="2024"] [owner="team-a"]
            20:10 5: @accepts Spam to WebApp:Api with rate limits
            21:10 6: @transfers Fraud from WebApp:Api to Bank
        "#]],
    );
}

#[test]
fn yaml_block_scalars_flow_style_tags_and_anchors() {
    check(
        Language::Yaml,
        r#"a:
  x-threatspec: |
    @exposes A to B with x

    @exposes C to D with y
b:
  x-threatspec: >-
    @mitigates E against F with G
c: {x-threatspec: ["@review H flow", 1]}
d:
  x-threatspec: !!str &anchor "@review I tagged"
e:
  not-threatspec: "@review J ignored"
  x-threatspec:
    x-threatspec: "@review K nested key is an annotation key, not a nested x-threatspec"
"#,
        expect![[r#"
            3:5 0: @exposes A to B with x
            5:5 0: @exposes C to D with y
            8:5 1: @mitigates E against F with G
            9:21 2: @review H flow
            11:32 3: @review I tagged
            15:5 4: x-threatspec
        "#]],
    );
}

#[test]
fn json_all_shapes_at_depth() {
    check(
        Language::Json,
        r#"{
  "x-threatspec": "@component App:Web (#web)",
  "paths": {
    "/a": {
      "x-threatspec": ["@exposes App:Web to #xss with echo", 7, null, {"@review App:Web in list": {"k": "v"}}],
      "get": {
        "x-threatspec": {
          "@mitigates App:Web against #xss with \"escaping\"": {
            "description": "line\nbreak \u00e9",
            "n": 1.5,
            "ok": true,
            "list": [1]
          }
        }
      }
    }
  },
  "other": "@review not under the key"
}"#,
        expect![[r#"
            2:20 0: @component App:Web (#web)
            5:25 1: @exposes App:Web to #xss with echo
            5:73 2: @review App:Web in list [k="v"]
            8:12 3: @mitigates App:Web against #xss with \"escaping\" [description="line\nbreak é"] [n="1.5"] [ok="true"]
        "#]],
    );
}

#[test]
fn odd_shapes_do_not_panic() {
    for text in [
        "x-threatspec:",
        "x-threatspec: ~",
        "x-threatspec: [",
        "x-threatspec: {a: }",
        "x-threatspec: \"unterminated",
        "- x-threatspec\n- x-threatspec: [[[]]]",
        "x-threatspec: |\n",
        "x-threatspec: ''",
    ] {
        let _ = x_threatspec_lines(Language::Yaml, text);
    }
    for text in [
        "{\"x-threatspec\"",
        "{\"x-threatspec\": }",
        "{\"x-threatspec\": \"",
        "[\"x-threatspec\"]",
        "{\"x-threatspec\": {\"\": {}}}",
        "{\"x-threatspec\": \"\"}",
    ] {
        let _ = x_threatspec_lines(Language::Json, text);
    }
    assert!(x_threatspec_lines(Language::Yaml, "x-threatspec: ''").is_empty());
    assert!(x_threatspec_lines(Language::Json, "{\"x-threatspec\": 5}").is_empty());
}

#[test]
fn embedded_lines_merge_with_comments_in_file_order() {
    let text = "# @component A (#a)\nx-threatspec: \"@review A one\"\n# @component B (#b)\n";
    let lines = candidate_lines(Language::Yaml, text);
    let contents: Vec<_> = lines.iter().map(|l| l.range.slice(text)).collect();
    assert_eq!(contents, ["@component A (#a)", "@review A one", "@component B (#b)"]);
    // The embedded line's block differs from both comment blocks.
    assert_ne!(lines[1].block, lines[0].block);
    assert_ne!(lines[1].block, lines[2].block);
}
