//! `threat-analyzer mcp-pin`: records the description hash of every MCP tool the project's code
//! defines in the pin file (`mcp-tools.lock`), and the pin file's side of `check`.
//!
//! Owns: reading the pin file for `check` (through [`crate::read`]'s rule for configuration:
//! a regular file, never through a link, bounded) and writing it for `mcp-pin` (through
//! [`super::output`]). The format and the comparison are
//! [`crate::analysis::mcp_surface`]'s; the bytes are [`crate::render::mcp_pins`]'. Must
//! never: run or contact anything a configuration names.

use super::{CacheArgs, EXIT_ERROR, EXIT_OK, OutputPolicyArgs, WalkFilter, output};
use crate::analysis::mcp_surface::{self, PIN_FILE, Pins};
use crate::diagnostic::{Code, Diagnostic};
use crate::file_id::FileId;
use crate::render;
use crate::text::TextRange;
use clap::Args;
use std::path::PathBuf;

pub const MCP_PIN_AFTER_HELP: &str = "\
Writes mcp-tools.lock in the scan's base directory (the current directory when every PATH is
inside it): one line per MCP tool the code defines (Python @mcp.tool(), TypeScript
server.tool(...)/registerTool(...), Rust rmcp #[tool]) with the SHA-256 of its description.
Commit it: from then on `check` reports a tool whose description changed (mcp-tool-changed,
error), a pinned tool that is gone (mcp-tool-removed) and a tool that is not pinned
(mcp-tool-unpinned, note).

Exit status: 0 written, 2 usage or I/O error.";

#[derive(Debug, Args)]
pub struct McpPinArgs {
    /// Files or directories to read tools from.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Skip files larger than this (bytes, or with a suffix: K, KiB, KB, M, MiB, MB, G, GiB, GB).
    #[arg(long, value_name = "SIZE", default_value = "2MiB", value_parser = super::parse_size)]
    pub max_file_size: u64,

    /// Read only files matching GLOB (gitignore syntax, relative to each directory PATH).
    /// Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,

    /// Skip files and directories matching GLOB (gitignore syntax). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    #[command(flatten)]
    pub cache: CacheArgs,

    #[command(flatten)]
    pub output_policy: OutputPolicyArgs,
}

/// Runs `mcp-pin`; returns the exit status.
pub fn run(args: &McpPinArgs) -> i32 {
    let filter =
        WalkFilter { max_file_size: args.max_file_size, include: &args.include, exclude: &args.exclude };
    let mut scan = match filter.scan(&args.paths, args.cache) {
        Ok(scan) => scan,
        Err(status) => return status,
    };
    let pins = mcp_surface::pins(&scan.index);
    let path = scan.root.join(PIN_FILE);
    let written = output::write(
        &path,
        &scan.root,
        args.output_policy.requested(true),
        render::mcp_pins::render(&pins).as_bytes(),
    );
    let _ = scan.finish_cache();
    match written {
        Ok(()) => {
            let tools =
                if pins.len() == 1 { "1 MCP tool".to_string() } else { format!("{} MCP tools", pins.len()) };
            say!("threat-analyzer: pinned {tools} in {}", path.display());
            EXIT_OK
        }
        Err(message) => {
            say!("threat-analyzer: error: {message}");
            EXIT_ERROR
        }
    }
}

/// `check`'s rug-pull findings: nothing when the scan's base directory holds no pin file; an
/// `invalid-config` error when it cannot be read or used.
pub(super) fn pin_findings(scan: &crate::walk::Scan) -> Vec<Diagnostic> {
    let path = scan.root.join(PIN_FILE);
    let file = FileId::relative(PIN_FILE);
    let limit = crate::limits::MAX_CONFIG_FILE_SIZE;
    let refused = |message: String| {
        let code = Code::InvalidConfig;
        vec![Diagnostic {
            code,
            level: code.default_level(),
            message,
            file: file.clone(),
            range: TextRange::new(0, 0),
            related: Vec::new(),
            fix: None,
            unnecessary: false,
            sidecar: None,
            finding_severity: None,
        }]
    };
    let bytes = match crate::read::read_bounded(&path, limit, crate::read::Links::Refuse) {
        Ok(bytes) => bytes,
        Err(why) if why.is_missing() => return Vec::new(),
        Err(why) => {
            return refused(format!("{PIN_FILE} is not read ({why}); MCP tools are not compared with it"));
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return refused(format!("{PIN_FILE} is not UTF-8; MCP tools are not compared with it"));
    };
    match Pins::parse(&text) {
        Ok(pins) => mcp_surface::pin_diagnostics(&scan.index, &pins, &file),
        Err(why) => refused(format!("{PIN_FILE}: {why}; MCP tools are not compared with it")),
    }
}
