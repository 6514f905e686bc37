//! The notification rule as the CTS v3 API shows it. Values of these types are valid: they are
//! only built by [`crate::body`], which enforces every rule of the contract.

use serde::Serialize;

use crate::digest::Digest;
use crate::filter::Filter;
use crate::topic::{NotificationType, TopicId};

/// Which operations a rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationType {
    /// Every operation of the project.
    Complete,
    /// The listed operations only.
    Customized,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Enabled,
    Disabled,
}

/// Trace names of one (service, resource type) pair, as the rule's author listed them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operation {
    pub service_type: String,
    pub resource_type: String,
    pub trace_names: Vec<String>,
}

/// Users of one IAM group whose operations the rule reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserGroup {
    pub user_group: String,
    pub user_list: Vec<String>,
}

/// A stored key event notification rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub notification_id: String,
    pub notification_name: String,
    pub operation_type: OperationType,
    /// Empty for `complete` rules.
    pub operations: Vec<Operation>,
    pub notify_user_list: Vec<UserGroup>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<TopicId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency_name: Option<String>,
    /// At most so many messages a window, the rest in one digest (an extension of CTS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    pub notification_type: NotificationType,
    pub project_id: String,
    /// Epoch milliseconds.
    pub create_time: i64,
}

impl Notification {
    /// True when the rule can fire: enabled and with somewhere to publish.
    pub fn is_active(&self) -> bool {
        self.status == Status::Enabled && self.topic_id.is_some()
    }
}
