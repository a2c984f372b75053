//! Terraform (HCL) to the infrastructure model.
//!
//! Owns: what Terraform resources mean as a data-flow diagram: each resource's element kind
//! ([`kind_of`]), the network boundaries (VPCs, subnets public or private by their route
//! tables, or for a subnet with no association its VPC's main route table; security groups; the
//! Azure and Google networks that mirror them), which boundaries an
//! element sits in (the boundaries its attributes reference, through DB and cache subnet
//! groups), and the flows: security group ingress (from the Internet for `0.0.0.0/0` and
//! `::/0`), load balancer listeners and target groups, API gateway routes and integrations,
//! event sources (S3 notifications, SNS subscriptions, Lambda event source mappings), and a
//! process's references to data stores. Module and expression resolution is `hcl`'s; what a
//! call of a well-known registry module creates is [`registry`]'s table. Must
//! never: do I/O, or guess: an ingress whose source or port is not a literal is an
//! [`Unknown`], not a flow.

mod hcl;
pub mod registry;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet};

use super::model::{
    Attr, Boundary, BoundaryKind, Element, ElementKind, Exposure, Flow, Format, INTERNET, InfraModel,
    Mechanism, Origin, Unknown, Value,
};
use super::{SourceFile, doc};
use crate::limits::MAX_TEMPLATE_PROBLEMS;
use hcl::Instance;

/// Reads the Terraform files (a directory is a module; a directory no other one calls is a
/// root) into `model`.
pub fn extract(files: &[&SourceFile], model: &mut InfraModel) {
    let parsed = hcl::parse(files);
    syntax_problems(files, &parsed, &mut model.unknowns);
    let modules = hcl::modules(&parsed);
    // Directories some local module call names are not roots.
    let mut called = BTreeSet::new();
    for module in modules.values() {
        for call in &module.calls {
            let source = call.items().0.into_iter().find(|(n, ..)| n == "source");
            if let Some(Value::Str(s)) = source.map(|(_, _, e)| root_instance(&modules, module).eval(e).value)
                && let Some(dir) = hcl::join_source(&module.dir, &s)
            {
                called.insert(dir);
            }
        }
    }
    let mut resources = Vec::new();
    for module in modules.values().filter(|m| !called.contains(&m.dir)) {
        collect(root_instance(&modules, module), &mut resources, &mut model.unknowns);
    }
    build(resources, model);
}

/// What could not be read, at its location: each syntax error of a file (tree-sitter's error
/// recovery skips that part, so a resource written there would be missing from the baseline
/// without a word), at most [`MAX_TEMPLATE_PROBLEMS`] per file and a count of the rest, and a
/// file the parser gave up on. The same messages the YAML/JSON reader gives
/// ([`crate::infra::doc::syntax_errors`]).
fn syntax_problems(files: &[&SourceFile], parsed: &[hcl::Parsed<'_>], unknowns: &mut Vec<Unknown>) {
    let origin = |file: &SourceFile, line: u32, start: usize, end: usize| Origin {
        path: file.path.clone(),
        line,
        start,
        end,
    };
    for file in files {
        let Some(tree) = parsed.iter().find(|p| std::ptr::eq(p.file, *file)).map(|p| &p.tree) else {
            unknowns.push(Unknown { what: "this file was not read".into(), origin: origin(file, 1, 0, 0) });
            continue;
        };
        let errors = doc::syntax_errors(tree.root_node());
        for node in errors.iter().take(MAX_TEMPLATE_PROBLEMS) {
            let line = node.start_position().row as u32 + 1;
            unknowns.push(Unknown {
                what: doc::SYNTAX_ERROR.into(),
                origin: origin(file, line, node.start_byte(), node.end_byte()),
            });
        }
        if errors.len() > MAX_TEMPLATE_PROBLEMS {
            unknowns.push(Unknown {
                what: format!("{} more problems reading this file", errors.len() - MAX_TEMPLATE_PROBLEMS),
                origin: origin(file, 1, 0, 0),
            });
        }
    }
}

fn root_instance<'m, 't>(
    modules: &'m BTreeMap<String, hcl::Module<'t>>,
    module: &'m hcl::Module<'t>,
) -> Instance<'m, 't> {
    Instance { modules, module, prefix: String::new(), inputs: BTreeMap::new(), depth: 0 }
}

/// Every resource of an instance and its children, with attributes evaluated.
fn collect(instance: Instance<'_, '_>, out: &mut Vec<Element>, unknowns: &mut Vec<Unknown>) {
    for (ty, name, block) in &instance.module.resources {
        let key = format!("{}{ty}.{name}", instance.prefix);
        let attributes = body(&instance, block);
        out.push(Element {
            key,
            kind: kind_of(ty),
            format: Format::Terraform,
            resource_type: ty.clone(),
            name: name.clone(),
            boundaries: Vec::new(),
            origin: block.at.origin(),
            attributes,
        });
    }
    for (call, child) in instance.children() {
        match child {
            Some(child) => collect(child, out, unknowns),
            None => match instance.registry_call(&call, None, 0) {
                // A registry module the table knows: its resources, synthesized.
                Some(Ok(mut r)) => registry::expand(
                    r.known,
                    r.sub,
                    &r.source,
                    r.version.as_ref(),
                    &mut r.call,
                    out,
                    unknowns,
                ),
                other => {
                    let why = match other {
                        Some(Err(reason)) => format!(", and {reason}"),
                        _ => String::new(),
                    };
                    unknowns.push(Unknown {
                        what: format!(
                            "{}module.{}: its source is not a local directory of this tree{why}",
                            instance.prefix,
                            call.labels.first().map(String::as_str).unwrap_or("")
                        ),
                        origin: call.at.origin(),
                    })
                }
            },
        }
    }
}

/// A block body's attributes and nested blocks (each nested block kind a list of maps; a
/// `dynamic "x"` block makes `x` unknown).
fn body(instance: &Instance<'_, '_>, block: &hcl::Block<'_>) -> BTreeMap<String, Attr> {
    let (attributes, blocks) = block.items();
    let mut map = BTreeMap::new();
    for (name, _, expr) in attributes {
        map.insert(name, instance.eval(expr));
    }
    for nested in blocks {
        let origin = nested.at.origin();
        if nested.kind == "dynamic" {
            let name = nested.labels.first().cloned().unwrap_or_default();
            map.insert(name, Attr { value: Value::Unknown(nested.at.text().to_string()), origin });
            continue;
        }
        let value = Attr { value: Value::Map(body(instance, &nested)), origin: origin.clone() };
        match map
            .entry(nested.kind.clone())
            .or_insert_with(|| Attr { value: Value::List(Vec::new()), origin })
        {
            Attr { value: Value::List(items), .. } => items.push(value),
            other => *other = value,
        }
    }
    map
}

/// The element kind of a resource type: data stores and processes of AWS, Azure and Google;
/// everything else configures them.
pub fn kind_of(ty: &str) -> ElementKind {
    const STORES: &[&str] = &[
        "aws_s3_bucket",
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_docdb_cluster",
        "aws_redshift_cluster",
        "aws_dynamodb_table",
        "aws_elasticache_cluster",
        "aws_elasticache_replication_group",
        "aws_sqs_queue",
        "aws_sns_topic",
        "aws_efs_file_system",
        "aws_ebs_volume",
        "aws_secretsmanager_secret",
        "aws_ssm_parameter",
        "aws_opensearch_domain",
        "aws_elasticsearch_domain",
        "aws_kinesis_stream",
        "azurerm_storage_account",
        "azurerm_storage_container",
        "azurerm_mssql_server",
        "azurerm_postgresql_server",
        "azurerm_postgresql_flexible_server",
        "azurerm_mysql_server",
        "azurerm_mysql_flexible_server",
        "azurerm_cosmosdb_account",
        "azurerm_key_vault",
        "azurerm_redis_cache",
        "google_storage_bucket",
        "google_sql_database_instance",
        "google_bigquery_dataset",
        "google_pubsub_topic",
        "google_redis_instance",
    ];
    const PROCESSES: &[&str] = &[
        "aws_instance",
        "aws_autoscaling_group",
        "aws_lambda_function",
        "aws_ecs_service",
        "aws_eks_cluster",
        "aws_lb",
        "aws_alb",
        "aws_elb",
        "aws_api_gateway_rest_api",
        "aws_apigatewayv2_api",
        "aws_cloudfront_distribution",
        "azurerm_linux_virtual_machine",
        "azurerm_windows_virtual_machine",
        "azurerm_linux_function_app",
        "azurerm_windows_function_app",
        "azurerm_linux_web_app",
        "azurerm_windows_web_app",
        "azurerm_kubernetes_cluster",
        "azurerm_application_gateway",
        "google_compute_instance",
        "google_cloudfunctions_function",
        "google_cloudfunctions2_function",
        "google_cloud_run_service",
        "google_cloud_run_v2_service",
        "google_container_cluster",
    ];
    if STORES.contains(&ty) {
        ElementKind::DataStore
    } else if PROCESSES.contains(&ty) {
        ElementKind::Process
    } else {
        ElementKind::Configuration
    }
}

/// The boundary kind of a resource type, if it is one.
fn boundary_kind(ty: &str) -> Option<BoundaryKind> {
    Some(match ty {
        "aws_vpc" | "azurerm_virtual_network" | "google_compute_network" => BoundaryKind::Vpc,
        "aws_subnet" | "azurerm_subnet" | "google_compute_subnetwork" => {
            BoundaryKind::Subnet(Exposure::Unknown)
        }
        "aws_security_group" | "azurerm_network_security_group" => BoundaryKind::SecurityGroup,
        _ => return None,
    })
}

/// Resources whose subnets and security groups are those of the resources that reference them.
const VIA: &[&str] = &[
    "aws_db_subnet_group",
    "aws_elasticache_subnet_group",
    "aws_redshift_subnet_group",
    "aws_launch_template",
    "aws_launch_configuration",
];

/// The elements, boundaries and flows of the collected resources.
fn build(resources: Vec<Element>, model: &mut InfraModel) {
    let by_key: BTreeMap<&str, &Element> = resources.iter().map(|e| (e.key.as_str(), e)).collect();
    let of_type = |types: &[&str]| -> Vec<&Element> {
        resources.iter().filter(|e| types.contains(&e.resource_type.as_str())).collect()
    };

    // Boundaries; a subnet's exposure from its route tables.
    let public_tables = public_route_tables(&resources);
    let mut boundaries = Vec::new();
    for e in &resources {
        let Some(mut kind) = boundary_kind(&e.resource_type) else { continue };
        if let BoundaryKind::Subnet(_) = kind {
            kind = BoundaryKind::Subnet(subnet_exposure(e, &resources, &public_tables));
        }
        let parent = ["vpc_id", "virtual_network_name", "network"]
            .iter()
            .find_map(|a| e.attr(a).and_then(|v| v.references().first().map(|r| r.to_string())));
        boundaries.push(Boundary {
            key: e.key.clone(),
            kind,
            name: e.name.clone(),
            parent,
            origin: e.origin.clone(),
        });
    }
    let boundary_keys: BTreeSet<&str> = boundaries.iter().map(|b| b.key.as_str()).collect();
    let parents: BTreeMap<&str, &str> =
        boundaries.iter().filter_map(|b| Some((b.key.as_str(), b.parent.as_deref()?))).collect();

    // Each element's boundaries: those its attributes reference, through subnet groups, and
    // their parents.
    let mut elements: Vec<Element> = Vec::with_capacity(resources.len());
    for e in &resources {
        let mut refs = BTreeSet::new();
        for attr in e.attributes.values() {
            deep_references(attr, &mut refs);
        }
        // Subnet groups and launch templates hold the subnets and security groups of the
        // resources that name them.
        for r in refs.clone() {
            if let Some(via) = by_key.get(r.as_str())
                && VIA.contains(&via.resource_type.as_str())
            {
                for attr in via.attributes.values() {
                    deep_references(attr, &mut refs);
                }
            }
        }
        let mut inside: BTreeSet<String> =
            refs.into_iter().filter(|r| boundary_keys.contains(r.as_str())).collect();
        let direct: Vec<String> = inside.iter().cloned().collect();
        for b in direct {
            let mut at = b.as_str();
            while let Some(parent) = parents.get(at) {
                if !inside.insert(parent.to_string()) {
                    break;
                }
                at = parent;
            }
        }
        let mut element = e.clone();
        element.boundaries = inside.into_iter().collect();
        elements.push(element);
    }

    // Flows.
    let mut flows = Vec::new();
    let members = |boundary: &str| -> Vec<String> {
        let inside: Vec<String> = elements
            .iter()
            .filter(|e| e.kind != ElementKind::Configuration && e.boundaries.iter().any(|b| b == boundary))
            .map(|e| e.key.clone())
            .collect();
        if inside.is_empty() { vec![boundary.to_string()] } else { inside }
    };
    for ingress in security_group_ingress(&resources, &mut model.unknowns) {
        let targets = members(&ingress.group);
        let sources = match &ingress.source {
            Source::Internet => vec![INTERNET.to_string()],
            Source::Group(g) => members(g),
        };
        for from in &sources {
            for to in &targets {
                flows.push(Flow {
                    from: from.clone(),
                    to: to.clone(),
                    mechanism: ingress.mechanism.clone(),
                    origin: ingress.origin.clone(),
                    also: Vec::new(),
                });
            }
        }
    }
    load_balancer_flows(&resources, &of_type, &mut flows);
    api_gateway_flows(&resources, &of_type, &mut flows);
    event_flows(&of_type, &mut flows);
    // A process that references a data store uses it.
    for e in elements.iter().filter(|e| e.kind == ElementKind::Process) {
        let mut refs = BTreeSet::new();
        for attr in e.attributes.values() {
            deep_references(attr, &mut refs);
        }
        for r in refs {
            if by_key.get(r.as_str()).is_some_and(|t| t.kind == ElementKind::DataStore) {
                flows.push(Flow {
                    from: e.key.clone(),
                    to: r,
                    mechanism: Mechanism::default(),
                    origin: e.origin.clone(),
                    also: Vec::new(),
                });
            }
        }
    }

    // What could not be resolved: each unknown top-level attribute of a diagram element.
    for e in elements.iter().filter(|e| e.kind != ElementKind::Configuration) {
        for (name, attr) in &e.attributes {
            if let Value::Unknown(text) = &attr.value {
                model.unknowns.push(Unknown {
                    what: format!("{}.{name} = {text}", e.key),
                    origin: attr.origin.clone(),
                });
            }
        }
    }
    let drawn: BTreeSet<&str> = elements.iter().map(|e| e.key.as_str()).collect();
    flows
        .retain(|f| (f.from == INTERNET || drawn.contains(f.from.as_str())) && drawn.contains(f.to.as_str()));
    model.elements.extend(elements);
    model.boundaries.extend(boundaries);
    model.flows.extend(flows);
}

/// Every reference inside a value.
fn deep_references(attr: &Attr, out: &mut BTreeSet<String>) {
    match &attr.value {
        Value::Reference(r) => {
            out.insert(r.clone());
        }
        Value::List(items) => items.iter().for_each(|i| deep_references(i, out)),
        Value::Map(map) => map.values().for_each(|i| deep_references(i, out)),
        _ => {}
    }
}

/// Route tables with a route to an internet gateway (inline `route` blocks or `aws_route`).
fn public_route_tables(resources: &[Element]) -> BTreeSet<String> {
    let is_gateway = |attr: Option<&Attr>| {
        attr.is_some_and(|a| a.references().iter().any(|r| r.contains("aws_internet_gateway.")))
    };
    let mut public = BTreeSet::new();
    for e in resources {
        match e.resource_type.as_str() {
            "aws_route_table" | "aws_default_route_table"
                if e.attr("route")
                    .is_some_and(|r| r.as_list().iter().any(|route| is_gateway(route.get("gateway_id")))) =>
            {
                public.insert(e.key.clone());
            }
            "aws_route" if is_gateway(e.attr("gateway_id")) => {
                if let Some(table) =
                    e.attr("route_table_id").and_then(|t| t.references().first().map(|r| r.to_string()))
                {
                    public.insert(table);
                }
            }
            _ => {}
        }
    }
    public
}

/// Public when it maps public IPs on launch or a public route table is associated with it;
/// private when route tables are associated and none is public; unknown otherwise.
fn subnet_exposure(subnet: &Element, resources: &[Element], public_tables: &BTreeSet<String>) -> Exposure {
    if subnet.attr("map_public_ip_on_launch").and_then(Attr::as_bool) == Some(true) {
        return Exposure::Public;
    }
    let mut associated = false;
    for a in resources.iter().filter(|e| e.resource_type == "aws_route_table_association") {
        if !a.attr("subnet_id").is_some_and(|s| s.references().contains(&subnet.key.as_str())) {
            continue;
        }
        match a.attr("route_table_id").and_then(|t| t.references().first().map(|r| r.to_string())) {
            Some(table) if public_tables.contains(&table) => return Exposure::Public,
            Some(_) => associated = true,
            None => return Exposure::Unknown,
        }
    }
    if associated { Exposure::Private } else { main_table_exposure(subnet, resources, public_tables) }
}

/// A subnet with no explicit association uses its VPC's main route table: the table an
/// `aws_main_route_table_association` names, else the VPC's default table as
/// `aws_default_route_table` (`default_route_table_id = aws_vpc.x.default_route_table_id`)
/// declares it, or as `aws_route`s on `aws_vpc.x.default_route_table_id` /
/// `main_route_table_id` extend it (a route to an internet gateway makes it public). Unknown
/// when the template says nothing of the main table (its routes are then outside the
/// template).
fn main_table_exposure(
    subnet: &Element,
    resources: &[Element],
    public_tables: &BTreeSet<String>,
) -> Exposure {
    let Some(vpc) = first_ref(subnet, "vpc_id") else { return Exposure::Unknown };
    let of_vpc = |e: &&Element, attr: &str| e.attr(attr).is_some_and(|a| a.references() == [vpc.as_str()]);
    if let Some(main) = resources
        .iter()
        .filter(|e| e.resource_type == "aws_main_route_table_association")
        .find(|e| of_vpc(e, "vpc_id"))
    {
        return match first_ref(main, "route_table_id") {
            Some(table) if public_tables.contains(&table) => Exposure::Public,
            Some(table) if resources.iter().any(|e| e.key == table) => Exposure::Private,
            _ => Exposure::Unknown,
        };
    }
    // Routes added to the VPC's main table by reference to the VPC's attribute.
    if public_tables.contains(&vpc) {
        return Exposure::Public;
    }
    match resources
        .iter()
        .filter(|e| e.resource_type == "aws_default_route_table")
        .find(|e| of_vpc(e, "default_route_table_id"))
    {
        Some(table) if public_tables.contains(&table.key) => Exposure::Public,
        Some(table) if table.attr("route").is_some_and(Attr::is_unknown) => Exposure::Unknown,
        Some(_) => Exposure::Private,
        None => Exposure::Unknown,
    }
}

/// Where an ingress rule lets traffic in from.
enum Source {
    Internet,
    Group(String),
}

struct Ingress {
    group: String,
    source: Source,
    mechanism: Mechanism,
    origin: Origin,
}

const ANYWHERE: &[&str] = &["0.0.0.0/0", "::/0"];

/// The ingress rules of security groups: inline `ingress` blocks, `aws_security_group_rule`
/// of type `ingress`, `aws_vpc_security_group_ingress_rule`.
fn security_group_ingress(resources: &[Element], unknowns: &mut Vec<Unknown>) -> Vec<Ingress> {
    let mut out = Vec::new();
    let mut add =
        |group: String, rule: &BTreeMap<String, Attr>, origin: Origin, unknowns: &mut Vec<Unknown>| {
            let mechanism = sg_mechanism(rule);
            let mut sources = Vec::new();
            for name in ["cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6"] {
                let Some(cidrs) = rule.get(name) else { continue };
                if cidrs.is_unknown() || cidrs.as_list().iter().any(Attr::is_unknown) {
                    unknowns.push(Unknown {
                        what: format!("{group}: ingress {name} is not a literal"),
                        origin: cidrs.origin.clone(),
                    });
                }
                if cidrs.strings().iter().any(|c| ANYWHERE.contains(c)) {
                    sources.push(Source::Internet);
                }
            }
            for name in ["security_groups", "source_security_group_id", "referenced_security_group_id"] {
                for r in rule.get(name).map(|a| a.references()).unwrap_or_default() {
                    sources.push(Source::Group(r.to_string()));
                }
            }
            for source in sources {
                out.push(Ingress {
                    group: group.clone(),
                    source,
                    mechanism: mechanism.clone(),
                    origin: origin.clone(),
                });
            }
        };
    for e in resources {
        match e.resource_type.as_str() {
            "aws_security_group" => {
                for rule in e.attr("ingress").map(|i| i.as_list()).unwrap_or_default() {
                    if let Some(map) = rule.as_map() {
                        add(e.key.clone(), map, rule.origin.clone(), unknowns);
                    }
                }
            }
            "aws_security_group_rule" | "aws_vpc_security_group_ingress_rule" => {
                if e.resource_type == "aws_security_group_rule"
                    && e.attr("type").and_then(Attr::as_str) != Some("ingress")
                {
                    continue;
                }
                match e.attr("security_group_id").map(|g| g.references()) {
                    Some(groups) if !groups.is_empty() => {
                        add(groups[0].to_string(), &e.attributes, e.origin.clone(), unknowns)
                    }
                    _ => unknowns.push(Unknown {
                        what: format!("{}: its security group is not resolvable", e.key),
                        origin: e.origin.clone(),
                    }),
                }
            }
            _ => {}
        }
    }
    out
}

/// A security group rule's protocol and ports (`-1` is every protocol and port).
fn sg_mechanism(rule: &BTreeMap<String, Attr>) -> Mechanism {
    let protocol = rule.get("protocol").or_else(|| rule.get("ip_protocol")).and_then(|p| match &p.value {
        Value::Str(s) | Value::Number(s) => Some(s.to_ascii_lowercase()),
        _ => None,
    });
    if matches!(protocol.as_deref(), Some("-1" | "all")) {
        return Mechanism { protocol: Some("all".to_string()), ports: Some((0, 65535)) };
    }
    let from = rule.get("from_port").and_then(Attr::as_u64);
    let to = rule.get("to_port").and_then(Attr::as_u64);
    let ports = match (from, to) {
        (Some(0), Some(0)) => Some((0, 65535)),
        (Some(a), Some(b)) => Some((a.min(b), a.max(b))),
        (Some(a), None) | (None, Some(a)) => Some((a, a)),
        (None, None) => None,
    };
    Mechanism { protocol, ports }
}

fn first_ref(e: &Element, name: &str) -> Option<String> {
    e.attr(name).and_then(|a| a.references().first().map(|r| r.to_string()))
}

/// Listeners (Internet to an internet-facing load balancer; the load balancer to each target of
/// the listener's target group).
fn load_balancer_flows<'e>(
    resources: &'e [Element],
    of_type: &dyn Fn(&[&str]) -> Vec<&'e Element>,
    flows: &mut Vec<Flow>,
) {
    // Targets of each target group.
    let mut targets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in of_type(&["aws_lb_target_group_attachment", "aws_alb_target_group_attachment"]) {
        if let (Some(tg), Some(target)) = (first_ref(a, "target_group_arn"), first_ref(a, "target_id")) {
            targets.entry(tg).or_default().push(target);
        }
    }
    for asg in of_type(&["aws_autoscaling_group"]) {
        for tg in asg.attr("target_group_arns").map(|t| t.references()).unwrap_or_default() {
            targets.entry(tg.to_string()).or_default().push(asg.key.clone());
        }
    }
    for svc in of_type(&["aws_ecs_service"]) {
        for lb in svc.attr("load_balancer").map(|l| l.as_list()).unwrap_or_default() {
            if let Some(tg) =
                lb.get("target_group_arn").and_then(|t| t.references().first().map(|r| r.to_string()))
            {
                targets.entry(tg).or_default().push(svc.key.clone());
            }
        }
    }
    let by_key: BTreeMap<&str, &Element> = resources.iter().map(|e| (e.key.as_str(), e)).collect();
    // Classic load balancers: inline listeners, instances by reference.
    for elb in of_type(&["aws_elb"]) {
        let public = elb.attr("internal").and_then(Attr::as_bool) != Some(true);
        let instances = elb.attr("instances").map(|i| i.references()).unwrap_or_default();
        for listener in elb.attr("listener").map(|l| l.as_list()).unwrap_or_default() {
            let mechanism = |protocol: &str, port: &str| Mechanism {
                protocol: listener.get(protocol).and_then(Attr::as_str).map(str::to_ascii_lowercase),
                ports: listener.get(port).and_then(Attr::as_u64).map(|p| (p, p)),
            };
            if public {
                flows.push(Flow {
                    from: INTERNET.to_string(),
                    to: elb.key.clone(),
                    mechanism: mechanism("lb_protocol", "lb_port"),
                    origin: listener.origin.clone(),
                    also: Vec::new(),
                });
            }
            for instance in &instances {
                flows.push(Flow {
                    from: elb.key.clone(),
                    to: instance.to_string(),
                    mechanism: mechanism("instance_protocol", "instance_port"),
                    origin: listener.origin.clone(),
                    also: Vec::new(),
                });
            }
        }
    }
    for listener in of_type(&["aws_lb_listener", "aws_alb_listener"]) {
        let Some(lb) = first_ref(listener, "load_balancer_arn") else { continue };
        let mechanism = Mechanism {
            protocol: listener.attr("protocol").and_then(Attr::as_str).map(str::to_ascii_lowercase),
            ports: listener.attr("port").and_then(Attr::as_u64).map(|p| (p, p)),
        };
        let internal = by_key.get(lb.as_str()).and_then(|l| l.attr("internal")).and_then(Attr::as_bool);
        if internal == Some(false) || by_key.get(lb.as_str()).is_some_and(|l| l.attr("internal").is_none()) {
            flows.push(Flow {
                from: INTERNET.to_string(),
                to: lb.clone(),
                mechanism: mechanism.clone(),
                origin: listener.origin.clone(),
                also: Vec::new(),
            });
        }
        for action in listener.attr("default_action").map(|a| a.as_list()).unwrap_or_default() {
            let Some(tg) =
                action.get("target_group_arn").and_then(|t| t.references().first().map(|r| r.to_string()))
            else {
                continue;
            };
            let port = by_key.get(tg.as_str()).and_then(|t| t.attr("port")).and_then(Attr::as_u64);
            let protocol = by_key
                .get(tg.as_str())
                .and_then(|t| t.attr("protocol"))
                .and_then(Attr::as_str)
                .map(str::to_ascii_lowercase);
            for target in targets.get(&tg).into_iter().flatten() {
                flows.push(Flow {
                    from: lb.clone(),
                    to: target.clone(),
                    mechanism: Mechanism { protocol: protocol.clone(), ports: port.map(|p| (p, p)) },
                    origin: action.origin.clone(),
                    also: Vec::new(),
                });
            }
        }
    }
}

/// API gateways: the Internet to each API, each API to its integrations' targets.
fn api_gateway_flows<'e>(
    resources: &'e [Element],
    of_type: &dyn Fn(&[&str]) -> Vec<&'e Element>,
    flows: &mut Vec<Flow>,
) {
    let _ = resources;
    for api in of_type(&["aws_apigatewayv2_api", "aws_api_gateway_rest_api"]) {
        let protocol =
            api.attr("protocol_type").and_then(Attr::as_str).unwrap_or("https").to_ascii_lowercase();
        flows.push(Flow {
            from: INTERNET.to_string(),
            to: api.key.clone(),
            mechanism: Mechanism {
                protocol: Some(if protocol == "http" { "https".into() } else { protocol }),
                ports: None,
            },
            origin: api.origin.clone(),
            also: Vec::new(),
        });
    }
    for integration in of_type(&["aws_apigatewayv2_integration", "aws_api_gateway_integration"]) {
        let api = first_ref(integration, "api_id").or_else(|| first_ref(integration, "rest_api_id"));
        let target = first_ref(integration, "integration_uri").or_else(|| first_ref(integration, "uri"));
        if let (Some(api), Some(target)) = (api, target) {
            flows.push(Flow {
                from: api,
                to: target,
                mechanism: Mechanism { protocol: Some("integration".into()), ports: None },
                origin: integration.origin.clone(),
                also: Vec::new(),
            });
        }
    }
}

/// Event sources: S3 notifications, SNS subscriptions, Lambda event source mappings.
fn event_flows<'e>(of_type: &dyn Fn(&[&str]) -> Vec<&'e Element>, flows: &mut Vec<Flow>) {
    let mut add = |from: Option<String>, to: Option<String>, mechanism: &str, origin: &Origin| {
        if let (Some(from), Some(to)) = (from, to) {
            flows.push(Flow {
                from,
                to,
                mechanism: Mechanism { protocol: Some(mechanism.into()), ports: None },
                origin: origin.clone(),
                also: Vec::new(),
            });
        }
    };
    for m in of_type(&["aws_lambda_event_source_mapping"]) {
        add(first_ref(m, "event_source_arn"), first_ref(m, "function_name"), "event", &m.origin);
    }
    for s in of_type(&["aws_sns_topic_subscription"]) {
        add(first_ref(s, "topic_arn"), first_ref(s, "endpoint"), "sns", &s.origin);
    }
    for n in of_type(&["aws_s3_bucket_notification"]) {
        let bucket = first_ref(n, "bucket");
        for (block, attr) in
            [("lambda_function", "lambda_function_arn"), ("queue", "queue_arn"), ("topic", "topic_arn")]
        {
            for target in n.attr(block).map(|b| b.as_list()).unwrap_or_default() {
                let to = target.get(attr).and_then(|t| t.references().first().map(|r| r.to_string()));
                add(bucket.clone(), to, "s3-event", &target.origin);
            }
        }
    }
}

#[cfg(test)]
mod tests;
