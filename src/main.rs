//! The `threat-analyzer` binary: a panic-proof shell around [`threat_analyzer::cli`].
//!
//! A panic never prints a backtrace: the hook prints one line naming it an internal error, and
//! the process exits with status 2.

use std::alloc::{GlobalAlloc, Layout};
use std::panic;

/// mimalloc instead of glibc malloc: parsing allocates many small strings on every thread, and
/// glibc's per-thread arenas spent about a third of a `check` run growing (`mprotect`) and
/// faulting in pages (profile in benches/README.md).
#[global_allocator]
static GLOBAL: Allocator = Allocator;

/// mimalloc, asked through its plain entry points where the alignment allows. The `mimalloc`
/// crate's allocator calls `mi_malloc_aligned` for every allocation, whose checks cost more
/// instructions per call than `mi_malloc`'s (callgrind of `check --no-cache --format json`:
/// dense 220.4M -> 215.8M instructions, mixed 443.9M -> 435.0M, huge 2,181.4M -> 2,140.4M).
/// Nearly all of this program's allocations (strings, vectors of bytes, of integers, of
/// pointers) need no more than 8-byte alignment, which every mimalloc block has (block sizes
/// are multiples of the word size, and a page's first block is 16-byte aligned); a larger
/// alignment goes to the crate's allocator, as before.
struct Allocator;

/// The alignment every block `mi_malloc` returns has: its word size.
const PLAIN_ALIGN: usize = std::mem::size_of::<usize>();

unsafe extern "C" {
    /// mimalloc's `mi_malloc` (linked in by the `mimalloc` crate).
    fn mi_malloc(size: usize) -> *mut std::ffi::c_void;
    /// mimalloc's `mi_zalloc`: `mi_malloc`, zero-filled.
    fn mi_zalloc(size: usize) -> *mut std::ffi::c_void;
    /// mimalloc's `mi_realloc`.
    fn mi_realloc(p: *mut std::ffi::c_void, newsize: usize) -> *mut std::ffi::c_void;
    /// mimalloc's `mi_option_set` (`option`: the position in mimalloc's `mi_option_e`; the
    /// `mimalloc` crate's list stops before the one used here).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay`'s position in mimalloc v3's `mi_option_e` (the `libmimalloc-sys`
/// version in Cargo.lock): the milliseconds a freed page waits before it is given back to
/// the OS; -1 never. A test pins it by its default.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// A one-shot command never gives memory back to the OS before it exits. With the default
/// delay (1,000 ms, longer than a `check`) nothing was given back during a run anyway, but
/// the pages purged when a thread ended, and, at exit, every page waiting for its delay (the
/// main thread's collection in `mi_process_done`): ~200 `madvise` calls, each unmapping
/// pages and interrupting the other core to flush its TLB, serially after the output was
/// written, for memory the OS takes back at exit anyway. The servers (no command, `lsp`,
/// `--stdio`, `mcp`) run for hours and keep purging.
fn never_purge_in_one_shot_commands(args: &[std::ffi::OsString]) {
    let server = args.first().is_none_or(|command| command == "lsp" || command == "mcp")
        || args.iter().any(|a| a == "--stdio");
    if !server {
        // SAFETY: sets one of mimalloc's integer options; any value is valid for it.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

// SAFETY: every path returns a block of mimalloc's of at least the layout's size and
// alignment, or null: `mi_malloc`, `mi_zalloc` and `mi_realloc` only where the alignment is at
// most `PLAIN_ALIGN`, which all their blocks have; otherwise the `mimalloc` crate's aligned
// calls. Every block is freed by `mi_free` (the crate's `dealloc`), whichever call made it.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= PLAIN_ALIGN {
            // SAFETY: see the impl's comment.
            unsafe { mi_malloc(layout.size()).cast() }
        } else {
            // SAFETY: the caller's contract, passed on.
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= PLAIN_ALIGN {
            // SAFETY: see the impl's comment.
            unsafe { mi_zalloc(layout.size()).cast() }
        } else {
            // SAFETY: the caller's contract, passed on.
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on (`mi_free` frees any mimalloc block).
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= PLAIN_ALIGN {
            // SAFETY: see the impl's comment; `ptr` is a mimalloc block (the caller's contract).
            unsafe { mi_realloc(ptr.cast(), new_size).cast() }
        } else {
            // SAFETY: the caller's contract, passed on.
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}

/// Transparent huge pages off for the whole process, except for the commands in
/// [`HUGE_PAGE_COMMANDS`]: mimalloc asks for huge pages, and the kernel then backs and zeroes
/// 2 MiB at a time, memory that is mostly never used. Measured with `check --no-cache --format
/// json` (benches/README.md, *Memory*): peak resident memory dense 89 -> 58 MB, huge 533 ->
/// 459 MB. `check` has a memory budget and the language server and the MCP server run for
/// hours (the language server had them off already: ~40 MB less on dense).
///
/// Decided before `main`, where glibc allows ([`PAGE_POLICY_BEFORE_MAIN`]): the runtime's first
/// allocation, before `main`, made mimalloc reserve its arena (advised for huge pages) and
/// fault in its first 2 MiB page, zeroing it: on this project's benchmark machine that was a
/// quarter of an empty `check`'s CPU time (perf, 40 runs). `main` asks again (other targets;
/// asking twice changes nothing).
fn prefer_small_pages<'a>(args: impl Iterator<Item = &'a [u8]>) {
    if keeps_huge_pages(args) {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_THP_DISABLE) takes integer arguments only and changes nothing but
    // the process's transparent-huge-page flag; a failure (old kernel) leaves it as it was.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Whether a run with these arguments (the program's name left out) keeps huge pages: one of
/// [`HUGE_PAGE_COMMANDS`], not as a language server (`--stdio`). Allocates nothing: it runs
/// before `main` too.
fn keeps_huge_pages<'a>(mut args: impl Iterator<Item = &'a [u8]>) -> bool {
    let command = args.next();
    command.is_some_and(|c| HUGE_PAGE_COMMANDS.iter().any(|h| c == h.as_bytes()))
        && !args.any(|a| a == b"--stdio")
}

/// [`prefer_small_pages`] run by glibc before anything else of the program's, with the
/// program's arguments (glibc passes `argc`, `argv` and `envp` to `.init_array` functions, as
/// the standard library's own argument capture relies on).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[used]
#[unsafe(link_section = ".init_array")]
static PAGE_POLICY_BEFORE_MAIN: extern "C" fn(
    std::ffi::c_int,
    *const *const std::ffi::c_char,
    *const *const std::ffi::c_char,
) = page_policy_before_main;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" fn page_policy_before_main(
    argc: std::ffi::c_int,
    argv: *const *const std::ffi::c_char,
    _env: *const *const std::ffi::c_char,
) {
    let count = usize::try_from(argc).unwrap_or(0);
    if argv.is_null() {
        return;
    }
    // SAFETY: glibc hands `.init_array` functions the `argv` of `main`: `argc` pointers to
    // NUL-terminated strings that live as long as the process.
    let args = (1..count).map(|i| unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) }.to_bytes());
    prefer_small_pages(args);
}

/// The one-shot commands that render a whole model (diagrams, reports, exports) keep huge
/// pages: they have no memory budget, and with 4 KiB pages the kernel's page faults made them
/// 5-16% slower (benches/formats.py; benches/README.md, *Memory, third round*).
const HUGE_PAGE_COMMANDS: [&str; 3] = ["dfd", "report", "export"];

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    prefer_small_pages(args.iter().map(|a| a.as_encoded_bytes()));
    // Pages freed during a one-shot run are reused, not returned and faulted in again.
    // `check` used to purge at once for its memory budget; measured again (benches/README.md,
    // eighteenth sitting): huge cold 407.6 -> 380.8 ms, warm mixed 35.5 -> 33.5 ms, peak RSS
    // huge 226 -> 238 MB (budget 250). Since the twenty-ninth sitting, one-shot commands never
    // purge at all (benches/README.md, twenty-ninth sitting).
    never_purge_in_one_shot_commands(&args);
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

#[cfg(test)]
mod tests {
    use std::alloc::{Layout, alloc, alloc_zeroed, dealloc, realloc};

    /// `MI_OPTION_PURGE_DELAY` names mimalloc's purge delay: its default is the documented
    /// 1,000 ms (no other option of the first twenty has that default), and it can be set.
    #[test]
    fn the_purge_delay_option_is_mimallocs() {
        unsafe extern "C" {
            /// mimalloc's `mi_option_get`.
            fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
        }
        // SAFETY: reads and sets one of mimalloc's integer options.
        unsafe {
            assert_eq!(mi_option_get(super::MI_OPTION_PURGE_DELAY), 1000);
            super::mi_option_set(super::MI_OPTION_PURGE_DELAY, 999);
            assert_eq!(mi_option_get(super::MI_OPTION_PURGE_DELAY), 999);
            super::mi_option_set(super::MI_OPTION_PURGE_DELAY, 1000);
        }
    }

    /// The huge-page rule: the rendering commands keep them, not as a language server;
    /// everything else (and no command at all) gives them up.
    #[test]
    fn only_the_rendering_commands_keep_huge_pages() {
        let keeps = |args: &[&str]| super::keeps_huge_pages(args.iter().map(|a| a.as_bytes()));
        assert!(keeps(&["dfd"]) && keeps(&["report", "--format", "html"]) && keeps(&["export", "x"]));
        assert!(!keeps(&[]) && !keeps(&["check", "."]) && !keeps(&["lsp"]) && !keeps(&["mcp"]));
        assert!(!keeps(&["dfd", "--stdio"]) && !keeps(&["--stdio"]) && !keeps(&["check", "dfd"]));
    }

    /// The page policy is set before `main`: this test binary's `main` is the test harness's,
    /// which never calls `prefer_small_pages`, yet the process's huge-page flag is what the
    /// rule says for its own arguments (glibc's `.init_array` call did it).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn huge_pages_are_decided_before_main() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let enabled = status.lines().find_map(|l| l.strip_prefix("THP_enabled:")).map(str::trim);
        let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
        let keeps = super::keeps_huge_pages(args.iter().map(|a| a.as_encoded_bytes()));
        assert_eq!(enabled, Some(if keeps { "1" } else { "0" }), "{status}");
    }

    /// Every block the global allocator hands out has the layout's alignment, whichever entry
    /// point (plain or aligned) served it, and keeps its bytes when it grows: the sizes cover
    /// mimalloc's small, medium and large blocks, and the odd word multiples (8, 24, 40) that
    /// a 16-byte alignment cannot take from the plain entry points.
    #[test]
    fn blocks_have_their_layouts_alignment_and_keep_their_bytes() {
        let sizes = (1..=130).chain([1000, 4095, 4096, 70_000, 600_000, 3_000_000]);
        for size in sizes {
            for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a non-zero size; each block is freed with its layout below.
                unsafe {
                    let zeroed = alloc_zeroed(layout);
                    assert!(!zeroed.is_null());
                    assert_eq!(zeroed as usize % align, 0, "zeroed {size} bytes, align {align}");
                    assert!(std::slice::from_raw_parts(zeroed, size).iter().all(|&b| b == 0));
                    dealloc(zeroed, layout);

                    let block = alloc(layout);
                    assert!(!block.is_null());
                    assert_eq!(block as usize % align, 0, "{size} bytes, align {align}");
                    for i in 0..size {
                        block.add(i).write(i as u8);
                    }
                    let grown = realloc(block, layout, size * 3 + 8);
                    assert!(!grown.is_null());
                    assert_eq!(grown as usize % align, 0, "grown from {size}, align {align}");
                    assert!((0..size).all(|i| grown.add(i).read() == i as u8));
                    dealloc(grown, Layout::from_size_align(size * 3 + 8, align).unwrap());
                }
            }
        }
    }
}
