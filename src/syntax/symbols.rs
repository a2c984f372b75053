//! Enclosing symbols: the function, method or class a comment sits in or documents.
//!
//! Owns: finding, from tree-sitter's tree, the name of the definition around a byte offset, in
//! every language alike: the definition the comment documents (one that starts on the line
//! after the comment, decorators and attributes included), else the innermost named definition
//! around it. A definition is a node whose kind names a function, method, class, struct, impl,
//! trait, interface, module or constructor, with a `name` (or, in C and C++, a `declarator`
//! chain ending in one; a Rust `impl` is named by its type). The name is qualified by the
//! definitions around it, outermost first, joined with `.` (`OrderView.get`), so that the
//! coverage rule can tell a class from its methods ([`encloses`], [`ends_with`]). Must never:
//! fail, or parse a file nobody asked about (only the `coverage.scope: symbol` setting asks,
//! see `crate::analysis::coverage`).

use super::Language;
use super::comments::parse_tree;
use tree_sitter::Node;

/// Words a definition's node kind contains.
const DEFINITION_WORDS: &[&str] =
    &["function", "method", "class", "struct", "impl", "trait", "interface", "module", "constructor"];

/// For each offset of `offsets` (`usize::MAX`: not asked), the qualified name of the definition
/// the text there sits in or documents; all `None` when the language has no tree.
pub fn enclosing_symbols(language: Language, text: &str, offsets: &[usize]) -> Vec<Option<String>> {
    let Some(tree) = parse_tree(language, text, None) else { return vec![None; offsets.len()] };
    let root = tree.root_node();
    offsets
        .iter()
        .map(|&at| {
            if at == usize::MAX || at > text.len() {
                return None;
            }
            let node = root.descendant_for_byte_range(at, at)?;
            let (definition, name) = documented(node, text).or_else(|| around(node, text))?;
            Some(qualified(definition, name, text))
        })
        .collect()
}

/// Whether the symbol `outer` is `inner` or a definition around it: `OrderView` encloses
/// `OrderView.get` and itself, not `OrderView.getAll`, `get` or `Other.OrderView`.
pub fn encloses(outer: &str, inner: &str) -> bool {
    inner.strip_prefix(outer).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Whether the qualified symbol `chain` names the definition `name` names, `name` being the
/// last of its `.`-joined parts or more: `Repo.find` ends with `find` and `Repo.find`, not with
/// `ind` or `Repo`.
pub fn ends_with(chain: &str, name: &str) -> bool {
    chain.strip_suffix(name).is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
}

/// `name` (of the definition `definition`) after the names of the definitions around it,
/// outermost first, joined with `.`.
fn qualified(definition: Node, name: String, text: &str) -> String {
    let mut outer: Vec<String> = std::iter::successors(definition.parent(), |n| n.parent())
        // A Python `decorated_definition` is named by the definition it wraps: not another level.
        .filter(|n| n.kind() != "decorated_definition")
        .filter_map(|n| definition_name(n, text))
        .collect();
    if outer.is_empty() {
        return name;
    }
    outer.reverse();
    outer.push(name);
    outer.join(".")
}

/// The definition a comment documents: the next named sibling after the comment (and any
/// comments, attributes or decorators right after it), when it starts on the next line; with
/// its name.
fn documented<'t>(node: Node<'t>, text: &str) -> Option<(Node<'t>, String)> {
    // The outermost comment node (a Rust doc comment is a `doc_comment` in a `line_comment`).
    let mut comment = std::iter::successors(Some(node), |n| n.parent()).find(|n| is_comment(n))?;
    while let Some(parent) = comment.parent().filter(is_comment) {
        comment = parent;
    }
    let mut end_row = comment.end_position().row;
    let mut next = comment.next_named_sibling();
    while let Some(n) = next {
        if n.start_position().row > end_row + 1 {
            return None;
        }
        if is_comment(&n) || is_attribute(&n) {
            end_row = n.end_position().row;
            next = n.next_named_sibling();
            continue;
        }
        // `export function f`, `pub(crate) fn` wrapped in a declaration: look one level in.
        return definition_name(n, text).map(|name| (n, name)).or_else(|| {
            let mut cursor = n.walk();
            n.named_children(&mut cursor).find_map(|c| Some((c, definition_name(c, text)?)))
        });
    }
    None
}

/// The innermost named definition around `node`, with its name.
fn around<'t>(node: Node<'t>, text: &str) -> Option<(Node<'t>, String)> {
    std::iter::successors(node.parent(), |n| n.parent()).find_map(|n| Some((n, definition_name(n, text)?)))
}

fn is_comment(n: &Node) -> bool {
    n.kind().contains("comment")
}

fn is_attribute(n: &Node) -> bool {
    let kind = n.kind();
    kind.contains("attribute") || kind.contains("decorator") || kind == "annotation"
}

/// The name of `n` when it is a definition.
fn definition_name(n: Node, text: &str) -> Option<String> {
    let kind = n.kind();
    let is_definition = kind == "decorated_definition"
        || (DEFINITION_WORDS.iter().any(|w| kind.contains(w))
            && !kind.contains("call")
            && !kind.contains("body")
            && !kind.contains("parameter")
            && !kind.contains("type_identifier"));
    if !is_definition {
        return None;
    }
    if kind == "impl_item" {
        return n.child_by_field_name("type")?.utf8_text(text.as_bytes()).ok().map(str::to_string);
    }
    let mut at = n;
    for _ in 0..8 {
        if let Some(name) = at.child_by_field_name("name") {
            return name.utf8_text(text.as_bytes()).ok().map(str::to_string);
        }
        match at.child_by_field_name("declarator").or_else(|| at.child_by_field_name("definition")) {
            Some(inner) => at = inner,
            None if at.kind().ends_with("identifier") && at.id() != n.id() => {
                return at.utf8_text(text.as_bytes()).ok().map(str::to_string);
            }
            None => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(language: Language, text: &str, marker: &str) -> Option<String> {
        let offset = text.find(marker).expect("marker");
        enclosing_symbols(language, text, &[offset]).pop().flatten()
    }

    #[test]
    fn definitions_around_or_after_a_comment() {
        let py = "# top\n\nclass Repo:\n    # A\n    def find(self):\n        # B\n        pass\n\n\n@route\n# C\ndef save():\n    \"\"\"D\"\"\"\n";
        assert_eq!(at(Language::Python, py, "top"), None);
        assert_eq!(at(Language::Python, py, "A"), Some("Repo.find".into()));
        assert_eq!(at(Language::Python, py, "B"), Some("Repo.find".into()));
        assert_eq!(at(Language::Python, py, "C"), Some("save".into()));
        assert_eq!(at(Language::Python, py, "D"), Some("save".into()));
        let c = "/* A */\nint total(int a) {\n  // B\n  return a;\n}\n";
        assert_eq!(at(Language::C, c, "A"), Some("total".into()));
        assert_eq!(at(Language::C, c, "B"), Some("total".into()));
        let ts = "// A\nexport function load() {}\nclass Shop {\n  // B\n  buy() {}\n}\n";
        assert_eq!(at(Language::TypeScript, ts, "A"), Some("load".into()));
        assert_eq!(at(Language::TypeScript, ts, "B"), Some("Shop.buy".into()));
        let rs = "/// A\n#[inline]\npub fn go() {}\nimpl Shop {\n    fn x() {\n        // B\n    }\n}\n";
        assert_eq!(at(Language::Rust, rs, "A"), Some("go".into()));
        assert_eq!(at(Language::Rust, rs, "B"), Some("Shop.x".into()));
        // Nesting: a class documented from above, a method inside it, a function inside that.
        let nested = "# K\nclass View:\n    # M\n    @cached\n    def get(self):\n        def inner():\n            # I\n            pass\n";
        assert_eq!(at(Language::Python, nested, "K"), Some("View".into()));
        assert_eq!(at(Language::Python, nested, "M"), Some("View.get".into()));
        assert_eq!(at(Language::Python, nested, "I"), Some("View.get.inner".into()));
        let java = "class Shop {\n  // J\n  void buy() {}\n}\n";
        assert_eq!(at(Language::Java, java, "J"), Some("Shop.buy".into()));
        // No grammar (a `.gal` file): no symbol.
        assert_eq!(enclosing_symbols(Language::Gal, "@exposes A to B", &[0]), vec![None]);
    }

    #[test]
    fn a_symbol_encloses_itself_and_what_is_defined_inside_it() {
        assert!(encloses("View", "View"));
        assert!(encloses("View", "View.get"));
        assert!(encloses("View.get", "View.get.inner"));
        assert!(!encloses("View.get", "View"));
        assert!(!encloses("View", "ViewModel.get"));
        assert!(!encloses("get", "View.get"));
        assert!(!encloses("View.get", "View.getAll"));
    }

    #[test]
    fn a_chain_ends_with_the_names_of_its_last_parts() {
        assert!(ends_with("Repo.find", "find"));
        assert!(ends_with("Repo.find", "Repo.find"));
        assert!(ends_with("find", "find"));
        assert!(!ends_with("Repo.find", "ind"));
        assert!(!ends_with("Repo.find", "Repo"));
        assert!(!ends_with("find", "Repo.find"));
    }
}
