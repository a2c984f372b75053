//! Hostile and broken input: files through the binary, protocol input to the language server
//! in memory and over stdio, hostile workspaces. One test binary: each module was a test file
//! of its own (`tests/hostile_*.rs`), and every test binary costs a link.

#[path = "../support/hostile.rs"]
mod hostile;
#[path = "../support/lsp.rs"]
mod lsp_support;
#[path = "../support/stdio.rs"]
mod stdio;
#[path = "../support/cli.rs"]
mod support;

mod cli;
mod lsp;
mod lsp_links_stdio;
mod lsp_stdio;
mod lsp_workspace;
