//! `make run`: serves the rules API and `POST /traces` on 127.0.0.1:$PORT with data in
//! $DATA_DIR. No cloud account, no AWS SDK.

use std::net::SocketAddr;

use local_server::{app, Config};

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
    let app = app(&config)?;
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
