//! The scenario library: listing the shipped scenarios.

use std::path::Path;

use crate::cli::Failure;

/// Runs `aimarket scenarios`.
pub fn list(dir: &Path) -> Result<(), Failure> {
    Err(Failure::input(format!("{}: scenario listing is not implemented yet", dir.display())))
}
