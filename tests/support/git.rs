//! Test-only git repositories, built by running the `git` program in a temporary directory
//! (the product never runs it; tests may, to make fixtures).
//!
//! Every command runs with a fixed author, committer and dates (one second later per commit),
//! no system or global configuration (`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL=/dev/null`,
//! `HOME` inside the temporary directory) and no inherited `GIT_*` variables, so commit ids are
//! the same on every machine.
//!
//! ```ignore
//! let repo = GitRepo::new();
//! let first = repo.commit("first", &[("app.py", "# @exposes A to #b\n")]);
//! repo.branch("feature");
//! repo.commit_changes("second", &[("app.py", None)]); // deletes app.py
//! ```
#![allow(dead_code)]

use std::cell::Cell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A repository in a temporary directory (removed on drop), with `main` as its first branch.
pub struct GitRepo {
    /// Holds the repository (`repo/`), the `HOME` of every command, and any clones or linked
    /// worktrees made from it.
    tmp: tempfile::TempDir,
    /// The working tree commands run in.
    root: PathBuf,
    /// Commits made so far (each one's dates are one second after the last).
    commits: Cell<u64>,
}

/// Author and committer date of the first commit (2026-01-01T00:00:00Z).
const EPOCH: u64 = 1_767_225_600;

impl GitRepo {
    /// An empty repository on branch `main`.
    pub fn new() -> GitRepo {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        std::fs::create_dir(&root).unwrap();
        let repo = GitRepo { tmp, root, commits: Cell::new(0) };
        repo.git(&["init", "--quiet", "--initial-branch=main"]);
        repo
    }

    /// The working tree.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The temporary directory around the repository (for clones and worktrees beside it).
    pub fn scratch(&self) -> &Path {
        self.tmp.path()
    }

    /// Runs `git args` in the working tree; panics unless it succeeds; returns its trimmed
    /// standard output.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.root, args, None)
    }

    /// Runs `git args` in `dir` with `input` on standard input.
    pub fn git_in(&self, dir: &Path, args: &[&str], input: Option<&[u8]>) -> String {
        let date = format!("@{} +0000", EPOCH + self.commits.get());
        let mut command = Command::new("git");
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("GIT_") {
                command.env_remove(key);
            }
        }
        command
            .args(args)
            .current_dir(dir)
            .env("HOME", self.tmp.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Test Author")
            .env("GIT_AUTHOR_EMAIL", "author@example.com")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_NAME", "Test Committer")
            .env("GIT_COMMITTER_EMAIL", "committer@example.com")
            .env("GIT_COMMITTER_DATE", &date)
            .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the git program is needed to build test repositories");
        if let Some(input) = input {
            child.stdin.take().unwrap().write_all(input).unwrap();
        }
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "git {args:?} in {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    }

    /// Writes `files` (path, content) into the working tree, commits everything, and returns
    /// the new commit's id.
    pub fn commit(&self, message: &str, files: &[(&str, &str)]) -> String {
        let changes: Vec<(&str, Option<&str>)> =
            files.iter().map(|(path, text)| (*path, Some(*text))).collect();
        self.commit_changes(message, &changes)
    }

    /// Like [`GitRepo::commit`], where `None` deletes the file.
    pub fn commit_changes(&self, message: &str, changes: &[(&str, Option<&str>)]) -> String {
        for (path, text) in changes {
            let path = self.root.join(path);
            match text {
                Some(text) => {
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(&path, text).unwrap();
                }
                None => std::fs::remove_file(&path).unwrap(),
            }
        }
        self.git(&["add", "--all"]);
        self.commits.set(self.commits.get() + 1);
        self.git(&["commit", "--quiet", "--allow-empty", "--message", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Moves the clock one second on (for commits made by `git` commands such as `merge`).
    pub fn commits_tick(&self) {
        self.commits.set(self.commits.get() + 1);
    }

    /// Creates branch `name` at HEAD (without switching to it).
    pub fn branch(&self, name: &str) {
        self.git(&["branch", name]);
    }

    /// Creates an annotated tag `name` at HEAD.
    pub fn tag(&self, name: &str) {
        self.git(&["tag", "--annotate", "--message", name, name]);
    }

    /// Checks out `what` (a branch, or a commit for a detached HEAD).
    pub fn checkout(&self, what: &str) {
        self.git(&["checkout", "--quiet", what]);
    }

    /// Adds a linked worktree of `branch` (a new branch of that name at HEAD) beside the
    /// repository, and returns its directory.
    pub fn worktree(&self, branch: &str) -> PathBuf {
        let dir = self.tmp.path().join(format!("worktree-{branch}"));
        self.git(&["worktree", "add", "--quiet", "-b", branch, dir.to_str().unwrap()]);
        dir
    }

    /// Moves every ref into `packed-refs`.
    pub fn pack_refs(&self) {
        self.git(&["pack-refs", "--all"]);
    }

    /// Packs every object into a packfile (and the refs into `packed-refs`).
    pub fn gc(&self) {
        self.git(&["gc", "--quiet", "--aggressive", "--prune=now"]);
    }

    /// A `git clone --depth DEPTH file://...` of this repository beside it, as CI checks out.
    pub fn shallow_clone(&self, depth: u32) -> PathBuf {
        let dir = self.tmp.path().join(format!("shallow-{depth}"));
        let url = format!("file://{}", self.root.display());
        self.git_in(
            self.tmp.path(),
            &["clone", "--quiet", "--depth", &depth.to_string(), &url, dir.to_str().unwrap()],
            None,
        );
        dir
    }

    /// Writes a blob and returns its id.
    pub fn blob(&self, content: &[u8]) -> String {
        self.git_in(&self.root, &["hash-object", "-w", "--stdin"], Some(content))
    }

    /// Writes a tree of exactly these entries (mode such as `100644`, `120000`, `160000`,
    /// `40000`; raw name; object id), unchecked, as a hostile repository could hold it.
    pub fn raw_tree(&self, entries: &[(&str, &[u8], &str)]) -> String {
        let mut bytes = Vec::new();
        for (mode, name, id) in entries {
            bytes.extend_from_slice(mode.as_bytes());
            bytes.push(b' ');
            bytes.extend_from_slice(name);
            bytes.push(0);
            bytes.extend_from_slice(&hex_to_bytes(id));
        }
        self.git_in(&self.root, &["hash-object", "-w", "-t", "tree", "--literally", "--stdin"], Some(&bytes))
    }

    /// Commits `tree` on top of HEAD (moving the current branch), and returns the commit's id.
    pub fn commit_tree(&self, tree: &str, message: &str) -> String {
        self.commits.set(self.commits.get() + 1);
        let commit = self.git(&["commit-tree", tree, "-p", "HEAD", "-m", message]);
        self.git(&["update-ref", "HEAD", &commit]);
        commit
    }
}

fn hex_to_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}
