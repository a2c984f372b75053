//! Protocol adapters for the IDE features: LSP params in, `analysis::ide` called with byte
//! offsets, LSP results out. Every function here is synchronous and runs under the index's
//! read lock; none computes an answer itself.

use super::convert;
use crate::analysis::Analysis;
use crate::analysis::ide::{
    self, code_actions as ca, completion as comp, inlay_hints, navigation, semantic_tokens as st,
};
use crate::diagnostic::{Diagnostic as CoreDiagnostic, Edit};
use crate::model::risk::Policies;
use crate::model::{FileFacts, ProjectIndex};
use crate::text::{ColumnUnit, LineIndex, TextRange};
use std::collections::{BTreeMap, HashMap};
use tower_lsp_server::ls_types::*;

/// The text a request is answered against: the open buffer if there is one, else the index's.
pub struct Text<'a> {
    pub text: &'a str,
    pub line_index: &'a LineIndex,
}

impl Text<'_> {
    pub fn offset(&self, pos: Position, unit: ColumnUnit) -> usize {
        convert::offset(self.text, self.line_index, pos, unit)
    }
}

pub fn lsp_range(facts: &FileFacts, r: TextRange, unit: ColumnUnit) -> Range {
    convert::range(facts.text(), facts.line_index(), r, unit)
}

pub fn location(index: &ProjectIndex, loc: &ide::Location, unit: ColumnUnit) -> Option<Location> {
    let facts = index.file(loc.file.as_str())?;
    Some(Location { uri: convert::uri_of(loc.file.as_str())?, range: lsp_range(facts, loc.range, unit) })
}

pub fn locations(index: &ProjectIndex, locs: &[ide::Location], unit: ColumnUnit) -> Vec<Location> {
    locs.iter().filter_map(|l| location(index, l, unit)).collect()
}

/// A documentation URL (compiled-in data, never repository text) as a location at its start.
pub fn url_location(url: Option<String>) -> Vec<Location> {
    use std::str::FromStr;
    url.and_then(|u| Uri::from_str(&u).ok())
        .map(|uri| Location { uri, range: Range::default() })
        .into_iter()
        .collect()
}

pub fn completion(
    index: &ProjectIndex,
    shared: &comp::CompletionIndex,
    key: &str,
    language: crate::syntax::Language,
    text: &Text<'_>,
    pos: Position,
    unit: ColumnUnit,
) -> Vec<CompletionItem> {
    let offset = text.offset(pos, unit);
    comp::completion_in_text_with(index, shared, key, language, text.text, offset)
        .into_iter()
        .map(|item| {
            let range = convert::range(text.text, text.line_index, item.replace, unit);
            CompletionItem {
                label: item.label,
                kind: Some(match item.kind {
                    comp::CompletionKind::Verb | comp::CompletionKind::Keyword => CompletionItemKind::KEYWORD,
                    comp::CompletionKind::Threat => CompletionItemKind::ENUM,
                    comp::CompletionKind::Control => CompletionItemKind::FUNCTION,
                    comp::CompletionKind::Asset => CompletionItemKind::CLASS,
                    comp::CompletionKind::Actor => CompletionItemKind::INTERFACE,
                    comp::CompletionKind::Boundary => CompletionItemKind::MODULE,
                    comp::CompletionKind::Severity | comp::CompletionKind::Value => {
                        CompletionItemKind::ENUM_MEMBER
                    }
                    comp::CompletionKind::ExternalRef => CompletionItemKind::REFERENCE,
                    comp::CompletionKind::Snippet => CompletionItemKind::SNIPPET,
                }),
                detail: item.detail,
                documentation: item.documentation.map(|value| {
                    Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value })
                }),
                sort_text: Some(item.sort_text),
                filter_text: item.filter_text,
                insert_text_format: Some(if item.is_snippet {
                    InsertTextFormat::SNIPPET
                } else {
                    InsertTextFormat::PLAIN_TEXT
                }),
                text_edit: Some(CompletionTextEdit::Edit(TextEdit { range, new_text: item.insert_text })),
                ..CompletionItem::default()
            }
        })
        .collect()
}

pub fn hover(
    index: &ProjectIndex,
    analysis: &Analysis,
    policy: &Policies,
    key: &str,
    text: &Text<'_>,
    pos: Position,
    unit: ColumnUnit,
) -> Option<Hover> {
    let info = ide::risk::hover(index, analysis, policy, key, text.offset(pos, unit))?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: info.markdown }),
        range: Some(convert::range(text.text, text.line_index, info.range, unit)),
    })
}

pub fn highlights(
    index: &ProjectIndex,
    key: &str,
    text: &Text<'_>,
    pos: Position,
    unit: ColumnUnit,
) -> Vec<DocumentHighlight> {
    navigation::highlights(index, key, text.offset(pos, unit))
        .into_iter()
        .map(|(r, kind)| DocumentHighlight {
            range: convert::range(text.text, text.line_index, r, unit),
            kind: Some(match kind {
                navigation::HighlightKind::Read => DocumentHighlightKind::READ,
                navigation::HighlightKind::Write => DocumentHighlightKind::WRITE,
            }),
        })
        .collect()
}

/// How workspace edits are shaped for this client.
pub struct EditStyle {
    /// Versions of the open documents (their edits carry them).
    pub versions: HashMap<String, i32>,
    /// The client applies `documentChanges`.
    pub document_changes: bool,
    /// The dialect code actions write new annotations in (a setting).
    pub dialect: ca::WriteDialect,
    /// The workspace folders: edits go only to files inside them (see [`workspace_edit`]).
    pub roots: Vec<std::path::PathBuf>,
}

/// Edits as a `WorkspaceEdit`: versioned document edits (open files carry their version)
/// when the client supports `documentChanges`, else a plain `changes` map. Refused (with the
/// reason) when an edit would change a file outside the workspace folders, or reach one
/// through a symbolic link: a repository's annotations never make the editor write elsewhere.
// @exposes ThreatAnalyzer.Server to #path-traversal -- "a rename or quick fix edits every file naming an entity"
// @mitigates ThreatAnalyzer.Server against #path-traversal using #confined-workspace
pub fn workspace_edit(
    index: &ProjectIndex,
    edits: &[Edit],
    style: &EditStyle,
    unit: ColumnUnit,
) -> Result<WorkspaceEdit, String> {
    let outside: Vec<&str> = edits
        .iter()
        .map(|e| e.file.as_str())
        .filter(|file| {
            file.starts_with('/') && !crate::paths::within_folders(std::path::Path::new(file), &style.roots)
        })
        .collect();
    if let Some(first) = outside.first() {
        let mut files = outside.clone();
        files.sort_unstable();
        files.dedup();
        return Err(format!(
            "this would edit {} file(s) outside the workspace folders or behind a symbolic link (such as {first}): nothing was changed",
            files.len()
        ));
    }
    let mut by_file: BTreeMap<&str, Vec<TextEdit>> = BTreeMap::new();
    for e in edits {
        let Some((text, line_index)) = index.text_of(e.file.as_str()) else { continue };
        by_file.entry(e.file.as_str()).or_default().push(TextEdit {
            range: convert::range(text, line_index, e.range, unit),
            new_text: e.new_text.clone(),
        });
    }
    if style.document_changes {
        let changes = by_file
            .into_iter()
            .filter_map(|(file, edits)| {
                Some(TextDocumentEdit {
                    text_document: OptionalVersionedTextDocumentIdentifier {
                        uri: convert::uri_of(file)?,
                        version: style.versions.get(file).copied(),
                    },
                    edits: edits.into_iter().map(OneOf::Left).collect(),
                })
            })
            .collect();
        Ok(WorkspaceEdit {
            document_changes: Some(DocumentChanges::Edits(changes)),
            ..WorkspaceEdit::default()
        })
    } else {
        let changes =
            by_file.into_iter().filter_map(|(file, edits)| Some((convert::uri_of(file)?, edits))).collect();
        Ok(WorkspaceEdit { changes: Some(changes), ..WorkspaceEdit::default() })
    }
}

fn symbol_kind(kind: ide::navigation::SymbolKind) -> SymbolKind {
    match kind {
        navigation::SymbolKind::Asset => SymbolKind::CLASS,
        navigation::SymbolKind::Threat => SymbolKind::ENUM,
        navigation::SymbolKind::Control => SymbolKind::FUNCTION,
        navigation::SymbolKind::Actor => SymbolKind::INTERFACE,
        navigation::SymbolKind::Boundary => SymbolKind::MODULE,
        navigation::SymbolKind::Relation => SymbolKind::EVENT,
    }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written out
fn document_symbol(facts: &FileFacts, s: &navigation::Symbol, unit: ColumnUnit) -> DocumentSymbol {
    let range = lsp_range(facts, s.range, unit);
    let mut selection = lsp_range(facts, s.selection_range, unit);
    // The protocol wants the selection inside the range.
    if selection.start < range.start || selection.end > range.end {
        selection = range;
    }
    DocumentSymbol {
        name: if s.name.is_empty() { "?".into() } else { s.name.clone() },
        detail: s.detail.clone(),
        kind: symbol_kind(s.kind),
        tags: None,
        deprecated: None,
        range,
        selection_range: selection,
        children: (!s.children.is_empty())
            .then(|| s.children.iter().map(|c| document_symbol(facts, c, unit)).collect()),
    }
}

pub fn document_symbols(index: &ProjectIndex, key: &str, unit: ColumnUnit) -> Vec<DocumentSymbol> {
    let Some(facts) = index.file(key) else { return Vec::new() };
    navigation::document_symbols(index, key).iter().map(|s| document_symbol(facts, s, unit)).collect()
}

#[allow(deprecated)] // `SymbolInformation::deprecated` must be written out
pub fn workspace_symbols(index: &ProjectIndex, query: &str, unit: ColumnUnit) -> Vec<SymbolInformation> {
    navigation::workspace_symbols(index, query)
        .into_iter()
        .filter_map(|(file, s)| {
            let facts = index.file(file.as_str())?;
            Some(SymbolInformation {
                name: s.name.clone(),
                kind: symbol_kind(s.kind),
                tags: None,
                deprecated: None,
                location: Location {
                    uri: convert::uri_of(file.as_str())?,
                    range: lsp_range(facts, s.selection_range, unit),
                },
                container_name: s.detail.clone(),
            })
        })
        .collect()
}

pub fn code_actions(
    index: &ProjectIndex,
    analysis: &Analysis,
    diagnostics: &[CoreDiagnostic],
    key: &str,
    range: Range,
    style: &EditStyle,
    unit: ColumnUnit,
) -> Vec<CodeActionOrCommand> {
    // The text of a file with findings and no annotation (a template) too.
    let Some((text, line_index)) = index.text_of(key) else { return Vec::new() };
    let range = convert::text_range(text, line_index, range, unit);
    // The unanalysed library threats of the elements named here (README: Threat libraries).
    let library =
        crate::render::report::library_suggestions(index, analysis, key, range).into_iter().map(|s| {
            ca::CodeAction {
                title: s.title,
                kind: ca::ActionKind::Refactor,
                edits: vec![s.edit],
                diagnostics: Vec::new(),
                preferred: false,
            }
        });
    ca::code_actions_in(index, analysis, diagnostics, key, range, style.dialect)
        .into_iter()
        .chain(library)
        .filter_map(|a| {
            let edit = match workspace_edit(index, &a.edits, style, unit) {
                Ok(edit) => edit,
                Err(why) => {
                    tracing::info!("code action {:?} not offered: {why}", a.title);
                    return None;
                }
            };
            let fixed: Vec<Diagnostic> = a
                .diagnostics
                .iter()
                .filter_map(|&i| diagnostics.get(i))
                .filter_map(|d| super::diagnostics::to_lsp(index, d, unit))
                .collect();
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: a.title,
                kind: Some(match a.kind {
                    ca::ActionKind::QuickFix => CodeActionKind::QUICKFIX,
                    ca::ActionKind::Refactor => CodeActionKind::REFACTOR,
                    ca::ActionKind::RefactorRewrite => CodeActionKind::REFACTOR_REWRITE,
                }),
                diagnostics: (!fixed.is_empty()).then_some(fixed),
                edit: Some(edit),
                is_preferred: a.preferred.then_some(true),
                ..CodeAction::default()
            }))
        })
        .collect()
}

/// Token types and modifiers, in the order of the legend's indexes.
pub const TOKEN_TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::DECORATOR, // verb
    SemanticTokenType::VARIABLE,  // id
    SemanticTokenType::KEYWORD,
    SemanticTokenType::ENUM_MEMBER, // severity
    SemanticTokenType::NAMESPACE,   // external ref
    SemanticTokenType::STRING,      // description
    SemanticTokenType::CLASS,       // asset
    SemanticTokenType::ENUM,        // threat
    SemanticTokenType::FUNCTION,    // control
];

/// Bit 0: `definition` ([`st::DEFINITION`]); bit 1: `unresolved` ([`st::UNRESOLVED`]).
pub fn token_modifiers() -> Vec<SemanticTokenModifier> {
    vec![SemanticTokenModifier::DEFINITION, SemanticTokenModifier::new("unresolved")]
}

fn token_type(kind: st::TokenKind) -> u32 {
    match kind {
        st::TokenKind::Verb => 0,
        st::TokenKind::Id => 1,
        st::TokenKind::Keyword => 2,
        st::TokenKind::Severity => 3,
        st::TokenKind::ExternalRef => 4,
        st::TokenKind::Description => 5,
        st::TokenKind::Asset => 6,
        st::TokenKind::Threat => 7,
        st::TokenKind::Control => 8,
    }
}

/// Semantic tokens of a file (optionally only those inside `within`), delta-encoded.
pub fn semantic_tokens(
    index: &ProjectIndex,
    key: &str,
    within: Option<Range>,
    unit: ColumnUnit,
) -> Vec<SemanticToken> {
    let Some(facts) = index.file(key) else { return Vec::new() };
    let within = within.map(|r| convert::text_range(facts.text(), facts.line_index(), r, unit));
    let mut out = Vec::new();
    let (mut prev_line, mut prev_start) = (0u32, 0u32);
    for t in st::semantic_tokens(index, key) {
        if within.is_some_and(|w| t.range.end() <= w.start() || t.range.start() >= w.end()) {
            continue;
        }
        let r = lsp_range(facts, t.range, unit);
        if r.start.line != r.end.line || r.end.character <= r.start.character {
            continue;
        }
        let delta_line = r.start.line - prev_line;
        let delta_start = if delta_line == 0 { r.start.character - prev_start } else { r.start.character };
        out.push(SemanticToken {
            delta_line,
            delta_start,
            length: r.end.character - r.start.character,
            token_type: token_type(t.kind),
            token_modifiers_bitset: t.modifiers,
        });
        prev_line = r.start.line;
        prev_start = r.start.character;
    }
    out
}

pub fn inlay_hints(
    index: &ProjectIndex,
    analysis: &Analysis,
    policy: &Policies,
    key: &str,
    range: Range,
    unit: ColumnUnit,
) -> Vec<InlayHint> {
    let Some(facts) = index.file(key) else { return Vec::new() };
    let within = convert::text_range(facts.text(), facts.line_index(), range, unit);
    // Coverage first, then the band, at the same place (after the annotation).
    let coverage = inlay_hints::inlay_hints(index, analysis, key).into_iter().map(|h| (h.offset, h.label));
    let bands = ide::risk::band_hints(index, analysis, policy, key).into_iter().map(|h| (h.offset, h.label));
    let mut hints: Vec<(usize, String)> = coverage.chain(bands).collect();
    hints.sort_by_key(|(offset, _)| *offset);
    hints
        .into_iter()
        .filter(|(offset, _)| within.touches(*offset))
        .map(|(offset, label)| InlayHint {
            position: convert::position(facts.text(), facts.line_index(), offset, unit),
            label: InlayHintLabel::String(label),
            kind: None,
            text_edits: None,
            tooltip: None,
            padding_left: Some(true),
            padding_right: None,
            data: None,
        })
        .collect()
}

pub fn code_lenses(
    index: &ProjectIndex,
    analysis: &Analysis,
    policy: &Policies,
    key: &str,
    unit: ColumnUnit,
) -> Vec<CodeLens> {
    let Some(facts) = index.file(key) else { return Vec::new() };
    let references =
        ide::code_lens::code_lenses(index, analysis, key).into_iter().map(|l| (l.range, l.title));
    let risks = ide::risk::asset_lenses(index, analysis, policy, key).into_iter().map(|l| (l.range, l.title));
    references
        .chain(risks)
        .map(|(range, title)| {
            let range = lsp_range(facts, range, unit);
            // A title-only lens: clients show it; there is nothing to run.
            CodeLens {
                range,
                command: Some(Command { title, command: String::new(), arguments: None }),
                data: None,
            }
        })
        .collect()
}
