//! Fast comment scanner for Ruby, modelled on tree-sitter-ruby 0.23: `#` line comments (to
//! the next `\n`), `=begin ... =end` block comments at the start of a line, `'` and `"`
//! strings, `:"..."` symbols, regex literals `/.../` and percent literals (`%w[...]`,
//! `%q(...)`, `%r{...}`, ...) where no division or modulo could stand, and the code inside
//! `#{...}` interpolation (nested braces and strings).
//!
//! Owns: the Ruby half of [`super::comment_ranges`].
//!
//! Must never: guess. Ruby's grammar decides what `/`, `%`, `<<` and `?` mean from the parse
//! state (a regex or a division, a heredoc or a shift, a character literal or a ternary), which
//! a scanner sees only in part. It declines (returns `None`) wherever the reading is not
//! certain: a `/` or `%` that is neither plainly an operator (after a value, with the spacing
//! the grammar's scanner reads as one) nor plainly a literal (after an operator but a range's `..`, an
//! opening bracket, a line break or an expression keyword), and a `/` or `%` that opens a line after
//! one ending in a value (tree-sitter may continue the expression); every heredoc opener (`<<ID`, `<<~ID`,
//! `<<-ID`, `<<"ID"`, ...); a `?` character literal of a quote, `#`, `\` or another byte the
//! scanner tracks, and, where no name ends before the `?`, of a bracket, comma or operator
//! (`?(` read as a literal makes the `/` after it a division); backticks; `$` followed by anything but a global variable's name; a
//! backslash outside a literal that is not a line continuation; `=begin` anywhere but at the
//! start of a line; a comment inside an interpolation; `__END__`; a byte order mark; and any
//! literal or block comment that never closes. tree-sitter reads those files.

/// Comment byte ranges of a Ruby text, or `None` to leave it to tree-sitter.
pub(super) fn comment_ranges(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    if bytes.starts_with(b"\xef\xbb\xbf") {
        return None;
    }
    let mut scanner = Scanner { bytes, out: Vec::new() };
    scanner.code(0, false)?;
    Some(scanner.out)
}

/// What the last token leaves the grammar expecting, as far as `/` and `%` are concerned.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// An operand: a `/` opens a regex, a `%` a percent literal.
    Operand,
    /// A value was just read (identifier, number, `)`, `]`): a `/` or `%` may be an operator.
    Value,
    /// Anything else: a `/` or `%` here is declined.
    Unknown,
}

/// Keywords after which an expression starts (a `/` there opens a regex).
const EXPRESSION_KEYWORDS: &[&[u8]] = &[
    b"if", b"unless", b"while", b"until", b"when", b"and", b"or", b"not", b"return", b"elsif", b"case",
    b"then", b"do", b"yield", b"break", b"next",
];

/// Other keywords: what follows them is not decided here.
const OTHER_KEYWORDS: &[&[u8]] = &[
    // Not an expression keyword: tree-sitter-ruby reads `in /sh` at the start of a file as a
    // division (the comments fuzz target's finding, seventh sitting), so a `/` after it is
    // left to tree-sitter.
    b"in",
    b"def",
    b"class",
    b"module",
    b"self",
    b"nil",
    b"true",
    b"false",
    b"end",
    b"super",
    b"begin",
    b"ensure",
    b"rescue",
    b"alias",
    b"undef",
    b"defined",
    b"BEGIN",
    b"END",
    b"__FILE__",
    b"__LINE__",
    b"__ENCODING__",
    b"redo",
    b"retry",
    b"else",
    b"__END__",
    b"__method__",
];

/// Bytes whose meaning the scanner tracks: a `?` right before one of them may be a character
/// literal of it, which changes what follows.
const TRACKED: &[u8] = b"#\"'`\\/%<={}$?:@";

struct Scanner<'a> {
    bytes: &'a [u8],
    out: Vec<(usize, usize)>,
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

impl Scanner<'_> {
    /// Scans code from `i`; in an interpolation (`nested`), up to and including the `}` that
    /// closes it, returning where scanning resumes.
    fn code(&mut self, mut i: usize, nested: bool) -> Option<usize> {
        let bytes = self.bytes;
        let mut context = Context::Operand;
        // Whitespace since the last token.
        let mut spaced = false;
        // Whether a line break followed a value since the last token.
        let mut value_line_ended = false;
        let mut depth = 0usize;
        while i < bytes.len() {
            let b = bytes[i];
            let column0 = i == 0 || bytes[i - 1] == b'\n';
            match b {
                b'\n' => {
                    // After a line that ends in a value, tree-sitter may read a `/` or `%` that
                    // opens a later line as an operator (in broken code, `x\n\n/#...`: found by
                    // the `comments` fuzz target), so those are left to it.
                    value_line_ended |= context == Context::Value;
                    context = Context::Operand;
                    spaced = true;
                    i += 1;
                    continue;
                }
                b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' => {
                    spaced = true;
                    i += 1;
                    continue;
                }
                b'\\' => {
                    // A line continuation is whitespace; nothing else comes outside a literal.
                    i += match (bytes.get(i + 1), bytes.get(i + 2)) {
                        (Some(b'\n'), _) => 2,
                        (Some(b'\r'), Some(b'\n')) => 3,
                        _ => return None,
                    };
                    spaced = true;
                    continue;
                }
                b'#' => {
                    if nested {
                        return None;
                    }
                    let end = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |p| i + p);
                    self.out.push((i, end));
                    i = end;
                    continue;
                }
                _ => {}
            }
            let was_spaced = std::mem::replace(&mut spaced, false);
            let after_value_line = std::mem::replace(&mut value_line_ended, false);
            let next = bytes.get(i + 1).copied();
            match b {
                b'=' if bytes[i..].starts_with(b"=begin") => {
                    if !column0 || nested {
                        return None;
                    }
                    let end = block_comment_end(bytes, i)?;
                    self.out.push((i, end));
                    i = end;
                    context = Context::Operand;
                }
                b'\'' => {
                    i = literal(self, i + 1, b'\'', b'\'', false)?;
                    context = Context::Value;
                }
                b'"' => {
                    i = literal(self, i + 1, b'"', b'"', true)?;
                    context = Context::Value;
                }
                b'`' => return None,
                b':' => match next {
                    Some(b'"') => {
                        i = literal(self, i + 2, b'"', b'"', true)?;
                        context = Context::Value;
                    }
                    Some(b'\'') => {
                        i = literal(self, i + 2, b'\'', b'\'', false)?;
                        context = Context::Value;
                    }
                    Some(b':') => {
                        i += 2;
                        context = Context::Unknown;
                    }
                    _ => {
                        i += 1;
                        context = Context::Unknown;
                    }
                },
                b'?' => {
                    // A ternary, a method name's `?` or a character literal: alike unless the
                    // next byte is one the scanner tracks, or, where no name ends right before
                    // (a character literal may start here), a bracket, comma or operator: after
                    // `?(` read as a character literal a `/` divides, after a `(` it opens a
                    // regex (found by the `comments` fuzz target).
                    let after_name = i > 0 && is_ident(bytes[i - 1]);
                    let literal_may_differ = |n: u8| {
                        TRACKED.contains(&n) || !after_name && !is_ident(n) && !n.is_ascii_whitespace()
                    };
                    if next.is_some_and(literal_may_differ) {
                        return None;
                    }
                    i += 1;
                    context = Context::Unknown;
                }
                b'$' => {
                    let n = next?;
                    i += if b"!@&'+~=/\\,;.<>*$?:\"".contains(&n) {
                        2
                    } else if n == b'-'
                        && bytes.get(i + 2).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    {
                        3
                    } else if is_ident(n) {
                        1 + bytes[i + 1..].iter().take_while(|&&c| is_ident(c)).count()
                    } else {
                        return None;
                    };
                    context = Context::Value;
                }
                b'/' => match context {
                    _ if after_value_line => return None,
                    Context::Operand if !matches!(next, Some(b' ' | b'\t' | b'\n' | b'\r' | b'=') | None) => {
                        i = literal(self, i + 1, b'/', b'/', true)?;
                        i += bytes[i..].iter().take_while(|c| c.is_ascii_lowercase()).count();
                        context = Context::Value;
                    }
                    Context::Value if !was_spaced || matches!(next, Some(b' ' | b'\t' | b'=')) => {
                        i += 1;
                        context = Context::Operand;
                    }
                    _ => return None,
                },
                b'%' => match context {
                    _ if after_value_line => return None,
                    _ if next == Some(b'=') => {
                        i += 2;
                        context = Context::Operand;
                    }
                    Context::Value
                        if matches!(next, Some(b' ' | b'\t')) || next.is_some_and(|n| n.is_ascii_digit()) =>
                    {
                        i += 1;
                        context = Context::Operand;
                    }
                    Context::Operand => {
                        i = percent_literal(self, i)?;
                        context = Context::Value;
                    }
                    _ => return None,
                },
                b'<' => {
                    if next == Some(b'<') {
                        let after = bytes.get(i + 2).copied();
                        if after.is_some_and(|c| {
                            b"~-'\"`".contains(&c) || c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
                        }) {
                            return None; // a heredoc opener, or a shift the scanner cannot tell from one
                        }
                        i += 2;
                    } else {
                        i += 1;
                    }
                    context = Context::Operand;
                }
                b'{' => {
                    depth += 1;
                    i += 1;
                    context = Context::Operand;
                }
                b'}' => {
                    i += 1;
                    if depth == 0 {
                        if nested {
                            return Some(i);
                        }
                    } else {
                        depth -= 1;
                    }
                    context = Context::Unknown;
                }
                b')' | b']' => {
                    i += 1;
                    context = Context::Value;
                }
                b'(' | b',' | b'=' | b'[' | b'|' | b'&' | b';' | b'~' | b'>' | b'+' | b'-' | b'*' | b'^' => {
                    i += 1;
                    context = Context::Operand;
                }
                b'!' => {
                    // `save!` ends a method name; `!x` negates.
                    context =
                        if i > 0 && is_ident(bytes[i - 1]) { Context::Unknown } else { Context::Operand };
                    i += 1;
                }
                b'.' => {
                    if next == Some(b'.') {
                        i += 2;
                        // A range may end here (`s..`, Ruby 2.6's endless range): tree-sitter-ruby
                        // reads `s../B` as a division, so what `/` or `%` opens is not decided.
                        context = Context::Unknown;
                    } else {
                        // A method name follows: a keyword there is a name.
                        i += 1;
                        let start = i;
                        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                            i += 1;
                        }
                        let name = i + bytes[i..].iter().take_while(|&&c| is_ident(c)).count();
                        if name > i && !bytes[i].is_ascii_digit() {
                            i = name;
                            context = Context::Value;
                        } else {
                            i = start;
                            context = Context::Unknown;
                        }
                    }
                }
                b'@' => {
                    let sigils = if next == Some(b'@') { 2 } else { 1 };
                    i += sigils;
                    i += bytes[i..].iter().take_while(|&&c| is_ident(c)).count();
                    context = Context::Value;
                }
                c if is_ident(c) => {
                    let start = i;
                    i += bytes[i..].iter().take_while(|&&c| is_ident(c)).count();
                    let word = &bytes[start..i];
                    context = if c.is_ascii_digit() {
                        Context::Value
                    } else if word == b"__END__" {
                        return None;
                    } else if EXPRESSION_KEYWORDS.contains(&word) {
                        Context::Operand
                    } else if OTHER_KEYWORDS.contains(&word) {
                        Context::Unknown
                    } else {
                        Context::Value
                    };
                }
                _ => {
                    i += 1;
                    context = Context::Unknown;
                }
            }
        }
        // An interpolation that never closes.
        (!nested).then_some(i)
    }
}

/// End of a literal whose content starts at `i` and which closes at `close` (nesting on
/// `open` when it differs), with backslash escapes and, when `interpolates`, `#{...}` code.
/// `None` when it never closes or its interpolated code is declined.
fn literal(scanner: &mut Scanner, mut i: usize, open: u8, close: u8, interpolates: bool) -> Option<usize> {
    let bytes = scanner.bytes;
    let mut depth = 1usize;
    loop {
        let b = *bytes.get(i)?;
        if b == close {
            depth -= 1;
            i += 1;
            if depth == 0 {
                return Some(i);
            }
        } else if b == open {
            depth += 1;
            i += 1;
        } else if b == b'\\' {
            i += 2;
        } else if interpolates && b == b'#' && bytes.get(i + 1) == Some(&b'{') {
            i = scanner.code(i + 2, true)?;
        } else {
            i += 1;
        }
    }
}

/// End of the percent literal whose `%` is at `at`, where an operand is expected.
fn percent_literal(scanner: &mut Scanner, at: usize) -> Option<usize> {
    let bytes = scanner.bytes;
    let mut i = at + 1;
    let (interpolates, regex) = match *bytes.get(i)? {
        b's' | b'q' | b'w' | b'i' => (false, false),
        b'Q' | b'W' | b'I' | b'x' => (true, false),
        b'r' => (true, true),
        _ => {
            i -= 1;
            (true, false)
        }
    };
    i += 1;
    let delimiter = *bytes.get(i)?;
    let close = match delimiter {
        b'(' => b')',
        b'[' => b']',
        b'{' => b'}',
        b'<' => b'>',
        b'|' | b'!' | b'#' | b'/' | b'\\' | b'@' | b'$' | b'%' | b'^' | b'&' | b'*' | b')' | b']' | b'}'
        | b'>' | b'+' | b'-' | b'~' | b',' | b'.' | b':' | b';' | b'_' => delimiter,
        _ => return None,
    };
    // A delimiter that the literal's own rules treat specially is left to tree-sitter.
    if matches!(delimiter, b'#' | b'\\') {
        return None;
    }
    let end = literal(scanner, i + 1, delimiter, close, interpolates)?;
    Some(if regex { end + bytes[end..].iter().take_while(|c| c.is_ascii_lowercase()).count() } else { end })
}

/// End of the `=begin` block comment at `at` (the start of a line), as the grammar's token
/// reads it: the `=begin` line, then pieces `[^=]`, `=[^e]`, `=e[^n]`, `=en[^d]` up to the
/// first `=end` that starts a piece, then the rest of that line. `None` when it never closes.
fn block_comment_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + memchr::memchr(b'\n', &bytes[at..])? + 1;
    loop {
        let b = *bytes.get(i)?;
        if b != b'=' {
            i += 1;
            continue;
        }
        let rest = &bytes[i..];
        if rest.starts_with(b"=end") {
            return Some(memchr::memchr(b'\n', rest).map_or(bytes.len(), |p| i + p));
        }
        // `=` and the byte that differs from `end`.
        i += if rest.starts_with(b"=en") {
            4
        } else if rest.starts_with(b"=e") {
            3
        } else {
            2
        };
        if i > bytes.len() {
            return None;
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
    fn comments_strings_and_literals() {
        let text = "# a\nx = 'no # \\' #' # b\ny = \"#{z # }\" if w}\" rescue nil\n";
        assert_eq!(comments(text), None, "a comment inside an interpolation is declined");
        let text = "# a\nx = 'no # \\' #' # b\ny = \"#{ {a: \"}#\"}[:a] } #\" # c\nz = a / 2 # d\nw = x =~ /# no\\/ #{y}/i # e\n";
        assert_eq!(comments(text).unwrap(), ["# a", "# b", "# c", "# d", "# e"]);
        let text =
            "a = %w[x # [y] z] # a\nb = %q(#{no}) # b\nc = %r{#}x # c\nd = 5 % 3 # d\ne = :\"#\" # e\n";
        assert_eq!(comments(text).unwrap(), ["# a", "# b", "# c", "# d", "# e"]);
        let text = "=begin\n# no\n==end still\n=end # no\nx = 1 # yes\r\n";
        assert_eq!(comments(text).unwrap(), ["=begin\n# no\n==end still\n=end # no", "# yes\r"]);
        assert_eq!(comments("x = $' # a\ny = a.empty? ? 1 : 2 # b\n").unwrap(), ["# a", "# b"]);
    }

    #[test]
    fn declines_what_it_cannot_decide() {
        for text in [
            "x = <<~EOS\n  # no\nEOS\n",
            "x = <<-'EOS'\n# no\nEOS\n",
            "c = ?#\n",
            "puts /x/\n",
            "x = y %w[a]\n",
            "x = `ls # no`\n",
            "x = 1 =begin\n=end\n",
            "s = 'open",
            "=begin\nnever closed\n",
            "__END__\n# data\n",
            "x = $# \n",
            "\u{feff}# c\n",
            "y = \"#{x\n",
        ] {
            assert_eq!(comments(text), None, "{text:?}");
        }
    }
}
