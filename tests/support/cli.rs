//! Shared helpers for the tests that run the built binary (`tests/cli/` and others; included
//! with `#[path]`; no tests of its own).
#![allow(dead_code)]

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_threat-analyzer");

/// The binary under test: [`BIN`], or the copy named by `THREAT_ANALYZER_TEST_BIN` (for
/// machines where several checkouts share one target directory, and so one uplifted binary).
pub fn bin() -> String {
    std::env::var("THREAT_ANALYZER_TEST_BIN").unwrap_or_else(|_| BIN.to_string())
}

/// The summary keys of the JSON output: `analysis::Summary`'s fields, which are public API.
pub const SUMMARY_KEYS: [&str; 19] = [
    "acceptances",
    "annotations",
    "assets",
    "assumptions",
    "boundaries",
    "confirmed",
    "controls",
    "errors",
    "exposures",
    "files_scanned",
    "files_with_annotations",
    "flows",
    "mitigations",
    "notes",
    "reviews",
    "tests",
    "threats",
    "transfers",
    "warnings",
];

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }
}

/// Runs the binary in `dir`; a run that has not finished after 60 s is killed and fails the
/// test (a guard against hangs such as symlink loops, not a timing assertion).
pub fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_wrapped(dir, &[], args, env)
}

/// [`run_env`] with the binary run by `wrapper` (a program and its arguments, e.g. `prlimit
/// --as=BYTES` to cap its memory), when not empty.
pub fn run_wrapped(dir: &Path, wrapper: &[&str], args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = match wrapper.split_first() {
        Some((program, wrapper_args)) => {
            let mut cmd = Command::new(program);
            cmd.args(wrapper_args).arg(bin());
            cmd
        }
        None => Command::new(bin()),
    };
    cmd.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("THREAT_ANALYZER_INTERNAL_TEST_PANIC");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (status, stdout, stderr) = finish(cmd, &format!("threat-analyzer {args:?}"), Duration::from_secs(60));
    Run { code: status.code().expect("exited normally, not by a signal"), stdout, stderr }
}

/// Runs `cmd` with its standard output and error captured; one that has not finished after
/// `timeout` is killed and fails the test. Returns its status, standard output and error.
pub fn finish(mut cmd: Command, what: &str, timeout: Duration) -> (std::process::ExitStatus, String, String) {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).map(|_| s)
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).map(|_| s)
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status, out_t.join().unwrap().expect("stdout is UTF-8"), err_t.join().unwrap().expect("stderr is UTF-8"))
}

pub fn run(dir: &Path, args: &[&str]) -> Run {
    run_env(dir, args, &[])
}

/// Writes `bytes` to `dir/rel`, creating parent directories.
pub fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli").join(name)
}

pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `check --format json` in `dir`; returns the run and its `summary.files_scanned`.
pub fn files_scanned(dir: &Path, extra: &[&str]) -> (Run, u64) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let r = run(dir, &args);
    assert!(r.code == 0 || r.code == 1, "{r:?}");
    let n = r.json()["summary"]["files_scanned"].as_u64().unwrap();
    (r, n)
}

/// The `skipped PATH: reason` lines of a `--verbose` run.
pub fn skipped_lines(r: &Run) -> Vec<&str> {
    r.stderr.lines().filter(|l| l.starts_with("skipped ")).collect()
}

#[path = "schemas.rs"]
pub mod schemas;

/// The SARIF 2.1.0 schema's file name (see [`schemas`] for where it comes from).
pub const SARIF_SCHEMA: &str = "sarif-2.1.0.schema.json";

pub fn assert_valid_sarif(log: &Value) {
    schemas::assert_valid(SARIF_SCHEMA, log);
}

#[path = "sarif_multitool.rs"]
pub mod sarif_multitool;
