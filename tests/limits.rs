//! Limits on the real server: rate limit (429 + Retry-After, off by
//! default), request target and header sizes (414/431), slow clients,
//! shutdown with open connections.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Sends raw bytes on a fresh connection; returns everything read until
/// the server closes or `wait` passes.
fn raw(server: &Server, request: &[u8], wait: Duration) -> String {
    let addr = server.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    // The server may answer and close before reading everything.
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Like [`raw`], but the server must end the exchange (answer and close,
/// or reset) within `wait`: a read that times out fails the test, so an
/// empty response cannot pass for a refusal.
fn raw_until_closed(server: &Server, request: &[u8], wait: Duration) -> String {
    let addr = server.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            panic!("the server neither answered nor closed within {wait:?}")
        }
        // Reset after the answer (the client was still sending): fine.
        Err(_) => {}
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn status_of(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn get_full(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Option<String>, String) {
    let mut req = ureq::get(&format!("{}{}", server.base, path));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    match req.call() {
        Ok(r) => (
            r.status(),
            r.header("retry-after").map(String::from),
            r.into_string().unwrap_or_default(),
        ),
        Err(ureq::Error::Status(code, r)) => (
            code,
            r.header("retry-after").map(String::from),
            r.into_string().unwrap_or_default(),
        ),
        Err(e) => panic!("GET {path}: {e}"),
    }
}

#[test]
fn rate_limit_is_off_by_default() {
    let (_tmp, server) = start_tiny("");
    for _ in 0..60 {
        assert_eq!(server.get("/api/ranking?level=cell").0, 200);
    }
}

#[test]
fn rate_limit_answers_429_with_retry_after_per_caller() {
    // One request per 1,000 s after the burst: no slot comes back while
    // the test runs, however slow the machine.
    let (_tmp, server) = start_tiny("[limits]\nrate_per_second = 0.001\nburst = 3\n");
    for _ in 0..3 {
        assert_eq!(server.get("/api/ranking?level=cell").0, 200);
    }
    let (status, retry, body) = get_full(&server, "/api/ranking?level=cell", &[]);
    assert_eq!(status, 429, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "TooManyRequests");
    // At 0.001 requests/s the next slot is 1,000 s away, less the time
    // the first requests took.
    let secs: u64 = retry.as_deref().unwrap_or("").parse().unwrap();
    assert!((900..=1000).contains(&secs), "Retry-After {secs}");
    // Other paths count against the same address.
    assert_eq!(server.get("/ogc/collections").0, 429);
    // Health and metrics stay reachable.
    assert_eq!(server.get("/health").0, 200);
    // A token is its own caller with its own budget.
    let auth = format!("Bearer {PLANNER}");
    for _ in 0..3 {
        let (status, _, _) = get_full(
            &server,
            "/api/ranking?level=cell",
            &[("Authorization", &auth)],
        );
        assert_eq!(status, 200);
    }
    let (status, _, _) = get_full(
        &server,
        "/api/ranking?level=cell",
        &[("Authorization", &auth)],
    );
    assert_eq!(status, 429);
    // An unknown token does not escape the address's limit.
    let (status, _, _) = get_full(
        &server,
        "/api/ranking",
        &[("Authorization", "Bearer made-up")],
    );
    assert_eq!(status, 429);
    let (_, metrics) = server.get("/metrics");
    let line = metrics
        .lines()
        .find(|l| l.starts_with("riskmap_http_rejected_total{reason=\"rate_limit\"}"))
        .unwrap_or("");
    let n: u64 = line.rsplit(' ').next().unwrap_or("").parse().unwrap_or(0);
    assert!(n >= 4, "{metrics}");
}

#[test]
fn long_targets_are_414_and_large_headers_431() {
    let (_tmp, server) = start_tiny("[limits]\nmax_uri_bytes = 2048\nmax_header_bytes = 4096\n");
    // Within the limits: fine.
    let ok_query = "x".repeat(1500);
    let (status, _, _) = get_full(
        &server,
        &format!("/health?{ok_query}"),
        &[("X-Pad", &"p".repeat(3000))],
    );
    assert_eq!(status, 200);
    // A request target over the limit.
    let long = format!("/ogc/collections?q={}", "x".repeat(3000));
    let (status, _, body) = get_full(&server, &long, &[]);
    assert_eq!(status, 414, "{body}");
    assert!(body.contains("URITooLong"), "{body}");
    // Headers over the limit (answered by the router).
    let (status, _, body) = get_full(&server, "/health", &[("X-Pad", &"p".repeat(5000))]);
    assert_eq!(status, 431, "{body}");
    // Far over the limit: refused by the protocol layer before buffering it.
    let huge = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(64 * 1024)
    );
    let resp = raw_until_closed(&server, huge.as_bytes(), Duration::from_secs(10));
    // An empty read means the connection was reset while the client was
    // still sending (the 431 may be lost with it); anything else is a 431.
    assert!(resp.is_empty() || status_of(&resp) == 431, "{resp}");
    // Still serving.
    assert_eq!(server.get("/health").0, 200);
}

#[test]
fn a_client_trickling_its_header_is_cut_off() {
    let (_tmp, server) = start_tiny("[limits]\nheader_read_timeout_secs = 1\n");
    let started = Instant::now();
    let resp = raw(
        &server,
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n",
        Duration::from_secs(120),
    );
    let elapsed = started.elapsed();
    // Not before the timeout; and by the server (the client would have
    // given up only after 120 s).
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(120),
        "closed after {elapsed:?}: {resp:?}"
    );
    assert!(resp.is_empty() || status_of(&resp) == 408, "{resp}");
    // A complete request on a fresh connection is served.
    let resp = raw(
        &server,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    assert_eq!(status_of(&resp), 200, "{resp}");
}

#[cfg(unix)]
#[test]
fn sigterm_with_open_connections_exits_cleanly() {
    let (_tmp, mut server) = start_tiny("");
    // An idle keep-alive connection that has already been answered…
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = idle.read(&mut buf).unwrap();
    assert_eq!(status_of(&String::from_utf8_lossy(&buf[..n])), 200);
    // …and one whose request is half sent.
    let mut partial = TcpStream::connect(&addr).unwrap();
    partial.write_all(b"GET /health HTTP/1.1\r\n").unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The half-sent request holds the drain for at most its 8 s.
    let status = server.wait_exit(120).expect("no exit within 120 s");
    assert!(status.success(), "{status:?}");
    // The idle connection was closed by the server.
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert!(matches!(idle.read(&mut buf), Ok(0) | Err(_)));
}
