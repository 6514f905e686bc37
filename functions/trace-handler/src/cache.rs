//! Each project's compiled rules, read from the store at most once per `ttl`: a change made
//! through the API takes effect within `ttl` (at once where the API runs in the same process
//! and invalidates, as locally), and rule reads per trace amortize far below one.
//!
//! Its clock is tokio's, so that tests can move it.
//!
//! Bounded: at most [`MAX_PROJECTS`] projects are kept, the least recently used going first.
//! One read per project at a time (concurrent misses wait for it), and no lock is held across
//! the store read but that project's own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use async_trait::async_trait;
use ports::{NotificationStore, StoreError};
use rules::{CompiledRules, Notification};

/// Most projects whose rules are kept compiled at once.
pub const MAX_PROJECTS: usize = 1024;

pub struct RuleCache {
    store: Arc<dyn NotificationStore>,
    ttl: Duration,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    max_projects: usize,
}

/// One project's entry. `generation` moves on each invalidation; rules loaded under an older
/// generation are not used again.
struct Slot {
    generation: AtomicU64,
    last_used: Mutex<Instant>,
    loaded: tokio::sync::Mutex<Option<Loaded>>,
}

struct Loaded {
    at: Instant,
    generation: u64,
    rules: Arc<CompiledRules>,
}

impl RuleCache {
    pub fn new(store: Arc<dyn NotificationStore>, ttl: Duration) -> Self {
        RuleCache {
            store,
            ttl,
            slots: Mutex::new(HashMap::new()),
            max_projects: MAX_PROJECTS,
        }
    }

    /// Keeps at most `n` projects instead of [`MAX_PROJECTS`].
    pub fn with_max_projects(mut self, n: usize) -> Self {
        self.max_projects = n.max(1);
        self
    }

    /// How many projects are kept now.
    pub fn len(&self) -> usize {
        self.lock_slots().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock_slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn slot(&self, project_id: &str) -> Arc<Slot> {
        let mut slots = self.lock_slots();
        if let Some(slot) = slots.get(project_id) {
            *slot.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
            return slot.clone();
        }
        if slots.len() >= self.max_projects {
            let oldest = slots
                .iter()
                .min_by_key(|(_, s)| *s.last_used.lock().unwrap_or_else(|e| e.into_inner()))
                .map(|(p, _)| p.clone());
            if let Some(p) = oldest {
                slots.remove(&p);
            }
        }
        let slot = Arc::new(Slot {
            generation: AtomicU64::new(0),
            last_used: Mutex::new(Instant::now()),
            loaded: tokio::sync::Mutex::new(None),
        });
        slots.insert(project_id.to_owned(), slot.clone());
        slot
    }

    /// The store the rules are read from.
    pub(crate) fn store(&self) -> &dyn NotificationStore {
        &*self.store
    }

    /// The project's active rules, compiled.
    pub async fn rules(&self, project_id: &str) -> Result<Arc<CompiledRules>, StoreError> {
        let slot = self.slot(project_id);
        let mut loaded = slot.loaded.lock().await;
        let generation = slot.generation.load(Ordering::Acquire);
        if let Some(l) = loaded.as_ref() {
            if l.generation == generation && l.at.elapsed() < self.ttl {
                return Ok(l.rules.clone());
            }
        }
        let stored = self.store.list(project_id).await?;
        let rules = Arc::new(
            CompiledRules::compile(&stored).map_err(|e| StoreError::Read(ports::Cause::new(e)))?,
        );
        *loaded = Some(Loaded {
            at: Instant::now(),
            generation,
            rules: rules.clone(),
        });
        Ok(rules)
    }

    /// Forgets the project's rules: the next trace reads them again. A read in flight when
    /// this is called is not kept either.
    pub fn invalidate(&self, project_id: &str) {
        if let Some(slot) = self.lock_slots().get(project_id) {
            slot.generation.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// A store that tells the cache of every change it makes, for an API and a handler in one
/// process (the local server): a rule change applies to the very next trace, however long the
/// cache keeps rules otherwise.
/// Shows no store: a trait object has no `Debug`.
pub struct InvalidatingStore {
    pub store: Arc<dyn NotificationStore>,
    pub cache: Arc<RuleCache>,
}

#[async_trait]
impl NotificationStore for InvalidatingStore {
    async fn create(&self, n: &Notification) -> Result<(), StoreError> {
        let done = self.store.create(n).await;
        self.cache.invalidate(&n.project_id);
        done
    }

    async fn update(&self, n: &Notification) -> Result<(), StoreError> {
        let done = self.store.update(n).await;
        self.cache.invalidate(&n.project_id);
        done
    }

    async fn delete(&self, project_id: &str, ids: &[String]) -> Result<(), StoreError> {
        let done = self.store.delete(project_id, ids).await;
        self.cache.invalidate(project_id);
        done
    }

    async fn get(&self, project_id: &str, id: &str) -> Result<Option<Notification>, StoreError> {
        self.store.get(project_id, id).await
    }

    async fn list(&self, project_id: &str) -> Result<Vec<Notification>, StoreError> {
        self.store.list(project_id).await
    }
}

impl std::fmt::Debug for InvalidatingStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvalidatingStore").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for RuleCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleCache")
            .field("ttl", &self.ttl)
            .field("max_projects", &self.max_projects)
            .finish_non_exhaustive()
    }
}
