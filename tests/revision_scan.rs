//! `revision_scan`: a revision scanned from only what differs from the working tree gives the
//! index the whole revision gives, and it is scanned whole whenever the rules could differ.
//! Real repositories built with the `git` program in temporary directories.

#[path = "support/git.rs"]
mod git;

use git::GitRepo;
use std::path::{Path, PathBuf};
use threat_analyzer::model::ProjectIndex;
use threat_analyzer::revision_scan::{self, RevisionScan, Way, WorkingTree};
use threat_analyzer::vcs::{GitRepository, Revision};
use threat_analyzer::walk::{self, WalkOptions};

/// Everything a comparison reads from an index: the model, the diagnostics (`stale-anchor`
/// says what an anchor's file held) and the anchor texts.
fn described(index: &ProjectIndex) -> String {
    let diagnostics: Vec<String> = threat_analyzer::analysis::diagnostics(index)
        .iter()
        .map(|d| format!("{} {:?} {} {}", d.file, d.range, d.code.as_str(), d.message))
        .collect();
    let anchors: Vec<String> =
        index.anchored_keys().iter().map(|k| format!("{k}: {:?}", index.anchor_text(k.as_str()))).collect();
    format!("{}\n--\n{}\n--\n{}", index.dump(), diagnostics.join("\n"), anchors.join("\n"))
}

/// The base revision `HEAD` scanned both ways, with the working tree as it is now.
fn both_ways(repo: &GitRepo, paths: &[&str]) -> (RevisionScan, RevisionScan) {
    let git = GitRepository::discover(repo.path()).unwrap();
    let revision: Revision = git.resolve("HEAD").unwrap();
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let options = WalkOptions::default();
    let working = walk::scan_from(&git.real_workdir(), &paths, &options).unwrap();
    let whole = revision_scan::scan_revision(&git, &revision, Path::new(""), &paths, &options, None).unwrap();
    let changes = revision_scan::scan_revision(
        &git,
        &revision,
        Path::new(""),
        &paths,
        &options,
        Some(WorkingTree { scan: &working }),
    )
    .unwrap();
    assert!(matches!(whole.way, Way::Whole(_)));
    (whole, changes)
}

fn write(repo: &GitRepo, path: &str, text: &str) {
    let path = repo.path().join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn annotated(asset: &str) -> String {
    format!(
        "# @asset {asset} (#{})\n# @threat Leak of {asset} (#leak-{}) [high]\n# @exposes #{} to #leak-{}\n",
        asset.to_lowercase(),
        asset.to_lowercase(),
        asset.to_lowercase(),
        asset.to_lowercase()
    )
}

/// A repository with annotated files in several directories, an ignored file committed
/// anyway, a hidden directory, plain text, a binary file, a `.gal` sidecar anchored to files
/// that are and are not annotated.
fn project() -> GitRepo {
    let repo = GitRepo::new();
    repo.commit(
        "project",
        &[
            (".gitignore", "generated/\n"),
            ("app/orders.py", &annotated("Orders")),
            ("app/users.py", &annotated("Users")),
            ("app/plain.py", "print('no annotations here')\n"),
            ("lib/deep/store.rb", &annotated("Store")),
            ("lib/keep.py", &annotated("Keep")),
            ("gone/old.py", &annotated("Old")),
            (".hidden/secret.py", &annotated("Hidden")),
            ("notes.txt", "@threat Notes threat (#notes)\n"),
            (
                ".guardlink/anchors.gal",
                "@source file:app/plain.py line:1 symbol:x\n@mitigates #orders against #leak-orders using #m\n\
                 @source file:app/users.py line:2\n@accepts #leak-users on #users -- \"ok\"\n",
            ),
        ],
    );
    write(&repo, "generated/out.py", &annotated("Generated"));
    repo.git(&["add", "-f", "generated/out.py"]);
    std::fs::write(repo.path().join("app/blob.bin"), b"\0\x01# @threat X (#x)\n").unwrap();
    repo.git(&["add", "app/blob.bin"]);
    repo.git(&["commit", "--quiet", "--message", "more"]);
    repo
}

#[test]
fn an_unchanged_tree_is_the_working_trees_and_the_same_index() {
    let repo = project();
    let (whole, changes) = both_ways(&repo, &["."]);
    assert_eq!(described(&changes.index), described(&whole.index));
    // Every annotated file came from the working tree's scan (orders, users, store, keep, old,
    // the ignored-but-committed file is not read on either side, the .gal sidecar).
    assert!(matches!(changes.way, Way::ChangesOnly { reused: 6, .. }), "{}", described(&changes.index));
    assert!(described(&whole.index).contains("lib/deep/store.rb"));
}

#[test]
fn edits_deletions_additions_and_links_give_the_index_of_the_whole_revision() {
    let repo = project();
    // Modified, deleted (a file and a whole directory), added (untracked), a directory and a
    // file replaced by links to the same bytes (the walk does not follow links: the revision's
    // files must not be taken from the working tree's scan of them).
    write(
        &repo,
        "app/orders.py",
        &format!("{}# @mitigates #orders against #leak-orders using #prepared\n", annotated("Orders")),
    );
    std::fs::remove_file(repo.path().join("app/users.py")).unwrap();
    std::fs::remove_dir_all(repo.path().join("gone")).unwrap();
    write(&repo, "app/new.py", &annotated("New"));
    std::fs::rename(repo.path().join("lib/deep"), repo.path().join("deep-elsewhere")).unwrap();
    std::os::unix::fs::symlink(repo.path().join("deep-elsewhere"), repo.path().join("lib/deep")).unwrap();
    std::fs::rename(repo.path().join("lib/keep.py"), repo.path().join("keep-target.py")).unwrap();
    std::os::unix::fs::symlink(repo.path().join("keep-target.py"), repo.path().join("lib/keep.py")).unwrap();
    // The anchored, unannotated file changes too: the stale-anchor check must see the
    // revision's text.
    write(&repo, "app/plain.py", "\nprint('moved down')\n");

    let (whole, changes) = both_ways(&repo, &["."]);
    let text = described(&changes.index);
    assert_eq!(text, described(&whole.index));
    assert!(matches!(changes.way, Way::ChangesOnly { .. }), "{:?}", changes.way);
    for held in ["app/users.py", "gone/old.py", "lib/deep/store.rb", "lib/keep.py"] {
        assert!(text.contains(held), "{held} is in the revision:\n{text}");
    }
    assert!(!text.contains("app/new.py") && !text.contains("#prepared"), "{text}");
}

#[test]
fn a_path_inside_the_repository_and_a_file_named_directly() {
    let repo = project();
    write(&repo, "lib/keep.py", "# edited away\n");
    for paths in [&["lib"][..], &["lib/deep/store.rb"], &["app", "lib/keep.py"]] {
        let (whole, changes) = both_ways(&repo, paths);
        assert_eq!(described(&changes.index), described(&whole.index), "{paths:?}");
        assert!(matches!(changes.way, Way::ChangesOnly { .. }), "{paths:?}: {:?}", changes.way);
    }
}

#[test]
fn different_ignore_files_or_a_configuration_scan_the_revision_whole() {
    let whole_because = |repo: &GitRepo, paths: &[&str]| {
        let (whole, changes) = both_ways(repo, paths);
        assert_eq!(described(&changes.index), described(&whole.index));
        match changes.way {
            Way::Whole(why) => why,
            other => panic!("scanned {other:?}"),
        }
    };

    type Case = (fn() -> GitRepo, Box<dyn Fn(&GitRepo)>, &'static str);
    let cases: [Case; 7] = [
        // A changed .gitignore: the revision reads generated/ files the working tree does not.
        (project, Box::new(|r| write(r, ".gitignore", "")), ".gitignore"),
        // A new (untracked) ignore file in a directory the revision has.
        (project, Box::new(|r| write(r, "app/.ignore", "orders.py\n")), "app/.ignore"),
        // A configuration only one side has, or that differs.
        (project, Box::new(|r| write(r, "threatspec.yaml", "paths:\n  - app\n")), "threatspec.yaml differs"),
        (
            configured,
            Box::new(|r| write(r, ".guardlink/config.json", "{\"exclude\": [\"app/**\"]}")),
            "config.json differs",
        ),
        // The same configuration: what it names must be the same, and so must the set of
        // files (its globs match files).
        (
            configured,
            Box::new(|r| std::fs::remove_file(r.path().join("lib/keep.py")).unwrap()),
            "lib/keep.py is gone",
        ),
        (configured, Box::new(|r| write(r, "app/untracked.py", "print()\n")), "app/untracked.py is new"),
        (
            configured,
            Box::new(|r| {
                std::fs::remove_file(r.path().join("defs.gal")).unwrap();
                std::fs::create_dir(r.path().join("defs.gal")).unwrap();
            }),
            "names defs.gal",
        ),
    ];
    for (build, edit, why) in cases {
        let repo = build();
        edit(&repo);
        let said = whole_because(&repo, &["."]);
        assert!(said.contains(why), "{why:?} not in {said:?}");
    }
}

/// [`project`] with a `.guardlink/config.json` and a `threatspec.yaml` in `app/` whose
/// entries name a directory, a glob, a file, a missing file, an import.
fn configured() -> GitRepo {
    let repo = project();
    repo.commit(
        "configured",
        &[
            (".guardlink/config.json", "{\"exclude\": [\"lib/deep/**\"], \"definitions\": \"../defs.gal\"}"),
            ("defs.gal", "@threat Shared threat (#shared) [low]\n"),
            (
                "app/threatspec.yaml",
                "paths:\n  - 'sub'\n  - 'g/**/*.py'\n  - 'orders.py'\n  - 'none.py'\nimports:\n  - 'lib'\n",
            ),
            ("app/sub/a.py", &annotated("SubA")),
            ("app/g/x/b.py", &annotated("GlobB")),
        ],
    );
    repo
}

#[test]
fn the_same_configuration_with_the_same_files_is_read_from_the_changes() {
    let repo = configured();
    write(
        &repo,
        "app/sub/a.py",
        &format!("{}# @mitigates #suba against #leak-suba using #m\n", annotated("SubA")),
    );
    write(&repo, "defs.gal", "@threat Shared threat renamed (#shared) [high]\n");
    for paths in [&["."][..], &["app"]] {
        let (whole, changes) = both_ways(&repo, paths);
        let text = described(&changes.index);
        assert_eq!(text, described(&whole.index), "{paths:?}");
        assert!(matches!(changes.way, Way::ChangesOnly { .. }), "{paths:?}: {:?}", changes.way);
        if paths == ["app"] {
            // app/threatspec.yaml applies when app is scanned: its missing entry is reported.
            assert!(text.contains("config-path-missing") && text.contains("none.py"), "{text}");
            assert!(text.contains("g/x/b.py") && text.contains("sub/a.py"), "{text}");
        } else {
            // The definitions file config.json names, changed.
            assert!(text.contains("defs.gal") && text.contains("severity=high"), "{text}");
            assert!(!text.contains("lib/deep/store.rb"), "excluded by config.json: {text}");
        }
    }
}

#[test]
fn a_directory_the_revision_does_not_have_holds_nothing() {
    let repo = project();
    write(&repo, "added/new.py", &annotated("Added"));
    let (whole, changes) = both_ways(&repo, &["added"]);
    assert!(whole.scan.is_none() && changes.scan.is_none());
    assert_eq!(changes.index.files().count(), 0);
}

/// A threat library decides what references resolve to, in every file: one that differs
/// between the revision and the working tree (changed, added, removed, found by name or named
/// by the configuration) must not be taken from the working tree.
#[test]
fn a_threat_library_that_differs_scans_the_revision_whole() {
    let library = |id: &str| format!("threats:\n  - id: {id}\n    name: Library threat {id}\n");
    let with_library = |name: &'static str, config: Option<&'static str>| {
        move || {
            let repo = project();
            let mut files = vec![
                (name.to_string(), library("TL-1")),
                ("app/uses.py".to_string(), "# @exposes #orders to #TL-1\n".to_string()),
            ];
            if let Some(config) = config {
                files.push((".guardlink/config.json".to_string(), config.to_string()));
            }
            let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
            repo.commit("library", &files);
            repo
        }
    };
    type Case = (Box<dyn Fn() -> GitRepo>, Box<dyn Fn(&GitRepo)>, &'static str);
    let named = "{\"threat-analyzer\": {\"libraries\": [\"lib/threats.yaml\"]}}";
    let cases: [Case; 4] = [
        // Changed: TL-1 resolves on the revision, dangles in the working tree.
        (
            Box::new(with_library("threat-library.yaml", None)),
            Box::new(move |r| write(r, "threat-library.yaml", &library("TL-2"))),
            "threat-library.yaml",
        ),
        // Removed from the working tree.
        (
            Box::new(with_library("threat-library.yaml", None)),
            Box::new(|r| std::fs::remove_file(r.path().join("threat-library.yaml")).unwrap()),
            "threat-library.yaml",
        ),
        // Only in the working tree (untracked).
        (
            Box::new(project),
            Box::new(move |r| write(r, "cwe_library.threatspec.json", "{}")),
            "cwe_library.threatspec.json",
        ),
        // Named by the configuration.
        (
            Box::new(with_library("lib/threats.yaml", Some(named))),
            Box::new(move |r| write(r, "lib/threats.yaml", &library("TL-3"))),
            "lib/threats.yaml",
        ),
    ];
    for (build, edit, why) in cases {
        let repo = build();
        edit(&repo);
        let (whole, changes) = both_ways(&repo, &["."]);
        assert_eq!(described(&changes.index), described(&whole.index), "{why}");
        match changes.way {
            Way::Whole(said) => assert!(said.contains(why), "{why:?} not in {said:?}"),
            other => panic!("{why}: scanned {other:?}"),
        }
    }
    // The same library on both sides: read from the changes.
    let repo = with_library("threat-library.yaml", None)();
    write(&repo, "app/orders.py", &annotated("Orders2"));
    let (whole, changes) = both_ways(&repo, &["."]);
    assert_eq!(described(&changes.index), described(&whole.index));
    assert!(matches!(changes.way, Way::ChangesOnly { .. }), "{:?}", changes.way);
}

/// Every tracked file's modification time set to a time of its own, long past, and git's index
/// refreshed (git records each file's stat data whole, nothing racy): git's index can tell
/// every file.
fn settle(repo: &GitRepo) {
    static SETTLED: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let k = SETTLED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let past = filetime::FileTime::from_unix_time(1_700_000_000 - 10 * k, 0);
    for file in repo.git(&["ls-files"]).lines() {
        filetime::set_symlink_file_times(repo.path().join(file), past, past).unwrap();
    }
    repo.git(&["update-index", "--refresh"]);
}

fn read_count(scan: &RevisionScan) -> usize {
    match scan.way {
        Way::ChangesOnly { read, .. } => read,
        ref way => panic!("{way:?}"),
    }
}

#[test]
fn files_git_s_index_tells_unchanged_are_not_read_and_the_index_is_the_same() {
    let repo = project();
    settle(&repo);
    let (whole, changes) = both_ways(&repo, &["."]);
    assert_eq!(described(&changes.index), described(&whole.index));
    assert_eq!(read_count(&changes), 0, "every file told by git's index");
    // Modified with the same size; staged but not committed (told, and not the revision's);
    // marked assume-unchanged (read); deleted (looked for).
    write(&repo, "lib/keep.py", &annotated("Kept"));
    repo.git(&["add", "lib/keep.py"]);
    settle(&repo);
    write(&repo, "app/orders.py", &annotated("Ordars"));
    repo.git(&["update-index", "--assume-unchanged", "app/users.py"]);
    std::fs::remove_file(repo.path().join("gone/old.py")).unwrap();
    let (whole, changes) = both_ways(&repo, &["."]);
    let text = described(&changes.index);
    assert_eq!(text, described(&whole.index));
    // The revision's files, not the working tree's.
    assert!(!text.contains("ordars") && !text.contains("kept") && text.contains("leak-keep"), "{text}");
    assert_eq!(read_count(&changes), 3, "orders.py, users.py, old.py");
    // Without an index every file is read, to the same index.
    std::fs::remove_file(repo.path().join(".git/index")).unwrap();
    let (whole, changes) = both_ways(&repo, &["."]);
    assert_eq!(described(&changes.index), described(&whole.index));
    assert!(read_count(&changes) > 8, "{:?}", changes.way);
}

#[test]
fn a_racy_file_is_read() {
    let repo = project();
    settle(&repo);
    // Its stat data is the index's, but the index was written in the second it was last
    // modified: it could have changed after, unseen (git's "racy git" rule).
    let then = filetime::FileTime::from_unix_time(filetime::FileTime::now().unix_seconds() - 50, 0);
    filetime::set_file_mtime(repo.path().join("app/users.py"), then).unwrap();
    repo.git(&["update-index", "--refresh"]);
    let (_, changes) = both_ways(&repo, &["."]);
    assert_eq!(read_count(&changes), 0);
    filetime::set_file_mtime(repo.path().join(".git/index"), then).unwrap();
    let (whole, changes) = both_ways(&repo, &["."]);
    assert_eq!(described(&changes.index), described(&whole.index));
    assert_eq!(read_count(&changes), 1);
}

#[test]
fn a_file_git_converts_is_compared_by_its_bytes_not_its_told_size() {
    // Committed with `$Id$` in a threat's name; an untracked `.gitattributes` then makes git
    // expand it in the working tree (`ident`), and git's index (refreshed) still tells the
    // committed blob, at the working tree file's size.
    let repo = GitRepo::new();
    repo.commit(
        "ident",
        &[("app/ident.py", "# @asset Db (#db)\n# @threat Leak $Id$ (#leak)\n# @exposes #db to #leak\n")],
    );
    write(&repo, "app/.gitattributes", "*.py ident\n");
    std::fs::remove_file(repo.path().join("app/ident.py")).unwrap();
    repo.git(&["checkout", "--", "app/ident.py"]);
    let text = std::fs::read_to_string(repo.path().join("app/ident.py")).unwrap();
    assert!(text.contains("$Id: "), "{text}");
    settle(&repo);
    let (whole, changes) = both_ways(&repo, &["."]);
    let described_whole = described(&whole.index);
    assert!(described_whole.contains("$Id$") && !described_whole.contains("$Id: "), "{described_whole}");
    assert_eq!(described(&changes.index), described_whole);
}
