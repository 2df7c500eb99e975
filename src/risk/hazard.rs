//! H — major hazard sources, with distance decay in metres.
//!
//! A source s of grade g has intensity I and reach r; with d the distance in
//! metres from s to the nearest point of the cell (0 inside),
//! hₛ = I · (1 − d/r)² for d < r, else 0, × the monitored factor if the
//! source is monitored and no unacknowledged alarm watches it; its pressure
//! λₛ = −ln(1 − min(hₛ, cap)/100) and H = 100 · (1 − e^(−Σλₛ)).

use super::params::{HazardParams, RiskParams};
use super::score::percent_of_pressure;
use crate::crs::metric::{self, LocalProjection};
use crate::index::{Store, UnitId};
use crate::model::{HazardSource, Level};
use geo::Point;
use rstar::AABB;

/// One source's term in one cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HazardTerm {
    /// Index of the source in the dataset.
    pub index: u32,
    /// Distance from the source to the nearest point of the cell, metres.
    pub distance_m: f64,
    /// hₛ, 0–100.
    pub h: f64,
    /// λₛ = −ln(1 − min(hₛ, cap)/100).
    pub lambda: f64,
}

/// hₛ of a source at `distance_m` metres (0 at or beyond its reach), with no
/// unacknowledged alarm watching it.
pub fn intensity_at(source: &HazardSource, distance_m: f64, params: &HazardParams) -> f64 {
    intensity_watched(source, distance_m, false, params)
}

/// hₛ of a source at `distance_m` metres; `alarmed`: an unacknowledged alarm
/// watches it, which cancels the monitored factor.
pub fn intensity_watched(
    source: &HazardSource,
    distance_m: f64,
    alarmed: bool,
    params: &HazardParams,
) -> f64 {
    let reach = params.reach_m(source.grade);
    if distance_m.is_nan() || distance_m >= reach {
        return 0.0;
    }
    let decay = 1.0 - distance_m.max(0.0) / reach;
    let h = params.intensity(source.grade) * decay * decay;
    if source.monitored && !alarmed {
        h * params.monitored_factor
    } else {
        h
    }
}

/// H from the terms' pressures, summed in the order given.
pub fn combine(terms: &[HazardTerm]) -> f64 {
    percent_of_pressure(terms.iter().map(|t| t.lambda).sum())
}

/// `env` (lon/lat) grown by at least `reach_m` metres on every side.
///
/// Degrees per metre are taken where they are largest: latitude at the
/// equator (the shortest meridian degree), longitude at the grown box's
/// latitude farthest from the equator; 1 % is added on top.
pub fn grow_by_metres(env: &AABB<[f64; 2]>, reach_m: f64) -> AABB<[f64; 2]> {
    let (lo, hi) = (env.lower(), env.upper());
    let (_, ky_min) = LocalProjection::new(Point::new(0.0, 0.0)).metres_per_degree();
    let dlat = 1.01 * reach_m / ky_min;
    let far_lat = (lo[1] - dlat).abs().max((hi[1] + dlat).abs()).min(89.0);
    let (kx, _) = LocalProjection::new(Point::new(0.0, far_lat)).metres_per_degree();
    let dlon = (1.01 * reach_m / kx).min(360.0);
    AABB::from_corners(
        [lo[0] - dlon, (lo[1] - dlat).max(-90.0)],
        [hi[0] + dlon, (hi[1] + dlat).min(90.0)],
    )
}

/// The terms of every source within reach of `cell`, by source index.
pub fn terms(store: &Store, cell: UnitId, risk: &RiskParams) -> Vec<HazardTerm> {
    let params = &risk.hazard;
    let geometry = &store.unit(cell).geometry;
    let env = store.unit_envelope(cell);
    let query = grow_by_metres(&env, params.max_reach_m());
    let mut out: Vec<HazardTerm> = store
        .hazards_in_envelope(&query)
        .filter_map(|index| {
            let source = &store.dataset.hazard_sources[index as usize];
            let distance_m = metric::distance_to_polygon_in(source.location, geometry, &env).0;
            let alarmed = store.alarms().hazard_alarmed(index);
            let h = intensity_watched(source, distance_m, alarmed, params);
            (h > 0.0).then(|| HazardTerm {
                index,
                distance_m,
                h,
                lambda: risk.pressure(h),
            })
        })
        .collect();
    out.sort_by_key(|t| t.index);
    out
}

/// Cells a source reaches (d < r): the cells whose H it can change.
pub fn cells_in_reach(
    store: &crate::index::Base,
    source: &HazardSource,
    params: &HazardParams,
) -> Vec<UnitId> {
    let reach = params.reach_m(source.grade);
    let p = source.location;
    let query = grow_by_metres(&AABB::from_point([p.x(), p.y()]), reach);
    store
        .units_in_envelope(Level::Cell, &query)
        .filter(|&cell| {
            metric::distance_to_polygon_in(
                p,
                &store.unit(cell).geometry,
                &store.unit_envelope(cell),
            )
            .0 < reach
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::HazardGrade;

    fn source(grade: u8, monitored: bool) -> HazardSource {
        HazardSource {
            id: "HS-0001".into(),
            name: "储罐区".into(),
            enterprise_id: None,
            grade: HazardGrade::new(grade).unwrap(),
            r_value: None,
            substances: "液化石油气".into(),
            monitored,
            supervisor: None,
            location: Point::new(118.0, 25.0),
        }
    }

    #[test]
    fn decay_matches_the_model() {
        let p = HazardParams::default();
        assert_eq!(intensity_at(&source(2, false), 0.0, &p), 60.0);
        assert!((intensity_at(&source(1, false), 1500.0, &p) - 25.0).abs() < 1e-9);
        assert!((intensity_at(&source(1, true), 1500.0, &p) - 20.0).abs() < 1e-9);
        assert_eq!(intensity_at(&source(3, false), 1000.0, &p), 0.0);
        assert_eq!(intensity_at(&source(4, false), 600.0, &p), 0.0);
    }

    fn term(h: f64) -> HazardTerm {
        HazardTerm {
            index: 0,
            distance_m: 0.0,
            h,
            lambda: RiskParams::default().pressure(h),
        }
    }

    #[test]
    fn terms_compound() {
        assert_eq!(combine(&[]), 0.0);
        assert!((combine(&[term(60.0)]) - 60.0).abs() < 1e-9);
        assert!((combine(&[term(50.0), term(50.0)]) - 75.0).abs() < 1e-9);
        // A grade-1 source inside caps at 99.99: finite pressure, shown 100.0.
        let top = combine(&[term(100.0)]);
        assert!((top - 99.99).abs() < 1e-9);
        assert!(combine(&[term(100.0), term(30.0)]) < 100.0);
    }

    #[test]
    fn an_unacknowledged_alarm_cancels_the_monitored_factor() {
        let p = HazardParams::default();
        assert!((intensity_watched(&source(1, true), 1500.0, true, &p) - 25.0).abs() < 1e-9);
        assert!((intensity_watched(&source(1, true), 1500.0, false, &p) - 20.0).abs() < 1e-9);
    }

    #[test]
    fn grown_envelope_covers_the_reach() {
        for lat in [0.0, 25.0, 60.0, -45.0] {
            let env = AABB::from_point([118.0, lat]);
            let grown = grow_by_metres(&env, 3000.0);
            let (lo, hi) = (grown.lower(), grown.upper());
            let east = metric::distance_m((118.0, lat), (hi[0], lat));
            let west = metric::distance_m((118.0, lat), (lo[0], lat));
            let north = metric::distance_m((118.0, lat), (118.0, hi[1]));
            let south = metric::distance_m((118.0, lat), (118.0, lo[1]));
            for d in [east, west, north, south] {
                assert!((3000.0..3100.0).contains(&d), "{d} at {lat}");
            }
        }
    }
}
