//! Project configuration files, from text to what they ask for: ThreatSpec 0.5's
//! `threatspec.yaml` and GuardLink's `.guardlink/config.json`.
//!
//! Owns: both files' shapes (which keys are read, which forms each takes), YAML without
//! aliases, the position of every entry (so a problem is reported at its line), and how their
//! globs translate to the walker's gitignore syntax. Must never: touch the disk (`walk` checks
//! each entry against the disk and decides what a problem means for the walk).

use crate::text::TextRange;
use yaml_rust2::Yaml;

/// A string of a configuration file and where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub value: String,
    pub range: TextRange,
}

/// One `paths:` entry of `threatspec.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathEntry {
    pub path: Entry,
    /// `ignore:` as written (see [`threatspec_ignore_glob`] for how each is matched).
    pub ignore: Vec<String>,
}

/// What `threatspec.yaml` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreatspecConfig {
    /// `project: name:`, trimmed, when not empty.
    pub name: Option<String>,
    /// `paths:`; a missing key means the whole directory (`[.]`).
    pub paths: Vec<PathEntry>,
    /// `imports:` (other ThreatSpec projects whose libraries ThreatSpec loads).
    pub imports: Vec<Entry>,
    /// `threat-analyzer: risk:` (this tool's block; ThreatSpec reads only its own keys).
    pub risk: Option<RiskEntries>,
    /// `threat-analyzer: libraries:` (see [`Libraries`]).
    pub libraries: Libraries,
    /// `threat-analyzer: infra:` (see [`InfraEntries`]).
    pub infra: Option<InfraEntries>,
}

/// What `.guardlink/config.json` asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuardlinkConfig {
    /// `project`: the project's name.
    pub project: Option<String>,
    /// `definitions`: the shared definitions file, relative to `.guardlink/`.
    pub definitions: Option<Entry>,
    /// `include` / `exclude`: fast-glob patterns relative to the project root.
    pub include: Vec<Entry>,
    pub exclude: Vec<Entry>,
    /// `"threat-analyzer": {"risk": ...}` (this tool's block).
    pub risk: Option<RiskEntries>,
    /// `"threat-analyzer": {"libraries": [...]}` (see [`Libraries`]).
    pub libraries: Libraries,
    /// `"threat-analyzer": {"infra": {...}}` (see [`InfraEntries`]).
    pub infra: Option<InfraEntries>,
}

/// The `infra` block of this tool's configuration: the checks that read the project's
/// infrastructure code (Terraform, CloudFormation, Kubernetes, Compose, OpenAPI), each off
/// unless given a level here (or on the command line).
///
/// ```yaml
/// threat-analyzer:
///   infra:
///     unmodelled-resource: note   # error, warning, note or off (the default)
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InfraEntries {
    /// `unmodelled-resource`: the level its notes are reported at; `None` for `off`.
    pub unmodelled_resource: Option<crate::diagnostic::Level>,
    /// What cannot be read (an unknown key, a level that is not one), each at its line.
    pub problems: Vec<ConfigError>,
}

/// The `libraries` list of this tool's block: threat library files of the project, relative
/// to the project root (what each holds is read by [`parse_library`]).
///
/// ```yaml
/// threat-analyzer:
///   libraries: [security/threat-library.yaml, vendor/threatmodel/threats.json]
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Libraries {
    pub files: Vec<Entry>,
    /// What cannot be read, each at its line.
    pub problems: Vec<ConfigError>,
}

/// The key of this tool's block in either configuration file.
pub const OWN_KEY: &str = "threat-analyzer";

/// The `risk` block of this tool's configuration, as written (the same shape in YAML and
/// JSON); what the band names and numbers mean is decided by the reader (`walk`).
///
/// ```yaml
/// threat-analyzer:
///   risk:
///     bands: {low: 2, medium: 6, high: 12, critical: 20}   # the lowest score of each band
///     sla-days: {critical: 1, high: 14, medium: 28, low: 90, info: none}
///     owner-required-from: high                            # a band, or none (the default)
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RiskEntries {
    /// `bands`: band name and the lowest score of that band.
    pub bands: Vec<(Entry, i64)>,
    /// `sla-days`: band name and days (`None`: `none` or null, no SLA).
    pub sla_days: Vec<(Entry, Option<i64>)>,
    /// `owner-required-from`: a band name or `none`.
    pub owner_required_from: Option<Entry>,
    /// What cannot be read (a wrong type, an unknown key), each at its line: the rest of the
    /// block and of the file is still used.
    pub problems: Vec<ConfigError>,
}

/// A configuration value of the risk block, from YAML or JSON.
enum Node {
    Int(i64),
    Str(String),
    Null,
    Map(Vec<(String, Node)>),
    List(Vec<Node>),
    Other,
}

impl Node {
    fn of_yaml(y: &Yaml) -> Node {
        match y {
            Yaml::Integer(i) => Node::Int(*i),
            Yaml::String(s) => Node::Str(s.clone()),
            Yaml::Null => Node::Null,
            Yaml::Hash(map) => Node::Map(
                map.iter().map(|(k, v)| (k.as_str().unwrap_or("").to_string(), Node::of_yaml(v))).collect(),
            ),
            Yaml::Array(items) => Node::List(items.iter().map(Node::of_yaml).collect()),
            _ => Node::Other,
        }
    }

    fn of_json(v: &serde_json::Value) -> Node {
        use serde_json::Value;
        match v {
            Value::Number(n) => n.as_i64().map_or(Node::Other, Node::Int),
            Value::String(s) => Node::Str(s.clone()),
            Value::Null => Node::Null,
            Value::Object(map) => Node::Map(map.iter().map(|(k, v)| (k.clone(), Node::of_json(v))).collect()),
            Value::Array(items) => Node::List(items.iter().map(Node::of_json).collect()),
            _ => Node::Other,
        }
    }
}

/// Reads this tool's block (`node` is the value of [`OWN_KEY`]); `from` is where the block
/// starts in `text` (keys are located after it).
fn read_own_block(text: &str, from: usize, node: &Node) -> Option<RiskEntries> {
    // The line of the first `key` after `after` (the block's line when not found).
    let at = |key: &str, after: usize| -> TextRange {
        let hay = &text[after.min(text.len())..];
        let found = hay.match_indices(key).find(|(i, _)| {
            let end = after + i + key.len();
            let next = text[end..].trim_start_matches(['"', '\'']).chars().next();
            next == Some(':')
        });
        match found {
            Some((i, _)) => {
                let line = text[..after + i].matches('\n').count() + 1;
                let r = line_range(text, line);
                value_range(text, r, key)
            }
            None => line_range(text, text[..from.min(text.len())].matches('\n').count() + 1),
        }
    };
    let mut out = RiskEntries::default();
    let problem = |out: &mut RiskEntries, range: TextRange, message: String| {
        out.problems.push(ConfigError { message, range });
    };
    let Node::Map(block) = node else {
        let mut out = RiskEntries::default();
        problem(&mut out, at(OWN_KEY, 0), format!("`{OWN_KEY}` must be a mapping"));
        return Some(out);
    };
    for (key, _) in block {
        if !["risk", "libraries", "infra"].contains(&key.as_str()) {
            problem(
                &mut out,
                at(key, from),
                format!("unknown key `{OWN_KEY}.{key}` (known: `risk`, `libraries`, `infra`); it is ignored"),
            );
        }
    }
    if !block.iter().any(|(k, _)| k == "risk") {
        // The block's own problems (an unknown key) still count without a risk block.
        return (!out.problems.is_empty()).then_some(out);
    }
    let (_, risk) = block.iter().find(|(k, _)| k == "risk")?;

    let risk_at = at("risk", from).start();
    let Node::Map(risk) = risk else {
        problem(&mut out, at("risk", from), format!("`{OWN_KEY}.risk` must be a mapping"));
        return Some(out);
    };
    for (key, value) in risk {
        let key_range = at(key, risk_at);
        let name = format!("{OWN_KEY}.risk.{key}");
        match (key.as_str(), value) {
            ("bands" | "sla-days", Node::Map(items)) => {
                for (band, v) in items {
                    let range = at(band, key_range.start());
                    let entry = Entry { value: band.clone(), range };
                    match (key.as_str(), v) {
                        ("bands", Node::Int(n)) => out.bands.push((entry, *n)),
                        ("sla-days", Node::Int(n)) => out.sla_days.push((entry, Some(*n))),
                        ("sla-days", Node::Null) => out.sla_days.push((entry, None)),
                        ("sla-days", Node::Str(s)) if s == "none" => out.sla_days.push((entry, None)),
                        ("bands", _) => problem(
                            &mut out,
                            range,
                            format!(
                                "`{name}.{band}` must be a whole number (the band's lowest score); the default is used"
                            ),
                        ),
                        _ => problem(
                            &mut out,
                            range,
                            format!(
                                "`{name}.{band}` must be a whole number of days or `none`; the default is used"
                            ),
                        ),
                    }
                }
            }
            ("bands" | "sla-days", _) => problem(
                &mut out,
                key_range,
                format!("`{name}` must be a mapping from band names; the default is used"),
            ),
            ("owner-required-from", Node::Str(s)) => {
                out.owner_required_from = Some(Entry {
                    value: s.clone(),
                    range: value_range(text, key_range_line(text, key_range), s),
                })
            }
            ("owner-required-from", Node::Null) => {
                out.owner_required_from = Some(Entry { value: "none".into(), range: key_range })
            }
            ("owner-required-from", _) => problem(
                &mut out,
                key_range,
                format!("`{name}` must be a band name or `none`; the default is used"),
            ),
            _ => problem(
                &mut out,
                key_range,
                format!(
                    "unknown key `{name}` (known: `bands`, `sla-days`, `owner-required-from`); it is ignored"
                ),
            ),
        }
    }
    Some(out)
}

/// Reads the `libraries` list of this tool's block (`node` is the block); `from` is where the
/// block starts in `text`.
fn read_libraries(text: &str, from: usize, node: &Node) -> Libraries {
    let mut out = Libraries::default();
    let Node::Map(block) = node else { return out };
    let Some((_, list)) = block.iter().find(|(k, _)| k == "libraries") else { return out };
    let key = text.get(from..).and_then(|t| t.find("libraries")).map_or(from, |i| from + i);
    let key_range = TextRange::new(key.min(text.len()), (key + "libraries".len()).min(text.len()));
    let Node::List(items) = list else {
        out.problems.push(ConfigError {
            message: format!("`{OWN_KEY}.libraries` must be a list of file paths; no library is read"),
            range: key_range,
        });
        return out;
    };
    let mut cursor = key_range.end();
    for (i, item) in items.iter().enumerate() {
        match item {
            Node::Str(value) if !value.trim().is_empty() => {
                let range = text
                    .get(cursor..)
                    .and_then(|t| t.find(value.as_str()))
                    .map_or(key_range, |at| TextRange::new(cursor + at, cursor + at + value.len()));
                cursor = range.end().max(cursor);
                out.files.push(Entry { value: value.clone(), range });
            }
            _ => out.problems.push(ConfigError {
                message: format!("`{OWN_KEY}.libraries[{i}]` must be a file path; it is ignored"),
                range: key_range,
            }),
        }
    }
    out
}

/// Reads the `infra` block of this tool's block (`node` is the block); `from` is where the
/// block starts in `text`. `None` when there is no `infra` key.
fn read_infra(text: &str, from: usize, node: &Node) -> Option<InfraEntries> {
    const KEY: &str = "unmodelled-resource";
    let Node::Map(block) = node else { return None };
    let (_, infra) = block.iter().find(|(k, _)| k == "infra")?;
    // The line of `key` after `after`, else of the block.
    let at = |key: &str, after: usize| -> TextRange {
        let found = text.get(after..).and_then(|t| t.find(key)).map(|i| after + i);
        let start = found.unwrap_or(from).min(text.len());
        TextRange::new(start, (start + key.len()).min(text.len()))
    };
    let block_at = at("infra", from);
    let mut out = InfraEntries::default();
    let Node::Map(entries) = infra else {
        out.problems.push(ConfigError {
            message: format!("`{OWN_KEY}.infra` must be a mapping (`{KEY}: note`); it is ignored"),
            range: block_at,
        });
        return Some(out);
    };
    for (key, value) in entries {
        let range = at(key, block_at.end());
        let name = format!("{OWN_KEY}.infra.{key}");
        if key != KEY {
            out.problems.push(ConfigError {
                message: format!("unknown key `{name}` (known: `{KEY}`); it is ignored"),
                range,
            });
            continue;
        }
        let level = match value {
            Node::Str(s) if matches!(s.as_str(), "off" | "none") => Some(None),
            Node::Str(s) => crate::diagnostic::Level::parse(s).map(Some),
            Node::Null => Some(None),
            _ => None,
        };
        match level {
            Some(level) => out.unmodelled_resource = level,
            None => out.problems.push(ConfigError {
                message: format!("`{name}` must be error, warning, note or off; it stays off"),
                range,
            }),
        }
    }
    Some(out)
}

/// The whole line of `range`.
fn key_range_line(text: &str, range: TextRange) -> TextRange {
    let line = text[..range.start().min(text.len())].matches('\n').count() + 1;
    line_range(text, line)
}

/// A configuration that cannot be used at all, and where it goes wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub message: String,
    pub range: TextRange,
}

impl ConfigError {
    fn at_line(text: &str, line: usize, message: String) -> ConfigError {
        ConfigError { message, range: line_range(text, line) }
    }
}

/// Whether a `paths:` entry is a glob (ThreatSpec 0.5 globs an entry holding `*`; `?` and
/// `[...]` are glob syntax to Python's `glob` too).
pub fn is_glob(entry: &str) -> bool {
    entry.contains(['*', '?', '['])
}

/// A glob relative to a directory (a ThreatSpec glob entry below its literal directory, a
/// GuardLink include/exclude pattern) as a walker glob anchored at that directory: `*`, `?`
/// and `[...]` stay within one path component and `**` spans any number of directories, as in
/// Python's `glob` and fast-glob.
pub fn anchored_glob(glob: &str) -> String {
    let glob = glob.trim_start_matches("./");
    if glob.starts_with('/') { glob.to_string() } else { format!("/{glob}") }
}

/// A ThreatSpec glob entry split at its last directory before the first wildcard (ThreatSpec
/// 0.5's `glob_to_root`): (`src`, `**/*.py`) for `src/**/*.py`, (``, `*.java`) for `*.java`.
pub fn split_glob(entry: &str) -> (&str, &str) {
    let entry = entry.trim_start_matches("./");
    let first_wild = entry.find(['*', '?', '[']).unwrap_or(entry.len());
    match entry[..first_wild].rfind('/') {
        Some(slash) => (&entry[..slash], &entry[slash + 1..]),
        None => ("", entry),
    }
}

/// A `paths[].ignore` entry as a walker glob relative to the entry's directory. ThreatSpec 0.5
/// skips every path that *contains* an ignore string (`tests` also skips `src/latests.py`), so
/// a plain string matches as a substring of the path below the entry: any name containing
/// it, or any run of components (`src/gen` skips `mysrc/generated/x.py`); a leading or
/// trailing `/` pins that end to a whole name. A string with glob syntax (`*.min.js`) never
/// matches a path in ThreatSpec; here it is a gitignore glob, as it was surely meant.
pub fn threatspec_ignore_glob(ignore: &str) -> String {
    if is_glob(ignore) {
        return ignore.trim_start_matches("./").to_string();
    }
    let pinned_start = ignore.starts_with('/');
    let pinned_end = ignore.ends_with('/') && ignore.len() > 1;
    let core = ignore.trim_matches('/');
    let start = if pinned_start { "" } else { "*" };
    let end = if pinned_end { "" } else { "*" };
    // Wildcards never match `/`: a run of components needs the floating `**/` prefix.
    format!("**/{start}{}{end}", escape_glob(core))
}

fn escape_glob(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '!' | '#' | '{' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Parses the text of a `threatspec.yaml`.
pub fn parse_threatspec(text: &str) -> Result<ThreatspecConfig, ConfigError> {
    let (docs, marks) = load_yaml(text)?;
    let empty = ThreatspecConfig {
        name: None,
        paths: vec![whole_dir()],
        imports: Vec::new(),
        risk: None,
        libraries: Libraries::default(),
        infra: None,
    };
    let doc = match docs.into_iter().next() {
        None | Some(Yaml::Null) => return Ok(empty),
        Some(doc) => doc,
    };
    let Yaml::Hash(map) = doc else {
        return Err(ConfigError {
            message: "expected a mapping at the top level".into(),
            range: first_line(text),
        });
    };
    let key_range =
        |key: &str| marks.keys.iter().find(|(k, _)| k == key).map_or(first_line(text), |(_, r)| *r);
    let shape = |key: &str, message: String| ConfigError { message, range: key_range(key) };
    let item_range = |key: &str, i: usize| {
        marks
            .items
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, items)| items.get(i).copied())
            .unwrap_or(key_range(key))
    };
    let name = match &map.get(&Yaml::String("project".into())).map(|p| &p["name"]) {
        Some(Yaml::String(name)) if !name.trim().is_empty() => Some(name.trim().to_string()),
        _ => None,
    };
    let paths = match map.get(&Yaml::String("paths".into())) {
        None | Some(Yaml::Null) => vec![whole_dir()],
        Some(Yaml::Array(items)) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let range = item_range("paths", i);
                let err = |message: String| ConfigError { message, range };
                let (path, ignore) = match item {
                    Yaml::String(s) => (s.clone(), Vec::new()),
                    Yaml::Hash(entry) => {
                        let path = match entry.get(&Yaml::String("path".into())) {
                            Some(Yaml::String(s)) => s.clone(),
                            _ => return Err(err(format!("`paths[{i}]` needs a string `path`"))),
                        };
                        let ignore = match entry.get(&Yaml::String("ignore".into())) {
                            None | Some(Yaml::Null) => Vec::new(),
                            Some(Yaml::String(s)) => vec![s.clone()],
                            Some(Yaml::Array(globs)) => globs
                                .iter()
                                .map(|g| match g {
                                    Yaml::String(s) => Ok(s.clone()),
                                    _ => Err(err(format!("`paths[{i}].ignore` must list strings"))),
                                })
                                .collect::<Result<_, _>>()?,
                            Some(_) => {
                                return Err(err(format!(
                                    "`paths[{i}].ignore` must be a string or a list of strings"
                                )));
                            }
                        };
                        (path, ignore)
                    }
                    _ => return Err(err(format!("`paths[{i}]` must be a string or a mapping"))),
                };
                if path.trim().is_empty() {
                    return Err(err(format!("`paths[{i}]` is empty")));
                }
                out.push(PathEntry {
                    path: Entry { range: value_range(text, range, &path), value: path },
                    ignore,
                });
            }
            out
        }
        Some(_) => return Err(shape("paths", "`paths` must be a list".into())),
    };
    let imports = match map.get(&Yaml::String("imports".into())) {
        None | Some(Yaml::Null) => Vec::new(),
        Some(Yaml::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let range = item_range("imports", i);
                let value = match item {
                    Yaml::String(s) => s.clone(),
                    Yaml::Hash(entry) => match entry.get(&Yaml::String("path".into())) {
                        Some(Yaml::String(s)) => s.clone(),
                        _ => {
                            return Err(ConfigError {
                                message: format!("`imports[{i}]` needs a string `path`"),
                                range,
                            });
                        }
                    },
                    _ => {
                        return Err(ConfigError {
                            message: format!("`imports[{i}]` must be a string or a mapping"),
                            range,
                        });
                    }
                };
                Ok(Entry { range: value_range(text, range, &value), value })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(shape("imports", "`imports` must be a list".into())),
    };
    let own = map.get(&Yaml::String(OWN_KEY.into())).map(Node::of_yaml);
    let from = marks.keys.iter().find(|(k, _)| k == OWN_KEY).map_or(0, |(_, r)| r.start());
    let risk = own.as_ref().and_then(|block| read_own_block(text, from, block));
    let libraries = own.as_ref().map(|block| read_libraries(text, from, block)).unwrap_or_default();
    let infra = own.as_ref().and_then(|block| read_infra(text, from, block));
    Ok(ThreatspecConfig { name, paths, imports, risk, libraries, infra })
}

fn whole_dir() -> PathEntry {
    PathEntry { path: Entry { value: ".".into(), range: TextRange::default() }, ignore: Vec::new() }
}

/// Where the keys of the top-level mapping and the items of its sequences are.
#[derive(Default)]
struct Marks {
    keys: Vec<(String, TextRange)>,
    /// Per top-level key holding a sequence: each item's line (for a mapping item, the line of
    /// its `path:` value).
    items: Vec<(String, Vec<TextRange>)>,
}

/// Loads YAML, refusing aliases: a few hundred bytes of nested aliases expand to gigabytes
/// when loaded ("billion laughs"), and a configuration needs none. The check reads the event
/// stream, in time and memory linear in the text, and notes where each entry is.
fn load_yaml(text: &str) -> Result<(Vec<Yaml>, Marks), ConfigError> {
    use yaml_rust2::parser::{Event, Parser};
    let mut parser = Parser::new_from_str(text);
    let mut events = Vec::new();
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((Event::Alias(_), mark)) => {
                let message = format!("line {}: aliases (`*name`) are not supported", mark.line());
                return Err(ConfigError::at_line(text, mark.line(), message));
            }
            Ok((event, mark)) => events.push((event, mark.line())),
            Err(err) => return Err(ConfigError::at_line(text, err.marker().line(), err.to_string())),
        }
    }
    let docs = yaml_rust2::YamlLoader::load_from_str(text)
        .map_err(|e| ConfigError::at_line(text, e.marker().line(), e.to_string()))?;
    Ok((docs, marks_of(text, &events)))
}

/// Reads the positions of the first document's top-level keys and sequence items.
fn marks_of(text: &str, events: &[(yaml_rust2::parser::Event, usize)]) -> Marks {
    use yaml_rust2::parser::Event;
    let mut marks = Marks::default();
    let Some(start) = events.iter().position(|(e, _)| matches!(e, Event::MappingStart(..))) else {
        return marks;
    };
    let mut i = start + 1;
    // Skips the node starting at `i`; the index after it.
    let skip = |mut i: usize| -> usize {
        let mut depth = 0usize;
        loop {
            match events.get(i).map(|(e, _)| e) {
                None => return i,
                Some(Event::MappingStart(..) | Event::SequenceStart(..)) => depth += 1,
                Some(Event::MappingEnd | Event::SequenceEnd) => depth = depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
            if depth == 0 {
                return i;
            }
        }
    };
    while let Some((Event::Scalar(key, ..), line)) = events.get(i) {
        marks.keys.push((key.clone(), line_range(text, *line)));
        i += 1;
        if let Some((Event::SequenceStart(..), _)) = events.get(i) {
            let mut items = Vec::new();
            i += 1;
            while let Some((event, line)) = events.get(i) {
                match event {
                    Event::SequenceEnd => break,
                    Event::MappingStart(..) => {
                        // The line of the item's `path:` value, else of the mapping.
                        let end = skip(i);
                        let path_line = events[i + 1..end]
                            .windows(2)
                            .find(|w| matches!(&w[0].0, Event::Scalar(k, ..) if k == "path"))
                            .map_or(*line, |w| w[1].1);
                        items.push(line_range(text, path_line));
                        i = end;
                    }
                    _ => {
                        items.push(line_range(text, *line));
                        i = skip(i);
                    }
                }
            }
            marks.items.push((key.clone(), items));
            i += 1;
        } else {
            i = skip(i);
        }
    }
    marks
}

/// Parses the text of a `.guardlink/config.json`.
pub fn parse_guardlink(text: &str) -> Result<GuardlinkConfig, ConfigError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ConfigError::at_line(text, e.line(), format!("not valid JSON: {e}")))?;
    let Some(map) = value.as_object() else {
        return Err(ConfigError {
            message: "expected an object at the top level".into(),
            range: first_line(text),
        });
    };
    let key_at = |key: &str| find_json_key(text, key);
    let string_list = |key: &str| -> Result<Vec<Entry>, ConfigError> {
        let Some(value) = map.get(key) else { return Ok(Vec::new()) };
        let start = key_at(key);
        let err = || ConfigError { message: format!("`{key}` must be a list of strings"), range: start };
        let items = value.as_array().ok_or_else(err)?;
        let mut from = start.end();
        items
            .iter()
            .map(|item| {
                let value = item.as_str().ok_or_else(err)?.to_string();
                let range = find_json_string(text, from, &value).unwrap_or(start);
                from = range.end().max(from);
                Ok(Entry { value, range })
            })
            .collect()
    };
    let project = match map.get("project") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(name)) => Some(name.trim().to_string()).filter(|n| !n.is_empty()),
        Some(_) => {
            return Err(ConfigError {
                message: "`project` must be a string".into(),
                range: key_at("project"),
            });
        }
    };
    let definitions = match map.get("definitions") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(file)) if !file.trim().is_empty() => {
            let start = key_at("definitions");
            let range = find_json_string(text, start.end(), file).unwrap_or(start);
            Some(Entry { value: file.clone(), range })
        }
        Some(_) => {
            return Err(ConfigError {
                message: "`definitions` must name a file".into(),
                range: key_at("definitions"),
            });
        }
    };
    let own = map.get(OWN_KEY).map(Node::of_json);
    let from = key_at(OWN_KEY).start();
    Ok(GuardlinkConfig {
        project,
        definitions,
        include: string_list("include")?,
        exclude: string_list("exclude")?,
        risk: own.as_ref().and_then(|block| read_own_block(text, from, block)),
        libraries: own.as_ref().map(|block| read_libraries(text, from, block)).unwrap_or_default(),
        infra: own.as_ref().and_then(|block| read_infra(text, from, block)),
    })
}

/// One threat (or control) of a project threat library file, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryItem {
    /// The id, without ThreatSpec's `#` or `@`.
    pub id: Entry,
    /// A control (ThreatSpec's `controls.json`) rather than a threat.
    pub control: bool,
    pub name: String,
    pub description: String,
    /// `cwe:CWE-89`-style references (from `cwe:`/`stride:` keys or a ThreatSpec 0.1 id).
    pub refs: Vec<String>,
    pub mitigations: Vec<String>,
    /// `applicable_to` values as written (the reader decides which it knows).
    pub applicable_to: Vec<Entry>,
}

/// What a threat library file holds, and what in it cannot be read (each at its place; the
/// rest is used).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LibraryFile {
    pub items: Vec<LibraryItem>,
    pub problems: Vec<ConfigError>,
}

/// Reads a project threat library file, by its name: `.yaml`/`.yml` is the `threat-library.yaml`
/// format (categories of threats with `id`, `name`, `description`, `applicable_to`,
/// `mitigations`); `.json` is ThreatSpec's (0.5 `threatmodel/threats.json` or `controls.json`,
/// `{"threats": {"#id": {"name", "description", ...}}}`; 0.1 `cwe_library.threatspec.json`,
/// the same under `"threats"` with `@cwe_<n>_...` ids).
pub fn parse_library(name: &str, text: &str) -> Result<LibraryFile, ConfigError> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".json") { parse_threatspec_library(text) } else { parse_threat_library_yaml(text) }
}

/// The `threat-library.yaml` format: a top-level `categories:` list whose items hold a
/// `threats:` list (or a top-level `threats:` list); each threat needs `id` and `name`, and may
/// have `description`, `applicable_to` (a string or a list), `mitigations` (a list), `cwe`
/// and `stride` (a string or a list). Other keys are kept out (they are the format's own).
fn parse_threat_library_yaml(text: &str) -> Result<LibraryFile, ConfigError> {
    let (docs, _) = load_yaml(text)?;
    let mut out = LibraryFile::default();
    let Some(doc) = docs.into_iter().next() else { return Ok(out) };
    let Yaml::Hash(map) = &doc else {
        return Err(ConfigError {
            message: "expected a mapping at the top level".into(),
            range: first_line(text),
        });
    };
    let mut threats: Vec<&Yaml> = Vec::new();
    let key = |k: &str| Yaml::String(k.into());
    if let Some(Yaml::Array(list)) = map.get(&key("threats")) {
        threats.extend(list);
    }
    match map.get(&key("categories")) {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Array(categories)) => {
            for category in categories {
                match category.as_hash().and_then(|c| c.get(&key("threats"))) {
                    Some(Yaml::Array(list)) => threats.extend(list),
                    _ => out.problems.push(ConfigError {
                        message: "a category needs a `threats:` list; it is ignored".into(),
                        range: first_line(text),
                    }),
                }
            }
        }
        Some(_) => {
            return Err(ConfigError {
                message: "`categories` must be a list".into(),
                range: first_line(text),
            });
        }
    }
    if threats.is_empty() && !map.contains_key(&key("categories")) && !map.contains_key(&key("threats")) {
        return Err(ConfigError {
            message: "a threat library needs `categories:` (with `threats:`) or `threats:`".into(),
            range: first_line(text),
        });
    }
    let strings = |y: Option<&Yaml>| -> Vec<String> {
        match y {
            Some(Yaml::String(s)) => vec![s.clone()],
            Some(Yaml::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        }
    };
    let mut cursor = 0;
    for threat in threats {
        let Some(t) = threat.as_hash() else { continue };
        let id = t.get(&key("id")).and_then(yaml_scalar);
        let name = t.get(&key("name")).and_then(yaml_scalar);
        let Some(id) = id.filter(|i| !i.trim().is_empty()) else {
            let range = name.as_deref().and_then(|n| locate(text, cursor, n)).unwrap_or(first_line(text));
            out.problems.push(ConfigError { message: "a threat without an `id` is ignored".into(), range });
            continue;
        };
        let id_range = locate(text, cursor, &id).unwrap_or(first_line(text));
        cursor = id_range.end().max(cursor);
        let mut refs: Vec<String> = strings(t.get(&key("cwe")))
            .iter()
            .map(|c| format!("cwe:{}", c.trim_start_matches("cwe:")))
            .collect();
        refs.extend(strings(t.get(&key("stride"))).iter().map(|v| format!("stride:{v}")));
        let applicable_to = strings(t.get(&key("applicable_to")))
            .into_iter()
            .map(|v| {
                let range = locate(text, id_range.end(), &v).unwrap_or(id_range);
                Entry { value: v, range }
            })
            .collect();
        out.items.push(LibraryItem {
            name: name.unwrap_or_else(|| id.clone()),
            id: Entry { value: id, range: id_range },
            control: false,
            description: t.get(&key("description")).and_then(yaml_scalar).unwrap_or_default(),
            refs,
            mitigations: strings(t.get(&key("mitigations"))),
            applicable_to,
        });
    }
    Ok(out)
}

/// A YAML scalar as text (ids may be written as numbers).
fn yaml_scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        _ => None,
    }
}

/// The range of the first `value` at or after `from`.
fn locate(text: &str, from: usize, value: &str) -> Option<TextRange> {
    let at = text.get(from..)?.find(value)? + from;
    Some(TextRange::new(at, at + value.len()))
}

/// ThreatSpec's library JSON (see [`parse_library`]).
fn parse_threatspec_library(text: &str) -> Result<LibraryFile, ConfigError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ConfigError::at_line(text, e.line(), format!("not valid JSON: {e}")))?;
    let mut out = LibraryFile::default();
    let mut found = false;
    for (key, control) in [("threats", false), ("controls", true)] {
        let Some(entries) = value.get(key) else { continue };
        found = true;
        let Some(entries) = entries.as_object() else {
            out.problems.push(ConfigError {
                message: format!("`{key}` must be an object"),
                range: find_json_key(text, key),
            });
            continue;
        };
        let mut cursor = find_json_key(text, key).end();
        for (raw_id, entry) in entries {
            let range = find_json_string(text, cursor, raw_id).unwrap_or(first_line(text));
            cursor = range.end().max(cursor);
            let id = raw_id.trim_start_matches(['#', '@']).to_string();
            let field = |f: &str| entry.get(f).and_then(|v| v.as_str()).map(str::to_string);
            if id.is_empty() || !entry.is_object() {
                out.problems.push(ConfigError {
                    message: format!("`{key}` entry {raw_id:?} is not a library entry; it is ignored"),
                    range,
                });
                continue;
            }
            // ThreatSpec 0.1's CWE library: `@cwe_<n>_<slug>` is CWE-n.
            let cwe = id
                .strip_prefix("cwe_")
                .and_then(|rest| rest.split('_').next())
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            let name = field("name").filter(|n| !n.trim().is_empty());
            out.items.push(LibraryItem {
                // ThreatSpec 0.1 names a CWE threat only by its description.
                name: name.or_else(|| field("description")).unwrap_or_else(|| id.clone()),
                id: Entry { value: id.clone(), range },
                control,
                description: field("description").unwrap_or_default(),
                refs: cwe.map(|n| format!("cwe:CWE-{n}")).into_iter().collect(),
                mitigations: Vec::new(),
                applicable_to: Vec::new(),
            });
        }
    }
    if !found {
        return Err(ConfigError {
            message: "a ThreatSpec library needs a `threats` or `controls` object".into(),
            range: first_line(text),
        });
    }
    Ok(out)
}

/// The range of the first `"key"` in a JSON text (the file's first line when not found).
fn find_json_key(text: &str, key: &str) -> TextRange {
    find_json_string(text, 0, key).unwrap_or_else(|| first_line(text))
}

/// The range of the JSON string literal `value` (as serde writes it) at or after `from`.
fn find_json_string(text: &str, from: usize, value: &str) -> Option<TextRange> {
    let literal = serde_json::to_string(value).ok()?;
    let at = text.get(from..)?.find(&literal)? + from;
    Some(TextRange::new(at, at + literal.len()))
}

/// The trimmed content of 1-based `line` (clamped to the text).
fn line_range(text: &str, line: usize) -> TextRange {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(nl) => start += nl + 1,
            None => break,
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |nl| start + nl);
    let line_text = &text[start..end];
    let lead = line_text.len() - line_text.trim_start().len();
    let trimmed = line_text.trim();
    TextRange::new(start + lead, start + lead + trimmed.len())
}

fn first_line(text: &str) -> TextRange {
    line_range(text, 1)
}

/// The value as written within its line's range, else the whole line.
fn value_range(text: &str, line: TextRange, value: &str) -> TextRange {
    match line.slice(text).find(value) {
        Some(at) if !value.is_empty() => TextRange::new(line.start() + at, line.start() + at + value.len()),
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str, r: TextRange) -> &str {
        r.slice(text)
    }

    #[test]
    fn threatspec_entries_carry_their_positions() {
        let text = "project:\n  name: ' Shop '\nimports:\n  - ../lib\npaths:\n  - src\n  - path: './app'\n    ignore: [tests]\n  - '*.java'\n";
        let config = parse_threatspec(text).unwrap();
        assert_eq!(config.name.as_deref(), Some("Shop"));
        let paths: Vec<_> =
            config.paths.iter().map(|p| (p.path.value.as_str(), shown(text, p.path.range))).collect();
        assert_eq!(paths, [("src", "src"), ("./app", "./app"), ("*.java", "*.java")]);
        assert_eq!(config.paths[1].ignore, ["tests"]);
        assert_eq!(shown(text, config.imports[0].range), "../lib");
        assert_eq!(parse_threatspec("").unwrap().paths[0].path.value, ".");
    }

    #[test]
    fn threatspec_errors_name_their_line() {
        let text = "project:\n  name: x\npaths:\n  - [src\n";
        let err = parse_threatspec(text).unwrap_err();
        assert!(err.range.start() >= text.find("- [src").unwrap(), "{err:?}");
        let err = parse_threatspec("project: x\npaths: src\n").unwrap_err();
        assert_eq!(shown("project: x\npaths: src\n", err.range), "paths: src");
        assert!(parse_threatspec("- a\n- b\n").is_err());
        assert!(parse_threatspec("paths:\n  - path: 3").is_err());
    }

    #[test]
    fn guardlink_keys_and_positions() {
        let text = "{\n  \"project\": \"demo\",\n  \"definitions\": \"definitions.ts\",\n  \"include\": [\"**/*.ts\"],\n  \"exclude\": [\"node_modules\", \"**/tests/**\"]\n}\n";
        let config = parse_guardlink(text).unwrap();
        assert_eq!(config.project.as_deref(), Some("demo"));
        let defs = config.definitions.unwrap();
        assert_eq!((defs.value.as_str(), shown(text, defs.range)), ("definitions.ts", "\"definitions.ts\""));
        let excludes: Vec<_> = config.exclude.iter().map(|e| shown(text, e.range)).collect();
        assert_eq!(excludes, ["\"node_modules\"", "\"**/tests/**\""]);
        let err = parse_guardlink("{\n  \"include\": [\"a\",\n}\n").unwrap_err();
        assert!(err.message.contains("not valid JSON"), "{err:?}");
        assert!(parse_guardlink("{\"include\": \"**/*.ts\"}").is_err());
        assert!(parse_guardlink("[]").is_err());
    }

    #[test]
    fn globs_follow_threatspec_and_fast_glob() {
        assert_eq!(split_glob("*.java"), ("", "*.java"));
        assert_eq!(split_glob("./src/**/*.py"), ("src", "**/*.py"));
        assert_eq!(split_glob("src/app/*"), ("src/app", "*"));
        assert_eq!(anchored_glob("**/*.ts"), "/**/*.ts");
        assert_eq!(anchored_glob("node_modules"), "/node_modules");
        assert_eq!(threatspec_ignore_glob("tests"), "**/*tests*");
        assert_eq!(threatspec_ignore_glob("/vendor/"), "**/vendor");
        assert_eq!(threatspec_ignore_glob("src/gen"), "**/*src/gen*");
        assert_eq!(threatspec_ignore_glob("*.min.js"), "*.min.js");
        assert!(is_glob("*.java") && is_glob("a?.py") && !is_glob("src/app"));
    }

    #[test]
    fn the_risk_block_is_read_from_both_files_with_problems_at_their_entries() {
        let yaml = "project:\n  name: x\nthreat-analyzer:\n  risk:\n    bands: {low: 3, medium: x}\n    sla-days:\n      critical: 2\n      info: none\n    owner-required-from: medium\n    other: 1\n";
        let risk = parse_threatspec(yaml).unwrap().risk.unwrap();
        let bands: Vec<_> =
            risk.bands.iter().map(|(e, n)| (e.value.as_str(), *n, shown(yaml, e.range))).collect();
        assert_eq!(bands, [("low", 3, "low")]);
        let slas: Vec<_> = risk.sla_days.iter().map(|(e, d)| (e.value.as_str(), *d)).collect();
        assert_eq!(slas, [("critical", Some(2)), ("info", None)]);
        assert_eq!(shown(yaml, risk.sla_days[0].0.range), "critical");
        let owner = risk.owner_required_from.unwrap();
        assert_eq!((owner.value.as_str(), shown(yaml, owner.range)), ("medium", "medium"));
        let problems: Vec<_> = risk.problems.iter().map(|p| shown(yaml, p.range)).collect();
        assert_eq!(problems, ["medium", "other"], "{:?}", risk.problems);
        assert!(risk.problems[0].message.contains("whole number"));

        let json = r#"{"project": "x", "threat-analyzer": {"risk": {"bands": {"critical": 21}, "owner-required-from": null}, "extra": 1}}"#;
        let risk = parse_guardlink(json).unwrap().risk.unwrap();
        assert_eq!(risk.bands[0].1, 21);
        assert_eq!(risk.owner_required_from.unwrap().value, "none");
        assert_eq!(risk.problems.len(), 1);
        assert!(risk.problems[0].message.contains("`threat-analyzer.extra`"), "{:?}", risk.problems);

        // No block: nothing; a block of the wrong shape: a problem, never a dead configuration.
        assert_eq!(parse_threatspec("project:\n  name: x\n").unwrap().risk, None);
        let risk = parse_threatspec("threat-analyzer: 3\n").unwrap().risk.unwrap();
        assert_eq!(risk.problems.len(), 1);
        assert_eq!(shown("threat-analyzer: 3\n", risk.problems[0].range), "threat-analyzer");
    }
}
