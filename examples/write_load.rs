//! Write load for `BENCHMARKS.md`: on a running server (loopback only),
//! first tiles alone, then `--clients` concurrent hidden-danger writers
//! (report → start → rectify → close cycles, each acknowledged only after
//! the journal's fsync) with the same tile readers beside them. Prints the
//! writes per second, the writes' p50/p99/max latency, and the tiles'
//! p50/p99 idle and under the write load.
//!
//! ```text
//! write_load --base http://127.0.0.1:PORT --planner TOKEN --admin TOKEN \
//!            [--clients 50] [--seconds 20] [--readers 8] [--rate 500] --bbox W,S,E,N \
//!            [--read-bbox W,S,E,N] [--read-rate 1000]
//! ```
//!
//! Without `--rate` every writer sends its next write as soon as the last
//! is answered (closed loop: the throughput the server reaches, and by
//! Little's law a latency of about clients ÷ throughput). With `--rate R`
//! the writers together send R writes a second on a fixed schedule (open
//! loop, evenly spaced: writer c of N starts c/N of its interval late),
//! and a write's latency counts from its scheduled time, so a server that
//! falls behind is charged for the wait. `--read-rate R` does the same for
//! the tile readers (R tiles a second together); without it each reader
//! asks for its next tile as soon as the last is answered, which keeps the
//! cores busy and measures their share of the CPU as much as the server.

#[path = "shared/load.rs"]
mod load;

use clap::Parser;
use load::{Rng, percentile};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Flags.
#[derive(Parser, Debug, Clone)]
struct Args {
    /// The server, e.g. http://127.0.0.1:8080 (loopback only).
    #[arg(long)]
    base: String,
    /// A planner token (reports, starts, rectifies).
    #[arg(long)]
    planner: String,
    /// An admin token (closes: never the token that rectified).
    #[arg(long)]
    admin: String,
    /// Concurrent writers.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Seconds per phase.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Concurrent tile readers.
    #[arg(long, default_value_t = 8)]
    readers: usize,
    /// Writes per second offered by all writers together on a fixed
    /// schedule; 0: each writer as fast as it is answered.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Tiles per second asked for by all readers together on a fixed
    /// schedule; 0: each reader as fast as it is answered.
    #[arg(long, default_value_t = 0.0)]
    read_rate: f64,
    /// Where to put the dangers (and read tiles): west,south,east,north.
    #[arg(long, value_delimiter = ',', required = true)]
    bbox: Vec<f64>,
    /// Where to read tiles instead, west,south,east,north (default: the
    /// writes' box): tiles away from the writes.
    #[arg(long, value_delimiter = ',')]
    read_bbox: Option<Vec<f64>>,
}

fn post(
    agent: &ureq::Agent,
    url: &str,
    token: &str,
    if_match: Option<&str>,
    body: Value,
) -> (u16, Option<String>, Value) {
    let mut req = agent
        .post(url)
        .set("Authorization", &format!("Bearer {token}"));
    if let Some(m) = if_match {
        req = req.set("If-Match", m);
    }
    let r = match req.send_json(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => {
            eprintln!("POST {url}: {e}");
            return (0, None, Value::Null);
        }
    };
    let s = r.status();
    let e = r.header("ETag").map(str::to_string);
    (s, e, r.into_json().unwrap_or(Value::Null))
}

fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let r = lat.to_radians();
    (
        ((lon + 180.0) / 360.0 * n) as u32,
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32,
    )
}

/// Tile readers until `stop`; returns their latencies.
fn read_tiles(args: &Args, stop: Arc<AtomicBool>) -> Vec<Duration> {
    let out = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        for r in 0..args.readers {
            let (out, stop, args) = (Arc::clone(&out), Arc::clone(&stop), args.clone());
            s.spawn(move || {
                let agent = ureq::AgentBuilder::new().build();
                let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15 ^ (r as u64 + 1));
                let mut mine = Vec::new();
                let b = args.read_bbox.as_ref().unwrap_or(&args.bbox);
                let [w, so, e, n] = [b[0], b[1], b[2], b[3]];
                let interval = (args.read_rate > 0.0)
                    .then(|| Duration::from_secs_f64(args.readers as f64 / args.read_rate));
                let offset = r as f64 / args.readers as f64;
                let mut next =
                    Instant::now() + interval.map_or(Duration::ZERO, |i| i.mul_f64(offset));
                while !stop.load(Ordering::Relaxed) {
                    let z = 10 + (rng.next() * 5.0) as u32;
                    let (x, y) = tile_of(w + (e - w) * rng.next(), so + (n - so) * rng.next(), z);
                    // Open loop: a tile's latency counts from its scheduled time.
                    let t = match interval {
                        None => Instant::now(),
                        Some(i) => {
                            let at = next;
                            next += i;
                            if let Some(wait) = at.checked_duration_since(Instant::now()) {
                                std::thread::sleep(wait);
                            }
                            at
                        }
                    };
                    let res = agent
                        .get(&format!("{}/tiles/{z}/{x}/{y}.mvt", args.base))
                        .set("Authorization", &format!("Bearer {}", args.planner))
                        .set("Accept-Encoding", "gzip")
                        .call();
                    if let Ok(r) = res {
                        let mut sink = Vec::new();
                        let _ = std::io::Read::read_to_end(&mut r.into_reader(), &mut sink);
                    }
                    mine.push(t.elapsed());
                }
                if let Ok(mut o) = out.lock() {
                    o.extend(mine);
                }
            });
        }
    });
    let mut v = out.lock().map(|o| o.clone()).unwrap_or_default();
    v.sort();
    v
}

fn main() {
    let args = Args::parse();
    if args.bbox.len() != 4 || args.read_bbox.as_ref().is_some_and(|b| b.len() != 4) {
        eprintln!("--bbox and --read-bbox take four numbers: west,south,east,north");
        std::process::exit(2);
    }
    if !args.base.starts_with("http://127.") && !args.base.starts_with("http://localhost") {
        eprintln!("write_load only targets a loopback address");
        std::process::exit(2);
    }
    let phase = Duration::from_secs(args.seconds);
    // Phase 1: tiles alone.
    let stop = Arc::new(AtomicBool::new(false));
    let idle = {
        let stop2 = Arc::clone(&stop);
        let t = std::thread::spawn(move || {
            std::thread::sleep(phase);
            stop2.store(true, Ordering::Relaxed);
        });
        let v = read_tiles(&args, Arc::clone(&stop));
        let _ = t.join();
        v
    };
    // Phase 2: writers and tiles.
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let refused = Arc::new(Mutex::new(0usize));
    let started = Instant::now();
    let loaded = std::thread::scope(|s| {
        for c in 0..args.clients {
            let (stop, writes, refused, args) = (
                Arc::clone(&stop),
                Arc::clone(&writes),
                Arc::clone(&refused),
                args.clone(),
            );
            s.spawn(move || {
                let agent = ureq::AgentBuilder::new().build();
                let mut rng = Rng::new(0x2545_f491_4f6c_dd1d ^ (c as u64 + 7));
                let mut mine = Vec::new();
                let mut bad = 0;
                let [w, so, e, n] = [args.bbox[0], args.bbox[1], args.bbox[2], args.bbox[3]];
                let url = format!("{}/api/hidden-dangers", args.base);
                // Open loop: this writer's share of --rate, the writers'
                // first writes spread evenly over one interval, so that
                // together they send at a constant rate (not in bursts).
                let interval = (args.rate > 0.0)
                    .then(|| Duration::from_secs_f64(args.clients as f64 / args.rate));
                let offset = c as f64 / args.clients as f64;
                let mut next = started + interval.map_or(Duration::ZERO, |i| i.mul_f64(offset));
                let mut due = || -> Instant {
                    let Some(i) = interval else { return Instant::now() };
                    let at = next;
                    next += i;
                    if let Some(wait) = at.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    at
                };
                while !stop.load(Ordering::Relaxed) {
                    let body = json!({"lon": w + (e - w) * rng.next(), "lat": so + (n - so) * rng.next(),
                        "grade": if rng.next() < 0.1 { "major" } else { "general" }, "category": "road",
                        "description": "压测", "deadline": "2099-12-31"});
                    let t = due();
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let (st, etag, b) = post(&agent, &url, &args.planner, None, body);
                    mine.push(t.elapsed());
                    if st != 201 {
                        eprintln!("report refused: {st} {b}");
                        bad += 1;
                        continue;
                    }
                    let Some(id) = b["id"].as_str() else { continue };
                    let ev = format!("{}/api/hidden-dangers/{id}/events", args.base);
                    let mut tag = etag;
                    for (token, action) in [(&args.planner, "start"), (&args.planner, "rectify"), (&args.admin, "close")] {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let t = due();
                        let (st, e, b) = post(&agent, &ev, token, tag.as_deref(), json!({"action": action}));
                        mine.push(t.elapsed());
                        if st != 200 {
                            eprintln!("{action} refused: {st} {b}");
                            bad += 1;
                            break;
                        }
                        tag = e;
                    }
                }
                if let (Ok(mut w), Ok(mut r)) = (writes.lock(), refused.lock()) {
                    w.extend(mine);
                    *r += bad;
                }
            });
        }
        let stop2 = Arc::clone(&stop);
        s.spawn(move || {
            std::thread::sleep(phase);
            stop2.store(true, Ordering::Relaxed);
        });
        read_tiles(&args, Arc::clone(&stop))
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut w = writes.lock().map(|w| w.clone()).unwrap_or_default();
    w.sort();
    let refused = refused.lock().map(|r| *r).unwrap_or(0);
    println!(
        "writes: {} in {elapsed:.1} s = {:.0}/s, refused {refused}; latency ms p50 {:.2} p99 {:.2} max {:.2}",
        w.len(),
        w.len() as f64 / elapsed,
        percentile(&w, 0.5),
        percentile(&w, 0.99),
        w.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    );
    println!(
        "tiles idle: {} requests, ms p50 {:.2} p99 {:.2}",
        idle.len(),
        percentile(&idle, 0.5),
        percentile(&idle, 0.99)
    );
    println!(
        "tiles under writes: {} requests, ms p50 {:.2} p99 {:.2} (p99 ratio {:.2})",
        loaded.len(),
        percentile(&loaded, 0.5),
        percentile(&loaded, 0.99),
        percentile(&loaded, 0.99) / percentile(&idle, 0.99)
    );
}
