//! `x-threatspec` extraction (stub).
use super::{CandidateLine, Language};

pub fn x_threatspec_lines(_language: Language, _text: &str) -> Vec<CandidateLine> {
    Vec::new()
}
