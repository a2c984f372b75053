//! Comment extraction (stub).
use super::{CandidateLine, Language};

pub fn candidate_lines(_language: Language, _text: &str) -> Vec<CandidateLine> {
    Vec::new()
}
