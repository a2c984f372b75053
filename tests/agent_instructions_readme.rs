//! The README's table of `agent-instruction-in-annotation` rules is the rule table of
//! `src/syntax/agent_instructions.rs`, rendered: this test fails when they disagree.
//! `UPDATE_GENERATED=1 cargo test --test agent_instructions_readme` rewrites the README's copy.

use threat_analyzer::syntax::agent_instructions::RULES;

const BEGIN: &str = "<!-- agent-instruction-rules:begin";
const END: &str = "<!-- agent-instruction-rules:end -->";

/// An example as README text: characters other than printable ASCII written as `\u{...}` (the
/// examples hold invisible characters), `|` escaped for the table.
fn shown(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '|' => "\\|".to_string(),
            ' '..='~' => c.to_string(),
            _ => format!("\\u{{{:X}}}", c as u32),
        })
        .collect()
}

fn table() -> String {
    let mut out =
        String::from("| Rule | Kind | Matches | Why | Flagged | Stays quiet |\n|---|---|---|---|---|---|\n");
    for r in RULES {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | `{}` | `{}` |\n",
            r.id,
            r.kind.as_str(),
            r.matches.replace('|', "\\|"),
            r.why.replace('|', "\\|"),
            shown(r.example),
            shown(r.quiet),
        ));
    }
    out
}

#[test]
fn readme_rule_table_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let begin = readme.find(BEGIN).expect("README has the begin marker");
    let body_start = begin + readme[begin..].find('\n').expect("marker line ends") + 1;
    let end = readme.find(END).expect("README has the end marker");
    let written = &readme[body_start..end];
    let expected = table();
    if written != expected {
        if std::env::var_os("UPDATE_GENERATED").is_some() {
            let updated = format!("{}{expected}{}", &readme[..body_start], &readme[end..]);
            std::fs::write(path, updated).unwrap();
            return;
        }
        panic!(
            "README.md's rule table differs from src/syntax/agent_instructions.rs; \
             `UPDATE_GENERATED=1 cargo test --test agent_instructions_readme` rewrites it.\n\
             expected:\n{expected}\nwritten:\n{written}"
        );
    }
    // Every rule id appears once as a row, and the table names no other rule.
    let rows = written.lines().filter(|l| l.starts_with("| `")).count();
    assert_eq!(rows, RULES.len());
}
