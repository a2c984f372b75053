//! Which files `check` reads: ignore files, hidden paths, `.guardlink/`, symlinks, binary,
//! non-UTF-8 and oversized files, direct file arguments, `threatspec.yaml`, reported paths.
//! None of this depends on the annotation parser: `summary.files_scanned` counts files read.

use crate::support;
use support::*;

const ANNOTATED: &str = "# @threat SQL Injection (#sqli) [high]\n# @exposes App to #sqli\n";

#[test]
fn gitignore_and_ignore_files_are_honoured_outside_git() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "kept.py", ANNOTATED);
    write(d, ".gitignore", "build/\nignored.py\n");
    write(d, "ignored.py", ANNOTATED);
    write(d, "build/gen.py", ANNOTATED);
    write(d, "lib/.ignore", "vendored.py\n");
    write(d, "lib/vendored.py", ANNOTATED);
    write(d, "lib/own.py", ANNOTATED);
    let (r, n) = files_scanned(d, &["--verbose"]);
    assert_eq!(n, 2, "kept.py and lib/own.py only: {r:?}");
    assert!(!r.stderr.contains("ignored.py") && !r.stderr.contains("vendored"), "{r:?}");
}

#[test]
fn a_file_named_directly_is_read_even_when_ignored() {
    let dir = tempdir();
    write(dir.path(), ".gitignore", "ignored.py\n");
    write(dir.path(), "ignored.py", ANNOTATED);
    assert_eq!(files_scanned(dir.path(), &[]).1, 0);
    assert_eq!(files_scanned(dir.path(), &["ignored.py"]).1, 1);
}

#[test]
fn hidden_paths_are_skipped_except_guardlink() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "app.py", ANNOTATED);
    write(d, ".guardlink/definitions.gal", "@threat SQL Injection (#sqli) [high]\n");
    write(d, ".guardlink/more/sidecar.gal", "@asset App\n");
    write(d, ".venv/lib/site.py", ANNOTATED);
    write(d, "src/.cache/x.py", ANNOTATED);
    write(d, ".hidden.py", ANNOTATED);
    let (r, n) = files_scanned(d, &["--verbose"]);
    assert_eq!(n, 3, "app.py and the two .guardlink files: {r:?}");
    let skipped = skipped_lines(&r);
    for path in [".venv", "src/.cache", ".hidden.py"] {
        assert!(
            skipped.iter().any(|l| l.starts_with(&format!("skipped {path}: hidden"))),
            "{path} not reported: {skipped:?}"
        );
    }
    assert!(!skipped.iter().any(|l| l.contains(".guardlink")), "{r:?}");
}

#[cfg(unix)]
#[test]
fn symlink_loops_do_not_hang_and_links_are_reported() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "src/app.py", ANNOTATED);
    std::os::unix::fs::symlink("..", d.join("src/up")).unwrap();
    std::os::unix::fs::symlink(".", d.join("self")).unwrap();
    std::os::unix::fs::symlink("src/app.py", d.join("alias.py")).unwrap();
    let (r, n) = files_scanned(d, &["--verbose"]);
    assert_eq!(n, 1, "{r:?}");
    let skipped = skipped_lines(&r);
    for path in ["self", "src/up", "alias.py"] {
        assert!(
            skipped.contains(&format!("skipped {path}: symbolic link (links are not followed)").as_str()),
            "{path}: {skipped:?}"
        );
    }
}

#[test]
fn binary_invalid_utf8_oversized_and_unknown_files_are_skipped_with_reasons() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "ok.py", ANNOTATED);
    write(d, "blob.py", b"\x00\x01\x02 # @exposes App to #sqli\n");
    write(d, "latin1.py", b"# @threat Caf\xe9 (#cafe)\n");
    write(d, "latin1_plain.py", b"x = 'caf\xe9'\n");
    write(d, "big.py", format!("{ANNOTATED}{}", "#\n".repeat(200)));
    write(d, "notes.unknownext", ANNOTATED);
    let (r, n) = files_scanned(d, &["--verbose", "--max-file-size", "300"]);
    // latin1_plain.py holds no annotation literal: read and counted, never decoded.
    assert_eq!(n, 2, "ok.py and latin1_plain.py: {r:?}");
    let skipped = skipped_lines(&r);
    assert_eq!(
        skipped,
        [
            "skipped big.py: too large (463 bytes, limit 300)",
            "skipped blob.py: binary file (NUL byte in the first 8 KiB)",
            "skipped latin1.py: not valid UTF-8 (first invalid byte at offset 13)",
            "skipped notes.unknownext: unknown language",
        ],
        "{r:?}"
    );
    // Without --verbose only files over the size limit are named (they may hold annotations).
    let r = run(d, &["check", "--max-file-size", "300"]);
    assert_eq!(
        r.stderr,
        "threat-analyzer: note: 1 file over the size limit not read (big.py); --max-file-size raises the \
         limit, --verbose lists every skipped file\n",
        "{r:?}"
    );
}

#[test]
fn max_file_size_accepts_suffixes() {
    let dir = tempdir();
    write(dir.path(), "big.py", format!("{ANNOTATED}{}", "#\n".repeat(600)));
    assert_eq!(files_scanned(dir.path(), &["--max-file-size", "1K"]).1, 0);
    assert_eq!(files_scanned(dir.path(), &["--max-file-size", "2KiB"]).1, 1);
    assert_eq!(files_scanned(dir.path(), &[]).1, 1, "default limit is 2 MiB");
}

#[test]
fn threatspec_yaml_restricts_paths_and_ignores_globs() {
    let dir = tempdir();
    let d = dir.path();
    write(
        d,
        "threatspec.yaml",
        "project:\n  name: demo\n  description: d\npaths:\n  - path: src\n    ignore:\n      - generated\n      - '*_pb2.py'\n  - tools/one.py\n",
    );
    write(d, "src/app.py", ANNOTATED);
    write(d, "src/api/routes.py", ANNOTATED);
    write(d, "src/generated/model.py", ANNOTATED);
    write(d, "src/api/user_pb2.py", ANNOTATED);
    write(d, "tools/one.py", ANNOTATED);
    write(d, "tools/two.py", ANNOTATED);
    write(d, "other/x.py", ANNOTATED);
    let (r, n) = files_scanned(d, &[]);
    assert_eq!(n, 3, "src/app.py, src/api/routes.py, tools/one.py: {r:?}");
    // A directory argument without a config is walked whole.
    assert_eq!(files_scanned(d, &["other", "tools"]).1, 3);
}

#[test]
fn overlapping_paths_are_scanned_once() {
    let dir = tempdir();
    write(dir.path(), "src/app.py", ANNOTATED);
    assert_eq!(files_scanned(dir.path(), &[".", "src", "src/app.py"]).1, 1);
}

#[test]
fn reported_paths_are_relative_to_cwd_or_to_the_root_outside_it() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "repo/src/blob.py", b"\x00");
    write(d, "elsewhere/.keep", "");
    // Inside the current directory: relative to it.
    let r = run(d, &["check", "-v", "repo/src"]);
    assert_eq!(skipped_lines(&r), ["skipped repo/src/blob.py: binary file (NUL byte in the first 8 KiB)"]);
    // Outside it: relative to the root argument.
    let r = run(&d.join("elsewhere"), &["check", "-v", "../repo"]);
    assert_eq!(skipped_lines(&r), ["skipped src/blob.py: binary file (NUL byte in the first 8 KiB)"]);
    let sarif = run(&d.join("elsewhere"), &["check", "--format", "sarif", "../repo"]).json();
    let base = sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert!(base.starts_with("file:///") && base.ends_with("/repo/"), "{base}");
}

#[test]
fn utf8_bom_is_not_a_reason_to_skip() {
    let dir = tempdir();
    write(dir.path(), "bom.py", b"\xef\xbb\xbf# @threat SQL Injection (#sqli)\n");
    let (r, n) = files_scanned(dir.path(), &["--verbose"]);
    assert_eq!(n, 1);
    assert!(skipped_lines(&r).is_empty(), "{r:?}");
}

/// `.txt` files are annotation documents only when named: a PATH, a `threatspec.yaml` `paths:`
/// entry or an include glob. Found by the walk alone (`requirements.txt`, licences) they are
/// skipped with a reason and not counted in `files_scanned`.
#[test]
fn plain_text_files_are_read_and_counted_only_when_named() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "app.py", ANNOTATED);
    write(d, "requirements.txt", "flask==3.0\n# pinned: see @security-team notes\n");
    write(d, "LICENSE.txt", "Permission is hereby granted, free of charge\n");
    write(d, "docs/design.txt", "@threat Spoofing (#spoof) [high]\n@exposes App to #spoof\n");
    let (r, n) = files_scanned(d, &["--verbose"]);
    assert_eq!(n, 1, "app.py only: {r:?}");
    let json = r.json();
    assert_eq!(json["summary"]["files_with_annotations"], 1, "{r:?}");
    let reason = "(name it as a PATH, in threatspec.yaml paths or with an include glob to read it)";
    assert_eq!(
        skipped_lines(&r),
        [
            format!("skipped LICENSE.txt: plain text not named as an annotation document {reason}"),
            format!(
                "skipped docs/design.txt: plain text not named as an annotation document, though it holds \
                 annotation-like text {reason}"
            ),
            format!("skipped requirements.txt: plain text not named as an annotation document {reason}"),
        ],
        "{r:?}"
    );
    // Without --verbose, the notes that may hold annotations are named: none is lost unsaid.
    let r = run(d, &["check"]);
    assert_eq!(
        r.stderr,
        "threat-analyzer: note: 1 plain-text file holds annotation-like text but not read (docs/design.txt): \
         a .txt file is an annotation document only when named (as a PATH, in threatspec.yaml paths or by an \
         --include glob)\n",
        "{r:?}"
    );
    // Named as a PATH (also beside the directory that holds it): read, and not reported skipped.
    let (r, n) = files_scanned(d, &["--verbose", ".", "docs/design.txt"]);
    assert_eq!(n, 2, "{r:?}");
    assert!(!r.stderr.contains("skipped docs/design.txt"), "{r:?}");
    // Selected by an include glob.
    let (r, n) = files_scanned(d, &["--include", "*.py", "--include", "docs/*.txt"]);
    assert_eq!((n, r.json()["summary"]["files_with_annotations"].as_u64()), (2, Some(2)), "{r:?}");
    // Named by threatspec.yaml's paths.
    write(d, "threatspec.yaml", "paths:\n  - app.py\n  - docs/design.txt\n  - path: docs\n");
    let (r, n) = files_scanned(d, &[]);
    assert_eq!((n, r.json()["summary"]["files_with_annotations"].as_u64()), (2, Some(2)), "{r:?}");
}

/// `check --format json` in `dir`: the exit status and each diagnostic as `file:line code`,
/// sorted.
fn diagnosed(dir: &std::path::Path, extra: &[&str]) -> (i32, Vec<String>) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let r = run(dir, &args);
    let json = r.json();
    let mut found: Vec<String> = json["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("{r:?}"))
        .iter()
        .map(|d| format!("{}:{} {}", d["file"].as_str().unwrap(), d["line"], d["code"].as_str().unwrap()))
        .collect();
    found.sort();
    (r.code, found)
}

/// A file that is reported (a `dangling-reference` at line 1) when it is read.
const READ_ME: &str = "# @mitigates Shop.Api against #undefined-threat using #undefined-control\n";

/// Issue 13: the shape of a public ThreatSpec 0.5 `threatspec.yaml` (commented, `project:`,
/// `imports:`, `paths:` with a mapping entry) whose repository moved on: a directory that no
/// longer exists and a glob that matches nothing are warnings at their lines, `*.java` and
/// `src/**/*.py` select files as ThreatSpec's `glob` does, and a plain `ignore:` string skips
/// every path containing it. The rest of the project is read.
#[test]
fn threatspec_yaml_with_a_stale_directory_and_globs() {
    let dir = tempdir();
    let d = dir.path();
    write(
        d,
        "threatspec.yaml",
        "# threatspec configuration\nproject:\n  name: \"Payments\"   # shown in reports\n  description: \"x\"\n\
         imports:\n  - './vendored-lib'\n  - '../sibling-repo'\npaths:\n  - './terraform-infra'   # removed last year\n\
         \x20 - '*.java'\n  - 'src/**/*.py'\n  - 'src/**/*.rb'\n  - path: lib\n    ignore:\n      - tests\n",
    );
    write(d, "Top.java", READ_ME.replace("# @", "// @"));
    write(d, "nested/Deep.java", READ_ME);
    write(d, "src/a/b/deep.py", READ_ME);
    write(d, "src/top.py", READ_ME);
    write(d, "src/notes.txt", READ_ME);
    write(d, "lib/ok.py", READ_ME);
    write(d, "lib/tests/t.py", READ_ME);
    write(d, "lib/latests.py", READ_ME);
    write(d, "elsewhere.py", READ_ME);
    let (code, found) = diagnosed(d, &[]);
    assert_eq!(code, 1, "{found:?}");
    let dangling = |file: &str| format!("{file}:1 dangling-reference");
    let mut expected = vec![
        dangling("Top.java"),
        dangling("Top.java"),
        dangling("lib/ok.py"),
        dangling("lib/ok.py"),
        dangling("src/a/b/deep.py"),
        dangling("src/a/b/deep.py"),
        dangling("src/top.py"),
        dangling("src/top.py"),
        "threatspec.yaml:12 config-path-missing".to_string(),
        "threatspec.yaml:6 config-path-missing".to_string(),
        "threatspec.yaml:9 config-path-missing".to_string(),
    ];
    expected.sort();
    assert_eq!(found, expected);
    // The warnings follow --fail-on like any other.
    write(d, "threatspec.yaml", "paths:\n  - gone\n  - '*.java'\n");
    std::fs::write(d.join("Top.java"), "class Top {}\n").unwrap();
    let (code, found) = diagnosed(d, &[]);
    assert_eq!((code, found), (0, vec!["threatspec.yaml:2 config-path-missing".to_string()]));
    assert_eq!(diagnosed(d, &["--fail-on", "warning"]).0, 1);
    // SARIF places it in the config file, at the entry.
    let log = run(d, &["check", "--format", "sarif"]).json();
    assert_valid_sarif(&log);
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "config-path-missing", "{log}");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        (location["artifactLocation"]["uri"].as_str(), location["region"]["startLine"].as_u64()),
        (Some("threatspec.yaml"), Some(2))
    );
}

/// Issue 13: `.guardlink/config.json` is honoured as GuardLink reads it: `include`/`exclude`
/// are fast-glob patterns relative to the project root (`tests` is the top-level directory,
/// `**/fixtures/**` any), `definitions` names a file in `.guardlink/` that is always read, and
/// `project` titles the report. Its problems are diagnostics in it.
#[test]
fn guardlink_config_include_exclude_definitions_and_name() {
    let dir = tempdir();
    let d = dir.path();
    let config = "{\n  \"version\": \"1.1.0\",\n  \"project\": \"Ledger Service\",\n  \"definitions\": \"defs.py\",\n  \
                  \"include\": [\"**/*.ts\"],\n  \"exclude\": [\"tests\", \"**/fixtures/**\"]\n}\n";
    write(d, ".guardlink/config.json", config);
    let ts = READ_ME.replace("# @", "// @");
    write(d, ".guardlink/defs.py", "# @threat Undefined (#undefined-threat)\n");
    write(d, "src/app.ts", &ts);
    write(d, "src/app.py", READ_ME);
    write(d, "tests/t.ts", &ts);
    write(d, "pkg/tests/kept.ts", &ts);
    write(d, "pkg/fixtures/f.ts", &ts);
    // GuardLink's own files are read whatever `include` says: a `.gal` sidecar of external mode.
    write(d, ".guardlink/annotations/src/app.ts.gal", "@exposes App to #nowhere\n");
    let (code, found) = diagnosed(d, &[]);
    assert_eq!(code, 1, "{found:?}");
    // defs.py defines the threat: only the control dangles, in the files read.
    assert_eq!(
        found,
        [
            ".guardlink/annotations/src/app.ts.gal:1 dangling-reference",
            "pkg/tests/kept.ts:1 dangling-reference",
            "src/app.ts:1 dangling-reference"
        ]
    );
    // --include replaces the config's include; its excludes still apply.
    let (_, found) = diagnosed(d, &["--include", "*.py"]);
    assert_eq!(found, ["src/app.py:1 dangling-reference"]);
    // The project name titles the report.
    let r = run(d, &["report", "--no-cache", "-o", "report.md"]);
    assert_eq!(r.code, 0, "{r:?}");
    let report = std::fs::read_to_string(d.join("report.md")).unwrap();
    assert!(report.lines().next().unwrap_or_default().contains("Ledger Service"), "{report}");
    std::fs::remove_file(d.join("report.md")).unwrap();
    // A definitions file that is gone is a warning at its entry.
    std::fs::remove_file(d.join(".guardlink/defs.py")).unwrap();
    let (_, found) = diagnosed(d, &[]);
    assert!(found.contains(&".guardlink/config.json:4 config-path-missing".to_string()), "{found:?}");
    // A config that does not parse: an error at the JSON error's line, and the project is
    // read as if it did not exist.
    write(d, ".guardlink/config.json", "{\n  \"include\": [\"**/*.ts\",]\n}\n");
    let (_, found) = diagnosed(d, &[]);
    assert!(found.contains(&".guardlink/config.json:2 invalid-config".to_string()), "{found:?}");
    assert!(found.iter().any(|f| f.starts_with("src/app.py:")), "{found:?}");
    assert!(found.iter().any(|f| f.starts_with("tests/t.ts:")), "{found:?}");
}

/// Issue 13: with both files, `threatspec.yaml` decides what is read and the project's name;
/// `.guardlink/config.json` still adds its definitions file.
#[test]
fn threatspec_yaml_takes_precedence_over_guardlink_config() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "threatspec.yaml", "project:\n  name: From ThreatSpec\npaths:\n  - src\n");
    write(
        d,
        ".guardlink/config.json",
        "{\"project\": \"From GuardLink\", \"definitions\": \"defs.gal\", \"include\": [\"**/*.ts\"]}",
    );
    write(d, ".guardlink/defs.gal", "@threat Undefined (#undefined-threat)\n");
    write(d, "src/app.py", READ_ME);
    write(d, "other/x.ts", READ_ME.replace("# @", "// @"));
    let (_, found) = diagnosed(d, &[]);
    assert_eq!(found, ["src/app.py:1 dangling-reference"]);
    let r = run(d, &["report", "--no-cache", "-o", "report.md"]);
    assert_eq!(r.code, 0, "{r:?}");
    let report = std::fs::read_to_string(d.join("report.md")).unwrap();
    assert!(report.contains("From ThreatSpec") && !report.contains("From GuardLink"), "{report}");
}

/// A `.guardlink` directory that is a symbolic link (to a config outside the repository that
/// would exclude everything and rename the project) is not read through: a note names it and
/// the walk goes on without it.
#[cfg(unix)]
#[test]
fn a_linked_guardlink_directory_is_not_read_through() {
    let dir = tempdir();
    let outside = tempdir();
    let d = dir.path();
    write(outside.path(), "config.json", "{\"project\": \"Outside Name\", \"exclude\": [\"src\"]}");
    std::os::unix::fs::symlink(outside.path(), d.join(".guardlink")).unwrap();
    write(d, "src/app.py", READ_ME);
    let r = run(d, &["check", "--format", "json"]);
    assert!(
        r.stderr.contains(".guardlink/config.json: not read: symbolic link (not followed) (its include, exclude and definitions are not applied)"),
        "{r:?}"
    );
    assert!(r.stdout.contains("src/app.py"), "{r:?}");
    let report = run(d, &["report", "--no-cache", "-o", "report.md"]);
    assert_eq!(report.code, 0, "{report:?}");
    let text = std::fs::read_to_string(d.join("report.md")).unwrap();
    assert!(!text.contains("Outside Name"), "{text}");
}
