//! The editor-neutral IDE features (`analysis::ide`) on inline fixtures. One test binary: each
//! module was a test file of its own (`tests/ide_*.rs`), and every test binary costs a link.

#[path = "../support/mod.rs"]
mod support;

mod actions;
mod completion;
mod nav_hover;
mod nav_rename;
mod nav_symbols;
mod navigation;
mod tokens;
