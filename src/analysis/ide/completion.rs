//! Completion, code actions, semantic tokens, inlay hints (filled in by the completion work).
