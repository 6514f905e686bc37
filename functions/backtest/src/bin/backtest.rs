//! `make backtest`: the rules over an archive of trace files; the report as JSON on stdout.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use backtest::progress::Progress;
use backtest::{folder, rules_source, s3};
use ports::NotificationStore;
use rules::backtest::{BacktestRules, Tally, TimeRange};

const HELP: &str = "\
backtest: what rules would have sent over an archive of trace files (read-only)

Usage: backtest --archive <folder | s3://bucket/prefix> (--project <id> | --rules <file>)
                [--from <time>] [--to <time>] [--threads <n>] [--data-dir <dir>] [--table <name>]

  --archive   a folder (every CloudTrail log file and CTS trace file under it, gzipped or not;
              digest files are left out) or an S3 prefix (credentials, region and endpoint from
              the AWS environment)
  --project   the project's stored rules, over that project's traces: from the local store in
              --data-dir (default $DATA_DIR, else .local; `make run` must not hold it), or with
              --table from that DynamoDB table
  --rules     a file holding a JSON array of rule bodies as create takes them, each named by its
              notification_name, over every trace
  --from/--to the traces counted: from inclusive, to exclusive (2026-11-01,
              2026-11-01T12:00:00Z or epoch milliseconds)
  --threads   files read at once (default: one per core)

The report goes to stdout as JSON: per rule the matches, the messages it would have sent
(digests included), per day, the top trace names and users, and the first sample messages.
A progress line (files, records, rate) goes to stderr when it is a terminal.
";

#[derive(Debug, Default)]
struct Args {
    archive: Option<String>,
    project: Option<String>,
    rules: Option<PathBuf>,
    range: TimeRange,
    threads: Option<usize>,
    data_dir: Option<PathBuf>,
    table: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        if flag == "--help" || flag == "-h" {
            print!("{HELP}");
            std::process::exit(0);
        }
        let value = given
            .next()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{flag} needs a value"))?;
        let time =
            |v: &str| TimeRange::parse_bound(v).ok_or_else(|| format!("{flag}: not a time: {v:?}"));
        match flag.as_str() {
            "--archive" => args.archive = Some(value),
            "--project" => args.project = Some(value),
            "--rules" => args.rules = Some(value.into()),
            "--from" => args.range.from_ms = Some(time(&value)?),
            "--to" => args.range.to_ms = Some(time(&value)?),
            "--threads" => {
                args.threads = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--threads: not a number: {value:?}"))?,
                )
            }
            "--data-dir" => args.data_dir = Some(value.into()),
            "--table" => args.table = Some(value),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.archive.is_none() {
        return Err("--archive is required".into());
    }
    if args.project.is_some() == args.rules.is_some() {
        return Err("give either --project or --rules".into());
    }
    Ok(args)
}

async fn load_rules(args: &Args) -> Result<BacktestRules, String> {
    if let Some(path) = &args.rules {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bodies: Vec<serde_json::Value> = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a JSON array of rule bodies: {e}", path.display()))?;
        return rules_source::from_bodies(&bodies);
    }
    let project = args.project.as_deref().expect("checked by parse_args");
    let store: Arc<dyn NotificationStore> = match &args.table {
        Some(table) => {
            let aws = aws_adapters::config::loader().load().await;
            Arc::new(aws_adapters::DynamoDbStore::new(
                aws_adapters::dynamodb::Client::new(&aws),
                table,
            ))
        }
        None => {
            let dir = args
                .data_dir
                .clone()
                .or_else(|| std::env::var_os("DATA_DIR").map(PathBuf::from))
                .unwrap_or_else(|| ".local".into());
            let path = dir.join("rules.redb");
            if !path.exists() {
                return Err(format!("no local store at {}", path.display()));
            }
            Arc::new(local_adapters::RedbStore::open(&path).map_err(|e| {
                format!(
                    "cannot open {} ({e}); if `make run` holds it, stop it or pass --rules",
                    path.display()
                )
            })?)
        }
    };
    rules_source::stored(store, project).await
}

async fn run(args: Args) -> Result<String, String> {
    let rules = Arc::new(load_rules(&args).await?);
    let archive = args.archive.as_deref().expect("checked by parse_args");
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let tally: Tally = match s3::parse_url(archive) {
        Some((bucket, prefix)) => {
            let aws = aws_adapters::config::loader().load().await;
            let objects = aws_adapters::S3Objects::new(aws_adapters::s3_client(&aws));
            let files = s3::trace_files(&objects, bucket, prefix).await?;
            let progress = Arc::new(Progress::new(files.len()));
            let drawing = progress.clone();
            let drawer = std::thread::spawn(move || drawing.draw_until_done());
            let tally = s3::tally_objects(
                &objects,
                files,
                rules.clone(),
                args.range,
                threads * 2,
                progress.clone(),
            )
            .await;
            progress.finish();
            let _ = drawer.join();
            tally
        }
        None => {
            let root = PathBuf::from(archive);
            let files = folder::trace_files(&root).map_err(|e| format!("{archive}: {e}"))?;
            let progress = Progress::new(files.len());
            std::thread::scope(|scope| {
                scope.spawn(|| progress.draw_until_done());
                let tally = folder::tally_files(&files, &rules, args.range, threads, &progress);
                progress.finish();
                tally
            })
        }
    };
    serde_json::to_string_pretty(&tally.report(&rules)).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("backtest: {e}\n\n{HELP}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("backtest: {e}");
            ExitCode::FAILURE
        }
    }
}
