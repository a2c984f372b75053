//! Finding fingerprints: the identity of a diagnostic that survives the file changing around it.
//!
//! Owns: the one fingerprint rule, used by SARIF (`partialFingerprints.primaryLocationLineHash`)
//! and by baselines (`check --write-baseline`/`--baseline`, [`super::baseline`]), so a finding
//! has the same identity in both. Must never: depend on where the line is (its number or
//! indentation) or on anything outside the finding's own line, so that edits elsewhere in the
//! file, moved lines and re-indentation keep the fingerprint.
//!
//! The rule: the first 16 hex digits of SHA-256 over the code (`unmitigated-exposure`), a NUL
//! byte, the finding's line from where its annotation starts to the end of the line, with all
//! whitespace removed, a NUL byte, and the part of that line the diagnostic points at, also
//! without whitespace; followed by `:N`, where N counts the findings with the same hash in the
//! same file (1 for the first, in [`sorted`] order), as GitHub's own fingerprinting does.
//!
//! - The finding's line is the primary location's, except for a finding about an annotation of
//!   a `.gal` sidecar shown at the code its `@source` anchors to: that one's is the sidecar line
//!   the annotation is written on, so editing the anchored code does not make it new.
//! - Its annotation is the one whose range holds the diagnostic's start, when it starts on that
//!   line; otherwise (a continuation line, a malformed annotation, a conflict marker) the text
//!   is taken from where the diagnostic starts. So the code before a trailing comment is not
//!   part of it: renaming `s` in `def q(s):  # @exposes App to #sqli` keeps the finding.
//! - The pointed-at part tells apart two findings of one code on one line: `@mitigates App
//!   against #b using #a` with `#a` dangling and, later, `#b` too. With the line alone both
//!   would hash alike and the counters would follow their order on the line, so `#b`'s finding
//!   would take the `:1` that `#a`'s had, and a baseline would call the old finding new and the
//!   new one old.
//! - The path is not part of it: a renamed file keeps its findings (baselines use the path only
//!   to choose between equal fingerprints).

use crate::diagnostic::{Diagnostic, sorted};
use crate::file_id::FileId;
use crate::model::ProjectIndex;
use crate::text::TextRange;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The text of the (0-based) line holding `offset`, without its terminator, and where it
/// starts.
pub fn line_text<'a>(index: &'a ProjectIndex, file: &str, offset: usize) -> Option<(&'a str, usize)> {
    index.line_text_of(file, offset)
}

/// Each diagnostic with its fingerprint, in [`sorted`] order (the order the counters count in).
pub fn fingerprints<'d>(
    index: &ProjectIndex,
    diagnostics: &'d [Diagnostic],
) -> Vec<(&'d Diagnostic, String)> {
    use rayon::prelude::*;
    // Each hash depends on its finding alone: runs of them on every core (a run of findings
    // mostly of one file reads its annotations once), then counted in order.
    let in_order = sorted(diagnostics);
    let hashes: Vec<String> = in_order
        .par_chunks(256)
        .flat_map_iter(|run| {
            let mut annotations = AnnotationRanges::default();
            run.iter().map(|d| line_hash(index, &mut annotations, d)).collect::<Vec<_>>()
        })
        .collect();
    let mut counts: HashMap<(&FileId, &str), usize> = HashMap::new();
    let counted: Vec<usize> = in_order
        .iter()
        .zip(&hashes)
        .map(|(d, hash)| {
            let n = counts.entry((&d.file, hash.as_str())).or_insert(0);
            *n += 1;
            *n
        })
        .collect();
    in_order
        .into_iter()
        .zip(hashes.iter().zip(counted))
        .map(|(d, (hash, n))| (d, format!("{hash}:{n}")))
        .collect()
}

/// The hash part of the rule (see the module docs).
fn line_hash<'i>(
    index: &'i ProjectIndex,
    annotations: &mut AnnotationRanges<'i>,
    d: &'i Diagnostic,
) -> String {
    let (file, range) = match &d.sidecar {
        Some(sidecar) => (&sidecar.file, sidecar.range),
        None => (&d.file, d.range),
    };
    let (line, pointed) = match line_text(index, file.as_str(), range.start()) {
        Some((line, line_start)) => {
            let from = annotations.start_holding(index, file, range.start()).filter(|&at| at >= line_start);
            let from = from.unwrap_or(range.start()) - line_start;
            let start = range.start() - line_start;
            let end = range.end().clamp(range.start(), line_start + line.len()) - line_start;
            (line.get(from..).unwrap_or(""), line.get(start..end).unwrap_or(""))
        }
        None => ("", ""),
    };
    let without_whitespace = |text: &str| -> String { text.chars().filter(|c| !c.is_whitespace()).collect() };
    let mut hasher = Sha256::new();
    hasher.update(d.code.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(without_whitespace(line).as_bytes());
    hasher.update([0]);
    hasher.update(without_whitespace(pointed).as_bytes());
    let digest = hasher.finalize();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    digest[..8]
        .iter()
        .flat_map(|b| [char::from(HEX[usize::from(b >> 4)]), char::from(HEX[usize::from(b & 0xf)])])
        .collect()
}

/// Each file's annotation ranges, sorted by start: built once per file for a run's fingerprints.
#[derive(Default)]
struct AnnotationRanges<'i>(HashMap<&'i str, Vec<TextRange>>);

impl<'i> AnnotationRanges<'i> {
    /// Where the annotation holding `offset` starts (its `@`), if one does.
    fn start_holding(&mut self, index: &'i ProjectIndex, file: &'i FileId, offset: usize) -> Option<usize> {
        let ranges = self.0.entry(file.as_str()).or_insert_with(|| {
            let mut ranges: Vec<TextRange> = index
                .file(file.as_str())
                .map(|facts| facts.parsed.annotations.iter().map(|a| a.range).collect())
                .unwrap_or_default();
            ranges.sort_by_key(|r| (r.start(), r.end()));
            ranges
        });
        // The last one starting at or before `offset`, if it reaches it.
        let after = ranges.partition_point(|r| r.start() <= offset);
        let holding = ranges[..after].last()?;
        (offset < holding.end().max(holding.start() + 1)).then_some(holding.start())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Code, Level};
    use crate::model::FileFacts;
    use crate::syntax::Language;
    use crate::text::TextRange;
    use std::sync::Arc;

    fn index(files: &[(&str, &str)]) -> ProjectIndex {
        let mut index = ProjectIndex::new();
        for (path, text) in files {
            index.set_file(Arc::new(FileFacts::new(
                FileId::relative(*path),
                Language::Python,
                Arc::from(*text),
            )));
        }
        index
    }

    fn dangling(file: &str, text: &str, needle: &str) -> Diagnostic {
        let start = text.find(needle).unwrap();
        Diagnostic {
            code: Code::DanglingReference,
            level: Level::Error,
            message: format!("`{needle}` is not defined"),
            file: FileId::relative(file),
            range: TextRange::new(start, start + needle.len()),
            related: vec![],
            fix: None,
            unnecessary: false,
            sidecar: None,
            finding_severity: None,
        }
    }

    fn fingerprint_of(
        index: &ProjectIndex,
        diagnostics: &[Diagnostic],
        needle_file: &str,
        at: usize,
    ) -> String {
        fingerprints(index, diagnostics)
            .into_iter()
            .find(|(d, _)| d.file.as_str() == needle_file && d.range.start() == at)
            .map(|(_, fp)| fp)
            .unwrap()
    }

    /// The case the pointed-at part is for: a second finding of the same code on the same line,
    /// earlier on it, must not take the first one's fingerprint.
    #[test]
    fn a_second_finding_on_a_line_keeps_the_first_ones_fingerprint() {
        let text = "# @mitigates #b against #a using #c\n";
        let index = index(&[("a.py", text)]);
        let a = dangling("a.py", text, "#a");
        let before = fingerprint_of(&index, std::slice::from_ref(&a), "a.py", a.range.start());
        let b = dangling("a.py", text, "#b");
        let both = [a.clone(), b.clone()];
        let after = fingerprints(&index, &both);
        assert_eq!(after[0].0, &b, "`#b` comes first on the line");
        assert_eq!(fingerprint_of(&index, &both, "a.py", a.range.start()), before);
        assert_ne!(after[0].1, after[1].1);
        assert!(after.iter().all(|(_, fp)| fp.ends_with(":1")), "{after:?}");
    }

    #[test]
    fn survives_moves_reindentation_and_renames_but_not_a_changed_line() {
        let old = "# @exposes App to #x\n";
        let moved = "import os\n\n    #   @exposes   App to #x\n";
        let changed = "# @exposes App to #y\n";
        let index = index(&[("a.py", old), ("b.py", moved), ("c.py", changed)]);
        let fp = |file: &str, text: &str| {
            let d = dangling(file, text, "#");
            fingerprints(&index, std::slice::from_ref(&d))[0].1.clone()
        };
        let exposes = |file: &str, text: &str| {
            let mut d = dangling(file, text, "@exposes");
            d.range = TextRange::new(d.range.start(), text.trim_end().len());
            d.code = Code::UnmitigatedExposure;
            fingerprints(&index, std::slice::from_ref(&d))[0].1.clone()
        };
        assert_eq!(exposes("a.py", old), exposes("b.py", moved));
        assert_ne!(exposes("a.py", old), exposes("c.py", changed));
        assert_ne!(fp("a.py", old), exposes("a.py", old), "the code is part of it");
    }

    /// Code before a trailing annotation is not part of the finding's identity.
    #[test]
    fn code_before_the_annotation_on_its_line_does_not_count() {
        let old = "def q(s):  # @exposes App to #x\n";
        let new = "def query(self, s):    # @exposes App to #x\n";
        let other = "def q(s):  # @exposes Api to #x\n";
        let index = index(&[("a.py", old), ("b.py", new), ("c.py", other)]);
        let fp = |file: &str, text: &str, needle: &str| {
            let d = dangling(file, text, needle);
            fingerprints(&index, std::slice::from_ref(&d))[0].1.clone()
        };
        assert_eq!(fp("a.py", old, "#x"), fp("b.py", new, "#x"));
        assert_ne!(fp("a.py", old, "#x"), fp("c.py", other, "#x"), "the annotation itself counts");
        // Outside any annotation the line is taken from the diagnostic's start.
        let plain = "<<<<<<< HEAD\n";
        let index = self::index(&[("d.py", plain)]);
        let d = dangling("d.py", plain, "<<<<<<<");
        assert_eq!(fingerprints(&index, std::slice::from_ref(&d)).len(), 1);
    }

    #[test]
    fn repeats_in_one_file_count_up_and_files_count_apart() {
        let text = "# @exposes App to #x\n# @exposes App to #x\n";
        let index = index(&[("a.py", text), ("b.py", text)]);
        let first = dangling("a.py", text, "#x");
        let mut second = first.clone();
        second.range = TextRange::new(text.rfind("#x").unwrap(), text.rfind("#x").unwrap() + 2);
        let other_file = dangling("b.py", text, "#x");
        let fps: Vec<String> =
            fingerprints(&index, &[second, other_file, first]).into_iter().map(|(_, fp)| fp).collect();
        let hash = fps[0].split_once(':').unwrap().0;
        assert_eq!(fps, [format!("{hash}:1"), format!("{hash}:2"), format!("{hash}:1")]);
    }
}
