//! Where a backtest's rules come from: a project's stored rules (the local store, or DynamoDB),
//! or rule bodies as create takes them, each named by its `notification_name`.

use std::sync::Arc;

use ports::NotificationStore;
use rules::backtest::{rules_of_bodies, BacktestRules};
use serde_json::Value;

/// Rule bodies (a JSON array of create bodies), checked as create checks them, over every
/// trace.
pub fn from_bodies(bodies: &[Value]) -> Result<BacktestRules, String> {
    let rules = rules_of_bodies(bodies, "backtest").map_err(|e| e.to_string())?;
    BacktestRules::new(&rules, None).map_err(|e| e.to_string())
}

/// The rules stored for `project`, over that project's traces.
pub async fn stored(
    store: Arc<dyn NotificationStore>,
    project: &str,
) -> Result<BacktestRules, String> {
    let rules = store
        .list(project)
        .await
        .map_err(|e| format!("cannot read the rules of {project}: {e}"))?;
    if rules.is_empty() {
        return Err(format!("project {project} has no rules"));
    }
    BacktestRules::new(&rules, Some(project)).map_err(|e| e.to_string())
}
