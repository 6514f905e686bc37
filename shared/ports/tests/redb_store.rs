//! The embedded store keeps every store invariant, under concurrency too.

use std::sync::Arc;

use ports::conformance::check_all;
use ports::{DedupKey, DedupLog, RedbStore};

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

#[tokio::test]
async fn the_dedup_log_remembers_published_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("d.redb")).unwrap();
    let key = |t: &str, n: &str| DedupKey {
        trace_id: t.into(),
        notification_id: n.into(),
    };
    assert_eq!(store.seen(&[key("t1", "n1")]).await.unwrap(), [false]);
    store.record(&[key("t0", "n1")], 0, 60).await.unwrap();
    assert_eq!(
        store.seen(&[key("t0", "n1")]).await.unwrap(),
        [false],
        "recorded in 1970, long expired"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    store.record(&[key("t1", "n1")], now, 60).await.unwrap();
    assert_eq!(
        store
            .seen(&[key("t1", "n1"), key("t1", "n2"), key("t2", "n1")])
            .await
            .unwrap(),
        [true, false, false]
    );
}
