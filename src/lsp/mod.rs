//! Language server: the tower-lsp-server shell around the analysis.
//!
//! Owns: the protocol (capabilities, position encoding, URIs), open documents, the workspace
//! index's lifecycle (background indexing with `$/progress`, edits, closes) and publishing
//! diagnostics, and the one file the server writes: the `threat-analyzer.showDfd` preview, in
//! the user's cache directory and never inside a workspace folder (`preview`). Must never:
//! compute an IDE answer or render anything itself (that is `analysis::ide` and `render`), hold
//! a lock across an `.await`, await a client request inside a handler, or write to a user's
//! files.
//!
//! Concurrency (see `design/architecture.md`): tower-lsp-server runs up to four handlers at a
//! time, so `didOpen`/`didChange`/`didClose` apply their edit and replace the file's facts in
//! the index *before* their first `.await`; edits therefore apply in arrival order. Readers take
//! the index's read lock for a synchronous computation and release it. One diagnostics task
//! debounces changes (50 ms), computes the project's diagnostics for one index revision
//! (incrementally: `Analysis::update` re-resolves only edited files while no definition
//! changed), drops the result if the revision moved meanwhile (and then recomputes at once,
//! without a second debounce), and republishes only files whose diagnostics changed, each
//! labelled with the document version its facts came from.

pub mod convert;
mod documents;
mod features;
mod preview;
mod server;
mod watch;

pub use server::Backend;

/// Environment variable with the log filter for standard error (`info` by default;
/// `debug`, `threat_analyzer=trace`, ... as `tracing_subscriber::EnvFilter` reads it).
pub const LOG_ENV: &str = "THREAT_ANALYZER_LOG";

/// Serves the language server on standard input/output until `exit`; returns the exit status.
pub fn run_stdio() -> i32 {
    // Logs go to standard error (stdout carries the protocol). They name files and counts,
    // never file contents.
    let filter = tracing_subscriber::EnvFilter::try_from_env(LOG_ENV)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("threat-analyzer: cannot start the async runtime: {e}");
            return 2;
        }
    };
    runtime.block_on(async {
        let (service, socket) = tower_lsp_server::LspService::new(Backend::new);
        tower_lsp_server::Server::new(tokio::io::stdin(), tokio::io::stdout(), socket).serve(service).await;
    });
    // Do not wait for the blocking stdin reader: a client may keep stdin open after `exit`.
    std::process::exit(0)
}
