//! The bounded reader and what reads through it: a file's bytes come back exactly when it is a
//! regular file within the limit; ignore rules match every name as the `ignore` crate's own
//! loader does; any bytes as a `threatspec.yaml` or an index cache file never panic
//! (`tests/support/invariants.rs`, `check_readers`).
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, u16, Vec<u8>, Vec<String>)| {
    let (kind, limit, content, probes) = input;
    let probes: Vec<String> = probes.into_iter().take(8).collect();
    invariants::check_readers(kind, &content, u64::from(limit), &probes);
});
