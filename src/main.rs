//! The `threat-analyzer` binary: a panic-proof shell around [`threat_analyzer::cli`].
//!
//! A panic never prints a backtrace: the hook prints one line naming it an internal error, and
//! the process exits with status 2.

use std::panic;

/// mimalloc instead of glibc malloc: parsing allocates many small strings on every thread, and
/// glibc's per-thread arenas spent about a third of a `check` run growing (`mprotect`) and
/// faulting in pages (profile in benches/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Transparent huge pages off for the whole process, except for the commands in
/// [`HUGE_PAGE_COMMANDS`]: mimalloc asks for huge pages, and the kernel then backs and zeroes
/// 2 MiB at a time, memory that is mostly never used. Measured with `check --no-cache --format
/// json` (benches/README.md, *Memory*): peak resident memory dense 89 -> 58 MB, huge 533 ->
/// 459 MB. `check` has a memory budget and the language server and the MCP server run for
/// hours (the language server had them off already: ~40 MB less on dense).
fn prefer_small_pages(args: &[std::ffi::OsString]) {
    let command = args.first();
    if command.is_some_and(|c| HUGE_PAGE_COMMANDS.iter().any(|h| c == h))
        && !args.iter().any(|a| a == "--stdio")
    {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_THP_DISABLE) takes integer arguments only and changes nothing but
    // the process's transparent-huge-page flag; a failure (old kernel) leaves it as it was.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// `check` returns the pages it frees to the system at once (mimalloc's `purge_delay` 0; the
/// bundled mimalloc 3 waits 1,000 ms, longer than a whole run, so the cache writer's buffers
/// and the parse's temporaries stayed resident). Huge corpus (benches/README.md, *Memory,
/// sixth round*): peak resident memory cold 260 -> 249 MB, `--no-cache` 243 -> 239 MB, for
/// about 2-3% more CPU time; none measurable on dense. Only `check`: the servers keep the
/// default, so that edits do not pay for purging and faulting in the same pages again.
/// `MIMALLOC_PURGE_DELAY` in the environment wins (so the default stays measurable).
fn purge_freed_pages(args: &[std::ffi::OsString]) {
    unsafe extern "C" {
        /// mimalloc's `mi_option_set` (linked in by the `mimalloc` crate).
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    /// `mi_option_purge_delay` in mimalloc's `mi_option_t` (the same number in v2 and v3).
    const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
    if args.first().is_some_and(|c| c == "check")
        && !args.iter().any(|a| a == "--stdio")
        && std::env::var_os("MIMALLOC_PURGE_DELAY").is_none()
    {
        // SAFETY: sets one integer option in mimalloc's option table; any value is valid.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
}

/// The one-shot commands that render a whole model (diagrams, reports, exports) keep huge
/// pages: they have no memory budget, and with 4 KiB pages the kernel's page faults made them
/// 5-16% slower (benches/formats.py; benches/README.md, *Memory, third round*).
const HUGE_PAGE_COMMANDS: [&str; 3] = ["dfd", "report", "export"];

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    prefer_small_pages(&args);
    purge_freed_pages(&args);
    panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        // A panic message may quote a repository path or text: the terminal rule applies.
        eprintln!(
            "threat-analyzer: internal error: {}{location} (please report this at {}/issues)",
            threat_analyzer::text::for_terminal(message.lines().next().unwrap_or("")),
            env!("CARGO_PKG_REPOSITORY")
        );
    }));
    let status = panic::catch_unwind(|| {
        // Lets the tests prove that a panic ends as one line and status 2.
        if std::env::var_os("THREAT_ANALYZER_INTERNAL_TEST_PANIC").is_some() {
            panic!("test panic requested by THREAT_ANALYZER_INTERNAL_TEST_PANIC");
        }
        // The binary chooses the shell: `mcp` is the MCP server, anything else the command
        // line (which starts the language server for no command, `lsp` or `--stdio`).
        if args.first().is_some_and(|a| a == "mcp") {
            return threat_analyzer::mcp::main(&args[1..]);
        }
        threat_analyzer::cli::main()
    })
    .unwrap_or(threat_analyzer::cli::EXIT_ERROR);
    std::process::exit(status);
}
