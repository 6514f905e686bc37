//! `POST /v3/{project_id}/notifications/backtest` (our extension): the project's rules (all, or
//! some by id, or rule bodies) over a small part of the archive (the deployment's trace bucket,
//! or locally `$DATA_DIR/archive`): per rule, what it would have sent. The part is bounded
//! ([`MAX_FILES`], [`MAX_BYTES`]) so that the call ends in seconds; larger ones are for
//! `make backtest` and the state machine. Only the project's own traces count. Read-only.

use axum::extract::State;
use axum::Json;
use rules::backtest::{rules_of_bodies, BacktestRules, Report, Tally, TimeRange};
use rules::{Notification, ValidationError};
use serde::Deserialize;
use serde_json::Value;
use trace_files::FileKind;

use crate::extract::{JsonBody, JsonBytes, Project};
use crate::{ApiError, AppState};

/// Most trace files one call reads.
pub(crate) const MAX_FILES: usize = 100;
/// Most bytes (as stored, gzipped) one call reads: about ten seconds of reading.
pub(crate) const MAX_BYTES: u64 = 50 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BacktestBody {
    prefix: String,
    #[serde(default)]
    notification_ids: Option<Vec<String>>,
    #[serde(default)]
    rules: Option<Vec<Value>>,
    #[serde(default)]
    from: Option<Value>,
    #[serde(default)]
    to: Option<Value>,
}

fn invalid(field: &str, rule: impl Into<String>) -> ApiError {
    ApiError::Invalid(ValidationError::invalid(field, rule))
}

pub(crate) async fn backtest(
    State(s): State<AppState>,
    Project(project_id): Project,
    JsonBody(bytes): JsonBytes,
) -> Result<Json<Report>, ApiError> {
    let body: BacktestBody = serde_json::from_slice(&bytes).map_err(|e| {
        invalid(
            "body",
            format!("must be {{\"prefix\", and optionally \"notification_ids\" or \"rules\", \"from\", \"to\"}}: {e}"),
        )
    })?;
    if body.prefix.len() > 1024 {
        return Err(invalid("prefix", "must be at most 1024 characters"));
    }
    let range = TimeRange {
        from_ms: bound(&body.from, "from")?,
        to_ms: bound(&body.to, "to")?,
    };
    let rules = BacktestRules::new(&rules_of(&s, &project_id, &body).await?, Some(&project_id))
        .map_err(|e| invalid("rules", e.to_string()))?;
    let archive = s.archive.as_ref().ok_or_else(|| {
        ApiError::BadRequest(
            "no archive is configured for backtests (the template's TraceBucketName)".into(),
        )
    })?;
    let listed = archive
        .list(&body.prefix)
        .await
        .map_err(|e| ApiError::ArchiveRead(e.to_string()))?;
    let files: Vec<_> = listed
        .into_iter()
        .filter(|(o, _)| FileKind::of(&o.key) == FileKind::Traces)
        .collect();
    let bytes: u64 = files.iter().map(|(_, n)| n).sum();
    if files.len() > MAX_FILES || bytes > MAX_BYTES {
        return Err(ApiError::BadRequest(format!(
            "{} trace files ({bytes} bytes) under this prefix of {}: a call reads at most {MAX_FILES} files and {MAX_BYTES} bytes; narrow the prefix, or run `make backtest` or the backtest state machine",
            files.len(),
            archive.name()
        )));
    }
    let mut tally = Tally::new(&rules);
    for (object, _) in &files {
        let file = backtest::engine::tally_object(&**archive, object, &rules, range, None).await;
        tally.merge(file).expect("tallies of the same rules");
    }
    Ok(Json(tally.report(&rules)))
}

fn bound(value: &Option<Value>, field: &str) -> Result<Option<i64>, ApiError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if n.is_i64() => n.to_string(),
        Some(_) => {
            return Err(invalid(
                field,
                "must be a time: 2026-11-01, 2026-11-01T12:00:00Z or epoch milliseconds",
            ))
        }
    };
    TimeRange::parse_bound(&text).map(Some).ok_or_else(|| {
        invalid(
            field,
            "must be a time: 2026-11-01, 2026-11-01T12:00:00Z or epoch milliseconds",
        )
    })
}

/// The rules to try: bodies (validated as create validates them), the stored rules named, or
/// every stored rule of the project.
async fn rules_of(
    s: &AppState,
    project_id: &str,
    body: &BacktestBody,
) -> Result<Vec<Notification>, ApiError> {
    match (&body.rules, &body.notification_ids) {
        (Some(_), Some(_)) => Err(invalid("rules", "give rules or notification_ids, not both")),
        (Some(bodies), None) => Ok(rules_of_bodies(bodies, project_id)?),
        (None, ids) => {
            if ids.as_ref().is_some_and(|ids| {
                ids.is_empty() || ids.len() > rules::limits::MAX_NOTIFICATIONS_PER_PROJECT
            }) {
                return Err(invalid(
                    "notification_ids",
                    format!(
                        "must hold 1 to {} ids",
                        rules::limits::MAX_NOTIFICATIONS_PER_PROJECT
                    ),
                ));
            }
            let stored = s.store.list(project_id).await?;
            let Some(ids) = ids else { return Ok(stored) };
            ids.iter()
                .map(|id| {
                    stored
                        .iter()
                        .find(|r| &r.notification_id == id)
                        .cloned()
                        .ok_or_else(|| ApiError::Store(ports::StoreError::NotFound(id.clone())))
                })
                .collect()
        }
    }
}
