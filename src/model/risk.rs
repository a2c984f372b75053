//! The risk bands and the project's risk policy: which band a likelihood × impact score falls
//! in, which band a severity names, each band's treatment SLA, and from which band a risk needs
//! an owner.
//!
//! Owns: [`Band`], [`RiskPolicy`] and its default, which policy a file has ([`Policies`]), the one band rule ([`RiskPolicy::band`]) and
//! the one severity-to-band rule ([`Band::of_severity`]). The policy is plain data: `walk`
//! builds it from the project's configuration (`config` reads the text), `analysis::risk`
//! applies it. Must never: read configuration text or the clock.

use crate::syntax::Severity;

/// A treatment band, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Band {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Band {
    pub const ALL: [Band; 5] = [Band::Info, Band::Low, Band::Medium, Band::High, Band::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Info => "info",
            Band::Low => "low",
            Band::Medium => "medium",
            Band::High => "high",
            Band::Critical => "critical",
        }
    }

    /// The band's name as written in configuration (lowercase).
    pub fn parse(text: &str) -> Option<Band> {
        Band::ALL.into_iter().find(|b| b.as_str() == text)
    }

    /// The band a severity names when no score is written (`[P1]`/`[high]`: high).
    pub fn of_severity(severity: Severity) -> Band {
        match severity {
            Severity::Low => Band::Low,
            Severity::Medium => Band::Medium,
            Severity::High => Band::High,
            Severity::Critical => Band::Critical,
        }
    }

    /// Position in [`Band::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// How scores map to bands, each band's SLA, and from which band an owner is required.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskPolicy {
    /// The lowest score of low, medium, high and critical (strictly increasing, 2..=25); a
    /// score below the first is info.
    pub from: [u8; 4],
    /// Days from a risk's `audited:` date to its treatment due date, per band (in
    /// [`Band::ALL`] order); `None`: no SLA (default for info: accept and document).
    pub sla_days: [Option<u32>; 5],
    /// Risks of this band or above need an owner (`None`: never).
    pub owner_required_from: Option<Band>,
}

impl Default for RiskPolicy {
    /// The STRIDE practice's table: info 1, low 2-5, medium 6-11, high 12-19, critical 20-25;
    /// critical within a day, high within a sprint (14 days), medium the next sprint (28),
    /// low the backlog (90), info no SLA. No owner is required until the project says from
    /// which band (`owner-required-from`; the STRIDE practice's is high): a default would
    /// turn every existing `[high]` exposure without an `@owns` into a new warning.
    fn default() -> Self {
        RiskPolicy {
            from: [2, 6, 12, 20],
            sla_days: [None, Some(90), Some(28), Some(14), Some(1)],
            owner_required_from: None,
        }
    }
}

impl RiskPolicy {
    /// The band of a likelihood × impact score.
    pub fn band(&self, score: u8) -> Band {
        let above = self.from.iter().take_while(|&&from| score >= from).count();
        Band::ALL[above]
    }

    /// The scores of `band` (inclusive), as the report's legend shows them.
    pub fn range(&self, band: Band) -> (u8, u8) {
        let i = band.index();
        let low = if i == 0 { 1 } else { self.from[i - 1] };
        let high = if i == 4 { 25 } else { self.from[i] - 1 };
        (low, high)
    }

    /// Checks `from` is strictly increasing within 2..=25 (what [`RiskPolicy::band`] needs).
    pub fn valid_from(from: &[u8; 4]) -> bool {
        from[0] >= 2 && from[3] <= 25 && from.windows(2).all(|w| w[0] < w[1])
    }
}

/// The risk policy of each file of a project: one for all ([`Policies::one`]), or one per
/// folder when folders configure their own (the language server's workspace folders).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policies {
    /// Folder (a path prefix of file ids, compared by components) and its policy.
    folders: Vec<(std::path::PathBuf, RiskPolicy)>,
    /// For files in no folder (and every file of [`Policies::one`]).
    default: RiskPolicy,
}

impl Policies {
    /// The same policy for every file.
    pub fn one(policy: RiskPolicy) -> Policies {
        Policies { folders: Vec::new(), default: policy }
    }

    /// Each folder's policy for its files (the innermost folder holding a file decides); the
    /// default policy for files in none.
    pub fn by_folder(folders: Vec<(std::path::PathBuf, RiskPolicy)>) -> Policies {
        Policies { folders, default: RiskPolicy::default() }
    }

    /// The policy of the file `file` (a file id).
    pub fn of(&self, file: &str) -> &RiskPolicy {
        self.folders
            .iter()
            .filter(|(folder, _)| std::path::Path::new(file).starts_with(folder))
            .max_by_key(|(folder, _)| folder.as_os_str().len())
            .map_or(&self.default, |(_, policy)| policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_bands_at_every_boundary_score() {
        let p = RiskPolicy::default();
        let expected = [
            (1, Band::Info),
            (2, Band::Low),
            (5, Band::Low),
            (6, Band::Medium),
            (11, Band::Medium),
            (12, Band::High),
            (19, Band::High),
            (20, Band::Critical),
            (25, Band::Critical),
        ];
        for (score, band) in expected {
            assert_eq!(p.band(score), band, "score {score}");
        }
        assert_eq!(p.range(Band::Info), (1, 1));
        assert_eq!(p.range(Band::Medium), (6, 11));
        assert_eq!(p.range(Band::Critical), (20, 25));
    }

    #[test]
    fn a_configured_matrix_moves_the_boundaries() {
        let p = RiskPolicy { from: [3, 8, 15, 25], ..RiskPolicy::default() };
        assert_eq!(p.band(2), Band::Info);
        assert_eq!(p.band(3), Band::Low);
        assert_eq!(p.band(14), Band::Medium);
        assert_eq!(p.band(15), Band::High);
        assert_eq!(p.band(24), Band::High);
        assert_eq!(p.band(25), Band::Critical);
        assert!(RiskPolicy::valid_from(&p.from));
        assert!(!RiskPolicy::valid_from(&[2, 2, 12, 20]));
        assert!(!RiskPolicy::valid_from(&[1, 6, 12, 20]));
        assert!(!RiskPolicy::valid_from(&[2, 6, 12, 26]));
    }

    #[test]
    fn the_innermost_folder_decides_a_files_policy() {
        let strict = RiskPolicy { from: [2, 3, 4, 5], ..RiskPolicy::default() };
        let lax = RiskPolicy { from: [10, 20, 24, 25], ..RiskPolicy::default() };
        let policies =
            Policies::by_folder(vec![("/w/a".into(), strict.clone()), ("/w/a/b".into(), lax.clone())]);
        assert_eq!(policies.of("/w/a/x.py"), &strict);
        assert_eq!(policies.of("/w/a/b/x.py"), &lax);
        // Components, not characters: `/w/ab` is not inside `/w/a`.
        assert_eq!(policies.of("/w/ab/x.py"), &RiskPolicy::default());
        assert_eq!(Policies::one(lax.clone()).of("/anywhere"), &lax);
    }

    #[test]
    fn severities_name_bands() {
        assert_eq!(Band::of_severity(Severity::Critical), Band::Critical);
        assert_eq!(Band::of_severity(Severity::Low), Band::Low);
        for b in Band::ALL {
            assert_eq!(Band::parse(b.as_str()), Some(b));
        }
    }
}
