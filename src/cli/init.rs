//! The `init` command: scaffolds threat-analyzer's files in a project.
//!
//! `threat-analyzer init [PATH] [--dialect gal|threatspec] [--ci github|gitlab|none]
//! [--dry-run]` writes, under PATH (created when missing):
//!
//! - GAL: `.guardlink/definitions.gal`, commented examples only, so that a fresh project
//!   checks clean; ThreatSpec: `threatspec.yaml` naming the project after its directory and
//!   reading all of it (the shape [`crate::config::parse_threatspec`] reads).
//! - `--ci github` (the default): `.github/workflows/threat-model.yml`, the text of
//!   `examples/ci/github-actions.yml`; `--ci gitlab`: `.gitlab-ci.yml`, the text of
//!   `examples/ci/gitlab-ci.yml` (the README shows it too). One source of truth: the examples
//!   are compiled in.
//!
//! Owns: the scaffold's file names and contents, and what `init` says about each file. Must
//! never: overwrite, truncate or follow a link at anything that exists (every file goes through
//! [`super::output::create_new`], as a default output confined to PATH), or write anything
//! with `--dry-run`.
//!
//! Exit status: 0 when at least one file was written (or, with `--dry-run`, would be) and
//! none failed; 2 when nothing was written because every file exists, or when a file could not
//! be written (the others are still written), or PATH is not a directory.

use super::output::{self, Created, Requested};
use super::{EXIT_ERROR, EXIT_OK};
use crate::paths::normalize;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const INIT_AFTER_HELP: &str = "\
Files (under PATH; directories are created as needed):
  --dialect gal          .guardlink/definitions.gal (commented examples of shared definitions)
  --dialect threatspec   threatspec.yaml (the project's name and `paths:`)
  --ci github            .github/workflows/threat-model.yml: `check` uploaded to code scanning
                         (SARIF) and, on pull requests, `diff` posted as a comment
  --ci gitlab            .gitlab-ci.yml: a job that runs `check` and, in merge requests, `diff`

An existing file is never overwritten: it is named and left as it is, and the others are
written. Nothing is written through a symbolic link.

Examples:
  threat-analyzer init
  threat-analyzer init --dialect threatspec --ci gitlab
  threat-analyzer init --dry-run              Show the files and their contents only

Exit status: 0 at least one file written (or, with --dry-run, to be written) and no error;
2 every file exists already, a file could not be written, or a usage error.";

/// The GitHub Actions workflow: the repository's documented example, compiled in.
pub const GITHUB_WORKFLOW: &str = include_str!("../../examples/ci/github-actions.yml");

/// The GitLab CI job: the repository's documented example, compiled in.
pub const GITLAB_CI: &str = include_str!("../../examples/ci/gitlab-ci.yml");

/// `.guardlink/definitions.gal`: every example is commented out (a `#` line is a comment in a
/// `.gal` document), so a fresh project has no diagnostic, not even an unused definition; the
/// examples together form a model with none either (tests/cli/init.rs uncomments them).
const GAL_DEFINITIONS: &str = concat!(
    "\
# Shared definitions of this project's threat model (GuardLink GAL), read by threat-analyzer
# and by GuardLink. A line starting with # is a comment.
#
# Define here, once, the threats and controls that more than one part of the code refers to.
# Annotate the code itself in its own comments, next to what they describe. To use an
# example, remove its leading \"#\"; then run `threat-analyzer check`.
#
# Threats, each with an id to refer to it, a severity and references:
#   @threat SQL Injection (#sqli) [high] cwe:CWE-89 owasp:A03:2021
#   @threat Cross-Site Scripting (#xss) [medium] cwe:CWE-79
#
# Controls that mitigate them:
#   @control Parameterised Queries (#parameterised-queries)
#   @control Contextual Output Encoding (#output-encoding)
#
# The lines below usually sit in a source file's comments (after `#` in Python, `//` in Go),
# next to the code of the asset they describe: what it is, what it is exposed to, and what
# mitigates that.
#   @asset Shop.Orders (#orders) -- \"order history and search\"
#   @exposes #orders to #sqli -- \"the search builds SQL from the query string\"
#   @mitigates #orders against #sqli using #parameterised-queries
#   @exposes #orders to #xss
#   @mitigates #orders against #xss using #output-encoding
#
# Every verb: ",
    env!("CARGO_PKG_REPOSITORY"),
    "#annotation-reference\n"
);

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The project's directory (created when missing).
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// The annotation dialect to set up.
    #[arg(long, value_enum, default_value_t = InitDialect::Gal, value_name = "DIALECT")]
    pub dialect: InitDialect,

    /// The CI service to write a workflow for.
    #[arg(long, value_enum, default_value_t = CiService::Github, value_name = "CI")]
    pub ci: CiService,

    /// Print the files and their contents instead of writing them.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitDialect {
    /// GuardLink GAL: .guardlink/definitions.gal.
    Gal,
    /// ThreatSpec: threatspec.yaml.
    Threatspec,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CiService {
    /// GitHub Actions: .github/workflows/threat-model.yml.
    Github,
    /// GitLab CI: .gitlab-ci.yml.
    Gitlab,
    /// No CI file.
    None,
}

/// One file of the scaffold: where it goes under PATH and what it holds.
#[derive(Debug, PartialEq, Eq)]
pub struct ScaffoldFile {
    pub relative: &'static str,
    pub content: String,
}

/// The files `init` writes for `dialect` and `ci`, in the order it writes them; `project_name`
/// is the name a `threatspec.yaml` gives the project.
pub fn scaffold(dialect: InitDialect, ci: CiService, project_name: &str) -> Vec<ScaffoldFile> {
    let mut files = vec![match dialect {
        InitDialect::Gal => {
            ScaffoldFile { relative: ".guardlink/definitions.gal", content: GAL_DEFINITIONS.to_string() }
        }
        InitDialect::Threatspec => {
            ScaffoldFile { relative: "threatspec.yaml", content: threatspec_yaml(project_name) }
        }
    }];
    match ci {
        CiService::Github => files.push(ScaffoldFile {
            relative: ".github/workflows/threat-model.yml",
            content: GITHUB_WORKFLOW.to_string(),
        }),
        CiService::Gitlab => {
            files.push(ScaffoldFile { relative: ".gitlab-ci.yml", content: GITLAB_CI.to_string() })
        }
        CiService::None => {}
    }
    files
}

/// `threatspec.yaml` for a project called `name`: the whole directory is read.
fn threatspec_yaml(name: &str) -> String {
    format!(
        "# The project's name and which paths hold threat-model annotations, in ThreatSpec 0.5's\n\
         # format (read by threat-analyzer and by ThreatSpec).\n\
         project:\n  name: {}\n\
         paths:\n\
         \x20 # The whole directory (.gitignore and .ignore still apply). Narrow it with entries such\n\
         \x20 # as `- src`, a glob such as `- 'services/**/*.go'`, or `- path: web` followed by\n\
         \x20 # `ignore: [node_modules]` on the next line.\n\
         \x20 - .\n",
        yaml_quoted(name)
    )
}

/// `text` as a YAML double-quoted scalar: `"` and `\` escaped, and every character that is not
/// [`crate::text::is_inert`] (controls, line breaks, bidirectional overrides) written as a
/// `\u` escape, so the file shows no control character and reads back as `text`.
fn yaml_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if crate::text::is_inert(c) => out.push(c),
            // Tag characters are outside the Basic Multilingual Plane: YAML's `\U`.
            c if u32::from(c) > 0xFFFF => out.push_str(&format!("\\U{:08X}", u32::from(c))),
            c => out.push_str(&format!("\\u{:04X}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

/// The project's name: PATH's directory name (resolved, so `.` names the current directory).
fn project_name(root: &Path) -> String {
    let resolved = std::fs::canonicalize(root).ok().or_else(|| {
        let cwd = std::env::current_dir().ok()?;
        Some(normalize(&cwd.join(root)))
    });
    resolved
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "project".to_string())
}

/// Runs `init`; returns the exit status.
pub fn run(args: &InitArgs) -> i32 {
    let root = &args.path;
    match std::fs::metadata(root) {
        Ok(meta) if !meta.is_dir() => {
            say!("threat-analyzer: error: {} is not a directory", root.display());
            return EXIT_ERROR;
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            say!("threat-analyzer: error: cannot read {}: {e}", root.display());
            return EXIT_ERROR;
        }
    }
    let files = scaffold(args.dialect, args.ci, &project_name(root));
    if args.dry_run { dry_run(root, &files) } else { write_files(root, &files) }
}

/// How a file is named to the user: relative to the current directory when PATH is `.`.
fn shown(root: &Path, relative: &str) -> PathBuf {
    if root == Path::new(".") { PathBuf::from(relative) } else { root.join(relative) }
}

fn exists_note(path: &Path) {
    say!("threat-analyzer: note: {} exists: left as it is (init never overwrites a file)", path.display());
}

/// `--dry-run`: each file that would be written, with its content, on standard output.
fn dry_run(root: &Path, files: &[ScaffoldFile]) -> i32 {
    let mut text = String::new();
    let mut would_write = 0;
    for file in files {
        let path = shown(root, file.relative);
        if std::fs::symlink_metadata(&path).is_ok() {
            exists_note(&path);
            continue;
        }
        would_write += 1;
        text.push_str(&format!(
            "==> would create {} <==\n{}\n",
            crate::text::for_terminal(&path.to_string_lossy()),
            file.content
        ));
    }
    text.push_str("(dry run: nothing was written)\n");
    if let Err(status) = print(&text) {
        return status;
    }
    if would_write == 0 { EXIT_ERROR } else { EXIT_OK }
}

/// Creates each file that does not exist yet; says what it did with each.
fn write_files(root: &Path, files: &[ScaffoldFile]) -> i32 {
    let mut written = Vec::new();
    let mut failed = false;
    for file in files {
        let path = shown(root, file.relative);
        // Whatever is there, even a link, is the project's: looked at before the output rule,
        // which would refuse a link as an error.
        if std::fs::symlink_metadata(&path).is_ok() {
            exists_note(&path);
            continue;
        }
        let created = output::prepare(&path, root, Requested::ByDefault)
            .and_then(|()| output::create_new(&path, root, Requested::ByDefault, file.content.as_bytes()));
        match created {
            Ok(Created::Written) => written.push(path),
            Ok(Created::AlreadyExists) => exists_note(&path),
            Err(message) => {
                say!("threat-analyzer: error: {message}");
                failed = true;
            }
        }
    }
    let mut text: String = written
        .iter()
        .map(|path| format!("created {}\n", crate::text::for_terminal(&path.to_string_lossy())))
        .collect();
    if !written.is_empty() {
        text.push_str("Next: annotate your code's comments and run `threat-analyzer check`.\n");
    }
    if let Err(status) = print(&text) {
        return status;
    }
    if written.is_empty() && !failed {
        say!("threat-analyzer: error: nothing written: every file of the scaffold exists");
    }
    if failed || written.is_empty() { EXIT_ERROR } else { EXIT_OK }
}

fn print(text: &str) -> Result<(), i32> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => {
            say!("threat-analyzer: error: cannot write standard output: {e}");
            Err(EXIT_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threatspec_yaml_names_the_project_and_reads_everything() {
        for name in [
            "shop",
            "My Shop: \"v2\" # x",
            "back\\slash",
            "a\u{1b}[2Jb\ttab\nline\u{202E}",
            "naïve",
            "tag\u{E0041}\u{200B}s",
        ] {
            let text = threatspec_yaml(name);
            assert!(text.chars().all(|c| crate::text::is_inert(c) || c == '\n'), "{text:?}");
            let config = crate::config::parse_threatspec(&text).unwrap();
            assert_eq!(config.name.as_deref(), Some(name.trim()), "{text}");
            let paths: Vec<&str> = config.paths.iter().map(|p| p.path.value.as_str()).collect();
            assert_eq!(paths, ["."]);
            assert!(config.imports.is_empty());
        }
    }

    #[test]
    fn scaffold_files_per_dialect_and_ci() {
        let names = |d, c| scaffold(d, c, "p").into_iter().map(|f| f.relative).collect::<Vec<_>>();
        assert_eq!(
            names(InitDialect::Gal, CiService::Github),
            [".guardlink/definitions.gal", ".github/workflows/threat-model.yml"]
        );
        assert_eq!(names(InitDialect::Threatspec, CiService::Gitlab), ["threatspec.yaml", ".gitlab-ci.yml"]);
        assert_eq!(names(InitDialect::Gal, CiService::None), [".guardlink/definitions.gal"]);
    }
}
