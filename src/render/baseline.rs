//! The baseline file `check --write-baseline` writes (the format is documented in
//! [`crate::analysis::baseline`], which reads it).
//!
//! Owns: writing a run's baseline entries as that JSON document: pretty-printed, one finding per
//! few lines so a change to the file reviews well, in [`crate::diagnostic::sorted`] order. Must
//! never: do I/O. Paths and messages are repository text and go through
//! [`crate::text::for_machine`]; the document carries [`super::PROVENANCE`] like every
//! machine-readable output.

use crate::analysis::baseline::{Entry, FORMAT_VERSION, TOOL};
use crate::text;
use serde::Serialize;

#[derive(Serialize)]
struct Document {
    version: u64,
    tool: &'static str,
    provenance: &'static str,
    findings: Vec<Entry>,
}

/// Renders `entries` (from [`crate::analysis::baseline::entries`]) as a baseline file.
pub fn render(entries: &[Entry]) -> String {
    let findings = entries.iter().map(cleaned).collect();
    let document = Document { version: FORMAT_VERSION, tool: TOOL, provenance: super::PROVENANCE, findings };
    let mut out = serde_json::to_string_pretty(&document).expect("plain structs serialise");
    out.push('\n');
    out
}

/// `entry` with its repository text (path, message) through [`text::for_machine`].
pub(super) fn cleaned(entry: &Entry) -> Entry {
    Entry {
        path: text::for_machine(&entry.path).into_owned(),
        message: text::for_machine(&entry.message).into_owned(),
        ..entry.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::baseline::{entries, parse};
    use crate::render::test_support::sample;

    #[test]
    fn what_is_written_reads_back() {
        let (index, diagnostics) = sample();
        let written = entries(&index, &diagnostics);
        let text = render(&written);
        assert!(text.starts_with("{\n  \"version\": 1,\n  \"tool\": \"threat-analyzer\",\n"), "{text}");
        assert_eq!(parse(&text), Ok(written.clone()));
        assert_eq!(written.len(), 3);
        assert_eq!(
            (written[2].code.as_str(), written[2].path.as_str(), written[2].line),
            ("unmitigated-exposure", "src/app.py", 3)
        );
    }

    #[test]
    fn repository_text_is_cleaned() {
        let entry = Entry {
            fingerprint: "f:1".into(),
            code: "c".into(),
            path: "a\u{202E}.py".into(),
            message: "m\u{1b}[31m".into(),
            line: 1,
        };
        let text = render(&[entry]);
        assert!(!text.contains('\u{202E}') && !text.contains("\\u001b"), "{text}");
    }
}
