//! Semantic tokens: what each part of an annotation is, for editors that colour by meaning.
//!
//! Tokens come from the parsed annotations (the verb, each argument by the kind of entity it
//! names, `(#id)` definitions, keywords of the grammar, severities, external references and
//! descriptions). The result is sorted, never overlaps, and every token lies on one line
//! (a multi-line description is split per line, without the continuation line's comment
//! marker).

use crate::model::{ProjectIndex, Resolved};
use crate::syntax::{Body, EntityKind, RefForm};
use crate::text::TextRange;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenKind {
    Verb,
    /// An `(#id)` definition, or an id of an actor or boundary.
    Id,
    Keyword,
    Severity,
    ExternalRef,
    Description,
    Asset,
    Threat,
    Control,
}

/// Modifier bit: the token defines its entity (`@threat X`, `(#x)`, `@alias ... @x`).
pub const DEFINITION: u32 = 1;
/// Modifier bit: a reference that resolves to nothing (`dangling-reference`).
pub const UNRESOLVED: u32 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SemanticToken {
    pub range: TextRange,
    pub kind: TokenKind,
    /// [`DEFINITION`] | [`UNRESOLVED`].
    pub modifiers: u32,
}

const KEYWORDS: &[&str] = &[
    "against",
    "using",
    "with",
    "to",
    "on",
    "from",
    "for",
    "between",
    "and",
    "via",
    "as",
    "->",
    "<->",
    "|",
    "boundary",
    "component",
    "threat",
];

/// Every token of `file`'s annotations, sorted by position.
pub fn semantic_tokens(index: &ProjectIndex, file: &str) -> Vec<SemanticToken> {
    let Some(facts) = index.file(file) else { return Vec::new() };
    let text = facts.text();
    let mut tokens: Vec<SemanticToken> = Vec::new();
    // Ranges that are free text: never searched for keywords.
    let mut occupied: Vec<TextRange> = Vec::new();
    let push = |tokens: &mut Vec<SemanticToken>, range: TextRange, kind, modifiers| {
        tokens.push(SemanticToken { range, kind, modifiers });
    };
    // `#id` / `@id` with its sigil.
    let with_sigil = |r: TextRange| {
        let s = r.start();
        if s > 0 && matches!(text.as_bytes()[s - 1], b'#' | b'@') {
            TextRange::new(s - 1, r.end())
        } else {
            r
        }
    };
    for (i, ann) in facts.annotations().iter().enumerate() {
        let start = tokens.len();
        push(&mut tokens, ann.verb_range(), TokenKind::Verb, 0);
        for ((kind, r), fact) in ann.refs().into_iter().zip(&facts.refs[i]) {
            let token_kind = match kind {
                EntityKind::Asset => TokenKind::Asset,
                EntityKind::Threat => TokenKind::Threat,
                EntityKind::Control => TokenKind::Control,
                EntityKind::Actor | EntityKind::Boundary => TokenKind::Id,
            };
            let mut modifiers = if fact.defines { DEFINITION } else { 0 };
            if matches!(index.resolve(fact), Resolved::Dangling(_)) {
                modifiers |= UNRESOLVED;
            }
            match &r.form {
                RefForm::Id(id) => push(&mut tokens, with_sigil(id.range), token_kind, modifiers),
                RefForm::Name { name, more } => {
                    push(&mut tokens, name.range, token_kind, modifiers);
                    let (id, alias) =
                        more.as_deref().map_or((None, None), |m| (m.id.as_ref(), m.alias.as_ref()));
                    if let Some(id) = id {
                        push(&mut tokens, with_sigil(id.range), TokenKind::Id, DEFINITION);
                    }
                    if let Some(alias) = alias {
                        push(&mut tokens, alias.range, token_kind, DEFINITION);
                    }
                }
                RefForm::Legacy { boundary, component } => {
                    push(&mut tokens, with_sigil(boundary.range), TokenKind::Asset, modifiers);
                    push(&mut tokens, with_sigil(component.range), TokenKind::Asset, modifiers);
                }
            }
        }
        if let Some(sev) = &ann.severity {
            push(&mut tokens, sev.range, TokenKind::Severity, 0);
        }
        for e in ann.external_refs() {
            push(&mut tokens, e.range, TokenKind::ExternalRef, 0);
        }
        for d in ann.description.iter().chain(&ann.details) {
            push(&mut tokens, d.range, TokenKind::Description, 0);
        }
        match &ann.body {
            Body::Audit { note: Some(t), .. }
            | Body::Assumes { note: Some(t), .. }
            | Body::Comment { text: Some(t) }
            | Body::Describe { text: t, .. }
            | Body::Feature { name: t } => push(&mut tokens, t.range, TokenKind::Description, 0),
            Body::Alias { name, .. } => push(&mut tokens, name.range, TokenKind::Description, DEFINITION),
            Body::Flows { mechanism, name, .. } => {
                occupied.extend(mechanism.iter().chain(name).map(|m| m.range))
            }
            Body::Entitles { capability: t, .. }
            | Body::Owns { owner: t, .. }
            | Body::Handles { class: t, .. } => occupied.push(t.range),
            _ => {}
        }
        // Keywords: whole words in the gaps between the tokens of this annotation.
        let mut taken: Vec<TextRange> = tokens[start..].iter().map(|t| t.range).collect();
        taken.extend(occupied.iter().filter(|o| ann.range.touches(o.start())));
        taken.sort_by_key(|r| r.start);
        let mut at = ann.verb_range().end();
        let mut gaps = Vec::new();
        for r in taken.iter().filter(|r| r.start() >= ann.verb_range().end()) {
            if r.start() > at {
                gaps.push(TextRange::new(at, r.start()));
            }
            at = at.max(r.end());
        }
        if ann.range.end() > at {
            gaps.push(TextRange::new(at, ann.range.end()));
        }
        for gap in gaps {
            let slice = gap.slice(text);
            let mut offset = 0;
            for word in slice.split(char::is_whitespace) {
                if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word)) {
                    let s = gap.start() + offset;
                    push(&mut tokens, TextRange::new(s, s + word.len()), TokenKind::Keyword, 0);
                }
                offset += word.len() + 1;
            }
        }
    }
    // One line per token.
    let mut out: Vec<SemanticToken> = Vec::with_capacity(tokens.len());
    for t in tokens {
        split_lines(text, t, &mut out);
    }
    out.sort_by_key(|t| (t.range.start, t.range.end));
    let mut end = 0;
    out.retain(|t| {
        let keep = t.range.start >= end && !t.range.is_empty();
        if keep {
            end = t.range.end;
        }
        keep
    });
    out
}

fn split_lines(text: &str, token: SemanticToken, out: &mut Vec<SemanticToken>) {
    let mut start = token.range.start();
    let end = token.range.end();
    loop {
        let line_end = text[start..end].find(['\n', '\r']).map_or(end, |p| start + p);
        out.push(SemanticToken { range: TextRange::new(start, line_end), ..token });
        if line_end >= end {
            return;
        }
        let next = line_end + if text[line_end..].starts_with("\r\n") { 2 } else { 1 };
        // Skip the continuation line's indentation and comment marker (`  # -- "` -> `"`).
        let rest = &text[next..end];
        let skip = rest.find(|c: char| !(c.is_whitespace() || "#/*;!-".contains(c))).unwrap_or(rest.len());
        start = next + skip;
        if start >= end {
            return;
        }
    }
}
