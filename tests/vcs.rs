//! `vcs`: revisions and snapshots read from real repositories (built with the `git` program in
//! temporary directories; the product reads them in-process).

#[path = "support/git.rs"]
mod git;

use git::GitRepo;
use std::path::Path;
use threat_analyzer::vcs::{GitRepository, Revision, Snapshot, VcsError};

/// Every file under `root`, relative, `/`-separated, with its text, sorted.
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
