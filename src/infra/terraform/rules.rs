//! The Terraform rows of the rule table ([`crate::infra::rules`]).
//!
//! Owns: each Terraform rule's condition over the attribute names of the AWS provider (and the
//! Azure and Google types that mirror a rule). Must never: read anything but the element and
//! the model, or decide on a value that is not statically known ([`Verdict::Skip`]).

use crate::analysis::stride::Stride;
use crate::infra::model::{Attr, Element, Format, INTERNET, InfraModel, Value};
use crate::infra::rules::{Rule, Verdict};
use crate::syntax::Severity;

use Verdict::{Exposed, Mitigated, Skip};

const TF: &[Format] = &[Format::Terraform];

/// Ports of administration and data services that should never face the Internet.
pub const ADMIN_PORTS: &[u64] = &[22, 3389, 5432, 3306, 1433, 6379, 9200, 27017];

/// The Terraform rules, in table order.
pub static RULES: &[Rule] = &[
    Rule {
        id: "TF-S3-ENCRYPTION",
        formats: TF,
        resources: &["aws_s3_bucket"],
        check: s3_encryption,
        stride: Stride::InformationDisclosure,
        cwe: Some(311),
        severity: Severity::Medium,
        threat: "unencrypted-storage",
        control: "encryption-at-rest",
        rationale: "no server_side_encryption_configuration (inline or aws_s3_bucket_server_side_encryption_configuration): the bucket relies on the provider's default, with no key of its own",
        remediation: "add an aws_s3_bucket_server_side_encryption_configuration with aws:kms and a customer-managed key",
    },
    Rule {
        id: "TF-S3-PUBLIC-ACL",
        formats: TF,
        resources: &["aws_s3_bucket"],
        check: s3_public_acl,
        stride: Stride::InformationDisclosure,
        cwe: Some(732),
        severity: Severity::High,
        threat: "public-storage",
        control: "private-acl",
        rationale: "acl (inline or aws_s3_bucket_acl) is public-read, public-read-write or authenticated-read",
        remediation: "use a private ACL and serve public content through a CDN with origin access control",
    },
    Rule {
        id: "TF-S3-PUBLIC-ACCESS-BLOCK",
        formats: TF,
        resources: &["aws_s3_bucket"],
        check: s3_public_access_block,
        stride: Stride::InformationDisclosure,
        cwe: Some(732),
        severity: Severity::Medium,
        threat: "public-storage",
        control: "public-access-block",
        rationale: "no aws_s3_bucket_public_access_block with block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets all true",
        remediation: "add an aws_s3_bucket_public_access_block with all four settings true",
    },
    Rule {
        id: "TF-S3-VERSIONING",
        formats: TF,
        resources: &["aws_s3_bucket"],
        check: s3_versioning,
        stride: Stride::Tampering,
        cwe: None,
        severity: Severity::Low,
        threat: "unrecoverable-overwrite",
        control: "versioning",
        rationale: "versioning (inline or aws_s3_bucket_versioning) is not Enabled",
        remediation: "enable versioning (aws_s3_bucket_versioning status = \"Enabled\"), with MFA delete for critical data",
    },
    Rule {
        id: "TF-S3-ACCESS-LOGS",
        formats: TF,
        resources: &["aws_s3_bucket"],
        check: s3_logging,
        stride: Stride::Repudiation,
        cwe: Some(778),
        severity: Severity::Low,
        threat: "missing-audit-trail",
        control: "access-logging",
        rationale: "no logging block or aws_s3_bucket_logging: object access is not recorded",
        remediation: "add an aws_s3_bucket_logging that writes to a separate log bucket",
    },
    Rule {
        id: "TF-DB-PUBLICLY-ACCESSIBLE",
        formats: TF,
        resources: &[
            "aws_db_instance",
            "aws_rds_cluster_instance",
            "aws_redshift_cluster",
            "aws_dms_replication_instance",
        ],
        check: db_publicly_accessible,
        stride: Stride::InformationDisclosure,
        cwe: Some(284),
        severity: Severity::Critical,
        threat: "public-database",
        control: "private-network",
        rationale: "publicly_accessible = true gives the database a public address",
        remediation: "set publicly_accessible = false and reach the database from inside the VPC",
    },
    Rule {
        id: "TF-DB-PUBLIC-SUBNET",
        formats: TF,
        resources: &[
            "aws_db_instance",
            "aws_rds_cluster",
            "aws_docdb_cluster",
            "aws_redshift_cluster",
            "aws_elasticache_cluster",
            "aws_elasticache_replication_group",
            "aws_opensearch_domain",
            "aws_elasticsearch_domain",
        ],
        check: store_in_public_subnet,
        stride: Stride::InformationDisclosure,
        cwe: Some(284),
        severity: Severity::High,
        threat: "public-database",
        control: "private-network",
        rationale: "a subnet of the store (subnet_ids, db_subnet_group_name, subnet_group_name) routes to an internet gateway or maps public IPs",
        remediation: "place data stores in private subnets (no route to an internet gateway)",
    },
    Rule {
        id: "TF-DB-ENCRYPTION",
        formats: TF,
        resources: &["aws_db_instance", "aws_rds_cluster", "aws_docdb_cluster", "aws_redshift_cluster"],
        check: db_encryption,
        stride: Stride::InformationDisclosure,
        cwe: Some(311),
        severity: Severity::High,
        threat: "unencrypted-storage",
        control: "encryption-at-rest",
        rationale: "storage_encrypted (encrypted for Redshift) is not true",
        remediation: "set storage_encrypted = true with a kms_key_id",
    },
    Rule {
        id: "TF-DB-DELETION-PROTECTION",
        formats: TF,
        resources: &[
            "aws_db_instance",
            "aws_rds_cluster",
            "aws_docdb_cluster",
            "aws_lb",
            "aws_alb",
            "aws_dynamodb_table",
        ],
        check: deletion_protection,
        stride: Stride::DenialOfService,
        cwe: None,
        severity: Severity::Medium,
        threat: "accidental-deletion",
        control: "deletion-protection",
        rationale: "deletion_protection (enable_deletion_protection, deletion_protection_enabled) is not true",
        remediation: "enable deletion protection on stores and load balancers",
    },
    Rule {
        id: "TF-DB-BACKUP",
        formats: TF,
        resources: &["aws_db_instance", "aws_rds_cluster", "aws_docdb_cluster"],
        check: db_backup,
        stride: Stride::DenialOfService,
        cwe: None,
        severity: Severity::Medium,
        threat: "data-loss",
        control: "backups",
        rationale: "backup_retention_period is 0 (the aws_db_instance default)",
        remediation: "set backup_retention_period to 7 days or more",
    },
    Rule {
        id: "TF-DYNAMODB-PITR",
        formats: TF,
        resources: &["aws_dynamodb_table"],
        check: dynamodb_pitr,
        stride: Stride::DenialOfService,
        cwe: None,
        severity: Severity::Low,
        threat: "data-loss",
        control: "backups",
        rationale: "point_in_time_recovery { enabled = true } is missing",
        remediation: "enable point_in_time_recovery",
    },
    Rule {
        id: "TF-CACHE-TRANSIT-ENCRYPTION",
        formats: TF,
        resources: &["aws_elasticache_replication_group"],
        check: cache_transit,
        stride: Stride::InformationDisclosure,
        cwe: Some(319),
        severity: Severity::Medium,
        threat: "cleartext-transmission",
        control: "tls",
        rationale: "transit_encryption_enabled is not true",
        remediation: "set transit_encryption_enabled = true (with an auth token)",
    },
    Rule {
        id: "TF-CACHE-REST-ENCRYPTION",
        formats: TF,
        resources: &["aws_elasticache_replication_group"],
        check: cache_rest,
        stride: Stride::InformationDisclosure,
        cwe: Some(311),
        severity: Severity::Medium,
        threat: "unencrypted-storage",
        control: "encryption-at-rest",
        rationale: "at_rest_encryption_enabled is not true",
        remediation: "set at_rest_encryption_enabled = true",
    },
    Rule {
        id: "TF-QUEUE-ENCRYPTION",
        formats: TF,
        resources: &["aws_sqs_queue", "aws_sns_topic"],
        check: queue_encryption,
        stride: Stride::InformationDisclosure,
        cwe: Some(311),
        severity: Severity::Low,
        threat: "unencrypted-storage",
        control: "encryption-at-rest",
        rationale: "no kms_master_key_id, and sqs_managed_sse_enabled is not true (SNS topics are not encrypted by default)",
        remediation: "set kms_master_key_id (or sqs_managed_sse_enabled = true for SQS)",
    },
    Rule {
        id: "TF-EBS-ENCRYPTION",
        formats: TF,
        resources: &["aws_ebs_volume"],
        check: ebs_encryption,
        stride: Stride::InformationDisclosure,
        cwe: Some(311),
        severity: Severity::Medium,
        threat: "unencrypted-storage",
        control: "encryption-at-rest",
        rationale: "encrypted is not true",
        remediation: "set encrypted = true (or enable EBS encryption by default for the account)",
    },
    Rule {
        id: "TF-INGRESS-ADMIN-PORT",
        formats: TF,
        resources: &["*"],
        check: admin_port_from_internet,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(284),
        severity: Severity::Critical,
        threat: "internet-admin-access",
        control: "restricted-ingress",
        rationale: "a security group ingress from 0.0.0.0/0 or ::/0 covers port 22, 3389, 5432, 3306, 1433, 6379, 9200 or 27017",
        remediation: "allow these ports only from a bastion, a VPN or a known address range (or use SSM Session Manager)",
    },
    Rule {
        id: "TF-INGRESS-ALL-PORTS",
        formats: TF,
        resources: &["*"],
        check: all_ports_from_internet,
        stride: Stride::InformationDisclosure,
        cwe: Some(284),
        severity: Severity::High,
        threat: "internet-open-ports",
        control: "restricted-ingress",
        rationale: "a security group ingress from 0.0.0.0/0 or ::/0 has protocol -1 or ports 0-65535",
        remediation: "open only the ports the service answers on",
    },
    Rule {
        id: "TF-IAM-WILDCARD-ACTION",
        formats: TF,
        resources: &["aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"],
        check: iam_wildcard_action,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(269),
        severity: Severity::High,
        threat: "excessive-privilege",
        control: "least-privilege",
        rationale: "an Allow statement of policy has Action \"*\" (or \"service:*\")",
        remediation: "list the actions the principal needs",
    },
    Rule {
        id: "TF-IAM-WILDCARD-RESOURCE",
        formats: TF,
        resources: &["aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"],
        check: iam_wildcard_resource,
        stride: Stride::ElevationOfPrivilege,
        cwe: Some(732),
        severity: Severity::Medium,
        threat: "excessive-privilege",
        control: "least-privilege",
        rationale: "an Allow statement of policy has Resource \"*\"",
        remediation: "scope the statement to the ARNs the principal uses",
    },
    Rule {
        id: "TF-LB-LISTENER-TLS",
        formats: TF,
        resources: &["aws_lb", "aws_alb", "aws_elb"],
        check: listener_tls,
        stride: Stride::InformationDisclosure,
        cwe: Some(319),
        severity: Severity::High,
        threat: "cleartext-transmission",
        control: "tls",
        rationale: "a listener (aws_lb_listener, or listener of aws_elb) has protocol HTTP or TCP and does not redirect to HTTPS",
        remediation: "listen on HTTPS/TLS with a certificate and redirect HTTP to HTTPS",
    },
    Rule {
        id: "TF-LB-WAF",
        formats: TF,
        resources: &["aws_lb", "aws_alb", "aws_api_gateway_stage", "aws_cloudfront_distribution"],
        check: waf_attached,
        stride: Stride::Tampering,
        cwe: Some(693),
        severity: Severity::Medium,
        threat: "web-attack",
        control: "waf",
        rationale: "an internet-facing endpoint with no aws_wafv2_web_acl_association (web_acl_id for CloudFront)",
        remediation: "associate an AWS WAF web ACL with managed rule groups",
    },
    Rule {
        id: "TF-LB-ACCESS-LOGS",
        formats: TF,
        resources: &["aws_lb", "aws_alb"],
        check: lb_access_logs,
        stride: Stride::Repudiation,
        cwe: Some(778),
        severity: Severity::Low,
        threat: "missing-audit-trail",
        control: "access-logging",
        rationale: "access_logs { enabled = true } is missing",
        remediation: "enable access_logs to an S3 bucket",
    },
    Rule {
        id: "TF-API-ROUTE-AUTHORIZER",
        formats: TF,
        resources: &["aws_apigatewayv2_route", "aws_api_gateway_method", "aws_lambda_function_url"],
        check: route_authorizer,
        stride: Stride::Spoofing,
        cwe: Some(306),
        severity: Severity::High,
        threat: "missing-authentication",
        control: "authorizer",
        rationale: "authorization_type (authorization for REST methods) is NONE or missing",
        remediation: "attach an authorizer (JWT, IAM or a Lambda authorizer)",
    },
    Rule {
        id: "TF-CLOUDTRAIL-LOGGING",
        formats: TF,
        resources: &["aws_cloudtrail"],
        check: cloudtrail_logging,
        stride: Stride::Repudiation,
        cwe: Some(778),
        severity: Severity::High,
        threat: "missing-audit-trail",
        control: "audit-trail",
        rationale: "enable_logging = false stops the trail",
        remediation: "keep enable_logging = true (the default) and make the trail multi-region",
    },
    Rule {
        id: "TF-CLOUDTRAIL-VALIDATION",
        formats: TF,
        resources: &["aws_cloudtrail"],
        check: cloudtrail_validation,
        stride: Stride::Repudiation,
        cwe: Some(354),
        severity: Severity::Medium,
        threat: "log-tampering",
        control: "log-file-validation",
        rationale: "enable_log_file_validation is not true",
        remediation: "set enable_log_file_validation = true",
    },
    Rule {
        id: "TF-KMS-ROTATION",
        formats: TF,
        resources: &["aws_kms_key"],
        check: kms_rotation,
        stride: Stride::InformationDisclosure,
        cwe: Some(320),
        severity: Severity::Low,
        threat: "stale-key",
        control: "key-rotation",
        rationale: "enable_key_rotation is not true",
        remediation: "set enable_key_rotation = true",
    },
    Rule {
        id: "TF-EC2-IMDSV2",
        formats: TF,
        resources: &["aws_instance", "aws_launch_template"],
        check: imdsv2,
        stride: Stride::InformationDisclosure,
        cwe: Some(918),
        severity: Severity::Medium,
        threat: "metadata-credential-theft",
        control: "imdsv2",
        rationale: "metadata_options { http_tokens = \"required\" } is missing: IMDSv1 answers SSRF requests",
        remediation: "set metadata_options { http_tokens = \"required\" }",
    },
    Rule {
        id: "TF-EC2-PUBLIC-IP",
        formats: TF,
        resources: &["aws_instance"],
        check: instance_public_ip,
        stride: Stride::InformationDisclosure,
        cwe: Some(284),
        severity: Severity::Medium,
        threat: "public-compute",
        control: "private-network",
        rationale: "associate_public_ip_address = true",
        remediation: "keep instances private behind a load balancer",
    },
    Rule {
        id: "TF-AZ-STORAGE-HTTPS",
        formats: TF,
        resources: &["azurerm_storage_account"],
        check: azure_https_only,
        stride: Stride::InformationDisclosure,
        cwe: Some(319),
        severity: Severity::High,
        threat: "cleartext-transmission",
        control: "tls",
        rationale: "https_traffic_only_enabled (enable_https_traffic_only) = false",
        remediation: "keep HTTPS-only traffic (the default) and min_tls_version = \"TLS1_2\"",
    },
    Rule {
        id: "TF-AZ-STORAGE-PUBLIC",
        formats: TF,
        resources: &["azurerm_storage_account", "azurerm_storage_container"],
        check: azure_public_storage,
        stride: Stride::InformationDisclosure,
        cwe: Some(732),
        severity: Severity::High,
        threat: "public-storage",
        control: "private-acl",
        rationale: "allow_nested_items_to_be_public (allow_blob_public_access) = true, or container_access_type is blob or container",
        remediation: "set allow_nested_items_to_be_public = false and container_access_type = \"private\"",
    },
    Rule {
        id: "TF-GCP-SQL-PUBLIC",
        formats: TF,
        resources: &["google_sql_database_instance"],
        check: gcp_sql_public,
        stride: Stride::InformationDisclosure,
        cwe: Some(284),
        severity: Severity::Critical,
        threat: "public-database",
        control: "private-network",
        rationale: "settings.ip_configuration.authorized_networks holds 0.0.0.0/0",
        remediation: "use private IP (ipv4_enabled = false) or list only known networks",
    },
    Rule {
        id: "TF-GCS-UNIFORM-ACCESS",
        formats: TF,
        resources: &["google_storage_bucket"],
        check: gcs_uniform_access,
        stride: Stride::InformationDisclosure,
        cwe: Some(732),
        severity: Severity::Medium,
        threat: "public-storage",
        control: "uniform-access",
        rationale: "uniform_bucket_level_access is not true: per-object ACLs can make objects public",
        remediation: "set uniform_bucket_level_access = true and public_access_prevention = \"enforced\"",
    },
];

// ---- helpers -------------------------------------------------------------------------------

/// The elements of `types` whose attribute `attr` references `key`.
fn related<'m>(model: &'m InfraModel, types: &[&str], attr: &str, key: &str) -> Vec<&'m Element> {
    model
        .elements
        .iter()
        .filter(|e| types.contains(&e.resource_type.as_str()))
        .filter(|e| e.attr(attr).is_some_and(|a| a.references().contains(&key)))
        .collect()
}

/// `name = true` mitigates, `name = false` or missing exposes (with `missing` as the reason),
/// an unknown value skips.
fn flag_true(e: &Element, name: &str, missing: &str) -> Verdict {
    match e.path(name) {
        Some(a) if a.as_bool() == Some(true) => Mitigated(format!("{name} = true"), a.origin.clone()),
        Some(a) if a.as_bool() == Some(false) => Exposed(format!("{name} = false"), a.origin.clone()),
        Some(_) => Skip,
        None => Exposed(missing.to_string(), e.origin.clone()),
    }
}

/// The control of a bucket in an inline block or in a separate resource of `types` whose
/// `bucket` references it.
fn inline_or_related(
    e: &Element,
    model: &InfraModel,
    inline: &str,
    types: &[&str],
    ok: impl Fn(&Attr) -> bool,
    related_ok: impl Fn(&Element) -> bool,
    missing: &str,
) -> Verdict {
    if let Some(a) = e.attr(inline) {
        if a.is_unknown() {
            return Skip;
        }
        if ok(a) {
            return Mitigated(format!("{inline} is configured"), a.origin.clone());
        }
    }
    let found = related(model, types, "bucket", &e.key);
    if let Some(r) = found.iter().find(|r| related_ok(r)) {
        return Mitigated(format!("{} {}", r.resource_type, r.key), r.origin.clone());
    }
    if let Some(r) = found.first() {
        return Exposed(format!("{} {} does not enable it", r.resource_type, r.key), r.origin.clone());
    }
    Exposed(missing.to_string(), e.origin.clone())
}

fn is_true(e: &Element, path: &str) -> bool {
    e.path(path).and_then(Attr::as_bool) == Some(true)
}

// ---- S3 --------------------------------------------------------------------------------------

fn s3_encryption(e: &Element, model: &InfraModel) -> Verdict {
    inline_or_related(
        e,
        model,
        "server_side_encryption_configuration",
        &["aws_s3_bucket_server_side_encryption_configuration"],
        |_| true,
        |_| true,
        "no server-side encryption configuration",
    )
}

fn s3_public_acl(e: &Element, model: &InfraModel) -> Verdict {
    const PUBLIC: &[&str] = &["public-read", "public-read-write", "authenticated-read"];
    let acls = std::iter::once(e).chain(related(model, &["aws_s3_bucket_acl"], "bucket", &e.key));
    for holder in acls {
        if let Some(acl) = holder.attr("acl")
            && let Some(value) = acl.as_str()
        {
            if PUBLIC.contains(&value) {
                return Exposed(format!("acl = \"{value}\""), acl.origin.clone());
            }
            return Mitigated(format!("acl = \"{value}\""), acl.origin.clone());
        }
    }
    Skip
}

fn s3_public_access_block(e: &Element, model: &InfraModel) -> Verdict {
    const ALL: [&str; 4] =
        ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];
    match related(model, &["aws_s3_bucket_public_access_block"], "bucket", &e.key).first() {
        None => Exposed("no aws_s3_bucket_public_access_block".into(), e.origin.clone()),
        Some(block) => {
            if ALL.iter().all(|a| is_true(block, a)) {
                Mitigated(format!("{} blocks all public access", block.key), block.origin.clone())
            } else if let Some(off) = ALL.iter().find(|a| block.attr(a).and_then(Attr::as_bool) != Some(true))
            {
                if block.attr(off).is_some_and(Attr::is_unknown) {
                    return Skip;
                }
                let origin = block.attr(off).map_or(block.origin.clone(), |a| a.origin.clone());
                Exposed(format!("{}: {off} is not true", block.key), origin)
            } else {
                Skip
            }
        }
    }
}

fn s3_versioning(e: &Element, model: &InfraModel) -> Verdict {
    inline_or_related(
        e,
        model,
        "versioning",
        &["aws_s3_bucket_versioning"],
        |a| a.get("enabled").and_then(Attr::as_bool) == Some(true),
        |r| r.path("versioning_configuration.status").and_then(Attr::as_str) == Some("Enabled"),
        "versioning is not configured",
    )
}

fn s3_logging(e: &Element, model: &InfraModel) -> Verdict {
    inline_or_related(
        e,
        model,
        "logging",
        &["aws_s3_bucket_logging"],
        |_| true,
        |_| true,
        "no access logging",
    )
}

// ---- databases ------------------------------------------------------------------------------

/// `name = true` exposes, `name = false` mitigates; missing or unknown skips.
fn true_exposes(e: &Element, name: &str) -> Verdict {
    match e.attr(name) {
        Some(a) if a.as_bool() == Some(true) => Exposed(format!("{name} = true"), a.origin.clone()),
        Some(a) if a.as_bool() == Some(false) => Mitigated(format!("{name} = false"), a.origin.clone()),
        _ => Skip,
    }
}

fn db_publicly_accessible(e: &Element, _: &InfraModel) -> Verdict {
    true_exposes(e, "publicly_accessible")
}

fn store_in_public_subnet(e: &Element, model: &InfraModel) -> Verdict {
    use crate::infra::model::{BoundaryKind, Exposure};
    let subnets: Vec<_> = e
        .boundaries
        .iter()
        .filter_map(|b| model.boundary(b))
        .filter(|b| matches!(b.kind, BoundaryKind::Subnet(_)))
        .collect();
    if let Some(public) = subnets.iter().find(|b| b.kind == BoundaryKind::Subnet(Exposure::Public)) {
        return Exposed(format!("in public subnet {}", public.key), public.origin.clone());
    }
    if !subnets.is_empty() && subnets.iter().all(|b| b.kind == BoundaryKind::Subnet(Exposure::Private)) {
        let names: Vec<&str> = subnets.iter().map(|b| b.key.as_str()).collect();
        return Mitigated(format!("only in private subnets ({})", names.join(", ")), e.origin.clone());
    }
    Skip
}

fn db_encryption(e: &Element, _: &InfraModel) -> Verdict {
    let name = if e.resource_type == "aws_redshift_cluster" { "encrypted" } else { "storage_encrypted" };
    flag_true(e, name, &format!("{name} is not set"))
}

fn deletion_protection(e: &Element, _: &InfraModel) -> Verdict {
    let name = match e.resource_type.as_str() {
        "aws_lb" | "aws_alb" => "enable_deletion_protection",
        "aws_dynamodb_table" => "deletion_protection_enabled",
        _ => "deletion_protection",
    };
    flag_true(e, name, &format!("{name} is not set"))
}

fn db_backup(e: &Element, _: &InfraModel) -> Verdict {
    match e.attr("backup_retention_period") {
        Some(a) => match a.as_u64() {
            Some(0) => Exposed("backup_retention_period = 0".into(), a.origin.clone()),
            Some(n) => Mitigated(format!("backup_retention_period = {n}"), a.origin.clone()),
            None => Skip,
        },
        // Clusters keep one day by default.
        None if e.resource_type == "aws_db_instance" => {
            Exposed("backup_retention_period is not set (0 by default)".into(), e.origin.clone())
        }
        None => Skip,
    }
}

fn dynamodb_pitr(e: &Element, _: &InfraModel) -> Verdict {
    flag_true(e, "point_in_time_recovery.enabled", "no point_in_time_recovery")
}

// ---- caches, queues, volumes ------------------------------------------------------------------

fn cache_transit(e: &Element, _: &InfraModel) -> Verdict {
    flag_true(e, "transit_encryption_enabled", "transit_encryption_enabled is not set")
}

fn cache_rest(e: &Element, _: &InfraModel) -> Verdict {
    flag_true(e, "at_rest_encryption_enabled", "at_rest_encryption_enabled is not set")
}

fn queue_encryption(e: &Element, _: &InfraModel) -> Verdict {
    if let Some(key) = e.attr("kms_master_key_id") {
        return match key.value {
            Value::Unknown(_) | Value::Reference(_) | Value::Str(_) => {
                Mitigated("kms_master_key_id is set".into(), key.origin.clone())
            }
            _ => Skip,
        };
    }
    match e.attr("sqs_managed_sse_enabled") {
        Some(a) if a.as_bool() == Some(true) => {
            Mitigated("sqs_managed_sse_enabled = true".into(), a.origin.clone())
        }
        Some(a) if a.as_bool() == Some(false) => {
            Exposed("sqs_managed_sse_enabled = false".into(), a.origin.clone())
        }
        Some(_) => Skip,
        // SQS encrypts new queues with SSE-SQS by default; SNS does not encrypt.
        None if e.resource_type == "aws_sns_topic" => {
            Exposed("no kms_master_key_id".into(), e.origin.clone())
        }
        None => Skip,
    }
}

fn ebs_encryption(e: &Element, _: &InfraModel) -> Verdict {
    flag_true(e, "encrypted", "encrypted is not set")
}

// ---- network ---------------------------------------------------------------------------------

fn admin_port_from_internet(e: &Element, model: &InfraModel) -> Verdict {
    if e.key == INTERNET {
        return Skip;
    }
    let open = model.flows.iter().filter(|f| f.from == INTERNET && f.to == e.key).find_map(|f| {
        let port = ADMIN_PORTS.iter().find(|p| f.mechanism.includes(**p))?;
        let all = f.mechanism.ports == Some((0, 65535));
        (!all).then_some((port, f))
    });
    match open {
        Some((port, flow)) => Exposed(
            format!("port {port} open to the Internet ({})", flow.mechanism.display()),
            flow.origin.clone(),
        ),
        None => Skip,
    }
}

fn all_ports_from_internet(e: &Element, model: &InfraModel) -> Verdict {
    match model
        .flows
        .iter()
        .find(|f| f.from == INTERNET && f.to == e.key && f.mechanism.ports == Some((0, 65535)))
    {
        Some(f) => {
            Exposed(format!("every port open to the Internet ({})", f.mechanism.display()), f.origin.clone())
        }
        None => Skip,
    }
}

fn instance_public_ip(e: &Element, _: &InfraModel) -> Verdict {
    true_exposes(e, "associate_public_ip_address")
}

fn imdsv2(e: &Element, _: &InfraModel) -> Verdict {
    match e.path("metadata_options.http_tokens") {
        Some(a) if a.as_str() == Some("required") => {
            Mitigated("http_tokens = \"required\"".into(), a.origin.clone())
        }
        Some(a) if a.as_str().is_some() => {
            Exposed(format!("http_tokens = {:?}", a.as_str().unwrap_or("")), a.origin.clone())
        }
        Some(_) => Skip,
        None => Exposed("no metadata_options.http_tokens = \"required\"".into(), e.origin.clone()),
    }
}

// ---- IAM -------------------------------------------------------------------------------------

/// The statements of a policy document: a map (jsonencode) or JSON text (a heredoc).
fn statements(policy: &Attr) -> Option<Vec<serde_json::Value>> {
    let json = match &policy.value {
        Value::Str(text) => serde_json::from_str(text).ok()?,
        value @ Value::Map(_) => to_json(value)?,
        _ => return None,
    };
    match json.get("Statement")? {
        serde_json::Value::Array(items) => Some(items.clone()),
        one @ serde_json::Value::Object(_) => Some(vec![one.clone()]),
        _ => None,
    }
}

fn to_json(value: &Value) -> Option<serde_json::Value> {
    Some(match value {
        Value::Str(s) | Value::Number(s) => serde_json::Value::String(s.clone()),
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Null => serde_json::Value::Null,
        Value::List(items) => {
            serde_json::Value::Array(items.iter().filter_map(|i| to_json(&i.value)).collect())
        }
        Value::Map(map) => serde_json::Value::Object(
            map.iter().filter_map(|(k, v)| Some((k.clone(), to_json(&v.value)?))).collect(),
        ),
        Value::Reference(r) => serde_json::Value::String(format!("${{{r}}}")),
        Value::Unknown(_) => return None,
    })
}

fn wildcard_in(statement: &serde_json::Value, field: &str, wild: impl Fn(&str) -> bool) -> Option<String> {
    if statement.get("Effect").and_then(|e| e.as_str()) != Some("Allow") {
        return None;
    }
    let values: Vec<&str> = match statement.get(field)? {
        serde_json::Value::String(s) => vec![s.as_str()],
        serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str()).collect(),
        _ => Vec::new(),
    };
    values.into_iter().find(|v| wild(v)).map(str::to_string)
}

fn iam_wildcard(e: &Element, field: &str, wild: impl Fn(&str) -> bool) -> Verdict {
    let Some(policy) = e.attr("policy") else { return Skip };
    let Some(statements) = statements(policy) else { return Skip };
    match statements.iter().find_map(|s| wildcard_in(s, field, &wild)) {
        Some(found) => Exposed(format!("an Allow statement has {field} \"{found}\""), policy.origin.clone()),
        None => Mitigated(format!("every Allow statement names its {field}"), policy.origin.clone()),
    }
}

fn iam_wildcard_action(e: &Element, _: &InfraModel) -> Verdict {
    iam_wildcard(e, "Action", |a| a == "*" || a.ends_with(":*"))
}

fn iam_wildcard_resource(e: &Element, _: &InfraModel) -> Verdict {
    iam_wildcard(e, "Resource", |r| r == "*")
}

// ---- load balancers and APIs -----------------------------------------------------------------

fn listener_tls(e: &Element, model: &InfraModel) -> Verdict {
    let mut listeners: Vec<(String, Option<&Attr>, bool, &Element)> = Vec::new();
    for l in related(model, &["aws_lb_listener", "aws_alb_listener"], "load_balancer_arn", &e.key) {
        let redirects = l.attr("default_action").is_some_and(|actions| {
            actions.as_list().iter().any(|a| {
                a.get("redirect").and_then(|r| r.get("protocol")).and_then(Attr::as_str) == Some("HTTPS")
            })
        });
        let protocol = l.attr("protocol");
        listeners.push((
            protocol.and_then(Attr::as_str).unwrap_or("").to_ascii_uppercase(),
            protocol,
            redirects,
            l,
        ));
    }
    for l in e.attr("listener").map(|l| l.as_list()).unwrap_or_default() {
        let protocol = l.get("lb_protocol");
        listeners.push((
            protocol.and_then(Attr::as_str).unwrap_or("").to_ascii_uppercase(),
            protocol,
            false,
            e,
        ));
    }
    if listeners.is_empty() || listeners.iter().any(|(_, p, ..)| p.is_some_and(Attr::is_unknown)) {
        return Skip;
    }
    if let Some((protocol, attr, _, l)) =
        listeners.iter().find(|(p, _, redirects, _)| matches!(p.as_str(), "HTTP" | "TCP" | "") && !redirects)
    {
        let origin = attr.map_or(l.origin.clone(), |a| a.origin.clone());
        let shown = if protocol.is_empty() { "not set (HTTP)" } else { protocol.as_str() };
        return Exposed(format!("listener {} protocol {shown}", l.key), origin);
    }
    let (protocol, attr, _, l) = listeners
        .iter()
        .find(|(p, ..)| matches!(p.as_str(), "HTTPS" | "TLS" | "SSL"))
        .unwrap_or(&listeners[0]);
    let origin = attr.map_or(l.origin.clone(), |a| a.origin.clone());
    Mitigated(format!("listener {} protocol {protocol}; plain listeners redirect to HTTPS", l.key), origin)
}

fn waf_attached(e: &Element, model: &InfraModel) -> Verdict {
    if e.resource_type == "aws_cloudfront_distribution" {
        return match e.attr("web_acl_id") {
            Some(a) => Mitigated("web_acl_id is set".into(), a.origin.clone()),
            None => Exposed("no web_acl_id".into(), e.origin.clone()),
        };
    }
    if matches!(e.resource_type.as_str(), "aws_lb" | "aws_alb") {
        if e.attr("internal").and_then(Attr::as_bool) == Some(true) {
            return Skip;
        }
        if e.attr("load_balancer_type").and_then(Attr::as_str).is_some_and(|t| t != "application") {
            return Skip;
        }
    }
    match related(
        model,
        &["aws_wafv2_web_acl_association", "aws_wafregional_web_acl_association"],
        "resource_arn",
        &e.key,
    )
    .first()
    {
        Some(a) => Mitigated(format!("{} attaches a web ACL", a.key), a.origin.clone()),
        None => Exposed("internet-facing and no aws_wafv2_web_acl_association".into(), e.origin.clone()),
    }
}

fn lb_access_logs(e: &Element, _: &InfraModel) -> Verdict {
    flag_true(e, "access_logs.enabled", "no access_logs block")
}

fn route_authorizer(e: &Element, _: &InfraModel) -> Verdict {
    let name =
        if e.resource_type == "aws_api_gateway_method" { "authorization" } else { "authorization_type" };
    match e.attr(name) {
        Some(a) => match a.as_str() {
            Some(v) if v.eq_ignore_ascii_case("NONE") => {
                Exposed(format!("{name} = \"NONE\""), a.origin.clone())
            }
            Some(v) => Mitigated(format!("{name} = \"{v}\""), a.origin.clone()),
            None => Skip,
        },
        None => Exposed(format!("{name} is not set (NONE)"), e.origin.clone()),
    }
}

// ---- audit and keys --------------------------------------------------------------------------

fn cloudtrail_logging(e: &Element, _: &InfraModel) -> Verdict {
    match e.attr("enable_logging") {
        Some(a) if a.as_bool() == Some(false) => Exposed("enable_logging = false".into(), a.origin.clone()),
        Some(a) if a.as_bool().is_none() => Skip,
        _ => Mitigated("the trail logs (enable_logging defaults to true)".into(), e.origin.clone()),
    }
}

fn cloudtrail_validation(e: &Element, _: &InfraModel) -> Verdict {
    flag_true(e, "enable_log_file_validation", "enable_log_file_validation is not set")
}

fn kms_rotation(e: &Element, _: &InfraModel) -> Verdict {
    flag_true(e, "enable_key_rotation", "enable_key_rotation is not set")
}

// ---- Azure and Google ------------------------------------------------------------------------

fn azure_https_only(e: &Element, _: &InfraModel) -> Verdict {
    let attr = e.attr("https_traffic_only_enabled").or_else(|| e.attr("enable_https_traffic_only"));
    match attr {
        Some(a) if a.as_bool() == Some(false) => {
            Exposed("HTTPS-only traffic is disabled".into(), a.origin.clone())
        }
        Some(a) if a.as_bool() == Some(true) => Mitigated("HTTPS-only traffic".into(), a.origin.clone()),
        _ => Skip,
    }
}

fn azure_public_storage(e: &Element, _: &InfraModel) -> Verdict {
    if e.resource_type == "azurerm_storage_container" {
        return match e.attr("container_access_type") {
            Some(a) if matches!(a.as_str(), Some("blob" | "container")) => {
                Exposed(format!("container_access_type = \"{}\"", a.as_str().unwrap_or("")), a.origin.clone())
            }
            Some(a) if a.as_str() == Some("private") => {
                Mitigated("container_access_type = \"private\"".into(), a.origin.clone())
            }
            _ => Skip,
        };
    }
    let attr = e.attr("allow_nested_items_to_be_public").or_else(|| e.attr("allow_blob_public_access"));
    match attr {
        Some(a) if a.as_bool() == Some(true) => {
            Exposed("public blob access is allowed".into(), a.origin.clone())
        }
        Some(a) if a.as_bool() == Some(false) => {
            Mitigated("public blob access is disabled".into(), a.origin.clone())
        }
        _ => Skip,
    }
}

fn gcp_sql_public(e: &Element, _: &InfraModel) -> Verdict {
    let Some(networks) = e.path("settings.ip_configuration.authorized_networks") else { return Skip };
    for network in networks.as_list() {
        if let Some(value) = network.get("value")
            && value.as_str() == Some("0.0.0.0/0")
        {
            return Exposed("authorized_networks value = \"0.0.0.0/0\"".into(), value.origin.clone());
        }
    }
    Skip
}

fn gcs_uniform_access(e: &Element, _: &InfraModel) -> Verdict {
    flag_true(e, "uniform_bucket_level_access", "uniform_bucket_level_access is not set")
}
