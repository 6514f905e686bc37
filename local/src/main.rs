//! `make run`: serves the rules API (and trace intake) on 127.0.0.1:$PORT with rules in an
//! embedded database under $DATA_DIR. No cloud account, no AWS SDK.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ports::RedbStore;
use rules_api::{router, AppState, CallerPolicy};

struct Config {
    port: u16,
    data_dir: PathBuf,
    caller_header: Option<String>,
}

impl Config {
    fn from_env() -> Result<Config, String> {
        let port = match std::env::var("PORT") {
            Ok(p) => p
                .parse()
                .map_err(|_| format!("PORT must be a port number, got {p:?}"))?,
            Err(_) => 9000,
        };
        Ok(Config {
            port,
            data_dir: std::env::var("DATA_DIR")
                .unwrap_or_else(|_| ".local".into())
                .into(),
            caller_header: std::env::var("CALLER_PROJECT_HEADER")
                .ok()
                .filter(|h| !h.is_empty()),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if std::env::var("LOG_FORMAT").as_deref() == Ok("text") {
        logs.init();
    } else {
        logs.json().flatten_event(true).init();
    }
    let config = Config::from_env()?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("cannot create DATA_DIR {}: {e}", config.data_dir.display()))?;
    let store = Arc::new(RedbStore::open(config.data_dir.join("rules.redb"))?);
    let policy = match config.caller_header {
        Some(h) => CallerPolicy::Header(h),
        None => CallerPolicy::TrustPath,
    };
    let app = router(AppState {
        store,
        policy: Arc::new(policy),
    });
    let addr = SocketAddr::from(([127, 0, 0, 1], config.port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, data_dir = %config.data_dir.display(), "serving key event notifications");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
