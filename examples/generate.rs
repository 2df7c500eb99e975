//! Generates a dataset: `cargo run --release --example generate -- quanzhou 42 data/quanzhou [fgb|geojson] [YYYY-MM-DD]`
//! (the last: the as-of date, default today in Asia/Shanghai).

use riskmap::generate::{Preset, generate, today};
use riskmap::write::Format;
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let preset: Preset = args
        .first()
        .map(String::as_str)
        .unwrap_or("quanzhou")
        .parse()?;
    let seed: u64 = args.get(1).map(String::as_str).unwrap_or("42").parse()?;
    let out = PathBuf::from(args.get(2).map(String::as_str).unwrap_or("data/quanzhou"));
    let format: Format = args.get(3).map(String::as_str).unwrap_or("fgb").parse()?;
    let as_of = match args.get(4) {
        Some(d) => d.parse()?,
        None => today(),
    };
    let start = Instant::now();
    let progress = |m: &str| eprintln!("[{:>7.2}s] {m}", start.elapsed().as_secs_f64());
    let summary = generate(preset, seed, as_of, &out, format, &progress)?;
    println!("{summary}");
    for f in &summary.files {
        println!("  {}", f.display());
    }
    println!("in {:.2} s", start.elapsed().as_secs_f64());
    Ok(())
}
