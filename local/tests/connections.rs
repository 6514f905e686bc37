//! The local server against clients that stall or hoard connections, and its stop: over real
//! TCP on loopback, with short limits.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use local_server::{app, serve, Limits, Linger};

const LIMITS: Limits = Limits {
    header_timeout: Duration::from_millis(400),
    request_timeout: Duration::from_millis(800),
    max_connections: 4,
    grace: Duration::from_millis(600),
    linger: Linger {
        total: Duration::from_secs(3),
        idle: Duration::from_millis(300),
        bytes: 16 << 20,
    },
};

/// A server on a fresh port; dropping the sender stops it.
async fn start(
    dir: &tempfile::TempDir,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let config = common::open_config(dir.path());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app(&config).unwrap(), LIMITS, async {
        let _ = stopped.await;
    }));
    (addr, stop, server)
}

/// Reads until the server closes the connection (or `within` passes); what it sent.
fn read_to_close(stream: &mut TcpStream, within: Duration) -> Option<String> {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut out = Vec::new();
    match stream.read_to_end(&mut out) {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

fn health(addr: &str) -> String {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return String::new();
    };
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    read_to_close(&mut s, Duration::from_secs(5)).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_and_idle_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stop, _) = start(&dir).await;
    let a = addr.clone();
    tokio::task::spawn_blocking(move || {
        let mut slow = TcpStream::connect(&a).unwrap();
        slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let started = Instant::now();
        assert!(
            read_to_close(&mut slow, Duration::from_secs(3)).is_some(),
            "never closed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );

        let mut idle = TcpStream::connect(&a).unwrap();
        idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let answered = read_to_close(&mut idle, Duration::from_secs(3)).expect("closed when idle");
        assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hoarded_connections_do_not_stop_health_for_long() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stop, _) = start(&dir).await;
    let a = addr.clone();
    tokio::task::spawn_blocking(move || {
        // Twice the cap of silent connections.
        let _hoard: Vec<TcpStream> = (0..8).map(|_| TcpStream::connect(&a).unwrap()).collect();
        let started = Instant::now();
        let answer = health(&a);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_answered_408_with_the_contracts_body() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stop, _) = start(&dir).await;
    tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.write_all(b"POST /traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"tra")
            .unwrap();
        let answer = read_to_close(&mut s, Duration::from_secs(3)).expect("answered and closed");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.to_ascii_lowercase().contains("x-request-id: "), "{answer}");
        assert!(answer.contains(r#""error_code":"CTS.0408""#), "{answer}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_answers_what_is_in_flight_and_does_not_wait_for_a_stalled_client() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, stop, server) = start(&dir).await;
    let a = addr.clone();
    let stalled = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(&a).unwrap();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
        std::thread::sleep(Duration::from_secs(2));
        drop(s);
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(2), server)
        .await
        .expect("the stop is bounded")
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(TcpStream::connect(&addr).is_err(), "no longer accepting");
    stalled.await.unwrap();
}

/// The binary itself: SIGTERM stops it cleanly, with a line in its log.
#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_local-server"))
        .env("PORT", port.to_string())
        .env("DATA_DIR", dir.path().join("data"))
        .env("LOG_FORMAT", "text")
        .stdout(log)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !health(&addr).starts_with("HTTP/1.1 200") {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = server.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("SIGTERM: stopping"), "{log}");
}

/// Requests hyper refuses before any handler (they cannot be parsed) are answered with the
/// contract's body and an `X-Request-Id` too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_are_not_http_get_the_contracts_error_body() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stop, _) = start(&dir).await;
    tokio::task::spawn_blocking(move || {
        let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
        let long_header = format!("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(500_000));
        let cases: [(&[u8], &str, &str); 4] = [
            (b"POST /traces HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "400", "CTS.0003"),
            (long_uri.as_bytes(), "414", "CTS.0414"),
            (long_header.as_bytes(), "431", "CTS.0431"),
            (b"NOT HTTP AT ALL\r\n\r\n", "400", "CTS.0003"),
        ];
        for (request, status, code) in cases {
            let mut s = TcpStream::connect(&addr).unwrap();
            let _ = s.write_all(request);
            let answer = read_to_close(&mut s, Duration::from_secs(5)).unwrap_or_default();
            let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_default();
            assert!(head.starts_with(&format!("HTTP/1.1 {status}")), "{answer:.200}");
            assert!(head.to_ascii_lowercase().contains("\r\nx-request-id: "), "{head}");
            let body: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
            assert_eq!(body["error_code"], code, "{answer:.300}");
            assert!(body["error_msg"].as_str().is_some_and(|m| !m.is_empty()));
        }
    })
    .await
    .unwrap();
}

/// Writes a create request declaring `body_len` bytes, then `body_len` bytes at most (or until
/// `within`), as a client that writes before it reads; how long until a write failed, if one did.
fn send_body(
    stream: &mut TcpStream,
    body_len: usize,
    pause: Duration,
    within: Duration,
) -> Option<Duration> {
    let head = format!(
        "POST /v3/24edf66e79d04187acb99a463e610764/notifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {body_len}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b' '; 16 << 10];
    let started = Instant::now();
    let mut sent = 0;
    while sent < body_len && started.elapsed() < within {
        let n = chunk.len().min(body_len - sent);
        if stream.write_all(&chunk[..n]).is_err() {
            return Some(started.elapsed());
        }
        sent += n;
        std::thread::sleep(pause);
    }
    None
}

/// A client that writes its whole body before reading still reads the 413 given before the body
/// was read: the server reads and discards the rest before it closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_before_the_body_reaches_a_client_that_writes_first() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stop, _) = start(&dir).await;
    tokio::task::spawn_blocking(move || {
        for _ in 0..20 {
            let mut s = TcpStream::connect(&addr).unwrap();
            let cut = send_body(&mut s, 4 << 20, Duration::ZERO, Duration::from_secs(10));
            assert_eq!(cut, None, "the body could not be written whole");
            let answer = read_to_close(&mut s, Duration::from_secs(5)).expect("answered");
            assert!(answer.starts_with("HTTP/1.1 413"), "{answer:.200}");
            assert!(answer.contains(r#""error_code":"CTS.0413""#), "{answer}");
        }
    })
    .await
    .unwrap();
}

/// Lingering is bounded: a fast endless sender is cut at the byte bound, a slow one at the time
/// bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_keeps_sending_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stop, _) = start(&dir).await;
    tokio::task::spawn_blocking(move || {
        let mut fast = TcpStream::connect(&addr).unwrap();
        let cut = send_body(&mut fast, 1 << 40, Duration::ZERO, Duration::from_secs(10));
        let cut = cut.expect("a fast sender is cut");
        assert!(
            cut < LIMITS.linger.total,
            "cut after {cut:?}, not at the byte bound"
        );

        let mut slow = TcpStream::connect(&addr).unwrap();
        let cut = send_body(
            &mut slow,
            1 << 40,
            Duration::from_millis(50),
            Duration::from_secs(10),
        );
        let cut = cut.expect("a slow sender is cut");
        assert!(
            cut >= LIMITS.linger.total,
            "cut after {cut:?}, before the time bound"
        );
    })
    .await
    .unwrap();
}
