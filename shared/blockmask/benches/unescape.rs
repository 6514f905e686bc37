//! The unescaper on SQS-like bodies: each of the first 500 events of a workload (the matcher
//! benchmark's `events.jsonl`) escaped into a JSON string's inside, as SQS carries a trace, then
//! decoded again and again; 500 bodies stay in the cache, as a batch the handler just read does.
//! Prints the fastest of 15 passes.
//!
//! Usage: `cargo bench -p blockmask --bench unescape -- <events.jsonl>`

use std::time::Instant;

fn main() {
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "bench-work/workload/events.jsonl".to_owned());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let escaped: Vec<String> = text
        .lines()
        .take(500)
        .map(|l| l.replace('\\', "\\\\").replace('"', "\\\""))
        .collect();
    let mut out = String::new();
    let mut best = f64::MAX;
    for _ in 0..15 {
        let started = Instant::now();
        for body in &escaped {
            out.clear();
            blockmask::unescape_into(body, &mut out).expect("escaped above");
            std::hint::black_box(&out);
        }
        best = best.min(started.elapsed().as_secs_f64() * 1e9 / escaped.len() as f64);
    }
    let bytes = escaped.iter().map(String::len).sum::<usize>() / escaped.len();
    println!("bench unescape ns_per_body={best:.0} bytes_per_body={bytes}");
}
