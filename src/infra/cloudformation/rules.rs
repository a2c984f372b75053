//! The CloudFormation rows of the rule table ([`crate::infra::rules`]).
//!
//! Owns: each CloudFormation rule's condition over the property names of the AWS resource
//! types (as the extractor stores them: `Properties` by name, intrinsics resolved, plus the
//! `Listeners`, `Methods`, `Routes`, `WebACLAssociations`, `AttachedPolicies` and
//! `DeletionPolicy` it gathers). Must never: read anything but the element and the model, or
//! decide on a value that is not statically known (the rule skips).

use crate::analysis::stride::Stride;
use crate::infra::documents::sensitive_port_from_internet;
use crate::infra::model::{Attr, BoundaryKind, Element, Exposure, Format, InfraModel, Origin, Value};
use crate::infra::rules::{Rule, Verdict};
use crate::syntax::Severity;

const CFN: &[Format] = &[Format::CloudFormation];

fn exposed(detail: impl Into<String>, origin: &Origin) -> Verdict {
    Verdict::Exposed(detail.into(), origin.clone())
}

fn mitigated(detail: impl Into<String>, origin: &Origin) -> Verdict {
    Verdict::Mitigated(detail.into(), origin.clone())
}

/// A boolean property: exposed when it is `bad` (or missing and `missing_is_bad`), mitigated
/// when it is the other value, skipped when not statically known.
fn flag(e: &Element, path: &str, bad: bool, missing_is_bad: bool) -> Verdict {
    match e.path(path) {
        Some(attr) => match attr.as_bool() {
            Some(v) if v == bad => exposed(format!("{path} = {v}"), &attr.origin),
            Some(v) => mitigated(format!("{path} = {v}"), &attr.origin),
            None => Verdict::Skip,
        },
        None if missing_is_bad => exposed(format!("{path} is not set"), &e.origin),
        None => Verdict::Skip,
    }
}

fn s3_encryption(e: &Element, _: &InfraModel) -> Verdict {
    match e.path("BucketEncryption.ServerSideEncryptionConfiguration") {
        Some(config) => {
            let algorithm = config
                .as_list()
                .first()
                .and_then(|r| r.get("ServerSideEncryptionByDefault"))
                .and_then(|d| d.get("SSEAlgorithm"))
                .and_then(Attr::as_str)
                .unwrap_or("configured");
            mitigated(format!("BucketEncryption: {algorithm}"), &config.origin)
        }
        None => exposed(
            "BucketEncryption is not set (only the S3 default key, no key the account controls)",
            &e.origin,
        ),
    }
}

fn s3_public(e: &Element, _: &InfraModel) -> Verdict {
    if let Some(acl) = e.attr("AccessControl")
        && let Some(value @ ("PublicRead" | "PublicReadWrite" | "AuthenticatedRead")) = acl.as_str()
    {
        return exposed(format!("AccessControl = {value}"), &acl.origin);
    }
    let Some(block) = e.attr("PublicAccessBlockConfiguration") else {
        return Verdict::Skip;
    };
    const FLAGS: [&str; 4] =
        ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"];
    for name in FLAGS {
        match block.get(name).and_then(Attr::as_bool) {
            Some(true) => {}
            Some(false) => {
                return exposed(format!("PublicAccessBlockConfiguration.{name} = false"), &block.origin);
            }
            None if block.get(name).is_some_and(Attr::is_unknown) => return Verdict::Skip,
            None => {
                return exposed(format!("PublicAccessBlockConfiguration.{name} is not set"), &block.origin);
            }
        }
    }
    mitigated("PublicAccessBlockConfiguration blocks all four kinds of public access", &block.origin)
}

fn s3_versioning(e: &Element, _: &InfraModel) -> Verdict {
    match e.path("VersioningConfiguration.Status") {
        Some(status) if status.as_str() == Some("Enabled") => {
            mitigated("VersioningConfiguration.Status = Enabled", &status.origin)
        }
        Some(status) if status.is_unknown() => Verdict::Skip,
        Some(status) => exposed(
            format!("VersioningConfiguration.Status = {}", status.as_str().unwrap_or("?")),
            &status.origin,
        ),
        None => exposed("VersioningConfiguration is not set", &e.origin),
    }
}

fn s3_logging(e: &Element, _: &InfraModel) -> Verdict {
    match e.attr("LoggingConfiguration") {
        Some(logging) => mitigated("LoggingConfiguration is set", &logging.origin),
        None => exposed("LoggingConfiguration is not set", &e.origin),
    }
}

fn rds_public(e: &Element, _: &InfraModel) -> Verdict {
    flag(e, "PubliclyAccessible", true, false)
}

fn store_in_public_subnet(e: &Element, model: &InfraModel) -> Verdict {
    let subnets: Vec<_> = e
        .boundaries
        .iter()
        .filter_map(|b| model.boundary(b))
        .filter(|b| matches!(b.kind, BoundaryKind::Subnet(_)))
        .collect();
    if let Some(public) = subnets.iter().find(|b| b.kind == BoundaryKind::Subnet(Exposure::Public)) {
        return exposed(format!("in the public subnet {}", public.name), &public.origin);
    }
    if !subnets.is_empty() && subnets.iter().all(|b| b.kind == BoundaryKind::Subnet(Exposure::Private)) {
        return mitigated("only in private subnets", &e.origin);
    }
    Verdict::Skip
}

fn rds_encryption(e: &Element, _: &InfraModel) -> Verdict {
    if e.attr("DBClusterIdentifier").is_some() {
        return Verdict::Skip; // a cluster member: the cluster's setting decides
    }
    flag(e, "StorageEncrypted", false, true)
}

fn rds_deletion(e: &Element, _: &InfraModel) -> Verdict {
    if let Some(retention) = e.attr("BackupRetentionPeriod")
        && retention.as_u64() == Some(0)
    {
        return exposed("BackupRetentionPeriod = 0 (automated backups off)", &retention.origin);
    }
    if e.attr("DBClusterIdentifier").is_some() {
        return Verdict::Skip;
    }
    flag(e, "DeletionProtection", false, true)
}

fn dynamodb_pitr(e: &Element, _: &InfraModel) -> Verdict {
    flag(e, "PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled", false, true)
}

fn queue_encryption(e: &Element, _: &InfraModel) -> Verdict {
    if let Some(key) = e.attr("KmsMasterKeyId") {
        return mitigated("KmsMasterKeyId is set", &key.origin);
    }
    if e.resource_type == "AWS::SQS::Queue" {
        // New queues get SSE-SQS unless it is turned off.
        return match e.attr("SqsManagedSseEnabled") {
            Some(attr) if attr.as_bool() == Some(false) => {
                exposed("SqsManagedSseEnabled = false and no KmsMasterKeyId", &attr.origin)
            }
            Some(attr) if attr.as_bool() == Some(true) => {
                mitigated("SqsManagedSseEnabled = true", &attr.origin)
            }
            _ => Verdict::Skip,
        };
    }
    exposed("KmsMasterKeyId is not set", &e.origin)
}

fn listener_tls(e: &Element, _: &InfraModel) -> Verdict {
    let Some(listeners) = e.attr("Listeners") else { return Verdict::Skip };
    for listener in listeners.as_list() {
        let protocol = listener.get("Protocol").and_then(Attr::as_str).unwrap_or("");
        let redirects = listener.get("DefaultActions").is_some_and(|a| {
            a.as_list().iter().all(|x| x.get("Type").and_then(Attr::as_str) == Some("redirect"))
        });
        if matches!(protocol, "HTTP" | "TCP" | "UDP") && !redirects {
            let port = listener
                .get("Port")
                .and_then(Attr::as_u64)
                .map(|p| format!(" on port {p}"))
                .unwrap_or_default();
            return exposed(format!("a listener with Protocol = {protocol}{port}"), &listener.origin);
        }
    }
    mitigated("every listener uses TLS (or redirects to it)", &listeners.origin)
}

fn waf(e: &Element, model: &InfraModel) -> Verdict {
    if !model.reachable_from_internet(&e.key) {
        return Verdict::Skip;
    }
    match e.attr("WebACLAssociations").or_else(|| e.attr("WebACLId")) {
        Some(waf) => mitigated("a web ACL (WAF) is associated", &waf.origin),
        None => exposed("Internet-facing with no web ACL (WAF) associated", &e.origin),
    }
}

fn api_auth(e: &Element, _: &InfraModel) -> Verdict {
    let (list, method_field) = match e.resource_type.as_str() {
        "AWS::ApiGateway::RestApi" => ("Methods", "HttpMethod"),
        _ => ("Routes", "RouteKey"),
    };
    let Some(methods) = e.attr(list) else { return Verdict::Skip };
    for method in methods.as_list() {
        let name = method.get(method_field).and_then(Attr::as_str).unwrap_or("?");
        if name == "OPTIONS" || name.starts_with("OPTIONS ") {
            continue; // CORS preflight
        }
        let authorization = method.get("AuthorizationType").and_then(Attr::as_str).unwrap_or("NONE");
        let api_key = method.get("ApiKeyRequired").and_then(Attr::as_bool) == Some(true);
        if authorization == "NONE" && !api_key {
            return exposed(format!("{name} has AuthorizationType = NONE"), &method.origin);
        }
    }
    mitigated(
        format!("every {} has an authorizer", if list == "Methods" { "method" } else { "route" }),
        &methods.origin,
    )
}

/// The policy documents of an IAM resource: its own, its inline `Policies`, and the policies
/// attached to it.
fn policy_statements(e: &Element) -> Vec<&Attr> {
    let mut documents: Vec<&Attr> = Vec::new();
    documents.extend(e.attr("PolicyDocument"));
    for policy in e.attr("Policies").map(Attr::as_list).unwrap_or_default() {
        documents.extend(policy.get("PolicyDocument"));
    }
    for policy in e.attr("AttachedPolicies").map(Attr::as_list).unwrap_or_default() {
        documents.extend(policy.get("PolicyDocument"));
    }
    documents
        .into_iter()
        .filter_map(|d| d.get("Statement"))
        .flat_map(|s| match &s.value {
            Value::List(items) => items.iter().collect::<Vec<_>>(),
            _ => vec![s],
        })
        .filter(|s| s.get("Effect").and_then(Attr::as_str) == Some("Allow"))
        .collect()
}

fn iam_wildcard_action(e: &Element, _: &InfraModel) -> Verdict {
    if let Some(arns) = e.attr("ManagedPolicyArns")
        && let Some(admin) = arns.strings().into_iter().find(|a| a.ends_with(":policy/AdministratorAccess"))
    {
        return exposed(format!("ManagedPolicyArns includes {admin}"), &arns.origin);
    }
    let statements = policy_statements(e);
    if statements.is_empty() {
        return Verdict::Skip;
    }
    for statement in &statements {
        if let Some(action) = statement.get("Action")
            && let Some(wild) = action.strings().into_iter().find(|a| *a == "*" || a.ends_with(":*"))
        {
            return exposed(format!("Allow with Action = {wild}"), &action.origin);
        }
    }
    mitigated("every Allow names its actions", &statements[0].origin)
}

fn iam_wildcard_resource(e: &Element, _: &InfraModel) -> Verdict {
    let statements = policy_statements(e);
    if statements.is_empty() {
        return Verdict::Skip;
    }
    for statement in &statements {
        if let Some(resource) = statement.get("Resource")
            && resource.strings().contains(&"*")
        {
            return exposed("Allow with Resource = *", &resource.origin);
        }
    }
    mitigated("every Allow names its resources", &statements[0].origin)
}

fn cache_encryption(e: &Element, _: &InfraModel) -> Verdict {
    match flag(e, "TransitEncryptionEnabled", false, true) {
        Verdict::Mitigated(..) => flag(e, "AtRestEncryptionEnabled", false, true),
        other => other,
    }
}

fn trail_logging(e: &Element, _: &InfraModel) -> Verdict {
    match flag(e, "IsLogging", false, true) {
        Verdict::Mitigated(..) => flag(e, "EnableLogFileValidation", false, true),
        other => other,
    }
}

fn retain_on_delete(e: &Element, _: &InfraModel) -> Verdict {
    match e.attr("DeletionPolicy") {
        Some(policy) => match policy.as_str() {
            Some(p @ ("Retain" | "Snapshot" | "RetainExceptOnCreate")) => {
                mitigated(format!("DeletionPolicy = {p}"), &policy.origin)
            }
            Some(p) => exposed(format!("DeletionPolicy = {p}"), &policy.origin),
            None => Verdict::Skip,
        },
        None => exposed("DeletionPolicy is not set: deleting the stack deletes the data", &e.origin),
    }
}

const STORES: &[&str] =
    &["AWS::S3::Bucket", "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::DynamoDB::Table"];
const NETWORK_STORES: &[&str] = &[
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::ElastiCache::CacheCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::DocDB::DBCluster",
    "AWS::Redshift::Cluster",
    "AWS::OpenSearchService::Domain",
    "AWS::Elasticsearch::Domain",
];
const IAM: &[&str] = &["AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::User"];

/// The CloudFormation rules, in table order.
pub static RULES: &[Rule] = &[
    Rule {
        id: "CFN-S3-ENCRYPTION",
        formats: CFN,
        resources: &["AWS::S3::Bucket"],
        check: s3_encryption,
        stride: Stride::InformationDisclosure,
        cwe: Some(311),
        severity: Severity::Medium,
        threat: "unencrypted-storage",
        control: "encryption-at-rest",
        rationale: "`BucketEncryption` is not set: objects are readable by whoever reaches the storage with no key the account controls",
        remediation: "Set `BucketEncryption` with `SSEAlgorithm: aws:kms` and a customer-managed key",
    },
    Rule {
        id: "CFN-S3-PUBLIC-ACCESS",
        formats: CFN,
        resources: &["AWS::S3::Bucket"],
        check: s3_public,
        stride: Stride::InformationDisclosure,
        cwe: Some(732),
        severity: Severity::High,
        threat: "public-bucket",
        control: "public-access-block",
        rationale: "`AccessControl` grants public access, or `PublicAccessBlockConfiguration` leaves one of its four blocks off",
        remediation: "Remove public ACLs and set all four `PublicAccessBlockConfiguration` flags to true",
    },
    Rule {
        id: "CFN-S3-VERSIONING",
        formats: CFN,
        resources: &["AWS::S3::Bucket"],
        check: s3_versioning,
        stride: Stride::Tampering,
        cwe: None,
        severity: Severity::Low,
        threat: "unrecoverable-overwrite",
        control: "versioning",
        rationale: "`VersioningConfiguration.Status` is not `Enabled`: an overwrite or delete is final",
        remediation: "Set `VersioningConfiguration: {Status: Enabled}` (with a lifecycle rule for old versions)",
    },
    Rule {
        id: "CFN-S3-ACCESS-LOGGING",
        formats: CFN,
        resources: &["AWS::S3::Bucket"],
        check: s3_logging,
        stride: Stride::Repudiation,
        cwe: Some(778),
        severity: Severity::Low,
        threat: "unlogged-access",
        control: "access-logging",
        rationale: "`LoggingConfiguration` is not set: reads and writes leave no server access log",
        remediation: "Set `LoggingConfiguration` with a `DestinationBucketName` (or enable CloudTrail data events)",
    },
    Rule {
        id: "CFN-DB-PUBLICLY-ACCESSIBLE",
        formats: CFN,
        resources: &["AWS::RDS::DBInstance"],
        check: rds_public,
        stride: Stride::InformationDisclosure,
        cwe: Some(668),
        severity: Severity::High,
        threat: "public-database",
        control: "private-network",
        rationale: "`PubliclyAccessible` is true: the instance gets a public address",
        remediation: "Set `PubliclyAccessible: false` and reach the database from inside the VPC",
    },
    Rule {
        id: "CFN-DB-PUBLIC-SUBNET",
        formats: CFN,
        resources: NETWORK_STORES,
        check: store_in_public_subnet,
        stride: Stride::InformationDisclosure,
        cwe: Some(668),
        severity: Severity::Medium,
        threat: "public-database",
        control: "private-network",
        rationale: "its subnet group holds a subnet routed to an internet gateway (`AWS::EC2::Route` to an `InternetGateway`, or `MapPublicIpOnLaunch`)",
        remediation: "Place the store's subnet group in private subnets only",
    },
    Rule {
        id: "CFN-RDS-ENCRYPTION",
        formats: CFN,
        resources: &["AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::DocDB::DBCluster"],
        check: rds_encryption,
        stride: Stride::InformationDisclosure,
        cwe: Some(311),
        severity: Severity::Medium,
        threat: "unencrypted-storage",
        control: "encryption-at-rest",
        rationale: "`StorageEncrypted` is not true: storage, backups and snapshots are unencrypted",
        remediation: "Set `StorageEncrypted: true` (and `KmsKeyId`)",
    },
    Rule {
        id: "CFN-RDS-DELETION-PROTECTION",
        formats: CFN,
        resources: &["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"],
        check: rds_deletion,
        stride: Stride::DenialOfService,
        cwe: None,
        severity: Severity::Medium,
        threat: "data-loss",
        control: "backups-and-deletion-protection",
        rationale: "`DeletionProtection` is not true, or `BackupRetentionPeriod` is 0",
        remediation: "Set `DeletionProtection: true` and a `BackupRetentionPeriod` of at least 7 days",
    },
    Rule {
        id: "CFN-DYNAMODB-PITR",
        formats: CFN,
        resources: &["AWS::DynamoDB::Table"],
        check: dynamodb_pitr,
        stride: Stride::DenialOfService,
        cwe: None,
        severity: Severity::Low,
        threat: "data-loss",
        control: "backups-and-deletion-protection",
        rationale: "`PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled` is not true: no continuous backups",
        remediation: "Enable point-in-time recovery",
    },
    Rule {
        id: "CFN-QUEUE-ENCRYPTION",
        formats: CFN,
        resources: &["AWS::SQS::Queue", "AWS::SNS::Topic"],
        check: queue_encryption,
        stride: Stride::InformationDisclosure,
        cwe: Some(311),
        severity: Severity::Low,
        threat: "unencrypted-storage",
        control: "encryption-at-rest",
        rationale: "no `KmsMasterKeyId` (an SNS topic), or `SqsManagedSseEnabled: false` without one (a queue)",
        remediation: "Set `KmsMasterKeyId` to a customer-managed key",
    },
    Rule {
        id: "CFN-SG-SENSITIVE-PORT-INTERNET",
        formats: CFN,
        resources: &["AWS::*"],
        check: sensitive_port_from_internet,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(284),
        severity: Severity::High,
        threat: "admin-port-exposed",
        control: "restricted-ingress",
        rationale: "a security group ingress rule allows `CidrIp: 0.0.0.0/0` (or `::/0`) to SSH, RDP or a database/cache port (the ports: `infra::documents::SENSITIVE_PORTS`)",
        remediation: "Allow the port only from a bastion's or the application's security group (`SourceSecurityGroupId`)",
    },
    Rule {
        id: "CFN-LB-NO-TLS",
        formats: CFN,
        resources: &["AWS::ElasticLoadBalancingV2::LoadBalancer"],
        check: listener_tls,
        stride: Stride::InformationDisclosure,
        cwe: Some(319),
        severity: Severity::Medium,
        threat: "cleartext-transport",
        control: "tls",
        rationale: "a listener's `Protocol` is HTTP (or TCP) and its default action is not a redirect",
        remediation: "Use `Protocol: HTTPS` with a certificate, and make the HTTP listener redirect to it",
    },
    Rule {
        id: "CFN-NO-WAF",
        formats: CFN,
        resources: &["AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ApiGateway::RestApi"],
        check: waf,
        stride: Stride::Tampering,
        cwe: Some(20),
        severity: Severity::Low,
        threat: "unfiltered-web-traffic",
        control: "waf",
        rationale: "Internet-facing with no `AWS::WAFv2::WebACLAssociation` naming it",
        remediation: "Associate a WAFv2 web ACL (managed rule groups for common exploits)",
    },
    Rule {
        id: "CFN-APIGW-NO-AUTH",
        formats: CFN,
        resources: &["AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"],
        check: api_auth,
        stride: Stride::Spoofing,
        cwe: Some(306),
        severity: Severity::High,
        threat: "unauthenticated-api",
        control: "api-authentication",
        rationale: "a method's or route's `AuthorizationType` is NONE (OPTIONS preflights aside) and no API key is required",
        remediation: "Set `AuthorizationType` (AWS_IAM, COGNITO_USER_POOLS, CUSTOM, JWT) with an authorizer",
    },
    Rule {
        id: "CFN-IAM-WILDCARD-ACTION",
        formats: CFN,
        resources: IAM,
        check: iam_wildcard_action,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(269),
        severity: Severity::High,
        threat: "over-privileged-identity",
        control: "least-privilege",
        rationale: "an `Allow` statement's `Action` is `*` or `service:*`, or `ManagedPolicyArns` has AdministratorAccess",
        remediation: "List the actions the workload calls",
    },
    Rule {
        id: "CFN-IAM-WILDCARD-RESOURCE",
        formats: CFN,
        resources: IAM,
        check: iam_wildcard_resource,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(732),
        severity: Severity::Medium,
        threat: "over-privileged-identity",
        control: "least-privilege",
        rationale: "an `Allow` statement's `Resource` is `*`",
        remediation: "Name the ARNs (with `!Sub`/`!GetAtt`) the statement applies to",
    },
    Rule {
        id: "CFN-CACHE-ENCRYPTION",
        formats: CFN,
        resources: &["AWS::ElastiCache::ReplicationGroup"],
        check: cache_encryption,
        stride: Stride::InformationDisclosure,
        cwe: Some(319),
        severity: Severity::Medium,
        threat: "cleartext-transport",
        control: "tls",
        rationale: "`TransitEncryptionEnabled` or `AtRestEncryptionEnabled` is not true",
        remediation: "Set both to true (and an AUTH token)",
    },
    Rule {
        id: "CFN-TRAIL-LOGGING",
        formats: CFN,
        resources: &["AWS::CloudTrail::Trail"],
        check: trail_logging,
        stride: Stride::Repudiation,
        cwe: Some(778),
        severity: Severity::Medium,
        threat: "unlogged-access",
        control: "access-logging",
        rationale: "`IsLogging` is false, or `EnableLogFileValidation` is not true (log files can be altered unnoticed)",
        remediation: "Set `IsLogging: true` and `EnableLogFileValidation: true`",
    },
    Rule {
        id: "CFN-STORE-DELETION-POLICY",
        formats: CFN,
        resources: STORES,
        check: retain_on_delete,
        stride: Stride::DenialOfService,
        cwe: None,
        severity: Severity::Low,
        threat: "data-loss",
        control: "backups-and-deletion-protection",
        rationale: "no `DeletionPolicy: Retain` or `Snapshot`: deleting or replacing the stack deletes the data",
        remediation: "Set `DeletionPolicy` and `UpdateReplacePolicy` to `Retain` (or `Snapshot`)",
    },
];
