//! Batch runs and parameter sweeps: `aimarket sweep SWEEP`.
//!
//! A sweep file (`spec`) names a base config, optional scenario configs, parameter axes, a
//! design (`design`: grid, random or Latin hypercube), replicates and a master seed. Every
//! (point, replicate) becomes one independent run with a seed derived from (master seed, point,
//! replicate). The runner (`runner`) executes the runs in parallel (`schedule`) and streams
//! points.csv, runs.csv, summary.csv (replicate statistics from `stats`) and optionally
//! trajectories.csv (`tables`), in an order that does not depend on the thread count; finished
//! runs are journaled (`journal`) so that an interrupted sweep can be resumed (`resume`), and
//! `manifest.json` (`manifest`) is written when it is complete. Failures are a [`SweepError`]
//! (`error`); only [`execute`], the command glue, turns them into exit codes.

pub mod design;
pub mod error;
pub mod journal;
pub mod manifest;
pub mod merge;
pub mod resume;
pub mod runner;
pub mod schedule;
pub mod sensitivity_design;
pub mod shard;
pub mod spec;
pub mod tables;

pub use error::SweepError;

use std::path::{Path, PathBuf};

/// Default output directory of a sweep file: `outputs/sweeps/<file stem>`.
pub fn default_out(sweep: &Path) -> PathBuf {
    let stem = sweep
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sweep".to_string());
    Path::new("outputs").join("sweeps").join(stem)
}
