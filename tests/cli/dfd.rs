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
