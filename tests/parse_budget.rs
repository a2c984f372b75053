//! Tree-sitter time is bounded for a whole project, not only per file (issue 12, item 7): a
//! repository of many small pathological files (40 Lua files took 100 s, 5 s each) costs the
//! project's budget, then its files are read with the line-comment fallback, and `check` says
//! how many.

#[path = "support/cli.rs"]
mod cli;

use std::time::Duration;
use threat_analyzer::walk::{self, WalkOptions};

/// Lua that tree-sitter-lua cannot parse within the per-file budget (5 s): a long run of bare
/// identifiers, each an error its recovery tries to fit into a statement. Its cost grows with
/// the square of the run (debug build, 2026-12: 5,000 words 0.4 s, 10,000 words 1.9 s), so
/// 60,000 words would take minutes: far past the budget on any machine. The text opens with a
/// `#!` line, which the fast Lua lexer leaves to tree-sitter, so that the parse is paid.
fn slow_lua(i: usize) -> String {
    format!("#!/usr/bin/env lua\n-- @threat Threat {i} (#t{i})\n{}\n", "a ".repeat(60_000))
}

/// Runs `f` on a thread and waits at most `secs` for it: a safety cap (not a timing
/// assertion), so that a scan paying 5 s per file fails instead of running for minutes.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()));
    rx.recv_timeout(Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("the scan did not finish within {secs} s"))
}

#[test]
fn slow_files_share_one_project_budget_then_use_the_fallback() {
    // Enough files that most cannot start before the budget is spent, whatever the core count.
    // The walk parses on rayon's global pool (sized by RAYON_NUM_THREADS or the core count).
    let threads = rayon::current_num_threads();
    let count = (3 * threads).max(24);
    let dir = cli::tempdir();
    for i in 0..count {
        cli::write(dir.path(), &format!("slow{i:03}.lua"), slow_lua(i));
    }
    let root = dir.path().to_path_buf();
    let scan = within(120, move || {
        let options = WalkOptions { parse_budget: Duration::from_millis(500), ..WalkOptions::default() };
        walk::scan_from(&root, std::slice::from_ref(&root), &options).unwrap()
    });
    // Every file ran out of time: cut while parsing, or never parsed once the budget was spent.
    assert_eq!(scan.read_without_tree, count);
    // At most one parse per thread was running when the budget ran out; the rest never started.
    assert!(scan.parses_refused >= count - threads, "{} of {count} refused", scan.parses_refused);
    // The fallback still reads whole-line comments: no annotation is lost from these files.
    assert_eq!(scan.index.files().count(), count);
    assert_eq!(scan.index.files().map(|f| f.annotations().len()).sum::<usize>(), count);
}

#[test]
fn check_says_how_many_files_were_read_without_a_tree() {
    let dir = cli::tempdir();
    cli::write(dir.path(), "slow.lua", slow_lua(0));
    cli::write(dir.path(), "fine.lua", "local x = 1 -- @threat Fine (#fine)\n");
    let run = cli::run(dir.path(), &["check", "--no-cache", "--fail-on", "never", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("note: 1 file was read without a syntax tree, because parsing ran out of time"),
        "{}",
        run.stderr
    );
    // The file that parsed in time keeps its comment after code.
    assert!(run.stdout.contains("2 annotations"), "{}", run.stdout);
}
