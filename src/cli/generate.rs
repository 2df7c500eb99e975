//! `riskmap generate`: a deterministic synthetic dataset.

use super::CliError;
use crate::generate::Preset;
use crate::write::Format;
use std::path::Path;

/// Generates `preset` from `seed` into `out` in `format`, its hidden
/// dangers hanging on `as_of` (default: today in Asia/Shanghai).
pub fn generate(
    preset: Preset,
    seed: u64,
    as_of: Option<&str>,
    out: &Path,
    format: Format,
) -> Result<(), CliError> {
    let as_of = match as_of {
        Some(text) => text
            .parse::<crate::model::Date>()
            .map_err(|e| CliError::Refused(format!("--as-of: {e}")))?,
        None => crate::generate::today(),
    };
    let started = std::time::Instant::now();
    let progress = |msg: &str| tracing::info!("generate: {msg}");
    let s = crate::generate::generate(preset, seed, as_of, out, format, &progress)?;
    tracing::info!(
        counties = s.counties,
        towns = s.towns,
        villages = s.villages,
        cells = s.cells,
        enterprises = s.enterprises,
        hazard_sources = s.hazard_sources,
        collapse_zones = s.collapse_zones,
        hidden_dangers = s.hidden_dangers,
        hidden_dangers_open = s.hidden_dangers_open,
        as_of = %as_of,
        population = s.population,
        seconds = started.elapsed().as_secs_f64(),
        "generated {}",
        out.display()
    );
    Ok(())
}
