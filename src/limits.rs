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
//! | "did you mean" for a dangling id | ids up to [`MAX_SUGGESTION_ID_CHARS`] characters, [`MAX_SUGGESTION_WORK`] character comparisons per analysis | the diagnostic says why it offers no similar id |
//! | tree-sitter time for a project's files together | [`MAX_PROJECT_PARSE_TIME`] | the files parsed when it runs out, and all later ones, are read with the line-comment fallback; `check` prints a note with their number |
//! | one configuration or ignore file (`threatspec.yaml`, `.gitignore`, `.ignore`, `.git/info/exclude`) | [`MAX_CONFIG_FILE_SIZE`] bytes | not read (nor a link, nor a file that is not regular): a note (`check`) or a warning (language server); the walk goes on without it |
//! | a baseline file (`check --baseline FILE`) | [`MAX_BASELINE_FILE_SIZE`] bytes | not read (nor a link, nor a file that is not regular): `check` exits 2 |
//! | the index cache file | [`MAX_CACHE_FILE_SIZE`] bytes | not read (nor a link), rebuilt; a cache that would be larger is not written |
//! | points of long flows in one diagram's layout | [`MAX_LAYOUT_DUMMIES`] | the longest flows are drawn in lanes below the diagram; its legend says how many |
//! | files and bytes written for one git revision (`diff`, `check --baseline REF`) | [`MAX_SNAPSHOT_FILES`], [`MAX_SNAPSHOT_BYTES`] | the command fails with a message naming the limit (files over the file size limit are not written, and do not count) |
//! | aliases expanded in one YAML/JSON template (`baseline`) | [`MAX_TEMPLATE_ALIAS_NODES`] copied nodes | each further alias reads as a cut value with a problem at its location (an unresolved item of the baseline) |
//! | nesting of lists and maps in one template | [`MAX_TEMPLATE_DEPTH`] levels | deeper values read as cut, with a problem |
//! | problems kept for one template | [`MAX_TEMPLATE_PROBLEMS`] | the rest are counted in one more item ("N more problems reading this file") |
//! | one protocol message | 32 MiB (`lsp::input::MAX_MESSAGE_SIZE`) | skipped unread: a request is answered with an error, a document's text gets a `resource-limit` diagnostic, the rest is logged |
//!
//! Time is bounded by these sizes (every pass is linear or `n log n` in them), for
//! tree-sitter by its parse budget (see `syntax::comments`), and for "did you mean" (every
//! dangling id against every known id) by [`MAX_SUGGESTION_WORK`].

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

/// Tree-sitter time (summed over threads) that the files of one project may take together.
/// Each parse also has its own budget (5 s plus 2 s per MiB), but a repository of many small
/// pathological files (40 Lua files took 100 s) would otherwise cost that per file. Normal code
/// parses at 3-4 MB/s, so only a project with about 100 MB of annotated-looking source
/// reaches it honestly, and even then its line comments are still read.
pub const MAX_PROJECT_PARSE_TIME: std::time::Duration = std::time::Duration::from_secs(30);

/// Longest id (in characters) compared with known ids to suggest a fix for a dangling
/// reference; longer ids, dangling or defined, are never compared. Real ids are a few words.
pub const MAX_SUGGESTION_ID_CHARS: usize = 64;

/// Most work one analysis spends on "did you mean" suggestions, in character comparisons: a
/// pre-test of one (dangling id, known id) pair over their character counts costs 128, each
/// string distance the cells it computes (the dangling id's length times `2 * edits + 1`, at
/// most 3 edits). The worst case (every pair needing its distance, as in a file of 4,900
/// dangling typos of 4,900 ids of 60 characters) spends it in well under a second; 100
/// dangling ids in a project of 5,000 ids cost 64,000,000 in pre-tests plus the distances of
/// the pairs that pass them.
pub const MAX_SUGGESTION_WORK: usize = 200_000_000;

/// Largest configuration or ignore file read (`threatspec.yaml`, `.gitignore`, `.ignore`,
/// `.git/info/exclude`): real ones are a few KB (GitHub's largest `.gitignore` template is
/// under 10 KB).
pub const MAX_CONFIG_FILE_SIZE: u64 = 1024 * 1024;

/// Largest baseline file `check --baseline` reads. An entry takes about 200 bytes plus its
/// path and message, so this holds a few hundred thousand findings.
pub const MAX_BASELINE_FILE_SIZE: u64 = 128 * 1024 * 1024;

/// Largest index cache file read or written. A cache holds a record per file (about 100 bytes)
/// and the encoded parse results of annotated files (about 100 bytes per annotation, so the
/// project limits' 500,000 annotations take about 50 MB); loading one takes about twice its
/// size in memory.
pub const MAX_CACHE_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// Most dummies the SVG layout places: points of flows in the columns they cross, one per
/// column (its work and memory grow with them, about 0.45 KB each). Within the diagram limits a
/// chain of elements with flows between its two ends would need 30 million (10 GB); past this
/// budget the flows crossing the most columns are drawn in lanes below the diagram instead
/// (see `render::layout`). The benchmark diagram (`benches/formats.py`: 200 components, 4,000
/// flows) needs 194,006.
pub const MAX_LAYOUT_DUMMIES: usize = 300_000;

/// Most files written when a git revision's tree is read for comparison (`crate::vcs`): twice
/// the largest monorepos' checkouts. A tree can name one subtree many times, so a repository
/// of a few kilobytes could otherwise expand to billions of files.
pub const MAX_SNAPSHOT_FILES: usize = 1_000_000;

/// Most bytes written for one git revision's tree (files over [`MAX_FILE_SIZE`] are not
/// written at all): the Linux kernel's checkout is about 1.5 GB.
pub const MAX_SNAPSHOT_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Most nodes alias expansion may copy in one YAML or JSON template read by the baseline
/// (`infra::doc`), counting the copy the anchor table keeps of each anchored value: an alias
/// bomb stops here, and each further alias reads as a cut value with a problem.
pub const MAX_TEMPLATE_ALIAS_NODES: usize = 100_000;

/// Deepest nesting of lists and maps read from one template (`infra::doc`); deeper values read
/// as cut, with a problem. Real templates nest a dozen levels.
pub const MAX_TEMPLATE_DEPTH: usize = 200;

/// Most problems (syntax errors, cuts, unknown aliases) kept for one template (`infra::doc`);
/// the rest are counted.
pub const MAX_TEMPLATE_PROBLEMS: usize = 100;
