//! M — active monitoring alarms (监测预警).
//!
//! An alarm of level l (1 = 红 … 4 = 蓝) at its sensor's point, d metres from
//! the cell: mₐ = I · (1 − d/r)² for d < r, × the acknowledged factor once
//! acknowledged, 0 once cleared; λₐ = −ln(1 − min(mₐ, cap)/100) and
//! M = 100 · (1 − e^(−Σλₐ)).
//!
//! The alarms come from the store's [`AlarmBook`](crate::index::AlarmBook)
//! (the `alarms` layer and live writes); the constants are `[risk.alarms]`.

use super::hazard::grow_by_metres;
use super::params::{AlarmParams, RiskParams};
use super::score::percent_of_pressure;
use crate::crs::metric;
use crate::index::{AlarmBook, AlarmEntry, Base, Store, UnitId};
use crate::model::{AlarmStatus, Level};
use rstar::AABB;
use std::sync::Arc;

/// One alarm's term in one cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlarmTerm {
    /// Index of the alarm in its layer.
    pub index: u32,
    /// Distance from the sensor to the nearest point of the cell, metres.
    pub distance_m: f64,
    /// mₐ, 0–100.
    pub m: f64,
    /// λₐ.
    pub lambda: f64,
}

/// The state of an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    /// Raised and not yet acknowledged.
    Active,
    /// Acknowledged (halves it by default).
    Acknowledged,
    /// Cleared: weighs nothing.
    Cleared,
}

/// mₐ of an alarm of `level` at `distance_m` metres (0 at or beyond reach).
pub fn intensity_at(level: u8, distance_m: f64, state: AlarmState, params: &AlarmParams) -> f64 {
    let reach = params.reach_m(level);
    if state == AlarmState::Cleared || distance_m.is_nan() || distance_m >= reach {
        return 0.0;
    }
    let decay = 1.0 - distance_m.max(0.0) / reach;
    let m = params.intensity(level) * decay * decay;
    if state == AlarmState::Acknowledged {
        m * params.acknowledged_factor
    } else {
        m
    }
}

/// The term of an alarm in a cell, if it reaches it.
pub fn term(
    index: u32,
    level: u8,
    distance_m: f64,
    state: AlarmState,
    params: &RiskParams,
) -> Option<AlarmTerm> {
    let m = intensity_at(level, distance_m, state, &params.alarms);
    (m > 0.0).then(|| AlarmTerm {
        index,
        distance_m,
        m,
        lambda: params.pressure(m),
    })
}

impl From<AlarmStatus> for AlarmState {
    fn from(s: AlarmStatus) -> AlarmState {
        match s {
            AlarmStatus::Active => AlarmState::Active,
            AlarmStatus::Acknowledged => AlarmState::Acknowledged,
            AlarmStatus::Cleared => AlarmState::Cleared,
        }
    }
}

/// The terms of every alarm of `store` that reaches `cell`, by index.
pub fn terms(store: &Store, cell: UnitId, params: &RiskParams) -> Vec<AlarmTerm> {
    let book = store.alarms();
    if book.is_empty() {
        return Vec::new();
    }
    let geometry = &store.unit(cell).geometry;
    let env = store.unit_envelope(cell);
    let query = grow_by_metres(&env, params.alarms.max_reach_m());
    // The alarms of one sensor share its point: one distance per point.
    let mut distances: std::collections::HashMap<[u64; 2], f64, foldhash::fast::FixedState> =
        Default::default();
    book.active_in_envelope(&query)
        .into_iter()
        .filter_map(|i| {
            let e = book.get(i)?;
            let p = e.record.location;
            let d = *distances
                .entry([p.x().to_bits(), p.y().to_bits()])
                .or_insert_with(|| metric::distance_to_polygon_in(p, geometry, &env).0);
            term(i, e.record.level.get(), d, e.record.status().into(), params)
        })
        .collect()
}

/// The unit cells an alarm's own term can change: those within its reach.
///
/// Its sensor's watched hazard source changes the cells within the
/// source's reach only when the source's monitored factor is lifted or
/// restored ([`sources_flipped`]).
pub fn cells_touched(
    store: &Base,
    book: &AlarmBook,
    entry: &AlarmEntry,
    params: &RiskParams,
) -> Arc<[UnitId]> {
    let reach = params.alarms.reach_m(entry.record.level.get());
    book.cells_in_reach(entry, reach, || {
        let p = entry.record.location;
        let query = grow_by_metres(&AABB::from_point([p.x(), p.y()]), reach);
        let mut out: Vec<UnitId> = store
            .units_in_envelope(Level::Cell, &query)
            .filter(|&c| {
                metric::distance_to_polygon_in(p, &store.unit(c).geometry, &store.unit_envelope(c))
                    .0
                    < reach
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    })
}

/// The cells within reach of each monitored hazard source among `watched`
/// whose monitored factor differs between the books `before` and `after`
/// (an unacknowledged alarm watching it appeared or the last one went):
/// the only change alarms make to H. A source an alarm watches while
/// another unacknowledged alarm already lifts its factor changes nothing.
pub fn sources_flipped(
    store: &Base,
    before: &AlarmBook,
    after: &AlarmBook,
    watched: impl IntoIterator<Item = u32>,
    params: &RiskParams,
) -> Vec<UnitId> {
    let mut out = Vec::new();
    for h in watched {
        if before.hazard_alarmed(h) == after.hazard_alarmed(h) {
            continue;
        }
        if let Some(source) = store.dataset.hazard_sources.get(h as usize)
            && source.monitored
        {
            out.extend(super::hazard::cells_in_reach(store, source, &params.hazard));
        }
    }
    out
}

/// M from the terms' pressures, summed in order.
pub fn combine(terms: &[AlarmTerm]) -> f64 {
    percent_of_pressure(terms.iter().map(|t| t.lambda).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_7_alarm_terms() {
        let p = RiskParams::default();
        let a = term(0, 1, 200.0, AlarmState::Active, &p).unwrap();
        assert!((a.m - 64.0).abs() < 1e-9);
        assert!((a.lambda - 1.0217).abs() < 1e-4);
        let ack = term(0, 1, 200.0, AlarmState::Acknowledged, &p).unwrap();
        assert!((ack.m - 32.0).abs() < 1e-9);
        assert!(term(0, 1, 200.0, AlarmState::Cleared, &p).is_none());
        assert!(term(0, 4, 100.0, AlarmState::Active, &p).is_none());
        assert!((combine(&[a]) - 64.0).abs() < 1e-9);
    }

    /// The cells an alarm at its sensor's point reaches are found once
    /// per sensor, level and reach and then reused; an alarm elsewhere, or
    /// under another reach, is looked up anew; both equal a fresh lookup.
    #[test]
    fn reach_cells_are_kept_per_sensor_and_level() {
        use crate::model::Dataset;
        use crate::risk::fixtures::{SIDE, X0, Y0, alarm, grid4x4, sensor};
        let store = Store::build(Dataset {
            units: grid4x4(),
            ..Dataset::default()
        });
        let (sx, sy) = (X0 + 1.5 * SIDE, Y0 + 1.5 * SIDE);
        let book = AlarmBook::build(store.base(), vec![sensor("S-1", None, sx, sy)], Vec::new());
        let mut p = RiskParams::default();
        let at = |a: crate::model::Alarm| book.locate(store.base(), a, 1);
        let fresh = |e: &AlarmEntry, p: &RiskParams| {
            let reach = p.alarms.reach_m(e.record.level.get());
            let q = grow_by_metres(
                &AABB::from_point([e.record.location.x(), e.record.location.y()]),
                reach,
            );
            let mut v: Vec<UnitId> = store
                .units_in_envelope(Level::Cell, &q)
                .filter(|&c| {
                    let b = store.base();
                    metric::distance_to_polygon_in(
                        e.record.location,
                        &b.unit(c).geometry,
                        &b.unit_envelope(c),
                    )
                    .0 < reach
                })
                .collect();
            v.sort_unstable();
            v
        };
        let first = at(alarm("A-1", Some("S-1"), 1, sx, sy));
        let kept = cells_touched(store.base(), &book, &first, &p);
        assert!(!kept.is_empty());
        assert_eq!(kept.to_vec(), fresh(&first, &p));
        // Another alarm of the sensor and level: the same cells, not found again.
        let again = at(alarm("A-2", Some("S-1"), 1, sx, sy));
        assert!(Arc::ptr_eq(
            &kept,
            &cells_touched(store.base(), &book, &again, &p)
        ));
        // A clone of the book (a later snapshot's) shares what is kept.
        let later = book.clone();
        assert!(Arc::ptr_eq(
            &kept,
            &cells_touched(store.base(), &later, &again, &p)
        ));
        // Away from the sensor's point: found anew.
        let away = at(alarm("A-3", Some("S-1"), 1, X0 + 3.5 * SIDE, sy));
        let found = cells_touched(store.base(), &book, &away, &p);
        assert!(!Arc::ptr_eq(&kept, &found));
        assert_eq!(found.to_vec(), fresh(&away, &p));
        assert_ne!(found, kept);
        // Another reach for the same level: found anew, not the kept cells.
        p.alarms.reach_m[0] /= 8.0;
        let shorter = cells_touched(store.base(), &book, &again, &p);
        assert_eq!(shorter.to_vec(), fresh(&again, &p));
        assert!(shorter.len() < kept.len(), "{shorter:?} {kept:?}");
    }
}
