//! Replicas on one PostgreSQL + PostGIS database (the journal is the table
//! `riskmap_journal`), against real servers and a real cluster: concurrent
//! writes spread over two replicas converge to the same `data_version`,
//! scores and tile bytes with every acknowledged write present; `If-Match`
//! admits one writer per version across replicas; a replica stopped during
//! the writes catches up; a database outage makes writes 503 while reads
//! keep serving, and both converge after it; a row that does not apply
//! makes `/health` answer 503 once the lag passes `max_lag_secs`.
//!
//! Without PostgreSQL 15, PostGIS, `ogr2ogr` or root, the tests fail in CI
//! and skip loudly elsewhere (`common::require`).

mod common;

use common::postgres::Postgis;
use common::*;
use serde_json::{Value, json as j};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

/// The pinned day, so every replica scores overdue records alike, and a
/// one-second base poll.
const CONFIG: &str = "[risk]\nas_of = \"2026-06-15\"\n[source]\npoll_secs = 1\nmax_lag_secs = 2\n";

/// The tiny fixture's layers as tables.
fn load_fixture(pg: &Postgis, dir: &Path) {
    let files = dir.join("files");
    write_tiny_dataset(&files);
    for layer in ["grid_cells", "collapse_zones", "hazard_sources"] {
        pg.ogr2ogr(&files.join(format!("{layer}.geojson")), layer, &[]);
    }
    let mut sql = String::from(
        "CREATE TABLE enterprises (企业编号 text PRIMARY KEY, 企业名称 text, 行业类别 text, \
         风险等级 text, 从业人员 integer, 未整改隐患 integer, 重大隐患 integer, 黑名单 text, \
         经度 numeric, 纬度 double precision);",
    );
    for line in enterprises_csv().lines().skip(1) {
        let v: Vec<&str> = line.split(',').collect();
        sql.push_str(&format!(
            "INSERT INTO enterprises VALUES ('{}','{}','{}','{}',{},{},{},'{}',{},{});",
            v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]
        ));
    }
    pg.psql(&sql);
}

/// A cluster with the fixture and a folder with the config and tokens.
fn setup(tmp: &Path) -> Option<(Postgis, std::path::PathBuf)> {
    let pg = Postgis::start_or_skip(tmp)?;
    load_fixture(&pg, tmp);
    let cwd = tmp.join("run");
    install_demo_tokens(&cwd);
    std::fs::write(cwd.join("riskmap.toml"), CONFIG).unwrap();
    Some((pg, cwd))
}

fn replica(cwd: &Path, pg: &Postgis) -> Server {
    Server::start(cwd, Path::new(&pg.url()), &[])
}

/// Sends a request; status, ETag and body (JSON or null).
fn send(
    server: &Server,
    method: &str,
    path: &str,
    if_match: Option<&str>,
    body: Option<&Value>,
) -> (u16, Option<String>, Value) {
    let (status, etag, text) = server.send(method, path, Some(PLANNER), if_match, body);
    (
        status,
        etag,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Reports a hidden danger at the `n`-th point of a lattice over the
/// fixture's three cells.
fn report(server: &Server, n: usize) -> (u16, Option<String>, Value) {
    let lon = 118.5805 + (n % 29) as f64 * 0.001;
    let lat = 24.9005 + (n / 29 % 19) as f64 * 0.001;
    let body = j!({"lon": lon, "lat": lat, "grade": if n.is_multiple_of(5) { "major" } else { "general" },
        "category": "road", "description": format!("路面下沉 {n}"), "found_at": "2026-05-20",
        "deadline": if n.is_multiple_of(3) { "2026-06-01" } else { "2026-07-01" }});
    send(server, "POST", "/api/hidden-dangers", None, Some(&body))
}

fn event(server: &Server, id: &str, etag: &str, body: Value) -> (u16, Option<String>, Value) {
    let path = format!("/api/hidden-dangers/{id}/events");
    send(server, "POST", &path, Some(etag), Some(&body))
}

fn health(server: &Server) -> (u16, Value) {
    let (status, body) = server.get("/health");
    (status, json(&body))
}

/// Polls `/health` until `done` holds.
fn wait_for(server: &Server, what: &str, done: impl Fn(u16, &Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, h) = health(server);
        if done(status, &h) {
            return h;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {status} {h}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until both replicas serve `seq`; returns their data_version.
fn converged(a: &Server, b: &Server, seq: u64) -> String {
    let at = |h: &Value| h["journal"]["applied_seq"].as_u64() == Some(seq);
    let ha = wait_for(a, &format!("A at seq {seq}"), |_, h| at(h));
    let hb = wait_for(b, &format!("B at seq {seq}"), |_, h| at(h));
    assert_eq!(ha["data_version"], hb["data_version"]);
    let version = ha["data_version"].as_str().unwrap().to_string();
    assert!(version.ends_with(&format!("-{seq}")), "{version}");
    version
}

/// The tiles over the fixture at z0–12: (z, x, y).
fn tiles() -> Vec<(u32, u32, u32)> {
    let tile = |lon: f64, lat: f64, z: u32| {
        let n = f64::from(1u32 << z);
        let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
        let r = lat.to_radians();
        let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor()
            as u32;
        (x, y)
    };
    let mut out = Vec::new();
    for z in 0..=12 {
        let (x0, y0) = tile(118.58, 24.92, z);
        let (x1, y1) = tile(118.61, 24.90, z);
        for x in x0..=x1 {
            for y in y0..=y1 {
                out.push((z, x, y));
            }
        }
    }
    out
}

fn tile_bytes(server: &Server, (z, x, y): (u32, u32, u32), token: Option<&str>) -> (u16, Vec<u8>) {
    let mut req = ureq::get(&format!("{}/tiles/{z}/{x}/{y}.mvt", server.base));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let r = req.call().unwrap();
    let status = r.status();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut bytes).unwrap();
    (status, bytes)
}

/// Scores of every unit, tiles (public and with a token) and every
/// record: the same on both replicas.
fn assert_same_state(a: &Server, b: &Server) {
    for level in ["county", "town", "village", "cell"] {
        let path = format!("/api/ranking?level={level}&limit=1000");
        let (ra, rb) = (a.get(&path), b.get(&path));
        assert_eq!(ra.0, 200, "{}", ra.1);
        assert_eq!(ra, rb, "{level} scores differ");
    }
    let mut non_empty = 0;
    for t in tiles() {
        for token in [None, Some(PLANNER)] {
            let (ta, tb) = (tile_bytes(a, t, token), tile_bytes(b, t, token));
            assert_eq!(ta, tb, "tile {t:?} differs (token: {token:?})");
            non_empty += usize::from(ta.0 == 200);
        }
    }
    // At least the z12 tile holding the fixture, public and private.
    assert!(non_empty >= 2, "tiles with data at z0–12: {non_empty}");
}

/// Every record the replica serves: id → (status, version).
fn records(server: &Server) -> std::collections::BTreeMap<String, (String, u64)> {
    let mut out = std::collections::BTreeMap::new();
    let mut offset = 0;
    loop {
        let path = format!("/api/hidden-dangers?limit=100&offset={offset}");
        let (status, _, body) = send(server, "GET", &path, None, None);
        assert_eq!(status, 200, "{body}");
        let features = body["features"].as_array().unwrap();
        for f in features {
            let p = &f["properties"];
            out.insert(
                p["id"].as_str().unwrap().to_string(),
                (
                    p["status"].as_str().unwrap().to_string(),
                    p["version"].as_u64().unwrap(),
                ),
            );
        }
        if features.len() < 100 {
            return out;
        }
        offset += 100;
    }
}

/// 1,000 writes from 20 clients, each reporting through one replica and starting the
/// rectification of its record through the other (with the ETag the
/// first replica gave): every write is acknowledged and, afterwards, both
/// replicas serve all of them identically.
#[test]
fn two_replicas_converge_under_concurrent_writes() {
    const CLIENTS: usize = 20;
    /// Reports per client; each is followed by one event: 2 writes.
    const REPORTS: usize = 25;
    let tmp = tempfile::tempdir().unwrap();
    let Some((pg, cwd)) = setup(tmp.path()) else {
        return;
    };
    let servers = Arc::new([replica(&cwd, &pg), replica(&cwd, &pg)]);
    let (ha, hb) = (health(&servers[0]).1, health(&servers[1]).1);
    assert_eq!(ha["data_version"], hb["data_version"]);
    assert_eq!(ha["journal"]["kind"], "table", "{ha}");
    assert_eq!(ha["journal"]["applied_seq"], 0, "{ha}");
    let base = ha["data_version"].as_str().unwrap().to_string();

    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (servers, acked) = (servers.clone(), acked.clone());
            std::thread::spawn(move || {
                for k in 0..REPORTS {
                    let n = c * REPORTS + k;
                    let (first, second) = (&servers[n % 2], &servers[(n + 1) % 2]);
                    let (status, etag, body) = report(first, n);
                    assert_eq!(status, 201, "{body}");
                    let id = body["id"].as_str().unwrap().to_string();
                    let (status, _, body) =
                        event(second, &id, &etag.unwrap(), j!({"action": "start"}));
                    assert_eq!(status, 200, "start {id} through the other replica: {body}");
                    assert_eq!(body["properties"]["status"], "rectifying");
                    acked.lock().unwrap().insert(id);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let writes = (CLIENTS * REPORTS * 2) as u64;
    eprintln!("{writes} writes in {:?}", started.elapsed());

    let (a, b) = (&servers[0], &servers[1]);
    let version = converged(a, b, writes);
    assert_eq!(version, format!("{base}-{writes}"));
    let count = pg.psql("SELECT count(*), min(seq), max(seq) FROM riskmap_journal");
    assert_eq!(count.trim(), format!("{writes}|1|{writes}"));
    assert_same_state(a, b);
    let (ra, rb) = (records(a), records(b));
    assert_eq!(ra, rb);
    let acked = acked.lock().unwrap();
    assert_eq!(ra.keys().cloned().collect::<BTreeSet<_>>(), *acked);
    assert!(
        ra.values().all(|(s, _)| s == "rectifying"),
        "every record reported then started"
    );
    // Each record's last change is its own journal entry.
    let versions: BTreeSet<u64> = ra.values().map(|(_, v)| *v).collect();
    assert_eq!(versions.len(), ra.len());
    assert!(versions.iter().all(|v| (2..=writes).contains(v)));
    // The journal's lag is zero once caught up, and /metrics shows it.
    let metrics = a.get("/metrics").1;
    assert!(
        metrics.contains(&format!("\nriskmap_journal_applied_seq {writes}\n")),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nriskmap_journal_lag_seconds 0\n"),
        "{metrics}"
    );
}

/// The same `extend` with the same ETag through both replicas at once:
/// exactly one 200 per version, the other 412.
#[test]
fn if_match_admits_one_writer_per_version_across_replicas() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((pg, cwd)) = setup(tmp.path()) else {
        return;
    };
    let servers = Arc::new([replica(&cwd, &pg), replica(&cwd, &pg)]);
    let (status, etag, body) = report(&servers[0], 7);
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let mut etag = etag.unwrap();
    const ROUNDS: usize = 12;
    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = (0..2)
            .map(|i| {
                let (servers, barrier, id, etag) =
                    (servers.clone(), barrier.clone(), id.clone(), etag.clone());
                std::thread::spawn(move || {
                    let deadline = format!("2026-08-{:02}", 1 + round * 2 + i);
                    barrier.wait();
                    event(
                        &servers[i],
                        &id,
                        &etag,
                        j!({"action": "extend", "deadline": deadline}),
                    )
                })
            })
            .collect();
        let results: Vec<_> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        let ok: Vec<_> = results.iter().filter(|r| r.0 == 200).collect();
        let failed: Vec<_> = results.iter().filter(|r| r.0 == 412).collect();
        assert_eq!(
            (ok.len(), failed.len()),
            (1, 1),
            "round {round}: {:?}",
            results.iter().map(|r| (r.0, &r.2)).collect::<Vec<_>>()
        );
        etag = ok[0].1.clone().unwrap();
        assert_ne!(failed[0].1.as_deref(), Some(etag.as_str()));
    }
    let seq = 1 + ROUNDS as u64;
    converged(&servers[0], &servers[1], seq);
    let (status, tag, body) = send(
        &servers[1],
        "GET",
        &format!("/api/hidden-dangers/{id}"),
        None,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(tag.as_deref(), Some(etag.as_str()), "{body}");
    assert_eq!(
        body["properties"]["history"].as_array().map(Vec::len),
        Some(1 + ROUNDS)
    );
}

/// A replica killed during the writes and started again catches up; a
/// database outage: writes 503 (never 201), reads keep serving, then both
/// converge; a row that does not apply: `/health` 503 past the lag limit.
#[test]
fn replicas_recover_from_a_restart_and_a_database_outage() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((pg, cwd)) = setup(tmp.path()) else {
        return;
    };
    let a = Arc::new(replica(&cwd, &pg));
    let mut b = replica(&cwd, &pg);
    const WRITES: usize = 120;
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writer = {
        let (a, done) = (a.clone(), done.clone());
        std::thread::spawn(move || {
            for n in 0..WRITES {
                let (status, _, body) = report(&a, n);
                assert_eq!(status, 201, "{body}");
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        })
    };
    let reached = |n: usize| {
        while done.load(std::sync::atomic::Ordering::SeqCst) < n {
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    reached(20);
    drop(b);
    reached(60);
    b = replica(&cwd, &pg);
    writer.join().unwrap();
    converged(&a, &b, WRITES as u64);
    assert_same_state(&a, &b);

    // The outage.
    let before = health(&a).1["data_version"].clone();
    let tile = (12, 3397, 1755);
    let tile_before = tile_bytes(&a, tile, None);
    pg.stop();
    let outage = Instant::now();
    let mut refused = 0;
    while outage.elapsed() < Duration::from_secs(5) || refused < 4 {
        for (i, s) in [&*a, &b].into_iter().enumerate() {
            let (status, _, body) = report(s, 1000 + refused);
            assert_eq!(status, 503, "replica {i} during the outage: {body}");
            assert_eq!(body["code"], "ServiceUnavailable", "{body}");
            refused += 1;
        }
        for s in [&*a, &b] {
            let (status, h) = health(s);
            assert_eq!(status, 200, "{h}");
            assert_eq!(h["data_version"], before);
            assert_eq!(tile_bytes(s, tile, None), tile_before);
            let (status, _, body) = send(s, "GET", "/api/hidden-dangers?limit=1", None, None);
            assert_eq!(
                (status, body["numberMatched"].as_u64()),
                (200, Some(WRITES as u64))
            );
        }
    }
    pg.resume();
    // The next writes go through, on both.
    let mut acked = 0;
    for s in [&*a, &b, &*a, &b] {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, _, body) = report(s, 2000 + acked);
            if status == 201 {
                acked += 1;
                break;
            }
            assert_eq!(status, 503, "{body}");
            assert!(
                Instant::now() < deadline,
                "no write after the outage: {body}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let seq = (WRITES + acked) as u64;
    converged(&a, &b, seq);
    assert_same_state(&a, &b);
    assert_eq!(records(&a).len(), WRITES + acked);
    assert_eq!(
        pg.psql("SELECT count(*) FROM riskmap_journal").trim(),
        seq.to_string(),
        "no write refused with 503 was recorded"
    );

    // A row that is not a chained entry: nobody applies it, and past
    // max_lag_secs /health says so with 503.
    pg.psql(&format!(
        "INSERT INTO riskmap_journal (seq, at, actor, role, op, id, data, prev, hash) \
         VALUES ({}, '2026-06-15T00:00:00Z', 'x', 'admin', 'hidden_danger.report', 'HD-X', '{{}}', 'bad', 'bad')",
        seq + 1
    ));
    let h = wait_for(&b, "the lag", |status, _| status == 503);
    assert_eq!(h["status"], "lagging", "{h}");
    assert_eq!(h["journal"]["applied_seq"], seq, "{h}");
    assert_eq!(h["journal"]["database_seq"], seq + 1, "{h}");
    let error = h["journal"]["error"].as_str().unwrap_or_default();
    assert!(error.contains(&format!("row seq {}", seq + 1)), "{h}");
    let metrics = b.get("/metrics").1;
    assert!(
        !metrics.contains("\nriskmap_journal_lag_seconds 0\n"),
        "{metrics}"
    );
}

/// `journal compact` against the database: refused while the base has no
/// table for the records; then the rows fold into `hidden_dangers`, the
/// chain and `seq` continue, and the replicas serve the same records.
#[test]
fn compact_folds_the_journal_into_the_base_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((pg, cwd)) = setup(tmp.path()) else {
        return;
    };
    let (a, b) = (replica(&cwd, &pg), replica(&cwd, &pg));
    for n in 0..6 {
        assert_eq!(report(if n % 2 == 0 { &a } else { &b }, n).0, 201);
    }
    let url = pg.url();
    let compact = |cwd: &Path| run(cwd, &["journal", "compact", "--data", &url]);
    let refused = compact(&cwd);
    assert_eq!(refused.status.code(), Some(1), "{}", output_text(&refused));
    assert!(
        output_text(&refused).contains("no hidden_dangers table"),
        "{}",
        output_text(&refused)
    );
    assert_eq!(pg.psql("SELECT count(*) FROM riskmap_journal").trim(), "6");

    // With an (empty) base table the records fold into it.
    pg.psql(
        "CREATE TABLE hidden_dangers (fid serial PRIMARY KEY, id text, enterprise_id text, \
         category text, grade text, description text, source text, found_at text, deadline text, \
         responsible text, status text, closed_at text, geom geometry(Point, 4326))",
    );
    // The replicas reload the new base (its fingerprint changed).
    for s in [&a, &b] {
        wait_for(s, "the reload with the table", |_, h| {
            h["journal"]["applied_seq"] == 6 && h["counts"]["hidden_dangers"] == 6
        });
    }
    let before = records(&a);
    let done = compact(&cwd);
    assert!(done.status.success(), "{}", output_text(&done));
    assert!(
        output_text(&done).contains("6 journal rows"),
        "{}",
        output_text(&done)
    );
    assert_eq!(pg.psql("SELECT count(*) FROM riskmap_journal").trim(), "0");
    assert_eq!(pg.psql("SELECT count(*) FROM hidden_dangers").trim(), "6");
    assert_eq!(
        pg.psql("SELECT seq FROM riskmap_journal_compacted").trim(),
        "6"
    );
    let verify = run(&cwd, &["journal", "verify", "--data", &url]);
    assert!(verify.status.success(), "{}", output_text(&verify));
    // Writes go on after seq 6, on both replicas.
    assert_eq!(report(&b, 100).0, 201);
    converged(&a, &b, 7);
    let after = records(&a);
    assert_eq!(after.len(), 7);
    for (id, (status, _)) in &before {
        assert_eq!(after.get(id).map(|r| &r.0), Some(status), "{id}");
    }
    assert_same_state(&a, &b);
}
