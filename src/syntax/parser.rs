//! The annotation parser: one parser for GAL 1.0 and 2.0, ThreatSpec 0.5 and ThreatSpec 0.1.
//!
//! Owns: turning candidate lines into [`Annotation`]s and [`SyntaxError`]s. Must never: fail,
//! stop at a broken line, read outside the given lines, or produce a range outside the text.
//!
//! Rules, in the order they apply to one candidate line:
//! 1. Inside `@shield:begin` .. `@shield:end` nothing is parsed; `@shield` alone (or with
//!    `-- "reason"`) skips the rest of its comment. `@shield` followed by anything else is no
//!    shield: it is reported like any failing line (rule 5) and the next lines are read.
//! 2. A line is an annotation when its content starts with `@word` and `word` is a known verb
//!    spelling (case-insensitive). An unknown word close to a verb (`@mitgates`, also before
//!    punctuation: `@flowss,`) gives `unknown-verb` with the suggestion
//!    ([`verbs::misspelt_verb`]); `@flow` only when the line has `->` or a `#ref` (alone it is
//!    Flow's pragma). A known verb before punctuation (`@comment, @shield`) is prose naming it,
//!    and other `@words` (`@param`, `@Override`) are not ours: both silent. A verb behind
//!    stray comment marks (`//* @threat`, `// * @threat`, `#! @threat`) is not read either,
//!    and says so: `unread-annotation` (warning), with a fix that deletes the marks.
//! 3. Trailing metadata is peeled off first: `-- "description"` (escapes `\"` `\\`; following
//!    lines of the same comment that start with `-- "` continue it), then `[severity]` groups,
//!    then (threat/exposes/confirmed) trailing `prefix:ID` external refs.
//! 4. The verb's grammar ([`grammar`]: its keywords and argument kinds) splits the rest at the
//!    FIRST whole-word occurrence of each keyword (`against`, `using`/`with`, `to`, `on`,
//!    `from`, `for`, `->`, `via`, `between`/`and`, `|`, `as`), outside quoted references. A name that itself contains a keyword is quoted
//!    (`"Login to API"`) or given an id and referenced by it.
//!    Arguments (GAL 2.0): `"quoted names"` (quotes removed, `\"` `\\` undone; the name's range
//!    is the text between the quotes), `#id`, and qualified tags `#repo.id` (ids joined by `.`,
//!    also when quoted: `"#repo.id"`). `@flows A -> B -> C` gives one annotation per arrow, each
//!    with the whole line's range and metadata. `@boundary A and B` needs no `between`;
//!    `@boundary from <outer> to <inner>` (GAL 2.0, directed) is read only when `from` is the
//!    first word of the arguments.
//! 5. When the grammar does not match: `malformed-annotation` (error) if the line carries
//!    structural evidence (a `#ref`, a spaced ` -- `, an evidence keyword of that verb's
//!    grammar ([`grammar::VerbGrammar::evidence_keywords`]), the keyword one of its forms starts
//!    with as the first word ([`grammar::VerbGrammar::leading_words`]: `@boundary from X`), or no
//!    arguments at all, for a verb written in lowercase), otherwise `prose-like-annotation`
//!    (warning) naming `@shield:begin/@shield:end`. GAL is held to its grammar here (GAL spec
//!    2.12): a `--` must be followed by a description; `@audit`/`@assumes` take one asset and
//!    put a note in `-- "..."`; `@feature` takes a quoted name; the `@entitles` capability is
//!    one identifier; an asset is one token (a dotted path, `#id` or quoted name), so an
//!    unquoted name of several words fails. ThreatSpec lines (judged by spelling or form, e.g.
//!    `with <details>`) keep their free-text components and `@review` notes.
//! 6. A ThreatSpec line ending in `:` takes the following lines of its comment (up to a blank
//!    line or the next `@` line) as a YAML block: `description` fills the description, other
//!    keys go to `fields`.
//!
//! Limits ([`crate::limits`]): an annotation line longer than
//! [`MAX_ANNOTATION_LINE`] bytes (a description continued
//! over several lines counts as one) is not parsed, and parsing stops after
//! [`MAX_ITEMS_PER_FILE`] annotations and errors; each gives
//! one `resource-limit` error, so what was not read is never silent.

use super::ast::*;
use super::bytes;
use super::grammar::{self, Keyword};
use super::verbs;
use super::{CandidateLine, ParsedFile, SyntaxError};
use crate::diagnostic::Code;
use crate::limits::{MAX_ANNOTATION_LINE, MAX_ITEMS_PER_FILE};
use crate::text::TextRange;

/// Parses every candidate line of one file.
// @mitigates ThreatAnalyzer.Parser against #resource-exhaustion using #resource-limits
pub fn parse_lines(text: &str, lines: &[CandidateLine]) -> ParsedFile {
    let mut out = ParsedFile::default();
    // One annotation per line that starts with `@` (more only for a multi-hop `@flows`):
    // sized once, the vector neither grows (~560 instructions a step, an `Annotation` is ~230
    // bytes) nor needs the copy `fit_exactly` makes of one with slack.
    let at_lines = lines.iter().filter(|l| text.as_bytes().get(l.range.start()) == Some(&b'@')).count();
    out.annotations.reserve_exact(at_lines);
    let mut in_shield = false;
    let mut skip_block: Option<u32> = None;
    let mut origin: Option<Origin> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        i += 1;
        let Some(content) = text.get(line.range.start()..line.range.end()) else {
            continue;
        };
        if skip_block == Some(line.block) {
            continue;
        }
        skip_block = None;
        let Some(head) = read_verb(content) else {
            if !in_shield && let Some(error) = verb_after_comment_marks(text, line.range.start(), content) {
                if stop_at_item_limit(&mut out, error.range) {
                    break;
                }
                out.errors.push(error);
            }
            continue;
        };
        let verb = if head.punctuated { None } else { verbs::lookup(head.word) };
        if in_shield {
            if matches!(verb, Some((Verb::ShieldEnd, _))) {
                in_shield = false;
            }
            continue;
        }
        let base = line.range.start();
        let verb_range = TextRange::new(base, base + head.end);
        if stop_at_item_limit(&mut out, verb_range) {
            break;
        }
        if content.len() > MAX_ANNOTATION_LINE && verb.is_some() {
            out.errors.push(limit_error(
                verb_range,
                format!(
                    "this annotation line is {} bytes long: lines over {MAX_ANNOTATION_LINE} bytes are \
                     not read (a resource limit)",
                    content.len()
                ),
            ));
            continue;
        }
        let Some((verb, verb_dialect)) = verb else {
            // A correctly spelt verb followed by punctuation is prose naming it: not ours.
            let named_in_prose = head.punctuated && verbs::lookup(head.word).is_some();
            let rest_of_line = &content.as_bytes()[head.end..];
            if !named_in_prose
                && let Some(suggestion) = verbs::misspelt_verb(head.word.as_bytes(), rest_of_line)
            {
                let spelled = &content[..head.end];
                out.errors.push(SyntaxError {
                    code: Code::UnknownVerb,
                    range: verb_range,
                    message: format!("unknown annotation verb `{spelled}`; did you mean `@{suggestion}`?"),
                    fix: Some((
                        format!("Replace with `@{suggestion}`"),
                        verb_range,
                        format!("@{suggestion}"),
                    )),
                });
            }
            continue;
        };
        match verb {
            Verb::ShieldBegin => {
                in_shield = true;
                continue;
            }
            // `@shield` takes nothing but an optional `-- "reason"`; followed by prose it is no
            // shield (it would hide the lines after it) and is reported like any other prose.
            Verb::Shield if shield_takes_effect(&content[head.end..]) => {
                skip_block = Some(line.block);
                continue;
            }
            Verb::ShieldEnd => continue,
            Verb::Source => {
                let args = Segment { text: &content[head.end..], base: base + head.end };
                let directive = TextRange::new(base, line.range.end());
                let SourceDirective { origin: read, problem } = parse_source(args, directive);
                // phpDocumentor also has an `@source` tag: only a line with one of our keys is ours.
                if let Some((problem, range)) = problem {
                    out.errors.push(SyntaxError {
                        code: Code::MalformedAnnotation,
                        range,
                        message: format!(
                            "malformed `@source`: {problem}; expected `@source {}`",
                            grammar_of(verb)
                        ),
                        fix: None,
                    });
                }
                if let Some(read) = read {
                    origin = read;
                }
                continue;
            }
            _ => {}
        }
        let rest_start = head.end;
        // Bare `@test` is PHPUnit's test marker, not ThreatSpec's `@test <control> for <x>`.
        if head.word.eq_ignore_ascii_case("test") && content[rest_start..].trim().is_empty() {
            continue;
        }
        // Legacy `@alias` / `@describe` only when followed by their kind word: JSDoc has
        // `@alias` and `@describe` is common prose in test frameworks.
        if matches!(verb, Verb::Alias | Verb::Describe) && legacy_kind(&content[rest_start..]).is_none() {
            continue;
        }

        let mut end = line.range.end();
        let mut line_text = Segment { text: &content[rest_start..], base: base + rest_start };
        // Extended ThreatSpec block: `...:` followed by YAML lines.
        let mut extended: Option<Vec<(String, String)>> = None;
        let trimmed_rest = line_text.text.trim_end();
        if trimmed_rest.ends_with(':') && !trimmed_rest.ends_with("::") && verb != Verb::Comment {
            let (fields, consumed, last_end) = take_yaml_block(text, lines, i, line.block);
            if consumed > 0 || trimmed_rest.len() > 1 {
                line_text.text = &trimmed_rest[..trimmed_rest.len() - 1];
                extended = Some(fields);
                i += consumed;
                if let Some(e) = last_end {
                    end = end.max(e);
                }
            }
        }

        // Built where it is kept, in the vector sized above (taken out again if the line does
        // not parse): an `Annotation` is a few hundred bytes, and built on the stack it was
        // moved into the vector afterwards (a `memcpy` of the whole, one per annotation).
        out.annotations.push(Annotation::new(
            verb,
            verb_dialect.unwrap_or(Dialect::Gal),
            TextRange::new(base, end),
            verb_range,
        ));
        let ann = out.annotations.last_mut().expect("just pushed");
        ann.set_origin(origin.clone());
        if !line.fields.is_empty() {
            ann.fields_mut().clone_from(&line.fields);
        }

        // Peel trailing metadata.
        let mut core = line_text;
        let mut evidence = false;
        let mut dangling_delimiter = false;
        if verb != Verb::Comment {
            if let Some((before, desc)) = split_description(core) {
                core = before;
                dangling_delimiter = desc.range.is_empty();
                ann.description = Some(desc.map(String::into_boxed_str));
                evidence = true;
            }
            // Continuation lines: `-- "..."` lines that follow in the same comment.
            while i < lines.len() && lines[i].block == line.block {
                let next = lines[i].range.slice(text);
                let Some(stripped) = next.strip_prefix("--") else {
                    break;
                };
                if !stripped.trim_start().starts_with('"') {
                    break;
                }
                let seg = Segment { text: next, base: lines[i].range.start() };
                let Some((_, more)) = split_description(seg) else {
                    break;
                };
                let so_far = ann.description.as_ref().map_or(0, |d| d.value.len());
                if so_far + more.value.len() > MAX_ANNOTATION_LINE {
                    out.errors.push(limit_error(
                        lines[i].range,
                        format!(
                            "this description continues past {MAX_ANNOTATION_LINE} bytes: the rest is \
                             not read (a resource limit)"
                        ),
                    ));
                    i += 1;
                    break;
                }
                match &mut ann.description {
                    Some(d) => {
                        let mut joined = String::with_capacity(d.value.len() + 1 + more.value.len());
                        joined.push_str(&d.value);
                        joined.push(' ');
                        joined.push_str(&more.value);
                        d.value = joined.into_boxed_str();
                        d.range = d.range.cover(more.range);
                    }
                    None => ann.description = Some(more.map(String::into_boxed_str)),
                }
                ann.range = ann.range.cover(lines[i].range);
                i += 1;
            }
            ann.severity = find_severity(core);
            if matches!(verb, Verb::Threat | Verb::Exposes | Verb::Confirmed) {
                let (without_refs, refs) = take_external_refs(core);
                core = without_refs;
                if !refs.is_empty() {
                    *ann.external_refs_mut() = refs;
                }
                if ann.external_refs().iter().any(|r| is_risk_token(&r.value)) {
                    let risk = take_risk(ann.external_refs_mut(), &mut out.errors);
                    ann.set_risk(risk);
                }
            }
        }
        if let Some(fields) = extended {
            for (k, v) in fields {
                if k == "description" && ann.description.is_none() {
                    ann.description = Some(Spanned::new(v.into_boxed_str(), ann.range));
                } else {
                    ann.fields_mut().push((k, v));
                }
            }
        }

        let mut later_hops = Vec::new();
        // A `match`, not `Result::and_then`: the closure took the body (144 bytes) by value, one
        // more copy of it an annotation.
        let parsed = match parse_body(verb, core, ann, &mut later_hops) {
            Err(problem) => Err(problem),
            Ok(_) if dangling_delimiter => Err("`--` is not followed by a description (`-- \"...\"`)".into()),
            Ok(body) => {
                ann.body = body;
                ann.dialect = judge_dialect(text, ann, verb_dialect);
                // Only a GAL line is held to single references, and `@mitigates <component>
                // against <threat> with <control>` is ThreatSpec's form (GAL writes `using`),
                // whose components may hold spaces: searched for in GAL lines only.
                let threatspec_form = || verb == Verb::Mitigates && find_word(core.text, "with").is_some();
                if ann.dialect != Dialect::Gal || threatspec_form() {
                    Ok(())
                } else {
                    gal_assets_are_single_references(text, ann)
                }
            }
        };
        // A multi-hop `@flows A -> B -> C` is one flow per arrow, each with the line's range
        // and metadata; only its arguments' ranges differ. Every hop obeys the same rules.
        let parsed = parsed.and_then(|()| {
            let mut hops = Vec::with_capacity(later_hops.len());
            for body in later_hops {
                let mut hop = ann.clone();
                hop.body = body;
                hop.dialect = judge_dialect(text, &hop, verb_dialect);
                gal_assets_are_single_references(text, &hop)?;
                hops.push(hop);
            }
            Ok(hops)
        });
        match parsed {
            Ok(hops) => out.annotations.extend(hops),
            Err(problem) => {
                let ann = out.annotations.pop().expect("the line's annotation");
                let spelled = &content[..head.end];
                let bare = core.is_blank() && ann.description.is_none();
                let problem = if bare { "no arguments".to_string() } else { problem };
                let evidence = evidence || has_structural_evidence(verb, spelled, core.text);
                let range = TextRange::new(base, line.range.end()).cover(ann.range);
                if evidence {
                    out.errors.push(SyntaxError {
                        code: Code::MalformedAnnotation,
                        range,
                        message: format!(
                            "malformed `{spelled}`: {problem}; expected `{spelled} {}`",
                            grammar_of(verb)
                        ),
                        fix: None,
                    });
                } else {
                    out.errors.push(SyntaxError {
                        code: Code::ProseLikeAnnotation,
                        range,
                        message: format!(
                            "`{spelled}` starts this comment line but the rest reads as prose ({problem}); \
                             write `{spelled} {}`, or wrap quoted documentation in `@shield:begin` / `@shield:end`",
                            grammar_of(verb)
                        ),
                        fix: None,
                    });
                }
            }
        }
    }
    // Parse results live as long as their file is indexed: give back the growth slack (an
    // `Annotation` is ~230 bytes, and a vector grown to 16 for 10 annotations wastes 1.4 KB).
    super::fit_exactly(&mut out.annotations);
    super::fit_exactly(&mut out.errors);
    out
}

/// `@shield` alone or with `-- "reason"` (GAL): anything else after it is not a shield.
fn shield_takes_effect(rest: &str) -> bool {
    let seg = Segment { text: rest, base: 0 };
    match split_description(seg) {
        Some((before, description)) => before.is_blank() && !description.value.is_empty(),
        None => seg.is_blank(),
    }
}

fn limit_error(range: TextRange, message: String) -> SyntaxError {
    SyntaxError { code: Code::ResourceLimit, range, message, fix: None }
}

/// Whether the file already holds [`MAX_ITEMS_PER_FILE`] annotations and errors; if so, adds
/// the one `resource-limit` error, at `range`, where reading stops.
fn stop_at_item_limit(out: &mut ParsedFile, range: TextRange) -> bool {
    if out.annotations.len() + out.errors.len() < MAX_ITEMS_PER_FILE {
        return false;
    }
    out.errors.push(limit_error(
        range,
        format!(
            "more than {MAX_ITEMS_PER_FILE} annotations and errors in this file: the rest of the \
             file is not read (a resource limit; split the file)"
        ),
    ));
    true
}

/// Characters that repeat or decorate a comment marker (`//*`, `////`, `// *`, `#!`, `#:`, `//#`).
const COMMENT_MARKS: &[u8] = b"*/#!:";

/// `unread-annotation` for a line whose content (at `base` in `text`) starts with a verb behind
/// stray comment marks (`//* @threat ...`): the grammar reads an annotation only at the start
/// of a comment's text (as GuardLink does), so the line is not read, and this says so where it
/// is. The fix deletes the marks. Silent: a verb followed by punctuation (`* @threat,` names
/// the verb in prose), and a commented-out line, whose marks are only `/` and `#` set apart
/// from the comment marker (`// // @threat`, `# # @threat`, a `.gal` file's `#   @threat`).
fn verb_after_comment_marks(text: &str, base: usize, content: &str) -> Option<SyntaxError> {
    let bytes = content.as_bytes();
    let mut at = 0;
    while at < bytes.len() && (COMMENT_MARKS.contains(&bytes[at]) || bytes[at] == b' ' || bytes[at] == b'\t')
    {
        at += 1;
    }
    if at == 0 || bytes.get(at) != Some(&b'@') {
        return None;
    }
    let decorated = bytes[..at].iter().any(|b| matches!(b, b'*' | b'!' | b':'));
    let set_apart = base == 0 || text.as_bytes()[base - 1].is_ascii_whitespace();
    if !decorated && set_apart {
        return None;
    }
    let head = read_verb(&content[at..])?;
    if head.punctuated {
        return None;
    }
    verbs::lookup(head.word)?;
    let marks = content[..at].trim_end();
    let spelled = &content[at..at + head.end];
    let marks_range = TextRange::new(base, base + at);
    Some(SyntaxError {
        code: Code::UnreadAnnotation,
        range: TextRange::new(base, base + at + head.end),
        message: format!(
            "`{spelled}` follows `{marks}`, so this line is not read as an annotation: an annotation \
             starts the comment's text; delete `{marks}`"
        ),
        fix: Some((format!("Delete `{marks}`"), marks_range, String::new())),
    })
}

/// The `@word` at the start of a line: `word`, the byte offset where it ends, and whether
/// sentence punctuation follows it (`@flows,`).
struct VerbHead<'a> {
    word: &'a str,
    end: usize,
    punctuated: bool,
}

fn read_verb(content: &str) -> Option<VerbHead<'_>> {
    let rest = content.strip_prefix('@')?;
    let bytes = rest.as_bytes();
    if !bytes.first()?.is_ascii_alphabetic() {
        return None;
    }
    let mut n = bytes.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
    // `@shield:begin` / `@shield:end`: a colon joins the verb only for these.
    if rest[..n].eq_ignore_ascii_case("shield") && bytes.get(n) == Some(&b':') {
        let tail = bytes[n + 1..].iter().take_while(|b| b.is_ascii_alphabetic()).count();
        n += 1 + tail;
    }
    // `@b:@c` at line start is a legacy component, not a verb; `@word-x` is not a verb.
    let punctuated = match bytes.get(n) {
        None => false,
        Some(b) if b.is_ascii_whitespace() => false,
        Some(b'(') | Some(b'"') => false,
        Some(b':') if verbs::lookup(&rest[..n]).is_some() => false,
        // A word followed by sentence punctuation names a verb in prose (`@comment, @shield`);
        // it is read only to report a misspelt verb (`@flowss,`).
        Some(b',' | b'.' | b';' | b':' | b'!' | b'?' | b')' | b']' | b'}') => true,
        _ => return None,
    };
    Some(VerbHead { word: &rest[..n], end: n + 1, punctuated })
}

/// A slice of one line with the file offset of its first byte.
#[derive(Clone, Copy, Debug)]
struct Segment<'a> {
    text: &'a str,
    base: usize,
}

impl<'a> Segment<'a> {
    fn range(self) -> TextRange {
        TextRange::new(self.base, self.base + self.text.len())
    }
    fn slice(self, start: usize, end: usize) -> Segment<'a> {
        Segment { text: &self.text[start..end], base: self.base + start }
    }
    /// `str::trim`, with its offset kept (arguments are trimmed several times each:
    /// [`super::trim_bounds`] answers most without decoding a character).
    #[inline]
    fn trim(self) -> Segment<'a> {
        let (start, end) = super::trim_bounds(self.text);
        if end - start == self.text.len() {
            return self;
        }
        self.slice(start, end)
    }
    fn is_blank(self) -> bool {
        self.trim().text.is_empty()
    }
    fn spanned(self) -> Spanned<String> {
        let t = self.trim();
        Spanned::new(t.text.to_string(), t.range())
    }

    /// [`Segment::spanned`] as a `Box<str>` (details: never grown once parsed).
    fn boxed(self) -> Spanned<Box<str>> {
        let t = self.trim();
        Spanned::new(t.text.into(), t.range())
    }

    /// [`Segment::spanned`] for a name or an id of a reference.
    fn small(self) -> Spanned<SmallStr> {
        let t = self.trim();
        Spanned::new(SmallStr::new(t.text), t.range())
    }

    /// The first whole-word occurrence of `kw` (ASCII case-insensitive): before and after it.
    fn split_kw(self, kw: &str) -> Option<(Segment<'a>, Segment<'a>)> {
        let at = find_word(self.text, kw)?;
        Some((self.slice(0, at), self.slice(at + kw.len(), self.text.len())))
    }
    /// [`Segment::split_any`] on a keyword of the grammar: the first of its spellings that
    /// occurs (its `also` spellings are the caller's to try).
    fn split_on(self, keyword: &Keyword) -> Option<(Segment<'a>, Segment<'a>)> {
        self.split_any(keyword.words).map(|(before, _, after)| (before, after))
    }
    /// Like [`Segment::split_kw`] with the first of several keywords that occurs.
    fn split_any(self, kws: &[&'static str]) -> Option<(Segment<'a>, &'static str, Segment<'a>)> {
        kws.iter()
            .filter_map(|kw| find_word(self.text, kw).map(|at| (at, *kw)))
            .min_by_key(|(at, _)| *at)
            .map(|(at, kw)| (self.slice(0, at), kw, self.slice(at + kw.len(), self.text.len())))
    }
}

/// Byte offset of the first occurrence of `kw` bounded by whitespace or the text's ends (any
/// occurrence for a symbolic `kw` such as `->` or `|`), outside quoted references.
fn find_word(hay: &str, kw: &str) -> Option<usize> {
    let hb = hay.as_bytes();
    let kb = kw.as_bytes();
    let symbolic = !kw.as_bytes()[0].is_ascii_alphabetic();
    if kb.len() > hb.len() {
        return None;
    }
    // Candidates start with the keyword's first byte in either case: found with a byte search
    // ([`bytes::find_byte2`], ~20 instructions for a line where `memchr` took ~140) instead of
    // comparing the keyword at every offset (the parser searches each line once per keyword).
    // Searching token by token in one pass over the bytes cost more: ~6 instructions a byte.
    // So did reading 16 bytes at a time for a mask of word starts with the keyword's first
    // letter (~330 instructions a search against ~265: the mask's set-up cost more than the
    // searches it saved).
    let (lower, upper) = (kb[0].to_ascii_lowercase(), kb[0].to_ascii_uppercase());
    let last_start = hb.len() - kb.len();
    let mut from = 0;
    while from <= last_start {
        let at = from + bytes::find_byte2(lower, upper, &hb[from..=last_start])?;
        // The boundary first: most candidates are letters inside words, turned away by one byte.
        let before_ok = symbolic || at == 0 || hb[at - 1].is_ascii_whitespace();
        if !before_ok || !hb[at..at + kb.len()].eq_ignore_ascii_case(kb) {
            from = at + 1;
            continue;
        }
        let after = at + kb.len();
        let after_ok = symbolic || after == hb.len() || hb[after].is_ascii_whitespace();
        // Quoted references (`"Login to API"`) hide their keywords.
        if after_ok && !inside_quotes(hb, at) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Whether byte `at` lies inside a `"..."` quoted reference (`\"` and `\\` escaped) that
/// starts before it. A quote opens one only at the start of a word, so an inch mark
/// (`12" display`) hides nothing.
fn inside_quotes(hb: &[u8], at: usize) -> bool {
    // Most text before a keyword holds no quote at all.
    if bytes::find_byte(b'"', &hb[..at]).is_none() {
        return false;
    }
    let mut inside = false;
    let mut i = 0;
    while i < at {
        match hb[i] {
            b'\\' if inside => i += 1,
            b'"' if inside => inside = false,
            b'"' if i == 0 || hb[i - 1].is_ascii_whitespace() => inside = true,
            _ => {}
        }
        i += 1;
    }
    inside
}

/// A quoted reference at the start of `text`: its unescaped value and the byte length of the
/// literal, closing quote included; `None` when `text` does not start with `"` or the quote is
/// never closed.
fn quoted_literal(text: &str) -> Option<(String, usize)> {
    let (value, close) = unescape_quoted(text.strip_prefix('"')?);
    Some((value, close? + 2))
}

/// The text after an opening `"` up to its closing quote, with GAL's escapes (`\"`, `\\`)
/// undone, and the offset of the closing quote in `body` (`None` when it is never closed).
fn unescape_quoted(body: &str) -> (String, Option<usize>) {
    // Copied a run at a time between the bytes that matter (a character at a time was a
    // twentieth of a cold check of GAL annotations with quoted details).
    let bytes = body.as_bytes();
    let mut value = String::new();
    let mut from = 0;
    while let Some(p) = bytes::find_byte2(b'"', b'\\', &bytes[from..]) {
        let at = from + p;
        value.push_str(&body[from..at]);
        if bytes[at] == b'"' {
            return (value, Some(at));
        }
        match bytes.get(at + 1) {
            Some(&escaped @ (b'"' | b'\\')) => {
                value.push(char::from(escaped));
                from = at + 2;
            }
            // Kept as written, with what follows (which is neither a quote nor a backslash).
            _ => {
                value.push('\\');
                from = at + 1;
            }
        }
    }
    value.push_str(&body[from..]);
    (value, None)
}

/// Splits off `-- "description"` (or an unquoted `-- text`): the part before it and the
/// unescaped description.
fn split_description(seg: Segment<'_>) -> Option<(Segment<'_>, Spanned<String>)> {
    let bytes = seg.text.as_bytes();
    let mut from = 0;
    let at = loop {
        // The next `--`: a `-` found with a byte search, then the byte after it (`str::find`
        // set up a substring searcher on every call).
        let pos = from + bytes::find_byte(b'-', &bytes[from..])?;
        if bytes.get(pos + 1) != Some(&b'-') {
            from = pos + 1;
            continue;
        }
        let spaced_before = pos == 0 || bytes[pos - 1].is_ascii_whitespace();
        let after = bytes.get(pos + 2);
        let spaced_after = matches!(after, None | Some(b' ') | Some(b'\t') | Some(b'"'));
        if spaced_before && spaced_after && !inside_quotes(bytes, pos) {
            break pos;
        }
        from = pos + 2;
    };
    let before = seg.slice(0, at);
    let tail = seg.slice(at + 2, seg.text.len()).trim();
    let desc = if let Some(body) = tail.text.strip_prefix('"') {
        let (value, close) = unescape_quoted(body);
        let end = close.map_or(tail.text.len(), |c| c + 2);
        Spanned::new(value, TextRange::new(tail.base, tail.base + end))
    } else {
        tail.spanned()
    };
    Some((before, desc))
}

/// The offset of the first `byte` (ASCII) in `t` at or after `from`. Every annotation is
/// searched for `[` twice: `str::find(char)` cost ~200 instructions a line (the standard
/// library's word-at-a-time search behind a searcher set up per call), [`bytes::find_byte`] a
/// dozen or two.
fn find_byte(t: &str, from: usize, byte: u8) -> Option<usize> {
    debug_assert!(byte.is_ascii());
    bytes::find_byte(byte, &t.as_bytes()[from..]).map(|p| p + from)
}

/// The severity of the annotation: the last valid `[severity]` group anywhere in the text.
fn find_severity(seg: Segment<'_>) -> Option<Spanned<Severity>> {
    let t = seg.text;
    let mut severity = None;
    let mut search = 0;
    while let Some(open) = find_byte(t, search, b'[') {
        let Some(close) = find_byte(t, open, b']') else {
            break;
        };
        if let Some(sev) = Severity::parse(t[open + 1..close].trim()) {
            severity = Some(Spanned::new(sev, TextRange::new(seg.base + open, seg.base + close + 1)));
        }
        search = close + 1;
    }
    severity
}

fn is_external_ref(token: &str) -> bool {
    let Some((prefix, id)) = token.split_once(':') else {
        return false;
    };
    !prefix.is_empty()
        && prefix.len() <= 16
        && prefix.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && !id.is_empty()
        && !id.starts_with('@')
        && id.bytes().all(|b| !b.is_ascii_whitespace() && b != b'(' && b != b')' && b != b'"')
}

/// Removes trailing `prefix:ID` tokens and `[severity]` groups (in any order) from the end.
fn take_external_refs(seg: Segment<'_>) -> (Segment<'_>, Vec<Spanned<String>>) {
    let mut refs = Vec::new();
    let mut end = seg.text.trim_end().len();
    loop {
        let t = &seg.text[..end];
        let start = crate::text::last_word_start(t);
        let token = &t[start..];
        if token.is_empty() || start == 0 {
            break;
        }
        let is_sev = token.starts_with('[')
            && token.ends_with(']')
            && Severity::parse(&token[1..token.len() - 1]).is_some();
        if is_external_ref(token) {
            refs.push(Spanned::new(token.to_string(), TextRange::new(seg.base + start, seg.base + end)));
        } else if !is_sev {
            break;
        }
        end = t[..start].trim_end().len();
    }
    refs.reverse();
    (seg.slice(0, end), refs)
}

/// Whether an external-ref token is a risk key (`risk:`, `owner:`, `due:`, `audited:`).
fn is_risk_token(token: &str) -> bool {
    token.split_once(':').is_some_and(|(key, _)| grammar::risk_key(key).is_some())
}

/// Moves the risk keys out of `refs` into the annotation's risk fields. A value that does not
/// read, or a key written twice, is an `invalid-risk` error at its token (the rest is read).
fn take_risk(refs: &mut Vec<Spanned<String>>, errors: &mut Vec<SyntaxError>) -> Option<RiskFields> {
    use grammar::RiskKeyName as K;
    let mut fields = RiskFields::default();
    refs.retain(|token| {
        let Some((key, value)) = token.value.split_once(':') else { return true };
        let Some(spec) = grammar::risk_key(key) else { return true };
        let range = token.range;
        let mut error = |message: String| {
            errors.push(SyntaxError { code: Code::InvalidRisk, range, message, fix: None });
        };
        let twice = match spec.key {
            K::Rating => fields.rating.is_some(),
            K::Owner => fields.owner.is_some(),
            K::Due => fields.due.is_some(),
            K::Audited => fields.audited.is_some(),
        };
        if twice {
            error(format!("`{key}:` is written twice: the first one is used"));
            return false;
        }
        let bad = |what: &str| {
            format!("`{key}:{}` is not {what}: write `{key}:{}` ({})", value, spec.form, spec.what)
        };
        match spec.key {
            K::Rating => match parse_rating(value) {
                Some(r) => fields.rating = Some(Spanned::new(r, range)),
                None => error(bad("a rating")),
            },
            K::Owner => {
                if value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
                    fields.owner = Some(Spanned::new(value.to_string(), range));
                } else {
                    error(bad("an owner id"));
                }
            }
            K::Due | K::Audited => match Date::parse(value) {
                Some(d) if spec.key == K::Due => fields.due = Some(Spanned::new(d, range)),
                Some(d) => fields.audited = Some(Spanned::new(d, range)),
                None => error(bad("a date")),
            },
        }
        false
    });
    (fields != RiskFields::default()).then_some(fields)
}

/// `L<1-5>xI<1-5>` (letters in any case).
fn parse_rating(value: &str) -> Option<Rating> {
    let b = value.as_bytes();
    let level = |c: u8| (b'1'..=b'5').contains(&c).then(|| c - b'0');
    if b.len() != 5
        || !b[0].eq_ignore_ascii_case(&b'l')
        || !b[2].eq_ignore_ascii_case(&b'x')
        || !b[3].eq_ignore_ascii_case(&b'i')
    {
        return None;
    }
    Some(Rating { likelihood: level(b[1])?, impact: level(b[4])? })
}

/// Why a line does not match its verb's grammar.
type Problem = String;

/// The problem of a line without `keyword`.
fn missing(keyword: &Keyword) -> Problem {
    format!("missing `{}`", keyword.words[0])
}

/// The body of one annotation; a multi-hop `@flows` puts the flows after its first into
/// `later_hops`. The keywords split on and the kinds read come from the verb's
/// [`grammar`] entry; the names in messages (`what`) stay here.
fn parse_body(
    verb: Verb,
    seg: Segment<'_>,
    ann: &mut Annotation,
    later_hops: &mut Vec<Body>,
) -> Result<Body, Problem> {
    let seg = strip_severity_groups(seg);
    let g = grammar::of(verb);
    match verb {
        Verb::Asset | Verb::Threat | Verb::Control | Verb::Actor => {
            let [kind] = g.kinds();
            Ok(Body::Define { kind, target: parse_ref(seg, kind, "name")? })
        }
        Verb::Mitigates => {
            let [asset, threat, control] = g.kinds();
            let [against, using] = g.keywords();
            let (a, rest) = seg.split_on(against).ok_or_else(|| missing(against))?;
            let (t, c) = match rest.split_on(using) {
                Some((t, c)) => (t, Some(parse_ref(c, control, "control")?)),
                None => (rest, None),
            };
            Ok(Body::Mitigates {
                asset: parse_ref(a, asset, "asset")?,
                threat: parse_ref(t, threat, "threat")?,
                control: c,
            })
        }
        Verb::Exposes => {
            let [asset, threat] = g.kinds();
            let [to] = g.keywords();
            let (a, rest) = seg.split_on(to).ok_or_else(|| missing(to))?;
            let t = take_details(rest, ann);
            Ok(Body::Exposes {
                asset: parse_ref(a, asset, "asset")?,
                threat: parse_ref(t, threat, "threat")?,
            })
        }
        Verb::Confirmed | Verb::Accepts => {
            let [threat, asset] = g.kinds();
            let [on] = g.keywords();
            let (t, a) = seg.split_on(on).ok_or_else(|| missing(on))?;
            // ThreatSpec's `@accept` may end in `with <details>`; GAL's `@confirmed` may not.
            let a = if verb == Verb::Accepts { take_details(a, ann) } else { a };
            let (threat, asset) = (parse_ref(t, threat, "threat")?, parse_ref(a, asset, "asset")?);
            Ok(if verb == Verb::Accepts {
                Body::Accepts { threat, asset }
            } else {
                Body::Confirmed { threat, asset }
            })
        }
        Verb::Transfers => {
            let [threat, from_asset, to_asset] = g.kinds();
            let [from, to] = g.keywords();
            // `from <asset>` is GAL's; ThreatSpec 0.1 may write only `to <asset>`.
            let (t, f, rest) = match seg.split_on(from) {
                Some((t, rest)) => {
                    let (f, rest) = rest.split_on(to).ok_or_else(|| missing(to))?;
                    (t, Some(f), rest)
                }
                None => {
                    let (t, rest) = seg
                        .split_on(to)
                        .ok_or_else(|| format!("missing `{}` and `{}`", from.words[0], to.words[0]))?;
                    (t, None, rest)
                }
            };
            let rest = take_details(rest, ann);
            Ok(Body::Transfers {
                threat: parse_ref(t, threat, "threat")?,
                from: f.map(|f| parse_ref(f, from_asset, "source asset")).transpose()?,
                to: parse_ref(rest, to_asset, "target asset")?,
            })
        }
        Verb::Flows => parse_flow(seg, ann, later_hops),
        Verb::Boundary => {
            let [first, second] = g.kinds();
            let [between, and] = g.keywords();
            let directed = g.alternative_form().expect("`@boundary from <outer> to <inner>`");
            let [from, to] = directed.keywords();
            // GAL 2.0's directed form: only a line whose arguments start with `from` (`from`
            // elsewhere is a word of a name or of prose).
            if let Some((before, rest)) = seg.split_on(from)
                && before.is_blank()
            {
                let [outer, inner] = directed.kinds();
                let form = || "a directed boundary is `from <outer> to <inner>`".to_string();
                let (o, rest) = rest.split_on(to).ok_or_else(form)?;
                let (i, id) = take_trailing_id(rest);
                // Neither side may hold the other form's words: `from A to B to C` or
                // `from A and B` is a mistake, never a boundary read one way or the other.
                let stray = [to, between, and]
                    .into_iter()
                    .flat_map(|k| k.words.iter().chain(k.also))
                    .find(|w| find_word(i.text, w).is_some() || find_word(o.text, w).is_some());
                if let Some(word) = stray {
                    return Err(format!("`{word}` in a directed boundary: {}", form()));
                }
                return Ok(Body::Boundary {
                    a: parse_ref(o, outer, "outer side")?,
                    b: parse_ref(i, inner, "inner side")?,
                    id,
                    directed: true,
                });
            }
            let (a, b) = if let Some((before, rest)) = seg.split_on(between) {
                if !before.is_blank() {
                    return Err(format!("unexpected text before `{}`", between.words[0]));
                }
                rest.split_on(and).ok_or_else(|| missing(and))?
            } else if let Some((a, _, b)) = seg.split_any(and.also) {
                (a, b) // `A | B`
            } else if let Some(split) = seg.split_on(and) {
                // GAL 2.0: `between` is optional (`@boundary A and B (#id)`).
                split
            } else {
                return Err(
                    "missing `[between] <asset> and <asset>`, `<asset> | <asset>` or `from <outer> to <inner>`".into(),
                );
            };
            let (b, id) = take_trailing_id(b);
            Ok(Body::Boundary {
                a: parse_ref(a, first, "first asset")?,
                b: parse_ref(b, second, "second asset")?,
                id,
                directed: false,
            })
        }
        Verb::Entitles => {
            let [actor, asset, threat] = g.kinds();
            let [to, on, against] = g.keywords();
            let (who, rest) = seg.split_on(to).ok_or_else(|| missing(to))?;
            let (rest, threat) = match rest.split_on(against) {
                Some((r, t)) => (r, Some(Box::new(parse_ref(t, threat, "threat")?))),
                None => (rest, None),
            };
            let (capability, asset) = match rest.split_on(on) {
                Some((c, a)) => (c, Some(Box::new(parse_ref(a, asset, "asset")?))),
                None => (rest, None),
            };
            if capability.is_blank() {
                return Err("missing capability".into());
            }
            if !is_capability(capability.trim().text) {
                return Err(format!(
                    "the capability `{}` is not one identifier (a letter, then letters, digits, `_`, `.`, `-`)",
                    capability.trim().text
                ));
            }
            Ok(Body::Entitles {
                actor: parse_ref(who, actor, "actor")?,
                capability: capability.spanned(),
                asset,
                threat,
            })
        }
        Verb::Feature => {
            let t = seg.trim();
            if t.text.is_empty() {
                return Err("missing feature name".into());
            }
            // The name is quoted: a sentence that starts with `@feature` is prose.
            if !(t.text.len() >= 2 && t.text.starts_with('"') && t.text.ends_with('"')) {
                return Err("the feature name is not quoted".into());
            }
            Ok(Body::Feature { name: t.slice(1, t.text.len() - 1).spanned() })
        }
        Verb::Validates => {
            let [control, asset] = g.kinds();
            let [r#for] = g.keywords();
            let (c, a) = seg.split_on(r#for).ok_or_else(|| missing(r#for))?;
            Ok(Body::Validates {
                control: parse_ref(c, control, "control")?,
                asset: parse_ref(a, asset, "asset")?,
            })
        }
        Verb::Audit | Verb::Assumes => {
            let [asset_kind] = g.kinds();
            let t = seg.trim();
            if t.text.is_empty() {
                return Err("missing asset".into());
            }
            let (asset, note) = split_first_ref(t);
            // ThreatSpec's `@review <component> <free text>` has a note; GAL's `@audit` and
            // `@assumes` put theirs in `-- "..."`, so words after the asset are prose.
            if !note.is_blank() && ann.dialect == Dialect::Gal {
                return Err(format!(
                    "text after the asset `{}` is not part of `{}`: a note goes in `-- \"...\"`",
                    asset.text,
                    if verb == Verb::Audit { "@audit" } else { "@assumes" }
                ));
            }
            let asset = parse_ref(asset, asset_kind, "asset")?;
            let note = (!note.is_blank()).then(|| note.spanned());
            Ok(if verb == Verb::Audit { Body::Audit { asset, note } } else { Body::Assumes { asset, note } })
        }
        Verb::Owns | Verb::Handles => {
            let [asset] = g.kinds();
            let [keyword] = g.keywords();
            let (value, a) = seg.split_on(keyword).ok_or_else(|| missing(keyword))?;
            if value.is_blank() {
                return Err(if verb == Verb::Owns { "missing owner" } else { "missing data class" }.into());
            }
            let asset = parse_ref(a, asset, "asset")?;
            Ok(if verb == Verb::Owns {
                Body::Owns { owner: value.spanned(), asset }
            } else {
                Body::Handles { class: value.spanned(), asset }
            })
        }
        Verb::Comment => {
            let t = seg.trim();
            Ok(Body::Comment { text: (!t.text.is_empty()).then(|| t.spanned()) })
        }
        Verb::Alias | Verb::Describe => {
            let t = seg.trim();
            let (kind, kw_len) = legacy_kind(t.text).ok_or("expected `boundary`, `component` or `threat`")?;
            let rest = t.slice(kw_len, t.text.len());
            let [keyword] = g.keywords();
            let (target, value) = rest.split_on(keyword).ok_or_else(|| missing(keyword))?;
            if value.is_blank() {
                return Err(format!("missing text after `{}`", keyword.words[0]));
            }
            let target = parse_ref(target, kind, "target")?;
            if !matches!(target.form, RefForm::Id(_) | RefForm::Legacy { .. }) {
                return Err("the target must be an `@id` or `@boundary:@component`".into());
            }
            Ok(if verb == Verb::Alias {
                Body::Alias { kind, target, name: value.spanned() }
            } else {
                Body::Describe { kind, target, text: value.spanned() }
            })
        }
        Verb::Source => Err("`@source` is handled before bodies".into()),
        Verb::Shield if !seg.is_blank() => Err("`@shield` takes only an optional `-- \"reason\"`".into()),
        Verb::Shield | Verb::ShieldBegin | Verb::ShieldEnd => Ok(Body::Shield(match verb {
            Verb::ShieldBegin => ShieldKind::Begin,
            Verb::ShieldEnd => ShieldKind::End,
            _ => ShieldKind::Line,
        })),
    }
}

/// Severity groups can sit between arguments and refs; the arguments end before the first one.
fn strip_severity_groups(seg: Segment<'_>) -> Segment<'_> {
    let t = seg.text;
    let mut search = 0;
    while let Some(open) = find_byte(t, search, b'[') {
        let Some(close) = find_byte(t, open, b']') else {
            break;
        };
        if Severity::parse(t[open + 1..close].trim()).is_some() {
            return seg.slice(0, open);
        }
        search = close + 1;
    }
    seg
}

/// What one `@source` line says: `origin` is `None` when the line is not ours (no key of
/// ours: phpDocumentor's `@source` tag) and `Some(None)` when it ends the previous `@source`
/// (no arguments, or arguments that do not parse); `problem` is the first thing wrong, at
/// its own range.
struct SourceDirective {
    origin: Option<Option<Origin>>,
    problem: Option<(Problem, TextRange)>,
}

/// `file:<path> [line:<n>] [symbol:<name>]` (GuardLink's keys); empty arguments end the
/// previous `@source`. An unknown `key:value` beside a valid `file:` is reported at its range
/// and the rest of the directive still applies.
fn parse_source(seg: Segment<'_>, directive: TextRange) -> SourceDirective {
    let t = seg.trim();
    if t.text.is_empty() {
        return SourceDirective { origin: Some(None), problem: None };
    }
    let (mut file, mut line, mut symbol) = (None, None, None);
    let mut ours = false;
    let mut value_problem: Option<(Problem, TextRange)> = None;
    let mut other: Option<(Problem, TextRange)> = None;
    let mut offset = 0;
    for word in t.text.split_whitespace() {
        let at = t.text[offset..].find(word).map_or(offset, |p| p + offset);
        offset = at + word.len();
        let whole = t.slice(at, at + word.len()).range();
        let Some((key, value)) = word.split_once(':') else {
            other.get_or_insert((format!("unexpected `{word}`"), whole));
            continue;
        };
        let value_seg = t.slice(at + key.len() + 1, at + word.len());
        let mut bad = |problem: String| {
            value_problem.get_or_insert((problem, whole));
        };
        match key {
            "file" | "line" | "symbol" if value.is_empty() => {
                ours = true;
                bad(format!("empty `{key}:`"));
            }
            "file" => {
                ours = true;
                file = Some(Spanned::new(value.to_string(), value_seg.range()));
            }
            "line" => {
                ours = true;
                match value.parse::<u32>() {
                    Ok(n) if n > 0 => line = Some(Spanned::new(n, value_seg.range())),
                    _ => bad(format!("`line:{value}` is not a line number (lines count from 1)")),
                }
            }
            "symbol" => {
                ours = true;
                symbol = Some(Spanned::new(value.to_string(), value_seg.range()));
            }
            _ => {
                other.get_or_insert((
                    format!("unknown key `{key}:` (GuardLink's keys are `file:`, `line:` and `symbol:`)"),
                    whole,
                ));
            }
        }
    }
    if !ours {
        return SourceDirective { origin: None, problem: None };
    }
    if let Some(problem) = value_problem {
        return SourceDirective { origin: Some(None), problem: Some(problem) };
    }
    let Some(file) = file else {
        return SourceDirective {
            origin: Some(None),
            problem: Some(("missing `file:<path>`".into(), directive)),
        };
    };
    SourceDirective { origin: Some(Some(Origin { file, line, symbol, directive })), problem: other }
}

/// `<kind> ...` for `@alias`/`@describe`: the kind and the length of its word.
fn legacy_kind(text: &str) -> Option<(EntityKind, usize)> {
    let t = text.trim_start();
    let lead = text.len() - t.len();
    let word_len = t.find(char::is_whitespace).unwrap_or(t.len());
    let kind = grammar::legacy_kind(&t[..word_len])?;
    Some((kind, lead + word_len))
}

/// ThreatSpec `with <details>` after the last argument: stored as details, argument returned.
fn take_details<'a>(seg: Segment<'a>, ann: &mut Annotation) -> Segment<'a> {
    match seg.split_on(&grammar::DETAILS) {
        Some((arg, details)) => {
            if !details.is_blank() {
                ann.details = Some(details.boxed());
            }
            arg
        }
        None => seg,
    }
}

/// `A -> B [-> C ...] [via M]` (GAL; `<->` for a two-way hop) or `A to|with B [with details]
/// [as name]` (ThreatSpec). Each arrow is one flow: the first is returned, the others go to
/// `later_hops`, all with the same mechanism and name.
fn parse_flow(seg: Segment<'_>, ann: &mut Annotation, later_hops: &mut Vec<Body>) -> Result<Body, Problem> {
    use EntityKind as K;
    // Trailing `as <name>` (ThreatSpec 0.1) and `via <mechanism>` (GAL).
    let (seg, name) = match seg.split_kw("as") {
        Some((s, n)) if !n.is_blank() => (s, Some(Box::new(n.spanned()))),
        _ => (seg, None),
    };
    let (seg, mechanism) = match seg.split_kw("via") {
        Some((s, m)) if !m.is_blank() => (s, Some(Box::new(m.spanned()))),
        _ => (seg, None),
    };
    let flow = |from, to, two_way| Body::Flows {
        from,
        to,
        two_way,
        mechanism: mechanism.clone(),
        name: name.clone(),
    };
    let Some(first_arrow) = find_word(seg.text, "->") else {
        let Some((from, kw, to)) = seg.split_any(&["to", "with"]) else {
            return Err("missing `->` (or `to`/`with`)".into());
        };
        let to = take_details(to, ann);
        return Ok(flow(
            parse_ref(from, K::Asset, "source")?,
            parse_ref(to, K::Asset, "target")?,
            kw == "with",
        ));
    };
    let mut first = None;
    let mut rest = seg;
    let mut arrow = Some(first_arrow);
    let mut from: Option<(Ref, bool)> = None;
    loop {
        let (part, two_way) = match arrow {
            Some(at) => {
                // `<->` is the two-way arrow; its `->` is what was found.
                let two_way = at > 0 && rest.text.as_bytes()[at - 1] == b'<';
                let part = rest.slice(0, at - usize::from(two_way));
                rest = rest.slice(at + 2, rest.text.len());
                (part, two_way)
            }
            None => (take_details(rest, ann), false),
        };
        let what = if from.is_none() {
            "source"
        } else if arrow.is_some() {
            "hop"
        } else {
            "target"
        };
        let participant = parse_ref(part, K::Asset, what)?;
        if let Some((source, hop_two_way)) = from.take() {
            let hop = flow(source, participant.clone(), hop_two_way);
            if first.is_none() {
                first = Some(hop);
            } else {
                later_hops.push(hop);
            }
        }
        if arrow.is_none() {
            break;
        }
        from = Some((participant, two_way));
        arrow = find_word(rest.text, "->");
    }
    first.ok_or_else(|| "missing target".into())
}

/// `(#id)` at the end of a segment (boundary ids).
fn take_trailing_id(seg: Segment<'_>) -> (Segment<'_>, Option<Spanned<String>>) {
    let t = seg.trim();
    if t.text.ends_with(')')
        && let Some(open) = t.text.rfind("(#")
    {
        let id = t.slice(open + 2, t.text.len() - 1);
        if is_id(id.text) {
            return (t.slice(0, open), Some(Spanned::new(id.text.to_string(), id.range())));
        }
    }
    (seg, None)
}

/// For `@audit`/`@review`/`@assumes`: the asset is the first token (a `@b:@c`, `#id` or path),
/// the rest is a free-text note.
fn split_first_ref(seg: Segment<'_>) -> (Segment<'_>, Segment<'_>) {
    let end = first_whitespace(seg.text).unwrap_or(seg.text.len());
    (seg.slice(0, end), seg.slice(end, seg.text.len()))
}

/// `text.find(char::is_whitespace)`, answered byte by byte for ASCII text (a char pattern
/// decodes every character: ~350 instructions on each GAL annotation's assets).
fn first_whitespace(text: &str) -> Option<usize> {
    if text.is_ascii() {
        // The ASCII characters `char::is_whitespace` holds for.
        text.bytes().position(|b| matches!(b, b' ' | b'\t'..=b'\r'))
    } else {
        text.find(char::is_whitespace)
    }
}

/// GAL's `@entitles` capability: one identifier, so that claims can be grouped and compared.
fn is_capability(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// In GAL an asset is one token (a dotted path, a `#id` or a quoted name): an unquoted name of
/// several words (`@transfers #t from one team to another`) is not an asset reference.
/// ThreatSpec components may hold spaces and are not held to this.
fn gal_assets_are_single_references(text: &str, ann: &Annotation) -> Result<(), Problem> {
    if ann.dialect != Dialect::Gal {
        return Ok(());
    }
    for (kind, r) in ann.refs() {
        let quoted = text.as_bytes().get(r.range.start()) == Some(&b'"');
        if let (EntityKind::Asset, RefForm::Name { name, .. }, false) = (kind, &r.form, quoted)
            && first_whitespace(&name.value).is_some()
        {
            return Err(format!(
                "`{}` is several words: an asset is a dotted path, a `#id` or a quoted name",
                name.value
            ));
        }
    }
    Ok(())
}

pub(crate) fn is_id(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_legacy_id(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// Parses one entity argument. `what` names it in error messages.
fn parse_ref(seg: Segment<'_>, kind: EntityKind, what: &str) -> Result<Ref, Problem> {
    let t = seg.trim();
    if t.text.is_empty() {
        return Err(format!("missing {what}"));
    }
    let range = t.range();
    if t.text.starts_with('"') {
        return parse_quoted_ref(t, what);
    }
    if let Some(id) = t.text.strip_prefix('#') {
        if !is_tag(id) {
            return Err(format!(
                "`{}` is not a valid id (letters, digits, `_`, `-`; `.` only between the parts of a \
                 qualified `#repo.id`)",
                t.text
            ));
        }
        return Ok(Ref {
            range,
            form: RefForm::Id(Spanned::new(SmallStr::new(id), t.slice(1, t.text.len()).range())),
        });
    }
    if let Some(body) = t.text.strip_prefix('@') {
        if let Some((b, c)) = body.split_once(":@") {
            if is_legacy_id(b) && is_legacy_id(c) {
                let b_seg = t.slice(1, 1 + b.len());
                let c_seg = t.slice(1 + b.len() + 2, t.text.len());
                return Ok(Ref {
                    range,
                    form: RefForm::Legacy {
                        boundary: Box::new(b_seg.spanned()),
                        component: Box::new(c_seg.spanned()),
                    },
                });
            }
            return Err(format!("`{}` is not a valid `@boundary:@component`", t.text));
        }
        if is_legacy_id(body) {
            return Ok(Ref {
                range,
                form: RefForm::Id(Spanned::new(SmallStr::new(body), t.slice(1, t.text.len()).range())),
            });
        }
    }
    // Name, optionally followed by `(#id)` and, for components, an alias form `Alias (Path)`.
    let mut name = t;
    let mut id = None;
    if name.text.ends_with(')')
        && let Some(open) = name.text.rfind("(#")
    {
        let inner = name.slice(open + 2, name.text.len() - 1);
        if !is_id(inner.text) {
            return Err(format!("`(#{})` is not a valid id definition", inner.text));
        }
        id = Some(Spanned::new(SmallStr::new(inner.text), inner.range()));
        name = name.slice(0, open).trim();
    }
    let mut alias = None;
    if kind == EntityKind::Asset
        && name.text.ends_with(')')
        && let Some(open) = name.text.rfind('(')
    {
        let inner = name.slice(open + 1, name.text.len() - 1).trim();
        let outer = name.slice(0, open).trim();
        if !outer.text.is_empty()
            && (inner.text.contains(':') || inner.text.contains('.'))
            && !inner.text.contains(' ')
        {
            alias = Some(outer.small());
            name = inner;
        }
    }
    if name.text.is_empty() {
        return match id {
            // `(#id)` alone names the entity by id only.
            Some(id) => Ok(Ref { range, form: RefForm::Id(id) }),
            None => Err(format!("missing {what}")),
        };
    }
    if id.is_none() && bytes::find_byte(b'#', name.text.as_bytes()).is_some() {
        return Err(format!("`{}` mixes a name and a `#` reference", name.text));
    }
    Ok(Ref { range, form: RefForm::name(name.small(), id, alias) })
}

/// A quoted reference (GAL 2.0): `"User Browser"` and `"/api/v1/users"` are names (quotes
/// removed, `\"` and `\\` undone; the name's range is the text between the quotes), optionally
/// followed by `(#id)`; `"#repo.tag"` is a tag like its unquoted spelling.
fn parse_quoted_ref(t: Segment<'_>, what: &str) -> Result<Ref, Problem> {
    let (value, len) = quoted_literal(t.text).ok_or_else(|| format!("the quoted {what} is never closed"))?;
    let inner = t.slice(1, len - 1);
    let rest = t.slice(len, t.text.len()).trim();
    let id = match rest.text.strip_prefix("(#").and_then(|r| r.strip_suffix(')')) {
        _ if rest.text.is_empty() => None,
        Some(id) if is_id(id) => Some(rest.slice(2, rest.text.len() - 1).small()),
        _ => return Err(format!("unexpected `{}` after the quoted {what}", rest.text)),
    };
    if let Some(tag) = value.strip_prefix('#') {
        if id.is_some() || !is_tag(tag) || value != inner.text {
            return Err(format!("`{}` is not a valid tag", t.text));
        }
        return Ok(Ref { range: t.range(), form: RefForm::Id(inner.slice(1, inner.text.len()).small()) });
    }
    if value.trim().is_empty() {
        return Err(format!("the quoted {what} is empty"));
    }
    Ok(Ref {
        range: t.range(),
        form: RefForm::name(Spanned::new(SmallStr::from(value), inner.range()), id, None),
    })
}

/// An id, or a qualified cross-repository tag: ids joined by `.` (`repo.id`, `org.repo.module`).
pub(crate) fn is_tag(text: &str) -> bool {
    let mut segment_empty = true;
    for b in text.bytes() {
        match b {
            b'.' if segment_empty => return false,
            b'.' => segment_empty = true,
            b if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' => segment_empty = false,
            _ => return false,
        }
    }
    !segment_empty
}

/// Evidence that a failed line was meant as an annotation (GAL spec 2.12). `spelled` is the
/// verb as written, with its `@`.
fn has_structural_evidence(verb: Verb, spelled: &str, rest: &str) -> bool {
    // A bare verb is an annotation begun and not finished: prose is a sentence, it has words.
    // Only as annotations are written, in lowercase: `@Component` alone is Spring's or
    // Angular's annotation quoted in documentation.
    if rest.trim().is_empty() && !spelled.bytes().any(|b| b.is_ascii_uppercase()) {
        return true;
    }
    let has_ref =
        rest.as_bytes().windows(2).any(|w| w[0] == b'#' && (w[1].is_ascii_alphanumeric() || w[1] == b'_'));
    if has_ref || rest.contains(" -- ") || rest.trim_start().starts_with("-- ") {
        return true;
    }
    let grammar = grammar::of(verb);
    let first_word = rest.split_whitespace().next().unwrap_or_default();
    grammar.evidence_keywords().any(|kw| find_word(rest, kw).is_some())
        || grammar.leading_words().any(|kw| first_word.eq_ignore_ascii_case(kw))
}

/// The grammar shown in malformed/prose messages.
fn grammar_of(verb: Verb) -> String {
    grammar::of(verb).message()
}

/// The dialect, from the verb's spelling or, for shared spellings, from the argument forms.
fn judge_dialect(text: &str, ann: &Annotation, from_verb: Option<Dialect>) -> Dialect {
    let refs = ann.refs();
    // `@id` arguments (rather than `#id`) are ThreatSpec 0.1's sigil.
    let legacy = refs.iter().any(|(_, r)| match r.form {
        RefForm::Legacy { .. } => true,
        RefForm::Id(_) => text.as_bytes().get(r.range.start()) == Some(&b'@'),
        RefForm::Name { .. } => false,
    });
    if legacy {
        return Dialect::LegacyThreatSpec;
    }
    if let Some(d) = from_verb {
        return d;
    }
    let colon_path = refs.iter().any(|(k, r)| {
        *k == EntityKind::Asset
            && matches!(&r.form, RefForm::Name { name, .. } if bytes::find_byte(b':', name.value.as_bytes()).is_some())
    });
    if colon_path || ann.details.is_some() || !ann.fields().is_empty() {
        Dialect::ThreatSpec
    } else {
        Dialect::Gal
    }
}

/// Reads a ThreatSpec extended YAML block: lines after `lines[from - 1]` in the same comment,
/// on consecutive source lines, not starting with `@`. Returns the flat key/value pairs, the
/// number of lines consumed and the end offset of the last one.
fn take_yaml_block(
    text: &str,
    lines: &[CandidateLine],
    from: usize,
    block: u32,
) -> (Vec<(String, String)>, usize, Option<usize>) {
    let mut yaml = String::new();
    let mut consumed = 0;
    let mut last_end = None;
    let mut prev_end = lines.get(from.wrapping_sub(1)).map(|l| l.range.end());
    for line in &lines[from.min(lines.len())..] {
        if line.block != block {
            break;
        }
        // A blank line between (more than one line break since the previous line) ends it.
        if let Some(pe) = prev_end {
            let gap = &text[pe.min(line.range.start())..line.range.start()];
            if gap.matches('\n').count() > 1 || (gap.matches('\r').count() > 1 && !gap.contains('\n')) {
                break;
            }
        }
        let content = line.range.slice(text);
        if content.starts_with('@') {
            break;
        }
        yaml.push_str(content);
        yaml.push('\n');
        consumed += 1;
        last_end = Some(line.range.end());
        prev_end = Some(line.range.end());
    }
    let mut fields = Vec::new();
    if let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(&yaml)
        && let Some(yaml_rust2::Yaml::Hash(map)) = docs.into_iter().next()
    {
        for (k, v) in map {
            if let Some(k) = yaml_scalar(&k) {
                fields.push((k, yaml_scalar(&v).unwrap_or_default()));
            }
        }
    }
    (fields, consumed, last_end)
}

/// A YAML scalar as text (`None` for collections and nulls).
pub(crate) fn yaml_scalar(y: &yaml_rust2::Yaml) -> Option<String> {
    use yaml_rust2::Yaml;
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Candidate lines of a `.gal`-like text: every non-blank line, trimmed; blocks are runs
    /// of consecutive non-blank lines.
    fn lines_of(text: &str) -> Vec<CandidateLine> {
        let mut out = Vec::new();
        let mut block = 0;
        let mut offset = 0;
        for raw in text.split_inclusive('\n') {
            let content = raw.trim_end_matches(['\n', '\r']);
            let trimmed = content.trim();
            if trimmed.is_empty() {
                block += 1;
            } else {
                let start = offset + (content.len() - content.trim_start().len());
                out.push(CandidateLine {
                    range: TextRange::new(start, start + trimmed.len()),
                    block,
                    fields: vec![],
                });
            }
            offset += raw.len();
        }
        out
    }

    fn parse(text: &str) -> ParsedFile {
        parse_lines(text, &lines_of(text))
    }

    /// `Segment::trim` answers most arguments from their end bytes: it trims exactly what
    /// `str::trim` trims (ASCII and Unicode whitespace, `\u{b}` included, `\u{1c}` not) and
    /// keeps the offset.
    #[test]
    fn segment_trim_is_str_trim() {
        let samples = [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\u{b}a\u{b}",
            "a\u{b}",
            "\u{a0}a\u{a0}",
            "a\u{2003}",
            "\u{3000}a b\u{85}",
            "é",
            " é ",
            "\té",
            "a\u{1680}",
            "\u{c}x\r",
            "x\u{1c}",
            "\u{1f}x",
            "\u{2028}",
            " \u{a0} a \u{85}\t",
            "\u{3000}x\u{3000} ",
            "\t \u{2029}",
            "a é",
        ];
        for text in samples {
            let seg = Segment { text, base: 7 };
            let trimmed = seg.trim();
            assert_eq!(trimmed.text, text.trim(), "{text:?}");
            assert_eq!(trimmed.base, 7 + text.len() - text.trim_start().len(), "{text:?}");
            assert_eq!(seg.is_blank(), text.trim().is_empty(), "{text:?}");
        }
    }

    /// `first_whitespace` is `str::find(char::is_whitespace)`, on ASCII and non-ASCII text.
    #[test]
    fn first_whitespace_is_the_char_search() {
        let samples = [
            "",
            "a",
            "a b",
            "ab\u{b}c",
            "a\u{c}",
            "\u{1c}x",
            "x\u{1f} y",
            "é b",
            "a\u{85}b",
            "a\u{a0}",
            "a\u{2028}b",
            "\tx",
        ];
        for text in samples {
            assert_eq!(first_whitespace(text), text.find(char::is_whitespace), "{text:?}");
        }
    }

    /// `find_word` before it searched for candidates: the keyword compared at every offset.
    fn reference_find_word(hay: &str, kw: &str) -> Option<usize> {
        let (hb, kb) = (hay.as_bytes(), kw.as_bytes());
        let symbolic = !kb[0].is_ascii_alphabetic();
        (0..=hb.len().checked_sub(kb.len())?).find(|&at| {
            let after = at + kb.len();
            hb[at..after].eq_ignore_ascii_case(kb)
                && (symbolic || at == 0 || hb[at - 1].is_ascii_whitespace())
                && (symbolic || after == hb.len() || hb[after].is_ascii_whitespace())
                && !inside_quotes(hb, at)
        })
    }

    /// `unescape_quoted` before it copied runs: a character at a time.
    fn reference_unescape_quoted(body: &str) -> (String, Option<usize>) {
        let mut value = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, e @ ('"' | '\\'))) => value.push(e),
                    Some((_, other)) => {
                        value.push('\\');
                        value.push(other);
                    }
                    None => value.push('\\'),
                },
                '"' => return (value, Some(i)),
                c => value.push(c),
            }
        }
        (value, None)
    }

    proptest::proptest! {
        #[test]
        fn unescape_quoted_agrees_with_the_reference(body in "[a\"\\\\ é名\n]{0,24}") {
            proptest::prop_assert_eq!(unescape_quoted(&body), reference_unescape_quoted(&body));
        }

        #[test]
        fn segment_trim_agrees_with_str_trim(text in "[ a~!\t\x0b\x1f\u{a0}\u{85}\u{3000}é]{0,12}") {
            let trimmed = Segment { text: &text, base: 3 }.trim();
            proptest::prop_assert_eq!(trimmed.text, text.trim());
            proptest::prop_assert_eq!(trimmed.base, 3 + text.len() - text.trim_start().len());
        }

        #[test]
        fn find_word_agrees_with_the_reference(
            hay in "[aAtToOnN \"\\\\\t\x0b\x1f|>-]{0,70}|[a-zA-Z é\"-]{0,70}",
            kw in "to|on|against|AND|->|\\||a|x",
        ) {
            proptest::prop_assert_eq!(find_word(&hay, &kw), reference_find_word(&hay, &kw));
        }
    }

    #[test]
    fn lines_over_the_length_limit_are_reported_not_parsed() {
        let long = format!("@threat Long (#long) -- \"{}\"", "x".repeat(MAX_ANNOTATION_LINE));
        let text = format!("{long}\n@audit Shop\n@param {}\n", "y".repeat(MAX_ANNOTATION_LINE));
        let parsed = parse(&text);
        assert_eq!(parsed.annotations.len(), 1, "the short line is still read");
        assert_eq!(parsed.errors.len(), 1, "foreign tags are not ours: {:?}", parsed.errors);
        let error = &parsed.errors[0];
        assert_eq!(error.code, Code::ResourceLimit);
        assert_eq!(error.range.slice(&text), "@threat");
        assert!(error.message.contains(&format!("{} bytes long", long.len())), "{}", error.message);
        // A description continued past the limit stops there, with one error.
        let piece = format!("-- \"{}\"", "z".repeat(1000));
        let text = format!("@threat T (#t) {piece}\n{}", format!("{piece}\n").repeat(10));
        let parsed = parse(&text);
        assert_eq!(parsed.annotations.len(), 1);
        let description = parsed.annotations[0].description.as_ref().unwrap();
        assert!(description.value.len() <= MAX_ANNOTATION_LINE, "{}", description.value.len());
        assert_eq!(parsed.errors.iter().map(|e| e.code).collect::<Vec<_>>(), [Code::ResourceLimit]);
    }

    #[test]
    fn parsing_stops_at_the_per_file_limit_with_one_error() {
        let text: String =
            (0..MAX_ITEMS_PER_FILE + 50).map(|i| format!("@asset A{i}\n@mitgates x\n")).collect();
        let parsed = parse(&text);
        assert_eq!(parsed.annotations.len() + parsed.errors.len(), MAX_ITEMS_PER_FILE + 1);
        let last = parsed.errors.last().unwrap();
        assert_eq!(last.code, Code::ResourceLimit);
        assert!(last.message.contains("the rest of the file is not read"), "{}", last.message);
        assert_eq!(parsed.errors.iter().filter(|e| e.code == Code::ResourceLimit).count(), 1);
        // An `unread-annotation` past the limit stops reading the same way, never silently.
        let mut text: String = (0..MAX_ITEMS_PER_FILE).map(|i| format!("@asset A{i}\n")).collect();
        text.push_str("* @threat Late (#late)\n");
        let parsed = parse(&text);
        let codes: Vec<Code> = parsed.errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, [Code::ResourceLimit]);
    }

    fn one(text: &str) -> Annotation {
        let parsed = parse(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.annotations.len(), 1, "{:?}", parsed.annotations);
        parsed.annotations.into_iter().next().unwrap()
    }

    fn name(r: &Ref) -> &str {
        match &r.form {
            RefForm::Name { name, .. } => &name.value,
            RefForm::Id(id) => &id.value,
            RefForm::Legacy { component, .. } => &component.value,
        }
    }

    #[test]
    fn gal_threat_with_id_severity_refs_and_description() {
        let text =
            r#"@threat SQL Injection (#sqli) [high] cwe:CWE-89 owasp:A03:2021 -- "hand-built \"SQL\"""#;
        let a = one(text);
        let Body::Define { kind: EntityKind::Threat, target } = &a.body else { panic!("{a:?}") };
        let Some((name, Some(id), None)) = target.form.name_parts() else { panic!() };
        assert_eq!(name.value, "SQL Injection");
        assert_eq!(name.range.slice(text), "SQL Injection");
        assert_eq!(id.range.slice(text), "sqli");
        assert_eq!(a.severity.as_ref().unwrap().value, Severity::High);
        assert_eq!(a.severity.as_ref().unwrap().range.slice(text), "[high]");
        let refs: Vec<_> = a.external_refs().iter().map(|r| r.range.slice(text)).collect();
        assert_eq!(refs, ["cwe:CWE-89", "owasp:A03:2021"]);
        assert_eq!(&*a.description.as_ref().unwrap().value, "hand-built \"SQL\"");
        assert_eq!(a.dialect, Dialect::Gal);
    }

    #[test]
    fn description_continuation_lines_join() {
        let text = "@exposes Shop.Orders to #sqli [P1] -- \"search builds SQL\"\n-- \"by hand\"\n";
        let a = one(text);
        assert_eq!(&*a.description.unwrap().value, "search builds SQL by hand");
        assert_eq!(
            a.range.slice(text),
            "@exposes Shop.Orders to #sqli [P1] -- \"search builds SQL\"\n-- \"by hand\""
        );
        assert_eq!(a.severity.unwrap().value, Severity::High);
    }

    #[test]
    fn mitigates_in_all_spellings() {
        for (text, control) in [
            ("@mitigates Shop.Orders against #sqli using #prepared-stmts", Some("prepared-stmts")),
            (
                "@Mitigates Shop.Orders against SQL Injection with Prepared statements",
                Some("Prepared statements"),
            ),
            ("@mitigate WebApp:Api against #sqli", None),
        ] {
            let a = one(text);
            let Body::Mitigates { asset, threat, control: c } = &a.body else { panic!() };
            assert!(name(asset).ends_with("Orders") || name(asset) == "WebApp:Api");
            assert!(name(threat) == "sqli" || name(threat) == "SQL Injection");
            assert_eq!(c.as_ref().map(name), control, "{text}");
        }
    }

    #[test]
    fn threatspec_forms_and_implied_dialect() {
        let a = one("@component External:User (#user)");
        assert_eq!(a.verb, Verb::Asset);
        assert_eq!(a.dialect, Dialect::ThreatSpec);
        let a = one("@exposes WebApp:FileSystem to arbitrary file writes with insufficient path validation");
        assert_eq!(&*a.details.unwrap().value, "insufficient path validation");
        assert_eq!(a.dialect, Dialect::ThreatSpec);
        let a = one("@connects #guest to #main");
        let Body::Flows { two_way, .. } = a.body else { panic!() };
        assert!(!two_way);
        let a = one("@connect WebApp:Web with WebApp:Db with TLS");
        let Body::Flows { two_way, from, to, .. } = &a.body else { panic!() };
        assert!(*two_way);
        assert_eq!((name(from), name(to)), ("WebApp:Web", "WebApp:Db"));
        assert_eq!(&*a.details.unwrap().value, "TLS");
        let a = one("@review WebApp:Web Is the session cookie HttpOnly?");
        let Body::Audit { asset, note } = &a.body else { panic!() };
        assert_eq!(name(asset), "WebApp:Web");
        assert_eq!(note.as_ref().unwrap().value, "Is the session cookie HttpOnly?");
    }

    #[test]
    fn legacy_syntax() {
        let a = one("@alias component @internet:@browser to Customer Browser");
        let Body::Alias { kind: EntityKind::Asset, target, name: n } = &a.body else { panic!("{a:?}") };
        assert!(
            matches!(&target.form, RefForm::Legacy { boundary, component } if boundary.value == "internet" && component.value == "browser")
        );
        assert_eq!(n.value, "Customer Browser");
        assert_eq!(a.dialect, Dialect::LegacyThreatSpec);
        let a = one("@connects @internet:@browser to @dmz:@api as checkout");
        let Body::Flows { name: Some(n), .. } = &a.body else { panic!() };
        assert_eq!(n.value, "checkout");
        assert_eq!(a.dialect, Dialect::LegacyThreatSpec);
        let a = one("@transfers @cwe_319_cleartext to @internet:@browser with user must use HTTPS");
        let Body::Transfers { from: None, threat, .. } = &a.body else { panic!() };
        assert!(matches!(&threat.form, RefForm::Id(id) if id.value == "cwe_319_cleartext"));
        assert_eq!(a.dialect, Dialect::LegacyThreatSpec);
        let a = one("@describe threat @xss as Cross-site scripting in templates");
        assert!(matches!(a.body, Body::Describe { kind: EntityKind::Threat, .. }));
    }

    #[test]
    fn flows_boundaries_and_lifecycle() {
        let a = one("@flows Shop.Web -> Shop.Api via HTTPS/TLS1.3");
        let Body::Flows { mechanism: Some(m), two_way: false, .. } = &a.body else { panic!() };
        assert_eq!(m.value, "HTTPS/TLS1.3");
        let a = one("@boundary between Internet and Shop.Web (#dmz)");
        let Body::Boundary { id: Some(id), a: x, b: y, directed: false } = &a.body else { panic!("{a:?}") };
        assert_eq!((name(x), name(y), id.value.as_str()), ("Internet", "Shop.Web", "dmz"));
        assert!(matches!(one("@boundary Shop.Web | Shop.Db").body, Body::Boundary { id: None, .. }));
        assert!(matches!(one("@handles pii on Shop.Users").body, Body::Handles { .. }));
        assert!(matches!(one("@owns team-payments for Shop.Payments").body, Body::Owns { .. }));
        assert!(matches!(one("@validates #csrf-token for Shop.Web").body, Body::Validates { .. }));
        assert!(matches!(one("@tests #csrf-token for Shop.Web").body, Body::Validates { .. }));
        assert!(matches!(
            one("@entitles #admin to refund on Shop.Payments").body,
            Body::Entitles { asset: Some(_), .. }
        ));
        assert!(matches!(one("@feature \"Checkout\"").body, Body::Feature { .. }));
        assert!(matches!(one("@confirmed #idor on Shop.Orders [critical]").body, Body::Confirmed { .. }));
        assert!(matches!(one("@accepts #dos to Shop.Web").body, Body::Accepts { .. }));
        assert!(matches!(
            one("@transfers #ddos from Shop.Web to Cloudflare").body,
            Body::Transfers { from: Some(_), .. }
        ));
    }

    #[test]
    fn real_world_tolerance() {
        let a = one("@asset Subnet(#subnet)");
        assert!(
            matches!(&a.body, Body::Define { target, .. } if target.explicit_id().unwrap().value == "subnet")
        );
        let a = one("@threat Cross-Site-Scripting (XSS)(#xss)");
        let Body::Define { target, .. } = &a.body else { panic!() };
        assert_eq!(name(target), "Cross-Site-Scripting (XSS)");
        let a = one("@component Web Server (WebApp:Server)");
        let Body::Define { target, .. } = &a.body else { panic!() };
        let Some((name, _, Some(alias))) = target.form.name_parts() else { panic!() };
        assert_eq!((name.value.as_str(), alias.value.as_str()), ("WebApp:Server", "Web Server"));
        let a = one("@exposes Externo:Usuário to Suplantação");
        assert!(matches!(a.body, Body::Exposes { .. }));
    }

    #[test]
    fn malformed_versus_prose() {
        let p = parse("@mitigates the login form, see #auth");
        assert_eq!(p.errors[0].code, Code::MalformedAnnotation, "{p:?}");
        let p = parse("@exposes App.X against #sqli");
        assert_eq!(p.errors[0].code, Code::MalformedAnnotation);
        let p = parse("@exposes a lot of internals, sadly");
        assert_eq!(p.errors[0].code, Code::ProseLikeAnnotation);
        assert!(p.errors[0].message.contains("@shield:begin"));
        let p = parse("@component #a to #b with x");
        assert!(p.errors.is_empty() || p.errors[0].code == Code::MalformedAnnotation);
        // A broken line never hides the next one.
        let p = parse("@mitigates App against\n@audit App.Y");
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.annotations.len(), 1);
    }

    /// Annotations are built in place in the file's vector and taken out again when their
    /// line does not parse: a failed line leaves nothing behind (its description neither),
    /// between, before and after lines that parse, multi-hop flows included, and the error
    /// still covers the description's continuation lines.
    #[test]
    fn a_failed_line_leaves_no_annotation_behind() {
        let text = "@mitigates App against -- \"half\"\n-- \"more\"\n@flows A -> B -> C\n\
                    @exposes a lot of internals, sadly\n@audit App.Y -- \"kept\"\n\
                    @exposes App.X against #sqli\n";
        let p = parse(text);
        let verbs: Vec<Verb> = p.annotations.iter().map(|a| a.verb).collect();
        assert_eq!(verbs, [Verb::Flows, Verb::Flows, Verb::Audit], "{p:?}");
        let descriptions: Vec<_> =
            p.annotations.iter().map(|a| a.description.as_ref().map(|d| &*d.value)).collect();
        assert_eq!(descriptions, [None, None, Some("kept")]);
        let codes: Vec<Code> = p.errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, [Code::MalformedAnnotation, Code::ProseLikeAnnotation, Code::MalformedAnnotation]);
        assert_eq!(p.errors[0].range.slice(text), "@mitigates App against -- \"half\"\n-- \"more\"");
        assert_eq!(p.annotations.capacity(), 3);
    }

    /// Parses the one line `comment_marker` + `content` as the comment reader leaves it: the
    /// candidate line starts after the marker.
    fn parse_after(comment_marker: &str, content: &str) -> ParsedFile {
        let text = format!("{comment_marker}{content}");
        let start = comment_marker.len();
        let line = CandidateLine { range: TextRange::new(start, text.len()), block: 0, fields: vec![] };
        parse_lines(&text, &[line])
    }

    #[test]
    fn a_verb_behind_stray_comment_marks_is_reported_not_read() {
        // `//* @threat`, `// * @threat`, `//// @exposes`, `//# @mitigates`, `#! @threat`.
        for (marker, content, marks) in [
            ("//", "* @threat SQL Injection (#sqli) [high]", "*"),
            ("// ", "* @threat SQL Injection (#sqli) [high]", "*"),
            ("//", "// @exposes App to #sqli", "//"),
            ("//", "# @mitigates App against #sqli using #prepared", "#"),
            ("#", "! @threat Leak (#leak)", "!"),
            ("# ", ": @threat Leak (#leak)", ":"),
            ("// ", "*/ * @control Prepared statements (#prepared)", "*/ *"),
        ] {
            let p = parse_after(marker, content);
            assert!(p.annotations.is_empty(), "{content}: {p:?}");
            let [e] = &p.errors[..] else { panic!("{content}: {p:?}") };
            assert_eq!(e.code, Code::UnreadAnnotation, "{content}");
            assert!(e.message.contains(&format!("follows `{marks}`")), "{}", e.message);
            let (base, at) = (marker.len(), content.find('@').unwrap());
            let verb_end = at + content[at..].find(' ').unwrap();
            assert_eq!((e.range.start(), e.range.end()), (base, base + verb_end), "{content}");
            let (_, fix_range, replacement) = e.fix.as_ref().expect("a fix");
            assert_eq!((fix_range.start(), fix_range.end(), replacement.as_str()), (base, base + at, ""));
        }
        // Commented-out annotations (`// // @threat`, `# # @threat`, a `.gal` comment), prose
        // naming a verb, other `@words`, marks without a verb, and text before the marks stay
        // silent.
        for (marker, content) in [
            ("// ", "// @threat Disabled (#disabled)"),
            ("# ", "# @exposes App to #sqli"),
            ("", "#   @threat SQL Injection (#sqli) [high]"),
            ("// ", "* @threat, @exposes and @mitigates are the verbs"),
            ("//", "* @param x the input"),
            ("//", "** see below"),
            ("// ", "TODO * @threat Later (#later)"),
            ("// ", "- @threat A bullet (#bullet)"),
        ] {
            let p = parse_after(marker, content);
            assert!(p.errors.is_empty() && p.annotations.is_empty(), "{content}: {p:?}");
        }
        // Nor inside a shield.
        let p = parse("@shield:begin\n* @threat Quoted (#quoted)\n@shield:end");
        assert!(p.errors.is_empty() && p.annotations.is_empty(), "{p:?}");
    }

    #[test]
    fn unknown_verbs_get_suggestions_foreign_tags_do_not() {
        let text = "@mitgates App against #x\n\n@param x the thing\n\n@access private\n\n@Override";
        let p = parse(text);
        assert_eq!(p.errors.len(), 1, "{p:?}");
        let e = &p.errors[0];
        assert_eq!(e.code, Code::UnknownVerb);
        assert_eq!(e.range.slice(text), "@mitgates");
        assert_eq!(e.fix.as_ref().unwrap().2, "@mitigates");
    }

    /// What the parser makes of one line: `annotation`, a diagnostic code, or `nothing`.
    fn verdict(line: &str) -> &'static str {
        let p = parse(line);
        match (p.annotations.len(), p.errors.as_slice()) {
            (1, []) => "annotation",
            (0, [e]) => e.code.as_str(),
            (0, []) => "nothing",
            _ => panic!("{line}: {p:?}"),
        }
    }

    #[test]
    fn gal_prose_and_malformed_lines_follow_spec_2_12() {
        for (line, expected) in [
            // A bare verb is an annotation begun and not finished (not `@Component`, Spring's).
            ("@mitigates", "malformed-annotation"),
            ("@exposes   ", "malformed-annotation"),
            ("@audit", "malformed-annotation"),
            ("@Component", "prose-like-annotation"),
            ("@comment", "annotation"),
            // `@audit`/`@assumes` notes go in `-- "..."`; free text after the asset is prose.
            ("@audit Shop.Api needs a second look before release", "prose-like-annotation"),
            ("@assumes Shop.Api sits behind the gateway", "prose-like-annotation"),
            ("@audit #api needs a second look", "malformed-annotation"),
            ("@audit Shop.Api -- \"needs a second look\"", "annotation"),
            ("@review WebApp:Web Is the session cookie HttpOnly?", "annotation"),
            // A dangling `--` is structural evidence (the spec's own example), not a description.
            ("@audit Shop.Api --", "malformed-annotation"),
            ("@exposes Shop.Api to #xss --", "malformed-annotation"),
            ("@exposes Shop.Api to #xss -- \"\"", "annotation"),
            // `@feature` takes a quoted name.
            ("@feature still claims to describe the model", "prose-like-annotation"),
            ("@feature Checkout -- \"the basket\"", "malformed-annotation"),
            ("@feature \"Checkout\"", "annotation"),
            // An asset is one token in GAL: the spec's own example, and friends.
            ("@transfers moves ownership from one team to another", "malformed-annotation"),
            ("@exposes User Browser to #xss", "malformed-annotation"),
            ("@validates #csrf for Web Front End", "malformed-annotation"),
            ("@asset User Browser", "prose-like-annotation"),
            ("@exposes Shop.Web to Cross Site Scripting", "annotation"),
            ("@transfers #ddos from Shop.Web to Cloudflare", "annotation"),
            // ThreatSpec components may hold spaces.
            ("@component Web Server (WebApp:Server)", "annotation"),
            ("@mitigates Web Server against XSS with Output Encoding", "annotation"),
            ("@transfers #x from Web Server to Payment Provider with the contract", "annotation"),
            // The `@entitles` capability is one identifier.
            ("@entitles #admin to refund.issue on Shop.Payments", "annotation"),
            ("@entitles #admin to issue refunds on Shop.Payments", "malformed-annotation"),
            ("@entitles #admin to read/write", "malformed-annotation"),
            // `@shield` takes only an optional reason.
            ("@shield -- \"vendored code\"", "nothing"),
            ("@shield is how a region is hidden from AI tools", "prose-like-annotation"),
            ("@shield #secret-sauce", "malformed-annotation"),
        ] {
            assert_eq!(verdict(line), expected, "{line}");
        }
    }

    #[test]
    fn shield_followed_by_prose_does_not_hide_the_next_lines() {
        let text = "@shield is how a region is hidden from AI tools\n@exposes Shop.Api to #xss";
        let p = parse(text);
        assert_eq!(p.annotations.len(), 1, "{p:?}");
        assert_eq!(p.annotations[0].verb, Verb::Exposes);
        assert_eq!(p.errors.iter().map(|e| e.code).collect::<Vec<_>>(), [Code::ProseLikeAnnotation]);
        assert!(p.errors[0].message.contains("`@shield [-- \"<reason>\"]`"), "{}", p.errors[0].message);
        // A real shield still hides the rest of its comment.
        let p = parse("@shield -- \"vendored\"\n@exposes Shop.Api to #xss");
        assert!(p.annotations.is_empty() && p.errors.is_empty(), "{p:?}");
    }

    #[test]
    fn misspelt_verbs_before_punctuation_and_flow_typos_are_reported() {
        for (line, expected) in [
            ("@flowss, as the docs say", Some("@flows")),
            ("@migitates Shop against #sqli", Some("@mitigates")),
            ("@flow Shop.Web -> Shop.Api", Some("@flows")),
            ("@flow #web to #api", Some("@flows")),
            ("@Flow Web -> Api via TLS", Some("@flows")),
            // Flow's pragma, and verbs named in a sentence, are not ours.
            ("@flow", None),
            ("@flow strict", None),
            ("@comment, @shield and @feature carry no reference", None),
            ("@flows.", None),
        ] {
            let p = parse(line);
            assert!(p.annotations.is_empty(), "{line}: {p:?}");
            let fix = p.errors.iter().map(|e| {
                assert_eq!(e.code, Code::UnknownVerb, "{line}");
                e.fix.as_ref().unwrap().2.as_str()
            });
            assert_eq!(fix.collect::<Vec<_>>(), expected.into_iter().collect::<Vec<_>>(), "{line}");
        }
        // The fix replaces the word, not the punctuation after it.
        let p = parse("@flowss, as the docs say");
        assert_eq!(p.errors[0].range.slice("@flowss, as the docs say"), "@flowss");
    }

    #[test]
    fn source_sets_the_logical_location_of_following_lines() {
        let text = "@source file:api/orders.py line:42\n@exposes Shop.Orders to #sqli\n@source\n@audit Shop\n@source line:x\n@source The source of truth";
        let p = parse(text);
        assert_eq!(p.annotations.len(), 2, "{p:?}");
        let origin = p.annotations[0].origin().unwrap();
        assert_eq!(
            (origin.file.value.as_str(), origin.line.as_ref().map(|l| l.value)),
            ("api/orders.py", Some(42))
        );
        assert_eq!(origin.file.range.slice(text), "api/orders.py");
        assert_eq!(origin.directive.slice(text), "@source file:api/orders.py line:42");
        assert!(p.annotations[1].origin().is_none());
        // `line:x` carries a key of ours: malformed. Prose `@source` lines (phpDocumentor) are not ours.
        assert_eq!(p.errors.len(), 1, "{p:?}");
        assert_eq!(p.errors[0].range.slice(text), "line:x");
        let p = parse("@source file: line:3");
        assert_eq!(p.errors[0].code, Code::MalformedAnnotation);
    }

    #[test]
    fn source_reads_guardlinks_symbol_key() {
        let text = "@source file:app/db.py line:9 symbol:find_expenses\n@exposes #db to #sqli [critical]\n@flows #api -> #db";
        let p = parse(text);
        assert!(p.errors.is_empty(), "{p:?}");
        assert_eq!(p.annotations.len(), 2, "the directive hides nothing: {p:?}");
        for a in &p.annotations {
            let origin = a.origin().unwrap();
            assert_eq!(origin.symbol.as_ref().unwrap().value, "find_expenses");
            assert_eq!(origin.symbol.as_ref().unwrap().range.slice(text), "find_expenses");
            assert_eq!(origin.line.as_ref().unwrap().range.slice(text), "9");
        }
    }

    #[test]
    fn source_reports_an_unknown_key_at_its_location_and_keeps_the_anchor() {
        let text = "@source file:app/db.py line:9 anchor:find_expenses\n@exposes #db to #sqli";
        let p = parse(text);
        assert_eq!(p.errors.len(), 1, "{p:?}");
        assert_eq!(p.errors[0].code, Code::MalformedAnnotation);
        assert_eq!(p.errors[0].range.slice(text), "anchor:find_expenses");
        assert!(p.errors[0].message.contains("unknown key `anchor:`"), "{}", p.errors[0].message);
        let origin = p.annotations[0].origin().unwrap();
        assert_eq!((origin.file.value.as_str(), origin.symbol.as_ref()), ("app/db.py", None));
        // A bad value ends the previous anchor: what follows is located where it is written.
        let p = parse("@source file:a.py line:3\n@source file:b.py line:0\n@audit #db");
        assert_eq!(p.errors.len(), 1, "{p:?}");
        assert!(p.annotations[0].origin().is_none());
    }

    #[test]
    fn shield_regions_are_skipped() {
        let text = "@shield:begin\n@exposes A to #x\n@mitgates q\n@shield:end\n\n@audit B\n\n@shield\n@exposes C to #y";
        let p = parse(text);
        assert!(p.errors.is_empty(), "{p:?}");
        assert_eq!(p.annotations.len(), 1);
        assert_eq!(p.annotations[0].verb, Verb::Audit);
    }

    /// `Annotation` keeps its external references and extended-block keys in one box; the
    /// index cache encodes it as the twelve fields below in this order, as it did before.
    #[test]
    fn annotations_encode_in_the_stored_field_order() {
        #[derive(serde::Serialize)]
        struct Stored<'a> {
            verb: Verb,
            dialect: Dialect,
            range: TextRange,
            verb_range: TextRange,
            body: &'a Body,
            severity: &'a Option<Spanned<Severity>>,
            external_refs: &'a [Spanned<String>],
            // The types the fields had when this layout was stored first.
            risk: Option<Box<RiskFields>>,
            description: Option<Spanned<String>>,
            details: Option<Spanned<String>>,
            fields: &'a [(String, String)],
            origin: Option<Box<Origin>>,
        }
        let text = "@mitigates WebApp:Api against #xss with #csp:\ndescription: Strict CSP\nticket: SEC-12\n\n\
                    @threat SQLi (#sqli) [high] cwe:CWE-89 owasp:A03 risk:L2xI3 -- \"q\"\n\
                    @exposes App to #sqli with input\n";
        let p = parse(text);
        assert!(p.errors.is_empty(), "{p:?}");
        assert_eq!(p.annotations[0].fields(), [("ticket".to_string(), "SEC-12".to_string())]);
        assert_eq!(p.annotations[1].external_refs().len(), 2);
        assert!(p.annotations[1].risk().is_some());
        for a in &p.annotations {
            let stored = Stored {
                verb: a.verb,
                dialect: a.dialect,
                range: a.range,
                verb_range: a.verb_range(),
                body: &a.body,
                severity: &a.severity,
                external_refs: a.external_refs(),
                risk: a.risk().cloned().map(Box::new),
                description: a.description.clone().map(|d| d.map(String::from)),
                details: a.details.clone().map(|d| d.map(String::from)),
                fields: a.fields(),
                origin: a.origin().cloned().map(Box::new),
            };
            let bytes = postcard::to_allocvec(a).unwrap();
            assert_eq!(bytes, postcard::to_allocvec(&stored).unwrap(), "{a:?}");
            assert_eq!(&postcard::from_bytes::<Annotation>(&bytes).unwrap(), a);
        }
    }

    #[test]
    fn threatspec_extended_yaml_block() {
        let text = "@mitigates WebApp:Api against #xss with #csp:\ndescription: Strict CSP on every page\nticket: SEC-12\n\n@audit WebApp:Api";
        let p = parse(text);
        assert!(p.errors.is_empty(), "{p:?}");
        let a = &p.annotations[0];
        assert_eq!(&*a.description.as_ref().unwrap().value, "Strict CSP on every page");
        assert_eq!(a.fields(), vec![("ticket".to_string(), "SEC-12".to_string())]);
        assert!(matches!(&a.body, Body::Mitigates { control: Some(c), .. } if c.display() == "#csp"));
        assert_eq!(p.annotations.len(), 2);
    }
    fn flows(text: &str) -> Vec<(String, String, bool, Option<String>)> {
        let parsed = parse(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        parsed
            .annotations
            .iter()
            .map(|a| {
                let Body::Flows { from, to, two_way, mechanism, .. } = &a.body else { panic!("{a:?}") };
                let spelled = |r: &Ref| r.range.slice(text).to_string();
                (spelled(from), spelled(to), *two_way, mechanism.as_ref().map(|m| m.value.clone()))
            })
            .collect()
    }

    #[test]
    fn multi_hop_flows_are_one_flow_per_arrow() {
        let text = r#"@flows "User Browser" -> Shop.Web <-> #api -> "Shop DB" via HTTPS/TLS -- "checkout""#;
        let hop = |a: &str, b: &str, two_way| {
            (a.to_string(), b.to_string(), two_way, Some("HTTPS/TLS".to_string()))
        };
        assert_eq!(
            flows(text),
            [
                hop("\"User Browser\"", "Shop.Web", false),
                hop("Shop.Web", "#api", true),
                hop("#api", "\"Shop DB\"", false)
            ]
        );
        let parsed = parse(text);
        for a in &parsed.annotations {
            assert_eq!(a.range.slice(text), text, "every hop is the whole line");
            assert_eq!(&*a.description.as_ref().unwrap().value, "checkout");
        }
        // A later hop that is a `#ref` is no longer malformed; a missing hop is.
        assert_eq!(flows("@flows A -> B -> #c").len(), 2);
        let p = parse("@flows A -> -> C");
        assert_eq!(p.errors[0].code, Code::MalformedAnnotation, "{p:?}");
        assert!(p.errors[0].message.contains("missing hop"), "{}", p.errors[0].message);
        assert!(p.annotations.is_empty());
        // An arrow inside a quoted reference is part of the name.
        assert_eq!(flows(r#"@flows "step1 -> step2" -> B"#).len(), 1);
    }

    #[test]
    fn quoted_references_are_names_without_their_quotes() {
        let text = r#"@exposes "Login to API" to "He said \"hi\"" [high]"#;
        let a = one(text);
        let Body::Exposes { asset, threat } = &a.body else { panic!("{a:?}") };
        assert_eq!(name(asset), "Login to API");
        assert_eq!(name(threat), "He said \"hi\"");
        let RefForm::Name { name: n, .. } = &threat.form else { panic!() };
        assert_eq!(n.range.slice(text), r#"He said \"hi\""#, "the range is the text between the quotes");
        assert_eq!(threat.range.slice(text), r#""He said \"hi\"""#);
        let a =
            one(r#"@mitigates "/api/v1/users" against "SQL Injection" (#sqli) using "Prepared statements""#);
        let Body::Mitigates { asset, threat, control: Some(control) } = &a.body else { panic!("{a:?}") };
        assert_eq!(
            (name(asset), name(threat), name(control)),
            ("/api/v1/users", "SQL Injection", "Prepared statements")
        );
        assert_eq!(threat.explicit_id().unwrap().value, "sqli");
        // A quote inside a word opens nothing: the keyword after it still splits.
        let a = one(r#"@exposes Panel.12"-display to #glare"#);
        let Body::Exposes { asset, .. } = &a.body else { panic!() };
        assert_eq!(name(asset), "Panel.12\"-display");
        // A quoted `#tag` is the tag.
        let a = one(r##"@audit "#authlib.token""##);
        let Body::Audit { asset, .. } = &a.body else { panic!() };
        assert!(matches!(&asset.form, RefForm::Id(id) if id.value == "authlib.token"));
        for (bad, why) in [
            (r#"@audit "unclosed"#, "never closed"),
            (r#"@audit """#, "is empty"),
            (r#"@exposes "A" B to #x"#, "unexpected `B`"),
        ] {
            let p = parse(bad);
            assert_eq!(p.errors.len(), 1, "{bad}: {p:?}");
            assert!(p.errors[0].message.contains(why), "{bad}: {}", p.errors[0].message);
        }
    }

    #[test]
    fn qualified_tags_in_every_position() {
        let a = one("@mitigates #shop.api against #authlib.token-forgery using #acme.authlib.jwt-verify");
        let Body::Mitigates { asset, threat, control: Some(control) } = &a.body else { panic!("{a:?}") };
        assert_eq!(
            (name(asset), name(threat), name(control)),
            ("shop.api", "authlib.token-forgery", "acme.authlib.jwt-verify")
        );
        assert!(matches!(one("@exposes #shop.api to #authlib.sqli [high]").body, Body::Exposes { .. }));
        assert!(matches!(one("@flows #a.b -> #c.d").body, Body::Flows { .. }));
        assert!(matches!(one("@boundary between #a.b and #c.d (#edge)").body, Body::Boundary { .. }));
        assert!(matches!(one("@validates #authlib.jwt for #shop.api").body, Body::Validates { .. }));
        // Empty segments are not tags.
        for bad in ["@audit #a..b", "@audit #a."] {
            assert_eq!(parse(bad).errors[0].code, Code::MalformedAnnotation, "{bad}");
        }
    }

    #[test]
    fn boundary_between_is_optional() {
        let text = "@boundary #parser and FileSystem (#fs-boundary) -- \"disk I/O\"";
        let a = one(text);
        let Body::Boundary { a: x, b: y, id: Some(id), directed: false } = &a.body else { panic!("{a:?}") };
        assert_eq!((name(x), name(y), id.value.as_str()), ("parser", "FileSystem", "fs-boundary"));
        assert_eq!(y.range.slice(text), "FileSystem");
        let a = one(r#"@boundary "Cats and dogs" and Zoo"#);
        let Body::Boundary { a: x, .. } = &a.body else { panic!() };
        assert_eq!(name(x), "Cats and dogs");
    }

    #[test]
    fn a_directed_boundary_reads_its_outer_and_inner_sides() {
        let text = r#"@boundary from Internet to #gateway (#perimeter) -- "nothing outside is trusted""#;
        let a = one(text);
        let Body::Boundary { a: outer, b: inner, id: Some(id), directed: true } = &a.body else {
            panic!("{a:?}")
        };
        assert_eq!((name(outer), name(inner), id.value.as_str()), ("Internet", "gateway", "perimeter"));
        assert_eq!((outer.range.slice(text), inner.range.slice(text)), ("Internet", "#gateway"));
        assert_eq!(&*a.description.as_ref().unwrap().value, "nothing outside is trusted");
        // Every argument form: dotted paths, quoted names, a qualified tag; `From` in any case.
        for (line, want) in [
            ("@boundary from Ext.Partner to Shop.Orders", ("Ext.Partner", "Shop.Orders")),
            (r#"@boundary from "Mobile app" to "Order API""#, ("Mobile app", "Order API")),
            ("@boundary from #web to #payments.ledger", ("web", "payments.ledger")),
            ("@boundary From #a To #b", ("a", "b")),
        ] {
            let a = one(line);
            let Body::Boundary { a: x, b: y, directed: true, .. } = &a.body else { panic!("{line}: {a:?}") };
            assert_eq!((name(x), name(y)), want, "{line}");
        }
        // An undirected boundary may still name an asset that starts with another word.
        let a = one("@boundary Fromage and Cellar");
        assert!(matches!(a.body, Body::Boundary { directed: false, .. }), "{a:?}");
        // Written back in its own form.
        let canonical = crate::syntax::canonical::to_gal(text, &one(text)).unwrap();
        assert!(canonical.starts_with("@boundary from Internet to #gateway (#perimeter)"), "{canonical}");
    }

    #[test]
    fn a_partial_or_mixed_directed_boundary_is_malformed_and_prose_is_not() {
        for bad in [
            "@boundary from #queue",
            "@boundary from Client",
            "@boundary from #queue to",
            "@boundary from #queue and #worker",
            "@boundary between #queue to #worker",
            "@boundary from #queue -> #worker",
            "@boundary to #worker from #queue",
            "@boundary from #edge to #queue to #worker",
            "@boundary #queue to #worker",
            "@boundary from #queue | #worker to #db",
        ] {
            let parsed = parse(bad);
            assert!(parsed.annotations.is_empty(), "{bad}: read as {:?}", parsed.annotations);
            let codes: Vec<Code> = parsed.errors.iter().map(|e| e.code).collect();
            assert_eq!(codes, [Code::MalformedAnnotation], "{bad}");
        }
        // `from` and `to` inside a sentence are prose, not an attempt at the directed form.
        let prose = parse("@boundary lines come from reviews, drawn to mark a change of trust");
        assert!(prose.annotations.is_empty());
        assert_eq!(prose.errors.iter().map(|e| e.code).collect::<Vec<_>>(), [Code::ProseLikeAnnotation]);
        let message = &parse("@boundary from #queue").errors[0].message;
        assert!(message.contains("from <outer> to <inner>"), "{message}");
    }

    #[test]
    fn risk_keys_are_read_out_of_the_external_refs() {
        let text = r#"@exposes #api to #sqli [high] risk:L4xI5 cwe:CWE-89 owner:team-payments due:2026-12-31 audited:2026-11-02 -- "raw SQL""#;
        let parsed = parse(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let a = &parsed.annotations[0];
        let refs: Vec<_> = a.external_refs().iter().map(|r| r.value.as_str()).collect();
        assert_eq!(refs, ["cwe:CWE-89"], "risk keys are not external refs");
        assert_eq!(a.severity.as_ref().unwrap().value, Severity::High);
        let risk = a.risk().unwrap();
        let rating = risk.rating.as_ref().unwrap();
        assert_eq!((rating.value.likelihood, rating.value.impact, rating.value.score()), (4, 5, 20));
        assert_eq!(rating.range.slice(text), "risk:L4xI5");
        assert_eq!(risk.owner.as_ref().unwrap().value, "team-payments");
        assert_eq!(risk.due.as_ref().unwrap().value.to_string(), "2026-12-31");
        assert_eq!(risk.audited.as_ref().unwrap().value, Date { year: 2026, month: 11, day: 2 });
        // Letters in any case; `@threat` and `@confirmed` take them too; other verbs have no
        // trailing refs, so there the token is part of the arguments.
        assert_eq!(
            one("@threat SQLi (#sqli) [high] risk:l2Xi3")
                .risk()
                .unwrap()
                .rating
                .as_ref()
                .unwrap()
                .value
                .score(),
            6
        );
        assert_eq!(
            one("@confirmed #sqli on #api risk:L5xI5").risk().unwrap().rating.as_ref().unwrap().value.score(),
            25
        );
        assert!(one("@exposes #api to #sqli cwe:CWE-89").risk().is_none());
        // ThreatSpec keeps trailing tokens in its `with` details; they are read here too.
        let a = one("@exposes App:Web to XSS with no output escaping risk:L4xI3");
        assert_eq!(&*a.details.as_ref().unwrap().value, "no output escaping");
        assert_eq!(a.risk().unwrap().rating.as_ref().unwrap().value.score(), 12);
    }

    #[test]
    fn malformed_risk_values_are_errors_at_their_token() {
        for (text, bad) in [
            ("@exposes #api to #sqli risk:L0xI5", "risk:L0xI5"),
            ("@exposes #api to #sqli risk:L4xI9", "risk:L4xI9"),
            ("@exposes #api to #sqli risk:banana", "risk:banana"),
            ("@exposes #api to #sqli risk:4x5", "risk:4x5"),
            ("@exposes #api to #sqli risk:L4xI5x", "risk:L4xI5x"),
            // Found by the parser fuzz target: a byte below `0` where a digit goes.
            ("@exposes #api to #sqli risk:L!xI5", "risk:L!xI5"),
            ("@exposes #api to #sqli risk:L4xI/", "risk:L4xI/"),
            ("@exposes #api to #sqli owner:a/b", "owner:a/b"),
            ("@exposes #api to #sqli due:2026-02-29", "due:2026-02-29"),
            ("@exposes #api to #sqli due:2026-1-01", "due:2026-1-01"),
            ("@exposes #api to #sqli audited:yesterday", "audited:yesterday"),
            ("@exposes #api to #sqli risk:L1xI1 risk:L2xI2", "risk:L2xI2"),
        ] {
            let parsed = parse(text);
            assert_eq!(parsed.annotations.len(), 1, "the annotation is still read: {text}");
            assert_eq!(parsed.errors.len(), 1, "{text}: {:?}", parsed.errors);
            let e = &parsed.errors[0];
            assert_eq!(e.code, Code::InvalidRisk, "{text}");
            assert_eq!(e.range.slice(text), bad, "{text}");
            assert!(parsed.annotations[0].external_refs().is_empty(), "{text}: never kept as a ref");
        }
        let parsed = parse("@exposes #api to #sqli risk:L1xI1 risk:L2xI2");
        assert_eq!(
            parsed.annotations[0].risk().unwrap().rating.as_ref().unwrap().value.score(),
            1,
            "the first is used"
        );
    }

    #[test]
    fn dates_round_trip_through_day_numbers() {
        assert_eq!(Date::parse("1970-01-01").unwrap().days(), 0);
        assert_eq!(Date::parse("2000-03-01").unwrap().days(), 11_017);
        assert_eq!(Date::parse("2024-02-29").unwrap().days() + 1, Date::parse("2024-03-01").unwrap().days());
        for days in [-719_162, -1, 0, 59, 60, 11_016, 20_000, 2_932_896] {
            let d = Date::from_days(days);
            assert_eq!(d.days(), days, "{d}");
            assert_eq!(Date::parse(&d.to_string()), Some(d));
        }
        assert_eq!(Date::parse("0000-01-01"), None);
        assert_eq!(Date::parse("2023-02-29"), None);
        assert_eq!(Date::parse("2100-02-29"), None);
        assert!(Date::parse("2000-02-29").is_some());
    }
}
