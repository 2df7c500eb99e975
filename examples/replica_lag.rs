//! Replica lag for `BENCHMARKS.md`: two replicas on one PostgreSQL
//! journal (loopback only). `--clients` writers post hidden-danger reports
//! to `--write` at a paced total of `--rate` per second; one reader holds
//! the other replica's event stream (`--read` `/api/events`, admin token)
//! and notes when each report's `hidden_danger` event arrives. Prints the
//! writes' p50/p99 acknowledged latency (the database commit included) and
//! the lag from a write's answer on the first replica to its event on the
//! second, and how many acknowledged writes the second never showed. A
//! report refused because its random point lies outside every grid cell
//! is not counted as a write.
//!
//! ```text
//! replica_lag --write http://127.0.0.1:A --read http://127.0.0.1:B \
//!             --planner TOKEN --admin TOKEN [--rate 100] [--clients 20] \
//!             [--seconds 30] --bbox W,S,E,N
//! ```

#[path = "shared/load.rs"]
mod load;

use clap::Parser;
use load::{Rng, percentile};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Flags.
#[derive(Parser, Debug, Clone)]
struct Args {
    /// The replica the writes go to, e.g. http://127.0.0.1:8081.
    #[arg(long)]
    write: String,
    /// The replica whose event stream shows them, e.g. http://127.0.0.1:8082.
    #[arg(long)]
    read: String,
    /// A planner token (reports).
    #[arg(long)]
    planner: String,
    /// A token that sees every record (the event stream).
    #[arg(long)]
    admin: String,
    /// Writes per second, all writers together.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Concurrent writers.
    #[arg(long, default_value_t = 20)]
    clients: usize,
    /// Seconds of writing.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Where to put the reports: west,south,east,north.
    #[arg(long, value_delimiter = ',', required = true)]
    bbox: Vec<f64>,
}

/// When each report was acknowledged by the first replica and seen on the
/// second, by id.
#[derive(Default)]
struct Seen {
    acked: HashMap<String, Instant>,
    shown: HashMap<String, Instant>,
}

/// Reads `--read`'s event stream until `stop`, noting each record's first
/// `hidden_danger` event.
fn watch(args: &Args, seen: Arc<Mutex<Seen>>, ready: Arc<AtomicBool>, stop: Arc<AtomicBool>) {
    let agent = ureq::AgentBuilder::new().build();
    let res = agent
        .get(&format!("{}/api/events", args.read))
        .set("Authorization", &format!("Bearer {}", args.admin))
        .call();
    let r = match res {
        Ok(r) => r,
        Err(e) => {
            eprintln!("event stream of {}: {e}", args.read);
            std::process::exit(1);
        }
    };
    let mut event = String::new();
    for line in std::io::BufReader::new(r.into_reader()).lines() {
        let Ok(line) = line else { break };
        if let Some(name) = line.strip_prefix("event:") {
            event = name.trim().to_string();
            if event == "hello" {
                ready.store(true, Ordering::Relaxed);
            }
        } else if let Some(data) = line.strip_prefix("data:") {
            if event == "hidden_danger" {
                let at = Instant::now();
                let v: Value = serde_json::from_str(data.trim()).unwrap_or(Value::Null);
                if let (Some(id), Ok(mut s)) = (v["id"].as_str(), seen.lock()) {
                    s.shown.entry(id.to_string()).or_insert(at);
                }
            }
        } else if line.is_empty() {
            event.clear();
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
}

fn main() {
    let args = Args::parse();
    if args.bbox.len() != 4 || args.rate <= 0.0 || args.clients == 0 {
        eprintln!("--bbox takes four numbers; --rate and --clients must be positive");
        std::process::exit(2);
    }
    let loopback = |u: &str| u.starts_with("http://127.") || u.starts_with("http://localhost");
    if !loopback(&args.write) || !loopback(&args.read) {
        eprintln!("replica_lag only targets loopback addresses");
        std::process::exit(2);
    }
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (ready, stop) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    {
        let (args, seen, ready, stop) = (
            args.clone(),
            Arc::clone(&seen),
            Arc::clone(&ready),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || watch(&args, seen, ready, stop));
    }
    let t = Instant::now();
    while !ready.load(Ordering::Relaxed) {
        if t.elapsed() > Duration::from_secs(10) {
            eprintln!("no hello from {}/api/events within 10 s", args.read);
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let writes = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let refused = Arc::new(Mutex::new(0usize));
    let period = Duration::from_secs_f64(args.clients as f64 / args.rate);
    let phase = Duration::from_secs(args.seconds);
    let started = Instant::now();
    std::thread::scope(|s| {
        for c in 0..args.clients {
            let (writes, refused, seen, args) = (
                Arc::clone(&writes),
                Arc::clone(&refused),
                Arc::clone(&seen),
                args.clone(),
            );
            s.spawn(move || {
                let agent = ureq::AgentBuilder::new().build();
                let mut rng = Rng::new(0x2545_f491_4f6c_dd1d ^ (c as u64 + 7));
                let (mut mine, mut bad) = (Vec::new(), 0usize);
                let [w, so, e, n] = [args.bbox[0], args.bbox[1], args.bbox[2], args.bbox[3]];
                let url = format!("{}/api/hidden-dangers", args.write);
                // Writers start spread over one period, then keep the pace.
                let mut next = started + period.mul_f64(c as f64 / args.clients as f64);
                while next < started + phase {
                    if let Some(wait) = next.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    next += period;
                    let body = json!({"lon": w + (e - w) * rng.next(), "lat": so + (n - so) * rng.next(),
                        "grade": "general", "category": "road", "description": "副本延迟测试",
                        "deadline": "2099-12-31"});
                    let t = Instant::now();
                    let res = agent
                        .post(&url)
                        .set("Authorization", &format!("Bearer {}", args.planner))
                        .send_json(body);
                    let acked = Instant::now();
                    mine.push(acked - t);
                    let id = match res {
                        Ok(r) if r.status() == 201 => r
                            .into_json::<Value>()
                            .ok()
                            .and_then(|b| b["id"].as_str().map(str::to_string)),
                        // A random point in the sea or between cells.
                        Err(ureq::Error::Status(400, r)) => {
                            let body = r.into_string().unwrap_or_default();
                            if !body.contains("outside every grid cell") {
                                eprintln!("writer {c}: 400 {body}");
                                bad += 1;
                            }
                            mine.pop();
                            continue;
                        }
                        Ok(r) | Err(ureq::Error::Status(_, r)) => {
                            if bad < 3 {
                                let status = r.status();
                                eprintln!("writer {c}: {status} {}", r.into_string().unwrap_or_default());
                            }
                            None
                        }
                        Err(e) => {
                            if bad < 3 {
                                eprintln!("writer {c}: {e}");
                            }
                            None
                        }
                    };
                    match (id, seen.lock()) {
                        (Some(id), Ok(mut s)) => {
                            s.acked.insert(id, acked);
                        }
                        _ => bad += 1,
                    }
                }
                if let (Ok(mut w), Ok(mut r)) = (writes.lock(), refused.lock()) {
                    w.extend(mine);
                    *r += bad;
                }
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    // Give the second replica up to 10 s to show the last writes.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let done = seen
            .lock()
            .map(|s| s.acked.keys().all(|id| s.shown.contains_key(id)))
            .unwrap_or(true);
        if done || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let mut w = writes.lock().map(|w| w.clone()).unwrap_or_default();
    w.sort();
    let refused = refused.lock().map(|r| *r).unwrap_or(0);
    let (mut lag, mut missing, mut early) = (Vec::new(), 0usize, 0usize);
    if let Ok(s) = seen.lock() {
        for (id, acked) in &s.acked {
            match s.shown.get(id) {
                Some(shown) => {
                    if shown < acked {
                        early += 1;
                    }
                    lag.push(shown.saturating_duration_since(*acked));
                }
                None => missing += 1,
            }
        }
    }
    lag.sort();
    println!(
        "writes: {} in {elapsed:.1} s = {:.0}/s, refused {refused}; latency ms p50 {:.2} p99 {:.2} max {:.2}",
        w.len(),
        w.len() as f64 / elapsed,
        percentile(&w, 0.5),
        percentile(&w, 0.99),
        w.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    );
    println!(
        "lag to the other replica: {} shown ({early} before the writer had its answer), {missing} never; ms p50 {:.2} p99 {:.2} max {:.2}",
        lag.len(),
        percentile(&lag, 0.5),
        percentile(&lag, 0.99),
        lag.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    );
    if missing > 0 || refused > 0 {
        std::process::exit(1);
    }
}
