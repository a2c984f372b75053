//! STRIDE categories of a threat, from evidence only.
//!
//! Owns: [`Stride`], the rule [`stride_of`] and the mapping table [`MAPPING`], the one place
//! that says which STRIDE categories a CWE or OWASP reference implies. Must never: guess a
//! category for a threat without evidence (no default), or map a reference whose meaning
//! spans every category (it stays unclassified, and the report says so).
//!
//! Rule: an explicit `stride:` reference on the threat's definition or on any annotation naming
//! it (`stride:T`, `stride:STE`, `stride:tampering`, `stride:information-disclosure`) decides;
//! else the union of what [`MAPPING`] says for its `cwe:` and `owasp:` references; else the
//! threat is *unclassified* (an empty set). A threat may have several categories.
//!
//! Categories follow Microsoft's definitions (Threat Modeling Tool, "STRIDE threat
//! categories"): Spoofing, pretending to be someone or something else (authentication);
//! Tampering, modifying data or code; Repudiation, denying an action without the system being
//! able to prove otherwise; Information disclosure, exposing information to someone not
//! authorised to see it; Denial of service; Elevation of privilege, gaining capabilities
//! without authorisation. A row maps a weakness to the categories of the consequences its own
//! CWE entry describes (the entry's description and "Common Consequences"), not of every
//! consequence an attacker could chain to.

/// STRIDE categories, in S, T, R, I, D, E order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stride {
    Spoofing,
    Tampering,
    Repudiation,
    InformationDisclosure,
    DenialOfService,
    ElevationOfPrivilege,
}

impl Stride {
    pub const ALL: [Stride; 6] = [
        Stride::Spoofing,
        Stride::Tampering,
        Stride::Repudiation,
        Stride::InformationDisclosure,
        Stride::DenialOfService,
        Stride::ElevationOfPrivilege,
    ];
    pub fn letter(self) -> &'static str {
        match self {
            Stride::Spoofing => "S",
            Stride::Tampering => "T",
            Stride::Repudiation => "R",
            Stride::InformationDisclosure => "I",
            Stride::DenialOfService => "D",
            Stride::ElevationOfPrivilege => "E",
        }
    }
    /// The category's name (Threat Dragon spells its STRIDE types this way).
    pub fn name(self) -> &'static str {
        match self {
            Stride::Spoofing => "Spoofing",
            Stride::Tampering => "Tampering",
            Stride::Repudiation => "Repudiation",
            Stride::InformationDisclosure => "Information disclosure",
            Stride::DenialOfService => "Denial of service",
            Stride::ElevationOfPrivilege => "Elevation of privilege",
        }
    }
    fn from_letter(c: char) -> Option<Stride> {
        Stride::ALL.into_iter().find(|s| s.letter().starts_with(c.to_ascii_uppercase()))
    }
    fn from_word(w: &str) -> Option<Stride> {
        let w: String =
            w.chars().filter(|c| c.is_ascii_alphabetic()).collect::<String>().to_ascii_lowercase();
        Some(match w.as_str() {
            "spoofing" => Stride::Spoofing,
            "tampering" => Stride::Tampering,
            "repudiation" => Stride::Repudiation,
            "informationdisclosure" | "disclosure" => Stride::InformationDisclosure,
            "denialofservice" | "dos" => Stride::DenialOfService,
            "elevationofprivilege" | "elevation" | "eop" => Stride::ElevationOfPrivilege,
            _ => return None,
        })
    }
}

/// Where a row of [`MAPPING`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// MITRE's 2024 CWE Top 25 Most Dangerous Software Weaknesses.
    CweTop25of2024,
    /// A CWE weakness outside the Top 25 that annotations commonly cite.
    CweWeakness,
    /// A CWE *category* (CWE-699 "Software Development" view): a reference to the category
    /// itself, or to a weakness the category holds.
    CweCategory,
    /// The OWASP Top 10 2021 categories (`owasp:A01:2021` ... `owasp:A10:2021`).
    OwaspTop10of2021,
}

/// The referenced thing a row maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Cwe(u32),
    /// OWASP Top 10 2021 number (`A03` is 3).
    Owasp2021(u8),
}

/// One row of the mapping: the reference, its STRIDE letters (empty: deliberately
/// unclassified), where the row comes from, and why those categories.
pub struct Row {
    pub key: Key,
    pub letters: &'static str,
    pub source: Source,
    pub why: &'static str,
}

const fn cwe(n: u32, letters: &'static str, source: Source, why: &'static str) -> Row {
    Row { key: Key::Cwe(n), letters, source, why }
}

const fn owasp(n: u8, letters: &'static str, why: &'static str) -> Row {
    Row { key: Key::Owasp2021(n), letters, source: Source::OwaspTop10of2021, why }
}

use Source::{CweCategory as Cat, CweTop25of2024 as Top25, CweWeakness as Weak};

/// The mapping, one row per reference (see the module docs for the categories' meaning).
pub const MAPPING: &[Row] = &[
    // CWE Top 25 (2024), in rank order.
    cwe(79, "TI", Top25, "XSS: input modifies the page the victim runs; CWE lists reading session data"),
    cwe(787, "TDE", Top25, "out-of-bounds write: modifies memory, crashes, can execute code"),
    cwe(89, "TI", Top25, "SQL injection: modifies and reads application data (CWE consequences)"),
    cwe(352, "S", Top25, "CSRF: the server takes a forged request as the victim's own"),
    cwe(22, "TI", Top25, "path traversal: reads or overwrites files outside the allowed directory"),
    cwe(125, "ID", Top25, "out-of-bounds read: reads memory it should not, or crashes"),
    cwe(78, "TE", Top25, "OS command injection: runs commands with the product's privileges"),
    cwe(416, "TDE", Top25, "use after free: corrupts memory, crashes, can execute code"),
    cwe(862, "E", Top25, "missing authorization: acts without the privilege being checked"),
    cwe(434, "TE", Top25, "unrestricted upload: a dangerous file is stored and may be executed"),
    cwe(94, "TE", Top25, "code injection: input becomes code run with the product's privileges"),
    cwe(20, "T", Top25, "improper input validation: unchecked input alters data or control flow"),
    cwe(77, "TE", Top25, "command injection: input changes the command the product runs"),
    cwe(287, "S", Top25, "improper authentication: an identity claim is accepted unproven"),
    cwe(269, "E", Top25, "improper privilege management: an actor gains unintended privileges"),
    cwe(502, "TE", Top25, "deserialization of untrusted data: objects or code the attacker shapes"),
    cwe(200, "I", Top25, "exposure of sensitive information to an unauthorized actor"),
    cwe(863, "E", Top25, "incorrect authorization: the check lets the actor do more than allowed"),
    cwe(918, "SI", Top25, "SSRF: requests go out under the server's identity and reach internal data"),
    cwe(119, "TIDE", Top25, "memory buffer bounds: reads or writes outside the buffer"),
    cwe(476, "D", Top25, "NULL pointer dereference: CWE lists a crash (DoS) as the consequence"),
    cwe(798, "SI", Top25, "hard-coded credentials: anyone with the code can authenticate as it"),
    cwe(190, "TD", Top25, "integer overflow: wrong sizes corrupt data or exhaust resources"),
    cwe(400, "D", Top25, "uncontrolled resource consumption"),
    cwe(306, "S", Top25, "missing authentication for a critical function"),
    // Weaknesses outside the Top 25 that annotations commonly cite.
    cwe(307, "S", Weak, "excessive authentication attempts: brute force against authentication"),
    cwe(208, "I", Weak, "observable timing discrepancy: timing reveals security-relevant data"),
    cwe(311, "I", Weak, "missing encryption of sensitive data"),
    cwe(319, "I", Weak, "cleartext transmission of sensitive information"),
    cwe(327, "I", Weak, "broken or risky cryptographic algorithm: protected data can be read"),
    cwe(384, "S", Weak, "session fixation: the attacker's session becomes the victim's"),
    cwe(601, "S", Weak, "open redirect: a trusted site sends the user to the attacker's"),
    cwe(611, "I", Weak, "XXE: external entities read local files or internal resources"),
    cwe(639, "E", Weak, "authorization bypass through a user-controlled key (IDOR)"),
    cwe(770, "D", Weak, "allocation of resources without limits"),
    cwe(778, "R", Weak, "insufficient logging: actions cannot be traced to their actor"),
    cwe(117, "RT", Weak, "log injection: forged or altered log entries"),
    cwe(204, "I", Weak, "observable response discrepancy: responses reveal which accounts exist"),
    cwe(916, "I", Weak, "weak password hashing: stolen hashes are cracked, revealing passwords"),
    cwe(614, "I", Weak, "cookie without Secure: the session cookie travels in cleartext"),
    cwe(359, "I", Weak, "exposure of private personal information"),
    cwe(312, "I", Weak, "cleartext storage of sensitive information"),
    cwe(532, "I", Weak, "sensitive information written to a log"),
    cwe(295, "S", Weak, "improper certificate validation: a peer can impersonate the server"),
    cwe(521, "S", Weak, "weak password requirements: passwords are guessed"),
    cwe(613, "S", Weak, "insufficient session expiration: an old session is reused"),
    cwe(284, "E", Weak, "improper access control"),
    cwe(285, "E", Weak, "improper authorization"),
    cwe(345, "T", Weak, "insufficient verification of data authenticity: forged data is accepted"),
    cwe(347, "T", Weak, "improper verification of a cryptographic signature"),
    cwe(248, "D", Weak, "uncaught exception: CWE lists a crash or exit (DoS) as the consequence"),
    cwe(1333, "D", Weak, "inefficient regular expression (ReDoS)"),
    cwe(1321, "TE", Weak, "prototype pollution: modifies object prototypes, can lead to code execution"),
    // CWE-699 categories (a reference to the category itself).
    cwe(1211, "S", Cat, "category Authentication Errors"),
    cwe(1212, "E", Cat, "category Authorization Errors"),
    cwe(1210, "R", Cat, "category Audit / Logging Errors"),
    cwe(255, "S", Cat, "category Credentials Management Errors"),
    cwe(310, "I", Cat, "category Cryptographic Issues"),
    cwe(399, "D", Cat, "category Resource Management Errors"),
    cwe(1218, "TDE", Cat, "category Memory Buffer Errors"),
    cwe(1219, "TI", Cat, "category File Handling Issues"),
    cwe(1217, "S", Cat, "category User Session Errors"),
    cwe(1214, "T", Cat, "category Data Integrity Issues"),
    cwe(199, "I", Cat, "category Information Management Errors"),
    cwe(137, "T", Cat, "category Data Neutralization Issues"),
    // OWASP Top 10 2021.
    owasp(1, "EI", "Broken Access Control: acting or reading beyond one's permissions"),
    owasp(2, "I", "Cryptographic Failures: exposure of sensitive data"),
    owasp(3, "TI", "Injection: input changes queries or commands (SQLi, XSS, command injection)"),
    owasp(4, "", "Insecure Design: a design flaw of any kind; no one category, so unclassified"),
    owasp(5, "", "Security Misconfiguration: any category depending on the setting; unclassified"),
    owasp(6, "", "Vulnerable and Outdated Components: depends on the component's flaw; unclassified"),
    owasp(7, "S", "Identification and Authentication Failures"),
    owasp(8, "T", "Software and Data Integrity Failures: unverified code or data is trusted"),
    owasp(9, "R", "Security Logging and Monitoring Failures: actions cannot be traced"),
    owasp(10, "SI", "Server-Side Request Forgery (as CWE-918)"),
];

/// The STRIDE categories of a set of external references by the rule in the module docs;
/// empty when the threat is unclassified.
pub fn stride_of<'a>(refs: impl IntoIterator<Item = &'a str>) -> std::collections::BTreeSet<Stride> {
    let mut explicit = std::collections::BTreeSet::new();
    let mut mapped = std::collections::BTreeSet::new();
    for r in refs {
        let lower = r.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("stride:") {
            if let Some(s) = Stride::from_word(v) {
                explicit.insert(s);
            } else if v.chars().all(|c| Stride::from_letter(c).is_some()) {
                explicit.extend(v.chars().filter_map(Stride::from_letter));
            }
            continue;
        }
        let key = match (cwe_number(&lower), owasp_2021(&lower)) {
            (Some(n), _) => Key::Cwe(n),
            (None, Some(n)) => Key::Owasp2021(n),
            _ => continue,
        };
        if let Some(row) = MAPPING.iter().find(|row| row.key == key) {
            mapped.extend(row.letters.chars().filter_map(Stride::from_letter));
        }
    }
    if explicit.is_empty() { mapped } else { explicit }
}

/// `cwe:CWE-89`, `CWE-89`, `cwe:89` -> 89.
fn cwe_number(lower: &str) -> Option<u32> {
    let rest = lower.strip_prefix("cwe:").unwrap_or(lower);
    let rest = rest.strip_prefix("cwe-").or_else(|| lower.strip_prefix("cwe:"))?;
    rest.parse().ok()
}

/// `owasp:A03:2021`, `owasp:A03`, `owasp:A3`, `owasp:A03_2021` -> 3; another year (the 2017
/// list numbers other categories) -> none.
fn owasp_2021(lower: &str) -> Option<u8> {
    let rest = lower.strip_prefix("owasp:")?.strip_prefix('a')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let n: u8 = rest[..digits].parse().ok()?;
    let year = rest[digits..].trim_start_matches([':', '_', '-', ' ']);
    ((1..=10).contains(&n) && (year.is_empty() || year.starts_with("2021"))).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn letters(refs: &[&str]) -> String {
        stride_of(refs.iter().copied()).iter().map(|s| s.letter()).collect()
    }

    fn rows(source: Source) -> impl Iterator<Item = &'static Row> {
        MAPPING.iter().filter(move |r| r.source == source)
    }

    #[test]
    fn explicit_stride_wins_and_may_name_several() {
        assert_eq!(letters(&["cwe:CWE-639", "stride:E"]), "E");
        assert_eq!(letters(&["stride:information-disclosure"]), "I");
        assert_eq!(letters(&["stride:SD", "cwe:CWE-89"]), "SD");
    }

    #[test]
    fn no_evidence_is_unclassified_never_tampering() {
        assert_eq!(stride_of([]), BTreeSet::new());
        assert_eq!(letters(&["cwe:CWE-99999", "capec:CAPEC-66"]), "");
        // The three the issue found counted as Tampering by default.
        assert_eq!(letters(&["cwe:CWE-918"]), "SI");
        assert_eq!(letters(&["CWE-307"]), "S");
        assert_eq!(letters(&["cwe:208"]), "I");
    }

    #[test]
    fn every_row_is_well_formed_unique_and_explained() {
        for (i, row) in MAPPING.iter().enumerate() {
            assert!(row.letters.chars().all(|c| Stride::from_letter(c).is_some()), "{}", row.why);
            assert!(row.why.len() > 10, "row {i} explains its choice");
            assert!(MAPPING[..i].iter().all(|r| r.key != row.key), "duplicate row for {:?}", row.key);
        }
    }

    #[test]
    fn cwe_top_25_of_2024_is_mapped_in_rank_order() {
        // MITRE, "2024 CWE Top 25 Most Dangerous Software Weaknesses", ranks 1 to 25.
        const TOP_25_2024: [u32; 25] = [
            79, 787, 89, 352, 22, 125, 78, 416, 862, 434, 94, 20, 77, 287, 269, 502, 200, 863, 918, 119, 476,
            798, 190, 400, 306,
        ];
        let mapped: Vec<u32> = rows(Source::CweTop25of2024)
            .map(|r| match r.key {
                Key::Cwe(n) => n,
                Key::Owasp2021(_) => panic!("OWASP row marked as CWE"),
            })
            .collect();
        assert_eq!(mapped, TOP_25_2024);
        for n in TOP_25_2024 {
            assert_ne!(letters(&[&format!("cwe:CWE-{n}")]), "", "CWE-{n} is classified");
        }
        // Spot checks against Microsoft's definitions.
        assert_eq!(letters(&["cwe:CWE-287"]), "S");
        assert_eq!(letters(&["cwe:CWE-400"]), "D");
        assert_eq!(letters(&["cwe:CWE-862"]), "E");
        assert_eq!(letters(&["cwe:CWE-200"]), "I");
    }

    #[test]
    fn cwe_weaknesses_and_categories_map() {
        assert!(rows(Source::CweWeakness).all(|r| !r.letters.is_empty()));
        assert!(rows(Source::CweCategory).all(|r| r.why.starts_with("category ")));
        assert_eq!(letters(&["cwe:CWE-778"]), "R");
        // GuardLink's expense-api cites CWE-248 for a 500 on malformed input.
        assert_eq!(letters(&["cwe:CWE-248"]), "D");
        assert_eq!(letters(&["cwe:CWE-1211"]), "S");
        assert_eq!(letters(&["cwe:CWE-1210"]), "R");
    }

    #[test]
    fn owasp_top_10_of_2021_categories_are_all_listed() {
        let listed: Vec<u8> = rows(Source::OwaspTop10of2021)
            .map(|r| match r.key {
                Key::Owasp2021(n) => n,
                Key::Cwe(_) => panic!("CWE row marked as OWASP"),
            })
            .collect();
        assert_eq!(listed, (1..=10).collect::<Vec<u8>>());
        assert_eq!(letters(&["owasp:A03:2021"]), "TI");
        assert_eq!(letters(&["owasp:A3"]), "TI");
        assert_eq!(letters(&["owasp:A07_2021"]), "S");
        assert_eq!(letters(&["owasp:A10:2021"]), "SI");
        // Too broad for one category: unclassified, and the reason is in the row.
        assert_eq!(letters(&["owasp:A04:2021"]), "");
        // The 2017 list numbers other categories (A03:2017 is Sensitive Data Exposure).
        assert_eq!(letters(&["owasp:A03:2017"]), "");
    }

    #[test]
    fn the_built_in_library_lists_every_mapped_reference_and_takes_its_categories_from_here() {
        use crate::model::library::Library;
        let lib = Library::builtin();
        for row in MAPPING {
            let (id, r) = match row.key {
                Key::Cwe(n) => (format!("cwe-{n}"), format!("cwe:CWE-{n}")),
                Key::Owasp2021(n) => (format!("owasp-a{n:02}"), format!("owasp:A{n:02}:2021")),
            };
            let entry = lib.get(&id).unwrap_or_else(|| panic!("{id} is in the built-in library"));
            assert_eq!(entry.refs, [r], "{id}: the entry's reference is the mapped one");
            let row_set: BTreeSet<Stride> = row.letters.chars().filter_map(Stride::from_letter).collect();
            assert_eq!(stride_of(entry.refs.iter().map(String::as_str)), row_set, "{id}");
        }
        let stride: Vec<&str> =
            lib.entries().iter().filter(|e| e.id.starts_with("stride-")).map(|e| e.id.as_str()).collect();
        assert_eq!(stride.len(), 6);
        for (s, id) in Stride::ALL.iter().zip(&stride) {
            let entry = lib.get(id).unwrap();
            assert_eq!(entry.name, s.name());
            assert_eq!(stride_of(entry.refs.iter().map(String::as_str)), BTreeSet::from([*s]));
        }
        // Nothing else: 6 categories and one entry per row of the mapping.
        assert_eq!(lib.entries().len(), 6 + MAPPING.len());
    }

    #[test]
    fn several_references_unite() {
        assert_eq!(letters(&["cwe:CWE-287", "cwe:CWE-400"]), "SD");
    }
}
