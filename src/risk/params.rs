//! `[risk]` constants with the documented defaults.

use serde::{Deserialize, Serialize};

/// The risk model's constants (`[risk]` in the config).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskParams {}

impl RiskParams {
    /// Rejects out-of-range values, naming the key.
    pub fn check(&self) -> Result<(), String> {
        Ok(())
    }
}
