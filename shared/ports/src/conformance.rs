//! The invariants every [`NotificationStore`] keeps, as async checks that each implementation's
//! tests run against a real instance (the embedded file, DynamoDB on moto). Each check uses
//! its own project, so they may share one store.

use std::sync::Arc;

use rules::{CreateBody, Notification, UpdateBody};
use serde_json::json;

use crate::{NotificationStore, StoreError};

/// A valid enabled rule of `project` named `name`.
pub fn rule(project: &str, id: &str, name: &str, create_time: i64) -> Notification {
    let body = json!({
        "notification_name": name,
        "operation_type": "customized",
        "operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]}],
        "topic_id": "urn:smn:eu-west-1:p:key_events",
    });
    CreateBody::from_value(&body)
        .expect("valid body")
        .into_notification(id.into(), project.into(), create_time)
}

fn renamed(n: &Notification, name: &str) -> Notification {
    let mut body = serde_json::to_value(n).expect("serializable");
    body["notification_name"] = json!(name);
    UpdateBody::from_value(&body)
        .expect("valid update")
        .apply_to(n)
}

/// Runs every check against `store`, with projects prefixed by `tag`.
pub async fn check_all(store: Arc<dyn NotificationStore>, tag: &str) {
    create_get_list_update_delete(&*store, &format!("{tag}-crud")).await;
    names_are_unique_renames_included(&*store, &format!("{tag}-names")).await;
    batch_deletes_are_all_or_nothing(&*store, &format!("{tag}-batch")).await;
    updates_never_resurrect(&*store, &format!("{tag}-resurrect")).await;
    projects_are_isolated(&*store, &format!("{tag}-iso")).await;
    concurrent_creates_stop_at_the_quota(store.clone(), &format!("{tag}-quota")).await;
    concurrent_renames_onto_one_name_succeed_once(store.clone(), &format!("{tag}-race")).await;
    let calls = mixed_clients_keep_every_invariant(store, &format!("{tag}-mixed"), 8, 40).await;
    println!("{tag}: {calls} concurrent create/rename/delete calls, every invariant held");
}

pub async fn create_get_list_update_delete(store: &dyn NotificationStore, p: &str) {
    let a = rule(p, "id-a", "alpha", 1);
    let b = rule(p, "id-b", "beta", 2);
    store.create(&a).await.unwrap();
    store.create(&b).await.unwrap();
    assert_eq!(store.get(p, "id-a").await.unwrap(), Some(a.clone()));
    assert_eq!(store.get(p, "id-zzz").await.unwrap(), None);
    assert_eq!(store.list(p).await.unwrap(), vec![a.clone(), b.clone()]);
    let a2 = renamed(&a, "alpha2");
    store.update(&a2).await.unwrap();
    assert_eq!(store.get(p, "id-a").await.unwrap(), Some(a2));
    store.delete(p, &["id-a".into()]).await.unwrap();
    assert_eq!(store.list(p).await.unwrap(), vec![b]);
    store
        .create(&rule(p, "id-c", "alpha", 3))
        .await
        .expect("a deleted rule's name is free again");
}

pub async fn names_are_unique_renames_included(store: &dyn NotificationStore, p: &str) {
    store.create(&rule(p, "id-1", "one", 1)).await.unwrap();
    let two = rule(p, "id-2", "two", 2);
    store.create(&two).await.unwrap();
    assert_eq!(
        store.create(&rule(p, "id-3", "one", 3)).await,
        Err(StoreError::NameTaken("one".into()))
    );
    assert_eq!(
        store.update(&renamed(&two, "one")).await,
        Err(StoreError::NameTaken("one".into()))
    );
    assert_eq!(
        store.get(p, "id-2").await.unwrap(),
        Some(two.clone()),
        "a refused rename changes nothing"
    );
    store.update(&renamed(&two, "three")).await.unwrap();
    store
        .create(&rule(p, "id-4", "two", 4))
        .await
        .expect("the old name was released");
    store
        .update(&renamed(&renamed(&two, "three"), "three"))
        .await
        .expect("keeping one's own name is no clash");
}

pub async fn batch_deletes_are_all_or_nothing(store: &dyn NotificationStore, p: &str) {
    for i in 0..3 {
        store
            .create(&rule(p, &format!("id-{i}"), &format!("n{i}"), i))
            .await
            .unwrap();
    }
    let err = store
        .delete(p, &["id-0".into(), "missing".into(), "id-2".into()])
        .await;
    assert_eq!(err, Err(StoreError::NotFound("missing".into())));
    assert_eq!(store.list(p).await.unwrap().len(), 3, "nothing was deleted");
    store
        .delete(p, &["id-0".into(), "id-2".into()])
        .await
        .unwrap();
    let left: Vec<String> = store
        .list(p)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.notification_id)
        .collect();
    assert_eq!(left, ["id-1"]);
}

pub async fn updates_never_resurrect(store: &dyn NotificationStore, p: &str) {
    let n = rule(p, "id-x", "ghost", 1);
    store.create(&n).await.unwrap();
    store.delete(p, &["id-x".into()]).await.unwrap();
    assert_eq!(
        store.update(&n).await,
        Err(StoreError::NotFound("id-x".into()))
    );
    assert_eq!(store.get(p, "id-x").await.unwrap(), None);
}

pub async fn projects_are_isolated(store: &dyn NotificationStore, p: &str) {
    let (a, b) = (format!("{p}-a"), format!("{p}-b"));
    store.create(&rule(&a, "id-1", "same", 1)).await.unwrap();
    store
        .create(&rule(&b, "id-1", "same", 1))
        .await
        .expect("names and ids are per project");
    assert_eq!(store.get(&b, "id-1").await.unwrap().unwrap().project_id, b);
    assert_eq!(
        store.delete(&b, &["id-2".into()]).await,
        Err(StoreError::NotFound("id-2".into()))
    );
    store.delete(&a, &["id-1".into()]).await.unwrap();
    assert_eq!(store.list(&b).await.unwrap().len(), 1);
}

/// 30 parallel creates when 90 exist: exactly 10 succeed, the rest hit the quota.
pub async fn concurrent_creates_stop_at_the_quota(store: Arc<dyn NotificationStore>, p: &str) {
    for i in 0..90 {
        store
            .create(&rule(p, &format!("id-{i}"), &format!("n{i}"), i))
            .await
            .unwrap();
    }
    let tasks: Vec<_> = (90..120)
        .map(|i| {
            let (store, p) = (store.clone(), p.to_owned());
            tokio::spawn(async move {
                store
                    .create(&rule(&p, &format!("id-{i}"), &format!("n{i}"), i))
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::QuotaExceeded(100)) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(ok, 10);
    assert_eq!(store.list(p).await.unwrap().len(), 100);
}

/// 10 parallel renames of different rules onto one name: exactly one succeeds.
pub async fn concurrent_renames_onto_one_name_succeed_once(
    store: Arc<dyn NotificationStore>,
    p: &str,
) {
    let rules: Vec<Notification> = (0..10)
        .map(|i| rule(p, &format!("id-{i}"), &format!("n{i}"), i))
        .collect();
    for r in &rules {
        store.create(r).await.unwrap();
    }
    let tasks: Vec<_> = rules
        .iter()
        .map(|r| {
            let (store, r) = (store.clone(), renamed(r, "winner"));
            tokio::spawn(async move { store.update(&r).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::NameTaken(_)) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(ok, 1);
    let names: Vec<String> = store
        .list(p)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.notification_name)
        .collect();
    assert_eq!(names.iter().filter(|n| *n == "winner").count(), 1);
    assert_eq!(names.len(), 10);
}

/// A tiny deterministic generator, so that a failing interleaving names its seed.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// What one client saw happen.
#[derive(Default)]
struct Log {
    created: Vec<String>,
    deleted: Vec<String>,
    failed_batches: Vec<Vec<String>>,
    calls: usize,
}

/// `clients` parallel clients create, rename and batch-delete rules of one project at random
/// (names from a small pool, so that they collide). Afterwards: at most 100 rules, names
/// unique, nothing deleted is back, a refused batch deleted nothing, and no name claim leaked
/// (every name not in use can be created). Returns the number of calls made.
pub async fn mixed_clients_keep_every_invariant(
    store: Arc<dyn NotificationStore>,
    p: &str,
    clients: usize,
    calls_each: usize,
) -> usize {
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (store, p) = (store.clone(), p.to_owned());
            tokio::spawn(async move {
                let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ (c as u64 + 1));
                let mut log = Log::default();
                let mut mine: Vec<Notification> = Vec::new();
                for i in 0..calls_each {
                    log.calls += 1;
                    let name = format!("n{}", rng.below(40));
                    match rng.below(4) {
                        0 | 1 => {
                            let n = rule(&p, &format!("c{c}-{i}"), &name, i as i64);
                            if store.create(&n).await.is_ok() {
                                log.created.push(n.notification_id.clone());
                                mine.push(n);
                            }
                        }
                        2 if !mine.is_empty() => {
                            let k = rng.below(mine.len());
                            if let Ok(()) = store.update(&renamed(&mine[k], &name)).await {
                                mine[k] = renamed(&mine[k], &name);
                            }
                        }
                        _ => {
                            // Delete one of ours and, at times, one id of another client's.
                            let mut ids: Vec<String> = mine
                                .iter()
                                .take(2)
                                .map(|n| n.notification_id.clone())
                                .collect();
                            if rng.below(2) == 0 {
                                ids.push(format!(
                                    "c{}-{}",
                                    rng.below(clients),
                                    rng.below(calls_each)
                                ));
                            }
                            ids.dedup();
                            if ids.is_empty() {
                                continue;
                            }
                            match store.delete(&p, &ids).await {
                                Ok(()) => {
                                    mine.retain(|n| !ids.contains(&n.notification_id));
                                    log.deleted.extend(ids);
                                }
                                Err(StoreError::NotFound(_)) => log.failed_batches.push(ids),
                                Err(e) => panic!("unexpected {e}"),
                            }
                        }
                    }
                }
                log
            })
        })
        .collect();
    let mut logs = Vec::new();
    for t in tasks {
        logs.push(t.await.unwrap());
    }
    let left = store.list(p).await.unwrap();
    assert!(left.len() <= MAX, "{} rules", left.len());
    let mut names: Vec<&str> = left.iter().map(|n| n.notification_name.as_str()).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "two rules share a name");
    let ids: std::collections::HashSet<&str> =
        left.iter().map(|n| n.notification_id.as_str()).collect();
    let deleted: std::collections::HashSet<&str> = logs
        .iter()
        .flat_map(|l| &l.deleted)
        .map(String::as_str)
        .collect();
    assert!(ids.is_disjoint(&deleted), "a deleted rule is back");
    let created: std::collections::HashSet<&str> = logs
        .iter()
        .flat_map(|l| &l.created)
        .map(String::as_str)
        .collect();
    for id in created.difference(&deleted) {
        assert!(
            ids.contains(id),
            "rule {id} was created, never deleted, and is gone"
        );
    }
    for batch in logs.iter().flat_map(|l| &l.failed_batches) {
        for id in batch
            .iter()
            .filter(|id| created.contains(id.as_str()) && !deleted.contains(id.as_str()))
        {
            assert!(ids.contains(id.as_str()), "a refused batch deleted {id}");
        }
    }
    for i in 0..40 {
        let name = format!("n{i}");
        if !names.contains(&name.as_str()) && left.len() < MAX {
            store
                .create(&rule(p, &format!("probe-{i}"), &name, 0))
                .await
                .unwrap_or_else(|e| panic!("the free name {name} is still claimed: {e}"));
            store.delete(p, &[format!("probe-{i}")]).await.unwrap();
        }
    }
    logs.iter().map(|l| l.calls).sum()
}

const MAX: usize = rules::limits::MAX_NOTIFICATIONS_PER_PROJECT;

/// Runs every check of the claim protocol against `log`, with trace ids prefixed by `tag`.
pub async fn check_dedup(log: Arc<dyn crate::DedupLog>, tag: &str) {
    claims_publish_each_pair_once(&*log, &format!("{tag}-claims")).await;
    concurrent_claims_let_one_owner_win(log, &format!("{tag}-race")).await;
}

fn pair(trace: &str, notification: &str) -> crate::DedupKey {
    crate::DedupKey {
        trace_id: trace.into(),
        notification_id: notification.into(),
    }
}

pub async fn claims_publish_each_pair_once(log: &dyn crate::DedupLog, t: &str) {
    use crate::Claim::{Busy, Claimed, Published};
    let now = crate::now_ms();
    let (a, b) = (pair(&format!("{t}-1"), "n1"), pair(&format!("{t}-2"), "n1"));
    let both = [a.clone(), b.clone()];
    assert_eq!(
        log.claim(&both, "one", now, 60_000).await.unwrap(),
        [Claimed, Claimed]
    );
    assert_eq!(
        log.claim(&both, "two", now, 60_000).await.unwrap(),
        [Busy, Busy],
        "claimed by one"
    );
    log.release(std::slice::from_ref(&b), "two").await.unwrap();
    assert_eq!(
        log.claim(std::slice::from_ref(&b), "two", now, 60_000)
            .await
            .unwrap(),
        [Busy],
        "not two's to release"
    );
    log.mark_published(std::slice::from_ref(&a), now, 3600)
        .await
        .unwrap();
    log.release(std::slice::from_ref(&b), "one").await.unwrap();
    assert_eq!(
        log.claim(&both, "two", now, 60_000).await.unwrap(),
        [Published, Claimed]
    );
    assert_eq!(
        log.claim(std::slice::from_ref(&b), "three", now + 61_000, 60_000)
            .await
            .unwrap(),
        [Claimed],
        "an expired lease is claimed again (the claimant crashed)"
    );
    assert_eq!(
        log.claim(std::slice::from_ref(&a), "three", now + 3_601_000, 60_000)
            .await
            .unwrap(),
        [Claimed],
        "a pair published past the dedup time is new again"
    );
}

pub async fn concurrent_claims_let_one_owner_win(log: Arc<dyn crate::DedupLog>, t: &str) {
    let now = crate::now_ms();
    let keys: Vec<crate::DedupKey> = (0..5).map(|i| pair(&format!("{t}-{i}"), "n1")).collect();
    let mut tasks = Vec::new();
    for owner in 0..6 {
        let (log, keys) = (log.clone(), keys.clone());
        tasks.push(tokio::spawn(async move {
            log.claim(&keys, &format!("owner-{owner}"), now, 60_000)
                .await
                .unwrap()
        }));
    }
    let mut wins = vec![0; keys.len()];
    for task in tasks {
        for (i, c) in task.await.unwrap().into_iter().enumerate() {
            wins[i] += usize::from(c == crate::Claim::Claimed);
        }
    }
    assert_eq!(
        wins,
        vec![1; keys.len()],
        "each pair claimed by exactly one of six racing owners"
    );
}
