//! The `baseline` command: a threat model derived from infrastructure code ([`crate::infra`]).
//!
//! `threat-analyzer baseline [PATH] [--format human|json|gal|markdown]`, with `check`'s walk
//! options. Owns: reading the templates the walk finds (Terraform `.tf` files and every YAML and
//! JSON file, whose format the extractors detect; the walk's ignore rules, size limit and link
//! rule; each file through [`crate::walk::read_source`]) and handing their texts to
//! [`crate::infra::derive`]; with `--apply [--sidecar]`, writing the annotations the planner
//! [`crate::render::infra_apply`] places. Not the findings baseline of `check --baseline`
//! (`cli::baseline`). Must never: write a file without `--apply`; with it, write anything but
//! the planned insertions, and only into files inside the scanned root (no link at the file or
//! on the way, checked for every file before the first is written: [`super::output::check`]),
//! a template only when its bytes are still those it read, atomically
//! ([`super::output::replace`], [`super::output::create_atomically`]), and only after the new
//! texts were parsed back (each planned line one more annotation, the same baseline derived).
//!
//! Exit status: 0 when the baseline was written, 2 on usage and I/O errors.

use std::collections::BTreeMap;
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

--apply writes those annotations into the project: as comments directly above each resource's
definition, definitions into .guardlink/baseline.gal; with --sidecar (and for JSON files) into
.guardlink/baseline-<file>.gal sidecars with @source anchors. Running it twice changes nothing;
a resource whose asset is already declared gets nothing; only files inside PATH, never through
a link, atomically, and only if unchanged since they were read.

Examples:
  threat-analyzer baseline infra/
  threat-analyzer baseline --format gal .
  threat-analyzer baseline --apply .

Exit status: 0 baseline written (with --apply: every planned file written), 2 usage or I/O
error, or a planned file skipped or refused.";

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

    /// Write the proposed annotations into the project: as comments directly above each
    /// resource, definitions into .guardlink/baseline.gal (instead of printing a format).
    #[arg(long, conflicts_with = "format")]
    pub apply: bool,

    /// With --apply: leave the templates alone and write .guardlink/baseline-<file>.gal
    /// sidecars whose @source lines anchor the annotations to the resources.
    #[arg(long, requires = "apply")]
    pub sidecar: bool,
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
    let (files, read_bytes) = sources(&scan, args.max_file_size, args.apply);
    let model = crate::infra::derive(&files);
    if args.apply {
        return apply(args, &scan, &files, read_bytes, &model);
    }
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
/// limit, no links), keyed by their scan key, and with `keep_bytes` the bytes as read (what
/// `--apply` compares with before it writes). A file that cannot be read is said on standard
/// error and left out. `baseline`, `dfd --with-baseline` and `check` (when
/// `unmodelled-resource` is enabled) read them here.
pub(crate) fn sources(
    scan: &crate::walk::Scan,
    max_file_size: u64,
    keep_bytes: bool,
) -> (Vec<SourceFile>, BTreeMap<String, Vec<u8>>) {
    let mut files = Vec::new();
    let mut read_bytes = BTreeMap::new();
    for (key, language) in &scan.scanned {
        if !crate::infra::reads(key.as_str(), *language) {
            continue;
        }
        let path = scan.root.join(key.as_str());
        let text = crate::walk::read_source(&path, max_file_size, Links::Refuse)
            .map_err(|why| why.to_string())
            .and_then(|bytes| {
                let text = String::from_utf8(bytes.clone()).map_err(|_| "not valid UTF-8".to_string())?;
                Ok((bytes, text))
            });
        match text {
            Ok((bytes, text)) => {
                if keep_bytes {
                    read_bytes.insert(key.as_str().to_string(), bytes);
                }
                files.push(SourceFile {
                    path: key.as_str().to_string(),
                    language: *language,
                    text: Arc::from(text.strip_prefix('\u{feff}').unwrap_or(&text)),
                })
            }
            Err(why) => {
                say!("threat-analyzer: note: {} not read: {}", crate::text::for_terminal(key.as_str()), why)
            }
        }
    }
    (files, read_bytes)
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
    let (files, _) = sources(scan, max_file_size, false);
    let model = crate::infra::derive(&files);
    let keys: std::collections::HashMap<&str, &crate::file_id::FileId> =
        scan.scanned.iter().map(|(key, _)| (key.as_str(), key)).collect();
    let resources = crate::infra::resources(&model, &files, |path| {
        keys.get(path).map_or_else(|| crate::file_id::FileId::relative(path), |key| (*key).clone())
    });
    for file in &files {
        let key = keys.get(file.path.as_str()).map(|key| (*key).clone());
        if let Some(key) = key
            && !scan.index.has_text(key.as_str())
            && resources.iter().any(|r| r.file == key)
        {
            scan.index.set_anchor_text(key, crate::model::anchors::AnchorText::read(file.text.clone()));
        }
    }
    vec![crate::analysis::unmodelled::Resources { level, resources }]
}

/// The UTF-8 byte order mark a file's text starts with, if any (the planner's offsets are in
/// the text after it).
fn bom_len(bytes: &[u8]) -> usize {
    if bytes.starts_with("\u{feff}".as_bytes()) { 3 } else { 0 }
}

/// `baseline --apply [--sidecar]`: plans the insertions ([`render::infra_apply`]), checks that
/// the templates still derive the same model and that every planned line is read back, then
/// writes each file atomically, only inside the project and only if it did not change since
/// it was read. Prints what it wrote and what it skipped.
fn apply(
    args: &InfraArgs,
    scan: &crate::walk::Scan,
    files: &[SourceFile],
    mut bytes: BTreeMap<String, Vec<u8>>,
    model: &crate::infra::InfraModel,
) -> i32 {
    use render::infra_apply::{self as planner, Mode};
    let t = |s: &str| crate::text::for_terminal(s).into_owned();
    let root = &scan.root;
    // The `.gal` files the plan may append to: read when they exist (never through a link).
    let mut gal: Vec<String> = vec![render::infra::DEFINITIONS_FILE.to_string()];
    gal.extend(files.iter().map(|f| planner::sidecar_path(&f.path)));
    gal.sort();
    gal.dedup();
    let mut gal_texts: BTreeMap<String, String> = BTreeMap::new();
    for key in &gal {
        let path = root.join(key);
        if std::fs::symlink_metadata(&path).is_err() {
            continue;
        }
        let read = crate::walk::read_source(&path, args.max_file_size, Links::Refuse)
            .map_err(|why| why.to_string())
            .and_then(|b| String::from_utf8(b.clone()).map(|s| (b, s)).map_err(|_| "not valid UTF-8".into()));
        match read {
            Ok((b, text)) => {
                let skip = bom_len(&b);
                bytes.insert(key.clone(), b);
                gal_texts.insert(key.clone(), text[skip..].to_string());
            }
            Err(why) => {
                say!("threat-analyzer: error: {} cannot be read ({}): nothing written", t(key), t(&why));
                return EXIT_ERROR;
            }
        }
    }
    let mut texts: BTreeMap<String, &str> = files.iter().map(|f| (f.path.clone(), &*f.text)).collect();
    texts.extend(gal_texts.iter().map(|(k, v)| (k.clone(), v.as_str())));
    let mode = if args.sidecar { Mode::Sidecar } else { Mode::Comments };
    let known = planner::Known::from_index(&scan.index);
    let plan = planner::plan_all(model, &texts, &known, mode);
    if plan.dropped > 0 {
        say!("threat-analyzer: error: {} proposed annotations could not be written as GAL", plan.dropped);
    }

    // The new texts, checked before anything is written: every planned line is read back as
    // one more annotation, and the templates derive the same model.
    let mut new_texts: BTreeMap<String, String> = BTreeMap::new();
    for file in &plan.files {
        let old = texts.get(&file.path).copied().unwrap_or("");
        let new = planner::apply_edits(old, &file.edits);
        let language = crate::syntax::Language::from_path(std::path::Path::new(&file.path));
        let count = |text: &str| {
            language.map_or((0, 0), |l| {
                let parsed = crate::syntax::parse_file(l, text);
                (parsed.annotations.len(), parsed.errors.len())
            })
        };
        let (before, after) = (count(old), count(&new));
        if after.0 != before.0 + file.lines() || after.1 != before.1 {
            say!(
                "threat-analyzer: error: the annotations planned for {} would not be read back as planned \
                 ({} annotations and {} errors before, {} and {} after, {} planned): nothing written",
                t(&file.path),
                before.0,
                before.1,
                after.0,
                after.1,
                file.lines()
            );
            return EXIT_ERROR;
        }
        new_texts.insert(file.path.clone(), new);
    }
    let changed: Vec<SourceFile> = files
        .iter()
        .map(|f| match new_texts.get(&f.path) {
            Some(new) => {
                SourceFile { path: f.path.clone(), language: f.language, text: Arc::from(new.as_str()) }
            }
            None => f.clone(),
        })
        .collect();
    if new_texts.keys().any(|k| !k.ends_with(".gal")) && !same_model(model, &crate::infra::derive(&changed)) {
        say!(
            "threat-analyzer: error: the templates with the planned comments would not derive the same baseline: nothing written"
        );
        return EXIT_ERROR;
    }

    // Every file inside the project, with no link on the way, before any is written.
    for file in &plan.files {
        if let Err(why) =
            super::output::check(&root.join(&file.path), root, super::output::Requested::ByDefault)
        {
            say!("threat-analyzer: error: {}: nothing written", t(&why));
            return EXIT_ERROR;
        }
    }

    let mut out = String::new();
    let mut written_lines = 0;
    let mut written_files = 0;
    let mut problems = Vec::new();
    for file in &plan.files {
        let path = root.join(&file.path);
        let new = &new_texts[&file.path];
        let result = match bytes.get(&file.path).filter(|_| !file.create) {
            Some(old) => {
                let mut new_bytes = old[..bom_len(old)].to_vec();
                new_bytes.extend_from_slice(new.as_bytes());
                super::output::replace(&path, root, old, &new_bytes).map(|r| match r {
                    super::output::Replaced::Written => None,
                    super::output::Replaced::Changed => Some("it changed since it was read".to_string()),
                })
            }
            None => super::output::create_atomically(&path, root, new.as_bytes()).map(|r| match r {
                super::output::Created::Written => None,
                super::output::Created::AlreadyExists => {
                    Some("it appeared since the plan was made".to_string())
                }
            }),
        };
        match result {
            Ok(None) => {
                written_files += 1;
                written_lines += file.lines();
                let verb = if file.create { "created" } else { "wrote" };
                out.push_str(&format!("  {verb} {}: {} lines\n", t(&file.path), file.lines()));
            }
            Ok(Some(why)) => problems.push(format!("  skipped {}: {why}\n", t(&file.path))),
            Err(why) => problems.push(format!("  skipped {}: {}\n", t(&file.path), t(&why))),
        }
    }
    let mut text = format!("baseline --apply: {written_lines} lines written to {written_files} files\n");
    text.push_str(&out);
    for (template, sidecar) in &plan.sidecar_instead {
        text.push_str(&format!(
            "  {} has no comments (JSON): its annotations are in {}\n",
            t(template),
            t(sidecar)
        ));
    }
    for (key, why) in &plan.skipped {
        text.push_str(&format!("  skipped {}: {}\n", t(key), t(&why.describe())));
    }
    for problem in &problems {
        text.push_str(problem);
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
    if problems.is_empty() && plan.dropped == 0 { EXIT_OK } else { EXIT_ERROR }
}

/// Whether two baselines say the same (locations aside): the comments `--apply` adds must
/// change nothing a template means.
fn same_model(a: &crate::infra::InfraModel, b: &crate::infra::InfraModel) -> bool {
    let project = |m: &crate::infra::InfraModel| {
        let elements: Vec<_> = m
            .elements
            .iter()
            .map(|e| (&e.key, e.kind, &e.resource_type, &e.name, &e.boundaries, &e.origin.path))
            .collect();
        let boundaries: Vec<_> = m.boundaries.iter().map(|b| (&b.key, b.kind, &b.name, &b.parent)).collect();
        let flows: Vec<_> = m.flows.iter().map(|f| (&f.from, &f.to, &f.mechanism)).collect();
        let proposals: Vec<_> =
            m.proposals.iter().map(|p| (&p.element, p.rule, p.outcome, &p.detail)).collect();
        let unknowns: Vec<_> = m.unknowns.iter().map(|u| &u.what).collect();
        format!("{elements:?}{boundaries:?}{flows:?}{proposals:?}{unknowns:?}")
    };
    project(a) == project(b)
}
