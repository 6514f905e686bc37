//! Matcher benchmark on the workload of `bench/gen_workload.py`: for every `rules_<set>.json`,
//! loads the rules through the create-body parser, then times bytes → scanned trace (UTF-8
//! checked on the way) → fired rules over all of `events.jsonl` on one core. Prints
//! `bench read_limit traces_per_sec=<N>` (the first stage alone over the same bytes: the least
//! a trace can cost), then `bench <set> traces_per_sec=<N>` (median of the runs) and writes
//! `<set>.out`, one line per event: `<index>\t<fired names, byte-sorted, comma-joined>`.
//!
//! Usage: `cargo bench -p rules --bench matcher -- <workload dir> <out dir> [runs]`

use std::fs;
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rules::{CompiledRules, CreateBody, Fired};

const PROJECT: &str = "07066c6fc90025a02f6dc01e105b286e";

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let workload = PathBuf::from(
        args.first()
            .map(String::as_str)
            .unwrap_or("bench-work/workload"),
    );
    let out_dir = PathBuf::from(args.get(1).map(String::as_str).unwrap_or("bench-work/out"));
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    fs::create_dir_all(&out_dir).expect("create the output directory");

    let events = fs::read(workload.join("events.jsonl")).expect("read events.jsonl");
    let lines: Vec<&[u8]> = events
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    eprintln!(
        "events: {} ({:.0} bytes each on average)",
        lines.len(),
        bytes as f64 / lines.len() as f64
    );

    read_limit(&lines, runs);

    let mut sets: Vec<PathBuf> = fs::read_dir(&workload)
        .expect("read the workload directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rules_") && n.ends_with(".json"))
        })
        .collect();
    sets.sort();
    for path in sets {
        let set = path
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_start_matches("rules_")
            .to_owned();
        bench_set(&set, &path, &lines, runs, &out_dir);
    }
}

/// The least work a trace can cost: its bytes classified once by the first stage (`blockmask`:
/// UTF-8 checked, quotes, backslashes and control bytes found), in the same loop over the same
/// data as the sets. Every set's rate reads as a fraction of this one.
fn read_limit(lines: &[&[u8]], runs: usize) {
    let longest = lines.iter().map(|l| l.len()).max().unwrap_or(0);
    let mut masks = vec![blockmask::Masks::default(); blockmask::blocks_in(longest)];
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let mut valid = 0usize;
        for line in lines {
            valid += usize::from(blockmask::classify_text(black_box(line), &mut masks).is_ok());
        }
        black_box(valid);
        rates.push(lines.len() as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "bench read_limit traces_per_sec={:.0}",
        rates[rates.len() / 2]
    );
}

fn bench_set(set: &str, path: &Path, lines: &[&[u8]], runs: usize, out_dir: &Path) {
    let bodies: Vec<serde_json::Value> =
        serde_json::from_slice(&fs::read(path).expect("read rules")).expect("rules JSON");
    let parse_start = Instant::now();
    let notifications: Vec<_> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            CreateBody::from_value(b)
                .unwrap_or_else(|e| panic!("{set} rule {i}: {e}"))
                .into_notification(format!("{set}-{i}"), PROJECT.into(), 0)
        })
        .collect();
    let parse_ms = parse_start.elapsed().as_secs_f64() * 1e3;
    let rss_before = resident_bytes();
    let compile_start = Instant::now();
    let compiled = CompiledRules::compile(&notifications).expect("compile");
    let compile_ms = compile_start.elapsed().as_secs_f64() * 1e3;
    let compile_mb = resident_bytes().saturating_sub(rss_before) as f64 / 1e6;

    let mut fired = vec![Fired::default(); lines.len()];
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        for (slot, line) in fired.iter_mut().zip(lines) {
            *slot = match rules::trace::scan_bytes(black_box(line)) {
                Ok(view) => compiled.matches(&view),
                Err(_) => Fired::default(),
            };
        }
        black_box(&fired);
        rates.push(lines.len() as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    println!("bench {set} traces_per_sec={median:.0}");
    eprintln!(
        "  {set}: rules={} parse={parse_ms:.1}ms compile={compile_ms:.1}ms (+{compile_mb:.1} MB resident) runs={} min={:.0} max={:.0} fired={}",
        compiled.rules().len(),
        rates.len(),
        rates[0],
        rates[rates.len() - 1],
        fired.iter().map(|f| f.len()).sum::<usize>()
    );

    let mut out = std::io::BufWriter::new(
        fs::File::create(out_dir.join(format!("{set}.out"))).expect("create .out"),
    );
    let mut names: Vec<&str> = Vec::new();
    for (i, f) in fired.iter().enumerate() {
        names.clear();
        names.extend(
            f.iter()
                .map(|r| compiled.rules()[r].notification_name.as_str()),
        );
        names.sort_unstable();
        writeln!(out, "{i}\t{}", names.join(",")).expect("write .out");
    }
    out.flush().expect("flush .out");
}

/// This process's resident memory (Linux), to see what compiling a rule set costs.
fn resident_bytes() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
