//! Several threads asking one analysis for its findings at once, as the language server's
//! requests and its diagnostics task do: every call returns, with the same findings.
//!
//! `Analysis::diagnostics_with_risk` once ran its two halves as a `rayon::join`; a pool thread
//! then could wait on the diagnostics' `OnceLock` while initialising it lower on its own stack
//! (it stole another caller's half while it waited for a piece of the initialisation), and the
//! language server stopped answering. A hang here is the failure: a watchdog ends the process
//! with a message rather than let the test run forever.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use threat_analyzer::analysis::Analysis;
use threat_analyzer::model::risk::Policies;

#[test]
fn concurrent_findings_of_one_analysis_all_return_alike() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/webshop");
    let scan = threat_analyzer::walk::scan_from(&root, std::slice::from_ref(&root), &Default::default())
        .expect("the webshop example scans");
    let index = Arc::new(scan.index);
    let expected = Analysis::new(&index).diagnostics_with_risk(&index, &Policies::default(), None, &[]);
    assert!(!expected.is_empty(), "the webshop example has findings");

    let rounds = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watchdog = {
            let done = done.clone();
            let rounds = &rounds;
            scope.spawn(move || {
                let mut last = (0, std::time::Instant::now());
                while !done.load(Ordering::Acquire) {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    let now = rounds.load(Ordering::Acquire);
                    if now != last.0 {
                        last = (now, std::time::Instant::now());
                    } else if last.1.elapsed() > std::time::Duration::from_secs(120) {
                        eprintln!("no call returned for 120 s after {now} rounds: deadlocked");
                        std::process::abort();
                    }
                }
            })
        };
        for _ in 0..200 {
            // A new analysis each round: its parts are computed by whichever call comes first.
            let analysis = Analysis::new(&index);
            let results: Vec<_> = std::thread::scope(|inner| {
                let calls: Vec<_> = (0..4)
                    .map(|_| {
                        inner
                            .spawn(|| analysis.diagnostics_with_risk(&index, &Policies::default(), None, &[]))
                    })
                    .collect();
                calls.into_iter().map(|c| c.join().expect("a call panicked")).collect()
            });
            for found in results {
                assert_eq!(found, expected);
            }
            rounds.fetch_add(1, Ordering::Release);
        }
        done.store(true, Ordering::Release);
        watchdog.join().expect("the watchdog");
    });
}
