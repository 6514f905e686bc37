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

/// The digest log's promises, on a store that is also the dedup log.
pub async fn check_digests<S>(store: Arc<S>, tag: &str)
where
    S: crate::DedupLog + crate::DigestLog + 'static,
{
    a_flood_publishes_max_messages_and_digests_the_rest(&*store, &format!("{tag}-flood")).await;
    concurrent_floods_count_each_match_once(store.clone(), &format!("{tag}-race")).await;
    closed_windows_count_nothing_more(&*store, &format!("{tag}-closed")).await;
}

/// How one handler got through a flood: traces published alone, matches digested.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Flooded {
    pub alone: usize,
    pub digested: usize,
}

/// A match of the tests' [`window`], of the rule `notification`.
fn window_match(t: &str, i: usize, notification: &str, max: u32) -> crate::WindowMatch {
    use rules::digest::DigestEntry;
    crate::WindowMatch {
        key: pair(&format!("{t}-{i}"), notification),
        project_id: "p1".into(),
        window: window(),
        max_messages: max,
        entry: DigestEntry {
            trace_id: format!("{t}-{i}"),
            trace_name: ["deleteServer", "stopServer"][i % 2].into(),
            user: Some("alice".into()),
            resource_type: "ecs".into(),
            trace_rating: None,
        },
    }
}

/// The window the tests' matches fall in: an hour from when the tests started, so that the
/// real clock (claims, dedup records) stays in it. Matches are handled at the real time and
/// the window closed, by the caller's clock, at [`after`] it.
fn window() -> rules::digest::Window {
    static START: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let start_ms = *START.get_or_init(crate::now_ms) - 1000;
    rules::digest::Window {
        start_ms,
        end_ms: start_ms + 3_600_000,
    }
}

fn after() -> i64 {
    window().end_ms + crate::CLOSE_AFTER_MS
}

/// Handles `matches` as the trace handler does, ten at a time: claim, admit, "publish" the
/// alone (mark them published), and try again later what was busy, until nothing is left.
pub async fn flood<S>(store: &S, owner: &str, matches: &[crate::WindowMatch]) -> Flooded
where
    S: crate::DedupLog + crate::DigestLog + ?Sized,
{
    use crate::{Admission, Claim};
    let mut done = Flooded::default();
    let mut left: Vec<crate::WindowMatch> = matches.to_vec();
    for _ in 0..200 {
        let mut retry = Vec::new();
        for chunk in left.chunks(10) {
            let keys: Vec<_> = chunk.iter().map(|m| m.key.clone()).collect();
            let now = crate::now_ms();
            let claims = store.claim(&keys, owner, now, 60_000).await.unwrap();
            let claimed: Vec<_> = chunk
                .iter()
                .zip(&claims)
                .filter(|(_, c)| **c == Claim::Claimed)
                .map(|(m, _)| m.clone())
                .collect();
            retry.extend(
                chunk
                    .iter()
                    .zip(&claims)
                    .filter(|(_, c)| **c == Claim::Busy)
                    .map(|(m, _)| m.clone()),
            );
            let admitted = store.admit(&claimed, owner, now, 3600).await.unwrap();
            let mut alone = Vec::new();
            for (m, a) in claimed.iter().zip(admitted) {
                match a {
                    Admission::Alone => alone.push(m.key.clone()),
                    Admission::Digested => done.digested += 1,
                    Admission::Retry => retry.push(m.clone()),
                }
            }
            done.alone += alone.len();
            store.mark_published(&alone, now, 3600).await.unwrap();
        }
        if retry.is_empty() {
            return done;
        }
        left = retry;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("{owner}: pairs still busy after 200 rounds");
}

pub async fn a_flood_publishes_max_messages_and_digests_the_rest<S>(store: &S, t: &str)
where
    S: crate::DedupLog + crate::DigestLog + ?Sized,
{
    let matches: Vec<_> = (0..1000)
        .map(|i| window_match(t, i, "n-flood", 3))
        .collect();
    assert_eq!(
        flood(store, "one", &matches).await,
        Flooded {
            alone: 3,
            digested: 997
        }
    );
    assert_eq!(
        flood(store, "again", &matches).await,
        Flooded::default(),
        "a resent flood finds every pair done"
    );
    let closed = store.close_windows(after()).await.unwrap();
    let mine: Vec<_> = closed
        .iter()
        .filter(|w| w.notification_id == "n-flood")
        .collect();
    assert_eq!(mine.len(), 1, "{closed:?}");
    let counts = &mine[0].counts;
    assert_eq!(counts.matches, 997);
    assert_eq!(
        counts.by_trace_name["deleteServer"] + counts.by_trace_name["stopServer"],
        997
    );
    assert_eq!(counts.trace_ids.len(), 997);
    store.forget_window(mine[0]).await.unwrap();
}

pub async fn concurrent_floods_count_each_match_once<S>(store: Arc<S>, t: &str)
where
    S: crate::DedupLog + crate::DigestLog + 'static,
{
    let matches: Arc<Vec<_>> =
        Arc::new((0..400).map(|i| window_match(t, i, "n-race", 3)).collect());
    let runs: Vec<_> = (0..2)
        .map(|h| {
            let (store, matches) = (store.clone(), matches.clone());
            tokio::spawn(async move { flood(&*store, &format!("handler-{h}"), &matches).await })
        })
        .collect();
    let mut total = Flooded::default();
    for run in runs {
        let f = run.await.unwrap();
        total.alone += f.alone;
        total.digested += f.digested;
    }
    assert_eq!(
        total,
        Flooded {
            alone: 3,
            digested: 397
        }
    );
    let closed = store.close_windows(after()).await.unwrap();
    let mine = closed
        .iter()
        .find(|w| w.notification_id == "n-race")
        .unwrap();
    assert_eq!(mine.counts.matches, 397);
    store.forget_window(mine).await.unwrap();
}

pub async fn closed_windows_count_nothing_more<S>(store: &S, t: &str)
where
    S: crate::DedupLog + crate::DigestLog + ?Sized,
{
    use crate::Admission;
    let first: Vec<_> = (0..5).map(|i| window_match(t, i, "n-closed", 1)).collect();
    assert_eq!(
        flood(store, "one", &first).await,
        Flooded {
            alone: 1,
            digested: 4
        }
    );
    let quiet: Vec<_> = (0..1).map(|i| window_match(t, i, "n-quiet", 5)).collect();
    assert_eq!(
        flood(store, "one", &quiet).await,
        Flooded {
            alone: 1,
            digested: 0
        }
    );
    let closed = store.close_windows(after()).await.unwrap();
    assert!(
        !closed.iter().any(|w| w.notification_id == "n-quiet"),
        "a window without overflow has no digest"
    );
    let mine = closed
        .iter()
        .find(|w| w.notification_id == "n-closed")
        .unwrap()
        .clone();
    assert_eq!(mine.counts.matches, 4);

    let late = window_match(t, 5, "n-closed", 1);
    let now = crate::now_ms();
    store
        .claim(std::slice::from_ref(&late.key), "late", now, 60_000)
        .await
        .unwrap();
    assert_eq!(
        store
            .admit(std::slice::from_ref(&late), "late", after(), 3600)
            .await
            .unwrap(),
        [Admission::Retry],
        "a past window counts nothing more"
    );
    let again = store.close_windows(after()).await.unwrap();
    let still = again
        .iter()
        .find(|w| w.notification_id == "n-closed")
        .unwrap();
    assert_eq!(still.counts.matches, 4, "closed until forgotten, unchanged");
    store.forget_window(still).await.unwrap();
    let after = store.close_windows(after()).await.unwrap();
    assert!(!after.iter().any(|w| w.notification_id == "n-closed"));
}

/// The activity log's promises: exact counts under concurrent recording, per rule and hour.
pub async fn check_activity(log: Arc<dyn crate::ActivityLog>, tag: &str) {
    use crate::{hour_of, ActivityDelta, HourCounts, HOUR_MS};
    let project = format!("{tag}-p");
    let now = crate::now_ms();
    let (this_hour, last_hour) = (hour_of(now), hour_of(now) - HOUR_MS);
    let delta = |rule: &str, hour: i64, matched_at: Option<i64>| ActivityDelta {
        project_id: project.clone(),
        notification_id: rule.into(),
        hour_ms: hour,
        counts: HourCounts {
            matches: 3,
            published: 2,
            digested: 1,
            failures: 0,
        },
        matched_at_ms: matched_at,
    };
    log.record(&[delta("r1", last_hour, Some(last_hour + 5))])
        .await
        .unwrap();
    let runs: Vec<_> = (0..4)
        .map(|h| {
            let (log, batch) = (
                log.clone(),
                (0..25)
                    .map(|i| delta("r1", this_hour, Some(this_hour + h * 100 + i)))
                    .chain([delta("r2", this_hour, None)])
                    .collect::<Vec<_>>(),
            );
            tokio::spawn(async move {
                for d in batch {
                    log.record(std::slice::from_ref(&d)).await.unwrap();
                }
            })
        })
        .collect();
    for r in runs {
        r.await.unwrap();
    }
    let a = log.activity(&project, "r1", last_hour).await.unwrap();
    assert_eq!(a.hours.len(), 2, "{a:?}");
    assert_eq!(a.hours[0].hour, last_hour);
    assert_eq!(a.hours[0].counts.matches, 3);
    assert_eq!(a.hours[1].hour, this_hour);
    assert_eq!(
        a.hours[1].counts,
        HourCounts {
            matches: 300,
            published: 200,
            digested: 100,
            failures: 0
        },
        "every record counted once"
    );
    assert!(a.last_match.is_some_and(|t| t >= this_hour), "{a:?}");
    let recent = log.activity(&project, "r1", this_hour).await.unwrap();
    assert_eq!(recent.hours.len(), 1, "hours before `since` left out");
    let other = log.activity(&project, "r2", last_hour).await.unwrap();
    assert_eq!(other.hours.len(), 1);
    assert_eq!(other.hours[0].counts.matches, 12);
    assert_eq!(other.last_match, None, "r2 never matched");
    let none = log.activity(&project, "r3", last_hour).await.unwrap();
    assert_eq!(none, crate::Activity::default());
}
