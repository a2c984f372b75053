//! Path utilities the walk and both shells share: lexical normalisation, the base directory
//! and `/`-separated relative paths that reports show, and whether a path lies inside the
//! workspace folders.
//!
//! Owns: comparing and displaying paths. Everything here is lexical (`..` is resolved, links
//! are not) except [`within_folders`], which asks the file system whether a component is a
//! symbolic link. Must never: read or write a file's content, walk a directory, or resolve a
//! path against the process's current directory (callers pass the directory they mean).

use std::path::{Component, Path, PathBuf};

/// Lexically normalised absolute path: `.` dropped, `..` pops a component (never past the root).
pub fn normalize(path: &Path) -> PathBuf {
    if is_normal(path) {
        return path.to_path_buf();
    }
    by_components(path)
}

/// [`normalize`] one component at a time.
fn by_components(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(component);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether [`normalize`] gives `path` back byte for byte (most paths the walk builds): an
/// absolute path of plain components, with no empty, `.` or `..` one and no trailing `/`.
pub fn is_normal(path: &Path) -> bool {
    let mut parts = path.as_os_str().as_encoded_bytes().split(|&byte| byte == b'/');
    cfg!(unix) && parts.next() == Some(b"") && parts.all(|part| !matches!(part, b"" | b"." | b".."))
}

/// The directory reported paths are relative to: `cwd` when every root (an absolute path, and
/// whether it is a directory) lies inside it, else the deepest directory holding every root
/// (see the `walk` module docs, *Reported paths*).
pub fn base_dir(cwd: &Path, roots: &[(PathBuf, bool)]) -> PathBuf {
    if roots.iter().all(|(root, _)| root.starts_with(cwd)) {
        return cwd.to_path_buf();
    }
    let dir_of = |(root, is_dir): &(PathBuf, bool)| -> PathBuf {
        if *is_dir { root.clone() } else { root.parent().map_or_else(|| root.clone(), Path::to_path_buf) }
    };
    let mut base = dir_of(&roots[0]);
    for root in &roots[1..] {
        let dir = dir_of(root);
        while !dir.starts_with(&base) {
            if !base.pop() {
                break;
            }
        }
    }
    base
}

/// `abs` relative to `base`, `/`-separated; falls back to the whole path outside `base`.
pub fn relative_path(base: &Path, abs: &Path) -> String {
    // The common case (a walked file: `base`, `/`, plain UTF-8 segments) without taking either
    // path apart into components.
    let (abs_bytes, base_bytes) = (abs.as_os_str().as_encoded_bytes(), base.as_os_str().as_encoded_bytes());
    #[cfg(unix)]
    if let Some(rest) = abs_bytes.strip_prefix(base_bytes).and_then(|rest| rest.strip_prefix(b"/"))
        && let Ok(text) = std::str::from_utf8(rest)
        && plain_segments(text)
    {
        return text.to_string();
    }
    relative_by_components(base, abs)
}

/// Whether `/`-separated `text` has no empty, `.` or `..` segment.
fn plain_segments(text: &str) -> bool {
    text.split('/').all(|segment| !matches!(segment, "" | "." | ".."))
}

/// [`relative_path`] through [`Path::strip_prefix`] and components.
fn relative_by_components(base: &Path, abs: &Path) -> String {
    let rel = abs.strip_prefix(base).unwrap_or(abs);
    // The common case (a walked file: plain UTF-8 segments) is the path's own text; the
    // component split below gives the same string for it, one allocation per segment slower.
    #[cfg(unix)]
    if let Some(text) = rel.to_str()
        && plain_segments(text)
    {
        return text.to_string();
    }
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::RootDir | Component::Prefix(_) => None,
            Component::CurDir => None,
            Component::ParentDir => Some("..".to_string()),
        })
        .collect();
    if parts.is_empty() {
        // A file given directly as the base itself cannot happen (base is a directory), but
        // never return an empty path.
        return abs
            .file_name()
            .map_or_else(|| abs.to_string_lossy().into_owned(), |n| n.to_string_lossy().into_owned());
    }
    parts.join("/")
}

/// Whether `path` lies inside one of `roots` with no symbolic link on the way (every component
/// below the folder is checked with `lstat`; a missing one counts as outside): where the
/// language server may make the editor write.
pub fn within_folders(path: &Path, roots: &[PathBuf]) -> bool {
    if !path.is_absolute() || normalize(path) != path {
        return false;
    }
    roots.iter().map(|r| normalize(r)).filter(|root| path.starts_with(root) && path != root).any(|root| {
        let Ok(rel) = path.strip_prefix(&root) else { return false };
        let mut at = root.clone();
        rel.components().all(|c| {
            at.push(c);
            std::fs::symlink_metadata(&at).is_ok_and(|m| !m.file_type().is_symlink())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcuts for plain paths give what the component walks give.
    #[test]
    fn shortcuts_agree_with_the_component_walks() {
        let cases = [
            "/",
            "//",
            "/a",
            "/a/",
            "/a//b",
            "/a/./b",
            "/a/../b",
            "/a/.",
            "/a/..",
            "/..",
            "/.hidden/..x/x..",
            "/a/b.c/.d",
            "a/b",
            "",
            ".",
            "./a",
            "/a/b/c/../../d",
            "/./a",
            "/a/.../b",
        ];
        for case in cases {
            let path = Path::new(case);
            assert_eq!(normalize(path).as_os_str(), by_components(path).as_os_str(), "{case:?}");
            if is_normal(path) {
                assert_eq!(
                    by_components(path).as_os_str(),
                    path.as_os_str(),
                    "{case:?} is returned as it is"
                );
            }
        }
        for base in ["/", "/a", "/a/", "//a", "/a/.", "/a/b", "/x"] {
            for case in cases {
                let (base, abs) = (Path::new(base), Path::new(case));
                let (fast, slow) = (relative_path(base, abs), relative_by_components(base, abs));
                assert_eq!(fast, slow, "{case:?} relative to {base:?}");
            }
        }
        assert!(is_normal(Path::new("/a/.hidden/..x")));
        assert!(!is_normal(Path::new("/a/../b")));
    }

    #[test]
    fn base_dir_is_cwd_when_every_root_is_inside_it() {
        let cwd = Path::new("/repo");
        let roots = [(PathBuf::from("/repo/src"), true), (PathBuf::from("/repo/a.py"), false)];
        assert_eq!(base_dir(cwd, &roots), PathBuf::from("/repo"));
    }

    #[test]
    fn base_dir_is_common_ancestor_outside_cwd() {
        let cwd = Path::new("/home/me");
        let one = [(PathBuf::from("/srv/repo"), true)];
        assert_eq!(base_dir(cwd, &one), PathBuf::from("/srv/repo"));
        let file = [(PathBuf::from("/srv/repo/app.py"), false)];
        assert_eq!(base_dir(cwd, &file), PathBuf::from("/srv/repo"));
        let two = [(PathBuf::from("/srv/repo/a"), true), (PathBuf::from("/srv/repo/b/c"), true)];
        assert_eq!(base_dir(cwd, &two), PathBuf::from("/srv/repo"));
    }

    #[test]
    fn relative_paths_use_slashes_and_normalize() {
        assert_eq!(relative_path(Path::new("/r"), &normalize(Path::new("/r/./a/../b/c.py"))), "b/c.py");
        // Unnormalised paths take the component split: same result as a normalised spelling.
        let cases = [
            ("/r/a//b.py", "a/b.py"),
            ("/r/a/./b.py", "a/b.py"),
            ("/r/a/", "a"),
            ("/r/../x.py", "../x.py"),
            ("/r/src/m\u{e9}/c.py", "src/m\u{e9}/c.py"),
            ("/r", "r"),
            ("/elsewhere/d.py", "elsewhere/d.py"),
        ];
        for (abs, rel) in cases {
            assert_eq!(relative_path(Path::new("/r"), Path::new(abs)), rel, "{abs}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn within_folders_only_without_links() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let d = dir.path();
        for rel in ["src/b.py", "build/c.py"] {
            std::fs::create_dir_all(d.join(rel).parent().unwrap()).unwrap();
            std::fs::write(d.join(rel), "# @asset A\n").unwrap();
        }
        std::fs::write(outside.path().join("o.py"), "# @asset A\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), d.join("linked")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("o.py"), d.join("link.py")).unwrap();
        let roots = [d.to_path_buf()];
        assert!(within_folders(&d.join("src/b.py"), &roots));
        assert!(within_folders(&d.join("build/c.py"), &roots));
        assert!(!within_folders(&d.join("linked/o.py"), &roots));
        assert!(!within_folders(&d.join("link.py"), &roots));
        assert!(!within_folders(&d.join("src/../../x.py"), &roots));
        assert!(!within_folders(&outside.path().join("o.py"), &roots));
        assert!(!within_folders(&d.join("src/b.py"), &[]));
    }
}
