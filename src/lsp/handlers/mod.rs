//! The handlers of every request and notification, grouped by concern; `server.rs`'s
//! `LanguageServer` implementation only delegates to them.
//!
//! Owns: what the server does for each message. Must never: hold a lock across an `.await`,
//! await a client request (spawn a task instead), or compute an IDE answer or render anything
//! itself (that is `features`, `analysis::ide` and `render`). Document sync (`sync`) applies
//! edits before any `.await`: see that module for the rule and its test.

pub(super) mod commands;
pub(super) mod lifecycle;
pub(super) mod requests;
pub(super) mod sync;
pub(super) mod workspace;
