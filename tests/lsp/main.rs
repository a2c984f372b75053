//! The language server through the protocol, in memory and over stdio. One test binary: each
//! module was a test file of its own (`tests/lsp.rs`, `tests/lsp_*.rs`), and every test binary
//! costs a link. `tests/lsp_show_dfd.rs` stays a binary of its own: it sets `XDG_CACHE_HOME`,
//! which is safe only while no other test of its process reads the environment.

#[path = "../support/git.rs"]
mod git;
#[path = "../support/lsp.rs"]
mod lsp_support;
#[path = "../support/stdio.rs"]
mod stdio_support;

mod config;
mod directories;
mod features;
mod in_memory;
mod risk;
mod sidecar;
mod stdio;
mod unmodelled;
