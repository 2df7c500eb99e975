//! The risk model (RISK_MODEL.md): components, engine, roll-up, explanation.

mod params;

pub use params::RiskParams;
