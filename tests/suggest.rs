//! "Did you mean" for dangling ids is bounded (issue 12, item 4): long ids are not compared,
//! the pairs one analysis examines are capped, and normal typos keep their suggestions.
//! Every dangling id used to meet every known id with two quadratic string distances: a
//! 1.8 MB file took 384 s.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/lsp.rs"]
mod lsp_support;

use lsp_support::{TestClient, file_uri};
use serde_json::json;
use std::fmt::Write as _;
use std::sync::Arc;
use threat_analyzer::analysis::Analysis;
use threat_analyzer::diagnostic::Code;
use threat_analyzer::file_id::FileId;
use threat_analyzer::limits::{MAX_SUGGESTION_ID_CHARS, MAX_SUGGESTION_WORK};
use threat_analyzer::model::{FileFacts, ProjectIndex};
use threat_analyzer::syntax::Language;

/// `count` ids of about `len` characters, distinct in their first characters, all with the
/// same character counts (so no cheap pre-test can tell them apart).
fn long_ids(prefix: &str, count: usize, len: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let mut id = format!("{prefix}{i:04}-");
            while id.len() < len {
                id.push_str("abcdefghij");
            }
            id.truncate(len);
            id
        })
        .collect()
}

/// A `.gal` file defining `defined` ids as threats and exposing an asset to each of `dangling`.
fn gal_file(defined: &[String], dangling: &[String]) -> String {
    let mut text = String::new();
    for (i, id) in defined.iter().enumerate() {
        writeln!(text, "@threat Threat {i} (#{id})").unwrap();
    }
    for id in dangling {
        writeln!(text, "@exposes Shop.App to #{id}").unwrap();
    }
    text
}

/// Runs `f` on a thread and waits at most `secs` for it: a safety cap, so that an unbounded
/// search fails the test instead of running for hours (not a timing assertion).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()));
    rx.recv_timeout(std::time::Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("the analysis did not finish within {secs} s"))
}

/// Analyses `index`: its diagnostics and the suggestion work they took.
fn analyse(index: ProjectIndex) -> (Vec<threat_analyzer::diagnostic::Diagnostic>, usize) {
    within(120, move || {
        let analysis = Analysis::new(&index);
        let diagnostics = analysis.diagnostics(&index);
        // Asking again reuses them: no new work.
        assert_eq!(analysis.diagnostics(&index), diagnostics);
        (diagnostics, analysis.suggestion_work())
    })
}

fn index_of(files: &[(&str, String)]) -> ProjectIndex {
    let mut index = ProjectIndex::new();
    for (path, text) in files {
        index.set_file(Arc::new(FileFacts::new(
            FileId::relative(*path),
            Language::Gal,
            Arc::from(text.as_str()),
        )));
    }
    index
}

/// The 1.8 MB shape: 4,900 defined ids and 4,900 dangling typos of them, of 60 characters.
fn many_typos() -> (Vec<String>, Vec<String>) {
    let defined: Vec<String> =
        (0..4900).map(|i| format!("threat-{i:05}-injection-through-the-order-search-endpoint")).collect();
    let dangling = defined.iter().map(|d| d.replacen("injection", "injcetion", 1)).collect();
    (defined, dangling)
}

#[test]
fn ids_over_the_length_limit_are_never_compared() {
    let defined = long_ids("y", 300, 3000);
    let dangling = long_ids("x", 300, 3000);
    let index = index_of(&[("defs.gal", gal_file(&defined, &[])), ("uses.gal", gal_file(&[], &dangling))]);
    let (diagnostics, work) = analyse(index);
    let dangling_diags: Vec<_> = diagnostics.iter().filter(|d| d.code == Code::DanglingReference).collect();
    assert_eq!(dangling_diags.len(), 300);
    assert_eq!(work, 0);
    for d in dangling_diags {
        assert!(d.fix.is_none(), "{}", d.message);
        assert!(
            d.message
                .contains(&format!("ids longer than {MAX_SUGGESTION_ID_CHARS} characters are not compared")),
            "{}",
            d.message
        );
    }
}

#[test]
fn ids_at_the_length_limit_still_get_suggestions() {
    let defined = long_ids("y", 3, MAX_SUGGESTION_ID_CHARS);
    let typo = defined[1].replacen("abc", "acb", 1);
    assert_eq!(typo.chars().count(), MAX_SUGGESTION_ID_CHARS);
    let index = index_of(&[("all.gal", gal_file(&defined, std::slice::from_ref(&typo)))]);
    let analysis = Analysis::new(&index);
    let d = analysis.diagnostics(&index).into_iter().find(|d| d.code == Code::DanglingReference).unwrap();
    assert!(d.message.ends_with(&format!("did you mean `{}`?", defined[1])), "{}", d.message);
}

#[test]
fn one_analysis_does_at_most_the_work_limit() {
    let (defined, dangling) = many_typos();
    let files = [("defs.gal", gal_file(&defined, &[])), ("uses.gal", gal_file(&[], &dangling))];
    let (diagnostics, work) = analyse(index_of(&files));
    // Searches stop before the one step (at most two distances of ids at the length limit and
    // a pre-test) that would pass the limit.
    assert!(work <= MAX_SUGGESTION_WORK, "{work}");
    assert!(work + 2 * MAX_SUGGESTION_ID_CHARS.pow(2) + 128 > MAX_SUGGESTION_WORK, "{work}");
    let dangling_diags: Vec<_> = diagnostics.iter().filter(|d| d.code == Code::DanglingReference).collect();
    assert_eq!(dangling_diags.len(), dangling.len());
    // Diagnostics are sorted by position, the order the ids were searched in: the first ones
    // get their suggestion, the rest say why they have none.
    let searched = dangling_diags.iter().take_while(|d| d.fix.is_some()).count();
    assert!(searched > 0 && searched < dangling.len(), "{searched}");
    for (i, d) in dangling_diags.iter().enumerate() {
        if i < searched {
            assert!(d.message.ends_with(&format!("did you mean `{}`?", defined[i])), "{}", d.message);
        } else {
            assert!(d.fix.is_none());
            assert!(
                d.message.contains(&format!(
                    "used up the {MAX_SUGGESTION_WORK} character comparisons allowed for suggestions"
                )),
                "{}",
                d.message
            );
        }
    }
    // The same input gives the same suggestions, for the same work.
    assert_eq!(analyse(index_of(&files)), (diagnostics, work));
}

#[test]
fn a_repeated_dangling_id_is_searched_once() {
    let defined: Vec<String> = (0..50).map(|i| format!("threat-{i}")).collect();
    let dangling = vec!["threat-7x".to_string(); 200];
    let index = index_of(&[("all.gal", gal_file(&defined, &dangling))]);
    let analysis = Analysis::new(&index);
    let diagnostics = analysis.diagnostics(&index);
    let once = analysis.suggestion_work();
    let index_once = index_of(&[("all.gal", gal_file(&defined, &dangling[..1]))]);
    let analysis_once = Analysis::new(&index_once);
    let _ = analysis_once.diagnostics(&index_once);
    assert_eq!(once, analysis_once.suggestion_work(), "200 references cost what one costs");
    assert!(once > 0);
    let suggested = diagnostics.iter().filter(|d| d.message.ends_with("did you mean `threat-7`?")).count();
    assert_eq!(suggested, 200);
}

/// The inputs through the binary: 300 dangling ids of 3,000 characters among 300
/// defined ones, and the 1.8 MB file of dangling typos. `run` kills a run after 60 s (a
/// safety cap: before the bound the first took hours and the second minutes).
#[test]
fn check_finishes_on_hostile_dangling_ids() {
    let dir = cli::tempdir();
    let defined = long_ids("y", 300, 3000);
    let dangling = long_ids("x", 300, 3000);
    cli::write(dir.path(), "long/defs.gal", gal_file(&defined, &[]));
    cli::write(dir.path(), "long/uses.gal", gal_file(&[], &dangling));
    let (defined, dangling) = many_typos();
    let mut big = gal_file(&defined, &dangling);
    // Pad the file to the reported 1.8 MB with descriptions (not annotations).
    big = big.replace(
        "\n@exposes",
        " -- \"the order search builds its SQL query by concatenating the customer's search terms, \
         filters and sort order into one string, so a crafted search term can change the query \
         and read or modify every order in the shop\"\n@exposes",
    );
    assert!(big.len() > 1_800_000, "{}", big.len());
    cli::write(dir.path(), "big/all.gal", &big);
    for (sub, count) in [("long", 300), ("big", 4900)] {
        let run =
            cli::run(dir.path(), &["check", "--no-cache", "--format", "json", "--fail-on", "never", sub]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json = run.json();
        let dangling = json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["code"] == "dangling-reference")
            .count();
        assert_eq!(dangling, count, "{sub}");
    }
}

/// VS Code asks for code actions on every cursor move; each answer reuses the diagnostics
/// (and their suggestions) of the revision instead of searching again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_actions_reuse_the_suggestions_of_the_revision() {
    let dir = cli::tempdir();
    let defined: Vec<String> = (0..200).map(|i| format!("threat-{i:03}-in-the-order-search")).collect();
    let dangling: Vec<String> = defined.iter().take(40).map(|d| d.replacen("order", "ordre", 1)).collect();
    cli::write(dir.path(), "defs.gal", gal_file(&defined, &[]));
    cli::write(dir.path(), "uses.gal", gal_file(&[], &dangling));
    let (mut client, _) = TestClient::start(dir.path(), json!({}), json!({})).await;
    let uses = file_uri(&dir.path().join("uses.gal"));
    client.diagnostics_for(&uses, |d| d.len() == dangling.len()).await;
    let status = |s: &serde_json::Value| (s["revision"].clone(), s["suggestion_work"].as_u64().unwrap());
    let before = status(
        &client.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"})).await,
    );
    assert!(before.1 > 0, "the diagnostics searched for suggestions");
    for (line, meant) in defined.iter().take(dangling.len()).enumerate() {
        let at = json!({"line": line, "character": 25});
        let actions = client
            .request(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": uses}, "range": {"start": at, "end": at}, "context": {"diagnostics": []}}),
            )
            .await;
        let titles: Vec<&str> =
            actions.as_array().unwrap().iter().filter_map(|a| a["title"].as_str()).collect();
        assert!(titles.contains(&format!("Change to `{meant}`").as_str()), "{titles:?}");
    }
    let after = status(
        &client.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"})).await,
    );
    assert_eq!(after, before, "code actions searched for suggestions again");
}
