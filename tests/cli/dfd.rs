//! The `dfd` command: formats, scopes, `-o`, and exit status 2 on bad scopes and I/O errors.

use crate::support;
use support::*;

fn dfd(args: &[&str]) -> Run {
    let mut all = vec!["dfd"];
    all.extend_from_slice(args);
    run(manifest_dir(), &all)
}

#[test]
fn mermaid_is_the_default_format() {
    for args in [&["examples/webshop"][..], &["examples/webshop", "--format", "mermaid"]] {
        let r = dfd(args);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.starts_with("flowchart LR\n"), "{}", r.stdout);
        assert!(r.stdout.contains("n_shop__api__orders(\"Shop.Api.Orders<br/>⚠ 1 open"), "{}", r.stdout);
        assert!(r.stderr.is_empty(), "{}", r.stderr);
    }
}

#[test]
fn dot_format() {
    let r = dfd(&["examples/webshop", "--format", "dot"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("digraph dfd {\n  rankdir=LR;\n"), "{}", r.stdout);
    assert!(r.stdout.contains("subgraph \"cluster_b_dmz\""), "{}", r.stdout);
    assert!(r.stdout.ends_with("}\n"), "{}", r.stdout);
}

#[test]
fn svg_format() {
    let r = dfd(&["examples/webshop", "--format", "svg"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "), "{}", r.stdout);
    let doc = roxmltree::Document::parse(&r.stdout).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(doc.descendants().any(|n| n.attribute("data-key") == Some("n_shop__api__orders")));
    assert!(r.stdout.contains(">Shop.Api.Orders</text>"), "{}", r.stdout);
    // A scope narrows it as for the other formats.
    let scoped = dfd(&["examples/webshop", "--format", "svg", "--scope", "component:Shop.Api.Orders"]);
    assert_eq!(scoped.code, 0, "{scoped:?}");
    assert!(scoped.stdout.contains("n_shop__queue") && !scoped.stdout.contains("n_support_agent"));
}

#[test]
fn scopes_narrow_the_diagram() {
    let all = dfd(&["examples/webshop", "--format", "dot"]);
    let edge = dfd(&["examples/webshop", "--format", "dot", "--scope", "boundary:internet-edge"]);
    assert_eq!(edge.code, 0, "{edge:?}");
    assert!(edge.stdout.contains("\"n_shop__api__orders\""), "{}", edge.stdout);
    assert!(!edge.stdout.contains("n_dmz__legacy_admin"), "{}", edge.stdout);
    assert!(edge.stdout.len() < all.stdout.len());

    let comp = dfd(&["examples/webshop", "--scope", "component:Shop.Api.Orders"]);
    assert_eq!(comp.code, 0, "{comp:?}");
    assert!(comp.stdout.contains("n_shop__queue"), "{}", comp.stdout);
    assert!(!comp.stdout.contains("n_support_agent"), "{}", comp.stdout);

    let project = dfd(&["examples/webshop", "--scope", "project"]);
    assert_eq!(project.stdout, dfd(&["examples/webshop"]).stdout);
}

#[test]
fn file_scope_is_relative_to_the_root_or_to_path() {
    // Run from the repository: the scanned root is the current directory, so the index key is
    // examples/webshop/api/app.py; the path relative to PATH is accepted too.
    let from_root = dfd(&["examples/webshop", "--scope", "file:examples/webshop/api/app.py"]);
    assert_eq!(from_root.code, 0, "{from_root:?}");
    assert!(from_root.stdout.contains("n_shop__web -->|\"HTTPS\"| n_shop__api"), "{}", from_root.stdout);
    assert!(!from_root.stdout.contains("n_dmz__legacy_admin"), "{}", from_root.stdout);
    let from_path = dfd(&["examples/webshop", "--scope", "file:api/app.py"]);
    assert_eq!(from_path.stdout, from_root.stdout);
    // Run from the example itself: the root is the example.
    let inside = run(&manifest_dir().join("examples/webshop"), &["dfd", "--scope", "file:api/app.py"]);
    assert_eq!(inside.code, 0, "{inside:?}");
    assert_eq!(inside.stdout, from_root.stdout);

    let missing = dfd(&["examples/webshop", "--scope", "file:api/nope.py"]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.stderr.contains("file:api/nope.py"), "{}", missing.stderr);
}

#[test]
fn bad_scopes_exit_2() {
    for scope in ["everything", "boundary:", "layer:x", ""] {
        let r = dfd(&["examples/webshop", "--scope", scope]);
        assert_eq!(r.code, 2, "{scope:?}: {r:?}");
        assert!(r.stderr.contains("scope"), "{scope:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
    let r = dfd(&["examples/webshop", "--format", "png"]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn output_file_and_io_errors() {
    let dir = tempdir();
    let out = dir.path().join("dfd.dot");
    // A temporary directory is outside the project and the current directory.
    let r =
        dfd(&["examples/webshop", "--format", "dot", "--allow-outside-output", "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written, dfd(&["examples/webshop", "--format", "dot"]).stdout);

    let missing = dir.path().join("no/such/dir/x.mmd");
    let r = dfd(&["examples/webshop", "--allow-outside-output", "-o", missing.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("cannot write"), "{}", r.stderr);

    let r = dfd(&["does/not/exist"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("does/not/exist"), "{}", r.stderr);
}

/// Issue 14 §6: the command lists say SVG too, and `--stdio` (the language server) is not
/// an option of `dfd` or `check`; the top-level help and `lsp` still name it.
#[test]
fn help_names_svg_and_stdio_only_where_it_means_something() {
    let dir = tempdir();
    let top = run(dir.path(), &["--help"]);
    assert!(top.stdout.contains("(Mermaid, Graphviz DOT or SVG)"), "{}", top.stdout);
    assert!(top.stdout.contains("`--stdio`"), "{}", top.stdout);
    for command in ["dfd", "check", "report", "export"] {
        let r = run(dir.path(), &[command, "--help"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(!r.stdout.contains("--stdio"), "{command}: {}", r.stdout);
    }
    let r = run(dir.path(), &["dfd", "--help"]);
    assert!(r.stdout.contains("(Mermaid, Graphviz DOT or SVG)"), "{}", r.stdout);
}

#[test]
fn help_lists_formats_and_scopes() {
    let r = dfd(&["--help"]);
    assert_eq!(r.code, 0, "{r:?}");
    for want in ["mermaid", "dot", "svg", "boundary:<name>", "component:<path>", "file:<path>"] {
        assert!(r.stdout.contains(want), "{want}: {}", r.stdout);
    }
}

// -------------------------------------------------------------------------------------------
// The infrastructure baseline on the diagram: `--with-baseline`, `--baseline-only`.

/// A resource name no output may let out of its label: markup, Mermaid and DOT syntax, an
/// entity, a bidi override.
const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>\\\"]; end %%{init}%% -> &lt; \u{202E}";

/// The three-tier Terraform fixture, a bucket with a hostile name, and annotations that model
/// part of it the way `baseline --format gal` names it: the Internet, the load balancer, the
/// flow between them and the public subnet's boundary are annotated; an API the templates do
/// not know is annotated too.
fn annotated_three_tier() -> tempfile::TempDir {
    let dir = tempdir();
    crate::infra::copy_tree(&manifest_dir().join("tests/fixtures/infra/three-tier"), dir.path());
    write(
        dir.path(),
        "evil.tf",
        format!("resource \"aws_s3_bucket\" \"{HOSTILE_NAME}\" {{\n  acl = \"public-read\"\n}}\n"),
    );
    write(
        dir.path(),
        "shop.py",
        "# @actor Internet\n\
         # @asset Shop.Api (#api)\n\
         # @asset module_web_aws_lb_web -- \"the load balancer\"\n\
         # @threat Cross-site scripting (#xss)\n\
         # @flows Internet -> module_web_aws_lb_web via HTTPS\n\
         # @flows module_web_aws_lb_web -> Shop.Api via HTTP\n\
         # @exposes Shop.Api to #xss [high]\n\
         # @boundary between Internet and module_web_aws_lb_web (#module-network-aws-subnet-public)\n",
    );
    dir
}

#[test]
fn with_baseline_snapshots_in_every_format() {
    let dir = annotated_three_tier();
    for (format, snapshot) in
        [("mermaid", "dfd_baseline.mmd"), ("dot", "dfd_baseline.dot"), ("svg", "dfd_baseline.svg")]
    {
        let r = run(dir.path(), &["dfd", "--with-baseline", "--no-cache", "--format", format]);
        assert_eq!(r.code, 0, "{format}: {r:?}");
        // The same diagram every time.
        assert_eq!(
            run(dir.path(), &["dfd", "--with-baseline", "--no-cache", "--format", format]).stdout,
            r.stdout
        );
        match snapshot {
            "dfd_baseline.mmd" => {
                expect_test::expect_file!["../snapshots/dfd_baseline.mmd"].assert_eq(&r.stdout)
            }
            "dfd_baseline.dot" => {
                expect_test::expect_file!["../snapshots/dfd_baseline.dot"].assert_eq(&r.stdout)
            }
            _ => expect_test::expect_file!["../snapshots/dfd_baseline.svg"].assert_eq(&r.stdout),
        }
    }
}

#[test]
fn annotated_parts_win_and_the_rest_is_marked_proposed() {
    let dir = annotated_three_tier();
    let r = run(dir.path(), &["dfd", "--with-baseline", "--no-cache", "--format", "svg"]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = roxmltree::Document::parse(&r.stdout).expect("well-formed XML");
    let node = |id: &str| doc.descendants().find(|n| n.attribute("data-key") == Some(id));
    // Annotated: the Internet actor and the load balancer keep their annotated look and label.
    let lb = node("n_module_web_aws_lb_web").expect("the load balancer");
    assert_eq!(lb.attribute("data-severity"), Some("plain"));
    let internet = node("n_internet").expect("the Internet");
    assert_ne!(internet.attribute("data-severity"), Some("proposed"));
    assert!(node("n_shop__api").is_some(), "annotated elements the templates lack stay");
    // Proposed: what only the templates have, grey, dashed and saying so in words.
    for id in [
        "n_module_web_aws_autoscaling_group_app",
        "n_module_db_aws_db_instance_main",
        "n_aws_s3_bucket_uploads",
    ] {
        let n = node(id).unwrap_or_else(|| panic!("{id} is drawn"));
        assert_eq!(n.attribute("data-severity"), Some("proposed"), "{id}");
        let texts: Vec<&str> =
            n.descendants().filter(|t| t.has_tag_name("text")).filter_map(|t| t.text()).collect();
        assert!(texts.iter().any(|t| t.starts_with("proposed · ")), "{id}: {texts:?}");
        assert!(n.descendants().any(|s| s.attribute("stroke-dasharray").is_some()), "{id} is dashed");
    }
    // The annotated Internet -> load balancer flow wins over the baseline's two; the flows only
    // the templates have are proposed.
    let flows: Vec<(&str, &str, bool)> = doc
        .descendants()
        .filter(|n| n.attribute("data-from").is_some())
        .map(|n| {
            (
                n.attribute("data-from").unwrap(),
                n.attribute("data-to").unwrap(),
                n.attribute("data-proposed").is_some(),
            )
        })
        .collect();
    assert!(flows.contains(&("n_internet", "n_module_web_aws_lb_web", false)), "{flows:?}");
    assert!(!flows.contains(&("n_internet", "n_module_web_aws_lb_web", true)), "{flows:?}");
    assert!(flows.contains(&("n_internet", "n_module_web_aws_autoscaling_group_app", true)), "{flows:?}");
    assert!(
        flows.contains(&("n_module_web_aws_lb_web", "n_module_web_aws_autoscaling_group_app", true)),
        "{flows:?}"
    );
    // The annotated boundary stands for the baseline's public subnet; the private subnet and
    // the VPC around it are proposed.
    let kinds: Vec<(&str, &str)> = doc
        .descendants()
        .filter_map(|n| Some((n.attribute("data-key")?, n.attribute("data-kind")?)))
        .filter(|(_, kind)| kind.contains("boundary"))
        .collect();
    assert_eq!(
        kinds,
        [
            ("bh_module_network_aws_subnet_public_625035cd87ef6232", "boundary"),
            ("pb_module__network__aws_vpc__main", "proposed-boundary"),
            ("pb_module__network__aws_subnet__private", "proposed-boundary"),
        ]
    );
    assert!(r.stdout.contains("grey dashed, marked proposed"), "the legend explains it");
    // Without the flag nothing of the baseline is drawn.
    let plain = run(dir.path(), &["dfd", "--no-cache", "--format", "svg"]);
    assert!(!plain.stdout.contains("proposed"), "{}", plain.stdout);
}

#[test]
fn baseline_only_draws_the_templates_alone() {
    let dir = annotated_three_tier();
    let r = run(dir.path(), &["dfd", "--baseline-only", "--no-cache"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("Shop.Api"), "no annotation is drawn: {}", r.stdout);
    assert!(
        r.stdout.contains("n_module_web_aws_lb_web(\"module.web.aws_lb.web<br/>proposed · aws_lb"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("n_internet -.->|\"proposed: https/443\"| n_module_web_aws_lb_web"),
        "{}",
        r.stdout
    );
    // Both flags, or a scope, are usage errors.
    let both = run(dir.path(), &["dfd", "--baseline-only", "--with-baseline"]);
    assert_eq!(both.code, 2, "{both:?}");
    let scoped = run(dir.path(), &["dfd", "--with-baseline", "--scope", "component:Shop.Api"]);
    assert_eq!(scoped.code, 2, "{scoped:?}");
    assert!(scoped.stderr.contains("the baseline has no scopes"), "{}", scoped.stderr);
}

/// A resource name from a cloned repository's templates is text in every format: it never
/// ends a label, adds a node or an element, or carries a bidi control through.
#[test]
fn hostile_resource_names_are_escaped_in_every_format() {
    let dir = annotated_three_tier();
    let out = |format: &str| {
        let r = run(dir.path(), &["dfd", "--with-baseline", "--no-cache", "--format", format]);
        assert_eq!(r.code, 0, "{format}: {r:?}");
        assert!(!r.stdout.contains('\u{202E}'), "{format}: the bidi control is replaced");
        r.stdout
    };
    let mermaid = out("mermaid");
    assert!(mermaid.contains("#lt;img src=x onerror=alert#40;1#41;#gt;#92;#quot;#93;#59; end #37;#37;#123;init#125;#37;#37; -#gt; #amp;lt#59;"), "{mermaid}");
    assert!(!mermaid.contains("<img") && !mermaid.contains("\"]; end"), "{mermaid}");
    let dot = out("dot");
    assert!(dot.contains("<img src=x onerror=alert(1)>\\\\\\\"]; end %%{init}%% -> &amp;lt; "), "{dot}");
    let svg = out("svg");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert!(!doc.descendants().any(|n| n.has_tag_name("img")), "{svg}");
    let title = doc
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text())
        .find(|t| t.contains("onerror"))
        .expect("the bucket's tooltip");
    assert!(
        title.starts_with("aws_s3_bucket.<img src=x onerror=alert(1)>\\\"]; end %%{init}%% -> &lt; "),
        "{title}"
    );
}
