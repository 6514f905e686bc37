//! Each rule's activity in the rules table: `A#<project>#<rule>` / `<hour ms, 20 digits>` items
//! with the hour's counts (`m` matches, `p` published, `d` digested, `f` failures, added with
//! `ADD`, so concurrent handlers count exactly) and `last` (the latest match recorded), expiring
//! when the activity is no longer kept.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use ports::{Activity, ActivityDelta, ActivityLog, Hour, HourCounts, StoreError, HOUR_MS};

use crate::dedup::n;
use crate::dynamodb_store::{read_err, s, write_err};
use crate::DynamoDbStore;

fn pk(project_id: &str, notification_id: &str) -> AttributeValue {
    s(format!("A#{project_id}#{notification_id}"))
}

fn hour_sk(hour_ms: i64) -> AttributeValue {
    s(format!("{:020}", hour_ms.max(0)))
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

#[async_trait]
impl ActivityLog for DynamoDbStore {
    async fn record(&self, deltas: &[ActivityDelta]) -> Result<(), StoreError> {
        for d in deltas {
            let keep_until = (d.hour_ms + ports::ACTIVITY_DAYS * 24 * HOUR_MS + HOUR_MS) / 1000;
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", pk(&d.project_id, &d.notification_id))
                .key("sk", hour_sk(d.hour_ms))
                .expression_attribute_values(":m", n(d.counts.matches as i64))
                .expression_attribute_values(":p", n(d.counts.published as i64))
                .expression_attribute_values(":d", n(d.counts.digested as i64))
                .expression_attribute_values(":f", n(d.counts.failures as i64))
                .expression_attribute_values(":exp", n(keep_until));
            update = match d.matched_at_ms {
                Some(at) => update
                    .update_expression(
                        "ADD m :m, p :p, d :d, f :f SET expires_at = :exp, #last = :at",
                    )
                    .expression_attribute_names("#last", "last")
                    .expression_attribute_values(":at", n(at)),
                None => {
                    update.update_expression("ADD m :m, p :p, d :d, f :f SET expires_at = :exp")
                }
            };
            update.send().await.map_err(write_err)?;
        }
        Ok(())
    }

    async fn activity(
        &self,
        project_id: &str,
        notification_id: &str,
        since_ms: i64,
    ) -> Result<Activity, StoreError> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk >= :since")
            .expression_attribute_values(":pk", pk(project_id, notification_id))
            .expression_attribute_values(":since", hour_sk(since_ms))
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        let mut activity = Activity::default();
        for item in items {
            let item = item.map_err(read_err)?;
            let Some(hour) = item
                .get("sk")
                .and_then(|v| v.as_s().ok())
                .and_then(|sk| sk.parse().ok())
            else {
                continue;
            };
            let count = |name| number(&item, name).unwrap_or(0).max(0) as u64;
            activity.last_match = activity.last_match.max(number(&item, "last"));
            activity.hours.push(Hour {
                hour,
                counts: HourCounts {
                    matches: count("m"),
                    published: count("p"),
                    digested: count("d"),
                    failures: count("f"),
                },
            });
        }
        Ok(activity)
    }
}
