//! Helpers for the hostile-input tests (included with `#[path]`; no tests of its own): a
//! digest of a directory tree, to prove that a run changed nothing on disk, and generators
//! for big inputs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a tree looks like: for every entry (not following symbolic links), its type, size,
/// modification time and, for readable regular files up to 4 MiB, a hash of the contents.
pub type Digest = BTreeMap<PathBuf, String>;

pub fn digest(root: &Path) -> Digest {
    let mut out = Digest::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            out.insert(dir, "unreadable directory".into());
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            let kind = meta.file_type();
            let modified = meta.modified().ok().map(|t| format!("{t:?}")).unwrap_or_default();
            let mut line = format!("{kind:?} {} {modified}", meta.len());
            if kind.is_dir() {
                stack.push(path.clone());
            } else if kind.is_file() && meta.len() <= 4 << 20 {
                if let Ok(bytes) = std::fs::read(&path) {
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    bytes.hash(&mut h);
                    line.push_str(&format!(" {:x}", h.finish()));
                }
            } else if kind.is_symlink() {
                line.push_str(&format!(" -> {:?}", std::fs::read_link(&path).ok()));
            }
            out.insert(path, line);
        }
    }
    out
}

/// Asserts that `after` equals `before`, naming the first difference.
pub fn assert_unchanged(before: &Digest, after: &Digest, what: &str) {
    if before == after {
        return;
    }
    let changed: Vec<_> = before
        .iter()
        .filter(|(p, d)| after.get(*p) != Some(d))
        .map(|(p, _)| p.display().to_string())
        .chain(after.keys().filter(|p| !before.contains_key(*p)).map(|p| format!("new {}", p.display())))
        .take(5)
        .collect();
    panic!("{what} changed the tree: {changed:?}");
}

/// Writes `count` lines made by `line(i)` to `path` through a buffer.
pub fn write_lines(path: &Path, count: usize, line: impl Fn(usize) -> String) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = std::io::BufWriter::new(file);
    for i in 0..count {
        w.write_all(line(i).as_bytes()).unwrap();
    }
    w.flush().unwrap();
}

/// A file of `size` bytes: an annotated first line, then `# padding` lines.
pub fn write_big(path: &Path, size: usize) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let head = b"# @threat Big (#big) [high]\n# @exposes Big.App to #big\n";
    w.write_all(head).unwrap();
    let pad = b"x = 1  # padding line, no annotation here at all ......................\n";
    let mut written = head.len();
    while written + pad.len() <= size {
        w.write_all(pad).unwrap();
        written += pad.len();
    }
    w.write_all(&vec![b'#'; size - written]).unwrap();
    w.flush().unwrap();
}

/// True when this process can read files whatever their permission bits (root, or
/// CAP_DAC_OVERRIDE): then `chmod 000` does not make a file unreadable.
pub fn permissions_do_not_bind(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.join(".permission-probe");
    std::fs::write(&probe, "x").unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable = std::fs::read(&probe).is_ok();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::remove_file(&probe).unwrap();
    readable
}

/// Makes a named pipe (opening it for reading blocks until a writer comes: a walker that
/// opens it hangs).
pub fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A message a panic or a crash leaves on standard error.
pub fn assert_no_crash(stderr: &str, what: &str) {
    for sign in ["panicked", "internal error", "RUST_BACKTRACE", "stack overflow", "SIGSEGV"] {
        assert!(!stderr.contains(sign), "{what}: {sign:?} on stderr:\n{stderr}");
    }
}

/// A thread that, until dropped, keeps deleting `count` files `dir/f{i}.py` and putting back a
/// directory, a file of invalid UTF-8, a valid file (`valid(i)`), a named pipe, or nothing.
pub struct Churn {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Churn {
    pub fn start(dir: &Path, count: usize, valid: fn(usize) -> String) -> Churn {
        use std::sync::atomic::Ordering;
        std::fs::create_dir_all(dir).unwrap();
        for i in 0..count {
            std::fs::write(dir.join(format!("f{i}.py")), valid(i)).unwrap();
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (d, flag) = (dir.to_path_buf(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut round = 0usize;
            while !flag.load(Ordering::Relaxed) {
                for i in 0..count {
                    let p = d.join(format!("f{i}.py"));
                    let _ = std::fs::remove_file(&p).or_else(|_| std::fs::remove_dir_all(&p));
                    let _ = match (round + i) % 5 {
                        0 => std::fs::create_dir(&p),
                        1 => std::fs::write(&p, b"# @asset \xff\n"),
                        2 => std::fs::write(&p, valid(i)),
                        3 => std::process::Command::new("mkfifo").arg(&p).status().map(|_| ()),
                        _ => Ok(()),
                    };
                }
                round += 1;
            }
        });
        Churn { stop, thread: Some(thread) }
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Files a grammar's C scanner cannot survive: given to tree-sitter, each aborts the process
/// (`length <= 1024`) or never returns. Each holds a high-severity exposure on whole-line
/// comments (read without a tree), and is given with the text at its cause, where the
/// `no-syntax-tree` note must start (`None`: a line holding only a tab and a `\`, the
/// continued indentation that reaches 360 columns).
pub fn scanner_breakers() -> Vec<(&'static str, String, Option<&'static str>)> {
    let head = |c: &str, id: &str| {
        format!("{c} @threat Deep {id} (#{id}) [high]\n{c} @exposes Shop.{id} to #{id}\n")
    };
    let python: String = std::iter::once(head("#", "py") + "f'{")
        .chain((0..600).map(|i| format!("\n{}{}if x:", "\t\\\n".repeat(i / 8), " ".repeat(i % 8))))
        .chain(["\n".to_string()])
        .collect();
    let nested = head("#", "rb") + "x = " + &"\"#{".repeat(203) + "<<ABCD" + &"}\"".repeat(203) + "\nABCD\n";
    let words: Vec<String> = (0..100).map(|i| format!("A{i:03}")).collect();
    let many = format!(
        "{}f({}, <<{})\n{}{}\n",
        head("#", "heredocs"),
        words.iter().map(|w| format!("<<{w}")).collect::<Vec<_>>().join(", "),
        "B".repeat(219),
        words.iter().map(|w| format!("{w}\n")).collect::<String>(),
        "B".repeat(219)
    );
    let kotlin = head("//", "kt") + "val s = \"x\n@Deprecated(\"For binary compati";
    vec![
        ("deep.py", python, None),
        ("nested.rb", nested, Some("<<ABCD")),
        ("many.rb", many, Some("<<BBB")),
        ("hang.kt", kotlin, Some("@Deprecated")),
    ]
}

/// Whether `cause` (from [`scanner_breakers`]) is what `text` holds at the 0-based `line` and
/// `column` (bytes; the files are ASCII).
pub fn is_scanner_cause(text: &str, line: usize, column: usize, cause: Option<&str>) -> bool {
    let Some(at) = text.split('\n').nth(line) else { return false };
    match cause {
        Some(cause) => at.get(column..).is_some_and(|rest| rest.starts_with(cause)),
        None => column == 0 && at == "\t\\",
    }
}
