//! Inlay hints (placeholder).
