//! `aimarket merge OUT SHARD_DIR...`: combine the shards of a sweep (`sweep --shard I/N`)
//! into the directory the single-machine sweep would have written, and say how it went.

use std::path::PathBuf;

use super::CommandError;
use crate::sweep::merge::{self, MergeError};

/// A validated `merge`.
#[derive(Debug, Clone)]
pub struct MergePlan {
    /// Output directory.
    pub out: PathBuf,
    /// Shard directories, in any order.
    pub shards: Vec<PathBuf>,
    /// No summary line.
    pub quiet: bool,
}

/// Refusals (shards that do not make one complete sweep, an output directory holding another
/// sweep) are bad input; reading or writing failing is a failure.
fn failure(e: MergeError) -> CommandError {
    match e {
        MergeError::Locked(_)
        | MergeError::NotAShard { .. }
        | MergeError::Incomplete { .. }
        | MergeError::Different { .. }
        | MergeError::Duplicate { .. }
        | MergeError::Missing { .. }
        | MergeError::Occupied { .. }
        | MergeError::Corrupt { .. }
        | MergeError::NoShards => CommandError::input(e),
        MergeError::Io { .. } => CommandError::failed(e),
    }
}

/// Merges the shards. Like `sweep`, it fails (exit 1) when some runs failed, after writing
/// everything: the failed runs are in runs.csv with their message.
pub fn execute(plan: &MergePlan) -> Result<(), CommandError> {
    let merged = merge::merge(&plan.out, &plan.shards).map_err(failure)?;
    if !plan.quiet {
        eprintln!(
            "merged {} shards: {} points, {} runs ({} ok, {} failed) → {}",
            merged.shards,
            merged.points,
            merged.runs,
            merged.runs - merged.failed,
            merged.failed,
            plan.out.display()
        );
    }
    if merged.failed > 0 {
        return Err(CommandError::failed(format!(
            "{} of {} runs failed (status `failed` in {}, with the message); the merge is complete",
            merged.failed,
            merged.runs,
            plan.out.join("runs.csv").display()
        )));
    }
    Ok(())
}
