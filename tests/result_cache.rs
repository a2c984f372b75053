//! `check`'s result cache through the CLI: a warm run on an unchanged tree replays the stored
//! output, notes and exit status byte for byte, and a change to any input of the run (a file's
//! content even with its size and mtime kept, a new or deleted file, an ignore file, the
//! configuration, a threat library, the risk policy, the pin file, every option that changes the
//! output, the date, the current directory, the binary) gives the cold run's output instead.
//!
//! A file whose `lstat` moved with its content kept (a `touch`) is the same input: the stored
//! result is replayed, and its new state stored once it is settled.
//!
//! Each change test first proves that the warm run replays: it replaces the stored report with
//! a marker (re-encoded, so the file validates), sees the marker printed, then makes the change
//! and expects the output of a `--no-cache` run, which must differ from the first output (so a
//! key without that input would print the marker and fail).

#[path = "support/cli.rs"]
mod support;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;
use threat_analyzer::cli::result_cache::{Content, FileState, decode, encode};

const MARKER: &str = "REPLAYED\n";

const APP: &str = "# @asset Shop.Db (#db)\n\
                   # @threat SQL injection (#sqli) [high] risk:L4xI5\n\
                   # @exposes #db to #sqli [high] risk:L4xI5\n\
                   # @exposes #db to #TL-INJ-001 [high] due:2026-06-01\n\
                   # @mitigates #db against #sqli using #prepared\n\
                   # @control Prepared statements (#prepared)\n";

const LIBRARY: &str = "version: 1\ncategories:\n  - id: INJ\n    name: Injection\n    threats:\n      \
                       - id: TL-INJ-001\n        name: SQL injection\n";

struct Project {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Project {
    /// A project whose files are older than the racy window when this returns.
    fn new() -> Project {
        let project = Project { dir: tempdir(), cache: tempdir() };
        write(project.root(), "app.py", APP);
        write(project.root(), "threat-library.yaml", LIBRARY);
        write(project.root(), "lib/plain.py", "def helper():\n    return 42\n");
        // Covered with `--coverage-scope file`, not with `symbol`.
        write(
            project.root(),
            "lib/scoped.py",
            "# @threat XSS (#xss)\ndef a():\n    # @exposes #db to #xss\n    pass\n\n\
             def b():\n    # @mitigates #db against #xss using #prepared\n    pass\n",
        );
        write(project.root(), ".gitignore", "ignored/\n");
        write(project.root(), "ignored/bad.py", "# @exposes #db to #nowhere\n");
        settle();
        project
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn run_in(&self, dir: &Path, args: &[&str]) -> Run {
        run_env(dir, args, &[("THREAT_ANALYZER_CACHE_DIR", self.cache.path().to_str().unwrap())])
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_in(self.root(), args)
    }

    fn results(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.cache.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "res"))
            .collect();
        files.sort();
        files
    }

    /// Replaces every stored report with [`MARKER`].
    fn mark(&self) {
        let files = self.results();
        assert!(!files.is_empty(), "no result stored");
        for file in files {
            let mut stored = decode(&std::fs::read(&file).unwrap()).expect("a stored result decodes");
            stored.report = MARKER.to_string();
            std::fs::write(&file, encode(&stored)).unwrap();
        }
    }
}

/// Moves the modification time of `rel` an hour back (its content and size kept; its change
/// time becomes now).
fn touch(project: &Project, rel: &str) {
    let path = project.root().join(rel);
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime - Duration::from_secs(3600))
        .unwrap();
}

/// Rewrites `rel` with `from` replaced by `to` (of the same length): the same size, another
/// content.
fn rewrite_same_size(project: &Project, rel: &str, from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let path = project.root().join(rel);
    let old = std::fs::read_to_string(&path).unwrap();
    assert!(old.contains(from), "{rel}: {old}");
    std::fs::write(&path, old.replace(from, to)).unwrap();
}

/// Sleeps past the racy window: files written before are settled.
fn settle() {
    std::thread::sleep(threat_analyzer::cache::RACY_WINDOW + Duration::from_millis(300));
}

fn same(a: &Run, b: &Run, what: &str) {
    assert_eq!((a.code, &a.stdout, &a.stderr), (b.code, &b.stdout, &b.stderr), "{what}");
}

/// Runs `args` (stored), checks that the next run replays, then applies `change` (which returns
/// the arguments to run after it) and expects the `--no-cache` output of those, which must
/// differ from the first.
fn change_is_seen(project: &Project, args: &[&str], change: impl FnOnce(&Project) -> Vec<String>) {
    let first = project.run(args);
    same(&project.run(args), &first, "warm = cold");
    project.mark();
    assert_eq!(project.run(args).stdout, MARKER, "the warm run replays");
    let after: Vec<String> = change(project);
    let after: Vec<&str> = after.iter().map(String::as_str).collect();
    let mut uncached = after.clone();
    uncached.push("--no-cache");
    let expected = project.run(&uncached);
    assert_ne!(
        (&expected.stdout, expected.code),
        (&first.stdout, first.code),
        "the change changes the result"
    );
    same(&project.run(&after), &expected, "after the change");
    same(&project.run(&after), &expected, "warm after the change");
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

const JSON: &[&str] = &["check", "--format", "json", "--today", "2026-01-01"];

#[test]
fn a_rewrite_keeping_size_and_mtime_is_seen() {
    let project = Project::new();
    change_is_seen(&project, JSON, |p| {
        let path = p.root().join("app.py");
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::fs::write(
            &path,
            APP.replace("#prepared\n#", "#preparez\n#").replace("using #prepared", "using #preparez"),
        )
        .unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), APP.len() as u64);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(mtime).unwrap();
        owned(JSON)
    });
}

#[test]
fn a_touched_file_replays_and_its_new_state_is_stored() {
    let project = Project::new();
    project.run(JSON);
    project.mark();
    touch(&project, "app.py");
    touch(&project, "lib/plain.py");
    assert_eq!(project.run(JSON).stdout, MARKER, "replayed while the touch is recent");
    settle();
    assert_eq!(project.run(JSON).stdout, MARKER, "replayed once the touch is settled");
    let stored = decode(&std::fs::read(&project.results()[0]).unwrap()).unwrap();
    for rel in ["app.py", "lib/plain.py"] {
        let path = project.root().join(rel);
        let input = stored.inputs.iter().find(|i| Path::new(&i.path) == path).unwrap();
        assert_eq!(input.state, FileState::of(&path), "{rel}: the new state is stored");
    }
    assert_eq!(stored.report, MARKER, "the refreshed result keeps its report");
    assert_eq!(project.run(JSON).stdout, MARKER, "the refreshed result replays");
    // A later change of the same size moves the ctime past the refreshed state: seen.
    let expected = {
        rewrite_same_size(&project, "app.py", "using #prepared", "using #preparez");
        project.run(&[JSON, &["--no-cache"]].concat())
    };
    assert_ne!(expected.stdout, MARKER);
    same(&project.run(JSON), &expected, "a change after the refresh");
}

/// A file the walk's prefilters turned away (no annotation literal) is vouched for by that
/// verdict, not by a digest: rewritten with the same size and still turned away, it gives the
/// run the same outcome and the result replays; rewritten to hold an annotation, it is seen.
#[test]
fn a_turned_away_file_is_vouched_for_by_the_prefilters_verdict() {
    let project = Project::new();
    let first = project.run(JSON);
    let stored = decode(&std::fs::read(&project.results()[0]).unwrap()).unwrap();
    let content = |rel: &str| {
        let path = project.root().join(rel);
        stored.inputs.iter().find(|i| Path::new(&i.path) == path).unwrap().content
    };
    assert_eq!(content("lib/plain.py"), Content::TurnedAway { binary: false });
    assert!(matches!(content("app.py"), Content::Digest(_)), "{:?}", content("app.py"));
    project.mark();
    rewrite_same_size(&project, "lib/plain.py", "return 42", "return 43");
    assert_eq!(project.run(JSON).stdout, MARKER, "still nothing to parse: replayed");
    rewrite_same_size(&project, "lib/plain.py", "def helper():", "# @asset Lib ");
    let expected = project.run(&[JSON, &["--no-cache"]].concat());
    assert_ne!(expected.stdout, first.stdout, "the new asset changes the result");
    same(&project.run(JSON), &expected, "now annotated");
}

/// A turned-away file that a sidecar anchors to is read again for the anchor: the run used
/// its text, so a digest vouches for it, and a rewrite that keeps it turned away is seen.
#[test]
fn a_turned_away_file_read_for_an_anchor_is_vouched_for_by_its_digest() {
    let project = Project::new();
    write(
        project.root(),
        ".guardlink/lib.gal",
        "@source file:lib/plain.py line:1 symbol:helper\n@asset Lib (#lib)\n",
    );
    settle();
    change_is_seen(&project, JSON, |p| {
        rewrite_same_size(p, "lib/plain.py", "def helper", "def helpur");
        owned(JSON)
    });
}

#[test]
fn a_touch_with_another_file_changed_is_seen() {
    let project = Project::new();
    change_is_seen(&project, JSON, |p| {
        touch(p, "lib/plain.py");
        rewrite_same_size(p, "app.py", "using #prepared", "using #preparez");
        owned(JSON)
    });
}

#[test]
fn touched_configuration_ignore_and_library_files_replay() {
    let project = Project::new();
    write(project.root(), "threatspec.yaml", "threat-analyzer:\n  risk:\n    owner-required-from: none\n");
    settle();
    let first = project.run(JSON);
    project.mark();
    for rel in ["threatspec.yaml", ".gitignore", "threat-library.yaml"] {
        touch(&project, rel);
        assert_eq!(project.run(JSON).stdout, MARKER, "{rel} touched");
    }
    // The same files changed with their sizes kept: each is seen.
    let changes = [
        ("threat-library.yaml", "TL-INJ-001", "TL-INJ-009"),
        (".gitignore", "ignored/", "nothing/"),
        ("threatspec.yaml", "from: none", "from: high"),
    ];
    for (rel, from, to) in changes {
        std::fs::remove_dir_all(project.cache.path()).unwrap();
        settle();
        project.run(JSON);
        project.mark();
        assert_eq!(project.run(JSON).stdout, MARKER, "{rel}: replays before the change");
        rewrite_same_size(&project, rel, from, to);
        let expected = project.run(&[JSON, &["--no-cache"]].concat());
        assert_ne!(expected.stdout, first.stdout, "{rel}: the change changes the result");
        same(&project.run(JSON), &expected, &format!("{rel} changed"));
        rewrite_same_size(&project, rel, to, from);
    }
}

#[test]
fn a_new_file_is_seen() {
    let project = Project::new();
    change_is_seen(&project, JSON, |p| {
        write(p.root(), "lib/new.py", "# @exposes #db to #nothing\n");
        owned(JSON)
    });
}

#[test]
fn a_deleted_file_is_seen() {
    let project = Project::new();
    change_is_seen(&project, JSON, |p| {
        std::fs::remove_file(p.root().join("app.py")).unwrap();
        owned(JSON)
    });
}

#[test]
fn an_ignore_file_change_is_seen() {
    let project = Project::new();
    change_is_seen(&project, JSON, |p| {
        write(p.root(), ".gitignore", "# nothing ignored\n");
        owned(JSON)
    });
}

/// An ignore file where the stored run found none (an absent input, which a warm run takes
/// from its own walk's reads instead of an `lstat`).
#[test]
fn a_new_ignore_file_in_a_subdirectory_is_seen() {
    let project = Project::new();
    change_is_seen(&project, JSON, |p| {
        write(p.root(), "lib/.gitignore", "scoped.py\n");
        owned(JSON)
    });
}

#[test]
fn a_new_configuration_is_seen() {
    let project = Project::new();
    change_is_seen(&project, JSON, |p| {
        write(p.root(), "threatspec.yaml", "paths:\n  - 'lib'\n");
        owned(JSON)
    });
}

#[test]
fn a_risk_policy_change_is_seen() {
    let project = Project::new();
    write(project.root(), "threatspec.yaml", "threat-analyzer:\n  risk:\n    owner-required-from: none\n");
    settle();
    change_is_seen(&project, JSON, |p| {
        write(p.root(), "threatspec.yaml", "threat-analyzer:\n  risk:\n    owner-required-from: low\n");
        owned(JSON)
    });
}

#[test]
fn a_threat_library_change_is_seen() {
    let project = Project::new();
    change_is_seen(&project, JSON, |p| {
        write(p.root(), "threat-library.yaml", LIBRARY.replace("TL-INJ-001", "TL-INJ-009"));
        owned(JSON)
    });
}

#[test]
fn a_pin_file_change_is_seen() {
    // Read by the run, not by the walk (an unknown language: skipped by name alone).
    let project = Project::new();
    write(project.root(), "mcp-tools.lock", b"\xff not UTF-8");
    settle();
    change_is_seen(&project, JSON, |p| {
        write(p.root(), "mcp-tools.lock", "not a pin file at all");
        owned(JSON)
    });
}

#[test]
fn every_option_that_changes_the_output_is_in_the_key() {
    let changed: &[&[&str]] = &[
        &["--severity", "overdue-risk=off"],
        &["--fail-on", "never"],
        &["--exclude", "app.py"],
        &["--include", "lib/**"],
        &["--max-file-size", "100"],
        &["--coverage-scope", "symbol"],
    ];
    let project = Project::new();
    for extra in changed {
        eprintln!("option {extra:?}");
        change_is_seen(&project, &["check", "--format", "human", "--today", "2026-12-31"], |_| {
            let mut args = owned(&["check", "--format", "human", "--today", "2026-12-31"]);
            args.extend(owned(extra));
            args
        });
        // Back to the first arguments' result for the next option.
        std::fs::remove_dir_all(project.cache.path()).unwrap();
    }
}

#[test]
fn the_date_is_in_the_key() {
    let project = Project::new();
    change_is_seen(&project, JSON, |_| owned(&["check", "--format", "json", "--today", "2026-12-31"]));
}

#[test]
fn the_current_directory_is_in_the_key() {
    let project = Project::new();
    let args = ["check", "--format", "json", "--today", "2026-01-01", "."];
    let first = project.run(&args);
    project.mark();
    assert_eq!(project.run(&args).stdout, MARKER);
    // The same arguments from another directory.
    let lib = project.root().join("lib");
    let expected = project.run_in(&lib, &[&args[..], &["--no-cache"]].concat());
    assert_ne!(expected.stdout, first.stdout);
    same(&project.run_in(&lib, &args), &expected, "from another directory");
}

#[test]
fn another_binary_does_not_replay() {
    let project = Project::new();
    let bins = tempdir();
    let copy = |name: &str| {
        let path = bins.path().join(name);
        std::fs::copy(bin(), &path).unwrap();
        path
    };
    let (old, new) = (copy("old"), copy("new"));
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let run_with = |binary: &Path, args: &[&str]| {
        let mut cmd = std::process::Command::new(binary);
        cmd.args(args).current_dir(project.root()).env("THREAT_ANALYZER_CACHE_DIR", project.cache.path());
        let (status, stdout, _) = finish(cmd, "copy", Duration::from_secs(60));
        (status.code(), stdout)
    };
    let first = run_with(&old, JSON);
    project.mark();
    assert_eq!(run_with(&old, JSON).1, MARKER, "the same binary replays");
    assert_eq!(run_with(&new, JSON), first, "another binary does not");
}

#[test]
fn the_exit_status_and_notes_are_replayed() {
    let project = Project::new();
    write(project.root(), "lib/large.py", format!("# {}\n", "x".repeat(1000)));
    settle();
    let args = [
        "check",
        "--format",
        "sarif",
        "--fail-on",
        "note",
        "--max-file-size",
        "900",
        "--today",
        "2026-01-01",
    ];
    let cold = project.run(&[&args[..], &["--no-cache"]].concat());
    assert_eq!(cold.code, 1, "{cold:?}");
    assert!(cold.stderr.contains("over the size limit"), "{cold:?}");
    same(&project.run(&args), &cold, "first cached run");
    assert_eq!(project.results().len(), 1);
    same(&project.run(&args), &cold, "replayed");
}

#[test]
fn no_cache_corrupt_and_linked_results_are_not_replayed() {
    let project = Project::new();
    let first = project.run(JSON);
    project.mark();
    assert_eq!(project.run(&[JSON, &["--no-cache"]].concat()).stdout, first.stdout, "--no-cache bypasses it");
    let file = project.results().remove(0);
    // A link to a valid (marked) result elsewhere is not followed.
    let elsewhere = tempdir();
    let target = elsewhere.path().join("planted.res");
    std::fs::rename(&file, &target).unwrap();
    std::os::unix::fs::symlink(&target, &file).unwrap();
    same(&project.run(JSON), &first, "through a link");
    // Corrupt bytes are ignored, and replaced by a valid result.
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, b"TARESLT\0garbage").unwrap();
    same(&project.run(JSON), &first, "corrupt");
    assert!(decode(&std::fs::read(&file).unwrap()).is_some(), "rewritten");
}

#[test]
fn recently_changed_inputs_are_not_stored() {
    let project = Project::new();
    write(project.root(), "lib/fresh.py", "x = 1\n");
    project.run(JSON);
    assert!(project.results().is_empty(), "a file changed within the racy window");
    settle();
    project.run(JSON);
    assert_eq!(project.results().len(), 1);
}

/// A file named on the command line through a symbolic link is read through it, and the
/// link's own `lstat` does not move when the target changes: such a run is not replayed.
#[test]
fn a_file_named_through_a_link_is_not_replayed_stale() {
    let project = Project::new();
    std::os::unix::fs::symlink("app.py", project.root().join("link.py")).unwrap();
    settle();
    let args = [JSON, &["link.py"]].concat();
    let first = project.run(&args);
    same(&project.run(&args), &first, "warm = cold");
    write(project.root(), "app.py", APP.replace("@mitigates", "@exposes"));
    let expected = project.run(&[&args[..], &["--no-cache"]].concat());
    assert_ne!(expected.stdout, first.stdout, "the change changes the result");
    same(&project.run(&args), &expected, "the target changed");
}

/// The state stored for each input (taken by the walk for walked files, without asking
/// again) is the file's `lstat`, after a cold run and after a replay that refreshed it.
#[test]
fn stored_states_are_the_inputs_lstat() {
    let project = Project::new();
    write(project.root(), "threatspec.yaml", "threat-analyzer:\n  risk:\n    owner-required-from: none\n");
    settle();
    let check_states = |what: &str| {
        let stored = decode(&std::fs::read(&project.results()[0]).unwrap()).unwrap();
        let root = std::fs::canonicalize(project.root()).unwrap();
        let under = stored.inputs.iter().filter(|i| Path::new(&i.path).starts_with(&root));
        let mut regular = 0;
        for input in under {
            let now = FileState::of(Path::new(&input.path));
            assert_eq!(input.state, now, "{what}: {}", input.path);
            regular += usize::from(input.content != Content::Unknown);
        }
        // app.py, lib/plain.py, lib/scoped.py, threat-library.yaml, .gitignore, threatspec.yaml.
        assert_eq!(regular, 6, "{what}: {:?}", stored.inputs);
    };
    project.run(JSON);
    check_states("cold");
    touch(&project, "app.py");
    settle();
    project.run(JSON);
    check_states("refreshed");
}

/// Warm = cold, byte for byte, on every CLI fixture in every format.
#[test]
fn warm_runs_print_what_cold_runs_print() {
    let fixtures = manifest_dir().join("tests/fixtures/cli");
    let copies = tempdir();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&fixtures).unwrap().flatten() {
        let name = entry.file_name().into_string().unwrap();
        copy_dir(&entry.path(), &copies.path().join(&name));
        names.push(name);
    }
    names.sort();
    settle();
    let cache = tempdir();
    let env = [("THREAT_ANALYZER_CACHE_DIR", cache.path().to_str().unwrap())];
    for name in &names {
        let dir = copies.path().join(name);
        for format in ["human", "json", "sarif"] {
            let args = ["check", "--format", format, "--today", "2026-01-01"];
            let cold = run_env(&dir, &[&args[..], &["--no-cache"]].concat(), &env);
            same(&run_env(&dir, &args, &env), &cold, &format!("{name} {format} first"));
            same(&run_env(&dir, &args, &env), &cold, &format!("{name} {format} warm"));
        }
    }
    let stored = std::fs::read_dir(cache.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "res"));
    assert_eq!(stored.count(), names.len() * 3, "one result per fixture and format");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
