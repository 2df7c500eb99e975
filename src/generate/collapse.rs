//! Road-collapse risk zones: small irregular polygons, weighted to the old
//! town and to dense urban cells, always on land inside a county.

use super::enterprises::point_in_cell;
use super::geom::{Shape, round_point};
use super::grid::Grid;
use super::rng::{Cumulative, Rand, Stream, item_rng, weighted_index};
use crate::crs::metric::LocalProjection;
use crate::model::{CollapseKind, CollapseZone, Severity};
use geo::{Contains, Coord, LineString, MultiPolygon, Point, Polygon, Validation};
use rand::Rng;
use rayon::prelude::*;

/// Where collapse zones go.
#[derive(Debug, Clone, Default)]
pub struct CollapsePlan {
    /// An old town and the number of zones in it.
    pub old_town: Option<(Shape, usize)>,
    /// Zones in urban cells, weighted by density.
    pub urban: usize,
}

/// A star-shaped polygon 2·`radius` across around `centre`.
fn blob(rng: &mut Rand, centre: Point<f64>, radius: f64) -> Option<Polygon<f64>> {
    let proj = LocalProjection::new(centre);
    let k = rng.random_range(8..=14);
    let step = std::f64::consts::TAU / f64::from(k);
    let start = rng.random::<f64>() * step;
    let mut ring: Vec<Coord<f64>> = (0..k)
        .map(|j| {
            let a = start + step * (f64::from(j) + 0.6 * (rng.random::<f64>() - 0.5));
            let r = radius * (0.55 + 0.45 * rng.random::<f64>());
            round_point(proj.unproject(Coord {
                x: r * a.cos(),
                y: r * a.sin(),
            }))
            .0
        })
        .collect();
    ring.dedup();
    if ring.len() < 3 {
        return None;
    }
    ring.push(ring[0]);
    let p = Polygon::new(LineString(ring), vec![]);
    p.is_valid().then_some(p)
}

/// Days since 1970-01-01 → ISO date (proleptic Gregorian).
fn iso_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// 2022-01-01 and 2025-06-30 as days since 1970-01-01.
const SURVEY_DAYS: (i64, i64) = (18_993, 20_269);

/// Generates the zones of `plan` (ids `CZ-0001`…). `counties` are the
/// county outlines (lon/lat) a zone must lie in.
pub fn generate(
    seed: u64,
    grid: &Grid,
    counties: &[Shape],
    plan: &CollapsePlan,
) -> Vec<CollapseZone> {
    let weights = Cumulative::new(
        grid.cells
            .iter()
            .zip(&grid.cell_area)
            .zip(&grid.cell_urban)
            .map(|((c, a), urban)| {
                let density = c.population as f64 / (a / 1e6).max(0.01);
                let w = (density / 1e4).powi(2);
                if *urban { w } else { w * 0.1 }
            }),
    );
    let in_old_town = plan.old_town.as_ref().map(|(_, n)| *n).unwrap_or(0);
    let total = in_old_town + plan.urban;
    (0..total)
        .into_par_iter()
        .filter_map(|i| {
            let mut rng = item_rng(seed, Stream::Collapse, i as u64);
            let old = i < in_old_town;
            let mut geometry = None;
            for attempt in 0..30 {
                let centre = match (&plan.old_town, old) {
                    (Some((shape, _)), true) => shape.sample(&mut rng, 500).map(round_point),
                    _ => {
                        let cell = weights.draw(&mut rng);
                        point_in_cell(&mut rng, grid, cell)
                    }
                };
                let Some(centre) = centre else { continue };
                let radius =
                    (25.0 + 175.0 * rng.random::<f64>().powi(2)) / (1.0 + attempt as f64 * 0.1);
                let Some(poly) = blob(&mut rng, centre, radius) else {
                    continue;
                };
                let on_land = counties
                    .iter()
                    .any(|c| c.contains(centre.0) && c.mp.contains(&poly));
                if on_land {
                    geometry = Some(poly);
                    break;
                }
            }
            let geometry = geometry?;
            let kinds = [
                CollapseKind::Loess,
                CollapseKind::UndergroundWorks,
                CollapseKind::OldPipes,
                CollapseKind::CivilDefense,
                CollapseKind::Cavity,
            ];
            let kind_w: [f64; 5] = if old {
                [0.0, 10.0, 40.0, 25.0, 25.0]
            } else {
                [2.0, 35.0, 30.0, 13.0, 20.0]
            };
            let kind = kinds[weighted_index(&mut rng, &kind_w)];
            let sev_w: [f64; 3] = if old {
                [35.0, 40.0, 25.0]
            } else {
                [50.0, 35.0, 15.0]
            };
            let severity = Severity::new(weighted_index(&mut rng, &sev_w) as u8 + 1)?;
            let surveyed = rng
                .random_bool(0.8)
                .then(|| iso_date(rng.random_range(SURVEY_DAYS.0..=SURVEY_DAYS.1)));
            Some(CollapseZone {
                id: String::new(),
                kind,
                severity,
                surveyed,
                geometry: MultiPolygon(vec![geometry]),
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .enumerate()
        .map(|(i, mut z)| {
            z.id = format!("CZ-{:04}", i + 1);
            z
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(SURVEY_DAYS.0), "2022-01-01");
        assert_eq!(iso_date(SURVEY_DAYS.1), "2025-06-30");
        assert_eq!(iso_date(19_782), "2024-02-29");
    }
}
