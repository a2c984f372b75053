//! Any bytes as a `check --baseline FILE`: refused or parsed, never a panic; what parses
//! writes back and reads back the same and pairs with itself completely
//! (`tests/support/invariants.rs`, `check_baseline_file`).
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    invariants::check_baseline_file(bytes);
});
