//! The language server's input (`lsp::input::CheckedInput`) from any client bytes: only whole
//! JSON-RPC frames pass, the same however the reads split the bytes, and garbage in front of
//! well-formed frames never costs one of them (`tests/support/invariants.rs`,
//! `check_protocol_input`).
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Frame {
    kind: u8,
    id: i32,
    method: String,
    text: String,
    typed: bool,
}

fuzz_target!(|input: (Vec<u8>, Vec<u8>, Vec<Frame>, Vec<u8>)| {
    let (raw, garbage, frames, sizes) = input;
    let frames: Vec<(serde_json::Value, bool)> = frames
        .into_iter()
        .take(8)
        .map(|f| (invariants::protocol_message(f.kind, f.id, &f.method, &f.text), f.typed))
        .collect();
    let sizes: Vec<usize> = sizes.into_iter().take(16).map(usize::from).collect();
    invariants::check_protocol_input(&raw, &garbage, &frames, &sizes);
});
