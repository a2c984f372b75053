//! Tests of the Terraform extractor: modules, references, boundaries and flows.

use std::sync::Arc;

use crate::infra::model::{ElementKind, INTERNET, InfraModel, Value};
use crate::infra::{SourceFile, derive};
use crate::syntax::Language;

pub(crate) fn model_of(files: &[(&str, &str)]) -> InfraModel {
    let files: Vec<SourceFile> = files
        .iter()
        .map(|(path, text)| SourceFile {
            path: path.to_string(),
            language: Language::Hcl,
            text: Arc::from(*text),
        })
        .collect();
    derive(&files)
}

const NETWORK: &str = r#"
variable "cidr" { default = "10.0.0.0/16" }
locals { admin = 22 }
resource "aws_vpc" "main" { cidr_block = var.cidr }
resource "aws_internet_gateway" "gw" { vpc_id = aws_vpc.main.id }
resource "aws_subnet" "public" { vpc_id = aws_vpc.main.id }
resource "aws_subnet" "private" { vpc_id = aws_vpc.main.id }
resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }
}
resource "aws_route_table" "private" { vpc_id = aws_vpc.main.id }
resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}
resource "aws_route_table_association" "private" {
  subnet_id      = aws_subnet.private.id
  route_table_id = aws_route_table.private.id
}
resource "aws_security_group" "web" {
  vpc_id = aws_vpc.main.id
  ingress {
    from_port   = local.admin
    to_port     = local.admin
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.unset]
  }
}
resource "aws_instance" "web" {
  subnet_id              = aws_subnet.public.id
  vpc_security_group_ids = [aws_security_group.web.id]
  user_data              = file("init.sh")
}
"#;

#[test]
fn boundaries_flows_and_unknowns() {
    let model = model_of(&[("net/main.tf", NETWORK)]);
    let web = model.element("aws_instance.web").unwrap();
    assert_eq!(web.kind, ElementKind::Process);
    assert_eq!(web.boundaries, ["aws_security_group.web", "aws_subnet.public", "aws_vpc.main"]);
    assert_eq!(model.boundary("aws_subnet.public").unwrap().kind.name(), "public subnet");
    assert_eq!(model.boundary("aws_subnet.private").unwrap().kind.name(), "private subnet");
    assert_eq!(model.boundary("aws_subnet.public").unwrap().parent.as_deref(), Some("aws_vpc.main"));
    let from_internet: Vec<String> = model
        .flows
        .iter()
        .filter(|f| f.from == INTERNET)
        .map(|f| format!("{} {}", f.to, f.mechanism.display()))
        .collect();
    assert_eq!(from_internet, ["aws_instance.web tcp/22"]);
    let vpc = model.element("aws_vpc.main").unwrap();
    assert_eq!(vpc.attr("cidr_block").unwrap().value, Value::Str("10.0.0.0/16".into()));
    let unknowns: Vec<&str> = model.unknowns.iter().map(|u| u.what.as_str()).collect();
    assert!(
        unknowns.contains(&"aws_security_group.web: ingress cidr_blocks is not a literal"),
        "{unknowns:?}"
    );
    assert!(unknowns.contains(&"aws_instance.web.user_data = file(\"init.sh\")"), "{unknowns:?}");
    assert_eq!(model.unknowns.iter().find(|u| u.what.contains("user_data")).unwrap().origin.line, 42);
}

#[test]
fn modules_resolve_inputs_outputs_and_addresses() {
    let root = r#"
module "db" {
  source  = "./modules/db"
  public  = true
  subnets = [aws_subnet.a.id]
}
module "remote" { source = "hashicorp/consul/aws" }
resource "aws_subnet" "a" { map_public_ip_on_launch = true }
resource "aws_lambda_function" "api" {
  environment {
    variables = { DB = module.db.address }
  }
}
"#;
    let db = r#"
variable "public" {}
variable "subnets" { default = [] }
variable "name" { default = "orders" }
resource "aws_db_subnet_group" "main" { subnet_ids = var.subnets }
resource "aws_db_instance" "main" {
  identifier           = "${var.name}-db"
  publicly_accessible  = var.public
  db_subnet_group_name = aws_db_subnet_group.main.name
}
output "address" { value = aws_db_instance.main.address }
"#;
    let model = model_of(&[("main.tf", root), ("modules/db/main.tf", db)]);
    let instance = model.element("module.db.aws_db_instance.main").unwrap();
    assert_eq!(instance.attr("publicly_accessible").unwrap().value, Value::Bool(true));
    assert_eq!(instance.attr("identifier").unwrap().value, Value::Str("orders-db".into()));
    assert_eq!(instance.boundaries, ["aws_subnet.a"]);
    // The module directory is not a root of its own.
    assert!(model.element("aws_db_instance.main").is_none());
    assert!(
        model
            .flows
            .iter()
            .any(|f| f.from == "aws_lambda_function.api" && f.to == "module.db.aws_db_instance.main")
    );
    assert!(
        model
            .unknowns
            .iter()
            .any(|u| u.what.starts_with("module.remote: its source is not a local directory"))
    );
}

#[test]
fn classic_load_balancer_listeners_are_flows() {
    let model = model_of(&[(
        "main.tf",
        r#"resource "aws_instance" "web" {}
resource "aws_elb" "web" {
  instances = ["${aws_instance.web.id}"]
  listener {
    instance_port     = 8080
    instance_protocol = "http"
    lb_port           = 443
    lb_protocol       = "https"
  }
}"#,
    )]);
    let flows: Vec<String> =
        model.flows.iter().map(|f| format!("{} -> {} {}", f.from, f.to, f.mechanism.display())).collect();
    assert_eq!(flows, ["aws_elb.web -> aws_instance.web http/8080", "internet -> aws_elb.web https/443"]);
}

/// Each rule's positive fixture (it must propose an exposure) and negative fixture (no
/// exposure; `true` when the control must be recorded as a mitigation).
const RULE_FIXTURES: &[(&str, &str, &str, bool)] = &[
    (
        "TF-S3-ENCRYPTION",
        r#"resource "aws_s3_bucket" "b" {}"#,
        r#"resource "aws_s3_bucket" "b" {}
resource "aws_s3_bucket_server_side_encryption_configuration" "b" {
  bucket = aws_s3_bucket.b.id
  rule {
    apply_server_side_encryption_by_default { sse_algorithm = "aws:kms" }
  }
}"#,
        true,
    ),
    (
        "TF-S3-PUBLIC-ACL",
        r#"resource "aws_s3_bucket" "b" { acl = "public-read" }"#,
        r#"resource "aws_s3_bucket" "b" {}
resource "aws_s3_bucket_acl" "b" {
  bucket = aws_s3_bucket.b.id
  acl    = "private"
}"#,
        true,
    ),
    (
        "TF-S3-PUBLIC-ACCESS-BLOCK",
        r#"resource "aws_s3_bucket" "b" {}
resource "aws_s3_bucket_public_access_block" "b" {
  bucket                  = aws_s3_bucket.b.id
  block_public_acls       = true
  block_public_policy     = false
  ignore_public_acls      = true
  restrict_public_buckets = true
}"#,
        r#"resource "aws_s3_bucket" "b" {}
resource "aws_s3_bucket_public_access_block" "b" {
  bucket                  = aws_s3_bucket.b.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}"#,
        true,
    ),
    (
        "TF-S3-VERSIONING",
        r#"resource "aws_s3_bucket" "b" {}
resource "aws_s3_bucket_versioning" "b" {
  bucket = aws_s3_bucket.b.id
  versioning_configuration { status = "Suspended" }
}"#,
        r#"resource "aws_s3_bucket" "b" {}
resource "aws_s3_bucket_versioning" "b" {
  bucket = aws_s3_bucket.b.id
  versioning_configuration { status = "Enabled" }
}"#,
        true,
    ),
    (
        "TF-S3-ACCESS-LOGS",
        r#"resource "aws_s3_bucket" "b" {}"#,
        r#"resource "aws_s3_bucket" "b" {
  logging { target_bucket = "logs" }
}"#,
        true,
    ),
    (
        "TF-DB-PUBLICLY-ACCESSIBLE",
        r#"resource "aws_db_instance" "d" { publicly_accessible = true }"#,
        r#"resource "aws_db_instance" "d" { publicly_accessible = false }"#,
        true,
    ),
    (
        "TF-DB-PUBLIC-SUBNET",
        r#"resource "aws_subnet" "s" { map_public_ip_on_launch = true }
resource "aws_db_subnet_group" "g" { subnet_ids = [aws_subnet.s.id] }
resource "aws_db_instance" "d" { db_subnet_group_name = aws_db_subnet_group.g.name }"#,
        r#"resource "aws_subnet" "s" {}
resource "aws_route_table" "private" {}
resource "aws_route_table_association" "a" {
  subnet_id      = aws_subnet.s.id
  route_table_id = aws_route_table.private.id
}
resource "aws_db_subnet_group" "g" { subnet_ids = [aws_subnet.s.id] }
resource "aws_db_instance" "d" { db_subnet_group_name = aws_db_subnet_group.g.name }"#,
        true,
    ),
    (
        "TF-DB-ENCRYPTION",
        r#"resource "aws_rds_cluster" "c" {}"#,
        r#"resource "aws_rds_cluster" "c" { storage_encrypted = true }"#,
        true,
    ),
    (
        "TF-DB-DELETION-PROTECTION",
        r#"resource "aws_db_instance" "d" { deletion_protection = false }"#,
        r#"resource "aws_db_instance" "d" { deletion_protection = true }"#,
        true,
    ),
    (
        "TF-DB-BACKUP",
        r#"resource "aws_db_instance" "d" {}"#,
        r#"resource "aws_db_instance" "d" { backup_retention_period = 7 }"#,
        true,
    ),
    (
        "TF-DYNAMODB-PITR",
        r#"resource "aws_dynamodb_table" "t" {}"#,
        r#"resource "aws_dynamodb_table" "t" {
  point_in_time_recovery { enabled = true }
}"#,
        true,
    ),
    (
        "TF-CACHE-TRANSIT-ENCRYPTION",
        r#"resource "aws_elasticache_replication_group" "r" {}"#,
        r#"resource "aws_elasticache_replication_group" "r" { transit_encryption_enabled = true }"#,
        true,
    ),
    (
        "TF-CACHE-REST-ENCRYPTION",
        r#"resource "aws_elasticache_replication_group" "r" { at_rest_encryption_enabled = false }"#,
        r#"resource "aws_elasticache_replication_group" "r" { at_rest_encryption_enabled = true }"#,
        true,
    ),
    (
        "TF-QUEUE-ENCRYPTION",
        r#"resource "aws_sns_topic" "t" {}"#,
        r#"resource "aws_sns_topic" "t" { kms_master_key_id = "alias/aws/sns" }"#,
        true,
    ),
    (
        "TF-EBS-ENCRYPTION",
        r#"resource "aws_ebs_volume" "v" {}"#,
        r#"resource "aws_ebs_volume" "v" { encrypted = true }"#,
        true,
    ),
    (
        "TF-INGRESS-ADMIN-PORT",
        r#"resource "aws_security_group" "g" {}
resource "aws_security_group_rule" "ssh" {
  type              = "ingress"
  security_group_id = aws_security_group.g.id
  from_port         = 22
  to_port           = 22
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}
resource "aws_instance" "i" { vpc_security_group_ids = [aws_security_group.g.id] }"#,
        r#"resource "aws_security_group" "g" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
  ingress {
    from_port        = 443
    to_port          = 443
    protocol         = "tcp"
    ipv6_cidr_blocks = ["::/0"]
  }
}
resource "aws_instance" "i" { vpc_security_group_ids = [aws_security_group.g.id] }"#,
        false,
    ),
    (
        "TF-INGRESS-ALL-PORTS",
        r#"resource "aws_security_group" "g" {}
resource "aws_vpc_security_group_ingress_rule" "all" {
  security_group_id = aws_security_group.g.id
  ip_protocol       = "-1"
  cidr_ipv6         = "::/0"
}"#,
        r#"resource "aws_security_group" "g" {}
resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.g.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}"#,
        false,
    ),
    (
        "TF-IAM-WILDCARD-ACTION",
        r#"resource "aws_iam_policy" "p" {
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", Resource = "arn:aws:s3:::b" }]
  })
}"#,
        r#"resource "aws_iam_policy" "p" {
  policy = <<EOF
{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}]}
EOF
}"#,
        true,
    ),
    (
        "TF-IAM-WILDCARD-RESOURCE",
        r#"resource "aws_iam_role_policy" "p" {
  policy = <<EOF
{"Statement": {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}}
EOF
}"#,
        r#"resource "aws_iam_role_policy" "p" {
  policy = jsonencode({
    Statement = [
      { Effect = "Deny", Action = "s3:*", Resource = "*" },
      { Effect = "Allow", Action = "s3:PutObject", Resource = "arn:aws:s3:::b/*" },
    ]
  })
}"#,
        true,
    ),
    (
        "TF-LB-LISTENER-TLS",
        r#"resource "aws_lb" "l" {}
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.l.arn
  port              = 80
  protocol          = "HTTP"
  default_action { type = "forward" }
}"#,
        r#"resource "aws_lb" "l" {}
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.l.arn
  port              = 80
  protocol          = "HTTP"
  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}
resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.l.arn
  port              = 443
  protocol          = "HTTPS"
}"#,
        true,
    ),
    (
        "TF-LB-WAF",
        r#"resource "aws_lb" "l" { internal = false }"#,
        r#"resource "aws_lb" "l" {}
resource "aws_wafv2_web_acl_association" "a" {
  resource_arn = aws_lb.l.arn
  web_acl_arn  = "arn:aws:wafv2:acl"
}"#,
        true,
    ),
    (
        "TF-LB-ACCESS-LOGS",
        r#"resource "aws_lb" "l" {}"#,
        r#"resource "aws_lb" "l" {
  access_logs {
    bucket  = "logs"
    enabled = true
  }
}"#,
        true,
    ),
    (
        "TF-API-ROUTE-AUTHORIZER",
        r#"resource "aws_apigatewayv2_route" "r" { route_key = "GET /orders" }"#,
        r#"resource "aws_apigatewayv2_route" "r" {
  route_key          = "GET /orders"
  authorization_type = "JWT"
}"#,
        true,
    ),
    (
        "TF-CLOUDTRAIL-LOGGING",
        r#"resource "aws_cloudtrail" "t" { enable_logging = false }"#,
        r#"resource "aws_cloudtrail" "t" { is_multi_region_trail = true }"#,
        true,
    ),
    (
        "TF-CLOUDTRAIL-VALIDATION",
        r#"resource "aws_cloudtrail" "t" {}"#,
        r#"resource "aws_cloudtrail" "t" { enable_log_file_validation = true }"#,
        true,
    ),
    (
        "TF-KMS-ROTATION",
        r#"resource "aws_kms_key" "k" {}"#,
        r#"resource "aws_kms_key" "k" { enable_key_rotation = true }"#,
        true,
    ),
    (
        "TF-EC2-IMDSV2",
        r#"resource "aws_launch_template" "t" {
  metadata_options { http_tokens = "optional" }
}"#,
        r#"resource "aws_instance" "i" {
  metadata_options { http_tokens = "required" }
}"#,
        true,
    ),
    (
        "TF-EC2-PUBLIC-IP",
        r#"resource "aws_instance" "i" { associate_public_ip_address = true }"#,
        r#"resource "aws_instance" "i" { associate_public_ip_address = false }"#,
        true,
    ),
    (
        "TF-AZ-STORAGE-HTTPS",
        r#"resource "azurerm_storage_account" "s" { enable_https_traffic_only = false }"#,
        r#"resource "azurerm_storage_account" "s" { https_traffic_only_enabled = true }"#,
        true,
    ),
    (
        "TF-AZ-STORAGE-PUBLIC",
        r#"resource "azurerm_storage_container" "c" { container_access_type = "blob" }"#,
        r#"resource "azurerm_storage_account" "s" { allow_nested_items_to_be_public = false }"#,
        true,
    ),
    (
        "TF-GCP-SQL-PUBLIC",
        r#"resource "google_sql_database_instance" "d" {
  settings {
    ip_configuration {
      authorized_networks {
        name  = "all"
        value = "0.0.0.0/0"
      }
    }
  }
}"#,
        r#"resource "google_sql_database_instance" "d" {
  settings {
    ip_configuration { ipv4_enabled = false }
  }
}"#,
        false,
    ),
    (
        "TF-GCS-UNIFORM-ACCESS",
        r#"resource "google_storage_bucket" "b" {}"#,
        r#"resource "google_storage_bucket" "b" { uniform_bucket_level_access = true }"#,
        true,
    ),
];

#[test]
fn every_rule_has_a_positive_and_a_negative_fixture() {
    use crate::infra::model::Outcome;
    let ids: Vec<&str> = super::rules::RULES.iter().map(|r| r.id).collect();
    let fixtures: Vec<&str> = RULE_FIXTURES.iter().map(|f| f.0).collect();
    assert_eq!(ids, fixtures, "one fixture row per rule, in table order");
    for (id, positive, negative, mitigation) in RULE_FIXTURES {
        let model = model_of(&[("main.tf", positive)]);
        let exposed: Vec<_> =
            model.proposals.iter().filter(|p| p.rule == *id && p.outcome == Outcome::Exposure).collect();
        assert!(
            !exposed.is_empty(),
            "{id}: the positive fixture proposes no exposure: {:#?}",
            model.proposals
        );
        assert!(
            exposed.iter().all(|p| p.origin.path == "main.tf" && p.origin.line >= 1),
            "{id}: {exposed:?}"
        );
        let model = model_of(&[("main.tf", negative)]);
        let of_rule: Vec<_> = model.proposals.iter().filter(|p| p.rule == *id).collect();
        assert!(
            of_rule.iter().all(|p| p.outcome == Outcome::Mitigation),
            "{id}: the negative fixture proposes an exposure: {of_rule:#?}"
        );
        assert_eq!(!of_rule.is_empty(), *mitigation, "{id}: mitigation recorded? {of_rule:#?}");
    }
}

#[test]
fn rule_ids_are_unique_and_rows_complete() {
    let mut ids: Vec<&str> = super::rules::RULES.iter().map(|r| r.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), super::rules::RULES.len());
    for rule in super::rules::RULES {
        assert!(rule.id.starts_with("TF-") && !rule.rationale.is_empty() && !rule.remediation.is_empty());
        for id in [rule.threat, rule.control] {
            assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{id}");
        }
    }
}

/// A subnet with no route table association of its own uses its VPC's main route table.
#[test]
fn subnets_without_an_association_use_the_main_route_table() {
    let exposure = |extra: &str| {
        let text = format!(
            r#"resource "aws_vpc" "main" {{}}
resource "aws_internet_gateway" "gw" {{ vpc_id = aws_vpc.main.id }}
resource "aws_subnet" "a" {{ vpc_id = aws_vpc.main.id }}
{extra}"#
        );
        model_of(&[("main.tf", &text)]).boundary("aws_subnet.a").unwrap().kind.name()
    };
    // Nothing says what the main table routes: unknown.
    assert_eq!(exposure(""), "subnet");
    // An explicit main table association.
    let public = r#"resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }
}
resource "aws_route_table" "private" { vpc_id = aws_vpc.main.id }"#;
    let main = |table: &str| {
        format!(
            "{public}\nresource \"aws_main_route_table_association\" \"m\" {{\n  vpc_id         = aws_vpc.main.id\n  route_table_id = aws_route_table.{table}.id\n}}"
        )
    };
    assert_eq!(exposure(&main("public")), "public subnet");
    assert_eq!(exposure(&main("private")), "private subnet");
    // The VPC's default table, declared with or without a route to the gateway.
    let default = |route: &str| {
        format!(
            "resource \"aws_default_route_table\" \"d\" {{\n  default_route_table_id = aws_vpc.main.default_route_table_id\n  {route}\n}}"
        )
    };
    assert_eq!(
        exposure(&default(
            "route {\n    cidr_block = \"0.0.0.0/0\"\n    gateway_id = aws_internet_gateway.gw.id\n  }"
        )),
        "public subnet"
    );
    assert_eq!(exposure(&default("")), "private subnet");
    // A route added to the main table through the VPC's attribute.
    assert_eq!(
        exposure(
            "resource \"aws_route\" \"r\" {\n  route_table_id         = aws_vpc.main.main_route_table_id\n  destination_cidr_block = \"0.0.0.0/0\"\n  gateway_id             = aws_internet_gateway.gw.id\n}"
        ),
        "public subnet"
    );
    // An explicit association still wins over the main table.
    assert_eq!(
        exposure(&format!(
            "{}\nresource \"aws_route_table_association\" \"a\" {{\n  subnet_id      = aws_subnet.a.id\n  route_table_id = aws_route_table.private.id\n}}",
            main("public")
        )),
        "private subnet"
    );
}

#[test]
fn a_syntax_error_is_reported_where_the_reader_skipped() {
    // The second resource's block is broken (an unclosed string); whatever tree-sitter's error
    // recovery skips must be said, not silently missing from the baseline.
    let broken = "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"logs\"\n}\n\
                  resource \"aws_db_instance\" \"db\" {\n  engine = \"postgres\n  publicly_accessible = true\n";
    let model = model_of(&[("app/main.tf", broken), ("app/ok.tf", NETWORK)]);
    let problems: Vec<(String, u32)> = model
        .unknowns
        .iter()
        .filter(|u| u.what == crate::infra::doc::SYNTAX_ERROR)
        .map(|u| (u.origin.path.clone(), u.origin.line))
        .collect();
    assert!(!problems.is_empty(), "no syntax error reported: {:?}", model.unknowns);
    assert!(problems.iter().all(|(path, line)| path == "app/main.tf" && *line >= 4), "{problems:?}");
    // The part before the error is still read.
    assert!(model.element("aws_s3_bucket.logs").is_some());
}

#[test]
fn many_syntax_errors_are_capped_and_counted() {
    let broken: String = (0..(crate::limits::MAX_TEMPLATE_PROBLEMS + 20))
        .map(|i| format!("resource \"aws_s3_bucket\" \"b{i}\" {{\n  bucket = \"b\" = 1\n}}\n"))
        .collect();
    let model = model_of(&[("many.tf", &broken)]);
    let errors = model.unknowns.iter().filter(|u| u.what == crate::infra::doc::SYNTAX_ERROR).count();
    assert_eq!(errors, crate::limits::MAX_TEMPLATE_PROBLEMS);
    assert!(
        model.unknowns.iter().any(|u| u.what.ends_with("more problems reading this file")),
        "{:?}",
        model.unknowns
    );
}
