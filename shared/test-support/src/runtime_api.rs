//! A minimal Lambda Runtime API (the interface a function's runtime polls) serving one event,
//! to time a function binary from process start to its first answer: config, SDK clients and
//! the first event included.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::Notify;

pub struct RuntimeApi {
    /// `host:port`, for `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

struct State {
    event: Vec<u8>,
    served: Mutex<bool>,
    answer: Mutex<Option<(Instant, String)>>,
    answered: Notify,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Serves `event` to the first `next` call; later calls wait forever.
    pub async fn start(event: Vec<u8>) -> RuntimeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let state = Arc::new(State {
            event,
            served: Mutex::new(false),
            answer: Mutex::new(None),
            answered: Notify::new(),
        });
        let shared = state.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| serve(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        RuntimeApi {
            address,
            state,
            server,
        }
    }

    /// Waits for the function's answer: when it came, and whether it was a response or an error
    /// (with its body).
    pub async fn answer(&self) -> (Instant, String) {
        loop {
            let notified = self.state.answered.notified();
            if let Some(a) = self
                .state
                .answer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
            {
                return a;
            }
            notified.await;
        }
    }
}

async fn serve(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    if path.ends_with("/invocation/next") {
        let first = !std::mem::replace(
            &mut *state.served.lock().unwrap_or_else(|e| e.into_inner()),
            true,
        );
        if !first {
            std::future::pending::<()>().await;
        }
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
            + 30_000;
        return Ok(Response::builder()
            .header("lambda-runtime-aws-request-id", "cold-start-1")
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:eu-west-1:123456789012:function:bench",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000",
            )
            .body(Full::new(Bytes::from(state.event.clone())))
            .expect("response"));
    }
    let at = Instant::now();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let kind = if path.ends_with("/response") {
        "response"
    } else {
        "error"
    };
    *state.answer.lock().unwrap_or_else(|e| e.into_inner()) =
        Some((at, format!("{kind}: {}", String::from_utf8_lossy(&body))));
    state.answered.notify_waiters();
    Ok(Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))
        .expect("response"))
}

impl std::fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeApi")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}
