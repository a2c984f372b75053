//! Which files `check` reads: ignore files, hidden paths, `.guardlink/`, symlinks, binary,
//! non-UTF-8 and oversized files, direct file arguments, `threatspec.yaml`, reported paths.
//! None of this depends on the annotation parser: `summary.files_scanned` counts files read.

#[path = "cli_support.rs"]
mod support;
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
