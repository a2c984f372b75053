//! Resource limits: how much a repository can make threat-analyzer read, hold and draw.
//!
//! Owns: the numbers. Must never: do anything with them (each layer applies its own limit and
//! reports it: a `resource-limit` diagnostic for what is in a file, an error message for what
//! concerns a whole command).
//!
//! A repository is untrusted input: a language server runs on every repository a developer
//! opens, including hostile ones. Every input dimension that could make the tool use memory
//! or time without bound has a limit here, chosen far above real projects (the limits are
//! documented in the README's *Limits* section, with what happens when each is reached):
//!
//! | what | limit | when reached |
//! |---|---|---|
//! | one file (`--max-file-size`, `maxFileSize`) | 2 MiB | not read (`check` names it; an open document gets a `resource-limit` diagnostic) |
//! | one annotation line | [`MAX_ANNOTATION_LINE`] bytes | that line is not parsed: `resource-limit` |
//! | annotations and syntax errors in one file | [`MAX_ITEMS_PER_FILE`] | the rest of the file is not parsed: `resource-limit` |
//! | annotations in a project | [`MAX_PROJECT_ANNOTATIONS`] | files after the limit (in path order) are not read; `check` exits 2 |
//! | text held for annotated files in a project | [`MAX_PROJECT_TEXT`] bytes | as above |
//! | elements and flows in one diagram | [`MAX_DIAGRAM_NODES`], [`MAX_DIAGRAM_EDGES`] | the diagram is refused with a message naming the scope options; a report leaves it out and says why |
//! | points of long flows in one diagram's layout | [`MAX_LAYOUT_DUMMIES`] | the longest flows are drawn in lanes below the diagram; its legend says how many |
//! | one protocol message | 256 MiB (`lsp::input::MAX_MESSAGE_SIZE`) | skipped unread, logged |
//!
//! Time is bounded by these sizes (every pass is linear or `n log n` in them) and, for
//! tree-sitter, by its parse budget (see `syntax::comments`).

/// Default size limit for one file (bytes).
pub const MAX_FILE_SIZE: u64 = 2 * 1024 * 1024;

/// Longest annotation line parsed (bytes, after comment delimiters are stripped). A GAL
/// description continued over several lines counts as one line.
pub const MAX_ANNOTATION_LINE: usize = 4096;

/// Most annotations plus syntax errors parsed from one file.
pub const MAX_ITEMS_PER_FILE: usize = 10_000;

/// Most annotations read from one project (the walk stops before the file that crosses it).
/// The 200,000-relation benchmark corpus peaks at about 470 MB resident in `check`, so this
/// bounds a project to about 1.2 GB.
pub const MAX_PROJECT_ANNOTATIONS: usize = 500_000;

/// Most bytes of annotated files' text held for one project (the index keeps their text).
pub const MAX_PROJECT_TEXT: u64 = 256 * 1024 * 1024;

/// Most elements (components, actors, data stores) in one data-flow diagram. Viewers give up
/// long before layout does: GitHub's Mermaid refuses diagrams over 50,000 characters or 500
/// edges, and a 20,000-element SVG is 23 MB; a diagram this big is unreadable anyway, and
/// `--scope` draws a readable part.
pub const MAX_DIAGRAM_NODES: usize = 2_000;

/// Most flows in one data-flow diagram.
pub const MAX_DIAGRAM_EDGES: usize = 10_000;

/// Most dummies the SVG layout places: points of flows in the columns they cross, one per
/// column (its work and memory grow with them, about 0.45 KB each). Within the diagram limits a
/// chain of elements with flows between its two ends would need 30 million (10 GB); past this
/// budget the flows crossing the most columns are drawn in lanes below the diagram instead
/// (see `render::layout`). The benchmark diagram (`benches/formats.py`: 200 components, 4,000
/// flows) needs 194,006.
pub const MAX_LAYOUT_DUMMIES: usize = 300_000;
