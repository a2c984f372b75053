//! Language server: the tower-lsp-server shell around the analysis.
//!
//! Owns: the protocol (capabilities, position encoding, URIs), open documents, the workspace
//! index's lifecycle (background indexing with `$/progress`, indexing a folder again when its
//! `threatspec.yaml` or `.guardlink/config.json` is saved or changes on disk, edits, closes,
//! keeping a configuration file's problems on it while it is open) and publishing
//! diagnostics, and the one file the server writes: the `threat-analyzer.showDfd` preview, in
//! the user's cache directory and never inside a workspace folder (`preview`). Must never:
//! compute an IDE answer or render anything itself (that is `analysis::ide` and `render`), hold
//! a lock across an `.await`, await a client request inside a handler, write to a user's
//! files, read a file from disk that `walk::WalkRules` does not admit (whoever named it: the
//! watcher, the client's file events, `didClose`), offer an edit to a file outside the
//! workspace folders or behind a symbolic link, or log other than through
//! `TerminalSafeStderr` (log lines name repository paths).
//!
//! Concurrency (see `docs/architecture.md`): tower-lsp-server runs up to four handlers at a
//! time, so `didOpen`/`didChange`/`didClose` apply their edit *before* their first `.await`;
//! edits therefore apply in arrival order. `didOpen` and `didClose` replace the file's facts in
//! the index at once; `didChange` only marks the document, and whatever reads the index next
//! (every request, the diagnostics task) first derives the facts of marked documents, so a
//! burst of keystrokes costs one derivation. Readers take the index's read lock for a
//! synchronous computation and release it. One diagnostics task
//! debounces changes (50 ms), computes the project's diagnostics for one index revision
//! (incrementally: `Analysis::update` re-resolves only edited files while no definition
//! changed), drops the result if the revision moved meanwhile (and then recomputes at once,
//! without a second debounce), and republishes only files whose diagnostics changed, each
//! labelled with the document version its facts came from. Clients that pull diagnostics get
//! reports with result ids (a hash of the items), so an unchanged report is answered as
//! `unchanged`.
//!
//! Requests that read the whole project (workspace symbols, references, rename, workspace
//! diagnostics, the status and diagram commands) wait, asynchronously and for at most 5 s, for
//! indexing runs that fill an empty index (the first one, and re-indexes after the file
//! selection changed or folders were added), two at a time at most so that waiting requests
//! never take all four handler slots. Requests about one document never wait.
//!
//! Where each concern lives: `server` (the `LanguageServer` impl: one line per message,
//! delegating), `capabilities` (the client's capabilities, resolved once at `initialize`, and
//! the server's), `settings`, `state` (the global state and the snapshot requests read),
//! `indexing` (indexing runs, changes on disk, the index cache), `infra` (each folder's
//! infrastructure model for `unmodelled-resource`, derived again when a template changes),
//! `diagnostics` (the push task,
//! pulled reports, conversion), `ext` (the `workspace/executeCommand` commands: names, typed
//! arguments and results), `handlers` (`lifecycle`, `sync` — the arrival-order rule and its
//! test —, `workspace`, `requests`, `commands`), and below them `features`, `convert`,
//! `documents`, `preview` and `input`; the file watcher is the shared [`crate::watch`].

mod capabilities;
pub mod convert;
mod diagnostics;
pub mod documents;
mod ext;
mod features;
mod handlers;
mod indexing;
mod infra;
pub mod input;
mod preview;
mod server;
mod settings;
mod state;

pub use server::Backend;
pub use settings::{CODE_ACTION_DIALECTS, SETTING_KEYS};

/// Environment variable with the log filter for standard error (`info` by default;
/// `debug`, `threat_analyzer=trace`, ... as `tracing_subscriber::EnvFilter` reads it).
pub const LOG_ENV: &str = "THREAT_ANALYZER_LOG";

/// Whether a log event could hold a whole protocol message, and so a document's text:
/// tower-lsp-server logs every message body at `trace`. Such events are never logged, whatever
/// the filter asks for.
// @exposes ThreatAnalyzer.Server to #log-leak -- "tower-lsp-server traces every message body"
// @mitigates ThreatAnalyzer.Server against #log-leak using #log-filter
fn logs_message_bodies(meta: &tracing::Metadata<'_>) -> bool {
    *meta.level() == tracing::Level::TRACE && meta.target().starts_with("tower_lsp_server")
}

/// Serves the language server on `input`/`output` until `exit` or the end of the input: the
/// one way the server runs (standard input/output, and the in-memory tests). The input is
/// checked frame by frame first ([`input`]).
pub async fn serve<I, O>(input: I, output: O)
where
    I: tokio::io::AsyncRead + Unpin,
    O: tokio::io::AsyncWrite,
{
    let (service, socket) = tower_lsp_server::LspService::build(Backend::new)
        .custom_method(input::INVALID_REQUEST_METHOD, Backend::invalid_request)
        .custom_method(input::TOO_LARGE_METHOD, Backend::message_too_large)
        .custom_method(input::DOCUMENT_TOO_LARGE_METHOD, Backend::document_too_large)
        .finish();
    tower_lsp_server::Server::new(input::CheckedInput::new(input), output, socket).serve(service).await;
}

/// The log's standard error: each event, which the formatter hands over whole, is written as
/// one line through [`crate::text::for_terminal`], whatever module logged it and whatever
/// path or setting value it quotes, so an editor's log pane or a terminal never receives an
/// escape sequence or a line the repository started.
struct TerminalSafeStderr;

impl std::io::Write for TerminalSafeStderr {
    fn write(&mut self, event: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(event);
        let line = text.strip_suffix('\n').unwrap_or(&text);
        let mut stderr = std::io::stderr().lock();
        writeln!(stderr, "{}", crate::text::for_terminal(line))?;
        Ok(event.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Serves the language server on standard input/output until `exit`; returns the exit status.
pub fn run_stdio() -> i32 {
    use tracing_subscriber::prelude::*;
    // Logs go to standard error (stdout carries the protocol). They name files and counts,
    // never file contents (tests/hostile/lsp_stdio.rs runs a session at `trace`).
    let filter = tracing_subscriber::EnvFilter::try_from_env(LOG_ENV)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(|| TerminalSafeStderr)
        .with_ansi(false)
        .with_filter(filter)
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| !logs_message_bodies(meta)));
    let _ = tracing_subscriber::registry().with(layer).try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("threat-analyzer: cannot start the async runtime: {e}");
            return 2;
        }
    };
    runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    // Do not wait for the blocking stdin reader: a client may keep stdin open after `exit`.
    std::process::exit(0)
}
