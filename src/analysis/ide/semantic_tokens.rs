//! Semantic tokens (placeholder).
