//! `vcs`: revisions and snapshots read from real repositories (built with the `git` program in
//! temporary directories; the product reads them in-process).

#[path = "support/git.rs"]
mod git;

use git::GitRepo;
use std::path::{Path, PathBuf};
use threat_analyzer::vcs::{BlobId, GitRepository, Revision, Snapshot, VcsError};

/// Every file under `root`, relative, `/`-separated, with its text, sorted; without the
/// `.git/info/exclude` every snapshot holds at its root.
fn files(root: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            let path = entry.path();
            assert!(!kind.is_symlink(), "a snapshot holds a symbolic link: {}", path.display());
            if kind.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.retain(|(path, _)| path != ".git/info/exclude");
    out.sort();
    out
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

fn snapshot_of(repo: &GitRepository, spec: &str) -> Snapshot {
    let revision = repo.resolve(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    repo.snapshot(&revision).unwrap()
}

fn two_commits() -> (GitRepo, String, String) {
    let repo = GitRepo::new();
    let first = repo.commit("first commit\n\nbody", &[("app.py", "# one\n"), ("src/lib.rs", "// lib\n")]);
    let second = repo.commit_changes("second commit", &[("app.py", Some("# two\n")), ("src/lib.rs", None)]);
    (repo, first, second)
}

#[test]
fn resolves_head_ancestors_branches_tags_and_ids() {
    let (fixture, first, second) = two_commits();
    fixture.git(&["tag", "v1", &first]);
    fixture.git(&["tag", "--annotate", "--message", "release", "v1-annotated", &first]);
    fixture.git(&["branch", "old", &first]);
    let repo = GitRepository::discover(fixture.path()).unwrap();
    let expect = |spec: &str, commit: &str, summary: &str| {
        let revision = repo.resolve(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(
            revision,
            Revision { spec: spec.to_string(), commit: commit.to_string(), summary: summary.to_string() }
        );
    };
    expect("HEAD", &second, "second commit");
    expect("main", &second, "second commit");
    expect("HEAD~1", &first, "first commit");
    expect("old", &first, "first commit");
    expect("v1", &first, "first commit");
    expect("v1-annotated", &first, "first commit");
    expect(&first, &first, "first commit");
    expect(&first[..8], &first, "first commit");
}

#[test]
fn discovers_the_repository_from_a_subdirectory() {
    let (fixture, _, _) = two_commits();
    std::fs::create_dir_all(fixture.path().join("deep/er")).unwrap();
    let repo = GitRepository::discover(&fixture.path().join("deep/er")).unwrap();
    assert_eq!(repo.workdir().canonicalize().unwrap(), fixture.path().canonicalize().unwrap());
}

#[test]
fn a_snapshot_holds_the_revisions_files_and_not_later_or_deleted_ones() {
    let (fixture, _, _) = two_commits();
    let repo = GitRepository::discover(fixture.path()).unwrap();
    let old = snapshot_of(&repo, "HEAD~1");
    assert_eq!(files(old.root()), owned(&[("app.py", "# one\n"), ("src/lib.rs", "// lib\n")]));
    assert!(old.skipped().is_empty(), "{:?}", old.skipped());
    assert_eq!(old.revision().summary, "first commit");
    let new = snapshot_of(&repo, "HEAD");
    assert_eq!(files(new.root()), owned(&[("app.py", "# two\n")]));
    let dir = old.root().to_path_buf();
    drop(old);
    assert!(!dir.exists(), "the snapshot directory is removed on drop");
}

#[test]
fn a_snapshot_is_named_like_the_working_tree_and_has_its_ignore_rules() {
    let (fixture, _, _) = two_commits();
    let exclude = fixture.path().join(".git/info/exclude");
    std::fs::write(&exclude, "*.local\n").unwrap();
    let repo = GitRepository::discover(fixture.path()).unwrap();
    let snapshot = snapshot_of(&repo, "HEAD");
    // The walk names a repository after its directory (`#name.id` tags).
    assert_eq!(snapshot.root().file_name(), fixture.path().file_name());
    // A `.git` at the root stops git's ignore rules of the directories above, and holds the
    // repository's own exclusions.
    assert_eq!(std::fs::read_to_string(snapshot.root().join(".git/info/exclude")).unwrap(), "*.local\n");
    assert_eq!(std::fs::read_dir(snapshot.root().join(".git")).unwrap().count(), 1);
}

#[test]
fn omitted_files_are_not_written_and_file_ids_are_gits() {
    let (fixture, _, _) = two_commits();
    let repo = GitRepository::discover(fixture.path()).unwrap();
    let revision = repo.resolve("HEAD~1").unwrap();
    let mut asked = Vec::new();
    let snapshot = repo
        .snapshot_omitting(
            &revision,
            &mut |rel, id, size| {
                asked.push((rel.to_path_buf(), size));
                id == BlobId::of(b"// lib\n").unwrap()
            },
            None,
        )
        .unwrap();
    assert_eq!(files(snapshot.root()), owned(&[("app.py", "# one\n")]));
    assert_eq!(snapshot.omitted(), [Path::new("src/lib.rs")]);
    assert!(snapshot.root().join("src").is_dir(), "directories are written");
    asked.sort();
    // Each file is asked about with its blob's size.
    assert_eq!(asked, [(PathBuf::from("app.py"), 6), (PathBuf::from("src/lib.rs"), 7)]);
    // Only the directories needed: those of written files, and those asked for.
    let omit_lib = &mut |_: &Path, id: BlobId, _| id == BlobId::of(b"// lib\n").unwrap();
    let lean = repo.snapshot_omitting(&revision, omit_lib, Some(&[])).unwrap();
    assert_eq!(files(lean.root()), owned(&[("app.py", "# one\n")]));
    assert!(!lean.root().join("src").exists());
    let asked_for = [PathBuf::from("src"), PathBuf::from("app.py"), PathBuf::from("nope")];
    let lean = repo.snapshot_omitting(&revision, omit_lib, Some(&asked_for)).unwrap();
    assert!(lean.root().join("src").is_dir() && !lean.root().join("nope").exists());
    let all = repo.snapshot_omitting(&revision, &mut |_, _, _| true, Some(&[])).unwrap();
    assert_eq!(files(all.root()), owned(&[]));
    assert_eq!(repo.file_id(&revision, Path::new("src/lib.rs")).unwrap(), BlobId::of(b"// lib\n"));
    assert_eq!(repo.file_id(&revision, Path::new("./app.py")).unwrap(), BlobId::of(b"# one\n"));
    for absent in ["src", "src/lib.rs/x", "nope.py", "", "../app.py"] {
        assert_eq!(repo.file_id(&revision, Path::new(absent)).unwrap(), None, "{absent}");
    }
}

#[test]
fn an_unknown_revision_is_named_in_the_error() {
    let (fixture, _, _) = two_commits();
    let repo = GitRepository::discover(fixture.path()).unwrap();
    for spec in ["no-such-branch", "HEAD~5", "origin/main"] {
        let error = repo.resolve(spec).unwrap_err();
        assert!(matches!(&error, VcsError::UnknownRevision { spec: s } if s == spec), "{spec}: {error:?}");
        assert!(error.to_string().contains(&format!("'{spec}'")), "{error}");
    }
}

#[test]
fn a_directory_outside_any_repository_is_not_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let error = GitRepository::discover(dir.path()).err().expect("no repository there");
    assert!(matches!(&error, VcsError::NotARepository { path } if path == dir.path()), "{error:?}");
    assert!(error.to_string().contains(&dir.path().display().to_string()), "{error}");
}

/// The loose files under `.git/refs` and `.git/objects/??`, to show that a test reads packs.
fn loose(fixture: &GitRepo, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![fixture.path().join(".git").join(dir)];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "pack" && name != "info" {
                    pending.push(path);
                }
            } else {
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn packed_refs_and_packfiles_are_read() {
    let (fixture, first, second) = two_commits();
    fixture.git(&["tag", "v1", &first]);
    fixture.gc();
    assert!(loose(&fixture, "refs").is_empty(), "refs left loose: {:?}", loose(&fixture, "refs"));
    assert!(loose(&fixture, "objects").is_empty(), "objects left loose: {:?}", loose(&fixture, "objects"));
    let repo = GitRepository::discover(fixture.path()).unwrap();
    assert_eq!(repo.resolve("main").unwrap().commit, second);
    assert_eq!(repo.resolve("v1").unwrap().commit, first);
    assert_eq!(repo.resolve(&first[..7]).unwrap().commit, first);
    let old = snapshot_of(&repo, "v1");
    assert_eq!(files(old.root()), owned(&[("app.py", "# one\n"), ("src/lib.rs", "// lib\n")]));
}

#[test]
fn packed_refs_alone_are_read() {
    let (fixture, first, _) = two_commits();
    fixture.branch("old");
    fixture.git(&["branch", "--force", "old", &first]);
    fixture.pack_refs();
    assert!(loose(&fixture, "refs").is_empty(), "refs left loose: {:?}", loose(&fixture, "refs"));
    let repo = GitRepository::discover(fixture.path()).unwrap();
    assert_eq!(repo.resolve("old").unwrap().commit, first);
    assert_eq!(repo.resolve("refs/heads/old").unwrap().commit, first);
}

#[test]
fn a_linked_worktree_is_discovered_from_inside_it() {
    let (fixture, _, second) = two_commits();
    let worktree = fixture.worktree("feature");
    std::fs::create_dir_all(worktree.join("sub")).unwrap();
    std::fs::write(worktree.join("sub/new.py"), "# new\n").unwrap();
    fixture.git_in(&worktree, &["add", "--all"], None);
    fixture.git_in(&worktree, &["commit", "--quiet", "-m", "in the worktree"], None);
    let repo = GitRepository::discover(&worktree.join("sub")).unwrap();
    assert_eq!(repo.workdir().canonicalize().unwrap(), worktree.canonicalize().unwrap());
    let head = repo.resolve("HEAD").unwrap();
    assert_eq!(head.summary, "in the worktree");
    assert_eq!(repo.resolve("HEAD~1").unwrap().commit, second);
    assert_eq!(repo.resolve("main").unwrap().commit, second);
    assert_eq!(repo.default_base().unwrap().commit, second, "the merge base with main");
    let snapshot = repo.snapshot(&head).unwrap();
    assert_eq!(files(snapshot.root()), owned(&[("app.py", "# two\n"), ("sub/new.py", "# new\n")]));
    // The main checkout's HEAD is its own.
    assert_eq!(GitRepository::discover(fixture.path()).unwrap().resolve("HEAD").unwrap().commit, second);
}

#[test]
fn a_detached_head_is_resolved_and_is_its_own_default_base_without_a_default_branch() {
    let (fixture, first, _) = two_commits();
    fixture.checkout(&first);
    let repo = GitRepository::discover(fixture.path()).unwrap();
    assert_eq!(repo.resolve("HEAD").unwrap().commit, first);
    assert_eq!(repo.resolve("@").unwrap().commit, first);
    // main is the default branch: the merge base of HEAD (an ancestor of main) and main is HEAD.
    let base = repo.default_base().unwrap();
    assert_eq!((base.spec.as_str(), base.commit.as_str()), ("main...HEAD", first.as_str()));
    fixture.git(&["branch", "--move", "main", "trunk"]);
    let repo = GitRepository::discover(fixture.path()).unwrap();
    let base = repo.default_base().unwrap();
    assert_eq!((base.spec.as_str(), base.commit.as_str()), ("HEAD", first.as_str()));
}

#[test]
fn merge_commits_have_numbered_parents() {
    let fixture = GitRepo::new();
    let base = fixture.commit("base", &[("a.py", "# a\n")]);
    fixture.git(&["checkout", "--quiet", "-b", "feature"]);
    let feature = fixture.commit("feature", &[("b.py", "# b\n")]);
    fixture.checkout("main");
    let main = fixture.commit("main", &[("c.py", "# c\n")]);
    fixture.commits_tick();
    fixture.git(&["merge", "--quiet", "--no-ff", "-m", "merge feature", "feature"]);
    let repo = GitRepository::discover(fixture.path()).unwrap();
    assert_eq!(repo.resolve("HEAD").unwrap().summary, "merge feature");
    assert_eq!(repo.resolve("HEAD^").unwrap().commit, main);
    assert_eq!(repo.resolve("HEAD^1").unwrap().commit, main);
    assert_eq!(repo.resolve("HEAD^2").unwrap().commit, feature);
    assert_eq!(repo.resolve("HEAD^2~1").unwrap().commit, base);
    assert_eq!(repo.resolve("HEAD~2").unwrap().commit, base);
    assert_eq!(repo.resolve("HEAD^0").unwrap().summary, "merge feature");
    assert_eq!(repo.resolve("HEAD^{commit}").unwrap().summary, "merge feature");
    for spec in ["HEAD^3", "HEAD~3", "HEAD^x", "HEAD^{tree}", "HEAD@{1}", "HEAD..main", ":/merge"] {
        assert!(matches!(repo.resolve(spec), Err(VcsError::UnknownRevision { .. })), "{spec}");
    }
    let merged = snapshot_of(&repo, "HEAD");
    assert_eq!(files(merged.root()), owned(&[("a.py", "# a\n"), ("b.py", "# b\n"), ("c.py", "# c\n")]));
    // On a branch from before the merge, the default base is where it left main.
    fixture.git(&["checkout", "--quiet", "-b", "late", &main]);
    fixture.git(&["reset", "--quiet", "--hard", &base]);
    fixture.commit("late", &[("d.py", "# d\n")]);
    let repo = GitRepository::discover(fixture.path()).unwrap();
    let base_revision = repo.default_base().unwrap();
    assert_eq!((base_revision.spec.as_str(), base_revision.commit.as_str()), ("main...HEAD", base.as_str()));
    // On the merged branch, main contains it: the base is the branch itself.
    fixture.checkout("feature");
    let repo = GitRepository::discover(fixture.path()).unwrap();
    assert_eq!(repo.default_base().unwrap().commit, feature);
}

#[test]
fn origin_head_names_the_default_branch() {
    let fixture = GitRepo::new();
    let root = fixture.commit("root", &[("a.py", "# a\n")]);
    fixture.git(&["checkout", "--quiet", "-b", "trunk"]);
    let trunk = fixture.commit("trunk", &[("a.py", "# trunk\n")]);
    // `main` exists too, but the clone's origin/HEAD points at trunk.
    let clone = fixture.scratch().join("clone");
    fixture.git_in(
        fixture.scratch(),
        &["clone", "--quiet", fixture.path().to_str().unwrap(), clone.to_str().unwrap()],
        None,
    );
    fixture.git_in(&clone, &["checkout", "--quiet", "-b", "topic"], None);
    std::fs::write(clone.join("b.py"), "# b\n").unwrap();
    fixture.git_in(&clone, &["add", "--all"], None);
    fixture.git_in(&clone, &["commit", "--quiet", "-m", "topic"], None);
    fixture.git_in(&clone, &["branch", "main", &root], None);
    let repo = GitRepository::discover(&clone).unwrap();
    let base = repo.default_base().unwrap();
    assert_eq!((base.spec.as_str(), base.commit.as_str()), ("origin/trunk...HEAD", trunk.as_str()));
    assert_eq!(repo.resolve("origin/trunk").unwrap().commit, trunk);
    assert_eq!(repo.resolve("origin/main").unwrap().commit, root);
}

#[test]
fn a_shallow_clone_says_which_history_to_fetch() {
    let (fixture, first, second) = two_commits();
    let clone = fixture.shallow_clone(1);
    let repo = GitRepository::discover(&clone).unwrap();
    let head = repo.resolve("HEAD").unwrap();
    assert_eq!(head.commit, second);
    assert_eq!(files(repo.snapshot(&head).unwrap().root()), owned(&[("app.py", "# two\n")]));
    let parent_of_missing = format!("{}~1", &first[..10]);
    for spec in
        ["HEAD~1", "HEAD^", first.as_str(), &first[..10], &parent_of_missing, &format!("{}~1", &second[..10])]
    {
        let error = repo.resolve(spec).unwrap_err();
        assert!(matches!(&error, VcsError::ShallowHistory { spec: s } if s == spec), "{spec}: {error:?}");
        let message = error.to_string();
        assert!(message.contains("fetch-depth: 0") && message.contains("git fetch --unshallow"), "{message}");
        assert!(message.contains(&format!("'{spec}'")), "{message}");
    }
    // A name that names nothing is still unknown, not missing history.
    assert!(matches!(repo.resolve("no-such-branch"), Err(VcsError::UnknownRevision { .. })));
    // origin/main is HEAD: its own merge base, without history.
    assert_eq!(repo.default_base().unwrap().commit, second);
}

#[test]
fn a_shallow_clone_without_the_merge_base_or_the_default_branch_says_so() {
    let (fixture, _, _) = two_commits();
    fixture.git(&["checkout", "--quiet", "-b", "feature"]);
    fixture.commit("feature 1", &[("f.py", "# 1\n")]);
    fixture.commit("feature 2", &[("f.py", "# 2\n")]);
    fixture.checkout("main");
    fixture.commit("main 3", &[("m.py", "# 3\n")]);
    // Every branch at depth 1: origin/main exists, the merge base does not.
    let clone = fixture.scratch().join("clone-all");
    let url = format!("file://{}", fixture.path().display());
    fixture.git_in(
        fixture.scratch(),
        &[
            "clone",
            "--quiet",
            "--depth",
            "1",
            "--no-single-branch",
            "--branch",
            "feature",
            &url,
            clone.to_str().unwrap(),
        ],
        None,
    );
    let error = GitRepository::discover(&clone).unwrap().default_base().unwrap_err();
    assert!(matches!(&error, VcsError::ShallowHistory { spec } if spec == "origin/main...HEAD"), "{error:?}");
    // Only the pull request's branch: no default branch at all.
    let clone = fixture.scratch().join("clone-one");
    fixture.git_in(
        fixture.scratch(),
        &["clone", "--quiet", "--depth", "1", "--branch", "feature", &url, clone.to_str().unwrap()],
        None,
    );
    let error = GitRepository::discover(&clone).unwrap().default_base().unwrap_err();
    assert!(matches!(&error, VcsError::ShallowHistory { .. }), "{error:?}");
    assert!(error.to_string().contains("fetch-depth: 0"), "{error}");
}

#[test]
fn a_bare_repository_has_no_working_tree() {
    let fixture = GitRepo::new();
    let bare = fixture.scratch().join("bare.git");
    fixture.git_in(fixture.scratch(), &["init", "--quiet", "--bare", bare.to_str().unwrap()], None);
    let error = GitRepository::discover(&bare).err().expect("bare");
    assert!(matches!(&error, VcsError::Bare { .. }), "{error:?}");
}

/// Commits a tree built from raw entries, returning the repository and the snapshot of it.
fn hostile(entries: impl FnOnce(&GitRepo) -> String) -> (GitRepo, Snapshot) {
    let fixture = GitRepo::new();
    fixture.commit("base", &[("ok.py", "# ok\n")]);
    let tree = entries(&fixture);
    fixture.commit_tree(&tree, "hostile");
    let repo = GitRepository::discover(fixture.path()).unwrap();
    let snapshot = snapshot_of(&repo, "HEAD");
    (fixture, snapshot)
}

fn skipped(snapshot: &Snapshot) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = snapshot
        .skipped()
        .iter()
        .map(|(path, why)| (path.to_string_lossy().replace('\\', "/"), why.clone()))
        .collect();
    out.sort();
    out
}

#[test]
fn links_submodules_and_unsafe_names_are_skipped_with_why() {
    let (_fixture, snapshot) = hostile(|repo| {
        let text = repo.blob(b"# text\n");
        let target = repo.blob(b"/etc/passwd");
        let escape = repo.blob(b"escaped\n");
        let inner = repo.raw_tree(&[("100644", b"escape-f00d.txt", &escape)]);
        let commit = repo.git(&["rev-parse", "HEAD"]);
        let dir = repo.raw_tree(&[("100644", b"kept.py", &text), ("120000", b"link.py", &target)]);
        repo.raw_tree(&[
            ("40000", b"..", &inner),
            ("40000", b".", &inner),
            ("40000", b".git", &inner),
            ("100644", b".GiT", &text),
            ("100644", b"a\\b.py", &text),
            ("100644", b"a/b.py", &text),
            ("100644", b"", &text),
            ("40000", b"dir", &dir),
            ("100755", b"run.sh", &text),
            ("160000", b"vendor", &commit),
            ("120000", b"z-link", &target),
        ])
    });
    assert_eq!(files(snapshot.root()), owned(&[("dir/kept.py", "# text\n"), ("run.sh", "# text\n")]));
    let why = skipped(&snapshot);
    let expect = |path: &str, reason: &str| {
        assert!(
            why.iter().any(|(p, w)| p == path && w.contains(reason)),
            "{path} ({reason}) not in {why:#?}"
        );
    };
    expect("dir/link.py", "symbolic link");
    expect("z-link", "symbolic link");
    expect("vendor", "submodule");
    expect("..", "unsafe name");
    expect(".", "unsafe name");
    expect(".git", "`.git`");
    expect(".GiT", "`.git`");
    expect("a_b.py", "unsafe name");
    expect("", "unsafe name");
    assert_eq!(why.len(), 10, "{why:#?}");
    // Nothing escaped the snapshot directory.
    let parent = snapshot.root().parent().unwrap();
    assert!(!parent.join("escape-f00d.txt").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(snapshot.root().join("run.sh")).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0, "an executable is written as a plain file: {mode:o}");
    }
}

#[test]
fn a_name_twice_in_one_tree_is_written_once() {
    let (_fixture, snapshot) = hostile(|repo| {
        let one = repo.blob(b"# one\n");
        let two = repo.blob(b"# two\n");
        repo.raw_tree(&[("100644", b"same.py", &one), ("100644", b"same.py", &two)])
    });
    assert_eq!(files(snapshot.root()), owned(&[("same.py", "# one\n")]));
    assert_eq!(
        skipped(&snapshot),
        vec![("same.py".to_string(), "the tree holds this name twice".to_string())]
    );
}

#[test]
fn a_file_over_the_size_limit_is_not_written() {
    let limit = threat_analyzer::limits::MAX_FILE_SIZE as usize;
    let (_fixture, snapshot) = hostile(|repo| {
        let big = repo.blob(&vec![b'x'; limit + 1]);
        let edge = repo.blob(&vec![b'y'; limit]);
        repo.raw_tree(&[("100644", b"big.txt", &big), ("100644", b"edge.txt", &edge)])
    });
    assert_eq!(skipped(&snapshot), vec![("big.txt".to_string(), format!("larger than {limit} bytes"))]);
    assert!(!snapshot.root().join("big.txt").exists());
    assert_eq!(std::fs::metadata(snapshot.root().join("edge.txt")).unwrap().len(), limit as u64);
}

#[test]
fn a_tree_that_expands_past_the_file_limit_is_refused_before_writing() {
    let fixture = GitRepo::new();
    fixture.commit("base", &[("ok.py", "# ok\n")]);
    // Ten names for the same subtree, seven levels deep: 10^7 files from a few objects.
    let blob = fixture.blob(b"x");
    let mut tree = fixture.raw_tree(&[("100644", b"f", &blob)]);
    let names: Vec<Vec<u8>> = (0..10).map(|i| format!("d{i}").into_bytes()).collect();
    for _ in 0..7 {
        let entries: Vec<(&str, &[u8], &str)> =
            names.iter().map(|n| ("40000", n.as_slice(), tree.as_str())).collect();
        tree = fixture.raw_tree(&entries);
    }
    fixture.commit_tree(&tree, "bomb");
    let repo = GitRepository::discover(fixture.path()).unwrap();
    let revision = repo.resolve("HEAD").unwrap();
    let error = repo.snapshot(&revision).err().expect("over the limit");
    let message = error.to_string();
    assert!(message.contains("10000000 files") && message.contains("1000000 files"), "{message}");
    // Counted, not written: ten million files would take minutes and gigabytes.
}

/// Every tracked file's modification time set to a time of its own, long past, and git's index
/// refreshed: git sees every file's modification time changed and records its stat data
/// whole (git compares times to the second: a new change time in the same second would go
/// unrecorded), the index written after them, nothing racy.
fn settle(repo: &GitRepo, dir: &Path) {
    static SETTLED: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let k = SETTLED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let past = filetime::FileTime::from_unix_time(1_700_000_000 - 10 * k, 0);
    for file in repo.git_in(dir, &["ls-files"], None).lines() {
        filetime::set_symlink_file_times(dir.join(file), past, past).unwrap();
    }
    // `-q`: files changed since they were staged stay as they are.
    repo.git_in(dir, &["update-index", "-q", "--refresh"], None);
}

#[test]
fn the_index_tells_a_file_unchanged_only_as_gits_status_would() {
    let fixture = GitRepo::new();
    fixture.commit(
        "files",
        &[("a.py", "# a\n"), ("b.py", "# b\n"), ("c.py", "# c\n"), ("d.py", "# d\n"), ("sub/e.py", "# e\n")],
    );
    settle(&fixture, fixture.path());
    let path = fixture.path();
    let blob = |text: &[u8]| BlobId::of(text).unwrap();
    let staged = |rel: &str| {
        let index = GitRepository::discover(path).unwrap().worktree_index().unwrap();
        let meta = std::fs::symlink_metadata(path.join(rel)).unwrap();
        index.staged(Path::new(rel), &meta)
    };
    assert_eq!(staged("a.py"), Some(blob(b"# a\n")));
    assert_eq!(staged("sub/e.py"), Some(blob(b"# e\n")));
    // Modified, same size: its stat data is no longer the index's.
    std::fs::write(path.join("a.py"), "# A\n").unwrap();
    assert_eq!(staged("a.py"), None);
    // Staged, not committed: the staged blob, not the committed one.
    std::fs::write(path.join("b.py"), "# bb\n").unwrap();
    fixture.git(&["add", "b.py"]);
    settle(&fixture, path);
    assert_eq!(staged("b.py"), Some(blob(b"# bb\n")));
    // Marked assume-unchanged or skip-worktree: git would not look, so neither is it told.
    fixture.git(&["update-index", "--assume-unchanged", "c.py"]);
    fixture.git(&["update-index", "--skip-worktree", "d.py"]);
    assert_eq!(staged("c.py"), None);
    assert_eq!(staged("d.py"), None);
    // Intent to add: no blob staged.
    std::fs::write(path.join("new.py"), "# new\n").unwrap();
    fixture.git(&["add", "--intent-to-add", "new.py"]);
    assert_eq!(staged("new.py"), None);
    assert_eq!(staged("sub/e.py"), Some(blob(b"# e\n")), "the other entries still tell");
    // Racy: an entry modified in (or after) the second the index was written is not told,
    // though its stat data matches.
    let index_file = path.join(".git/index");
    let e_time =
        filetime::FileTime::from_last_modification_time(&std::fs::metadata(path.join("sub/e.py")).unwrap());
    filetime::set_file_mtime(&index_file, e_time).unwrap();
    assert_eq!(staged("sub/e.py"), None);
    let after = filetime::FileTime::from_unix_time(e_time.unix_seconds() + 1, 0);
    filetime::set_file_mtime(&index_file, after).unwrap();
    assert_eq!(staged("sub/e.py"), Some(blob(b"# e\n")));
    // A link where the file was: not a regular file.
    #[cfg(unix)]
    {
        std::fs::remove_file(path.join("sub/e.py")).unwrap();
        std::os::unix::fs::symlink("../d.py", path.join("sub/e.py")).unwrap();
        assert_eq!(staged("sub/e.py"), None);
    }
}

#[test]
fn an_index_that_cannot_tell_is_refused() {
    let fixture = GitRepo::new();
    fixture.commit("files", &[("a.py", "# a\n"), ("lib/b.py", "# b\n")]);
    let path = fixture.path();
    let why = || GitRepository::discover(path).unwrap().worktree_index().err();
    assert_eq!(why(), None);
    // A linked worktree has its own index.
    let worktree = fixture.worktree("other");
    std::fs::write(worktree.join("a.py"), "# other\n").unwrap();
    fixture.git_in(&worktree, &["add", "a.py"], None);
    settle(&fixture, &worktree);
    let there = GitRepository::discover(&worktree).unwrap().worktree_index().unwrap();
    let meta = std::fs::symlink_metadata(worktree.join("a.py")).unwrap();
    assert_eq!(there.staged(Path::new("a.py"), &meta), BlobId::of(b"# other\n"));
    // Split: the shared part lives in another file.
    fixture.git(&["update-index", "--split-index"]);
    assert!(why().is_some_and(|w| w.contains("split")), "{:?}", why());
    fixture.git(&["update-index", "--no-split-index"]);
    assert_eq!(why(), None);
    // Sparse: a directory outside the cone is one entry.
    fixture.git(&["sparse-checkout", "init", "--cone", "--sparse-index"]);
    fixture.git(&["sparse-checkout", "set", "nothing"]);
    assert!(why().is_some_and(|w| w.contains("sparse")), "{:?}", why());
    fixture.git(&["sparse-checkout", "disable"]);
    assert_eq!(why(), None);
    // Corrupt (its checksum no longer matches), then missing.
    let index_file = path.join(".git/index");
    let mut bytes = std::fs::read(&index_file).unwrap();
    bytes[20] ^= 1;
    std::fs::write(&index_file, &bytes).unwrap();
    assert!(why().is_some_and(|w| w.contains("checksum")), "{:?}", why());
    std::fs::remove_file(&index_file).unwrap();
    assert!(why().is_some(), "no index");
}

/// Whether the snapshot of `revision` took the size told for `app.py`'s blob (a size over the
/// file limit, so the file is left out as too large) instead of its object header's.
fn takes_told_size(repo: &GitRepository, revision: &Revision) -> bool {
    let blob = repo.file_id(revision, Path::new("app.py")).unwrap().unwrap();
    let told = std::collections::HashMap::from([(blob, threat_analyzer::limits::MAX_FILE_SIZE + 1)]);
    let snapshot = repo.snapshot_told(revision, &mut |_, _, _| false, None, &told).unwrap();
    let too_large =
        snapshot.skipped().iter().any(|(path, why)| path == Path::new("app.py") && why.contains("larger"));
    assert_eq!(too_large, !files(snapshot.root()).iter().any(|(path, _)| path == "app.py"));
    too_large
}

#[test]
fn sizes_told_stand_in_for_object_headers_only_where_no_conversion_can_apply() {
    let (fixture, _, _) = two_commits();
    let repo = GitRepository::discover(fixture.path()).unwrap();
    let head = repo.resolve("HEAD").unwrap();
    // Without `.gitattributes` anywhere, the told size is taken exactly when no configuration
    // this user's git reads can convert files (it depends on the machine's configuration).
    assert_eq!(takes_told_size(&repo, &head), repo.conversion_ruled_out().is_ok());
    // A `.gitattributes` anywhere in the tree (in any case): every size from its header.
    fixture.commit("attributes", &[("src/.GitAttributes", "*.rs ident\n")]);
    let with_attributes = repo.resolve("HEAD").unwrap();
    assert!(!takes_told_size(&repo, &with_attributes));
    // Line-ending conversion set in the repository's configuration: the same.
    fixture.git(&["config", "core.autocrlf", "input"]);
    assert!(repo.conversion_ruled_out().unwrap_err().contains("autocrlf"));
    assert!(!takes_told_size(&repo, &head));
    fixture.git(&["config", "--unset", "core.autocrlf"]);
    // So does an attributes file of the repository's own.
    std::fs::create_dir_all(fixture.path().join(".git/info")).unwrap();
    std::fs::write(fixture.path().join(".git/info/attributes"), "* text\n").unwrap();
    assert!(repo.conversion_ruled_out().unwrap_err().contains("attributes"));
    assert!(!takes_told_size(&repo, &head));
}
