//! `make run`: serves the rules API and `POST /traces` on 127.0.0.1:$PORT with data in
//! $DATA_DIR. No cloud account, no AWS SDK.

use std::net::SocketAddr;

use local_server::{app, serve, Config, Limits};

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
    serve(listener, app, Limits::default(), stop_signal()).await;
    Ok(())
}

/// SIGTERM (what service managers and `kill` send) or SIGINT (Ctrl-C).
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; stop with Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: stopping"),
    }
}
