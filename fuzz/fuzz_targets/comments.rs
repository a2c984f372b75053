//! Comment extraction for each language on any text: ranges inside the text, blocks in
//! order, and the fast lexer agreeing with tree-sitter whenever it decides
//! (`tests/support/invariants.rs`, `check_comments`).
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, String)| {
    let (language, text) = input;
    invariants::check_comments(invariants::language(language as usize), &text);
});
