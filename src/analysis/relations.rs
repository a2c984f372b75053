//! Relations: what one annotation says, with its arguments by name.
//!
//! Owns: [`Relation`], the typed view of an annotation (`Mitigation { asset, threat, control }`,
//! `Transfer { threat, from, to }`, ...), and [`Relation::of`], the one function that knows at
//! which position each argument sits in [`FileFacts::refs`] (and so in [`Analysis::resolved`]).
//! Optional arguments (a mitigation's control, a transfer's `from`, an entitlement's asset and
//! threat) shift the ones after them, so nothing else reads an argument by its position.
//! Also the one reading of which asset and threat a relation concerns
//! ([`Relation::asset_and_threat`]). Must never: resolve references (the model does), or
//! decide coverage, status or diagrams (their modules do, from these fields).
//!
//! The arguments are [`Arg`]s (the reference as written and what it resolved to) for the
//! analysis' consumers, or bare [`RefFact`]s for features that need no resolution
//! ([`Relation::of_facts`]).

use super::Analysis;
use crate::model::{EntityKey, FileFacts, Jagged, ProjectIndex, RefFact, Resolved};
use crate::syntax::{Annotation, Body, EntityKind, Spanned};
use crate::text::TextRange;

/// One argument of a relation: the reference as written and what it resolved to.
#[derive(Clone, Copy, Debug)]
pub struct Arg<'a> {
    pub fact: &'a RefFact,
    pub resolved: &'a Resolved,
}

impl<'a> Arg<'a> {
    /// The entity named, defined here or external; `None` when the reference dangles.
    pub fn entity(self) -> Option<&'a EntityKey> {
        self.resolved.entity()
    }

    /// The whole argument as written.
    pub fn range(self) -> TextRange {
        self.fact.range
    }

    /// Whether the model defines the entity named (an `@asset`, an inline `(#id)`, ...).
    pub fn is_declared(self, index: &ProjectIndex) -> bool {
        self.entity().is_some_and(|e| !index.definitions(e).is_empty())
    }
}

/// One annotation with entity arguments, each argument named by its role. `A` is the argument:
/// an [`Arg`] (resolved), or a `&RefFact` ([`Relation::of_facts`]).
#[derive(Clone, Copy, Debug)]
pub enum Relation<'a, A = Arg<'a>> {
    /// `@asset`/`@component`, `@threat`, `@control`, `@actor`.
    Definition {
        kind: EntityKind,
        entity: A,
    },
    Mitigation {
        asset: A,
        threat: A,
        control: Option<A>,
    },
    Exposure {
        asset: A,
        threat: A,
    },
    Confirmation {
        threat: A,
        asset: A,
    },
    Acceptance {
        threat: A,
        asset: A,
    },
    /// `from` is absent in the ThreatSpec 0.1 form `@transfers T to @b:@c`.
    Transfer {
        threat: A,
        from: Option<A>,
        to: A,
    },
    /// One hop: a multi-hop `@flows A -> B -> C` is one annotation per arrow.
    Flow {
        from: A,
        to: A,
        two_way: bool,
        mechanism: Option<&'a Spanned<String>>,
        name: Option<&'a Spanned<String>>,
    },
    /// `directed` (`from a to b`): `a` is the outer side, `b` the inner.
    Boundary {
        a: A,
        b: A,
        id: Option<&'a Spanned<String>>,
        directed: bool,
    },
    Entitlement {
        actor: A,
        capability: &'a Spanned<String>,
        asset: Option<A>,
        threat: Option<A>,
    },
    Validation {
        control: A,
        asset: A,
    },
    Audit {
        asset: A,
        note: Option<&'a Spanned<String>>,
    },
    Ownership {
        owner: &'a Spanned<String>,
        asset: A,
    },
    Handling {
        class: &'a Spanned<String>,
        asset: A,
    },
    Assumption {
        asset: A,
        note: Option<&'a Spanned<String>>,
    },
    /// ThreatSpec 0.1 `@alias boundary|component|threat @id to Name`.
    Alias {
        kind: EntityKind,
        target: A,
        name: &'a Spanned<String>,
    },
    /// ThreatSpec 0.1 `@describe boundary|component|threat @id as text`.
    Description {
        kind: EntityKind,
        target: A,
        text: &'a Spanned<String>,
    },
}

impl<'a, A: Copy> Relation<'a, A> {
    /// `ann` with its arguments `args`, given in [`Annotation::refs`] order (the order of
    /// [`FileFacts::refs`] and [`Analysis::resolved`]). The one place positions become names.
    /// `None` for an annotation without entity arguments, or when `args` does not hold exactly
    /// the arguments `ann` has.
    pub fn of(ann: &'a Annotation, args: impl IntoIterator<Item = A>) -> Option<Relation<'a, A>> {
        let args = &mut args.into_iter();
        let relation = match &ann.body {
            Body::Define { kind, .. } => Relation::Definition { kind: *kind, entity: args.next()? },
            Body::Mitigates { control, .. } => {
                let (asset, threat) = (args.next()?, args.next()?);
                Relation::Mitigation { asset, threat, control: optional(args, control.is_some())? }
            }
            Body::Exposes { .. } => Relation::Exposure { asset: args.next()?, threat: args.next()? },
            Body::Confirmed { .. } => Relation::Confirmation { threat: args.next()?, asset: args.next()? },
            Body::Accepts { .. } => Relation::Acceptance { threat: args.next()?, asset: args.next()? },
            Body::Transfers { from, .. } => {
                let threat = args.next()?;
                let from = optional(args, from.is_some())?;
                Relation::Transfer { threat, from, to: args.next()? }
            }
            Body::Flows { two_way, mechanism, name, .. } => Relation::Flow {
                from: args.next()?,
                to: args.next()?,
                two_way: *two_way,
                mechanism: mechanism.as_deref(),
                name: name.as_deref(),
            },
            Body::Boundary { id, directed, .. } => {
                Relation::Boundary { a: args.next()?, b: args.next()?, id: id.as_ref(), directed: *directed }
            }
            Body::Entitles { capability, asset, threat, .. } => {
                let actor = args.next()?;
                let asset = optional(args, asset.is_some())?;
                Relation::Entitlement { actor, capability, asset, threat: optional(args, threat.is_some())? }
            }
            Body::Validates { .. } => Relation::Validation { control: args.next()?, asset: args.next()? },
            Body::Audit { note, .. } => Relation::Audit { asset: args.next()?, note: note.as_ref() },
            Body::Owns { owner, .. } => Relation::Ownership { owner, asset: args.next()? },
            Body::Handles { class, .. } => Relation::Handling { class, asset: args.next()? },
            Body::Assumes { note, .. } => Relation::Assumption { asset: args.next()?, note: note.as_ref() },
            Body::Alias { kind, name, .. } => Relation::Alias { kind: *kind, target: args.next()?, name },
            Body::Describe { kind, text, .. } => {
                Relation::Description { kind: *kind, target: args.next()?, text }
            }
            Body::Feature { .. } | Body::Comment { .. } | Body::Shield(_) => return None,
        };
        args.next().is_none().then_some(relation)
    }

    /// The asset and the threat of a relation that puts a threat on an asset: an exposure, a
    /// confirmed finding, a mitigation, an acceptance, or a transfer (whose asset is the one
    /// it transfers from; in the ThreatSpec 0.1 form without `from`, the one it names).
    pub fn asset_and_threat(&self) -> Option<(A, A)> {
        match *self {
            Relation::Exposure { asset, threat }
            | Relation::Confirmation { threat, asset }
            | Relation::Mitigation { asset, threat, .. }
            | Relation::Acceptance { threat, asset } => Some((asset, threat)),
            Relation::Transfer { threat, from, to } => Some((from.unwrap_or(to), threat)),
            _ => None,
        }
    }
}

/// The next argument if the annotation wrote this optional one (an absent optional argument
/// takes no position); `None` when one it wrote is missing.
fn optional<A>(args: &mut impl Iterator<Item = A>, written: bool) -> Option<Option<A>> {
    if written { args.next().map(Some) } else { Some(None) }
}

impl<'a> Relation<'a> {
    /// Annotation `ann` with its references' facts and their resolutions (parallel lists).
    pub fn resolved(ann: &'a Annotation, facts: &'a [RefFact], resolved: &'a [Resolved]) -> Option<Self> {
        if facts.len() != resolved.len() {
            return None;
        }
        Relation::of(ann, facts.iter().zip(resolved).map(|(fact, resolved)| Arg { fact, resolved }))
    }
}

/// Why a boundary's sides are taken as outside and inside ([`boundary_orientation`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SidesBasis {
    /// `from <outer> to <inner>`: the author said so.
    Declared,
    /// Undirected, and exactly one side is an asset the model defines: the other side, which
    /// nothing declares (an outside client, the internet), is the outside (GuardLink's
    /// undeclared-endpoint convention).
    UndeclaredEndpoint,
    /// Undirected with both sides declared or neither: nothing says which is inside, and the
    /// second side as written is drawn inside.
    Unknown,
}

impl SidesBasis {
    /// The basis as the JSON export names it.
    pub fn as_str(self) -> &'static str {
        match self {
            SidesBasis::Declared => "declared",
            SidesBasis::UndeclaredEndpoint => "undeclared-endpoint",
            SidesBasis::Unknown => "unknown",
        }
    }
}

/// The sides of a boundary with sides `a` and `b` (in the order written) as `(outer, inner,
/// basis)`: the one rule the diagram, the report and the JSON export share. `declared` says
/// whether the model defines a side (an `@asset` or an inline `(#id)` declares it).
pub fn boundary_orientation<S: Copy>(
    a: S,
    b: S,
    directed: bool,
    declared: impl Fn(S) -> bool,
) -> (S, S, SidesBasis) {
    if directed {
        return (a, b, SidesBasis::Declared);
    }
    match (declared(a), declared(b)) {
        (true, false) => (b, a, SidesBasis::UndeclaredEndpoint),
        (false, true) => (a, b, SidesBasis::UndeclaredEndpoint),
        _ => (a, b, SidesBasis::Unknown),
    }
}

/// A boundary named by its sides, as every surface shows it: `from <outer> to <inner>` when
/// directed, `<a> | <b>` otherwise.
pub fn boundary_sides(a: impl std::fmt::Display, b: impl std::fmt::Display, directed: bool) -> String {
    if directed { format!("from {a} to {b}") } else { format!("{a} | {b}") }
}

impl<'a> Relation<'a> {
    /// Annotation `i` of `facts` with its arguments resolved as `resolved` (the file's
    /// resolution) says: for a caller that holds the file's resolution already.
    pub fn of_file(facts: &'a FileFacts, resolved: &'a Jagged<Resolved>, i: usize) -> Option<Self> {
        Relation::resolved(facts.annotations().get(i)?, facts.refs.get(i)?, resolved.get(i)?)
    }
}

impl<'a> Relation<'a, &'a RefFact> {
    /// Annotation `i` of `facts` with its arguments as written, unresolved.
    pub fn of_facts(facts: &'a FileFacts, i: usize) -> Option<Self> {
        Relation::of(facts.annotations().get(i)?, facts.refs.get(i)?)
    }
}

impl Analysis {
    /// Annotation `i` of `facts` with its arguments resolved by this analysis; `None` when it
    /// has no entity arguments or this analysis did not resolve the file.
    pub fn relation<'a>(&'a self, facts: &'a FileFacts, i: usize) -> Option<Relation<'a>> {
        Relation::of_file(facts, self.resolved.get(&facts.path)?, i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file_id::FileId;
    use crate::model::ProjectIndex;
    use crate::syntax::Language;
    use std::sync::Arc;

    /// Each annotation of `text` (a Python file) as its relation, every argument shown as
    /// `role=written text`, and the resolved relations agreeing with the unresolved ones.
    fn relations(text: &str) -> Vec<String> {
        let facts = Arc::new(FileFacts::new(FileId::relative("a.py"), Language::Python, Arc::from(text)));
        let mut index = ProjectIndex::default();
        index.set_file(facts.clone());
        let analysis = Analysis::new(&index);
        (0..facts.annotations().len())
            .map(|i| {
                let written = |f: &RefFact| facts.slice(f.range).to_string();
                let shown = show(Relation::of_facts(&facts, i), written);
                // Each resolution paired with its own reference: same position, same argument.
                let resolved = show(analysis.relation(&facts, i), |a: Arg| {
                    assert_eq!(a.resolved, &index.resolve(a.fact));
                    written(a.fact)
                });
                assert_eq!(shown, resolved, "resolved and unresolved relations agree");
                shown
            })
            .collect()
    }

    fn show<A: Copy>(relation: Option<Relation<'_, A>>, written: impl Fn(A) -> String) -> String {
        let one = |role: &str, a: A| format!(" {role}={}", written(a));
        let opt = |role: &str, a: Option<A>| a.map_or(format!(" {role}=-"), |a| one(role, a));
        let Some(r) = relation else { return "none".into() };
        match r {
            Relation::Definition { entity, .. } => format!("Definition{}", one("entity", entity)),
            Relation::Mitigation { asset, threat, control } => {
                format!(
                    "Mitigation{}{}{}",
                    one("asset", asset),
                    one("threat", threat),
                    opt("control", control)
                )
            }
            Relation::Exposure { asset, threat } => {
                format!("Exposure{}{}", one("asset", asset), one("threat", threat))
            }
            Relation::Confirmation { threat, asset } => {
                format!("Confirmation{}{}", one("threat", threat), one("asset", asset))
            }
            Relation::Acceptance { threat, asset } => {
                format!("Acceptance{}{}", one("threat", threat), one("asset", asset))
            }
            Relation::Transfer { threat, from, to } => {
                format!("Transfer{}{}{}", one("threat", threat), opt("from", from), one("to", to))
            }
            Relation::Flow { from, to, two_way, .. } => {
                format!("Flow{}{} two_way={two_way}", one("from", from), one("to", to))
            }
            Relation::Boundary { a, b, directed, .. } => {
                format!("Boundary{}{}{}", one("a", a), one("b", b), if directed { " directed" } else { "" })
            }
            Relation::Entitlement { actor, asset, threat, .. } => {
                format!("Entitlement{}{}{}", one("actor", actor), opt("asset", asset), opt("threat", threat))
            }
            Relation::Validation { control, asset } => {
                format!("Validation{}{}", one("control", control), one("asset", asset))
            }
            Relation::Audit { asset, .. } => format!("Audit{}", one("asset", asset)),
            Relation::Ownership { asset, .. } => format!("Ownership{}", one("asset", asset)),
            Relation::Handling { asset, .. } => format!("Handling{}", one("asset", asset)),
            Relation::Assumption { asset, .. } => format!("Assumption{}", one("asset", asset)),
            Relation::Alias { target, .. } => format!("Alias{}", one("target", target)),
            Relation::Description { target, .. } => format!("Description{}", one("target", target)),
        }
    }

    #[test]
    fn optional_arguments_present_and_absent() {
        let got = relations(
            "# @mitigates Shop.Api against #sqli using #prepared\n\
             # @mitigates Shop.Api against #sqli\n\
             # @transfers #ddos from Shop.Web to Cloudflare\n\
             # @entitles #admin to refund on Shop.Payments against #fraud\n\
             # @entitles #admin to refund on Shop.Payments\n\
             # @entitles #admin to refund against #fraud\n\
             # @entitles #admin to refund\n",
        );
        assert_eq!(
            got,
            [
                "Mitigation asset=Shop.Api threat=#sqli control=#prepared",
                "Mitigation asset=Shop.Api threat=#sqli control=-",
                "Transfer threat=#ddos from=Shop.Web to=Cloudflare",
                "Entitlement actor=#admin asset=Shop.Payments threat=#fraud",
                "Entitlement actor=#admin asset=Shop.Payments threat=-",
                "Entitlement actor=#admin asset=- threat=#fraud",
                "Entitlement actor=#admin asset=- threat=-",
            ]
        );
    }

    #[test]
    fn gal_relations_name_each_argument() {
        let got = relations(
            "# @asset Shop.Api (#api)\n\
             # @exposes Shop.Api to #sqli\n\
             # @confirmed #idor on Shop.Orders\n\
             # @accepts #dos on Shop.Web -- \"rate limited upstream\"\n\
             # @boundary between Internet and Shop.Api (#edge)\n\
             # @boundary from Internet to #api\n\
             # @validates #prepared for Shop.Api\n\
             # @audit Shop.Db\n\
             # @owns team-a for Shop.Db\n\
             # @handles pii on Shop.Db\n\
             # @assumes Shop.Api -- \"behind the gateway\"\n",
        );
        assert_eq!(
            got,
            [
                "Definition entity=Shop.Api (#api)",
                "Exposure asset=Shop.Api threat=#sqli",
                "Confirmation threat=#idor asset=Shop.Orders",
                "Acceptance threat=#dos asset=Shop.Web",
                "Boundary a=Internet b=Shop.Api",
                "Boundary a=Internet b=#api directed",
                "Validation control=#prepared asset=Shop.Api",
                "Audit asset=Shop.Db",
                "Ownership asset=Shop.Db",
                "Handling asset=Shop.Db",
                "Assumption asset=Shop.Api",
            ]
        );
    }

    #[test]
    fn threatspec_forms_name_each_argument() {
        let got = relations(
            "# @mitigates App:Api against Spoofing with Firewall\n\
             # @exposes WebApp:Api to XSS with templates\n\
             # @accepts Spam to WebApp:Api with rate limits\n\
             # @transfers #x from Web Server to Payment Provider with the contract\n\
             # @transfers @cwe_319_cleartext to @internet:@browser with user must use HTTPS\n\
             # @connects Shop:Cart to Shop:Db with JDBC\n\
             # @connects @front:@site with @db:@main\n\
             # @tests #csp for #web\n\
             # @review Shop:Cart needs a second look\n\
             # @alias component @dmz:@web to Web Server\n\
             # @describe boundary @dmz as the public edge\n",
        );
        assert_eq!(
            got,
            [
                "Mitigation asset=App:Api threat=Spoofing control=Firewall",
                "Exposure asset=WebApp:Api threat=XSS",
                "Acceptance threat=Spam asset=WebApp:Api",
                "Transfer threat=#x from=Web Server to=Payment Provider",
                "Transfer threat=@cwe_319_cleartext from=- to=@internet:@browser",
                "Flow from=Shop:Cart to=Shop:Db two_way=false",
                "Flow from=@front:@site to=@db:@main two_way=true",
                "Validation control=#csp asset=#web",
                "Audit asset=Shop:Cart",
                "Alias target=@dmz:@web",
                "Description target=@dmz",
            ]
        );
    }

    #[test]
    fn a_multi_hop_flow_is_one_relation_per_hop() {
        let got = relations("# @flows Client -> Shop.Api -> Shop.Db via TLS\n# @feature \"checkout\"\n");
        assert_eq!(
            got,
            [
                "Flow from=Client to=Shop.Api two_way=false",
                "Flow from=Shop.Api to=Shop.Db two_way=false",
                "none"
            ]
        );
    }

    #[test]
    fn the_asset_and_threat_of_a_relation() {
        let text = "# @exposes Shop.Api to #sqli\n\
                    # @confirmed #idor on Shop.Orders\n\
                    # @mitigates Shop.Web against #xss using #esc\n\
                    # @accepts #dos on Shop.Cdn\n\
                    # @transfers #ddos from Shop.Edge to Cloudflare\n\
                    # @transfers @cwe_319_cleartext to @internet:@browser\n\
                    # @flows A -> B\n";
        let facts = FileFacts::new(FileId::relative("a.py"), Language::Python, Arc::from(text));
        let got: Vec<String> = (0..facts.annotations().len())
            .map(|i| match Relation::of_facts(&facts, i).and_then(|r| r.asset_and_threat()) {
                Some((asset, threat)) => {
                    format!("{} {}", facts.slice(asset.range), facts.slice(threat.range))
                }
                None => "none".into(),
            })
            .collect();
        assert_eq!(
            got,
            [
                "Shop.Api #sqli",
                "Shop.Orders #idor",
                "Shop.Web #xss",
                "Shop.Cdn #dos",
                "Shop.Edge #ddos",
                "@internet:@browser @cwe_319_cleartext",
                "none",
            ]
        );
    }

    #[test]
    fn arguments_that_do_not_match_the_annotation_make_no_relation() {
        let facts =
            FileFacts::new(FileId::relative("a.py"), Language::Python, Arc::from("# @exposes App to #t\n"));
        let ann = &facts.annotations()[0];
        let refs = &facts.refs[0];
        assert!(Relation::of(ann, refs.iter().take(1)).is_none(), "one missing");
        assert!(Relation::of(ann, refs.iter().chain(refs.iter().take(1))).is_none(), "one too many");
        let resolved = [Resolved::Dangling("t".into())];
        assert!(Relation::resolved(ann, refs, &resolved).is_none(), "lists not parallel");
    }
}
