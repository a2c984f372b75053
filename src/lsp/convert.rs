//! Conversions between the protocol's positions and URIs and the core's byte offsets and file
//! keys. The only place that knows both.
//!
//! File keys: files on disk are keyed by their absolute path (`/src/app.py`); documents with
//! other URI schemes (`untitled:`) by the URI text itself.

use crate::file_id::FileId;
use crate::text::{ColumnUnit, LineCol, LineIndex, TextRange};
use std::str::FromStr;
use tower_lsp_server::ls_types::{Position, Range, Uri};

/// The index key of a document URI.
pub fn key_of(uri: &Uri) -> FileId {
    if uri.scheme().as_str() == "file"
        && let Some(path) = uri.to_file_path()
    {
        return FileId::absolute(&path);
    }
    FileId::from_uri_text(uri.as_str())
}

/// The URI of an index key.
pub fn uri_of(key: &str) -> Option<Uri> {
    if key.starts_with('/') { Uri::from_file_path(key) } else { Uri::from_str(key).ok() }
}

/// LSP position -> byte offset, clamped into the text.
pub fn offset(text: &str, index: &LineIndex, pos: Position, unit: ColumnUnit) -> usize {
    index.offset_of(text, LineCol { line: pos.line, col: pos.character }, unit)
}

/// Byte offset -> LSP position.
pub fn position(text: &str, index: &LineIndex, offset: usize, unit: ColumnUnit) -> Position {
    let lc = index.line_col_in(text, offset.min(text.len()), unit);
    Position { line: lc.line, character: lc.col }
}

pub fn range(text: &str, index: &LineIndex, r: TextRange, unit: ColumnUnit) -> Range {
    Range { start: position(text, index, r.start(), unit), end: position(text, index, r.end(), unit) }
}

pub fn text_range(text: &str, index: &LineIndex, r: Range, unit: ColumnUnit) -> TextRange {
    let start = offset(text, index, r.start, unit);
    let end = offset(text, index, r.end, unit).max(start);
    TextRange::new(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_round_trip_through_keys() {
        let uri = Uri::from_file_path("/work/shop/api/app.py").unwrap();
        let key = key_of(&uri);
        assert_eq!(key.as_str(), "/work/shop/api/app.py");
        assert_eq!(uri_of(key.as_str()).unwrap(), uri);
        let untitled = Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(uri_of(key_of(&untitled).as_str()).unwrap(), untitled);
    }

    #[test]
    fn utf16_and_utf8_positions() {
        let text = "# é😀 @audit App\n";
        let index = LineIndex::new(text);
        let at = text.find('@').unwrap();
        let p16 = position(text, &index, at, ColumnUnit::Utf16);
        assert_eq!(p16, Position { line: 0, character: 6 });
        let p8 = position(text, &index, at, ColumnUnit::Utf8);
        assert_eq!(p8, Position { line: 0, character: 9 });
        assert_eq!(offset(text, &index, p16, ColumnUnit::Utf16), at);
        assert_eq!(offset(text, &index, Position { line: 9, character: 0 }, ColumnUnit::Utf16), text.len());
    }
}
