//! Requests about the project: navigation, completion, hover, rename, symbols, code actions and
//! lenses, semantic tokens, inlay hints.
//!
//! Owns: taking each request's parameters apart, reading the snapshot (`State::at` for a
//! document position, `State::read` otherwise) and shaping the response. Requests that read
//! the whole project (references, rename, workspace symbols) first wait for an indexing run
//! that fills the index (`State::wait_for_index`); requests about one document never wait.
//! Must never: compute an answer itself (that is `features` and `analysis::ide`), change the
//! index, or hold the snapshot across an `.await`.

use crate::analysis::ide;
use crate::lsp::convert;
use crate::lsp::features;
use crate::lsp::state::State;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::request::{GotoDeclarationParams, GotoDeclarationResponse};
use tower_lsp_server::ls_types::*;

pub(in crate::lsp) fn completion(
    state: &State,
    params: CompletionParams,
) -> Result<Option<CompletionResponse>> {
    let p = params.text_document_position;
    let items = state.at(&p.text_document.uri, Vec::new(), |index, key, language, text, unit| {
        let shared = state.completion_index(index);
        features::completion(index, &shared, key, language, text, p.position, unit)
    })?;
    Ok(Some(CompletionResponse::Array(items)))
}

pub(in crate::lsp) fn goto_definition(
    state: &State,
    params: GotoDefinitionParams,
) -> Result<Option<GotoDefinitionResponse>> {
    let p = params.text_document_position_params;
    let locs = state.at(&p.text_document.uri, Vec::new(), |index, key, _, text, unit| {
        let offset = text.offset(p.position, unit);
        let found = features::locations(index, &ide::navigation::goto_definition(index, key, offset), unit);
        if found.is_empty() {
            // A built-in library entry: its documentation page.
            return features::url_location(ide::navigation::definition_url(index, key, offset));
        }
        found
    })?;
    Ok((!locs.is_empty()).then_some(GotoDefinitionResponse::Array(locs)))
}

pub(in crate::lsp) fn goto_declaration(
    state: &State,
    params: GotoDeclarationParams,
) -> Result<Option<GotoDeclarationResponse>> {
    let p = params.text_document_position_params;
    let locs = state.at(&p.text_document.uri, Vec::new(), |index, key, _, text, unit| {
        features::locations(
            index,
            &ide::navigation::goto_declaration(index, key, text.offset(p.position, unit)),
            unit,
        )
    })?;
    Ok((!locs.is_empty()).then_some(GotoDeclarationResponse::Array(locs)))
}

pub(in crate::lsp) async fn references(
    state: &State,
    params: ReferenceParams,
) -> Result<Option<Vec<Location>>> {
    state.wait_for_index("textDocument/references").await;
    let p = params.text_document_position;
    let include = params.context.include_declaration;
    let locs = state.at(&p.text_document.uri, Vec::new(), |index, key, _, text, unit| {
        let found = ide::navigation::references(index, key, text.offset(p.position, unit), include);
        features::locations(index, &found, unit)
    })?;
    Ok(Some(locs))
}

pub(in crate::lsp) fn document_highlight(
    state: &State,
    params: DocumentHighlightParams,
) -> Result<Option<Vec<DocumentHighlight>>> {
    let p = params.text_document_position_params;
    let found = state.at(&p.text_document.uri, Vec::new(), |index, key, _, text, unit| {
        features::highlights(index, key, text, p.position, unit)
    })?;
    Ok(Some(found))
}

pub(in crate::lsp) fn hover(state: &State, params: HoverParams) -> Result<Option<Hover>> {
    let p = params.text_document_position_params;
    let policy = state.risk_policies();
    state.at(&p.text_document.uri, None, |index, key, _, text, unit| {
        let analysis = state.analysis(index);
        features::hover(index, &analysis, &policy, key, text, p.position, unit)
    })
}

pub(in crate::lsp) fn prepare_rename(
    state: &State,
    params: TextDocumentPositionParams,
) -> Result<Option<PrepareRenameResponse>> {
    let prepared = state.at(&params.text_document.uri, Err(String::new()), |index, key, _, text, unit| {
        ide::navigation::prepare_rename(index, key, text.offset(params.position, unit))
            .map(|(r, placeholder)| (convert::range(text.text, text.line_index, r, unit), placeholder))
    })?;
    match prepared {
        Ok((range, placeholder)) => {
            Ok(Some(PrepareRenameResponse::RangeWithPlaceholder { range, placeholder }))
        }
        Err(reason) if reason.is_empty() => Ok(None),
        Err(reason) => Err(Error::invalid_params(reason)),
    }
}

pub(in crate::lsp) async fn rename(state: &State, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
    state.wait_for_index("textDocument/rename").await;
    let p = params.text_document_position;
    let style = state.edit_style();
    let result = state.at(&p.text_document.uri, Err(String::new()), |index, key, _, text, unit| {
        ide::navigation::rename(index, key, text.offset(p.position, unit), &params.new_name)
            .and_then(|edits| features::workspace_edit(index, &edits, &style, unit))
    })?;
    match result {
        Ok(edit) => Ok(Some(edit)),
        Err(reason) if reason.is_empty() => Ok(None),
        Err(reason) => Err(Error::invalid_params(reason)),
    }
}

pub(in crate::lsp) fn document_symbol(
    state: &State,
    params: DocumentSymbolParams,
) -> Result<Option<DocumentSymbolResponse>> {
    let key = convert::key_of(&params.text_document.uri);
    let symbols = state.read(|index, unit| features::document_symbols(index, key.as_str(), unit))?;
    Ok(Some(DocumentSymbolResponse::Nested(symbols)))
}

pub(in crate::lsp) async fn symbol(
    state: &State,
    params: WorkspaceSymbolParams,
) -> Result<Option<WorkspaceSymbolResponse>> {
    state.wait_for_index("workspace/symbol").await;
    let symbols = state.read(|index, unit| features::workspace_symbols(index, &params.query, unit))?;
    Ok(Some(WorkspaceSymbolResponse::Flat(symbols)))
}

pub(in crate::lsp) fn code_action(
    state: &State,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>> {
    let key = convert::key_of(&params.text_document.uri);
    let style = state.edit_style();
    let actions = state.read(|index, unit| {
        let analysis = state.analysis(index);
        let diagnostics = state.infra.with_fixes(index, state.findings(index, &analysis), key.as_str());
        features::code_actions(index, &analysis, &diagnostics, key.as_str(), params.range, &style, unit)
    })?;
    Ok(Some(actions))
}

pub(in crate::lsp) fn code_lens(state: &State, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
    let key = convert::key_of(&params.text_document.uri);
    let policy = state.risk_policies();
    let lenses = state.read(|index, unit| {
        let analysis = state.analysis(index);
        features::code_lenses(index, &analysis, &policy, key.as_str(), unit)
    })?;
    Ok(Some(lenses))
}

pub(in crate::lsp) fn semantic_tokens_full(
    state: &State,
    params: SemanticTokensParams,
) -> Result<Option<SemanticTokensResult>> {
    let key = convert::key_of(&params.text_document.uri);
    let data = state.read(|index, unit| features::semantic_tokens(index, key.as_str(), None, unit))?;
    Ok(Some(SemanticTokensResult::Tokens(SemanticTokens { result_id: None, data })))
}

pub(in crate::lsp) fn semantic_tokens_range(
    state: &State,
    params: SemanticTokensRangeParams,
) -> Result<Option<SemanticTokensRangeResult>> {
    let key = convert::key_of(&params.text_document.uri);
    let data =
        state.read(|index, unit| features::semantic_tokens(index, key.as_str(), Some(params.range), unit))?;
    Ok(Some(SemanticTokensRangeResult::Tokens(SemanticTokens { result_id: None, data })))
}

pub(in crate::lsp) fn inlay_hint(state: &State, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
    let key = convert::key_of(&params.text_document.uri);
    let policy = state.risk_policies();
    let hints = state.read(|index, unit| {
        let analysis = state.analysis(index);
        features::inlay_hints(index, &analysis, &policy, key.as_str(), params.range, unit)
    })?;
    Ok(Some(hints))
}
