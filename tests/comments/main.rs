//! Comment extraction: per language, `x-threatspec` keys, candidate ranges and the language
//! registry. One test binary: each module was a test file of its own (`tests/comments_*.rs`),
//! and every test binary costs a link.

mod embedded;
mod languages;
mod ranges;
mod registry;
