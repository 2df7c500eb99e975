//! Risk engine on a synthetic city: 7,056 cells, 40,000 enterprises,
//! 95 hazard sources, 300 collapse zones. Full scoring and single-feature
//! incremental updates.
//!
//! With `RISKMAP_BENCH_DATA=DIR` (a generated dataset, e.g. the demo made by
//! `riskmap generate --preset quanzhou --seed 42 --out /tmp/qz`) also the
//! full rescore of that dataset, an incremental one-enterprise change and
//! the on-demand contributions of its largest county: `RISKMAP_BENCH_DATA=/tmp/qz cargo bench --bench risk`.

use criterion::{BatchSize, Bencher, Criterion, criterion_group, criterion_main};
use geo::{MultiPolygon, Point, polygon};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use riskmap::index::Store;
use riskmap::model::{
    CollapseKind, CollapseZone, Dataset, Enterprise, GridUnit, HazardGrade, HazardSource, Industry,
    Level, RiskLevel, Severity,
};
use riskmap::risk::{Change, RiskParams, Scores, score_all};
use std::hint::black_box;

const X0: f64 = 118.3;
const Y0: f64 = 24.7;
/// Cell side, degrees (about 400 m × 445 m).
const SIDE: f64 = 0.004;
/// Cells per row and column: 84 × 84 = 7,056.
const N: usize = 84;

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![polygon![
        (x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)
    ]])
}

fn unit(
    code: String,
    level: Level,
    parent: Option<String>,
    g: MultiPolygon<f64>,
    pop: u64,
) -> GridUnit {
    GridUnit {
        name: code.clone(),
        code,
        level,
        parent_code: parent,
        population: pop,
        manager: None,
        geometry: g,
    }
}

/// Counties are columns of 12 × 84 cells, towns 12 × 12, villages 4 × 4.
fn grid(rng: &mut ChaCha8Rng) -> Vec<GridUnit> {
    let block = |i0: usize, j0: usize, w: usize, h: usize| {
        let (x, y) = (X0 + SIDE * i0 as f64, Y0 + SIDE * j0 as f64);
        rect(x, y, x + SIDE * w as f64, y + SIDE * h as f64)
    };
    let mut units = Vec::new();
    for c in 0..N / 12 {
        let county = format!("3505{:02}", c + 1);
        units.push(unit(
            county.clone(),
            Level::County,
            None,
            block(c * 12, 0, 12, N),
            0,
        ));
        for t in 0..N / 12 {
            let town = format!("{county}{:03}", t + 1);
            units.push(unit(
                town.clone(),
                Level::Town,
                Some(county.clone()),
                block(c * 12, t * 12, 12, 12),
                0,
            ));
            for v in 0..9 {
                let (vi, vj) = (c * 12 + (v % 3) * 4, t * 12 + (v / 3) * 4);
                let village = format!("{town}{:03}", v + 1);
                units.push(unit(
                    village.clone(),
                    Level::Village,
                    Some(town.clone()),
                    block(vi, vj, 4, 4),
                    0,
                ));
                for k in 0..16 {
                    let pop = if rng.random_bool(0.1) {
                        0
                    } else {
                        rng.random_range(50..5000)
                    };
                    units.push(unit(
                        format!("{village}{:03}", k + 1),
                        Level::Cell,
                        Some(village.clone()),
                        block(vi + k % 4, vj + k / 4, 1, 1),
                        pop,
                    ));
                }
            }
        }
    }
    let cells: Vec<(String, u64)> = units
        .iter()
        .filter(|u| u.level == Level::Cell)
        .map(|u| (u.code.clone(), u.population))
        .collect();
    for u in units.iter_mut().filter(|u| u.level != Level::Cell) {
        u.population = cells
            .iter()
            .filter(|(k, _)| k.starts_with(&u.code))
            .map(|(_, p)| p)
            .sum();
    }
    units
}

fn point(rng: &mut ChaCha8Rng, centres: &[(f64, f64)]) -> Point<f64> {
    let span = SIDE * N as f64;
    if rng.random_bool(0.7) {
        let (cx, cy) = centres[rng.random_range(0..centres.len())];
        let dx: f64 = (0..3).map(|_| rng.random_range(-0.02..0.02)).sum();
        let dy: f64 = (0..3).map(|_| rng.random_range(-0.02..0.02)).sum();
        Point::new(
            (cx + dx).clamp(X0, X0 + span),
            (cy + dy).clamp(Y0, Y0 + span),
        )
    } else {
        Point::new(
            X0 + rng.random_range(0.0..span),
            Y0 + rng.random_range(0.0..span),
        )
    }
}

fn dataset() -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let units = grid(&mut rng);
    let span = SIDE * N as f64;
    let centres: Vec<(f64, f64)> = (0..10)
        .map(|_| {
            (
                X0 + rng.random_range(0.0..span),
                Y0 + rng.random_range(0.0..span),
            )
        })
        .collect();
    let enterprises = (0..40_000)
        .map(|i| Enterprise {
            id: format!("E-{i:05}"),
            name: format!("企业{i}"),
            uscc: None,
            industry: Industry::ALL[rng.random_range(0..Industry::ALL.len())],
            risk_grade: RiskLevel::ALL[rng.random_range(0..4)],
            employees: rng.random_range(0..800),
            hidden_dangers_open: rng.random_range(0..6),
            major_hidden_dangers_open: u32::from(rng.random_bool(0.03)),
            blacklisted: rng.random_bool(0.01),
            cell_code: None,
            location: point(&mut rng, &centres),
        })
        .collect();
    let hazard_sources = (0..95).map(|i| hazard(&mut rng, &centres, i)).collect();
    let collapse_zones = (0..300)
        .map(|i| {
            let p = point(&mut rng, &centres);
            let (w, h) = (
                rng.random_range(0.001..0.008),
                rng.random_range(0.001..0.008),
            );
            CollapseZone {
                id: format!("CZ-{i:03}"),
                kind: CollapseKind::ALL[rng.random_range(0..CollapseKind::ALL.len())],
                severity: Severity::new(rng.random_range(1..=3)).unwrap(),
                surveyed: None,
                geometry: rect(p.x(), p.y(), p.x() + w, p.y() + h),
            }
        })
        .collect();
    Dataset {
        enterprises,
        hazard_sources,
        collapse_zones,
        units,
        ..Dataset::default()
    }
}

fn hazard(rng: &mut ChaCha8Rng, centres: &[(f64, f64)], i: usize) -> HazardSource {
    HazardSource {
        id: format!("HS-{i:04}"),
        name: format!("危险源{i}"),
        enterprise_id: None,
        grade: HazardGrade::new(rng.random_range(1..=4)).unwrap(),
        r_value: None,
        substances: "液化石油气".into(),
        monitored: rng.random_bool(0.5),
        supervisor: None,
        location: point(rng, centres),
    }
}

/// Times one `apply` on a fresh copy of the scores (the copy is not timed).
fn apply(
    b: &mut Bencher,
    scores: &Scores,
    store_after: &Store,
    change: &Change,
    params: &RiskParams,
) {
    b.iter_batched(
        || scores.clone(),
        |mut s| {
            black_box(s.apply(store_after, change, params));
            s
        },
        BatchSize::LargeInput,
    )
}

fn bench(c: &mut Criterion) {
    let params = RiskParams::default();
    let ds = dataset();
    let store = Store::build(ds.clone());
    let scores = score_all(&store, &params);

    let mut group = c.benchmark_group("risk");
    group.sample_size(10);
    group.bench_function("score_all 7056 cells 40k enterprises", |b| {
        b.iter(|| black_box(score_all(&store, &params)))
    });

    for (what, strip) in [
        ("without zones", 0),
        ("without enterprises", 1),
        ("without hazards", 2),
    ] {
        let mut part = ds.clone();
        match strip {
            0 => part.collapse_zones.clear(),
            1 => part.enterprises.clear(),
            _ => part.hazard_sources.clear(),
        }
        let store = Store::build(part);
        group.bench_function(format!("score_all {what}"), |b| {
            b.iter(|| black_box(score_all(&store, &params)))
        });
    }

    // One grade-1 source moved by ~1 km (the widest reach: old and new 3 km).
    let mut moved = ds.clone();
    let before = moved.hazard_sources[0].clone();
    let mut after = before.clone();
    after.grade = HazardGrade::new(1).unwrap();
    after.location = Point::new(before.location.x() + 0.01, before.location.y());
    moved.hazard_sources[0] = after.clone();
    let store_h = Store::build(moved);
    let change_h = Change::HazardSource {
        before: Some(before),
        after: Some(after),
    };
    group.sample_size(30);
    group.bench_function("apply: grade-1 source moved", |b| {
        apply(b, &scores, &store_h, &change_h, &params)
    });

    let mut edited = ds.clone();
    let before = edited.enterprises[0].clone();
    let mut after = before.clone();
    after.hidden_dangers_open += 3;
    after.blacklisted = true;
    edited.enterprises[0] = after.clone();
    let store_e = Store::build(edited);
    let change_e = Change::Enterprise {
        before: Some(before),
        after: Some(after),
    };
    group.bench_function("apply: enterprise changed", |b| {
        apply(b, &scores, &store_e, &change_e, &params)
    });

    let mut edited = ds.clone();
    let before = edited.collapse_zones[0].clone();
    let mut after = before.clone();
    after.severity = Severity::new(3).unwrap();
    edited.collapse_zones[0] = after.clone();
    let store_z = Store::build(edited);
    let change_z = Change::CollapseZone {
        before: Some(before),
        after: Some(after),
    };
    group.bench_function("apply: collapse zone changed", |b| {
        apply(b, &scores, &store_z, &change_z, &params)
    });

    group.finish();
    dataset_dir(c);
}

/// The full rescore of the dataset in `RISKMAP_BENCH_DATA`, if set.
fn dataset_dir(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("RISKMAP_BENCH_DATA") else {
        return;
    };
    let config = riskmap::config::Config::default();
    let loaded = match riskmap::ingest::load_dir(std::path::Path::new(&dir), &config.ingest()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("RISKMAP_BENCH_DATA: {e}");
            return;
        }
    };
    let store = Store::build(loaded.dataset);
    let params = RiskParams::default();
    let cells = store.units_at(Level::Cell).len();
    let mut group = c.benchmark_group("risk dataset");
    group.sample_size(10);
    group.bench_function(format!("score_all {cells} cells"), |b| {
        b.iter(|| black_box(score_all(&store, &params)))
    });
    let scores = score_all(&store, &params);
    // One enterprise changed (three more open hidden dangers, blacklisted),
    // rescored incrementally.
    if let Some(before) = store.dataset.enterprises.first().cloned() {
        let mut after = before.clone();
        after.hidden_dangers_open += 3;
        after.blacklisted = true;
        let mut edited = store.dataset.clone();
        edited.enterprises[0] = after.clone();
        let store_e = Store::build(edited);
        let change = Change::Enterprise {
            before: Some(before),
            after: Some(after),
        };
        group.bench_function("apply: enterprise changed", |b| {
            apply(b, &scores, &store_e, &change, &params)
        });
    }
    if let Some(&county) = store
        .units_at(Level::County)
        .iter()
        .max_by_key(|&&u| store.children(u).len())
    {
        group.bench_function("contributions of the largest county", |b| {
            b.iter(|| black_box(scores.contributors(&store, county)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
