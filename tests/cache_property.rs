//! Property: after any sequence of edits, additions, deletions, renames and same-second
//! rewrites, a scan that uses the index cache gives exactly the facts and the output (human,
//! JSON, SARIF) of a scan without it. The cache directory persists across the sequence, so
//! every step is a warm run on what the previous steps left (the library's walk, as `check`
//! and the language server's initial index use it).

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use threat_analyzer::analysis::Analysis;
use threat_analyzer::walk::{Scan, WalkOptions, scan_from};

/// Lines files are made of: definitions, relations in both dialects, flows, a sidecar-free
/// mix of what resolves, what dangles, syntax errors, non-ASCII names and plain code, and a
/// line that takes a syntax tree to read.
const LINES: &[&str] = &[
    "# @threat SQL injection (#sqli) [high]",
    "# @control Prepared statements (#prep)",
    "# @component App:Api",
    "# @exposes App:Api to SQL injection with user input",
    "# @exposes App.Api to #sqli",
    "# @mitigates App:Api against #sqli with #prep",
    "# @mitigates App.Api against #sqli using #prep",
    "# @accepts #xss on App.Web -- \"later\"",
    "# @flows User -> App.Api via HTTPS",
    "# @asset Zoë.Café (#cafe)",
    "# @exposes #cafe to #nope",
    "# @exposez App to #x",
    "# @mitigates",
    "def handler(): return 1  # @exposes App.Web to #xss",
    // Python 2's backtick repr: the lexer declines, so this file is read with a syntax tree
    // and its facts are stored in the cache (the others are parsed again).
    "s = `x`  # @mitigates App.Web against #xss using #prep",
    "x = 42",
    "",
];

/// What a step does to the project (indices pick among the files present, modulo their count).
#[derive(Clone, Debug)]
enum Op {
    /// Rewrites a file with new lines (a new, older-than-the-racy-window mtime).
    Edit(usize, Vec<usize>),
    /// Adds a file.
    Add(Vec<usize>),
    Delete(usize),
    /// Renames a file (its mtime moves with it).
    Rename(usize),
    /// Rewrites a file padded to a fixed size with a fixed mtime in the future: the same size
    /// and mtime as its previous racy write, as a rewrite within the timestamp granularity of
    /// the last scan looks (an mtime after the scan started is never trusted on stat alone).
    Racy(usize, Vec<usize>),
    /// Sets a file's mtime (content unchanged).
    Touch(usize),
}

fn lines() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0..LINES.len(), 0..6)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<usize>(), lines()).prop_map(|(i, l)| Op::Edit(i, l)),
        lines().prop_map(Op::Add),
        any::<usize>().prop_map(Op::Delete),
        any::<usize>().prop_map(Op::Rename),
        (any::<usize>(), lines()).prop_map(|(i, l)| Op::Racy(i, l)),
        any::<usize>().prop_map(Op::Touch),
    ]
}

const RACY_SIZE: usize = 400;

fn content(lines: &[usize], racy: bool) -> String {
    let mut text: String = lines.iter().map(|&i| format!("{}\n", LINES[i])).collect();
    if racy {
        while text.len() < RACY_SIZE {
            text.push('\n');
        }
    }
    text
}

struct World {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
    files: Vec<PathBuf>,
    next_name: usize,
    /// Seconds back from now for the next ordinary write: every write gets its own mtime.
    age: u64,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        World { dir, cache, files: Vec::new(), next_name: 0, age: 100_000 }
    }

    fn pick(&self, i: usize) -> Option<PathBuf> {
        (!self.files.is_empty()).then(|| self.files[i % self.files.len()].clone())
    }

    fn write(&mut self, path: &Path, text: &str, racy: bool) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        let when = if racy {
            SystemTime::now() + Duration::from_secs(3600)
        } else {
            self.age -= 1;
            SystemTime::now() - Duration::from_secs(self.age)
        };
        // Racy writes of one file all share one stamp (whole seconds, as coarse clocks give).
        let when = if racy {
            SystemTime::UNIX_EPOCH
                + Duration::from_secs(
                    when.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() / 3600 * 3600,
                )
        } else {
            when
        };
        std::fs::File::options().write(true).open(path).unwrap().set_modified(when).unwrap();
    }

    fn new_path(&mut self) -> PathBuf {
        self.next_name += 1;
        self.dir.path().join(format!("d{}/f{}.py", self.next_name % 3, self.next_name))
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Edit(i, l) => {
                if let Some(p) = self.pick(*i) {
                    self.write(&p, &content(l, false), false);
                }
            }
            Op::Add(l) => {
                let p = self.new_path();
                self.write(&p, &content(l, false), false);
                self.files.push(p);
            }
            Op::Delete(i) => {
                if let Some(p) = self.pick(*i) {
                    std::fs::remove_file(&p).unwrap();
                    self.files.retain(|f| *f != p);
                }
            }
            Op::Rename(i) => {
                if let Some(p) = self.pick(*i) {
                    let to = self.new_path();
                    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                    std::fs::rename(&p, &to).unwrap();
                    self.files.retain(|f| *f != p);
                    self.files.push(to);
                }
            }
            Op::Racy(i, l) => {
                if let Some(p) = self.pick(*i) {
                    self.write(&p, &content(l, true), true);
                }
            }
            Op::Touch(i) => {
                if let Some(p) = self.pick(*i) {
                    self.age -= 1;
                    let when = SystemTime::now() - Duration::from_secs(self.age);
                    std::fs::File::options().write(true).open(&p).unwrap().set_modified(when).unwrap();
                }
            }
        }
    }

    fn scan(&self, cache: bool) -> Scan {
        let options = WalkOptions {
            cache_dir: cache.then(|| self.cache.path().to_path_buf()),
            ..WalkOptions::default()
        };
        let mut scan = scan_from(self.dir.path(), &[PathBuf::from(".")], &options).unwrap();
        if let Some(saved) = scan.finish_cache() {
            saved.unwrap();
        }
        scan
    }
}

/// Everything a scan yields that a cache could get wrong: every file's facts and the three
/// report formats.
fn observed(scan: &Scan) -> String {
    use threat_analyzer::render;
    let index = &scan.index;
    let analysis = Analysis::new(index);
    let diagnostics = analysis.diagnostics(index);
    let summary = analysis.summary(index, &diagnostics, scan.files_scanned);
    let mut out = String::new();
    for facts in index.files() {
        out += &format!(
            "{} {:?} {:?} {:?} {:?} {:?} {:?} {:?}\n",
            facts.path.as_str(),
            facts.language,
            facts.parsed,
            facts.line_index(),
            facts.refs,
            facts.defs,
            facts.implicit_ids,
            facts.anchors
        );
    }
    out += &format!("{:?} {:?}\n", scan.scanned, scan.skipped);
    out += &render::human::render(index, &diagnostics, &summary, false, 100);
    out += &render::json::render(index, &diagnostics, &summary);
    out += &render::sarif::render(index, &diagnostics, &summary, &scan.root);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn warm_scans_match_cold_ones_after_any_edits(
        start in proptest::collection::vec(lines(), 1..6),
        steps in proptest::collection::vec(proptest::collection::vec(op(), 1..4), 1..6),
    ) {
        let mut world = World::new();
        for l in &start {
            world.apply(&Op::Add(l.clone()));
        }
        for step in &steps {
            for op in step {
                world.apply(op);
            }
            let warm = world.scan(true);
            let cold = world.scan(false);
            prop_assert_eq!(observed(&warm), observed(&cold), "after {:?}", steps);
        }
        // An unchanged tree is taken from the cache whole (the cache is really used).
        let again = world.scan(true);
        prop_assert_eq!(observed(&again), observed(&world.scan(false)));
        let used = again.cache.as_ref().unwrap();
        prop_assert!(used.load_error.is_none(), "{:?}", used.load_error);
        prop_assert_eq!(used.reused, used.files, "an unchanged tree is reused whole");
    }
}
