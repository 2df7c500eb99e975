//! Hostile-client driver for `scripts/hostile.sh`: against a running
//! server on loopback, holds `--slow` connections that ask for a page of
//! 10,000 grid cells and never read, and `--idle` connections that send
//! nothing, spread over source addresses 127.0.0.2… (`--sources`, so the
//! per-address cap admits them), reopening any the server closes, for
//! `--seconds`. Meanwhile, from 127.0.0.1, a fresh connection asks
//! `/health` and an uncached tile every 250 ms. Prints one row per 5 s and
//! a verdict: exit status 1 if any probe failed or took 1 s or more, or a
//! slow socket lived longer than `--close-within` seconds.
//!
//! ```text
//! hostile --addr 127.0.0.1:PORT --pid PID [--slow 500] [--idle 200]
//!         [--sources 14] [--seconds 60] [--close-within 35]
//! ```

use socket2::{Domain, SockAddr, Socket, Type};
use std::collections::HashMap;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::time::{Duration, Instant};

/// Hostile clients against a running riskmap server.
#[derive(clap::Parser)]
struct Args {
    /// The server's address.
    #[arg(long)]
    addr: SocketAddr,
    /// The server's process id (its RSS is sampled; 0: not sampled).
    #[arg(long, default_value_t = 0)]
    pid: u32,
    /// Connections that request a large page and never read.
    #[arg(long, default_value_t = 500)]
    slow: usize,
    /// Connections that send nothing.
    #[arg(long, default_value_t = 200)]
    idle: usize,
    /// Loopback source addresses to spread them over (127.0.0.2…).
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u8).range(1..=250))]
    sources: u8,
    /// How long to hold them.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Seconds within which the server must have closed a slow socket.
    #[arg(long, default_value_t = 35)]
    close_within: u64,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Slow,
    Idle,
}

/// One hostile connection.
struct Conn {
    kind: Kind,
    /// Held open, never read.
    _stream: TcpStream,
    key: String,
    opened: Instant,
}

/// The `/proc/net/tcp` key (`IIIIIIII:PPPP`) of a local IPv4 address.
fn proc_key(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(a.ip().octets()),
            a.port()
        ),
        SocketAddr::V6(_) => String::new(),
    }
}

/// TCP state per local address (`01` established, `08` close-wait, …).
fn tcp_states() -> HashMap<String, String> {
    let text = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let local = f.nth(1)?.to_string();
            let state = f.nth(1)?.to_string();
            Some((local, state))
        })
        .collect()
}

fn open(kind: Kind, from: Ipv4Addr, server: SocketAddr) -> std::io::Result<Conn> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.bind(&SockAddr::from(SocketAddrV4::new(from, 0)))?;
    socket.connect(&SockAddr::from(server))?;
    let mut stream: TcpStream = socket.into();
    if kind == Kind::Slow {
        stream.write_all(
            b"GET /ogc/collections/cells/items?limit=10000 HTTP/1.1\r\nHost: x\r\n\r\n",
        )?;
    }
    let key = proc_key(stream.local_addr()?);
    Ok(Conn {
        kind,
        _stream: stream,
        key,
        opened: Instant::now(),
    })
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One probe on a fresh connection: status and seconds taken.
fn probe(base: &str, path: &str) -> (u16, f64) {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let started = Instant::now();
    let status = match agent.get(&format!("{base}{path}")).call() {
        Ok(r) => {
            let s = r.status();
            let _ = r.into_string();
            s
        }
        Err(ureq::Error::Status(s, _)) => s,
        Err(_) => 0,
    };
    (status, started.elapsed().as_secs_f64())
}

fn main() {
    let a = <Args as clap::Parser>::parse();
    let base = format!("http://{}", a.addr);
    let source = |i: usize| Ipv4Addr::new(127, 0, 0, 2 + (i % usize::from(a.sources)) as u8);
    let mut conns: Vec<Conn> = Vec::new();
    let mut opened = 0usize;
    let mut open_failures = 0usize;
    let want = [(Kind::Slow, a.slow), (Kind::Idle, a.idle)];
    let refill = |conns: &mut Vec<Conn>, opened: &mut usize, failures: &mut usize| {
        for (kind, n) in want {
            let have = conns.iter().filter(|c| c.kind == kind).count();
            for _ in have..n {
                match open(kind, source(*opened), a.addr) {
                    Ok(c) => conns.push(c),
                    Err(_) => *failures += 1,
                }
                *opened += 1;
            }
        }
    };
    refill(&mut conns, &mut opened, &mut open_failures);
    println!(
        "held {} slow + {} idle connections from {} addresses",
        a.slow, a.idle, a.sources
    );
    println!(
        "{:>5} {:>6} {:>6} {:>9} {:>9} {:>8} {:>8} {:>9}",
        "t_s", "slow", "idle", "health_ms", "tile_ms", "failed", "closed", "rss_mib"
    );
    let started = Instant::now();
    let mut max_health = 0f64;
    let mut max_tile = 0f64;
    let mut failed = 0usize;
    let mut probes = 0usize;
    let mut closed_slow = 0usize;
    let mut closed_idle = 0usize;
    let mut longest_slow = 0f64;
    let mut rss_max = 0u64;
    let mut rss_min = u64::MAX;
    let mut window = (0f64, 0f64, 0usize);
    let mut tile = 0u32;
    let mut next_row = 5.0;
    while started.elapsed() < Duration::from_secs(a.seconds) {
        // The server's closures: a socket no longer established.
        let states = tcp_states();
        conns.retain(|c| {
            let open = states.get(&c.key).is_some_and(|s| s == "01");
            if !open {
                let lived = c.opened.elapsed().as_secs_f64();
                match c.kind {
                    Kind::Slow => {
                        closed_slow += 1;
                        longest_slow = longest_slow.max(lived);
                    }
                    Kind::Idle => closed_idle += 1,
                }
            }
            open
        });
        // Sockets still open past the limit count too.
        for c in &conns {
            if c.kind == Kind::Slow {
                longest_slow = longest_slow.max(c.opened.elapsed().as_secs_f64());
            }
        }
        refill(&mut conns, &mut opened, &mut open_failures);
        let (hs, ht) = probe(&base, "/health");
        // A tile of the demo city nobody asked for yet (uncached).
        let (x, y) = (13_560 + tile % 60, 7_000 + (tile / 60) % 40);
        tile += 1;
        let (ts, tt) = probe(&base, &format!("/tiles/14/{x}/{y}.mvt"));
        probes += 1;
        if hs != 200 || !(ts == 200 || ts == 204) || ht >= 1.0 || tt >= 1.0 {
            failed += 1;
            eprintln!("probe: /health {hs} in {ht:.3} s, tile {ts} in {tt:.3} s");
        }
        max_health = max_health.max(ht);
        max_tile = max_tile.max(tt);
        window.0 = window.0.max(ht);
        window.1 = window.1.max(tt);
        let rss = rss_kib(a.pid);
        rss_max = rss_max.max(rss);
        rss_min = rss_min.min(rss);
        let t = started.elapsed().as_secs_f64();
        if t >= next_row {
            let slow = conns.iter().filter(|c| c.kind == Kind::Slow).count();
            println!(
                "{:>5.0} {:>6} {:>6} {:>9.1} {:>9.1} {:>8} {:>8} {:>9.1}",
                t,
                slow,
                conns.len() - slow,
                window.0 * 1000.0,
                window.1 * 1000.0,
                failed,
                closed_slow + closed_idle,
                rss as f64 / 1024.0
            );
            window = (0.0, 0.0, 0);
            next_row += 5.0;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    println!(
        "probes {probes}, failed {failed}; slowest /health {:.1} ms, slowest tile {:.1} ms",
        max_health * 1000.0,
        max_tile * 1000.0
    );
    println!(
        "connections opened {opened} ({open_failures} failed to open); closed by the server: {closed_slow} slow, {closed_idle} idle; longest-lived slow socket {longest_slow:.1} s"
    );
    println!(
        "server RSS {:.1}–{:.1} MiB",
        rss_min as f64 / 1024.0,
        rss_max as f64 / 1024.0
    );
    let ok = failed == 0 && longest_slow <= a.close_within as f64;
    println!("{}", if ok { "PASS" } else { "FAIL" });
    std::process::exit(if ok { 0 } else { 1 });
}
