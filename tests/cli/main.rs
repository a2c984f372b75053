//! The command line through the built binary (`check`, its baselines, `dfd`, `diff`, `export`, `status`, `init`, exit
//! statuses, which files are read, output formats, sidecars, the shipped examples). One test binary: each
//! module was a test file of its own (`tests/cli_*.rs`), and every test binary costs a link.

#[path = "../support/git.rs"]
mod git;
#[path = "../support/cli.rs"]
mod support;

mod agent_text;
mod baseline;
mod dfd;
mod diff;
mod examples;
mod exit;
mod export;
mod findings;
mod infra;
mod infra_apply;
mod init;
mod mcp_surface;
mod output;
mod sidecar;
mod status;
mod unmodelled;
mod walk;
