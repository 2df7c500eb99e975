//! Soak driver for `scripts/soak.sh`: mixed tile, OGC and `/api` load on a
//! running server (loopback only) while the hazard-source layer is swapped
//! between two valid versions and a corrupt one and reloaded. Prints one
//! table row per interval (requests, errors, reloads, RSS) and a verdict:
//! exit status 1 on any 5xx, transport error, wrong-version response or
//! refused valid reload.
//!
//! ```text
//! soak --base http://127.0.0.1:PORT --pid PID --data DIR --admin TOKEN \
//!      --planner TOKEN [--seconds 300] [--clients 32] [--interval 15] [--reload-every 5]
//! ```

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Args {
    base: String,
    pid: u32,
    data: PathBuf,
    admin: String,
    planner: String,
    seconds: u64,
    clients: usize,
    interval: u64,
    reload_every: u64,
}

fn args() -> Result<Args, String> {
    let mut map = BTreeMap::new();
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let key = k
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected {k}"))?
            .to_string();
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        map.insert(key, v);
    }
    let get = |k: &str| {
        map.get(k)
            .cloned()
            .ok_or_else(|| format!("--{k} is required"))
    };
    let num = |k: &str, d: u64| -> Result<u64, String> {
        map.get(k)
            .map_or(Ok(d), |v| v.parse().map_err(|_| format!("--{k}: {v:?}")))
    };
    let base = get("base")?;
    if !base.starts_with("http://127.0.0.1:") && !base.starts_with("http://localhost:") {
        return Err("--base must be a loopback address".into());
    }
    Ok(Args {
        base,
        pid: num("pid", 0)? as u32,
        data: PathBuf::from(get("data")?),
        admin: get("admin")?,
        planner: get("planner")?,
        seconds: num("seconds", 300)?,
        clients: num("clients", 32)? as usize,
        interval: num("interval", 15)?.max(1),
        reload_every: num("reload-every", 5)?.max(1),
    })
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let r = lat.to_radians();
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    (x as u32, y as u32)
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    server_errors: AtomicU64,
    transport_errors: AtomicU64,
    client_errors: AtomicU64,
    wrong_version: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_refused: AtomicU64,
    reloads_unexpected: AtomicU64,
    latency_us_max: AtomicU64,
}

/// What a `/health` or items answer said: (data_version or "", count).
type Seen = Mutex<BTreeSet<(String, u64)>>;

fn paths(base_tiles: &[(u32, u32, u32)], code: &str) -> Vec<(String, bool)> {
    let mut p: Vec<(String, bool)> = base_tiles
        .iter()
        .map(|(z, x, y)| (format!("/tiles/{z}/{x}/{y}.mvt"), false))
        .collect();
    p.extend([
        ("/health".to_string(), false),
        ("/tiles.json".to_string(), false),
        (
            "/ogc/collections/hazard_sources/items?limit=10000".to_string(),
            true,
        ),
        (
            "/ogc/collections/enterprises/items?limit=100&bbox=118.4,24.7,118.8,25.1".to_string(),
            true,
        ),
        (
            "/ogc/collections/cells/items?limit=50&filter=risk_level%3D%27high%27".to_string(),
            false,
        ),
        ("/ogc/collections".to_string(), false),
        ("/api/ranking?level=cell&limit=20".to_string(), false),
        ("/api/stats".to_string(), false),
        ("/api/search?q=%E6%B3%89%E5%B7%9E".to_string(), false),
        (format!("/api/cells/{code}"), true),
    ]);
    p
}

#[allow(clippy::too_many_arguments)]
fn worker(
    id: usize,
    base: &str,
    planner: &str,
    paths: &[(String, bool)],
    stop: &AtomicBool,
    c: &Counters,
    seen: &Seen,
    samples: &Mutex<Vec<String>>,
) {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    let mut i = id * 7;
    while !stop.load(Ordering::Relaxed) {
        let (path, token) = &paths[i % paths.len()];
        i += 1;
        let mut req = agent.get(&format!("{base}{path}"));
        if *token {
            req = req.set("Authorization", &format!("Bearer {planner}"));
        }
        let started = Instant::now();
        let result = req.call();
        let (status, body) = match result {
            Ok(r) => {
                let s = r.status();
                let mut b = Vec::new();
                let _ = std::io::Read::read_to_end(&mut r.into_reader(), &mut b);
                (s, b)
            }
            Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default().into_bytes()),
            Err(e) => {
                c.transport_errors.fetch_add(1, Ordering::Relaxed);
                note(samples, format!("{path}: {e}"));
                continue;
            }
        };
        let us = started.elapsed().as_micros() as u64;
        c.latency_us_max.fetch_max(us, Ordering::Relaxed);
        c.requests.fetch_add(1, Ordering::Relaxed);
        if status >= 500 {
            c.server_errors.fetch_add(1, Ordering::Relaxed);
            note(samples, format!("{path}: {status}"));
        } else if status >= 400 {
            c.client_errors.fetch_add(1, Ordering::Relaxed);
            note(samples, format!("{path}: {status}"));
        } else if path == "/health" {
            let h: Value = serde_json::from_slice(&body).unwrap_or_default();
            let v = h["data_version"].as_str().unwrap_or("").to_string();
            let n = h["counts"]["hazard_sources"].as_u64().unwrap_or(0);
            if let Ok(mut s) = seen.lock() {
                s.insert((v, n));
            }
        } else if path.starts_with("/ogc/collections/hazard_sources") {
            let h: Value = serde_json::from_slice(&body).unwrap_or_default();
            let matched = h["numberMatched"].as_u64().unwrap_or(0);
            let returned = h["features"].as_array().map_or(0, Vec::len) as u64;
            if matched != returned {
                c.wrong_version.fetch_add(1, Ordering::Relaxed);
                note(
                    samples,
                    format!("items: matched {matched}, returned {returned}"),
                );
            }
            if let Ok(mut s) = seen.lock() {
                s.insert((String::new(), matched));
            }
        }
    }
}

fn note(samples: &Mutex<Vec<String>>, m: String) {
    if let Ok(mut s) = samples.lock()
        && s.len() < 20
    {
        s.push(m);
    }
}

/// The three versions of the hazard-source layer: the original, one with
/// its last feature dropped, and the original cut in half.
fn variants(file: &Path) -> Result<[Vec<u8>; 3], String> {
    let a = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut doc: Value =
        serde_json::from_slice(&a).map_err(|e| format!("{}: {e}", file.display()))?;
    let feats = doc["features"]
        .as_array_mut()
        .ok_or("hazard_sources.geojson has no features")?;
    feats.pop();
    let b = serde_json::to_vec(&doc).map_err(|e| e.to_string())?;
    let corrupt = a[..a.len() / 2].to_vec();
    Ok([a, b, corrupt])
}

fn reloader(a: &Args, stop: &AtomicBool, c: &Counters, versions: &Mutex<BTreeMap<String, u64>>) {
    let file = a.data.join("hazard_sources.geojson");
    let vs = match variants(&file) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("soak: {e}");
            c.reloads_unexpected.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    // good A, corrupt, good B, corrupt, …
    let order = [0usize, 2, 1, 2];
    let mut round = 0usize;
    let mut next = Instant::now() + Duration::from_secs(a.reload_every);
    while !stop.load(Ordering::Relaxed) {
        if Instant::now() < next {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        next += Duration::from_secs(a.reload_every);
        let which = order[round % order.len()];
        round += 1;
        // A plain, non-atomic overwrite.
        if let Err(e) = std::fs::write(&file, &vs[which]) {
            eprintln!("soak: {}: {e}", file.display());
            continue;
        }
        let resp = ureq::post(&format!("{}/api/admin/reload", a.base))
            .set("Authorization", &format!("Bearer {}", a.admin))
            .timeout(Duration::from_secs(120))
            .call();
        match (which, resp) {
            (0 | 1, Ok(r)) => {
                c.reloads_ok.fetch_add(1, Ordering::Relaxed);
                let v: Value = r.into_json().unwrap_or_default();
                if let (Some(ver), Some(n)) = (
                    v["data_version"].as_str(),
                    v["counts"]["hazard_sources"].as_u64(),
                ) && let Ok(mut m) = versions.lock()
                {
                    m.insert(ver.to_string(), n);
                }
            }
            (2, Err(ureq::Error::Status(422, _))) => {
                c.reloads_refused.fetch_add(1, Ordering::Relaxed);
            }
            (w, other) => {
                c.reloads_unexpected.fetch_add(1, Ordering::Relaxed);
                eprintln!("soak: reload of variant {w}: {other:?}");
            }
        }
    }
    // Leave the original data in place.
    let _ = std::fs::write(&file, &vs[0]);
}

fn main() -> std::process::ExitCode {
    let a = match args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("soak: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let health: Value = match ureq::get(&format!("{}/health", a.base)).call() {
        Ok(r) => r.into_json().unwrap_or_default(),
        Err(e) => {
            eprintln!("soak: server not reachable: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut versions = BTreeMap::new();
    if let (Some(v), Some(n)) = (
        health["data_version"].as_str(),
        health["counts"]["hazard_sources"].as_u64(),
    ) {
        versions.insert(v.to_string(), n);
    }
    let versions = Arc::new(Mutex::new(versions));
    // Tiles around 泉州 (118.6 E, 24.9 N) at zooms 8–15, a 3×3 block each.
    let mut tiles = Vec::new();
    for z in 8..=15 {
        let (x, y) = tile_of(118.6, 24.9, z);
        for dx in 0..3u32 {
            for dy in 0..3u32 {
                tiles.push((z, x + dx - 1, y + dy - 1));
            }
        }
    }
    let code: String = ureq::get(&format!("{}/api/ranking?level=cell&limit=1", a.base))
        .call()
        .ok()
        .and_then(|r| r.into_json::<Value>().ok())
        .and_then(|v| {
            v["items"][0]["code"]
                .as_str()
                .or(v[0]["code"].as_str())
                .map(String::from)
        })
        .unwrap_or_else(|| "350502001001".into());
    let paths = Arc::new(paths(&tiles, &code));
    let stop = Arc::new(AtomicBool::new(false));
    let c = Arc::new(Counters::default());
    let seen: Arc<Seen> = Arc::default();
    let samples: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut handles = Vec::new();
    for id in 0..a.clients {
        let (base, planner, paths, stop, c, seen, samples) = (
            a.base.clone(),
            a.planner.clone(),
            paths.clone(),
            stop.clone(),
            c.clone(),
            seen.clone(),
            samples.clone(),
        );
        handles.push(std::thread::spawn(move || {
            worker(id, &base, &planner, &paths, &stop, &c, &seen, &samples)
        }));
    }
    let reload = {
        let (a, stop, c, versions) = (a.clone(), stop.clone(), c.clone(), versions.clone());
        std::thread::spawn(move || reloader(&a, &stop, &c, &versions))
    };
    println!(
        "| t (s) | requests | req/s | 5xx | transport errors | 4xx | reloads ok | reloads refused | RSS (MiB) | max latency (ms) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let started = Instant::now();
    let mut last = 0u64;
    let mut rss = Vec::new();
    let mut t = 0;
    while t < a.seconds {
        let step = a.interval.min(a.seconds - t);
        std::thread::sleep(Duration::from_secs(step));
        t += step;
        let n = c.requests.load(Ordering::Relaxed);
        let r = rss_mib(a.pid);
        rss.push(r);
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} | {:.0} | {:.0} |",
            started.elapsed().as_secs(),
            n,
            (n - last) as f64 / step as f64,
            c.server_errors.load(Ordering::Relaxed),
            c.transport_errors.load(Ordering::Relaxed),
            c.client_errors.load(Ordering::Relaxed),
            c.reloads_ok.load(Ordering::Relaxed),
            c.reloads_refused.load(Ordering::Relaxed),
            r,
            c.latency_us_max.swap(0, Ordering::Relaxed) as f64 / 1000.0,
        );
        last = n;
    }
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    let _ = reload.join();
    // Every /health answer must pair a version with that version's count,
    // and every items answer must carry one of the versions' counts.
    let versions = versions.lock().map(|v| v.clone()).unwrap_or_default();
    let counts: BTreeSet<u64> = versions.values().copied().collect();
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let wrong_pairs = seen
        .iter()
        .filter(|(v, n)| {
            if v.is_empty() {
                !counts.contains(n)
            } else {
                versions.get(v) != Some(n)
            }
        })
        .count() as u64;
    let wrong = c.wrong_version.load(Ordering::Relaxed) + wrong_pairs;
    let s5 = c.server_errors.load(Ordering::Relaxed);
    let te = c.transport_errors.load(Ordering::Relaxed);
    let bad_reloads = c.reloads_unexpected.load(Ordering::Relaxed);
    let first = rss
        .get(rss.len().min(2).saturating_sub(1))
        .copied()
        .unwrap_or(0.0);
    let peak = rss.iter().copied().fold(0.0, f64::max);
    let end = rss.last().copied().unwrap_or(0.0);
    println!();
    println!(
        "requests {} · 5xx {s5} · transport errors {te} · 4xx {} · wrong-version {wrong} · reloads ok {} / refused {} / unexpected {bad_reloads} · versions seen {} · RSS {first:.0} → {end:.0} MiB (peak {peak:.0})",
        c.requests.load(Ordering::Relaxed),
        c.client_errors.load(Ordering::Relaxed),
        c.reloads_ok.load(Ordering::Relaxed),
        c.reloads_refused.load(Ordering::Relaxed),
        versions.len(),
    );
    if let Ok(s) = samples.lock() {
        for m in s.iter() {
            println!("  e.g. {m}");
        }
    }
    if s5 + te + wrong + bad_reloads + c.client_errors.load(Ordering::Relaxed) > 0 {
        println!("FAIL");
        return std::process::ExitCode::FAILURE;
    }
    println!("PASS");
    std::process::ExitCode::SUCCESS
}
