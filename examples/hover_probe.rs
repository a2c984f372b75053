//! Hover timings on a project: the first and a repeated hover at every entity reference of one
//! file, on one analysis and again after an edit of that file that keeps the resolution tables
//! (what the language server does after a keystroke). Release build:
//!
//! `cargo run --release --example hover_probe -- SRC_DIR FILE_KEY`
//!
//! Under callgrind, only the hovers are of interest: `--toggle-collect=*hover_probe*hovers*`.

use std::sync::Arc;
use std::time::Instant;
use threat_analyzer::analysis::Analysis;
use threat_analyzer::analysis::ide::risk::hover;
use threat_analyzer::model::risk::Policies;
use threat_analyzer::model::{FileFacts, ProjectIndex};
use threat_analyzer::walk::{self, WalkOptions};

#[inline(never)]
fn hovers(index: &ProjectIndex, analysis: &Analysis, policies: &Policies, file: &str, label: &str) -> usize {
    let facts = index.file(file).expect("the file is annotated").clone();
    let mut total = 0;
    for (i, refs) in facts.refs.iter().enumerate() {
        for (j, r) in refs.iter().enumerate() {
            let at = (r.range.start() + r.range.end()) / 2;
            for pass in ["first", "again"] {
                let t = Instant::now();
                let info = hover(index, analysis, policies, file, at);
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                let len = info.as_ref().map_or(0, |h| h.markdown.len());
                total += len;
                println!(
                    "{label} {pass:5} ann {i:2} arg {j} {:<40} {ms:8.3} ms {len:6} B",
                    facts.slice(r.range)
                );
            }
        }
    }
    total
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = std::path::PathBuf::from(args.next().expect("usage: hover_probe SRC_DIR FILE_KEY"));
    let file = args.next().expect("usage: hover_probe SRC_DIR FILE_KEY");
    let scan = walk::scan(&[path], &WalkOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut index = scan.index;
    let policies = Policies::one(scan.risk.clone());
    let t = Instant::now();
    let analysis = Analysis::new(&index);
    println!("analysis {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    analysis.mentions(&index);
    println!("mentions {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    analysis.risk_tables(&index);
    println!("risk tables {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    let mut total = hovers(&index, &analysis, &policies, &file, "a0");
    // An edit that keeps the tables: a character appended to the file's last line.
    let old = index.file(&file).unwrap().clone();
    let text: Arc<str> = format!("{}\n// x\n", old.text()).into();
    index.set_file(Arc::new(FileFacts::new(old.path.clone(), old.language, text)));
    let t = Instant::now();
    let edited = Analysis::update(Some(&analysis), &index);
    println!("update {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    total += hovers(&index, &edited, &policies, &file, "a1");
    println!("total {total} B");
}
