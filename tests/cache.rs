//! The on-disk index cache through the CLI: a warm `check` reports exactly what a cold one
//! does, after edits, touches, deletions, racy rewrites, corrupt cache files and concurrent
//! writers; `--no-cache` neither reads nor writes it. `--verbose` says how the cache was used,
//! which shows that the warm runs really take their results from it.

#[path = "support/cli.rs"]
mod support;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use support::*;
use threat_analyzer::cache;

const THREATS: &str = "# @threat SQL injection (#sqli) [high]\n# @control Prepared statements (#prep)\n";
const EXPOSED: &str = "def handler():\n    # @exposes App.Api to #sqli with user input\n    pass\n";
const PLAIN: &str = "def helper():\n    return 42\n";

/// A project with annotated, plain and binary files, all last modified a minute ago (outside
/// the racy window, so their entries are trusted on size and mtime).
struct Project {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let project = Project { dir: tempdir(), cache: tempdir() };
        project.write("threats.py", THREATS);
        project.write("api/handler.py", EXPOSED);
        for i in 0..5 {
            project.write(&format!("lib/plain_{i}.py"), PLAIN);
        }
        project.write("lib/blob.py", b"\0\x01binary");
        project
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file and dates it a minute back.
    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = write(self.root(), rel, bytes);
        set_mtime(&path, SystemTime::now() - Duration::from_secs(60));
        path
    }

    fn check(&self, extra: &[&str]) -> Run {
        let cache = self.cache.path().to_str().unwrap();
        let mut args = vec!["check", "--format", "json", "--fail-on", "never", "--verbose"];
        args.extend_from_slice(extra);
        let r = run_env(self.root(), &args, &[("THREAT_ANALYZER_CACHE_DIR", cache)]);
        assert_eq!(r.code, 0, "{r:?}");
        r
    }

    /// Output of a run that uses no cache at all: what every cached run must print.
    fn expected(&self) -> String {
        self.check(&["--no-cache"]).stdout
    }

    fn cache_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.cache.path())
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }

    fn cache_file(&self) -> PathBuf {
        let files = self.cache_files();
        assert_eq!(files.len(), 1, "{files:?}");
        files[0].clone()
    }
}

fn set_mtime(path: &Path, when: SystemTime) {
    std::fs::File::options().write(true).open(path).unwrap().set_modified(when).unwrap();
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

/// The `cache:` lines of a `--verbose` run, without the prefix and the cache file's name.
fn cache_lines(r: &Run) -> Vec<&str> {
    r.stderr
        .lines()
        .filter_map(|l| l.strip_prefix("cache: "))
        .map(|l| l.split_once(".idx: ").map_or(l, |x| x.1))
        .collect()
}

#[test]
fn warm_runs_reuse_everything_and_print_the_same() {
    let p = Project::new();
    let expected = p.expected();
    assert!(p.cache_files().is_empty(), "--no-cache wrote a cache");

    let cold = p.check(&[]);
    assert_eq!(cold.stdout, expected);
    assert_eq!(cache_lines(&cold), ["none yet", "written"]);

    let warm = p.check(&[]);
    assert_eq!(warm.stdout, expected);
    // Only the two annotated files are read; the binary one is skipped from the cache too.
    // Read a second time unchanged, their parse results are stored now (see the next test).
    assert_eq!(cache_lines(&warm), ["reused 8 of 8 files (6 not read)", "written"]);
    assert_eq!(warm.stderr.matches("skipped lib/blob.py: binary").count(), 1, "{}", warm.stderr);
    let warmer = p.check(&[]);
    assert_eq!(warmer.stdout, expected);
    assert_eq!(cache_lines(&warmer), ["reused 8 of 8 files (6 not read)", "unchanged"]);
}

#[test]
fn edits_touches_and_deletions_are_seen() {
    let p = Project::new();
    p.check(&[]);

    // A plain file gains an annotation (new size and mtime).
    let unmitigated = p.check(&[]).stdout;
    assert!(unmitigated.contains("unmitigated-exposure"), "{unmitigated}");
    p.write("lib/plain_0.py", format!("{PLAIN}# @mitigates App.Api against #sqli using #prep\n"));
    let edited = p.check(&[]);
    assert_eq!(edited.stdout, p.expected());
    assert!(!edited.stdout.contains("unmitigated-exposure"), "{}", edited.stdout);
    assert_eq!(cache_lines(&edited), ["reused 7 of 8 files (5 not read)", "written"]);

    // An annotated file is rewritten with the same size and the same mtime: its hash decides.
    let handler = p.root().join("api/handler.py");
    let before = mtime(&handler);
    std::fs::write(&handler, EXPOSED.replace("App.Api", "App.Web")).unwrap();
    set_mtime(&handler, before);
    let same_stat = p.check(&[]);
    assert_eq!(same_stat.stdout, p.expected());
    assert!(same_stat.stdout.contains("App.Web"), "{}", same_stat.stdout);

    // Touched, content unchanged: read once to verify, and the new mtime is stored.
    let plain = p.root().join("lib/plain_1.py");
    set_mtime(&plain, SystemTime::now() - Duration::from_secs(30));
    let touched = p.check(&[]);
    assert_eq!(touched.stdout, p.expected());
    assert_eq!(cache_lines(&touched), ["reused 8 of 8 files (4 not read)", "written"]);
    assert_eq!(cache_lines(&p.check(&[])), ["reused 8 of 8 files (5 not read)", "unchanged"]);

    // An annotated file touched, content unchanged: it is read and verified on every run
    // anyway, so its entry stays as it is and nothing is rewritten.
    let cache_before = std::fs::read(p.cache_file()).unwrap();
    set_mtime(&p.root().join("threats.py"), SystemTime::now() - Duration::from_secs(20));
    let touched = p.check(&[]);
    assert_eq!(touched.stdout, p.expected());
    assert_eq!(cache_lines(&touched), ["reused 8 of 8 files (5 not read)", "unchanged"]);
    assert_eq!(std::fs::read(p.cache_file()).unwrap(), cache_before);

    // Deleted: gone from the output and from the cache.
    std::fs::remove_file(&plain).unwrap();
    let deleted = p.check(&[]);
    assert_eq!(deleted.stdout, p.expected());
    assert_eq!(cache_lines(&deleted), ["reused 7 of 7 files (4 not read)", "written"]);
    std::fs::remove_file(p.root().join("api/handler.py")).unwrap();
    let deleted = p.check(&[]);
    assert_eq!(deleted.stdout, p.expected());
    assert!(!deleted.stdout.contains("handler.py"), "{}", deleted.stdout);
}

/// The racy-git case: a file rewritten after it was scanned with the same size and the same
/// mtime, when that mtime was not safely older than the scan, must not hide behind its entry.
/// (An mtime in the future stands for "modified during the scan" without timing the test.)
#[test]
fn files_changed_within_the_racy_window_are_verified() {
    let p = Project::new();
    let annotated = "# @exposes App.Api to #sqli with a racy rewrite\n";
    let plain = format!("x = 1  # {}\n", ".".repeat(annotated.len() - 10));
    assert_eq!(plain.len(), annotated.len());
    let fresh = write(p.root(), "lib/fresh.py", &plain);
    let stamp = SystemTime::now() + Duration::from_secs(600);
    set_mtime(&fresh, stamp);
    let first = p.check(&[]);
    assert!(!first.stdout.contains("fresh.py"), "{}", first.stdout);
    // Same size, same mtime, now annotated.
    std::fs::write(&fresh, annotated).unwrap();
    set_mtime(&fresh, stamp);
    let r = p.check(&[]);
    assert_eq!(r.stdout, p.expected());
    assert!(r.stdout.contains("fresh.py"), "{}", r.stdout);
    // Files safely older than their last scan are trusted; this one is read every time.
    assert_eq!(cache_lines(&r)[0], "reused 8 of 9 files (6 not read)");
    assert_eq!(mtime(&fresh), stamp);
}

#[test]
fn corrupt_truncated_and_foreign_caches_are_ignored_and_rebuilt() {
    let p = Project::new();
    let expected = p.expected();
    p.check(&[]);
    let file = p.cache_file();
    let good = std::fs::read(&file).unwrap();

    let mut damaged: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("garbage".into(), b"not a cache at all".to_vec()),
        ("header only".into(), good[..20].to_vec()),
        ("truncated by one byte".into(), good[..good.len() - 1].to_vec()),
        ("half".into(), good[..good.len() / 2].to_vec()),
    ];
    for at in [0, 9, good.len() / 3, good.len() / 2, good.len() - 1] {
        let mut flipped = good.clone();
        flipped[at] ^= 0x10;
        damaged.push((format!("bit flipped at byte {at}"), flipped));
    }
    for (what, bytes) in damaged {
        std::fs::write(&file, &bytes).unwrap();
        let r = p.check(&[]);
        assert_eq!(r.stdout, expected, "{what}");
        let lines = cache_lines(&r);
        assert!(lines[0].starts_with("ignored ("), "{what}: {lines:?}");
        assert_eq!(lines[1], "written", "{what}");
        // Rebuilt: the next run uses it.
        assert_eq!(cache_lines(&p.check(&[]))[0], "reused 8 of 8 files (6 not read)", "{what}");
    }
}

#[test]
fn concurrent_checks_share_one_cache_safely() {
    let p = Project::new();
    for i in 0..20 {
        p.write(
            &format!("svc/s{i}.py"),
            format!("# @exposes App.S{i} to #sqli\n# @mitigates App.S{i} against #sqli using #prep\n"),
        );
    }
    for round in 0..3 {
        // Every round changes a file, so every process has something to write.
        p.write("svc/s0.py", format!("# @exposes App.S0 to #sqli\n# round {round}\n"));
        let expected = p.expected();
        let runs: Vec<_> = (0..4)
            .map(|_| {
                let (root, cache) = (p.root().to_path_buf(), p.cache.path().to_str().unwrap().to_string());
                std::thread::spawn(move || {
                    run_env(
                        &root,
                        &["check", "--format", "json", "--fail-on", "never"],
                        &[("THREAT_ANALYZER_CACHE_DIR", &cache)],
                    )
                })
            })
            .collect();
        for r in runs {
            let r = r.join().unwrap();
            assert_eq!(r.code, 0, "{r:?}");
            assert_eq!(r.stdout, expected, "round {round}");
        }
        let after = p.check(&[]);
        assert_eq!(after.stdout, expected);
        assert!(cache_lines(&after)[0].starts_with("reused 28 of 28"), "{:?}", cache_lines(&after));
    }
    let leftovers: Vec<_> =
        p.cache_files().into_iter().filter(|f| f.extension().is_none_or(|e| e != "idx")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn no_cache_is_accepted_by_every_scanning_command_and_writes_nothing() {
    let p = Project::new();
    let cache = p.cache.path().to_str().unwrap();
    let out = p.root().join("out");
    let out = out.to_str().unwrap();
    for args in [
        vec!["dfd", "--no-cache", "-o", out],
        vec!["report", "--no-cache", "-o", out],
        vec!["export", "--format", "json", "--no-cache", "-o", out],
    ] {
        let r = run_env(p.root(), &args, &[("THREAT_ANALYZER_CACHE_DIR", cache)]);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
    }
    assert!(p.cache_files().is_empty(), "{:?}", p.cache_files());
    // Without the flag they use it.
    let r = run_env(p.root(), &["dfd", "-o", out], &[("THREAT_ANALYZER_CACHE_DIR", cache)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(p.cache_files().len(), 1);
}

#[test]
fn the_cache_lives_outside_the_workspace() {
    let p = Project::new();
    let before: Vec<_> = walk(p.root());
    p.check(&[]);
    p.check(&[]);
    assert_eq!(walk(p.root()), before, "check wrote into the workspace");
    assert!(!p.cache_file().starts_with(p.root()));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out.sort();
    out
}

/// Issue 12 item 16: a cache file planted in a shared cache directory as a link (to
/// `/dev/zero`, to `/proc/self/pagemap`, to another file) or as a file over the size limit is
/// not read (the check runs under a 512 MiB memory cap), a note says so, and the cache is
/// rebuilt in its place (the link itself replaced, its target untouched).
#[cfg(target_os = "linux")]
#[test]
fn linked_and_oversized_cache_files_are_not_read() {
    let p = Project::new();
    let expected = p.expected();
    p.check(&[]);
    let file = p.cache_file();
    let elsewhere = p.cache.path().join("elsewhere");
    let cache = p.cache.path().to_str().unwrap();
    for planted in ["/dev/zero", "/proc/self/pagemap", "elsewhere", "oversized"] {
        std::fs::remove_file(&file).unwrap();
        std::fs::write(&elsewhere, b"not a cache").unwrap();
        let why = if planted == "oversized" {
            // Sparse: over the limit by its size, without using the disk.
            let f = std::fs::File::create(&file).unwrap();
            f.set_len(threat_analyzer::limits::MAX_CACHE_FILE_SIZE + 1).unwrap();
            format!(
                "too large ({} bytes, limit {})",
                threat_analyzer::limits::MAX_CACHE_FILE_SIZE + 1,
                threat_analyzer::limits::MAX_CACHE_FILE_SIZE
            )
        } else {
            std::os::unix::fs::symlink(planted, &file).unwrap();
            "symbolic link (not followed)".to_string()
        };
        let args = ["check", "--format", "json", "--fail-on", "never", "--verbose"];
        let r = run_wrapped(
            p.root(),
            &["prlimit", "--as=536870912", "--"],
            &args,
            &[("THREAT_ANALYZER_CACHE_DIR", cache)],
        );
        assert_eq!((r.code, &r.stdout), (0, &expected), "{planted}: {r:?}");
        let note =
            format!("threat-analyzer: note: index cache {}: not read: {why} (rebuilt)", file.display());
        assert!(r.stderr.lines().any(|l| l == note), "{planted}: {r:?}");
        assert_eq!(cache_lines(&r), [format!("not read: {why}").as_str(), "written"], "{planted}");
        assert!(std::fs::symlink_metadata(&file).unwrap().is_file(), "{planted}: the cache is a file again");
        assert_eq!(
            std::fs::read(&elsewhere).unwrap(),
            b"not a cache",
            "{planted}: the link's target is untouched"
        );
        assert_eq!(cache_lines(&p.check(&[]))[0], "reused 8 of 8 files (6 not read)", "{planted}");
    }
}

/// Issue 12 item 11: the cache holds every checked project's paths and annotations, so its
/// directory is created 0700 and its files 0600; the default directory, which only this tool
/// uses, is tightened when an earlier version left it open; a directory set with
/// `THREAT_ANALYZER_CACHE_DIR` is left as it is (it may be shared on purpose).
#[cfg(unix)]
#[test]
fn cache_directory_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempdir();
    write(dir.path(), "project/threats.py", THREATS);
    let project = dir.path().join("project");
    let check = |env: &[(&str, &str)]| {
        let r = run_env(&project, &["check", "--fail-on", "never"], env);
        assert_eq!(r.code, 0, "{r:?}");
    };
    // Created by the run: private, parents included.
    let created = dir.path().join("new/cache");
    check(&[("THREAT_ANALYZER_CACHE_DIR", created.to_str().unwrap())]);
    assert_eq!((mode(&created), mode(created.parent().unwrap())), (0o700, 0o700));
    let files: Vec<_> = std::fs::read_dir(&created).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(mode(&files[0]), 0o600);
    // The default directory, left 0755 by an earlier version: tightened.
    let xdg = dir.path().join("xdg");
    std::fs::create_dir_all(xdg.join("threat-analyzer")).unwrap();
    std::fs::set_permissions(xdg.join("threat-analyzer"), std::fs::Permissions::from_mode(0o755)).unwrap();
    check(&[("THREAT_ANALYZER_CACHE_DIR", ""), ("XDG_CACHE_HOME", xdg.to_str().unwrap())]);
    assert_eq!(mode(&xdg.join("threat-analyzer")), 0o700);
    assert_eq!(mode(&xdg), 0o755, "a parent that existed is not the tool's to change");
    // A directory chosen with the variable: as it was.
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o750)).unwrap();
    check(&[("THREAT_ANALYZER_CACHE_DIR", shared.to_str().unwrap())]);
    assert_eq!(mode(&shared), 0o750);
    let files: Vec<_> = std::fs::read_dir(&shared).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(files.iter().map(|f| mode(f)).collect::<Vec<_>>(), [0o600]);
}

/// Only a file whose outcome took parsing is hashed: the files the walk's prefilters turn
/// away (binary; no annotation literal) are stored without a hash, as the module docs say.
#[test]
fn only_files_that_were_parsed_are_hashed() {
    let (root, cache_dir) = (tempdir(), tempdir());
    let (root, cache_dir) = (root.path(), cache_dir.path().to_path_buf());
    let files: [(&str, &[u8], Option<cache::Outcome>, bool); 4] = [
        ("plain.py", b"def helper():\n    return 42\n", Some(cache::Outcome::NoAnnotations), false),
        ("blob.py", b"\0\x01binary", Some(cache::Outcome::Binary), false),
        ("annotated.py", b"# @threat SQL injection (#sqli)\n", Some(cache::Outcome::ParseAgain), true),
        // Passes the prefilter, and parsing finds nothing (the literal is not in a comment).
        ("quoted.py", b"x = '@threat'\n", Some(cache::Outcome::NoAnnotations), true),
    ];
    for (name, bytes, ..) in &files {
        std::fs::write(root.join(name), bytes).unwrap();
    }
    let options =
        threat_analyzer::walk::WalkOptions { cache_dir: Some(cache_dir.clone()), ..Default::default() };
    let mut scan = threat_analyzer::walk::scan_from(root, &[], &options).unwrap();
    scan.finish_cache().unwrap().unwrap();
    let loaded = cache::load(&cache_dir, root).unwrap();
    assert_eq!(loaded.len(), files.len());
    for (name, bytes, outcome, hashed) in &files {
        let record = loaded.records().find(|r| r.path.ends_with(&format!("/{name}"))).unwrap();
        if let Some(outcome) = outcome {
            assert_eq!(&record.outcome, outcome, "{name}");
        }
        assert_eq!(record.hash, hashed.then(|| cache::content_hash(bytes)), "{name}");
    }
}

/// A first run stores a file's parse result only when finding its comments took a syntax tree
/// (the byte-level lexer declined), which costs ~100 times what lexing does; a file the lexer
/// read is stored without one (`ParseAgain`): encoding every file's facts cost a first run
/// (CI's, on a fresh machine) ~5%. Read again unchanged, it is parsed again and its result
/// stored then, to be decoded from the next run on. Every run gives what a run without the
/// cache gives, and a run that changes nothing leaves the cache file as it was.
#[test]
fn parse_results_are_stored_for_trees_at_once_and_for_lexed_files_when_read_again() {
    let p = Project::new();
    // A backtick (Python 2's repr) makes the Python lexer decline: tree-sitter reads this file.
    p.write("legacy.py", "s = `x`\n# @mitigates App.Api against #sqli using #prep\n");

    // What the library's walk stores (the CLI's cache files are of another build).
    let cache_dir = tempdir();
    let options =
        threat_analyzer::walk::WalkOptions { cache_dir: Some(cache_dir.path().into()), ..Default::default() };
    let stored = |lexed_outcome: fn(&cache::Outcome) -> bool| {
        let mut scan = threat_analyzer::walk::scan_from(p.root(), &[], &options).unwrap();
        scan.finish_cache().unwrap().unwrap();
        let loaded = cache::load(cache_dir.path(), p.root()).unwrap();
        let outcome = |name: &str| {
            let record =
                loaded.records().find(|r| r.path.ends_with(name)).unwrap_or_else(|| panic!("{name}"));
            (record.outcome.clone(), loaded.blob(record).is_some())
        };
        assert!(
            matches!(outcome("/legacy.py"), (cache::Outcome::Parsed { .. }, true)),
            "{:?}",
            outcome("/legacy.py")
        );
        for lexed in ["/threats.py", "/api/handler.py"] {
            let (outcome, blob) = outcome(lexed);
            assert!(
                lexed_outcome(&outcome) && blob == matches!(outcome, cache::Outcome::Parsed { .. }),
                "{lexed}: {outcome:?}"
            );
        }
    };
    stored(|o| *o == cache::Outcome::ParseAgain);
    stored(|o| matches!(o, cache::Outcome::Parsed { .. }));

    // Through the CLI: every run gives what a run without the cache gives.
    let expected = p.expected();
    assert_eq!(p.check(&[]).stdout, expected);
    let second = p.check(&[]);
    assert_eq!(second.stdout, expected);
    assert_eq!(cache_lines(&second), ["reused 9 of 9 files (6 not read)", "written"]);
    let cache_bytes = std::fs::read(p.cache_file()).unwrap();
    let third = p.check(&[]);
    assert_eq!(third.stdout, expected);
    assert_eq!(cache_lines(&third), ["reused 9 of 9 files (6 not read)", "unchanged"]);
    assert_eq!(std::fs::read(p.cache_file()).unwrap(), cache_bytes);

    // Edited, both kinds are parsed again and stored by the same rule.
    p.write("legacy.py", "s = `x`\n# @mitigates App.Web against #sqli using #prep\n");
    p.write("api/handler.py", EXPOSED.replace("App.Api", "App.Web"));
    let expected = p.expected();
    let edited = p.check(&[]);
    assert_eq!(edited.stdout, expected);
    assert_eq!(cache_lines(&edited), ["reused 7 of 9 files (6 not read)", "written"]);
    assert_eq!(p.check(&[]).stdout, expected);
    assert_eq!(p.check(&[]).stdout, expected);
}
