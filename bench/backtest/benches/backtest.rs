//! The backtest engine against the least it could cost, on generated CloudTrail log files
//! (gzipped as trails write them): `gunzip_limit` only inflates the same files, `backtest`
//! inflates, splits, normalizes and matches every record against 20 rules, both on one core
//! (median of the runs). Then the engine on every core over the same files in a folder, and a
//! file of 500 MB (decompressed) read with the memory it holds measured.
//!
//! Usage: `cargo bench -p backtest-bench --bench backtest -- [runs]`

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use backtest::engine::FileTally;
use backtest::progress::Progress;
use flate2::write::GzEncoder;
use flate2::Compression;
use rules::backtest::{BacktestRules, Tally, TimeRange};
use serde_json::{json, Value};
use trace_files::{Limits, TraceFileReader};

const FILES: usize = 40;
const RECORDS_PER_FILE: usize = 2500;

/// A small deterministic generator, so that every run reads the same files.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 16
    }

    /// `n` hex digits, as random as the ids CloudTrail writes.
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[(self.next() & 15) as usize]))
            .collect()
    }

    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        &from[(self.0 >> 33) as usize % from.len()]
    }
}

const CALLS: [(&str, &str, &str); 12] = [
    ("s3.amazonaws.com", "GetObject", "AWS::S3::Object"),
    ("s3.amazonaws.com", "PutObject", "AWS::S3::Object"),
    ("s3.amazonaws.com", "DeleteBucket", "AWS::S3::Bucket"),
    ("s3.amazonaws.com", "PutBucketPolicy", "AWS::S3::Bucket"),
    ("ec2.amazonaws.com", "DescribeInstances", ""),
    (
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        "AWS::EC2::SecurityGroup",
    ),
    (
        "ec2.amazonaws.com",
        "TerminateInstances",
        "AWS::EC2::Instance",
    ),
    (
        "iam.amazonaws.com",
        "CreateAccessKey",
        "AWS::IAM::AccessKey",
    ),
    ("iam.amazonaws.com", "AttachUserPolicy", "AWS::IAM::User"),
    ("sts.amazonaws.com", "AssumeRole", "AWS::IAM::Role"),
    ("kms.amazonaws.com", "Decrypt", "AWS::KMS::Key"),
    ("lambda.amazonaws.com", "Invoke", "AWS::Lambda::Function"),
];

fn record(rng: &mut Lcg, file: usize, i: usize) -> Value {
    let (source, name, resource) = *rng.pick(&CALLS);
    let user = format!("user-{}", rng.pick(&(0..50).collect::<Vec<_>>()));
    let denied = *rng.pick(&[
        false, false, false, false, false, false, false, false, false, true,
    ]);
    let mut r = json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLEPRINCIPAL1",
            "arn": format!("arn:aws:iam::123456789012:user/{user}"), "accountId": "123456789012",
            "accessKeyId": format!("ASIA{}", rng.hex(16).to_uppercase()), "userName": user,
            "sessionContext": {"attributes": {"creationDate": "2026-11-25T09:12:01Z", "mfaAuthenticated": "true"}}},
        "eventTime": format!("2026-11-25T{:02}:{:02}:{:02}Z", file % 24, i / 60 % 60, i % 60),
        "eventSource": source, "eventName": name, "awsRegion": "eu-west-1",
        "sourceIPAddress": format!("203.0.{}.{}", rng.next() % 256, rng.next() % 256),
        "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.debian.12 prompt/off command/s3api",
        "requestParameters": {"bucketName": "acme-invoices", "Host": "acme-invoices.s3.eu-west-1.amazonaws.com", "key": format!("2026/11/{}.pdf", rng.hex(12))},
        "responseElements": null,
        "additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": rng.hex(56)},
        "requestID": rng.hex(16).to_uppercase(),
        "eventID": format!("{}-{}-{file:04x}-{i:012x}", rng.hex(8), rng.hex(4)),
        "readOnly": name.starts_with("Get") || name.starts_with("Describe"),
        "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "123456789012",
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "s3.eu-west-1.amazonaws.com"}
    });
    if !resource.is_empty() {
        r["resources"] =
            json!([{"type": resource, "ARN": format!("arn:aws:s3:::acme-invoices/{i}")}]);
    }
    if denied {
        r["errorCode"] = "AccessDenied".into();
        r["errorMessage"] =
            format!("User: arn:aws:iam::123456789012:user/{user} is not authorized").into();
    }
    r
}

/// A log file's decompressed bytes: `{"Records":[...]}`.
fn log_json(rng: &mut Lcg, file: usize, records: usize) -> Vec<u8> {
    let records: Vec<Value> = (0..records).map(|i| record(rng, file, i)).collect();
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn rules() -> BacktestRules {
    let op = |service: &str, resource: &str, names: &[&str]| json!([{"service_type": service, "resource_type": resource, "trace_names": names}]);
    let mut bodies = vec![
        json!({"operation_type": "complete"}),
        json!({"operation_type": "customized", "operations": op("S3", "bucket", &["DeleteBucket", "PutBucketPolicy"])}),
        json!({"operation_type": "customized", "operations": op("EC2", "securitygroup", &["AuthorizeSecurityGroupIngress"])}),
        json!({"operation_type": "customized", "operations": op("IAM", "accesskey", &["CreateAccessKey"])}),
        json!({"operation_type": "complete", "filter": {"is_support_filter": true, "condition": "AND", "rule": ["code = AccessDenied"]}}),
        json!({"operation_type": "complete", "notify_user_list": [{"user_group": "admins", "user_list": ["user-1", "user-2"]}]}),
        json!({"operation_type": "complete", "digest": {"window_seconds": 300, "max_messages": 5}}),
    ];
    for i in 0..13 {
        bodies.push(json!({"operation_type": "complete", "filter": {"is_support_filter": true, "condition": "OR",
            "rule": [format!("resource_name = r-{i}"), "trace_rating = incident"]}}));
    }
    for (i, b) in bodies.iter_mut().enumerate() {
        b["notification_name"] = format!("rule_{i}").into();
    }
    backtest::rules_source::from_bodies(&bodies).unwrap()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Inflates every file in 256 KiB reads, handing each read to `each`; the bytes inflated.
fn gunzip_each(files: &[Vec<u8>], mut each: impl FnMut(&[u8])) -> u64 {
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes = 0;
    for file in files {
        let mut inflater = flate2::read::MultiGzDecoder::new(&file[..]);
        loop {
            let n = inflater.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            each(&buf[..n]);
            bytes += n as u64;
        }
    }
    bytes
}

fn gunzip_all(files: &[Vec<u8>]) -> u64 {
    gunzip_each(files, |_| {})
}

/// Inflating and then the scanner's first stage (`blockmask`: quote, backslash and control-byte
/// masks, UTF-8 checked) over every inflated byte: the least that any engine reading each
/// record's bytes once can cost, before splitting, reading fields or tallying anything.
fn gunzip_and_classify_all(files: &[Vec<u8>]) -> u64 {
    let mut masks = vec![blockmask::Masks::default(); blockmask::blocks_in(256 * 1024)];
    // The generated files are ASCII: no character straddles two reads.
    gunzip_each(files, |read| {
        assert!(blockmask::classify_text(read, &mut masks).is_ok())
    })
}

fn backtest_all(files: &[Vec<u8>], rules: &BacktestRules) -> Tally {
    let mut total = Tally::new(rules);
    for (i, file) in files.iter().enumerate() {
        let mut tally = FileTally::new(format!("file-{i}"), rules, TimeRange::default());
        for chunk in file.chunks(64 * 1024) {
            tally.feed(rules, chunk).unwrap();
        }
        total.merge(tally.finish(rules, None)).unwrap();
    }
    total
}

/// Where one record's time goes, each stage over the same decompressed bytes (the fastest of
/// three passes): splitting
/// alone, then reading each record as a trace, then tallying it (ns per record).
fn stages(files: &[Vec<u8>], rules: &BacktestRules) {
    let plain: Vec<Vec<u8>> = files
        .iter()
        .map(|f| {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&f[..])
                .read_to_end(&mut out)
                .unwrap();
            out
        })
        .collect();
    let records = (FILES * RECORDS_PER_FILE) as f64;
    // The fastest of three passes: each stage is told from the one before by a difference.
    let time = |stage: &dyn Fn(&[u8])| {
        (0..3)
            .map(|_| {
                let started = Instant::now();
                for file in &plain {
                    stage(file);
                }
                started.elapsed().as_secs_f64() * 1e9 / records
            })
            .fold(f64::INFINITY, f64::min)
    };
    let each_record = |file: &[u8], on: &mut dyn FnMut(&str)| {
        let mut reader = TraceFileReader::new(Limits::default());
        for chunk in file.chunks(64 * 1024) {
            reader.feed(chunk);
            while let Some(r) = reader.next_record().unwrap() {
                on(std::str::from_utf8(r).unwrap());
            }
        }
        reader.finish();
        while let Some(r) = reader.next_record().unwrap() {
            on(std::str::from_utf8(r).unwrap());
        }
    };
    let split = time(&|f| each_record(f, &mut |_| {}));
    let read = time(&|f| {
        each_record(f, &mut |r| {
            drop(rules::trace::envelope::read_file_record(r).unwrap())
        })
    });
    let tally = time(&|f| {
        let mut tally = Tally::new(rules);
        each_record(f, &mut |r| {
            tally.add(
                rules,
                &TimeRange::default(),
                &rules::trace::envelope::read_file_record(r).unwrap(),
            )
        });
    });
    println!(
        "bench backtest_stages ns_per_record split={split:.0} as_trace={:.0} tally={:.0}",
        read - split,
        tally - read
    );
}

/// The process's peak resident memory, from `/proc/self/status` (kB).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// A 500 MB (decompressed) log file: one gzip member per 5 MB part (concatenated members are
/// one gzip file), read through the reader in 64 KiB chunks.
fn five_hundred_mb(rng: &mut Lcg) {
    let mut part = Vec::new();
    let record = serde_json::to_vec(&record(rng, 0, 0)).unwrap();
    while part.len() < 5_000_000 {
        part.push(b',');
        part.extend_from_slice(&record);
    }
    let mut head = b"{\"Records\":[".to_vec();
    head.extend_from_slice(&record);
    let (head, part, tail) = (gzip(&head), gzip(&part), gzip(b"]}"));
    let rss_before = peak_rss_kb();
    let mut reader = TraceFileReader::new(Limits::default());
    let (mut records, mut most_held) = (0u64, 0usize);
    let started = Instant::now();
    for member in std::iter::once(&head)
        .chain(std::iter::repeat_n(&part, 100))
        .chain(std::iter::once(&tail))
    {
        for chunk in member.chunks(64 * 1024) {
            reader.feed(chunk);
            while reader.next_record().unwrap().is_some() {
                records += 1;
            }
            most_held = most_held.max(reader.bytes_held());
        }
    }
    reader.finish();
    while reader.next_record().unwrap().is_some() {
        records += 1;
    }
    println!(
        "bench backtest_500mb decompressed_mb={} records={records} peak_held_kb={} rss_growth_mb={} seconds={:.2}",
        reader.bytes_read() / 1_000_000,
        most_held / 1024,
        peak_rss_kb().saturating_sub(rss_before) / 1024,
        started.elapsed().as_secs_f64()
    );
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let mut rng = Lcg(42);
    let plain: Vec<Vec<u8>> = (0..FILES)
        .map(|f| log_json(&mut rng, f, RECORDS_PER_FILE))
        .collect();
    let decompressed: usize = plain.iter().map(Vec::len).sum();
    let files: Vec<Vec<u8>> = plain.iter().map(|p| gzip(p)).collect();
    drop(plain);
    let compressed: usize = files.iter().map(Vec::len).sum();
    let records = (FILES * RECORDS_PER_FILE) as f64;
    println!(
        "bench backtest files={FILES} records={records} decompressed_mb={:.1} compressed_mb={:.1} bytes_per_record={}",
        decompressed as f64 / 1e6,
        compressed as f64 / 1e6,
        decompressed / (FILES * RECORDS_PER_FILE)
    );
    let rules = rules();
    let (mut gunzip, mut floor, mut engine) = (Vec::new(), Vec::new(), Vec::new());
    let mut tally = None;
    for _ in 0..runs {
        let started = Instant::now();
        assert_eq!(gunzip_all(&files), decompressed as u64);
        gunzip.push(started.elapsed());
        let started = Instant::now();
        assert_eq!(gunzip_and_classify_all(&files), decompressed as u64);
        floor.push(started.elapsed());
        let started = Instant::now();
        tally = Some(backtest_all(&files, &rules));
        engine.push(started.elapsed());
    }
    let tally = tally.expect("at least one run");
    assert_eq!(tally.records, records as u64);
    assert_eq!(tally.records_refused, 0);
    let limit = records / median(gunzip).as_secs_f64();
    let rate = records / median(engine).as_secs_f64();
    let floor = records / median(floor).as_secs_f64();
    println!("bench gunzip_limit records_per_sec={limit:.0}");
    println!(
        "bench gunzip_first_stage records_per_sec={floor:.0} ratio={:.2} (inflate + blockmask's first stage only)",
        floor / limit
    );
    println!("bench backtest records_per_sec={rate:.0}");
    println!(
        "bench backtest_ratio={:.2} (backtest / gunzip_limit, one core)",
        rate / limit
    );
    let matches: Vec<u64> = tally.rules.iter().map(|r| r.matches).collect();
    println!("bench backtest matches_per_rule={matches:?}");

    stages(&files, &rules);

    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<std::path::PathBuf> = files
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let path = dir
                .path()
                .join(format!("123456789012_CloudTrail_eu-west-1_{i}.json.gz"));
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let started = Instant::now();
    let all = backtest::folder::tally_files(
        &paths,
        &rules,
        TimeRange::default(),
        threads,
        &Progress::new(paths.len()),
    );
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(all.rules, tally.rules);
    println!(
        "bench backtest_all_cores threads={threads} records_per_sec={:.0}",
        records / seconds
    );

    five_hundred_mb(&mut rng);
}
