//! Batch runs and parameter sweeps (see issue "Batch runs and parameter sweeps").

use crate::cli::{Failure, SweepArgs};

/// Runs `aimarket sweep`.
pub fn execute(args: &SweepArgs) -> Result<(), Failure> {
    Err(Failure::input(format!("{}: sweeps are not implemented yet", args.sweep.display())))
}
