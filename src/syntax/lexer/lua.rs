//! Fast comment scanner for Lua, modelled on tree-sitter-lua 0.5: `--` line comments (to the
//! next `\r` or `\n`), long-bracket comments `--[[ ... ]]` and `--[==[ ... ]==]`, long-bracket
//! strings `[[ ... ]]` and `[=[ ... ]=]`, and `'` and `"` strings with backslash escapes (the
//! grammar lets them span lines).
//!
//! Owns: the Lua half of [`super::comment_ranges`].
//!
//! Must never: guess. It declines (returns `None`) when the first token is a `#` (the
//! grammar's `#!` line, which runs to the end of its line whatever it holds), on an
//! unterminated string, long string or long comment, and on a long bracket with more than 255
//! `=` (the grammar counts them in a byte); tree-sitter reads those files.

/// Comment byte ranges of a Lua text, or `None` to leave it to tree-sitter.
pub(super) fn comment_ranges(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    // Whether a token other than a comment has been read.
    let mut token = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if is_space(b) {
            i += 1;
            continue;
        }
        if b == b'-' && bytes.get(i + 1) == Some(&b'-') {
            let end = match long_bracket_end(bytes, i + 2)? {
                Some(end) => end,
                None => memchr::memchr2(b'\n', b'\r', &bytes[i..]).map_or(bytes.len(), |p| i + p),
            };
            // An empty `--` before a long comment on a later line: the grammar's comment
            // content skips the line break and takes that whole line (`--\n--[[ x ]] y`).
            if end == i + 2 && opens_long_comment_after_space(bytes, end) {
                return None;
            }
            out.push((i, end));
            i = end;
            continue;
        }
        if b == b'#' && !token {
            return None;
        }
        // A byte of a non-ASCII character may be Unicode whitespace, which the grammar skips
        // before a `#!` line: only ASCII marks a token.
        token |= b.is_ascii();
        i = match b {
            b'[' => long_bracket_end(bytes, i)?.unwrap_or(i + 1),
            b'"' | b'\'' => string_end(bytes, i)?,
            _ => i + 1,
        };
    }
    Some(out)
}

/// The grammar's whitespace (`\s`) among ASCII bytes.
fn is_space(b: u8) -> bool {
    b.is_ascii_whitespace() || b == b'\x0b'
}

/// Whether the first byte after the whitespace from `at` is not ASCII (it may be Unicode
/// whitespace) or starts a long comment `--[[`, `--[=[`, ...
fn opens_long_comment_after_space(bytes: &[u8], at: usize) -> bool {
    let next = at + bytes[at..].iter().take_while(|&&b| is_space(b)).count();
    match bytes.get(next) {
        Some(&b) if b >= 0x80 => true,
        Some(b'-') if bytes.get(next + 1) == Some(&b'-') => {
            let level = bytes[next + 2..].iter().skip(1).take_while(|&&b| b == b'=').count();
            bytes.get(next + 2) == Some(&b'[') && bytes.get(next + 3 + level) == Some(&b'[')
        }
        _ => false,
    }
}

/// After a long bracket opening at `open` (`[`, any number of `=`, `[`): `Some(Some(end))`
/// where its closing bracket (`]`, as many `=`, `]`) ends; `Some(None)` when no long bracket
/// opens there; `None` when one opens but never closes or has more `=` than the grammar counts.
fn long_bracket_end(bytes: &[u8], open: usize) -> Option<Option<usize>> {
    if bytes.get(open) != Some(&b'[') {
        return Some(None);
    }
    let level = bytes[open + 1..].iter().take_while(|&&b| b == b'=').count();
    if bytes.get(open + 1 + level) != Some(&b'[') {
        return Some(None);
    }
    if level > usize::from(u8::MAX) {
        return None;
    }
    let mut closer = Vec::with_capacity(level + 2);
    closer.push(b']');
    closer.resize(level + 1, b'=');
    closer.push(b']');
    let body = open + level + 2;
    let at = memchr::memmem::find(&bytes[body..], &closer)?;
    Some(Some(body + at + closer.len()))
}

/// End of the `'` or `"` string opening at `open`: a backslash escapes the next byte, line
/// breaks are content. `None` when it never closes.
fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let quote = bytes[open];
    let mut i = open + 1;
    loop {
        match *bytes.get(i)? {
            b'\\' => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str) -> Option<Vec<&str>> {
        super::super::slices(text, comment_ranges(text.as_bytes()))
    }

    #[test]
    fn comments_strings_and_long_brackets() {
        let text = "-- a\nlocal s = '-- no \\' -- no' -- b\nlocal t = [==[\n-- no ]] ]=]\n]==] --[[ c\n]] x = #t --[=[ d ]=]\nlocal u = \"multi\n-- line\" --[ e\r--";
        assert_eq!(comments(text).unwrap(), ["-- a", "-- b", "--[[ c\n]]", "--[=[ d ]=]", "--[ e", "--"]);
        assert_eq!(comments("-- c\n x = #t").unwrap(), ["-- c"]);
        assert_eq!(comments("--\n-- b\n--\n--[ c\n").unwrap(), ["--", "-- b", "--", "--[ c"]);
    }

    #[test]
    fn declines_what_it_cannot_decide() {
        for text in [
            "#!/usr/bin/lua\n-- c",
            "-- c\n#x -- d",
            "\x0b#x -- d",
            "--\n  --[[ x ]] y",
            "x = 1 --\r\n--[==[ x ]==]",
            "s = 'open",
            "--[[ open",
            "s = [=[ open ]]",
        ] {
            assert_eq!(comments(text), None, "{text:?}");
        }
    }
}
