//! The local run's digest publisher: every `interval`, the digests of windows that have closed
//! are published (on AWS, a schedule invokes the trace handler for the same). Windows are kept in
//! the database, so a window open when the process stopped is published after the restart.

use std::sync::Arc;
use std::time::Duration;

use trace_handler::Handler;

/// Publishes due digests every `interval`, for as long as the runtime runs.
pub(crate) fn spawn(handler: Arc<Handler>, interval: Duration) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no async runtime: digests are not published");
        return;
    };
    runtime.spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            handler.publish_due_digests(ports::now_ms()).await;
        }
    });
}
