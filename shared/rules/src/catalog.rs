//! The operations catalog: the services, resource types and trace names the product knows, and
//! the typical preset (operations whose notification almost every operator wants). Two sources:
//! `catalog.json`, chosen by hand (the CTS services, and the typical sets of both clouds), and
//! [`aws`], every operation of every AWS service, generated from the AWS service models by
//! `scripts/gen_aws_catalog.py` and keyed as CloudTrail records normalize.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::model::Operation;

mod aws;

#[derive(Deserialize, Default)]
struct Entry {
    #[serde(borrow)]
    typical: Vec<&'static str>,
    #[serde(borrow)]
    other: Vec<&'static str>,
}

type Catalog = BTreeMap<&'static str, BTreeMap<&'static str, Entry>>;

/// The hand-chosen catalog alone: all the typical sets. (The trace handler, which only ever
/// needs these, so does not link the generated table.)
fn hand_chosen() -> Catalog {
    serde_json::from_str(include_str!("catalog.json")).expect("catalog.json is valid")
}

/// Both sources merged, once, on first use (nothing is read at start); the strings are the
/// binary's own.
fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut catalog = hand_chosen();
        for &(service, resource, operations) in aws::AWS_OPERATIONS {
            let entry = catalog
                .entry(service)
                .or_default()
                .entry(resource)
                .or_default();
            let known: Vec<&str> = entry.typical.iter().chain(&entry.other).copied().collect();
            entry
                .other
                .extend(operations.iter().filter(|op| !known.contains(op)));
        }
        catalog
    })
}

/// One `operations` entry of `GET /v3/{project_id}/operations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogEntry {
    pub service_type: String,
    pub resource_type: String,
    pub operation_list: Vec<String>,
}

/// The catalog, narrowed to a service and resource type when given; only typical operations
/// when `typical_only`.
pub fn entries(
    service_type: Option<&str>,
    resource_type: Option<&str>,
    typical_only: bool,
) -> Vec<CatalogEntry> {
    select(catalog(), service_type, resource_type, typical_only)
}

fn select(
    catalog: &Catalog,
    service_type: Option<&str>,
    resource_type: Option<&str>,
    typical_only: bool,
) -> Vec<CatalogEntry> {
    let mut out = Vec::new();
    for (&service, resources) in catalog {
        if service_type.is_some_and(|s| s != service) {
            continue;
        }
        for (&resource, e) in resources {
            if resource_type.is_some_and(|r| r != resource) {
                continue;
            }
            let mut operation_list: Vec<String> = e.typical.iter().map(|&op| op.into()).collect();
            if !typical_only {
                operation_list.extend(e.other.iter().map(|&op| op.into()));
            }
            if !operation_list.is_empty() {
                out.push(CatalogEntry {
                    service_type: service.into(),
                    resource_type: resource.into(),
                    operation_list,
                });
            }
        }
    }
    out
}

/// The operations a `typical` rule is created with.
pub fn typical_operations() -> Vec<Operation> {
    select(&hand_chosen(), None, None, true)
        .into_iter()
        .map(|e| Operation {
            service_type: e.service_type,
            resource_type: e.resource_type,
            trace_names: e.operation_list,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{is_trace_name, MAX_SERVICES, MAX_TRACE_NAMES};

    #[test]
    fn every_catalog_name_is_a_valid_trace_name() {
        for e in entries(None, None, false) {
            for n in &e.operation_list {
                assert!(is_trace_name(n), "{n}");
            }
        }
    }

    #[test]
    fn the_typical_preset_fits_one_rule() {
        let ops = typical_operations();
        let names: usize = ops.iter().map(|o| o.trace_names.len()).sum();
        assert!(names > 0 && names <= MAX_TRACE_NAMES);
        assert!(ops.len() <= MAX_SERVICES * 10);
        assert!(
            ops.iter()
                .any(|o| o.service_type == "ECS"
                    && o.trace_names.contains(&"deleteServer".to_owned()))
        );
    }

    #[test]
    fn narrowing_by_service_and_resource() {
        let vpc = entries(Some("VPC"), None, false);
        assert!(vpc.len() >= 2 && vpc.iter().all(|e| e.service_type == "VPC"));
        let eip = entries(Some("VPC"), Some("eip"), false);
        assert_eq!(eip.len(), 1);
        assert!(eip[0].operation_list.contains(&"createEip".to_owned()));
        assert!(entries(Some("NOPE"), None, false).is_empty());
    }

    fn operations_of(service: &str, resource: &str) -> Vec<String> {
        entries(Some(service), Some(resource), false)
            .into_iter()
            .flat_map(|e| e.operation_list)
            .collect()
    }

    #[test]
    fn every_aws_service_and_operation_is_listed() {
        let services: std::collections::BTreeSet<_> = entries(None, None, false)
            .into_iter()
            .map(|e| e.service_type)
            .collect();
        assert!(services.len() >= 300, "{} services", services.len());
        for (service, resource, operation) in [
            ("EC2", "ec2", "RunInstances"),
            ("IAM", "iam", "CreateAccessKey"),
            ("S3", "s3", "PutBucketPolicy"),
            // Models of one event source share its entry: S3 Control, SES v2, Bedrock's runtime.
            ("S3", "s3", "PutPublicAccessBlock"),
            ("SES", "ses", "CreateEmailIdentity"),
            ("BEDROCK", "bedrock", "InvokeModel"),
            ("MONITORING", "monitoring", "DeleteAlarms"),
        ] {
            assert!(
                operations_of(service, resource)
                    .iter()
                    .any(|o| o == operation),
                "{service} {resource} {operation}"
            );
        }
        let ec2 = operations_of("EC2", "ec2");
        assert!(ec2.len() > 500, "EC2 has {} operations", ec2.len());
    }

    /// The hand-chosen typical sets stay as they were; the generated operations are never typical.
    #[test]
    fn merging_keeps_the_typical_sets_and_repeats_no_operation() {
        let signin = entries(Some("SIGNIN"), Some("signin"), true);
        assert_eq!(signin[0].operation_list, ["ConsoleLogin"]);
        assert!(entries(Some("EC2"), Some("ec2"), true).is_empty());
        let typical: Vec<Operation> = entries(None, None, true)
            .into_iter()
            .map(|e| Operation {
                service_type: e.service_type,
                resource_type: e.resource_type,
                trace_names: e.operation_list,
            })
            .collect();
        assert_eq!(typical, typical_operations());
        for e in entries(None, None, false) {
            let unique: std::collections::HashSet<_> = e.operation_list.iter().collect();
            assert_eq!(
                unique.len(),
                e.operation_list.len(),
                "{} {}",
                e.service_type,
                e.resource_type
            );
        }
    }
}
