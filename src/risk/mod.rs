//! The risk model (`docs/risk-model.md`): components, engine, roll-up, explanation.
//!
//! - The components H, E, C, M and V of a unit cell, one per file:
//!   [`hazard`], [`enterprise`], [`collapse`], [`alarm`], [`exposure`]; each
//!   feature adds a pressure λ and S = 100 · (1 − e^(−V·Λ)).
//! - One cell's inputs and score in [`cell`], the additive contributors of
//!   any unit (computed on demand) in [`explain`].
//! - In [`engine`], [`score_all`] → [`Scores`] (cells in parallel, then the
//!   roll-up village → town → county), looked up by
//!   [`UnitId`](crate::index::UnitId); [`UnitScore`] in [`score`].
//! - In [`update`], [`Scores::apply`] of one [`Change`], rescoring only what
//!   it reaches; in [`kept`], the inputs alarms do not change, kept between
//!   live writes.
//! - In [`rows`], [`scored_rows`] for batch output (`riskmap score`).
//! - In [`params`], the `[risk]` table of the config.

pub mod alarm;
pub mod cell;
pub mod collapse;
pub mod engine;
pub mod enterprise;
pub mod explain;
pub mod exposure;
pub mod hazard;
pub mod kept;
pub mod params;
pub mod rows;
pub mod score;
pub mod update;

#[cfg(test)]
pub(crate) mod fixtures;

pub use engine::{Scores, score_all};
pub use kept::KeptInputs;
pub use params::{ParamError, RiskParams};
pub use rows::{ScoredUnit, scored_rows};
pub use score::{Component, Components, Contributor, Domain, FeatureRef, LevelCounts, UnitScore};
pub use update::{Change, Update};
