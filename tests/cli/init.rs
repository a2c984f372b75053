//! `threat-analyzer init`: the scaffold of each dialect checks clean, `--dry-run` writes
//! nothing, existing files and planted links are left alone, and the shipped CI examples (the
//! files `init` writes) are valid YAML whose `threat-analyzer` command lines use only
//! subcommands and flags the binary's `--help` lists.

use crate::support::{manifest_dir, run, tempdir, write};
use serde_json::json;
use std::path::Path;
use yaml_rust2::{Yaml, YamlLoader};

const DEFINITIONS: &str = ".guardlink/definitions.gal";
const WORKFLOW: &str = ".github/workflows/threat-model.yml";
const GITLAB: &str = ".gitlab-ci.yml";

fn example(name: &str) -> String {
    std::fs::read_to_string(manifest_dir().join("examples/ci").join(name)).unwrap()
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                walk(base, &path, out);
            } else {
                out.push(path.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// `check --format json --fail-on note` in `dir`: the exit status and the JSON.
fn check_json(dir: &Path) -> (i32, serde_json::Value) {
    let r = run(dir, &["check", "--no-cache", "--format", "json", "--fail-on", "note"]);
    (r.code, r.json())
}

#[test]
fn gal_scaffold_checks_clean_and_its_examples_are_a_clean_model() {
    let dir = tempdir();
    let d = dir.path();
    let r = run(d, &["init"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout.lines().take(2).collect::<Vec<_>>(),
        [format!("created {DEFINITIONS}"), format!("created {WORKFLOW}")]
    );
    assert_eq!(files_under(d), [WORKFLOW, DEFINITIONS]);
    assert_eq!(read(d, WORKFLOW), example("github-actions.yml"));

    // A fresh project: not even a note, so `--fail-on note` passes.
    let (code, v) = check_json(d);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["diagnostics"], json!([]));
    assert_eq!(v["summary"]["files_scanned"], 1);
    assert_eq!(v["summary"]["annotations"], 0);

    // The commented examples, uncommented, are valid GAL that leaves nothing open.
    let definitions = read(d, DEFINITIONS);
    let examples: Vec<&str> =
        definitions.lines().filter_map(|l| l.strip_prefix("#   ")).filter(|l| l.starts_with('@')).collect();
    assert_eq!(examples.len(), 9, "{definitions}");
    write(d, DEFINITIONS, examples.join("\n") + "\n");
    let (code, v) = check_json(d);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["diagnostics"], json!([]));
    let s = &v["summary"];
    let counts: Vec<u64> = ["annotations", "assets", "threats", "controls", "exposures", "mitigations"]
        .iter()
        .map(|k| s[k].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [9, 1, 2, 2, 2, 2], "{s}");
}

#[test]
fn threatspec_scaffold_names_the_project_after_its_directory_and_reads_it_all() {
    let dir = tempdir();
    let project = dir.path().join("Payments API");
    let r = run(dir.path(), &["init", "Payments API", "--dialect", "threatspec", "--ci", "none"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("created Payments API/threatspec.yaml\n"), "{}", r.stdout);
    assert_eq!(files_under(&project), ["threatspec.yaml"]);
    let config = threat_analyzer::config::parse_threatspec(&read(&project, "threatspec.yaml")).unwrap();
    assert_eq!(config.name.as_deref(), Some("Payments API"));
    assert_eq!(config.paths.iter().map(|p| p.path.value.as_str()).collect::<Vec<_>>(), ["."]);

    let (code, v) = check_json(&project);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["diagnostics"], json!([]));
    // `paths: [.]` reads a source file anywhere below.
    write(
        &project,
        "src/pay/card.py",
        "# @component Payments:Card (#card)\n# @threat Skimming (#skim)\n# @control Tokenisation (#tok)\n\
         # @mitigates #card against #skim with #tok\n",
    );
    let (code, v) = check_json(&project);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["files_scanned"], 2);
    assert_eq!(v["summary"]["mitigations"], 1);
}

#[test]
fn gitlab_ci_is_written_only_when_the_project_has_none() {
    let dir = tempdir();
    let d = dir.path();
    let r = run(d, &["init", "--ci", "gitlab"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(files_under(d), [GITLAB, DEFINITIONS]);
    assert_eq!(read(d, GITLAB), example("gitlab-ci.yml"));

    let other = tempdir();
    write(other.path(), GITLAB, "stages: [build]\n");
    let r = run(other.path(), &["init", "--dialect", "threatspec", "--ci", "gitlab"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(read(other.path(), GITLAB), "stages: [build]\n");
    assert!(r.stderr.contains(".gitlab-ci.yml exists: left as it is"), "{}", r.stderr);
    assert_eq!(files_under(other.path()), [GITLAB, "threatspec.yaml"]);
}

#[test]
fn dry_run_prints_paths_and_contents_and_writes_nothing() {
    let dir = tempdir();
    let d = dir.path();
    let r = run(d, &["init", "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!("==> would create {DEFINITIONS} <==\n# Shared definitions")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!("==> would create {WORKFLOW} <==\n{}", example("github-actions.yml")))
    );
    assert!(r.stdout.ends_with("(dry run: nothing was written)\n"), "{}", r.stdout);
    assert_eq!(files_under(d), Vec::<String>::new());

    // A PATH that does not exist is not created either.
    let r = run(d, &["init", "new/project", "--dialect", "threatspec", "--ci", "gitlab", "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("==> would create new/project/threatspec.yaml <==\n"), "{}", r.stdout);
    assert!(r.stdout.contains("  name: \"project\"\n"), "{}", r.stdout);
    assert!(r.stdout.contains(&example("gitlab-ci.yml")));
    assert!(!d.join("new").exists());

    // What exists is named, not shown; when nothing is left to write the status is 2.
    write(d, DEFINITIONS, "@threat Mine (#mine)\n");
    let r = run(d, &["init", "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains(DEFINITIONS), "{}", r.stdout);
    assert!(r.stderr.contains(&format!("{DEFINITIONS} exists")), "{}", r.stderr);
    let r = run(d, &["init", "--dry-run", "--ci", "none"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(files_under(d), [DEFINITIONS]);
}

#[test]
fn existing_files_are_left_untouched() {
    let dir = tempdir();
    let d = dir.path();
    write(d, DEFINITIONS, "@threat Mine (#mine)\n");
    let r = run(d, &["init"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.lines().next(), Some(format!("created {WORKFLOW}").as_str()), "{}", r.stdout);
    assert!(
        r.stderr.contains(&format!("{DEFINITIONS} exists: left as it is (init never overwrites a file)")),
        "{}",
        r.stderr
    );
    assert_eq!(read(d, DEFINITIONS), "@threat Mine (#mine)\n");

    // Everything exists: nothing is written, and the run says so with status 2.
    write(d, WORKFLOW, "name: mine\n");
    let r = run(d, &["init"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("nothing written: every file of the scaffold exists"), "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert_eq!(read(d, DEFINITIONS), "@threat Mine (#mine)\n");
    assert_eq!(read(d, WORKFLOW), "name: mine\n");
}

#[test]
fn a_path_that_is_a_file_is_an_error() {
    let dir = tempdir();
    write(dir.path(), "file", "x\n");
    let r = run(dir.path(), &["init", "file"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("file is not a directory"), "{}", r.stderr);
}

#[cfg(unix)]
#[test]
fn planted_links_are_never_followed() {
    let dir = tempdir();
    let outside = tempdir();
    let d = dir.path();
    // `.github` committed as a link out of the project: the workflow is refused, the rest written.
    std::os::unix::fs::symlink(outside.path(), d.join(".github")).unwrap();
    // A dangling link where the definitions go: it exists, so it is left alone (not created
    // at its target).
    std::fs::create_dir(d.join(".guardlink")).unwrap();
    let target = outside.path().join("planted.gal");
    std::os::unix::fs::symlink(&target, d.join(DEFINITIONS)).unwrap();
    let r = run(d, &["init", "--dialect", "gal", "--ci", "github"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains(&format!("{DEFINITIONS} exists")), "{}", r.stderr);
    assert!(r.stderr.contains("refusing to write") && r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert!(!target.exists());
    assert_eq!(files_under(outside.path()), Vec::<String>::new());

    // With the link at the definitions gone, they are written; the workflow still is not.
    std::fs::remove_file(d.join(DEFINITIONS)).unwrap();
    let r = run(d, &["init"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stdout.lines().next(), Some(format!("created {DEFINITIONS}").as_str()), "{}", r.stdout);
    assert_eq!(files_under(outside.path()), Vec::<String>::new());
}

/// The shell command lines of a CI file that run threat-analyzer: from every GitHub step's
/// `run:` or GitLab job's `script`/`before_script`/`after_script`, continuation lines joined.
fn threat_analyzer_commands(scripts: &[String]) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    for script in scripts {
        for line in script.replace("\\\n", " ").lines() {
            let words = shell_words(line.trim());
            if words.first().is_some_and(|w| w == "threat-analyzer") {
                commands.push(words);
            }
        }
    }
    commands
}

/// `line` split into words the way the shell does for these simple lines (quotes removed).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in line.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unbalanced quote in {line:?}");
    if in_word {
        words.push(word);
    }
    words
}

/// Whether `help` lists `flag` (`--format`, `-o`) as an option, not as part of a longer name.
fn help_lists(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(at, _)| {
        let before = help[..at].chars().next_back();
        let after = help[at + flag.len()..].chars().next();
        before.is_none_or(|c| c.is_whitespace() || c == '[')
            && after.is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'))
    })
}

/// Runs `<subcommand> --help` for each command and checks every flag it uses is listed.
/// Returns the subcommands, in order.
fn assert_commands_exist(file: &str, commands: &[Vec<String>]) -> Vec<String> {
    let dir = tempdir();
    let mut subcommands = Vec::new();
    for words in commands {
        let subcommand = &words[1];
        assert!(!subcommand.starts_with('-'), "{file}: {words:?} names no subcommand");
        let r = run(dir.path(), &[subcommand, "--help"]);
        assert_eq!(r.code, 0, "{file}: `threat-analyzer {subcommand} --help` failed: {r:?}");
        for word in &words[2..] {
            if let Some(flag) = word.strip_prefix("--").map(|_| word.split('=').next().unwrap()) {
                assert!(help_lists(&r.stdout, flag), "{file}: `{subcommand}` has no {flag}:\n{}", r.stdout);
            } else if word.len() == 2 && word.starts_with('-') {
                assert!(help_lists(&r.stdout, word), "{file}: `{subcommand}` has no {word}:\n{}", r.stdout);
            }
        }
        subcommands.push(subcommand.clone());
    }
    subcommands
}

fn load_yaml(file: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(&example(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(docs.len(), 1, "{file}");
    docs.remove(0)
}

fn string(yaml: &Yaml) -> String {
    yaml.as_str().unwrap_or_else(|| panic!("not a string: {yaml:?}")).to_string()
}

#[test]
fn github_workflow_is_valid_yaml_and_runs_existing_commands() {
    let workflow = load_yaml("github-actions.yml");
    let job = &workflow["jobs"]["threat-model"];
    assert_eq!(job["permissions"]["security-events"].as_str(), Some("write"));
    assert_eq!(job["permissions"]["pull-requests"].as_str(), Some("write"));
    assert!(workflow["on"]["pull_request"].is_null() && !workflow["on"]["push"].is_badvalue());
    let steps = job["steps"].as_vec().unwrap();
    let uses: Vec<String> =
        steps.iter().filter(|s| !s["uses"].is_badvalue()).map(|s| string(&s["uses"])).collect();
    assert!(uses.iter().any(|u| u.starts_with("actions/checkout@")), "{uses:?}");
    assert!(uses.iter().any(|u| u.starts_with("github/codeql-action/upload-sarif@")), "{uses:?}");
    let checkout =
        steps.iter().find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/checkout@")));
    assert_eq!(checkout.unwrap()["with"]["fetch-depth"].as_i64(), Some(0));

    let runs: Vec<String> =
        steps.iter().filter(|s| !s["run"].is_badvalue()).map(|s| string(&s["run"])).collect();
    // Script injection: no expression is expanded into a shell script; values come through env.
    for script in &runs {
        assert!(!script.contains("${{"), "an expression in a run: script: {script}");
    }
    let commands = threat_analyzer_commands(&runs);
    let subcommands = assert_commands_exist("github-actions.yml", &commands);
    assert_eq!(subcommands, ["check", "diff"]);
    let upload =
        steps.iter().find(|s| s["uses"].as_str().is_some_and(|u| u.contains("upload-sarif"))).unwrap();
    let sarif = string(&upload["with"]["sarif_file"]);
    assert!(commands[0].windows(2).any(|w| w == ["-o", sarif.as_str()]), "{commands:?} {sarif}");
    let comment = runs.iter().find(|r| r.starts_with("gh pr comment")).expect("a gh pr comment step");
    let diff_output = &commands[1][commands[1].iter().position(|w| w == "-o").unwrap() + 1];
    assert!(comment.contains(&format!("--body-file {diff_output}")), "{comment}");
}

#[test]
fn gitlab_snippet_is_valid_yaml_runs_existing_commands_and_is_the_readme_s() {
    let ci = load_yaml("gitlab-ci.yml");
    let job = &ci["threat-model"];
    assert_eq!(job["variables"]["GIT_DEPTH"].as_str(), Some("0"));
    let mut scripts = Vec::new();
    for key in ["before_script", "script", "after_script"] {
        if let Some(lines) = job[key].as_vec() {
            scripts.extend(lines.iter().map(string));
        }
    }
    let subcommands = assert_commands_exist("gitlab-ci.yml", &threat_analyzer_commands(&scripts));
    assert_eq!(subcommands, ["check", "diff"]);

    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```yaml\n{}```\n", example("gitlab-ci.yml"))),
        "README lacks the snippet"
    );
    assert!(readme.contains("threat-analyzer init"));
}

#[test]
fn help_listing_is_exact() {
    // The check above can fail: a longer option is not the flag, nor is a flag in a sentence.
    let help = "  -o, --output <FILE>\n      --format-version <V>\n  see --formats\n";
    assert!(help_lists(help, "--output") && help_lists(help, "-o"));
    assert!(!help_lists(help, "--format") && !help_lists(help, "--out") && !help_lists(help, "-f"));
    assert_eq!(
        shell_words(r#"threat-analyzer diff "origin/$BASE_REF" -o x.md"#),
        ["threat-analyzer", "diff", "origin/$BASE_REF", "-o", "x.md"]
    );
}
