//! Completion inside annotation comments, from fixtures with a `$0` cursor.

use crate::support;

use threat_analyzer::analysis::ide::completion::{CompletionItem, CompletionKind, completion};

fn complete(fixture: &str) -> (Vec<CompletionItem>, String, usize) {
    let (index, file, offset) = support::index_with_cursor(fixture);
    let text = index.file(&file).unwrap().text().to_string();
    (completion(&index, &file, offset), text, offset)
}

fn labels(items: &[CompletionItem]) -> Vec<&str> {
    items.iter().map(|i| i.label.as_str()).collect()
}

/// The cursor's line after accepting the item labelled `label`.
fn accept(fixture: &str, label: &str) -> String {
    let (items, text, offset) = complete(fixture);
    let item = items.iter().find(|i| i.label == label).unwrap_or_else(|| panic!("no {label} in {items:#?}"));
    let mut out = text.clone();
    out.replace_range(item.replace.start()..item.replace.end(), &item.insert_text);
    let line_start = text[..offset].rfind('\n').map_or(0, |p| p + 1);
    out[line_start..].lines().next().unwrap().to_string()
}

const DEFS: &str = r#"
//- /.guardlink/definitions.gal
@threat SQL Injection (#sqli) [high] cwe:CWE-89 -- "attacker-controlled SQL"
@threat Cross-Site Scripting (#xss) [medium]
@control Prepared Statements (#prepared-stmts) -- "parameterised queries only"
@control Output Encoding (#encode)
@asset Shop.Orders -- "the orders table"
@asset Shop.Api.Users
@actor Customer (#customer)
"#;

#[test]
fn verbs_after_at_with_grammar_snippets() {
    let (items, _, _) = complete("//- /app.py\nx = 1\n# @mit$0\n");
    let mitigates = items.iter().find(|i| i.label == "@mitigates").expect("@mitigates offered");
    assert_eq!(mitigates.insert_text, "@mitigates ${1:asset} against ${2:#threat} using ${3:#control}");
    assert!(mitigates.is_snippet);
    assert_eq!(mitigates.kind, CompletionKind::Snippet);
    assert_eq!(mitigates.detail.as_deref(), Some("GAL, ThreatSpec"));
    // The replaced range is the `@mit` typed so far.
    assert_eq!(mitigates.replace.len(), "@mit".len());
    let component = items.iter().find(|i| i.label == "@component").unwrap();
    assert_eq!(component.detail.as_deref(), Some("ThreatSpec 0.5 (= @asset)"));
    let alias = items.iter().find(|i| i.label == "@alias").unwrap();
    assert!(alias.detail.as_deref().unwrap().starts_with("ThreatSpec 0.1"));
    // GAL spellings sort before ThreatSpec-only ones.
    assert!(mitigates.sort_text < component.sort_text);
    assert_eq!(accept("//- /app.py\n# @exp$0\n", "@exposes"), "# @exposes ${1:asset} to ${2:#threat}");
}

#[test]
fn verb_edited_before_existing_arguments_is_not_a_snippet() {
    let (items, _, _) = complete("//- /app.py\n# @mitg$0ates Shop against #sqli\n");
    let m = items.iter().find(|i| i.label == "@mitigates").unwrap();
    assert!(!m.is_snippet);
    assert_eq!(
        accept("//- /app.py\n# @mitg$0ates Shop against #sqli\n", "@mitigates"),
        "# @mitigates Shop against #sqli"
    );
}

#[test]
fn no_completion_outside_comments_or_annotations() {
    let (items, _, _) = complete("//- /app.py\nx = \"@mit$0\"\n# @threat A\n");
    assert!(items.is_empty(), "{items:#?}");
    let (items, _, _) = complete("//- /app.py\n# just a comment$0\n# @threat A\n");
    assert!(items.is_empty(), "{items:#?}");
}

#[test]
fn threats_after_against_with_detail_and_documentation() {
    let fixture = format!("{DEFS}//- /app.py\n# @mitigates Shop.Orders against #$0\n");
    let (items, _, _) = complete(&fixture);
    assert_eq!(labels(&items), ["#sqli", "#xss", "#lib."]);
    let sqli = &items[0];
    assert_eq!(sqli.kind, CompletionKind::Threat);
    assert_eq!(sqli.insert_text, "sqli");
    assert_eq!(sqli.detail.as_deref(), Some("threat SQL Injection — .guardlink/definitions.gal"));
    let doc = sqli.documentation.as_deref().unwrap();
    assert!(
        doc.contains("attacker-controlled SQL") && doc.contains("`[high]`") && doc.contains("cwe:CWE-89"),
        "{doc}"
    );
    assert!(sqli.replace.is_empty());
    // The incomplete line parses as nothing, yet completion works from the text.
    assert_eq!(accept(&fixture, "#xss"), "# @mitigates Shop.Orders against #xss");
}

#[test]
fn partial_id_is_replaced_and_kind_follows_the_position() {
    let fixture = format!("{DEFS}//- /app.go\n// @mitigates Shop.Orders against #sqli using #pre$0\n");
    let (items, _, _) = complete(&fixture);
    assert_eq!(labels(&items), ["#encode", "#prepared-stmts"], "no library controls: no `#lib.` item");
    assert!(items.iter().all(|i| i.kind == CompletionKind::Control));
    assert_eq!(
        accept(&fixture, "#prepared-stmts"),
        "// @mitigates Shop.Orders against #sqli using #prepared-stmts"
    );
    // `to` of @exposes expects a threat; `@entitles` starts with an actor.
    let (items, _, _) = complete(&format!("{DEFS}//- /app.py\n# @exposes Shop.Orders to #$0\n"));
    assert_eq!(labels(&items), ["#sqli", "#xss", "#lib."]);
    let (items, _, _) = complete(&format!("{DEFS}//- /app.py\n# @entitles #$0\n"));
    assert_eq!(labels(&items), ["#customer"]);
    // A definition's own `(#id)` is new: nothing to offer.
    let (items, _, _) = complete(&format!("{DEFS}//- /app.py\n# @threat Something (#$0\n"));
    assert!(items.is_empty(), "{items:#?}");
}

#[test]
fn implicit_ids_are_offered() {
    let fixture = r#"
//- /app.py
# @mitigates WebApp:Api against non-privileged port with Firewall
# @exposes WebApp:Api to #$0
"#;
    let (items, _, _) = complete(fixture);
    assert_eq!(labels(&items), ["#nonprivileged_port", "#lib."]);
}

#[test]
fn ranking_same_file_then_usage_then_name() {
    let fixture = r#"
//- /defs.gal
@threat Alpha (#alpha)
@threat Beta (#beta)
@threat Gamma (#gamma)
@threat Delta (#delta)
//- /other.py
# @exposes A to #gamma
# @exposes B to #gamma
# @exposes C to #beta
//- /app.py
# @exposes D to #delta
# @exposes Shop to #$0
"#;
    let (items, _, _) = complete(fixture);
    assert_eq!(labels(&items), ["#delta", "#gamma", "#beta", "#alpha", "#lib."]);
}

#[test]
fn component_path_segments_keep_the_users_separator() {
    let fixture = format!("{DEFS}//- /app.py\n# @exposes Shop.$0\n");
    let (items, _, _) = complete(&fixture);
    assert_eq!(labels(&items), ["Api", "Orders"]);
    assert_eq!(accept(&fixture, "Orders"), "# @exposes Shop.Orders");
    let fixture = format!("{DEFS}//- /app.py\n# @exposes shop:api:U$0\n");
    assert_eq!(accept(&fixture, "Users"), "# @exposes shop:api:Users");
    // Whole paths at an asset position.
    let (items, _, _) = complete(&format!("{DEFS}//- /app.py\n# @mitigates Sh$0\n"));
    assert_eq!(labels(&items), ["Shop", "Shop.Api", "Shop.Api.Users", "Shop.Orders"]);
    // A threat position never offers paths.
    let (items, _, _) = complete(&format!("{DEFS}//- /app.py\n# @mitigates Shop against Shop.$0\n"));
    assert!(items.is_empty(), "{items:#?}");
}

#[test]
fn keywords_of_the_grammar_at_the_right_position() {
    let kw = |fixture: &str| -> Vec<String> {
        let (items, _, _) = complete(fixture);
        items.iter().filter(|i| i.kind == CompletionKind::Keyword).map(|i| i.label.clone()).collect()
    };
    assert_eq!(kw("//- /a.py\n# @mitigates Shop.Orders $0\n"), ["against"]);
    assert_eq!(kw("//- /a.py\n# @mitigates Shop.Orders against #sqli $0\n"), ["using", "with"]);
    assert_eq!(kw("//- /a.py\n# @exposes Shop $0\n"), ["to"]);
    assert_eq!(kw("//- /a.py\n# @confirmed #sqli $0\n"), ["on"]);
    assert_eq!(kw("//- /a.py\n# @transfers #sqli $0\n"), ["from"]);
    assert_eq!(kw("//- /a.py\n# @transfers #sqli from A $0\n"), ["to"]);
    assert_eq!(kw("//- /a.py\n# @flows A $0\n"), ["->", "<->"]);
    assert_eq!(kw("//- /a.py\n# @flows A -> B $0\n"), ["via"]);
    assert_eq!(kw("//- /a.py\n# @validates #c $0\n"), ["for"]);
    assert_eq!(kw("//- /a.py\n# @connects A:B $0\n"), ["to", "with"]);
    // Both forms' first words, then the chosen form's keywords (GAL 2.0's directed boundary).
    assert_eq!(kw("//- /a.py\n# @boundary $0\n"), ["between", "from"]);
    assert_eq!(kw("//- /a.py\n# @boundary between Internet $0\n"), ["and"]);
    assert_eq!(kw("//- /a.py\n# @boundary from Internet $0\n"), ["to"]);
    assert!(kw("//- /a.py\n# @boundary from Internet to $0\n").is_empty());
    assert!(kw("//- /a.py\n# @mitigates Shop against $0\n").is_empty());
    assert_eq!(
        accept("//- /a.py\n# @mitigates Shop.Orders ag$0\n", "against"),
        "# @mitigates Shop.Orders against "
    );
}

#[test]
fn severities_inside_brackets() {
    let fixture = "//- /a.py\n# @exposes Shop to #sqli [h$0\n";
    let (items, _, _) = complete(fixture);
    assert_eq!(labels(&items), ["critical", "high", "medium", "low", "P0", "P1", "P2", "P3"]);
    assert!(items.iter().all(|i| i.kind == CompletionKind::Severity));
    assert_eq!(accept(fixture, "high"), "# @exposes Shop to #sqli [high]");
    // An existing `]` is replaced, not doubled.
    assert_eq!(accept("//- /a.gal\n@threat X (#x) [$0]\n", "P1"), "@threat X (#x) [P1]");
    let (items, _, _) = complete("//- /a.py\n# @mitigates Shop against [$0\n");
    assert!(items.is_empty());
}

#[test]
fn external_refs_for_threats() {
    let fixture = "//- /a.gal\n@threat SQL Injection (#sqli) [high] cwe:$0\n";
    let (items, _, _) = complete(fixture);
    assert_eq!(items.len(), 15);
    assert!(items.iter().all(|i| i.kind == CompletionKind::ExternalRef));
    assert_eq!(accept(fixture, "cwe:CWE-89"), "@threat SQL Injection (#sqli) [high] cwe:CWE-89");
    let fixture = "//- /a.gal\n@threat Injection (#inj) owasp:A0$0\n";
    assert_eq!(accept(fixture, "owasp:A03:2021"), "@threat Injection (#inj) owasp:A03:2021");
    // After a complete exposure: severities and refs as whole items.
    let (items, _, _) = complete("//- /a.py\n# @exposes Shop to #sqli $0\n");
    let l = labels(&items);
    assert!(l.contains(&"[high]") && l.contains(&"cwe:CWE-79") && l.contains(&"owasp:A10:2021"), "{l:?}");
}

#[test]
fn legacy_ids_after_at_inside_arguments() {
    let fixture = r#"
//- /legacy.py
# @alias boundary @web to Web Tier
# @alias threat @sqli to SQL Injection
# @connects @web:@app to @db:@orders
# @mitigates @$0
"#;
    let (items, _, _) = complete(fixture);
    let l = labels(&items);
    assert!(l.contains(&"@web") && l.contains(&"@db"), "{l:?}");
    let fixture = r#"
//- /legacy.py
# @connects @web:@app to @db:@orders
# @exposes @db:@o$0
"#;
    assert_eq!(accept(fixture, "orders"), "# @exposes @db:@orders");
    let fixture = r#"
//- /legacy.py
# @alias threat @sqli to SQL Injection
# @mitigates @web:@app against @$0
"#;
    let (items, _, _) = complete(fixture);
    assert_eq!(labels(&items), ["@sqli"]);
    assert_eq!(accept(fixture, "@sqli"), "# @mitigates @web:@app against @sqli");
}

#[test]
fn bare_word_at_a_threat_position_inserts_the_sigil() {
    let fixture = format!("{DEFS}//- /app.py\n# @exposes Shop.Orders to sq$0\n");
    let (items, _, _) = complete(&fixture);
    assert!(labels(&items).contains(&"#sqli"));
    assert_eq!(accept(&fixture, "#sqli"), "# @exposes Shop.Orders to #sqli");
}

#[test]
fn nothing_inside_descriptions() {
    let (items, _, _) = complete("//- /a.py\n# @exposes Shop to #sqli -- \"text #$0\n");
    assert!(items.is_empty(), "{items:#?}");
}

#[test]
fn block_comments_and_gal_documents() {
    let fixture =
        format!("{DEFS}//- /app.java\n/**\n * @mitigates Shop.Orders against #x$0\n */\nclass A {{}}\n");
    let (items, _, _) = complete(&fixture);
    assert_eq!(labels(&items), ["#sqli", "#xss", "#lib."]);
    let (items, _, _) = complete("//- /defs.gal\n@thr$0\n");
    assert!(labels(&items).contains(&"@threat"));
}

#[test]
fn documentation_escapes_annotation_text_like_hover() {
    // Rendered raw, the details pane would load the images (the attacker learns the
    // developer's address) and show a `command:` link.
    let fixture = "//- /defs.gal\n\
        @threat Evil <b>x</b> (#evil) -- \
        \"![pixel](https://attacker.example/p.png) [run](command:workbench.action.terminal.new) \
        <img src=https://attacker.example/q.png> \u{1b}[2J\u{202E}\"\n\
        //- /app.py\n# @exposes Shop to #ev$0\n";
    let (items, _, _) = complete(fixture);
    let evil = items.iter().find(|i| i.label == "#evil").unwrap_or_else(|| panic!("{items:#?}"));
    let doc = evil.documentation.as_deref().unwrap();
    assert!(doc.contains(r"\!\[pixel\]\(https://attacker.example/p.png\)"), "{doc}");
    assert!(doc.contains(r"Evil \<b\>x\</b\>"), "the name is escaped too: {doc}");
    for raw in ["](", "<img", "![", "<b>"] {
        let unescaped = doc.match_indices(raw).any(|(at, _)| !doc[..at].ends_with('\\'));
        assert!(!unescaped, "{raw:?} unescaped in {doc}");
    }
    assert!(!doc.contains('\u{1b}') && !doc.contains('\u{202E}'), "{doc:?}");
}

#[test]
fn a_word_after_a_two_byte_space_completes_without_slicing_inside_it() {
    // U+00A0 and U+0085 are whitespace of two bytes; the cursor's word starts after them.
    for space in ['\u{a0}', '\u{85}'] {
        let fixture = format!("{DEFS}//- /app.py\n# @mitigates Shop.Orders against{space}#sq$0\n");
        let (items, _, _) = complete(&fixture);
        assert!(labels(&items).contains(&"#sqli"), "{space:?}: {:?}", labels(&items));
    }
}
