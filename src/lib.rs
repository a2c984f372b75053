//! threat-analyzer: threat-model annotations in source comments, analysed like code.
//!
//! Layers (arrows point down only; see each module's docs for what it owns and must never do):
//!
//! ```text
//!   cli (check, dfd, report, export) lsp (tower-lsp-server shell: protocol <-> analysis::ide)
//!          \                         /
//!           analysis   diagnostics and IDE features in editor-neutral terms
//!               |
//!           model      per-file facts merged into one project index; no I/O
//!               |
//!           syntax     languages, comments (tree-sitter; a verified fast lexer for whole-file
//!                      scans), the annotation parser; pure functions of text
//!
//!   render (human, json, sarif; dfd model, mermaid, dot, layout + svg; report content, Markdown and
//!   HTML; exports) reads the model and analysis;
//!   walk does the file-system I/O
//!   (walking, size/binary/UTF-8 checks, prefilter, parallel parse); cache keeps each file's
//!   outcome on disk between runs (in the user's cache directory) for walk.
//! ```
//!
//! The core (`text`, `diagnostic`, `syntax`, `model`, `analysis`) does no I/O and knows no
//! protocol types.

pub mod analysis;
pub mod cache;
pub mod cli;
pub mod diagnostic;
pub mod lsp;
pub mod model;
pub mod render;
pub mod syntax;
pub mod text;
pub mod walk;
