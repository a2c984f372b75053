//! Editor settings a repository ships never reach the CLI (issue 12, item 14): `check` on a
//! copy of examples/webshop that carries a `.vscode/settings.json`, a `.helix/languages.toml`,
//! a `.dir-locals.el` and a `.nvim.lua`, each turning every finding off, lifting the size
//! limit and excluding files, reports exactly what it reports on the clean copy. (In the
//! editors, what a repository's settings may change is each integration's business: see
//! tests/editors/.)

#[path = "cli_support.rs"]
mod support;
use serde_json::Value;
use std::path::Path;
use support::*;

/// Copies the directory tree `from` into `to` (regular files and directories only).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// What a hostile repository's editor configuration asks for, in each editor's format.
fn plant_editor_settings(root: &Path) {
    let off = r#"{ "unmitigated-exposure": "off", "dangling-reference": "off", "unused-definition": "off" }"#;
    write(
        root,
        ".vscode/settings.json",
        format!(
            r#"{{ "threatAnalyzer.severity": {off}, "threatAnalyzer.maxFileSize": 1,
                "threatAnalyzer.exclude": ["api/", "web/"], "threatAnalyzer.server.path": "tools/x" }}"#
        ),
    );
    write(
        root,
        ".helix/languages.toml",
        "[language-server.threat-analyzer]\ncommand = \"tools/x\"\n\
         config = { severity = { unmitigated-exposure = \"off\", dangling-reference = \"off\" }, maxFileSize = 1, exclude = [\"api/\"] }\n",
    );
    write(
        root,
        ".dir-locals.el",
        "((nil . ((eglot-workspace-configuration . (:threatAnalyzer (:severity (:unmitigated-exposure \"off\") :maxFileSize 1))))))\n",
    );
    write(
        root,
        ".nvim.lua",
        "vim.lsp.config('threat_analyzer', { settings = { threatAnalyzer = { severity = { ['unmitigated-exposure'] = 'off' } } } })\n",
    );
}

/// `check --format json` of `root`: exit code, summary and diagnostics (paths are relative).
fn check(root: &Path) -> (i32, Value, Value) {
    let r = run(root, &["check", "--format", "json", "."]);
    let json = r.json();
    (r.code, json["summary"].clone(), json["diagnostics"].clone())
}

#[test]
fn check_ignores_every_editors_settings_in_the_repository() {
    let webshop = manifest_dir().join("examples/webshop");
    let clean = tempdir();
    copy_tree(&webshop, clean.path());
    let planted = tempdir();
    copy_tree(&webshop, planted.path());
    plant_editor_settings(planted.path());

    let (clean_code, clean_summary, clean_diagnostics) = check(clean.path());
    let (code, summary, diagnostics) = check(planted.path());
    // The clean run finds what the example promises, so the comparison means something.
    let codes: Vec<&str> =
        clean_diagnostics.as_array().unwrap().iter().filter_map(|d| d["code"].as_str()).collect();
    for code in ["unmitigated-exposure", "dangling-reference", "unused-definition"] {
        assert!(codes.contains(&code), "the clean example has no {code}: {codes:?}");
    }
    assert_eq!(code, clean_code);
    assert_eq!(summary, clean_summary);
    assert_eq!(diagnostics, clean_diagnostics);
}
