//! Every CloudFormation, Kubernetes, Compose and OpenAPI rule of the baseline's table, each
//! with a positive fixture (the weakness: an exposure) and a negative one (the control, or the
//! weakness absent: no exposure, and a mitigation where the rule records one), through
//! `infra::derive` as the `baseline` command runs it. A rule added to those tables without a
//! case here fails `every_rule_has_fixtures`. The README's rule tables are checked against every
//! format's rows here too, Terraform's included.

use std::sync::Arc;

use threat_analyzer::infra::model::{Format, Outcome};
use threat_analyzer::infra::{SourceFile, derive, rules};
use threat_analyzer::syntax::Language;

struct Case {
    rule: &'static str,
    path: &'static str,
    exposed: String,
    controlled: String,
    /// Whether the negative fixture records a mitigation (else: the rule stays silent).
    mitigation: bool,
}

fn file(path: &str, text: &str) -> SourceFile {
    let language = if path.ends_with(".json") { Language::Json } else { Language::Yaml };
    SourceFile { path: path.to_string(), language, text: Arc::from(text) }
}

/// A CloudFormation template with these resources (indented by two already).
fn cfn(resources: &str) -> String {
    format!("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n{resources}")
}

fn deployment(container_extra: &str, pod_extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n{pod_extra}      containers:\n        - name: web\n          image: nginx:1.27\n{container_extra}"
    )
}

fn compose(service_extra: &str) -> String {
    format!("services:\n  app:\n    image: myorg/app:1.0\n{service_extra}")
}

fn openapi(extra: &str) -> String {
    format!("openapi: 3.0.3\ninfo: {{title: Shop, version: '1'}}\n{extra}")
}

const SECURE_CONTAINER: &str = "          securityContext: {privileged: false, runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}\n          resources: {limits: {cpu: 500m, memory: 256Mi}}\n";

fn cases() -> Vec<Case> {
    let case = |rule, path, exposed: String, controlled: String, mitigation| Case {
        rule,
        path,
        exposed,
        controlled,
        mitigation,
    };
    let bucket = |props: &str| cfn(&format!("  Data:\n    Type: AWS::S3::Bucket\n    Properties:\n{props}"));
    let db = |props: &str| {
        cfn(&format!(
            "  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      Engine: postgres\n{props}"
        ))
    };
    let vpc_db = |public: bool| {
        let gateway = if public {
            "  Igw:\n    Type: AWS::EC2::InternetGateway\n"
        } else {
            "  Igw:\n    Type: AWS::EC2::NatGateway\n"
        };
        cfn(&format!(
            "  Vpc:\n    Type: AWS::EC2::VPC\n{gateway}  Rt:\n    Type: AWS::EC2::RouteTable\n    Properties: {{VpcId: !Ref Vpc}}\n  Default:\n    Type: AWS::EC2::Route\n    Properties: {{RouteTableId: !Ref Rt, DestinationCidrBlock: 0.0.0.0/0, GatewayId: !Ref Igw}}\n  SubnetA:\n    Type: AWS::EC2::Subnet\n    Properties: {{VpcId: !Ref Vpc}}\n  Assoc:\n    Type: AWS::EC2::SubnetRouteTableAssociation\n    Properties: {{SubnetId: !Ref SubnetA, RouteTableId: !Ref Rt}}\n  Group:\n    Type: AWS::RDS::DBSubnetGroup\n    Properties: {{SubnetIds: [!Ref SubnetA]}}\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties: {{DBSubnetGroupName: !Ref Group}}\n"
        ))
    };
    let sg = |cidr: &str, port: u32| {
        cfn(&format!(
            "  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: db\n      SecurityGroupIngress:\n        - {{IpProtocol: tcp, FromPort: {port}, ToPort: {port}, CidrIp: {cidr}}}\n  Bastion:\n    Type: AWS::EC2::SecurityGroup\n    Properties: {{GroupDescription: b}}\n  Host:\n    Type: AWS::EC2::Instance\n    Properties: {{SecurityGroupIds: [!Ref Sg]}}\n"
        ))
    };
    let lb = |listener: &str, extra: &str| {
        cfn(&format!(
            "  Lb:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n    Properties: {{Scheme: internet-facing}}\n  Listener:\n    Type: AWS::ElasticLoadBalancingV2::Listener\n    Properties:\n      LoadBalancerArn: !Ref Lb\n{listener}{extra}"
        ))
    };
    let api = |auth: &str, extra: &str| {
        cfn(&format!(
            "  Api:\n    Type: AWS::ApiGateway::RestApi\n    Properties: {{Name: shop}}\n  Get:\n    Type: AWS::ApiGateway::Method\n    Properties: {{RestApiId: !Ref Api, HttpMethod: GET, AuthorizationType: {auth}, ResourceId: !GetAtt Api.RootResourceId}}\n{extra}"
        ))
    };
    let role = |statement: &str| {
        cfn(&format!(
            "  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {{}}\n      Policies:\n        - PolicyName: p\n          PolicyDocument:\n            Statement:\n              - {statement}\n"
        ))
    };
    let workload_case = |rule, exposed_container: &str, exposed_pod: &str| {
        case(
            rule,
            "k8s/app.yaml",
            deployment(exposed_container, exposed_pod),
            deployment(SECURE_CONTAINER, ""),
            true,
        )
    };
    vec![
        case("CFN-S3-ENCRYPTION", "t.yaml", bucket("      BucketName: data\n"), bucket("      BucketEncryption:\n        ServerSideEncryptionConfiguration:\n          - ServerSideEncryptionByDefault: {SSEAlgorithm: 'aws:kms'}\n"), true),
        case("CFN-S3-PUBLIC-ACCESS", "t.yaml", bucket("      AccessControl: PublicRead\n"), bucket("      PublicAccessBlockConfiguration: {BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true}\n"), true),
        case("CFN-S3-VERSIONING", "t.yaml", bucket("      VersioningConfiguration: {Status: Suspended}\n"), bucket("      VersioningConfiguration: {Status: Enabled}\n"), true),
        case("CFN-S3-ACCESS-LOGGING", "t.yaml", bucket("      BucketName: data\n"), bucket("      LoggingConfiguration: {DestinationBucketName: logs}\n"), true),
        case("CFN-DB-PUBLICLY-ACCESSIBLE", "t.yaml", db("      PubliclyAccessible: 'true'\n"), db("      PubliclyAccessible: false\n"), true),
        case("CFN-DB-PUBLIC-SUBNET", "t.yaml", vpc_db(true), vpc_db(false), true),
        case("CFN-RDS-ENCRYPTION", "t.yaml", db("      StorageEncrypted: false\n"), db("      StorageEncrypted: true\n"), true),
        case("CFN-RDS-DELETION-PROTECTION", "t.yaml", db("      DeletionProtection: true\n      BackupRetentionPeriod: 0\n"), db("      DeletionProtection: true\n      BackupRetentionPeriod: 7\n"), true),
        case(
            "CFN-DYNAMODB-PITR",
            "t.yaml",
            cfn("  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {BillingMode: PAY_PER_REQUEST}\n"),
            cfn("  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}}\n"),
            true,
        ),
        case(
            "CFN-QUEUE-ENCRYPTION",
            "t.yaml",
            cfn("  Q:\n    Type: AWS::SQS::Queue\n    Properties: {SqsManagedSseEnabled: false}\n"),
            cfn("  Q:\n    Type: AWS::SQS::Queue\n    Properties: {KmsMasterKeyId: alias/aws/sqs}\n"),
            true,
        ),
        case("CFN-SG-SENSITIVE-PORT-INTERNET", "t.yaml", sg("0.0.0.0/0", 22), sg("10.0.0.0/8", 22), false),
        case(
            "CFN-LB-NO-TLS",
            "t.yaml",
            lb("      Protocol: HTTP\n      Port: 80\n      DefaultActions: [{Type: forward, TargetGroupArn: !Ref Tg}]\n", "  Tg:\n    Type: AWS::ElasticLoadBalancingV2::TargetGroup\n    Properties: {Port: 80, Protocol: HTTP}\n"),
            lb("      Protocol: HTTP\n      Port: 80\n      DefaultActions: [{Type: redirect, RedirectConfig: {Protocol: HTTPS, Port: '443', StatusCode: HTTP_301}}]\n", ""),
            true,
        ),
        case(
            "CFN-NO-WAF",
            "t.yaml",
            lb("      Protocol: HTTPS\n      Port: 443\n", ""),
            lb("      Protocol: HTTPS\n      Port: 443\n", "  Acl:\n    Type: AWS::WAFv2::WebACLAssociation\n    Properties: {ResourceArn: !Ref Lb, WebACLArn: arn:aws:wafv2:acl}\n"),
            true,
        ),
        case("CFN-APIGW-NO-AUTH", "t.yaml", api("NONE", ""), api("AWS_IAM", "  Options:\n    Type: AWS::ApiGateway::Method\n    Properties: {RestApiId: !Ref Api, HttpMethod: OPTIONS, AuthorizationType: NONE}\n"), true),
        case("CFN-IAM-WILDCARD-ACTION", "t.yaml", role("{Effect: Allow, Action: 's3:*', Resource: 'arn:aws:s3:::data/*'}"), role("{Effect: Allow, Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::data/*'}"), true),
        case("CFN-IAM-WILDCARD-RESOURCE", "t.yaml", role("{Effect: Allow, Action: ['s3:GetObject'], Resource: '*'}"), role("{Effect: Allow, Action: ['s3:GetObject'], Resource: !Sub 'arn:aws:s3:::data/*'}"), true),
        case(
            "CFN-CACHE-ENCRYPTION",
            "t.yaml",
            cfn("  C:\n    Type: AWS::ElastiCache::ReplicationGroup\n    Properties: {TransitEncryptionEnabled: false, AtRestEncryptionEnabled: true}\n"),
            cfn("  C:\n    Type: AWS::ElastiCache::ReplicationGroup\n    Properties: {TransitEncryptionEnabled: true, AtRestEncryptionEnabled: true}\n"),
            true,
        ),
        case(
            "CFN-TRAIL-LOGGING",
            "t.yaml",
            cfn("  Trail:\n    Type: AWS::CloudTrail::Trail\n    Properties: {IsLogging: false, S3BucketName: logs}\n"),
            cfn("  Trail:\n    Type: AWS::CloudTrail::Trail\n    Properties: {IsLogging: true, EnableLogFileValidation: true, S3BucketName: logs}\n"),
            true,
        ),
        case(
            "CFN-STORE-DELETION-POLICY",
            "t.yaml",
            cfn("  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Delete\n"),
            cfn("  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n"),
            true,
        ),
        workload_case("K8S-PRIVILEGED", "          securityContext: {privileged: true}\n", ""),
        workload_case("K8S-RUN-AS-ROOT", "          securityContext: {runAsUser: 0}\n", ""),
        case(
            "K8S-HOST-NAMESPACES",
            "k8s/app.yaml",
            deployment("", "      hostNetwork: true\n"),
            deployment("", "      hostNetwork: false\n"),
            false,
        ),
        workload_case("K8S-NO-RESOURCE-LIMITS", "          resources: {requests: {cpu: 100m}}\n", ""),
        case(
            "K8S-SECRET-IN-ENV",
            "k8s/app.yaml",
            deployment("          env:\n            - {name: DB_PASSWORD, value: hunter2}\n", ""),
            deployment("          env:\n            - name: DB_PASSWORD\n              valueFrom: {secretKeyRef: {name: db, key: password}}\n", ""),
            true,
        ),
        case(
            "K8S-SECRET-IN-CONFIGMAP",
            "k8s/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata:\n  LOG_LEVEL: info\n  STRIPE_API_KEY: sk_live_x\n".into(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata:\n  LOG_LEVEL: info\n  DB_HOST: db\n".into(),
            false,
        ),
        workload_case("K8S-PRIVILEGE-ESCALATION", "          securityContext: {allowPrivilegeEscalation: true}\n", ""),
        workload_case("K8S-WRITABLE-ROOT-FS", "          securityContext: {readOnlyRootFilesystem: false}\n", ""),
        case(
            "K8S-INGRESS-NO-TLS",
            "k8s/ing.yaml",
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules: [{host: shop.example.com}]\n".into(),
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  tls: [{hosts: [shop.example.com], secretName: tls}]\n  rules: [{host: shop.example.com}]\n".into(),
            true,
        ),
        case(
            "K8S-NO-NETWORK-POLICY",
            "k8s/app.yaml",
            deployment("", ""),
            format!(
                "{}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: web-only, namespace: shop}}\nspec:\n  podSelector: {{matchLabels: {{app: web}}}}\n",
                deployment("", "")
            ),
            true,
        ),
        case(
            "K8S-RBAC-WILDCARD",
            "k8s/rbac.yaml",
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: ops}\nrules:\n  - {apiGroups: [''], resources: ['*'], verbs: [get]}\n".into(),
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: reader, namespace: shop}\nrules:\n  - {apiGroups: [''], resources: [configmaps], verbs: [get]}\n".into(),
            true,
        ),
        case(
            "K8S-HOST-PATH",
            "k8s/app.yaml",
            deployment("", "      volumes: [{name: sock, hostPath: {path: /var/run/docker.sock}}]\n"),
            deployment("", "      volumes: [{name: data, emptyDir: {}}]\n"),
            false,
        ),
        case(
            "K8S-IMAGE-NOT-PINNED",
            "k8s/app.yaml",
            deployment("", "").replace("nginx:1.27", "nginx"),
            deployment("", "").replace("nginx:1.27", "nginx@sha256:0123456789abcdef"),
            true,
        ),
        case("COMPOSE-DATABASE-PORT-PUBLISHED", "compose.yaml", compose("    ports: ['5432:5432']\n"), compose("    ports: ['127.0.0.1:5432:5432', '8080:80']\n"), true),
        case(
            "K8S-SENSITIVE-PORT-INTERNET",
            "k8s/app.yaml",
            format!("{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: shop}}\nspec:\n  type: LoadBalancer\n  selector: {{app: web}}\n  ports: [{{port: 22}}]\n", deployment("", "")),
            format!(
                "{}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: ssh, namespace: shop}}\nspec:\n  podSelector: {{}}\n  ingress: [{{from: [{{podSelector: {{matchLabels: {{app: web}}}}}}], ports: [{{port: 22}}]}}]\n",
                deployment("", "")
            ),
            true,
        ),
        case("COMPOSE-PRIVILEGED", "compose.yaml", compose("    privileged: true\n"), compose("    privileged: false\n"), false),
        case("COMPOSE-HOST-NAMESPACES", "compose.yaml", compose("    network_mode: host\n"), compose("    network_mode: bridge\n"), false),
        case("COMPOSE-SECRET-IN-ENV", "compose.yaml", compose("    environment:\n      - POSTGRES_PASSWORD=hunter2\n"), compose("    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n"), true),
        case("COMPOSE-DOCKER-SOCKET", "compose.yaml", compose("    volumes: ['/var/run/docker.sock:/var/run/docker.sock']\n"), compose("    volumes: ['data:/data']\n"), false),
        case("COMPOSE-NO-RESOURCE-LIMITS", "compose.yaml", compose(""), compose("    deploy: {resources: {limits: {cpus: '0.5', memory: 256M}}}\n"), true),
        case(
            "OAS-NO-SECURITY",
            "api.yaml",
            openapi("paths:\n  /orders:\n    get: {responses: {'200': {description: ok}}}\n"),
            openapi("security: [{bearer: []}]\npaths:\n  /orders:\n    get: {responses: {'200': {description: ok}}}\n"),
            true,
        ),
        case(
            "OAS-CLEARTEXT-SERVER",
            "api.yaml",
            openapi("servers: [{url: 'http://api.example.com/v1'}]\n"),
            openapi("servers: [{url: 'https://api.example.com/v1'}, {url: 'http://localhost:8080'}]\n"),
            true,
        ),
        case(
            "OAS-WEAK-AUTH-SCHEME",
            "api.yaml",
            openapi("components:\n  securitySchemes:\n    key: {type: apiKey, in: query, name: api_key}\n"),
            openapi("components:\n  securitySchemes:\n    key: {type: apiKey, in: header, name: X-API-Key}\n"),
            true,
        ),
        case(
            "OAS-OAUTH-LEGACY-FLOW",
            "api.yaml",
            openapi("components:\n  securitySchemes:\n    oauth:\n      type: oauth2\n      flows: {implicit: {authorizationUrl: 'https://a/authorize', scopes: {}}}\n"),
            openapi("components:\n  securitySchemes:\n    oauth:\n      type: oauth2\n      flows: {authorizationCode: {authorizationUrl: 'https://a/authorize', tokenUrl: 'https://a/token', scopes: {}}}\n"),
            true,
        ),
    ]
}

fn outcomes(rule: &str, path: &str, text: &str) -> Vec<(Outcome, String)> {
    let model = derive(&[file(path, text)]);
    model.proposals.iter().filter(|p| p.rule == rule).map(|p| (p.outcome, p.detail.clone())).collect()
}

#[test]
fn each_rule_exposes_its_positive_fixture_and_not_its_negative_one() {
    let mut failures = Vec::new();
    for case in cases() {
        let positive = outcomes(case.rule, case.path, &case.exposed);
        if !positive.iter().any(|(o, _)| *o == Outcome::Exposure) {
            failures
                .push(format!("{}: positive fixture not exposed: {positive:?}\n{}", case.rule, case.exposed));
        }
        let negative = outcomes(case.rule, case.path, &case.controlled);
        if negative.iter().any(|(o, _)| *o == Outcome::Exposure) {
            failures
                .push(format!("{}: negative fixture exposed: {negative:?}\n{}", case.rule, case.controlled));
        }
        let mitigated = negative.iter().any(|(o, _)| *o == Outcome::Mitigation);
        if mitigated != case.mitigation {
            failures
                .push(format!("{}: mitigation expected {}, got {negative:?}", case.rule, case.mitigation));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_rule_has_fixtures() {
    let cases = cases();
    let formats = [Format::CloudFormation, Format::Kubernetes, Format::Compose, Format::OpenApi];
    let mine: Vec<&str> =
        rules::table().filter(|r| r.formats.iter().any(|f| formats.contains(f))).map(|r| r.id).collect();
    assert!(mine.len() >= 40, "{}", mine.len());
    for id in &mine {
        assert!(cases.iter().any(|c| c.rule == *id), "rule {id} has no fixture case");
    }
    for case in &cases {
        assert!(mine.contains(&case.rule), "case for unknown rule {}", case.rule);
    }
}
/// The README's rule tables (the Terraform one and the YAML formats' one) have a row for every
/// rule of every format, with its STRIDE category, severity, CWE, rationale and remediation,
/// and no row for a rule the table lacks (kept true by this test).
#[test]
fn readme_lists_every_rule_with_its_rationale() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let rows: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `") && l.contains("` | ")).collect();
    for rule in rules::table() {
        let row = rows.iter().find(|l| l.starts_with(&format!("| `{}` |", rule.id)));
        let row = row.unwrap_or_else(|| panic!("README has no row for {}", rule.id));
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
        assert_eq!(cells.len(), 7, "README row of {}: {row}", rule.id);
        assert_eq!(cells[2], rule.stride.name(), "README row of {}: STRIDE", rule.id);
        let severity = rule.severity.as_str();
        assert!(cells[3].eq_ignore_ascii_case(severity), "README row of {}: severity {severity}", rule.id);
        assert_eq!(cells[4], rule.cwe_ref().as_deref().unwrap_or("—"), "README row of {}: CWE", rule.id);
        assert!(row.contains(rule.rationale), "README row of {} lacks its rationale", rule.id);
        assert!(row.contains(rule.remediation), "README row of {} lacks its remediation", rule.id);
    }
    // Every rule row names a rule of the table (a rule removed or renamed leaves no row behind).
    let prefixes = ["TF-", "CFN-", "K8S-", "COMPOSE-", "OAS-"];
    for row in rows {
        let id = row.trim_start_matches("| `").split('`').next().unwrap_or_default();
        if prefixes.iter().any(|p| id.starts_with(p)) {
            assert!(rules::rule(id).is_some(), "README has a row for the unknown rule {id}");
        }
    }
}
