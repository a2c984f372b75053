//! Fast comment lexer: the comment ranges tree-sitter would report, found by a byte scanner, for
//! languages whose comment and string syntax a scanner can follow exactly (C, C++, Java, C#,
//! Go, Python here; HCL in `lexer/hcl.rs`; JavaScript, TypeScript and TSX in
//! `lexer/javascript.rs`; PHP in `lexer/php.rs`; Rust in `lexer/rust.rs`; Lua in
//! `lexer/lua.rs`; Ruby in `lexer/ruby.rs`; Bash in `lexer/bash.rs`; Kotlin in `lexer/kotlin.rs`;
//! Swift in `lexer/swift.rs`; Scala in `lexer/scala.rs`; YAML in `lexer/yaml.rs`; TOML in `lexer/toml.rs`; JSON in `lexer/json.rs`; Dockerfiles in
//! `lexer/dockerfile.rs`).
//!
//! Owns: one scanner per language family that tracks string, character and comment state and
//! returns every comment's byte range; and the recovery scan of regions of broken code that
//! tree-sitter could not parse ([`comments_in_broken_code`]), for every language. tree-sitter
//! stays the reference (and the only path the editor's incremental reparse uses); this is a
//! shortcut for whole-file scans, where a full parse costs 20-50x more than the scan (measured
//! on the dense benchmark corpus).
//!
//! Must never: guess. Whenever the text holds a construct the scanner does not model exactly
//! (an unterminated string or block comment, C# interpolated or raw strings, a C++ raw string
//! whose delimiter is malformed, a NUL byte, which several grammars treat as the end of input,
//! a backtick in Python code, an HCL heredoc, a PHP `?>`, a JavaScript `/` that could be a regex or a
//! division, a YAML block scalar with an explicit indentation, a Dockerfile heredoc, a Rust shebang,
//! a Lua `#!` line, a Ruby heredoc or a `/` that could be a regex or a division, a Bash heredoc or
//! arithmetic, a Kotlin `/*` right after a lone `i`, `!` or `?`, a Swift `/` that opens no comment or a raw string, a Scala `<` that may open an XML literal, a JSON5 single quote, ...), it returns `None` and the caller parses the file with tree-sitter. The
//! differential tests (`tests/lexer_differential.rs`) and the `comments` fuzz target hold
//! every language here to tree-sitter's comment nodes on real and generated sources.

mod bash;
mod dockerfile;
mod hcl;
mod javascript;
mod json;
mod kotlin;
mod lua;
mod php;
mod ruby;
mod rust;
mod scala;
mod swift;
mod toml;
mod yaml;

pub(crate) use kotlin::stops_the_grammar as stops_the_kotlin_grammar;

/// The texts of a lexer's comment ranges (the lexer modules' tests compare these).
#[cfg(test)]
fn slices(text: &str, ranges: Option<Vec<(usize, usize)>>) -> Option<Vec<&str>> {
    ranges.map(|v| v.into_iter().map(|(s, e)| &text[s..e]).collect())
}

use super::Language;

/// Comment byte ranges `(start, end)` in file order, or `None` when the language has no fast
/// scanner or the text holds something the scanner declines to decide.
pub fn comment_ranges(language: Language, text: &str) -> Option<Vec<(usize, usize)>> {
    if has_nul(text) {
        return None;
    }
    let bytes = text.as_bytes();
    match language {
        Language::Python => python(bytes),
        Language::Hcl => hcl::comment_ranges(bytes),
        Language::JavaScript | Language::Tsx => javascript::comment_ranges(bytes, true),
        Language::TypeScript => javascript::comment_ranges(bytes, false),
        Language::Php => php::comment_ranges(bytes),
        Language::Rust => rust::comment_ranges(bytes),
        Language::Ruby => ruby::comment_ranges(bytes),
        Language::Bash => bash::comment_ranges(bytes),
        Language::Lua => lua::comment_ranges(bytes),
        Language::Kotlin => kotlin::comment_ranges(bytes),
        Language::Swift => swift::comment_ranges(bytes),
        Language::Scala => scala::comment_ranges(bytes),
        Language::Json => json::comment_ranges(bytes),
        Language::Yaml => yaml::comment_ranges(bytes),
        Language::Toml => toml::comment_ranges(bytes),
        Language::Dockerfile => dockerfile::comment_ranges(bytes),
        // tree-sitter-c-sharp reads `#!...` to the line end as a shebang directive, comments
        // and all, wherever it is the first token: after blank space of any kind (`\v`, U+00A0)
        // and after comments too (found by the `comments` fuzz target). `#!` is not C# anywhere
        // else, so any text holding it is left to tree-sitter.
        Language::CSharp if memchr::memmem::find(bytes, b"#!").is_some() => None,
        _ => c_like(bytes, c_flavour(language)?, true),
    }
}

/// YAML's comment ranges ([`comment_ranges`]) and the byte ranges of its block scalars' lines,
/// or `None` when the scanner declines.
pub type YamlScan = (Vec<(usize, usize)>, Vec<(usize, usize)>);

/// [`comment_ranges`] of a YAML `text`, with the ranges of its block scalars' lines.
pub fn yaml_scan(text: &str) -> Option<YamlScan> {
    if has_nul(text) {
        return None;
    }
    let mut bodies = Vec::new();
    let comments = yaml::scan(text.as_bytes(), Some(&mut bodies))?;
    Some((comments, bodies))
}

/// Comment byte ranges inside the argument of a preprocessor directive (`1 // c` of
/// `#define X 1 // c`), which starts mid-line; `None` when the language has no directives
/// or the scanner declines. tree-sitter's C, C++ and C# grammars keep such a trailing `//`
/// comment inside the directive's `preproc_arg` token, while compilers (and [`comment_ranges`]
/// on the whole file) see a comment: [`super::comments`] scans the argument with this, so
/// both paths find the same comments.
pub fn comments_in_directive(language: Language, text: &str) -> Option<Vec<(usize, usize)>> {
    let flavour =
        c_flavour(language).filter(|f| matches!(f, CFlavour::C | CFlavour::Cpp | CFlavour::CSharp))?;
    if has_nul(text) {
        return None;
    }
    c_like(text.as_bytes(), flavour, false)
}

/// tree-sitter's lexers see NUL as the end of input in some grammars (Go ends a `//` comment
/// there: found by the `comments` fuzz target on "Q//b\0"), so texts with NUL are left to it.
fn has_nul(text: &str) -> bool {
    memchr::memchr(0, text.as_bytes()).is_some()
}

/// The C-family scanner flavour of `language`, if it has one.
fn c_flavour(language: Language) -> Option<CFlavour> {
    Some(match language {
        Language::C => CFlavour::C,
        Language::Cpp => CFlavour::Cpp,
        Language::Java => CFlavour::Java,
        Language::CSharp => CFlavour::CSharp,
        Language::Go => CFlavour::Go,
        _ => return None,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CFlavour {
    C,
    Cpp,
    Java,
    CSharp,
    Go,
}

/// End of the escape sequence whose backslash is at `i`, for the grammars whose strings know
/// `\uXXXX`, `\UXXXXXXXX` and the one-character escapes in `simple` (HCL, TOML); `None` for
/// anything else (the grammar rejects it).
fn escape_end(bytes: &[u8], i: usize, simple: &[u8]) -> Option<usize> {
    let hex_digits = match *bytes.get(i + 1)? {
        b'u' => 4,
        b'U' => 8,
        b if simple.contains(&b) => return Some(i + 2),
        _ => return None,
    };
    let digits = bytes.get(i + 2..i + 2 + hex_digits)?;
    digits.iter().all(u8::is_ascii_hexdigit).then_some(i + 2 + hex_digits)
}

/// The line starting at `start`: `(end, next)`, where `end` is where its text ends (before a
/// `\n` or `\r\n`) and `next` where the next line starts; `None` when the line holds a `\r`
/// that is not part of a CRLF (a line break the line-based scanners leave to tree-sitter).
fn line_at(bytes: &[u8], start: usize) -> Option<(usize, usize)> {
    let newline = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |p| start + p);
    let end = if newline > start && bytes[newline - 1] == b'\r' { newline - 1 } else { newline };
    if memchr::memchr(b'\r', &bytes[start..end]).is_some() {
        return None;
    }
    Some((end, newline + 1))
}

/// End of the block comment opening at `open`, as the Kotlin and Swift grammars' external
/// scanners find it: a `/` then `*` opens a nested comment, a `*` then `/` closes one (a
/// `*/*` closes, it does not nest). `None` when it never closes.
pub(crate) fn nested_block_comment_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 1usize;
    let mut after_star = false;
    let mut i = open + 2;
    while i < bytes.len() {
        match bytes[i] {
            b'*' => {
                after_star = true;
                i += 1;
            }
            b'/' if after_star => {
                after_star = false;
                i += 1;
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'/' => {
                i += 1;
                if bytes.get(i) == Some(&b'*') {
                    depth += 1;
                    i += 1;
                }
            }
            _ => {
                after_star = false;
                i += 1;
            }
        }
    }
    None
}

/// Length of the UTF-8 sequence that `lead` starts (1 for a continuation byte, which cannot
/// start one: the texts are `str`s).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xf0.. => 4,
        0xe0.. => 3,
        0xc0.. => 2,
        _ => 1,
    }
}

fn is_ident(b: u8) -> bool {
    IDENT_BYTES[usize::from(b)]
}

/// [`is_ident`] as a table: the lexers ask it for every byte of every identifier.
static IDENT_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80;
        b += 1;
    }
    table
};

/// End (exclusive) of a quoted literal that starts at `open` (the quote), with backslash
/// escapes; `None` if a bare line break or the end of text comes first.
fn quoted(bytes: &[u8], open: usize, quote: u8) -> Option<usize> {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' | b'\r' => return None,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Scanner for the C family: `//` and non-nested `/* */` comments, `"` strings and `'`
/// characters with escapes, plus each flavour's extra literals.
fn c_like(bytes: &[u8], flavour: CFlavour, line_start: bool) -> Option<Vec<(usize, usize)>> {
    c_like_scan(bytes, flavour, line_start, true)
}

/// [`c_like`], skipping plain code or (`skip` false, for the tests) walking every byte.
fn c_like_scan(
    bytes: &[u8],
    flavour: CFlavour,
    mut line_start: bool,
    skip: bool,
) -> Option<Vec<(usize, usize)>> {
    // Room for a comment every 256 bytes, and a few: source files of the benchmarks hold one
    // every ~150 to ~1,000 bytes, and growing from empty cost three growths a file (~60,000 on
    // the 20,000-file benchmark, ~200 instructions each). Temporary: the ranges become
    // candidate lines.
    let mut out = Vec::with_capacity(bytes.len() / 256 + 8);
    let mut i = 0;
    let mut next = NextSpecial::new(bytes, flavour);
    // The next special byte at or after the last skip (see `NextSpecial`).
    let mut special = None;
    // `line_start`: only whitespace since the last line break (or the start of the text).
    while i < bytes.len() {
        if skip && special.is_none_or(|s| i > s) {
            let s = next.at(i);
            special = Some(s);
            // Plain code up to the last token boundary before the special byte is skipped:
            // it holds no comment, string or directive, so the scan below would only walk it.
            // It restarts after that boundary (whitespace or punctuation, which ends any
            // identifier or number), so the token before the special byte (an identifier
            // before a C++ raw string's quote, a number before a digit separator) is read
            // byte by byte as before.
            let mut restart = s;
            while restart > i
                && (is_ident(bytes[restart - 1]) || matches!(bytes[restart - 1], b'.' | b'+' | b'-'))
            {
                restart -= 1;
            }
            if restart > i {
                // Only whitespace after a line break keeps the start of a line.
                let mut k = restart;
                while k > i && matches!(bytes[k - 1], b' ' | b'\t' | b'\r' | b'\x0c') {
                    k -= 1;
                }
                if k > i {
                    line_start = bytes[k - 1] == b'\n';
                }
                i = restart;
                continue;
            }
        }
        let b = bytes[i];
        match b {
            b'\n' => {
                line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let at_line_start = line_start;
        line_start = false;
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let start = i;
                i += 2;
                // The next byte that ends the comment or may continue it, found with memchr:
                // C# ends a line comment at any line break, a lone `\r` included; C and C++
                // continue one over a backslash-newline.
                let continued = matches!(flavour, CFlavour::C | CFlavour::Cpp);
                while i < bytes.len() {
                    let rest = &bytes[i..];
                    let next = match flavour {
                        CFlavour::CSharp => memchr::memchr2(b'\n', b'\r', rest),
                        _ if continued => memchr::memchr2(b'\n', b'\\', rest),
                        _ => memchr::memchr(b'\n', rest),
                    };
                    let Some(next) = next else {
                        i = bytes.len();
                        break;
                    };
                    i += next;
                    if bytes[i] != b'\\' {
                        break;
                    }
                    // Only the backslash right before the line break counts (`\\` then a line
                    // break continues too; a backslash escapes nothing in a comment).
                    match (bytes.get(i + 1), bytes.get(i + 2)) {
                        (Some(b'\n'), _) => i += 2,
                        (Some(b'\r'), Some(b'\n')) => i += 3,
                        _ => i += 1,
                    }
                }
                out.push((start, i.min(bytes.len())));
                i = i.min(bytes.len());
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let start = i;
                let close = memchr::memmem::find(&bytes[i + 2..], b"*/")?;
                i = i + 2 + close + 2;
                out.push((start, i));
            }
            b'"' => {
                if flavour == CFlavour::Java && bytes[i..].starts_with(b"\"\"\"") {
                    i = java_text_block(bytes, i)?;
                } else if flavour == CFlavour::CSharp && bytes[i..].starts_with(b"\"\"\"") {
                    return None; // C# 11 raw strings
                } else {
                    i = quoted(bytes, i, b'"')?;
                }
            }
            b'\'' => {
                i = quoted(bytes, i, b'\'')?;
            }
            b'`' if flavour == CFlavour::Go => {
                let close = memchr::memchr(b'`', &bytes[i + 1..])?;
                i = i + 1 + close + 1;
            }
            b'@' if flavour == CFlavour::CSharp => match bytes.get(i + 1) {
                Some(b'"') => i = csharp_verbatim(bytes, i + 1)?,
                Some(b'$') => return None,
                _ => i += 1,
            },
            b'$' if flavour == CFlavour::CSharp && matches!(bytes.get(i + 1), Some(b'"' | b'@' | b'$')) => {
                return None; // interpolated strings nest expressions (and quotes) inside braces
            }
            b'#' if at_line_start && matches!(flavour, CFlavour::C | CFlavour::Cpp) => {
                // `#2's//b'`: the grammars read a directive named by digits (GNU line markers
                // `# 1 "a.c"` look alike) whose argument is scanned as code, where a number with
                // a digit separator would swallow the quote: leave such files to tree-sitter.
                let name = bytes[i + 1..].iter().find(|b| !matches!(b, b' ' | b'\t'));
                if name.is_some_and(u8::is_ascii_digit) {
                    return None;
                }
                // `#au1\r////1`: a lone `\r` does not end a directive line for the grammars,
                // and tree-sitter-c then starts the `//` comment at the `\r` (found by the
                // `comments` fuzz target). Classic-Mac line breaks in a directive are left to
                // tree-sitter.
                if lone_cr_in_line(bytes, i) {
                    return None;
                }
                i = preprocessor_include(bytes, i);
            }
            b'#' if matches!(flavour, CFlavour::C | CFlavour::Cpp) => {
                // `;#Y\r//`: the grammars read a directive after a statement on the same line
                // too, with the same lone-`\r` quirk (found by the `comments` fuzz target).
                if lone_cr_in_line(bytes, i) {
                    return None;
                }
                i += 1;
            }
            b'0'..=b'9' => {
                // Numbers, with C++14/C23 digit separators (`1'000`) and exponents.
                i += 1;
                while i < bytes.len() {
                    let c = bytes[i];
                    if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' {
                        i += 1;
                    } else if c == b'\'' && bytes.get(i + 1).is_some_and(|n| n.is_ascii_alphanumeric()) {
                        i += 2;
                    } else if matches!(c, b'+' | b'-') && matches!(bytes[i - 1], b'e' | b'E' | b'p' | b'P') {
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            c if is_ident(c) => {
                let start = i;
                while i < bytes.len() && is_ident(bytes[i]) {
                    i += 1;
                }
                if flavour == CFlavour::Cpp
                    && bytes.get(i) == Some(&b'"')
                    && matches!(&bytes[start..i], b"R" | b"LR" | b"uR" | b"UR" | b"u8R")
                {
                    i = cpp_raw_string(bytes, i)?;
                }
            }
            _ => i += 1,
        }
    }
    Some(out)
}

/// Where the next byte at or after a position is that [`c_like`] must not skip: one that may
/// start a comment, a string or character literal (or a digit separator's quote), a directive
/// (`#`, C and C++), a Go raw string or a C# verbatim or interpolated string. Found with
/// memchr, each search's answer kept while it lies ahead of the scan (so each byte is searched
/// once per needle group).
struct NextSpecial<'a> {
    bytes: &'a [u8],
    flavour: CFlavour,
    /// The next `/`, `"` or `'` at or after the last search, or the text's length.
    common: Option<usize>,
    /// The next of the flavour's own special bytes, likewise.
    own: Option<usize>,
}

impl<'a> NextSpecial<'a> {
    fn new(bytes: &'a [u8], flavour: CFlavour) -> NextSpecial<'a> {
        NextSpecial { bytes, flavour, common: None, own: None }
    }

    fn at(&mut self, i: usize) -> usize {
        let (bytes, len) = (&self.bytes[i..], self.bytes.len());
        let found = |p: Option<usize>| p.map_or(len, |p| i + p);
        if self.common.is_none_or(|c| c < i) {
            self.common = Some(found(memchr::memchr3(b'/', b'"', b'\'', bytes)));
        }
        if self.own.is_none_or(|o| o < i) {
            self.own = Some(found(match self.flavour {
                CFlavour::C | CFlavour::Cpp => memchr::memchr(b'#', bytes),
                CFlavour::CSharp => memchr::memchr2(b'@', b'$', bytes),
                CFlavour::Go => memchr::memchr(b'`', bytes),
                CFlavour::Java => None,
            }));
        }
        self.common.unwrap_or(len).min(self.own.unwrap_or(len))
    }
}

/// Whether the line from `at` holds a `\r` that is not part of a `\r\n` line break (or ends
/// with a `\r` before its `\n`): a lone `\r` does not end a directive line for the C and C++
/// grammars, and tree-sitter-c then starts a following `//` comment at the `\r`.
fn lone_cr_in_line(bytes: &[u8], at: usize) -> bool {
    let line = &bytes[at..memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |n| at + n)];
    line.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n') || line.last() == Some(&b'\r')
}

/// `#include <a//b.h>`: the `<...>` is a path, not code; returns where scanning resumes.
fn preprocessor_include(bytes: &[u8], hash: usize) -> usize {
    let mut i = hash + 1;
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
        i += 1;
    }
    let word_end = i + bytes[i..].iter().take_while(|b| b.is_ascii_alphabetic() || **b == b'_').count();
    if !matches!(&bytes[i..word_end], b"include" | b"include_next" | b"import") {
        return hash + 1;
    }
    let mut j = word_end;
    while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
        j += 1;
    }
    if bytes.get(j) != Some(&b'<') {
        return word_end;
    }
    match bytes[j..].iter().position(|&b| b == b'>' || b == b'\n') {
        Some(p) if bytes[j + p] == b'>' => j + p + 1,
        _ => word_end,
    }
}

/// C++ `R"delim( ... )delim"` starting at the quote.
fn cpp_raw_string(bytes: &[u8], quote: usize) -> Option<usize> {
    let open = quote + 1 + bytes[quote + 1..].iter().take(17).position(|&b| b == b'(')?;
    let delim = &bytes[quote + 1..open];
    if delim.iter().any(|b| matches!(b, b' ' | b')' | b'\\' | b'\t' | b'\n' | b'\r')) {
        return None;
    }
    let mut close = Vec::with_capacity(delim.len() + 2);
    close.push(b')');
    close.extend_from_slice(delim);
    close.push(b'"');
    let end = memchr::memmem::find(&bytes[open + 1..], &close)?;
    Some(open + 1 + end + close.len())
}

/// Java text block `"""\n ... """` starting at the first quote; escapes apply.
fn java_text_block(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 3;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' if bytes[i..].starts_with(b"\"\"\"") => return Some(i + 3),
            _ => i += 1,
        }
    }
    None
}

/// C# verbatim string `@"..."` (quote at `quote`): `""` is an escaped quote, no backslashes.
fn csharp_verbatim(bytes: &[u8], quote: usize) -> Option<usize> {
    let mut i = quote + 1;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            if bytes.get(i + 1) == Some(&b'"') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// Scanner for Python: `#` comments; `'`, `"`, `'''`, `"""` strings with any prefix.
fn python(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                let start = i;
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |p| i + p);
                out.push((start, i));
            }
            q @ (b'\'' | b'"') => i = python_string(bytes, i, q)?,
            // Python 2's backtick repr: tree-sitter-python reads `` `#` `` as a string where
            // Python's tokenizer sees a comment, and its error recovery after a lone backtick
            // differs again (found by the `comments` fuzz target). Code holding a backtick is
            // not Python 3; tree-sitter decides it.
            b'`' => return None,
            c if is_ident(c) => {
                let start = i;
                while i < bytes.len() && is_ident(bytes[i]) {
                    i += 1;
                }
                // String prefixes: r, u, b, f, t and their two-letter combinations.
                if let Some(&q @ (b'\'' | b'"')) = bytes.get(i) {
                    let prefix = &bytes[start..i];
                    if prefix.len() <= 2 && prefix.iter().all(|c| b"rRuUbBfFtT".contains(c)) {
                        i = python_string(bytes, i, q)?;
                    }
                }
            }
            _ => i += 1,
        }
    }
    Some(out)
}

/// A Python string starting at its (first) quote; backslash always escapes the next byte for
/// tokenising (even in raw strings, `r"\""` is one string).
fn python_string(bytes: &[u8], open: usize, quote: u8) -> Option<usize> {
    let triple = bytes.get(open + 1) == Some(&quote) && bytes.get(open + 2) == Some(&quote);
    if !triple {
        // `''` is an empty string, handled by the single-quote path.
        let mut i = open + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => {
                    i += if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') {
                        3
                    } else {
                        2
                    }
                }
                b'\n' | b'\r' => return None,
                b if b == quote => return Some(i + 1),
                _ => i += 1,
            }
        }
        return None;
    }
    let mut i = open + 3;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote && bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote) => {
                return Some(i + 3);
            }
            _ => i += 1,
        }
    }
    None
}

/// Comment byte ranges in `text[start..end]`, a region of code tree-sitter could not parse
/// (an ERROR node, or the node around a MISSING token), whose comments its error recovery
/// may have swallowed (see [`super::comments`], "Broken host code"). The region is read to the
/// end of its last line, so that a comment it cuts is read whole. The fast scanner reads
/// the region when the language has one (C family, Python, YAML, TOML, JSON, Dockerfile) and it decides; otherwise a line-based recovery
/// scan: the language's line-comment markers and block comments, skipping quoted strings
/// that close on their own line. A quote that does not close on its line is taken for code,
/// so an unterminated string never hides the comment after it: in broken code, reading an
/// annotation beats losing it. Ranges are absolute and in file order.
pub fn comments_in_broken_code(
    language: Language,
    text: &str,
    start: usize,
    end: usize,
) -> Vec<(usize, usize)> {
    // tree-sitter's recovery can end an error node in the middle of a line comment: the region
    // reaches the end of its last line, so no scan reads a comment cut short at the region's end.
    let end = end.min(text.len());
    let bytes = text.as_bytes();
    let end = if end > start && bytes[end - 1] == b'\r' && bytes.get(end) == Some(&b'\n') {
        // A region that ends between the CR and LF of a line break ends after both: a fast
        // scanner may decline a lone CR (the Scala and JavaScript ones do), and the recovery
        // scan that then reads the region knows no multi-line string (a Scala `"""` one read
        // as code: `agrees_on_generated_scala`).
        end + 1
    } else if end > start && matches!(bytes[end - 1], b'\n' | b'\r') {
        end
    } else {
        memchr::memchr2(b'\n', b'\r', &text.as_bytes()[end..]).map_or(text.len(), |p| end + p)
    };
    let Some(region) = text.get(start..end) else { return Vec::new() };
    // The HCL, JavaScript-family, PHP, Rust, Ruby, Bash, Lua and Kotlin scanners track state
    // (template nesting, regex contexts, PHP tags, nested block comments, raw strings,
    // interpolation and long brackets) that a
    // region starting mid-file does not show: their regions get the recovery scan.
    let region_scanner = !matches!(
        language,
        Language::Hcl
            | Language::JavaScript
            | Language::TypeScript
            | Language::Tsx
            | Language::Php
            | Language::Rust
            | Language::Ruby
            | Language::Bash
            | Language::Lua
            | Language::Kotlin
    );
    if region_scanner && let Some(found) = comment_ranges(language, region) {
        return found.into_iter().map(|(s, e)| (start + s, start + e)).collect();
    }
    let Some(rules) = RecoveryRules::of(language) else { return Vec::new() };
    recovery_scan(text.as_bytes(), start, end, &rules)
}

/// How [`comments_in_broken_code`] finds comments in a language without a fast scanner.
struct RecoveryRules {
    /// Line-comment markers.
    line: &'static [&'static [u8]],
    /// `#` starts a comment only at the start of a word (Bash `$#`, YAML `a#b`).
    hash_at_word_start: bool,
    /// Comments are whole lines only (Dockerfile).
    whole_line_only: bool,
    block: BlockComments,
    /// Quote characters whose strings are skipped (when they close on the same line).
    quotes: &'static [u8],
    /// `'` delimits only a character literal (Rust, Kotlin, Scala ...; a Rust lifetime is no
    /// quote): skipped only when it closes within a few bytes.
    char_quote: bool,
    /// `` ` `` quotes a name up to the next `` ` `` on its line, without escapes (Kotlin,
    /// Scala, Swift): a quote inside one (`` `it's` ``) is no character literal.
    quoted_names: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockComments {
    None,
    /// `/* ... */`.
    C,
    /// `/* ... */`, nesting (Rust: `/* a /* b */ c */` is one comment).
    NestedC,
    /// Lua `--[[ ... ]]`, `--[==[ ... ]==]`.
    Lua,
    /// Ruby `=begin` ... `=end` at the start of lines.
    Ruby,
}

impl RecoveryRules {
    fn of(language: Language) -> Option<RecoveryRules> {
        let markers = language.line_comment_markers();
        let mut rules = RecoveryRules {
            line: &[],
            hash_at_word_start: false,
            whole_line_only: false,
            block: BlockComments::None,
            quotes: b"\"'",
            char_quote: false,
            quoted_names: false,
        };
        match language {
            Language::Python | Language::Toml => {}
            Language::Ruby => rules.block = BlockComments::Ruby,
            Language::Bash => {
                rules.hash_at_word_start = true;
                rules.quotes = b"\"'`";
            }
            Language::Yaml => rules.hash_at_word_start = true,
            Language::Dockerfile => rules.whole_line_only = true,
            Language::Lua => rules.block = BlockComments::Lua,
            Language::Hcl | Language::Json => {
                rules.block = BlockComments::C;
                rules.quotes = b"\"";
            }
            Language::Php => rules.block = BlockComments::C,
            Language::JavaScript | Language::TypeScript | Language::Tsx => {
                rules.block = BlockComments::C;
                rules.quotes = b"\"'`";
            }
            Language::Go => {
                rules.block = BlockComments::C;
                rules.quotes = b"\"`";
                rules.char_quote = true;
            }
            Language::Rust
            | Language::Java
            | Language::C
            | Language::Cpp
            | Language::CSharp
            | Language::Kotlin
            | Language::Swift
            | Language::Scala => {
                rules.block = BlockComments::C;
                rules.quotes = b"\"";
                rules.char_quote = true;
                rules.quoted_names = matches!(language, Language::Kotlin | Language::Swift | Language::Scala);
                if language == Language::Rust {
                    rules.block = BlockComments::NestedC;
                }
            }
            Language::Gal | Language::ThreatSpecDoc | Language::PlainText => return None,
        }
        let markers: &'static [&'static [u8]] = match markers {
            ["#"] => &[b"#"],
            ["--"] => &[b"--"],
            ["//"] => &[b"//"],
            ["#", "//"] => &[b"#", b"//"],
            _ => &[],
        };
        rules.line = markers;
        Some(rules)
    }
}

/// The recovery scan of `bytes[start..end]` (see [`comments_in_broken_code`]).
fn recovery_scan(bytes: &[u8], start: usize, end: usize, rules: &RecoveryRules) -> Vec<(usize, usize)> {
    let line_end = |from: usize| memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |p| from + p);
    let mut out = Vec::new();
    // Only whitespace between the last line break (or the start of the text) and `start`.
    let mut at_line_start =
        bytes[..start].iter().rev().take_while(|&&b| b != b'\n').all(|&b| b == b' ' || b == b'\t');
    let mut i = start;
    while i < end {
        let b = bytes[i];
        if b == b'\n' || b == b'\r' {
            at_line_start = true;
            i += 1;
            continue;
        }
        if matches!(b, b' ' | b'\t' | b'\x0c') {
            i += 1;
            continue;
        }
        let line_start = std::mem::replace(&mut at_line_start, false);
        let rest = &bytes[i..end];
        if let Some(close) = block_comment_end(bytes, i, end, rules.block, line_start) {
            out.push((i, close));
            i = close;
            continue;
        }
        let word_start =
            i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r' | b';' | b'(' | b')' | b'|' | b'&');
        let is_marker = rules.line.iter().any(|m| rest.starts_with(m))
            && (!rules.whole_line_only || line_start)
            && !(b == b'#' && rules.hash_at_word_start && !word_start)
            && !(b == b'#'
                && rest.get(1) == Some(&b'[')
                && matches!(rules.block, BlockComments::C | BlockComments::NestedC));
        if is_marker {
            let e = line_end(i);
            out.push((i, e));
            i = e;
            continue;
        }
        if b == b'`' && rules.quoted_names {
            let line = &bytes[i + 1..line_end(i).min(end)];
            if let Some(close) = memchr::memchr2(b'`', b'\r', line).filter(|&p| line[p] == b'`') {
                i += close + 2;
                continue;
            }
        }
        if rules.quotes.contains(&b) || (b == b'\'' && rules.char_quote) {
            let limit = if b == b'\'' && rules.char_quote { (i + 12).min(end) } else { line_end(i).min(end) };
            if let Some(close) = closing_quote(bytes, i, limit) {
                i = close;
                continue;
            }
        }
        if is_ident(b) {
            while i < end && is_ident(bytes[i]) {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    out
}

/// End (exclusive) of the string whose quote is at `open`, when it closes before `limit` on
/// the same line (backslash escapes).
fn closing_quote(bytes: &[u8], open: usize, limit: usize) -> Option<usize> {
    quoted(&bytes[..limit], open, bytes[open])
}

/// End (exclusive) of a block comment opening at `at`, closed before `end`; `None` when none
/// opens there. One never closed in the region ends with its line (a Ruby `=begin`, with
/// the region), so that the comment is read without swallowing the code after it.
fn block_comment_end(
    bytes: &[u8],
    at: usize,
    end: usize,
    block: BlockComments,
    line_start: bool,
) -> Option<usize> {
    let rest = &bytes[at..end];
    let (from, closer): (usize, Vec<u8>) = match block {
        BlockComments::None => return None,
        BlockComments::C if rest.starts_with(b"/*") => (2, b"*/".to_vec()),
        BlockComments::NestedC if rest.starts_with(b"/*") => {
            let mut depth = 0usize;
            let mut i = 0;
            while i + 1 < rest.len() {
                match &rest[i..i + 2] {
                    b"/*" => {
                        depth += 1;
                        i += 2;
                    }
                    b"*/" => {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            return Some(at + i);
                        }
                    }
                    _ => i += 1,
                }
            }
            return Some(memchr::memchr(b'\n', rest).map_or(end, |p| at + p));
        }
        BlockComments::Lua if rest.starts_with(b"--[") => {
            let level = rest[3..].iter().take_while(|&&c| c == b'=').count();
            if rest.get(3 + level) != Some(&b'[') {
                return None;
            }
            let mut closer = vec![b']'];
            closer.extend(std::iter::repeat_n(b'=', level));
            closer.push(b']');
            (4 + level, closer)
        }
        BlockComments::Ruby
            if line_start && (at == 0 || bytes[at - 1] == b'\n') && rest.starts_with(b"=begin") =>
        {
            let mut i = at;
            while i < end {
                let next = memchr::memchr(b'\n', &bytes[i..end]).map_or(end, |p| i + p + 1);
                if i > at && bytes[i..end].starts_with(b"=end") {
                    return Some(memchr::memchr(b'\n', &bytes[i..end]).map_or(end, |p| i + p));
                }
                i = next;
            }
            return Some(end);
        }
        _ => return None,
    };
    let unclosed = || memchr::memchr(b'\n', rest).map_or(end, |p| at + p);
    Some(memchr::memmem::find(&rest[from..], &closer).map_or_else(unclosed, |p| at + from + p + closer.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(language: Language, text: &str) -> Option<Vec<&str>> {
        comment_ranges(language, text).map(|v| v.into_iter().map(|(s, e)| &text[s..e]).collect())
    }

    #[test]
    fn c_family_strings_chars_and_comments() {
        let text = "int a = 1'000; char c = '\"'; const char *s = \"// not /* a comment\";\n// yes\n/* and\n * this */ x = y / z; // tail\n#include <sys//odd.h>\n";
        assert_eq!(comments(Language::Cpp, text).unwrap(), ["// yes", "/* and\n * this */", "// tail"]);
        let text = "// line \\\n continued\nint x;";
        assert_eq!(comments(Language::C, text).unwrap(), ["// line \\\n continued"]);
        let text = "auto s = R\"x(// not \")x\"; // yes";
        assert_eq!(comments(Language::Cpp, text).unwrap(), ["// yes"]);
    }

    proptest::proptest! {
        /// Skipping plain code finds what walking every byte finds (or declines as it does),
        /// on text dense in what the scan must not skip: digit separators after numbers and
        /// identifiers, C++ raw-string prefixes, directives after blank space, exponents.
        #[test]
        fn skipping_plain_code_changes_nothing(
            text in "([a-zA-Z_]{1,3}|R|u8R|[0-9]{1,3}|[eEpP][+-]|[ \t\r\n]|[./*'\"#`@$(;\\\\]|\n[ \t\r]?#[ ]?(include|import|[0-9])?|<[a/]{0,3}>?){0,40}",
            line_start: bool,
        ) {
            for flavour in [CFlavour::C, CFlavour::Cpp, CFlavour::Java, CFlavour::CSharp, CFlavour::Go] {
                let bytes = text.as_bytes();
                proptest::prop_assert_eq!(
                    c_like_scan(bytes, flavour, line_start, true),
                    c_like_scan(bytes, flavour, line_start, false),
                    "{:?}", text
                );
            }
        }
    }

    #[test]
    fn nul_bytes_are_left_to_tree_sitter() {
        for language in
            [Language::C, Language::Cpp, Language::Java, Language::CSharp, Language::Go, Language::Python]
        {
            assert_eq!(comment_ranges(language, "Q//b\0"), None, "{language:?}");
            assert_eq!(comment_ranges(language, "x = 1 # a\0b\n"), None, "{language:?}");
        }
    }

    #[test]
    fn flavour_literals() {
        assert_eq!(comments(Language::Go, "s := `// raw\n` // yes").unwrap(), ["// yes"]);
        assert_eq!(comments(Language::Java, "String s = \"\"\"\n // no \"\"\"; // yes").unwrap(), ["// yes"]);
        assert_eq!(comments(Language::CSharp, "var s = @\"C:\\\"\" // no\"; // yes").unwrap(), ["// yes"]);
        assert_eq!(comments(Language::CSharp, "var s = $\"{x}\"; // yes"), None);
    }

    #[test]
    fn python_strings_and_comments() {
        let text = "s = '# no'\nt = \"\"\"\n# no\n\"\"\" # yes\nu = rb'\\'' # also\n";
        assert_eq!(comments(Language::Python, text).unwrap(), ["# yes", "# also"]);
    }

    #[test]
    fn a_broken_region_ending_inside_a_line_comment_reads_the_whole_comment() {
        // The region ends at `@exp`: the comment runs on to the end of its line all the same.
        let text = "int x = ; // @exposes A to #b\nint y;\n";
        for language in [Language::C, Language::Rust, Language::JavaScript] {
            let found = comments_in_broken_code(language, text, 0, 14);
            let found: Vec<&str> = found.iter().map(|&(s, e)| &text[s..e]).collect();
            assert_eq!(found, ["// @exposes A to #b"], "{language:?}");
        }
        let text = "x = (\n# @exposes A to #b\r\ny = 1\n";
        let found = comments_in_broken_code(Language::Python, text, 0, 12);
        assert_eq!(found.iter().map(|&(s, e)| &text[s..e]).collect::<Vec<_>>(), ["# @exposes A to #b"]);
    }

    /// A region that ends between the CR and the LF of a line break is read by the fast
    /// scanner all the same (a lone CR would make it decline, and the recovery scan knows no
    /// Scala `"""` string: it took the string's `// not` for a comment).
    #[test]
    fn a_broken_region_ending_inside_a_crlf_is_read_by_the_fast_scanner() {
        let text = "val v = \"\"\"\r\n// not\r\n\"\"\" // yes\r\nval w = 1\r\n";
        let cr = text.find(" // yes\r").unwrap() + " // yes\r".len();
        let found = comments_in_broken_code(Language::Scala, text, 0, cr);
        assert_eq!(found.iter().map(|&(s, e)| &text[s..e]).collect::<Vec<_>>(), ["// yes\r"]);
    }

    #[test]
    fn declines_what_it_cannot_decide() {
        assert_eq!(comments(Language::C, "char *s = \"unterminated\n// x"), None);
        assert_eq!(comments(Language::C, "/* never closed"), None);
        assert_eq!(comments(Language::Python, "s = '''open"), None);
        assert_eq!(comments(Language::Python, "x = `#`"), None);
    }
}
