//! Which objects of a bucket (or files of a folder) are trace files, by name alone: a trail's
//! bucket also holds digest files, Insights files and whatever else people put there.

/// What an object's key says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A CloudTrail log file, a CTS trace file, or a JSON file of traces.
    Traces,
    /// A digest file (`CloudTrail-Digest`, `CloudTrace-Digest`): hashes of log files, no traces.
    Digest,
    /// Anything else: CloudTrail Insights files, folder markers, files that are not JSON.
    Other,
}

const SUFFIXES: [&str; 6] = [
    ".json.gz",
    ".json",
    ".jsonl.gz",
    ".jsonl",
    ".ndjson.gz",
    ".ndjson",
];

impl FileKind {
    /// Reads an object key or a path (`/`-separated, as S3 and OBS keys are).
    pub fn of(key: &str) -> FileKind {
        if key.contains("CloudTrail-Digest") || key.contains("CloudTrace-Digest") {
            return FileKind::Digest;
        }
        let name = key.rsplit('/').next().unwrap_or(key);
        if key.contains("CloudTrail-Insight") || !SUFFIXES.iter().any(|s| name.ends_with(s)) {
            return FileKind::Other;
        }
        FileKind::Traces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_and_trace_files_are_read_and_the_rest_of_a_trail_bucket_is_not() {
        let traces = [
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/30/111122223333_CloudTrail_us-east-1_20261130T0005Z_abcd1234.json.gz",
            "AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/11/30/111122223333_CloudTrail_eu-west-1_20261130T0005Z_x.json.gz",
            "CloudTraces/cn-north-4/2026/11/30/system/ECS/cn-north-4_CloudTrace_ECS_2026-11-30T00-05-00Z_21d36ced6b2fbbe6.json.gz",
            "exports/traces.jsonl",
        ];
        for key in traces {
            assert_eq!(FileKind::of(key), FileKind::Traces, "{key}");
        }
        let digests = [
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/30/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20261130T000000Z.json.gz",
            "CloudTraces/cn-north-4/2026/11/30/system/ECS/cn-north-4_CloudTrace-Digest_ECS_2026-11-30T00-05-00Z.json.gz",
        ];
        for key in digests {
            assert_eq!(FileKind::of(key), FileKind::Digest, "{key}");
        }
        let other = [
            "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/11/30/111122223333_CloudTrail-Insight_us-east-1_20261130T0005Z_x.json.gz",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/30/",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/30/README.txt",
            "AWSLogs/",
        ];
        for key in other {
            assert_eq!(FileKind::of(key), FileKind::Other, "{key}");
        }
    }
}
