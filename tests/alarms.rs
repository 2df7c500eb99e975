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
    common::install_demo_tokens(tmp.path());
    let tokens = tmp.path().join("data/demo-tokens.toml");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&tokens)
        .unwrap();
    writeln!(
        f,
        "\n[[token]]\nname = \"platform\"\nrole = \"ingest\"\nsha256 = \"{}\"",
        riskmap::auth::hash_token(INGEST)
    )
    .unwrap();
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
