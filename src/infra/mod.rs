//! Infrastructure code as a baseline threat model (issue 20).
//!
//! Owns: reading templates (Terraform, CloudFormation, Kubernetes, Compose, OpenAPI) into a
//! model of elements, boundaries and flows, and the rules that propose threats from it. Must
//! never: do I/O (text in, model out), run programs or guess a value it cannot resolve.

pub mod detect;
pub mod doc;
