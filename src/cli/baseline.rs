//! `check --baseline FILE|REF`: finding the baseline a value names.
//!
//! Owns: deciding what the value is (an existing path is a baseline file; anything else must
//! resolve as a git revision), reading the file with the configuration-file rules of
//! [`crate::read`] (a regular file, not a link, at most
//! [`crate::limits::MAX_BASELINE_FILE_SIZE`]), and computing a revision's findings with the
//! same code as `check`. Must never: match findings (that is [`crate::analysis::baseline`]) or
//! write anything.

use crate::analysis::baseline::{self, Entry};
use crate::read::{Links, read_bounded};
use std::path::Path;

/// The baseline entries `value` names; the error is one line naming the value and why.
pub(super) fn load(value: &Path) -> Result<Vec<Entry>, String> {
    if std::fs::symlink_metadata(value).is_ok() {
        return read_file(value);
    }
    Err(format!("--baseline {}: no such file, and not a git revision", value.display()))
}

// @exposes ThreatAnalyzer.Cli to #symlink-following -- "a repository can plant a link as its baseline file"
// @mitigates ThreatAnalyzer.Cli against #symlink-following using #bounded-reads
/// Reads and parses a baseline file.
fn read_file(path: &Path) -> Result<Vec<Entry>, String> {
    let why = |what: String| format!("baseline {}: {what}", path.display());
    let bytes = read_bounded(path, crate::limits::MAX_BASELINE_FILE_SIZE, Links::Refuse)
        .map_err(|refusal| why(format!("not read: {refusal}")))?;
    let text = String::from_utf8(bytes).map_err(|_| why("not UTF-8".into()))?;
    baseline::parse(&text).map_err(why)
}
