//! Tests of the located document reader: styles, scalars, tags, anchors, bounds, and a
//! round-trip property over generated values in block, flow and JSON spellings.

use proptest::prelude::*;

use super::*;

fn one(text: &str) -> Node {
    let parsed = read_yaml(text);
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    assert_eq!(parsed.documents.len(), 1, "{parsed:?}");
    parsed.documents.into_iter().next().unwrap()
}

fn s(node: &Node) -> &str {
    node.str().unwrap_or_else(|| panic!("not a string: {node:?}"))
}

#[test]
fn block_and_flow_styles_read_alike() {
    let block = one("a: 1\nb:\n  - x\n  - y: z\nc: {d: [1, 2], e: 'f'}\n");
    let flow = one("{a: 1, b: [x, {y: z}], c: {d: [1, 2], e: 'f'}}");
    assert_eq!(to_t(&block), to_t(&flow));
    assert_eq!(s(block.path(&["c", "e"]).unwrap()), "f");
    assert_eq!(block.get("b").unwrap().items().len(), 2);
}

#[test]
fn spans_and_lines_point_at_the_text() {
    let text = "top:\n  key: value\n  list:\n    - item\n";
    let doc = one(text);
    let value = doc.path(&["top", "key"]).unwrap();
    assert_eq!(&text[value.span.start..value.span.end], "value");
    assert_eq!(value.span.line, 2);
    let item = &doc.path(&["top", "list"]).unwrap().items()[0];
    assert_eq!(item.span.line, 4);
    let entry = &doc.get("top").unwrap().entries()[1];
    assert_eq!(&text[entry.key_span.start..entry.key_span.end], "list");
    assert_eq!(entry.key_span.line, 3);
}

#[test]
fn scalars_are_typed_and_decoded() {
    let doc = one(concat!(
        "plain: hello world\n",
        "int: 42\n",
        "neg: -7\n",
        "float: 1.5\n",
        "yes: true\n",
        "no: False\n",
        "nothing: null\n",
        "tilde: ~\n",
        "empty:\n",
        "quoted_int: \"42\"\n",
        "forced: !!str 42\n",
        "double: \"a\\tb \\\"c\\\" \\u00e9\"\n",
        "single: 'it''s'\n",
        "folded_plain: one\n  two\n",
        "folded_double: \"one\n  two\"\n",
    ));
    let kind = |k: &str| match &doc.get(k).unwrap().value {
        Value::Scalar(s) => s.kind,
        other => panic!("{other:?}"),
    };
    assert_eq!(kind("plain"), ScalarKind::Str);
    assert_eq!(kind("int"), ScalarKind::Int);
    assert_eq!(kind("neg"), ScalarKind::Int);
    assert_eq!(kind("float"), ScalarKind::Float);
    assert_eq!(kind("yes"), ScalarKind::Bool(true));
    assert_eq!(kind("no"), ScalarKind::Bool(false));
    assert_eq!(kind("nothing"), ScalarKind::Null);
    assert_eq!(kind("tilde"), ScalarKind::Null);
    assert_eq!(kind("empty"), ScalarKind::Null);
    assert_eq!(kind("quoted_int"), ScalarKind::Str);
    assert_eq!(kind("forced"), ScalarKind::Str);
    assert_eq!(s(doc.get("double").unwrap()), "a\tb \"c\" é");
    assert_eq!(s(doc.get("single").unwrap()), "it's");
    assert_eq!(s(doc.get("folded_plain").unwrap()), "one two");
    assert_eq!(s(doc.get("folded_double").unwrap()), "one two");
    assert_eq!(doc.get("yes").unwrap().bool(), Some(true));
    assert!(doc.get("empty").unwrap().is_null());
}

#[test]
fn block_scalars_keep_or_fold_lines() {
    let doc = one(concat!(
        "literal: |\n  line one\n    indented\n  line three\n",
        "folded: >\n  a\n  b\n\n  c\n",
        "strip: |-\n  x\n",
        "keep: |+\n  y\n\n",
        "after: 1\n",
    ));
    assert_eq!(s(doc.get("literal").unwrap()), "line one\n  indented\nline three\n");
    assert_eq!(s(doc.get("folded").unwrap()), "a b\nc\n");
    assert_eq!(s(doc.get("strip").unwrap()), "x");
    assert!(s(doc.get("keep").unwrap()).starts_with("y\n"));
    assert_eq!(doc.get("after").unwrap().str(), Some("1"));
}

#[test]
fn multi_document_streams() {
    let parsed = read_yaml("---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n");
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    let docs = &parsed.documents;
    assert_eq!(docs.len(), 3, "{docs:?}");
    assert_eq!(docs[0].get("a").and_then(Node::str), Some("1"));
    assert!(docs[1].is_null());
    assert_eq!(docs[2].get("b").and_then(Node::str), Some("2"));
    assert_eq!(docs[2].get("b").unwrap().span.line, 6);
}

#[test]
fn cloudformation_short_forms_read_as_long_forms() {
    let short = one(concat!(
        "a: !Ref Bucket\n",
        "b: !GetAtt Db.Endpoint.Address\n",
        "c: !Sub 'arn:${AWS::Partition}:s3:::${Bucket}/*'\n",
        "d: !Join [',', [!Ref A, !Ref B]]\n",
        "e: !If [IsProd, !Ref Big, !Ref Small]\n",
        "f: !Sub\n  - '${X}'\n  - X: !ImportValue Shared\n",
        "g: !GetAtt [Db, Port]\n",
        "h: !Equals [!Ref Env, prod]\n",
    ));
    let long = one(concat!(
        "a: {Ref: Bucket}\n",
        "b: {'Fn::GetAtt': [Db, Endpoint.Address]}\n",
        "c: {'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}/*'}\n",
        "d: {'Fn::Join': [',', [{Ref: A}, {Ref: B}]]}\n",
        "e: {'Fn::If': [IsProd, {Ref: Big}, {Ref: Small}]}\n",
        "f: {'Fn::Sub': ['${X}', {X: {'Fn::ImportValue': Shared}}]}\n",
        "g: {'Fn::GetAtt': [Db, Port]}\n",
        "h: {'Fn::Equals': [{Ref: Env}, prod]}\n",
    ));
    assert_eq!(to_t(&short), to_t(&long));
    let (name, arg) = short.get("a").unwrap().intrinsic().unwrap();
    assert_eq!((name, arg.str()), ("Ref", Some("Bucket")));
    let json = read_json(r#"{"a": {"Ref": "Bucket"}, "g": {"Fn::GetAtt": ["Db", "Port"]}}"#);
    let json = &json.documents[0];
    assert_eq!(to_t(json.get("a").unwrap()), to_t(short.get("a").unwrap()));
    assert_eq!(to_t(json.get("g").unwrap()), to_t(short.get("g").unwrap()));
    // Other tags are ignored, not turned into intrinsics.
    assert_eq!(one("x: !Custom 1\n").get("x").unwrap().str(), Some("1"));
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let doc = one(concat!(
        "base: &base {image: nginx, ports: [80]}\n",
        "copy: *base\n",
        "web:\n  <<: *base\n  image: custom\n",
        "both:\n  <<: [*base, {extra: 1}]\n",
    ));
    assert_eq!(to_t(doc.get("copy").unwrap()), to_t(doc.get("base").unwrap()));
    assert_eq!(doc.path(&["web", "image"]).and_then(Node::str), Some("custom"));
    assert_eq!(doc.path(&["web", "ports"]).unwrap().items().len(), 1);
    assert_eq!(doc.path(&["both", "extra"]).and_then(Node::str), Some("1"));
    // The copy is located at the alias.
    assert_eq!(doc.get("copy").unwrap().span.line, 2);
}

#[test]
fn an_unknown_alias_is_a_located_problem() {
    let parsed = read_yaml("a: 1\nb: *nowhere\n");
    assert_eq!(parsed.documents[0].get("b").unwrap().value, Value::Cut(Cut::UnknownAlias));
    assert_eq!(parsed.problems.len(), 1);
    assert_eq!(parsed.problems[0].span.line, 2);
}

/// The billion-laughs shape: each level lists the previous one ten times.
fn alias_bomb(levels: usize) -> String {
    let mut text = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..levels {
        let prev = level - 1;
        let items = vec![format!("*l{prev}"); 10].join(", ");
        text.push_str(&format!("l{level}: &l{level} [{items}]\n"));
    }
    text
}

#[test]
fn an_alias_bomb_is_cut_at_the_budget_and_reported() {
    let text = alias_bomb(12); // 10^12 leaves fully expanded
    let parsed = read_yaml(&text);
    let total: usize = parsed.documents.iter().map(Node::size).sum();
    // Every node is either written in the text (at most one per byte) or copied within budget.
    assert!(total <= text.len() + MAX_TEMPLATE_ALIAS_NODES, "{total}");
    // The budget pays for the anchor table's copies too, so the tree holds about half of it.
    assert!(total > MAX_TEMPLATE_ALIAS_NODES / 4, "the budget is used before cutting: {total}");
    assert!(!parsed.problems.is_empty());
    assert!(parsed.problems.iter().all(|p| p.message.contains("limit")), "{:?}", parsed.problems[0]);
    // One problem per alias cut (a copy of a level that holds cuts copies them too).
    assert!(parsed.problems.len() + parsed.problems_dropped <= count_cuts(&parsed.documents[0]));
    assert!(parsed.problems.len() <= MAX_TEMPLATE_PROBLEMS);
    // Small expansions are untouched.
    let small = read_yaml(&alias_bomb(3));
    assert!(small.problems.is_empty());
    assert_eq!(small.documents[0].get("l2").unwrap().size(), 1 + 10 * (1 + 10 * 11));
}

#[test]
fn nested_anchors_over_a_large_value_are_not_copied_per_level() {
    // 60 nested anchored lists around 20,000 scalars: copying the anchored value at each level
    // would hold 1,200,000 nodes.
    let depth = 60;
    let mut text = String::new();
    for level in 0..depth {
        text.push_str(&format!("&a{level} ["));
    }
    text.push_str(&vec!["1"; 20_000].join(","));
    text.push_str(&"]".repeat(depth));
    text.push('\n');
    let parsed = read_yaml(&text);
    let total: usize = parsed.documents.iter().map(Node::size).sum();
    assert_eq!(total, depth + 20_000, "the tree itself is intact");
    // Aliases to the big anchors are refused, to the small inner ones would be expanded.
    let with_alias = format!("- {}- *a0\n", text.trim_end().to_string() + "\n");
    let parsed = read_yaml(&with_alias);
    let copy = &parsed.documents[0].items()[1];
    assert_eq!(copy.value, Value::Cut(Cut::AliasBudget));
    assert!(parsed.problems.iter().any(|p| p.message.contains("limit")));
}

fn count_cuts(node: &Node) -> usize {
    match &node.value {
        Value::Cut(_) => 1,
        Value::List(items) => items.iter().map(count_cuts).sum(),
        Value::Map(entries) => entries.iter().map(|e| count_cuts(&e.value)).sum(),
        Value::Scalar(_) => 0,
    }
}

#[test]
fn deep_nesting_is_cut_not_a_stack_overflow() {
    let depth = 5_000;
    let text = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let parsed = read_yaml(&text);
    let mut node = &parsed.documents[0];
    let mut levels = 0;
    while let [inner] = node.items() {
        node = inner;
        levels += 1;
    }
    assert!(levels <= MAX_TEMPLATE_DEPTH + 1, "{levels}");
    assert_eq!(node.value, Value::Cut(Cut::Depth));
    assert!(parsed.problems.iter().any(|p| p.message.contains("deeply")));
    let json = read_json(&text);
    assert!(json.problems.iter().any(|p| p.message.contains("deeply")));
}

#[test]
fn syntax_errors_are_located_problems_and_the_rest_is_read() {
    let parsed = read_yaml("good: 1\nbad: [unclosed\nalso: 2\n");
    assert!(!parsed.problems.is_empty());
    let parsed = read_json("{\"a\": 1, \"b\": }");
    assert!(!parsed.problems.is_empty());
    assert_eq!(parsed.documents[0].get("a").and_then(Node::str), Some("1"));
}

#[test]
fn json_values() {
    let parsed =
        read_json("{\"s\": \"a\\nb\", \"n\": 1.5e3, \"i\": -2, \"t\": true, \"z\": null, \"l\": [1, {}]}");
    assert!(parsed.problems.is_empty());
    let doc = &parsed.documents[0];
    assert_eq!(doc.get("s").and_then(Node::str), Some("a\nb"));
    assert!(matches!(&doc.get("n").unwrap().value, Value::Scalar(Scalar { kind: ScalarKind::Float, .. })));
    assert!(matches!(&doc.get("i").unwrap().value, Value::Scalar(Scalar { kind: ScalarKind::Int, .. })));
    assert_eq!(doc.get("t").unwrap().bool(), Some(true));
    assert!(doc.get("z").unwrap().is_null());
    assert_eq!(doc.get("l").unwrap().items().len(), 2);
}

/// A generated value, compared with what the reader gives back.
#[derive(Clone, Debug, PartialEq)]
enum T {
    S(String),
    I(i64),
    B(bool),
    N,
    L(Vec<T>),
    M(Vec<(String, T)>),
}

fn to_t(node: &Node) -> T {
    match &node.value {
        Value::Scalar(s) => match s.kind {
            ScalarKind::Str => T::S(s.text.to_string()),
            ScalarKind::Int => T::I(s.text.parse().expect("an integer")),
            ScalarKind::Bool(b) => T::B(b),
            ScalarKind::Null => T::N,
            ScalarKind::Float => T::S(format!("float {}", s.text)),
        },
        Value::List(items) => T::L(items.iter().map(to_t).collect()),
        Value::Map(entries) => T::M(entries.iter().map(|e| (e.key.to_string(), to_t(&e.value))).collect()),
        Value::Cut(cut) => T::S(format!("cut {cut:?}")),
    }
}

fn arb_t() -> impl Strategy<Value = T> {
    let leaf = prop_oneof![
        "[ -~éß€\\n\\t\"'\\\\:#-]{0,12}".prop_map(T::S),
        any::<i64>().prop_map(T::I),
        any::<bool>().prop_map(T::B),
        Just(T::N),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(T::L),
            prop::collection::btree_map("k[a-z0-9_]{0,5}", inner, 0..5)
                .prop_map(|m| T::M(m.into_iter().collect())),
        ]
    })
}

fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A scalar in one of the styles that can spell it (`style` picks).
fn scalar(t: &T, style: u8) -> String {
    match t {
        T::S(s) if style % 3 == 1 && !s.contains(['\n', '\t', '\r']) => {
            format!("'{}'", s.replace('\'', "''"))
        }
        T::S(s)
            if style % 3 == 2
                && !s.is_empty()
                && s.chars().all(|c| c.is_ascii_lowercase())
                && !matches!(s.as_str(), "true" | "false" | "null" | "y" | "n") =>
        {
            s.clone()
        }
        T::S(s) => quoted(s),
        T::I(i) => i.to_string(),
        T::B(b) => b.to_string(),
        T::N => "null".into(),
        T::L(_) | T::M(_) => flow(t, style),
    }
}

fn flow(t: &T, style: u8) -> String {
    match t {
        T::L(items) => format!("[{}]", items.iter().map(|i| flow(i, style)).collect::<Vec<_>>().join(", ")),
        T::M(entries) => {
            format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", flow(v, style)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        _ => scalar(t, style),
    }
}

fn is_block(t: &T) -> bool {
    matches!(t, T::L(v) if !v.is_empty()) || matches!(t, T::M(v) if !v.is_empty())
}

fn block(t: &T, indent: usize, style: u8, out: &mut String) {
    let pad = " ".repeat(indent);
    match t {
        T::M(entries) if !entries.is_empty() => {
            for (k, v) in entries {
                out.push_str(&format!("{pad}{k}:"));
                if is_block(v) {
                    out.push('\n');
                    block(v, indent + 2, style, out);
                } else {
                    out.push_str(&format!(" {}\n", scalar(v, style)));
                }
            }
        }
        T::L(items) if !items.is_empty() => {
            for item in items {
                if is_block(item) {
                    // The compact form `- key: value` for maps, nested lines otherwise.
                    let mut nested = String::new();
                    block(item, indent + 2, style, &mut nested);
                    if matches!(item, T::M(_)) {
                        out.push_str(&format!("{pad}- {}", &nested[indent + 2..]));
                    } else {
                        out.push_str(&format!("{pad}-\n{nested}"));
                    }
                } else {
                    out.push_str(&format!("{pad}- {}\n", scalar(item, style)));
                }
            }
        }
        _ => out.push_str(&format!("{pad}{}\n", scalar(t, style))),
    }
}

fn json(t: &T) -> serde_json::Value {
    match t {
        T::S(s) => s.clone().into(),
        T::I(i) => (*i).into(),
        T::B(b) => (*b).into(),
        T::N => serde_json::Value::Null,
        T::L(items) => items.iter().map(json).collect(),
        T::M(entries) => {
            serde_json::Value::Object(entries.iter().map(|(k, v)| (k.clone(), json(v))).collect())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn round_trips_in_every_spelling(t in arb_t(), style in 0u8..3) {
        let mut text = String::new();
        block(&t, 0, style, &mut text);
        let parsed = read_yaml(&text);
        prop_assert!(parsed.problems.is_empty(), "{text}\n{:?}", parsed.problems);
        prop_assert_eq!(parsed.documents.iter().map(to_t).collect::<Vec<_>>(), vec![t.clone()], "block:\n{}", text);

        let text = flow(&t, style);
        let parsed = read_yaml(&text);
        prop_assert!(parsed.problems.is_empty(), "{text}\n{:?}", parsed.problems);
        prop_assert_eq!(parsed.documents.iter().map(to_t).collect::<Vec<_>>(), vec![t.clone()], "flow:\n{}", text);

        let text = json(&t).to_string();
        let parsed = read_json(&text);
        prop_assert!(parsed.problems.is_empty(), "{text}\n{:?}", parsed.problems);
        prop_assert_eq!(parsed.documents.iter().map(to_t).collect::<Vec<_>>(), vec![t], "json:\n{}", text);
    }

    #[test]
    fn any_text_reads_without_panic_and_spans_stay_inside(text in "[ -~\\n]{0,300}") {
        for parsed in [read_yaml(&text), read_json(&text)] {
            fn check(node: &Node, len: usize) -> bool {
                node.span.start <= node.span.end && node.span.end <= len
                    && node.items().iter().all(|n| check(n, len))
                    && node.entries().iter().all(|e| e.key_span.end <= len && check(&e.value, len))
            }
            prop_assert!(parsed.documents.iter().all(|d| check(d, text.len())));
            prop_assert!(parsed.problems.len() <= MAX_TEMPLATE_PROBLEMS);
        }
    }
}
