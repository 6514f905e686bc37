//! An archive under an S3 prefix, read as streams, many objects at a time.

use std::sync::Arc;

use aws_adapters::S3Objects;
use rules::backtest::{BacktestRules, Tally, TimeRange};
use rules::trace::stored::StoredObject;
use tokio::task::JoinSet;
use trace_files::FileKind;

use crate::engine::tally_object;
use crate::progress::Progress;

/// `s3://bucket/prefix`, split.
pub fn parse_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then_some((bucket, prefix))
}

/// The trace files under `prefix`, in key order.
pub async fn trace_files(
    objects: &S3Objects,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<StoredObject>, String> {
    let listed = objects
        .list(bucket, prefix)
        .await
        .map_err(|e| e.to_string())?;
    Ok(listed
        .into_iter()
        .filter(|o| FileKind::of(&o.key) == FileKind::Traces)
        .collect())
}

/// Tallies `files`, `concurrency` at a time.
pub async fn tally_objects(
    objects: &S3Objects,
    files: Vec<StoredObject>,
    rules: Arc<BacktestRules>,
    range: TimeRange,
    concurrency: usize,
    progress: Arc<Progress>,
) -> Tally {
    let mut total = Tally::new(&rules);
    let mut running = JoinSet::new();
    let mut files = files.into_iter();
    loop {
        while running.len() < concurrency.max(1) {
            let Some(file) = files.next() else { break };
            let (objects, rules, progress) = (objects.clone(), rules.clone(), progress.clone());
            running.spawn(async move {
                tally_object(&objects, &file, &rules, range, Some(&progress)).await
            });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let tally = done.expect("a tally task does not panic");
        progress.file_done(tally.records);
        total.merge(tally).expect("tallies of the same rules");
    }
    total
}
