//! The rule cache: bounded whatever projects the traces name, one read per project at a time
//! without holding others up, and invalidated by writes in the same process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use local_adapters::RedbStore;
use ports::{NotificationStore, StoreError};
use rules::{CreateBody, Notification};
use tokio::sync::Notify;
use trace_handler::{InvalidatingStore, RuleCache};

/// A store that counts list calls, and holds those of `slow_project` until released.
struct Watched {
    inner: RedbStore,
    lists: AtomicUsize,
    slow_project: &'static str,
    release: Notify,
}

#[async_trait]
impl NotificationStore for Watched {
    async fn create(&self, n: &Notification) -> Result<(), StoreError> {
        self.inner.create(n).await
    }
    async fn update(&self, n: &Notification) -> Result<(), StoreError> {
        self.inner.update(n).await
    }
    async fn delete(&self, p: &str, ids: &[String]) -> Result<(), StoreError> {
        self.inner.delete(p, ids).await
    }
    async fn get(&self, p: &str, id: &str) -> Result<Option<Notification>, StoreError> {
        self.inner.get(p, id).await
    }
    async fn list(&self, p: &str) -> Result<Vec<Notification>, StoreError> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        if p == self.slow_project {
            self.release.notified().await;
        }
        self.inner.list(p).await
    }
}

fn watched(dir: &tempfile::TempDir) -> Arc<Watched> {
    Arc::new(Watched {
        inner: RedbStore::open(dir.path().join("rules.redb")).unwrap(),
        lists: AtomicUsize::new(0),
        slow_project: "slow",
        release: Notify::new(),
    })
}

fn rule(project: &str, name: &str) -> Notification {
    let body = serde_json::json!({"notification_name": name, "operation_type": "complete",
        "topic_id": format!("urn:smn:r:{project}:t")});
    CreateBody::from_value(&body).unwrap().into_notification(
        format!("id-{name}"),
        project.into(),
        0,
    )
}

#[tokio::test]
async fn a_write_through_the_same_process_applies_to_the_next_trace() {
    let dir = tempfile::tempdir().unwrap();
    let store = watched(&dir);
    let cache = Arc::new(RuleCache::new(store.clone(), Duration::from_secs(3600)));
    let api = InvalidatingStore {
        store: store.clone(),
        cache: cache.clone(),
    };
    assert_eq!(cache.rules("p1").await.unwrap().rules().len(), 0);
    api.create(&rule("p1", "a")).await.unwrap();
    assert_eq!(cache.rules("p1").await.unwrap().rules().len(), 1);
    assert_eq!(cache.rules("p1").await.unwrap().rules().len(), 1);
    assert_eq!(
        store.lists.load(Ordering::SeqCst),
        2,
        "read once per change"
    );
    api.delete("p1", &["id-a".into()]).await.unwrap();
    assert_eq!(cache.rules("p1").await.unwrap().rules().len(), 0);
}

#[tokio::test]
async fn it_keeps_a_bounded_number_of_projects() {
    let dir = tempfile::tempdir().unwrap();
    let cache = RuleCache::new(watched(&dir), Duration::from_secs(3600)).with_max_projects(3);
    for i in 0..50 {
        cache.rules(&format!("p{i}")).await.unwrap();
        assert!(cache.len() <= 3, "{} projects kept", cache.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_read_per_project_at_a_time_and_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = watched(&dir);
    let cache = Arc::new(RuleCache::new(store.clone(), Duration::from_secs(3600)));
    let waiting: Vec<_> = (0..20)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.rules("slow").await.map(|r| r.rules().len()) })
        })
        .collect();
    // Another project is served while the slow one's read is held.
    tokio::time::timeout(Duration::from_secs(5), cache.rules("fast"))
        .await
        .expect("another project's read does not wait for the slow one")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    store.release.notify_one();
    for w in waiting {
        assert_eq!(w.await.unwrap().unwrap(), 0);
    }
    assert_eq!(
        store.lists.load(Ordering::SeqCst),
        2,
        "twenty misses on one project made one read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_during_a_read_is_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let store = watched(&dir);
    let cache = Arc::new(RuleCache::new(store.clone(), Duration::from_secs(3600)));
    let api = InvalidatingStore {
        store: store.clone(),
        cache: cache.clone(),
    };
    let reading = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.rules("slow").await.unwrap().rules().len() })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The read in flight may or may not see the rule; the next one must.
    api.create(&rule("slow", "late")).await.unwrap();
    store.release.notify_one();
    reading.await.unwrap();
    let next = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.rules("slow").await.unwrap().rules().len() })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    store.release.notify_one();
    assert_eq!(next.await.unwrap(), 1);
}
