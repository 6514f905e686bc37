//! The sample inputs of `events/`: one of every shape the functions take (CTS traces, an SQS
//! batch with a poison item, EventBridge and CloudTrail events, a direct batch, and an API Gateway
//! request for each API call under `api/`). The files stay where `cargo lambda invoke`, SAM and
//! the scripts find them; this crate compiles them in, so that the tests, benchmarks and console
//! of every crate read them through their own dependencies, not by a path out of their folder.

/// Every sample: its path under `events/` and its text.
pub const FILES: &[(&str, &str)] = &[
    (
        "api/create-digest.json",
        include_str!("../api/create-digest.json"),
    ),
    (
        "api/create-function.json",
        include_str!("../api/create-function.json"),
    ),
    ("api/create.json", include_str!("../api/create.json")),
    ("api/delete.json", include_str!("../api/delete.json")),
    ("api/list.json", include_str!("../api/list.json")),
    ("api/modify.json", include_str!("../api/modify.json")),
    (
        "api/operations.json",
        include_str!("../api/operations.json"),
    ),
    ("api/quotas.json", include_str!("../api/quotas.json")),
    (
        "cloudtrail-record-s3-delete-bucket-denied.json",
        CLOUDTRAIL_S3_DELETE_BUCKET_DENIED,
    ),
    (
        "create-notification-request.json",
        CREATE_NOTIFICATION_REQUEST,
    ),
    ("cts-traces.jsonl", CTS_TRACES),
    (
        "direct-invoke-batch.json",
        include_str!("../direct-invoke-batch.json"),
    ),
    (
        "eventbridge-cloudtrail-authorize-sg-ingress.json",
        EVENTBRIDGE_SG_INGRESS,
    ),
    (
        "eventbridge-console-signin-root-no-mfa.json",
        EVENTBRIDGE_ROOT_SIGN_IN,
    ),
    (
        "eventbridge-forwarded-iam-create-access-key.json",
        include_str!("../eventbridge-forwarded-iam-create-access-key.json"),
    ),
    (
        "eventbridge-s3-object-created.json",
        EVENTBRIDGE_S3_OBJECT_CREATED,
    ),
    (
        "s3-notification-cloudtrail-log-file.json",
        S3_NOTIFICATION_LOG_FILE,
    ),
    (
        "sqs-batch-cts-traces-with-poison.json",
        include_str!("../sqs-batch-cts-traces-with-poison.json"),
    ),
];

/// `events/s3-notification-cloudtrail-log-file.json`: S3 telling of a new CloudTrail log file.
pub const S3_NOTIFICATION_LOG_FILE: &str =
    include_str!("../s3-notification-cloudtrail-log-file.json");
/// `events/eventbridge-s3-object-created.json`: the same file told through EventBridge.
pub const EVENTBRIDGE_S3_OBJECT_CREATED: &str =
    include_str!("../eventbridge-s3-object-created.json");
/// `events/cts-traces.jsonl`.
pub const CTS_TRACES: &str = include_str!("../cts-traces.jsonl");
/// `events/create-notification-request.json`.
pub const CREATE_NOTIFICATION_REQUEST: &str = include_str!("../create-notification-request.json");
/// `events/eventbridge-cloudtrail-authorize-sg-ingress.json`.
pub const EVENTBRIDGE_SG_INGRESS: &str =
    include_str!("../eventbridge-cloudtrail-authorize-sg-ingress.json");
/// `events/eventbridge-console-signin-root-no-mfa.json`.
pub const EVENTBRIDGE_ROOT_SIGN_IN: &str =
    include_str!("../eventbridge-console-signin-root-no-mfa.json");
/// `events/cloudtrail-record-s3-delete-bucket-denied.json`.
pub const CLOUDTRAIL_S3_DELETE_BUCKET_DENIED: &str =
    include_str!("../cloudtrail-record-s3-delete-bucket-denied.json");

/// A CloudTrail log file's JSON, `{"Records": [...]}`: `n` copies of
/// [`CLOUDTRAIL_S3_DELETE_BUCKET_DENIED`], the i-th with the `eventID` `<ids>-<i>`.
pub fn cloudtrail_log(ids: &str, n: usize) -> String {
    const EVENT_ID: &str = "7d2e4f60-8a1b-4c3d-9e5f-a0b1c2d3e4f5";
    let records: Vec<String> = (0..n)
        .map(|i| CLOUDTRAIL_S3_DELETE_BUCKET_DENIED.replace(EVENT_ID, &format!("{ids}-{i}")))
        .collect();
    format!("{{\"Records\": [{}]}}", records.join(","))
}

/// The sample at `path` under `events/` (`"cts-traces.jsonl"`, `"api/quotas.json"`).
pub fn get(path: &str) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|&(_, text)| text)
}

/// The sample at `path`; panics on an unknown one (for tests).
pub fn sample(path: &str) -> &'static str {
    get(path).unwrap_or_else(|| panic!("no sample events/{path}"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// A file added to `events/` is listed here too.
    #[test]
    fn every_sample_file_is_compiled_in() {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else if path
                    .extension()
                    .is_some_and(|e| e == "json" || e == "jsonl")
                {
                    let relative = path.strip_prefix(base).unwrap();
                    out.push(relative.to_string_lossy().into_owned());
                }
            }
        }
        let base = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut on_disk = Vec::new();
        walk(base, base, &mut on_disk);
        on_disk.sort();
        let listed: Vec<&str> = super::FILES.iter().map(|&(p, _)| p).collect();
        assert_eq!(on_disk, listed);
        for (path, text) in super::FILES {
            if path.ends_with(".json") {
                looks_like_an_object(text)
                    .unwrap_or_else(|| panic!("{path} is not one JSON value"));
            }
        }
    }

    /// Starts and ends as a JSON object does (the crate has no JSON parser of its own).
    fn looks_like_an_object(text: &str) -> Option<()> {
        let t = text.trim();
        (t.starts_with('{') && t.ends_with('}')).then_some(())
    }
}
