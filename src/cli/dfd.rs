//! The `dfd` command: a data-flow diagram of the annotations under PATH, as Mermaid, DOT or SVG;
//! with `--with-baseline` merged with the infrastructure baseline of the templates under PATH,
//! with `--baseline-only` the baseline alone.
//!
//! Owns: the `dfd` flags, the `--scope` syntax and where the diagram goes. Must never: decide
//! what the diagram contains (`render::dfd`, the baseline's merge `render::dfd_baseline`) or
//! how it is written (`render::mermaid`, `render::dot`, `render::svg`).
//!
//! Exit codes: 0 on success, 2 on usage errors (clap, an unknown `--scope`, a `file:` scope
//! naming no file, a scope with the baseline), a diagram over the size limits ([`crate::limits`]) and I/O errors.

use super::{EXIT_ERROR, EXIT_OK};
use crate::file_id::FileId;
use crate::render::{self, dfd::Scope};
use crate::walk;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

pub const DFD_AFTER_HELP: &str = "\
Scopes:
  project                 every element and flow (the default)
  boundary:<name>         a trust boundary's members, their direct neighbours and the flows
                          crossing it (<name> is its id, #id or title)
  component:<path>        a component (Shop.Api, or #id), its sub-components and neighbours
  file:<path>             what one file's annotations name, and the flows it declares; <path>
                          is relative to the scanned root (the directory paths are reported
                          relative to, see `check --help`) or to PATH

Examples:
  threat-analyzer dfd > dfd.mmd
  threat-analyzer dfd src --format dot -o dfd.dot && dot -Tsvg dfd.dot -o dfd.svg
  threat-analyzer dfd --format svg -o dfd.svg    (laid out in-process, no Graphviz needed)
  threat-analyzer dfd --scope boundary:internet-edge
  threat-analyzer dfd --with-baseline --format svg -o dfd.svg
  threat-analyzer dfd infra/ --baseline-only --format dot | dot -Tpng -o baseline.png

The infrastructure baseline (--with-baseline, --baseline-only) is what `baseline` derives from
the Terraform, CloudFormation, Kubernetes, Compose and OpenAPI files under PATH. An annotated
element, flow or trust boundary wins over the baseline's: a resource matches the asset
`baseline --format gal` would write for it (module.db.aws_db_instance.main is
module_db_aws_db_instance_main), a flow its two ends, a boundary the id gal writes. What only
the baseline has is drawn grey and dashed and marked \"proposed\".

Exit status: 0 diagram written, 2 usage or I/O error.";

#[derive(Debug, Args)]
pub struct DfdArgs {
    /// Directory or file to read annotations from.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// Diagram format.
    #[arg(long, value_enum, default_value_t = DfdFormat::Mermaid, value_name = "FORMAT")]
    pub format: DfdFormat,

    /// What to draw: project, boundary:<name>, component:<path> or file:<path>.
    #[arg(long, value_name = "SCOPE", default_value = "project", value_parser = parse_scope)]
    pub scope: ScopeArg,

    /// Add what the infrastructure baseline derives from the Terraform, CloudFormation,
    /// Kubernetes, Compose and OpenAPI files under PATH (see `baseline`) and the annotations
    /// lack, drawn grey and dashed and marked "proposed" (only with --scope project).
    #[arg(long, conflicts_with = "baseline_only")]
    pub with_baseline: bool,

    /// Draw only the infrastructure baseline (every element, flow and boundary proposed), not
    /// the annotations (only with --scope project).
    #[arg(long)]
    pub baseline_only: bool,

    /// Write the diagram to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub output_policy: super::OutputPolicyArgs,

    #[command(flatten)]
    pub cache: super::CacheArgs,

    #[command(flatten)]
    pub coverage: super::CoverageArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DfdFormat {
    /// Mermaid `flowchart LR` (renders on GitHub in a ```mermaid block).
    Mermaid,
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// A standalone SVG drawing, laid out in-process (no script, no external references).
    Svg,
}

/// A parsed `--scope`; `file:` paths are resolved once the scan's root is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeArg {
    Project,
    Boundary(String),
    Component(String),
    File(String),
}

/// Parses `project`, `boundary:<name>`, `component:<path>` or `file:<path>`.
pub fn parse_scope(text: &str) -> Result<ScopeArg, String> {
    if text.trim() == "project" {
        return Ok(ScopeArg::Project);
    }
    let usage = "expected project, boundary:<name>, component:<path> or file:<path>";
    let Some((kind, rest)) = text.split_once(':') else {
        return Err(format!("unknown scope {text:?}: {usage}"));
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(format!("scope {text:?} names nothing: {usage}"));
    }
    match kind.trim() {
        "boundary" => Ok(ScopeArg::Boundary(rest.to_string())),
        "component" => Ok(ScopeArg::Component(rest.to_string())),
        "file" => Ok(ScopeArg::File(rest.to_string())),
        other => Err(format!("unknown scope kind {other:?}: {usage}")),
    }
}

/// Runs `dfd`; returns the exit status.
pub fn run(args: &DfdArgs) -> i32 {
    let (scan, project_root) = match super::scan_project(&args.path, args.cache) {
        Ok(project) => (project.scan, project.root),
        Err(status) => return status,
    };
    let scope = match &args.scope {
        ScopeArg::Project => Scope::Project,
        ScopeArg::Boundary(name) => Scope::Boundary(name.clone()),
        ScopeArg::Component(path) => Scope::Component(path.clone()),
        ScopeArg::File(file) => match resolve_file(&scan, &args.path, file) {
            Some(path) => Scope::File(path),
            None => {
                say!(
                    "threat-analyzer: error: --scope file:{file}: no such file under {} (give a path \
                     relative to {} or to PATH)",
                    args.path.display(),
                    scan.root.display()
                );
                return EXIT_ERROR;
            }
        },
    };
    let baseline = args.with_baseline || args.baseline_only;
    if baseline && scope != Scope::Project {
        say!(
            "threat-analyzer: error: --with-baseline and --baseline-only draw the whole project: the \
             baseline has no scopes (leave out --scope)"
        );
        return EXIT_ERROR;
    }
    let dfd = if args.baseline_only {
        render::dfd::Dfd::default()
    } else {
        let analysis = args.coverage.analysis(&scan.index);
        render::dfd::build(&scan.index, &analysis, &scope)
    };
    let dfd = if baseline {
        let model =
            crate::infra::derive(&super::infra::sources(&scan, crate::limits::MAX_FILE_SIZE, false).0);
        render::dfd_baseline::merge(dfd, &model)
    } else {
        dfd
    };
    if let Some(reason) = dfd.too_large() {
        say!("threat-analyzer: error: {reason} (--scope boundary:<name>, component:<path> or file:<path>)");
        return EXIT_ERROR;
    }
    let text = match args.format {
        DfdFormat::Mermaid => render::mermaid::render(&dfd),
        DfdFormat::Dot => render::dot::render(&dfd),
        DfdFormat::Svg => render::svg::render(&dfd),
    };
    super::say_stale(&scan.index);
    if let Some(path) = &args.output {
        return match super::output::write(
            path,
            &project_root,
            args.output_policy.requested(true),
            text.as_bytes(),
        ) {
            Ok(()) => EXIT_OK,
            Err(message) => {
                say!("threat-analyzer: error: {message}");
                EXIT_ERROR
            }
        };
    }
    let written = match &args.output {
        Some(_) => Ok(()),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| ("standard output".to_string(), e))
        }
    };
    match written {
        Ok(()) => EXIT_OK,
        Err((_, e)) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
        Err((target, e)) => {
            say!("threat-analyzer: error: cannot write {target}: {e}");
            EXIT_ERROR
        }
    }
}

/// The index key of a `file:` scope: the path relative to the scan's root, or else relative to
/// PATH (or absolute). A file the walk read without annotations is not in the index but still
/// a valid (empty) scope; a path that names no file is `None`.
fn resolve_file(scan: &walk::Scan, base: &Path, file: &str) -> Option<FileId> {
    let given = Path::new(file);
    let base = if base.is_absolute() { base.to_path_buf() } else { scan.root.join(base) };
    let base_dir = if base.is_file() { base.parent().map(Path::to_path_buf).unwrap_or(base) } else { base };
    let candidates = if given.is_absolute() {
        vec![given.to_path_buf()]
    } else {
        vec![scan.root.join(given), base_dir.join(given)]
    };
    let keys: Vec<String> = candidates.iter().filter_map(|abs| relative_key(&scan.root, abs)).collect();
    if let Some(key) = keys.iter().find(|k| scan.index.file(k).is_some()) {
        return Some(FileId::relative(key.as_str()));
    }
    candidates.iter().zip(&keys).find(|(abs, _)| abs.is_file()).map(|(_, key)| FileId::relative(key.as_str()))
}

/// `abs` (lexically normalised) relative to `root`, `/`-separated, as the index keys it.
fn relative_key(root: &Path, abs: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in abs.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    let mut root_parts: Vec<String> = Vec::new();
    for c in root.components() {
        if let Component::Normal(s) = c {
            root_parts.push(s.to_string_lossy().into_owned());
        }
    }
    let rest = parts.strip_prefix(root_parts.as_slice())?;
    (!rest.is_empty()).then(|| rest.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse() {
        assert_eq!(parse_scope("project"), Ok(ScopeArg::Project));
        assert_eq!(parse_scope("boundary:internet-edge"), Ok(ScopeArg::Boundary("internet-edge".into())));
        assert_eq!(parse_scope("component:Shop.Api"), Ok(ScopeArg::Component("Shop.Api".into())));
        assert_eq!(parse_scope("file:api/app.py"), Ok(ScopeArg::File("api/app.py".into())));
        assert!(parse_scope("everything").is_err());
        assert!(parse_scope("boundary:").is_err());
        assert!(parse_scope("layer:x").is_err());
    }

    #[test]
    fn relative_keys() {
        assert_eq!(relative_key(Path::new("/r"), Path::new("/r/a/../b/c.py")), Some("b/c.py".into()));
        assert_eq!(relative_key(Path::new("/r"), Path::new("/s/c.py")), None);
    }
}
