//! The baseline of realistic CloudFormation, Kubernetes, Compose and OpenAPI fixtures
//! (`tests/fixtures/infra/yaml/`), as snapshots of the derived model: elements, boundaries,
//! flows, proposed exposures and mitigations, unknowns, each with its location. Review a
//! changed snapshot like code (`UPDATE_EXPECT=1 cargo test --test infra_yaml_fixtures`).

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use expect_test::expect_file;
use threat_analyzer::infra::model::InfraModel;
use threat_analyzer::infra::{SourceFile, derive};
use threat_analyzer::syntax::Language;

fn model_of(name: &str) -> InfraModel {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/infra/yaml").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let language = Language::from_path(&path).unwrap();
    derive(&[SourceFile { path: name.to_string(), language, text: Arc::from(text) }])
}

/// One line per fact, in the model's (sorted) order.
fn dump(model: &InfraModel) -> String {
    let mut out = String::new();
    for e in &model.elements {
        let boundaries = if e.boundaries.is_empty() {
            String::new()
        } else {
            format!(" in [{}]", e.boundaries.join(", "))
        };
        writeln!(
            out,
            "element {} ({}, {}){boundaries} @{}",
            e.key,
            e.kind.name(),
            e.resource_type,
            e.origin.display()
        )
        .unwrap();
    }
    for b in &model.boundaries {
        let parent = b.parent.as_ref().map(|p| format!(" in {p}")).unwrap_or_default();
        writeln!(out, "boundary {} ({}){parent} @{}", b.key, b.kind.name(), b.origin.display()).unwrap();
    }
    for f in &model.flows {
        writeln!(out, "flow {} -> {} [{}] @{}", f.from, f.to, f.mechanism.display(), f.origins_display())
            .unwrap();
    }
    for p in &model.proposals {
        writeln!(out, "{:?} {} {}: {} @{}", p.outcome, p.rule, p.element, p.detail, p.origin.display())
            .unwrap();
    }
    for u in &model.unknowns {
        writeln!(out, "unknown {} @{}", u.what, u.origin.display()).unwrap();
    }
    out
}

#[test]
fn three_tier_cloudformation() {
    expect_file!["snapshots/infra_yaml/three-tier.cfn.txt"]
        .assert_eq(&dump(&model_of("three-tier.cfn.yaml")));
}

#[test]
fn kubernetes_shop() {
    expect_file!["snapshots/infra_yaml/shop.k8s.txt"].assert_eq(&dump(&model_of("shop.k8s.yaml")));
}

#[test]
fn compose_stack() {
    expect_file!["snapshots/infra_yaml/compose.txt"].assert_eq(&dump(&model_of("compose.yaml")));
}

#[test]
fn openapi_orders() {
    expect_file!["snapshots/infra_yaml/orders.openapi.txt"]
        .assert_eq(&dump(&model_of("orders.openapi.yaml")));
}

/// The same template in JSON gives the same model (but for locations).
#[test]
fn cloudformation_json_reads_like_yaml() {
    let yaml = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n  F:\n    Type: AWS::Lambda::Function\n    Properties: {Role: !GetAtt R.Arn}\n  M:\n    Type: AWS::Lambda::EventSourceMapping\n    Properties: {EventSourceArn: !GetAtt Q.Arn, FunctionName: !Ref F}\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies: [{PolicyName: p, PolicyDocument: {Statement: [{Effect: Allow, Action: 'sqs:*', Resource: !GetAtt Q.Arn}]}}]\n";
    let json = r#"{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {
      "Q": {"Type": "AWS::SQS::Queue"},
      "F": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["R", "Arn"]}}},
      "M": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"EventSourceArn": {"Fn::GetAtt": ["Q", "Arn"]}, "FunctionName": {"Ref": "F"}}},
      "R": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": {"Fn::GetAtt": ["Q", "Arn"]}}]}}]}}}}"#;
    let strip = |m: InfraModel| {
        let facts =
            |s: String| s.lines().map(|l| l.split(" @").next().unwrap().to_string()).collect::<Vec<_>>();
        facts(dump(&m))
    };
    let from_yaml = strip(derive(&[SourceFile {
        path: "t.yaml".into(),
        language: Language::Yaml,
        text: Arc::from(yaml),
    }]));
    let from_json = strip(derive(&[SourceFile {
        path: "t.yaml".into(),
        language: Language::Json,
        text: Arc::from(json),
    }]));
    assert_eq!(from_yaml, from_json);
    assert!(from_yaml.contains(&"flow cfn:Q -> cfn:F [event]".to_string()), "{from_yaml:#?}");
    assert!(
        from_yaml.iter().any(|l| l.starts_with("Exposure CFN-IAM-WILDCARD-ACTION cfn:R")),
        "{from_yaml:#?}"
    );
}
