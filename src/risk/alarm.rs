//! M — active monitoring alarms (监测预警).
//!
//! An alarm of level l (1 = 红 … 4 = 蓝) at its sensor's point, d metres from
//! the cell: mₐ = I · (1 − d/r)² for d < r, × the acknowledged factor once
//! acknowledged, 0 once cleared; λₐ = −ln(1 − min(mₐ, cap)/100) and
//! M = 100 · (1 − e^(−Σλₐ)).
//!
//! No alarm layer is loaded yet, so [`CellInputs::gather`](super::cell::CellInputs::gather)
//! finds none and M is 0; the terms, the constants (`[risk.alarms]`) and
//! their path through S and the contributions are in place.

use super::params::{AlarmParams, RiskParams};
use super::score::percent_of_pressure;

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
}
