//! Rules in one DynamoDB table (`pk`, `sk` strings), invariants kept by conditional writes in
//! transactions:
//! - `P#<project>` / `META`: `rule_names`, a map name → id: the project's name claims, and by its
//!   size the quota;
//! - `P#<project>` / `N#<id>`: one rule (`body`: its JSON, `name`);
//! - `D#<trace id>` / `N#<notification id>`: a dedup record (`expires_at`, the TTL attribute).
//!
//! Every write of a rule goes in one transaction with the `META` update whose condition checks
//! the name claim and the quota, so concurrent callers cannot break either.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use ports::{NotificationStore, StoreError};
use rules::limits::MAX_NOTIFICATIONS_PER_PROJECT;
use rules::stored::parse_stored;
use rules::Notification;

/// Attempts for a transaction that lost a race (TransactionConflict) before giving up.
const ATTEMPTS: u32 = 8;

#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    pub(crate) client: Client,
    pub(crate) table: String,
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn project_pk(project_id: &str) -> AttributeValue {
    s(format!("P#{project_id}"))
}

fn rule_key(project_id: &str, id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".into(), project_pk(project_id)),
        ("sk".into(), s(format!("N#{id}"))),
    ])
}

fn meta_key(project_id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".into(), project_pk(project_id)),
        ("sk".into(), s("META")),
    ])
}

pub(crate) fn write_err(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Write(ports::Cause::new(e))
}

pub(crate) fn read_err(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Read(ports::Cause::new(e))
}

/// How a transaction ended, by which of its items' conditions failed.
pub(crate) enum Outcome {
    Committed,
    /// Some item's condition failed.
    ConditionsFailed,
    /// Lost a race with another transaction: try again.
    Conflict,
}

impl DynamoDbStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoDbStore {
            client,
            table: table.into(),
        }
    }

    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Outcome, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Outcome::Committed),
            Err(SdkError::ServiceError(e)) => match e.into_err() {
                TransactWriteItemsError::TransactionCanceledException(c) => {
                    let reasons = c.cancellation_reasons();
                    if reasons
                        .iter()
                        .any(|r| r.code() == Some("TransactionConflict"))
                    {
                        return Ok(Outcome::Conflict);
                    }
                    if !reasons
                        .iter()
                        .any(|r| r.code() == Some("ConditionalCheckFailed"))
                    {
                        return Err(write_err(c));
                    }
                    Ok(Outcome::ConditionsFailed)
                }
                other => Err(write_err(other)),
            },
            Err(e) => Err(write_err(e)),
        }
    }

    /// The project's name claims (strongly consistent).
    async fn names(&self, project_id: &str) -> Result<HashMap<String, String>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(meta_key(project_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(read_err)?;
        let names = out
            .item()
            .and_then(|i| i.get("rule_names"))
            .and_then(|n| n.as_m().ok())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(names)
    }

    /// Creates the project's `META` item if it does not exist yet.
    async fn ensure_meta(&self, project_id: &str) -> Result<(), StoreError> {
        let mut item = meta_key(project_id);
        item.insert("rule_names".into(), AttributeValue::M(HashMap::new()));
        self.put_if_absent(item).await
    }

    /// Writes `item` unless an item with its key exists.
    pub(crate) async fn put_if_absent(
        &self,
        item: HashMap<String, AttributeValue>,
    ) -> Result<(), StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(())
            }
            Err(e) => Err(write_err(e)),
        }
    }

    fn put_rule(&self, n: &Notification, condition: &str) -> Result<TransactWriteItem, StoreError> {
        let mut item = rule_key(&n.project_id, &n.notification_id);
        item.insert("name".into(), s(&n.notification_name));
        item.insert(
            "body".into(),
            s(serde_json::to_string(n).map_err(write_err)?),
        );
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition);
        if condition.contains(":old") {
            put = put.expression_attribute_names("#name", "name");
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(write_err)?)
            .build())
    }

    async fn rule(&self, project_id: &str, id: &str) -> Result<Option<Notification>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(rule_key(project_id, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(read_err)?;
        out.item().map(parse_item).transpose()
    }
}

fn parse_item(item: &HashMap<String, AttributeValue>) -> Result<Notification, StoreError> {
    let body = item
        .get("body")
        .and_then(|b| b.as_s().ok())
        .ok_or_else(|| StoreError::Read("a rule item has no body".into()))?;
    let v: serde_json::Value = serde_json::from_str(body).map_err(read_err)?;
    parse_stored(&v).map_err(read_err)
}

pub(crate) async fn backoff(attempt: u32) {
    tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await;
}

#[async_trait]
impl NotificationStore for DynamoDbStore {
    async fn create(&self, n: &Notification) -> Result<(), StoreError> {
        self.ensure_meta(&n.project_id).await?;
        for attempt in 0..ATTEMPTS {
            let claim = Update::builder()
                .table_name(&self.table)
                .set_key(Some(meta_key(&n.project_id)))
                .update_expression("SET rule_names.#n = :id")
                .condition_expression("attribute_exists(rule_names) AND attribute_not_exists(rule_names.#n) AND size(rule_names) < :max")
                .expression_attribute_names("#n", &n.notification_name)
                .expression_attribute_values(":id", s(&n.notification_id))
                .expression_attribute_values(":max", AttributeValue::N(MAX_NOTIFICATIONS_PER_PROJECT.to_string()))
                .build()
                .map_err(write_err)?;
            let items = vec![
                TransactWriteItem::builder().update(claim).build(),
                self.put_rule(n, "attribute_not_exists(pk)")?,
            ];
            match self.transact(items).await? {
                Outcome::Committed => return Ok(()),
                Outcome::Conflict => backoff(attempt).await,
                Outcome::ConditionsFailed => {
                    let names = self.names(&n.project_id).await?;
                    if names.contains_key(&n.notification_name) {
                        return Err(StoreError::NameTaken(n.notification_name.clone()));
                    }
                    if names.len() >= MAX_NOTIFICATIONS_PER_PROJECT {
                        return Err(StoreError::QuotaExceeded(MAX_NOTIFICATIONS_PER_PROJECT));
                    }
                    // The claim changed between the attempt and the check: try again.
                }
            }
        }
        Err(StoreError::Write(
            "too many concurrent changes; retry".into(),
        ))
    }

    async fn update(&self, n: &Notification) -> Result<(), StoreError> {
        for attempt in 0..ATTEMPTS {
            let old = self
                .rule(&n.project_id, &n.notification_id)
                .await?
                .ok_or_else(|| StoreError::NotFound(n.notification_id.clone()))?;
            let mut items = Vec::new();
            if old.notification_name != n.notification_name {
                let rename = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(meta_key(&n.project_id)))
                    .update_expression("SET rule_names.#new = :id REMOVE rule_names.#old")
                    .condition_expression(
                        "rule_names.#old = :id AND attribute_not_exists(rule_names.#new)",
                    )
                    .expression_attribute_names("#new", &n.notification_name)
                    .expression_attribute_names("#old", &old.notification_name)
                    .expression_attribute_values(":id", s(&n.notification_id))
                    .build()
                    .map_err(write_err)?;
                items.push(TransactWriteItem::builder().update(rename).build());
            }
            let mut put = self.put_rule(n, "attribute_exists(pk) AND #name = :old")?;
            if let Some(p) = put.put.as_mut() {
                p.expression_attribute_values =
                    Some(HashMap::from([(":old".into(), s(&old.notification_name))]));
            }
            items.push(put);
            match self.transact(items).await? {
                Outcome::Committed => return Ok(()),
                Outcome::Conflict => backoff(attempt).await,
                Outcome::ConditionsFailed => {
                    if self
                        .names(&n.project_id)
                        .await?
                        .get(&n.notification_name)
                        .is_some_and(|id| *id != n.notification_id)
                    {
                        return Err(StoreError::NameTaken(n.notification_name.clone()));
                    }
                    // Deleted or renamed meanwhile: the next attempt's read tells which.
                }
            }
        }
        Err(StoreError::Write(
            "too many concurrent changes; retry".into(),
        ))
    }

    async fn delete(&self, project_id: &str, ids: &[String]) -> Result<(), StoreError> {
        for attempt in 0..ATTEMPTS {
            let mut names = Vec::with_capacity(ids.len());
            for id in ids {
                let rule = self
                    .rule(project_id, id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(id.clone()))?;
                names.push(rule.notification_name);
            }
            let mut release = Update::builder()
                .table_name(&self.table)
                .set_key(Some(meta_key(project_id)));
            let mut removes = Vec::new();
            let mut conditions = Vec::new();
            for (i, (id, name)) in ids.iter().zip(&names).enumerate() {
                removes.push(format!("rule_names.#n{i}"));
                conditions.push(format!("rule_names.#n{i} = :i{i}"));
                release = release
                    .expression_attribute_names(format!("#n{i}"), name)
                    .expression_attribute_values(format!(":i{i}"), s(id));
            }
            let release = release
                .update_expression(format!("REMOVE {}", removes.join(", ")))
                .condition_expression(conditions.join(" AND "))
                .build()
                .map_err(write_err)?;
            let mut items = vec![TransactWriteItem::builder().update(release).build()];
            for id in ids {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(rule_key(project_id, id)))
                    .condition_expression("attribute_exists(pk)")
                    .build()
                    .map_err(write_err)?;
                items.push(TransactWriteItem::builder().delete(delete).build());
            }
            match self.transact(items).await? {
                Outcome::Committed => return Ok(()),
                // Changed meanwhile: the next attempt's reads tell what is left.
                Outcome::Conflict | Outcome::ConditionsFailed => backoff(attempt).await,
            }
        }
        Err(StoreError::Write(
            "too many concurrent changes; retry".into(),
        ))
    }

    async fn get(&self, project_id: &str, id: &str) -> Result<Option<Notification>, StoreError> {
        self.rule(project_id, id).await
    }

    async fn list(&self, project_id: &str) -> Result<Vec<Notification>, StoreError> {
        let pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", project_pk(project_id))
            .expression_attribute_values(":prefix", s("N#"))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        let mut out = Vec::new();
        for item in pages {
            out.push(parse_item(&item.map_err(read_err)?)?);
        }
        out.sort_by(|a, b| {
            (a.create_time, &a.notification_id).cmp(&(b.create_time, &b.notification_id))
        });
        Ok(out)
    }
}
