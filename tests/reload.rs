//! Reloading: a broken dataset never replaces the one being served.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn broken_reload_keeps_serving_then_a_fix_swaps() {
    let (tmp, server) = start_tiny("");
    let data = tmp.path().join("ds");
    let before = json(&server.get("/health").1);
    let v0 = before["data_version"].as_str().unwrap().to_string();

    // Only an admin may reload.
    assert_eq!(server.post("/api/admin/reload", None).0, 401);
    assert_eq!(server.post("/api/admin/reload", Some(PLANNER)).0, 403);
    assert_eq!(server.post("/api/admin/reload", Some("not-a-token")).0, 401);

    // Corrupt a layer: 422 listing the problem, old data still served.
    std::fs::write(
        data.join("hazard_sources.geojson"),
        b"{\"type\":\"FeatureCollection\",\"features\":[",
    )
    .unwrap();
    let (status, body) = server.post("/api/admin/reload", Some(ADMIN));
    assert_eq!(status, 422, "{body}");
    let refused = json(&body);
    let errors = refused["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["file"] == "hazard_sources.geojson"),
        "{body}"
    );
    let during = json(&server.get("/health").1);
    assert_eq!(during["data_version"], v0.as_str());
    assert_eq!(during["counts"], before["counts"]);
    assert!(
        during["last_reload_error"]["first"]
            .as_str()
            .unwrap()
            .contains("hazard_sources.geojson")
    );

    // Fix it with different content: swapped, error cleared.
    let fixed = hazards_geojson().replace("\"grade\":2", "\"grade\":1");
    std::fs::write(data.join("hazard_sources.geojson"), fixed).unwrap();
    let (status, body) = server.post("/api/admin/reload", Some(ADMIN));
    assert_eq!(status, 200, "{body}");
    let after = json(&server.get("/health").1);
    assert_ne!(after["data_version"], v0.as_str());
    assert!(after.get("last_reload_error").is_none());

    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("riskmap_reloads_total{outcome=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("riskmap_reloads_total{outcome=\"refused\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("riskmap_http_requests_total{route=\"/health\",status=\"200\"}"),
        "{metrics}"
    );
}

/// The tiny fixture's hazard sources plus one more (a valid variant
/// with different counts).
fn two_hazards_geojson(grade: u8) -> String {
    let second = format!(
        "{{\"type\":\"Feature\",\"properties\":{{\"id\":\"HS-3\",\"name\":\"危化仓库\",\"enterprise_id\":\"E3\",\"grade\":{grade},\"substances\":\"甲苯\",\"monitored\":false}},\"geometry\":{{\"type\":\"Point\",\"coordinates\":[118.605,24.91]}}}}"
    );
    let base = hazards_geojson();
    let end = base.rfind("]}").unwrap();
    format!("{},{second}{}", &base[..end], &base[end..])
}

/// A counter's value in a Prometheus text exposition.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Polls `/health` until `pred` holds (or `secs` pass); returns the last body.
fn wait_health(server: &Server, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let h = json(&server.get("/health").1);
        if pred(&h) || std::time::Instant::now() > deadline {
            return h;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Writes `bytes` to `path` the way a slow copy does: truncate, then
/// chunks with pauses. Returns the longest gap between two writes as it
/// happened (a loaded machine may stretch the pauses).
fn slow_copy(
    path: &std::path::Path,
    bytes: &[u8],
    chunk: usize,
    pause_ms: u64,
) -> std::time::Duration {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let mut last = std::time::Instant::now();
    let mut longest = std::time::Duration::ZERO;
    for part in bytes.chunks(chunk) {
        longest = longest.max(last.elapsed());
        f.write_all(part).unwrap();
        f.flush().unwrap();
        f.sync_data().unwrap();
        last = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(pause_ms));
    }
    longest
}

#[test]
fn watcher_reloads_once_after_a_slow_copy_and_keeps_old_data_on_corruption() {
    let (tmp, server) = start_tiny("watch = true\nwatch_debounce_ms = 1500\n");
    let data = tmp.path().join("ds");
    let v0 = json(&server.get("/health").1)["data_version"]
        .as_str()
        .unwrap()
        .to_string();

    // A non-atomic copy: 8 chunks, 150 ms apart (debounce 1.5 s). Every
    // prefix of the file but the last is invalid GeoJSON.
    let path = data.join("hazard_sources.geojson");
    let new = two_hazards_geojson(3);
    let longest_gap = slow_copy(&path, new.as_bytes(), new.len() / 8 + 1, 150);
    // Every write was less than a debounce after the previous one: the
    // watcher must have waited for the end of the copy.
    let coalesced = longest_gap < std::time::Duration::from_millis(1500);
    let h1 = wait_health(&server, 60, |h| {
        h["counts"]["hazard_sources"] == 3 && h.get("last_reload_error").is_none()
    });
    assert_ne!(h1["data_version"], v0.as_str(), "no reload: {h1}");
    assert_eq!(h1["counts"]["hazard_sources"], 3, "{h1}");
    assert!(h1.get("last_reload_error").is_none(), "{h1}");
    let m = server.get("/metrics").1;
    let ok_after_copy = metric(&m, "riskmap_reloads_total{outcome=\"ok\"}").unwrap_or(0.0);
    let refused_after_copy =
        metric(&m, "riskmap_reloads_total{outcome=\"refused\"}").unwrap_or(-1.0);
    if coalesced {
        assert_eq!(ok_after_copy, 1.0, "{m}");
        assert_eq!(refused_after_copy, 0.0, "{m}");
    } else {
        eprintln!("the copy paused {longest_gap:?} (> the debounce): not checking coalescing");
    }
    let v1 = h1["data_version"].as_str().unwrap().to_string();
    // The OGC API serves the new content too.
    let items = json(
        &server
            .get_with("/ogc/collections/hazard_sources/items", PLANNER)
            .1,
    );
    assert_eq!(items["numberMatched"], 3, "{items}");

    // Corrupt the file: refused, old version and counts still served, the
    // error visible in /health.
    std::fs::write(&path, &new.as_bytes()[..new.len() / 2]).unwrap();
    let h2 = wait_health(&server, 60, |h| h.get("last_reload_error").is_some());
    assert_eq!(h2["data_version"], v1.as_str(), "{h2}");
    assert_eq!(h2["counts"], h1["counts"], "{h2}");
    let first = h2["last_reload_error"]["first"].as_str().unwrap_or("");
    assert!(first.contains("hazard_sources.geojson"), "{h2}");
    // One more refusal, and no reload in between: the copy was read once.
    let m = server.get("/metrics").1;
    assert_eq!(
        metric(&m, "riskmap_reloads_total{outcome=\"refused\"}"),
        Some(refused_after_copy + 1.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "riskmap_reloads_total{outcome=\"ok\"}"),
        Some(ok_after_copy),
        "{m}"
    );

    // The next change is picked up: fixed data, new version, error cleared.
    std::fs::write(&path, two_hazards_geojson(1)).unwrap();
    let h3 = wait_health(&server, 60, |h| h.get("last_reload_error").is_none());
    assert!(h3.get("last_reload_error").is_none(), "{h3}");
    assert_ne!(h3["data_version"], v1.as_str());
    assert_ne!(h3["data_version"], v0.as_str());
}

#[test]
fn without_watch_file_changes_are_not_picked_up() {
    let (tmp, server) = start_tiny("watch_debounce_ms = 100\n");
    let data = tmp.path().join("ds");
    let v0 = json(&server.get("/health").1)["data_version"].clone();
    std::fs::write(data.join("hazard_sources.geojson"), two_hazards_geojson(3)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let h = json(&server.get("/health").1);
    assert_eq!(h["data_version"], v0);
    assert_eq!(h["counts"]["hazard_sources"], 2);
}

/// Web Mercator tile of a lon/lat at zoom `z`.
fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    (x as u32, y as u32)
}

#[test]
fn two_hundred_connections_during_reloads_see_no_5xx_and_consistent_data() {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Barrier, Mutex};

    const CLIENTS: usize = 200;
    let (tmp, server) = start_tiny("");
    let data = tmp.path().join("ds");
    let base = server.base.clone();
    let path = data.join("hazard_sources.geojson");

    // Two valid variants with different hazard counts; learn their versions.
    let variants = [hazards_geojson(), two_hazards_geojson(3)];
    let mut expected: HashMap<String, u64> = HashMap::new();
    for (i, v) in variants.iter().enumerate().rev() {
        std::fs::write(&path, v).unwrap();
        let (status, body) = server.post("/api/admin/reload", Some(ADMIN));
        assert_eq!(status, 200, "{body}");
        let r = json(&body);
        assert_eq!(r["counts"]["hazard_sources"], i as u64 + 2);
        expected.insert(
            r["data_version"].as_str().unwrap().to_string(),
            i as u64 + 2,
        );
    }
    let expected = Arc::new(expected);

    let (tx, ty) = tile_of(118.59, 24.91, 14);
    let paths: Arc<Vec<String>> = Arc::new(vec![
        "/health".into(),
        format!("/tiles/14/{tx}/{ty}.mvt"),
        "/tiles/10/0/0.mvt".into(),
        "/ogc/collections/hazard_sources/items?limit=50".into(),
        "/ogc/collections/cells/items?bbox=118.5,24.8,118.7,25.0".into(),
        "/api/ranking?level=cell".into(),
        "/api/cells/350502001001".into(),
    ]);
    let stop = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(CLIENTS + 1));
    let requests = Arc::new(AtomicU64::new(0));
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut handles = Vec::new();
    for c in 0..CLIENTS {
        let (base, paths, stop, barrier, requests, failures, expected) = (
            base.clone(),
            paths.clone(),
            stop.clone(),
            barrier.clone(),
            requests.clone(),
            failures.clone(),
            expected.clone(),
        );
        handles.push(
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    // One agent per client: its own keep-alive connection.
                    let agent = ureq::AgentBuilder::new()
                        .timeout(std::time::Duration::from_secs(60))
                        .build();
                    let fail = |m: String| failures.lock().unwrap().push(m);
                    let mut i = c;
                    let mut waited = false;
                    loop {
                        let p = &paths[i % paths.len()];
                        i += 1;
                        let mut req = agent.get(&format!("{base}{p}"));
                        if p.starts_with("/api/cells") {
                            req = req.set("Authorization", &format!("Bearer {GRID_MANAGER}"));
                        } else if p.starts_with("/ogc/collections/hazard_sources") {
                            req = req.set("Authorization", &format!("Bearer {PLANNER}"));
                        }
                        let (status, body) = match req.call() {
                            Ok(r) => (r.status(), {
                                let mut b = Vec::new();
                                let _ = std::io::Read::read_to_end(&mut r.into_reader(), &mut b);
                                b
                            }),
                            Err(ureq::Error::Status(s, r)) => {
                                (s, r.into_string().unwrap_or_default().into_bytes())
                            }
                            Err(e) => {
                                fail(format!("{p}: {e}"));
                                (0, Vec::new())
                            }
                        };
                        requests.fetch_add(1, Ordering::Relaxed);
                        if !(200..300).contains(&status) {
                            fail(format!("{p}: {status} {}", String::from_utf8_lossy(&body)));
                        } else if p == "/health" {
                            let h: Value = serde_json::from_slice(&body).unwrap_or_default();
                            let v = h["data_version"].as_str().unwrap_or("");
                            let n = h["counts"]["hazard_sources"].as_u64();
                            if expected.get(v).copied() != n {
                                fail(format!("inconsistent /health: {h}"));
                            }
                        } else if p.starts_with("/ogc/collections/hazard_sources") {
                            let v: Value = serde_json::from_slice(&body).unwrap_or_default();
                            let matched = v["numberMatched"].as_u64().unwrap_or(0);
                            let returned = v["features"].as_array().map_or(0, |f| f.len());
                            if !(2..=3).contains(&matched) || matched != returned as u64 {
                                fail(format!("inconsistent items: {matched} vs {returned}"));
                            }
                        }
                        if !waited {
                            // Every client holds an open connection before reloads start.
                            barrier.wait();
                            waited = true;
                        }
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                    }
                })
                .unwrap(),
        );
    }
    barrier.wait();
    let mut outcomes = Vec::new();
    // Valid, corrupt, the other valid, … while the clients keep asking.
    let corrupt = b"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":";
    for round in 0..12 {
        match round % 3 {
            0 => std::fs::write(&path, &variants[0]).unwrap(),
            1 => std::fs::write(&path, corrupt).unwrap(),
            _ => std::fs::write(&path, &variants[1]).unwrap(),
        }
        let (status, _) = server.post("/api/admin/reload", Some(ADMIN));
        outcomes.push(status);
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failures of {} requests, e.g. {:?}",
        failures.len(),
        requests.load(Ordering::Relaxed),
        &failures[..failures.len().min(5)]
    );
    assert!(requests.load(Ordering::Relaxed) >= 2 * CLIENTS as u64);
    assert_eq!(
        outcomes,
        (0..12)
            .map(|r| if r % 3 == 1 { 422 } else { 200 })
            .collect::<Vec<_>>()
    );
}
