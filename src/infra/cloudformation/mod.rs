//! CloudFormation (YAML and JSON) to the infrastructure model.
//!
//! Owns: a template's resources as elements (stores, compute, load balancers, API gateways;
//! IAM policies and trails as configuration elements, which rules read and diagrams skip) keyed `cfn:LogicalId`, its VPCs, subnets (public when a route to an internet
//! gateway is associated or `MapPublicIpOnLaunch` is true, private when associations are known
//! and none is) and security groups as boundaries, and the flows the template states: security
//! group ingress (inline and `AWS::EC2::SecurityGroupIngress`; `0.0.0.0/0` and `::/0` from the
//! Internet), load balancer listeners and their target groups, API Gateway methods, routes and
//! integrations, Lambda event source mappings, S3 notifications, SNS subscriptions, and a
//! function's environment naming a store. Intrinsic functions are resolved where static: `Ref`
//! to a resource is a reference, to a parameter its literal `Default`; `Fn::GetAtt` a
//! reference; `Fn::Sub` and `Fn::Join` a string when every part is literal. The rest (pseudo
//! parameters, `Fn::If`, `Fn::ImportValue`, parameters without a default...) is
//! [`Value::Unknown`] and an [`Unknown`] of the model. Must never: do I/O or guess.
//!
//! Keys are `cfn:LogicalId`; a template whose logical ids collide with keys already in the
//! model (another template read before it, in path order) uses `cfn:path#LogicalId`.

pub mod rules;

use std::collections::{BTreeMap, BTreeSet};

use super::doc::Node;
use super::documents::{Source, is_internet_cidr};
use super::model::{
    Attr, Boundary, BoundaryKind, Element, ElementKind, Exposure, Flow, INTERNET, InfraModel, Mechanism,
    Origin, Unknown, Value,
};

/// What a resource type becomes.
fn classify(resource_type: &str) -> Option<ElementKind> {
    const STORES: &[&str] = &[
        "AWS::S3::Bucket",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::DynamoDB::Table",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::ElastiCache::CacheCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::SecretsManager::Secret",
        "AWS::EFS::FileSystem",
        "AWS::Kinesis::Stream",
        "AWS::OpenSearchService::Domain",
        "AWS::Elasticsearch::Domain",
        "AWS::DocDB::DBCluster",
        "AWS::Redshift::Cluster",
    ];
    const PROCESSES: &[&str] = &[
        "AWS::Lambda::Function",
        "AWS::Serverless::Function",
        "AWS::EC2::Instance",
        "AWS::ECS::Service",
        "AWS::AutoScaling::AutoScalingGroup",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::ElasticLoadBalancing::LoadBalancer",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGatewayV2::Api",
        "AWS::CloudFront::Distribution",
    ];
    // Read by rules, not drawn.
    const CONFIGURATION: &[&str] = &[
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::User",
        "AWS::CloudTrail::Trail",
    ];
    if STORES.contains(&resource_type) {
        Some(ElementKind::DataStore)
    } else if PROCESSES.contains(&resource_type) {
        Some(ElementKind::Process)
    } else if CONFIGURATION.contains(&resource_type) {
        Some(ElementKind::Configuration)
    } else {
        None
    }
}

/// One resource of the template.
struct Resource<'d> {
    id: &'d str,
    resource_type: &'d str,
    node: &'d Node,
    key_origin: Origin,
    properties: BTreeMap<String, Attr>,
}

struct Template<'d, 's> {
    source: &'s Source<'s>,
    prefix: String,
    resources: Vec<Resource<'d>>,
    parameters: BTreeMap<&'d str, &'d Node>,
    unknowns: Vec<Unknown>,
}

/// Reads every CloudFormation document of a file into `model`.
pub fn extract(source: &Source, documents: &[Node], model: &mut InfraModel) {
    for document in documents {
        extract_one(source, document, model);
    }
}

fn extract_one(source: &Source, document: &Node, model: &mut InfraModel) {
    let Some(resources) = document.get("Resources") else {
        return;
    };
    let collides = resources.entries().iter().any(|e| {
        let key = format!("cfn:{}", e.key);
        model.element(&key).is_some() || model.boundary(&key).is_some()
    });
    let prefix = if collides { format!("cfn:{}#", source.path) } else { "cfn:".to_string() };
    let parameters = document
        .get("Parameters")
        .map(|p| p.entries().iter().filter_map(|e| Some((&*e.key, e.value.get("Default")?))).collect())
        .unwrap_or_default();
    let mut template = Template { source, prefix, resources: Vec::new(), parameters, unknowns: Vec::new() };
    let ids: BTreeSet<&str> = resources.entries().iter().map(|e| &*e.key).collect();
    for entry in resources.entries() {
        let Some(resource_type) = entry.value.get("Type").and_then(Node::str) else {
            template.unknowns.push(Unknown {
                what: "a resource without a literal Type".into(),
                origin: source.origin(entry.key_span),
            });
            continue;
        };
        let properties = match entry.value.get("Properties") {
            Some(props) => template.resolve_map(props, &entry.key, &ids),
            None => BTreeMap::new(),
        };
        template.resources.push(Resource {
            id: &entry.key,
            resource_type,
            node: &entry.value,
            key_origin: source.origin(entry.key_span),
            properties,
        });
    }
    template.build(model);
    model.unknowns.append(&mut template.unknowns);
}

impl<'d> Template<'d, '_> {
    fn key(&self, id: &str) -> String {
        format!("{}{id}", self.prefix)
    }

    fn resource(&self, key: &str) -> Option<&Resource<'d>> {
        self.resources.iter().find(|r| self.key(r.id) == key)
    }

    /// Properties with intrinsic functions resolved (see the module docs).
    fn resolve_map(&mut self, props: &Node, id: &str, ids: &BTreeSet<&str>) -> BTreeMap<String, Attr> {
        let source = self.source;
        let prefix = self.prefix.clone();
        let parameters = self.parameters.clone();
        let mut unknowns = Vec::new();
        let attributes = source.attributes(props, &mut |node| {
            let (name, argument) = node.intrinsic()?;
            let resolved = resolve(name, argument, ids, &parameters, &prefix, source);
            if let Value::Unknown(what) = &resolved.value {
                unknowns.push(Unknown { what: format!("{id}: {what}"), origin: resolved.origin.clone() });
            }
            Some(Attr { value: resolved.value, origin: source.origin(node.span) })
        });
        self.unknowns.extend(unknowns);
        attributes
    }

    fn build(&self, model: &mut InfraModel) {
        let format = self.source.format;
        // Boundaries.
        for r in &self.resources {
            let kind = match r.resource_type {
                "AWS::EC2::VPC" => BoundaryKind::Vpc,
                "AWS::EC2::Subnet" => BoundaryKind::Subnet(self.subnet_exposure(r)),
                "AWS::EC2::SecurityGroup" => BoundaryKind::SecurityGroup,
                _ => continue,
            };
            let parent =
                r.properties.get("VpcId").and_then(|a| a.references().first().map(|s| s.to_string()));
            model.boundaries.push(Boundary {
                key: self.key(r.id),
                kind,
                name: r.id.to_string(),
                parent,
                origin: r.key_origin.clone(),
            });
        }
        // Elements.
        for r in &self.resources {
            let Some(kind) = classify(r.resource_type) else {
                continue;
            };
            let mut attributes = r.properties.clone();
            self.synthetic_attributes(r, &mut attributes);
            model.elements.push(Element {
                key: self.key(r.id),
                kind,
                format,
                resource_type: r.resource_type.to_string(),
                name: r.id.to_string(),
                boundaries: self.boundaries_of(r),
                origin: r.key_origin.clone(),
                attributes,
            });
        }
        let mut flows = Vec::new();
        self.security_group_flows(model, &mut flows);
        self.listener_flows(&mut flows);
        self.api_flows(&mut flows);
        self.event_flows(&mut flows);
        model.flows.extend(flows);
    }

    /// Attributes the rules read that the template states on other resources: a load
    /// balancer's `Listeners`, an API's `Methods`/`Routes`, a bucket's `PublicAccessBlock` from
    /// a bucket policy, the `DeletionPolicy`.
    fn synthetic_attributes(&self, r: &Resource<'d>, attributes: &mut BTreeMap<String, Attr>) {
        let key = self.key(r.id);
        let mut gather = |types: &[&str], link: &str, name: &str| {
            let items: Vec<Attr> = self
                .resources
                .iter()
                .filter(|o| types.contains(&o.resource_type))
                .filter(|o| o.properties.get(link).is_some_and(|a| a.references().contains(&key.as_str())))
                .map(|o| Attr { value: Value::Map(o.properties.clone()), origin: o.key_origin.clone() })
                .collect();
            if !items.is_empty() {
                attributes.insert(
                    name.to_string(),
                    Attr { value: Value::List(items), origin: r.key_origin.clone() },
                );
            }
        };
        gather(&["AWS::ElasticLoadBalancingV2::Listener"], "LoadBalancerArn", "Listeners");
        gather(&["AWS::ApiGateway::Method"], "RestApiId", "Methods");
        gather(&["AWS::ApiGatewayV2::Route"], "ApiId", "Routes");
        gather(
            &["AWS::WAFv2::WebACLAssociation", "AWS::WAFRegional::WebACLAssociation"],
            "ResourceArn",
            "WebACLAssociations",
        );
        gather(&["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"], "Roles", "AttachedPolicies");
        for (name, field) in
            [("DeletionPolicy", "DeletionPolicy"), ("UpdateReplacePolicy", "UpdateReplacePolicy")]
        {
            if let Some(node) = r.node.get(field) {
                attributes.insert(name.to_string(), self.source.attr(node));
            }
        }
    }

    fn subnet_exposure(&self, subnet: &Resource<'d>) -> Exposure {
        if subnet.properties.get("MapPublicIpOnLaunch").and_then(Attr::as_bool) == Some(true) {
            return Exposure::Public;
        }
        let key = self.key(subnet.id);
        let tables: Vec<String> = self
            .resources
            .iter()
            .filter(|r| r.resource_type == "AWS::EC2::SubnetRouteTableAssociation")
            .filter(|r| r.properties.get("SubnetId").is_some_and(|a| a.references().contains(&key.as_str())))
            .filter_map(|r| r.properties.get("RouteTableId")?.references().first().map(|s| s.to_string()))
            .collect();
        if tables.is_empty() {
            return Exposure::Unknown;
        }
        let public = self.resources.iter().any(|r| {
            r.resource_type == "AWS::EC2::Route"
                && r.properties
                    .get("RouteTableId")
                    .is_some_and(|a| a.references().iter().any(|t| tables.iter().any(|x| x == t)))
                && r.properties.get("GatewayId").is_some_and(|g| {
                    g.references().iter().any(|gw| {
                        self.resource(gw).is_some_and(|x| x.resource_type == "AWS::EC2::InternetGateway")
                    })
                })
        });
        if public { Exposure::Public } else { Exposure::Private }
    }

    /// The subnets and security groups a resource names (directly, through its VPC
    /// configuration, or through a DB/cache subnet group).
    fn boundaries_of(&self, r: &Resource<'d>) -> Vec<String> {
        const PATHS: &[&str] = &[
            "SubnetId",
            "SubnetIds",
            "Subnets",
            "VPCZoneIdentifier",
            "VpcConfig.SubnetIds",
            "VpcConfig.SecurityGroupIds",
            "NetworkConfiguration.AwsvpcConfiguration.Subnets",
            "NetworkConfiguration.AwsvpcConfiguration.SecurityGroups",
            "SecurityGroupIds",
            "SecurityGroups",
            "VPCSecurityGroups",
            "VpcSecurityGroupIds",
            "VpcSecurityGroupIds",
            "DBSubnetGroupName",
            "CacheSubnetGroupName",
            "DBSubnetGroup",
        ];
        let mut out = Vec::new();
        // An auto scaling group's instances get the security groups of its launch template.
        let template = path_of(&r.properties, "LaunchTemplate.LaunchTemplateId")
            .and_then(|a| a.references().first().and_then(|k| self.resource(k)));
        if let Some(template) = template {
            for path in ["LaunchTemplateData.SecurityGroupIds", "LaunchTemplateData.SecurityGroups"] {
                out.extend(
                    path_of(&template.properties, path)
                        .map(Attr::references)
                        .unwrap_or_default()
                        .iter()
                        .map(|s| s.to_string()),
                );
            }
        }
        for path in PATHS {
            let Some(attr) = path_of(&r.properties, path) else {
                continue;
            };
            for reference in attr.references() {
                match self.resource(reference) {
                    Some(group)
                        if matches!(
                            group.resource_type,
                            "AWS::RDS::DBSubnetGroup" | "AWS::ElastiCache::SubnetGroup"
                        ) =>
                    {
                        out.extend(
                            group
                                .properties
                                .get("SubnetIds")
                                .map(|a| a.references())
                                .unwrap_or_default()
                                .iter()
                                .map(|s| s.to_string()),
                        );
                    }
                    Some(_) => out.push(reference.to_string()),
                    None => {}
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Keys of the elements inside boundary `key`, from the elements already in the model.
    fn members(&self, model: &InfraModel, key: &str) -> Vec<String> {
        model
            .elements
            .iter()
            .filter(|e| e.boundaries.iter().any(|b| b == key))
            .map(|e| e.key.clone())
            .collect()
    }

    fn security_group_flows(&self, model: &InfraModel, flows: &mut Vec<Flow>) {
        let mut rules: Vec<(String, Attr, Origin)> = Vec::new();
        for r in &self.resources {
            match r.resource_type {
                "AWS::EC2::SecurityGroup" => {
                    for rule in
                        r.properties.get("SecurityGroupIngress").map(Attr::as_list).unwrap_or_default()
                    {
                        rules.push((self.key(r.id), rule.clone(), rule.origin.clone()));
                    }
                }
                "AWS::EC2::SecurityGroupIngress" => {
                    let Some(group) = r
                        .properties
                        .get("GroupId")
                        .and_then(|a| a.references().first().map(|s| s.to_string()))
                    else {
                        continue;
                    };
                    let map = Attr { value: Value::Map(r.properties.clone()), origin: r.key_origin.clone() };
                    rules.push((group, map, r.key_origin.clone()));
                }
                _ => {}
            }
        }
        for (group, rule, origin) in rules {
            let protocol = rule
                .get("IpProtocol")
                .and_then(|p| p.as_str().map(str::to_string).or_else(|| p.as_u64().map(|n| n.to_string())));
            let all = matches!(protocol.as_deref(), Some("-1" | "all"));
            let ports = if all {
                Some((0, 65535))
            } else {
                match (rule.get("FromPort").and_then(Attr::as_u64), rule.get("ToPort").and_then(Attr::as_u64))
                {
                    (Some(a), Some(b)) => Some((a, b)),
                    (Some(a), None) => Some((a, a)),
                    _ => None,
                }
            };
            let mechanism = Mechanism {
                protocol: Some(if all {
                    "all".to_string()
                } else {
                    protocol.unwrap_or_else(|| "tcp".into())
                }),
                ports,
            };
            let cidr = ["CidrIp", "CidrIpv6"].iter().find_map(|k| rule.get(k).and_then(Attr::as_str));
            let sources: Vec<String> = if cidr.is_some_and(is_internet_cidr) {
                vec![INTERNET.to_string()]
            } else if let Some(source_group) =
                rule.get("SourceSecurityGroupId").and_then(|a| a.references().first().map(|s| s.to_string()))
            {
                self.members(model, &source_group)
            } else {
                Vec::new()
            };
            for to in self.members(model, &group) {
                for from in &sources {
                    flows.push(Flow {
                        from: from.clone(),
                        to: to.clone(),
                        mechanism: mechanism.clone(),
                        origin: origin.clone(),
                        also: Vec::new(),
                    });
                }
            }
        }
    }

    fn listener_flows(&self, flows: &mut Vec<Flow>) {
        for listener in
            self.resources.iter().filter(|r| r.resource_type == "AWS::ElasticLoadBalancingV2::Listener")
        {
            let Some(lb) = listener
                .properties
                .get("LoadBalancerArn")
                .and_then(|a| a.references().first().map(|s| s.to_string()))
            else {
                continue;
            };
            let mechanism = Mechanism {
                protocol: listener
                    .properties
                    .get("Protocol")
                    .and_then(Attr::as_str)
                    .map(str::to_ascii_lowercase),
                ports: listener.properties.get("Port").and_then(Attr::as_u64).map(|p| (p, p)),
            };
            let internal = self.resource(&lb).and_then(|r| r.properties.get("Scheme")).and_then(Attr::as_str)
                == Some("internal");
            if !internal {
                flows.push(Flow {
                    from: INTERNET.into(),
                    to: lb.clone(),
                    mechanism,
                    origin: listener.key_origin.clone(),
                    also: Vec::new(),
                });
            }
            // Target groups of the listener's actions and of its rules.
            let mut groups: Vec<String> = action_groups(listener.properties.get("DefaultActions"));
            let listener_key = self.key(listener.id);
            for rule in self
                .resources
                .iter()
                .filter(|r| r.resource_type == "AWS::ElasticLoadBalancingV2::ListenerRule")
            {
                if rule
                    .properties
                    .get("ListenerArn")
                    .is_some_and(|a| a.references().contains(&listener_key.as_str()))
                {
                    groups.extend(action_groups(rule.properties.get("Actions")));
                }
            }
            for group in groups {
                let Some(tg) = self.resource(&group) else { continue };
                let mechanism = Mechanism {
                    protocol: tg
                        .properties
                        .get("Protocol")
                        .and_then(Attr::as_str)
                        .map(str::to_ascii_lowercase),
                    ports: tg.properties.get("Port").and_then(Attr::as_u64).map(|p| (p, p)),
                };
                for target in self.targets_of(&group, tg) {
                    flows.push(Flow {
                        from: lb.clone(),
                        to: target,
                        mechanism: mechanism.clone(),
                        origin: tg.key_origin.clone(),
                        also: Vec::new(),
                    });
                }
            }
        }
    }

    /// Elements registered in a target group: its `Targets`, ECS services' and auto scaling
    /// groups' load balancer settings.
    fn targets_of(&self, group: &str, tg: &Resource<'d>) -> Vec<String> {
        let mut out: Vec<String> = tg
            .properties
            .get("Targets")
            .map(|t| {
                t.as_list()
                    .iter()
                    .filter_map(|x| x.get("Id"))
                    .flat_map(|id| id.references())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        for r in &self.resources {
            let names = |attr: Option<&Attr>| attr.is_some_and(|a| a.references().contains(&group));
            let registered = match r.resource_type {
                "AWS::ECS::Service" => r
                    .properties
                    .get("LoadBalancers")
                    .is_some_and(|l| l.as_list().iter().any(|x| names(x.get("TargetGroupArn")))),
                "AWS::AutoScaling::AutoScalingGroup" => names(r.properties.get("TargetGroupARNs")),
                _ => false,
            };
            if registered {
                out.push(self.key(r.id));
            }
        }
        out
    }

    fn api_flows(&self, flows: &mut Vec<Flow>) {
        for api in self
            .resources
            .iter()
            .filter(|r| matches!(r.resource_type, "AWS::ApiGateway::RestApi" | "AWS::ApiGatewayV2::Api"))
        {
            let key = self.key(api.id);
            let private = path_of(&api.properties, "EndpointConfiguration.Types")
                .is_some_and(|t| t.strings().contains(&"PRIVATE"));
            if !private {
                flows.push(Flow {
                    from: INTERNET.into(),
                    to: key.clone(),
                    mechanism: Mechanism { protocol: Some("https".into()), ports: Some((443, 443)) },
                    origin: api.key_origin.clone(),
                    also: Vec::new(),
                });
            }
            // Integrations name their backends (a function's ARN inside `Fn::Sub`).
            for r in &self.resources {
                let (link, integration) = match r.resource_type {
                    "AWS::ApiGateway::Method" => ("RestApiId", r.node.path(&["Properties", "Integration"])),
                    "AWS::ApiGatewayV2::Integration" => {
                        ("ApiId", r.node.path(&["Properties", "IntegrationUri"]))
                    }
                    _ => continue,
                };
                if !r.properties.get(link).is_some_and(|a| a.references().contains(&key.as_str())) {
                    continue;
                }
                for target in integration.map(|n| self.mentions(n)).unwrap_or_default() {
                    flows.push(Flow {
                        from: key.clone(),
                        to: target,
                        mechanism: Mechanism { protocol: Some("invoke".into()), ports: None },
                        origin: r.key_origin.clone(),
                        also: Vec::new(),
                    });
                }
            }
        }
    }

    fn event_flows(&self, flows: &mut Vec<Flow>) {
        let event = || Mechanism { protocol: Some("event".into()), ports: None };
        let sdk = || Mechanism { protocol: Some("aws-sdk".into()), ports: None };
        let first_ref =
            |attr: Option<&Attr>| attr.and_then(|a| a.references().first().map(|s| s.to_string()));
        for r in &self.resources {
            let key = self.key(r.id);
            match r.resource_type {
                "AWS::Lambda::EventSourceMapping" => {
                    if let (Some(from), Some(to)) = (
                        first_ref(r.properties.get("EventSourceArn")),
                        first_ref(r.properties.get("FunctionName")),
                    ) {
                        flows.push(Flow {
                            from,
                            to,
                            mechanism: event(),
                            origin: r.key_origin.clone(),
                            also: Vec::new(),
                        });
                    }
                }
                "AWS::SNS::Subscription" => {
                    if let (Some(from), Some(to)) =
                        (first_ref(r.properties.get("TopicArn")), first_ref(r.properties.get("Endpoint")))
                    {
                        flows.push(Flow {
                            from,
                            to,
                            mechanism: event(),
                            origin: r.key_origin.clone(),
                            also: Vec::new(),
                        });
                    }
                }
                "AWS::SNS::Topic" => {
                    for subscription in
                        r.properties.get("Subscription").map(Attr::as_list).unwrap_or_default()
                    {
                        if let Some(to) = first_ref(subscription.get("Endpoint")) {
                            flows.push(Flow {
                                from: key.clone(),
                                to,
                                mechanism: event(),
                                origin: subscription.origin.clone(),
                                also: Vec::new(),
                            });
                        }
                    }
                }
                "AWS::S3::Bucket" => {
                    let Some(notifications) = r.properties.get("NotificationConfiguration") else { continue };
                    for (list, field) in [
                        ("LambdaConfigurations", "Function"),
                        ("QueueConfigurations", "Queue"),
                        ("TopicConfigurations", "Topic"),
                    ] {
                        for item in notifications.get(list).map(Attr::as_list).unwrap_or_default() {
                            if let Some(to) = first_ref(item.get(field)) {
                                flows.push(Flow {
                                    from: key.clone(),
                                    to,
                                    mechanism: event(),
                                    origin: item.origin.clone(),
                                    also: Vec::new(),
                                });
                            }
                        }
                    }
                }
                "AWS::Lambda::Function" | "AWS::Serverless::Function" => {
                    if let Some(variables) = r.node.path(&["Properties", "Environment", "Variables"]) {
                        for entry in variables.entries() {
                            for to in self.mentions(&entry.value) {
                                if self.resource(&to).and_then(|t| classify(t.resource_type))
                                    == Some(ElementKind::DataStore)
                                {
                                    flows.push(Flow {
                                        from: key.clone(),
                                        to,
                                        mechanism: sdk(),
                                        origin: self.source.origin(entry.value.span),
                                        also: Vec::new(),
                                    });
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// The resources a raw node names through `Ref`, `Fn::GetAtt` or `${Name}`/`${Name.Attr}`
    /// in `Fn::Sub`, as keys.
    fn mentions(&self, node: &Node) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![node];
        while let Some(node) = stack.pop() {
            if let Some((name, argument)) = node.intrinsic() {
                let names: Vec<String> = match name {
                    "Ref" => argument.str().map(|s| vec![s.to_string()]).unwrap_or_default(),
                    "Fn::GetAtt" => argument
                        .items()
                        .first()
                        .and_then(Node::str)
                        .map(|s| vec![s.to_string()])
                        .unwrap_or_default(),
                    "Fn::Sub" => {
                        let text = argument
                            .str()
                            .or_else(|| argument.items().first().and_then(Node::str))
                            .unwrap_or_default();
                        sub_names(text)
                            .into_iter()
                            .map(|n| n.split('.').next().unwrap_or_default().to_string())
                            .collect()
                    }
                    _ => Vec::new(),
                };
                for name in names {
                    if self.resources.iter().any(|r| r.id == name) {
                        out.push(self.key(&name));
                    }
                }
            }
            stack.extend(node.items());
            stack.extend(node.entries().iter().map(|e| &e.value));
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The target groups of a listener's or listener rule's actions (forward actions, single or
/// weighted).
fn action_groups(actions: Option<&Attr>) -> Vec<String> {
    let mut out = Vec::new();
    for action in actions.map(Attr::as_list).unwrap_or_default() {
        out.extend(
            action
                .get("TargetGroupArn")
                .map(|a| a.references())
                .unwrap_or_default()
                .iter()
                .map(|s| s.to_string()),
        );
        if let Some(groups) = action.get("ForwardConfig").and_then(|f| f.get("TargetGroups")) {
            for group in groups.as_list() {
                out.extend(
                    group
                        .get("TargetGroupArn")
                        .map(|a| a.references())
                        .unwrap_or_default()
                        .iter()
                        .map(|s| s.to_string()),
                );
            }
        }
    }
    out
}

/// The attribute at a dotted path of a property map.
pub(crate) fn path_of<'a>(properties: &'a BTreeMap<String, Attr>, path: &str) -> Option<&'a Attr> {
    let mut parts = path.split('.');
    let mut at = properties.get(parts.next()?)?;
    for part in parts {
        at = at.get(part)?;
    }
    Some(at)
}

/// The `${...}` names of a `Fn::Sub` string (`${!Literal}` is not a name).
fn sub_names(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.starts_with('!') {
            out.push(name.trim());
        }
        rest = &after[end + 1..];
    }
    out
}

/// One intrinsic function resolved as far as the template allows.
fn resolve(
    name: &str,
    argument: &Node,
    ids: &BTreeSet<&str>,
    parameters: &BTreeMap<&str, &Node>,
    prefix: &str,
    source: &Source,
) -> Attr {
    let origin = source.origin(argument.span);
    let unknown = |what: String| Attr { value: Value::Unknown(what), origin: origin.clone() };
    let literal = |node: &Node| -> Option<String> {
        match node.intrinsic() {
            Some(("Ref", arg)) => {
                let name = arg.str()?;
                parameters.get(name).and_then(|d| d.str()).map(str::to_string)
            }
            Some(_) => None,
            None => node.str().map(str::to_string),
        }
    };
    match name {
        "Ref" => {
            let Some(target) = argument.str() else { return unknown("Ref of a non-string".into()) };
            if ids.contains(target) {
                Attr { value: Value::Reference(format!("{prefix}{target}")), origin }
            } else if let Some(default) = parameters.get(target) {
                let mut attr = source.attr(default);
                attr.origin = origin;
                attr
            } else {
                unknown(format!("Ref {target}"))
            }
        }
        "Fn::GetAtt" => {
            let target = argument
                .items()
                .first()
                .and_then(Node::str)
                .or_else(|| argument.str().and_then(|s| s.split('.').next()));
            match target {
                Some(target) if ids.contains(target) => {
                    Attr { value: Value::Reference(format!("{prefix}{target}")), origin }
                }
                Some(target) => unknown(format!("Fn::GetAtt {target}")),
                None => unknown("Fn::GetAtt".into()),
            }
        }
        "Fn::Sub" => {
            let (text, variables) = match argument.str() {
                Some(text) => (Some(text), None),
                None => (argument.items().first().and_then(Node::str), argument.items().get(1)),
            };
            let Some(text) = text else { return unknown("Fn::Sub".into()) };
            let mut out = String::new();
            let mut rest = text;
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                let after = &rest[start + 2..];
                let Some(end) = after.find('}') else { break };
                let var = &after[..end];
                if let Some(literal_name) = var.strip_prefix('!') {
                    out.push_str("${");
                    out.push_str(literal_name);
                    out.push('}');
                } else {
                    let value = variables
                        .and_then(|v| v.get(var.trim()))
                        .and_then(literal)
                        .or_else(|| parameters.get(var.trim()).and_then(|d| d.str()).map(str::to_string));
                    match value {
                        Some(value) => out.push_str(&value),
                        None => return unknown(format!("Fn::Sub with ${{{var}}}")),
                    }
                }
                rest = &after[end + 1..];
            }
            out.push_str(rest);
            Attr { value: Value::Str(out), origin }
        }
        "Fn::Join" => {
            let items = argument.items();
            let (Some(separator), Some(parts)) = (items.first().and_then(Node::str), items.get(1)) else {
                return unknown("Fn::Join".into());
            };
            let parts: Option<Vec<String>> = parts.items().iter().map(literal).collect();
            match parts {
                Some(parts) => Attr { value: Value::Str(parts.join(separator)), origin },
                None => unknown("Fn::Join with a part not known statically".into()),
            }
        }
        other => unknown(other.to_string()),
    }
}
