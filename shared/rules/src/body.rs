//! Create and modify bodies, parsed once into valid values (parse, don't validate). Every
//! failure names the field's JSON path and the rule of the contract it broke.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::catalog;
use crate::digest::Digest;
use crate::error::{ErrorCode, ValidationError};
use crate::filter::{Condition, Filter, Joiner};
use crate::limits::*;
use crate::model::{Notification, Operation, OperationType, Status, UserGroup};
use crate::topic::{NotificationType, TopicId};

type Result<T> = std::result::Result<T, ValidationError>;

/// What create and modify bodies share: everything a user chooses about a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    name: String,
    operation_type: OperationType,
    operations: Vec<Operation>,
    notify_user_list: Vec<UserGroup>,
    topic_id: Option<TopicId>,
    filter: Option<Filter>,
    agency_name: Option<String>,
    digest: Option<Digest>,
}

/// A valid `POST /v3/{project_id}/notifications` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateBody(Spec);

/// A valid `PUT /v3/{project_id}/notifications` body: a full replacement of one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateBody {
    notification_id: String,
    status: Status,
    spec: Spec,
}

impl UpdateBody {
    /// The rule as stored under `project_id`, created at `create_time`.
    pub(crate) fn into_stored(self, project_id: String, create_time: i64) -> Notification {
        self.spec
            .into_notification(self.notification_id, self.status, project_id, create_time)
    }
}

impl CreateBody {
    pub fn parse(body: &[u8]) -> Result<Self> {
        Self::from_value(&parse_json(body)?)
    }

    pub fn from_value(v: &Value) -> Result<Self> {
        Ok(CreateBody(Spec::from_object(root(v)?)?))
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The stored rule: enabled when it has a topic, else disabled.
    pub fn into_notification(
        self,
        notification_id: String,
        project_id: String,
        create_time: i64,
    ) -> Notification {
        let status = if self.0.topic_id.is_some() {
            Status::Enabled
        } else {
            Status::Disabled
        };
        self.0
            .into_notification(notification_id, status, project_id, create_time)
    }
}

impl UpdateBody {
    pub fn parse(body: &[u8]) -> Result<Self> {
        Self::from_value(&parse_json(body)?)
    }

    pub fn from_value(v: &Value) -> Result<Self> {
        let o = root(v)?;
        let notification_id = required_str(o, "notification_id", "notification_id")?;
        if notification_id.len() > 64 {
            return Err(ValidationError::invalid(
                "notification_id",
                "must be at most 64 characters (empty: the rule is the one named notification_name)",
            ));
        }
        let status = match o.get("status") {
            None | Some(Value::Null) => {
                return Err(ValidationError::invalid("status", "is required"))
            }
            Some(Value::String(s)) if s == "enabled" => Status::Enabled,
            Some(Value::String(s)) if s == "disabled" => Status::Disabled,
            Some(Value::String(_)) => {
                return Err(ValidationError {
                    code: ErrorCode::InvalidStatus,
                    field: "status".into(),
                    rule: "must be enabled or disabled".into(),
                })
            }
            Some(_) => return Err(ValidationError::invalid("status", "must be a string")),
        };
        let spec = Spec::from_object(o)?;
        if status == Status::Enabled && spec.topic_id.is_none() {
            return Err(ValidationError::invalid(
                "topic_id",
                "is required when status is enabled",
            ));
        }
        Ok(UpdateBody {
            notification_id: notification_id.to_owned(),
            status,
            spec,
        })
    }

    /// The id of the rule to replace; empty when the body names the rule by
    /// `notification_name` alone (as the Terraform provider does right after a create).
    pub fn notification_id(&self) -> &str {
        &self.notification_id
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The replacement of `existing`: its id, project and creation time are kept.
    pub fn apply_to(self, existing: &Notification) -> Notification {
        self.spec.into_notification(
            existing.notification_id.clone(),
            self.status,
            existing.project_id.clone(),
            existing.create_time,
        )
    }
}

/// Refuses an SMN URN of another project than the rule's: a URN is how a project names its own
/// topics.
pub fn check_topic_project(n: &Notification) -> Result<()> {
    match n.topic_id.as_ref().and_then(TopicId::urn_project) {
        Some(project) if project != n.project_id => Err(ValidationError::invalid(
            "topic_id",
            format!(
                "a URN must name the rule's own project ({}), not {project}",
                n.project_id
            ),
        )),
        _ => Ok(()),
    }
}

impl Spec {
    fn from_object(o: &Map<String, Value>) -> Result<Spec> {
        let name = required_str(o, "notification_name", "notification_name")?;
        if !is_notification_name(name) {
            return Err(ValidationError::invalid(
                "notification_name",
                "must be 1-64 characters of A-Z a-z 0-9 _",
            ));
        }
        let operations_given = match o.get("operations") {
            None | Some(Value::Null) => None,
            Some(v) => Some(array(v, "operations")?),
        };
        let (operation_type, operations) =
            match required_str(o, "operation_type", "operation_type")? {
                preset @ ("complete" | "typical")
                    if operations_given.is_some_and(|ops| !ops.is_empty()) =>
                {
                    return Err(ValidationError::invalid(
                        "operations",
                        format!("must be empty when operation_type is {preset}"),
                    ));
                }
                "complete" => (OperationType::Complete, Vec::new()),
                "customized" => {
                    let ops = operations_given
                        .filter(|ops| !ops.is_empty())
                        .ok_or_else(|| {
                            ValidationError::invalid(
                                "operations",
                                "customized rules need at least 1 operation",
                            )
                        })?;
                    (OperationType::Customized, parse_operations(ops)?)
                }
                "typical" => (OperationType::Customized, catalog::typical_operations()),
                _ => {
                    return Err(ValidationError::invalid(
                        "operation_type",
                        "must be complete, customized or typical",
                    ))
                }
            };
        let notify_user_list = match o.get("notify_user_list") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => parse_user_groups(array(v, "notify_user_list")?)?,
        };
        let topic_id = match optional_str(o, "topic_id", "topic_id")? {
            None | Some("") => None,
            Some(t) => Some(TopicId::parse(t).ok_or_else(|| {
                ValidationError::invalid(
                    "topic_id",
                    "must be an SNS topic ARN, an SMN URN (urn:smn:...), a Lambda function ARN or a FunctionGraph URN (urn:fss:...)",
                )
            })?),
        };
        let filter = match o.get("filter") {
            None | Some(Value::Null) => None,
            Some(v) => Some(parse_filter(v)?),
        };
        let agency_name = match optional_str(o, "agency_name", "agency_name")? {
            None | Some("") => None,
            Some(a) if a.chars().count() <= 64 && is_clean_text(a) => Some(a.to_owned()),
            Some(_) => {
                return Err(ValidationError::invalid(
                    "agency_name",
                    "must be at most 64 characters without control characters",
                ))
            }
        };
        let digest = match o.get("digest") {
            None | Some(Value::Null) => None,
            Some(v) => Some(Digest::parse(v)?),
        };
        Ok(Spec {
            digest,
            name: name.to_owned(),
            operation_type,
            operations,
            notify_user_list,
            topic_id,
            filter,
            agency_name,
        })
    }

    fn into_notification(
        self,
        notification_id: String,
        status: Status,
        project_id: String,
        create_time: i64,
    ) -> Notification {
        let notification_type = self
            .topic_id
            .as_ref()
            .map_or(NotificationType::Smn, TopicId::kind);
        Notification {
            notification_id,
            notification_name: self.name,
            operation_type: self.operation_type,
            operations: self.operations,
            notify_user_list: self.notify_user_list,
            status,
            topic_id: self.topic_id,
            filter: self.filter,
            agency_name: self.agency_name,
            digest: self.digest,
            notification_type,
            project_id,
            create_time,
        }
    }
}

/// The operations as sent (blocks, order and repeats kept: clients compare what they read back
/// with what they sent). The limits count what the body holds.
fn parse_operations(ops: &[Value]) -> Result<Vec<Operation>> {
    let held: usize = ops
        .iter()
        .filter_map(|op| op.get("trace_names")?.as_array().map(Vec::len))
        .sum();
    if held > MAX_TRACE_NAMES {
        return Err(ValidationError::invalid(
            "operations",
            format!("at most {MAX_TRACE_NAMES} trace names in all; got {held}"),
        ));
    }
    let mut out: Vec<Operation> = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let path = format!("operations[{i}]");
        let o = object(op, &path)?;
        let service = required_str(o, "service_type", &format!("{path}.service_type"))?;
        if !is_service_type(service) {
            return Err(ValidationError::invalid(
                format!("{path}.service_type"),
                "must be 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter (e.g. ECS)",
            ));
        }
        let resource = required_str(o, "resource_type", &format!("{path}.resource_type"))?;
        if !is_resource_type(resource) {
            return Err(ValidationError::invalid(
                format!("{path}.resource_type"),
                "must be 1-64 characters of A-Z a-z 0-9 _ . : / -",
            ));
        }
        let names_path = format!("{path}.trace_names");
        let names = array(
            o.get("trace_names")
                .ok_or_else(|| ValidationError::invalid(&names_path, "is required"))?,
            &names_path,
        )?;
        if names.is_empty() {
            return Err(ValidationError::invalid(
                &names_path,
                "must hold at least 1 trace name",
            ));
        }
        let mut trace_names = Vec::with_capacity(names.len());
        for (j, n) in names.iter().enumerate() {
            let npath = format!("{names_path}[{j}]");
            let n = n
                .as_str()
                .ok_or_else(|| ValidationError::invalid(&npath, "must be a string"))?;
            if !is_trace_name(n) {
                return Err(ValidationError::invalid(
                    npath,
                    "must be 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter",
                ));
            }
            trace_names.push(n.to_owned());
        }
        out.push(Operation {
            service_type: service.to_owned(),
            resource_type: resource.to_owned(),
            trace_names,
        });
    }
    let services: HashSet<&str> = out.iter().map(|o| o.service_type.as_str()).collect();
    if services.len() > MAX_SERVICES {
        return Err(ValidationError::invalid(
            "operations",
            format!(
                "at most {MAX_SERVICES} distinct service_type values; got {}",
                services.len()
            ),
        ));
    }
    Ok(out)
}

/// The user groups as sent (order and repeats kept); the limits count what the body holds.
fn parse_user_groups(groups: &[Value]) -> Result<Vec<UserGroup>> {
    if groups.len() > MAX_USER_GROUPS {
        return Err(ValidationError::invalid(
            "notify_user_list",
            format!(
                "at most {MAX_USER_GROUPS} user groups; got {}",
                groups.len()
            ),
        ));
    }
    let held: usize = groups
        .iter()
        .filter_map(|g| g.get("user_list")?.as_array().map(Vec::len))
        .sum();
    if held > MAX_USERS {
        return Err(ValidationError::invalid(
            "notify_user_list",
            format!("at most {MAX_USERS} users in all; got {held}"),
        ));
    }
    let mut out = Vec::with_capacity(groups.len());
    for (i, g) in groups.iter().enumerate() {
        let path = format!("notify_user_list[{i}]");
        let o = object(g, &path)?;
        let group = required_str(o, "user_group", &format!("{path}.user_group"))?;
        if !is_principal_name(group) {
            return Err(ValidationError::invalid(
                format!("{path}.user_group"),
                "must be 1-64 characters without control characters",
            ));
        }
        let list_path = format!("{path}.user_list");
        let users = array(
            o.get("user_list")
                .ok_or_else(|| ValidationError::invalid(&list_path, "is required"))?,
            &list_path,
        )?;
        if users.is_empty() {
            return Err(ValidationError::invalid(
                &list_path,
                "must hold at least 1 user",
            ));
        }
        let mut user_list: Vec<String> = Vec::with_capacity(users.len());
        for (j, u) in users.iter().enumerate() {
            let upath = format!("{list_path}[{j}]");
            let u = u
                .as_str()
                .ok_or_else(|| ValidationError::invalid(&upath, "must be a string"))?;
            if !is_principal_name(u) {
                return Err(ValidationError::invalid(
                    upath,
                    "must be 1-64 characters without control characters",
                ));
            }
            user_list.push(u.to_owned());
        }
        out.push(UserGroup {
            user_group: group.to_owned(),
            user_list,
        });
    }
    Ok(out)
}

fn parse_filter(v: &Value) -> Result<Filter> {
    let o = object(v, "filter")?;
    let is_support_filter = match o.get("is_support_filter") {
        Some(Value::Bool(b)) => *b,
        None | Some(Value::Null) => {
            return Err(ValidationError::invalid(
                "filter.is_support_filter",
                "is required",
            ))
        }
        Some(_) => {
            return Err(ValidationError::invalid(
                "filter.is_support_filter",
                "must be a boolean",
            ))
        }
    };
    let condition = match optional_str(o, "condition", "filter.condition")? {
        Some("AND") => Joiner::And,
        Some("OR") => Joiner::Or,
        None if !is_support_filter => Joiner::And,
        None => return Err(ValidationError::invalid("filter.condition", "is required")),
        Some(_) => {
            return Err(ValidationError::invalid(
                "filter.condition",
                "must be AND or OR",
            ))
        }
    };
    let rules = match o.get("rule") {
        None | Some(Value::Null) => &[][..],
        Some(v) => array(v, "filter.rule")?.as_slice(),
    };
    if is_support_filter && rules.is_empty() {
        return Err(ValidationError::invalid(
            "filter.rule",
            "must hold 1-6 conditions",
        ));
    }
    if rules.len() > MAX_CONDITIONS {
        return Err(ValidationError::invalid(
            "filter.rule",
            format!("at most {MAX_CONDITIONS} conditions; got {}", rules.len()),
        ));
    }
    let mut rule = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        let path = format!("filter.rule[{i}]");
        let text = r
            .as_str()
            .ok_or_else(|| ValidationError::invalid(&path, "must be a string"))?;
        rule.push(
            Condition::parse(text)
                .map_err(|why| ValidationError::invalid(path, why.to_string()))?,
        );
    }
    Ok(Filter {
        condition,
        is_support_filter,
        rule,
    })
}

fn parse_json(body: &[u8]) -> Result<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ValidationError::invalid("body", "is required"));
    }
    serde_json::from_slice(body)
        .map_err(|e| ValidationError::invalid("body", format!("is not valid JSON ({e})")))
}

pub(crate) fn root(v: &Value) -> Result<&Map<String, Value>> {
    object(v, "body")
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| ValidationError::invalid(path, "must be a JSON object"))
}

fn array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>> {
    v.as_array()
        .ok_or_else(|| ValidationError::invalid(path, "must be an array"))
}

pub(crate) fn required_str<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str> {
    optional_str(o, key, path)?.ok_or_else(|| ValidationError::invalid(path, "is required"))
}

fn optional_str<'a>(o: &'a Map<String, Value>, key: &str, path: &str) -> Result<Option<&'a str>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ValidationError::invalid(path, "must be a string")),
    }
}
