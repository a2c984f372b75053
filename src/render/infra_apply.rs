//! The planner of `baseline --apply`: where each annotation the infrastructure baseline
//! proposes ([`super::infra::proposed_lines`], the lines `--format gal` prints) goes in the
//! project's files, as text insertions.
//!
//! Owns: the placement rule, idempotence and the sidecar form:
//! - A resource's lines (its `@asset`, its proposals, the flows and boundaries written inside
//!   its definition) go directly above its definition (the Terraform `resource` block, the
//!   CloudFormation resource key, the Kubernetes document, the Compose service key, the
//!   OpenAPI operation), at that line's indentation, behind the file's line-comment marker.
//!   A flow or boundary written outside every resource (a CloudFormation ingress resource, a
//!   Compose `x-` block) goes above its own line. The `@threat`/`@control` definitions and
//!   the Internet go into [`DEFINITIONS_FILE`].
//! - Idempotent: a resource whose asset is already declared in the project ([`Known`]) or
//!   named by an annotation in the comment lines right above its definition gets nothing; a
//!   line whose annotation (description aside) is already right above (in a `.gal` file:
//!   anywhere in it) is not added again; a definition whose id the project already declares
//!   is not added. Applying a plan and planning again gives no edit.
//! - [`Mode::Sidecar`], and files without line comments (JSON) in either mode: the lines go
//!   into `.guardlink/baseline-<path>.gal` sidecars instead, each group after a GAL
//!   `@source file:<path> line:<n> symbol:<name>` anchor (the symbol only where
//!   [`crate::model::anchors`] finds the definition by it on that line), so the analysis
//!   reports them at the resource.
//! - The notes' `path:line` locations are those the templates have once the plan is applied.
//!
//! Must never: do I/O (the shell reads the texts and writes the edits), change or move an
//! existing line (every edit inserts whole lines at a line start, or appends to a `.gal`
//! file), or write template text unescaped (the lines are [`super::infra`]'s).

use std::collections::{BTreeMap, BTreeSet};

use super::infra::{
    About, DEFINITIONS_FILE, ProposedLine, asset_id, comment_marker, file_of, proposed_lines,
};
use crate::infra::model::{INTERNET, InfraModel, Origin};
use crate::model::ProjectIndex;
use crate::model::anchors::{nearest, symbol_lines};
use crate::model::names::normalize_name;
use crate::syntax::{Annotation, Body, EntityKind, Language, RefForm};

/// One insertion: `text` (whole lines, each ended by the file's line break, except that an
/// append to a file without a final line break starts with one and ends without) at byte
/// `offset` of the file's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub offset: usize,
    pub text: String,
    /// How many annotation lines it adds (`@source` anchors not counted).
    pub lines: usize,
}

/// The insertions into one file, in offset order (none at the same offset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEdits {
    /// Project-relative path (`/`-separated).
    pub path: String,
    /// True when the file's text was not given: the file is to be created with the edits'
    /// text (one edit at offset 0).
    pub create: bool,
    pub edits: Vec<Edit>,
}

impl FileEdits {
    /// Annotation lines added to the file.
    pub fn lines(&self) -> usize {
        self.edits.iter().map(|e| e.lines).sum()
    }
}

/// Where the resources' lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Comments in the templates (sidecars for files without line comments).
    Comments,
    /// `.guardlink/baseline-<path>.gal` sidecars with `@source` anchors; templates untouched.
    Sidecar,
}

/// Why a resource (or a template) gets nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Its asset id is already declared in the project.
    AssetDeclared(String),
    /// An annotation right above its definition already names its asset.
    AnnotatedAbove(String),
    /// The text of its file was not given (not read).
    NoText,
    /// Its path cannot be written in an `@source` line (white space or a control character).
    UnanchorablePath,
}

impl SkipReason {
    /// A sentence for the user (repository text in backticks: escape it for the terminal).
    pub fn describe(&self) -> String {
        match self {
            SkipReason::AssetDeclared(id) => format!("asset `{id}` is already declared in the project"),
            SkipReason::AnnotatedAbove(id) => {
                format!("an annotation right above its definition already names `{id}`")
            }
            SkipReason::NoText => "its file was not read".to_string(),
            SkipReason::UnanchorablePath => {
                "its path cannot be written in a sidecar's @source line (white space or a control character)"
                    .to_string()
            }
        }
    }
}

/// What [`plan_all`] decided.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The files to change or create, in path order.
    pub files: Vec<FileEdits>,
    /// Resources (element keys) or files (paths) that get nothing, and why, in order.
    pub skipped: Vec<(String, SkipReason)>,
    /// Templates that cannot hold comments (JSON) whose lines went to a sidecar in
    /// [`Mode::Comments`]: (template, sidecar).
    pub sidecar_instead: Vec<(String, String)>,
    /// Proposed lines GAL could not read back (zero unless there is a bug).
    pub dropped: usize,
}

/// What the project already declares: asset names and explicit ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// Declared asset names, normalised ([`normalize_name`]).
    pub assets: BTreeSet<String>,
    /// Explicit ids (`(#id)`) of every kind.
    pub ids: BTreeSet<String>,
}

impl Known {
    /// The declarations of an analysed project.
    pub fn from_index(index: &ProjectIndex) -> Known {
        let assets = index
            .declared_names()
            .filter(|((kind, _), _)| *kind == EntityKind::Asset)
            .map(|((_, name), _)| name.to_string())
            .collect();
        let ids = index.explicit_ids().map(|(id, _)| id.to_string()).collect();
        Known { assets, ids }
    }

    fn asset(&self, id: &str) -> bool {
        self.assets.contains(&normalize_name(id)) || self.ids.contains(id)
    }
}

/// `text` with `edits` made (insertions in offset order, as a plan gives them; an offset
/// past the end or inside a character is clamped to the previous boundary).
pub fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut out = String::with_capacity(text.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut at = 0;
    for edit in edits {
        let offset = floor_boundary(text, edit.offset.clamp(at, text.len()));
        out.push_str(&text[at..offset]);
        out.push_str(&edit.text);
        at = offset;
    }
    out.push_str(&text[at..]);
    out
}

/// The sidecar that holds the lines of `template` (`modules/db/main.tf` ->
/// `.guardlink/baseline-modules-db-main.tf.gal`). Two templates may share one: every group
/// names its file in its `@source` line.
pub fn sidecar_path(template: &str) -> String {
    format!(".guardlink/baseline-{}.gal", template.replace('/', "-"))
}

/// The insertion that writes the baseline annotations of the resource `key` (its `@asset`, its
/// proposals, the flows and boundaries written inside its definition) as comments directly
/// above its definition in `file_text`, the text of the file that declares it. `None` when
/// the resource is not in the model, its file has no line comments (JSON), or an annotation
/// right above its definition already names its asset (or every line is already there).
/// Definitions of the threats and controls the lines use: [`plan_definitions`].
pub fn plan_resource(model: &InfraModel, key: &str, file_text: &str) -> Option<Edit> {
    let element = model.element(key)?;
    let path = element.origin.path.as_str();
    marker(path)?;
    let texts = BTreeMap::from([(path.to_string(), file_text)]);
    let (lines, _) = proposed_lines(model, &Origin::display);
    let placed = place(model, &lines, &texts);
    let site_key = placed.element_site.get(key)?;
    let site = placed.sites.get(site_key)?;
    let mut decided = Decided::default();
    decide_comment_site(&lines, site, file_text, &Known::default(), &mut decided);
    let kept: Vec<usize> = decided.kept.remove(site_key)?;
    let shift = BTreeMap::from([(path.to_string(), vec![(site.line, kept.len())])]);
    let (lines, _) = shifted_lines(model, &lines, &shift);
    Some(comment_edit(site, file_text, kept.iter().map(|&i| lines[i].text.as_str())))
}

/// The insertion into [`DEFINITIONS_FILE`] (whose text is `gal_text`, empty when it does not
/// exist) of the `@threat` and `@control` definitions that the lines of the resources `keys`
/// use, except those `known` (or `gal_text`) already has. `None` when nothing is missing.
pub fn plan_definitions(model: &InfraModel, keys: &[&str], gal_text: &str, known: &Known) -> Option<Edit> {
    let (lines, _) = proposed_lines(model, &Origin::display);
    let mut used = BTreeSet::new();
    for line in &lines {
        if let About::Element(key) = line.about
            && keys.contains(&key)
        {
            used.extend(referenced_ids(&line.text));
        }
    }
    let existing = gal_keys(gal_text);
    let wanted: Vec<&str> = lines
        .iter()
        .filter(|l| l.about == About::Definition)
        .filter(|l| definition_wanted(&l.text, &used, known, &existing))
        .map(|l| l.text.as_str())
        .collect();
    (!wanted.is_empty()).then(|| append_edit(gal_text, wanted.iter().map(|l| l.to_string()).collect(), 0))
}

/// Plans every proposed annotation of `model` into the project: `texts` holds the text of
/// every template the model was derived from and of [`DEFINITIONS_FILE`] and the
/// `.guardlink/baseline-*.gal` sidecars that exist (by project-relative path; a `.gal` file
/// missing from it is created); `known`, the project's declarations.
pub fn plan_all(model: &InfraModel, texts: &BTreeMap<String, &str>, known: &Known, mode: Mode) -> Plan {
    let (lines, dropped) = proposed_lines(model, &Origin::display);
    let placed = place(model, &lines, texts);
    let mut decided = Decided::default();
    let mut plan = Plan { dropped, ..Plan::default() };
    plan.skipped.extend(placed.skipped.iter().cloned());

    // Sites: comments in the template, or a group in its sidecar.
    let mut sidecars: BTreeMap<String, Vec<(&Site, Vec<usize>)>> = BTreeMap::new();
    let mut sidecar_keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for site in placed.sites.values() {
        let Some(text) = texts.get(&site.path) else { continue };
        if mode == Mode::Comments && marker(&site.path).is_some() {
            decide_comment_site(&lines, site, text, known, &mut decided);
            continue;
        }
        let sidecar = sidecar_path(&site.path);
        if mode == Mode::Comments && !plan.sidecar_instead.iter().any(|(t, _)| t == &site.path) {
            plan.sidecar_instead.push((site.path.clone(), sidecar.clone()));
        }
        if !anchorable(&site.path) {
            if !decided.skipped.iter().any(|(k, _)| k == &site.path) {
                decided.skipped.push((site.path.clone(), SkipReason::UnanchorablePath));
            }
            continue;
        }
        if let Some(reason) = declared(site, known) {
            decided.skipped.extend(reason);
            continue;
        }
        let existing = sidecar_keys
            .entry(sidecar.clone())
            .or_insert_with(|| gal_keys(texts.get(&sidecar).copied().unwrap_or("")));
        let kept: Vec<usize> =
            site.members.iter().copied().filter(|&i| !existing.contains(&semantic(&lines[i].text))).collect();
        if !kept.is_empty() {
            sidecars.entry(sidecar).or_default().push((site, kept));
        }
    }

    // The notes' locations once the comment insertions are made.
    let mut shift: BTreeMap<String, Vec<(u32, usize)>> = BTreeMap::new();
    for (site_key, kept) in &decided.kept {
        let site = &placed.sites[site_key];
        shift.entry(site.path.clone()).or_default().push((site.line, kept.len()));
    }
    let (final_lines, _) = shifted_lines(model, &lines, &shift);

    // Comments in templates.
    let mut files: BTreeMap<String, FileEdits> = BTreeMap::new();
    for (site_key, kept) in &decided.kept {
        let site = &placed.sites[site_key];
        let Some(text) = texts.get(&site.path) else { continue };
        let edit = comment_edit(site, text, kept.iter().map(|&i| final_lines[i].text.as_str()));
        files
            .entry(site.path.clone())
            .or_insert_with(|| FileEdits { path: site.path.clone(), create: false, edits: Vec::new() })
            .edits
            .push(edit);
    }

    // Sidecars.
    let mut used_ids: BTreeSet<String> = BTreeSet::new();
    for kept in decided.kept.values().chain(sidecars.values().flatten().map(|(_, kept)| kept)) {
        for &i in kept {
            used_ids.extend(referenced_ids(&lines[i].text));
        }
    }
    for (sidecar, groups) in &sidecars {
        let mut out: Vec<String> = Vec::new();
        let mut count = 0;
        for (site, kept) in groups {
            let text = texts.get(&site.path).copied().unwrap_or("");
            out.push(source_line(site, text));
            out.extend(kept.iter().map(|&i| final_lines[i].text.clone()));
            count += kept.len();
        }
        push_gal(&mut files, texts, sidecar, out, count);
    }

    // Definitions and the Internet.
    let existing = gal_keys(texts.get(DEFINITIONS_FILE).copied().unwrap_or(""));
    let mut definitions: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for &i in &placed.definitions {
        let line = &final_lines[i];
        let wanted = match line.about {
            About::Definition => definition_wanted(&line.text, &used_ids, known, &existing),
            About::Element(key) => !known.asset(&asset_id(key)) && !existing.contains(&semantic(&line.text)),
            _ => !existing.contains(&semantic(&line.text)),
        };
        if wanted && seen.insert(semantic(&line.text)) {
            definitions.push(line.text.clone());
        }
    }
    let count = definitions.len();
    push_gal(&mut files, texts, DEFINITIONS_FILE, definitions, count);

    plan.skipped.extend(decided.skipped);
    plan.files = files
        .into_values()
        .map(|mut f| {
            f.edits.sort_by_key(|e| e.offset);
            f
        })
        .filter(|f| !f.edits.is_empty())
        .collect();
    plan
}

/// Appends `lines` (of which `count` are annotations) to the `.gal` file `path`.
fn push_gal(
    files: &mut BTreeMap<String, FileEdits>,
    texts: &BTreeMap<String, &str>,
    path: &str,
    lines: Vec<String>,
    count: usize,
) {
    if lines.is_empty() {
        return;
    }
    let text = texts.get(path).copied();
    let edit = append_edit(text.unwrap_or(""), lines, count);
    files.insert(
        path.to_string(),
        FileEdits { path: path.to_string(), create: text.is_none(), edits: vec![edit] },
    );
}

/// Where a group of lines goes: above the line at `offset` of `path`.
#[derive(Clone, Debug)]
struct Site {
    path: String,
    /// The byte offset of the start of the definition's line.
    offset: usize,
    /// Its 1-based line.
    line: u32,
    /// The end of what the definition covers (a flow or boundary written before it belongs
    /// to it).
    end: usize,
    /// Names of what is defined here, which `@source symbol:` may use (the first that the
    /// anchors' rule finds on this line: [`source_line`]).
    symbols: Vec<String>,
    /// The elements defined here.
    elements: Vec<String>,
    /// Indices of the proposed lines that go here, in order.
    members: Vec<usize>,
}

#[derive(Default)]
struct Placed {
    /// By (path, offset).
    sites: BTreeMap<(String, usize), Site>,
    element_site: BTreeMap<String, (String, usize)>,
    /// Indices of the lines for [`DEFINITIONS_FILE`].
    definitions: Vec<usize>,
    skipped: Vec<(String, SkipReason)>,
}

#[derive(Default)]
struct Decided {
    kept: BTreeMap<(String, usize), Vec<usize>>,
    skipped: Vec<(String, SkipReason)>,
}

/// The start of the line that holds `offset`.
fn line_start(text: &str, offset: usize) -> usize {
    let offset = floor_boundary(text, offset.min(text.len()));
    text[..offset].rfind('\n').map_or(0, |at| at + 1)
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The line at `start` (a line start), without its line break.
fn line_at(text: &str, start: usize) -> &str {
    let rest = &text[start..];
    let line = rest.split('\n').next().unwrap_or("");
    line.strip_suffix('\r').unwrap_or(line)
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// The end of what a definition at `start` covers: its origin's range when that spans more
/// than its first line (a Terraform block, a Kubernetes document), else the lines after it
/// that are indented deeper (a YAML or JSON key's value).
fn extent(text: &str, start: usize, origin: &Origin, language: Option<Language>) -> usize {
    let first_end = start + line_at(text, start).len();
    if origin.end > first_end || language == Some(Language::Hcl) {
        return origin.end.max(first_end);
    }
    let indent = indent_of(line_at(text, start)).len();
    let mut end = first_end;
    let mut at = text[first_end..].find('\n').map_or(text.len(), |i| first_end + i + 1);
    while at < text.len() {
        let line = line_at(text, at);
        let content = line.trim_start_matches([' ', '\t']);
        let blank = content.is_empty() || content.starts_with('#');
        if !blank && (line.len() - content.len() <= indent || content.starts_with("---")) {
            break;
        }
        end = at + line.len();
        at = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
    }
    end
}

/// Assigns every proposed line to its site (or to the definitions file).
fn place(model: &InfraModel, lines: &[ProposedLine<'_>], texts: &BTreeMap<String, &str>) -> Placed {
    let mut placed = Placed::default();
    let language = |path: &str| Language::from_path(std::path::Path::new(path));
    let mut site_for = |placed: &mut Placed, origin: &Origin, symbol: Option<&str>, covers: bool| {
        let text = texts.get(&origin.path)?;
        let offset = line_start(text, origin.start);
        // The origin's line is the line of its start (counting the text's lines per site would
        // be quadratic in a large template).
        let line = origin.line.max(1);
        let end = if covers { extent(text, offset, origin, language(&origin.path)) } else { offset };
        let key = (origin.path.clone(), offset);
        let site = placed.sites.entry(key.clone()).or_insert_with(|| Site {
            path: origin.path.clone(),
            offset,
            line,
            end,
            symbols: Vec::new(),
            elements: Vec::new(),
            members: Vec::new(),
        });
        site.end = site.end.max(end);
        if let Some(symbol) = symbol.filter(|s| anchorable_symbol(s)) {
            site.symbols.push(symbol.to_string());
        }
        Some(key)
    };
    // Definitions first: resources, then boundaries.
    for e in &model.elements {
        if e.key == INTERNET || e.origin.path.is_empty() {
            continue;
        }
        match site_for(&mut placed, &e.origin, Some(&e.name), true) {
            Some(key) => {
                if let Some(site) = placed.sites.get_mut(&key) {
                    site.elements.push(e.key.clone());
                }
                placed.element_site.insert(e.key.clone(), key);
            }
            None => placed.skipped.push((e.key.clone(), SkipReason::NoText)),
        }
    }
    for b in &model.boundaries {
        site_for(&mut placed, &b.origin, Some(&b.name), true);
    }
    for (i, line) in lines.iter().enumerate() {
        let owner = match line.about {
            About::Definition => None,
            About::Element(key) => match placed.element_site.get(key) {
                Some(site) => Some(site.clone()),
                None if file_of(model, line.about) == DEFINITIONS_FILE => None,
                None => continue, // its file was not read: skipped above
            },
            About::Flow(f) => owner(&mut placed, &f.origin, texts, &mut site_for),
            About::Boundary(b) => owner(&mut placed, &b.origin, texts, &mut site_for),
        };
        match owner {
            Some(key) => {
                if let Some(site) = placed.sites.get_mut(&key) {
                    site.members.push(i);
                }
            }
            None if matches!(line.about, About::Flow(_) | About::Boundary(_)) => {
                placed.skipped.push((file_of(model, line.about), SkipReason::NoText))
            }
            None => placed.definitions.push(i),
        }
    }
    placed.sites.retain(|_, s| !s.members.is_empty());
    placed
}

/// The innermost definition that covers `origin`, else a site of its own line.
fn owner(
    placed: &mut Placed,
    origin: &Origin,
    texts: &BTreeMap<String, &str>,
    site_for: &mut impl FnMut(&mut Placed, &Origin, Option<&str>, bool) -> Option<(String, usize)>,
) -> Option<(String, usize)> {
    texts.get(&origin.path)?;
    let covering = placed
        .sites
        .range((origin.path.clone(), 0)..=(origin.path.clone(), origin.start))
        .filter(|(_, s)| s.offset <= origin.start && origin.start <= s.end)
        .map(|(k, _)| k.clone())
        .next_back();
    covering.or_else(|| site_for(placed, origin, None, false))
}

/// Decides a comment site: nothing when one of its resources is declared or named right above
/// it; else the lines not already right above it.
fn decide_comment_site(
    lines: &[ProposedLine<'_>],
    site: &Site,
    text: &str,
    known: &Known,
    decided: &mut Decided,
) {
    if let Some(reasons) = declared(site, known) {
        decided.skipped.extend(reasons);
        return;
    }
    let above = parsed_keys(&above_text(text, site));
    let named = |key: &String| {
        let id = normalize_name(&asset_id(key));
        above.iter().any(|(_, ann)| {
            ann.refs().iter().any(|(kind, r)| *kind == EntityKind::Asset && ref_name(r) == id)
        })
    };
    if site.elements.iter().any(named) {
        let reasons = site.elements.iter().map(|k| (k.clone(), SkipReason::AnnotatedAbove(asset_id(k))));
        decided.skipped.extend(reasons);
        return;
    }
    let existing: BTreeSet<String> = above.iter().map(|(key, _)| key.clone()).collect();
    let kept: Vec<usize> =
        site.members.iter().copied().filter(|&i| !existing.contains(&semantic(&lines[i].text))).collect();
    if !kept.is_empty() {
        decided.kept.insert((site.path.clone(), site.offset), kept);
    }
}

/// `Some` (one reason per resource) when a resource of the site has its asset declared.
fn declared(site: &Site, known: &Known) -> Option<Vec<(String, SkipReason)>> {
    site.elements
        .iter()
        .any(|k| known.asset(&asset_id(k)))
        .then(|| site.elements.iter().map(|k| (k.clone(), SkipReason::AssetDeclared(asset_id(k)))).collect())
}

/// The comment lines right above a site, as GAL text (markers and indentation removed, one
/// line per line).
fn above_text(text: &str, site: &Site) -> String {
    let markers =
        Language::from_path(std::path::Path::new(&site.path)).map_or(&[][..], |l| l.line_comment_markers());
    let mut block: Vec<&str> = Vec::new();
    let mut at = site.offset;
    while at > 0 {
        let start = line_start(text, at - 1);
        let line = line_at(text, start).trim_start_matches([' ', '\t']);
        let Some(rest) = markers.iter().find_map(|m| line.strip_prefix(m)) else { break };
        block.push(rest);
        at = start;
    }
    block.reverse();
    block.join("\n")
}

/// Every annotation of a GAL text with its [`semantic`] key.
fn parsed_keys(gal: &str) -> Vec<(String, Annotation)> {
    if gal.is_empty() {
        return Vec::new();
    }
    let parsed = crate::syntax::parse_file(Language::Gal, gal);
    parsed
        .annotations
        .into_iter()
        .filter_map(|ann| Some((semantic(&crate::syntax::canonical::to_gal(gal, &ann)?), ann)))
        .collect()
}

/// The [`semantic`] keys of a `.gal` file's annotations.
fn gal_keys(gal: &str) -> BTreeSet<String> {
    parsed_keys(gal).into_iter().map(|(k, _)| k).collect()
}

/// A canonical line without its description: two lines that differ only in their notes say
/// the same thing.
fn semantic(canonical: &str) -> String {
    canonical.split(" -- \"").next().unwrap_or(canonical).trim_end().to_string()
}

/// The normalised name an asset argument gives.
fn ref_name(r: &crate::syntax::Ref) -> String {
    match &r.form {
        RefForm::Id(id) => normalize_name(&id.value),
        RefForm::Name { name, .. } => normalize_name(&name.value),
        RefForm::Legacy { component, .. } => normalize_name(&component.value),
    }
}

/// The threat and control ids a canonical line refers to (`#id`).
fn referenced_ids(canonical: &str) -> Vec<String> {
    let parsed = crate::syntax::parse_file(Language::Gal, canonical);
    let mut out = Vec::new();
    for ann in &parsed.annotations {
        for (kind, r) in ann.refs() {
            if matches!(kind, EntityKind::Threat | EntityKind::Control)
                && let RefForm::Id(id) = &r.form
            {
                out.push(id.value.to_string());
            }
        }
    }
    out
}

/// Whether a definition line is to be added: its id is used, unknown, and not in the file.
fn definition_wanted(
    canonical: &str,
    used: &BTreeSet<String>,
    known: &Known,
    existing: &BTreeSet<String>,
) -> bool {
    let parsed = crate::syntax::parse_file(Language::Gal, canonical);
    let id = parsed.annotations.first().and_then(|ann| match &ann.body {
        Body::Define { target, .. } => {
            target.form.name_parts().and_then(|(_, id, _)| id).map(|id| id.value.to_string())
        }
        _ => None,
    });
    match id {
        Some(id) => {
            used.contains(&id) && !known.ids.contains(&id) && !existing.contains(&semantic(canonical))
        }
        None => false,
    }
}

/// The proposed lines again, their notes locating the templates as they are once `shift`
/// (per path: (site line, lines inserted above it)) is applied.
fn shifted_lines<'m>(
    model: &'m InfraModel,
    first: &[ProposedLine<'m>],
    shift: &BTreeMap<String, Vec<(u32, usize)>>,
) -> (Vec<ProposedLine<'m>>, usize) {
    let locate = |o: &Origin| {
        let by: usize = shift
            .get(&o.path)
            .map_or(0, |sites| sites.iter().filter(|(line, _)| *line <= o.line).map(|(_, n)| n).sum());
        format!("{}:{}", o.path, o.line as usize + by)
    };
    let (lines, dropped) = proposed_lines(model, &locate);
    if lines.len() == first.len() { (lines, dropped) } else { (first.to_vec(), dropped) }
}

/// The line break a file uses at `offset` (its first one for an append): `\r\n` or `\n`.
fn line_break_at(text: &str, offset: usize) -> &'static str {
    let rest = &text[offset.min(text.len())..];
    let line = match rest.find('\n') {
        Some(at) => &rest[..=at],
        None => text.find('\n').map_or("", |at| &text[..=at]),
    };
    if line.ends_with("\r\n") { "\r\n" } else { "\n" }
}

/// The comment lines of a site, indented like its definition.
fn comment_edit<'a>(site: &Site, text: &str, lines: impl Iterator<Item = &'a str>) -> Edit {
    let marker = marker(&site.path).unwrap_or("#");
    let indent = indent_of(line_at(text, site.offset));
    let eol = line_break_at(text, site.offset);
    let mut out = String::new();
    let mut count = 0;
    for line in lines {
        out.push_str(indent);
        out.push_str(marker);
        out.push(' ');
        out.push_str(line);
        out.push_str(eol);
        count += 1;
    }
    Edit { offset: site.offset, text: out, lines: count }
}

/// Lines appended to a `.gal` file: its line breaks kept, and a missing final one still
/// missing afterwards.
fn append_edit(text: &str, lines: Vec<String>, count: usize) -> Edit {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let body = lines.join(eol);
    let out =
        if text.is_empty() || text.ends_with('\n') { format!("{body}{eol}") } else { format!("{eol}{body}") };
    Edit { offset: text.len(), text: out, lines: count }
}

/// The `@source` line of a sidecar group.
fn source_line(site: &Site, text: &str) -> String {
    let symbol = site.symbols.iter().find(|s| nearest(&symbol_lines(text, s), site.line) == Some(site.line));
    match symbol {
        Some(symbol) => format!("@source file:{} line:{} symbol:{symbol}", site.path, site.line),
        None => format!("@source file:{} line:{}", site.path, site.line),
    }
}

/// The marker the planner writes comments with in the file at `path`: the language's (see
/// [`comment_marker`]), except in JSON, whose parsers (CloudFormation's among them) refuse the
/// `//` comments some editors allow.
fn marker(path: &str) -> Option<&'static str> {
    let json = Language::from_path(std::path::Path::new(path)) == Some(Language::Json);
    comment_marker(path).filter(|_| !json)
}

/// Whether a path can be written in an `@source` line.
fn anchorable(path: &str) -> bool {
    !path.is_empty()
        && path
            .chars()
            .all(|c| !c.is_whitespace() && crate::text::is_inert(c) && !crate::text::is_invisible(c))
}

/// Whether a name can be an `@source symbol:`: an identifier (letters, digits, `_`, `-`).
fn anchorable_symbol(symbol: &str) -> bool {
    !symbol.is_empty() && symbol.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::{SourceFile, derive};
    use std::sync::Arc;

    const TF: &str = "variable \"x\" {}\n\n# The uploads.\nresource \"aws_s3_bucket\" \"uploads\" {\n  acl = \"public-read\"\n}\n\nresource \"aws_db_instance\" \"db\" {\n  publicly_accessible = true\n}\n";

    fn model_of(files: &[(&str, &str)]) -> InfraModel {
        let files: Vec<SourceFile> = files
            .iter()
            .map(|(path, text)| SourceFile {
                path: path.to_string(),
                language: Language::from_path(std::path::Path::new(path)).unwrap(),
                text: Arc::from(*text),
            })
            .collect();
        derive(&files)
    }

    /// Plans, applies, and returns the new texts (created files included).
    fn apply_plan(
        texts: &BTreeMap<String, String>,
        mode: Mode,
        known: &Known,
    ) -> (Plan, BTreeMap<String, String>) {
        let templates: Vec<(&str, &str)> = texts
            .iter()
            .filter(|(p, _)| !p.ends_with(".gal"))
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let model = model_of(&templates);
        let borrowed: BTreeMap<String, &str> = texts.iter().map(|(p, t)| (p.clone(), t.as_str())).collect();
        let plan = plan_all(&model, &borrowed, known, mode);
        let mut out = texts.clone();
        for file in &plan.files {
            let old = texts.get(&file.path).map_or("", String::as_str);
            assert_eq!(file.create, !texts.contains_key(&file.path), "{}", file.path);
            out.insert(file.path.clone(), apply_edits(old, &file.edits));
        }
        (plan, out)
    }

    fn known_of(texts: &BTreeMap<String, String>) -> Known {
        let mut known = Known::default();
        for (path, text) in texts {
            let language = Language::from_path(std::path::Path::new(path)).unwrap_or(Language::Gal);
            for ann in crate::syntax::parse_file(language, text).annotations {
                if let Body::Define { kind, target } = &ann.body
                    && let Some((name, id, _)) = target.form.name_parts()
                {
                    if *kind == EntityKind::Asset {
                        known.assets.insert(normalize_name(&name.value));
                    }
                    known.ids.extend(id.iter().map(|i| i.value.to_string()));
                }
            }
        }
        known
    }

    fn texts(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect()
    }

    #[test]
    fn resources_get_their_lines_above_their_definition_and_a_second_plan_adds_nothing() {
        let before = texts(&[("main.tf", TF)]);
        let (plan, after) = apply_plan(&before, Mode::Comments, &Known::default());
        let tf = &after["main.tf"];
        let bucket = tf.find("resource \"aws_s3_bucket\"").unwrap();
        let asset = tf.find("# @asset aws_s3_bucket_uploads").unwrap();
        assert!(asset < bucket && tf[asset..bucket].lines().all(|l| l.starts_with("# @")), "{tf}");
        // The user's comment stays where it was, above the inserted lines.
        assert!(tf.find("# The uploads.").unwrap() < asset, "{tf}");
        // Existing lines are all there, in order.
        let kept: Vec<&str> = tf.lines().filter(|l| !l.contains("@")).collect();
        assert_eq!(kept, TF.lines().collect::<Vec<_>>());
        let defs = &after[DEFINITIONS_FILE];
        assert!(defs.contains("(#public-storage)") && !defs.contains("@asset internet"), "{defs}");
        assert!(plan.files.iter().all(|f| f.lines() > 0));
        // Notes locate the rule's attribute in the applied file.
        let line = tf.lines().find(|l| l.contains("TF-S3-PUBLIC-ACL")).unwrap();
        let n: usize = line.rsplit("main.tf:").next().unwrap().trim_end_matches(")\"").parse().unwrap();
        assert!(tf.lines().nth(n - 1).unwrap().contains("acl"), "{line}\n{tf}");
        // Planned again with the project's declarations: nothing.
        let (again, same) = apply_plan(&after, Mode::Comments, &known_of(&after));
        assert!(again.files.is_empty(), "{:?}", again.files);
        assert_eq!(same, after);
        // Even without them, the lines right above each resource stop a second insertion.
        let (again, same) = apply_plan(&after, Mode::Comments, &Known::default());
        assert!(again.files.iter().all(|f| f.path == DEFINITIONS_FILE), "{:?}", again.files);
        assert_eq!(same["main.tf"], after["main.tf"]);
    }

    #[test]
    fn an_annotated_resource_gets_nothing_and_keeps_its_annotation() {
        let tf = TF.replace(
            "resource \"aws_db_instance\"",
            "# @asset aws_db_instance_db -- \"mine\"\nresource \"aws_db_instance\"",
        );
        let before = texts(&[("main.tf", &tf)]);
        let (plan, after) = apply_plan(&before, Mode::Comments, &Known::default());
        assert!(
            plan.skipped
                .iter()
                .any(|(k, why)| k == "aws_db_instance.db" && matches!(why, SkipReason::AnnotatedAbove(_)))
        );
        let out = &after["main.tf"];
        assert_eq!(out.matches("aws_db_instance_db").count(), 1, "{out}");
        assert!(out.contains("# @asset aws_s3_bucket_uploads"));
        // Declared elsewhere in the project: the same.
        let known =
            Known { assets: BTreeSet::from(["aws_s3_bucket_uploads".to_string()]), ids: BTreeSet::new() };
        let (plan, after) = apply_plan(&texts(&[("main.tf", TF)]), Mode::Comments, &known);
        assert!(!after["main.tf"].contains("aws_s3_bucket_uploads"));
        assert!(
            plan.skipped
                .iter()
                .any(|(k, why)| k == "aws_s3_bucket.uploads" && matches!(why, SkipReason::AssetDeclared(_)))
        );
    }

    #[test]
    fn crlf_stays_crlf_and_a_missing_final_line_break_stays_missing() {
        let tf = TF.replace('\n', "\r\n");
        let tf = tf.trim_end_matches("\r\n");
        let gal = "@threat \"Mine\" (#mine)";
        let before = texts(&[("main.tf", tf), (DEFINITIONS_FILE, gal)]);
        let (_, after) = apply_plan(&before, Mode::Comments, &Known::default());
        let out = &after["main.tf"];
        assert!(out.contains("@asset"));
        assert_eq!(out.matches('\n').count(), out.matches("\r\n").count(), "{out:?}");
        assert!(!out.ends_with('\n'));
        let defs = &after[DEFINITIONS_FILE];
        assert!(defs.starts_with(gal) && !defs.ends_with('\n') && defs.contains("\n@threat"), "{defs:?}");
    }

    #[test]
    fn json_and_sidecar_mode_write_anchored_sidecars() {
        let cfn =
            "{\n  \"Resources\": {\n    \"Logs\": {\n      \"Type\": \"AWS::S3::Bucket\"\n    }\n  }\n}\n";
        let before = texts(&[("stack.json", cfn), ("main.tf", TF)]);
        let (plan, after) = apply_plan(&before, Mode::Comments, &Known::default());
        assert_eq!(after["stack.json"], cfn);
        assert_eq!(plan.sidecar_instead, vec![("stack.json".to_string(), sidecar_path("stack.json"))]);
        let sidecar = &after[".guardlink/baseline-stack.json.gal"];
        // `"Logs": {` is not a definition by the anchors' textual rule: the line alone anchors it.
        assert!(sidecar.starts_with("@source file:stack.json line:3\n@asset cfn_Logs"), "{sidecar}");
        let (plan, after) = apply_plan(&before, Mode::Sidecar, &Known::default());
        assert_eq!(after["main.tf"], TF);
        let sidecar = &after[".guardlink/baseline-main.tf.gal"];
        assert!(
            sidecar.contains("@source file:main.tf line:4 symbol:uploads\n@asset aws_s3_bucket_uploads"),
            "{sidecar}"
        );
        assert!(plan.files.iter().any(|f| f.path == DEFINITIONS_FILE));
        let (again, _) = apply_plan(&after, Mode::Sidecar, &known_of(&after));
        assert!(again.files.is_empty(), "{:?}", again.files);
    }

    #[test]
    fn yaml_keys_get_their_indentation() {
        let compose = "services:\n  db:\n    image: postgres\n    ports: [\"5432:5432\"]\n";
        let before = texts(&[("compose.yaml", compose)]);
        let (_, after) = apply_plan(&before, Mode::Comments, &Known::default());
        let out = &after["compose.yaml"];
        assert!(out.starts_with("services:\n  # @asset compose_db"), "{out}");
    }

    #[test]
    fn plan_resource_inserts_one_resources_lines() {
        let model = model_of(&[("main.tf", TF)]);
        let edit = plan_resource(&model, "aws_db_instance.db", TF).unwrap();
        assert_eq!(edit.offset, TF.find("resource \"aws_db_instance\"").unwrap());
        assert!(
            edit.text.starts_with("# @asset aws_db_instance_db") && !edit.text.contains("uploads"),
            "{}",
            edit.text
        );
        let applied = apply_edits(TF, std::slice::from_ref(&edit));
        let model = model_of(&[("main.tf", &applied)]);
        assert_eq!(plan_resource(&model, "aws_db_instance.db", &applied), None);
        assert!(plan_resource(&model, "aws_s3_bucket.uploads", &applied).is_some());
        assert_eq!(plan_resource(&model, "nope", &applied), None);
        let defs = plan_definitions(&model, &["aws_db_instance.db"], "", &Known::default()).unwrap();
        assert!(
            defs.text.contains("(#public-database)") && !defs.text.contains("(#public-storage)"),
            "{}",
            defs.text
        );
    }
}
