//! The local run: the rules API and `POST /traces` over an embedded database and a file topic
//! under `$DATA_DIR`. No cloud account, no AWS SDK.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use std::collections::HashSet;

use local_adapters::{FileFunctions, FileTopic, FolderArchive, RedbStore};
use ports::{AccessKeyFile, Cause, ConfigError, DedupKey, Targets, TraceSink};
use rules_api::{application, AppState, Authentication, CallerPolicy, ConsoleAuth};
use trace_handler::{Handler, InvalidatingStore};

mod digests;
mod linger;
mod refusals;
mod serve;
mod traces;

pub use linger::Linger;
pub use serve::{serve, Limits};

/// How long the local server reuses a project's compiled rules, by default.
const LOCAL_CACHE_SECS: u64 = 300;

/// How long the local dedup log remembers a published (trace, rule) pair.
const DEDUP_TTL_SECS: i64 = ports::DEFAULT_DEDUP_TTL_SECS as i64;

#[derive(Debug)]
pub struct Config {
    pub port: u16,
    pub data_dir: PathBuf,
    pub caller_header: Option<String>,
    /// `ACCESS_KEYS_FILE`: when set, every `/v3/...` and `/traces` call must be signed with one
    /// of its keys.
    pub access_keys_file: Option<PathBuf>,
    pub cache_ttl: Duration,
    /// How often closed digest windows are published.
    pub digest_interval: Duration,
}

impl Config {
    /// Reads `PORT`, `DATA_DIR`, `CALLER_PROJECT_HEADER`, `ACCESS_KEYS_FILE`,
    /// `RULES_CACHE_SECONDS` and `DIGEST_INTERVAL_SECONDS`.
    pub fn from_env() -> Result<Config, ConfigError> {
        let port = ports::env_number("PORT", 9000)?;
        let port = u16::try_from(port).map_err(|_| ConfigError::Invalid {
            name: "PORT",
            what: "a port number (0-65535)",
            value: port.to_string(),
        })?;
        Ok(Config {
            port,
            data_dir: std::env::var("DATA_DIR")
                .unwrap_or_else(|_| ".local".into())
                .into(),
            caller_header: std::env::var("CALLER_PROJECT_HEADER")
                .ok()
                .filter(|h| !h.is_empty()),
            access_keys_file: std::env::var_os("ACCESS_KEYS_FILE")
                .filter(|f| !f.is_empty())
                .map(PathBuf::from),
            // Every change comes through this process's API, which invalidates the cache:
            // changes apply at once. The period only bounds what an outside edit waits.
            cache_ttl: Duration::from_secs(ports::env_number(
                "RULES_CACHE_SECONDS",
                LOCAL_CACHE_SECS,
            )?),
            // A closed window's digest goes out within this plus CLOSE_AFTER_MS of its end.
            digest_interval: Duration::from_secs(
                ports::env_number("DIGEST_INTERVAL_SECONDS", 10)?.max(1),
            ),
        })
    }
}

/// The whole local product as one router; creates `DATA_DIR` if needed.
pub fn app(config: &Config) -> Result<axum::Router, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("cannot create DATA_DIR {}: {e}", config.data_dir.display()))?;
    let store = Arc::new(RedbStore::open(config.data_dir.join("rules.redb"))?);
    let keys = match &config.access_keys_file {
        Some(path) => Some(Arc::new(AccessKeyFile::load(path)?)),
        None => None,
    };
    let policy = match (&keys, config.caller_header.clone()) {
        (Some(_), _) => CallerPolicy::RequestContext,
        (None, Some(h)) => CallerPolicy::Header(h),
        (None, None) => CallerPolicy::TrustPath,
    };
    let topic = Arc::new(FileTopic::new(config.data_dir.join("published.jsonl")));
    let functions = Arc::new(FileFunctions::new(
        config.data_dir.join("invocations.jsonl"),
    ));
    topic.repair()?;
    functions.repair()?;
    settle_after_a_stop(&store, &topic, &functions)?;
    let handler = Handler::new(
        store.clone(),
        store.clone(),
        Arc::new(Targets {
            topics: topic,
            functions,
        }),
        config.cache_ttl,
        DEDUP_TTL_SECS,
    );
    // The API's writes reach the handler's cache at once: rules can be cached for long.
    let api_store = Arc::new(InvalidatingStore {
        store: store.clone(),
        cache: handler.rule_cache(),
    });
    let (authentication, console_auth) = match keys {
        Some(keys) => {
            tracing::info!(
                keys = keys.len(),
                "AK/SK signatures are verified on every /v3 and /traces call"
            );
            (Authentication::Signatures(keys), ConsoleAuth::AkSk)
        }
        None => {
            tracing::warn!("ACCESS_KEYS_FILE is not set: signatures are not checked, and anyone who reaches this address may act on any project");
            (Authentication::Policy, ConsoleAuth::Open)
        }
    };
    let handler = Arc::new(handler);
    let state = AppState {
        store: api_store,
        activity: store,
        policy: Arc::new(policy),
        topics: None,
        changes: Some(Arc::new(ChangesToHandler(handler.clone()))),
        // Backtests through the API read the trace files put here.
        archive: Some(Arc::new(FolderArchive::new(
            config.data_dir.join("archive"),
        ))),
    };
    digests::spawn(handler.clone(), config.digest_interval);
    let traces = traces::routes(handler);
    Ok(application(state, authentication, console_auth, traces))
}

/// The traces of rule changes go to this process's trace handler, as any trace.
struct ChangesToHandler(Arc<Handler>);

#[async_trait::async_trait]
impl TraceSink for ChangesToHandler {
    async fn submit(&self, trace: String) -> Result<(), Cause> {
        let summary = self.0.handle(&trace).await;
        match summary.failures.first() {
            None => Ok(()),
            Some(f) => Err(Cause::from(f.error.clone())),
        }
    }
}

/// Claims left open by a process that stopped between writing a message and marking its pair
/// published (a `kill -9`): the pairs whose message is in the topic, or whose invocation is in
/// the functions' file, are marked published, the others freed, so that resending everything
/// publishes each pair once. (An invocation names its function and trace, not its rule: of two
/// rules invoking one function on one trace, one invocation written counts for both.)
fn settle_after_a_stop(
    store: &RedbStore,
    topic: &FileTopic,
    functions: &FileFunctions,
) -> Result<(), Box<dyn std::error::Error>> {
    let open: HashSet<DedupKey> = store.open_claims()?.into_iter().collect();
    if open.is_empty() {
        return Ok(());
    }
    let mut sent = topic.pairs_sent(&open)?;
    let targets = store.targets_by_id()?;
    let invocation_of = |k: &DedupKey| {
        let target = targets.get(&k.notification_id)?;
        Some((target.clone(), k.trace_id.clone()))
    };
    let invoked = functions.invoked(&open.iter().filter_map(invocation_of).collect())?;
    sent.extend(
        open.iter()
            .filter(|k| invocation_of(k).is_some_and(|i| invoked.contains(&i)))
            .cloned(),
    );
    store.settle_open_claims(&sent, ports::now_ms(), DEDUP_TTL_SECS)?;
    tracing::warn!(
        open = open.len(),
        sent = sent.len(),
        "settled the claims a stopped run left open"
    );
    Ok(())
}
