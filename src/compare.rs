//! Comparing scenarios against a base with common random numbers.

use crate::cli::{CompareArgs, Failure};

/// Runs `aimarket compare`.
pub fn execute(args: &CompareArgs) -> Result<(), Failure> {
    Err(Failure::input(format!("{}: compare is not implemented yet", args.base.display())))
}
