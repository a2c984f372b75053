//! Rename: `check_rename(before, new_name, after)` applies the edits to every file of the
//! fixture and compares the whole workspace with `after`.
use crate::support;

use threat_analyzer::analysis::ide::navigation::{prepare_rename, rename};
use threat_analyzer::diagnostic::Edit;

fn apply(files: &[(String, String)], edits: &[Edit]) -> Vec<(String, String)> {
    // Edits are sorted and never overlap: apply them back to front.
    for pair in edits.windows(2) {
        assert!(
            (&pair[0].file, pair[0].range.end) <= (&pair[1].file, pair[1].range.start),
            "edits unsorted or overlapping: {edits:?}"
        );
    }
    support::apply_edits(files, edits)
}

fn check_rename(before: &str, new_name: &str, after: &str) {
    let fixture = support::parse_fixture(before);
    let (index, file, offset) = support::index_with_cursor(before);
    let edits = rename(&index, &file, offset, new_name).unwrap_or_else(|e| panic!("rename refused: {e}"));
    let got = apply(&fixture.files, &edits);
    let expected = support::parse_fixture(after).files;
    assert_eq!(got, expected);
}

fn check_refused(before: &str, new_name: &str, message: &str) {
    let (index, file, offset) = support::index_with_cursor(before);
    let err = rename(&index, &file, offset, new_name).expect_err("rename should be refused");
    assert!(err.contains(message), "message {err:?} lacks {message:?}");
}

fn check_prepare(before: &str, expected: Result<&str, &str>) {
    let (index, file, offset) = support::index_with_cursor(before);
    let text = index.file(&file).unwrap().text();
    match (prepare_rename(&index, &file, offset), expected) {
        (Ok((range, current)), Ok(want)) => {
            assert_eq!(current, want);
            assert_eq!(range.slice(text), want);
        }
        (Err(e), Err(want)) => assert!(e.contains(want), "message {e:?} lacks {want:?}"),
        (got, want) => panic!("got {got:?}, want {want:?}"),
    }
}

#[test]
fn prepare_gives_the_id_or_the_name_under_the_cursor() {
    let project = r#"
        //- /defs.gal
        @threat SQL Injection (#sqli)
        //- /a.py
        # @exposes Shop.Orders to #sqli
        "#;
    check_prepare(&project.replace("#sqli\n", "#sq$0li\n"), Ok("sqli"));
    check_prepare(&project.replace("(#sqli)", "(#$0sqli)"), Ok("sqli"));
    check_prepare(&project.replace("SQL Injection", "SQL In$0jection"), Ok("SQL Injection"));
    check_prepare(&project.replace("Shop.Orders", "Shop.Or$0ders"), Ok("Shop.Orders"));
    check_prepare(&project.replace("@threat", "@thr$0eat"), Err("no threat-model entity"));
    check_prepare(&project.replace("#sqli\n", "#nope$0\n"), Err("not defined"));
}

#[test]
fn prepare_refuses_implicit_and_builtin_ids() {
    check_prepare(
        r#"
        //- /a.py
        # @exposes App:Api to non-privileged port with details
        # @mitigates App:Api against #nonprivileged_p$0ort with a firewall
        "#,
        Err("implicit id of `non-privileged port`"),
    );
    check_prepare(
        r#"
        //- /a.php
        <?php
        // @exposes @web:@app to @cwe_79_x$0ss with templates
        "#,
        Err("built-in"),
    );
}

#[test]
fn rename_an_id_everywhere() {
    check_rename(
        r#"
        //- /defs.gal
        @threat SQL Injection (#sqli) [high]
        //- /a.py
        # @exposes Shop.Orders to #sqli
        # @mitigates Shop.Orders against SQL Injection (#sqli) using #prepared
        //- /b.py
        # @accepts #sq$0li on Shop.Admin
        "#,
        "sql-injection",
        r#"
        //- /defs.gal
        @threat SQL Injection (#sql-injection) [high]
        //- /a.py
        # @exposes Shop.Orders to #sql-injection
        # @mitigates Shop.Orders against SQL Injection (#sql-injection) using #prepared
        //- /b.py
        # @accepts #sql-injection on Shop.Admin
        "#,
    );
}

#[test]
fn rename_a_legacy_id_and_a_boundary_id() {
    check_rename(
        r#"
        //- /aliases.threatspec
        @alias threat @xss to Cross-site Scripting
        @describe threat @xss as script injection
        //- /app.php
        <?php
        // @exposes @web:@app to @x$0ss with templates
        "#,
        "#reflected_xss",
        r#"
        //- /aliases.threatspec
        @alias threat @reflected_xss to Cross-site Scripting
        @describe threat @reflected_xss as script injection
        //- /app.php
        <?php
        // @exposes @web:@app to @reflected_xss with templates
        "#,
    );
    check_rename(
        r#"
        //- /net.gal
        @boundary between Internet and Shop.Web (#e$0dge)
        "#,
        "perimeter",
        r#"
        //- /net.gal
        @boundary between Internet and Shop.Web (#perimeter)
        "#,
    );
}

#[test]
fn rename_an_id_refuses_bad_ids_and_conflicts() {
    let project = r#"
        //- /defs.gal
        @threat SQL Injection (#sqli)
        @control Prepared Statements (#prepared)
        //- /a.py
        # @mitigates Shop against #sq$0li using #prepared
        # @exposes Shop to #typo
        "#;
    check_refused(project, "sql injection", "not a valid id");
    check_refused(project, "", "not a valid id");
    check_refused(project, "prepared", "`#prepared` is already defined at defs.gal:2");
    check_refused(project, "typo", "`#typo` is already used at a.py:2");
}

#[test]
fn rename_a_name_keyed_threat_and_its_implicit_ids() {
    check_rename(
        r#"
        //- /a.py
        # @threat Path Traversal
        # @exposes WebApp:Api to path-traversal with filenames from the request
        # @mitigates WebApp:Api against #path_traversal with input validation
        //- /b.py
        # @accepts PATH TRAV$0ERSAL to WebApp:Api with low risk
        "#,
        "Directory Traversal",
        r#"
        //- /a.py
        # @threat Directory Traversal
        # @exposes WebApp:Api to Directory Traversal with filenames from the request
        # @mitigates WebApp:Api against #directory_traversal with input validation
        //- /b.py
        # @accepts Directory Traversal to WebApp:Api with low risk
        "#,
    );
}

#[test]
fn rename_the_name_of_an_id_keyed_threat_keeps_the_id() {
    check_rename(
        r#"
        //- /defs.gal
        @threat SQL Inj$0ection (#sqli)
        //- /a.py
        # @mitigates Shop against sql-injection using #prepared
        # @exposes Shop to #sqli
        "#,
        "SQLi",
        r#"
        //- /defs.gal
        @threat SQLi (#sqli)
        //- /a.py
        # @mitigates Shop against SQLi using #prepared
        # @exposes Shop to #sqli
        "#,
    );
}

#[test]
fn rename_a_name_refuses_merging_and_syntax() {
    let project = r#"
        //- /defs.gal
        @threat Spoofing
        @threat Tampering
        //- /a.py
        # @exposes Shop to Spoof$0ing
        # @accepts Spoofing on Shop
        "#;
    check_refused(project, "tampering", "another threat is already named `tampering`");
    check_refused(project, "Spoofing #2", "cannot contain `#`");
    check_refused(project, "  ", "empty");
    // `on` would split `@accepts Spoofing on Shop` differently.
    check_refused(project, "Spoofing on the wire", "would change how the annotation at a.py:2 reads");
}

#[test]
fn rename_a_component_path_keeps_each_separator_and_renames_descendants() {
    check_rename(
        r#"
        //- /defs.gal
        @asset Shop.Orders (#orders)
        @asset Shop.Orders.Search
        //- /a.py
        # @exposes shop:orders:search to #sqli
        # @mitigates Shop.Or$0ders against #sqli
        # @flows Shop.Web -> #orders
        # @audit Shop.OrdersArchive
        "#,
        "Shop.Sales",
        r#"
        //- /defs.gal
        @asset Shop.Sales (#orders)
        @asset Shop.Sales.Search
        //- /a.py
        # @exposes Shop:Sales:search to #sqli
        # @mitigates Shop.Sales against #sqli
        # @flows Shop.Web -> #orders
        # @audit Shop.OrdersArchive
        "#,
    );
}

#[test]
fn rename_a_component_with_legacy_pairs_and_implicit_ids() {
    check_rename(
        r#"
        //- /a.threatspec
        @alias component @web:@app to Web Application
        @connects @web:@app with @db:@main
        @component Web:App:Users
        @exposes #web_app_users to XSS with templates
        //- /b.php
        <?php
        // @mitigates we$0b:app against XSS with escaping
        "#,
        "front:site",
        r#"
        //- /a.threatspec
        @alias component @front:@site to Web Application
        @connects @front:@site with @db:@main
        @component front:site:Users
        @exposes #front_site_users to XSS with templates
        //- /b.php
        <?php
        // @mitigates front:site against XSS with escaping
        "#,
    );
    check_refused(
        r#"
        //- /a.threatspec
        @connects @web:@app with @db:@main
        //- /b.py
        # @audit Web.A$0pp
        "#,
        "Web.Front.App",
        "must have 2 segment(s)",
    );
}

#[test]
fn rename_a_component_refuses_merging() {
    let project = r#"
        //- /a.py
        # @exposes Shop.Orders to #sqli
        # @audit Shop.Sales.Reports
        # @audit Shop.Or$0ders
        "#;
    check_refused(project, "Shop.Sales", "the component `Shop.Sales.Reports` already exists");
    check_refused(project, "Shop.Sales.Reports", "already exists");
    check_refused(project, "Shop..X", "empty");
    check_rename(
        project,
        "Shop.Purchases",
        r#"
        //- /a.py
        # @exposes Shop.Purchases to #sqli
        # @audit Shop.Sales.Reports
        # @audit Shop.Purchases
        "#,
    );
}

#[test]
fn rename_to_the_same_text_changes_nothing() {
    let (index, file, offset) = support::index_with_cursor(
        r#"
        //- /a.py
        # @exposes Shop to #sq$0li
        # @threat SQL Injection (#sqli)
        "#,
    );
    assert_eq!(rename(&index, &file, offset, "sqli"), Ok(vec![]));
    assert_eq!(rename(&index, &file, offset, "#sqli"), Ok(vec![]));
}
