//! A fault-injecting HTTP proxy for moto: each request is either forwarded, or answered with
//! throttling, a 500, or nothing for longer than an attempt may wait, as the plan decides.
//! Faults are injected before the request reaches moto, so a failed call had no effect. It
//! also counts the calls by operation (`dynamodb:Query`, `sns:PublishBatch`, ...), and
//! enforces what moto does not: SNS's 256 KiB limit on a message and on a `PublishBatch` call,
//! refused as SNS refuses them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::client::legacy::connect::HttpConnector;
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
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

/// What the connections share: where to forward, the plan, and the counts.
struct Shared {
    client: Client<HttpConnector, Full<Bytes>>,
    upstream: String,
    plan: Plan,
    requests: AtomicUsize,
    injected: AtomicUsize,
    calls: Mutex<BTreeMap<String, usize>>,
}

/// Counts one request, then injects its planned fault or forwards it.
async fn proxy(
    state: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let n = state.requests.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    *state
        .calls
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(operation(&parts.headers, &body))
        .or_default() += 1;
    if let Some(refusal) = sns_size_refusal(&body) {
        return Ok(refusal);
    }
    if let Some(fault) = (state.plan)(n) {
        state.injected.fetch_add(1, Ordering::SeqCst);
        return Ok(fault_response(fault, parts.headers.contains_key("x-amz-target")).await);
    }
    let uri = format!(
        "{}{}",
        state.upstream,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut forward = Request::builder().method(parts.method).uri(uri);
    for (k, v) in &parts.headers {
        forward = forward.header(k, v);
    }
    let Ok(resp) = state
        .client
        .request(forward.body(Full::new(body)).expect("request"))
        .await
    else {
        return Ok(fault_response(Fault::ServerError, false).await);
    };
    let (parts, body) = resp.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Ok(Response::from_parts(parts, Full::new(body)))
}

/// `service:Operation` of an AWS request: JSON protocols name it in `x-amz-target`, the query
/// protocol (SNS) in the form body's `Action`.
fn operation(headers: &hyper::HeaderMap, body: &[u8]) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|t| t.to_str().ok()) {
        let (service, op) = target.split_once('.').unwrap_or(("?", target));
        let service = if service.starts_with("DynamoDB") {
            "dynamodb"
        } else if service.starts_with("AmazonSQS") {
            "sqs"
        } else {
            service
        };
        return format!("{service}:{op}");
    }
    let body = String::from_utf8_lossy(body);
    let action = body
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or("?");
    format!("sns:{action}")
}

/// SNS's limit: a message, or all of a `PublishBatch` call's messages together, with subject
/// and attributes.
pub const SNS_MAX_BYTES: usize = 256 * 1024;

/// The error SNS answers a `Publish` or `PublishBatch` over [`SNS_MAX_BYTES`] with.
fn sns_size_refusal(body: &[u8]) -> Option<Response<Full<Bytes>>> {
    let mut action = None;
    let mut size = 0;
    for (k, v) in form_urlencoded::parse(body) {
        if k == "Action" {
            action = Some(v.into_owned());
        } else if [".Message", ".Subject", ".Name", ".DataType", ".StringValue"]
            .iter()
            .any(|end| k.ends_with(end) || k == end[1..])
        {
            size += v.len();
        }
    }
    let code = match action.as_deref() {
        Some("PublishBatch") => "BatchRequestTooLong",
        Some("Publish") => "InvalidParameter",
        _ => return None,
    };
    (size > SNS_MAX_BYTES).then(|| {
        let body = format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>The length of all the messages put together is more than the limit.</Message></Error><RequestId>size-check</RequestId></ErrorResponse>");
        Response::builder()
            .status(400)
            .header("content-type", "text/xml")
            .body(Full::new(Bytes::from(body)))
            .expect("response")
    })
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
        let shared = Arc::new(Shared {
            client: Client::builder(TokioExecutor::new()).build_http(),
            upstream: upstream.to_owned(),
            plan,
            requests: AtomicUsize::new(0),
            injected: AtomicUsize::new(0),
            calls: Mutex::new(BTreeMap::new()),
        });
        let state = shared.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| proxy(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FaultProxy {
            endpoint,
            shared,
            server,
        }
    }

    /// A proxy that injects nothing: it only counts.
    pub async fn counting(upstream: &str) -> FaultProxy {
        FaultProxy::start(upstream, Arc::new(|_| None)).await
    }

    /// Calls seen so far, by `service:Operation`.
    pub fn calls(&self) -> BTreeMap<String, usize> {
        self.shared
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Requests seen so far.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Faults injected so far.
    pub fn injected(&self) -> usize {
        self.shared.injected.load(Ordering::SeqCst)
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

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}
