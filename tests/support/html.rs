//! Shared by the HTML report tests: the webshop and hostile-corpus reports, and a small HTML
//! tokenizer that is enough to check what a page can load or run.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use threat_analyzer::analysis::Analysis;
use threat_analyzer::file_id::FileId;
use threat_analyzer::model::{FileFacts, ProjectIndex};
use threat_analyzer::render::report::ReportOptions;
use threat_analyzer::render::report_html;
use threat_analyzer::syntax::Language;
use threat_analyzer::walk::{WalkOptions, scan_from};

/// The HTML report of `index`.
pub fn report_of(index: &ProjectIndex, files_scanned: usize, label: &str, link_prefix: &str) -> String {
    let analysis = Analysis::new(index);
    let diagnostics = analysis.diagnostics(index);
    let summary = analysis.summary(index, &diagnostics, files_scanned);
    let options = ReportOptions { link_prefix: link_prefix.to_string() };
    report_html::render_with(index, &analysis, &diagnostics, &summary, label, &options)
}

pub fn webshop_index() -> (ProjectIndex, usize) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/webshop");
    let scan = scan_from(&dir, std::slice::from_ref(&dir), &WalkOptions::default()).expect("webshop scans");
    (scan.index, scan.files_scanned)
}

/// The webshop report as `report --format html` writes it into `.threatmodel/`.
pub fn webshop() -> String {
    let (index, files) = webshop_index();
    report_of(&index, files, "webshop", "../")
}

pub fn index_of(files: &[(&str, &str)]) -> ProjectIndex {
    let mut index = ProjectIndex::new();
    for (path, text) in files {
        let facts = FileFacts::new(FileId::relative(*path), Language::Python, Arc::from(*text));
        index.set_file(Arc::new(facts));
    }
    index
}

/// Payloads that change the page if a browser ever runs them: the title becomes `PWNED`, or
/// an element with id `pwned` appears.
pub const PAYLOADS: &[&str] = &[
    "<img src=x onerror=document.title='PWNED'>",
    "\"><script>document.title='PWNED'</script>",
    "'><svg/onload=document.title='PWNED'>",
    "<iframe srcdoc='<b id=pwned>'></iframe>",
    "<b id=pwned>bold</b>",
    "</style><script>document.title='PWNED'</script>",
    "</title><script>document.title='PWNED'</script>",
    "]]><script>document.title='PWNED'</script>",
    "--><script>document.title='PWNED'</script><!--",
];

/// Text that must stay literal in every format.
pub const ODDITIES: &[&str] = &[
    "\"]; click A call x()",
    "a --> b",
    "close } brace {",
    "back `tick` ``",
    "javascript:alert(1)",
    "&lt; already &amp; escaped",
    "pipe | bar [x] (y)",
];

/// A project whose every name, description, mechanism, owner and file path is hostile.
pub fn hostile_index() -> ProjectIndex {
    let mut text = String::new();
    let all: Vec<&str> = PAYLOADS.iter().chain(ODDITIES).copied().collect();
    for (i, p) in all.iter().enumerate() {
        let _ = writeln!(text, "# @component Evil{i} {p} (#c{i}) -- \"component {p}\"");
        let _ = writeln!(text, "# @threat Threat{i} {p} (#t{i}) [high] -- \"threat {p}\"");
        let _ = writeln!(text, "# @exposes #c{i} to #t{i} -- \"exposed {p}\"");
        let _ = writeln!(text, "# @flows #c{i} -> Shop.Db{i} via {p}");
        let _ = writeln!(text, "# @owns team-{i} {p} for #c{i}");
        let _ = writeln!(text, "# @handles pii {p} on #c{i}");
        let _ = writeln!(text, "# @assumes #c{i} -- \"assumed {p}\"");
    }
    let _ = writeln!(text, "# @accepts #t0 on #c1 -- \"{}\"", PAYLOADS[1]);
    let _ = writeln!(text, "# @boundary between #c2 and #c3 (#b1) -- \"{}\"", PAYLOADS[0]);
    let _ = writeln!(text, "# @mitigates #c4 against #nope using #c5 -- \"{}\"", PAYLOADS[2]);
    index_of(&[
        ("api/<img src=x onerror=document.title='PWNED'>.py", &text),
        ("javascript:document.title='PWNED'.py", "# @exposes Shop.Api to #t0\n"),
    ])
}

/// A project name that is itself a payload.
pub const HOSTILE_PROJECT: &str = "</title><script>document.title='PWNED'</script><b id=pwned>";

pub fn hostile() -> String {
    report_of(&hostile_index(), 2, HOSTILE_PROJECT, "../")
}

/// One start or end tag.
#[derive(Debug, Clone)]
pub struct Tag {
    /// Lowercase, `/name` for an end tag.
    pub name: String,
    pub attrs: Vec<(String, String)>,
}

/// The tags of `html` in order, and its text (entities left as written). Panics on a `<` that
/// does not start a tag, comment or doctype: the writer must escape every `<` in text.
pub fn tokenize(html: &str) -> (Vec<Tag>, String) {
    let mut tags = Vec::new();
    let mut text = String::new();
    let mut rest = html;
    let mut raw_until: Option<String> = None;
    while !rest.is_empty() {
        if let Some(end) = &raw_until {
            let at = rest.find(end.as_str()).unwrap_or_else(|| panic!("unclosed {end}"));
            rest = &rest[at..];
            raw_until = None;
            continue;
        }
        let Some(open) = rest.find('<') else {
            text.push_str(rest);
            break;
        };
        text.push_str(&rest[..open]);
        rest = &rest[open..];
        if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").expect("comment closes");
            rest = &after[end + 3..];
            continue;
        }
        if rest.starts_with("<!DOCTYPE") || rest.starts_with("<![CDATA[") {
            let close = if rest.starts_with("<![CDATA[") { "]]>" } else { ">" };
            let end = rest.find(close).expect("declaration closes");
            rest = &rest[end + close.len()..];
            continue;
        }
        let bytes = rest.as_bytes();
        let starts_tag = bytes.get(1).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'/');
        assert!(starts_tag, "a raw `<` in text: {}", &rest[..rest.len().min(80)]);
        let (tag, len) = parse_tag(rest);
        if tag.name == "style" || tag.name == "title" {
            raw_until = Some(format!("</{}", tag.name));
        }
        tags.push(tag);
        rest = &rest[len..];
    }
    (tags, text)
}

fn parse_tag(s: &str) -> (Tag, usize) {
    let b = s.as_bytes();
    let mut i = 1;
    let mut name = String::new();
    if b[i] == b'/' {
        name.push('/');
        i += 1;
    }
    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' && b[i] != b'/' {
        name.push(b[i].to_ascii_lowercase() as char);
        i += 1;
    }
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        assert!(i < b.len(), "unterminated tag");
        if b[i] == b'>' {
            return (Tag { name, attrs }, i + 1);
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let attr = s[start..i].to_ascii_lowercase();
        let mut value = String::new();
        if b[i] == b'=' {
            i += 1;
            let q = b[i];
            assert!(q == b'"' || q == b'\'', "unquoted attribute {attr} in {}", &s[..i.min(s.len())]);
            let end = s[i + 1..].find(q as char).expect("attribute closes") + i + 1;
            value = s[i + 1..end].to_string();
            i = end + 1;
        }
        attrs.push((attr, value));
    }
}

/// The text between `<name ...>` and `</name>` for every such element.
pub fn element_texts(html: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    let open = format!("<{name}");
    let close = format!("</{name}>");
    while let Some(at) = rest.find(&open) {
        let after = &rest[at..];
        let start = after.find('>').expect("tag closes") + 1;
        let end = after.find(&close).expect("element closes");
        out.push(after[start..end].to_string());
        rest = &after[end..];
    }
    out
}

/// Base64 SHA-256, as CSP hash sources are written.
pub fn csp_hash(text: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::new();
    for chunk in digest.chunks(3) {
        let mut n = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            n |= u32::from(*b) << (16 - 8 * i);
        }
        for i in 0..4 {
            out.push(if i <= chunk.len() { A[((n >> (18 - 6 * i)) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// The Content-Security-Policy of the page (its one `<meta http-equiv>`), as directives.
pub fn csp_of(html: &str) -> Vec<(String, Vec<String>)> {
    let (tags, _) = tokenize(html);
    let metas: Vec<&Tag> = tags
        .iter()
        .filter(|t| {
            t.name == "meta"
                && t.attrs
                    .iter()
                    .any(|(k, v)| k == "http-equiv" && v.eq_ignore_ascii_case("content-security-policy"))
        })
        .collect();
    assert_eq!(metas.len(), 1, "exactly one CSP meta");
    let content = &metas[0].attrs.iter().find(|(k, _)| k == "content").expect("CSP content").1;
    content
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let mut words = d.split_whitespace().map(String::from);
            let name = words.next().unwrap_or_default();
            (name, words.collect())
        })
        .collect()
}

/// What every page must be: a strict CSP that allows exactly its style blocks, no script, no
/// event handler, nothing loaded from anywhere, and no link but fragments and relative paths.
pub fn assert_page_is_inert(html: &str) {
    let (tags, _) = tokenize(html);
    let csp = csp_of(html);
    let directive = |name: &str| csp.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    assert_eq!(directive("default-src"), Some(vec!["'none'".to_string()]), "{csp:?}");
    assert!(directive("script-src").is_none(), "{csp:?}");
    let style_src = directive("style-src").expect("style-src");
    assert!(!style_src.iter().any(|s| s.contains("unsafe-inline")), "{style_src:?}");
    for style in element_texts(html, "style") {
        let source = format!("'sha256-{}'", csp_hash(&style));
        assert!(style_src.contains(&source), "style block not allowed by {style_src:?}");
    }
    // The CSP comes before any style.
    let csp_at = html.find("Content-Security-Policy").expect("CSP");
    assert!(csp_at < html.find("<style").expect("style"), "CSP after the style");
    for tag in &tags {
        for forbidden in
            ["script", "iframe", "object", "embed", "img", "image", "foreignobject", "link", "base"]
        {
            assert_ne!(tag.name, forbidden, "forbidden element: {tag:?}");
        }
        for (attr, value) in &tag.attrs {
            assert!(!attr.starts_with("on"), "event handler: {tag:?}");
            assert!(attr != "src" && attr != "srcdoc" && attr != "srcset", "loads something: {tag:?}");
            if attr == "href" || attr == "xlink:href" {
                let ok = value.starts_with('#')
                    || (!value.contains(':') && !value.starts_with('/') && !value.contains("//"));
                assert!(ok, "href to elsewhere: {tag:?}");
            }
            if value.contains("://") {
                assert!(attr.starts_with("xmlns"), "URL outside a namespace declaration: {tag:?}");
            }
        }
    }
    for style in element_texts(html, "style") {
        assert!(!style.contains("url(") && !style.contains("@import"), "style loads something");
    }
}
