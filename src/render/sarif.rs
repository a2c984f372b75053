//! SARIF 2.1.0 output for GitHub code scanning and other SARIF consumers.
//!
//! One run; `tool.driver.rules` holds one rule per [`Code::ALL`] (in that order, so
//! `ruleIndex` is the code's position). Artifact URIs are the reported relative paths,
//! percent-encoded, with `uriBaseId: "%SRCROOT%"`; `originalUriBaseIds` maps `%SRCROOT%` to the
//! scan's base directory. Columns are Unicode code points (`columnKind: "unicodeCodePoints"`),
//! 1-based, end exclusive.
//!
//! Severity: each `unmitigated-exposure` result carries `properties.security-severity` from the
//! exposure's effective severity ([`crate::analysis::Analysis::exposure_severity`], recorded in
//! [`Diagnostic::finding_severity`]); its rule carries none, since consumers that find a
//! rule-level score use it first. `confirmed-finding` keeps a rule-level 9.0.
//!
//! Fingerprint: `partialFingerprints.primaryLocationLineHash` is the finding's fingerprint by the
//! one rule in [`crate::analysis::fingerprint`] (a hash of the code, the finding's line from
//! where its annotation starts, without whitespace, and the part of it pointed at, then `:N`
//! counting repeats in the file, as GitHub's own fingerprinting does), which baselines use too.
//! It survives the line moving, edits elsewhere (code before a trailing annotation included) and
//! re-indentation, and changes when the annotation itself changes.
//!
//! Baseline (`check --baseline`): each result carries `baselineState` (`new` or `unchanged`),
//! and the run's `properties.baseline` counts `new`, `unchanged` and `absent` (fixed since the
//! baseline). Absent findings are not written as results: GitHub code scanning shows every
//! result as an alert, whatever its `baselineState`.
//!
//! The run's `properties.provenance` is [`super::PROVENANCE`]: messages are threat-analyzer's
//! sentences quoting repository names in backticks; snippets, inserted text and URIs are the
//! repository's. Untrusted text (messages, snippets) only goes into plain-text fields; the markdown fields
//! hold only the static rule help below. Every string of the log is cleaned as it is written
//! ([`super::machine_json`]: no control or bidi character), and message strings
//! (`message.text`, `description.text`) escape `[` and `]` as `\[` and `\]` (SARIF 2.1.0,
//! embedded links), so no annotation text becomes a link in a viewer.
//!
//! `check` writes each result as soon as it is built (a log of thousands of results is never
//! one tree of values); `diff`, which pairs results, builds them all with [`results`].

use super::{Location, Pieces, json, locate};
use crate::analysis::Summary;
use crate::analysis::baseline::Comparison;
use crate::analysis::fingerprint::fingerprints;
use crate::diagnostic::{Code, Diagnostic, Level};
use crate::file_id::FileId;
use crate::model::ProjectIndex;
use crate::text::TextRange;
use serde_json::{Value, json};
use std::path::Path;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");
const SRCROOT: &str = "%SRCROOT%";

/// Renders the SARIF log. `root` is the absolute directory the relative paths start from.
pub fn render(index: &ProjectIndex, diagnostics: &[Diagnostic], summary: &Summary, root: &Path) -> String {
    render_compared(index, diagnostics, summary, root, None).into_string()
}

/// [`render`], with each result's `baselineState` when there is a baseline.
pub fn render_compared(
    index: &ProjectIndex,
    diagnostics: &[Diagnostic],
    _summary: &Summary,
    root: &Path,
    comparison: Option<&Comparison>,
) -> Pieces {
    let states = super::baseline_states(diagnostics, comparison);
    let mut log = log(Vec::new(), root);
    if let Some(c) = comparison {
        log["runs"][0]["properties"]["baseline"] =
            json!({ "new": c.new_count(), "unchanged": c.unchanged_count(), "absent": c.fixed.len() });
    }
    // Each result is built, written and dropped in turn: a log of thousands of results never
    // exists as one tree of values.
    let mut report = Pieces::default();
    report.tail().reserve(1 << 16);
    write_with_results(&mut report, &log, |report, depth| {
        let fingerprinted = fingerprints(index, diagnostics);
        if fingerprinted.is_empty() {
            report.tail().push_str("[]");
            return;
        }
        report.tail().push('[');
        let in_order: Vec<_> = fingerprinted.into_iter().zip(states).collect();
        super::write_in_parts(report, &in_order, |out, i, ((d, fingerprint), state)| {
            if i > 0 {
                out.push(',');
            }
            json::newline(out, depth + 1);
            let mut result = result(index, d, fingerprint.clone());
            if let Some(state) = state {
                result["baselineState"] = json!(state.as_str());
            }
            json::value(out, &result, depth + 1);
        });
        json::close(report.tail(), depth, ']');
    });
    report
}

/// `log` as [`finish`] writes it, but the (single) run's `results` written by `results`,
/// given the depth its key stands at.
fn write_with_results(report: &mut Pieces, log: &Value, results: impl FnOnce(&mut Pieces, usize)) {
    let mut results = Some(results);
    let (Value::Object(top), Some(Value::Object(run))) = (log, log["runs"].get(0)) else {
        unreachable!("`log` builds an object with one run")
    };
    report.tail().push('{');
    for (i, (name, item)) in top.iter().enumerate() {
        let out = report.tail();
        json::member(out, 1, name, i > 0);
        if name != "runs" {
            json::value(out, item, 1);
            continue;
        }
        out.push('[');
        json::newline(out, 2);
        out.push('{');
        for (j, (name, item)) in run.iter().enumerate() {
            json::member(report.tail(), 3, name, j > 0);
            match results.take_if(|_| name == "results") {
                Some(write) => write(report, 3),
                None => json::value(report.tail(), item, 3),
            }
        }
        let out = report.tail();
        json::close(out, 2, '}');
        json::close(out, 1, ']');
    }
    let out = report.tail();
    json::close(out, 0, '}');
    out.push('\n');
}

/// One result per diagnostic, in output order ([`crate::diagnostic::sorted`]), each with its
/// fingerprint ([`crate::analysis::fingerprint`], see the module docs): what `render` logs, and
/// what `diff` pairs between two sides.
pub fn results(index: &ProjectIndex, diagnostics: &[Diagnostic]) -> Vec<Value> {
    fingerprints(index, diagnostics)
        .into_iter()
        .map(|(d, fingerprint)| result(index, d, fingerprint))
        .collect()
}

/// The log around `results`: the tool with its rule table, the base URI, the provenance.
pub fn log(results: Vec<Value>, root: &Path) -> Value {
    let rules: Vec<Value> = Code::ALL.iter().map(|&c| rule(c)).collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "threat-analyzer",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                }
            },
            "originalUriBaseIds": {
                SRCROOT: {
                    "uri": dir_uri(root),
                    "description": { "text": "The directory the scanned paths are relative to." }
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": { "provenance": super::PROVENANCE },
        }]
    })
}

/// The log as text ([`super::machine_json`]).
pub fn finish(log: Value) -> String {
    super::machine_json(&log)
}

fn rule_index(code: Code) -> usize {
    Code::ALL.iter().position(|&c| c == code).expect("every code is in ALL")
}

/// The README section documenting `code`.
pub fn help_uri(code: Code) -> String {
    format!("{INFORMATION_URI}/blob/main/README.md#{}", code.as_str())
}

/// `unmitigated-exposure` -> `UnmitigatedExposure`.
pub fn rule_name(code: Code) -> String {
    code.as_str()
        .split('-')
        .map(|w| {
            let mut cs = w.chars();
            cs.next().map(|f| f.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The rule-level `security-severity` (a CVSS-like score as a string), for the rules whose
/// every result has the same severity. `unmitigated-exposure` has none: its results carry
/// their own (`result_security_severity`), since a consumer that finds a rule-level score
/// uses it before the result's (GitLab documents that order), and an exposure's severity is
/// what its author wrote.
pub fn security_severity(code: Code) -> Option<&'static str> {
    match code {
        Code::ConfirmedFinding => Some("9.0"),
        // Planted text aimed at the agents that read the repository: medium.
        Code::AgentInstructionInAnnotation | Code::McpToolInstruction | Code::McpToolShadowing => Some("5.5"),
        Code::McpConfigSecret | Code::McpToolChanged => Some("7.5"),
        Code::McpServerShell | Code::McpUnpinnedPackage | Code::McpPlainHttp => Some("5.0"),
        Code::McpToolRemoved | Code::McpToolUnpinned => Some("3.0"),
        _ => None,
    }
}

/// Whether the code is a security finding (tagged `security`).
fn is_security(code: Code) -> bool {
    matches!(
        code,
        Code::UnmitigatedExposure
            | Code::ConfirmedFinding
            | Code::AgentInstructionInAnnotation
            | Code::McpToolInstruction
            | Code::McpToolShadowing
            | Code::McpServerShell
            | Code::McpUnpinnedPackage
            | Code::McpPlainHttp
            | Code::McpConfigSecret
            | Code::McpToolChanged
            | Code::McpToolRemoved
            | Code::McpToolUnpinned
    )
}

/// A result's own `security-severity`: the finding's effective severity as a score in the
/// band GitHub maps it to (over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, up to 3.9 low);
/// an unmitigated exposure that states no severity scores 7.5 (high), as the rule did before.
fn result_security_severity(d: &Diagnostic) -> Option<&'static str> {
    use crate::syntax::Severity;
    match (d.code, d.finding_severity) {
        (_, Some(Severity::Critical)) => Some("9.5"),
        (_, Some(Severity::High)) => Some("8.0"),
        (_, Some(Severity::Medium)) => Some("5.5"),
        (_, Some(Severity::Low)) => Some("3.0"),
        (Code::UnmitigatedExposure, None) => Some("7.5"),
        _ => None,
    }
}

struct RuleDoc {
    full: &'static str,
    fix: &'static str,
    silence: &'static str,
}

fn doc(code: Code) -> RuleDoc {
    const SHIELD: &str = "If the text is documentation that quotes annotations, wrap it in \
        `@shield:begin` ... `@shield:end` so it is not parsed.";
    match code {
        Code::UnmitigatedExposure => RuleDoc {
            full: "An `@exposes` annotation says an asset is exposed to a threat, and no \
                `@mitigates`, `@accepts` or `@transfers` anywhere in the project covers that \
                asset and threat. An exposure's severity is its own when it states one, else its \
                threat's; high or critical ones are errors.",
            fix: "Implement a control and record it with `@mitigates <asset> against <threat> \
                using <control>` next to the code that mitigates the threat.",
            silence: "If the risk is knowingly taken, record that with `@accepts <threat> on \
                <asset>`; if another system handles it, use `@transfers <threat> from <asset> to \
                <asset>`.",
        },
        Code::ConfirmedFinding => RuleDoc {
            full: "A `@confirmed` annotation records a verified vulnerability: the threat has \
                been shown to apply to the asset. It is always an error until it is fixed.",
            fix: "Fix the vulnerability, then replace `@confirmed` with `@mitigates <asset> \
                against <threat> using <control>`.",
            silence: "A confirmed finding cannot be silenced other than by removing the \
                annotation once the finding is resolved.",
        },
        Code::DanglingReference => RuleDoc {
            full: "A `#id` (or ThreatSpec 0.1 `@id`) reference names no asset, threat, control \
                or actor defined anywhere in the project.",
            fix: "Correct the id (the message suggests close matches) or add the missing \
                definition, e.g. `@threat <name> (#id)`.",
            silence: SHIELD,
        },
        Code::UnplacedBoundarySide => RuleDoc {
            full: "A directed `@boundary from <outer> to <inner>` says which side is outside, but \
                one side is a name that no `@asset` declares and no `@flows` names, so the \
                direction points at no component (a typo, a renamed asset). An undefined `#id` \
                is a `dangling-reference` instead; an undirected boundary claims no side and is \
                not checked.",
            fix: "Correct the side to a declared asset's path or `#id`, or to the endpoint the \
                `@flows` annotations name (`Client`).",
            silence: "Write the boundary undirected (`@boundary between <asset> and <asset>`) \
                if its direction is not known.",
        },
        Code::DuplicateDefinition => RuleDoc {
            full: "The same id or normalised name is defined more than once, so references to \
                it are ambiguous.",
            fix: "Keep one definition and reference it by id from the other places, or give \
                the second definition a different id.",
            silence: SHIELD,
        },
        Code::MalformedAnnotation => RuleDoc {
            full: "A comment line starts with a known annotation verb and carries structural \
                evidence of being an annotation (a `#ref`, ` -- `, or a keyword of the verb's \
                grammar), but it does not parse.",
            fix: "Correct the annotation to the verb's grammar, e.g. `@mitigates <asset> \
                against <threat> using <control>`.",
            silence: SHIELD,
        },
        Code::ProseLikeAnnotation => RuleDoc {
            full: "A comment line starts with an annotation verb but reads as prose, so it was \
                not read as an annotation. It is reported rather than silently dropped.",
            fix: "If it was meant as an annotation, complete it to the verb's grammar; \
                otherwise reword the comment so it does not start with `@<verb>`.",
            silence: SHIELD,
        },
        Code::UnknownVerb => RuleDoc {
            full: "A comment line holds `@<word>` in annotation position where the word is not \
                a known verb of GuardLink GAL or ThreatSpec; it is probably misspelt.",
            fix: "Use the suggested verb (the diagnostic offers a fix).",
            silence: SHIELD,
        },
        Code::UnusedDefinition => RuleDoc {
            full: "A threat or control is defined but no annotation in the project refers to \
                it.",
            fix: "Reference it where it applies (`@exposes`, `@mitigates`, ...) or remove the \
                definition.",
            silence: "Notes do not fail `check` unless `--fail-on note` is given.",
        },
        Code::ResourceLimit => RuleDoc {
            full: "A file, an annotation line or the number of annotations in a file exceeds                 one of threat-analyzer's resource limits (2 MiB per open document by default,                 4096 bytes per annotation line, 10,000 annotations per file), so part of it                 was not read and the threat model may be incomplete.",
            fix: "Shorten the annotation, or split the file; for open documents, raise the                 `maxFileSize` setting.",
            silence: "`--severity resource-limit=off` hides the diagnostic; the limit still                 applies.",
        },
        Code::ConfigPathMissing => RuleDoc {
            full: "A `paths:` or `imports:` entry of `threatspec.yaml`, or the `definitions` file \
                of `.guardlink/config.json`, names nothing on disk (or its glob matches no \
                file). The rest of the project is read.",
            fix: "Correct the entry to an existing path, or remove it.",
            silence: "`--severity config-path-missing=off`.",
        },
        Code::InvalidConfig => RuleDoc {
            full: "A project configuration file does not parse (the project is then read as if \
                it did not exist), or one of its entries cannot be used: it leads out of the \
                project, is not a file or directory, or holds a glob that does not parse (the \
                entry is then left out, or walked without the glob).",
            fix: "Correct the file at the position shown.",
            silence: "`--severity invalid-config=off` hides the diagnostic; the entry is still \
                not used.",
        },
        Code::StaleAnchor => RuleDoc {
            full: "A `.gal` sidecar's `@source file:<path> line:<n> symbol:<name>` no longer \
                matches its source: the file is missing, the line is past its end, or the symbol \
                is defined elsewhere or not at all. Findings under the anchor are reported at the \
                wrong place until it is corrected.",
            fix: "Write the line the message names (the fix does it), or point the `@source` at \
                the code the annotations now describe.",
            silence: "`--severity stale-anchor=off`.",
        },
        Code::ConflictMarker => RuleDoc {
            full: "The file holds an unresolved merge conflict (git's `<<<<<<<`, `=======` and \
                `>>>>>>>` lines). The annotations on both sides of it are read, so the threat \
                model may hold both versions of an annotation until the conflict is resolved.",
            fix: "Resolve the merge conflict and remove the marker lines.",
            silence: "Notes do not fail `check` unless `--fail-on note` is given; \
                `--severity conflict-marker=off` hides it.",
        },
        Code::AgentInstructionInAnnotation => RuleDoc {
            full: "Annotation text (a name, a description, any free-text field, in every dialect \
                and in `.gal` sidecars) addresses an AI agent or hides content: prompt-injection \
                phrases such as 'ignore previous instructions', prompt markup such as \
                `<IMPORTANT>` tags or `<|im_start|>` chat markers, invisible characters (zero-width, \
                Unicode tag characters, bidirectional overrides) or a base64 blob. Coding agents \
                read annotations as context, and annotation text comes from repositories people \
                clone. The message names the rule that matched (the README lists them) and never \
                repeats the text.",
            fix: "Remove the hidden or agent-directed text, or reword the annotation as a plain \
                description of the threat, asset or control.",
            silence: "`--severity agent-instruction-in-annotation=off` (or `=note`).",
        },
        Code::McpToolInstruction => RuleDoc {
            full: "An MCP tool defined in the repository's code (a Python `@mcp.tool()`, a TypeScript `server.tool(...)`/`registerTool(...)`, an rmcp `#[tool]`) has a description that addresses an AI agent or hides content, by the same rules as `agent-instruction-in-annotation`. An agent reads every tool description of every connected server, so such text is tool poisoning: instructions the user never sees.",
            fix: "Rewrite the description as a plain statement of what the tool does and what its arguments mean.",
            silence: "`--severity mcp-tool-instruction=off`.",
        },
        Code::McpToolShadowing => RuleDoc {
            full: "An MCP tool's description mentions another tool or server of the project, or tools and servers in general ('instead of the other tool', 'before using any tool'). A description that tells the agent how to use other tools can redirect calls meant for a trusted tool (shadowing).",
            fix: "Describe only this tool; let the agent choose between tools by their own descriptions.",
            silence: "`--severity mcp-tool-shadowing=off`.",
        },
        Code::McpServerShell => RuleDoc {
            full: "A committed MCP client configuration starts a server through a shell (`sh -c`, `bash -c`, `cmd /c`, `powershell -Command`) or with a `command` holding shell operators (`;`, `&&`, `|`). What runs is whatever the string says, and a client's approval of a command and its arguments no longer shows it.",
            fix: "Start the server's program directly: `command` is the program, `args` its arguments.",
            silence: "`--severity mcp-server-shell=off`.",
        },
        Code::McpUnpinnedPackage => RuleDoc {
            full: "A committed MCP client configuration starts a server by fetching a package (`npx`, `bunx`, `pnpm dlx`, `uvx`, `pipx run`, `uv tool run`), a container image (`docker run`, `podman run`) or a URL that is not pinned: no exact version, a tag such as `@latest`, no image digest. Each start may run different code than the one that was reviewed.",
            fix: "Pin the package to an exact version (`pkg@1.2.3`, `pkg==1.2.3`), the image to a digest (`image@sha256:...`), a git URL to a commit.",
            silence: "`--severity mcp-unpinned-package=off`.",
        },
        Code::McpPlainHttp => RuleDoc {
            full: "A remote MCP server in a committed client configuration is reached over plain `http://` (other than localhost): tool descriptions, arguments and results can be read and changed on the network.",
            fix: "Use `https://`.",
            silence: "`--severity mcp-plain-http=off`.",
        },
        Code::McpConfigSecret => RuleDoc {
            full: "A committed MCP client configuration holds what looks like a literal credential in a server's `env` or `headers` (a known token prefix, or a long opaque value under a key naming a token, key, secret or password). References such as `${input:...}`, `${env:...}` and `$VAR` and placeholders are not reported; the message names the key, never the value.",
            fix: "Replace the value with a reference the client resolves (`${input:...}` in VS Code, `${env:...}`), and rotate the credential: it is in the repository's history.",
            silence: "`--severity mcp-config-secret=off`.",
        },
        Code::McpToolChanged => RuleDoc {
            full: "An MCP tool's description differs from the hash that `threat-analyzer mcp-pin` recorded in `mcp-tools.lock`. A description that changes after it was reviewed (a rug pull) changes what every agent that uses the tool is told.",
            fix: "Review the new description; if it is right, run `threat-analyzer mcp-pin` again and commit the lock file.",
            silence: "`--severity mcp-tool-changed=warning` (or `=off`).",
        },
        Code::McpToolRemoved => RuleDoc {
            full: "`mcp-tools.lock` pins a tool that the project no longer defines (removed or renamed).",
            fix: "Run `threat-analyzer mcp-pin` again and commit the lock file.",
            silence: "`--severity mcp-tool-removed=off`.",
        },
        Code::McpToolUnpinned => RuleDoc {
            full: "The project has a `mcp-tools.lock` and defines an MCP tool it does not pin: a new tool whose description nobody recorded.",
            fix: "Review the tool's description, then run `threat-analyzer mcp-pin` and commit the lock file.",
            silence: "Notes do not fail `check` unless `--fail-on note` is given; `--severity mcp-tool-unpinned=off` hides it.",
        },
        Code::InvalidRisk => RuleDoc {
            full: "A risk key among the trailing refs of `@threat`, `@exposes` or `@confirmed` \
                has a value that cannot be read: `risk:` takes `L<1-5>xI<1-5>`, `owner:` an id of \
                letters, digits, `_`, `.` and `-`, `due:` and `audited:` a date `YYYY-MM-DD`; or \
                the key is written twice. The annotation itself is read, without that value.",
            fix: "Write the value in its form, e.g. `risk:L4xI5 owner:team-payments due:2026-12-31`.",
            silence: "`--severity invalid-risk=off` hides it; the value is still not used.",
        },
        Code::UnownedRisk => RuleDoc {
            full: "An exposure or confirmed finding whose risk band is at or above the configured \
                `owner-required-from` band of the project's risk configuration (off by default) has no owner: no `owner:` on it \
                or on its threat's definition, and no `@owns` on its asset or an ancestor.",
            fix: "Add `owner:<team>` to the annotation, or `@owns <team> for <asset>`.",
            silence: "`--severity unowned-risk=off`, or raise `risk.owner_required_from`.",
        },
        Code::OverdueRisk => RuleDoc {
            full: "An open exposure (nothing mitigates, accepts or transfers it) or a confirmed \
                finding is past its treatment due date: its `due:` date, or its `audited:` date \
                plus the SLA of its band (`risk.sla_days`). The date compared is today's in the \
                command line and the language server.",
            fix: "Treat the risk (mitigate, accept or transfer it), or record a new `due:` date.",
            silence: "`--severity overdue-risk=off`.",
        },
        Code::UnmodelledResource => RuleDoc {
            full: "A resource of the project's infrastructure code (a Terraform resource, a \
                CloudFormation resource, a Kubernetes workload, a Compose service or volume, an \
                OpenAPI operation: the data stores, processes and external entities `threat-analyzer \
                baseline` draws) is named by no annotation: the asset id the baseline proposes for \
                it is neither defined nor referenced, and no annotation is written in its definition \
                or in the comment lines directly above it. Off unless enabled by the configuration \
                (`threat-analyzer: infra: unmodelled-resource: note`) or `--severity \
                unmodelled-resource=note`.",
            fix: "Annotate the resource: the language server's code action inserts the annotations \
                the baseline proposes for it above its definition; `threat-analyzer baseline --format \
                gal` prints them. An `@asset` of your own right above the definition counts too.",
            silence: "It is off by default; `--severity unmodelled-resource=off` or \
                `unmodelled-resource: off` in the configuration turns it off again.",
        },
        Code::NoSyntaxTree => RuleDoc {
            full: "The file was read without a syntax tree, because the grammar's scanner (C code) \
                could not survive its text: it would abort the process or never return (very deep \
                indentation, long or many heredocs, an `@` on a Kotlin file's last line with no line \
                break after it). Only its whole-line comments were read, so annotations after code \
                or in block comments, `x-threatspec` values and MCP tool definitions in it are \
                missing from the model. Reported at the cause.",
            fix: "Change the text at the cause (indent less, end the file with a line break, \
                shorten or close the heredoc), or move the annotations onto lines of their own.",
            silence: "Notes do not fail `check` unless `--fail-on note` is given; \
                `--severity no-syntax-tree=off` hides it.",
        },
        Code::UnreadAnnotation => RuleDoc {
            full: "A comment line's text starts with stray comment marks and then an annotation \
                verb (`//* @threat`, `// * @threat`, `//# @threat`, `#! @threat`). An annotation \
                is read only at the start of a comment's text (GuardLink reads it the same way), \
                so this line is not part of the model; it is reported rather than silently \
                dropped.",
            fix: "Delete the marks between the comment marker and the verb (the diagnostic offers \
                the fix), e.g. `// @threat ...`.",
            silence: SHIELD,
        },
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn rule(code: Code) -> Value {
    let d = doc(code);
    let (full, fix, silence) = (collapse(d.full), collapse(d.fix), collapse(d.silence));
    let summary = code.summary();
    let mut tags = vec!["threat-model"];
    if is_security(code) {
        tags.insert(0, "security");
    } else {
        tags.push("annotations");
    }
    let mut properties = json!({ "tags": tags });
    if let Some(score) = security_severity(code) {
        properties["security-severity"] = json!(score);
    }
    json!({
        "id": code.as_str(),
        "name": rule_name(code),
        "shortDescription": { "text": summary },
        "fullDescription": { "text": full },
        "help": {
            "text": format!("{summary}.\n\nHow to fix: {fix}\n\nHow to silence: {silence}"),
            "markdown": format!(
                "**{summary}.**\n\n{full}\n\n### How to fix\n\n{fix}\n\n### How to silence\n\n{silence}\n\n[Documentation]({})",
                help_uri(code)
            ),
        },
        "helpUri": help_uri(code),
        // A code that is off unless enabled says so (SARIF's `enabled`, true when absent).
        "defaultConfiguration": if code.off_by_default() {
            json!({ "level": level(code.default_level()), "enabled": false })
        } else {
            json!({ "level": level(code.default_level()) })
        },
        "properties": properties,
    })
}

fn level(l: Level) -> &'static str {
    l.as_str()
}

fn region(index: &ProjectIndex, file: &FileId, range: TextRange, snippet: bool) -> Value {
    let Location { line, column, end_line, end_column, .. } = locate(index, file, range);
    let mut region = json!({
        "startLine": line,
        "startColumn": column,
        "endLine": end_line,
        "endColumn": end_column,
    });
    if snippet
        && !range.is_empty()
        && let Some(text) = index.slice_of(file.as_str(), range)
    {
        region["snippet"] = json!({ "text": text });
    }
    region
}

fn physical(index: &ProjectIndex, file: &FileId, range: TextRange, snippet: bool) -> Value {
    json!({
        "artifactLocation": { "uri": uri_path(file.as_str()), "uriBaseId": SRCROOT },
        "region": region(index, file, range, snippet),
    })
}

fn result(index: &ProjectIndex, d: &Diagnostic, fingerprint: String) -> Value {
    let mut r = json!({
        "ruleId": d.code.as_str(),
        "ruleIndex": rule_index(d.code),
        "level": level(d.level),
        "message": message(&d.message),
        "locations": [{ "physicalLocation": physical(index, &d.file, d.range, !d.code.conceals_range()) }],
        "partialFingerprints": { "primaryLocationLineHash": fingerprint },
    });
    if let Some(score) = result_security_severity(d) {
        r["properties"] = json!({ "security-severity": score });
    }
    if !d.related.is_empty() {
        r["relatedLocations"] = d
            .related
            .iter()
            .enumerate()
            .map(|(id, rel)| {
                json!({
                    "id": id,
                    "physicalLocation": physical(index, &rel.file, rel.range, false),
                    "message": message(&rel.message),
                })
            })
            .collect();
    }
    if let Some(fix) = &d.fix {
        // One artifactChange per file, in first-seen order.
        let mut files: Vec<&FileId> = Vec::new();
        for e in &fix.edits {
            if !files.contains(&&e.file) {
                files.push(&e.file);
            }
        }
        let changes: Vec<Value> = files
            .into_iter()
            .map(|file| {
                let replacements: Vec<Value> = fix
                    .edits
                    .iter()
                    .filter(|e| &e.file == file)
                    .map(|e| {
                        json!({
                            "deletedRegion": region(index, &e.file, e.range, false),
                            "insertedContent": { "text": e.new_text },
                        })
                    })
                    .collect();
                json!({
                    "artifactLocation": { "uri": uri_path(file.as_str()), "uriBaseId": SRCROOT },
                    "replacements": replacements,
                })
            })
            .collect();
        r["fixes"] = json!([{
            "description": message(&fix.label),
            "artifactChanges": changes,
        }]);
    }
    r
}

/// A SARIF message object of plain text with `[` and `]` escaped as `\[` and `\]` (SARIF
/// 2.1.0, embedded links), since viewers turn `[text](url)` in a message into a link. Every
/// bracket ends up after an odd run of backslashes, so a backslash in the text (`\\[`) cannot
/// cancel the escape, whether a viewer reads `\\` as an escape or not.
fn message(text: &str) -> Value {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '[' | ']') {
            let backslashes = escaped.len() - escaped.trim_end_matches('\\').len();
            if backslashes.is_multiple_of(2) {
                escaped.push('\\');
            }
        }
        escaped.push(c);
    }
    json!({ "text": escaped })
}

/// Percent-encodes a relative `/`-separated path for a URI reference (RFC 3986: unreserved
/// characters and `/` stay, everything else is UTF-8 percent-encoded).
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `file:///abs/dir/` (with the trailing slash SARIF requires of a base URI).
fn dir_uri(root: &Path) -> String {
    let mut path = root.to_string_lossy().replace('\\', "/");
    if !path.starts_with('/') {
        path.insert(0, '/'); // Windows: C:/x -> /C:/x
    }
    if !path.ends_with('/') {
        path.push('/');
    }
    format!("file://{}", uri_path(&path).replace("%3A", ":"))
}

// One place knows where the published schemas are and when a missing one is a skip.
#[cfg(test)]
#[path = "../../tests/support/schemas.rs"]
pub(super) mod schemas;

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::diagnostic::Diagnostic;

    use super::schemas;

    fn assert_valid(log: &Value) {
        schemas::assert_valid("sarif-2.1.0.schema.json", log);
    }

    fn sample_log() -> Value {
        let (index, diagnostics) = sample();
        let summary = summary(&index, &diagnostics);
        serde_json::from_str(&render(&index, &diagnostics, &summary, Path::new("/work/my repo"))).unwrap()
    }

    #[test]
    fn log_is_valid_sarif() {
        assert_valid(&sample_log());
        let empty: Value =
            serde_json::from_str(&render(&index(&[]), &[], &Summary::default(), Path::new("/"))).unwrap();
        assert_valid(&empty);
    }

    #[test]
    fn schema_check_can_fail() {
        // The validator really checks: a result with a bad level is rejected.
        let mut log = sample_log();
        log["runs"][0]["results"][0]["level"] = json!("fatal");
        schemas::assert_invalid("sarif-2.1.0.schema.json", &log);
    }

    #[test]
    fn rules_cover_every_code_with_github_fields() {
        let log = sample_log();
        let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), Code::ALL.len());
        for (rule, code) in rules.iter().zip(Code::ALL) {
            assert_eq!(rule["id"], code.as_str());
            assert_eq!(rule["shortDescription"]["text"], code.summary());
            assert_eq!(rule["defaultConfiguration"]["level"], code.default_level().as_str());
            let enabled = rule["defaultConfiguration"].get("enabled").is_none_or(|e| e == true);
            assert_eq!(enabled, !code.off_by_default(), "{}", code.as_str());
            assert!(rule["help"]["text"].as_str().unwrap().contains("How to silence"));
            assert!(rule["help"]["markdown"].as_str().unwrap().contains("### How to fix"));
            assert!(rule["helpUri"].as_str().unwrap().ends_with(&format!("#{}", code.as_str())));
            assert!(rule["properties"]["tags"].as_array().unwrap().contains(&json!("threat-model")));
        }
        assert_eq!(rules[0]["name"], "UnmitigatedExposure");
        assert!(rules[0]["properties"].get("security-severity").is_none());
        assert_eq!(rules[1]["properties"]["security-severity"], "9.0");
        assert!(rules[2]["properties"].get("security-severity").is_none());
    }

    #[test]
    fn results_have_locations_fingerprints_related_and_fixes() {
        let log = sample_log();
        let run = &log["runs"][0];
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        assert_eq!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"], "file:///work/my%20repo/");
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        let r = &results[2];
        assert_eq!(r["ruleId"], "unmitigated-exposure");
        assert_eq!(r["ruleIndex"], 0);
        assert_eq!(r["level"], "error");
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"], json!({"uri": "src/app.py", "uriBaseId": "%SRCROOT%"}));
        assert_eq!(
            loc["region"],
            json!({"startLine": 3, "startColumn": 14, "endLine": 3, "endColumn": 35,
                   "snippet": {"text": "@exposes App to #sqli"}})
        );
        assert_eq!(r["relatedLocations"][0]["id"], 0);
        assert_eq!(r["relatedLocations"][0]["message"]["text"], "threat defined here");
        assert_eq!(r["relatedLocations"][0]["physicalLocation"]["region"]["startLine"], 2);
        let change = &r["fixes"][0]["artifactChanges"][0];
        assert_eq!(change["replacements"][0]["insertedContent"]["text"], "\n# @accepts #sqli on App");
        let fp = r["partialFingerprints"]["primaryLocationLineHash"].as_str().unwrap();
        let (hash, n) = fp.split_once(':').unwrap();
        assert_eq!((hash.len(), n), (16, "1"));
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
        // Character columns in the region.
        let notes = &results[1]["locations"][0]["physicalLocation"]["region"];
        assert_eq!((notes["startColumn"].as_u64(), notes["endColumn"].as_u64()), (Some(22), Some(26)));
    }

    fn exposure(file: &str, text: &str, needle: &str) -> Diagnostic {
        Diagnostic {
            code: Code::UnmitigatedExposure,
            level: Level::Warning,
            message: "exposed".into(),
            file: FileId::relative(file),
            range: range_of(text, needle),
            related: vec![],
            fix: None,
            unnecessary: false,
            sidecar: None,
            finding_severity: None,
        }
    }

    fn fingerprints(index: &ProjectIndex, diagnostics: &[Diagnostic]) -> Vec<String> {
        let log: Value =
            serde_json::from_str(&render(index, diagnostics, &Summary::default(), Path::new("/r"))).unwrap();
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"]["primaryLocationLineHash"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn fingerprint_ignores_position_and_whitespace_counts_repeats() {
        let a = "# @exposes App to #x\n";
        let b = "\n\n    #   @exposes App to #x\n# @exposes App to #x\n";
        let index = index(&[("a.py", a), ("b.py", b)]);
        // The same finding again: the same code on the same line, pointing at the same part of it.
        let mut second = exposure("b.py", b, "@exposes");
        second.range = second.range.shift(b.rfind("@exposes").unwrap() - second.range.start());
        let fps =
            fingerprints(&index, &[exposure("a.py", a, "@exposes"), exposure("b.py", b, "@exposes"), second]);
        let hash = |s: &str| s.split_once(':').unwrap().0.to_string();
        assert_eq!(hash(&fps[0]), hash(&fps[1]), "same line content, moved and re-indented");
        assert!(fps[0].ends_with(":1") && fps[1].ends_with(":1"), "counters are per file");
        assert_eq!(fps[2], format!("{}:2", hash(&fps[1])), "a repeat in one file counts up");
        let mut other_code = exposure("a.py", a, "@exposes");
        other_code.code = Code::ConfirmedFinding;
        assert_ne!(hash(&fingerprints(&index, &[other_code])[0]), hash(&fps[0]));
    }

    #[test]
    fn message_brackets_are_escaped_after_any_backslashes() {
        let text = |t: &str| message(t)["text"].as_str().unwrap().to_string();
        assert_eq!(text("see [x](https://e.example)"), r"see \[x\](https://e.example)");
        assert_eq!(text(r"a\[b"), r"a\[b");
        assert_eq!(text(r"a\\[b\\\]"), r"a\\\[b\\\]");
        assert_eq!(text("{0} no brackets"), "{0} no brackets");
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri_path("src/a b/ü#?.py"), "src/a%20b/%C3%BC%23%3F.py");
        assert_eq!(dir_uri(Path::new("/x/y")), "file:///x/y/");
    }
}
