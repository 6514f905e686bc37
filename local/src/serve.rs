//! Serving the local product over TCP, bounded against clients that stall or hoard: headers must
//! arrive within a time (also the most a kept-alive connection may idle between requests), a
//! request must be answered within a time, connections are capped, and a stop finishes the
//! requests in flight, then closes what is left after a grace period; a close lingers
//! ([`Lingering`]) so that an answer given before the body was read reaches the client. hyper's own refusals are
//! answered as the contract's ([`JsonRefusals`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use rules_api::ApiError;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::linger::{Linger, Lingering};
use crate::refusals::JsonRefusals;

/// How long a client may take, and how many may be connected.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// For a request's headers to arrive, and for the next request on a kept-alive connection.
    pub header_timeout: Duration,
    /// From the headers to the end of the answer.
    pub request_timeout: Duration,
    pub max_connections: usize,
    /// After a stop, for the requests in flight to finish.
    pub grace: Duration,
    /// At a close, for a client still sending a body that was answered before it was read.
    pub linger: Linger,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 256,
            grace: Duration::from_secs(10),
            linger: Linger::default(),
        }
    }
}

/// Serves `app` on `listener` until `stop` completes, then drains as [`Limits`] says.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait for connections to close.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let (stream, peer) = stream;
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            // The source address of rule changes' traces.
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            answer(app.clone(), req, limits.request_timeout)
        });
        let stream = TokioIo::new(JsonRefusals::new(Lingering::new(stream, limits.linger)));
        let connection = graceful.watch(http.serve_connection(stream, service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection closed");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("stopped: every request in flight was answered"),
        () = tokio::time::sleep(limits.grace) => {
            tracing::warn!(grace_secs = limits.grace.as_secs(), "stopped: connections still open after the grace period were dropped");
        }
    }
}

async fn answer(
    app: Router,
    req: hyper::Request<Incoming>,
    within: Duration,
) -> Result<Response, std::convert::Infallible> {
    match tokio::time::timeout(within, app.oneshot(req.map(Body::new))).await {
        Ok(answered) => answered,
        Err(_) => {
            let mut response = ApiError::RequestTimeout(within.as_secs()).into_response();
            let id = uuid_header();
            // The request-id middleware never saw the answer: its line is written here.
            tracing::info!(request_id = %id.to_str().unwrap_or_default(), status = 408, error_code = "CTS.0408", "request timed out");
            response.headers_mut().insert("x-request-id", id);
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            Ok(response)
        }
    }
}

/// A fresh request id: the timed-out request never reached the middleware that gives one.
fn uuid_header() -> axum::http::HeaderValue {
    axum::http::HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
        .expect("a UUID is a header value")
}
