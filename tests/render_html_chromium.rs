//! The HTML report in a real browser: headless Chromium (Debian `chromium`, installed by
//! `.ci/install-chromium.sh`) renders the webshop and hostile-corpus reports to PNGs, and loads
//! the hostile report — as shipped, and again with its Content-Security-Policy removed, so an
//! escaping failure shows even where the CSP would have blocked it — to check that no payload
//! ran: the title is not `PWNED`, no element with id `pwned` or any `<img>`/`<script>`/
//! `<iframe>` appeared, and the payloads are in the DOM as text. Two canaries prove the checks
//! can fail: an unescaped page does get `PWNED`, and a wrong style hash does log a CSP
//! violation.
//!
//! Under CI (`CI` set and not `false`/`0`) a missing `chromium` fails; elsewhere these tests
//! print why they skip.

#[path = "support/html.rs"]
mod html_support;
use html_support::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Generous guard against a hung browser (not a timing assertion).
const HANG_GUARD: Duration = Duration::from_secs(120);

/// A blank 1280x2000 page is about 12 KB as PNG; a rendered report is many times that.
const NON_TRIVIAL_PNG: u64 = 50_000;

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .find(|p| p.is_file())
    });
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if found.is_none() {
        assert!(!ci, "CI must install chromium (.ci/install-chromium.sh does)");
        eprintln!("skipping: no `chromium` on PATH (install it with .ci/install-chromium.sh)");
    }
    found
}

struct Run {
    stdout: String,
    stderr: String,
}

/// Runs headless Chromium on `page` with `args`, in its own profile directory.
fn run(browser: &Path, work: &Path, page: &Path, args: &[&str]) -> Run {
    let profile = tempfile::tempdir_in(work).unwrap();
    let mut child = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = r.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let (out, err) = (read(Box::new(out)), read(Box::new(err)));
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("chromium hung on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Run { stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

fn write(dir: &Path, name: &str, html: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, html).unwrap();
    path
}

/// `html` without its CSP `<meta>`.
fn without_csp(html: &str) -> String {
    let start = html.find("<meta http-equiv=\"Content-Security-Policy\"").expect("CSP meta");
    let end = start + html[start..].find('>').unwrap() + 1;
    assert!(html[end..].find("Content-Security-Policy").is_none());
    format!("{}{}", &html[..start], &html[end..])
}

/// The dumped DOM after scripts (if any) had 3 s of virtual time, and the console log.
fn dump_dom(browser: &Path, work: &Path, page: &Path) -> Run {
    run(
        browser,
        work,
        page,
        &["--virtual-time-budget=3000", "--enable-logging=stderr", "--v=0", "--dump-dom"],
    )
}

fn csp_violations(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains("CONSOLE") && l.contains("Content Security Policy")).collect()
}

/// Signs that a payload ran or became markup.
fn mutations(dom: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    let title = dom.split("<title>").nth(1).and_then(|t| t.split("</title>").next()).unwrap_or("");
    // The payloads set it to `PWNED` (the hostile project name has `PWNED` in it as text).
    if !title.starts_with("Threat model report: ") {
        found.push("title changed");
    }
    for (needle, what) in [
        ("id=\"pwned\"", "element #pwned"),
        ("<img", "<img>"),
        ("<script", "<script>"),
        ("<iframe", "<iframe>"),
    ] {
        if dom.contains(needle) {
            found.push(what);
        }
    }
    found
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).expect("screenshot written");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2000), "window size");
    assert!(bytes.len() as u64 > NON_TRIVIAL_PNG, "{} is only {} bytes", path.display(), bytes.len());
}

#[test]
fn reports_render_to_non_trivial_pngs() {
    let Some(browser) = chromium() else { return };
    let work = tempfile::tempdir().unwrap();
    for (name, html) in [("webshop.html", webshop()), ("hostile.html", hostile())] {
        let page = write(work.path(), name, &html);
        let png = work.path().join(name.replace(".html", ".png"));
        let shot = format!("--screenshot={}", png.display());
        let out = run(&browser, work.path(), &page, &[&shot, "--window-size=1280,2000"]);
        assert!(png.exists(), "no screenshot of {name}: {}", out.stderr);
        assert_png(&png);
    }
}

#[test]
fn shipped_reports_break_no_csp_rule() {
    let Some(browser) = chromium() else { return };
    let work = tempfile::tempdir().unwrap();
    for (name, html) in [("webshop.html", webshop()), ("hostile.html", hostile())] {
        let page = write(work.path(), name, &html);
        let out = dump_dom(&browser, work.path(), &page);
        assert!(out.stdout.contains("</html>"), "{name}: no DOM dumped: {}", out.stderr);
        assert_eq!(csp_violations(&out.stderr), Vec::<&str>::new(), "{name}");
    }
    // Canary: a style the policy does not allow is reported, so the check above can fail.
    let html = webshop().replacen("style-src 'sha256-", "style-src 'sha256-A", 1);
    let page = write(work.path(), "bad-hash.html", &html);
    let out = dump_dom(&browser, work.path(), &page);
    assert!(!csp_violations(&out.stderr).is_empty(), "a wrong style hash went unnoticed: {}", out.stderr);
}

#[test]
fn no_payload_runs_with_or_without_the_csp() {
    let Some(browser) = chromium() else { return };
    let work = tempfile::tempdir().unwrap();
    let shipped = hostile();
    for (name, html) in [("hostile.html", shipped.clone()), ("hostile-no-csp.html", without_csp(&shipped))] {
        let page = write(work.path(), name, &html);
        let out = dump_dom(&browser, work.path(), &page);
        let dom = out.stdout.replace("<wbr>", "");
        assert!(dom.contains("</html>"), "{name}: no DOM dumped: {}", out.stderr);
        assert_eq!(mutations(&dom), Vec::<&str>::new(), "{name}: a payload ran or became markup");
        // The payloads are there, as text.
        for needle in [
            "&lt;img src=x onerror=document.title='PWNED'&gt;",
            "\"&gt;&lt;script&gt;document.title='PWNED'&lt;/script&gt;",
            "&lt;iframe srcdoc='&lt;b id=pwned&gt;'&gt;&lt;/iframe&gt;",
            "Threat model report: &lt;/title&gt;&lt;script&gt;",
        ] {
            assert!(dom.contains(needle), "{name}: {needle} not in the DOM as text");
        }
    }
    // Canary: the same payloads written raw into a page without a CSP do run, so the checks
    // above can fail.
    let raw: String = PAYLOADS.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    let canary = format!(
        "<!DOCTYPE html><html><head><title>Threat model report: x</title></head><body>{raw}</body></html>"
    );
    let page = write(work.path(), "canary.html", &canary);
    let dom = dump_dom(&browser, work.path(), &page).stdout;
    let seen = mutations(&dom);
    assert!(seen.contains(&"title changed") && seen.contains(&"element #pwned"), "{seen:?}\n{dom}");
}
