//! threat-analyzer never executes anything and never touches the network, whatever a
//! repository or a client's settings say.
//!
//! The argument is structural, and each part is checked here:
//!
//! 1. The binary cannot start a process or open a socket: it imports none of the C library's
//!    process (`execve`, `fork`, `posix_spawn`, `system`, `popen`, ...) or network (`socket`,
//!    `connect`, `getaddrinfo`, ...) functions, so no code path in it or in any dependency can
//!    (Rust's `std::process` and `std::net` are built on exactly these).
//! 2. Configuration (`threatspec.yaml`, the language server's settings) and annotations are
//!    data: values that look like commands or URLs are matched as globs, printed escaped, or
//!    kept as text. Runs over a project full of them, traced with `strace`, execute nothing
//!    but the binary itself and open no socket; a local listener named by those URLs is never
//!    contacted; no file a command would create appears.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/git.rs"]
mod git;
#[path = "support/mcp.rs"]
mod mcp;
#[path = "support/stdio.rs"]
mod stdio;

use serde_json::json;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// C library functions that start programs or use the network.
const FORBIDDEN: &[&str] = &[
    "execve",
    "execv",
    "execvp",
    "execvpe",
    "execl",
    "execlp",
    "execle",
    "fexecve",
    "fork",
    "vfork",
    "posix_spawn",
    "posix_spawnp",
    "system",
    "popen",
    "socket",
    "socketpair",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    "sendto",
    "sendmsg",
    "recvfrom",
    "getaddrinfo",
    "gethostbyname",
    "getnameinfo",
];

/// A program the test needs: missing is a failure under CI, a skip (with the reason) otherwise.
fn tool(name: &str) -> bool {
    let found = Command::new(name).arg("--version").output().is_ok();
    if !found {
        assert!(std::env::var_os("CI").is_none(), "{name} is required under CI (.ci/run installs it)");
        eprintln!("skipping: {name} is not installed");
    }
    found
}

/// The binary links everything the product runs, reading git (`vcs`: gitoxide's plumbing
/// crates, for `diff` and `check --baseline REF`) included: gitoxide's `gix` front end would
/// import `execvp`, `fork` and `posix_spawnp` (it can ask `git` where its configuration is).
#[test]
fn the_binary_imports_no_process_or_network_function() {
    if !tool("nm") {
        return;
    }
    assert_imports_no_forbidden_function(Path::new(&cli::bin()));
}

/// `binary`'s dynamic imports (`nm -D --undefined-only`) hold none of [`FORBIDDEN`].
fn assert_imports_no_forbidden_function(binary: &Path) {
    let out = Command::new("nm").args(["-D", "--undefined-only"]).arg(binary).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let imported: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(|s| s.split('@').next().unwrap_or(s).to_string())
        .collect();
    // The listing is real: the binary imports the file functions it does use.
    assert!(imported.iter().any(|s| s == "open64" || s == "open"), "{imported:?}");
    let found: Vec<&String> = imported.iter().filter(|s| FORBIDDEN.contains(&s.as_str())).collect();
    assert!(found.is_empty(), "{} imports {found:?}", binary.display());
}

/// A project whose configuration and annotations are full of commands and URLs, the URLs
/// pointing at `listener`.
fn hostile_project(dir: &Path, url: &str) {
    let marker = dir.join("PWNED");
    let m = marker.display();
    let run =
        [format!("$(touch {m})"), format!("`touch {m}`"), format!("; touch {m}"), format!("| touch {m}")];
    cli::write(
        dir,
        "threatspec.yaml",
        format!(
            "project:\n  name: \"{}\"\n  description: '{url}'\nimports:\n  - '{url}/imports.yaml'\n  - '{}'\npaths:\n  - path: src\n    ignore: ['{}', '{url}']\n",
            run[0], run[1], run[2]
        ),
    );
    cli::write(
        dir,
        "src/app.py",
        format!(
            "# @threat Injection (#inj) [high] -- \"{}\"\n# @exposes Shop.{{$(id)}} to #inj -- \"{url}\"\n# @flows Shop.A -> Shop.B via {url}\n# @source {url}/origin.yaml\n# @asset Shop.C -- \"{} {}\"\n",
            run[0], run[1], run[3]
        ),
    );
    cli::write(
        dir,
        "src/defs.gal",
        format!("@control Fetch (#fetch) -- \"{url}\"\n@mitigates Shop.A against #inj using #fetch\n"),
    );
}

fn assert_never_contacted(listener: &TcpListener) {
    listener.set_nonblocking(true).unwrap();
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the listener was contacted: {other:?}"),
    }
}

#[test]
fn commands_and_urls_in_configuration_and_annotations_are_never_run_or_fetched() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    hostile_project(d, &url);
    let runs: &[&[&str]] = &[
        &["check", "--format", "sarif"],
        &["check", "--include", "$(touch PWNED)", "--exclude", "http://127.0.0.1:1/x"],
        &["dfd", "--format", "svg"],
        &["report", "--format", "html", "-o", "r.html"],
        &["report", "-o", "r.md"],
        &["export", "--format", "threat-dragon", "-o", "td.json"],
        &["status", "--format", "json", "--unannotated"],
        // Last: it writes the scaffold into the project.
        &["init", "--ci", "gitlab"],
    ];
    let traced = tool("strace");
    let log = d.join("strace.log");
    for args in runs {
        let code = run_traced(traced, d, args, &log);
        assert!(matches!(code, Some(0 | 1)), "{args:?}: {code:?}");
    }
    assert!(!d.join("PWNED").exists(), "a command ran");
    assert_never_contacted(&listener);
}

/// `diff` reads git in-process: a hostile project committed and changed, and a repository
/// configuration whose hooks and helpers would run commands if `git` ran, start nothing.
#[test]
fn diff_reads_git_without_running_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let repo = git::GitRepo::new();
    let d = repo.path();
    hostile_project(d, &url);
    repo.commit("hostile", &[]);
    repo.branch("feature");
    cli::write(
        d,
        "src/more.py",
        format!("# @exposes Shop.Y to #inj -- \"$(touch {})\"\n", d.join("PWNED").display()),
    );
    // Set last: from here on the test runs no `git` itself, which would obey these.
    let marker = d.join("PWNED");
    arm_git_config(d, &marker, &url);
    let runs: &[&[&str]] = &[
        &["diff", "--no-cache", "--format", "sarif"],
        &["diff", "HEAD", "--format", "markdown", "--link-base", url.as_str()],
        &["diff", "main", "--head", "feature", "--no-cache", "--format", "json"],
    ];
    let traced = tool("strace");
    let log = repo.scratch().join("strace.log");
    for args in runs {
        let code = run_traced(traced, d, args, &log);
        assert!(matches!(code, Some(0 | 1)), "{args:?}: {code:?}");
    }
    assert!(!marker.exists(), "a command ran");
    assert_never_contacted(&listener);
}

#[test]
fn the_language_server_runs_and_fetches_nothing_its_settings_or_commands_name() {
    let session = Session::new();
    let (d, url, evil) = (session.dir.path(), session.url.clone(), session.evil.clone());
    let mut server = stdio::StdioServer::start_wrapped(
        d,
        Some(d),
        &[("XDG_CACHE_HOME", session.cache.to_str().unwrap())],
        &session.wrapper,
    );
    let settings = json!({"threatAnalyzer": {
        "severity": {evil.clone(): "off", "unused-definition": evil.clone()},
        "include": [evil.clone(), url.clone()], "exclude": [format!("{url}/x")],
        "maxFileSize": 1_000_000, "codeActionDialect": evil.clone()}});
    server.notify("workspace/didChangeConfiguration", json!({"settings": settings}));
    let uri =
        tower_lsp_server::ls_types::Uri::from_file_path(d.join("src/app.py")).unwrap().as_str().to_string();
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1,
               "text": format!("# @exposes Shop.X to #inj -- \"{evil} {url}\"\n")}}),
    );
    for (command, arguments) in [
        ("threat-analyzer.dfd", json!([{"format": "svg", "scope": {"file": format!("{url}/app.py")}}])),
        ("threat-analyzer.showDfd", json!([{"scope": {"component": evil}}])),
        ("threat-analyzer.reindex", json!([])),
        (evil.as_str(), json!([url])),
    ] {
        server.request("workspace/executeCommand", json!({"command": command, "arguments": arguments}));
    }
    server.request("workspace/symbol", json!({"query": url}));
    let hover = server.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 25}}),
    );
    assert!(hover.get("result").is_some(), "{hover}");
    server.stop();
    session.assert_nothing_ran();
}

/// `threat-analyzer mcp` answering a whole session (every tool, every resource, an edit on
/// disk) on the hostile project, with the cache on, starts nothing and contacts nothing.
#[test]
fn the_mcp_server_runs_and_fetches_nothing_a_session_names() {
    let session = Session::new();
    let (d, url, evil) = (session.dir.path(), session.url.clone(), session.evil.clone());
    let mut server = mcp::McpServer::start_with(
        d,
        &session.wrapper,
        &["--allow-edits"],
        "2025-06-18",
        &[("THREAT_ANALYZER_CACHE_DIR", session.cache.to_str().unwrap())],
    );
    let calls = [
        ("summary", json!({})),
        ("query", json!({"query": format!("threats for {evil}")})),
        ("query", json!({"query": format!("path {url} to {evil}")})),
        ("file_context", json!({"path": "src/app.py"})),
        ("file_context", json!({"path": url.clone()})),
        ("entity", json!({"name": evil.clone()})),
        ("check", json!({"path": evil.clone()})),
        ("dfd", json!({"component": url.clone()})),
    ];
    for (name, arguments) in calls {
        server.tool(name, arguments);
    }
    // Not a git repository, and no such revision: answered without running git.
    for (name, arguments) in [
        ("diff", json!({"base": evil.clone(), "head": url.clone()})),
        (
            "propose_annotation_edit",
            json!({"path": "src/app.py", "lines": format!("@accepts #inj on {evil}")}),
        ),
    ] {
        let refused = server.request("tools/call", json!({"name": name, "arguments": arguments}));
        assert_eq!(refused["result"]["isError"], json!(true), "{refused}");
    }
    server.tool(
        "propose_annotation_edit",
        json!({"path": "src/app.py", "lines": format!("@audit Shop.X -- \"{evil}\"")}),
    );
    cli::write(d, "src/app.py", format!("# @exposes Shop.Z to #inj -- \"{evil} {url}\"\n"));
    server.tool("file_context", json!({"path": "src/app.py"}));
    for uri in [
        "threat-analyzer://model.json",
        "threat-analyzer://open-exposures.json",
        "threat-analyzer://report.md",
    ] {
        let read = server.request("resources/read", json!({"uri": uri}));
        assert!(read["result"].is_object(), "{read}");
    }
    let (status, stderr) = server.close();
    assert!(status.success(), "{status:?}: {stderr}");
    session.assert_nothing_ran();
}

/// A traced server session on the hostile project: a listener that must never be contacted
/// (`url`), a command that must never run (`evil` touches `marker`), and the `strace` wrapper
/// when strace is installed.
struct Session {
    listener: TcpListener,
    url: String,
    dir: tempfile::TempDir,
    marker: PathBuf,
    evil: String,
    log: PathBuf,
    traced: bool,
    wrapper: Vec<String>,
    cache: PathBuf,
}

impl Session {
    fn new() -> Session {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let dir = tempfile::tempdir().unwrap();
        hostile_project(dir.path(), &url);
        let marker = dir.path().join("PWNED");
        let evil = format!("$(touch {})", marker.display());
        let log = dir.path().join("strace.log");
        let traced = tool("strace");
        let wrapper = if traced { strace_args(&log) } else { Vec::new() };
        let cache = dir.path().join("cache");
        Session { listener, url, dir, marker, evil, log, traced, wrapper, cache }
    }

    /// After the server ended: only the binary ran (when traced), no command, no connection.
    fn assert_nothing_ran(&self) {
        if self.traced {
            assert_only_the_binary_ran(&self.log);
        }
        assert!(!self.marker.exists(), "a command ran");
        assert_never_contacted(&self.listener);
    }
}

/// Adds to the repository's `.git/config` settings that would run a command touching
/// `marker` (fsmonitor, sshCommand, diff.external) or fetch from `url` (hooksPath, a remote) if
/// `git` ran in it. Call it last: from then on the test itself must run no `git`.
fn arm_git_config(repo: &Path, marker: &Path, url: &str) {
    let config = repo.join(".git/config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "[core]\n\tfsmonitor = touch {m}\n\tsshCommand = touch {m}\n\thooksPath = {url}\n[diff]\n\texternal = touch {m}\n\
         [remote \"origin\"]\n\turl = {url}/repo.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
        m = marker.display()
    ));
    std::fs::write(&config, text).unwrap();
}

/// Runs the binary with `args` in `dir` (under `strace` logging to `log` when `traced`, then
/// asserting it started nothing else); returns its exit status.
fn run_traced(traced: bool, dir: &Path, args: &[&str], log: &Path) -> Option<i32> {
    if !traced {
        return Some(cli::run(dir, args).code);
    }
    let wrapper = strace_args(log);
    let out = Command::new(&wrapper[0])
        .args(&wrapper[1..])
        .arg(cli::bin())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert_only_the_binary_ran(log);
    out.status.code()
}

/// `strace` and its arguments: follow threads, log program starts and sockets to `log`.
fn strace_args(log: &Path) -> Vec<String> {
    ["strace", "-f", "-qq", "-e", "trace=execve,execveat,socket,connect", "-o"]
        .iter()
        .map(|s| s.to_string())
        .chain([log.display().to_string()])
        .collect()
}

/// The `strace` log holds one traced call: the binary's own start. (Lines such as
/// `123 ???( <detached ...>` are strace's notes on threads, not calls.)
fn assert_only_the_binary_ran(log: &Path) {
    let text = std::fs::read_to_string(log).unwrap();
    let calls: Vec<&str> = text
        .lines()
        .filter(|l| ["execve(", "execveat(", "socket(", "connect("].iter().any(|c| l.contains(c)))
        .collect();
    assert_eq!(calls.len(), 1, "{text}");
    assert!(calls[0].contains("execve(") && calls[0].contains("threat-analyzer"), "{calls:?}");
    std::fs::remove_file(log).unwrap();
}

/// `check --baseline REF` reads git in-process: a hostile project committed and changed, a
/// repository configuration whose hooks and helpers would run commands if `git` ran, and a
/// revision spelled as a command, start nothing.
#[test]
fn check_baseline_reads_git_without_running_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let repo = git::GitRepo::new();
    let d = repo.path();
    hostile_project(d, &url);
    repo.commit("hostile", &[]);
    let marker = d.join("PWNED");
    cli::write(d, "src/more.py", format!("# @exposes Shop.Y to #inj -- \"$(touch {})\"\n", marker.display()));
    // Set last: from here on the test runs no `git` itself, which would obey these.
    arm_git_config(d, &marker, &url);
    let evil = format!("$(touch {})", marker.display());
    let runs: &[(&[&str], i32)] = &[
        (&["check", "--baseline", "HEAD", "--format", "sarif"], 1),
        (&["check", "--baseline", "main", "--format", "json", "--no-cache"], 1),
        (&["check", "--baseline", evil.as_str()], 2),
        (&["check", "--baseline", "origin/main"], 2),
    ];
    let traced = tool("strace");
    let log = repo.scratch().join("strace.log");
    for (args, expected) in runs {
        assert_eq!(run_traced(traced, d, args, &log), Some(*expected), "{args:?}");
    }
    assert!(!marker.exists(), "a command ran");
    assert_never_contacted(&listener);
}
