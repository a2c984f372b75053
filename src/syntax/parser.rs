//! Annotation parser (stub).
use super::{CandidateLine, ParsedFile};

pub fn parse_lines(_text: &str, _lines: &[CandidateLine]) -> ParsedFile {
    ParsedFile::default()
}
