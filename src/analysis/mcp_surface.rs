//! The project's MCP surface as a whole: every server its client configurations name and every
//! tool its code defines, and the checks that need all of them.
//!
//! Owns: the list of servers and tools ([`servers`], [`tools`], in file order), the
//! `mcp-tool-shadowing` check (a tool description that mentions other tools or servers), and
//! the pin file (`mcp-tools.lock`, [`PIN_FILE`]): a tool's key and description hash
//! ([`pin_of`]), reading the file back ([`Pins::parse`]; `render::mcp_pins` writes it) and
//! comparing it with the project ([`pin_diagnostics`]: `mcp-tool-changed`, `mcp-tool-removed`,
//! `mcp-tool-unpinned`). The file-local checks (hidden instructions, shell strings, unpinned
//! packages, plain http, secrets) are `syntax::mcp`'s. Must never: do I/O (the `cli` reads the
//! pin file and hands its text over).
//!
//! # The pin file
//!
//! `mcp-tools.lock` in the scan's base directory (where reported paths are relative to), one
//! JSON object, written by `threat-analyzer mcp-pin`:
//!
//! ```json
//! {
//!   "version": 1,
//!   "tools": [
//!     { "file": "src/server.py", "name": "add", "sha256": "<hex of the description's UTF-8>" }
//!   ]
//! }
//! ```
//!
//! A tool is keyed by its file (relative, `/`-separated) and name; `sha256` hashes its
//! description exactly as the server would send it (a tool without one hashes the empty
//! text). Entries are sorted by file, then name, one per line, so the file is deterministic and
//! reviews well. Any other `version` is refused; other keys are ignored.

use super::diagnostics::diag;
use crate::diagnostic::{Code, Diagnostic};
use crate::file_id::FileId;
use crate::model::ProjectIndex;
use crate::syntax::mcp::{Server, Tool};
use crate::text::{self, TextRange};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The pin file's name, in the scan's base directory.
pub const PIN_FILE: &str = "mcp-tools.lock";
/// The format version this build writes and reads.
pub const PIN_VERSION: u64 = 1;

/// Every server of the project's client configurations, with its file, in file order.
pub fn servers(index: &ProjectIndex) -> Vec<(&FileId, &Server)> {
    index.files().flat_map(|f| f.parsed.mcp().servers.iter().map(move |s| (&f.path, s))).collect()
}

/// Every MCP tool the project's code defines, with its file, in file order.
pub fn tools(index: &ProjectIndex) -> Vec<(&FileId, &Tool)> {
    index.files().flat_map(|f| f.parsed.mcp().tools.iter().map(move |t| (&f.path, t))).collect()
}

/// The node key of the agent (the MCP client's model) in the threat model: an actor. Keys
/// holding `@` are never an asset's path key.
pub const AGENT_KEY: &str = "@mcp:agent";
/// The agent's label.
pub const AGENT_LABEL: &str = "AI agent (MCP client)";
/// The key of the trust boundary between the agent and the MCP servers it calls.
pub const AGENT_BOUNDARY_KEY: &str = "@mcp:agent-boundary";
/// That boundary's title.
pub const AGENT_BOUNDARY_TITLE: &str = "agent (MCP)";

/// One MCP server of the project as the threat model sees it: a process that the agent (an
/// actor) reaches across the `agent` trust boundary, with its tools as entry points (each an
/// implicit asset with a location).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McpProcess<'a> {
    /// Unique among processes and never an asset's path key (it holds `@`).
    pub key: String,
    /// Repository text: the server's name, or the file whose code defines the tools.
    pub label: String,
    /// Where it is declared: the configuration entry, or the file defining the tools.
    pub file: &'a FileId,
    pub range: TextRange,
    /// How the agent reaches it: `stdio`, or the remote `type` (`http` when none is given).
    pub transport: String,
    /// The tools it offers, in file order (empty for a configured server: its tools are not in
    /// the repository).
    pub entry_points: Vec<&'a Tool>,
}

/// The project's MCP processes: every configured server, then one server per file that
/// defines tools, in file order.
pub fn processes(index: &ProjectIndex) -> Vec<McpProcess<'_>> {
    let mut out = Vec::new();
    for facts in index.files() {
        let surface = facts.parsed.mcp();
        for server in &surface.servers {
            let transport = match (&server.url, &server.transport) {
                (None, _) => "stdio".to_string(),
                (Some(_), Some(t)) => t.clone(),
                (Some(_), None) => "http".to_string(),
            };
            out.push(McpProcess {
                key: format!("@mcp:server:{}:{}", facts.path.as_str(), server.name.value),
                label: server.name.value.clone(),
                file: &facts.path,
                range: server.name.range,
                transport,
                entry_points: Vec::new(),
            });
        }
        if let Some(first) = surface.tools.first() {
            out.push(McpProcess {
                key: format!("@mcp:code:{}", facts.path.as_str()),
                label: format!("MCP server in {}", index.shown_path(facts.path.as_str())),
                file: &facts.path,
                range: first.range,
                transport: "stdio".to_string(),
                entry_points: surface.tools.iter().collect(),
            });
        }
    }
    out
}

/// One entry of the pin file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pin {
    pub file: String,
    pub name: String,
    pub sha256: String,
}

/// A tool's pin: its key (file and name as every machine-readable output shows them,
/// [`text::for_machine`]) and the SHA-256 of its description.
pub fn pin_of(file: &FileId, tool: &Tool) -> Pin {
    let description = tool.description.as_ref().map_or("", |d| d.value.as_str());
    let digest = Sha256::digest(description.as_bytes());
    Pin {
        file: text::for_machine(file.as_str()).into_owned(),
        name: text::for_machine(&tool.name.value).into_owned(),
        sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// The pins of every tool of the project, sorted by file and name (one per key: the first).
pub fn pins(index: &ProjectIndex) -> Vec<Pin> {
    let mut by_key = BTreeMap::new();
    for (file, tool) in tools(index) {
        let pin = pin_of(file, tool);
        by_key.entry((pin.file.clone(), pin.name.clone())).or_insert(pin);
    }
    by_key.into_values().collect()
}

/// A pin file read back: each pin with the range of its line in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pins {
    /// `(file, name)` -> hash, the range of its line and the line's number (1-based).
    pins: BTreeMap<(String, String), (String, TextRange, usize)>,
}

#[derive(Deserialize)]
struct Document {
    version: u64,
    tools: Vec<Pin>,
}

impl Pins {
    /// Reads a pin file's text; why it cannot be used otherwise.
    pub fn parse(text: &str) -> Result<Pins, String> {
        let document: Document = serde_json::from_str(text).map_err(|e| format!("not a pin file: {e}"))?;
        if document.version != PIN_VERSION {
            return Err(format!("pin file version {} (this build reads {PIN_VERSION})", document.version));
        }
        let mut pins = BTreeMap::new();
        for pin in document.tools {
            let (range, line) = entry_line(text, &pin);
            pins.insert((pin.file, pin.name), (pin.sha256, range, line));
        }
        Ok(Pins { pins })
    }
}

/// The range and number of the line holding `pin`'s entry (as `render::mcp_pins` writes
/// it), else the file's start. The pin file is not in the index: messages name the line.
fn entry_line(text: &str, pin: &Pin) -> (TextRange, usize) {
    let file = serde_json::to_string(&pin.file).unwrap_or_default();
    let name = serde_json::to_string(&pin.name).unwrap_or_default();
    let mut at = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if line.contains(&file) && line.contains(&name) {
            let trimmed = line.trim_end();
            let start = at + (trimmed.len() - trimmed.trim_start().len());
            return (TextRange::new(start, at + trimmed.len()), n + 1);
        }
        at += line.len();
    }
    (TextRange::new(0, 0), 1)
}

/// The rug-pull check: each tool whose description changed since it was pinned, each pinned
/// tool that is gone (reported at its line of the pin file `pin_file`), each tool not pinned.
pub fn pin_diagnostics(index: &ProjectIndex, pins: &Pins, pin_file: &FileId) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (file, tool) in tools(index) {
        let pin = pin_of(file, tool);
        let key = (pin.file, pin.name);
        if !seen.insert(key.clone()) {
            continue;
        }
        let name = &tool.name.value;
        match pins.pins.get(&key) {
            Some((hash, _, _)) if *hash == pin.sha256 => {}
            Some(_) => out.push(diag(
                Code::McpToolChanged,
                file,
                tool.description.as_ref().map_or(tool.name.range, |d| d.range),
                format!(
                    "the description of MCP tool `{name}` changed since it was pinned in {PIN_FILE}: review it, then run `threat-analyzer mcp-pin`"
                ),
            )),
            None => out.push(diag(
                Code::McpToolUnpinned,
                file,
                tool.name.range,
                format!("MCP tool `{name}` is not pinned in {PIN_FILE}: review its description, then run `threat-analyzer mcp-pin`"),
            )),
        }
    }
    for ((file, name), (_, range, line)) in &pins.pins {
        if !seen.contains(&(file.clone(), name.clone())) {
            out.push(diag(
                Code::McpToolRemoved,
                pin_file,
                *range,
                format!(
                    "pinned MCP tool `{name}` of {file} (line {line} of {PIN_FILE}) is no longer defined: run `threat-analyzer mcp-pin`"
                ),
            ));
        }
    }
    out
}

/// `mcp-tool-shadowing`: a tool description that names another tool or server of the project
/// (a whole word, when the name is distinctive: it holds `_`, `-` or `.`, is quoted, or
/// `tool`/`server` is next to it), or speaks of tools and servers in general ("other tools",
/// "any tool", "all servers").
pub(super) fn shadowing(index: &ProjectIndex, out: &mut Vec<Diagnostic>) {
    let tools = tools(index);
    if tools.is_empty() {
        return;
    }
    let mut names: Vec<(&str, &str)> = tools.iter().map(|(_, t)| (t.name.value.as_str(), "tool")).collect();
    let servers = servers(index);
    names.extend(servers.iter().map(|(_, s)| (s.name.value.as_str(), "server")));
    names.retain(|(n, _)| n.chars().count() >= 3);
    for (file, tool) in &tools {
        let Some(description) = &tool.description else { continue };
        let words = words(&description.value);
        let mention = names
            .iter()
            .filter(|(n, _)| *n != tool.name.value)
            .find(|(n, _)| mentions(&description.value, &words, n))
            .map(|(n, kind)| format!("names the {kind} `{n}`"))
            .or_else(|| general_mention(&words).map(|(a, b)| format!("speaks of `{a} {b}`")));
        if let Some(what) = mention {
            out.push(diag(
                Code::McpToolShadowing,
                file,
                description.range,
                format!(
                    "the description of MCP tool `{}` {what}: a description that tells the agent how to use other tools can take calls meant for them (shadowing)",
                    tool.name.value
                ),
            ));
        }
    }
}

/// The words of a text, lower-cased, with their byte offsets (`_`, `-` and `.` inside a word
/// are part of it).
fn words(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut start = None;
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(at, c)) in bytes.iter().enumerate() {
        let inner_dot = c == '.' && start.is_some() && bytes.get(i + 1).is_some_and(|(_, n)| is_word(*n));
        if is_word(c) || inner_dot {
            start.get_or_insert(at);
        } else if let Some(s) = start.take() {
            out.push((s, text[s..at].to_lowercase()));
        }
    }
    if let Some(s) = start {
        out.push((s, text[s..].to_lowercase()));
    }
    out
}

fn mentions(text: &str, words: &[(usize, String)], name: &str) -> bool {
    let lower = name.to_lowercase();
    let distinctive = lower.contains(['_', '-', '.']);
    words.iter().enumerate().any(|(i, (at, w))| {
        if *w != lower {
            return false;
        }
        let quoted = text[..*at].ends_with(['`', '\'', '"']);
        let near = |j: Option<usize>| {
            j.and_then(|j| words.get(j))
                .is_some_and(|(_, w)| matches!(w.as_str(), "tool" | "tools" | "server"))
        };
        distinctive || quoted || near(i.checked_sub(1)) || near(Some(i + 1))
    })
}

fn general_mention(words: &[(usize, String)]) -> Option<(&str, &str)> {
    words.windows(2).find_map(|w| {
        let (a, b) = (w[0].1.as_str(), w[1].1.as_str());
        (matches!(a, "other" | "another" | "all" | "any" | "every")
            && matches!(b, "tool" | "tools" | "server" | "servers"))
        .then_some((a, b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_identifiers_whole() {
        let w: Vec<String> =
            words("Use read_file.v2 instead, then `x`.").into_iter().map(|(_, w)| w).collect();
        assert_eq!(w, ["use", "read_file.v2", "instead", "then", "x"]);
    }

    #[test]
    fn plain_words_are_not_mentions_but_distinctive_names_are() {
        let text = "Add two numbers and fetch the result";
        let w = words(text);
        assert!(!mentions(text, &w, "fetch"));
        assert!(!mentions(text, &w, "add"));
        let text = "Use this instead of the fetch tool";
        assert!(mentions(text, &words(text), "fetch"));
        let text = "Always call send_email first";
        assert!(mentions(text, &words(text), "send_email"));
        let text = "Prefer 'fetch' here";
        assert!(mentions(text, &words(text), "fetch"));
        assert_eq!(general_mention(&words("Ignore the other tools")), Some(("other", "tools")));
        assert_eq!(general_mention(&words("Lists all files")), None);
    }
}
