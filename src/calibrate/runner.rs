//! One calibration session: check the output directory (its lock, and the identity of a
//! calibration already in it), replay the journal, run the search, and write the results.
//!
//! On disk during a session there are only `.calibration-state.json` (written first: the
//! hashes of the calibration file and the resolved base) and `.journal/` (one file per finished
//! evaluation). The result files are written when the search ends, each atomically, the
//! manifest last; then the journal is removed. A killed session leaves the journal, and
//! `--resume` replays it: the search asks for the same evaluations in the same order, those
//! journaled are answered from it, and only the rest are simulated.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::error::CalibrateError;
use super::evaluate::{self, JOURNAL_DIR};
use super::optimise::{self, Halt, Progress, Search, Stage, Termination};
use super::output::{self, MANIFEST_FILE, Session};
use super::spec::Calibration;
use super::uncertainty;
use crate::output::atomic::write_atomic;

/// The identity of the calibration an output directory belongs to.
pub const STATE_FILE: &str = ".calibration-state.json";

/// How to execute a calibration.
#[derive(Debug, Clone)]
pub struct Options {
    /// Output directory.
    pub out: PathBuf,
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
    /// Continue a calibration already in `out`.
    pub resume: bool,
    /// Draw a progress bar.
    pub progress: bool,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// The search ended and the results are written.
    Complete {
        /// Distinct evaluations.
        evaluations: usize,
        /// Evaluations simulated in this session.
        ran_now: u64,
        /// The best objective.
        objective: f64,
        /// Why the search ended.
        termination: Termination,
        /// Wall time of this session, seconds.
        wall_seconds: f64,
    },
    /// `--resume` of a calibration that was already complete: nothing done.
    AlreadyComplete,
    /// Stopped by the interrupt flag; finished evaluations are journaled for `--resume`.
    Interrupted {
        /// Evaluations journaled.
        done: usize,
        /// The budget.
        budget: u64,
    },
    /// Every evaluation failed (evaluations.csv says why); no estimate.
    AllFailed {
        /// The first failure.
        first: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct State {
    aimarket_version: String,
    calibration_hash: String,
    base_hash: String,
    metrics: Vec<String>,
}

impl State {
    fn of(cal: &Calibration) -> State {
        State {
            aimarket_version: env!("CARGO_PKG_VERSION").to_string(),
            calibration_hash: cal.file_hash.clone(),
            base_hash: cal.base_hash.clone(),
            metrics: crate::config::Metric::names(),
        }
    }

    fn difference(&self, now: &State) -> Option<String> {
        if self.calibration_hash != now.calibration_hash {
            Some("the calibration file changed since the calibration started (its hash differs)".into())
        } else if self.base_hash != now.base_hash {
            Some("the base config changed since the calibration started (its hash differs)".into())
        } else if self != now {
            Some(format!(
                "it was started by aimarket {} with different metrics",
                self.aimarket_version
            ))
        } else {
            None
        }
    }
}

/// Files of other commands that mark a directory as not a calibration's.
const FOREIGN: [&str; 5] = [
    "manifest.json",
    "evaluations.csv",
    "runs.csv",
    "metrics.csv",
    "comparison.csv",
];

/// Executes (or resumes) a calibration into `opts.out`. `stop` is the interrupt flag.
pub fn execute(cal: &Calibration, opts: &Options, stop: &AtomicBool) -> Result<Ending, CalibrateError> {
    let started = Instant::now();
    let out = &opts.out;
    let _lock = crate::output::lock::lock_dir(out).map_err(CalibrateError::Locked)?;
    let pool = crate::batch::pool(opts.threads).map_err(CalibrateError::Threads)?;
    let threads = pool.current_num_threads();

    let state_path = out.join(STATE_FILE);
    let now = State::of(cal);
    match std::fs::read(&state_path) {
        Ok(bytes) => {
            let was: State = serde_json::from_slice(&bytes).map_err(|e| CalibrateError::CorruptState {
                path: state_path.clone(),
                reason: e.to_string(),
            })?;
            if !opts.resume {
                return Err(CalibrateError::Occupied { out: out.clone() });
            }
            if let Some(why) = was.difference(&now) {
                return Err(CalibrateError::Mismatch { out: out.clone(), why });
            }
            if out.join(MANIFEST_FILE).exists() {
                return Ok(Ending::AlreadyComplete);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(file) = FOREIGN.iter().find(|f| out.join(f).exists()) {
                return Err(CalibrateError::Foreign {
                    out: out.clone(),
                    file: file.to_string(),
                });
            }
            let bytes = serde_json::to_vec_pretty(&now).map_err(|e| CalibrateError::Encode {
                path: state_path.clone(),
                reason: e.to_string(),
            })?;
            write_atomic(out, STATE_FILE, &bytes).map_err(CalibrateError::io("write", &state_path))?;
        }
        Err(e) => return Err(CalibrateError::io("read", &state_path)(e)),
    }

    let journal = out.join(JOURNAL_DIR);
    std::fs::create_dir_all(&journal).map_err(CalibrateError::io("create", &journal))?;
    let journaled = evaluate::read_all(&journal, cal)?;
    let progress = Progress::new(opts.progress, cal.optimiser.max_evaluations);
    let mut search = Search::new(cal, &pool, journal.clone(), journaled, stop, &progress);
    let result = optimise::run(&mut search);
    progress.finish();
    let termination = match result {
        Ok(t) => t,
        Err(Halt::Budget) => Termination::MaxEvaluations,
        Err(Halt::Interrupted) => {
            let done = evaluate::read_all(&journal, cal)?.len();
            return Ok(Ending::Interrupted {
                done,
                budget: cal.optimiser.max_evaluations,
            });
        }
        Err(Halt::Failed(e)) => return Err(e),
    };
    // Standard errors at a converged estimate whose moments all have standard errors: the
    // central differences run after the search, outside its budget.
    let mut standard_errors = None;
    if termination == Termination::Converged
        && cal.moments.iter().all(|m| m.se.is_some())
        && let Some(best) = output::best(search.records())
    {
        let x = search.records()[best].eval.x.clone();
        let pairs: Vec<(Vec<f64>, Vec<f64>)> = cal
            .parameters
            .iter()
            .enumerate()
            .map(|(i, p)| uncertainty::difference_points(&x, i, p.lower, p.upper))
            .collect();
        let points: Vec<Vec<f64>> = pairs.iter().flat_map(|(a, b)| [a.clone(), b.clone()]).collect();
        match search.request(&points, Stage::Jacobian) {
            Ok(_) => {}
            Err(Halt::Interrupted) => {
                let done = evaluate::read_all(&journal, cal)?.len();
                return Ok(Ending::Interrupted {
                    done,
                    budget: cal.optimiser.max_evaluations,
                });
            }
            Err(Halt::Budget) => unreachable!("the Jacobian stage has no budget"),
            Err(Halt::Failed(e)) => return Err(e),
        }
        let means = |x: &Vec<f64>| {
            search
                .records()
                .iter()
                .find(|r| &r.eval.x == x)
                .and_then(|r| r.eval.means())
        };
        let columns: Option<Vec<Vec<f64>>> = pairs
            .iter()
            .enumerate()
            .map(|(i, (lo, hi))| Some(uncertainty::column(&means(lo)?, &means(hi)?, lo[i], hi[i])))
            .collect();
        let weights: Vec<f64> = cal.moments.iter().map(|m| m.weight).collect();
        standard_errors = columns.and_then(|g| uncertainty::standard_errors(&g, &weights, cal.replicates as usize));
    }
    let records = search.records();
    output::write_evaluations(out, cal, records)?;
    let Some(best) = output::best(records) else {
        let first = records.iter().find_map(|r| r.eval.error()).unwrap_or_default();
        return Ok(Ending::AllFailed { first });
    };
    let wall_seconds = started.elapsed().as_secs_f64();
    let session = Session {
        threads,
        ran_now: search.ran_now(),
        wall_seconds,
    };
    output::write_results(
        out,
        cal,
        records,
        best,
        termination,
        session,
        standard_errors.as_deref(),
    )?;
    std::fs::remove_dir_all(&journal).map_err(CalibrateError::io("remove", &journal))?;
    Ok(Ending::Complete {
        evaluations: records.len(),
        ran_now: search.ran_now(),
        objective: records[best].objective,
        termination,
        wall_seconds,
    })
}
