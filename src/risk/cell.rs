//! Scoring one unit cell: gather the features that affect it, sum their
//! pressures, S = 100 · (1 − e^(−V·Λ)).

use super::alarm::{self, AlarmTerm};
use super::collapse::{self, ZoneTerm};
use super::enterprise::{self, DangerTerm, EnterpriseTerm};
use super::hazard::{self, HazardTerm};
use super::params::RiskParams;
use super::score::{Components, Domain, FeatureRef, LevelCounts, UnitScore, score_of_pressure};
use crate::index::{Store, UnitId};

/// Every feature term of one cell, each list by feature index.
#[derive(Debug, Clone, PartialEq)]
pub struct CellInputs {
    /// Hazard sources within reach.
    pub hazards: Vec<HazardTerm>,
    /// Enterprises inside the cell.
    pub enterprises: Vec<EnterpriseTerm>,
    /// Standalone hidden-danger records inside the cell (none until that
    /// layer is loaded).
    pub dangers: Vec<DangerTerm>,
    /// Collapse zones overlapping the cell.
    pub zones: Vec<ZoneTerm>,
    /// Alarms not cleared within reach.
    pub alarms: Vec<AlarmTerm>,
    /// The cell's exposure multiplier V.
    pub v: f64,
}

/// One feature's pressure in a cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pressure {
    /// The feature.
    pub feature: FeatureRef,
    /// λ_f.
    pub lambda: f64,
}

impl CellInputs {
    /// The terms of `cell` in `store`, with its V.
    pub fn gather(store: &Store, cell: UnitId, v: f64, params: &RiskParams) -> CellInputs {
        CellInputs {
            hazards: hazard::terms(store, cell, params),
            enterprises: enterprise::terms(store, cell, params),
            dangers: enterprise::danger_terms(store, cell, params),
            zones: collapse::terms(store, cell, params),
            alarms: alarm::terms(store, cell, params),
            v,
        }
    }

    /// Every feature's pressure, in a fixed order: sources, enterprises,
    /// standalone dangers, zones, alarms, each by index.
    pub fn pressures(&self) -> impl Iterator<Item = Pressure> + '_ {
        let h = self.hazards.iter().map(|t| Pressure {
            feature: FeatureRef::HazardSource(t.index),
            lambda: t.lambda,
        });
        let e = self.enterprises.iter().map(|t| Pressure {
            feature: FeatureRef::Enterprise(t.index),
            lambda: t.lambda,
        });
        let d = self.dangers.iter().map(|t| Pressure {
            feature: FeatureRef::HiddenDanger(t.index),
            lambda: t.lambda,
        });
        let z = self.zones.iter().map(|t| Pressure {
            feature: FeatureRef::CollapseZone(t.index),
            lambda: t.lambda,
        });
        let a = self.alarms.iter().map(|t| Pressure {
            feature: FeatureRef::Alarm(t.index),
            lambda: t.lambda,
        });
        h.chain(e).chain(d).chain(z).chain(a)
    }

    /// Λ = Σ λ_f.
    pub fn lambda(&self) -> f64 {
        self.pressures().map(|p| p.lambda).sum()
    }

    /// H, E, C, M and V.
    pub fn components(&self) -> Components {
        Components {
            h: hazard::combine(&self.hazards),
            e: enterprise::combine(&self.enterprises, &self.dangers),
            c: collapse::combine(collapse::sum(&self.zones)),
            m: alarm::combine(&self.alarms),
            v: self.v,
        }
    }

    /// S = 100 · (1 − e^(−V·Λ)), unrounded.
    pub fn score(&self) -> f64 {
        score_of_pressure(self.v * self.lambda())
    }

    /// Each feature's additive contribution S · λ_f / Λ (0 when Λ = 0), in
    /// [`CellInputs::pressures`] order.
    pub fn contributions(&self) -> impl Iterator<Item = (FeatureRef, f64)> + '_ {
        let lambda = self.lambda();
        let s = score_of_pressure(self.v * lambda);
        self.pressures().map(move |p| {
            let c = if lambda > 0.0 {
                s * (p.lambda / lambda)
            } else {
                0.0
            };
            (p.feature, c)
        })
    }

    /// The contributions summed per domain, the non-zero ones in [`Domain`]
    /// order.
    pub fn domains(&self, store: &Store) -> Vec<(Domain, f64)> {
        let mut sums = vec![0.0; Domain::count()];
        for (f, c) in self.contributions() {
            sums[domain_of(store, f).index()] += c;
        }
        Domain::all().zip(sums).filter(|(_, x)| *x != 0.0).collect()
    }
}

/// The domain of a feature of `store`.
pub fn domain_of(store: &Store, feature: FeatureRef) -> Domain {
    match feature {
        FeatureRef::HazardSource(_) => Domain::HazardSources,
        FeatureRef::Enterprise(i) => store
            .dataset
            .enterprises
            .get(i as usize)
            .map_or(Domain::HiddenDangers, |e| Domain::Industry(e.industry)),
        FeatureRef::HiddenDanger(_) => Domain::HiddenDangers,
        FeatureRef::CollapseZone(_) => Domain::CollapseZones,
        FeatureRef::Alarm(_) => Domain::Alarms,
    }
}

/// The score of one cell from its inputs.
pub fn score_inputs(store: &Store, inputs: &CellInputs, params: &RiskParams) -> UnitScore {
    let components = inputs.components();
    let exposed = inputs.v * inputs.lambda();
    UnitScore::new(
        score_of_pressure(exposed),
        exposed,
        params,
        Some(components),
        LevelCounts::default(),
        None,
        inputs.domains(store),
    )
}

/// The full score of one cell with exposure `v`.
pub fn score_cell(store: &Store, cell: UnitId, v: f64, params: &RiskParams) -> UnitScore {
    let inputs = CellInputs::gather(store, cell, v, params);
    score_inputs(store, &inputs, params)
}
