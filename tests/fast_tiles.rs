//! The fast path for cached tiles against the full middleware stack, on
//! the real server: a tile asked twice is first built by the router (a
//! miss), then answered from the cache in front of it (a hit); a query
//! parameter the fast path does not read (`via=router`, which the tile
//! handler ignores) sends the same request through the router. Status,
//! every header line in order (but the values of `date` and
//! `x-request-id`) and body must be the same each way, for every caller,
//! encoding, filter and `If-None-Match`; what the router must refuse it
//! still refuses, and `/metrics` counts every answer.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// An `ingest` token added to the demo tokens.
const INGEST: &str = "test-ingest-fast-tiles";

/// One answer as it came over the wire.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: u16,
    /// Header lines in order, names lower-case.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The answer with the values that may differ from one answer to the
    /// next blanked: `date` and `x-request-id` (kept in their places).
    fn comparable(&self) -> Answer {
        let mut a = self.clone();
        for (k, v) in &mut a.headers {
            if k == "date" || k == "x-request-id" {
                v.clear();
            }
        }
        a
    }
}

/// `method target` with `headers` on a connection of its own, read to its
/// end (`Connection: close`).
fn exchange(server: &Server, method: &str, target: &str, headers: &[(&str, &str)]) -> Answer {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end: {}", String::from_utf8_lossy(&raw)));
    let text = String::from_utf8(raw[..end].to_vec()).unwrap();
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    let answer = Answer {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    };
    if let Some(n) = answer.header("content-length")
        && method != "HEAD"
    {
        assert_eq!(n.parse::<usize>().unwrap(), answer.body.len(), "{target}");
    }
    answer
}

fn get(server: &Server, target: &str, headers: &[(&str, &str)]) -> Answer {
    exchange(server, "GET", target, headers)
}

/// `target` with a parameter the fast path does not read: the router's.
fn via_router(target: &str) -> String {
    let sep = if target.contains('?') { '&' } else { '?' };
    format!("{target}{sep}via=router")
}

/// Serves the tiny dataset with the demo tokens, an ingest token and
/// `toml` as `riskmap.toml`.
fn start(toml: &str) -> (tempfile::TempDir, Server) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_tiny_dataset(&data);
    install_demo_tokens_with_ingest(tmp.path(), INGEST);
    std::fs::write(tmp.path().join("riskmap.toml"), toml).unwrap();
    let server = Server::start(tmp.path(), &data, &[]);
    (tmp, server)
}

/// The tile of zoom `z` holding a point (slippy-map formulas).
fn tile_at(lon: f64, lat: f64, z: u32) -> String {
    let n = f64::from(1u32 << z);
    let phi = lat.to_radians();
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    format!("/tiles/{z}/{}/{}.mvt", x.floor(), y.floor())
}

/// Tiles of the tiny dataset: over 金山 (enterprises E1 and E2, a hazard
/// source), over 笋浯 (E3), and one with nothing in it (204).
fn tiles() -> Vec<String> {
    vec![
        tile_at(118.585, 24.906, 14),
        tile_at(118.605, 24.91, 13),
        tile_at(118.595, 24.91, 9),
        tile_at(100.0, 10.0, 12),
    ]
}

fn basic(token: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("qgis:{token}"))
    )
}

/// `/metrics` as `name{labels}` → value.
fn metrics(server: &Server) -> BTreeMap<String, f64> {
    let (status, text) = server.get("/metrics");
    assert_eq!(status, 200);
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, key: &str) -> f64 {
    after.get(key).copied().unwrap_or(0.0) - before.get(key).copied().unwrap_or(0.0)
}

#[test]
fn cached_tiles_are_answered_as_the_router_answers_them() {
    let (_tmp, server) = start("");
    let planner = format!("Bearer {PLANNER}");
    let planner_basic = basic(PLANNER);
    let grid = format!("Bearer {GRID_MANAGER}");
    let callers: [(&str, Option<&str>); 4] = [
        ("anonymous", None),
        ("planner", Some(&planner)),
        ("planner (Basic)", Some(&planner_basic)),
        ("grid manager", Some(&grid)),
    ];
    let variants: [&[(&str, &str)]; 4] = [
        &[],
        &[("Accept-Encoding", "gzip")],
        &[("Origin", "http://example.org")],
        &[
            ("Accept-Encoding", "br;q=1.0, gzip;q=0.5"),
            ("Origin", "null"),
            ("X-Request-Id", "client-id-7"),
        ],
    ];
    let queries = [
        "",
        "?industry=gas,hazardous_chemicals&risk_level=major,high",
        "?hazard_grade=1,2",
        "?auth=required",
    ];
    let mut statuses = BTreeMap::<u16, usize>::new();
    for tile in tiles() {
        for (who, auth) in callers {
            for query in queries {
                for variant in variants {
                    let target = format!("{tile}{query}");
                    let mut headers = variant.to_vec();
                    if let Some(a) = auth {
                        headers.push(("Authorization", a));
                    }
                    let what = format!("{who} {target} {variant:?}");
                    let first = get(&server, &target, &headers);
                    let second = get(&server, &target, &headers);
                    let routed = get(&server, &via_router(&target), &headers);
                    assert_eq!(second.comparable(), first.comparable(), "{what}");
                    assert_eq!(second.comparable(), routed.comparable(), "{what}");
                    *statuses.entry(second.status).or_default() += 1;
                    if let Some(id) = variant
                        .iter()
                        .find(|(k, _)| *k == "X-Request-Id")
                        .map(|(_, v)| *v)
                    {
                        assert_eq!(second.header("x-request-id"), Some(id), "{what}");
                    }
                    let Some(tag) = second.header("etag").map(str::to_string) else {
                        assert_eq!(second.status, 401, "{what}");
                        continue;
                    };
                    for inm in [
                        tag.clone(),
                        format!("W/{tag}"),
                        format!("\"other\", {tag}"),
                        "*".to_string(),
                        "\"other\"".to_string(),
                    ] {
                        let mut revalidate = headers.clone();
                        revalidate.push(("If-None-Match", &inm));
                        let here = get(&server, &target, &revalidate);
                        let there = get(&server, &via_router(&target), &revalidate);
                        assert_eq!(here.comparable(), there.comparable(), "{what} {inm}");
                        let expected = if inm == "\"other\"" {
                            second.status
                        } else {
                            304
                        };
                        assert_eq!(here.status, expected, "{what} {inm}");
                    }
                }
            }
        }
    }
    // Every kind of answer was compared: tiles, empty tiles, 401.
    for status in [200, 204, 401] {
        assert!(
            statuses.get(&status).is_some_and(|n| *n > 0),
            "{statuses:?}"
        );
    }
}

/// A request the router refuses: target, headers, status.
type Refusal<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16);

#[test]
fn what_the_router_refuses_is_refused_on_a_cached_tile() {
    let (_tmp, server) = start("[limits]\nmax_uri_bytes = 200\nmax_header_bytes = 2048\n");
    let planner = format!("Bearer {PLANNER}");
    let tile = tiles()[0].clone();
    for auth in [None, Some(planner.as_str())] {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        let cached = get(&server, &tile, &headers);
        assert_eq!(
            get(&server, &tile, &headers).comparable(),
            cached.comparable()
        );
    }
    let ingest = format!("Bearer {INGEST}");
    let long = format!("{tile}?auth={}", "x".repeat(200));
    let pad = "p".repeat(2048);
    let refusals: [Refusal; 9] = [
        (&tile, vec![("Authorization", "Bearer not-a-token")], 401),
        (&tile, vec![("Authorization", "Token abc")], 401),
        (&tile, vec![("Authorization", &ingest)], 403),
        (&format!("{tile}?auth=required"), vec![], 401),
        (
            &format!("{tile}?industry=nonsense"),
            vec![("Authorization", &planner)],
            400,
        ),
        (&long, vec![("Authorization", &planner)], 414),
        (
            &tile,
            vec![("Authorization", &planner), ("X-Pad", &pad)],
            431,
        ),
        (
            &tile,
            vec![
                ("Authorization", &planner),
                ("Content-Length", "2000000000"),
            ],
            413,
        ),
        (
            &tile.replace(".mvt", ".png"),
            vec![("Authorization", &planner)],
            404,
        ),
    ];
    for (target, headers, status) in &refusals {
        let answer = get(&server, target, headers);
        assert_eq!(answer.status, *status, "{target} {headers:?}: {answer:?}");
        assert_eq!(
            answer.header("content-type"),
            Some("application/json"),
            "{target}"
        );
        let routed = get(&server, &via_router(target), headers);
        let (mut a, mut b) = (answer.comparable(), routed.comparable());
        if *status == 414 || *status == 431 {
            // The description counts the bytes (of the target, and of the
            // header fields with the request id the router adds).
            (a.body, b.body) = (Vec::new(), Vec::new());
        }
        assert_eq!(a, b, "{target}");
    }
    // At the edge of `max_header_bytes` (each field counts its name, value
    // and 4): 5 bytes under it, the request id the router adds takes the
    // request over it; with the client's own id, exactly at it is allowed.
    let addr = server.base.trim_start_matches("http://");
    let field = |name: &str, value: &str| name.len() + value.len() + 4;
    let fixed =
        field("host", addr) + field("connection", "close") + field("authorization", &planner);
    let under = "p".repeat(2048 - 5 - fixed - field("x-pad", ""));
    let answer = get(
        &server,
        &tile,
        &[("Authorization", &planner), ("X-Pad", &under)],
    );
    assert_eq!(answer.status, 431, "{answer:?}");
    let at = "p".repeat(2048 - fixed - field("x-pad", "") - field("x-request-id", "abc"));
    let answer = get(
        &server,
        &tile,
        &[
            ("Authorization", &planner),
            ("X-Pad", &at),
            ("X-Request-Id", "abc"),
        ],
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    // An unknown token that names a cached tile's tag is still 401.
    let cached = get(&server, &tile, &[("Authorization", &planner)]);
    let tag = cached.header("etag").unwrap();
    let answer = get(
        &server,
        &tile,
        &[
            ("Authorization", "Bearer not-a-token"),
            ("If-None-Match", tag),
        ],
    );
    assert_eq!(answer.status, 401);
    // HEAD and the preflight are the router's, as before.
    let head = exchange(&server, "HEAD", &tile, &[("Authorization", &planner)]);
    assert_eq!(head.status, cached.status);
    assert_eq!(head.header("etag"), cached.header("etag"));
    assert!(head.body.is_empty());
    let preflight = exchange(
        &server,
        "OPTIONS",
        &tile,
        &[
            ("Origin", "http://example.org"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
    );
    assert_eq!(preflight.status, 200);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn a_closed_server_refuses_anonymous_revalidation() {
    let (_tmp, open) = start("");
    let (_tmp2, closed) = start("public_access = false\n");
    let tile = tiles()[0].clone();
    // The same data: the anonymous tag of the open server is the closed one's.
    let tag = get(&open, &tile, &[]).header("etag").unwrap().to_string();
    for headers in [vec![], vec![("If-None-Match", tag.as_str())]] {
        let answer = get(&closed, &tile, &headers);
        assert_eq!(answer.status, 401, "{headers:?}");
    }
    let planner = format!("Bearer {PLANNER}");
    for _ in 0..2 {
        assert_eq!(
            get(&closed, &tile, &[("Authorization", &planner)]).status,
            200
        );
    }
}

#[test]
fn metrics_and_request_ids_count_fast_answers() {
    let (_tmp, server) = start("");
    let planner = format!("Bearer {PLANNER}");
    let auth = [("Authorization", planner.as_str())];
    let [full, _, _, empty] = <[String; 4]>::try_from(tiles()).unwrap();
    let route = "route=\"/tiles/{z}/{x}/{y}\"";
    let before = metrics(&server);
    // Two misses (router), then hits (fast path) and 304s.
    let first = get(&server, &full, &auth);
    assert_eq!(first.status, 200);
    assert_eq!(get(&server, &empty, &auth).status, 204);
    let tag = first.header("etag").unwrap().to_string();
    for _ in 0..3 {
        assert_eq!(get(&server, &full, &auth).status, 200);
        assert_eq!(get(&server, &empty, &auth).status, 204);
    }
    let revalidate = [("Authorization", planner.as_str()), ("If-None-Match", &tag)];
    for _ in 0..2 {
        assert_eq!(get(&server, &full, &revalidate).status, 304);
    }
    let after = metrics(&server);
    let count = |key: &str| delta(&before, &after, key);
    assert_eq!(
        count(&format!(
            "riskmap_http_requests_total{{{route},status=\"200\"}}"
        )),
        4.0
    );
    assert_eq!(
        count(&format!(
            "riskmap_http_requests_total{{{route},status=\"204\"}}"
        )),
        4.0
    );
    assert_eq!(
        count(&format!(
            "riskmap_http_requests_total{{{route},status=\"304\"}}"
        )),
        2.0
    );
    assert_eq!(
        count(&format!(
            "riskmap_http_request_duration_seconds_count{{{route}}}"
        )),
        10.0
    );
    assert_eq!(
        count(&format!(
            "riskmap_http_request_duration_seconds_bucket{{{route},le=\"+Inf\"}}"
        )),
        10.0
    );
    assert_eq!(
        count("riskmap_tile_cache_requests_total{result=\"miss\"}"),
        2.0
    );
    assert_eq!(
        count("riskmap_tile_cache_requests_total{result=\"hit\"}"),
        6.0
    );
    // Only /metrics itself is in flight.
    assert_eq!(after.get("riskmap_http_requests_in_flight"), Some(&1.0));
    // One counter of request ids, whichever way a request is answered.
    let ids: Vec<u64> = [
        get(&server, &full, &auth),
        get(&server, &via_router(&full), &auth),
        get(&server, &full, &auth),
        get(&server, "/health", &[]),
        get(&server, &full, &revalidate),
    ]
    .iter()
    .map(|a| u64::from_str_radix(a.header("x-request-id").unwrap(), 16).unwrap())
    .collect();
    for pair in ids.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "{ids:?}");
    }
}

#[test]
fn the_rate_limit_counts_fast_answers_and_refuses_once() {
    let (_tmp, server) = start("[limits]\nrate_per_second = 0.01\nburst = 3\n");
    let planner = format!("Bearer {PLANNER}");
    let auth = [("Authorization", planner.as_str())];
    let tile = tiles()[0].clone();
    // A miss and two hits spend the burst of three.
    for _ in 0..3 {
        assert_eq!(get(&server, &tile, &auth).status, 200);
    }
    let before = metrics(&server);
    let refused = get(&server, &tile, &auth);
    assert_eq!(refused.status, 429, "{refused:?}");
    assert!(refused.header("retry-after").is_some());
    assert_eq!(
        json(&String::from_utf8_lossy(&refused.body))["code"],
        "TooManyRequests"
    );
    let routed = get(&server, &via_router(&tile), &auth);
    assert_eq!(refused.comparable().status, routed.status);
    assert_eq!(
        refused
            .comparable()
            .headers
            .iter()
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>(),
        routed
            .comparable()
            .headers
            .iter()
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>()
    );
    let after = metrics(&server);
    assert_eq!(
        delta(
            &before,
            &after,
            "riskmap_http_rejected_total{reason=\"rate_limit\"}"
        ),
        2.0
    );
    // Another caller has a budget of its own.
    assert_eq!(get(&server, &tile, &[]).status, 200);
}
