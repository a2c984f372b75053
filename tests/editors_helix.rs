//! The shipped Helix configuration, `editors/helix/languages.toml`: it parses, defines the
//! server, adds it to exactly the Helix languages the server reads (from the language registry,
//! `Language::helix_names`) after each language's own servers, and defines the file kinds Helix
//! does not know. (Helix itself cannot be installed here; the server's side of a Helix session
//! is tested in tests/lsp/stdio.rs.)
use std::collections::BTreeSet;
use std::path::Path;
use threat_analyzer::syntax::Language;

const CONFIG: &str = include_str!("../editors/helix/languages.toml");
const SERVER: &str = "threat-analyzer";

/// Helix names the file defines itself, because Helix 25.07 has no such language.
const DEFINED_HERE: &[&str] = &["gal", "threatspec", "text"];

fn config() -> toml::Table {
    CONFIG.parse().expect("editors/helix/languages.toml parses as TOML")
}

fn languages() -> Vec<toml::Table> {
    config()["language"]
        .as_array()
        .expect("[[language]] entries")
        .iter()
        .map(|l| l.as_table().expect("each [[language]] is a table").clone())
        .collect()
}

fn name(language: &toml::Table) -> &str {
    language["name"].as_str().expect("[[language]] has a name")
}

/// `language-servers` as names (an entry may also be `{ name = ..., only-features = [...] }`).
fn servers(language: &toml::Table) -> Vec<String> {
    language["language-servers"]
        .as_array()
        .unwrap_or_else(|| panic!("{} has no language-servers list", name(language)))
        .iter()
        .map(|s| match s {
            toml::Value::String(s) => s.clone(),
            toml::Value::Table(t) => t["name"].as_str().expect("server entry has a name").to_string(),
            other => panic!("{}: unexpected server entry {other}", name(language)),
        })
        .collect()
}

#[test]
fn defines_the_server_command() {
    let config = config();
    let server = config["language-server"][SERVER].as_table().expect("[language-server.threat-analyzer]");
    assert_eq!(server["command"].as_str(), Some("threat-analyzer"));
}

#[test]
fn covers_exactly_the_languages_the_server_reads() {
    let want: BTreeSet<&str> = Language::all().iter().flat_map(|l| l.helix_names().iter().copied()).collect();
    let entries = languages();
    let got: BTreeSet<&str> = entries.iter().map(name).collect();
    assert_eq!(got.len(), entries.len(), "a language is listed twice");
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}, not read by the server {extra:?}");
}

#[test]
fn keeps_each_languages_own_servers_first() {
    for language in languages() {
        let name = name(&language);
        let servers = servers(&language);
        assert_eq!(servers.last().map(String::as_str), Some(SERVER), "{name}: {servers:?}");
        assert_eq!(servers.iter().filter(|s| *s == SERVER).count(), 1, "{name}: {servers:?}");
        if DEFINED_HERE.contains(&name) {
            assert_eq!(servers, [SERVER], "{name} has no other server");
            for key in ["scope", "file-types"] {
                assert!(language.contains_key(key), "{name} is new to Helix and needs `{key}`");
            }
        } else {
            assert!(servers.len() >= 2, "{name}: Helix's own server(s) must stay first: {servers:?}");
            // Merged into Helix's own definition: only the server list may change.
            let keys: Vec<&str> = language.keys().map(String::as_str).collect();
            assert_eq!(keys, ["language-servers", "name"], "{name} redefines more than its servers");
        }
    }
}

#[test]
fn new_file_kinds_match_the_registry() {
    for language in languages().iter().filter(|l| DEFINED_HERE.contains(&name(l))) {
        let name = name(language);
        for file_type in language["file-types"].as_array().expect("file-types list") {
            let ext = file_type.as_str().expect("an extension");
            let read_as = Language::from_path(Path::new(&format!("notes.{ext}")));
            assert!(
                read_as.is_some_and(|l| l.helix_names().contains(&name)),
                "{name}: *.{ext} is read as {read_as:?}"
            );
        }
    }
}
