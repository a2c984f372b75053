//! Unit tests of the model diff: two small projects built from text, one test per change
//! class, and the matching rules (moved annotations, renamed ids, roots).

use super::*;
use crate::model::ProjectIndex;
use crate::syntax::Language;
use std::path::Path;
use std::sync::Arc;

/// An index of `files` (`(path, text)`, the language from the path); the render tests use it too.
pub(crate) fn project(files: &[(&str, &str)]) -> ProjectIndex {
    let mut index = ProjectIndex::default();
    for (path, text) in files {
        let language = Language::from_path(Path::new(path)).expect("a known language");
        index.set_file(Arc::new(FileFacts::new(FileId::relative(*path), language, Arc::from(*text))));
    }
    index
}

/// Assets under `dmz.` are in the trust boundary "DMZ", the rest in none.
fn zone(e: &EntityKey) -> Option<String> {
    e.key.starts_with("dmz.").then(|| "DMZ".to_string())
}

fn diff_with_roots(base: &[(&str, &str)], base_root: &str, head: &[(&str, &str)]) -> ModelDiff {
    let (bi, hi) = (project(base), project(head));
    let (ba, ha) = (Analysis::new(&bi), Analysis::new(&hi));
    let (bd, hd) = (ba.diagnostics(&bi), ha.diagnostics(&hi));
    let b = Side { index: &bi, analysis: &ba, diagnostics: &bd, root: base_root, zone: &zone };
    let h = Side { index: &hi, analysis: &ha, diagnostics: &hd, root: "", zone: &zone };
    ModelDiff::between(&b, &h)
}

fn diff(base: &[(&str, &str)], head: &[(&str, &str)]) -> ModelDiff {
    diff_with_roots(base, "", head)
}

/// `class: message @ side:file:line`, most severe first, without diagnostic changes (which
/// unused definitions in these small projects would add).
fn shown(d: &ModelDiff) -> Vec<String> {
    d.changes
        .iter()
        .filter(|c| !matches!(c.class, Class::DiagnosticAdded | Class::DiagnosticResolved))
        .map(|c| {
            let at =
                c.place.as_ref().map_or(String::new(), |p| format!(" @ {:?}:{}:{}", p.side, p.file, p.line));
            format!("{}: {}{at}", c.class.as_str(), c.message.plain())
        })
        .collect()
}

const DEFS: &str =
    "# @asset App.Db (#db)\n# @threat SQL injection (#sqli) [high]\n# @control Prepared statements (#ps)\n";

#[test]
fn nothing_changed_is_an_empty_diff() {
    let files = [
        ("defs.py", DEFS),
        ("app.py", "# @exposes #db to #sqli\n# @mitigates #db against #sqli using #ps\n"),
    ];
    let d = diff(&files, &files);
    assert!(d.changes.is_empty(), "{:#?}", shown(&d));
    assert_eq!(d.summary, DiffSummary::default());
}

#[test]
fn new_unmitigated_exposures_come_most_severe_first() {
    let base = [("defs.py", DEFS)];
    let head = [
        ("defs.py", DEFS),
        (
            "app.py",
            "# @exposes #db to #sqli [low]\n# @exposes #db to XSS [critical]\n# @exposes #db to CSRF\n",
        ),
    ];
    let d = diff(&base, &head);
    let new: Vec<String> = shown(&d).into_iter().filter(|s| s.starts_with("new-unmitigated")).collect();
    assert_eq!(
        new,
        [
            "new-unmitigated-exposure: `App.Db` exposed to `XSS`, nothing covers it @ Head:app.py:2",
            "new-unmitigated-exposure: `App.Db` exposed to `CSRF`, nothing covers it @ Head:app.py:3",
            "new-unmitigated-exposure: `App.Db` exposed to `SQL injection`, nothing covers it @ Head:app.py:1",
        ]
    );
    let first = &d.changes[0];
    assert_eq!(
        (first.impact, first.severity.as_ref().map(|s| s.word.as_str())),
        (Impact::RiskIncrease, Some("critical"))
    );
    assert_eq!(d.summary.open_exposures_head, 3);
    assert_eq!(d.summary.by_class["new-unmitigated-exposure"], 3);
    assert!(d.has_risk_increase());
}

#[test]
fn a_new_exposure_that_is_covered_is_not_a_risk_increase() {
    let base = [("defs.py", DEFS)];
    let head = [
        ("defs.py", DEFS),
        ("app.py", "# @exposes #db to #sqli\n# @mitigates #db against #sqli using #ps\n"),
    ];
    let d = diff(&base, &head);
    assert_eq!(
        shown(&d),
        [
            "mitigation-added: `SQL injection` on `App.Db` using `Prepared statements` @ Head:app.py:2",
            "exposure-added: `App.Db` exposed to `SQL injection`, already `mitigated` @ Head:app.py:1",
        ]
    );
    assert!(!d.has_risk_increase());
    assert_eq!(d.changes[1].resolution, Some(Resolution::Mitigated));
}

#[test]
fn a_removed_mitigation_is_a_defence_removed_with_the_lost_cover() {
    let base = [
        ("defs.py", DEFS),
        ("app.py", "# @exposes #db to #sqli\n\n# @mitigates #db against #sqli using #ps\n"),
    ];
    let head = [("defs.py", DEFS), ("app.py", "# @exposes #db to #sqli\n")];
    let d = diff(&base, &head);
    assert_eq!(
        shown(&d),
        [
            "defence-removed: `App.Db` exposed to `SQL injection` was `mitigated`, now open @ Head:app.py:1",
            "mitigation-removed: `SQL injection` on `App.Db` using `Prepared statements` @ Base:app.py:3",
        ]
    );
    let c = &d.changes[0];
    assert_eq!(c.impact, Impact::RiskIncrease);
    assert_eq!(c.resolution, Some(Resolution::Mitigated), "what it was");
    assert_eq!(c.related.len(), 1);
    assert_eq!((c.related[0].place.side, c.related[0].place.line), (Which::Base, 3));
    assert_eq!(c.related[0].message.plain(), "was mitigated here by `#ps`");
}

#[test]
fn a_removed_control_definition_leaves_the_mitigation_and_its_coverage() {
    // The mitigation still names `#ps`, which now dangles: the exposure stays covered (the
    // coverage rule compares asset and threat), and the dangling reference is new.
    let base = [
        ("defs.py", DEFS),
        ("app.py", "# @exposes #db to #sqli\n# @mitigates #db against #sqli using #ps\n"),
    ];
    let defs = DEFS.replace("# @control Prepared statements (#ps)\n", "");
    let head = [("defs.py", defs.as_str()), ("app.py", base[1].1)];
    let d = diff(&base, &head);
    let classes: Vec<Class> = d.changes.iter().map(|c| c.class).collect();
    assert!(classes.contains(&Class::DiagnosticAdded), "{:#?}", shown(&d));
    assert!(classes.contains(&Class::EntityRemoved), "{:#?}", shown(&d));
    assert!(!classes.contains(&Class::DefenceRemoved), "{:#?}", shown(&d));
}

#[test]
fn exposures_resolved_say_how() {
    let open = [("defs.py", DEFS), ("app.py", "# @exposes #db to #sqli\n")];
    for (added, resolution, governance) in [
        ("# @mitigates #db against #sqli using #ps\n", Resolution::Mitigated, None),
        (
            "# @accepts #sqli on #db -- \"read-only replica\"\n",
            Resolution::Accepted,
            Some(Class::AcceptanceAdded),
        ),
        ("# @transfers #sqli from #db to App.Waf\n", Resolution::Transferred, Some(Class::TransferAdded)),
    ] {
        let text = format!("# @exposes #db to #sqli\n{added}");
        let head = [("defs.py", DEFS), ("app.py", text.as_str())];
        let d = diff(&open, &head);
        let resolved: Vec<&Change> = d.of_class(Class::ExposureResolved).collect();
        assert_eq!(resolved.len(), 1, "{:#?}", shown(&d));
        assert_eq!(resolved[0].resolution, Some(resolution));
        assert_eq!(resolved[0].impact, Impact::RiskDecrease);
        assert!(!d.has_risk_increase(), "{:#?}", shown(&d));
        if let Some(class) = governance {
            let event: Vec<&Change> = d.of_class(class).collect();
            assert_eq!(event.len(), 1, "{:#?}", shown(&d));
            assert_eq!(event[0].impact, Impact::Review, "a governance event is for review");
            // Reviewers see the governance event before the resolution it brings.
            let pos = |c: Class| d.changes.iter().position(|x| x.class == c).unwrap();
            assert!(pos(class) < pos(Class::ExposureResolved));
            if class == Class::AcceptanceAdded {
                assert_eq!(event[0].note.as_deref(), Some("read-only replica"));
            }
        }
    }
    let d = diff(&open, &[("defs.py", DEFS)]);
    let resolved: Vec<&Change> = d.of_class(Class::ExposureResolved).collect();
    assert_eq!(resolved[0].resolution, Some(Resolution::Removed));
    assert_eq!(
        resolved[0].place.as_ref().unwrap().side,
        Which::Base,
        "a removed exposure is shown where it was"
    );
}

#[test]
fn a_mitigation_replaced_by_an_acceptance_is_for_review() {
    let base = [
        ("defs.py", DEFS),
        ("app.py", "# @exposes #db to #sqli\n# @mitigates #db against #sqli using #ps\n"),
    ];
    let head = [("defs.py", DEFS), ("app.py", "# @exposes #db to #sqli\n# @accepts #sqli on #db\n")];
    let d = diff(&base, &head);
    let changed: Vec<&Change> = d.of_class(Class::CoverageChanged).collect();
    assert_eq!(changed.len(), 1, "{:#?}", shown(&d));
    assert_eq!((changed[0].impact, changed[0].resolution), (Impact::Review, Some(Resolution::Accepted)));
    assert_eq!(
        changed[0].message.plain(),
        "`App.Db` exposed to `SQL injection` was `mitigated`, now `accepted`"
    );
    assert!(!d.has_risk_increase());
}

#[test]
fn severity_changes_use_the_effective_severity() {
    let base = [("defs.py", DEFS), ("app.py", "# @exposes #db to #sqli\n# @exposes #db to XSS [P2]\n")];
    // The threat's definition goes from high to critical (the first exposure inherits it);
    // the second exposure's own severity drops from P2 (medium) to low.
    let defs = DEFS.replace("[high]", "[critical]");
    let head =
        [("defs.py", defs.as_str()), ("app.py", "# @exposes #db to #sqli\n# @exposes #db to XSS [low]\n")];
    let d = diff(&base, &head);
    assert_eq!(
        shown(&d),
        [
            "severity-raised: `App.Db` exposed to `SQL injection`: severity `high` -> `critical` @ Head:app.py:1",
            "severity-lowered: `App.Db` exposed to `XSS`: severity `P2` -> `low` @ Head:app.py:2",
        ]
    );
    assert_eq!(d.changes[0].impact, Impact::RiskIncrease);
    assert_eq!(d.changes[0].previous_severity.as_ref().map(|s| s.level), Some(Severity::High));
    assert_eq!(d.changes[1].impact, Impact::Review, "lowering an open exposure's severity is for review");
    // On a covered exposure the same changes weigh nothing.
    let covered = |t: &str| format!("{t}# @mitigates #db against #sqli\n# @mitigates #db against #xss\n");
    let (b, h) = (covered(base[1].1), covered(head[1].1));
    let d = diff(&[("defs.py", DEFS), ("app.py", &b)], &[("defs.py", &defs), ("app.py", &h)]);
    assert!(d.changes.iter().all(|c| c.impact == Impact::Neutral), "{:#?}", shown(&d));
}

#[test]
fn confirmed_findings_new_and_resolved() {
    let base = [("defs.py", DEFS), ("a.py", "# @confirmed XSS on #db\n")];
    let head = [("defs.py", DEFS), ("a.py", "# @confirmed #sqli on #db\n")];
    let d = diff(&base, &head);
    assert_eq!(
        shown(&d),
        [
            "new-confirmed-finding: `SQL injection` on `App.Db` @ Head:a.py:1",
            "entity-removed: threat `XSS` @ Base:a.py:1",
            "finding-resolved: `XSS` on `App.Db` @ Base:a.py:1",
        ]
    );
    assert_eq!(d.changes[0].rank, 169, "a confirmed high finding outranks everything else");
}

#[test]
fn flows_say_whether_they_cross_a_trust_boundary() {
    let base = [("a.py", "# @flows Internet -> App.Web via HTTPS\n")];
    let head = [(
        "a.py",
        "# @flows Internet -> App.Web via HTTP\n# @flows App.Web -> Dmz.Api via gRPC\n# @flows App.Web -> App.Cache\n",
    )];
    let d = diff(&base, &head);
    assert_eq!(
        shown(&d),
        [
            "flow-added: `App.Web` -> `Dmz.Api` via `gRPC`, crossing trust boundary `DMZ` @ Head:a.py:2",
            "flow-added: `Internet` -> `App.Web` via `HTTP` @ Head:a.py:1",
            "flow-added: `App.Web` -> `App.Cache` @ Head:a.py:3",
            "flow-removed: `Internet` -> `App.Web` via `HTTPS` @ Base:a.py:1",
            "entity-added: asset `Dmz.Api` @ Head:a.py:2",
            "entity-added: asset `App.Cache` @ Head:a.py:3",
        ]
    );
    let crossing = &d.changes[0];
    assert_eq!(crossing.impact, Impact::RiskIncrease);
    assert_eq!(crossing.crosses, Some((None, Some("DMZ".to_string()))));
    assert!(d.changes[1..].iter().all(|c| !c.is_risk_increase()));
}

#[test]
fn entities_and_boundaries_added_and_removed() {
    let base =
        [("a.py", "# @asset App.Old\n# @boundary between Internet and App.Web\n# @control Waf (#waf)\n")];
    let head = [("a.py", "# @asset App.New\n# @threat Spoofing (#spoof)\n")];
    let d = diff(&base, &head);
    assert_eq!(
        shown(&d),
        [
            "entity-removed: trust boundary `Internet | App.Web` @ Base:a.py:2",
            "entity-added: asset `App.New` @ Head:a.py:1",
            "entity-added: threat `Spoofing` @ Head:a.py:2",
            "entity-removed: asset `App.Old` @ Base:a.py:1",
            "entity-removed: asset `Internet` @ Base:a.py:2",
            "entity-removed: asset `App.Web` @ Base:a.py:2",
            "entity-removed: control `Waf` @ Base:a.py:3",
        ]
    );
    assert_eq!(d.changes[0].impact, Impact::Review);
    // A boundary with an id is an entity of kind boundary.
    let d = diff(
        &[("a.py", "# @boundary between Internet and App.Web (#edge)\n")],
        &[("a.py", "# @asset Internet\n# @asset App.Web\n")],
    );
    let removed: Vec<&Change> = d.of_class(Class::EntityRemoved).collect();
    assert_eq!(removed.len(), 1, "{:#?}", shown(&d));
    assert_eq!((removed[0].entity_kind, removed[0].impact), (Some(EntityKind::Boundary), Impact::Review));
}

#[test]
fn moving_annotations_between_files_changes_nothing() {
    let base = [
        ("defs.py", DEFS),
        (
            "a.py",
            "# @exposes #db to #sqli\n# @flows App.Web -> #db\n# @accepts XSS on #db\n# @exposes #db to #nope\n",
        ),
        ("b.py", "# @mitigates #db against #sqli using #ps\n"),
    ];
    let head = [
        (
            "defs.gal",
            "@asset App.Db (#db)\n@threat SQL injection (#sqli) [high]\n@control Prepared statements (#ps)\n",
        ),
        ("c/moved.py", "\n\n# @mitigates #db against #sqli using #ps\n# @exposes #db to #sqli\n"),
        ("d.py", "# @accepts XSS on #db\n#   @flows App.Web -> #db\n"),
        ("a.py", "# @exposes #db to #nope\n"),
    ];
    let d = diff(&base, &head);
    let all: Vec<String> = d.changes.iter().map(|c| c.message.plain()).collect();
    assert!(d.changes.is_empty(), "{all:#?}");
}

#[test]
fn a_renamed_id_is_one_entity() {
    // What the language server's rename does: the id changes everywhere, the name stays.
    let base =
        [("defs.py", DEFS), ("a.py", "# @exposes #db to #sqli\n# @mitigates #db against #sqli using #ps\n")];
    let renamed = |t: &str| t.replace("#sqli", "#sql-inj");
    let (defs, a) = (renamed(DEFS), renamed(base[1].1));
    let head = [("defs.py", defs.as_str()), ("a.py", a.as_str())];
    let d = diff(&base, &head);
    assert_eq!(
        shown(&d),
        ["entity-renamed: threat `SQL injection` is now `#sql-inj` (was `#sqli`) @ Head:defs.py:2"]
    );
    // An id given to an entity known by name is the same entity too.
    let base = [("a.py", "# @threat Spoofing\n# @exposes App to Spoofing\n")];
    let head = [("a.py", "# @threat Spoofing (#spoof)\n# @exposes App to #spoof\n")];
    let d = diff(&base, &head);
    assert_eq!(
        shown(&d),
        ["entity-renamed: threat `Spoofing` is now `#spoof` (was `spoofing`) @ Head:a.py:1"]
    );
}

#[test]
fn new_and_resolved_diagnostics() {
    let base = [("defs.py", DEFS), ("a.py", "# @mitigates #db against #sqli using #nope\n")];
    let head = [
        ("defs.py", DEFS),
        ("a.py", "# @mitigates #db against #sqli using #ps\n# @exposes #db to #xss-typo\n"),
    ];
    let d = diff(&base, &head);
    let diags: Vec<String> = d
        .changes
        .iter()
        .filter(|c| c.code == Some(Code::DanglingReference))
        .map(|c| {
            format!(
                "{}: {} @ {:?}:{}:{}",
                c.class.as_str(),
                c.message.plain(),
                c.place.as_ref().unwrap().side,
                c.place.as_ref().unwrap().file,
                c.place.as_ref().unwrap().line
            )
        })
        .collect();
    assert_eq!(diags.len(), 2, "{:#?}", shown(&d));
    assert!(diags[0].starts_with("diagnostic-added: `dangling-reference`: `"), "{diags:?}");
    assert!(diags[0].ends_with("@ Head:a.py:2"), "{diags:?}");
    assert!(diags[1].starts_with("diagnostic-resolved: `dangling-reference`"), "{diags:?}");
    let added = d.of_class(Class::DiagnosticAdded).next().unwrap();
    assert_eq!(
        (added.code, added.level, added.impact),
        (Some(Code::DanglingReference), Some(Level::Error), Impact::Review)
    );
    // unmitigated-exposure diagnostics are the exposure classes, not diagnostics.
    let d = diff(&[("defs.py", DEFS)], &[("defs.py", DEFS), ("a.py", "# @exposes #db to #sqli\n")]);
    assert_eq!(d.of_class(Class::DiagnosticAdded).count(), 0, "{:#?}", shown(&d));
}

#[test]
fn several_exposures_of_one_pair_pair_up_by_place() {
    let base =
        [("defs.py", DEFS), ("a.py", "# @exposes #db to #sqli\n"), ("b.py", "# @exposes #db to #sqli\n")];
    let head = [
        ("defs.py", DEFS),
        ("a.py", "# @exposes #db to #sqli\n"),
        ("b.py", "\n# @exposes #db to #sqli\n"),
        ("c.py", "# @exposes #db to #sqli [critical]\n"),
    ];
    let d = diff(&base, &head);
    assert_eq!(
        shown(&d),
        ["new-unmitigated-exposure: `App.Db` exposed to `SQL injection`, nothing covers it @ Head:c.py:1"]
    );
}

#[test]
fn the_root_is_stripped_before_paths_are_compared() {
    let dangling = "# @exposes App to #nope\n";
    let base = [("/snap/x/defs.py", DEFS), ("/snap/x/a.py", dangling)];
    let head = [("defs.py", DEFS), ("a.py", dangling), ("b.py", dangling)];
    let d = diff_with_roots(&base, "/snap/x/", &head);
    let files = |d: &ModelDiff| -> Vec<(Class, String)> {
        d.changes.iter().map(|c| (c.class, c.place.as_ref().unwrap().file.clone())).collect()
    };
    assert_eq!(files(&d), [(Class::DiagnosticAdded, "b.py".to_string())]);
    let d = diff_with_roots(&base, "/snap/x/", &[("defs.py", DEFS), ("a.py", "")]);
    assert!(files(&d).contains(&(Class::DiagnosticResolved, "a.py".to_string())), "{:?}", files(&d));
}

mod joined_keys {
    use super::super::Joined;
    use proptest::prelude::*;
    use std::hash::{BuildHasher, Hash};

    /// Parts drawn from a small alphabet with NUL, so prefixes, equal parts and NULs inside
    /// parts are common.
    fn part() -> impl Strategy<Value = String> {
        proptest::collection::vec(prop_oneof![Just('\0'), Just('a'), Just('b'), Just('é')], 0..4)
            .prop_map(|chars| chars.into_iter().collect())
    }

    fn hash(key: &Joined<'_, 3>) -> u64 {
        let mut state = rustc_hash::FxBuildHasher.build_hasher();
        key.hash(&mut state);
        std::hash::Hasher::finish(&state)
    }

    proptest! {
        /// `Joined` orders and equals as the NUL-joined strings it stands for (the keys the
        /// comparison used to build), and equal keys hash equal.
        #[test]
        fn joined_compares_as_the_joined_string(x in [part(), part(), part()], y in [part(), part(), part()]) {
            let (jx, jy) = (Joined([&*x[0], &*x[1], &*x[2]]), Joined([&*y[0], &*y[1], &*y[2]]));
            let (sx, sy) = (x.join("\0"), y.join("\0"));
            prop_assert_eq!(jx.cmp(&jy), sx.cmp(&sy));
            prop_assert_eq!(jx == jy, sx == sy);
            if jx == jy {
                prop_assert_eq!(hash(&jx), hash(&jy));
            }
        }
    }
}

/// The comparison reads an exposure's severity level without its word: the same answer as the
/// severity rule's, stated or inherited, for exposures and findings.
#[test]
fn severity_levels_are_the_severity_rule() {
    let index = project(&[
        ("defs.py", DEFS),
        (
            "app.py",
            "# @exposes #db to #sqli [P1]\n# @exposes #db to #sqli\n# @exposes #db to XSS\n\
             # @confirmed #sqli on #db [low]\n# @exposes #db to XSS [critical]\n",
        ),
    ]);
    let analysis = Analysis::new(&index);
    let facts = index.file("app.py").unwrap();
    let mut levels = Vec::new();
    for (i, ann) in facts.annotations().iter().enumerate() {
        let Some((_, threat)) = analysis.relation(facts, i).and_then(|r| r.asset_and_threat()) else {
            continue;
        };
        let level = analysis.exposure_severity_level(ann, threat.entity());
        assert_eq!(level, analysis.exposure_severity(facts, ann, threat.entity()).map(|s| s.value));
        levels.push(level);
    }
    use Severity::*;
    assert_eq!(levels, [Some(High), Some(High), None, Some(Low), Some(Critical)]);
}

#[test]
fn a_boundary_with_an_id_that_separates_other_sides_is_a_change() {
    let defs = "# @asset Web (#web)\n# @asset Db (#db)\n# @asset Cache (#cache)\n";
    let with = |line: &str| format!("{defs}{line}\n");
    let changed = |base: &str, head: &str| -> Vec<String> {
        let d = diff(&[("a.py", &with(base))], &[("a.py", &with(head))]);
        let moved: Vec<&Change> = d.of_class(Class::BoundaryChanged).collect();
        for c in &moved {
            assert_eq!((c.impact, c.entity_kind), (Impact::Review, Some(EntityKind::Boundary)));
        }
        shown(&d)
    };
    let edge = "# @boundary between #web and #db (#edge)";
    assert!(changed(edge, edge).is_empty());
    // Sides of an undirected boundary are a set.
    assert!(changed(edge, "# @boundary between #db and #web (#edge)").is_empty());
    assert_eq!(
        changed(edge, "# @boundary between #web and #cache (#edge)"),
        ["boundary-changed: trust boundary `#edge` is now `Web | Cache` (was `Web | Db`) @ Head:a.py:4"]
    );
    assert_eq!(
        changed(edge, "# @boundary from #web to #db (#edge)"),
        ["boundary-changed: trust boundary `#edge` is now `from Web to Db` (was `Web | Db`) @ Head:a.py:4"]
    );
    assert_eq!(
        changed("# @boundary from #web to #db (#edge)", "# @boundary from #db to #web (#edge)"),
        [
            "boundary-changed: trust boundary `#edge` is now `from Db to Web` (was `from Web to Db`) @ Head:a.py:4"
        ]
    );
    // A renamed id with the same sides is a rename, not a moved boundary.
    let renamed = changed(edge, "# @boundary between #web and #db (#perimeter)");
    assert!(renamed.iter().all(|c| !c.starts_with("boundary-changed")), "{renamed:#?}");
    // Without an id, swapped sides are the same boundary too.
    assert!(changed("# @boundary between #web and #db", "# @boundary between #db and #web").is_empty());
}
