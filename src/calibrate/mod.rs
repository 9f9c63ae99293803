//! Calibration by the method of simulated moments: `aimarket calibrate CALIBRATION`.
//!
//! A calibration file (`spec`) names a base config, the parameters to estimate with their
//! bounds, the target moments (a metric, a month or window, a statistic, a target and its
//! standard error or weight), the replicates per evaluation and a seed. An evaluation
//! (`evaluate`) simulates the replicates at one parameter vector with common random numbers
//! and reduces each run to its moments; the objective is the weighted sum of squared deviations
//! of the replicate means from the targets. The search (`optimise`) evaluates a Latin-hypercube
//! global stage in parallel and then runs Nelder–Mead (argmin) from its best point. Finished
//! evaluations are journaled, so a killed calibration resumes by replaying the search against
//! the journal (`runner`); the results (`output`) are written atomically when it ends.
//!
//! A backtest file (`backtest`) applies a calibration's estimates to a history config and
//! judges its replicates against the record, in and out of the calibration window, by the 95 %
//! prediction interval of one replicate (the `aimarket backtest` command).

pub mod backtest;
pub mod error;
pub mod evaluate;
pub mod optimise;
pub mod output;
pub mod runner;
pub mod spec;
pub mod uncertainty;

pub use error::CalibrateError;

use std::path::{Path, PathBuf};

/// Default output directory of a calibration file: `outputs/calibrations/<file stem>`.
pub fn default_out(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "calibration".to_string());
    Path::new("outputs").join("calibrations").join(stem)
}
