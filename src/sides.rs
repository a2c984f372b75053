//! The two sides of a comparison as the outputs name them, from git's revisions: what `diff`
//! and the language server's `threat-analyzer.diff` both hand to [`crate::render::diff`].
//!
//! Owns: turning a [`vcs::Revision`] (and an uncommitted head: the working tree, the editor's
//! workspace) into [`crate::render::diff::Revision`]s. It sits beside `walk`, used only by the two
//! shells, because `render` must not know `vcs` and the shells must not know each other.
//! Must never: read git or files, scan or analyse a side, or render anything.

use crate::render::diff::{Revision, Sides};
use crate::vcs;

/// A commit as the outputs name it: the revision as asked for, its id and message summary.
pub fn commit(revision: &vcs::Revision) -> Revision {
    Revision {
        label: revision.spec.clone(),
        commit: Some(revision.commit.clone()),
        summary: Some(revision.summary.clone()),
    }
}

/// The base commit against the head commit, or (`head` is `None`) against files no commit
/// holds yet, called `uncommitted` (`working tree`, `workspace`).
pub fn sides(base: &vcs::Revision, head: Option<&vcs::Revision>, uncommitted: &str) -> Sides {
    Sides {
        base: commit(base),
        head: head.map_or_else(|| Revision { label: uncommitted.into(), ..Revision::default() }, commit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revision(spec: &str, commit: &str) -> vcs::Revision {
        vcs::Revision { spec: spec.into(), commit: commit.into(), summary: format!("{spec} summary") }
    }

    #[test]
    fn commits_keep_what_was_asked_for_and_the_head_may_be_uncommitted() {
        let (base, head) = (revision("main", "aa"), revision("HEAD", "bb"));
        let both = sides(&base, Some(&head), "unused");
        assert_eq!(both.base, commit(&base));
        assert_eq!(
            both.head,
            Revision {
                label: "HEAD".into(),
                commit: Some("bb".into()),
                summary: Some("HEAD summary".into())
            }
        );
        let tree = sides(&base, None, "working tree");
        assert_eq!(tree.head, Revision { label: "working tree".into(), commit: None, summary: None });
        assert_eq!(tree.base.label, "main");
    }
}
