//! Where `check --no-cache --format json` keeps its memory: runs the same steps through the
//! library (walk and parse, analysis, diagnostics, summary, JSON rendering) under a counting
//! allocator and prints, for each step, the bytes live after it and the peak during it
//! (benches/README.md, *Memory*). Live heap bytes, not resident memory: the allocator's own
//! overhead and the binary's pages come on top.
//!
//! `cargo run --release --example heap -- PATH [CACHE_DIR]`
//!
//! With CACHE_DIR the walk uses the index cache there (`check` without `--no-cache`: cold when
//! the directory holds no cache for PATH), and a last step waits for the cache writer.
//!
//! The allocator under the counter is the system's, so that heap profilers that replace
//! `malloc` (heaptrack, valgrind's massif) see every allocation of the run too:
//! `heaptrack target/release/examples/heap PATH`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use threat_analyzer::analysis::{Analysis, CoverageScope};
use threat_analyzer::walk::{self, WalkOptions};

/// The system allocator, counting the bytes live and the most ever live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static CALLS: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(live, Relaxed);
    CALLS.fetch_add(1, Relaxed);
}

// SAFETY: every call is passed on to `System` unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The live bytes `make`'s value holds, measured by the counter: called with a clone, a deep
/// size (exact capacities). Nothing else may allocate meanwhile (the cache writer is done).
fn deep<T>(make: impl FnOnce() -> T) -> usize {
    let before = LIVE.load(Relaxed);
    let value = make();
    let size = LIVE.load(Relaxed).saturating_sub(before);
    drop(value);
    size
}

/// Where the live heap of the index and the analysis is, part by part (each measured as the
/// bytes a clone of it allocates): what the issue asks to report before and after.
fn breakdown(index: &threat_analyzer::model::ProjectIndex, analysis: &Analysis) {
    use std::mem::size_of;
    let files: Vec<_> = index.files().collect();
    let sum = |part: &dyn Fn(&threat_analyzer::model::FileFacts) -> usize| -> usize {
        files.iter().map(|f| part(f)).sum()
    };
    // (The line indexes are made on first use: none in a run without findings.)
    let parts: [(&str, usize); 9] = [
        ("file texts", sum(&|f| f.text.heap_size())),
        ("annotations (AST)", sum(&|f| deep(|| f.parsed.annotations.clone()))),
        ("errors, MCP", sum(&|f| deep(|| (f.parsed.errors.clone(), f.parsed.mcp.clone())))),
        ("reference facts", sum(&|f| deep(|| f.refs.clone()))),
        ("definition sites", sum(&|f| deep(|| f.defs.clone()))),
        ("implicit ids", sum(&|f| deep(|| f.implicit_ids.clone()))),
        ("FileFacts + Arc", files.len() * (size_of::<threat_analyzer::model::FileFacts>() + 16)),
        ("index tables", deep(|| index.clone())),
        ("resolved refs", analysis.resolved.iter().map(|(_, r)| deep(|| (**r).clone()) + 16).sum()),
    ];
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    for (name, bytes) in parts {
        println!("  {name:<18} {:>8.1} MiB", mib(bytes));
    }
}

/// Prints one step: live bytes after it, its peak, and how many allocations it made.
fn step(name: &str, started_calls: usize) {
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    println!(
        "{name:<12} live after {:>8.1} MiB   peak during {:>8.1} MiB   allocations {:>9}",
        mib(LIVE.load(Relaxed)),
        mib(PEAK.load(Relaxed)),
        CALLS.load(Relaxed) - started_calls
    );
    PEAK.store(LIVE.load(Relaxed), Relaxed);
}

fn main() {
    let path = PathBuf::from(std::env::args_os().nth(1).expect("usage: heap PATH [CACHE_DIR]"));
    let cache_dir = std::env::args_os().nth(2).map(PathBuf::from);
    let calls = CALLS.load(Relaxed);
    let mut scan = walk::scan(&[path], &WalkOptions { cache_dir, ..WalkOptions::default() })
        .unwrap_or_else(|e| panic!("{e}"));
    let index = &scan.index;
    let (files, annotations) =
        (index.files().count(), index.files().map(|f| f.annotations().len()).sum::<usize>());
    let text: usize = index.files().map(|f| f.text.len()).sum();
    step("walk+parse", calls);
    let calls = CALLS.load(Relaxed);
    let analysis = Analysis::with_scope(index, CoverageScope::File);
    step("analysis", calls);
    let calls = CALLS.load(Relaxed);
    let policies = threat_analyzer::model::risk::Policies::one(scan.risk.clone());
    let diagnostics = analysis.diagnostics_with_risk(index, &policies, None, &[]);
    step("diagnostics", calls);
    let calls = CALLS.load(Relaxed);
    let summary = analysis.summary(index, &diagnostics, scan.files_scanned);
    step("summary", calls);
    let calls = CALLS.load(Relaxed);
    let report = threat_analyzer::render::json::render(index, &diagnostics, &summary);
    step("render json", calls);
    if scan.cache.is_some() {
        let calls = CALLS.load(Relaxed);
        let saved = scan.finish_cache();
        step("cache write", calls);
        println!(
            "cache: {}",
            match saved {
                None => "unchanged".to_string(),
                Some(Ok(())) => "written".to_string(),
                Some(Err(e)) => format!("not written: {e}"),
            }
        );
    }
    println!(
        "{files} annotated files, {annotations} annotations, {:.1} MiB of their text, {} diagnostics, {:.1} MiB of JSON",
        text as f64 / (1024.0 * 1024.0),
        diagnostics.len(),
        report.len() as f64 / (1024.0 * 1024.0)
    );
    breakdown(&scan.index, &analysis);
    use std::mem::size_of;
    println!(
        "sizes: Annotation {} B, RefFact {} B, DefSite {} B, Resolved {} B, Diagnostic {} B, FileFacts {} B",
        size_of::<threat_analyzer::syntax::Annotation>(),
        size_of::<threat_analyzer::model::RefFact>(),
        size_of::<threat_analyzer::model::DefSite>(),
        size_of::<threat_analyzer::model::Resolved>(),
        size_of::<threat_analyzer::diagnostic::Diagnostic>(),
        size_of::<threat_analyzer::model::FileFacts>(),
    );
}
