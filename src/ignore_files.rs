//! Ignore files of a walk: `.ignore`, `.gitignore` and `.git/info/exclude` of every walked
//! directory and of its ancestors, and the user's global git excludes.
//!
//! Owns: finding and reading a repository's ignore files, and matching paths against them with
//! the precedence of the `ignore` crate's walker (the walker behind ripgrep), which
//! [`crate::walk`] uses with its own ignore-file loading turned off: that loader reads a file
//! through symbolic links and without a size limit, so a committed `.gitignore -> /dev/zero`
//! took every byte of memory. Here every repository file goes through [`crate::read`] (no
//! links, regular files, [`crate::limits::MAX_CONFIG_FILE_SIZE`]). Must never: read an ignore
//! file any other way, or drop one silently (each refused file is kept for the walk's notes).
//!
//! Precedence (the crate's): in each directory from the path's own up to the filesystem root,
//! the first `.ignore` rule that matches wins over any `.gitignore` rule, which wins over
//! `.git/info/exclude`, which wins over the global excludes; within one kind, the deepest
//! directory's matching rule wins (so `!keep.py` below re-includes what a parent ignored).
//! Git's own rules (`.gitignore`, `info/exclude`) stop at the repository: those of directories
//! above the first one that holds a `.git` do not apply (a `*` in a home directory's dotfiles
//! repository must not hide a project cloned below it); `.ignore` files apply all the way up.
//!
//! The global excludes file (git's `core.excludesFile`, else `$XDG_CONFIG_HOME/git/ignore`) is
//! the user's own configuration, not the repository's: the crate reads it, links included
//! (dotfile managers link it).

use crate::read::{Links, Refusal, read_bounded};
use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// The ignore rules of a walk, loaded directory by directory as the walk reaches them (shared
/// by its threads).
pub struct IgnoreRules {
    global: Gitignore,
    /// Per directory (its path's bytes: std's `Path` hash walks them one at a time so that it
    /// agrees with component-wise equality, and the walk spells each directory one way): the
    /// rules of the nearest directory at or above it that has any.
    dirs: RwLock<FxHashMap<Vec<u8>, Option<Arc<DirRules>>>>,
    refused: Mutex<Vec<(PathBuf, Refusal)>>,
}

/// One directory's rules and those of the next directory above it that has any (or is the
/// top of a git work tree).
struct DirRules {
    ignore: Gitignore,
    git_ignore: Gitignore,
    git_exclude: Gitignore,
    /// Whether the directory holds a `.git` (a directory or a file): git's rules of the
    /// directories above it do not apply below it.
    has_git: bool,
    parent: Option<Arc<DirRules>>,
}

impl Default for IgnoreRules {
    fn default() -> Self {
        Self::new()
    }
}

impl IgnoreRules {
    pub fn new() -> Self {
        IgnoreRules { global: Gitignore::global().0, dirs: RwLock::default(), refused: Mutex::default() }
    }

    /// Whether `path` (absolute, as the walk found it) is ignored.
    pub fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        let Some(dir) = path.parent() else { return false };
        let (mut ignore, mut git_ignore, mut git_exclude) = (Match::None, Match::None, Match::None);
        let mut rules = self.rules_of(dir);
        let mut saw_git = false;
        while let Some(dir_rules) = rules {
            if ignore.is_none() {
                ignore = dir_rules.ignore.matched(path, is_dir).map(|_| ());
            }
            if !saw_git && git_ignore.is_none() {
                git_ignore = dir_rules.git_ignore.matched(path, is_dir).map(|_| ());
            }
            if !saw_git && git_exclude.is_none() {
                git_exclude = dir_rules.git_exclude.matched(path, is_dir).map(|_| ());
            }
            saw_git |= dir_rules.has_git;
            rules = dir_rules.parent.clone();
        }
        ignore.or(git_ignore).or(git_exclude).or(self.global.matched(path, is_dir).map(|_| ())).is_ignore()
    }

    /// The ignore files that were not read (links, not regular files, too large, unreadable)
    /// or had lines that are not valid globs, with why; sorted by path.
    pub fn take_refused(&self) -> Vec<(PathBuf, Refusal)> {
        let mut refused = std::mem::take(&mut *self.refused.lock().unwrap_or_else(|e| e.into_inner()));
        refused.sort_by(|a, b| a.0.cmp(&b.0));
        // Two threads may load one directory at once.
        refused.dedup();
        refused
    }

    fn rules_of(&self, dir: &Path) -> Option<Arc<DirRules>> {
        let key = dir.as_os_str().as_encoded_bytes();
        if let Some(known) = self.dirs.read().unwrap_or_else(|e| e.into_inner()).get(key) {
            return known.clone();
        }
        let parent = dir.parent().and_then(|p| self.rules_of(p));
        let ignore = self.load(dir, &dir.join(".ignore"));
        let git_ignore = self.load(dir, &dir.join(".gitignore"));
        // One `lstat` of `.git` answers both: is this a work tree's top, and where is its git
        // directory.
        let dot_git = std::fs::symlink_metadata(dir.join(".git")).ok();
        let git_exclude = self.git_exclude(dir, dot_git.as_ref());
        let has_git = dot_git.is_some();
        let rules = if ignore.is_empty() && git_ignore.is_empty() && git_exclude.is_empty() && !has_git {
            parent
        } else {
            Some(Arc::new(DirRules { ignore, git_ignore, git_exclude, has_git, parent }))
        };
        self.dirs.write().unwrap_or_else(|e| e.into_inner()).insert(key.to_vec(), rules.clone());
        rules
    }

    /// The rules of the ignore file at `file`, for paths under `dir`.
    fn load(&self, dir: &Path, file: &Path) -> Gitignore {
        let Some(bytes) = self.read(file) else { return Gitignore::empty() };
        let text = String::from_utf8_lossy(&bytes);
        let mut builder = GitignoreBuilder::new(dir);
        for (i, line) in text.lines().enumerate() {
            let line = if i == 0 { line.trim_start_matches('\u{feff}') } else { line };
            if let Err(err) = builder.add_line(Some(file.to_path_buf()), line) {
                let message = format!("line {}: {err}", i + 1);
                self.refuse(file, Refusal::Unreadable { message, missing: false });
            }
        }
        builder.build().unwrap_or_else(|err| {
            self.refuse(file, Refusal::Unreadable { message: err.to_string(), missing: false });
            Gitignore::empty()
        })
    }

    /// The `info/exclude` rules of the git repository whose work tree is `dir`, if it is one:
    /// `.git` is its git directory, or a file naming it (`gitdir: ...`, in linked work trees and
    /// submodules, whose common directory holds `info/exclude`). `meta`: the `lstat` of its
    /// `.git`, if there is one.
    fn git_exclude(&self, dir: &Path, meta: Option<&std::fs::Metadata>) -> Gitignore {
        let dot_git = dir.join(".git");
        let Some(meta) = meta else { return Gitignore::empty() };
        let git_dir = if meta.is_dir() {
            dot_git
        } else {
            // A link or anything else is refused here, and a file read by the same rule.
            let Some(bytes) = self.read(&dot_git) else { return Gitignore::empty() };
            let text = String::from_utf8_lossy(&bytes);
            let Some(named) = text.lines().next().and_then(|l| l.strip_prefix("gitdir: ")) else {
                return Gitignore::empty();
            };
            let git_dir = dir.join(named.trim_end());
            match self.read(&git_dir.join("commondir")) {
                Some(common) => git_dir.join(String::from_utf8_lossy(&common).trim_end()),
                None => git_dir,
            }
        };
        let info = git_dir.join("info");
        match std::fs::symlink_metadata(&info) {
            Ok(meta) if meta.is_dir() => self.load(dir, &info.join("exclude")),
            Ok(meta) if meta.file_type().is_symlink() => {
                self.refuse(&info, Refusal::Symlink);
                Gitignore::empty()
            }
            Ok(_) => {
                self.refuse(&info, Refusal::NotRegular);
                Gitignore::empty()
            }
            Err(_) => Gitignore::empty(),
        }
    }

    /// A file's bytes by the bounded reader's rule; `None` (refusals kept) when not read.
    fn read(&self, file: &Path) -> Option<Vec<u8>> {
        match read_bounded(file, crate::limits::MAX_CONFIG_FILE_SIZE, Links::Refuse) {
            Ok(bytes) => Some(bytes),
            Err(why) if why.is_missing() => None,
            Err(why) => {
                self.refuse(file, why);
                None
            }
        }
    }

    fn refuse(&self, file: &Path, why: Refusal) {
        self.refused.lock().unwrap_or_else(|e| e.into_inner()).push((file.to_path_buf(), why));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeper_rules_and_ignore_files_take_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub/deep")).unwrap();
        std::fs::write(root.join(".gitignore"), "*.log\nbuild/\nsub/keep.py\n").unwrap();
        std::fs::write(root.join("sub/.gitignore"), "!keep.log\n").unwrap();
        std::fs::write(root.join("sub/deep/.ignore"), "!x.py\n").unwrap();
        std::fs::write(root.join("sub/deep/.gitignore"), "x.py\n").unwrap();
        let rules = IgnoreRules::new();
        assert!(rules.is_ignored(&root.join("a.log"), false));
        assert!(rules.is_ignored(&root.join("build"), true));
        assert!(!rules.is_ignored(&root.join("build"), false));
        assert!(rules.is_ignored(&root.join("sub/keep.py"), false));
        assert!(!rules.is_ignored(&root.join("sub/keep.log"), false));
        assert!(rules.is_ignored(&root.join("sub/other.log"), false));
        assert!(!rules.is_ignored(&root.join("sub/deep/x.py"), false));
        assert!(rules.take_refused().is_empty());
    }

    #[test]
    fn git_rules_stop_at_the_repository_and_ignore_files_do_not() {
        // A dotfiles repository in the home directory ignores everything; a project cloned
        // below it is a repository of its own.
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        std::fs::create_dir_all(home.join(".git/info")).unwrap();
        std::fs::write(home.join(".gitignore"), "*\n").unwrap();
        std::fs::write(home.join(".git/info/exclude"), "*.py\n").unwrap();
        std::fs::write(home.join(".ignore"), "*.tmp\n").unwrap();
        let project = home.join("src/project");
        std::fs::create_dir_all(project.join(".git")).unwrap();
        std::fs::write(project.join(".gitignore"), "x.py\n").unwrap();
        for name in ["a.py", "b.tmp", "x.py"] {
            std::fs::write(project.join(name), "").unwrap();
        }
        let rules = IgnoreRules::new();
        assert!(!rules.is_ignored(&project.join("a.py"), false), "the home repository's rules leaked in");
        assert!(rules.is_ignored(&project.join("b.tmp"), false), ".ignore applies all the way up");
        assert!(rules.is_ignored(&project.join("x.py"), false));
        // Above the project's work tree, the home repository's own rules apply.
        assert!(rules.is_ignored(&home.join("src/other.py"), false));
        // As git and ripgrep decide: the `ignore` crate keeps this boundary only when it
        // requires a repository (`require_git(true)`); the walk reads ignore files outside
        // repositories too, where the crate would then apply a home directory's `*`.
        let walked: Vec<String> = ignore::WalkBuilder::new(&project)
            .hidden(false)
            .require_git(true)
            .git_global(false)
            .build()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| !name.starts_with('.'))
            .collect();
        assert_eq!(walked, ["a.py"]);
    }

    #[test]
    fn git_info_exclude_applies_below_the_work_tree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".git/info")).unwrap();
        std::fs::write(root.join(".git/info/exclude"), "local.py\n").unwrap();
        let rules = IgnoreRules::new();
        assert!(rules.is_ignored(&root.join("local.py"), false));
        assert!(!rules.is_ignored(&root.join("other.py"), false));
    }

    #[test]
    fn linked_work_trees_use_the_common_git_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("main/.git/info")).unwrap();
        std::fs::create_dir_all(root.join("main/.git/worktrees/wt")).unwrap();
        std::fs::create_dir_all(root.join("wt")).unwrap();
        std::fs::write(root.join("main/.git/info/exclude"), "local.py\n").unwrap();
        std::fs::write(root.join("main/.git/worktrees/wt/commondir"), "../..\n").unwrap();
        std::fs::write(root.join("wt/.git"), "gitdir: ../main/.git/worktrees/wt\n").unwrap();
        let rules = IgnoreRules::new();
        assert!(rules.is_ignored(&root.join("wt/local.py"), false));
        assert!(!rules.is_ignored(&root.join("wt/other.py"), false));
        assert!(rules.take_refused().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn linked_ignore_files_are_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("rules"), "*.py\n").unwrap();
        std::os::unix::fs::symlink(root.join("rules"), root.join(".gitignore")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", root.join(".ignore")).unwrap();
        std::fs::create_dir_all(root.join("elsewhere/info")).unwrap();
        std::fs::write(root.join("elsewhere/info/exclude"), "*.py\n").unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();
        std::os::unix::fs::symlink(root.join("elsewhere/info"), root.join(".git/info")).unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::os::unix::fs::symlink(root.join("elsewhere"), root.join("sub/.git")).unwrap();
        let rules = IgnoreRules::new();
        assert!(!rules.is_ignored(&root.join("a.py"), false));
        assert!(!rules.is_ignored(&root.join("sub/b.py"), false));
        let refused = rules.take_refused();
        assert_eq!(
            refused,
            vec![
                (root.join(".git/info"), Refusal::Symlink),
                (root.join(".gitignore"), Refusal::Symlink),
                (root.join(".ignore"), Refusal::Symlink),
                (root.join("sub/.git"), Refusal::Symlink),
            ]
        );
    }
}
