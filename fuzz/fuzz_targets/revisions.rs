//! The pure git rules of `src/vcs.rs` on any input: a revision spec reads as
//! `GitRepository::resolve` reads it, unambiguously; a tree entry name a snapshot writes is one
//! ordinary path component, never `.git` (`tests/support/invariants.rs`, `check_revision_spec`,
//! `check_tree_name`).
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (String, Vec<u8>)| {
    let (spec, name) = input;
    invariants::check_revision_spec(&spec);
    invariants::check_tree_name(&name);
});
