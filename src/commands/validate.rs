//! `aimarket validate`: report that a config (with overrides) is valid, without running it.

use std::path::PathBuf;

use super::CommandError;
use crate::config::{Config, Month};

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
    let beyond = events_after_the_run(config);
    let beyond_note = if beyond > 0 {
        format!(" ({beyond} dated after the run's last month, which never fire)")
    } else {
        String::new()
    };
    println!(
        "{}: ok ({} providers, {} labs, {} contracts, {} events{beyond_note}, {} months from {}, {} enterprises)",
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

/// Events whose `at` month lies after the run's last month (valid, but they never fire).
fn events_after_the_run(config: &Config) -> usize {
    let Ok(start) = Month::parse(&config.run.start) else {
        return 0;
    };
    config
        .events
        .iter()
        .filter_map(|e| e.at.as_deref())
        .filter_map(|at| Month::parse(at).ok())
        .filter(|m| m.ticks_since(start) >= i64::from(config.run.ticks))
        .count()
}
