//! Times `vcs::GitRepository::snapshot`: writes a revision's files into a temporary directory
//! and prints how many and how long it took (benches/README.md, *Git snapshots*).
//!
//! `cargo run --release --example snapshot -- REPOSITORY [REV]` (REV defaults to `HEAD~1`).

use std::path::PathBuf;
use std::time::Instant;
use threat_analyzer::vcs::GitRepository;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let path = PathBuf::from(args.next().expect("usage: snapshot REPOSITORY [REV]"));
    let spec = args.next().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "HEAD~1".to_string());
    let start = Instant::now();
    let repo = GitRepository::discover(&path).unwrap_or_else(|e| panic!("{e}"));
    let revision = repo.resolve(&spec).unwrap_or_else(|e| panic!("{e}"));
    let resolved = start.elapsed();
    let snapshot = repo.snapshot(&revision).unwrap_or_else(|e| panic!("{e}"));
    let total = start.elapsed();
    let mut files = 0usize;
    let mut bytes = 0u64;
    let mut pending = vec![snapshot.root().to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                files += 1;
                bytes += entry.metadata().unwrap().len();
            }
        }
    }
    println!(
        "{} ({}): {files} files, {bytes} bytes, {} skipped; resolve {:.1} ms, snapshot {:.1} ms",
        revision.spec,
        &revision.commit[..12],
        snapshot.skipped().len(),
        resolved.as_secs_f64() * 1e3,
        (total - resolved).as_secs_f64() * 1e3,
    );
}
