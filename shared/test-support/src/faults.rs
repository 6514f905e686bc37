//! A fault-injecting HTTP proxy for moto: each request is either forwarded, or answered with
//! throttling, a 500, or nothing for longer than an attempt may wait, as the plan decides.
//! Faults are injected before the request reaches moto, so a failed call had no effect.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// DynamoDB `ThrottlingException` / SNS `Throttling`, HTTP 400.
    Throttle,
    /// HTTP 500, an internal error of the service.
    ServerError,
    /// No answer for 3 s (longer than an SDK attempt waits), then a 500.
    Hang,
}

/// Which fault, if any, request number `n` (from 0) gets.
pub type Plan = Arc<dyn Fn(usize) -> Option<Fault> + Send + Sync>;

pub struct FaultProxy {
    pub endpoint: String,
    requests: Arc<AtomicUsize>,
    injected: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FaultProxy {
    /// Listens on a free loopback port, forwarding to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str, plan: Plan) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let requests = Arc::new(AtomicUsize::new(0));
        let injected = Arc::new(AtomicUsize::new(0));
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let upstream = upstream.to_owned();
        let (counter, faults) = (requests.clone(), injected.clone());
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (client, upstream, plan, counter, faults) = (
                    client.clone(),
                    upstream.clone(),
                    plan.clone(),
                    counter.clone(),
                    faults.clone(),
                );
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (client, upstream, plan, counter, faults) = (
                            client.clone(),
                            upstream.clone(),
                            plan.clone(),
                            counter.clone(),
                            faults.clone(),
                        );
                        async move {
                            let n = counter.fetch_add(1, Ordering::SeqCst);
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            if let Some(fault) = plan(n) {
                                faults.fetch_add(1, Ordering::SeqCst);
                                let json = parts.headers.contains_key("x-amz-target");
                                return Ok::<_, hyper::Error>(fault_response(fault, json).await);
                            }
                            let uri = format!(
                                "{upstream}{}",
                                parts.uri.path_and_query().map_or("/", |p| p.as_str())
                            );
                            let mut forward = Request::builder().method(parts.method).uri(uri);
                            for (k, v) in &parts.headers {
                                forward = forward.header(k, v);
                            }
                            let resp = match client
                                .request(forward.body(Full::new(body)).expect("request"))
                                .await
                            {
                                Ok(r) => r,
                                Err(_) => {
                                    return Ok(fault_response(Fault::ServerError, false).await)
                                }
                            };
                            let (parts, body) = resp.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            Ok(Response::from_parts(parts, Full::new(body)))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FaultProxy {
            endpoint,
            requests,
            injected,
            server,
        }
    }

    /// Requests seen so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Faults injected so far.
    pub fn injected(&self) -> usize {
        self.injected.load(Ordering::SeqCst)
    }
}

/// The error a service answers with: DynamoDB speaks JSON (`x-amz-target`), SNS XML.
async fn fault_response(fault: Fault, json: bool) -> Response<Full<Bytes>> {
    if fault == Fault::Hang {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let (status, code) = match (fault, json) {
        (Fault::Throttle, true) => (400, "ThrottlingException"),
        (Fault::Throttle, false) => (400, "Throttling"),
        (_, true) => (500, "InternalServerError"),
        (_, false) => (500, "InternalFailure"),
    };
    let (content_type, body) = if json {
        ("application/x-amz-json-1.0", format!("{{\"__type\":\"com.amazonaws.dynamodb.v20120810#{code}\",\"message\":\"injected\"}}"))
    } else {
        (
            "text/xml",
            format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error><RequestId>injected</RequestId></ErrorResponse>"),
        )
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("response")
}
