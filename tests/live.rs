//! The 隐患 closure loop against the real binary: scoped writes, If-Match,
//! the journal surviving kill -9, torn and tampered journals, events (SSE)
//! by scope, concurrent writers, and scores equal to a batch `score` run.

mod common;

use common::{ADMIN, GRID_MANAGER, PLANNER, Server, batch_scores, bin, json, start_tiny};
use serde_json::{Value, json as j};
use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

const CONFIG: &str = "[risk]\nas_of = \"2026-06-15\"\n";
/// 金山第1网格, inside the grid manager's village 金山社区.
const CELL: &str = "350502001001001";
/// A point in 金山第1网格.
const IN_SCOPE: (f64, f64) = (118.587, 24.912);
/// A point in 笋浯第1网格, outside the grid manager's scope.
const OUT_OF_SCOPE: (f64, f64) = (118.605, 24.915);

/// Sends a request; returns status, ETag and body.
fn send(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    if_match: Option<&str>,
    body: Option<&Value>,
) -> (u16, Option<String>, String) {
    server.send(method, path, token, if_match, body)
}

fn report(
    server: &Server,
    token: &str,
    at: (f64, f64),
    grade: &str,
) -> (u16, Option<String>, Value) {
    let body = j!({"lon": at.0, "lat": at.1, "grade": grade, "category": "road",
        "description": "路面下沉约20厘米", "deadline": "2026-07-01"});
    let (s, e, b) = send(
        server,
        "POST",
        "/api/hidden-dangers",
        Some(token),
        None,
        Some(&body),
    );
    (s, e, serde_json::from_str(&b).unwrap_or(Value::Null))
}

fn event(
    server: &Server,
    token: &str,
    id: &str,
    etag: Option<&str>,
    action: &str,
) -> (u16, Option<String>, Value) {
    let body = j!({"action": action, "note": "现场复核"});
    let path = format!("/api/hidden-dangers/{id}/events");
    let (s, e, b) = send(server, "POST", &path, Some(token), etag, Some(&body));
    (s, e, serde_json::from_str(&b).unwrap_or(Value::Null))
}

fn score_of(server: &Server, code: &str) -> f64 {
    let (s, b) = server.get_with(&format!("/api/cells/{code}"), PLANNER);
    assert_eq!(s, 200, "{b}");
    json(&b)["risk_score"].as_f64().unwrap()
}

#[test]
fn the_loop_as_a_grid_manager_and_a_planner() {
    let (tmp, server) = start_tiny(CONFIG);
    let data = tmp.path().join("ds");
    let before = score_of(&server, CELL);

    // Report a major danger in scope.
    let (s, etag, body) = report(&server, GRID_MANAGER, IN_SCOPE, "major");
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("HD-20260615-"), "{id}");
    assert_eq!(body["properties"]["status"], "reported");
    assert_eq!(body["properties"]["cell"], CELL);
    let rescored: Vec<&str> = body["rescored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    for code in ["350502", "350502001", "350502001001", CELL] {
        assert!(rescored.contains(&code), "{code} not in {rescored:?}");
    }
    assert!(
        body["data_version"].as_str().unwrap().ends_with("-1"),
        "{}",
        body["data_version"]
    );
    let after = score_of(&server, CELL);
    assert!(
        after > before,
        "a major danger raises the cell: {before} → {after}"
    );
    let in_answer = body["rescored"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == CELL)
        .unwrap()["risk_score"]
        .as_f64()
        .unwrap();
    assert_eq!(in_answer, after);
    // The batch scorer reads the same base + journal.
    let batch = batch_scores(tmp.path(), &data);
    assert_eq!(batch[CELL], after);
    assert_eq!(batch["350502001001"], score_of(&server, "350502001001"));

    // Outside the scope: 403; not a verifier: 403.
    assert_eq!(
        report(&server, GRID_MANAGER, OUT_OF_SCOPE, "general").0,
        403
    );
    assert_eq!(
        event(&server, GRID_MANAGER, &id, etag.as_deref(), "close").0,
        403
    );
    // Bad fields name the field.
    let bad = j!({"lon": IN_SCOPE.0, "lat": IN_SCOPE.1, "grade": "major", "category": "road", "description": "x"});
    let (s, _, b) = send(
        &server,
        "POST",
        "/api/hidden-dangers",
        Some(GRID_MANAGER),
        None,
        Some(&bad),
    );
    assert_eq!(s, 400);
    assert!(b.contains("deadline"), "{b}");
    // No token: 401.
    assert_eq!(
        send(
            &server,
            "POST",
            "/api/hidden-dangers",
            None,
            None,
            Some(&bad)
        )
        .0,
        401
    );

    // If-Match: missing 428, stale 412; a wrong transition 409.
    assert_eq!(event(&server, GRID_MANAGER, &id, None, "start").0, 428);
    assert_eq!(
        event(&server, GRID_MANAGER, &id, Some("\"hd-stale\""), "start").0,
        412
    );
    assert_eq!(
        event(&server, GRID_MANAGER, &id, etag.as_deref(), "rectify").0,
        409
    );

    // start → rectify by the grid manager, close by the planner.
    let (s, etag, _) = event(&server, GRID_MANAGER, &id, etag.as_deref(), "start");
    assert_eq!(s, 200);
    let (s, etag, _) = event(&server, GRID_MANAGER, &id, etag.as_deref(), "rectify");
    assert_eq!(s, 200);
    let (s, _, body) = event(&server, PLANNER, &id, etag.as_deref(), "close");
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["properties"]["status"], "closed");
    assert_eq!(body["properties"]["closed_at"], "2026-06-15");
    let actions: Vec<&str> = body["properties"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["report", "start", "rectify", "close"]);
    assert_eq!(
        score_of(&server, CELL),
        before,
        "closing restores the score exactly"
    );

    // The token that rectified may not close: a planner rectifies, the same
    // planner's close is 409, the admin's is 200.
    let (_, etag, body) = report(&server, PLANNER, IN_SCOPE, "general");
    let id2 = body["id"].as_str().unwrap().to_string();
    let (_, etag, _) = event(&server, PLANNER, &id2, etag.as_deref(), "start");
    let (_, etag, _) = event(&server, PLANNER, &id2, etag.as_deref(), "rectify");
    assert_eq!(
        event(&server, PLANNER, &id2, etag.as_deref(), "close").0,
        409
    );
    assert_eq!(event(&server, ADMIN, &id2, etag.as_deref(), "close").0, 200);

    // Reading: the grid manager lists its own, not the planner's out of scope.
    let (s, _, _) = report(&server, PLANNER, OUT_OF_SCOPE, "general");
    assert_eq!(s, 201);
    let (_, b) = server.get_with("/api/hidden-dangers?limit=100", GRID_MANAGER);
    let list = json(&b);
    assert_eq!(list["numberMatched"], 2, "{b}");
    let (_, b) = server.get_with("/api/hidden-dangers?limit=100", PLANNER);
    assert_eq!(json(&b)["numberMatched"], 3);
    let (s, b) = server.get_with(
        "/api/hidden-dangers?status=closed&within=350502001001",
        PLANNER,
    );
    assert_eq!(s, 200);
    assert_eq!(json(&b)["numberMatched"], 2);
    let (s, _) = server.get_with(&format!("/api/hidden-dangers/{id}"), GRID_MANAGER);
    assert_eq!(s, 200);
    assert_eq!(server.get(&format!("/api/hidden-dangers/{id}")).0, 401);

    // Every write is in the journal, chained.
    let o = std::process::Command::new(bin())
        .current_dir(tmp.path())
        .args(["journal", "verify", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = std::fs::read_to_string(data.join("journal.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 9);
}

#[test]
fn an_acknowledged_write_survives_kill_9_and_a_torn_or_edited_journal_is_handled() {
    let (tmp, mut server) = start_tiny(CONFIG);
    let data = tmp.path().join("ds");
    let (s, _, body) = report(&server, GRID_MANAGER, IN_SCOPE, "major");
    assert_eq!(s, 201);
    let id = body["id"].as_str().unwrap().to_string();
    let score = score_of(&server, CELL);
    // SIGKILL right after the answer.
    drop(server);
    server = Server::start(tmp.path(), &data, &[]);
    let (s, b) = server.get_with(&format!("/api/hidden-dangers/{id}"), PLANNER);
    assert_eq!(s, 200, "{b}");
    assert_eq!(score_of(&server, CELL), score);
    let (s, _, _) = report(&server, GRID_MANAGER, IN_SCOPE, "general");
    assert_eq!(s, 201);
    drop(server);

    // A torn last line (a crash mid-write): starts, earlier records intact.
    let path = data.join("journal.jsonl");
    let text = std::fs::read(&path).unwrap();
    let cut = text.len() - 25;
    std::fs::write(&path, &text[..cut]).unwrap();
    let server = Server::start(tmp.path(), &data, &[]);
    let (s, _) = server.get_with(&format!("/api/hidden-dangers/{id}"), PLANNER);
    assert_eq!(s, 200);
    let (_, b) = server.get_with("/api/hidden-dangers", PLANNER);
    assert_eq!(json(&b)["numberMatched"], 1, "the torn record is gone");
    // Writes continue the chain after the truncation.
    assert_eq!(report(&server, GRID_MANAGER, IN_SCOPE, "general").0, 201);
    drop(server);

    // One edited byte in an earlier line: verify names it, serve refuses.
    let mut text = std::fs::read(&path).unwrap();
    let at = text
        .windows(6)
        .position(|w| w == b"\xe8\xb7\xaf\xe9\x9d\xa2")
        .unwrap(); // 路面
    text[at + 3..at + 6].copy_from_slice("基".as_bytes());
    std::fs::write(&path, &text).unwrap();
    let o = std::process::Command::new(bin())
        .current_dir(tmp.path())
        .args(["journal", "verify", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(said.contains("line 2") || said.contains("line 1"), "{said}");
    let o = std::process::Command::new(bin())
        .current_dir(tmp.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!o.status.success(), "serve must refuse a tampered journal");
}

#[test]
fn fifty_concurrent_writers_on_one_record_one_wins_each_step() {
    let (_tmp, server) = start_tiny(CONFIG);
    let (_, mut etag, body) = report(&server, PLANNER, IN_SCOPE, "general");
    let id = body["id"].as_str().unwrap().to_string();
    for action in ["start", "rectify"] {
        let results: Vec<(u16, Option<String>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..50)
                .map(|_| {
                    let (server, id, etag) = (&server, &id, etag.clone());
                    s.spawn(move || {
                        let (st, e, _) = event(server, PLANNER, id, etag.as_deref(), action);
                        (st, e)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won: Vec<_> = results.iter().filter(|(s, _)| *s == 200).collect();
        assert_eq!(won.len(), 1, "{action}: {results:?}");
        assert!(
            results.iter().all(|(s, _)| *s == 200 || *s == 412),
            "{results:?}"
        );
        etag = won[0].1.clone();
    }
    let (_, b) = server.get_with(&format!("/api/hidden-dangers/{id}"), PLANNER);
    let history = json(&b)["properties"]["history"].as_array().unwrap().len();
    assert_eq!(history, 3, "report, one start, one rectify");
    // Only the three winners were derived and journaled; the 98 refusals
    // never reached the journal.
    let (_, m) = server.get("/metrics");
    let metric = |name: &str| -> f64 {
        m.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{m}"))
    };
    assert_eq!(metric("riskmap_write_derive_seconds_count"), 3.0);
    assert_eq!(metric("riskmap_journal_appends_total"), 3.0);
    let commits = metric("riskmap_journal_commit_seconds_count");
    assert!((1.0..=3.0).contains(&commits), "{commits} group commits");
    assert!(metric("riskmap_journal_commit_seconds_sum") > 0.0);
    assert!(metric("riskmap_write_derive_seconds_sum") > 0.0);
    // Histograms: `+Inf` holds every derivation and commit, and the
    // buckets never shrink as their bound grows.
    assert_eq!(
        metric("riskmap_write_derive_seconds_bucket{le=\"+Inf\"}"),
        3.0
    );
    assert_eq!(
        metric("riskmap_journal_commit_seconds_bucket{le=\"+Inf\"}"),
        commits
    );
    let mut below = 0.0;
    for le in [
        "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "1", "5",
    ] {
        let n = metric(&format!(
            "riskmap_journal_commit_seconds_bucket{{le=\"{le}\"}}"
        ));
        assert!(n >= below && n <= commits, "le={le}: {n}");
        below = n;
    }
}

/// Reads SSE events (name, data) from `path` with `token` into a channel.
fn subscribe(server: &Server, token: Option<&str>) -> mpsc::Receiver<(String, Value)> {
    let mut req = ureq::get(&format!("{}/api/events", server.base));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let resp = req.call().unwrap();
    assert_eq!(resp.header("Content-Type"), Some("text/event-stream"));
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
    // The greeting says the stream is live before anything is written.
    let (name, _) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(name, "hello");
    rx
}

#[test]
fn events_reach_subscribers_by_scope() {
    let (_tmp, server) = start_tiny(CONFIG);
    let gm = subscribe(&server, Some(GRID_MANAGER));
    let public = subscribe(&server, None);
    // Out of the grid manager's scope first, then in it.
    assert_eq!(report(&server, PLANNER, OUT_OF_SCOPE, "general").0, 201);
    let (_, _, body) = report(&server, PLANNER, IN_SCOPE, "major");
    let inside = body["id"].as_str().unwrap().to_string();
    let take = |rx: &mpsc::Receiver<(String, Value)>, n: usize| -> Vec<(String, Value)> {
        (0..n)
            .map(|_| rx.recv_timeout(Duration::from_secs(10)).expect("event"))
            .collect()
    };
    // The grid manager: scores, scores, then its own record only.
    let got = take(&gm, 3);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["scores", "scores", "hidden_danger"], "{got:?}");
    assert_eq!(got[2].1["id"], inside.as_str());
    assert_eq!(got[2].1["cell"], CELL);
    let units: Vec<&str> = got[1].1["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert!(units.contains(&CELL));
    // The public: scores only.
    let got = take(&public, 2);
    assert!(got.iter().all(|(n, _)| n == "scores"), "{got:?}");
    assert!(
        public.recv_timeout(Duration::from_millis(500)).is_err(),
        "no record event for the public"
    );
}

#[test]
fn tiles_away_from_a_write_keep_their_etag() {
    let (_tmp, server) = start_tiny(CONFIG);
    // Tiles never lag the writes unless configured to.
    let (_, tj) = server.get("/tiles.json");
    assert!(json(&tj).get("riskmap:stale_ms").is_none(), "{tj}");
    let etag = |z: u32, x: u32, y: u32| -> (u16, Option<String>) {
        let (s, e, _) = send(
            &server,
            "GET",
            &format!("/tiles/{z}/{x}/{y}.mvt"),
            Some(PLANNER),
            None,
            None,
        );
        (s, e)
    };
    // z16 tiles over the whole tiny grid (118.58–118.61 E, 24.90–24.92 N).
    let tile = tile_at;
    let z = 16;
    let (x0, y0) = tile(118.58, 24.92, z);
    let (x1, y1) = tile(118.61, 24.90, z);
    let mut before = Vec::new();
    for x in x0..=x1 {
        for y in y0..=y1 {
            before.push(((x, y), etag(z, x, y)));
        }
    }
    assert!(before.len() >= 20, "{}", before.len());
    // The units and their outlines (the tiny fixture's grid).
    let units: [(&str, [f64; 4]); 7] = [
        ("350502", [118.58, 24.90, 118.61, 24.92]),
        ("350502001", [118.58, 24.90, 118.61, 24.92]),
        ("350502001001", [118.58, 24.90, 118.60, 24.92]),
        ("350502001002", [118.60, 24.90, 118.61, 24.92]),
        ("350502001001001", [118.58, 24.90, 118.59, 24.92]),
        ("350502001001002", [118.59, 24.90, 118.60, 24.92]),
        ("350502001002001", [118.60, 24.90, 118.61, 24.92]),
    ];
    let shown = |code: &str| score_of(&server, code);
    let old: Vec<f64> = units.iter().map(|(c, _)| shown(c)).collect();
    let (s, _, body) = report(&server, PLANNER, (118.6055, 24.9055), "general");
    assert_eq!(s, 201, "{body}");
    let new: Vec<f64> = units.iter().map(|(c, _)| shown(c)).collect();
    // Dirty: the record's cell, and every unit whose shown score moved.
    let dirty: Vec<[f64; 4]> = units
        .iter()
        .zip(old.iter().zip(&new))
        .filter(|((c, _), (a, b))| *c == "350502001002001" || a != b)
        .map(|((_, bb), _)| *bb)
        .collect();
    let n = f64::from(1u32 << z);
    let pad = 64.0 / 4096.0;
    let meets = |x: u32, y: u32, b: &[f64; 4]| {
        let (bx0, by1) = tile(b[0], b[1], z);
        let (bx1, by0) = tile(b[2], b[3], z);
        let _ = n;
        // Tile columns/rows covering the box, widened by the buffer.
        let (fx0, fx1) = (bx0 as f64 - pad, bx1 as f64 + 1.0 + pad);
        let (fy0, fy1) = (by0 as f64 - pad, by1 as f64 + 1.0 + pad);
        (x as f64 + 1.0) > fx0 && (x as f64) < fx1 && (y as f64 + 1.0) > fy0 && (y as f64) < fy1
    };
    let (hx, hy) = tile(118.6055, 24.9055, z);
    let (mut kept, mut changed) = (0, 0);
    for ((x, y), (status, tag)) in &before {
        let (s2, t2) = etag(z, *x, *y);
        assert_eq!(*status, s2);
        let expect_change = dirty.iter().any(|b| meets(*x, *y, b));
        if (*x, *y) == (hx, hy) {
            assert_ne!(tag, &t2, "the tile of the new record changes");
        }
        if !expect_change {
            assert_eq!(
                tag, &t2,
                "tile {z}/{x}/{y} is away from every change and keeps its ETag"
            );
            kept += 1;
        } else if tag != &t2 {
            changed += 1;
        }
    }
    assert!(changed >= 1);
    eprintln!(
        "{kept} tiles kept their ETag, {changed} changed; dirty units {}",
        dirty.len()
    );
}

/// With `[tiles] stale_ms`, the readers after a write get the state the
/// tile had (its own ETag, 304 for its holders) on the fast path and
/// through the router alike, and the tile is rebuilt behind those answers
/// once half the lag has passed; without it (the default,
/// `tiles_away_from_a_write_keep_their_etag`) every answer is the state
/// the write left.
#[test]
fn a_tile_lags_a_write_by_at_most_stale_ms_and_is_rebuilt_behind_the_answer() {
    let (_tmp, server) = start_tiny(&format!("{CONFIG}\n[tiles]\nstale_ms = 20000\n"));
    let at = (118.6055, 24.9055);
    let (x, y) = tile_at(at.0, at.1, 16);
    let path = format!("/tiles/16/{x}/{y}.mvt");
    // `?via=router`: a parameter the fast path leaves to the router.
    let routed = format!("{path}?via=router");
    let get = |path: &str, holding: Option<&str>| {
        let mut req = ureq::get(&format!("{}{path}", server.base))
            .set("Authorization", &format!("Bearer {PLANNER}"));
        if let Some(tag) = holding {
            req = req.set("If-None-Match", tag);
        }
        let r = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{path}: {e}"),
        };
        (r.status(), r.header("ETag").unwrap_or_default().to_string())
    };
    let read = || {
        let (s, tag) = get(&path, None);
        assert_eq!(s, 200);
        tag
    };
    let counted = |result: &str| -> u64 {
        let (_, m) = server.get("/metrics");
        let name = format!("riskmap_tile_cache_requests_total{{result=\"{result}\"}} ");
        m.lines()
            .find_map(|l| l.strip_prefix(&name))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {m}"))
    };
    // The lag is announced to clients in the TileJSON.
    let (s, tj) = server.get("/tiles.json");
    assert_eq!(s, 200);
    assert_eq!(json(&tj)["riskmap:stale_ms"], 20000, "{tj}");
    let before = read();
    // The state was read (and built) before this moment.
    let built_by = std::time::Instant::now();
    let (s, _, body) = report(&server, PLANNER, at, "major");
    assert_eq!(s, 201, "{body}");
    // Built a moment ago: answered as it was, tagged with that state, by
    // the fast path and by the router.
    assert_eq!(
        read(),
        before,
        "a tile built within stale_ms is answered at once"
    );
    assert_eq!(get(&routed, None), (200, before.clone()));
    assert_eq!(get(&routed, Some(&before)), (304, before.clone()));
    assert_eq!(get(&path, Some(&before)), (304, before.clone()));
    assert_eq!(counted("stale"), 2, "the two stale 200s");
    // Once half the lag has passed, the first request (through the
    // router here) starts one rebuild behind its stale answer; a request's
    // own build would come only once the whole lag has run out.
    std::thread::sleep(
        (built_by + Duration::from_millis(10_200))
            .saturating_duration_since(std::time::Instant::now()),
    );
    assert_eq!(get(&routed, None), (200, before.clone()));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let after = loop {
        let tag = read();
        // The rebuild is counted once it is stored: wait for both.
        if tag != before && counted("refresh") > 0 {
            break tag;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the tile was never rebuilt"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        counted("refresh"),
        1,
        "one rebuild behind the stale answers"
    );
    let stale = counted("stale");
    assert!(stale >= 3, "{stale}");
    assert_eq!(read(), after, "the rebuilt state is the tile's latest");
    assert_eq!(get(&routed, None), (200, after.clone()));
    assert_eq!(get(&path, Some(&after)), (304, after));
    assert_eq!(counted("stale"), stale, "no stale answer after the rebuild");
}

/// The column and row of the zoom-`z` tile holding a lon/lat point.
fn tile_at(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let r = lat.to_radians();
    (
        ((lon + 180.0) / 360.0 * n) as u32,
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32,
    )
}

/// Status and bytes of a tile for the planner (identity encoding).
/// A tile as a planner reads it: status, gzip body (as served, the body
/// rebuilt tiles make from kept layers) and identity body.
fn tile_bytes(server: &Server, (z, x, y): (u32, u32, u32)) -> (u16, Vec<u8>, Vec<u8>) {
    use std::io::Read;
    let read = |gzip: bool| {
        let mut req = ureq::get(&format!("{}/tiles/{z}/{x}/{y}.mvt", server.base))
            .set("Authorization", &format!("Bearer {PLANNER}"));
        if gzip {
            req = req.set("Accept-Encoding", "gzip");
        }
        let r = req.call().unwrap();
        let mut bytes = Vec::new();
        let status = r.status();
        r.into_reader().read_to_end(&mut bytes).unwrap();
        (status, bytes)
    };
    let (status, gzip) = read(true);
    let (plain_status, plain) = read(false);
    assert_eq!(status, plain_status, "tile {z}/{x}/{y}");
    if status == 200 {
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(gzip.as_slice())
            .read_to_end(&mut unzipped)
            .unwrap();
        assert!(
            unzipped == plain,
            "tile {z}/{x}/{y}: the gzip body unzips to other bytes"
        );
    }
    (status, gzip, plain)
}

#[test]
fn tiles_rebuilt_after_writes_equal_those_of_a_fresh_start() {
    let (tmp, mut server) = start_tiny(CONFIG);
    let data = tmp.path().join("ds");
    // z12–16 tiles over the tiny grid (118.58–118.61 E, 24.90–24.92 N).
    let mut tiles = Vec::new();
    for z in 12..=16 {
        let (x0, y0) = tile_at(118.58, 24.92, z);
        let (x1, y1) = tile_at(118.61, 24.90, z);
        for x in x0..=x1 {
            for y in y0..=y1 {
                tiles.push((z, x, y));
            }
        }
    }
    let read_all = |server: &Server| -> Vec<(u16, Vec<u8>, Vec<u8>)> {
        tiles.iter().map(|&t| tile_bytes(server, t)).collect()
    };
    // Read before any write, then after each write: from the second write
    // on, a changed tile is rebuilt with the layers it kept.
    let first = read_all(&server);
    let (s, etag, body) = report(&server, PLANNER, IN_SCOPE, "major");
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    read_all(&server);
    assert_eq!(report(&server, PLANNER, OUT_OF_SCOPE, "general").0, 201);
    read_all(&server);
    let (s, etag, _) = event(&server, PLANNER, &id, etag.as_deref(), "start");
    assert_eq!(s, 200);
    read_all(&server);
    let (s, _, _) = event(&server, GRID_MANAGER, &id, etag.as_deref(), "rectify");
    assert_eq!(s, 200);
    assert_eq!(
        report(&server, PLANNER, (118.6055, 24.9055), "major").0,
        201
    );
    let served = read_all(&server);
    assert_ne!(first, served, "the writes changed some tile");
    drop(server);
    // A fresh start on the same files and journal builds every tile anew.
    server = Server::start(tmp.path(), &data, &[]);
    let fresh = read_all(&server);
    for ((t, a), b) in tiles.iter().zip(&served).zip(&fresh) {
        assert_eq!(a.0, b.0, "tile {t:?}: status");
        assert!(
            a.1 == b.1 && a.2 == b.2,
            "tile {t:?}: the bytes served after the writes differ from a fresh start's"
        );
    }
}

#[test]
fn compact_writes_the_journal_into_the_base_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    common::write_tiny_dataset(&data);
    common::install_demo_tokens(tmp.path());
    std::fs::write(tmp.path().join("riskmap.toml"), CONFIG).unwrap();
    // Without a hidden_dangers layer, compacting would change scores: refused.
    let server = Server::start(tmp.path(), &data, &[]);
    assert_eq!(report(&server, PLANNER, IN_SCOPE, "major").0, 201);
    drop(server);
    let compact = |out: &str| {
        std::process::Command::new(bin())
            .current_dir(tmp.path())
            .args(["journal", "compact", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(tmp.path().join(out))
            .output()
            .unwrap()
    };
    let o = compact("refused");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("hidden_dangers"),
        "{o:?}"
    );
    // With the layer (empty at first), the compacted folder scores the same.
    std::fs::remove_file(data.join("journal.jsonl")).unwrap();
    std::fs::write(
        data.join("hidden_dangers.geojson"),
        "{\"type\":\"FeatureCollection\",\"features\":[]}",
    )
    .unwrap();
    let server = Server::start(tmp.path(), &data, &[]);
    let (_, etag, body) = report(&server, GRID_MANAGER, IN_SCOPE, "major");
    let id = body["id"].as_str().unwrap().to_string();
    assert_eq!(
        event(&server, GRID_MANAGER, &id, etag.as_deref(), "start").0,
        200
    );
    assert_eq!(report(&server, PLANNER, OUT_OF_SCOPE, "general").0, 201);
    drop(server);
    let o = compact("compacted");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = tmp.path().join("compacted");
    assert!(!out.join("journal.jsonl").exists());
    let live = batch_scores(tmp.path(), &data);
    let compacted = batch_scores(tmp.path(), &out);
    assert_eq!(live.len(), compacted.len());
    for (code, s) in &live {
        assert_eq!(compacted[code], *s, "{code}");
    }
    let text = std::fs::read_to_string(out.join("hidden_dangers.geojson")).unwrap();
    assert!(text.contains(&id) && text.contains("rectifying"), "{text}");
}

#[test]
fn a_generated_id_skips_the_ids_of_the_data_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    common::write_tiny_dataset(&data);
    common::install_demo_tokens(tmp.path());
    std::fs::write(tmp.path().join("riskmap.toml"), CONFIG).unwrap();
    // The data files already hold the id the first write would get.
    let taken = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"HD-20260615-0001","category":"road","grade":"general","description":"旧记录","source":"patrol","found_at":"2026-06-01","status":"closed","closed_at":"2026-06-10"},"geometry":{"type":"Point","coordinates":[118.586,24.911]}}]}"#;
    std::fs::write(data.join("hidden_dangers.geojson"), taken).unwrap();
    let server = Server::start(tmp.path(), &data, &[]);
    let (s, _, body) = report(&server, PLANNER, IN_SCOPE, "general");
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["id"], "HD-20260615-0002");
}

#[test]
fn ogc_datetime_selects_hidden_dangers_by_their_found_at_day() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    common::write_tiny_dataset(&data);
    common::install_demo_tokens(tmp.path());
    std::fs::write(tmp.path().join("riskmap.toml"), CONFIG).unwrap();
    let record = |id: &str, found: &str, closed: &str| {
        format!(
            r#"{{"type":"Feature","properties":{{"id":"{id}","category":"road","grade":"general","description":"旧记录","source":"patrol","found_at":"{found}","status":"closed","closed_at":"{closed}"}},"geometry":{{"type":"Point","coordinates":[118.586,24.911]}}}}"#
        )
    };
    let records = [
        record("HD-A", "2026-05-03", "2026-05-20"),
        record("HD-B", "2026-06-01", "2026-06-10"),
        record("HD-C", "2026-06-02", "2026-06-12"),
    ];
    std::fs::write(
        data.join("hidden_dangers.geojson"),
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            records.join(",")
        ),
    )
    .unwrap();
    let server = Server::start(tmp.path(), &data, &[]);
    // Reported today (the pinned as-of day of CONFIG).
    let (s, _, today) = report(&server, PLANNER, IN_SCOPE, "general");
    assert_eq!(s, 201, "{today}");
    // Found on the as-of day CONFIG pins.
    let found_today = "2026-06-15";
    let all: Vec<(String, String)> = {
        let (s, b) = server.get_with("/ogc/collections/hidden_dangers/items?limit=100", PLANNER);
        assert_eq!(s, 200, "{b}");
        json(&b)["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let p = &f["properties"];
                (
                    f["id"].as_str().unwrap().to_string(),
                    p["found_at"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(all.len(), 4);
    assert_eq!(all.iter().filter(|(_, f)| f == found_today).count(), 1);
    for (datetime, from, to) in [
        ("2026-06-01", "2026-06-01", "2026-06-01"),
        ("2026-06-01/2026-06-30", "2026-06-01", "2026-06-30"),
        ("../2026-05-31", "0000-01-01", "2026-05-31"),
        ("2026-06-02T00:00:00Z/..", "2026-06-02", "9999-12-31"),
        ("2026-05-04/2026-05-31", "2026-05-04", "2026-05-31"),
    ] {
        let (s, b) = server.get_with(
            &format!("/ogc/collections/hidden_dangers/items?limit=100&datetime={datetime}"),
            PLANNER,
        );
        assert_eq!(s, 200, "{datetime}: {b}");
        let got: Vec<String> = json(&b)["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        let expected: Vec<String> = all
            .iter()
            .filter(|(_, found)| from <= found.as_str() && found.as_str() <= to)
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(got, expected, "{datetime}");
        assert_eq!(json(&b)["numberMatched"], expected.len(), "{datetime}");
    }
    let (s, b) = server.get_with(
        &format!("/ogc/collections/hidden_dangers/items?datetime={found_today}"),
        PLANNER,
    );
    assert_eq!(s, 200);
    assert_eq!(json(&b)["numberMatched"], 1, "today's report: {b}");
}

#[test]
fn the_hidden_dangers_collection_follows_the_scope() {
    let (_tmp, server) = start_tiny(CONFIG);
    let (_, _, inside) = report(&server, PLANNER, IN_SCOPE, "major");
    let (_, _, outside) = report(&server, PLANNER, OUT_OF_SCOPE, "general");
    let (inside, outside) = (
        inside["id"].as_str().unwrap(),
        outside["id"].as_str().unwrap(),
    );
    let ids = |token: &str| -> Vec<String> {
        let (s, b) = server.get_with("/ogc/collections/hidden_dangers/items?limit=100", token);
        assert_eq!(s, 200, "{b}");
        json(&b)["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(PLANNER), [inside, outside]);
    assert_eq!(ids(GRID_MANAGER), [inside]);
    assert_eq!(server.get("/ogc/collections/hidden_dangers/items").0, 401);
    let (s, _) = server.get_with(
        &format!("/ogc/collections/hidden_dangers/items/{outside}"),
        GRID_MANAGER,
    );
    assert!(s == 403 || s == 404, "{s}");
    // Queryable by status and grade, as OGC clients filter.
    let (s, b) = server.get_with(
        "/ogc/collections/hidden_dangers/items?filter=grade%3D%27major%27",
        PLANNER,
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(json(&b)["numberMatched"], 1);
}
