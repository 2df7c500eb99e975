//! Clients that never read, idle connections and connection floods on the
//! real server: the write timeout resets a response nobody reads, streamed
//! pages are bounded, connections are capped per address and in total,
//! and everyone else is still answered.

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Polls `f` every 50 ms until it gives a value, for at most `secs`.
fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A grid of 100 × 100 unit cells (20 villages of 500) over the tiny
/// dataset's area.
fn write_big_dataset(dir: &std::path::Path) {
    write_tiny_dataset(dir);
    let size = 0.001;
    // Rings with 16 points a side: a page of 10,000 cells is ~20 MB, more
    // than the kernel buffers a never-reading client (up to 4 MiB a side).
    let rect = |x0: f64, y0: f64, x1: f64, y1: f64| {
        let mut ring = Vec::new();
        for (ax, ay, bx, by) in [
            (x0, y0, x1, y0),
            (x1, y0, x1, y1),
            (x1, y1, x0, y1),
            (x0, y1, x0, y0),
        ] {
            for i in 0..16 {
                let t = f64::from(i) / 16.0;
                ring.push(format!("[{},{}]", ax + (bx - ax) * t, ay + (by - ay) * t));
            }
        }
        ring.push(format!("[{x0},{y0}]"));
        format!("[[{}]]", ring.join(","))
    };
    let feature = |props: String, rings: String| {
        format!(
            "{{\"type\":\"Feature\",\"properties\":{{{props}}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":{rings}}}}}"
        )
    };
    let (x0, y0) = (118.58, 24.90);
    let mut features = vec![feature(
        "\"code\":\"350502001\",\"name\":\"海滨街道\",\"level\":\"town\",\"parent_code\":\"350502\"".into(),
        rect(x0, y0, x0 + 100.0 * size, y0 + 100.0 * size),
    )];
    for v in 0..20 {
        let village = format!("350502001{:03}", v + 1);
        let vy = y0 + f64::from(v * 5) * size;
        features.push(feature(
            format!("\"code\":\"{village}\",\"name\":\"村{v}\",\"level\":\"village\",\"parent_code\":\"350502001\""),
            rect(x0, vy, x0 + 100.0 * size, vy + 5.0 * size),
        ));
        for k in 0..500 {
            let (r, c) = (k / 100, k % 100);
            let (x, y) = (x0 + f64::from(c) * size, vy + f64::from(r) * size);
            features.push(feature(
                format!("\"code\":\"{village}{:03}\",\"name\":\"网格{v}-{k}\",\"level\":\"cell\",\"parent_code\":\"{village}\",\"population\":100", k + 1),
                rect(x, y, x + size, y + size),
            ));
        }
    }
    let grid = format!(
        "{{\"type\":\"FeatureCollection\",\"features\":[{}]}}",
        features.join(",")
    );
    std::fs::write(dir.join("grid_cells.geojson"), grid).unwrap();
}

/// Web Mercator tile of a lon/lat at zoom `z`.
fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    (x as u32, y as u32)
}

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

/// A counter of `/metrics`, 0 when absent.
fn rejected(server: &Server, reason: &str) -> u64 {
    let (_, text) = server.get("/metrics");
    let series = format!("riskmap_http_rejected_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&series)?.parse().ok())
        .unwrap_or(0)
}

/// The status code at the start of `bytes`, if a status line is there.
fn status_of(bytes: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(bytes);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[derive(Debug, PartialEq)]
enum Slow {
    /// The page is being sent (status 200 seen, left unread).
    Streaming,
    /// Answered 503 (bounded streams).
    Refused,
    /// Reset before its status line could be seen.
    Reset,
}

/// Waits for the first bytes of the answer on `s` without consuming them.
fn classify(s: &TcpStream) -> Slow {
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 16];
    wait_for(60, "a status line", || match s.peek(&mut buf) {
        Ok(n) if n >= 12 => match status_of(&buf[..n]) {
            Some(200) => Some(Slow::Streaming),
            Some(503) => Some(Slow::Refused),
            other => panic!("unexpected answer {other:?}"),
        },
        Ok(_) => None,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(e) if e.kind() == ErrorKind::ConnectionReset => Some(Slow::Reset),
        Err(e) => panic!("{e}"),
    })
}

/// Reads a whole small answer (until the server closes or 10 s pass).
fn read_small(mut s: TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&out);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")?
                    .trim()
                    .parse::<usize>()
                    .ok()
            });
            if len.is_some_and(|len| body.len() >= len) {
                break;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn clients_that_never_read_are_reset_and_do_not_stall_others() {
    const SLOW: usize = 8;
    const STREAMS: usize = 3;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_big_dataset(&data);
    std::fs::write(
        tmp.path().join("riskmap.toml"),
        format!(
            "[limits]\nmax_streaming_responses = {STREAMS}\nwrite_timeout_secs = 5\nheader_read_timeout_secs = 120\n"
        ),
    )
    .unwrap();
    let server = Server::start(tmp.path(), &data, &[]);
    let addr = addr(&server);

    // Clients asking for every cell and never reading a byte…
    let mut slow: Vec<TcpStream> = (0..SLOW)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(
                b"GET /ogc/collections/cells/items?limit=10000 HTTP/1.1\r\nHost: x\r\n\r\n",
            )
            .unwrap();
            s
        })
        .collect();
    // …and connections that send nothing at all.
    let idle: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();

    let kinds: Vec<Slow> = slow.iter().map(classify).collect();
    let streaming = kinds.iter().filter(|k| **k != Slow::Refused).count();
    let refused = kinds.iter().filter(|k| **k == Slow::Refused).count();
    assert!((1..=STREAMS).contains(&streaming), "{kinds:?}");
    assert_eq!(refused, SLOW - streaming, "{kinds:?}");

    // Everyone else is answered meanwhile: health, an uncached tile.
    assert_eq!(server.get("/health").0, 200);
    let (x, y) = tile_of(118.63, 24.95, 14);
    let (status, _) = server.get(&format!("/tiles/14/{x}/{y}.mvt"));
    assert!(status == 200 || status == 204, "tile: {status}");

    // The refused ones got a JSON 503 with Retry-After.
    let mut streams = Vec::new();
    for (s, kind) in slow.drain(..).zip(&kinds) {
        if *kind == Slow::Refused {
            let answer = read_small(s);
            let lower = answer.to_ascii_lowercase();
            assert!(lower.starts_with("http/1.1 503"), "{answer}");
            assert!(lower.contains("retry-after:"), "{answer}");
            assert!(lower.contains("application/json"), "{answer}");
            assert!(answer.contains("ServiceUnavailable"), "{answer}");
        } else {
            streams.push((s, kind));
        }
    }
    // The unread pages are dropped and their sockets reset by the server.
    for (s, kind) in &streams {
        if **kind == Slow::Reset {
            continue;
        }
        wait_for(60, "the server to reset an unread response", || {
            match s.take_error().unwrap() {
                Some(e) if e.kind() == ErrorKind::ConnectionReset => Some(()),
                Some(e) => panic!("{e}"),
                None => None,
            }
        });
    }
    assert!(rejected(&server, "write_timeout") >= streaming as u64);
    assert!(rejected(&server, "streams") >= refused as u64);
    // Their places are free again: pages are served.
    wait_for(60, "a page once the streams are freed", || {
        (server.get("/ogc/collections/cells/items?limit=5").0 == 200).then_some(())
    });
    drop(idle);
}

/// GET /health on a fresh connection; `None` when the connection was
/// refused (a 503 or closed without an answer).
fn health_on_new_connection(addr: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).unwrap();
    let _ = s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let answer = read_small(s);
    status_of(answer.as_bytes()).filter(|s| *s != 503)
}

/// `/metrics` once the server admits the test's connections again.
fn rejected_when_admitted(server: &Server, reason: &str) -> u64 {
    let addr = addr(server);
    wait_for(60, "a free connection", || health_on_new_connection(&addr));
    rejected(server, reason)
}

#[test]
fn connections_are_capped_per_address_unless_a_trusted_proxy_and_in_total() {
    let (_tmp, server) = start_tiny("[limits]\nmax_connections_per_client = 4\n");
    let addr = addr(&server);
    // Every one of four is admitted: a request on each is answered (once
    // the server has closed the start-up check's connection).
    let held = wait_for(30, "four admitted connections", || {
        let mut held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(&addr).unwrap()).collect();
        for s in held.iter_mut() {
            s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
        }
        let all = held.iter_mut().all(|s| {
            let mut buf = [0u8; 16];
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            s.read_exact(&mut buf).is_ok() && status_of(&buf) == Some(200)
        });
        all.then_some(held)
    });
    assert_eq!(health_on_new_connection(&addr), None);
    drop(held);
    assert!(rejected_when_admitted(&server, "connections_per_client") >= 1);

    // A trusted proxy is not capped per address, only in total.
    let (_tmp, proxied) = start_tiny(
        "trusted_proxies = [\"127.0.0.1\"]\n[limits]\nmax_connections_per_client = 2\nmax_connections = 6\n",
    );
    let addr = self::addr(&proxied);
    let held: Vec<TcpStream> = (0..5).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    // A sixth is admitted and kept open (answered on a kept-alive
    // connection: a probe that closes could still be counted when the
    // next connects).
    let sixth = wait_for(30, "a sixth connection admitted", || {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 16];
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        (s.read_exact(&mut buf).is_ok() && status_of(&buf) == Some(200)).then_some(s)
    });
    assert_eq!(health_on_new_connection(&addr), None);
    drop(sixth);
    drop(held);
    assert!(rejected_when_admitted(&proxied, "connections") >= 1);
}
