//! 监测预警 against the real binary: worked example 7 of RISK_MODEL v2
//! (post the alarm, acknowledge, clear), idempotent and conflicting
//! repeats, all-or-nothing batches naming the bad line and field, roles,
//! scope (lists and events), dispatch to a hidden danger, and kill -9.

mod common;

use common::{ADMIN, GRID_MANAGER, PLANNER, Server, json};
use riskmap::crs::metric::LocalProjection;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

const CONFIG: &str = "[risk]\nas_of = \"2026-06-15\"\n";
const INGEST: &str = "test-ingest-9d1c";
/// The cell of worked example 7 (in the grid manager's village 金山社区).
const CELL: &str = "350502001001001";
/// The cell east of it, where the alarm's sensor S-1 is (in scope).
const EAST: &str = "350502001001002";
/// A cell in another village, out of the grid manager's scope.
const OTHER: &str = "350502001002001";
const X0: f64 = 118.58;
const Y0: f64 = 24.90;
const SIDE: f64 = 0.01;

/// A point `metres` east of the example cell, at its middle latitude.
fn east_of_cell(metres: f64) -> (f64, f64) {
    let y = Y0 + SIDE / 2.0;
    let (kx, _) = LocalProjection::new(geo::Point::new(X0 + SIDE, y)).metres_per_degree();
    (X0 + SIDE + metres / kx, y)
}

fn square(code: &str, parent: &str, level: &str, x: f64) -> String {
    rect(code, parent, level, x, SIDE)
}

fn rect(code: &str, parent: &str, level: &str, x: f64, width: f64) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"code":"{code}","name":"{code}","level":"{level}","parent_code":"{parent}"}},"geometry":{{"type":"Polygon","coordinates":[[[{x},{Y0}],[{x2},{Y0}],[{x2},{y2}],[{x},{y2}],[{x},{Y0}]]]}}}}"#,
        x2 = x + width,
        y2 = Y0 + SIDE
    )
}

/// Three unit cells of equal (zero) density, so V = 1 in all; a grade-1
/// monitored source 1,500 m east of the first (example 2: S = 20.0);
/// sensors: S-1 (gas) 200 m east of it, S-2 watching the source, S-3 in
/// the other cell.
fn write_dataset(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let far = X0 + 0.06;
    let grid = [
        rect("350502001", "350502", "town", X0, far + SIDE - X0),
        rect("350502001001", "350502001", "village", X0, 2.0 * SIDE),
        square(CELL, "350502001001", "cell", X0),
        square(EAST, "350502001001", "cell", X0 + SIDE),
        square("350502001002", "350502001", "village", far),
        square(OTHER, "350502001002", "cell", far),
    ];
    std::fs::write(
        dir.join("grid_cells.geojson"),
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            grid.join(",")
        ),
    )
    .unwrap();
    let (sx, sy) = east_of_cell(1500.0);
    std::fs::write(
        dir.join("hazard_sources.csv"),
        format!("id,name,grade,substances,monitored,lon,lat\nHS-0007,液化气储罐区,1,液化石油气,true,{sx},{sy}\n"),
    )
    .unwrap();
    let (ax, ay) = east_of_cell(200.0);
    std::fs::write(
        dir.join("sensors.csv"),
        format!(
            "id,kind,watches,lon,lat\nS-1,可燃气体,,{ax},{ay}\nS-2,pressure,HS-0007,{sx},{sy}\nS-3,gas,,{},{}\n",
            far + 0.005,
            Y0 + 0.005
        ),
    )
    .unwrap();
}

fn start() -> (tempfile::TempDir, Server) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_dataset(&data);
    common::install_demo_tokens_with_ingest(tmp.path(), INGEST);
    std::fs::write(tmp.path().join("riskmap.toml"), CONFIG).unwrap();
    let server = Server::start(tmp.path(), &data, &[]);
    (tmp, server)
}

fn send(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut req = ureq::request(method, &format!("{}{}", server.base, path));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let res = if method == "GET" {
        req.call()
    } else {
        req.set("Content-Type", "application/x-ndjson")
            .send_string(body)
    };
    match res {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{method} {path}: {e}"),
    }
}

fn post_alarms(server: &Server, token: &str, body: &str) -> (u16, Value) {
    let (s, b) = send(server, "POST", "/api/alarms", Some(token), body);
    (s, serde_json::from_str(&b).unwrap_or(Value::Null))
}

fn cell(server: &Server, code: &str) -> Value {
    let (s, b) = server.get_with(&format!("/api/cells/{code}"), PLANNER);
    assert_eq!(s, 200, "{b}");
    json(&b)
}

fn alarm_line(id: &str, sensor: &str, level: u8) -> String {
    format!(
        r#"{{"id":"{id}","sensor_id":"{sensor}","level":{level},"value":25.0,"threshold":20.0,"started_at":"2026-06-15T08:00:00+08:00"}}"#
    )
}

fn alarm_ids(server: &Server, token: &str) -> Vec<String> {
    let (s, b) = server.get_with("/api/alarms", token);
    assert_eq!(s, 200, "{b}");
    json(&b)["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// The hazard source's unrounded contribution to the example cell.
fn source_contribution(c: &Value) -> f64 {
    c["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "HS-0007")
        .unwrap()["contribution"]
        .as_f64()
        .unwrap()
}

#[test]
fn worked_example_7_through_the_binary_and_kill_9() {
    let (tmp, server) = start();
    let data = tmp.path().join("ds");
    let before = cell(&server, CELL);
    assert_eq!(before["risk_score"], 20.0, "example 2: {before}");
    let source_before = source_contribution(&before);

    let line = alarm_line("ALM-0001", "S-1", 1);
    let (s, b) = post_alarms(&server, INGEST, &line);
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["accepted"], 1);
    let rescored: Vec<&str> = b["rescored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert!(
        rescored.contains(&CELL) && !rescored.contains(&OTHER),
        "{rescored:?}"
    );
    let raised = cell(&server, CELL);
    assert_eq!(raised["risk_score"], 71.2, "{raised}");
    assert_eq!(raised["risk_level"], "high");
    let top = &raised["contributions"][0];
    assert_eq!(top["id"], "ALM-0001");
    assert_eq!(top["layer"], "alarms");
    assert!(
        (top["contribution"].as_f64().unwrap() - 58.44).abs() < 0.005,
        "{top}"
    );
    let label = top["label"].as_str().unwrap();
    assert!(
        label.starts_with("ALM-0001 一级 可燃气体 200 m → M +58.4"),
        "{label}"
    );
    assert!((source_contribution(&raised) - 12.76).abs() < 0.005);

    // The same alarm again: nothing changes; other content: 409.
    let version = raised["data_version"].clone();
    let (s, b) = post_alarms(&server, INGEST, &line);
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["accepted"].as_u64(), b["unchanged"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(cell(&server, CELL)["data_version"], version);
    let (s, b) = post_alarms(&server, INGEST, &alarm_line("ALM-0001", "S-1", 2));
    assert_eq!(s, 409, "{b}");

    // Acknowledged: m = 32, S = 45.6.
    let (s, b) = send(
        &server,
        "POST",
        "/api/alarms/ALM-0001/ack",
        Some(GRID_MANAGER),
        "",
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(json(&b)["properties"]["status"], "acknowledged");
    assert_eq!(cell(&server, CELL)["risk_score"], 45.6);
    let (s, _) = send(
        &server,
        "POST",
        "/api/alarms/ALM-0001/ack",
        Some(GRID_MANAGER),
        "",
    );
    assert_eq!(s, 409, "acknowledged twice");

    // Cleared: the score is the one before the alarm, bit for bit.
    let (s, b) = send(
        &server,
        "POST",
        "/api/alarms/ALM-0001/clear",
        Some(PLANNER),
        "",
    );
    assert_eq!(s, 200, "{b}");
    let cleared = cell(&server, CELL);
    assert_eq!(cleared["risk_score"], before["risk_score"]);
    assert_eq!(
        source_contribution(&cleared).to_bits(),
        source_before.to_bits()
    );
    assert_eq!(cleared["contributions"].as_array().unwrap().len(), 1);

    // kill -9 after the answers: the alarm and its state are kept.
    drop(server);
    let server = Server::start(tmp.path(), &data, &[]);
    let (s, b) = server.get_with("/api/alarms?active=false", PLANNER);
    assert_eq!(s, 200, "{b}");
    let fc = json(&b);
    assert_eq!(fc["features"][0]["id"], "ALM-0001");
    assert_eq!(fc["features"][0]["properties"]["status"], "cleared");
    let again = cell(&server, CELL);
    assert_eq!(
        source_contribution(&again).to_bits(),
        source_before.to_bits()
    );
    // A repeat of the first posting after the restart still changes nothing.
    assert_eq!(post_alarms(&server, INGEST, &line).0, 200);
}

#[test]
fn a_watching_sensor_lifts_the_monitored_discount_until_acknowledged() {
    let (_tmp, server) = start();
    // Level 4 at the source: it reaches no cell (100 m, the source is
    // 1,500 m away), but its sensor watches HS-0007: h = 25 instead of 20.
    let (s, b) = post_alarms(&server, INGEST, &alarm_line("ALM-W", "S-2", 4));
    assert_eq!(s, 201, "{b}");
    assert_eq!(cell(&server, CELL)["risk_score"], 25.0);
    send(&server, "POST", "/api/alarms/ALM-W/ack", Some(PLANNER), "");
    assert_eq!(cell(&server, CELL)["risk_score"], 20.0);
}

#[test]
fn roles_and_malformed_batches() {
    let (_tmp, server) = start();
    let line = alarm_line("ALM-R", "S-1", 2);
    assert_eq!(post_alarms(&server, PLANNER, &line).0, 403);
    assert_eq!(post_alarms(&server, GRID_MANAGER, &line).0, 403);
    assert_eq!(send(&server, "POST", "/api/alarms", None, &line).0, 401);
    let (s, _) = server.get_with(&format!("/api/cells/{CELL}"), INGEST);
    assert_eq!(s, 403, "an ingest token reads no cells");
    assert_eq!(server.get_with("/api/alarms", INGEST).0, 403);

    // A bad JSON line 5,001 in a long batch: nothing applied.
    let mut batch: Vec<String> = (0..5000)
        .map(|i| alarm_line(&format!("B-{i}"), "S-1", 3))
        .collect();
    batch.push("{\"id\":\"B-bad\",".into());
    let (s, b) = post_alarms(&server, INGEST, &batch.join("\n"));
    assert_eq!(s, 400, "{b}");
    assert!(
        b["error"].to_string().contains("line 5001") || b.to_string().contains("line 5001"),
        "{b}"
    );
    for (bad, field) in [
        (alarm_line("X-1", "S-1", 7), "level"),
        (alarm_line("X-2", "S-9", 1), "sensor_id"),
        (
            r#"{"id":"X-3","lon":"NaN","lat":24.9,"level":1,"started_at":"2026-06-15T08:00:00Z"}"#
                .to_string(),
            "lon",
        ),
        (
            r#"{"id":"X-4","lon":NaN,"lat":24.9,"level":1,"started_at":"2026-06-15T08:00:00Z"}"#
                .to_string(),
            "line 2",
        ),
    ] {
        let body = format!("{}\n{bad}", alarm_line("OK-1", "S-1", 3));
        let (s, b) = post_alarms(&server, INGEST, &body);
        assert_eq!(s, 400, "{bad}: {b}");
        let text = b.to_string();
        assert!(
            text.contains("line 2") && text.contains(field),
            "{field}: {text}"
        );
    }
    assert!(alarm_ids(&server, PLANNER).is_empty(), "all or nothing");
    assert_eq!(server.get("/health").0, 200);

    // The contract's largest batch, 10,000 alarms (more than 1 MiB of
    // NDJSON), fits the default body limit; one alarm more is refused.
    let full: Vec<String> = (0..10_000)
        .map(|i| alarm_line(&format!("F-{i}"), "S-1", 4))
        .collect();
    let body = full.join("\n");
    assert!(body.len() > 1 << 20, "{} bytes", body.len());
    let (s, b) = post_alarms(&server, INGEST, &body);
    assert_eq!(s, 201, "{b}");
    assert_eq!(alarm_ids(&server, PLANNER).len(), 10_000);
    let over = format!("{body}\n{}", alarm_line("F-x", "S-1", 4));
    let (s, b) = post_alarms(&server, INGEST, &over);
    assert_eq!(s, 400, "{b}");

    // Body limits per route: that batch is over the 1 MiB of every other
    // route; a declared length over a route's limit is refused before
    // the body is read, a streamed body once it passes the limit, and the
    // 413 names the limit and its key.
    for (path, len, limit, key) in [
        (
            "/api/hidden-dangers",
            (1 << 20) + 1,
            "1048576",
            "max_body_bytes",
        ),
        (
            "/api/alarms",
            (4 << 20) + 1,
            "4194304",
            "max_alarm_body_bytes",
        ),
    ] {
        let (s, b) = declared_post(&server, path, len);
        assert_eq!(s, 413, "{path}: {b}");
        let text = json(&b)["description"].as_str().unwrap().to_string();
        assert!(text.contains(limit) && text.contains(key), "{path}: {text}");
    }
    let streamed = " ".repeat((1 << 20) + 100);
    let r = ureq::post(&format!("{}/api/hidden-dangers", server.base))
        .set("Authorization", &format!("Bearer {ADMIN}"))
        .set("Content-Type", "application/json")
        .send(streamed.as_bytes());
    let Err(ureq::Error::Status(413, r)) = r else {
        panic!("a streamed 1 MiB body: {r:?}");
    };
    let text = json(&r.into_string().unwrap())["description"].to_string();
    assert!(text.contains("max_body_bytes"), "{text}");
    assert_eq!(server.get("/health").0, 200);
}

/// A POST declaring a `Content-Length` of `len` with no body sent: the
/// status and body of the answer.
fn declared_post(server: &Server, path: &str, len: usize) -> (u16, String) {
    use std::io::Read;
    let addr = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

fn subscribe(server: &Server, token: &str) -> mpsc::Receiver<(String, Value)> {
    let resp = ureq::get(&format!("{}/api/events", server.base))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut name = String::new();
        for line in BufReader::new(resp.into_reader()).lines() {
            let Ok(line) = line else { return };
            if let Some(n) = line.strip_prefix("event:") {
                name = n.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:") {
                let v: Value = serde_json::from_str(d.trim()).unwrap_or(Value::Null);
                if tx.send((name.clone(), v)).is_err() {
                    return;
                }
            }
        }
    });
    let (name, _) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(name, "hello");
    rx
}

#[test]
fn scope_events_and_dispatch() {
    let (tmp, server) = start();
    let gm = subscribe(&server, GRID_MANAGER);
    let planner = subscribe(&server, PLANNER);
    // Out of the grid manager's scope first, then in it.
    assert_eq!(
        post_alarms(&server, INGEST, &alarm_line("ALM-OUT", "S-3", 1)).0,
        201
    );
    assert_eq!(
        post_alarms(&server, ADMIN, &alarm_line("ALM-IN", "S-1", 2)).0,
        201
    );
    let alarms_seen = |rx: &mpsc::Receiver<(String, Value)>, until: &str| -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let (name, v) = rx.recv_timeout(Duration::from_secs(10)).expect("event");
            if name == "alarm" {
                let id = v["id"].as_str().unwrap().to_string();
                seen.push(id.clone());
                if id == until {
                    return seen;
                }
            }
        }
    };
    assert_eq!(alarms_seen(&gm, "ALM-IN"), ["ALM-IN"]);
    assert_eq!(alarms_seen(&planner, "ALM-IN"), ["ALM-OUT", "ALM-IN"]);
    assert_eq!(alarm_ids(&server, GRID_MANAGER), ["ALM-IN"]);
    assert_eq!(alarm_ids(&server, PLANNER), ["ALM-OUT", "ALM-IN"]);
    let (s, _) = send(
        &server,
        "POST",
        "/api/alarms/ALM-OUT/ack",
        Some(GRID_MANAGER),
        "",
    );
    assert_eq!(s, 403);
    let (s, b) = server.get_with(&format!("/api/cells/{CELL}"), GRID_MANAGER);
    assert_eq!(s, 200);
    assert!(!b.contains("ALM-OUT"));

    // 派单: a hidden danger linked to the alarm, in one journal entry.
    let lines_before = std::fs::read_to_string(tmp.path().join("ds/journal.jsonl"))
        .unwrap()
        .lines()
        .count();
    let (s, b) = send(
        &server,
        "POST",
        "/api/alarms/ALM-IN/dispatch",
        Some(GRID_MANAGER),
        "",
    );
    assert_eq!(s, 201, "{b}");
    let body = json(&b);
    let hd = body["properties"]["hidden_danger_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(body["hidden_danger"]["properties"]["source"], "alarm");
    let (s, b) = server.get_with(&format!("/api/hidden-dangers/{hd}"), GRID_MANAGER);
    assert_eq!(s, 200, "{b}");
    let d = json(&b);
    assert_eq!(d["properties"]["status"], "reported");
    assert_eq!(d["properties"]["cell"], EAST);
    let journal = std::fs::read_to_string(tmp.path().join("ds/journal.jsonl")).unwrap();
    assert_eq!(journal.lines().count(), lines_before + 1);
    let last: Value = serde_json::from_str(journal.lines().last().unwrap()).unwrap();
    assert_eq!(last["op"], "alarm.dispatch");
    assert_eq!(last["data"]["hidden_danger"]["id"], hd.as_str());
    let (s, _) = send(
        &server,
        "POST",
        "/api/alarms/ALM-IN/dispatch",
        Some(PLANNER),
        "",
    );
    assert_eq!(s, 409, "dispatched twice");
}

// ------------------------------------------- OGC collections and tiles

/// One alarm with its own start time and measured value.
fn alarm_at(id: &str, sensor: &str, level: u8, started_at: &str, value: &str) -> String {
    format!(
        r#"{{"id":"{id}","sensor_id":"{sensor}","level":{level},"value":{value},"threshold":20.0,"started_at":"{started_at}"}}"#
    )
}

/// GET with an optional token: status, ETag and body.
fn get_tagged(server: &Server, path: &str, token: Option<&str>) -> (u16, Option<String>, String) {
    let mut req = ureq::get(&format!("{}{path}", server.base));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    match req.call() {
        Ok(r) => (
            r.status(),
            r.header("etag").map(str::to_string),
            r.into_string().unwrap(),
        ),
        Err(ureq::Error::Status(s, r)) => (s, None, r.into_string().unwrap_or_default()),
        Err(e) => panic!("GET {path}: {e}"),
    }
}

/// The feature ids of an OGC items page (200 expected).
fn ogc_ids(server: &Server, collection: &str, query: &str, token: &str) -> Vec<String> {
    let path = format!("/ogc/collections/{collection}/items?limit=1000{query}");
    let (s, _, b) = get_tagged(server, &path, Some(token));
    assert_eq!(s, 200, "{path}: {b}");
    let v = json(&b);
    let ids: Vec<String> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        v["numberMatched"].as_u64(),
        Some(ids.len() as u64),
        "{path}"
    );
    ids
}

/// The tile of zoom `z` holding a point.
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let phi = lat.to_radians();
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    (x.floor() as u32, y.floor() as u32)
}

/// A tile as a caller sees it: its ETag and, per layer, the `id`
/// property of each feature.
fn tile_ids(
    server: &Server,
    token: Option<&str>,
    (z, x, y): (u8, u32, u32),
) -> (String, std::collections::BTreeMap<String, Vec<String>>) {
    use geozero::mvt::{Message, Tile};
    let mut req = ureq::get(&format!("{}/tiles/{z}/{x}/{y}.mvt", server.base));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let resp = req.call().unwrap();
    let etag = resp.header("etag").unwrap_or("").to_string();
    let gzipped = resp.header("content-encoding") == Some("gzip");
    let status = resp.status();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).unwrap();
    if status == 204 || body.is_empty() {
        return (etag, Default::default());
    }
    if gzipped {
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut plain)
            .unwrap();
        body = plain;
    }
    let tile = Tile::decode(&body[..]).expect("valid MVT");
    let layers = tile
        .layers
        .iter()
        .map(|l| {
            let ids = l
                .features
                .iter()
                .filter_map(|f| {
                    f.tags
                        .chunks(2)
                        .find(|p| l.keys[p[0] as usize] == "id")
                        .and_then(|p| l.values[p[1] as usize].string_value.clone())
                })
                .collect();
            (l.name.clone(), ids)
        })
        .collect();
    (etag, layers)
}

/// The private `sensors` and `alarms` OGC collections and tile layers: a
/// token needed, a grid manager's scope (ALM-OUT lies outside it), every
/// field queryable, bbox and datetime, posted values exact, and writes seen
/// at once (the collection's and the tile's ETags change).
#[test]
fn sensors_and_alarms_in_ogc_and_tiles() {
    let (_tmp, server) = start();
    // A value serde_json reads 1 ULP off without `float_roundtrip`.
    let value = "0.083575876580499574";
    let batch = [
        alarm_at("ALM-OUT", "S-3", 1, "2026-06-14T08:00:00Z", "31.5"),
        alarm_at("ALM-IN", "S-1", 2, "2026-06-15T08:00:00+08:00", value),
    ]
    .join("\n");
    assert_eq!(post_alarms(&server, INGEST, &batch).0, 201);

    // Anonymous callers: 401 and no private collection or tile layer.
    for c in ["alarms", "sensors"] {
        for p in ["", "/items", "/items/ALM-IN", "/queryables"] {
            let (s, _, b) = get_tagged(&server, &format!("/ogc/collections/{c}{p}"), None);
            assert_eq!(s, 401, "{c}{p}: {b}");
        }
    }
    let (_, _, b) = get_tagged(&server, "/ogc/collections", None);
    assert!(
        !b.contains("\"alarms\"") && !b.contains("\"sensors\""),
        "{b}"
    );
    let (ax, ay) = east_of_cell(200.0);
    let (tx, ty) = tile_of(ax, ay, 12);
    assert_eq!(
        tile_of(X0 + 0.065, Y0 + 0.005, 12),
        (tx, ty),
        "one tile holds both"
    );
    let (_, anon) = tile_ids(&server, None, (12, tx, ty));
    assert!(anon.contains_key("cells"), "{anon:?}");
    assert!(!anon.contains_key("alarms") && !anon.contains_key("sensors"));

    // A planner sees every alarm and sensor; the grid manager only those in
    // its village (S-2 lies outside every cell: planners only).
    assert_eq!(
        ogc_ids(&server, "alarms", "", PLANNER),
        ["ALM-OUT", "ALM-IN"]
    );
    assert_eq!(ogc_ids(&server, "alarms", "", GRID_MANAGER), ["ALM-IN"]);
    assert_eq!(
        ogc_ids(&server, "sensors", "", PLANNER),
        ["S-1", "S-2", "S-3"]
    );
    assert_eq!(ogc_ids(&server, "sensors", "", GRID_MANAGER), ["S-1"]);
    let (s, _, _) = get_tagged(
        &server,
        "/ogc/collections/alarms/items/ALM-OUT",
        Some(GRID_MANAGER),
    );
    assert_eq!(s, 403);
    let far = format!("&bbox={},{},{},{}", X0 + 0.06, Y0, X0 + 0.07, Y0 + SIDE);
    assert_eq!(ogc_ids(&server, "alarms", &far, PLANNER), ["ALM-OUT"]);
    assert!(ogc_ids(&server, "alarms", &far, GRID_MANAGER).is_empty());
    let whole = format!("&bbox={},{},{},{}", X0, Y0, X0 + 0.07, Y0 + SIDE);
    assert_eq!(ogc_ids(&server, "alarms", &whole, GRID_MANAGER), ["ALM-IN"]);
    assert_eq!(ogc_ids(&server, "sensors", &far, PLANNER), ["S-3"]);

    // Fields: level and status are queryable, datetime is the start time,
    // and the posted value comes back to the same bits.
    let (_, _, q) = get_tagged(&server, "/ogc/collections/alarms/queryables", Some(PLANNER));
    let q = json(&q);
    for p in [
        "level",
        "status",
        "kind",
        "value",
        "started_at",
        "dispatched",
    ] {
        assert!(q["properties"][p].is_object(), "{p}: {q}");
    }
    assert_eq!(q["properties"]["status"]["enum"][1], "acknowledged");
    assert_eq!(
        ogc_ids(&server, "alarms", "&filter=level%3D1", PLANNER),
        ["ALM-OUT"]
    );
    assert_eq!(
        ogc_ids(&server, "alarms", "&filter=level%3D1", GRID_MANAGER),
        Vec::<String>::new()
    );
    assert_eq!(
        ogc_ids(&server, "alarms", "&kind=gas&level=2", PLANNER),
        ["ALM-IN"]
    );
    assert_eq!(
        ogc_ids(&server, "alarms", "&datetime=2026-06-15", PLANNER),
        ["ALM-IN"]
    );
    assert_eq!(
        ogc_ids(
            &server,
            "alarms",
            "&datetime=../2026-06-14T23:59:59Z",
            PLANNER
        ),
        ["ALM-OUT"]
    );
    let want: f64 = value.parse().unwrap();
    let (_, _, b) = get_tagged(
        &server,
        "/ogc/collections/alarms/items/ALM-IN",
        Some(PLANNER),
    );
    let item = json(&b);
    assert_eq!(
        item["properties"]["value"].as_f64().map(f64::to_bits),
        Some(want.to_bits())
    );
    assert_eq!(item["properties"]["status"], "active");
    assert_eq!(item["properties"]["level"], 2);
    assert_eq!(item["properties"]["cell_code"], EAST);
    let (_, _, b) = get_tagged(&server, "/api/alarms", Some(PLANNER));
    let listed = json(&b)["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "ALM-IN")
        .unwrap()["properties"]["value"]
        .as_f64()
        .unwrap();
    assert_eq!(listed.to_bits(), want.to_bits());

    // Tiles: alarms from zoom 8, sensors from zoom 12, each by scope.
    let (_, planner) = tile_ids(&server, Some(PLANNER), (12, tx, ty));
    assert_eq!(planner["alarms"], ["ALM-OUT", "ALM-IN"]);
    assert_eq!(planner["sensors"], ["S-1", "S-2", "S-3"]);
    let (gm_tag, gm) = tile_ids(&server, Some(GRID_MANAGER), (12, tx, ty));
    assert_eq!(gm["alarms"], ["ALM-IN"]);
    assert_eq!(gm["sensors"], ["S-1"]);
    let (_, z8) = tile_ids(&server, Some(PLANNER), {
        let (x, y) = tile_of(ax, ay, 8);
        (8, x, y)
    });
    assert_eq!(z8["alarms"], ["ALM-OUT", "ALM-IN"]);
    assert!(!z8.contains_key("sensors"), "{z8:?}");

    // A posted alarm is in the collection and the tile at once; the ETags
    // of both change.
    let page = "/ogc/collections/alarms/items?limit=100";
    let (_, ogc_tag, _) = get_tagged(&server, page, Some(GRID_MANAGER));
    let ogc_tag = ogc_tag.expect("an ETag");
    let (planner_tag, _) = tile_ids(&server, Some(PLANNER), (12, tx, ty));
    assert_eq!(
        post_alarms(&server, INGEST, &alarm_line("ALM-NEW", "S-1", 1)).0,
        201
    );
    assert_eq!(
        ogc_ids(&server, "alarms", "", GRID_MANAGER),
        ["ALM-IN", "ALM-NEW"]
    );
    let (_, tag, _) = get_tagged(&server, page, Some(GRID_MANAGER));
    assert_ne!(tag.as_deref(), Some(ogc_tag.as_str()));
    let (tag, gm) = tile_ids(&server, Some(GRID_MANAGER), (12, tx, ty));
    assert_ne!(tag, gm_tag);
    assert_eq!(gm["alarms"], ["ALM-IN", "ALM-NEW"]);
    let (tag, _) = tile_ids(&server, Some(PLANNER), (12, tx, ty));
    assert_ne!(tag, planner_tag);

    // Acknowledged, then cleared: the status follows; a cleared alarm
    // leaves the tiles but stays in the collection.
    let (s, _) = send(
        &server,
        "POST",
        "/api/alarms/ALM-NEW/ack",
        Some(GRID_MANAGER),
        "",
    );
    assert_eq!(s, 200);
    assert_eq!(
        ogc_ids(&server, "alarms", "&status=acknowledged", GRID_MANAGER),
        ["ALM-NEW"]
    );
    let (before, _) = tile_ids(&server, Some(GRID_MANAGER), (12, tx, ty));
    let (s, _) = send(
        &server,
        "POST",
        "/api/alarms/ALM-NEW/clear",
        Some(PLANNER),
        "",
    );
    assert_eq!(s, 200);
    assert_eq!(
        ogc_ids(
            &server,
            "alarms",
            "&filter=status%3D%27cleared%27",
            GRID_MANAGER
        ),
        ["ALM-NEW"]
    );
    let (after, gm) = tile_ids(&server, Some(GRID_MANAGER), (12, tx, ty));
    assert_ne!(before, after);
    assert_eq!(gm["alarms"], ["ALM-IN"]);
}
