//! The project index under random sequences of file replacements and removals equals a full
//! rebuild, and so does its incremental analysis (`tests/support/invariants.rs`, `check_model`).
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|steps: Vec<(u8, Option<Vec<u8>>)>| {
    let steps: Vec<invariants::ModelStep> = steps
        .into_iter()
        .take(32)
        .map(|(file, lines)| (file as usize, lines.map(|l| l.into_iter().take(12).map(usize::from).collect())))
        .collect();
    invariants::check_model(&steps);
});
