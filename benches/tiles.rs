//! Uncached composite tile encoding at z8, z12 and z16 over a synthetic
//! city: 1 county, 4 towns, 64 villages, 1,024 cells (each a 40-vertex
//! polygon), 40,000 enterprises, 100 hazard sources.
//!
//! With `RISKMAP_BENCH_DATA=DIR` (e.g. `data/province`, made by
//! `riskmap generate --preset province`), the same zooms over that dataset
//! too, centred on its median enterprise:
//! `RISKMAP_BENCH_DATA=data/province cargo bench --bench tiles`.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use geo::{Coord, LineString, MultiPolygon, Point, Polygon};
use riskmap::auth::Scope;
use riskmap::crs::mercator::tile_for;
use riskmap::index::{Store, UnitId};
use riskmap::model::{
    Dataset, Enterprise, GridUnit, HazardGrade, HazardSource, Industry, Level, RiskLevel,
};
use riskmap::tiles::{Prepared, TileId, TilePolicy, build_tile};
use std::collections::HashMap;

/// A square of side `s` at (x, y) with 10 vertices per side.
fn square(x: f64, y: f64, s: f64) -> MultiPolygon<f64> {
    let mut pts = Vec::new();
    for i in 0..10 {
        pts.push(Coord {
            x: x + s * f64::from(i) / 10.0,
            y,
        });
    }
    for i in 0..10 {
        pts.push(Coord {
            x: x + s,
            y: y + s * f64::from(i) / 10.0,
        });
    }
    for i in 0..10 {
        pts.push(Coord {
            x: x + s - s * f64::from(i) / 10.0,
            y: y + s,
        });
    }
    for i in 0..10 {
        pts.push(Coord {
            x,
            y: y + s - s * f64::from(i) / 10.0,
        });
    }
    pts.push(pts[0]);
    MultiPolygon(vec![Polygon::new(LineString(pts), vec![])])
}

fn unit(
    code: String,
    level: Level,
    parent: Option<String>,
    geometry: MultiPolygon<f64>,
) -> GridUnit {
    GridUnit {
        name: code.clone(),
        code,
        level,
        parent_code: parent,
        population: 100,
        manager: None,
        geometry,
    }
}

fn city() -> Store {
    let (x0, y0, side) = (118.3, 24.6, 0.64);
    let mut units = vec![unit(
        "350502".into(),
        Level::County,
        None,
        square(x0, y0, side),
    )];
    let mut seed: u64 = 7;
    let mut rnd = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 11) as f64) / ((1u64 << 53) as f64)
    };
    for t in 0..4usize {
        let (tx, ty) = (
            x0 + (t % 2) as f64 * side / 2.0,
            y0 + (t / 2) as f64 * side / 2.0,
        );
        let tcode = format!("350502{:03}", t + 1);
        units.push(unit(
            tcode.clone(),
            Level::Town,
            Some("350502".into()),
            square(tx, ty, side / 2.0),
        ));
        for v in 0..16usize {
            let vs = side / 8.0;
            let (vx, vy) = (tx + (v % 4) as f64 * vs, ty + (v / 4) as f64 * vs);
            let vcode = format!("{tcode}{:03}", v + 1);
            units.push(unit(
                vcode.clone(),
                Level::Village,
                Some(tcode.clone()),
                square(vx, vy, vs),
            ));
            for c in 0..16usize {
                let cs = vs / 4.0;
                let (cx, cy) = (vx + (c % 4) as f64 * cs, vy + (c / 4) as f64 * cs);
                units.push(unit(
                    format!("{vcode}{:03}", c + 1),
                    Level::Cell,
                    Some(vcode.clone()),
                    square(cx, cy, cs),
                ));
            }
        }
    }
    let grades = [
        RiskLevel::Major,
        RiskLevel::High,
        RiskLevel::Medium,
        RiskLevel::Low,
    ];
    let enterprises = (0..40_000)
        .map(|i| {
            // Dense towards the centre, like industrial parks.
            let (a, b) = (rnd(), rnd());
            let (lon, lat) = (x0 + side * (0.3 + 0.4 * a * a), y0 + side * (0.3 + 0.4 * b));
            Enterprise {
                id: format!("E{i}"),
                name: format!("企业{i}"),
                uscc: None,
                industry: Industry::GeneralManufacturing,
                risk_grade: grades[i % 4],
                employees: 10,
                hidden_dangers_open: 1,
                major_hidden_dangers_open: 0,
                blacklisted: false,
                cell_code: None,
                location: Point::new(lon, lat),
            }
        })
        .collect();
    let hazard_sources = (0..100)
        .map(|i| HazardSource {
            id: format!("H{i}"),
            name: format!("危险源{i}"),
            enterprise_id: None,
            grade: HazardGrade::from_r_value(f64::from(i)),
            r_value: None,
            substances: "液化石油气".into(),
            monitored: i % 2 == 0,
            supervisor: None,
            location: Point::new(x0 + side * rnd(), y0 + side * rnd()),
        })
        .collect();
    Store::build(Dataset {
        units,
        enterprises,
        hazard_sources,
        collapse_zones: Vec::new(),
        ..Dataset::default()
    })
}

fn bench(c: &mut Criterion) {
    let store = city();
    let risk: HashMap<UnitId, (f64, RiskLevel)> = (0..store.units().len() as UnitId)
        .map(|i| (i, (f64::from(i % 1000) / 10.0, RiskLevel::Medium)))
        .collect();
    let policy = TilePolicy::default();
    let prepared = Prepared::build(&store, &policy);
    for z in [8u8, 12, 16] {
        let (x, y) = tile_for(118.62, 24.92, z);
        let Ok(tile) = TileId::new(u32::from(z), x, y) else {
            continue;
        };
        if let Some(t) = build_tile(&store, &prepared, &risk, Scope::All, tile, &policy) {
            eprintln!(
                "z{z}: {} bytes, {:?}, clustered {}",
                t.bytes.len(),
                t.counts,
                t.clustered
            );
        }
        c.bench_function(&format!("tile z{z} (uncached, token)"), |b| {
            b.iter(|| {
                black_box(build_tile(
                    &store,
                    &prepared,
                    &risk,
                    Scope::All,
                    tile,
                    &policy,
                ))
            })
        });
    }
}

fn bench_dataset(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("RISKMAP_BENCH_DATA") else {
        return;
    };
    let config = riskmap::config::Config::default();
    let snap = match riskmap::snapshot::Snapshot::load(std::path::Path::new(&dir), &config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("RISKMAP_BENCH_DATA: {e}");
            return;
        }
    };
    let mut lons: Vec<(f64, f64)> = snap
        .store
        .dataset
        .enterprises
        .iter()
        .map(|e| (e.location.x(), e.location.y()))
        .collect();
    if lons.is_empty() {
        return;
    }
    lons.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (lon, lat) = lons[lons.len() / 2];
    let policy = TilePolicy::default();
    let name = std::path::Path::new(&dir)
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    for z in [8u8, 12, 16] {
        let (x, y) = tile_for(lon, lat, z);
        let Ok(tile) = TileId::new(u32::from(z), x, y) else {
            continue;
        };
        let build = || snap.build_tile(Scope::All, tile, &policy);
        if let Some(t) = build() {
            eprintln!("{name} {tile}: {} bytes, {:?}", t.bytes.len(), t.counts);
        }
        c.bench_function(&format!("{name} tile z{z} (uncached, token)"), |b| {
            b.iter(|| black_box(build()))
        });
    }
}

criterion_group!(benches, bench, bench_dataset);
criterion_main!(benches);
