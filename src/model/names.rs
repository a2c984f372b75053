//! Name normalisation: GAL names, ThreatSpec implicit ids and component path keys.
//!
//! Owns: the three pure string functions resolution is built on. Must never: look anything up.

use std::sync::Arc;
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
        bytes.reserve(name.len());
        let mut after_sep = bytes.len() == start || bytes.last() == Some(&b'_');
        for b in name.bytes() {
            // `char::is_whitespace` on ASCII: tab, line feed, vertical tab, form feed, carriage
            // return and space (`u8::is_ascii_whitespace` leaves out the vertical tab).
            let b = if matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | b'-') {
                b'_'
            } else {
                b.to_ascii_lowercase()
            };
            if b == b'_' && after_sep {
                continue;
            }
            after_sep = b == b'_';
            bytes.push(b);
        }
        while bytes.len() > start && bytes.last() == Some(&b'_') {
            bytes.pop();
        }
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
/// [`threatspec_slug`]) as shared strings, built in `buffer` (emptied first) so that each
/// costs one allocation, the shared string's: the functions' own `String`s were copied into
/// a shared one and freed (three allocations more for every new name the model meets).
pub fn shared_keys(buffer: &mut String, name: &str, path: bool) -> (Arc<str>, Option<Arc<str>>, Arc<str>) {
    buffer.clear();
    push_normalized(buffer, name);
    let norm = Arc::from(buffer.as_str());
    let path = path.then(|| {
        buffer.clear();
        push_path_key(buffer, name);
        Arc::from(buffer.as_str())
    });
    buffer.clear();
    push_threatspec_slug(buffer, name);
    let slug = Arc::from(buffer.trim_matches('_'));
    (norm, path, slug)
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
        fn fast_paths_agree_with_the_reference(name in "[ -~\\t]{0,24}|[a-zA-Z _.:Éé\u{ff33}-]{0,12}") {
            proptest::prop_assert_eq!(normalize_name(&name), reference_normalize(&name));
            proptest::prop_assert_eq!(threatspec_slug(&name), reference_slug(&name));
            let key: Vec<String> =
                name.split(['.', ':']).map(reference_normalize).filter(|s| !s.is_empty()).collect();
            proptest::prop_assert_eq!(path_key(&name), key.join("."));
        }

        /// The shared keys, built in a buffer that held another name, are the three functions'.
        #[test]
        fn shared_keys_are_the_functions_keys(
            name in "[ -~\\t]{0,24}|[a-zA-Z _.:Éé\u{ff33}-]{0,12}",
            before in "[a-z_ ]{0,8}",
            path: bool,
        ) {
            let mut buffer = before;
            let (norm, key, slug) = shared_keys(&mut buffer, &name, path);
            proptest::prop_assert_eq!(&*norm, normalize_name(&name));
            let expected = path.then(|| path_key(&name));
            proptest::prop_assert_eq!(key.as_deref(), expected.as_deref());
            proptest::prop_assert_eq!(&*slug, threatspec_slug(&name));
        }
    }

    #[test]
    fn path_keys_and_ancestors() {
        assert_eq!(path_key("Shop.Api.Orders"), "shop.api.orders");
        assert_eq!(path_key("WebApp:Api"), "webapp.api");
        assert_eq!(path_key("External User"), "external_user");
        assert_eq!(ancestors("a.b.c").collect::<Vec<_>>(), ["a.b", "a"]);
    }
}
