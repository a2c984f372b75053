//! Any bytes as a Terraform, YAML or JSON infrastructure file (the first byte picks the language
//! and the file name, so Compose names are reached too): the located reader (`infra::doc`) and
//! the baseline (`infra::derive`) never panic; every node's span and every origin lies in the text
//! on character boundaries; alias expansion stays within `limits::MAX_TEMPLATE_ALIAS_NODES` copied nodes
//! and problems within `limits::MAX_TEMPLATE_PROBLEMS`; the same text gives the same model twice. The
//! planner of `baseline --apply` (`render::infra_apply`): its insertions lie in the text at line
//! starts (appends at the end of `.gal` files), each planned line is read back as one more
//! annotation, and, for a template tree-sitter reads without errors, the file with them derives
//! the same baseline (locations aside) and planning again over the result adds nothing
//! (applying twice = applying once).
//! The model drawn alone (`dfd --baseline-only`, `render::dfd_baseline::merge`) is deterministic,
//! its ids plain and its flows and members drawn; the layout's guarantees hold
//! (`tests/support/invariants.rs`, `check_layout`), Mermaid and DOT render, and the SVG is
//! well-formed with none but its own elements, whatever the resource names.
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use std::collections::BTreeSet;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use threat_analyzer::infra::doc::{self, Node};
use threat_analyzer::limits::{MAX_TEMPLATE_ALIAS_NODES, MAX_TEMPLATE_PROBLEMS};
use threat_analyzer::infra::model::INTERNET;

use threat_analyzer::infra::model::InfraModel;
use threat_analyzer::infra::{SourceFile, derive};
use threat_analyzer::render::infra_apply::{Known, Mode, Plan, apply_edits, plan_all};
use threat_analyzer::render::dfd::Dfd;
use threat_analyzer::render::dfd_baseline::merge;
use threat_analyzer::render::{dot, mermaid, svg};
use threat_analyzer::syntax::Language;

const NAMES: &[(&str, Language)] = &[
    ("template.yaml", Language::Yaml),
    ("compose.yaml", Language::Yaml),
    ("k8s/app.yml", Language::Yaml),
    ("api.json", Language::Json),
    ("main.tf", Language::Hcl),
];

fn spans_inside(node: &Node, text: &str) {
    assert!(node.span.start <= node.span.end && node.span.end <= text.len());
    assert!(text.is_char_boundary(node.span.start) && text.is_char_boundary(node.span.end));
    for item in node.items() {
        spans_inside(item, text);
    }
    for entry in node.entries() {
        assert!(entry.key_span.end <= text.len());
        spans_inside(&entry.value, text);
    }
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&pick, rest)) = bytes.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let (name, language) = NAMES[pick as usize % NAMES.len()];
    if language != Language::Hcl {
        let parsed = if language == Language::Json { doc::read_json(text) } else { doc::read_yaml(text) };
        for document in &parsed.documents {
            spans_inside(document, text);
        }
        let total: usize = parsed.documents.iter().map(Node::size).sum();
        assert!(
            total <= 2 * text.len() + 2 + MAX_TEMPLATE_ALIAS_NODES,
            "{total} nodes from {} bytes",
            text.len()
        );
        assert!(parsed.problems.len() <= MAX_TEMPLATE_PROBLEMS);
    }
    let file = SourceFile { path: name.to_string(), language, text: Arc::from(text) };
    let model = derive(std::slice::from_ref(&file));
    let origins = model
        .elements
        .iter()
        // The fixed Internet entity comes from no file: its origin is empty.
        .filter(|e| e.key != INTERNET)
        .map(|e| &e.origin)
        .chain(model.boundaries.iter().map(|b| &b.origin))
        .chain(model.flows.iter().flat_map(|f| std::iter::once(&f.origin).chain(&f.also)))
        .chain(model.proposals.iter().map(|p| &p.origin))
        .chain(model.unknowns.iter().map(|u| &u.origin));
    for origin in origins {
        assert!(origin.start <= origin.end && origin.end <= text.len(), "{origin:?}");
        assert!(origin.line >= 1);
    }
    assert!(derive(std::slice::from_ref(&file)) == model, "derive is not deterministic");

    // The baseline drawn alone (`dfd --baseline-only`): deterministic, ids plain, every flow
    // between drawn nodes and every member drawn, the layout's guarantees hold, and the SVG is
    // well-formed with no element but its own.
    let dfd = merge(Dfd::default(), &model);
    assert!(merge(Dfd::default(), &model) == dfd, "the merge is not deterministic");
    let plain = |id: &str| id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let ids: BTreeSet<&str> = dfd.nodes.iter().map(|n| n.id.as_str()).collect();
    assert!(ids.iter().all(|id| plain(id)), "{ids:?}");
    assert!(dfd.edges.iter().all(|e| ids.contains(e.from.as_str()) && ids.contains(e.to.as_str())));
    for b in &dfd.boundaries {
        assert!(plain(&b.id) && b.members.iter().all(|m| ids.contains(m.as_str())), "{b:?}");
    }
    let _ = mermaid::render(&dfd);
    let _ = dot::render(&dfd);
    invariants::check_layout(&dfd, threat_analyzer::limits::MAX_LAYOUT_DUMMIES);
    let drawing = svg::render(&dfd);
    let doc = roxmltree::Document::parse(&drawing).expect("well-formed SVG");
    const OWN: &[&str] = &["svg", "title", "defs", "marker", "path", "rect", "g", "text"];
    assert!(doc.descendants().filter(|n| n.is_element()).all(|n| OWN.contains(&n.tag_name().name())));

    // Where tree-sitter read the template only by error recovery, a comment added elsewhere can
    // change what it recovers (a YAML mapping read whole before is lost after): there the
    // planner promises only its own invariants, and `baseline --apply` refuses to write when the
    // commented templates do not derive the same baseline (tests/cli/infra_apply.rs).
    let clean = read_cleanly(language, text);
    for mode in [Mode::Comments, Mode::Sidecar] {
        let texts = BTreeMap::from([(name.to_string(), text)]);
        let plan = plan_all(&model, &texts, &Known::default(), mode);
        assert_eq!(plan.dropped, 0);
        let applied = applied(&texts, &plan);
        let new = &applied[name];
        if !clean {
            continue;
        }
        if new != text {
            let changed = SourceFile { path: name.to_string(), language, text: Arc::from(new.as_str()) };
            assert_eq!(
                projection(&derive(&[changed])),
                projection(&model),
                "the comments changed the baseline:\n{new}"
            );
        }
        let borrowed: BTreeMap<String, &str> = applied.iter().map(|(k, v)| (k.clone(), v.as_str())).collect();
        let again = plan_all(&model_of(name, language, new), &borrowed, &Known::default(), mode);
        assert!(again.files.is_empty(), "a second plan adds {:?}\nto {new}", again.files);
    }
});

/// The texts after a plan, checked: insertions in the text at line starts (or appended to a
/// `.gal` file), each planned line one more annotation.
fn applied(texts: &BTreeMap<String, &str>, plan: &Plan) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = texts.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
    for file in &plan.files {
        let old = texts.get(&file.path).copied().unwrap_or("");
        for edit in &file.edits {
            assert!(edit.offset <= old.len() && old.is_char_boundary(edit.offset), "{edit:?}");
            let at_line_start = edit.offset == 0 || old.as_bytes()[edit.offset - 1] == b'\n';
            assert!(at_line_start || (file.path.ends_with(".gal") && edit.offset == old.len()), "{edit:?}");
        }
        let new = apply_edits(old, &file.edits);
        let language = Language::from_path(std::path::Path::new(&file.path)).unwrap_or(Language::Gal);
        let count = |t: &str| threat_analyzer::syntax::parse_file(language, t).annotations.len();
        assert_eq!(count(&new), count(old) + file.lines(), "{}:\n{new}", file.path);
        out.insert(file.path.clone(), new);
    }
    out
}

fn model_of(name: &str, language: Language, text: &str) -> InfraModel {
    derive(&[SourceFile { path: name.to_string(), language, text: Arc::from(text) }])
}

/// What a baseline says, locations aside.
fn projection(m: &InfraModel) -> String {
    let elements: Vec<_> = m.elements.iter().map(|e| (&e.key, e.kind, &e.name, &e.boundaries)).collect();
    let boundaries: Vec<_> = m.boundaries.iter().map(|b| (&b.key, b.kind, &b.parent)).collect();
    let flows: Vec<_> = m.flows.iter().map(|f| (&f.from, &f.to, &f.mechanism)).collect();
    let proposals: Vec<_> = m.proposals.iter().map(|p| (&p.element, p.rule, p.outcome, &p.detail)).collect();
    let unknowns: Vec<_> = m.unknowns.iter().map(|u| &u.what).collect();
    format!("{elements:?}{boundaries:?}{flows:?}{proposals:?}{unknowns:?}")
}

/// Whether tree-sitter parses `text` as `language` without an error or a missing node.
fn read_cleanly(language: Language, text: &str) -> bool {
    let Some(grammar) = language.grammar() else { return true };
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&grammar).expect("the project's grammar");
    parser.parse(text, None).is_some_and(|tree| !tree.root_node().has_error())
}
