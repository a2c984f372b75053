//! One test per diagnostic code and resolution rule, written as inline workspaces.
mod support;
use support::check_diagnostics;
use threat_analyzer::diagnostic::{Code, Level};

#[test]
fn unmitigated_exposure_is_a_warning_and_high_severity_an_error() {
    check_diagnostics(
        r#"
        //- /defs.gal
        @threat SQL Injection (#sqli) [high] cwe:CWE-89
        @threat Log Forging (#log-forging)
        //- /api/orders.py
        # @exposes Shop.Orders to #sqli -- "search builds SQL by hand"
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ error unmitigated-exposure
        # @exposes Shop.Orders to #log-forging
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning unmitigated-exposure
        def search(q): ...
        "#,
    );
}

#[test]
fn mitigation_acceptance_and_transfer_cover_exposures_across_files_and_dialects() {
    check_diagnostics(
        r#"
        //- /defs.gal
        @threat SQL Injection (#sqli) [P1]
        @threat Denial of Service (#dos)
        @threat Card Theft (#card-theft) [critical]
        @control Prepared Statements (#prepared)
        //- /api/orders.py
        # @exposes Shop.Orders to #sqli
        # @exposes Shop.Orders to #dos
        # @exposes Shop.Payments to #card-theft
        # @exposes Shop.Api.Search to SQL Injection
        //- /api/db.py
        # @mitigates shop:orders against sql-injection with #prepared
        # @accepts #dos on Shop.Orders -- "rate limits at the CDN"
        # @transfers #card-theft from Shop.Payments to Stripe
        # @mitigates Shop.Api against #sqli using #prepared
        "#,
    );
}

#[test]
fn confirmed_finding_is_always_an_error() {
    let diags = check_diagnostics(
        r#"
        //- /a.py
        # @threat Insecure Direct Object Reference (#idor) [low]
        # @confirmed #idor on Shop.Orders
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ error confirmed-finding
        # @mitigates Shop.Orders against #idor
        "#,
    );
    assert!(diags[0].message.contains("`#idor` (Insecure Direct Object Reference)"), "{}", diags[0].message);
    assert_eq!(diags[0].related.len(), 1);
}

#[test]
fn dangling_reference_suggests_the_closest_id() {
    let diags = check_diagnostics(
        r#"
        //- /defs.gal
        @threat Cross-Site Request Forgery (#csrf)
        @control SameSite cookies (#samesite)
        //- /web.py
        # @mitigates Shop.Web against #csfr using #samesite
                                       ^^^^ error dangling-reference
        # @mitigates Shop.Web against #csrf using #samesite
        "#,
    );
    let d = &diags[0];
    assert_eq!(d.code, Code::DanglingReference);
    assert!(d.message.contains("did you mean `csrf`"), "{}", d.message);
    let fix = d.fix.as_ref().unwrap();
    assert_eq!(fix.edits[0].new_text, "csrf");
    assert_eq!(d.related[0].file.as_str(), "defs.gal");
}

/// The `dangling-reference` diagnostics of a fixture (no other code is checked).
fn dangling_diagnostics(fixture: &str) -> Vec<threat_analyzer::diagnostic::Diagnostic> {
    let index = support::index_of(&support::parse_fixture(fixture).files);
    let analysis = threat_analyzer::analysis::Analysis::new(&index);
    analysis.diagnostics(&index).into_iter().filter(|d| d.code == Code::DanglingReference).collect()
}

/// Issue 14 §3: `@exposes #notify to #dos` suggested the asset `db` (with a fix) and `#app`
/// the boundary `vpc`. Only ids of the kind the position expects, within an edit budget that
/// grows with the id's length; a three-letter id only for a swap of two adjacent letters.
#[test]
fn dangling_reference_suggests_only_ids_of_the_expected_kind_and_near_enough() {
    let diags = dangling_diagnostics(
        r#"
        //- /defs.gal
        @asset Orders DB (#db)
        @asset Notifier (#notifier)
        @boundary between Internet and Shop (#vpc)
        @threat Denial of Service (#dso)
        @threat Injection (#injection)
        @control Rate Limit (#rate-limit)
        //- /a.py
        # @exposes #notify to #dos
        # @exposes #app to #injections
        # @exposes #notifer to #dso
        # @mitigates #notifier against #ratelimit using #rate-limt
        "#,
    );
    let message = |id: &str| {
        let d = diags.iter().find(|d| d.message.starts_with(&format!("`#{id}`"))).unwrap();
        (d.message.split_once("; ").map(|(_, s)| s.to_string()), d.fix.as_ref().map(|f| f.label.clone()))
    };
    assert_eq!(diags.len(), 7);
    // An asset position: the asset `notifier`, one edit from `notifer`; `notify` is three
    // edits from it (6 characters: two edits allowed).
    assert_eq!(message("notify"), (None, None));
    assert_eq!(
        message("notifer"),
        (Some("did you mean `notifier`?".into()), Some("Change to `notifier`".into()))
    );
    // `dos` is a swap from the threat `dso`; the asset `db` is never offered for a threat.
    assert_eq!(message("dos"), (Some("did you mean `dso`?".into()), Some("Change to `dso`".into())));
    // Three letters, two edits from the boundary `vpc`, and no boundary is an asset.
    assert_eq!(message("app"), (None, None));
    assert_eq!(
        message("injections"),
        (Some("did you mean `injection`?".into()), Some("Change to `injection`".into()))
    );
    // A threat position: the control `rate-limit` is not offered.
    assert_eq!(message("ratelimit"), (None, None));
    assert_eq!(
        message("rate-limt"),
        (Some("did you mean `rate-limit`?".into()), Some("Change to `rate-limit`".into()))
    );
}

/// When several ids are equally close, they are named and no fix picks one of them.
#[test]
fn dangling_reference_with_several_closest_ids_names_them_without_a_fix() {
    let diags = dangling_diagnostics(
        r#"
        //- /defs.gal
        @threat Order Read (#order-read)
        @threat Order Real (#order-real)
        @threat Order Reap (#order-reap)
        @threat Order Reas (#order-reas)
        @threat Order Reads (#order-reads)
        @control WAF A (#waf-a)
        @control WAF B (#waf-b)
        //- /a.py
        # @exposes Shop to #order-reaz
        # @mitigates Shop against #order-reads using #waf-x
        # @exposes Shop to #order-readss
        "#,
    );
    let find = |id: &str| diags.iter().find(|d| d.message.starts_with(&format!("`#{id}`"))).unwrap();
    let four = find("order-reaz");
    assert!(
        four.message.ends_with("did you mean one of `order-read`, `order-real`, `order-reap` (and 1 more)?"),
        "{}",
        four.message
    );
    assert!(four.fix.is_none(), "{:?}", four.fix);
    assert_eq!(four.related.len(), 3);
    let two = find("waf-x");
    assert!(two.message.ends_with("did you mean `waf-a` or `waf-b`?"), "{}", two.message);
    assert!(two.fix.is_none(), "{:?}", two.fix);
    let one = find("order-readss");
    assert!(one.message.ends_with("did you mean `order-reads`?"), "{}", one.message);
    assert_eq!(one.fix.as_ref().unwrap().edits[0].new_text, "order-reads");
}

#[test]
fn duplicate_definitions_point_at_both() {
    let diags = check_diagnostics(
        r#"
        //- /a.gal
        @threat SQL Injection (#sqli)
        @control WAF (#waf)
        //- /b.gal
        @threat Stored XSS (#sqli)
                             ^^^^ error duplicate-definition
        @control WAF
                 ^^^ error duplicate-definition
        @mitigates App against #sqli using #waf
        "#,
    );
    assert_eq!(diags[0].related[0].file.as_str(), "a.gal");
    assert!(diags[0].message.contains("SQL Injection"), "{}", diags[0].message);
}

#[test]
fn restating_an_id_inline_with_the_same_name_is_not_a_duplicate() {
    check_diagnostics(
        r#"
        //- /a.js
        // @threat Cross-site scripting (#xss)
        // @mitigates WebApp:Web against Cross-site scripting (#xss) with Output encoding
        "#,
    );
}

#[test]
fn unused_definitions_are_notes_and_unnecessary() {
    let diags = check_diagnostics(
        r#"
        //- /defs.gal
        @threat Clickjacking (#clickjacking)
                ^^^^^^^^^^^^ note unused-definition
        @control Frame-Options header (#xfo)
                 ^^^^^^^^^^^^^^^^^^^^ note unused-definition
        @threat Used (#used)
        @exposes App to #used
        ^^^^^^^^^^^^^^^^^^^^^ warning unmitigated-exposure
        "#,
    );
    assert!(
        diags
            .iter()
            .filter(|d| d.code == Code::UnusedDefinition)
            .all(|d| d.unnecessary && d.level == Level::Note)
    );
}

#[test]
fn malformed_prose_and_unknown_verbs() {
    let diags = check_diagnostics(
        r#"
        //- /a.py
        # @mitigates Shop.Orders #sqli
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^ error malformed-annotation
        # @exposes a lot of internals here, sadly
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning prose-like-annotation
        # @mitgates Shop.Orders against #x
          ^^^^^^^^^ warning unknown-verb
        # @param x: not ours
        "#,
    );
    assert_eq!(diags[2].fix.as_ref().unwrap().edits[0].new_text, "@mitigates");
}

#[test]
fn a_verb_behind_stray_comment_marks_is_reported_with_a_fix() {
    // `//* @threat` reads as `* @threat` after the comment marker: not an annotation (GuardLink
    // reads it the same way), but never dropped without a word.
    let diags = check_diagnostics(
        r#"
        //- /a.c
        //* @threat SQL Injection (#sqli) [high]
          ^^^^^^^^^ warning unread-annotation
        int n = 1; // * @exposes Shop.Orders to #sqli
                      ^^^^^^^^^^ warning unread-annotation
        /* @threat Leak (#leak) [low] */
                   ^^^^ note unused-definition
        //- /b.py
        #! @mitigates Shop.Orders against #leak using #escaping
         ^^^^^^^^^^^^ warning unread-annotation
        # * @threat, @exposes and @mitigates are the verbs we use
        "#,
    );
    let fix = diags[0].fix.as_ref().expect("a fix");
    assert_eq!(fix.edits[0].new_text, "");
}

#[test]
fn gal_prose_is_a_warning_and_truncated_annotations_are_errors() {
    // SPEC 2.12: without structural evidence a failing line is prose (a warning); with it (a
    // `#ref`, a spaced `--`, a keyword of the verb, or no arguments at all) it is an error.
    check_diagnostics(
        r#"
        //- /a.py
        # @shield is how a region is hidden from AI tools
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning prose-like-annotation
        # @exposes Shop.Api to Cross Site Scripting
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning unmitigated-exposure
        # @mitigates
          ^^^^^^^^^^ error malformed-annotation
        # @audit Shop.Api needs a second look
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning prose-like-annotation
        # @audit Shop.Api --
          ^^^^^^^^^^^^^^^^^^ error malformed-annotation
        # @feature still claims to describe the model
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning prose-like-annotation
        # @transfers moves ownership from one team to another
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ error malformed-annotation
        # @entitles #support to issue refunds on Shop.Api
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ error malformed-annotation
        # @flow Shop.Web -> Shop.Api
          ^^^^^ warning unknown-verb
        # @comment, @shield and @feature are GuardLink verbs
        "#,
    );
}

#[test]
fn threatspec_implicit_ids_resolve_to_inline_names() {
    check_diagnostics(
        r#"
        //- /a.go
        // @exposes WebApp:FileSystem to non-privileged port with port 8080
        //- /b.go
        // @mitigates #webapp_filesystem against #nonprivileged_port with #run_as_root
                                                                           ^^^^^^^^^^^ error dangling-reference
        "#,
    );
}

#[test]
fn legacy_components_aliases_and_builtin_cwe_threats() {
    check_diagnostics(
        r#"
        //- /index.php
        <?php
        // @alias boundary @internet to Internet
        // @alias component @internet:@browser to Customer Browser
        // @alias threat @session_fixation to Session fixation
        // @exposes @internet:@browser to @cwe_319_cleartext_transmission with plain HTTP
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning unmitigated-exposure
        // @mitigates @internet:@browser against @session_fixation with session id rotation
        // @exposes Customer Browser to Session fixation with a session id in the URL
        // @exposes @internet:@browser to @session_fixaton
                                           ^^^^^^^^^^^^^^^ error dangling-reference
        "#,
    );
}

#[test]
fn dotted_and_colon_paths_are_one_component_and_ancestors_cover_children() {
    check_diagnostics(
        r#"
        //- /a.rs
        // @exposes Shop.Api.Orders to #t
        /// @mitigates shop:api against #t
        //- /t.gal
        @threat T (#t)
        "#,
    );
}

#[test]
fn an_exposure_states_its_own_severity_else_inherits_its_threats() {
    // Issue 14 §2: the exposure's own severity when it states one (even below its threat's),
    // else the threat's; printed as written (`P1` stays `P1` and counts as high).
    let diagnostics = check_diagnostics(
        r#"
        //- /defs.gal
        @threat SQL Injection (#sqli) [critical]
        @threat Log Forging (#log-forging) [P1]
        //- /app.py
        # @exposes App.Admin to #sqli [low]
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning unmitigated-exposure
        # @exposes App.Search to #sqli
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^ error unmitigated-exposure
        # @exposes App.Audit to #log-forging
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ error unmitigated-exposure
        # @exposes App.Export to #log-forging [medium]
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning unmitigated-exposure
        "#,
    );
    let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
    let with =
        |asset: &str| *messages.iter().find(|m| m.contains(asset)).unwrap_or_else(|| panic!("{messages:?}"));
    assert!(with("App.Admin").contains("[low]"), "{messages:?}");
    assert!(with("App.Search").contains("[critical]"), "{messages:?}");
    assert!(with("App.Audit").contains("[P1]"), "{messages:?}");
    assert!(with("App.Export").contains("[medium]"), "{messages:?}");
}
