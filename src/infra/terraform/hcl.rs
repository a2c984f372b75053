//! Terraform's language over tree-sitter-hcl: the blocks of a module (a directory's `.tf`
//! files) and the static evaluation of expressions to [`Value`]s.
//!
//! Owns: which blocks a module holds (resources, data sources, variables, locals, module calls,
//! outputs), module instances (a root directory, and each local `module` call below it,
//! addressed `module.NAME.`), and [`Instance::eval`], the one rule for what an expression's
//! value is: literals and templates of literals; `var.X` (the caller's argument, else a literal
//! default); `local.X`; `module.M.OUT` (the child's output, or what the registry module table
//! says the output of a registry module is: `registry::output`); a resource reference
//! (`aws_vpc.main.id` is [`Value::Reference`] to `aws_vpc.main`); `jsonencode(X)` is `X`.
//! Must never: guess: everything else (functions, conditionals, `for`, data sources, `count`
//! and `each`, remote module sources the registry table does not know) is [`Value::Unknown`]
//! with the text as written.

use std::collections::{BTreeMap, BTreeSet};

use tree_sitter::{Node, Tree};

use super::registry;
use crate::infra::SourceFile;
use crate::infra::model::{Attr, Origin, Value};
use crate::syntax::Language;

/// How deep module calls and local/variable indirections are followed.
const MAX_DEPTH: usize = 16;

/// A parsed `.tf` file.
pub struct Parsed<'f> {
    pub file: &'f SourceFile,
    pub tree: Tree,
}

/// Parses each file with the HCL grammar through the one guarded parse
/// ([`crate::syntax::comments::parse_tree`]: a time budget and the scanner guards), leaving
/// out a file it refused (the caller reports it as not read).
pub fn parse<'f>(files: &[&'f SourceFile]) -> Vec<Parsed<'f>> {
    files
        .iter()
        .filter_map(|file| {
            crate::syntax::comments::parse_tree(Language::Hcl, &file.text, None)
                .map(|tree| Parsed { file, tree })
        })
        .collect()
}

/// A node with the file it belongs to.
#[derive(Clone, Copy)]
pub struct At<'t> {
    pub node: Node<'t>,
    pub file: &'t SourceFile,
}

impl<'t> At<'t> {
    pub fn text(&self) -> &'t str {
        self.node.utf8_text(self.file.text.as_bytes()).unwrap_or("")
    }
    pub fn origin(&self) -> Origin {
        Origin {
            path: self.file.path.clone(),
            line: self.node.start_position().row as u32 + 1,
            start: self.node.start_byte(),
            end: self.node.end_byte(),
        }
    }
    fn with(&self, node: Node<'t>) -> At<'t> {
        At { node, file: self.file }
    }
    fn named_children(&self) -> Vec<At<'t>> {
        let mut cursor = self.node.walk();
        self.node
            .named_children(&mut cursor)
            .filter(|n| n.kind() != "comment")
            .map(|n| self.with(n))
            .collect()
    }
}

/// A block: its type, labels and body.
#[derive(Clone)]
pub struct Block<'t> {
    pub at: At<'t>,
    pub kind: String,
    pub labels: Vec<String>,
    pub body: Option<At<'t>>,
}

impl<'t> Block<'t> {
    /// The body's attributes (name, expression) and nested blocks, in order.
    pub fn items(&self) -> (Vec<(String, At<'t>, At<'t>)>, Vec<Block<'t>>) {
        self.body.map(body_items).unwrap_or_default()
    }
}

/// A body's attributes `(name, the attribute node, its expression)` and blocks.
fn body_items<'t>(body: At<'t>) -> (Vec<(String, At<'t>, At<'t>)>, Vec<Block<'t>>) {
    let mut attributes = Vec::new();
    let mut blocks = Vec::new();
    for child in body.named_children() {
        match child.node.kind() {
            "attribute" => {
                let parts = child.named_children();
                if let (Some(name), Some(expr)) = (parts.first(), parts.get(1)) {
                    attributes.push((name.text().to_string(), child, *expr));
                }
            }
            "block" => blocks.push(block(child)),
            _ => {}
        }
    }
    (attributes, blocks)
}

fn block(at: At<'_>) -> Block<'_> {
    let mut kind = String::new();
    let mut labels = Vec::new();
    let mut body = None;
    for child in at.named_children() {
        match child.node.kind() {
            "identifier" if kind.is_empty() => kind = child.text().to_string(),
            "identifier" => labels.push(child.text().to_string()),
            "string_lit" => labels.push(string_lit(child)),
            "body" => body = Some(child),
            _ => {}
        }
    }
    Block { at, kind, labels, body }
}

/// A `string_lit`'s content (labels have no interpolation).
fn string_lit(at: At<'_>) -> String {
    at.named_children().iter().filter(|c| c.node.kind() == "template_literal").map(|c| c.text()).collect()
}

/// One directory's blocks.
#[derive(Default)]
pub struct Module<'t> {
    pub dir: String,
    /// `resource` blocks: (type, name, block).
    pub resources: Vec<(String, String, Block<'t>)>,
    pub variables: BTreeMap<String, Option<At<'t>>>,
    pub locals: BTreeMap<String, At<'t>>,
    pub outputs: BTreeMap<String, At<'t>>,
    pub calls: Vec<Block<'t>>,
    /// Resource addresses (`type.name`) declared here.
    pub declared: BTreeSet<String>,
}

/// The directory of a `/`-separated path (`""` for the top).
pub fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// `dir` joined with a relative `source` (`./modules/db`, `../shared`); `None` when it leaves
/// the tree or is not a local path.
pub fn join_source(dir: &str, source: &str) -> Option<String> {
    if !(source.starts_with("./") || source.starts_with("../")) {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in source.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The modules of the parsed files, by directory.
pub fn modules<'t>(parsed: &'t [Parsed<'t>]) -> BTreeMap<String, Module<'t>> {
    let mut modules: BTreeMap<String, Module<'t>> = BTreeMap::new();
    for p in parsed {
        let dir = dir_of(&p.file.path).to_string();
        let module = modules.entry(dir.clone()).or_default();
        module.dir = dir;
        let root = At { node: p.tree.root_node(), file: p.file };
        for body in root.named_children().into_iter().filter(|c| c.node.kind() == "body") {
            let (_, blocks) = body_items(body);
            for b in blocks {
                match (b.kind.as_str(), b.labels.as_slice()) {
                    ("resource", [ty, name]) => {
                        module.declared.insert(format!("{ty}.{name}"));
                        module.resources.push((ty.clone(), name.clone(), b.clone()));
                    }
                    ("variable", [name]) => {
                        let default =
                            b.items().0.into_iter().find(|(n, ..)| n == "default").map(|(_, _, e)| e);
                        module.variables.insert(name.clone(), default);
                    }
                    ("locals", []) => {
                        for (name, _, expr) in b.items().0 {
                            module.locals.insert(name, expr);
                        }
                    }
                    ("output", [name]) => {
                        if let Some((_, _, e)) = b.items().0.into_iter().find(|(n, ..)| n == "value") {
                            module.outputs.insert(name.clone(), e);
                        }
                    }
                    ("module", [_]) => module.calls.push(b.clone()),
                    _ => {}
                }
            }
        }
    }
    modules
}

/// A call of a registry module the table knows ([`registry::lookup`]).
pub struct RegistryCall {
    pub known: &'static registry::Known,
    pub sub: Option<&'static registry::Sub>,
    pub source: registry::Source,
    /// The `version` argument.
    pub version: Option<Attr>,
    pub call: registry::Call,
}

/// A module instance: a directory, the address prefix of its resources (`""`, `module.db.`),
/// and the arguments its caller passed.
pub struct Instance<'m, 't> {
    pub modules: &'m BTreeMap<String, Module<'t>>,
    pub module: &'m Module<'t>,
    pub prefix: String,
    /// The caller's arguments, evaluated in the caller's instance.
    pub inputs: BTreeMap<String, Attr>,
    pub depth: usize,
}

impl<'m, 't> Instance<'m, 't> {
    /// The instances of each module call of this one: (the call block, the child), or the
    /// call with `None` when its source is not a local directory of the tree.
    pub fn children(&self) -> Vec<(Block<'t>, Option<Instance<'m, 't>>)> {
        let mut out = Vec::new();
        for call in &self.module.calls {
            out.push((call.clone(), self.child(call)));
        }
        out
    }

    /// A call whose source names a `terraform-aws-modules` module: `Ok` with the table's entry
    /// and the call's arguments evaluated here (only `only`'s, when given), `Err` with why the
    /// table does not know it; `None` for any other source.
    pub fn registry_call(
        &self,
        call: &Block<'t>,
        only: Option<&[&str]>,
        depth: usize,
    ) -> Option<Result<RegistryCall, String>> {
        let (attributes, _) = call.items();
        let source = attributes.iter().find(|(n, ..)| n == "source")?;
        let source = self.eval_depth(source.2, depth + 1);
        let (known, sub, parsed) = match registry::lookup(source.as_str()?)? {
            Ok(found) => found,
            Err(reason) => return Some(Err(reason)),
        };
        let mut inputs = BTreeMap::new();
        let mut version = None;
        for (arg, _, expr) in &attributes {
            match arg.as_str() {
                "version" => version = Some(self.eval_depth(*expr, depth + 1)),
                "source" | "providers" | "count" | "for_each" | "depends_on" => {}
                name if only.is_none_or(|o| o.contains(&name)) => {
                    inputs.insert(arg.clone(), self.eval_depth(*expr, depth + 1));
                }
                _ => {}
            }
        }
        let name = call.labels.first().cloned().unwrap_or_default();
        Some(Ok(RegistryCall {
            known,
            sub,
            source: parsed,
            version,
            call: registry::Call {
                prefix: format!("{}module.{name}.", self.prefix),
                origin: call.at.origin(),
                inputs,
            },
        }))
    }

    fn child(&self, call: &Block<'t>) -> Option<Instance<'m, 't>> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        let (attributes, _) = call.items();
        let source = attributes.iter().find(|(n, ..)| n == "source")?;
        let source = self.eval(source.2);
        let dir = join_source(&self.module.dir, source.as_str()?)?;
        let module = self.modules.get(&dir)?;
        let name = call.labels.first()?;
        let mut inputs = BTreeMap::new();
        for (arg, _, expr) in &attributes {
            if !matches!(
                arg.as_str(),
                "source" | "version" | "providers" | "count" | "for_each" | "depends_on"
            ) {
                inputs.insert(arg.clone(), self.eval(*expr));
            }
        }
        Some(Instance {
            modules: self.modules,
            module,
            prefix: format!("{}module.{name}.", self.prefix),
            inputs,
            depth: self.depth + 1,
        })
    }

    /// The value of an expression in this instance.
    pub fn eval(&self, at: At<'t>) -> Attr {
        self.eval_depth(at, 0)
    }

    fn unknown(&self, at: At<'t>) -> Attr {
        Attr { value: Value::Unknown(at.text().to_string()), origin: at.origin() }
    }

    fn eval_depth(&self, at: At<'t>, depth: usize) -> Attr {
        if depth > MAX_DEPTH {
            return self.unknown(at);
        }
        let origin = at.origin();
        let value = |value| Attr { value, origin: origin.clone() };
        match at.node.kind() {
            "expression" | "collection_value" | "template_expr" => {
                let children = at.named_children();
                match children.as_slice() {
                    [one] => self.eval_depth(*one, depth),
                    [first, rest @ ..] if first.node.kind() == "variable_expr" => {
                        self.traversal(at, first.text(), rest, depth)
                    }
                    _ => self.unknown(at),
                }
            }
            "literal_value" => {
                let Some(lit) = at.named_children().into_iter().next() else { return self.unknown(at) };
                match lit.node.kind() {
                    "numeric_lit" => value(Value::Number(lit.text().to_string())),
                    "bool_lit" => value(Value::Bool(lit.text() == "true")),
                    "null_lit" => value(Value::Null),
                    "string_lit" => self.eval_depth(lit, depth),
                    _ => self.unknown(at),
                }
            }
            "string_lit" | "quoted_template" => self.template(at, depth),
            "heredoc_template" => {
                let parts = at.named_children();
                if parts
                    .iter()
                    .any(|p| matches!(p.node.kind(), "template_interpolation" | "template_directive"))
                {
                    return self.unknown(at);
                }
                value(Value::Str(
                    parts.iter().filter(|p| p.node.kind() == "template_literal").map(|p| p.text()).collect(),
                ))
            }
            "variable_expr" => self.traversal(at, at.text(), &[], depth),
            "tuple" => value(Value::List(
                at.named_children()
                    .into_iter()
                    .filter(|c| c.node.kind() == "expression")
                    .map(|c| self.eval_depth(c, depth + 1))
                    .collect(),
            )),
            "object" => {
                let mut map = BTreeMap::new();
                for elem in at.named_children().into_iter().filter(|c| c.node.kind() == "object_elem") {
                    let (Some(key), Some(val)) =
                        (elem.node.child_by_field_name("key"), elem.node.child_by_field_name("val"))
                    else {
                        continue;
                    };
                    let key = self.object_key(elem.with(key));
                    map.insert(key, self.eval_depth(elem.with(val), depth + 1));
                }
                value(Value::Map(map))
            }
            "function_call" => {
                let children = at.named_children();
                let name = children.first().map(|c| c.text()).unwrap_or("");
                let args: Vec<At<'t>> = children
                    .iter()
                    .filter(|c| c.node.kind() == "function_arguments")
                    .flat_map(|a| a.named_children())
                    .filter(|c| c.node.kind() == "expression")
                    .collect();
                match (name, args.as_slice()) {
                    ("jsonencode", [arg]) => {
                        let mut inner = self.eval_depth(*arg, depth + 1);
                        inner.origin = origin;
                        inner
                    }
                    _ => self.unknown(at),
                }
            }
            _ => self.unknown(at),
        }
    }

    /// An object key: a bare identifier or a string (`{ Effect = "Allow" }`, `{ "a" = 1 }`).
    fn object_key(&self, key: At<'t>) -> String {
        let value = self.eval_depth(key, MAX_DEPTH);
        match value.value {
            Value::Str(s) => s,
            _ => key.text().trim().to_string(),
        }
    }

    /// A quoted template: literal text, or a single interpolation (`"${aws_vpc.main.id}"`),
    /// or interpolations that all resolve to strings or numbers.
    fn template(&self, at: At<'t>, depth: usize) -> Attr {
        let parts: Vec<At<'t>> = at
            .named_children()
            .into_iter()
            .filter(|c| !matches!(c.node.kind(), "quoted_template_start" | "quoted_template_end"))
            .collect();
        if let [one] = parts.as_slice()
            && one.node.kind() == "template_interpolation"
        {
            return self.interpolation(*one, depth);
        }
        let mut text = String::new();
        for part in &parts {
            match part.node.kind() {
                "template_literal" => text.push_str(part.text()),
                "template_interpolation" => match self.interpolation(*part, depth).value {
                    Value::Str(s) | Value::Number(s) => text.push_str(&s),
                    _ => return self.unknown(at),
                },
                _ => return self.unknown(at),
            }
        }
        Attr { value: Value::Str(text), origin: at.origin() }
    }

    fn interpolation(&self, at: At<'t>, depth: usize) -> Attr {
        match at.named_children().into_iter().find(|c| c.node.kind() == "expression") {
            Some(expr) => self.eval_depth(expr, depth + 1),
            None => self.unknown(at),
        }
    }

    /// `root.a.b[0]`: a variable, local, module output or resource reference.
    fn traversal(&self, whole: At<'t>, root: &str, rest: &[At<'t>], depth: usize) -> Attr {
        let names: Vec<&str> = rest
            .iter()
            .take_while(|c| c.node.kind() == "get_attr")
            .map(|c| c.text().trim_start_matches('.').trim())
            .collect();
        let origin = whole.origin();
        match (root, names.as_slice()) {
            ("var", [name, ..]) => {
                if names.len() > 1 || rest.len() > names.len() {
                    return self.unknown(whole);
                }
                if let Some(arg) = self.inputs.get(*name) {
                    return arg.clone();
                }
                match self.module.variables.get(*name) {
                    Some(Some(default)) => self.eval_depth(*default, depth + 1),
                    _ => self.unknown(whole),
                }
            }
            ("local", [name]) if rest.len() == 1 => match self.module.locals.get(*name) {
                Some(expr) => self.eval_depth(*expr, depth + 1),
                None => self.unknown(whole),
            },
            ("module", [call, output, ..]) => {
                let child = self
                    .module
                    .calls
                    .iter()
                    .find(|c| c.labels.first().map(String::as_str) == Some(*call))
                    .and_then(|c| self.child(c));
                if child.is_none()
                    && let Some(call) =
                        self.module.calls.iter().find(|c| c.labels.first().map(String::as_str) == Some(*call))
                {
                    let needed = registry::output_inputs(output);
                    if let Some(Ok(r)) = self.registry_call(call, Some(&needed), depth + 1) {
                        return match registry::output(r.known, r.sub, &r.call, output, origin) {
                            Some(value) if names.len() == 2 || matches!(value.value, Value::Reference(_)) => {
                                value
                            }
                            _ => self.unknown(whole),
                        };
                    }
                }
                match child.as_ref().and_then(|i| i.module.outputs.get(*output).map(|e| (i, e))) {
                    Some((instance, expr)) => {
                        let mut value = instance.eval_depth(*expr, depth + 1);
                        if names.len() > 2 && !matches!(value.value, Value::Reference(_)) {
                            return self.unknown(whole);
                        }
                        value.origin = origin;
                        value
                    }
                    None => self.unknown(whole),
                }
            }
            (ty, [name, ..]) if self.module.declared.contains(&format!("{ty}.{name}")) => {
                Attr { value: Value::Reference(format!("{}{ty}.{name}", self.prefix)), origin }
            }
            _ => self.unknown(whole),
        }
    }
}
