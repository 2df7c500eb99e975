//! Builds the tiles listed in a `tiles.txt` (as written by `bench_workload`)
//! one after another, uncached, and prints the time per zoom:
//! `cargo run --release --example tile_profile -- DATA_DIR TILES_TXT [LIMIT]`.
//!
//! Meant for profilers (`perf record`, `valgrind --tool=callgrind`): no
//! HTTP, no cache, no compression, one thread, every layer (planner scope).

use riskmap::auth::Scope;
use riskmap::config::Config;
use riskmap::snapshot::Snapshot;
use riskmap::tiles::{TileId, TilePolicy};
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: DATA_DIR TILES_TXT [LIMIT]";
    let data = PathBuf::from(args.first().ok_or(usage)?);
    let list = std::fs::read_to_string(args.get(1).ok_or(usage)?)?;
    let limit: usize = args.get(2).map_or(Ok(usize::MAX), |s| s.parse())?;
    let t0 = Instant::now();
    // With the tile geometry prepared, so the first tile's time is its own.
    let snap = Snapshot::load(&data, &Config::default())?;
    snap.tiles();
    eprintln!("loaded in {:.1} s", t0.elapsed().as_secs_f64());
    let policy = TilePolicy::default();
    // Per zoom: tiles, total seconds, worst seconds, total bytes, most bytes.
    let mut per_zoom = vec![(0usize, 0f64, 0f64, 0usize, 0usize); 23];
    for line in list.lines().take(limit) {
        let mut parts = line.trim().split('/').map(str::parse::<u32>);
        let (Some(Ok(z)), Some(Ok(x)), Some(Ok(y))) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let tile = TileId::new(z, x, y)?;
        let t = Instant::now();
        let built = snap.build_tile(Scope::All, tile, &policy);
        let dt = t.elapsed().as_secs_f64();
        if std::env::var_os("TILE_PROFILE_COUNTS").is_some()
            && let Some(b) = &built
        {
            eprintln!("{tile}: {} B, {:?}", b.bytes.len(), b.counts);
        }
        let row = &mut per_zoom[z as usize];
        row.0 += 1;
        row.1 += dt;
        row.2 = row.2.max(dt);
        let bytes = built.map_or(0, |b| b.bytes.len());
        row.3 += bytes;
        row.4 = row.4.max(bytes);
    }
    println!("| z | tiles | mean ms | max ms | mean KB | max KB |");
    println!("|---|---|---|---|---|---|");
    let (mut n, mut total) = (0, 0.0);
    for (z, (count, secs, worst, bytes, most)) in per_zoom.iter().enumerate() {
        if *count == 0 {
            continue;
        }
        n += count;
        total += secs;
        println!(
            "| {z} | {count} | {:.2} | {:.1} | {:.1} | {:.1} |",
            secs * 1e3 / *count as f64,
            worst * 1e3,
            *bytes as f64 / 1024.0 / *count as f64,
            *most as f64 / 1024.0
        );
    }
    println!(
        "all: {n} tiles, {:.2} ms mean, {:.0} tiles/s on one thread",
        total * 1e3 / n as f64,
        n as f64 / total
    );
    Ok(())
}
