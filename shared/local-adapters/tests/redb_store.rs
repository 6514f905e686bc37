//! The embedded store keeps every store invariant, under concurrency too.

use std::sync::Arc;

use local_adapters::RedbStore;
use ports::conformance::{check_all, check_dedup};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_embedded_store_keeps_every_invariant() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("rules.redb")).unwrap();
    check_all(Arc::new(store), "redb").await;
}

#[tokio::test]
async fn rules_persist_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.redb");
    let n = ports::conformance::rule("p", "id-1", "kept", 7);
    {
        let store = RedbStore::open(&path).unwrap();
        ports::NotificationStore::create(&store, &n).await.unwrap();
    }
    let store = RedbStore::open(&path).unwrap();
    assert_eq!(
        ports::NotificationStore::get(&store, "p", "id-1")
            .await
            .unwrap(),
        Some(n)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_embedded_dedup_log_publishes_each_pair_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("d.redb")).unwrap();
    check_dedup(Arc::new(store.clone()), "redb").await;
    let open = store.open_claims().unwrap();
    assert!(
        !open.is_empty(),
        "claims never marked or released stay open"
    );
    let sent: std::collections::HashSet<_> = open.iter().take(1).cloned().collect();
    store
        .settle_open_claims(&sent, ports::now_ms(), 60)
        .unwrap();
    assert!(
        store.open_claims().unwrap().is_empty(),
        "every open claim settled"
    );
    let claims = ports::DedupLog::claim(&store, &open, "after", ports::now_ms(), 1000)
        .await
        .unwrap();
    assert_eq!(
        claims[0],
        ports::Claim::Published,
        "the sent pair counts as published"
    );
    assert!(
        claims[1..].iter().all(|c| *c == ports::Claim::Claimed),
        "the others are free again"
    );
}

/// Published pairs are forgotten once expired, as later pairs are marked: the log does not
/// grow with everything ever published.
#[tokio::test]
async fn expired_pairs_are_forgotten() {
    use ports::{DedupKey, DedupLog};
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("rules.redb")).unwrap();
    let keys = |from: usize, to: usize| -> Vec<DedupKey> {
        (from..to)
            .map(|i| DedupKey {
                trace_id: format!("t{i}"),
                notification_id: "n".into(),
            })
            .collect()
    };
    store
        .mark_published(&keys(0, 500), 1_000, 60)
        .await
        .unwrap();
    // Still remembered within their time; one pair is marked again and lives longer.
    store.mark_published(&keys(0, 1), 30_000, 60).await.unwrap();
    store
        .mark_published(&keys(500, 600), 50_000, 60)
        .await
        .unwrap();
    assert_eq!(store.remembered().unwrap(), 600);
    // 61 s after the first marks: those 499 have expired and go; the one marked again stays.
    store
        .mark_published(&keys(600, 601), 62_000, 60)
        .await
        .unwrap();
    assert_eq!(store.remembered().unwrap(), 102);
    let claims = store.claim(&keys(0, 2), "o", 62_000, 1000).await.unwrap();
    assert_eq!(claims, [ports::Claim::Published, ports::Claim::Claimed]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_embedded_digest_log_counts_each_match_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("d.redb")).unwrap();
    ports::conformance::check_digests(Arc::new(store), "redb").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_embedded_activity_log_counts_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("d.redb")).unwrap();
    ports::conformance::check_activity(Arc::new(store), "redb").await;
}
