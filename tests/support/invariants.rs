//! The properties that the proptests (`tests/properties.rs`, run by `cargo test`) and the
//! fuzz targets (`fuzz/`, run by `cargo fuzz`) both check, written once. Each `check_*`
//! panics when its property does not hold.
//!
//! - [`check_parse`]: parsing any text in any language never panics and every range lies in
//!   the text, on character boundaries.
//! - [`check_comments`]: comment extraction keeps ranges in the text, blocks increase, and the
//!   fast lexer, whenever it decides, finds exactly the comments tree-sitter finds.
//! - [`check_model`]: a project index updated file by file (and its incremental analysis)
//!   equals one rebuilt from scratch.
//! - [`check_document`]: a language-server document edited incrementally, with UTF-16 or
//!   UTF-8 positions (in range or not), holds exactly the text of a reference string edited
//!   the same way, and its incrementally re-read facts equal a fresh parse.
//! - [`check_renderers`]: every output format renders any project, machine formats parse, and
//!   markup never carries annotation text unescaped (no raw `<`, an inert HTML page, a
//!   well-formed SVG); the terminal output and every string of the machine formats (JSON,
//!   SARIF, exports) hold no control or bidi character, and SARIF messages no unescaped `[`
//!   or `]`.
//!   Every MCP answer (`render::mcp`) is an object with its provenance, holds no string an
//!   agent could be misled by, cuts repository text and bounds lists, and has only
//!   threat-analyzer's own (printable ASCII) words outside its `"source": "repository"` fields.
//! - [`check_readers`]: the bounded reader returns a file's bytes exactly when it is a regular
//!   file within the limit (else the refusal the size or the link calls for); ignore rules read
//!   through it match every path exactly as the `ignore` crate's own loader does; any bytes as
//!   a `threatspec.yaml`, an index cache file, one file's stored facts or `check`'s result file
//!   are read and refused or parsed, never a panic.
//! - [`check_revision_spec`], [`check_tree_name`]: the git revision-spec reading and the
//!   tree-entry name rule of `vcs` (what a snapshot writes is one ordinary path component).
//! - [`check_baseline_file`]: any bytes as a `--baseline FILE` are refused or parsed; what
//!   parses writes back and reads back the same, and pairs with itself completely.
//! - [`check_diff`]: the model diff of two projects in every layout: no panic, machine
//!   formats parse and are clean, markup escaped, links only under the link base.
//! - [`check_layout`]: the diagram layout under any work budget keeps its guarantees, is
//!   deterministic, draws every pair of nodes with a flow as one route between their boxes,
//!   places no more dummies than the budget allows, and says when it routed flows below.
//! - [`check_protocol_input`]: the language server's input passes only whole JSON-RPC frames,
//!   the same however the reads split the bytes, and garbage in front of good frames never
//!   costs one of them.
#![allow(dead_code)]

// @validates #hostile-tests for ThreatAnalyzer

#[path = "html.rs"]
pub mod html_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use threat_analyzer::analysis::{self, Analysis, CoverageScope};
use threat_analyzer::diagnostic::Diagnostic;
use threat_analyzer::file_id::FileId;
use threat_analyzer::lsp::documents::Document;
use threat_analyzer::model::file_text::{FileText, Reread};
use threat_analyzer::model::risk::{Band, Policies, RiskPolicy};
use threat_analyzer::model::{FileFacts, ProjectIndex};
use threat_analyzer::render::{self, dfd};
use threat_analyzer::syntax::{self, Annotation, CandidateLine, Language, RefForm, comments, lexer};
use threat_analyzer::text::{ColumnUnit, TextRange};
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};

pub fn check_range(text: &str, r: TextRange, what: &str) {
    assert!(r.start <= r.end && r.end() <= text.len(), "{what} {r:?} outside {}", text.len());
    assert!(
        text.is_char_boundary(r.start()) && text.is_char_boundary(r.end()),
        "{what} {r:?} not on char boundary"
    );
}

pub fn check_annotation(text: &str, a: &Annotation) {
    check_range(text, a.range, "annotation");
    check_range(text, a.verb_range(), "verb");
    for (_, r) in a.refs() {
        check_range(text, r.range, "ref");
        match &r.form {
            RefForm::Id(id) => check_range(text, id.range, "id"),
            RefForm::Name { .. } => {
                let (name, id, alias) = r.form.name_parts().expect("a name");
                check_range(text, name.range, "name");
                id.iter().chain(alias.iter()).for_each(|s| check_range(text, s.range, "name part"));
            }
            RefForm::Legacy { boundary, component } => {
                check_range(text, boundary.range, "boundary");
                check_range(text, component.range, "component");
            }
        }
    }
    let texts = a.description.iter().chain(a.details.iter()).map(|s| s.range);
    for range in texts.chain(a.external_refs().iter().map(|s| s.range)) {
        check_range(text, range, "metadata");
    }
    if let Some(risk) = a.risk() {
        let tokens = [
            ("risk:", risk.rating.as_ref().map(|r| r.range)),
            ("owner:", risk.owner.as_ref().map(|o| o.range)),
            ("due:", risk.due.as_ref().map(|d| d.range)),
            ("audited:", risk.audited.as_ref().map(|d| d.range)),
        ];
        for (key, range) in tokens.into_iter().filter_map(|(k, r)| r.map(|r| (k, r))) {
            check_range(text, range, "risk");
            assert!(range.slice(text).starts_with(key), "a risk value's range is its `{key}` token");
        }
    }
}

/// Files of each kind the properties exercise.
pub const LANGUAGE_FILES: &[&str] = &[
    "a.py",
    "a.rs",
    "a.js",
    "a.ts",
    "a.go",
    "a.c",
    "a.cpp",
    "a.java",
    "a.cs",
    "a.rb",
    "a.php",
    "a.sh",
    "a.yaml",
    "a.tf",
    "a.toml",
    "a.kt",
    "a.swift",
    "a.scala",
    "a.lua",
    "a.json",
    "Dockerfile",
    "a.gal",
    "a.txt",
    "a.tsx",
];

pub fn language(i: usize) -> Language {
    Language::from_path(std::path::Path::new(LANGUAGE_FILES[i % LANGUAGE_FILES.len()]))
        .expect("a known language")
}

pub fn check_parse(language: Language, text: &str) {
    // The MCP tool prefilter (`mcp::may_define_tool`) never turns away a text the tool query
    // reads a tool from, broken code (tree-sitter's error recovery) included.
    if !syntax::mcp::read_tools(language, text).tools.is_empty() {
        assert!(syntax::mcp::may_define_tool(language, text.as_bytes()), "a tool the prefilter turned away");
    }
    let parsed = syntax::parse_file(language, text);
    for a in &parsed.annotations {
        check_annotation(text, a);
    }
    check_kept_lines(text, &FileFacts::kept_ranges(&parsed));
    // What the index cache keeps of the file (its parse result) restores the facts parsing
    // gives: the encoding round-trips, and what is derived from it again is the same.
    let path = FileId::relative(if language == Language::Gal { "s.gal" } else { "s.src" });
    let facts = FileFacts::new(path.clone(), language, text.into());
    let stored = threat_analyzer::cache::decode_facts(&threat_analyzer::cache::encode_facts(&facts))
        .expect("stored facts decode");
    let restored = FileFacts::from_stored(path, language, FileText::whole(text.into()), stored)
        .expect("stored facts fit their text");
    let shown = |f: &FileFacts| {
        format!("{:?} {:?} {:?} {:?} {:?}", f.parsed, f.refs, f.defs, f.implicit_ids, f.anchors)
    };
    assert_eq!(shown(&restored), shown(&facts), "{text:?}");
    for e in &parsed.errors {
        check_range(text, e.range, "error");
        // An agent-instruction warning names its rule, never the text it flags.
        if e.code == threat_analyzer::diagnostic::Code::AgentInstructionInAnnotation {
            assert!(e.message.chars().all(|c| c == ' ' || c.is_ascii_graphic()), "{:?}", e.message);
            assert!(
                parsed
                    .annotations
                    .iter()
                    .any(|a| a.range.start <= e.range.start && e.range.end <= a.range.end),
                "an agent-instruction warning outside every annotation: {e:?}"
            );
        }
    }
}

/// A file that changed since it was scanned: any answer a kept text reads from it is wrong.
struct Changed;

impl Reread for Changed {
    fn reread(&self) -> Option<String> {
        None
    }
    fn is_scanned(&self, _: &str) -> bool {
        false
    }
}

/// What `check` keeps of a file's text (the lines of `ranges`: its annotations' and errors')
/// answers every question about those ranges as the whole text does, without reading the
/// file again.
pub fn check_kept_lines(text: &str, ranges: &[TextRange]) {
    let whole = FileText::whole(Arc::from(text));
    let part = FileText::keep_lines(text, &mut ranges.to_vec(), || Box::new(Changed));
    for &r in ranges {
        assert_eq!(part.slice(r), whole.slice(r), "{r:?}");
        for offset in [r.start(), r.end()] {
            for unit in [ColumnUnit::Utf8, ColumnUnit::Char, ColumnUnit::Utf16] {
                assert_eq!(part.line_col(offset, unit), whole.line_col(offset, unit), "{offset} {unit:?}");
            }
            let line = whole.line_of(offset);
            assert_eq!(part.line_of(offset), line, "{offset}");
            assert_eq!(part.line_range(line), whole.line_range(line), "line {line}");
            assert_eq!(part.line_start(line), whole.line_start(line), "line {line}");
        }
    }
    assert!(!part.is_stale(), "a kept text read the file again for {ranges:?}");
}

fn check_lines(text: &str, lines: &[CandidateLine]) {
    for pair in lines.windows(2) {
        assert!(pair[0].block <= pair[1].block, "blocks decrease: {pair:?}");
    }
    for line in lines {
        check_range(text, line.range, "candidate line");
    }
}

pub fn check_comments(language: Language, text: &str) {
    check_lines(text, &syntax::candidate_lines(language, text));
    let Some(tree) = comments::parse_tree(language, text, None) else { return };
    check_lines(text, &comments::candidate_lines_in_tree(language, &tree, text));
    // The lexer stands in for tree-sitter only where it provably agrees.
    if let (Some(mut fast), Some(mut exact)) =
        (lexer::comment_ranges(language, text), comments::comment_nodes(language, &tree, text, None))
    {
        fast.sort_unstable();
        exact.sort_unstable();
        if !tree.root_node().has_error() {
            assert_eq!(fast, exact, "{language:?}: the lexer and tree-sitter disagree on {text:?}");
        }
    }
    // So does the YAML reader of `x-threatspec` values without a tree.
    if language == Language::Yaml
        && !tree.root_node().has_error()
        && let Some((_, fast)) = syntax::embedded::yaml_lines_without_tree(text)
    {
        let exact = syntax::embedded::x_threatspec_lines_in_tree(language, &tree, text);
        assert_eq!(fast, exact, "x-threatspec without a tree and tree-sitter disagree on {text:?}");
    }
}

/// One step of [`check_model`]: file `file` gets `Some(lines)` (indices into [`MODEL_LINES`])
/// or is removed.
pub type ModelStep = (usize, Option<Vec<usize>>);

/// Lines the model property builds files from: definitions, references, duplicates and
/// dangling ids that interact across files.
pub const MODEL_LINES: &[&str] = &[
    "# @threat SQL Injection (#sqli) [high]",
    "# @threat Stored XSS (#sqli)",
    "# @threat XSS (#xss)",
    "# @control Prepared (#prep)",
    "# @exposes Shop.Orders to #sqli",
    "# @exposes Shop:Orders to sql-injection",
    "# @exposes Shop.Web to #xss",
    "# @mitigates shop.orders against #sqli using #prep",
    "# @mitigates Shop against XSS",
    "# @accepts #xss on Shop.Web",
    "# @exposes Shop.Web to #xsss",
    "# @connects Shop:Web to Shop:Api with HTTPS",
    "# @component Shop:Web (#web)",
    "# @mitigates #web against #xss",
    "# @confirmed #sqli on Shop.Orders",
    "# @mitigates Shop.Orders #sqli",
    "# @boundary between Shop.Web and Shop.Api (#edge)",
    "# @flows Shop.Web -> Shop.Orders via SQL",
    // Edits that leave the resolution tables as they were: a name's spelling, a severity, a
    // line that moves what follows it, a cover of its own: the incremental analysis keeps
    // other files' diagnostics only when none of these reach them.
    "# @threat SQL injection (#sqli) [critical]",
    "# a comment line without an annotation",
    "# @exposes Shop.Orders to #sqli [low]",
    "# @accepts #sqli on Shop.Orders",
    // Risk: ratings, owners and dates the register inherits across files (unowned and
    // overdue findings under the policy `check_model` uses).
    "# @exposes Shop.Web to #xss risk:L4xI4 audited:2020-01-01",
    "# @threat Injection (#inj) risk:L2xI3 owner:team-db due:2021-01-01",
    "# @owns team-web for Shop.Web",
    "# @exposes Shop.Orders to #inj [high]",
    // Edits that change only what the register reads from other files (an owner, a
    // threat's rating) or only what covers an overdue risk.
    "# @owns team-ops for Shop.Web",
    "# @threat Injection (#inj) risk:L5xI5",
    "# @transfers #xss from Shop.Web to Shop.Api",
    // Definitions the symbol coverage scope anchors the comments around them to (a class,
    // its method, a function): nesting the covers and exposures above.
    "class Repo:",
    "    def get(self):",
    "        pass",
    "def save():",
];

/// An analysis's dangling references, used entities and stated severities, and every
/// exposure's coverage with the kind, file, annotation and range of each cover, as text.
fn project_facts(index: &ProjectIndex, a: &Analysis) -> Vec<String> {
    let mut out: Vec<String> =
        a.dangling.iter().map(|(file, fact, id)| format!("dangling {file}:{:?}:{id}", fact.range)).collect();
    let mut used: Vec<String> = a.used.iter().map(|e| format!("used {e:?}")).collect();
    used.sort();
    let mut severities: Vec<String> =
        a.threat_severity.iter().map(|(e, s)| format!("severity {e:?}:{s:?}")).collect();
    severities.sort();
    out.extend(used);
    out.extend(severities);
    for facts in index.files() {
        for i in 0..facts.annotations().len() {
            if let Some(c) = a.coverage(facts.path.as_str(), i) {
                // A contradicted cover (the anchor rule) is marked as such.
                let covers: Vec<String> = (c.covers.iter().map(|c| (c, "")))
                    .chain(c.contradicted.iter().map(|c| (c, "contradicted ")))
                    .map(|(c, how)| {
                        format!("{how}{:?} {}:{}:{:?}:{:?}", c.kind, c.file, c.annotation, c.range, c.control)
                    })
                    .collect();
                out.push(format!("coverage {}:{i}: {covers:?}", facts.path));
            }
        }
    }
    out
}

fn model_text(lines: &[usize]) -> String {
    lines.iter().map(|&i| MODEL_LINES[i % MODEL_LINES.len()]).collect::<Vec<_>>().join("\n")
}

fn model_snapshot(index: &ProjectIndex) -> (String, Vec<String>) {
    let diags = analysis::diagnostics(index)
        .into_iter()
        .map(|d| format!("{}:{:?}:{}:{}:{}", d.file, d.range, d.code.as_str(), d.level.as_str(), d.message))
        .collect();
    (index.dump(), diags)
}

fn facts(path: &str, text: &str) -> Arc<FileFacts> {
    Arc::new(FileFacts::new(FileId::relative(path), Language::Python, text.into()))
}

pub fn check_model(steps: &[ModelStep]) {
    let mut index = ProjectIndex::new();
    let mut current: BTreeMap<String, String> = BTreeMap::new();
    let mut previous: Option<Analysis> = None;
    let mut previous_by_symbol: Option<Analysis> = None;
    for (step, (file, content)) in steps.iter().enumerate() {
        let path = format!("f{}.py", file % 6);
        match content {
            Some(lines) => {
                let text = model_text(lines);
                index.set_file(facts(&path, &text));
                current.insert(path.clone(), text);
            }
            None => {
                index.remove_file(&path);
                current.remove(&path);
            }
        }
        let mut fresh = ProjectIndex::new();
        for (path, text) in &current {
            fresh.set_file(facts(path, text));
        }
        assert_eq!(model_snapshot(&index), model_snapshot(&fresh));
        // Incremental analysis (reusing unchanged files' resolutions) equals a fresh one.
        let incremental = Analysis::update(previous.as_ref(), &index);
        check_incremental(&index, &incremental, step);
        previous = Some(incremental);
        // The same under the symbol coverage scope (inline annotations anchored to the
        // definitions around them).
        let by_symbol =
            Analysis::update_with_scope(previous_by_symbol.as_ref(), &index, CoverageScope::Symbol);
        let fresh = Analysis::with_scope(&index, CoverageScope::Symbol);
        assert_eq!(
            project_facts(&index, &by_symbol),
            project_facts(&index, &fresh),
            "step {step}, symbol scope"
        );
        previous_by_symbol = Some(by_symbol);
        // Then what the editor does most: a dangling annotation typed above the file's
        // annotations, which moves them and changes nothing else.
        if content.is_some() {
            let moved = format!("# @exposes #typed-asset to #typed\n{}", current[&path]);
            index.set_file(facts(&path, &moved));
            current.insert(path, moved);
            let incremental = Analysis::update(previous.as_ref(), &index);
            check_incremental(&index, &incremental, step);
            previous = Some(incremental);
        }
    }
}

/// Asserts that `incremental` (an [`Analysis::update`] of `index`) answers as a fresh
/// analysis does.
fn check_incremental(index: &ProjectIndex, incremental: &Analysis, step: usize) {
    let render = |ds: Vec<Diagnostic>| -> Vec<String> {
        ds.into_iter()
            .map(|d| {
                let related: Vec<String> =
                    d.related.iter().map(|r| format!("{}:{:?}:{}", r.file, r.range, r.message)).collect();
                let level = d.level.as_str();
                format!("{}:{:?}:{}:{level}:{}:{related:?}", d.file, d.range, d.code.as_str(), d.message)
            })
            .collect()
    };
    let fresh = Analysis::new(index);
    assert_eq!(render(incremental.diagnostics(index)), render(fresh.diagnostics(index)), "step {step}");
    // The project-wide facts (kept when no edited file's share changed) and every exposure's
    // coverage with its covers' places (the covering relations' index is kept, with moved
    // places, when edits only move them).
    assert_eq!(project_facts(index, incremental), project_facts(index, &fresh), "step {step}");
    // The model summary (counted in the walk that gathers the project-wide facts, or on its
    // own when they were kept).
    assert_eq!(incremental.model_summary(index, 6), fresh.model_summary(index, 6), "step {step}");
    // The risk findings (each unedited file's kept from the latest analysis that computed
    // them: two steps in three ask, so some carry them over an analysis that did not).
    if step % 3 != 1 {
        let policies =
            Policies::one(RiskPolicy { owner_required_from: Some(Band::Low), ..RiskPolicy::default() });
        let today = syntax::Date::parse("2026-06-01");
        let findings = |a: &Analysis| render(a.diagnostics_with_risk(index, &policies, today, &[]));
        assert_eq!(findings(incremental), findings(&fresh), "step {step}");
        // Asked once (`check`), the same findings, nothing kept.
        let once = render(Analysis::new(index).diagnostics_with_risk_once(index, &policies, today, &[]));
        assert_eq!(once, findings(&fresh), "step {step}");
        // With no owner required, a risk is overdue exactly when the register (which rates
        // every risk) says it is open and past its due date: what the findings pass over
        // without rating must hold no such risk.
        let plain = Policies::one(RiskPolicy::default());
        let mut overdue: Vec<(String, TextRange)> = fresh
            .diagnostics_with_risk(index, &plain, today, &[])
            .into_iter()
            .filter(|d| d.code == threat_analyzer::diagnostic::Code::OverdueRisk)
            .map(|d| (d.file.to_string(), d.range))
            .collect();
        let mut expected: Vec<(String, TextRange)> = analysis::risk::risks_by(index, &fresh, &plain)
            .into_iter()
            .filter(|r| (r.confirmed || r.is_open()) && r.due.zip(today).is_some_and(|(due, t)| due.date < t))
            .map(|r| (r.file.to_string(), r.range))
            .collect();
        overdue.sort();
        expected.sort();
        assert_eq!(overdue, expected, "step {step}");
    }
    // The mentions (built from the latest earlier analysis's where it can: every other step
    // asks for them, so some steps carry them over an analysis that did not) equal a fresh
    // build's.
    if step.is_multiple_of(2) {
        let listing = |a: &Analysis| -> BTreeMap<String, Vec<(String, usize)>> {
            let mentions = a.mentions(index);
            mentions
                .entities()
                .map(|e| {
                    let at = mentions.of(e).map(|(_, f, i)| (f.path.to_string(), i)).collect();
                    (format!("{e:?}"), at)
                })
                .collect()
        };
        assert_eq!(listing(incremental), listing(&fresh), "step {step}");
        // Every hover (an entity's status reads its mentions and their files' resolutions by
        // position; its risks under the policy above), twice on the same analysis: once made,
        // then shared.
        let policies =
            Policies::one(RiskPolicy { owner_required_from: Some(Band::Low), ..RiskPolicy::default() });
        let hovers = |a: &Analysis| -> Vec<Option<String>> {
            let places =
                index.files().flat_map(|f| f.refs.iter().flatten().map(move |r| (f, r.name_range.start())));
            places
                .map(|(f, at)| {
                    analysis::ide::risk::hover(index, a, &policies, f.path.as_str(), at).map(|h| h.markdown)
                })
                .collect()
        };
        let fresh_hovers = hovers(&fresh);
        assert_eq!(hovers(incremental), fresh_hovers, "step {step}");
        assert_eq!(hovers(incremental), fresh_hovers, "step {step}, hovered again");
    }
}

/// One edit of [`check_document`]: a replacement between two positions (line, column in the
/// edit's unit; out of range on purpose sometimes), or of the whole text when `range` is
/// `None`, and whether to derive facts afterwards.
#[derive(Clone, Debug)]
pub struct DocEdit {
    pub range: Option<((u32, u32), (u32, u32))>,
    pub text: String,
    pub utf8: bool,
    pub facts: bool,
}

/// The byte offset of an LSP position in `text`, as the protocol defines it: lines end at
/// `\n`, `\r\n` or `\r`; a line past the end means the end of the text; a column past the end
/// of its line means the end of the line; a column inside a character means that character.
pub fn reference_offset(text: &str, (line, col): (u32, u32), utf8: bool) -> usize {
    let bytes = text.as_bytes();
    let mut start = 0;
    for _ in 0..line {
        match memchr::memchr2(b'\n', b'\r', &bytes[start..]) {
            None => return text.len(),
            Some(at) => {
                let at = start + at;
                start = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') { at + 2 } else { at + 1 };
            }
        }
    }
    let end = memchr::memchr2(b'\n', b'\r', &bytes[start..]).map_or(text.len(), |at| start + at);
    let mut units = 0;
    for (i, c) in text[start..end].char_indices() {
        let width = if utf8 { c.len_utf8() } else { c.len_utf16() } as u32;
        if units + width > col {
            return start + i;
        }
        units += width;
    }
    end
}

/// The facts a fresh parse of `text` gives, by the document store's own pipeline.
fn fresh_parse(language: Language, text: &str) -> syntax::ParsedFile {
    let lines = match comments::parse_tree(language, text, None) {
        Some(tree) if !language.has_embedded_annotations() => {
            comments::candidate_lines_in_tree(language, &tree, text)
        }
        _ => syntax::candidate_lines(language, text),
    };
    // The whole pipeline `check` uses: the parser, then the agent-instruction warnings and the
    // conflict notes (the raw parser alone missed them: fuzz `documents`, 2026-12-03).
    let mut parsed = syntax::parse_candidate_lines(text, &lines);
    // An open document's facts hold its MCP surface too (tools; `/doc` is no configuration).
    syntax::add_mcp_surface("/doc", language, text, &mut parsed);
    parsed
}

pub fn check_document(language: Language, initial: &str, edits: &[DocEdit]) {
    let mut doc = Document::new(initial, 0, language, u64::MAX);
    let mut text = initial.to_string();
    for (step, edit) in edits.iter().enumerate() {
        let unit = if edit.utf8 { ColumnUnit::Utf8 } else { ColumnUnit::Utf16 };
        let change = TextDocumentContentChangeEvent {
            range: edit.range.map(|((l1, c1), (l2, c2))| Range {
                start: Position::new(l1, c1),
                end: Position::new(l2, c2),
            }),
            range_length: None,
            text: edit.text.clone(),
        };
        match edit.range {
            None => text = edit.text.clone(),
            Some((a, b)) => {
                let start = reference_offset(&text, a, edit.utf8);
                let end = reference_offset(&text, b, edit.utf8).max(start);
                text.replace_range(start..end, &edit.text);
            }
        }
        doc.apply(&change, unit);
        assert_eq!(doc.rope.to_string(), text, "step {step}: {edit:?}");
        if edit.facts {
            let facts = doc.facts(FileId::absolute(std::path::Path::new("/doc")), u64::MAX);
            assert_eq!(facts.text(), text.as_str());
            assert_eq!(facts.parsed, fresh_parse(language, &text), "step {step}: {language:?} {text:?}");
        }
    }
}

/// DOT's quoted strings are closed, and nothing from annotation text sits outside them (in
/// DOT, markup only means something in `<...>` labels, which the renderer never writes).
fn check_dot_strings(dot: &str) {
    let mut in_string = false;
    let mut escaped = false;
    let mut outside = String::new();
    for c in dot.chars() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => in_string = !in_string,
            (false, _, c) => outside.push(c),
            _ => {}
        }
    }
    assert!(!in_string, "an unclosed string in DOT:\n{dot}");
    assert!(!outside.contains('<') && !outside.contains("evil"), "annotation text outside strings:\n{dot}");
}

/// Every string and key of a machine-readable output: no character that is not
/// `text::is_inert`, except tab, line feed and the CR of a CR-LF.
pub fn check_machine_strings(v: &serde_json::Value) {
    let check = |s: &str| {
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            let line_structure = c == '\t' || c == '\n' || (c == '\r' && chars.peek() == Some(&'\n'));
            assert!(line_structure || threat_analyzer::text::is_inert(c), "{c:?} in {s:?}");
        }
    };
    match v {
        serde_json::Value::String(s) => check(s),
        serde_json::Value::Array(items) => items.iter().for_each(check_machine_strings),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                check(k);
                check_machine_strings(v);
            }
        }
        _ => {}
    }
}

/// A SARIF message string: every `[` and `]` escaped, so none can open an embedded link.
fn check_sarif_message(text: &serde_json::Value) {
    let text = text.as_str().expect("a message string");
    let mut backslashes: u32 = 0;
    for c in text.chars() {
        if matches!(c, '[' | ']') {
            assert!(!backslashes.is_multiple_of(2), "an unescaped {c:?} in the SARIF message {text:?}");
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
    }
}

/// Text no markup output may contain raw: annotation text holding it must be escaped.
pub const RAW_MARKUP: &str = "<evil";

/// Renders the project of a `.gal` file and a Python file with every format, and checks each.
pub fn check_renderers(gal: &str, python: &str) {
    let index = two_file_project(gal, python);
    let analysis = Analysis::new(&index);
    let diagnostics = analysis.diagnostics(&index);
    let summary = analysis.summary(&index, &diagnostics, 2);
    let json_outputs = [
        render::json::render(&index, &diagnostics, &summary),
        render::sarif::render(&index, &diagnostics, &summary, std::path::Path::new("/project")),
    ];
    for out in &json_outputs {
        let v = serde_json::from_str::<serde_json::Value>(out)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
        check_machine_strings(&v);
    }
    let sarif: serde_json::Value = serde_json::from_str(&json_outputs[1]).expect("checked above");
    for result in sarif["runs"][0]["results"].as_array().expect("SARIF results") {
        check_sarif_message(&result["message"]["text"]);
        for related in result["relatedLocations"].as_array().into_iter().flatten() {
            check_sarif_message(&related["message"]["text"]);
        }
    }
    let model = render::export::Model::new(&index, &analysis);
    let options = render::export::ExportOptions { title: "project <evil> \"x\"".into() };
    let mut exports = vec![
        render::export::threat_dragon::render(&model, &options),
        render::export::threat_composer::render(&model, &options),
        render::export::json::render(&model),
    ];
    exports.extend(render::export::threatspec::render(&model).into_iter().map(|(_, v)| v));
    for export in exports {
        let text = render::export::to_pretty(export);
        check_machine_strings(&serde_json::from_str(&text).expect("exports are JSON"));
    }
    // The STRIDE worksheets read back as YAML; the CSV register quotes every field, ends every
    // record with CR LF, and starts no field with a formula character.
    let policy = threat_analyzer::model::risk::RiskPolicy::default();
    let worksheets = render::export::stride_worksheet::render(&model, &policy);
    yaml_rust2::YamlLoader::load_from_str(&worksheets)
        .unwrap_or_else(|e| panic!("worksheets are not YAML ({e}):\n{worksheets}"));
    assert!(
        worksheets.chars().all(|c| c == '\n' || threat_analyzer::text::is_inert(c)),
        "a control character in the worksheets: {worksheets:?}"
    );
    let csv = render::report_csv::write(&render::report::risk_register(&index, &analysis, &policy));
    assert!(csv.ends_with("\r\n"), "{csv:?}");
    for record in csv.trim_end_matches("\r\n").split("\r\n") {
        assert!(!record.contains(['\r', '\n']), "a line break inside a record: {record:?}");
        // RFC 4180 fields, every one quoted: `"` ... `"` with `""` inside, separated by `,`.
        let mut rest = record;
        loop {
            let body = rest.strip_prefix('"').unwrap_or_else(|| panic!("an unquoted field: {record:?}"));
            let mut value = String::new();
            let mut chars = body.char_indices().peekable();
            let end = loop {
                match chars.next() {
                    Some((i, '"')) if chars.peek().map(|&(_, c)| c) != Some('"') => break i,
                    Some((_, '"')) => {
                        chars.next();
                        value.push('"');
                    }
                    Some((_, c)) => value.push(c),
                    None => panic!("an unterminated field: {record:?}"),
                }
            };
            assert!(!value.starts_with(['=', '+', '-', '@', '\t']), "formula-like CSV field {value:?}");
            rest = &body[end + 1..];
            if rest.is_empty() {
                break;
            }
            rest = rest.strip_prefix(',').unwrap_or_else(|| panic!("text after a field: {record:?}"));
        }
    }
    let human = render::human::render(&index, &diagnostics, &summary, false, render::human::DEFAULT_COLUMNS);
    // Source snippets keep their tabs, so the caret line lines up under them.
    assert!(
        human.chars().all(|c| c == '\n' || c == '\t' || threat_analyzer::text::is_inert(c)),
        "a control character in the terminal output: {human:?}"
    );
    let report_options = render::report::ReportOptions { link_prefix: "../".into() };
    let report = render::report::build(&index, &analysis, &diagnostics, &summary, "<evil project>");
    html_support::assert_page_is_inert(&render::report_html::write(&report, &report_options));
    let markdown = render::report_md::write(&report, &report_options);
    assert!(!markdown.contains(RAW_MARKUP), "raw markup in the Markdown report:\n{markdown}");
    let scopes = [
        dfd::Scope::Project,
        dfd::Scope::File(FileId::relative("src/app.py")),
        dfd::Scope::Component("Shop".into()),
    ];
    for scope in &scopes {
        let diagram = dfd::build(&index, &analysis, scope);
        if diagram.too_large().is_some() {
            continue;
        }
        let svg = render::svg::render(&diagram);
        roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("SVG not well-formed ({e}):\n{svg}"));
        let body = svg.split_once("?>").map_or(svg.as_str(), |(_, body)| body);
        let _ = html_support::tokenize(body);
        assert!(!svg.contains(RAW_MARKUP), "raw markup in the SVG:\n{svg}");
        html_support::assert_page_is_inert(&render::report_html::dfd_page(
            &diagram,
            "<evil>",
            "<evil scope>",
        ));
        let mermaid = render::mermaid::render(&diagram);
        assert!(!mermaid.contains(RAW_MARKUP), "raw markup in Mermaid:\n{mermaid}");
        check_dot_strings(&render::dot::render(&diagram));
        check_mcp_answer(&render::mcp::dfd(&diagram));
    }
    check_mcp_answers(&index, &analysis, &diagnostics, gal);
}

/// Every MCP answer (`render::mcp`) about the project: see [`check_mcp_answer`].
fn check_mcp_answers(index: &ProjectIndex, analysis: &Analysis, diagnostics: &[Diagnostic], gal: &str) {
    use analysis::query;
    let scanned: Vec<(FileId, Language)> = index.files().map(|f| (f.path.clone(), f.language)).collect();
    let status = analysis.status(index, &scanned);
    let notes = vec![gal.chars().take(40).collect::<String>()];
    let mut answers = vec![render::mcp::summary(&status, diagnostics, &notes)];
    let asked = [
        "unmitigated",
        "threats for Shop",
        "flows into Shop",
        "crossing #edge",
        "owner of App",
        "handles pii",
    ];
    let first_line = gal.lines().next().unwrap_or_default();
    for text in asked.into_iter().chain([first_line]) {
        answers.push(match query::parse(text) {
            Ok(q) => render::mcp::query(index, text, Ok(&analysis.query(index, &q))),
            Err(e) => render::mcp::query(index, text, Err(&e)),
        });
    }
    for name in ["Shop", "#sqli", first_line] {
        answers.push(render::mcp::entity(index, name, analysis.entity(index, name).as_ref()));
    }
    let sorted = render::sorted(diagnostics);
    answers.push(render::mcp::check(index, &sorted));
    for facts in index.files() {
        let context = analysis.file_context(index, facts);
        answers.push(render::mcp::file_context(
            index,
            facts.path.as_str(),
            render::mcp::FileState::Annotated(&context),
        ));
        let validation = analysis.validation(index, facts, 0..facts.text.len());
        answers.push(render::mcp::validation(index, facts.path.as_str(), &validation));
    }
    answers.extend(render::mcp::PHASES.iter().map(|phase| render::mcp::phase(&status, phase)));
    let empty = ProjectIndex::new();
    let (empty_analysis, no_diagnostics) = (Analysis::new(&empty), Vec::new());
    let side = |index, analysis, diagnostics| render::diff::Input { index, analysis, diagnostics, root: "" };
    let diff = render::diff::compare(
        side(&empty, &empty_analysis, &no_diagnostics),
        side(index, analysis, diagnostics),
    );
    let sides = render::diff::Sides::default();
    answers.push(render::mcp::diff(&diff, &sides, std::path::Path::new("/project")));
    for answer in &answers {
        check_mcp_answer(answer);
    }
}

/// One MCP answer: an object with its provenance; no string (key or value) that an agent
/// could be misled by (`text::for_agent` leaves every one as it is); repository text cut
/// (`MAX_TEXT_CHARS`, except a diagram), lists bounded (`MAX_ITEMS`); and outside the objects
/// marked `"source": "repository"` only printable ASCII (threat-analyzer's own words: a
/// repository's text, which the fuzzer fills with other characters, would show).
fn check_mcp_answer(answer: &serde_json::Value) {
    use serde_json::Value;
    assert!(answer["provenance"].is_string(), "no provenance: {answer}");
    fn walk(v: &Value, inside_data: bool) {
        let clean = |s: &str| {
            // Compared by content: `for_machine` returns a copy of a CR-LF text unchanged.
            assert!(threat_analyzer::text::for_agent(s) == s, "a string an agent should not see: {s:?}");
            if !inside_data {
                assert!(
                    s.chars().all(|c| c == '\n' || (' '..='~').contains(&c)),
                    "repository text outside a data field: {s:?}"
                );
            }
        };
        match v {
            Value::String(s) => clean(s),
            Value::Array(items) => items.iter().for_each(|i| walk(i, inside_data)),
            Value::Object(map) => {
                let data = map.get("source") == Some(&Value::from("repository"));
                if let (true, Some(Value::String(text))) = (data, map.get("text")) {
                    let diagram = text.starts_with("flowchart");
                    assert!(
                        diagram || text.chars().count() <= render::mcp::MAX_TEXT_CHARS,
                        "uncut: {text:?}"
                    );
                }
                if let Some(Value::Array(items)) = map.get("items") {
                    assert!(items.len() <= render::mcp::MAX_ITEMS);
                }
                for (k, v) in map {
                    clean(k);
                    walk(v, inside_data || data);
                }
            }
            _ => {}
        }
    }
    walk(answer, false);
}

/// A fresh, empty directory for one [`check_readers`] run (removed by the caller).
fn scratch_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ta-readers-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `content` as the file a reader reads (`kind` picks which), `limit` for the raw reader,
/// `probes` as names matched against ignore rules.
pub fn check_readers(kind: u8, content: &[u8], limit: u64, probes: &[String]) {
    use threat_analyzer::read::{Links, Refusal, read_bounded};
    let dir = scratch_dir();
    match kind % 4 {
        0 => {
            let file = dir.join("file");
            std::fs::write(&file, content).unwrap();
            let expected = if content.len() as u64 <= limit {
                Ok(content.to_vec())
            } else {
                Err(Refusal::TooLarge { size: content.len() as u64, limit })
            };
            assert_eq!(read_bounded(&file, limit, Links::Refuse), expected);
            let link = dir.join("link");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert_eq!(read_bounded(&link, limit, Links::Follow), expected);
            assert_eq!(read_bounded(&link, limit, Links::Refuse), Err(Refusal::Symlink));
            // The walk's reader, into a buffer that earlier inputs left their bytes in.
            thread_local! {
                static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
            }
            SCRATCH.with_borrow_mut(|scratch| {
                let found = threat_analyzer::read::read_found(&file, limit, Links::Refuse, scratch);
                assert_eq!(found.map(|len| scratch[..len].to_vec()), expected);
            });
        }
        1 => check_ignore_rules(&dir, content, probes),
        2 => {
            let config = dir.join("threatspec.yaml");
            std::fs::write(&config, content).unwrap();
            let read = threat_analyzer::walk::read_threatspec_config(&config);
            if content.len() as u64 > threat_analyzer::limits::MAX_CONFIG_FILE_SIZE {
                assert!(read.is_err(), "a config over the limit was read");
            }
        }
        _ => {
            let root = dir.join("project");
            std::fs::create_dir(&root).unwrap();
            let file = threat_analyzer::cache::file_for(&dir, &root);
            std::fs::write(&file, content).unwrap();
            // Any outcome but a panic; bytes written by no build of this tool are never trusted.
            assert!(threat_analyzer::cache::load(&dir, &root).is_err(), "arbitrary bytes taken for a cache");
            // The same bytes as one file's stored facts (behind the checksum in a cache file, so
            // reached here directly): decoded or refused, never a panic; and what decodes is
            // restored (the derived facts made again, a sidecar's anchors too) without one.
            if let Some(stored) = threat_analyzer::cache::decode_facts(content)
                && stored.text_len <= 1 << 16
            {
                let text: Arc<str> = " ".repeat(stored.text_len as usize).into();
                for (path, language) in [("a.py", Language::Python), (".guardlink/a.gal", Language::Gal)] {
                    let stored = threat_analyzer::cache::decode_facts(content).expect("decoded once");
                    let restored = FileFacts::from_stored(
                        FileId::relative(path),
                        language,
                        FileText::whole(text.clone()),
                        stored,
                    )
                    .expect("the text has the stored length");
                    assert_eq!(restored.refs.len(), restored.annotations().len());
                }
            }
            // As `check`'s result file, raw and behind a valid header: refused or decoded, and
            // what decodes encodes to bytes that decode to the same.
            use threat_analyzer::cli::result_cache;
            for bytes in [content.to_vec(), result_cache::frame(content)] {
                if let Some(stored) = result_cache::decode(&bytes) {
                    assert_eq!(result_cache::decode(&result_cache::encode(&stored)), Some(stored));
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Our ignore rules (read through the bounded reader) against the `ignore` crate's loader, on
/// one `.gitignore` of `content` in `dir` and the names in `probes` as files and directories.
fn check_ignore_rules(dir: &std::path::Path, content: &[u8], probes: &[String]) {
    std::fs::write(dir.join(".gitignore"), content).unwrap();
    let ours = threat_analyzer::ignore_files::IgnoreRules::new();
    let mut builder = ignore::WalkBuilder::new(dir);
    builder.hidden(false).require_git(false);
    let mut theirs = builder.build_matchers().remove(0);
    // The crate stops at the first line that is not UTF-8; ours reads such a line lossily.
    let comparable = std::str::from_utf8(content).is_ok();
    for name in probes {
        let name: String = name.chars().filter(|c| *c != '/' && *c != '\0').collect();
        if name.is_empty() || name == "." || name == ".." {
            continue;
        }
        for is_dir in [false, true] {
            let ignored = ours.is_ignored(&dir.join(&name), is_dir);
            if comparable {
                let expected = theirs.matched(&name, is_dir).is_ignore();
                assert_eq!(ignored, expected, "{name:?} (directory: {is_dir}) with .gitignore {content:?}");
            }
        }
    }
}

/// See the module docs. `max_dummies` is the layout's budget (`layout::layout_within`).
pub fn check_layout(diagram: &dfd::Dfd, max_dummies: usize) {
    use threat_analyzer::render::layout::{self, Rect};
    let placed = layout::layout_within(diagram, max_dummies);
    assert_eq!(placed.violations(diagram), Vec::<String>::new());
    assert_eq!(placed, layout::layout_within(&diagram.clone(), max_dummies), "not deterministic");
    let work = placed.work;
    // Routes crossing a single column are always drawn through it, whatever the budget.
    assert!(work.dummies <= max_dummies || work.longest_kept <= 1, "{work:?} over {max_dummies}");
    assert_eq!(work.routed_below > 0, placed.legend.note.is_some(), "{work:?}: the legend note");
    let ids: std::collections::BTreeSet<&str> = diagram.nodes.iter().map(|n| n.id.as_str()).collect();
    // One route per direction: `a -> b`, `b -> a` and `a <-> b` are drawn apart.
    let ways: std::collections::BTreeSet<(&str, &str, bool)> = diagram
        .edges
        .iter()
        .filter(|e| ids.contains(e.from.as_str()) && ids.contains(e.to.as_str()))
        .map(|e| match e.two_way {
            true => (e.from.as_str().min(&e.to), e.from.as_str().max(&e.to), true),
            false => (e.from.as_str(), e.to.as_str(), false),
        })
        .collect();
    assert_eq!(placed.routes.len(), ways.len(), "one route per direction between two nodes");
    let on = |r: Rect, p: layout::Point| (p.x - r.x).abs() < 1e-6 || (p.x - r.right()).abs() < 1e-6;
    for route in &placed.routes {
        let (a, b) = (placed.nodes[route.from].rect, placed.nodes[route.to].rect);
        let (first, last) = (route.points[0], *route.points.last().unwrap());
        assert!(on(a, first) && on(b, last), "a route off its nodes: {route:?}");
    }
}

/// A revision spec as `GitRepository::resolve` reads it (`vcs::fuzz::revision_steps`): the
/// name is the spec up to its first `~` or `^` (`@` read as `HEAD`); the steps it accepts
/// spell a spec that reads back as the same steps, so every step consumed text and the reading
/// is unambiguous.
pub fn check_revision_spec(spec: &str) {
    let (name, steps) = threat_analyzer::vcs::fuzz::revision_steps(spec);
    let written = spec.split(['~', '^']).next().unwrap_or_default();
    assert!(name == written || (written == "@" && name == "HEAD"), "{spec:?}: name {name:?}");
    let Some(steps) = steps else { return };
    assert!(steps.len() <= spec.len() - written.len(), "{spec:?}: {steps:?} from fewer bytes");
    let again = format!("{name}{}", steps.concat());
    assert_eq!(
        threat_analyzer::vcs::fuzz::revision_steps(&again).1.as_deref(),
        Some(steps.as_slice()),
        "{spec:?} read as {again:?}"
    );
}

/// A tree entry name a snapshot writes (`vcs::fuzz::unsafe_tree_name` is `None`) is one
/// ordinary path component: joined under a directory it stays directly in it, and it is not
/// `.git` as any file system reads it (case, trailing dots and spaces, the 8.3 name).
pub fn check_tree_name(name: &[u8]) {
    if threat_analyzer::vcs::fuzz::unsafe_tree_name(name).is_some() {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let component = std::path::Path::new(std::ffi::OsStr::from_bytes(name));
        let dir = std::path::Path::new("/snapshot");
        let joined = dir.join(component);
        assert_eq!(joined.parent(), Some(dir), "{name:?} leaves its directory");
        assert_eq!(joined.file_name().map(|n| n.as_bytes()), Some(name), "{name:?} is not one component");
    }
    let trimmed = name.iter().rposition(|&b| b != b'.' && b != b' ').map_or(&name[..0], |end| &name[..=end]);
    assert!(
        !trimmed.eq_ignore_ascii_case(b".git") && !name.eq_ignore_ascii_case(b"git~1"),
        "{name:?} is .git"
    );
    assert!(!name.contains(&0) && !name.contains(&b'\\'), "{name:?} holds NUL or a backslash");
}

/// Any bytes as a `--baseline FILE` (read as `check` reads it: UTF-8, then
/// `analysis::baseline::parse`) are refused or parsed, never a panic; what parses has
/// fingerprints, writes back (`render::baseline`) to a file that reads back the same (a fixed
/// point after one clean-up of repository text), and pairs with itself completely.
pub fn check_baseline_file(bytes: &[u8]) {
    use threat_analyzer::analysis::baseline;
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let Ok(entries) = baseline::parse(text) else { return };
    assert!(entries.iter().all(|e| !e.fingerprint.is_empty()), "an empty fingerprint was read");
    let written = render::baseline::render(&entries);
    check_machine_strings(&serde_json::from_str(&written).expect("a written baseline is JSON"));
    let read_back = baseline::parse(&written).unwrap_or_else(|e| panic!("{e}: {written}"));
    assert_eq!(read_back.len(), entries.len());
    assert_eq!(baseline::parse(&render::baseline::render(&read_back)).as_ref(), Ok(&read_back));
    let itself = baseline::compare(&entries, &entries);
    assert_eq!((itself.new_count(), itself.fixed.len()), (0, 0), "a baseline does not excuse itself");
    let against_nothing = baseline::compare(&entries, &[]);
    assert_eq!(
        (against_nothing.new_count(), baseline::compare(&[], &entries).fixed.len()),
        (entries.len(), entries.len())
    );
}

/// A project of a `.gal` file and a Python file (the files that hold annotations).
fn two_file_project(gal: &str, python: &str) -> ProjectIndex {
    let mut index = ProjectIndex::new();
    for (path, language, text) in [("defs.gal", Language::Gal, gal), ("src/app.py", Language::Python, python)]
    {
        let facts = FileFacts::new(FileId::relative(path), language, text.into());
        if !facts.is_empty() {
            index.set_file(Arc::new(facts));
        }
    }
    index
}

/// The model diff of two projects (`render::diff::compare`) and every layout of it: no panic;
/// the JSON and SARIF parse, hold no control or bidi character and SARIF messages no
/// unescaped `[`/`]`; the terminal text holds none either; the Markdown comment carries no
/// annotation text unescaped, stays within its budget and links only under the link base;
/// every SARIF result has a `baselineState`, and the head's results are all there.
pub fn check_diff(base: (&str, &str), head: (&str, &str)) {
    use render::diff::{Input, Revision, Sides};
    let (base_index, head_index) = (two_file_project(base.0, base.1), two_file_project(head.0, head.1));
    let (base_analysis, head_analysis) = (Analysis::new(&base_index), Analysis::new(&head_index));
    let base_diagnostics = base_analysis.diagnostics(&base_index);
    let head_diagnostics = head_analysis.diagnostics(&head_index);
    let diff = render::diff::compare(
        Input { index: &base_index, analysis: &base_analysis, diagnostics: &base_diagnostics, root: "" },
        Input { index: &head_index, analysis: &head_analysis, diagnostics: &head_diagnostics, root: "" },
    );
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let sides = Sides {
        base: Revision {
            label: "main".into(),
            commit: Some(commit.into()),
            summary: Some("<evil> \u{1b}[31m".into()),
        },
        head: Revision { label: "working tree".into(), ..Revision::default() },
    };
    let root = std::path::Path::new("/repo");
    let json: serde_json::Value =
        serde_json::from_str(&render::diff::json(&diff, &sides, root)).expect("the diff JSON parses");
    check_machine_strings(&json);
    assert_eq!(json["changes"].as_array().map(Vec::len), Some(diff.changes.len()));
    let sarif_text =
        render::diff::sarif((&base_index, &base_diagnostics), (&head_index, &head_diagnostics), root, &sides);
    let sarif: serde_json::Value = serde_json::from_str(&sarif_text).expect("the diff SARIF parses");
    check_machine_strings(&sarif);
    let results = sarif["runs"][0]["results"].as_array().expect("SARIF results");
    for result in results {
        check_sarif_message(&result["message"]["text"]);
        let state = result["baselineState"].as_str().unwrap_or_default();
        assert!(["new", "unchanged", "updated", "absent"].contains(&state), "baselineState {state:?}");
    }
    let head_results = results.iter().filter(|r| r["baselineState"] != "absent").count();
    assert_eq!(head_results, head_diagnostics.len(), "every head finding is a result");
    let human = render::diff::human(&diff, &sides, false);
    assert!(
        human.chars().all(|c| c == '\n' || threat_analyzer::text::is_inert(c)),
        "a control character in the diff's terminal text: {human:?}"
    );
    let link_base = format!("https://github.com/o/r/blob/{commit}/");
    let markdown = render::diff::markdown(&diff, &sides, Some(&link_base));
    assert!(!markdown.contains(RAW_MARKUP), "raw markup in the diff comment:\n{markdown}");
    assert!(markdown.chars().count() <= render::diff::MARKDOWN_BUDGET, "the diff comment is over budget");
    for (at, _) in markdown.match_indices("](") {
        assert!(markdown[at + 2..].starts_with(&link_base), "a link outside the link base:\n{markdown}");
    }
}

/// A reader that hands `data` over in reads of the sizes in `sizes` (cycled; 0 counts as 1),
/// as a pipe may split what a client wrote.
struct SplitReads<'a> {
    data: &'a [u8],
    sizes: &'a [usize],
    reads: usize,
}

impl tokio::io::AsyncRead for SplitReads<'_> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        out: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let size = self.sizes.get(self.reads % self.sizes.len().max(1)).copied().unwrap_or(usize::MAX);
        let n = size.max(1).min(out.remaining()).min(self.data.len());
        out.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.reads += 1;
        std::task::Poll::Ready(Ok(()))
    }
}

/// What the language server's checked input (`lsp::input::CheckedInput`) passes on from
/// `data` read in reads of `sizes` (empty: all at once). The reader is never pending, so a
/// no-op waker drives it without a runtime.
fn checked_input(data: &[u8], sizes: &[usize]) -> Vec<u8> {
    use std::future::Future;
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    let mut input = threat_analyzer::lsp::input::CheckedInput::new(SplitReads { data, sizes, reads: 0 });
    let mut reading = std::pin::pin!(input.read_to_end(&mut out));
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match reading.as_mut().poll(&mut context) {
        std::task::Poll::Ready(result) => result.expect("reading from memory never fails"),
        std::task::Poll::Pending => panic!("the checked input waited on a reader that never waits"),
    };
    out
}

/// The bodies of the frames in `out`, each framed exactly as `Content-Length: N\r\n\r\n`.
fn frame_bodies(mut out: &[u8]) -> Vec<&[u8]> {
    let mut bodies = Vec::new();
    while !out.is_empty() {
        let text = std::str::from_utf8(&out[..out.len().min(40)]).unwrap_or_default();
        let header_end = memchr::memmem::find(out, b"\r\n\r\n").expect("a frame has a header block");
        let header = std::str::from_utf8(&out[..header_end]).expect("a header block is ASCII");
        let length: usize = header
            .strip_prefix("Content-Length: ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a frame starts with its length only: {text:?}"));
        let body_start = header_end + 4;
        assert!(out.len() >= body_start + length, "a frame is whole");
        bodies.push(&out[body_start..body_start + length]);
        out = &out[body_start + length..];
    }
    bodies
}

/// A JSON-RPC message of one of three kinds (`kind % 3`): a request, a notification, a
/// response; what the protocol property frames as well-formed input.
pub fn protocol_message(kind: u8, id: i32, method: &str, text: &str) -> serde_json::Value {
    match kind % 3 {
        0 => serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {"text": text}}),
        1 => serde_json::json!({"jsonrpc": "2.0", "method": method, "params": [text]}),
        _ => serde_json::json!({"jsonrpc": "2.0", "id": id, "result": text}),
    }
}

/// The language server's input, whatever a client sends: `raw` (any bytes) and `garbage`
/// (any bytes without a `:`, so that no header can start in it) in front of well-formed
/// `frames` (bodies, some with a `Content-Type` header too), however the reads split them.
/// - What passes is the same in one read and in reads of `sizes`, and is only whole frames
///   framed by their length alone, each a JSON-RPC request or response tower-lsp-server reads
///   (or a replacement threat-analyzer answers).
/// - Garbage never costs a good frame: after `garbage`, every frame of `frames` passes,
///   unchanged and in order.
pub fn check_protocol_input(
    raw: &[u8],
    garbage: &[u8],
    frames: &[(serde_json::Value, bool)],
    sizes: &[usize],
) {
    use tower_lsp_server::jsonrpc::{Request, Response};
    let whole = checked_input(raw, &[]);
    assert_eq!(checked_input(raw, sizes), whole, "the reads' split changed what passed ({sizes:?})");
    for body in frame_bodies(&whole) {
        assert!(
            serde_json::from_slice::<Request>(body).is_ok()
                || serde_json::from_slice::<Response>(body).is_ok(),
            "passed a body tower-lsp-server cannot read: {:?}",
            String::from_utf8_lossy(body)
        );
    }

    let garbage: Vec<u8> = garbage.iter().copied().filter(|b| *b != b':').collect();
    let bodies: Vec<Vec<u8>> =
        frames.iter().map(|(message, _)| serde_json::to_vec(message).unwrap()).collect();
    let mut input = garbage;
    for ((_, typed), body) in frames.iter().zip(&bodies) {
        input.extend(format!("Content-Length: {}\r\n", body.len()).bytes());
        if *typed {
            input.extend(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n");
        }
        input.extend(b"\r\n");
        input.extend(body);
    }
    for split in [&[][..], sizes] {
        let out = checked_input(&input, split);
        let passed = frame_bodies(&out);
        assert_eq!(passed.len(), bodies.len(), "a good frame was lost after garbage (reads of {split:?})");
        for (got, want) in passed.iter().zip(&bodies) {
            assert_eq!(got, want, "a good frame changed (reads of {split:?})");
        }
    }
}
