//! Fast comment scanner for Bash, modelled on tree-sitter-bash 0.25: a `#` after whitespace
//! (or at the start of the text) starts a comment that runs to the next `\n`; a `#` inside a
//! plain word right after `/`, `.`, `,` or `-` (`a/#b`) is part of the word; `'...'` raw
//! strings, `$'...'` ANSI-C strings and `"..."` strings, whose `$(...)` command substitutions hold code (and comments) again;
//! `$#`, `${...}` expansions such as `${#x}` and `${x#*/}`, and `<<<` here-strings.
//!
//! Owns: the Bash half of [`super::comment_ranges`].
//!
//! Must never: guess. The grammar's external scanner reads many constructs by context
//! (heredoc bodies, arithmetic, test regexes, concatenations), so the scanner declines
//! (returns `None`) on every heredoc opener `<<` (not `<<<`), arithmetic `((`, `$((` and `$[`,
//! backticks, `[[` tests, a `#` that is neither after ASCII whitespace nor in a plain word
//! right after `/`, `.`, `,` or `-` (`"a"#`, `$x#`, `;#`, `c#m`, `x=#`, `16#ff`, `a\u{a0}#`), a
//! `${...}` holding quotes, backticks, backslashes or line breaks, a `$` before
//! anything but a variable name, a special parameter, `'`, `(` or `{`, `case` inside a command
//! substitution (its patterns' `)`), a word holding `=~` (a test's regex operator, after
//! which the grammar reads a regex), and anything that never closes. tree-sitter reads those
//! files.

use super::utf8_len;

/// Comment byte ranges of a Bash text, or `None` to leave it to tree-sitter.
pub(super) fn comment_ranges(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    code(bytes, 0, false, &mut out)?;
    Some(out)
}

/// A byte the grammar's `word` token takes (outside the first position, where `#` is not).
fn is_word(b: u8) -> bool {
    !matches!(
        b,
        b'#' | b'\''
            | b'"'
            | b'<'
            | b'>'
            | b'{'
            | b'}'
            | b'['
            | b']'
            | b'('
            | b')'
            | b'`'
            | b'$'
            | b'|'
            | b'&'
            | b';'
            | b'\\'
    ) && !is_space(b)
}

/// The grammar's whitespace (`\s`) among ASCII bytes.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// Scans code from `i`; in a command substitution (`nested`), up to and including the `)`
/// that closes it, returning where scanning resumes.
fn code(bytes: &[u8], mut i: usize, nested: bool, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    // Parentheses opened inside a command substitution (subshells, function definitions).
    let mut depth = 0usize;
    // Whether the byte before `i` belongs to a plain word token (`a#b` is one word).
    let mut in_word = false;
    while i < bytes.len() {
        let b = bytes[i];
        let after_space = i == 0 || is_space(bytes[i - 1]);
        match b {
            b'#' if after_space => {
                let end = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |p| i + p);
                out.push((i, end));
                i = end;
                in_word = false;
                continue;
            }
            // Only after `/`, `.`, `,` or `-`: after a name (`c#m`) the grammar's scanner ends a
            // variable name at the `#`, which then starts a comment (found by a mutation run on
            // the machine's scripts); after `=` the value is a new token; after a digit, a number;
            // after a non-ASCII byte, the character may be Unicode whitespace.
            b'#' if in_word && matches!(bytes[i - 1], b'/' | b'.' | b',' | b'-') => {
                i += 1;
                continue;
            }
            b'#' => return None,
            _ => {}
        }
        in_word = false;
        match b {
            _ if is_space(b) => i += 1,
            b'\\' => match bytes.get(i + 1) {
                // A line continuation.
                Some(b'\n') => i += 2,
                Some(b'\r') if bytes.get(i + 2) == Some(&b'\n') => i += 3,
                Some(&c) if !is_space(c) => {
                    // An escaped character, part of a word.
                    i += 1 + utf8_len(c);
                    in_word = true;
                }
                _ => return None,
            },
            b'\'' => i = i + 1 + memchr::memchr(b'\'', &bytes[i + 1..])? + 1,
            b'"' => i = double_quoted(bytes, i + 1, out)?,
            b'$' => i = dollar(bytes, i, out)?,
            b'`' => return None,
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                if bytes.get(i + 2) != Some(&b'<') {
                    return None; // a heredoc
                }
                i += 3;
            }
            b'(' if bytes.get(i + 1) == Some(&b'(') => return None, // arithmetic
            b'[' if bytes.get(i + 1) == Some(&b'[') => return None, // a test
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                i += 1;
                if nested {
                    if depth == 0 {
                        return Some(i);
                    }
                    depth -= 1;
                }
            }
            b'<' | b'>' | b'{' | b'}' | b'[' | b']' | b'|' | b'&' | b';' => i += 1,
            _ => {
                // A plain word.
                let start = i;
                while i < bytes.len() && is_word(bytes[i]) {
                    i += 1;
                }
                if nested && &bytes[start..i] == b"case" && (start == 0 || !is_word(bytes[start - 1])) {
                    return None;
                }
                // After `=~` the grammar's scanner reads a regex (in `[[`, and by error
                // recovery anywhere: `] =~` then a comment line, found by fuzzing).
                if bytes[start..i].windows(2).any(|w| w == b"=~") {
                    return None;
                }
                in_word = true;
            }
        }
    }
    (!nested).then_some(i)
}

/// End of the `"` string whose content starts at `i`.
fn double_quoted(bytes: &[u8], mut i: usize, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    loop {
        match *bytes.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            b'`' => return None,
            b'$' => i = dollar(bytes, i, out)?,
            _ => i += 1,
        }
    }
}

/// End of what the `$` at `at` starts: a variable or special parameter, `$'...'`, `$(...)`
/// or `${...}`; `None` for anything else.
fn dollar(bytes: &[u8], at: usize, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    let i = at + 1;
    match *bytes.get(i)? {
        b'(' if bytes.get(i + 1) == Some(&b'(') => None,
        b'(' => code(bytes, i + 1, true, out),
        b'{' => expansion(bytes, i + 1, out),
        b'\'' => ansi_c(bytes, i + 1),
        b'#' | b'$' | b'?' | b'!' | b'@' | b'*' | b'-' | b'0'..=b'9' => Some(i + 1),
        c if c.is_ascii_alphabetic() || c == b'_' => {
            Some(i + bytes[i..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count())
        }
        _ => None,
    }
}

/// End of the `${...}` whose body starts at `i`: plain text and nested `$` expansions only.
fn expansion(bytes: &[u8], mut i: usize, out: &mut Vec<(usize, usize)>) -> Option<usize> {
    loop {
        match *bytes.get(i)? {
            b'}' => return Some(i + 1),
            b'$' => {
                if bytes.get(i + 1) == Some(&b'\'') {
                    return None;
                }
                i = dollar(bytes, i, out)?;
            }
            b'"' | b'\'' | b'`' | b'\\' | b'\n' | b'\r' | b'{' => return None,
            _ => i += 1,
        }
    }
}

/// End of the `$'...'` string whose content starts at `i`. The grammar's token
/// `\$'([^']|\\')*'` is read longest-first, so a `'` after a backslash never ends it.
fn ansi_c(bytes: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let quote = i + memchr::memchr(b'\'', &bytes[i..])?;
        if bytes[quote - 1] != b'\\' {
            return Some(quote + 1);
        }
        i = quote + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str) -> Option<Vec<&str>> {
        super::super::slices(text, comment_ranges(text.as_bytes()))
    }

    #[test]
    fn comments_words_strings_and_expansions() {
        let text = "#!/bin/bash\n# a\nx=a/#b # b\necho '# no' \"# $x ${#y} ${z#*/} $(echo \"#\" # c\n)\" $# # d\ny=$'\\'#' # e\r\nf() { g; } # f\ncat <<< \"#\" # g";
        assert_eq!(
            comments(text).unwrap(),
            ["#!/bin/bash", "# a", "# b", "# c", "# d", "# e\r", "# f", "# g"]
        );
    }

    #[test]
    fn declines_what_it_cannot_decide() {
        for text in [
            "cat <<EOF\n# no\nEOF\n",
            "cat <<-'EOF'\n# no\nEOF\n",
            "echo $((16#ff)) # c\n",
            "(( x = 2#1 ))\n",
            "echo `ls` # c\n",
            "[[ $x =~ a#b ]]\n",
            "] =~\n#]",
            "[ $x =~ y ] # c\n",
            "echo \"a\"#b\n",
            "echo $x#b\n",
            "c#m=begin\n=begin\nd=${0##*/}\n",
            "x=#c\n",
            "echo 16#ff\n",
            "a;#b\n",
            "echo ${x:-\"#\"}\n",
            "x=$(case a in a) b;; esac)\n",
            "echo 'open\n",
            "echo \"$(open\"\n",
        ] {
            assert_eq!(comments(text), None, "{text:?}");
        }
    }
}
