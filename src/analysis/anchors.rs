//! Sidecar anchors in the analysis: `stale-anchor` and where sidecar findings are reported.
//!
//! Owns: checking every `@source` anchor of the project's `.gal` sidecars against the text of
//! the file it names (the reading layer provides it, see [`crate::model::anchors`]), and the
//! one relocation of findings: a diagnostic about an annotation written under an anchor is
//! reported at the source location the anchor points to, with the `.gal` line as
//! [`Diagnostic::sidecar`] and first related location. Every output (human, JSON, SARIF,
//! report, language server) takes its locations from the diagnostic, so none of them knows
//! about sidecars. Must never: read a file.
//!
//! An anchor points at its symbol's definition when `symbol:` is given and found (the nearest
//! to `line:`), else at `line:` (clamped to the file), else at the file's first line, as
//! GuardLink's external mode does. It is stale (a `stale-anchor` warning on the `.gal` line)
//! when its file is missing or refused, when `line:` is past the file's end, when the symbol
//! is no longer defined in the file, or when its definition is more than
//! [`NEAR_LINES`] lines away from `line:` (then with a fix that writes the line it is at now).

use crate::diagnostic::{Code, Diagnostic, Edit, Fix, Related};
use crate::file_id::FileId;
use crate::model::anchors::{AnchorText, NEAR_LINES, is_sidecar, names_the_module, nearest, symbol_lines};
use crate::model::{Anchor, ProjectIndex};
use crate::text::{LineIndex, TextRange};
use rustc_hash::FxHashMap as HashMap;

/// What checking one anchor found.
struct Check {
    /// The file and 1-based line findings under the anchor are reported at; `None` when the
    /// file's text is not available.
    at: Option<(FileId, u32)>,
    /// Why the anchor is stale, where in the `.gal` file, and the line to move it to.
    stale: Option<(String, TextRange, Option<u32>)>,
}

fn check(index: &ProjectIndex, anchor: &Anchor) -> Check {
    let origin = &anchor.origin;
    let written = &origin.file.value;
    let key = match &anchor.key {
        Ok(key) => key,
        Err(why) => return Check { at: None, stale: Some((why.clone(), origin.file.range, None)) },
    };
    let Some((text, _)) = index.text_of(key.as_str()) else {
        let stale = match index.anchor_text(key.as_str()) {
            Some(AnchorText::Unreadable(why)) => Some((
                format!(
                    "`{written}` cannot be read ({why}): the annotations after this `@source` describe code \
                     that is not there (moved or deleted?)"
                ),
                origin.file.range,
                None,
            )),
            // Not provided by the caller (a model built from texts alone): nothing to check.
            _ => None,
        };
        return Check { at: None, stale };
    };
    let lines = text.lines().count().max(1) as u32;
    let recorded = origin.line.as_ref().map(|l| l.value);
    let Some(symbol) = &origin.symbol else {
        let line = recorded.unwrap_or(1);
        let stale = (line > lines).then(|| {
            let range = origin.line.as_ref().map_or(origin.directive, |l| l.range);
            (format!("`{written}` has {lines} lines: line {line} is past its end"), range, None)
        });
        return Check { at: Some((key.clone(), line.min(lines))), stale };
    };
    let candidates = symbol_lines(text, &symbol.value);
    if candidates.is_empty() && names_the_module(key.as_str(), &symbol.value) {
        // A module-level anchor: the file itself is the symbol, wherever its line is.
        return Check { at: Some((key.clone(), recorded.unwrap_or(1).min(lines))), stale: None };
    }
    let Some(now) = nearest(&candidates, recorded.unwrap_or(1)) else {
        let message = format!(
            "`{}` is not defined in `{written}` any more (renamed or removed?): the annotations after this \
             `@source` may need rewriting, not only a new line number",
            symbol.value
        );
        return Check {
            at: Some((key.clone(), recorded.unwrap_or(1).min(lines))),
            stale: Some((message, symbol.range, None)),
        };
    };
    let stale = match (recorded, &origin.line) {
        (Some(line), Some(written_line)) if now.abs_diff(line) > NEAR_LINES => {
            let others: Vec<String> = candidates.iter().filter(|&&c| c != now).map(u32::to_string).collect();
            let also =
                if others.is_empty() { String::new() } else { format!(" (also {})", others.join(", ")) };
            Some((
                format!(
                    "`{}` is at line {now} of `{written}` now{also}, not at line {line}: this anchor is stale",
                    symbol.value
                ),
                written_line.range,
                Some(now),
            ))
        }
        _ => None,
    };
    Check { at: Some((key.clone(), now)), stale }
}

/// The file and 1-based line the annotations under `anchor` describe (by the rule in the
/// module docs), when its file's text is known.
pub(super) fn anchored_at(index: &ProjectIndex, anchor: &Anchor) -> Option<(FileId, u32)> {
    check(index, anchor).at
}

/// The non-blank part of 1-based `line` (an empty range at its start when it is blank).
fn line_span(text: &str, line_index: &LineIndex, line: u32) -> TextRange {
    let range = line_index.line_range(line.saturating_sub(1) as usize, text);
    let content = range.slice(text);
    let lead = content.len() - content.trim_start().len();
    let trimmed = content.trim();
    let start = range.start() + lead;
    TextRange::new(start, start + trimmed.len())
}

/// Checks every anchor (`stale-anchor`) and reports the findings under anchors at their source
/// locations. Runs last, over all other diagnostics.
pub(super) fn apply(index: &ProjectIndex, out: &mut Vec<Diagnostic>) {
    let mut places: HashMap<(FileId, usize), Option<(FileId, u32)>> = HashMap::default();
    let mut stale = Vec::new();
    for facts in index.files().filter(|f| !f.anchors.is_empty()) {
        for anchor in &facts.anchors {
            let Check { at, stale: problem } = check(index, anchor);
            if let Some((message, range, move_to)) = problem {
                let mut d = super::diagnostics::diag(Code::StaleAnchor, &facts.path, range, message);
                if let (Some(now), Some(line)) = (move_to, &anchor.origin.line) {
                    d.fix = Some(Fix {
                        label: format!("Move the anchor to line {now}"),
                        edits: vec![Edit {
                            file: facts.path.clone(),
                            range: line.range,
                            new_text: now.to_string(),
                        }],
                    });
                }
                if let Some((key, line)) = &at
                    && let Some((text, line_index)) = index.text_of(key.as_str())
                {
                    let message = match &anchor.origin.symbol {
                        Some(symbol) if move_to.is_some() => format!("`{}` is defined here", symbol.value),
                        _ => "the anchored source".to_string(),
                    };
                    d.related.push(Related {
                        file: key.clone(),
                        range: line_span(text, line_index, *line),
                        message,
                    });
                }
                stale.push(d);
            }
            places.insert((facts.path.clone(), anchor.origin.directive.start()), at);
        }
    }
    if places.is_empty() {
        // No sidecar anchors (most projects): nothing to relocate.
        return;
    }
    for d in out.iter_mut() {
        let Some(facts) =
            index.file(d.file.as_str()).filter(|f| is_sidecar(f.path.as_str()) && !f.anchors.is_empty())
        else {
            continue;
        };
        let annotations = facts.annotations();
        let i = annotations.partition_point(|a| a.range.start() <= d.range.start());
        let Some(i) = i.checked_sub(1).filter(|&i| annotations[i].range.contains(d.range.start())) else {
            continue;
        };
        let Some(anchor) = facts.anchor_of(i) else { continue };
        let Some(Some((key, line))) = places.get(&(facts.path.clone(), anchor.origin.directive.start()))
        else {
            continue;
        };
        let Some((text, line_index)) = index.text_of(key.as_str()) else { continue };
        let written = Related {
            file: d.file.clone(),
            range: d.range,
            message: "the annotation is written here, in a `.gal` sidecar".to_string(),
        };
        d.related.insert(0, written.clone());
        d.sidecar = Some(written);
        d.file = key.clone();
        d.range = line_span(text, line_index, *line);
    }
    out.extend(stale);
}
