//! The verb grammar, written once as data.
//!
//! Owns: per verb, the slots of its arguments (entity kind or free text, in order; a verb may
//! have a second GAL form told apart by its first keyword, `@boundary from <outer> to
//! <inner>`, [`VerbGrammar::alternative`]), the
//! keywords that separate them (their spellings, whether they may be left out, whether they
//! are evidence that a failing line was meant as an annotation), and the trailing parts the
//! parser peels off first; ThreatSpec's trailing `with <details>` ([`DETAILS`]) and the kind
//! words of legacy `@alias`/`@describe` ([`legacy_kind`]). Derived from it: the keywords the
//! parser splits on and the entity kinds it reads per argument ([`VerbGrammar::keywords`],
//! [`VerbGrammar::kinds`]), the form shown in `malformed-annotation` and
//! `prose-like-annotation` messages ([`VerbGrammar::message`]), the keywords that count as
//! structural evidence ([`VerbGrammar::evidence_keywords`]) and the slot tables completion
//! walks ([`slots`]). The risk keys (`risk:L4xI5`, `owner:`, `due:`, `audited:`) written among
//! the trailing refs of `@threat`/`@exposes`/`@confirmed` ([`RISK_KEYS`]).
//!
//! Must never: parse text or know about the model. Where the parser's reading is code rather
//! than the table's shape (`@flows` hops, `@source` pairs), the tests below build a line from
//! every form in the table and check the parser reads it with the kinds the table says.

use super::ast::{Dialect, EntityKind, Verb};

/// Whether a keyword may be left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Always written.
    Always,
    /// The word alone may be left out (`@boundary [between] A and B`).
    WordOnly,
    /// The word and the slots after it (up to the next keyword) may be left out together
    /// (`[using <control>]`).
    Clause,
}

/// A keyword between slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keyword {
    /// The spellings offered by completion; messages show the first.
    pub words: &'static [&'static str],
    /// Further spellings the parser accepts, neither offered nor shown (`@boundary A | B`).
    pub also: &'static [&'static str],
    pub need: Need,
    /// Shown in messages (rarer clauses are left out to keep the message one short line).
    pub shown: bool,
    /// Whether the keyword on a failing line is evidence that it was meant as an annotation
    /// (GAL spec 2.12): the words that join the verb's main arguments.
    pub evidence: bool,
    /// The keyword and the slot after it may repeat (`@flows A -> B -> C`).
    pub repeats: bool,
}

/// `key:<label>` of a directive (`@source file:<path>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    pub key: &'static str,
    pub label: &'static str,
    pub required: bool,
}

/// One position of a verb's grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A reference to an entity of this kind; the label names it in messages (`<asset>`).
    Arg(EntityKind, &'static str),
    /// The name a definition of this kind gives (nothing to complete; severities and refs
    /// may follow).
    Name(EntityKind),
    Kw(Keyword),
    /// A value to fill in, one of these (`<pii|phi|...>`).
    Value(&'static [&'static str]),
    /// A fixed word, one of these (`boundary|component|threat`).
    Choice(&'static [&'static str]),
    /// Free text.
    Free(&'static str),
    /// Free text in double quotes (`@feature "<name>"`).
    Quoted(&'static str),
    /// `key:value` pairs in any order.
    Pairs(&'static [Pair]),
    /// `@id` or `@b:@c` of `@alias`/`@describe` (its kind is the choice before it).
    LegacyTarget,
}

/// The grammar of one canonical verb.
#[derive(Clone, Copy, Debug)]
pub struct VerbGrammar {
    pub verb: Verb,
    /// The form shown in messages, and completed for GAL spellings.
    pub slots: &'static [Slot],
    /// The form completed for ThreatSpec spellings, where it differs.
    pub threatspec: Option<&'static [Slot]>,
    /// A second GAL form, told apart by the keyword it starts with (GAL 2.0's directed
    /// `@boundary from <outer> to <inner>`): read by the parser, shown in messages after the
    /// first, and completed once a line starts with that keyword.
    pub alternative: Option<&'static [Slot]>,
    /// Parts the parser peels off before matching the slots (ids, severity, refs, a
    /// description), as messages show them.
    pub trailing: &'static str,
}

const fn kw(words: &'static [&'static str]) -> Slot {
    Slot::Kw(Keyword { words, also: &[], need: Need::Always, shown: true, evidence: true, repeats: false })
}

/// ThreatSpec's `with <details>` after a verb's last argument (`@expose A to #t with ...`),
/// stored as the annotation's details; in `@connects` it is part of the form.
pub const DETAILS: Keyword =
    Keyword { words: &["with"], also: &[], need: Need::Clause, shown: true, evidence: true, repeats: false };

/// An optional clause introduced by `words`.
const fn clause(words: &'static [&'static str], evidence: bool) -> Slot {
    Slot::Kw(Keyword { words, also: &[], need: Need::Clause, shown: true, evidence, repeats: false })
}

use EntityKind as K;
use Slot::{Arg, Choice, Free, LegacyTarget, Name, Quoted, Value};

/// The kind words of legacy `@alias`/`@describe` and the kinds they name.
const LEGACY: [(&str, EntityKind); 3] =
    [("boundary", K::Boundary), ("component", K::Asset), ("threat", K::Threat)];
const LEGACY_KINDS: &[&str] = &[LEGACY[0].0, LEGACY[1].0, LEGACY[2].0];

/// The kind a legacy `@alias`/`@describe` kind word names (ASCII case-insensitive).
pub fn legacy_kind(word: &str) -> Option<EntityKind> {
    LEGACY.iter().find(|(w, _)| w.eq_ignore_ascii_case(word)).map(|&(_, kind)| kind)
}

const ASSET: Slot = Arg(K::Asset, "asset");
const THREAT: Slot = Arg(K::Threat, "threat");
const CONTROL: Slot = Arg(K::Control, "control");
const DATA_CLASSES: &[&str] = &["pii", "phi", "financial", "secrets", "internal", "public"];

const fn g(verb: Verb, slots: &'static [Slot], trailing: &'static str) -> VerbGrammar {
    VerbGrammar { verb, slots, threatspec: None, alternative: None, trailing }
}

/// Every verb's grammar, one entry per [`Verb`].
pub const GRAMMAR: &[VerbGrammar] = &[
    g(Verb::Asset, &[Arg(K::Asset, "component-path")], "[(#id)]"),
    g(Verb::Threat, &[Name(K::Threat)], "[(#id)] [severity] [risk] [refs]"),
    g(Verb::Control, &[Name(K::Control)], "[(#id)]"),
    g(Verb::Actor, &[Name(K::Actor)], "[(#id)]"),
    g(Verb::Mitigates, &[ASSET, kw(&["against"]), THREAT, clause(&["using", "with"], true), CONTROL], ""),
    g(Verb::Exposes, &[ASSET, kw(&["to"]), THREAT], "[severity] [risk] [refs]"),
    g(Verb::Confirmed, &[THREAT, kw(&["on"]), ASSET], "[severity] [risk] [refs]"),
    g(Verb::Accepts, &[THREAT, kw(&["on", "to"]), ASSET], ""),
    g(Verb::Transfers, &[THREAT, kw(&["from"]), ASSET, kw(&["to"]), ASSET], ""),
    VerbGrammar {
        verb: Verb::Flows,
        slots: &[
            ASSET,
            Slot::Kw(Keyword {
                words: &["->", "<->"],
                also: &[],
                need: Need::Always,
                shown: true,
                evidence: true,
                repeats: true,
            }),
            ASSET,
            clause(&["via"], false),
            Free("mechanism"),
        ],
        // `@connects A to|with B [with <details>]`
        threatspec: Some(&[ASSET, kw(&["to", "with"]), ASSET, Slot::Kw(DETAILS), Free("details")]),
        alternative: None,
        trailing: "",
    },
    VerbGrammar {
        verb: Verb::Boundary,
        slots: &[
            Slot::Kw(Keyword {
                words: &["between"],
                also: &[],
                need: Need::WordOnly,
                shown: true,
                evidence: true,
                repeats: false,
            }),
            ASSET,
            Slot::Kw(Keyword {
                words: &["and"],
                also: &["|"],
                need: Need::Always,
                shown: true,
                evidence: true,
                repeats: false,
            }),
            ASSET,
        ],
        threatspec: None,
        // `from` and `to` are words of prose too ("annotations come from the spec, written to
        // mark..."): evidence only where the form starts ([`VerbGrammar::leading_words`]).
        alternative: Some(&[
            Slot::Kw(Keyword {
                words: &["from"],
                also: &[],
                need: Need::Always,
                shown: true,
                evidence: false,
                repeats: false,
            }),
            Arg(K::Asset, "outer"),
            Slot::Kw(Keyword {
                words: &["to"],
                also: &[],
                need: Need::Always,
                shown: true,
                evidence: false,
                repeats: false,
            }),
            Arg(K::Asset, "inner"),
        ]),
        trailing: "[(#id)]",
    },
    g(
        Verb::Entitles,
        &[
            Arg(K::Actor, "actor"),
            kw(&["to"]),
            Free("capability"),
            clause(&["on"], false),
            ASSET,
            Slot::Kw(Keyword {
                words: &["against"],
                also: &[],
                need: Need::Clause,
                shown: false,
                evidence: false,
                repeats: false,
            }),
            THREAT,
        ],
        "",
    ),
    g(Verb::Feature, &[Quoted("name")], ""),
    g(Verb::Validates, &[CONTROL, kw(&["for"]), ASSET], ""),
    // ThreatSpec's `@review <component> <note>` takes a note; GAL's goes in `-- "..."`.
    VerbGrammar {
        verb: Verb::Audit,
        slots: &[ASSET],
        threatspec: Some(&[ASSET, Free("note")]),
        alternative: None,
        trailing: "",
    },
    g(Verb::Owns, &[Free("owner"), kw(&["for"]), ASSET], ""),
    g(Verb::Handles, &[Value(DATA_CLASSES), kw(&["on"]), ASSET], ""),
    g(Verb::Assumes, &[ASSET], ""),
    g(Verb::Comment, &[Free("text")], ""),
    g(
        Verb::Source,
        &[Slot::Pairs(&[
            Pair { key: "file", label: "path", required: true },
            Pair { key: "line", label: "n", required: false },
            Pair { key: "symbol", label: "name", required: false },
        ])],
        "",
    ),
    g(Verb::Shield, &[], "[-- \"<reason>\"]"),
    g(Verb::ShieldBegin, &[], ""),
    g(Verb::ShieldEnd, &[], ""),
    g(Verb::Alias, &[Choice(LEGACY_KINDS), LegacyTarget, kw(&["to"]), Free("name")], ""),
    g(Verb::Describe, &[Choice(LEGACY_KINDS), LegacyTarget, kw(&["as"]), Free("text")], ""),
];

/// A risk key: `key:<value>` among the trailing external refs of `@threat`, `@exposes` and
/// `@confirmed` (shown as `[risk]` in their forms). Spelt as an external ref so GuardLink's
/// parser, whose trailing refs are `[a-zA-Z]+:[A-Za-z0-9_:.-]+`, reads it as one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskKey {
    pub key: RiskKeyName,
    /// The value's form, as messages and the annotation reference show it.
    pub form: &'static str,
    /// What it records.
    pub what: &'static str,
}

/// The risk keys, by meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RiskKeyName {
    Rating,
    Owner,
    Due,
    Audited,
}

impl RiskKeyName {
    /// The key as written (`risk`, `owner`, `due`, `audited`).
    pub fn as_str(self) -> &'static str {
        match self {
            RiskKeyName::Rating => "risk",
            RiskKeyName::Owner => "owner",
            RiskKeyName::Due => "due",
            RiskKeyName::Audited => "audited",
        }
    }
}

/// Every risk key (ASCII lowercase as written; `L`, `x` and `I` of a rating in any case).
pub const RISK_KEYS: &[RiskKey] = &[
    RiskKey { key: RiskKeyName::Rating, form: "L<1-5>xI<1-5>", what: "likelihood and impact, each 1 to 5" },
    RiskKey {
        key: RiskKeyName::Owner,
        form: "<id>",
        what: "who owns the treatment (letters, digits, `_`, `.`, `-`)",
    },
    RiskKey { key: RiskKeyName::Due, form: "<YYYY-MM-DD>", what: "when the treatment is due" },
    RiskKey {
        key: RiskKeyName::Audited,
        form: "<YYYY-MM-DD>",
        what: "when the risk was last audited (its treatment SLA starts then)",
    },
];

/// The risk key spelt `key` (exact, lowercase), if any.
pub fn risk_key(key: &str) -> Option<&'static RiskKey> {
    RISK_KEYS.iter().find(|k| k.key.as_str() == key)
}

/// The grammar of `verb`.
pub fn of(verb: Verb) -> &'static VerbGrammar {
    GRAMMAR.iter().find(|g| g.verb == verb).expect("every verb has a grammar entry")
}

/// The slots completion walks for `verb` as spelled (lowercase, without `@`) with `first` the
/// first word written after it: ThreatSpec spellings take the ThreatSpec form where the verb
/// has one; a line whose first word starts the verb's alternative form takes that form.
pub fn slots(verb: Verb, spelling: &str, first: Option<&str>) -> &'static [Slot] {
    let g = of(verb);
    let threatspec = super::verbs::lookup(spelling).is_some_and(|(_, d)| d == Some(Dialect::ThreatSpec));
    let starts = |slots: &[Slot]| match (slots.first(), first) {
        (Some(Slot::Kw(k)), Some(word)) => k.words.iter().any(|w| w.eq_ignore_ascii_case(word)),
        _ => false,
    };
    match (g.threatspec, g.alternative) {
        (Some(form), _) if threatspec => form,
        (_, Some(form)) if starts(form) => form,
        _ => g.slots,
    }
}

impl VerbGrammar {
    /// The form shown after the verb in malformed-line messages
    /// (`<asset> against <threat> [using <control>]`).
    pub fn message(&self) -> String {
        let form = |slots: &[Slot]| {
            let mut parts = form_parts(slots);
            if !self.trailing.is_empty() {
                parts.push(self.trailing.to_string());
            }
            parts.join(" ")
        };
        match self.alternative {
            Some(alternative) => format!("{} or {}", form(self.slots), form(alternative)),
            None => form(self.slots),
        }
    }

    /// This grammar with its [`Self::alternative`] form as its slots, if it has one.
    pub fn alternative_form(&self) -> Option<VerbGrammar> {
        Some(VerbGrammar { slots: self.alternative?, threatspec: None, alternative: None, ..*self })
    }

    /// The keywords a GAL form starts with (`between`, `from`): evidence that a failing line
    /// was meant as an annotation when the line's arguments start with one, even where the
    /// word alone is no evidence elsewhere in a line.
    pub fn leading_words(&self) -> impl Iterator<Item = &'static str> {
        let forms = std::iter::once(self.slots).chain(self.alternative);
        forms
            .filter_map(|slots| match slots.first() {
                Some(Slot::Kw(k)) => Some(k.words.iter().copied()),
                _ => None,
            })
            .flatten()
    }
}

/// The parts of one form's message (see [`VerbGrammar::message`]), trailing parts left out.
fn form_parts(slots: &[Slot]) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < slots.len() {
        match slots[i] {
            Slot::Kw(k) => {
                // The slots up to the next keyword belong to this keyword.
                let end = slots[i + 1..]
                    .iter()
                    .position(|s| matches!(s, Slot::Kw(_)))
                    .map_or(slots.len(), |p| i + 1 + p);
                let args: Vec<String> = slots[i + 1..end].iter().map(show_slot).collect();
                i = end;
                if !k.shown {
                    continue;
                }
                let word = k.words[0];
                match k.need {
                    Need::Always => parts.push(word.to_string()),
                    Need::WordOnly => parts.push(format!("[{word}]")),
                    Need::Clause => {
                        parts.push(format!("[{word} {}]", args.join(" ")));
                        continue;
                    }
                }
                let repeated = format!("[{word} {} ...]", args.join(" "));
                parts.extend(args);
                if k.repeats {
                    parts.push(repeated);
                }
            }
            ref s => {
                parts.push(show_slot(s));
                i += 1;
            }
        }
    }
    parts
}

impl VerbGrammar {
    /// The keywords between the arguments, in order. The parser destructures them
    /// (`let [against, using] = ...`): a count that differs from the table's is a bug that
    /// every line of the verb hits, so it panics.
    pub fn keywords<const N: usize>(&self) -> [&'static Keyword; N] {
        exactly(
            self.verb,
            self.slots.iter().filter_map(|s| match s {
                Slot::Kw(k) => Some(k),
                _ => None,
            }),
        )
    }

    /// The entity kinds of the arguments and the defined name, in order (as [`Self::keywords`]).
    pub fn kinds<const N: usize>(&self) -> [EntityKind; N] {
        exactly(self.verb, self.slots.iter().filter_map(Slot::kind))
    }

    /// Every keyword (all spellings) whose presence on a failing line is structural evidence,
    /// across the verb's forms.
    pub fn evidence_keywords(&self) -> impl Iterator<Item = &'static str> {
        let forms = std::iter::once(self.slots).chain(self.threatspec).chain(self.alternative);
        forms.flat_map(|slots| slots.iter()).flat_map(|s| match s {
            Slot::Kw(k) if k.evidence => k.words.iter().chain(k.also).copied(),
            _ => [].iter().chain(&[]).copied(),
        })
    }
}

impl Slot {
    /// The entity kind an argument or a defined name has.
    pub fn kind(&self) -> Option<EntityKind> {
        match *self {
            Slot::Arg(kind, _) | Slot::Name(kind) => Some(kind),
            _ => None,
        }
    }
}

/// The first `N` items, which must be all of them.
fn exactly<T, const N: usize>(verb: Verb, mut items: impl Iterator<Item = T>) -> [T; N] {
    let out = std::array::from_fn(|_| items.next().unwrap_or_else(|| panic!("{verb:?} has fewer than {N}")));
    assert!(items.next().is_none(), "{verb:?} has more than {N}");
    out
}

fn show_slot(slot: &Slot) -> String {
    match slot {
        Slot::Arg(_, label) | Slot::Free(label) => format!("<{label}>"),
        Slot::Name(_) => "<name>".to_string(),
        Slot::Value(values) => format!("<{}>", values.join("|")),
        Slot::Choice(values) => values.join("|"),
        Slot::Quoted(label) => format!("\"<{label}>\""),
        Slot::Pairs(pairs) => pairs
            .iter()
            .map(|p| {
                let pair = format!("{}:<{}>", p.key, p.label);
                if p.required { pair } else { format!("[{pair}]") }
            })
            .collect::<Vec<_>>()
            .join(" "),
        Slot::LegacyTarget => "@id[:@id]".to_string(),
        Slot::Kw(k) => k.words[0].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::verbs::SPELLINGS;
    use crate::syntax::{Language, parse_file};

    #[test]
    fn every_verb_has_exactly_one_grammar() {
        for (_, verb, _) in SPELLINGS {
            assert_eq!(GRAMMAR.iter().filter(|g| g.verb == *verb).count(), 1, "{verb:?}");
        }
    }

    /// The messages as they were written by hand before the table: derived, they must not move.
    #[test]
    fn messages_are_derived_unchanged() {
        let expected = [
            (Verb::Asset, "<component-path> [(#id)]"),
            (Verb::Threat, "<name> [(#id)] [severity] [risk] [refs]"),
            (Verb::Control, "<name> [(#id)]"),
            (Verb::Actor, "<name> [(#id)]"),
            (Verb::Mitigates, "<asset> against <threat> [using <control>]"),
            (Verb::Exposes, "<asset> to <threat> [severity] [risk] [refs]"),
            (Verb::Confirmed, "<threat> on <asset> [severity] [risk] [refs]"),
            (Verb::Accepts, "<threat> on <asset>"),
            (Verb::Transfers, "<threat> from <asset> to <asset>"),
            (Verb::Flows, "<asset> -> <asset> [-> <asset> ...] [via <mechanism>]"),
            (Verb::Boundary, "[between] <asset> and <asset> [(#id)] or from <outer> to <inner> [(#id)]"),
            (Verb::Entitles, "<actor> to <capability> [on <asset>]"),
            (Verb::Feature, "\"<name>\""),
            (Verb::Validates, "<control> for <asset>"),
            (Verb::Audit, "<asset>"),
            (Verb::Assumes, "<asset>"),
            (Verb::Owns, "<owner> for <asset>"),
            (Verb::Handles, "<pii|phi|financial|secrets|internal|public> on <asset>"),
            (Verb::Comment, "<text>"),
            (Verb::Source, "file:<path> [line:<n>] [symbol:<name>]"),
            (Verb::Alias, "boundary|component|threat @id[:@id] to <name>"),
            (Verb::Describe, "boundary|component|threat @id[:@id] as <text>"),
            (Verb::Shield, "[-- \"<reason>\"]"),
            (Verb::ShieldBegin, ""),
            (Verb::ShieldEnd, ""),
        ];
        for (verb, message) in expected {
            assert_eq!(of(verb).message(), message, "{verb:?}");
        }
    }

    #[test]
    fn evidence_keywords_are_the_joining_words() {
        let words = |v| of(v).evidence_keywords().collect::<Vec<_>>();
        assert_eq!(words(Verb::Mitigates), ["against", "using", "with"]);
        assert_eq!(words(Verb::Entitles), ["to"], "the optional `on`/`against` clauses are not evidence");
        assert_eq!(words(Verb::Boundary), ["between", "and", "|"]);
        assert_eq!(words(Verb::Flows), ["->", "<->", "to", "with", "with"]);
        assert!(words(Verb::Audit).is_empty());
    }

    /// A line of `form` with every slot filled in by a plain argument: with `full`, the words
    /// and clauses that may be left out and one repeat of a repeating keyword are written,
    /// otherwise left out; `pick` chooses among fixed values. Returns the line, the entity kinds
    /// the table says each annotation of it holds (in order) and how many annotations it makes.
    fn fill(form: &[Slot], full: bool, pick: usize) -> (String, Vec<EntityKind>, usize) {
        let mut words: Vec<String> = Vec::new();
        let mut kinds = Vec::new();
        let mut annotations = 1;
        let mut in_left_out_clause = false;
        let mut legacy_word = None;
        let arg = |slot: &Slot, legacy_word: Option<&str>| match slot {
            Slot::Arg(EntityKind::Threat, _) => "#t".to_string(),
            Slot::Arg(EntityKind::Control, _) => "#c".to_string(),
            Slot::Arg(EntityKind::Actor, _) => "#user".to_string(),
            Slot::Arg(_, _) => "App.Part".to_string(),
            Slot::Name(_) => "Name".to_string(),
            Slot::Value(values) | Slot::Choice(values) => values[pick % values.len()].to_string(),
            Slot::Free(_) => "words".to_string(),
            Slot::Quoted(_) => "\"quoted words\"".to_string(),
            Slot::LegacyTarget if legacy_word == Some("component") => "@b:@c".to_string(),
            Slot::LegacyTarget => "@b".to_string(),
            Slot::Kw(_) | Slot::Pairs(_) => unreachable!("not an argument"),
        };
        for (i, slot) in form.iter().enumerate() {
            if let Slot::Kw(k) = slot {
                in_left_out_clause = !full && k.need == Need::Clause;
                if full || k.need == Need::Always {
                    words.push(k.words[0].to_string());
                }
                continue;
            }
            if in_left_out_clause {
                continue;
            }
            words.push(arg(slot, legacy_word));
            if let Slot::Choice(values) = slot {
                legacy_word = Some(values[pick % values.len()]);
            }
            match slot {
                Slot::LegacyTarget => kinds.push(legacy_kind(legacy_word.unwrap()).unwrap()),
                _ => kinds.extend(slot.kind()),
            }
            if let Some(Slot::Kw(k)) = i.checked_sub(1).map(|p| form[p])
                && k.repeats
                && full
            {
                words.push(k.words[0].to_string());
                words.push(arg(slot, legacy_word));
                annotations += 1;
            }
        }
        (words.join(" "), kinds, annotations)
    }

    /// Every form of the table (GAL's, and ThreatSpec's for ThreatSpec spellings), with and
    /// without its optional parts and with each fixed value, is what the parser reads: one
    /// annotation per hop, each with the table's entity kinds in the table's order. The
    /// keywords and kinds the parser takes from the table are covered by this as well as the
    /// parses written as code (`@flows` hops, `@review` notes).
    #[test]
    fn the_parser_reads_every_form_of_the_table_with_its_kinds() {
        for g in GRAMMAR {
            if matches!(g.verb, Verb::Source | Verb::Shield | Verb::ShieldBegin | Verb::ShieldEnd) {
                continue; // directives: no annotation of their own (`@source` is tested below)
            }
            for &(spelling, _, dialect) in SPELLINGS.iter().filter(|(_, v, _)| *v == g.verb) {
                let form = match g.threatspec {
                    Some(form) if dialect == Some(Dialect::ThreatSpec) => form,
                    _ => g.slots,
                };
                let picks = form
                    .iter()
                    .map(|s| match s {
                        Slot::Value(values) | Slot::Choice(values) => values.len(),
                        _ => 1,
                    })
                    .max()
                    .unwrap_or(1);
                for (full, pick) in [false, true].into_iter().flat_map(|f| (0..picks).map(move |p| (f, p))) {
                    let (args, kinds, count) = fill(form, full, pick);
                    let line = format!("@{spelling} {args}");
                    let parsed = parse_file(Language::Python, &format!("# {line}\n"));
                    assert!(parsed.errors.is_empty(), "{line}: {:?}", parsed.errors);
                    assert_eq!(parsed.annotations.len(), count, "{line}");
                    for ann in &parsed.annotations {
                        assert_eq!(ann.verb, g.verb, "{line}");
                        let read: Vec<EntityKind> = ann.refs().into_iter().map(|(kind, _)| kind).collect();
                        assert_eq!(read, kinds, "{line}");
                    }
                }
            }
        }
    }

    /// `@source` with the table's pairs (the required ones, then all) gives the annotations
    /// after it their origin, each key's value where the table says.
    #[test]
    fn the_parser_reads_the_source_pairs_of_the_table() {
        let [Slot::Pairs(pairs)] = of(Verb::Source).slots else { panic!("`@source` is one set of pairs") };
        let value = |key: &str| match key {
            "line" => "7",
            "symbol" => "main",
            _ => "src/app.py",
        };
        for full in [false, true] {
            let written: Vec<&Pair> = pairs.iter().filter(|p| full || p.required).collect();
            let args: Vec<String> = written.iter().map(|p| format!("{}:{}", p.key, value(p.key))).collect();
            let text = format!("# @source {}\n# @asset App.Part\n", args.join(" "));
            let parsed = parse_file(Language::Python, &text);
            assert!(parsed.errors.is_empty(), "{text}: {:?}", parsed.errors);
            let origin = parsed.annotations[0].origin().expect("an origin");
            let read = [
                ("file", Some(origin.file.value.clone())),
                ("line", origin.line.as_ref().map(|l| l.value.to_string())),
                ("symbol", origin.symbol.as_ref().map(|s| s.value.clone())),
            ];
            let read_keys: Vec<&str> = read.iter().map(|(key, _)| *key).collect();
            let table_keys: Vec<&str> = pairs.iter().map(|p| p.key).collect();
            assert_eq!(read_keys, table_keys, "the parser reads the table's keys");
            for (key, got) in read {
                let expected = written.iter().find(|p| p.key == key).map(|p| value(p.key));
                assert_eq!(got.as_deref(), expected, "{text}: {key}");
            }
        }
    }
}
