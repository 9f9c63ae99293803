//! Running many independent simulations in parallel: one world per run, single-threaded inside,
//! rayon across runs. Results come back in job order, whatever the thread count.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::config::Config;
use crate::sim::{MetricsRecorder, Observer, RunError, RunInfo, simulate};

/// One run to do.
#[derive(Debug, Clone)]
pub struct Job {
    /// The resolved config (its `run.seed` is the run's seed).
    pub config: Config,
}

/// A finished run's per-tick metrics and info.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Per-tick metrics and provider rents.
    pub recorded: MetricsRecorder,
    /// Events fired and wall time.
    pub info: RunInfo,
}

/// Runs one config to the end in memory.
pub fn run_in_memory(config: &Config, stop: &AtomicBool) -> Result<Outcome, RunError> {
    let mut recorded = MetricsRecorder::default();
    let info = simulate(config, &mut recorded, &mut |_| {}, &|| stop.load(Ordering::Relaxed))?;
    Ok(Outcome { recorded, info })
}

/// A rayon pool with `threads` workers (default: all cores).
pub fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, String> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if n == 0 {
            return Err("--threads must be at least 1, got 0".into());
        }
        builder = builder.num_threads(n);
    }
    builder.build().map_err(|e| format!("cannot start worker threads: {e}"))
}

/// Runs all jobs on `pool`, calling `done` after each, and returns outcomes in job order.
/// A panicking or failing run becomes an `Err` with its message; the others still finish.
pub fn run_all(
    pool: &rayon::ThreadPool,
    jobs: &[Job],
    stop: &AtomicBool,
    done: &(dyn Fn() + Sync),
) -> Vec<Result<Outcome, String>> {
    run_all_observed(pool, jobs, stop, done)
        .into_iter()
        .map(|r| r.map(|(recorded, info)| Outcome { recorded, info }))
        .collect()
}

/// As [`run_all`], with each run recorded by a fresh observer `O` instead of a
/// [`MetricsRecorder`] (a command that needs other series than the metrics).
pub fn run_all_observed<O: Observer + Default + Send>(
    pool: &rayon::ThreadPool,
    jobs: &[Job],
    stop: &AtomicBool,
    done: &(dyn Fn() + Sync),
) -> Vec<Result<(O, RunInfo), String>> {
    pool.install(|| {
        jobs.par_iter()
            .map(|job| {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut observer = O::default();
                    simulate(&job.config, &mut observer, &mut |_| {}, &|| {
                        stop.load(Ordering::Relaxed)
                    })
                    .map(|info| (observer, info))
                }));
                done();
                match result {
                    Ok(Ok(outcome)) => Ok(outcome),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(panic) => Err(panic_message(&panic)),
                }
            })
            .collect()
    })
}

/// Text of a caught panic.
pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = panic.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked".to_string()
    }
}
