//! The operations catalog: the services, resource types and trace names the product knows, and
//! the typical preset (operations whose notification almost every operator wants). The EC2, S3
//! and SIGNIN entries are the names CloudTrail records normalize to.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::model::Operation;

#[derive(Deserialize)]
struct Entry {
    typical: Vec<String>,
    other: Vec<String>,
}

type Catalog = BTreeMap<String, BTreeMap<String, Entry>>;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        serde_json::from_str(include_str!("catalog.json")).expect("catalog.json is valid")
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
    let mut out = Vec::new();
    for (service, resources) in catalog() {
        if service_type.is_some_and(|s| s != service) {
            continue;
        }
        for (resource, e) in resources {
            if resource_type.is_some_and(|r| r != resource) {
                continue;
            }
            let mut operation_list = e.typical.clone();
            if !typical_only {
                operation_list.extend(e.other.iter().cloned());
            }
            if !operation_list.is_empty() {
                out.push(CatalogEntry {
                    service_type: service.clone(),
                    resource_type: resource.clone(),
                    operation_list,
                });
            }
        }
    }
    out
}

/// The operations a `typical` rule is created with.
pub fn typical_operations() -> Vec<Operation> {
    entries(None, None, true)
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
}
