//! The file behind `threat-analyzer.showDfd`: where the HTML preview of the data-flow diagram
//! is written, and how.
//!
//! Owns: the preview's location and the write. The directory is
//! `$XDG_CACHE_HOME/threat-analyzer/preview/` (a relative or empty `XDG_CACHE_HOME` is
//! ignored, as the XDG base-directory spec says), else `$HOME/.cache/threat-analyzer/preview/`;
//! directories it creates get mode 0700, the file 0600. The file name is `dfd-` + the first 16
//! hex digits of the SHA-256 of the workspace folders' paths + `.html`, so each workspace has
//! one preview that every call replaces (written to a temporary file in the same directory,
//! then renamed, so a browser never reads half a page). Must never: write inside a workspace
//! folder (checked on the paths with symbolic links resolved, before anything is created; the
//! command fails instead), write anywhere but that one directory, or render anything (the page
//! comes from `render::report_html::dfd_page`).

use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

/// The preview directory from the values of `XDG_CACHE_HOME` and `HOME`.
pub fn preview_dir(xdg_cache_home: Option<OsString>, home: Option<OsString>) -> Result<PathBuf, String> {
    let xdg = xdg_cache_home.map(PathBuf::from).filter(|p| p.is_absolute());
    let home = home.map(PathBuf::from).filter(|p| p.is_absolute());
    let cache = match (xdg, home) {
        (Some(xdg), _) => xdg,
        (None, Some(home)) => home.join(".cache"),
        (None, None) => {
            return Err(
                "no cache directory for the preview: set XDG_CACHE_HOME or HOME to an absolute path".into()
            );
        }
    };
    Ok(cache.join("threat-analyzer").join("preview"))
}

/// The preview's file name for these workspace folders.
pub fn file_name(roots: &[PathBuf]) -> String {
    let mut hasher = Sha256::new();
    for root in roots {
        hasher.update(root.as_os_str().as_encoded_bytes());
        hasher.update(b"\n");
    }
    let mut name = String::from("dfd-");
    for b in &hasher.finalize()[..8] {
        let _ = write!(name, "{b:02x}");
    }
    name.push_str(".html");
    name
}

/// Writes `html` as the preview of the workspace with these folders, into `dir` (from
/// [`preview_dir`]); returns the file's path. Fails, writing nothing, when `dir` is inside a
/// workspace folder.
pub fn write(dir: &Path, roots: &[PathBuf], html: &str) -> Result<PathBuf, String> {
    let resolved = resolve(dir);
    if let Some(root) = roots.iter().find(|r| resolved.starts_with(resolve(r))) {
        return Err(format!(
            "refusing to write the preview to {}: it is inside the workspace folder {} (set XDG_CACHE_HOME \
             to a directory outside the workspace)",
            dir.display(),
            root.display()
        ));
    }
    create_private_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // Once more on the directory as created, should anything have moved meanwhile.
    let real = std::fs::canonicalize(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    if roots.iter().any(|r| real.starts_with(resolve(r))) {
        return Err(format!(
            "refusing to write the preview to {}: it is inside the workspace",
            real.display()
        ));
    }
    let path = dir.join(file_name(roots));
    let temp = dir.join(format!(".{}.{}.tmp", file_name(roots), std::process::id()));
    let result = write_private(&temp, html.as_bytes()).and_then(|()| std::fs::rename(&temp, &path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(format!("cannot write {}: {e}", path.display()));
    }
    Ok(path)
}

/// `path` with symbolic links resolved: its longest existing prefix canonicalised, the rest
/// (which cannot hold a link) appended lexically, `..` dropping a component. So a directory not
/// created yet can be compared with a workspace folder.
fn resolve(path: &Path) -> PathBuf {
    let parts: Vec<Component> = path.components().collect();
    for k in (1..=parts.len()).rev() {
        let prefix: PathBuf = parts[..k].iter().collect();
        if let Ok(mut out) = std::fs::canonicalize(&prefix) {
            for part in &parts[k..] {
                match part {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::CurDir => {}
                    other => out.push(other),
                }
            }
            return out;
        }
    }
    path.to_path_buf()
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Creates `path` (replacing a stale one), readable by the owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_dir_follows_xdg_then_home() {
        let dir = |x: Option<&str>, h: Option<&str>| preview_dir(x.map(Into::into), h.map(Into::into));
        assert_eq!(dir(Some("/c"), Some("/h")), Ok(PathBuf::from("/c/threat-analyzer/preview")));
        assert_eq!(dir(Some("rel"), Some("/h")), Ok(PathBuf::from("/h/.cache/threat-analyzer/preview")));
        assert_eq!(dir(Some(""), Some("/h")), Ok(PathBuf::from("/h/.cache/threat-analyzer/preview")));
        assert!(dir(None, Some("h")).is_err());
        assert!(dir(None, None).is_err());
    }

    #[test]
    fn file_names_differ_per_workspace() {
        let a = file_name(&[PathBuf::from("/w/a")]);
        assert!(a.starts_with("dfd-") && a.ends_with(".html") && a.len() == 4 + 16 + 5, "{a}");
        assert_eq!(a, file_name(&[PathBuf::from("/w/a")]));
        assert_ne!(a, file_name(&[PathBuf::from("/w/b")]));
    }

    #[test]
    fn refuses_the_workspace_and_writes_privately_elsewhere() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("ws");
        std::fs::create_dir_all(&root).unwrap();
        let inside = root.join("x/../.cache/threat-analyzer/preview");
        let err = write(&inside, std::slice::from_ref(&root), "<p>").unwrap_err();
        assert!(err.contains("inside the workspace"), "{err}");
        assert!(!root.join(".cache").exists(), "nothing created in the workspace");
        // Through a symbolic link into the workspace: refused too.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&root, tmp.path().join("link")).unwrap();
            let err = write(&tmp.path().join("link/cache"), std::slice::from_ref(&root), "<p>").unwrap_err();
            assert!(err.contains("inside the workspace"), "{err}");
        }
        let dir = tmp.path().join("cache/threat-analyzer/preview");
        let path = write(&dir, std::slice::from_ref(&root), "<p>one").unwrap();
        let again = write(&dir, std::slice::from_ref(&root), "<p>two").unwrap();
        assert_eq!(path, again);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "<p>two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&path), 0o600);
        }
    }
}
