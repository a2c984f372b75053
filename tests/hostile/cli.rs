//! Hostile and broken files through the built binary: whatever a repository holds, `check`
//! and `dfd` finish, never crash, name every path they cannot use, exit 0/1 by the findings
//! (files they skip by the documented rules) or 2 with a message naming the path (arguments
//! they cannot use), and change nothing on disk.

use crate::hostile;
use crate::support;

use hostile::*;
use std::path::Path;
use support::*;

/// A good file next to the hostile ones: its finding must always be reported.
const GOOD: &str = "# @threat SQL Injection (#sqli) [high]\n# @exposes Shop.Api to #sqli\n";

/// Runs `check --format json` (plus `args`) and `dfd` in `dir`, asserting no crash and an
/// unchanged tree; returns the check run.
fn check_untouched(dir: &Path, args: &[&str]) -> Run {
    let before = digest(dir);
    let mut check = vec!["check", "--format", "json", "--verbose"];
    check.extend_from_slice(args);
    let r = run(dir, &check);
    assert_no_crash(&r.stderr, "check");
    let dfd = run(dir, &["dfd"]);
    assert_no_crash(&dfd.stderr, "dfd");
    assert!(dfd.code == 0 || dfd.code == 2, "{dfd:?}");
    assert_unchanged(&before, &digest(dir), "check and dfd");
    r
}

/// The diagnostics of a JSON run as `file:line:column code`, sorted.
fn found(r: &Run) -> Vec<String> {
    let mut found: Vec<String> = r.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}:{}:{} {}",
                d["file"].as_str().unwrap(),
                d["line"],
                d["column"],
                d["code"].as_str().unwrap()
            )
        })
        .collect();
    found.sort();
    found
}

/// The run failed (status 1) with exactly these diagnostics.
fn assert_found(r: &Run, expected: &[&str]) {
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(found(r), expected, "{r:?}");
}

fn good_finding() -> String {
    "good.py:2:3 unmitigated-exposure".to_string()
}

/// A temporary project holding `good.py`.
fn with_good_file() -> tempfile::TempDir {
    let dir = tempdir();
    write(dir.path(), "good.py", GOOD);
    dir
}

#[test]
fn invalid_utf8_and_nul_bytes() {
    let dir = with_good_file();
    let d = dir.path();
    write(d, "latin1.py", b"# @exposes Shop.Api to #caf\xe9\n");
    write(d, "nul_early.py", b"# @exposes Shop.Api to #x\0\n");
    // A NUL after the first 8 KiB is not taken for a binary file: the text is valid UTF-8
    // and is parsed like any other, NUL included.
    let mut late = "x = 1\n".repeat(2000).into_bytes();
    late.extend_from_slice(
        b"s = '\0'\n# @threat Late (#late) [high]\n# @exposes Shop.Late to #late\n# \0\0\n",
    );
    write(d, "nul_late.py", &late);
    let gal = format!(
        "{}\0\0\n@threat Gal (#gal) [high]\n@exposes Shop.Gal to #gal\n",
        "@comment padding\n".repeat(600)
    );
    write(d, "nul_late.gal", gal);
    let r = check_untouched(d, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let lines = skipped_lines(&r);
    assert!(
        lines.contains(&"skipped latin1.py: not valid UTF-8 (first invalid byte at offset 27)"),
        "{lines:?}"
    );
    assert!(lines.contains(&"skipped nul_early.py: binary file (NUL byte in the first 8 KiB)"), "{lines:?}");
    let found = found(&r);
    assert!(found.contains(&good_finding()), "{found:?}");
    assert!(found.contains(&"nul_late.py:2003:3 unmitigated-exposure".to_string()), "{found:?}");
    assert!(found.contains(&"nul_late.gal:603:1 unmitigated-exposure".to_string()), "{found:?}");
    assert_eq!(found.len(), 3, "{found:?}");
}

#[test]
fn fifty_megabyte_file_is_skipped_by_size_without_reading_it() {
    let dir = with_good_file();
    let d = dir.path();
    write_big(&d.join("huge.py"), 50_000_000);
    let r = check_untouched(d, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        skipped_lines(&r).contains(&"skipped huge.py: too large (50000000 bytes, limit 2097152)"),
        "{r:?}"
    );
    assert_eq!(found(&r), [good_finding()]);
    // Named directly, it is still subject to the limit.
    let r = check_untouched(d, &["huge.py"]);
    assert_eq!((r.code, r.json()["summary"]["files_scanned"].as_u64()), (0, Some(0)), "{r:?}");
}

#[test]
fn two_megabyte_single_line() {
    let dir = with_good_file();
    let d = dir.path();
    let long =
        format!("# @threat Long (#long) -- \"{}\"\n# @exposes Shop.Long to #long\n", "x".repeat(2_000_000));
    write(d, "long.py", &long);
    write(d, "noise.js", format!("const s = \"{}\"; // @audit Shop.Js\n", "y".repeat(2_000_000)));
    let r = check_untouched(d, &[]);
    // The threat on the long line is not read, so its reference dangles.
    assert_found(&r, &[&good_finding(), "long.py:1:3 resource-limit", "long.py:2:26 dangling-reference"]);
    let json = r.json();
    let limit =
        json["diagnostics"].as_array().unwrap().iter().find(|d| d["code"] == "resource-limit").unwrap();
    assert!(limit["message"].as_str().unwrap().contains("lines over 4096 bytes are not read"), "{limit}");
    // The human report shows a window of the line, not 2 MB of it.
    let human = run(d, &["check"]);
    assert_eq!(human.code, 1);
    assert!(
        human.stdout.len() < 4000,
        "{} bytes:\n{}",
        human.stdout.len(),
        &human.stdout[..4000.min(human.stdout.len())]
    );
    assert!(human.stdout.contains("@threat Long (#long) -- \"xxxx"), "{}", human.stdout);
}

#[test]
fn a_hundred_thousand_annotations_in_one_file() {
    let dir = with_good_file();
    let d = dir.path();
    write_lines(&d.join("many.gal"), 100_000, |i| format!("@asset P{i}\n"));
    let r = check_untouched(d, &[]);
    // The first 10,000 are read; the limit is reported where reading stopped.
    assert_found(&r, &[&good_finding(), "many.gal:10001:1 resource-limit"]);
    assert_eq!(r.json()["summary"]["annotations"], 10_002, "{r:?}");
}

#[test]
fn deeply_nested_code() {
    let dir = with_good_file();
    let d = dir.path();
    let n = 100_000;
    // Unclosed brackets: tree-sitter's error recovery builds one very wide error node, on
    // which a comment query takes minutes (the walk must stay linear).
    write(d, "parens.js", format!("{}\n// @audit Shop.Js\n", "(".repeat(n)));
    write(d, "braces.rs", format!("fn f() {}\n// @audit Shop.Rs\n", "{".repeat(n)));
    write(d, "nested.c", format!("int x = {}1;\n// @audit Shop.C\n", "(".repeat(n)));
    write(d, "deep.py", format!("x = {}\n# @audit Shop.Py\n", "[".repeat(n)));
    write(
        d,
        "deep.json",
        format!("{}{{\"x-threatspec\": \"@audit Shop.Json\"}}{}", "[".repeat(n), "]".repeat(n)),
    );
    write(d, "deep.yaml", format!("{}\n# @audit Shop.Yaml\n", "- ".repeat(5000)));
    // Balanced and deep: a long else-if chain nests one level per branch.
    write(d, "chain.ts", format!("{}{{}}\n// @audit Shop.Ts\n", "if (a) {} else ".repeat(20_000)));
    let r = check_untouched(d, &["--fail-on", "never"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Every file's annotation is found (an audit is not a diagnostic: count them).
    let summary = &r.json()["summary"];
    assert_eq!(summary["files_with_annotations"], 8, "{r:?}");
    assert_eq!(summary["reviews"], 7, "{r:?}");
}

#[test]
fn crlf_and_lone_cr_line_endings() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "crlf.py", "x = 1\r\n# @threat T (#t) [high]\r\n# @exposes Crlf.App to #t\r\n");
    write(d, "cr.py", "x = 1\r# @threat U (#u) [high]\r#   @exposes Cr.App to #u\r");
    write(
        d,
        "mixed.c",
        "int a;\r\n/* @threat V (#v) [high]\r * @exposes Mixed.App to #v */\n// @audit Mixed.App\r",
    );
    write(d, "cr.gal", "@threat W (#w) [high]\r\r@exposes Gal.App to #w -- \"one\"\r-- \"two\"\r");
    let r = check_untouched(d, &[]);
    assert_found(
        &r,
        &[
            "cr.gal:3:1 unmitigated-exposure",
            "cr.py:3:5 unmitigated-exposure",
            "crlf.py:3:3 unmitigated-exposure",
            "mixed.c:3:4 unmitigated-exposure",
        ],
    );
}

#[test]
fn byte_order_marks() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "utf8.py", b"\xef\xbb\xbf# @threat T (#t) [high]\n# @exposes Bom.App to #t\n");
    write(d, "utf8.gal", b"\xef\xbb\xbf@threat U (#u) [high]\n@exposes Bom.Gal to #u\n");
    write(d, "utf8.yaml", b"\xef\xbb\xbf# @threat V (#v) [high]\nx-threatspec: '@exposes Bom.Yaml to #v'\n");
    let utf16 = |bom: [u8; 2], le: bool| {
        let text = "# @exposes Bom.Wide to #t\n";
        let mut bytes = bom.to_vec();
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&if le { unit.to_le_bytes() } else { unit.to_be_bytes() });
        }
        bytes
    };
    write(d, "utf16le.py", utf16([0xff, 0xfe], true));
    write(d, "utf16be.py", utf16([0xfe, 0xff], false));
    // A BOM that is not at the start is an ordinary (zero-width) character.
    write(d, "middle.py", "# @threat X (#x) [high]\n# \u{feff}@exposes Bom.Middle to #x\n");
    let r = check_untouched(d, &[]);
    // The mid-line BOM hides the `@exposes` (it is not whitespace): threat X stays unused.
    assert_found(
        &r,
        &[
            "middle.py:1:11 unused-definition",
            "utf8.gal:2:1 unmitigated-exposure",
            "utf8.py:2:3 unmitigated-exposure",
            "utf8.yaml:2:16 unmitigated-exposure",
        ],
    );
    let skipped = skipped_lines(&r);
    for wide in ["utf16be.py", "utf16le.py"] {
        assert!(
            skipped.contains(&format!("skipped {wide}: binary file (NUL byte in the first 8 KiB)").as_str())
        );
    }
}

#[cfg(unix)]
#[test]
fn symlink_loops_as_arguments_and_in_config() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "repo/good.py", GOOD);
    std::os::unix::fs::symlink("loop", d.join("loop")).unwrap();
    std::os::unix::fs::symlink("b", d.join("a")).unwrap();
    std::os::unix::fs::symlink("a", d.join("b")).unwrap();
    std::os::unix::fs::symlink("..", d.join("repo/up")).unwrap();
    // A loop named by the ThreatSpec config of a project.
    write(d, "looped/good.py", GOOD);
    std::os::unix::fs::symlink("spin", d.join("looped/spin")).unwrap();
    write(d, "looped/threatspec.yaml", "paths:\n  - good.py\n  - spin\n");
    let before = digest(d);
    for arg in ["loop", "a"] {
        let r = run(d, &["check", arg]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.starts_with(&format!("threat-analyzer: error: {arg}: ")), "{r:?}");
        assert_no_crash(&r.stderr, arg);
        let r = run(d, &["dfd", arg]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains(arg), "{r:?}");
    }
    // Named by the config: an `invalid-config` error at its entry; the rest is read.
    let r = run(d, &["check", "--format", "json", "looped"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        found(&r),
        ["looped/good.py:2:3 unmitigated-exposure", "looped/threatspec.yaml:3:5 invalid-config"],
        "{r:?}"
    );
    assert_no_crash(&r.stderr, "config loop");
    // Inside a walked tree, loops are links, and links are not followed.
    let r = run(d, &["check", "--format", "json", "repo"]);
    assert_eq!((r.code, found(&r)), (1, vec!["repo/good.py:2:3 unmitigated-exposure".to_string()]), "{r:?}");
    assert_unchanged(&before, &digest(d), "runs on symlink loops");
}

#[cfg(unix)]
#[test]
fn unreadable_files_and_directories() {
    use std::os::unix::fs::PermissionsExt;
    let dir = with_good_file();
    let d = dir.path();
    write(d, "secret.py", "# @exposes Shop.Secret to #sqli\n");
    write(d, "locked/inner.py", "# @exposes Shop.Locked to #sqli\n");
    let mode =
        |p: &str, m: u32| std::fs::set_permissions(d.join(p), std::fs::Permissions::from_mode(m)).unwrap();
    mode("secret.py", 0o000);
    mode("locked", 0o000);
    let privileged = permissions_do_not_bind(d);
    let r = check_untouched(d, &[]);
    let argument = run(d, &["check", "locked"]);
    mode("locked", 0o755);
    mode("secret.py", 0o644);
    assert_eq!(r.code, 1, "{r:?}");
    let found = found(&r);
    assert!(found.contains(&good_finding()), "{found:?}");
    if privileged {
        // Running as root: permission bits do not stop reading, so both files are read.
        eprintln!("running with CAP_DAC_OVERRIDE: unreadable files are readable");
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(argument.code, 1, "{argument:?}");
    } else {
        assert_eq!(found, [good_finding()]);
        let skipped = skipped_lines(&r);
        assert!(skipped.iter().any(|l| l.starts_with("skipped secret.py: unreadable: ")), "{skipped:?}");
        assert!(skipped.iter().any(|l| l.starts_with("skipped locked: unreadable: ")), "{skipped:?}");
        assert_eq!(argument.code, 2, "{argument:?}");
        assert!(argument.stderr.starts_with("threat-analyzer: error: locked: "), "{argument:?}");
    }
}

#[cfg(unix)]
#[test]
fn named_pipes_and_devices_never_block_the_walk() {
    let dir = with_good_file();
    let d = dir.path();
    mkfifo(&d.join("pipe.py"));
    std::os::unix::fs::symlink("/dev/zero", d.join("Dockerfile")).unwrap();
    // In the walk: not regular files, skipped.
    let r = check_untouched(d, &[]);
    assert_eq!((r.code, found(&r)), (1, vec![good_finding()]), "{r:?}");
    assert!(skipped_lines(&r).contains(&"skipped pipe.py: not a regular file"), "{r:?}");
    // Named directly, or by the config: an error naming the path, not a hang.
    for arg in ["pipe.py", "Dockerfile"] {
        let r = run(d, &["check", arg]);
        assert_eq!(r.code, 2, "{arg}: {r:?}");
        assert!(r.stderr.contains(&format!("{arg}: not a regular file")), "{r:?}");
    }
    write(d, "threatspec.yaml", "paths:\n  - good.py\n  - pipe.py\n");
    let r = run(d, &["check", "--format", "json"]);
    assert_eq!(
        (r.code, found(&r)),
        (1, vec![good_finding(), "threatspec.yaml:3:5 invalid-config".into()]),
        "{r:?}"
    );
    assert!(r.stdout.contains("pipe.py") && r.stdout.contains("not a regular file"), "{r:?}");
}

/// A cold run's walk takes no `lstat` of the files it finds (the scan takes each from the
/// file it opens, without blocking and never through a link), a warm run's walk takes one (it
/// compares them with the index cache's entries before opening anything), `--no-cache` takes
/// none: all three skip the same files for the same reasons and report the same findings.
#[cfg(unix)]
#[test]
fn cold_warm_and_uncached_walks_skip_alike() {
    use std::os::unix::fs::PermissionsExt;
    let dir = with_good_file();
    let d = dir.path();
    mkfifo(&d.join("pipe.py"));
    std::os::unix::fs::symlink("good.py", d.join("link.py")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.py")).unwrap();
    write(d, "big.py", format!("{GOOD}{}\n", "x".repeat(2000)));
    write(d, "nul.py", "# @exposes Shop.Nul to #sqli\n\0\n");
    // Too large and not readable: too large, as the walk's `lstat` said before it was opened.
    write(d, "locked.py", format!("{GOOD}{}\n", "x".repeat(2000)));
    std::fs::set_permissions(d.join("locked.py"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let cache = tempdir();
    let env = [("THREAT_ANALYZER_CACHE_DIR", cache.path().to_str().unwrap())];
    let args = ["check", "--format", "json", "--verbose", "--max-file-size", "1000"];
    let cold = run_env(d, &args, &env);
    let warm = run_env(d, &args, &env);
    let uncached = run_env(d, &[&args[..], &["--no-cache"]].concat(), &env);
    std::fs::set_permissions(d.join("locked.py"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let size = GOOD.len() + 2001;
    let expected = [
        format!("skipped big.py: too large ({size} bytes, limit 1000)"),
        "skipped link.py: symbolic link (links are not followed)".to_string(),
        format!("skipped locked.py: too large ({size} bytes, limit 1000)"),
        "skipped nul.py: binary file (NUL byte in the first 8 KiB)".to_string(),
        "skipped pipe.py: not a regular file".to_string(),
        "skipped zero.py: symbolic link (links are not followed)".to_string(),
    ];
    for (what, r) in [("cold", &cold), ("warm", &warm), ("--no-cache", &uncached)] {
        assert_no_crash(&r.stderr, what);
        assert_eq!((r.code, found(r)), (1, vec![good_finding()]), "{what}: {r:?}");
        assert_eq!(skipped_lines(r), expected, "{what}: {r:?}");
        assert_eq!(r.stdout, cold.stdout, "{what}");
    }
    // good.py and nul.py: read again (written within the racy window) and verified.
    assert!(warm.stderr.contains("reused 2 of 4 files"), "{warm:?}");
}

/// Files deleted, replaced (by directories, pipes, bigger files, invalid text) and created
/// while the walk runs: every run finishes without a crash and reports the good file.
#[cfg(unix)]
#[test]
fn files_deleted_or_replaced_while_indexing() {
    let dir = tempdir();
    let d = dir.path().to_path_buf();
    write(&d, "good.py", GOOD);
    let churn = Churn::start(&d.join("churn"), 300, |_| "# @audit Shop.Churn\n".repeat(200));
    for _ in 0..10 {
        let r = run(&d, &["check", "--format", "json"]);
        assert_no_crash(&r.stderr, "check during churn");
        assert_eq!(r.code, 1, "{r:?}");
        assert!(found(&r).contains(&good_finding()), "{r:?}");
    }
    drop(churn);
}

#[test]
fn a_directory_with_a_hundred_thousand_entries() {
    let dir = with_good_file();
    let d = dir.path();
    let wide = d.join("wide");
    std::fs::create_dir(&wide).unwrap();
    for i in 0..100_000 {
        // Empty files: the walk still lists, stats and reads each one.
        std::fs::File::create(wide.join(format!("m{i:06}.py"))).unwrap();
    }
    write(d, "wide/m_annotated.py", "# @audit Shop.Wide\n");
    let r = check_untouched(d, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let summary = &r.json()["summary"];
    assert_eq!(summary["files_scanned"], 100_002, "{summary}");
    assert_eq!(summary["reviews"], 1, "{summary}");
    assert_eq!(found(&r), [good_finding()]);
}

/// Runs `check --format json --verbose` in `dir` with its address space capped at 1 GiB (a
/// loader that reads without bound dies at the cap instead of taking the machine's memory).
#[cfg(target_os = "linux")]
fn check_capped(dir: &Path) -> Run {
    let r = run_wrapped(
        dir,
        &["prlimit", "--as=1073741824", "--"],
        &["check", "--format", "json", "--verbose"],
        &[],
    );
    assert_no_crash(&r.stderr, "check under a memory cap");
    r
}

/// The `threat-analyzer: note:` lines of a run.
fn notes(r: &Run) -> Vec<&str> {
    r.stderr.lines().filter(|l| l.starts_with("threat-analyzer: note: ")).collect()
}

/// Issue 12 item 2: `.gitignore`/`.ignore` links to devices, to `/proc` and to files outside
/// the repository, and an ignore file over the size limit, are not read: each is named in a
/// note and its rules are not applied; regular ignore files still are.
#[cfg(target_os = "linux")]
#[test]
fn linked_and_oversized_ignore_files_are_skipped_with_a_note() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "repo/good.py", GOOD);
    // Honoured: a regular ignore file.
    write(d, "repo/.gitignore", "ignored.py\n");
    write(d, "repo/ignored.py", "# @exposes Shop.Ignored to #sqli\n");
    // Not read: links (to endless files, to rules outside the repository) and a big file.
    write(d, "repo/zero/z.py", "# @exposes Shop.Zero to #sqli\n");
    std::os::unix::fs::symlink("/dev/zero", d.join("repo/zero/.gitignore")).unwrap();
    write(d, "repo/pagemap/p.py", "# @exposes Shop.Pagemap to #sqli\n");
    std::os::unix::fs::symlink("/proc/self/pagemap", d.join("repo/pagemap/.ignore")).unwrap();
    write(d, "outside-rules", "*.py\n");
    write(d, "repo/outside/o.py", "# @exposes Shop.Outside to #sqli\n");
    std::os::unix::fs::symlink(d.join("outside-rules"), d.join("repo/outside/.gitignore")).unwrap();
    let big = "# a comment line of an ignore file, repeated past the limit\n";
    write(d, "repo/big/.ignore", big.repeat(((1 << 20) / big.len()) + 1) + "b.py\n");
    write(d, "repo/big/b.py", "# @exposes Shop.Big to #sqli\n");
    let repo = d.join("repo");
    let before = digest(&repo);
    let r = check_capped(&repo);
    assert_unchanged(&before, &digest(&repo), "check");
    assert_found(
        &r,
        &[
            "big/b.py:1:3 unmitigated-exposure",
            "good.py:2:3 unmitigated-exposure",
            "outside/o.py:1:3 unmitigated-exposure",
            "pagemap/p.py:1:3 unmitigated-exposure",
            "zero/z.py:1:3 unmitigated-exposure",
        ],
    );
    let size = std::fs::metadata(repo.join("big/.ignore")).unwrap().len();
    assert_eq!(
        notes(&r),
        [
            format!(
                "threat-analyzer: note: big/.ignore: not read: too large ({size} bytes, limit 1048576) (its rules \
                 are not applied)"
            )
            .as_str(),
            "threat-analyzer: note: outside/.gitignore: not read: symbolic link (not followed) (its rules are not \
             applied)",
            "threat-analyzer: note: pagemap/.ignore: not read: symbolic link (not followed) (its rules are not \
             applied)",
            "threat-analyzer: note: zero/.gitignore: not read: symbolic link (not followed) (its rules are not \
             applied)",
        ],
        "{r:?}"
    );
}

/// Issue 12 item 3: a `threatspec.yaml` that is a link (to `/dev/zero`, `/proc/self/pagemap`,
/// or a configuration outside the repository whose project name would title the report) or
/// over the size limit is not read: a note names it and the whole directory is checked.
#[cfg(target_os = "linux")]
#[test]
fn linked_and_oversized_threatspec_configs_are_skipped_with_a_note() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "outside.yaml", "project:\n  name: Outside Name\npaths: [nothing]\n");
    let big =
        format!("project:\n  name: Big Name\npaths: [nothing]\n{}", "# padding\n".repeat((1 << 20) / 10));
    for (name, target) in [
        ("zero", Some("/dev/zero".to_string())),
        ("pagemap", Some("/proc/self/pagemap".to_string())),
        ("outside", Some(d.join("outside.yaml").display().to_string())),
        ("big", None),
    ] {
        let repo = d.join(name);
        write(&repo, "good.py", GOOD);
        match target {
            Some(target) => std::os::unix::fs::symlink(target, repo.join("threatspec.yaml")).unwrap(),
            None => drop(write(&repo, "threatspec.yaml", &big)),
        }
        let r = check_capped(&repo);
        // `paths: [nothing]` would have made the run fail: read whole, the finding is there.
        assert_found(&r, &["good.py:2:3 unmitigated-exposure"]);
        let why = match name {
            "big" => format!("too large ({} bytes, limit 1048576)", big.len()),
            _ => "symbolic link (not followed)".to_string(),
        };
        let expected = format!(
            "threat-analyzer: note: threatspec.yaml: not read: {why} (the whole directory is read instead of its \
             `paths:`)"
        );
        assert!(notes(&r).contains(&expected.as_str()), "{name}: {r:?}");
        // Nor does its project name title the report.
        let report = run(&repo, &["report", "--no-cache", "-o", "report.md"]);
        assert_eq!(report.code, 0, "{report:?}");
        let text = std::fs::read_to_string(repo.join("report.md")).unwrap();
        assert!(!text.contains("Outside Name") && !text.contains("Big Name"), "{name}: {text}");
        assert!(text.contains(name), "{name}: the directory names the project: {text}");
    }
}

/// A 461-byte `threatspec.yaml` of nested aliases ("billion laughs": 10^9 strings once
/// expanded) took every byte of memory while it loaded: aliases are refused before loading,
/// as an `invalid-config` error at that line, and the project is read as if the file did not
/// exist.
#[cfg(target_os = "linux")]
#[test]
fn threatspec_config_aliases_are_refused_before_expansion() {
    let dir = with_good_file();
    let mut laughs = vec!["a0: &a0 [x, x, x, x, x, x, x, x, x, x]".to_string()];
    laughs.extend((1..9).map(|i| format!("a{i}: &a{i} [{}]", vec![format!("*a{}", i - 1); 10].join(", "))));
    write(dir.path(), "threatspec.yaml", laughs.join("\n") + "\npaths: [.]\n");
    let r = check_capped(dir.path());
    assert_found(&r, &["good.py:2:3 unmitigated-exposure", "threatspec.yaml:2:1 invalid-config"]);
    assert!(r.stdout.contains("invalid configuration: line 2: aliases (`*name`) are not supported"), "{r:?}");
}

/// Texts a grammar's C scanner cannot survive (they aborted `check` or hung it for ever) are
/// read without a tree: the run finishes, their whole-line annotations are read, and each file
/// gets a `no-syntax-tree` note at the cause.
#[test]
fn files_a_grammar_scanner_cannot_survive_are_read_with_a_note() {
    let dir = with_good_file();
    let breakers = scanner_breakers();
    for (name, text, _) in &breakers {
        write(dir.path(), name, text.as_str());
    }
    let r = check_untouched(dir.path(), &["--fail-on", "note"]);
    assert_eq!(r.code, 1, "{r:?}");
    let diagnostics = r.json()["diagnostics"].as_array().unwrap().clone();
    for (name, text, cause) in &breakers {
        let of_file: Vec<&serde_json::Value> = diagnostics.iter().filter(|d| d["file"] == *name).collect();
        let codes: Vec<&str> = of_file.iter().map(|d| d["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["unmitigated-exposure", "no-syntax-tree"], "{name}: {of_file:?}");
        let note = of_file[1];
        let (line, column) =
            (note["line"].as_u64().unwrap() as usize, note["column"].as_u64().unwrap() as usize);
        assert!(is_scanner_cause(text, line - 1, column - 1, *cause), "{name}: {note}");
        assert_eq!(note["severity"], "note", "{note}");
        let message = note["message"].as_str().unwrap();
        assert!(message.starts_with("this file was read without a syntax tree, because "), "{message}");
    }
}
