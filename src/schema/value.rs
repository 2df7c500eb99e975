//! What getters read ([`Ctx`]: the indexed dataset and the risk scores)
//! and what they return ([`PropValue`]).

use crate::index::{Store, UnitId};
use crate::model::{LayerId, RiskLevel, Value};
use crate::risk::{Components, Domain, Scores};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The risk fields of grid units, wherever they are kept.
pub trait RiskLookup: Send + Sync {
    /// `risk_score` (one decimal) and `risk_level` of a grid unit, if scored.
    fn risk(&self, unit: UnitId) -> Option<(f64, RiskLevel)>;

    /// The unit's `domain_<word>` property: that domain's contribution,
    /// unrounded, if scored.
    fn domain(&self, _unit: UnitId, _domain: Domain) -> Option<f64> {
        None
    }

    /// The components H, E, C, M, V of a unit cell, if scored.
    fn components(&self, _unit: UnitId) -> Option<Components> {
        None
    }

    /// The as-of day the scores measure "overdue" against, if scored.
    fn as_of(&self) -> Option<crate::model::Date> {
        None
    }
}

impl RiskLookup for Scores {
    fn risk(&self, unit: UnitId) -> Option<(f64, RiskLevel)> {
        self.get(unit)
            .map(|s| (crate::model::unsigned_zero(s.risk_score()), s.level()))
    }

    fn domain(&self, unit: UnitId, domain: Domain) -> Option<f64> {
        self.get(unit).map(|s| s.domain(domain))
    }

    fn components(&self, unit: UnitId) -> Option<Components> {
        self.get(unit).and_then(|s| s.components()).copied()
    }

    fn as_of(&self) -> Option<crate::model::Date> {
        Some(self.params().as_of_day())
    }
}

impl RiskLookup for HashMap<UnitId, (f64, RiskLevel)> {
    fn risk(&self, unit: UnitId) -> Option<(f64, RiskLevel)> {
        self.get(&unit).copied()
    }
}

/// No scores at all (every risk field null).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRisk;

impl RiskLookup for NoRisk {
    fn risk(&self, _unit: UnitId) -> Option<(f64, RiskLevel)> {
        None
    }
}

/// What features are read from: the indexed dataset and the risk scores.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// The indexed dataset.
    pub store: &'a Store,
    /// Risk scores of grid units.
    pub risk: &'a dyn RiskLookup,
    /// The caller's scope: a unit cell's `domain_<word>` values are null
    /// unless it opens the cell (they tell which industries have an
    /// enterprise there).
    pub scope: crate::auth::Scope,
}

impl<'a> Ctx<'a> {
    /// The unit cell a point feature lies in (none for other layers).
    pub fn cell_of(&self, layer: LayerId, index: u32) -> Option<UnitId> {
        match layer {
            LayerId::Enterprises => self.store.enterprise_cell(index),
            LayerId::HazardSources => self.store.hazard_cell(index),
            _ => None,
        }
    }
}

/// One property value of a feature, borrowed from the dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PropValue<'a> {
    /// Absent.
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number.
    Num(f64),
    /// Text.
    Str(&'a str),
}

impl<'a> PropValue<'a> {
    /// The value as a number, for numeric comparisons.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PropValue::Int(i) => Some(*i as f64),
            PropValue::Num(x) => Some(*x),
            _ => None,
        }
    }

    /// Optional text.
    pub fn opt_str(s: &'a Option<String>) -> PropValue<'a> {
        s.as_deref().map_or(PropValue::Null, PropValue::Str)
    }

    /// A count.
    pub fn count(n: impl Into<u64>) -> PropValue<'a> {
        PropValue::Int(i64::try_from(n.into()).unwrap_or(i64::MAX))
    }

    /// The owned value, for the file writers.
    pub fn to_value(self) -> Value {
        match self {
            PropValue::Null => Value::Null,
            PropValue::Bool(b) => Value::Bool(b),
            PropValue::Int(i) => Value::Int(i),
            PropValue::Num(x) => Value::Float(x),
            PropValue::Str(s) => Value::Text(s.to_string()),
        }
    }

    /// The value as JSON.
    pub fn to_json(self) -> serde_json::Value {
        match self {
            PropValue::Null => serde_json::Value::Null,
            PropValue::Bool(b) => b.into(),
            PropValue::Int(i) => i.into(),
            PropValue::Num(x) => serde_json::Number::from_f64(x)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            PropValue::Str(s) => s.into(),
        }
    }

    /// Appends the value as JSON text.
    pub fn write_json(&self, out: &mut String) {
        match self {
            PropValue::Null => out.push_str("null"),
            PropValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            PropValue::Int(i) => {
                let _ = write!(out, "{i}");
            }
            PropValue::Num(x) if x.is_finite() => crate::json_text::write_f64(out, *x),
            PropValue::Num(_) => out.push_str("null"),
            PropValue::Str(s) => crate::json_text::write_str(out, s),
        }
    }
}
