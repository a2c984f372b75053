//! `diff` output: a [`ModelDiff`] as terminal text, as a pull-request comment in Markdown, as
//! JSON, and the two sides' findings as SARIF with `baselineState`.
//!
//! Owns: [`compare`] (the model diff with the data-flow diagram's trust boundaries, what the
//! command and the language server run), the four layouts, the JSON keys (below and README,
//! "Pull requests"), the verdict sentence, the Markdown size budget, and how SARIF results of
//! the two sides are paired.
//! Must never: classify or rank changes (that is [`crate::analysis::diff`]), or trust a name:
//! names ([`Part::Name`]) reach a terminal through [`text::for_terminal`], Markdown through
//! [`super::report_md::escape`] inside `<code>`, JSON and SARIF through
//! [`super::clean_machine_strings`]; link targets hold only the `--link-base` the user gave and
//! percent-encoded paths.
//!
//! # Human
//!
//! A header naming the two sides, then the changes grouped by impact (risk increases, to
//! review, risk decreases, other changes), each group most severe first, one line each
//! (`path:line: [severity] class: message`, `(base)` after a place that exists only on the
//! base), related places indented below, and the verdict line.
//!
//! # Markdown (a pull-request comment)
//!
//! A heading with the one-line verdict, the two sides, a table of the risk increases and the
//! changes to review (most severe first; each place a link when a link base is given), and the
//! other changes in a collapsed `<details>` list. The whole comment stays under
//! [`MARKDOWN_BUDGET`] characters (GitHub refuses comments over 65,536): rows that do not fit
//! are counted in a closing line instead, and names are cut to [`MAX_NAME_CHARS`].
//! With a link base `https://github.com/OWNER/REPO/blob/SHA/`, head places link to
//! `<base><path>#L<line>`; base places link there too with the 40-hex segment of the link base
//! replaced by the base commit, when both are known, and are plain text otherwise.
//!
//! # JSON
//!
//! `{"provenance", "root"?, "base": SIDE, "head": SIDE, "verdict", "summary", "changes":
//! [CHANGE]}`:
//! - `root`: the repository's working-tree root, absolute (left out when the path is not
//!   UTF-8); every `file` is relative to it, so an editor opens `root/file` without looking for
//!   `.git` itself.
//! - `SIDE`: `{"label", "commit"?, "summary"?}` (the revision as given, its full commit id and
//!   the first line of its message; the working tree has no commit).
//! - `verdict`: `risk-increase` (some change is one), `review` (none, but some change is to
//!   review), `no-risk-increase` (changes, none of either kind), `no-change`.
//! - `summary`: [`DiffSummary`]'s fields (`changes`, `risk_increases`, `reviews`,
//!   `risk_decreases`, `neutral`, `by_class`, `open_exposures_base`, `open_exposures_head`).
//! - `CHANGE`: `class` ([`Class::as_str`]), `impact` (`risk-increase`, `review`,
//!   `risk-decrease`, `neutral`), `rank` (higher is more severe; the array is sorted by it),
//!   `message` (threat-analyzer's sentence, names in backticks), and when known: `side`
//!   (`base`/`head`), `file`, `line`, `column`, `end_line`, `end_column` (1-based, character
//!   columns, exclusive end), `severity` and `severity_word` (effective severity and the word
//!   written), `previous_severity` and `previous_severity_word`, `resolution` (`mitigated`,
//!   `accepted`, `transferred`, `removed`), `asset`, `threat`, `control`, `from`, `to`,
//!   `crosses` (`{"from", "to"}`: the trust boundaries of a flow's ends, `null` outside any),
//!   `entity_kind`, `name`, `previous_name`, `code`, `level`, `note` (the annotation's own
//!   description) and `related` (`[{side, file, line, column, end_line, end_column, message}]`).
//!
//! # SARIF
//!
//! `check`'s SARIF log ([`super::sarif`]: its rules, fingerprints and escaping) of the head's
//! diagnostics plus the base's that are gone, each result with `baselineState`, paired by
//! [`crate::analysis::pairing`]'s rule (the one baselines use) with rule and message as the
//! fallback key: a head result paired with a base result of the same fingerprint in the same
//! file is `unchanged` (or `updated` when its message or level differ); one paired with a base
//! result in another file (same fingerprint: a renamed file), or by rule and message only (an
//! edited or moved annotation), is `updated`; any other head result is `new`, and a base result
//! paired with none is `absent` (at its base location).

use super::dfd::TrustZones;
use super::human::{Painter, plural};
use super::report_md::{encode_path, escape};
use super::sarif;
use crate::analysis::Analysis;
use crate::analysis::diff::{
    Change, Class, DiffSummary, Impact, Message, ModelDiff, Part, Place, Side, Which,
};
use crate::analysis::pairing::{Finding, How, Pairs};
use crate::diagnostic::Diagnostic;
use crate::model::EntityKey;
use crate::model::ProjectIndex;
use crate::syntax::Severity;
use crate::text;
use anstyle::{AnsiColor, Style};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// The Markdown comment's size limit, in characters: under GitHub's 65,536 with room for a
/// header a workflow adds.
pub const MARKDOWN_BUDGET: usize = 60_000;

/// Names longer than this are cut (with `…`) in the Markdown comment.
pub const MAX_NAME_CHARS: usize = 120;

/// One analysed side for [`compare`].
pub struct Input<'a> {
    pub index: &'a ProjectIndex,
    pub analysis: &'a Analysis,
    pub diagnostics: &'a [Diagnostic],
    /// Stripped from file ids (see [`Side::root`]).
    pub root: &'a str,
}

/// A side that owns its project: the index, its analysis and that analysis' diagnostics (a
/// revision read from git, the working tree's walk).
pub struct Analysed {
    pub index: ProjectIndex,
    pub analysis: Analysis,
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysed {
    /// `index` with `analysis` (made from it) and its diagnostics.
    pub fn new(index: ProjectIndex, analysis: Analysis) -> Analysed {
        let diagnostics = analysis.diagnostics(&index);
        Analysed { index, analysis, diagnostics }
    }

    /// The side for [`compare`], its file ids already relative to the project root.
    pub fn input(&self) -> Input<'_> {
        Input { index: &self.index, analysis: &self.analysis, diagnostics: &self.diagnostics, root: "" }
    }
}

/// The model diff of two analysed sides, flows judged by the data-flow diagram's trust
/// boundaries ([`TrustZones`]): what the command and the language server both run.
pub fn compare(base: Input, head: Input) -> ModelDiff {
    let (base_zones, head_zones) =
        (TrustZones::new(base.index, base.analysis), TrustZones::new(head.index, head.analysis));
    let (base_zone, head_zone) = (|e: &EntityKey| base_zones.of(e), |e: &EntityKey| head_zones.of(e));
    let base_side = Side {
        index: base.index,
        analysis: base.analysis,
        diagnostics: base.diagnostics,
        root: base.root,
        zone: &base_zone,
    };
    let head_side = Side {
        index: head.index,
        analysis: head.analysis,
        diagnostics: head.diagnostics,
        root: head.root,
        zone: &head_zone,
    };
    ModelDiff::between(&base_side, &head_side)
}

/// One side of the comparison as the outputs name it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Revision {
    /// The revision as given (`main`, `HEAD~1`), or `working tree`.
    pub label: String,
    /// The full commit id, when the side is a commit.
    pub commit: Option<String>,
    /// The first line of the commit's message.
    pub summary: Option<String>,
}

impl Revision {
    /// `main (3f2c1a0)`, or the label alone.
    fn shown(&self) -> String {
        match &self.commit {
            Some(c) => format!("{} ({})", self.label, &c[..c.len().min(7)]),
            None => self.label.clone(),
        }
    }
}

/// The two sides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sides {
    pub base: Revision,
    pub head: Revision,
}

/// The diff's verdict, as the JSON's `verdict` and the first line of every output say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    RiskIncrease,
    Review,
    NoRiskIncrease,
    NoChange,
}

impl Verdict {
    pub fn of(diff: &ModelDiff) -> Verdict {
        let s = &diff.summary;
        if s.risk_increases > 0 {
            Verdict::RiskIncrease
        } else if s.reviews > 0 {
            Verdict::Review
        } else if s.changes > 0 {
            Verdict::NoRiskIncrease
        } else {
            Verdict::NoChange
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::RiskIncrease => "risk-increase",
            Verdict::Review => "review",
            Verdict::NoRiskIncrease => "no-risk-increase",
            Verdict::NoChange => "no-change",
        }
    }
}

/// The classes the verdict names when the risk increased, in this order, with their words.
const VERDICT_CLASSES: [(Class, &str, &str); 5] = [
    (Class::NewConfirmedFinding, "new confirmed finding", "new confirmed findings"),
    (Class::NewUnmitigatedExposure, "new unmitigated exposure", "new unmitigated exposures"),
    (Class::DefenceRemoved, "defence removed", "defences removed"),
    (Class::SeverityRaised, "severity raised", "severities raised"),
    (Class::FlowAdded, "new flow crossing a trust boundary", "new flows crossing a trust boundary"),
];

/// The verdict as one sentence (no repository text in it).
pub fn verdict_line(diff: &ModelDiff) -> String {
    let s = &diff.summary;
    match Verdict::of(diff) {
        Verdict::RiskIncrease => {
            let parts: Vec<String> = VERDICT_CLASSES
                .iter()
                .filter_map(|(class, one, many)| {
                    let n = diff.of_class(*class).filter(|c| c.is_risk_increase()).count();
                    (n > 0).then(|| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") })
                })
                .collect();
            let review = if s.reviews > 0 { format!("; {} to review", s.reviews) } else { String::new() };
            format!("Risk increased: {}{review}", parts.join(", "))
        }
        Verdict::Review => format!("No risk increase; {} to review", plural(s.reviews, "change")),
        Verdict::NoRiskIncrease => {
            let fewer = if s.risk_decreases > 0 {
                format!(", {} lowering risk", s.risk_decreases)
            } else {
                String::new()
            };
            format!("No risk increase: {}{fewer}", plural(s.changes, "change"))
        }
        Verdict::NoChange => "No change to the threat model".to_string(),
    }
}

fn class_words(class: Class) -> String {
    class.as_str().replace('-', " ")
}

fn severity_title(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
    }
}

/// The groups of the human output and the Markdown comment, in order.
const GROUPS: [(Impact, &str); 4] = [
    (Impact::RiskIncrease, "Risk increases"),
    (Impact::Review, "To review"),
    (Impact::RiskDecrease, "Risk decreases"),
    (Impact::Neutral, "Other changes"),
];

// ---- Human ------------------------------------------------------------------------------

fn impact_style(impact: Impact) -> Style {
    let color = match impact {
        Impact::RiskIncrease => AnsiColor::Red,
        Impact::Review => AnsiColor::Yellow,
        Impact::RiskDecrease => AnsiColor::Green,
        Impact::Neutral => AnsiColor::Cyan,
    };
    Style::new().bold().fg_color(Some(color.into()))
}

/// A message for a terminal: names in backticks, cleaned.
fn terminal_message(m: &Message) -> String {
    text::for_terminal(&m.plain()).into_owned()
}

fn terminal_place(p: &Place) -> String {
    let base = if p.side == Which::Base { " (base)" } else { "" };
    format!("{}:{}{base}", text::for_terminal(&p.file), p.line)
}

/// The diff as terminal text; `color` adds ANSI styles (the caller writes through
/// `anstream`, which strips them off a terminal or with `NO_COLOR`).
pub fn human(diff: &ModelDiff, sides: &Sides, color: bool) -> String {
    let p = Painter { color };
    let bold = Style::new().bold();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} -> {}",
        p.paint(bold, "Threat model changes:"),
        text::for_terminal(&sides.base.shown()),
        text::for_terminal(&sides.head.shown())
    );
    for (impact, title) in GROUPS {
        let changes: Vec<&Change> = diff.changes.iter().filter(|c| c.impact == impact).collect();
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", p.paint(impact_style(impact), &format!("{title} ({})", changes.len())));
        for c in changes {
            let at = c.place.as_ref().map_or(String::new(), |pl| format!("{}: ", terminal_place(pl)));
            let severity =
                c.severity.as_ref().map_or(String::new(), |s| format!("[{}] ", text::for_terminal(&s.word)));
            let _ = writeln!(
                out,
                "  {}{}{}: {}",
                p.paint(bold, &at),
                p.paint(impact_style(impact), &severity),
                class_words(c.class),
                terminal_message(&c.message)
            );
            if let Some(note) = &c.note {
                let _ = writeln!(out, "      reason: {}", text::for_terminal(note));
            }
            for r in &c.related {
                let _ = writeln!(out, "      {}: {}", terminal_place(&r.place), terminal_message(&r.message));
            }
        }
    }
    let _ = writeln!(out, "\n{}", p.paint(bold, &verdict_line(diff)));
    out
}

// ---- Markdown ---------------------------------------------------------------------------

/// A name for Markdown: cut to [`MAX_NAME_CHARS`], escaped, in `<code>`.
fn md_name(name: &str) -> String {
    let cut: String = if name.chars().count() > MAX_NAME_CHARS {
        name.chars().take(MAX_NAME_CHARS).chain(std::iter::once('…')).collect()
    } else {
        name.to_string()
    };
    format!("<code>{}</code>", escape(&cut))
}

fn md_message(m: &Message) -> String {
    let mut out = String::new();
    for part in &m.0 {
        match part {
            // threat-analyzer's own words (`->`), escaped with the spaces around them kept
            // (`escape` trims).
            Part::Text(t) => {
                if t.starts_with(' ') {
                    out.push(' ');
                }
                out.push_str(&escape(t));
                if t.ends_with(' ') && t.trim() != "" {
                    out.push(' ');
                }
            }
            Part::Name(n) => out.push_str(&md_name(n)),
        }
    }
    out
}

/// Where link targets point.
struct Links<'a> {
    head: Option<&'a str>,
    /// The link base with its commit replaced by the base's.
    base: Option<String>,
}

impl<'a> Links<'a> {
    fn new(link_base: Option<&'a str>, sides: &Sides) -> Links<'a> {
        let base = link_base.and_then(|url| {
            let commit = sides.base.commit.as_deref()?;
            let segment =
                url.split('/').find(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()))?;
            Some(url.replacen(segment, commit, 1))
        });
        Links { head: link_base, base }
    }

    fn place(&self, p: &Place) -> String {
        let shown = format!("{}:{}", escape(&p.file), p.line);
        let prefix = match p.side {
            Which::Head => self.head.map(str::to_string),
            Which::Base => self.base.clone(),
        };
        let base_mark = if p.side == Which::Base { " (base)" } else { "" };
        match prefix {
            Some(prefix) => format!("[{shown}]({prefix}{}#L{}){base_mark}", encode_path(&p.file), p.line),
            None => format!("{shown}{base_mark}"),
        }
    }
}

/// The Markdown pull-request comment. `link_base` (`https://github.com/OWNER/REPO/blob/SHA/`,
/// checked by the caller) turns places into links.
pub fn markdown(diff: &ModelDiff, sides: &Sides, link_base: Option<&str>) -> String {
    let links = Links::new(link_base, sides);
    let mut out = String::new();
    let mark = match Verdict::of(diff) {
        Verdict::RiskIncrease => "🔴",
        Verdict::Review => "🟡",
        Verdict::NoRiskIncrease | Verdict::NoChange => "🟢",
    };
    let _ = writeln!(out, "### {mark} Threat model: {}\n", escape(&verdict_line(diff)));
    let _ = writeln!(
        out,
        "Compared {} with {} by threat-analyzer {}.\n",
        escape(&sides.base.shown()),
        escape(&sides.head.shown()),
        env!("CARGO_PKG_VERSION")
    );
    // What is left for the closing lines once the table and list are written.
    const TAIL: usize = 400;
    let fits = |out: &str, more: &str| out.chars().count() + more.chars().count() + TAIL <= MARKDOWN_BUDGET;

    let notable: Vec<&Change> = diff.changes.iter().filter(|c| c.is_notable()).collect();
    let mut left_out = 0;
    if !notable.is_empty() {
        out.push_str("| Risk | Change | Severity | Where |\n|---|---|---|---|\n");
        for c in &notable {
            let risk = if c.is_risk_increase() { "**increase**" } else { "review" };
            let severity = c.severity.as_ref().map_or(String::new(), |s| {
                let title = severity_title(s.level);
                if s.word.eq_ignore_ascii_case(title) {
                    title.to_string()
                } else {
                    format!("{title} ({})", escape(&s.word))
                }
            });
            let mut what = format!("{}: {}", class_words(c.class), md_message(&c.message));
            if let Some(note) = &c.note {
                let _ = write!(what, "<br>reason: {}", md_name(note));
            }
            for r in &c.related {
                let _ = write!(what, "<br>{} {}", md_message(&r.message), links.place(&r.place));
            }
            let at = c.place.as_ref().map_or(String::new(), |p| links.place(p));
            let row = format!("| {risk} | {what} | {severity} | {at} |\n");
            if fits(&out, &row) {
                out.push_str(&row);
            } else {
                left_out += 1;
            }
        }
        out.push('\n');
    }

    let rest: Vec<&Change> = diff.changes.iter().filter(|c| !c.is_notable()).collect();
    if !rest.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} not increasing risk</summary>\n",
            plural(rest.len(), "other change")
        );
        for (impact, title) in &GROUPS[2..] {
            let group: Vec<&&Change> = rest.iter().filter(|c| c.impact == *impact).collect();
            if group.is_empty() {
                continue;
            }
            let heading = format!("**{title}**\n\n");
            if !fits(&out, &heading) {
                left_out += group.len();
                continue;
            }
            out.push_str(&heading);
            for c in group {
                let at = c.place.as_ref().map_or(String::new(), |p| format!(" ({})", links.place(p)));
                let item = format!("- {}: {}{at}\n", class_words(c.class), md_message(&c.message));
                if fits(&out, &item) {
                    out.push_str(&item);
                } else {
                    left_out += 1;
                }
            }
            out.push('\n');
        }
        out.push_str("</details>\n\n");
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "{} not shown to keep this comment under GitHub's size limit: run `threat-analyzer diff --format json` for all.\n",
            plural(left_out, "change")
        );
    }
    out
}

// ---- JSON -------------------------------------------------------------------------------

fn json_place(p: &Place) -> Value {
    json!({
        "side": p.side,
        "file": p.file,
        "line": p.line,
        "column": p.column,
        "end_line": p.end_line,
        "end_column": p.end_column,
    })
}

fn json_revision(r: &Revision) -> Value {
    let mut v = json!({ "label": r.label });
    if let Some(c) = &r.commit {
        v["commit"] = json!(c);
    }
    if let Some(s) = &r.summary {
        v["summary"] = json!(s);
    }
    v
}

fn json_change(c: &Change) -> Value {
    let mut v = json!({
        "class": c.class.as_str(),
        "impact": c.impact.as_str(),
        "rank": c.rank,
        "message": c.message.plain(),
    });
    let o = v.as_object_mut().expect("an object");
    if let Some(Value::Object(place)) = c.place.as_ref().map(json_place) {
        o.extend(place);
    }
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            o.insert(key.to_string(), value);
        }
    };
    put("severity", c.severity.as_ref().map(|s| json!(s.level.as_str())));
    put("severity_word", c.severity.as_ref().map(|s| json!(s.word)));
    put("previous_severity", c.previous_severity.as_ref().map(|s| json!(s.level.as_str())));
    put("previous_severity_word", c.previous_severity.as_ref().map(|s| json!(s.word)));
    put("resolution", c.resolution.map(|r| json!(r.as_str())));
    put("asset", c.asset.as_ref().map(|s| json!(s)));
    put("threat", c.threat.as_ref().map(|s| json!(s)));
    put("control", c.control.as_ref().map(|s| json!(s)));
    put("from", c.from.as_ref().map(|s| json!(s)));
    put("to", c.to.as_ref().map(|s| json!(s)));
    put("crosses", c.crosses.as_ref().map(|(from, to)| json!({ "from": from, "to": to })));
    put("entity_kind", c.entity_kind.map(|k| json!(k.as_str())));
    put("name", c.name.as_ref().map(|s| json!(s)));
    put("previous_name", c.previous_name.as_ref().map(|s| json!(s)));
    put("code", c.code.map(|k| json!(k.as_str())));
    put("level", c.level.map(|l| json!(l.as_str())));
    put("note", c.note.as_ref().map(|s| json!(s)));
    if !c.related.is_empty() {
        let related = c
            .related
            .iter()
            .map(|r| {
                let mut v = json_place(&r.place);
                v["message"] = json!(r.message.plain());
                v
            })
            .collect();
        put("related", Some(Value::Array(related)));
    }
    v
}

fn json_summary(s: &DiffSummary) -> Value {
    serde_json::to_value(s).unwrap_or_default()
}

/// The diff as one JSON document (schema in the module docs). `root` is the repository's
/// working-tree root, the directory the places' paths are relative to: written as `root` when
/// it is an absolute path in UTF-8.
pub fn json(diff: &ModelDiff, sides: &Sides, root: &Path) -> String {
    let mut doc = json!({
        "provenance": super::PROVENANCE,
        "base": json_revision(&sides.base),
        "head": json_revision(&sides.head),
        "verdict": Verdict::of(diff).as_str(),
        "summary": json_summary(&diff.summary),
        "changes": diff.changes.iter().map(json_change).collect::<Vec<_>>(),
    });
    if let Some(root) = root.to_str().filter(|_| root.is_absolute()) {
        doc["root"] = json!(root);
    }
    super::clean_machine_strings(&mut doc);
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

// ---- SARIF ------------------------------------------------------------------------------

/// What [`crate::analysis::pairing`] reads of a SARIF result: its fingerprint and file, and
/// the fallback key `(rule, message)`.
fn result_keys(r: &Value) -> (Finding<'_>, (&str, &str)) {
    fn s(v: &Value) -> &str {
        v.as_str().unwrap_or_default()
    }
    let finding = Finding {
        fingerprint: s(&r["partialFingerprints"]["primaryLocationLineHash"]),
        path: s(&r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]),
    };
    (finding, (s(&r["ruleId"]), s(&r["message"]["text"])))
}

/// The head's findings and the base's that are gone, as one SARIF log with `baselineState`
/// on every result (see the module docs). `root` is the directory both sides' paths are
/// relative to.
pub fn sarif(
    base: (&ProjectIndex, &[Diagnostic]),
    head: (&ProjectIndex, &[Diagnostic]),
    root: &Path,
    sides: &Sides,
) -> String {
    let base_results = sarif::results(base.0, base.1);
    let mut head_results = sarif::results(head.0, head.1);
    let (base_findings, base_messages): (Vec<_>, Vec<_>) = base_results.iter().map(result_keys).unzip();
    let (head_findings, head_messages): (Vec<_>, Vec<_>) = head_results.iter().map(result_keys).unzip();
    let mut pairs = Pairs::by_fingerprint(&head_findings, &base_findings);
    pairs.then_by(&head_messages, &base_messages);
    let states: Vec<&'static str> = pairs
        .of_current
        .iter()
        .zip(&head_results)
        .map(|(pair, r)| match *pair {
            None => "new",
            Some((at, How::Same))
                if base_results[at]["message"] == r["message"] && base_results[at]["level"] == r["level"] =>
            {
                "unchanged"
            }
            // Another message or level, another file, or paired by rule and message only.
            Some(_) => "updated",
        })
        .collect();
    let absent: Vec<usize> = pairs.unpaired_earlier().collect();
    for (r, state) in head_results.iter_mut().zip(states) {
        r["baselineState"] = json!(state);
    }
    let mut base_results: Vec<Option<Value>> = base_results.into_iter().map(Some).collect();
    for at in absent {
        if let Some(mut r) = base_results[at].take() {
            r["baselineState"] = json!("absent");
            head_results.push(r);
        }
    }
    let mut log = sarif::log(head_results, root);
    log["runs"][0]["properties"]["base"] = json_revision(&sides.base);
    log["runs"][0]["properties"]["head"] = json_revision(&sides.head);
    sarif::finish(log)
}

#[cfg(test)]
#[path = "diff/tests.rs"]
mod tests;
