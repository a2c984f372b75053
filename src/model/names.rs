//! Name normalisation: GAL names, ThreatSpec implicit ids and component path keys.
//!
//! Owns: the three pure string functions resolution is built on. Must never: look anything up.

use unicode_normalization::UnicodeNormalization;

/// GAL name normalisation: NFKC, lowercase, whitespace and `-` -> `_`, runs of `_` collapsed,
/// `_` trimmed. `SQL Injection`, `sql-injection` and `SQL_Injection` are one name.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    // NFKC leaves ASCII unchanged; skipping it for the common case halves the cost.
    let chars: Box<dyn Iterator<Item = char>> =
        if name.is_ascii() { Box::new(name.chars()) } else { Box::new(name.nfkc()) };
    for c in chars.flat_map(char::to_lowercase) {
        let c = if c.is_whitespace() || c == '-' { '_' } else { c };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// ThreatSpec 0.5's implicit id (without `#`): lowercase, `-` removed, every run of characters
/// outside `[a-z0-9_]` replaced by `_`, `_` trimmed. `non-privileged port` ->
/// `nonprivileged_port`, `App:Api` -> `app_api`.
pub fn threatspec_slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        if c == '-' {
            continue;
        }
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

/// The key of a component path: segments split at `.` or `:`, each normalised as a GAL
/// name, joined with `.`. `Shop.Api`, `shop:api` and `Shop:API` are one component.
pub fn path_key(path: &str) -> String {
    let mut key = String::with_capacity(path.len());
    for segment in path.split(['.', ':']).map(normalize_name).filter(|s| !s.is_empty()) {
        if !key.is_empty() {
            key.push('.');
        }
        key.push_str(&segment);
    }
    key
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

    #[test]
    fn path_keys_and_ancestors() {
        assert_eq!(path_key("Shop.Api.Orders"), "shop.api.orders");
        assert_eq!(path_key("WebApp:Api"), "webapp.api");
        assert_eq!(path_key("External User"), "external_user");
        assert_eq!(ancestors("a.b.c").collect::<Vec<_>>(), ["a.b", "a"]);
    }
}
