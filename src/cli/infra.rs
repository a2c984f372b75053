//! The `baseline` command: a threat model derived from infrastructure code ([`crate::infra`]).
//!
//! `threat-analyzer baseline [PATH] [--format human|json|gal|markdown]`, with `check`'s walk
//! options. Owns: reading the templates the walk finds (Terraform `.tf` files and every YAML and
//! JSON file, whose format the extractors detect; the walk's ignore rules, size limit and link
//! rule; each file through [`crate::walk::read_source`]) and handing their texts to
//! [`crate::infra::derive`]. Not the findings baseline of `check --baseline`
//! (`cli::baseline`). Must never: write a file (the annotations are printed, not applied).
//!
//! Exit status: 0 when the baseline was written, 2 on usage and I/O errors.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};

use super::{EXIT_ERROR, EXIT_OK};
use crate::infra::SourceFile;
use crate::read::Links;
use crate::render;

pub const BASELINE_AFTER_HELP: &str = "\
Reads the Terraform files under PATH (the walk of `check`: ignore files, hidden files, links and
the size limit apply) and derives data-flow elements, trust boundaries, flows and proposed
threats from explainable rules (see the README's rule table): no network, the same answer every
time, each item with the template line that caused it. What cannot be resolved statically
(variables without literal defaults, function calls, remote modules) is listed, never guessed.

Formats: human (default), json, markdown, gal (the annotations to add, per file, in that file's
comment syntax; threat and control definitions for .guardlink/baseline.gal).

Examples:
  threat-analyzer baseline infra/
  threat-analyzer baseline --format gal .

Exit status: 0 baseline written, 2 usage or I/O error.";

#[derive(Debug, Args)]
pub struct InfraArgs {
    /// Directory (or file) to read templates from.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = InfraFormat::Human, value_name = "FORMAT")]
    pub format: InfraFormat,

    /// Skip files larger than this (bytes, or with a suffix: K, KiB, KB, M, MiB, MB, G, GiB, GB).
    #[arg(long, value_name = "SIZE", default_value = "2MiB", value_parser = super::parse_size)]
    pub max_file_size: u64,

    /// Read only files matching GLOB (gitignore syntax, relative to PATH). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,

    /// Skip files and directories matching GLOB (gitignore syntax). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InfraFormat {
    /// Plain text.
    Human,
    /// One JSON object.
    Json,
    /// Markdown.
    Markdown,
    /// The GAL annotations to add, per file.
    Gal,
}

/// Runs `baseline`; returns the exit status.
pub fn run(args: &InfraArgs) -> i32 {
    let filter = super::WalkFilter {
        max_file_size: args.max_file_size,
        include: &args.include,
        exclude: &args.exclude,
    };
    let scan = match filter.scan(std::slice::from_ref(&args.path), super::CacheArgs { no_cache: true }) {
        Ok(scan) => scan,
        Err(status) => return status,
    };
    if let Err(status) = super::report_unread(&scan, false) {
        return status;
    }
    let files = sources(&scan, args.max_file_size);
    let model = crate::infra::derive(&files);
    let text = match args.format {
        InfraFormat::Human => render::infra::human(&model),
        InfraFormat::Json => render::infra::json(&model),
        InfraFormat::Markdown => render::infra::markdown(&model),
        InfraFormat::Gal => {
            let (_, dropped) = render::infra::gal(&model);
            if dropped > 0 {
                say!("threat-analyzer: error: {dropped} proposed annotations could not be written as GAL");
            }
            render::infra::gal_text(&model)
        }
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            say!("threat-analyzer: error: cannot write standard output: {e}");
            EXIT_ERROR
        }
    }
}

/// The texts of the templates a scan found, for [`crate::infra::derive`]: the files
/// [`crate::infra::reads`] (each read again through [`crate::walk::read_source`]: the size
/// limit, no links), keyed by their scan key. A file that cannot be read is said on standard
/// error and left out. `baseline` and `check` (when `unmodelled-resource` is enabled) read
/// them here.
pub(super) fn sources(scan: &crate::walk::Scan, max_file_size: u64) -> Vec<SourceFile> {
    let mut files = Vec::new();
    for (key, language) in &scan.scanned {
        if !crate::infra::reads(key.as_str(), *language) {
            continue;
        }
        let path = scan.root.join(key.as_str());
        let text = crate::walk::read_source(&path, max_file_size, Links::Refuse)
            .map_err(|why| why.to_string())
            .and_then(|bytes| String::from_utf8(bytes).map_err(|_| "not valid UTF-8".to_string()));
        match text {
            Ok(text) => files.push(SourceFile {
                path: key.as_str().to_string(),
                language: *language,
                text: Arc::from(text.strip_prefix('\u{feff}').unwrap_or(&text)),
            }),
            Err(why) => {
                say!("threat-analyzer: note: {} not read: {}", crate::text::for_terminal(key.as_str()), why)
            }
        }
    }
    files
}

/// The resources `check` hands the `unmodelled-resource` rule
/// ([`crate::analysis::unmodelled`]): none, and nothing read or derived, unless the code is
/// enabled (by `--severity`, else by the configuration's `threat-analyzer: infra:` block).
/// The texts of templates with resources and no annotation go into the index beside the
/// anchored files' ([`crate::model::ProjectIndex::set_anchor_text`]), so the notes get their
/// lines and columns in every output.
pub(super) fn unmodelled_resources(
    scan: &mut crate::walk::Scan,
    overrides: &crate::diagnostic::LevelOverrides,
    max_file_size: u64,
) -> Vec<crate::analysis::unmodelled::Resources> {
    use crate::diagnostic::Code;
    let Some(level) = overrides.enabled(Code::UnmodelledResource, scan.unmodelled_resource) else {
        return Vec::new();
    };
    let files = sources(scan, max_file_size);
    let model = crate::infra::derive(&files);
    let keys: std::collections::HashMap<&str, &crate::file_id::FileId> =
        scan.scanned.iter().map(|(key, _)| (key.as_str(), key)).collect();
    let resources = crate::infra::resources(&model, &files, |path| {
        keys.get(path).map_or_else(|| crate::file_id::FileId::relative(path), |key| (*key).clone())
    });
    for file in &files {
        let key = keys.get(file.path.as_str()).map(|key| (*key).clone());
        if let Some(key) = key
            && scan.index.text_of(key.as_str()).is_none()
            && resources.iter().any(|r| r.file == key)
        {
            scan.index.set_anchor_text(key, crate::model::anchors::AnchorText::read(file.text.clone()));
        }
    }
    vec![crate::analysis::unmodelled::Resources { level, resources }]
}
