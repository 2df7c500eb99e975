//! Writes the request lists `scripts/bench.sh` replays with wrk:
//! `cargo run --release --example bench_workload -- DATA_DIR OUT_DIR [N] [SEED]`.
//!
//! - `tiles.txt`: `z/x/y` of N random tiles, zoom uniform in 6–16, centred
//!   on random enterprises (so tiles are weighted to where the data is);
//! - `at.txt`: N `/api/cells/at` queries at random enterprises moved up to
//!   about 500 m;
//! - `ogc.txt`: N `/ogc/collections/cells/items` pages of 1,000 cells at
//!   random offsets.

use rand::{Rng, SeedableRng};
use riskmap::config::Config;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The tile of zoom `z` holding the lon/lat point (Web Mercator).
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let lat = lat.clamp(-85.05, 85.05).to_radians();
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    (x.clamp(0.0, n - 1.0) as u32, y.clamp(0.0, n - 1.0) as u32)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = PathBuf::from(args.first().ok_or("usage: DATA_DIR OUT_DIR [N] [SEED]")?);
    let out = PathBuf::from(args.get(1).ok_or("usage: DATA_DIR OUT_DIR [N] [SEED]")?);
    let n: usize = args.get(2).map_or(Ok(20_000), |s| s.parse())?;
    let seed: u64 = args.get(3).map_or(Ok(42), |s| s.parse())?;
    let loaded = riskmap::ingest::load_dir(&data, &Config::default().ingest())?;
    let ds = loaded.dataset;
    let cells = ds
        .units
        .iter()
        .filter(|u| u.level == riskmap::model::Level::Cell)
        .count();
    if ds.enterprises.is_empty() || cells == 0 {
        return Err("the dataset has no enterprises or no cells".into());
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut tiles = String::new();
    let mut at = String::new();
    let mut ogc = String::new();
    for _ in 0..n {
        let e = &ds.enterprises[rng.random_range(0..ds.enterprises.len())];
        let z: u8 = rng.random_range(6..=16);
        let (x, y) = tile_of(e.location.x(), e.location.y(), z);
        writeln!(tiles, "{z}/{x}/{y}")?;
        let e = &ds.enterprises[rng.random_range(0..ds.enterprises.len())];
        let lon = e.location.x() + rng.random_range(-0.005..0.005);
        let lat = e.location.y() + rng.random_range(-0.005..0.005);
        writeln!(at, "/api/cells/at?lon={lon:.6}&lat={lat:.6}")?;
        let offset = rng.random_range(0..cells.div_ceil(1000)) * 1000;
        writeln!(
            ogc,
            "/ogc/collections/cells/items?limit=1000&offset={offset}"
        )?;
    }
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("tiles.txt"), tiles)?;
    std::fs::write(out.join("at.txt"), at)?;
    std::fs::write(out.join("ogc.txt"), ogc)?;
    eprintln!(
        "{n} requests of each kind over {} enterprises and {cells} cells in {}",
        ds.enterprises.len(),
        out.display()
    );
    Ok(())
}
