//! Every renderer (JSON, SARIF, exports, Markdown and HTML reports, the preview page, SVG,
//! Mermaid, DOT, human, the MCP server's answers) on the project of any annotation text: no
//! panic, machine formats parse, markup never carries annotation text unescaped, MCP answers
//! keep repository text inside their data fields (`tests/support/invariants.rs`,
//! `check_renderers`).
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (String, String)| {
    let (gal, python) = input;
    invariants::check_renderers(&gal, &python);
});
