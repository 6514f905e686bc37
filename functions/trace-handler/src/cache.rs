//! Each project's compiled rules, read from the store at most once per `ttl`: a change made
//! through the API takes effect within `ttl`, and rule reads per trace amortize far below one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ports::{NotificationStore, StoreError};
use rules::CompiledRules;
use tokio::sync::Mutex;

pub struct RuleCache {
    store: Arc<dyn NotificationStore>,
    ttl: Duration,
    projects: Mutex<HashMap<String, (Instant, Arc<CompiledRules>)>>,
}

impl RuleCache {
    pub fn new(store: Arc<dyn NotificationStore>, ttl: Duration) -> Self {
        RuleCache {
            store,
            ttl,
            projects: Mutex::new(HashMap::new()),
        }
    }

    /// The project's active rules, compiled.
    pub async fn rules(&self, project_id: &str) -> Result<Arc<CompiledRules>, StoreError> {
        let mut projects = self.projects.lock().await;
        if let Some((loaded, rules)) = projects.get(project_id) {
            if loaded.elapsed() < self.ttl {
                return Ok(rules.clone());
            }
        }
        let stored = self.store.list(project_id).await?;
        let compiled =
            Arc::new(CompiledRules::compile(&stored).map_err(|e| StoreError::Read(e.to_string()))?);
        projects.insert(project_id.to_owned(), (Instant::now(), compiled.clone()));
        Ok(compiled)
    }
}
