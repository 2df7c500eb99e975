//! C — road-collapse zones overlapping the cell.
//!
//! For each zone z: a = area(z ∩ c) / area(c), both areas in one local metric
//! projection centred on the cell; x_z = a · kind · severity and
//! C = 100 · min(1, Σ x_z). Its pressure λ_C = −ln(1 − min(C, cap)/100) is
//! shared among the zones in proportion to x_z.
//! The intersection is computed only where the envelopes intersect.

use super::params::{CollapseParams, RiskParams};
use crate::crs::metric::LocalProjection;
use crate::index::{Store, UnitId, envelope_of};
use crate::model::{CollapseZone, Level};
use geo::{Area, BooleanOps, BoundingRect, MultiPolygon, Point};
use rstar::RTreeObject;

/// One zone's term in one cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZoneTerm {
    /// Index of the zone in the dataset.
    pub index: u32,
    /// Share a of the cell's area the zone covers, 0–1.
    pub overlap: f64,
    /// a · kind weight · severity factor.
    pub t: f64,
    /// The zone's share of λ_C: λ_C · x_z / Σ x.
    pub lambda: f64,
}

/// The share of `cell`'s area that `zone` covers (0–1), in metres.
pub fn overlap_fraction(zone: &MultiPolygon<f64>, cell: &MultiPolygon<f64>) -> f64 {
    let Some(rect) = cell.bounding_rect() else {
        return 0.0;
    };
    let proj = LocalProjection::new(Point::from(rect.center()));
    let cell_m = proj.multi_polygon(cell);
    let cell_area = cell_m.unsigned_area();
    if cell_area.is_nan() || cell_area <= 0.0 {
        return 0.0;
    }
    let shared = proj
        .multi_polygon(zone)
        .intersection(&cell_m)
        .unsigned_area();
    (shared / cell_area).clamp(0.0, 1.0)
}

/// a · kind weight · severity factor of a zone covering share `overlap`.
pub fn zone_term(zone: &CollapseZone, overlap: f64, params: &CollapseParams) -> f64 {
    overlap * params.kind_weights.get(zone.kind) * params.severity_factor(zone.severity)
}

/// C from the sum of the zone terms.
pub fn combine(sum_t: f64) -> f64 {
    100.0 * sum_t.clamp(0.0, 1.0)
}

/// The terms of the zones overlapping `cell` with a positive term, by index.
pub fn terms(store: &Store, cell: UnitId, risk: &RiskParams) -> Vec<ZoneTerm> {
    let params = &risk.collapse;
    let geometry = &store.unit(cell).geometry;
    let env = store.unit_envelope(cell);
    let mut out: Vec<ZoneTerm> = store
        .zones_in_envelope(&env)
        .filter_map(|index| {
            let zone = &store.dataset.collapse_zones[index as usize];
            let overlap = overlap_fraction(&zone.geometry, geometry);
            let t = zone_term(zone, overlap, params);
            (t > 0.0).then_some(ZoneTerm {
                index,
                overlap,
                t,
                lambda: 0.0,
            })
        })
        .collect();
    out.sort_by_key(|t| t.index);
    share_pressure(&mut out, risk);
    out
}

/// Sets each term's λ: λ_C = −ln(1 − min(C, cap)/100) shared in proportion
/// to x_z.
pub fn share_pressure(terms: &mut [ZoneTerm], risk: &RiskParams) {
    let total = sum(terms);
    let lambda_c = risk.pressure(combine(total));
    for t in terms.iter_mut() {
        t.lambda = if total > 0.0 {
            lambda_c * (t.t / total)
        } else {
            0.0
        };
    }
}

/// The sum of the terms, in their order.
pub fn sum(terms: &[ZoneTerm]) -> f64 {
    terms.iter().map(|t| t.t).sum()
}

/// Cells whose envelope intersects the zone's: every cell it can change.
pub fn cells_touched(store: &Store, zone: &MultiPolygon<f64>) -> Vec<UnitId> {
    let env = envelope_of(zone).envelope();
    store.units_in_envelope(Level::Cell, &env).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CollapseKind, Severity};
    use geo::polygon;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)
        ]])
    }

    #[test]
    fn half_cover_is_half() {
        let cell = rect(118.0, 25.0, 118.01, 25.01);
        let half = rect(117.99, 24.99, 118.005, 25.02);
        assert!((overlap_fraction(&half, &cell) - 0.5).abs() < 1e-9);
        assert_eq!(
            overlap_fraction(&rect(119.0, 25.0, 119.1, 25.1), &cell),
            0.0
        );
        let big = overlap_fraction(&rect(117.0, 24.0, 119.0, 26.0), &cell);
        // The overlay snaps to a grid scaled to both inputs' extent: a zone
        // 200 times the cell's size leaves a relative error near 1e-7.
        assert!((big - 1.0).abs() < 1e-6, "{big}");
    }

    #[test]
    fn terms_and_cap() {
        let p = CollapseParams::default();
        let zone = CollapseZone {
            id: "CZ-1".into(),
            kind: CollapseKind::Cavity,
            severity: Severity::new(3).unwrap(),
            surveyed: None,
            geometry: rect(0.0, 0.0, 1.0, 1.0),
        };
        assert!((zone_term(&zone, 0.5, &p) - 0.5).abs() < 1e-12);
        assert_eq!(combine(0.5), 50.0);
        assert_eq!(combine(1.7), 100.0);
        let loess = CollapseZone {
            kind: CollapseKind::Loess,
            severity: Severity::new(1).unwrap(),
            ..zone
        };
        assert!((zone_term(&loess, 1.0, &p) - 0.3).abs() < 1e-12);
    }

    #[test]
    fn pressure_is_shared_by_x() {
        let mut terms = [0.3, 0.1].map(|t| ZoneTerm {
            index: 0,
            overlap: t,
            t,
            lambda: 0.0,
        });
        share_pressure(&mut terms, &RiskParams::default());
        let total = -(0.6f64).ln();
        assert!((terms[0].lambda + terms[1].lambda - total).abs() < 1e-12);
        assert!((terms[0].lambda - 3.0 * terms[1].lambda).abs() < 1e-12);
    }
}
