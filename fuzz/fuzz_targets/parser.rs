//! The annotation parser on any text, in every language: never panics, every range inside
//! the text on character boundaries (`tests/support/invariants.rs`, `check_parse`).
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, String)| {
    let (language, text) = input;
    invariants::check_parse(invariants::language(language as usize), &text);
});
