//! Why a rule fires on a trace, or does not: each check the matcher makes, in its order, with
//! what it compared. The dry run shows this to rule authors; it answers as the compiled
//! matcher does (the tests hold both to the same traces), but rule by rule and in words.

use serde::Serialize;

use crate::filter::{Joiner, Op};
use crate::model::{Notification, OperationType, Status};
use crate::trace::TraceView;

/// The checks of one rule on one trace.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Explanation {
    pub fires: bool,
    /// The first check that failed (`status`, `topic`, `project`, `operation`, `user` or
    /// `filter`); absent when the rule fires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<&'static str>,
    pub checks: Vec<Check>,
}

/// One check: what it is, whether it holds, and what it compared.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    pub check: &'static str,
    pub holds: bool,
    pub detail: String,
    /// For the filter: each condition with the trace's value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ConditionCheck>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConditionCheck {
    /// The condition as the rule writes it.
    pub rule: String,
    /// The trace's value of the field; absent when the trace lacks it (unequal to every value).
    pub value: Option<String>,
    pub holds: bool,
}

/// Explains `rule` on a trace of `trace_project` (the project the handler reads it for).
pub fn explain(rule: &Notification, view: &TraceView<'_>, trace_project: &str) -> Explanation {
    let checks = vec![
        check(
            "status",
            rule.status == Status::Enabled,
            match rule.status {
                Status::Enabled => "the rule is enabled".into(),
                Status::Disabled => "the rule is disabled".into(),
            },
        ),
        check(
            "topic",
            rule.topic_id.is_some(),
            match &rule.topic_id {
                Some(t) => format!("publishes to {}", t.as_str()),
                None => "the rule has no topic".into(),
            },
        ),
        check(
            "project",
            rule.project_id == trace_project,
            format!(
                "the trace is of project {trace_project:?}, the rule of {:?}",
                rule.project_id
            ),
        ),
        operation(rule, view),
        user(rule, view),
        filter(rule, view),
    ];
    let decided_by = checks.iter().find(|c| !c.holds).map(|c| c.check);
    Explanation {
        fires: decided_by.is_none(),
        decided_by,
        checks,
    }
}

fn check(name: &'static str, holds: bool, detail: String) -> Check {
    Check {
        check: name,
        holds,
        detail,
        conditions: Vec::new(),
    }
}

fn shown(v: &Option<std::borrow::Cow<'_, str>>) -> String {
    v.as_deref()
        .map_or_else(|| "(none)".to_owned(), |s| format!("{s:?}"))
}

fn operation(rule: &Notification, view: &TraceView<'_>) -> Check {
    let what = format!(
        "service {}, resource type {}, trace name {}",
        shown(&view.service_type),
        shown(&view.resource_type),
        shown(&view.trace_name)
    );
    if rule.operation_type == OperationType::Complete {
        return check(
            "operation",
            true,
            format!("the rule covers every operation ({what})"),
        );
    }
    let listed = rule.operations.iter().any(|op| {
        view.service_type.as_deref() == Some(op.service_type.as_str())
            && view.resource_type.as_deref() == Some(op.resource_type.as_str())
            && view
                .trace_name
                .as_deref()
                .is_some_and(|n| op.trace_names.iter().any(|t| t == n))
    });
    let verdict = if listed { "listed" } else { "not listed" };
    check(
        "operation",
        listed,
        format!("{what}: {verdict} in the rule's operations"),
    )
}

fn user(rule: &Notification, view: &TraceView<'_>) -> Check {
    if rule.notify_user_list.is_empty() {
        return check("user", true, "the rule covers every user".into());
    }
    let group = view.user_name.as_deref().and_then(|u| {
        rule.notify_user_list
            .iter()
            .find(|g| g.user_list.iter().any(|x| x == u))
    });
    let detail = match group {
        Some(g) => format!(
            "user {}: listed in group {:?}",
            shown(&view.user_name),
            g.user_group
        ),
        None => format!(
            "user {}: in none of the rule's groups",
            shown(&view.user_name)
        ),
    };
    check("user", group.is_some(), detail)
}

fn filter(rule: &Notification, view: &TraceView<'_>) -> Check {
    let Some((joiner, conditions)) = rule.filter.as_ref().and_then(|f| f.active()) else {
        return check("filter", true, "no filter applies".into());
    };
    let conditions: Vec<ConditionCheck> = conditions
        .iter()
        .map(|c| {
            let value = view.field(c.field).map(str::to_owned);
            let equal = value.as_deref() == Some(c.value.as_str());
            ConditionCheck {
                rule: c.text.clone(),
                value,
                holds: (c.op == Op::Eq) == equal,
            }
        })
        .collect();
    let (holds, detail) = match joiner {
        Joiner::And => (
            conditions.iter().all(|c| c.holds),
            "AND: every condition must hold",
        ),
        Joiner::Or => (
            conditions.iter().any(|c| c.holds),
            "OR: one condition must hold",
        ),
    };
    Check {
        conditions,
        ..check("filter", holds, detail.into())
    }
}
