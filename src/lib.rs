//! threat-analyzer: threat-model annotations in source comments, analysed like code.
//!
//! Layers (arrows point down only; see each module's docs for what it owns and must never do):
//!
//! ```text
//!   cli (check, dfd, report, export) lsp (tower-lsp-server shell: protocol <-> analysis::ide)
//!          \                         /
//!           analysis   diagnostics and IDE features in editor-neutral terms
//!               |
//!           model      per-file facts merged into one project index (and the texts of
//!                      files `.gal` sidecars anchor to, which the readers provide); no I/O
//!               |
//!           syntax     languages, comments (tree-sitter; a verified fast lexer for whole-file
//!                      scans), the annotation parser; pure functions of text
//!
//!   render (human, json, sarif; dfd model, mermaid, dot, layout + svg; report content, Markdown and
//!   HTML; exports) reads the model and analysis;
//!   walk does the file-system I/O
//!   (walking, size/binary/UTF-8 checks, prefilter, parallel parse) with ignore_files (the
//!   repository's ignore rules) and config (what threatspec.yaml and .guardlink/config.json ask
//!   for, each entry's position; no I/O: walk checks the entries against the disk and turns
//!   their problems into diagnostics of the config file); cache keeps each file's outcome on disk between runs (in the
//!   user's cache directory) for walk; every file any of them reads goes through read (regular
//!   files only, bounded, no links for configuration and cache).
//! ```
//!
//! The core (`text`, `diagnostic`, `syntax`, `model`, `analysis`) does no I/O and knows no
//! protocol types. `limits` holds the resource limits every layer applies.
//!
//! Repository content is untrusted (see the README's *Security* section): nothing here executes
//! a program or opens a socket (the binary imports no function that could; checked by
//! `tests/no_exec_no_network.rs`), every input dimension has a limit (`limits`), outputs
//! never follow a link a repository planted (`cli::output`), and repository text reaches a
//! terminal, a log or a machine-readable output only through `text`'s one character rule.

// @exposes Host to #command-execution -- "configuration and annotations may hold commands"
// @mitigates Host against #command-execution using #no-exec-no-network
// @exposes Host to #network-fetch -- "configuration and annotations may hold URLs"
// @mitigates Host against #network-fetch using #no-exec-no-network

pub mod analysis;
pub mod cache;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod ignore_files;
pub mod limits;
pub mod lsp;
pub mod model;
pub mod read;
pub mod render;
pub mod syntax;
pub mod text;
pub mod walk;
