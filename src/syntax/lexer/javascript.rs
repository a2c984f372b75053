//! Fast comment scanner for JavaScript, TypeScript and TSX, modelled on
//! tree-sitter-javascript 0.25 and tree-sitter-typescript 0.23: `//` and `/* */` comments,
//! `'` and `"` strings, template literals whose `${ }` substitutions hold code again (nested
//! to any depth), and regular expression literals told from division by the token before.
//!
//! Owns: the JavaScript family's half of [`super::comment_ranges`].
//!
//! Must never: guess. A `/` is a regex only after a token that cannot end an operand (`(`,
//! `,`, `=`, an operator, `return`, the `)` of `if (...)`, the start of the text) and a
//! division only after one that must (a name that is no keyword, a number, a literal, `]`,
//! the `)` of a call or group). After anything else (`}`, other keywords, `!`, `>`, `++`) it
//! is a division when no second `/` follows on its line (a regex closes on its own line), and
//! otherwise the scanner declines. It also declines (returns `None`) on a `<` that could open
//! JSX (JavaScript and TSX), HTML-like comments (`<!--`, `-->`), a lone `\r`, U+2028/U+2029 (line
//! terminators inside what looks like one line), a backslash, an ASCII control character
//! (other than whitespace) or a name holding a character the grammar's identifiers refuse
//! (Unicode white space, U+FEFF, U+2060, U+200B) in code, an unterminated
//! string, template, regex or block comment, and a string or regex that breaks its line;
//! tree-sitter reads those files.

use super::is_ident;

/// What the last token says about a `/` that follows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Before {
    /// An operand ended: `/` divides.
    Operand,
    /// An operand is expected: `/` opens a regex.
    Operator,
    /// Either (`)`, `}`, a keyword, a postfix or non-null `!`, `>` ...).
    Unknown,
}

/// Code (the file, or the inside of a `${ }`), or the text of a template literal.
enum Context {
    /// Code; `braces` counts the `{` opened inside a substitution, whose `}` is not its end.
    Code {
        braces: usize,
    },
    Template,
}

/// Comment byte ranges of a JavaScript-family text, or `None` to leave it to tree-sitter.
/// `jsx`: the grammar reads JSX (JavaScript and TSX, not TypeScript).
pub(super) fn comment_ranges(bytes: &[u8], jsx: bool) -> Option<Vec<(usize, usize)>> {
    let html_comment =
        memchr::memmem::find(bytes, b"<!--").is_some() || memchr::memmem::find(bytes, b"-->").is_some();
    let unicode_line_break = memchr::memmem::find_iter(bytes, b"\xe2\x80")
        .any(|at| matches!(bytes.get(at + 2), Some(0xa8 | 0xa9)));
    // A lone `\r` ends a `//` comment for the grammar's comment token but not for its
    // automatic-semicolon scanner, which then reads a different statement structure (found by
    // the `comments` fuzz target on `//\r/ot///\r//\r\n///\r/ot///\r//\r`).
    let lone_cr = memchr::memchr_iter(b'\r', bytes).any(|at| bytes.get(at + 1) != Some(&b'\n'));
    if html_comment || unicode_line_break || lone_cr {
        return None;
    }
    let mut out = Vec::new();
    // The bottom entry is the file's own code; every other `Code` is a substitution.
    let mut stack = vec![Context::Code { braces: 0 }];
    let mut before = Before::Operator;
    // What a `/` after each open `(` 's `)` would be: a regex after `if (...)`, a division
    // after a call or a group.
    let mut parens: Vec<Before> = Vec::new();
    // The word just before the current token, unless it names a property (`x.if`).
    let mut last_word: Option<&[u8]> = None;
    let mut i = 0;
    if bytes.starts_with(b"#!") {
        // A hashbang line is its own node, not a comment.
        i = line_end(bytes, 0);
    }
    while i < bytes.len() {
        let nested = stack.len() > 1;
        let top = stack.last_mut()?;
        let b = bytes[i];
        let braces = match top {
            Context::Template => {
                match b {
                    b'`' => {
                        stack.pop();
                        before = Before::Operand;
                        i += 1;
                    }
                    b'\\' => i = escape_end(bytes, i),
                    b'$' if bytes.get(i + 1) == Some(&b'{') => {
                        stack.push(Context::Code { braces: 0 });
                        before = Before::Operator;
                        i += 2;
                    }
                    _ => i += 1,
                }
                continue;
            }
            Context::Code { braces } => braces,
        };
        // Whitespace and comments: no token.
        match b {
            b if is_space(b) => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = memchr::memchr2(b'\n', b'\r', &bytes[i..]).map_or(bytes.len(), |p| i + p);
                out.push((i, end));
                i = end;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = i + 2 + memchr::memmem::find(&bytes[i + 2..], b"*/")? + 2;
                out.push((i, end));
                i = end;
                continue;
            }
            _ => {}
        }
        let word_before = last_word.take();
        match b {
            b'(' => {
                parens.push(match word_before {
                    // The statement after `if (...)` may start with a regex.
                    Some(b"if" | b"while" | b"for" | b"with") => Before::Operator,
                    Some(w) if is_keyword(w) => Before::Unknown,
                    _ => Before::Operand,
                });
                before = Before::Operator;
                i += 1;
            }
            b')' => {
                before = parens.pop().unwrap_or(Before::Unknown);
                i += 1;
            }
            b'/' => match before {
                Before::Operator => {
                    i = regex_end(bytes, i)?;
                    while i < bytes.len() && is_ident(bytes[i]) {
                        i += 1; // flags
                    }
                    before = Before::Operand;
                }
                Before::Operand | Before::Unknown => {
                    // A regex closes on its own line: without a second `/` there, it divides.
                    if before == Before::Unknown
                        && memchr::memchr(b'/', &bytes[i + 1..line_end(bytes, i)]).is_some()
                    {
                        return None;
                    }
                    i += 1;
                    before = Before::Operator;
                }
            },
            b'\'' | b'"' => {
                i = string_end(bytes, i)?;
                before = Before::Operand;
            }
            b'`' => {
                stack.push(Context::Template);
                i += 1;
            }
            b'{' => {
                *braces += 1;
                before = Before::Operator;
                i += 1;
            }
            b'}' => {
                if *braces == 0 && nested {
                    stack.pop();
                } else {
                    *braces = braces.saturating_sub(1);
                    before = Before::Unknown;
                }
                i += 1;
            }
            // `=>` and `>=` are followed by an expression; a lone `>` may close type arguments.
            b'=' | b'>' if bytes.get(i + 1) == Some(&(if b == b'=' { b'>' } else { b'=' })) => {
                before = Before::Operator;
                i += 2;
            }
            b'>' => {
                before = Before::Unknown;
                i += 1;
            }
            // A prefix `!` after an operator; after an operand, TypeScript's non-null `x!`.
            b'!' => {
                before = if before == Before::Operator { Before::Operator } else { Before::Unknown };
                i += 1;
            }
            b']' => {
                before = Before::Operand;
                i += 1;
            }
            b'<' if jsx && before != Before::Operand => return None,
            b'+' | b'-' if bytes.get(i + 1) == Some(&b) => {
                before = Before::Unknown;
                i += 2;
            }
            b'\\' => return None,
            b'0'..=b'9' => {
                i = number_end(bytes, i);
                before = Before::Operand;
            }
            // The grammar reads a hashbang line wherever nothing but whitespace and comments
            // stand before it (`//\n#!x //y`: no comment after the `#!`; found by the
            // `comments` fuzz target).
            b'#' if bytes.get(i + 1) == Some(&b'!') && only_comments_before(bytes, &out, i) => return None,
            c if is_ident(c) || c == b'#' => {
                let start = i;
                i += 1;
                while i < bytes.len() && is_ident(bytes[i]) {
                    i += 1;
                }
                let word = &bytes[start..i];
                // The grammar's identifiers take any character but spaces, ASCII punctuation
                // and U+FEFF, U+2060, U+200B (its `identifier` pattern): before one of those its
                // error recovery decides what follows (a `/` after `x\u{2060}` opened a regex
                // there; found by the `comments` fuzz target). Left to it.
                if !word.is_ascii() && !std::str::from_utf8(word).ok()?.chars().all(identifier_char) {
                    return None;
                }
                // `x.return` is a property; `return /re/` opens a regex.
                let property = bytes[..start].iter().rev().find(|b| !is_space(**b)) == Some(&b'.');
                if !property {
                    last_word = Some(word);
                }
                before = if !may_be_keyword(word) {
                    Before::Operand
                } else if EXPRESSION_KEYWORDS.contains(&word) && !property {
                    Before::Operator
                } else if is_keyword(word) {
                    Before::Unknown
                } else {
                    Before::Operand
                };
            }
            // An ASCII control character in code (below a space but for the whitespace above, or
            // DEL, which the grammar's identifiers take in) is not modelled: the lexer read a `/`
            // after `r\x7f` as a regex, tree-sitter a division and then a comment (found by the
            // `comments` fuzz target). Left to it.
            0..=0x1f | 0x7f => return None,
            _ => {
                before = Before::Operator;
                i += 1;
            }
        }
    }
    // A template or substitution still open at the end of the text.
    (stack.len() == 1).then_some(out)
}

/// Whether tree-sitter-javascript's `identifier` pattern takes `c` (beyond ASCII, where the
/// lexer's own byte table decides): all but white space and U+FEFF, U+2060, U+200B.
fn identifier_char(c: char) -> bool {
    c.is_ascii() || !(c.is_whitespace() || matches!(c, '\u{feff}' | '\u{2060}' | '\u{200b}'))
}

/// Reserved words always followed by an expression (unless they name a property).
const EXPRESSION_KEYWORDS: &[&[u8]] = &[
    b"case",
    b"delete",
    b"do",
    b"else",
    b"in",
    b"instanceof",
    b"new",
    b"return",
    b"throw",
    b"typeof",
    b"void",
];

/// Words after which a `/` could be either a regex or a division: reserved words, contextual
/// keywords and TypeScript's (over-inclusion only costs a look at the rest of the line).
const KEYWORDS: &[&[u8]] = &[
    b"abstract",
    b"accessor",
    b"any",
    b"as",
    b"asserts",
    b"async",
    b"await",
    b"bigint",
    b"boolean",
    b"break",
    b"case",
    b"catch",
    b"class",
    b"const",
    b"constructor",
    b"continue",
    b"debugger",
    b"declare",
    b"default",
    b"delete",
    b"do",
    b"else",
    b"enum",
    b"export",
    b"extends",
    b"false",
    b"finally",
    b"for",
    b"from",
    b"function",
    b"get",
    b"global",
    b"if",
    b"implements",
    b"import",
    b"in",
    b"infer",
    b"instanceof",
    b"interface",
    b"is",
    b"keyof",
    b"let",
    b"module",
    b"namespace",
    b"never",
    b"new",
    b"null",
    b"number",
    b"object",
    b"of",
    b"override",
    b"package",
    b"private",
    b"protected",
    b"public",
    b"readonly",
    b"require",
    b"return",
    b"satisfies",
    b"set",
    b"static",
    b"string",
    b"super",
    b"switch",
    b"symbol",
    b"this",
    b"throw",
    b"true",
    b"try",
    b"type",
    b"typeof",
    b"undefined",
    b"unique",
    b"unknown",
    b"var",
    b"void",
    b"while",
    b"with",
    b"yield",
];

/// Whether `word` is one of [`KEYWORDS`] or [`EXPRESSION_KEYWORDS`].
fn is_keyword(word: &[u8]) -> bool {
    may_be_keyword(word) && (KEYWORDS.contains(&word) || EXPRESSION_KEYWORDS.contains(&word))
}

/// Whether a keyword of `word`'s length starts with its first byte: most names are not (the
/// lists, searched for every name, were half of lexing a TypeScript file).
fn may_be_keyword(word: &[u8]) -> bool {
    match word.first() {
        Some(&first) => word.len() < 32 && KEYWORD_SHAPES[usize::from(first)] & (1 << word.len()) != 0,
        None => false,
    }
}

/// For each first byte, a bit per length of the keywords ([`KEYWORDS`], [`EXPRESSION_KEYWORDS`])
/// that start with it.
static KEYWORD_SHAPES: [u32; 256] = {
    let mut shapes = [0u32; 256];
    let lists = [KEYWORDS, EXPRESSION_KEYWORDS];
    let mut l = 0;
    while l < lists.len() {
        let mut k = 0;
        while k < lists[l].len() {
            let word = lists[l][k];
            assert!(!word.is_empty() && word.len() < 32, "a keyword's length is one of 32 bits");
            shapes[word[0] as usize] |= 1 << word.len();
            k += 1;
        }
        l += 1;
    }
    shapes
};

/// End of the line holding `i` (the next `\n`, or the end of the text).
fn line_end(bytes: &[u8], i: usize) -> usize {
    memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |p| i + p)
}

/// End of an escape whose backslash is at `i` (a backslash before `\r\n` escapes both).
fn escape_end(bytes: &[u8], i: usize) -> usize {
    if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') { i + 3 } else { i + 2 }
}

/// End of the `'` or `"` string opening at `open`; `None` if a bare line break or the end of
/// the text comes first.
fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i = escape_end(bytes, i),
            b'\n' | b'\r' => return None,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// End of the regex literal whose opening `/` is at `open` (before its flags): a `/` outside
/// a `[...]` class ends it; `None` if a line break or the end of the text comes first.
fn regex_end(bytes: &[u8], open: usize) -> Option<usize> {
    // The grammar lets whitespace and comments stand between the `/` and the pattern: in
    // `/ //x` it reads a comment where JavaScript reads the regex `/ /` (found by the
    // `comments` fuzz target on `\r / //\r / /// bb\r`).
    let body = open + 1 + bytes[open + 1..].iter().take_while(|b| is_space(**b)).count();
    if body > open + 1 && matches!(bytes.get(body), Some(b'/')) {
        return None;
    }
    let mut in_class = false;
    let mut i = open + 1;
    loop {
        match *bytes.get(i)? {
            b'\\' if matches!(bytes.get(i + 1), Some(b'\n' | b'\r') | None) => return None,
            b'\\' => i += 2,
            b'\n' | b'\r' => return None,
            b'[' => {
                in_class = true;
                i += 1;
            }
            b']' => {
                in_class = false;
                i += 1;
            }
            b'/' if !in_class => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// End of the number starting at `i`: digits, letters (`0x`, `n`, `e`), `_` and `.` (an
/// exponent's sign is read as an operator, which says the same about a `/` after the number).
fn number_end(bytes: &[u8], i: usize) -> usize {
    i + bytes[i..].iter().take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.').count()
}

/// Whether only whitespace and the comments in `comments` (sorted) stand before `at`.
fn only_comments_before(bytes: &[u8], comments: &[(usize, usize)], at: usize) -> bool {
    // Blank as the grammar's whitespace is (a non-ASCII blank, U+00A0, makes the lexer
    // decline before it gets here).
    let blank = |b: &u8| is_space(*b);
    let mut i = 0;
    for &(start, end) in comments.iter().take_while(|&&(start, _)| start < at) {
        if !bytes[i..start].iter().all(blank) {
            return false;
        }
        i = end;
    }
    bytes[i.min(at)..at].iter().all(blank)
}

/// The ASCII characters the grammar skips as whitespace: `u8::is_ascii_whitespace` and the
/// vertical tab (`\v#!x //y` is a hashbang line: found by the `comments` fuzz target).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str, jsx: bool) -> Option<Vec<&str>> {
        comment_ranges(text.as_bytes(), jsx).map(|v| v.into_iter().map(|(s, e)| &text[s..e]).collect())
    }

    #[test]
    fn strings_templates_regexes_and_comments() {
        let text = "const a = '// no'; // a\nconst r = /[/]\\/\"/g; /* b */\nconst t = `// no ${x + `/* no ${y}*/`} ${{ k: 1 }.k}`; // c\nconst d = n / 2 / m; // d\n";
        assert_eq!(comments(text, true).unwrap(), ["// a", "/* b */", "// c", "// d"]);
    }

    #[test]
    fn declines_what_it_cannot_decide() {
        // A hashbang line after leading comments (the `comments` fuzz target).
        assert_eq!(comments("//\n#!\u{8}#//\u{b}\n//\n", true), None);
        assert_eq!(comments("/* a */  #!node // b\n", false), None);
        // After a vertical tab, blank to the grammar too.
        assert_eq!(comments("\u{b}#!$//!", true), None);
        // `}` then `/`: a regex after a block, a division after an object literal.
        assert_eq!(comments("} /a\"/.test(y)", false), None);
        assert_eq!(comments("}\n/re/.test(x)", false), None);
        assert_eq!(comments("return <div>// text</div>", true), None);
        assert_eq!(comments("x = `open ${", false), None);
        assert_eq!(comments("x = 'open\n// c", false), None);
        assert_eq!(comments("x = 1 <!-- c", false), None);
        assert_eq!(comments("x = /open\n// c", false), None);
        assert_eq!(comments("x = / //\r\n", false), None);
        assert_eq!(comments("r\u{7f}/br\u{7f}//#\"/#\"", false), None);
        assert_eq!(comments("x\u{1}/ 2 // c", false), None);
        assert_eq!(comments("x\u{2060}/ 2 // c", false), None);
        assert_eq!(comments("x\u{a0}/ 2 // c", false), None);
        // Names beyond ASCII stay on the fast path.
        assert_eq!(comments("café / 2 // c", false), Some(vec!["// c"]));
        assert_eq!(comments("// a\r/re/ // b", false), None);
        // `)` then `/`: a regex after `if (x)`, a division after a group or a call.
        assert_eq!(comments("if (x) /a\"/.test(y) // c", false).unwrap(), ["// c"]);
        assert_eq!(comments("y = (a + b) / 2 / f(x) / 3; // c", false).unwrap(), ["// c"]);
        assert_eq!(comments("x.if(a) / 2 / 3; // c", false).unwrap(), ["// c"]);
        // After a postfix `++` with no second `/` on its line, the `/` can only divide.
        assert_eq!(comments("y = a++ / 2;\n// c", false).unwrap(), ["// c"]);
        assert_eq!(comments("y = a++ / 2 / 3;", false), None);
        // TypeScript has no JSX: `<T>` is a type argument or assertion.
        assert_eq!(comments("let x = <any>y; // c", false).unwrap(), ["// c"]);
    }

    #[test]
    fn keywords_pass_the_shape_filter_and_most_names_do_not() {
        for word in KEYWORDS.iter().chain(EXPRESSION_KEYWORDS) {
            assert!(may_be_keyword(word) && is_keyword(word), "{}", String::from_utf8_lossy(word));
        }
        for name in [&b"order"[..], b"total", b"x", b"fetchOrder", b"Return", b"returns", b"retur", b""] {
            assert!(!is_keyword(name), "{}", String::from_utf8_lossy(name));
        }
        // Not keywords, though of a keyword's first byte and length: only the lists decide.
        for name in [&b"rebuilt"[..], b"cast", b"nope"] {
            assert!(may_be_keyword(name) && !is_keyword(name), "{}", String::from_utf8_lossy(name));
        }
        // What the word before a `/` decides: a regex after `return` and `typeof`, a division
        // after a name, either after another keyword or a property named like one.
        assert_eq!(comments("return /a\"/.test(y) // c", false).unwrap(), ["// c"]);
        assert_eq!(comments("t = typeof /a\"/ // c", false).unwrap(), ["// c"]);
        assert_eq!(comments("y = order / 2 / 3; // c", false).unwrap(), ["// c"]);
        assert_eq!(comments("y = this / 2 / 3;", false), None);
        assert_eq!(comments("y = x.return / 2 / 3;", false), None);
    }
}
