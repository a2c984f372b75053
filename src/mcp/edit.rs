//! `propose_annotation_edit` (only with `threat-analyzer mcp --allow-edits`): where an agent's
//! annotation may be written, the comment lines it becomes, and the one write.
//!
//! Owns: the rules an edit must pass before anything is written, each refusal a fixed sentence
//! (no repository or agent text in it):
//! - the path is relative, without `..`, names an existing regular file (no symbolic link on
//!   the way: its canonical path is the path asked for, inside the canonical workspace
//!   folder), UTF-8, no larger than the walk reads;
//! - a `.gal` sidecar is written only when it belongs to the workspace's repository (no
//!   directory between it and the workspace folder holds a `.git` of its own: a nested
//!   clone, a submodule, a vendored repository);
//! - every proposed line is one annotation (`@verb ...`), with no control character and no
//!   trailing `\` (a C-family line splice would pull the next line of code into the comment);
//!   it is written as a line comment of the file's language
//!   ([`Language::line_comment_markers`]; the line-based kinds take it as it is; JSON has no
//!   comment to write into), indented like the line it goes above, with the file's line ends.
//!
//! What the lines mean is checked by the caller, in the project's context, on the text this
//! module builds (`Project::validate_text`): no diagnostic, every line read as an annotation,
//! every other annotation of the file still read, and never `@accepts`. Must never: write
//! anything but the one file asked for, write before the caller's checks passed, or follow a
//! symbolic link when writing (`O_NOFOLLOW`).

use crate::syntax::Language;

// @exposes Workspace to #excessive-agency -- "with --allow-edits an agent writes into the repository's files"
// @mitigates Workspace against #excessive-agency using #edits-opt-in
// @exposes ThreatAnalyzer.Mcp to #path-traversal -- "propose_annotation_edit writes the file an agent names"
// @mitigates ThreatAnalyzer.Mcp against #path-traversal using #confined-workspace
// @exposes ThreatAnalyzer.Mcp to #symlink-following -- "a link planted as the file to annotate"
// @mitigates ThreatAnalyzer.Mcp against #symlink-following using #confined-workspace
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

/// The refusal of `@accepts`, in any spelling, read or not.
pub const ACCEPTS: &str = "@accepts is never written by an agent: accepting a risk is a human decision (propose a mitigation, or leave the exposure open for a person to accept)";

/// An edit: the proposed lines inserted before line `line` (1-based; one past the last line
/// appends).
pub struct Edit {
    /// 1-based line the text is inserted at (column 1).
    pub line: usize,
    /// What is inserted (whole lines, each ending with the file's line end).
    pub text: String,
    /// The file's text after the edit.
    pub new_text: String,
    /// Where `text` lies in `new_text`.
    pub range: Range<usize>,
}

/// The file an edit may write: absolute, canonical, a regular file inside `root` (canonical).
pub fn target(root: &Path, asked: &str) -> Result<PathBuf, &'static str> {
    let relative = Path::new(asked);
    if asked.is_empty()
        || !relative.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err("`path` must be relative to the workspace folder, without `..`");
    }
    let abs = crate::paths::normalize(&root.join(relative));
    let Ok(meta) = std::fs::symlink_metadata(&abs) else {
        return Err("`path` names no file: annotations are added to existing files only");
    };
    if !meta.file_type().is_file() {
        return Err("`path` is not a regular file (symbolic links are not followed)");
    }
    match std::fs::canonicalize(&abs) {
        Ok(canonical) if canonical == abs && canonical.starts_with(root) => {}
        _ => return Err("`path` leads outside the workspace folder or through a symbolic link"),
    }
    if abs.extension().is_some_and(|e| e.eq_ignore_ascii_case("gal")) && in_nested_repository(root, &abs) {
        return Err("`path` is a .gal sidecar of another repository (a nested git repository): not written");
    }
    Ok(abs)
}

/// Whether a directory between `file` and `root` (below `root`) is a git repository's top.
fn in_nested_repository(root: &Path, file: &Path) -> bool {
    file.ancestors()
        .skip(1)
        .take_while(|dir| *dir != root && dir.starts_with(root))
        .any(|dir| std::fs::symlink_metadata(dir.join(".git")).is_ok())
}

/// The file's text, if the walk could read it.
pub fn read(abs: &Path, max_size: u64) -> Result<String, &'static str> {
    match std::fs::symlink_metadata(abs) {
        Ok(meta) if meta.len() <= max_size => {}
        _ => return Err("`path` is larger than the files threat-analyzer reads"),
    }
    // Never through a link: `target` checked the path, this read must not follow a swap.
    let bytes = crate::read::read_bounded(abs, max_size, crate::read::Links::Refuse)
        .map_err(|_| "`path` could not be read")?;
    String::from_utf8(bytes).map_err(|_| "`path` is not UTF-8 text: it is not edited")
}

/// The proposed annotations as comment lines of `language` (without line ends): each line
/// may carry the language's comment marker or not.
pub fn comment_lines(language: Language, proposed: &str) -> Result<Vec<String>, &'static str> {
    let markers = language.line_comment_markers();
    let line_based = matches!(language, Language::Gal | Language::ThreatSpecDoc | Language::PlainText);
    // JSON's marker is for reading JSONC; a comment written into plain JSON breaks the file.
    if language == Language::Json || (markers.is_empty() && !line_based) {
        return Err("`path` is a file with no comments to write an annotation into (JSON)");
    }
    let mut lines = Vec::new();
    for line in proposed.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.chars().any(|c| c.is_control() && c != '\t') {
            return Err("a proposed line holds a control character");
        }
        if line.ends_with('\\') {
            return Err("a proposed line ends with `\\` (it would continue the comment onto the next line)");
        }
        let annotation = markers.iter().find_map(|m| line.strip_prefix(m)).unwrap_or(line).trim_start();
        if !annotation.starts_with('@') {
            return Err(
                "every proposed line must be one annotation, starting with `@` (after the comment marker, if any)",
            );
        }
        let verb =
            annotation[1..].split(|c: char| c.is_whitespace() || "([#\"".contains(c)).next().unwrap_or("");
        if matches!(crate::syntax::verbs::lookup(verb), Some((crate::syntax::Verb::Accepts, _))) {
            return Err(ACCEPTS);
        }
        lines.push(match markers.first() {
            Some(marker) => format!("{marker} {annotation}"),
            None => annotation.to_string(),
        });
    }
    if lines.is_empty() {
        return Err("`lines` holds no annotation");
    }
    Ok(lines)
}

/// `lines` inserted into `old` before line `at` (1-based; `None`: at the end), indented like
/// that line, with the file's line ends.
pub fn insert(old: &str, at: Option<usize>, lines: &[String]) -> Result<Edit, &'static str> {
    let eol = if old.contains("\r\n") { "\r\n" } else { "\n" };
    // Byte offset of each line's start.
    let starts: Vec<usize> = std::iter::once(0)
        .chain(old.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < old.len())
        .collect();
    let count = starts.len();
    let line = at.unwrap_or(count + 1);
    if line == 0 || line > count + 1 {
        return Err("`line` is not a line of the file (1 to one past the last line)");
    }
    let (offset, indent) = match starts.get(line - 1) {
        Some(&start) => {
            let rest = &old[start..];
            let indent = &rest[..rest.len() - rest.trim_start_matches([' ', '\t']).len()];
            (start, indent)
        }
        None => (old.len(), ""),
    };
    let mut text = String::new();
    // Appended to a last line without a line end: end it first.
    if offset == old.len() && !old.is_empty() && !old.ends_with('\n') {
        text.push_str(eol);
    }
    let from = text.len();
    for l in lines {
        text.push_str(indent);
        text.push_str(l);
        text.push_str(eol);
    }
    let new_text = format!("{}{text}{}", &old[..offset], &old[offset..]);
    Ok(Edit { line, range: offset + from..offset + text.len(), text, new_text })
}

/// Why an edit was not written.
#[derive(Debug)]
pub enum WriteError {
    /// The file no longer holds the text the edit was made from (someone edited it meanwhile):
    /// nothing was written.
    Changed,
    /// The file could not be opened (a link is never opened), read or written.
    Io,
}

/// Writes the edited text over the file, never through a symbolic link, and only if the file
/// still holds `old` (the text the edit was made from): read and written through one open
/// file, so a file changed or swapped for a link after it was read is never overwritten.
pub fn write(abs: &Path, old: &str, text: &str) -> Result<(), WriteError> {
    use std::io::{Read, Seek, Write};
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options.open(abs).map_err(|_| WriteError::Io)?;
    // One byte more than `old` tells a longer file from the same one.
    let mut now = Vec::with_capacity(old.len() + 1);
    (&mut file).take(old.len() as u64 + 1).read_to_end(&mut now).map_err(|_| WriteError::Io)?;
    if now != old.as_bytes() {
        return Err(WriteError::Changed);
    }
    file.set_len(0).map_err(|_| WriteError::Io)?;
    file.rewind().map_err(|_| WriteError::Io)?;
    file.write_all(text.as_bytes()).map_err(|_| WriteError::Io)?;
    file.sync_all().map_err(|_| WriteError::Io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_is_written_only_over_the_text_it_was_made_from() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app.py");
        std::fs::write(&file, "print()\n").unwrap();
        write(&file, "print()\n", "# @asset A\nprint()\n").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "# @asset A\nprint()\n");
        // Edited meanwhile (longer, shorter, same length): refused, the file untouched.
        for now in ["# @asset A\nprint()\nmore\n", "# @asset A\n", "# @asset B\nprint()\n"] {
            std::fs::write(&file, now).unwrap();
            assert!(
                matches!(write(&file, "# @asset A\nprint()\n", "x"), Err(WriteError::Changed)),
                "{now:?}"
            );
            assert_eq!(std::fs::read_to_string(&file).unwrap(), now);
        }
        // Swapped for a link to the same text elsewhere: never written through.
        #[cfg(unix)]
        {
            let outside = dir.path().join("outside.py");
            std::fs::write(&outside, "print()\n").unwrap();
            std::fs::remove_file(&file).unwrap();
            std::os::unix::fs::symlink(&outside, &file).unwrap();
            assert!(matches!(write(&file, "print()\n", "x"), Err(WriteError::Io)));
            assert_eq!(std::fs::read_to_string(&outside).unwrap(), "print()\n");
            assert!(read(&file, 1 << 20).is_err(), "read never follows the link either");
        }
    }

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lines_go_above_the_line_asked_for_indented_like_it_with_the_files_line_ends() {
        let edit = insert("a\n    b\n", Some(2), &lines(&["# @asset A"])).unwrap();
        assert_eq!(edit.new_text, "a\n    # @asset A\n    b\n");
        assert_eq!(&edit.new_text[edit.range.clone()], "    # @asset A\n");
        let end = insert("a\r\nb", None, &lines(&["// @asset A"])).unwrap();
        assert_eq!(end.new_text, "a\r\nb\r\n// @asset A\r\n");
        assert_eq!(end.line, 3);
        assert_eq!(&end.new_text[end.range.clone()], "// @asset A\r\n");
        assert_eq!(insert("", None, &lines(&["@asset A"])).unwrap().new_text, "@asset A\n");
        assert!(insert("a\n", Some(3), &lines(&["# @asset A"])).is_err());
        assert!(insert("a\n", Some(0), &lines(&["# @asset A"])).is_err());
    }

    #[test]
    fn proposed_lines_become_comments_of_the_language_or_are_refused() {
        assert_eq!(
            comment_lines(Language::Python, "@asset A\n# @asset B\n\n").unwrap(),
            ["# @asset A", "# @asset B"]
        );
        assert_eq!(comment_lines(Language::Go, "@asset A").unwrap(), ["// @asset A"]);
        assert_eq!(comment_lines(Language::Lua, "-- @asset A").unwrap(), ["-- @asset A"]);
        assert_eq!(comment_lines(Language::Gal, "@asset A").unwrap(), ["@asset A"]);
        assert!(comment_lines(Language::Json, "@asset A").is_err());
        assert!(comment_lines(Language::Python, "print(1)").is_err());
        assert!(comment_lines(Language::C, "@asset A \\").is_err());
        assert!(comment_lines(Language::Python, "@asset A\rprint(1)").is_err());
        assert!(comment_lines(Language::Python, "  \n").is_err());
        // Accepting a risk, in any spelling, parsed or not.
        for accepts in ["@accepts #x on A", "# @Accept #x on $(id)", "@accepts"] {
            assert_eq!(comment_lines(Language::Python, accepts), Err(ACCEPTS), "{accepts}");
        }
    }
}
