//! Property tests: the parser never panics and keeps ranges inside its input; the project index
//! updated file by file equals one rebuilt from scratch.
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use threat_analyzer::analysis;
use threat_analyzer::model::{FileFacts, ProjectIndex};
use threat_analyzer::syntax::{self, Annotation, Language, RefForm};
use threat_analyzer::text::TextRange;

/// Fragments that make annotation-like text likely, mixed with arbitrary characters.
fn annotation_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("@threat ".to_string()),
        Just("@exposes ".to_string()),
        Just("@mitigates ".to_string()),
        Just("@connects ".to_string()),
        Just("@flows ".to_string()),
        Just("@alias component ".to_string()),
        Just("@shield:begin\n".to_string()),
        Just("@shield:end\n".to_string()),
        Just(" against ".to_string()),
        Just(" to ".to_string()),
        Just(" with ".to_string()),
        Just(" -> ".to_string()),
        Just(" -- \"".to_string()),
        Just("\\\"".to_string()),
        Just("(#id)".to_string()),
        Just("#x".to_string()),
        Just("@b:@c".to_string()),
        Just("[high]".to_string()),
        Just(" cwe:CWE-89".to_string()),
        Just("\n# ".to_string()),
        Just("\n// ".to_string()),
        Just("\r\n".to_string()),
        Just("\r".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("\"".to_string()),
        Just(":\n".to_string()),
        Just("é😀".to_string()),
        "[a-zA-Z .:]{0,8}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn check_range(text: &str, r: TextRange, what: &str) {
    assert!(r.start <= r.end && r.end() <= text.len(), "{what} {r:?} outside {}", text.len());
    assert!(
        text.is_char_boundary(r.start()) && text.is_char_boundary(r.end()),
        "{what} {r:?} not on char boundary"
    );
}

fn check_annotation(text: &str, a: &Annotation) {
    check_range(text, a.range, "annotation");
    check_range(text, a.verb_range, "verb");
    for (_, r) in a.refs() {
        check_range(text, r.range, "ref");
        match &r.form {
            RefForm::Id(id) => check_range(text, id.range, "id"),
            RefForm::Name { name, id, alias } => {
                check_range(text, name.range, "name");
                id.iter().chain(alias.iter()).for_each(|s| check_range(text, s.range, "name part"));
            }
            RefForm::Legacy { boundary, component } => {
                check_range(text, boundary.range, "boundary");
                check_range(text, component.range, "component");
            }
        }
    }
    for s in a.description.iter().chain(a.details.iter()).chain(a.external_refs.iter()) {
        check_range(text, s.range, "metadata");
    }
}

const LANGUAGE_FILES: &[&str] =
    &["a.py", "a.rs", "a.js", "a.go", "a.c", "a.gal", "a.yaml", "a.tf", "a.txt", "a.json"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_and_ranges_stay_inside(text in annotation_like(), lang in 0..LANGUAGE_FILES.len()) {
        let Some(language) = Language::from_path(std::path::Path::new(LANGUAGE_FILES[lang])) else { return Ok(()) };
        let parsed = syntax::parse_file(language, &text);
        for a in &parsed.annotations {
            check_annotation(&text, a);
        }
        for e in &parsed.errors {
            check_range(&text, e.range, "error");
        }
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in "\\PC*") {
        for name in LANGUAGE_FILES {
            if let Some(language) = Language::from_path(std::path::Path::new(name)) {
                let parsed = syntax::parse_file(language, &text);
                for a in &parsed.annotations {
                    check_annotation(&text, a);
                }
            }
        }
    }
}

/// Lines the incremental test builds files from: definitions, references, duplicates and
/// dangling ids that interact across files.
const LINES: &[&str] = &[
    "# @threat SQL Injection (#sqli) [high]",
    "# @threat Stored XSS (#sqli)",
    "# @threat XSS (#xss)",
    "# @control Prepared (#prep)",
    "# @exposes Shop.Orders to #sqli",
    "# @exposes Shop:Orders to sql-injection",
    "# @exposes Shop.Web to #xss",
    "# @mitigates shop.orders against #sqli using #prep",
    "# @mitigates Shop against XSS",
    "# @accepts #xss on Shop.Web",
    "# @exposes Shop.Web to #xsss",
    "# @connects Shop:Web to Shop:Api with HTTPS",
    "# @component Shop:Web (#web)",
    "# @mitigates #web against #xss",
    "# @confirmed #sqli on Shop.Orders",
    "# @mitigates Shop.Orders #sqli",
];

fn file_text(lines: &[usize]) -> String {
    lines.iter().map(|&i| LINES[i % LINES.len()]).collect::<Vec<_>>().join("\n")
}

fn snapshot(index: &ProjectIndex) -> (String, Vec<String>) {
    let diags = analysis::diagnostics(index)
        .into_iter()
        .map(|d| format!("{}:{:?}:{}:{}:{}", d.file, d.range, d.code.as_str(), d.level.as_str(), d.message))
        .collect();
    (index.dump(), diags)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn incremental_updates_equal_a_full_rebuild(
        steps in proptest::collection::vec((0usize..4, proptest::option::of(proptest::collection::vec(0usize..LINES.len(), 0..6))), 1..24)
    ) {
        let mut index = ProjectIndex::new();
        let mut current: BTreeMap<String, String> = BTreeMap::new();
        let mut previous: Option<analysis::Analysis> = None;
        for (file, content) in steps {
            let path = format!("f{file}.py");
            match content {
                Some(lines) => {
                    let text = file_text(&lines);
                    index.set_file(Arc::new(FileFacts::new(path.as_str().into(), Language::Python, text.as_str().into())));
                    current.insert(path, text);
                }
                None => {
                    index.remove_file(&path);
                    current.remove(&path);
                }
            }
            let mut fresh = ProjectIndex::new();
            for (path, text) in &current {
                fresh.set_file(Arc::new(FileFacts::new(path.as_str().into(), Language::Python, text.as_str().into())));
            }
            prop_assert_eq!(snapshot(&index), snapshot(&fresh));
            // Incremental analysis (reusing unchanged files' resolutions) equals a fresh one.
            let incremental = analysis::Analysis::update(previous.as_ref(), &index);
            let render = |ds: Vec<threat_analyzer::diagnostic::Diagnostic>| -> Vec<String> {
                ds.into_iter().map(|d| format!("{}:{:?}:{}:{}", d.file, d.range, d.code.as_str(), d.message)).collect()
            };
            prop_assert_eq!(render(incremental.diagnostics(&index)), render(analysis::Analysis::new(&index).diagnostics(&index)));
            previous = Some(incremental);
        }
    }
}
