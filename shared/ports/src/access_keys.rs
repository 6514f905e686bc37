//! Access keys: who signs with one acts on its project. [`AccessKeyFile`] is the local run's
//! (`ACCESS_KEYS_FILE`); [`CachedAccessKeys`] keeps remote lookups off the request path.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::RwLock;

use crate::config::{ConfigError, KeyListError};
use crate::StoreError;

/// One access key and the project it acts on.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    pub access_key: String,
    pub secret_key: String,
    pub project_id: String,
}

impl std::fmt::Debug for AccessKey {
    /// Never shows the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key", &self.access_key)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

/// Where access keys are looked up.
#[async_trait]
pub trait AccessKeys: Send + Sync {
    /// The key named `access_key`, if it exists and is active.
    async fn find(&self, access_key: &str) -> Result<Option<AccessKey>, StoreError>;
}

/// Keys read once from a JSON array of `{"access_key", "secret_key", "project_id"}`.
pub struct AccessKeyFile {
    keys: HashMap<String, AccessKey>,
}

impl AccessKeyFile {
    /// Reads and checks the file; the error names the file and what is wrong, never a secret.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::KeysUnreadable {
            path: path.to_owned(),
            source,
        })?;
        let list: Vec<AccessKey> =
            serde_json::from_str(&text).map_err(|e| ConfigError::KeysNotJson {
                path: path.to_owned(),
                line: e.line(),
                column: e.column(),
            })?;
        Self::new(list).map_err(|source| ConfigError::KeysInvalid {
            path: path.to_owned(),
            source,
        })
    }

    pub fn new(list: Vec<AccessKey>) -> Result<Self, KeyListError> {
        let mut keys = HashMap::with_capacity(list.len());
        for (i, key) in list.into_iter().enumerate() {
            if !is_access_key(&key.access_key) {
                return Err(KeyListError::BadAccessKey(i));
            }
            if key.secret_key.is_empty() {
                return Err(KeyListError::NoSecret(i));
            }
            if key.project_id.is_empty() {
                return Err(KeyListError::NoProject(i));
            }
            if let Some(old) = keys.insert(key.access_key.clone(), key) {
                return Err(KeyListError::Repeated(old.access_key));
            }
        }
        Ok(AccessKeyFile { keys })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// What an `Access=` value may be: letters and digits, as the Huawei clouds issue them.
pub fn is_access_key(s: &str) -> bool {
    (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[async_trait]
impl AccessKeys for AccessKeyFile {
    async fn find(&self, access_key: &str) -> Result<Option<AccessKey>, StoreError> {
        Ok(self.keys.get(access_key).cloned())
    }
}

/// Remembers each lookup, found or not, for `ttl`: a revoked key stops working within `ttl`.
/// At most [`CachedAccessKeys::MAX_ENTRIES`] are kept, so made-up keys cannot grow it.
pub struct CachedAccessKeys {
    inner: Arc<dyn AccessKeys>,
    ttl: Duration,
    entries: RwLock<HashMap<String, (Instant, Option<AccessKey>)>>,
}

impl CachedAccessKeys {
    pub const MAX_ENTRIES: usize = 10_000;

    pub fn new(inner: Arc<dyn AccessKeys>, ttl: Duration) -> Self {
        CachedAccessKeys {
            inner,
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl AccessKeys for CachedAccessKeys {
    async fn find(&self, access_key: &str) -> Result<Option<AccessKey>, StoreError> {
        if let Some((at, key)) = self.entries.read().await.get(access_key) {
            if at.elapsed() < self.ttl {
                return Ok(key.clone());
            }
        }
        let key = self.inner.find(access_key).await?;
        let mut entries = self.entries.write().await;
        if entries.len() >= Self::MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(access_key.to_owned(), (Instant::now(), key.clone()));
        Ok(key)
    }
}

/// Names how many keys, never a secret.
impl std::fmt::Debug for AccessKeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyFile")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl std::fmt::Debug for CachedAccessKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedAccessKeys")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ak: &str, project: &str) -> AccessKey {
        AccessKey {
            access_key: ak.into(),
            secret_key: "s3cr3t".into(),
            project_id: project.into(),
        }
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        assert!(!format!("{:?}", key("AK1", "p")).contains("s3cr3t"));
    }

    #[test]
    fn a_key_file_refuses_repeated_or_malformed_keys() {
        assert!(AccessKeyFile::new(vec![key("AK1", "p"), key("AK1", "q")]).is_err());
        assert!(AccessKeyFile::new(vec![key("AK 1", "p")]).is_err());
        assert!(AccessKeyFile::new(vec![key("AK1", "")]).is_err());
        assert_eq!(
            AccessKeyFile::new(vec![key("AK1", "p"), key("AK2", "p")])
                .unwrap()
                .len(),
            2
        );
    }

    struct Counting(
        std::sync::Mutex<Vec<AccessKey>>,
        std::sync::atomic::AtomicUsize,
    );

    #[async_trait]
    impl AccessKeys for Counting {
        async fn find(&self, ak: &str) -> Result<Option<AccessKey>, StoreError> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(self
                .0
                .lock()
                .unwrap()
                .iter()
                .find(|k| k.access_key == ak)
                .cloned())
        }
    }

    #[tokio::test]
    async fn the_cache_reads_once_per_ttl_and_forgets_revoked_keys_after_it() {
        let inner = Arc::new(Counting(
            std::sync::Mutex::new(vec![key("AK1", "p")]),
            0.into(),
        ));
        let cache = CachedAccessKeys::new(inner.clone(), Duration::from_secs(60));
        let uncached = CachedAccessKeys::new(inner.clone(), Duration::ZERO);
        for _ in 0..3 {
            assert_eq!(cache.find("AK1").await.unwrap().unwrap().project_id, "p");
            assert_eq!(cache.find("NOPE").await.unwrap(), None);
        }
        assert_eq!(inner.1.load(std::sync::atomic::Ordering::SeqCst), 2);
        inner.0.lock().unwrap().clear();
        assert!(cache.find("AK1").await.unwrap().is_some(), "still cached");
        assert_eq!(
            uncached.find("AK1").await.unwrap(),
            None,
            "revoked once the ttl is over"
        );
    }
}
