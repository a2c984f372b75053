//! A language-server document under random incremental edits (UTF-16 and UTF-8 positions, in
//! range or not, whole-text replacements) holds exactly the text of a reference string, and
//! its incrementally re-read facts equal a fresh parse (`tests/support/invariants.rs`, `check_document`).
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Edit {
    whole: bool,
    start: (u8, u8),
    end: (u8, u8),
    text: String,
    utf8: bool,
    facts: bool,
}

fuzz_target!(|input: (u8, String, Vec<Edit>)| {
    let (language, initial, edits) = input;
    // Small line and column numbers hit the text; 255 stands for "far past the end".
    let position = |(line, col): (u8, u8)| {
        let far = |v: u8| if v == u8::MAX { u32::MAX } else { u32::from(v % 16) };
        (far(line), far(col))
    };
    let edits: Vec<invariants::DocEdit> = edits
        .into_iter()
        .take(64)
        .map(|e| invariants::DocEdit {
            range: (!e.whole).then(|| (position(e.start), position(e.end))),
            text: e.text,
            utf8: e.utf8,
            facts: e.facts,
        })
        .collect();
    invariants::check_document(invariants::language(language as usize), &initial, &edits);
});
