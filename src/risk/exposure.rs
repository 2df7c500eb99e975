//! V — the exposure multiplier from the population density percentile.
//!
//! ρ = population / area (km²); p is the mid-rank percentile of ρ among all N
//! unit cells, p = (L + (T − 1)/2) / (N − 1) with L the cells of smaller ρ and
//! T those of equal ρ (itself included); p = 0.5 when N = 1. Cells without
//! population have ρ = 0 and tie at the bottom. V = base + span · p.

use super::params::ExposureParams;
use crate::index::{Store, UnitId};
use crate::model::Level;

/// Residents per square kilometre (0 without population; a populated cell of
/// no area counts as the densest).
pub fn density(population: u64, area_m2: f64) -> f64 {
    if population == 0 {
        0.0
    } else if area_m2 > 0.0 {
        population as f64 / (area_m2 / 1e6)
    } else {
        f64::INFINITY
    }
}

/// Mid-rank percentiles of `values` (0–1), in their order.
pub fn percentiles(values: &[f64]) -> Vec<f64> {
    let n = values.len();
    if n == 1 {
        return vec![0.5];
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; n];
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let tied = (end - start) as f64;
        let p = (start as f64 + (tied - 1.0) / 2.0) / (n - 1) as f64;
        for &i in &order[start..end] {
            out[i] = p;
        }
        start = end;
    }
    out
}

/// V for a percentile p.
pub fn multiplier(p: f64, params: &ExposureParams) -> f64 {
    params.base + params.span * p
}

/// (cell, V) for every unit cell of the store, in cell order.
pub fn all(store: &Store, params: &ExposureParams) -> Vec<(UnitId, f64)> {
    let cells = store.units_at(Level::Cell);
    let densities: Vec<f64> = cells
        .iter()
        .map(|&c| density(store.unit(c).population, store.area_m2(c)))
        .collect();
    cells
        .iter()
        .zip(percentiles(&densities))
        .map(|(&c, p)| (c, multiplier(p, params)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mid_ranks_with_ties() {
        assert_eq!(percentiles(&[42.0]), vec![0.5]);
        assert_eq!(percentiles(&[]), Vec::<f64>::new());
        assert_eq!(percentiles(&[3.0, 1.0, 2.0]), vec![1.0, 0.0, 0.5]);
        // Two zeros tie at the bottom: L = 0, T = 2 → 0.5 / 3.
        let p = percentiles(&[0.0, 10.0, 0.0, 20.0]);
        assert!((p[0] - 1.0 / 6.0).abs() < 1e-12 && p[0] == p[2]);
        assert!((p[1] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(p[3], 1.0);
        assert_eq!(percentiles(&[5.0, 5.0]), vec![0.5, 0.5]);
    }

    #[test]
    fn densities_and_multiplier() {
        assert_eq!(density(0, 0.0), 0.0);
        assert_eq!(density(1000, 2e6), 500.0);
        let p = ExposureParams::default();
        assert_eq!(multiplier(0.0, &p), 0.8);
        assert!((multiplier(0.5, &p) - 1.0).abs() < 1e-12);
        assert!((multiplier(1.0, &p) - 1.2).abs() < 1e-12);
    }
}
