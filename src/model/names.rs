//! Name normalisation: GAL names, ThreatSpec implicit ids and component path keys.
//!
//! Owns: the three pure string functions resolution is built on. Must never: look anything up.

use super::Interned;
use unicode_normalization::UnicodeNormalization;

/// GAL name normalisation: NFKC, lowercase, whitespace and `-` -> `_`, runs of `_` collapsed,
/// `_` trimmed. `SQL Injection`, `sql-injection` and `SQL_Injection` are one name.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    push_normalized(&mut out, name);
    out
}

/// Appends [`normalize_name`] of `name` to `out` (which must be empty or end in a finished
/// segment: its last character is never `_`).
fn push_normalized(out: &mut String, name: &str) {
    let start = out.len();
    if name.is_ascii() {
        // NFKC and Unicode lowercasing leave ASCII unchanged but cost an iterator per char:
        // names are almost always ASCII, and are normalised byte by byte (every name of every
        // reference is, when facts are built).
        let mut bytes = std::mem::take(out).into_bytes();
        push_normalized_ascii(&mut bytes, name.as_bytes());
        // Only ASCII bytes were appended to a valid string.
        *out = String::from_utf8(bytes).expect("ASCII appended to UTF-8");
        return;
    }
    let push = |out: &mut String, c: char| {
        let c = if c.is_whitespace() || c == '-' { '_' } else { c };
        if c == '_' && (out.len() == start || out.ends_with('_')) {
            return;
        }
        out.push(c);
    };
    for c in name.nfkc().flat_map(char::to_lowercase) {
        push(out, c);
    }
    while out.len() > start && out.ends_with('_') {
        out.pop();
    }
}

/// [`push_normalized`] of an ASCII byte: `_` for whitespace (`char::is_whitespace` on ASCII:
/// tab, line feed, vertical tab, form feed, carriage return and space; `u8::is_ascii_whitespace`
/// leaves out the vertical tab) and `-`, else the byte lowercased.
const NORMALIZED: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = match b as u8 {
            b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | b'-' => b'_',
            c => c.to_ascii_lowercase(),
        };
        b += 1;
    }
    table
};

/// [`push_normalized`] of an ASCII `name`, appended to `out` (empty, or ending in a finished
/// segment). Every byte is written and the write position moves past the kept ones: a byte
/// loop without a branch per byte or `Vec::push`'s capacity check.
fn push_normalized_ascii(out: &mut Vec<u8>, name: &[u8]) {
    debug_assert!(name.is_ascii());
    let start = out.len();
    out.resize(start + name.len(), 0);
    let written = &mut out[start..];
    let mut n = 0;
    // The first byte of a name is never a separator kept: a leading `_` run is dropped.
    let mut after_sep = true;
    for &b in name {
        let c = NORMALIZED[usize::from(b & 0x7f)];
        let sep = c == b'_';
        // Inside `written`: `n` counts the bytes before this one that were kept.
        written[n] = c;
        n += usize::from(!(sep && after_sep));
        after_sep = sep;
    }
    // Runs of `_` were collapsed: at most one ends the name.
    if n > 0 && written[n - 1] == b'_' {
        n -= 1;
    }
    out.truncate(start + n);
}

/// ThreatSpec 0.5's implicit id (without `#`): lowercase, `-` removed, every run of characters
/// outside `[a-z0-9_]` replaced by `_`, `_` trimmed. `non-privileged port` ->
/// `nonprivileged_port`, `App:Api` -> `app_api`.
pub fn threatspec_slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    push_threatspec_slug(&mut out, name);
    let trimmed = out.trim_matches('_');
    if trimmed.len() == out.len() { out } else { trimmed.to_string() }
}

/// Appends [`threatspec_slug`] of `name` to `out`, except the trimming of `_` at its ends (the
/// caller's, who knows where it starts).
fn push_threatspec_slug(out: &mut String, name: &str) {
    let mut in_run = false;
    let mut push = |c: char| {
        if c == '-' {
            return;
        }
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    };
    if name.is_ascii() {
        name.bytes().for_each(|b| push(b.to_ascii_lowercase() as char));
    } else {
        name.chars().flat_map(char::to_lowercase).for_each(push);
    }
}

/// The three keys of a written name ([`normalize_name`], [`path_key`] when `path`, and
/// [`threatspec_slug`]) as [`Interned`] texts, built in `buffer` (emptied first): the
/// functions' own `String`s would be allocated and freed for every new name the model meets.
/// A path key or slug equal to the normalised name (`Web API`: `web_api` all three) is not
/// interned twice.
pub fn interned_keys(buffer: &mut String, name: &str, path: bool) -> (Interned, Option<Interned>, Interned) {
    if name.is_ascii() {
        // Every name of a project is new to the memo once per thread (20,000 component paths
        // on the huge benchmark). Through the `String` functions (a buffer taken and
        // re-validated per path segment, a `char` pattern split, a branch and a capacity check
        // per byte) the three keys cost ~2,700 instructions a name there; built here in one
        // byte buffer, ~2,100 (measured when the keys were `Arc<str>`s, most of it their
        // allocations).
        let mut bytes = std::mem::take(buffer).into_bytes();
        let keys = ascii_interned_keys(&mut bytes, name.as_bytes(), path);
        bytes.clear();
        *buffer = String::from_utf8(bytes).expect("empty");
        return keys;
    }
    buffer.clear();
    push_normalized(buffer, name);
    let norm = Interned::new(buffer);
    let path = path.then(|| {
        buffer.clear();
        push_path_key(buffer, name);
        if *buffer == *norm { norm } else { Interned::new(buffer) }
    });
    buffer.clear();
    push_threatspec_slug(buffer, name);
    let slug = buffer.trim_matches('_');
    let slug = if slug == &*norm { norm } else { Interned::new(slug) };
    (norm, path, slug)
}

/// [`interned_keys`] of an ASCII `name`, built in `bytes`.
fn ascii_interned_keys(
    bytes: &mut Vec<u8>,
    name: &[u8],
    path: bool,
) -> (Interned, Option<Interned>, Interned) {
    let shared = |b: &[u8]| Interned::new(std::str::from_utf8(b).expect("ASCII"));
    bytes.clear();
    push_normalized_ascii(bytes, name);
    let norm = shared(bytes);
    let path = path.then(|| {
        if !name.iter().any(|&b| b == b'.' || b == b':') {
            // One segment: its key is the normalised name.
            return norm;
        }
        bytes.clear();
        push_path_key_ascii(bytes, name);
        shared(bytes)
    });
    bytes.clear();
    push_slug_ascii(bytes, name);
    let start = bytes.iter().position(|&b| b != b'_').unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&b| b != b'_').map_or(start, |e| e + 1);
    let slug = if bytes[start..end] == *norm.as_bytes() { norm } else { shared(&bytes[start..end]) };
    (norm, path, slug)
}

/// [`push_path_key`] of an ASCII `path` into `key`, which must be empty.
fn push_path_key_ascii(key: &mut Vec<u8>, path: &[u8]) {
    debug_assert!(key.is_empty());
    for segment in path.split(|&b| b == b'.' || b == b':') {
        let before = key.len();
        if before > 0 {
            key.push(b'.');
        }
        push_normalized_ascii(key, segment);
        // An empty segment (`a..b`, a lone `_`) adds nothing, not even its separator.
        if key.len() == before + usize::from(before > 0) {
            key.truncate(before);
        }
    }
}

/// [`push_threatspec_slug`] of an ASCII byte: the byte lowercased when it is kept (`a-z`,
/// `0-9`, `_`), [`SLUG_RUN`] for the others, and [`SLUG_DROPPED`] for `-`.
const SLUG: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = (b as u8).to_ascii_lowercase();
        table[b] = match c {
            b'-' => SLUG_DROPPED,
            b'a'..=b'z' | b'0'..=b'9' | b'_' => c,
            _ => SLUG_RUN,
        };
        b += 1;
    }
    table
};
const SLUG_DROPPED: u8 = 0;
const SLUG_RUN: u8 = 1;

/// [`push_threatspec_slug`] of an ASCII `name`, written like [`push_normalized_ascii`].
fn push_slug_ascii(out: &mut Vec<u8>, name: &[u8]) {
    debug_assert!(name.is_ascii());
    let start = out.len();
    out.resize(start + name.len(), 0);
    let written = &mut out[start..];
    let mut n = 0;
    let mut in_run = false;
    for &b in name {
        let c = SLUG[usize::from(b & 0x7f)];
        let run = c == SLUG_RUN;
        written[n] = if run { b'_' } else { c };
        n += usize::from(c != SLUG_DROPPED && !(run && in_run));
        in_run = if c == SLUG_DROPPED { in_run } else { run };
    }
    out.truncate(start + n);
}

/// The key of a component path: segments split at `.` or `:`, each normalised as a GAL
/// name, joined with `.`. `Shop.Api`, `shop:api` and `Shop:API` are one component.
pub fn path_key(path: &str) -> String {
    let mut key = String::with_capacity(path.len());
    push_path_key(&mut key, path);
    key
}

/// Writes [`path_key`] of `path` into `key`, which must be empty.
fn push_path_key(key: &mut String, path: &str) {
    debug_assert!(key.is_empty());
    for segment in path.split(['.', ':']) {
        let before = key.len();
        if before > 0 {
            key.push('.');
        }
        push_normalized(key, segment);
        // An empty segment (`a..b`, a lone `_`) adds nothing, not even its separator.
        if key.len() == before + usize::from(before > 0) {
            key.truncate(before);
        }
    }
}

/// Keys of every ancestor of a path key, nearest first (`a.b.c` -> `a.b`, `a`).
pub fn ancestors(key: &str) -> impl Iterator<Item = &str> {
    let mut rest = key;
    std::iter::from_fn(move || {
        let cut = rest.rfind('.')?;
        rest = &rest[..cut];
        Some(rest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gal_names() {
        for n in
            ["SQL Injection", "sql-injection", "SQL_Injection", "  SQL  --  Injection ", "ＳＱＬ Injection"]
        {
            assert_eq!(normalize_name(n), "sql_injection", "{n}");
        }
    }

    #[test]
    fn threatspec_slugs() {
        assert_eq!(threatspec_slug("non-privileged port"), "nonprivileged_port");
        assert_eq!(threatspec_slug("App:Api"), "app_api");
        assert_eq!(threatspec_slug("Cross-Site Scripting (XSS)"), "crosssite_scripting_xss");
        assert_eq!(threatspec_slug("Externo:Usuário"), "externo_usu_rio");
    }

    /// The definitions before the ASCII fast paths, as a reference.
    fn reference_normalize(name: &str) -> String {
        let mut out = String::new();
        for c in name.nfkc().flat_map(char::to_lowercase) {
            let c = if c.is_whitespace() || c == '-' { '_' } else { c };
            if c == '_' && (out.is_empty() || out.ends_with('_')) {
                continue;
            }
            out.push(c);
        }
        out.trim_end_matches('_').to_string()
    }

    fn reference_slug(name: &str) -> String {
        let mut out = String::new();
        let mut in_run = false;
        for c in name.chars().flat_map(char::to_lowercase).filter(|c| *c != '-') {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                out.push(c);
                in_run = false;
            } else if !in_run {
                out.push('_');
                in_run = true;
            }
        }
        out.trim_matches('_').to_string()
    }

    proptest::proptest! {
        #[test]
        fn fast_paths_agree_with_the_reference(name in "[ -~\\t\\n\\r\\x0b\\x0c]{0,24}|[a-zA-Z _.:Éé\u{ff33}-]{0,12}") {
            proptest::prop_assert_eq!(normalize_name(&name), reference_normalize(&name));
            proptest::prop_assert_eq!(threatspec_slug(&name), reference_slug(&name));
            let key: Vec<String> =
                name.split(['.', ':']).map(reference_normalize).filter(|s| !s.is_empty()).collect();
            proptest::prop_assert_eq!(path_key(&name), key.join("."));
        }

        /// The interned keys, built in a buffer that held another name, are the three functions'.
        #[test]
        fn interned_keys_are_the_functions_keys(
            name in "[ -~\\t\\n\\r\\x0b\\x0c]{0,24}|[a-zA-Z _.:Éé\u{ff33}-]{0,12}",
            before in "[a-z_ ]{0,8}",
            path: bool,
        ) {
            let mut buffer = before;
            let (norm, key, slug) = interned_keys(&mut buffer, &name, path);
            proptest::prop_assert_eq!(&*norm, normalize_name(&name));
            let expected = path.then(|| path_key(&name));
            proptest::prop_assert_eq!(key.as_deref(), expected.as_deref());
            proptest::prop_assert_eq!(&*slug, threatspec_slug(&name));
        }
    }

    /// A name without `.` or `:` has its normalised name as its path key, a name of ASCII
    /// words as its slug too: one interned text (the shortcuts that skip building them again
    /// give the same keys).
    #[test]
    fn keys_equal_to_the_normalised_name_are_one_text() {
        let mut buffer = String::new();
        for name in ["Web API", "sql injection 2", "Unicode Nämes"] {
            let (norm, path, slug) = interned_keys(&mut buffer, name, true);
            assert_eq!(norm.address(), path.unwrap().address(), "{name}");
            assert_eq!(norm == slug, name.is_ascii(), "{name}: {slug}");
        }
        let (norm, path, slug) = interned_keys(&mut buffer, "Shop:Web-API", true);
        assert_eq!((&*norm, path.as_deref(), &*slug), ("shop:web_api", Some("shop.web_api"), "shop_webapi"));
        assert_ne!(norm, slug);
    }

    #[test]
    fn path_keys_and_ancestors() {
        assert_eq!(path_key("Shop.Api.Orders"), "shop.api.orders");
        assert_eq!(path_key("WebApp:Api"), "webapp.api");
        assert_eq!(path_key("External User"), "external_user");
        assert_eq!(ancestors("a.b.c").collect::<Vec<_>>(), ["a.b", "a"]);
    }
}
