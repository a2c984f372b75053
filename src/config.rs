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
    let empty = ThreatspecConfig { name: None, paths: vec![whole_dir()], imports: Vec::new() };
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
    Ok(ThreatspecConfig { name, paths, imports })
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
    Ok(GuardlinkConfig {
        project,
        definitions,
        include: string_list("include")?,
        exclude: string_list("exclude")?,
    })
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
}
