//! The canonical GAL spelling of a parsed annotation: the one printer behind the language
//! server's "Convert this comment to GAL syntax" (ThreatSpec 0.1 lines) and the MCP
//! `validate_annotation` answer (any dialect).
//!
//! Owns: how each [`Body`] is written in GAL (verb in its canonical spelling, keywords, the
//! arrow of a flow), how an argument is written (`@b:@c` -> `B.C`, `@id` -> `#id`, names and
//! `(#id)` as written), and the tail (severity as written, external references, notes and
//! descriptions joined into one `-- "..."`). Must never: resolve anything (it reads one
//! annotation and its file's text), or print what GAL cannot say the same way: `None` for a
//! `@transfers` without its source asset, a ThreatSpec 0.1 `@describe`, an `@alias` of a
//! boundary or component path other than an asset, extended-block fields, and `@source`.

use super::ast::{Annotation, Body, EntityKind, Ref, RefForm, ShieldKind};
use super::verbs::canonical_spelling;

/// The GAL form of `ann` (read from `source`, its file's text), when GAL can say the same
/// thing. Without a comment marker.
pub fn to_gal(source: &str, ann: &Annotation) -> Option<String> {
    if !ann.fields().is_empty() {
        return None;
    }
    let r = |x: &Ref| gal_ref(source, x);
    let verb = canonical_spelling(ann.verb);
    let mut notes: Vec<String> = Vec::new();
    let line = match &ann.body {
        Body::Define { kind, target } => format!("@{} {}", kind.as_str(), r(target)),
        Body::Flows { from, to, two_way, mechanism, name } => {
            notes.extend(name.iter().map(|n| n.value.clone()));
            let mut s = format!("@flows {} {} {}", r(from), if *two_way { "<->" } else { "->" }, r(to));
            if let Some(m) = mechanism {
                s.push_str(&format!(" via {}", m.value));
            }
            s
        }
        Body::Exposes { asset, threat } => format!("@exposes {} to {}", r(asset), r(threat)),
        Body::Mitigates { asset, threat, control } => {
            let mut s = format!("@mitigates {} against {}", r(asset), r(threat));
            if let Some(c) = control {
                s.push_str(&format!(" using {}", r(c)));
            }
            s
        }
        Body::Accepts { threat, asset } => format!("@accepts {} on {}", r(threat), r(asset)),
        Body::Transfers { threat, from: Some(from), to } => {
            format!("@transfers {} from {} to {}", r(threat), r(from), r(to))
        }
        Body::Transfers { from: None, .. } => return None,
        Body::Confirmed { threat, asset } => format!("@confirmed {} on {}", r(threat), r(asset)),
        Body::Boundary { a, b, id, directed } => {
            let mut s = match directed {
                true => format!("@boundary from {} to {}", r(a), r(b)),
                false => format!("@boundary between {} and {}", r(a), r(b)),
            };
            if let Some(id) = id {
                s.push_str(&format!(" (#{})", id.value));
            }
            s
        }
        Body::Entitles { actor, capability, asset, threat } => {
            let mut s = format!("@entitles {} to {}", r(actor), capability.value.trim());
            if let Some(a) = asset {
                s.push_str(&format!(" on {}", r(a)));
            }
            if let Some(t) = threat {
                s.push_str(&format!(" against {}", r(t)));
            }
            s
        }
        Body::Feature { name } => format!("@feature \"{}\"", escape(&name.value)),
        Body::Validates { control, asset } => format!("@validates {} for {}", r(control), r(asset)),
        Body::Audit { asset, note } | Body::Assumes { asset, note } => {
            notes.extend(note.iter().map(|n| n.value.clone()));
            format!("@{verb} {}", r(asset))
        }
        Body::Owns { owner, asset } => format!("@owns {} for {}", owner.value.trim(), r(asset)),
        Body::Handles { class, asset } => format!("@handles {} on {}", class.value.trim(), r(asset)),
        Body::Comment { text } => {
            notes.extend(text.iter().map(|t| t.value.clone()));
            "@comment".to_string()
        }
        Body::Alias { kind: EntityKind::Threat, target, name } => {
            let RefForm::Id(id) = &target.form else { return None };
            format!("@threat {} (#{})", name.value, id.value)
        }
        Body::Alias { kind: EntityKind::Asset, target, name } => {
            notes.push(name.value.clone());
            format!("@asset {}", r(target))
        }
        Body::Alias { .. } | Body::Describe { .. } => return None,
        Body::Shield(kind) => match kind {
            ShieldKind::Line => "@shield",
            ShieldKind::Begin => "@shield:begin",
            ShieldKind::End => "@shield:end",
        }
        .to_string(),
    };
    let mut out = line;
    if let Some(sev) = &ann.severity {
        out.push(' ');
        out.push_str(sev.range.slice(source));
    }
    for e in ann.external_refs() {
        out.push(' ');
        out.push_str(&e.value);
    }
    notes.extend(ann.details.iter().map(|d| d.value.to_string()));
    notes.extend(ann.description.iter().map(|d| d.value.to_string()));
    if !notes.is_empty() {
        out.push_str(&format!(" -- \"{}\"", escape(&notes.join(": "))));
    }
    Some(out)
}

/// Text inside a GAL double-quoted string.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// An argument in GAL: `@b:@c` -> `B.C`, `@id` -> `#id`, names (and their `(#id)`) as
/// written; a ThreatSpec `Alias (Path)` component by its path.
fn gal_ref(source: &str, r: &Ref) -> String {
    match &r.form {
        RefForm::Legacy { boundary, component } => {
            format!("{}.{}", capitalise(&boundary.value), capitalise(&component.value))
        }
        RefForm::Id(id) => format!("#{}", id.value),
        RefForm::Name { .. } => match r.form.name_parts() {
            Some((name, Some(id), Some(_))) => format!("{} (#{})", name.value, id.value),
            Some((name, None, Some(_))) => name.value.to_string(),
            _ => r.range.slice(source).to_string(),
        },
    }
}

/// `web_app` -> `Web_App`: the same path key (segments are compared normalised), GAL-looking.
fn capitalise(id: &str) -> String {
    id.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
        })
        .collect::<Vec<_>>()
        .join("_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Language;

    /// The canonical line of each annotation of `text` (a Python file).
    fn canonical(text: &str) -> Vec<Option<String>> {
        let facts = crate::syntax::parse_file(Language::Python, text);
        facts.annotations.iter().map(|a| to_gal(text, a)).collect()
    }

    #[test]
    fn every_dialect_prints_as_gal_with_its_tail() {
        let text = "\
# @component WebApp:Api (#api)
# @mitigate WebApp:Api against SQL Injection with prepared statements
# @connects Browser to WebApp:Api with HTTPS
# @review WebApp:Api check the session handling
# @exposes App to #sqli [P0] cwe:CWE-89 -- \"the \\\"status\\\" filter\"
# @boundary App | Db (#edge)
# @entitles Admin to orders.delete on App
# @owns team-x for App
# @handles pii on App
# @flows App -> Db via SQL
# @transfers #sqli from App to Db
# @accepts #sqli on App
# @alias threat @xss to Cross Site Scripting
# @feature \"Checkout\"
";
        assert_eq!(
            canonical(text),
            [
                Some("@asset WebApp:Api (#api)".to_string()),
                Some("@mitigates WebApp:Api against SQL Injection using prepared statements".to_string()),
                Some("@flows Browser -> WebApp:Api -- \"HTTPS\"".to_string()),
                Some("@audit WebApp:Api -- \"check the session handling\"".to_string()),
                Some("@exposes App to #sqli [P0] cwe:CWE-89 -- \"the \\\"status\\\" filter\"".to_string()),
                Some("@boundary between App and Db (#edge)".to_string()),
                Some("@entitles Admin to orders.delete on App".to_string()),
                Some("@owns team-x for App".to_string()),
                Some("@handles pii on App".to_string()),
                Some("@flows App -> Db via SQL".to_string()),
                Some("@transfers #sqli from App to Db".to_string()),
                Some("@accepts #sqli on App".to_string()),
                Some("@threat Cross Site Scripting (#xss)".to_string()),
                Some("@feature \"Checkout\"".to_string()),
            ]
        );
    }

    #[test]
    fn what_gal_cannot_say_the_same_way_has_no_canonical_line() {
        let text = "# @transfer SQL Injection to @web:@db\n# @describe threat @xss as reflected in search\n";
        assert_eq!(canonical(text), [None, None]);
    }
}
