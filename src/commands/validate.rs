//! `aimarket validate`: report that a config (with overrides) is valid, without running it.

use std::path::PathBuf;

use super::CommandError;
use crate::config::Config;

/// A config that passed validation.
#[derive(Debug, Clone)]
pub struct ValidatePlan {
    /// The file as given.
    pub file: PathBuf,
    /// The validated config.
    pub config: Config,
}

/// Prints a one-line summary of the valid config.
pub fn execute(plan: &ValidatePlan) -> Result<(), CommandError> {
    let config = &plan.config;
    println!(
        "{}: ok ({} providers, {} labs, {} contracts, {} events, {} months from {}, {} enterprises)",
        plan.file.display(),
        config.providers.len(),
        config.labs.len(),
        config.contracts.len(),
        config.events.len(),
        config.run.ticks,
        config.run.start,
        config.run.enterprises
    );
    Ok(())
}
