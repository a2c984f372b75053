//! threat-analyzer: threat-model annotations in source comments, analysed like code.
//!
//! Layers (arrows point down only; see each module's docs for what it owns and must never do,
//! and `docs/architecture.md` for the map and the rules; `tests/tidy.rs` checks the edges):
//!
//! ```text
//!   cli (check, diff, dfd, report, ...)   lsp (tower-lsp-server shell)   mcp (rmcp shell: tools)
//!      |                                     |                              |
//!      +-----------------+-------------------+------------------------------+
//!                        |                   the shells: the only users of render and walk
//!                        |
//!   render    every output as a pure function of model + analysis: human, json, sarif; dfd
//!      |      model, mermaid, dot, layout + svg; report content, Markdown and HTML; exports;
//!      |      the model diff's outputs
//!   analysis  diagnostics and IDE features in editor-neutral terms; the model diff
//!      |
//!   model     per-file facts merged into one project index (and the texts of files `.gal`
//!      |      sidecars anchor to, which the readers provide); no I/O
//!   syntax    languages, comments (tree-sitter; a verified fast lexer for whole-file scans),
//!             the annotation parser; pure functions of text
//!
//!   walk      the file-system I/O (walking, size/binary/UTF-8 checks, prefilter, parallel
//!    |        parse) into a model, with ignore_files (the repository's ignore rules), config
//!    |        (what threatspec.yaml and .guardlink/config.json ask for, each entry's position;
//!    |        no I/O: walk checks the entries against the disk and turns their problems into
//!    |        diagnostics of the config file) and cache (each file's outcome between runs, in
//!    |        the user's cache directory)
//!   read      every file any of them reads (regular files only, bounded, no links for
//!             configuration and cache)
//!   watch     the file watcher of the two servers (changed paths; links never followed)
//!   paths     path normalisation, relative display, containment in workspace folders
//!   vcs       git, read in-process (gix): revisions, merge bases, a commit's files written
//!             into a temporary directory the walk reads like the working tree
//!   revision_scan  a revision's project (diff, check --baseline REF): vcs and walk together,
//!             reusing the working tree's scan for the files that did not change
//!   sides     a comparison's two sides as render::diff names them, from vcs's revisions
//!             (the shells' one bridge between vcs and render)
//!
//!   diagnostic, file_id, text, limits: shared by every layer
//! ```
//!
//! The core (`text`, `file_id`, `diagnostic`, `syntax`, `model`, `analysis`) and `render` do
//! no I/O and know no protocol types. `limits` holds the resource limits every layer applies.
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
pub mod file_id;
pub mod ignore_files;
pub mod infra;
pub mod limits;
pub mod lsp;
pub mod mcp;
pub mod model;
pub mod paths;
pub mod read;
pub mod render;
pub mod revision_scan;
pub mod sides;
pub mod syntax;
pub mod text;
pub mod vcs;
pub mod walk;
pub mod watch;
