//! The model diff of two projects (a `.gal` file and a Python file each) and every layout of
//! it (terminal text, Markdown comment, JSON, SARIF with `baselineState`): no panic, machine
//! formats parse and are clean, markup never carries annotation text unescaped, links stay
//! under the link base (`tests/support/invariants.rs`, `check_diff`).
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (String, String, String, String)| {
    let (base_gal, base_python, head_gal, head_python) = input;
    invariants::check_diff((&base_gal, &base_python), (&head_gal, &head_python));
});
