//! The two steps of the Step Functions Distributed Map (template.yaml's `BacktestStateMachine`),
//! both run by the `backtest-batch` function: each child tallies one batch of the objects the
//! map lists and writes its tally to the results bucket, under a key its objects name (so a
//! retried child overwrites rather than adds); the last step merges every tally of the run
//! into the report, written next to them.

use std::sync::Arc;

use aws_adapters::S3Objects;
use ports::NotificationStore;
use rules::backtest::{BacktestRules, Report, Tally, TimeRange};
use rules::trace::stored::StoredObject;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use trace_files::FileKind;

use crate::progress::Progress;

/// What a run backtests: the archive, the rules (a project's, or bodies), the time range, and
/// where results go.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
    pub results_bucket: String,
    /// The run's name (the execution's): its results live under `backtests/<run>/`.
    pub run: String,
    #[serde(default)]
    pub project_id: Option<String>,
    #[serde(default)]
    pub rules: Option<Vec<Value>>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

/// What the function is invoked with: a batch of the map (`ItemBatcher`'s shape), or the
/// merge.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Step {
    Batch {
        #[serde(rename = "Items")]
        items: Vec<ListedObject>,
        #[serde(rename = "BatchInput")]
        job: Job,
    },
    Merge {
        merge: Job,
    },
}

/// One object as the map's S3 `ListObjectsV2` reader hands it over.
#[derive(Debug, Deserialize)]
pub struct ListedObject {
    #[serde(rename = "Key")]
    pub key: String,
}

impl Job {
    pub fn range(&self) -> Result<TimeRange, String> {
        let bound = |b: &Option<String>| match b {
            None => Ok(None),
            Some(text) => TimeRange::parse_bound(text).map(Some).ok_or_else(|| {
                format!("not a time: {text:?} (2026-11-01, 2026-11-01T12:00:00Z or epoch ms)")
            }),
        };
        Ok(TimeRange {
            from_ms: bound(&self.from)?,
            to_ms: bound(&self.to)?,
        })
    }

    /// The job's rules: its bodies, or its project's stored rules from `store`.
    pub async fn rules(
        &self,
        store: Option<Arc<dyn NotificationStore>>,
    ) -> Result<BacktestRules, String> {
        match (&self.rules, &self.project_id, store) {
            (Some(bodies), _, _) => crate::rules_source::from_bodies(bodies),
            (None, Some(project), Some(store)) => crate::rules_source::stored(store, project).await,
            _ => Err("a backtest needs rules (bodies) or a project_id and its table".into()),
        }
    }

    fn folder(&self) -> String {
        format!("backtests/{}/", self.run)
    }
}

/// What a batch child answers: where its tally is, and its size.
#[derive(Debug, Serialize)]
pub struct BatchDone {
    pub tally: String,
    pub files: u64,
    pub records: u64,
}

/// Tallies one batch and writes the tally.
pub async fn run_batch(
    objects: &S3Objects,
    rules: Arc<BacktestRules>,
    job: &Job,
    items: &[ListedObject],
) -> Result<BatchDone, String> {
    let files: Vec<StoredObject> = items
        .iter()
        .filter(|o| FileKind::of(&o.key) == FileKind::Traces)
        .map(|o| StoredObject {
            bucket: job.bucket.clone(),
            key: o.key.clone(),
        })
        .collect();
    let progress = Arc::new(Progress::new(files.len()));
    let tally = crate::s3::tally_objects(objects, files, rules, job.range()?, 4, progress).await;
    let mut hash = Sha256::new();
    for item in items {
        hash.update(item.key.as_bytes());
        hash.update([0]);
    }
    let name: String = hash.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let key = format!("{}tallies/{name}.json", job.folder());
    let bytes = serde_json::to_vec(&tally).map_err(|e| e.to_string())?;
    objects
        .put(&job.results_bucket, &key, bytes)
        .await
        .map_err(|e| e.to_string())?;
    Ok(BatchDone {
        tally: format!("s3://{}/{key}", job.results_bucket),
        files: tally.files,
        records: tally.records,
    })
}

/// Merges every tally of the run; writes and returns the report.
pub async fn merge(
    objects: &S3Objects,
    rules: &BacktestRules,
    job: &Job,
) -> Result<(String, Report), String> {
    let tallies = objects
        .list(&job.results_bucket, &format!("{}tallies/", job.folder()))
        .await
        .map_err(|e| e.to_string())?;
    let mut total = Tally::new(rules);
    for object in &tallies {
        let bytes = objects.read_all(object).await.map_err(|e| e.to_string())?;
        let tally: Tally = serde_json::from_slice(&bytes).map_err(|e| format!("{object}: {e}"))?;
        total.merge(tally).map_err(|e| format!("{object}: {e}"))?;
    }
    let report = total.report(rules);
    let key = format!("{}report.json", job.folder());
    let bytes = serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?;
    objects
        .put(&job.results_bucket, &key, bytes)
        .await
        .map_err(|e| e.to_string())?;
    Ok((format!("s3://{}/{key}", job.results_bucket), report))
}
